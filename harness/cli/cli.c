/* SPDX-License-Identifier: MIT */
/*
 * cli - what the subcommands share in parsing their command lines; see cli.h.
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
#include "parse.h"
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

int cli_command_word(int argc, char **argv, const struct cli_command *cmds, size_t n)
{
    if (argc < 2)
        return CLI_WORD_MISSING;
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
        return CLI_WORD_HELP;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(argv[1], cmds[i].name))
            return (int)i;
    return CLI_WORD_UNKNOWN;
}

void cli_print_commands(FILE *f, const struct cli_command *cmds, size_t n)
{
    size_t width = 0;

    for (size_t i = 0; i < n; i++)
        if (strlen(cmds[i].name) > width)
            width = strlen(cmds[i].name);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-*s  %s\n", (int)width, cmds[i].name, cmds[i].summary);
}

#define CLI_MAX_OPTIONS 24
#define CLI_LONG_ONLY   256 /* getopt's value of a long-only option: CLI_LONG_ONLY + its index */

/* Check @value for @o and store it; Return: 0, or EXIT_USAGE after the message. */
static int store_value(const char *cmd, const struct cli_option *o, const char *value)
{
    unsigned long long count;
    double num;

    switch (o->value) {
    case CLI_FLAG:
        *(bool *)o->out = true;
        return 0;
    case CLI_FORMAT:
        if (cli_check_format(cmd, value))
            return EXIT_USAGE;
        /* fall through */
    case CLI_TEXT:
        *(const char **)o->out = value;
        return 0;
    case CLI_NUMBER:
        if (parse_double(value, o->min, o->max, &num) < 0 ||
            (o->exclusive && (num <= o->min || num >= o->max))) {
            if (o->what)
                return cli_usage_error(cmd, "--%s: '%s' is not %s", o->name, value, o->what);
            return cli_usage_error(cmd, "--%s: '%s' is not a number from %g to %g", o->name, value,
                                   o->min, o->max);
        }
        *(double *)o->out = num;
        return 0;
    case CLI_COUNT:
        if (parse_uint(value, (unsigned long long)o->min, (unsigned long long)o->max, &count))
            return cli_usage_error(cmd, "--%s: '%s' is not a whole number from %llu to %llu",
                                   o->name, value, (unsigned long long)o->min,
                                   (unsigned long long)o->max);
        *(size_t *)o->out = (size_t)count;
        return 0;
    }
    return 0;
}

bool cli_parse_options(const char *cmd, int argc, char **argv, const struct cli_option *opts,
                       size_t n, void (*usage)(FILE *), unsigned context, const char *context_name,
                       int *first, int *status)
{
    struct option longopts[CLI_MAX_OPTIONS + 2];
    char optstring[2 * CLI_MAX_OPTIONS + 4] = ":";
    size_t len = 1;
    int c;

    if (n > CLI_MAX_OPTIONS)
        abort(); /* a table this long is a programming error, caught by any test of the command */
    for (size_t i = 0; i < n; i++) {
        int has_arg = opts[i].value == CLI_FLAG ? no_argument : required_argument;

        longopts[i] = (struct option){opts[i].name, has_arg, NULL,
                                      opts[i].letter ? opts[i].letter : CLI_LONG_ONLY + (int)i};
        if (opts[i].letter) {
            optstring[len++] = (char)opts[i].letter;
            if (has_arg == required_argument)
                optstring[len++] = ':';
        }
    }
    longopts[n] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[n + 1] = (struct option){NULL, 0, NULL, 0};
    optstring[len++] = 'h';
    optstring[len] = '\0';

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
        const struct cli_option *o = NULL;

        if (c == 'h') {
            usage(stdout);
            *status = 0;
            return false;
        }
        for (size_t i = 0; i < n && !o; i++)
            if (longopts[i].val == c)
                o = &opts[i];
        if (!o) {
            *status = cli_getopt_error(cmd, c, argv);
            return false;
        }
        if (o->only && !(o->only & context)) {
            /* the word is the option's own, not the value getopt took after it */
            const char *word = argv[optind - 1 - (optarg && optarg == argv[optind - 1])];

            *status =
                cli_usage_error(cmd, "option '%s' does not apply to '%s'", word, context_name);
            return false;
        }
        *status = store_value(cmd, o, optarg);
        if (*status)
            return false;
    }
    if (!first && optind < argc) {
        *status = cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        return false;
    }
    if (first)
        *first = optind;
    return true;
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

void cli_free_reports(struct report **reports, size_t nread)
{
    for (size_t i = 0; i < nread; i++)
        report_free(reports[i]);
    free(reports);
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
