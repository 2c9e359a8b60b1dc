/* SPDX-License-Identifier: MIT */
/*
 * render_html_page - what the page (render_html.c), its charts (render_html_chart.c) and its
 * table of reports (render_html_reports.c) share; not for callers outside them. The invariants
 * of render_html.c hold for all three: every report string goes through html_put_text(), a
 * report keeps its colour and position everywhere.
 */
#ifndef BURETTE_RENDER_HTML_PAGE_H
#define BURETTE_RENDER_HTML_PAGE_H

#include <stddef.h>
#include <stdio.h>

#include "compare.h"
#include "html.h"
#include "report.h"

/* Everything one page is about: the reports in display order, and the comparison if any. */
struct page {
    FILE *f;
    const struct report *const *reports;
    size_t n;
    const struct comparison *c; /* NULL for a summary */
    const char **names;         /* metric names, in order of first appearance */
    size_t nnames;
};

/* The first report's copy of metric @name, and candidate @cand's (1-based) comparison row. */
const struct metric *html_first_metric(const struct page *pg, const char *name);
const struct compare_row *html_find_row(const struct comparison *c, size_t cand, const char *name);

#endif /* BURETTE_RENDER_HTML_PAGE_H */
