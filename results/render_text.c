/* SPDX-License-Identifier: MIT */
/*
 * render_text - reports and comparisons as aligned tables for a terminal.
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

static int text_reports(FILE *f, const struct report *const *reports, size_t n, char *err,
                        size_t errlen)
{
    struct table t;
    char line[1024];

    for (size_t i = 0; i < n; i++) {
        render_report_origin(line, sizeof(line), reports[i]);
        fprintf(f, "%s: %s\n", report_label(reports[i]), line);
        if (reports[i]->config) {
            render_json_scalars(line, sizeof(line), reports[i]->config);
            if (*line)
                fprintf(f, "  config: %s\n", line);
        }
        if (reports[i]->host) {
            render_json_scalars(line, sizeof(line), reports[i]->host);
            if (*line)
                fprintf(f, "  host: %s\n", line);
        }
    }
    fputc('\n', f);
    if (render_summary_table(reports, n, &t) < 0)
        return errbuf_set(err, errlen, ENOMEM, "out of memory");
    table_print_text(&t, f);
    table_free(&t);
    return finish(f, err, errlen);
}

static int text_comparison(FILE *f, const struct comparison *c, char *err, size_t errlen)
{
    struct table t;
    char line[1024];

    render_report_origin(line, sizeof(line), c->base);
    fprintf(f, "baseline:  %s: %s\n", report_label(c->base), line);
    for (size_t i = 0; i < c->nresults; i++) {
        render_report_origin(line, sizeof(line), c->results[i].cand);
        fprintf(f, "candidate: %s: %s\n", report_label(c->results[i].cand), line);
    }
    fputc('\n', f);
    if (render_comparison_table(c, &t) < 0)
        return errbuf_set(err, errlen, ENOMEM, "out of memory");
    table_print_text(&t, f);
    table_free(&t);
    render_comparison_counts(line, sizeof(line), c);
    fprintf(f, "\n%s\n", line);
    fprintf(f, "p: two-sided permutation test on the samples; (w) Welch's t-test where a report "
               "has no samples; (mc) Monte-Carlo permutations\n");
    return finish(f, err, errlen);
}

const struct renderer render_text = {
    .name = "text",
    .reports = text_reports,
    .comparison = text_comparison,
};
