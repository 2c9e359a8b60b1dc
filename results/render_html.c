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
 * Layout: a header (for a comparison, the verdict in one line and a metric x candidate grid),
 * a table of where each report comes from (origin, config, host, with the values that differ
 * between reports highlighted), then one section per metric: a chart with a row per report
 * (every sample a dot, the mean with its 95% confidence interval as a bar) and a table of the
 * numbers (statistics, or each candidate against the baseline).
 *
 * Invariants:
 * - Every string that comes from a report (labels, metric names, units, config and host keys
 *   and values, revisions, sources) goes through put_text(), which escapes markup characters
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

#include "build_info.h"
#include "errbuf.h"
#include "html.h"
#include "render_impl.h"

/* Okabe-Ito colours, told apart with the common colour-vision deficiencies (yellow left out: it
 * vanishes on white), then four of Paul Tol's before the cycle repeats. */
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#56B4E9", "#E69F00", "#000000", "#8C8C8C",
                                      "#882255", "#44AA99", "#332288", "#999933"};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

/* Chart geometry, in SVG user units (pixels at 100 %). */
#define CH_W       880
#define CH_LEFT    190 /* report labels */
#define CH_RIGHT   200 /* mean and CI as text */
#define CH_TOP     10
#define CH_ROW     46
#define CH_AXIS    50
#define CH_PLOT_W  (CH_W - CH_LEFT - CH_RIGHT)
#define LABEL_PX   (CH_LEFT - 34) /* room for a report label left of the plot */
#define LABEL_SIZE 13

/* Everything one page is about: the reports in display order, and the comparison if any. */
struct page {
    FILE *f;
    const struct report *const *reports;
    size_t n;
    const struct comparison *c; /* NULL for a summary */
    const char **names;         /* metric names, in order of first appearance */
    size_t nnames;
};

static const char *colour(size_t i)
{
    return palette[i % NPALETTE];
}

/*
 * Decode one UTF-8 character at @s. Returns the bytes consumed (at least 1) and the code
 * point in @cp, U+FFFD for a malformed sequence, an overlong form, a surrogate, or a
 * character XML 1.0 does not allow (C0 controls other than tab, newline, return; U+FFFE/F).
 */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
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
 * put_text_n() - Print untrusted text as character data or an attribute value
 * @f:		Output
 * @s:		Text, any bytes; NULL prints nothing
 * @max:	Characters to print at most, then an ellipsis; 0 for no limit
 *
 * Return: true if @s was cut short
 */
