/* SPDX-License-Identifier: MIT */
/*
 * End-to-end tests of the peer backends (label vm): the real `burette run --test network`
 * with `--backend slirp` and `--backend passt` boots the guest under TCG with short settings
 * (2 iterations of 2 s sub-tests, no warmup) and must write a report with the three metrics,
 * two positive samples each. The guest's TCP MSS in iperf3's own report proves each backend's
 * MTU reached the guest (1500 for slirp, 65520 for passt). passt runs 5-s sub-tests and none of
 * its TCP runs may have a 1-s interval below a tenth of the run's median: started on a
 * socketpair with --fd instead of its own socket, this passt stalled host-to-guest (whole
 * seconds at 0 Gbps) in every run of 5 s. Around them, what a user meets when
 * things are missing: no passt, no perf, a --perf-dir that is a file — each a clear error
 * before any guest boots; and `--perf-dir` itself: one data file per sub-test and process.
 *
 * "Nothing left behind" is checked without looking at anyone else's processes: this test is a
 * child subreaper, so every process burette started is either gone or has become our child.
 *
 * Usage: test_network_slirp_passt BURETTE_BINARY slirp|passt|perf  (one group per ctest test,
 * so they may run in parallel)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include "skip.h"
#include "test_args.h"

static const char *burette;
static char qemu[4096]; /* qemu-system-x86_64 as found in PATH */

/* Run burette to its end; its exit status, its stderr in @buf. */
static int run(const char *const *args, const char *path, char *buf, size_t len)
{
    return e2e_run(burette, args, path, buf, len);
}

/*
 * burette @args (PATH @path; NULL keeps the test's) is refused before any guest boots, with a
 * message holding @what and @how (NULL: no second part), and leaves no child behind.
 */
static void assert_refused_before_boot(const char *const *args, const char *path, const char *what,
                                       const char *how)
{
    char buf[16384];
    int status = run(args, path, buf, sizeof(buf));

    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
    if (!strstr(buf, what) || (how && !strstr(buf, how)))
        fail_msg("the message does not say '%s'%s%s:\n%s", what, how ? " and " : "", how ? how : "",
                 buf);
    assert_null(strstr(buf, "booting the guest"));
    e2e_assert_no_children();
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/*
 * Fail if the receiver's 1-s intervals in the iperf3 report at @path hold one below a tenth of
 * their median (a stall); a last interval shorter than half a second is not counted.
 */
static void assert_no_stalled_interval(const char *path)
{
    double gbps[64], sorted[64], median;
    json_t *root = json_load_file(path, 0, NULL), *intervals, *iv;
    size_t n = 0, i;

    if (!root)
        fail_msg("missing or unreadable %s", path);
    intervals = json_object_get(root, "intervals");
    json_array_foreach(intervals, i, iv)
    {
        json_t *sum = json_object_get(iv, "sum");

        if (n < sizeof(gbps) / sizeof(gbps[0]) &&
            json_real_value(json_object_get(sum, "seconds")) >= 0.5)
            gbps[n++] = json_number_value(json_object_get(sum, "bits_per_second")) / 1e9;
    }
    json_decref(root);
    if (n < 3)
        fail_msg("%s: %zu intervals of at least 0.5 s, expected 3 or more", path, n);
    memcpy(sorted, gbps, n * sizeof(gbps[0]));
    qsort(sorted, n, sizeof(sorted[0]), compare_doubles);
    median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    for (i = 0; i < n; i++)
        if (gbps[i] < median / 10)
            fail_msg("%s: interval %zu moved %.3f Gbps, below a tenth of the median %.3f: the "
                     "backend stalled",
                     path, i + 1, gbps[i], median);
}

/* The short run every backend must pass, and the MSS the guest's client saw. */
static void check_backend_run(const char *backend, const char *duration, json_int_t min_mss,
                              json_int_t max_mss, bool check_stalls)
{
    static const char *const metrics[] = {
        "net_virtio-net_tcp_tx_gbps", "net_virtio-net_tcp_rx_gbps", "net_virtio-net_udp_tx_pps"};
    char report[512], logs[512], path[1024], buf[65536];
    json_t *root, *results, *client;
    json_int_t mss;
    int status;

    snprintf(report, sizeof(report), "%s/%s.json", e2e_tmpdir, backend);
    snprintf(logs, sizeof(logs), "%s/%s-logs", e2e_tmpdir, backend);
    {
        const char *args[] = {
            "run", "--test", "network", "--backend", backend, "--duration",   duration, "--warmup",
            "0",   "-o",     report,    "--log-dir", logs,    "--iterations", "2",      NULL};

        status = run(args, NULL, buf, sizeof(buf));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("burette --backend %s failed (status %#x); its stderr ends:\n%s", backend, status,
                 buf);
    e2e_assert_no_children();

    root = json_load_file(report, 0, NULL);
    assert_non_null(root);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(root, "config"), "backend")), backend);
    results = json_object_get(root, "results");
    for (size_t i = 0; i < 3; i++) {
        json_t *r = e2e_assert_positive_samples(results, metrics[i], 2, backend);

        assert_int_equal(json_integer_value(json_object_get(r, "iterations")), 2);
    }

    /* iperf3 reports the MSS its TCP connection got: the MTU the backend gave the guest */
    snprintf(path, sizeof(path), "%s/network-1-tcp_tx-client.json", logs);
    client = json_load_file(path, 0, NULL);
    if (!client)
        fail_msg("missing or unreadable %s", path);
    mss = json_integer_value(json_object_get(json_object_get(client, "start"), "tcp_mss_default"));
    if (mss < min_mss || mss > max_mss)
        fail_msg("%s: the guest's TCP MSS is %lld, expected %lld..%lld", backend, (long long)mss,
                 (long long)min_mss, (long long)max_mss);
    json_decref(client);

    /* burette's own stall count agrees: none in any kept iteration */
    for (size_t i = 0; check_stalls && i < 2; i++) {
        static const char *const stalled[] = {"net_virtio-net_tcp_tx_stalled_intervals",
                                              "net_virtio-net_tcp_rx_stalled_intervals"};
        json_t *r = e2e_find_result(json_object_get(root, "results"), stalled[i]), *v;
        size_t k;

        if (!r)
            fail_msg("the %s report lacks %s", backend, stalled[i]);
        json_array_foreach(json_object_get(r, "samples"), k, v)
        {
            if (json_number_value(v) != 0)
                fail_msg("%s: %s sample %zu is %g", backend, stalled[i], k, json_number_value(v));
        }
    }
    json_decref(root);

    /* the receiver's side of each TCP direction: the server for tx, the client for rx (-R) */
    for (int it = 1; check_stalls && it <= 2; it++) {
        snprintf(path, sizeof(path), "%s/network-%d-tcp_tx-server.json", logs, it);
        assert_no_stalled_interval(path);
        snprintf(path, sizeof(path), "%s/network-%d-tcp_rx-client.json", logs, it);
        assert_no_stalled_interval(path);
    }
}

