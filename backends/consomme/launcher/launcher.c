/* SPDX-License-Identifier: MIT */
/*
 * backend_consomme - the guest's NIC served by consomme, the project's userspace NAT stack
 *
 * consomme runs as a child of burette (its own process group, dying with burette) on one of
 * two transports, the run's `transport` option (settled before the run starts, see run.h):
 *
 * - vhost-user: consomme listens on a UNIX socket in a private directory (mkdtemp, mode
 *   0700, so no other user can reach or replace it) and QEMU connects as the vhost-user
 *   front-end, with guest RAM shared: consomme reads and writes the virtqueues itself. prepare()
 *   returns once the socket exists (inotify on the directory, bounded, and ended early if
 *   consomme dies); consomme gives it its name only once it listens (cm_unix_listen()), so
 *   QEMU never starts before consomme listens and its connect is never refused. The directory and
 * anything left in it are removed on every path.
 * - stream: one end of a stream socketpair; QEMU gets the other as `-netdev
 *   stream,addr.type=fd`, so frames cross as QEMU's 4-byte length + frame.
 *
 * The guest takes its address by DHCP from consomme (10.0.2.15/24, gateway 10.0.2.2, MTU
 * 65520 by option 26 unless the mtu option, or the run's --mtu, says otherwise), and its
 * connections to 10.0.2.2 become host sockets to 127.0.0.1, where the helper, left in the
 * host's namespace, runs the iperf3 servers. consomme's output and its counters (--stats) go to
 * the log directory.
 *
 * NAT policy: the guest may reach exactly what a benchmark uses, 10.0.2.2 (the host's loopback)
 * on the ports the iperf3 servers can get, and DNS at 10.0.2.3:53; everything else is refused
 * (see policy_args()).
 * consomme sandboxes itself once QEMU is connected (sandbox.c: no capabilities, user nobody
 * when burette is root, seccomp); its --stats file is created before that. When it dies,
 * died() says how, for a run's error: a SIGSYS is its seccomp filter's kill, named as such
 * with the syscall read from the kernel's audit record when burette may read the kernel log.
 *
 * Its options are declared here and passed on to consomme's own flags: tcp-rx-buffer and
 * tcp-tx-buffer (INITIAL[:MAX] per connection; their bound is consomme's RING_MAX_CAP) and
 * transport (vhost-user or stream; "auto" until the run layer settles it from the QEMU in use),
 * sandbox (on, or off: --no-sandbox, the escape hatch after a SIGSYS) and mtu (a variant's
 * consomme:mtu=N; the run's own --mtu, backend_ctx.mtu, takes its place when given: what
 * DHCP gives the guest, so its TCP segments at MTU - 40; over vhost-user it still gets 64 KiB
 * super-frames when it took GUEST_TSO4).
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
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../mtu.h"
#include "../ring.h"
#include "backend.h"
#include "errbuf.h"
#include "fd.h"
#include "parse.h"
#include "proc.h"
#include "seccomp_sandbox.h"

#define CM_GUEST_DHCP_S    30 /* udhcpc under TCG can take a few seconds */
#define CM_HOST_BIND       "127.0.0.1"
#define CM_GATEWAY         "10.0.2.2"
#define CM_DNS             "10.0.2.3"
#define CM_EXIT_GRACE_MS   3000
#define CM_LISTEN_MS       10000 /* consomme binds its socket moments after exec */
#define CM_VHOST_USER_SOCK "vhost-user.sock"

