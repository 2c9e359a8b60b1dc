/* SPDX-License-Identifier: MIT */
/*
 * render_html - what the page (render_html.c), its charts (render_html_chart.c) and its table of
 * reports (render_html_reports.c) share; not for callers outside them. The invariants of
 * render_html.c hold for all three: every report string goes through html_put_text(), a report
 * keeps its colour and position everywhere.
 */
#ifndef BURETTE_RENDER_HTML_H
#define BURETTE_RENDER_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/* One UTF-8 character at @s: bytes consumed, code point (U+FFFD when malformed) in @cp. */
size_t html_utf8_next(const unsigned char *s, uint32_t *cp);

/* Untrusted text as character data, at most @max characters (0: all); true if cut short. */
bool html_put_text_n(FILE *f, const char *s, size_t max);

/* A measured value, and a confidence interval "[lo, hi]" ("n/a" if unknown). */
void html_put_value(FILE *f, double v);
void html_put_ci(FILE *f, double lo, double hi);

/* The first report's copy of metric @name, and candidate @cand's (1-based) comparison row. */
const struct metric *html_first_metric(const struct page *pg, const char *name);
const struct compare_row *html_find_row(const struct comparison *c, size_t cand, const char *name);

/* A report's colour as a dot before its name. */
void html_put_swatch(FILE *f, size_t i);

/**
 * html_reports_table() - Where each report comes from and what it measured (origin,
 * provenance, config, host), one column per report (render_html_reports.c)
 *
 * Return: 0 or -ENOMEM
 */
int html_reports_table(const struct page *pg);

/**
 * html_chart() - One metric's SVG chart: a row per report, every sample a dot, the mean and its
 * 95% CI a bar (render_html_chart.c)
 */
void html_chart(const struct page *pg, size_t idx);

#endif /* BURETTE_RENDER_HTML_H */
