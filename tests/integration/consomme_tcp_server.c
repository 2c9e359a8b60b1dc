/* SPDX-License-Identifier: MIT */
/*
 * consomme_tcp_server - consomme_tcp_tool's host end
 *
 * Listens on 127.0.0.1, runs the command that starts the sandbox end with {PORT} replaced,
 * serves its connections from one epoll loop (every connection a struct sconn, closed at the
 * end whatever its state), then judges: the command's exit status, the whole exchange seen,
 * and with --stats consomme's ring counters. Each mode's usage is in consomme_tcp_tool.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "clock.h"
#include "parse.h"

#include "consomme_tcp_tool.h"

enum smode { M_UPLOAD, M_DOWNLOAD, M_ECHO, M_HALFCLOSE, M_REFUSED };

struct sconn {
    LIST_ENTRY(sconn) link; /* open connections, closed at the end whatever their state */
    int fd;
    int phase; /* 0: main transfer, 1: answer queued, 2: waiting for the peer's EOF */
    EVP_MD_CTX *md;
    struct prng p;
    uint64_t in, out;
    uint8_t *buf;
    size_t cap;
    size_t blen, boff; /* bytes queued for sending at buf + boff */
};

struct server {
    enum smode mode;
    uint64_t size;
    unsigned conns_want;
    int ep, lfd;
    LIST_HEAD(, sconn) conns;
    unsigned open, open_max, accepted, done;
    uint64_t echoed;
};

static void sconn_close(struct server *s, struct sconn *k)
{
    epoll_ctl(s->ep, EPOLL_CTL_DEL, k->fd, NULL);
    close(k->fd);
    LIST_REMOVE(k, link);
    EVP_MD_CTX_free(k->md);
    free(k->buf);
    free(k);
    s->open--;
}

/* Sends what is queued; refills for download. Return: 1 finished, 0 more to do, -1 error. */
static int sconn_send(struct server *s, struct sconn *k)
{
    for (;;) {
        if (k->boff == k->blen) {
            k->boff = k->blen = 0;
            if (s->mode == M_DOWNLOAD && k->phase == 0) {
                size_t n = s->size - k->out < CHUNK ? (size_t)(s->size - k->out) : CHUNK;

                if (!n) {
                    EVP_DigestFinal_ex(k->md, k->buf, NULL);
                    k->blen = 32;
                    k->phase = 1;
                } else {
                    prng_fill(&k->p, k->buf, n);
                    EVP_DigestUpdate(k->md, k->buf, n);
                    k->out += n;
                    k->blen = n;
                }
            } else if (k->phase == 1) {
                shutdown(k->fd, SHUT_WR);
                k->phase = 2;
                return 1;
            } else {
                return 1;
            }
        }
        ssize_t n = send(k->fd, k->buf + k->boff, k->blen - k->boff, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n < 0)
            return -1;
        k->boff += (size_t)n;
    }
}

/* sconn_send(), then wait for room to send the rest if there is more. Return: as sconn_send(). */
static int sconn_flush(struct server *s, struct sconn *k)
{
    int r = sconn_send(s, k);

    if (!r) {
        struct epoll_event e = {.events = EPOLLOUT, .data.ptr = k};

        epoll_ctl(s->ep, EPOLL_CTL_MOD, k->fd, &e);
    }
    return r;
}

/* One readiness event of a connection. Return: 1 when the connection is finished and closed. */
static int sconn_event(struct server *s, struct sconn *k, uint32_t ev)
{
    struct epoll_event e = {.data.ptr = k};
    int r;

    if (k->blen > k->boff || (s->mode == M_DOWNLOAD && k->phase < 2)) {
        r = sconn_flush(s, k);
        if (r < 0)
            goto gone;
        if (!r)
            return 0;
    }
    e.events = EPOLLIN;
    epoll_ctl(s->ep, EPOLL_CTL_MOD, k->fd, &e);
    for (;;) {
        uint8_t *dst = k->buf;
        ssize_t n = recv(k->fd, dst, k->cap < CHUNK ? k->cap : CHUNK, MSG_DONTWAIT);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n < 0)
            goto gone;
        if (n == 0)
            break;
        k->in += (uint64_t)n;
        if (s->mode == M_UPLOAD || s->mode == M_HALFCLOSE) {
            EVP_DigestUpdate(k->md, dst, (size_t)n);
        } else if (s->mode == M_ECHO) {
            k->blen = (size_t)n;
            k->boff = 0;
            s->echoed += (uint64_t)n;
            r = sconn_flush(s, k);
            if (r < 0)
                goto gone;
            if (!r)
                return 0;
        } else if (s->mode == M_DOWNLOAD && k->phase < 2) {
            return 0; /* the client sends nothing; ignore */
        }
    }
    /* EOF from the client */
    if (s->mode == M_UPLOAD && k->phase == 0) {
        EVP_DigestFinal_ex(k->md, k->buf, NULL);
        k->boff = 0;
        k->blen = 32;
        k->phase = 1;
        if (k->in != s->size)
            fprintf(stderr,
                    "consomme_tcp_tool: upload: host end read %" PRIu64 " of %" PRIu64 " bytes\n",
                    k->in, s->size);
        else
            s->done++;
        if (!sconn_flush(s, k)) /* else sent, or failed: close, below */
            return 0;
    } else if (s->mode == M_HALFCLOSE && k->phase == 0) {
        int len = snprintf((char *)k->buf, 32, "got %" PRIu64 "\n", k->in);
        struct prng p = {43};

        prng_fill(&p, k->buf + len, HALF_REPLY);
        k->blen = (size_t)len + HALF_REPLY;
        k->boff = 0;
        k->phase = 1;
        s->done += k->in == 100000;
        if (!sconn_flush(s, k))
            return 0;
    } else if (s->mode == M_DOWNLOAD && k->phase == 2) {
        s->done++;
    } else if (s->mode == M_ECHO) {
        s->done++;
    }
