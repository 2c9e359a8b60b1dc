/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the paired comparison in results/compare: the sign-flip test against hand
 * counts, when two reports count as one interleaved run, that pairing cancels a drift the
 * unpaired test drowns in, its interval against a value worked out by hand, the fall-backs
 * (different runs, too few rounds, a metric missing rounds), and that every output format
 * says which test was used. Then each row's resolution (the change its test could have seen):
 * against a hand computation, against a simulation of the "8 times in 10" it claims, and the
 * --require-detectable gate built on it.
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

#include "compare.h"
#include "compare_test_util.h"
#include "errbuf.h"
#include "render.h"
#include "report.h"

#define assert_close(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

#define TX "net_virtio-net_tcp_tx_gbps"

/* t quantile 0.975 with 9 degrees of freedom (R: qt(0.975, 9) = 2.262157), to 12 digits. */
#define T975_9 2.262157162798

static char err[ERRBUF_LEN];

/*
 * A report of one metric, as a run records it: @run_id NULL for none, @positions the number
 * of positions recorded (0: none, as a sequential or older run).
 */
static struct report *make_report(const char *label, const char *run_id, size_t positions,
                                  const double *x, size_t n)
{
    struct report *r = report_new();
    json_t *config = json_object(), *pos = json_array();

    assert_non_null(r);
    assert_non_null(config);
    assert_non_null(pos);
    assert_int_equal(report_set_label(r, label), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(report_add_sample(r, TX, "Gbps", x[i], err, sizeof(err)), 0);
    for (size_t i = 0; i < positions; i++)
        assert_int_equal(json_array_append_new(pos, json_integer((json_int_t)(i % 2))), 0);
    if (run_id)
        assert_int_equal(json_object_set_new(config, "run_id", json_string(run_id)), 0);
    if (positions)
        assert_int_equal(json_object_set_new(config, "positions", pos), 0);
    else
        json_decref(pos);
    report_set_config(r, config);
    return r;
}

static struct comparison *compare2(const struct report *a, const struct report *b)
{
    return compare_with(a, b, NULL);
}

/*
 * Hand count, d = {1, 2, 3}: the 8 sign patterns sum to 6, 4, 2, 0, 0, -2, -4, -6.
 * Observed 6: reached by 6 and -6 -> p = 2/8. d = {3, -1, 2}: observed 4, reached by
 * 6, 4, -4, -6 -> p = 4/8. p_min = 2/8 whatever the data.
 */
static void test_sign_flip_matches_hand_count(void **state)
{
    const double d1[] = {1, 2, 3}, d2[] = {3, -1, 2}, zero[] = {0, 0, 0, 0};
    struct compare_options o;
    enum pvalue_method m;
    double p_min;

    compare_options_init(&o);
    assert_close(compare_paired(d1, 3, &o, &m, &p_min), 2.0 / 8, 1e-15);
    assert_int_equal(m, PVALUE_PAIRED_EXACT);
    assert_close(p_min, 2.0 / 8, 1e-15);
    assert_close(compare_paired(d2, 3, &o, &m, NULL), 4.0 / 8, 1e-15);
    /* No difference in any round: every pattern ties, nothing to see. */
    assert_close(compare_paired(zero, 4, &o, &m, NULL), 1, 1e-15);
    assert_true(isnan(compare_paired(d1, 0, &o, &m, NULL)));
    assert_int_equal(m, PVALUE_NONE);
}

/* Ten rounds, all one sign: only the observed pattern and its mirror -> p = 2/1024. Forced to
 * Monte-Carlo, the estimate stays near it (standard error sqrt(p (1 - p) / 1e5) = 0.00014, so
 * 0.001 is seven of them) and is the same on every call (fixed seed). Twenty mixed rounds:
 * Monte-Carlo close to the exact count. */
static void test_sign_flip_exact_and_monte_carlo_agree(void **state)
{
    double d[20], exact, p1, p2;
    struct compare_options o;
    enum pvalue_method m;

    for (size_t i = 0; i < 20; i++)
        d[i] = (i % 3 ? 1.0 : -1.3) * (1 + (double)i / 10);
    compare_options_init(&o);
    assert_close(compare_paired(d + 1, 2, &o, &m, NULL), 0.5, 1e-15);
    for (size_t i = 0; i < 10; i++)
        d[i] = 0.1 + (double)i / 100;
    assert_close(compare_paired(d, 10, &o, &m, NULL), 2.0 / 1024, 1e-15);
    o.exact_limit = 100;
    p1 = compare_paired(d, 10, &o, &m, NULL);
    assert_int_equal(m, PVALUE_PAIRED_MONTE_CARLO);
    p2 = compare_paired(d, 10, &o, &m, NULL);
    assert_close(p1, 2.0 / 1024, 0.001);
    assert_true(p1 == p2);

    for (size_t i = 0; i < 20; i++)
        d[i] = (i % 3 ? 1.0 : -1.3) * (1 + (double)i / 10);
    compare_options_init(&o);
    exact = compare_paired(d, 20, &o, &m, NULL);
    assert_int_equal(m, PVALUE_PAIRED_MONTE_CARLO); /* 2^20 > the default exact limit 1e6 */
    o.exact_limit = (size_t)1 << 20;
    exact = compare_paired(d, 20, &o, &m, NULL);
    assert_int_equal(m, PVALUE_PAIRED_EXACT);
    assert_true(exact > 0.01 && exact < 0.99);
    compare_options_init(&o);
    assert_close(compare_paired(d, 20, &o, &m, NULL), exact, 0.005);
}

/* 2 / 2^n <= alpha: n = 8 for 0.01 (2/128 = 0.0156 is not enough), 6 for 0.05, 2 at least. */
static void test_paired_min_rounds(void **state)
{
    assert_int_equal(compare_paired_min_rounds(0.01), 8);
    assert_int_equal(compare_paired_min_rounds(2.0 / 256), 8);
    assert_int_equal(compare_paired_min_rounds(0.05), 6);
    assert_int_equal(compare_paired_min_rounds(0.9), 2);
}

/* A run that drifts 60% from the first round to the last, candidate 10% below the baseline in
 * every round, within +-1%: the drift swamps the unpaired test, the paired one sees it. */
static void drifting_pair(double *base, double *cand, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        base[i] = 2.0 * (1 + 0.6 * (double)i / (double)(n - 1));
        cand[i] = base[i] * 0.9 * (i % 2 ? 0.99 : 1.01);
    }
}

