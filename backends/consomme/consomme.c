/* SPDX-License-Identifier: MIT */
/*
 * consomme.c - the stack's context, its event loop, timers and signals
 *
 * Theory of operation: one thread waits in epoll on the transport (frames from the guest),
 * host sockets (UDP flows here, TCP connections in tcp.c) and a signalfd. The transport
 * (transport.c for stream and TAP, vhost_user.c) hands frames from the guest to the Ethernet
 * layer (eth.c) in batches: TCP segments go to tcp_input() and, once per batch,
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

const struct cm_config *cm_config(const struct consomme *c)
{
    return &c->opts.cfg;
}

void *cm_tcp_state(struct consomme *c)
{
    return c->tcp_state;
}

void cm_set_tcp_state(struct consomme *c, void *state)
{
    c->tcp_state = state;
}

/* Wraps the shared clock so tests can link a fake one instead (the stateful fuzzer, built
 * with CONSOMME_FUZZ, brings its virtual clock). */
#ifndef CONSOMME_FUZZ
uint64_t cm_now_ms(void)
{
    return (uint64_t)clock_now_ms();
}
#endif

/*
 * Whether @addr is one of the host's own addresses, asked of the kernel at the moment of the
 * connection: a route to a local address is a local route, whose source is the address
 * itself. A connected UDP socket sends nothing, so nothing reaches the address to find out.
 * Unreachable is not local; a probe that cannot even be made counts as local (refuse when
 * unsure).
 */
static bool host_owns(uint32_t addr)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
    socklen_t len = sizeof(sa);
    bool own = true;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return true;
    sa.sin_addr.s_addr = htonl(addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
        own = false;
    else if (!getsockname(fd, (struct sockaddr *)&sa, &len))
        own = ntohl(sa.sin_addr.s_addr) == addr;
    close(fd);
    return own;
}

static int refuse(struct consomme *c, uint8_t proto, enum cm_refuse why)
{
    if (proto == IPPROTO_TCP)
        c->st.refused_tcp[why]++;
    else
        c->st.refused_udp[why]++;
    return -EACCES;
}

int cm_host_dest(struct consomme *c, uint8_t proto, uint32_t dst, uint16_t port,
                 struct sockaddr_in *out)
{
    const struct cm_config *cfg = &c->opts.cfg;
    bool mapped = dst == cfg->gw_ip || dst == cfg->dns_ip;

    /* the host's own loopback and addresses only through the gateway, whatever the rules */
    if (!mapped && (dst >> 24) == 127)
        return refuse(c, proto, CM_REFUSE_HOST_LOOPBACK);
    if (!cm_policy_allows(&c->opts.policy, dst, port, NULL))
        return refuse(c, proto, CM_REFUSE_RULE);
    *out = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port)};
    if (dst == cfg->gw_ip) {
        out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (dst == cfg->dns_ip) {
        if (port != 53)
            return -ECONNREFUSED;
        if (!c->have_resolver)
            return -EHOSTUNREACH;
        *out = c->resolver;
    } else {
        if (host_owns(dst))
            return refuse(c, proto, CM_REFUSE_HOST_ADDRESS);
        out->sin_addr.s_addr = htonl(dst);
    }
    return 0;
}

int cm_event_add(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.ptr = ev};

    return epoll_ctl(c->epfd, EPOLL_CTL_ADD, ev->fd, &e) ? -errno : 0;
}

int cm_event_mod(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.ptr = ev};

    return epoll_ctl(c->epfd, EPOLL_CTL_MOD, ev->fd, &e) ? -errno : 0;
}

void cm_event_del(struct consomme *c, struct cm_event *ev)
{
    epoll_ctl(c->epfd, EPOLL_CTL_DEL, ev->fd, NULL);
    /* The owner may free @ev right after this; an event for it later in this turn's list
     * must not be delivered. */
    for (int i = 0; i < c->turn_n; i++)
        if (c->turn_evs[i].data.ptr == ev)
            c->turn_evs[i].data.ptr = NULL;
}

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
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (c->epfd < 0) {
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
    if (c->epfd >= 0)
        close(c->epfd);
    free(c);
}

/**
 * cm_guest_connected() - The guest's transport is connected: run the on_connected hook once
 * @c:		Stack
 */
void cm_guest_connected(struct consomme *c)
{
    void (*fn)(struct consomme * c) = c->on_connected;

    c->on_connected = NULL;
    if (fn)
        fn(c);
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
        int n = epoll_wait(c->epfd, evs, EPOLL_BATCH, timeout_ms(c, cm_now_ms()));

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errbuf_set(err, errlen, -errno, "epoll_wait: %s", strerror(errno));
        }
        c->turn_evs = evs;
        c->turn_n = n;
        for (int i = 0; i < n; i++) {
            struct cm_event *ev = evs[i].data.ptr;
            if (ev)
                ev->fn(c, ev, evs[i].events);
        }
        c->turn_n = 0;
        after_events(c);
    }
    return 0;
}