static void test_slirp_short_run_reports_three_metrics_with_two_positive_samples(void **state)
{
    (void)state;
    /* MTU 1500: 1460 less TCP options */
    check_backend_run("slirp", "2", 1400, 1460, false);
}

static void test_passt_short_run_reports_three_metrics_without_stalls(void **state)
{
    (void)state;
    /* MTU 65520; passt clamps the MSS it announces (32768 with this passt), still far above
     * anything an MTU of 1500 allows */
    check_backend_run("passt", "5", 16384, 65480, true);
}

static void test_passt_missing_is_a_clear_error_before_boot(void **state)
{
    char empty[512];

    (void)state;
    snprintf(empty, sizeof(empty), "%s/empty-path", e2e_tmpdir);
    assert_int_equal(mkdir(empty, 0755), 0);
    {
        const char *args[] = {"run",        "--test", "network",      "--backend", "passt",
                              "--duration", "1",      "--iterations", "1",         "--warmup",
                              "0",          "--qemu", qemu,           NULL};

        assert_refused_before_boot(args, empty, "passt is not installed", "apt-get install passt");
    }
}

static void test_passt_sigint_mid_run_leaves_no_passt_behind(void **state)
{
    const char *args[] = {"run", "--test",       "network", "--backend", "passt", "--duration",
                          "30",  "--iterations", "2",       "--warmup",  "0",     NULL};
    char buf[65536] = "", comm[64];
    bool seen = false;
    int errfd;
    pid_t pid;
    DIR *d;
    struct dirent *de;

    (void)state;
    pid = e2e_start(burette, args, NULL, &errfd);
    e2e_expect(errfd, "iteration 1/2: TCP guest to host", buf, sizeof(buf), "the first sub-test");
    /* passt is burette's child while the sub-test runs */
    d = opendir("/proc");
    while (d && (de = readdir(d))) {
        pid_t child = (pid_t)atoi(de->d_name);

        seen |= child > 0 && e2e_parent_of(child, comm, sizeof(comm)) == pid &&
                !strncmp(comm, "passt", 5);
    }
    if (d)
        closedir(d);
    assert_true(seen);

    e2e_interrupt(pid, errfd, buf, sizeof(buf));
    e2e_assert_no_children();
}

