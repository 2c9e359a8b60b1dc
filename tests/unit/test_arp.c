/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of arp.c: the parser and encoder on bytes laid out by hand from RFC 826's
 * packet format, and the handler answering only for the gateway and DNS addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cm_test_util.h"

/* who-has 10.0.2.2 tell 10.0.2.15, from 52:54:00:12:12:12, as a Linux guest sends it */
static const uint8_t request[ARP_LEN] = {
    0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, GUEST_MAC, 10, 0, 2,
    15,   0,    0,    0,    0, 0, 0,    10,   0,         2,  2,
};

static size_t arp_frame(uint8_t *f, const uint8_t *arp, size_t len)
{
    memset(f, 0xff, 6);
    const uint8_t guest[6] = {GUEST_MAC};
    memcpy(f + 6, guest, 6);
    put_be16(f + 12, 0x0806);
    memcpy(f + 14, arp, len);
    return 14 + len;
}

static void test_arp_parse_reads_request_fields(void **state)
{
    const uint8_t guest[6] = {GUEST_MAC};
    struct arp_ipv4 a;

    assert_int_equal(arp_parse(request, sizeof(request), &a), 0);
    assert_int_equal(a.op, 1);
    assert_memory_equal(a.sha, guest, 6);
    assert_int_equal(a.spa, IP4(10, 0, 2, 15));
    assert_int_equal(a.tpa, IP4(10, 0, 2, 2));
}

static void test_arp_encode_then_parse_round_trips(void **state)
{
    struct arp_ipv4 in = {.op = 2,
                          .sha = {1, 2, 3, 4, 5, 6},
                          .spa = IP4(10, 0, 2, 3),
                          .tha = {7, 8, 9, 10, 11, 12},
                          .tpa = IP4(10, 0, 2, 15)};
    struct arp_ipv4 out;
    uint8_t p[ARP_LEN];

    arp_encode(p, &in);
    assert_int_equal(arp_parse(p, sizeof(p), &out), 0);
    assert_int_equal(out.op, 2);
    assert_memory_equal(out.sha, in.sha, 6);
    assert_int_equal(out.spa, in.spa);
    assert_memory_equal(out.tha, in.tha, 6);
    assert_int_equal(out.tpa, in.tpa);
    /* byte layout: sender protocol address at offset 14, target at 24 */
    assert_int_equal(get_be32(p + 14), IP4(10, 0, 2, 3));
    assert_int_equal(get_be32(p + 24), IP4(10, 0, 2, 15));
}

static void test_arp_parse_rejects_short_and_foreign_packets(void **state)
{
    uint8_t p[ARP_LEN];
    struct arp_ipv4 a;

    assert_int_equal(arp_parse(request, ARP_LEN - 1, &a), -EINVAL);
    memcpy(p, request, sizeof(p));
    p[1] = 6; /* IEEE 802 hardware */
    assert_int_equal(arp_parse(p, sizeof(p), &a), -EPROTONOSUPPORT);
    memcpy(p, request, sizeof(p));
    p[5] = 16; /* IPv6-sized protocol addresses */
    assert_int_equal(arp_parse(p, sizeof(p), &a), -EPROTONOSUPPORT);
}

static void test_arp_request_for_gateway_gets_reply_with_gateway_mac(void **state)
{
    struct consomme *c = cm_test_stack();
    const uint8_t guest[6] = {GUEST_MAC}, gw[6] = {GW_MAC};
    uint8_t f[64];
    const uint8_t *r;
    struct arp_ipv4 a;
    size_t len = 0;

    assert_non_null(c);
    cm_frame_input(c, f, arp_frame(f, request, sizeof(request)));
    r = cm_test_next_out(c, &len);
    assert_non_null(r);
    assert_int_equal(len, 14 + ARP_LEN);
    assert_memory_equal(r, guest, 6);
    assert_memory_equal(r + 6, gw, 6);
    assert_int_equal(get_be16(r + 12), 0x0806);
    assert_int_equal(arp_parse(r + 14, len - 14, &a), 0);
    assert_int_equal(a.op, 2);
    assert_memory_equal(a.sha, gw, 6);
    assert_int_equal(a.spa, IP4(10, 0, 2, 2));
    assert_memory_equal(a.tha, guest, 6);
    assert_int_equal(a.tpa, IP4(10, 0, 2, 15));
    assert_null(cm_test_next_out(c, &len));
    /* and the guest's address was learned from it */
    assert_true(c->guest_mac_known);
    assert_memory_equal(c->guest_mac, guest, 6);
    cm_destroy(c);
}

static void test_arp_request_for_dns_address_is_answered(void **state)
{
    struct consomme *c = cm_test_stack();
    uint8_t p[ARP_LEN], f[64];
    struct arp_ipv4 a;
    size_t len = 0;
    const uint8_t *r;

    memcpy(p, request, sizeof(p));
    p[27] = 3;
    cm_frame_input(c, f, arp_frame(f, p, sizeof(p)));
    r = cm_test_next_out(c, &len);
    assert_non_null(r);
    assert_int_equal(arp_parse(r + 14, len - 14, &a), 0);
    assert_int_equal(a.spa, IP4(10, 0, 2, 3));
    cm_destroy(c);
}

static void test_arp_other_targets_replies_and_probes_are_counted_not_answered(void **state)
{
    struct consomme *c = cm_test_stack();
    uint8_t p[ARP_LEN], f[64];
    size_t len = 0;

    memcpy(p, request, sizeof(p));
    p[27] = 99; /* 10.0.2.99: nobody */
    cm_frame_input(c, f, arp_frame(f, p, sizeof(p)));
    memcpy(p, request, sizeof(p));
    p[7] = 2; /* a reply */
    cm_frame_input(c, f, arp_frame(f, p, sizeof(p)));
    memcpy(p, request, sizeof(p));
    memset(p + 14, 0, 4); /* duplicate address probe for our own address */
    p[27] = 15;
    cm_frame_input(c, f, arp_frame(f, p, sizeof(p)));
    assert_null(cm_test_next_out(c, &len));
    assert_int_equal(cm_test_drops(c, CM_DROP_ARP_UNHANDLED), 3);
    cm_frame_input(c, f, arp_frame(f, request, 20));
    assert_int_equal(cm_test_drops(c, CM_DROP_ARP_MALFORMED), 1);
    cm_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arp_parse_reads_request_fields),
        cmocka_unit_test(test_arp_encode_then_parse_round_trips),
        cmocka_unit_test(test_arp_parse_rejects_short_and_foreign_packets),
        cmocka_unit_test(test_arp_request_for_gateway_gets_reply_with_gateway_mac),
        cmocka_unit_test(test_arp_request_for_dns_address_is_answered),
        cmocka_unit_test(test_arp_other_targets_replies_and_probes_are_counted_not_answered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
