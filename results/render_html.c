/* SPDX-License-Identifier: MIT */
/*
 * render_html - reports and comparisons as one self-contained HTML page
 *
 * The page is read where nothing else can be fetched: a mail attachment, a CI artifact viewer.
 * So it carries everything itself: inline CSS, one inline SVG chart per metric, no script, no
 * font, no image, no link outside the page, and it reads the same with JavaScript off. Colours
 * are drawn with presentation attributes, not only CSS, so a viewer that drops <style> still
 * shows the charts.
 *
 * The charts are drawn by render_html_chart.c, the table of where reports come from by
 * render_html_reports.c; what the three share about the page is render_html_page.c's, and the
 * pieces every burette page uses (escaping, palette, head and tail) are html.c's.
 *
 * Layout: a header (for a comparison, the verdict in one line and a metric x candidate grid),
 * a table of where each report comes from (origin, config, host, with the values that differ
 * between reports highlighted), then one section per metric: a chart with a row per report
 * (every sample a dot, the mean with its 95% confidence interval as a bar) and a table of the
 * numbers (statistics, or each candidate against the baseline).
 *
 * Invariants:
 * - Every string that comes from a report (labels, metric names, units, config and host keys
 *   and values, revisions, sources) goes through html_put_text(), which escapes markup characters
 *   and turns bytes that are not valid UTF-8, or characters XML forbids, into U+FFFD. Reports
 *   come from URLs: none of their text can become markup. Ids are built from indexes only.
 * - The markup is well-formed XML (polyglot XHTML): every element closed, attributes quoted,
 *   no entities besides XML's own, so an XML parser reads it as well as a browser does.
 * - A report keeps its colour and its position (the order given, baseline first) in every chart
 *   and table. Colour never carries meaning alone: verdicts are written out, rows are labelled.
 * - The renderer decides nothing: statistics and verdicts come from stats.h and compare.h.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "html.h"
#include "render_html_chart.h"
#include "render_html_page.h"
#include "render_html_reports.h"
#include "render_impl.h"

static const char *verdict_class(enum verdict v)
{
    static const char *const classes[] = {
        [VERDICT_UNCHANGED] = "unchanged",         [VERDICT_IMPROVED] = "improved",
        [VERDICT_REGRESSED] = "regressed",         [VERDICT_NOISY] = "noisy",
        [VERDICT_BASELINE_ONLY] = "baseline-only", [VERDICT_CANDIDATE_ONLY] = "candidate-only",
    };

    return classes[v];
}

static void put_verdict(FILE *f, const struct compare_row *row)
{
    fprintf(f, "<span class=\"verdict %s\">%s</span>", verdict_class(row->verdict),
            verdict_name(row->verdict));
    if (row->reason != REASON_NONE)
        fprintf(f, "<br/><small>%s</small>", verdict_reason_text(row->reason));
    if (row->stalled) {
        char note[320];

        render_stall_note(note, sizeof(note), row);
        fputs("<br/><small class=\"stall\">", f);
        html_put_text(f, note);
        fputs("</small>", f);
    }
}

/* A report's name in a table row; its colour as the cell's left edge, which stays with the
 * name however the name wraps. */
static void put_label_cell(FILE *f, size_t i, const struct report *r)
{
    fprintf(f, "<td class=\"label\" style=\"border-left:6px solid %s\">", html_colour(i));
    html_put_text(f, report_label(r));
    fputs("</td>", f);
}

static void put_pct(FILE *f, double v)
{
    char buf[48];

    render_fmt_pct(buf, sizeof(buf), v);
    fputs(buf, f);
}

static int collect_names(struct page *pg)
{
    return render_metric_names(pg->reports, pg->n, &pg->names, &pg->nnames);
}

/* What the marks of the charts mean, said once per page. */
static void put_legend(FILE *f, bool comparison)
{
    fputs("<p class=\"meta\">Each chart has one row per report: a dot per sample (iteration), "
          "a bar for the mean and a line with end caps for its 95% confidence interval. Reports "
          "in OpenVMM's plain format carry no samples: they show the mean and interval "
          "only.",
          f);
    if (comparison)
        fputs(" The shaded band and the dashed line are the baseline's interval and mean.", f);
    fputs(" The value axis does not start at zero.</p>\n", f);
}

