/* SPDX-License-Identifier: MIT */
/*
 * run - what `burette run` was asked to do, and the entry point that does it
 *
 * The CLI turns the command line into a struct run_options (measure/run_options.h), validated
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
 * run_settle() - What a run decides before anything starts: its QEMU, probed (a wrong binary is
 * refused here), and what its backend leaves open for that QEMU (consomme's transport)
 * @o:		One run's options, its variant applied; qemu_info and backend values are set
 * @err:	Error buffer of @errlen bytes: names the QEMU or option at fault and the fix
 * @errlen:	Size of @err
 *
 * A backend's notice (consomme falling back to stream) is printed on stderr once per QEMU
 * binary, even with -q, since it changes what is measured.
 *
 * Return: 0, or negative errno: bad input, the run should end with exit status 2
 */
int run_settle(struct run_options *o, char *err, size_t errlen);

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

/**
 * run_config_json() - A report's config: run_options_to_json() of @o, the accelerator used,
 * and for one of several runs its label, variant, order and the sequence of labels
 * @o:		The run's options (its variant applied)
 * @accel:	The accelerator it used ("tcg")
 * @label:	Its label, NULL for a plain run (then the last four are not used)
 * @variant:	The variant as written
 * @order:	"interleaved", "subtests" or "sequential" (run_order_name())
 * @sequence:	The labels of all runs, in the order they took turns
 * @n:		Their number
 *
 * Return: new JSON object, NULL on allocation failure
 */
json_t *run_config_json(const struct run_options *o, const char *accel, const char *label,
                        const char *variant, const char *order, const char *const *sequence,
                        size_t n);

#endif /* BURETTE_RUN_H */