gone:
    sconn_close(s, k);
    return 1;
}

static int server_accept(struct server *s)
{
    for (;;) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct epoll_event e = {.events = EPOLLIN};
        struct sconn *k;

        if (fd < 0)
            return errno == EAGAIN ? 0 : -errno;
        k = calloc(1, sizeof(*k));
        if (!k) {
            close(fd);
            return -ENOMEM;
        }
        k->fd = fd;
        LIST_INSERT_HEAD(&s->conns, k, link);
        s->open++;
        /* 1000 echo connections must not cost a megabyte each */
        k->cap = s->mode == M_HALFCLOSE ? CHUNK + HALF_REPLY + 64
                 : s->mode == M_ECHO    ? 65536
                                        : CHUNK;
        if (!(k->buf = malloc(k->cap)) || !(k->md = EVP_MD_CTX_new()) ||
            !EVP_DigestInit_ex(k->md, EVP_sha256(), NULL))
            return -ENOMEM;
        k->p.s = 0x9e3779b97f4a7c15ull;
        e.data.ptr = k;
        if (s->mode == M_DOWNLOAD)
            e.events = EPOLLOUT;
        if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e))
            return -errno;
        s->accepted++;
        if (s->open > s->open_max)
            s->open_max = s->open;
    }
}

/* The stats dump must show the ring of @dir grown, and grown exactly up to its maximum. */
static int check_stats(const char *path, const char *dir)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je), *t;
    char k_grows[32], k_peak[32], k_max[32];
    long long grows, peak, max;
    int rc = 0;

    if (!root)
        return fail("stats: cannot read %s: %s", path, je.text);
    t = json_object_get(root, "tcp");
    if (!strcmp(dir, "fixed")) {
        long long rg = json_integer_value(json_object_get(t, "rx_buffer_grows"));
        long long tg = json_integer_value(json_object_get(t, "tx_buffer_grows"));

        printf("stats: rx_buffer_grows=%lld tx_buffer_grows=%lld\n", rg, tg);
        if (!json_object_get(t, "rx_buffer_grows") || rg || tg)
            rc = fail("stats: fixed rings must not grow");
        json_decref(root);
        return rc;
    }
    snprintf(k_grows, sizeof(k_grows), "%s_buffer_grows", dir);
    snprintf(k_peak, sizeof(k_peak), "%s_buffer_peak", dir);
    snprintf(k_max, sizeof(k_max), "%s_buffer_max", dir);
    grows = json_integer_value(json_object_get(t, k_grows));
    peak = json_integer_value(json_object_get(t, k_peak));
    max = json_integer_value(json_object_get(t, k_max));
    printf("stats: %s=%lld %s=%lld %s=%lld\n", k_grows, grows, k_peak, peak, k_max, max);
    if (grows <= 0)
        rc = fail("stats: the %s ring never grew", dir);
    else if (peak != max)
        rc = fail("stats: the %s ring peaked at %lld, not at its maximum %lld", dir, peak, max);
    json_decref(root);
    return rc;
}

