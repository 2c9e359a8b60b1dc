/* SPDX-License-Identifier: MIT */
/*
 * End-to-end test of the network test's sweeps (label vm): `burette run --test network
 * --backend consomme --streams 1,2 --mtu 1500,9000`, 1 iteration of 1-s sub-tests under TCG,
 * makes one report holding every point of the sweep. Each MTU gets its own guest (and
 * consomme), whose DHCP lease gives the guest that MTU: the guest's iperf3 client then uses
 * an MSS that only that MTU allows (iperf3's own start.tcp_mss_default: above 1460 only with
 * the MTU above 1500, at most 40 bytes under it), and
 * with 2 streams its report says 2. The report's config records both lists; every metric of
 * the sweep carries its _p2 / _mtuN suffix and none keeps the plain name; every sub-test has
 * its CPU figures (the iperf3 server's from the helper, Gbit per CPU-second, percents of a
 * core) and its CPU record in the log directory. Nothing is left running.
 *
 * Usage: test_network_sweep BURETTE_BINARY
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "e2e.h"
#include "test_args.h"

static const char *burette;

static const unsigned mtus[] = {1500, 9000};
static const unsigned streams[] = {1, 2};

/* "tcp_tx" with the sweep's suffix for @s streams at @mtu: "tcp_tx_p2_mtu9000". */
static void key_of(char *buf, size_t len, const char *sub, unsigned s, unsigned mtu)
{
    if (s > 1)
        snprintf(buf, len, "%s_p%u_mtu%u", sub, s, mtu);
    else
        snprintf(buf, len, "%s_mtu%u", sub, mtu);
}

static json_t *client_report(const char *logs, unsigned mtu, const char *key)
{
    char path[PATH_MAX + 128];
    json_error_t jerr;
    json_t *j;

    snprintf(path, sizeof(path), "%s/mtu%u/network-1-%s-client.json", logs, mtu, key);
    j = json_load_file(path, 0, &jerr);
    if (!j)
        fail_msg("%s: %s", path, jerr.text);
    return j;
}

static void assert_uint_list(json_t *a, const unsigned *want, size_t n, const char *what)
{
    if (!json_is_array(a) || json_array_size(a) != n)
        fail_msg("config.%s is not a list of %zu", what, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(json_integer_value(json_array_get(a, i)), want[i]);
}

static void test_network_sweep_one_report_holds_every_point(void **state)
{
    static const char *const subs[] = {"tcp_tx", "tcp_rx", "udp_tx"};
    char report[PATH_MAX], logs[PATH_MAX / 2], name[160], out[8192] = "";
    json_t *root, *results, *config;
    json_error_t jerr;
    int status;

    (void)state;
    snprintf(report, sizeof(report), "%s/report.json", e2e_tmpdir);
    snprintf(logs, sizeof(logs), "%s/logs", e2e_tmpdir);
    {
        const char *const args[] = {
            "run",       "--test",     "network", "--backend",    "consomme", "--transport",
            "stream",    "--accel",    "tcg",     "--iterations", "1",        "--warmup",
            "0",         "--duration", "1",       "--streams",    "1,2",      "--mtu",
            "1500,9000", "--log-dir",  logs,      "-o",           report,     NULL};

        status = e2e_run(burette, args, NULL, out, sizeof(out));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("burette ended with status %d: %s", status, out);

    root = json_load_file(report, 0, &jerr);
    assert_non_null(root);
    config = json_object_get(root, "config");
    assert_uint_list(json_object_get(config, "streams"), streams, 2, "streams");
    assert_uint_list(json_object_get(config, "mtu"), mtus, 2, "mtu");
    results = json_object_get(root, "results");
    /* a sweep has no unsuffixed figure: every one says which point it is */
    assert_null(e2e_find_result(results, "net_virtio-net_tcp_tx_gbps"));
    assert_null(e2e_find_result(results, "net_virtio-net_tcp_tx_p2_gbps"));

    for (size_t m = 0; m < 2; m++)
        for (size_t s = 0; s < 2; s++)
            for (size_t k = 0; k < 3; k++) {
                char key[64], path[PATH_MAX + 128];
                json_t *r;

                key_of(key, sizeof(key), subs[k], streams[s], mtus[m]);
                snprintf(name, sizeof(name), "net_virtio-net_%s_%s", key, k == 2 ? "pps" : "gbps");
                e2e_assert_positive_samples(results, name, 1, key);
                /* the host's iperf3 server's CPU, and all of it per Gbit */
                snprintf(name, sizeof(name), "net_virtio-net_%s_iperf3_ms_per_gbit", key);
                e2e_assert_positive_samples(results, name, 1, key);
                snprintf(name, sizeof(name), "net_virtio-net_%s_gbit_per_cpu_s", key);
                r = e2e_assert_positive_samples(results, name, 1, key);
                assert_string_equal(json_string_value(json_object_get(r, "unit")), "Gbit/CPU/s");
                assert_true(json_is_true(json_object_get(r, "higher_is_better")));
                snprintf(name, sizeof(name), "net_virtio-net_%s_vcpu_cpu_percent", key);
                r = e2e_assert_positive_samples(results, name, 1, key);
                assert_true(json_is_false(json_object_get(r, "higher_is_better")));
                /* other work on the machine meanwhile: what compare's "busy" warning reads */
                snprintf(name, sizeof(name), "net_virtio-net_%s_others_cpu_percent", key);
                r = e2e_find_result(results, name);
                assert_non_null(r);
                assert_string_equal(json_string_value(json_object_get(r, "unit")), "%");
                snprintf(path, sizeof(path), "%s/mtu%u/network-1-%s-cpu.json", logs, mtus[m], key);
                assert_int_equal(access(path, R_OK), 0);
            }

    /* the guest took each MTU: its TCP MSS is 40 bytes under it; -P 2 ran two streams */
    for (size_t m = 0; m < 2; m++) {
        char key[64];
        json_int_t mss;
        json_t *c;

        key_of(key, sizeof(key), "tcp_tx", 1, mtus[m]);
        c = client_report(logs, mtus[m], key);
        mss = json_integer_value(json_object_get(json_object_get(c, "start"), "tcp_mss_default"));
        /* at most what the MTU allows; above 1460 only if the guest's MTU is above 1500 (the
         * peer may offer less: consomme's own segment limit) */
        assert_true(mss > 0 && mss <= (json_int_t)mtus[m] - 40);
        if (mtus[m] > 1500)
            assert_true(mss > 1460);
        json_decref(c);
        key_of(key, sizeof(key), "tcp_tx", 2, mtus[m]);
        c = client_report(logs, mtus[m], key);
        assert_int_equal(
            json_integer_value(json_object_get(
                json_object_get(json_object_get(c, "start"), "test_start"), "num_streams")),
            2);
        json_decref(c);
    }
    json_decref(root);
    e2e_assert_no_running_child();
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_network_sweep_one_report_holds_every_point),
    };

    burette = test_operand(argc, argv, "BURETTE_BINARY");
    return cmocka_run_group_tests(tests, e2e_group_setup, e2e_group_teardown);
}
