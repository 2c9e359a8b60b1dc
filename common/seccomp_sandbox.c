/* SPDX-License-Identifier: MIT */
/*
 * seccomp_sandbox - capability drop, no_new_privs and seccomp allow-lists; see seccomp_sandbox.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cap-ng.h>

#include "clock.h"
#include "errbuf.h"
#include "seccomp_sandbox.h"

#define AUDIT_WAIT_MS 1000 /* for the kernel's record of a seccomp kill */

#ifdef SANDBOX_SANITIZER
/* The sanitizer runtime: reports, and LeakSanitizer's stop-the-world at exit. */
static const int sanitizer_allowed[] = {
    SCMP_SYS(clone),        SCMP_SYS(ptrace),
    SCMP_SYS(prctl),        SCMP_SYS(sched_yield),
    SCMP_SYS(futex),        SCMP_SYS(sigaltstack),
    SCMP_SYS(rt_sigaction), SCMP_SYS(getppid),
    SCMP_SYS(openat),       SCMP_SYS(open),
    SCMP_SYS(stat),         SCMP_SYS(lstat),
    SCMP_SYS(getdents),     SCMP_SYS(sched_getaffinity),
    SCMP_SYS(close_range),  SCMP_SYS(readlink),
    SCMP_SYS(getrlimit),    SCMP_SYS(prlimit64),
    SCMP_SYS(uname),        SCMP_SYS(pipe2),
    SCMP_SYS(dup2),         SCMP_SYS(fcntl),
    SCMP_SYS(getdents64),   SCMP_SYS(mprotect),
    SCMP_SYS(mmap),         SCMP_SYS(munlock),
    SCMP_SYS(write),        SCMP_SYS(exit_group),
    SCMP_SYS(getpid),       SCMP_SYS(gettid),
    SCMP_SYS(madvise),      SCMP_SYS(munmap),
    SCMP_SYS(read),         SCMP_SYS(close),
    SCMP_SYS(wait4),        SCMP_SYS(waitid),
};
#endif

int sandbox_lookup_user(const char *name, const char *what, struct sandbox_user *user, char *err,
                        size_t errlen)
{
    struct passwd *pw;

    if (!name)
        name = SANDBOX_DEFAULT_USER;
    memset(user, 0, sizeof(*user));
    if (strlen(name) >= sizeof(user->name))
        return errbuf_set(err, errlen, -ENAMETOOLONG, "%s: user name '%.40s...' is too long", what,
                          name);
    errno = 0;
    pw = getpwnam(name);
    if (!pw)
        return errbuf_set(err, errlen, -ENOENT,
                          "%s: no user '%s' on this system (%s; name an existing "
                          "unprivileged user)",
                          what, name, errno ? strerror(errno) : "not in the user database");
    if (pw->pw_uid == 0)
        return errbuf_set(err, errlen, -EPERM, "%s %s: that is root; name an unprivileged user",
                          what, name);
    user->uid = pw->pw_uid;
    user->gid = pw->pw_gid;
    snprintf(user->name, sizeof(user->name), "%s", name);
    return 0;
}

int sandbox_allow_args(scmp_filter_ctx ctx, int nr, unsigned arg, const scmp_datum_t *values,
                       size_t n)
{
    int rc = 0;

    for (size_t i = 0; !rc && i < n; i++)
        rc = seccomp_rule_add(
            ctx, SCMP_ACT_ALLOW, nr, 1,
            (struct scmp_arg_cmp){.arg = arg, .op = SCMP_CMP_EQ, .datum_a = values[i]});
    return rc;
}

