/* SPDX-License-Identifier: MIT */
/*
 * clock - the one monotonic clock every part reads for deadlines and timers
 *
 * Milliseconds of CLOCK_MONOTONIC as a signed 64-bit count: never goes back, unaffected by
 * changes of the wall clock, and signed so that "deadline - now" may go negative without a
 * wrap. Code that needs a clock it can fake in tests (consomme's cm_now_ms()) wraps this one.
 */
#ifndef BURETTE_CLOCK_H
#define BURETTE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* BURETTE_CLOCK_H */
