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
 * The steps themselves (capabilities, no_new_privs, loading the filter, what sanitizer builds
 * add) are common/seccomp_sandbox.c's, shared with the namespace helper; this file holds the
 * list and consomme's settings.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <jansson.h>
#include <seccomp.h>

#include "core.h"
#include "errbuf.h"
#include "sandbox.h"
#include "seccomp_sandbox.h"

/* Everything the loop may call with any argument (the rest: add_rules()). */
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
    SCMP_SYS(flock), /* the stats file's lock (stats.c) */
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
    /* memory (mmap/mprotect: sandbox_lock() allows them, never executable): malloc, and guest RAM
       on a vhost-user SET_MEM_TABLE */
    SCMP_SYS(brk),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    /* `consomme run`: CMD's exit and the signals forwarded to it */
    SCMP_SYS(wait4),
    SCMP_SYS(waitid),
    SCMP_SYS(kill),
    SCMP_SYS(tgkill),
};

int cm_sandbox_resolve(struct cm_sandbox *sb, char *err, size_t errlen)
{
    struct sandbox_user user;
    int rc;

    sb->switch_user = false;
    if (sb->off)
        return 0;
    rc = sandbox_lookup_user(sb->runas, "--runas", &user, err, errlen);
    if (rc && rc != -EPERM) /* no such user */
        return rc;
    if (geteuid() != 0) {
        /* Not root: there is nobody to become; asking for another user is an error. */
        if (sb->runas && (rc || user.uid != geteuid()))
            return errbuf_set(err, errlen, -EPERM,
                              "--runas %s: only root can switch users (consomme runs as "
                              "uid %u; drop --runas)",
                              sb->runas, (unsigned)geteuid());
        return 0;
    }
    if (sb->keep_user) {
        if (sb->runas)
            return errbuf_set(err, errlen, -EINVAL,
                              "--runas cannot be used with 'run': CMD runs as root, and "
                              "consomme keeps uid 0 (without capabilities) to signal it");
        return 0;
    }
    if (rc) /* root */
        return rc;
    sb->user = user;
    sb->switch_user = true;
    return 0;
}

int cm_sandbox_drop_user(struct cm_sandbox *sb, char *err, size_t errlen)
{
    int rc;

    if (sb->off || sb->dropped)
        return 0;
    rc = sandbox_drop_caps(sb->switch_user ? &sb->user : NULL, "consomme", err, errlen);
    if (!rc)
        sb->dropped = true;
    return rc;
}

static int add_rules(scmp_filter_ctx ctx)
{
    /* Host sockets of the NAT are IPv4: TCP, UDP and ICMP echo. */
    static const scmp_datum_t families[] = {AF_INET};
    int rc = 0;

#ifndef SANDBOX_SANITIZER
    /* vhost-user makes a kick eventfd non-blocking; nothing else changes descriptor flags. */
    static const scmp_datum_t cmds[] = {F_GETFL, F_SETFL, F_GETFD, F_SETFD};

    rc = sandbox_allow_args(ctx, SCMP_SYS(fcntl), 1, cmds, sizeof(cmds) / sizeof(cmds[0]));
#endif
    if (!rc)
        rc = sandbox_allow_args(ctx, SCMP_SYS(socket), 0, families, 1);
    return rc;
}

int cm_sandbox_lock(struct cm_sandbox *sb, char *err, size_t errlen)
{
    uid_t uid;
    int rc;

    if (sb->off)
        return 0;
    rc = cm_sandbox_drop_user(sb, err, errlen);
    if (rc)
        return rc;
    uid = geteuid(); /* not allowed once the filter is in */
    rc = sandbox_lock(allowed, sizeof(allowed) / sizeof(allowed[0]), add_rules, "consomme",
                      "run with --no-sandbox", err, errlen);
    if (rc)
        return rc;
    /* One line in the log, so a run's reader (and the tests) can see the sandbox held. */
    fprintf(stderr, "consomme: sandboxed: uid %u, no capabilities, seccomp allow-list\n",
            (unsigned)uid);
    sandbox_fault_injection(CM_SANDBOX_FAULT_ENV);
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