/*
 * The drifting candidate as run @run_id recorded it (ten rounds), compared with @rb under @o
 * (NULL: the defaults); checks whether the two count as one run and which pairing was chosen.
 * The comparison and *@rc are the caller's to free.
 */
static struct comparison *compare_drifting(const struct report *rb, const double *cand,
                                           const char *run_id, const struct compare_options *o,
                                           bool same_run, enum pairing pairing, struct report **rc)
{
    struct comparison *c;

    *rc = make_report("b", run_id, 10, cand, 10);
    assert_true(compare_same_run(rb, *rc) == same_run);
    c = compare_with(rb, *rc, o);
    assert_true(c->results[0].same_run == same_run);
    assert_int_equal(c->results[0].rows[0].pairing, pairing);
    return c;
}

/*
 * Paired by hand: d_i = log(0.9 * 1.01) and log(0.9 * 0.99) in turn, all negative, so p =
 * 2/1024. Their mean m = log(0.9) + (log 1.01 + log 0.99) / 2; alternating +-a around it (a =
 * (log 1.01 - log 0.99) / 2) the sample sd is a sqrt(10/9); the interval exp(m +- t sd /
 * sqrt(10)) - 1.
 */
static void test_pairing_cancels_drift(void **state)
{
    double base[10], cand[10], m, a, half, p_two_runs;
    struct report *rb, *rc;
    struct comparison *c;
    const struct compare_row *r;

    drifting_pair(base, cand, 10);
    rb = make_report("a", "run1", 10, base, 10);
    c = compare_drifting(rb, cand, "run1", NULL, true, PAIRING_PAIRED, &rc);
    r = &c->results[0].rows[0];
    assert_int_equal(r->rounds, 10);
    assert_int_equal(r->method, PVALUE_PAIRED_EXACT);
    assert_close(r->p_value, 2.0 / 1024, 1e-15);
    assert_int_equal(r->verdict, VERDICT_REGRESSED);
    m = log(0.9) + (log(1.01) + log(0.99)) / 2;
    a = (log(1.01) - log(0.99)) / 2;
    half = T975_9 * a * sqrt(10.0 / 9) / sqrt(10);
    assert_close(r->ci_low_pct, expm1(m - half) * 100, 1e-6);
    assert_close(r->ci_high_pct, expm1(m + half) * 100, 1e-6);
    assert_true(r->ci_low_pct < -10 && r->ci_high_pct > -10 && r->ci_high_pct < -9);
    comparison_free(c);
    report_free(rc);

    /* The same samples from two different runs: unpaired, and the drift hides the drop. */
    c = compare_drifting(rb, cand, "run2", NULL, false, PAIRING_NONE, &rc);
    r = &c->results[0].rows[0];
    assert_int_equal(r->method, PVALUE_PERMUTATION_EXACT);
    assert_true(r->p_value > 0.01);
    assert_int_not_equal(r->verdict, VERDICT_REGRESSED);
    p_two_runs = r->p_value;
    comparison_free(c);
    report_free(rc);

    /* One run again, but the unpaired test asked for: the same answer as for two runs. */
    {
        struct compare_options o;

        compare_options_init(&o);
        o.unpaired = true;
        c = compare_drifting(rb, cand, "run1", &o, true, PAIRING_OFF, &rc);
        r = &c->results[0].rows[0];
        assert_int_equal(r->rounds, 10);
        assert_int_equal(r->method, PVALUE_PERMUTATION_EXACT);
        assert_true(r->p_value == p_two_runs);
        comparison_free(c);
        report_free(rc);
    }
    report_free(rb);
}

