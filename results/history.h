/* SPDX-License-Identifier: MIT */
/*
 * history - the results history: every night's report in a database, read back as series
 *
 * The store behind `burette history`. A database is SQLite (a file path, the default) or
 * PostgreSQL (a postgresql:// or postgres:// URL); both hold the same three tables:
 *
 *   runs    one per report added: its revision, branch, dates, host fingerprint, and the report
 *           itself as JSON (so `export` gives back what was added), keyed by a digest of that
 *           JSON: adding the same report twice keeps one;
 *   series  one per metric x config x host fingerprint: the config is the report's config
 *           without the keys that only change how precise a run is (iterations, warmup) or where
 *           its files went (log_dir, perf_dir, output); the fingerprint is CPU model, core count
 *           and QEMU version ("unknown" where a report does not say). Runs on different
 *           machines or QEMUs never share a series;
 *   results one per run and series: the summary statistics and the raw samples.
 *
 * A series is read back oldest first (by report date, then by the order reports were added).
 */
#ifndef BURETTE_HISTORY_H
#define BURETTE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "report.h"

struct history;

/* Which runs and series a command looks at; NULL members match everything. */
struct history_filter {
    const char *metric;  /* exact metric name */
    const char *branch;  /* exact git branch of the run */
    const char *host;    /* substring of the host fingerprint */
    const char *backend; /* exact config backend */
    const char *since;   /* runs dated at or after this ISO 8601 date or time */
};

struct history_point {
    long long run_id;
    char *date;
    char *revision;
    char *branch;
    long iterations;
    double mean, std_dev, ci_low, ci_high; /* NAN where the report had none */
    double *samples;
    size_t nsamples;
};

struct history_series {
    char *metric;
    char *unit;
    bool higher_is_better;
    char *config_key; /* canonical JSON of the config that defines the series */
    char *host_key;   /* "CPU model, N cores, QEMU version" */
    char *test, *backend, *nic, *transport;
    struct history_point *points; /* oldest first */
    size_t npoints, cap;
};

/**
 * history_open() - Open a history database
 * @url:	A file path (SQLite, "sqlite:" prefix optional) or a postgresql:// URL
 * @create:	Create the database and its tables if missing (adding); else a missing SQLite
 *		file is an error that says how to start one
 *
 * Return: 0, or a negative errno with a message naming the database and what to do
 */
int history_open(const char *url, bool create, struct history **out, char *err, size_t errlen);

void history_close(struct history *h);

/**
 * history_add() - Store one report, unless the same report is already stored
 * @added:	Set to false when it was already there
 *
 * Reports without a host object are stored with an empty one (fingerprint "unknown"), never
 * with the machine that adds them. Call between history_begin() and history_commit() to add
 * many at once.
 *
 * Return: 0, -EINVAL for a report without a date, or a database error (message in @err)
 */
int history_add(struct history *h, struct report *r, bool *added, char *err, size_t errlen);

int history_begin(struct history *h, char *err, size_t errlen);
int history_commit(struct history *h, char *err, size_t errlen);
void history_rollback(struct history *h);

/**
 * history_load() - Read every series and its points that match @f, series in a stable order
 *
 * A series whose points the filter removes all of is left out.
 *
 * Return: 0 or a negative errno (message in @err); free with history_series_free()
 */
int history_load(struct history *h, const struct history_filter *f, struct history_series **out,
                 size_t *nout, char *err, size_t errlen);

void history_series_free(struct history_series *s, size_t n);

/**
 * history_export() - The stored reports of the runs that match @f, oldest first, as a JSON array
 *
 * A run matches when it has at least one result in a series that @f selects.
 *
 * Return: 0 or a negative errno (message in @err)
 */
int history_export(struct history *h, const struct history_filter *f, json_t **out, char *err,
                   size_t errlen);

/**
 * history_host_key() - The host fingerprint of a report's host object (NULL: all unknown)
 *
 * Return: new string, NULL on allocation failure
 */
char *history_host_key(const json_t *host);

/**
 * history_config_key() - The canonical JSON of the config keys that define a series
 *
 * Return: new string, NULL on allocation failure
 */
char *history_config_key(const json_t *config);

#endif /* BURETTE_HISTORY_H */