static pid_t spawn(char **cmd, uint16_t port, char ***argv_out)
{
    char **argv, portstr[8];
    int n = 0;
    pid_t pid;

    snprintf(portstr, sizeof(portstr), "%u", port);
    while (cmd[n])
        n++;
    argv = calloc((size_t)n + 1, sizeof(*argv));
    if (!argv)
        return -1;
    for (int i = 0; i < n; i++) {
        char *tok = strstr(cmd[i], "{PORT}");

        if (tok) {
            size_t len = strlen(cmd[i]) + 8;

            argv[i] = malloc(len);
            if (!argv[i])
                return -1;
            snprintf(argv[i], len, "%.*s%s%s", (int)(tok - cmd[i]), cmd[i], portstr, tok + 6);
        } else {
            argv[i] = strdup(cmd[i]);
        }
    }
    *argv_out = argv;
    pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execvp(argv[0], argv);
        fprintf(stderr, "consomme_tcp_tool: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

int server_main(int argc, char **argv)
{
    struct server s = {.ep = -1, .lfd = -1};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    const char *stats = NULL, *dir = NULL;
    char **cmd = NULL, **argv_run = NULL;
    int64_t deadline = clock_now_ms() + DEADLINE_MS;
    int i, rc = 1, status = 0, pidfd = -1;
    bool exited = false;
    pid_t pid;

    for (i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            cmd = argv + i + 1;
            break;
        }
    if (!cmd || !*cmd || argc < 2)
        return fail(
            "usage: consomme_tcp_tool server MODE [ARGS] [--stats FILE rx|tx|fixed] -- CMD...");
    if (!strcmp(argv[1], "upload") || !strcmp(argv[1], "download")) {
        s.mode = argv[1][0] == 'u' ? M_UPLOAD : M_DOWNLOAD;
        if (argc < 3 || parse_size(argv[2], &s.size))
            return fail("server %s needs a SIZE", argv[1]);
    } else if (!strcmp(argv[1], "echo")) {
        unsigned long long v;

        s.mode = M_ECHO;
        if (argc < 3 || parse_uint(argv[2], 1, 100000, &v))
            return fail("server echo needs CONNS");
        s.conns_want = (unsigned)v;
    } else if (!strcmp(argv[1], "halfclose")) {
        s.mode = M_HALFCLOSE;
    } else if (!strcmp(argv[1], "refused")) {
        s.mode = M_REFUSED;
    } else {
        return fail("unknown server mode '%s'", argv[1]);
    }
    for (i = 2; argv + i < cmd - 1; i++)
        if (!strcmp(argv[i], "--stats") && argv + i + 2 < cmd) {
            stats = argv[i + 1];
            dir = argv[i + 2];
        }
    if (stats)
        unlink(stats);

    s.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.lfd < 0 || bind(s.lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
        getsockname(s.lfd, (struct sockaddr *)&sa, &sl)) {
        rc = fail("cannot bind 127.0.0.1: %s", strerror(errno));
        goto out;
    }
    if (s.mode == M_REFUSED) {
        close(s.lfd); /* the port was free a moment ago and nobody listens on it now */
        s.lfd = -1;
    } else if (listen(s.lfd, 4096)) {
        rc = fail("listen: %s", strerror(errno));
        goto out;
    }
    s.ep = epoll_create1(EPOLL_CLOEXEC);
    if (s.ep < 0)
        goto out;
    if (s.lfd >= 0) {
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};

        epoll_ctl(s.ep, EPOLL_CTL_ADD, s.lfd, &e);
    }
    pid = spawn(cmd, ntohs(sa.sin_port), &argv_run);
    if (pid < 0) {
        rc = fail("fork: %s", strerror(errno));
        goto out;
    }
    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = &s};

        epoll_ctl(s.ep, EPOLL_CTL_ADD, pidfd, &e);
    }
    while (!exited) {
        struct epoll_event evs[64];
        int n;

        if (clock_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            rc = fail("%s did not finish within %d s", cmd[0], DEADLINE_MS / 1000);
            goto out;
        }
        n = epoll_wait(s.ep, evs, 64, pidfd >= 0 ? 1000 : 50);
        for (int k = 0; k < n; k++) {
            if (!evs[k].data.ptr) {
                if (server_accept(&s)) {
                    kill(pid, SIGKILL);
                    waitpid(pid, &status, 0);
                    rc = fail("accept failed");
                    goto out;
                }
            } else if (evs[k].data.ptr == &s) {
                /* the child is done: handled below */
            } else {
                sconn_event(&s, evs[k].data.ptr, evs[k].events);
            }
        }
        if (waitpid(pid, &status, WNOHANG) == pid)
            exited = true;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        rc = fail("%s failed (status %d)", cmd[0],
                  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        goto out;
    }
    switch (s.mode) {
    case M_UPLOAD:
    case M_DOWNLOAD:
    case M_HALFCLOSE:
        if (s.done != 1) {
            rc = fail("the host end completed %u exchanges, expected 1", s.done);
            goto out;
        }
        break;
    case M_ECHO:
        if (s.accepted != s.conns_want || s.open_max < s.conns_want) {
            rc = fail("echo: %u connections accepted, at most %u open at once; expected %u",
                      s.accepted, s.open_max, s.conns_want);
            goto out;
        }
        printf("echo: host end accepted %u, %u open at once, echoed %" PRIu64 " bytes\n",
               s.accepted, s.open_max, s.echoed);
        break;
    case M_REFUSED:
        break;
    }
    rc = stats ? check_stats(stats, dir) : 0;
out:
    while (!LIST_EMPTY(&s.conns))
        sconn_close(&s, LIST_FIRST(&s.conns));
    if (pidfd >= 0)
        close(pidfd);
    if (s.ep >= 0)
        close(s.ep);
    if (s.lfd >= 0)
        close(s.lfd);
    for (i = 0; argv_run && argv_run[i]; i++)
        free(argv_run[i]);
    free(argv_run);
    return rc;
}
