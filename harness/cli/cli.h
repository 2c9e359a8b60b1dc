/* SPDX-License-Identifier: MIT */
/*
 * cli - what the subcommands share in parsing their command lines
 *
 * Every bad flag or value ends the same way: one line naming the flag and the problem, the
 * hint "Try 'burette CMD --help'.", exit status 2. A subcommand describes its options as a
 * table of struct cli_option and cli_parse_options() runs getopt over it; a command word
 * (`burette NAME`, `burette history NAME`) is looked up in a table of struct cli_command.
 * `burette run` keeps its own getopt loop: its options come from the backend registry.
 */
#ifndef BURETTE_CLI_H
#define BURETTE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/**
 * cli_usage_error() - Print "burette CMD: MESSAGE" and the help hint to stderr
 * @cmd:	Subcommand name
 * @fmt:	printf-style message
 *
 * Return: EXIT_USAGE, for "return cli_usage_error(...)"
 */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * cli_getopt_error() - Report what getopt_long() refused ('?' or ':' returned)
 * @cmd:	Subcommand name
 * @c:		What getopt_long() returned; the optstring must start with ':'
 * @argv:	The argument vector given to getopt_long()
 *
 * Return: EXIT_USAGE
 */
int cli_getopt_error(const char *cmd, int c, char **argv);

/* One row of a command table: `burette NAME` or `burette history NAME`. */
struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv); /* what runs it, or NULL where the caller uses @id */
    int id;
    const char *summary; /* one line for the usage text */
};

/* What cli_command_word() returns besides an index. */
enum { CLI_WORD_UNKNOWN = -1, CLI_WORD_MISSING = -2, CLI_WORD_HELP = -3 };

/**
 * cli_command_word() - Which row of @cmds argv[1] names
 * @argc:	Argument count
 * @argv:	Argument vector; argv[1] is the command word
 * @cmds:	The table
 * @n:		Its rows
 *
 * Return: the row's index; CLI_WORD_MISSING without a word, CLI_WORD_HELP for "--help", "-h"
 * or "help", CLI_WORD_UNKNOWN for any other word
 */
int cli_command_word(int argc, char **argv, const struct cli_command *cmds, size_t n);

/**
 * cli_print_commands() - Print the rows of a command table, one "  NAME  SUMMARY" each
 * @f:		Where to
 * @cmds:	The table
 * @n:		Its rows
 *
 * The summaries start two columns past the longest name, so a new row never breaks the
 * alignment.
 */
void cli_print_commands(FILE *f, const struct cli_command *cmds, size_t n);

/* What a cli_option takes. */
enum cli_value {
    CLI_FLAG,   /* no value; sets a bool */
    CLI_TEXT,   /* any text; sets a const char * to it */
    CLI_FORMAT, /* a renderer's name (cli_check_format()); sets a const char * */
    CLI_NUMBER, /* a number in [min, max] (or (min, max) if @exclusive); sets a double */
    CLI_COUNT,  /* a whole number in [min, max]; sets a size_t */
};

/* One option of a subcommand; -h/--help is always there and need not be listed. */
struct cli_option {
    const char *name; /* the long name, without "--" */
    int letter;       /* the short option, or 0 */
    enum cli_value value;
    void *out;        /* bool *, const char **, double * or size_t *, as @value says */
    double min, max;  /* CLI_NUMBER, CLI_COUNT: the accepted range */
    bool exclusive;   /* CLI_NUMBER: the bounds themselves are refused */
    const char *what; /* CLI_NUMBER: what the value must be, for the message ("a
                       * percentage"); NULL: "a number from MIN to MAX" */
    unsigned only;    /* the contexts (cli_parse_options()'s @context bits) it applies in;
                       * 0: all */
};

/* One row of an option table, as git's OPT_*() macros write them: CLI_OPTION("output", 'o',
 * CLI_TEXT, &output), any other field after the four (.min = 1, .max = 100, .only = ...). */
#define CLI_OPTION(name_, letter_, value_, out_, ...)                                              \
    {                                                                                              \
        .name = (name_), .letter = (letter_), .value = (value_), .out = (out_), __VA_ARGS__        \
    }

/**
 * cli_parse_options() - Run getopt over a subcommand's option table
 * @cmd:	Subcommand name, for messages ("compare", "history add")
 * @argc:	Argument count; argv[0] is the subcommand's name
 * @argv:	Argument vector
 * @opts:	The options
 * @n:		How many (at most 24)
 * @usage:	Prints the help, for -h/--help
 * @context:	With the options' @only: which options apply here (0 when none is restricted)
 * @context_name: What @context is called, for "option '--x' does not apply to 'NAME'"
 * @first:	Set to the index of the first operand; NULL for a command that takes none, which
 *		then refuses any with "unexpected argument"
 * @status:	Set to the exit status when the command ends here
 *
 * Each value is checked as it is met, so the first bad one is the one named.
 *
 * Return: true to go on; false when the command ends with *@status: 0 after the help,
 * EXIT_USAGE after the usage message
 */
bool cli_parse_options(const char *cmd, int argc, char **argv, const struct cli_option *opts,
                       size_t n, void (*usage)(FILE *), unsigned context, const char *context_name,
                       int *first, int *status);

struct report;

/**
 * cli_check_format() - Check a --format value against the renderers
 * @cmd:	Subcommand name
 * @format:	The value given
 *
 * Return: 0 if a renderer has that name, else EXIT_USAGE after the usage message
 */
int cli_check_format(const char *cmd, const char *format);

/**
 * cli_read_reports() - Read the report files named on the command line
 * @cmd:	Subcommand name, for messages
 * @paths:	The file names
 * @npaths:	How many
 * @reports:	Set to an array of @npaths reports (cli_free_reports() with @nread)
 * @nread:	Set to how many were read, even on failure
 *
 * Return: 0; 1 out of memory; EXIT_USAGE if a report cannot be read (the message printed)
 */
int cli_read_reports(const char *cmd, char **paths, int npaths, struct report ***reports,
                     size_t *nread);

/* Free the @nread reports cli_read_reports() read and its array; @reports may be NULL. */
void cli_free_reports(struct report **reports, size_t nread);

/**
 * cli_open_output() - Open -o FILE for writing ("-" or NULL: stdout)
 * @cmd:	Subcommand name, for messages
 * @output:	The -o value, or NULL
 * @out:	Set to the stream; stdout on failure
 *
 * Return: 0, or 1 after a message if the file cannot be created
 */
int cli_open_output(const char *cmd, const char *output, FILE **out);

/**
 * cli_close_output() - Close what cli_open_output() opened; a failed close is a failed write
 * @cmd:	Subcommand name, for messages
 * @output:	The -o value
 * @out:	The stream (stdout is left open)
 * @status:	The exit status so far
 *
 * Return: @status, or 1 after a message if it was 0 and the file could not be written
 */
int cli_close_output(const char *cmd, const char *output, FILE *out, int status);

#endif /* BURETTE_CLI_H */
