/* SPDX-License-Identifier: MIT */
/*
 * dhcp.c - a DHCPv4 server with exactly one lease: the guest's 10.0.2.15
 *
 * DISCOVER gets an OFFER, REQUEST an ACK (or a NAK when the guest asks for another address).
 * Replies carry the subnet mask, router, DNS server, lease time and the interface MTU
 * (option 26), so a guest on DHCP ends up configured exactly like a statically configured one.
 * The parser checks every option length against the packet before reading it.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include "core.h"

#define BOOTP_FIXED    236
#define DHCP_MIN_LEN   240 /* BOOTP header and the magic cookie */
#define DHCP_REPLY_MIN 300 /* BOOTP's minimum, which some clients insist on */
#define LEASE_S        86400

static const uint8_t magic[4] = {99, 130, 83, 99};

static uint8_t *put_be32_next(uint8_t *p, uint32_t v)
{
    put_be32(p, v);
    return p + 4;
}

/**
 * dhcp_parse() - Read a DHCP BOOTREQUEST
 * @p:		UDP payload
 * @len:	Bytes at @p
 * @out:	Fields, filled on success
 *
 * Return: 0; -EINVAL if truncated, not a request, without magic cookie, with an option
 * running past the end, or without a message type; -EPROTONOSUPPORT for non-Ethernet hardware
 */
int dhcp_parse(const uint8_t *p, size_t len, struct dhcp_request *out)
{
    size_t i = DHCP_MIN_LEN;

    if (len < DHCP_MIN_LEN || p[0] != 1)
        return -EINVAL;
    if (p[1] != 1 || p[2] != 6)
        return -EPROTONOSUPPORT;
    if (memcmp(p + BOOTP_FIXED, magic, 4))
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    out->xid = get_be32(p + 4);
    out->flags = get_be16(p + 10);
    out->ciaddr = get_be32(p + 12);
    memcpy(out->chaddr, p + 28, ETH_ALEN_);
    while (i < len) {
        uint8_t code = p[i], olen;

        if (code == 0) {
            i++;
            continue;
        }
        if (code == 255)
            break;
        if (len - i < 2)
            return -EINVAL;
        olen = p[i + 1];
        if (len - i - 2 < olen)
            return -EINVAL;
        if (code == 53 && olen >= 1)
            out->type = p[i + 2];
        else if (code == 50 && olen == 4)
            out->requested_ip = get_be32(p + i + 2);
        else if (code == 54 && olen == 4)
            out->server_id = get_be32(p + i + 2);
        i += 2u + olen;
    }
    return out->type ? 0 : -EINVAL;
}

/**
 * dhcp_encode_reply() - Write a BOOTREPLY for @req
 * @p:		Where to write the UDP payload
 * @cap:	Room at @p, at least 300 bytes
 * @cfg:	Addresses and MTU to hand out
 * @req:	The request being answered
 * @type:	DHCP_OFFER, DHCP_ACK or DHCP_NAK
 * @lease_s:	Lease time in seconds
 *
 * Return: bytes written, 0 if @cap is too small
 */
