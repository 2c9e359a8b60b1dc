/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of udp.c against real sockets on 127.0.0.1: a guest datagram to 10.0.2.2 reaches
 * a host socket on loopback, the reply comes back to the guest from 10.0.2.2 with a valid
 * checksum, DNS to 10.0.2.3:53 goes to the configured resolver (a loopback socket here),
 * a refused port becomes an ICMP port unreachable, malformed datagrams are counted, and idle
 * flows expire while traffic either way keeps them alive (driven by udp_sweep() with a chosen
 * clock, so no test waits for the timeout).
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "cm_test_util.h"
#include "fd.h"
#include "loopback.h"

static const uint8_t gw_mac[6] = {GW_MAC};

static void guest_send(struct consomme *c, uint32_t dst, uint16_t sport, uint16_t dport,
                       const char *msg)
{
    static uint8_t f[2048];
    uint8_t u[1024];
    size_t ul = build_udp(u, IP4(10, 0, 2, 15), dst, sport, dport, msg, strlen(msg));

    cm_frames_input_begin(c);
    cm_frame_input(c, f, build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), dst, 17, u, ul));
    cm_frames_input_end(c);
}

/* Runs the stack's event handlers until something was queued toward the guest. */
static const uint8_t *pump(struct consomme *c, size_t *len)
{
    for (int i = 0; i < 50; i++) {
        struct epoll_event ev[8];
        int n = epoll_wait(c->events.epfd, ev, 8, 100);

        cm_events_dispatch(c, ev, n);
        const uint8_t *r = cm_test_next_out(c, len);
        if (r)
            return r;
    }
    return NULL;
}

/* Each test's stack (no transport, default options unless a test makes its own) and a UDP
 * socket on the host's loopback for the guest to reach at 10.0.2.2:port. */
struct udp_fx {
    struct consomme *c;
    int fd;
    uint16_t port;
};

static int fx_setup(void **state)
{
    struct udp_fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->c = cm_test_stack();
    f->fd = loopback_socket(SOCK_DGRAM, &f->port);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct udp_fx *f = *state;

    fd_close(&f->fd);
    cm_destroy(f->c);
    free(f);
    return 0;
}

/* Replaces the fixture's stack by one made with @o. */
static struct consomme *restack(struct udp_fx *f, const struct cm_opts *o)
{
    cm_destroy(f->c);
    f->c = NULL;
    assert_int_equal(cm_create(o, &f->c, NULL, 0), 0);
    return f->c;
}

/* The host socket @fd receives @query, from the stack's socket of the guest's flow, and
 * answers it with @answer. Return: where the query came from. */
static struct sockaddr_in host_answer(int fd, const char *query, const char *answer)
{
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    char buf[64];
    ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

    assert_int_equal(n, strlen(query));
    assert_memory_equal(buf, query, n);
    assert_int_equal(sendto(fd, answer, strlen(answer), 0, (struct sockaddr *)&from, fl),
                     strlen(answer));
    return from;
}

static void test_udp_gateway_maps_to_host_loopback_and_reply_comes_back(void **state)
{
    struct udp_fx *f = *state;
    struct consomme *c = f->c;
    uint16_t port = f->port;
    struct sockaddr_in from;
    char buf[64];
    const uint8_t *r;
    size_t len = 0;

    guest_send(c, IP4(10, 0, 2, 2), 40000, port, "ping");
    from = host_answer(f->fd, "ping", "pong!");
    assert_int_equal(ntohl(from.sin_addr.s_addr), INADDR_LOOPBACK);
    assert_int_equal(udp_flow_count(c), 1);
    r = pump(c, &len);
    assert_non_null(r);
    assert_int_equal(len, 34 + 8 + 5);
    assert_int_equal(get_be32(r + 14 + 12), IP4(10, 0, 2, 2));
    assert_int_equal(get_be32(r + 14 + 16), IP4(10, 0, 2, 15));
    assert_int_equal(get_be16(r + 34), port);
    assert_int_equal(get_be16(r + 36), 40000);
    assert_memory_equal(r + 42, "pong!", 5);
    assert_int_equal(ref_csum(r + 34, 13, ref_pseudo(IP4(10, 0, 2, 2), IP4(10, 0, 2, 15), 17, 13)),
                     0);

    /* a second datagram of the same flow reuses its socket */
    guest_send(c, IP4(10, 0, 2, 2), 40000, port, "again");
    assert_int_equal(recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT), 5);
    assert_int_equal(udp_flow_count(c), 1);
    assert_int_equal(c->st.udp_flows_total, 1);
}

