/* SPDX-License-Identifier: MIT */
/*
 * virtq_fuzz - libFuzzer target over the split virtqueue walk
 *
 * Input: a byte of ring size (a power of two, 1..256), a byte of switches (event index,
 * indirect descriptors), then guest memory: whatever the fuzzer writes is the descriptor
 * table, the avail ring (its index included) and the buffers, packed in that order. The memory
 * table has two regions over one allocation of the input's size, the second at a far guest address,
 * so lookups across and between regions are exercised. Every chain taken is walked over its pieces
 * (ASan catches a piece outside memory) and returned through the used ring, as the device does.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtq.h"

#define MEM_MAX 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vu_mem m = {0};
    struct virtq vq = {0};
    struct vq_elem e;
    uint8_t *mem;
    size_t len, half;
    unsigned taken = 0;
    volatile uint8_t sink = 0;

    if (size < 2)
        return 0;
    vq.num = (uint16_t)(1u << (data[0] % 9));
    vq.event_idx = data[1] & 1;
    vq.indirect = data[1] & 2;
    data += 2;
    size -= 2;
    /* the three parts of the ring packed at the start, where short inputs reach them */
    size_t avail_off = 16 * (size_t)vq.num, used_off = (avail_off + 6 + 2 * vq.num + 3) & ~3u;
    len = used_off + 6 + 8 * (size_t)vq.num + 64;
    len += size < MEM_MAX ? size : MEM_MAX;
    mem = calloc(1, len);
    if (!mem)
        return 0;
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
    return 0;
}
