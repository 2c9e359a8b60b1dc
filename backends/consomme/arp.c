/* SPDX-License-Identifier: MIT */
/*
 * arp.c - ARP for Ethernet/IPv4: answer for the gateway and DNS addresses
 *
 * The guest only ever needs the gateway's (and the DNS address's) hardware address: every
 * other destination is reached through the default route. Requests for other addresses,
 * including the guest's own duplicate-address probes, stay unanswered and are counted.
 */
#include <errno.h>
#include <string.h>

#include "core.h"

/**
 * arp_parse() - Read an Ethernet/IPv4 ARP packet
 * @p:		Bytes after the Ethernet header
 * @len:	Bytes at @p
 * @out:	Fields, filled on success
 *
 * Return: 0, -EINVAL if shorter than 28 bytes, -EPROTONOSUPPORT for other hardware/protocols
 */
int arp_parse(const uint8_t *p, size_t len, struct arp_ipv4 *out)
{
    if (len < ARP_LEN)
        return -EINVAL;
    if (p[0] != 0 || p[1] != 1 || p[2] != 0x08 || p[3] != 0x00 || p[4] != 6 || p[5] != 4)
        return -EPROTONOSUPPORT;
    out->op = get_be16(p + 6);
    memcpy(out->sha, p + 8, ETH_ALEN_);
    out->spa = get_be32(p + 14);
    memcpy(out->tha, p + 18, ETH_ALEN_);
    out->tpa = get_be32(p + 24);
    return 0;
}

/**
 * arp_encode() - Write an Ethernet/IPv4 ARP packet of ARP_LEN bytes
 * @p:		Where to write
 * @a:		Fields
 */
void arp_encode(uint8_t *p, const struct arp_ipv4 *a)
{
    p[0] = 0;
    p[1] = 1;
    p[2] = 0x08;
    p[3] = 0x00;
    p[4] = 6;
    p[5] = 4;
    put_be16(p + 6, a->op);
    memcpy(p + 8, a->sha, ETH_ALEN_);
    put_be32(p + 14, a->spa);
    memcpy(p + 18, a->tha, ETH_ALEN_);
    put_be32(p + 24, a->tpa);
}

/**
 * arp_input() - Answer an ARP request from the guest
 * @c:		Stack
 * @eth:	Whole Ethernet frame
 * @len:	Frame length (at least the Ethernet header)
 */
void arp_input(struct consomme *c, const uint8_t *eth, size_t len)
{
    const struct cm_config *cfg = &c->opts.cfg;
    struct arp_ipv4 req, rep;
    uint8_t frame[ETH_HLEN_ + ARP_LEN];
    struct iovec iov = {frame, sizeof(frame)};
    int rc = arp_parse(eth + ETH_HLEN_, len - ETH_HLEN_, &req);

    if (rc) {
        cm_drop(c, CM_DROP_ARP_MALFORMED);
        return;
    }
    if (req.op != 1 || (req.tpa != cfg->gw_ip && req.tpa != cfg->dns_ip) || req.spa == req.tpa ||
        (req.sha[0] & 1)) {
        cm_drop(c, CM_DROP_ARP_UNHANDLED);
        return;
    }
    rep.op = 2;
    memcpy(rep.sha, cfg->gw_mac, ETH_ALEN_);
    rep.spa = req.tpa;
    memcpy(rep.tha, req.sha, ETH_ALEN_);
    rep.tpa = req.spa;
    memcpy(frame, req.sha, ETH_ALEN_);
    memcpy(frame + ETH_ALEN_, cfg->gw_mac, ETH_ALEN_);
    frame[12] = 0x08;
    frame[13] = 0x06;
    arp_encode(frame + ETH_HLEN_, &rep);
    if (cm_send_frame(c, &iov, 1))
        cm_drop(c, CM_DROP_GUEST_QUEUE);
    else
        c->st.arp_replies++;
}
