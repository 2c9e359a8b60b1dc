/* SPDX-License-Identifier: MIT */
/*
 * End-to-end test of `burette run --test network --backend consomme --transport T` (label vm),
 * once per transport (one ctest test each): the real CLI boots the guest under TCG with short
 * settings; the guest takes its address from consomme's DHCP server and reaches the iperf3
 * servers on host 127.0.0.1 through 10.0.2.2. The report must record the transport in its
 * config and the QEMU version in its host object, and hold the three metrics with positive
 * samples, each equal to what that iteration's iperf3 report says; consomme's own counters
 * (written to the log directory when QEMU hangs up) must show the DHCP lease, TCP connections
 * and UDP datagrams it carried, with no frame dropped as malformed, and the NAT policy the
 * launcher gave it (everything denied but what the benchmark uses) refusing nothing. No consomme
 * may be left running, and over vhost-user its private socket directory must be gone (burette runs
 * with TMPDIR in this test's own directory to check that). consomme carried it all sandboxed: its
 * log has the line it writes once its seccomp filter is loaded, with a uid other than root's
 * when the test runs as root, and no SIGSYS.
 *
 * Usage: test_network_consomme BURETTE_BINARY stream|vhost-user
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
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

static const char *burette;
static const char *transport;

static json_int_t counter(json_t *o, const char *path)
{
    char key[128];
    const char *dot = strchr(path, '.');

    if (!dot)
        return json_integer_value(json_object_get(o, path));
    snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
    return counter(json_object_get(o, key), dot + 1);
}

/* consomme served that transfer sandboxed: its log says so once the filter is loaded, with the
 * uid it switched to (not root when burette is root). */
static void assert_sandboxed_log(const char *logs)
{
    char path[PATH_MAX], line[512];
    unsigned uid = 0;
    bool found = false;
    FILE *f;

    snprintf(path, sizeof(path), "%s/consomme.log", logs);
    f = fopen(path, "re");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        assert_null(strstr(line, "SIGSYS"));
        if (sscanf(line, "consomme: sandboxed: uid %u,", &uid) == 1)
            found = true;
    }
    fclose(f);
    if (!found)
        fail_msg("%s has no 'consomme: sandboxed' line", path);
    if (geteuid() == 0)
        assert_true(uid != 0);
}

static void test_network_consomme_dhcp_guest_gives_three_positive_metrics(void **state)
{
    static const char *const metrics[] = {
        "net_virtio-net_tcp_tx_gbps", "net_virtio-net_tcp_rx_gbps", "net_virtio-net_udp_tx_pps"};
    static const char *const malformed[] = {"ipv4_checksum", "ipv4_length",    "ipv4_ihl",
                                            "udp_malformed", "frame_too_long", "frame_short"};
    char report[512], logs[512], stats[1024];
    json_t *root, *results, *cs;
    json_error_t jerr;
    int status;
    pid_t pid;

    snprintf(report, sizeof(report), "%s/report.json", e2e_tmpdir);
    snprintf(logs, sizeof(logs), "%s/logs", e2e_tmpdir);
    setenv("TMPDIR", e2e_tmpdir, 1); /* consomme's private socket directory goes here */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(burette, burette, "run", "--test", "network", "--backend", "consomme", "--transport",
              transport, "--accel", "tcg", "--iterations", "2", "--warmup", "0", "--duration", "2",
              "--quiet", "--log-dir", logs, "-o", report, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    root = json_load_file(report, 0, &jerr);
    assert_non_null(root);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(root, "config"), "backend")), "consomme");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(root, "config"), "transport")),
        transport);
    assert_true(
        strlen(json_string_value(json_object_get(json_object_get(root, "host"), "qemu_version"))
                   ?: "") >= 5);
    results = json_object_get(root, "results");
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
        e2e_assert_positive_samples(results, metrics[i], 2, "consomme");
    e2e_assert_samples_match_iperf(results, logs, 2, "consomme");
    json_decref(root);

    snprintf(stats, sizeof(stats), "%s/consomme-stats.json", logs);
    cs = json_load_file(stats, 0, &jerr);
    assert_non_null(cs);
    assert_true(counter(cs, "dhcp_acks") >= 1);
    assert_true(counter(cs, "tcp.connections_total") >= 4); /* control + data, two runs */
    assert_true(counter(cs, "udp.datagrams_to_host") > 0);
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        char key[64];
        snprintf(key, sizeof(key), "drops.%s", malformed[i]);
        assert_int_equal(counter(cs, key), 0);
    }
    /* the run's NAT policy let the benchmark through and nothing else: it ends in a deny of
     * everything, and refused nothing the benchmark did */
    {
        json_t *rules = json_object_get(json_object_get(cs, "policy"), "rules");
        static const char *const reasons[] = {"rule", "host_loopback", "host_address"};

        assert_true(json_array_size(rules) >= 2);
        assert_string_equal(json_string_value(json_array_get(rules, json_array_size(rules) - 1)),
                            "deny 0.0.0.0/0");
        for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
            char key[64];

            snprintf(key, sizeof(key), "policy.refused_tcp.%s", reasons[i]);
            assert_int_equal(counter(cs, key), 0);
            snprintf(key, sizeof(key), "policy.refused_udp.%s", reasons[i]);
            assert_int_equal(counter(cs, key), 0);
        }
        assert_int_equal(counter(cs, "tcp.refused_memory"), 0);
    }
    json_decref(cs);

    assert_sandboxed_log(logs);

    /* burette's children (consomme among them) became ours as subreaper: none may still run */
    e2e_assert_no_running_child();
    assert_int_equal(e2e_count_prefixed(e2e_tmpdir, "burette-consomme-"), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_network_consomme_dhcp_guest_gives_three_positive_metrics),
    };

    if (argc != 3 || (strcmp(argv[2], "stream") && strcmp(argv[2], "vhost-user"))) {
        fprintf(stderr, "usage: %s BURETTE_BINARY stream|vhost-user\n", argv[0]);
        return 2;
    }
    burette = argv[1];
    transport = argv[2];
    return cmocka_run_group_tests(tests, e2e_group_setup, e2e_group_teardown);
}
