/* SPDX-License-Identifier: MIT */
/*
 * backend_consomme - the guest's NIC served by consomme, the project's userspace NAT stack
 *
 * consomme runs as a child of burette (its own process group, dying with burette) on one end
 * of a stream socketpair; QEMU gets the other end as `-netdev stream,addr.type=fd`, so frames
 * cross as QEMU's 4-byte length + frame. The guest takes its address by DHCP from consomme
 * (10.0.2.15/24, gateway 10.0.2.2, MTU 65520 by option 26), and its connections to 10.0.2.2
 * become host sockets to 127.0.0.1, where the helper, left in the host's namespace, runs the
 * iperf3 servers. consomme's output and its counters (--stats) go to the log directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "backend.h"
#include "errbuf.h"
#include "proc.h"

#define CM_GUEST_DHCP_S  30 /* udhcpc under TCG can take a few seconds */
#define CM_HOST_BIND     "127.0.0.1"
#define CM_GATEWAY       "10.0.2.2"
#define CM_EXIT_GRACE_MS 3000

struct consomme_priv {
    pid_t pid;
};

/* consomme is installed next to burette (build/bin); else it is looked up in PATH. */
static void consomme_path(char *buf, size_t len)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n > 0) {
        self[n] = '\0';
        if (snprintf(buf, len, "%s/consomme", dirname(self)) < (int)len && !access(buf, X_OK))
            return;
    }
    snprintf(buf, len, "consomme");
}

static int consomme_prepare(struct backend *b, const struct backend_ctx *ctx, char *err,
                            size_t errlen)
{
    const struct run_options *o = ctx->opts;
    struct consomme_priv *p = calloc(1, sizeof(*p));
    char bin[4096], fdarg[16], rx[64], tx[64], stats[4096], log[4096];
    int sv[2] = {-1, -1}, logfd = -1, rc;

    if (!p)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    /* the host's loopback is shared with everything else on the machine: no fixed port */
    rc = backend_loopback_port(&b->server_port, err, errlen);
    if (rc)
        goto fail;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
        rc = errbuf_set(err, errlen, -errno, "socketpair: %s", strerror(errno));
        goto fail;
    }
    snprintf(log, sizeof(log), "%s/consomme.log", ctx->log_dir);
    logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        rc = errbuf_set(err, errlen, -errno, "cannot write %s: %s", log, strerror(errno));
        goto fail;
    }
    consomme_path(bin, sizeof(bin));
    snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
    snprintf(rx, sizeof(rx), "%llu:%llu", (unsigned long long)o->tcp_rx.initial,
             (unsigned long long)o->tcp_rx.max);
    snprintf(tx, sizeof(tx), "%llu:%llu", (unsigned long long)o->tcp_tx.initial,
             (unsigned long long)o->tcp_tx.max);
    snprintf(stats, sizeof(stats), "%s/consomme-stats.json", ctx->log_dir);
    {
        const char *argv[] = {
            bin,       "--fd", fdarg, "--tcp-rx-buffer", rx, "--tcp-tx-buffer", tx,
            "--stats", stats,  NULL};
        const struct proc_spawn_opts so = {
            .argv = argv,
            .keep_fds = &sv[1],
            .n_keep_fds = 1,
            .stdin_fd = -1,
            .stdout_fd = logfd,
            .stderr_fd = logfd,
        };
        rc = proc_spawn(&so, &p->pid, err, errlen);
        if (rc) {
            errbuf_prefix(err, errlen,
                          "cannot start consomme (%s; build it with 'cmake "
                          "--build <build dir> --target consomme')",
                          bin);
            goto fail;
        }
    }
    close(sv[1]);
    close(logfd);

    b->priv = p;
    b->fds[0] = sv[0];
    b->n_fds = 1;
    snprintf(b->netdev, sizeof(b->netdev), "stream,id=%s,addr.type=fd,addr.str=%d",
             BACKEND_NETDEV_ID, sv[0]);
    b->guest.mode = AGENT_NIC_DHCP;
    b->guest.timeout_s = CM_GUEST_DHCP_S;
    snprintf(b->server_bind, sizeof(b->server_bind), "%s", CM_HOST_BIND);
    snprintf(b->server_addr, sizeof(b->server_addr), "%s", CM_GATEWAY);
    b->server_in_helper_ns = false;
    b->process = p->pid; /* recorded by --perf-dir */
    return 0;
fail:
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    if (logfd >= 0)
        close(logfd);
    free(p);
    return rc;
}

static void consomme_teardown(struct backend *b)
{
    struct consomme_priv *p = b->priv;

    /* Closing our end (QEMU's is gone) is EOF for consomme: it writes its counters and
     * exits on its own; the grace period only bounds a consomme that does not. */
    backend_close_fds(b);
    if (p && p->pid > 0) {
        int pidfd = proc_pidfd(p->pid);
        if (pidfd >= 0) {
            struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
            poll(&pfd, 1, CM_EXIT_GRACE_MS);
            close(pidfd);
        }
        proc_kill(p->pid, NULL);
    }
    free(p);
    b->priv = NULL;
}

const struct backend_ops backend_consomme_ops = {
    .name = "consomme",
    .prepare = consomme_prepare,
    .teardown = consomme_teardown,
};
