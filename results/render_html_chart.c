/* SPDX-License-Identifier: MIT */
/*
 * render_html_chart - the inline SVG chart of one metric on the HTML page; see render_html.c
 * for the page's invariants, which hold here: report text only through html_put_text(),
 * colours as presentation attributes so a viewer that drops <style> still shows the marks.
 *
 * Latency percentiles of one sub-test (NAME_p50_us, NAME_p90_us, NAME_p99_us, NAME_p999_us,
 * whichever the page has, at least two) share one chart, drawn in the section of the first of
 * them on the page: per report one row per percentile on one axis, so where the tail lies
 * against the median is seen at a glance. The sections of the others say where it is. Every
 * sample and mean is still a mark, in the one chart.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "render_html_chart.h"
#include "render_impl.h"

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
        size_t len = html_utf8_next(p, &cp);
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
    html_put_text(f, m->unit);
    fprintf(f, " \u2014 %s is better</text>\n", metric_higher_is_better(m) ? "higher" : "lower");
}

/* The second line under a report's label: its role, or its verdict against the baseline. */
static void chart_row_note(const struct page *pg, size_t i, const char *name,
                           const struct metric *m, double y)
{
    FILE *f = pg->f;
    const struct compare_row *row = pg->c && i ? html_find_row(pg->c, i, name) : NULL;

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

/* Latency percentiles that share a chart, in the order their rows are drawn. */
static const char *const pct_suffix[] = {"_p50_us", "_p90_us", "_p99_us", "_p999_us"};
static const char *const pct_label[] = {"p50", "p90", "p99", "p99.9"};
#define PCT_N (sizeof(pct_suffix) / sizeof(pct_suffix[0]))

/* Which percentile @name is (its index in pct_suffix), its stem's length in @stem; -1: none. */
static int percentile_of(const char *name, size_t *stem)
{
    size_t n = strlen(name);

    for (size_t p = 0; p < PCT_N; p++) {
        size_t k = strlen(pct_suffix[p]);

        if (n > k && !strcmp(name + n - k, pct_suffix[p])) {
            *stem = n - k;
            return (int)p;
        }
    }
    return -1;
}

/**
 * percentile_family() - The percentiles on the page of the same sub-test as names[@idx]
 * @pg:		Page
 * @idx:	A metric of the page
 * @members:	Receives, per percentile, its index in pg->names, or pg->nnames when absent
 * @first:	Receives the first of them in page order: the section that holds the chart
 *
 * Return: how many there are (0 when names[@idx] is no latency percentile)
 */
static size_t percentile_family(const struct page *pg, size_t idx, size_t members[PCT_N],
                                size_t *first)
{
    const char *name = pg->names[idx];
    size_t stem, n = 0;

    for (size_t p = 0; p < PCT_N; p++)
        members[p] = pg->nnames;
    *first = idx;
    if (percentile_of(name, &stem) < 0)
        return 0;
    for (size_t k = 0; k < pg->nnames; k++) {
        size_t s;
        int p = percentile_of(pg->names[k], &s);

        if (p < 0 || s != stem || strncmp(pg->names[k], name, stem))
            continue;
        /* a name is on the page once, so each percentile is found at most once */
        members[p] = k;
        if (k < *first)
            *first = k;
        n++;
    }
    return n;
}

/*
 * One row: report @i's metric @name at vertical position @row. @what, when not NULL, names
 * the row within the report's group (a percentile) and starts its second line.
 */
static void chart_row(const struct page *pg, size_t i, const char *name, const struct axis *a,
                      size_t row, const char *what)
{
    static const double jitter[] = {0, -5, 5, -2.5, 2.5};
    FILE *f = pg->f;
    const struct report *r = pg->reports[i];
    const struct metric *m = report_find_metric(r, name);
    const char *col = html_colour(i);
    double top = CH_TOP + (double)row * CH_ROW;
    double dots = top + 15, bar = top + 33;

    fprintf(f, "<circle cx=\"14\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>\n", top + 16, col);
    fprintf(f, "<text x=\"26\" y=\"%.1f\" font-size=\"%d\" fill=\"#1a1a1a\">", top + 20,
            LABEL_SIZE);
    /* a percentile's name takes the end of the label's room */
    if (html_put_text_n(f, report_label(r),
                        fit_chars(report_label(r), what ? LABEL_PX - 44 : LABEL_PX, LABEL_SIZE))) {
        fputs("<title>", f);
        html_put_text(f, report_label(r));
        fputs("</title>", f);
    }
    fputs("</text>\n", f);
    if (what)
        fprintf(f,
                "<text class=\"pct\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\" "
                "font-weight=\"bold\" fill=\"#1a1a1a\">%s</text>\n",
                CH_LEFT - 8, top + 20, what);
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
        html_put_text(f, report_label(r));
        fprintf(f, ": sample %zu of %zu: ", k + 1, m->nsamples);
        html_put_value(f, m->samples[k]);
        fputc(' ', f);
        html_put_text(f, m->unit);
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
    html_put_text(f, report_label(r));
    fputs(": mean ", f);
    html_put_value(f, m->st.mean);
    fputs(", 95% CI ", f);
    html_put_ci(f, m->st.ci95_low, m->st.ci95_high);
    fputs("</title></rect>\n", f);
    /* The numbers beside the picture, so nobody has to read them off the axis. */
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"13\" fill=\"#1a1a1a\">", CH_W - CH_RIGHT + 14,
            top + 20);
    html_put_value(f, m->st.mean);
    fputc(' ', f);
    html_put_text_n(f, m->unit, 12);
    fprintf(f, "</text>\n<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#555\">95%% CI ",
            CH_W - CH_RIGHT + 14, top + 36);
    html_put_ci(f, m->st.ci95_low, m->st.ci95_high);
    fputs("</text>\n", f);
}

