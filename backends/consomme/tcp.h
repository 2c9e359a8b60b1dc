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
