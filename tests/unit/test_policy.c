/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of consomme's NAT policy: the rule parser and matcher of policy.c on their own,
 * then the core enforcing them on guest frames (cm_test_stack(), real sockets on 127.0.0.1):
 * a refused TCP SYN gets a RST and a refused UDP datagram an ICMP "administratively
 * prohibited", each counted by reason, and nothing reaches the host; the host's 127/8 and its
 * own addresses are refused whatever the rules say. The host-address case runs in a user and
 * network namespace the test makes, with an address of its own on lo (skipped, exit 77,
 * where user namespaces are not allowed).
 */
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>

#include "cm_test_util.h"
#include "loopback.h"
#include "nslink.h"
#include "policy.h"
#include "skip.h"
#include "userns.h"

static const uint8_t gw_mac[6] = {GW_MAC};

/* ------------------------------------------------------------------ parser and matcher */

static void test_policy_parses_address_prefix_and_ports(void **state)
{
    struct cm_rule r;
    char err[256];

    assert_int_equal(cm_rule_parse("10.0.2.2", true, &r, err, sizeof(err)), 0);
    assert_true(r.allow);
    assert_int_equal(r.net, IP4(10, 0, 2, 2));
    assert_int_equal(r.mask, 0xffffffffu);
    assert_int_equal(r.port_lo, 0);
    assert_int_equal(r.port_hi, 65535);

    assert_int_equal(cm_rule_parse("10.0.2.2:5201", false, &r, err, sizeof(err)), 0);
    assert_false(r.allow);
    assert_int_equal(r.port_lo, 5201);
    assert_int_equal(r.port_hi, 5201);

    assert_int_equal(cm_rule_parse("192.168.0.0/16:1024-65535", true, &r, err, sizeof(err)), 0);
    assert_int_equal(r.net, IP4(192, 168, 0, 0));
    assert_int_equal(r.mask, 0xffff0000u);
    assert_int_equal(r.port_lo, 1024);
    assert_int_equal(r.port_hi, 65535);

    assert_int_equal(cm_rule_parse("0.0.0.0/0", false, &r, err, sizeof(err)), 0);
    assert_int_equal(r.mask, 0);
}

/* Each bad rule is refused with a message that names the mistake (and not a crash or a
 * silently wrong rule: @out stays untouched). */
static void test_policy_bad_rules_give_clear_messages(void **state)
{
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"", "empty rule"},
        {"10.0.2", "'10.0.2' is not an IPv4 address"},
        {"example.org", "is not an IPv4 address"},
        {"::1", "is not an IPv4 address"},
        {"10.0.2.2/33", "prefix length '/33' is not a number from 0 to 32"},
        {"10.0.2.2/", "prefix length '/' is not a number"},
        {"10.0.2.2/x", "prefix length '/x'"},
        {"10.0.2.15/24", "did you mean 10.0.2.0/24?"},
        {"10.0.2.2:0", "port 0 is out of range (1 to 65535)"},
        {"10.0.2.2:65536", "port 65536 is out of range"},
        {"10.0.2.2:http", "'http' is not a port number"},
        {"10.0.2.2:", "'' is not a port number"},
        {"10.0.2.2:80-", "'' is not a port number"},
        {"10.0.2.2:-80", "'' is not a port number"},
        {"10.0.2.2:90-80", "port range 90-80 is reversed (give LOW-HIGH)"},
        {"10.0.2.2:80:81", "'80:81' is not a port number"},
        {"10.0.2.2 ", "is not an IPv4 address"},
        {"10.0.2.2:5201-5202-5203", "'5202-5203' is not a port number"},
        {"1111111111111111111111111111111111111111111111111111111111111111111", "too long"},
    };
    struct cm_rule r = {.net = 0x12345678};
    char err[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(cm_rule_parse(bad[i].text, true, &r, err, sizeof(err)), -EINVAL);
        if (!strstr(err, bad[i].says))
            fail_msg("rule '%s': message '%s' does not say '%s'", bad[i].text, err, bad[i].says);
    }
    assert_int_equal(r.net, 0x12345678);
}

