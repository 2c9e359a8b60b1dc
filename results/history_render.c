/* SPDX-License-Identifier: MIT */
/*
 * history_render - the change points of a history in the format a user asks for; see
 * history_render.h. It sits above both the detection (history_detect.c) and the HTML page
 * (history_html.c) and picks one: text and markdown print one table built once (table.h), so
 * both say the same; JSON carries every number unrounded; html is the page.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "history_detect.h"
#include "history_html.h"
#include "history_render.h"
#include "render_impl.h"
#include "table.h"

const char *history_render_formats(void)
{
    return "text, markdown, json, html";
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
        snprintf(what, sizeof(what), "%s%s", verdict(c), history_change_note(d, i));
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
            json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:s, s:b, s:b}",
                      "series", (json_int_t)c->series, "metric", s->metric, "host", s->host_key,
                      "index", (json_int_t)c->c.index, "revision_before", before->revision,
                      "revision_after", after->revision, "date_before", before->date, "date_after",
                      after->date, "mean_before", c->c.mean_before, "mean_after", c->c.mean_after,
                      "change", isfinite(c->c.change) ? c->c.change : 0.0, "p", c->c.p, "verdict",
                      verdict(c), "recent", c->recent, "fails_gate", history_change_gated(d, i));

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

int history_render(const char *format, FILE *f, const struct history_detection *d, char *err,
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
                          history_render_formats());
    }
    if (rc || ferror(f))
        return errbuf_set(err, errlen, -EIO, "cannot write the change points");
    return 0;
}
