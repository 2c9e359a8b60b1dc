/* SPDX-License-Identifier: MIT */
/*
 * consomme_state_fuzz - stateful libFuzzer target over consomme's TCP and UDP data paths
 *
 * The frame fuzzer (consomme_fuzz.c) feeds unrelated frames: it never completes a handshake,
 * so TCP data, retransmission, timers, reassembly, rings and back-pressure stay out of its
 * reach. Here an input is a program for a guest and a host that talk through one stack:
 *
 * - The host side lives in the fuzzer's own network namespace (fuzz_ns.h): one TCP listener
 *   per connection slot on 127.0.0.1 (the guest reaches it as 10.0.2.2), a listener whose
 *   backlog is never accepted (connects hang: CONNECTING and its timeout), closed ports, and
 *   UDP servers for plain datagrams and for DNS (--dns points there). The namespace's TCP
 *   buffers are set small, so a few KiB are enough to block either direction.
 * - The guest is a model per slot (ports, its ISN and next sequence number, what it has seen
 *   of consomme's sequence space). Ops send segments whose sequence and acknowledgement
 *   numbers are relative to that model (in order, ahead, behind, duplicate), so inputs keep
 *   making sense as consomme's numbers move.
 * - Frames between the guest and consomme go, as the input chooses, through a transport of
 *   this file (reserve/commit/flush/writable, a queue bounded in frames and bytes) or through
 *   consomme's own stream or TAP transport (transport.c) over a socketpair whose other end is
 *   the guest, with its output queue and socket buffers made small. Either way the guest reads
 *   what it is sent when the program says (or at once): a slow guest makes consomme meet
 *   -ENOBUFS and resume through tcp_guest_writable().
 * - Time is virtual: built with CONSOMME_FUZZ (fuzz_hooks.h), the stack reads cm_now_ms()
 *   from here and takes its ISNs from here, so an input replays the same run every time.
 *   Timers run when the program moves the clock, as consomme's loop would run them then.
 * - Raw frames (any protocol, checksums fixed up on request) and consomme's option parsers
 *   (ring bounds, MTU, --allow/--deny rules, which then apply, a resolv.conf) are ops too, so
 *   one corpus covers the whole stack.
 *
 * Oracles beyond ASan/UBSan: every frame consomme emits must be well formed (IPv4 header and
 * checksum, lengths, TCP/UDP/ICMP checksums); TCP payload toward the guest must be exactly
 * the bytes the host wrote at that offset (never beyond them), and bytes the host reads must
 * be exactly what the guest sent at that offset. A violation aborts with a message.
 *
 * Input: three configuration bytes (MTU, ring bounds, connection limit; ISN base, guest
 * queue size, whether the guest reads on its own; transport and socket buffer size), then
 * ops, one byte each (modulo OP__COUNT) followed by their arguments (enum op); a missing
 * argument byte reads as zero. The stack is made once, but its TCP state, UDP flows,
 * counters and transport are new for every input, and every host socket is reset after it,
 * so inputs do not depend on each other. Seeds: tests/data/consomme_state_fuzz, written by
 * state_seeds.py (regression seeds included). CONSOMME_STATE_FUZZ_VERBOSE=1 traces an input:
 * each op, each segment both ways, host reads and writes, and the counters at the end.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "core.h"
#include "fuzz_hooks.h"
#include "fuzz_frames.h"
#include "fuzz_ns.h"
#include "ring.h"

#define NSLOTS       4
#define PORT_LISTEN  5001 /* + slot */
#define PORT_STUCK   5008 /* listener never accepted: connects hang */
#define PORT_CLOSED  5009
#define PORT_UDP     5101
#define PORT_UDP_OFF 5109
#define PORT_DNS     5153
#define MAX_OPS      256
#define MAX_BATCH    32
#define QMAX         1024 /* frames the guest queue holds, whatever their size */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

