/* SPDX-License-Identifier: MIT */
/* agent_client - requests to the guest agent and their replies, with deadlines. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_client.h"
#include "errbuf.h"
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
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    linebuf_free(&c->lb);
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
        struct pollfd p[2] = {{.fd = c->fd, .events = POLLOUT},
                              {.fd = c->exit_fd, .events = POLLIN}};
        int rc = proc_poll(p, 2, deadline);

        if (rc == -ETIMEDOUT)
            return errbuf_set(err, errlen, rc, "timed out sending to the guest agent");
        if (rc == -ECANCELED)
            return errbuf_set(err, errlen, rc, "interrupted");
        if (rc < 0)
            return errbuf_set(err, errlen, rc, "poll: %s", strerror(-rc));
        if (p[1].revents)
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
        struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
                              {.fd = c->exit_fd, .events = POLLIN}};
        rc = proc_poll(p, 2, deadline);
        if (rc == -ETIMEDOUT)
            return errbuf_set(err, errlen, rc, "timed out waiting for the guest agent");
        if (rc == -ECANCELED)
            return errbuf_set(err, errlen, rc, "interrupted");
        if (rc < 0)
            return errbuf_set(err, errlen, rc, "poll: %s", strerror(-rc));
        if (p[0].revents) {
            long n = linebuf_read(&c->lb, c->fd);

            if (n == 0)
                return errbuf_set(err, errlen, -EPIPE,
                                  "the guest agent's channel closed (QEMU exited)");
            if (n < 0 && n != -EAGAIN)
                return errbuf_set(err, errlen, (int)n, "cannot read from the guest agent: %s",
                                  strerror((int)-n));
            continue;
        }
        if (p[1].revents)
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
