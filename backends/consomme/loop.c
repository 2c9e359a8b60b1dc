/* SPDX-License-Identifier: MIT */
/*
 * loop.c - the stack's context (created, destroyed), its event loop, timers and signals
 *
 * The loop calls down into the transports, the protocols and the statistics; what they ask of
 * the stack in return (configuration, clock, epoll registration, the connected hook) is
 * context.c's and where a guest's packet may go is nat.c's, so nothing calls back up here.
 *
 * Theory of operation: one thread waits in epoll on the transport (frames from the guest),
 * host sockets (UDP flows here, TCP connections in tcp.c) and a signalfd. The transport
 * (transport.c for stream and TAP, vhost_user.c) hands frames from the guest to the Ethernet
 * layer (eth_in.c) in batches: TCP segments go to tcp_input() and, once per batch,
 * tcp_input_flush() lets tcp.c coalesce its host writes and ACKs; UDP datagrams of a batch are
 * sent per flow with one sendmmsg(). Frames toward the guest go through the transport's
 * reserve/commit and are flushed at the end of every loop turn; when it is full, senders get
 * -ENOBUFS and tcp.c is told through tcp_guest_writable() once the transport is writable.
 *
 * Timers need no timerfd: the epoll timeout is 10 ms while TCP connections exist (tcp_timer()),
 * else one second for sweeping idle UDP flows.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "clock.h"
#include "core.h"
#include "errbuf.h"

#define TCP_TICK_MS  10
#define UDP_SWEEP_MS 1000
#define EPOLL_BATCH  128

/**
 * cm_create() - Allocate a stack with no transport yet
 * @o:		Options (copied)
 * @out:	New stack
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0 or negative errno
 */
int cm_create(const struct cm_opts *o, struct consomme **out, char *err, size_t errlen)
{
    struct consomme *c = calloc(1, sizeof(*c));
    int rc;

    if (!c)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    c->opts = *o;
    c->tr = &cm_queue_ops;
    c->tr_ev.fd = -1;
    c->sig_ev.fd = -1;
    c->listen_ev.fd = -1;
    c->stats_fd = -1;
    c->events.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (c->events.epfd < 0) {
        rc = errbuf_set(err, errlen, -errno, "epoll_create1: %s", strerror(errno));
        goto fail;
    }
    rc = cm_transport_init_buffers(c);
    if (rc) {
        errbuf_set(err, errlen, rc, "cannot allocate frame buffers: %s", strerror(-rc));
        goto fail;
    }
    if (c->opts.dns_upstream.sin_port) {
        c->resolver = c->opts.dns_upstream;
        c->have_resolver = true;
    } else {
        /* no resolver is no error: DNS then goes unanswered (UDP) or is refused (TCP) */
        c->have_resolver = !cm_resolv_conf_nameserver("/etc/resolv.conf", &c->resolver, NULL, 0);
    }
    rc = udp_init(c);
    if (rc) {
        errbuf_set(err, errlen, rc, "cannot set up UDP: %s", strerror(-rc));
        goto fail;
    }
    rc = tcp_init(c);
    if (rc) {
        errbuf_set(err, errlen, rc, "cannot set up TCP: %s", strerror(-rc));
        goto fail;
    }
    *out = c;
    return 0;
fail:
    cm_destroy(c);
    return rc;
}

/**
 * cm_destroy() - Close every socket and free the stack
 * @c:		Stack, may be NULL
 */
void cm_destroy(struct consomme *c)
{
    if (!c)
        return;
    if (c->tcp_state)
        tcp_cleanup(c);
    udp_cleanup(c);
    cm_transport_free(c);
    if (c->sig_ev.fd >= 0)
        close(c->sig_ev.fd);
    if (c->stats_fd >= 0)
        close(c->stats_fd);
    if (c->events.epfd >= 0)
        close(c->events.epfd);
    free(c);
}

static void child_reap(struct consomme *c)
{
    int status;

    if (c->child <= 0)
        return;
    if (waitpid(c->child, &status, WNOHANG) != c->child)
        return;
    c->child = 0;
    c->stop = true;
    if (WIFEXITED(status))
        c->exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        c->exit_code = 128 + WTERMSIG(status);
    else
        c->exit_code = 1;
}

