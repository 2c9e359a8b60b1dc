/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of checksum.c against values computed independently of it:
 * - RFC 1071 section 3's worked example: the words 0001 f203 f4f5 f6f7 sum to 0xddf2, so the
 *   checksum is ~0xddf2 = 0x220d;
 * - the IPv4 header example on Wikipedia's "IPv4 header checksum" page (192.168.0.1 ->
 *   192.168.0.199, UDP, total length 0x73), whose checksum field is 0xb861;
 * - a UDP datagram (10.0.2.15:1234 -> 10.0.2.2:5678, payload "hi") whose checksum was added
 *   up word by word in Python: 0x6460;
 * - many random buffers, lengths and split points against that reference loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cm_test_util.h"

static void test_checksum_rfc1071_example_sums_to_ddf2(void **state)
{
    const uint8_t words[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

    assert_int_equal(csum_partial(words, sizeof(words), 0), 0xddf2);
    assert_int_equal(csum_fold(csum_partial(words, sizeof(words), 0)), 0x220d);
}

static void test_checksum_wikipedia_ipv4_header_gives_b861(void **state)
{
    uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                     0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

    assert_int_equal(csum_fold(csum_partial(h, sizeof(h), 0)), 0xb861);
    /* with the field filled in, the header verifies to 0 */
    h[10] = 0xb8;
    h[11] = 0x61;
    assert_int_equal(csum_fold(csum_partial(h, sizeof(h), 0)), 0);
}

static void test_checksum_ipv4_header_encode_matches_wikipedia(void **state)
{
    uint8_t h[20];

    /* same addresses and length as the Wikipedia example; we set DF and TTL 64 like it, but
     * its identification is 0 */
    ipv4_header_encode(h, IP4(192, 168, 0, 1), IP4(192, 168, 0, 199), 17, 0x73 - 20, 0);
    assert_int_equal(get_be16(h + 10), 0xb861);
}

static void test_checksum_udp_pseudo_header_matches_reference(void **state)
{
    uint8_t d[10] = {0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0a, 0x00, 0x00, 'h', 'i'};
    uint32_t src = IP4(10, 0, 2, 15), dst = IP4(10, 0, 2, 2);
    uint16_t ours = csum_fold(csum_partial(d, sizeof(d), csum_pseudo_ipv4(src, dst, 17, 10)));

    /* 0a00+020f+0a00+0202+0011+000a + 04d2+162e+000a+0000+6869 = 0x9b9f (no carry),
     * ~0x9b9f = 0x6460 */
    assert_int_equal(ours, 0x6460);
    assert_int_equal(ours, ref_csum(d, sizeof(d), ref_pseudo(src, dst, 17, 10)));
}

static void test_checksum_odd_length_pads_with_zero(void **state)
{
    const uint8_t odd[] = {0x12, 0x34, 0x56};

    /* 0x1234 + 0x5600 = 0x6834 */
    assert_int_equal(csum_partial(odd, 3, 0), 0x6834);
    assert_int_equal(csum_partial(odd, 1, 0), 0x1200);
}

static void test_checksum_random_buffers_match_reference_loop(void **state)
{
    static uint8_t buf[70000];

    srand(12345);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rand();
    for (int t = 0; t < 2000; t++) {
        size_t off = (size_t)rand() % 64, len = (size_t)rand() % (sizeof(buf) - 64);
        uint32_t seed = (uint32_t)rand() & 0xffff;
        if (t < 100)
            len = (size_t)t; /* every short length, where the tail handling lives */
        assert_int_equal(csum_fold(csum_partial(buf + off, len, seed)),
                         ref_csum(buf + off, len, seed));
    }
}

static void test_checksum_split_at_even_offsets_adds_up(void **state)
{
    static uint8_t buf[4099];

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    for (size_t cut = 0; cut <= sizeof(buf); cut += 2) {
        uint32_t s = csum_partial(buf, cut, 0);
        s = csum_partial(buf + cut, sizeof(buf) - cut, s);
        assert_int_equal(csum_fold(s), ref_csum(buf, sizeof(buf), 0));
    }
}

static void test_checksum_all_ones_does_not_overflow(void **state)
{
    static uint8_t buf[65536];

    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(csum_fold(csum_partial(buf, sizeof(buf), 0xffff)),
                     ref_csum(buf, sizeof(buf), 0xffff));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum_rfc1071_example_sums_to_ddf2),
        cmocka_unit_test(test_checksum_wikipedia_ipv4_header_gives_b861),
        cmocka_unit_test(test_checksum_ipv4_header_encode_matches_wikipedia),
        cmocka_unit_test(test_checksum_udp_pseudo_header_matches_reference),
        cmocka_unit_test(test_checksum_odd_length_pads_with_zero),
        cmocka_unit_test(test_checksum_random_buffers_match_reference_loop),
        cmocka_unit_test(test_checksum_split_at_even_offsets_adds_up),
        cmocka_unit_test(test_checksum_all_ones_does_not_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
