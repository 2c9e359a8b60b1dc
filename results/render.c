/* SPDX-License-Identifier: MIT */
/*
 * render - the table of renderers and the content they share; see render.h and render_impl.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "render_impl.h"

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
            char cnt[24], mean[32], sd[32], min[32], med[32], max[32], lo[32], hi[32], ci[80];
            const char *cells[10];

            snprintf(cnt, sizeof(cnt), "%zu", m->st.n);
            render_fmt_value(mean, sizeof(mean), m->st.mean);
            render_fmt_value(sd, sizeof(sd), m->st.std_dev);
            render_fmt_value(min, sizeof(min), m->st.min);
            render_fmt_value(med, sizeof(med), m->st.median);
            render_fmt_value(max, sizeof(max), m->st.max);
            render_fmt_value(lo, sizeof(lo), m->st.ci95_low);
            render_fmt_value(hi, sizeof(hi), m->st.ci95_high);
            if (isfinite(m->st.ci95_low))
                snprintf(ci, sizeof(ci), "[%s, %s]", lo, hi);
            else
                snprintf(ci, sizeof(ci), "n/a");
            cells[0] = report_label(reports[i]);
            cells[1] = m->name;
            cells[2] = m->unit;
            cells[3] = cnt;
            cells[4] = mean;
            cells[5] = sd;
            cells[6] = min;
            cells[7] = med;
            cells[8] = max;
            cells[9] = ci;
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
    char base[96], candv[96], delta[32], pct[32], lo[32], hi[32], ci[80], p[48], verdict[64];
    const char *cells[10];

    fmt_mean_sd(base, sizeof(base), row->base);
    fmt_mean_sd(candv, sizeof(candv), row->cand);
    if (row->base && row->cand) {
        render_fmt_value(delta, sizeof(delta), row->delta);
        if (row->delta > 0)
            memmove(delta + 1, delta, strlen(delta) + 1), delta[0] = '+';
        render_fmt_pct(pct, sizeof(pct), row->delta_pct);
        render_fmt_pct(lo, sizeof(lo), row->ci_low_pct);
        render_fmt_pct(hi, sizeof(hi), row->ci_high_pct);
        if (isfinite(row->ci_low_pct))
            snprintf(ci, sizeof(ci), "[%s, %s]", lo, hi);
        else
            snprintf(ci, sizeof(ci), "n/a");
        if (row->method == PVALUE_NONE)
            snprintf(p, sizeof(p), "n/a");
        else
            snprintf(p, sizeof(p), "%.2g%s", row->p_value,
                     row->method == PVALUE_WELCH                     ? " (w)"
                     : row->method == PVALUE_PERMUTATION_MONTE_CARLO ? " (mc)"
                                                                     : "");
    } else {
        snprintf(delta, sizeof(delta), "-");
        snprintf(pct, sizeof(pct), "-");
        snprintf(ci, sizeof(ci), "-");
        snprintf(p, sizeof(p), "-");
    }
    fmt_verdict(verdict, sizeof(verdict), row);
    cells[0] = row->name;
    cells[1] = cand;
    cells[2] = row->unit;
    cells[3] = base;
    cells[4] = candv;
    cells[5] = delta;
    cells[6] = pct;
    cells[7] = ci;
    cells[8] = p;
    cells[9] = verdict;
    if (skip) {
        /* Two-way: no candidate column. */
        cells[1] = cells[0];
        return table_add_row(t, cells + 1);
    }
    return table_add_row(t, cells);
}

