/* SPDX-License-Identifier: MIT */
/*
 * stats - descriptive statistics and the Student t distribution; see stats.h.
 *
 * The t distribution is reached through the regularized incomplete beta function:
 * P(|T| > t) = I_{df/(df+t^2)}(df/2, 1/2). I_x(a, b) is evaluated with its continued fraction
 * (modified Lentz), on the side of the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the
 * fraction converges fast. Quantiles invert the tail probability by bisection: slower than
 * Newton's method but it cannot diverge, and benchmarks ask for a handful of quantiles.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define BETACF_MAX_ITER 500
#define BETACF_EPS      1e-15
#define BETACF_TINY     1e-300

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int stats_compute(const double *x, size_t n, struct stats *out)
{
    double *sorted = NULL;
    double sum = 0, sq = 0;
    int rc = 0;

    if (!n)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return -EINVAL;
    sorted = malloc(n * sizeof(*sorted));
    if (!sorted)
        return -ENOMEM;
    memcpy(sorted, x, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_double);

    /* Two passes: the mean first, then squared deviations from it, which keeps the variance
     * of large nearly-equal values (1e9 pps +- 10) from cancelling to garbage. */
    for (size_t i = 0; i < n; i++)
        sum += sorted[i];
    out->n = n;
    out->mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += (sorted[i] - out->mean) * (sorted[i] - out->mean);
    out->std_dev = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
    out->min = sorted[0];
    out->max = sorted[n - 1];
    out->median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    stats_ci95(out->mean, out->std_dev, n, &out->ci95_low, &out->ci95_high);
    free(sorted);
    return rc;
}

void stats_ci95(double mean, double std_dev, size_t n, double *low, double *high)
{
    double half;

    if (n < 2) {
        *low = *high = NAN;
        return;
    }
    half = stats_t_quantile(0.975, (double)(n - 1)) * std_dev / sqrt((double)n);
    *low = mean - half;
    *high = mean + half;
}

/* One step of the modified Lentz method for the term @aa: update @c and @d, never letting
 * them reach 0; return the factor the fraction's value is multiplied by. */
static double lentz_step(double aa, double *c, double *d)
{
    *d = 1 + aa * *d;
    if (fabs(*d) < BETACF_TINY)
        *d = BETACF_TINY;
    *c = 1 + aa / *c;
    if (fabs(*c) < BETACF_TINY)
        *c = BETACF_TINY;
    *d = 1 / *d;
    return *d * *c;
}

/* Continued fraction of I_x(a, b), converging for x < (a + 1) / (a + b + 2). */
static double betacf(double a, double b, double x)
{
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap, h;

    if (fabs(d) < BETACF_TINY)
        d = BETACF_TINY;
    d = 1 / d;
    h = d;
    for (int m = 1; m <= BETACF_MAX_ITER; m++) {
        double m2 = 2.0 * m, aa, del;

        /* Even step of the fraction. */
        aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        h *= lentz_step(aa, &c, &d);
        /* Odd step. */
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        del = lentz_step(aa, &c, &d);
        h *= del;
        if (fabs(del - 1) < BETACF_EPS)
            break;
    }
    return h;
}

double stats_betainc(double a, double b, double x)
{
    double front;

    if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1))
        return NAN;
    if (x == 0 || x == 1)
        return x;
    front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2))
        return front * betacf(a, b, x) / a;
    return 1 - front * betacf(b, a, 1 - x) / b;
}

/* P(T > t) for t >= 0, computed directly so that small tails keep their precision. */
static double t_upper_tail(double t, double df)
{
    return 0.5 * stats_betainc(df / 2, 0.5, df / (df + t * t));
}

double stats_t_cdf(double t, double df)
{
    if (!(df > 0) || isnan(t))
        return NAN;
    if (isinf(t))
        return t > 0 ? 1 : 0;
    return t >= 0 ? 1 - t_upper_tail(t, df) : t_upper_tail(-t, df);
}

double stats_t_quantile(double p, double df)
{
    double tail, lo = 0, hi = 1;

    if (!(df > 0) || !(p > 0) || !(p < 1))
        return NAN;
    if (p < 0.5)
        return -stats_t_quantile(1 - p, df);
    if (p == 0.5)
        return 0;
    tail = 1 - p;
    while (t_upper_tail(hi, df) > tail) {
        lo = hi;
        hi *= 2;
        if (hi > 1e300)
            return INFINITY;
    }
    /* Bisection to the last bit: about 60 halvings of a bracket within a factor of two. */
    for (int i = 0; i < 200 && hi - lo > DBL_EPSILON * hi; i++) {
        double mid = (lo + hi) / 2;

        if (t_upper_tail(mid, df) > tail)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

double stats_welch(double m1, double s1, size_t n1, double m2, double s2, size_t n2, double *df)
{
    double v1, v2, se2, t, dof;

    if (df)
        *df = NAN;
    if (n1 < 2 || n2 < 2)
        return NAN;
    v1 = s1 * s1 / (double)n1;
    v2 = s2 * s2 / (double)n2;
    se2 = v1 + v2;
    if (se2 == 0)
        return m1 == m2 ? 1 : 0;
    dof = se2 * se2 / (v1 * v1 / (double)(n1 - 1) + v2 * v2 / (double)(n2 - 1));
    if (df)
        *df = dof;
    t = fabs(m1 - m2) / sqrt(se2);
    return 2 * t_upper_tail(t, dof);
}
