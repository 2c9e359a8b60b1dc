/* SPDX-License-Identifier: MIT */
/*
 * agent_proto_fuzz - libFuzzer target over the guest agent's line reader and decoder
 *
 * Both ends of the virtio-serial port run this code on what the other sends: the harness on
 * a guest it does not control, the agent on whatever reaches its port. Input: one byte that
 * sets the line limit (so over-long lines are reached with small inputs) and the size of the
 * pieces the stream arrives in, then the stream itself. Every complete line is decoded;
 * every message that decodes is encoded again, and that line must decode and encode to the
 * very same text (a field the decoder accepts but the encoder changes, or one the encoder
 * writes but the decoder refuses, aborts). Seeds: tests/data/agent_proto_fuzz.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_proto.h"

static void roundtrip(const struct agent_msg *m)
{
    char err[256];
    struct agent_msg again;
    size_t len1, len2;
    char *line1 = agent_msg_encode(m, &len1, err, sizeof(err));
    char *line2;

    if (!line1)
        return; /* out of memory, or a message the encoder itself refuses */
    if (agent_msg_decode(line1, len1 - 1, &again, err, sizeof(err))) {
        fprintf(stderr, "agent_proto_fuzz: own encoding refused: %s\n%s", err, line1);
        abort();
    }
    line2 = agent_msg_encode(&again, &len2, err, sizeof(err));
    if (!line2 || len1 != len2 || memcmp(line1, line2, len1)) {
        fprintf(stderr, "agent_proto_fuzz: encoding not stable:\n%s%s", line1,
                line2 ? line2 : "(not encoded)\n");
        abort();
    }
    free(line2);
    free(line1);
    agent_msg_clear(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct linebuf lb;
    size_t max, piece;
    char err[256];

    if (size < 1)
        return 0;
    max = (size_t)64 << (data[0] & 7); /* 64 B .. 8 KiB */
    piece = 1 + (data[0] >> 3) * 13;   /* 1 .. 404 bytes per read */
    data++;
    size--;
    linebuf_init(&lb, max);
    while (size) {
        size_t n = size < piece ? size : piece;
        char *line;
        size_t len;
        int rc;

        if (linebuf_append(&lb, (const char *)data, n))
            break;
        data += n;
        size -= n;
        while ((rc = linebuf_next(&lb, &line, &len)) != 0) {
            struct agent_msg m;

            if (rc < 0)
                continue; /* over-long, dropped: the next line must still come through */
            if (len > max || memchr(line, '\n', len) || line[len] != '\0')
                abort();
            err[0] = '\0';
            if (!agent_msg_decode(line, len, &m, err, sizeof(err))) {
                roundtrip(&m);
                agent_msg_clear(&m);
            } else if (!*err) {
                fprintf(stderr, "agent_proto_fuzz: a refused line without a message\n");
                abort();
            }
        }
    }
    linebuf_free(&lb);
    return 0;
}
