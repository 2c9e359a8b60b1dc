/* SPDX-License-Identifier: MIT */
/*
 * tcp.c - guest TCP connections terminated in consomme and proxied to host sockets
 *
 * Theory of operation
 * ===================
 *
 * Every guest connection is two connections: the guest's TCP peer, played here with sequence
 * numbers, windows and retransmissions, and an ordinary host socket the kernel runs. Bytes are
 * relayed between them through two rings per connection:
 *
 *   rx: guest -> host. Holds bytes the guest sent (and we ACKed) that the host socket has not
 *       taken yet. Its free space is exactly the window advertised to the guest, so nothing the
 *       guest may send is ever refused for lack of room. Out-of-order segments are parked in
 *       that free space at their offset from rcv_nxt (ring_write_at) and tracked by the
 *       reassembler (reasm.c); they join the data when the hole before them fills. A large
 *       in-order segment that finds rx empty is sent to the host socket at once and only the
 *       part the socket refuses is copied into rx (one copy less on the bulk path).
 *   tx: host -> guest. Holds bytes read from the host socket that the guest has not ACKed:
 *       the ring head is snd_una, [snd_una, snd_nxt) is in flight, the rest is unsent. A
 *       retransmission is a resend from the ring, nothing is copied twice. New data goes out
 *       in segments of the connection's MSS or, where the transport lets the guest segment
 *       (cm_guest_tso_max(): virtio-net GUEST_TSO4), in super-frames of whole MSS-sized
 *       segments up to 64 KiB, one frame for the guest's driver and stack to handle.
 *
 * States (the classic ones that matter for a proxy; the closing half-states are flags):
 *
 *   CONNECTING   guest SYN seen, host connect() in progress: the guest gets no answer yet, its
 *                SYN retransmissions are ignored. Success: SYN-ACK, SYN_RCVD. ECONNREFUSED: RST
 *                to the guest. Unreachable or no answer within TCP_CONNECT_TIMEOUT_MS: freed
 *                silently (the guest times out as it would on a real network).
 *   SYN_RCVD     SYN-ACK sent (retransmitted on timeout), waiting for the guest's ACK.
 *   ESTABLISHED  data both ways. Closing is tracked per direction:
 *                guest FIN (in order) -> F_GUEST_FIN; once rx is drained, shutdown(SHUT_WR)
 *                on the host socket (F_HOST_SHUT). The guest can still read: half-close.
 *                host EOF (read() == 0) -> F_HOST_EOF; once tx is all sent, FIN to the guest,
 *                F_FIN_ACKED when it is ACKed. Guest data still flows meanwhile.
 *                Both directions closed: if our FIN went first we linger in TIME_WAIT,
 *                otherwise (the guest closed first, LAST_ACK) the connection is freed at once.
 *   TIME_WAIT    host socket closed and rings freed; for TCP_TIME_WAIT_MS a retransmitted
 *                guest FIN is ACKed again, a new SYN on the same ports replaces the entry.
 *   CLOSED       resources released, waiting to be freed at the end of the current event
 *                (callers up the stack may still hold the pointer).
 *
 * RST: from the guest, the host socket is closed with SO_LINGER 0 so the host peer sees a
 * reset too; from the host (ECONNRESET, EPOLLERR), the guest gets a RST. Segments for unknown
 * connections are answered with a RST, as a real stack would.
 *
 * Events:
 *   tcp_input()        parse and check the segment (lengths, data offset, options, checksum),
 *                      find the connection, run the state machine; data lands in rx, ACKs free
 *                      tx. The connection joins the batch list.
 *   tcp_input_flush()  for each connection of the batch: write rx to the host (one writev of
 *                      the ring halves), read the host if tx had been full, send what the
 *                      guest's window allows, and one ACK if none of that carried it.
 *   host socket event  EPOLLIN: readv straight into tx, then send to the guest.
 *                      EPOLLOUT: the host took more rx, the window reopens (window update).
 *   tcp_timer()        connect timeout, RTO (go back to snd_una, RTO doubles), zero-window
 *                      probes, TIME_WAIT expiry.
 *   3 duplicate ACKs   the segment at snd_una is sent again at once (fast retransmit).
 *   guest queue full   cm_send_ipv4() says -ENOBUFS: sending stops; tcp_guest_writable()
 *                      resumes the connections round robin from where the queue filled.
 *
 * Destinations: the host socket connects where cm_host_dest() says (the gateway is the host's
 * loopback, the DNS address port 53 the host's resolver); the DNS address on another port, or
 * with no resolver known, refuses the SYN with a RST.
 *
 * Limits: beyond cm_config()->max_connections open connections a SYN gets a RST; a host
 * socket that cannot be created (descriptors, memory) also gets the guest a RST. The NAT
 * policy (cm_host_dest() says -EACCES) refuses with a RST too.
 *
 * Memory budget: all rings together (their capacity, plus the initial rings reserved for
 * connections still CONNECTING) stay within cm_config()->max_buffer_memory. A SYN whose
 * initial rings would pass it gets a RST (refused_memory). Rings grow only within three
 * quarters of it, the rest being kept for new connections' initial rings; a ring that would
 * grow past that stays as it is (buffer_grows_refused): a full tx then just pauses host reads,
 * a full rx a smaller window. Closing a connection returns its rings to the budget at once. A guest
 * that keeps a zero window while tx holds data is reset after TCP_ZERO_WINDOW_TIMEOUT_MS
 * (zero_window_aborts), so it cannot pin its rings for ever. The stats show the budget's use
 * (buffer_bytes, its high-water mark buffer_bytes_peak) and who holds it: the
 * TCP_STATS_TOP connections with the most ring bytes (connections_by_memory).
 *
 * Autotune (seed 000): rings start at cm_config()->tcp_{rx,tx}.initial and double in place up
 * to .max. tx doubles when a host read fills it and the socket still has data. rx doubles
 * when it was at least 75% full (counting bytes that went straight to the host since our last
 * ACK, which would have filled it) and then drained (nothing parked either), and an ACK goes out
 * at once so the guest sees the larger window. The rx window scale is derived from rx.max at
 * SYN time so a grown window is always expressible; a guest without window scaling caps rx at
 * 64 KiB (window 65535).
 *
 * Sequence arithmetic is modulo 2^32 everywhere (seq_lt and friends).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "byteorder.h"
#include "consomme.h"
#include "reasm.h"
#include "ring.h"
#include "tcp.h"

#define TF_FIN 0x01
#define TF_SYN 0x02
#define TF_RST 0x04
#define TF_PSH 0x08
#define TF_ACK 0x10

/* Pieces of one segment's payload: what follows the header in the header block, then the
 * transport's pieces in guest memory (tcp_input_sg()). */
#define TCP_DATA_IOV (1 + CM_TCP_TAIL_MAX)

/* In-order guest segments at least this large skip the rx ring when it is empty. */
#define TCP_DIRECT_MIN 16384u

/* Rings grow only while all of them stay below the budget less 1/TCP_GROW_RESERVE of it. */
#define TCP_GROW_RESERVE 4

/* Connections listed by memory in the stats dump (the largest first). */
#define TCP_STATS_TOP 16

#define TCP_HDR_LEN  20
#define TCP_OPTS_MAX 40
#define IP_HDR_LEN   20

enum tcp_state_id {
    CS_CONNECTING,
    CS_SYN_RCVD,
    CS_ESTABLISHED,
    CS_TIME_WAIT,
    CS_CLOSED,
};

enum {
    F_GUEST_FIN = 1u << 0,     /* the guest's FIN is in order and counted in rcv_nxt */
    F_FIN_PENDING = 1u << 1,   /* the guest's FIN arrived beyond a hole, at fin_rcv_seq */
    F_HOST_SHUT = 1u << 2,     /* shutdown(SHUT_WR) done on the host socket */
    F_HOST_EOF = 1u << 3,      /* the host socket returned EOF: tx no longer grows */
    F_FIN_SENT = 1u << 4,      /* snd_nxt covers our FIN */
    F_FIN_ACKED = 1u << 5,     /* the guest ACKed our FIN */
    F_ACK_NOW = 1u << 6,       /* an ACK is owed to the guest */
    F_IN_BATCH = 1u << 7,      /* on the batch list */
    F_RX_HIGH = 1u << 8,       /* rx reached 75% since it last drained */
    F_WS = 1u << 9,            /* window scaling negotiated */
    F_HOST_WBLOCK = 1u << 10,  /* the host socket refused more rx: wait for EPOLLOUT */
    F_READ_PAUSED = 1u << 11,  /* tx full: host reads wait for ACKs */
    F_ACTIVE_CLOSE = 1u << 12, /* our FIN went before the guest's: TIME_WAIT at the end */
    F_RTT = 1u << 13,          /* an RTT sample is running (rtt_seq, rtt_ts) */
    F_EV_PARKED = 1u << 14,    /* fd taken out of epoll: EPOLLHUP while reads are paused */
    F_DEAD_LIST = 1u << 15,    /* on the list of connections to free */
    F_ACK_LATER = 1u << 16,    /* a delayed ACK is owed, by delack_at at the latest */
};

enum tcp_drop {
    TCP_DROP_SHORT,         /* shorter than a TCP header */
    TCP_DROP_OFFSET,        /* data offset below 20 or beyond the segment */
    TCP_DROP_CHECKSUM,      /* checksum wrong */
    TCP_DROP_NO_CONN,       /* no connection and not a SYN (answered with RST) */
    TCP_DROP_OUT_OF_WINDOW, /* data outside the advertised window, trimmed or dropped */
    TCP_DROP_OOO_LIMIT,     /* one more out-of-order range than the reassembler keeps */
    TCP_DROP_BAD_ACK,       /* acknowledges data never sent */
    TCP_DROP_STATE,         /* not acceptable in the connection's state */
    TCP_DROP_NOMEM,         /* no memory for a connection or its rings */
    TCP_DROP_GUEST_QUEUE,   /* a segment to the guest did not fit its queue */
    TCP_DROP__COUNT
};

