/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_core - the fake core and the helpers of consomme's TCP unit tests; see test_tcp.h.
 */
#include "test_tcp.h"

uint64_t fake_now = 1000000;

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

/* The tests read consomme's ISN off its SYN-ACK: any will do, and a new one per connection. */
uint32_t cm_new_isn(struct consomme *c)
{
    static uint32_t next = 0x00c0ffee;

    return next += 0x01000193u;
}

/* The fake guest checks every checksum, so the tests can too. */
bool cm_guest_verifies_csum(const struct consomme *c)
{
    return true;
}

struct cm_events *cm_events(struct consomme *c)
{
    return &c->events;
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

struct seg parse(const struct pkt *p)
{
    struct seg s = {.mss = -1, .ws = -1};
    size_t doff = (size_t)(p->b[12] >> 4) * 4;

    s.seq = get_be32(p->b + 4);
    s.ack = get_be32(p->b + 8);
    s.flags = p->b[13];
    s.win = get_be16(p->b + 14);
    for (size_t i = 20; i < doff;) {
        if (p->b[i] == 1) {
            i++;
            continue;
        }
        if (p->b[i] == 0)
            break;
        if (p->b[i] == 2)
            s.mss = get_be16(p->b + i + 2);
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
const struct pkt *next_pkt(struct consomme *c)
{
    return c->rd < c->npk ? &c->pk[c->rd++] : NULL;
}

void dispatch(struct consomme *c, int timeout_ms)
{
    struct epoll_event evs[64];
    int n = epoll_wait(c->events.epfd, evs, 64, timeout_ms);

    cm_events_dispatch(c, evs, n);
}

/* Pumps host socket events until a segment is captured (or fails after 5 s). */
struct seg wait_seg(struct consomme *c, const char *what)
{
    int64_t end = clock_now_ms() + 5000;

    while (c->rd == c->npk) {
        if (clock_now_ms() > end)
            fail_msg("timed out waiting for %s", what);
        dispatch(c, 20);
    }
    return parse(next_pkt(c));
}

/* Forgets every captured segment (long random runs would fill the capture array). */
void drain(struct consomme *c)
{
    for (unsigned i = 0; i < c->npk; i++)
        free(c->pk[i].b);
    c->npk = c->rd = 0;
}

/* Pumps events that are ready now, without waiting. */
void pump(struct consomme *c)
{
    for (int i = 0; i < 50; i++)
        dispatch(c, 0);
}

size_t guest_sg_piece;

void guest_send_opts(struct consomme *c, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                     uint8_t flags, uint16_t win, const uint8_t *opts, size_t optlen,
                     const void *data, size_t len)
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
    if (guest_sg_piece && len) {
        /* the header and 3 payload bytes in the block, the rest in pieces (an odd first
         * piece too, so the checksum over pieces is exercised at odd offsets) */
        struct iovec iov[CM_TCP_TAIL_MAX];
        size_t head = hl + (len < 3 ? len : 3), at = head, piece = guest_sg_piece;
        int n = 0;

        if ((tot - head + piece - 1) / piece > CM_TCP_TAIL_MAX)
            piece = (tot - head + CM_TCP_TAIL_MAX - 1) / CM_TCP_TAIL_MAX;
        while (at < tot) {
            size_t k = tot - at < piece ? tot - at : piece;

            iov[n++] = (struct iovec){.iov_base = b + at, .iov_len = k};
            at += k;
        }
        tcp_input_sg(c, &ip, b, head, iov, n);
    } else {
        tcp_input(c, &ip, b, tot);
    }
    free(b);
}

/* One guest segment as one batch. */
void guest_send(struct consomme *c, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                uint16_t win, const void *data, size_t len)
{
    guest_send_opts(c, GPORT, dport, seq, ack, flags, win, NULL, 0, data, len);
    tcp_input_flush(c);
}

json_t *stats(struct consomme *c)
{
    json_t *o = json_object(), *t;

    tcp_stats_json(c, o);
    t = json_object_get(o, "tcp");
    assert_non_null(t);
    json_incref(t);
    json_decref(o);
    return t;
}

long long stat_of(struct consomme *c, const char *name)
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

struct consomme *stack_new(uint32_t rx_init, uint32_t rx_max, uint32_t tx_init, uint32_t tx_max,
                           unsigned max_conns)
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
    c->events.epfd = epoll_create1(EPOLL_CLOEXEC);
    assert_true(c->events.epfd >= 0);
    assert_int_equal(tcp_init(c), 0);
    return c;
}

void stack_free(struct consomme *c)
{
    guest_sg_piece = 0; /* each test chooses its own, even one that failed half-way */
    tcp_cleanup(c);
    close(c->events.epfd);
    for (unsigned i = 0; i < c->npk; i++)
        free(c->pk[i].b);
    free(c);
}

struct seg syn_mss(struct consomme *c, uint16_t port, int ws, uint16_t mss)
{
    uint8_t opts[8] = {2, 4, (uint8_t)(mss >> 8), (uint8_t)mss, 1, 3, 3, (uint8_t)ws};

