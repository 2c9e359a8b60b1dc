/* SPDX-License-Identifier: MIT */
/*
 * fuzz_hooks.h - what a CONSOMME_FUZZ build of the stack asks of its fuzzer
 *
 * Force-included (clang -include) into every source of the stateful target only, which also
 * defines CONSOMME_FUZZ. The stack then takes its TCP initial sequence numbers from the fuzzer
 * (tcp.c) and leaves cm_now_ms() to it (context.c), so that one input replays the same
 * sequence numbers and the same timer expiries every time it runs.
 */
#ifndef CONSOMME_FUZZ_HOOKS_H
#define CONSOMME_FUZZ_HOOKS_H

#include <stdint.h>

/* The ISN of the connection tcp.c is creating. */
uint32_t cm_fuzz_isn(void);

#endif /* CONSOMME_FUZZ_HOOKS_H */