/* Notes as a list, or nothing. */
static void put_notes(FILE *f, const char *title, const struct notes *n)
{
    if (!n->n)
        return;
    fputs("<h2 id=\"warnings\">", f);
    fputs(title, f);
    fputs("</h2>\n<ul class=\"warnings\">\n", f);
    for (size_t i = 0; i < n->n; i++) {
        fputs("<li>", f);
        html_put_text(f, n->lines[i]);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
}

static void section_head(const struct page *pg, size_t idx)
{
    FILE *f = pg->f;
    const struct metric *m = html_first_metric(pg, pg->names[idx]);

    fprintf(f, "<section id=\"m%zu\">\n<h2>", idx);
    html_put_text(f, pg->names[idx]);
    fputs("</h2>\n<p class=\"meta\">unit ", f);
    html_put_text(f, m->unit);
    fprintf(f, ", %s is better</p>\n", metric_higher_is_better(m) ? "higher" : "lower");
}

/* The statistics of one metric in every report. */
static void stats_table(const struct page *pg, const char *name)
{
    FILE *f = pg->f;

    fputs("<div class=\"wide\"><table "
          "class=\"stats\">\n<tr><th>report</th><th>n</th><th>mean</th><th>std dev</th>"
          "<th>min</th><th>median</th><th>max</th><th>95% CI of mean</th></tr>\n",
          f);
    for (size_t i = 0; i < pg->n; i++) {
        const struct metric *m = report_find_metric(pg->reports[i], name);
        const double v[] = {m ? m->st.mean : 0, m ? m->st.std_dev : 0, m ? m->st.min : 0,
                            m ? m->st.median : 0, m ? m->st.max : 0};

        fputs("<tr>", f);
        put_label_cell(f, i, pg->reports[i]);
        if (!m) {
            fputs("<td colspan=\"7\"><small>not in this report</small></td></tr>\n", f);
            continue;
        }
        fprintf(f, "<td class=\"num\">%zu%s</td>", m->st.n, m->nsamples ? "" : "*");
        for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
            fputs("<td class=\"num\">", f);
            html_put_value(f, v[k]);
            fputs("</td>", f);
        }
        fputs("<td class=\"num\">", f);
        html_put_ci(f, m->st.ci95_low, m->st.ci95_high);
        fputs("</td></tr>\n", f);
    }
    fputs("</table></div>\n", f);
    for (size_t i = 0; i < pg->n; i++) {
        const struct metric *m = report_find_metric(pg->reports[i], name);

        if (m && !m->nsamples) {
            fputs("<p class=\"meta\">* summary only (OpenVMM's plain format): statistics as "
                  "the report states them, no samples.</p>\n",
                  f);
            break;
        }
    }
}

static void put_mean_sd(FILE *f, const struct metric *m)
{
    if (!m) {
        fputs("\u2014", f);
        return;
    }
    html_put_value(f, m->st.mean);
    fputs(" ± ", f);
    html_put_value(f, m->st.std_dev);
    fprintf(f, " <small>(n=%zu)</small>", m->st.n);
}

static void put_p(FILE *f, const struct compare_row *row)
{
    static const char *const how[] = {
        [PVALUE_NONE] = "",
        [PVALUE_PERMUTATION_EXACT] = "permutation",
        [PVALUE_PERMUTATION_MONTE_CARLO] = "Monte-Carlo permutation",
        [PVALUE_WELCH] = "Welch's t-test",
        [PVALUE_PAIRED_EXACT] = "paired sign-flip",
        [PVALUE_PAIRED_MONTE_CARLO] = "Monte-Carlo paired sign-flip",
    };

    if (row->method == PVALUE_NONE || !isfinite(row->p_value)) {
        fputs("n/a", f);
        return;
    }
    fprintf(f, "%.2g<br/><small>%s</small>", row->p_value, how[row->method]);
}

