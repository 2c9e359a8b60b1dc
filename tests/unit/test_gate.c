/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of results/gate (which metrics a CI gate fails on) and of the gate in `burette
 * compare` and `history detect`: the default set, the spec's terms, bad specs, a glob that takes
 * nothing, and the case that made the gate's default: a recorded A/A pair (tests/data/aa/10, two
 * variants of one build over 45 quiet rounds) in which a CPU-cost metric came out "regressed" and
 * no throughput did. With every metric gated that A/A night would fail; with the default it passes
 * and says what regressed outside the gate.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "compare.h"
#include "compare_test_util.h"
#include "errbuf.h"
#include "gate.h"
#include "history_detect.h"
#include "render.h"
#include "report.h"

#define AA10_COST "net_virtio-net_tcp_rx_qemu_main_ms_per_gbit"

static char err[ERRBUF_LEN];

static void test_families(void **state)
{
    (void)state;
    assert_false(metric_is_diagnostic("net_virtio-net_tcp_tx_gbps"));
    assert_false(metric_is_diagnostic("net_virtio-net_tcp_tx_gbit_per_cpu_s"));
    assert_false(metric_is_diagnostic("net_virtio-net_tcp_rr_p99_us"));
    assert_false(metric_is_diagnostic("boot_time_ms"));
    assert_true(metric_is_diagnostic(AA10_COST));
    assert_true(metric_is_diagnostic("net_virtio-net_tcp_tx_vcpu_cpu_percent"));
    assert_true(metric_is_diagnostic("net_virtio-net_tcp_tx_retransmits"));
    assert_true(metric_is_diagnostic("net_virtio-net_udp_tx_lost_percent"));
    assert_true(metric_is_diagnostic("net_virtio-net_tcp_rr_lost"));
    assert_true(metric_is_diagnostic("net_virtio-net_tcp_rx_stalled_intervals"));
    assert_true(metric_is_rate("net_virtio-net_tcp_tx_gbps"));
    assert_true(metric_is_rate("net_virtio-net_udp_tx_pps"));
    assert_true(metric_is_rate("net_virtio-net_tcp_crr_per_s"));
    assert_false(metric_is_rate("net_virtio-net_tcp_tx_gbit_per_cpu_s"));
    assert_false(metric_is_rate("net_virtio-net_tcp_rr_p99_us"));
    assert_false(metric_is_rate("_gbps"));
}

