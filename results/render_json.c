/* SPDX-License-Identifier: MIT */
/*
 * render_json - reports and comparisons as JSON for machines.
 *
 * One report is printed as the report itself, so the output can be read back as a report;
 * several are {"reports": [...]}. A comparison carries every number and verdict.
 */
#include <errno.h>

#include "errbuf.h"
#include "render_impl.h"

static int dump(FILE *f, json_t *root, char *err, size_t errlen)
{
    int rc = 0;

    if (!root)
        return errbuf_set(err, errlen, ENOMEM, "out of memory");
    if (json_dumpf(root, f, JSON_INDENT(2)) < 0 || fputc('\n', f) == EOF || fflush(f) == EOF)
        rc = errbuf_set(err, errlen, EIO, "cannot write the output");
    json_decref(root);
    return rc;
}

static int json_reports(FILE *f, const struct report *const *reports, size_t n, char *err,
                        size_t errlen)
{
    json_t *arr;

    if (n == 1)
        return dump(f, report_to_json(reports[0]), err, errlen);
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, report_to_json(reports[i])) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    return dump(f, arr ? json_pack("{s:o}", "reports", arr) : NULL, err, errlen);
}

static int json_comparison(FILE *f, const struct comparison *c, char *err, size_t errlen)
{
    return dump(f, render_comparison_json(c), err, errlen);
}

const struct renderer render_json = {
    .name = "json",
    .reports = json_reports,
    .comparison = json_comparison,
};
