/* SPDX-License-Identifier: MIT */
/*
 * consomme_fuzz - libFuzzer target over the frame input path
 *
 * Input: one flags byte, then either raw QEMU stream bytes (flags & 4: the length-prefixed
 * framing parser is fuzzed too) or frames, each behind a 2-byte big-endian length. So that
 * the fuzzer gets past the checksums to the protocol code, flags & 1 recomputes the IPv4
 * header checksum and flags & 2 the ICMP/UDP/TCP checksum of each frame before it is fed in.
 * After each input the stack's own epoll loop gets one non-blocking turn (host replies on UDP
 * flows), then every flow is expired, so inputs do not pile up state.
 *
 * UDP flows open real host sockets. To keep them from ever leaving the machine, the fuzzer
 * first moves itself into a new user+network namespace that holds only loopback; if that is
 * impossible it refuses to run (exit 77, a skip for ctest) rather than send packets from the
 * host's namespace (fuzz_ns.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "core.h"
#include "fuzz_frames.h"
#include "fuzz_ns.h"

static struct consomme *stack;
static uint8_t *stream;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct cm_opts o;

    fuzz_isolate("consomme_fuzz");
    fuzz_stack_opts(&o, 53);
    o.max_udp_flows = 64;
    o.cfg.max_connections = 64;
    if (cm_create(&o, &stack, NULL, 0)) {
        fprintf(stderr, "consomme_fuzz: cannot create the stack\n");
        exit(1);
    }
    stream = malloc(1 << 20);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct epoll_event ev[16];
    uint8_t flags;
    int n;

    if (size < 1)
        return 0;
    flags = data[0];
    data++;
    size--;
    if (flags & 4) {
        size_t len = size < (1 << 20) ? size : (1 << 20);
        memcpy(stream, data, len);
        cm_stream_parse(stack, stream, len);
    } else {
        /* each frame in its own allocation, so reads past its end are caught by ASan; all
         * stay alive until the batch ends, as the transport guarantees */
        uint8_t *copies[64];
        int ncopies = 0;

        cm_frames_input_begin(stack);
        while (size >= 2 && ncopies < 64) {
            size_t len = (size_t)(data[0] << 8 | data[1]);
            uint8_t *f;

            data += 2;
            size -= 2;
            if (len > size)
                len = size;
            f = malloc(len ? len : 1);
            if (!f)
                break;
            memcpy(f, data, len);
            fuzz_fix_checksums(f, len, flags);
            cm_frame_input(stack, f, len);
            copies[ncopies++] = f;
            data += len;
            size -= len;
        }
        cm_frames_input_end(stack);
        for (int i = 0; i < ncopies; i++)
            free(copies[i]);
    }
    n = epoll_wait(stack->events.epfd, ev, 16, 0);
    cm_events_dispatch(stack, ev, n);
    if (tcp_connection_count(stack))
        tcp_timer(stack, cm_now_ms());
    udp_sweep(stack, cm_now_ms() + 86400000ull);
    cm_out_flush(stack);
    return 0;
}
