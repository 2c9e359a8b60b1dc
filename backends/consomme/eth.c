/* SPDX-License-Identifier: MIT */
/*
 * eth.c - the Ethernet layer: frames from the guest to the protocols, packets back as frames
 *
 * Input: a transport hands over a batch of frames (cm_frames_input_begin(), one
 * cm_frame_input() per frame, cm_frames_input_end()); each frame is checked and dispatched in
 * place, and every frame of a batch stays valid until the batch ends, so the handlers may keep
 * pointers into them until their flush. A transport that knows the guest's checksums are right
 * (a virtio-net header with NEEDS_CSUM or DATA_VALID) says so in the frame's flags.
 *
 * Output: a frame is written where the transport's reserve() points and handed over by
 * commit(); the transport decides when it reaches the guest (flush()). Nothing here knows
 * which transport is in use. A TCP super-frame (cm_send_tcp_tso()) goes the same way with a
 * struct cm_tso beside it, only where the transport said it takes them (c->out_tso_max).
 */
#include <errno.h>
#include <string.h>

#include "core.h"

/* Ethernet header toward the guest: to its learned MAC, broadcast until it has spoken. */
static void eth_header(struct consomme *c, uint8_t *p, const uint8_t *dst_mac, uint16_t type)
{
    static const uint8_t bcast[ETH_ALEN_] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    if (!dst_mac)
        dst_mac = c->guest_mac_known ? c->guest_mac : bcast;
    memcpy(p, dst_mac, ETH_ALEN_);
    memcpy(p + ETH_ALEN_, c->opts.cfg.gw_mac, ETH_ALEN_);
    put_be16(p + 12, type);
}

/**
 * cm_send_frame() - Queue a whole Ethernet frame (the caller wrote the header)
 * @c:		Stack
 * @iov:	Frame pieces
 * @iovcnt:	Number of pieces
 *
 * Return: 0, -ENOBUFS when the queue toward the guest is full, -EMSGSIZE if too large
 */
int cm_send_frame(struct consomme *c, const struct iovec *iov, int iovcnt)
{
    size_t len = 0;
    uint8_t *p;

    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    if (len > CM_FRAME_MAX)
        return -EMSGSIZE;
    p = cm_out_reserve(c, len);
    if (!p)
        return -ENOBUFS;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(p, iov[i].iov_base, iov[i].iov_len);
        p += iov[i].iov_len;
    }
    cm_out_commit(c, len, NULL);
    return 0;
}

/* An IPv4 packet to the guest from @iov; with @tso, a TCP super-frame already checked. */
static int send_ipv4(struct consomme *c, const uint8_t *dst_mac, uint32_t src, uint32_t dst,
                     uint8_t proto, const struct iovec *iov, int iovcnt, const struct cm_tso *tso)
{
    size_t len = 0, hdr = ETH_HLEN_ + 20;
    uint8_t *p, *l4;

    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    if (!tso && len + 20 > c->opts.cfg.mtu)
        return -EMSGSIZE;
    p = cm_out_reserve(c, hdr + len);
    if (!p)
        return -ENOBUFS;
    eth_header(c, p, dst_mac, 0x0800);
    ipv4_header_encode(p + ETH_HLEN_, src, dst, proto, len, c->ip_id++);
    l4 = p + hdr;
    p = l4;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(p, iov[i].iov_base, iov[i].iov_len);
        p += iov[i].iov_len;
    }
    if (tso) {
        /* a partial checksum: the pseudo-header sum, not inverted, over the whole length
         * (virtio 1.2, 5.1.6.4.1; what Linux's own TSO frames carry) */
        put_be16(l4 + 16, (uint16_t)~csum_fold(csum_pseudo_ipv4(src, dst, proto, (uint16_t)len)));
        c->st.tso_frames_out++;
        c->st.tso_segs_out += (len - (tso->hdr_len - hdr) + tso->mss - 1) / tso->mss;
    }
    cm_out_commit(c, hdr + len, tso);
    return 0;
}

