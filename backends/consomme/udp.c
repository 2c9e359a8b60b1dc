/* SPDX-License-Identifier: MIT */
/*
 * udp.c - UDP NAT: each guest flow gets a connected host socket
 *
 * A flow is (guest address, guest port, destination address, destination port) as the guest
 * sees it. Its host socket is connected to the destination, with the rewrites of
 * cm_host_dest(): the gateway 10.0.2.2 is the host's 127.0.0.1, and the DNS address 10.0.2.3
 * port 53 is the host's resolver (first IPv4 nameserver of /etc/resolv.conf, or --dns).
 * Replies read from the socket go back to the guest from the address it sent to, so the guest
 * never sees the rewrite. A first datagram the NAT policy refuses opens no flow and is answered
 * with an ICMP "administratively prohibited", rate-limited (policy.h); a flow's timer is
 * refreshed by traffic either way.
 * The socket lives in consomme's own network namespace, never in the guest's.
 *
 * Datagrams from one batch of guest frames are queued (pointing into the frame buffer, which
 * stays valid until the batch ends) and sent with one sendmmsg() per run of the same flow.
 * Replies are read with recvmmsg(). Flows idle longer than the timeout are closed by a sweep
 * once a second; DNS flows sooner, since each query uses a fresh port.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "core.h"

#define UDP_BUCKETS     4096
#define UDP_SEND_BATCH  256
#define UDP_RECV_BATCH  32
#define UDP_RECV_SIZE   65536
#define UDP_RECV_ROUNDS 4
#define DNS_TIMEOUT_MS  10000

#define ICMP_PORT_UNREACH     3
#define ICMP_ADMIN_PROHIBITED 13

struct udp_flow {
    struct cm_event ev; /* first: the event pointer is the flow */
    uint32_t gaddr, daddr;
    uint16_t gport, dport;
    uint64_t last_ms;
    bool dns;
    struct udp_flow *hnext;
    LIST_ENTRY(udp_flow) link; /* all flows, for the sweep */
};

struct udp_state {
    struct udp_flow *buckets[UDP_BUCKETS];
    LIST_HEAD(, udp_flow) all;
    unsigned count;
    /* guest -> host datagrams of the current batch */
    unsigned npend;
    struct udp_flow *pend_flow[UDP_SEND_BATCH];
    struct mmsghdr pend_msg[UDP_SEND_BATCH];
    struct iovec pend_iov[UDP_SEND_BATCH];
    /* host -> guest */
    uint8_t *rbuf;
    struct mmsghdr rmsg[UDP_RECV_BATCH];
    struct iovec riov[UDP_RECV_BATCH];
};

static unsigned flow_hash(uint32_t gaddr, uint16_t gport, uint32_t daddr, uint16_t dport)
{
    uint64_t k = ((uint64_t)daddr << 32 | (uint64_t)dport << 16 | gport) ^ gaddr;

    k *= 0x9e3779b97f4a7c15ull;
    return (unsigned)(k >> 52) & (UDP_BUCKETS - 1);
}

/**
 * udp_init() - Set up the flow table
 * @c:		Stack
 *
 * Return: 0 or -ENOMEM
 */
int udp_init(struct consomme *c)
{
    struct udp_state *u = calloc(1, sizeof(*u));

    if (!u)
        return -ENOMEM;
    u->rbuf = malloc((size_t)UDP_RECV_BATCH * UDP_RECV_SIZE);
    if (!u->rbuf) {
        free(u);
        return -ENOMEM;
    }
    for (int i = 0; i < UDP_RECV_BATCH; i++) {
        u->riov[i] = (struct iovec){u->rbuf + (size_t)i * UDP_RECV_SIZE, UDP_RECV_SIZE};
        u->rmsg[i].msg_hdr.msg_iov = &u->riov[i];
        u->rmsg[i].msg_hdr.msg_iovlen = 1;
    }
    c->udp = u;
    return 0;
}

