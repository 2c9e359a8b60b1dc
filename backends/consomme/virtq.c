/* SPDX-License-Identifier: MIT */
/*
 * virtq.c - walking split virtqueues whose memory the guest controls
 *
 * Layout (virtio 1.x, split ring), all little-endian:
 *   desc[num]:  u64 addr, u32 len, u16 flags (NEXT, WRITE, INDIRECT), u16 next
 *   avail:      u16 flags, u16 idx, u16 ring[num], u16 used_event
 *   used:       u16 flags, u16 idx, {u32 id, u32 len}[num], u16 avail_event
 *
 * Every descriptor is copied out of guest memory once before it is looked at, so a guest that
 * rewrites it under our feet cannot make a checked value differ from the used one.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "byteorder.h"
#include "virtq.h"

#define VRING_DESC_F_NEXT          1
#define VRING_DESC_F_WRITE         2
#define VRING_DESC_F_INDIRECT      4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY     1

static const char *const error_names[VQ_ERR__COUNT] = {
    [VQ_OK] = "ok",
    [VQ_ERR_AVAIL_IDX] = "available index runs ahead by more than the ring size",
    [VQ_ERR_HEAD] = "descriptor head beyond the ring",
    [VQ_ERR_ADDR] = "buffer outside guest memory",
    [VQ_ERR_LEN] = "descriptor chain longer than 4 GiB",
    [VQ_ERR_CHAIN] = "descriptor chain loops or leaves the table",
    [VQ_ERR_INDIRECT] = "bad indirect descriptor table",
    [VQ_ERR_ORDER] = "device-readable descriptor after a device-writable one",
    [VQ_ERR_TOO_MANY] = "descriptor chain has too many pieces",
    [VQ_ERR_RING_ADDR] = "ring address outside guest memory or misaligned",
};

/**
 * vq_error_name() - What a ring error means, for the log line that marks it broken
 * @e:		Error
 *
 * Return: a static string
 */
const char *vq_error_name(enum vq_error e)
{
    return e < VQ_ERR__COUNT ? error_names[e] : "unknown";
}

static void *region_lookup(const struct vu_mem *m, uint64_t addr, uint64_t len, bool by_gpa)
{
    for (unsigned i = 0; i < m->n; i++) {
        const struct vu_region *r = &m->r[i];
        uint64_t base = by_gpa ? r->gpa : r->uva;

        /* written so that no sum can overflow: addr - base < size, len <= size - offset */
        if (addr >= base && addr - base < r->size && len <= r->size - (addr - base))
            return r->host + (addr - base);
    }
    return NULL;
}

void *vu_gpa_to_host(const struct vu_mem *m, uint64_t gpa, uint64_t len)
{
    return region_lookup(m, gpa, len, true);
}

void *vu_uva_to_host(const struct vu_mem *m, uint64_t uva, uint64_t len)
{
    return region_lookup(m, uva, len, false);
}

static int fail(struct virtq *vq, enum vq_error e)
{
    vq->error = e;
    return -EIO;
}

/**
 * virtq_map() - Translate the ring addresses through the memory table
 * @vq:		Queue with num and the three front-end addresses set
 * @m:		Memory table
 *
 * Called when the ring is set up and again whenever the memory table is replaced.
 *
 * Return: 0, or -EIO with vq->error set
 */
int virtq_map(struct virtq *vq, const struct vu_mem *m)
{
    uint64_t n = vq->num;

    vq->desc = vu_uva_to_host(m, vq->desc_uva, 16 * n);
    vq->avail = vu_uva_to_host(m, vq->avail_uva, 6 + 2 * n);
    vq->used = vu_uva_to_host(m, vq->used_uva, 6 + 8 * n);
    if (!vq->desc || !vq->avail || !vq->used || ((uintptr_t)vq->desc & 15) ||
        ((uintptr_t)vq->avail & 1) || ((uintptr_t)vq->used & 3)) {
        vq->desc = vq->avail = vq->used = NULL;
        return fail(vq, VQ_ERR_RING_ADDR);
    }
    return 0;
}