enum op {
    OP_CONNECT,    /* slot, dst, isn, opts, win16: SYN, then ACK of the SYN-ACK */
    OP_SYN,        /* slot, dst, isn, opts, win16: SYN only */
    OP_SEND,       /* slot, len16: in-order data, ACK of all seen */
    OP_ACK,        /* slot, mode, n16, win16: ACK all / again (duplicate) / a little more */
    OP_FIN,        /* slot: FIN in order */
    OP_RST,        /* slot, mode: RST at g_nxt, or with ACK, or off by n */
    OP_SEG,        /* slot, flags, seqmode, off16, ackmode, ackoff16, win16, len16 */
    OP_HOST_WRITE, /* slot, len16 */
    OP_HOST_READ,  /* slot, len16 (0: all there is) */
    OP_HOST_SHUT,  /* slot, how */
    OP_HOST_CLOSE, /* slot, mode: close, or reset (SO_LINGER 0) */
    OP_CLOCK,      /* ms16, scale */
    OP_QCAP,       /* guest queue capacity */
    OP_SLOW,       /* guest stops/starts draining its queue on its own */
    OP_DRAIN,      /* n: guest takes n frames (0: all) */
    OP_UDP,        /* dst, sport, len16, csum: datagram from the guest */
    OP_UDP_REPLY,  /* server, peer, len16: datagram from a UDP server to a flow */
    OP_RAW,        /* fixup flags, len16, bytes: any frame */
    OP_HOLD,       /* guest frames pile up in one batch until the next non-frame op */
    OP_PARSE,      /* kind, len, text: an option, NAT rule or resolv.conf, as a user gives it */
    OP__COUNT
};

struct slot {
    bool open; /* a SYN was sent in this generation */
    bool to_listener;
    uint16_t gport, dport;
    uint32_t dst;
    uint32_t g_isn, g_nxt, g_ack;
    uint16_t g_win;
    bool have_c; /* consomme's SYN-ACK seen: c_isn and c_irs are known */
    uint32_t c_isn, c_nxt;
    uint32_t c_irs; /* the guest ISN consomme took (a later SYN may differ from g_isn) */
    int hfd;
    uint32_t h_written, h_read;
};

static struct consomme *stack;
static struct cm_config cfg;
static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static int lfd[NSLOTS], stuck_fd = -1, udp_fd = -1, dns_fd = -1;
static struct slot slots[NSLOTS];
/* where datagrams to the UDP servers came from (consomme's flow sockets), last four each */
static struct sockaddr_in peers[2][4];
static unsigned npeers[2];
static unsigned gen;
static uint64_t now_ms;
static uint64_t next_tick, next_sweep;
static uint32_t isn_next;
static uint16_t ip_id;
static bool verbose; /* CONSOMME_STATE_FUZZ_VERBOSE: a trace, and the counters after each input */

/* guest queue */
static uint8_t *pending_frame;
static size_t q_cap, q_bytes;
static uint32_t q_len[QMAX];
static unsigned q_head, q_n;
static bool autodrain, hold;
/* which transport carries the frames: this file's queue, or consomme's own stream or TAP
 * transport (transport.c) over a socketpair whose other end is the guest */
enum { TR_FUZZ, TR_STREAM, TR_TAP } tr_kind;
static int guest_fd = -1;
static uint8_t *grx; /* stream bytes read by the guest, not yet a whole frame */
static size_t grx_len;
static size_t obuf_size; /* the stack's own output queue size, restored after each input */
#define GRX_SIZE (1u << 20)

/* frames of the current batch */
static uint8_t *batch[MAX_BATCH];
static size_t batch_len[MAX_BATCH];
static int nbatch;

uint64_t cm_now_ms(void)
{
    return now_ms;
}

uint32_t cm_fuzz_isn(void)
{
    uint32_t isn = isn_next;

    isn_next += 0x01000193u;
    return isn;
}

static void die(const char *what)
{
    fprintf(stderr, "consomme_state_fuzz: %s\n", what);
    abort();
}

/* With CONSOMME_STATE_FUZZ_VERBOSE: what the guest and consomme say, to read a crash. */
#define trace(...)                                                                                 \
    do {                                                                                           \
        if (verbose)                                                                               \
            fprintf(stderr, __VA_ARGS__);                                                          \
    } while (0)

/* Stream contents, a function of the offset only, so any retransmission carries the same. */
static uint8_t guest_byte(uint32_t off)
{
    return (uint8_t)(off * 7u + (off >> 8) + 1u);
}

