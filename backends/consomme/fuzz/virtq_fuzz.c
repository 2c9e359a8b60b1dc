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
#include <stddef.h>
#include <stdint.h>

#include "fuzz_vu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_virtq_walk(data, size);
    return 0;
}