static void test_policy_first_matching_rule_decides_and_no_match_allows(void **state)
{
    struct cm_policy p = {0};
    char err[256];
    int which;

    /* nothing: a NAT router's default */
    assert_true(cm_policy_allows(&p, IP4(8, 8, 8, 8), 53, &which));
    assert_int_equal(which, -1);

    assert_int_equal(cm_policy_add(&p, "10.0.2.2:22", false, err, sizeof(err)), 0);
    assert_int_equal(cm_policy_add(&p, "10.0.2.0/24", true, err, sizeof(err)), 0);
    assert_int_equal(cm_policy_add(&p, "0.0.0.0/0:53", true, err, sizeof(err)), 0);
    assert_int_equal(cm_policy_add(&p, "0.0.0.0/0", false, err, sizeof(err)), 0);

    assert_false(cm_policy_allows(&p, IP4(10, 0, 2, 2), 22, &which)); /* before the /24 */
    assert_int_equal(which, 0);
    assert_true(cm_policy_allows(&p, IP4(10, 0, 2, 2), 23, &which));
    assert_int_equal(which, 1);
    assert_true(cm_policy_allows(&p, IP4(10, 0, 2, 99), 22, &which)); /* the deny is /32 */
    assert_int_equal(which, 1);
    assert_true(cm_policy_allows(&p, IP4(8, 8, 8, 8), 53, &which));
    assert_int_equal(which, 2);
    assert_false(cm_policy_allows(&p, IP4(8, 8, 8, 8), 54, &which));
    assert_int_equal(which, 3);
    assert_false(cm_policy_allows(&p, IP4(10, 0, 3, 2), 80, &which)); /* outside the /24 */
    assert_int_equal(which, 3);
}

static void test_policy_port_range_and_prefix_edges(void **state)
{
    struct cm_policy p = {0};
    char err[256];

    assert_int_equal(cm_policy_add(&p, "172.16.0.0/12:1024-2048", false, err, sizeof(err)), 0);
    assert_true(cm_policy_allows(&p, IP4(172, 16, 0, 1), 1023, NULL));
    assert_false(cm_policy_allows(&p, IP4(172, 16, 0, 1), 1024, NULL));
    assert_false(cm_policy_allows(&p, IP4(172, 31, 255, 255), 2048, NULL));
    assert_true(cm_policy_allows(&p, IP4(172, 31, 255, 255), 2049, NULL));
    assert_true(cm_policy_allows(&p, IP4(172, 32, 0, 0), 1500, NULL)); /* just past the /12 */
    assert_true(cm_policy_allows(&p, IP4(172, 15, 255, 255), 1500, NULL));
}

static void test_policy_holds_at_most_its_rule_count_then_says_so(void **state)
{
    struct cm_policy p = {0};
    char err[256];

    for (int i = 0; i < CM_POLICY_MAX_RULES; i++)
        assert_int_equal(cm_policy_add(&p, "10.0.0.0/8", false, err, sizeof(err)), 0);
    assert_int_equal(cm_policy_add(&p, "10.0.0.0/8", false, err, sizeof(err)), -ENOSPC);
    assert_non_null(strstr(err, "more than 64 rules"));
    assert_int_equal(p.n, CM_POLICY_MAX_RULES);
    /* a bad rule is not appended either */
    p.n = 1;
    assert_int_equal(cm_policy_add(&p, "10.0.0.1/8", true, err, sizeof(err)), -EINVAL);
    assert_int_equal(p.n, 1);
}

static void test_policy_rule_text_reads_back_as_the_same_rule(void **state)
{
    static const char *const rules[] = {"10.0.2.2", "10.0.2.2:5201", "192.168.0.0/16:1024-65535",
                                        "0.0.0.0/0", "255.255.255.255:65535"};
    char text[CM_RULE_TEXT_MAX], err[256];
    struct cm_rule a, b;

    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        assert_int_equal(cm_rule_parse(rules[i], i % 2, &a, err, sizeof(err)), 0);
        cm_rule_format(&a, text, sizeof(text));
        assert_int_equal(strncmp(text, i % 2 ? "allow " : "deny ", i % 2 ? 6 : 5), 0);
        assert_int_equal(cm_rule_parse(strchr(text, ' ') + 1, i % 2, &b, err, sizeof(err)), 0);
        assert_memory_equal(&a, &b, sizeof(a));
    }
    cm_rule_parse("10.0.2.2:5201-5202", true, &a, err, sizeof(err));
    cm_rule_format(&a, text, sizeof(text));
    assert_string_equal(text, "allow 10.0.2.2/32:5201-5202");
}

