/* SPDX-License-Identifier: MIT */
/*
 * End-to-end tests of `burette run --test network --backend tap` (label vm): the real CLI
 * boots the guest under TCG with short settings. One run must produce a report with the three
 * metrics, two positive samples each, and keep every raw iperf3 report. Three more are struck
 * in the middle of an iteration (SIGINT to burette; SIGKILL to the helper; SIGKILL to the
 * iperf3 server, which makes the guest's client fail): each must end with its own clear
 * message and exit status, and leave no process and no namespace behind.
 *
 * "Nothing left behind" is checked without looking at anyone else's processes: this test
 * makes itself a child subreaper, so every process burette started is either gone or has
 * become our child; and the helper's network namespace, recorded while it ran, must be held
 * by no process afterwards.
 *
 * Usage: test_network_tap BURETTE_BINARY [--basic]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "e2e.h"
#include "test_args.h"

static const char *burette;

static int wait_status(pid_t pid)
{
    int status;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_network_tap_report_has_three_metrics_with_positive_samples(void **state)
{
    static const char *const metrics[] = {
        "net_virtio-net_tcp_tx_gbps", "net_virtio-net_tcp_rx_gbps", "net_virtio-net_udp_tx_pps"};
    static const char *const extras[] = {"net_virtio-net_tcp_tx_retransmits",
                                         "net_virtio-net_tcp_rx_retransmits",
                                         "net_virtio-net_udp_tx_lost_percent"};
    char report[512], logs[512], buf[65536] = "", path[1024];
    json_t *root, *results;
    int errfd, status;
    pid_t pid;

    snprintf(report, sizeof(report), "%s/report.json", e2e_tmpdir);
    snprintf(logs, sizeof(logs), "%s/logs", e2e_tmpdir);
    {
        const char *args[] = {"run",       "--test",     "network",    "--backend", "tap",
                              "--nic",     "virtio-net", "--duration", "2",         "--iterations",
                              "2",         "--warmup",   "0",          "-o",        report,
                              "--log-dir", logs,         NULL};

        pid = e2e_start(burette, args, NULL, &errfd);
    }
    e2e_read_until(errfd, NULL, buf, sizeof(buf));
    close(errfd);
    status = wait_status(pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("burette failed (status %#x); its stderr ends:\n%s", status, buf);
    /* progress names each sub-test of each iteration */
    assert_non_null(strstr(buf, "iteration 2/2: UDP guest to host"));

    root = json_load_file(report, 0, NULL);
    assert_non_null(root);
    results = json_object_get(root, "results");
    assert_true(json_is_array(results));
    for (size_t i = 0; i < 3; i++) {
        json_t *r = e2e_assert_positive_samples(results, metrics[i], 2, "tap");

        assert_int_equal(json_integer_value(json_object_get(r, "iterations")), 2);
        assert_true(json_number_value(json_object_get(r, "mean")) > 0);
        assert_non_null(e2e_find_result(results, extras[i]));
    }
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(root, "config"), "backend")), "tap");
    json_decref(root);

    /* the raw iperf3 reports of every sub-test of every iteration are kept */
    for (int it = 1; it <= 2; it++) {
        static const char *const keys[] = {"tcp_tx", "tcp_rx", "udp_tx"};

        for (size_t i = 0; i < 3; i++) {
            json_t *j;

            snprintf(path, sizeof(path), "%s/network-%d-%s-server.json", logs, it, keys[i]);
            j = json_load_file(path, 0, NULL);
            if (!j)
                fail_msg("missing or unreadable %s", path);
            assert_non_null(json_object_get(j, "end"));
            json_decref(j);
        }
    }
}

enum strike {
    STRIKE_SIGINT_BURETTE, /* Ctrl-C */
    STRIKE_KILL_HELPER,    /* the helper dies mid-test */
    STRIKE_KILL_SERVER,    /* the iperf3 server dies: the guest's client fails */
};

/*
 * Start a long run, wait until the first sub-test's iperf3 server is up, strike, and check
 * how burette ends: @status_expected, stderr containing @needle, and nothing left behind.
 */
