/* SPDX-License-Identifier: MIT */
/*
 * html - pieces of burette's self-contained HTML pages, shared by every page that draws one
 *
 * html.c defines them; the report and comparison page (render_html*.c) and the history page
 * (history_html.c) both use them, so they look alike and escape untrusted text the same way.
 */
#ifndef BURETTE_HTML_H
#define BURETTE_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/* One UTF-8 character at @s: bytes consumed, code point (U+FFFD when malformed) in @cp. */
size_t html_utf8_next(const unsigned char *s, uint32_t *cp);

/* Untrusted text as character data, at most @max characters (0: all); true if cut short. */
bool html_put_text_n(FILE *f, const char *s, size_t max);

/* A measured value, and a confidence interval "[lo, hi]" ("n/a" if unknown). */
void html_put_value(FILE *f, double v);
void html_put_ci(FILE *f, double lo, double hi);

/* A report's colour as a dot before its name. */
void html_put_swatch(FILE *f, size_t i);

#endif /* BURETTE_HTML_H */
