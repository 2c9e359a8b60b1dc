/* SPDX-License-Identifier: MIT */
/*
 * edivisive - change points of one series: E-divisive means with a permutation test
 *
 * The detector of `burette history detect`. It looks at one series (one metric under one config
 * on one host, a value per run, oldest first) and says where its mean moved, never mixing series.
 *
 * Method: the divisive energy-statistic procedure of Matteson & James, "A Nonparametric Approach
 * for Multiple Change Point Analysis of Multivariate Data", JASA 109(505), 2014, with the
 * exponent alpha = 2, at which the energy distance between two samples measures the difference of
 * their means only ("E-divisive means", the variant MongoDB's CI and Apache Otava, formerly
 * Hunter, run over performance history: Fleming et al., "Hunter: Using Change Point Detection to
 * Hunt for Performance Regressions", ICPE 2023). Each step splits the segment whose best split
 * is strongest, if a permutation test (observations shuffled within each segment) finds that
 * split significant; then, as Otava does, change points whose relative magnitude is below a
 * threshold are dropped and their neighbours merged, weakest first, because a 1% shift is real
 * but not worth a nightly alarm. Last, each change point is moved to the strongest split
 * between its neighbours: the search looks at windows so that a bump is seen, but the place
 * of a step is best estimated from the two levels it separates.
 *
 * Invariants: results are deterministic (the permutations come from a fixed-seed generator), so
 * the same history always gives the same verdict; change points are reported oldest first; no
 * segment is shorter than the minimum segment length.
 */
#ifndef BURETTE_EDIVISIVE_H
#define BURETTE_EDIVISIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ed_options {
    double significance;   /* a split is kept if its permutation p-value is below this */
    unsigned permutations; /* permutation rounds per step */
    double min_magnitude;  /* minimum |mean after - mean before| / |mean before| */
    size_t min_segment;    /* fewest runs on either side of a change point (at least 2) */
    size_t window;         /* longest part after a candidate tried besides the segment's rest */
    uint64_t seed;         /* of the permutation generator */
    bool on_samples;       /* history_detect(): every sample of each run, not the run means */
};

/* history_detect()'s input by default: see README, "Change-point detection" */
#define ED_DEFAULT_ON_SAMPLES false

/* One change point: runs [index, ...) differ from the runs before. */
struct ed_change {
    size_t index;       /* first run after the change */
    double mean_before; /* of the segment that ends at @index */
    double mean_after;  /* of the segment that starts at @index */
    double change;      /* (mean_after - mean_before) / |mean_before| */
    double p;           /* permutation p-value when the split was found */
};

/**
 * ed_options_default() - Significance 0.01, 499 permutations, 5% magnitude, segments of 3, window
 * 50, seed 1
 */
void ed_options_default(struct ed_options *o);

/**
 * edivisive() - Find the change points of @x
 * @x:		Series, oldest first
 * @n:		Its length
 * @o:		Options (ed_options_default() for the defaults)
 * @out:	Change points, oldest first; free() it (NULL when there are none)
 * @nout:	Their number
 *
 * Return: 0, -EINVAL for bad options or a non-finite value in @x, -ENOMEM
 */
int edivisive(const double *x, size_t n, const struct ed_options *o, struct ed_change **out,
              size_t *nout);

/**
 * edivisive_samples() - Find the change points of @n runs of several samples each
 * @x:		Every run's samples, oldest run first, one run after the other
 * @off:	Run u's samples are x[off[u] .. off[u + 1]); off[0] = 0, n + 1 entries
 * @n:		Number of runs
 * @o:		Options; min_segment counts runs
 * @out:	Change points (index: the first run after the change, means: of the samples)
 * @nout:	Their number
 *
 * The same procedure as edivisive() over the samples themselves, with change points only
 * between runs and the permutation test shuffling samples; edivisive() is this with one
 * sample per run.
 *
 * Return: 0, -EINVAL for bad options, a run without samples or a non-finite sample, -ENOMEM
 */
int edivisive_samples(const double *x, const size_t *off, size_t n, const struct ed_options *o,
                      struct ed_change **out, size_t *nout);

#endif /* BURETTE_EDIVISIVE_H */
