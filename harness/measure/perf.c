/* SPDX-License-Identifier: MIT */
/*
 * perf - per sub-test `perf record -g` of QEMU and the backend's process; see perf.h.
 *
 * Synchronisation is perf's own control protocol (`--control fd:CTL,ACK` with `-D -1`): perf
 * opens its events disabled, we write "enable" on CTL, and perf answers "ack" on ACK once the
 * events count. Nothing here sleeps.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errbuf.h"
#include "fd.h"
#include "perf.h"
#include "proc.h"

#define PERF_PROGRAM     "perf"
#define PERF_CHECK_MS    15000 /* `perf --version` */
#define PERF_READY_MS    60000 /* perf reads symbols of a big QEMU before it enables events */
#define PERF_STOP_MS     60000 /* and writes build ids of every mapped file when it stops */
#define PARANOID_SYSCTL  "/proc/sys/kernel/perf_event_paranoid"
#define PERF_INSTALL_FIX "install it (Debian: apt-get install linux-perf)"

struct perf_rec {
    const char *what;
    pid_t pid;   /* the perf process; 0 once reaped */
    int pidfd;   /* readable when perf exits */
    int ctl_w;   /* our end of perf's control pipe */
    int ack_r;   /* our end of perf's acknowledgement pipe */
    char ack[8]; /* what perf answered so far */
    size_t ack_len;
    char log[4096]; /* perf's stderr */
};

struct perf_session {
    struct perf_rec recs[PERF_MAX_TARGETS];
    size_t n;
};

static int read_paranoid(void)
{
    FILE *f = fopen(PARANOID_SYSCTL, "re");
    int v = -100;

    if (f) {
        if (fscanf(f, "%d", &v) != 1)
            v = -100;
        fclose(f);
    }
    return v;
}

/* What perf record will do at the least: a sampling event on @pid, user space only. */
static int open_probe_event(pid_t pid)
{
    struct perf_event_attr attr = {
        .type = PERF_TYPE_SOFTWARE,
        .size = sizeof(attr),
        .config = PERF_COUNT_SW_CPU_CLOCK,
        .disabled = 1,
        .exclude_kernel = 1,
        .exclude_hv = 1,
    };
    int fd = (int)syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);

    if (fd < 0)
        return -errno;
    close(fd);
    return 0;
}

static int probe_perf_events(char *err, size_t errlen)
{
    int e = -open_probe_event(0), paranoid;

    if (!e)
        return 0;
    paranoid = read_paranoid();
    if (e == EACCES || e == EPERM) {
        if (paranoid == -100)
            return errbuf_set(err, errlen, -e,
                              "the kernel does not let this user open perf events (%s) and "
                              "kernel.perf_event_paranoid cannot be read: run as root or ask an "
                              "administrator to allow profiling",
                              strerror(e));
        return errbuf_set(err, errlen, -e,
                          "the kernel does not let this user open perf events: "
                          "kernel.perf_event_paranoid is %d; profiling your own processes needs "
                          "2 or less (as root: sysctl -w kernel.perf_event_paranoid=2), or run "
                          "burette as root",
                          paranoid);
    }
    if (e == ENOSYS || e == ENOENT || e == EOPNOTSUPP)
        return errbuf_set(err, errlen, -e,
                          "this kernel has no perf events (perf_event_open: %s); --perf-dir "
                          "cannot work here",
                          strerror(e));
    return errbuf_set(err, errlen, -e, "perf_event_open: %s", strerror(e));
}

