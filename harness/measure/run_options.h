/* SPDX-License-Identifier: MIT */
/*
 * run_options - what one run asks of a test: the validated options of `burette run`
 *
 * The CLI fills it field by field and refuses what is wrong, so everything from the run layer
 * down may trust it: names are known, numbers are in range, and every backend option holds a
 * value its parser accepted. It lives in the measure layer because the tests read it; the layers
 * above fill it.
 */
#ifndef BURETTE_RUN_OPTIONS_H
#define BURETTE_RUN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "backend.h"
#include "consomme/mtu.h"
#include "qemu.h"

#define RUN_SWEEP_MAX 8 /* values of --streams or --mtu in one run */
/* The run's --mtu takes consomme's range (passt's is the same; tap takes any of it). */
#define RUN_MTU_MIN CM_MTU_MIN
#define RUN_MTU_MAX CM_MTU_MAX

struct run_options {
    const char *test;    /* "boot", "network" or "latency" */
    const char *backend; /* a backend of the registry; before the runs are made, a list */
    const char *nic;     /* "virtio-net" ("vmbus" is parsed, then refused) */
    const char *accel;   /* "auto", "kvm", "tcg" */
    unsigned vcpus;
    unsigned mem_mb;
    unsigned iterations; /* kept samples per metric */
    unsigned warmup;     /* discarded iterations before them */
    unsigned duration_s; /* iperf3 -t, or the latency loop's time, per sub-test */
    unsigned streams;    /* iperf3 -P; with a sweep, its first value */
    /* --streams A,B,...: the network test runs once per value (n_streams >= 2), else 0 */
    unsigned stream_sweep[RUN_SWEEP_MAX];
    size_t n_streams;
    unsigned mtu; /* the guest NIC's MTU (--mtu), 0: the backend's own; with a sweep, the first */
    /* --mtu A,B,...: one guest per value, the network test run on each (n_mtus >= 2), else 0 */
    unsigned mtu_sweep[RUN_SWEEP_MAX];
    size_t n_mtus;
    unsigned rr_size;      /* latency: bytes of each request and reply */
    unsigned vm_instances; /* boots each run's kept iterations are spread over (1: one boot) */
    const char *output;    /* report path, NULL: no file */
    const char *format;    /* summary format on stdout: "text", "markdown", "json" */
    const char *log_dir;   /* console logs, raw iperf3 JSON; NULL: a fresh directory */
    const char *perf_dir;
    const char *qemu_user; /* --qemu-user: whom QEMU runs as when burette is root; NULL: nobody */
    bool quiet;
    struct backend_options backend_options; /* a value for every option of the registry */
    struct qemu_info qemu_info;             /* the QEMU the run uses, probed by run_settle() */
};

/**
 * run_options_default() - The options of a bare `burette run`: the network test of consomme,
 * virtio-net, --accel auto, 2 vCPUs, 1024 MiB, 5 iterations after 1 warmup, 10 s, 1 stream,
 * 1-byte latency messages, text summary, every backend option at its registry default
 * @o:		Receives them
 */
void run_options_default(struct run_options *o);

/**
 * run_options_sweep_json() - Record --streams and --mtu in a run's config (and --dry-run):
 * "streams" becomes the list of a sweep (a single value stays the number it always was), and
 * "mtu" is added when given, a number or a list
 * @o:		Options
 * @config:	The config object, with "streams" already set
 *
 * Return: 0, -ENOMEM
 */
int run_options_sweep_json(const struct run_options *o, json_t *config);

#endif /* BURETTE_RUN_OPTIONS_H */
