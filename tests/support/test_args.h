/* SPDX-License-Identifier: MIT */
/*
 * test_args - the command line ctest gives a test program (the burette binary, a data
 * directory, a group name, an optional flag)
 *
 * A program run with the wrong arguments says how it is run and exits 2 before any case runs,
 * so a mistake in a tests/ CMake fragment is not taken for a failing test. Header-only, like
 * skip.h.
 */
#ifndef BURETTE_TEST_ARGS_H
#define BURETTE_TEST_ARGS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_USAGE_STATUS 2

/**
 * test_args() - Check the operands of a test program; exit when they are wrong
 * @argc:	main()'s
 * @argv:	main()'s
 * @min:	Fewest operands
 * @max:	Most operands
 * @flag:	When not NULL, operand number @max is optional and must be this flag
 * @usage:	The operands, for the message ("BURETTE_BINARY [--basic]")
 *
 * A wrong count or flag prints "usage: PROGRAM USAGE" on stderr and exits TEST_USAGE_STATUS.
 */
static inline void test_args(int argc, char **argv, int min, int max, const char *flag,
                             const char *usage)
{
    int n = argc - 1;

    if (n >= min && n <= max && (!flag || n < max || !strcmp(argv[max], flag)))
        return;
    fprintf(stderr, "usage: %s %s\n", argv[0], usage);
    exit(TEST_USAGE_STATUS);
}

/* The operand of a program that takes exactly one (the binary under test, a data folder). */
static inline const char *test_operand(int argc, char **argv, const char *usage)
{
    test_args(argc, argv, 1, 1, NULL, usage);
    return argv[1];
}

#endif /* BURETTE_TEST_ARGS_H */
