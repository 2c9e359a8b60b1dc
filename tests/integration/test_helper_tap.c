/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of the namespace helper, without a VM: the real helper process creates
 * its user+network namespace and tap0, runs libiperf servers and clients there, and answers
 * through the RPC (with each server's CPU from listening to exit). Failure paths are produced for
 * real too: an unprivileged user (setresuid to nobody, when run as root), user namespaces made
 * unavailable (a nested namespace whose user.max_user_namespaces is 0, so the host's setting is
 * never touched), a missing clone device, a helper killed mid-test.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
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

#include "skip.h"

#include "clock.h"
#include "errbuf.h"
#include "helper.h"
#include "iperf_result.h"
#include "rpc.h"
#include "helper_tap_fixture.h"

#define ADDR HELPER_TAP_ADDR
#define PORT HELPER_TAP_PORT

/* One sub-test as the network test runs it: server listening first, then a client. */
static void run_pair(struct helper *h, bool reverse, bool udp, struct iperf_result *server_r)
{
    struct helper_client_opts c = {
        .host = ADDR,
        .port = PORT,
        .run = {.duration_s = 1, .streams = 1, .reverse = reverse, .udp = udp}};
    char err[ERRBUF_LEN] = "", *sjson = NULL, *cjson = NULL;
    struct iperf_result client_r, merged;
    double cpu_ms = -1;
    int64_t listening_ms;
    unsigned job;

    if (helper_server_start(h, ADDR, PORT, &job, err, sizeof(err)))
        fail_msg("server: %s", err);
    listening_ms = clock_now_ms();
    if (helper_client_run(h, &c, &cjson, err, sizeof(err)))
        fail_msg("client: %s", err);
    if (helper_server_result_cpu(h, job, 10000, &sjson, &cpu_ms, err, sizeof(err)))
        fail_msg("server result: %s", err);
    /* the server's CPU from listening to its exit: some, for a second of traffic, and no more
     * than one core over that span (libiperf 3.12 runs one thread; 20 ms for tick rounding) */
    if (!(cpu_ms > 0 && cpu_ms <= (double)(clock_now_ms() - listening_ms) + 20))
        fail_msg("server CPU %.1f ms over %lld ms", cpu_ms,
                 (long long)(clock_now_ms() - listening_ms));
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
    struct helper_client_opts c = {
        .host = ADDR, .port = PORT, .run = {.duration_s = 1, .streams = 1}};
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
        TEST_SKIP("needs root to make the device node and become another user");
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

static json_t *call_raw(int sock, json_t *req)
{
    char err[ERRBUF_LEN] = "";
    struct rpc_msg m;
    json_t *body;

    if (rpc_send(sock, req, NULL, 0, err, sizeof(err)))
        fail_msg("send: %s", err);
    json_decref(req);
    if (rpc_recv(sock, 10000, &m, err, sizeof(err)))
        fail_msg("recv: %s", err);
    body = json_incref(m.body);
    rpc_msg_release(&m);
    return body;
}

static void test_helper_refuses_bad_requests_and_ends_its_jobs_when_the_harness_goes(void **state)
{
    unsigned port = 0x6000 + (getpid() & 0xfff);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int sv[2], status, c;
    json_t *r;
    pid_t pid;

    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sv[0]);
        _exit(helper_main(sv[1]));
    }
    close(sv[1]);

    r = call_raw(sv[0], json_pack("{s:i, s:s}", "id", 1, "op", "launch_missiles"));
    assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "unknown request"));
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
    json_decref(r);
    r = call_raw(sv[0], json_pack("{s:s}", "op", "stop")); /* no id */
    assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "malformed request"));
    json_decref(r);
    r = call_raw(sv[0], json_pack("{s:i, s:s, s:i}", "id", 2, "op", "iperf_server", "port", 70000));
    assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "port (1-65535)"));
    json_decref(r);
    r = call_raw(sv[0], json_pack("{s:i, s:s, s:s}", "id", 3, "op", "setup_tap", "name", "tap0"));
    assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "first request"));
    json_decref(r);

    /* a server in the host namespace, then the harness vanishes */
    r = call_raw(sv[0], json_pack("{s:i, s:s, s:i, s:s}", "id", 4, "op", "iperf_server", "port",
                                  (int)port, "bind", "127.0.0.1"));
    assert_string_equal(json_string_value(json_object_get(r, "event")), "listening");
    json_decref(r);
    close(sv[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* its iperf3 server went with it: nothing listens on the port any more */
    c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), -1);
    assert_int_equal(errno, ECONNREFUSED);
    close(c);
}

static void test_helper_and_its_server_die_with_a_killed_harness(void **state)
{
    pid_t harness, pids[2];
    int p[2], status, rc;

    /* As subreaper we inherit the helper and its server once their parent is gone, so we
     * can wait for them: PR_SET_PDEATHSIG must end them, or ctest's timeout will tell. */
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    assert_int_equal(pipe(p), 0);
    harness = fork();
    assert_true(harness >= 0);
    if (harness == 0) {
        char err[ERRBUF_LEN];
        struct helper *h;
        unsigned job;
        int tap;

        close(p[0]);
        if (helper_spawn(&h, err, sizeof(err)))
            _exit(1);
        rc = helper_setup_tap(h, &tap_opts, &tap, err, sizeof(err));
        if (rc == -EACCES && geteuid() != 0)
            _exit(TEST_SKIP_STATUS); /* as in start_helper_with_tap(): tun is root-only here */
        if (rc || helper_server_start(h, ADDR, PORT, &job, err, sizeof(err)))
            _exit(1);
        pids[0] = helper_pid(h);
        if (write(p[1], pids, sizeof(pids[0])) != sizeof(pids[0]))
            _exit(1);
        pause(); /* until killed, helper and server running */
        _exit(0);
    }
    close(p[1]);
    if (read(p[0], pids, sizeof(pids[0])) != sizeof(pids[0])) {
        assert_int_equal(waitpid(harness, &status, 0), harness);
        if (WIFEXITED(status) && WEXITSTATUS(status) == TEST_SKIP_STATUS)
            TEST_SKIP("an ordinary user cannot open /dev/net/tun here");
        fail_msg("the stand-in harness could not start a helper with a server");
    }
    close(p[0]);
    kill(harness, SIGKILL);
    assert_int_equal(waitpid(harness, &status, 0), harness);
    /* The helper (now our child) ends either way the harness's death reaches it first: its
     * death signal, or EOF on its socket (the kernel closes the dead harness's fds before it
     * sends the death signal, so a helper that is already awake may exit cleanly first). */
    assert_int_equal(waitpid(pids[0], &status, 0), pids[0]);
    assert_true((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
                (WIFEXITED(status) && WEXITSTATUS(status) == 0));
    /* and the server, orphaned in turn, too: no child of ours is left, dead or alive */
    while (waitpid(-1, &status, 0) > 0)
        ;
    assert_int_equal(errno, ECHILD);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
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
        cmocka_unit_test(test_helper_refuses_bad_requests_and_ends_its_jobs_when_the_harness_goes),
        cmocka_unit_test(test_helper_and_its_server_die_with_a_killed_harness),
    };

    signal(SIGPIPE, SIG_IGN);
    return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
