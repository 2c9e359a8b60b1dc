/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of ipv4.c's validation (every length, offset and checksum check, one malformed
 * packet each, built by hand after RFC 791) and of icmp.c's echo replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cm_test_util.h"

static const uint8_t gw_mac[6] = {GW_MAC};

/* A valid 20-byte header + 8 bytes of payload, 10.0.2.15 -> 10.0.2.2, protocol 17. */
static size_t good(uint8_t *p)
{
    memset(p, 0, 28);
    p[0] = 0x45;
    put_be16(p + 2, 28);
    p[8] = 64;
    p[9] = 17;
    put_be32(p + 12, IP4(10, 0, 2, 15));
    put_be32(p + 16, IP4(10, 0, 2, 2));
    put_be16(p + 10, ref_csum(p, 20, 0));
    return 28;
}

static void fix(uint8_t *p, size_t ihl)
{
    put_be16(p + 10, 0);
    put_be16(p + 10, ref_csum(p, ihl, 0));
}

static void test_ipv4_parse_accepts_valid_header_and_ignores_padding(void **state)
{
    uint8_t p[64];
    struct cm_ipv4 ip;
    size_t hlen, total;

    good(p);
    /* 46-byte Ethernet minimum payload: padding after the packet */
    assert_int_equal(ipv4_parse(p, 46, &ip, &hlen, &total), CM_PASS);
    assert_int_equal(hlen, 20);
    assert_int_equal(total, 28);
    assert_int_equal(ip.src, IP4(10, 0, 2, 15));
    assert_int_equal(ip.dst, IP4(10, 0, 2, 2));
    assert_int_equal(ip.proto, 17);
    assert_int_equal(ip.ttl, 64);
}

static void test_ipv4_parse_accepts_options_within_header(void **state)
{
    uint8_t p[64] = {0};
    struct cm_ipv4 ip;
    size_t hlen, total;

    good(p);
    memmove(p + 24, p + 20, 8);
    p[0] = 0x46;
    p[20] = 1; /* NOP options */
    p[21] = 1;
    p[22] = 1;
    p[23] = 0;
    put_be16(p + 2, 32);
    fix(p, 24);
    assert_int_equal(ipv4_parse(p, 32, &ip, &hlen, &total), CM_PASS);
    assert_int_equal(hlen, 24);
}

/* One field of good() changed (or none: @width 0), the packet handed over as @len bytes. */
struct malformed {
    const char *what;
    size_t len;
    size_t at;      /* offset of the field */
    unsigned width; /* 1 or 2 bytes (16-bit fields big-endian), 0: nothing changed */
    uint16_t value;
    bool refix; /* the header checksum recomputed after the change */
    enum cm_drop want;
};

static const char *verdict(enum cm_drop v)
{
    return v == CM_PASS ? "passed" : cm_drop_name(v);
}

static void test_ipv4_parse_rejects_each_malformation_with_its_reason(void **state)
{
    static const struct malformed cases[] = {
        {"shorter than a header", 19, 0, 0, 0, false, CM_DROP_IPV4_SHORT},
        {"version 6", 28, 0, 1, 0x65, false, CM_DROP_IPV4_VERSION},
        {"IHL 16 bytes", 28, 0, 1, 0x44, false, CM_DROP_IPV4_IHL},
        {"IHL 60 bytes, beyond the 28 we have", 28, 0, 1, 0x4f, false, CM_DROP_IPV4_IHL},
        {"total below the header", 28, 2, 2, 19, true, CM_DROP_IPV4_LENGTH},
        {"total beyond the frame", 28, 2, 2, 29, true, CM_DROP_IPV4_LENGTH},
        {"TTL changed, checksum not", 28, 8, 1, 63, false, CM_DROP_IPV4_CHECKSUM},
        {"more fragments", 28, 6, 2, 0x2000, true, CM_DROP_IPV4_FRAGMENT},
        {"DF with an offset: still a fragment", 28, 6, 2, 0x4000 | 185, true,
         CM_DROP_IPV4_FRAGMENT},
        {"DF alone is fine", 28, 6, 2, 0x4000, true, CM_PASS},
    };

    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct malformed *m = &cases[k];
        uint8_t p[64];
        struct cm_ipv4 ip;
        size_t hlen, total;
        enum cm_drop got;

        good(p);
        if (m->width == 1)
            p[m->at] = (uint8_t)m->value;
        else if (m->width == 2)
            put_be16(p + m->at, m->value);
        if (m->refix)
            fix(p, 20);
        got = ipv4_parse(p, m->len, &ip, &hlen, &total);
        if (got != m->want)
            fail_msg("%s: %s, expected %s", m->what, verdict(got), verdict(m->want));
    }
}

