/* SPDX-License-Identifier: MIT */
/*
 * render_plain - reports and comparisons as text for a terminal (aligned tables) and as
 * GitHub-flavoured markdown for CI job summaries.
 *
 * The two formats print the same things in the same order; a struct plain_format holds all
 * they differ in (headings, the marks around labels and notes, the table printer, the legend),
 * so a line added to one cannot be forgotten in the other.
 */
#include <errno.h>

#include "errbuf.h"
#include "render_impl.h"

/* How the text-like formats (text, markdown) set off what they print around their tables. */
struct text_style {
    const char *report;     /* before a report's line */
    const char *label_open; /* around its label */
    const char *label_close;
    const char *detail;     /* before each of its config, host and provenance lines */
    const char *title_open; /* around the title of a list of notes */
    const char *title_close;
    const char *note; /* before each note */
};

struct plain_format {
    struct text_style style;
    const char *reports_heading; /* before the reports, "" for none */
    const char *verdict_open;    /* around the verdict line; NULL: no verdict line */
    const char *verdict_close;
    const char *baseline_role; /* padded to line up with "candidate: " where it shows */
    int (*print_table)(const struct table *t, FILE *f);
    const char *counts_end; /* after the line of counts */
    const char *legend;
    const char *pairing_open; /* around each candidate's line on the test used */
    const char *pairing_close;
};

static const struct plain_format text_format = {
    /* report, label open/close, detail, title open/close, note */
    .style = {"", "", "", "  ", "\n", ":\n", "  - "},
    .reports_heading = "",
    .baseline_role = "baseline:  ",
    .print_table = table_print_text,
    .counts_end = "\n",
    .pairing_open = "test: ",
    .pairing_close = "\n",
    .legend = "p: two-sided permutation test on the samples; (pd) paired sign-flip test on the "
              "per-round ratios (both reports from one interleaved run); (w) Welch's t-test "
              "where a report has no samples; (mc) Monte-Carlo permutations\n",
};

static const struct plain_format markdown_format = {
    .style = {"- ", "**", "**", "  - ", "\n**", "**\n\n", "- "},
    .reports_heading = "## burette results\n\n",
    .verdict_open = "## burette comparison: ",
    .verdict_close = "\n\n",
    .baseline_role = "baseline: ",
    .print_table = table_print_markdown,
    .counts_end = "\n\n",
    .legend = "_p: two-sided permutation test on the samples; (pd) paired sign-flip test on the "
              "per-round ratios (both reports from one interleaved run); (w) Welch's t-test "
              "where a report has no samples; (mc) Monte-Carlo permutations._\n",
    .pairing_open = "_Test: ",
    .pairing_close = "._\n",
};

/* A report's label and origin, then (with @details) its config and host, and its provenance,
 * each on a line, control characters escaped. */
static void text_origin(FILE *f, const struct text_style *st, const char *role,
                        const struct report *r, bool details)
{
    const char *const names[] = {"config", "host"};
    const json_t *const objs[] = {r->config, r->host};
    char line[1024];

    render_report_origin(line, sizeof(line), r);
    fprintf(f, "%s%s%s", st->report, role, st->label_open);
    text_put_clean(f, report_label(r));
    fprintf(f, "%s: ", st->label_close);
    text_put_clean(f, line);
    fputc('\n', f);
    for (size_t i = 0; details && i < 2; i++) {
        if (!objs[i])
            continue;
        render_json_scalars(line, sizeof(line), objs[i]);
        if (*line) {
            fprintf(f, "%s%s: ", st->detail, names[i]);
            text_put_clean(f, line);
            fputc('\n', f);
        }
    }
    render_provenance_line(line, sizeof(line), r);
    fprintf(f, "%sprovenance: ", st->detail);
    text_put_clean(f, line);
    fputc('\n', f);
}

