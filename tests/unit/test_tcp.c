/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of consomme's TCP state machine (tcp.c) through a fake core: this file provides
 * the core's side of consomme.h. cm_send_ipv4() captures every segment tcp.c sends (and checks
 * its checksum), cm_now_ms() is a clock the tests move, and cm_event_*() use a private epoll
 * set that the tests pump. The guest is played by hand-built segments; the host side is real
 * sockets on 127.0.0.1, so connect, refusal, EOF and reset come from the kernel.
 *
 * Waiting for host sockets uses epoll with a deadline (never a fixed sleep); a test that times
 * out fails with the step it was waiting for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "skip.h"

#include "consomme.h"
#include "tcp.h"

#define GUEST_IP 0x0a00020f
#define GW_IP    0x0a000202
#define GPORT    40000
#define G_ISN    1000000u
#define MTU      65520

/* ------------------------------------------------------------------ fake core */

struct pkt {
    uint32_t src, dst;
    size_t len;
    uint8_t *b;       /* TCP header + payload */
    uint16_t tso_mss; /* a super-frame (cm_send_tcp_tso()): the segment size, else 0 */
};

struct consomme {
    struct cm_config cfg;
    int epfd;
    void *tcp;
    struct pkt pk[4096];
    unsigned npk, rd; /* captured, consumed by the test */
    bool nobufs;
    int budget;       /* > 0: segments accepted before the queue is full again */
    uint32_t tso_max; /* the transport's largest super-frame (IPv4 packet), 0: none */
};

static uint64_t fake_now = 1000000;

const struct cm_config *cm_config(const struct consomme *c)
{
    return &c->cfg;
}

void *cm_tcp_state(struct consomme *c)
{
    return c->tcp;
}

void cm_set_tcp_state(struct consomme *c, void *state)
{
    c->tcp = state;
}

uint64_t cm_now_ms(void)
{
    return fake_now;
}

/* The fake guest checks every checksum, so the tests can too. */
bool cm_guest_verifies_csum(const struct consomme *c)
{
    return true;
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
}

/* These tests connect to the gateway only, which is the host's loopback; the NAT policy is
 * the core's (tests/unit/test_policy.c). */
int cm_host_dest(struct consomme *c, uint8_t proto, uint32_t dst, uint16_t port,
                 struct sockaddr_in *out)
{
    *out = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port)};
    out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return dst == c->cfg.gw_ip ? 0 : -ECONNREFUSED;
}

#ifndef HAVE_CORE_CHECKSUM
/* Test-only stand-in for the core's checksum.c, same convention (big-endian word sums). */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
    const uint8_t *p = buf;
    uint64_t s = sum;

    for (; len >= 2; p += 2, len -= 2)
        s += (uint32_t)(p[0] << 8 | p[1]);
    if (len)
        s += (uint32_t)p[0] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint32_t csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
    uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + l4_len;

    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}
#endif

/* Same arithmetic as the core's (eth.c): whole segments within the transport's limit. */
uint32_t cm_guest_tso_max(const struct consomme *c, uint32_t mss)
{
    uint32_t payload = c->tso_max > 40 ? c->tso_max - 40 : 0;

    return payload / mss > 1 ? payload / mss * mss : mss;
}

static int capture(struct consomme *c, uint32_t src, uint32_t dst, uint8_t proto,
                   const struct iovec *iov, int iovcnt, uint16_t tso_mss);

/* A super-frame is captured like a segment, with the checksum the guest's segmentation would
 * give its pieces computed here (tcp.c leaves the field to the core). */
int cm_send_tcp_tso(struct consomme *c, uint32_t src, uint32_t dst, const struct iovec *iov,
                    int iovcnt, uint16_t mss)
{
    size_t len = 0;

    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    assert_true(c->tso_max > 0);
    assert_true(len - ((((const uint8_t *)iov[0].iov_base)[12] >> 4) * 4u) > mss);
    assert_true(len + 20 <= c->tso_max);
    return capture(c, src, dst, IPPROTO_TCP, iov, iovcnt, mss);
}

int cm_send_ipv4(struct consomme *c, uint32_t src, uint32_t dst, uint8_t proto,
                 const struct iovec *iov, int iovcnt)
{
    return capture(c, src, dst, proto, iov, iovcnt, 0);
}

