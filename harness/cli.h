/* SPDX-License-Identifier: MIT */
/*
 * cli - what the subcommands share in parsing their command lines
 *
 * Every bad flag or value ends the same way: one line naming the flag and the problem, the
 * hint "Try 'burette CMD --help'.", exit status 2.
 */
#ifndef BURETTE_CLI_H
#define BURETTE_CLI_H

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

#endif /* BURETTE_CLI_H */
