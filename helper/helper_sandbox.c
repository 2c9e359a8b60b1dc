/* SPDX-License-Identifier: MIT */
/*
 * helper_sandbox - the namespace helper's seccomp allow-list; see helper_sandbox.h.
 *
 * Filesystem paths the helper still opens after the lock: /proc/PID/fd of its own children
 * (is a server listening yet?), /dev/null for a child's stdin, libiperf's buffer file (mkstemp
 * in TMPDIR, unlinked at once) and the files glibc reads for a time stamp. seccomp cannot
 * check a path, so openat is allowed, but without capabilities only what the helper's user may
 * open anyway. Sockets are restricted by family: IPv4/IPv6 for the servers and clients,
 * netlink for the socket-table query (NETLINK_SOCK_DIAG) and glibc's address lookup
 * (NETLINK_ROUTE), nothing else. fork() is allowed, but no clone flag that makes a namespace.
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errbuf.h"
#include "helper_sandbox.h"
#include "seccomp_sandbox.h"
#include "userns.h"

/* Everything allowed with any argument (the rest: add_rules()). */
static const int allowed[] = {
    /* the request loop: poll, the RPC socket (descriptor passing), job pipes, reaping */
    SCMP_SYS(poll),
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(close),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),
    SCMP_SYS(pipe2),
    SCMP_SYS(fcntl),
    SCMP_SYS(wait4),
    SCMP_SYS(kill),
    SCMP_SYS(clock_gettime),
    /* clock_getcpuclockid() checks a server child's CPU clock with it (its CPU per sub-test) */
    SCMP_SYS(clock_getres),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(getpid),
    SCMP_SYS(getppid),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    /* is a server listening: /proc/PID/fd of the child, then a sock_diag dump */
    SCMP_SYS(openat),
    SCMP_SYS(getdents64),
    SCMP_SYS(readlink),
    SCMP_SYS(newfstatat),
    SCMP_SYS(lseek),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    /* a job's child: fork, its descriptors set up, then libiperf or the echo server */
    SCMP_SYS(set_robust_list),
    SCMP_SYS(dup2),
    SCMP_SYS(close_range),
    SCMP_SYS(bind),
    SCMP_SYS(listen),
    SCMP_SYS(accept),
    SCMP_SYS(accept4),
    SCMP_SYS(connect),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    /* libiperf: its select() loop, the buffer file (created, unlinked, sized, mapped), the
     * report's system_info and CPU use; glibc's time stamps (newfstatat, lseek) */
    SCMP_SYS(pselect6),
    SCMP_SYS(unlink),
    SCMP_SYS(ftruncate),
    SCMP_SYS(uname),
    SCMP_SYS(getrusage),
    SCMP_SYS(getrandom),
    /* the echo server's loop */
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    /* memory (mmap/mprotect: sandbox_lock() allows them, never executable) */
    SCMP_SYS(brk),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
};

static int add_rules(scmp_filter_ctx ctx)
{
    static const scmp_datum_t families[] = {AF_INET, AF_INET6};
    static const int netlinks[] = {NETLINK_SOCK_DIAG, NETLINK_ROUTE};
    /* libiperf's tcgetattr() (is the output a terminal?): a query, no other ioctl */
    static const scmp_datum_t ioctls[] = {TCGETS};
    /* a job's child asks to die with the helper */
    static const scmp_datum_t prctls[] = {PR_SET_PDEATHSIG};
    int rc = sandbox_allow_args(ctx, SCMP_SYS(socket), 0, families, 2);

    for (size_t i = 0; !rc && i < sizeof(netlinks) / sizeof(netlinks[0]); i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
                              SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
                              SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)netlinks[i]));
    /* fork(): glibc's clone without CLONE_NEW* flags; clone3's flags are behind a pointer
     * seccomp cannot read, so it fails with ENOSYS and glibc falls back to clone */
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ,
                                      CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                          CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET,
                                      0));
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (!rc)
        rc = sandbox_allow_args(ctx, SCMP_SYS(ioctl), 1, ioctls, 1);
    if (!rc)
        rc = sandbox_allow_args(ctx, SCMP_SYS(prctl), 0, prctls, 1);
    return rc;
}

int helper_sandbox_user(struct sandbox_user *user, char *err, size_t errlen)
{
    int rc;

    /* root of a user namespace other than the machine's is some user's already */
    if (geteuid() != 0 || !userns_initial())
        return 0;
    rc = sandbox_lookup_user(NULL, "the namespace helper's user", user, err, errlen);
    return rc ? rc : 1;
}

/* After the switch: what the jobs need that the new user might not have. */
static int after_switch(char *err, size_t errlen)
{
    const char *tmp = getenv("TMPDIR");

    /* Non-dumpable after a credential change, and so would the job children be: then even
     * their own user could not read their /proc/PID/fd. */
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
        return errbuf_set(err, errlen, -errno, "helper: PR_SET_DUMPABLE: %s", strerror(errno));
    /* libiperf creates its buffer file in TMPDIR (and unlinks it at once): root's may be closed
     * to the new user, and where that file lives does not matter. */
    if (tmp && *tmp && access(tmp, W_OK | X_OK) && setenv("TMPDIR", "/tmp", 1))
        return errbuf_set(err, errlen, -errno, "helper: setenv: %s", strerror(errno));
    return 0;
}

int helper_sandbox_lock(const struct sandbox_user *user, char *err, size_t errlen)
{
    int rc = sandbox_drop_caps(user, "helper", err, errlen);

    if (!rc && user)
        rc = after_switch(err, errlen);

    if (!rc)
        rc = sandbox_lock(allowed, sizeof(allowed) / sizeof(allowed[0]), add_rules, "helper", NULL,
                          err, errlen);
    if (rc)
        return rc;
    sandbox_fault_injection(HELPER_SANDBOX_FAULT_ENV);
    return 0;
}