struct consomme_priv {
    pid_t pid;
    char log[PATH_MAX];           /* its stdout and stderr */
    struct backend_socket_dir sd; /* vhost-user: where consomme listens; dir "" otherwise */
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

/*
 * The --allow/--deny rules for consomme. The harness takes each iperf3 server's port when the
 * sub-test starts (backend_loopback_port(): a bind to port 0, so the kernel's ephemeral range),
 * after consomme is running, so no single port can be named here: the rule allows the range
 * those ports come from, /proc/sys/net/ipv4/ip_local_port_range (Linux's default where it
 * cannot be read). Services listening on 127.0.0.1 outside it (ssh, databases, the usual fixed
 * ports) stay out of the guest's reach.
 */
static void policy_args(char *gw_rule, size_t len)
{
    unsigned lo = 32768, hi = 60999, a, b;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");

    if (f) {
        if (fscanf(f, "%u %u", &a, &b) == 2 && a >= 1 && a <= b && b <= 65535)
            lo = a, hi = b;
        fclose(f);
    }
    snprintf(gw_rule, len, "%s:%u-%u", CM_GATEWAY, lo, hi);
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

#define CONSOMME_TRANSPORT_AUTO       "auto"
#define CONSOMME_TRANSPORT_VHOST_USER "vhost-user"
#define CONSOMME_TRANSPORT_STREAM     "stream"

/* vhost-user or stream; "auto" is the default until consomme_settle() decides. */
static int transport_parse(const char *value, union backend_value *out, char *err, size_t errlen)
{
    if (strcmp(value, CONSOMME_TRANSPORT_VHOST_USER) && strcmp(value, CONSOMME_TRANSPORT_STREAM) &&
        strcmp(value, CONSOMME_TRANSPORT_AUTO))
        return errbuf_set(err, errlen, -EINVAL, "unknown transport '%s' (available: %s, %s)", value,
                          CONSOMME_TRANSPORT_VHOST_USER, CONSOMME_TRANSPORT_STREAM);
    snprintf(out->text, sizeof(out->text), "%s", value);
    return 0;
}

static int sandbox_parse(const char *value, union backend_value *out, char *err, size_t errlen)
{
    if (strcmp(value, "on") && strcmp(value, "off"))
        return errbuf_set(err, errlen, -EINVAL, "'%s' is neither on nor off", value);
    snprintf(out->text, sizeof(out->text), "%s", value);
    return 0;
}

/* consomme's --mtu, kept as its decimal text (recorded only when not the default). */
static int mtu_parse(const char *value, union backend_value *out, char *err, size_t errlen)
{
    unsigned mtu = 0;
    int rc = cm_parse_mtu(value, &mtu, err, errlen);

    if (rc)
        return rc;
    snprintf(out->text, sizeof(out->text), "%u", mtu);
    return 0;
}

static json_t *mtu_json(const union backend_value *v)
{
    return json_integer(strtoll(v->text, NULL, 10));
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
    {
        .name = "transport",
        .metavar = "vhost-user|stream",
        /* the default is printed after the help, from default_value: not in the text too */
        .help = "consomme's frame transport; auto: vhost-user\nwhere the QEMU in use can do it, "
                "else stream",
        .default_value = CONSOMME_TRANSPORT_AUTO,
        .json_key = "transport",
        .parse = transport_parse,
        .to_json = backend_text_json,
    },
    {
        .name = "sandbox",
        .metavar = "on|off",
        .help = "consomme's sandbox (seccomp, no capabilities, user\nnobody as root); off only "
                "to get going after it\nkilled consomme, which is a bug to report",
        .default_value = "on",
        .json_key = "sandbox",
        .only_if_set = true,
        .parse = sandbox_parse,
        .to_json = backend_text_json,
    },
    {
        .name = "mtu",
        .metavar = "N",
        .help = "the IP MTU consomme gives the guest by DHCP,\n" CM_MTU_RANGE_TEXT,
        .default_value = CM_MTU_STR(CM_MTU_DEFAULT),
        .json_key = "mtu",
        .only_if_set = true,
        .variant_only = true, /* the run's --mtu sets every backend's, and sweeps */
        .parse = mtu_parse,
        .to_json = mtu_json,
    },
};

#define OPT_TCP_RX    (&consomme_options[0])
#define OPT_TCP_TX    (&consomme_options[1])
#define OPT_TRANSPORT (&consomme_options[2])
#define OPT_SANDBOX   (&consomme_options[3])
#define OPT_MTU       (&consomme_options[4])

/*
 * Wait until consomme's socket @sock exists in its directory, which means it listens. The
 * inotify watch is set before consomme is spawned (@ino), so its arrival cannot slip past
 * unseen.
 */
static int wait_listening(const struct consomme_priv *p, int ino, const char *sock, const char *log,
                          char *err, size_t errlen)
{
    long long deadline = proc_now_ms() + CM_LISTEN_MS;
    int pidfd = proc_pidfd(p->pid), rc;
    char tail[512];

    if (pidfd < 0)
        return errbuf_set(err, errlen, pidfd, "pidfd_open: %s", strerror(-pidfd));
    for (;;) {
        struct pollfd pfd[2] = {{.fd = ino, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        if (!access(sock, F_OK)) {
            rc = 0;
            break;
        }
        rc = proc_poll(pfd, 2, deadline);
        if (rc == -ETIMEDOUT) {
            rc = errbuf_set(err, errlen, rc, "consomme did not create %s within %d s (see %s)",
                            sock, CM_LISTEN_MS / 1000, log);
            break;
        }
        if (rc < 0)
            break;
        if (pfd[1].revents) {
            proc_log_tail(log, NULL, tail, sizeof(tail));
            rc = errbuf_set(err, errlen, -EPIPE, "consomme exited before listening on %s: %s", sock,
                            tail[0] ? tail : "(no output)");
            break;
        }
        /* the events themselves do not matter: the socket's existence is checked above */
        while (read(ino, buf, sizeof(buf)) > 0)
            ;
    }
    close(pidfd);
    return rc;
}

/*
 * transport=auto becomes vhost-user where the run's QEMU can serve it, else stream with one line
 * saying why; an explicit vhost-user that cannot work is refused.
 */
static int consomme_settle(struct backend_options *v, const struct backend_qemu_caps *qemu,
                           char *notice, size_t nlen, char *err, size_t errlen)
{
    union backend_value *t = (union backend_value *)backend_option_value(v, OPT_TRANSPORT);

    notice[0] = '\0';
    if (qemu->vhost_user) {
        if (!strcmp(t->text, CONSOMME_TRANSPORT_AUTO))
            snprintf(t->text, sizeof(t->text), "%s", CONSOMME_TRANSPORT_VHOST_USER);
        return 0;
    }
    if (!strcmp(t->text, CONSOMME_TRANSPORT_VHOST_USER))
        return errbuf_set(err, errlen, -ENOTSUP, "consomme: transport=vhost-user refused: %s",
                          qemu->why_not_vhost_user);
    if (!strcmp(t->text, CONSOMME_TRANSPORT_AUTO))
        snprintf(notice, nlen, "consomme: transport stream instead of vhost-user: %s",
                 qemu->why_not_vhost_user);
    snprintf(t->text, sizeof(t->text), "%s", CONSOMME_TRANSPORT_STREAM);
    return 0;
}

static int consomme_prepare(struct backend *b, const struct backend_ctx *ctx, char *err,
                            size_t errlen)
{
    const union backend_value *tcp_rx = backend_option_value(ctx->options, OPT_TCP_RX);
    const union backend_value *tcp_tx = backend_option_value(ctx->options, OPT_TCP_TX);
    struct consomme_priv *p = calloc(1, sizeof(*p));
    bool vhost_user = !strcmp(backend_option_value(ctx->options, OPT_TRANSPORT)->text,
                              CONSOMME_TRANSPORT_VHOST_USER);
    char bin[4096], fdarg[16], rx[64], tx[64], stats[4096], log[4096], gw_rule[64], mtu[16];
    const char *sock = p ? p->sd.sock : "";
    bool sandbox_off = !strcmp(backend_option_value(ctx->options, OPT_SANDBOX)->text, "off");
    int sv[2] = {-1, -1}, logfd = -1, ino = -1, rc;

    if (!p)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    /* the host's loopback is shared with everything else on the machine: no fixed port */
    rc = backend_loopback_port(&b->server_port, err, errlen);
    if (rc)
        goto fail;
    if (vhost_user) {
        rc = backend_socket_dir_make(&p->sd, "consomme", CM_VHOST_USER_SOCK, err, errlen);
        if (rc)
            goto fail;
        ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        /* consomme binds under a temporary name and renames once it listens: IN_MOVED_TO is
         * the socket's arrival (IN_CREATE only in case an older consomme binds in place) */
        if (ino < 0 || inotify_add_watch(ino, p->sd.dir, IN_CREATE | IN_MOVED_TO) < 0) {
            rc = errbuf_set(err, errlen, -errno, "inotify on %s: %s", p->sd.dir, strerror(errno));
            goto fail;
        }
    } else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
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
    policy_args(gw_rule, sizeof(gw_rule));
    {
        const char *argv[24];
        size_t n = 0;

        argv[n++] = bin;
        argv[n++] = vhost_user ? "--vhost-user" : "--fd";
        argv[n++] = vhost_user ? sock : fdarg;
        argv[n++] = "--tcp-rx-buffer";
        argv[n++] = rx;
        argv[n++] = "--tcp-tx-buffer";
        argv[n++] = tx;
        argv[n++] = "--stats";
        argv[n++] = stats;
        /* the run's --mtu (one guest of an MTU sweep) else the option's; the CLI refuses both */
        snprintf(mtu, sizeof(mtu), "%u", ctx->mtu);
        argv[n++] = "--mtu";
        argv[n++] = ctx->mtu ? mtu : backend_option_value(ctx->options, OPT_MTU)->text;
        argv[n++] = "--allow";
        argv[n++] = gw_rule;
        argv[n++] = "--allow";
        argv[n++] = CM_DNS ":53";
        argv[n++] = "--deny";
        argv[n++] = "0.0.0.0/0";
        if (sandbox_off)
            argv[n++] = "--no-sandbox";
        if (vhost_user) /* the directory is consomme's: gone once QEMU is connected */
            argv[n++] = "--own-socket-dir";
        argv[n] = NULL;
        const struct proc_spawn_opts so = {
            .argv = argv,
            .keep_fds = &sv[1],
            .n_keep_fds = vhost_user ? 0 : 1,
            .stdin_fd = -1,
            .stdout_fd = logfd,
            .stderr_fd = logfd,
            /* a burette killed before QEMU connected: consomme still removes its directory */
            .death_signal = SIGTERM,
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
    close(logfd);
    logfd = -1;
    snprintf(p->log, sizeof(p->log), "%s", log);

    b->priv = p;
    if (vhost_user) {
        rc = wait_listening(p, ino, sock, log, err, errlen);
        close(ino);
        ino = -1;
        if (rc)
            goto fail;
        snprintf(b->vhost_user_socket, sizeof(b->vhost_user_socket), "%s", sock);
        b->socket_dir = &p->sd;
    } else {
        close(sv[1]);
        sv[1] = -1;
        b->fds[0] = sv[0];
        b->n_fds = 1;
        snprintf(b->netdev, sizeof(b->netdev), "stream,id=%s,addr.type=fd,addr.str=%d",
                 BACKEND_NETDEV_ID, sv[0]);
    }
    b->guest.mode = AGENT_NIC_DHCP;
    b->guest.timeout_s = CM_GUEST_DHCP_S;
    snprintf(b->server_bind, sizeof(b->server_bind), "%s", CM_HOST_BIND);
    snprintf(b->server_addr, sizeof(b->server_addr), "%s", CM_GATEWAY);
    b->server_in_helper_ns = false;
    b->process = p->pid; /* recorded by --perf-dir */
    return 0;
fail:
    b->priv = NULL;
    if (p->pid > 0)
        proc_kill(p->pid, NULL);
    fd_close(&sv[0]);
    fd_close(&sv[1]);
    fd_close(&logfd);
    fd_close(&ino);
    backend_socket_dir_remove(&p->sd);
    free(p);
    return rc;
}

static void consomme_teardown(struct backend *b)
{
    struct consomme_priv *p = b->priv;

    /* Stream: closing our end (QEMU's is gone) is EOF for consomme. vhost-user: QEMU's exit
     * closed the socket. Either way consomme writes its counters and exits on its own; the
     * grace period only bounds a consomme that does not. */
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
    if (p)
        backend_socket_dir_remove(&p->sd);
    free(p);
    b->priv = NULL;
    b->socket_dir = NULL;
}

/* SIGSYS is the seccomp filter's doing (SCMP_ACT_KILL_PROCESS): name the call and the way out. */
static void describe_sigsys(const struct consomme_priv *p, char *why, size_t len)
{
    char call[128];

    sandbox_describe_kill(p->pid, call, sizeof(call));
    snprintf(why, len,
             "consomme was killed by its seccomp sandbox (SIGSYS): it made %s that its "
             "allow-list does not permit. This is a bug in consomme: please report it with %s; "
             "until it is fixed, run with --sandbox off (--variant consomme:sandbox=off)",
             call, p->log);
}

static bool consomme_died(struct backend *b, char *why, size_t len)
{
    struct consomme_priv *p = b->priv;
    char st[128];
    int status;

    if (!p || p->pid <= 0 || proc_reap(p->pid, &status) != 1)
        return false;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
        describe_sigsys(p, why, len);
    else
        snprintf(why, len, "consomme %s (see %s)", proc_status_str(status, st, sizeof(st)), p->log);
    p->pid = 0; /* reaped: teardown() has nothing left to kill */
    return true;
}

const struct backend_ops backend_consomme_ops = {
    .name = "consomme",
    .options = consomme_options,
    .n_options = sizeof(consomme_options) / sizeof(consomme_options[0]),
    .prepare = consomme_prepare,
    .teardown = consomme_teardown,
    .settle = consomme_settle,
    .died = consomme_died,
};
