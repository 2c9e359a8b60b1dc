/* SPDX-License-Identifier: MIT */
/*
 * consomme's listening socket is never at its path before it listens: a client that connects
 * the moment the path appears is accepted, never refused.
 *
 * For --vhost-user and --socket, ROUNDS times each: consomme is started on a fresh path in a
 * fresh directory, and this test calls connect() on that path back to back from the start.
 * Until the path exists the only allowed failure is ENOENT; ECONNREFUSED would mean the path
 * was there while nothing listened (bind() before listen()). Once connected, consomme is
 * stopped, and the directory must hold nothing but the path it owns (no temporary name left).
 * Usage: test_consomme_socket_ready CONSOMME
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../support/skip.h"
#include "../support/test_args.h"

#define ROUNDS      25
#define DEADLINE_MS 10000

static const char *consomme;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pid_t start(const char *mode, const char *path)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        /* a failed assertion ends this test: consomme must not outlive it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (null >= 0)
            dup2(null, 1);
        execl(consomme, consomme, mode, path, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Entries of @dir other than "." and ".." */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void round_trip(const char *mode)
{
    char dir[] = "/tmp/burette-sockready-XXXXXX";
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    long long deadline;
    unsigned attempts = 0;
    int fd, status;
    pid_t pid;

    assert_non_null(mkdtemp(dir));
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/net.sock", dir);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    pid = start(mode, sa.sun_path);
    deadline = now_ms() + DEADLINE_MS;
    while (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        if (errno != ENOENT)
            fail_msg("%s: connect to %s after %u attempts: %s (the path existed before "
                     "consomme listened)",
                     mode, sa.sun_path, attempts, strerror(errno));
        attempts++;
        if (now_ms() > deadline || waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("%s: consomme never listened on %s", mode, sa.sun_path);
    }
    close(fd);
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    unlink(sa.sun_path);
    assert_int_equal(entries(dir), 0); /* no temporary name left behind */
    assert_int_equal(rmdir(dir), 0);
}

static void test_vhost_user_path_appears_listening(void **state)
{
    (void)state;
    for (int i = 0; i < ROUNDS; i++)
        round_trip("--vhost-user");
}

static void test_stream_socket_path_appears_listening(void **state)
{
    (void)state;
    for (int i = 0; i < ROUNDS; i++)
        round_trip("--socket");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vhost_user_path_appears_listening),
        cmocka_unit_test(test_stream_socket_path_appears_listening),
    };

    consomme = test_operand(argc, argv, "CONSOMME");
    return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
