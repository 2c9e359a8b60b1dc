/* SPDX-License-Identifier: MIT */
/*
 * history_render - the change points of `burette history detect` and `report` in a format
 *
 * The one dispatcher over the history's renderings: text, markdown and JSON here, the HTML
 * page in history_html.c. It depends on the detection and the page, and neither on it.
 */
#ifndef BURETTE_HISTORY_RENDER_H
#define BURETTE_HISTORY_RENDER_H

#include <stdio.h>

#include "history_detect.h"

/**
 * history_render_formats() - "text, markdown, json, html", for help and messages
 */
const char *history_render_formats(void);

/**
 * history_render() - Print the change points in @format (text, markdown, json or html)
 *
 * Return: 0, -EINVAL for an unknown format, -EIO on a write error (message in @err)
 */
int history_render(const char *format, FILE *f, const struct history_detection *d, char *err,
                   size_t errlen);

#endif /* BURETTE_HISTORY_RENDER_H */
