/* SPDX-License-Identifier: MIT */
/*
 * reasm - bookkeeping of out-of-order TCP data parked in a receive ring
 *
 * The bytes themselves live in the connection's rx ring, past the end of its in-order data
 * (ring_write_at), inside the window that was advertised; this module only remembers which
 * ranges are filled. Offsets are relative to the next in-order byte expected (rcv_nxt), so a
 * range starting at 0 is ready to be committed. Ranges are kept sorted, disjoint and
 * non-adjacent. Memory is bounded twice: the bytes by the ring, the ranges by REASM_MAX_RANGES
 * (a segment that would need one more range is refused and the guest retransmits it).
 */
#ifndef CONSOMME_REASM_H
#define CONSOMME_REASM_H

#include <stdint.h>

#define REASM_MAX_RANGES 16

struct reasm {
    uint32_t n;
    struct {
        uint32_t start, end; /* [start, end) relative to rcv_nxt */
    } r[REASM_MAX_RANGES];
};

static inline void reasm_init(struct reasm *a)
{
    a->n = 0;
}

static inline int reasm_empty(const struct reasm *a)
{
    return !a->n;
}

/* reasm_extent() - End of the furthest parked byte (0 when empty). */
static inline uint32_t reasm_extent(const struct reasm *a)
{
    return a->n ? a->r[a->n - 1].end : 0;
}

/**
 * reasm_add() - Record that bytes [off, off + len) are now filled
 * @a:		Reassembly state
 * @off:	Offset from rcv_nxt
 * @len:	Bytes (0 is accepted and ignored)
 *
 * Overlapping and adjacent ranges merge.
 *
 * Return: 0, or -ENOSPC if recording the range would need more than REASM_MAX_RANGES ranges
 * (nothing is recorded then)
 */
int reasm_add(struct reasm *a, uint32_t off, uint32_t len);

/**
 * reasm_pop() - Take the in-order bytes at the front
 * @a:		Reassembly state
 *
 * Removes the range starting at offset 0, if any, and shifts the others so offsets stay
 * relative to the new rcv_nxt.
 *
 * Return: number of bytes now in order (0 if the first range does not start at 0)
 */
uint32_t reasm_pop(struct reasm *a);

#endif /* CONSOMME_REASM_H */