/* Not pairable: no run id on one side, no positions (a sequential run), a metric with more or
 * fewer samples than rounds; five rounds of one run are pairable but too few to reach alpha. */
static void test_unpairable_reports_fall_back(void **state)
{
    double base[10], cand[10];
    struct {
        const char *id_a, *id_b;
        size_t pos_a, pos_b, n;
        enum pairing want;
    } cases[] = {
        {"run1", NULL, 10, 10, 10, PAIRING_NONE},   {"run1", "run1", 0, 0, 10, PAIRING_NONE},
        {"run1", "run1", 10, 9, 10, PAIRING_GAPS},  {"run1", "run1", 10, 10, 9, PAIRING_GAPS},
        {"run1", "run1", 5, 5, 5, PAIRING_TOO_FEW}, {"run1", "run1", 7, 7, 7, PAIRING_TOO_FEW},
        {"run1", "run1", 8, 8, 8, PAIRING_PAIRED},
    };

    drifting_pair(base, cand, 10);
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct report *ra = make_report("a", cases[k].id_a, cases[k].pos_a, base, cases[k].n);
        struct report *rb = make_report("b", cases[k].id_b, cases[k].pos_b, cand, cases[k].n);
        struct comparison *c = compare2(ra, rb);
        const struct compare_row *r = &c->results[0].rows[0];

        assert_int_equal(r->pairing, cases[k].want);
        if (cases[k].want == PAIRING_PAIRED)
            assert_int_equal(r->method, PVALUE_PAIRED_EXACT);
        else
            assert_int_equal(r->method, PVALUE_PERMUTATION_EXACT);
        assert_int_equal(r->rounds, cases[k].want == PAIRING_NONE || cases[k].want == PAIRING_GAPS
                                        ? 0
                                        : cases[k].n);
        comparison_free(c);
        report_free(ra);
        report_free(rb);
    }
}

/* A counter that is 0 in some rounds has no log ratio: plain differences, the interval
 * relative to the baseline mean. Base 0,2,0,2,... cand one more in every round: d = 1 each,
 * sd 0, so the interval is the point +1 / mean 1 = +100%, p = 2/1024. */
static void test_counter_with_zeros_pairs_differences(void **state)
{
    double base[10], cand[10];
    struct report *ra, *rb;
    struct comparison *c;
    const struct compare_row *r;

    for (size_t i = 0; i < 10; i++) {
        base[i] = i % 2 ? 2 : 0;
        cand[i] = base[i] + 1;
    }
    ra = make_report("a", "run1", 10, base, 10);
    rb = make_report("b", "run1", 10, cand, 10);
    c = compare2(ra, rb);
    r = &c->results[0].rows[0];
    assert_int_equal(r->pairing, PAIRING_PAIRED);
    assert_close(r->p_value, 2.0 / 1024, 1e-15);
    assert_close(r->ci_low_pct, 100, 1e-9);
    assert_close(r->ci_high_pct, 100, 1e-9);
    comparison_free(c);
    report_free(ra);
    report_free(rb);
}