    guest_send_opts(c, GPORT, port, G_ISN, 0, 0x02, 65535, opts, ws >= 0 ? 8 : 4, NULL, 0);
    tcp_input_flush(c);
    return wait_seg(c, "SYN-ACK");
}

struct seg syn(struct consomme *c, uint16_t port, int ws)
{
    return syn_mss(c, port, ws, MTU - 40);
}

void open_conn_mss(struct fixture *f, uint32_t rx_init, uint32_t rx_max, uint32_t tx_init,
                   uint32_t tx_max, uint16_t mss, uint32_t tso_max)
{
    struct seg s;

    memset(f, 0, sizeof(*f));
    f->c = stack_new(rx_init, rx_max, tx_init, tx_max, 64);
    f->c->tso_max = tso_max;
    f->lfd = loopback_socket(SOCK_STREAM, &f->port);
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

void open_conn(struct fixture *f, uint32_t rx_init, uint32_t rx_max, uint32_t tx_init,
               uint32_t tx_max)
{
    open_conn_mss(f, rx_init, rx_max, tx_init, tx_max, MTU - 40, 0);
}

void close_fixture(struct fixture *f)
{
    if (f->hfd >= 0)
        close(f->hfd);
    close(f->lfd);
    stack_free(f->c);
}

/* Reads exactly @len bytes from a blocking host socket, with a deadline. */
void host_read_all(struct fixture *f, uint8_t *buf, size_t len)
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
ssize_t host_recv(struct fixture *f, void *buf, size_t len)
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

void host_to_guest_all(struct fixture *f, const uint8_t *data, size_t len)
{
    size_t sent = 0, got = 0;
    int64_t end = clock_now_ms() + 10000;

    fcntl(f->hfd, F_SETFL, O_NONBLOCK);
    while (got < len) {
        if (clock_now_ms() > end)
            fail_msg("bulk host->guest stalled at %zu bytes", got);
        if (sent < len) {
            ssize_t n = send(f->hfd, data + sent, len - sent, 0);

            if (n > 0)
                sent += (size_t)n;
        }
        dispatch(f->c, 5);
        while (f->c->rd < f->c->npk) {
            struct seg s = parse(next_pkt(f->c));

            if (!s.len)
                continue;
            assert_int_equal(s.seq, f->gack);
            assert_memory_equal(s.data, data + got, s.len);
            got += s.len;
            f->gack += (uint32_t)s.len;
        }
        guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 65535, NULL, 0);
    }
}

int conn_open(void **state)
{
    struct fixture *f = malloc(sizeof(*f));

    assert_non_null(f);
    open_conn(f, 16384, 65536, 16384, 65536);
    *state = f;
    return 0;
}

int conn_close(void **state)
{
    close_fixture(*state);
    free(*state);
    return 0;
}
