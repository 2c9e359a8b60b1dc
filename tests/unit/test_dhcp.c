/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of dhcp.c. Requests are laid out here by hand from RFC 2131's message format and
 * RFC 2132's options (not with dhcp.c's encoder), replies are read back with the test's own
 * option walker, so parser and encoder are each checked against the RFCs, not each other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cm_test_util.h"

/* A BOOTREQUEST with the given options appended after the magic cookie. */
static size_t request(uint8_t *p, uint16_t flags, const uint8_t *opts, size_t optlen)
{
    const uint8_t mac[6] = {GUEST_MAC};

    memset(p, 0, 240);
    p[0] = 1;
    p[1] = 1;
    p[2] = 6;
    put_be32(p + 4, 0xdeadbeef);
    put_be16(p + 10, flags);
    memcpy(p + 28, mac, 6);
    p[236] = 99;
    p[237] = 130;
    p[238] = 83;
    p[239] = 99;
    memcpy(p + 240, opts, optlen);
    return 240 + optlen;
}

/* Value of option @code in a reply (after the cookie), or NULL. */
static const uint8_t *find_opt(const uint8_t *p, size_t len, uint8_t code, uint8_t *olen)
{
    for (size_t i = 240; i < len;) {
        if (p[i] == 0) {
            i++;
            continue;
        }
        if (p[i] == 255 || i + 2 > len || i + 2 + p[i + 1] > len)
            return NULL;
        if (p[i] == code) {
            *olen = p[i + 1];
            return p + i + 2;
        }
        i += 2u + p[i + 1];
    }
    return NULL;
}

static const uint8_t discover_opts[] = {53, 1, DHCP_DISCOVER, 55, 4, 1, 3, 6, 26, 255};

static void test_dhcp_parse_reads_discover(void **state)
{
    uint8_t p[400];
    struct dhcp_request r;
    const uint8_t mac[6] = {GUEST_MAC};

    assert_int_equal(dhcp_parse(p, request(p, 0x8000, discover_opts, sizeof(discover_opts)), &r),
                     0);
    assert_int_equal(r.type, DHCP_DISCOVER);
    assert_int_equal(r.xid, 0xdeadbeef);
    assert_int_equal(r.flags, 0x8000);
    assert_memory_equal(r.chaddr, mac, 6);
    assert_int_equal(r.requested_ip, 0);
}

static void test_dhcp_parse_reads_requested_ip_and_server_id_past_padding(void **state)
{
    const uint8_t opts[] = {0, 0,  53, 1, DHCP_REQUEST, 50, 4, 10, 0,
                            2, 15, 54, 4, 10,           0,  2, 2,  255};
    uint8_t p[400];
    struct dhcp_request r;

    assert_int_equal(dhcp_parse(p, request(p, 0, opts, sizeof(opts)), &r), 0);
    assert_int_equal(r.type, DHCP_REQUEST);
    assert_int_equal(r.requested_ip, IP4(10, 0, 2, 15));
    assert_int_equal(r.server_id, IP4(10, 0, 2, 2));
}

static void test_dhcp_parse_rejects_malformed_messages(void **state)
{
    uint8_t p[400];
    struct dhcp_request r;
    size_t len = request(p, 0, discover_opts, sizeof(discover_opts));
    const uint8_t overrun[] = {53, 1, DHCP_DISCOVER, 12, 200, 'x'};
    const uint8_t no_type[] = {12, 1, 'x', 255};

    assert_int_equal(dhcp_parse(p, 239, &r), -EINVAL); /* truncated before the cookie */
    p[0] = 2;                                          /* a BOOTREPLY */
    assert_int_equal(dhcp_parse(p, len, &r), -EINVAL);
    p[0] = 1;
    p[236] = 0; /* no magic cookie: plain BOOTP */
    assert_int_equal(dhcp_parse(p, len, &r), -EINVAL);
    assert_int_equal(dhcp_parse(p, request(p, 0, overrun, sizeof(overrun)), &r), -EINVAL);
    assert_int_equal(dhcp_parse(p, request(p, 0, no_type, sizeof(no_type)), &r), -EINVAL);
    /* an option header cut off right at the end */
    len = request(p, 0, discover_opts, 4);
    p[len - 1] = 12;
    assert_int_equal(dhcp_parse(p, len, &r), -EINVAL);
    len = request(p, 0, discover_opts, sizeof(discover_opts));
    p[2] = 8; /* 8-byte hardware addresses */
    assert_int_equal(dhcp_parse(p, len, &r), -EPROTONOSUPPORT);
}