static int capture(struct consomme *c, uint32_t src, uint32_t dst, uint8_t proto,
                   const struct iovec *iov, int iovcnt, uint16_t tso_mss)
{
    struct pkt *p;
    size_t len = 0;

    if (c->nobufs)
        return -ENOBUFS;
    if (c->budget > 0 && --c->budget == 0)
        c->nobufs = true;
    assert_int_equal(proto, IPPROTO_TCP);
    assert_true(c->npk < 4096);
    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    assert_true(len <= (tso_mss ? c->tso_max : MTU) - 20);
    p = &c->pk[c->npk++];
    p->src = src;
    p->dst = dst;
    p->len = len;
    p->tso_mss = tso_mss;
    p->b = malloc(len);
    assert_non_null(p->b);
    len = 0;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(p->b + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    if (tso_mss) {
        uint16_t ck;

        p->b[16] = p->b[17] = 0;
        ck = csum_fold(
            csum_partial(p->b, p->len, csum_pseudo_ipv4(src, dst, IPPROTO_TCP, (uint16_t)p->len)));
        p->b[16] = (uint8_t)(ck >> 8);
        p->b[17] = (uint8_t)ck;
    }
    /* every segment tcp.c builds must carry a correct checksum, split ring or not */
    assert_int_equal(csum_fold(csum_partial(
                         p->b, p->len, csum_pseudo_ipv4(src, dst, IPPROTO_TCP, (uint16_t)p->len))),
                     0);
    return 0;
}

/* ------------------------------------------------------------------ helpers */

struct seg {
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    int mss, ws; /* -1 when absent */
    const uint8_t *data;
    size_t len;
    uint16_t tso_mss; /* sent as a super-frame of segments this large; 0: a plain segment */
};

static uint16_t g16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t g32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static struct seg parse(const struct pkt *p)
{
    struct seg s = {.mss = -1, .ws = -1};
    size_t doff = (size_t)(p->b[12] >> 4) * 4;

    s.seq = g32(p->b + 4);
    s.ack = g32(p->b + 8);
    s.flags = p->b[13];
    s.win = g16(p->b + 14);
    for (size_t i = 20; i < doff;) {
        if (p->b[i] == 1) {
            i++;
            continue;
        }
        if (p->b[i] == 0)
            break;
        if (p->b[i] == 2)
            s.mss = g16(p->b + i + 2);
        if (p->b[i] == 3)
            s.ws = p->b[i + 2];
        i += p->b[i + 1];
    }
    s.data = p->b + doff;
    s.len = p->len - doff;
    s.tso_mss = p->tso_mss;
    return s;
}

/* Next captured segment, or NULL. */
static const struct pkt *next_pkt(struct consomme *c)
{
    return c->rd < c->npk ? &c->pk[c->rd++] : NULL;
}

static void dispatch(struct consomme *c, int timeout_ms)
{
    struct epoll_event evs[64];
    int n = epoll_wait(c->epfd, evs, 64, timeout_ms);

    for (int i = 0; i < n; i++) {
        struct cm_event *ev = evs[i].data.ptr;

        ev->fn(c, ev, evs[i].events);
    }
}

static uint64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Pumps host socket events until a segment is captured (or fails after 5 s). */
static struct seg wait_seg(struct consomme *c, const char *what)
{
    uint64_t end = real_ms() + 5000;

    while (c->rd == c->npk) {
        if (real_ms() > end)
            fail_msg("timed out waiting for %s", what);
        dispatch(c, 20);
    }
    return parse(next_pkt(c));
}

/* Forgets every captured segment (long random runs would fill the capture array). */
static void drain(struct consomme *c)
{
    for (unsigned i = 0; i < c->npk; i++)
        free(c->pk[i].b);
    c->npk = c->rd = 0;
}

/* Pumps events that are ready now, without waiting. */
static void pump(struct consomme *c)
{
    for (int i = 0; i < 50; i++)
        dispatch(c, 0);
}

static void guest_send_opts(struct consomme *c, uint16_t sport, uint16_t dport, uint32_t seq,
                            uint32_t ack, uint8_t flags, uint16_t win, const uint8_t *opts,
                            size_t optlen, const void *data, size_t len)
{
    struct cm_ipv4 ip = {.src = GUEST_IP, .dst = GW_IP, .proto = IPPROTO_TCP, .ttl = 64};
    size_t hl = 20 + optlen, tot = hl + len;
    uint8_t *b = calloc(1, tot);
    uint16_t ck;

    assert_non_null(b);
    b[0] = (uint8_t)(sport >> 8), b[1] = (uint8_t)sport;
    b[2] = (uint8_t)(dport >> 8), b[3] = (uint8_t)dport;
    for (int i = 0; i < 4; i++) {
        b[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        b[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    b[12] = (uint8_t)((hl / 4) << 4);
    b[13] = flags;
    b[14] = (uint8_t)(win >> 8), b[15] = (uint8_t)win;
    if (optlen)
        memcpy(b + 20, opts, optlen);
    if (len)
        memcpy(b + hl, data, len);
    ck = csum_fold(csum_partial(b, tot, csum_pseudo_ipv4(ip.src, ip.dst, 6, (uint16_t)tot)));
    b[16] = (uint8_t)(ck >> 8), b[17] = (uint8_t)ck;
    tcp_input(c, &ip, b, tot);
    free(b);
}

/* One guest segment as one batch. */
static void guest_send(struct consomme *c, uint16_t dport, uint32_t seq, uint32_t ack,
                       uint8_t flags, uint16_t win, const void *data, size_t len)
{
    guest_send_opts(c, GPORT, dport, seq, ack, flags, win, NULL, 0, data, len);
    tcp_input_flush(c);
}

static int listener(uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static json_t *stats(struct consomme *c)
{
    json_t *o = json_object(), *t;

    tcp_stats_json(c, o);
    t = json_object_get(o, "tcp");
    assert_non_null(t);
    json_incref(t);
    json_decref(o);
    return t;
}

static long long stat_of(struct consomme *c, const char *name)
{
    json_t *t = stats(c);
    json_t *v = json_object_get(t, name);
    long long r;

    if (!v)
        v = json_object_get(json_object_get(t, "drops"), name);
    assert_non_null(v);
    r = json_integer_value(v);
    json_decref(t);
    return r;
}

struct fixture {
    struct consomme *c;
    int lfd;       /* host listener */
    int hfd;       /* accepted host side */
    uint16_t port; /* host port, reached by the guest at 10.0.2.2 */
    uint32_t iss;  /* consomme's ISS */
    uint32_t gseq; /* guest's next sequence number */
    uint32_t gack; /* what the guest has received in order */
    uint8_t ws;    /* scale of consomme's windows */
};

static struct consomme *stack_new(uint32_t rx_init, uint32_t rx_max, uint32_t tx_init,
                                  uint32_t tx_max, unsigned max_conns)
{
    struct consomme *c = calloc(1, sizeof(*c));

    assert_non_null(c);
    c->cfg.guest_ip = GUEST_IP;
    c->cfg.gw_ip = GW_IP;
    c->cfg.dns_ip = 0x0a000203;
    c->cfg.netmask = 0xffffff00;
    c->cfg.mtu = MTU;
    c->cfg.tcp_rx = (struct cm_tcp_bounds){rx_init, rx_max};
    c->cfg.tcp_tx = (struct cm_tcp_bounds){tx_init, tx_max};
    c->cfg.max_connections = max_conns;
    c->cfg.max_buffer_memory = UINT64_MAX;
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    assert_true(c->epfd >= 0);
    assert_int_equal(tcp_init(c), 0);
    return c;
}

static void stack_free(struct consomme *c)
{
    tcp_cleanup(c);
    close(c->epfd);
    for (unsigned i = 0; i < c->npk; i++)
        free(c->pk[i].b);
    free(c);
}

/* SYN with MSS @mss and window scale @ws (or none when < 0); returns the SYN-ACK. */
static struct seg syn_mss(struct consomme *c, uint16_t port, int ws, uint16_t mss)
{
    uint8_t opts[8] = {2, 4, (uint8_t)(mss >> 8), (uint8_t)mss, 1, 3, 3, (uint8_t)ws};

    guest_send_opts(c, GPORT, port, G_ISN, 0, 0x02, 65535, opts, ws >= 0 ? 8 : 4, NULL, 0);
    tcp_input_flush(c);
    return wait_seg(c, "SYN-ACK");
}

/* SYN with MSS 65480 (a guest at MTU 65520). */
static struct seg syn(struct consomme *c, uint16_t port, int ws)
{
    return syn_mss(c, port, ws, MTU - 40);
}

/* Handshake through consomme to a fresh host listener; the guest offers window scale 7 and
 * MSS @mss; the transport takes super-frames up to @tso_max bytes (0: none). */
static void open_conn_mss(struct fixture *f, uint32_t rx_init, uint32_t rx_max, uint32_t tx_init,
                          uint32_t tx_max, uint16_t mss, uint32_t tso_max)
{
    struct seg s;

    memset(f, 0, sizeof(*f));
    f->c = stack_new(rx_init, rx_max, tx_init, tx_max, 64);
    f->c->tso_max = tso_max;
    f->lfd = listener(&f->port);
    s = syn_mss(f->c, f->port, 7, mss);
    assert_int_equal(s.flags, 0x12);
    assert_int_equal(s.ack, G_ISN + 1);
    f->iss = s.seq;
    f->ws = (uint8_t)s.ws;
    f->hfd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(f->hfd >= 0);
    f->gseq = G_ISN + 1;
    f->gack = f->iss + 1;
    guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 65535, NULL, 0);
}

static void open_conn(struct fixture *f, uint32_t rx_init, uint32_t rx_max, uint32_t tx_init,
                      uint32_t tx_max)
{
    open_conn_mss(f, rx_init, rx_max, tx_init, tx_max, MTU - 40, 0);
}

static void close_fixture(struct fixture *f)
{
    if (f->hfd >= 0)
        close(f->hfd);
    close(f->lfd);
    stack_free(f->c);
}

/* Reads exactly @len bytes from a blocking host socket, with a deadline. */
static void host_read_all(struct fixture *f, uint8_t *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd p = {.fd = f->hfd, .events = POLLIN};
        ssize_t n;

        pump(f->c);
        if (poll(&p, 1, 20) == 0)
            continue;
        n = recv(f->hfd, buf + got, len - got, MSG_DONTWAIT);
        if (n < 0 && errno == EAGAIN)
            continue;
        assert_true(n > 0);
        got += (size_t)n;
    }
}

/* recv() on the host side once it is readable (EOF and errors count), failing after 5 s. */
static ssize_t host_recv(struct fixture *f, void *buf, size_t len)
{
    struct pollfd p = {.fd = f->hfd, .events = POLLIN};

    for (int i = 0; i < 250 && poll(&p, 1, 0) == 0; i++) {
        pump(f->c);
        poll(&p, 1, 20);
    }
    if (!p.revents)
        fail_msg("host socket never became readable");
    return recv(f->hfd, buf, len, MSG_DONTWAIT);
}

/* ------------------------------------------------------------------ tests */

static void test_tcp_window_scale_derived_from_rx_max(void **state)
{
    assert_int_equal(tcp_rx_wscale(16384), 0);
    assert_int_equal(tcp_rx_wscale(65535), 0);
    assert_int_equal(tcp_rx_wscale(65536), 1);
    assert_int_equal(tcp_rx_wscale(256 * 1024), 3);
    assert_int_equal(tcp_rx_wscale(4u << 20), 7);
    assert_int_equal(tcp_rx_wscale(1u << 30), 14);
    /* the derived scale always lets a window as large as max fit the 16-bit field */
    for (uint32_t m = 4096; m && m <= (1u << 30); m <<= 1)
        assert_true((m >> tcp_rx_wscale(m)) <= 65535 || tcp_rx_wscale(m) == 14);
}

static void test_tcp_handshake_and_data_both_ways(void **state)
{
    struct fixture f;
    uint8_t buf[64];
    struct seg s;

    open_conn(&f, 16384, 4u << 20, 16384, 4u << 20);
    assert_int_equal(f.ws, tcp_rx_wscale(4u << 20));
    assert_int_equal(tcp_connection_count(f.c), 1);

    guest_send(f.c, f.port, f.gseq, f.gack, 0x18, 65535, "hello", 5);
    s = wait_seg(f.c, "ACK of guest data");
    assert_int_equal(s.flags & 0x10, 0x10);
    assert_int_equal(s.ack, f.gseq + 5);
    assert_int_equal(s.len, 0);
    f.gseq += 5;
    host_read_all(&f, buf, 5);
    assert_memory_equal(buf, "hello", 5);

    assert_int_equal(send(f.hfd, "world!", 6, 0), 6);
    s = wait_seg(f.c, "host data to guest");
    assert_int_equal(s.seq, f.gack);
    assert_int_equal(s.len, 6);
    assert_memory_equal(s.data, "world!", 6);
    assert_int_equal(s.ack, f.gseq);
    guest_send(f.c, f.port, f.gseq, f.gack + 6, 0x10, 65535, NULL, 0);
    assert_int_equal(stat_of(f.c, "bytes_from_guest"), 5);
    assert_int_equal(stat_of(f.c, "bytes_to_guest"), 6);
    close_fixture(&f);
}

static void test_tcp_syn_ack_offers_mss_from_mtu_and_no_scale_without_guest_scale(void **state)
{
    struct consomme *c = stack_new(16384, 4u << 20, 16384, 4u << 20, 64);
    uint16_t port;
    int lfd = listener(&port);
    struct seg s = syn(c, port, -1);

    assert_int_equal(s.flags, 0x12);
    assert_int_equal(s.mss, MTU - 40);
    assert_int_equal(s.ws, -1);
    close(lfd);
    stack_free(c);
}

static void test_tcp_refused_port_gets_rst(void **state)
{
    struct consomme *c = stack_new(16384, 65536, 16384, 65536, 64);
    uint16_t port;
    int lfd = listener(&port);
    struct seg s;

    close(lfd); /* nobody listens on @port now */
    guest_send_opts(c, GPORT, port, G_ISN, 0, 0x02, 65535, NULL, 0, NULL, 0);
    tcp_input_flush(c);
    s = wait_seg(c, "RST for a refused port");
    assert_int_equal(s.flags, 0x14);
    assert_int_equal(s.ack, G_ISN + 1);
    pump(c);
    assert_int_equal(tcp_connection_count(c), 0);
    assert_int_equal(stat_of(c, "refused"), 1);
    stack_free(c);
}

static void test_tcp_unknown_segment_gets_rst_and_rst_gets_nothing(void **state)
{
    struct consomme *c = stack_new(16384, 65536, 16384, 65536, 64);
    struct seg s;

    guest_send(c, 5555, 77, 99, 0x10, 100, NULL, 0);
    s = wait_seg(c, "RST for an unknown connection");
    assert_int_equal(s.flags, 0x04);
    assert_int_equal(s.seq, 99);
    guest_send(c, 5555, 77, 99, 0x04, 100, NULL, 0);
    assert_int_equal(c->npk, c->rd);
    stack_free(c);
}

static void test_tcp_max_connections_refused_with_rst(void **state)
{
    struct consomme *c = stack_new(16384, 65536, 16384, 65536, 1);
    uint16_t port;
    int lfd = listener(&port);
    struct seg s = syn(c, port, 7);

    assert_int_equal(s.flags, 0x12);
    guest_send_opts(c, GPORT + 1, port, G_ISN, 0, 0x02, 65535, NULL, 0, NULL, 0);
    tcp_input_flush(c);
    s = wait_seg(c, "RST beyond the connection cap");
    assert_int_equal(s.flags, 0x14);
    assert_int_equal(stat_of(c, "refused_limit"), 1);
    assert_int_equal(tcp_connection_count(c), 1);
    close(lfd);
    stack_free(c);
}

static void test_tcp_half_close_guest_fin_then_host_reply(void **state)
{
    struct fixture f;
    uint8_t buf[16];
    struct seg s;

    open_conn(&f, 16384, 65536, 16384, 65536);
    guest_send(f.c, f.port, f.gseq, f.gack, 0x19, 65535, "req", 3); /* data + FIN */
    s = wait_seg(f.c, "ACK of data and FIN");
    assert_int_equal(s.ack, f.gseq + 4);
    f.gseq += 4;
    host_read_all(&f, buf, 3);
    assert_memory_equal(buf, "req", 3);
    /* the host sees EOF: consomme shut its write side */
    assert_int_equal(host_recv(&f, buf, sizeof(buf)), 0);
    /* and can still answer: the guest reads the reply, then the FIN */
    assert_int_equal(send(f.hfd, "reply", 5, 0), 5);
    close(f.hfd);
    f.hfd = -1;
    s = wait_seg(f.c, "reply after half-close");
    if (s.len == 0 && (s.flags & 0x01))
        fail_msg("FIN before the reply");
    assert_int_equal(s.len, 5);
    assert_memory_equal(s.data, "reply", 5);
    if (!(s.flags & 0x01)) {
        s = wait_seg(f.c, "FIN after the reply");
        assert_int_equal(s.flags & 0x01, 0x01);
        assert_int_equal(s.seq, f.gack + 5);
    }
    /* guest ACKs the reply and our FIN: LAST_ACK done, the connection is freed at once */
    guest_send(f.c, f.port, f.gseq, f.gack + 6, 0x10, 65535, NULL, 0);
    assert_int_equal(tcp_connection_count(f.c), 0);
    assert_int_equal(stat_of(f.c, "connections_open"), 0);
    assert_int_equal(stat_of(f.c, "rx_buffer_bytes"), 0);
    close_fixture(&f);
}

static void test_tcp_host_closes_first_guest_data_still_flows_then_time_wait(void **state)
{
    struct fixture f;
    uint8_t buf[16];
    struct seg s;

    open_conn(&f, 16384, 65536, 16384, 65536);
    shutdown(f.hfd, SHUT_WR);
    s = wait_seg(f.c, "FIN from host EOF");
    assert_int_equal(s.flags & 0x01, 0x01);
    assert_int_equal(s.seq, f.gack);
    guest_send(f.c, f.port, f.gseq, f.gack + 1, 0x10, 65535, NULL, 0); /* ACK our FIN */
    /* the guest still sends: the host still reads */
    guest_send(f.c, f.port, f.gseq, f.gack + 1, 0x18, 65535, "late", 4);
    s = wait_seg(f.c, "ACK of late data");
    assert_int_equal(s.ack, f.gseq + 4);
    host_read_all(&f, buf, 4);
    assert_memory_equal(buf, "late", 4);
    f.gseq += 4;
    guest_send(f.c, f.port, f.gseq, f.gack + 1, 0x11, 65535, NULL, 0); /* guest FIN */
    s = wait_seg(f.c, "ACK of guest FIN");
    assert_int_equal(s.ack, f.gseq + 1);
    assert_int_equal(host_recv(&f, buf, sizeof(buf)), 0);
    assert_int_equal(stat_of(f.c, "connections_open"), 0);
    assert_int_equal(stat_of(f.c, "connections_time_wait"), 1);
    /* a retransmitted FIN in TIME_WAIT is ACKed again */
    guest_send(f.c, f.port, f.gseq, f.gack + 1, 0x11, 65535, NULL, 0);
    s = wait_seg(f.c, "re-ACK in TIME_WAIT");
    assert_int_equal(s.ack, f.gseq + 1);
    fake_now += TCP_TIME_WAIT_MS + 1;
    tcp_timer(f.c, fake_now);
    assert_int_equal(tcp_connection_count(f.c), 0);
    close_fixture(&f);
}

static void test_tcp_new_syn_replaces_time_wait_entry(void **state)
{
    struct fixture f;
    struct seg s;
    int h2;

    open_conn(&f, 16384, 65536, 16384, 65536);
    shutdown(f.hfd, SHUT_WR);
    s = wait_seg(f.c, "FIN from host EOF");
    guest_send(f.c, f.port, f.gseq, f.gack + 1, 0x11, 65535, NULL, 0); /* ACK + FIN */
    s = wait_seg(f.c, "ACK of guest FIN");
    assert_int_equal(stat_of(f.c, "connections_time_wait"), 1);
    /* the guest reuses its port at once: a fresh connection, not a stale ACK */
    s = syn(f.c, f.port, 7);
    assert_int_equal(s.flags, 0x12);
    assert_int_equal(s.ack, G_ISN + 1);
    h2 = accept4(f.lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(h2 >= 0);
    assert_int_equal(stat_of(f.c, "connections_time_wait"), 0);
    assert_int_equal(stat_of(f.c, "connections_open"), 1);
    close(h2);
    close_fixture(&f);
}

static void test_tcp_guest_rst_resets_host(void **state)
{
    struct fixture f;
    uint8_t buf[4];

    open_conn(&f, 16384, 65536, 16384, 65536);
    guest_send(f.c, f.port, f.gseq, 0, 0x04, 0, NULL, 0);
    assert_int_equal(tcp_connection_count(f.c), 0);
    assert_int_equal(host_recv(&f, buf, sizeof(buf)), -1);
    assert_int_equal(errno, ECONNRESET);
    close_fixture(&f);
}

static void test_tcp_out_of_window_rst_is_ignored(void **state)
{
    struct fixture f;

    open_conn(&f, 16384, 65536, 16384, 65536);
    guest_send(f.c, f.port, f.gseq + 10000000, 0, 0x04, 0, NULL, 0);
    assert_int_equal(tcp_connection_count(f.c), 1);
    close_fixture(&f);
}

static void test_tcp_host_reset_gives_guest_rst(void **state)
{
    struct fixture f;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    struct seg s;

    open_conn(&f, 16384, 65536, 16384, 65536);
    setsockopt(f.hfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(f.hfd);
    f.hfd = -1;
    s = wait_seg(f.c, "RST after host reset");
    assert_int_equal(s.flags & 0x04, 0x04);
    assert_int_equal(tcp_connection_count(f.c), 0);
    close_fixture(&f);
}

static void test_tcp_out_of_order_segments_reassembled(void **state)
{
    struct fixture f;
    uint8_t buf[30];
    struct seg s;

    open_conn(&f, 16384, 65536, 16384, 65536);
    guest_send(f.c, f.port, f.gseq + 20, f.gack, 0x10, 65535, "CCCCCCCCCC", 10);
    s = wait_seg(f.c, "duplicate ACK for a hole");
    assert_int_equal(s.ack, f.gseq);
    guest_send(f.c, f.port, f.gseq + 10, f.gack, 0x10, 65535, "BBBBBBBBBB", 10);
    s = wait_seg(f.c, "second duplicate ACK");
    assert_int_equal(s.ack, f.gseq);
    /* the hole fills: all 30 bytes go to the host in order, one cumulative ACK */
    guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 65535, "AAAAAAAAAA", 10);
    s = wait_seg(f.c, "cumulative ACK");
    assert_int_equal(s.ack, f.gseq + 30);
    host_read_all(&f, buf, 30);
    assert_memory_equal(buf, "AAAAAAAAAABBBBBBBBBBCCCCCCCCCC", 30);
    assert_int_equal(stat_of(f.c, "out_of_order_segments"), 2);
    close_fixture(&f);
}

static void test_tcp_retransmits_on_timer_with_backoff(void **state)
{
    struct fixture f;
    struct seg s;

    open_conn(&f, 16384, 65536, 16384, 65536);
    assert_int_equal(send(f.hfd, "data", 4, 0), 4);
    s = wait_seg(f.c, "data to guest");
    assert_int_equal(s.seq, f.gack);
    /* not ACKed: nothing before the RTO, then the same bytes again */
    fake_now += TCP_RTO_INIT_MS - 1;
    tcp_timer(f.c, fake_now);
    assert_int_equal(f.c->rd, f.c->npk);
    fake_now += 2;
    tcp_timer(f.c, fake_now);
    s = wait_seg(f.c, "retransmission");
    assert_int_equal(s.seq, f.gack);
    assert_int_equal(s.len, 4);
    assert_memory_equal(s.data, "data", 4);
    /* backoff: the next one comes after twice the time */
    fake_now += TCP_RTO_INIT_MS + 1;
    tcp_timer(f.c, fake_now);
    assert_int_equal(f.c->rd, f.c->npk);
    fake_now += TCP_RTO_INIT_MS;
    tcp_timer(f.c, fake_now);
    s = wait_seg(f.c, "second retransmission");
    assert_int_equal(s.seq, f.gack);
    assert_int_equal(stat_of(f.c, "retransmits"), 2);
    /* an ACK stops it */
    guest_send(f.c, f.port, f.gseq, f.gack + 4, 0x10, 65535, NULL, 0);
    fake_now += TCP_RTO_MAX_MS;
    tcp_timer(f.c, fake_now);
    assert_int_equal(f.c->rd, f.c->npk);
    close_fixture(&f);
}

static void test_tcp_fast_retransmit_on_three_duplicate_acks(void **state)
{
    struct fixture f;
    uint8_t data[3000];
    struct seg s;

    memset(data, 'x', sizeof(data));
    open_conn(&f, 16384, 65536, 16384, 65536);
    /* a guest with a 1000-byte MSS would be simpler, but the SYN offered 65480: use window */
    assert_int_equal(send(f.hfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
    s = wait_seg(f.c, "data");
    pump(f.c);
    while (f.c->rd < f.c->npk)
        next_pkt(f.c);
    for (int i = 0; i < 3; i++)
        guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 65535, NULL, 0);
    s = wait_seg(f.c, "fast retransmission");
    assert_int_equal(s.seq, f.gack);
    assert_true(s.len > 0);
    assert_int_equal(stat_of(f.c, "fast_retransmits"), 1);
    close_fixture(&f);
}

static void test_tcp_respects_guest_window_and_probes_zero_window(void **state)
{
    struct fixture f;
    uint8_t data[5000];
    struct seg s;
    size_t got = 0;

    memset(data, 'w', sizeof(data));
    open_conn(&f, 16384, 65536, 16384, 65536);
    /* window 1000 << 7 = 128000 is plenty; shrink it to 0 before the host talks */
    guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 0, NULL, 0);
    assert_int_equal(send(f.hfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
    pump(f.c);
    assert_int_equal(f.c->rd, f.c->npk); /* nothing may be sent into a zero window */
    fake_now += TCP_RTO_INIT_MS + 1;
    tcp_timer(f.c, fake_now);
    s = wait_seg(f.c, "zero-window probe");
    assert_int_equal(s.seq, f.gack - 1);
    assert_int_equal(s.len, 0);
    assert_int_equal(stat_of(f.c, "window_probes"), 1);
    /* the guest opens 2048 bytes (16 << 7): exactly that much comes */
    guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 16, NULL, 0);
    while (f.c->rd < f.c->npk) {
        s = parse(next_pkt(f.c));
        got += s.len;
    }
    assert_int_equal(got, 16 << 7);
    close_fixture(&f);
}

static void test_tcp_tx_ring_grows_while_host_has_data_and_stops_at_max(void **state)
{
    struct fixture f;
    static uint8_t data[1 << 20];
    size_t sent = 0, got = 0;
    uint64_t end = real_ms() + 10000;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13);
    open_conn(&f, 4096, 65536, 4096, 65536);
    fcntl(f.hfd, F_SETFL, O_NONBLOCK);
    /* the guest reads everything at once, with a large window */
    while (got < sizeof(data)) {
        ssize_t n = 0;
        struct seg s;

        if (real_ms() > end)
            fail_msg("bulk host->guest stalled at %zu bytes", got);
        if (sent < sizeof(data)) {
            n = send(f.hfd, data + sent, sizeof(data) - sent, 0);
            if (n > 0)
                sent += (size_t)n;
        }
        dispatch(f.c, 5);
        while (f.c->rd < f.c->npk) {
            s = parse(next_pkt(f.c));
            if (!s.len)
                continue;
            assert_int_equal(s.seq, f.gack);
            assert_memory_equal(s.data, data + got, s.len);
            got += s.len;
            f.gack += (uint32_t)s.len;
        }
        guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 65535, NULL, 0);
    }
    assert_true(stat_of(f.c, "tx_buffer_grows") > 0);
    assert_int_equal(stat_of(f.c, "tx_buffer_grows"), 4); /* 4K -> 64K */
    assert_int_equal(stat_of(f.c, "tx_buffer_peak"), 65536);
    close_fixture(&f);
}

static void test_tcp_rx_ring_grows_after_high_water_and_drain_and_stops_at_max(void **state)
{
    struct fixture f;
    static uint8_t data[1 << 16];
    static uint8_t back[1 << 16];
    uint32_t cap = 4096;
    struct seg s;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    open_conn(&f, 4096, 65536, 4096, 65536);
    assert_int_equal(f.ws, tcp_rx_wscale(65536));
    for (int round = 0; round < 6; round++) {
        uint32_t n = cap / 4 * 3; /* exactly the high-water mark */
        uint32_t wnd;

        guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 65535, data, n);
        f.gseq += n;
        /* the batch wrote everything to the host: the ring drained and doubled, and the ACK
         * that went out already offers the larger window */
        s = wait_seg(f.c, "ACK with the grown window");
        assert_int_equal(s.ack, f.gseq);
        wnd = (uint32_t)s.win << f.ws;
        cap = cap * 2 > 65536 ? 65536 : cap * 2;
        assert_int_equal(wnd, cap);
        host_read_all(&f, back, n);
        assert_memory_equal(back, data, n);
    }
    assert_int_equal(stat_of(f.c, "rx_buffer_grows"), 4); /* 4K -> 64K, then no more */
    assert_int_equal(stat_of(f.c, "rx_buffer_peak"), 65536);
    close_fixture(&f);
}

static void test_tcp_rx_without_guest_window_scale_caps_at_65535(void **state)
{
    struct consomme *c = stack_new(65536, 4u << 20, 16384, 65536, 64);
    uint16_t port;
    int lfd = listener(&port), hfd;
    struct seg s = syn(c, port, -1);
    uint32_t iss = s.seq;
    static uint8_t big[49152];

    assert_int_equal(s.ws, -1);
    assert_int_equal(s.win, 65535);
    hfd = accept4(lfd, NULL, NULL, 0);
    guest_send(c, port, G_ISN + 1, iss + 1, 0x10, 65535, NULL, 0);
    /* 75% of the 64 KiB ring, drained at once: it would grow, but 64 KiB is the cap */
    guest_send(c, port, G_ISN + 1, iss + 1, 0x10, 65535, big, sizeof(big));
    s = wait_seg(c, "ACK of 48 KiB");
    assert_int_equal(s.ack, G_ISN + 1 + sizeof(big));
    assert_int_equal(s.win, 65535);
    assert_int_equal(stat_of(c, "rx_buffer_grows"), 0);
    close(hfd);
    close(lfd);
    stack_free(c);
}

static void test_tcp_unanswered_connect_times_out_silently(void **state)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct consomme *c = stack_new(16384, 65536, 16384, 65536, 64);
    uint16_t port;
    int lfd = listener(&port), fill[4];

    /* a listener whose accept queue is full drops SYNs: the connect stays in progress */
    listen(lfd, 0);
    sa.sin_port = htons(port);
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    guest_send_opts(c, GPORT, port, G_ISN, 0, 0x02, 65535, NULL, 0, NULL, 0);
    tcp_input_flush(c);
    pump(c);
    if (c->npk != c->rd)
        TEST_SKIP("the kernel answered the connect after all (its queue accounting differs): "
                  "no unanswered connect to time out");
    assert_int_equal(tcp_connection_count(c), 1);
    fake_now += TCP_CONNECT_TIMEOUT_MS + 1;
    tcp_timer(c, fake_now);
    assert_int_equal(tcp_connection_count(c), 0);
    assert_int_equal(c->npk, c->rd); /* no answer to the guest, ever */
    assert_int_equal(stat_of(c, "connect_timeouts"), 1);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
    stack_free(c);
}

static void test_tcp_malformed_segments_dropped_and_counted(void **state)
{
    struct consomme *c = stack_new(16384, 65536, 16384, 65536, 64);
    struct cm_ipv4 ip = {.src = GUEST_IP, .dst = GW_IP, .proto = IPPROTO_TCP};
    uint8_t b[40] = {0};

    tcp_input(c, &ip, b, 10); /* shorter than a header */
    b[12] = 0xf0;             /* data offset 60 > 40 */
    tcp_input(c, &ip, b, sizeof(b));
    b[12] = 0x40; /* data offset 16 < 20 */
    tcp_input(c, &ip, b, sizeof(b));
    b[12] = 0x50;
    b[13] = 0x02;
    b[16] = 0x12; /* checksum surely wrong */
    tcp_input(c, &ip, b, sizeof(b));
    tcp_input_flush(c);
    assert_int_equal(c->npk, 0);
    assert_int_equal(tcp_connection_count(c), 0);
    assert_int_equal(stat_of(c, "short"), 1);
    assert_int_equal(stat_of(c, "data_offset"), 2);
    assert_int_equal(stat_of(c, "checksum"), 1);
    /* random garbage with a right checksum never crashes and never opens anything odd */
    srand(1);
    for (int i = 0; i < 20000; i++) {
        uint8_t g[80];
        size_t len = 20 + (size_t)(rand() % 60);
        uint16_t ck;

        for (size_t k = 0; k < len; k++)
            g[k] = (uint8_t)rand();
        g[13] &= (uint8_t)~0x02; /* no SYNs: they would start real host connects */
        g[16] = g[17] = 0;
        ck = csum_fold(csum_partial(g, len, csum_pseudo_ipv4(ip.src, ip.dst, 6, (uint16_t)len)));
        g[16] = (uint8_t)(ck >> 8), g[17] = (uint8_t)ck;
        tcp_input(c, &ip, g, len);
        if (c->npk > 4000)
            drain(c);
    }
    tcp_input_flush(c);
    assert_int_equal(tcp_connection_count(c), 0);
    stack_free(c);
}

static void test_tcp_random_segments_on_a_live_connection_never_crash(void **state)
{
    struct fixture f;
    uint8_t data[200];

    open_conn(&f, 4096, 65536, 4096, 65536);
    fcntl(f.hfd, F_SETFL, O_NONBLOCK);
    srand(2);
    for (int i = 0; i < 20000; i++) {
        uint32_t seq = f.gseq + (uint32_t)(rand() % 140000) - 70000;
        uint32_t ack = f.gack + (uint32_t)(rand() % 140000) - 70000;
        uint8_t fl = (uint8_t)(rand() & 0x3d); /* anything but SYN */
        size_t len = (size_t)(rand() % 200);

        if (i % 3 == 0) /* often exactly in sequence, so data and FINs get through */
            seq = f.gseq, ack = f.gack;
        if (fl & 0x04 && rand() % 8)
            fl &= (uint8_t)~0x04; /* fewer resets, so the connection lives longer */
        for (size_t k = 0; k < len; k++)
            data[k] = (uint8_t)rand();
        guest_send_opts(f.c, GPORT, f.port, seq, ack, fl, (uint16_t)rand(), NULL, 0, data, len);
        if (i % 8 == 0) {
            tcp_input_flush(f.c);
            pump(f.c);
            while (recv(f.hfd, data, sizeof(data), 0) > 0)
                ;
            if (i % 64 == 0) {
                fake_now += 300;
                tcp_timer(f.c, fake_now);
            }
        }
        if (f.c->npk > 4000)
            drain(f.c);
    }
    tcp_input_flush(f.c);
    close_fixture(&f);
}

static void test_tcp_guest_queue_full_resumes_when_writable(void **state)
{
    struct fixture f;
    struct seg s;

    open_conn(&f, 16384, 65536, 16384, 65536);
    f.c->nobufs = true;
    assert_int_equal(send(f.hfd, "queued", 6, 0), 6);
    pump(f.c);
    assert_int_equal(f.c->rd, f.c->npk);
    f.c->nobufs = false;
    tcp_guest_writable(f.c);
    s = wait_seg(f.c, "data after the queue drained");
    assert_int_equal(s.len, 6);
    assert_memory_equal(s.data, "queued", 6);
    close_fixture(&f);
}

/*
 * @len bytes from the host socket to a guest that ACKs everything at once (window 65535 << 7):
 * each data segment is checked against the guest's MSS of 1460 and the super-frame rules, and
 * the bytes must arrive whole and in order. Return: super-frames seen.
 */
static unsigned host_to_guest_1460(struct fixture *f, size_t len)
{
    uint8_t *out = malloc(len), *in = malloc(len);
    uint32_t most = cm_guest_tso_max(f->c, 1460);
    size_t sent = 0, got = 0;
    uint64_t end = real_ms() + 10000;
    unsigned supers = 0;

    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 31 + (i >> 9));
    fcntl(f->hfd, F_SETFL, O_NONBLOCK);
    while (got < len) {
        const struct pkt *p;
        ssize_t k = sent < len ? send(f->hfd, out + sent, len - sent, MSG_DONTWAIT) : 0;

        if (k > 0)
            sent += (size_t)k;
        dispatch(f->c, 20);
        while ((p = next_pkt(f->c))) {
            struct seg s = parse(p);

            if (!s.len)
                continue;
            assert_int_equal(s.seq, f->gack);
            assert_true(s.len <= most);
            if (s.len > 1460) {
                /* cut by the guest at its MSS; whole segments unless it is all there was */
                assert_int_equal(s.tso_mss, 1460);
                assert_true(s.len % 1460 == 0 || (s.flags & 0x08));
                supers++;
            } else {
                assert_int_equal(s.tso_mss, 0);
            }
            memcpy(in + got, s.data, s.len);
            got += s.len;
            f->gack += (uint32_t)s.len;
        }
        drain(f->c);
        guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 65535, NULL, 0);
        if (real_ms() > end)
            fail_msg("%zu of %zu bytes reached the guest in 10 s", got, len);
    }
    assert_memory_equal(in, out, len);
    free(out);
    free(in);
    return supers;
}

