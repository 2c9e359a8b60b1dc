/* SPDX-License-Identifier: MIT */
/*
 * vu_dev.h - the vhost-user device: what the protocol half and the data half share
 *
 * struct vu_dev is written by vhost_user.c (negotiation, memory table, ring set-up and stop)
 * and used by vu_net.c (frames through the rings); this header is all either needs of the
 * other's data, so neither source includes the other's header for it: vhost_user.c calls into
 * vu_net.c (vu_net.h), never the other way round.
 */
#ifndef CONSOMME_VU_DEV_H
#define CONSOMME_VU_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consomme.h"
#include "virtq.h"

/* Virtio feature bits (virtio 1.x and virtio-net) */
#define VIRTIO_NET_F_CSUM              0
#define VIRTIO_NET_F_GUEST_CSUM        1
#define VIRTIO_NET_F_GUEST_TSO4        7
#define VIRTIO_NET_F_GUEST_TSO6        8
#define VIRTIO_NET_F_GUEST_UFO         10
#define VIRTIO_NET_F_HOST_TSO4         11
#define VIRTIO_NET_F_HOST_TSO6         12
#define VIRTIO_NET_F_MRG_RXBUF         15
#define VIRTIO_RING_F_INDIRECT_DESC    28
#define VIRTIO_RING_F_EVENT_IDX        29
#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VIRTIO_F_VERSION_1             32

/* virtio_net_hdr flags and gso_type */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_TCP_CSUM_OFF 16 /* csum_offset of TCP's checksum field */

#define VU_RX          0
#define VU_TX          1
#define VU_QUEUES      2
#define VU_RX_HELD_MAX 64 /* receive buffers one frame may spread over (64 KiB in 1 KiB+) */

/* What the negotiated features mean for the data path. */
struct vu_net_caps {
    size_t hdr_len;  /* virtio_net_hdr size: 12 with VERSION_1 or MRG_RXBUF, else 10 */
    bool mrg_rxbuf;  /* a frame may spread over several receive buffers */
    bool guest_csum; /* we may mark frames DATA_VALID */
    bool guest_tso4; /* we may hand the guest TCPv4 super-frames (gso_type TCPV4) */
    bool big_rx;     /* the guest's receive buffers take 64 KiB frames */
    bool event_idx;
    bool indirect;
};

struct vu_vring {
    struct virtq q;
    struct cm_event kick_ev; /* kick_ev.fd: the kick eventfd, -1 until set */
    int call_fd, err_fd;
    bool started; /* kick fd received and not stopped by GET_VRING_BASE */
    bool enabled; /* SET_VRING_ENABLE (always, without protocol features) */
    bool pending_call;
    bool broken_logged;
};

struct vu_dev {
    struct consomme *c;
    struct cm_event sock_ev; /* the front-end connection */
    struct cm_event listen_ev;
    char path[108];
    bool remove_dir; /* path's directory is this back-end's own: removed with path */

    uint64_t features, protocol_features;
    bool features_set;
    struct vu_net_caps caps;
    unsigned configured_mtu; /* the stack's MTU before the guest's receive buffers limit it */
    struct vu_mem mem;
    struct vu_vring vr[VU_QUEUES];

    /* rx: chains taken for the frame being built, first at held_first */
    struct vq_elem *held;
    unsigned held_first, held_n;
    size_t held_cap;
    uint8_t *stage; /* vnet header + the frame being built */
    size_t stage_size;

    /* tx: copies of the guest's frames of one batch (of a TCP segment's headers only) */
    uint8_t *tx_buf;
    size_t tx_buf_size;
    uint64_t tx_in_place; /* TCP segments whose payload was read from guest memory in place */

    char errmsg[256]; /* protocol error that ends the connection */
};

#endif /* CONSOMME_VU_DEV_H */
