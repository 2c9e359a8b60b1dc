/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of results/edivisive: E-divisive means on known series (a step, two steps, a
 * ramp, a constant, a single outlier), the magnitude threshold, the minimum segment and bad
 * input. The series are built here from a level and a fixed pseudo-random noise of at most
 * +-1% (a linear congruential generator, so every run of the test sees the same values): the
 * steps are 10x larger than the noise, so where a change is, and that none is elsewhere, is
 * known by construction. The samples variant (runs of several samples) is checked against the
 * means variant, on runs of unequal size, on bad input, and through history_detect().
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "edivisive.h"
#include "history_detect.h"

#define N 30

/* Noise in [-amplitude, +amplitude] times @level, reproducible from @seed. */
static double noise(uint32_t *seed, double level, double amplitude)
{
    *seed = *seed * 1664525u + 1013904223u;
    return level * amplitude * (((double)(*seed >> 8) / (double)(1u << 24)) * 2 - 1);
}

static void fill(double *x, size_t n, size_t from, double level, uint32_t *seed)
{
    for (size_t i = from; i < n; i++)
        x[i] = level + noise(seed, level, 0.01);
}

static void detect(const double *x, size_t n, struct ed_change **out, size_t *nout)
{
    struct ed_options o;

    ed_options_default(&o);
    assert_int_equal(edivisive(x, n, &o, out, nout), 0);
}

/* How many change points E-divisive finds in @x with the default options. */
static size_t count_changes(const double *x, size_t n)
{
    struct ed_change *c;
    size_t nc;

    detect(x, n, &c, &nc);
    free(c);
    return nc;
}

/* Runs at a level each from where it starts, +-1% noise: every step is found where it is, with
 * its size, the means of the segments either side, and a p far below the significance. */
static void test_edivisive_finds_each_step_where_it_is(void **state)
{
    static const struct {
        const char *what;
        uint32_t seed;
        size_t n;         /* runs */
        size_t nlevels;   /* steps + 1 */
        size_t from[3];   /* the run each level starts at, the first 0 */
        double level[3];  /* each segment's mean */
        double change[2]; /* each step's relative change, expected */
        double within[2]; /* how close the measured change must be */
    } cases[] = {
        {"a 10% drop", 7, N, 2, {0, 15}, {10.0, 9.0}, {-0.10}, {0.01}},
        {"up, down", 11, 36, 3, {0, 12, 24}, {10.0, 12.0, 10.0}, {0.2, -0.16}, {0.05, 0.04}},
    };

    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        uint32_t seed = cases[k].seed;
        double x[36];
        struct ed_change *c;
        size_t n;

        for (size_t l = 0; l < cases[k].nlevels; l++) {
            size_t to = l + 1 < cases[k].nlevels ? cases[k].from[l + 1] : cases[k].n;

            fill(x, to, cases[k].from[l], cases[k].level[l], &seed);
        }
        detect(x, cases[k].n, &c, &n);
        if (n != cases[k].nlevels - 1)
            fail_msg("%s: %zu change points, not %zu", cases[k].what, n, cases[k].nlevels - 1);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(c[i].index, cases[k].from[i + 1]);
            assert_true(fabs(c[i].change - cases[k].change[i]) < cases[k].within[i]);
            assert_true(fabs(c[i].mean_before - cases[k].level[i]) < 0.1);
            assert_true(fabs(c[i].mean_after - cases[k].level[i + 1]) < 0.1);
            assert_true(c[i].p < 0.01);
        }
        free(c);
    }
}

/* A ramp from 10 to 13 has no single step: E-divisive cuts it into segments; each cut must go
 * the way the ramp goes and be at least the 5% threshold. */
static void test_edivisive_cuts_a_ramp_upward_only(void **state)
{
    uint32_t seed = 3;
    double x[N];
    struct ed_change *c;
    size_t n;

    for (size_t i = 0; i < N; i++)
        x[i] = 10.0 + 3.0 * (double)i / (N - 1) + noise(&seed, 10.0, 0.01);
    detect(x, N, &c, &n);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        assert_true(c[i].change >= 0.05);
        assert_true(c[i].index >= 3 && c[i].index <= N - 3);
    }
    free(c);
}

static void test_edivisive_finds_nothing_in_a_constant(void **state)
{
    double x[N];
    struct ed_change *c = (struct ed_change *)1;
    size_t n = 99;

    for (size_t i = 0; i < N; i++)
        x[i] = 4.25;
    detect(x, N, &c, &n);
    assert_int_equal(n, 0);
    assert_null(c);
}