static uint16_t avail_idx(const struct virtq *vq)
{
    return le16toh(__atomic_load_n((const uint16_t *)(vq->avail + 2), __ATOMIC_ACQUIRE));
}

/**
 * virtq_pending() - How many chains the guest made available that we have not taken
 * @vq:		Queue
 *
 * Return: that number (0 when not set up or broken; at most the ring size when sane)
 */
unsigned virtq_pending(const struct virtq *vq)
{
    if (!vq->avail || vq->error)
        return 0;
    return (uint16_t)(avail_idx(vq) - vq->last_avail);
}

/**
 * virtq_empty() - Whether the guest has made no buffer available beyond what we took
 * @vq:		Queue
 *
 * Return: true when empty (or not set up, or broken)
 */
bool virtq_empty(const struct virtq *vq)
{
    return !vq->avail || vq->error || avail_idx(vq) == vq->last_avail;
}

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

static void desc_read(const uint8_t *table, unsigned i, struct desc *d)
{
    uint8_t raw[16];

    memcpy(raw, table + 16 * (size_t)i, sizeof(raw));
    d->addr = get_le64(raw);
    d->len = get_le32(raw + 8);
    d->flags = get_le16(raw + 12);
    d->next = get_le16(raw + 14);
}

/**
 * virtq_pop() - Take the next available descriptor chain and map its pieces
 * @vq:		Queue
 * @m:		Memory table
 * @e:		Mapped chain
 *
 * Return: 0, -EAGAIN when the guest made nothing available, -EIO when the ring broke a rule
 * (vq->error says which; the chain is not taken)
 */
int virtq_pop(struct virtq *vq, const struct vu_mem *m, struct vq_elem *e)
{
    const uint8_t *table = vq->desc;
    uint64_t total_in = 0, total_out = 0;
    unsigned table_len = vq->num, i, seen = 0;
    bool in_indirect = false;
    uint16_t pending;

    if (vq->error)
        return -EIO;
    if (!vq->avail)
        return -EAGAIN;
    pending = (uint16_t)(avail_idx(vq) - vq->last_avail);
    if (!pending)
        return -EAGAIN;
    if (pending > vq->num)
        return fail(vq, VQ_ERR_AVAIL_IDX);
    i = get_le16(vq->avail + 4 + 2 * (size_t)(vq->last_avail & (vq->num - 1)));
    if (i >= vq->num)
        return fail(vq, VQ_ERR_HEAD);
    e->head = (uint16_t)i;
    e->n_out = e->n_in = 0;
    for (;;) {
        struct desc d;
        void *p;

        desc_read(table, i, &d);
        if (d.flags & VRING_DESC_F_INDIRECT) {
            /* one level only, and an indirect descriptor ends its chain */
            if (!vq->indirect || in_indirect || (d.flags & VRING_DESC_F_NEXT) || !d.len ||
                d.len % 16 || d.len / 16 > VQ_MAX_SIZE)
                return fail(vq, VQ_ERR_INDIRECT);
            table = vu_gpa_to_host(m, d.addr, d.len);
            if (!table)
                return fail(vq, VQ_ERR_INDIRECT);
            table_len = d.len / 16;
            in_indirect = true;
            seen = 0;
            i = 0;
            continue;
        }
        /* a chain visits each descriptor of its table at most once; more is a loop */
        if (++seen > table_len)
            return fail(vq, VQ_ERR_CHAIN);
        if (d.len) {
            p = vu_gpa_to_host(m, d.addr, d.len);
            if (!p)
                return fail(vq, VQ_ERR_ADDR);
            if (e->n_out + e->n_in >= VQ_MAX_IOV)
                return fail(vq, VQ_ERR_TOO_MANY);
            if (d.flags & VRING_DESC_F_WRITE) {
                total_in += d.len;
                e->n_in++;
            } else {
                if (e->n_in)
                    return fail(vq, VQ_ERR_ORDER);
                total_out += d.len;
                e->n_out++;
            }
            if (total_in > UINT32_MAX || total_out > UINT32_MAX)
                return fail(vq, VQ_ERR_LEN);
            e->iov[e->n_out + e->n_in - 1] = (struct iovec){.iov_base = p, .iov_len = d.len};
        }
        if (!(d.flags & VRING_DESC_F_NEXT))
            break;
        i = d.next;
        if (i >= table_len)
            return fail(vq, VQ_ERR_CHAIN);
    }
    e->out_len = (size_t)total_out;
    e->in_len = (size_t)total_in;
    vq->last_avail++;
    return 0;
}

