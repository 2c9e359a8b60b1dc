/* SPDX-License-Identifier: MIT */
/*
 * render_text - reports and comparisons as aligned tables for a terminal.
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

/* "label: revision ..., date" and the provenance line of one report, escaped for a terminal. */
static void print_origin(FILE *f, const char *role, const struct report *r, bool details)
{
    char line[1024];

    render_report_origin(line, sizeof(line), r);
    fputs(role, f);
    text_put_clean(f, report_label(r));
    fputs(": ", f);
    text_put_clean(f, line);
    fputc('\n', f);
    if (details && r->config) {
        render_json_scalars(line, sizeof(line), r->config);
        if (*line) {
            fputs("  config: ", f);
            text_put_clean(f, line);
            fputc('\n', f);
        }
    }
    if (details && r->host) {
        render_json_scalars(line, sizeof(line), r->host);
        if (*line) {
            fputs("  host: ", f);
            text_put_clean(f, line);
            fputc('\n', f);
        }
    }
    render_provenance_line(line, sizeof(line), r);
    fputs("  provenance: ", f);
    text_put_clean(f, line);
    fputc('\n', f);
}

/* A titled list of notes, or nothing when there are none. */
static void print_notes(FILE *f, const char *title, const struct notes *n)
{
    if (!n->n)
        return;
    fprintf(f, "\n%s:\n", title);
    for (size_t i = 0; i < n->n; i++) {
        fputs("  - ", f);
        text_put_clean(f, n->lines[i]);
        fputc('\n', f);
    }
}

static int text_reports(FILE *f, const struct report *const *reports, size_t n, char *err,
                        size_t errlen)
{
    struct notes stalls = {0};
    struct table t;
    int rc = 0;

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
    table_print_text(&t, f);
    table_free(&t);
    print_notes(f, "Stalled iterations", &stalls);
    notes_free(&stalls);
    return finish(f, err, errlen);
}

static int text_comparison(FILE *f, const struct comparison *c, char *err, size_t errlen)
{
    struct notes warnings = {0};
    struct table t;
    char line[1024];

    print_origin(f, "baseline:  ", c->base, false);
    for (size_t i = 0; i < c->nresults; i++)
        print_origin(f, "candidate: ", c->results[i].cand, false);
    fputc('\n', f);
    if (render_provenance_notes(c, &warnings) < 0 || render_stall_notes(c, &warnings) < 0 ||
        render_comparison_table(c, &t) < 0) {
        notes_free(&warnings);
        return errbuf_set(err, errlen, ENOMEM, "out of memory");
    }
    table_print_text(&t, f);
    table_free(&t);
    render_comparison_counts(line, sizeof(line), c);
    fprintf(f, "\n%s\n", line);
    fprintf(f, "p: two-sided permutation test on the samples; (w) Welch's t-test where a report "
               "has no samples; (mc) Monte-Carlo permutations\n");
    print_notes(f, "Warnings", &warnings);
    notes_free(&warnings);
    return finish(f, err, errlen);
}

const struct renderer render_text = {
    .name = "text",
    .reports = text_reports,
    .comparison = text_comparison,
};