int sandbox_drop_caps(const struct sandbox_user *user, const char *who, char *err, size_t errlen)
{
    int pdeath = 0, rc;
    pid_t parent = getppid();
    bool setpcap;

    if (prctl(PR_GET_PDEATHSIG, &pdeath))
        pdeath = 0;
    setpcap = !capng_get_caps_process() && capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
    capng_clear(CAPNG_SELECT_BOTH);
    if (user) {
        /* The one supplementary group kept, set while we may still (capng_change_id() then
         * leaves the list alone). */
        if (user->has_extra_group && setgroups(1, &user->extra_group))
            return errbuf_set(err, errlen, -errno, "%s: cannot set the groups of user %s: %s", who,
                              user->name, strerror(errno));
        /* setgroups(), setresgid(), setresuid(), bounding set cleared, caps cleared */
        rc = capng_change_id((int)user->uid, (int)user->gid,
                             (user->has_extra_group ? 0 : CAPNG_DROP_SUPP_GRP) |
                                 CAPNG_CLEAR_BOUNDING);
        if (rc)
            return errbuf_set(err, errlen, -EPERM,
                              "%s: cannot switch to user %s, uid %u gid %u (capng_change_id: %d)",
                              who, user->name, (unsigned)user->uid, (unsigned)user->gid, rc);
    } else {
        /* Whatever capabilities we hold go, and the bounding set with them where CAP_SETPCAP
         * allows (no_new_privs keeps exec from regaining anything anyway). */
        if (capng_apply(setpcap ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS))
            return errbuf_set(err, errlen, -EPERM, "%s: cannot drop capabilities", who);
    }
    if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
        return errbuf_set(err, errlen, -EPERM,
                          "%s: capabilities are still held after dropping them", who);
    /* A credential change clears the death signal: arm it again, then make sure the parent did
     * not die in between (its death would have gone unnoticed). */
    if (pdeath) {
        if (prctl(PR_SET_PDEATHSIG, pdeath))
            return errbuf_set(err, errlen, -errno, "%s: PR_SET_PDEATHSIG: %s", who,
                              strerror(errno));
        if (getppid() != parent)
            return errbuf_set(err, errlen, -ESRCH,
                              "%s: the parent process exited while privileges were dropped", who);
    }
    return 0;
}

int sandbox_lock(const int *allowed, size_t n, sandbox_rules_fn *rules, const char *who,
                 const char *escape, char *err, size_t errlen)
{
    scmp_filter_ctx ctx;
    int rc = 0;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        return errbuf_set(err, errlen, -errno, "%s: PR_SET_NO_NEW_PRIVS: %s", who, strerror(errno));
    ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return errbuf_set(err, errlen, -ENOMEM, "%s: seccomp_init failed", who);
    for (size_t i = 0; !rc && i < n; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
#ifdef SANDBOX_SANITIZER
    for (size_t i = 0; !rc && i < sizeof(sanitizer_allowed) / sizeof(sanitizer_allowed[0]); i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sanitizer_allowed[i], 0);
#else
    /* Mappings (malloc's, guest RAM, libiperf's buffer file), never executable ones: code
     * that could be injected has nowhere to run. */
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
#endif
    if (!rc && rules)
        rc = rules(ctx);
    if (!rc)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc)
        return errbuf_set(err, errlen, rc,
                          "%s: cannot load the seccomp filter: %s (a kernel without seccomp?%s%s)",
                          who, strerror(-rc), escape ? " " : "", escape ? escape : "");
    return 0;
}

void sandbox_fault_injection(const char *env)
{
    const char *v = getenv(env);

    if (v && !strcmp(v, "1"))
        syscall(SYS_personality, 0xffffffffUL); /* a harmless query no filter allows */
}

/*
 * The syscall number in @pid's audit record ("audit: type=1326 ... pid=PID comm=...
 * syscall=N ..."), or -1. The record is written by the kernel's audit thread, possibly just
 * after the death was seen: new records are awaited a little while.
 */
static long audit_syscall_of(pid_t pid)
{
    char rec[8192], key[32];
    int64_t deadline = clock_now_ms() + AUDIT_WAIT_MS;
    long nr = -1;
    int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return -1;
    snprintf(key, sizeof(key), " pid=%d ", (int)pid);
    while (nr < 0) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t n = read(fd, rec, sizeof(rec) - 1);
        int64_t left = deadline - clock_now_ms();
        const char *sc;

        if (n < 0 && errno == EPIPE)
            continue; /* records overwritten while we read: go on with the next */
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (left <= 0 || poll(&pfd, 1, (int)left) < 0)
                break;
            continue;
        }
        if (n <= 0)
            break;
        rec[n] = '\0';
        if (strstr(rec, "type=1326") && strstr(rec, key) && (sc = strstr(rec, " syscall=")))
            nr = strtol(sc + 9, NULL, 10);
    }
    close(fd);
    return nr;
}

void sandbox_describe_kill(pid_t pid, char *buf, size_t len)
{
    long nr = audit_syscall_of(pid);
    char *name = nr >= 0 ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr) : NULL;

    if (nr >= 0)
        snprintf(buf, len, "system call %ld (%s)", nr, name ? name : "unknown");
    else
        snprintf(buf, len,
                 "a system call (the kernel log, 'dmesg | grep type=1326' as root, names it)");
    free(name);
}
