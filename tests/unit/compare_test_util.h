/* SPDX-License-Identifier: MIT */
/*
 * compare_test_util.h - what the tests of results/compare do most: read a recorded report of
 * tests/data (BURETTE_TEST_DATA is its reports/ folder), and compare a baseline with a single
 * candidate; both must succeed (the test fails with the reason otherwise). Include after
 * cmocka.h.
 */
#ifndef BURETTE_COMPARE_TEST_UTIL_H
#define BURETTE_COMPARE_TEST_UTIL_H

#include <stdio.h>

#include "compare.h"
#include "errbuf.h"
#include "report.h"

/* tests/data/reports/@file (or ../aa/K/a.json); report_free() it. */
static inline struct report *read_data(const char *file)
{
    char path[4096], why[ERRBUF_LEN];
    struct report *r = NULL;

    snprintf(path, sizeof(path), "%s/%s", BURETTE_TEST_DATA, file);
    if (report_read(path, &r, why, sizeof(why)) < 0)
        fail_msg("%s", why);
    return r;
}

/* @base against @cand under @o (NULL: the defaults); comparison_free() it. */
static inline struct comparison *compare_with(const struct report *base, const struct report *cand,
                                              const struct compare_options *o)
{
    struct comparison *c = NULL;
    char why[ERRBUF_LEN];

    if (compare_reports(base, &cand, 1, o, &c, why, sizeof(why)))
        fail_msg("compare_reports: %s", why);
    return c;
}

#endif /* BURETTE_COMPARE_TEST_UTIL_H */