static void test_dhcp_offer_carries_address_router_dns_mask_lease_and_mtu(void **state)
{
    struct cm_opts o;
    struct dhcp_request req = {.xid = 42, .type = DHCP_DISCOVER, .chaddr = {GUEST_MAC}};
    uint8_t p[600], olen;
    const uint8_t *v;
    size_t len = 0;

    cm_opts_default(&o);
    o.cfg.mtu = 9000;
    len = dhcp_encode_reply(p, sizeof(p), &o.cfg, &req, DHCP_OFFER, 3600);
    assert_true(len >= 300);
    assert_int_equal(p[0], 2);
    assert_int_equal(get_be32(p + 4), 42);
    assert_int_equal(get_be32(p + 16), IP4(10, 0, 2, 15)); /* yiaddr */
    v = find_opt(p, len, 53, &olen);
    assert_non_null(v);
    assert_int_equal(v[0], DHCP_OFFER);
    v = find_opt(p, len, 1, &olen);
    assert_non_null(v);
    assert_int_equal(olen, 4);
    assert_int_equal(get_be32(v), IP4(255, 255, 255, 0));
    v = find_opt(p, len, 3, &olen);
    assert_non_null(v);
    assert_int_equal(get_be32(v), IP4(10, 0, 2, 2));
    v = find_opt(p, len, 6, &olen);
    assert_non_null(v);
    assert_int_equal(get_be32(v), IP4(10, 0, 2, 3));
    v = find_opt(p, len, 51, &olen);
    assert_non_null(v);
    assert_int_equal(get_be32(v), 3600);
    v = find_opt(p, len, 54, &olen);
    assert_non_null(v);
    assert_int_equal(get_be32(v), IP4(10, 0, 2, 2));
    v = find_opt(p, len, 26, &olen);
    assert_non_null(v);
    assert_int_equal(olen, 2);
    assert_int_equal(get_be16(v), 9000);
    assert_int_equal(dhcp_encode_reply(p, 299, &o.cfg, &req, DHCP_OFFER, 1), 0);
}

/* Sends a DHCP message from 0.0.0.0:68 to 255.255.255.255:67; returns the reply payload. */
static const uint8_t *exchange(struct consomme *c, const uint8_t *msg, size_t msglen, size_t *plen,
                               uint32_t *ipdst, const uint8_t **ethdst)
{
    static uint8_t f[2048];
    uint8_t udp[1024];
    const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    size_t ul = build_udp(udp, 0, 0xffffffffu, 68, 67, msg, msglen), len;
    const uint8_t *r;

    cm_frame_input(c, f, build_ipv4_frame(f, bcast, 0, 0xffffffffu, 17, udp, ul));
    r = cm_test_next_out(c, &len);
    if (!r)
        return NULL;
    assert_int_equal(get_be16(r + 12), 0x0800);
    assert_int_equal(ref_csum(r + 14, 20, 0), 0); /* IP header checksum */
    assert_int_equal(r[14 + 9], 17);
    assert_int_equal(get_be32(r + 14 + 12), IP4(10, 0, 2, 2));
    *ipdst = get_be32(r + 14 + 16);
    *ethdst = r;
    const uint8_t *u = r + 34;
    uint16_t ulen = get_be16(u + 4);
    assert_int_equal(ulen, len - 34);
    assert_int_equal(get_be16(u), 67);
    assert_int_equal(get_be16(u + 2), 68);
    assert_int_equal(ref_csum(u, ulen, ref_pseudo(IP4(10, 0, 2, 2), *ipdst, 17, ulen)), 0);
    *plen = ulen - 8u;
    return u + 8;
}

