/* SPDX-License-Identifier: MIT */
/*
 * compare - one baseline report against one or more candidates; see compare.h.
 *
 * The permutation test pools both samples and asks how often a random relabelling gives a
 * difference in means at least as large as the one observed. With the total fixed, a split is
 * described by the sum of the first group alone, so each split costs one pass over that group.
 * Ties are counted with a tolerance relative to the data's magnitude, so that two splits with
 * the same difference in exact arithmetic are not told apart by rounding.
 *
 * The confidence interval of the relative change uses the delta method on the ratio of means
 * (candidate / baseline), with Welch-Satterthwaite degrees of freedom: accurate enough when the
 * baseline mean is well away from zero, which throughput and latency means are.
 *
 * The paired test walks the 2^n sign patterns in Gray-code order, so each pattern differs from
 * the previous one in a single sign and costs one addition instead of a pass over the rounds.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "errbuf.h"
#include "stats.h"
#include "table.h"

#define MC_MIN_ROUNDS 10000
#define MC_MAX_WORK   50000000 /* sample additions per Monte-Carlo test */

void compare_options_init(struct compare_options *o)
{
    *o = (struct compare_options){
        .alpha = COMPARE_DEFAULT_ALPHA,
        .threshold_pct = COMPARE_DEFAULT_THRESHOLD,
        .seed = COMPARE_DEFAULT_SEED,
        .mc_rounds = COMPARE_DEFAULT_MC_ROUNDS,
        .exact_limit = COMPARE_DEFAULT_EXACT_LIMIT,
    };
}

const char *verdict_name(enum verdict v)
{
    static const char *const names[] = {
        [VERDICT_UNCHANGED] = "unchanged",         [VERDICT_IMPROVED] = "improved",
        [VERDICT_REGRESSED] = "regressed",         [VERDICT_NOISY] = "noisy",
        [VERDICT_BASELINE_ONLY] = "baseline only", [VERDICT_CANDIDATE_ONLY] = "candidate only",
    };

    return names[v];
}

const char *pvalue_method_name(enum pvalue_method m)
{
    static const char *const names[] = {
        [PVALUE_NONE] = "none",
        [PVALUE_PERMUTATION_EXACT] = "permutation (exact)",
        [PVALUE_PERMUTATION_MONTE_CARLO] = "permutation (monte carlo)",
        [PVALUE_WELCH] = "welch",
        [PVALUE_PAIRED_EXACT] = "paired sign-flip (exact)",
        [PVALUE_PAIRED_MONTE_CARLO] = "paired sign-flip (monte carlo)",
    };

    return names[m];
}

const char *pairing_name(enum pairing p)
{
    static const char *const names[] = {
        [PAIRING_NONE] = "unpaired",
        [PAIRING_PAIRED] = "paired",
        [PAIRING_TOO_FEW] = "unpaired (too few rounds to pair)",
        [PAIRING_OFF] = "unpaired (asked for)",
        [PAIRING_GAPS] = "unpaired (not one sample per round)",
    };

    return names[p];
}

const char *verdict_reason_text(enum verdict_reason r)
{
    static const char *const texts[] = {
        [REASON_NONE] = "",
        [REASON_TOO_FEW_SAMPLES] = "too few samples to tell",
        [REASON_BELOW_THRESHOLD] = "significant but below the threshold",
    };

    return texts[r];
}

static double binomial(size_t n, size_t k)
{
    double c = 1;

    if (k > n - k)
        k = n - k;
    for (size_t i = 1; i <= k; i++)
        c = c * (double)(n - k + i) / (double)i;
    return c;
}