/* Render @c in @format into a string (free() it). */
static char *rendered(const struct comparison *c, const char *format)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    if (render_comparison(format, f, c, err, sizeof(err)))
        fail_msg("%s: %s", format, err);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;

    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* Every format names the test: text and markdown mark the p-value (pd) and print a line on the
 * pairing, html names the test beside p and in a line, json per metric. Unpaired comparisons
 * say why. */
static void test_every_format_says_which_test(void **state)
{
    double base[10], cand[10];
    const char *ids[] = {"run1", "run2"};

    drifting_pair(base, cand, 10);
    for (size_t k = 0; k < 2; k++) {
        bool paired = k == 0;
        struct report *ra = make_report("a", "run1", 10, base, 10);
        struct report *rb = make_report("b", ids[k], 10, cand, 10);
        struct comparison *c = compare2(ra, rb);
        char *text = rendered(c, "text"), *md = rendered(c, "markdown"),
             *html = rendered(c, "html"), *js = rendered(c, "json");
        json_error_t jerr;
        json_t *root = json_loads(js, 0, &jerr), *cand0, *m0;

        /* the legend explains (pd) always; a paired p-value and the pairing line name it */
        assert_int_equal(count(text, "(pd)"), paired ? 3 : 1);
        assert_int_equal(count(md, "(pd)"), paired ? 3 : 1);
        assert_int_equal(strstr(text, "samples paired round by round") != NULL, paired);
        assert_int_equal(strstr(md, "samples paired round by round") != NULL, paired);
        assert_int_equal(strstr(html, "samples paired round by round") != NULL, paired);
        assert_int_equal(strstr(html, "paired sign-flip<") != NULL, paired);
        if (!paired) {
            assert_non_null(strstr(text, "a vs b: unpaired test (not one interleaved run"));
            assert_non_null(strstr(md, "a vs b: unpaired test (not one interleaved run"));
            assert_non_null(strstr(html, "a vs b: unpaired test (not one interleaved run"));
        }
        assert_non_null(root);
        cand0 = json_array_get(json_object_get(root, "candidates"), 0);
        assert_int_equal(json_is_true(json_object_get(cand0, "same_run")), paired);
        m0 = json_array_get(json_object_get(cand0, "metrics"), 0);
        assert_string_equal(json_string_value(json_object_get(m0, "test")),
                            paired ? "paired sign-flip (exact)" : "permutation (exact)");
        assert_string_equal(json_string_value(json_object_get(m0, "pairing")),
                            paired ? "paired" : "unpaired");
        json_decref(root);
        free(text);
        free(md);
        free(html);
        free(js);
        comparison_free(c);
        report_free(ra);
        report_free(rb);
    }
}

/*
 * A paired run where some metrics lack a round (a diagnostic an iteration did not give): the
 * full metric is paired, each lacking one is "unpaired (not one sample per round)", and the
 * pairing line names them, the first three and how many more, in every format.
 */
static void test_metrics_missing_a_round_are_named(void **state)
{
    static const char *const lacking[] = {"a_retransmits", "b_retransmits", "c_retransmits",
                                          "d_retransmits", "e_retransmits"};
    double base[10], cand[10];

    drifting_pair(base, cand, 10);
    for (size_t nlacking = 1; nlacking <= 5; nlacking += 4) {
        struct report *ra = make_report("a", "run1", 10, base, 10);
        struct report *rb = make_report("b", "run1", 10, cand, 10);
        struct comparison *c;

        for (size_t m = 0; m < nlacking; m++)
            for (size_t i = 0; i < 10; i++) {
                /* round 4 lacks it in the candidate */
                assert_int_equal(report_add_sample(ra, lacking[m], "retransmits", base[i] * 100,
                                                   err, sizeof(err)),
                                 0);
                if (i != 4)
                    assert_int_equal(report_add_sample(rb, lacking[m], "retransmits", cand[i] * 100,
                                                       err, sizeof(err)),
                                     0);
            }
        c = compare2(ra, rb);
        for (size_t i = 0; i < c->results[0].nrows; i++)
            assert_int_equal(c->results[0].rows[i].pairing, strcmp(c->results[0].rows[i].name, TX)
                                                                ? PAIRING_GAPS
                                                                : PAIRING_PAIRED);
        for (size_t f = 0; f < 3; f++) {
            static const char *const formats[] = {"text", "markdown", "html"};
            char *out = rendered(c, formats[f]);

            assert_non_null(strstr(out, "samples paired round by round"));
            if (nlacking == 1)
                assert_non_null(
                    strstr(out, "; a_retransmits was not given in every round: unpaired test"));
            else
                assert_non_null(strstr(out, "; a_retransmits, b_retransmits, c_retransmits and 2 "
                                            "more were not given in every round: unpaired test"));
            free(out);
        }
        {
            char *js = rendered(c, "json");

            assert_non_null(strstr(js, "\"pairing\": \"unpaired (not one sample per round)\""));
            free(js);
        }
        comparison_free(c);
        report_free(ra);
        report_free(rb);
    }
}