static void test_udp_dns_address_goes_to_configured_resolver(void **state)
{
    struct udp_fx *f = *state;
    struct consomme *c;
    struct cm_opts o;
    const uint8_t *r;
    size_t len = 0;

    cm_opts_default(&o);
    o.dns_upstream = (struct sockaddr_in){.sin_family = AF_INET,
                                          .sin_port = htons(f->port),
                                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    c = restack(f, &o);
    guest_send(c, IP4(10, 0, 2, 3), 5353, 53, "query");
    host_answer(f->fd, "query", "answer");
    r = pump(c, &len);
    assert_non_null(r);
    /* the guest sees the answer from 10.0.2.3:53, not from the real resolver */
    assert_int_equal(get_be32(r + 14 + 12), IP4(10, 0, 2, 3));
    assert_int_equal(get_be16(r + 34), 53);
    assert_int_equal(get_be16(r + 36), 5353);
    /* other ports of the DNS address lead nowhere */
    guest_send(c, IP4(10, 0, 2, 3), 5353, 54, "x");
    assert_int_equal(cm_test_drops(c, CM_DROP_IPV4_DST), 1);
}

static void test_udp_malformed_datagrams_are_counted(void **state)
{
    struct consomme *c = ((struct udp_fx *)*state)->c;
    uint8_t f[256], u[64];
    size_t ul;

    ul = build_udp(u, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 1, 9, "abcd", 4);
    u[9] ^= 1; /* payload changed: checksum wrong */
    cm_frame_input(c, f,
                   build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 17, u, ul));
    ul = build_udp(u, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 1, 9, "abcd", 4);
    put_be16(u + 4, 13); /* UDP length beyond the IP payload */
    cm_frame_input(c, f,
                   build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 17, u, ul));
    cm_frame_input(c, f,
                   build_ipv4_frame(f, gw_mac, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 17, u, 7));
    assert_int_equal(cm_test_drops(c, CM_DROP_UDP_MALFORMED), 3);
    assert_int_equal(udp_flow_count(c), 0);
}

static void test_udp_idle_flows_expire_after_timeout(void **state)
{
    struct udp_fx *f = *state;
    struct consomme *c = f->c;
    uint16_t port = f->port;
    uint64_t now;

    guest_send(c, IP4(10, 0, 2, 2), 1000, port, "a");
    guest_send(c, IP4(10, 0, 2, 2), 1001, port, "b");
    now = cm_now_ms();
    assert_int_equal(udp_flow_count(c), 2);
    udp_sweep(c, now + 1000);
    assert_int_equal(udp_flow_count(c), 2); /* default timeout 180 s: still there */
    udp_sweep(c, now + 181000);
    assert_int_equal(udp_flow_count(c), 0);
    assert_int_equal(c->st.udp_flows_expired, 2);
}

static void test_udp_flow_limit_refuses_new_flows(void **state)
{
    struct udp_fx *f = *state;
    struct consomme *c;
    struct cm_opts o;
    uint16_t port = f->port;

    cm_opts_default(&o);
    o.max_udp_flows = 2;
    c = restack(f, &o);
    for (uint16_t sport = 1; sport <= 3; sport++)
        guest_send(c, IP4(10, 0, 2, 2), sport, port, "x");
    assert_int_equal(udp_flow_count(c), 2);
    assert_int_equal(cm_test_drops(c, CM_DROP_UDP_FLOW_LIMIT), 1);
}

