/* SPDX-License-Identifier: MIT */
/*
 * main.c - the consomme command line: parse options, pick the transport, run the loop
 *
 * Every value goes through config.c (shared with the tests); a bad command line exits 2 with a
 * message naming the option, a failure at run time exits 1 with a message naming the cause.
 * In `consomme run` mode the exit status is CMD's (128 + signal when it was killed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core.h"
#include "errbuf.h"
#include "parse.h"
#include "sandbox.h"

static const char usage[] =
    "Usage: consomme --socket PATH [OPTIONS]\n"
    "       consomme --fd N [OPTIONS]\n"
    "       consomme --vhost-user PATH [OPTIONS]\n"
    "       consomme run [OPTIONS] -- CMD [ARGS...]\n"
    "\n"
    "A userspace NAT network stack: a guest's Ethernet frames become host sockets.\n"
    "The guest (10.0.2.15/24) reaches the host's 127.0.0.1 at 10.0.2.2 and the host's\n"
    "DNS resolver at 10.0.2.3 port 53 (UDP and TCP); it may use DHCP.\n"
    "\n"
    "Transports:\n"
    "  --socket PATH           listen on a unix socket for QEMU's\n"
    "                          -netdev stream,addr.type=unix,addr.path=PATH\n"
    "  --fd N                  use the inherited connected stream socket N (the other end\n"
    "                          given to QEMU as -netdev stream,addr.type=fd,addr.str=M)\n"
    "  --vhost-user PATH       be the vhost-user back-end of QEMU's virtio-net: listen on\n"
    "                          PATH (which must not exist) for -chardev socket,path=PATH\n"
    "                          -netdev vhost-user,chardev=...; the guest's RAM must be\n"
    "                          shared (-object memory-backend-memfd,share=on). Offloads:\n"
    "                          checksums both ways, TSO from the guest, merged receive\n"
    "                          buffers; frames to the guest are up to the MTU (64 KiB).\n"
    "                          Exits 0 when QEMU disconnects, 1 on a protocol error\n"
    "  --own-socket-dir        with --vhost-user: PATH's directory was made for this\n"
    "                          consomme alone; it is removed with PATH once QEMU is\n"
    "                          connected (or when consomme ends before)\n"
    "  run -- CMD [ARGS...]    run CMD in a new user and network namespace whose eth0\n"
    "                          (a TAP device, 10.0.2.15/24, default route via 10.0.2.2) is\n"
    "                          served by consomme, with /etc/resolv.conf naming 10.0.2.3;\n"
    "                          exit with CMD's status\n"
    "\n"
    "Options:\n"
    "  --mtu N                 IP MTU toward the guest, " CM_MTU_RANGE_TEXT " (default " CM_MTU_STR(
        CM_MTU_DEFAULT) ")\n"
                        "  --tcp-rx-buffer I[:M]   per-connection guest->host ring, initial and "
                        "maximum size\n"
                        "                          (e.g. 256K, 16K:4M; default 16K:4M; fixed when "
                        "I = M)\n"
                        "  --tcp-tx-buffer I[:M]   per-connection host->guest ring (same form and "
                        "default)\n"
                        "  --max-connections N     concurrent TCP connections (default 4096)\n"
                        "  --max-buffer-memory SIZE  TCP ring bytes of all connections together "
                        "(default:\n"
                        "                          a sixteenth of RAM); rings grow within 3/4 of "
                        "it,\n"
                        "                          new connections beyond it get a RST\n"
                        "  --allow RULE, --deny RULE  NAT policy: RULE is CIDR[:PORT[-PORT]] "
                        "(10.0.2.2:5201,\n"
                        "                          192.168.0.0/16, 0.0.0.0/0:53) on the address "
                        "the guest\n"
                        "                          used; the first matching rule decides, none: "
                        "allowed.\n"
                        "                          The host's 127/8 and own addresses are refused "
                        "except\n"
                        "                          through 10.0.2.2. Refused: TCP RST, UDP ICMP "
                        "unreachable\n"
                        "  --udp-timeout SECONDS   close UDP flows idle this long (default 180)\n"
                        "  --dns ADDR[:PORT]       forward DNS here instead of /etc/resolv.conf's "
                        "first server\n"
                        "  --stats FILE            write counters as JSON to FILE on exit and on "
                        "SIGUSR1\n"
                        "                          (without it, SIGUSR1 writes them to stderr); "
                        "sandboxed,\n"
                        "                          it is rewritten in place: read it under a "
                        "shared flock\n"
                        "  --runas USER            when started as root, become USER (default "
                        "nobody) once\n"
                        "                          set up; see Sandbox below\n"
                        "  --no-sandbox            keep privileges and make every system call "
                        "allowed (only to\n"
                        "                          get going after the sandbox killed consomme: "
                        "report it)\n"
                        "  -h, --help              show this help\n"
                        "\n"
                        "Readiness: with --socket and --vhost-user, PATH exists and accepts QEMU's "
                        "connection\n"
                        "once consomme is ready (it is created before consomme serves anything, "
                        "and removed\n"
                        "once QEMU is connected); with --fd, consomme reads the socket as soon as "
                        "it runs.\n"
                        "\n"
                        "Sandbox: once QEMU is connected (or CMD started), consomme drops every "
                        "capability,\n"
                        "switches to the --runas user when root, sets no_new_privs and loads a "
                        "seccomp filter\n"
                        "of the system calls its loop needs; any other call kills it with SIGSYS "
                        "(the\n"
                        "kernel log names the call: audit type=1326). --stats FILE is created "
                        "before that.\n";

enum {
    OPT_SOCKET = 256,
    OPT_FD,
    OPT_MTU,
    OPT_RXBUF,
    OPT_TXBUF,
    OPT_MAXCONN,
    OPT_UDPTIMEOUT,
    OPT_DNS,
    OPT_STATS,
    OPT_VHOST_USER,
    OPT_OWN_SOCKET_DIR,
    OPT_MAXMEM,
    OPT_ALLOW,
    OPT_DENY,
    OPT_RUNAS,
    OPT_NO_SANDBOX,
};

static const struct option long_opts[] = {
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"fd", required_argument, NULL, OPT_FD},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"tcp-rx-buffer", required_argument, NULL, OPT_RXBUF},
    {"tcp-tx-buffer", required_argument, NULL, OPT_TXBUF},
    {"max-connections", required_argument, NULL, OPT_MAXCONN},
    {"udp-timeout", required_argument, NULL, OPT_UDPTIMEOUT},
    {"dns", required_argument, NULL, OPT_DNS},
    {"stats", required_argument, NULL, OPT_STATS},
    {"vhost-user", required_argument, NULL, OPT_VHOST_USER},
    {"own-socket-dir", no_argument, NULL, OPT_OWN_SOCKET_DIR},
    {"max-buffer-memory", required_argument, NULL, OPT_MAXMEM},
    {"allow", required_argument, NULL, OPT_ALLOW},
    {"deny", required_argument, NULL, OPT_DENY},
    {"runas", required_argument, NULL, OPT_RUNAS},
    {"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX},
    {"help", no_argument, NULL, 'h'},
    {0},
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "consomme: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'consomme --help'.\n");
    return 2;
}

static int parse_dns(const char *s, struct sockaddr_in *out)
{
    char buf[64];
    char *colon;
    unsigned long long port = 53;

    if (strlen(s) >= sizeof(buf))
        return -EINVAL;
    snprintf(buf, sizeof(buf), "%s", s);
    colon = strchr(buf, ':');
    if (colon) {
        *colon = '\0';
        if (parse_uint(colon + 1, 1, 65535, &port))
            return -EINVAL;
    }
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, buf, &out->sin_addr) == 1 ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
    struct cm_opts o;
    struct consomme *c = NULL;
    struct cm_netns_child child = {.pid = 0, .tap_fd = -1};
    char err[ERRBUF_LEN];
    const char *socket_path = NULL, *vhost_path = NULL;
    bool own_socket_dir = false;
    long long fd = -1;
    bool run = false;
    unsigned long long v;
    struct rlimit rl;
    static struct cm_sandbox sb; /* the loop's sandbox hook keeps a pointer */
    int opt, rc, status = 1;

    cm_opts_default(&o);
    /* "+": options stop at the first word; "run" may come before or after them, and in run
     * mode they end at CMD, which has options of its own. */
    for (;;) {
        opt = getopt_long(argc, argv, "+h", long_opts, NULL);
        if (opt == -1) {
            if (run || optind >= argc || strcmp(argv[optind], "run"))
                break;
            run = true;
            optind++;
            continue;
        }
        switch (opt) {
        case OPT_SOCKET:
            socket_path = optarg;
            break;
        case OPT_FD:
            if (parse_uint(optarg, 0, 1 << 20, &v))
                return usage_error("--fd: '%s' is not a file descriptor number", optarg);
            fd = (long long)v;
            break;
        case OPT_MTU:
            if (cm_parse_mtu(optarg, &o.cfg.mtu, err, sizeof(err)))
                return usage_error("--mtu: %s", err);
            break;
        case OPT_RXBUF:
            if (cm_parse_tcp_bounds(optarg, &o.cfg.tcp_rx, err, sizeof(err)))
                return usage_error("--tcp-rx-buffer: %s", err);
            break;
        case OPT_TXBUF:
            if (cm_parse_tcp_bounds(optarg, &o.cfg.tcp_tx, err, sizeof(err)))
                return usage_error("--tcp-tx-buffer: %s", err);
            break;
        case OPT_MAXCONN:
            if (parse_uint(optarg, 1, 1u << 20, &v))
                return usage_error("--max-connections: '%s' is not a number in 1..%s", optarg,
                                   "1048576");
            o.cfg.max_connections = (unsigned)v;
            break;
        case OPT_UDPTIMEOUT:
            if (parse_uint(optarg, 1, 86400, &v))
                return usage_error("--udp-timeout: '%s' is not a number of seconds in 1..%s",
                                   optarg, "86400");
            o.udp_timeout_s = (unsigned)v;
            break;
        case OPT_DNS:
            if (parse_dns(optarg, &o.dns_upstream))
                return usage_error("--dns: '%s' is not an IPv4 address with an optional "
                                   "port",
                                   optarg);
            break;
        case OPT_STATS:
            o.stats_path = optarg;
            break;
        case OPT_VHOST_USER:
            vhost_path = optarg;
            break;
        case OPT_OWN_SOCKET_DIR:
            own_socket_dir = true;
            break;
        case OPT_MAXMEM:
            if (cm_parse_buffer_memory(optarg, &o.cfg.max_buffer_memory, err, sizeof(err)))
                return usage_error("--max-buffer-memory: %s", err);
            break;
        case OPT_ALLOW:
        case OPT_DENY:
            if (cm_policy_add(&o.policy, optarg, opt == OPT_ALLOW, err, sizeof(err)))
                return usage_error("--%s: %s", opt == OPT_ALLOW ? "allow" : "deny", err);
            break;
        case OPT_RUNAS:
            sb.runas = optarg;
            break;
        case OPT_NO_SANDBOX:
            sb.off = true;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return usage_error("invalid option");
        }
    }
    if (cm_opts_check(&o, err, sizeof(err)))
        return usage_error("%s", err);
    if (run) {
        if (socket_path || fd >= 0 || vhost_path)
            return usage_error("'run' takes no --socket, --fd or --vhost-user");
        if (optind >= argc)
            return usage_error("'run' needs a command: consomme run [OPTIONS] -- CMD "
                               "[ARGS...]");
    } else {
        if (optind < argc)
            return usage_error("unexpected argument '%s'", argv[optind]);
        if (own_socket_dir && !vhost_path)
            return usage_error("--own-socket-dir goes with --vhost-user PATH");
        if ((socket_path != NULL) + (fd >= 0) + (vhost_path != NULL) != 1)
            return usage_error("give exactly one of --socket PATH, --fd N, --vhost-user PATH "
                               "or 'run -- CMD'");
    }

    if (sb.runas && sb.off)
        return usage_error("--runas has no effect with --no-sandbox");
    sb.keep_user = run; /* CMD runs as root (opening the TUN device): we must signal it */
    if (cm_sandbox_resolve(&sb, err, sizeof(err)))
        return usage_error("%s", err);

    rc = cm_signals_block(NULL);
    if (rc) {
        fprintf(stderr, "consomme: cannot block signals: %s\n", strerror(-rc));
        return 1;
    }
    rc = cm_create(&o, &c, err, sizeof(err));
    if (!rc)
        rc = cm_sandbox_arm(&sb, c, !socket_path && !vhost_path, err, sizeof(err));
    if (rc)
        goto fail;
    if (run) {
        rc = cm_netns_spawn(&o.cfg, argv + optind, &child, err, sizeof(err));
        if (rc)
            goto fail;
        c->child = child.pid;
        rc = cm_transport_tap_fd(c, child.tap_fd, err, sizeof(err));
    } else if (vhost_path) {
        rc = cm_transport_vhost_user(c, vhost_path, err, sizeof(err));
        if (!rc && own_socket_dir)
            cm_vhost_user_own_dir(c);
    } else if (socket_path) {
        rc = cm_transport_listen(c, socket_path, err, sizeof(err));
    } else {
        rc = cm_transport_stream_fd(c, (int)fd, err, sizeof(err));
    }
    if (rc)
        goto fail;
    /* One host socket per guest connection: let --max-connections, not the soft fd limit
     * (often 1024), be what refuses connections. Raised only now, so CMD keeps its own. */
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    rc = cm_run(c, err, sizeof(err));
    if (rc)
        goto fail;
    status = c->exit_code;
    if (c->errmsg[0])
        fprintf(stderr, "consomme: %s\n", c->errmsg);
    if (o.stats_path && cm_stats_write(c, o.stats_path, err, sizeof(err))) {
        fprintf(stderr, "consomme: %s\n", err);
        if (!status)
            status = 1;
    }
    cm_destroy(c);
    return status;
fail:
    fprintf(stderr, "consomme: %s\n", err);
    cm_destroy(c);
    return 1;
}