/* ------------------------------------------------------------------ the core enforcing it */

static size_t build_syn(uint8_t *t, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                        uint32_t isn)
{
    memset(t, 0, 20);
    put_be16(t, sport);
    put_be16(t + 2, dport);
    put_be32(t + 4, isn);
    t[12] = 5 << 4;
    t[13] = 0x02;
    put_be16(t + 14, 65535);
    put_be16(t + 16, ref_csum(t, 20, ref_pseudo(src, dst, 6, 20)));
    return 20;
}

static void guest_frame(struct consomme *c, uint32_t dst, uint8_t proto, const uint8_t *l4,
                        size_t len)
{
    static uint8_t f[2048];

    cm_frames_input_begin(c);
    cm_frame_input(c, f, build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), dst, proto, l4, len));
    cm_frames_input_end(c);
}

static void guest_syn(struct consomme *c, uint32_t dst, uint16_t dport)
{
    uint8_t t[20];

    guest_frame(c, dst, 6, t, build_syn(t, IP4(10, 0, 2, 15), dst, 40000, dport, 7777));
}

static void guest_udp(struct consomme *c, uint32_t dst, uint16_t dport, const char *msg)
{
    uint8_t u[256];

    guest_frame(c, dst, 17, u,
                build_udp(u, IP4(10, 0, 2, 15), dst, 41000, dport, msg, strlen(msg)));
}

static struct consomme *stack_with(const char *const *allow, const char *const *deny)
{
    struct cm_opts o;
    struct consomme *c = NULL;
    char err[256];

    cm_opts_default(&o);
    o.dns_upstream.sin_family = AF_INET;
    o.dns_upstream.sin_port = htons(53);
    o.dns_upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* allows first, then denies: what each test needs */
    for (; allow && *allow; allow++)
        assert_int_equal(cm_policy_add(&o.policy, *allow, true, err, sizeof(err)), 0);
    for (; deny && *deny; deny++)
        assert_int_equal(cm_policy_add(&o.policy, *deny, false, err, sizeof(err)), 0);
    assert_int_equal(cm_create(&o, &c, err, sizeof(err)), 0);
    return c;
}

/* The next frame toward the guest must be a RST answering guest_syn() to @dst:@port. */
static void expect_rst(struct consomme *c, uint32_t dst, uint16_t port)
{
    size_t len = 0;
    const uint8_t *r = cm_test_next_out(c, &len);

    assert_non_null(r);
    assert_int_equal(r[14 + 9], 6);
    assert_int_equal(get_be32(r + 14 + 12), dst);
    assert_int_equal(get_be16(r + 34), port);
    assert_int_equal(get_be16(r + 36), 40000);
    assert_int_equal(r[34 + 13], 0x14);           /* RST + ACK */
    assert_int_equal(get_be32(r + 34 + 8), 7778); /* acknowledges the SYN */
}

/* The next frame toward the guest must be ICMP admin-prohibited quoting guest_udp(). */
static void expect_admin_prohibited(struct consomme *c, uint32_t dst, uint16_t port)
{
    size_t len = 0;
    const uint8_t *r = cm_test_next_out(c, &len);

    assert_non_null(r);
    assert_int_equal(len, 34 + 8 + 28);
    assert_int_equal(r[14 + 9], 1);
    assert_int_equal(get_be32(r + 14 + 12), dst);
    assert_int_equal(r[34], 3);
    assert_int_equal(r[35], 13);
    assert_int_equal(ref_csum(r + 34, 36, 0), 0);
    assert_int_equal(get_be32(r + 42 + 16), dst);
    assert_int_equal(get_be16(r + 62), 41000);
    assert_int_equal(get_be16(r + 64), port);
}

static long long stat_path(struct consomme *c, const char *a, const char *b, const char *k)
{
    json_t *o = cm_stats_json(c);
    json_t *v = json_object_get(json_object_get(json_object_get(o, a), b), k);
    long long r;

    assert_non_null(v);
    r = json_integer_value(v);
    json_decref(o);
    return r;
}

