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
 *
 * Its options (tcp-rx-buffer, tcp-tx-buffer: INITIAL[:MAX] per connection) are declared here
 * and passed on to consomme's own flags; their bound is consomme's RING_MAX_CAP.
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

#include "../ring.h"
#include "backend.h"
#include "errbuf.h"
#include "parse.h"
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

/* One size of a buffer bound: positive, at most consomme's largest ring. RING_MAX_CAP is 1 GiB
 * because a TCP window is 16 bits shifted by at most 14 (RFC 7323): 65535 << 14 is just under
 * 1 GiB, so a larger buffer could never be advertised. */
static int size_part(const char *text, uint64_t *out, char *err, size_t errlen)
{
    int rc = parse_size(text, out);

    if (rc == -ERANGE || (!rc && *out > RING_MAX_CAP))
        return errbuf_set(err, errlen, -ERANGE,
                          "%s is above 1G, more than a TCP window (65535 << 14) can express", text);
    if (rc < 0)
        return errbuf_set(err, errlen, -EINVAL, "'%s' is not a size (e.g. 16K, 256K, 4M)", text);
    if (!*out)
        return errbuf_set(err, errlen, -EINVAL, "a buffer of 0 bytes cannot carry data");
    return 0;
}

/* SIZE (fixed: initial = max) or INITIAL:MAX with initial <= max. */
static int tcp_buffer_parse(const char *value, union backend_value *out, char *err, size_t errlen)
{
    const char *colon = strchr(value, ':');
    char initial[64];
    int rc;

    if (!colon) {
        rc = size_part(value, &out->bounds.initial, err, errlen);
        out->bounds.max = out->bounds.initial;
        return rc;
    }
    if ((size_t)(colon - value) >= sizeof(initial))
        return errbuf_set(err, errlen, -EINVAL, "'%s' is not INITIAL[:MAX]", value);
    snprintf(initial, sizeof(initial), "%.*s", (int)(colon - value), value);
    rc = size_part(initial, &out->bounds.initial, err, errlen);
    if (!rc)
        rc = size_part(colon + 1, &out->bounds.max, err, errlen);
    if (!rc && out->bounds.initial > out->bounds.max)
        return errbuf_set(err, errlen, -EINVAL, "initial size %s is larger than the maximum %s",
                          initial, colon + 1);
    return rc;
}

static json_t *tcp_buffer_json(const union backend_value *v)
{
    return json_pack("{s:I, s:I}", "initial", (json_int_t)v->bounds.initial, "max",
                     (json_int_t)v->bounds.max);
}

static const struct backend_option consomme_options[] = {
    {
        .name = "tcp-rx-buffer",
        .metavar = "INITIAL[:MAX]",
        .help = "consomme's per-connection buffers of guest-to-\nhost TCP data, autotuned from "
                "INITIAL up to MAX\n(sizes like 16K, 4M; one size = fixed; at most 1G)",
        .default_value = "16K:4M",
        .json_key = "tcp_rx_buffer",
        .parse = tcp_buffer_parse,
        .to_json = tcp_buffer_json,
    },
    {
        .name = "tcp-tx-buffer",
        .metavar = "INITIAL[:MAX]",
        .help = "the same for host-to-guest data",
        .default_value = "16K:4M",
        .json_key = "tcp_tx_buffer",
        .parse = tcp_buffer_parse,
        .to_json = tcp_buffer_json,
    },
};

#define OPT_TCP_RX (&consomme_options[0])
#define OPT_TCP_TX (&consomme_options[1])

static int consomme_prepare(struct backend *b, const struct backend_ctx *ctx, char *err,
                            size_t errlen)
{
    const union backend_value *tcp_rx = backend_option_value(ctx->options, OPT_TCP_RX);
    const union backend_value *tcp_tx = backend_option_value(ctx->options, OPT_TCP_TX);
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
    snprintf(rx, sizeof(rx), "%llu:%llu", (unsigned long long)tcp_rx->bounds.initial,
             (unsigned long long)tcp_rx->bounds.max);
    snprintf(tx, sizeof(tx), "%llu:%llu", (unsigned long long)tcp_tx->bounds.initial,
             (unsigned long long)tcp_tx->bounds.max);
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
    .options = consomme_options,
    .n_options = sizeof(consomme_options) / sizeof(consomme_options[0]),
    .prepare = consomme_prepare,
    .teardown = consomme_teardown,
};
