/* SPDX-License-Identifier: MIT */
/*
 * End-to-end test of `burette run --test latency` (label vm): the real CLI boots the guest
 * under TCG on one backend with short settings (2 kept iterations of three 2-s sub-tests).
 * The report must hold all fourteen metrics, the thirteen rates and times with two positive
 * samples each, rates marked higher-is-better and times lower-is-better, udp_rr_lost (unit
 * requests, lower is better) equal to the guest's count of unanswered requests, the
 * percentiles of each iteration in order
 * (p50 <= p90 <= p99 <= p99.9), and each sample equal to what the guest's rr loop printed for
 * that iteration and sub-test (its JSON, kept in the log directory, read here with jansson,
 * independently of burette's parser), which the host's echo server must have seen at least as
 * often. Nothing burette started may outlive it (this test is a child subreaper). With
 * --strikes, two more runs are struck in their first sub-test: SIGINT to burette (exit 130),
 * SIGKILL to the echo server (exit 1, the guest's failure and the host side's reason both
 * named); neither may leave a process behind.
 *
 * Usage: test_latency BURETTE_BINARY BACKEND [--strikes]
 */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "e2e.h"
#include "fd.h"
#include "skip.h"
#include "test_args.h"

#define ITERATIONS 2

static const char *burette, *backend;
static char tmpdir[] = "/tmp/burette-e2e-latency-XXXXXX";

struct sub {
    const char *key;
    const char *rate_unit;
    const char *const *percentiles; /* NULL-terminated: metric suffix, then JSON key */
};

static const char *const all_pct[] = {"p50", "p90", "p99", "p999", NULL};
static const char *const crr_pct[] = {"p50", "p99", NULL};
static const struct sub subs[] = {
    {"tcp_rr", "transactions/s", all_pct},
    {"tcp_crr", "connections/s", crr_pct},
    {"udp_rr", "transactions/s", all_pct},
};

static double sample(json_t *results, const char *name, size_t i)
{
    json_t *r = e2e_find_result(results, name);

    if (!r)
        fail_msg("%s: no metric %s in the report", backend, name);
    return json_number_value(json_array_get(json_object_get(r, "samples"), i));
}

static void assert_close_rel(double got, double want, const char *what)
{
    if (fabs(got - want) > 1e-6 * fabs(want) + 1e-9)
        fail_msg("%s: %s is %.9g in the report, %.9g in the guest's output", backend, what, got,
                 want);
}

static json_t *load(const char *logs, int it, const char *key, const char *side)
{
    char path[1024];
    json_t *j;

    snprintf(path, sizeof(path), "%s/latency-%d-%s-%s.json", logs, it, key, side);
    j = json_load_file(path, 0, NULL);
    if (!j)
        fail_msg("missing or unreadable %s", path);
    return j;
}

