/* SPDX-License-Identifier: MIT */
/*
 * icmp.c - echo replies for the gateway and DNS addresses
 *
 * These two addresses are consomme itself, so it answers them directly; the reply carries the
 * request's identifier, sequence and payload unchanged, as ping checks.
 */
#include <string.h>
#include <netinet/in.h>

#include "core.h"

/**
 * icmp_input() - Handle one ICMP message from the guest
 * @c:		Stack
 * @ip:		Validated IPv4 fields
 * @p:		ICMP header and data
 * @len:	Bytes at @p, from the IP total length
 */
void icmp_input(struct consomme *c, const struct cm_ipv4 *ip, const uint8_t *p, size_t len)
{
    const struct cm_config *cfg = &c->opts.cfg;
    uint8_t hdr[8];
    struct iovec iov[2];
    uint16_t sum;
    int rc;

    if (len < 8 || csum_fold(csum_partial(p, len, 0)) != 0) {
        cm_drop(c, CM_DROP_ICMP_MALFORMED);
        return;
    }
    if (p[0] != 8 || p[1] != 0 || (ip->dst != cfg->gw_ip && ip->dst != cfg->dns_ip)) {
        cm_drop(c, CM_DROP_ICMP_UNHANDLED);
        return;
    }
    memcpy(hdr, p, sizeof(hdr));
    hdr[0] = 0; /* echo reply */
    hdr[2] = hdr[3] = 0;
    /* hdr is even-sized, so the two pieces sum independently */
    sum = csum_fold(csum_partial(p + 8, len - 8, csum_partial(hdr, 8, 0)));
    put_be16(hdr + 2, sum);
    iov[0] = (struct iovec){hdr, sizeof(hdr)};
    iov[1] = (struct iovec){(void *)(p + 8), len - 8};
    rc = cm_send_ipv4(c, ip->dst, ip->src, IPPROTO_ICMP, iov, 2);
    if (rc)
        cm_drop(c, CM_DROP_GUEST_QUEUE);
    else
        c->st.icmp_echo_replies++;
}