static void test_dhcp_discover_then_request_gets_offer_then_ack(void **state)
{
    struct consomme *c = cm_test_stack();
    const uint8_t req_opts[] = {53, 1, DHCP_REQUEST, 50, 4, 10, 0, 2, 15, 54, 4, 10, 0, 2, 2, 255};
    const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac[6] = {GUEST_MAC};
    uint8_t msg[400], olen;
    const uint8_t *r, *eth;
    size_t len = 0;
    uint32_t dst;

    /* broadcast flag set: the reply must be broadcast */
    r = exchange(c, msg, request(msg, 0x8000, discover_opts, sizeof(discover_opts)), &len, &dst,
                 &eth);
    assert_non_null(r);
    assert_int_equal(dst, 0xffffffffu);
    assert_memory_equal(eth, bcast, 6);
    assert_int_equal(find_opt(r, len, 53, &olen)[0], DHCP_OFFER);
    assert_int_equal(get_be32(r + 4), 0xdeadbeef);

    /* no broadcast flag: unicast to the offered address and the client's MAC */
    r = exchange(c, msg, request(msg, 0, req_opts, sizeof(req_opts)), &len, &dst, &eth);
    assert_non_null(r);
    assert_int_equal(dst, IP4(10, 0, 2, 15));
    assert_memory_equal(eth, mac, 6);
    assert_int_equal(find_opt(r, len, 53, &olen)[0], DHCP_ACK);
    assert_int_equal(get_be32(r + 16), IP4(10, 0, 2, 15));
    assert_int_equal(c->st.dhcp_offers, 1);
    assert_int_equal(c->st.dhcp_acks, 1);
    cm_destroy(c);
}

static void test_dhcp_request_for_another_address_gets_nak(void **state)
{
    struct consomme *c = cm_test_stack();
    const uint8_t opts[] = {53, 1, DHCP_REQUEST, 50, 4, 10, 0, 2, 99, 255};
    uint8_t msg[400], olen;
    const uint8_t *r, *eth;
    size_t len = 0;
    uint32_t dst;

    r = exchange(c, msg, request(msg, 0, opts, sizeof(opts)), &len, &dst, &eth);
    assert_non_null(r);
    assert_int_equal(find_opt(r, len, 53, &olen)[0], DHCP_NAK);
    assert_int_equal(get_be32(r + 16), 0); /* no address in a NAK */
    assert_int_equal(dst, 0xffffffffu);
    assert_int_equal(c->st.dhcp_naks, 1);
    cm_destroy(c);
}

static void test_dhcp_request_to_another_server_and_release_are_not_answered(void **state)
{
    struct consomme *c = cm_test_stack();
    const uint8_t other[] = {53, 1, DHCP_REQUEST, 54, 4, 192, 168, 1, 1, 255};
    const uint8_t release[] = {53, 1, DHCP_RELEASE, 255};
    const uint8_t garbage[] = {53, 1, DHCP_DISCOVER, 12, 100};
    uint8_t msg[400];
    const uint8_t *eth;
    size_t len = 0;
    uint32_t dst;

    assert_null(exchange(c, msg, request(msg, 0, other, sizeof(other)), &len, &dst, &eth));
    assert_null(exchange(c, msg, request(msg, 0, release, sizeof(release)), &len, &dst, &eth));
    assert_int_equal(cm_test_drops(c, CM_DROP_DHCP_UNHANDLED), 2);
    assert_null(exchange(c, msg, request(msg, 0, garbage, sizeof(garbage)), &len, &dst, &eth));
    assert_int_equal(cm_test_drops(c, CM_DROP_DHCP_MALFORMED), 1);
    cm_destroy(c);
}

/*
 * Renewal (RFC 2131 4.3.2, 4.4.5): a bound client unicasts a REQUEST from its address to the
 * server with ciaddr filled and neither option 50 nor 54 (RENEWING), or broadcasts the same
 * (REBINDING). Either gets an ACK for ciaddr, unicast to it (4.1: ciaddr is set), with a fresh
 * lease; a client renewing an address that is not its own gets a NAK.
 */
