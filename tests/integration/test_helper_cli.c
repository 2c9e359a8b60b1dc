/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of what a user sees from `burette run --test network --backend tap` when
 * the helper cannot set up (no VM is booted: setup fails first). Both conditions are made for
 * real and privately, never by changing the host:
 *  - user namespaces unavailable: burette runs inside a user namespace of ours whose
 *    user.max_user_namespaces is 0;
 *  - /dev/net/tun not openable by an ordinary user: in a mount namespace of ours a root-only
 *    (0600) device node is bound over /dev/net/tun, and burette runs as nobody.
 * Each must exit 1 with a message naming the cause and the fix, and leave no process behind
 * (this test is a child subreaper, so a leftover would become our child).
 *
 * Usage: test_helper_cli BURETTE_BINARY
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e.h"
#include "skip.h"
#include "test_args.h"

static const char *burette;
static char tmpdir[] = "/tmp/burette-cli-tap-XXXXXX";

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

    if (fd < 0)
        return -1;
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        rc = -1;
    close(fd);
    return rc;
}

/* In the child: make the condition (@prepare), then exec burette with stderr to @errfd. */
static void child_exec(int (*prepare)(void), int errfd)
{
    char logs[256];
    const char *argv[] = {burette,    "run",        "--test",    "network",      "--backend",
                          "tap",      "--duration", "1",         "--iterations", "1",
                          "--warmup", "0",          "--log-dir", logs,           NULL};
    int devnull = open("/dev/null", O_RDWR), rc;

    snprintf(logs, sizeof(logs), "%s/logs", tmpdir);
    rc = prepare();
    if (rc) {
        dprintf(errfd, "test setup step %d failed: %s\n", rc, strerror(errno));
        _exit(100 + rc);
    }
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(errfd, 2);
    execv(burette, (char **)argv);
    _exit(127);
}

/* Run burette under @prepare; returns its exit status, its stderr in @buf. */
static int run_burette(int (*prepare)(void), char *buf, size_t len)
{
    int p[2], status;
    size_t used = 0;
    pid_t pid;

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        child_exec(prepare, p[1]);
    }
    close(p[1]);
    for (;;) {
        ssize_t n = read(p[0], buf + used, len - used - 1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
        if (used + 1 >= len)
            break;
    }
    buf[used] = '\0';
    close(p[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    /* nothing burette started may outlive it: as subreaper we would have inherited it */
    e2e_assert_no_child();
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int no_userns(void)
{
    char map[32];

    /* our own uid, taken before unshare: inside, it reads as the overflow uid until mapped */
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)geteuid());
    if (unshare(CLONE_NEWUSER))
        return 1;
    if (write_file("/proc/self/uid_map", map))
        return 2;
    if (write_file("/proc/sys/user/max_user_namespaces", "0"))
        return 3;
    return 0;
}

static void test_cli_userns_unavailable_names_the_sysctl_and_exits_1(void **state)
{
    char buf[8192];
    int st = run_burette(no_userns, buf, sizeof(buf));

    if (st != 1 || !strstr(buf, "burette:") || !strstr(buf, "cannot create a user namespace") ||
        !strstr(buf, "user.max_user_namespaces"))
        fail_msg("exit %d, stderr:\n%s", st, buf);
}

static int private_tun_as_nobody(void)
{
    char node[256];

    if (unshare(CLONE_NEWNS))
        return 1;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
        return 2;
    snprintf(node, sizeof(node), "%s/tun", tmpdir);
    if (mknod(node, S_IFCHR | 0600, makedev(10, 200)) && errno != EEXIST)
        return 3;
    if (chmod(node, 0600))
        return 4;
    if (mount(node, "/dev/net/tun", NULL, MS_BIND, NULL))
        return 5;
    if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
        return 6;
    return 0;
}

static void test_cli_ordinary_user_without_tun_access_is_told_the_fix(void **state)
{
    char buf[8192];
    struct stat st;
    int status;

    if (geteuid() != 0 || stat("/dev/net/tun", &st))
        TEST_SKIP("needs root for the private mount, and a /dev/net/tun to cover");
    status = run_burette(private_tun_as_nobody, buf, sizeof(buf));
    if (status != 1 || !strstr(buf, "cannot open /dev/net/tun: Permission denied") ||
        !strstr(buf, "mode 0600") || !strstr(buf, "chmod 0666 /dev/net/tun"))
        fail_msg("exit %d, stderr:\n%s", status, buf);
}

static int setup_dir(void **state)
{
    if (!mkdtemp(tmpdir))
        return -1;
    return chmod(tmpdir, 0777); /* nobody writes its logs here */
}

static int teardown_dir(void **state)
{
    return e2e_remove_tree(tmpdir);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_userns_unavailable_names_the_sysctl_and_exits_1),
        cmocka_unit_test(test_cli_ordinary_user_without_tun_access_is_told_the_fix),
    };

    burette = test_operand(argc, argv, "BURETTE_BINARY");
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    return test_exit_status(cmocka_run_group_tests(tests, setup_dir, teardown_dir));
}
