/* SPDX-License-Identifier: MIT */
/*
 * render_html_reports - the report page's table of where each report comes from; see
 * render_html_reports.c
 */
#ifndef BURETTE_RENDER_HTML_REPORTS_H
#define BURETTE_RENDER_HTML_REPORTS_H

#include "render_html_page.h"

/**
 * html_reports_table() - Where each report comes from and what it measured (origin,
 * provenance, config, host), one column per report
 *
 * Return: 0 or -ENOMEM
 */
int html_reports_table(const struct page *pg);

#endif /* BURETTE_RENDER_HTML_REPORTS_H */
