/* SPDX-License-Identifier: MIT */
/*
 * End-to-end test of `burette run --backend consomme --transport vhost-user` (label vm): the
 * real CLI boots the guest under TCG with guest RAM shared with consomme, which serves the
 * virtio-net device itself over vhost-user. One iteration of 2 s per sub-test: the report must
 * record transport vhost-user in its config and the QEMU version in its host object, and hold
 * the three metrics with positive samples. Afterwards no consomme runs and its private socket
 * directory is gone (burette runs with TMPDIR in this test's own directory to check that).
 *
 * Usage: test_network_vhost_user BURETTE_BINARY
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
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

static const char *burette;
static char tmpdir[] = "/tmp/burette-e2e-vhost-user-XXXXXX";

/* Entries of @dir whose name starts with @prefix. */
static size_t count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

static void test_network_vhost_user_report_records_the_transport_and_qemu_version(void **state)
{
    static const char *const metrics[] = {
        "net_virtio-net_tcp_tx_gbps", "net_virtio-net_tcp_rx_gbps", "net_virtio-net_udp_tx_pps"};
    char report[512], logs[512], out[8192];
    const char *args[] = {
        "run",          "--backend", "consomme", "--transport", "vhost-user", "--accel", "tcg",
        "--iterations", "1",         "--warmup", "0",           "--duration", "2",       "--quiet",
        "--log-dir",    logs,        "-o",       report,        NULL};
    json_t *root, *results, *config, *host;
    json_error_t jerr;
    int rc;

    snprintf(report, sizeof(report), "%s/report.json", tmpdir);
    snprintf(logs, sizeof(logs), "%s/logs", tmpdir);
    setenv("TMPDIR", tmpdir, 1); /* consomme's private directory goes here */
    rc = e2e_run(burette, args, NULL, out, sizeof(out));
    if (rc != 0)
        fail_msg("burette exited %d: %s", rc, out);

    root = json_load_file(report, 0, &jerr);
    assert_non_null(root);
    config = json_object_get(root, "config");
    host = json_object_get(root, "host");
    assert_string_equal(json_string_value(json_object_get(config, "backend")), "consomme");
    assert_string_equal(json_string_value(json_object_get(config, "transport")), "vhost-user");
    assert_non_null(json_string_value(json_object_get(host, "qemu_version")));
    assert_true(strlen(json_string_value(json_object_get(host, "qemu_version"))) >= 5);
    results = json_object_get(root, "results");
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
        e2e_assert_positive_samples(results, metrics[i], 1, "consomme over vhost-user");
    json_decref(root);

    /* burette's children (consomme among them) became ours as subreaper: none may still run */
    e2e_assert_no_running_child();
    assert_int_equal(count_prefixed(tmpdir, "burette-consomme-"), 0);
}

static int setup(void **state)
{
    /* Orphans of burette come to us, so a consomme left running would show up below. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    return e2e_remove_tree(tmpdir);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_network_vhost_user_report_records_the_transport_and_qemu_version),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s BURETTE_BINARY\n", argv[0]);
        return 2;
    }
    burette = argv[1];
    return cmocka_run_group_tests(tests, setup, teardown);
}