/* `perf --version` runs to success: installed, and (Debian) matching the running kernel. */
static int probe_perf_program(char *err, size_t errlen)
{
    const char *argv[] = {PERF_PROGRAM, "--version", NULL};
    char out[512] = "", how[96];
    int p[2], status = 0, rc;
    size_t used = 0;
    long long deadline = proc_now_ms() + PERF_CHECK_MS;
    pid_t pid = 0;

    if (pipe2(p, O_CLOEXEC) < 0)
        return errbuf_set(err, errlen, -errno, "pipe: %s", strerror(errno));
    {
        const struct proc_spawn_opts o = {
            .argv = argv, .stdin_fd = -1, .stdout_fd = p[1], .stderr_fd = p[1]};

        rc = proc_spawn(&o, &pid, err, errlen);
    }
    close(p[1]);
    if (rc) {
        if (rc == -ENOENT)
            rc = errbuf_set(err, errlen, rc,
                            "--perf-dir needs the perf program, which is not in PATH: %s",
                            PERF_INSTALL_FIX);
        goto out;
    }
    /* Its output ends with EOF when it exits (only perf holds the write end). */
    for (;;) {
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        ssize_t n;

        rc = proc_poll(&pf, 1, deadline);
        if (rc < 0) {
            if (rc == -ETIMEDOUT)
                errbuf_set(err, errlen, rc, "'perf --version' did not finish within %d s",
                           PERF_CHECK_MS / 1000);
            goto out;
        }
        n = read(p[0], out + used, sizeof(out) - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
        out[used] = '\0';
        if (used + 1 >= sizeof(out))
            used = 0; /* only the end matters */
    }
    proc_kill(pid, &status); /* it has exited: this only reaps it */
    pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        while (used && (out[used - 1] == '\n' || out[used - 1] == ' '))
            out[--used] = '\0';
        for (char *c = out; *c; c++)
            if (*c == '\n')
                *c = ' ';
        rc = errbuf_set(err, errlen, -ENOEXEC, "'perf --version' %s%s%s: %s",
                        proc_status_str(status, how, sizeof(how)), *out ? ": " : "", out,
                        PERF_INSTALL_FIX " in the version of the running kernel");
        goto out;
    }
    rc = 0;
out:
    if (pid > 0)
        proc_kill(pid, NULL);
    close(p[0]);
    return rc;
}

int perf_check(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    int rc;

    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return errbuf_set(err, errlen, -errno, "--perf-dir %s: cannot create it: %s", dir,
                          strerror(errno));
    if (stat(dir, &st) < 0)
        return errbuf_set(err, errlen, -errno, "--perf-dir %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return errbuf_set(err, errlen, -ENOTDIR, "--perf-dir %s: exists and is not a directory",
                          dir);
    if (access(dir, W_OK | X_OK) < 0)
        return errbuf_set(err, errlen, -errno, "--perf-dir %s: not writable by you: %s", dir,
                          strerror(errno));
    rc = probe_perf_events(err, errlen);
    if (!rc)
        rc = probe_perf_program(err, errlen);
    if (rc)
        errbuf_prefix(err, errlen, "--perf-dir");
    return rc;
}

int perf_check_process(pid_t pid, const char *what, char *err, size_t errlen)
{
    int rc = open_probe_event(pid);

    if (rc == -EACCES || rc == -EPERM)
        return errbuf_set(err, errlen, rc,
                          "--perf-dir: the kernel does not let you record %s (pid %d): %s (a "
                          "process that made itself non-dumpable, as passt does, can only be "
                          "recorded with CAP_PERFMON or CAP_SYS_PTRACE): run burette as root, "
                          "or without --perf-dir",
                          what, (int)pid, strerror(-rc));
    if (rc)
        return errbuf_set(err, errlen, rc, "--perf-dir: cannot record %s (pid %d): %s", what,
                          (int)pid, strerror(-rc));
    return 0;
}

static void rec_close(struct perf_rec *r)
{
    if (r->pid > 0)
        proc_kill(r->pid, NULL);
    r->pid = 0;
    fd_close(&r->pidfd);
    fd_close(&r->ctl_w);
    fd_close(&r->ack_r);
}

