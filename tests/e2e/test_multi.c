/* SPDX-License-Identifier: MIT */
/*
 * End-to-end tests of `burette run` with two named variants of consomme (label vm), under TCG
 * with short settings (2 kept iterations, no warmup, 1 s sub-tests):
 *
 * - an interleaved run gives two reports in the -o directory, each with the three metrics
 *   and two samples per metric, configs that differ in the buffer bounds and record the
 *   interleaved order; the raw iperf3 files in the log directory prove the order was AB BA
 *   (rotated each round) and each config's positions record it;
 *   the comparison printed at the end has one row per metric, the first variant as the
 *   baseline, and the verdicts `burette compare` gives on the written reports, which carry
 *   one run id and so count as one run (too short to be paired);
 * - SIGINT while both guests are up stops everything: exit status 130, no report, no process
 *   left behind;
 * - a --gate glob that matches no metric stops the run after its first kept round (exit 2,
 *   the glob named), not after every iteration: no report, no process left behind.
 *
 * Usage: test_multi BURETTE_BINARY
 */
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "e2e.h"
#include "test_args.h"

#define FIXED    "fixed256=consomme:tcp-rx-buffer=256K,tcp-tx-buffer=256K"
#define AUTOTUNE "autotune=consomme"

static const char *burette;
static const char *const metrics[] = {"net_virtio-net_tcp_tx_gbps", "net_virtio-net_tcp_rx_gbps",
                                      "net_virtio-net_udp_tx_pps"};

/* Whether @name is one of the three results every iteration records. */
static bool is_result(const char *name)
{
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
        if (!strcmp(name, metrics[i]))
            return true;
    return false;
}

/* Run burette with @args, stdout to @out, stderr to @errpath (or inherited); wait for it. */
static int run_burette(const char *const *args, const char *out, const char *errpath)
{
    const char *argv[40];
    size_t n = 0;
    int status;
    pid_t pid;

    argv[n++] = burette;
    while (*args && n < 39)
        argv[n++] = *args++;
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

        dup2(fd, 1);
        if (errpath) {
            fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 2);
        }
        execv(argv[0], (char **)argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static json_t *load(const char *path)
{
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);

    if (!j)
        fail_msg("%s: %s (line %d)", path, jerr.text, jerr.line);
    return j;
}

/* Check one variant's report; return its config (borrowed from @root). */
static json_t *check_report(json_t *root, const char *label)
{
    json_t *config = json_object_get(root, "config"), *seq;

    assert_non_null(config);
    assert_string_equal(json_string_value(json_object_get(config, "label")), label);
    assert_string_equal(json_string_value(json_object_get(config, "backend")), "consomme");
    assert_string_equal(json_string_value(json_object_get(config, "order")), "interleaved");
    seq = json_object_get(config, "sequence");
    assert_int_equal(json_array_size(seq), 2);
    assert_string_equal(json_string_value(json_array_get(seq, 0)), "fixed256");
    assert_string_equal(json_string_value(json_array_get(seq, 1)), "autotune");
    assert_string_equal(json_string_value(json_object_get(root, "label")), label);
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
        e2e_assert_positive_samples(json_object_get(root, "results"), metrics[i], 2, label);
    return config;
}

/* config.positions: the run's 0-based place in the order of each kept iteration's round. */
static void assert_positions(json_t *config, json_int_t first, json_int_t second)
{
    json_t *p = json_object_get(config, "positions");

    assert_int_equal(json_array_size(p), 2);
    assert_int_equal(json_integer_value(json_array_get(p, 0)), first);
    assert_int_equal(json_integer_value(json_array_get(p, 1)), second);
}

static json_int_t bound(json_t *config, const char *which, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(config, which), key));
}