static void test_tcp_super_frames_of_whole_mss_segments_where_the_transport_takes_them(void **state)
{
    struct fixture f;

    /* the transport takes 65520-byte packets: 44 segments of 1460 = 64240 bytes at most */
    open_conn_mss(&f, 16384, 4u << 20, 16384, 4u << 20, 1460, 65520);
    assert_int_equal(cm_guest_tso_max(f.c, 1460), 44 * 1460);
    assert_true(host_to_guest_1460(&f, 1u << 20) > 0);
    close_fixture(&f);
}

static void test_tcp_segments_stay_within_the_mss_without_guest_segmentation(void **state)
{
    struct fixture f;

    open_conn_mss(&f, 16384, 4u << 20, 16384, 4u << 20, 1460, 0);
    assert_int_equal(cm_guest_tso_max(f.c, 1460), 1460);
    assert_int_equal(host_to_guest_1460(&f, 256u << 10), 0);
    close_fixture(&f);
}

static void test_tcp_syn_ack_retransmitted_until_guest_acks(void **state)
{
    struct consomme *c = stack_new(16384, 65536, 16384, 65536, 64);
    uint16_t port;
    int lfd = listener(&port);
    struct seg s = syn(c, port, 7), again;

    /* the guest never saw it: on the timer, the same SYN-ACK again */
    fake_now += TCP_RTO_INIT_MS + 1;
    tcp_timer(c, fake_now);
    again = wait_seg(c, "retransmitted SYN-ACK");
    assert_int_equal(again.flags, 0x12);
    assert_int_equal(again.seq, s.seq);
    /* a retransmitted SYN from the guest gets it too */
    guest_send_opts(c, GPORT, port, G_ISN, 0, 0x02, 65535, NULL, 0, NULL, 0);
    tcp_input_flush(c);
    again = wait_seg(c, "SYN-ACK for a repeated SYN");
    assert_int_equal(again.flags, 0x12);
    assert_int_equal(again.ack, G_ISN + 1);
    guest_send(c, port, G_ISN + 1, s.seq + 1, 0x10, 65535, NULL, 0);
    assert_int_equal(stat_of(c, "connections_open"), 1);
    close(lfd);
    stack_free(c);
}

