/* SPDX-License-Identifier: MIT */
/*
 * fuzz_vu.h - one vhost-user session and one virtqueue walk from fuzz input, for the targets
 * that run them (vhost_user_fuzz and virtq_fuzz alone, consomme_state_fuzz as two of its ops)
 *
 * fuzz_vu_session(): two bytes of guest-memory length, that much guest memory content, then
 * messages as a front-end sends them (request, flags, size, payload; all little-endian, size
 * clamped to what is left). File descriptors come with the requests that carry them: one
 * memfd holding the guest memory per region of SET_MEM_TABLE, an eventfd with
 * SET_VRING_KICK/CALL/ERR (flags bit 31 withholds them, to test a missing fd). Once the
 * messages are handled, the data path runs over whatever rings they set up: a kick on tx, and
 * frames toward the guest. The stack's transport is the session's device for its duration and
 * is left as the caller had it.
 *
 * fuzz_virtq_walk(): a byte of ring size (a power of two, 1..256), a byte of switches (event
 * index, indirect descriptors), then guest memory: descriptor table, avail ring and buffers,
 * packed in that order, over two regions the second of which is at a far guest address. Every
 * chain taken is walked over its pieces (ASan catches a piece outside memory) and returned
 * through the used ring, as the device does.
 */
#ifndef CONSOMME_FUZZ_VU_H
#define CONSOMME_FUZZ_VU_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "core.h"
#include "vhost_user.h"
#include "virtq.h"

#define FUZZ_VU_MEM_SIZE (1u << 16)

/* The guest memory, mapped once (mappings are slow under ASan): a memfd and our view of it. */
struct fuzz_vu_mem {
    int fd;
    uint8_t *p;
};

