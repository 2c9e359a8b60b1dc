/* SPDX-License-Identifier: MIT */
/*
 * render_impl - pieces shared by the renderers, not for callers outside results/
 *
 * The tables and notes built here are the content; each renderer only chooses how to print
 * it.
 */
#ifndef BURETTE_RENDER_IMPL_H
#define BURETTE_RENDER_IMPL_H

#include <jansson.h>

#include "render.h"
#include "table.h"

extern const struct renderer render_text;
extern const struct renderer render_markdown;
extern const struct renderer render_json;
extern const struct renderer render_html;

/**
 * render_fmt_value() - A measured value with as many digits as a reader can use
 */
void render_fmt_value(char *buf, size_t len, double v);

/**
 * render_fmt_pct() - A signed percentage ("+3.21%"), "n/a" if not finite
 */
void render_fmt_pct(char *buf, size_t len, double v);

/**
 * render_report_origin() - One line on where a report comes from: revision, branch, date
 */
void render_report_origin(char *buf, size_t len, const struct report *r);

/**
 * render_json_scalars() - "key value, key value" of an object's scalar members (config, host)
 */
void render_json_scalars(char *buf, size_t len, const json_t *obj);

/**
 * render_summary_table() - One row per metric (per report, when there are several)
 *
 * Return: 0 or -ENOMEM
 */
int render_summary_table(const struct report *const *reports, size_t n, struct table *t);

/**
 * render_comparison_table() - One row per metric and candidate, grouped by metric
 *
 * Return: 0 or -ENOMEM
 */
int render_comparison_table(const struct comparison *c, struct table *t);

/**
 * render_comparison_counts() - "1 regressed, 2 unchanged, ..." over all candidates
 */
void render_comparison_counts(char *buf, size_t len, const struct comparison *c);

/**
 * render_pairing_line() - Which test one candidate's rows got, and why
 *
 * "paired round by round (one interleaved run, 10 rounds): ...", or why the samples were not
 * paired (reports of different runs; too few rounds for the paired test to reach alpha), and
 * the metrics that some round did not give, which were not paired either.
 */
void render_pairing_line(char *buf, size_t len, const struct comparison *c,
                         const struct compare_result *res);

/* Lines of text (warnings, notes) a renderer prints as a list. */
struct notes {
    char **lines;
    size_t n;
};

/* The percentage of the median below which an interval counts as stalled (iperf_result.h). */
#define STALL_PERCENT 10.0

int notes_add(struct notes *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void notes_free(struct notes *n);

/**
 * render_metric_names() - Metric names of all reports, each once, in order of first appearance
 * @names:	New array of @nnames pointers into the reports, to free()
 *
 * The one grouping of metrics every renderer uses: summary sections, comparison tables and
 * charts all list metrics in this order.
 *
 * Return: 0 or -ENOMEM
 */
int render_metric_names(const struct report *const *reports, size_t n, const char ***names,
                        size_t *nnames);

/**
 * render_comparison_reports() - The baseline, then each candidate, as one array to free()
 *
 * Return: the array, NULL on allocation failure
 */
const struct report **render_comparison_reports(const struct comparison *c);

/**
 * render_stall_note() - "stalled: 3 of 5 candidate runs had 1-s intervals below 10% of the
 * median (...)" for a row whose runs stalled, "" otherwise
 */
void render_stall_note(char *buf, size_t len, const struct compare_row *row);

/**
 * render_stall_notes() - One note per stalled row of a comparison, naming metric and candidate
 *
 * Return: 0 or -ENOMEM
 */
int render_stall_notes(const struct comparison *c, struct notes *out);

/* Provenance fields in display order (report_provenance() names), and their count. */
extern const char *const render_provenance_fields[];
#define NPROVENANCE 14

/**
 * render_provenance_line() - "qemu_version 10.0.2, passt_version unknown, ..." of one report
 */
void render_provenance_line(char *buf, size_t len, const struct report *r);

/**
 * render_provenance_notes() - Why a comparison may not be an A/B of the code: a candidate that
 * differs from the baseline in a provenance field (QEMU, CPU, accel, ...), a report built from
 * a dirty tree, a report run on a busy machine (load above half its CPUs)
 *
 * Return: 0 or -ENOMEM
 */
int render_provenance_notes(const struct comparison *c, struct notes *out);

/**
 * render_comparison_notes() - Every warning of a comparison, as each format lists them after
 * its table: provenance differences, stalls, and rate rows too coarse for the resolution
 * compare_options.require_detectable_pct asked for
 *
 * Return: 0 or -ENOMEM
 */
int render_comparison_notes(const struct comparison *c, struct notes *out);

/* "regression found", "inconclusive: ..." or "no regression": the comparison in three words. */
const char *render_comparison_headline(const struct comparison *c);

/**
 * render_stalled_iterations() - For each "*_stalled_intervals" metric of @r with a stall: which
 * iterations (1-based) stalled and how many intervals each
 *
 * Return: 0 or -ENOMEM
 */
int render_stalled_iterations(const struct report *r, struct notes *out);

#endif /* BURETTE_RENDER_IMPL_H */
