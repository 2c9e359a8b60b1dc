/* SPDX-License-Identifier: MIT */
/*
 * perf_test - what a test gives the one iteration loop (run/loop.h), as OpenVMM burette does it
 *
 * A test supplies struct perf_test_ops: setup() makes its private state (start a helper, a
 * backend...), run_part() does one part of an iteration (the network test: one sub-test at one
 * sweep point) and hands each figure it measured to perf_emit(), teardown() releases everything
 * setup() made. The loop calls setup once, every part of an iteration warmup + iterations
 * times, and teardown once — also after a failure or SIGINT/SIGTERM. Parts run in order within
 * a slot; with several runs taking turns by sub-test (--order subtests) the other runs' same
 * part comes between two parts. Figures of warmup iterations are shown but never reach the
 * report.
 *
 * Adding a test: implement the ops in harness/measure/test_<name>.c, declare them below, and add
 * one row to the table in run/run.c.
 */
#ifndef BURETTE_PERF_TEST_H
#define BURETTE_PERF_TEST_H

#include <stdbool.h>
#include <stddef.h>

#include "accel.h"
#include "image.h"
#include "run_options.h"

struct report;

/* What every test may use: the validated options and what run_main() resolved from them. */
struct perf_ctx {
    const struct run_options *opts;
    enum accel accel;
    const struct guest_image *image;
    const char *log_dir;       /* exists; console logs and raw outputs go here */
    unsigned hello_timeout_ms; /* 0: VM default; BURETTE_HELLO_TIMEOUT_S sets it */
};

/* One iteration in progress: where run_part() puts its figures. */
struct perf_iter {
    unsigned index; /* 0-based over every turn of the run, warmups of each instance included */
    bool warmup;
    unsigned number;   /* 1-based among the run's warmups, or among its kept iterations */
    unsigned of;       /* how many of those the run has */
    unsigned instance; /* 1-based: which boot of the run's guest (--vm-instances) */
    char name[64];     /* e.g. "boot-3", for log file names */
    /* private to the loop */
    struct report *report;
    char figures[1024]; /* progress only: the latency test's fourteen metrics need 750 */
};

struct perf_test_ops {
    const char *name;
    /* The backend the test always uses whatever --backend says (boot: "slirp"), or NULL. */
    const char *fixed_backend;
    /* Whether --perf-dir means something to it (perf record of QEMU and the backend). */
    bool records_profiles;
    /**
     * setup() - Prepare the test; *state is passed to the other ops
     * Return: 0 or negative errno (message in @err)
     */
    int (*setup)(const struct perf_ctx *ctx, void **state, char *err, size_t errlen);
    /* parts() - How many parts one iteration has, from the options alone; NULL: one */
    unsigned (*parts)(const struct perf_ctx *ctx);
    /**
     * run_part() - Part @part (0-based) of one iteration: measure, then perf_emit() each figure
     * Return: 0 or negative errno; -ECANCELED when interrupted
     */
    int (*run_part)(void *state, const struct perf_ctx *ctx, struct perf_iter *it, unsigned part,
                    char *err, size_t errlen);
    /* teardown() - Release what setup() made; called once whenever setup() succeeded. NULL
     * when setup() keeps nothing (the boot test: each iteration boots and ends its own guest) */
    void (*teardown)(void *state);
};

/**
 * perf_emit() - Record one figure of the current iteration
 * @it:		Iteration
 * @metric:	Metric name, e.g. "boot_time_ms" or "net_virtio-net_tcp_tx_gbps"
 * @unit:	Unit, e.g. "ms", "Gbps"
 * @value:	The figure
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 or negative errno (the report refused the sample)
 */
int perf_emit(struct perf_iter *it, const char *metric, const char *unit, double value, char *err,
              size_t errlen);

/**
 * perf_emit_detail() - perf_emit() for a figure the report keeps but the progress line leaves
 * out (the network test's CPU breakdown: a dozen figures per sub-test would bury throughput)
 *
 * Return: as perf_emit()
 */
int perf_emit_detail(struct perf_iter *it, const char *metric, const char *unit, double value,
                     char *err, size_t errlen);

/* The tests (one row each in run/run.c's table). */
extern const struct perf_test_ops boot_test_ops;
extern const struct perf_test_ops network_test_ops;
extern const struct perf_test_ops latency_test_ops;

#endif /* BURETTE_PERF_TEST_H */
