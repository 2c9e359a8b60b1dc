/* SPDX-License-Identifier: MIT */
/*
 * fetch - the bytes of a report, from a path, stdin or a URL
 *
 * Nightly CI keeps its baseline on a server, so a report may be named by an http://, https://
 * or file:// URL; those go through libcurl with a connect timeout and a total timeout, and an
 * HTTP error status is an error, never a body to parse. Anything else is a path ("-" is stdin);
 * reading one has the same total timeout, which only a pipe or FIFO can ever run into.
 * Every message starts with the path or URL, then says what went wrong.
 */
#ifndef BURETTE_FETCH_H
#define BURETTE_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#define FETCH_CONNECT_TIMEOUT_MS 10000
#define FETCH_TOTAL_TIMEOUT_MS   60000
#define FETCH_MAX_BYTES          (256u << 20)

struct fetch_options {
    long connect_timeout_ms;
    long total_timeout_ms;
    size_t max_bytes;
};

/**
 * fetch_is_url() - Whether @source names a URL (scheme://...) rather than a path
 */
bool fetch_is_url(const char *source);

/**
 * fetch_source() - Read all of a path or URL into memory
 * @source:	Path, "-" for stdin, or http://, https://, file:// URL
 * @opts:	Timeouts and size limit; NULL for the defaults above
 * @data:	NUL-terminated contents, to free() by the caller
 * @len:	Length of @data without the NUL
 * @err:	Error buffer of @errlen bytes
 *
 * Return: 0 on success; -ENOENT (missing file, HTTP 404), -ECONNREFUSED, -ETIMEDOUT,
 * -EPROTONOSUPPORT (unknown scheme), -EFBIG, -EIO or another negative errno
 */
int fetch_source(const char *source, const struct fetch_options *opts, char **data, size_t *len,
                 char *err, size_t errlen);

#endif /* BURETTE_FETCH_H */
