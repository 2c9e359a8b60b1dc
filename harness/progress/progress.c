/* SPDX-License-Identifier: MIT */
/* progress - phase, notice and iteration lines on stderr; see progress.h. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "progress.h"

static bool quiet_mode;
static bool tty;

void progress_init(bool quiet)
{
    quiet_mode = quiet;
    tty = isatty(STDERR_FILENO);
}

static void vline(const char *lead, const char *bold_on, const char *fmt, va_list ap)
{
    if (quiet_mode)
        return;
    fprintf(stderr, "%s%s", bold_on, lead);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "%s\n", *bold_on ? "\033[0m" : "");
}

void progress_phase(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vline("==> ", tty ? "\033[1m" : "", fmt, ap);
    va_end(ap);
}

void progress_note(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vline("burette: ", "", fmt, ap);
    va_end(ap);
}

void progress_iteration(const char *test, unsigned i, unsigned n, bool warmup, const char *figures,
                        double eta_s)
{
    char eta[32] = "";

    if (quiet_mode)
        return;
    if (eta_s >= 0)
        snprintf(eta, sizeof(eta), ", ETA %.0f s", eta_s);
    fprintf(stderr, "    %s %s %u/%u: %s%s\n", test, warmup ? "warmup" : "iteration", i, n, figures,
            eta);
}
