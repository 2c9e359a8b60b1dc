/* SPDX-License-Identifier: MIT */
/*
 * cli - shared command-line error reporting of the subcommands; see cli.h.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "errbuf.h"
#include "render.h"
#include "report.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "burette %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'burette %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int cli_getopt_error(const char *cmd, int c, char **argv)
{
    /* For a long option, optopt is 0 and the offending word is the last one consumed; for a
     * short one in a cluster ("-qz"), optopt names the letter. */
    const char *word = argv[optind - 1];
    bool is_long = word && word[0] == '-' && word[1] == '-';
    int len = is_long ? (int)strcspn(word, "=") : 0;

    if (c == ':') {
        if (is_long)
            return cli_usage_error(cmd, "option '%.*s' needs a value", len, word);
        return cli_usage_error(cmd, "option '-%c' needs a value", optopt);
    }
    /* A known long option given "=value" it does not take: getopt names it in optopt. */
    if (is_long && optopt)
        return cli_usage_error(cmd, "option '%.*s' takes no value", len, word);
    if (is_long)
        return cli_usage_error(cmd, "unknown option '%s'", word);
    return cli_usage_error(cmd, "unknown option '-%c'", optopt);
}

int cli_check_format(const char *cmd, const char *format)
{
    if (renderer_find(format))
        return 0;
    return cli_usage_error(cmd, "--format: unknown format '%s' (available: %s)", format,
                           renderer_names());
}

int cli_read_reports(const char *cmd, char **paths, int npaths, struct report ***reports,
                     size_t *nread)
{
    char err[ERRBUF_LEN];

    *nread = 0;
    *reports = calloc((size_t)npaths, sizeof(**reports));
    if (!*reports) {
        fprintf(stderr, "burette %s: out of memory\n", cmd);
        return 1;
    }
    for (int i = 0; i < npaths; i++) {
        if (report_read(paths[i], &(*reports)[*nread], err, sizeof(err)) < 0) {
            fprintf(stderr, "burette %s: %s\n", cmd, err);
            return EXIT_USAGE;
        }
        (*nread)++;
    }
    return 0;
}

int cli_open_output(const char *cmd, const char *output, FILE **out)
{
    *out = stdout;
    if (!output || !strcmp(output, "-"))
        return 0;
    *out = fopen(output, "we");
    if (!*out) {
        fprintf(stderr, "burette %s: %s: cannot create: %s\n", cmd, output, strerror(errno));
        *out = stdout;
        return 1;
    }
    return 0;
}

int cli_close_output(const char *cmd, const char *output, FILE *out, int status)
{
    if (out != stdout && fclose(out) == EOF && !status) {
        fprintf(stderr, "burette %s: %s: cannot write: %s\n", cmd, output, strerror(errno));
        status = 1;
    }
    return status;
}
