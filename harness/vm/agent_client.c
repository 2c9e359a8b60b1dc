/* SPDX-License-Identifier: MIT */
/* agent_client - requests to the guest agent and their replies, with deadlines. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_client.h"
#include "errbuf.h"
#include "fd.h"
#include "proc.h"

void agent_client_init(struct agent_client *c, int fd, int exit_fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags >= 0)
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    c->fd = fd;
    c->exit_fd = exit_fd;
    c->next_id = 1;
    linebuf_init(&c->lb, AGENT_MAX_LINE);
}

void agent_client_close(struct agent_client *c)
{
    fd_close(&c->fd);
    linebuf_free(&c->lb);
}

enum {
    CHANNEL_READY = 1, /* the agent's channel is ready for what was waited for */
    QEMU_EXITED = 2,
};

/*
 * Wait until the agent's channel is ready for @events or QEMU exits, until @deadline.
 * Return: CHANNEL_READY and/or QEMU_EXITED, or negative errno with @err saying what it was
 * @doing (timed out, interrupted, poll failed).
 */
static int wait_channel(const struct agent_client *c, short events, long long deadline,
                        const char *doing, char *err, size_t errlen)
{
    struct pollfd p[2] = {{.fd = c->fd, .events = events}, {.fd = c->exit_fd, .events = POLLIN}};
    int rc = proc_poll(p, 2, deadline);

    if (rc == -ETIMEDOUT)
        return errbuf_set(err, errlen, rc, "timed out %s the guest agent", doing);
    if (rc == -ECANCELED)
        return errbuf_set(err, errlen, rc, "interrupted");
    if (rc < 0)
        return errbuf_set(err, errlen, rc, "poll: %s", strerror(-rc));
    return (p[0].revents ? CHANNEL_READY : 0) | (p[1].revents ? QEMU_EXITED : 0);
}

static int send_line(struct agent_client *c, const char *line, size_t len, long long deadline,
                     char *err, size_t errlen)
{
    while (len) {
        ssize_t n = write(c->fd, line, len);

        if (n > 0) {
            line += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN)
            return errbuf_set(err, errlen, errno == EPIPE ? -EPIPE : -errno,
                              "cannot send to the guest agent: %s", strerror(errno));
        int rc = wait_channel(c, POLLOUT, deadline, "sending to", err, errlen);

        if (rc < 0)
            return rc;
        if (rc & QEMU_EXITED)
            return errbuf_set(err, errlen, -EPIPE, "the guest went away (QEMU exited)");
    }
    return 0;
}

int agent_client_recv(struct agent_client *c, struct agent_msg *m, long long deadline, char *err,
                      size_t errlen)
{
    for (;;) {
        char *line, perr[ERRBUF_LEN];
        size_t len;
        int rc;

        while ((rc = linebuf_next(&c->lb, &line, &len)) != 0) {
            if (rc < 0)
                return errbuf_set(err, errlen, -EMSGSIZE,
                                  "the guest agent sent a message longer than %u bytes",
                                  AGENT_MAX_LINE);
            rc = agent_msg_decode(line, len, m, perr, sizeof(perr));
            if (rc == 0)
                return 0;
            /* Another protocol version or an unknown message: waiting longer will not help. */
            if (rc == -EPROTO)
                return errbuf_set(err, errlen, rc, "guest agent: %s", perr);
            /* Otherwise skipped: one garbled line must not end a run that can still go on. */
        }
        rc = wait_channel(c, POLLIN, deadline, "waiting for", err, errlen);
        if (rc < 0)
            return rc;
        if (rc & CHANNEL_READY) {
            long n = linebuf_read(&c->lb, c->fd);

            if (n == 0)
                return errbuf_set(err, errlen, -EPIPE,
                                  "the guest agent's channel closed (QEMU exited)");
            if (n < 0 && n != -EAGAIN)
                return errbuf_set(err, errlen, (int)n, "cannot read from the guest agent: %s",
                                  strerror((int)-n));
            continue;
        }
        if (rc & QEMU_EXITED)
            return errbuf_set(err, errlen, -EPIPE, "the guest went away (QEMU exited)");
    }
}

int agent_client_call(struct agent_client *c, struct agent_msg *req, struct agent_msg *reply,
                      long long deadline, char *err, size_t errlen)
{
    char *line;
    size_t len;
    int rc;

    req->id = c->next_id++;
    line = agent_msg_encode(req, &len, err, errlen);
    if (!line)
        return -ENOMEM;
    rc = send_line(c, line, len, deadline, err, errlen);
    free(line);
    if (rc)
        return rc;
    for (;;) {
        rc = agent_client_recv(c, reply, deadline, err, errlen);
        if (rc)
            return rc;
        if (reply->id == req->id)
            break;
        agent_msg_clear(reply);
    }
    if (reply->type == AGENT_MSG_ERROR) {
        rc = errbuf_set(err, errlen, -EREMOTEIO, "guest agent: %s", reply->u.error);
        agent_msg_clear(reply);
    }
    return rc;
}
