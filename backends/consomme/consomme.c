/* SPDX-License-Identifier: MIT */
/*
 * consomme.c - the stack's context, its event loop, timers and frame dispatch
 *
 * Theory of operation: one thread waits in epoll on the transport (frames from the guest),
 * host sockets (UDP flows here, TCP connections in tcp.c) and a signalfd. Frames from the
 * guest are read in batches: each frame is validated and dispatched in place in the read
 * buffer; TCP segments go to tcp_input() and, once per batch, tcp_input_flush() lets tcp.c
 * coalesce its host writes and ACKs; UDP datagrams of a batch are sent per flow with one
 * sendmmsg(). Frames toward the guest are appended to one output queue (transport.c) that is
 * written out when it grows large and at the end of every loop turn; when it is full, senders
 * get -ENOBUFS and tcp.c is told through tcp_guest_writable() once it has drained.
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
#include <sys/signalfd.h>
#include <sys/wait.h>

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

uint64_t cm_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int cm_host_dest(const struct consomme *c, uint32_t dst, uint16_t port, struct sockaddr_in *out)
{
    const struct cm_config *cfg = &c->opts.cfg;

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
    c->tr_ev.fd = -1;
    c->sig_ev.fd = -1;
    c->listen_ev.fd = -1;
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
    if (c->epfd >= 0)
        close(c->epfd);
    free(c);
}

/* Ethernet header toward the guest: to its learned MAC, broadcast until it has spoken. */
static void eth_header(struct consomme *c, uint8_t *p, const uint8_t *dst_mac, uint16_t type)
{
    static const uint8_t bcast[ETH_ALEN_] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    if (!dst_mac)
        dst_mac = c->guest_mac_known ? c->guest_mac : bcast;
    memcpy(p, dst_mac, ETH_ALEN_);
    memcpy(p + ETH_ALEN_, c->opts.cfg.gw_mac, ETH_ALEN_);
    p[12] = (uint8_t)(type >> 8);
    p[13] = (uint8_t)type;
}

/**
 * cm_send_frame() - Queue a whole Ethernet frame (the caller wrote the header)
 * @c:		Stack
 * @iov:	Frame pieces
 * @iovcnt:	Number of pieces
 *
 * Return: 0, -ENOBUFS when the queue toward the guest is full, -EMSGSIZE if too large
 */
int cm_send_frame(struct consomme *c, const struct iovec *iov, int iovcnt)
{
    size_t len = 0;
    uint8_t *p;

    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    if (len > CM_FRAME_MAX)
        return -EMSGSIZE;
    p = cm_out_reserve(c, len);
    if (!p)
        return -ENOBUFS;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(p, iov[i].iov_base, iov[i].iov_len);
        p += iov[i].iov_len;
    }
    cm_out_commit(c, len);
    return 0;
}

/**
 * cm_send_ipv4_to() - Queue an IPv4 packet toward the guest with an explicit Ethernet address
 * @c:		Stack
 * @dst_mac:	Ethernet destination, NULL for the guest's (broadcast until learned)
 * @src:	Source address, host byte order
 * @dst:	Destination address, host byte order
 * @proto:	IP protocol
 * @iov:	Layer-4 header and payload
 * @iovcnt:	Number of elements in @iov
 *
 * Return: 0, -ENOBUFS when the queue toward the guest is full, -EMSGSIZE beyond the MTU
 */
int cm_send_ipv4_to(struct consomme *c, const uint8_t *dst_mac, uint32_t src, uint32_t dst,
                    uint8_t proto, const struct iovec *iov, int iovcnt)
{
    size_t len = 0, hdr = ETH_HLEN_ + 20;
    uint8_t *p;

    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    if (len + 20 > c->opts.cfg.mtu)
        return -EMSGSIZE;
    p = cm_out_reserve(c, hdr + len);
    if (!p)
        return -ENOBUFS;
    eth_header(c, p, dst_mac, 0x0800);
    ipv4_header_encode(p + ETH_HLEN_, src, dst, proto, len, c->ip_id++);
    p += hdr;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(p, iov[i].iov_base, iov[i].iov_len);
        p += iov[i].iov_len;
    }
    cm_out_commit(c, hdr + len);
    return 0;
}

int cm_send_ipv4(struct consomme *c, uint32_t src, uint32_t dst, uint8_t proto,
                 const struct iovec *iov, int iovcnt)
{
    return cm_send_ipv4_to(c, NULL, src, dst, proto, iov, iovcnt);
}

/**
 * cm_frames_input_begin() - Start a batch of frames from the guest
 * @c:		Stack
 */
void cm_frames_input_begin(struct consomme *c)
{
    c->st.batches++;
}

/**
 * cm_frame_input() - Validate and dispatch one Ethernet frame from the guest
 * @c:		Stack
 * @frame:	Frame bytes; must stay valid until cm_frames_input_end()
 * @len:	Frame length
 */
void cm_frame_input(struct consomme *c, uint8_t *frame, size_t len)
{
    const uint8_t *dst = frame, *src = frame + ETH_ALEN_;
    uint16_t type;

    c->st.frames_in++;
    c->st.bytes_in += len;
    if (len < ETH_HLEN_) {
        cm_drop(c, CM_DROP_FRAME_SHORT);
        return;
    }
    if (!(dst[0] & 1) && memcmp(dst, c->opts.cfg.gw_mac, ETH_ALEN_)) {
        cm_drop(c, CM_DROP_ETH_DST);
        return;
    }
    /* Learn (and follow changes of) the guest's address from any unicast source. */
    if (!(src[0] & 1) && (!c->guest_mac_known || memcmp(c->guest_mac, src, ETH_ALEN_))) {
        if (memcmp(src, c->opts.cfg.gw_mac, ETH_ALEN_) && memcmp(src, "\0\0\0\0\0\0", ETH_ALEN_)) {
            memcpy(c->guest_mac, src, ETH_ALEN_);
            c->guest_mac_known = true;
        }
    }
    type = (uint16_t)(frame[12] << 8 | frame[13]);
    switch (type) {
    case 0x0800:
        ipv4_input(c, frame + ETH_HLEN_, len - ETH_HLEN_);
        break;
    case 0x0806:
        arp_input(c, frame, len);
        break;
    default:
        cm_drop(c, CM_DROP_ETHERTYPE);
        break;
    }
}

/**
 * cm_frames_input_end() - Finish a batch: flush per-flow work queued by the handlers
 * @c:		Stack
 */
void cm_frames_input_end(struct consomme *c)
{
    udp_flush(c);
    tcp_input_flush(c);
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
            if (cm_stats_write(c, c->opts.stats_path, err, sizeof(err)))
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
    cm_out_flush(c);
    /* Wake tcp.c only when a good part of the queue is free, so it does not bounce between
     * -ENOBUFS and writable one frame at a time. */
    while (c->guest_blocked && c->obuf_tail - c->obuf_head <= c->obuf_size / 2) {
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
