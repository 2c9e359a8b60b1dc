/* SPDX-License-Identifier: MIT */
/*
 * ref_csum - the Internet checksum as the tests compute it
 *
 * The textbook RFC 1071 loop (big-endian 16-bit words, end-around carry), written independently
 * of consomme's checksum.c and its 32-bit word version, so that a test checking a frame with it
 * checks the stack against a second implementation. Header-only.
 */
#ifndef BURETTE_REF_CSUM_H
#define BURETTE_REF_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* The checksum of @p (@len bytes) added to @sum, folded and complemented: 0 over a whole
 * packet whose checksum field is right. */
static inline uint16_t ref_csum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The IPv4 pseudo-header's sum, to start ref_csum() of a TCP or UDP segment with. */
static inline uint32_t ref_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

#endif /* BURETTE_REF_CSUM_H */
