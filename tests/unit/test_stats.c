/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of results/stats: summaries, the incomplete beta function, Student's t and
 * Welch's test. Every expected number is computed independently of this code; each test says
 * how (closed forms by hand, python3's statistics module, or a numerical integration shown).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats.h"

#define assert_close(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

/*
 * Expected: python3 -c 'import statistics as s; x=[1.52,1.55,1.50,1.54,1.53];
 *                       print(s.mean(x), s.stdev(x), s.median(x))'
 *           -> 1.528 0.01923538406167136 1.53
 * CI: mean +- t(0.975, 4) * sd / sqrt(5), t(0.975, 4) = 2.7764451051977987 from published
 * t tables (checked by integrating the t density numerically: tail area 0.0500000000).
 */
static void test_stats_summary_matches_python_statistics(void **state)
{
    const double x[] = {1.52, 1.55, 1.50, 1.54, 1.53};
    const double half = 2.7764451051977987 * 0.01923538406167136 / sqrt(5);
    struct stats st;

    assert_int_equal(stats_compute(x, 5, &st), 0);
    assert_int_equal(st.n, 5);
    assert_close(st.mean, 1.528, 1e-12);
    assert_close(st.std_dev, 0.01923538406167136, 1e-12);
    assert_close(st.min, 1.50, 0);
    assert_close(st.max, 1.55, 0);
    assert_close(st.median, 1.53, 0);
    assert_close(st.ci95_low, 1.528 - half, 1e-9);
    assert_close(st.ci95_high, 1.528 + half, 1e-9);
}

/* By hand: {4, 1, 3, 2} sorted is 1 2 3 4, median (2 + 3) / 2 = 2.5, mean 2.5, squared
 * deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, variance 5 / 3, sd sqrt(5/3) = 1.2909944487358056. */
static void test_stats_even_count_median_is_mean_of_middle_pair(void **state)
{
    const double x[] = {4, 1, 3, 2};
    struct stats st;

    assert_int_equal(stats_compute(x, 4, &st), 0);
    assert_close(st.median, 2.5, 0);
    assert_close(st.mean, 2.5, 0);
    assert_close(st.std_dev, 1.2909944487358056, 1e-12);
}

static void test_stats_single_sample_has_no_interval(void **state)
{
    const double x[] = {7.5};
    struct stats st;

    assert_int_equal(stats_compute(x, 1, &st), 0);
    assert_close(st.mean, 7.5, 0);
    assert_close(st.std_dev, 0, 0);
    assert_true(isnan(st.ci95_low) && isnan(st.ci95_high));
}

/* Large, nearly equal values: a one-pass sum of squares would cancel. Deviations from the
 * mean 1e9 + 2 are -2 -1 0 1 2, variance 10 / 4 = 2.5 (by hand). */
static void test_stats_variance_keeps_precision_on_large_values(void **state)
{
    const double x[] = {1e9, 1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4};
    struct stats st;

    assert_int_equal(stats_compute(x, 5, &st), 0);
    assert_close(st.std_dev, sqrt(2.5), 1e-6);
}

static void test_stats_refuses_empty_and_non_finite(void **state)
{
    const double bad[] = {1, NAN};
    struct stats st;

    assert_int_equal(stats_compute(bad, 0, &st), -EINVAL);
    assert_int_equal(stats_compute(bad, 2, &st), -EINVAL);
}

/* Closed forms: I_x(a, 1) = x^a, I_x(1, b) = 1 - (1 - x)^b, I_0.5(a, a) = 1/2 by symmetry. */
static void test_betainc_matches_closed_forms(void **state)
{
    assert_close(stats_betainc(3, 1, 0.4), pow(0.4, 3), 1e-13);
    assert_close(stats_betainc(1, 4, 0.3), 1 - pow(0.7, 4), 1e-13);
    assert_close(stats_betainc(7.5, 7.5, 0.5), 0.5, 1e-13);
    assert_close(stats_betainc(2.5, 0.5, 0.999), 1 - stats_betainc(0.5, 2.5, 0.001), 1e-13);
    assert_close(stats_betainc(2, 3, 0), 0, 0);
    assert_close(stats_betainc(2, 3, 1), 1, 0);
    assert_true(isnan(stats_betainc(-1, 3, 0.5)));
    assert_true(isnan(stats_betainc(2, 3, 1.5)));
}

/*
 * General arguments, away from any closed form, against mpmath 1.3's betainc (40 digits): small
 * and large parameters, both tails, and x on either side of the continued fraction's switch.
 */
static void test_betainc_matches_independent_reference(void **state)
{
    static const struct {
        double a, b, x, want;
    } ref[] = {
        {0.3, 0.7, 0.2, 0.53759664774650968131},    {2.7, 11.3, 0.15, 0.38835162097873626888},
        {14.5, 3.25, 0.83, 0.50473425780327935477}, {50.5, 0.5, 0.97, 0.080181106303317772693},
        {0.5, 50.5, 0.02, 0.845821418273207917},    {123.4, 87.6, 0.58, 0.44034869087659540536},
        {4.5, 0.5, 0.995, 0.83632747332618312561},
    };

    for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++)
        assert_close(stats_betainc(ref[i].a, ref[i].b, ref[i].x), ref[i].want, 1e-12);
}

