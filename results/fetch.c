/* SPDX-License-Identifier: MIT */
/*
 * fetch - the bytes of a report, from a path, stdin or a URL; see fetch.h.
 *
 * HTTP status codes are checked by hand rather than with CURLOPT_FAILONERROR so the message
 * can say "HTTP 404 (not found)" instead of curl's generic wording. Only http, https and file
 * are allowed, and redirects may only lead to http or https, so a server cannot send burette
 * to read a local file.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "array.h"
#include "build_info.h"
#include "clock.h"
#include "errbuf.h"
#include "fetch.h"

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
    bool too_big;
};

static int buf_append(struct buf *b, const void *p, size_t n)
{
    char *d;

    if (n > b->max - b->len) {
        b->too_big = true;
        return -EFBIG;
    }
    d = array_reserve_bytes(b->data, b->len, n + 1, &b->cap);
    if (!d)
        return -ENOMEM;
    b->data = d;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

bool fetch_is_url(const char *source)
{
    const char *p = source;

    if (!isalpha((unsigned char)*p))
        return false;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    return !strncmp(p, "://", 3);
}

static bool has_scheme(const char *source, const char *scheme)
{
    size_t n = strlen(scheme);

    return !strncasecmp(source, scheme, n) && !strncmp(source + n, "://", 3);
}

/*
 * Reads to EOF, but gives up at @deadline_ms (clock_now_ms()): stdin or a FIFO whose writer
 * never writes nor closes would otherwise hold a CI gate forever. @fd may be non-blocking.
 */
static int read_fd(int fd, const char *source, struct buf *b, int64_t deadline_ms, long limit_ms,
                   char *err, size_t errlen)
{
    char chunk[65536];

    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int64_t left = deadline_ms - clock_now_ms();
        ssize_t n;
        int ready;

        ready = left > 0 ? poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left) : 0;
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            return errbuf_set(err, errlen, errno, "%s: cannot read: %s", source, strerror(errno));
        if (!ready)
            return errbuf_set(err, errlen, ETIMEDOUT,
                              "%s: no end of input after %ld ms (is the program writing it still "
                              "running? reports on stdin or a FIFO must arrive within that time)",
                              source, limit_ms);
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return errbuf_set(err, errlen, errno, "%s: cannot read: %s", source, strerror(errno));
        if (!n)
            break;
        if (buf_append(b, chunk, (size_t)n) < 0)
            return b->too_big ? errbuf_set(err, errlen, EFBIG,
                                           "%s: larger than %zu MiB, not a burette report", source,
                                           b->max >> 20)
                              : errbuf_set(err, errlen, ENOMEM, "%s: out of memory", source);
    }
    /* An empty file still yields a valid, empty string for the JSON parser to refuse. */
    if (!b->data && buf_append(b, "", 0) < 0)
        return errbuf_set(err, errlen, ENOMEM, "%s: out of memory", source);
    return 0;
}

