/* SPDX-License-Identifier: MIT */
/*
 * eth_in.c - the Ethernet layer's input: frames from the guest to the protocols
 *
 * A transport hands over a batch of frames (cm_frames_input_begin(), one cm_frame_input() per
 * frame, cm_frames_input_end()); each frame is checked and dispatched in place, and every frame
 * of a batch stays valid until the batch ends, so the handlers may keep pointers into them
 * until their flush. A transport that knows the guest's checksums are right (a virtio-net
 * header with NEEDS_CSUM or DATA_VALID) says so in the frame's flags. A transport may also
 * hand over a TCP segment's payload in pieces it has not copied (vhost-user: guest memory),
 * after a copy of the headers: the pieces are only ever copied from, never parsed, and only
 * IPv4 TCP may come that way. This file calls up into
 * the protocols; they answer through the output side (eth.c), never through this one.
 */
#include <string.h>

#include "core.h"

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
