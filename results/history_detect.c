/* SPDX-License-Identifier: MIT */
/*
 * history_detect - change points of a history's series and their renderings; see
 * history_detect.h. Text and markdown print one table built once (table.h), so both say the
 * same; JSON carries every number unrounded.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "history_detect.h"
#include "render_impl.h"
#include "table.h"

/*
 * The values edivisive looks at for series @s: every sample of every run, with @off marking
 * where each run's begin, when @o asks for samples and every run has some; else one mean per
 * run (@off then NULL). Return: 0 or -ENOMEM.
 */
static int series_values(const struct history_series *s, const struct ed_options *o,
                         double **values, size_t **off)
{
    size_t total = 0;
    bool samples = o->on_samples;

    *values = NULL;
    *off = NULL;
    for (size_t j = 0; j < s->npoints && samples; j++) {
        samples = s->points[j].nsamples > 0;
        total += s->points[j].nsamples;
    }
    if (!samples) {
        *values = malloc((s->npoints + 1) * sizeof(**values));
        if (!*values)
            return -ENOMEM;
        for (size_t j = 0; j < s->npoints; j++)
            (*values)[j] = s->points[j].mean;
        return 0;
    }
    *values = malloc((total + 1) * sizeof(**values));
    *off = malloc((s->npoints + 1) * sizeof(**off));
    if (!*values || !*off) {
        free(*values);
        free(*off);
        *values = NULL;
        *off = NULL;
        return -ENOMEM;
    }
    (*off)[0] = 0;
    for (size_t j = 0; j < s->npoints; j++) {
        memcpy(*values + (*off)[j], s->points[j].samples, s->points[j].nsamples * sizeof(**values));
        (*off)[j + 1] = (*off)[j] + s->points[j].nsamples;
    }
    return 0;
}

int history_detect(const struct history_series *s, size_t n, const struct ed_options *o,
                   size_t last_runs, struct history_detection *out, char *err, size_t errlen)
{
    double *values = NULL;
    size_t *off = NULL;
    size_t cap = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->series = s;
    out->nseries = n;
    out->last_runs = last_runs;
    for (size_t i = 0; i < n; i++) {
        struct ed_change *found = NULL;
        size_t nfound = 0;
        struct history_change *more;

        free(values);
        free(off);
        if (series_values(&s[i], o, &values, &off)) {
            rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
            goto fail;
        }
        rc = off ? edivisive_samples(values, off, s[i].npoints, o, &found, &nfound)
                 : edivisive(values, s[i].npoints, o, &found, &nfound);
        if (rc == -EINVAL) {
            rc = errbuf_set(err, errlen, rc,
                            "%s: cannot look for change points (bad options, or a mean that is "
                            "not a number)",
                            s[i].metric);
            goto fail;
        }
        if (rc) {
            rc = errbuf_set(err, errlen, rc, "out of memory");
            goto fail;
        }
        if (out->nchanges + nfound > cap) {
            cap = (out->nchanges + nfound) * 2;
            more = realloc(out->changes, cap * sizeof(*more));
            if (!more) {
                free(found);
                rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
                goto fail;
            }
            out->changes = more;
        }
        for (size_t k = 0; k < nfound; k++) {
            struct history_change *c = &out->changes[out->nchanges++];

            c->series = i;
            c->c = found[k];
            c->regression = s[i].higher_is_better ? found[k].change < 0 : found[k].change > 0;
            c->recent = found[k].index + last_runs >= s[i].npoints;
        }
        free(found);
    }
    free(values);
    free(off);
    return 0;
fail:
    free(values);
    free(off);
    history_detection_free(out);
    return rc;
}

void history_detection_free(struct history_detection *d)
{
    free(d->changes);
    d->changes = NULL;
    d->nchanges = 0;
}

bool history_detect_gate(const struct history_detection *d)
{
    for (size_t i = 0; i < d->nchanges; i++) {
        const struct history_change *c = &d->changes[i];
        bool newest = i + 1 == d->nchanges || d->changes[i + 1].series != c->series;

        if (newest && c->regression && c->recent)
            return true;
    }
    return false;
}

const char *history_detect_formats(void)
{
    return "text, markdown, json, html";
}

void history_short_revision(char *buf, size_t len, const char *revision)
{
    snprintf(buf, len, "%.12s", revision && *revision ? revision : "unknown");
}

void history_series_title(char *buf, size_t len, const struct history_series *s)
{
    char what[256] = "";
    const char *parts[] = {s->backend, s->nic, s->transport};

    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t used = strlen(what);

        if (parts[i] && *parts[i])
            snprintf(what + used, sizeof(what) - used, "%s%s", used ? ", " : "", parts[i]);
    }
    snprintf(buf, len, "%s (%s%s%s)", s->metric, what, *what ? "; " : "", s->host_key);
}

static const char *verdict(const struct history_change *c)
{
    if (c->c.change == 0)
        return "unchanged";
    return c->regression ? "regression" : "improvement";
}

/* "abc..def (2026-11-20 .. 2026-11-21)": the last run before and the first run after. */
static void revision_range(char *buf, size_t len, const struct history_series *s, size_t index)
{
    const struct history_point *before = &s->points[index - 1], *after = &s->points[index];
    char a[16], b[16];

    history_short_revision(a, sizeof(a), before->revision);
    history_short_revision(b, sizeof(b), after->revision);
    snprintf(buf, len, "%s..%s (%.10s .. %.10s)", a, b, before->date, after->date);
}