static void test_tcp_gives_up_after_max_retries_with_resets(void **state)
{
    struct fixture f;
    uint8_t buf[4];
    struct seg s;
    unsigned i;

    open_conn(&f, 16384, 65536, 16384, 65536);
    assert_int_equal(send(f.hfd, "lost", 4, 0), 4);
    wait_seg(f.c, "data");
    for (i = 0; i < TCP_MAX_RETRIES; i++) {
        fake_now += TCP_RTO_MAX_MS + 1;
        tcp_timer(f.c, fake_now);
        s = wait_seg(f.c, "retransmission");
        assert_int_equal(s.seq, f.gack);
    }
    fake_now += TCP_RTO_MAX_MS + 1;
    tcp_timer(f.c, fake_now);
    s = wait_seg(f.c, "RST after the last retry");
    assert_int_equal(s.flags & 0x04, 0x04);
    assert_int_equal(tcp_connection_count(f.c), 0);
    assert_int_equal(host_recv(&f, buf, sizeof(buf)), -1);
    assert_int_equal(errno, ECONNRESET);
    close_fixture(&f);
}

static void test_tcp_data_beyond_window_trimmed_not_delivered(void **state)
{
    struct fixture f;
    static uint8_t data[8192], back[8192];
    struct seg s;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 3);
    open_conn(&f, 4096, 4096, 16384, 16384); /* a fixed 4 KiB window */
    /* more than the window in one segment: only the first 4096 bytes may be taken */
    guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 65535, data, sizeof(data));
    s = wait_seg(f.c, "ACK of the part within the window");
    assert_int_equal(s.ack, f.gseq + 4096);
    assert_true(stat_of(f.c, "out_of_window") >= 1);
    host_read_all(&f, back, 4096);
    assert_memory_equal(back, data, 4096);
    /* the rest, resent, is taken now */
    guest_send(f.c, f.port, f.gseq + 4096, f.gack, 0x10, 65535, data + 4096, 4096);
    s = wait_seg(f.c, "ACK of the rest");
    assert_int_equal(s.ack, f.gseq + 8192);
    host_read_all(&f, back, 4096);
    assert_memory_equal(back, data + 4096, 4096);
    close_fixture(&f);
}

