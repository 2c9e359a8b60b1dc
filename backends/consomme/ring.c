/* SPDX-License-Identifier: MIT */
/*
 * ring - power-of-two byte ring that grows in place; see ring.h for the invariants.
 *
 * Growing an empty ring takes a fresh buffer. Otherwise it keeps the head where it is when the
 * data does not wrap. When it wraps, either the wrapped part (at the start of the old buffer)
 * moves to just past the old end, or the part before the old end moves to the end of the new
 * buffer: whichever is smaller. Both leave the data contiguous modulo the new capacity, in the
 * same order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "ring.h"

static int is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static uint64_t round_pow2(uint64_t v)
{
    uint64_t p = 1;

    while (p < v)
        p <<= 1;
    return p;
}

int ring_bounds_check(uint64_t *initial, uint64_t *max, char *err, size_t errlen)
{
    if (!*initial || !*max)
        return errbuf_set(err, errlen, -EINVAL,
                          "TCP buffer size must not be 0 (give sizes like 16K:4M)");
    if (*initial > *max)
        return errbuf_set(err, errlen, -EINVAL,
                          "TCP buffer initial size %" PRIu64 " is above its maximum %" PRIu64
                          " (give INITIAL:MAX with INITIAL <= MAX)",
                          *initial, *max);
    if (*max > RING_MAX_CAP)
        return errbuf_set(err, errlen, -EINVAL,
                          "TCP buffer maximum %" PRIu64 " is above %u bytes, the largest window "
                          "TCP can advertise (give at most 1G)",
                          *max, RING_MAX_CAP);
    *initial = round_pow2(*initial < RING_MIN_CAP ? RING_MIN_CAP : *initial);
    *max = round_pow2(*max < RING_MIN_CAP ? RING_MIN_CAP : *max);
    return 0;
}

int ring_init(struct ring *r, uint32_t cap)
{
    memset(r, 0, sizeof(*r));
    if (!is_pow2(cap) || cap < RING_MIN_CAP || cap > RING_MAX_CAP)
        return -EINVAL;
    r->buf = malloc(cap);
    if (!r->buf)
        return -ENOMEM;
    r->cap = cap;
    return 0;
}

void ring_free(struct ring *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

int ring_grow(struct ring *r, uint32_t cap)
{
    uint32_t old = r->cap, wrapped, front;
    uint8_t *buf;

    if (!is_pow2(cap) || cap < old || cap > RING_MAX_CAP || !old)
        return -EINVAL;
    if (cap == old)
        return 0;
    if (!r->len) {
        /* nothing to keep (rx grows only once drained): a fresh buffer spares copying, and
         * making resident, stale bytes the data path may never have touched */
        buf = malloc(cap);
        if (!buf)
            return -ENOMEM;
        free(r->buf);
        r->buf = buf;
        r->cap = cap;
        r->head = 0;
        return 0;
    }
    buf = realloc(r->buf, cap);
    if (!buf)
        return -ENOMEM;
    r->buf = buf;
    r->cap = cap;
    if (r->head + r->len <= old)
        return 0;
    wrapped = r->head + r->len - old; /* bytes at [0, wrapped) of the old buffer */
    front = old - r->head;            /* bytes at [head, old) */
    if (wrapped <= front) {
        /* old + wrapped <= 2 * old <= cap: the copy fits and does not overlap */
        memcpy(buf + old, buf, wrapped);
    } else {
        memmove(buf + cap - front, buf + r->head, front);
        r->head = cap - front;
    }
    return 0;
}

static int ring_iov(const struct ring *r, uint32_t pos, uint32_t n, struct iovec iov[2])
{
    uint32_t first;

    if (!n)
        return 0;
    pos &= r->cap - 1;
    first = r->cap - pos;
    iov[0].iov_base = r->buf + pos;
    if (n <= first) {
        iov[0].iov_len = n;
        return 1;
    }
    iov[0].iov_len = first;
    iov[1].iov_base = r->buf;
    iov[1].iov_len = n - first;
    return 2;
}

int ring_data_iov(const struct ring *r, uint32_t off, uint32_t n, struct iovec iov[2])
{
    return ring_iov(r, r->head + off, n, iov);
}

int ring_space_iov(const struct ring *r, uint32_t off, uint32_t n, struct iovec iov[2])
{
    return ring_iov(r, r->head + r->len + off, n, iov);
}

void ring_write_at(struct ring *r, uint32_t off, const void *src, uint32_t n)
{
    struct iovec iov[2];
    int cnt = ring_space_iov(r, off, n, iov);

    if (cnt > 0)
        memcpy(iov[0].iov_base, src, iov[0].iov_len);
    if (cnt > 1)
        memcpy(iov[1].iov_base, (const uint8_t *)src + iov[0].iov_len, iov[1].iov_len);
}