static const char *const tcp_drop_names[TCP_DROP__COUNT] = {
    "short",     "data_offset", "checksum", "no_connection", "out_of_window",
    "ooo_limit", "bad_ack",     "state",    "no_memory",     "guest_queue",
};

struct tcp_stats {
    uint64_t conns_total, refused, refused_limit, connect_failed, connect_timeouts;
    uint64_t rst_to_guest, rst_from_guest, rst_from_host;
    uint64_t segs_in, segs_out, bytes_from_guest, bytes_to_guest;
    uint64_t retransmits, fast_retransmits, window_probes, ooo_segments;
    uint64_t tx_buffer_grows, rx_buffer_grows;
    uint64_t rx_buffer_bytes, tx_buffer_bytes; /* current capacity of all rings */
    uint32_t rx_buffer_peak, tx_buffer_peak;   /* largest single ring reached */
    uint64_t buffer_bytes_peak;                /* high-water mark of all rings together */
    uint64_t conn_buffer_peak;                 /* largest rx + tx of one connection */
    uint64_t refused_memory, buffer_grows_refused, zero_window_aborts;
    uint64_t drops[TCP_DROP__COUNT];
};

struct tcp_conn {
    struct cm_event ev;        /* host socket, fd -1 once closed */
    struct tcp_conn *hnext;    /* hash chain */
    LIST_ENTRY(tcp_conn) link; /* all connections */
    struct tcp_conn *bnext;    /* batch list */
    struct tcp_conn *dnext;    /* list of connections to free */
    uint32_t gip, dip;         /* guest address; destination as the guest sees it */
    uint16_t gport, dport;
    uint8_t state;
    uint32_t flags;
    uint32_t events; /* epoll interest registered now */

    /* guest -> host */
    uint32_t irs, rcv_nxt, rcv_adv, fin_rcv_seq;
    uint32_t rx_fill; /* in-order bytes taken since our last ACK, ring or straight to host */
    uint32_t rx_max;
    uint8_t rcv_ws, snd_ws;
    struct ring rx;
    struct reasm ooo;

    /* host -> guest */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd;
    uint32_t tx_max;
    uint16_t mss;
    struct ring tx;
    uint32_t reserved; /* CONNECTING: initial ring bytes held in the budget, not allocated */
    uint64_t mem_peak; /* most rx + tx capacity this connection held */

    /* timers, ms */
    uint64_t deadline;  /* CONNECTING: give up; TIME_WAIT: free */
    uint64_t rto_at;    /* retransmission or zero-window probe, 0 when idle */
    uint64_t zw_since;  /* the guest's window closed with data waiting, 0 when not */
    uint64_t delack_at; /* F_ACK_LATER: when the ACK goes out at the latest */
    uint64_t rtt_ts;
    uint32_t rtt_seq;
    uint32_t rto, srtt, rttvar;
    uint8_t retries, dupacks;
};

struct tcp_state {
    struct tcp_conn **hash;
    uint32_t hash_mask;
    LIST_HEAD(, tcp_conn) all;
    struct tcp_conn *batch;
    struct tcp_conn *dead;
    struct tcp_conn *rr; /* where tcp_guest_writable() starts next, NULL: at the head */
    unsigned n_conns;    /* all entries, TIME_WAIT and not yet freed included */
    unsigned n_open;     /* counted against max_connections */
    uint64_t reserved;   /* initial rings of CONNECTING connections, see tcp_conn::reserved */
    bool guest_blocked;
    struct tcp_stats st;
};

