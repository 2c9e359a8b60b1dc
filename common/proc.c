/* SPDX-License-Identifier: MIT */
/*
 * proc - spawning children that die with burette, and turning SIGINT/SIGTERM into an event
 * every wait can see. See proc.h for the rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "errbuf.h"
#include "proc.h"
#include "seccomp_sandbox.h"

static volatile sig_atomic_t cancel_signal;
static int cancel_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;

    if (cancel_signal) {
        /* Second request: stop now. Children die with us (PR_SET_PDEATHSIG). */
        _exit(128 + sig);
    }
    cancel_signal = sig;
    if (cancel_pipe[1] >= 0) {
        ssize_t n = write(cancel_pipe[1], "x", 1);
        (void)n;
    }
    errno = saved;
}

int proc_signals_init(void)
{
    struct sigaction sa = {0};

    if (cancel_pipe[0] < 0 && pipe2(cancel_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
        return -errno;
    return 0;
}

int proc_cancelled(void)
{
    return cancel_signal;
}

void proc_cancel_reset(void)
{
    char buf[64];

    cancel_signal = 0;
    if (cancel_pipe[0] >= 0)
        while (read(cancel_pipe[0], buf, sizeof(buf)) > 0)
            ;
}

long long proc_now_ms(void)
{
    return clock_now_ms();
}

int proc_poll(struct pollfd *fds, size_t n, long long deadline)
{
    struct pollfd all[16];

    if (n + 1 > sizeof(all) / sizeof(all[0]))
        return -EINVAL;
    for (;;) {
        long long left = deadline < 0 ? -1 : deadline - proc_now_ms();
        int rc;

        if (cancel_signal)
            return -ECANCELED;
        if (deadline >= 0 && left <= 0)
            return -ETIMEDOUT;
        memcpy(all, fds, n * sizeof(*fds));
        all[n] = (struct pollfd){.fd = cancel_pipe[0], .events = POLLIN};
        rc = poll(all, n + 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (cancel_signal)
            return -ECANCELED;
        for (size_t i = 0; i < n; i++)
            fds[i].revents = all[i].revents;
        if (all[n].revents) {
            char buf[64];

            /* A byte left over from a signal already handled (proc_cancel_reset). */
            while (read(cancel_pipe[0], buf, sizeof(buf)) > 0)
                ;
            rc--;
        }
        if (rc > 0)
            return rc;
    }
}

int proc_pidfd(pid_t pid)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);

    return fd < 0 ? -errno : fd;
}

/* What a child that could not exec sends back: the errno, and a message for a step that has one. */
struct child_error {
    int err;
    char msg[ERRBUF_LEN];
};

/* In the child: set up and exec, or report errno through @errfd and exit. */
static void __attribute__((noreturn))
child(const struct proc_spawn_opts *o, pid_t parent, int errfd)
{
    struct child_error ce = {0};
    sigset_t none;
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

    setpgid(0, 0);
    if (prctl(PR_SET_PDEATHSIG, o->death_signal ? o->death_signal : SIGKILL) < 0)
        goto fail;
    /* The parent may have died before prctl(): then nobody would ever kill us. */
    if (getppid() != parent)
        _exit(127);
    /* Re-arms the death signal the switch clears, and checks the parent again. */
    if (o->user && (ce.err = -sandbox_drop_caps(o->user, "", ce.msg, sizeof(ce.msg))) != 0) {
        if (ce.err == ESRCH)
            _exit(127);
        goto report;
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (dup2(o->stdin_fd >= 0 ? o->stdin_fd : devnull, 0) < 0 ||
        dup2(o->stdout_fd >= 0 ? o->stdout_fd : devnull, 1) < 0 ||
        dup2(o->stderr_fd >= 0 ? o->stderr_fd : devnull, 2) < 0)
        goto fail;
    /*
     * Whatever the parent opened without O_CLOEXEC (a library's descriptor, say) must not
     * reach the program either: mark everything close-on-exec, then exempt the listed ones.
     */
    close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
    for (size_t i = 0; i < o->n_keep_fds; i++) {
        int flags = fcntl(o->keep_fds[i], F_GETFD);

        if (flags < 0 || fcntl(o->keep_fds[i], F_SETFD, flags & ~FD_CLOEXEC) < 0)
            goto fail;
    }
    execvp(o->argv[0], (char *const *)o->argv);
fail:
    ce.err = errno;
report:
    if (write(errfd, &ce, sizeof(ce)) < 0)
        _exit(127);
    _exit(127);
}

int proc_spawn(const struct proc_spawn_opts *o, pid_t *pid, char *err, size_t errlen)
{
    pid_t parent = getpid(), p;
    struct child_error ce = {0};
    int ep[2], rc = 0;
    ssize_t n;

    for (size_t i = 0; i < o->n_keep_fds; i++)
        if (o->keep_fds[i] <= 2)
            return errbuf_set(err, errlen, -EINVAL, "cannot pass descriptor %d to %s",
                              o->keep_fds[i], o->argv[0]);
    /* Close-on-exec pipe: EOF means exec succeeded, a struct child_error that it failed. */
    if (pipe2(ep, O_CLOEXEC) < 0)
        return errbuf_set(err, errlen, -errno, "pipe: %s", strerror(errno));
    p = fork();
    if (p < 0) {
        rc = errbuf_set(err, errlen, -errno, "cannot fork to run %s: %s", o->argv[0],
                        strerror(errno));
        close(ep[0]);
        close(ep[1]);
        return rc;
    }
    if (p == 0) {
        close(ep[0]);
        child(o, parent, ep[1]);
    }
    /* Also here, so the group exists before anyone signals it. */
    setpgid(p, p);
    close(ep[1]);
    do
        n = read(ep[0], &ce, sizeof(ce));
    while (n < 0 && errno == EINTR);
    close(ep[0]);
    if (n == sizeof(ce)) {
        while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
            ;
        ce.msg[sizeof(ce.msg) - 1] = '\0';
        if (ce.msg[0]) /* the user switch: its message says which step */
            return errbuf_set(err, errlen, -ce.err, "cannot run %s as user %s%s", o->argv[0],
                              o->user->name, ce.msg);
        if (ce.err == ENOENT)
            return errbuf_set(err, errlen, -ENOENT, "cannot run %s: not found in PATH", o->argv[0]);
        if (o->user && ce.err == EACCES)
            return errbuf_set(err, errlen, -EACCES,
                              "cannot run %s as user %s: %s (that user must be able to reach "
                              "and execute it: check the modes of the file and of its "
                              "directories)",
                              o->argv[0], o->user->name, strerror(ce.err));
        return errbuf_set(err, errlen, -ce.err, "cannot run %s: %s", o->argv[0], strerror(ce.err));
    }
    *pid = p;
    return 0;
}

int proc_capture(const char *const *argv, char *out, size_t len, int timeout_ms)
{
    long long deadline = proc_now_ms() + timeout_ms;
    size_t used = 0;
    int pp[2], status = 0, rc;
    pid_t pid;

    out[0] = '\0';
    if (pipe2(pp, O_CLOEXEC) < 0)
        return -errno;
    {
        const struct proc_spawn_opts o = {
            .argv = argv, .stdin_fd = -1, .stdout_fd = pp[1], .stderr_fd = pp[1]};

        rc = proc_spawn(&o, &pid, NULL, 0);
    }
    close(pp[1]);
    if (rc) {
        close(pp[0]);
        return rc;
    }
    for (;;) {
        struct pollfd pf = {.fd = pp[0], .events = POLLIN};
        char sink[512];
        ssize_t n;

        rc = proc_poll(&pf, 1, deadline);
        if (rc < 0)
            break;
        /* past @len the rest is read and dropped, so the child never blocks on a full pipe */
        if (used + 1 < len)
            n = read(pp[0], out + used, len - 1 - used);
        else
            n = read(pp[0], sink, sizeof(sink));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = 0;
            break;
        }
        if (used + 1 < len) {
            used += (size_t)n;
            out[used] = '\0';
        }
    }
    close(pp[0]);
    proc_kill(pid, &status);
    return rc < 0 ? rc : status;
}

void proc_kill(pid_t pid, int *status)
{
    int st = 0;

    if (pid <= 0)
        return;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (status)
        *status = st;
}

int proc_reap(pid_t pid, int *status)
{
    pid_t r;

    do
        r = waitpid(pid, status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    return r == pid ? 1 : 0;
}

const char *proc_status_str(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "ended with wait status %#x", status);
    return buf;
}

size_t proc_file_tail(const char *path, char *buf, size_t len)
{
    ssize_t n = 0;
    off_t size;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    buf[0] = '\0';
    if (fd < 0)
        return 0;
    size = lseek(fd, 0, SEEK_END);
    if (size > 0)
        n = pread(fd, buf, len - 1, size > (off_t)len - 1 ? size - (off_t)len + 1 : 0);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return (size_t)n;
}

void proc_log_tail(const char *path, const char *skip, char *buf, size_t len)
{
    char raw[2048], *line, *save = NULL;
    const char *kept[64];
    size_t n = 0, first, used = 0, need = 0;

    buf[0] = '\0';
    if (!proc_file_tail(path, raw, sizeof(raw)))
        return;
    for (line = strtok_r(raw, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line += strspn(line, " \t\r");
        if (!*line || (skip && strstr(line, skip)))
            continue;
        if (n == sizeof(kept) / sizeof(kept[0])) {
            memmove(kept, kept + 1, sizeof(kept) - sizeof(kept[0]));
            n--;
        }
        kept[n++] = line;
    }
    /* from the last line back, as many as fit whole with their " / " */
    for (first = n; first > 0; first--) {
        need += strlen(kept[first - 1]) + (first < n ? 3 : 0);
        if (need >= len)
            break;
    }
    if (first == n && n) /* not even the last one fits: it alone, cut short */
        first = n - 1;
    for (size_t i = first; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i > first ? " / " : "", kept[i]);
}

const char *proc_how_ended(int status, const char *log, const char *skip, char *buf, size_t len)
{
    size_t used;

    proc_status_str(status, buf, len);
    used = strlen(buf);
    if (used + 3 < len) {
        proc_log_tail(log, skip, buf + used + 2, len - used - 2);
        if (buf[used + 2])
            memcpy(buf + used, ": ", 2);
    }
    return buf;
}

const char *proc_kill_how_ended(pid_t *pid, const char *log, const char *skip, char *buf,
                                size_t len)
{
    int status = 0;

    proc_kill(*pid, &status);
    *pid = 0;
    return proc_how_ended(status, log, skip, buf, len);
}