static void test_tcp_large_segments_stay_in_order_when_host_socket_lags(void **state)
{
    enum { TOTAL = 12 << 20, SEG = 20000 };
    static uint8_t data[TOTAL], back[TOTAL];
    struct fixture f;
    uint32_t sent = 0, got = 0, wnd;
    uint64_t end = real_ms() + 20000;
    int small = 65536;
    struct seg s;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 31 + (i >> 13));
    open_conn(&f, 65536, 65536, 16384, 16384);
    /* a slow reader: its small buffer makes consomme's sends partial, so segments go partly
     * straight to the host and partly through the ring */
    setsockopt(f.hfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    fcntl(f.hfd, F_SETFL, O_NONBLOCK);
    wnd = 65535u << f.ws > 65536 ? 65536 : 65535u << f.ws;
    while (got < TOTAL) {
        if (real_ms() > end)
            fail_msg("stalled: %u sent, %u read", sent, got);
        if (sent < TOTAL && wnd >= SEG) {
            uint32_t n = TOTAL - sent < SEG ? TOTAL - sent : SEG;

            guest_send(f.c, f.port, f.gseq + sent, f.gack, 0x10, 65535, data + sent, n);
            sent += n;
        }
        pump(f.c);
        while (f.c->rd < f.c->npk) {
            s = parse(next_pkt(f.c));
            assert_true(s.ack - f.gseq <= sent);
            wnd = ((uint32_t)s.win << f.ws) - (sent - (s.ack - f.gseq));
            if ((int32_t)wnd < 0)
                wnd = 0;
        }
        if (wnd < SEG || sent == TOTAL) {
            ssize_t n = recv(f.hfd, back + got, TOTAL - got, 0);

            if (n > 0)
                got += (uint32_t)n;
            else
                dispatch(f.c, 5);
        }
    }
    assert_memory_equal(back, data, TOTAL);
    close_fixture(&f);
}

