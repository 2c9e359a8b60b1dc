/* SPDX-License-Identifier: MIT */
/*
 * sandbox.c - consomme's privilege drop and seccomp allow-list, after the set-up
 *
 * consomme parses every byte a guest sends, so once its descriptors are open it keeps only what
 * its event loop needs, as passt does: no capabilities (bounding set cleared too), as root the
 * --runas user (default nobody, supplementary groups dropped), PR_SET_NO_NEW_PRIVS, and a
 * seccomp filter whose default action kills the whole process (SIGSYS, logged by the kernel as
 * an audit record of type 1326 naming the syscall). The list is exactly what the loop calls in
 * every mode: epoll and timers, reads and writes on the guest's transport (stream socket, TAP,
 * vhost-user socket with its eventfds, and mmap/munmap of guest memory when the driver reloads
 * and QEMU sends a new memory table), the host sockets of the NAT (AF_INET only), the stats
 * file through its descriptor opened beforehand, and, for `consomme run`, reaping and
 * signalling CMD. No filesystem path is opened after the lock, and no mapping may be
 * executable.
 *
 * Sanitizer builds add what the sanitizer runtime itself calls at exit (LeakSanitizer stops the
 * process with a ptrace-ing clone), so the sanitized tests run the same sandbox as users do.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cap-ng.h>
#include <jansson.h>
#include <seccomp.h>

#include "core.h"
#include "errbuf.h"
#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define CM_SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CM_SANDBOX_SANITIZER 1
#endif
#endif

/* Everything the loop may call with any argument. */
static const int allowed[] = {
    /* the loop, its timers and signals (signalfd reads; abort() on a broken invariant) */
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_pwait2),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    /* descriptors it holds: transport, eventfds, host sockets, stats file, stderr */
    SCMP_SYS(read),
    SCMP_SYS(readv),
    SCMP_SYS(write),
    SCMP_SYS(writev),
    SCMP_SYS(pwrite64),
    SCMP_SYS(close),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(lseek),
    SCMP_SYS(ftruncate),
    /* NAT sockets (socket() itself is restricted below) */
    SCMP_SYS(connect),
    SCMP_SYS(shutdown),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendmmsg),
    SCMP_SYS(recvmmsg),
    /* TCP initial sequence numbers */
    SCMP_SYS(getrandom),
    /* memory (mmap/mprotect below): malloc, and guest RAM on a vhost-user SET_MEM_TABLE */
    SCMP_SYS(brk),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    /* `consomme run`: CMD's exit and the signals forwarded to it */
    SCMP_SYS(wait4),
    SCMP_SYS(waitid),
    SCMP_SYS(kill),
    SCMP_SYS(tgkill),
#ifdef CM_SANDBOX_SANITIZER
    /* the sanitizer runtime: reports, and LeakSanitizer's stop-the-world at exit */
    SCMP_SYS(clone),
    SCMP_SYS(ptrace),
    SCMP_SYS(prctl),
    SCMP_SYS(sched_yield),
    SCMP_SYS(futex),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(getppid),
    SCMP_SYS(openat),
    SCMP_SYS(open),
    SCMP_SYS(stat),
    SCMP_SYS(lstat),
    SCMP_SYS(getdents),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(close_range),
    SCMP_SYS(readlink),
    SCMP_SYS(getrlimit),
    SCMP_SYS(prlimit64),
    SCMP_SYS(uname),
    SCMP_SYS(pipe2),
    SCMP_SYS(dup2),
    SCMP_SYS(fcntl),
    SCMP_SYS(getdents64),
    SCMP_SYS(mprotect),
    SCMP_SYS(mmap),
    SCMP_SYS(munlock),
#endif
};

int cm_sandbox_resolve(struct cm_sandbox *sb, char *err, size_t errlen)
{
    const char *name = sb->runas ? sb->runas : CM_SANDBOX_DEFAULT_USER;
    struct passwd *pw;

    sb->switch_user = false;
    if (sb->off)
        return 0;
    errno = 0;
    pw = getpwnam(name);
    if (!pw)
        return errbuf_set(err, errlen, -ENOENT,
                          "--runas: no user '%s' on this system (%s; name an existing "
                          "unprivileged user)",
                          name, errno ? strerror(errno) : "not in the user database");
    if (geteuid() != 0) {
        /* Not root: there is nobody to become; asking for another user is an error. */
        if (sb->runas && pw->pw_uid != geteuid())
            return errbuf_set(err, errlen, -EPERM,
                              "--runas %s: only root can switch users (consomme runs as "
                              "uid %u; drop --runas)",
                              name, (unsigned)geteuid());
        return 0;
    }
    if (sb->keep_user) {
        if (sb->runas)
            return errbuf_set(err, errlen, -EINVAL,
                              "--runas cannot be used with 'run': CMD runs as root, and "
                              "consomme keeps uid 0 (without capabilities) to signal it");
        return 0;
    }
    if (pw->pw_uid == 0)
        return errbuf_set(err, errlen, -EPERM,
                          "--runas %s: that is root; name an unprivileged user", name);
    sb->uid = pw->pw_uid;
    sb->gid = pw->pw_gid;
    sb->switch_user = true;
    return 0;
}