/* When the raw iperf3 report of @label's iteration @file was written, in ns. */
static long long written_ns(const char *logs, const char *label, const char *file)
{
    char path[1024];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s/%s", logs, label, file);
    if (stat(path, &st) < 0)
        fail_msg("%s: %s", path, strerror(errno));
    return (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

/*
 * What consomme itself says it ran with (its --stats dump in the variant's log directory) must
 * be what the variant asked for: a variant whose options were lost on the way would still
 * produce a plausible report.
 */
static void assert_consomme_ran_with(const char *logs, const char *label, json_int_t initial,
                                     json_int_t max)
{
    static const char *const keys[] = {"tcp_rx_buffer", "tcp_tx_buffer"};
    char path[1024], key[64];
    json_t *stats, *config;

    snprintf(path, sizeof(path), "%s/%s/consomme-stats.json", logs, label);
    stats = load(path);
    config = json_object_get(stats, "config");
    for (size_t i = 0; i < 2; i++) {
        snprintf(key, sizeof(key), "%s_initial", keys[i]);
        assert_int_equal(json_integer_value(json_object_get(config, key)), initial);
        snprintf(key, sizeof(key), "%s_max", keys[i]);
        assert_int_equal(json_integer_value(json_object_get(config, key)), max);
    }
    json_decref(stats);
}

static void test_multi_interleaved_two_variants_give_two_reports_and_a_comparison(void **state)
{
    char dir[512], logs[512], out[512], errpath[512], fixed[600], autotune[600], cmpout[512];
    json_t *rf, *ra, *cf, *ca, *cmp, *again, *cands, *rows;
    int status;

    snprintf(dir, sizeof(dir), "%s/reports", e2e_tmpdir);
    snprintf(logs, sizeof(logs), "%s/logs", e2e_tmpdir);
    snprintf(out, sizeof(out), "%s/stdout", e2e_tmpdir);
    snprintf(errpath, sizeof(errpath), "%s/stderr", e2e_tmpdir);
    {
        const char *args[] = {
            "run",       "--test",   "network",   "--accel",           "tcg",
            "--variant", FIXED,      "--variant", "autotune=consomme", "--iterations",
            "2",         "--warmup", "0",         "--duration",        "1",
            "--quiet",   "--format", "json",      "--log-dir",         logs,
            "-o",        dir,        NULL};

        status = run_burette(args, out, NULL);
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    snprintf(fixed, sizeof(fixed), "%s/fixed256.json", dir);
    snprintf(autotune, sizeof(autotune), "%s/autotune.json", dir);
    rf = load(fixed);
    ra = load(autotune);
    cf = check_report(rf, "fixed256");
    ca = check_report(ra, "autotune");
    /* the variant's own settings, and the defaults for the one that names none */
    assert_int_equal(bound(cf, "tcp_rx_buffer", "initial"), 262144);
    assert_int_equal(bound(cf, "tcp_rx_buffer", "max"), 262144);
    assert_int_equal(bound(cf, "tcp_tx_buffer", "initial"), 262144);
    assert_int_equal(bound(cf, "tcp_tx_buffer", "max"), 262144);
    assert_int_equal(bound(ca, "tcp_rx_buffer", "initial"), 16384);
    assert_int_equal(bound(ca, "tcp_rx_buffer", "max"), 4194304);
    assert_int_equal(bound(ca, "tcp_tx_buffer", "max"), 4194304);
    assert_string_equal(json_string_value(json_object_get(cf, "variant")), FIXED);
    assert_consomme_ran_with(logs, "fixed256", 262144, 262144);
    assert_consomme_ran_with(logs, "autotune", 16384, 4194304);
    {
        char vlogs[600];

        snprintf(vlogs, sizeof(vlogs), "%s/fixed256", logs);
        e2e_assert_samples_match_iperf(json_object_get(rf, "results"), vlogs, 2, "fixed256");
        snprintf(vlogs, sizeof(vlogs), "%s/autotune", logs);
        e2e_assert_samples_match_iperf(json_object_get(ra, "results"), vlogs, 2, "autotune");
    }

    /* AB then BA (the order rotates each round): A's iteration 1 ended before B's began, B's
     * iteration 1 before its iteration 2, which ended before A's iteration 2 began */
    assert_true(written_ns(logs, "fixed256", "network-1-udp_tx-server.json") <=
                written_ns(logs, "autotune", "network-1-tcp_tx-client.json"));
    assert_true(written_ns(logs, "autotune", "network-1-udp_tx-server.json") <=
                written_ns(logs, "autotune", "network-2-tcp_tx-client.json"));
    assert_true(written_ns(logs, "autotune", "network-2-udp_tx-server.json") <=
                written_ns(logs, "fixed256", "network-2-tcp_tx-client.json"));
    /* and each report says where its run stood in each round */
    assert_positions(cf, 0, 1);
    assert_positions(ca, 1, 0);
    /* one run id, 128 random bits in hex, shared by both reports: what lets compare pair them */
    {
        const char *id = json_string_value(json_object_get(cf, "run_id"));

        assert_non_null(id);
        assert_int_equal(strlen(id), 32);
        assert_int_equal(strspn(id, "0123456789abcdef"), 32);
        assert_string_equal(id, json_string_value(json_object_get(ca, "run_id")));
    }

    /* the comparison: baseline first variant, one candidate, a row per metric */
    cmp = load(out);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(cmp, "baseline"), "label")), "fixed256");
    cands = json_object_get(cmp, "candidates");
    assert_int_equal(json_array_size(cands), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cands, 0), "label")),
                        "autotune");
    rows = json_object_get(json_array_get(cands, 0), "metrics");
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
        json_t *row = e2e_find_result(rows, metrics[i]);

        if (!row)
            fail_msg("no comparison row for %s", metrics[i]);
        assert_int_equal(
            json_array_size(json_object_get(json_object_get(row, "baseline"), "samples")), 2);
    }

    /* the same verdicts as `burette compare` on the reports written */
    snprintf(cmpout, sizeof(cmpout), "%s/compare.json", e2e_tmpdir);
    {
        const char *args[] = {"compare", "--format", "json", fixed, autotune, NULL};

        status = run_burette(args, cmpout, errpath);
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    again = load(cmpout);
    {
        json_t *rows2 =
            json_object_get(json_array_get(json_object_get(again, "candidates"), 0), "metrics");
        size_t i;
        json_t *row;

        assert_int_equal(json_array_size(rows2), json_array_size(rows));
        json_array_foreach(rows, i, row)
        {
            json_t *row2 = e2e_find_result(rows2, json_string_value(json_object_get(row, "name")));

            assert_non_null(row2);
            assert_string_equal(json_string_value(json_object_get(row, "verdict")),
                                json_string_value(json_object_get(row2, "verdict")));
            /* one run, but 2 rounds are too few for a paired p to reach alpha 0.01. A
             * diagnostic that one iteration lacked (seen once under ASan; which one is not
             * known) is never paired, and says so: the line is kept in the test's log */
            const char *name = json_string_value(json_object_get(row, "name"));
            const char *pairing = json_string_value(json_object_get(row2, "pairing"));

            assert_non_null(pairing);
            if (!is_result(name) && !strcmp(pairing, "unpaired (not one sample per round)"))
                printf("test_multi: %s was not given in every round\n", name);
            else
                assert_string_equal(pairing, "unpaired (too few rounds to pair)");
        }
        assert_true(json_is_true(
            json_object_get(json_array_get(json_object_get(again, "candidates"), 0), "same_run")));
    }
    json_decref(again);
    json_decref(cmp);
    json_decref(rf);
    json_decref(ra);

    /* burette's children (QEMU, consomme, helpers) became ours as subreaper: none may run */
    e2e_assert_no_running_child();
}