/* Spawn one `perf record`, events disabled, and ask it to enable them. */
static int rec_start(struct perf_rec *r, const char *dir, const char *log_dir, const char *label,
                     const struct perf_target *t, char *err, size_t errlen)
{
    char out[4096], control[64], pidstr[16];
    int ctl[2] = {-1, -1}, ack[2] = {-1, -1}, logfd = -1, rc;
    pid_t pid = 0;

    r->what = t->what;
    snprintf(out, sizeof(out), "%s/%s.%s.data", dir, label, t->what);
    snprintf(r->log, sizeof(r->log), "%s/%s.%s.perf.log", log_dir, label, t->what);
    snprintf(pidstr, sizeof(pidstr), "%d", (int)t->pid);
    if (pipe2(ctl, O_CLOEXEC) < 0 || pipe2(ack, O_CLOEXEC) < 0) {
        rc = errbuf_set(err, errlen, -errno, "pipe: %s", strerror(errno));
        goto out;
    }
    logfd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        rc = errbuf_set(err, errlen, -errno, "cannot write %s: %s", r->log, strerror(errno));
        goto out;
    }
    snprintf(control, sizeof(control), "fd:%d,%d", ctl[0], ack[1]);
    {
        /* --no-buildid-cache: nothing lands in ~/.debug behind the user's back */
        const char *argv[] = {PERF_PROGRAM, "record", "-g",        "--no-buildid-cache",
                              "-D",         "-1",     "--control", control,
                              "-o",         out,      "-p",        pidstr,
                              NULL};
        const int keep[] = {ctl[0], ack[1]};
        const struct proc_spawn_opts o = {.argv = argv,
                                          .keep_fds = keep,
                                          .n_keep_fds = 2,
                                          .stdin_fd = -1,
                                          .stdout_fd = logfd,
                                          .stderr_fd = logfd};

        rc = proc_spawn(&o, &pid, err, errlen);
        if (rc)
            goto out;
    }
    r->pid = pid;
    r->pidfd = proc_pidfd(pid);
    if (r->pidfd < 0) {
        rc = errbuf_set(err, errlen, r->pidfd, "pidfd_open: %s", strerror(-r->pidfd));
        r->pidfd = -1;
        goto out;
    }
    r->ctl_w = ctl[1];
    r->ack_r = ack[0];
    ctl[1] = ack[0] = -1;
    /* A pipe holds this until perf reads it, which it does once its events are open. */
    if (write(r->ctl_w, "enable\n", 7) != 7) {
        rc = errbuf_set(err, errlen, -errno, "cannot write to perf's control pipe: %s",
                        strerror(errno));
        goto out;
    }
    rc = 0;
out:
    for (int i = 0; i < 2; i++) {
        fd_close(&ctl[i]);
        fd_close(&ack[i]);
    }
    fd_close(&logfd);
    return rc;
}

/* Why a perf that should be running is not: its status and last words. */
static int rec_died(struct perf_rec *r, char *err, size_t errlen)
{
    char how[512];

    return errbuf_set(err, errlen, -EIO, "perf record of %s %s (its log: %s)", r->what,
                      proc_kill_how_ended(&r->pid, r->log, NULL, how, sizeof(how)), r->log);
}

/* Whether @r has acknowledged "enable" in full. */
static bool rec_ready(const struct perf_rec *r)
{
    return r->ack_len >= 4;
}

/**
 * rec_read_ack() - Read what perf wrote on @r's acknowledgement pipe (it was readable)
 * Return: 0 (the answer may still be incomplete), or negative errno when perf answered
 * something other than "ack" or died (message in @err)
 */