/* splitmix64: tiny, seedable, and good enough to shuffle a few dozen samples. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double compare_permutation(const double *a, size_t na, const double *b, size_t nb,
                           const struct compare_options *opts, enum pvalue_method *method,
                           double *p_min)
{
    size_t n = na + nb, count = 0, rounds = 0;
    double total = 0, scale = 0, observed, eps, splits, p;
    double *pool = malloc(n * sizeof(*pool));
    size_t *idx = malloc(n * sizeof(*idx));

    if (!na || !nb || !pool || !idx) {
        /* Without memory for the test, fall back on "cannot tell" rather than a guess. */
        free(pool);
        free(idx);
        *method = PVALUE_NONE;
        if (p_min)
            *p_min = 1;
        return NAN;
    }
    memcpy(pool, a, na * sizeof(*pool));
    memcpy(pool + na, b, nb * sizeof(*pool));
    for (size_t i = 0; i < n; i++) {
        total += pool[i];
        if (fabs(pool[i]) > scale)
            scale = fabs(pool[i]);
    }
    eps = 1e-9 * (scale > 0 ? scale : 1);
    {
        double sa = 0;

        for (size_t i = 0; i < na; i++)
            sa += pool[i];
        observed = fabs(sa / (double)na - (total - sa) / (double)nb);
    }

    splits = binomial(n, na);
    /* The most extreme split is matched by itself, and by its mirror image when both groups
     * have the same size; no arrangement can give a smaller p-value than that. */
    if (p_min)
        *p_min = (na == nb ? 2 : 1) / splits;

    if (splits <= (double)opts->exact_limit) {
        *method = PVALUE_PERMUTATION_EXACT;
        for (size_t i = 0; i < na; i++)
            idx[i] = i;
        for (;;) {
            double sa = 0, d;
            size_t i;

            for (i = 0; i < na; i++)
                sa += pool[idx[i]];
            d = fabs(sa / (double)na - (total - sa) / (double)nb);
            if (d >= observed - eps)
                count++;
            rounds++;
            /* Next combination in lexicographic order. */
            for (i = na; i-- > 0;)
                if (idx[i] < n - na + i)
                    break;
            if (i == (size_t)-1)
                break;
            idx[i]++;
            for (size_t j = i + 1; j < na; j++)
                idx[j] = idx[j - 1] + 1;
        }
        p = (double)count / (double)rounds;
    } else {
        uint64_t state = opts->seed;

        *method = PVALUE_PERMUTATION_MONTE_CARLO;
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        /* Each draw costs one pass over the first group: with thousands of samples, fewer
         * draws keep the test within a fraction of a second, and at such sizes p is far
         * from the resolution that 1 / MC_MIN_ROUNDS gives up. */
        size_t max_rounds = opts->mc_rounds;

        if (max_rounds > MC_MIN_ROUNDS && max_rounds * na > MC_MAX_WORK)
            max_rounds = MC_MAX_WORK / na > MC_MIN_ROUNDS ? MC_MAX_WORK / na : MC_MIN_ROUNDS;
        for (rounds = 0; rounds < max_rounds; rounds++) {
            double sa = 0, d;

            /* Partial Fisher-Yates: only the first group's members need drawing. */
            for (size_t i = 0; i < na; i++) {
                size_t j = i + (size_t)(next_random(&state) % (n - i));
                size_t t = idx[i];

                idx[i] = idx[j];
                idx[j] = t;
                sa += pool[idx[i]];
            }
            d = fabs(sa / (double)na - (total - sa) / (double)nb);
            if (d >= observed - eps)
                count++;
        }
        /* The observed split counts as one of the draws: never p = 0 from a finite sample. */
        p = (double)(count + 1) / (double)(rounds + 1);
    }
    free(pool);
    free(idx);
    return p;
}

size_t compare_paired_min_rounds(double alpha)
{
    size_t n = 2;

    /* The relative slack keeps alpha = 2 / 2^n itself (0.0078125) from being refused over a
     * rounding error. */
    while (n < 64 && ldexp(2, -(int)n) > alpha * (1 + 1e-12))
        n++;
    return n;
}

double compare_paired(const double *d, size_t n, const struct compare_options *opts,
                      enum pvalue_method *method, double *p_min)
{
    double observed = 0, mag = 0, eps, patterns, p;
    size_t count = 0;

    if (!n) {
        *method = PVALUE_NONE;
        if (p_min)
            *p_min = 1;
        return NAN;
    }
    for (size_t i = 0; i < n; i++) {
        observed += d[i];
        mag += fabs(d[i]);
    }
    observed = fabs(observed);
    /* Ties within rounding of the data's own size count as reaching the observed sum. */
    eps = 1e-9 * (mag > 0 ? mag : 1);
    patterns = ldexp(1, n > 4096 ? 4096 : (int)n);
    /* All signs as observed, and all flipped, give the largest |sum|: nothing can do better. */
    if (p_min)
        *p_min = fmin(1, 2 / patterns);

