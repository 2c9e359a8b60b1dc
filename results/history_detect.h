/* SPDX-License-Identifier: MIT */
/*
 * history_detect - change points over the series of a history, and their verdicts
 *
 * Runs edivisive() over each series (never across series): its run means, or with
 * ed_options.on_samples every sample of every run (edivisive_samples()); labels each change
 * point with the revisions on both sides and whether it is a regression (the metric moved in
 * its bad direction), and renders the outcome as text, markdown (a CI job summary) or JSON.
 * The nightly gate is history_detect_gate(): a series of the gate's metrics (gate.h: by default
 * every result but the diagnostics) fails when its newest change point is a regression that begins within
 * the last K runs.
 */
#ifndef BURETTE_HISTORY_DETECT_H
#define BURETTE_HISTORY_DETECT_H

#include <stdbool.h>
#include <stdio.h>

#include "edivisive.h"
#include "gate.h"
#include "history.h"

struct history_change {
    size_t series; /* index into the detection's series */
    struct ed_change c;
    bool regression;
    bool recent; /* begins within the last K runs of its series */
};

struct history_detection {
    const struct history_series *series;
    size_t nseries;
    struct history_change *changes; /* grouped by series, oldest first within one */
    size_t nchanges;
    size_t last_runs; /* K of the gate */
    /* The metrics the gate judges: history_detect() sets the default, a caller may narrow or
     * widen it before history_detect_gate() */
    struct metric_gate gate;
};

/**
 * history_detect() - Find the change points of every series
 * @s:		Series, as history_load() gives them; must outlive @out
 * @last_runs:	K: a change point is recent when it begins within the last K runs
 *
 * Return: 0, -ENOMEM, or -EINVAL for bad options (message in @err)
 */
int history_detect(const struct history_series *s, size_t n, const struct ed_options *o,
                   size_t last_runs, struct history_detection *out, char *err, size_t errlen);

void history_detection_free(struct history_detection *d);

/**
 * history_detect_gate() - Whether some gated series' newest change point is a recent regression
 */
bool history_detect_gate(const struct history_detection *d);

/**
 * history_change_gated() - Whether change point @c would fail the gate: a recent regression,
 * the newest of a series whose metric the gate judges
 */
bool history_change_gated(const struct history_detection *d, size_t i);

/**
 * history_change_note() - What a verdict adds for change point @i: " (recent)" for a recent
 * regression, " (recent, outside the gate)" when its metric is not judged, else ""
 */
const char *history_change_note(const struct history_detection *d, size_t i);

/**
 * history_series_title() - "metric (backend, nic, transport; host)" for headings
 */
void history_series_title(char *buf, size_t len, const struct history_series *s);

/**
 * history_short_revision() - The first 12 characters of a revision, "unknown" if empty
 */
void history_short_revision(char *buf, size_t len, const char *revision);

#endif /* BURETTE_HISTORY_DETECT_H */
