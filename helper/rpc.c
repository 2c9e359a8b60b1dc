/* SPDX-License-Identifier: MIT */
/*
 * rpc - JSON messages with file descriptors over SOCK_SEQPACKET; framing described in rpc.h.
 *
 * Each record is read with one recvmsg() into a buffer one byte larger than the largest valid
 * record, so MSG_TRUNC (or a length that does not match the header) means the peer broke the
 * framing, never that we read half a record.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "rpc.h"

#define RECORD_MAX (sizeof(struct rpc_record_hdr) + RPC_RECORD_PAYLOAD)

static int send_record(int sock, uint32_t flags, const char *data, size_t len, const int *fds,
                       size_t nfds, char *err, size_t errlen)
{
    struct rpc_record_hdr hdr = {.magic = RPC_MAGIC, .flags = flags, .len = (uint32_t)len};
    union {
        char buf[CMSG_SPACE(sizeof(int) * RPC_MAX_FDS)];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov[2] = {
        {.iov_base = &hdr, .iov_len = sizeof(hdr)},
        {.iov_base = (void *)data, .iov_len = len},
    };
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t n;

    if (nfds) {
        struct cmsghdr *c;

        memset(&cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    do {
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        int e = errno;

        if (e == EPIPE || e == ECONNRESET)
            return errbuf_set(err, errlen, -EPIPE, "peer closed the connection");
        return errbuf_set(err, errlen, -e, "sendmsg: %s", strerror(e));
    }
    if ((size_t)n != sizeof(hdr) + len)
        return errbuf_set(err, errlen, -EIO, "short send (%zd of %zu bytes)", n, sizeof(hdr) + len);
    return 0;
}

int rpc_send(int sock, const json_t *body, const int *fds, size_t nfds, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len, off = 0;
    int rc = 0;

    if (!body || !json_is_object(body) || nfds > RPC_MAX_FDS || (nfds && !fds))
        return errbuf_set(err, errlen, -EINVAL, "rpc_send: bad arguments");
    text = json_dumps(body, JSON_COMPACT);
    if (!text)
        return errbuf_set(err, errlen, -ENOMEM, "cannot serialise message");
    len = strlen(text);
    if (len > RPC_MSG_MAX) {
        rc = errbuf_set(err, errlen, -EMSGSIZE, "message of %zu bytes exceeds the limit of %u", len,
                        RPC_MSG_MAX);
        goto out;
    }
    do {
        size_t chunk = len - off > RPC_RECORD_PAYLOAD ? RPC_RECORD_PAYLOAD : len - off;
        uint32_t flags = off + chunk < len ? RPC_F_MORE : 0;

        rc = send_record(sock, flags, text + off, chunk, off ? NULL : fds, off ? 0 : nfds, err,
                         errlen);
        if (rc)
            goto out;
        off += chunk;
    } while (off < len);
out:
    free(text);
    return rc;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until @sock is readable or @deadline (ms, CLOCK_MONOTONIC; -1 none) passes. */
static int wait_readable(int sock, long long deadline, char *err, size_t errlen)
{
    struct pollfd p = {.fd = sock, .events = POLLIN};

    for (;;) {
        int timeout = -1, n;

        if (deadline >= 0) {
            long long left = deadline - now_ms();

            timeout = left > 0 ? (int)left : 0;
        }
        n = poll(&p, 1, timeout);
        if (n > 0)
            return 0;
        if (n == 0)
            return errbuf_set(err, errlen, -ETIMEDOUT, "no message within the time limit");
        if (errno != EINTR)
            return errbuf_set(err, errlen, -errno, "poll: %s", strerror(errno));
    }
}

/* Close the descriptors a control message carried; used when a record is refused. */
static void close_cmsg_fds(struct msghdr *mh)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int fd;

        for (size_t i = 0; i < n; i++) {
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            close(fd);
        }
    }
}