/* Each candidate against the baseline, for one metric. */
static void comparison_table(const struct page *pg, const char *name)
{
    FILE *f = pg->f;

    /* The baseline once, as the first row, rather than repeated in a column: an N-way table
     * stays narrow enough to read. */
    fputs("<div class=\"wide\"><table class=\"cmp\">\n<tr><th>report</th><th>mean ± std dev</th>"
          "<th>delta</th><th>change</th><th>95% CI of change</th><th>p</th><th>verdict</th>"
          "</tr>\n<tr class=\"baseline\">",
          f);
    put_label_cell(f, 0, pg->reports[0]);
    fputs("<td class=\"num\">", f);
    put_mean_sd(f, report_find_metric(pg->reports[0], name));
    fputs("</td><td colspan=\"5\"><small>baseline</small></td></tr>\n", f);
    for (size_t i = 1; i < pg->n; i++) {
        const struct compare_row *row = html_find_row(pg->c, i, name);
        bool both = row && row->base && row->cand;

        if (!row)
            continue;
        fputs("<tr>", f);
        put_label_cell(f, i, pg->reports[i]);
        fputs("<td class=\"num\">", f);
        put_mean_sd(f, row->cand);
        fputs("</td><td class=\"num\">", f);
        if (both) {
            if (row->delta > 0)
                fputc('+', f);
            html_put_value(f, row->delta);
            fputs("</td><td class=\"num\">", f);
            put_pct(f, row->delta_pct);
            fputs("</td><td class=\"num\">", f);
            if (isfinite(row->ci_low_pct) && isfinite(row->ci_high_pct)) {
                fputc('[', f);
                put_pct(f, row->ci_low_pct);
                fputs(", ", f);
                put_pct(f, row->ci_high_pct);
                fputc(']', f);
            } else {
                fputs("n/a", f);
            }
            fputs("</td><td class=\"num\">", f);
            put_p(f, row);
        } else {
            fputs("\u2014</td><td class=\"num\">\u2014</td><td class=\"num\">\u2014</td>"
                  "<td class=\"num\">\u2014",
                  f);
        }
        fputs("</td><td>", f);
        put_verdict(f, row);
        fputs("</td></tr>\n", f);
    }
    fputs("</table></div>\n", f);
}

