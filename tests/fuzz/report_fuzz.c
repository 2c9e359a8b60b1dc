/* SPDX-License-Identifier: MIT */
/*
 * report_fuzz - libFuzzer target over report parsing as `burette compare` does it
 *
 * A baseline often comes from a URL (a CI gate's last good run), so its bytes are not ours.
 * Input: the baseline's JSON text, optionally followed by a NUL byte and a candidate's (else
 * the baseline is its own candidate). Each is parsed the way report_read() parses a file
 * (duplicate keys refused) and built with report_from_json(); reports that are accepted are
 * compared (compare_reports()) and the comparison rendered in every format into a memory
 * stream, as `burette compare` would print it.
 *
 * Oracle: an accepted report written back with report_to_json() must be accepted again, with
 * the same metrics. Seeds: tests/data/report_fuzz.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compare.h"
#include "render.h"
#include "report.h"

static struct report *parse(const uint8_t *data, size_t len, const char *name)
{
    char err[512];
    json_error_t jerr;
    struct report *r = NULL;
    json_t *root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);

    if (!root)
        return NULL;
    if (report_from_json(root, name, &r, err, sizeof(err)))
        r = NULL;
    json_decref(root);
    return r;
}

/* What the report says must survive being written and read back. */
static void roundtrip(const struct report *r)
{
    char err[512];
    json_t *j = report_to_json(r);
    struct report *again = NULL;

    if (!j)
        return;
    if (report_from_json(j, "roundtrip", &again, err, sizeof(err))) {
        fprintf(stderr, "report_fuzz: a report written by report_to_json() is refused: %s\n", err);
        abort();
    }
    if (again->nmetrics != r->nmetrics) {
        fprintf(stderr, "report_fuzz: %zu metrics written, %zu read back\n", r->nmetrics,
                again->nmetrics);
        abort();
    }
    for (size_t i = 0; i < r->nmetrics; i++) {
        if (!report_find_metric(again, r->metrics[i].name)) {
            fprintf(stderr, "report_fuzz: metric %s lost on the way\n", r->metrics[i].name);
            abort();
        }
    }
    report_free(again);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const formats[] = {"text", "markdown", "json", "html"};
    const uint8_t *nul = memchr(data, 0, size);
    struct report *base, *cand = NULL;
    struct comparison *cmp = NULL;
    char err[512];

    base = parse(data, nul ? (size_t)(nul - data) : size, "baseline");
    if (!base)
        return 0;
    roundtrip(base);
    if (nul) {
        cand = parse(nul + 1, size - (size_t)(nul - data) - 1, "candidate");
        if (!cand) {
            report_free(base);
            return 0;
        }
    }
    {
        const struct report *cands[1] = {cand ? cand : base};

        if (!compare_reports(base, cands, 1, NULL, &cmp, err, sizeof(err))) {
            for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
                char *buf = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&buf, &len);

                if (!f)
                    break;
                render_comparison(formats[i], f, cmp, err, sizeof(err));
                fclose(f);
                free(buf);
            }
            comparison_free(cmp);
        }
    }
    report_free(cand);
    report_free(base);
    return 0;
}
