/* SPDX-License-Identifier: MIT */
/*
 * exit_status - what burette's process exit statuses mean, shared by the CLI and the run layer
 *
 * 0 success, 1 failure (or a regression, where asked), 2 bad usage or bad input, 3 a comparison
 * that could not resolve the change it was asked to (--require-detectable): a CI gate reads
 * them, so every command keeps to the same four.
 */
#ifndef BURETTE_EXIT_STATUS_H
#define BURETTE_EXIT_STATUS_H

#define EXIT_USAGE        2
#define EXIT_INCONCLUSIVE 3

#endif /* BURETTE_EXIT_STATUS_H */