static uint8_t host_byte(uint32_t off)
{
    return (uint8_t)(off * 13u + (off >> 9) + 5u);
}

/* ------------------------------------------------------------------ input */

struct input {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static uint16_t u16(struct input *in)
{
    uint16_t hi = u8(in);

    return (uint16_t)(hi << 8 | u8(in));
}

static uint32_t u32(struct input *in)
{
    uint32_t hi = u16(in);

    return hi << 16 | u16(in);
}

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

/* Every frame toward the guest must be one a guest can take as it is. */
static void check_frame(const uint8_t *f, size_t len)
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
    if (tot != len - 14 || tot > cfg.mtu)
        die("IPv4 length disagrees with the frame or exceeds the MTU");
    src = get_be32(ip + 12);
    dst = get_be32(ip + 16);
    switch (ip[9]) {
    case IPPROTO_TCP:
        if (tot < 40 || (size_t)(ip[32] >> 4) * 4 < 20 || (size_t)(ip[32] >> 4) * 4 > tot - 20)
            die("bad TCP header length");
        if (!csum_ok(ip + 20, tot - 20, csum_pseudo_ipv4(src, dst, IPPROTO_TCP, tot - 20)))
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
            check_frame(grx, (size_t)n);
            continue;
        }
        grx_len += (size_t)n;
        while (grx_len - off >= 4 && grx_len - off - 4 >= get_be32(grx + off)) {
            uint32_t flen = get_be32(grx + off);

            if (flen > CM_FRAME_MAX)
                die("stream frame longer than the largest frame");
            check_frame(grx + off + 4, flen);
            off += 4 + flen;
        }
        memmove(grx, grx + off, grx_len - off);
        grx_len -= off;
    }
}

static void q_drain(unsigned n)
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

static void fz_commit(struct consomme *c, size_t len)
{
    if (!pending_frame)
        die("commit without a reserved frame");
    check_frame(pending_frame, len);
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

static bool fz_writable(const struct consomme *c)
{
    return q_bytes <= q_cap / 2 && q_n < QMAX / 2;
}

static void fz_free(struct consomme *c)
{
    free(pending_frame);
    pending_frame = NULL;
}

static const struct cm_transport_ops fz_ops = {
    .name = "fuzz",
    .reserve = fz_reserve,
    .commit = fz_commit,
    .flush = fz_flush,
    .writable = fz_writable,
    .free = fz_free,
};

/* ------------------------------------------------------------------ the loop, one turn */

static void reset_close(int fd)
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

/* What consomme's loop does after its events (consomme.c after_events()), on virtual time. */
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

static void pump(void)
{
    struct epoll_event ev[32];

    for (int round = 0; round < 8; round++) {
        int n;

        if (autodrain && tr_kind != TR_FUZZ)
            guest_read();
        accept_all();
        n = epoll_wait(stack->epfd, ev, 32, 0);
        if (n <= 0)
            break;
        stack->turn_evs = ev;
        stack->turn_n = n;
        for (int i = 0; i < n; i++) {
            struct cm_event *e = ev[i].data.ptr;

            if (e)
                e->fn(stack, e, ev[i].events);
        }
        stack->turn_n = 0;
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

static void batch_flush(void)
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
static void batch_add(uint8_t *f, size_t len)
{
    if (nbatch == MAX_BATCH)
        batch_flush();
    batch[nbatch] = f;
    batch_len[nbatch++] = len;
    if (!hold)
        batch_flush();
}

/* ------------------------------------------------------------------ guest frames */

static uint8_t *ipv4_frame(uint32_t dst, uint8_t proto, size_t l4len)
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

static void guest_tcp(struct slot *s, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
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
static void guest_syn(struct input *in, struct slot *s, int idx)
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

static void guest_ack(struct slot *s, uint32_t ack, uint16_t win)
{
    s->g_ack = ack;
    guest_tcp(s, TH_ACK, s->g_nxt, ack, win, NULL, 0, 0);
}

static uint32_t ack_choice(struct slot *s, uint8_t mode, uint16_t n)
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

static void op_seg(struct input *in, struct slot *s)
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

/* ------------------------------------------------------------------ host side */

static void host_write(struct slot *s, uint32_t len)
{
    uint8_t buf[8192];

    if (s->hfd < 0)
        return;
    while (len) {
        uint32_t n = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);
        ssize_t w;

        for (uint32_t j = 0; j < n; j++)
            buf[j] = host_byte(s->h_written + j);
        w = send(s->hfd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w <= 0)
            break;
        trace("  host %u wrote %zd at %u\n", s->dport, w, s->h_written);
        s->h_written += (uint32_t)w;
        len -= (uint32_t)w;
    }
}

static void host_read(struct slot *s, uint32_t len)
{
    uint8_t buf[8192];

    if (s->hfd < 0)
        return;
    if (!len)
        len = UINT32_MAX;
    while (len) {
        uint32_t n = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);
        ssize_t r = recv(s->hfd, buf, n, MSG_DONTWAIT);

        if (r <= 0)
            break;
        trace("  host %u read %zd at %u\n", s->dport, r, s->h_read);
        /* the host stream starts after the SYN consomme took, wherever the model's was */
        for (ssize_t j = 0; j < r; j++)
            if (buf[j] != guest_byte(s->c_irs - s->g_isn + s->h_read + (uint32_t)j))
                die("the host read other bytes than the guest sent");
        s->h_read += (uint32_t)r;
        len -= (uint32_t)r;
    }
}

/* ------------------------------------------------------------------ UDP */

static void udp_collect(void)
{
    int fds[2] = {udp_fd, dns_fd};
    uint8_t buf[2048];

    for (int k = 0; k < 2; k++) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);

        while (recvfrom(fds[k], buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sa, &sl) >= 0) {
            peers[k][npeers[k]++ % 4] = sa;
            sl = sizeof(sa);
        }
    }
}

