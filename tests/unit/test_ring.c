/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the consomme TCP ring: the iovec views over empty, full and wrapped rings,
 * parking bytes past the end, in-place growth keeping [head, head + len) in order across the
 * wrap (both ways of moving the data),, refusals of
 * shrinking, non-power-of-two and oversized capacities, and the INITIAL:MAX bounds a user may
 * give (config.c parses the text, ring_bounds_check() decides).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "errbuf.h"
#include "ring.h"

/* Appends @n bytes of the pattern starting at @seq, through the space iovecs. */
static void put(struct ring *r, uint32_t seq, uint32_t n)
{
    struct iovec iov[2];
    int cnt = ring_space_iov(r, 0, n, iov);

    for (int i = 0; i < cnt; i++)
        for (size_t k = 0; k < iov[i].iov_len; k++)
            ((uint8_t *)iov[i].iov_base)[k] = (uint8_t)(seq++ * 7 + 3);
    ring_commit(r, n);
}

/* Checks that the data is exactly the pattern from @seq, through the data iovecs. */
static void check(const struct ring *r, uint32_t seq)
{
    struct iovec iov[2];
    int cnt = ring_data_iov(r, 0, ring_len(r), iov);
    size_t total = 0;

    for (int i = 0; i < cnt; i++) {
        for (size_t k = 0; k < iov[i].iov_len; k++)
            assert_int_equal(((uint8_t *)iov[i].iov_base)[k], (uint8_t)(seq++ * 7 + 3));
        total += iov[i].iov_len;
    }
    assert_int_equal(total, ring_len(r));
}

/* A ring of @cap bytes in a chosen state: @filled bytes of the pattern put, the first
 * @consumed of them consumed, then @more put after them (the pattern going on from @filled). */
static void ring_at(struct ring *r, uint32_t cap, uint32_t filled, uint32_t consumed, uint32_t more)
{
    assert_int_equal(ring_init(r, cap), 0);
    put(r, 0, filled);
    ring_consume(r, consumed);
    put(r, filled, more);
}

static void test_ring_empty_has_no_data_and_full_space(void **state)
{
    struct ring r;
    struct iovec iov[2];

    assert_int_equal(ring_init(&r, 4096), 0);
    assert_int_equal(ring_len(&r), 0);
    assert_int_equal(ring_space(&r), 4096);
    assert_int_equal(ring_data_iov(&r, 0, 0, iov), 0);
    assert_int_equal(ring_space_iov(&r, 0, 4096, iov), 1);
    assert_int_equal(iov[0].iov_len, 4096);
    ring_free(&r);
    assert_null(r.buf);
    assert_int_equal(r.cap, 0);
}

static void test_ring_full_has_no_space(void **state)
{
    struct ring r;
    struct iovec iov[2];

    ring_at(&r, 4096, 4096, 0, 0);
    assert_int_equal(ring_space(&r), 0);
    assert_int_equal(ring_space_iov(&r, 0, 0, iov), 0);
    assert_int_equal(ring_data_iov(&r, 0, 4096, iov), 1);
    check(&r, 0);
    ring_free(&r);
}

static void test_ring_wrapped_data_gives_two_iovecs(void **state)
{
    struct ring r;
    struct iovec iov[2];

    ring_at(&r, 4096, 3000, 2500, 3000); /* 500 + 3000 bytes from position 2500: wraps */
    assert_int_equal(ring_len(&r), 3500);
    assert_int_equal(ring_data_iov(&r, 0, 3500, iov), 2);
    assert_int_equal(iov[0].iov_len, 4096 - 2500);
    assert_int_equal(iov[1].iov_len, 3500 - (4096 - 2500));
    assert_ptr_equal(iov[1].iov_base, r.buf);
    check(&r, 2500);
    /* an offset into the data past the wrap point is one piece at the start */
    assert_int_equal(ring_data_iov(&r, 2000, 100, iov), 1);
    assert_ptr_equal(iov[0].iov_base, r.buf + (2500 + 2000 - 4096));
    ring_free(&r);
}

static void test_ring_write_at_parks_bytes_until_commit(void **state)
{
    struct ring r;
    uint8_t a[100], b[50];

    ring_at(&r, 4096, 4000, 4000, 0); /* head at 4000: parked bytes will wrap */
    for (int i = 0; i < 100; i++)
        a[i] = (uint8_t)((i + 50) * 7 + 3);
    for (int i = 0; i < 50; i++)
        b[i] = (uint8_t)(i * 7 + 3);
    ring_write_at(&r, 50, a, 100); /* out of order first */
    assert_int_equal(ring_len(&r), 0);
    ring_write_at(&r, 0, b, 50);
    ring_commit(&r, 150);
    check(&r, 0);
    ring_free(&r);
}

