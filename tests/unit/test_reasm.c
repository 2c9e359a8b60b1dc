/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the consomme TCP reassembler: ranges merge when they overlap or touch, the
 * in-order front pops and shifts the rest, and the range limit refuses rather than grows.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "reasm.h"

static void test_reasm_in_order_pops_at_once(void **state)
{
    struct reasm a;

    reasm_init(&a);
    assert_true(reasm_empty(&a));
    assert_int_equal(reasm_add(&a, 0, 1000), 0);
    assert_int_equal(reasm_pop(&a), 1000);
    assert_true(reasm_empty(&a));
    assert_int_equal(reasm_pop(&a), 0);
}

static void test_reasm_hole_holds_back_until_filled(void **state)
{
    struct reasm a;

    reasm_init(&a);
    assert_int_equal(reasm_add(&a, 1000, 500), 0);
    assert_int_equal(reasm_add(&a, 2000, 500), 0);
    assert_int_equal(reasm_pop(&a), 0);
    assert_int_equal(reasm_extent(&a), 2500);
    assert_int_equal(reasm_add(&a, 0, 1000), 0); /* touches [1000, 1500): merges */
    assert_int_equal(a.n, 2);
    assert_int_equal(reasm_pop(&a), 1500);
    /* the remaining range is now relative to the new front */
    assert_int_equal(a.r[0].start, 500);
    assert_int_equal(a.r[0].end, 1000);
    assert_int_equal(reasm_add(&a, 0, 500), 0);
    assert_int_equal(reasm_pop(&a), 1000);
    assert_true(reasm_empty(&a));
}

static void test_reasm_overlaps_merge_into_one(void **state)
{
    struct reasm a;

    reasm_init(&a);
    assert_int_equal(reasm_add(&a, 100, 100), 0);
    assert_int_equal(reasm_add(&a, 300, 100), 0);
    assert_int_equal(reasm_add(&a, 500, 100), 0);
    assert_int_equal(a.n, 3);
    assert_int_equal(reasm_add(&a, 150, 400), 0); /* spans all three */
    assert_int_equal(a.n, 1);
    assert_int_equal(a.r[0].start, 100);
    assert_int_equal(a.r[0].end, 600);
    assert_int_equal(reasm_add(&a, 120, 10), 0); /* inside: no change */
    assert_int_equal(a.n, 1);
    assert_int_equal(a.r[0].end, 600);
    assert_int_equal(reasm_add(&a, 0, 0), 0); /* empty: ignored */
    assert_int_equal(reasm_pop(&a), 0);
}

static void test_reasm_refuses_beyond_range_limit_without_change(void **state)
{
    struct reasm a;

    reasm_init(&a);
    for (uint32_t i = 0; i < REASM_MAX_RANGES; i++)
        assert_int_equal(reasm_add(&a, 100 + i * 200, 100), 0);
    assert_int_equal(a.n, REASM_MAX_RANGES);
    assert_int_equal(reasm_add(&a, 50000, 10), -ENOSPC);
    assert_int_equal(reasm_add(&a, 0, 10), -ENOSPC);
    assert_int_equal(a.n, REASM_MAX_RANGES);
    /* a segment that joins existing ranges still fits, and frees slots */
    assert_int_equal(reasm_add(&a, 0, 400), 0);
    assert_int_equal(a.n, REASM_MAX_RANGES - 1);
    assert_int_equal(reasm_pop(&a), 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reasm_in_order_pops_at_once),
        cmocka_unit_test(test_reasm_hole_holds_back_until_filled),
        cmocka_unit_test(test_reasm_overlaps_merge_into_one),
        cmocka_unit_test(test_reasm_refuses_beyond_range_limit_without_change),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