static const uint8_t *renew(struct consomme *c, uint8_t *msg, uint32_t ciaddr, uint32_t ipdst,
                            const uint8_t *ethdst, size_t *plen, uint32_t *dst)
{
    static const uint8_t opts[] = {53, 1, DHCP_REQUEST, 255};
    static uint8_t f[2048];
    uint8_t udp[1024];
    size_t len = request(msg, 0, opts, sizeof(opts)), ul;
    const uint8_t *r;

    put_be32(msg + 12, ciaddr);
    ul = build_udp(udp, ciaddr, ipdst, 68, 67, msg, len);
    cm_frame_input(c, f, build_ipv4_frame(f, ethdst, ciaddr, ipdst, 17, udp, ul));
    r = cm_test_next_out(c, &len);
    if (!r)
        return NULL;
    *dst = get_be32(r + 14 + 16);
    assert_int_equal(get_be32(r + 14 + 12), IP4(10, 0, 2, 2));
    assert_int_equal(
        ref_csum(r + 34, len - 34, ref_pseudo(IP4(10, 0, 2, 2), *dst, 17, (uint16_t)(len - 34))),
        0);
    *plen = len - 42;
    return r + 42;
}

static void test_dhcp_renewing_and_rebinding_get_ack_for_ciaddr(void **state)
{
    struct consomme *c = cm_test_stack();
    const uint8_t gw[6] = {GW_MAC}, bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t msg[400], olen;
    const uint8_t *r, *lease;
    size_t len = 0;
    uint32_t dst = 0;

    /* RENEWING: unicast to the server */
    r = renew(c, msg, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), gw, &len, &dst);
    assert_non_null(r);
    assert_int_equal(find_opt(r, len, 53, &olen)[0], DHCP_ACK);
    assert_int_equal(get_be32(r + 16), IP4(10, 0, 2, 15)); /* yiaddr */
    assert_int_equal(dst, IP4(10, 0, 2, 15));
    lease = find_opt(r, len, 51, &olen);
    assert_non_null(lease);
    assert_int_equal(olen, 4);
    assert_true(get_be32(lease) > 0);
    /* REBINDING: the same, broadcast */
    r = renew(c, msg, IP4(10, 0, 2, 15), 0xffffffffu, bcast, &len, &dst);
    assert_non_null(r);
    assert_int_equal(find_opt(r, len, 53, &olen)[0], DHCP_ACK);
    assert_int_equal(dst, IP4(10, 0, 2, 15));
    assert_int_equal(c->st.dhcp_acks, 2);
    assert_int_equal(c->st.dhcp_naks, 0);
    cm_destroy(c);
}

static void test_dhcp_renewing_another_address_gets_nak(void **state)
{
    struct consomme *c = cm_test_stack();
    const uint8_t gw[6] = {GW_MAC};
    uint8_t msg[400], olen;
    const uint8_t *r;
    size_t len = 0;
    uint32_t dst = 0;

    r = renew(c, msg, IP4(10, 0, 2, 99), IP4(10, 0, 2, 2), gw, &len, &dst);
    assert_non_null(r);
    assert_int_equal(find_opt(r, len, 53, &olen)[0], DHCP_NAK);
    assert_int_equal(get_be32(r + 16), 0);
    assert_int_equal(dst, 0xffffffffu); /* a NAK is broadcast (RFC 2131 4.3.2) */
    assert_int_equal(c->st.dhcp_naks, 1);
    cm_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dhcp_parse_reads_discover),
        cmocka_unit_test(test_dhcp_parse_reads_requested_ip_and_server_id_past_padding),
        cmocka_unit_test(test_dhcp_parse_rejects_malformed_messages),
        cmocka_unit_test(test_dhcp_offer_carries_address_router_dns_mask_lease_and_mtu),
        cmocka_unit_test(test_dhcp_discover_then_request_gets_offer_then_ack),
        cmocka_unit_test(test_dhcp_request_for_another_address_gets_nak),
        cmocka_unit_test(test_dhcp_request_to_another_server_and_release_are_not_answered),
        cmocka_unit_test(test_dhcp_renewing_and_rebinding_get_ack_for_ciaddr),
        cmocka_unit_test(test_dhcp_renewing_another_address_gets_nak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