static void flow_free(struct consomme *c, struct udp_flow *f)
{
    struct udp_state *u = c->udp;
    struct udp_flow **pp = &u->buckets[flow_hash(f->gaddr, f->gport, f->daddr, f->dport)];

    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    LIST_REMOVE(f, link);
    cm_event_del(c, &f->ev);
    close(f->ev.fd);
    u->count--;
    free(f);
}

/**
 * udp_cleanup() - Close every flow
 * @c:		Stack
 */
void udp_cleanup(struct consomme *c)
{
    struct udp_state *u = c->udp;

    if (!u)
        return;
    while (!LIST_EMPTY(&u->all))
        flow_free(c, LIST_FIRST(&u->all));
    free(u->rbuf);
    free(u);
    c->udp = NULL;
}

/**
 * udp_flow_count() - Open flows
 * @c:		Stack
 *
 * Return: number of flows
 */
unsigned udp_flow_count(const struct consomme *c)
{
    return c->udp ? c->udp->count : 0;
}

/**
 * udp_send_to_guest() - Queue one datagram toward the guest
 * @c:		Stack
 * @src:	Source address as the guest should see it (host byte order)
 * @sport:	Source port
 * @dst:	Guest address
 * @dport:	Guest port
 * @payload:	Data
 * @len:	Bytes of data
 *
 * Return: 0, -EMSGSIZE beyond the MTU, -ENOBUFS when the queue toward the guest is full
 */
int udp_send_to_guest(struct consomme *c, uint32_t src, uint16_t sport, uint32_t dst,
                      uint16_t dport, const void *payload, size_t len)
{
    uint8_t h[8];
    struct iovec iov[2] = {{h, sizeof(h)}, {(void *)payload, len}};
    uint16_t ulen = (uint16_t)(8 + len), sum;

    if (len + 28 > c->opts.cfg.mtu)
        return -EMSGSIZE;
    h[0] = (uint8_t)(sport >> 8);
    h[1] = (uint8_t)sport;
    h[2] = (uint8_t)(dport >> 8);
    h[3] = (uint8_t)dport;
    h[4] = (uint8_t)(ulen >> 8);
    h[5] = (uint8_t)ulen;
    h[6] = h[7] = 0;
    sum = csum_fold(
        csum_partial(payload, len, csum_partial(h, 8, csum_pseudo_ipv4(src, dst, 17, ulen))));
    if (!sum)
        sum = 0xffff; /* zero means "no checksum" in UDP */
    h[6] = (uint8_t)(sum >> 8);
    h[7] = (uint8_t)sum;
    return cm_send_ipv4(c, src, dst, IPPROTO_UDP, iov, 2);
}

/*
 * An ICMP destination unreachable for the guest's datagram from @gaddr:@gport to
 * @daddr:@dport, within the rate of cm_ratelimit_allow() (-EAGAIN and counted beyond it). The
 * quoted datagram is rebuilt from those: the guest matches errors by addresses and ports only.
 */
static int icmp_unreachable(struct consomme *c, uint8_t code, uint32_t gaddr, uint16_t gport,
                            uint32_t daddr, uint16_t dport)
{
    uint8_t m[8 + 28] = {3, code}; /* destination unreachable */
    uint8_t *q = m + 8;
    struct iovec iov = {m, sizeof(m)};
    uint16_t sum;

    if (!cm_ratelimit_allow(&c->icmp_errors, cm_now_ms())) {
        c->st.icmp_rate_limited++;
        return -EAGAIN;
    }
    ipv4_header_encode(q, gaddr, daddr, IPPROTO_UDP, 8, 0);
    q[20] = (uint8_t)(gport >> 8);
    q[21] = (uint8_t)gport;
    q[22] = (uint8_t)(dport >> 8);
    q[23] = (uint8_t)dport;
    q[24] = 0;
    q[25] = 8;
    sum = csum_fold(csum_partial(m, sizeof(m), 0));
    m[2] = (uint8_t)(sum >> 8);
    m[3] = (uint8_t)sum;
    if (cm_send_ipv4(c, daddr, gaddr, IPPROTO_ICMP, &iov, 1)) {
        cm_drop(c, CM_DROP_GUEST_QUEUE);
        return -ENOBUFS;
    }
    return 0;
}

