/* SPDX-License-Identifier: MIT */
/*
 * compare - one baseline report against one or more candidates, metric by metric
 *
 * For each metric in both reports: the means, the change (absolute, relative, and a 95%
 * confidence interval of the relative change), a two-sided p-value, and a verdict. The
 * p-value comes from a permutation test on the raw samples when both sides have them (exact
 * when the number of splits is small enough, else a Monte-Carlo estimate with a fixed seed so
 * that the same reports always give the same answer), and from Welch's t-test on
 * mean/std_dev/iterations when either side is a plain report.
 *
 * Paired samples: two reports of one interleaved `burette run` (the same config.run_id, both
 * with config.positions, one sample per round) ran iteration i back to back, so a slow drift of
 * the machine moves both samples of a round alike and cancels in their ratio. Such rows are
 * tested on the per-round log ratios log(cand_i / base_i) (plain differences when a sample is
 * not positive) with a sign-flip permutation test: under "no change" each round's ratio is as
 * likely inverted, so all 2^n sign patterns are equally likely (enumerated exactly up to
 * exact_limit, else Monte-Carlo). Its CI is the t interval of the mean log ratio, i.e. of the
 * geometric mean of the per-round ratios. With n rounds the smallest p a sign-flip test can give
 * is 2 / 2^n, above alpha 0.01 for n < 8: then pairing could never find anything, and the
 * unpaired test is used instead (PAIRING_TOO_FEW); struct compare_options.unpaired asks for it
 * always (PAIRING_OFF). Reports of different runs are never paired, nor a metric that some
 * round did not give (PAIRING_GAPS: a sample carries no round number, so which one is missing
 * cannot be told, and the others cannot be matched).
 *
 * Verdicts, with alpha and threshold from struct compare_options:
 *   regressed  p <= alpha and the change is worse than threshold % in the metric's bad direction
 *   improved   p <= alpha and the change is better than threshold %
 *   noisy      p <= alpha but the change is within threshold %, or too few samples to tell
 *              (no test possible, or even a perfect separation of the samples could not
 *              reach alpha)
 *   unchanged  p > alpha, or both sides the same constant (retransmits 0 in every run on
 *              both sides: there is no spread to test, and nothing changed)
 * Metrics present on one side only are kept as rows with only that side filled in.
 *
 * Resolution: every tested row also says how small a change its test could have seen — the
 * change in the metric's bad direction that would be called significant 8 times in 10 at
 * alpha, given the spread and the rounds it had (the usual normal-theory power approximation
 * with t quantiles: (t(1 - alpha/2) + t(0.8)) standard errors of the log ratio), never below
 * the threshold. A gate that answers "unchanged" with a resolution of 25% has not shown that a
 * 10% drop did not happen. With compare_options.require_detectable_pct, each throughput or
 * rate row (metric_is_rate()) whose resolution is coarser, and which saw no change, is
 * counted as undetectable, so a CI job can fail as inconclusive instead of passing.
 *
 * The gate: ->regressed counts the regressed rows that compare_options.gate covers (gate.h:
 * by default every result but the diagnostics), ->regressed_outside_gate the others, which a
 * CI job shows but does not fail on. A glob of the gate that takes no row is an error.
 *
 * Stalls: a throughput metric whose companion "<prefix>_stalled_intervals" metric (see
 * report_stalls()) has a non-zero sample on either side carries how many runs stalled, so
 * renderers can warn that the figure reflects stalls, not the speed of the stack.
 *
 * The comparison works on in-memory reports, so `burette run` with several backends compares
 * its own reports without writing them first.
 */
#ifndef BURETTE_COMPARE_H
#define BURETTE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gate.h"
#include "report.h"

enum verdict {
    VERDICT_UNCHANGED,
    VERDICT_IMPROVED,
    VERDICT_REGRESSED,
    VERDICT_NOISY,
    VERDICT_BASELINE_ONLY,  /* metric missing from the candidate */
    VERDICT_CANDIDATE_ONLY, /* metric missing from the baseline */
};

