/* SPDX-License-Identifier: MIT */
/*
 * sandbox_check - what the sandbox tests read about a live or dead sandboxed process
 *
 * /proc/PID/status fields (NoNewPrivs, Seccomp, Cap*, Uid, Gid, Groups) of a process that is
 * still running,
 * and whether the kernel log holds the seccomp kill record (audit type 1326) of a process, to
 * know whether a message naming the syscall is to be expected. Header-only, for cmocka tests:
 * the includes come from the test file (cmocka.h before this one).
 */
#ifndef BURETTE_TEST_SANDBOX_CHECK_H
#define BURETTE_TEST_SANDBOX_CHECK_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SANDBOX_CHECK_DEADLINE_MS 10000

/* The value of "Key:" in /proc/@pid/status, or "" */
static inline void status_field(pid_t pid, const char *key, char *out, size_t len)
{
    char path[64], line[256];
    FILE *f;

    out[0] = '\0';
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
            snprintf(out, len, "%s",
                     line + strlen(key) + 1 + strspn(line + strlen(key) + 1, "\t "));
            out[strcspn(out, "\n")] = '\0';
        }
    fclose(f);
}

static inline long long sandbox_check_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until @pid's filter is in place (a process locks itself at a moment of its own), then
 * check no_new_privs and that no capability is effective or permitted.
 */
static inline void assert_filtered_without_caps(pid_t pid)
{
    long long deadline = sandbox_check_now_ms() + SANDBOX_CHECK_DEADLINE_MS;
    char v[128];

    for (;;) {
        status_field(pid, "Seccomp", v, sizeof(v));
        if (!strcmp(v, "2"))
            break;
        assert_true(sandbox_check_now_ms() < deadline);
        /* a pidfd cannot tell a prctl() apart: the state itself is polled, bounded */
        poll(NULL, 0, 10);
    }
    status_field(pid, "NoNewPrivs", v, sizeof(v));
    assert_string_equal(v, "1");
    status_field(pid, "CapEff", v, sizeof(v));
    assert_string_equal(v, "0000000000000000");
    status_field(pid, "CapPrm", v, sizeof(v));
    assert_string_equal(v, "0000000000000000");
}

/*
 * That @pid runs as @uid:@gid in every slot (real, effective, saved, filesystem) with no
 * supplementary group but @extra_group (-1: none): what a switch away from root must leave.
 */
static inline void assert_runs_as(pid_t pid, uid_t uid, gid_t gid, long extra_group)
{
    char v[256], want[128];

    snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", (unsigned)uid, (unsigned)uid, (unsigned)uid,
             (unsigned)uid);
    status_field(pid, "Uid", v, sizeof(v));
    assert_string_equal(v, want);
    snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", (unsigned)gid, (unsigned)gid, (unsigned)gid,
             (unsigned)gid);
    status_field(pid, "Gid", v, sizeof(v));
    assert_string_equal(v, want);
    status_field(pid, "Groups", v, sizeof(v));
    v[strcspn(v, " ")] = '\0';
    if (extra_group < 0)
        assert_string_equal(v, "");
    else
        assert_int_equal(strtol(v, NULL, 10), extra_group);
}

/* Whether the kernel log (readable) holds the seccomp kill record of @pid; read independently
 * of the code under test, after it, so the record had time to arrive. */
static inline bool kmsg_has_seccomp_record(pid_t pid)
{
    char rec[8192], key[32];
    bool found = false;
    int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return false;
    snprintf(key, sizeof(key), " pid=%d ", (int)pid);
    while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE))
        if (n > 0) {
            rec[n] = '\0';
            found |= strstr(rec, "type=1326") && strstr(rec, key);
        }
    close(fd);
    return found;
}

#endif /* BURETTE_TEST_SANDBOX_CHECK_H */