static void test_udp_refused_port_becomes_icmp_port_unreachable(void **state)
{
    struct udp_fx *f = *state;
    struct consomme *c = f->c;
    uint16_t port = f->port;
    const uint8_t *r;
    size_t len = 0;

    fd_close(&f->fd); /* nothing listens on @port now */
    guest_send(c, IP4(10, 0, 2, 2), 41000, port, "anyone?");
    r = pump(c, &len);
    assert_non_null(r);
    assert_int_equal(len, 34 + 8 + 28);
    assert_int_equal(r[14 + 9], 1); /* ICMP */
    assert_int_equal(get_be32(r + 14 + 12), IP4(10, 0, 2, 2));
    assert_int_equal(get_be32(r + 14 + 16), IP4(10, 0, 2, 15));
    assert_int_equal(r[34], 3);
    assert_int_equal(r[35], 3);
    assert_int_equal(ref_csum(r + 34, 36, 0), 0);
    /* the quoted datagram names the guest's flow */
    assert_int_equal(ref_csum(r + 42, 20, 0), 0);
    assert_int_equal(get_be32(r + 42 + 12), IP4(10, 0, 2, 15));
    assert_int_equal(get_be32(r + 42 + 16), IP4(10, 0, 2, 2));
    assert_int_equal(get_be16(r + 62), 41000);
    assert_int_equal(get_be16(r + 64), port);
}

/*
 * Traffic either way keeps a flow alive: its idle timer counts from the last datagram. The
 * clock is the real one, so the test waits (on the clock itself, not a sleep) until it has
 * moved past the first datagram's time before sending the next; a sweep at exactly the time
 * the flow would expire had the first datagram been its last then must keep it.
 */
static void test_udp_traffic_refreshes_a_flows_timer(void **state)
{
    struct udp_fx *f = *state;
    struct consomme *c = f->c;
    const uint64_t timeout = 180000; /* the default --udp-timeout */
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    uint16_t port = f->port;
    int fd = f->fd;
    char buf[16];
    uint64_t first, second, reply;
    size_t len = 0;

    guest_send(c, IP4(10, 0, 2, 2), 42000, port, "one");
    first = cm_now_ms(); /* the flow's time is at most this */
    while (cm_now_ms() <= first + 1)
        ;
    guest_send(c, IP4(10, 0, 2, 2), 42000, port, "two");
    second = cm_now_ms();
    assert_int_equal(udp_flow_count(c), 1);
    udp_sweep(c, first + timeout);
    assert_int_equal(udp_flow_count(c), 1); /* refreshed by "two" */
    assert_int_equal(c->st.udp_flows_expired, 0);

    /* a reply from the host refreshes it too */
    assert_int_equal(recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 3);
    while (cm_now_ms() <= second + 1)
        ;
    assert_int_equal(sendto(fd, "back", 4, 0, (struct sockaddr *)&from, fl), 4);
    assert_non_null(pump(c, &len));
    reply = cm_now_ms();
    udp_sweep(c, second + timeout);
    assert_int_equal(udp_flow_count(c), 1);
    /* and once idle for the whole timeout after the last datagram, it goes */
    udp_sweep(c, reply + timeout);
    assert_int_equal(udp_flow_count(c), 0);
    assert_int_equal(c->st.udp_flows_expired, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_udp_gateway_maps_to_host_loopback_and_reply_comes_back,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_udp_dns_address_goes_to_configured_resolver, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_udp_malformed_datagrams_are_counted, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_udp_idle_flows_expire_after_timeout, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_udp_flow_limit_refuses_new_flows, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_udp_refused_port_becomes_icmp_port_unreachable,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_udp_traffic_refreshes_a_flows_timer, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
