/* SPDX-License-Identifier: MIT */
/*
 * cmd - the subcommands of the burette CLI
 *
 * main() only dispatches: each subcommand lives in its own cmd_<name>.c and is one row of the
 * table in main.c. Every subcommand returns the process exit status: 0 success, 1 failure
 * (or a regression, where asked), 2 bad usage or bad input, 3 a comparison that could not
 * resolve the change it was asked to (compare --require-detectable).
 */
#ifndef BURETTE_CMD_H
#define BURETTE_CMD_H

#include "exit_status.h"

int cmd_run(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_package(int argc, char **argv);

#endif /* BURETTE_CMD_H */