static inline bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static inline bool seq_le(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static struct tcp_state *tstate(struct consomme *c)
{
    return cm_tcp_state(c);
}

uint8_t tcp_rx_wscale(uint32_t rx_max)
{
    uint8_t s = 0;

    while (s < 14 && (rx_max >> s) > 65535)
        s++;
    return s;
}

/* Bytes held against cm_config()->max_buffer_memory. */
static uint64_t tcp_mem_used(const struct tcp_state *s)
{
    return s->st.rx_buffer_bytes + s->st.tx_buffer_bytes + s->reserved;
}

/*
 * Whether @more bytes still fit the budget: all of it for a new connection's initial rings,
 * TCP_GROW_SHARE of it for growth. Like Linux's tcp_mem, where buffers stop growing under
 * "pressure" before allocations fail at the hard limit: a few greedy connections cannot
 * grow into the last part, so new connections can still open.
 */
static bool tcp_mem_fits(struct consomme *c, uint64_t more, bool growth)
{
    const struct tcp_state *s = cm_tcp_state(c);
    uint64_t cap = cm_config(c)->max_buffer_memory;

    if (growth)
        cap -= cap / TCP_GROW_RESERVE;
    return tcp_mem_used(s) + more <= cap;
}

/* High-water marks, after a connection's rings were allocated or grew. */
static void tcp_mem_peaks(struct tcp_state *s, struct tcp_conn *conn)
{
    uint64_t all = s->st.rx_buffer_bytes + s->st.tx_buffer_bytes;
    uint64_t mine = (uint64_t)conn->rx.cap + conn->tx.cap;

    if (all > s->st.buffer_bytes_peak)
        s->st.buffer_bytes_peak = all;
    if (mine > conn->mem_peak)
        conn->mem_peak = mine;
    if (mine > s->st.conn_buffer_peak)
        s->st.conn_buffer_peak = mine;
}

/* ------------------------------------------------------------------ lookup */

static uint32_t tcp_hash(uint32_t gip, uint16_t gport, uint32_t dip, uint16_t dport)
{
    uint64_t h = ((uint64_t)gip << 32 | dip) * 0x9e3779b97f4a7c15ull;

    h ^= ((uint64_t)gport << 16 | dport) * 0xc2b2ae3d27d4eb4full;
    return (uint32_t)(h >> 32);
}

static struct tcp_conn **tcp_bucket(struct tcp_state *s, uint32_t gip, uint16_t gport, uint32_t dip,
                                    uint16_t dport)
{
    return &s->hash[tcp_hash(gip, gport, dip, dport) & s->hash_mask];
}

static struct tcp_conn *tcp_lookup(struct tcp_state *s, uint32_t gip, uint16_t gport, uint32_t dip,
                                   uint16_t dport)
{
    struct tcp_conn *conn = *tcp_bucket(s, gip, gport, dip, dport);

    for (; conn; conn = conn->hnext)
        if (conn->gip == gip && conn->gport == gport && conn->dip == dip && conn->dport == dport)
            return conn;
    return NULL;
}

static void tcp_hash_remove(struct tcp_state *s, struct tcp_conn *conn)
{
    struct tcp_conn **pp = tcp_bucket(s, conn->gip, conn->gport, conn->dip, conn->dport);

    for (; *pp; pp = &(*pp)->hnext) {
        if (*pp == conn) {
            *pp = conn->hnext;
            conn->hnext = NULL;
            return;
        }
    }
}

/* ------------------------------------------------------------------ output */

/*
 * Payload checksum over ring pieces: the core's csum_partial() pads an odd piece with a zero
 * byte, so a piece that starts at an odd offset has its folded sum byte-swapped (RFC 1071).
 */
static uint32_t csum_iov(const struct iovec *iov, int cnt, uint32_t sum)
{
    size_t off = 0;

    for (int i = 0; i < cnt; i++) {
        uint32_t s = csum_partial(iov[i].iov_base, iov[i].iov_len, 0);

        if (off & 1)
            s = ((s & 0xff) << 8) | ((s >> 8) & 0xff);
        sum += s;
        off += iov[i].iov_len;
    }
    return sum;
}

/**
 * tcp_send_raw() - Build one TCP header in place and queue header + payload to the guest
 * @c:		Stack
 * @src:	Source address (the destination the guest connected to), host order
 * @dst:	Guest address
 * @sport:	Source port
 * @dport:	Guest port
 * @seq:	Sequence number
 * @ack:	Acknowledgement number (sent when @flags has TF_ACK)
 * @flags:	TH_* bits
 * @win:	Window field, already scaled
 * @opts:	Options, a multiple of 4 bytes, or NULL
 * @optlen:	Bytes at @opts
 * @data:	Payload pieces (ring halves), or NULL
 * @ndata:	Number of pieces, at most 2
 * @dlen:	Total payload bytes
 * @mss:	The connection's MSS: a larger @dlen goes as one super-frame the guest segments
 *		(within cm_guest_tso_max()); 0 for segments that are never larger
 *
 * Return: 0, or the error of cm_send_ipv4() (-ENOBUFS when the guest queue is full)
 */
static int tcp_send_raw(struct consomme *c, uint32_t src, uint32_t dst, uint16_t sport,
                        uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
                        const uint8_t *opts, unsigned optlen, const struct iovec *data, int ndata,
                        uint32_t dlen, uint16_t mss)
{
    struct tcp_state *s = tstate(c);
    uint8_t hdr[TCP_HDR_LEN + TCP_OPTS_MAX];
    unsigned hlen = TCP_HDR_LEN + optlen;
    bool tso = mss && dlen > mss;
    struct iovec iov[3];
    uint32_t sum;
    int rc;

    put_be16(hdr, sport);
    put_be16(hdr + 2, dport);
    put_be32(hdr + 4, seq);
    put_be32(hdr + 8, (flags & TF_ACK) ? ack : 0);
    hdr[12] = (uint8_t)((hlen / 4) << 4);
    hdr[13] = flags;
    put_be16(hdr + 14, win);
    put_be16(hdr + 16, 0);
    put_be16(hdr + 18, 0);
    if (optlen)
        memcpy(hdr + TCP_HDR_LEN, opts, optlen);
    if (cm_guest_verifies_csum(c) && !tso) { /* a super-frame's field is the core's */
        sum = csum_pseudo_ipv4(src, dst, IPPROTO_TCP, (uint16_t)(hlen + dlen));
        sum = csum_partial(hdr, hlen, sum);
        if (ndata)
            sum = csum_iov(data, ndata, sum);
        put_be16(hdr + 16, csum_fold(sum));
    }

    iov[0].iov_base = hdr;
    iov[0].iov_len = hlen;
    for (int i = 0; i < ndata; i++)
        iov[1 + i] = data[i];
    if (tso)
        rc = cm_send_tcp_tso(c, src, dst, iov, 1 + ndata, mss);
    else
        rc = cm_send_ipv4(c, src, dst, IPPROTO_TCP, iov, 1 + ndata);
    if (rc) {
        s->st.drops[TCP_DROP_GUEST_QUEUE]++;
        if (rc == -ENOBUFS)
            s->guest_blocked = true;
        return rc;
    }
    s->st.segs_out++;
    if (flags & TF_RST)
        s->st.rst_to_guest++;
    return 0;
}

/* Window we can offer now: the rx free space, capped by what the field can express. */
static uint32_t tcp_rcv_wnd(const struct tcp_conn *conn)
{
    uint32_t w = ring_space(&conn->rx);

    return min_u32(w, 65535u << conn->rcv_ws);
}

/**
 * tcp_send_seg() - Send a segment of connection @conn with the current ACK and window
 * @c:		Stack
 * @conn:	Connection
 * @flags:	TH_* bits; TF_ACK is added
 * @seq:	Sequence number of the first byte
 * @off:	Offset of the payload in tx, counted from snd_una
 * @n:		Payload bytes
 *
 * Return: 0 or negative errno from the guest queue
 */
static int tcp_send_seg(struct consomme *c, struct tcp_conn *conn, uint8_t flags, uint32_t seq,
                        uint32_t off, uint32_t n)
{
    struct iovec iov[2] = {{0}};
    uint32_t wnd = tcp_rcv_wnd(conn);
    uint16_t field = (uint16_t)(wnd >> conn->rcv_ws);
    int cnt = n ? ring_data_iov(&conn->tx, off, n, iov) : 0;
    int rc;

    rc = tcp_send_raw(c, conn->dip, conn->gip, conn->dport, conn->gport, seq, conn->rcv_nxt,
                      flags | TF_ACK, field, NULL, 0, iov, cnt, n, conn->mss);
    if (rc)
        return rc;
    conn->rcv_adv = conn->rcv_nxt + ((uint32_t)field << conn->rcv_ws);
    conn->rx_fill = 0;
    conn->flags &= ~(F_ACK_NOW | F_ACK_LATER);
    return 0;
}

static void tcp_send_ack(struct consomme *c, struct tcp_conn *conn)
{
    tcp_send_seg(c, conn, 0, conn->snd_nxt, 0, 0);
}

static int tcp_send_synack(struct consomme *c, struct tcp_conn *conn)
{
    const struct cm_config *cfg = cm_config(c);
    uint8_t opts[8];
    unsigned optlen = 4;
    uint32_t wnd = min_u32(ring_space(&conn->rx), 65535); /* never scaled in a SYN */
    int rc;

    opts[0] = 2; /* MSS */
    opts[1] = 4;
    put_be16(opts + 2, (uint16_t)(cfg->mtu - IP_HDR_LEN - TCP_HDR_LEN));
    if (conn->flags & F_WS) {
        opts[4] = 1; /* NOP */
        opts[5] = 3; /* window scale */
        opts[6] = 3;
        opts[7] = conn->rcv_ws;
        optlen = 8;
    }
    rc = tcp_send_raw(c, conn->dip, conn->gip, conn->dport, conn->gport, conn->iss, conn->rcv_nxt,
                      TF_SYN | TF_ACK, (uint16_t)wnd, opts, optlen, NULL, 0, 0, 0);
    if (!rc)
        conn->rcv_adv = conn->rcv_nxt + wnd;
    return rc;
}

/* RST answering a segment that has no connection (RFC 793, "Reset Generation"). */
static void tcp_send_rst_reply(struct consomme *c, const struct cm_ipv4 *ip, const uint8_t *th,
                               uint32_t plen)
{
    uint8_t fl = th[13];
    uint32_t seq = get_be32(th + 4), ack = get_be32(th + 8);

    if (fl & TF_RST)
        return;
    if (fl & TF_ACK)
        tcp_send_raw(c, ip->dst, ip->src, get_be16(th + 2), get_be16(th), ack, 0, TF_RST, 0, NULL,
                     0, NULL, 0, 0, 0);
    else
        tcp_send_raw(c, ip->dst, ip->src, get_be16(th + 2), get_be16(th), 0,
                     seq + plen + !!(fl & TF_SYN) + !!(fl & TF_FIN), TF_RST | TF_ACK, 0, NULL, 0,
                     NULL, 0, 0, 0);
}

/* ------------------------------------------------------------------ life cycle */

static void tcp_rings_free(struct tcp_state *s, struct tcp_conn *conn)
{
    s->st.rx_buffer_bytes -= conn->rx.cap;
    s->st.tx_buffer_bytes -= conn->tx.cap;
    ring_free(&conn->rx);
    ring_free(&conn->tx);
}

static void tcp_host_close(struct consomme *c, struct tcp_conn *conn, bool reset)
{
    if (conn->ev.fd < 0)
        return;
    if (!(conn->flags & F_EV_PARKED))
        cm_event_del(c, &conn->ev);
    if (reset) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};

        setsockopt(conn->ev.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(conn->ev.fd);
    conn->ev.fd = -1;
    conn->flags &= ~F_EV_PARKED;
}

/*
 * tcp_conn_close() - Release a connection's socket and rings; the struct itself is freed by
 * tcp_reap() once no caller up the stack can hold it.
 */
static void tcp_conn_close(struct consomme *c, struct tcp_conn *conn, bool reset_host)
{
    struct tcp_state *s = tstate(c);

    if (conn->state == CS_CLOSED)
        return;
    tcp_host_close(c, conn, reset_host);
    tcp_rings_free(s, conn);
    s->reserved -= conn->reserved;
    conn->reserved = 0;
    tcp_hash_remove(s, conn);
    if (conn->state != CS_TIME_WAIT)
        s->n_open--;
    conn->state = CS_CLOSED;
    conn->flags |= F_DEAD_LIST;
    conn->dnext = s->dead;
    s->dead = conn;
}

/* Free closed connections that are not on the batch list (those go at the end of the batch). */
static void tcp_reap(struct consomme *c)
{
    struct tcp_state *s = tstate(c);
    struct tcp_conn **pp = &s->dead, *conn;

    while ((conn = *pp)) {
        if (conn->flags & F_IN_BATCH) {
            pp = &conn->dnext;
            continue;
        }
        *pp = conn->dnext;
        if (s->rr == conn)
            s->rr = LIST_NEXT(conn, link);
        LIST_REMOVE(conn, link);
        s->n_conns--;
        free(conn);
    }
}

/* Reset both sides: RST to the guest (if it knows the connection) and to the host peer. */
static void tcp_abort(struct consomme *c, struct tcp_conn *conn, bool rst_guest)
{
    if (rst_guest && conn->state != CS_CONNECTING)
        tcp_send_raw(c, conn->dip, conn->gip, conn->dport, conn->gport, conn->snd_nxt,
                     conn->rcv_nxt, TF_RST | TF_ACK, 0, NULL, 0, NULL, 0, 0, 0);
    tcp_conn_close(c, conn, true);
}

static void tcp_batch_add(struct tcp_state *s, struct tcp_conn *conn)
{
    if (conn->flags & F_IN_BATCH)
        return;
    conn->flags |= F_IN_BATCH;
    conn->bnext = s->batch;
    s->batch = conn;
}

static void tcp_set_events(struct consomme *c, struct tcp_conn *conn, uint32_t events)
{
    if (conn->ev.fd < 0 || (conn->flags & F_EV_PARKED) || conn->events == events)
        return;
    if (!cm_event_mod(c, &conn->ev, events))
        conn->events = events;
}

/* Interest follows the buffers: read while tx has room, wait for writability while rx waits. */
static void tcp_update_events(struct consomme *c, struct tcp_conn *conn)
{
    uint32_t ev = 0;

    if (conn->state != CS_ESTABLISHED)
        return;
    if ((conn->flags & (F_HOST_EOF | F_HOST_SHUT)) == (F_HOST_EOF | F_HOST_SHUT)) {
        /* nothing left to read or write: an fd kept would only report EPOLLHUP forever */
        tcp_host_close(c, conn, false);
        return;
    }
    if (!(conn->flags & (F_HOST_EOF | F_READ_PAUSED)))
        ev |= EPOLLIN;
    if (conn->flags & F_HOST_WBLOCK)
        ev |= EPOLLOUT;
    tcp_set_events(c, conn, ev);
}

static void tcp_time_wait(struct consomme *c, struct tcp_conn *conn)
{
    struct tcp_state *s = tstate(c);

    tcp_host_close(c, conn, false);
    tcp_rings_free(s, conn);
    conn->state = CS_TIME_WAIT;
    conn->rto_at = 0;
    conn->deadline = cm_now_ms() + TCP_TIME_WAIT_MS;
    s->n_open--;
}

/* Both directions finished: free now (guest closed first) or linger in TIME_WAIT. */
static void tcp_check_done(struct consomme *c, struct tcp_conn *conn)
{
    const uint32_t done = F_GUEST_FIN | F_HOST_SHUT | F_HOST_EOF | F_FIN_ACKED;

    if (conn->state != CS_ESTABLISHED || (conn->flags & done) != done)
        return;
    if (conn->flags & F_ACTIVE_CLOSE)
        tcp_time_wait(c, conn);
    else
        tcp_conn_close(c, conn, false);
}

/* ------------------------------------------------------------------ host -> guest */

static void tcp_arm_timer(struct tcp_conn *conn, uint64_t now)
{
    if (conn->snd_max != conn->snd_una) {
        if (!conn->rto_at)
            conn->rto_at = now + conn->rto;
        return;
    }
    /* nothing in flight: a closed window with data waiting needs probes, until the deadline */
    if (!conn->snd_wnd && (ring_len(&conn->tx) || (conn->flags & F_HOST_EOF))) {
        if (!conn->zw_since)
            conn->zw_since = now;
        if (!conn->rto_at)
            conn->rto_at = now + conn->rto;
        return;
    }
    conn->rto_at = 0;
}

/**
 * tcp_tx_send() - Send what the guest's window allows from tx, and our FIN after the last byte
 * @c:		Stack
 * @conn:	Established connection
 */
static void tcp_tx_send(struct consomme *c, struct tcp_conn *conn)
{
    struct tcp_state *s = tstate(c);
    uint64_t now = 0;

    while (conn->state == CS_ESTABLISHED && !(conn->flags & F_FIN_SENT)) {
        uint32_t sent = conn->snd_nxt - conn->snd_una;
        uint32_t avail = ring_len(&conn->tx) - sent;
        uint32_t wnd_end = conn->snd_una + conn->snd_wnd;
        uint32_t room = seq_lt(conn->snd_nxt, wnd_end) ? wnd_end - conn->snd_nxt : 0;
        uint32_t n = min_u32(min_u32(avail, room), cm_guest_tso_max(c, conn->mss));
        bool fin;
        uint8_t fl = 0;

        /* a super-frame is whole segments, but for the last bytes there are: the guest
         * would otherwise see a short segment in the middle of the stream */
        if (n > conn->mss && n < avail)
            n -= n % conn->mss;
        fin = (conn->flags & F_HOST_EOF) && n == avail;

        if (!n && !fin)
            break;
        if (n && n == avail)
            fl |= TF_PSH;
        if (fin)
            fl |= TF_FIN;
        if (tcp_send_seg(c, conn, fl, conn->snd_nxt, sent, n))
            break;
        if (!now)
            now = cm_now_ms();
        if (!(conn->flags & F_RTT) && conn->snd_nxt == conn->snd_max && n) {
            conn->flags |= F_RTT;
            conn->rtt_seq = conn->snd_nxt + n;
            conn->rtt_ts = now;
        }
        conn->snd_nxt += n + fin;
        if (seq_gt(conn->snd_nxt, conn->snd_max)) {
            s->st.bytes_to_guest += conn->snd_nxt - conn->snd_max;
            conn->snd_max = conn->snd_nxt;
        }
        if (fin) {
            conn->flags |= F_FIN_SENT;
            if (!(conn->flags & F_GUEST_FIN))
                conn->flags |= F_ACTIVE_CLOSE;
        }
    }
    if (conn->state == CS_ESTABLISHED)
        tcp_arm_timer(conn, now ? now : cm_now_ms());
}

/* More bytes waiting on the host socket? (A peek, so the tx ring only grows for real data.) */
static bool tcp_host_has_data(int fd)
{
    char b;

    return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

static void tcp_grow(struct consomme *c, struct tcp_conn *conn, bool is_rx)
{
    struct tcp_state *s = tstate(c);
    struct ring *r = is_rx ? &conn->rx : &conn->tx;
    uint32_t old = r->cap, max = is_rx ? conn->rx_max : conn->tx_max;

    if (old >= max)
        return;
    if (!tcp_mem_fits(c, old, true)) {
        s->st.buffer_grows_refused++; /* the budget is spent: the ring stays as it is */
        return;
    }
    if (ring_grow(r, old * 2))
        return;
    if (is_rx) {
        s->st.rx_buffer_grows++;
        s->st.rx_buffer_bytes += old;
        if (r->cap > s->st.rx_buffer_peak)
            s->st.rx_buffer_peak = r->cap;
    } else {
        s->st.tx_buffer_grows++;
        s->st.tx_buffer_bytes += old;
        if (r->cap > s->st.tx_buffer_peak)
            s->st.tx_buffer_peak = r->cap;
    }
    tcp_mem_peaks(s, conn);
}

/**
 * tcp_host_read() - Read from the host socket straight into tx, growing tx when it fills
 * @c:		Stack
 * @conn:	Established connection
 *
 * Return: 0, or -1 if the connection was reset
 */
static int tcp_host_read(struct consomme *c, struct tcp_conn *conn)
{
    struct tcp_state *s = tstate(c);

    conn->flags &= ~F_READ_PAUSED;
    while (!(conn->flags & F_HOST_EOF) && conn->ev.fd >= 0) {
        uint32_t space = ring_space(&conn->tx);
        struct iovec iov[2];
        ssize_t n;
        int cnt;

        if (!space) {
            if (conn->tx.cap < conn->tx_max && tcp_host_has_data(conn->ev.fd)) {
                tcp_grow(c, conn, false);
                if (ring_space(&conn->tx))
                    continue;
            }
            conn->flags |= F_READ_PAUSED;
            break;
        }
        cnt = ring_space_iov(&conn->tx, 0, space, iov);
        n = readv(conn->ev.fd, iov, cnt);
        if (n > 0) {
            ring_commit(&conn->tx, (uint32_t)n);
            if ((uint32_t)n < space)
                break; /* drained for now; epoll says when there is more */
            continue;
        }
        if (n == 0) {
            conn->flags |= F_HOST_EOF;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        s->st.rst_from_host++;
        tcp_abort(c, conn, true);
        return -1;
    }
    if ((conn->flags & F_EV_PARKED) && !(conn->flags & F_READ_PAUSED) && conn->ev.fd >= 0 &&
        !(conn->flags & F_HOST_EOF)) {
        /* reads resumed on an fd that was taken out of epoll for EPOLLHUP: put it back */
        conn->flags &= ~F_EV_PARKED;
        conn->events = EPOLLIN;
        if (cm_event_add(c, &conn->ev, EPOLLIN))
            conn->flags |= F_EV_PARKED;
    }
    return 0;
}

/* ------------------------------------------------------------------ guest -> host */

/**
 * tcp_rx_flush() - Write rx to the host socket; shut its write side after the guest's FIN
 * @c:		Stack
 * @conn:	Established connection
 *
 * When rx drains after having been 75% full, it doubles (up to its max) and an ACK is owed
 * at once so the guest sees the larger window. When a drain opens the window by a quarter of
 * the ring or more beyond what was advertised, an ACK (window update) is owed too, so a guest
 * that saw a small or zero window never stalls.
 *
 * Return: 0, or -1 if the connection was reset
 */
static int tcp_rx_flush(struct consomme *c, struct tcp_conn *conn)
{
    struct tcp_state *s = tstate(c);
    uint32_t adv;

    while (ring_len(&conn->rx) && conn->ev.fd >= 0) {
        struct iovec iov[2];
        struct msghdr mh = {.msg_iov = iov};
        uint32_t len = ring_len(&conn->rx);
        ssize_t n;

        mh.msg_iovlen = (size_t)ring_data_iov(&conn->rx, 0, len, iov);
        n = sendmsg(conn->ev.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            ring_consume(&conn->rx, (uint32_t)n);
            if ((uint32_t)n < len) {
                conn->flags |= F_HOST_WBLOCK;
                break;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn->flags |= F_HOST_WBLOCK;
            break;
        }
        s->st.rst_from_host++;
        tcp_abort(c, conn, true);
        return -1;
    }
    if (!ring_len(&conn->rx)) {
        conn->flags &= ~F_HOST_WBLOCK;
        if (reasm_empty(&conn->ooo)) {
            ring_rewind(&conn->rx);
            if ((conn->flags & F_RX_HIGH) && conn->rx.cap < conn->rx_max) {
                tcp_grow(c, conn, true);
                if (!(conn->flags & F_GUEST_FIN))
                    conn->flags |= F_ACK_NOW;
            }
            conn->flags &= ~F_RX_HIGH;
        }
        if ((conn->flags & F_GUEST_FIN) && !(conn->flags & F_HOST_SHUT) && conn->ev.fd >= 0) {
            shutdown(conn->ev.fd, SHUT_WR);
            conn->flags |= F_HOST_SHUT;
        }
    }
    /* After its FIN the guest sends no more data, so a larger window is news to nobody (the
     * grow above owes no ACK either); worse, a guest whose socket has closed since (LAST_ACK
     * done) answers the update with a RST, which would cut the host off from what is still
     * in rx on its way to it. */
    if (conn->flags & F_GUEST_FIN)
        return 0;
    adv = seq_lt(conn->rcv_nxt, conn->rcv_adv) ? conn->rcv_adv - conn->rcv_nxt : 0;
    if (tcp_rcv_wnd(conn) >= adv + conn->rx.cap / 4)
        conn->flags |= F_ACK_NOW;
    return 0;
}

/*
 * tcp_conn_output() - Everything a connection owes after input or a host event: host writes,
 * host reads that waited for tx room, segments to the guest, one ACK if none carried it.
 */
static void tcp_conn_output(struct consomme *c, struct tcp_conn *conn)
{
    if (conn->state != CS_ESTABLISHED)
        return;
    if (tcp_rx_flush(c, conn))
        return;
    if ((conn->flags & F_READ_PAUSED) && ring_space(&conn->tx) && tcp_host_read(c, conn))
        return;
    tcp_tx_send(c, conn);
    if (conn->flags & F_ACK_NOW)
        tcp_send_ack(c, conn);
    tcp_update_events(c, conn);
    tcp_check_done(c, conn);
}

/* ------------------------------------------------------------------ host socket events */

/* Ring bounds of @conn (window scaling known); return: its initial rx + tx bytes. */
static uint32_t tcp_rings_plan(struct consomme *c, struct tcp_conn *conn, uint32_t *rx_init,
                               uint32_t *tx_init)
{
    const struct cm_config *cfg = cm_config(c);

    conn->rx_max = cfg->tcp_rx.max < RING_MIN_CAP ? RING_MIN_CAP : cfg->tcp_rx.max;
    conn->tx_max = cfg->tcp_tx.max < RING_MIN_CAP ? RING_MIN_CAP : cfg->tcp_tx.max;
    if (conn->rx_max > RING_MAX_CAP)
        conn->rx_max = RING_MAX_CAP;
    if (conn->tx_max > RING_MAX_CAP)
        conn->tx_max = RING_MAX_CAP;
    if (!(conn->flags & F_WS) && conn->rx_max > 65536)
        conn->rx_max = 65536; /* the window field alone cannot offer more */
    *rx_init = min_u32(cfg->tcp_rx.initial < RING_MIN_CAP ? RING_MIN_CAP : cfg->tcp_rx.initial,
                       conn->rx_max);
    *tx_init = min_u32(cfg->tcp_tx.initial < RING_MIN_CAP ? RING_MIN_CAP : cfg->tcp_tx.initial,
                       conn->tx_max);
    return *rx_init + *tx_init;
}

/* Allocate the rings the SYN reserved (tcp_conn_new()); the reservation becomes the rings. */
static int tcp_rings_init(struct consomme *c, struct tcp_conn *conn)
{
    struct tcp_state *s = tstate(c);
    uint32_t rx_init, tx_init;

    tcp_rings_plan(c, conn, &rx_init, &tx_init);
    s->reserved -= conn->reserved;
    conn->reserved = 0;
    if (ring_init(&conn->rx, rx_init))
        return -ENOMEM;
    if (ring_init(&conn->tx, tx_init)) {
        ring_free(&conn->rx);
        return -ENOMEM;
    }
    s->st.rx_buffer_bytes += rx_init;
    s->st.tx_buffer_bytes += tx_init;
    if (rx_init > s->st.rx_buffer_peak)
        s->st.rx_buffer_peak = rx_init;
    if (tx_init > s->st.tx_buffer_peak)
        s->st.tx_buffer_peak = tx_init;
    tcp_mem_peaks(s, conn);
    return 0;
}

/* The host connect() finished: answer the guest's SYN with SYN-ACK, or RST if refused. */
static void tcp_connect_done(struct consomme *c, struct tcp_conn *conn)
{
    struct tcp_state *s = tstate(c);
    int err = 0;
    socklen_t sl = sizeof(err);

    if (getsockopt(conn->ev.fd, SOL_SOCKET, SO_ERROR, &err, &sl))
        err = errno;
    if (err == EINPROGRESS || err == EALREADY)
        return;
    if (err == ECONNREFUSED) {
        s->st.refused++;
        tcp_send_raw(c, conn->dip, conn->gip, conn->dport, conn->gport, 0, conn->rcv_nxt,
                     TF_RST | TF_ACK, 0, NULL, 0, NULL, 0, 0, 0);
        tcp_conn_close(c, conn, false);
        return;
    }
    if (err) {
        /* unreachable: no answer, as a real network would give none */
        s->st.connect_failed++;
        tcp_conn_close(c, conn, false);
        return;
    }
    if (tcp_rings_init(c, conn)) {
        s->st.drops[TCP_DROP_NOMEM]++;
        tcp_send_raw(c, conn->dip, conn->gip, conn->dport, conn->gport, 0, conn->rcv_nxt,
                     TF_RST | TF_ACK, 0, NULL, 0, NULL, 0, 0, 0);
        tcp_conn_close(c, conn, true);
        return;
    }
    conn->state = CS_SYN_RCVD;
    conn->deadline = 0;
    /* the host may talk first, but nothing is read before the guest completes the handshake */
    tcp_set_events(c, conn, 0);
    tcp_send_synack(c, conn);
    conn->snd_nxt = conn->snd_max = conn->iss + 1;
    conn->rto_at = cm_now_ms() + conn->rto;
}

static void tcp_sock_event(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    struct tcp_conn *conn = (struct tcp_conn *)((char *)ev - offsetof(struct tcp_conn, ev));
    struct tcp_state *s = tstate(c);

    if (conn->state == CS_CONNECTING) {
        tcp_connect_done(c, conn);
    } else if (conn->state == CS_ESTABLISHED) {
        if (events & EPOLLERR) {
            s->st.rst_from_host++;
            tcp_abort(c, conn, true);
        } else {
            if ((events & EPOLLOUT) && tcp_rx_flush(c, conn))
                goto out;
            if ((events & (EPOLLIN | EPOLLHUP)) && !(conn->flags & F_READ_PAUSED) &&
                tcp_host_read(c, conn))
                goto out;
            if ((events & EPOLLHUP) && (conn->flags & F_READ_PAUSED) && conn->ev.fd >= 0 &&
                !(conn->flags & F_EV_PARKED)) {
                /* EPOLLHUP cannot be masked: step out of epoll until tx has room again */
                cm_event_del(c, &conn->ev);
                conn->flags |= F_EV_PARKED;
            }
            tcp_tx_send(c, conn);
            if (conn->flags & F_ACK_NOW)
                tcp_send_ack(c, conn);
            tcp_update_events(c, conn);
            tcp_check_done(c, conn);
        }
    } else if (conn->ev.fd >= 0) {
        /* SYN_RCVD: reads wait for the handshake, but a reset host peer ends it now */
        if (events & EPOLLERR) {
            s->st.rst_from_host++;
            tcp_abort(c, conn, true);
        }
    }
out:
    tcp_reap(c);
}

/* ------------------------------------------------------------------ guest input */

/* MSS and window scale from a SYN's options; lengths are checked before each option is read. */
static void tcp_parse_opts(const uint8_t *o, size_t len, uint16_t *mss, int *ws)
{
    size_t i = 0;

    while (i < len) {
        uint8_t kind = o[i], l;

        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len)
            break;
        l = o[i + 1];
        if (l < 2 || i + l > len)
            break;
        if (kind == 2 && l == 4)
            *mss = get_be16(o + i + 2);
        else if (kind == 3 && l == 3)
            *ws = o[i + 2] > 14 ? 14 : o[i + 2];
        i += l;
    }
}

/* A guest SYN for a new connection: start the host connect(). */
static void tcp_conn_new(struct consomme *c, const struct cm_ipv4 *ip, const uint8_t *th,
                         size_t doff)
{
    const struct cm_config *cfg = cm_config(c);
    struct tcp_state *s = tstate(c);
    struct sockaddr_in sa;
    struct tcp_conn *conn;
    uint32_t rx_init, tx_init, need;
    uint16_t mss = 536;
    int ws = -1, one = 1, fd, rc;

    if (s->n_open >= cfg->max_connections) {
        s->st.refused_limit++;
        tcp_send_rst_reply(c, ip, th, 0);
        return;
    }
    rc = cm_host_dest(c, IPPROTO_TCP, ip->dst, get_be16(th + 2), &sa);
    if (rc) {
        /* the NAT policy said no (the core counts why), or the DNS address on another port
         * than 53 or without a resolver to go to */
        if (rc != -EACCES)
            s->st.refused++;
        tcp_send_rst_reply(c, ip, th, 0);
        return;
    }
    tcp_parse_opts(th + TCP_HDR_LEN, doff - TCP_HDR_LEN, &mss, &ws);

    conn = calloc(1, sizeof(*conn));
    if (!conn) {
        s->st.drops[TCP_DROP_NOMEM]++;
        return;
    }
    if (ws >= 0)
        conn->flags |= F_WS;
    /* the rings are allocated once the host connect succeeds, but held in the budget from
     * now, so connections still connecting cannot overcommit it */
    need = tcp_rings_plan(c, conn, &rx_init, &tx_init);
    if (!tcp_mem_fits(c, need, false)) {
        free(conn);
        s->st.refused_memory++;
        tcp_send_rst_reply(c, ip, th, 0);
        return;
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        /* out of descriptors or memory: refuse now rather than leave the guest waiting */
        free(conn);
        s->st.drops[TCP_DROP_NOMEM]++;
        tcp_send_rst_reply(c, ip, th, 0);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    conn->ev.fd = fd;
    conn->ev.fn = tcp_sock_event;
    conn->gip = ip->src;
    conn->dip = ip->dst;
    conn->gport = get_be16(th);
    conn->dport = get_be16(th + 2);
    conn->state = CS_CONNECTING;
    conn->irs = get_be32(th + 4);
    conn->rcv_nxt = conn->irs + 1;
    conn->snd_wnd = get_be16(th + 14); /* never scaled in a SYN */
    if (ws >= 0) {
        conn->snd_ws = (uint8_t)ws;
        conn->rcv_ws = tcp_rx_wscale(cfg->tcp_rx.max);
    }
    if (mss > cfg->mtu - IP_HDR_LEN - TCP_HDR_LEN)
        mss = (uint16_t)(cfg->mtu - IP_HDR_LEN - TCP_HDR_LEN);
    conn->mss = mss < 64 ? 64 : mss;
    conn->iss = cm_new_isn(c);
    conn->snd_una = conn->snd_nxt = conn->snd_max = conn->iss;
    conn->rto = TCP_RTO_INIT_MS;
    conn->deadline = cm_now_ms() + TCP_CONNECT_TIMEOUT_MS;

    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    if (rc && errno != EINPROGRESS) {
        int e = errno;

        close(fd);
        free(conn);
        if (e == ECONNREFUSED) {
            s->st.refused++;
            tcp_send_rst_reply(c, ip, th, 0);
        } else if (e == ENETUNREACH || e == EHOSTUNREACH || e == ETIMEDOUT) {
            s->st.connect_failed++;
        } else {
            s->st.connect_failed++;
            tcp_send_rst_reply(c, ip, th, 0);
        }
        return;
    }
    if (cm_event_add(c, &conn->ev, EPOLLOUT)) {
        close(fd);
        free(conn);
        s->st.drops[TCP_DROP_NOMEM]++;
        tcp_send_rst_reply(c, ip, th, 0);
        return;
    }
    conn->events = EPOLLOUT;
    LIST_INSERT_HEAD(&s->all, conn, link);
    {
        struct tcp_conn **b = tcp_bucket(s, conn->gip, conn->gport, conn->dip, conn->dport);

        conn->hnext = *b;
        *b = conn;
    }
    s->n_conns++;
    s->n_open++;
    s->st.conns_total++;
    conn->reserved = need;
    s->reserved += need;
    if (!rc)
        tcp_connect_done(c, conn);
}

static void tcp_rtt_sample(struct tcp_conn *conn, uint64_t now)
{
    uint32_t r = (uint32_t)(now - conn->rtt_ts);
    uint32_t rto;

    conn->flags &= ~F_RTT;
    if (!conn->srtt) {
        conn->srtt = r ? r : 1;
        conn->rttvar = r / 2;
    } else {
        uint32_t d = conn->srtt > r ? conn->srtt - r : r - conn->srtt;

        conn->rttvar = (3 * conn->rttvar + d) / 4;
        conn->srtt = (7 * conn->srtt + r) / 8;
    }
    rto = conn->srtt + (4 * conn->rttvar > 10 ? 4 * conn->rttvar : 10);
    if (rto < TCP_RTO_MIN_MS)
        rto = TCP_RTO_MIN_MS;
    if (rto > TCP_RTO_MAX_MS)
        rto = TCP_RTO_MAX_MS;
    conn->rto = rto;
}

/* Resend one segment from snd_una, leaving snd_nxt alone (fast retransmit). */
static void tcp_resend_head(struct consomme *c, struct tcp_conn *conn)
{
    uint32_t inflight = conn->snd_nxt - conn->snd_una;
    uint32_t data = min_u32(inflight, ring_len(&conn->tx));
    uint32_t n = min_u32(data, conn->mss);
    uint8_t fl = 0;

    if (!inflight)
        return;
    if ((conn->flags & F_FIN_SENT) && n == data && n < inflight)
        fl |= TF_FIN;
    conn->flags &= ~F_RTT;
    tcp_send_seg(c, conn, fl, conn->snd_una, 0, n);
}

/* The guest's ACK and window. Return: false if the segment must go no further. */
static bool tcp_ack_input(struct consomme *c, struct tcp_conn *conn, uint32_t ack, uint16_t win,
                          uint32_t plen, uint8_t fl)
{
    struct tcp_state *s = tstate(c);
    uint32_t wnd = (uint32_t)win << conn->snd_ws;
    uint32_t acked;
    uint64_t now;

    if (seq_gt(ack, conn->snd_max)) {
        s->st.drops[TCP_DROP_BAD_ACK]++;
        conn->flags |= F_ACK_NOW;
        return false;
    }
    if (seq_lt(ack, conn->snd_una))
        return true; /* old ACK: its data may still count */
    if (ack == conn->snd_una) {
        if (!plen && !(fl & (TF_SYN | TF_FIN)) && wnd == conn->snd_wnd &&
            conn->snd_max != conn->snd_una && ++conn->dupacks == TCP_DUPACK_THRESHOLD) {
            s->st.fast_retransmits++;
            s->st.retransmits++;
            tcp_resend_head(c, conn);
        }
        if (!conn->snd_wnd && wnd && conn->snd_max == conn->snd_una)
            conn->rto_at = 0; /* the window reopened: the probe timer is done */
        conn->snd_wnd = wnd;
        if (wnd)
            conn->zw_since = 0;
        return true;
    }
    acked = ack - conn->snd_una;
    if ((conn->flags & F_HOST_EOF) && ack == conn->snd_una + ring_len(&conn->tx) + 1) {
        /* F_FIN_SENT too: after a go-back the FIN may be acked before it was sent again */
        conn->flags |= F_FIN_ACKED | F_FIN_SENT;
        acked--;
    }
    ring_consume(&conn->tx, acked);
    ring_rewind(&conn->tx);
    conn->snd_una = ack;
    if (seq_lt(conn->snd_nxt, ack))
        conn->snd_nxt = ack;
    conn->snd_wnd = wnd;
    if (wnd)
        conn->zw_since = 0;
    conn->dupacks = 0;
    conn->retries = 0;
    now = cm_now_ms();
    if ((conn->flags & F_RTT) && seq_le(conn->rtt_seq, ack))
        tcp_rtt_sample(conn, now);
    conn->rto_at = 0;
    tcp_arm_timer(conn, now);
    return true;
}

/*
 * Payload pieces [skip, skip + len) of @src into @dst (at most TCP_DATA_IOV); return how many.
 * @len never exceeds what @src holds (the caller trimmed the segment to its own length).
 */
static int tcp_iov_slice(struct iovec *dst, const struct iovec *src, int cnt, size_t skip,
                         size_t len)
{
    int n = 0;

    for (int i = 0; i < cnt && len && n < TCP_DATA_IOV; i++) {
        size_t k = src[i].iov_len;

        if (skip >= k) {
            skip -= k;
            continue;
        }
        k -= skip;
        if (k > len)
            k = len;
        dst[n].iov_base = (uint8_t *)src[i].iov_base + skip;
        dst[n++].iov_len = k;
        len -= k;
        skip = 0;
    }
    return n;
}

/*
 * Delayed ACKs, the way Linux's receiver does them (tcp_ack_snd_check()): an in-order segment
 * is ACKed at once only once two full-sized segments arrived since the last ACK;
 * a lone full-sized segment waits for the next one, for data of ours to carry the ACK, or at
 * most TCP_DELACK_MS (tcp_timer()). That halves the ACKs of a bulk transfer at MTU 65520, where
 * each guest frame is one segment; each ACK costs the guest an interrupt and a pass through its
 * stack. Anything that is not plain bulk data is ACKed at once as before: a segment shorter
 * than a full one (the end of a write: the guest may wait on it, Nagle), a FIN, data
 * beyond a hole, and the remaining window falling below two full segments, so the guest never
 * waits on a window we have not told it about. A guest TSO super-frame of two segments or more
 * is ACKed at once, as Linux ACKs such a frame after GRO.
 */
static bool tcp_ack_may_wait(struct consomme *c, struct tcp_conn *conn, uint32_t plen)
{
    uint32_t left = seq_lt(conn->rcv_nxt, conn->rcv_adv) ? conn->rcv_adv - conn->rcv_nxt : 0;
    /* the largest segment the guest may send: our MSS option, or its own if smaller */
    uint32_t full = min_u32(cm_config(c)->mtu - IP_HDR_LEN - TCP_HDR_LEN, conn->mss);

    if (conn->flags & (F_ACK_NOW | F_GUEST_FIN | F_FIN_PENDING))
        return false;
    /* rx_fill counts this segment too: under two full ones means it is the first */
    return plen >= full && conn->rx_fill < 2 * full && left >= 2 * full;
}

static void tcp_delack(struct tcp_conn *conn)
{
    if (!(conn->flags & F_ACK_LATER))
        conn->delack_at = cm_now_ms() + TCP_DELACK_MS;
    conn->flags |= F_ACK_LATER;
}

/* Payload and FIN of an acceptable segment into rx; the payload is @cnt pieces, @plen bytes. */
static void tcp_data_input(struct consomme *c, struct tcp_conn *conn, uint32_t seq, uint8_t fl,
                           const struct iovec *in, int in_cnt, uint32_t plen)
{
    struct tcp_state *s = tstate(c);
    bool fin = fl & TF_FIN;
    uint32_t off, space, n, skip = 0, taken;
    struct iovec data[TCP_DATA_IOV];
    int cnt;

    if (!plen && !fin)
        return;
    if (conn->flags & F_GUEST_FIN) {
        conn->flags |= F_ACK_NOW; /* a retransmission after its FIN: ACK again */
        return;
    }
    if (seq_lt(seq, conn->rcv_nxt)) {
        skip = conn->rcv_nxt - seq;
        if (skip > plen || (skip == plen && !fin)) {
            conn->flags |= F_ACK_NOW; /* all old: the guest missed our ACK */
            return;
        }
        plen -= skip;
        seq = conn->rcv_nxt;
    }
    off = seq - conn->rcv_nxt;
    space = ring_space(&conn->rx);
    if (off > space || (plen && off == space)) {
        s->st.drops[TCP_DROP_OUT_OF_WINDOW]++;
        conn->flags |= F_ACK_NOW;
        return;
    }
    if (plen > space - off) {
        s->st.drops[TCP_DROP_OUT_OF_WINDOW]++;
        plen = space - off;
        fin = false;
    }
    cnt = tcp_iov_slice(data, in, in_cnt, skip, plen);
    taken = plen;
    if (plen && !off && plen >= TCP_DIRECT_MIN && !ring_len(&conn->rx) && reasm_empty(&conn->ooo) &&
        conn->ev.fd >= 0 && !(conn->flags & F_HOST_WBLOCK)) {
        /* Nothing queued before it: a large in-order segment goes straight to the host
         * socket (from the guest's own memory, where the transport maps it), and only what
         * the socket refuses is copied into the ring. (Errors are left for tcp_rx_flush(),
         * which meets them again on the bytes kept in the ring.) */
        struct msghdr mh = {.msg_iov = data, .msg_iovlen = (size_t)cnt};
        ssize_t w = sendmsg(conn->ev.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (w > 0) {
            struct iovec rest[TCP_DATA_IOV];

            cnt = tcp_iov_slice(rest, data, cnt, (size_t)w, plen - (size_t)w);
            memcpy(data, rest, sizeof(rest[0]) * (size_t)cnt);
            plen -= (uint32_t)w;
            seq += (uint32_t)w;
            conn->rcv_nxt += (uint32_t)w;
            conn->rx_fill += (uint32_t)w;
            s->st.bytes_from_guest += (uint64_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn->flags |= F_HOST_WBLOCK;
        }
    }
    if (plen) {
        if (reasm_add(&conn->ooo, off, plen)) {
            s->st.drops[TCP_DROP_OOO_LIMIT]++;
            conn->flags |= F_ACK_NOW;
            return;
        }
        for (uint32_t i = 0, at = off; i < (uint32_t)cnt; at += (uint32_t)data[i++].iov_len)
            ring_write_at(&conn->rx, at, data[i].iov_base, (uint32_t)data[i].iov_len);
        if (off) {
            /* an immediate duplicate ACK per out-of-order segment lets the guest fast-retransmit */
            s->st.ooo_segments++;
            tcp_send_ack(c, conn);
        }
        n = reasm_pop(&conn->ooo);
        if (n) {
            ring_commit(&conn->rx, n);
            conn->rcv_nxt += n;
            conn->rx_fill += n;
            s->st.bytes_from_guest += n;
        }
    }
    if (fin) {
        conn->flags |= F_FIN_PENDING;
        conn->fin_rcv_seq = seq + plen;
    }
    if ((conn->flags & F_FIN_PENDING) && conn->rcv_nxt == conn->fin_rcv_seq) {
        conn->flags &= ~F_FIN_PENDING;
        conn->flags |= F_GUEST_FIN;
        conn->rcv_nxt++;
    }
    /* 75% of the window we offered was used before our next ACK: the ring would have been
     * that full had the bytes not gone straight to the host */
    if (ring_len(&conn->rx) + reasm_extent(&conn->ooo) >= conn->rx.cap / 4 * 3 ||
        conn->rx_fill >= conn->rx.cap / 4 * 3)
        conn->flags |= F_RX_HIGH;
    if (taken && !off && tcp_ack_may_wait(c, conn, taken))
        tcp_delack(conn);
    else if (!plen || !off) /* an out-of-order segment had its duplicate ACK already */
        conn->flags |= F_ACK_NOW;
}

static void tcp_established_input(struct consomme *c, struct tcp_conn *conn, uint32_t seq,
                                  uint32_t ack, uint8_t fl, uint16_t win, const struct iovec *data,
                                  int cnt, uint32_t plen)
{
    struct tcp_state *s = tstate(c);

    if (fl & TF_RST) {
        /* accepted anywhere in the window we offered (or the ring would take: rounding of
         * the scaled window can leave rcv_adv a little behind): a blind reset must guess it */
        uint32_t adv = seq_lt(conn->rcv_nxt, conn->rcv_adv) ? conn->rcv_adv - conn->rcv_nxt : 0;
        uint32_t wnd = adv > ring_space(&conn->rx) ? adv : ring_space(&conn->rx);

        if (seq - conn->rcv_nxt <= wnd) {
            s->st.rst_from_guest++;
            tcp_conn_close(c, conn, true);
        } else {
            s->st.drops[TCP_DROP_OUT_OF_WINDOW]++;
        }
        return;
    }
    if (fl & TF_SYN) {
        /* a retransmitted SYN (our SYN-ACK's ACK was lost) or a stale one: just ACK */
        conn->flags |= F_ACK_NOW;
        tcp_batch_add(s, conn);
        return;
    }
    if (!(fl & TF_ACK)) {
        s->st.drops[TCP_DROP_STATE]++;
        return;
    }
    if (tcp_ack_input(c, conn, ack, win, plen, fl))
        tcp_data_input(c, conn, seq, fl, data, cnt, plen);
    tcp_batch_add(s, conn);
}

void tcp_input(struct consomme *c, const struct cm_ipv4 *ip, const uint8_t *seg, size_t len)
{
    tcp_input_sg(c, ip, seg, len, NULL, 0);
}

void tcp_input_sg(struct consomme *c, const struct cm_ipv4 *ip, const uint8_t *seg, size_t head,
                  const struct iovec *tail, int tail_cnt)
{
    struct tcp_state *s = tstate(c);
    struct iovec data[TCP_DATA_IOV];
    struct tcp_conn *conn;
    uint32_t seq, ack, plen;
    size_t doff, len = head;
    uint8_t fl;
    uint16_t win;
    int cnt = 0;

    s->st.segs_in++;
    if (tail_cnt < 0 || tail_cnt > CM_TCP_TAIL_MAX)
        tail_cnt = 0; /* the transports never pass more; a caller's bug must not overrun */
    for (int i = 0; i < tail_cnt; i++)
        len += tail[i].iov_len;
    if (len < TCP_HDR_LEN || head < TCP_HDR_LEN) {
        s->st.drops[TCP_DROP_SHORT]++;
        return;
    }
    doff = (size_t)(seg[12] >> 4) * 4;
    if (doff < TCP_HDR_LEN || doff > head) { /* the header, options included, is in @seg */
        s->st.drops[TCP_DROP_OFFSET]++;
        return;
    }
    if (len > 0xffff) {
        s->st.drops[TCP_DROP_CHECKSUM]++;
        return;
    }
    data[cnt++] = (struct iovec){.iov_base = (uint8_t *)seg + doff, .iov_len = head - doff};
    for (int i = 0; i < tail_cnt; i++)
        data[cnt++] = tail[i];
    if (!ip->l4_csum_trusted) {
        uint32_t sum =
            csum_partial(seg, doff, csum_pseudo_ipv4(ip->src, ip->dst, IPPROTO_TCP, (uint16_t)len));

        /* doff is a multiple of 4: the payload's pieces start at an even offset */
        if (csum_fold(csum_iov(data, cnt, sum)) != 0) {
            s->st.drops[TCP_DROP_CHECKSUM]++;
            return;
        }
    }
    fl = seg[13];
    seq = get_be32(seg + 4);
    ack = get_be32(seg + 8);
    win = get_be16(seg + 14);
    plen = (uint32_t)(len - doff);

    conn = tcp_lookup(s, ip->src, get_be16(seg), ip->dst, get_be16(seg + 2));
    if (conn && conn->state == CS_TIME_WAIT && (fl & TF_SYN) && !(fl & TF_ACK)) {
        tcp_conn_close(c, conn, false); /* a new incarnation of the same ports */
        conn = NULL;
    }
    if (!conn) {
        if ((fl & (TF_SYN | TF_ACK | TF_RST)) == TF_SYN) {
            tcp_conn_new(c, ip, seg, doff);
        } else if (!(fl & TF_RST)) {
            s->st.drops[TCP_DROP_NO_CONN]++;
            tcp_send_rst_reply(c, ip, seg, plen);
        }
        return;
    }

    switch (conn->state) {
    case CS_CONNECTING:
        if (fl & TF_RST) {
            s->st.rst_from_guest++;
            tcp_conn_close(c, conn, true);
        }
        /* SYN retransmissions wait for the host connect */
        break;
    case CS_SYN_RCVD:
        if (fl & TF_RST) {
            if (seq == conn->rcv_nxt) {
                s->st.rst_from_guest++;
                tcp_conn_close(c, conn, true);
            }
            break;
        }
        if (fl & TF_SYN) {
            if (seq == conn->irs)
                tcp_send_synack(c, conn);
            break;
        }
        if (!(fl & TF_ACK))
            break;
        if (ack != conn->iss + 1) {
            s->st.drops[TCP_DROP_BAD_ACK]++;
            tcp_send_rst_reply(c, ip, seg, plen);
            break;
        }
        conn->state = CS_ESTABLISHED;
        conn->snd_una = ack;
        conn->snd_wnd = (uint32_t)win << conn->snd_ws;
        conn->rto_at = 0;
        conn->retries = 0;
        tcp_data_input(c, conn, seq, fl, data, cnt, plen);
        /* the host may have talked first: read it now, then keep reading on EPOLLIN */
        if (!tcp_host_read(c, conn))
            tcp_batch_add(s, conn);
        break;
    case CS_ESTABLISHED:
        tcp_established_input(c, conn, seq, ack, fl, win, data, cnt, plen);
        break;
    case CS_TIME_WAIT:
        if (fl & TF_RST) {
            tcp_conn_close(c, conn, false);
        } else if (fl & TF_FIN) {
            /* our last ACK was lost: say it again */
            tcp_send_raw(c, conn->dip, conn->gip, conn->dport, conn->gport, conn->snd_nxt,
                         conn->rcv_nxt, TF_ACK, 0, NULL, 0, NULL, 0, 0, 0);
        }
        break;
    default:
        break;
    }
}

void tcp_input_flush(struct consomme *c)
{
    struct tcp_state *s = tstate(c);
    struct tcp_conn *conn;

    while ((conn = s->batch)) {
        s->batch = conn->bnext;
        conn->flags &= ~F_IN_BATCH;
        tcp_conn_output(c, conn);
    }
    tcp_reap(c);
}

void tcp_guest_writable(struct consomme *c)
{
    struct tcp_state *s = tstate(c);
    struct tcp_conn *start = s->rr ? s->rr : LIST_FIRST(&s->all), *conn = start;

    s->guest_blocked = false;
    s->rr = NULL;
    /* round robin from where the queue filled last time, so one bulk sender cannot keep
     * every other connection waiting */
    while (conn) {
        if (conn->state == CS_ESTABLISHED) {
            tcp_tx_send(c, conn);
            if (conn->flags & F_ACK_NOW)
                tcp_send_ack(c, conn);
            tcp_check_done(c, conn);
            if (s->guest_blocked) {
                s->rr = LIST_NEXT(conn, link);
                break;
            }
        }
        conn = LIST_NEXT(conn, link);
        if (!conn)
            conn = LIST_FIRST(&s->all);
        if (conn == start)
            break;
    }
    tcp_reap(c);
}

/* ------------------------------------------------------------------ timers */

static void tcp_rto_expired(struct consomme *c, struct tcp_conn *conn, uint64_t now)
{
    struct tcp_state *s = tstate(c);

    conn->rto_at = 0;
    if (conn->state == CS_SYN_RCVD || conn->snd_max != conn->snd_una) {
        if (++conn->retries > TCP_MAX_RETRIES) {
            tcp_abort(c, conn, true);
            return;
        }
        s->st.retransmits++;
        conn->rto = conn->rto * 2 > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : conn->rto * 2;
        conn->flags &= ~F_RTT;
        if (conn->state == CS_SYN_RCVD) {
            tcp_send_synack(c, conn);
            conn->rto_at = now + conn->rto;
            return;
        }
        /* go back to the first unacknowledged byte and resend from there */
        conn->snd_nxt = conn->snd_una;
        conn->flags &= ~F_FIN_SENT;
        conn->dupacks = 0;
        tcp_tx_send(c, conn);
        if (!conn->rto_at)
            conn->rto_at = now + conn->rto;
        return;
    }
    if (!conn->snd_wnd && (ring_len(&conn->tx) || (conn->flags & F_HOST_EOF))) {
        uint64_t give_up;

        if (!conn->zw_since)
            conn->zw_since = now;
        give_up = conn->zw_since + TCP_ZERO_WINDOW_TIMEOUT_MS;
        if (now >= give_up) {
            /* closed for too long with our data waiting: free its rings (RFC 6429) */
            s->st.zero_window_aborts++;
            tcp_abort(c, conn, true);
            return;
        }
        /* zero-window probe: an old sequence number makes the guest answer with its window */
        s->st.window_probes++;
        tcp_send_seg(c, conn, 0, conn->snd_una - 1, 0, 0);
        conn->rto = conn->rto * 2 > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : conn->rto * 2;
        /* the last wait ends at the deadline, not up to a whole backoff after it */
        conn->rto_at = now + conn->rto < give_up ? now + conn->rto : give_up;
    }
}

void tcp_timer(struct consomme *c, uint64_t now_ms)
{
    struct tcp_state *s = tstate(c);

    for (struct tcp_conn *conn = LIST_FIRST(&s->all); conn; conn = LIST_NEXT(conn, link)) {
        switch (conn->state) {
        case CS_CONNECTING:
            if (now_ms >= conn->deadline) {
                s->st.connect_timeouts++;
                tcp_conn_close(c, conn, false);
            }
            break;
        case CS_TIME_WAIT:
            if (now_ms >= conn->deadline)
                tcp_conn_close(c, conn, false);
            break;
        case CS_SYN_RCVD:
        case CS_ESTABLISHED:
            if (conn->rto_at && now_ms >= conn->rto_at)
                tcp_rto_expired(c, conn, now_ms);
            if (conn->state == CS_ESTABLISHED &&
                ((conn->flags & F_ACK_NOW) ||
                 ((conn->flags & F_ACK_LATER) && now_ms >= conn->delack_at)))
                tcp_send_ack(c, conn);
            break;
        default:
            break;
        }
    }
    tcp_reap(c);
}

/* ------------------------------------------------------------------ setup, stats */

int tcp_init(struct consomme *c)
{
    const struct cm_config *cfg = cm_config(c);
    struct tcp_state *s;
    struct rlimit rl;
    uint32_t n = 256;

    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    while (n < 2 * cfg->max_connections && n < (1u << 20))
        n <<= 1;
    s->hash = calloc(n, sizeof(*s->hash));
    if (!s->hash) {
        free(s);
        return -ENOMEM;
    }
    s->hash_mask = n - 1;
    /* each connection holds one host socket: let the descriptor limit follow the cap */
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    cm_set_tcp_state(c, s);
    return 0;
}

void tcp_cleanup(struct consomme *c)
{
    struct tcp_state *s = tstate(c);
    struct tcp_conn *conn, *next;

    if (!s)
        return;
    for (conn = LIST_FIRST(&s->all); conn; conn = next) {
        next = LIST_NEXT(conn, link);
        if (conn->state != CS_CLOSED) {
            tcp_host_close(c, conn, true);
            ring_free(&conn->rx);
            ring_free(&conn->tx);
        }
        free(conn);
    }
    free(s->hash);
    free(s);
    cm_set_tcp_state(c, NULL);
}

unsigned tcp_connection_count(const struct consomme *c)
{
    const struct tcp_state *s = cm_tcp_state((struct consomme *)c);

    return s ? s->n_conns : 0;
}

/*
 * The TCP_STATS_TOP open connections holding the most ring bytes, largest first: who holds
 * the budget. One pass keeping a small sorted array, so a dump stays cheap with thousands of
 * connections.
 */
static json_t *tcp_top_json(const struct tcp_state *s)
{
    static const char *const names[] = {"connecting", "syn_rcvd", "established", "time_wait",
                                        "closed"};
    const struct tcp_conn *top[TCP_STATS_TOP];
    unsigned n = 0;
    json_t *a = json_array();

    if (!a)
        return NULL;
    for (const struct tcp_conn *conn = LIST_FIRST(&s->all); conn; conn = LIST_NEXT(conn, link)) {
        uint64_t mine = (uint64_t)conn->rx.cap + conn->tx.cap + conn->reserved;
        unsigned i;

        if (conn->state == CS_CLOSED || conn->state == CS_TIME_WAIT)
            continue;
        if (n == TCP_STATS_TOP &&
            mine <= (uint64_t)top[n - 1]->rx.cap + top[n - 1]->tx.cap + top[n - 1]->reserved)
            continue;
        if (n < TCP_STATS_TOP)
            n++;
        for (i = n - 1; i > 0; i--) {
            const struct tcp_conn *o = top[i - 1];

            if ((uint64_t)o->rx.cap + o->tx.cap + o->reserved >= mine)
                break;
            top[i] = o;
        }
        top[i] = conn;
    }
    for (unsigned i = 0; i < n; i++) {
        const struct tcp_conn *conn = top[i];
        char dst[32];

        snprintf(dst, sizeof(dst), "%u.%u.%u.%u:%u", conn->dip >> 24, (conn->dip >> 16) & 0xff,
                 (conn->dip >> 8) & 0xff, conn->dip & 0xff, conn->dport);
        json_array_append_new(
            a,
            json_pack("{s:i, s:s, s:s, s:I, s:I, s:I, s:I}", "guest_port", conn->gport,
                      "destination", dst, "state", names[conn->state], "rx_buffer",
                      (json_int_t)conn->rx.cap, "tx_buffer", (json_int_t)conn->tx.cap, "reserved",
                      (json_int_t)conn->reserved, "buffer_peak", (json_int_t)conn->mem_peak));
    }
    return a;
}

void tcp_stats_json(const struct consomme *c, json_t *obj)
{
    const struct tcp_state *s = cm_tcp_state((struct consomme *)c);
    const struct cm_config *cfg = cm_config(c);
    json_t *t, *drops;
    unsigned tw = 0;

    if (!s)
        return;
    for (const struct tcp_conn *conn = LIST_FIRST(&s->all); conn; conn = LIST_NEXT(conn, link))
        tw += conn->state == CS_TIME_WAIT;
    t = json_object();
    drops = json_object();
    if (!t || !drops) {
        json_decref(t);
        json_decref(drops);
        return;
    }
#define SET(name, v) json_object_set_new(t, name, json_integer((json_int_t)(v)))
    SET("connections_open", s->n_open);
    SET("connections_time_wait", tw);
    SET("connections_total", s->st.conns_total);
    SET("refused", s->st.refused);
    SET("refused_limit", s->st.refused_limit);
    SET("connect_failed", s->st.connect_failed);
    SET("connect_timeouts", s->st.connect_timeouts);
    SET("rst_to_guest", s->st.rst_to_guest);
    SET("rst_from_guest", s->st.rst_from_guest);
    SET("rst_from_host", s->st.rst_from_host);
    SET("segments_in", s->st.segs_in);
    SET("segments_out", s->st.segs_out);
    SET("bytes_from_guest", s->st.bytes_from_guest);
    SET("bytes_to_guest", s->st.bytes_to_guest);
    SET("retransmits", s->st.retransmits);
    SET("fast_retransmits", s->st.fast_retransmits);
    SET("window_probes", s->st.window_probes);
    SET("out_of_order_segments", s->st.ooo_segments);
    SET("tx_buffer_grows", s->st.tx_buffer_grows);
    SET("rx_buffer_grows", s->st.rx_buffer_grows);
    SET("rx_buffer_bytes", s->st.rx_buffer_bytes);
    SET("tx_buffer_bytes", s->st.tx_buffer_bytes);
    SET("rx_buffer_peak", s->st.rx_buffer_peak);
    SET("tx_buffer_peak", s->st.tx_buffer_peak);
    SET("buffer_bytes", s->st.rx_buffer_bytes + s->st.tx_buffer_bytes);
    SET("buffer_bytes_peak", s->st.buffer_bytes_peak);
    SET("buffer_bytes_reserved", s->reserved);
    SET("connection_buffer_peak", s->st.conn_buffer_peak);
    SET("max_buffer_memory", cfg->max_buffer_memory);
    SET("refused_memory", s->st.refused_memory);
    SET("buffer_grows_refused", s->st.buffer_grows_refused);
    SET("zero_window_aborts", s->st.zero_window_aborts);
    SET("rx_buffer_initial", cfg->tcp_rx.initial);
    SET("rx_buffer_max", cfg->tcp_rx.max);
    SET("tx_buffer_initial", cfg->tcp_tx.initial);
    SET("tx_buffer_max", cfg->tcp_tx.max);
#undef SET
    for (int i = 0; i < TCP_DROP__COUNT; i++)
        json_object_set_new(drops, tcp_drop_names[i], json_integer((json_int_t)s->st.drops[i]));
    json_object_set_new(t, "drops", drops);
    json_object_set_new(t, "connections_by_memory", tcp_top_json(s));
    json_object_set_new(obj, "tcp", t);
}
