/* SPDX-License-Identifier: MIT */
/*
 * vhost_user_fuzz - libFuzzer target over the vhost-user message stream
 *
 * Input: one vhost-user session (fuzz_vu.h): guest memory, then messages as a front-end sends
 * them, with the file descriptors their requests carry; then the data path over whatever
 * rings they set up. consomme_state_fuzz runs the same sessions as one of its ops.
 *
 * The committed seed (tests/data/vhost_user_fuzz/start_device_arp) is what QEMU sends to
 * start the device (features with every offload, one memory region, both rings of 8 with
 * eventfds, enabled) over a memory holding two 2 KiB receive buffers and an ARP request
 * queued for sending, so the fuzzer starts from a device that moves frames.
 *
 * Host sockets may open (a frame on the tx ring reaches the stack), so like consomme_fuzz the
 * target first moves itself into a new network namespace holding only loopback.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "core.h"
#include "fuzz_frames.h"
#include "fuzz_ns.h"
#include "fuzz_vu.h"

static struct consomme *stack;
static struct fuzz_vu_mem guest;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct cm_opts o;

    fuzz_isolate("vhost_user_fuzz");
    fuzz_stack_opts(&o, 53);
    if (cm_create(&o, &stack, NULL, 0) || fuzz_vu_mem_init(&guest))
        exit(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_vu_session(stack, &guest, data, size);
    udp_sweep(stack, cm_now_ms() + 86400000ull);
    return 0;
}
