/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of harness/iperf_result: figures taken from real iperf3 3.12 reports recorded on
 * loopback (tests/data/iperf3, see its README). Every expected number below is copied from the
 * named file's own fields, so a wrong field choice (sender vs receiver, sum vs sum_received)
 * shows up as a wrong value.
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
#include "iperf_result.h"
#include "test_args.h"

static const char *data_dir;

static char *load(const char *name)
{
    char path[1024];
    FILE *f;
    long len;
    char *buf;

    snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    buf = calloc(1, (size_t)len + 1);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return buf;
}

static void parse_file(const char *name, struct iperf_result *r)
{
    char err[ERRBUF_LEN] = "", *json = load(name);

    if (iperf_result_parse(json, r, err, sizeof(err)))
        fail_msg("%s: %s", name, err);
    free(json);
}

#define assert_near(a, b) assert_true(fabs((a) - (b)) < 1e-9 * fabs(b) + 1e-12)

static void test_tcp_tx_server_report_gives_receiver_gbps_without_retransmits(void **state)
{
    struct iperf_result r;

    parse_file("server_tcp.json", &r);
    assert_false(r.udp);
    assert_false(r.reverse);
    assert_true(r.receiver_side);
    /* end.sum_received.bits_per_second = 27493022093.27204 */
    assert_near(r.gbps, 27.49302209327204);
    assert_near(r.seconds, 2.000428);
    /* the receiving server does not know the client's retransmits */
    assert_false(r.has_retransmits);
}

static void test_tcp_tx_client_report_completes_retransmits(void **state)
{
    struct iperf_result s, c, m;

    parse_file("server_tcp.json", &s);
    parse_file("client_tcp.json", &c);
    /* client_tcp.json end.sum_sent.retransmits = 2 */
    assert_true(c.has_retransmits);
    assert_int_equal(c.retransmits, 2);
    iperf_result_merge(&s, &c, &m);
    assert_true(m.has_retransmits);
    assert_int_equal(m.retransmits, 2);
    assert_near(m.gbps, 27.49302209327204); /* still the receiver's figure, not the sender's */
    iperf_result_merge(&s, NULL, &m);
    assert_false(m.has_retransmits);
}

static void test_tcp_reverse_server_report_falls_back_to_sent_until_merged(void **state)
{
    struct iperf_result s, c, m;

    parse_file("server_tcp_reverse.json", &s);
    assert_true(s.reverse);
    /* the sending server's sum_received is all zeros; its sum_sent = 27219454231.654568 */
    assert_false(s.receiver_side);
    assert_near(s.gbps, 27.219454231654568);
    assert_true(s.has_retransmits);
    assert_int_equal(s.retransmits, 0);

    parse_file("client_tcp_reverse.json", &c);
    iperf_result_merge(&s, &c, &m);
    /* the receiving client's end.sum_received.bits_per_second = 27219521652.131916 */
    assert_true(m.receiver_side);
    assert_near(m.gbps, 27.219521652131916);
    assert_near(m.seconds, 2.000034);
    assert_int_equal(m.retransmits, 0);
}

static void test_tcp_parallel_streams_use_the_sum(void **state)
{
    struct iperf_result r;

    parse_file("server_tcp_p2.json", &r);
    /* end.sum_received.bits_per_second = 29916299635.75864, over both streams */
    assert_near(r.gbps, 29.91629963575864);
}

static void test_udp_pps_from_iperfs_own_datagram_counters(void **state)
{
    struct iperf_result r, c;

    parse_file("server_udp.json", &r);
    assert_true(r.udp);
    /* end.sum_received: packets 309290, lost_packets 87730, seconds 2.000383,
     * lost_percent 28.364964919654692 */
    assert_int_equal(r.packets, 309290);
    assert_int_equal(r.lost_packets, 87730);
    assert_near(r.pps, (309290.0 - 87730.0) / 2.000383);
    assert_near(r.lost_percent, 28.364964919654692);
    assert_near(r.gbps, 29.034752164960415);
    assert_false(r.has_retransmits);
    /* the client's report carries the same receiver counters */
    parse_file("client_udp.json", &c);
    assert_near(c.pps, r.pps);
}

