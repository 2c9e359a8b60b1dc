/* SPDX-License-Identifier: MIT */
/*
 * render - the table of renderers and the content they share; see render.h and render_impl.h.
 *
 * Shared means used by two formats or more: the summary and comparison tables, the formatting
 * of values, and the warnings (notes) printed after a table. What only one format prints lives
 * in its file: the comparison's JSON object in render_json.c, the text and markdown framing
 * of reports and notes in render_plain.c.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "render_impl.h"
#include "text.h"

const char *const render_provenance_fields[] = {
    "qemu_version",
    "passt_version",
    "libslirp_version",
    "iperf3_version",
    "guest_iperf3_version",
    "guest_kernel",
    "guest_image_sha256",
    "cpu_model",
    "cpu_count",
    "load_start",
    "load_end",
    "accel",
    "git_revision",
    "git_dirty",
};

/* One row per format: adding a format is one file and one line here. */
static const struct renderer *const renderers[] = {
    &render_text,
    &render_markdown,
    &render_json,
    &render_html,
};

#define NRENDERERS (sizeof(renderers) / sizeof(renderers[0]))

const struct renderer *renderer_find(const char *name)
{
    for (size_t i = 0; name && i < NRENDERERS; i++)
        if (!strcmp(renderers[i]->name, name))
            return renderers[i];
    return NULL;
}

const char *renderer_names(void)
{
    static char names[128];

    if (!*names)
        for (size_t i = 0; i < NRENDERERS; i++)
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "",
                     renderers[i]->name);
    return names;
}

int render_reports(const char *format, FILE *f, const struct report *const *reports, size_t n,
                   char *err, size_t errlen)
{
    const struct renderer *r = renderer_find(format);

    if (!r || !r->reports)
        return errbuf_set(err, errlen, EINVAL, "unknown format '%s' (available: %s)", format,
                          renderer_names());
    return r->reports(f, reports, n, err, errlen);
}

int render_comparison(const char *format, FILE *f, const struct comparison *c, char *err,
                      size_t errlen)
{
    const struct renderer *r = renderer_find(format);

    if (!r || !r->comparison)
        return errbuf_set(err, errlen, EINVAL, "unknown format '%s' (available: %s)", format,
                          renderer_names());
    return r->comparison(f, c, err, errlen);
}

void render_fmt_value(char *buf, size_t len, double v)
{
    double a = fabs(v);

    if (!isfinite(v))
        snprintf(buf, len, "n/a");
    else if (a >= 1e15)
        /* "%.0f" would print up to 309 digits, more than any cell holds or a reader uses */
        snprintf(buf, len, "%.4g", v);
    else if (a >= 10000)
        snprintf(buf, len, "%.0f", v);
    else if (a >= 100)
        snprintf(buf, len, "%.1f", v);
    else if (a >= 1 || a == 0)
        snprintf(buf, len, "%.3f", v);
    else
        snprintf(buf, len, "%.4g", v);
}

void render_fmt_pct(char *buf, size_t len, double v)
{
    if (!isfinite(v))
        snprintf(buf, len, "n/a");
    else if (fabs(v) < 0.005)
        snprintf(buf, len, "0.00%%");
    else
        snprintf(buf, len, "%+.2f%%", v);
}

void render_report_origin(char *buf, size_t len, const struct report *r)
{
    snprintf(buf, len, "revision %.12s%s%s%s, %s", *r->git_revision ? r->git_revision : "unknown",
             *r->git_branch ? " (" : "", r->git_branch, *r->git_branch ? ")" : "",
             *r->date ? r->date : "undated");
}

