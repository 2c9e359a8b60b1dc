/* SPDX-License-Identifier: MIT */
/*
 * progress - what burette is doing, on stderr
 *
 * Phase lines ("booting guest"), notices, and one line per iteration with its figure and an
 * ETA. Nothing at all with --quiet. On a terminal, phases are highlighted; otherwise (CI logs,
 * pipes) lines are plain text without escape codes. Errors are not progress: callers print them
 * themselves, quiet or not.
 */
#ifndef BURETTE_PROGRESS_H
#define BURETTE_PROGRESS_H

#include <stdbool.h>

/**
 * progress_init() - Choose the output style
 * @quiet:	Print nothing
 */
void progress_init(bool quiet);

/**
 * progress_phase() - Announce a phase: "building image", "booting", a sub-test's name
 */
void progress_phase(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * progress_note() - A one-line notice (e.g. why TCG was chosen, where logs go)
 */
void progress_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * progress_iteration() - Report one finished iteration
 * @test:	Test name
 * @i:		1-based index among its kind
 * @n:		How many of its kind
 * @warmup:	A discarded warmup iteration
 * @figures:	What it measured, e.g. "boot_time_ms 2710"
 * @eta_s:	Seconds left for the whole test, < 0 if unknown
 */
void progress_iteration(const char *test, unsigned i, unsigned n, bool warmup, const char *figures,
                        double eta_s);

#endif /* BURETTE_PROGRESS_H */
