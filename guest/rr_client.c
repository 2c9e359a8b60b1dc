/* SPDX-License-Identifier: MIT */
/*
 * rr_client - the guest's request/response loop, `burette-agent rr ...` (see rr.h)
 *
 * Runs as a child the agent started for a `run` request, so the agent's own channel stays
 * free and the run's timeout, output capture and kill apply as to any command. Every socket
 * wait is bounded (SO_RCVTIMEO/SO_SNDTIMEO, poll for UDP): a host side that stops answering
 * ends the loop with a message on stderr and exit status 1, never a hang. Samples are kept
 * whole (4 bytes each) until the end, so percentiles are exact, not binned.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"
#include "rr.h"
#include "rr_client.h"

#define MAX_SAMPLES (16u << 20) /* 64 MiB of samples: the loop ends early rather than grow on */

struct rr_run {
    enum rr_mode mode;
    struct sockaddr_in to;
    unsigned size;
    unsigned seconds;
    unsigned char *buf; /* request, then reply */
    unsigned char *reply;
    uint32_t *samples;
    size_t n, cap;
    uint64_t timeouts;
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One line on stderr, which the harness quotes: what failed and errno's reason. */
static int fail(const char *what)
{
    fprintf(stderr, "burette-agent rr: %s: %s\n", what, strerror(errno));
    return -1;
}

/* Keep one sample; false once the store is full (the loop then ends). */
static bool keep(struct rr_run *r, int64_t ns)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 65536;
        uint32_t *grown;

        if (cap > MAX_SAMPLES)
            return false;
        grown = realloc(r->samples, cap * sizeof(*grown));
        if (!grown)
            return false;
        r->samples = grown;
        r->cap = cap;
    }
    /* 4.29 s is beyond any exchange that did not time out (RR_IO_TIMEOUT_MS caps them) */
    r->samples[r->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
    return true;
}

static int set_timeouts(int s)
{
    struct timeval tv = {.tv_sec = RR_IO_TIMEOUT_MS / 1000,
                         .tv_usec = RR_IO_TIMEOUT_MS % 1000 * 1000};
    int one = 1;

    if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
        return -1;
    /* a 1-byte request must leave at once, not wait for Nagle's ACK */
    return setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int tcp_connect(const struct rr_run *r)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (s < 0)
        return fail("socket");
    if (set_timeouts(s)) {
        fail("setsockopt");
        close(s);
        return -1;
    }
    if (connect(s, (const struct sockaddr *)&r->to, sizeof(r->to))) {
        char where[64];

        snprintf(where, sizeof(where), "connect to %s:%u", inet_ntoa(r->to.sin_addr),
                 ntohs(r->to.sin_port));
        fail(where);
        close(s);
        return -1;
    }
    return s;
}