void render_json_scalars(char *buf, size_t len, const json_t *obj)
{
    const char *key;
    json_t *v;
    size_t used = 0;

    *buf = '\0';
    json_object_foreach((json_t *)obj, key, v)
    {
        char val[256];

        if (json_is_string(v))
            snprintf(val, sizeof(val), "%s", json_string_value(v));
        else if (json_is_integer(v))
            snprintf(val, sizeof(val), "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
            snprintf(val, sizeof(val), "%g", json_real_value(v));
        else if (json_is_boolean(v))
            snprintf(val, sizeof(val), "%s", json_is_true(v) ? "yes" : "no");
        else if (json_is_object(v)) {
            /* One level of nesting, e.g. tcp_rx_buffer (initial 16384, max 4194304). */
            char inner[200];

            render_json_scalars(inner, sizeof(inner), v);
            snprintf(val, sizeof(val), "(%s)", inner);
        } else
            continue;
        if (used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s %s", used ? ", " : "", key, val);
    }
}

static void fmt_mean_sd(char *buf, size_t len, const struct metric *m)
{
    char mean[32], sd[32];

    if (!m) {
        snprintf(buf, len, "-");
        return;
    }
    render_fmt_value(mean, sizeof(mean), m->st.mean);
    render_fmt_value(sd, sizeof(sd), m->st.std_dev);
    snprintf(buf, len, "%s ± %s (n=%zu)", mean, sd, m->st.n);
}

/* "[low, high]" of an interval, each end formatted by @fmt; "n/a" where there is none. */
static void fmt_interval(char *buf, size_t len, double low, double high,
                         void (*fmt)(char *, size_t, double))
{
    char lo[32], hi[32];

    if (!isfinite(low)) {
        snprintf(buf, len, "n/a");
        return;
    }
    fmt(lo, sizeof(lo), low);
    fmt(hi, sizeof(hi), high);
    snprintf(buf, len, "[%s, %s]", lo, hi);
}

int render_summary_table(const struct report *const *reports, size_t n, struct table *t)
{
    static const char *const headers[] = {"report",  "metric", "unit",   "n",   "mean",
                                          "std dev", "min",    "median", "max", "95% CI of mean"};
    static const enum table_align align[] = {ALIGN_LEFT,  ALIGN_LEFT,  ALIGN_LEFT,  ALIGN_RIGHT,
                                             ALIGN_RIGHT, ALIGN_RIGHT, ALIGN_RIGHT, ALIGN_RIGHT,
                                             ALIGN_RIGHT, ALIGN_RIGHT};
    /* The report column only when there is more than one report to tell apart. */
    size_t skip = n > 1 ? 0 : 1;
    int rc = table_init(t, 10 - skip, headers + skip, align + skip);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < reports[i]->nmetrics; j++) {
            const struct metric *m = &reports[i]->metrics[j];
            char cnt[24], mean[32], sd[32], min[32], med[32], max[32], ci[80];
            const char *cells[] = {
                report_label(reports[i]), m->name, m->unit, cnt, mean, sd, min, med, max, ci};

            snprintf(cnt, sizeof(cnt), "%zu", m->st.n);
            render_fmt_value(mean, sizeof(mean), m->st.mean);
            render_fmt_value(sd, sizeof(sd), m->st.std_dev);
            render_fmt_value(min, sizeof(min), m->st.min);
            render_fmt_value(med, sizeof(med), m->st.median);
            render_fmt_value(max, sizeof(max), m->st.max);
            fmt_interval(ci, sizeof(ci), m->st.ci95_low, m->st.ci95_high, render_fmt_value);
            rc = table_add_row(t, cells + skip);
            if (rc < 0) {
                table_free(t);
                return rc;
            }
        }
    }
    return 0;
}

static void fmt_verdict(char *buf, size_t len, const struct compare_row *row)
{
    if (row->reason == REASON_TOO_FEW_SAMPLES)
        snprintf(buf, len, "%s (too few samples)", verdict_name(row->verdict));
    else if (row->reason == REASON_BELOW_THRESHOLD)
        snprintf(buf, len, "%s (below threshold)", verdict_name(row->verdict));
    else
        snprintf(buf, len, "%s", verdict_name(row->verdict));
}