/*
 * The guest's FIN arrives while rx still holds data for a slow host: draining it later must
 * send the guest nothing. A window update then would reach a guest whose socket may be gone
 * (LAST_ACK done), and its RST would cut the host off from the rest (seen as "Connection
 * reset by peer" at the end of an echo transfer through vhost-user).
 */
static void test_tcp_no_window_update_after_guest_fin(void **state)
{
    enum { SEG = 60000, MAX = 16 << 20 };
    static uint8_t data[MAX], back[MAX];
    int small = 262144; /* well above an MSS: a tiny one would stall on silly-window avoidance */
    uint32_t sent = 0, wnd = 65536;
    struct fixture f;
    struct seg s;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13 + (i >> 11));
    open_conn(&f, 65536, 65536, 16384, 16384);
    setsockopt(f.hfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    /* fill the kernel's buffers and then some of rx: the ACKs' window shrinks below half the
     * ring (segments as large as the window allows, so the loop is short) */
    while (wnd >= 65536 / 2) {
        uint32_t n = wnd < SEG ? wnd : SEG;

        assert_true(sent + n <= MAX);
        guest_send(f.c, f.port, f.gseq + sent, f.gack, 0x10, 65535, data + sent, n);
        sent += n;
        s = wait_seg(f.c, "ACK of data");
        assert_int_equal(s.ack, f.gseq + sent);
        wnd = (uint32_t)s.win << f.ws;
        drain(f.c);
    }
    guest_send(f.c, f.port, f.gseq + sent, f.gack, 0x11, 65535, NULL, 0); /* FIN */
    s = wait_seg(f.c, "ACK of the FIN");
    assert_int_equal(s.ack, f.gseq + sent + 1);
    drain(f.c);
    /* the host reads everything, then EOF: rx drained and the host's side shut */
    host_read_all(&f, back, sent);
    assert_memory_equal(back, data, sent);
    assert_int_equal(host_recv(&f, back, 1), 0);
    pump(f.c);
    if (f.c->rd < f.c->npk)
        fail_msg("a segment went to the guest after its FIN, once rx drained (flags %#x)",
                 parse(next_pkt(f.c)).flags);
    close_fixture(&f);
}

