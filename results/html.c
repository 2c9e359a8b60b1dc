/* SPDX-License-Identifier: MIT */
/*
 * html - the pieces every burette HTML page is made of (html.h): the head with its inline style
 * sheet and the tail, the palette, and the printing of untrusted text and of values.
 *
 * Invariant for every page: text that comes from a report or a database goes through
 * html_put_text() or html_put_text_n(), which escape markup characters and turn bytes that are
 * not valid UTF-8, or characters XML forbids, into U+FFFD; so none of it can become markup.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "build_info.h"
#include "html.h"
#include "render_impl.h"

/* Okabe-Ito colours, told apart with the common colour-vision deficiencies (yellow left out: it
 * vanishes on white), then four of Paul Tol's before the cycle repeats. */
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#56B4E9", "#E69F00", "#000000", "#8C8C8C",
                                      "#882255", "#44AA99", "#332288", "#999933"};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

const char *html_colour(size_t i)
{
    return palette[i % NPALETTE];
}

/*
 * Decode one UTF-8 character at @s. Returns the bytes consumed (at least 1) and the code
 * point in @cp, U+FFFD for a malformed sequence, an overlong form, a surrogate, or a
 * character XML 1.0 does not allow (C0 controls other than tab, newline, return; U+FFFE/F).
 */
size_t html_utf8_next(const unsigned char *s, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t len;

    if (c < 0x80) {
        *cp = (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ? 0xFFFD : c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0)
        len = 2, c &= 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        len = 3, c &= 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
        len = 4, c &= 0x07, min = 0x10000;
    else
        goto bad;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            goto bad;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF)
        goto bad;
    *cp = c;
    return len;
bad:
    *cp = 0xFFFD;
    return 1;
}

/**
 * html_put_text_n() - Print untrusted text as character data or an attribute value
 * @f:		Output
 * @s:		Text, any bytes; NULL prints nothing
 * @max:	Characters to print at most, then an ellipsis; 0 for no limit
 *
 * Return: true if @s was cut short
 */
bool html_put_text_n(FILE *f, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0;

    while (p && *p) {
        uint32_t cp;
        size_t len = html_utf8_next(p, &cp);

        if (max && count == max) {
            fputs("\u2026", f);
            return true;
        }
        switch (cp) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        case 0xFFFD:
            fputs("\uFFFD", f);
            break;
        default:
            fwrite(p, 1, len, f);
        }
        p += len;
        count++;
    }
    return false;
}

void html_put_text(FILE *f, const char *s)
{
    html_put_text_n(f, s, 0);
}

void html_put_swatch(FILE *f, size_t i)
{
    fprintf(f, "<span class=\"swatch\" style=\"background:%s\"></span>", html_colour(i));
}

void html_put_value(FILE *f, double v)
{
    char buf[48];

    /* Past a billion, every digit of "%.0f" would only push the tables off the page. */
    if (isfinite(v) && fabs(v) >= 1e9)
        snprintf(buf, sizeof(buf), "%.4g", v);
    else
        render_fmt_value(buf, sizeof(buf), v);
    fputs(buf, f);
}

void html_put_ci(FILE *f, double lo, double hi)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        fputs("n/a", f);
        return;
    }
    fputc('[', f);
    html_put_value(f, lo);
    fputs(", ", f);
    html_put_value(f, hi);
    fputc(']', f);
}

void html_page_head(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n"
          "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\" xml:lang=\"en\">\n"
          "<head>\n"
          "<meta charset=\"utf-8\"/>\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n",
          f);
    fprintf(f, "<title>%s</title>\n", title);
    /* No url(), no @import, no web font: nothing to fetch. */
    fputs("<style>\n"
          "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,"
          "sans-serif;color:#1a1a1a;background:#fff;margin:0 auto;max-width:960px;"
          "padding:12px 20px 40px;line-height:1.4}\n"
          "h1{font-size:1.5em;margin:.3em 0}\n"
          "h2{font-size:1.15em;margin:1.8em 0 .3em;padding-bottom:.2em;"
          "border-bottom:1px solid #ccc;overflow-wrap:anywhere}\n"
          "h3{font-size:1em;margin:1.2em 0 .3em}\n"
          "p{margin:.4em 0}\n"
          ".meta{color:#555;font-size:.9em}\n"
          "table{border-collapse:collapse;margin:.4em 0;font-size:.88em}\n"
          "th,td{border:1px solid #d4d4d4;padding:3px 8px;text-align:left;vertical-align:top}\n"
          "th{background:#f1f1f1;font-weight:600}\n"
          "td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}\n"
          "td.key{color:#444;white-space:nowrap}\n"
          "td.val{overflow-wrap:anywhere}\n"
          "td.nowrap{white-space:nowrap}\n"
          "td.label{overflow-wrap:anywhere;min-width:6em}\n"
          /* Columns share the page's width whatever the number of reports, and long values
           * (digests, kernel versions) wrap inside their cell instead of pushing it wider. */
          "table.reports{table-layout:fixed;width:100%}\n"
          "table.reports td,table.reports th{overflow-wrap:anywhere;white-space:normal}\n"
          "table.reports col.key{width:9em}\n"
          ".stall{color:#8A5A00;font-weight:600}\n"
          "ul.warnings{background:#fff8e1;border:1px solid #ffcc80;padding:6px 12px 6px 28px;"
          "border-radius:4px}\n"
          "tr.group th{background:#e4e4e4}\n"
          "td.differs{background:#fff2c6;font-weight:600}\n"
          ".verdict{display:inline-block;padding:0 7px;border-radius:3px;font-weight:600;"
          "white-space:nowrap;border:1px solid transparent}\n"
          ".regressed{background:#c62828;color:#fff;border-color:#7f0000}\n"
          ".improved{background:#43a047;color:#000;border-color:#1b5e20}\n"
          ".noisy{background:#ffb300;color:#000;border-color:#a06a00}\n"
          ".unchanged{background:#e2e2e2;color:#333;border-color:#bbb}\n"
          ".baseline-only,.candidate-only{background:#fff;color:#555;border:1px dashed #999}\n"
          ".banner{padding:8px 12px;border-radius:4px;font-weight:600;margin:.6em 0}\n"
          ".banner.regressed{border-width:2px}\n"
          ".banner.ok{background:#e8f5e9;color:#1b5e20;border:1px solid #a5d6a7}\n"
          ".swatch{display:inline-block;width:10px;height:10px;border-radius:5px;"
          "margin-right:6px;vertical-align:baseline}\n"
          ".wide{overflow-x:auto;max-width:100%}\n"
          "svg.chart{display:block;max-width:100%;height:auto;margin:.3em 0}\n"
          "svg.chart text{font-family:inherit}\n"
          "small{color:#555}\n"
          "a{color:#0b57a4}\n"
          "</style>\n"
          "</head>\n"
          "<body>\n",
          f);
}

void html_page_tail(FILE *f)
{
    fputs("<p class=\"meta\">Written by burette " BURETTE_VERSION
          ". Self-contained: no scripts, no external resources.</p>\n"
          "</body>\n</html>\n",
          f);
}
