/* SPDX-License-Identifier: MIT */
/*
 * report - a burette report in memory, and its JSON form
 *
 * A report is a list of metrics, each with a name, a unit and the raw samples of its kept
 * iterations, plus the run's config and host objects. Statistics are derived from the samples
 * when the report is written; a report read from OpenVMM burette's plain format has no samples,
 * only the summary fields, and carries them as read.
 *
 * The JSON keeps OpenVMM burette's fields (git_revision, git_branch, git_commit_date, date,
 * results[] with name, unit, iterations, mean, std_dev, min, max) and adds samples, median,
 * ci95_low/ci95_high, higher_is_better per result, config/host and git_dirty at the top level.
 * Provenance (what produced the figures) lives in host: qemu_version, passt_version,
 * libslirp_version, iperf3_version, guest_iperf3_version, guest_kernel, guest_image_sha256,
 * cpu_model, cpu_count, load_start, load_end; in config: accel; at the top: git_revision,
 * git_dirty. Any may be absent (older reports): readers show it as unknown.
 */
#ifndef BURETTE_REPORT_H
#define BURETTE_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "stats.h"

/*
 * One metric of a report. Readers (comparison, renderers) may read the fields; changes go
 * through the functions below so that @st always describes @samples. A metric read from a
 * plain report has no samples (nsamples == 0): @st then holds the summary as read, with
 * NAN where the file said nothing (median, min, max).
 */
struct metric {
    char *name;
    char *unit;
    double *samples;
    size_t nsamples;
    size_t cap;
    struct stats st;
    int higher_is_better; /* -1: derived from the unit; 0 or 1: set explicitly */
};

struct report {
    char *git_revision;
    char *git_branch;
    char *git_commit_date;
    char *date;        /* ISO 8601, UTC */
    int git_dirty;     /* 1: built from a tree with uncommitted changes, 0: clean, -1: unknown */
    char *source;      /* path or URL it was read from, NULL if built in memory */
    char *label;       /* short name in tables (a backend or variant), NULL: derived from source */
    char *source_name; /* last component of @source without ".json", the label's fallback */
    json_t *config;
    json_t *host;
    struct metric *metrics;
    size_t nmetrics;
    size_t cap;
    /* Open-addressing hash of metric names: slot holds a metric's index + 1, 0 is free. At
     * most half full, so a lookup costs O(1) and reading n metrics O(n), not O(n^2). */
    size_t *index;
    size_t index_cap; /* a power of two, 0 before the first metric */
};

/* What a report read from a file or URL may hold; past these it is refused with a message,
 * since a hostile or broken baseline must not stall or exhaust a CI gate. */
#define REPORT_MAX_RESULTS    1000000
#define REPORT_MAX_SAMPLES    100000
#define REPORT_MAX_ITERATIONS 100000

/**
 * report_new() - An empty report stamped with this build's git revision and the current time
 *
 * Return: new report, NULL on allocation failure
 */
struct report *report_new(void);

void report_free(struct report *r);

/**
 * report_add_sample() - Append one kept iteration's value to a metric, creating it if needed
 * @r:		Report
 * @name:	Metric name, e.g. "net_virtio-net_tcp_tx_gbps"
 * @unit:	Unit, e.g. "Gbps"; must match the unit the metric was created with
 * @value:	The sample
 * @err:	Error buffer of @errlen bytes
 *
 * Return: 0 on success, negative errno on failure (message in @err)
 */
int report_add_sample(struct report *r, const char *name, const char *unit, double value, char *err,
                      size_t errlen);

/**
 * report_set_config() - Attach the run's config object (test, backend, nic, ...); takes ownership
 */
void report_set_config(struct report *r, json_t *config);

/**
 * report_set_host() - Attach a host object; without it, report_write() fills it from the
 * running machine (kernel, CPU model, core count). Takes ownership.
 */
void report_set_host(struct report *r, json_t *host);

/**
 * report_write() - Write the report as JSON to @path ("-" for stdout)
 *
 * Return: 0 on success, negative errno on failure (message names the path)
 */
int report_write(const struct report *r, const char *path, char *err, size_t errlen);

/**
 * report_set_label() - Name the report in tables (e.g. "consomme", "tap-256k")
 *
 * Return: 0, or -ENOMEM
 */
int report_set_label(struct report *r, const char *label);

/**
 * report_label() - The report's name in tables: its label, else the file name of its source
 * without ".json", else "report"
 */
const char *report_label(const struct report *r);

/**
 * report_set_higher_is_better() - Override the direction derived from a metric's unit
 * @r:		Report
 * @name:	Existing metric
 * @higher:	true if a larger value is better
 *
 * Return: 0, or -ENOENT if no such metric (message in @err)
 */
