/* SPDX-License-Identifier: MIT */
/*
 * cmd_report - `burette report FILE...`: re-render existing reports without rerunning anything
 *
 * Reads every report (paths or URLs, either format) before printing, so a bad one is named
 * and nothing half-printed; then prints the summary of all of them in the chosen format.
 */
#include <errno.h>
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
    const char *output = NULL, *format = "text";
    struct report **reports = NULL;
    char err[ERRBUF_LEN];
    size_t n = 0;
    FILE *out = stdout;
    int first, status = 0;
    const struct cli_option options[] = {
        CLI_OPTION("output", 'o', CLI_TEXT, &output),
        CLI_OPTION("format", 'f', CLI_FORMAT, &format),
    };

    if (!cli_parse_options("report", argc, argv, options, sizeof(options) / sizeof(options[0]),
                           usage, 0, NULL, &first, &status))
        return status;
    if (first >= argc)
        return cli_usage_error("report", "needs at least one REPORT");

    status = cli_read_reports("report", argv + first, argc - first, &reports, &n);
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
    cli_free_reports(reports, n);
    return status;
}
