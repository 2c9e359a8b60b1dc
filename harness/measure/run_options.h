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

#include "backend.h"
#include "qemu.h"

struct run_options {
    const char *test;    /* "boot", "network" or "latency" */
    const char *backend; /* a backend of the registry; before the runs are made, a list */
    const char *nic;     /* "virtio-net" ("vmbus" is parsed, then refused) */
    const char *accel;   /* "auto", "kvm", "tcg" */
    unsigned vcpus;
    unsigned mem_mb;
    unsigned iterations;   /* kept samples per metric */
    unsigned warmup;       /* discarded iterations before them */
    unsigned duration_s;   /* iperf3 -t, or the latency loop's time, per sub-test */
    unsigned streams;      /* iperf3 -P */
    unsigned rr_size;      /* latency: bytes of each request and reply */
    unsigned vm_instances; /* boots each run's kept iterations are spread over (1: one boot) */
    const char *output;    /* report path, NULL: no file */
    const char *format;    /* summary format on stdout: "text", "markdown", "json" */
    const char *log_dir;   /* console logs, raw iperf3 JSON; NULL: a fresh directory */
    const char *perf_dir;
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

#endif /* BURETTE_RUN_OPTIONS_H */
