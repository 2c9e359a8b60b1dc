/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of the latency test's two ends without a VM: the guest's rr loop
 * (guest/rr_client.c, run here in a child as the agent would run it) against the helper's
 * echo server (a real helper process, serving 127.0.0.1 in the host's namespace as it does
 * for consomme, slirp and passt). Each mode must time about the requested second, count
 * exactly what the server answered (CRR: one connection per transaction, none left open
 * while timing, so connections == transactions), and report ordered percentiles; a port
 * nobody serves and a server that closes before replying must each end the loop with exit
 * status 1 and a message naming what happened; a taken port and a `finish` of a job that is
 * no echo server are refused by the helper with a message.
 *
 * Usage: test_rr_loopback
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "backend.h"
#include "errbuf.h"
#include "helper.h"
#include "loopback.h"
#include "rr.h"
#include "rr_client.h"
#include "test_latency.h"

static struct helper *helper;
static char err[ERRBUF_LEN];

/* Run the rr loop in a child, as `burette-agent rr ...`; its stdout and stderr come back. */
static int run_loop(const char *mode, unsigned port, const char *size, char *out, size_t outlen,
                    char *errtext, size_t errtextlen)
{
    int op[2], ep[2], status;
    char portbuf[16];
    size_t no = 0, ne = 0;
    pid_t pid;

    snprintf(portbuf, sizeof(portbuf), "%u", port);
    assert_int_equal(pipe(op), 0);
    assert_int_equal(pipe(ep), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = {"rr",    "--mode", (char *)mode, "--to",      "127.0.0.1", "--port",
                        portbuf, "--size", (char *)size, "--seconds", "1",         NULL};

        dup2(op[1], 1);
        dup2(ep[1], 2);
        close(op[0]);
        close(ep[0]);
        _exit(rr_client_main(11, argv));
    }
    close(op[1]);
    close(ep[1]);
    /* small outputs: read stdout to its end, then stderr (the child cannot block on either) */
    for (ssize_t n; (n = read(op[0], out + no, outlen - 1 - no)) > 0;)
        no += (size_t)n;
    for (ssize_t n; (n = read(ep[0], errtext + ne, errtextlen - 1 - ne)) > 0;)
        ne += (size_t)n;
    out[no] = errtext[ne] = '\0';
    close(op[0]);
    close(ep[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* One mode end to end: server up, loop for 1 s, counts agree, figures sane. */
static void measure(const char *mode, const char *size, unsigned close_after)
{
    char out[4096], errtext[4096], *sjson = NULL;
    struct rr_result r;
    unsigned port, job;
    json_t *counts;
    int status;

    assert_int_equal(backend_loopback_port(&port, err, sizeof(err)), 0);
    if (helper_echo_start(helper, "127.0.0.1", port, close_after, &job, err, sizeof(err)))
        fail_msg("echo server: %s", err);
    status = run_loop(mode, port, size, out, sizeof(out), errtext, sizeof(errtext));
    if (status)
        fail_msg("%s: the loop exited %d: %s", mode, status, errtext);
    if (helper_echo_finish(helper, job, &sjson, err, sizeof(err)))
        fail_msg("echo server: %s", err);
    if (rr_result_parse(out, &r, err, sizeof(err)))
        fail_msg("%s: %s in '%s'", mode, err, out);
    assert_string_equal(rr_mode_name(r.mode), mode);
    assert_int_equal(r.size, (unsigned)atoi(size));
    /* the loop starts no transaction after its second is up: at most one more round trip */
    assert_true(r.elapsed_us >= 1000000 && r.elapsed_us < 1000000 + 1000000);
    assert_true(r.transactions >= 10);
    assert_true(r.latency_us.min > 0);
    assert_true(r.latency_us.p50 <= r.latency_us.p90 && r.latency_us.p90 <= r.latency_us.p99 &&
                r.latency_us.p99 <= r.latency_us.p999 && r.latency_us.p999 <= r.latency_us.max);
    /* each transaction is a round trip timed inside the loop: together no more than its time */
    assert_true(r.latency_us.mean * (double)r.transactions <= (double)r.elapsed_us);
    if (latency_check_server(&r, sjson, err, sizeof(err)))
        fail_msg("%s", err);
    counts = json_loads(sjson, 0, NULL);
    assert_non_null(counts);
    if (!strcmp(mode, "tcp_crr")) {
        /* a connection per transaction, each closed by the server after one reply */
        assert_int_equal(json_integer_value(json_object_get(counts, "tcp_connections")),
                         r.transactions);
        assert_int_equal(json_integer_value(json_object_get(counts, "tcp_bytes")),
                         r.transactions * r.size);
    } else if (!strcmp(mode, "tcp_rr")) {
        assert_int_equal(json_integer_value(json_object_get(counts, "tcp_connections")), 1);
        assert_int_equal(json_integer_value(json_object_get(counts, "tcp_bytes")),
                         r.transactions * r.size);
    } else {
        assert_int_equal(json_integer_value(json_object_get(counts, "tcp_connections")), 0);
        assert_int_equal(json_integer_value(json_object_get(counts, "udp_datagrams")),
                         r.transactions + r.timeouts);
    }
    json_decref(counts);
    free(sjson);
}

static void test_tcp_rr_counts_what_the_server_echoed(void **state)
{
    (void)state;
    measure("tcp_rr", "1", 0);
    measure("tcp_rr", "1000", 0);
}

static void test_tcp_crr_is_one_connection_per_transaction(void **state)
{
    (void)state;
    measure("tcp_crr", "1", 1);
}

static void test_udp_rr_counts_what_the_server_echoed(void **state)
{
    (void)state;
    measure("udp_rr", "1", 0);
    measure("udp_rr", "1400", 0);
    /* the largest --rr-size: the largest UDP payload on IPv4, one datagram each way */
    measure("udp_rr", "65507", 0);
}

static void test_nobody_listening_is_reported(void **state)
{
    char out[4096], errtext[4096];
    unsigned port;

    (void)state;
    assert_int_equal(backend_loopback_port(&port, err, sizeof(err)), 0);
    assert_int_equal(run_loop("tcp_crr", port, "1", out, sizeof(out), errtext, sizeof(errtext)), 1);
    assert_non_null(strstr(errtext, "connect to 127.0.0.1:"));
    assert_non_null(strstr(errtext, "Connection refused"));
    assert_string_equal(out, "");
    /* UDP learns it from the ICMP port unreachable that loopback returns */
    assert_int_equal(run_loop("udp_rr", port, "1", out, sizeof(out), errtext, sizeof(errtext)), 1);
    assert_non_null(strstr(errtext, "Connection refused"));
}

static void test_server_closing_before_the_reply_is_reported(void **state)
{
    char out[4096], errtext[4096];
    uint16_t port;
    int lfd, status;
    pid_t rude;

    (void)state;
    /* a server that takes the request and hangs up without a word (having read all of it, so
     * its close is a FIN, never a reset for unread data) */
    lfd = loopback_socket(SOCK_STREAM, &port);
    rude = fork();
    assert_true(rude >= 0);
    if (rude == 0) {
        int c = accept(lfd, NULL, NULL);
        char req[4];
        size_t got = 0;
        ssize_t n;

        while (c >= 0 && got < sizeof(req) && (n = read(c, req + got, sizeof(req) - got)) > 0)
            got += (size_t)n;
        _exit(c < 0 || got != sizeof(req) || close(c) ? 1 : 0);
    }
    close(lfd);
    assert_int_equal(run_loop("tcp_rr", port, "4", out, sizeof(out), errtext, sizeof(errtext)), 1);
    assert_non_null(strstr(errtext, "the host side closed before replying"));
    assert_string_equal(out, "");
    assert_int_equal(waitpid(rude, &status, 0), rude);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A port already taken is the echo server's error, named with the address. */
static void test_taken_port_is_reported(void **state)
{
    uint16_t port;
    unsigned job;
    int lfd;

    (void)state;
    lfd = loopback_socket(SOCK_STREAM, &port);
    assert_true(helper_echo_start(helper, "127.0.0.1", port, 0, &job, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "cannot listen on TCP 127.0.0.1:"));
    assert_non_null(strstr(err, "Address already in use"));
    close(lfd);
}

/* finish is for echo servers: asked of an iperf3 server it is refused, and cancel still ends
 * that server. */
static void test_finish_of_an_iperf_server_is_refused(void **state)
{
    char *json = NULL;
    unsigned port, job;

    (void)state;
    assert_int_equal(backend_loopback_port(&port, err, sizeof(err)), 0);
    if (helper_server_start(helper, "127.0.0.1", port, &job, err, sizeof(err)))
        fail_msg("iperf3 server: %s", err);
    assert_int_equal(helper_echo_finish(helper, job, &json, err, sizeof(err)), -EINVAL);
    assert_null(json);
    assert_non_null(strstr(err, "finish applies to echo_server jobs only"));
    assert_int_equal(helper_cancel(helper, job, err, sizeof(err)), 0);
}

static void test_bad_arguments_exit_2(void **state)
{
    char out[256], errtext[4096];

    (void)state;
    assert_int_equal(run_loop("tcp_stream", 1, "1", out, sizeof(out), errtext, sizeof(errtext)), 2);
    assert_non_null(strstr(errtext, "--mode: unknown mode 'tcp_stream'"));
    assert_int_equal(run_loop("tcp_rr", 1, "0", out, sizeof(out), errtext, sizeof(errtext)), 2);
    assert_non_null(strstr(errtext, "--size: '0' is not 1 to 65507"));
}

static int setup(void **state)
{
    (void)state;
    if (helper_spawn(&helper, err, sizeof(err))) {
        fprintf(stderr, "helper: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    helper_destroy(helper);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_rr_counts_what_the_server_echoed),
        cmocka_unit_test(test_tcp_crr_is_one_connection_per_transaction),
        cmocka_unit_test(test_udp_rr_counts_what_the_server_echoed),
        cmocka_unit_test(test_nobody_listening_is_reported),
        cmocka_unit_test(test_server_closing_before_the_reply_is_reported),
        cmocka_unit_test(test_taken_port_is_reported),
        cmocka_unit_test(test_finish_of_an_iperf_server_is_refused),
        cmocka_unit_test(test_bad_arguments_exit_2),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
