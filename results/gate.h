/* SPDX-License-Identifier: MIT */
/*
 * gate - which metrics a CI gate fails on
 *
 * A report holds dozens of metrics per sub-test: throughput, its CPU cost split by thread,
 * retransmits, losses. Each comparison at alpha 0.01 has its own 1% chance of a false alarm, so
 * a gate that failed on any of 44 metrics fails about one A/A night in three: two variants of
 * one build, 45 quiet rounds (tests/data/aa/10), saw net_virtio-net_tcp_rx_qemu_main_ms_per_gbit
 * "regressed" and no throughput change. A gate therefore judges the results a test exists to
 * measure, by default: throughput, rates, latency, boot time, and Gbit per CPU-second (the
 * one figure of what a transfer costs); not the diagnostics behind them (CPU shares and
 * per-thread cost, names ending in _cpu_percent or _ms_per_gbit; retransmits, losses and
 * stalls). Those keep their verdicts in every table and are named when they regress, as
 * outside the gate, without failing it.

 * A gate spec is what --gate takes: comma-separated terms, a metric counts when any term
 * takes it: "results" (the default set), "rates" (throughput and rates only: _gbps, _pps,
 * _per_s, the metrics --require-detectable holds), "all", or a glob of metric names (fnmatch(3),
 e.g.
 * "*_tcp_rr_p99_us"). A glob that takes no metric of the reports at hand is an error for the
 * caller to report (metric_gate_unmatched()): a mistyped gate would otherwise guard nothing.
 *
 * Invariant: a zeroed struct metric_gate is the default gate; the spec is not copied and must
 * outlive the gate.
 */
#ifndef BURETTE_GATE_H
#define BURETTE_GATE_H

#include <stdbool.h>
#include <stddef.h>

struct metric_gate {
    const char *spec; /* NULL: the default, "results" */
};

/**
 * metric_is_rate() - Whether metric @name is a throughput or a rate (_gbps, _pps, _per_s)
 */
bool metric_is_rate(const char *name);

/**
 * metric_is_diagnostic() - Whether metric @name explains a result rather than being one: CPU
 * shares and per-thread cost, retransmits, losses, stalls
 */
bool metric_is_diagnostic(const char *name);

/**
 * metric_gate_parse() - Check a --gate spec and set @g to it
 * @spec:	The option's argument, kept by @g
 *
 * Return: 0, or -EINVAL with the reason in @err (an empty term)
 */
int metric_gate_parse(struct metric_gate *g, const char *spec, char *err, size_t errlen);

/**
 * metric_gate_covers() - Whether a regression of metric @name fails the gate
 */
bool metric_gate_covers(const struct metric_gate *g, const char *name);

/**
 * metric_gate_unmatched() - The first glob of @g that takes none of @names
 * @names:	Metric names, @n of them
 * @term:	Where the glob is copied
 *
 * Return: true (and @term set) when some glob matches nothing
 */
bool metric_gate_unmatched(const struct metric_gate *g, const char *const *names, size_t n,
                           char *term, size_t termlen);

/**
 * metric_gate_check() - Refuse @g when one of its globs takes none of @names
 * @names:	The metrics at hand, @n of them
 * @what:	What they are, for the message: "metric of these reports", "stored metric"
 *
 * Return: 0, or -EINVAL with "--gate: 'GLOB' matches no WHAT (names look like NAME)" in @err
 */
int metric_gate_check(const struct metric_gate *g, const char *const *names, size_t n,
                      const char *what, char *err, size_t errlen);

#endif /* BURETTE_GATE_H */
