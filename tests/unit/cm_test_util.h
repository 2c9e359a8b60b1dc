/* SPDX-License-Identifier: MIT */
/*
 * cm_test_util.h - frame builders for the consomme core's unit tests
 *
 * Frames are checked with the reference checksum of tests/support/ref_csum.h, written
 * independently of checksum.c, so the two check each other. A stack made with cm_test_stack() has
 * no transport: frames toward the guest stay in its output queue, where cm_test_next_out() reads
 * them back.
 */
#ifndef CM_TEST_UTIL_H
#define CM_TEST_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include "core.h"
#include "ref_csum.h"

#define GUEST_MAC       0x52, 0x54, 0x00, 0x12, 0x12, 0x12
#define GW_MAC          0x52, 0x55, 0x0a, 0x00, 0x02, 0x02
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* Ethernet + IPv4 header (valid checksum) around @l4 of @l4len bytes; returns frame length. */
static inline size_t build_ipv4_frame(uint8_t *f, const uint8_t dst_mac[6], uint32_t src,
                                      uint32_t dst, uint8_t proto, const uint8_t *l4, size_t l4len)
{
    static const uint8_t guest[6] = {GUEST_MAC};

    memcpy(f, dst_mac, 6);
    memcpy(f + 6, guest, 6);
    put_be16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put_be16(ip + 2, (uint16_t)(20 + l4len));
    put_be16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = proto;
    put_be32(ip + 12, src);
    put_be32(ip + 16, dst);
    put_be16(ip + 10, ref_csum(ip, 20, 0));
    memcpy(ip + 20, l4, l4len);
    return 14 + 20 + l4len;
}

/* UDP header + payload with a valid checksum into @out; returns its length. */
static inline size_t build_udp(uint8_t *out, uint32_t src, uint32_t dst, uint16_t sport,
                               uint16_t dport, const void *payload, size_t len)
{
    put_be16(out, sport);
    put_be16(out + 2, dport);
    put_be16(out + 4, (uint16_t)(8 + len));
    put_be16(out + 6, 0);
    memcpy(out + 8, payload, len);
    uint16_t s = ref_csum(out, 8 + len, ref_pseudo(src, dst, 17, (uint16_t)(8 + len)));
    put_be16(out + 6, s ? s : 0xffff);
    return 8 + len;
}

static inline struct consomme *cm_test_stack(void)
{
    struct cm_opts o;
    struct consomme *c = NULL;

    cm_opts_default(&o);
    o.dns_upstream.sin_family = AF_INET; /* never the machine's resolver in tests */
    o.dns_upstream.sin_port = htons(53);
    o.dns_upstream.sin_addr.s_addr = htonl(0x7f000001);
    if (cm_create(&o, &c, NULL, 0))
        return NULL;
    return c;
}

/* Next queued frame toward the guest (or NULL), consuming it. */
static inline const uint8_t *cm_test_next_out(struct consomme *c, size_t *len)
{
    if (c->obuf_head >= c->obuf_tail)
        return NULL;
    const uint8_t *p = c->obuf + c->obuf_head;
    *len = get_be32(p);
    c->obuf_head += 4 + *len;
    return p + 4;
}

static inline uint64_t cm_test_drops(const struct consomme *c, enum cm_drop why)
{
    return c->st.drops[why];
}

#endif /* CM_TEST_UTIL_H */
