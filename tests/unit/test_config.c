/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of config.c: the values the command line accepts and refuses for the TCP buffer
 * bounds and the MTU (the same functions main.c calls), and reading resolv.conf.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_test_util.h"

static void test_config_defaults_are_documented_values(void **state)
{
    struct cm_opts o;

    cm_opts_default(&o);
    assert_int_equal(o.cfg.guest_ip, IP4(10, 0, 2, 15));
    assert_int_equal(o.cfg.gw_ip, IP4(10, 0, 2, 2));
    assert_int_equal(o.cfg.dns_ip, IP4(10, 0, 2, 3));
    assert_int_equal(o.cfg.mtu, 65520);
    assert_int_equal(o.cfg.tcp_rx.initial, 16384);
    assert_int_equal(o.cfg.tcp_rx.max, 4 << 20);
    assert_int_equal(o.cfg.tcp_tx.initial, 16384);
    assert_int_equal(o.cfg.tcp_tx.max, 4 << 20);
    assert_int_equal(o.cfg.max_connections, 4096);
}

static void test_config_tcp_bounds_accepts_pair_single_and_rounds_up(void **state)
{
    struct cm_tcp_bounds b;
    char err[ERRBUF_LEN];

    assert_int_equal(cm_parse_tcp_bounds("16K:4M", &b, err, sizeof(err)), 0);
    assert_int_equal(b.initial, 16384);
    assert_int_equal(b.max, 4 << 20);
    assert_int_equal(cm_parse_tcp_bounds("256K", &b, err, sizeof(err)), 0);
    assert_int_equal(b.initial, 256 << 10);
    assert_int_equal(b.max, 256 << 10);
    assert_int_equal(cm_parse_tcp_bounds("100000:300000", &b, err, sizeof(err)), 0);
    assert_int_equal(b.initial, 131072);
    assert_int_equal(b.max, 524288);
    assert_int_equal(cm_parse_tcp_bounds("1G", &b, err, sizeof(err)), 0);
    assert_int_equal(b.max, 1u << 30);
}

static void test_config_tcp_bounds_refuses_zero_reversed_huge_and_garbage(void **state)
{
    struct cm_tcp_bounds b = {1, 1};
    char err[ERRBUF_LEN];

    assert_true(cm_parse_tcp_bounds("0", &b, err, sizeof(err)) < 0);
    assert_true(cm_parse_tcp_bounds("16K:0", &b, err, sizeof(err)) < 0);
    assert_true(cm_parse_tcp_bounds("4M:16K", &b, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "INITIAL"));
    assert_true(cm_parse_tcp_bounds("2G", &b, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "1G"));
    assert_true(cm_parse_tcp_bounds("abc", &b, err, sizeof(err)) < 0);
    assert_true(cm_parse_tcp_bounds("16K:", &b, err, sizeof(err)) < 0);
    assert_true(cm_parse_tcp_bounds(":4M", &b, err, sizeof(err)) < 0);
    assert_true(cm_parse_tcp_bounds("16K:4M:8M", &b, err, sizeof(err)) < 0);
    assert_int_equal(b.initial, 1); /* untouched on failure */
}

static void test_config_mtu_range_is_576_to_65520(void **state)
{
    unsigned m = 0;
    char err[ERRBUF_LEN];

    assert_int_equal(cm_parse_mtu("576", &m, err, sizeof(err)), 0);
    assert_int_equal(m, 576);
    assert_int_equal(cm_parse_mtu("65520", &m, err, sizeof(err)), 0);
    assert_int_equal(cm_parse_mtu("575", &m, err, sizeof(err)), -ERANGE);
    assert_int_equal(cm_parse_mtu("65521", &m, err, sizeof(err)), -ERANGE);
    assert_int_equal(cm_parse_mtu("1500x", &m, err, sizeof(err)), -EINVAL);
    assert_int_equal(m, 65520);
}

static void test_config_resolv_conf_first_ipv4_nameserver(void **state)
{
    char path[] = "/tmp/cm_resolv_XXXXXX";
    int fd = mkstemp(path);
    struct sockaddr_in a;
    char err[ERRBUF_LEN];
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("# comment\nsearch example\nnameserver ::1\n  nameserver\t192.0.2.53 # x\n"
          "nameserver 192.0.2.54\n",
          f);
    fclose(f);
    assert_int_equal(cm_resolv_conf_nameserver(path, &a, err, sizeof(err)), 0);
    assert_int_equal(ntohl(a.sin_addr.s_addr), IP4(192, 0, 2, 53));
    assert_int_equal(ntohs(a.sin_port), 53);
    f = fopen(path, "w");
    fputs("nameserver fe80::1\n", f);
    fclose(f);
    assert_int_equal(cm_resolv_conf_nameserver(path, &a, err, sizeof(err)), -ENOENT);
    unlink(path);
    assert_int_equal(cm_resolv_conf_nameserver(path, &a, err, sizeof(err)), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_are_documented_values),
        cmocka_unit_test(test_config_tcp_bounds_accepts_pair_single_and_rounds_up),
        cmocka_unit_test(test_config_tcp_bounds_refuses_zero_reversed_huge_and_garbage),
        cmocka_unit_test(test_config_mtu_range_is_576_to_65520),
        cmocka_unit_test(test_config_resolv_conf_first_ipv4_nameserver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