/**
 * cm_send_ipv4_to() - Queue an IPv4 packet toward the guest with an explicit Ethernet address
 * @c:		Stack
 * @dst_mac:	Ethernet destination, NULL for the guest's (broadcast until learned)
 * @src:	Source address, host byte order
 * @dst:	Destination address, host byte order
 * @proto:	IP protocol
 * @iov:	Layer-4 header and payload
 * @iovcnt:	Number of elements in @iov
 *
 * Return: 0, -ENOBUFS when the queue toward the guest is full, -EMSGSIZE beyond the MTU
 */
int cm_send_ipv4_to(struct consomme *c, const uint8_t *dst_mac, uint32_t src, uint32_t dst,
                    uint8_t proto, const struct iovec *iov, int iovcnt)
{
    return send_ipv4(c, dst_mac, src, dst, proto, iov, iovcnt, NULL);
}

int cm_send_ipv4(struct consomme *c, uint32_t src, uint32_t dst, uint8_t proto,
                 const struct iovec *iov, int iovcnt)
{
    return send_ipv4(c, NULL, src, dst, proto, iov, iovcnt, NULL);
}

uint32_t cm_guest_tso_max(const struct consomme *c, uint32_t mss)
{
    /* data segments carry no TCP options: 40 bytes of headers */
    uint32_t payload = c->out_tso_max > 40 ? c->out_tso_max - 40 : 0;

    return payload / mss > 1 ? payload / mss * mss : mss;
}

int cm_send_tcp_tso(struct consomme *c, uint32_t src, uint32_t dst, const struct iovec *iov,
                    int iovcnt, uint16_t mss)
{
    size_t len = 0, thl;
    struct cm_tso tso;

    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    if (iovcnt < 1 || iov[0].iov_len < 20 || !mss)
        return -EINVAL;
    thl = (size_t)(((const uint8_t *)iov[0].iov_base)[12] >> 4) * 4;
    if (thl < 20 || thl > iov[0].iov_len || len - thl <= mss)
        return -EINVAL;
    /* each segment the guest sees must fit the MTU, the whole the transport's limit */
    if (len + 20 > c->out_tso_max || 20 + thl + mss > c->opts.cfg.mtu)
        return -EMSGSIZE;
    tso = (struct cm_tso){
        .mss = mss,
        .l4_off = ETH_HLEN_ + 20,
        .hdr_len = (uint16_t)(ETH_HLEN_ + 20 + thl),
    };
    return send_ipv4(c, NULL, src, dst, IPPROTO_TCP, iov, iovcnt, &tso);
}

/**
 * cm_frames_input_begin() - Start a batch of frames from the guest
 * @c:		Stack
 */
void cm_frames_input_begin(struct consomme *c)
{
    c->st.batches++;
}

/**
 * cm_frame_input() - Validate and dispatch one Ethernet frame from the guest
 * @c:		Stack
 * @frame:	Frame bytes; must stay valid until cm_frames_input_end()
 * @len:	Frame length
 */
void cm_frame_input(struct consomme *c, uint8_t *frame, size_t len)
{
    cm_frame_input_flags(c, frame, len, 0);
}

/**
 * cm_frame_input_flags() - cm_frame_input() with what the transport knows of the frame
 * @c:		Stack
 * @frame:	Frame bytes; must stay valid until cm_frames_input_end()
 * @len:	Frame length
 * @flags:	CM_FRAME_CSUM_TRUSTED: the layer-4 checksum need not (or cannot) be verified
 */
void cm_frame_input_flags(struct consomme *c, uint8_t *frame, size_t len, unsigned flags)
{
    cm_frame_input_sg(c, frame, len, NULL, 0, flags);
}

/**
 * cm_frame_input_sg() - cm_frame_input_flags() for a frame whose end is in further pieces
 * @c:		Stack
 * @frame:	The frame's first bytes, headers included (a copy the guest cannot change)
 * @len:	Bytes at @frame
 * @tail:	The rest of the frame, e.g. in guest memory; only an IPv4 TCP segment's payload
 * @tail_cnt:	Pieces at @tail, at most CM_TCP_TAIL_MAX
 * @flags:	As for cm_frame_input_flags()
 *
 * The pieces are copied from (to a host socket, a connection's ring), never parsed, and must
 * stay valid until cm_frames_input_end(), like @frame.
 */
