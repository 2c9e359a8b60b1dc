/* SPDX-License-Identifier: MIT */
/*
 * helper_tap_fixture - a namespace helper with tap0 at 192.168.100.1/24, as the tap backend
 * asks for it, for the helper's integration tests
 *
 * Header-only, for cmocka tests: cmocka.h, skip.h, errbuf.h and helper.h come first. Where an
 * ordinary user cannot open a root-only /dev/net/tun, the case is skipped, not failed.
 */
#ifndef BURETTE_TEST_HELPER_TAP_FIXTURE_H
#define BURETTE_TEST_HELPER_TAP_FIXTURE_H

#include <errno.h>
#include <unistd.h>

#define HELPER_TAP_ADDR "192.168.100.1"
#define HELPER_TAP_PORT 5201

static const struct helper_tap_opts tap_opts = {
    .name = "tap0", .cidr = HELPER_TAP_ADDR "/24", .mtu = 1500, .tun_path = NULL};

static inline struct helper *spawn_with_tap(int *tap_fd)
{
    char err[ERRBUF_LEN] = "";
    struct helper *h = NULL;
    int rc;

    assert_int_equal(helper_spawn(&h, err, sizeof(err)), 0);
    rc = helper_setup_tap(h, &tap_opts, tap_fd, err, sizeof(err));
    if (rc == -EACCES && geteuid() != 0) {
        helper_destroy(h);
        TEST_SKIP("%s", err);
    }
    if (rc)
        fail_msg("setup_tap: %s", err);
    return h;
}

#endif
