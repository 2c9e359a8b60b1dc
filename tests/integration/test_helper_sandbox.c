/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of the namespace helper's sandbox, without a VM: the real helper process,
 * as burette spawns it.
 *
 * - In its own namespace (setup_tap, as the tap backend uses it): once the TAP is made, the
 *   helper and the libiperf server it forks show NoNewPrivs 1, Seccomp 2 (filter) and no
 *   effective, permitted or bounding capability, and an iperf3 transfer still runs end to end
 *   under the filter (server and client both in the helper).
 * - In the host's namespace (the other backends): the same from its first request, and the
 *   latency test's echo server answers UDP and TCP under it.
 * - Started by root, the helper and its jobs run as nobody (every uid and gid slot, no
 *   supplementary group), in its namespace and in the host's; and its death signal survives
 *   that switch: with its RPC socket held open elsewhere (so that no end of file can end it),
 *   the helper still dies when its harness is SIGKILLed. Not root: skipped (77).
 * - A forbidden syscall (the BURETTE_TEST_HELPER_FORBIDDEN_SYSCALL fault injection) kills the
 *   helper with SIGSYS, and the error burette gets says so: seccomp, that it is a bug to
 *   report, and the syscall's name when the kernel log is readable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "errbuf.h"
#include "helper.h"
#include "helper_sandbox.h"
#include "iperf_result.h"
#include "../support/sandbox_check.h"
#include "../support/skip.h"
#include "../support/helper_tap_fixture.h"

#define ADDR HELPER_TAP_ADDR
#define PORT HELPER_TAP_PORT

/* The helper's only child at the moment (a job's process), from the kernel's children list. */
static pid_t only_child(pid_t pid)
{
    char path[96], buf[64], *end;
    FILE *f;
    long child;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
    f = fopen(path, "re");
    assert_non_null(f);
    if (!fgets(buf, sizeof(buf), f))
        buf[0] = '\0';
    fclose(f);
    child = strtol(buf, &end, 10);
    assert_true(child > 0);
    assert_int_equal(strtol(end, NULL, 10), 0); /* no second one */
    return (pid_t)child;
}

static void assert_no_bounding_caps(pid_t pid)
{
    char v[64];

    status_field(pid, "CapBnd", v, sizeof(v));
    assert_string_equal(v, "0000000000000000");
}

/* As root, the helper's user: nobody in every slot, no supplementary group. */
static void assert_nobody_if_root(pid_t pid)
{
    struct passwd *pw = getpwnam("nobody");

    if (geteuid() != 0)
        return;
    assert_non_null(pw);
    assert_runs_as(pid, pw->pw_uid, pw->pw_gid, -1);
}

static void test_helper_in_its_namespace_is_sandboxed_and_still_measures(void **state)
{
    struct helper_client_opts c = {
        .host = ADDR, .port = PORT, .run = {.duration_s = 1, .streams = 1, .reverse = false}};
    char err[ERRBUF_LEN] = "", *sjson = NULL, *cjson = NULL;
    struct iperf_result r;
    struct helper *h;
    unsigned job;
    int tap = -1;

    (void)state;
    h = spawn_with_tap(&tap);
    assert_true(tap >= 0);
    if (helper_server_start(h, ADDR, PORT, &job, err, sizeof(err)))
        fail_msg("server: %s", err);
    assert_filtered_without_caps(helper_pid(h));
    /* it was root in its user namespace: the bounding set went too */
    assert_no_bounding_caps(helper_pid(h));
    /* the filter is inherited: the libiperf server runs under it */
    assert_filtered_without_caps(only_child(helper_pid(h)));
    assert_nobody_if_root(helper_pid(h));
    assert_nobody_if_root(only_child(helper_pid(h)));
    if (helper_client_run(h, &c, &cjson, err, sizeof(err)))
        fail_msg("client: %s", err);
    if (helper_server_result(h, job, 10000, &sjson, err, sizeof(err)))
        fail_msg("server result: %s", err);
    if (iperf_result_parse(sjson, &r, err, sizeof(err)))
        fail_msg("server report: %s", err);
    assert_true(r.gbps > 0);
    assert_filtered_without_caps(helper_pid(h));
    free(sjson);
    free(cjson);
    helper_destroy(h);
    close(tap);
}

