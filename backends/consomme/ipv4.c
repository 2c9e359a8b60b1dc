/* SPDX-License-Identifier: MIT */
/*
 * ipv4.c - IPv4 header validation and dispatch of guest packets to ICMP, UDP and TCP
 *
 * Nothing after the Ethernet header is trusted: version, header length, total length and the
 * header checksum are checked before any field is used, and the layer-4 length handed on is
 * the one from the (checked) total length, so Ethernet padding never reaches a protocol.
 * Fragments are dropped and counted: guests do path MTU discovery, and we send DF.
 */
#include <string.h>
#include <netinet/in.h>

#include "core.h"

/**
 * ipv4_parse() - Validate an IPv4 header
 * @p:		Bytes after the Ethernet header
 * @len:	Bytes at @p (may include Ethernet padding beyond the packet)
 * @ip:		Addresses and protocol, filled on success
 * @hlen:	Header length, filled on success
 * @total:	Total length from the header (<= @len), filled on success
 *
 * Return: CM_PASS, or the reason to drop the packet
 */
enum cm_drop ipv4_parse(const uint8_t *p, size_t len, struct cm_ipv4 *ip, size_t *hlen,
                        size_t *total)
{
    size_t ihl, tot;

    if (len < 20)
        return CM_DROP_IPV4_SHORT;
    if (p[0] >> 4 != 4)
        return CM_DROP_IPV4_VERSION;
    ihl = (size_t)(p[0] & 0xf) * 4;
    if (ihl < 20 || ihl > len)
        return CM_DROP_IPV4_IHL;
    tot = get_be16(p + 2);
    if (tot < ihl || tot > len)
        return CM_DROP_IPV4_LENGTH;
    if (csum_fold(csum_partial(p, ihl, 0)) != 0)
        return CM_DROP_IPV4_CHECKSUM;
    if (get_be16(p + 6) & 0x3fff) /* MF flag or a fragment offset */
        return CM_DROP_IPV4_FRAGMENT;
    ip->ttl = p[8];
    ip->proto = p[9];
    ip->l4_csum_trusted = false;
    ip->src = get_be32(p + 12);
    ip->dst = get_be32(p + 16);
    *hlen = ihl;
    *total = tot;
    return CM_PASS;
}

/**
 * ipv4_input() - Validate one IPv4 packet from the guest and hand it to its protocol
 * @c:		Stack
 * @pkt:	Bytes after the Ethernet header
 * @len:	Bytes at @pkt
 */
void ipv4_input(struct consomme *c, const uint8_t *pkt, size_t len)
{
    ipv4_input_sg(c, pkt, len, NULL, 0);
}

/**
 * ipv4_input_sg() - ipv4_input() for a packet whose end lies in pieces beyond @pkt
 * @c:		Stack
 * @pkt:	Bytes after the Ethernet header: the IPv4 header at least
 * @len:	Bytes at @pkt
 * @tail:	The packet's further bytes (guest memory), only ever TCP payload
 * @tail_cnt:	Pieces at @tail, at most CM_TCP_TAIL_MAX
 *
 * A packet with a tail must be TCP (the transport looked at its own copy of the headers); one
 * that is not is dropped as a protocol this path does not take.
 */
void ipv4_input_sg(struct consomme *c, const uint8_t *pkt, size_t len, const struct iovec *tail,
                   int tail_cnt)
{
    const struct cm_config *cfg = &c->opts.cfg;
    struct iovec trimmed[CM_TCP_TAIL_MAX];
    size_t hlen, total, all = len, want;
    struct cm_ipv4 ip;
    enum cm_drop v;
    int n = 0;

    if (tail_cnt < 0 || tail_cnt > CM_TCP_TAIL_MAX)
        tail_cnt = 0;
    for (int i = 0; i < tail_cnt; i++)
        all += tail[i].iov_len;
    /* the header is read from @pkt only: with a tail, @pkt must hold the largest one */
    v = tail_cnt && len < 60 ? CM_DROP_IPV4_IHL : ipv4_parse(pkt, all, &ip, &hlen, &total);
    if (v != CM_PASS) {
        cm_drop(c, v);
        return;
    }
    ip.l4_csum_trusted = c->in_csum_trusted;
    if (tail_cnt && total > len) {
        if (ip.proto != IPPROTO_TCP) {
            cm_drop(c, CM_DROP_IPV4_PROTO);
            return;
        }
        /* Ethernet padding or a frame longer than its packet: keep the packet's bytes only */
        want = total - len;
        for (int i = 0; i < tail_cnt && want; i++) {
            size_t k = tail[i].iov_len < want ? tail[i].iov_len : want;

            trimmed[n++] = (struct iovec){.iov_base = tail[i].iov_base, .iov_len = k};
            want -= k;
        }
    }
    if (ip.proto == IPPROTO_UDP) { /* never in pieces: only TCP comes with a tail */
        /* udp.c checks source and destination itself: DHCP comes from 0.0.0.0 to broadcast */
        udp_input(c, &ip, pkt + hlen, total - hlen);
        return;
    }
    if (ip.src != cfg->guest_ip) {
        cm_drop(c, CM_DROP_IPV4_SRC);
        return;
    }
    if (cm_dst_refused(cfg, ip.dst, ip.proto)) {
        cm_drop(c, CM_DROP_IPV4_DST);
        return;
    }
    if (n) {
        tcp_input_sg(c, &ip, pkt + hlen, len - hlen, trimmed, n);
        return;
    }
    switch (ip.proto) {
    case IPPROTO_TCP:
        tcp_input(c, &ip, pkt + hlen, total - hlen);
        break;
    case IPPROTO_ICMP:
        icmp_input(c, &ip, pkt + hlen, total - hlen);
        break;
    default:
        cm_drop(c, CM_DROP_IPV4_PROTO);
        break;
    }
}