/*
 * The host refused a datagram of this flow (ICMP port unreachable, reported on the connected
 * socket): tell the guest the same way, so its socket gets ECONNREFUSED as on a real network.
 */
static void port_unreachable(struct consomme *c, const struct udp_flow *f)
{
    if (!icmp_unreachable(c, ICMP_PORT_UNREACH, f->gaddr, f->gport, f->daddr, f->dport))
        c->st.udp_port_unreachable++;
}

static void flow_event(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    struct udp_flow *f = (struct udp_flow *)ev;
    struct udp_state *u = c->udp;

    for (int round = 0; round < UDP_RECV_ROUNDS; round++) {
        int n = recvmmsg(ev->fd, u->rmsg, UDP_RECV_BATCH, MSG_DONTWAIT, NULL);

        if (n < 0 && errno == ECONNREFUSED) {
            port_unreachable(c, f);
            continue; /* the error is consumed; datagrams may follow */
        }
        if (n <= 0)
            return;
        f->last_ms = cm_now_ms();
        for (int i = 0; i < n; i++) {
            int rc = udp_send_to_guest(c, f->daddr, f->dport, f->gaddr, f->gport,
                                       u->riov[i].iov_base, u->rmsg[i].msg_len);
            if (rc == -EMSGSIZE)
                cm_drop(c, CM_DROP_UDP_TOO_BIG);
            else if (rc)
                cm_drop(c, CM_DROP_GUEST_QUEUE);
            else
                c->st.udp_datagrams_in++;
        }
        if (n < UDP_RECV_BATCH)
            return;
    }
}

static struct udp_flow *flow_get(struct consomme *c, const struct cm_ipv4 *ip, uint16_t sport,
                                 uint16_t dport)
{
    const struct cm_config *cfg = &c->opts.cfg;
    struct udp_state *u = c->udp;
    unsigned h = flow_hash(ip->src, sport, ip->dst, dport);
    struct sockaddr_in to;
    struct udp_flow *f;
    bool dns;
    int fd;

    for (f = u->buckets[h]; f; f = f->hnext)
        if (f->gaddr == ip->src && f->gport == sport && f->daddr == ip->dst && f->dport == dport)
            return f;

    switch (cm_host_dest(c, IPPROTO_UDP, ip->dst, dport, &to)) {
    case 0:
        break;
    case -EACCES:
        /* refused by the NAT policy (counted there): "communication administratively
         * prohibited" (RFC 1812 5.2.7.1), so the guest's socket fails at once */
        icmp_unreachable(c, ICMP_ADMIN_PROHIBITED, ip->src, sport, ip->dst, dport);
        return NULL;
    case -EHOSTUNREACH:
        cm_drop(c, CM_DROP_DNS_NO_RESOLVER);
        return NULL;
    default:
        cm_drop(c, CM_DROP_IPV4_DST);
        return NULL;
    }
    dns = ip->dst == cfg->dns_ip;
    if (u->count >= c->opts.max_udp_flows) {
        cm_drop(c, CM_DROP_UDP_FLOW_LIMIT);
        return NULL;
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        cm_drop(c, CM_DROP_UDP_SOCKET);
        return NULL;
    }
    if (connect(fd, (struct sockaddr *)&to, sizeof(to))) {
        close(fd);
        cm_drop(c, CM_DROP_UDP_SOCKET);
        return NULL;
    }
    f = calloc(1, sizeof(*f));
    if (!f) {
        close(fd);
        cm_drop(c, CM_DROP_UDP_SOCKET);
        return NULL;
    }
    f->ev.fd = fd;
    f->ev.fn = flow_event;
    f->gaddr = ip->src;
    f->gport = sport;
    f->daddr = ip->dst;
    f->dport = dport;
    f->dns = dns;
    if (cm_event_add(c, &f->ev, EPOLLIN)) {
        close(fd);
        free(f);
        cm_drop(c, CM_DROP_UDP_SOCKET);
        return NULL;
    }
    f->hnext = u->buckets[h];
    u->buckets[h] = f;
    LIST_INSERT_HEAD(&u->all, f, link);
    u->count++;
    c->st.udp_flows_total++;
    return f;
}

