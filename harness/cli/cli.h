/* SPDX-License-Identifier: MIT */
/*
 * cli - what the subcommands share in parsing their command lines
 *
 * Every bad flag or value ends the same way: one line naming the flag and the problem, the
 * hint "Try 'burette CMD --help'.", exit status 2.
 */
#ifndef BURETTE_CLI_H
#define BURETTE_CLI_H

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
 * @reports:	Set to an array of @npaths reports (free each read one and the array)
 * @nread:	Set to how many were read, even on failure
 *
 * Return: 0; 1 out of memory; EXIT_USAGE if a report cannot be read (the message printed)
 */
int cli_read_reports(const char *cmd, char **paths, int npaths, struct report ***reports,
                     size_t *nread);

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