static void test_iperf_error_report_fails_with_iperfs_message(void **state)
{
    char err[ERRBUF_LEN] = "", *json = load("client_refused.json");
    struct iperf_result r;

    assert_int_equal(iperf_result_parse(json, &r, err, sizeof(err)), -EIO);
    assert_non_null(strstr(err, "unable to connect to server: Connection refused"));
    free(json);
}

static void test_malformed_reports_are_refused_not_crashed_on(void **state)
{
    static const char *bad[] = {
        "",
        "not json",
        "[1,2]",
        "{}",
        "{\"start\":{\"test_start\":{\"protocol\":\"SCTP\"}},\"end\":{\"sum_received\":{}}}",
        "{\"start\":{\"test_start\":{\"protocol\":\"TCP\"}},\"end\":{}}",
        "{\"start\":{\"test_start\":{\"protocol\":\"TCP\"}},\"end\":{\"sum_received\":"
        "{\"bits_per_second\":\"fast\",\"seconds\":1,\"bytes\":5}}}",
        "{\"start\":{\"test_start\":{\"protocol\":\"TCP\"}},\"end\":{\"sum_received\":"
        "{\"bits_per_second\":-5,\"seconds\":1,\"bytes\":5}}}",
        "{\"start\":{\"test_start\":{\"protocol\":\"UDP\"}},\"end\":{\"sum_received\":"
        "{\"bits_per_second\":5,\"seconds\":1,\"bytes\":5,\"packets\":3}}}",
        "{\"start\":{\"test_start\":{\"protocol\":\"UDP\"}},\"end\":{\"sum_received\":"
        "{\"bits_per_second\":5,\"seconds\":0,\"bytes\":5,\"packets\":3,\"lost_packets\":0}}}",
    };
    char err[ERRBUF_LEN];
    struct iperf_result r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(iperf_result_parse(bad[i], &r, err, sizeof(err)), -EPROTO);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(iperf_result_parse(NULL, &r, err, sizeof(err)), -EPROTO);
}

static void test_udp_reordering_never_makes_loss_negative(void **state)
{
    const char *json =
        "{\"start\":{\"test_start\":{\"protocol\":\"UDP\"}},\"end\":{\"sum_received\":"
        "{\"bits_per_second\":8e6,\"seconds\":2,\"bytes\":1000000,\"packets\":1000,"
        "\"lost_packets\":-3,\"lost_percent\":-0.3}}}";
    char err[ERRBUF_LEN];
    struct iperf_result r;

    assert_int_equal(iperf_result_parse(json, &r, err, sizeof(err)), 0);
    assert_int_equal(r.lost_packets, 0);
    assert_near(r.pps, 500.0);
    assert_true(r.lost_percent == 0);
}

/*
 * server_tcp_5s.json, intervals[].sum.bits_per_second / 1e9 (sender false: the server
 * received): 4.031.., 3.040.., 5.094.., 4.748.., 4.176.., then a 0.010 s tail at 0.405 Gbps that
 * would be below a tenth of the median if it were counted. Median 4.176.., no stall.
 */
static void test_intervals_of_a_steady_run_have_no_stall(void **state)
{
    struct iperf_result r;

    parse_file("server_tcp_5s.json", &r);
    assert_true(r.intervals_receiver_side);
    assert_int_equal(r.nintervals, 5);
    assert_near(r.interval_gbps[0], 4.03126139249864);
    assert_near(r.interval_gbps[4], 4.1758555005565863);
    assert_near(r.interval_median_gbps, 4.1758555005565863);
    assert_int_equal(r.stalled_intervals, 0);
}