/* t quantiles with 9 degrees of freedom, qt(0.995, 9) and qt(0.8, 9), from an independent
 * incomplete-beta inversion. */
#define T995_9 3.249835541592
#define T80_9  0.883403859686

/* Rounds whose log ratios are exactly @d (baseline 1.0 each): spread known to the digit. */
static void pair_with_log_ratios(const double *d, double *base, double *cand, size_t n, double drop)
{
    for (size_t i = 0; i < n; i++) {
        base[i] = 1.0;
        cand[i] = exp(d[i]) * (1 - drop);
    }
}

static const struct compare_row *only_row(const struct comparison *c)
{
    assert_int_equal(c->nresults, 1);
    assert_int_equal(c->results[0].nrows, 1);
    return &c->results[0].rows[0];
}

/* Paired, 10 rounds, log ratios of sd 0.1: the resolution is (t(0.995, 9) + t(0.8, 9)) standard
 * errors of the mean log ratio, as a drop; 10% required needs (m / log(1 / 0.9))^2 * 10 rounds. */
static void test_resolution_by_hand(void **state)
{
    const double d[10] = {0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1, -0.1};
    double base[10], cand[10], sd = 0, m;
    struct compare_options o;
    struct report *ra, *rb;
    struct comparison *c;
    const struct compare_row *row;

    (void)state;
    for (size_t i = 0; i < 10; i++)
        sd += d[i] * d[i] / 9;
    sd = sqrt(sd);
    m = (T995_9 + T80_9) * sd / sqrt(10);
    pair_with_log_ratios(d, base, cand, 10, 0);
    ra = make_report("a", "run1", 10, base, 10);
    rb = make_report("b", "run1", 10, cand, 10);
    compare_options_init(&o);
    o.require_detectable_pct = 10;
    c = compare_with(ra, rb, &o);
    row = only_row(c);
    assert_int_equal(row->pairing, PAIRING_PAIRED);
    assert_close(row->detectable_pct, -expm1(-m) * 100, 1e-6);
    assert_true(row->detectable_pct > 10);
    assert_true(row->undetectable);
    assert_int_equal(row->rounds_needed,
                     (size_t)ceil(10 * (m / log(1 / 0.9)) * (m / log(1 / 0.9))));
    assert_int_equal(c->undetectable, 1);
    comparison_free(c);

    /* the same spread around a 40% drop: seen, so an answer, not inconclusive */
    {
        double big[10];
        struct report *rd;
        struct comparison *cd;

        pair_with_log_ratios(d, base, big, 10, 0.4);
        rd = make_report("b", "run1", 10, big, 10);
        cd = compare_with(ra, rd, &o);
        assert_int_equal(only_row(cd)->verdict, VERDICT_REGRESSED);
        assert_false(only_row(cd)->undetectable);
        assert_int_equal(only_row(cd)->rounds_needed, 0);
        assert_int_equal(cd->undetectable, 0);
        comparison_free(cd);
        report_free(rd);
    }

    /* asked for a coarser resolution than it has: nothing to report */
    o.require_detectable_pct = 20;
    c = compare_with(ra, rb, &o);
    assert_false(only_row(c)->undetectable);
    assert_int_equal(c->undetectable, 0);
    comparison_free(c);

    /* never finer than the threshold, below which no change is called */
    o.require_detectable_pct = 0;
    o.threshold_pct = 40;
    c = compare_with(ra, rb, &o);
    assert_close(only_row(c)->detectable_pct, 40, 1e-9);
    comparison_free(c);

    /* and a requirement finer than the threshold is refused, naming both */
    o.require_detectable_pct = 10;
    c = NULL;
    assert_int_equal(
        compare_reports(ra, (const struct report *const *)&rb, 1, &o, &c, err, sizeof(err)),
        -EINVAL);
    assert_null(c);
    assert_non_null(strstr(err, "finer than the threshold (40%)"));
    report_free(ra);
    report_free(rb);
}