int cm_sandbox_drop_user(struct cm_sandbox *sb, char *err, size_t errlen)
{
    int pdeath = 0, rc;
    pid_t parent = getppid();

    if (sb->off || sb->dropped)
        return 0;
    if (prctl(PR_GET_PDEATHSIG, &pdeath))
        pdeath = 0;
    capng_clear(CAPNG_SELECT_BOTH);
    if (sb->switch_user) {
        /* setgroups(), setresgid(), setresuid(), bounding set cleared, caps cleared */
        rc =
            capng_change_id((int)sb->uid, (int)sb->gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
        if (rc)
            return errbuf_set(err, errlen, -EPERM,
                              "cannot switch to uid %u gid %u (capng_change_id: %d)",
                              (unsigned)sb->uid, (unsigned)sb->gid, rc);
    } else {
        /* Not root: whatever capabilities we hold go (the bounding set needs CAP_SETPCAP to
         * change, and no_new_privs keeps exec from regaining anything anyway). */
        if (capng_apply(CAPNG_SELECT_CAPS))
            return errbuf_set(err, errlen, -EPERM, "cannot drop capabilities");
    }
    if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
        return errbuf_set(err, errlen, -EPERM, "capabilities are still held after dropping them");
    /* The credential change cleared the death signal: arm it again, then make sure the parent
     * did not die in between (its death would have gone unnoticed). */
    if (pdeath) {
        if (prctl(PR_SET_PDEATHSIG, pdeath))
            return errbuf_set(err, errlen, -errno, "PR_SET_PDEATHSIG: %s", strerror(errno));
        if (getppid() != parent)
            return errbuf_set(err, errlen, -ESRCH,
                              "the parent process exited while consomme dropped privileges");
    }
    sb->dropped = true;
    return 0;
}

static int add_rules(scmp_filter_ctx ctx)
{
    int rc = 0;

    for (size_t i = 0; !rc && i < sizeof(allowed) / sizeof(allowed[0]); i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
#ifndef CM_SANDBOX_SANITIZER
    /* Guest RAM and malloc's mappings: never executable. */
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    /* vhost-user makes a kick eventfd non-blocking; nothing else changes descriptor flags. */
    for (int i = 0; !rc && i < 4; i++) {
        static const int cmds[] = {F_GETFL, F_SETFL, F_GETFD, F_SETFD};

        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
                              SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)cmds[i]));
    }
#endif
    /* Host sockets of the NAT are IPv4: TCP, UDP and ICMP echo. */
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_EQ, AF_INET));
    return rc;
}

/* Tests only (CM_SANDBOX_FAULT_ENV): prove that a forbidden call ends the process. */
static void fault_injection(void)
{
    const char *v = getenv(CM_SANDBOX_FAULT_ENV);

    if (v && !strcmp(v, "1"))
        syscall(SYS_personality, 0xffffffffUL); /* a harmless query the filter forbids */
}

int cm_sandbox_lock(struct cm_sandbox *sb, char *err, size_t errlen)
{
    scmp_filter_ctx ctx;
    uid_t uid;
    int rc;

    if (sb->off)
        return 0;
    rc = cm_sandbox_drop_user(sb, err, errlen);
    if (rc)
        return rc;
    uid = geteuid();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        return errbuf_set(err, errlen, -errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
    ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return errbuf_set(err, errlen, -ENOMEM, "seccomp_init failed");
    rc = add_rules(ctx);
    if (!rc)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc)
        return errbuf_set(err, errlen, rc,
                          "cannot load the seccomp filter: %s (a kernel without seccomp? "
                          "run with --no-sandbox)",
                          strerror(-rc));
    /* One line in the log, so a run's reader (and the tests) can see the sandbox held. */
    fprintf(stderr, "consomme: sandboxed: uid %u, no capabilities, seccomp allow-list\n",
            (unsigned)uid);
    fault_injection();
    return 0;
}

static struct cm_sandbox *armed;

static void lock_connected(struct consomme *c)
{
    if (cm_sandbox_lock(armed, c->errmsg, sizeof(c->errmsg))) {
        errbuf_prefix(c->errmsg, sizeof(c->errmsg), "sandbox");
        c->stop = true;
        c->exit_code = 1;
    }
}

int cm_sandbox_arm(struct cm_sandbox *sb, struct consomme *c, bool at_start, char *err,
                   size_t errlen)
{
    const char *path = c->opts.stats_path;

    if (sb->off)
        return 0;
    if (path) {
        c->stats_fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (c->stats_fd < 0)
            return errbuf_set(err, errlen, -errno, "--stats: cannot create %s: %s", path,
                              strerror(errno));
    }
    /* jansson seeds its hash function from /dev/urandom at the first object it builds: do it
     * now, while files may still be opened (0: its own choice of source). */
    json_object_seed(0);
    armed = sb;
    c->on_connected = lock_connected;
    c->on_connected_at_start = at_start;
    return 0;
}