static void test_tcp_queue_room_is_shared_round_robin(void **state)
{
    struct fixture f;
    static uint8_t data[200000];
    struct seg s;
    uint32_t iss2;
    int h2;
    unsigned from1 = 0, from2 = 0;

    memset(data, 'r', sizeof(data));
    open_conn(&f, 16384, 262144, 16384, 262144);
    /* a second connection from another guest port */
    guest_send_opts(f.c, GPORT + 7, f.port, G_ISN, 0, 0x02, 65535,
                    (const uint8_t[]){2, 4, 0x05, 0xb4, 1, 3, 3, 7}, 8, NULL, 0);
    tcp_input_flush(f.c);
    s = wait_seg(f.c, "second SYN-ACK");
    iss2 = s.seq;
    h2 = accept4(f.lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(h2 >= 0);
    guest_send_opts(f.c, GPORT + 7, f.port, G_ISN + 1, iss2 + 1, 0x10, 65535, NULL, 0, NULL, 0);
    tcp_input_flush(f.c);
    /* both have far more to send than the queue takes */
    f.c->nobufs = true;
    assert_int_equal(send(f.hfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
    assert_int_equal(send(h2, data, sizeof(data), 0), (ssize_t)sizeof(data));
    pump(f.c);
    f.c->rd = f.c->npk;
    /* the queue takes two segments at a time: both connections must get turns */
    for (int i = 0; i < 6; i++) {
        f.c->nobufs = false;
        f.c->budget = 2;
        tcp_guest_writable(f.c);
        while (f.c->rd < f.c->npk) {
            const struct pkt *p = next_pkt(f.c);

            if (parse(p).len)
                *(g16(p->b + 2) == GPORT ? &from1 : &from2) += 1;
        }
    }
    f.c->budget = 0;
    f.c->nobufs = false;
    assert_true(from1 >= 2);
    assert_true(from2 >= 2);
    close(h2);
    close_fixture(&f);
}

/* ------------------------------------------------------------------ memory budget */

/* A SYN from guest port @gport with window scale 7; returns the answer (SYN-ACK or RST). */
static struct seg syn_from(struct consomme *c, uint16_t gport, uint16_t port)
{
    uint8_t opts[8] = {2, 4, 0xff, 0xc8, 1, 3, 3, 7};

    guest_send_opts(c, gport, port, G_ISN, 0, 0x02, 65535, opts, sizeof(opts), NULL, 0);
    tcp_input_flush(c);
    return wait_seg(c, "answer to a SYN");
}

static void test_tcp_ring_growth_stops_at_the_memory_budget(void **state)
{
    struct fixture f;
    static uint8_t data[256 << 10];
    size_t sent = 0, got = 0;
    uint64_t end = real_ms() + 10000;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    /* rx fixed at 4K, tx 4K growing up to 1M. Rings grow within 3/4 of the 28K budget, 21K:
     * tx 4K -> 8K -> 16K (4K + 16K = 20K), not to 32K */
    open_conn(&f, 4096, 4096, 4096, 1u << 20);
    f.c->cfg.max_buffer_memory = 28672;
    fcntl(f.hfd, F_SETFL, O_NONBLOCK);
    while (got < sizeof(data)) {
        ssize_t n;

        if (real_ms() > end)
            fail_msg("bulk host->guest stalled at %zu bytes", got);
        if (sent < sizeof(data)) {
            n = send(f.hfd, data + sent, sizeof(data) - sent, 0);
            if (n > 0)
                sent += (size_t)n;
        }
        dispatch(f.c, 5);
        while (f.c->rd < f.c->npk) {
            struct seg s = parse(next_pkt(f.c));

            if (!s.len)
                continue;
            assert_int_equal(s.seq, f.gack);
            assert_memory_equal(s.data, data + got, s.len);
            got += s.len;
            f.gack += (uint32_t)s.len;
        }
        guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 65535, NULL, 0);
    }
    /* every byte arrived, in order, through a ring that stopped growing at the budget */
    assert_int_equal(stat_of(f.c, "tx_buffer_peak"), 16384);
    assert_int_equal(stat_of(f.c, "tx_buffer_grows"), 2);
    assert_true(stat_of(f.c, "buffer_grows_refused") >= 1);
    assert_int_equal(stat_of(f.c, "buffer_bytes"), 4096 + 16384);
    assert_int_equal(stat_of(f.c, "buffer_bytes_peak"), 4096 + 16384);
    assert_int_equal(stat_of(f.c, "connection_buffer_peak"), 4096 + 16384);
    assert_int_equal(stat_of(f.c, "max_buffer_memory"), 28672);

    /* the quarter growth may not take is there for a new connection's initial 8K rings */
    assert_int_equal(syn_from(f.c, GPORT + 1, f.port).flags, 0x12);
    assert_int_equal(stat_of(f.c, "buffer_bytes"), 28672);
    assert_int_equal(stat_of(f.c, "refused_memory"), 0);
    /* per connection: the small one is listed after the one that grew */
    {
        json_t *t = stats(f.c), *top = json_object_get(t, "connections_by_memory");
        json_t *big = json_array_get(top, 0), *small = json_array_get(top, 1);
        char dst[32];

        snprintf(dst, sizeof(dst), "10.0.2.2:%u", f.port);
        assert_int_equal(json_array_size(top), 2);
        assert_int_equal(json_integer_value(json_object_get(big, "guest_port")), GPORT);
        assert_string_equal(json_string_value(json_object_get(big, "destination")), dst);
        assert_string_equal(json_string_value(json_object_get(big, "state")), "established");
        assert_int_equal(json_integer_value(json_object_get(big, "rx_buffer")), 4096);
        assert_int_equal(json_integer_value(json_object_get(big, "tx_buffer")), 16384);
        assert_int_equal(json_integer_value(json_object_get(big, "buffer_peak")), 20480);
        assert_int_equal(json_integer_value(json_object_get(small, "guest_port")), GPORT + 1);
        assert_string_equal(json_string_value(json_object_get(small, "state")), "syn_rcvd");
        assert_int_equal(json_integer_value(json_object_get(small, "buffer_peak")), 8192);
        json_decref(t);
    }
    close_fixture(&f);
}

static void test_tcp_syn_past_the_budget_gets_rst_until_a_close_frees_it(void **state)
{
    struct consomme *c = stack_new(4096, 4096, 4096, 4096, 64);
    uint16_t port;
    int lfd = listener(&port), h1, h2;
    struct seg s;

    fcntl(lfd, F_SETFL, O_NONBLOCK);
    c->cfg.max_buffer_memory = 8192; /* one connection's two 4K rings */
    s = syn_from(c, GPORT, port);
    assert_int_equal(s.flags, 0x12);
    h1 = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(h1 >= 0);
    assert_int_equal(stat_of(c, "buffer_bytes"), 8192);

    /* a second connection would pass the budget: RST at once, never connected */
    s = syn_from(c, GPORT + 1, port);
    assert_int_equal(s.flags, 0x14);
    assert_int_equal(s.ack, G_ISN + 1);
    assert_int_equal(stat_of(c, "refused_memory"), 1);
    assert_int_equal(tcp_connection_count(c), 1);
    assert_int_equal(accept4(lfd, NULL, NULL, SOCK_CLOEXEC), -1);
    assert_int_equal(errno, EAGAIN);

    /* the first one ends (the guest resets it in SYN_RCVD): its rings go back to the budget */
    guest_send(c, port, G_ISN + 1, 0, 0x04, 0, NULL, 0);
    assert_int_equal(tcp_connection_count(c), 0);
    assert_int_equal(stat_of(c, "buffer_bytes"), 0);
    s = syn_from(c, GPORT + 2, port);
    assert_int_equal(s.flags, 0x12);
    assert_int_equal(stat_of(c, "refused_memory"), 1);
    h2 = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(h2 >= 0);
    close(h2);
    close(h1);
    close(lfd);
    stack_free(c);
}

/* Host data waits behind a guest window of 0 from @f's last ACK on; returns when it began. */
static uint64_t zero_window_with_data(struct fixture *f)
{
    uint8_t data[5000];

    memset(data, 'z', sizeof(data));
    guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 0, NULL, 0);
    assert_int_equal(send(f->hfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
    pump(f->c);
    assert_int_equal(f->c->rd, f->c->npk);
    return fake_now;
}

/* Timer ticks up to @until, the guest answering each probe with its window still 0. */
static unsigned probe_until(struct fixture *f, uint64_t until)
{
    unsigned probes = 0;

    while (fake_now < until) {
        fake_now = fake_now + 20000 < until ? fake_now + 20000 : until;
        tcp_timer(f->c, fake_now);
        while (f->c->rd < f->c->npk) {
            struct seg s = parse(next_pkt(f->c));

            assert_int_equal(s.flags & 0x04, 0); /* no reset before the deadline */
            assert_int_equal(s.seq, f->gack - 1);
            probes++;
            guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 0, NULL, 0);
        }
    }
    return probes;
}

static void test_tcp_zero_window_deadline_aborts_and_probing_stops(void **state)
{
    struct fixture f;
    uint8_t buf[8];
    uint64_t t0;
    struct seg s;

    open_conn(&f, 16384, 65536, 16384, 65536);
    t0 = zero_window_with_data(&f);
    assert_true(probe_until(&f, t0 + TCP_ZERO_WINDOW_TIMEOUT_MS - 1) >= 10);
    assert_int_equal(tcp_connection_count(f.c), 1);
    assert_int_equal(stat_of(f.c, "zero_window_aborts"), 0);

    fake_now = t0 + TCP_ZERO_WINDOW_TIMEOUT_MS;
    tcp_timer(f.c, fake_now);
    s = wait_seg(f.c, "RST at the zero-window deadline");
    assert_int_equal(s.flags & 0x04, 0x04);
    assert_int_equal(s.seq, f.gack);
    assert_int_equal(stat_of(f.c, "zero_window_aborts"), 1);
    assert_int_equal(stat_of(f.c, "buffer_bytes"), 0);
    assert_int_equal(host_recv(&f, buf, sizeof(buf)), -1); /* the host peer is reset too */
    assert_int_equal(errno, ECONNRESET);
    /* and nothing more: no probes after the abort */
    for (int i = 0; i < 10; i++) {
        fake_now += TCP_RTO_MAX_MS;
        tcp_timer(f.c, fake_now);
    }
    assert_int_equal(f.c->rd, f.c->npk);
    assert_int_equal(tcp_connection_count(f.c), 0);
    close_fixture(&f);
}

static void test_tcp_zero_window_deadline_restarts_when_the_window_opens(void **state)
{
    struct fixture f;
    uint64_t t0, t1;
    size_t got = 0;

    open_conn(&f, 16384, 65536, 16384, 65536);
    t0 = zero_window_with_data(&f);
    probe_until(&f, t0 + TCP_ZERO_WINDOW_TIMEOUT_MS / 2);
    /* the guest reads a little (window 16 << 7 = 2048), then closes its window again */
    guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 16, NULL, 0);
    while (f.c->rd < f.c->npk)
        got += parse(next_pkt(f.c)).len;
    assert_int_equal(got, 2048);
    f.gack += (uint32_t)got;
    guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 0, NULL, 0);
    t1 = fake_now;
    /* past the first deadline, still alive: it counts from the second zero window */
    probe_until(&f, t0 + TCP_ZERO_WINDOW_TIMEOUT_MS + 1000);
    assert_int_equal(tcp_connection_count(f.c), 1);
    assert_int_equal(stat_of(f.c, "zero_window_aborts"), 0);
    fake_now = t1 + TCP_ZERO_WINDOW_TIMEOUT_MS;
    tcp_timer(f.c, fake_now);
    assert_int_equal(wait_seg(f.c, "RST at the second deadline").flags & 0x04, 0x04);
    assert_int_equal(stat_of(f.c, "zero_window_aborts"), 1);
    close_fixture(&f);
}

/* ------------------------------------------------------------------ handshake corner cases */

/*
 * A connection stuck in CONNECTING: the listener's accept queue is full, so the kernel drops
 * consomme's SYN and its connect() stays in progress. Returns false (and cleans up) where the
 * kernel answers anyway.
 */
static bool connecting_conn(struct consomme *c, int *lfd, int fill[4], uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    *lfd = listener(port);
    listen(*lfd, 0);
    sa.sin_port = htons(*port);
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    guest_send_opts(c, GPORT, *port, G_ISN, 0, 0x02, 65535, NULL, 0, NULL, 0);
    tcp_input_flush(c);
    pump(c);
    return c->npk == c->rd && tcp_connection_count(c) == 1;
}

static void test_tcp_fin_then_rst_in_connecting(void **state)
{
    struct consomme *c = stack_new(16384, 65536, 16384, 65536, 64);
    int lfd, fill[4];
    uint16_t port;
    bool ok = connecting_conn(c, &lfd, fill, &port);

    if (ok) {
        /* a FIN before any SYN-ACK acknowledges nothing: ignored, no answer */
        guest_send(c, port, G_ISN + 1, 0, 0x01, 65535, NULL, 0);
        pump(c);
        assert_int_equal(c->npk, c->rd);
        assert_int_equal(tcp_connection_count(c), 1);
        /* a RST gives the connection up, silently: the guest has nothing to hear */
        guest_send(c, port, G_ISN + 1, 0, 0x04, 0, NULL, 0);
        assert_int_equal(tcp_connection_count(c), 0);
        assert_int_equal(stat_of(c, "rst_from_guest"), 1);
        assert_int_equal(stat_of(c, "buffer_bytes_reserved"), 0);
        assert_int_equal(c->npk, c->rd);
    }
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
    stack_free(c);
    if (!ok)
        TEST_SKIP("the kernel answered the connect after all: no CONNECTING state to test");
}

/* SYN answered, host connection accepted, the guest's ACK not sent yet: SYN_RCVD. */
static void syn_rcvd(struct fixture *f)
{
    struct seg s;

    memset(f, 0, sizeof(*f));
    f->c = stack_new(16384, 65536, 16384, 65536, 64);
    f->lfd = listener(&f->port);
    s = syn(f->c, f->port, 7);
    assert_int_equal(s.flags, 0x12);
    f->iss = s.seq;
    f->hfd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(f->hfd >= 0);
    f->gseq = G_ISN + 1;
    f->gack = f->iss + 1;
}

static void test_tcp_rst_in_syn_rcvd_needs_the_exact_sequence(void **state)
{
    struct fixture f;
    uint8_t buf[4];

    syn_rcvd(&f);
    /* anywhere but rcv_nxt: a blind reset, ignored */
    guest_send(f.c, f.port, f.gseq + 1, 0, 0x04, 0, NULL, 0);
    assert_int_equal(tcp_connection_count(f.c), 1);
    guest_send(f.c, f.port, f.gseq, 0, 0x04, 0, NULL, 0);
    assert_int_equal(tcp_connection_count(f.c), 0);
    assert_int_equal(stat_of(f.c, "rst_from_guest"), 1);
    assert_int_equal(host_recv(&f, buf, sizeof(buf)), -1);
    assert_int_equal(errno, ECONNRESET);
    close_fixture(&f);
}