static int send_all(int s, const unsigned char *buf, size_t len)
{
    while (len) {
        ssize_t n = send(s, buf, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail("sending the request");
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int recv_all(int s, unsigned char *buf, size_t len)
{
    while (len) {
        ssize_t n = recv(s, buf, len, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            errno = ECONNRESET;
            return fail("reading the reply (the host side closed before replying)");
        }
        if (n < 0)
            return fail(errno == EAGAIN ? "no reply within the time limit" : "reading the reply");
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One connection, request after request. */
static int loop_tcp_rr(struct rr_run *r, int64_t end)
{
    int s = tcp_connect(r), rc = 0;

    if (s < 0)
        return -1;
    for (;;) {
        int64_t t0 = now_ns(), t1;

        if (t0 >= end)
            break;
        if (send_all(s, r->buf, r->size) || recv_all(s, r->reply, r->size)) {
            rc = -1;
            break;
        }
        t1 = now_ns();
        if (!keep(r, t1 - t0))
            break;
    }
    close(s);
    return rc;
}

/* A connection per transaction; the host closes first, its FIN is part of the exchange. */
static int loop_tcp_crr(struct rr_run *r, int64_t end)
{
    for (;;) {
        int64_t t0 = now_ns(), t1;
        unsigned char extra;
        ssize_t n;
        int s;

        if (t0 >= end)
            return 0;
        s = tcp_connect(r);
        if (s < 0)
            return -1;
        if (send_all(s, r->buf, r->size) || recv_all(s, r->reply, r->size)) {
            close(s);
            return -1;
        }
        while ((n = recv(s, &extra, 1, 0)) < 0 && errno == EINTR)
            ;
        if (n != 0) {
            if (n > 0)
                errno = EPROTO;
            close(s);
            return fail(n > 0 ? "the host side sent more than the reply"
                              : "waiting for the host side to close");
        }
        close(s);
        t1 = now_ns();
        if (!keep(r, t1 - t0))
            return 0;
    }
}

/*
 * Datagram after datagram; the first byte numbers the request (mod 256), so the late reply to
 * a request given up on is never taken for the reply to a later one.
 */
static int loop_udp_rr(struct rr_run *r, int64_t end)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;
    unsigned char seq = 0;

    if (s < 0)
        return fail("socket");
    if (connect(s, (const struct sockaddr *)&r->to, sizeof(r->to))) {
        close(s);
        return fail("connect (UDP)");
    }
    for (;;) {
        int64_t t0 = now_ns(), deadline = t0 + (int64_t)RR_UDP_TIMEOUT_MS * 1000000;
        bool answered = false;

        if (t0 >= end)
            break;
        r->buf[0] = ++seq;
        if (send(s, r->buf, r->size, 0) != (ssize_t)r->size) {
            rc = fail("sending the request");
            break;
        }
        while (!answered) {
            int64_t left = deadline - now_ns();
            struct pollfd p = {.fd = s, .events = POLLIN};
            ssize_t n;
            int ready;

            if (left <= 0)
                break;
            ready = poll(&p, 1, (int)((left + 999999) / 1000000));
            if (ready < 0 && errno == EINTR)
                continue;
            if (ready < 0) {
                rc = fail("poll");
                goto out;
            }
            if (!ready)
                continue;
            n = recv(s, r->reply, r->size, MSG_DONTWAIT | MSG_TRUNC);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (n < 0) {
                /* ECONNREFUSED: an ICMP port unreachable, nobody listens there */
                rc = fail("reading the reply");
                goto out;
            }
            answered = n == (ssize_t)r->size && r->reply[0] == seq;
        }
        if (!answered) {
            r->timeouts++;
            continue;
        }
        if (!keep(r, now_ns() - t0))
            break;
    }
out:
    close(s);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: burette-agent rr --mode tcp_rr|tcp_crr|udp_rr --to IPV4 --port PORT "
               "[--size BYTES] --seconds S\n");
}

/* --@name's @arg as a whole number from 1 to @max into *@out; false once it said why not. */
static bool option_uint(const char *name, const char *arg, unsigned max, unsigned *out)
{
    unsigned long long v;

    if (parse_uint(arg, 1, max, &v)) {
        fprintf(stderr, "burette-agent rr: --%s: '%s' is not 1 to %u\n", name, arg, max);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

int rr_client_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"mode", required_argument, NULL, 'm'},    {"to", required_argument, NULL, 't'},
        {"port", required_argument, NULL, 'p'},    {"size", required_argument, NULL, 's'},
        {"seconds", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0},
    };
    struct rr_run r = {.size = 1};
    struct rr_result res = {0};
    bool have_mode = false, have_to = false;
    unsigned port;
    int64_t start, end;
    char *text;
    int c, rc;

    r.to.sin_family = AF_INET;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            have_mode = !rr_mode_parse(optarg, &r.mode);
            if (!have_mode) {
                fprintf(stderr, "burette-agent rr: --mode: unknown mode '%s'\n", optarg);
                return 2;
            }
            break;
        case 't':
            have_to = inet_pton(AF_INET, optarg, &r.to.sin_addr) == 1;
            if (!have_to) {
                fprintf(stderr, "burette-agent rr: --to: '%s' is no IPv4 address\n", optarg);
                return 2;
            }
            break;
        case 'p':
            if (!option_uint("port", optarg, 65535, &port))
                return 2;
            r.to.sin_port = htons((uint16_t)port);
            break;
        case 's':
            if (!option_uint("size", optarg, RR_MAX_SIZE, &r.size))
                return 2;
            break;
        case 'd':
            if (!option_uint("seconds", optarg, RR_MAX_SECONDS, &r.seconds))
                return 2;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!have_mode || !have_to || !r.to.sin_port || !r.seconds || optind < argc) {
        usage(stderr);
        return 2;
    }
    r.buf = calloc(1, r.size);
    r.reply = malloc(r.size);
    if (!r.buf || !r.reply) {
        fprintf(stderr, "burette-agent rr: out of memory\n");
        rc = 1;
        goto out;
    }
    memset(r.buf, 'r', r.size);

    start = now_ns();
    end = start + (int64_t)r.seconds * 1000000000;
    switch (r.mode) {
    case RR_TCP_RR:
        rc = loop_tcp_rr(&r, end);
        break;
    case RR_TCP_CRR:
        rc = loop_tcp_crr(&r, end);
        break;
    default:
        rc = loop_udp_rr(&r, end);
        break;
    }
    res.elapsed_us = (uint64_t)(now_ns() - start) / 1000;
    if (rc) {
        rc = 1;
        goto out;
    }
    res.mode = r.mode;
    res.size = r.size;
    res.timeouts = r.timeouts;
    rr_summarize(r.samples, r.n, &res);
    if (!res.transactions) {
        fprintf(stderr, "burette-agent rr: no transaction completed in %u s (%llu timeouts)\n",
                r.seconds, (unsigned long long)r.timeouts);
        rc = 1;
        goto out;
    }
    text = rr_result_format(&res);
    if (!text) {
        fprintf(stderr, "burette-agent rr: out of memory\n");
        rc = 1;
        goto out;
    }
    printf("%s\n", text);
    free(text);
    rc = fflush(stdout) ? 1 : 0;
out:
    free(r.buf);
    free(r.reply);
    free(r.samples);
    return rc;
}
