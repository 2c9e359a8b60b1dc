/* SPDX-License-Identifier: MIT */
/*
 * render_html_chart - the report page's SVG charts, and the value axis the history page's
 * charts share with them; see render_html_chart.c
 */
#ifndef BURETTE_RENDER_HTML_CHART_H
#define BURETTE_RENDER_HTML_CHART_H

#include <stddef.h>

#include "render_html_page.h"

/**
 * html_chart() - One metric's SVG chart: a row per report, every sample a dot, the mean and its
 * 95% CI a bar
 */
void html_chart(const struct page *pg, size_t idx);

/**
 * html_axis_fit() - A value axis around [lo, hi] with round ticks about a quarter apart
 * @step:	Tick step, 0 when no round ticks fit
 * @decimals:	Decimals of the tick labels
 */
void html_axis_fit(double lo, double hi, double *axis_lo, double *axis_hi, double *step,
                   int *decimals);

#endif /* BURETTE_RENDER_HTML_CHART_H */
