/* SPDX-License-Identifier: MIT */
/*
 * run - what `burette run` was asked to do, and the entry point that does it
 *
 * The CLI turns the command line into a struct run_options (tests/run_options.h), validated
 * field by field, so everything past run_main() may trust it. The report's config is built
 * here, from the options and the backend registry: a run records what it used.
 */
#ifndef BURETTE_RUN_H
#define BURETTE_RUN_H

#include <stddef.h>

#include <jansson.h>

#include "run_options.h"

/**
 * run_main() - Carry out a validated `burette run`
 * @opts:	Options from the command line
 *
 * Return: process exit status (0 success, 1 the run failed, 2 bad input found late)
 */
int run_main(const struct run_options *opts);

/**
 * run_options_to_json() - The options as a report's "config" records them: test, backend,
 * nic, vmm, accel, vcpus, mem_mb, iterations, warmup, duration_s, streams, then the options of
 * the backends @opts->backend names, under their JSON keys. The run loop adds what it resolved
 * (the accelerator --accel auto chose, a variant's label) before report_set_config().
 *
 * Return: new JSON object, NULL on allocation failure
 */
json_t *run_options_to_json(const struct run_options *opts);

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
