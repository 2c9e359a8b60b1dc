/* SPDX-License-Identifier: MIT */
/*
 * errbuf - error messages carried upward in a caller-provided buffer
 *
 * Low-level code never prints or exits: it writes what failed, on what, and why into the
 * caller's buffer (as libcurl's CURLOPT_ERRORBUFFER does) and returns a negative errno.
 * Each layer that adds context prefixes it, so the line that reaches the user reads
 * "tap: cannot open /dev/net/tun: Permission denied (...)". A buffer of ERRBUF_LEN bytes is
 * always enough; longer messages are truncated, never overflowed.
 */
#ifndef BURETTE_ERRBUF_H
#define BURETTE_ERRBUF_H

#include <stddef.h>

#define ERRBUF_LEN 1024

/**
 * errbuf_set() - Write a formatted message into @err
 * @err:	Buffer of @len bytes, may be NULL to discard the message
 * @len:	Size of @err
 * @rc:		Value to return: a negative errno (positive values are negated)
 * @fmt:	printf-style format
 *
 * Return: @rc as a negative number, so callers can "return errbuf_set(...)".
 */
int errbuf_set(char *err, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/**
 * errbuf_prefix() - Prepend context ("while doing X: ") to the message already in @err
 * @err:	Buffer of @len bytes holding a message, may be NULL
 * @len:	Size of @err
 * @fmt:	printf-style format of the prefix; ": " is inserted after it
 */
void errbuf_prefix(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* BURETTE_ERRBUF_H */