static bool put_text_n(FILE *f, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0;

    while (p && *p) {
        uint32_t cp;
        size_t len = utf8_next(p, &cp);

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

static void put_text(FILE *f, const char *s)
{
    put_text_n(f, s, 0);
}

/**
 * fit_chars() - How many characters of @s to print in @px pixels of @size-pixel text
 *
 * SVG text neither wraps nor can be measured without a script, and a label must not run into
 * the plot, so widths are estimated per character: narrow, average, wide (capitals), and a
 * full em for anything beyond ASCII.
 *
 * Return: 0 if all of @s fits, else the number of characters that fit with an ellipsis
 */
static size_t fit_chars(const char *s, double px, double size)
{
    const unsigned char *p = (const unsigned char *)s;
    double width = 0, cut_at = px - size;
    size_t n = 0, cut = 0;

    while (p && *p) {
        uint32_t cp;
        size_t len = utf8_next(p, &cp);
        double em = 0.58;

        if (cp >= 0x80)
            em = 1.0;
        else if (strchr("ijlt.,;:'|!-_()[]{} fr1", (int)cp))
            em = 0.35;
        else if ((cp >= 'A' && cp <= 'Z') || strchr("mw@%&#", (int)cp))
            em = 0.8;
        width += em * size;
        if (width > px)
            return cut ? cut : 1;
        if (width <= cut_at)
            cut = n + 1;
        n++;
        p += len;
    }
    return 0;
}

static const char *verdict_class(enum verdict v)
{
    static const char *const classes[] = {
        [VERDICT_UNCHANGED] = "unchanged",         [VERDICT_IMPROVED] = "improved",
        [VERDICT_REGRESSED] = "regressed",         [VERDICT_NOISY] = "noisy",
        [VERDICT_BASELINE_ONLY] = "baseline-only", [VERDICT_CANDIDATE_ONLY] = "candidate-only",
    };

    return classes[v];
}

/* The verdict's colour inside SVG, where the page's CSS classes may not reach. */
static const char *verdict_ink(enum verdict v)
{
    switch (v) {
    case VERDICT_REGRESSED:
        return "#B71C1C";
    case VERDICT_IMPROVED:
        return "#1B5E20";
    case VERDICT_NOISY:
        return "#8A5A00";
    default:
        return "#555555";
    }
}

static void put_verdict(FILE *f, const struct compare_row *row)
{
    fprintf(f, "<span class=\"verdict %s\">%s</span>", verdict_class(row->verdict),
            verdict_name(row->verdict));
    if (row->reason != REASON_NONE)
        fprintf(f, "<br/><small>%s</small>", verdict_reason_text(row->reason));
}

static void put_swatch(FILE *f, size_t i)
{
    fprintf(f, "<span class=\"swatch\" style=\"background:%s\"></span>", colour(i));
}

/* A report's name in a table row; its colour as the cell's left edge, which stays with the
 * name however the name wraps. */
static void put_label_cell(FILE *f, size_t i, const struct report *r)
{
    fprintf(f, "<td class=\"label\" style=\"border-left:6px solid %s\">", colour(i));
    put_text(f, report_label(r));
    fputs("</td>", f);
}

static void put_value(FILE *f, double v)
{
    char buf[48];

    /* Past a billion, every digit of "%.0f" would only push the tables off the page. */
    if (isfinite(v) && fabs(v) >= 1e9)
        snprintf(buf, sizeof(buf), "%.4g", v);
    else
        render_fmt_value(buf, sizeof(buf), v);
    fputs(buf, f);
}

static void put_pct(FILE *f, double v)
{
    char buf[48];

    render_fmt_pct(buf, sizeof(buf), v);
    fputs(buf, f);
}

static void put_ci(FILE *f, double lo, double hi)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        fputs("n/a", f);
        return;
    }
    fputc('[', f);
    put_value(f, lo);
    fputs(", ", f);
    put_value(f, hi);
    fputc(']', f);
}

/* Collect the metric names of all reports, in order of first appearance. */
static int collect_names(struct page *pg)
{
    size_t total = 0;

    for (size_t i = 0; i < pg->n; i++)
        total += pg->reports[i]->nmetrics;
    pg->nnames = 0;
    pg->names = calloc(total ? total : 1, sizeof(*pg->names));
    if (!pg->names)
        return -ENOMEM;
    for (size_t i = 0; i < pg->n; i++) {
        for (size_t j = 0; j < pg->reports[i]->nmetrics; j++) {
            const char *name = pg->reports[i]->metrics[j].name;
            bool seen = false;

            for (size_t k = 0; k < pg->nnames && !seen; k++)
                seen = !strcmp(pg->names[k], name);
            if (!seen)
                pg->names[pg->nnames++] = name;
        }
    }
    return 0;
}

/* The first report's copy of metric @name: its unit and direction speak for all. */
static const struct metric *first_metric(const struct page *pg, const char *name)
{
    for (size_t i = 0; i < pg->n; i++) {
        const struct metric *m = report_find_metric(pg->reports[i], name);

        if (m)
            return m;
    }
    return NULL;
}

/* The comparison row of candidate @cand (1-based position on the page) for @name. */
static const struct compare_row *find_row(const struct comparison *c, size_t cand, const char *name)
{
    const struct compare_result *res = &c->results[cand - 1];

    for (size_t i = 0; i < res->nrows; i++)
        if (!strcmp(res->rows[i].name, name))
            return &res->rows[i];
    return NULL;
}