static void strike_mid_iteration(enum strike what, int status_expected, const char *needle)
{
    char buf[65536] = "", logs[512];
    pid_t pids[64], helper = 0, server = 0;
    unsigned long long starts[64] = {0}, struck;
    unsigned long helper_ns = 0, own_ns = e2e_net_ns_of(getpid());
    size_t n = 0;
    int errfd, status;
    pid_t pid;

    snprintf(logs, sizeof(logs), "%s/logs-strike%d", e2e_tmpdir, (int)what);
    {
        const char *args[] = {"run",        "--test",    "network",      "--backend", "tap",
                              "--duration", "30",        "--iterations", "2",         "--warmup",
                              "0",          "--log-dir", logs,           NULL};

        pid = e2e_start(burette, args, NULL, &errfd);
    }
    e2e_expect(errfd, "iteration 1/2: TCP guest to host", buf, sizeof(buf), "the first sub-test");
    /* Wait until the helper's iperf3 server (a process in the helper's namespace whose
     * parent is there too) is up, reading burette's stderr meanwhile: a condition, not a
     * delay. */
    for (int tries = 0; tries < 1000 && !server; tries++) {
        n = e2e_descendants(pid, pids, 64);
        for (size_t i = 1; i < n; i++) {
            unsigned long ns = e2e_net_ns_of(pids[i]);

            if (!ns || ns == own_ns)
                continue;
            if (e2e_parent_of(pids[i], NULL, 0) == pid) {
                helper = pids[i];
                helper_ns = ns;
            } else {
                server = pids[i];
            }
        }
        if (!server)
            e2e_pause(errfd, 20, buf, sizeof(buf), "its iperf3 server started");
    }
    assert_true(server > 0 && helper > 0 && helper_ns != 0);
    for (size_t i = 0; i < n; i++)
        starts[i] = e2e_start_time(pids[i]);
    assert_true(n >= 4); /* burette, the helper, its iperf3 server, QEMU */

    struck = e2e_now_ticks();
    kill(what == STRIKE_SIGINT_BURETTE ? pid
         : what == STRIKE_KILL_HELPER  ? helper
                                       : server,
         what == STRIKE_SIGINT_BURETTE ? SIGINT : SIGKILL);
    e2e_read_until(errfd, NULL, buf, sizeof(buf));
    close(errfd);
    status = wait_status(pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != status_expected || !strstr(buf, needle))
        fail_msg("expected exit %d and '%s'; got status %#x, stderr ends:\n%s", status_expected,
                 needle, status, buf);

    /* Whatever burette started either ended or, orphaned, became our child (subreaper). A
     * process killed a moment ago may still be exiting: give each one that is still there
     * (same pid, same start time) a bounded wait on its pidfd; one that stays is a leftover. */
    e2e_assert_gone(pids, starts, n);
    assert_false(e2e_ns_in_use(helper_ns, struck));
}

static void test_network_tap_sigint_mid_iteration_leaves_nothing_behind(void **state)
{
    strike_mid_iteration(STRIKE_SIGINT_BURETTE, 128 + SIGINT, "interrupted");
}

static void test_network_tap_helper_dying_mid_test_is_reported(void **state)
{
    strike_mid_iteration(STRIKE_KILL_HELPER, 1, "namespace helper");
}

static void test_network_tap_failing_server_and_client_are_reported(void **state)
{
    /* the server's death makes the guest's client fail; both ends are named */
    strike_mid_iteration(STRIKE_KILL_SERVER, 1, "iperf3 server process was killed by signal 9");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_network_tap_report_has_three_metrics_with_positive_samples),
        cmocka_unit_test(test_network_tap_sigint_mid_iteration_leaves_nothing_behind),
        cmocka_unit_test(test_network_tap_helper_dying_mid_test_is_reported),
        cmocka_unit_test(test_network_tap_failing_server_and_client_are_reported),
    };

    test_args(argc, argv, 1, 2, "--basic", "BURETTE_BINARY [--basic]");
    burette = argv[1];
    /* --basic: the report and SIGINT cases only (each case boots a guest) */
    if (argc == 3)
        cmocka_set_skip_filter("*_is_reported");
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, e2e_group_setup, e2e_group_teardown);
}