static void test_tcp_fin_in_syn_rcvd(void **state)
{
    struct fixture f;
    uint8_t buf[4];
    struct seg s;

    syn_rcvd(&f);
    /* without ACK it cannot complete the handshake: ignored */
    guest_send(f.c, f.port, f.gseq, 0, 0x01, 65535, NULL, 0);
    assert_int_equal(f.c->rd, f.c->npk);
    assert_int_equal(stat_of(f.c, "bytes_from_guest"), 0);
    /* FIN+ACK completes it and closes the guest's side at once: ACKed, the host sees EOF */
    guest_send(f.c, f.port, f.gseq, f.gack, 0x11, 65535, NULL, 0);
    s = wait_seg(f.c, "ACK of the FIN");
    assert_int_equal(s.flags & 0x10, 0x10);
    assert_int_equal(s.ack, f.gseq + 1);
    assert_int_equal(host_recv(&f, buf, sizeof(buf)), 0);
    assert_int_equal(stat_of(f.c, "connections_open"), 1); /* the host may still answer */
    close_fixture(&f);
}

static void test_tcp_bad_ack_in_syn_rcvd_gets_rst_and_leaves_it_open(void **state)
{
    struct fixture f;
    uint8_t buf[8];
    struct seg s;

    syn_rcvd(&f);
    /* RFC 9293 3.10.7.4: an unacceptable ACK in SYN-RECEIVED gets <SEQ=SEG.ACK><CTL=RST> */
    guest_send(f.c, f.port, f.gseq, f.iss + 77, 0x10, 65535, NULL, 0);
    s = wait_seg(f.c, "RST for a bad ACK");
    assert_int_equal(s.flags, 0x04);
    assert_int_equal(s.seq, f.iss + 77);
    assert_int_equal(stat_of(f.c, "bad_ack"), 1);
    assert_int_equal(tcp_connection_count(f.c), 1);
    /* the right ACK still completes the handshake */
    guest_send(f.c, f.port, f.gseq, f.gack, 0x18, 65535, "ok", 2);
    s = wait_seg(f.c, "ACK of data after the handshake");
    assert_int_equal(s.ack, f.gseq + 2);
    host_read_all(&f, buf, 2);
    assert_memory_equal(buf, "ok", 2);
    close_fixture(&f);
}

/* ------------------------------------------------------------------ reassembly, own window */

static void test_tcp_fin_beyond_a_hole_waits_for_the_hole(void **state)
{
    struct fixture f;
    uint8_t buf[16];
    struct pollfd p;
    struct seg s;

    open_conn(&f, 16384, 65536, 16384, 65536);
    guest_send(f.c, f.port, f.gseq + 5, f.gack, 0x19, 65535, "BBBBB", 5); /* data + FIN */
    s = wait_seg(f.c, "duplicate ACK for the hole");
    assert_int_equal(s.ack, f.gseq); /* neither the data nor the FIN is acknowledged */
    pump(f.c);
    p = (struct pollfd){.fd = f.hfd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 0); /* no data, and no EOF, for the host yet */
    guest_send(f.c, f.port, f.gseq, f.gack, 0x18, 65535, "AAAAA", 5);
    s = wait_seg(f.c, "ACK of the filled hole and the FIN");
    assert_int_equal(s.ack, f.gseq + 11);
    host_read_all(&f, buf, 10);
    assert_memory_equal(buf, "AAAAABBBBB", 10);
    assert_int_equal(host_recv(&f, buf, sizeof(buf)), 0);
    close_fixture(&f);
}

static void test_tcp_own_zero_window_then_window_update(void **state)
{
    struct fixture f;
    static uint8_t chunk[4000];
    uint64_t sent = 0, read_back = 0;
    uint32_t wnd = 1;
    uint8_t buf[65536];
    struct seg s;

    memset(chunk, 'q', sizeof(chunk));
    /* a fixed 16K rx ring and a host that does not read: the ring fills behind the socket */
    open_conn(&f, 16384, 16384, 16384, 16384);
    fcntl(f.hfd, F_SETFL, O_NONBLOCK);
    while (wnd) {
        uint32_t n = wnd < sizeof(chunk) ? wnd : (uint32_t)sizeof(chunk);

        if (sent > (64u << 20))
            fail_msg("64 MiB sent and consomme never closed its window");
        guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 65535, chunk, n);
        s = wait_seg(f.c, "ACK while filling");
        while (f.c->rd < f.c->npk) /* the last ACK tells the current window */
            s = parse(next_pkt(f.c));
        f.gseq += n;
        sent += n;
        assert_int_equal(s.ack, f.gseq);
        wnd = (uint32_t)s.win << f.ws;
    }
    assert_int_equal(s.win, 0);
    assert_int_equal(stat_of(f.c, "out_of_window"), 0);
    /* the host reads: without a word from the guest, consomme says its window is open again */
    for (uint64_t end = real_ms() + 5000; f.c->rd == f.c->npk;) {
        ssize_t n = recv(f.hfd, buf, sizeof(buf), 0);

        if (n > 0)
            read_back += (uint64_t)n;
        if (real_ms() > end)
            fail_msg("no window update after the host read %llu bytes",
                     (unsigned long long)read_back);
        dispatch(f.c, 5);
    }
    s = parse(next_pkt(f.c));
    assert_int_equal(s.len, 0);
    assert_int_equal(s.ack, f.gseq);
    assert_true(s.win > 0);
    /* every byte the window let in reaches the host */
    while (read_back < sent) {
        ssize_t n = recv(f.hfd, buf, sizeof(buf), 0);

        if (n > 0)
            read_back += (uint64_t)n;
        else
            dispatch(f.c, 5);
    }
    assert_int_equal(read_back, sent);
    close_fixture(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_window_scale_derived_from_rx_max),
        cmocka_unit_test(test_tcp_handshake_and_data_both_ways),
        cmocka_unit_test(test_tcp_syn_ack_offers_mss_from_mtu_and_no_scale_without_guest_scale),
        cmocka_unit_test(test_tcp_refused_port_gets_rst),
        cmocka_unit_test(test_tcp_unknown_segment_gets_rst_and_rst_gets_nothing),
        cmocka_unit_test(test_tcp_max_connections_refused_with_rst),
        cmocka_unit_test(test_tcp_half_close_guest_fin_then_host_reply),
        cmocka_unit_test(test_tcp_no_window_update_after_guest_fin),
        cmocka_unit_test(test_tcp_host_closes_first_guest_data_still_flows_then_time_wait),
        cmocka_unit_test(test_tcp_new_syn_replaces_time_wait_entry),
        cmocka_unit_test(test_tcp_guest_rst_resets_host),
        cmocka_unit_test(test_tcp_out_of_window_rst_is_ignored),
        cmocka_unit_test(test_tcp_host_reset_gives_guest_rst),
        cmocka_unit_test(test_tcp_out_of_order_segments_reassembled),
        cmocka_unit_test(test_tcp_retransmits_on_timer_with_backoff),
        cmocka_unit_test(test_tcp_fast_retransmit_on_three_duplicate_acks),
        cmocka_unit_test(test_tcp_respects_guest_window_and_probes_zero_window),
        cmocka_unit_test(test_tcp_tx_ring_grows_while_host_has_data_and_stops_at_max),
        cmocka_unit_test(test_tcp_rx_ring_grows_after_high_water_and_drain_and_stops_at_max),
        cmocka_unit_test(test_tcp_rx_without_guest_window_scale_caps_at_65535),
        cmocka_unit_test(test_tcp_unanswered_connect_times_out_silently),
        cmocka_unit_test(test_tcp_malformed_segments_dropped_and_counted),
        cmocka_unit_test(test_tcp_syn_ack_retransmitted_until_guest_acks),
        cmocka_unit_test(test_tcp_gives_up_after_max_retries_with_resets),
        cmocka_unit_test(test_tcp_data_beyond_window_trimmed_not_delivered),
        cmocka_unit_test(test_tcp_large_segments_stay_in_order_when_host_socket_lags),
        cmocka_unit_test(test_tcp_random_segments_on_a_live_connection_never_crash),
        cmocka_unit_test(test_tcp_guest_queue_full_resumes_when_writable),
        cmocka_unit_test(test_tcp_queue_room_is_shared_round_robin),
        cmocka_unit_test(test_tcp_ring_growth_stops_at_the_memory_budget),
        cmocka_unit_test(test_tcp_syn_past_the_budget_gets_rst_until_a_close_frees_it),
        cmocka_unit_test(test_tcp_zero_window_deadline_aborts_and_probing_stops),
        cmocka_unit_test(test_tcp_zero_window_deadline_restarts_when_the_window_opens),
        cmocka_unit_test(test_tcp_fin_then_rst_in_connecting),
        cmocka_unit_test(test_tcp_rst_in_syn_rcvd_needs_the_exact_sequence),
        cmocka_unit_test(test_tcp_fin_in_syn_rcvd),
        cmocka_unit_test(test_tcp_bad_ack_in_syn_rcvd_gets_rst_and_leaves_it_open),
        cmocka_unit_test(test_tcp_fin_beyond_a_hole_waits_for_the_hole),
        cmocka_unit_test(test_tcp_own_zero_window_then_window_update),
        cmocka_unit_test(
            test_tcp_super_frames_of_whole_mss_segments_where_the_transport_takes_them),
        cmocka_unit_test(test_tcp_segments_stay_within_the_mss_without_guest_segmentation),
    };

    return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
