/* SPDX-License-Identifier: MIT */
/*
 * vhost_user.h - consomme as a vhost-user back-end for QEMU's virtio-net
 *
 * Two halves share struct vu_dev: vhost_user.c speaks the protocol on the unix socket (feature
 * negotiation, memory table, ring set-up and stop), vu_net.c moves frames through the rings
 * (tx = queue 1, guest to us; rx = queue 0, us to guest) and is the stack's transport.
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

/* vhost-user protocol feature bits */
#define VHOST_USER_PROTOCOL_F_MQ        0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3

/* virtio_net_hdr flags and gso_type */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_TCP_CSUM_OFF 16 /* csum_offset of TCP's checksum field */

#define VU_RX          0
#define VU_TX          1
#define VU_QUEUES      2
#define VU_PAYLOAD_MAX 4096 /* larger than any message we accept */
#define VU_MAX_FDS     8
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

uint64_t vu_offered_features(void);
int vu_features_check(uint64_t acked, struct vu_net_caps *caps, const char **why);

struct vu_vring {
    struct virtq q;
    struct cm_event kick_ev; /* kick_ev.fd: the kick eventfd, -1 until set */
    int call_fd, err_fd;
    bool started; /* kick fd received and not stopped by GET_VRING_BASE */
    bool enabled; /* SET_VRING_ENABLE (always, without protocol features) */
    bool pending_call;
    bool broken_logged;
};

struct vu_msg {
    uint32_t request, flags, size;
    uint8_t payload[VU_PAYLOAD_MAX];
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

/* vhost_user.c */
struct vu_dev *vu_dev_new(struct consomme *c);
void vu_dev_free(struct vu_dev *d);
int vu_handle(struct vu_dev *d, const struct vu_msg *m, int *fds, size_t nfds, struct vu_msg *reply,
              bool *has_reply);
void vu_mem_unmap(struct vu_mem *m);

/* vu_net.c */
bool vu_ring_ready(const struct vu_dev *d, unsigned q);
void vu_ring_check(struct vu_dev *d, unsigned q);
void vu_tx_process(struct vu_dev *d);
void vu_rx_release(struct vu_dev *d);
void vu_kick_event(struct consomme *c, struct cm_event *ev, uint32_t events);
extern const struct cm_transport_ops vu_transport_ops;

#endif /* CONSOMME_VHOST_USER_H */