/* Closed forms of the t CDF: df = 1 (Cauchy) F(t) = 1/2 + atan(t) / pi;
 * df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2)). */
static void test_t_cdf_matches_closed_forms(void **state)
{
    for (double t = -6; t <= 6; t += 0.75) {
        assert_close(stats_t_cdf(t, 1), 0.5 + atan(t) / M_PI, 1e-12);
        assert_close(stats_t_cdf(t, 2), 0.5 + t / (2 * sqrt(2 + t * t)), 1e-12);
    }
}

/*
 * Quantiles: df = 1: t = tan(pi (p - 1/2)), so t(0.975, 1) = tan(0.475 pi) = 12.706204736174698;
 * df = 2: t = (2p - 1) / sqrt(2 p (1 - p)), so t(0.975, 2) = 4.302652729749464 (by hand from
 * the closed-form CDF above); t(0.975, 4) = 2.7764451051977987 and t(0.995, 10) =
 * 3.169272672616962 from published tables; a huge df tends to the normal quantile
 * 1.959963984540054.
 */
static void test_t_quantile_matches_closed_forms_and_tables(void **state)
{
    assert_close(stats_t_quantile(0.975, 1), tan(0.475 * M_PI), 1e-9);
    assert_close(stats_t_quantile(0.975, 2), 0.95 / sqrt(2 * 0.975 * 0.025), 1e-10);
    assert_close(stats_t_quantile(0.975, 4), 2.7764451051977987, 1e-10);
    assert_close(stats_t_quantile(0.995, 10), 3.169272672616962, 1e-9);
    assert_close(stats_t_quantile(0.975, 1e7), 1.959963984540054, 1e-6);
    assert_close(stats_t_quantile(0.025, 4), -2.7764451051977987, 1e-10);
    assert_close(stats_t_quantile(0.5, 3), 0, 0);
    /* Fractional degrees of freedom, as Welch's test produces: round trip through the CDF. */
    assert_close(stats_t_cdf(stats_t_quantile(0.9, 5.8823529), 5.8823529), 0.9, 1e-12);
    assert_true(isnan(stats_t_quantile(0, 4)));
    assert_true(isnan(stats_t_quantile(0.5, 0)));
}

/*
 * Welch: means 10 and 12, sd 1 and 2, n 5 each. By hand: se^2 = 1/5 + 4/5 = 1, t = 2,
 * df = 1 / (0.2^2 / 4 + 0.8^2 / 4) = 5.88235294117647. Two-sided p by numerical integration
 * of the t density (python3, composite Simpson, 200000 steps over [2, 2000]):
 *   pdf = lambda t: exp(lgamma((df+1)/2) - lgamma(df/2)) / sqrt(df*pi) * (1+t*t/df)**(-(df+1)/2)
 *   -> p = 0.0933788894871052
 */
static void test_welch_matches_numerical_integration(void **state)
{
    double df;
    double p = stats_welch(10, 1, 5, 12, 2, 5, &df);

    assert_close(df, 5.88235294117647, 1e-12);
    assert_close(p, 0.0933788894871052, 1e-8);
    /* Symmetric in its arguments. */
    assert_close(stats_welch(12, 2, 5, 10, 1, 5, NULL), p, 1e-15);
}

static void test_welch_degenerate_cases(void **state)
{
    assert_true(isnan(stats_welch(1, 0, 1, 2, 0, 5, NULL)));
    assert_close(stats_welch(3, 0, 5, 3, 0, 5, NULL), 1, 0);
    assert_close(stats_welch(3, 0, 5, 4, 0, 5, NULL), 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_summary_matches_python_statistics),
        cmocka_unit_test(test_betainc_matches_independent_reference),
        cmocka_unit_test(test_stats_even_count_median_is_mean_of_middle_pair),
        cmocka_unit_test(test_stats_single_sample_has_no_interval),
        cmocka_unit_test(test_stats_variance_keeps_precision_on_large_values),
        cmocka_unit_test(test_stats_refuses_empty_and_non_finite),
        cmocka_unit_test(test_betainc_matches_closed_forms),
        cmocka_unit_test(test_t_cdf_matches_closed_forms),
        cmocka_unit_test(test_t_quantile_matches_closed_forms_and_tables),
        cmocka_unit_test(test_welch_matches_numerical_integration),
        cmocka_unit_test(test_welch_degenerate_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