static void test_ipv4_input_counts_drops_by_reason(void **state)
{
    struct consomme *c = cm_test_stack();
    uint8_t f[128], l4[8] = {0};
    size_t len = 0;

    len = build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 17, l4, 8);
    f[14 + 10] ^= 0xff;
    cm_frame_input(c, f, len);
    assert_int_equal(cm_test_drops(c, CM_DROP_IPV4_CHECKSUM), 1);
    len = build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 99), IP4(10, 0, 2, 2), 1, l4, 8);
    cm_frame_input(c, f, len);
    assert_int_equal(cm_test_drops(c, CM_DROP_IPV4_SRC), 1);
    len = build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), IP4(224, 0, 0, 1), 1, l4, 8);
    cm_frame_input(c, f, len);
    len = build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), IP4(127, 0, 0, 1), 1, l4, 8);
    cm_frame_input(c, f, len);
    assert_int_equal(cm_test_drops(c, CM_DROP_IPV4_DST), 2);
    len = build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 47, l4, 8);
    cm_frame_input(c, f, len);
    assert_int_equal(cm_test_drops(c, CM_DROP_IPV4_PROTO), 1);
    /* Ethernet level: too short, not for us, IPv6 */
    cm_frame_input(c, f, 13);
    assert_int_equal(cm_test_drops(c, CM_DROP_FRAME_SHORT), 1);
    f[0] = 0x02;
    cm_frame_input(c, f, len);
    assert_int_equal(cm_test_drops(c, CM_DROP_ETH_DST), 1);
    memcpy(f, gw_mac, 6);
    put_be16(f + 12, 0x86dd);
    cm_frame_input(c, f, len);
    assert_int_equal(cm_test_drops(c, CM_DROP_ETHERTYPE), 1);
    assert_null(cm_test_next_out(c, &len));
    assert_int_equal(c->st.frames_in, 8);
    cm_destroy(c);
}

static size_t echo_request(uint8_t *m, uint16_t id, uint16_t seq, size_t datalen)
{
    m[0] = 8;
    m[1] = 0;
    put_be16(m + 2, 0);
    put_be16(m + 4, id);
    put_be16(m + 6, seq);
    for (size_t i = 0; i < datalen; i++)
        m[8 + i] = (uint8_t)(i * 3);
    put_be16(m + 2, ref_csum(m, 8 + datalen, 0));
    return 8 + datalen;
}

static void test_icmp_echo_to_gateway_is_answered_with_same_id_seq_and_data(void **state)
{
    struct consomme *c = cm_test_stack();
    static uint8_t f[2048], m[1500];
    const uint8_t *r;
    size_t len = 0, mlen;

    for (size_t datalen = 55; datalen <= 57; datalen++) { /* odd and even payloads */
        mlen = echo_request(m, 0x4242, (uint16_t)datalen, datalen);
        cm_frame_input(
            c, f, build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 1, m, mlen));
        r = cm_test_next_out(c, &len);
        assert_non_null(r);
        assert_int_equal(len, 34 + mlen);
        assert_int_equal(ref_csum(r + 14, 20, 0), 0);
        assert_int_equal(get_be32(r + 14 + 12), IP4(10, 0, 2, 2));
        assert_int_equal(get_be32(r + 14 + 16), IP4(10, 0, 2, 15));
        assert_int_equal(r[34], 0); /* echo reply */
        assert_int_equal(get_be16(r + 34 + 4), 0x4242);
        assert_int_equal(get_be16(r + 34 + 6), datalen);
        assert_memory_equal(r + 34 + 8, m + 8, datalen);
        assert_int_equal(ref_csum(r + 34, mlen, 0), 0);
    }
    /* the DNS address answers too */
    mlen = echo_request(m, 1, 1, 8);
    cm_frame_input(c, f,
                   build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), IP4(10, 0, 2, 3), 1, m, mlen));
    assert_non_null(cm_test_next_out(c, &len));
    assert_int_equal(c->st.icmp_echo_replies, 4);
    cm_destroy(c);
}

static void test_icmp_bad_checksum_and_other_targets_are_dropped(void **state)
{
    struct consomme *c = cm_test_stack();
    uint8_t f[256], m[64];
    size_t len = 0, mlen;

    mlen = echo_request(m, 1, 1, 16);
    m[9] ^= 1;
    cm_frame_input(c, f,
                   build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 1, m, mlen));
    assert_int_equal(cm_test_drops(c, CM_DROP_ICMP_MALFORMED), 1);
    cm_frame_input(c, f, build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 1, m, 7));
    assert_int_equal(cm_test_drops(c, CM_DROP_ICMP_MALFORMED), 2);
    mlen = echo_request(m, 1, 1, 16);
    cm_frame_input(c, f,
                   build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), IP4(192, 0, 2, 1), 1, m, mlen));
    assert_int_equal(cm_test_drops(c, CM_DROP_ICMP_UNHANDLED), 1);
    assert_null(cm_test_next_out(c, &len));
    cm_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_parse_accepts_valid_header_and_ignores_padding),
        cmocka_unit_test(test_ipv4_parse_accepts_options_within_header),
        cmocka_unit_test(test_ipv4_parse_rejects_each_malformation_with_its_reason),
        cmocka_unit_test(test_ipv4_input_counts_drops_by_reason),
        cmocka_unit_test(test_icmp_echo_to_gateway_is_answered_with_same_id_seq_and_data),
        cmocka_unit_test(test_icmp_bad_checksum_and_other_targets_are_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
