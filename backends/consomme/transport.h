/* SPDX-License-Identifier: MIT */
/*
 * transport.h - the one interface every frame transport to the guest implements
 *
 * Output is reserve / commit / flush: reserve() gives room for one frame or NULL when the
 * guest cannot take more now (no queue space, no guest receive buffers); commit() hands the
 * frame written there over; flush() pushes what is held toward the guest. writable() tells the
 * loop when a sender that got NULL may try again. A frame is complete Ethernet, checksums
 * filled in; whatever header the transport needs in front (a stream length, a virtio-net
 * header) is its own business.
 *
 * Input is a batch: on a wakeup the transport calls cm_frames_input_begin(), one
 * cm_frame_input_flags() per frame (flags say what the transport's offloads vouch for), and
 * cm_frames_input_end(); frame memory stays valid until the batch ends.
 *
 * max_frame is the largest frame the guest can currently receive (a virtio-net guest without
 * merged or big receive buffers takes 1514 bytes at most); the core keeps its MTU below it.
 */
#ifndef CONSOMME_TRANSPORT_H
#define CONSOMME_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct consomme;

struct cm_transport_ops {
    const char *name;
    uint8_t *(*reserve)(struct consomme *c, size_t len);
    void (*commit)(struct consomme *c, size_t len);
    int (*flush)(struct consomme *c);
    bool (*writable)(const struct consomme *c);
    void (*free)(struct consomme *c);
};

/* The layer-4 checksum is known good or left for us to trust (virtio-net offloads). */
#define CM_FRAME_CSUM_TRUSTED 1u

/* Stream and TAP share one output queue (transport.c); also the no-transport default. */
extern const struct cm_transport_ops cm_queue_ops;

#endif /* CONSOMME_TRANSPORT_H */