static int add_comparison_row(struct table *t, const struct compare_row *row, const char *cand,
                              size_t skip)
{
    char base[96], candv[96], value_text[32], delta[33], pct[32], ci[80], p[48], verdict[64];
    const char *cells[] = {row->name, cand, row->unit, base, candv, delta, pct, ci, p, verdict};

    fmt_mean_sd(base, sizeof(base), row->base);
    fmt_mean_sd(candv, sizeof(candv), row->cand);
    if (row->base && row->cand) {
        render_fmt_value(value_text, sizeof(value_text), row->delta);
        snprintf(delta, sizeof(delta), "%s%s", row->delta > 0 ? "+" : "", value_text);
        render_fmt_pct(pct, sizeof(pct), row->delta_pct);
        fmt_interval(ci, sizeof(ci), row->ci_low_pct, row->ci_high_pct, render_fmt_pct);
        if (row->method == PVALUE_NONE)
            snprintf(p, sizeof(p), "n/a");
        else
            snprintf(p, sizeof(p), "%.2g%s", row->p_value,
                     row->method == PVALUE_WELCH                     ? " (w)"
                     : row->method == PVALUE_PERMUTATION_MONTE_CARLO ? " (mc)"
                     : row->method == PVALUE_PAIRED_EXACT            ? " (pd)"
                     : row->method == PVALUE_PAIRED_MONTE_CARLO      ? " (pd, mc)"
                                                                     : "");
    } else {
        snprintf(delta, sizeof(delta), "-");
        snprintf(pct, sizeof(pct), "-");
        snprintf(ci, sizeof(ci), "-");
        snprintf(p, sizeof(p), "-");
    }
    fmt_verdict(verdict, sizeof(verdict), row);
    if (row->stalled)
        snprintf(verdict + strlen(verdict), sizeof(verdict) - strlen(verdict), " [stalled]");
    if (skip) {
        /* Two-way: no candidate column. */
        cells[1] = cells[0];
        return table_add_row(t, cells + 1);
    }
    return table_add_row(t, cells);
}

int render_metric_names(const struct report *const *reports, size_t n, const char ***names,
                        size_t *nnames)
{
    size_t total = 0;

    *nnames = 0;
    for (size_t i = 0; i < n; i++)
        total += reports[i]->nmetrics;
    *names = calloc(total ? total : 1, sizeof(**names));
    if (!*names)
        return -ENOMEM;
    /* Names are unique within a report, so a name is new unless an earlier report has it:
     * one hash lookup per earlier report, never a scan of the names so far. */
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < reports[i]->nmetrics; j++) {
            const char *name = reports[i]->metrics[j].name;
            bool seen = false;

            for (size_t k = 0; k < i && !seen; k++)
                seen = report_find_metric(reports[k], name) != NULL;
            if (!seen)
                (*names)[(*nnames)++] = name;
        }
    }
    return 0;
}

const struct report **render_comparison_reports(const struct comparison *c)
{
    const struct report **reports = calloc(c->nresults + 1, sizeof(*reports));

    if (!reports)
        return NULL;
    reports[0] = c->base;
    for (size_t i = 0; i < c->nresults; i++)
        reports[i + 1] = c->results[i].cand;
    return reports;
}

