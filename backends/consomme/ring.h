/* SPDX-License-Identifier: MIT */
/*
 * ring - power-of-two byte ring that can grow in place, for per-connection TCP buffers
 *
 * A ring holds the bytes [head, head + len) of a stream in a buffer of cap bytes, cap a power
 * of two so positions wrap with a mask. Readers and writers get at most two iovecs (the part up
 * to the end of the buffer and the part wrapped to its start), so sockets read and write
 * straight into the ring with readv()/writev() and no byte is copied twice.
 *
 * Bytes may also be written past the end of the data (ring_write_at) before they are made
 * part of it (ring_commit): TCP reassembly parks out-of-order segments there, in the free
 * space the advertised window promised.
 *
 * ring_grow() enlarges the buffer in place and keeps [head, head + len) in order across the
 * wrap. Bytes written past the end but not committed are not preserved, so callers grow only
 * when nothing is parked there.
 */
#ifndef CONSOMME_RING_H
#define CONSOMME_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Largest ring: a TCP window with the largest scale (14) cannot express more. */
#define RING_MAX_CAP (1u << 30)
/* Smallest ring worth having: one small segment. */
#define RING_MIN_CAP 4096u

struct ring {
    uint8_t *buf;
    uint32_t cap;  /* power of two, 0 before the first allocation */
    uint32_t head; /* position of the first byte, < cap */
    uint32_t len;  /* bytes of data, <= cap */
};

/**
 * ring_bounds_check() - Round and validate INITIAL:MAX ring bounds given by a user
 * @initial:	In: requested initial size in bytes; out: rounded up to a power of two
 * @max:	In: requested maximum; out: rounded up to a power of two
 * @err:	Error buffer for the message, may be NULL
 * @errlen:	Size of @err
 *
 * Return: 0, or -EINVAL for a zero size, initial > max, or a max above RING_MAX_CAP (which no
 * TCP window can advertise).
 */
int ring_bounds_check(uint64_t *initial, uint64_t *max, char *err, size_t errlen);

/**
 * ring_init() - Allocate an empty ring
 * @r:		Ring to set up
 * @cap:	Capacity, a power of two between RING_MIN_CAP and RING_MAX_CAP
 *
 * Return: 0, -EINVAL for a bad capacity, -ENOMEM
 */
int ring_init(struct ring *r, uint32_t cap);

/* ring_free() - Release the buffer; the ring is left empty with cap 0. */
void ring_free(struct ring *r);

/**
 * ring_grow() - Enlarge the buffer in place, keeping the data in order
 * @r:		Ring
 * @cap:	New capacity, a power of two, >= the current one and <= RING_MAX_CAP
 *
 * Bytes written with ring_write_at() but not committed are lost.
 *
 * Return: 0 (also when @cap equals the current capacity), -EINVAL, -ENOMEM (the ring is then
 * unchanged)
 */
int ring_grow(struct ring *r, uint32_t cap);

static inline uint32_t ring_len(const struct ring *r)
{
    return r->len;
}

static inline uint32_t ring_space(const struct ring *r)
{
    return r->cap - r->len;
}

/**
 * ring_data_iov() - Describe stored bytes [off, off + n) counted from the head
 * @r:		Ring
 * @off:	Offset from the head; @off + @n must be <= len
 * @n:		Bytes
 * @iov:	Two iovecs to fill
 *
 * Return: number of iovecs used (0, 1 or 2)
 */
int ring_data_iov(const struct ring *r, uint32_t off, uint32_t n, struct iovec iov[2]);

/**
 * ring_space_iov() - Describe free space [off, off + n) counted from the end of the data
 * @r:		Ring
 * @off:	Offset past the end of the data; @off + @n must be <= ring_space()
 * @n:		Bytes
 * @iov:	Two iovecs to fill
 *
 * Return: number of iovecs used (0, 1 or 2)
 */
int ring_space_iov(const struct ring *r, uint32_t off, uint32_t n, struct iovec iov[2]);

/**
 * ring_write_at() - Copy bytes into the free space, @off bytes past the end of the data
 *
 * The bytes become data only when ring_commit() reaches them. @off + @n must be <= space.
 */
void ring_write_at(struct ring *r, uint32_t off, const void *src, uint32_t n);

/* ring_commit() - Make @n bytes after the end part of the data (n <= space). */
static inline void ring_commit(struct ring *r, uint32_t n)
{
    r->len += n;
}

/* ring_consume() - Drop @n bytes from the head (n <= len). */
static inline void ring_consume(struct ring *r, uint32_t n)
{
    r->head = (r->head + n) & (r->cap - 1);
    r->len -= n;
}

/*
 * ring_rewind() - Move an empty ring's head to position 0, so the next fill is one piece
 *
 * Only when nothing is parked past the end of the data: parked bytes would move.
 */
static inline void ring_rewind(struct ring *r)
{
    if (!r->len)
        r->head = 0;
}

#endif /* CONSOMME_RING_H */