static void page_head(FILE *f, const char *title)
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

static void page_tail(FILE *f)
{
    fputs("<p class=\"meta\">Written by burette " BURETTE_VERSION
          ". Self-contained: no scripts, no external resources.</p>\n"
          "</body>\n</html>\n",
          f);
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

/* One scalar of a config or host object, as text; objects and arrays as compact JSON. */
static void put_json_value(FILE *f, const json_t *v)
{
    char *s;

    if (!v) {
        fputs("\u2014", f);
    } else if (json_is_string(v)) {
        put_text(f, json_string_value(v));
    } else if (json_is_integer(v)) {
        fprintf(f, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        fprintf(f, "%g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        fputs(json_is_true(v) ? "yes" : "no", f);
    } else if (json_is_null(v)) {
        fputs("null", f);
    } else {
        s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        put_text(f, s ? s : "?");
        free(s);
    }
}

/*
 * Do two reports state different values here? Then a reader's eye should land on it. A report
 * that says nothing (OpenVMM's plain format has no config) is not a difference: highlighting
 * every row for it would hide the one that matters.
 */
static bool values_differ(const json_t *const *vals, size_t n)
{
    const json_t *first = NULL;

    for (size_t i = 0; i < n; i++) {
        if (!vals[i])
            continue;
        if (!first)
            first = vals[i];
        else if (!json_equal((json_t *)first, (json_t *)vals[i]))
            return true;
    }
    return false;
}

static void put_cell(FILE *f, bool differs, const char *cls)
{
    fprintf(f, "<td class=\"%s%s\">", cls, differs ? " differs" : "");
}

enum origin_field {
    ORIGIN_REVISION,
    ORIGIN_BRANCH,
    ORIGIN_COMMIT_DATE,
    ORIGIN_DATE,
    ORIGIN_SOURCE
};

static const char *origin_value(const struct report *r, enum origin_field field)
{
    const char *v[] = {r->git_revision, r->git_branch, r->git_commit_date, r->date, r->source};

    return v[field] ? v[field] : "";
}

/*
 * One row of where the reports come from. Revisions and branches are highlighted when they
 * differ; dates and sources always do, so they are not. A revision is shown short, whole on
 * hover.
 */
static void origin_row(const struct page *pg, const char *title, enum origin_field field)
{
    bool differs = false;

    for (size_t i = 1; i < pg->n && field <= ORIGIN_BRANCH; i++)
        differs |=
            strcmp(origin_value(pg->reports[0], field), origin_value(pg->reports[i], field)) != 0;
    fprintf(pg->f, "<tr><td class=\"key\">%s</td>", title);
    for (size_t i = 0; i < pg->n; i++) {
        const char *v = origin_value(pg->reports[i], field);

        put_cell(pg->f, differs, field == ORIGIN_SOURCE ? "val" : "val nowrap");
        if (!*v) {
            fputs("\u2014", pg->f);
        } else if (field == ORIGIN_REVISION) {
            fputs("<span class=\"rev\" title=\"", pg->f);
            put_text(pg->f, v);
            fputs("\">", pg->f);
            put_text_n(pg->f, v, 12);
            fputs("</span>", pg->f);
        } else {
            put_text(pg->f, v);
        }
        fputs("</td>", pg->f);
    }
    fputs("</tr>\n", pg->f);
}

/* Rows for every key of the reports' config (@host false) or host objects, union in order. */
static int object_rows(const struct page *pg, bool host, const char *title)
{
    const char **keys = NULL;
    const json_t **vals = NULL;
    size_t nkeys = 0, cap = 0;
    int rc = 0;

    for (size_t i = 0; i < pg->n; i++) {
        const json_t *obj = host ? pg->reports[i]->host : pg->reports[i]->config;
        const char *key;
        json_t *v;

        if (!json_is_object(obj))
            continue;
        json_object_foreach((json_t *)obj, key, v)
        {
            bool seen = false;

            for (size_t k = 0; k < nkeys && !seen; k++)
                seen = !strcmp(keys[k], key);
            if (seen)
                continue;
            if (nkeys == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                const char **nk = realloc(keys, ncap * sizeof(*keys));

                if (!nk) {
                    rc = -ENOMEM;
                    goto out;
                }
                keys = nk;
                cap = ncap;
            }
            keys[nkeys++] = key;
        }
    }
    if (!nkeys)
        goto out;
    vals = calloc(pg->n, sizeof(*vals));
    if (!vals) {
        rc = -ENOMEM;
        goto out;
    }
    fprintf(pg->f, "<tr class=\"group\"><th colspan=\"%zu\">%s</th></tr>\n", pg->n + 1, title);
    for (size_t k = 0; k < nkeys; k++) {
        bool differs;

        for (size_t i = 0; i < pg->n; i++) {
            const json_t *obj = host ? pg->reports[i]->host : pg->reports[i]->config;

            vals[i] = json_is_object(obj) ? json_object_get(obj, keys[k]) : NULL;
        }
        differs = pg->n > 1 && values_differ(vals, pg->n);
        fputs("<tr><td class=\"key\">", pg->f);
        put_text(pg->f, keys[k]);
        fputs("</td>", pg->f);
        for (size_t i = 0; i < pg->n; i++) {
            put_cell(pg->f, differs, "val");
            put_json_value(pg->f, vals[i]);
            fputs("</td>", pg->f);
        }
        fputs("</tr>\n", pg->f);
    }
out:
    free(keys);
    free(vals);
    return rc;
}

/* Where each report comes from and what it measured: one column per report. */
static int reports_table(const struct page *pg)
{
    FILE *f = pg->f;
    int rc;

    fputs("<h2 id=\"reports\">Reports</h2>\n", f);
    if (pg->n > 1)
        fputs("<p class=\"meta\">Values that differ between reports are highlighted.</p>\n", f);
    fputs("<div class=\"wide\"><table class=\"reports\">\n<tr><th></th>", f);
    for (size_t i = 0; i < pg->n; i++) {
        fputs("<th>", f);
        put_swatch(f, i);
        put_text(f, report_label(pg->reports[i]));
        if (pg->c)
            fprintf(f, "<br/><small>%s</small>", i ? "candidate" : "baseline");
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    fprintf(f, "<tr class=\"group\"><th colspan=\"%zu\">origin</th></tr>\n", pg->n + 1);
    origin_row(pg, "git revision", ORIGIN_REVISION);
    origin_row(pg, "git branch", ORIGIN_BRANCH);
    origin_row(pg, "commit date", ORIGIN_COMMIT_DATE);
    origin_row(pg, "run date", ORIGIN_DATE);
    origin_row(pg, "source", ORIGIN_SOURCE);
    rc = object_rows(pg, false, "config");
    if (!rc)
        rc = object_rows(pg, true, "host");
    fputs("</table></div>\n", f);
    return rc;
}

struct axis {
    double lo, hi; /* the domain the plot spans */
    double step;   /* between ticks, 0 for no ticks */
    int decimals;  /* of tick labels */
};

/* A domain around [lo, hi] with round ticks about a quarter of it apart. */
static void axis_fit(struct axis *a, double lo, double hi)
{
    double span, raw, mag, norm, step, l, h;

    if (!(lo <= hi)) {
        lo = 0;
        hi = 1;
    }
    if (hi == lo) {
        double pad = lo != 0 ? fabs(lo) * 0.05 : 1;

        lo -= pad;
        hi += pad;
    }
    span = hi - lo;
    /* A little room so that no dot sits on the frame. */
    lo -= span * 0.04;
    hi += span * 0.04;
    a->lo = lo;
    a->hi = hi;
    a->step = 0;
    a->decimals = 0;
    span = hi - lo;
    if (!isfinite(span) || span <= 0)
        return;
    raw = span / 4;
    mag = pow(10, floor(log10(raw)));
    norm = raw / mag;
    step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    if (!isfinite(step) || step <= 0)
        return;
    l = floor(lo / step) * step;
    h = ceil(hi / step) * step;
    if (!isfinite(l) || !isfinite(h) || (h - l) / step > 20)
        return;
    a->lo = l;
    a->hi = h;
    a->step = step;
    if (step < 1) {
        a->decimals = (int)ceil(-log10(step) - 1e-9);
        if (a->decimals > 12)
            a->decimals = 12;
    }
}

static double xpos(const struct axis *a, double v)
{
    double t = (v - a->lo) / (a->hi - a->lo);

    if (!isfinite(t))
        t = 0.5;
    if (t < 0)
        t = 0;
    if (t > 1)
        t = 1;
    return CH_LEFT + t * CH_PLOT_W;
}

/* Widen [*lo, *hi] to hold @v if it is a number. */
static void extend(double *lo, double *hi, double v)
{
    if (!isfinite(v))
        return;
    if (isnan(*lo) || v < *lo)
        *lo = v;
    if (isnan(*hi) || v > *hi)
        *hi = v;
}

static void chart_axis(FILE *f, const struct axis *a, const struct metric *m, double bottom)
{
    fprintf(f,
            "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#666\" "
            "stroke-width=\"1\"/>\n",
            CH_LEFT, bottom, CH_LEFT + CH_PLOT_W, bottom);
    for (size_t k = 0; a->step > 0 && k <= 20; k++) {
        double v = a->lo + (double)k * a->step;
        char label[48];
        double x;

        if (v > a->hi + a->step * 1e-6)
            break;
        if (fabs(v) < a->step * 1e-9)
            v = 0;
        x = xpos(a, v);
        /* Fixed decimals read best; extreme magnitudes would need dozens of digits. */
        if (a->step >= 1e7 || a->step < 1e-4)
            snprintf(label, sizeof(label), "%.3g", v);
        else
            snprintf(label, sizeof(label), "%.*f", a->decimals, v);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e2e2e2\"/>"
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#666\"/>"
                "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "font-size=\"12\" fill=\"#333\">%s</text>\n",
                x, CH_TOP, x, bottom, x, bottom, x, bottom + 5, x, bottom + 19, label);
    }
    fprintf(f,
            "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
            "fill=\"#333\">",
            CH_LEFT + CH_PLOT_W / 2, bottom + 38);
    put_text(f, m->unit);
    fprintf(f, " \u2014 %s is better</text>\n", metric_higher_is_better(m) ? "higher" : "lower");
}

/* The second line under a report's label: its role, or its verdict against the baseline. */
static void chart_row_note(const struct page *pg, size_t i, const char *name,
                           const struct metric *m, double y)
{
    FILE *f = pg->f;
    const struct compare_row *row = pg->c && i ? find_row(pg->c, i, name) : NULL;

    fprintf(f, "<text x=\"26\" y=\"%.1f\" font-size=\"11\" ", y);
    if (row && row->base && row->cand) {
        char pct[48];

        render_fmt_pct(pct, sizeof(pct), row->delta_pct);
        fprintf(f, "fill=\"%s\" font-weight=\"bold\">%s %s", verdict_ink(row->verdict),
                verdict_name(row->verdict), pct);
    } else {
        fputs("fill=\"#666\">", f);
        if (pg->c && !i)
            fputs("baseline", f);
        else if (!m)
            fputs("not measured", f);
        else if (row)
            fputs(verdict_name(row->verdict), f);
        else
            fputs(m->nsamples ? "" : "no samples", f);
    }
    if (m && !m->nsamples && (row || (pg->c && !i)))
        fputs(", no samples", f);
    fputs("</text>\n", f);
}

static void chart_row(const struct page *pg, size_t i, const char *name, const struct axis *a)
{
    static const double jitter[] = {0, -5, 5, -2.5, 2.5};
    FILE *f = pg->f;
    const struct report *r = pg->reports[i];
    const struct metric *m = report_find_metric(r, name);
    const char *col = colour(i);
    double top = CH_TOP + (double)i * CH_ROW;
    double dots = top + 15, bar = top + 33;

    fprintf(f, "<circle cx=\"14\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>\n", top + 16, col);
    fprintf(f, "<text x=\"26\" y=\"%.1f\" font-size=\"%d\" fill=\"#1a1a1a\">", top + 20,
            LABEL_SIZE);
    if (put_text_n(f, report_label(r), fit_chars(report_label(r), LABEL_PX, LABEL_SIZE))) {
        fputs("<title>", f);
        put_text(f, report_label(r));
        fputs("</title>", f);
    }
    fputs("</text>\n", f);
    chart_row_note(pg, i, name, m, top + 36);
    if (!m) {
        fprintf(f,
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
                "font-style=\"italic\" fill=\"#777\">not in this report</text>\n",
                CH_LEFT + CH_PLOT_W / 2, top + 27);
        return;
    }
    for (size_t k = 0; k < m->nsamples; k++) {
        fprintf(f,
                "<circle class=\"sample\" cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\" "
                "fill-opacity=\"0.55\" stroke=\"%s\" stroke-width=\"1\"><title>",
                xpos(a, m->samples[k]), dots + jitter[k % 5], col, col);
        put_text(f, report_label(r));
        fprintf(f, ": sample %zu of %zu: ", k + 1, m->nsamples);
        put_value(f, m->samples[k]);
        fputc(' ', f);
        put_text(f, m->unit);
        fputs("</title></circle>\n", f);
    }
    if (isfinite(m->st.ci95_low) && isfinite(m->st.ci95_high)) {
        double lo = xpos(a, m->st.ci95_low), hi = xpos(a, m->st.ci95_high);

        fprintf(f,
                "<g class=\"ci\" stroke=\"%s\" stroke-width=\"2\">"
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/></g>\n",
                col, lo, bar, hi, bar, lo, bar - 5, lo, bar + 5, hi, bar - 5, hi, bar + 5);
    }
    fprintf(f,
            "<rect class=\"mean\" x=\"%.1f\" y=\"%.1f\" width=\"4\" height=\"16\" fill=\"%s\" "
            "stroke=\"#000\" stroke-width=\"0.6\"><title>",
            xpos(a, m->st.mean) - 2, bar - 8, col);
    put_text(f, report_label(r));
    fputs(": mean ", f);
    put_value(f, m->st.mean);
    fputs(", 95% CI ", f);
    put_ci(f, m->st.ci95_low, m->st.ci95_high);
    fputs("</title></rect>\n", f);
    /* The numbers beside the picture, so nobody has to read them off the axis. */
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"13\" fill=\"#1a1a1a\">", CH_W - CH_RIGHT + 14,
            top + 20);
    put_value(f, m->st.mean);
    fputc(' ', f);
    put_text_n(f, m->unit, 12);
    fprintf(f, "</text>\n<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#555\">95%% CI ",
            CH_W - CH_RIGHT + 14, top + 36);
    put_ci(f, m->st.ci95_low, m->st.ci95_high);
    fputs("</text>\n", f);
}

/* One metric's chart: a row per report, every sample a dot, the mean and its 95% CI a bar. */
static void chart(const struct page *pg, size_t idx)
{
    FILE *f = pg->f;
    const char *name = pg->names[idx];
    const struct metric *first = first_metric(pg, name);
    const struct metric *base = pg->c ? report_find_metric(pg->c->base, name) : NULL;
    double lo = NAN, hi = NAN, bottom = CH_TOP + (double)pg->n * CH_ROW;
    int height = CH_TOP + (int)pg->n * CH_ROW + CH_AXIS;
    struct axis a;

    for (size_t i = 0; i < pg->n; i++) {
        const struct metric *m = report_find_metric(pg->reports[i], name);

        if (!m)
            continue;
        for (size_t k = 0; k < m->nsamples; k++)
            extend(&lo, &hi, m->samples[k]);
        extend(&lo, &hi, m->st.mean);
        extend(&lo, &hi, m->st.ci95_low);
        extend(&lo, &hi, m->st.ci95_high);
    }
    axis_fit(&a, lo, hi);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"m%zu-title\">\n"
            "<title id=\"m%zu-title\">",
            CH_W, height, CH_W, height, idx, idx);
    put_text(f, name);
    fprintf(f, ": samples and mean with 95%% confidence interval of %zu report%s</title>\n", pg->n,
            pg->n == 1 ? "" : "s");
    for (size_t i = 1; i < pg->n; i += 2)
        fprintf(f, "<rect x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"#f5f5f5\"/>\n",
                CH_TOP + (double)i * CH_ROW, CH_W, CH_ROW);
    chart_axis(f, &a, first, bottom);
    if (base && isfinite(base->st.ci95_low) && isfinite(base->st.ci95_high)) {
        double x0 = xpos(&a, base->st.ci95_low), x1 = xpos(&a, base->st.ci95_high);

        fprintf(f,
                "<rect class=\"baseline-ci\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
                "height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.10\"/>\n",
                x0, CH_TOP, x1 - x0, bottom - CH_TOP, colour(0));
    }
    if (base)
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-dasharray=\"4 3\" stroke-width=\"1\"/>\n",
                xpos(&a, base->st.mean), CH_TOP, xpos(&a, base->st.mean), bottom, colour(0));
    for (size_t i = 0; i < pg->n; i++)
        chart_row(pg, i, name, &a);
    fputs("</svg>\n", f);
}

