/* SPDX-License-Identifier: MIT */
/*
 * text - string tests that several parts make
 *
 * A metric's kind is the end of its name ("_gbps", "_stalled_intervals", "_cpu_percent"): the
 * gate, the stall notes and the busy-machine warning each ask it of a name. Header-only.
 */
#ifndef BURETTE_TEXT_H
#define BURETTE_TEXT_H

#include <stdbool.h>
#include <string.h>

/* @s is @suffix after at least one byte: a metric name of a kind has a stem before its
 * suffix, and "_gbps" alone names no rate. */
static inline bool text_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n > k && !memcmp(s + n - k, suffix, k);
}

#endif /* BURETTE_TEXT_H */