    if (n < 63 && patterns <= (double)opts->exact_limit) {
        uint64_t total = (uint64_t)1 << n, flipped = 0;
        double sum = 0;

        *method = PVALUE_PAIRED_EXACT;
        for (size_t i = 0; i < n; i++)
            sum += d[i];
        for (uint64_t g = 0; g < total; g++) {
            if (g) {
                /* Gray code: pattern g differs from pattern g - 1 in bit ctz(g) alone. */
                unsigned bit = (unsigned)__builtin_ctzll(g);

                sum += (flipped >> bit & 1 ? 2 : -2) * d[bit];
                flipped ^= (uint64_t)1 << bit;
            }
            if (fabs(sum) >= observed - eps)
                count++;
        }
        p = (double)count / (double)total;
    } else {
        uint64_t state = opts->seed, bits = 0;
        size_t rounds = opts->mc_rounds, left = 0;

        *method = PVALUE_PAIRED_MONTE_CARLO;
        if (rounds > MC_MIN_ROUNDS && rounds * n > MC_MAX_WORK)
            rounds = MC_MAX_WORK / n > MC_MIN_ROUNDS ? MC_MAX_WORK / n : MC_MIN_ROUNDS;
        for (size_t r = 0; r < rounds; r++) {
            double sum = 0;

            for (size_t i = 0; i < n; i++) {
                if (!left) {
                    bits = next_random(&state);
                    left = 64;
                }
                sum += bits & 1 ? -d[i] : d[i];
                bits >>= 1;
                left--;
            }
            if (fabs(sum) >= observed - eps)
                count++;
        }
        /* The observed signs count as one of the draws: never p = 0 from a finite sample. */
        p = (double)(count + 1) / (double)(rounds + 1);
    }
    return p;
}

