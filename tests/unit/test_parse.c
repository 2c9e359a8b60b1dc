/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of common/parse: every user-typed number goes through these functions, so each
 * malformed shape a user can type is refused here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parse.h"

static void test_parse_uint_accepts_range_and_refuses_garbage(void **state)
{
    unsigned long long v = 0;

    assert_int_equal(parse_uint("5", 1, 10, &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(parse_uint("0", 1, 10, &v), -ERANGE);
    assert_int_equal(parse_uint("11", 1, 10, &v), -ERANGE);
    assert_int_equal(parse_uint("", 0, 10, &v), -EINVAL);
    assert_int_equal(parse_uint("-1", 0, 10, &v), -EINVAL);
    assert_int_equal(parse_uint("3x", 0, 10, &v), -EINVAL);
    assert_int_equal(parse_uint(" 3", 0, 10, &v), -EINVAL);
    assert_int_equal(parse_uint("99999999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
}

static void test_parse_double_refuses_nan_and_trailing_text(void **state)
{
    double d = 0;

    assert_int_equal(parse_double("0.01", 0, 1, &d), 0);
    assert_true(d > 0.0099 && d < 0.0101);
    assert_int_equal(parse_double("nan", 0, 1, &d), -EINVAL);
    assert_int_equal(parse_double("1e400", 0, 1e300, &d), -EINVAL);
    assert_int_equal(parse_double("0.5%", 0, 1, &d), -EINVAL);
    assert_int_equal(parse_double("2", 0, 1, &d), -ERANGE);
}

static void test_parse_size_suffixes_are_binary(void **state)
{
    uint64_t v = 0;

    assert_int_equal(parse_size("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(parse_size("256K", &v), 0);
    assert_int_equal(v, 256 * 1024);
    assert_int_equal(parse_size("4m", &v), 0);
    assert_int_equal(v, 4 * 1024 * 1024);
    assert_int_equal(parse_size("1GiB", &v), 0);
    assert_int_equal(v, 1ULL << 30);
    assert_int_equal(parse_size("16KB", &v), 0);
    assert_int_equal(v, 16 * 1024);
    assert_int_equal(parse_size("4X", &v), -EINVAL);
    assert_int_equal(parse_size("K", &v), -EINVAL);
    assert_int_equal(parse_size("4Kb2", &v), -EINVAL);
    assert_int_equal(parse_size("99999999999999999999G", &v), -ERANGE);
    assert_int_equal(parse_size("17179869184G", &v), -ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_uint_accepts_range_and_refuses_garbage),
        cmocka_unit_test(test_parse_double_refuses_nan_and_trailing_text),
        cmocka_unit_test(test_parse_size_suffixes_are_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
