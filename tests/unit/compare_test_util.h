/* SPDX-License-Identifier: MIT */
/*
 * compare_test_util.h - the one comparison the tests of results/compare make most: a baseline
 * against a single candidate, which must succeed (the test fails with compare_reports()'s
 * message otherwise). Include after cmocka.h.
 */
#ifndef BURETTE_COMPARE_TEST_UTIL_H
#define BURETTE_COMPARE_TEST_UTIL_H

#include "compare.h"
#include "errbuf.h"

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