/**
 * virtq_unpop() - Give back the last @n chains taken and not used
 * @vq:		Queue
 * @n:		How many
 */
void virtq_unpop(struct virtq *vq, unsigned n)
{
    vq->last_avail = (uint16_t)(vq->last_avail - n);
}

/**
 * virtq_fill() - Write a used entry, not yet visible to the guest
 * @vq:		Queue
 * @offset:	Position after the entries already published (0 for the next one)
 * @head:	Chain's head, as virtq_pop() gave it
 * @len:	Bytes written into the chain's device-writable pieces
 */
void virtq_fill(struct virtq *vq, unsigned offset, uint16_t head, uint32_t len)
{
    uint8_t *slot = vq->used + 4 + 8 * (size_t)((vq->used_idx + offset) & (vq->num - 1u));

    put_le32(slot, head);
    put_le32(slot + 4, len);
}

/**
 * virtq_flush() - Publish @count filled used entries to the guest
 * @vq:		Queue
 * @count:	Entries filled since the last flush
 */
void virtq_flush(struct virtq *vq, unsigned count)
{
    vq->used_idx = (uint16_t)(vq->used_idx + count);
    __atomic_store_n((uint16_t *)(vq->used + 2), htole16(vq->used_idx), __ATOMIC_RELEASE);
}

/**
 * virtq_should_call() - Whether the guest wants an interrupt for what was published
 * @vq:		Queue, after virtq_flush() published something new
 *
 * With EVENT_IDX the guest names the used index it wants to hear about (used_event): call only
 * when this publication crossed it. Without, it may set NO_INTERRUPT in avail->flags.
 *
 * Return: true to signal the call eventfd (never while the ring is unmapped)
 */
bool virtq_should_call(struct virtq *vq)
{
    uint16_t old = vq->signalled_used, event;
    bool valid = vq->signalled_valid;

    /* unmapped since the publication (a new size, memory table or reset from the front-end,
     * handled before the loop flushed the pending call): no guest driver is listening */
    if (!vq->avail)
        return false;
    /* our used->idx store must be visible before we read what the guest asked for */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vq->event_idx)
        return !(get_le16(vq->avail) & VRING_AVAIL_F_NO_INTERRUPT);
    vq->signalled_used = vq->used_idx;
    vq->signalled_valid = true;
    event = get_le16(vq->avail + 4 + 2 * (size_t)vq->num);
    /* vring_need_event(): did (old, new] pass event? */
    return !valid || (uint16_t)(vq->used_idx - event - 1) < (uint16_t)(vq->used_idx - old);
}

/**
 * virtq_want_kick() - Ask the guest for a kick on new buffers, or to spare it
 * @vq:		Queue
 * @on:		true: kick us when a buffer beyond those we took is added
 *
 * After asking, the caller must look at the ring once more (virtq_empty()): a buffer added
 * before the guest saw the request brings no kick.
 */
void virtq_want_kick(struct virtq *vq, bool on)
{
    virtq_want_kick_after(vq, on, 0);
}

/**
 * virtq_want_kick_after() - virtq_want_kick(), but with the event index only once @more
 * buffers beyond the next one were added (without it, any new buffer kicks)
 * @vq:		Queue
 * @on:		Whether to ask for a kick at all
 * @more:	Buffers to wait for beyond the first
 */
void virtq_want_kick_after(struct virtq *vq, bool on, uint16_t more)
{
    if (!vq->used)
        return;
    if (vq->event_idx) {
        if (on)
            put_le16(vq->used + 4 + 8 * (size_t)vq->num, (uint16_t)(vq->last_avail + more));
    } else {
        put_le16(vq->used, on ? 0 : VRING_USED_F_NO_NOTIFY);
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