/* Has an earlier candidate (or the baseline) already produced rows for this metric name? */
static bool name_seen(const struct comparison *c, size_t upto_result, size_t upto_row,
                      const char *name)
{
    for (size_t i = 0; i <= upto_result && i < c->nresults; i++) {
        size_t lim = i == upto_result ? upto_row : c->results[i].nrows;

        for (size_t j = 0; j < lim; j++)
            if (!strcmp(c->results[i].rows[j].name, name))
                return true;
    }
    return false;
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
    size_t skip = c->nresults > 1 ? 0 : 1;
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
    for (size_t i = 0; i < c->nresults; i++) {
        for (size_t j = 0; j < c->results[i].nrows; j++) {
            const char *name = c->results[i].rows[j].name;

            if (name_seen(c, i, j, name))
                continue;
            for (size_t k = i; k < c->nresults; k++) {
                for (size_t l = 0; l < c->results[k].nrows; l++) {
                    if (strcmp(c->results[k].rows[l].name, name))
                        continue;
                    rc = add_comparison_row(t, &c->results[k].rows[l],
                                            report_label(c->results[k].cand), skip);
                    if (rc < 0) {
                        table_free(t);
                        return rc;
                    }
                }
            }
        }
    }
    return 0;
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

static void set_number(json_t *o, const char *key, double v)
{
    json_object_set_new(o, key, isfinite(v) ? json_real(v) : json_null());
}

static json_t *side_json(const struct metric *m)
{
    json_t *o, *s;

    if (!m)
        return json_null();
    o = json_object();
    json_object_set_new(o, "iterations", json_integer((json_int_t)m->st.n));
    set_number(o, "mean", m->st.mean);
    set_number(o, "std_dev", m->st.std_dev);
    set_number(o, "ci95_low", m->st.ci95_low);
    set_number(o, "ci95_high", m->st.ci95_high);
    if (m->nsamples) {
        s = json_array();
        for (size_t i = 0; i < m->nsamples; i++)
            json_array_append_new(s, json_real(m->samples[i]));
        json_object_set_new(o, "samples", s);
    }
    return o;
}

static json_t *origin_json(const struct report *r)
{
    return json_pack("{s:s, s:s?, s:s, s:s, s:s, s:O?, s:O?}", "label", report_label(r), "source",
                     r->source, "git_revision", r->git_revision, "git_branch", r->git_branch,
                     "date", r->date, "config", r->config, "host", r->host);
}

json_t *render_comparison_json(const struct comparison *c)
{
    json_t *root, *cands;

    root = json_pack("{s:f, s:f, s:i, s:o}", "alpha", c->opts.alpha, "threshold_pct",
                     c->opts.threshold_pct, "regressed", (json_int_t)c->regressed, "baseline",
                     origin_json(c->base));
    cands = json_array();
    if (!root || !cands)
        goto fail;
    for (size_t i = 0; i < c->nresults; i++) {
        const struct compare_result *res = &c->results[i];
        json_t *cand = origin_json(res->cand), *metrics = json_array(), *counts = json_object();

        for (size_t v = 0; v <= VERDICT_CANDIDATE_ONLY; v++)
            json_object_set_new(counts, verdict_name(v), json_integer((json_int_t)res->count[v]));
        for (size_t j = 0; j < res->nrows; j++) {
            const struct compare_row *row = &res->rows[j];
            json_t *m = json_object();

            json_object_set_new(m, "name", json_string(row->name));
            json_object_set_new(m, "unit", json_string(row->unit));
            json_object_set_new(m, "higher_is_better", json_boolean(row->higher_is_better));
            json_object_set_new(m, "baseline", side_json(row->base));
            json_object_set_new(m, "candidate", side_json(row->cand));
            set_number(m, "delta", row->delta);
            set_number(m, "delta_pct", row->delta_pct);
            set_number(m, "ci95_change_low_pct", row->ci_low_pct);
            set_number(m, "ci95_change_high_pct", row->ci_high_pct);
            set_number(m, "p_value", row->p_value);
            json_object_set_new(m, "test", json_string(pvalue_method_name(row->method)));
            json_object_set_new(m, "verdict", json_string(verdict_name(row->verdict)));
            if (row->reason != REASON_NONE)
                json_object_set_new(m, "reason", json_string(verdict_reason_text(row->reason)));
            json_array_append_new(metrics, m);
        }
        json_object_set_new(cand, "counts", counts);
        json_object_set_new(cand, "metrics", metrics);
        json_array_append_new(cands, cand);
    }
    json_object_set_new(root, "candidates", cands);
    return root;
fail:
    json_decref(root);
    json_decref(cands);
    return NULL;
}
