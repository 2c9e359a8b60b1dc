/* SPDX-License-Identifier: MIT */
/*
 * backend - the table of network backends and what they share; see backend.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "errbuf.h"

/* Every backend `burette run --backend` can use: one row each. */
static const struct backend_ops *const backends[] = {
    &backend_consomme_ops,
    &backend_tap_ops,
    &backend_slirp_ops,
    &backend_passt_ops,
};

const struct backend_ops *backend_find(const char *name)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (!strcmp(backends[i]->name, name))
            return backends[i];
    return NULL;
}

const char *backend_names(char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]) && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", backends[i]->name);
    return buf;
}

void backend_init(struct backend *b, const struct backend_ops *ops)
{
    memset(b, 0, sizeof(*b));
    b->ops = ops;
    for (size_t i = 0; i < BACKEND_MAX_FDS; i++)
        b->fds[i] = -1;
}

void backend_close_fds(struct backend *b)
{
    for (size_t i = 0; i < b->n_fds; i++) {
        if (b->fds[i] >= 0)
            close(b->fds[i]);
        b->fds[i] = -1;
    }
    b->n_fds = 0;
}

void backend_nat_guest(struct backend *b, const char *guest, unsigned prefix, const char *host,
                       unsigned mtu, const char *loopback)
{
    b->guest.mode = AGENT_NIC_STATIC;
    snprintf(b->guest.address, sizeof(b->guest.address), "%s", guest);
    b->guest.prefix = prefix;
    snprintf(b->guest.gateway, sizeof(b->guest.gateway), "%s", host);
    b->guest.mtu = mtu;
    snprintf(b->server_bind, sizeof(b->server_bind), "%s", loopback);
    snprintf(b->server_addr, sizeof(b->server_addr), "%s", host);
    b->server_in_helper_ns = false;
}

int backend_loopback_port(unsigned *port, char *err, size_t errlen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = 0;

    if (fd < 0)
        return errbuf_set(err, errlen, -errno, "socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        rc = errbuf_set(err, errlen, -errno, "cannot find a free TCP port on 127.0.0.1: %s",
                        strerror(errno));
    else
        *port = ntohs(sa.sin_port);
    close(fd);
    return rc;
}
