/* SPDX-License-Identifier: MIT */
/*
 * render_html_page - what the report page's parts (render_html.c, its charts in
 * render_html_chart.c, its table of reports in render_html_reports.c) share about the page:
 * its reports and comparison (struct page), and where a metric's figures are found. See
 * render_html.c for the page's invariants.
 */
#include <stddef.h>

#include "render_html_page.h"

/* The first report's copy of metric @name: its unit and direction speak for all. */
const struct metric *html_first_metric(const struct page *pg, const char *name)
{
    for (size_t i = 0; i < pg->n; i++) {
        const struct metric *m = report_find_metric(pg->reports[i], name);

        if (m)
            return m;
    }
    return NULL;
}

/* The comparison row of candidate @cand (1-based position on the page) for @name. */
const struct compare_row *html_find_row(const struct comparison *c, size_t cand, const char *name)
{
    return compare_find_row(c, &c->results[cand - 1], name);
}
