/* SPDX-License-Identifier: MIT */
/*
 * reasm - out-of-order range bookkeeping; see reasm.h. With at most REASM_MAX_RANGES entries,
 * linear scans and memmove are cheaper than any tree.
 */
#include <errno.h>
#include <string.h>

#include "reasm.h"

int reasm_add(struct reasm *a, uint32_t off, uint32_t len)
{
    uint32_t start = off, end = off + len, i, j, n;

    if (!len)
        return 0;
    /* first range that ends at or after our start: it may merge or come after us */
    for (i = 0; i < a->n && a->r[i].end < start; i++)
        ;
    /* ranges [i, j) touch or overlap [start, end) and merge into one */
    for (j = i; j < a->n && a->r[j].start <= end; j++)
        ;
    if (i == j) {
        if (a->n == REASM_MAX_RANGES)
            return -ENOSPC;
        memmove(&a->r[i + 1], &a->r[i], (a->n - i) * sizeof(a->r[0]));
        a->r[i].start = start;
        a->r[i].end = end;
        a->n++;
        return 0;
    }
    if (a->r[i].start < start)
        start = a->r[i].start;
    if (a->r[j - 1].end > end)
        end = a->r[j - 1].end;
    a->r[i].start = start;
    a->r[i].end = end;
    n = j - i - 1; /* entries absorbed into r[i] */
    if (n) {
        memmove(&a->r[i + 1], &a->r[j], (a->n - j) * sizeof(a->r[0]));
        a->n -= n;
    }
    return 0;
}

uint32_t reasm_pop(struct reasm *a)
{
    uint32_t k, i;

    if (!a->n || a->r[0].start)
        return 0;
    k = a->r[0].end;
    for (i = 1; i < a->n; i++) {
        a->r[i - 1].start = a->r[i].start - k;
        a->r[i - 1].end = a->r[i].end - k;
    }
    a->n--;
    return k;
}
