/* SPDX-License-Identifier: MIT */
/*
 * render_markdown - reports and comparisons as GitHub-flavoured markdown, for CI job summaries.
 */
#include <errno.h>

#include "errbuf.h"
#include "render_impl.h"

static int finish(FILE *f, char *err, size_t errlen)
{
    if (fflush(f) == EOF || ferror(f))
        return errbuf_set(err, errlen, EIO, "cannot write the output");
    return 0;
}

/* report, label open/close, detail, title open/close, note */
static const struct text_style style = {"- ", "**", "**", "  - ", "\n**", "**\n\n", "- "};

static int md_reports(FILE *f, const struct report *const *reports, size_t n, char *err,
                      size_t errlen)
{
    struct notes stalls = {0};
    struct table t;
    int rc = 0;

    fprintf(f, "## burette results\n\n");
    for (size_t i = 0; i < n; i++) {
        render_text_origin(f, &style, "", reports[i], true);
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
    render_text_notes(f, &style, "Stalled iterations", &stalls);
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
    render_text_origin(f, &style, "baseline: ", c->base, false);
    for (size_t i = 0; i < c->nresults; i++)
        render_text_origin(f, &style, "candidate: ", c->results[i].cand, false);
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
    render_text_notes(f, &style, "Warnings", &warnings);
    notes_free(&warnings);
    return finish(f, err, errlen);
}

const struct renderer render_markdown = {
    .name = "markdown",
    .reports = md_reports,
    .comparison = md_comparison,
};
