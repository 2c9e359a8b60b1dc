/* SPDX-License-Identifier: MIT */
/*
 * backend_passt - Debian's passt, the userspace stack consomme is measured against
 *
 * passt is started as its documentation says: it listens on a UNIX socket of its own (-s).
 * burette connects to it and QEMU gets the connected socket (`-netdev stream,server=off,
 * addr.type=fd,...`), so that QEMU, which runs as an unprivileged user when burette is root
 * (vm.h), needs no way into the socket's directory; to passt it is the one connection it
 * accepts, as QEMU's own connect would be. passt
 * raises SO_SNDBUF/SO_RCVBUF of a connection it accepted there to the system's maximum, and a
 * descriptor handed over with --fd keeps the default (208 KiB here). With that default its
 * frames to QEMU meet a full socket, this passt drops them, and the guest's TCP waits for
 * retransmission timeouts: host-to-guest runs showed whole 1-s iperf3 intervals at 0 Gbps in
 * every run (0.18 0.21 0.21 0.02 0.00 Gbps) where the socket-path set-up, on the same build and
 * machine, gave none (0.72 0.81 1.01 0.77 1.10). The socket lives in a private directory
 * (mkdtemp, 0700) that teardown() removes. passt runs as a child of burette (proc_spawn(): own
 * process group, PR_SET_PDEATHSIG) with:
 *   -f		in the foreground, so the pid we hold is passt itself;
 *   --runas	our own uid:gid when burette is not root (passt would refuse another user);
 *		as root, none: passt then drops to its own default, nobody, and binds its
 *		socket as nobody, so our private directory is handed to nobody first. Its change of user
 *clears PR_SET_PDEATHSIG, so a killed burette leaves passt to -1 below: it exits when QEMU (which
 *does die with burette) closes its connection; -1		exit when QEMU's connection closes, a second
 *line of defence after the kill; -P /dev/fd/N	(writable by others: passt opens it as nobody when
 *burette is root) passt writes its pid to a pipe of ours once its sockets, DHCP and sandbox are set
 *up: reading that line is the readiness signal, no delay; the socket's existence is checked after
 *it; -a -n -g -m	the guest's address 10.0.2.15/24, gateway 10.0.2.2, MTU 65520 (passt's default
 *MTU): the same addresses as slirp and consomme, independent of the host's own (passt would copy
 *those), so reports line up and a run never depends on them. The guest is configured statically to
 *match. passt maps the gateway address to the host (its default, unless --no-map-gw): a connection
 *to 10.0.2.2 arrives at the host's 127.0.0.1, where the iperf3 servers listen, on a port free at
 *the time.
 *
 * This passt still needs a host interface with a default route to take as a template, even
 * with the addresses given; without one it exits with "External interface not usable", which
 * the error quotes. Its stderr goes to <log_dir>/passt.log.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend.h"
#include "errbuf.h"
#include "fd.h"
#include "proc.h"

#define PASST_PROGRAM  "passt"
#define PASST_HOST     "10.0.2.2"
#define PASST_GUEST    "10.0.2.15"
#define PASST_PREFIX   24
#define PASST_MTU      65520
#define PASST_LOOPBACK "127.0.0.1"
#define PASST_READY_MS 10000 /* it is ready in tens of milliseconds; a loaded CI box is slower */

#define PASST_SOCKET "passt.sock"

struct passt_priv {
    pid_t pid;
    char log[PATH_MAX];
    struct backend_socket_dir sd; /* where passt listens (it does not unlink its socket) */
};

/* passt is gone before it said it was ready: why, in its own words. */
static int passt_failed(struct passt_priv *p, char *err, size_t errlen)
{
    char how[700];

    /* this passt also tries syslog and says "Failed to send ... to syslog" before every line
     * where there is none: those lines are left out */
    proc_kill_how_ended(&p->pid, p->log, "to syslog", how, sizeof(how));
    return errbuf_set(err, errlen, -EIO, "passt ended before it was ready (%s; its log: %s)%s", how,
                      p->log,
                      strstr(how, "routable interface")
                          ? "; this passt needs a host interface with a default route, even "
                            "with the guest's addresses given"
                          : "");
}