/* A titled list of notes, nothing when there are none. */
static void text_notes(FILE *f, const struct text_style *st, const char *title,
                       const struct notes *n)
{
    if (!n->n)
        return;
    fprintf(f, "%s%s%s", st->title_open, title, st->title_close);
    for (size_t i = 0; i < n->n; i++) {
        fputs(st->note, f);
        text_put_clean(f, n->lines[i]);
        fputc('\n', f);
    }
}

static int finish(FILE *f, char *err, size_t errlen)
{
    if (fflush(f) == EOF || ferror(f))
        return errbuf_set(err, errlen, EIO, "cannot write the output");
    return 0;
}

static int plain_reports(const struct plain_format *fmt, FILE *f,
                         const struct report *const *reports, size_t n, char *err, size_t errlen)
{
    struct notes stalls = {0};
    struct table t;
    int rc = 0;

    fputs(fmt->reports_heading, f);
    for (size_t i = 0; i < n; i++) {
        text_origin(f, &fmt->style, "", reports[i], true);
        if (render_stalled_iterations(reports[i], &stalls) < 0)
            rc = -ENOMEM;
    }
    fputc('\n', f);
    if (rc < 0 || render_summary_table(reports, n, &t) < 0) {
        notes_free(&stalls);
        return errbuf_set(err, errlen, ENOMEM, "out of memory");
    }
    fmt->print_table(&t, f);
    table_free(&t);
    text_notes(f, &fmt->style, "Stalled iterations", &stalls);
    notes_free(&stalls);
    return finish(f, err, errlen);
}

static int plain_comparison(const struct plain_format *fmt, FILE *f, const struct comparison *c,
                            char *err, size_t errlen)
{
    struct notes warnings = {0};
    struct table t;
    char line[1024];

    if (fmt->verdict_open)
        fprintf(f, "%s%s%s", fmt->verdict_open, render_comparison_headline(c), fmt->verdict_close);
    text_origin(f, &fmt->style, fmt->baseline_role, c->base, false);
    for (size_t i = 0; i < c->nresults; i++)
        text_origin(f, &fmt->style, "candidate: ", c->results[i].cand, false);
    fputc('\n', f);
    if (render_comparison_notes(c, &warnings) < 0 || render_comparison_table(c, &t) < 0) {
        notes_free(&warnings);
        return errbuf_set(err, errlen, ENOMEM, "out of memory");
    }
    fmt->print_table(&t, f);
    table_free(&t);
    render_comparison_counts(line, sizeof(line), c);
    fprintf(f, "\n%s%s", line, fmt->counts_end);
    fputs(fmt->legend, f);
    for (size_t i = 0; i < c->nresults; i++) {
        render_pairing_line(line, sizeof(line), c, &c->results[i]);
        /* labels are report text: control characters escaped before a terminal sees them */
        fputs(fmt->pairing_open, f);
        text_put_clean(f, line);
        fputs(fmt->pairing_close, f);
    }
    text_notes(f, &fmt->style, "Warnings", &warnings);
    notes_free(&warnings);
    return finish(f, err, errlen);
}

static int text_reports(FILE *f, const struct report *const *reports, size_t n, char *err,
                        size_t errlen)
{
    return plain_reports(&text_format, f, reports, n, err, errlen);
}

static int text_comparison(FILE *f, const struct comparison *c, char *err, size_t errlen)
{
    return plain_comparison(&text_format, f, c, err, errlen);
}

static int md_reports(FILE *f, const struct report *const *reports, size_t n, char *err,
                      size_t errlen)
{
    return plain_reports(&markdown_format, f, reports, n, err, errlen);
}

static int md_comparison(FILE *f, const struct comparison *c, char *err, size_t errlen)
{
    return plain_comparison(&markdown_format, f, c, err, errlen);
}

const struct renderer render_text = {
    .name = "text",
    .reports = text_reports,
    .comparison = text_comparison,
};

const struct renderer render_markdown = {
    .name = "markdown",
    .reports = md_reports,
    .comparison = md_comparison,
};
