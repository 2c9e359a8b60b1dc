/* SPDX-License-Identifier: MIT */
/* cmd_report - placeholder until `burette report` lands. */
#include <stdio.h>

#include "cmd.h"

int cmd_report(int argc, char **argv)
{
    fprintf(stderr, "burette: report: not yet available in this build\n");
    return 1;
}
