/* SPDX-License-Identifier: MIT */
/*
 * skip - cmocka cases that cannot run here are reported to ctest as skipped, not passed
 *
 * cmocka's skip() ends a case and the group still exits 0, so ctest would count a test that ran
 * nothing as passed. A case calls TEST_SKIP("why") instead: the reason goes to stderr and is
 * counted, and main() returns test_exit_status(): the group's failures if any, else 77 when a
 * case was skipped — ctest's SKIP_RETURN_CODE for these tests — else 0. Header-only: the counter
 * is each file's own, so a program of several files runs each file's group in that file
 * (test_tcp.c).
 */
#ifndef BURETTE_TEST_SKIP_H
#define BURETTE_TEST_SKIP_H

#include <stdio.h>

#define TEST_SKIP_STATUS 77

static unsigned test_skips;

#define TEST_SKIP(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, "skipped: ");                                                              \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        test_skips++;                                                                              \
        skip();                                                                                    \
    } while (0)

/* What main() returns after cmocka's run of the group that returned @failures. */
static inline int test_exit_status(int failures)
{
    return failures ? failures : test_skips ? TEST_SKIP_STATUS : 0;
}

#endif /* BURETTE_TEST_SKIP_H */