int rpc_recv(int sock, int timeout_ms, struct rpc_msg *msg, char *err, size_t errlen)
{
    long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    char *rec = NULL, *text = NULL;
    size_t textlen = 0;
    json_error_t jerr;
    int rc = 0;

    memset(msg, 0, sizeof(*msg));
    for (size_t i = 0; i < RPC_MAX_FDS; i++)
        msg->fds[i] = -1;
    rec = malloc(RECORD_MAX + 1);
    if (!rec)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");

    for (size_t records = 0;; records++) {
        union {
            char buf[CMSG_SPACE(sizeof(int) * RPC_MAX_FDS)];
            struct cmsghdr align;
        } cbuf;
        struct iovec iov = {.iov_base = rec, .iov_len = RECORD_MAX + 1};
        struct msghdr mh = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = cbuf.buf,
            .msg_controllen = sizeof(cbuf.buf),
        };
        struct rpc_record_hdr hdr;
        ssize_t n;
        char *grown;

        rc = wait_readable(sock, deadline, err, errlen);
        if (rc)
            goto out;
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                records--; /* nothing consumed: the same record again */
                continue;
            }
            if (errno == ECONNRESET) {
                rc = errbuf_set(err, errlen, -EPIPE, "peer closed the connection");
                goto out;
            }
            rc = errbuf_set(err, errlen, -errno, "recvmsg: %s", strerror(errno));
            goto out;
        }
        if (n == 0) {
            if (!records)
                rc = errbuf_set(err, errlen, -EPIPE, "peer closed the connection");
            else
                rc = errbuf_set(err, errlen, -EPIPE,
                                "peer closed the connection in the middle of a message "
                                "(after %zu bytes)",
                                textlen);
            goto out;
        }
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
            close_cmsg_fds(&mh);
            rc = errbuf_set(err, errlen, -EMSGSIZE,
                            (mh.msg_flags & MSG_TRUNC)
                                ? "record larger than %zu bytes"
                                : "too many file descriptors in one message (limit %zu)",
                            (mh.msg_flags & MSG_TRUNC) ? RECORD_MAX : (size_t)RPC_MAX_FDS);
            goto out;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            size_t cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

            for (size_t i = 0; i < cnt; i++) {
                int fd;

                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                if (msg->nfds < RPC_MAX_FDS)
                    msg->fds[msg->nfds++] = fd;
                else
                    close(fd);
            }
        }
        if ((size_t)n < sizeof(hdr)) {
            rc = errbuf_set(err, errlen, -EPROTO,
                            "malformed record: %zd bytes, shorter than "
                            "its header",
                            n);
            goto out;
        }
        memcpy(&hdr, rec, sizeof(hdr));
        if (hdr.magic != RPC_MAGIC || (hdr.flags & ~RPC_F_MORE) ||
            hdr.len != (size_t)n - sizeof(hdr)) {
            rc = errbuf_set(err, errlen, -EPROTO,
                            "malformed record (magic %#x, flags %#x, length %u for %zd bytes)",
                            hdr.magic, hdr.flags, hdr.len, n);
            goto out;
        }
        if (textlen + hdr.len > RPC_MSG_MAX) {
            rc = errbuf_set(err, errlen, -EMSGSIZE, "message exceeds the limit of %u bytes",
                            RPC_MSG_MAX);
            goto out;
        }
        grown = realloc(text, textlen + hdr.len + 1);
        if (!grown) {
            rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
            goto out;
        }
        text = grown;
        memcpy(text + textlen, rec + sizeof(hdr), hdr.len);
        textlen += hdr.len;
        if (!(hdr.flags & RPC_F_MORE))
            break;
    }

    msg->body = json_loadb(text, textlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!msg->body) {
        rc = errbuf_set(err, errlen, -EPROTO, "malformed message: %s", jerr.text);
        goto out;
    }
    if (!json_is_object(msg->body)) {
        rc = errbuf_set(err, errlen, -EPROTO, "malformed message: not a JSON object");
        goto out;
    }
out:
    if (rc)
        rpc_msg_release(msg);
    free(rec);
    free(text);
    return rc;
}

void rpc_msg_release(struct rpc_msg *msg)
{
    json_decref(msg->body);
    msg->body = NULL;
    for (size_t i = 0; i < msg->nfds; i++) {
        if (msg->fds[i] >= 0)
            close(msg->fds[i]);
        msg->fds[i] = -1;
    }
    msg->nfds = 0;
}

int rpc_msg_take_fd(struct rpc_msg *msg)
{
    for (size_t i = 0; i < msg->nfds; i++) {
        if (msg->fds[i] >= 0) {
            int fd = msg->fds[i];

            msg->fds[i] = -1;
            return fd;
        }
    }
    return -1;
}
