/* SPDX-License-Identifier: MIT */
/*
 * history_html - the history as one self-contained HTML page (`burette history report`)
 *
 * One section per series: a chart of every run over time (x: the runs in order, y: the value)
 * with each run's mean and its 95% confidence interval, its samples as faint dots, the mean of
 * each segment between change points as a flat line, and each change point as a vertical line
 * labelled with its revision range and change; then a table of that series' change points.
 * The page shares its head, palette, axis rounding and escaping with the report page (html.h),
 * so it carries no script and no outside resource either, and every string from the database
 * (metric names, revisions, hosts) goes through html_put_text().
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "history_detect.h"
#include "history_html.h"
#include "html.h"
#include "render_html_chart.h"
#include "render_impl.h"

#define HW     880
#define HH     300
#define HLEFT  70
#define HRIGHT 20
#define HTOP   40
#define HBOT   40
#define HPW    (HW - HLEFT - HRIGHT)
#define HPH    (HH - HTOP - HBOT)
#define HPAD   10

struct frame {
    double lo, hi, step;
    int decimals;
    size_t n;
};

/* Runs sit HPAD inside the frame, so the first and last are not drawn on it. */
static double fx(const struct frame *fr, size_t i)
{
    return HLEFT + HPAD + (fr->n > 1 ? (double)i / (double)(fr->n - 1) : 0.5) * (HPW - 2 * HPAD);
}

static double fy(const struct frame *fr, double v)
{
    double t = (v - fr->lo) / (fr->hi - fr->lo);

    if (!isfinite(t))
        t = 0.5;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return HTOP + (1 - t) * HPH;
}

static void widen(double *lo, double *hi, double v)
{
    if (!isfinite(v))
        return;
    if (isnan(*lo) || v < *lo)
        *lo = v;
    if (isnan(*hi) || v > *hi)
        *hi = v;
}

static void axes(FILE *f, const struct frame *fr, const struct history_series *s)
{
    fprintf(f,
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n",
            HLEFT, HTOP, HPW, HPH);
    for (size_t k = 0; fr->step > 0 && k <= 20; k++) {
        double v = fr->lo + (double)k * fr->step, y;

        if (v > fr->hi + fr->step * 1e-6)
            break;
        y = fy(fr, v);
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" fill=\"#333\">"
                "%.*f</text>\n",
                HLEFT, y, HLEFT + HPW, y, HLEFT - 6, y + 4, fr->decimals, v);
    }
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">runs, "
            "oldest first (%zu) \u2014 ",
            HLEFT + HPW / 2, HH - 6, fr->n);
    html_put_text(f, s->unit);
    fprintf(f, ", %s is better</text>\n", s->higher_is_better ? "higher" : "lower");
}

/* Dates under a few runs: enough to place a run in time without overprinting. */
static void date_labels(FILE *f, const struct frame *fr, const struct history_series *s)
{
    size_t every = fr->n > 8 ? (fr->n + 7) / 8 : 1;

    for (size_t i = 0; i < fr->n; i += every) {
        char date[11];

        snprintf(date, sizeof(date), "%s", s->points[i].date);
        fprintf(f,
                "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\" "
                "fill=\"#555\">",
                fx(fr, i), HTOP + HPH + 15);
        html_put_text(f, date);
        fputs("</text>\n", f);
    }
}

static void chart(FILE *f, const struct history_detection *d, size_t si)
{
    const struct history_series *s = &d->series[si];
    double lo = NAN, hi = NAN;
    const char *ink = html_colour(0);
    struct frame fr = {.n = s->npoints};
    size_t first = 0, marked = 0;

    for (size_t i = 0; i < s->npoints; i++) {
        const struct history_point *p = &s->points[i];

        widen(&lo, &hi, p->mean);
        widen(&lo, &hi, p->ci_low);
        widen(&lo, &hi, p->ci_high);
        for (size_t k = 0; k < p->nsamples; k++)
            widen(&lo, &hi, p->samples[k]);
    }
    html_axis_fit(lo, hi, &fr.lo, &fr.hi, &fr.step, &fr.decimals);
    fprintf(f,
            "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
            HW, HH, HW, HH);
    axes(f, &fr, s);
    date_labels(f, &fr, s);

    /* Samples first, so means and intervals are drawn over them. */
    for (size_t i = 0; i < s->npoints; i++)
        for (size_t k = 0; k < s->points[i].nsamples; k++)
            fprintf(f,
                    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.8\" fill=\"%s\" "
                    "fill-opacity=\"0.22\"/>\n",
                    fx(&fr, i), fy(&fr, s->points[i].samples[k]), ink);
    for (size_t i = 0; i < s->npoints; i++) {
        const struct history_point *p = &s->points[i];

        if (isfinite(p->ci_low) && isfinite(p->ci_high))
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"1.2\"/>\n",
                    fx(&fr, i), fy(&fr, p->ci_low), fx(&fr, i), fy(&fr, p->ci_high), ink);
    }
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-opacity=\"0.45\" points=\"", ink);
    for (size_t i = 0; i < s->npoints; i++)
        fprintf(f, "%s%.1f,%.1f", i ? " " : "", fx(&fr, i), fy(&fr, s->points[i].mean));
    fputs("\"/>\n", f);
    for (size_t i = 0; i < s->npoints; i++) {
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>", fx(&fr, i),
                fy(&fr, s->points[i].mean), ink);
        html_put_text(f, s->points[i].revision);
        fputs(" ", f);
        html_put_text(f, s->points[i].date);
        fprintf(f, ": %.6g</title></circle>\n", s->points[i].mean);
    }

    /* Segment means and change points, in order. */
    for (size_t c = 0; c <= d->nchanges; c++) {
        const struct history_change *hc = c < d->nchanges ? &d->changes[c] : NULL;
        size_t end;
        double mean;

        if (hc && hc->series != si)
            continue;
        end = hc ? hc->c.index : s->npoints;
        mean = hc ? hc->c.mean_before : 0;
        if (!hc) {
            mean = 0;
            for (size_t i = first; i < end; i++)
                mean += s->points[i].mean;
            mean /= (double)(end - first);
        }
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" "
                "stroke-width=\"2\" stroke-opacity=\"0.7\"/>\n",
                fx(&fr, first), fy(&fr, mean), fx(&fr, end - 1), fy(&fr, mean));
        if (hc) {
            double x = (fx(&fr, end - 1) + fx(&fr, end)) / 2;
            const char *mark = hc->regression ? "#c62828" : "#2e7d32";
            char pct[32], a[16], b[16];

            render_fmt_pct(pct, sizeof(pct), hc->c.change * 100);
            history_short_revision(a, sizeof(a), s->points[end - 1].revision);
            history_short_revision(b, sizeof(b), s->points[end].revision);
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" "
                    "stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>\n"
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" font-size=\"11\" fill=\"%s\">",
                    x, HTOP - 4, x, HTOP + HPH, mark, x,
                    /* neighbouring labels alternate between two lines */
                    HTOP - 8 - (int)(marked++ % 2) * 13, x > HLEFT + HPW * 0.7 ? "end" : "start",
                    mark);
            html_put_text(f, a);
            fputs("..", f);
            html_put_text(f, b);
            fprintf(f, " %s</text>\n", pct);
            first = end;
        }
    }
    fputs("</svg>\n", f);
}

