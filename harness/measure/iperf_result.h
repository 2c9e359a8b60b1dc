/* SPDX-License-Identifier: MIT */
/*
 * iperf_result - the figures burette takes from an iperf3 JSON report
 *
 * Only iperf3's own numbers are used, from its JSON (never its text output): the receiver
 * side's bits_per_second for throughput, the sender's retransmits where that side's report
 * has them, and for UDP the datagram counters (packets, lost_packets) with the receiver's
 * interval length. Works on a server's or a client's report of iperf3 3.x (3.12 recorded in
 * tests/data/iperf3).
 *
 * Stalls: from iperf3's "intervals" (1 s each by default), the per-interval throughput of the
 * report's own side, its median, and how many intervals fell below a tenth of that median.
 * Intervals iperf3 marks "omitted" (-O) are left out, and so is a short last interval (under
 * half a second: the tail after the last full second), which says nothing about a stall. A
 * zero interval always counts as stalled, even when the median is zero too.
 */
#ifndef BURETTE_IPERF_RESULT_H
#define BURETTE_IPERF_RESULT_H

#include <stdbool.h>
#include <stddef.h>

/* Intervals kept in the list; a longer run is still counted in full for median and stalls. */
#define IPERF_RESULT_MAX_INTERVALS 600

/* A stalled interval moved less than this fraction of the run's median interval. */
#define IPERF_STALL_FRACTION 0.1

struct iperf_result {
    bool udp;
    bool reverse;           /* the test ran with -R */
    double seconds;         /* receiver's measured interval */
    double gbps;            /* 10^9 bits/s, receiver side where the report has it */
    bool receiver_side;     /* gbps (and UDP counters) are the receiver's */
    bool has_retransmits;   /* only a report from the sending side has them */
    long long retransmits;  /* TCP, sender side */
    long long packets;      /* UDP: datagrams the sender numbered */
    long long lost_packets; /* UDP: of those, never received */
    double pps;             /* UDP: datagrams received per second */
    double lost_percent;    /* UDP: as iperf3 computes it */
    /* Per-interval throughput of the report's own side; receiver side after a merge where
     * either report had it */
    bool intervals_receiver_side;
    size_t nintervals; /* full intervals counted, may exceed the list */
    double interval_gbps[IPERF_RESULT_MAX_INTERVALS]; /* the first min(nintervals, cap) */
    double interval_median_gbps;                      /* NAN without intervals */
    size_t stalled_intervals; /* below IPERF_STALL_FRACTION of the median, or zero */
};

/**
 * iperf_result_parse() - Extract the figures from one iperf3 JSON report
 * @json:	The report's text
 * @r:		Filled on success
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * A report carrying iperf3's own "error" fails with that message.
 *
 * Return: 0 on success, -EPROTO for malformed or incomplete reports, -EIO if iperf3
 *	   reported an error
 */
int iperf_result_parse(const char *json, struct iperf_result *r, char *err, size_t errlen);

/**
 * iperf_result_stalls() - Median and stalled count of a list of per-interval throughputs
 * @gbps:	Throughput of each full interval
 * @n:		Number of intervals
 * @median:	Their median, NAN if @n is 0
 *
 * Return: how many intervals fell below IPERF_STALL_FRACTION of @median or were zero
 */
size_t iperf_result_stalls(const double *gbps, size_t n, double *median);

/**
 * iperf_result_merge() - Complete a server's figures with its client's
 * @server:	Figures from the server's report (the harness always has it)
 * @client:	Figures from the client's report, or NULL if not available
 * @out:	@server, with what only the client's report has filled in
 *
 * Neither side's report is complete alone: a receiving server's report lacks the sender's
 * retransmits, a sending server's (-R) lacks the receiver's figures. The client's report
 * carries both sides after iperf3's results exchange. Intervals come from the receiver's
 * report: the server's for a normal test, the client's for -R.
 */
void iperf_result_merge(const struct iperf_result *server, const struct iperf_result *client,
                        struct iperf_result *out);

#endif /* BURETTE_IPERF_RESULT_H */
