/* SPDX-License-Identifier: MIT */
/*
 * vu_net.h - the data half of the vhost-user transport (vu_net.c): frames through the rings
 *
 * The protocol half (vhost_user.c) calls these as rings come and go and kicks arrive; it also
 * assembles the stack's transport from the four data-path operations.
 */
#ifndef CONSOMME_VU_NET_H
#define CONSOMME_VU_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "transport.h"
#include "vu_dev.h"

bool vu_ring_ready(const struct vu_dev *d, unsigned q);
void vu_ring_check(struct vu_dev *d, unsigned q);
void vu_tx_process(struct vu_dev *d);
void vu_rx_release(struct vu_dev *d);
void vu_kick_event(struct consomme *c, struct cm_event *ev, uint32_t events);

/* The transport's data path (transport.h); vhost_user.c's vu_transport_ops points at them. */
uint8_t *vu_net_reserve(struct consomme *c, size_t len);
void vu_net_commit(struct consomme *c, size_t len, const struct cm_tso *tso);
int vu_net_flush(struct consomme *c);
bool vu_net_writable(const struct consomme *c);

#endif /* CONSOMME_VU_NET_H */
