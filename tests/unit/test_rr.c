/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the latency test's pieces that need no guest: nearest-rank percentiles and
 * the summary of the guest's samples (guest/rr.c), its JSON line both ways, the decoder's
 * refusals, and the harness's check of the guest's count against the echo server's
 * (harness/measure/test_latency.c). Expected values are worked out by hand in each case.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errbuf.h"
#include "rr.h"
#include "test_latency.h"

static char err[ERRBUF_LEN];

/* 1..n microseconds, in nanoseconds, shuffled so that rr_summarize() must sort them. */
static uint32_t *ramp(size_t n)
{
    uint32_t *s = malloc(n * sizeof(*s));

    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (uint32_t)((i * 7919 % n) + 1) * 1000; /* 7919 is prime: a permutation */
    return s;
}

static void test_percentile_is_nearest_rank(void **state)
{
    const uint32_t s[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};

    (void)state;
    /* rank = ceil(q/100 * 10): 50% -> 5th, 90% -> 9th, 91% -> 10th, 1% -> 1st */
    assert_int_equal(rr_percentile(s, 10, 50), 50);
    assert_int_equal(rr_percentile(s, 10, 90), 90);
    assert_int_equal(rr_percentile(s, 10, 91), 100);
    assert_int_equal(rr_percentile(s, 10, 1), 10);
    assert_int_equal(rr_percentile(s, 10, 100), 100);
    /* one sample is every percentile */
    assert_int_equal(rr_percentile(s + 3, 1, 99.9), 40);
}

static void test_percentile_of_1000_lands_on_exact_ranks(void **state)
{
    uint32_t *s = ramp(1000);
    struct rr_result r = {0};

    (void)state;
    rr_summarize(s, 1000, &r);
    assert_int_equal(r.transactions, 1000);
    /* samples 1..1000 us: p50 is the 500th, p90 the 900th, p99 the 990th, p99.9 the 999th
     * (99.9% of 1000 is 999 exactly; floating point must not push it to 1000) */
    assert_true(r.latency_us.p50 == 500.0);
    assert_true(r.latency_us.p90 == 900.0);
    assert_true(r.latency_us.p99 == 990.0);
    assert_true(r.latency_us.p999 == 999.0);
    assert_true(r.latency_us.min == 1.0);
    assert_true(r.latency_us.max == 1000.0);
    assert_true(fabs(r.latency_us.mean - 500.5) < 1e-9);
    free(s);
}

static void test_summary_of_nothing_is_zero(void **state)
{
    struct rr_result r = {.transactions = 7, .latency_us = {.p50 = 3}};

    (void)state;
    rr_summarize(NULL, 0, &r);
    assert_int_equal(r.transactions, 0);
    assert_true(r.latency_us.p50 == 0 && r.latency_us.max == 0);
}

static void test_rate_is_transactions_over_elapsed_time(void **state)
{
    struct rr_result r = {.transactions = 1500, .elapsed_us = 2000000};

    (void)state;
    assert_true(fabs(rr_rate(&r) - 750.0) < 1e-9);
    r.elapsed_us = 0;
    assert_true(rr_rate(&r) == 0);
}

static void test_result_line_round_trips(void **state)
{
    uint32_t s[] = {261760, 601150, 3484340, 11929760, 19155650, 44631880, 400000};
    struct rr_result in = {.mode = RR_TCP_CRR, .size = 3, .elapsed_us = 2001380, .timeouts = 2};
    struct rr_result out;
    char *text;

    (void)state;
    rr_summarize(s, sizeof(s) / sizeof(s[0]), &in);
    text = rr_result_format(&in);
    assert_non_null(text);
    assert_null(strchr(text, '\n')); /* one line */
    assert_int_equal(rr_result_parse(text, &out, err, sizeof(err)), 0);
    assert_int_equal(out.mode, RR_TCP_CRR);
    assert_int_equal(out.size, 3);
    assert_int_equal(out.transactions, 7);
    assert_int_equal(out.elapsed_us, 2001380);
    assert_int_equal(out.timeouts, 2);
    /* nanosecond resolution survives the text; of 7 samples p50 is the 4th (rank ceil(3.5)),
     * 3484340 ns, p90 the 7th (ceil(6.3)), the 601150 ns sample is the 3rd */
    assert_true(fabs(out.latency_us.p50 - 3484.34) < 1e-9);
    assert_true(fabs(out.latency_us.p90 - 44631.88) < 1e-9);
    assert_true(fabs(out.latency_us.min - 261.76) < 1e-9);
    assert_true(fabs(out.latency_us.max - 44631.88) < 1e-9);
    assert_true(fabs(out.latency_us.p999 - in.latency_us.p999) < 1e-9);
    free(text);
}

static void assert_refused(const char *text, const char *needle)
{
    struct rr_result r;

    assert_int_equal(rr_result_parse(text, &r, err, sizeof(err)), -EINVAL);
    if (!strstr(err, needle))
        fail_msg("message '%s' does not name '%s'", err, needle);
}

#define LAT                                                                                        \
    "\"latency_us\":{\"min\":1,\"mean\":2,\"p50\":2,\"p90\":3,\"p99\":4,\"p999\":5,\"max\":6}"

