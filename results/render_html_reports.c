/* SPDX-License-Identifier: MIT */
/*
 * render_html_reports - the HTML page's table of where each report comes from: origin,
 * provenance, config and host, one column per report, values that differ highlighted. The
 * table is laid out to its box's width (fixed layout, every cell may wrap), so it fits the page
 * with any number of reports. Report text only through html_put_text(); see render_html.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "array.h"
#include "render_html_reports.h"
#include "render_impl.h"

/* One scalar of a config or host object, as text; objects and arrays as compact JSON. */
static void put_json_value(FILE *f, const json_t *v)
{
    char *s;

    if (!v) {
        fputs("\u2014", f);
    } else if (json_is_string(v)) {
        html_put_text(f, json_string_value(v));
    } else if (json_is_integer(v)) {
        fprintf(f, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        fprintf(f, "%g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        fputs(json_is_true(v) ? "yes" : "no", f);
    } else if (json_is_null(v)) {
        fputs("null", f);
    } else {
        s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        html_put_text(f, s ? s : "?");
        free(s);
    }
}

/*
 * Do two reports state different values here? Then a reader's eye should land on it. A report
 * that says nothing (OpenVMM's plain format has no config) is not a difference: highlighting
 * every row for it would hide the one that matters.
 */
static bool values_differ(const json_t *const *vals, size_t n)
{
    const json_t *first = NULL;

    for (size_t i = 0; i < n; i++) {
        if (!vals[i])
            continue;
        if (!first)
            first = vals[i];
        else if (!json_equal((json_t *)first, (json_t *)vals[i]))
            return true;
    }
    return false;
}

static void put_cell(FILE *f, bool differs, const char *cls)
{
    fprintf(f, "<td class=\"%s%s\">", cls, differs ? " differs" : "");
}

enum origin_field {
    ORIGIN_REVISION,
    ORIGIN_BRANCH,
    ORIGIN_COMMIT_DATE,
    ORIGIN_DATE,
    ORIGIN_SOURCE
};

static const char *origin_value(const struct report *r, enum origin_field field)
{
    const char *v[] = {r->git_revision, r->git_branch, r->git_commit_date, r->date, r->source};

    return v[field] ? v[field] : "";
}

/*
 * One row of where the reports come from. Revisions and branches are highlighted when they
 * differ; dates and sources always do, so they are not. A revision is shown short, whole on
 * hover.
 */
static void origin_row(const struct page *pg, const char *title, enum origin_field field)
{
    bool differs = false;

    for (size_t i = 1; i < pg->n && field <= ORIGIN_BRANCH; i++)
        differs |=
            strcmp(origin_value(pg->reports[0], field), origin_value(pg->reports[i], field)) != 0;
    fprintf(pg->f, "<tr><td class=\"key\">%s</td>", title);
    for (size_t i = 0; i < pg->n; i++) {
        const char *v = origin_value(pg->reports[i], field);

        put_cell(pg->f, differs, "val");
        if (!*v) {
            fputs("\u2014", pg->f);
        } else if (field == ORIGIN_REVISION) {
            fputs("<span class=\"rev\" title=\"", pg->f);
            html_put_text(pg->f, v);
            fputs("\">", pg->f);
            html_put_text_n(pg->f, v, 12);
            fputs("</span>", pg->f);
        } else {
            html_put_text(pg->f, v);
        }
        fputs("</td>", pg->f);
    }
    fputs("</tr>\n", pg->f);
}

static bool is_provenance_key(const char *key)
{
    for (size_t k = 0; k < NPROVENANCE; k++)
        if (!strcmp(render_provenance_fields[k], key))
            return true;
    return false;
}

/* Rows for every key of the reports' config (@host false) or host objects, union in order;
 * provenance keys have their own rows. */
static int object_rows(const struct page *pg, bool host, const char *title)
{
    const char **keys = NULL;
    const json_t **vals = NULL;
    size_t nkeys = 0, cap = 0;
    int rc = 0;

    for (size_t i = 0; i < pg->n; i++) {
        const json_t *obj = host ? pg->reports[i]->host : pg->reports[i]->config;
        const char *key;
        json_t *v;

        if (!json_is_object(obj))
            continue;
        json_object_foreach((json_t *)obj, key, v)
        {
            bool seen = is_provenance_key(key);
            const char **nk;

            for (size_t k = 0; k < nkeys && !seen; k++)
                seen = !strcmp(keys[k], key);
            if (seen)
                continue;
            nk = array_reserve(keys, nkeys, &cap, sizeof(*keys), 16);
            if (!nk) {
                rc = -ENOMEM;
                goto out;
            }
            keys = nk;
            keys[nkeys++] = key;
        }
    }
    if (!nkeys)
        goto out;
    vals = calloc(pg->n, sizeof(*vals));
    if (!vals) {
        rc = -ENOMEM;
        goto out;
    }
    fprintf(pg->f, "<tr class=\"group\"><th colspan=\"%zu\">%s</th></tr>\n", pg->n + 1, title);
    for (size_t k = 0; k < nkeys; k++) {
        bool differs;

        for (size_t i = 0; i < pg->n; i++) {
            const json_t *obj = host ? pg->reports[i]->host : pg->reports[i]->config;

            vals[i] = json_is_object(obj) ? json_object_get(obj, keys[k]) : NULL;
        }
        differs = pg->n > 1 && values_differ(vals, pg->n);
        fputs("<tr><td class=\"key\">", pg->f);
        html_put_text(pg->f, keys[k]);
        fputs("</td>", pg->f);
        for (size_t i = 0; i < pg->n; i++) {
            put_cell(pg->f, differs, "val");
            put_json_value(pg->f, vals[i]);
            fputs("</td>", pg->f);
        }
        fputs("</tr>\n", pg->f);
    }
out:
    free(keys);
    free(vals);
    return rc;
}

/*
 * The provenance fields of every report, "unknown" where a report does not say (an older
 * one); highlighted where reports state different values, as a different QEMU or CPU makes a
 * comparison more than an A/B of the code.
 */
static void provenance_rows(const struct page *pg)
{
    fprintf(pg->f, "<tr class=\"group\"><th colspan=\"%zu\">provenance</th></tr>\n", pg->n + 1);
    for (size_t k = 0; k < NPROVENANCE; k++) {
        const char *field = render_provenance_fields[k];
        bool differs = false;
        char first[256], v[256];

        report_provenance(pg->reports[0], field, first, sizeof(first));
        for (size_t i = 1; i < pg->n && strncmp(field, "load_", 5); i++) {
            report_provenance(pg->reports[i], field, v, sizeof(v));
            differs |= strcmp(first, v) != 0;
        }
        fputs("<tr><td class=\"key\">", pg->f);
        html_put_text(pg->f, field);
        fputs("</td>", pg->f);
        for (size_t i = 0; i < pg->n; i++) {
            report_provenance(pg->reports[i], field, v, sizeof(v));
            put_cell(pg->f, differs, "val");
            html_put_text(pg->f, v);
            fputs("</td>", pg->f);
        }
        fputs("</tr>\n", pg->f);
    }
}

/* Where each report comes from and what it measured: one column per report. */
int html_reports_table(const struct page *pg)
{
    FILE *f = pg->f;
    int rc;

    fputs("<h2 id=\"reports\">Reports</h2>\n", f);
    if (pg->n > 1)
        fputs("<p class=\"meta\">Values that differ between reports are highlighted.</p>\n", f);
    fputs("<div class=\"wide\"><table class=\"reports\">\n<colgroup><col class=\"key\"/>", f);
    for (size_t i = 0; i < pg->n; i++)
        fputs("<col/>", f);
    fputs("</colgroup>\n<tr><th></th>", f);
    for (size_t i = 0; i < pg->n; i++) {
        fputs("<th>", f);
        html_put_swatch(f, i);
        html_put_text(f, report_label(pg->reports[i]));
        if (pg->c)
            fprintf(f, "<br/><small>%s</small>", i ? "candidate" : "baseline");
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    fprintf(f, "<tr class=\"group\"><th colspan=\"%zu\">origin</th></tr>\n", pg->n + 1);
    origin_row(pg, "git revision", ORIGIN_REVISION);
    origin_row(pg, "git branch", ORIGIN_BRANCH);
    origin_row(pg, "commit date", ORIGIN_COMMIT_DATE);
    origin_row(pg, "run date", ORIGIN_DATE);
    origin_row(pg, "source", ORIGIN_SOURCE);
    provenance_rows(pg);
    rc = object_rows(pg, false, "config");
    if (!rc)
        rc = object_rows(pg, true, "host");
    fputs("</table></div>\n", f);
    return rc;
}