static void test_edivisive_ignores_a_single_outlier(void **state)
{
    uint32_t seed = 5;
    double x[N];

    fill(x, N, 0, 10.0, &seed);
    x[14] = 15.0;
    assert_int_equal(count_changes(x, N), 0);
}

static void test_edivisive_drops_a_step_below_the_magnitude_threshold(void **state)
{
    uint32_t seed = 9;
    double x[N];
    struct ed_options o;
    struct ed_change *c;
    size_t n;

    /* 3%: significant against 0.1% noise, but below the default 5% */
    for (size_t i = 0; i < N; i++)
        x[i] = (i < 15 ? 10.0 : 10.3) + noise(&seed, 10.0, 0.001);
    assert_int_equal(count_changes(x, N), 0);
    ed_options_default(&o);
    o.min_magnitude = 0.01;
    assert_int_equal(edivisive(x, N, &o, &c, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].index, 15);
    free(c);
}

static void test_edivisive_keeps_the_minimum_segment_at_the_ends(void **state)
{
    uint32_t seed = 13;
    double x[N];
    struct ed_change *c;
    size_t n;

    /* the last two runs dropped: too few after the change for the default segment of 3, so
     * a change can be no later than N - 3 */
    fill(x, N - 2, 0, 10.0, &seed);
    fill(x, N, N - 2, 8.0, &seed);
    detect(x, N, &c, &n);
    for (size_t i = 0; i < n; i++)
        assert_true(c[i].index >= 3 && c[i].index <= N - 3);
    free(c);
    /* one more run down, and it is a change point */
    fill(x, N, N - 3, 8.0, &seed);
    detect(x, N, &c, &n);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].index, N - 3);
    free(c);
}

static void test_edivisive_is_deterministic(void **state)
{
    uint32_t seed = 17;
    double x[N];
    struct ed_change *a, *b;
    size_t na, nb;

    fill(x, 15, 0, 10.0, &seed);
    fill(x, N, 15, 9.5, &seed);
    detect(x, N, &a, &na);
    detect(x, N, &b, &nb);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(a[i].index, b[i].index);
        assert_true(a[i].p == b[i].p);
    }
    free(a);
    free(b);
}