static void signal_event(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    struct signalfd_siginfo si;
    char err[ERRBUF_LEN];

    while (read(ev->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGCHLD:
            child_reap(c);
            break;
        case SIGUSR1:
            if (cm_stats_update(c, err, sizeof(err)))
                fprintf(stderr, "consomme: %s\n", err);
            break;
        default: /* SIGINT, SIGTERM, SIGHUP */
            if (c->child > 0) {
                /* CMD decides how to end and we follow with its exit status; a second
                 * request is not negotiable. */
                kill(c->child, c->stop_requests++ ? SIGKILL : (int)si.ssi_signo);
            } else {
                c->stop = true;
                c->exit_code = 128 + (int)si.ssi_signo;
            }
            break;
        }
    }
}

/* The signals the loop takes through its signalfd (blocked, so only it sees them). */
static void loop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGCHLD);
}

/**
 * cm_signals_block() - Block the signals the loop reads through its signalfd
 * @old:	Where to save the previous mask, may be NULL
 *
 * Called before any child is forked, so no SIGCHLD can be lost; children unblock them again.
 *
 * Return: 0 or negative errno
 */
int cm_signals_block(sigset_t *old)
{
    sigset_t set;

    loop_signals(&set);
    signal(SIGPIPE, SIG_IGN);
    return sigprocmask(SIG_BLOCK, &set, old) ? -errno : 0;
}

static int timeout_ms(struct consomme *c, uint64_t now)
{
    uint64_t next = c->next_udp_sweep;

    if (tcp_connection_count(c) && c->next_tcp_tick < next)
        next = c->next_tcp_tick;
    if (c->stats_pending && now + CM_STATS_RETRY_MS < next)
        next = now + CM_STATS_RETRY_MS;
    return next <= now ? 0 : (int)(next - now);
}

static void after_events(struct consomme *c)
{
    uint64_t now = cm_now_ms();

    if (tcp_connection_count(c) && now >= c->next_tcp_tick) {
        tcp_timer(c, now);
        c->next_tcp_tick = now + TCP_TICK_MS;
    } else if (!tcp_connection_count(c)) {
        c->next_tcp_tick = now;
    }
    if (now >= c->next_udp_sweep) {
        udp_sweep(c, now);
        c->next_udp_sweep = now + UDP_SWEEP_MS;
    }
    if (c->stats_pending) {
        char err[ERRBUF_LEN];

        if (cm_stats_update(c, err, sizeof(err)))
            fprintf(stderr, "consomme: %s\n", err);
    }
    cm_out_flush(c);
    while (c->guest_blocked && c->tr->writable(c)) {
        c->guest_blocked = false;
        tcp_guest_writable(c);
        cm_out_flush(c);
    }
}

/**
 * cm_run() - Run the event loop until the guest goes away, CMD exits or a signal says stop
 * @c:		Stack with a transport
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0 (see c->exit_code) or negative errno on a loop failure
 */
int cm_run(struct consomme *c, char *err, size_t errlen)
{
    struct epoll_event evs[EPOLL_BATCH];
    sigset_t set;
    int rc;

    rc = cm_signals_block(NULL);
    if (rc)
        return errbuf_set(err, errlen, rc, "cannot block signals: %s", strerror(-rc));
    loop_signals(&set);
    c->sig_ev.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (c->sig_ev.fd < 0)
        return errbuf_set(err, errlen, -errno, "signalfd: %s", strerror(errno));
    c->sig_ev.fn = signal_event;
    rc = cm_event_add(c, &c->sig_ev, EPOLLIN);
    if (rc)
        return errbuf_set(err, errlen, rc, "epoll: %s", strerror(-rc));
    child_reap(c); /* CMD may have ended before the signalfd existed */
    if (c->on_connected_at_start)
        cm_guest_connected(c);

    c->next_udp_sweep = cm_now_ms() + UDP_SWEEP_MS;
    while (!c->stop) {
        int n = epoll_wait(c->events.epfd, evs, EPOLL_BATCH, timeout_ms(c, cm_now_ms()));

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errbuf_set(err, errlen, -errno, "epoll_wait: %s", strerror(errno));
        }
        cm_events_dispatch(c, evs, n);
        after_events(c);
    }
    return 0;
}