static void test_perf_dir_that_is_a_file_is_an_error_before_boot(void **state)
{
    char file[512];
    int fd;

    (void)state;
    snprintf(file, sizeof(file), "%s/not-a-dir", e2e_tmpdir);
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    close(fd);
    {
        const char *args[] = {"run",        "--test",     "network",      "--backend", "slirp",
                              "--duration", "1",          "--iterations", "1",         "--warmup",
                              "0",          "--perf-dir", file,           NULL};

        assert_refused_before_boot(args, NULL, "not a directory", NULL);
    }
}

static void test_perf_missing_is_a_clear_error_before_boot(void **state)
{
    char empty[512], dir[512];

    (void)state;
    snprintf(empty, sizeof(empty), "%s/no-perf-path", e2e_tmpdir);
    snprintf(dir, sizeof(dir), "%s/perf-missing", e2e_tmpdir);
    assert_int_equal(mkdir(empty, 0755), 0);
    {
        const char *args[] = {"run", "--test",       "network", "--backend", "slirp", "--duration",
                              "1",   "--iterations", "1",       "--warmup",  "0",     "--perf-dir",
                              dir,   "--qemu",       qemu,      NULL};

        assert_refused_before_boot(args, empty, "perf program", "linux-perf");
    }
}

static void test_perf_dir_records_qemu_and_passt_per_subtest(void **state)
{
    static const char *const keys[] = {"tcp_tx", "tcp_rx", "udp_tx"};
    static const char *const procs[] = {"qemu", "passt"};
    char dir[512], buf[65536], path[1024];
    int status;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/perf", e2e_tmpdir);
    {
        const char *args[] = {"run", "--test",       "network", "--backend", "passt", "--duration",
                              "1",   "--iterations", "1",       "--warmup",  "0",     "--perf-dir",
                              dir,   "--qemu",       qemu,      NULL};

        status = run(args, NULL, buf, sizeof(buf));
    }
    /* this machine or user may not profile (not root): burette said so, before any sub-test */
    if (strstr(buf, "perf_event_paranoid") || strstr(buf, "CAP_PERFMON"))
        TEST_SKIP("this machine or user may not profile: %.200s", buf);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("burette --perf-dir failed (status %#x); its stderr ends:\n%s", status, buf);
    e2e_assert_no_children();
    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 2; j++) {
            struct stat st;

            snprintf(path, sizeof(path), "%s/%s-1.%s.data", dir, keys[i], procs[j]);
            if (stat(path, &st))
                fail_msg("missing %s", path);
            /* a header alone is a few KiB; samples of a busy process add much more */
            if (st.st_size < 8192)
                fail_msg("%s has only %lld bytes", path, (long long)st.st_size);
        }
    }
}

static int setup_dir(void **state)
{
    const char *path = getenv("PATH");

    (void)state;
    /* The tests that empty PATH still need QEMU, which burette probes first: its full path. */
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");

        snprintf(qemu, sizeof(qemu), "%.*s/qemu-system-x86_64", (int)n, p);
        if (!access(qemu, X_OK))
            break;
        qemu[0] = '\0';
        p += n + (p[n] == ':');
    }
    return qemu[0] ? e2e_group_setup(state) : -1;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest slirp[] = {
        cmocka_unit_test(test_slirp_short_run_reports_three_metrics_with_two_positive_samples),
    };
    const struct CMUnitTest passt[] = {
        cmocka_unit_test(test_passt_missing_is_a_clear_error_before_boot),
        cmocka_unit_test(test_passt_short_run_reports_three_metrics_without_stalls),
        cmocka_unit_test(test_passt_sigint_mid_run_leaves_no_passt_behind),
    };
    const struct CMUnitTest perf[] = {
        cmocka_unit_test(test_perf_dir_that_is_a_file_is_an_error_before_boot),
        cmocka_unit_test(test_perf_missing_is_a_clear_error_before_boot),
        cmocka_unit_test(test_perf_dir_records_qemu_and_passt_per_subtest),
    };

    test_args(argc, argv, 2, 2, NULL, "BURETTE_BINARY slirp|passt|perf");
    burette = argv[1];
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(argv[2], "slirp"))
        return test_exit_status(
            cmocka_run_group_tests_name("slirp", slirp, setup_dir, e2e_group_teardown));
    if (!strcmp(argv[2], "passt"))
        return test_exit_status(
            cmocka_run_group_tests_name("passt", passt, setup_dir, e2e_group_teardown));
    if (!strcmp(argv[2], "perf"))
        return test_exit_status(
            cmocka_run_group_tests_name("perf", perf, setup_dir, e2e_group_teardown));
    fprintf(stderr, "unknown group '%s'\n", argv[2]);
    return 2;
}
