/* SPDX-License-Identifier: MIT */
/*
 * burette - network throughput benchmark harness for virtual machines
 *
 * main() only dispatches to a subcommand (one file each, see cmd.h). Global options are
 * --help and --version; everything else belongs to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "build_info.h"
#include "cli.h"
#include "cmd.h"

static const struct cli_command commands[] = {
    {"run", cmd_run, 0, "boot a guest and measure (boot time, network throughput)"},
    {"compare", cmd_compare, 0, "compare reports; a regression gate for CI"},
    {"report", cmd_report, 0, "re-render existing reports (text, markdown, json, html)"},
    {"image", cmd_image, 0, "build the guest image, or show what is in it"},
    {"history", cmd_history, 0, "keep reports in a database; change points; the nightly gate"},
    {"package", cmd_package, 0, "a self-contained tarball for a machine without the build tree"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
    fprintf(f, "Usage: burette COMMAND [OPTIONS...]\n"
               "       burette --help | --version\n\n"
               "Commands:\n");
    cli_print_commands(f, commands, NCOMMANDS);
    fprintf(f, "\nRun 'burette COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    int i = cli_command_word(argc, argv, commands, NCOMMANDS), status;

    if (i == CLI_WORD_MISSING || i == CLI_WORD_HELP) {
        usage(i == CLI_WORD_HELP ? stdout : stderr);
        return i == CLI_WORD_HELP ? 0 : EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("burette %s (%s%s%s)\n", BURETTE_VERSION,
               *BURETTE_GIT_REVISION ? BURETTE_GIT_REVISION : "unknown revision",
               *BURETTE_GIT_BRANCH ? ", branch " : "", BURETTE_GIT_BRANCH);
        return 0;
    }
    if (i == CLI_WORD_UNKNOWN) {
        fprintf(stderr, "burette: unknown command '%s'\nTry 'burette --help'.\n", argv[1]);
        return EXIT_USAGE;
    }
    /* Once, before any thread exists: libcurl's global set-up is not safe to run lazily from
     * two threads at once on every build of the library. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        fprintf(stderr, "burette: cannot initialise libcurl\n");
        return 1;
    }
    status = commands[i].fn(argc - 1, argv + 1);
    curl_global_cleanup();
    return status;
}
