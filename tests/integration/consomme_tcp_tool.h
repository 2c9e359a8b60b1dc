/* SPDX-License-Identifier: MIT */
/*
 * consomme_tcp_tool.h - what the two ends of consomme_tcp_tool share
 *
 * The tool (its usage is in consomme_tcp_tool.c) is three files: the entry point with the
 * helpers both ends use (the pseudo-random stream, whole reads and writes, digests), the
 * sandbox end (consomme_tcp_client.c) and the host end (consomme_tcp_server.c). Both ends
 * generate the same stream and compare SHA-256 digests of what crossed.
 */
#ifndef CONSOMME_TCP_TOOL_H
#define CONSOMME_TCP_TOOL_H

#include <stddef.h>
#include <stdint.h>

#define CHUNK       (256 * 1024)
#define DEADLINE_MS 170000
#define HALF_REPLY  (1u << 20)

/* The shared pseudo-random stream (xorshift64*): cheap enough not to limit a 1 GiB run. */
struct prng {
    uint64_t s;
};

void prng_fill(struct prng *p, uint8_t *buf, size_t len);

/* Prints "consomme_tcp_tool: MESSAGE" on stderr; Return: 1, the tool's failure status. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* @d's 32 bytes as 64 hex digits and a NUL. */
void hex(const uint8_t *d, char out[65]);
/* Sends all of @buf (no SIGPIPE). Return: 0 or a negative errno. */
int write_all(int fd, const void *buf, size_t len);
/* Reads exactly @len bytes. Return: 0, -EPIPE on early EOF, negative errno. */
int read_all(int fd, void *buf, size_t len);
/* Prints both digests of a transfer of @size bytes; Return: 0 if they are the same, else 1. */
int digests_agree(const char *what, uint64_t size, const uint8_t sent[32],
                  const uint8_t received[32]);

/* `consomme_tcp_tool client ...` and `... server ...`, @argv[0] being the word "client" or
 * "server". Return: the tool's exit status. */
int client_main(int argc, char **argv);
int server_main(int argc, char **argv);

#endif /* CONSOMME_TCP_TOOL_H */
