/* SPDX-License-Identifier: MIT */
/*
 * End-to-end test of `--mtu` on the peer backends (label vm): `burette run --test network
 * --backend passt|tap --mtu 9000`, 1 iteration of 1-s sub-tests under TCG. Each backend takes
 * the MTU when it starts (passt's -m, which its DHCP lease hands the guest; tap0's MTU and the
 * agent's static configuration of the guest NIC), so the proof that the guest really used it
 * is in the guest's own TCP connections: iperf3's start.tcp_mss_default in the kept client
 * reports of both TCP directions must be above 1460 (impossible on an MTU of 1500) and at
 * most 40 bytes under 9000. The report's config records the MTU, a single --mtu keeps the
 * plain metric names, and nothing burette started outlives it (this test is a child
 * subreaper). consomme's sweep has its own test (test_network_sweep.c).
 *
 * Skipped (77) where the backend cannot run: no passt installed, or no TAP device for this
 * user (/dev/net/tun, user namespaces) — recognised by burette's own message.
 *
 * Usage: test_network_mtu_peers BURETTE_BINARY passt|tap
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

#include <cmocka.h>
#include <jansson.h>

#include "e2e.h"
#include "skip.h"
#include "test_args.h"

#define MTU 9000

static const char *burette, *backend;

/* The MSS the guest's iperf3 client got on the connection of sub-test @key. */
static json_int_t client_mss(const char *logs, const char *key)
{
    char path[PATH_MAX + 64];
    json_error_t jerr;
    json_t *c, *mss;
    json_int_t v;

    snprintf(path, sizeof(path), "%s/network-1-%s-client.json", logs, key);
    c = json_load_file(path, 0, &jerr);
    if (!c)
        fail_msg("%s: %s", path, jerr.text);
    mss = json_object_get(json_object_get(c, "start"), "tcp_mss_default");
    if (!json_is_integer(mss))
        fail_msg("%s: no start.tcp_mss_default", path);
    v = json_integer_value(mss);
    json_decref(c);
    return v;
}

static void test_mtu_reaches_the_guest(void **state)
{
    static const char *const metrics[] = {
        "net_virtio-net_tcp_tx_gbps", "net_virtio-net_tcp_rx_gbps", "net_virtio-net_udp_tx_pps"};
    static const char *const tcp[] = {"tcp_tx", "tcp_rx"};
    char report[PATH_MAX], logs[PATH_MAX / 2], mtu[16], out[16384] = "";
    json_t *root, *config, *results;
    int status;

    (void)state;
    snprintf(report, sizeof(report), "%s/report.json", e2e_tmpdir);
    snprintf(logs, sizeof(logs), "%s/logs", e2e_tmpdir);
    snprintf(mtu, sizeof(mtu), "%u", MTU);
    {
        const char *const args[] = {
            "run", "--test",   "network", "--backend",  backend, "--accel", "tcg", "--iterations",
            "1",   "--warmup", "0",       "--duration", "1",     "--mtu",   mtu,   "--log-dir",
            logs,  "-o",       report,    NULL};

        status = e2e_run(burette, args, NULL, out, sizeof(out));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && strstr(out, "passt is not installed"))
        TEST_SKIP("passt is not installed: %.300s", out);
    if (!strcmp(backend, "tap") && WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
        (strstr(out, "/dev/net/tun") || strstr(out, "user namespace")))
        TEST_SKIP("tap cannot be set up here: %.300s", out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("burette --backend %s --mtu %u ended with status %#x: %s", backend, MTU, status,
                 out);
    e2e_assert_no_children();

    root = json_load_file(report, 0, NULL);
    assert_non_null(root);
    config = json_object_get(root, "config");
    assert_string_equal(json_string_value(json_object_get(config, "backend")), backend);
    assert_int_equal(json_integer_value(json_object_get(config, "mtu")), MTU);
    results = json_object_get(root, "results");
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
        e2e_assert_positive_samples(results, metrics[i], 1, backend);
    assert_null(e2e_find_result(results, "net_virtio-net_tcp_tx_mtu9000_gbps"));

    /* the guest's own connections, both ways: an MSS only an MTU above 1500 allows */
    for (size_t i = 0; i < sizeof(tcp) / sizeof(tcp[0]); i++) {
        json_int_t mss = client_mss(logs, tcp[i]);

        print_message("%s %s: the guest's TCP MSS is %lld at MTU %d\n", backend, tcp[i],
                      (long long)mss, MTU);
        if (mss <= 1460 || mss > MTU - 40)
            fail_msg("%s %s: the guest's TCP MSS is %lld, expected 1461..%d for MTU %d", backend,
                     tcp[i], (long long)mss, MTU - 40, MTU);
    }
    json_decref(root);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mtu_reaches_the_guest),
    };

    test_args(argc, argv, 2, 2, NULL, "BURETTE_BINARY passt|tap");
    burette = argv[1];
    backend = argv[2];
    if (strcmp(backend, "passt") && strcmp(backend, "tap")) {
        fprintf(stderr, "unknown backend '%s' (passt or tap)\n", backend);
        return TEST_USAGE_STATUS;
    }
    return test_exit_status(
        cmocka_run_group_tests_name(backend, tests, e2e_group_setup, e2e_group_teardown));
}
