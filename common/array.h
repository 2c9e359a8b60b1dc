/* SPDX-License-Identifier: MIT */
/*
 * array - room for one more element in an array that grows by doubling
 *
 * The arrays of reports, tables and the history (metrics, samples, rows, series, points) grow
 * one element at a time, and the byte buffers that collect what is read (a URL's body, the
 * agent's lines) a read at a time; doubling keeps that amortised O(1). Invariant kept for the
 * caller: on failure nothing changes, so the array it has is still valid and still its to free.
 */
#ifndef BURETTE_ARRAY_H
#define BURETTE_ARRAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/**
 * array_reserve() - Make room for element number @n + 1
 * @arr:	The array; NULL while *@cap is 0
 * @n:		Elements in use
 * @cap:	Elements allocated; raised when the array grows
 * @size:	Bytes per element
 * @first:	Elements to allocate the first time
 *
 * Return: the array to use from now on (@arr itself while @n < *@cap), or NULL when out of
 * memory, with @arr and *@cap unchanged.
 */
static inline void *array_reserve(void *arr, size_t n, size_t *cap, size_t size, size_t first)
{
    size_t want;
    void *more;

    if (n < *cap)
        return arr;
    want = *cap ? *cap * 2 : first;
    if (size && want > SIZE_MAX / size)
        return NULL;
    more = realloc(arr, want * size);
    if (more)
        *cap = want;
    return more;
}

/**
 * array_reserve_bytes() - Make room for @need more bytes after the @len in use in a byte buffer
 * that grows by doubling (from 4 KiB)
 * @buf:	The buffer; NULL while *@cap is 0
 * @len:	Bytes in use
 * @need:	Bytes wanted after them
 * @cap:	Bytes allocated; raised when the buffer grows
 *
 * Return: the buffer to use from now on (@buf itself when it had the room), or NULL when out
 * of memory, with @buf and *@cap unchanged.
 */
static inline void *array_reserve_bytes(void *buf, size_t len, size_t need, size_t *cap)
{
    size_t want = *cap ? *cap : 4096;
    void *more;

    if (*cap - len >= need)
        return buf;
    while (want - len < need) {
        if (want > SIZE_MAX / 2)
            return NULL;
        want *= 2;
    }
    more = realloc(buf, want);
    if (more)
        *cap = want;
    return more;
}

#endif /* BURETTE_ARRAY_H */
