/* SPDX-License-Identifier: MIT */
/*
 * state_fuzz_guest - the guest side of consomme_state_fuzz; see state_fuzz.h
 *
 * The oracle over every frame consomme sends the guest (well-formed, TCP payload exactly the
 * host's bytes at that offset), the guest's transport (this target's queue, or consomme's own
 * stream or TAP transport over a socketpair), one turn of consomme's loop, and the TCP segments
 * the guest model sends.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "state_fuzz.h"

/* ------------------------------------------------------------------ what consomme sends */

static bool csum_ok(const uint8_t *p, size_t len, uint32_t sum)
{
    return csum_fold(csum_partial(p, len, sum)) == 0;
}

static struct slot *slot_of(uint32_t src, uint16_t sport, uint16_t dport)
{
    for (int i = 0; i < NSLOTS; i++)
        if (slots[i].open && slots[i].dst == src && slots[i].dport == sport &&
            slots[i].gport == dport)
            return &slots[i];
    return NULL;
}

static void seen_tcp(uint32_t src, const uint8_t *th, size_t len)
{
    uint8_t fl = th[13];
    uint32_t seq = get_be32(th + 4);
    size_t doff = (size_t)(th[12] >> 4) * 4;
    uint32_t plen = (uint32_t)(len - doff);
    struct slot *s = slot_of(src, get_be16(th), get_be16(th + 2));
    uint32_t end;

    if (!s)
        return;
    if ((fl & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
        trace("  consomme -> %u:%u SYN-ACK ack %u win %u\n", s->dport, s->gport,
              get_be32(th + 8) - s->g_isn, get_be16(th + 14));
        s->have_c = true;
        s->c_irs = get_be32(th + 8) - 1;
        s->c_isn = seq;
        s->c_nxt = seq + 1;
        return;
    }
    if (!s->have_c || (fl & TH_RST))
        return;
    for (uint32_t j = 0; j < plen; j++) {
        uint32_t off = seq + j - (s->c_isn + 1);

        if (off >= s->h_written)
            die("consomme sent the guest data the host never wrote");
        if (th[doff + j] != host_byte(off))
            die("consomme sent the guest other bytes than the host wrote");
    }
    trace("  consomme -> %u:%u seq %u ack %u fl %02x len %u win %u\n", s->dport, s->gport,
          seq - s->c_isn, get_be32(th + 8) - s->g_isn, fl, plen, get_be16(th + 14));
    end = seq + plen + !!(fl & TH_FIN);
    if ((int32_t)(end - s->c_nxt) > 0)
        s->c_nxt = end;
}

/* A TCP super-frame must be one the guest can cut into segments that fit its MTU, with the
 * partial checksum it completes (the pseudo-header sum over the whole length). */
static void check_tso(const uint8_t *ip, size_t tot, const struct cm_tso *tso)
{
    size_t thl = (size_t)(ip[32] >> 4) * 4;
    uint32_t pseudo =
        csum_pseudo_ipv4(get_be32(ip + 12), get_be32(ip + 16), IPPROTO_TCP, (uint16_t)(tot - 20));

    if (ip[9] != IPPROTO_TCP || tot > stack->out_tso_max)
        die("a super-frame that is not TCP or beyond what the transport takes");
    if (tso->l4_off != 34 || tso->hdr_len != 34 + thl || !tso->mss ||
        20 + thl + tso->mss > cfg.mtu || tot - 20 - thl <= tso->mss)
        die("a super-frame whose segments do not fit the MTU, or whose headers are misdescribed");
    if (get_be16(ip + 36) != (uint16_t)~csum_fold(pseudo))
        die("a super-frame without the pseudo-header sum in its checksum field");
}

/* Every frame toward the guest must be one a guest can take as it is. */
static void check_frame(const uint8_t *f, size_t len, const struct cm_tso *tso)
{
    const uint8_t *ip = f + 14;
    size_t tot;
    uint32_t src, dst;

    if (len < 14 || memcmp(f + 6, cfg.gw_mac, 6))
        die("frame without our Ethernet header");
    if (get_be16(f + 12) == 0x0806) {
        if (len < 14 + 28)
            die("short ARP frame");
        return;
    }
    if (get_be16(f + 12) != 0x0800)
        die("frame of an unknown ethertype");
    if (len < 34 || ip[0] != 0x45 || !csum_ok(ip, 20, 0))
        die("bad IPv4 header");
    tot = get_be16(ip + 2);
    if (tot != len - 14 || (tot > cfg.mtu && !tso))
        die("IPv4 length disagrees with the frame or exceeds the MTU");
    src = get_be32(ip + 12);
    dst = get_be32(ip + 16);
    switch (ip[9]) {
    case IPPROTO_TCP:
        if (tot < 40 || (size_t)(ip[32] >> 4) * 4 < 20 || (size_t)(ip[32] >> 4) * 4 > tot - 20)
            die("bad TCP header length");
        if (tso)
            check_tso(ip, tot, tso);
        else if (!csum_ok(ip + 20, tot - 20, csum_pseudo_ipv4(src, dst, IPPROTO_TCP, tot - 20)))
            die("bad TCP checksum");
        seen_tcp(src, ip + 20, tot - 20);
        break;
    case IPPROTO_UDP:
        if (tot < 28 || get_be16(ip + 24) != tot - 20)
            die("bad UDP length");
        if (!csum_ok(ip + 20, tot - 20, csum_pseudo_ipv4(src, dst, IPPROTO_UDP, tot - 20)))
            die("bad UDP checksum");
        break;
    case IPPROTO_ICMP:
        if (tot < 28 || !csum_ok(ip + 20, tot - 20, 0))
            die("bad ICMP message");
        break;
    default:
        die("IPv4 frame of an unknown protocol");
    }
}

/* ------------------------------------------------------------------ the guest's transport */

/* The guest reads what consomme's own transport wrote: every frame is checked. */
static void guest_read(void)
{
    for (int i = 0; i < 64; i++) {
        ssize_t n = read(guest_fd, grx + grx_len, GRX_SIZE - grx_len);
        size_t off = 0;

        if (n <= 0)
            return;
        if (tr_kind == TR_TAP) {
            check_frame(grx, (size_t)n, NULL);
            continue;
        }
        grx_len += (size_t)n;
        while (grx_len - off >= 4 && grx_len - off - 4 >= get_be32(grx + off)) {
            uint32_t flen = get_be32(grx + off);

            if (flen > CM_FRAME_MAX)
                die("stream frame longer than the largest frame");
            check_frame(grx + off + 4, flen, NULL);
            off += 4 + flen;
        }
        memmove(grx, grx + off, grx_len - off);
        grx_len -= off;
    }
}

void q_drain(unsigned n)
{
    if (tr_kind != TR_FUZZ) {
        guest_read();
        return;
    }
    while (q_n && n--) {
        q_bytes -= q_len[q_head];
        q_head = (q_head + 1) % QMAX;
        q_n--;
    }
}

static uint8_t *fz_reserve(struct consomme *c, size_t len)
{
    free(pending_frame);
    pending_frame = NULL;
    if (q_n == QMAX || q_bytes + len > q_cap)
        return NULL;
    /* a buffer of exactly @len, so ASan sees any write past the frame */
    pending_frame = malloc(len ? len : 1);
    return pending_frame;
}

static void fz_commit(struct consomme *c, size_t len, const struct cm_tso *tso)
{
    if (!pending_frame)
        die("commit without a reserved frame");
    check_frame(pending_frame, len, tso);
    free(pending_frame);
    pending_frame = NULL;
    q_len[(q_head + q_n) % QMAX] = (uint32_t)len;
    q_n++;
    q_bytes += len;
}

static int fz_flush(struct consomme *c)
{
    if (autodrain)
        q_drain(QMAX);
    return 0;
}

/* As consomme's transports promise (its loop relies on it, and would spin otherwise): writable
 * only when the largest frame it may send next fits, so a queue smaller than one such frame
 * stays blocked (queue_writable() has its buffer hold two). */
static bool fz_writable(const struct consomme *c)
{
    size_t largest = 14 + (c->out_tso_max ? c->out_tso_max : c->opts.cfg.mtu);

    return q_bytes <= q_cap / 2 && q_bytes + largest <= q_cap && q_n < QMAX / 2;
}

static void fz_free(struct consomme *c)
{
    free(pending_frame);
    pending_frame = NULL;
}

const struct cm_transport_ops fz_ops = {
    .name = "fuzz",
    .reserve = fz_reserve,
    .commit = fz_commit,
    .flush = fz_flush,
    .writable = fz_writable,
    .free = fz_free,
};

/* ------------------------------------------------------------------ the loop, one turn */

void reset_close(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

static void accept_all(void)
{
    for (int i = 0; i < NSLOTS; i++) {
        int fd;

        while ((fd = accept4(lfd[i], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
            struct slot *s = &slots[i];

            if (s->open && s->to_listener && s->hfd < 0) {
                s->hfd = fd;
                s->h_written = s->h_read = 0;
            } else {
                reset_close(fd);
            }
        }
    }
}

/* What consomme's loop does after its events (loop.c after_events()), on virtual time. */
static void after_events(void)
{
    if (tcp_connection_count(stack) && now_ms >= next_tick) {
        tcp_timer(stack, now_ms);
        next_tick = now_ms + 10;
    }
    if (now_ms >= next_sweep) {
        udp_sweep(stack, now_ms);
        next_sweep = now_ms + 1000;
    }
    cm_out_flush(stack);
    for (int i = 0; i < 16 && stack->guest_blocked && stack->tr->writable(stack); i++) {
        stack->guest_blocked = false;
        tcp_guest_writable(stack);
        cm_out_flush(stack);
    }
}

void pump(void)
{
    struct epoll_event ev[32];

    for (int round = 0; round < 8; round++) {
        int n;

        if (autodrain && tr_kind != TR_FUZZ)
            guest_read();
        accept_all();
        n = epoll_wait(stack->events.epfd, ev, 32, 0);
        if (n <= 0)
            break;
        cm_events_dispatch(stack, ev, n);
        after_events();
    }
    accept_all();
    after_events();
}

/* Write a frame into the guest's end of the socketpair, letting consomme read while full. */
static void guest_write(const uint8_t *f, size_t len)
{
    uint8_t pfx[4];
    struct iovec iov[2] = {{pfx, 4}, {(void *)f, len}};
    size_t done = 0, total = len + (tr_kind == TR_STREAM ? 4 : 0);

    put_be32(pfx, (uint32_t)len);
    for (int tries = 0; done < total && tries < 16; tries++) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
        ssize_t n;

        if (tr_kind == TR_TAP) {
            mh.msg_iov = iov + 1;
            mh.msg_iovlen = 1;
        }
        n = sendmsg(guest_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN)
            return;
        if (n < 0) {
            pump();
            continue;
        }
        done += (size_t)n;
        /* a stream write may stop anywhere: continue where it did */
        for (size_t k = (size_t)n; k;) {
            struct iovec *v = iov[0].iov_len ? &iov[0] : &iov[1];
            size_t m = k < v->iov_len ? k : v->iov_len;

            v->iov_base = (uint8_t *)v->iov_base + m;
            v->iov_len -= m;
            k -= m;
        }
    }
}

void batch_flush(void)
{
    if (!nbatch)
        return;
    if (tr_kind != TR_FUZZ) {
        int n = nbatch;

        nbatch = 0;
        for (int i = 0; i < n; i++) {
            guest_write(batch[i], batch_len[i]);
            free(batch[i]);
        }
        pump();
        return;
    }
    cm_frames_input_begin(stack);
    for (int i = 0; i < nbatch; i++)
        cm_frame_input(stack, batch[i], batch_len[i]);
    cm_frames_input_end(stack);
    for (int i = 0; i < nbatch; i++)
        free(batch[i]);
    nbatch = 0;
    pump();
}

/* Queue a guest frame; each in its own allocation so ASan catches reads past its end. */
void batch_add(uint8_t *f, size_t len)
{
    if (nbatch == MAX_BATCH)
        batch_flush();
    batch[nbatch] = f;
    batch_len[nbatch++] = len;
    if (!hold)
        batch_flush();
}

/* ------------------------------------------------------------------ guest frames */

uint8_t *ipv4_frame(uint32_t dst, uint8_t proto, size_t l4len)
{
    uint8_t *f = calloc(1, 14 + 20 + l4len);

    if (!f)
        die("out of memory");
    memcpy(f, cfg.gw_mac, 6);
    memcpy(f + 6, guest_mac, 6);
    put_be16(f + 12, 0x0800);
    ipv4_header_encode(f + 14, cfg.guest_ip, dst, proto, l4len, ip_id++);
    return f;
}

void guest_tcp(struct slot *s, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
               const uint8_t *opts, size_t optlen, uint32_t plen)
{
    size_t hlen = 20 + optlen;
    uint8_t *f, *th;

    if (plen > 65535 - 20 - hlen)
        plen = (uint32_t)(65535 - 20 - hlen);
    trace("  guest -> %u:%u seq %u ack %u fl %02x len %u win %u\n", s->gport, s->dport,
          seq - s->g_isn, ack - s->c_isn, flags, plen, win);
    f = ipv4_frame(s->dst, IPPROTO_TCP, hlen + plen);
    th = f + 34;
    put_be16(th, s->gport);
    put_be16(th + 2, s->dport);
    put_be32(th + 4, seq);
    put_be32(th + 8, ack);
    th[12] = (uint8_t)((hlen / 4) << 4);
    th[13] = flags;
    put_be16(th + 14, win);
    if (optlen)
        memcpy(th + 20, opts, optlen);
    for (uint32_t j = 0; j < plen; j++)
        th[hlen + j] = guest_byte(seq + j - (s->g_isn + 1));
    put_be16(th + 16, csum_fold(csum_partial(th, hlen + plen,
                                             csum_pseudo_ipv4(cfg.guest_ip, s->dst, IPPROTO_TCP,
                                                              (uint16_t)(hlen + plen)))));
    batch_add(f, 14 + 20 + hlen + plen);
}

static uint32_t pick_isn(struct input *in)
{
    static const uint32_t isns[] = {0x1000, 0xfffffc00u, 0x7ffffe00u};
    uint8_t b = u8(in);

    return b % 4 < 3 ? isns[b % 4] : u32(in);
}

/* A new generation of @s: new guest port, so consomme sees a new connection. */
void guest_syn(struct input *in, struct slot *s, int idx)
{
    uint8_t dsel = u8(in), o = u8(in);
    uint8_t opts[16];
    size_t optlen = 0;
    uint16_t win;

    if (s->hfd >= 0)
        reset_close(s->hfd);
    memset(s, 0, sizeof(*s));
    s->hfd = -1;
    s->open = true;
    s->gport = (uint16_t)(20000 + idx * 1000 + gen++ % 1000);
    s->dst = cfg.gw_ip;
    switch (dsel % 8) {
    case 5:
        s->dport = PORT_STUCK;
        break;
    case 6:
        s->dport = PORT_CLOSED;
        break;
    case 7:
        s->dst = cfg.dns_ip; /* 53 goes to the resolver (a UDP-only port here), else refused */
        s->dport = dsel & 8 ? 53 : 80;
        break;
    default:
        s->dport = (uint16_t)(PORT_LISTEN + idx);
        s->to_listener = true;
        break;
    }
    s->g_isn = pick_isn(in);
    s->g_nxt = s->g_isn + 1;
    win = u16(in);
    s->g_win = win ? win : 0xffff;
    if (o & 1) { /* MSS, anything from 0 */
        opts[optlen++] = 2;
        opts[optlen++] = 4;
        put_be16(opts + optlen, (uint16_t)(o & 2 ? 536 : (o >> 2) * 64));
        optlen += 2;
    }
    if (o & 4) { /* window scale, 0..15 */
        opts[optlen++] = 1;
        opts[optlen++] = 3;
        opts[optlen++] = 3;
        opts[optlen++] = (uint8_t)(o >> 4);
    }
    if (o & 8) { /* SACK permitted and a timestamp, which consomme ignores */
        static const uint8_t more[] = {4, 2, 8, 6, 0, 0, 0, 1};

        memcpy(opts + optlen, more, 6);
        optlen += 6;
    }
    while (optlen % 4)
        opts[optlen++] = 0;
    guest_tcp(s, TH_SYN, s->g_isn, 0, s->g_win, opts, optlen, 0);
}

void guest_ack(struct slot *s, uint32_t ack, uint16_t win)
{
    s->g_ack = ack;
    guest_tcp(s, TH_ACK, s->g_nxt, ack, win, NULL, 0, 0);
}

uint32_t ack_choice(struct slot *s, uint8_t mode, uint16_t n)
{
    switch (mode % 4) {
    case 0:
        return s->c_nxt;
    case 1:
        return s->c_nxt - n;
    case 2:
        return s->c_nxt + n;
    default:
        return s->g_ack;
    }
}

void op_seg(struct input *in, struct slot *s)
{
    uint8_t fl = u8(in), mode = u8(in);
    uint16_t off = u16(in);
    uint8_t amode = u8(in);
    uint16_t aoff = u16(in), win = u16(in), len = u16(in);
    uint32_t seq;

    switch (mode % 4) {
    case 0:
        seq = s->g_nxt;
        break;
    case 1:
        seq = s->g_nxt + off; /* ahead: out of order, or beyond the window */
        break;
    case 2:
        seq = s->g_nxt - off; /* behind: a retransmission, or overlapping */
        break;
    default:
        seq = s->g_isn + off; /* anywhere from the SYN on */
        break;
    }
    guest_tcp(s, fl, seq, ack_choice(s, amode, aoff), win, NULL, 0, len);
    if (mode & 4) /* the guest counts it as sent in order */
        s->g_nxt = seq + len + !!(fl & TH_SYN) + !!(fl & TH_FIN);
    if (fl & TH_ACK)
        s->g_ack = ack_choice(s, amode, aoff);
}