static int build_table(const struct history_detection *d, struct table *t)
{
    static const char *const headers[] = {"metric", "config / host", "runs", "between", "before",
                                          "after",  "change",        "p",    "verdict"};
    static const enum table_align align[] = {ALIGN_LEFT,  ALIGN_LEFT,  ALIGN_RIGHT,
                                             ALIGN_LEFT,  ALIGN_RIGHT, ALIGN_RIGHT,
                                             ALIGN_RIGHT, ALIGN_RIGHT, ALIGN_LEFT};
    int rc = table_init(t, 9, headers, align);

    for (size_t i = 0; i < d->nchanges && !rc; i++) {
        const struct history_change *c = &d->changes[i];
        const struct history_series *s = &d->series[c->series];
        char title[512], where[64], range[96], before[32], after[32], pct[32], p[16], what[64];
        const char *cells[] = {
            s->metric, title + strlen(s->metric) + 1, where, range, before, after, pct, p, what};

        history_series_title(title, sizeof(title), s);
        snprintf(where, sizeof(where), "%zu of %zu", c->c.index + 1, s->npoints);
        revision_range(range, sizeof(range), s, c->c.index);
        render_fmt_value(before, sizeof(before), c->c.mean_before);
        render_fmt_value(after, sizeof(after), c->c.mean_after);
        render_fmt_pct(pct, sizeof(pct), c->c.change * 100);
        snprintf(p, sizeof(p), "%.3f", c->c.p);
        snprintf(what, sizeof(what), "%s%s", verdict(c),
                 c->recent && c->regression ? " (recent)" : "");
        rc = table_add_row(t, cells);
    }
    return rc;
}

static void summary_line(char *buf, size_t len, const struct history_detection *d)
{
    size_t regressions = 0, points = 0;

    for (size_t i = 0; i < d->nchanges; i++)
        regressions += d->changes[i].regression;
    for (size_t i = 0; i < d->nseries; i++)
        points += d->series[i].npoints;
    snprintf(buf, len,
             "%zu change point%s (%zu regression%s) in %zu series over %zu results; gate: %s",
             d->nchanges, d->nchanges == 1 ? "" : "s", regressions, regressions == 1 ? "" : "s",
             d->nseries, points,
             history_detect_gate(d) ? "FAIL, a recent regression is the newest change" : "pass");
}

static json_t *detection_json(const struct history_detection *d)
{
    json_t *root = json_object(), *changes = json_array(), *series = json_array();

    if (!root || !changes || !series)
        goto fail;
    for (size_t i = 0; i < d->nseries; i++) {
        const struct history_series *s = &d->series[i];
        json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:I}", "metric", s->metric,
                              "unit", s->unit, "higher_is_better", s->higher_is_better, "backend",
                              s->backend, "nic", s->nic, "transport", s->transport, "host",
                              s->host_key, "config", s->config_key, "runs", (json_int_t)s->npoints);

        if (!o || json_array_append_new(series, o) < 0)
            goto fail;
    }
    for (size_t i = 0; i < d->nchanges; i++) {
        const struct history_change *c = &d->changes[i];
        const struct history_series *s = &d->series[c->series];
        const struct history_point *before = &s->points[c->c.index - 1];
        const struct history_point *after = &s->points[c->c.index];
        json_t *o =
            json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:s, s:b}",
                      "series", (json_int_t)c->series, "metric", s->metric, "host", s->host_key,
                      "index", (json_int_t)c->c.index, "revision_before", before->revision,
                      "revision_after", after->revision, "date_before", before->date, "date_after",
                      after->date, "mean_before", c->c.mean_before, "mean_after", c->c.mean_after,
                      "change", isfinite(c->c.change) ? c->c.change : 0.0, "p", c->c.p, "verdict",
                      verdict(c), "recent", c->recent);

        if (!o || json_array_append_new(changes, o) < 0)
            goto fail;
    }
    json_object_set_new(root, "series", series);
    series = NULL;
    json_object_set_new(root, "change_points", changes);
    changes = NULL;
    json_object_set_new(root, "last_runs", json_integer((json_int_t)d->last_runs));
    json_object_set_new(root, "fail", json_boolean(history_detect_gate(d)));
    return root;
fail:
    json_decref(root);
    json_decref(changes);
    json_decref(series);
    return NULL;
}

int history_detect_render(const char *format, FILE *f, const struct history_detection *d, char *err,
                          size_t errlen)
{
    char line[256];
    struct table t = {0};
    int rc = 0;

    if (!strcmp(format, "json")) {
        json_t *root = detection_json(d);

        if (!root)
            return errbuf_set(err, errlen, -ENOMEM, "out of memory");
        rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) || fputc('\n', f) < 0;
        json_decref(root);
    } else if (!strcmp(format, "text") || !strcmp(format, "markdown")) {
        bool md = !strcmp(format, "markdown");

        summary_line(line, sizeof(line), d);
        if (md)
            fprintf(f, "## burette history: change points\n\n%s%s%s\n\n",
                    history_detect_gate(d) ? "**" : "", line, history_detect_gate(d) ? "**" : "");
        else
            fprintf(f, "%s\n", line);
        if (d->nchanges) {
            if (build_table(d, &t)) {
                table_free(&t);
                return errbuf_set(err, errlen, -ENOMEM, "out of memory");
            }
            if (!md)
                fputc('\n', f);
            rc = md ? table_print_markdown(&t, f) : table_print_text(&t, f);
            table_free(&t);
        }
    } else if (!strcmp(format, "html")) {
        return history_render_html(f, d, err, errlen);
    } else {
        return errbuf_set(err, errlen, -EINVAL, "unknown format '%s' (available: %s)", format,
                          history_detect_formats());
    }
    if (rc || ferror(f))
        return errbuf_set(err, errlen, -EIO, "cannot write the change points");
    return 0;
}