/* A run as the change table names it: "REVISION (DATE)". */
static void put_run(FILE *f, const struct history_point *run)
{
    html_put_text(f, run->revision);
    fputs(" (", f);
    html_put_text(f, run->date);
    fputs(")", f);
}

static void change_rows(FILE *f, const struct history_detection *d, size_t only, bool all)
{
    for (size_t c = 0; c < d->nchanges; c++) {
        const struct history_change *hc = &d->changes[c];
        const struct history_series *s = &d->series[hc->series];
        const struct history_point *before = &s->points[hc->c.index - 1];
        const struct history_point *after = &s->points[hc->c.index];
        char mb[32], ma[32], pct[32];

        if (!all && hc->series != only)
            continue;
        render_fmt_value(mb, sizeof(mb), hc->c.mean_before);
        render_fmt_value(ma, sizeof(ma), hc->c.mean_after);
        render_fmt_pct(pct, sizeof(pct), hc->c.change * 100);
        fputs("<tr>", f);
        if (all) {
            fprintf(f, "<td><a href=\"#series-%zu\">", hc->series);
            html_put_text(f, s->metric);
            fputs("</a></td>", f);
        }
        fprintf(f, "<td class=\"num\">%zu</td><td class=\"nowrap\">", hc->c.index + 1);
        put_run(f, before);
        fputs("<br/>", f);
        put_run(f, after);
        fprintf(f,
                "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                "<td class=\"num\">%.3f</td><td><span class=\"verdict %s\">%s%s</span></td></tr>\n",
                mb, ma, pct, hc->c.p, hc->regression ? "regressed" : "improved",
                hc->regression ? "regression" : "improvement", history_change_note(d, c));
    }
}

static void change_table(FILE *f, const struct history_detection *d, size_t only, bool all)
{
    fputs("<div class=\"wide\"><table><tr>", f);
    if (all)
        fputs("<th>metric</th>", f);
    fputs("<th>first run after</th><th>last run before / first run after</th><th>mean before</th>"
          "<th>mean after</th><th>change</th><th>p</th><th>verdict</th></tr>\n",
          f);
    change_rows(f, d, only, all);
    fputs("</table></div>\n", f);
}

int history_render_html(FILE *f, const struct history_detection *d, char *err, size_t errlen)
{
    bool fail = history_detect_gate(d);

    html_page_head(f, "burette history");
    fputs("<h1>burette history</h1>\n", f);
    fprintf(f,
            "<p class=\"banner %s\">%zu change point%s in %zu series; the nightly gate %s.</p>\n",
            fail ? "regressed" : "ok", d->nchanges, d->nchanges == 1 ? "" : "s", d->nseries,
            fail ? "fails: a recent regression is the newest change of a series" : "passes");
    fputs("<p class=\"meta\">Change points are found per series (one metric, one config, one "
          "host) with E-divisive means and a permutation test. Each chart shows every run: "
          "a dot for its mean, a line for its 95% confidence interval, faint dots for its "
          "samples; dark flat lines are the means between change points, dashed vertical "
          "lines the change points (red a regression, green an improvement), labelled with "
          "the last revision before and the first after. The value axis does not start at "
          "zero.</p>\n",
          f);
    if (d->nchanges) {
        fputs("<h2>Change points</h2>\n", f);
        change_table(f, d, 0, true);
    }
    for (size_t i = 0; i < d->nseries; i++) {
        const struct history_series *s = &d->series[i];
        bool any = false;

        fprintf(f, "<h2 id=\"series-%zu\">", i);
        html_put_text(f, s->metric);
        fputs("</h2>\n<p class=\"meta\">", f);
        html_put_text(f, s->config_key);
        fputs("<br/>host: ", f);
        html_put_text(f, s->host_key);
        fputs("</p>\n", f);
        chart(f, d, i);
        for (size_t c = 0; c < d->nchanges; c++)
            any |= d->changes[c].series == i;
        if (any)
            change_table(f, d, i, false);
    }
    html_page_tail(f);
    if (ferror(f))
        return errbuf_set(err, errlen, -EIO, "cannot write the page");
    return 0;
}
