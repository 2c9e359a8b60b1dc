/* SPDX-License-Identifier: MIT */
/*
 * fuzz_frames.h - what the consomme fuzz targets share about the stack and the frames they feed
 *
 * fuzz_stack_opts() gives every target the same stack options: defaults, and a DNS upstream on
 * loopback, which inside the private namespace of fuzz_ns.h is the only place a packet can go.
 * fuzz_fix_checksums() lets a fuzzer get past the checksums to the protocol code: it rewrites
 * only what the frame's own lengths prove to be inside the frame, so a malformed frame stays
 * malformed and is never read or written past its end.
 */
#ifndef CONSOMME_FUZZ_FRAMES_H
#define CONSOMME_FUZZ_FRAMES_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"

/* Fill @o for a stack in the private namespace, its DNS upstream at 127.0.0.1:@dns_port. */
static inline void fuzz_stack_opts(struct cm_opts *o, uint16_t dns_port)
{
    cm_opts_default(o);
    o->dns_upstream.sin_family = AF_INET;
    o->dns_upstream.sin_port = htons(dns_port);
    o->dns_upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/*
 * fuzz_fix_checksums() - make the checksums of a raw Ethernet frame right
 * @f:     the frame, rewritten in place
 * @len:   its length
 * @flags: bit 0: the IPv4 header checksum; bit 1: the ICMP/UDP/TCP checksum
 *
 * Frames that are not IPv4, or whose header or total length do not fit in @len, are left alone.
 */
static inline void fuzz_fix_checksums(uint8_t *f, size_t len, uint8_t flags)
{
    uint8_t *ip = f + 14;
    size_t ihl, tot;

    if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || ip[0] >> 4 != 4)
        return;
    ihl = (size_t)(ip[0] & 15) * 4;
    tot = get_be16(ip + 2);
    if (ihl < 20 || ihl > tot || tot > len - 14)
        return;
    if (flags & 2) {
        uint8_t *l4 = ip + ihl;
        size_t l4len = tot - ihl;
        size_t off = ip[9] == 1 ? 2 : ip[9] == 17 ? 6 : ip[9] == 6 ? 16 : 0;

        if (off && l4len >= off + 2) {
            uint32_t sum = ip[9] == 1 ? 0
                                      : csum_pseudo_ipv4(get_be32(ip + 12), get_be32(ip + 16),
                                                         ip[9], (uint16_t)l4len);
            put_be16(l4 + off, 0);
            put_be16(l4 + off, csum_fold(csum_partial(l4, l4len, sum)));
        }
    }
    if (flags & 1) {
        put_be16(ip + 10, 0);
        put_be16(ip + 10, csum_fold(csum_partial(ip, ihl, 0)));
    }
}

#endif /* CONSOMME_FUZZ_FRAMES_H */