static void test_edivisive_refuses_bad_input(void **state)
{
    double x[N] = {0};
    struct ed_options o;
    struct ed_change *c;
    size_t n;

    ed_options_default(&o);
    x[3] = NAN;
    assert_int_equal(edivisive(x, N, &o, &c, &n), -EINVAL);
    x[3] = INFINITY;
    assert_int_equal(edivisive(x, N, &o, &c, &n), -EINVAL);
    x[3] = 0;
    o.min_segment = 1;
    assert_int_equal(edivisive(x, N, &o, &c, &n), -EINVAL);
    ed_options_default(&o);
    o.significance = 0;
    assert_int_equal(edivisive(x, N, &o, &c, &n), -EINVAL);
    ed_options_default(&o);
    /* too short to split: no change, no error */
    assert_int_equal(edivisive(x, 5, &o, &c, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(edivisive(x, 0, &o, &c, &n), 0);
    assert_int_equal(n, 0);
}

/* One sample per run is the series of run means: edivisive_samples() must say exactly what
 * edivisive() says, change points, means and p alike. */
static void test_samples_with_one_per_run_match_the_means(void **state)
{
    uint32_t seed = 11;
    double x[N];
    size_t off[N + 1], n1, n2;
    struct ed_change *c1, *c2;
    struct ed_options o;

    fill(x, 10, 0, 10.0, &seed);
    fill(x, 20, 10, 11.0, &seed);
    fill(x, N, 20, 9.5, &seed);
    for (size_t i = 0; i <= N; i++)
        off[i] = i;
    ed_options_default(&o);
    assert_int_equal(edivisive(x, N, &o, &c1, &n1), 0);
    assert_int_equal(edivisive_samples(x, off, N, &o, &c2, &n2), 0);
    assert_int_equal(n1, 2);
    assert_int_equal(n2, n1);
    for (size_t k = 0; k < n1; k++) {
        assert_int_equal(c1[k].index, c2[k].index);
        assert_true(c1[k].mean_before == c2[k].mean_before);
        assert_true(c1[k].mean_after == c2[k].mean_after);
        assert_true(c1[k].p == c2[k].p);
    }
    free(c1);
    free(c2);
}

/*
 * Runs of 1 to 4 samples (run r has 1 + r % 4), 10% drop from run 12 on: the change is found
 * between runs 11 and 12, as a run index, and its means are those of the samples on each side,
 * so a run of 4 samples weighs four times one of 1. The samples are built so that the means
 * are known: run r's samples are level * (1 + e) with e cycling through -1%, +1%, 0, ...
 * exactly cancelling within every 2 samples.
 */
static void test_samples_step_between_runs_of_unequal_size(void **state)
{
    double x[4 * N], before = 0, after = 0;
    size_t off[N + 1], nb = 0, na = 0, n;
    struct ed_change *c;
    struct ed_options o;
    const double e[] = {-0.01, 0.01, 0.005, -0.005};

    off[0] = 0;
    for (size_t r = 0; r < N; r++) {
        double level = r < 12 ? 10.0 : 9.0;

        off[r + 1] = off[r] + 1 + r % 4;
        for (size_t i = off[r]; i < off[r + 1]; i++) {
            x[i] = level * (1 + e[(i + r) % 4]);
            if (r < 12) {
                before += x[i];
                nb++;
            } else {
                after += x[i];
                na++;
            }
        }
    }
    ed_options_default(&o);
    assert_int_equal(edivisive_samples(x, off, N, &o, &c, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].index, 12);
    assert_true(fabs(c[0].mean_before - before / (double)nb) < 1e-12);
    assert_true(fabs(c[0].mean_after - after / (double)na) < 1e-12);
    assert_true(fabs(c[0].change + 0.10) < 0.005);
    assert_true(c[0].p < 0.01);
    free(c);
}

/* A run without samples, offsets that do not start at 0, a sample that is not a number. */
static void test_samples_refuse_bad_input(void **state)
{
    double x[N];
    size_t off[N + 1], n;
    struct ed_change *c;
    struct ed_options o;
    uint32_t seed = 3;

    fill(x, N, 0, 10.0, &seed);
    ed_options_default(&o);
    for (size_t i = 0; i <= N; i++)
        off[i] = i;
    off[5] = off[4]; /* run 4 empty */
    assert_int_equal(edivisive_samples(x, off, N, &o, &c, &n), -EINVAL);
    off[5] = 5;
    off[0] = 1;
    assert_int_equal(edivisive_samples(x, off, N, &o, &c, &n), -EINVAL);
    off[0] = 0;
    x[7] = NAN;
    assert_int_equal(edivisive_samples(x, off, N, &o, &c, &n), -EINVAL);
    assert_null(c);
    assert_int_equal(n, 0);
}

/*
 * history_detect() with on_samples: 30 runs of 4 samples, run means exactly 10 then 9 from run 15
 * (a clean step), but within each run the samples are mean * (1 -+ 40%). The run means show the
 * step plainly; among samples spread +-40% around it, 60 a side leave the 10% step at about 1.4
 * standard errors, which the permutation test does not take for a change. So on_samples finds
 * nothing where the means find run 15 — exactly what edivisive_samples() says on the same data —
 * and a series with one run that kept no samples falls back to its means.
 */
static void test_history_detect_on_samples_and_its_fallback(void **state)
{
    static double samples[2][N][4];
    struct history_point points[2][N];
    struct history_series series[2] = {0};
    struct history_detection d;
    struct ed_options o;
    char err[256];
    double flat[N * 4];
    size_t off[N + 1], n;
    struct ed_change *c;

    for (size_t k = 0; k < 2; k++) {
        for (size_t r = 0; r < N; r++) {
            double level = r < 15 ? 10.0 : 9.0;

            for (size_t j = 0; j < 4; j++)
                samples[k][r][j] = level * (1 + (j % 2 ? 0.4 : -0.4));
            points[k][r] = (struct history_point){.mean = level,
                                                  .samples = samples[k][r],
                                                  .nsamples = 4,
                                                  .date = "2026-01-01",
                                                  .revision = "r"};
        }
        series[k].metric = k ? "with_a_run_without_samples" : "all_samples";
        series[k].higher_is_better = true;
        series[k].points = points[k];
        series[k].npoints = N;
    }
    points[1][20].nsamples = 0;

    ed_options_default(&o);
    assert_int_equal(history_detect(series, 2, &o, 5, &d, err, sizeof(err)), 0);
    assert_int_equal(d.nchanges, 2);
    assert_int_equal(d.changes[0].c.index, 15);
    assert_int_equal(d.changes[1].c.index, 15);
    history_detection_free(&d);

    o.on_samples = true;
    for (size_t r = 0; r < N; r++)
        for (size_t j = 0; j < 4; j++)
            flat[4 * r + j] = samples[0][r][j];
    for (size_t r = 0; r <= N; r++)
        off[r] = 4 * r;
    assert_int_equal(edivisive_samples(flat, off, N, &o, &c, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(history_detect(series, 2, &o, 5, &d, err, sizeof(err)), 0);
    assert_int_equal(d.nchanges, 1);
    assert_int_equal(d.changes[0].series, 1);
    assert_int_equal(d.changes[0].c.index, 15);
    history_detection_free(&d);
}

/* The energy statistic of x[a..t) against x[t..k) at alpha = 2, written out as in the paper. */
static double energy_q(const double *x, size_t a, size_t t, size_t k)
{
    double m = (double)(t - a), n = (double)(k - t), mx = 0, my = 0, ssx = 0, ssy = 0;

    for (size_t i = a; i < t; i++)
        mx += x[i] / m;
    for (size_t i = t; i < k; i++)
        my += x[i] / n;
    for (size_t i = a; i < t; i++)
        ssx += (x[i] - mx) * (x[i] - mx);
    for (size_t i = t; i < k; i++)
        ssy += (x[i] - my) * (x[i] - my);
    return m * n / (m + n) *
           (2 * (mx - my) * (mx - my) - 2 * ssx / (m * (m - 1)) - 2 * ssy / (n * (n - 1)));
}

/*
 * Detection tries windows (so that a bump is seen), but each change point it reports sits at
 * the strongest split between its neighbours, the least-squares place of a step: 200 series of
 * a 10% step at a random run under noise of +-8%, where a window's best split often lies a run
 * or two off.
 */
static void test_edivisive_places_each_change_between_its_neighbours(void **state)
{
    uint32_t seed = 11;
    size_t found = 0, exact = 0;

    (void)state;
    for (int series = 0; series < 200; series++) {
        size_t at = 5 + (seed >> 8) % 21, n;
        struct ed_change *c;
        struct ed_options o;
        double x[N];

        for (size_t i = 0; i < N; i++)
            x[i] = (i < at ? 10.0 : 9.0) + noise(&seed, 10.0, 0.08);
        ed_options_default(&o);
        assert_int_equal(edivisive(x, N, &o, &c, &n), 0);
        for (size_t k = 0; k < n; k++) {
            size_t a = k ? c[k - 1].index : 0, end = k + 1 < n ? c[k + 1].index : N, best = 0;
            double best_q = -INFINITY;

            for (size_t t = a + o.min_segment; t + o.min_segment <= end; t++)
                if (energy_q(x, a, t, end) > best_q) {
                    best_q = energy_q(x, a, t, end);
                    best = t;
                }
            assert_int_equal(c[k].index, best);
        }
        found += n == 1;
        exact += n == 1 && c[0].index == at;
        free(c);
    }
    print_message("10%% steps under +-8%% noise: found alone in %zu of 200, at the run in %zu\n",
                  found, exact);
    assert_true(found > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edivisive_finds_each_step_where_it_is),
        cmocka_unit_test(test_edivisive_cuts_a_ramp_upward_only),
        cmocka_unit_test(test_edivisive_finds_nothing_in_a_constant),
        cmocka_unit_test(test_edivisive_ignores_a_single_outlier),
        cmocka_unit_test(test_edivisive_drops_a_step_below_the_magnitude_threshold),
        cmocka_unit_test(test_edivisive_keeps_the_minimum_segment_at_the_ends),
        cmocka_unit_test(test_edivisive_is_deterministic),
        cmocka_unit_test(test_edivisive_refuses_bad_input),
        cmocka_unit_test(test_samples_with_one_per_run_match_the_means),
        cmocka_unit_test(test_samples_step_between_runs_of_unequal_size),
        cmocka_unit_test(test_samples_refuse_bad_input),
        cmocka_unit_test(test_history_detect_on_samples_and_its_fallback),
        cmocka_unit_test(test_edivisive_places_each_change_between_its_neighbours),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
