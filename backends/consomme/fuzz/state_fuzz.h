/* SPDX-License-Identifier: MIT */
/*
 * state_fuzz.h - what the three files of consomme_state_fuzz share
 *
 * consomme_state_fuzz.c holds the target's state, the host side, the TCP and UDP ops and one
 * input's run; state_fuzz_guest.c the guest side: the oracle over every frame consomme sends
 * it, its transport, one turn of the loop, and the TCP segments it sends; state_fuzz_stack.c
 * the ops that reach the rest of consomme (vhost-user, virtqueues, --stats, the loop). One input
 * runs in one thread, so the state is plain globals, defined in consomme_state_fuzz.c.
 */
#ifndef CONSOMME_STATE_FUZZ_H
#define CONSOMME_STATE_FUZZ_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core.h"

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
    OP_VHOST,      /* len16, bytes: a vhost-user session over the same stack (fuzz_vu.h) */
    OP_VIRTQ,      /* len16, bytes: a virtqueue walk (fuzz_vu.h) */
    OP_STATS,      /* mode: --stats written as on exit, on SIGUSR1, with a reader's lock held */
    OP_RUN,        /* mode: consomme's own loop (cm_run()), for one turn ended by SIGTERM */
    OP_VHOST_SOCK, /* end, len16, bytes: a vhost-user session over consomme's socket */
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

extern struct consomme *stack;
extern struct cm_config cfg;
extern const uint8_t guest_mac[6];
extern int lfd[NSLOTS], stuck_fd, udp_fd, dns_fd;
extern struct slot slots[NSLOTS];
/* where datagrams to the UDP servers came from (consomme's flow sockets), last four each */
extern struct sockaddr_in peers[2][4];
extern unsigned npeers[2];
extern unsigned gen;
extern uint64_t now_ms;
extern uint64_t next_tick, next_sweep;
extern uint32_t isn_next;
extern uint16_t ip_id;
extern bool verbose; /* CONSOMME_STATE_FUZZ_VERBOSE: a trace, and the counters after each input */

/* guest queue */
extern uint8_t *pending_frame;
extern size_t q_cap, q_bytes;
extern uint32_t q_len[QMAX];
extern unsigned q_head, q_n;
extern bool autodrain, hold;
/* which transport carries the frames: this target's queue, or consomme's own stream or TAP
 * transport (transport.c) over a socketpair whose other end is the guest */
enum tr_kind { TR_FUZZ, TR_STREAM, TR_TAP };
extern enum tr_kind tr_kind;
extern int guest_fd;
extern uint8_t *grx; /* stream bytes read by the guest, not yet a whole frame */
extern size_t grx_len;
extern size_t obuf_size; /* the stack's own output queue size, restored after each input */
#define GRX_SIZE (1u << 20)

/* frames of the current batch */
extern uint8_t *batch[MAX_BATCH];
extern size_t batch_len[MAX_BATCH];
extern int nbatch;

static inline void die(const char *what)
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
static inline uint8_t guest_byte(uint32_t off)
{
    return (uint8_t)(off * 7u + (off >> 8) + 1u);
}

static inline uint8_t host_byte(uint32_t off)
{
    return (uint8_t)(off * 13u + (off >> 9) + 5u);
}

struct input {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t u8(struct input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t u16(struct input *in)
{
    uint16_t hi = u8(in);

    return (uint16_t)(hi << 8 | u8(in));
}

static inline uint32_t u32(struct input *in)
{
    uint32_t hi = u16(in);

    return hi << 16 | u16(in);
}

/* state_fuzz_guest.c */
extern const struct cm_transport_ops fz_ops;
void q_drain(unsigned n);
void reset_close(int fd);
void pump(void);
void batch_flush(void);
void batch_add(uint8_t *f, size_t len);
uint8_t *ipv4_frame(uint32_t dst, uint8_t proto, size_t l4len);
void guest_tcp(struct slot *s, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
               const uint8_t *opts, size_t optlen, uint32_t plen);
void guest_syn(struct input *in, struct slot *s, int idx);
void guest_ack(struct slot *s, uint32_t ack, uint16_t win);
uint32_t ack_choice(struct slot *s, uint8_t mode, uint16_t n);
void op_seg(struct input *in, struct slot *s);

/* state_fuzz_stack.c: the ops beyond TCP and UDP; and the target's state they use, defined in
 * consomme_state_fuzz.c */
extern struct fuzz_vu_mem vu_guest;
extern char dir[64], sock_path[96], vu_path[96], stats_path[96], stats_tmp[100];
void op_bytes(struct input *in, void (*fn)(const uint8_t *p, size_t n));
void vu_session(const uint8_t *p, size_t n);
void op_vhost_sock(struct input *in);
void op_stats(struct input *in);
void op_run(struct input *in);

#endif /* CONSOMME_STATE_FUZZ_H */