void cm_frame_input_sg(struct consomme *c, uint8_t *frame, size_t len, const struct iovec *tail,
                       int tail_cnt, unsigned flags)
{
    const uint8_t *dst = frame, *src = frame + ETH_ALEN_;
    uint16_t type;
    size_t all = len;

    if (tail_cnt < 0 || tail_cnt > CM_TCP_TAIL_MAX)
        tail_cnt = 0;
    for (int i = 0; i < tail_cnt; i++)
        all += tail[i].iov_len;
    c->st.frames_in++;
    c->st.bytes_in += all;
    if (len < ETH_HLEN_) {
        cm_drop(c, CM_DROP_FRAME_SHORT);
        return;
    }
    if (!(dst[0] & 1) && memcmp(dst, c->opts.cfg.gw_mac, ETH_ALEN_)) {
        cm_drop(c, CM_DROP_ETH_DST);
        return;
    }
    /* Learn (and follow changes of) the guest's address from any unicast source. */
    if (!(src[0] & 1) && (!c->guest_mac_known || memcmp(c->guest_mac, src, ETH_ALEN_))) {
        if (memcmp(src, c->opts.cfg.gw_mac, ETH_ALEN_) && memcmp(src, "\0\0\0\0\0\0", ETH_ALEN_)) {
            memcpy(c->guest_mac, src, ETH_ALEN_);
            c->guest_mac_known = true;
        }
    }
    type = get_be16(frame + 12);
    switch (type) {
    case 0x0800:
        c->in_csum_trusted = flags & CM_FRAME_CSUM_TRUSTED;
        ipv4_input_sg(c, frame + ETH_HLEN_, len - ETH_HLEN_, tail, tail_cnt);
        c->in_csum_trusted = false;
        break;
    case 0x0806:
        if (tail_cnt) { /* only TCP comes in pieces */
            cm_drop(c, CM_DROP_ARP_MALFORMED);
            break;
        }
        arp_input(c, frame, len);
        break;
    default:
        cm_drop(c, CM_DROP_ETHERTYPE);
        break;
    }
}

/**
 * cm_frames_input_end() - Finish a batch: flush per-flow work queued by the handlers
 * @c:		Stack
 */
void cm_frames_input_end(struct consomme *c)
{
    udp_flush(c);
    tcp_input_flush(c);
}

bool cm_guest_verifies_csum(const struct consomme *c)
{
    return !c->out_csum_valid;
}

/**
 * cm_out_reserve() - Room for one frame toward the guest
 * @c:		Stack
 * @len:	Frame length (Ethernet header included), at most CM_FRAME_MAX
 *
 * Return: where to write the frame, or NULL when the transport is full (c->guest_blocked is
 * then set, and tcp_guest_writable() follows once it has room again)
 */
uint8_t *cm_out_reserve(struct consomme *c, size_t len)
{
    uint8_t *p = c->tr->reserve(c, len);

    if (!p) {
        c->guest_blocked = true;
        c->st.guest_queue_full++;
    }
    return p;
}

/**
 * cm_out_commit() - Hand the frame written at cm_out_reserve()'s pointer to the transport
 * @c:		Stack
 * @len:	Its length, at most what was reserved
 * @tso:	How the guest segments it, for a TCP super-frame; NULL for any other frame
 */
void cm_out_commit(struct consomme *c, size_t len, const struct cm_tso *tso)
{
    c->st.frames_out++;
    c->st.bytes_out += len;
    c->tr->commit(c, len, tso);
}

/**
 * cm_out_flush() - Push what the transport holds toward the guest
 * @c:		Stack
 *
 * Return: 0, or negative errno when the transport failed (the loop then stops)
 */
int cm_out_flush(struct consomme *c)
{
    return c->tr->flush(c);
}
