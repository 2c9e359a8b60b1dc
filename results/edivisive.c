/* SPDX-License-Identifier: MIT */
/*
 * edivisive - E-divisive means change points with a permutation test; see edivisive.h.
 *
 * The statistic. Matteson & James (2014) score a split of a segment into X (m values) and Y
 * (k values) with Q = m k / (m + k) * E, where E is the empirical energy distance
 *
 *   E = 2/(m k) sum |x - y|^a - C(m,2)^-1 sum_{i<j} |x_i - x_j|^a - C(k,2)^-1 sum_{i<j} |y_i -
 * y_j|^a.
 *
 * With a = 2 the three double sums collapse (sum_{i<j} (x_i - x_j)^2 = m SSx, with SSx the sum
 * of squared deviations from the mean) and
 *
 *   E = 2 (mean_x - mean_y)^2 - 2 SSx / (m (m - 1)) - 2 SSy / (k (k - 1)),
 *
 * so with prefix sums of x and x^2 every pair of parts is scored in O(1) instead of the
 * O(length^2) of general a. That is what keeps a permutation test over 1000 runs x 20 metrics
 * well under a second, and it is exactly the "means" variant: only a shift of the mean scores.
 *
 * The test. Matteson & James's permutation test: shuffle the values within each current
 * segment, take the strongest split over all segments, and count how often it reaches the
 * observed one; p = (count + 1) / (rounds + 1). Once the count makes p reach the significance
 * level the rounds stop early: the answer can no longer change. Each segment keeps the rounds
 * it has drawn (struct segment), so a step pays only for the two segments the last split made.
 *
 * Values are centred and scaled by the series' mean absolute value first, so packets per second
 * (1e5 and more) and Gbps (about 1) lose no precision to the squares.
 *
 * Runs with several samples (edivisive_samples()). The statistic only needs, per part, the
 * number of values, their sum and their sum of squares, so a run is a unit of c samples with
 * their sum and sum of squares: splits fall between runs only, m and k count samples, and SSx is
 * the spread of the samples themselves (within and between runs). The permutation test shuffles
 * the samples of a segment and deals them back into runs of the same sizes. A series of run
 * means is the case of one sample per run, and takes the same code.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "edivisive.h"

/* p < 0.01 rather than the paper's 0.05: a nightly gate looks at many series every night, and
 * at 0.05 one A/A series in twenty raises a false alarm (bench/history measures both). */
void ed_options_default(struct ed_options *o)
{
    o->significance = 0.01;
    o->permutations = 499;
    o->min_magnitude = 0.05;
    o->min_segment = 3;
    o->window = 50;
    o->seed = 1;
    o->on_samples = ED_DEFAULT_ON_SAMPLES;
}

/* splitmix64: small, fast, and good enough to shuffle a few hundred values. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, bound), without the modulo bias that would favour low indexes. */
static size_t rng_below(uint64_t *state, size_t bound)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound, r;

    do
        r = rng_next(state);
    while (r >= limit);
    return (size_t)(r % bound);
}

static void shuffle(double *v, size_t n, uint64_t *state)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(state, i);
        double t = v[i - 1];

        v[i - 1] = v[j];
        v[j] = t;
    }
}

/*
 * Prefix sums over units: @p0 counts, @p1 sums and @p2 sums of squares of units [0, u) of
 * v's units @off[from..to], u = 0..to - from.
 */
static void prefix_sums(const double *v, const size_t *off, size_t from, size_t to, double *p0,
                        double *p1, double *p2)
{
    p0[0] = p1[0] = p2[0] = 0;
    for (size_t u = from; u < to; u++) {
        double s1 = 0, s2 = 0;

        for (size_t i = off[u]; i < off[u + 1]; i++) {
            s1 += v[i];
            s2 += v[i] * v[i];
        }
        p0[u - from + 1] = p0[u - from] + (double)(off[u + 1] - off[u]);
        p1[u - from + 1] = p1[u - from] + s1;
        p2[u - from + 1] = p2[u - from] + s2;
    }
}

/* The energy statistic of X = units [a..t) against Y = units [t..k), from prefix sums. */
static double q_stat(const double *p0, const double *p1, const double *p2, size_t a, size_t t,
                     size_t k)
{
    double m = p0[t] - p0[a], n = p0[k] - p0[t];
    double sx = p1[t] - p1[a], sy = p1[k] - p1[t];
    double mean_x = sx / m, mean_y = sy / n;
    double ss_x = fmax(0, p2[t] - p2[a] - sx * mean_x), ss_y = fmax(0, p2[k] - p2[t] - sy * mean_y);
    double e = 2 * (mean_x - mean_y) * (mean_x - mean_y) - 2 * ss_x / (m * (m - 1)) -
               2 * ss_y / (n * (n - 1));

    return m * n / (m + n) * e;
}

