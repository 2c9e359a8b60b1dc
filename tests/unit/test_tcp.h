/* SPDX-License-Identifier: MIT */
/*
 * test_tcp.h - the fake core and the helpers of consomme's TCP unit tests
 *
 * tcp.c is driven through a fake core (test_tcp_core.c) that provides the core's side of
 * consomme.h: cm_send_ipv4() captures every segment tcp.c sends (and checks its checksum),
 * cm_now_ms() is a clock the tests move (fake_now), and the core's own cm_event_*() (event.c)
 * use the fake stack's private epoll set, which the tests pump. The guest is played by hand-built
 * segments; the host side is real sockets on 127.0.0.1, so connect, refusal, EOF and reset come
 * from the kernel.
 *
 * Waiting for host sockets uses epoll with a deadline (never a fixed sleep); a test that times
 * out fails with the step it was waiting for. Most tests start from one open connection with
 * 16K:64K rings both ways: conn_open() and conn_close() are that cmocka fixture.
 */
#ifndef BURETTE_TEST_TCP_H
#define BURETTE_TEST_TCP_H

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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "byteorder.h"
#include "clock.h"
#include "loopback.h"
#include "skip.h"

#include "consomme.h"
#include "event.h"
#include "tcp.h"

#define GUEST_IP 0x0a00020f
#define GW_IP    0x0a000202
#define GPORT    40000
#define G_ISN    1000000u
#define MTU      65520

struct pkt {
    uint32_t src, dst;
    size_t len;
    uint8_t *b;       /* TCP header + payload */
    uint16_t tso_mss; /* a super-frame (cm_send_tcp_tso()): the segment size, else 0 */
};

struct consomme {
    struct cm_config cfg;
    struct cm_events events;
    void *tcp;
    struct pkt pk[4096];
    unsigned npk, rd; /* captured, consumed by the test */
    bool nobufs;
    int budget;       /* > 0: segments accepted before the queue is full again */
    uint32_t tso_max; /* the transport's largest super-frame (IPv4 packet), 0: none */
};

struct seg {
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    int mss, ws; /* -1 when absent */
    const uint8_t *data;
    size_t len;
    uint16_t tso_mss; /* sent as a super-frame of segments this large; 0: a plain segment */
};

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

/* The fake core's clock, cm_now_ms(): tests move it and call tcp_timer() themselves. */
extern uint64_t fake_now;

struct seg parse(const struct pkt *p);

/* Next captured segment, or NULL. */
const struct pkt *next_pkt(struct consomme *c);

void dispatch(struct consomme *c, int timeout_ms);

/* Pumps host socket events until a segment is captured (or fails after 5 s). */
struct seg wait_seg(struct consomme *c, const char *what);

/* Forgets every captured segment (long random runs would fill the capture array). */
void drain(struct consomme *c);

/* Pumps events that are ready now, without waiting. */
void pump(struct consomme *c);

void guest_send_opts(struct consomme *c, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                     uint8_t flags, uint16_t win, const uint8_t *opts, size_t optlen,
                     const void *data, size_t len);

/* Non-zero: guest_send_opts() hands tcp.c each payload in pieces of this many bytes
 * (tcp_input_sg(), the way vhost-user leaves payload in guest memory); 0: contiguous. */
extern size_t guest_sg_piece;

/* One guest segment as one batch. */
void guest_send(struct consomme *c, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                uint16_t win, const void *data, size_t len);

json_t *stats(struct consomme *c);

long long stat_of(struct consomme *c, const char *name);

struct consomme *stack_new(uint32_t rx_init, uint32_t rx_max, uint32_t tx_init, uint32_t tx_max,
                           unsigned max_conns);

void stack_free(struct consomme *c);

/* SYN with MSS @mss and window scale @ws (or none when < 0); returns the SYN-ACK. */
struct seg syn_mss(struct consomme *c, uint16_t port, int ws, uint16_t mss);

/* SYN with MSS 65480 (a guest at MTU 65520). */
struct seg syn(struct consomme *c, uint16_t port, int ws);

/* Handshake through consomme to a fresh host listener; the guest offers window scale 7 and
 * MSS @mss; the transport takes super-frames up to @tso_max bytes (0: none). */
void open_conn_mss(struct fixture *f, uint32_t rx_init, uint32_t rx_max, uint32_t tx_init,
                   uint32_t tx_max, uint16_t mss, uint32_t tso_max);

/* open_conn_mss() at MSS 65480 with no super-frames. */
void open_conn(struct fixture *f, uint32_t rx_init, uint32_t rx_max, uint32_t tx_init,
               uint32_t tx_max);

void close_fixture(struct fixture *f);

/* Reads exactly @len bytes from a blocking host socket, with a deadline. */
void host_read_all(struct fixture *f, uint8_t *buf, size_t len);

/* recv() on the host side once it is readable (EOF and errors count), failing after 5 s. */
ssize_t host_recv(struct fixture *f, void *buf, size_t len);

/* The host sends @len bytes of @data (its socket made non-blocking) and the guest takes them
 * in order, ACKing each batch with a large window; fails after 10 s. */
void host_to_guest_all(struct fixture *f, const uint8_t *data, size_t len);

/* cmocka fixture: *state becomes a struct fixture with an open connection, 16K:64K rings. */
int conn_open(void **state);
/* cmocka fixture: closes what conn_open() opened. */
int conn_close(void **state);

/* The groups of test_tcp_handshake.c, test_tcp_data.c and test_tcp_buffers.c; each returns
 * test_exit_status() of its group. */
int tcp_handshake_run(void);
int tcp_data_run(void);
int tcp_buffers_run(void);

#endif /* BURETTE_TEST_TCP_H */