/* The whole comparison at a glance: metrics down, candidates across, verdicts in the cells. */
static void comparison_grid(const struct page *pg)
{
    FILE *f = pg->f;

    fputs("<div class=\"wide\"><table class=\"grid\">\n<tr><th>metric</th>", f);
    for (size_t i = 1; i < pg->n; i++) {
        fputs("<th>", f);
        html_put_swatch(f, i);
        html_put_text(f, report_label(pg->reports[i]));
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (size_t k = 0; k < pg->nnames; k++) {
        fprintf(f, "<tr><td><a href=\"#m%zu\">", k);
        html_put_text(f, pg->names[k]);
        fputs("</a></td>", f);
        for (size_t i = 1; i < pg->n; i++) {
            const struct compare_row *row = html_find_row(pg->c, i, pg->names[k]);

            fputs("<td>", f);
            if (row) {
                fprintf(f, "<span class=\"verdict %s\">%s</span>", verdict_class(row->verdict),
                        verdict_name(row->verdict));
                if (row->base && row->cand) {
                    fputc(' ', f);
                    put_pct(f, row->delta_pct);
                }
                if (row->stalled)
                    fputs(" <small class=\"stall\">stalled</small>", f);
            } else {
                fputs("\u2014", f);
            }
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table></div>\n", f);
}

static int finish(FILE *f, int rc, char *err, size_t errlen)
{
    if (rc == -ENOMEM)
        return errbuf_set(err, errlen, ENOMEM, "out of memory");
    if (rc < 0)
        return rc;
    if (fflush(f) == EOF || ferror(f))
        return errbuf_set(err, errlen, EIO, "cannot write the output");
    return 0;
}

static int html_reports(FILE *f, const struct report *const *reports, size_t n, char *err,
                        size_t errlen)
{
    struct page pg = {.f = f, .reports = reports, .n = n};
    struct notes stalls = {0};
    int rc = collect_names(&pg);

    if (rc < 0)
        return finish(f, rc, err, errlen);
    html_page_head(f, "burette results");
    fputs("<h1>burette results</h1>\n<p>", f);
    for (size_t i = 0; i < n; i++) {
        char origin[512];

        render_report_origin(origin, sizeof(origin), reports[i]);
        fputs(i ? "<br/>" : "", f);
        html_put_swatch(f, i);
        fputs("<b>", f);
        html_put_text(f, report_label(reports[i]));
        fputs("</b>: ", f);
        html_put_text(f, origin);
    }
    fputs("</p>\n", f);
    for (size_t i = 0; !rc && i < n; i++)
        rc = render_stalled_iterations(reports[i], &stalls);
    put_notes(f, "Stalled iterations", &stalls);
    notes_free(&stalls);
    put_legend(f, false);
    if (!rc)
        rc = html_reports_table(&pg);
    for (size_t k = 0; !rc && k < pg.nnames; k++) {
        section_head(&pg, k);
        html_chart(&pg, k);
        stats_table(&pg, pg.names[k]);
        fputs("</section>\n", f);
    }
    html_page_tail(f);
    free(pg.names);
    return finish(f, rc, err, errlen);
}

static int html_comparison(FILE *f, const struct comparison *c, char *err, size_t errlen)
{
    const struct report **reports = calloc(c->nresults + 1, sizeof(*reports));
    struct page pg = {.f = f, .reports = reports, .n = c->nresults + 1, .c = c};
    struct notes warnings = {0};
    char line[1024];
    int rc;

    if (!reports)
        return finish(f, -ENOMEM, err, errlen);
    reports[0] = c->base;
    for (size_t i = 0; i < c->nresults; i++)
        reports[i + 1] = c->results[i].cand;
    rc = collect_names(&pg);
    if (rc < 0)
        goto out;
    html_page_head(f, "burette comparison");
    fputs("<h1>burette comparison</h1>\n", f);
    if (c->regressed)
        fprintf(f,
                "<p class=\"banner regressed\">Regression: %zu metric%s regressed against the "
                "baseline.</p>\n",
                c->regressed, c->regressed == 1 ? "" : "s");
    else if (c->undetectable)
        fprintf(f,
                "<p class=\"banner regressed\">Inconclusive: %zu throughput or rate metric%s "
                "could not resolve a %g%% change (see the warnings).</p>\n",
                c->undetectable, c->undetectable == 1 ? "" : "s", c->opts.require_detectable_pct);
    else
        fputs("<p class=\"banner ok\">No regression against the baseline.</p>\n", f);
    render_comparison_counts(line, sizeof(line), c);
    fputs("<p>", f);
    html_put_text(f, line);
    fputs("</p>\n<p>", f);
    for (size_t i = 0; i < pg.n; i++) {
        render_report_origin(line, sizeof(line), reports[i]);
        fputs(i ? "<br/>" : "", f);
        html_put_swatch(f, i);
        fprintf(f, "%s <b>", i ? "candidate" : "baseline");
        html_put_text(f, report_label(reports[i]));
        fputs("</b>: ", f);
        html_put_text(f, line);
    }
    fputs("</p>\n", f);
    comparison_grid(&pg);
    if (render_comparison_notes(c, &warnings) < 0) {
        rc = -ENOMEM;
        goto out;
    }
    put_notes(f, "Warnings", &warnings);
    fputs("<p class=\"meta\">A change is regressed or improved when it is significant (p at or "
          "below alpha) and larger than the threshold in the metric's bad or good direction; "
          "noisy when significant but smaller, or too few samples to tell; unchanged "
          "otherwise. The 95% CI of the change is the interval of the relative change of the "
          "means.</p>\n",
          f);
    fputs("<p class=\"meta\">Test:", f);
    for (size_t i = 0; i < c->nresults; i++) {
        render_pairing_line(line, sizeof(line), c, &c->results[i]);
        fputs(i ? "<br/>" : " ", f);
        html_put_text(f, line);
    }
    fputs("</p>\n", f);
    put_legend(f, true);
    rc = html_reports_table(&pg);
    for (size_t k = 0; !rc && k < pg.nnames; k++) {
        section_head(&pg, k);
        html_chart(&pg, k);
        comparison_table(&pg, pg.names[k]);
        fputs("</section>\n", f);
    }
    html_page_tail(f);
out:
    notes_free(&warnings);
    free(pg.names);
    free(reports);
    return finish(f, rc, err, errlen);
}

const struct renderer render_html = {
    .name = "html",
    .reports = html_reports,
    .comparison = html_comparison,
};
