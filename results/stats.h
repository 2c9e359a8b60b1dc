/* SPDX-License-Identifier: MIT */
/*
 * stats - descriptive statistics of per-iteration samples, and the Student t distribution
 *
 * Benchmarks keep few samples (5 by default), so intervals use Student's t, never the normal
 * approximation, and t quantiles are computed from the regularized incomplete beta function
 * for any degrees of freedom (Welch's test gives fractional ones), not looked up in a table.
 * Everything here is pure computation: no allocation visible to callers, no I/O.
 */
#ifndef BURETTE_STATS_H
#define BURETTE_STATS_H

#include <stddef.h>

/*
 * Summary of n samples. std_dev is the sample standard deviation (n - 1 in the denominator),
 * 0 for a single sample. Fields that cannot be known are NAN: the median of a report read
 * without samples, the confidence interval when n < 2.
 */
struct stats {
    size_t n;
    double mean;
    double std_dev;
    double min;
    double max;
    double median;
    double ci95_low; /* 95% confidence interval of the mean (Student t, n - 1 df) */
    double ci95_high;
};

/**
 * stats_compute() - Summarise samples
 * @x:		Samples, finite
 * @n:		Number of samples, at least 1
 * @out:	Summary
 *
 * Return: 0 on success, -EINVAL if @n is 0 or a sample is not finite
 */
int stats_compute(const double *x, size_t n, struct stats *out);

/**
 * stats_ci95() - 95% confidence interval of a mean from its summary (Student t, n - 1 df)
 * @mean:	Sample mean
 * @std_dev:	Sample standard deviation
 * @n:		Number of samples
 * @low:	Lower bound, NAN when @n < 2
 * @high:	Upper bound, NAN when @n < 2
 */
void stats_ci95(double mean, double std_dev, size_t n, double *low, double *high);

/**
 * stats_betainc() - Regularized incomplete beta function I_x(a, b)
 * @a:		Shape parameter, > 0
 * @b:		Shape parameter, > 0
 * @x:		Point in [0, 1]
 *
 * Return: I_x(a, b) in [0, 1], NAN for arguments out of domain
 */
double stats_betainc(double a, double b, double x);

/**
 * stats_t_cdf() - Cumulative distribution function of Student's t
 * @t:		Point
 * @df:		Degrees of freedom, > 0 (need not be an integer)
 *
 * Return: P(T <= @t), NAN if @df <= 0
 */
double stats_t_cdf(double t, double df);

/**
 * stats_t_quantile() - Inverse of stats_t_cdf()
 * @p:		Probability in (0, 1)
 * @df:		Degrees of freedom, > 0
 *
 * Return: t such that P(T <= t) = @p, NAN for arguments out of domain
 */
double stats_t_quantile(double p, double df);

/**
 * stats_welch() - Welch's unequal-variance t-test from two summaries
 * @m1, @s1, @n1:	Mean, sample standard deviation and size of the first sample
 * @m2, @s2, @n2:	Same for the second
 * @df:		Welch-Satterthwaite degrees of freedom (may be NULL)
 *
 * When both standard deviations are 0, the means are either equal (p = 1) or differ with no
 * noise at all (p = 0).
 *
 * Return: two-sided p-value, NAN when either size is below 2
 */
double stats_welch(double m1, double s1, size_t n1, double m2, double s2, size_t n2, double *df);

#endif /* BURETTE_STATS_H */