int render_comparison_table(const struct comparison *c, struct table *t)
{
    static const char *const headers[] = {
        "metric", "candidate",        "unit", "baseline mean", "candidate mean", "delta",
        "change", "95% CI of change", "p",    "verdict"};
    static const enum table_align align[] = {ALIGN_LEFT,  ALIGN_LEFT,  ALIGN_LEFT,  ALIGN_RIGHT,
                                             ALIGN_RIGHT, ALIGN_RIGHT, ALIGN_RIGHT, ALIGN_RIGHT,
                                             ALIGN_RIGHT, ALIGN_LEFT};
    const char *two_way_headers[9];
    enum table_align two_way_align[9];
    size_t skip = c->nresults > 1 ? 0 : 1, nnames = 0;
    const struct report **reports;
    const char **names = NULL;
    int rc;

    if (skip) {
        two_way_headers[0] = headers[0];
        two_way_align[0] = align[0];
        for (size_t i = 2; i < 10; i++) {
            two_way_headers[i - 1] = headers[i];
            two_way_align[i - 1] = align[i];
        }
        rc = table_init(t, 9, two_way_headers, two_way_align);
    } else {
        rc = table_init(t, 10, headers, align);
    }
    if (rc < 0)
        return rc;
    /* Grouped by metric, in order of first appearance, so an N-way table reads "this metric:
     * candidate 1, candidate 2, ...". */
    reports = render_comparison_reports(c);
    rc = reports ? render_metric_names(reports, c->nresults + 1, &names, &nnames) : -ENOMEM;
    for (size_t k = 0; !rc && k < nnames; k++) {
        for (size_t i = 0; !rc && i < c->nresults; i++) {
            const struct compare_row *row = compare_find_row(c, &c->results[i], names[k]);

            if (row)
                rc = add_comparison_row(t, row, report_label(c->results[i].cand), skip);
        }
    }
    free(names);
    free(reports);
    if (rc < 0)
        table_free(t);
    return rc;
}

void render_comparison_counts(char *buf, size_t len, const struct comparison *c)
{
    size_t count[VERDICT_CANDIDATE_ONLY + 1] = {0};

    for (size_t i = 0; i < c->nresults; i++)
        for (size_t v = 0; v <= VERDICT_CANDIDATE_ONLY; v++)
            count[v] += c->results[i].count[v];
    snprintf(buf, len,
             "%zu regressed, %zu improved, %zu unchanged, %zu noisy; %zu only in the baseline, "
             "%zu only in a candidate (alpha %g, threshold %g%%)",
             count[VERDICT_REGRESSED], count[VERDICT_IMPROVED], count[VERDICT_UNCHANGED],
             count[VERDICT_NOISY], count[VERDICT_BASELINE_ONLY], count[VERDICT_CANDIDATE_ONLY],
             c->opts.alpha, c->opts.threshold_pct);
}

/*
 * "; NAME, NAME and N more were not given in every round: unpaired test" for the rows of @res
 * that could not be paired for a missing round (PAIRING_GAPS), or "" when there are none: else
 * a reader of a paired comparison is left to wonder why those rows were not paired.
 */
static void fmt_gap_rows(char *buf, size_t len, const struct compare_result *res)
{
    enum { NAMED = 3 };
    size_t gaps = 0, used;

    used = (size_t)snprintf(buf, len, "; ");
    for (size_t i = 0; i < res->nrows; i++) {
        if (res->rows[i].pairing != PAIRING_GAPS)
            continue;
        if (gaps < NAMED && used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", gaps ? ", " : "",
                                     res->rows[i].name);
        gaps++;
    }
    if (!gaps) {
        *buf = '\0';
        return;
    }
    if (gaps > NAMED && used < len)
        used += (size_t)snprintf(buf + used, len - used, " and %zu more", gaps - NAMED);
    if (used < len)
        snprintf(buf + used, len - used, " %s not given in every round: unpaired test",
                 gaps > 1 ? "were" : "was");
}

