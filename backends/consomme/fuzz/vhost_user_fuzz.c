/* SPDX-License-Identifier: MIT */
/*
 * vhost_user_fuzz - libFuzzer target over the vhost-user message stream
 *
 * Input: two bytes of guest-memory length, that much guest memory content, then messages as a
 * front-end sends them (request, flags, size, payload; all little-endian, size clamped to
 * what is left). File descriptors come with the requests that carry them: one memfd holding
 * the guest memory per region of SET_MEM_TABLE, an eventfd with SET_VRING_KICK/CALL/ERR
 * (flags bit 31 withholds them, to test a missing fd). Once the messages are handled, the
 * data path runs over whatever rings they set up: a kick on tx, and a frame toward the guest.
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
#include "vhost_user.h"

#define MEM_SIZE (1u << 16)

static struct consomme *stack;
static int memfd = -1;
static uint8_t *mem; /* our view of the guest memory, mapped once: mappings are slow here */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct cm_opts o;

    fuzz_isolate("vhost_user_fuzz");
    fuzz_stack_opts(&o, 53);
    if (cm_create(&o, &stack, NULL, 0))
        exit(1);
    memfd = memfd_create("guest", MFD_CLOEXEC);
    if (memfd < 0 || ftruncate(memfd, MEM_SIZE))
        exit(1);
    mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (mem == MAP_FAILED)
        exit(1);
    return 0;
}

static size_t fds_for(const struct vu_msg *m, int *fds)
{
    size_t n = 0;

    if (m->flags & (1u << 31))
        return 0;
    if (m->request == 5 && m->size >= 4) {
        uint32_t regions = get_le32(m->payload);
        for (; n < regions && n < VU_MAX_FDS; n++)
            fds[n] = dup(memfd);
    } else if (m->request >= 12 && m->request <= 14) {
        fds[n++] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vu_msg m, reply;
    struct vu_dev *d;
    size_t memlen;

    if (size < 2)
        return 0;
    memlen = get_le16(data);
    data += 2;
    size -= 2;
    if (memlen > size)
        memlen = size;
    memset(mem, 0, MEM_SIZE);
    memcpy(mem, data, memlen);
    data += memlen;
    size -= memlen;

    d = vu_dev_new(stack);
    if (!d)
        return 0;
    stack->tr = &vu_transport_ops;
    stack->tr_priv = d;
    stack->opts.cfg.mtu = CM_MTU_DEFAULT;
    while (size >= 12) {
        int fds[VU_MAX_FDS];
        size_t nfds;
        bool has_reply;

        m.request = get_le32(data);
        m.flags = get_le32(data + 4);
        m.size = get_le32(data + 8);
        data += 12;
        size -= 12;
        if (m.size > size)
            m.size = (uint32_t)size;
        if (m.size > VU_PAYLOAD_MAX)
            m.size = VU_PAYLOAD_MAX;
        memcpy(m.payload, data, m.size);
        data += m.size;
        size -= m.size;
        nfds = fds_for(&m, fds);
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
    udp_sweep(stack, cm_now_ms() + 86400000ull);
    stack->tr->free(stack);
    stack->tr = &cm_queue_ops;
    stack->stop = false;
    stack->guest_blocked = false;
    return 0;
}