/* The edited copy: intervals[1] at 0 and intervals[3] at 0.2 Gbps; median of {4.031, 0,
 * 5.094, 0.2, 4.176} is 4.031, a tenth of it 0.403: both edited intervals are stalls. */
static void test_zero_and_near_zero_intervals_count_as_stalls(void **state)
{
    struct iperf_result r;

    parse_file("server_tcp_5s_edited_stall.json", &r);
    assert_int_equal(r.nintervals, 5);
    assert_near(r.interval_gbps[1], 0.0);
    assert_near(r.interval_median_gbps, 4.03126139249864);
    assert_int_equal(r.stalled_intervals, 2);
}

/* With -R the server sends: its intervals are the sender's; the client's (received) replace
 * them in the merge. The edited client report has intervals[4] at 0. */
static void test_reverse_takes_the_clients_received_intervals(void **state)
{
    struct iperf_result s, c, m;

    parse_file("server_tcp_reverse_5s.json", &s);
    assert_false(s.intervals_receiver_side);
    assert_int_equal(s.stalled_intervals, 0);
    parse_file("client_tcp_reverse_5s_edited_stall.json", &c);
    assert_true(c.intervals_receiver_side);
    iperf_result_merge(&s, &c, &m);
    assert_true(m.intervals_receiver_side);
    assert_int_equal(m.nintervals, 5);
    assert_near(m.interval_gbps[4], 0.0);
    assert_int_equal(m.stalled_intervals, 1);

    /* Unedited, the same merge finds no stall; and a normal test keeps the server's. */
    parse_file("client_tcp_reverse_5s.json", &c);
    iperf_result_merge(&s, &c, &m);
    assert_int_equal(m.stalled_intervals, 0);
    parse_file("server_tcp_5s_edited_stall.json", &s);
    parse_file("client_tcp_5s.json", &c);
    assert_false(c.intervals_receiver_side);
    iperf_result_merge(&s, &c, &m);
    assert_int_equal(m.stalled_intervals, 2);
}

static void test_stall_count_rules(void **state)
{
    const double steady[] = {1.0, 1.1, 0.9, 1.0};
    const double all_zero[] = {0, 0, 0};
    const double edge[] = {1.0, 1.0, 0.1, 0.0999};
    double median;

    assert_int_equal(iperf_result_stalls(steady, 4, &median), 0);
    assert_near(median, 1.0);
    /* a run that never moved a byte stalled in every interval */
    assert_int_equal(iperf_result_stalls(all_zero, 3, &median), 3);
    /* median 0.55: a tenth is 0.055, so neither 0.1 nor 0.0999 is a stall */
    assert_int_equal(iperf_result_stalls(edge, 4, &median), 0);
    assert_int_equal(iperf_result_stalls(edge, 2, &median), 0);
    assert_int_equal(iperf_result_stalls(NULL, 0, &median), 0);
    assert_true(isnan(median));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_tx_server_report_gives_receiver_gbps_without_retransmits),
        cmocka_unit_test(test_tcp_tx_client_report_completes_retransmits),
        cmocka_unit_test(test_tcp_reverse_server_report_falls_back_to_sent_until_merged),
        cmocka_unit_test(test_tcp_parallel_streams_use_the_sum),
        cmocka_unit_test(test_udp_pps_from_iperfs_own_datagram_counters),
        cmocka_unit_test(test_iperf_error_report_fails_with_iperfs_message),
        cmocka_unit_test(test_malformed_reports_are_refused_not_crashed_on),
        cmocka_unit_test(test_udp_reordering_never_makes_loss_negative),
        cmocka_unit_test(test_intervals_of_a_steady_run_have_no_stall),
        cmocka_unit_test(test_zero_and_near_zero_intervals_count_as_stalls),
        cmocka_unit_test(test_reverse_takes_the_clients_received_intervals),
        cmocka_unit_test(test_stall_count_rules),
    };

    data_dir = test_operand(argc, argv, "DATA_DIR");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