void render_pairing_line(char *buf, size_t len, const struct comparison *c,
                         const struct compare_result *res)
{
    const char *base = report_label(c->base), *cand = report_label(res->cand);
    size_t paired = 0, too_few = 0, off = 0, rounds = 0;
    char gaps[400];

    for (size_t i = 0; i < res->nrows; i++) {
        paired += res->rows[i].pairing == PAIRING_PAIRED;
        too_few += res->rows[i].pairing == PAIRING_TOO_FEW;
        off += res->rows[i].pairing == PAIRING_OFF;
        if (res->rows[i].rounds > rounds)
            rounds = res->rows[i].rounds;
    }
    fmt_gap_rows(gaps, sizeof(gaps), res);
    if (paired)
        snprintf(buf, len,
                 "%s vs %s: samples paired round by round (one interleaved run, %zu rounds): "
                 "sign-flip test on the per-round ratios, CI of their geometric mean (pd)%s%s",
                 base, cand, rounds,
                 too_few ? "; metrics with fewer rounds than that got the unpaired test" : "",
                 gaps);
    else if (off)
        snprintf(buf, len,
                 "%s vs %s: one interleaved run, %zu rounds, unpaired test as asked (--unpaired)",
                 base, cand, rounds);
    else if (too_few)
        snprintf(buf, len,
                 "%s vs %s: one interleaved run, but %zu rounds are too few for a paired test "
                 "to reach alpha %g (it needs %zu): unpaired test on the samples%s",
                 base, cand, rounds, c->opts.alpha, compare_paired_min_rounds(c->opts.alpha), gaps);
    else if (res->same_run)
        snprintf(buf, len,
                 "%s vs %s: one interleaved run, but no metric has one sample per round on both "
                 "sides: unpaired test",
                 base, cand);
    else
        snprintf(buf, len,
                 "%s vs %s: unpaired test (not one interleaved run: the reports carry no common "
                 "config.run_id)",
                 base, cand);
}

int notes_add(struct notes *n, const char *fmt, ...)
{
    char **lines = realloc(n->lines, (n->n + 1) * sizeof(*lines));
    va_list ap;
    int len;

    if (!lines)
        return -ENOMEM;
    n->lines = lines;
    va_start(ap, fmt);
    len = vasprintf(&n->lines[n->n], fmt, ap);
    va_end(ap);
    if (len < 0)
        return -ENOMEM;
    n->n++;
    return 0;
}

void notes_free(struct notes *n)
{
    for (size_t i = 0; i < n->n; i++)
        free(n->lines[i]);
    free(n->lines);
    n->lines = NULL;
    n->n = 0;
}

static void fmt_stall_side(char *buf, size_t len, const struct stall_count *s, const char *side)
{
    if (s->runs)
        snprintf(buf, len, "%zu of %zu %s runs", s->stalled, s->runs, side);
    else
        snprintf(buf, len, "some %s runs", side);
}

void render_stall_note(char *buf, size_t len, const struct compare_row *row)
{
    char b[64] = "", c[64] = "";

    *buf = '\0';
    if (!row->stalled)
        return;
    if (row->base_stalls.stalled)
        fmt_stall_side(b, sizeof(b), &row->base_stalls, "baseline");
    if (row->cand_stalls.stalled)
        fmt_stall_side(c, sizeof(c), &row->cand_stalls, "candidate");
    snprintf(buf, len,
             "stalled: %s%s%s had 1-s intervals below %g%% of the median (a stall of the "
             "transfer, not the stack's speed: read this change with care)",
             b, *b && *c ? " and " : "", c, STALL_PERCENT);
}

/* One note per rate row too coarse for the resolution asked for: what it could see, why, and
 * what would fix it. */