size_t dhcp_encode_reply(uint8_t *p, size_t cap, const struct cm_config *cfg,
                         const struct dhcp_request *req, uint8_t type, uint32_t lease_s)
{
    uint8_t *o;
    size_t len;

    if (cap < DHCP_REPLY_MIN)
        return 0;
    memset(p, 0, DHCP_REPLY_MIN);
    p[0] = 2; /* BOOTREPLY */
    p[1] = 1;
    p[2] = 6;
    put_be32(p + 4, req->xid);
    put_be16(p + 10, req->flags);
    if (type != DHCP_NAK)
        put_be32(p + 16, cfg->guest_ip); /* yiaddr */
    memcpy(p + 28, req->chaddr, ETH_ALEN_);
    memcpy(p + BOOTP_FIXED, magic, 4);
    o = p + DHCP_MIN_LEN;
    *o++ = 53;
    *o++ = 1;
    *o++ = type;
    *o++ = 54;
    *o++ = 4;
    o = put_be32_next(o, cfg->gw_ip);
    if (type != DHCP_NAK) {
        *o++ = 51;
        *o++ = 4;
        o = put_be32_next(o, lease_s);
        *o++ = 1;
        *o++ = 4;
        o = put_be32_next(o, cfg->netmask);
        *o++ = 3;
        *o++ = 4;
        o = put_be32_next(o, cfg->gw_ip);
        *o++ = 6;
        *o++ = 4;
        o = put_be32_next(o, cfg->dns_ip);
        *o++ = 26;
        *o++ = 2;
        put_be16(o, (uint16_t)cfg->mtu);
        o += 2;
    }
    *o++ = 255;
    len = (size_t)(o - p);
    return len < DHCP_REPLY_MIN ? DHCP_REPLY_MIN : len;
}

static int send_reply(struct consomme *c, const struct dhcp_request *req, uint8_t type)
{
    static const uint8_t bcast[ETH_ALEN_] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const struct cm_config *cfg = &c->opts.cfg;
    uint8_t msg[DHCP_REPLY_MIN + 64], h[8];
    size_t len = dhcp_encode_reply(msg, sizeof(msg), cfg, req, type, LEASE_S);
    /* RFC 2131 4.1: broadcast when the client asks for it (it cannot take unicast yet) or
     * for a NAK; otherwise unicast to the hardware address and the offered address. */
    bool broadcast = (req->flags & 0x8000) || type == DHCP_NAK;
    uint32_t dst = broadcast ? 0xffffffffu : cfg->guest_ip;
    uint16_t ulen = (uint16_t)(8 + len), sum;
    struct iovec iov[2] = {{h, 8}, {msg, len}};

    h[0] = 0;
    h[1] = 67;
    h[2] = 0;
    h[3] = 68;
    put_be16(h + 4, ulen);
    h[6] = h[7] = 0;
    sum = csum_fold(
        csum_partial(msg, len, csum_partial(h, 8, csum_pseudo_ipv4(cfg->gw_ip, dst, 17, ulen))));
    if (!sum)
        sum = 0xffff;
    put_be16(h + 6, sum);
    return cm_send_ipv4_to(c, broadcast ? bcast : req->chaddr, cfg->gw_ip, dst, IPPROTO_UDP, iov,
                           2);
}

/**
 * dhcp_input() - Answer one DHCP message from the guest
 * @c:		Stack
 * @p:		UDP payload
 * @len:	Bytes at @p
 */
void dhcp_input(struct consomme *c, const uint8_t *p, size_t len)
{
    const struct cm_config *cfg = &c->opts.cfg;
    struct dhcp_request req;
    uint8_t type;

    if (dhcp_parse(p, len, &req)) {
        cm_drop(c, CM_DROP_DHCP_MALFORMED);
        return;
    }
    switch (req.type) {
    case DHCP_DISCOVER:
        type = DHCP_OFFER;
        break;
    case DHCP_REQUEST:
        if (req.server_id && req.server_id != cfg->gw_ip) {
            /* the guest chose another server's offer */
            cm_drop(c, CM_DROP_DHCP_UNHANDLED);
            return;
        }
        if ((req.requested_ip && req.requested_ip != cfg->guest_ip) ||
            (!req.requested_ip && req.ciaddr && req.ciaddr != cfg->guest_ip))
            type = DHCP_NAK;
        else
            type = DHCP_ACK;
        break;
    default:
        cm_drop(c, CM_DROP_DHCP_UNHANDLED);
        return;
    }
    if (send_reply(c, &req, type)) {
        cm_drop(c, CM_DROP_GUEST_QUEUE);
        return;
    }
    if (type == DHCP_OFFER)
        c->st.dhcp_offers++;
    else if (type == DHCP_ACK)
        c->st.dhcp_acks++;
    else
        c->st.dhcp_naks++;
}