/**
 * udp_flush() - Send the datagrams queued during this batch
 * @c:		Stack
 *
 * Must run before the frame buffer they point into is reused (end of every batch).
 */
void udp_flush(struct consomme *c)
{
    struct udp_state *u = c->udp;
    unsigned i = 0;

    while (i < u->npend) {
        struct udp_flow *f = u->pend_flow[i];
        unsigned run = 1;
        int n;

        while (i + run < u->npend && u->pend_flow[i + run] == f)
            run++;
        n = sendmmsg(f->ev.fd, &u->pend_msg[i], run, MSG_DONTWAIT);
        if (n <= 0) {
            /* A refused earlier datagram (ICMP error) fails only the first; skip it. */
            if (n < 0 && errno == ECONNREFUSED)
                port_unreachable(c, f);
            cm_drop(c, CM_DROP_UDP_SEND);
            n = 1;
        } else {
            c->st.udp_datagrams_out += (uint64_t)n;
        }
        i += (unsigned)n;
    }
    u->npend = 0;
}

/**
 * udp_input() - One UDP datagram from the guest: DHCP, or NAT to a host socket
 * @c:		Stack
 * @ip:		Validated IPv4 fields
 * @p:		UDP header and payload
 * @len:	Bytes at @p, from the IP total length
 */
void udp_input(struct consomme *c, const struct cm_ipv4 *ip, const uint8_t *p, size_t len)
{
    const struct cm_config *cfg = &c->opts.cfg;
    struct udp_state *u = c->udp;
    struct udp_flow *f;
    uint16_t ulen, sport, dport;

    if (len < 8) {
        cm_drop(c, CM_DROP_UDP_MALFORMED);
        return;
    }
    ulen = get_be16(p + 4);
    if (ulen < 8 || ulen > len) {
        cm_drop(c, CM_DROP_UDP_MALFORMED);
        return;
    }
    if (!ip->l4_csum_trusted && get_be16(p + 6) &&
        csum_fold(csum_partial(p, ulen, csum_pseudo_ipv4(ip->src, ip->dst, 17, ulen))) != 0) {
        cm_drop(c, CM_DROP_UDP_MALFORMED);
        return;
    }
    sport = get_be16(p);
    dport = get_be16(p + 2);
    if (dport == 67) {
        dhcp_input(c, p + 8, ulen - 8u);
        return;
    }
    if (ip->src != cfg->guest_ip) {
        cm_drop(c, CM_DROP_IPV4_SRC);
        return;
    }
    if (cm_dst_refused(cfg, ip->dst, IPPROTO_UDP)) {
        cm_drop(c, CM_DROP_IPV4_DST);
        return;
    }
    f = flow_get(c, ip, sport, dport);
    if (!f)
        return;
    f->last_ms = cm_now_ms();
    if (u->npend == UDP_SEND_BATCH)
        udp_flush(c);
    u->pend_flow[u->npend] = f;
    u->pend_iov[u->npend] = (struct iovec){(void *)(p + 8), ulen - 8u};
    u->pend_msg[u->npend] =
        (struct mmsghdr){.msg_hdr = {.msg_iov = &u->pend_iov[u->npend], .msg_iovlen = 1}};
    u->npend++;
}

/**
 * udp_sweep() - Close flows idle for longer than their timeout
 * @c:		Stack
 * @now_ms:	Current time from cm_now_ms()
 */
void udp_sweep(struct consomme *c, uint64_t now_ms)
{
    struct udp_state *u = c->udp;
    uint64_t timeout = (uint64_t)c->opts.udp_timeout_s * 1000;
    struct udp_flow *f = LIST_FIRST(&u->all), *next;

    for (; f; f = next) {
        uint64_t t = f->dns && DNS_TIMEOUT_MS < timeout ? DNS_TIMEOUT_MS : timeout;

        next = LIST_NEXT(f, link);
        if (now_ms - f->last_ms >= t) {
            c->st.udp_flows_expired++;
            flow_free(c, f);
        }
    }
}