static void test_latency_report_has_ordered_metrics_matching_the_guest(void **state)
{
    char report[512], logs[512], buf[65536] = "", name[128];
    json_t *root, *results, *config;
    int status;

    (void)state;
    snprintf(report, sizeof(report), "%s/report.json", tmpdir);
    snprintf(logs, sizeof(logs), "%s/logs", tmpdir);
    {
        const char *args[] = {"run",  "--test",       "latency", "--backend", backend, "--duration",
                              "2",    "--iterations", "2",       "--warmup",  "0",     "-o",
                              report, "--log-dir",    logs,      NULL};

        status = e2e_run(burette, args, NULL, buf, sizeof(buf));
    }
    if (!strcmp(backend, "tap") && WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
        (strstr(buf, "/dev/net/tun") || strstr(buf, "user namespace")))
        TEST_SKIP("tap cannot be set up here: %.300s", buf);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("burette failed (status %#x); its stderr ends:\n%s", status, buf);
    assert_non_null(strstr(buf, "iteration 2/2: UDP request/response"));
    e2e_assert_no_children();

    root = json_load_file(report, 0, NULL);
    assert_non_null(root);
    config = json_object_get(root, "config");
    assert_string_equal(json_string_value(json_object_get(config, "test")), "latency");
    assert_string_equal(json_string_value(json_object_get(config, "backend")), backend);
    assert_int_equal(json_integer_value(json_object_get(config, "rr_size")), 1);
    results = json_object_get(root, "results");
    assert_true(json_is_array(results));
    /* 4 + 2 + 4 percentiles, 3 rates, UDP's lost requests and each sub-test's others' CPU,
     * nothing else */
    assert_int_equal(json_array_size(results), 17);
    {
        json_t *r = e2e_find_result(results, "net_virtio-net_udp_rr_lost");

        if (!r)
            fail_msg("%s: no metric net_virtio-net_udp_rr_lost in the report", backend);
        assert_string_equal(json_string_value(json_object_get(r, "unit")), "requests");
        assert_true(json_is_false(json_object_get(r, "higher_is_better")));
        assert_int_equal(json_array_size(json_object_get(r, "samples")), ITERATIONS);
    }

    for (size_t s = 0; s < sizeof(subs) / sizeof(subs[0]); s++) {
        const struct sub *sub = &subs[s];
        json_t *r;

        snprintf(name, sizeof(name), "net_virtio-net_%s_per_s", sub->key);
        r = e2e_assert_positive_samples(results, name, ITERATIONS, backend);
        assert_string_equal(json_string_value(json_object_get(r, "unit")), sub->rate_unit);
        assert_true(json_is_true(json_object_get(r, "higher_is_better")));
        /* a share of one CPU per sample: at least 0, at most every CPU of the machine */
        snprintf(name, sizeof(name), "net_virtio-net_%s_others_cpu_percent", sub->key);
        r = e2e_find_result(results, name);
        if (!r)
            fail_msg("%s: no metric %s in the report", backend, name);
        assert_string_equal(json_string_value(json_object_get(r, "unit")), "%");
        assert_int_equal(json_array_size(json_object_get(r, "samples")), ITERATIONS);
        for (size_t i = 0; i < ITERATIONS; i++) {
            double v = json_number_value(json_array_get(json_object_get(r, "samples"), i));

            if (!(v >= 0 && v <= 100.0 * (double)sysconf(_SC_NPROCESSORS_ONLN)))
                fail_msg("%s: %s sample %zu is %g", backend, name, i, v);
        }
        for (size_t p = 0; sub->percentiles[p]; p++) {
            snprintf(name, sizeof(name), "net_virtio-net_%s_%s_us", sub->key, sub->percentiles[p]);
            r = e2e_assert_positive_samples(results, name, ITERATIONS, backend);
            assert_string_equal(json_string_value(json_object_get(r, "unit")), "us");
            assert_true(json_is_false(json_object_get(r, "higher_is_better")));
        }

        for (int it = 1; it <= ITERATIONS; it++) {
            json_t *client = load(logs, it, sub->key, "client");
            json_t *server = load(logs, it, sub->key, "server");
            json_t *lat = json_object_get(client, "latency_us");
            double tx = (double)json_integer_value(json_object_get(client, "transactions"));
            double us = (double)json_integer_value(json_object_get(client, "elapsed_us"));
            double prev = 0;
            json_int_t seen;

            assert_true(tx > 0 && us > 0);
            snprintf(name, sizeof(name), "net_virtio-net_%s_per_s", sub->key);
            assert_close_rel(sample(results, name, (size_t)it - 1), tx * 1e6 / us, name);
            for (size_t p = 0; sub->percentiles[p]; p++) {
                double v;

                snprintf(name, sizeof(name), "net_virtio-net_%s_%s_us", sub->key,
                         sub->percentiles[p]);
                v = sample(results, name, (size_t)it - 1);
                assert_close_rel(v, json_number_value(json_object_get(lat, sub->percentiles[p])),
                                 name);
                if (v < prev)
                    fail_msg("%s: iteration %d: %s (%g us) is below the percentile before it "
                             "(%g us)",
                             backend, it, name, v, prev);
                prev = v;
            }
            if (!strcmp(sub->key, "udp_rr"))
                assert_close_rel(sample(results, "net_virtio-net_udp_rr_lost", (size_t)it - 1),
                                 (double)json_integer_value(json_object_get(client, "timeouts")),
                                 "net_virtio-net_udp_rr_lost");
            /* the host saw every transaction the guest counted */
            if (!strcmp(sub->key, "tcp_rr"))
                seen = json_integer_value(json_object_get(server, "tcp_bytes"));
            else if (!strcmp(sub->key, "tcp_crr"))
                seen = json_integer_value(json_object_get(server, "tcp_connections"));
            else
                seen = json_integer_value(json_object_get(server, "udp_datagrams"));
            if ((double)seen < tx)
                fail_msg("%s: iteration %d %s: the echo server saw %lld, the guest counted %.0f",
                         backend, it, sub->key, (long long)seen, tx);
            json_decref(client);
            json_decref(server);
        }
    }
    json_decref(root);
}

/* Bad --rr-size values are refused before anything starts, naming the flag; --dry-run lists
 * the test with its message size. */
static void test_latency_cli_refuses_bad_rr_size_and_dry_run_lists_it(void **state)
{
    static const char *const zero[] = {"run", "--test", "latency", "--rr-size", "0", NULL};
    static const char *const big[] = {"run", "--test", "latency", "--rr-size", "65508", NULL};
    static const char *const network[] = {"run", "--rr-size", "64", NULL};
    char buf[4096];
    int status;

    (void)state;
    status = e2e_run(burette, zero, NULL, buf, sizeof(buf));
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
    assert_non_null(strstr(buf, "--rr-size: 0 is out of range (1 to 65507)"));
    status = e2e_run(burette, big, NULL, buf, sizeof(buf));
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
    assert_non_null(strstr(buf, "--rr-size"));
    status = e2e_run(burette, network, NULL, buf, sizeof(buf));
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
    assert_non_null(strstr(buf, "--rr-size applies to --test latency only"));
    e2e_assert_no_children();

    {
        const char *dry[] = {burette, "run",       "--test", "latency",   "--backend",
                             backend, "--rr-size", "32",     "--dry-run", NULL};
        char path[600];
        json_t *j;
        pid_t pid;
        int fd;

        snprintf(path, sizeof(path), "%s/dry.json", tmpdir);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            dup2(fd, 1);
            execv(burette, (char *const *)dry);
            _exit(127);
        }
        close(fd);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        j = json_load_file(path, 0, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "test")), "latency");
        assert_int_equal(json_integer_value(json_object_get(j, "rr_size")), 32);
        json_decref(j);
    }
}

