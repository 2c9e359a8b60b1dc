/* SPDX-License-Identifier: MIT */
/*
 * errbuf - error messages carried upward in a caller-provided buffer; see errbuf.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"

int errbuf_set(char *err, size_t len, int rc, const char *fmt, ...)
{
    va_list ap;

    if (rc > 0)
        rc = -rc;
    if (err && len) {
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void errbuf_prefix(char *err, size_t len, const char *fmt, ...)
{
    char prefix[ERRBUF_LEN];
    char old[ERRBUF_LEN];
    va_list ap;

    if (!err || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    snprintf(old, sizeof(old), "%s", err);
    snprintf(err, len, "%s: %s", prefix, old);
}
