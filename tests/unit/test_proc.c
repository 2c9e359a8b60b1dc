/* SPDX-License-Identifier: MIT */
/*
 * test_proc - child processes: only listed descriptors reach the child, a program that cannot
 * be run is an error from proc_spawn() itself, the child leads its own process group and
 * proc_kill() ends the group, and proc_poll() ends on a cancelling signal. As root, a child
 * started as another user runs with that uid and gid in every slot, no supplementary group and
 * no capability, and a program that user cannot reach is an error naming the user and the fix
 * (skipped, 77, when not root). A child's last words are read from its log as one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "errbuf.h"
#include "proc.h"
#include "seccomp_sandbox.h"
#include "../support/skip.h"

/* Run "sh -c SCRIPT" with @keep passed; return its exit status. */
static int run_sh(const char *script, const int *keep, size_t n_keep)
{
    const char *argv[] = {"sh", "-c", script, NULL};
    struct proc_spawn_opts o = {.argv = argv,
                                .keep_fds = keep,
                                .n_keep_fds = n_keep,
                                .stdin_fd = -1,
                                .stdout_fd = -1,
                                .stderr_fd = -1};
    char err[ERRBUF_LEN];
    pid_t pid;
    int status;

    if (proc_spawn(&o, &pid, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_only_listed_descriptors_reach_the_child(void **state)
{
    int listed[2], unlisted[2];
    char script[128];

    /* Both pairs without O_CLOEXEC in the parent: the child must still see only @listed. */
    assert_int_equal(pipe(listed), 0);
    assert_int_equal(pipe(unlisted), 0);
    snprintf(script, sizeof(script), "test -e /proc/self/fd/%d && ! test -e /proc/self/fd/%d",
             listed[1], unlisted[1]);
    assert_int_equal(run_sh(script, &listed[1], 1), 0);
    /* And in the parent nothing changed. */
    assert_int_equal(fcntl(listed[1], F_GETFD) & FD_CLOEXEC, 0);
    for (int i = 0; i < 2; i++) {
        close(listed[i]);
        close(unlisted[i]);
    }
}

static void test_missing_program_is_an_error_at_spawn(void **state)
{
    const char *argv[] = {"no-such-program-burette", NULL};
    struct proc_spawn_opts o = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
    char err[ERRBUF_LEN];
    pid_t pid = 0;

    assert_int_equal(proc_spawn(&o, &pid, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "no-such-program-burette"));
    assert_int_equal(pid, 0);
}

static void test_child_leads_its_group_and_kill_ends_the_group(void **state)
{
    /* The shell starts a grandchild in the same group, then waits on it forever. */
    const char *argv[] = {"sh", "-c", "sleep 1000 & echo $! >&9; wait", NULL};
    int p[2], status;
    struct proc_spawn_opts o = {.argv = argv,
                                .keep_fds = (int[]){9},
                                .n_keep_fds = 1,
                                .stdin_fd = -1,
                                .stdout_fd = -1,
                                .stderr_fd = -1};
    char err[ERRBUF_LEN], buf[32] = "";
    pid_t pid, grandchild;
    ssize_t n;

    assert_int_equal(pipe(p), 0);
    /* The shell writes to descriptor 9 (sh redirects take one digit): the pipe goes there. */
    assert_true(p[0] != 9);
    assert_int_equal(dup2(p[1], 9), 9);
    if (proc_spawn(&o, &pid, err, sizeof(err)))
        fail_msg("%s", err);
    close(9);
    close(p[1]);
    n = read(p[0], buf, sizeof(buf) - 1);
    close(p[0]);
    assert_true(n > 0);
    grandchild = (pid_t)atoi(buf);
    assert_int_equal(getpgid(pid), pid);
    assert_int_equal(getpgid(grandchild), pid);
    proc_kill(pid, &status);
    assert_true(WIFSIGNALED(status));
    /* The grandchild got SIGKILL too; it is reparented, so only its absence can be checked. */
    for (;;) {
        if (kill(grandchild, 0) < 0 && errno == ESRCH)
            break;
        /* A zombie awaiting its new parent's wait still counts as gone. */
        char path[64], st[256];
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", grandchild);
        f = fopen(path, "r");
        if (!f)
            break;
        assert_non_null(fgets(st, sizeof(st), f));
        fclose(f);
        if (strstr(st, ") Z "))
            break;
        sched_yield();
    }
}

static void test_poll_ends_on_cancelling_signal(void **state)
{
    int p[2];
    struct pollfd pfd;

    assert_int_equal(proc_signals_init(), 0);
    assert_int_equal(pipe(p), 0);
    pfd = (struct pollfd){.fd = p[0], .events = POLLIN};
    raise(SIGINT);
    assert_int_equal(proc_poll(&pfd, 1, -1), -ECANCELED);
    assert_int_equal(proc_cancelled(), SIGINT);
    proc_cancel_reset();
    assert_int_equal(proc_cancelled(), 0);
    assert_int_equal(proc_poll(&pfd, 1, proc_now_ms() + 50), -ETIMEDOUT);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(proc_poll(&pfd, 1, proc_now_ms() + 5000), 1);
    close(p[0]);
    close(p[1]);
}

static void test_child_as_another_user_has_its_ids_and_nothing_else(void **state)
{
    const char *script = "set -e; s=/proc/self/status; "
                         "grep -q \"^Uid:\t$U\t$U\t$U\t$U$\" $s; "
                         "grep -q \"^Gid:\t$G\t$G\t$G\t$G$\" $s; "
                         "grep -qx 'Groups:[[:space:]]*' $s; "
                         "grep -q '^CapEff:\t0000000000000000$' $s; "
                         "grep -q '^CapBnd:\t0000000000000000$' $s";
    const char *argv[] = {"sh", "-c", script, NULL};
    struct sandbox_user user;
    char err[ERRBUF_LEN], env[32];
    int status;
    pid_t pid;

    if (geteuid() != 0)
        TEST_SKIP("only root starts a child as another user");
    assert_int_equal(sandbox_lookup_user(NULL, "test", &user, err, sizeof(err)), 0);
    snprintf(env, sizeof(env), "%u", (unsigned)user.uid);
    setenv("U", env, 1);
    snprintf(env, sizeof(env), "%u", (unsigned)user.gid);
    setenv("G", env, 1);
    {
        struct proc_spawn_opts o = {
            .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = 2, .user = &user};

        if (proc_spawn(&o, &pid, err, sizeof(err)))
            fail_msg("%s", err);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_program_another_user_cannot_reach_is_named_with_the_fix(void **state)
{
    char dir[] = "/tmp/burette-test-proc-XXXXXX", prog[64], err[ERRBUF_LEN];
    const char *argv[] = {prog, NULL};
    struct sandbox_user user;
    pid_t pid = 0;
    FILE *f;
    int rc;

    if (geteuid() != 0)
        TEST_SKIP("only root starts a child as another user");
    assert_int_equal(sandbox_lookup_user(NULL, "test", &user, err, sizeof(err)), 0);
    /* executable, but in a directory only root may enter */
    assert_non_null(mkdtemp(dir));
    snprintf(prog, sizeof(prog), "%s/prog", dir);
    f = fopen(prog, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nexit 0\n", f);
    fclose(f);
    assert_int_equal(chmod(prog, 0755), 0);
    {
        struct proc_spawn_opts o = {
            .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .user = &user};

        rc = proc_spawn(&o, &pid, err, sizeof(err));
    }
    unlink(prog);
    rmdir(dir);
    printf("# %s\n", err);
    assert_int_equal(rc, -EACCES);
    assert_int_equal(pid, 0);
    assert_non_null(strstr(err, prog));
    assert_non_null(strstr(err, user.name));
    assert_non_null(strstr(err, "reach and execute"));
}

/* A log file of @text in a directory of the test's own; its path in @path (PATH_MAX). */
static void write_log(char *dir, char *path, const char *text)
{
    FILE *f;

    strcpy(dir, "/tmp/test_proc.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, 4096, "%s/child.log", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* A child's last words: blank lines and the noise asked for left out, leading blanks trimmed,
 * the last lines that fit joined; with the status, how it ended. */
static void test_log_tail_keeps_the_last_lines_that_fit(void **state)
{
    char dir[32], path[4096], buf[64];

    write_log(dir, path,
              "first line, too early to fit\n\n  Failed to send to syslog\n\tsecond\n"
              "third\n\n");
    proc_log_tail(path, "to syslog", buf, sizeof(buf));
    assert_string_equal(buf, "first line, too early to fit / second / third");
    proc_log_tail(path, "to syslog", buf, 20);
    assert_string_equal(buf, "second / third");
    proc_log_tail(path, NULL, buf, 8); /* not even the last line fits: it, cut short */
    assert_string_equal(buf, "third");
    proc_log_tail(path, NULL, buf, 4);
    assert_string_equal(buf, "thi");
    /* behind "exited with status 1: " the first line no longer fits */
    assert_string_equal(proc_how_ended(1 << 8, path, "syslog", buf, sizeof(buf)),
                        "exited with status 1: second / third");
    unlink(path);
    proc_log_tail(path, NULL, buf, sizeof(buf)); /* gone: nothing to say */
    assert_string_equal(buf, "");
    assert_string_equal(proc_how_ended(1 << 8, path, NULL, buf, sizeof(buf)),
                        "exited with status 1");
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_listed_descriptors_reach_the_child),
        cmocka_unit_test(test_missing_program_is_an_error_at_spawn),
        cmocka_unit_test(test_child_leads_its_group_and_kill_ends_the_group),
        cmocka_unit_test(test_poll_ends_on_cancelling_signal),
        cmocka_unit_test(test_child_as_another_user_has_its_ids_and_nothing_else),
        cmocka_unit_test(test_program_another_user_cannot_reach_is_named_with_the_fix),
        cmocka_unit_test(test_log_tail_keeps_the_last_lines_that_fit),
    };

    return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
