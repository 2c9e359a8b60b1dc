/* SPDX-License-Identifier: MIT */
/*
 * helper_rpc_fuzz - libFuzzer target over the helper RPC's receiving side (helper/rpc.c)
 *
 * A peer that is gone wrong (a crashed or compromised helper, or a harness bug) can send any
 * records. Input: a sequence of records, each a control byte and a 16-bit big-endian length
 * followed by that many bytes. Control bit 0 writes a correct header (magic, length) in
 * front of the bytes, with RPC_F_MORE from bit 1, instead of sending them as they are; bit 2
 * attaches file descriptors (bits 3-5: how many, up to 7, beyond what a record may carry);
 * a control byte of 0xff closes the sending end. The records are queued on a SEQPACKET
 * socketpair, then rpc_recv() takes messages until it fails.
 *
 * Oracles: every message received is sent again with rpc_send() and must arrive equal; after
 * each input no descriptor may be left open (rpc_recv() closes what it refuses, the target
 * releases what it took). Seeds: tests/data/helper_rpc_fuzz.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "fd.h"
#include "rpc.h"

#define RECORD_MAX (sizeof(struct rpc_record_hdr) + RPC_RECORD_PAYLOAD)

static int open_fds(void)
{
    int n = 0;

    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

static void send_raw(int sock, const uint8_t *p, size_t len, int nfds)
{
    int fds[8];
    union {
        char buf[CMSG_SPACE(sizeof(int) * 8)];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov = {.iov_base = (void *)p, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

    for (int i = 0; i < nfds; i++)
        fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    fd_attach_rights(&mh, cbuf.buf, fds, (size_t)nfds);
    sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
}

/* Send @m over a fresh pair (the input's one may still hold records) and receive it. */
static void echo(const struct rpc_msg *m)
{
    char err[256];
    struct rpc_msg back;
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
        return;
    /* the input is far below a socket buffer, so the whole message fits before it is read */
    if (rpc_send(sv[1], m->body, m->fds, m->nfds, err, sizeof(err))) {
        fprintf(stderr, "helper_rpc_fuzz: cannot send a received message back: %s\n", err);
        abort();
    }
    if (rpc_recv(sv[0], 0, &back, err, sizeof(err))) {
        fprintf(stderr, "helper_rpc_fuzz: own message refused: %s\n", err);
        abort();
    }
    if (!json_equal(back.body, m->body) || back.nfds != m->nfds) {
        fprintf(stderr, "helper_rpc_fuzz: message changed on its way\n");
        abort();
    }
    rpc_msg_release(&back);
    close(sv[0]);
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t rec[RECORD_MAX + 64];
    int before = open_fds(), sv[2];
    char err[256];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
        return 0;
    while (size >= 3) {
        uint8_t ctl = data[0];
        size_t len = (size_t)data[1] << 8 | data[2];
        size_t off = 0;

        data += 3;
        size -= 3;
        if (ctl == 0xff) {
            close(sv[1]);
            sv[1] = -1;
            break;
        }
        if (len > size)
            len = size;
        if (ctl & 1) {
            struct rpc_record_hdr h = {
                .magic = RPC_MAGIC, .flags = ctl & 2 ? RPC_F_MORE : 0, .len = (uint32_t)len};

            memcpy(rec, &h, sizeof(h));
            off = sizeof(h);
        }
        memcpy(rec + off, data, len);
        send_raw(sv[1], rec, off + len, ctl & 4 ? (ctl >> 3) & 7 : 0);
        data += len;
        size -= len;
    }
    for (int i = 0; i < 64; i++) {
        struct rpc_msg m;

        if (rpc_recv(sv[0], 0, &m, err, sizeof(err)))
            break;
        echo(&m);
        rpc_msg_release(&m);
    }
    close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    if (open_fds() != before) {
        fprintf(stderr, "helper_rpc_fuzz: %d descriptors left open\n", open_fds() - before);
        abort();
    }
    return 0;
}