/* Growing a ring of 4096 bytes in each state ring_at() makes keeps its data in order from the
 * head it should have, and the new space is usable to the last byte. */
static void test_ring_grow_keeps_the_data_in_order(void **state)
{
    static const struct {
        const char *what;
        uint32_t filled, consumed, more; /* ring_at()'s */
        uint32_t cap;                    /* grown to */
        uint32_t head;                   /* after growing */
    } cases[] = {
        {"not wrapped: the head stays", 1000, 300, 0, 8192, 300},
        /* 3096 before the end, 200 wrapped */
        {"wrapped, the wrapped part moves", 4096, 1000, 200, 16384, 1000},
        /* 96 before the end, 3000 wrapped */
        {"wrapped, the front part moves", 4096, 4000, 3000, 8192, 8192 - 96},
        {"full and wrapped exactly in half", 4096, 2048, 2048, 8192, 2048},
        {"empty, the head far from 0: it starts at 0", 3000, 3000, 0, 16384, 0},
    };

    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        uint32_t len = cases[k].filled - cases[k].consumed + cases[k].more;
        struct ring r;

        ring_at(&r, 4096, cases[k].filled, cases[k].consumed, cases[k].more);
        assert_int_equal(ring_grow(&r, cases[k].cap), 0);
        assert_int_equal(r.cap, cases[k].cap);
        if (r.head != cases[k].head || ring_len(&r) != len)
            fail_msg("%s: head %u and %u bytes, not %u and %u", cases[k].what, r.head, ring_len(&r),
                     cases[k].head, len);
        check(&r, cases[k].consumed);
        put(&r, cases[k].filled + cases[k].more, ring_space(&r));
        assert_int_equal(ring_len(&r), cases[k].cap);
        check(&r, cases[k].consumed);
        ring_free(&r);
    }
}

static void test_ring_grow_refuses_shrink_non_pow2_and_beyond_max(void **state)
{
    struct ring r;

    assert_int_equal(ring_init(&r, 8192), 0);
    put(&r, 0, 100);
    assert_int_equal(ring_grow(&r, 4096), -EINVAL);
    assert_int_equal(ring_grow(&r, 12288), -EINVAL);
    assert_int_equal(ring_grow(&r, 0), -EINVAL);
    assert_int_equal(ring_grow(&r, 8192), 0); /* at its size already: nothing to do */
    assert_int_equal(r.cap, 8192);
    check(&r, 0);
    ring_free(&r);
    assert_int_equal(ring_init(&r, 3000), -EINVAL);
    assert_int_equal(ring_init(&r, 2048), -EINVAL);
    assert_int_equal(ring_init(&r, RING_MAX_CAP * 2u), -EINVAL);
}

static void test_ring_bounds_round_and_refuse(void **state)
{
    char err[ERRBUF_LEN] = "";
    uint64_t lo, hi;

    lo = 16 * 1024, hi = 4 * 1024 * 1024;
    assert_int_equal(ring_bounds_check(&lo, &hi, err, sizeof(err)), 0);
    assert_int_equal(lo, 16384);
    assert_int_equal(hi, 4194304);
    lo = 100000, hi = 100000; /* fixed size, rounded up the same way */
    assert_int_equal(ring_bounds_check(&lo, &hi, err, sizeof(err)), 0);
    assert_int_equal(lo, 131072);
    assert_int_equal(hi, 131072);
    lo = 1, hi = 1; /* below one page: raised to the minimum */
    assert_int_equal(ring_bounds_check(&lo, &hi, err, sizeof(err)), 0);
    assert_int_equal(lo, RING_MIN_CAP);
    lo = 0, hi = 4096;
    assert_int_equal(ring_bounds_check(&lo, &hi, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "must not be 0"));
    lo = 8192, hi = 4096;
    assert_int_equal(ring_bounds_check(&lo, &hi, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "above its maximum"));
    lo = 4096, hi = 2ull * RING_MAX_CAP;
    assert_int_equal(ring_bounds_check(&lo, &hi, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "largest window"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_empty_has_no_data_and_full_space),
        cmocka_unit_test(test_ring_full_has_no_space),
        cmocka_unit_test(test_ring_wrapped_data_gives_two_iovecs),
        cmocka_unit_test(test_ring_write_at_parks_bytes_until_commit),
        cmocka_unit_test(test_ring_grow_keeps_the_data_in_order),
        cmocka_unit_test(test_ring_grow_refuses_shrink_non_pow2_and_beyond_max),
        cmocka_unit_test(test_ring_bounds_round_and_refuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
