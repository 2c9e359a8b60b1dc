/* SPDX-License-Identifier: MIT */
/*
 * tcp.h - constants and pure helpers of consomme's TCP that its unit tests check directly
 *
 * Everything else of tcp.c is reached through consomme.h.
 */
#ifndef CONSOMME_TCP_H
#define CONSOMME_TCP_H

#include <stdint.h>

/* A host connect() that has not completed after this long is given up, silently. */
#define TCP_CONNECT_TIMEOUT_MS 60000u
/* Retransmission timeout toward the guest: RFC 6298 initial value, floor and ceiling. */
#define TCP_RTO_INIT_MS 1000u
#define TCP_RTO_MIN_MS  200u
#define TCP_RTO_MAX_MS  60000u
/* Unanswered retransmissions of one segment before the connection is reset both ways. */
#define TCP_MAX_RETRIES 12u
/* After both FINs, when the guest's came last: how long its retransmitted FIN is re-ACKed. */
#define TCP_TIME_WAIT_MS 2000u
/* Longest a delayed ACK waits (tcp.c, tcp_ack_may_wait()); tcp_timer() ticks every 10 ms, so
 * it goes at the first tick past this. Linux waits 40 ms. */
#define TCP_DELACK_MS 5u
/*
 * A guest that keeps its window closed while the host has data for it is reset after this
 * long (both ways), and zero-window probing stops. RFC 1122 4.2.2.17 lets a receiver keep
 * its window closed for ever, but RFC 6429 makes clear that the sender's resource management
 * may still end such a connection: here it holds up to two full rings of the global budget.
 * 924.6 s is the horizon of Linux's tcp_retries2 default (15 retransmissions, 200 ms doubling
 * to a 120 s cap: 0.2 * (2^10 - 1) + 6 * 120 s), the time Linux gives an unanswered peer, so
 * a guest gets as long as a host peer would.
 */
#define TCP_ZERO_WINDOW_TIMEOUT_MS 924600u
/* Duplicate ACKs that trigger a fast retransmission. */
#define TCP_DUPACK_THRESHOLD 3u

/**
 * tcp_rx_wscale() - Window scale consomme offers for a receive ring bounded by @rx_max
 * @rx_max:	Largest rx ring, bytes
 *
 * Chosen once, at SYN time, so that a window as large as @rx_max fits the 16-bit field: the
 * ring can then grow later without renegotiation.
 *
 * Return: shift, 0..14
 */
uint8_t tcp_rx_wscale(uint32_t rx_max);

#endif /* CONSOMME_TCP_H */