static void op_udp(struct input *in)
{
    uint8_t d = u8(in), sp = u8(in);
    uint16_t len = u16(in) % 2048;
    uint8_t cs = u8(in);
    uint32_t dst = cfg.gw_ip;
    uint16_t dport = PORT_UDP;
    uint8_t *f, *uh;

    switch (d % 5) {
    case 1:
        dport = PORT_UDP_OFF; /* ICMP port unreachable comes back */
        break;
    case 2:
        dst = cfg.dns_ip;
        dport = 53;
        break;
    case 3:
        dst = cfg.dns_ip;
        dport = 54;
        break;
    case 4:
        dst = 0x7f000001; /* refused by consomme */
        break;
    }
    f = ipv4_frame(dst, IPPROTO_UDP, 8u + len);
    uh = f + 34;
    put_be16(uh, (uint16_t)(30000 + sp % 16));
    put_be16(uh + 2, dport);
    put_be16(uh + 4, (uint16_t)(8 + len));
    for (uint16_t j = 0; j < len; j++)
        uh[8 + j] = (uint8_t)(j ^ d);
    if (!(cs & 1)) /* zero: no checksum, which UDP allows */
        put_be16(uh + 6, csum_fold(csum_partial(uh, 8u + len,
                                                csum_pseudo_ipv4(cfg.guest_ip, dst, IPPROTO_UDP,
                                                                 (uint16_t)(8 + len)))));
    batch_add(f, 34u + 8 + len);
}

static void op_udp_reply(struct input *in)
{
    static uint8_t buf[65536];
    uint8_t k = u8(in) % 2, i = u8(in) % 4;
    uint16_t len = u16(in);

    udp_collect();
    if (!npeers[k])
        return;
    i %= npeers[k] < 4 ? npeers[k] : 4;
    memset(buf, 0x5a, len);
    sendto(k ? dns_fd : udp_fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&peers[k][i],
           sizeof(peers[k][i]));
}

/* ------------------------------------------------------------------ raw frames */

static void op_raw(struct input *in)
{
    uint8_t fl = u8(in);
    size_t len = u16(in);
    uint8_t *f;

    if (len > in->n)
        len = in->n;
    f = malloc(len ? len : 1);
    if (!f)
        die("out of memory");
    memcpy(f, in->p, len);
    in->p += len;
    in->n -= len;
    fuzz_fix_checksums(f, len, fl);
    batch_add(f, len);
}