static void test_specs(void **state)
{
    struct metric_gate def = {0}, g;

    (void)state;
    assert_true(metric_gate_covers(&def, "net_virtio-net_tcp_tx_gbps"));
    assert_true(metric_gate_covers(&def, "boot_time_ms"));
    assert_false(metric_gate_covers(&def, AA10_COST));
    assert_true(metric_gate_covers(NULL, "net_virtio-net_udp_tx_pps"));

    assert_int_equal(metric_gate_parse(&g, "rates", err, sizeof(err)), 0);
    assert_true(metric_gate_covers(&g, "net_virtio-net_tcp_crr_per_s"));
    assert_false(metric_gate_covers(&g, "boot_time_ms"));

    assert_int_equal(metric_gate_parse(&g, "all", err, sizeof(err)), 0);
    assert_true(metric_gate_covers(&g, AA10_COST));
    assert_true(metric_gate_covers(&g, "anything"));

    assert_int_equal(metric_gate_parse(&g, "rates,*_p99_us", err, sizeof(err)), 0);
    assert_true(metric_gate_covers(&g, "net_virtio-net_tcp_tx_gbps"));
    assert_true(metric_gate_covers(&g, "net_virtio-net_tcp_rr_p99_us"));
    assert_false(metric_gate_covers(&g, "net_virtio-net_tcp_rr_p50_us"));

    /* a glob alone: the rates are no longer gated */
    assert_int_equal(metric_gate_parse(&g, "*_ms_per_gbit", err, sizeof(err)), 0);
    assert_true(metric_gate_covers(&g, AA10_COST));
    assert_false(metric_gate_covers(&g, "net_virtio-net_tcp_tx_gbps"));

    assert_int_equal(metric_gate_parse(&g, "", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--gate"));
    assert_int_equal(metric_gate_parse(&g, "rates,", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "empty term"));
    assert_int_equal(metric_gate_parse(&g, ",all", err, sizeof(err)), -EINVAL);
}

static void test_unmatched(void **state)
{
    const char *names[] = {"net_virtio-net_tcp_tx_gbps", AA10_COST};
    struct metric_gate g = {0};
    char term[64];

    (void)state;
    assert_false(metric_gate_unmatched(&g, names, 2, term, sizeof(term)));
    assert_int_equal(metric_gate_parse(&g, "all,rates,*_tcp_tx_*", err, sizeof(err)), 0);
    assert_false(metric_gate_unmatched(&g, names, 2, term, sizeof(term)));
    assert_int_equal(metric_gate_parse(&g, "rates,*_tpc_tx_*", err, sizeof(err)), 0);
    assert_true(metric_gate_unmatched(&g, names, 2, term, sizeof(term)));
    assert_string_equal(term, "*_tpc_tx_*");
}

static char *rendered(const struct comparison *c, const char *format)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    assert_int_equal(render_comparison(format, f, c, err, sizeof(err)), 0);
    fclose(f);
    return buf;
}

/* The "gated" field of metric @name in a comparison rendered as JSON. */
static bool json_metric_gated(const char *js, const char *name)
{
    json_t *root = json_loads(js, 0, NULL), *metrics, *m;
    size_t i;
    bool gated = false, found = false;

    assert_non_null(root);
    metrics = json_object_get(json_array_get(json_object_get(root, "candidates"), 0), "metrics");
    json_array_foreach(metrics, i, m)
    {
        if (!strcmp(json_string_value(json_object_get(m, "name")), name)) {
            gated = json_is_true(json_object_get(m, "gated"));
            found = true;
        }
    }
    json_decref(root);
    assert_true(found);
    return gated;
}

/* The recorded A/A pair: nothing in the default gate regressed, one cost metric outside it. */
static void test_recorded_aa_pair(void **state)
{
    struct report *a = read_data("../aa/10/a.json"), *b = read_data("../aa/10/b.json");
    const struct report *cands[] = {b};
    struct compare_options o;
    struct comparison *c;
    char *text;

    (void)state;
    compare_options_init(&o);
    assert_int_equal(compare_reports(a, cands, 1, &o, &c, err, sizeof(err)), 0);
    assert_int_equal(c->regressed, 0);
    assert_int_equal(c->regressed_outside_gate, 1);
    assert_int_equal(compare_find_row(c, &c->results[0], AA10_COST)->verdict, VERDICT_REGRESSED);
    text = rendered(c, "markdown");
    assert_non_null(strstr(text, "no regression"));
    assert_non_null(strstr(text, AA10_COST " (b): regressed, outside the gate (--gate results)"));
    free(text);
    text = rendered(c, "json");
    assert_non_null(strstr(text, "\"regressed_outside_gate\": 1"));
    assert_non_null(strstr(text, "\"gate\": \"results\""));
    assert_false(json_metric_gated(text, AA10_COST));
    assert_true(json_metric_gated(text, "net_virtio-net_tcp_rx_gbps"));
    free(text);
    comparison_free(c);

    assert_int_equal(metric_gate_parse(&o.gate, "all", err, sizeof(err)), 0);
    assert_int_equal(compare_reports(a, cands, 1, &o, &c, err, sizeof(err)), 0);
    assert_int_equal(c->regressed, 1);
    assert_int_equal(c->regressed_outside_gate, 0);
    text = rendered(c, "markdown");
    assert_non_null(strstr(text, "regression found"));
    free(text);
    comparison_free(c);

    assert_int_equal(metric_gate_parse(&o.gate, "*_tcp_tx_gbpz", err, sizeof(err)), 0);
    assert_int_equal(compare_reports(a, cands, 1, &o, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "'*_tcp_tx_gbpz' matches no metric"));
    report_free(a);
    report_free(b);
}

/* history detect: a recent regression of a cost series is shown, and fails only a gate that
 * takes it. */
static void test_history_gate(void **state)
{
    double cost[30], gbps[30];
    struct history_point pc[30], pg[30];
    struct history_series s[2] = {
        {.metric = AA10_COST, .higher_is_better = false},
        {.metric = "net_virtio-net_tcp_tx_gbps", .higher_is_better = true}};
    struct history_detection d;
    struct ed_options o;

    (void)state;
    memset(pc, 0, sizeof(pc));
    memset(pg, 0, sizeof(pg));
    for (size_t i = 0; i < 30; i++) {
        cost[i] = (i < 27 ? 100 : 130) + (double)(i % 3);
        gbps[i] = 2.0 + 0.01 * (double)(i % 3);
        pc[i].mean = cost[i];
        pg[i].mean = gbps[i];
        pc[i].revision = pg[i].revision = "r";
        pc[i].date = pg[i].date = "2026-12-01";
    }
    s[0].points = pc;
    s[0].npoints = 30;
    s[1].points = pg;
    s[1].npoints = 30;
    ed_options_default(&o);
    o.min_segment = 3;
    assert_int_equal(history_detect(s, 2, &o, 5, &d, err, sizeof(err)), 0);
    assert_int_equal(d.nchanges, 1);
    assert_int_equal(d.changes[0].series, 0);
    assert_true(d.changes[0].regression && d.changes[0].recent);
    assert_false(history_detect_gate(&d));
    assert_string_equal(history_change_note(&d, 0), " (recent, outside the gate)");
    assert_int_equal(metric_gate_parse(&d.gate, "rates,*_ms_per_gbit", err, sizeof(err)), 0);
    assert_true(history_detect_gate(&d));
    assert_string_equal(history_change_note(&d, 0), " (recent)");
    history_detection_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families),     cmocka_unit_test(test_specs),
        cmocka_unit_test(test_unmatched),    cmocka_unit_test(test_recorded_aa_pair),
        cmocka_unit_test(test_history_gate),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