static inline int fuzz_vu_mem_init(struct fuzz_vu_mem *g)
{
    g->fd = memfd_create("guest", MFD_CLOEXEC);
    if (g->fd < 0 || ftruncate(g->fd, FUZZ_VU_MEM_SIZE))
        return -1;
    g->p = mmap(NULL, FUZZ_VU_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
    return g->p == MAP_FAILED ? -1 : 0;
}

/* The guest memory an input starts with: a 16-bit length, then that many bytes (cut to what
 * the input holds) at the start of a zeroed memory; false when the input is too short. */
static inline bool fuzz_vu_mem_load(const struct fuzz_vu_mem *g, const uint8_t **data, size_t *size)
{
    size_t memlen;

    if (*size < 2)
        return false;
    memlen = get_le16(*data);
    *data += 2;
    *size -= 2;
    if (memlen > *size)
        memlen = *size;
    memset(g->p, 0, FUZZ_VU_MEM_SIZE);
    memcpy(g->p, *data, memlen);
    *data += memlen;
    *size -= memlen;
    return true;
}

static inline size_t fuzz_vu_fds_for(const struct fuzz_vu_mem *g, const struct vu_msg *m, int *fds)
{
    size_t n = 0;

    if (m->flags & (1u << 31))
        return 0;
    if (m->request == 5 && m->size >= 4) {
        uint32_t regions = get_le32(m->payload);
        for (; n < regions && n < VU_MAX_FDS; n++)
            fds[n] = dup(g->fd);
    } else if (m->request >= 12 && m->request <= 14) {
        fds[n++] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    return n;
}

/* The next message of an input: a 12-byte header (request, flags, size, little-endian) and as
 * much of its payload as the input and VU_PAYLOAD_MAX allow, with its size cut to match; false
 * when fewer than 12 bytes are left. */
static inline bool fuzz_vu_next_msg(const uint8_t **data, size_t *size, struct vu_msg *m)
{
    if (*size < 12)
        return false;
    m->request = get_le32(*data);
    m->flags = get_le32(*data + 4);
    m->size = get_le32(*data + 8);
    *data += 12;
    *size -= 12;
    if (m->size > *size)
        m->size = (uint32_t)*size;
    if (m->size > VU_PAYLOAD_MAX)
        m->size = VU_PAYLOAD_MAX;
    memcpy(m->payload, *data, m->size);
    *data += m->size;
    *size -= m->size;
    return true;
}

/* What a session changes of the stack's transport, kept to be put back when it ends. */
struct fuzz_vu_saved {
    const struct cm_transport_ops *tr;
    void *tr_priv;
    unsigned mtu;
    uint32_t tso_max;
    bool csum_valid;
};

static inline struct fuzz_vu_saved fuzz_vu_save(const struct consomme *stack)
{
    return (struct fuzz_vu_saved){.tr = stack->tr,
                                  .tr_priv = stack->tr_priv,
                                  .mtu = stack->opts.cfg.mtu,
                                  .tso_max = stack->out_tso_max,
                                  .csum_valid = stack->out_csum_valid};
}

/* The transport as @saved had it, and the stack running and unblocked again. */
static inline void fuzz_vu_restore(struct consomme *stack, const struct fuzz_vu_saved *saved)
{
    stack->tr = saved->tr;
    stack->tr_priv = saved->tr_priv;
    stack->opts.cfg.mtu = saved->mtu;
    stack->out_tso_max = saved->tso_max;
    stack->out_csum_valid = saved->csum_valid;
    stack->stop = false;
    stack->guest_blocked = false;
}

static inline void fuzz_vu_session(struct consomme *stack, const struct fuzz_vu_mem *g,
                                   const uint8_t *data, size_t size)
{
    static struct vu_msg m, reply;
    const struct fuzz_vu_saved saved = fuzz_vu_save(stack);
    struct vu_dev *d;

    if (!fuzz_vu_mem_load(g, &data, &size))
        return;

    d = vu_dev_new(stack);
    if (!d)
        return;
    stack->tr = &vu_transport_ops;
    stack->tr_priv = d;
    stack->opts.cfg.mtu = CM_MTU_DEFAULT;
    while (fuzz_vu_next_msg(&data, &size, &m)) {
        int fds[VU_MAX_FDS];
        size_t nfds;
        bool has_reply;

        nfds = fuzz_vu_fds_for(g, &m, fds);
        vu_handle(d, &m, fds, nfds, &reply, &has_reply);
        for (size_t i = 0; i < nfds; i++)
            if (fds[i] >= 0)
                close(fds[i]);
    }
    vu_tx_process(d);
    for (int i = 0; i < 4; i++) {
        /* the last, when the features allow, as a TCP super-frame for the guest to cut */
        const struct cm_tso tso = {.mss = 1460, .l4_off = 34, .hdr_len = 54};
        bool super = i == 3 && stack->out_tso_max;
        uint8_t *p = cm_out_reserve(stack, 60 + 3000 * (size_t)i);

        if (!p)
            break;
        memset(p, i, 60 + 3000 * (size_t)i);
        cm_out_commit(stack, 60 + 3000 * (size_t)i, super ? &tso : NULL);
    }
    cm_out_flush(stack);
    stack->tr->writable(stack);
    stack->tr->free(stack);
    fuzz_vu_restore(stack, &saved);
}

static inline void fuzz_virtq_walk(const uint8_t *data, size_t size)
{
    struct vu_mem m = {0};
    struct virtq vq = {0};
    struct vq_elem e;
    uint8_t *mem;
    size_t len, half;
    unsigned taken = 0;
    volatile uint8_t sink = 0;

    if (size < 2)
        return;
    vq.num = (uint16_t)(1u << (data[0] % 9));
    vq.event_idx = data[1] & 1;
    vq.indirect = data[1] & 2;
    data += 2;
    size -= 2;
    /* the three parts of the ring packed at the start, where short inputs reach them */
    size_t avail_off = 16 * (size_t)vq.num, used_off = (avail_off + 6 + 2 * vq.num + 3) & ~3u;
    len = used_off + 6 + 8 * (size_t)vq.num + 64;
    len += size < 65536 ? size : 65536;
    mem = calloc(1, len);
    if (!mem)
        return;
    memcpy(mem, data, size < len ? size : len);
    /* the rings in the first region; buffers may also be in the second, far away */
    half = used_off + 6 + 8 * (size_t)vq.num + (len - used_off - 6 - 8 * (size_t)vq.num) / 2;
    m.n = 2;
    m.r[0] = (struct vu_region){.gpa = 0, .size = half, .uva = 0x10000, .host = mem};
    m.r[1] = (struct vu_region){
        .gpa = 1ull << 32, .size = len - half, .uva = 0x10000 + half, .host = mem + half};
    vq.desc_uva = 0x10000;
    vq.avail_uva = 0x10000 + avail_off;
    vq.used_uva = 0x10000 + used_off;
    if (virtq_map(&vq, &m) == 0) {
        vq.used_idx = 0;
        for (int i = 0; i < 1024; i++) {
            int rc = virtq_pop(&vq, &m, &e);
            if (rc)
                break;
            for (unsigned k = 0; k < e.n_out + e.n_in; k++) {
                const uint8_t *p = e.iov[k].iov_base;
                sink ^= p[0] ^ p[e.iov[k].iov_len - 1];
            }
            if (i & 1) {
                virtq_unpop(&vq, 1);
                if (virtq_pop(&vq, &m, &e))
                    break;
            }
            virtq_fill(&vq, taken++ % vq.num, e.head, (uint32_t)e.in_len);
            if (taken % 4 == 0) {
                virtq_flush(&vq, 4);
                virtq_should_call(&vq);
            }
        }
        virtq_want_kick(&vq, true);
        virtq_empty(&vq);
        (void)vq_error_name(vq.error);
    }
    free(mem);
    (void)sink; /* read only so that the buffers are touched, where ASan checks them */
}

#endif /* CONSOMME_FUZZ_VU_H */
