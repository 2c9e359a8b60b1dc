/* SPDX-License-Identifier: MIT */
/* cmd_compare - placeholder until `burette compare` lands. */
#include <stdio.h>

#include "cmd.h"

int cmd_compare(int argc, char **argv)
{
    fprintf(stderr, "burette: compare: not yet available in this build\n");
    return 1;
}
