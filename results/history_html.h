/* SPDX-License-Identifier: MIT */
/*
 * history_html - the history page (`burette history report --format html`); see history_html.c
 */
#ifndef BURETTE_HISTORY_HTML_H
#define BURETTE_HISTORY_HTML_H

#include <stdio.h>

#include "history_detect.h"

/**
 * history_render_html() - The history page: a chart per series with its change points marked
 *
 * Return: 0, or -EIO on a write error (message in @err)
 */
int history_render_html(FILE *f, const struct history_detection *d, char *err, size_t errlen);

#endif /* BURETTE_HISTORY_HTML_H */