enum pvalue_method {
    PVALUE_NONE, /* too few samples for any test */
    PVALUE_PERMUTATION_EXACT,
    PVALUE_PERMUTATION_MONTE_CARLO,
    PVALUE_WELCH,
    PVALUE_PAIRED_EXACT,       /* sign flips of the per-round log ratios, all 2^n patterns */
    PVALUE_PAIRED_MONTE_CARLO, /* the same, drawn */
};

/* Whether a row's samples were paired round by round. */
enum pairing {
    PAIRING_NONE,    /* reports of different runs (or not known to be of one): unpaired test */
    PAIRING_PAIRED,  /* one interleaved run: the paired test */
    PAIRING_TOO_FEW, /* one interleaved run, but too few rounds for a paired p to reach alpha */
    PAIRING_OFF,     /* one interleaved run, but struct compare_options.unpaired */
    PAIRING_GAPS,    /* one interleaved run, but some round gave no sample of this metric */
};

enum verdict_reason {
    REASON_NONE,
    REASON_TOO_FEW_SAMPLES,
    REASON_BELOW_THRESHOLD,
};

struct compare_options {
    double alpha;                  /* significance level, in (0, 1) */
    double threshold_pct;          /* smallest relative change that counts, in percent, >= 0 */
    uint64_t seed;                 /* Monte-Carlo permutations */
    size_t mc_rounds;              /* Monte-Carlo permutations drawn */
    size_t exact_limit;            /* enumerate all splits up to this many */
    bool unpaired;                 /* never pair, even reports of one run (PAIRING_OFF) */
    double require_detectable_pct; /* > 0: rate rows must resolve this change (percent) */
    struct metric_gate gate;       /* the metrics whose regression counts in ->regressed */
};

#define COMPARE_DEFAULT_ALPHA       0.01
#define COMPARE_DEFAULT_THRESHOLD   5.0
#define COMPARE_DEFAULT_SEED        0x6275726574746531ULL
#define COMPARE_DEFAULT_MC_ROUNDS   100000
#define COMPARE_DEFAULT_EXACT_LIMIT 1000000

/* "Could have seen" means: would have been called significant this often. */
#define COMPARE_POWER 0.8

/* How many runs of one side of a row stalled; runs == 0 when the report does not say. */
struct stall_count {
    size_t runs;
    size_t stalled; /* runs with at least one stalled interval */
};

struct compare_row {
    const char *name;
    const char *unit;
    bool higher_is_better;
    const struct metric *base; /* NULL for VERDICT_CANDIDATE_ONLY */
    const struct metric *cand; /* NULL for VERDICT_BASELINE_ONLY */
    double delta;              /* candidate mean - baseline mean */
    double delta_pct;          /* relative to |baseline mean|, +-INFINITY if that is 0 */
    double ci_low_pct;         /* 95% CI of the relative change, NAN if unknown */
    double ci_high_pct;
    double p_value; /* NAN with PVALUE_NONE */
    enum pvalue_method method;
    enum pairing pairing;
    size_t rounds; /* samples per side when paired or pairable, else 0 */
    enum verdict verdict;
    enum verdict_reason reason;
    struct stall_count base_stalls;
    struct stall_count cand_stalls;
    bool stalled; /* either side has a stalled run */
    /* Smallest change in the bad direction the test could have seen (COMPARE_POWER), percent,
     * at least the threshold; INFINITY when no change could reach alpha with these samples. */
    double detectable_pct;
    /* With require_detectable_pct on a rate row: rounds per side this spread would need to
     * resolve it (0 when the row resolves it, or has no spread to scale). */
    size_t rounds_needed;
    bool undetectable; /* a rate row coarser than require_detectable_pct, and neither
                        * regressed nor improved (a change it saw is an answer) */
};

