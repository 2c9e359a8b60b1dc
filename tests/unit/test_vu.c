/* SPDX-License-Identifier: MIT */
/*
 * test_vu - the fake vhost-user front-end of consomme's vhost-user tests (test_vu.h)
 */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "fd.h"
#include "test_vu.h"

const unsigned ring_off[2] = {0x0, 0x4000};

void send_msg(struct fx *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
              const int *fds, size_t nfds)
{
    uint8_t buf[12 + 512];
    union {
        char buf[FD_RIGHTS_SPACE(8)];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov = {.iov_base = buf, .iov_len = 12 + size};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

    put_le32(buf, req);
    put_le32(buf + 4, 1 | flags);
    put_le32(buf + 8, size);
    if (size)
        memcpy(buf + 12, payload, size);
    fd_attach_rights(&mh, cbuf.buf, fds, nfds);
    assert_int_equal(sendmsg(f->sock, &mh, 0), (ssize_t)(12 + size));
}

void turn(struct fx *f)
{
    struct epoll_event evs[16];
    int n = epoll_wait(f->c->events.epfd, evs, 16, 0);

    cm_events_dispatch(f->c, evs, n);
    cm_out_flush(f->c);
}

uint64_t reply_u64(struct fx *f, uint32_t req)
{
    uint8_t buf[12 + 8];

    assert_int_equal(recv(f->sock, buf, sizeof(buf), MSG_WAITALL), (ssize_t)sizeof(buf));
    assert_int_equal(get_le32(buf), req);
    assert_true(get_le32(buf + 4) & 4); /* the reply flag */
    assert_int_equal(get_le32(buf + 8), 8);
    return get_le64(buf + 12);
}

uint64_t request_u64(struct fx *f, uint32_t req, uint64_t v, bool ack)
{
    uint8_t p[8];

    put_le64(p, v);
    send_msg(f, req, ack ? 8 : 0, p, 8, NULL, 0);
    turn(f);
    return ack ? reply_u64(f, req) : 0;
}

void vring_state(struct fx *f, uint32_t req, uint32_t q, uint32_t num)
{
    uint8_t p[8];

    put_le32(p, q);
    put_le32(p + 4, num);
    send_msg(f, req, 8, p, 8, NULL, 0);
    turn(f);
    assert_int_equal(reply_u64(f, req), 0);
}

void vring_fd(struct fx *f, uint32_t req, uint32_t q, int fd)
{
    uint8_t p[8];
    int dup_fd = dup(fd);

    put_le64(p, q);
    send_msg(f, req, 0, p, 8, &dup_fd, 1);
    close(dup_fd);
    turn(f);
}

void vring_addr(struct fx *f, uint32_t q)
{
    uint8_t a[40] = {0};

    put_le32(a, q);
    put_le64(a + 8, UVA_BASE + ring_off[q]);
    put_le64(a + 16, UVA_BASE + ring_off[q] + 0x2000);
    put_le64(a + 24, UVA_BASE + ring_off[q] + 0x1000);
    send_msg(f, 9 /* SET_VRING_ADDR */, 8, a, sizeof(a), NULL, 0);
    turn(f);
    assert_int_equal(reply_u64(f, 9), 0);
}

int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char err[ERRBUF_LEN];

    snprintf(f->dir, sizeof(f->dir), "/tmp/test_vhost_user.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/vu.sock", f->dir);
    f->c = cm_test_stack();
    assert_non_null(f->c);
    assert_int_equal(cm_transport_vhost_user(f->c, f->path, err, sizeof(err)), 0);
    f->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
    assert_int_equal(connect(f->sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
    turn(f);                                     /* accept */
    assert_int_equal(access(f->path, F_OK), -1); /* one front-end: the path is gone */
    f->memfd = memfd_create("guest", MFD_CLOEXEC);
    assert_int_equal(ftruncate(f->memfd, MEM_SIZE), 0);
    f->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
    assert_true(f->mem != MAP_FAILED);
    for (int q = 0; q < 2; q++) {
        f->kick[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        f->callfd[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    *state = f;
    return 0;
}

int fx_teardown(void **state)
{
    struct fx *f = *state;

    if (f->sock >= 0)
        close(f->sock);
    cm_destroy(f->c);
    munmap(f->mem, MEM_SIZE);
    close(f->memfd);
    for (int q = 0; q < 2; q++) {
        close(f->kick[q]);
        close(f->callfd[q]);
    }
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

void set_mem_table(struct fx *f)
{
    uint8_t mt[8 + 32];

    put_le32(mt, 1);
    put_le32(mt + 4, 0);
    put_le64(mt + 8, 0);         /* guest physical address */
    put_le64(mt + 16, MEM_SIZE); /* size */
    put_le64(mt + 24, UVA_BASE); /* front-end address */
    put_le64(mt + 32, 0);        /* mmap offset */
    send_msg(f, 5 /* SET_MEM_TABLE */, 8, mt, sizeof(mt), &f->memfd, 1);
    turn(f);
    assert_int_equal(reply_u64(f, 5), 0);
}

void start_rings(struct fx *f)
{
    for (uint32_t q = 0; q < 2; q++) {
        vring_state(f, 8 /* SET_VRING_NUM */, q, NUM);
        vring_addr(f, q);
        vring_state(f, 10 /* SET_VRING_BASE */, q, 0);
        vring_fd(f, 13 /* SET_VRING_CALL */, q, f->callfd[q]);
        vring_fd(f, 12 /* SET_VRING_KICK */, q, f->kick[q]);
        vring_state(f, 18 /* SET_VRING_ENABLE */, q, 1);
    }
}

void start_device(struct fx *f, uint64_t features)
{
    send_msg(f, 1 /* GET_FEATURES */, 0, NULL, 0, NULL, 0);
    turn(f);
    assert_int_equal(reply_u64(f, 1) & features, features);
    send_msg(f, 15 /* GET_PROTOCOL_FEATURES */, 0, NULL, 0, NULL, 0);
    turn(f);
    assert_true(reply_u64(f, 15) & BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK));
    request_u64(f, 16, BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK), false);
    send_msg(f, 3 /* SET_OWNER */, 0, NULL, 0, NULL, 0);
    turn(f);
    assert_int_equal(request_u64(f, 2 /* SET_FEATURES */, features, true), 0);
    set_mem_table(f);
    start_rings(f);
}

uint32_t stop_ring(struct fx *f, uint32_t q)
{
    uint8_t p[8], buf[20];

    put_le32(p, q);
    put_le32(p + 4, 0);
    send_msg(f, 11 /* GET_VRING_BASE */, 0, p, 8, NULL, 0);
    turn(f);
    assert_int_equal(recv(f->sock, buf, sizeof(buf), MSG_WAITALL), 20);
    assert_int_equal(get_le32(buf + 12), q);
    return get_le32(buf + 16);
}

void set_desc(struct fx *f, unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags)
{
    uint8_t *d = f->mem + ring_off[q] + 16 * i;

    put_le64(d, addr);
    put_le32(d + 8, len);
    put_le16(d + 12, flags);
    put_le16(d + 14, 0);
}

void make_avail(struct fx *f, unsigned q, uint16_t head)
{
    uint16_t *idx = q ? &f->tx_avail : &f->rx_avail;
    uint8_t *avail = f->mem + ring_off[q] + 0x1000;

    put_le16(avail + 4 + 2 * (*idx % NUM), head);
    (*idx)++;
    put_le16(avail + 2, *idx);
}

uint16_t used_idx(struct fx *f, unsigned q)
{
    return get_le16(f->mem + ring_off[q] + 0x2000 + 2);
}

uint32_t used_len(struct fx *f, unsigned q, unsigned slot)
{
    return get_le32(f->mem + ring_off[q] + 0x2000 + 4 + 8 * slot + 4);
}

void post_rx_buffers(struct fx *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        set_desc(f, 0, i, RX_BUFS + RX_BUF_LEN * i, RX_BUF_LEN, 2 /* WRITE */);
        make_avail(f, 0, (uint16_t)i);
    }
    eventfd_write(f->kick[0], 1);
    turn(f);
}

void guest_send(struct fx *f, unsigned slot, uint8_t hdr_flags, const uint8_t *frame, size_t len)
{
    uint8_t *p = f->mem + TX_FRAMES + 0x4000 * slot;

    memset(p, 0, 12);
    p[0] = hdr_flags;
    memcpy(p + 12, frame, len);
    set_desc(f, 1, slot, TX_FRAMES + 0x4000 * slot, (uint32_t)(12 + len), 0);
    make_avail(f, 1, (uint16_t)slot);
    eventfd_write(f->kick[1], 1);
    turn(f);
}

size_t arp_request(uint8_t *fr)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t guest[6] = {GUEST_MAC};
    uint8_t *a = fr + 14;

    memcpy(fr, bcast, 6);
    memcpy(fr + 6, guest, 6);
    put_be16(fr + 12, 0x0806);
    put_be16(a, 1);
    put_be16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    put_be16(a + 6, 1);
    memcpy(a + 8, guest, 6);
    put_be32(a + 14, IP4(10, 0, 2, 15));
    memset(a + 18, 0, 6);
    put_be32(a + 24, IP4(10, 0, 2, 2));
    return 14 + 28;
}

void guest_send_chain(struct fx *f, unsigned slot, uint8_t hdr_flags, const uint8_t *frame,
                      size_t len, const size_t *cuts, unsigned ncuts)
{
    uint64_t base = TX_FRAMES + 0x4000 * (uint64_t)slot;
    uint8_t *p = f->mem + base;
    unsigned i = slot;

    memset(p, 0, 12);
    p[0] = hdr_flags;
    memcpy(p + 12, frame, len);
    for (unsigned k = 0; k <= ncuts + 1; k++, i++) {
        size_t from = k ? 12 + (k == 1 ? 0 : cuts[k - 2]) : 0;
        size_t to = k == 0 ? 12 : 12 + (k <= ncuts ? cuts[k - 1] : len);
        uint8_t *d = f->mem + ring_off[1] + 16 * i;

        put_le64(d, base + from);
        put_le32(d + 8, (uint32_t)(to - from));
        put_le16(d + 12, k <= ncuts ? 1 /* NEXT */ : 0);
        put_le16(d + 14, (uint16_t)(i + 1));
    }
    make_avail(f, 1, (uint16_t)slot);
    eventfd_write(f->kick[1], 1);
    turn(f);
}

void wait_rx_used(struct fx *f, uint16_t n)
{
    for (int i = 0; i < 500 && used_idx(f, 0) < n; i++) {
        struct pollfd p = {.fd = f->c->events.epfd, .events = POLLIN};

        poll(&p, 1, 10);
        turn(f);
    }
    assert_true(used_idx(f, 0) >= n);
}
