/* SPDX-License-Identifier: MIT */
/*
 * html - pieces of burette's self-contained HTML pages, shared by every page that draws one
 *
 * The report and comparison page (render_html*.c) defines them; the history page uses them
 * too, so both look alike and escape untrusted text the same way.
 */
#ifndef BURETTE_HTML_H
#define BURETTE_HTML_H

#include <stddef.h>
#include <stdio.h>

/**
 * html_page_head() - The doctype, inline style sheet and <body>; @title must be markup-safe
 */
void html_page_head(FILE *f, const char *title);

/**
 * html_page_tail() - The closing note and </html>
 */
void html_page_tail(FILE *f);

/**
 * html_put_text() - Print untrusted text as character data or an attribute value, escaped
 */
void html_put_text(FILE *f, const char *s);

/**
 * html_colour() - The @i-th colour of the page palette
 */
const char *html_colour(size_t i);

/**
 * html_axis_fit() - A value axis around [lo, hi] with round ticks about a quarter apart
 * @step:	Tick step, 0 when no round ticks fit
 * @decimals:	Decimals of the tick labels
 */
void html_axis_fit(double lo, double hi, double *axis_lo, double *axis_hi, double *step,
                   int *decimals);

#endif /* BURETTE_HTML_H */