/* ------------------------------------------------------------------ what users configure */

/* consomme's option parsers (config.c, policy.c) on the text a user or the host's resolv.conf
 * gives; NAT rules join the stack's policy for the rest of the input. */
static void op_parse(struct input *in)
{
    uint8_t kind = u8(in);
    size_t len = u8(in);
    char text[256], err[ERRBUF_LEN], path[64];
    struct cm_tcp_bounds b;
    struct sockaddr_in sa;
    unsigned mtu;
    int fd;

    if (len > in->n)
        len = in->n;
    memcpy(text, in->p, len);
    text[len] = '\0';
    in->p += len;
    in->n -= len;
    switch (kind % 5) {
    case 0:
        if (!cm_parse_tcp_bounds(text, &b, err, sizeof(err)) &&
            (b.initial > b.max || b.initial < RING_MIN_CAP || b.max > RING_MAX_CAP ||
             (b.initial & (b.initial - 1)) || (b.max & (b.max - 1))))
            die("ring bounds accepted that tcp.c cannot use");
        break;
    case 1:
        if (!cm_parse_mtu(text, &mtu, err, sizeof(err)) && (mtu < CM_MTU_MIN || mtu > CM_MTU_MAX))
            die("an MTU out of range accepted");
        break;
    case 3:
    case 4: /* --allow / --deny: the rule applies to the rest of the input's traffic */
        cm_policy_add(&stack->opts.policy, text, kind % 5 == 3, err, sizeof(err));
        break;
    default:
        fd = memfd_create("resolv.conf", MFD_CLOEXEC);
        if (fd < 0)
            break;
        if (write(fd, text, len) == (ssize_t)len) {
            snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
            cm_resolv_conf_nameserver(path, &sa, err, sizeof(err));
        }
        close(fd);
        break;
    }
}

/* ------------------------------------------------------------------ set-up and one input */

static int listen_on(int type, uint16_t port, int backlog)
{
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
        (type == SOCK_STREAM && listen(fd, backlog))) {
        close(fd);
        return -1;
    }
    return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct cm_opts o;

    verbose = getenv("CONSOMME_STATE_FUZZ_VERBOSE") != NULL;
    fuzz_isolate("consomme_state_fuzz");
    /* small kernel buffers: a few KiB block either direction (back-pressure, zero windows) */
    fuzz_write_file("/proc/sys/net/ipv4/tcp_rmem", "4096 4096 16384");
    fuzz_write_file("/proc/sys/net/ipv4/tcp_wmem", "4096 4096 16384");
    for (int i = 0; i < NSLOTS; i++)
        lfd[i] = listen_on(SOCK_STREAM, (uint16_t)(PORT_LISTEN + i), 16);
    stuck_fd = listen_on(SOCK_STREAM, PORT_STUCK, 0);
    udp_fd = listen_on(SOCK_DGRAM, PORT_UDP, 0);
    dns_fd = listen_on(SOCK_DGRAM, PORT_DNS, 0);
    for (int i = 0; i < NSLOTS; i++)
        if (lfd[i] < 0)
            stuck_fd = -1;
    fuzz_stack_opts(&o, PORT_DNS);
    if (cm_create(&o, &stack, NULL, 0))
        die("cannot create the stack");
    /* its TCP state is made per input (setup()); UDP flows all expire after each */
    tcp_cleanup(stack);
    obuf_size = stack->obuf_size;
    grx = malloc(GRX_SIZE);
    if (!grx)
        die("out of memory");
    stack->tr = &fz_ops;
    if (stuck_fd < 0 || udp_fd < 0 || dns_fd < 0) {
        fprintf(stderr,
                "consomme_state_fuzz: cannot open the host side's sockets on loopback: %s\n",
                strerror(errno));
        exit(1);
    }
    return 0;
}