/* A deterministic normal deviate (Box-Muller on a 64-bit LCG): the simulation is repeatable. */
static double normal(uint64_t *s)
{
    double u1, u2;

    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    u1 = ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    u2 = ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/*
 * What the resolution promises: a drop of that size is called regressed about 8 times in 10.
 * 300 interleaved runs of 12 rounds with per-round log ratios of sd 0.08 and a true drop of the
 * resolution worked out from the true spread; the paired test catches it in 240 +- a margin for
 * the approximation (normal theory vs a sign-flip test, the spread estimated from 12 rounds).
 * At half that drop it must catch clearly fewer: the figure means something.
 */
static void test_resolution_means_8_in_10(void **state)
{
    const size_t runs = 300, n = 12;
    const double sigma = 0.08;
    double t995_11 = 3.105806515539, t80_11 = 0.875529978074, m, drop;
    uint64_t seed = 42;
    struct compare_options o;
    size_t caught[2] = {0, 0};

    (void)state;
    m = (t995_11 + t80_11) * sigma / sqrt((double)n);
    drop = -expm1(-m);
    compare_options_init(&o);
    o.threshold_pct = 0.1;
    for (size_t k = 0; k < 2; k++) {
        for (size_t r = 0; r < runs; r++) {
            double d[12], base[12], cand[12];
            struct report *ra, *rb;
            struct comparison *c;

            for (size_t i = 0; i < n; i++)
                d[i] = sigma * normal(&seed);
            pair_with_log_ratios(d, base, cand, n, k ? drop / 2 : drop);
            ra = make_report("a", "run1", n, base, n);
            rb = make_report("b", "run1", n, cand, n);
            c = compare_with(ra, rb, &o);
            caught[k] += only_row(c)->verdict == VERDICT_REGRESSED;
            comparison_free(c);
            report_free(ra);
            report_free(rb);
        }
    }
    print_message("resolution %.2f%%: caught %zu of %zu; at half of it %zu\n", drop * 100,
                  caught[0], runs, caught[1]);
    assert_in_range(caught[0], runs * 65 / 100, runs * 92 / 100);
    assert_true(caught[1] < runs * 50 / 100);
}

/* Too few runs for any test to reach alpha: no resolution at all, and the gate says so (which
 * metrics are held to it: test_gate.c). */
static void test_resolution_too_few_and_rates(void **state)
{
    const double base[2] = {1.0, 1.1}, cand[2] = {1.0, 1.1};
    struct report *ra = make_report("a", NULL, 0, base, 2),
                  *rb = make_report("b", NULL, 0, cand, 2);
    struct compare_options o;
    struct comparison *c;
    char *md, *js;
    json_t *root;

    (void)state;
    compare_options_init(&o);
    o.require_detectable_pct = 10;
    c = compare_with(ra, rb, &o);
    assert_true(isinf(only_row(c)->detectable_pct));
    assert_true(only_row(c)->undetectable);
    md = rendered(c, "markdown");
    assert_non_null(strstr(md, "inconclusive: a required resolution was not reached"));
    assert_non_null(strstr(md, "no change could be called at alpha 0.01"));
    js = rendered(c, "json");
    root = json_loads(js, 0, NULL);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "undetectable")), 1);
    json_decref(root);
    free(md);
    free(js);
    comparison_free(c);
    report_free(ra);
    report_free(rb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_flip_matches_hand_count),
        cmocka_unit_test(test_sign_flip_exact_and_monte_carlo_agree),
        cmocka_unit_test(test_paired_min_rounds),
        cmocka_unit_test(test_pairing_cancels_drift),
        cmocka_unit_test(test_unpairable_reports_fall_back),
        cmocka_unit_test(test_counter_with_zeros_pairs_differences),
        cmocka_unit_test(test_every_format_says_which_test),
        cmocka_unit_test(test_metrics_missing_a_round_are_named),
        cmocka_unit_test(test_resolution_by_hand),
        cmocka_unit_test(test_resolution_means_8_in_10),
        cmocka_unit_test(test_resolution_too_few_and_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
