/* SPDX-License-Identifier: MIT */
/*
 * consomme_tcp_tool - both ends of consomme's TCP integration tests
 *
 * The host end ("server") listens on 127.0.0.1, runs CMD (normally `consomme run --
 * consomme_tcp_tool client ...`) with "{PORT}" in its arguments replaced by the listening port,
 * serves the connections CMD makes through consomme, and judges: CMD must exit 0 and the host end
 * must have seen the whole exchange. The sandbox end ("client") connects to 10.0.2.2, the address
 * consomme maps to the host's 127.0.0.1. Both ends generate the same pseudo-random stream and
 * hash what crosses with SHA-256 (OpenSSL), so any byte lost, duplicated or reordered by the
 * stack shows up as a mismatch.
 *
 *   consomme_tcp_tool server MODE [ARGS] [--stats FILE rx|tx|fixed] -- CMD...
 *       MODE upload SIZE     read to EOF hashing, answer with the 32-byte digest
 *            download SIZE   send SIZE bytes then their digest, wait for the client's EOF
 *            echo CONNS      echo every connection; at least CONNS must be open at once
 *            halfclose       read to EOF, then answer "got N\n" and 1 MiB, then close
 *            refused         listen nowhere: {PORT} is a port nobody listens on
 *       --stats FILE rx|tx   afterwards, consomme's counters in FILE must show the rx (or tx)
 *                            ring grown (rx_buffer_grows > 0) up to exactly its maximum;
 *       --stats FILE fixed   ... or show that neither ring grew
 *   consomme_tcp_tool client upload|download ADDR PORT SIZE
 *   consomme_tcp_tool client echo ADDR PORT CONNS BYTES
 *   consomme_tcp_tool client halfclose|refused ADDR PORT
 *   consomme_tcp_tool client cap ADDR PORT N   N connections succeed, one more is refused
 *
 * Exit status 0 on success, 1 with a message on failure. Waits are poll/epoll on the event
 * itself with a deadline as a guard against hangs; nothing sleeps to synchronise.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "consomme_tcp_tool.h"

int fail(const char *fmt, ...)
{
    va_list ap;

    fputs("consomme_tcp_tool: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

void prng_fill(struct prng *p, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v;

        p->s ^= p->s >> 12;
        p->s ^= p->s << 25;
        p->s ^= p->s >> 27;
        v = p->s * 0x2545f4914f6cdd1dull;
        memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
    }
}

void hex(const uint8_t *d, char out[65])
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads exactly @len bytes. Return: 0, -EPIPE on early EOF, negative errno. */
int read_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = recv(fd, p, len, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (!n)
            return -EPIPE;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Prints both digests of a transfer of @size bytes; Return: 0 if they are the same, else 1. */
int digests_agree(const char *what, uint64_t size, const uint8_t sent[32],
                  const uint8_t received[32])
{
    char a[65], b[65];

    hex(sent, a);
    hex(received, b);
    printf("%s %" PRIu64 " bytes: sha256 sent %s, received %s\n", what, size, a, b);
    return memcmp(sent, received, 32) ? fail("%s: SHA-256 differs", what) : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && !strcmp(argv[1], "client"))
        return client_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "server"))
        return server_main(argc - 1, argv + 1);
    return fail("usage: consomme_tcp_tool server MODE ... -- CMD... | consomme_tcp_tool client "
                "MODE ADDR PORT ...");
}
