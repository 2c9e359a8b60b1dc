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
 * Segmentation by the guest (virtio-net GUEST_TSO4): a transport that can hand the guest TCP
 * super-frames sets c->out_tso_max to the largest IPv4 packet it takes so, else leaves it 0.
 * Such a frame is committed with a struct cm_tso saying how the guest's side cuts it: into
 * segments of @mss payload bytes each behind a copy of the @hdr_len bytes of headers. Its
 * TCP checksum field then holds the pseudo-header sum (a partial checksum, the form the
 * guest's stack finishes or trusts), never the full sum; its IPv4 header is complete.
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

/* How a TCP super-frame toward the guest is to be segmented (see above). */
struct cm_tso {
    uint16_t mss;     /* payload bytes per segment; the last may have fewer */
    uint16_t l4_off;  /* offset of the TCP header in the frame: where checksumming starts */
    uint16_t hdr_len; /* Ethernet + IPv4 + TCP headers, options included */
};

struct cm_transport_ops {
    const char *name;
    uint8_t *(*reserve)(struct consomme *c, size_t len);
    /* @tso: NULL for a plain frame; never set unless c->out_tso_max allowed the frame */
    void (*commit)(struct consomme *c, size_t len, const struct cm_tso *tso);
    int (*flush)(struct consomme *c);
    bool (*writable)(const struct consomme *c);
    /* NULL when the transport keeps nothing beyond the stack's own buffers */
    void (*free)(struct consomme *c);
};

/* The layer-4 checksum is known good or left for us to trust (virtio-net offloads). */
#define CM_FRAME_CSUM_TRUSTED 1u

/* Stream and TAP share one output queue (transport.c); also the no-transport default. */
extern const struct cm_transport_ops cm_queue_ops;

#endif /* CONSOMME_TRANSPORT_H */