static int fetch_path(const char *source, const struct fetch_options *o, struct buf *b, char *err,
                      size_t errlen)
{
    int64_t deadline = clock_now_ms() + o->total_timeout_ms;
    int fd, rc;

    if (!strcmp(source, "-"))
        return read_fd(STDIN_FILENO, "stdin", b, deadline, o->total_timeout_ms, err, errlen);
    /* Non-blocking, or open() itself would wait for a FIFO's writer with no deadline. */
    fd = open(source, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errbuf_set(err, errlen, errno, "%s: cannot open: %s", source, strerror(errno));
    rc = read_fd(fd, source, b, deadline, o->total_timeout_ms, err, errlen);
    close(fd);
    return rc;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata)
{
    struct buf *b = userdata;

    /* Returning less than given makes curl abort the transfer with CURLE_WRITE_ERROR. */
    if (buf_append(b, p, size * nmemb) < 0)
        return 0;
    return size * nmemb;
}

static const char *http_reason(long status)
{
    switch (status) {
    case 400:
        return "bad request";
    case 401:
        return "authentication required";
    case 403:
        return "forbidden";
    case 404:
        return "not found";
    case 410:
        return "gone";
    default:
        return status >= 500 ? "server error" : "client error";
    }
}

static int fetch_url(const char *source, const struct fetch_options *o, struct buf *b, char *err,
                     size_t errlen)
{
    char cerr[CURL_ERROR_SIZE] = "";
    long status = 0;
    CURLcode cc;
    CURL *c;
    int rc = 0;

    if (!has_scheme(source, "http") && !has_scheme(source, "https") && !has_scheme(source, "file"))
        return errbuf_set(
            err, errlen, EPROTONOSUPPORT,
            "%s: unsupported URL scheme (use http://, https:// or file://, or a path)", source);
    c = curl_easy_init();
    if (!c)
        return errbuf_set(err, errlen, ENOMEM, "%s: cannot initialise libcurl", source);
    curl_easy_setopt(c, CURLOPT_URL, source);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->total_timeout_ms);
    /* Timeouts must not rely on SIGALRM: the harness has threads and its own handlers. */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "burette/" BURETTE_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);

    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        const char *detail = *cerr ? cerr : curl_easy_strerror(cc);

        switch (cc) {
        case CURLE_COULDNT_CONNECT:
            rc = errbuf_set(err, errlen, ECONNREFUSED,
                            "%s: cannot connect (%s); is the server up and the address right?",
                            source, detail);
            break;
        case CURLE_COULDNT_RESOLVE_HOST:
            rc = errbuf_set(err, errlen, EHOSTUNREACH, "%s: cannot resolve the host name (%s)",
                            source, detail);
            break;
        case CURLE_OPERATION_TIMEDOUT:
            rc = errbuf_set(err, errlen, ETIMEDOUT,
                            "%s: timed out (connect limit %ld ms, total limit %ld ms): %s", source,
                            o->connect_timeout_ms, o->total_timeout_ms, detail);
            break;
        case CURLE_FILE_COULDNT_READ_FILE:
            rc = errbuf_set(err, errlen, ENOENT, "%s: cannot read the file (%s)", source, detail);
            break;
        case CURLE_WRITE_ERROR:
            rc = b->too_big ? errbuf_set(err, errlen, EFBIG,
                                         "%s: larger than %zu MiB, not a burette report", source,
                                         b->max >> 20)
                            : errbuf_set(err, errlen, ENOMEM, "%s: out of memory", source);
            break;
        default:
            rc = errbuf_set(err, errlen, EIO, "%s: download failed: %s", source, detail);
        }
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 400) {
        rc = errbuf_set(err, errlen, status == 404 || status == 410 ? ENOENT : EIO,
                        "%s: HTTP %ld (%s)", source, status, http_reason(status));
        goto out;
    }
    if (!b->data && buf_append(b, "", 0) < 0)
        rc = errbuf_set(err, errlen, ENOMEM, "%s: out of memory", source);
out:
    curl_easy_cleanup(c);
    return rc;
}

int fetch_source(const char *source, const struct fetch_options *opts, char **data, size_t *len,
                 char *err, size_t errlen)
{
    struct fetch_options defaults = {
        .connect_timeout_ms = FETCH_CONNECT_TIMEOUT_MS,
        .total_timeout_ms = FETCH_TOTAL_TIMEOUT_MS,
        .max_bytes = FETCH_MAX_BYTES,
    };
    struct buf b = {0};
    int rc;

    if (!opts)
        opts = &defaults;
    b.max = opts->max_bytes ? opts->max_bytes : FETCH_MAX_BYTES;
    rc = fetch_is_url(source) ? fetch_url(source, opts, &b, err, errlen)
                              : fetch_path(source, opts, &b, err, errlen);
    if (rc < 0) {
        free(b.data);
        return rc;
    }
    *data = b.data;
    *len = b.len;
    return 0;
}
