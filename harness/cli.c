/* SPDX-License-Identifier: MIT */
/*
 * cli - shared command-line error reporting of the subcommands; see cli.h.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

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
