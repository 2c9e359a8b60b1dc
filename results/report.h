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

struct report;

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
int report_add_sample(struct report *r, const char *name, const char *unit, double value,
                      char *err, size_t errlen);

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

#endif /* BURETTE_REPORT_H */
