/* SPDX-License-Identifier: MIT */
/*
 * checksum.c - the Internet checksum (RFC 1071) for IPv4, ICMP, UDP and TCP
 *
 * Convention shared with tcp.c: a sum is a 32-bit accumulator of 16-bit words read big-endian
 * (network order) as numbers, so csum_pseudo_ipv4() can add host-order addresses directly and
 * partial sums over split buffers add up. csum_fold() returns the finished checksum (one's
 * complement of the folded sum) as a host-order number: store it with htons(). A buffer of odd
 * length is padded with a zero byte, so only the last piece of a split buffer may be odd.
 *
 * csum_partial() is on the data path (every UDP datagram and TCP segment), so it reads 32 bits
 * at a time into a 64-bit accumulator; the byte order is fixed up once at the end.
 */
#include <string.h>
#include <endian.h>

#include "consomme.h"

/* Fold a 64-bit one's complement accumulator to 16 bits (still not complemented). */
static uint32_t fold64(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

/**
 * csum_partial() - Add a buffer to a running checksum sum
 * @buf:	Bytes to sum (any alignment)
 * @len:	Number of bytes; an odd length pads with one zero byte
 * @sum:	Sum so far (0 to start)
 *
 * Return: new sum, not folded; pass it to csum_fold() or further csum_partial() calls
 */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
    const uint8_t *p = buf;
    uint64_t acc = 0;

    /* Summing native-endian 32-bit words gives the byte-swapped sum on a little-endian
     * machine (RFC 1071 section 2(B)); it is swapped back after folding. */
    while (len >= 32) {
        uint32_t w[8];
        memcpy(w, p, sizeof(w));
        acc += (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
        p += 32;
        len -= 32;
    }
    while (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        acc += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        acc += w;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint8_t last[2] = {p[0], 0};
        uint16_t w;
        memcpy(&w, last, 2);
        acc += w;
    }
    uint32_t folded = fold64(acc);
    folded = be16toh((uint16_t)folded);
    return fold64((uint64_t)sum + folded);
}

/**
 * csum_fold() - Finish a checksum
 * @sum:	Accumulated sum
 *
 * Return: the checksum field value in host byte order (store with htons())
 */
uint16_t csum_fold(uint32_t sum)
{
    return (uint16_t)~fold64(sum);
}

/**
 * csum_pseudo_ipv4() - Sum of the IPv4 pseudo-header for TCP and UDP
 * @src:	Source address, host byte order
 * @dst:	Destination address, host byte order
 * @proto:	IPPROTO_TCP or IPPROTO_UDP
 * @l4_len:	Length of the layer-4 header plus payload
 *
 * Return: sum to pass as @sum to csum_partial() over the layer-4 bytes
 */
uint32_t csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
    uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + l4_len;
    return fold64(s);
}
