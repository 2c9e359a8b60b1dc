/* SPDX-License-Identifier: MIT */
/*
 * backend_options_md - print the README's table of backend options from the registry
 *
 * The table between the README's "backend-options" markers is this program's output, so the
 * documentation lists exactly the options burette takes, with their defaults and the keys a
 * report records them under. `scripts/update-readme` rewrites the block; the test
 * cli.readme_backend_options fails when the README and the registry (backends/backend.c and
 * each backend's options[]) part ways.
 */
#include <stdio.h>
#include <string.h>

#include "backend.h"

/* @s in a table cell: '|' escaped, the help's line breaks joined ("guest-to-\nhost" without a
 * space, since the break there follows a hyphen). */
static void cell(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '|')
            fputs("\\|", stdout);
        else if (*p != '\n')
            putchar(*p);
        else if (p == s || p[-1] != '-')
            putchar(' ');
    }
}

int main(void)
{
    puts("| `--variant` option | flag | default | taken by | in a report's `config` | what it sets "
         "|");
    puts("|---|---|---|---|---|---|");
    for (size_t i = 0; i < backend_option_count(); i++) {
        const struct backend_ops *owner;
        const struct backend_option *opt = backend_option_at(i, &owner);

        printf("| `%s=", opt->name);
        cell(opt->metavar);
        if (opt->variant_only)
            fputs("` | none |", stdout);
        else
            printf("` | `--%s` |", opt->name);
        fputs(" `", stdout);
        cell(opt->default_value);
        printf("` | %s |", owner ? owner->name : "every backend");
        if (opt->json_key)
            printf(" `%s`%s |", opt->json_key, opt->only_if_set ? ", when not the default" : "");
        else
            fputs(" not recorded |", stdout);
        fputs(" ", stdout);
        cell(opt->help);
        puts(" |");
    }
    return ferror(stdout) ? 1 : 0;
}
