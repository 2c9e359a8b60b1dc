/* SPDX-License-Identifier: MIT */
/*
 * render_impl - pieces shared by the renderers, not for callers outside results/
 *
 * The tables and JSON objects built here are the content; each renderer only chooses how to
 * print it.
 */
#ifndef BURETTE_RENDER_IMPL_H
#define BURETTE_RENDER_IMPL_H

#include <jansson.h>

#include "render.h"
#include "table.h"

extern const struct renderer render_text;
extern const struct renderer render_markdown;
extern const struct renderer render_json;
extern const struct renderer render_html;

/**
 * render_fmt_value() - A measured value with as many digits as a reader can use
 */
void render_fmt_value(char *buf, size_t len, double v);

/**
 * render_fmt_pct() - A signed percentage ("+3.21%"), "n/a" if not finite
 */
void render_fmt_pct(char *buf, size_t len, double v);

/**
 * render_report_origin() - One line on where a report comes from: revision, branch, date
 */
void render_report_origin(char *buf, size_t len, const struct report *r);

/**
 * render_json_scalars() - "key value, key value" of an object's scalar members (config, host)
 */
void render_json_scalars(char *buf, size_t len, const json_t *obj);

/**
 * render_summary_table() - One row per metric (per report, when there are several)
 *
 * Return: 0 or -ENOMEM
 */
int render_summary_table(const struct report *const *reports, size_t n, struct table *t);

/**
 * render_comparison_table() - One row per metric and candidate, grouped by metric
 *
 * Return: 0 or -ENOMEM
 */
int render_comparison_table(const struct comparison *c, struct table *t);

/**
 * render_comparison_counts() - "1 regressed, 2 unchanged, ..." over all candidates
 */
void render_comparison_counts(char *buf, size_t len, const struct comparison *c);

/**
 * render_comparison_json() - Everything about a comparison as a JSON object
 *
 * Return: new reference, NULL on allocation failure
 */
json_t *render_comparison_json(const struct comparison *c);

#endif /* BURETTE_RENDER_IMPL_H */
