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
#include "cmd.h"

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"run", cmd_run, "boot a guest and measure (boot time, network throughput)"},
    {"compare", cmd_compare, "compare reports; a regression gate for CI"},
    {"report", cmd_report, "re-render existing reports (text, markdown, json, html)"},
    {"image", cmd_image, "build the guest image, or show what is in it"},
    {"history", cmd_history, "keep reports in a database; change points; the nightly gate"},
    {"package", cmd_package, "a self-contained tarball for a machine without the build tree"},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: burette COMMAND [OPTIONS...]\n"
               "       burette --help | --version\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'burette COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("burette %s (%s%s%s)\n", BURETTE_VERSION,
               *BURETTE_GIT_REVISION ? BURETTE_GIT_REVISION : "unknown revision",
               *BURETTE_GIT_BRANCH ? ", branch " : "", BURETTE_GIT_BRANCH);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            int status;

            /* Once, before any thread exists: libcurl's global set-up is not safe to run
             * lazily from two threads at once on every build of the library. */
            if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
                fprintf(stderr, "burette: cannot initialise libcurl\n");
                return 1;
            }
            status = commands[i].fn(argc - 1, argv + 1);
            curl_global_cleanup();
            return status;
        }
    }

    fprintf(stderr, "burette: unknown command '%s'\nTry 'burette --help'.\n", argv[1]);
    return EXIT_USAGE;
}
