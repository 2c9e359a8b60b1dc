/* SPDX-License-Identifier: MIT */
/* echo_server - the latency test's echo server, a helper job; see echo_server.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "child.h"
#include "echo_server.h"

#define BUF_SIZE         (64 * 1024)
#define MAX_EVENTS       64
#define WRITE_TIMEOUT_MS 10000 /* a peer that reads nothing for this long is dropped */

struct conn {
    int fd;
    uint64_t echoed;
};

struct counts {
    uint64_t tcp_connections, tcp_bytes, udp_datagrams, udp_bytes;
};

/* Markers for the epoll data of the non-connection descriptors. */
static char tag_listen, tag_udp, tag_ctl;

/* The job's one report, {"json": ...} or {"error": ...}, as iperf_job.h reads it. */
static void __attribute__((noreturn))
finish(int report_fd, const struct counts *c, const char *error)
{
    json_t *o = json_object();
    char *inner = NULL, *text;

    if (error) {
        json_object_set_new(o, "error", json_string(error));
    } else {
        json_t *j =
            json_pack("{s:I, s:I, s:I, s:I}", "tcp_connections", (json_int_t)c->tcp_connections,
                      "tcp_bytes", (json_int_t)c->tcp_bytes, "udp_datagrams",
                      (json_int_t)c->udp_datagrams, "udp_bytes", (json_int_t)c->udp_bytes);

        inner = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        json_object_set_new(o, inner ? "json" : "error",
                            json_string(inner ? inner : "echo server: out of memory"));
    }
    text = json_dumps(o, JSON_COMPACT);
    if (text)
        child_write_all(report_fd, text, strlen(text));
    _exit(error ? 1 : 0);
}

static void __attribute__((noreturn))
fail(int report_fd, const char *what, const char *addr, unsigned port)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "echo server: %s %s:%u: %s", what, *addr ? addr : "0.0.0.0", port,
             strerror(errno));
    finish(report_fd, NULL, msg);
}

/* Send all of @buf on a non-blocking socket, waiting (bounded) while it is full. */
static int send_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};

            if (poll(&p, 1, WRITE_TIMEOUT_MS) <= 0)
                return -1;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void drop(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Echo what a connection has; false once it is closed and freed. */
static bool serve_conn(int ep, struct conn *c, unsigned close_after, struct counts *k, char *buf)
{
    for (;;) {
        ssize_t n = recv(c->fd, buf, BUF_SIZE, MSG_DONTWAIT);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return true;
        if (n <= 0 || send_all(c->fd, buf, (size_t)n)) {
            drop(ep, c);
            return false;
        }
        c->echoed += (uint64_t)n;
        k->tcp_bytes += (uint64_t)n;
        if (close_after && c->echoed >= close_after) {
            drop(ep, c);
            return false;
        }
    }
}

void echo_server_main(const char *addr, unsigned port, unsigned close_after, int report_fd,
                      int ctl_fd)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct epoll_event evs[MAX_EVENTS];
    struct counts k = {0};
    char *buf = malloc(BUF_SIZE);
    int one = 1, lfd, ufd, ep;

    if (!buf)
        finish(report_fd, NULL, "echo server: out of memory");
    if (*addr && inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        errno = EINVAL;
        fail(report_fd, "bad bind address", addr, port);
    }
    /* UDP first: the harness takes the TCP listener's appearance as "both are ready" */
    ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (ufd < 0 || bind(ufd, (struct sockaddr *)&sa, sizeof(sa)))
        fail(report_fd, "cannot bind UDP", addr, port);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 256))
        fail(report_fd, "cannot listen on TCP", addr, port);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        fail(report_fd, "epoll for", addr, port);
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd,
              &(struct epoll_event){.events = EPOLLIN, .data.ptr = &tag_listen});
    epoll_ctl(ep, EPOLL_CTL_ADD, ufd,
              &(struct epoll_event){.events = EPOLLIN, .data.ptr = &tag_udp});
    epoll_ctl(ep, EPOLL_CTL_ADD, ctl_fd,
              &(struct epoll_event){.events = EPOLLIN, .data.ptr = &tag_ctl});

    for (;;) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail(report_fd, "epoll_wait serving", addr, port);
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;

            if (tag == &tag_ctl) {
                /* the helper closed its end: finish (nothing else is ever written there) */
                finish(report_fd, &k, NULL);
            } else if (tag == &tag_listen) {
                int fd;

                while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
                    struct conn *c = calloc(1, sizeof(*c));

                    if (!c) {
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    k.tcp_connections++;
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd,
                                  &(struct epoll_event){.events = EPOLLIN, .data.ptr = c})) {
                        close(fd);
                        free(c);
                        continue;
                    }
                    /* the request may be in already: serve it without another wake-up */
                    serve_conn(ep, c, close_after, &k, buf);
                }
            } else if (tag == &tag_udp) {
                for (;;) {
                    struct sockaddr_in from;
                    socklen_t fl = sizeof(from);
                    ssize_t got = recvfrom(ufd, buf, BUF_SIZE, 0, (struct sockaddr *)&from, &fl);

                    if (got < 0)
                        break;
                    k.udp_datagrams++;
                    k.udp_bytes += (uint64_t)got;
                    sendto(ufd, buf, (size_t)got, 0, (struct sockaddr *)&from, fl);
                }
            } else {
                serve_conn(ep, tag, close_after, &k, buf);
            }
        }
    }
}