static void setup(struct input *in)
{
    static const struct cm_tcp_bounds rings[4] = {
        {4096, 4096}, {4096, 65536}, {16384, 262144}, {65536, 1u << 20}};
    static const unsigned mtus[4] = {1500, 65520, 576, 9000};
    uint8_t a = u8(in), b = u8(in), t = u8(in);
    struct cm_opts o;

    fuzz_stack_opts(&o, PORT_DNS);
    o.cfg.mtu = mtus[a & 3];
    o.cfg.tcp_rx = rings[(a >> 2) & 3];
    o.cfg.tcp_tx = rings[(a >> 4) & 3];
    o.cfg.max_connections = 1 + ((a >> 6) & 3) * 2;
    o.max_udp_flows = 4;
    /* A fresh TCP state on the stack made once: creating a whole stack per input
     * (its 8 MiB of transport buffers, which this target never uses) would cost more than
     * the input itself under ASan. */
    stack->opts = o;
    stack->resolver = o.dns_upstream;
    stack->have_resolver = true;
    memset(&stack->st, 0, sizeof(stack->st));
    memset(stack->guest_mac, 0, sizeof(stack->guest_mac));
    stack->guest_mac_known = false;
    stack->guest_blocked = false;
    stack->ip_id = 0;
    if (tcp_init(stack))
        die("cannot set up TCP");
    cfg = o.cfg;
    now_ms = 1000000;
    next_tick = next_sweep = now_ms;
    isn_next = (b & 3) == 0 ? 0x2000 : (b & 3) == 1 ? 0xfffffe00u : 0x80000000u - (b & 0xfc);
    q_cap = (size_t)1024 << ((b >> 2) % 10);
    q_head = q_n = 0;
    q_bytes = 0;
    autodrain = !(b & 0x80);
    hold = false;
    ip_id = 1;
    memset(slots, 0, sizeof(slots));
    memset(peers, 0, sizeof(peers));
    memset(npeers, 0, sizeof(npeers));
    for (int i = 0; i < NSLOTS; i++)
        slots[i].hfd = -1;
    tr_kind = t % 3;
    if (tr_kind == TR_FUZZ) {
        stack->tr = &fz_ops;
    } else {
        int sv[2], rc, sz = 4096 << (t / 3 % 6);
        char err[ERRBUF_LEN];

        if (socketpair(AF_UNIX, (tr_kind == TR_TAP ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC,
                       0, sv))
            die("socketpair failed");
        stack->tr = &cm_queue_ops;
        rc = tr_kind == TR_TAP ? cm_transport_tap_fd(stack, sv[0], err, sizeof(err))
                               : cm_transport_stream_fd(stack, sv[0], err, sizeof(err));
        if (rc)
            die(err);
        guest_fd = sv[1];
        fcntl(guest_fd, F_SETFL, O_NONBLOCK);
        if (tr_kind == TR_STREAM) {
            /* small socket and queue sizes, so a slow guest blocks consomme early */
            setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
            setsockopt(guest_fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        }
        stack->obuf_size = q_cap < 2 * (cfg.mtu + 18) ? 2 * (cfg.mtu + 18) : q_cap;
        if (stack->obuf_size > obuf_size)
            stack->obuf_size = obuf_size;
    }
}

static void teardown(void)
{
    uint8_t buf[2048];
    int fd;

    {
        /* the counters as --stats writes them; with CONSOMME_STATE_FUZZ_VERBOSE also shown,
         * to check that a seed reaches what it is meant to */
        json_t *j = cm_stats_json(stack);
        char *t = j && verbose ? json_dumps(j, JSON_COMPACT) : NULL;

        if (verbose)
            fprintf(stderr, "%s\n", t ? t : "(no stats)");
        free(t);
        json_decref(j);
    }
    tcp_cleanup(stack);
    udp_sweep(stack, UINT64_MAX / 2); /* every flow, whatever its age */
    if (tr_kind != TR_FUZZ) {
        /* back to no transport, as cm_create() left it */
        cm_event_del(stack, &stack->tr_ev);
        close(stack->tr_ev.fd);
        stack->tr_ev.fd = -1;
        stack->tr_events = 0;
        stack->kind = CM_TRANSPORT_NONE;
        stack->obuf_head = stack->obuf_tail = 0;
        stack->obuf_size = obuf_size;
        stack->ibuf_len = 0;
        stack->ibuf_skip = 0;
        close(guest_fd);
        guest_fd = -1;
        grx_len = 0;
    }
    stack->stop = false;
    stack->exit_code = 0;
    for (int i = 0; i < NSLOTS; i++) {
        if (slots[i].hfd >= 0)
            reset_close(slots[i].hfd);
        slots[i].hfd = -1;
        while ((fd = accept4(lfd[i], NULL, NULL, SOCK_CLOEXEC)) >= 0)
            reset_close(fd);
    }
    while ((fd = accept4(stuck_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
        reset_close(fd);
    while (recv(udp_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0 ||
           recv(dns_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
        ;
}

static void run_op(struct input *in)
{
    uint8_t op = u8(in) % OP__COUNT;
    int idx = 0;
    struct slot *s = NULL;

    trace("op %d at %zu, t=%llu\n", op, in->n, (unsigned long long)now_ms);

    if (op <= OP_HOST_CLOSE) {
        idx = u8(in) % NSLOTS;
        s = &slots[idx];
        if (op != OP_CONNECT && op != OP_SYN && !s->open)
            return;
    }
    if (op >= OP_HOST_WRITE && op != OP_UDP && op != OP_RAW)
        batch_flush();
    switch (op) {
    case OP_CONNECT: {
        bool was_hold = hold;

        hold = false;
        guest_syn(in, s, idx);
        if (s->have_c)
            guest_ack(s, s->c_nxt, s->g_win);
        hold = was_hold;
        break;
    }
    case OP_SYN:
        guest_syn(in, s, idx);
        break;
    case OP_SEND: {
        uint32_t len = u16(in);

        guest_tcp(s, TH_ACK | TH_PSH, s->g_nxt, s->c_nxt, s->g_win, NULL, 0, len);
        s->g_ack = s->c_nxt;
        s->g_nxt += len;
        break;
    }
    case OP_ACK: {
        uint8_t mode = u8(in);
        uint16_t n = u16(in), win = u16(in);

        s->g_win = win;
        guest_ack(s, ack_choice(s, mode, n), win);
        break;
    }
    case OP_FIN:
        guest_tcp(s, TH_FIN | TH_ACK, s->g_nxt, s->c_nxt, s->g_win, NULL, 0, 0);
        s->g_nxt++;
        break;
    case OP_RST: {
        uint8_t m = u8(in);

        guest_tcp(s, (uint8_t)(TH_RST | (m & 1 ? TH_ACK : 0)), s->g_nxt + (m >> 1), s->c_nxt, 0,
                  NULL, 0, 0);
        break;
    }
    case OP_SEG:
        op_seg(in, s);
        break;
    case OP_HOST_WRITE:
        host_write(s, u16(in));
        break;
    case OP_HOST_READ:
        host_read(s, u16(in));
        break;
    case OP_HOST_SHUT: {
        static const int how[3] = {SHUT_WR, SHUT_RD, SHUT_RDWR};

        if (s->hfd >= 0)
            shutdown(s->hfd, how[u8(in) % 3]);
        break;
    }
    case OP_HOST_CLOSE:
        if (s->hfd >= 0) {
            if (u8(in) & 1)
                reset_close(s->hfd);
            else
                close(s->hfd);
            s->hfd = -1;
        }
        break;
    case OP_CLOCK: {
        uint16_t t = u16(in);

        now_ms += u8(in) & 1 ? (uint64_t)t * 64 : t;
        break;
    }
    case OP_QCAP:
        q_cap = (size_t)1024 << (u8(in) % 10);
        break;
    case OP_SLOW:
        autodrain = !autodrain;
        break;
    case OP_DRAIN: {
        uint8_t n = u8(in);

        q_drain(n ? n : QMAX);
        break;
    }
    case OP_UDP:
        op_udp(in);
        break;
    case OP_UDP_REPLY:
        op_udp_reply(in);
        break;
    case OP_RAW:
        op_raw(in);
        break;
    case OP_HOLD:
        hold = !hold;
        break;
    case OP_PARSE:
        op_parse(in);
        break;
    }
    if (op >= OP_HOST_WRITE && op != OP_UDP && op != OP_RAW)
        pump();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};

    setup(&in);
    for (int i = 0; i < MAX_OPS && in.n && !stack->stop; i++)
        run_op(&in);
    hold = false;
    batch_flush();
    pump();
    teardown();
    return 0;
}
