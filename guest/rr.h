/* SPDX-License-Identifier: MIT */
/*
 * rr - request/response latency: what the guest's loop measures and how it reports it
 *
 * The guest agent doubles as the client of `burette run --test latency`: run as
 * `burette-agent rr --mode MODE --to ADDR --port PORT --size BYTES --seconds S`, it does
 * request/response exchanges with the host's echo server (the namespace helper's, see
 * helper/echo_job.h) for S seconds and prints one JSON object on stdout:
 *
 *   {"mode":"tcp_rr","size":1,"transactions":N,"elapsed_us":E,"timeouts":T,
 *    "latency_us":{"min":..,"mean":..,"p50":..,"p90":..,"p99":..,"p999":..,"max":..}}
 *
 * Modes: tcp_rr (SIZE bytes out, SIZE bytes back, on one connection, TCP_NODELAY), udp_rr
 * (the same with one datagram each way; a reply that does not come within RR_UDP_TIMEOUT_MS
 * counts as a timeout and is not a sample) and tcp_crr (per transaction: connect, SIZE bytes
 * out, SIZE bytes back, the server's close seen, close: the host side closes first, so no
 * TIME_WAIT piles up in the guest and its ports never run out).
 *
 * Why not sockperf, which Debian ships: its messages carry a 14-byte header, so it cannot send
 * the 1-byte request a transaction latency is usually quoted for, it has no connect/close
 * mode, and its percentiles are printed as free text (its CSV log is every sample, megabytes a
 * run over the agent's channel). One loop with one clock serves all three modes here.
 *
 * A transaction's latency is its full round trip, from just before the request is sent (for
 * tcp_crr: before socket()) to just after the reply is in (tcp_crr: after close()), read from
 * CLOCK_MONOTONIC. Percentiles are nearest-rank over every sample: pQ is the smallest sample
 * that at least Q% of the samples do not exceed, so it is always a measured value and
 * p50 <= p90 <= p99 <= p99.9 <= max holds by construction.
 *
 * This file is shared by the agent (which measures and encodes) and the harness (which
 * decodes); the decoder checks every field, so a garbled line is an error, never a figure.
 */
#ifndef BURETTE_RR_H
#define BURETTE_RR_H

#include <stddef.h>
#include <stdint.h>

#define RR_MAX_SIZE       65507 /* largest request/reply, bytes: the largest UDP payload on IPv4 */
#define RR_MAX_SECONDS    3600
#define RR_UDP_TIMEOUT_MS 1000  /* far above any round trip here, TCG included */
#define RR_IO_TIMEOUT_MS  10000 /* a TCP exchange or connect that takes longer is a failure */

enum rr_mode {
    RR_TCP_RR,
    RR_TCP_CRR,
    RR_UDP_RR,
};

struct rr_latency {
    double min, mean, p50, p90, p99, p999, max; /* microseconds */
};

struct rr_result {
    enum rr_mode mode;
    unsigned size;
    uint64_t transactions; /* completed exchanges (= samples) */
    uint64_t elapsed_us;   /* the loop's whole time, the rate's denominator */
    uint64_t timeouts;     /* udp_rr: requests whose reply never came */
    struct rr_latency latency_us;
};

/**
 * rr_mode_name() - The wire name of a mode ("tcp_rr", "tcp_crr", "udp_rr")
 * @mode:	Mode
 *
 * Return: static string
 */
const char *rr_mode_name(enum rr_mode mode);

/**
 * rr_mode_parse() - The mode of a wire name
 * @name:	"tcp_rr", "tcp_crr" or "udp_rr"
 * @mode:	Receives the mode
 *
 * Return: 0, or -EINVAL for another name
 */
int rr_mode_parse(const char *name, enum rr_mode *mode);

/**
 * rr_percentile() - Nearest-rank percentile of sorted samples
 * @sorted_ns:	Samples in ascending order, nanoseconds
 * @n:		How many, at least 1
 * @q:		Percentile, 0 < @q <= 100
 *
 * Return: the sample at rank ceil(@q / 100 * @n) (1-based), in nanoseconds
 */
uint32_t rr_percentile(const uint32_t *sorted_ns, size_t n, double q);

/**
 * rr_summarize() - Sort the samples and fill @r's latency summary and transaction count
 * @samples_ns:	Samples, nanoseconds; sorted in place
 * @n:		How many (0: every figure 0)
 * @r:		Receives transactions and latency_us
 */
void rr_summarize(uint32_t *samples_ns, size_t n, struct rr_result *r);

/**
 * rr_rate() - Transactions per second over the loop's elapsed time
 * @r:		Result
 *
 * Return: the rate, 0 when nothing was timed
 */
double rr_rate(const struct rr_result *r);

/**
 * rr_result_format() - The result as one line of compact JSON
 * @r:		Result
 *
 * Return: text to free(), NULL when out of memory
 */
char *rr_result_format(const struct rr_result *r);

/**
 * rr_result_parse() - Read and check what rr_result_format() wrote
 * @text:	The JSON text (NUL-terminated)
 * @r:		Receives the result
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Checks types and consistency: a known mode, at least one transaction, a positive elapsed
 * time, and min <= p50 <= p90 <= p99 <= p999 <= max.
 *
 * Return: 0, or -EINVAL with the field at fault in @err
 */
int rr_result_parse(const char *text, struct rr_result *r, char *err, size_t errlen);

#endif /* BURETTE_RR_H */
