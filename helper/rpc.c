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
#include <unistd.h>

#include "fd.h"
#include "clock.h"
#include "errbuf.h"
#include "rpc.h"

#define RECORD_MAX (sizeof(struct rpc_record_hdr) + RPC_RECORD_PAYLOAD)

static int send_record(int sock, uint32_t flags, const char *data, size_t len, const int *fds,
                       size_t nfds, char *err, size_t errlen)
{
    struct rpc_record_hdr hdr = {.magic = RPC_MAGIC, .flags = flags, .len = (uint32_t)len};
    union {
        char buf[FD_RIGHTS_SPACE(RPC_MAX_FDS)];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov[2] = {
        {.iov_base = &hdr, .iov_len = sizeof(hdr)},
        {.iov_base = (void *)data, .iov_len = len},
    };
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t n;

    fd_attach_rights(&mh, cbuf.buf, fds, nfds);
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

/* Wait until @sock is readable or @deadline (ms, clock_now_ms(); -1 none) passes. */
static int wait_readable(int sock, long long deadline, char *err, size_t errlen)
{
    struct pollfd p = {.fd = sock, .events = POLLIN};

    for (;;) {
        int timeout = -1, n;

        if (deadline >= 0) {
            long long left = deadline - clock_now_ms();

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

/* Move the descriptors of @mh into @msg; those beyond RPC_MAX_FDS are closed. */
static void take_cmsg_fds(struct msghdr *mh, struct rpc_msg *msg)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

        for (size_t i = 0; i < n; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (msg->nfds < RPC_MAX_FDS)
                msg->fds[msg->nfds++] = fd;
            else
                close(fd);
        }
    }
}

/**
 * recv_record() - Read one record into @rec (RECORD_MAX + 1 bytes) and its descriptors into
 * @msg, waiting until @deadline; a signal or a spurious wake-up waits again
 * Return: the record's length in bytes, 0 at end of file, or negative errno (message in @err;
 * a truncated record's descriptors are closed)
 */
static ssize_t recv_record(int sock, long long deadline, char *rec, struct rpc_msg *msg, char *err,
                           size_t errlen)
{
    for (;;) {
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
        ssize_t n;
        int rc = wait_readable(sock, deadline, err, errlen);

        if (rc)
            return rc;
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue; /* nothing consumed: wait for the same record again */
        if (n < 0 && errno == ECONNRESET)
            return errbuf_set(err, errlen, -EPIPE, "peer closed the connection");
        if (n < 0)
            return errbuf_set(err, errlen, -errno, "recvmsg: %s", strerror(errno));
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
            close_cmsg_fds(&mh);
            return errbuf_set(err, errlen, -EMSGSIZE,
                              (mh.msg_flags & MSG_TRUNC)
                                  ? "record larger than %zu bytes"
                                  : "too many file descriptors in one message (limit %zu)",
                              (mh.msg_flags & MSG_TRUNC) ? RECORD_MAX : (size_t)RPC_MAX_FDS);
        }
        take_cmsg_fds(&mh, msg);
        return n;
    }
}

/**
 * check_record() - Check the header of the @n-byte record @rec against its length
 * @hdr:	Receives the header
 * Return: 0, or -EPROTO for a record that breaks the framing
 */
static int check_record(const char *rec, ssize_t n, struct rpc_record_hdr *hdr, char *err,
                        size_t errlen)
{
    if ((size_t)n < sizeof(*hdr))
        return errbuf_set(err, errlen, -EPROTO,
                          "malformed record: %zd bytes, shorter than its header", n);
    memcpy(hdr, rec, sizeof(*hdr));
    if (hdr->magic != RPC_MAGIC || (hdr->flags & ~RPC_F_MORE) ||
        hdr->len != (size_t)n - sizeof(*hdr))
        return errbuf_set(err, errlen, -EPROTO,
                          "malformed record (magic %#x, flags %#x, length %u for %zd bytes)",
                          hdr->magic, hdr->flags, hdr->len, n);
    return 0;
}

/**
 * append_payload() - Add @len bytes at @data to the message text being assembled
 * Return: 0, -EMSGSIZE beyond RPC_MSG_MAX, -ENOMEM
 */
static int append_payload(char **text, size_t *textlen, const char *data, size_t len, char *err,
                          size_t errlen)
{
    char *grown;

    if (*textlen + len > RPC_MSG_MAX)
        return errbuf_set(err, errlen, -EMSGSIZE, "message exceeds the limit of %u bytes",
                          RPC_MSG_MAX);
    grown = realloc(*text, *textlen + len + 1);
    if (!grown)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    *text = grown;
    memcpy(*text + *textlen, data, len);
    *textlen += len;
    return 0;
}

/**
 * parse_body() - The message's JSON object, from its assembled text
 * Return: 0, or -EPROTO when the text is not one JSON object
 */
static int parse_body(const char *text, size_t len, struct rpc_msg *msg, char *err, size_t errlen)
{
    json_error_t jerr;

    msg->body = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!msg->body)
        return errbuf_set(err, errlen, -EPROTO, "malformed message: %s", jerr.text);
    if (!json_is_object(msg->body))
        return errbuf_set(err, errlen, -EPROTO, "malformed message: not a JSON object");
    return 0;
}

int rpc_recv(int sock, int timeout_ms, struct rpc_msg *msg, char *err, size_t errlen)
{
    long long deadline = timeout_ms < 0 ? -1 : clock_now_ms() + timeout_ms;
    char *rec = NULL, *text = NULL;
    size_t textlen = 0;
    bool more = true;
    int rc = 0;

    memset(msg, 0, sizeof(*msg));
    for (size_t i = 0; i < RPC_MAX_FDS; i++)
        msg->fds[i] = -1;
    rec = malloc(RECORD_MAX + 1);
    if (!rec)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");

    /* Records until one without RPC_F_MORE; their payloads are the message's text. */
    for (bool first = true; more && !rc; first = false) {
        struct rpc_record_hdr hdr = {0};
        ssize_t n = recv_record(sock, deadline, rec, msg, err, errlen);

        if (n == 0 && first)
            rc = errbuf_set(err, errlen, -EPIPE, "peer closed the connection");
        else if (n == 0)
            rc = errbuf_set(err, errlen, -EPIPE,
                            "peer closed the connection in the middle of a message (after %zu "
                            "bytes)",
                            textlen);
        else if (n < 0)
            rc = (int)n;
        else if (!(rc = check_record(rec, n, &hdr, err, errlen)))
            rc = append_payload(&text, &textlen, rec + sizeof(hdr), hdr.len, err, errlen);
        more = !rc && (hdr.flags & RPC_F_MORE);
    }
    if (!rc)
        rc = parse_body(text, textlen, msg, err, errlen);
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