/*
 * best_split() - The strongest split of n units: Q and the first unit of its right part
 * @p0, @p1, @p2:	Their prefix sums (prefix_sums())
 *
 * As in Matteson & James, the right part Y = v[tau..kappa) need not run to the end of the
 * segment: a series that rises and falls back (a bump) has no strong single split, but X =
 * before the bump against Y = the bump is strong. kappa ranges over the segment's end and, to
 * keep the search near O(n) instead of O(n^2), ends up to @window runs after tau, spaced
 * geometrically (Otava, too, looks at windows of a long series); only tau is a change point. Both
 * parts hold at least
 * @minseg values; with fewer than 2 * @minseg values there is no split and Q is -1.
 */
static double best_split(const double *p0, const double *p1, const double *p2, size_t n,
                         size_t minseg, size_t window, size_t *tau)
{
    double best = -1;

    *tau = 0;
    if (n < 2 * minseg)
        return -1;
    for (size_t t = minseg; t + minseg <= n; t++) {
        size_t last = t + window < n ? t + window : n, end = t + minseg;

        /* Ends within the window, each about a quarter further than the last (a bump of 3
         * runs is told from one of 4; one of 40 from one of 50 matters less), then the
         * segment's end: a few dozen pairs per tau, permutations included. */
        for (;;) {
            double q = q_stat(p0, p1, p2, 0, t, end);

            if (q > best) {
                best = q;
                *tau = t;
            }
            if (end == n)
                break;
            if (end == last)
                end = n;
            else
                end = end + ((end - t) / 4 ? (end - t) / 4 : 1) < last
                          ? end + ((end - t) / 4 ? (end - t) / 4 : 1)
                          : last;
        }
    }
    return best;
}

/*
 * A segment between two accepted change points, with the strongest split of its own values and
 * of each permutation round computed so far. A segment's rounds are drawn once and kept: the
 * next step's test permutes the segments that did not change exactly as before, so only the two
 * halves of a split segment cost new rounds, and rounds are drawn only as far as a test needs
 * them (the early stop).
 */
struct segment {
    size_t start, end; /* units */
    double best;       /* its strongest split, -1 if too short to split */
    size_t tau;        /* where, as an index into the series */
    double *perm;      /* strongest split of permutation round r */
    unsigned nperm;
};

/* Scratch for the prefix sums of one segment, n + 1 each. */
struct sums {
    double *p0, *p1, *p2;
};

static int segment_init(struct segment *sg, const double *v, const size_t *off, size_t start,
                        size_t end, const struct ed_options *o, struct sums *ps)
{
    size_t t;

    sg->start = start;
    sg->end = end;
    prefix_sums(v, off, start, end, ps->p0, ps->p1, ps->p2);
    sg->best = best_split(ps->p0, ps->p1, ps->p2, end - start, o->min_segment, o->window, &t);
    sg->tau = start + t;
    sg->nperm = 0;
    sg->perm = sg->best > 0 ? malloc(o->permutations * sizeof(*sg->perm)) : NULL;
    return sg->best > 0 && !sg->perm ? -ENOMEM : 0;
}

/* The strongest split of round @r of @sg's permutations, drawn now if not yet. */
static double segment_round(struct segment *sg, double *work, const size_t *off, unsigned r,
                            const struct ed_options *o, struct sums *ps, uint64_t *rng)
{
    size_t unused, len = sg->end - sg->start;

    if (!sg->perm)
        return -1;
    while (sg->nperm <= r) {
        shuffle(work + off[sg->start], off[sg->end] - off[sg->start], rng);
        prefix_sums(work, off, sg->start, sg->end, ps->p0, ps->p1, ps->p2);
        sg->perm[sg->nperm++] =
            best_split(ps->p0, ps->p1, ps->p2, len, o->min_segment, o->window, &unused);
    }
    return sg->perm[r];
}

/* The mean of the samples of units [from, to). */
static double mean_of(const double *x, const size_t *off, size_t from, size_t to)
{
    double sum = 0;

    for (size_t i = off[from]; i < off[to]; i++)
        sum += x[i];
    return sum / (double)(off[to] - off[from]);
}