static void test_policy_denied_tcp_gets_rst_and_never_reaches_the_host(void **state)
{
    uint16_t denied, allowed;
    int ld = loopback_socket(SOCK_STREAM | SOCK_NONBLOCK, &denied),
        la = loopback_socket(SOCK_STREAM | SOCK_NONBLOCK, &allowed);
    char rule[32];
    const char *deny[] = {rule, NULL};
    struct consomme *c;
    struct pollfd p = {.fd = la, .events = POLLIN};
    int h;

    snprintf(rule, sizeof(rule), "10.0.2.2:%u", denied);
    c = stack_with(NULL, deny);
    guest_syn(c, IP4(10, 0, 2, 2), denied);
    expect_rst(c, IP4(10, 0, 2, 2), denied);
    assert_int_equal(tcp_connection_count(c), 0);
    assert_int_equal(c->st.refused_tcp[CM_REFUSE_RULE], 1);
    assert_int_equal(stat_path(c, "policy", "refused_tcp", "rule"), 1);
    assert_int_equal(accept(ld, NULL, NULL), -1); /* no connection ever reached the listener */
    assert_int_equal(errno, EAGAIN);

    /* another port of the same address is not matched by the rule */
    guest_syn(c, IP4(10, 0, 2, 2), allowed);
    assert_int_equal(poll(&p, 1, 5000), 1);
    h = accept(la, NULL, NULL);
    assert_true(h >= 0);
    assert_int_equal(c->st.refused_tcp[CM_REFUSE_RULE], 1);
    close(h);
    close(la);
    close(ld);
    cm_destroy(c);
}

static void test_policy_denied_udp_gets_admin_prohibited_and_opens_no_flow(void **state)
{
    uint16_t port;
    int fd = loopback_socket(SOCK_DGRAM | SOCK_NONBLOCK, &port);
    const char *deny[] = {"10.0.2.2", NULL};
    struct consomme *c = stack_with(NULL, deny);
    char buf[16];

    guest_udp(c, IP4(10, 0, 2, 2), port, "hello?");
    expect_admin_prohibited(c, IP4(10, 0, 2, 2), port);
    assert_int_equal(udp_flow_count(c), 0);
    assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
    assert_int_equal(c->st.refused_udp[CM_REFUSE_RULE], 1);
    assert_int_equal(stat_path(c, "policy", "refused_udp", "rule"), 1);
    assert_int_equal(c->st.refused_tcp[CM_REFUSE_RULE], 0);
    /* DNS is another address: still answered by the resolver path */
    guest_udp(c, IP4(10, 0, 2, 3), 53, "q");
    assert_int_equal(udp_flow_count(c), 1);
    close(fd);
    cm_destroy(c);
}

static void test_policy_host_loopback_only_through_the_gateway_whatever_the_rules(void **state)
{
    const char *allow[] = {"0.0.0.0/0", NULL};
    struct consomme *c = stack_with(allow, NULL);
    uint16_t port;
    int ls = loopback_socket(SOCK_STREAM | SOCK_NONBLOCK, &port), us;
    uint16_t uport;

    us = loopback_socket(SOCK_DGRAM | SOCK_NONBLOCK, &uport);
    guest_syn(c, IP4(127, 0, 0, 1), port);
    expect_rst(c, IP4(127, 0, 0, 1), port);
    guest_syn(c, IP4(127, 1, 2, 3), port);
    expect_rst(c, IP4(127, 1, 2, 3), port);
    assert_int_equal(c->st.refused_tcp[CM_REFUSE_HOST_LOOPBACK], 2);
    assert_int_equal(accept(ls, NULL, NULL), -1);
    guest_udp(c, IP4(127, 0, 0, 1), uport, "x");
    expect_admin_prohibited(c, IP4(127, 0, 0, 1), uport);
    assert_int_equal(c->st.refused_udp[CM_REFUSE_HOST_LOOPBACK], 1);
    assert_int_equal(udp_flow_count(c), 0);
    assert_int_equal(stat_path(c, "policy", "refused_tcp", "host_loopback"), 2);
    assert_int_equal(stat_path(c, "policy", "refused_udp", "host_loopback"), 1);
    assert_int_equal(c->st.refused_tcp[CM_REFUSE_RULE], 0);
    close(us);
    close(ls);
    cm_destroy(c);
}