static void test_bad_result_lines_are_refused(void **state)
{
    (void)state;
    assert_refused("", "not a JSON object");
    assert_refused("[1]", "not a JSON object");
    assert_refused("{\"mode\":\"sctp_rr\",\"size\":1,\"transactions\":1,\"elapsed_us\":1,"
                   "\"timeouts\":0," LAT "}",
                   "mode");
    assert_refused("{\"mode\":\"tcp_rr\",\"size\":1,\"elapsed_us\":1,\"timeouts\":0," LAT "}",
                   "\"transactions\"");
    assert_refused("{\"mode\":\"tcp_rr\",\"size\":0,\"transactions\":1,\"elapsed_us\":1,"
                   "\"timeouts\":0," LAT "}",
                   "\"size\" 0");
    assert_refused("{\"mode\":\"tcp_rr\",\"size\":1,\"transactions\":0,\"elapsed_us\":1,"
                   "\"timeouts\":0," LAT "}",
                   "no transaction");
    assert_refused("{\"mode\":\"tcp_rr\",\"size\":1,\"transactions\":-1,\"elapsed_us\":1,"
                   "\"timeouts\":0," LAT "}",
                   "\"transactions\"");
    assert_refused("{\"mode\":\"udp_rr\",\"size\":1,\"transactions\":5,\"elapsed_us\":9,"
                   "\"timeouts\":0,\"latency_us\":{\"min\":1,\"mean\":2,\"p50\":2,\"p90\":3,"
                   "\"p99\":4,\"max\":6}}",
                   "latency_us.p999");
    /* p90 below p50: not something the loop can produce */
    assert_refused("{\"mode\":\"udp_rr\",\"size\":1,\"transactions\":5,\"elapsed_us\":9,"
                   "\"timeouts\":0,\"latency_us\":{\"min\":1,\"mean\":2,\"p50\":3,\"p90\":2,"
                   "\"p99\":4,\"p999\":5,\"max\":6}}",
                   "out of order");
}

static void test_mode_names_round_trip(void **state)
{
    enum rr_mode m;

    (void)state;
    for (int i = RR_TCP_RR; i <= RR_UDP_RR; i++) {
        assert_int_equal(rr_mode_parse(rr_mode_name((enum rr_mode)i), &m), 0);
        assert_int_equal(m, i);
    }
    assert_int_equal(rr_mode_parse("tcp_stream", &m), -EINVAL);
    assert_int_equal(rr_mode_parse(NULL, &m), -EINVAL);
}

static void test_server_must_have_seen_every_counted_transaction(void **state)
{
    const struct rr_result rr = {.mode = RR_TCP_RR, .size = 4, .transactions = 100};
    const struct rr_result crr = {.mode = RR_TCP_CRR, .size = 1, .transactions = 66};
    const struct rr_result udp = {.mode = RR_UDP_RR, .size = 1, .transactions = 1761};
    const struct {
        const struct rr_result *guest;
        const char *server; /* the echo server's counts */
        int rc;
        const char *says; /* in the message of a refusal; NULL: not checked */
    } cases[] = {
        /* tcp_rr counts requests as bytes / size: 400 bytes of 4-byte requests is 100 */
        {&rr, "{\"tcp_connections\":1,\"tcp_bytes\":400,\"udp_datagrams\":0,\"udp_bytes\":0}", 0,
         NULL},
        {&rr, "{\"tcp_connections\":1,\"tcp_bytes\":399,\"udp_datagrams\":0,\"udp_bytes\":0}",
         -EPROTO, "answered 99 requests, fewer than the 100 transactions"},
        {&crr, "{\"tcp_connections\":66,\"tcp_bytes\":66,\"udp_datagrams\":0,\"udp_bytes\":0}", 0,
         NULL},
        {&crr, "{\"tcp_connections\":65,\"tcp_bytes\":66,\"udp_datagrams\":0,\"udp_bytes\":0}",
         -EPROTO, "65 connections"},
        /* a late UDP reply means the server saw more than the guest kept: fine */
        {&udp, "{\"tcp_connections\":0,\"tcp_bytes\":0,\"udp_datagrams\":1762,\"udp_bytes\":1762}",
         0, NULL},
        {&udp, "{\"tcp_connections\":0}", -EPROTO, "malformed"},
        {&udp, "not json", -EPROTO, NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(latency_check_server(cases[i].guest, cases[i].server, err, sizeof(err)),
                         cases[i].rc);
        if (cases[i].says)
            assert_non_null(strstr(err, cases[i].says));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile_is_nearest_rank),
        cmocka_unit_test(test_percentile_of_1000_lands_on_exact_ranks),
        cmocka_unit_test(test_summary_of_nothing_is_zero),
        cmocka_unit_test(test_rate_is_transactions_over_elapsed_time),
        cmocka_unit_test(test_result_line_round_trips),
        cmocka_unit_test(test_bad_result_lines_are_refused),
        cmocka_unit_test(test_mode_names_round_trip),
        cmocka_unit_test(test_server_must_have_seen_every_counted_transaction),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
