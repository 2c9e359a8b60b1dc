/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of results/fetch and report_read() over URLs, against a small HTTP server that
 * this test runs in a thread on 127.0.0.1 (an ephemeral port, listening before the thread
 * starts, so no wait is needed). It covers a report served with 200, a 404, a 500, a body
 * that is not JSON, a server that never answers (timeout), a port where nothing listens
 * (connection refused), file:// URLs and an unsupported scheme.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "errbuf.h"
#include "fetch.h"
#include "loopback.h"
#include "report.h"

#define MAX_HELD 16

struct server {
    int listen_fd;
    int stop[2]; /* a pipe: writing to it ends the thread */
    uint16_t port;
    pthread_t thread;
    int held[MAX_HELD]; /* connections left unanswered on purpose */
    int nheld;
};

static const char report_body[] =
    "{\"git_revision\": \"abc\", \"results\": [{\"name\": \"net_virtio-net_tcp_tx_gbps\", "
    "\"unit\": \"Gbps\", \"iterations\": 2, \"mean\": 1.5, \"std_dev\": 0.1}]}";

static void respond(int fd, const char *status, const char *type, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, type, strlen(body));

    if (write(fd, head, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0)
        return;
}

/* Reads one request head and answers according to its path. */
static void serve(struct server *s, int fd)
{
    char req[4096];
    size_t len = 0;
    char path[256] = "";

    while (len < sizeof(req) - 1) {
        ssize_t n = read(fd, req + len, sizeof(req) - 1 - len);

        if (n <= 0)
            break;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[len] = '\0';
    if (sscanf(req, "GET %255s ", path) != 1) {
        close(fd);
        return;
    }
    if (!strcmp(path, "/report.json") || !strcmp(path, "/nightly/base-2026.json?rev=1")) {
        respond(fd, "200 OK", "application/json", report_body);
    } else if (!strcmp(path, "/notjson")) {
        respond(fd, "200 OK", "text/html", "<html><body>maintenance</body></html>");
    } else if (!strcmp(path, "/broken")) {
        respond(fd, "500 Internal Server Error", "text/plain", "oops");
    } else if (!strcmp(path, "/slow") && s->nheld < MAX_HELD) {
        s->held[s->nheld++] = fd; /* never answered: the client must time out */
        return;
    } else {
        respond(fd, "404 Not Found", "text/plain", "no such file");
    }
    close(fd);
}

static void *server_main(void *arg)
{
    struct server *s = arg;

    for (;;) {
        struct pollfd p[2] = {{.fd = s->listen_fd, .events = POLLIN},
                              {.fd = s->stop[0], .events = POLLIN}};

        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (p[0].revents & POLLIN) {
            int fd = accept(s->listen_fd, NULL, NULL);

            if (fd >= 0)
                serve(s, fd);
        }
    }
    return NULL;
}

static int server_start(void **state)
{
    struct server *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    s->listen_fd = loopback_socket(SOCK_STREAM, &s->port);
    assert_int_equal(pipe(s->stop), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
    *state = s;
    return 0;
}

static int server_stop(void **state)
{
    struct server *s = *state;

    assert_int_equal(write(s->stop[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    for (int i = 0; i < s->nheld; i++)
        close(s->held[i]);
    close(s->listen_fd);
    close(s->stop[0]);
    close(s->stop[1]);
    free(s);
    return 0;
}

static char err[ERRBUF_LEN];

static void url(char *buf, size_t len, const struct server *s, const char *path)
{
    snprintf(buf, len, "http://127.0.0.1:%u%s", s->port, path);
}

static void test_fetch_200_returns_the_body(void **state)
{
    char u[128], *data = NULL;
    size_t len = 0;

    url(u, sizeof(u), *state, "/report.json");
    assert_int_equal(fetch_source(u, NULL, &data, &len, err, sizeof(err)), 0);
    assert_int_equal(len, strlen(report_body));
    assert_string_equal(data, report_body);
    free(data);
}

static void test_report_read_over_http(void **state)
{
    struct report *r = NULL;
    char u[128];

    url(u, sizeof(u), *state, "/nightly/base-2026.json?rev=1");
    assert_int_equal(report_read(u, &r, err, sizeof(err)), 0);
    assert_int_equal(r->nmetrics, 1);
    assert_string_equal(r->metrics[0].name, "net_virtio-net_tcp_tx_gbps");
    /* Tables call it by its file name, without the query and ".json". */
    assert_string_equal(report_label(r), "base-2026");
    report_free(r);
}

static void test_http_404_is_named(void **state)
{
    char u[128], *data = NULL;
    size_t len;

    url(u, sizeof(u), *state, "/missing.json");
    assert_int_equal(fetch_source(u, NULL, &data, &len, err, sizeof(err)), -ENOENT);
    assert_null(data);
    assert_non_null(strstr(err, u));
    assert_non_null(strstr(err, "HTTP 404 (not found)"));
}

static void test_http_500_is_an_error(void **state)
{
    char u[128], *data = NULL;
    size_t len;

    url(u, sizeof(u), *state, "/broken");
    assert_int_equal(fetch_source(u, NULL, &data, &len, err, sizeof(err)), -EIO);
    assert_non_null(strstr(err, "HTTP 500 (server error)"));
}

static void test_body_that_is_not_json_is_named(void **state)
{
    struct report *r = NULL;
    char u[128];

    url(u, sizeof(u), *state, "/notjson");
    assert_int_equal(report_read(u, &r, err, sizeof(err)), -EINVAL);
    assert_null(r);
    assert_non_null(strstr(err, u));
    assert_non_null(strstr(err, "not valid JSON"));
}

static void test_server_that_never_answers_times_out(void **state)
{
    struct fetch_options o = {.connect_timeout_ms = 2000, .total_timeout_ms = 300};
    char u[128], *data = NULL;
    size_t len;

    url(u, sizeof(u), *state, "/slow");
    assert_int_equal(fetch_source(u, &o, &data, &len, err, sizeof(err)), -ETIMEDOUT);
    assert_non_null(strstr(err, u));
    assert_non_null(strstr(err, "timed out"));
}

/* A socket bound but not listening owns its port, and the kernel refuses connections to it:
 * "connection refused" without racing anyone for a free port. */
static void test_connection_refused_is_named(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char u[128], *data = NULL;
    size_t len;

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    snprintf(u, sizeof(u), "http://127.0.0.1:%u/report.json", ntohs(a.sin_port));
    assert_int_equal(fetch_source(u, NULL, &data, &len, err, sizeof(err)), -ECONNREFUSED);
    assert_non_null(strstr(err, u));
    assert_non_null(strstr(err, "cannot connect"));
    close(fd);
}

static void test_file_urls_and_unknown_schemes(void **state)
{
    char u[4200], *data = NULL;
    struct report *r = NULL;
    size_t len;

    snprintf(u, sizeof(u), "file://%s/base.json", BURETTE_TEST_DATA);
    assert_int_equal(report_read(u, &r, err, sizeof(err)), 0);
    assert_int_equal(r->nmetrics, 4);
    assert_string_equal(report_label(r), "base");
    report_free(r);

    snprintf(u, sizeof(u), "file://%s/absent.json", BURETTE_TEST_DATA);
    assert_int_equal(fetch_source(u, NULL, &data, &len, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "absent.json"));

    assert_int_equal(fetch_source("ftp://127.0.0.1/x.json", NULL, &data, &len, err, sizeof(err)),
                     -EPROTONOSUPPORT);
    assert_non_null(strstr(err, "unsupported URL scheme"));
    assert_false(fetch_is_url("results/base.json"));
    assert_false(fetch_is_url("a:b.json"));
    assert_true(fetch_is_url("HTTPS://example.invalid/x"));
}

/* A FIFO nobody ever writes to: without a deadline, `burette compare` would wait forever. */
static void test_fifo_without_writer_times_out(void **state)
{
    struct fetch_options o = {.connect_timeout_ms = 100, .total_timeout_ms = 200};
    char dir[] = "/tmp/burette-test-fifo-XXXXXX", path[64], *data = NULL;
    size_t len = 0;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/report", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(fetch_source(path, &o, &data, &len, err, sizeof(err)), -ETIMEDOUT);
    assert_null(data);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "no end of input after 200 ms"));
    unlink(path);
    rmdir(dir);
}

struct fifo_writer {
    const char *path;
    const char *text;
};

static void *write_fifo(void *arg)
{
    struct fifo_writer *w = arg;
    int fd = open(w->path, O_WRONLY | O_CLOEXEC);

    if (fd >= 0) {
        if (write(fd, w->text, strlen(w->text)) < 0)
            perror("write");
        close(fd);
    }
    return NULL;
}

/* A FIFO with a writer is read to its end within the deadline, as a pipe on stdin is. */
static void test_fifo_with_writer_is_read(void **state)
{
    struct fetch_options o = {.connect_timeout_ms = 100, .total_timeout_ms = 20000};
    char dir[] = "/tmp/burette-test-fifo-XXXXXX", path[64], *data = NULL;
    struct fifo_writer w = {.path = path, .text = "{\"results\": []}"};
    size_t len = 0;
    pthread_t t;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/report", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(pthread_create(&t, NULL, write_fifo, &w), 0);
    assert_int_equal(fetch_source(path, &o, &data, &len, err, sizeof(err)), 0);
    pthread_join(t, NULL);
    assert_string_equal(data, w.text);
    free(data);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch_200_returns_the_body),
        cmocka_unit_test(test_report_read_over_http),
        cmocka_unit_test(test_http_404_is_named),
        cmocka_unit_test(test_http_500_is_an_error),
        cmocka_unit_test(test_body_that_is_not_json_is_named),
        cmocka_unit_test(test_server_that_never_answers_times_out),
        cmocka_unit_test(test_connection_refused_is_named),
        cmocka_unit_test(test_file_urls_and_unknown_schemes),
        cmocka_unit_test(test_fifo_without_writer_times_out),
        cmocka_unit_test(test_fifo_with_writer_is_read),
    };
    return cmocka_run_group_tests(tests, server_start, server_stop);
}
