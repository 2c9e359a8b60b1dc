/* SPDX-License-Identifier: MIT */
/*
 * table - a grid of text cells, printed aligned for a terminal or as a markdown table
 *
 * Renderers build the same table once and print it either way, so the text and markdown
 * forms of a summary or a comparison never disagree on content. Cells are copied in; widths
 * count characters, not bytes, so "±" lines up.
 */
#ifndef BURETTE_TABLE_H
#define BURETTE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum table_align { ALIGN_LEFT, ALIGN_RIGHT };

struct table {
    size_t ncols;
    char **headers;
    enum table_align *align;
    char **cells; /* row-major, nrows * ncols */
    size_t nrows;
    size_t cap;
};

/**
 * table_init() - Start a table
 * @t:		Table to initialise
 * @ncols:	Number of columns
 * @headers:	@ncols column titles
 * @align:	@ncols alignments
 *
 * Return: 0 or -ENOMEM
 */
int table_init(struct table *t, size_t ncols, const char *const *headers,
               const enum table_align *align);

/**
 * table_add_row() - Append a row of @t->ncols cells (NULL cells print empty)
 *
 * Return: 0 or -ENOMEM
 */
int table_add_row(struct table *t, const char *const *cells);

void table_free(struct table *t);

/**
 * text_escape_controls() - Copy of @s safe to print on a terminal or in markdown
 * @s:		Text from a report, any bytes
 *
 * Control characters (C0, DEL, and C1 as UTF-8) become visible escapes ("\x1b", "\u009b"),
 * so a report cannot move the cursor, recolour or retitle the reader's terminal. Table cells
 * go through it when added; renderers pass the lines they print around tables through it.
 *
 * Return: new string to free(), NULL on allocation failure
 */
char *text_escape_controls(const char *s);

/**
 * text_put_clean() - Print @s with control characters escaped as text_escape_controls() does
 */
void text_put_clean(FILE *f, const char *s);

/**
 * table_print_text() - Print with columns padded to their widest cell, a rule under the header
 *
 * Return: 0, or -EIO if writing failed
 */
int table_print_text(const struct table *t, FILE *f);

/**
 * table_print_markdown() - Print as a GitHub-flavoured markdown table ("|" in cells escaped)
 *
 * Return: 0, or -EIO if writing failed
 */
int table_print_markdown(const struct table *t, FILE *f);

#endif /* BURETTE_TABLE_H */
