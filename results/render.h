/* SPDX-License-Identifier: MIT */
/*
 * render - reports and comparisons as text, markdown or JSON (and more formats later)
 *
 * A renderer is one file defining one struct renderer, plus one row in the table of
 * render.c: an HTML renderer is added that way, without touching the others. Renderers
 * print what they are given and decide nothing: verdicts and statistics come from
 * compare.h and stats.h. Text and markdown share their tables (render_impl.h), so both
 * always say the same thing.
 */
#ifndef BURETTE_RENDER_H
#define BURETTE_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include "compare.h"
#include "report.h"

struct renderer {
    const char *name;
    /* Summary of one or more reports (end of `burette run`, `burette report`). */
    int (*reports)(FILE *f, const struct report *const *reports, size_t n, char *err,
                   size_t errlen);
    /* A baseline against one or more candidates (`burette compare`). */
    int (*comparison)(FILE *f, const struct comparison *c, char *err, size_t errlen);
};

/**
 * renderer_find() - The renderer of a format name ("text", "markdown", "json", ...)
 *
 * Return: the renderer, NULL if no such format is built in
 */
const struct renderer *renderer_find(const char *name);

/**
 * renderer_names() - The built-in format names, comma-separated, for help and error messages
 */
const char *renderer_names(void);

/**
 * render_reports() - Print a summary of @n reports in @format
 *
 * Return: 0, -EINVAL for an unknown format, -EIO on a write error (message in @err)
 */
int render_reports(const char *format, FILE *f, const struct report *const *reports, size_t n,
                   char *err, size_t errlen);

/**
 * render_comparison() - Print a comparison in @format
 *
 * Return: 0, -EINVAL for an unknown format, -EIO on a write error (message in @err)
 */
int render_comparison(const char *format, FILE *f, const struct comparison *c, char *err,
                      size_t errlen);

#endif /* BURETTE_RENDER_H */