static void insert_sorted(size_t *v, size_t *n, size_t value)
{
    size_t i = *n;

    while (i > 0 && v[i - 1] > value) {
        v[i] = v[i - 1];
        i--;
    }
    v[i] = value;
    (*n)++;
}

static double relative_change(double before, double after)
{
    if (before == 0)
        return after == 0 ? 0 : copysign(INFINITY, after);
    return (after - before) / fabs(before);
}

/*
 * Drop the weakest change point below the magnitude threshold, merge, and look again: merging
 * changes the neighbours' means, so one pass would judge with stale means.
 */
static void drop_small_changes(const double *x, const size_t *off, size_t *bounds, size_t *nbounds,
                               double min_magnitude)
{
    for (;;) {
        size_t weakest = 0;
        double weakest_mag = INFINITY;

        for (size_t s = 1; s + 1 < *nbounds; s++) {
            double before = mean_of(x, off, bounds[s - 1], bounds[s]);
            double after = mean_of(x, off, bounds[s], bounds[s + 1]);
            double mag = fabs(relative_change(before, after));

            if (mag < min_magnitude && mag < weakest_mag) {
                weakest_mag = mag;
                weakest = s;
            }
        }
        if (!weakest)
            return;
        memmove(&bounds[weakest], &bounds[weakest + 1], (*nbounds - weakest - 1) * sizeof(*bounds));
        (*nbounds)--;
    }
}

/*
 * relocate() - Move each change point to the strongest split between its neighbours
 * @ps:		Prefix sums of the whole series (prefix_sums() over [0, n))
 * @bounds:	0, the change points, n, sorted
 * @pval:	p-values by position: a moved change point takes its own along
 *
 * Detection looks at windows (best_split()), so that a bump is seen; but a split found against
 * a window's end lands where it best separates that window, which is often a run or two off
 * the step. Once the change points are known, each one's neighbours bound the only two levels
 * it separates, and the plain split of [previous, next) is the best estimate of where the mean
 * moved (the least-squares location, as the statistic is the mean's). Moving one changes its
 * neighbours' segments, so passes repeat until none moves, at most once per change point.
 *
 * Return: whether any moved
 */
static bool relocate(const struct sums *ps, size_t *bounds, size_t nbounds, size_t min_segment,
                     double *pval)
{
    bool moved_any = false;

    for (size_t pass = 0; pass + 2 < nbounds; pass++) {
        bool moved = false;

        for (size_t s = 1; s + 1 < nbounds; s++) {
            size_t a = bounds[s - 1], k = bounds[s + 1], best_t = bounds[s];
            double best = q_stat(ps->p0, ps->p1, ps->p2, a, best_t, k);

            for (size_t t = a + min_segment; t + min_segment <= k; t++) {
                double q = q_stat(ps->p0, ps->p1, ps->p2, a, t, k);

                if (q > best) {
                    best = q;
                    best_t = t;
                }
            }
            if (best_t != bounds[s]) {
                pval[best_t] = pval[bounds[s]];
                bounds[s] = best_t;
                moved = true;
            }
        }
        if (!moved)
            break;
        moved_any = true;
    }
    return moved_any;
}

int edivisive(const double *x, size_t n, const struct ed_options *o, struct ed_change **out,
              size_t *nout)
{
    size_t *off = malloc((n + 1) * sizeof(*off));
    int rc;

    *out = NULL;
    *nout = 0;
    if (!off)
        return -ENOMEM;
    for (size_t i = 0; i <= n; i++)
        off[i] = i;
    rc = edivisive_samples(x, off, n, o, out, nout);
    free(off);
    return rc;
}

int edivisive_samples(const double *x, const size_t *off, size_t n, const struct ed_options *o,
                      struct ed_change **out, size_t *nout)
{
    size_t *bounds = NULL, nbounds = 0, total;
    double *v = NULL, *work = NULL, *pval = NULL, scale = 0, centre = 0;
    struct sums ps = {0};
    struct ed_change *res = NULL;
    struct segment *segs = NULL;
    size_t nsegs = 0;
    uint64_t rng = o->seed;
    int rc = 0;

    *out = NULL;
    *nout = 0;
    if (o->min_segment < 2 || !(o->significance > 0 && o->significance <= 1) || !o->permutations ||
        !(o->min_magnitude >= 0) || !o->window || off[0] != 0)
        return -EINVAL;
    for (size_t u = 0; u < n; u++)
        if (off[u + 1] <= off[u])
            return -EINVAL; /* a run without samples */
    total = off[n];
    for (size_t i = 0; i < total; i++) {
        if (!isfinite(x[i]))
            return -EINVAL;
        centre += x[i];
    }
    if (n < 2 * o->min_segment)
        return 0;
    centre /= (double)total;

