/* SPDX-License-Identifier: MIT */
/* cmd_run - placeholder until `burette run` lands. */
#include <stdio.h>

#include "cmd.h"

int cmd_run(int argc, char **argv)
{
    fprintf(stderr, "burette: run: not yet available in this build\n");
    return 1;
}
