/* SPDX-License-Identifier: MIT */
/*
 * table - a grid of text cells, printed aligned or as markdown; see table.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "table.h"

int table_init(struct table *t, size_t ncols, const char *const *headers,
               const enum table_align *align)
{
    memset(t, 0, sizeof(*t));
    t->headers = calloc(ncols, sizeof(*t->headers));
    t->align = calloc(ncols, sizeof(*t->align));
    if (!t->headers || !t->align)
        goto fail;
    t->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        t->headers[i] = strdup(headers[i]);
        if (!t->headers[i])
            goto fail;
        t->align[i] = align[i];
    }
    return 0;
fail:
    table_free(t);
    return -ENOMEM;
}

int table_add_row(struct table *t, const char *const *cells)
{
    char **p = array_reserve(t->cells, t->nrows, &t->cap, t->ncols * sizeof(*p), 16);

    if (!p)
        return -ENOMEM;
    t->cells = p;
    for (size_t i = 0; i < t->ncols; i++) {
        char *c = text_escape_controls(cells[i] ? cells[i] : "");

        if (!c) {
            while (i-- > 0)
                free(t->cells[t->nrows * t->ncols + i]);
            return -ENOMEM;
        }
        t->cells[t->nrows * t->ncols + i] = c;
    }
    t->nrows++;
    return 0;
}

/* Bytes of @s's escape at @p (0: print as is); C1 controls are U+0080..U+009F, 0xC2 0x80-0x9F. */
static size_t control_escape(const unsigned char *p, char out[8])
{
    if (*p < 0x20 || *p == 0x7f) {
        snprintf(out, 8, "\\x%02x", *p);
        return 1;
    }
    if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
        snprintf(out, 8, "\\u%04x", p[1]);
        return 2;
    }
    return 0;
}

char *text_escape_controls(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    char *out = malloc(strlen(s) * 6 + 1), *o = out;

    if (!out)
        return NULL;
    while (*p) {
        char esc[8];
        size_t n = control_escape(p, esc);

        if (n) {
            o = stpcpy(o, esc);
            p += n;
        } else {
            *o++ = (char)*p++;
        }
    }
    *o = '\0';
    return out;
}

void text_put_clean(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p;) {
        char esc[8];
        size_t n = control_escape(p, esc);

        if (n) {
            fputs(esc, f);
            p += n;
        } else {
            fputc(*p++, f);
        }
    }
}

void table_free(struct table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    for (size_t i = 0; t->headers && i < t->ncols; i++)
        free(t->headers[i]);
    free(t->cells);
    free(t->headers);
    free(t->align);
    memset(t, 0, sizeof(*t));
}

/* Display width of UTF-8 text: every byte but continuation bytes starts a character. */
static size_t width(const char *s)
{
    size_t w = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

static void pad(FILE *f, size_t n)
{
    while (n--)
        fputc(' ', f);
}

static void print_cell(FILE *f, const char *s, size_t w, enum table_align a, bool last)
{
    size_t sw = width(s);

    if (a == ALIGN_RIGHT)
        pad(f, w - sw);
    fputs(s, f);
    if (a == ALIGN_LEFT && !last)
        pad(f, w - sw);
}

int table_print_text(const struct table *t, FILE *f)
{
    size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w)), total = 0;

    if (!w)
        return -ENOMEM;
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = width(t->headers[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t cw = width(t->cells[r * t->ncols + c]);

            if (cw > w[c])
                w[c] = cw;
        }
        total += w[c] + (c ? 2 : 0);
    }
    for (size_t c = 0; c < t->ncols; c++) {
        if (c)
            fputs("  ", f);
        print_cell(f, t->headers[c], w[c], t->align[c], c + 1 == t->ncols);
    }
    fputc('\n', f);
    for (size_t i = 0; i < total; i++)
        fputc('-', f);
    fputc('\n', f);
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                fputs("  ", f);
            print_cell(f, t->cells[r * t->ncols + c], w[c], t->align[c], c + 1 == t->ncols);
        }
        fputc('\n', f);
    }
    free(w);
    return ferror(f) ? -EIO : 0;
}

static void md_cell(FILE *f, const char *s)
{
    fputc(' ', f);
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
    fputs(" |", f);
}

int table_print_markdown(const struct table *t, FILE *f)
{
    fputc('|', f);
    for (size_t c = 0; c < t->ncols; c++)
        md_cell(f, t->headers[c]);
    fputs("\n|", f);
    for (size_t c = 0; c < t->ncols; c++)
        fputs(t->align[c] == ALIGN_RIGHT ? " ---: |" : " --- |", f);
    fputc('\n', f);
    for (size_t r = 0; r < t->nrows; r++) {
        fputc('|', f);
        for (size_t c = 0; c < t->ncols; c++)
            md_cell(f, t->cells[r * t->ncols + c]);
        fputc('\n', f);
    }
    return ferror(f) ? -EIO : 0;
}
