/* SPDX-License-Identifier: MIT */
/*
 * run - what `burette run` was asked to do, and the entry point that does it
 *
 * cmd_run.c turns the command line into a struct run_options, validated field by field, so
 * everything past run_main() may trust it: names are known, numbers are in range.
 */
#ifndef BURETTE_RUN_H
#define BURETTE_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Per-direction TCP buffer bounds of consomme, in bytes: fixed when initial == max. */
struct tcp_buffer_bounds {
    uint64_t initial;
    uint64_t max;
};

struct run_options {
    const char *test;    /* "boot" or "network" */
    const char *backend; /* "consomme", "tap", "slirp", "passt" */
    const char *nic;     /* "virtio-net" ("vmbus" is parsed, then refused) */
    const char *accel;   /* "auto", "kvm", "tcg" */
    unsigned vcpus;
    unsigned mem_mb;
    unsigned iterations; /* kept samples per metric */
    unsigned warmup;     /* discarded iterations before them */
    unsigned duration_s; /* iperf3 -t per sub-test */
    unsigned streams;    /* iperf3 -P */
    const char *output;  /* report path, NULL: no file */
    const char *format;  /* summary format on stdout: "text", "markdown", "json" */
    const char *log_dir; /* console logs, raw iperf3 JSON; NULL: a fresh directory */
    const char *perf_dir;
    bool quiet;
    struct tcp_buffer_bounds tcp_rx;
    struct tcp_buffer_bounds tcp_tx;
};

/**
 * run_main() - Carry out a validated `burette run`
 * @opts:	Options from the command line
 *
 * Return: process exit status (0 success, 1 the run failed, 2 bad input found late)
 */
int run_main(const struct run_options *opts);

/**
 * run_options_to_json() - The report's "config" object for @opts: test, backend, nic, vmm,
 * accel, vcpus, mem_mb, iterations, warmup, duration_s, streams, and where @opts->backend
 * names consomme tcp_rx_buffer and tcp_tx_buffer ({initial, max} in bytes). The run loop may
 * add or refine fields (the accelerator --accel auto resolved to) before report_set_config().
 *
 * Return: new JSON object, NULL on allocation failure
 */
json_t *run_options_to_json(const struct run_options *opts);

/**
 * run_options_add_tcp_buffers() - Add tcp_rx_buffer and tcp_tx_buffer ({initial, max} in
 * bytes) to @obj when @o->backend names consomme, the only backend that uses them
 * @obj:	JSON object (a report config, a run of --dry-run)
 * @o:		Options; backend is one name or a comma-separated list
 *
 * Return: 0 (also when nothing was added), -ENOMEM
 */
int run_options_add_tcp_buffers(json_t *obj, const struct run_options *o);

/**
 * run_prepare_log_dir() - Make @dir (and its parents), or a fresh one under $TMPDIR
 * @dir:	Directory wanted, NULL for a fresh burette-DATE-XXXXXX
 * @out:	Receives the directory's path
 * @outlen:	Size of @out
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 or negative errno (message names the directory)
 */
int run_prepare_log_dir(const char *dir, char *out, size_t outlen, char *err, size_t errlen);

enum accel;
struct guest_image;

/**
 * run_failure_status() - Say why a run failed, and the exit status it ends with
 * @rc:		Negative errno the run failed with
 * @err:	Its message
 * @stopped:	What was torn down, for the message on a signal ("guest and children")
 *
 * Return: 128 + the signal when SIGINT/SIGTERM cancelled the run, 1 otherwise
 */
int run_failure_status(int rc, const char *err, const char *stopped);

/**
 * run_prepare_guest() - What every run needs before its first guest boots
 * @o:			Options (accel)
 * @hello_timeout_ms:	Set from BURETTE_HELLO_TIMEOUT_S; left as it is when that is unset
 * @accel:		The accelerator to use (a notice says why when auto chose TCG)
 * @image:		The guest image found
 *
 * Prints its own message on failure, so single and multi-backend runs say the same thing.
 *
 * Return: 0, or the exit status to end with (2 bad input, 1 failure)
 */
int run_prepare_guest(const struct run_options *o, unsigned *hello_timeout_ms, enum accel *accel,
                      struct guest_image *image);

#endif /* BURETTE_RUN_H */