int report_set_higher_is_better(struct report *r, const char *name, bool higher, char *err,
                                size_t errlen);

/**
 * report_find_metric() - Look a metric up by name
 *
 * Return: the metric, NULL if absent
 */
const struct metric *report_find_metric(const struct report *r, const char *name);

/**
 * unit_higher_is_better() - Whether a larger value of @unit is better
 * @unit:	Unit text: rates (Gbps, Mbps, pps, MiB/s, anything per second) are better higher;
 *		times (ms, us, ns, s), sizes (KiB, MiB, bytes) and counts of bad events
 *		("intervals" of a stall, retransmits) are better lower
 *
 * Return: true for rates, false otherwise
 */
bool unit_higher_is_better(const char *unit);

/**
 * report_stalls() - How many runs of a throughput metric stalled
 * @r:		Report
 * @name:	Throughput metric, e.g. "net_virtio-net_tcp_rx_gbps"
 * @stalled:	Runs with at least one stalled interval (unchanged if the report does not say)
 * @runs:	Runs counted, 0 if the companion has no samples (a plain report)
 *
 * The companion metric replaces the last "_"-part of @name with "_stalled_intervals"
 * (net_virtio-net_tcp_rx_gbps -> net_virtio-net_tcp_rx_stalled_intervals); each of its
 * samples is one run's count of 1-s intervals below a tenth of that run's median. Without
 * samples, @stalled is 1 when its mean is above zero (some run stalled, which is unknown).
 *
 * Return: true if @r has the companion metric
 */
bool report_stalls(const struct report *r, const char *name, size_t *stalled, size_t *runs);

#define STALL_METRIC_SUFFIX "_stalled_intervals"

/* What every process outside burette's tree spent over a sub-test, in percent of one CPU. */
#define OTHERS_CPU_METRIC_SUFFIX "_others_cpu_percent"

/* Other work above this share of the machine (percent of all its CPUs together) makes a run's
 * figures suspect: the note at a run's start and compare's busy-machine warning both draw the
 * line here. */
#define BUSY_MACHINE_PERCENT 25.0

/**
 * report_provenance() - One provenance field of a report as text, "unknown" when absent
 * @r:		Report
 * @field:	A provenance key of host (see the top of this file), "accel" (config),
 *		"git_revision" or "git_dirty"
 * @buf:	Output of @len bytes
 */
void report_provenance(const struct report *r, const char *field, char *buf, size_t len);

/**
 * metric_higher_is_better() - The metric's explicit direction, else the one of its unit
 */
bool metric_higher_is_better(const struct metric *m);

/**
 * report_host_json() - Describe the running machine: kernel, machine, CPU model, CPU count
 *
 * Return: new JSON object, NULL on allocation failure
 */
json_t *report_host_json(void);

/**
 * report_to_json() - The report as a JSON object (a new reference)
 *
 * Without a host object set, the running machine's is used.
 *
 * Return: JSON object, NULL on allocation failure
 */
json_t *report_to_json(const struct report *r);

/**
 * metric_samples_json() - A metric's samples as a report writes them: an array of numbers
 *
 * Every JSON form of a metric (the report's, a comparison's sides) carries them so.
 *
 * Return: new JSON array (empty for a summary-only metric), NULL on allocation failure
 */
json_t *metric_samples_json(const struct metric *m);

/**
 * report_from_json() - Build a report from parsed JSON, in burette's or OpenVMM's format
 * @root:	Parsed document
 * @source:	Where it came from, used in messages and as the default label
 * @out:	New report, owned by the caller
 *
 * Every structural problem is refused with a message naming @source and the offending
 * result: no "results" array, a result without name/unit/mean, a negative std_dev, samples
 * that are not finite numbers or disagree with "iterations", one metric name twice, more
 * results, samples or iterations than REPORT_MAX_*.
 *
 * Return: 0 on success, -EINVAL for a malformed report, -ENOMEM
 */
int report_from_json(const json_t *root, const char *source, struct report **out, char *err,
                     size_t errlen);

/**
 * report_read() - Read a report from a path or an http://, https:// or file:// URL
 * @source:	Path ("-" for stdin) or URL
 *
 * A JSON object with one key twice is refused (which one counts would be a guess). Stdin and
 * FIFOs get the same deadline as a download (fetch.h).
 * @out:	New report, owned by the caller
 *
 * Return: 0 on success, negative errno (message names @source and the problem)
 */
int report_read(const char *source, struct report **out, char *err, size_t errlen);

#endif /* BURETTE_REPORT_H */
