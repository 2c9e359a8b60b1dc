/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of the namespace helper, without a VM: the real helper process creates
 * its user+network namespace and tap0, runs libiperf servers and clients there, and answers
 * through the RPC. Failure paths are produced for real too: an unprivileged user (setresuid
 * to nobody, when run as root), user namespaces made unavailable (a nested namespace whose
 * user.max_user_namespaces is 0, so the host's setting is never touched), a missing clone
 * device, a helper killed mid-test.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "errbuf.h"
#include "helper.h"
#include "iperf_result.h"

#define ADDR "192.168.100.1"
#define PORT 5201

static const struct helper_tap_opts tap_opts = {
    .name = "tap0", .cidr = ADDR "/24", .mtu = 1500, .tun_path = NULL};

static struct helper *spawn_with_tap(int *tap_fd)
{
    char err[ERRBUF_LEN] = "";
    struct helper *h = NULL;
    int rc;

    assert_int_equal(helper_spawn(&h, err, sizeof(err)), 0);
    rc = helper_setup_tap(h, &tap_opts, tap_fd, err, sizeof(err));
    if (rc == -EACCES && geteuid() != 0) {
        /* an ordinary user on a host whose /dev/net/tun is root-only: see the test below */
        fprintf(stderr, "skipped: %s\n", err);
        helper_destroy(h);
        skip();
    }
    if (rc)
        fail_msg("setup_tap: %s", err);
    return h;
}

/* One sub-test as the network test runs it: server listening first, then a client. */
static void run_pair(struct helper *h, bool reverse, bool udp, struct iperf_result *server_r)
{
    struct helper_client_opts c = {
        .host = ADDR, .port = PORT, .duration_s = 1, .streams = 1, .reverse = reverse, .udp = udp};
    char err[ERRBUF_LEN] = "", *sjson = NULL, *cjson = NULL;
    struct iperf_result client_r, merged;
    unsigned job;

    if (helper_server_start(h, ADDR, PORT, &job, err, sizeof(err)))
        fail_msg("server: %s", err);
    if (helper_client_run(h, &c, &cjson, err, sizeof(err)))
        fail_msg("client: %s", err);
    if (helper_server_result(h, job, 10000, &sjson, err, sizeof(err)))
        fail_msg("server result: %s", err);
    if (iperf_result_parse(sjson, server_r, err, sizeof(err)))
        fail_msg("server report: %s", err);
    if (iperf_result_parse(cjson, &client_r, err, sizeof(err)))
        fail_msg("client report: %s", err);
    assert_int_equal(server_r->udp, udp);
    assert_int_equal(server_r->reverse, reverse);
    assert_true(server_r->gbps > 0);
    assert_true(client_r.gbps > 0);
    iperf_result_merge(server_r, &client_r, &merged);
    assert_true(merged.receiver_side);
    assert_true(merged.gbps > 0);
    /* the sender counts retransmits: after the merge TCP has them in either direction */
    assert_int_equal(merged.has_retransmits, !udp);
    assert_true(merged.retransmits >= 0);
    *server_r = merged;
    free(sjson);
    free(cjson);
}

static void test_helper_tap_serves_tcp_reverse_and_udp_in_its_namespace(void **state)
{
    struct iperf_result r;
    struct helper *h;
    struct ifreq ifr = {0};
    int tap = -1;

    h = spawn_with_tap(&tap);
    assert_true(tap >= 0);
    /* the fd really is a TAP named tap0 with a vnet header, as QEMU needs */
    assert_int_equal(ioctl(tap, TUNGETIFF, &ifr), 0);
    assert_string_equal(ifr.ifr_name, "tap0");
    assert_true(ifr.ifr_flags & IFF_TAP);
    assert_true(ifr.ifr_flags & IFF_VNET_HDR);
    assert_true(ifr.ifr_flags & IFF_NO_PI);

    run_pair(h, false, false, &r);
    run_pair(h, true, false, &r);
    run_pair(h, false, true, &r);
    assert_true(r.pps > 0);
    assert_true(r.packets > 0);
    assert_true(r.lost_percent >= 0 && r.lost_percent <= 100);

    pid_t pid = helper_pid(h);
    helper_destroy(h);
    close(tap);
    assert_int_equal(kill(pid, 0), -1); /* reaped: nothing left behind */
    assert_int_equal(errno, ESRCH);
}

static void test_helper_tap_is_isolated_from_the_host(void **state)
{
    /* tap0 lives only in the helper's namespace: the host never sees it */
    struct helper *h;
    int tap = -1;

    h = spawn_with_tap(&tap);
    assert_int_equal(if_nametoindex("tap0"), 0);
    helper_destroy(h);
    close(tap);
}

static void test_helper_server_error_carries_iperfs_own_message(void **state)
{
    char err[ERRBUF_LEN] = "";
    unsigned a, b;
    struct helper *h;
    int tap = -1;

    h = spawn_with_tap(&tap);
    assert_int_equal(helper_server_start(h, ADDR, PORT, &a, err, sizeof(err)), 0);
    /* a second server on the same port cannot bind: libiperf says why */
    assert_true(helper_server_start(h, ADDR, PORT, &b, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "iperf3 server"));
    assert_non_null(strstr(err, "Address already in use"));
    /* an address not in the namespace is refused the same way */
    assert_true(helper_server_start(h, "10.99.99.99", PORT + 1, &b, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "listener"));
    assert_int_equal(helper_cancel(h, a, err, sizeof(err)), 0);
    helper_destroy(h);
    close(tap);
}

static void test_helper_client_failure_is_reported(void **state)
{
    struct helper_client_opts c = {.host = ADDR, .port = PORT, .duration_s = 1, .streams = 1};
    char err[ERRBUF_LEN] = "", *json = NULL;
    struct helper *h;
    int tap = -1;

    h = spawn_with_tap(&tap);
    assert_true(helper_client_run(h, &c, &json, err, sizeof(err)) < 0);
    assert_null(json);
    assert_non_null(strstr(err, "iperf3 client"));
    assert_non_null(strstr(err, "Connection refused"));
    helper_destroy(h);
    close(tap);
}

static void test_helper_setup_tap_must_be_the_first_request(void **state)
{
    char err[ERRBUF_LEN] = "";
    struct helper *h = NULL;
    unsigned job;
    int tap = -1;

    assert_int_equal(helper_spawn(&h, err, sizeof(err)), 0);
    /* host namespace: a server on loopback, as the non-TAP backends use it */
    assert_int_equal(
        helper_server_start(h, "127.0.0.1", 0x7000 + (getpid() & 0xfff), &job, err, sizeof(err)),
        0);
    assert_int_equal(helper_cancel(h, job, err, sizeof(err)), 0);
    assert_int_equal(helper_setup_tap(h, &tap_opts, &tap, err, sizeof(err)), -EALREADY);
    assert_non_null(strstr(err, "first request"));
    assert_int_equal(tap, -1);
    helper_destroy(h);
}

static void test_helper_killed_mid_test_is_noticed_at_once(void **state)
{
    char err[ERRBUF_LEN] = "", *json = NULL;
    struct timespec t0, t1;
    struct helper *h;
    unsigned job;
    int tap = -1;

    h = spawn_with_tap(&tap);
    assert_int_equal(helper_server_start(h, ADDR, PORT, &job, err, sizeof(err)), 0);
    kill(helper_pid(h), SIGKILL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* a 60 s limit, yet the answer comes at once because EOF is the signal */
    assert_int_equal(helper_server_result(h, job, 60000, &json, err, sizeof(err)), -EPIPE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 10);
    assert_non_null(strstr(err, "helper"));
    assert_non_null(strstr(err, "signal 9"));
    /* and every later call fails the same way without waiting */
    assert_int_equal(helper_server_start(h, ADDR, PORT, &job, err, sizeof(err)), -EPIPE);
    helper_destroy(h);
    close(tap);
}

static void test_helper_missing_tun_device_says_how_to_get_one(void **state)
{
    struct helper_tap_opts o = tap_opts;
    char err[ERRBUF_LEN] = "";
    struct helper *h = NULL;
    int tap = -1;

    o.tun_path = "/nonexistent/net/tun";
    assert_int_equal(helper_spawn(&h, err, sizeof(err)), 0);
    assert_int_equal(helper_setup_tap(h, &o, &tap, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/net/tun"));
    assert_non_null(strstr(err, "modprobe tun"));
    helper_destroy(h);
}

/*
 * Run @fn in a forked child and return its exit status; the child reports failure as
 * non-zero and prints the message it got, so a failing test shows what the user would see.
 */
static int in_child(int (*fn)(char *err))
{
    char err[ERRBUF_LEN] = "";
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int rc = fn(err);

        fprintf(stderr, "  child saw: %s\n", err);
        _exit(rc);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static char private_tun[64];

static int unprivileged_setup(char *err)
{
    struct helper_tap_opts o = tap_opts;
    struct helper *h = NULL;
    int tap = -1, rc;

    o.tun_path = private_tun;
    if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
        return 10;
    /* Changing uid cleared the dumpable flag (which makes /proc/self root's); a user who
     * starts burette gets it set by exec, as this child would after setpriv. */
    prctl(PR_SET_DUMPABLE, 1);
    if (helper_spawn(&h, err, ERRBUF_LEN))
        return 11;
    rc = helper_setup_tap(h, &o, &tap, err, ERRBUF_LEN);
    helper_destroy(h);
    if (rc != -EACCES)
        return 12;
    if (!strstr(err, private_tun) || !strstr(err, "Permission denied") ||
        !strstr(err, "mode 0600") || !strstr(err, "chmod 0666") || !strstr(err, "user namespace"))
        return 13;
    return 0;
}

static void test_helper_ordinary_user_is_told_tun_is_not_openable(void **state)
{
    char dir[] = "/tmp/burette-tun-XXXXXX";
    int rc;

    if (geteuid() != 0)
        skip(); /* needs root to make the device node and become another user */
    /* A root-only node of the TUN clone device, as this project's CI hosts ship it, whatever
     * mode the host's own /dev/net/tun has. */
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0);
    snprintf(private_tun, sizeof(private_tun), "%s/tun", dir);
    assert_int_equal(mknod(private_tun, S_IFCHR | 0600, makedev(10, 200)), 0);
    assert_int_equal(chmod(private_tun, 0600), 0);
    rc = in_child(unprivileged_setup);
    unlink(private_tun);
    rmdir(dir);
    assert_int_equal(rc, 0);
}

static int no_userns_setup(char *err)
{
    char map[32];
    struct helper *h = NULL;
    int tap = -1, rc, fd;
    uid_t uid = geteuid();

    /* A namespace of our own whose limit is 0: the helper's unshare then fails as it does on
     * a host with user namespaces disabled, and the host's sysctl stays untouched. */
    if (unshare(CLONE_NEWUSER))
        return 20;
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
    fd = open("/proc/self/uid_map", O_WRONLY);
    if (fd < 0 || write(fd, map, strlen(map)) < 0)
        return 21;
    close(fd);
    fd = open("/proc/sys/user/max_user_namespaces", O_WRONLY);
    if (fd < 0 || write(fd, "0", 1) != 1)
        return 22;
    close(fd);
    if (helper_spawn(&h, err, ERRBUF_LEN))
        return 23;
    rc = helper_setup_tap(h, &tap_opts, &tap, err, ERRBUF_LEN);
    helper_destroy(h);
    if (rc >= 0)
        return 24;
    if (!strstr(err, "user namespace") || !strstr(err, "user.max_user_namespaces"))
        return 25;
    return 0;
}

static void test_helper_userns_unavailable_names_the_sysctl(void **state)
{
    assert_int_equal(in_child(no_userns_setup), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helper_tap_serves_tcp_reverse_and_udp_in_its_namespace),
        cmocka_unit_test(test_helper_tap_is_isolated_from_the_host),
        cmocka_unit_test(test_helper_server_error_carries_iperfs_own_message),
        cmocka_unit_test(test_helper_client_failure_is_reported),
        cmocka_unit_test(test_helper_setup_tap_must_be_the_first_request),
        cmocka_unit_test(test_helper_killed_mid_test_is_noticed_at_once),
        cmocka_unit_test(test_helper_missing_tun_device_says_how_to_get_one),
        cmocka_unit_test(test_helper_ordinary_user_is_told_tun_is_not_openable),
        cmocka_unit_test(test_helper_userns_unavailable_names_the_sysctl),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
