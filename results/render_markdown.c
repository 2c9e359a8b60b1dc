/* SPDX-License-Identifier: MIT */
/*
 * render_markdown - reports and comparisons as GitHub-flavoured markdown, for CI job summaries.
 */
#include <errno.h>
#include <stdbool.h>

#include "errbuf.h"
#include "render_impl.h"

static int finish(FILE *f, char *err, size_t errlen)
{
    if (fflush(f) == EOF || ferror(f))
        return errbuf_set(err, errlen, EIO, "cannot write the output");
    return 0;
}

/* "- **label**: origin", its config/host/provenance as sub-items, escaped. */
static void print_origin(FILE *f, const char *role, const struct report *r, bool details)
{
    char line[1024];

    render_report_origin(line, sizeof(line), r);
    fprintf(f, "- %s**", role);
    text_put_clean(f, report_label(r));
    fputs("**: ", f);
    text_put_clean(f, line);
    fputc('\n', f);
    if (details && r->config) {
        render_json_scalars(line, sizeof(line), r->config);
        if (*line) {
            fputs("  - config: ", f);
            text_put_clean(f, line);
            fputc('\n', f);
        }
    }
    if (details && r->host) {
        render_json_scalars(line, sizeof(line), r->host);
        if (*line) {
            fputs("  - host: ", f);
            text_put_clean(f, line);
            fputc('\n', f);
        }
    }
    render_provenance_line(line, sizeof(line), r);
    fputs("  - provenance: ", f);
    text_put_clean(f, line);
    fputc('\n', f);
}

static void print_notes(FILE *f, const char *title, const struct notes *n)
{
    if (!n->n)
        return;
    fprintf(f, "\n**%s**\n\n", title);
    for (size_t i = 0; i < n->n; i++) {
        fputs("- ", f);
        text_put_clean(f, n->lines[i]);
        fputc('\n', f);
    }
}

static int md_reports(FILE *f, const struct report *const *reports, size_t n, char *err,
                      size_t errlen)
{
    struct notes stalls = {0};
    struct table t;
    int rc = 0;

    fprintf(f, "## burette results\n\n");
    for (size_t i = 0; i < n; i++) {
        print_origin(f, "", reports[i], true);
        if (render_stalled_iterations(reports[i], &stalls) < 0)
            rc = -ENOMEM;
    }
    fputc('\n', f);
    if (rc < 0 || render_summary_table(reports, n, &t) < 0) {
        notes_free(&stalls);
        return errbuf_set(err, errlen, ENOMEM, "out of memory");
    }
    table_print_markdown(&t, f);
    table_free(&t);
    print_notes(f, "Stalled iterations", &stalls);
    notes_free(&stalls);
    return finish(f, err, errlen);
}

static int md_comparison(FILE *f, const struct comparison *c, char *err, size_t errlen)
{
    struct notes warnings = {0};
    struct table t;
    char line[1024];

    fprintf(f, "## burette comparison: %s\n\n",
            c->regressed ? "regression found" : "no regression");
    print_origin(f, "baseline: ", c->base, false);
    for (size_t i = 0; i < c->nresults; i++)
        print_origin(f, "candidate: ", c->results[i].cand, false);
    fputc('\n', f);
    if (render_provenance_notes(c, &warnings) < 0 || render_stall_notes(c, &warnings) < 0 ||
        render_comparison_table(c, &t) < 0) {
        notes_free(&warnings);
        return errbuf_set(err, errlen, ENOMEM, "out of memory");
    }
    table_print_markdown(&t, f);
    table_free(&t);
    render_comparison_counts(line, sizeof(line), c);
    fprintf(f, "\n%s\n\n", line);
    fprintf(f, "_p: two-sided permutation test on the samples; (w) Welch's t-test where a report "
               "has no samples; (mc) Monte-Carlo permutations._\n");
    print_notes(f, "Warnings", &warnings);
    notes_free(&warnings);
    return finish(f, err, errlen);
}

const struct renderer render_markdown = {
    .name = "markdown",
    .reports = md_reports,
    .comparison = md_comparison,
};