static const char *config_string(const struct report *r, const char *key)
{
    const json_t *v = json_is_object(r->config) ? json_object_get(r->config, key) : NULL;

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static size_t positions_recorded(const struct report *r)
{
    const json_t *v = json_is_object(r->config) ? json_object_get(r->config, "positions") : NULL;

    return json_is_array(v) ? json_array_size(v) : 0;
}

bool compare_same_run(const struct report *a, const struct report *b)
{
    const char *ia = config_string(a, "run_id"), *ib = config_string(b, "run_id");

    return ia && ib && *ia && !strcmp(ia, ib) && positions_recorded(a) && positions_recorded(b);
}

/* One sample per recorded round on both sides: sample i of each ran in round i. A metric
 * with fewer samples than rounds (one that some iterations did not give) cannot be paired. */
static bool one_sample_per_round(const struct report *base, const struct report *cand,
                                 const struct metric *b, const struct metric *c)
{
    return b->nsamples == c->nsamples && positions_recorded(base) == b->nsamples &&
           positions_recorded(cand) == c->nsamples;
}

/* A relative change of @pct percent in the metric's bad direction, as a log ratio's size. */
static double bad_change_log(double pct, bool higher_is_better)
{
    return higher_is_better ? -log1p(-fmin(pct, 99.999) / 100) : log1p(pct / 100);
}

/*
 * @row's resolution from its test's standard error @se of the relative change (of the log
 * ratio when @logscale) with @df degrees of freedom over @n rounds per side: the change that
 * lies (t(1 - alpha/2) + t(power)) standard errors out, floored at the threshold; and, for a
 * rate row coarser than the required resolution, the rounds that would bring it there (the
 * standard error shrinks with the square root of the rounds).
 */
static void set_resolution(struct compare_row *row, double se, double df, bool logscale, size_t n,
                           const struct compare_options *o)
{
    double m = 0, pct = o->threshold_pct, need;

    row->undetectable = false;
    row->rounds_needed = 0;
    if (isnan(se) || !(df > 0)) {
        pct = INFINITY;
    } else if (se > 0) {
        m = (stats_t_quantile(1 - o->alpha / 2, df) + stats_t_quantile(COMPARE_POWER, df)) * se;
        if (!logscale)
            pct = m * 100;
        else
            pct = (row->higher_is_better ? -expm1(-m) : expm1(m)) * 100;
        pct = fmax(pct, o->threshold_pct);
    }
    row->detectable_pct = pct;
    if (!(o->require_detectable_pct > 0) || !metric_is_rate(row->name) ||
        pct <= o->require_detectable_pct)
        return;
    row->undetectable = true;
    need = logscale ? bad_change_log(o->require_detectable_pct, row->higher_is_better)
                    : o->require_detectable_pct / 100;
    if (m > 0 && n)
        row->rounds_needed = (size_t)ceil((double)n * (m / need) * (m / need));
}

/* The resolution of an unpaired test from both sides' spreads (coefficients of variation),
 * with Welch-Satterthwaite degrees of freedom. */
static void unpaired_resolution(struct compare_row *row, const struct compare_options *o)
{
    const struct stats *b = &row->base->st, *c = &row->cand->st;
    double vb, vc;

    if (b->n < 2 || c->n < 2 || b->mean == 0 || c->mean == 0) {
        set_resolution(row, NAN, 0, true, 0, o);
        return;
    }
    vb = b->std_dev * b->std_dev / (b->mean * b->mean) / (double)b->n;
    vc = c->std_dev * c->std_dev / (c->mean * c->mean) / (double)c->n;
    set_resolution(row, sqrt(vb + vc),
                   vb + vc > 0 ? (vb + vc) * (vb + vc) /
                                     (vb * vb / (double)(b->n - 1) + vc * vc / (double)(c->n - 1))
                               : 1,
                   true, b->n, o);
}

/*
 * The paired test of @row: p from compare_paired() on the per-round log ratios, and the 95% t
 * interval of their mean turned back into a relative change (the geometric mean of the per-round
 * ratios, minus 1). A counter that can be 0 has no log: plain differences then, the interval
 * relative to the baseline mean.
 */
static int paired_row(struct compare_row *row, const struct compare_options *o)
{
    const struct metric *b = row->base, *c = row->cand;
    size_t n = b->nsamples;
    double *d = malloc(n * sizeof(*d)), mean = 0, sq = 0, half, p_min;
    bool logs = true;

    if (!d)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        logs = logs && b->samples[i] > 0 && c->samples[i] > 0;
    for (size_t i = 0; i < n; i++) {
        d[i] = logs ? log(c->samples[i] / b->samples[i]) : c->samples[i] - b->samples[i];
        mean += d[i] / (double)n;
    }
    for (size_t i = 0; i < n; i++)
        sq += (d[i] - mean) * (d[i] - mean);
    half = stats_t_quantile(0.975, (double)(n - 1)) * sqrt(sq / (double)(n - 1) / (double)n);
    if (logs) {
        row->ci_low_pct = expm1(mean - half) * 100;
        row->ci_high_pct = expm1(mean + half) * 100;
    } else if (b->st.mean != 0) {
        row->ci_low_pct = (mean - half) / fabs(b->st.mean) * 100;
        row->ci_high_pct = (mean + half) / fabs(b->st.mean) * 100;
    } else {
        row->ci_low_pct = row->ci_high_pct = NAN;
    }
    row->p_value = compare_paired(d, n, o, &row->method, &p_min);
    free(d);
    if (logs)
        set_resolution(row, sqrt(sq / (double)(n - 1) / (double)n), (double)(n - 1), true, n, o);
    else if (b->st.mean != 0)
        set_resolution(row, sqrt(sq / (double)(n - 1) / (double)n) / fabs(b->st.mean),
                       (double)(n - 1), false, n, o);
    else
        set_resolution(row, NAN, 0, false, n, o);
    return 0;
}

/* Delta-method 95% CI of (mc / mb - 1), in percent. */
static void relative_ci(const struct stats *b, const struct stats *c, double *low, double *high)
{
    double vb, vc, var, df, t, ratio;

    *low = *high = NAN;
    if (b->n < 2 || c->n < 2 || b->mean == 0)
        return;
    vb = b->std_dev * b->std_dev / (double)b->n;
    vc = c->std_dev * c->std_dev / (double)c->n;
    ratio = c->mean / b->mean;
    var = vc / (b->mean * b->mean) + ratio * ratio * vb / (b->mean * b->mean);
    if (var == 0) {
        *low = *high = (ratio - 1) * 100;
        return;
    }
    /* Welch-Satterthwaite degrees of freedom of the two variance terms. */
    {
        double tb = ratio * ratio * vb / (b->mean * b->mean), tc = vc / (b->mean * b->mean);

        df = var * var / (tb * tb / (double)(b->n - 1) + tc * tc / (double)(c->n - 1));
    }
    t = stats_t_quantile(0.975, df);
    *low = (ratio - 1 - t * sqrt(var)) * 100;
    *high = (ratio - 1 + t * sqrt(var)) * 100;
}

/* Every run on both sides gave one and the same value (a counter that stayed 0): no test can
 * say anything, and none is needed. One run per side is not enough to call it a constant. */
static bool same_constant(const struct metric *b, const struct metric *c)
{
    return b->st.n >= 2 && c->st.n >= 2 && b->st.std_dev == 0 && c->st.std_dev == 0 &&
           b->st.mean == c->st.mean;
}

static void count_stalls(struct compare_row *row, const struct report *base,
                         const struct report *cand)
{
    if (base)
        report_stalls(base, row->name, &row->base_stalls.stalled, &row->base_stalls.runs);
    if (cand)
        report_stalls(cand, row->name, &row->cand_stalls.stalled, &row->cand_stalls.runs);
    row->stalled = row->base_stalls.stalled || row->cand_stalls.stalled;
}

static int compare_metric(struct compare_row *row, const struct compare_options *o,
                          const struct report *base, const struct report *cand, bool same_run)
{
    const struct metric *b = row->base, *c = row->cand;
    double p_min = 0, worse_pct;
    bool too_few = false;

    row->delta = c->st.mean - b->st.mean;
    /* Means computed from the same values in another order differ in the last bit; that is
     * no change, and must not print as -8.9e-16. */
    if (fabs(row->delta) <= 1e-12 * fmax(fabs(b->st.mean), fabs(c->st.mean)))
        row->delta = 0;
    if (b->st.mean != 0)
        row->delta_pct = row->delta / fabs(b->st.mean) * 100;
    else
        row->delta_pct = row->delta == 0 ? 0 : copysign(INFINITY, row->delta);
    relative_ci(&b->st, &c->st, &row->ci_low_pct, &row->ci_high_pct);

    row->pairing = PAIRING_NONE;
    row->rounds = 0;
    if (same_run && !one_sample_per_round(base, cand, b, c)) {
        row->pairing = PAIRING_GAPS;
    } else if (same_run && b->nsamples >= 2) {
        row->rounds = b->nsamples;
        row->pairing = o->unpaired                                          ? PAIRING_OFF
                       : row->rounds >= compare_paired_min_rounds(o->alpha) ? PAIRING_PAIRED
                                                                            : PAIRING_TOO_FEW;
    }
    if (row->pairing == PAIRING_PAIRED) {
        if (paired_row(row, o) < 0)
            return -ENOMEM;
    } else if (b->nsamples && c->nsamples) {
        row->p_value = compare_permutation(b->samples, b->nsamples, c->samples, c->nsamples, o,
                                           &row->method, &p_min);
        too_few = row->method == PVALUE_NONE || p_min > o->alpha;
    } else {
        row->p_value = stats_welch(b->st.mean, b->st.std_dev, b->st.n, c->st.mean, c->st.std_dev,
                                   c->st.n, NULL);
        row->method = isnan(row->p_value) ? PVALUE_NONE : PVALUE_WELCH;
        too_few = row->method == PVALUE_NONE;
    }

    if (row->pairing != PAIRING_PAIRED)
        unpaired_resolution(row, o);

    worse_pct = row->higher_is_better ? -row->delta_pct : row->delta_pct;
    row->reason = REASON_NONE;
    if (same_constant(b, c)) {
        row->verdict = VERDICT_UNCHANGED;
        set_resolution(row, 0, 1, true, 0, o);
    } else if (too_few) {
        set_resolution(row, NAN, 0, true, 0, o);
        row->verdict = VERDICT_NOISY;
        row->reason = REASON_TOO_FEW_SAMPLES;
    } else if (row->p_value > o->alpha) {
        row->verdict = VERDICT_UNCHANGED;
    } else if (worse_pct > o->threshold_pct) {
        row->verdict = VERDICT_REGRESSED;
    } else if (-worse_pct > o->threshold_pct) {
        row->verdict = VERDICT_IMPROVED;
    } else {
        row->verdict = VERDICT_NOISY;
        row->reason = REASON_BELOW_THRESHOLD;
    }
    /* A change the test did see is an answer, whatever smaller one it could not have seen. */
    if (row->verdict == VERDICT_REGRESSED || row->verdict == VERDICT_IMPROVED) {
        row->undetectable = false;
        row->rounds_needed = 0;
    }
    return 0;
}

static void one_side_row(struct compare_row *row, const struct metric *m, enum verdict v)
{
    memset(row, 0, sizeof(*row));
    row->detectable_pct = NAN;
    row->name = m->name;
    row->unit = m->unit;
    row->higher_is_better = metric_higher_is_better(m);
    row->base = v == VERDICT_BASELINE_ONLY ? m : NULL;
    row->cand = v == VERDICT_CANDIDATE_ONLY ? m : NULL;
    row->delta = row->delta_pct = row->ci_low_pct = row->ci_high_pct = row->p_value = NAN;
    row->method = PVALUE_NONE;
    row->verdict = v;
}

static int compare_one(const struct report *base, const struct report *cand,
                       const struct compare_options *o, struct compare_result *res)
{
    size_t n = 0;

    res->cand = cand;
    res->same_run = compare_same_run(base, cand);
    res->rows = calloc(base->nmetrics + cand->nmetrics, sizeof(*res->rows));
    res->cand_row = calloc(cand->nmetrics ? cand->nmetrics : 1, sizeof(*res->cand_row));
    if ((!res->rows && base->nmetrics + cand->nmetrics) || !res->cand_row)
        return -ENOMEM;
    for (size_t i = 0; i < base->nmetrics; i++) {
        const struct metric *b = &base->metrics[i], *c = report_find_metric(cand, b->name);
        struct compare_row *row = &res->rows[n++];

        if (!c) {
            one_side_row(row, b, VERDICT_BASELINE_ONLY);
        } else {
            row->name = b->name;
            row->unit = b->unit;
            row->higher_is_better = metric_higher_is_better(b);
            row->base = b;
            row->cand = c;
            res->cand_row[c - cand->metrics] = n - 1;
            if (compare_metric(row, o, base, cand, res->same_run) < 0)
                return -ENOMEM;
        }
        count_stalls(row, base, cand);
        res->count[row->verdict]++;
    }
    for (size_t i = 0; i < cand->nmetrics; i++) {
        const struct metric *c = &cand->metrics[i];

        if (report_find_metric(base, c->name))
            continue;
        res->cand_row[i] = n;
        one_side_row(&res->rows[n], c, VERDICT_CANDIDATE_ONLY);
        count_stalls(&res->rows[n++], NULL, cand);
        res->count[VERDICT_CANDIDATE_ONLY]++;
    }
    res->nrows = n;
    return 0;
}

static int check_units(const struct report *base, const struct report *cand, char *err,
                       size_t errlen)
{
    for (size_t i = 0; i < base->nmetrics; i++) {
        const struct metric *b = &base->metrics[i], *c = report_find_metric(cand, b->name);
        char *text, *clean;

        if (!c || !strcmp(b->unit, c->unit))
            continue;
        /* All of it is report text, and the message reaches a terminal: escaped as a whole. */
        if (asprintf(&text,
                     "metric %s has different units: %s in %s, %s in %s; these reports cannot be "
                     "compared",
                     b->name, b->unit, report_label(base), c->unit, report_label(cand)) < 0)
            return errbuf_set(err, errlen, ENOMEM, "out of memory comparing the reports");
        clean = text_escape_controls(text);
        free(text);
        if (!clean)
            return errbuf_set(err, errlen, ENOMEM, "out of memory comparing the reports");
        errbuf_set(err, errlen, EINVAL, "%s", clean);
        free(clean);
        return -EINVAL;
    }
    return 0;
}

/* A glob of the gate that takes none of the rows is a mistake (a gate guarding nothing). */
static int check_gate(const struct comparison *c, char *err, size_t errlen)
{
    const char **names;
    size_t n = 0;
    int rc;

    if (!c->opts.gate.spec)
        return 0;
    for (size_t i = 0; i < c->nresults; i++)
        n += c->results[i].nrows;
    names = calloc(n ? n : 1, sizeof(*names));
    if (!names)
        return errbuf_set(err, errlen, ENOMEM, "out of memory comparing the reports");
    n = 0;
    for (size_t i = 0; i < c->nresults; i++)
        for (size_t j = 0; j < c->results[i].nrows; j++)
            names[n++] = c->results[i].rows[j].name;
    rc = metric_gate_check(&c->opts.gate, names, n, "metric of these reports", err, errlen);
    free(names);
    return rc;
}

int compare_reports(const struct report *base, const struct report *const *cands, size_t ncand,
                    const struct compare_options *opts, struct comparison **out, char *err,
                    size_t errlen)
{
    struct comparison *c;
    int rc = 0;

    if (!ncand)
        return errbuf_set(err, errlen, EINVAL, "no candidate report to compare with the baseline");
    c = calloc(1, sizeof(*c));
    if (!c)
        return errbuf_set(err, errlen, ENOMEM, "out of memory comparing the reports");
    if (opts)
        c->opts = *opts;
    else
        compare_options_init(&c->opts);
    if (!(c->opts.alpha > 0 && c->opts.alpha < 1) || !(c->opts.threshold_pct >= 0) ||
        !c->opts.mc_rounds) {
        rc =
            errbuf_set(err, errlen, EINVAL, "alpha must be in (0, 1) and the threshold at least 0");
        goto out;
    }
    if (c->opts.require_detectable_pct > 0 &&
        c->opts.require_detectable_pct < c->opts.threshold_pct) {
        rc = errbuf_set(err, errlen, EINVAL,
                        "a required resolution of %g%% is finer than the threshold "
                        "(%g%%), below which no change is ever called: require at least the "
                        "threshold, or lower it",
                        c->opts.require_detectable_pct, c->opts.threshold_pct);
        goto out;
    }
    c->base = base;
    /* Candidates are checked against each other too: a metric only they have must still
     * mean the same thing in each of them. */
    for (size_t i = 0; i < ncand; i++) {
        rc = check_units(base, cands[i], err, errlen);
        for (size_t j = 0; !rc && j < i; j++)
            rc = check_units(cands[j], cands[i], err, errlen);
        if (rc < 0)
            goto out;
    }
    c->results = calloc(ncand, sizeof(*c->results));
    if (!c->results) {
        rc = errbuf_set(err, errlen, ENOMEM, "out of memory comparing the reports");
        goto out;
    }
    c->nresults = ncand;
    for (size_t i = 0; i < ncand; i++) {
        rc = compare_one(base, cands[i], &c->opts, &c->results[i]);
        if (rc < 0) {
            errbuf_set(err, errlen, rc, "out of memory comparing the reports");
            goto out;
        }
        for (size_t j = 0; j < c->results[i].nrows; j++) {
            const struct compare_row *row = &c->results[i].rows[j];

            c->undetectable += row->undetectable;
            if (row->verdict != VERDICT_REGRESSED)
                continue;
            if (metric_gate_covers(&c->opts.gate, row->name))
                c->regressed++;
            else
                c->regressed_outside_gate++;
        }
    }
    rc = check_gate(c, err, errlen);
out:
    if (rc < 0)
        comparison_free(c);
    else
        *out = c;
    return rc;
}

const struct compare_row *compare_find_row(const struct comparison *c,
                                           const struct compare_result *res, const char *name)
{
    const struct metric *m = report_find_metric(c->base, name);

    /* Rows start with the baseline's metrics in its order, then the candidate's own. */
    if (m)
        return &res->rows[m - c->base->metrics];
    m = report_find_metric(res->cand, name);
    return m ? &res->rows[res->cand_row[m - res->cand->metrics]] : NULL;
}

void comparison_free(struct comparison *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nresults; i++) {
        free(c->results[i].rows);
        free(c->results[i].cand_row);
    }
    free(c->results);
    free(c);
}
