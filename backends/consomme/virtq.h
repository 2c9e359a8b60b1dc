/* SPDX-License-Identifier: MIT */
/*
 * virtq.h - split virtqueues in guest memory shared by a vhost-user front-end
 *
 * Everything the guest wrote is untrusted: a descriptor's address and length must lie within
 * one region of the memory table before it is used, a chain is at most the ring's size long
 * (so a loop cannot spin), an indirect table must be in guest memory, a multiple of 16 bytes,
 * not nested and not chained, and avail->idx may run at most the ring's size ahead of us. A
 * ring that breaks a rule is marked broken and never read again until it is set up anew.
 *
 * Indices are free-running 16-bit counters, as the spec has them: a slot is idx % num, and
 * comparisons are differences modulo 2^16. Ring memory is read with acquire loads and written
 * with release stores where the other side synchronises on it (avail->idx, used->idx).
 *
 * Nothing here does I/O: kicks and calls are the caller's (vhost_user.c), which is what lets
 * tests/unit/test_virtq.c drive a queue over a plain malloc'd "guest memory".
 */
#ifndef CONSOMME_VIRTQ_H
#define CONSOMME_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VU_MAX_REGIONS 8
#define VQ_MAX_SIZE    32768 /* the spec's largest split ring */
#define VQ_MAX_IOV     64    /* pieces of one chain we are willing to map */

/* One region of the front-end's memory table, mapped into our address space. */
struct vu_region {
    uint64_t gpa;  /* guest physical address of its first byte */
    uint64_t size; /* bytes */
    uint64_t uva;  /* the front-end's virtual address of its first byte */
    uint8_t *host; /* where it is in our address space */
    void *map;     /* what mmap() returned (host - mmap_offset), NULL for test memory */
    size_t map_len;
};

struct vu_mem {
    unsigned n;
    struct vu_region r[VU_MAX_REGIONS];
};

/* Host pointer for [gpa, gpa + len) when it lies within one region, else NULL. */
void *vu_gpa_to_host(const struct vu_mem *m, uint64_t gpa, uint64_t len);
/* The same for the front-end's virtual addresses (ring addresses in SET_VRING_ADDR). */
void *vu_uva_to_host(const struct vu_mem *m, uint64_t uva, uint64_t len);

/* Why a ring was marked broken; names in virtq.c, same order. */
enum vq_error {
    VQ_OK,
    VQ_ERR_AVAIL_IDX, /* avail->idx more than the ring's size ahead */
    VQ_ERR_HEAD,      /* a head index beyond the ring */
    VQ_ERR_ADDR,      /* a buffer outside guest memory */
    VQ_ERR_LEN,       /* a chain's total length beyond 4 GiB */
    VQ_ERR_CHAIN,     /* next beyond the ring, or a chain longer than the ring (a loop) */
    VQ_ERR_INDIRECT,  /* an indirect table badly sized, nested or outside memory */
    VQ_ERR_ORDER,     /* a device-readable piece after a device-writable one */
    VQ_ERR_TOO_MANY,  /* more pieces than VQ_MAX_IOV */
    VQ_ERR_RING_ADDR, /* ring addresses outside memory or misaligned */
    VQ_ERR__COUNT
};
const char *vq_error_name(enum vq_error e);

struct virtq {
    uint16_t num; /* ring size, a power of two; 0 until SET_VRING_NUM */
    uint64_t desc_uva, avail_uva, used_uva;
    uint8_t *desc, *avail, *used; /* mapped; NULL until translated */

    uint16_t last_avail;     /* next avail entry we will read */
    uint16_t used_idx;       /* our copy of used->idx, published by virtq_flush() */
    uint16_t signalled_used; /* used->idx at our last call */
    bool signalled_valid;
    bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
    bool indirect;  /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
    enum vq_error error;
};

/* One descriptor chain, mapped: out pieces (device reads) first, then in pieces (writes). */
struct vq_elem {
    uint16_t head;
    unsigned n_out, n_in;
    size_t out_len, in_len;
    struct iovec iov[VQ_MAX_IOV];
};

int virtq_map(struct virtq *vq, const struct vu_mem *m);
int virtq_pop(struct virtq *vq, const struct vu_mem *m, struct vq_elem *e);
void virtq_unpop(struct virtq *vq, unsigned n);
bool virtq_empty(const struct virtq *vq);
void virtq_fill(struct virtq *vq, unsigned offset, uint16_t head, uint32_t len);
void virtq_flush(struct virtq *vq, unsigned count);
bool virtq_should_call(struct virtq *vq);
void virtq_want_kick(struct virtq *vq, bool on);
void virtq_want_kick_after(struct virtq *vq, bool on, uint16_t more);
unsigned virtq_pending(const struct virtq *vq);

#endif /* CONSOMME_VIRTQ_H */