/* A run that failed or was stopped wrote no report in @dir and left no process behind. */
static void assert_no_report_nor_child(const char *dir)
{
    char path[600];
    struct stat st;

    snprintf(path, sizeof(path), "%s/fixed256.json", dir);
    assert_int_equal(stat(path, &st), -1);
    e2e_assert_no_running_child();
}

static void test_multi_sigint_with_both_guests_up_leaves_nothing_behind(void **state)
{
    char dir[512], logs[512], buf[65536] = "";
    int errfd;
    pid_t pid;

    snprintf(dir, sizeof(dir), "%s/int-reports", e2e_tmpdir);
    snprintf(logs, sizeof(logs), "%s/int-logs", e2e_tmpdir);
    {
        const char *args[] = {"run",    "--accel",      "tcg", "--variant", FIXED, "--variant",
                              AUTOTUNE, "--iterations", "2",   "--warmup",  "0",   "--duration",
                              "3",      "--log-dir",    logs,  "-o",        dir,   NULL};

        pid = e2e_start(burette, args, NULL, &errfd);
    }
    /* both guests are up and the second variant's first sub-test is under way */
    e2e_expect(errfd, "autotune: iteration 1/2", buf, sizeof(buf), "the second variant ran");
    e2e_expect(errfd, "TCP guest to host", buf, sizeof(buf), "the second variant's sub-test");
    e2e_interrupt(pid, errfd, buf, sizeof(buf));
    assert_non_null(strstr(buf, "interrupted"));
    /* both slots were torn down */
    assert_non_null(strstr(buf, "fixed256: tearing down"));
    assert_non_null(strstr(buf, "autotune: tearing down"));
    /* no report from an interrupted run */
    assert_no_report_nor_child(dir);
}

static void test_multi_unmatched_gate_stops_after_the_first_iteration(void **state)
{
    static const char *const said[] = {
        "'*_tpc_tx_*' matches no metric these runs record",
        "stopped once each run had one kept iteration",
        "autotune: iteration 1/3",
        "fixed256: iteration 1/3",
    };
    char dir[512], logs[512], buf[65536] = "";
    int status;

    snprintf(dir, sizeof(dir), "%s/gate-reports", e2e_tmpdir);
    snprintf(logs, sizeof(logs), "%s/gate-logs", e2e_tmpdir);
    {
        const char *args[] = {"run",
                              "--accel",
                              "tcg",
                              "--variant",
                              FIXED,
                              "--variant",
                              AUTOTUNE,
                              "--iterations",
                              "3",
                              "--warmup",
                              "0",
                              "--duration",
                              "1",
                              "--gate",
                              "rates,*_tpc_tx_*",
                              "--fail-on-regression",
                              "--log-dir",
                              logs,
                              "-o",
                              dir,
                              NULL};

        status = e2e_run(burette, args, NULL, buf, sizeof(buf));
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    /* the glob named, and the first round run on both, the second on neither */
    for (size_t i = 0; i < sizeof(said) / sizeof(said[0]); i++)
        if (!strstr(buf, said[i]))
            fail_msg("stderr lacks \"%s\": %s", said[i], buf);
    assert_null(strstr(buf, "iteration 2/3"));
    assert_no_report_nor_child(dir);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multi_interleaved_two_variants_give_two_reports_and_a_comparison),
        cmocka_unit_test(test_multi_sigint_with_both_guests_up_leaves_nothing_behind),
        cmocka_unit_test(test_multi_unmatched_gate_stops_after_the_first_iteration),
    };

    burette = test_operand(argc, argv, "BURETTE_BINARY");
    return cmocka_run_group_tests(tests, e2e_group_setup, e2e_group_teardown);
}