/* How many sockets process @pid holds (0 once it is gone). */
static size_t socket_count(pid_t pid)
{
    unsigned long inodes[64];

    return fd_socket_inodes(pid, inodes, 64);
}

/*
 * Start a long run, wait until the first sub-test's echo server runs (a grandchild of burette
 * through the helper, both named like burette) and the guest's loop is connected to it, strike, and
 * check how burette ends: exit status @status_expected, stderr containing @needle, and nothing it
 * started left running.
 */
static void strike_mid_iteration(bool sigint, int status_expected, const char *needle)
{
    char buf[65536] = "", logs[512], comm[64], pcomm[64];
    unsigned long long starts[64] = {0};
    pid_t pids[64], server = 0, pid;
    size_t n = 0;
    int errfd, status;

    snprintf(logs, sizeof(logs), "%s/logs-strike%d", tmpdir, (int)sigint);
    {
        const char *args[] = {"run",        "--test",    "latency",  "--backend", backend,
                              "--duration", "30",        "--warmup", "0",         "--iterations",
                              "1",          "--log-dir", logs,       NULL};

        pid = e2e_start(burette, args, NULL, &errfd);
    }
    e2e_expect(errfd, "iteration 1/1: TCP request/response", buf, sizeof(buf),
               "the first sub-test");
    /* a condition, not a delay: poll the process tree, reading burette's stderr meanwhile */
    for (int tries = 0; tries < 1000 && !server; tries++) {
        n = e2e_descendants(pid, pids, 64);
        for (size_t i = 1; i < n; i++) {
            pid_t parent = e2e_parent_of(pids[i], comm, sizeof(comm));

            if (parent != pid && !strcmp(comm, "burette") &&
                e2e_parent_of(parent, pcomm, sizeof(pcomm)) == pid && !strcmp(pcomm, "burette"))
                server = pids[i];
        }
        if (!server)
            e2e_pause(errfd, 20, buf, sizeof(buf), "its echo server started");
    }
    assert_true(server > 0);
    /* then until the guest's loop is connected to it (its third socket: listener, UDP, the
     * connection), so the strike lands mid-exchange, not while the server starts up */
    for (int tries = 0; tries < 1000 && socket_count(server) < 3; tries++)
        e2e_pause(errfd, 20, buf, sizeof(buf), "the guest connected");
    assert_true(socket_count(server) >= 3);
    for (size_t i = 0; i < n; i++)
        starts[i] = e2e_start_time(pids[i]);
    kill(sigint ? pid : server, sigint ? SIGINT : SIGKILL);
    e2e_read_until(errfd, NULL, buf, sizeof(buf));
    close(errfd);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != status_expected || !strstr(buf, needle))
        fail_msg("expected exit %d and '%s'; got status %#x, stderr ends:\n%s", status_expected,
                 needle, status, buf);
    e2e_assert_gone(pids, starts, n);
}

static void test_latency_strike_sigint_mid_iteration_leaves_nothing_behind(void **state)
{
    (void)state;
    strike_mid_iteration(true, 128 + SIGINT, "interrupted");
}

static void test_latency_strike_echo_server_dying_is_reported_from_both_sides(void **state)
{
    (void)state;
    /* the guest's loop sees the connection go; the helper says why */
    strike_mid_iteration(false, 1, "on the host side: echo server process was killed by signal 9");
}

static int setup_dir(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    e2e_remove_tree(tmpdir);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latency_cli_refuses_bad_rr_size_and_dry_run_lists_it),
        cmocka_unit_test(test_latency_report_has_ordered_metrics_matching_the_guest),
        cmocka_unit_test(test_latency_strike_sigint_mid_iteration_leaves_nothing_behind),
        cmocka_unit_test(test_latency_strike_echo_server_dying_is_reported_from_both_sides),
    };

    test_args(argc, argv, 2, 3, "--strikes", "BURETTE_BINARY BACKEND [--strikes]");
    burette = argv[1];
    backend = argv[2];
    /* without --strikes the strike cases are left out (not skipped: nothing is missing) */
    if (argc == 3)
        cmocka_set_skip_filter("*_strike_*");
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
    return test_exit_status(cmocka_run_group_tests(tests, setup_dir, teardown_dir));
}