/* One metric's chart: a row per report, every sample a dot, the mean and its 95% CI a bar. */
/* The percentiles of one sub-test in one chart: per report a row per percentile. */
static void percentile_chart(const struct page *pg, size_t idx, const size_t members[PCT_N],
                             size_t count)
{
    FILE *f = pg->f;
    const struct metric *first = html_first_metric(pg, pg->names[idx]);
    size_t rows = pg->n * count, row = 0, stem;
    double lo = NAN, hi = NAN, bottom = CH_TOP + (double)rows * CH_ROW;
    int height = CH_TOP + (int)rows * CH_ROW + CH_AXIS;
    struct axis a;

    for (size_t i = 0; i < pg->n; i++)
        for (size_t p = 0; p < PCT_N; p++) {
            const struct metric *m = members[p] < pg->nnames
                                         ? report_find_metric(pg->reports[i], pg->names[members[p]])
                                         : NULL;

            for (size_t k = 0; m && k < m->nsamples; k++)
                extend(&lo, &hi, m->samples[k]);
            if (m) {
                extend(&lo, &hi, m->st.mean);
                extend(&lo, &hi, m->st.ci95_low);
                extend(&lo, &hi, m->st.ci95_high);
            }
        }
    axis_fit(&a, lo, hi);
    percentile_of(pg->names[idx], &stem);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart percentiles\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"m%zu-title\">\n"
            "<title id=\"m%zu-title\">",
            CH_W, height, CH_W, height, idx, idx);
    html_put_text_n(f, pg->names[idx], stem);
    fprintf(f,
            " latency percentiles: samples and mean with 95%% confidence interval of %zu "
            "report%s</title>\n",
            pg->n, pg->n == 1 ? "" : "s");
    /* a band per report's group of rows, every other one shaded */
    for (size_t i = 1; i < pg->n; i += 2)
        fprintf(f, "<rect x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%zu\" fill=\"#f5f5f5\"/>\n",
                CH_TOP + (double)(i * count) * CH_ROW, CH_W, count * CH_ROW);
    chart_axis(f, &a, first, bottom);
    for (size_t i = 0; i < pg->n; i++)
        for (size_t p = 0; p < PCT_N; p++)
            if (members[p] < pg->nnames)
                chart_row(pg, i, pg->names[members[p]], &a, row++, pct_label[p]);
    fputs("</svg>\n", f);
}

void html_chart(const struct page *pg, size_t idx)
{
    FILE *f = pg->f;
    const char *name = pg->names[idx];
    const struct metric *first = html_first_metric(pg, name);
    const struct metric *base = pg->c ? report_find_metric(pg->c->base, name) : NULL;
    double lo = NAN, hi = NAN, bottom = CH_TOP + (double)pg->n * CH_ROW;
    int height = CH_TOP + (int)pg->n * CH_ROW + CH_AXIS;
    size_t members[PCT_N], chart_at;
    size_t family = percentile_family(pg, idx, members, &chart_at);
    struct axis a;

    if (family >= 2 && chart_at != idx) {
        fputs("<p class=\"meta\">Charted with the other percentiles under ", f);
        fprintf(f, "<a href=\"#m%zu\">", chart_at);
        html_put_text(f, pg->names[chart_at]);
        fputs("</a>.</p>\n", f);
        return;
    }
    if (family >= 2) {
        percentile_chart(pg, idx, members, family);
        return;
    }

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
    html_put_text(f, name);
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
                x0, CH_TOP, x1 - x0, bottom - CH_TOP, html_colour(0));
    }
    if (base)
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-dasharray=\"4 3\" stroke-width=\"1\"/>\n",
                xpos(&a, base->st.mean), CH_TOP, xpos(&a, base->st.mean), bottom, html_colour(0));
    for (size_t i = 0; i < pg->n; i++)
        chart_row(pg, i, name, &a, i, NULL);
    fputs("</svg>\n", f);
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