static void test_helper_in_the_host_namespace_is_sandboxed_and_echoes(void **state)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    char err[ERRBUF_LEN] = "", buf[32], *json = NULL;
    int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), u, t;
    struct helper *h = NULL;
    json_t *counts;
    unsigned job;

    (void)state;
    /* a port the kernel just handed out, free for TCP too in all likelihood: checked below */
    assert_true(probe >= 0);
    assert_int_equal(bind(probe, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(probe, (struct sockaddr *)&sa, &sl), 0);
    close(probe);
    assert_int_equal(helper_spawn(&h, err, sizeof(err)), 0);
    if (helper_echo_start(h, "127.0.0.1", ntohs(sa.sin_port), 0, &job, err, sizeof(err)))
        fail_msg("echo server: %s", err);
    assert_filtered_without_caps(helper_pid(h));
    assert_filtered_without_caps(only_child(helper_pid(h)));
    assert_nobody_if_root(helper_pid(h));
    assert_nobody_if_root(only_child(helper_pid(h)));

    u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(u, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(send(u, "udp ping", 8, 0), 8);
    assert_int_equal(recv(u, buf, sizeof(buf), 0), 8);
    assert_memory_equal(buf, "udp ping", 8);
    t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(t, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(send(t, "tcp ping", 8, 0), 8);
    assert_int_equal(recv(t, buf, 8, MSG_WAITALL), 8);
    assert_memory_equal(buf, "tcp ping", 8);
    close(t);
    close(u);
    if (helper_echo_finish(h, job, &json, err, sizeof(err)))
        fail_msg("echo finish: %s", err);
    counts = json_loads(json, 0, NULL);
    assert_non_null(counts);
    assert_int_equal(json_integer_value(json_object_get(counts, "udp_datagrams")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "tcp_bytes")), 8);
    json_decref(counts);
    free(json);
    helper_destroy(h);
}

/*
 * The stand-in harness: a helper serving an echo server, and a holder process that keeps the
 * helper's RPC socket open (so the harness's death closes no socket the helper reads); sends
 * the helper's, its job's and the holder's pids on @out, then waits to be killed.
 */
static void __attribute__((noreturn)) stand_in_harness(int out, unsigned port)
{
    char err[ERRBUF_LEN];
    struct helper *h;
    pid_t pids[3];
    unsigned job;

    if (helper_spawn(&h, err, sizeof(err)) ||
        helper_echo_start(h, "127.0.0.1", port, 0, &job, err, sizeof(err))) {
        fprintf(stderr, "stand-in harness: %s\n", err);
        _exit(1);
    }
    pids[0] = helper_pid(h);
    pids[1] = only_child(pids[0]);
    pids[2] = fork(); /* the holder: the socket is close-on-exec, not close-on-fork */
    if (pids[2] == 0) {
        pause();
        _exit(0);
    }
    if (pids[2] < 0 || write(out, pids, sizeof(pids)) != sizeof(pids))
        _exit(1);
    pause();
    _exit(0);
}

static void test_helper_started_by_root_becomes_nobody_and_dies_with_its_harness(void **state)
{
    pid_t harness, pids[3];
    int p[2], status, helper_status;

    (void)state;
    if (geteuid() != 0)
        TEST_SKIP("only a helper started by root switches users");
    /* As subreaper we inherit the helper once its harness is gone, and can wait for it. */
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    assert_int_equal(pipe(p), 0);
    harness = fork();
    assert_true(harness >= 0);
    if (harness == 0) {
        close(p[0]);
        stand_in_harness(p[1], 0x7000 + ((getpid() + 7) & 0xfff));
    }
    close(p[1]);
    if (read(p[0], pids, sizeof(pids)) != sizeof(pids))
        fail_msg("the stand-in harness could not start a helper with an echo server");
    close(p[0]);
    assert_filtered_without_caps(pids[0]);
    assert_nobody_if_root(pids[0]);
    assert_nobody_if_root(pids[1]);

    kill(harness, SIGKILL);
    assert_int_equal(waitpid(harness, &status, 0), harness);
    /* Its socket still open in the holder: only the death signal, armed again after the
     * switch to nobody, can end the helper now (else ctest's timeout tells). */
    assert_int_equal(waitpid(pids[0], &helper_status, 0), pids[0]);
    /* the holder's part is done: let it go before anything can fail */
    kill(pids[2], SIGKILL);
    /* The job went with its helper: by its own death signal, or on its own when its control
     * pipe closed first (a dying process's files are closed before its children are
     * signalled), so how it ended is not asserted, only that it did. */
    assert_int_equal(waitpid(pids[1], &status, 0), pids[1]);
    while (waitpid(-1, &status, 0) > 0)
        ;
    assert_true(WIFSIGNALED(helper_status) && WTERMSIG(helper_status) == SIGKILL);
    assert_int_equal(errno, ECHILD);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* The helper dies of the injected call when it locks: after setup_tap, or at its first request. */
static void forbidden_syscall_case(bool with_tap)
{
    char err[ERRBUF_LEN] = "";
    struct helper *h = NULL;
    unsigned job;
    pid_t pid;
    int tap = -1, rc;

    /* the helper takes the variable with it when it is forked */
    setenv(HELPER_SANDBOX_FAULT_ENV, "1", 1);
    rc = helper_spawn(&h, err, sizeof(err));
    unsetenv(HELPER_SANDBOX_FAULT_ENV);
    assert_int_equal(rc, 0);
    if (with_tap) {
        /* answered before the lock: the TAP arrives */
        rc = helper_setup_tap(h, &tap_opts, &tap, err, sizeof(err));
        if (rc == -EACCES && geteuid() != 0) {
            helper_destroy(h);
            TEST_SKIP("%s", err);
        }
        if (rc)
            fail_msg("setup_tap: %s", err);
        assert_true(tap >= 0);
    }
    pid = helper_pid(h);
    rc = helper_echo_start(h, "127.0.0.1", 0x7000 + (getpid() & 0xfff), 0, &job, err, sizeof(err));
    fprintf(stderr, "burette would report: %s\n", err);
    assert_int_equal(rc, -EPIPE);
    assert_non_null(strstr(err, "namespace helper"));
    assert_non_null(strstr(err, "killed by its seccomp sandbox (SIGSYS)"));
    assert_non_null(strstr(err, "please report it"));
    if (kmsg_has_seccomp_record(pid))
        assert_non_null(strstr(err, "system call 135 (personality)"));
    helper_destroy(h);
    if (tap >= 0)
        close(tap);
}

static void test_helper_forbidden_syscall_in_the_host_namespace_names_seccomp(void **state)
{
    (void)state;
    forbidden_syscall_case(false);
}

static void test_helper_forbidden_syscall_after_setup_tap_names_seccomp(void **state)
{
    (void)state;
    forbidden_syscall_case(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helper_in_its_namespace_is_sandboxed_and_still_measures),
        cmocka_unit_test(test_helper_in_the_host_namespace_is_sandboxed_and_echoes),
        cmocka_unit_test(test_helper_started_by_root_becomes_nobody_and_dies_with_its_harness),
        cmocka_unit_test(test_helper_forbidden_syscall_in_the_host_namespace_names_seccomp),
        cmocka_unit_test(test_helper_forbidden_syscall_after_setup_tap_names_seccomp),
    };

    signal(SIGPIPE, SIG_IGN);
    return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
