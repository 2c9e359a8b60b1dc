/* SPDX-License-Identifier: MIT */
/* cmd_image - placeholder until `burette image` lands. */
#include <stdio.h>

#include "cmd.h"

int cmd_image(int argc, char **argv)
{
    fprintf(stderr, "burette: image: not yet available in this build\n");
    return 1;
}
