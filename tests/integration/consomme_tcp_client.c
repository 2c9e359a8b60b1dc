/* SPDX-License-Identifier: MIT */
/*
 * consomme_tcp_client - consomme_tcp_tool's sandbox end
 *
 * Runs inside `consomme run`'s namespace and connects through consomme to 10.0.2.2, the
 * host's 127.0.0.1: one transfer checked by digest (upload, download), many echoing
 * connections at once (echo), a half-close, a refused connect, and the connection cap (cap).
 * Each mode's usage is in consomme_tcp_tool.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "clock.h"
#include "parse.h"

#include "consomme_tcp_tool.h"

static int client_connect(const char *addr, uint16_t port, int *fd)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        return -EINVAL;
    *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*fd < 0)
        return -errno;
    if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa))) {
        int e = -errno;

        close(*fd);
        *fd = -1;
        return e;
    }
    return 0;
}

static int client_upload(int fd, uint64_t size)
{
    uint8_t *buf = malloc(CHUNK), mine[32], theirs[32];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    struct prng p = {0x9e3779b97f4a7c15ull};
    uint64_t sent = 0;
    int rc = 1;

    if (!buf || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        goto out;
    while (sent < size) {
        size_t n = size - sent < CHUNK ? (size_t)(size - sent) : CHUNK;

        prng_fill(&p, buf, n);
        EVP_DigestUpdate(md, buf, n);
        if (write_all(fd, buf, n)) {
            rc = fail("upload: send failed after %" PRIu64 " bytes: %s", sent, strerror(errno));
            goto out;
        }
        sent += n;
    }
    EVP_DigestFinal_ex(md, mine, NULL);
    shutdown(fd, SHUT_WR);
    if (read_all(fd, theirs, 32)) {
        rc = fail("upload: no digest back from the host end");
        goto out;
    }
    rc = digests_agree("upload", size, mine, theirs);
out:
    EVP_MD_CTX_free(md);
    free(buf);
    return rc;
}

static int client_download(int fd, uint64_t size)
{
    uint8_t *buf = malloc(CHUNK), mine[32], theirs[32];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint64_t got = 0;
    size_t tail = 0;
    int rc = 1;

    if (!buf || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        goto out;
    for (;;) {
        ssize_t n = recv(fd, buf, CHUNK, 0);
        size_t data;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = fail("download: recv: %s", strerror(errno));
            goto out;
        }
        if (!n)
            break;
        data = got < size ? (size - got < (uint64_t)n ? (size_t)(size - got) : (size_t)n) : 0;
        EVP_DigestUpdate(md, buf, data);
        got += data;
        if ((size_t)n > data) {
            if (tail + ((size_t)n - data) > 32) {
                rc = fail("download: more bytes than announced");
                goto out;
            }
            memcpy(theirs + tail, buf + data, (size_t)n - data);
            tail += (size_t)n - data;
        }
    }
    if (got != size || tail != 32) {
        rc = fail("download: got %" PRIu64 " of %" PRIu64 " bytes and %zu of 32 digest bytes", got,
                  size, tail);
        goto out;
    }
    EVP_DigestFinal_ex(md, mine, NULL);
    rc = digests_agree("download", size, theirs, mine);
out:
    EVP_MD_CTX_free(md);
    free(buf);
    return rc;
}

/* CONNS connections open at once, each echoing BYTES of its own pattern. */
static int client_echo(const char *addr, uint16_t port, unsigned conns, size_t bytes)
{
    int *fds = calloc(conns, sizeof(int));
    uint8_t *out = malloc(bytes), *in = malloc(bytes);
    struct rlimit rl;
    int rc = 1;
    unsigned i;

    if (!fds || !out || !in)
        goto out;
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (i = 0; i < conns; i++)
        fds[i] = -1;
    for (i = 0; i < conns; i++) {
        int e = client_connect(addr, port, &fds[i]);

        if (e) {
            rc = fail("echo: connection %u: connect: %s", i, strerror(-e));
            goto out;
        }
    }
    /* all open now; the payload of each is small enough to sit in socket buffers */
    for (i = 0; i < conns; i++) {
        struct prng p = {i + 1};

        prng_fill(&p, out, bytes);
        if (write_all(fds[i], out, bytes)) {
            rc = fail("echo: connection %u: send: %s", i, strerror(errno));
            goto out;
        }
    }
    for (i = 0; i < conns; i++) {
        struct prng p = {i + 1};

        prng_fill(&p, out, bytes);
        if (read_all(fds[i], in, bytes) || memcmp(in, out, bytes)) {
            rc = fail("echo: connection %u: echo missing or different", i);
            goto out;
        }
    }
    printf("echo: %u concurrent connections echoed %zu bytes each\n", conns, bytes);
    rc = 0;
out:
    for (i = 0; fds && i < conns; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    free(out);
    free(in);
    return rc;
}

static int client_halfclose(int fd)
{
    uint8_t *req = malloc(100000), *exp = malloc(HALF_REPLY), *got = malloc(HALF_REPLY);
    struct prng p = {42};
    char line[32], want[32];
    int rc = 1, e;

    if (!req || !exp || !got)
        goto out;
    prng_fill(&p, req, 100000);
    if (write_all(fd, req, 100000))
        goto out;
    /* our side is done; the host still has to answer */
    if (shutdown(fd, SHUT_WR)) {
        rc = fail("halfclose: shutdown: %s", strerror(errno));
        goto out;
    }
    snprintf(want, sizeof(want), "got %u\n", 100000u);
    if ((e = read_all(fd, line, strlen(want))) || memcmp(line, want, strlen(want))) {
        rc = fail("halfclose: no reply after SHUT_WR (%s)", e ? strerror(-e) : "wrong text");
        goto out;
    }
    p.s = 43;
    prng_fill(&p, exp, HALF_REPLY);
    if (read_all(fd, got, HALF_REPLY) || memcmp(got, exp, HALF_REPLY)) {
        rc = fail("halfclose: reply body missing or different");
        goto out;
    }
    if (recv(fd, line, 1, 0) != 0) {
        rc = fail("halfclose: no EOF after the reply");
        goto out;
    }
    printf("halfclose: reply of %u bytes read after shutdown(SHUT_WR), then EOF\n",
           HALF_REPLY + (unsigned)strlen(want));
    rc = 0;
out:
    free(req);
    free(exp);
    free(got);
    return rc;
}

/* consomme started with --max-connections N: N connections open, the next one is refused. */
static int client_cap(const char *addr, uint16_t port, unsigned n)
{
    int *fds = calloc(n, sizeof(int)), extra = -1, e, rc = 1;
    unsigned i, opened = 0;

    if (!fds)
        return fail("cap: out of memory");
    for (i = 0; i < n; i++, opened++) {
        e = client_connect(addr, port, &fds[i]);
        if (e) {
            rc = fail("cap: connection %u of %u: %s", i + 1, n, strerror(-e));
            goto out;
        }
    }
    e = client_connect(addr, port, &extra);
    if (e != -ECONNREFUSED) {
        rc = fail("cap: connection %u beyond the cap gave %s, not ECONNREFUSED", n + 1,
                  e ? strerror(-e) : "success");
        goto out;
    }
    printf("cap: %u connections open, the next one refused with ECONNREFUSED\n", n);
    rc = 0;
out:
    if (extra >= 0)
        close(extra);
    for (i = 0; i < opened; i++)
        close(fds[i]);
    free(fds);
    return rc;
}

int client_main(int argc, char **argv)
{
    unsigned long long port, a = 0, b = 0;
    const char *mode, *addr;
    int fd = -1, e, rc;

    if (argc < 4 || parse_uint(argv[3], 1, 65535, &port))
        return fail("usage: consomme_tcp_tool client MODE ADDR PORT [ARGS]");
    mode = argv[1];
    addr = argv[2];
    if (!strcmp(mode, "echo")) {
        if (argc != 6 || parse_uint(argv[4], 1, 100000, &a) || parse_uint(argv[5], 1, 65536, &b))
            return fail("usage: consomme_tcp_tool client echo ADDR PORT CONNS BYTES");
        return client_echo(addr, (uint16_t)port, (unsigned)a, (size_t)b);
    }
    if (!strcmp(mode, "cap")) {
        if (argc != 5 || parse_uint(argv[4], 1, 100000, &a))
            return fail("usage: consomme_tcp_tool client cap ADDR PORT N");
        return client_cap(addr, (uint16_t)port, (unsigned)a);
    }
    if (!strcmp(mode, "upload") || !strcmp(mode, "download")) {
        uint64_t size;

        if (argc != 5 || parse_size(argv[4], &size))
            return fail("usage: consomme_tcp_tool client %s ADDR PORT SIZE", mode);
        a = size;
    }
    e = client_connect(addr, (uint16_t)port, &fd);
    if (!strcmp(mode, "refused")) {
        if (e == -ECONNREFUSED) {
            printf("refused: connect to %s:%llu failed with ECONNREFUSED\n", addr, port);
            return 0;
        }
        if (fd >= 0)
            close(fd);
        return fail("refused: connect gave %s, not ECONNREFUSED", e ? strerror(-e) : "success");
    }
    if (e)
        return fail("%s: connect to %s:%llu: %s", mode, addr, port, strerror(-e));
    if (!strcmp(mode, "upload"))
        rc = client_upload(fd, a);
    else if (!strcmp(mode, "download"))
        rc = client_download(fd, a);
    else if (!strcmp(mode, "halfclose"))
        rc = client_halfclose(fd);
    else
        rc = fail("unknown client mode '%s'", mode);
    close(fd);
    return rc;
}
