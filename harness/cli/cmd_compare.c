/* SPDX-License-Identifier: MIT */
/*
 * cmd_compare - `burette compare BASELINE CANDIDATE [CANDIDATE...]`: the CI regression gate
 *
 * Reads every report first (paths or URLs), so a bad input is found before anything is
 * printed, and exits 2 naming the file. Then compares each candidate with the baseline and
 * prints the table; with --fail-on-regression, a regressed metric of the gate (gate.h: by
 * default every result but the diagnostics) makes the exit status 1.
 * With --require-detectable, a rate metric whose test could not have seen a change of that
 * size makes it 3 (inconclusive) unless 1 applies: a nightly gate that cannot see the drop it
 * guards against must not pass as green.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "compare.h"
#include "errbuf.h"
#include "parse.h"
#include "render.h"
#include "report.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: burette compare [OPTIONS] BASELINE CANDIDATE [CANDIDATE...]\n"
            "\n"
            "Compare benchmark reports metric by metric: each CANDIDATE against BASELINE.\n"
            "Reports are paths ('-' for stdin) or http://, https://, file:// URLs, in burette's\n"
            "format or OpenVMM burette's plain one (no samples), mixed freely.\n"
            "\n"
            "Options:\n"
            "  -o, --output FILE        write the comparison to FILE instead of stdout\n"
            "  -f, --format FORMAT      %s (default text)\n"
            "  -t, --threshold PCT      smallest change that counts, in percent (default %g)\n"
            "  -a, --alpha P            significance level of the tests (default %g)\n"
            "      --fail-on-regression exit 1 if a metric of the gate regressed\n"
            "      --gate SPEC          what --fail-on-regression judges: 'results' (default:\n"
            "                           all but diagnostics: _cpu_percent, _ms_per_gbit,\n"
            "                           _retransmits, _lost_percent, _lost,\n"
            "                           _stalled_intervals), 'rates' (_gbps, _pps, _per_s),\n"
            "                           'all', or metric-name globs, comma-separated; the\n"
            "                           rest are shown, and named when they regress\n"
            "      --unpaired           never pair samples round by round, even for reports\n"
            "                           of one interleaved run\n"
            "      --require-detectable PCT\n"
            "                           exit 3 (inconclusive) if a throughput or rate metric\n"
            "                           (_gbps, _pps, _per_s) could not have seen a change of\n"
            "                           PCT %% 8 times in 10 at its spread and run count\n"
            "  -h, --help               show this help\n"
            "\n"
            "Verdicts: 'regressed' when the change is significant at alpha AND worse than the\n"
            "threshold in the metric's bad direction; 'improved' likewise in the good one;\n"
            "'noisy' when significant but within the threshold, or too few samples to tell;\n"
            "'unchanged' otherwise, and for one constant on both sides. p-values: a permutation\n"
            "test on the raw samples, or Welch's t-test from mean, std_dev and iterations when a\n"
            "report has no samples. Two reports of one interleaved `burette run` (same\n"
            "config.run_id) with at least 8 rounds (at alpha 0.01) are paired round by round: a\n"
            "sign-flip test on the per-round ratios, marked (pd). Warnings follow the table:\n"
            "runs that stalled, reports that differ in QEMU, CPU, accelerator, guest image,\n"
            "..., or come from a dirty tree, and metrics a required resolution was not reached\n"
            "for (with the runs that would reach it). The JSON format gives every metric's\n"
            "resolution (detectable_pct).\n"
            "Reports on stdin or a FIFO must arrive within 60 s.\n"
            "\n"
            "Exit status: 0 no regression (or regressions without --fail-on-regression),\n"
            "1 a regression with --fail-on-regression, or the output could not be written,\n"
            "2 bad usage or bad input (unreadable, not JSON, no results, mismatched units),\n"
            "3 no regression, but a required resolution was not reached.\n",
            renderer_names(), COMPARE_DEFAULT_THRESHOLD, COMPARE_DEFAULT_ALPHA);
}

int cmd_compare(int argc, char **argv)
{
    const char *output = NULL, *format = "text";
    struct report **reports = NULL;
    struct comparison *cmp = NULL;
    struct compare_options opts;
    bool fail_on_regression = false;
    const char *gate = NULL;
    char err[ERRBUF_LEN];
    size_t nreports = 0;
    FILE *out = stdout;
    int first, status = 0;
    const struct cli_option options[] = {
        CLI_OPTION("output", 'o', CLI_TEXT, &output),
        CLI_OPTION("format", 'f', CLI_FORMAT, &format),
        CLI_OPTION("threshold", 't', CLI_NUMBER, &opts.threshold_pct, .min = 0, .max = 1e6,
                   .what = "a percentage (a number >= 0, e.g. 5)"),
        CLI_OPTION("alpha", 'a', CLI_NUMBER, &opts.alpha, .min = 0, .max = 1, .exclusive = true,
                   .what = "a probability strictly between 0 and 1"),
        CLI_OPTION("fail-on-regression", 0, CLI_FLAG, &fail_on_regression),
        CLI_OPTION("unpaired", 0, CLI_FLAG, &opts.unpaired),
        CLI_OPTION("gate", 0, CLI_TEXT, &gate),
        CLI_OPTION("require-detectable", 0, CLI_NUMBER, &opts.require_detectable_pct, .min = 0,
                   .max = 100, .exclusive = true,
                   .what = "a percentage above 0 and below 100 (e.g. 10)"),
    };

    compare_options_init(&opts);
    if (!cli_parse_options("compare", argc, argv, options, sizeof(options) / sizeof(options[0]),
                           usage, 0, NULL, &first, &status))
        return status;
    if (argc - first < 2)
        return cli_usage_error("compare", "needs a BASELINE and at least one CANDIDATE report");
    if (gate && metric_gate_parse(&opts.gate, gate, err, sizeof(err)))
        return cli_usage_error("compare", "%s", err);

    status = cli_read_reports("compare", argv + first, argc - first, &reports, &nreports);
    if (status)
        goto out;
    if (compare_reports(reports[0], (const struct report *const *)reports + 1, nreports - 1, &opts,
                        &cmp, err, sizeof(err)) < 0) {
        fprintf(stderr, "burette compare: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    status = cli_open_output("compare", output, &out);
    if (status)
        goto out;
    if (render_comparison(format, out, cmp, err, sizeof(err)) < 0) {
        fprintf(stderr, "burette compare: %s%s%s\n", output ? output : "", output ? ": " : "", err);
        status = 1;
        goto out;
    }
    if (cmp->regressed && fail_on_regression) {
        fprintf(stderr, "burette compare: %zu metric%s of the gate regressed\n", cmp->regressed,
                cmp->regressed == 1 ? "" : "s");
        status = 1;
    } else if (cmp->undetectable) {
        fprintf(stderr,
                "burette compare: inconclusive: %zu throughput or rate metric%s could not have "
                "seen a %g%% change (the warnings say how many runs would)\n",
                cmp->undetectable, cmp->undetectable == 1 ? "" : "s", opts.require_detectable_pct);
        status = EXIT_INCONCLUSIVE;
    }
out:
    status = cli_close_output("compare", output, out, status);
    comparison_free(cmp);
    cli_free_reports(reports, nreports);
    return status;
}
