/* SPDX-License-Identifier: MIT */
/*
 * cmd_report - `burette report FILE...`: re-render existing reports without rerunning anything
 *
 * Reads every report (paths or URLs, either format) before printing, so a bad one is named
 * and nothing half-printed; then prints the summary of all of them in the chosen format.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "errbuf.h"
#include "render.h"
#include "report.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "Usage: burette report [OPTIONS] REPORT...\n"
        "\n"
        "Print the summary of one or more reports again, in any format. Reports are paths\n"
        "('-' for stdin) or http://, https://, file:// URLs, in burette's format or OpenVMM\n"
        "burette's plain one; on stdin or a FIFO they must arrive within 60 s. A report with\n"
        "stalled runs (1-s intervals below 10%% of the median) has them named after the table.\n"
        "\n"
        "Options:\n"
        "  -o, --output FILE    write to FILE instead of stdout\n"
        "  -f, --format FORMAT  %s (default text); json of one report is the\n"
        "                       report itself, of several {\"reports\": [...]}\n"
        "  -h, --help           show this help\n"
        "\n"
        "Exit status: 0 success, 1 the output could not be written, 2 bad usage or bad input.\n",
        renderer_names());
}

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *output = NULL, *format = "text";
    struct report **reports = NULL;
    char err[ERRBUF_LEN];
    size_t n = 0;
    FILE *out = stdout;
    int c, status = 0;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case 'f':
            if (cli_check_format("report", optarg))
                return EXIT_USAGE;
            format = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return cli_getopt_error("report", c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error("report", "needs at least one REPORT");

    status = cli_read_reports("report", argv + optind, argc - optind, &reports, &n);
    if (status)
        goto out;
    status = cli_open_output("report", output, &out);
    if (status)
        goto out;
    if (render_reports(format, out, (const struct report *const *)reports, n, err, sizeof(err)) <
        0) {
        fprintf(stderr, "burette report: %s%s%s\n", output ? output : "", output ? ": " : "", err);
        status = 1;
    }
out:
    status = cli_close_output("report", output, out, status);
    for (size_t i = 0; i < n; i++)
        report_free(reports[i]);
    free(reports);
    return status;
}