    v = malloc(total * sizeof(*v));
    work = malloc(total * sizeof(*work));
    /* Every split leaves segments of at least min_segment >= 2, so at most n / 2 + 1 bounds. */
    bounds = malloc((n / 2 + 2) * sizeof(*bounds));
    pval = malloc((n + 1) * sizeof(*pval));
    ps.p0 = malloc((n + 1) * sizeof(*ps.p0));
    ps.p1 = malloc((n + 1) * sizeof(*ps.p1));
    ps.p2 = malloc((n + 1) * sizeof(*ps.p2));
    if (!v || !work || !bounds || !pval || !ps.p0 || !ps.p1 || !ps.p2) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < total; i++)
        scale += fabs(x[i] - centre);
    scale = scale > 0 ? scale / (double)total : 1;
    for (size_t i = 0; i < total; i++)
        v[i] = (x[i] - centre) / scale;
    bounds[nbounds++] = 0;
    bounds[nbounds++] = n;

    segs = calloc(n / 2 + 1, sizeof(*segs));
    if (!segs) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(work, v, total * sizeof(*work));
    nsegs = 1;
    if (segment_init(&segs[0], v, off, 0, n, o, &ps)) {
        rc = -ENOMEM;
        goto out;
    }

    for (;;) {
        /* p >= significance once count + 1 >= significance * (rounds + 1) */
        double stop_at = o->significance * ((double)o->permutations + 1) - 1;
        double observed = -1;
        size_t split = 0, tau;
        unsigned count = 0, r;

        for (size_t k = 0; k < nsegs; k++)
            if (segs[k].best > observed) {
                observed = segs[k].best;
                split = k;
            }
        if (observed <= 0)
            break;
        for (r = 0; r < o->permutations && (double)count < stop_at; r++) {
            double strongest = -1;

            for (size_t k = 0; k < nsegs; k++)
                strongest = fmax(strongest, segment_round(&segs[k], work, off, r, o, &ps, &rng));
            /* A tolerance so that ties (a constant series) count as reaching the observed. */
            if (strongest >= observed * (1 - 1e-9))
                count++;
        }
        if ((double)count >= stop_at)
            break;
        tau = segs[split].tau;
        pval[tau] = ((double)count + 1) / ((double)o->permutations + 1);
        insert_sorted(bounds, &nbounds, tau);

        /* The split segment becomes two new ones, with their own values back in @work. */
        memmove(&segs[split + 2], &segs[split + 1], (nsegs - split - 1) * sizeof(*segs));
        nsegs++;
        free(segs[split].perm);
        memcpy(work + off[segs[split].start], v + off[segs[split].start],
               (off[segs[split].end] - off[segs[split].start]) * sizeof(*work));
        if (segment_init(&segs[split + 1], v, off, tau, segs[split].end, o, &ps) ||
            segment_init(&segs[split], v, off, segs[split].start, tau, o, &ps)) {
            segs[split].perm = NULL;
            rc = -ENOMEM;
            goto out;
        }
    }

    drop_small_changes(x, off, bounds, &nbounds, o->min_magnitude);
    prefix_sums(v, off, 0, n, ps.p0, ps.p1, ps.p2);
    if (relocate(&ps, bounds, nbounds, o->min_segment, pval))
        drop_small_changes(x, off, bounds, &nbounds, o->min_magnitude);

    if (nbounds > 2) {
        res = calloc(nbounds - 2, sizeof(*res));
        if (!res) {
            rc = -ENOMEM;
            goto out;
        }
        for (size_t s = 1; s + 1 < nbounds; s++) {
            struct ed_change *c = &res[s - 1];

            c->index = bounds[s];
            c->mean_before = mean_of(x, off, bounds[s - 1], bounds[s]);
            c->mean_after = mean_of(x, off, bounds[s], bounds[s + 1]);
            c->change = relative_change(c->mean_before, c->mean_after);
            c->p = pval[bounds[s]];
        }
        *out = res;
        *nout = nbounds - 2;
    }
out:
    free(v);
    free(work);
    free(bounds);
    free(pval);
    free(ps.p0);
    free(ps.p1);
    free(ps.p2);
    for (size_t k = 0; k < nsegs; k++)
        free(segs[k].perm);
    free(segs);
    return rc;
}