static void section_head(const struct page *pg, size_t idx)
{
    FILE *f = pg->f;
    const struct metric *m = first_metric(pg, pg->names[idx]);

    fprintf(f, "<section id=\"m%zu\">\n<h2>", idx);
    put_text(f, pg->names[idx]);
    fputs("</h2>\n<p class=\"meta\">unit ", f);
    put_text(f, m->unit);
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
            put_value(f, v[k]);
            fputs("</td>", f);
        }
        fputs("<td class=\"num\">", f);
        put_ci(f, m->st.ci95_low, m->st.ci95_high);
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
    put_value(f, m->st.mean);
    fputs(" ± ", f);
    put_value(f, m->st.std_dev);
    fprintf(f, " <small>(n=%zu)</small>", m->st.n);
}

static void put_p(FILE *f, const struct compare_row *row)
{
    static const char *const how[] = {
        [PVALUE_NONE] = "",
        [PVALUE_PERMUTATION_EXACT] = "permutation",
        [PVALUE_PERMUTATION_MONTE_CARLO] = "Monte-Carlo permutation",
        [PVALUE_WELCH] = "Welch's t-test",
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
        const struct compare_row *row = find_row(pg->c, i, name);
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
            put_value(f, row->delta);
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
        put_swatch(f, i);
        put_text(f, report_label(pg->reports[i]));
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (size_t k = 0; k < pg->nnames; k++) {
        fprintf(f, "<tr><td><a href=\"#m%zu\">", k);
        put_text(f, pg->names[k]);
        fputs("</a></td>", f);
        for (size_t i = 1; i < pg->n; i++) {
            const struct compare_row *row = find_row(pg->c, i, pg->names[k]);

            fputs("<td>", f);
            if (row) {
                fprintf(f, "<span class=\"verdict %s\">%s</span>", verdict_class(row->verdict),
                        verdict_name(row->verdict));
                if (row->base && row->cand) {
                    fputc(' ', f);
                    put_pct(f, row->delta_pct);
                }
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
    int rc = collect_names(&pg);

    if (rc < 0)
        return finish(f, rc, err, errlen);
    page_head(f, "burette results");
    fputs("<h1>burette results</h1>\n<p>", f);
    for (size_t i = 0; i < n; i++) {
        char origin[512];

        render_report_origin(origin, sizeof(origin), reports[i]);
        fputs(i ? "<br/>" : "", f);
        put_swatch(f, i);
        fputs("<b>", f);
        put_text(f, report_label(reports[i]));
        fputs("</b>: ", f);
        put_text(f, origin);
    }
    fputs("</p>\n", f);
    put_legend(f, false);
    rc = reports_table(&pg);
    for (size_t k = 0; !rc && k < pg.nnames; k++) {
        section_head(&pg, k);
        chart(&pg, k);
        stats_table(&pg, pg.names[k]);
        fputs("</section>\n", f);
    }
    page_tail(f);
    free(pg.names);
    return finish(f, rc, err, errlen);
}

static int html_comparison(FILE *f, const struct comparison *c, char *err, size_t errlen)
{
    const struct report **reports = calloc(c->nresults + 1, sizeof(*reports));
    struct page pg = {.f = f, .reports = reports, .n = c->nresults + 1, .c = c};
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
    page_head(f, "burette comparison");
    fputs("<h1>burette comparison</h1>\n", f);
    if (c->regressed)
        fprintf(f,
                "<p class=\"banner regressed\">Regression: %zu metric%s regressed against the "
                "baseline.</p>\n",
                c->regressed, c->regressed == 1 ? "" : "s");
    else
        fputs("<p class=\"banner ok\">No regression against the baseline.</p>\n", f);
    render_comparison_counts(line, sizeof(line), c);
    fputs("<p>", f);
    put_text(f, line);
    fputs("</p>\n<p>", f);
    for (size_t i = 0; i < pg.n; i++) {
        render_report_origin(line, sizeof(line), reports[i]);
        fputs(i ? "<br/>" : "", f);
        put_swatch(f, i);
        fprintf(f, "%s <b>", i ? "candidate" : "baseline");
        put_text(f, report_label(reports[i]));
        fputs("</b>: ", f);
        put_text(f, line);
    }
    fputs("</p>\n", f);
    comparison_grid(&pg);
    fputs("<p class=\"meta\">A change is regressed or improved when it is significant (p at or "
          "below alpha) and larger than the threshold in the metric's bad or good direction; "
          "noisy when significant but smaller, or too few samples to tell; unchanged "
          "otherwise. The 95% CI of the change is the interval of the relative change of the "
          "means.</p>\n",
          f);
    put_legend(f, true);
    rc = reports_table(&pg);
    for (size_t k = 0; !rc && k < pg.nnames; k++) {
        section_head(&pg, k);
        chart(&pg, k);
        comparison_table(&pg, pg.names[k]);
        fputs("</section>\n", f);
    }
    page_tail(f);
out:
    free(pg.names);
    free(reports);
    return finish(f, rc, err, errlen);
}

const struct renderer render_html = {
    .name = "html",
    .reports = html_reports,
    .comparison = html_comparison,
};

/* The pieces other pages share (html.h). */

void html_page_head(FILE *f, const char *title)
{
    page_head(f, title);
}

void html_page_tail(FILE *f)
{
    page_tail(f);
}

void html_put_text(FILE *f, const char *s)
{
    put_text(f, s);
}

const char *html_colour(size_t i)
{
    return colour(i);
}

void html_axis_fit(double lo, double hi, double *axis_lo, double *axis_hi, double *step,
                   int *decimals)
{
    struct axis a;

    axis_fit(&a, lo, hi);
    *axis_lo = a.lo;
    *axis_hi = a.hi;
    *step = a.step;
    *decimals = a.decimals;
}
