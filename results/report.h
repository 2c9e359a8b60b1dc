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
 * ci95_low/ci95_high, higher_is_better per result, and config/host at the top level.
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
    char *source;      /* path or URL it was read from, NULL if built in memory */
    char *label;       /* short name in tables (a backend or variant), NULL: derived from source */
    char *source_name; /* last component of @source without ".json", the label's fallback */
    json_t *config;
    json_t *host;
    struct metric *metrics;
    size_t nmetrics;
    size_t cap;
};

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
 *		times (ms, us, ns, s) and sizes (KiB, MiB, bytes) are better lower
 *
 * Return: true for rates, false otherwise
 */
bool unit_higher_is_better(const char *unit);

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
 * report_from_json() - Build a report from parsed JSON, in burette's or OpenVMM's format
 * @root:	Parsed document
 * @source:	Where it came from, used in messages and as the default label
 * @out:	New report, owned by the caller
 *
 * Every structural problem is refused with a message naming @source and the offending
 * result: no "results" array, a result without name/unit/mean, a negative std_dev, samples
 * that are not finite numbers or disagree with "iterations", one metric name twice.
 *
 * Return: 0 on success, -EINVAL for a malformed report, -ENOMEM
 */
int report_from_json(const json_t *root, const char *source, struct report **out, char *err,
                     size_t errlen);

/**
 * report_read() - Read a report from a path or an http://, https:// or file:// URL
 * @source:	Path ("-" for stdin) or URL
 * @out:	New report, owned by the caller
 *
 * Return: 0 on success, negative errno (message names @source and the problem)
 */
int report_read(const char *source, struct report **out, char *err, size_t errlen);

#endif /* BURETTE_REPORT_H */