static int rec_read_ack(struct perf_rec *r, char *err, size_t errlen)
{
    ssize_t got = read(r->ack_r, r->ack + r->ack_len, 4 - r->ack_len);

    if (got < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (got <= 0)
        return rec_died(r, err, errlen);
    r->ack_len += (size_t)got;
    if (rec_ready(r) && memcmp(r->ack, "ack\n", 4))
        return errbuf_set(err, errlen, -EPROTO, "perf record of %s answered '%.4s' to 'enable'",
                          r->what, r->ack);
    return 0;
}

/**
 * wait_ready() - Wait until every perf of @s has acknowledged "enable", at most PERF_READY_MS
 *
 * Each perf not yet ready is polled on two descriptors: its acknowledgement pipe and its
 * pidfd (a perf that dies instead of answering is noticed at once). @waiting[i] is the perf
 * whose pair is pf[2i], pf[2i + 1].
 *
 * Return: 0, -ETIMEDOUT, -ECANCELED, or the negative errno of a perf that failed
 */
static int wait_ready(struct perf_session *s, char *err, size_t errlen)
{
    long long deadline = proc_now_ms() + PERF_READY_MS;

    for (;;) {
        struct pollfd pf[2 * PERF_MAX_TARGETS];
        struct perf_rec *waiting[PERF_MAX_TARGETS];
        size_t n = 0;
        int rc;

        for (size_t i = 0; i < s->n; i++) {
            if (rec_ready(&s->recs[i]))
                continue;
            pf[2 * n] = (struct pollfd){.fd = s->recs[i].ack_r, .events = POLLIN};
            pf[2 * n + 1] = (struct pollfd){.fd = s->recs[i].pidfd, .events = POLLIN};
            waiting[n++] = &s->recs[i];
        }
        if (!n)
            return 0;
        rc = proc_poll(pf, 2 * n, deadline);
        if (rc == -ETIMEDOUT)
            return errbuf_set(err, errlen, rc, "perf record did not start within %d s",
                              PERF_READY_MS / 1000);
        if (rc < 0)
            return rc;
        rc = 0; /* proc_poll() counted the descriptors ready */
        for (size_t i = 0; i < n && !rc; i++) {
            if (pf[2 * i].revents)
                rc = rec_read_ack(waiting[i], err, errlen);
            else if (pf[2 * i + 1].revents)
                rc = rec_died(waiting[i], err, errlen);
        }
        if (rc)
            return rc;
    }
}

int perf_session_start(struct perf_session **out, const char *dir, const char *log_dir,
                       const char *label, const struct perf_target *targets, size_t n, char *err,
                       size_t errlen)
{
    struct perf_session *s;
    int rc = 0;

    *out = NULL;
    if (n > PERF_MAX_TARGETS)
        return errbuf_set(err, errlen, -EINVAL, "at most %d processes can be recorded",
                          PERF_MAX_TARGETS);
    s = calloc(1, sizeof(*s));
    if (!s)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    /* Start them all first: each takes a while to read symbols, in parallel is faster. */
    for (size_t i = 0; i < n; i++) {
        struct perf_rec *r;

        if (targets[i].pid <= 0)
            continue;
        r = &s->recs[s->n++];
        r->pidfd = r->ctl_w = r->ack_r = -1;
        rc = rec_start(r, dir, log_dir, label, &targets[i], err, errlen);
        if (rc)
            goto fail;
    }
    rc = wait_ready(s, err, errlen);
    if (rc)
        goto fail;
    *out = s;
    return 0;
fail:
    perf_session_stop(s, NULL, 0);
    return rc;
}

/* Wait until the process behind @pidfd ends or @deadline passes; EINTR waits on. */
static void wait_exit(int pidfd, long long deadline)
{
    struct pollfd pf = {.fd = pidfd, .events = POLLIN};
    long long ms;

    do
        ms = deadline - proc_now_ms();
    while (poll(&pf, 1, ms < 0 ? 0 : (int)ms) < 0 && errno == EINTR);
}

/**
 * rec_finish() - Reap @r's perf, which was sent SIGINT, waiting until @deadline for it to
 * write its file; kill it after that
 * Return: 0 when perf wrote its file, -ETIMEDOUT when it had to be killed, -EIO when it failed
 * (message in @err)
 */
static int rec_finish(struct perf_rec *r, long long deadline, char *err, size_t errlen)
{
    char how[512];
    int status = 0;

    if (r->pidfd >= 0) /* without a pidfd: kill at once below */
        wait_exit(r->pidfd, deadline);
    if (proc_reap(r->pid, &status) != 1) {
        proc_kill(r->pid, NULL);
        r->pid = 0;
        return errbuf_set(err, errlen, -ETIMEDOUT,
                          "perf record of %s did not finish writing within %d s and was killed "
                          "(its log: %s)",
                          r->what, PERF_STOP_MS / 1000, r->log);
    }
    r->pid = 0;
    /* perf record ends a SIGINT by re-raising it once its file is written */
    if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
        (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT))
        return 0;
    return errbuf_set(err, errlen, -EIO, "perf record of %s %s (its log: %s)", r->what,
                      proc_how_ended(status, r->log, NULL, how, sizeof(how)), r->log);
}

int perf_session_stop(struct perf_session *s, char *err, size_t errlen)
{
    long long deadline = proc_now_ms() + PERF_STOP_MS;
    int rc = 0;

    if (!s)
        return 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->recs[i].pid > 0)
            kill(s->recs[i].pid, SIGINT);
    /* Not proc_poll(): after a SIGINT to burette, perf still deserves time to write. The first
     * failure is the one reported; every perf is reaped whatever happened to the others. */
    for (size_t i = 0; i < s->n; i++) {
        int one;

        if (s->recs[i].pid <= 0)
            continue;
        one = rec_finish(&s->recs[i], deadline, rc ? NULL : err, rc ? 0 : errlen);
        if (!rc)
            rc = one;
    }
    for (size_t i = 0; i < s->n; i++)
        rec_close(&s->recs[i]);
    free(s);
    return rc;
}