static void test_policy_rules_are_listed_in_the_stats(void **state)
{
    const char *allow[] = {"10.0.2.2:5201-5210", "10.0.2.3:53", NULL};
    const char *deny[] = {"0.0.0.0/0", NULL};
    struct consomme *c = stack_with(allow, deny);
    json_t *o = cm_stats_json(c);
    json_t *rules = json_object_get(json_object_get(o, "policy"), "rules");

    assert_int_equal(json_array_size(rules), 3);
    assert_string_equal(json_string_value(json_array_get(rules, 0)), "allow 10.0.2.2/32:5201-5210");
    assert_string_equal(json_string_value(json_array_get(rules, 1)), "allow 10.0.2.3/32:53");
    assert_string_equal(json_string_value(json_array_get(rules, 2)), "deny 0.0.0.0/0");
    json_decref(o);
    cm_destroy(c);
}

/*
 * In a namespace of its own: lo up with 192.0.2.1 added (a documentation address, RFC 5737).
 * A guest SYN to it must be refused as the host's own address even with every rule allowing,
 * and one to 192.0.2.2 (not the host's) must not be counted so. Returns an exit status.
 */
static int host_address_child(void)
{
    struct nl_sock *sk = NULL;
    struct rtnl_addr *a = NULL;
    struct nl_addr *local = NULL;
    const char *allow[] = {"0.0.0.0/0", NULL};
    struct consomme *c;
    char err[ERRBUF_LEN];
    int ifindex, status = 1;
    uint8_t t[20];
    size_t len;
    const uint8_t *r;

    if (userns_enter(CLONE_NEWNET, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return TEST_SKIP_STATUS;
    }
    sk = nl_socket_alloc();
    if (!sk || nl_connect(sk, NETLINK_ROUTE) ||
        nslink_up(sk, "lo", 0, &ifindex, err, sizeof(err))) {
        fprintf(stderr, "cannot bring lo up: %s\n", err);
        return TEST_SKIP_STATUS;
    }
    a = rtnl_addr_alloc();
    if (!a || nl_addr_parse("192.0.2.1/32", AF_INET, &local)) {
        fprintf(stderr, "out of memory\n");
        goto out;
    }
    rtnl_addr_set_ifindex(a, ifindex);
    rtnl_addr_set_local(a, local);
    if (rtnl_addr_add(sk, a, 0) < 0) {
        fprintf(stderr, "cannot add 192.0.2.1 to lo\n");
        status = TEST_SKIP_STATUS;
        goto out;
    }
    c = stack_with(allow, NULL);
    guest_frame(c, IP4(192, 0, 2, 1), 6, t,
                build_syn(t, IP4(10, 0, 2, 15), IP4(192, 0, 2, 1), 40000, 22, 7777));
    r = cm_test_next_out(c, &len);
    if (!r || r[34 + 13] != 0x14 || c->st.refused_tcp[CM_REFUSE_HOST_ADDRESS] != 1) {
        fprintf(stderr, "a SYN to the host's own 192.0.2.1 was not refused with a RST\n");
        cm_destroy(c);
        goto out;
    }
    /* not the host's: no route here, so no answer, but no refusal counted either */
    guest_frame(c, IP4(192, 0, 2, 2), 6, t,
                build_syn(t, IP4(10, 0, 2, 15), IP4(192, 0, 2, 2), 40000, 22, 7777));
    if (c->st.refused_tcp[CM_REFUSE_HOST_ADDRESS] != 1) {
        fprintf(stderr, "192.0.2.2 was taken for one of the host's addresses\n");
        cm_destroy(c);
        goto out;
    }
    cm_destroy(c);
    status = 0;
out:
    nl_addr_put(local);
    rtnl_addr_put(a);
    nl_socket_free(sk);
    return status;
}

static void test_policy_host_own_address_refused_even_when_rules_allow(void **state)
{
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (!pid)
        _exit(host_address_child());
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == TEST_SKIP_STATUS)
        TEST_SKIP("no user and network namespace of our own here (see the message above)");
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The bucket alone, on explicit times: Linux's global ICMP defaults (policy.h). */
static void test_icmp_ratelimit_bursts_then_one_per_ms_and_saves_up_to_the_burst(void **state)
{
    struct cm_ratelimit rl = {0};
    unsigned sent = 0;

    for (int i = 0; i < 3 * CM_ICMP_BURST; i++)
        sent += cm_ratelimit_allow(&rl, 1000);
    assert_int_equal(sent, CM_ICMP_BURST); /* a full bucket, then nothing in the same ms */
    assert_false(cm_ratelimit_allow(&rl, 1000));
    /* one token a millisecond */
    assert_true(cm_ratelimit_allow(&rl, 1001));
    assert_false(cm_ratelimit_allow(&rl, 1001));
    for (sent = 0; sent < 20 && cm_ratelimit_allow(&rl, 1011); sent++)
        ;
    assert_int_equal(sent, 10 * CM_ICMP_PER_MS);
    /* a clock that does not move (or an earlier reading) adds nothing */
    assert_false(cm_ratelimit_allow(&rl, 1005));
    /* idle far longer than the burst takes to refill: the bucket holds the burst, no more */
    for (sent = 0; sent < 3 * CM_ICMP_BURST && cm_ratelimit_allow(&rl, 1000 + 3600 * 1000); sent++)
        ;
    assert_int_equal(sent, CM_ICMP_BURST);
    /* and a clock near its end does not overflow the refill */
    rl = (struct cm_ratelimit){0};
    assert_true(cm_ratelimit_allow(&rl, 0));
    for (sent = 0; sent < 3 * CM_ICMP_BURST && cm_ratelimit_allow(&rl, UINT64_MAX); sent++)
        ;
    assert_int_equal(sent, CM_ICMP_BURST);
}

/* A guest flooding refused datagrams: the burst is answered, the rest counted, each refused. */
static void test_policy_denied_udp_flood_gets_rate_limited_errors(void **state)
{
    const char *deny[] = {"10.0.2.2", NULL};
    struct consomme *c = stack_with(NULL, deny);
    unsigned flood = 4 * CM_ICMP_BURST, errors = 0;
    uint64_t t0 = cm_now_ms(), elapsed;
    const uint8_t *r;
    json_t *stats;
    size_t len;

    for (unsigned i = 0; i < flood; i++)
        guest_udp(c, IP4(10, 0, 2, 2), (uint16_t)(20000 + i), "flood");
    elapsed = cm_now_ms() - t0;
    while ((r = cm_test_next_out(c, &len))) {
        assert_int_equal(r[14 + 9], 1); /* ICMP */
        assert_int_equal(r[35], 13);    /* administratively prohibited */
        errors++;
    }
    /* the burst at least; beyond it only what the clock refilled while the flood ran */
    assert_true(errors >= CM_ICMP_BURST);
    assert_true(errors <= CM_ICMP_BURST + (elapsed + 1) * CM_ICMP_PER_MS);
    assert_int_equal(c->st.refused_udp[CM_REFUSE_RULE], flood); /* every one refused */
    assert_int_equal(c->st.icmp_rate_limited, flood - errors);
    stats = cm_stats_json(c);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(stats, "udp"),
                                                        "icmp_errors_rate_limited")),
                     flood - errors);
    json_decref(stats);
    assert_int_equal(udp_flow_count(c), 0);
    cm_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_parses_address_prefix_and_ports),
        cmocka_unit_test(test_policy_bad_rules_give_clear_messages),
        cmocka_unit_test(test_policy_first_matching_rule_decides_and_no_match_allows),
        cmocka_unit_test(test_policy_port_range_and_prefix_edges),
        cmocka_unit_test(test_policy_holds_at_most_its_rule_count_then_says_so),
        cmocka_unit_test(test_policy_rule_text_reads_back_as_the_same_rule),
        cmocka_unit_test(test_policy_denied_tcp_gets_rst_and_never_reaches_the_host),
        cmocka_unit_test(test_policy_denied_udp_gets_admin_prohibited_and_opens_no_flow),
        cmocka_unit_test(test_policy_host_loopback_only_through_the_gateway_whatever_the_rules),
        cmocka_unit_test(test_policy_rules_are_listed_in_the_stats),
        cmocka_unit_test(test_policy_host_own_address_refused_even_when_rules_allow),
        cmocka_unit_test(test_icmp_ratelimit_bursts_then_one_per_ms_and_saves_up_to_the_burst),
        cmocka_unit_test(test_policy_denied_udp_flood_gets_rate_limited_errors),
    };
    return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