/* One candidate against the baseline. */
struct compare_result {
    const struct report *cand;
    struct compare_row *rows;
    size_t nrows;
    size_t count[VERDICT_CANDIDATE_ONLY + 1]; /* rows per verdict */
    size_t *cand_row; /* row of each candidate metric, by its index in cand->metrics */
    bool same_run;    /* baseline and candidate come from one interleaved `burette run` */
};

struct comparison {
    const struct report *base;
    struct compare_options opts;
    struct compare_result *results;
    size_t nresults;
    size_t regressed;              /* rows regressed, over all candidates, in the gate */
    size_t regressed_outside_gate; /* the same, outside it (shown, never failing) */
    size_t undetectable;           /* rows with undetectable set, over all candidates */
};

/**
 * compare_options_init() - Defaults: alpha 0.01, threshold 5 %, fixed seed, the default gate
 */
void compare_options_init(struct compare_options *o);

/**
 * compare_reports() - Compare each candidate with the baseline
 * @base:	Baseline report
 * @cands:	Candidate reports
 * @ncand:	Number of candidates, at least 1
 * @opts:	Options, NULL for the defaults
 * @out:	New comparison, freed with comparison_free(); it points into the reports, which
 *		must outlive it
 * @err:	Error buffer of @errlen bytes
 *
 * Return: 0 on success; -EINVAL when one metric name has different units in two reports
 * (the message names the metric, both reports and both units) or options are out of range;
 * -ENOMEM. The message has no prefix of its own: the caller names the command.
 */
int compare_reports(const struct report *base, const struct report *const *cands, size_t ncand,
                    const struct compare_options *opts, struct comparison **out, char *err,
                    size_t errlen);

void comparison_free(struct comparison *c);

/**
 * compare_find_row() - The row of metric @name in one candidate's result, in O(1)
 *
 * Return: the row, NULL if neither report has the metric
 */
const struct compare_row *compare_find_row(const struct comparison *c,
                                           const struct compare_result *res, const char *name);

/**
 * compare_permutation() - Two-sided permutation test of a difference in means
 * @a, @na:	First sample
 * @b, @nb:	Second sample
 * @opts:	exact_limit, mc_rounds and seed
 * @method:	Which test was run
 * @p_min:	Smallest p-value any arrangement of these samples could give (may be NULL)
 *
 * Return: p-value in (0, 1]
 */
double compare_permutation(const double *a, size_t na, const double *b, size_t nb,
                           const struct compare_options *opts, enum pvalue_method *method,
                           double *p_min);

/**
 * compare_paired() - Two-sided sign-flip permutation test of paired differences
 * @d, @n:	Per-round differences (log ratios), n >= 1
 * @opts:	exact_limit, mc_rounds and seed
 * @method:	PVALUE_PAIRED_EXACT or PVALUE_PAIRED_MONTE_CARLO
 * @p_min:	Smallest p-value any data of this size could give, 2 / 2^n (may be NULL)
 *
 * The statistic is |sum of d|: each of the 2^n patterns of signs is equally likely when there
 * is no change, and p is the share of patterns whose |sum| reaches the observed one.
 *
 * Return: p-value in (0, 1]
 */
double compare_paired(const double *d, size_t n, const struct compare_options *opts,
                      enum pvalue_method *method, double *p_min);

/**
 * compare_same_run() - Whether two reports come from one interleaved `burette run`
 *
 * True when both configs carry the same run_id and both record positions (the run took turns
 * round by round); false for reports without them (older reports, plain OpenVMM ones).
 */
bool compare_same_run(const struct report *a, const struct report *b);

/**
 * compare_paired_min_rounds() - Fewest rounds with which a paired p can reach @alpha
 */
size_t compare_paired_min_rounds(double alpha);

const char *pairing_name(enum pairing p);
const char *verdict_name(enum verdict v);
const char *pvalue_method_name(enum pvalue_method m);
const char *verdict_reason_text(enum verdict_reason r);

#endif /* BURETTE_COMPARE_H */