static int resolution_notes(const struct comparison *c, struct notes *out)
{
    for (size_t i = 0; i < c->nresults; i++) {
        for (size_t j = 0; j < c->results[i].nrows; j++) {
            const struct compare_row *row = &c->results[i].rows[j];
            const char *label = report_label(c->results[i].cand);
            size_t n = row->base ? row->base->st.n : 0;
            int rc;

            if (!row->undetectable)
                continue;
            if (!isfinite(row->detectable_pct))
                rc = notes_add(out,
                               "%s (%s): inconclusive: with %zu run%s per side no change could "
                               "be called at alpha %g, so a %g%% change may have gone unseen: "
                               "run more --iterations",
                               row->name, label, n, n == 1 ? "" : "s", c->opts.alpha,
                               c->opts.require_detectable_pct);
            else if (row->rounds_needed)
                rc = notes_add(out,
                               "%s (%s): inconclusive: at this spread over %zu runs per side "
                               "only a change of %.1f%% or more would be seen (8 times in 10), "
                               "not the %g%% required: about %zu runs per side would, or a "
                               "quieter machine",
                               row->name, label, n, row->detectable_pct,
                               c->opts.require_detectable_pct, row->rounds_needed);
            else
                rc = notes_add(out,
                               "%s (%s): inconclusive: only a change of %.1f%% or more would "
                               "be seen (8 times in 10), not the %g%% required",
                               row->name, label, row->detectable_pct,
                               c->opts.require_detectable_pct);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* One note per regressed row the gate does not cover: shown, so nobody misses it, and said
 * not to fail, so nobody wonders why the job stayed green. */
static int gate_notes(const struct comparison *c, struct notes *out)
{
    for (size_t i = 0; i < c->nresults; i++) {
        for (size_t j = 0; j < c->results[i].nrows; j++) {
            const struct compare_row *row = &c->results[i].rows[j];

            if (row->verdict != VERDICT_REGRESSED || metric_gate_covers(&c->opts.gate, row->name))
                continue;
            if (notes_add(out,
                          "%s (%s): regressed, outside the gate (--gate %s): not counted as a "
                          "regression; --gate all would count it",
                          row->name, report_label(c->results[i].cand),
                          c->opts.gate.spec ? c->opts.gate.spec : "results") < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

int render_comparison_notes(const struct comparison *c, struct notes *out)
{
    int rc = render_provenance_notes(c, out);

    if (!rc)
        rc = render_stall_notes(c, out);
    if (!rc)
        rc = resolution_notes(c, out);
    if (!rc)
        rc = gate_notes(c, out);
    return rc;
}

const char *render_comparison_headline(const struct comparison *c)
{
    return c->regressed      ? "regression found"
           : c->undetectable ? "inconclusive: a required resolution was not reached"
                             : "no regression";
}

int render_stall_notes(const struct comparison *c, struct notes *out)
{
    for (size_t i = 0; i < c->nresults; i++) {
        for (size_t j = 0; j < c->results[i].nrows; j++) {
            const struct compare_row *row = &c->results[i].rows[j];
            char note[320];

            if (!row->stalled)
                continue;
            render_stall_note(note, sizeof(note), row);
            if (notes_add(out, "%s (%s): %s", row->name, report_label(c->results[i].cand), note) <
                0)
                return -ENOMEM;
        }
    }
    return 0;
}

void render_provenance_line(char *buf, size_t len, const struct report *r)
{
    size_t used = 0;

    *buf = '\0';
    for (size_t i = 0; i < NPROVENANCE && used < len; i++) {
        char v[256];

        /* The revision opens the report's origin line already. */
        if (!strcmp(render_provenance_fields[i], "git_revision"))
            continue;
        report_provenance(r, render_provenance_fields[i], v, sizeof(v));
        used += (size_t)snprintf(buf + used, len - used, "%s%s %s", used ? ", " : "",
                                 render_provenance_fields[i], v);
    }
}

/*
 * Whether @r ran while other work shared the machine. The network test measures it: other
 * processes' CPU during each sub-test (<sub>_others_cpu_percent), busy when above a quarter of
 * the machine on average in some sub-test. Reports without it (other tests, older reports)
 * fall back on the load average, which is only a hint: at the start it still holds whatever
 * ran in the minute before (the build, the previous run), and at the end it counts the run's
 * own guest (its busy vCPUs and the backend), so the end must exceed half the CPUs beyond that.
 */
static bool busy(const struct report *r, double *load_start, double *load_end, double *others,
                 long long *cpus)
{
    const json_t *h = r->host;
    double vcpus = (double)json_integer_value(json_object_get(r->config, "vcpus"));

    *load_start = json_number_value(json_object_get(h, "load_start"));
    *load_end = json_number_value(json_object_get(h, "load_end"));
    *cpus = json_integer_value(json_object_get(h, "cpu_count"));
    *others = -1;
    for (size_t i = 0; i < r->nmetrics; i++)
        if (text_ends_with(r->metrics[i].name, OTHERS_CPU_METRIC_SUFFIX))
            *others = fmax(*others, r->metrics[i].st.mean);
    if (*cpus <= 0)
        return false;
    if (*others >= 0)
        return *others > BUSY_MACHINE_PERCENT * (double)*cpus;
    return *load_start > *cpus / 2.0 || *load_end > *cpus / 2.0 + (vcpus > 0 ? vcpus : 2) + 1;
}

static int provenance_of(const struct report *r, struct notes *out)
{
    double ls, le, others;
    long long cpus;
    char what[128];

    if (r->git_dirty > 0 &&
        notes_add(out,
                  "%s was built from a tree with uncommitted changes: its revision does not "
                  "name the code measured",
                  report_label(r)) < 0)
        return -ENOMEM;
    if (!busy(r, &ls, &le, &others, &cpus))
        return 0;
    if (others >= 0)
        snprintf(what, sizeof(what), "other processes took %.0f%% of a core during a sub-test",
                 others);
    else
        snprintf(what, sizeof(what), "load %.2f at start, %.2f at end", ls, le);
    if (notes_add(out,
                  "%s ran on a busy machine (%s; %lld CPUs): its figures include other work's "
                  "interference",
                  report_label(r), what, cpus) < 0)
        return -ENOMEM;
    return 0;
}

int render_provenance_notes(const struct comparison *c, struct notes *out)
{
    if (provenance_of(c->base, out) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < c->nresults; i++) {
        const struct report *cand = c->results[i].cand;
        char diff[1024] = "";
        size_t used = 0;

        if (provenance_of(cand, out) < 0)
            return -ENOMEM;
        /* Revisions differ in any A/B of code, and loads in any two runs: not listed here. */
        for (size_t k = 0; k < NPROVENANCE; k++) {
            const char *field = render_provenance_fields[k];
            char b[256], v[256];

            if (!strcmp(field, "git_revision") || !strcmp(field, "git_dirty") ||
                !strncmp(field, "load_", 5))
                continue;
            report_provenance(c->base, field, b, sizeof(b));
            report_provenance(cand, field, v, sizeof(v));
            if (strcmp(b, v) && used < sizeof(diff))
                used += (size_t)snprintf(diff + used, sizeof(diff) - used, "%s%s %s vs %s",
                                         used ? "; " : "", field, b, v);
        }
        if (*diff && notes_add(out,
                               "%s differs from the baseline %s in %s: this comparison is not an "
                               "A/B of the code alone",
                               report_label(cand), report_label(c->base), diff) < 0)
            return -ENOMEM;
    }
    return 0;
}

int render_stalled_iterations(const struct report *r, struct notes *out)
{
    for (size_t i = 0; i < r->nmetrics; i++) {
        const struct metric *m = &r->metrics[i];
        size_t used = 0;
        char list[512] = "";

        if (!text_ends_with(m->name, STALL_METRIC_SUFFIX))
            continue;
        for (size_t j = 0; j < m->nsamples && used < sizeof(list); j++)
            if (m->samples[j] > 0)
                used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%zu (%g interval%s)",
                                         used ? ", " : "", j + 1, m->samples[j],
                                         m->samples[j] == 1 ? "" : "s");
        if (!*list && (m->nsamples || !(m->st.mean > 0)))
            continue;
        if (notes_add(out,
                      "%s: %s: stalled iterations: %s (1-s intervals below %g%% of the run's "
                      "median)",
                      report_label(r), m->name, *list ? list : "unknown (summary only)",
                      STALL_PERCENT) < 0)
            return -ENOMEM;
    }
    return 0;
}
