/* SPDX-License-Identifier: MIT */
/*
 * multi_run - `burette run` with several backends or named variants (variants.h): one run
 * and one report per variant, interleaved per iteration (or per sub-test), and one comparison
 * at the end
 *
 * cmd_run.c collects the --backend list and every --variant into struct multi_options while
 * parsing, then multi_options_finish() fixes the runs: the --backend list first (when given,
 * or when no --variant was), then the variants in command-line order. The first run is the
 * baseline of the comparison. multi_run_main() and run_main() are both in run.c: a plain
 * run and several share one start-up, one loop (loop.h) and one finish.
 */
#ifndef BURETTE_MULTI_RUN_H
#define BURETTE_MULTI_RUN_H

#include <stdbool.h>

#include <jansson.h>

#include "run.h"
#include "gate.h"
#include "loop.h"
#include "variants.h"

struct multi_options {
    struct variant_list variants; /* from --variant, in order */
    bool backend_given;           /* --backend was on the command line */
    enum run_order order;
    bool fail_on_regression;
    struct metric_gate gate;       /* --gate for the comparison, zero for the default */
    double require_detectable_pct; /* --require-detectable, 0 for none */
    struct variant_list runs;      /* set by multi_options_finish() */
};

/**
 * multi_options_finish() - Fix the list of runs once the command line is parsed
 * @m:		Collected options
 * @o:		The run's options (@o->backend: the --backend list, or the default)
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0, or negative errno for a bad --backend list or a label used twice
 */
int multi_options_finish(struct multi_options *m, const struct run_options *o, char *err,
                         size_t errlen);

/**
 * multi_run_wanted() - Whether @m asks for more than the single plain run run_main() does
 * @m:		Finished options
 *
 * Return: true with several runs or any --variant
 */
bool multi_run_wanted(const struct multi_options *m);

/**
 * multi_runs_json() - The runs as --dry-run shows them: [{label, variant, backend, the options
 * of its backend (settled: run_settle()), qemu_version}, ...]
 * @m:		Finished options
 * @o:		The run's global options
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: new JSON array, NULL when a run cannot be settled (message in @err) or on
 * allocation failure
 */
json_t *multi_runs_json(const struct multi_options *m, const struct run_options *o, char *err,
                        size_t errlen);

/**
 * multi_run_main() - Carry out a `burette run` of several backends or variants
 * @o:		The run's global options (-o names a directory when there are several runs)
 * @m:		Finished options
 *
 * Return: process exit status: 0 success; 1 a run failed (every VM, backend and helper is
 * stopped first), or a regression with --fail-on-regression; 2 bad input found late; 128 +
 * signal after SIGINT/SIGTERM
 */
int multi_run_main(const struct run_options *o, const struct multi_options *m);

#endif /* BURETTE_MULTI_RUN_H */
