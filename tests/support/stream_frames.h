/* SPDX-License-Identifier: MIT */
/*
 * stream_frames - read what consomme's stream transport writes (QEMU's -netdev stream framing:
 * a 4-byte big-endian length, then the Ethernet frame) until a frame the test waits for
 *
 * Header-only, for cmocka tests: cmocka.h comes first. Every read waits at most @deadline_ms
 * for data, so a frame that never comes fails the test instead of hanging it. Frames before
 * the one matched, and bytes after it, are dropped.
 */
#ifndef BURETTE_TEST_STREAM_FRAMES_H
#define BURETTE_TEST_STREAM_FRAMES_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Whether @frame (@len bytes, Ethernet header first) is the one awaited. */
typedef bool stream_frame_match(const uint8_t *frame, size_t len, const void *arg);

static inline void stream_expect_frame(int fd, int deadline_ms, stream_frame_match *match,
                                       const void *arg)
{
    static uint8_t buf[1 << 17];
    size_t have = 0;

    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        assert_int_equal(poll(&p, 1, deadline_ms), 1);
        n = read(fd, buf + have, sizeof(buf) - have);
        assert_true(n > 0);
        have += (size_t)n;
        while (have >= 4) {
            size_t len = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];

            assert_true(len + 4 <= sizeof(buf));
            if (have < 4 + len)
                break;
            if (match(buf + 4, len, arg))
                return;
            memmove(buf, buf + 4 + len, have - 4 - len);
            have -= 4 + len;
        }
    }
}

#endif
