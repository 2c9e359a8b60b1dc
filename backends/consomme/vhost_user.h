/* SPDX-License-Identifier: MIT */
/*
 * vhost_user.h - consomme as a vhost-user back-end for QEMU's virtio-net
 *
 * Two halves share struct vu_dev (vu_dev.h): vhost_user.c speaks the protocol on the unix socket
 * (feature negotiation, memory table, ring set-up and stop), vu_net.c moves frames through the
 * rings (tx = queue 1, guest to us; rx = queue 0, us to guest) and is the stack's data path
 * (vu_net.h). The protocol half calls into the data half, never the other way round.
 *
 * Lifetime: the device lives as long as the front-end's connection. Rings come and go with the
 * guest's driver (GET_VRING_BASE stops one, SET_VRING_* set it up again), the memory table may
 * be replaced at any time (old mappings are unmapped at once); the stack's connections are
 * never touched by either, so TCP survives a driver reload and retransmits what was lost.
 */
#ifndef CONSOMME_VHOST_USER_H
#define CONSOMME_VHOST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consomme.h"
#include "virtq.h"
#include "vu_dev.h"
#include "vu_net.h"

/* vhost-user protocol feature bits */
#define VHOST_USER_PROTOCOL_F_MQ        0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3

#define VU_PAYLOAD_MAX 4096 /* larger than any message we accept */
#define VU_MAX_FDS     8

uint64_t vu_offered_features(void);
int vu_features_check(uint64_t acked, struct vu_net_caps *caps, const char **why);

struct vu_msg {
    uint32_t request, flags, size;
    uint8_t payload[VU_PAYLOAD_MAX];
};

/* vhost_user.c */
struct vu_dev *vu_dev_new(struct consomme *c);
void vu_dev_free(struct vu_dev *d);
int vu_handle(struct vu_dev *d, const struct vu_msg *m, int *fds, size_t nfds, struct vu_msg *reply,
              bool *has_reply);
void vu_mem_unmap(struct vu_mem *m);
extern const struct cm_transport_ops vu_transport_ops;

#endif /* CONSOMME_VHOST_USER_H */