/* Wait for passt's pid line on @fd, or for passt to exit. */
static int passt_wait_ready(struct passt_priv *p, int fd, char *err, size_t errlen)
{
    long long deadline = proc_now_ms() + PASST_READY_MS;
    char line[32];
    size_t used = 0;
    int pidfd = proc_pidfd(p->pid), rc;

    if (pidfd < 0)
        return errbuf_set(err, errlen, pidfd, "pidfd_open: %s", strerror(-pidfd));
    for (;;) {
        struct pollfd pf[2] = {{.fd = fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        ssize_t n;

        rc = proc_poll(pf, 2, deadline);
        if (rc == -ETIMEDOUT) {
            rc = errbuf_set(err, errlen, rc, "passt did not come up within %d s (its log: %s)",
                            PASST_READY_MS / 1000, p->log);
            break;
        }
        if (rc < 0)
            break;
        if (!pf[0].revents) {
            rc = passt_failed(p, err, errlen);
            break;
        }
        n = read(fd, line + used, sizeof(line) - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = passt_failed(p, err, errlen);
            break;
        }
        used += (size_t)n;
        line[used] = '\0';
        if (strchr(line, '\n')) {
            rc = 0;
            break;
        }
        if (used + 1 >= sizeof(line)) {
            rc = errbuf_set(err, errlen, -EPROTO, "passt wrote '%s' as its pid", line);
            break;
        }
    }
    close(pidfd);
    return rc;
}

#define PASST_ROOT_USER "nobody" /* passt's own choice when started as root */

static int passt_prepare(struct backend *b, const struct backend_ctx *ctx, char *err, size_t errlen)
{
    char pidfile[32], runas[32], mtu[16], prefix[16];
    int rp[2] = {-1, -1}, logfd = -1, rc;
    bool as_root;
    struct passt_priv *p;
    struct stat st;

    p = calloc(1, sizeof(*p));
    if (!p)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    rc = backend_loopback_port(&b->server_port, err, errlen);
    if (rc)
        goto fail;
    if (pipe2(rp, O_CLOEXEC) < 0) {
        rc = errbuf_set(err, errlen, -errno, "pipe: %s", strerror(errno));
        goto fail;
    }
    rc = backend_socket_dir_make(&p->sd, "passt", PASST_SOCKET, err, errlen);
    if (rc)
        goto fail;
    as_root = geteuid() == 0;
    if (as_root) {
        /* passt binds its socket as the user it drops to: the directory must be that user's */
        struct passwd *pw = getpwnam(PASST_ROOT_USER);

        if (!pw || chown(p->sd.dir, pw->pw_uid, pw->pw_gid) < 0) {
            rc = errbuf_set(err, errlen, pw ? -errno : -ENOENT,
                            "cannot hand %s to user %s, whom passt becomes when started as "
                            "root: %s",
                            p->sd.dir, PASST_ROOT_USER, pw ? strerror(errno) : "no such user");
            goto fail;
        }
    }
    snprintf(p->log, sizeof(p->log), "%s/passt.log", ctx->log_dir);
    logfd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        rc = errbuf_set(err, errlen, -errno, "cannot write %s: %s", p->log, strerror(errno));
        goto fail;
    }
    snprintf(pidfile, sizeof(pidfile), "/dev/fd/%d", rp[1]);
    /* passt opens -P after dropping to nobody (as root), through /proc: the pipe's inode must
     * let it. Only a process that can already reach one of our descriptors can open it. */
    if (geteuid() == 0 && fchmod(rp[1], 0622) < 0) {
        rc = errbuf_set(err, errlen, -errno, "fchmod on a pipe: %s", strerror(errno));
        goto fail;
    }
    snprintf(runas, sizeof(runas), "%u:%u", (unsigned)getuid(), (unsigned)getgid());
    snprintf(mtu, sizeof(mtu), "%u", ctx->mtu ? ctx->mtu : PASST_MTU);
    snprintf(prefix, sizeof(prefix), "%u", PASST_PREFIX);
    {
        const char *argv[] = {PASST_PROGRAM, "-f",
                              "-e",          "-1",
                              "-s",          p->sd.sock,
                              "-P",          pidfile,
                              "-4",          "-a",
                              PASST_GUEST,   "-n",
                              prefix,        "-g",
                              PASST_HOST,    "-m",
                              mtu,           "-t",
                              "none",        "-u",
                              "none",        as_root ? NULL : "--runas",
                              runas,         NULL};
        const int keep[] = {rp[1]};
        const struct proc_spawn_opts o = {.argv = argv,
                                          .keep_fds = keep,
                                          .n_keep_fds = 1,
                                          .stdin_fd = -1,
                                          .stdout_fd = logfd,
                                          .stderr_fd = logfd};

        rc = proc_spawn(&o, &p->pid, err, errlen);
    }
    if (rc == -ENOENT) {
        rc = errbuf_set(err, errlen, rc,
                        "passt is not installed (no '%s' in PATH): install it (Debian: apt-get "
                        "install passt)",
                        PASST_PROGRAM);
        goto fail;
    }
    if (rc)
        goto fail;
    /* Only passt holds the write end now: EOF means it exited. */
    close(rp[1]);
    rp[1] = -1;
    rc = passt_wait_ready(p, rp[0], err, errlen);
    if (rc)
        goto fail;
    if (stat(p->sd.sock, &st) || !S_ISSOCK(st.st_mode)) {
        rc = errbuf_set(err, errlen, -ENOENT,
                        "passt said it was ready but did not create its socket %s (its log: %s)",
                        p->sd.sock, p->log);
        goto fail;
    }

    b->fds[0] = fd_connect_unix(p->sd.sock);
    if (b->fds[0] < 0) {
        rc = errbuf_set(err, errlen, b->fds[0],
                        "cannot connect to passt's socket %s: %s (its log: %s)", p->sd.sock,
                        strerror(-b->fds[0]), p->log);
        b->fds[0] = -1;
        goto fail;
    }
    b->n_fds = 1;
    b->priv = p;
    snprintf(b->netdev, sizeof(b->netdev), "stream,id=%s,server=off,addr.type=fd,addr.str=%d",
             BACKEND_NETDEV_ID, b->fds[0]);
    backend_nat_guest(b, PASST_GUEST, PASST_PREFIX, PASST_HOST, ctx->mtu ? ctx->mtu : PASST_MTU,
                      PASST_LOOPBACK);
    b->process = p->pid;
    b->socket_dir = &p->sd;
    close(rp[0]);
    close(logfd);
    return 0;
fail:
    if (p->pid > 0)
        proc_kill(p->pid, NULL);
    backend_socket_dir_remove(&p->sd);
    free(p);
    for (int i = 0; i < 2; i++)
        if (rp[i] >= 0)
            close(rp[i]);
    if (logfd >= 0)
        close(logfd);
    return rc;
}

static void passt_teardown(struct backend *b)
{
    struct passt_priv *p = b->priv;

    backend_close_fds(b);
    if (p && p->pid > 0)
        proc_kill(p->pid, NULL);
    if (p)
        backend_socket_dir_remove(&p->sd);
    free(p);
    b->priv = NULL;
    b->process = 0;
    b->socket_dir = NULL;
}

const struct backend_ops backend_passt_ops = {
    .name = "passt",
    .prepare = passt_prepare,
    .teardown = passt_teardown,
};
