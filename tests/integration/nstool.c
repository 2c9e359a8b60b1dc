/* SPDX-License-Identifier: MIT */
/*
 * nstool - the checks of consomme's namespace integration tests, as one small program
 *
 * Modes that run inside `consomme run` (CMD) check what the sandbox sees; modes that run on
 * the host start consomme, play the host's side (a UDP echo server on 127.0.0.1) and judge the
 * outcome. Every mode exits 0 on success, 1 with a message on failure, 77 when the test cannot
 * apply here (ctest's skip code). Nothing here sleeps to synchronise: waits are poll() on the
 * event itself, with a timeout only as a guard against hanging.
 *
 *   nstool config MTU                      eth0 is 10.0.2.15/24 with MTU, lo up, default
 *                                          route via 10.0.2.2 (read through netlink)
 *   nstool ping ADDR COUNT                 ICMP echo over a raw socket, every reply checked
 *   nstool udp-client ADDR PORT            datagrams of many sizes echoed back intact
 *   nstool exit N | kill-self              end with status N / killed by SIGKILL
 *   nstool sigusr1-wait FILE               SIGUSR1 to consomme, wait for FILE to be written
 *   nstool report-pid-and-wait             print our pid, then wait to be killed
 *   nstool udp-refused ADDR PORT           a datagram to a closed port gives ECONNREFUSED
 *   nstool udp-echo -- CMD...              host: UDP echo on 127.0.0.1; "{PORT}" in CMD is
 *                                          replaced by its port; exit status is CMD's
 *   nstool closed-port -- CMD...           host: "{PORT}" in CMD is a closed UDP port
 *   nstool expect-status N -- CMD...       pass iff CMD ends with status N
 *   nstool expect-stderr N TEXT -- CMD...  pass iff CMD ends with N and TEXT in its stderr
 *   nstool as-nobody -- CMD...             run CMD as uid/gid 65534 (root only), seeing a
 *                                          /dev/net/tun of mode 0600 as some distributions
 *                                          ship it
 *   nstool no-userns -- CMD...             run CMD where no user namespace may be created
 *                                          (user.max_user_namespaces = 0 in a namespace of
 *                                          our own)
 *   nstool pdeath -- CMD...                CMD prints a pid (report-pid-and-wait inside
 *                                          consomme run); kill CMD, that pid must die too
 *   nstool term-forward -- CMD...          CMD prints a pid; SIGTERM to CMD (consomme) must
 *                                          reach that pid, and CMD end with 143
 *   nstool stats-check FILE -- CMD...      CMD succeeds and FILE holds consomme's counters
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <jansson.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "ref_csum.h"

#define SKIP     77
#define GUARD_MS 10000

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "nstool: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static int status_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 1;
}

/* argv after "--" */
static char **after_dashes(int argc, char **argv, int from)
{
    for (int i = from; i < argc; i++)
        if (!strcmp(argv[i], "--"))
            return i + 1 < argc ? argv + i + 1 : NULL;
    return NULL;
}

static int cmd_config(unsigned mtu)
{
    struct ifaddrs *ifa, *i;
    struct nl_sock *sk;
    struct nl_cache *routes = NULL;
    struct ifreq ifr = {0};
    bool addr_ok = false, lo_up = false, route_ok = false;
    int fd, rc = 0;

    if (getifaddrs(&ifa))
        return fail("getifaddrs: %s", strerror(errno));
    for (i = ifa; i; i = i->ifa_next) {
        if (!strcmp(i->ifa_name, "lo") && (i->ifa_flags & IFF_UP))
            lo_up = true;
        if (strcmp(i->ifa_name, "eth0") || !i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        struct sockaddr_in *a = (struct sockaddr_in *)i->ifa_addr;
        struct sockaddr_in *m = (struct sockaddr_in *)i->ifa_netmask;
        if (ntohl(a->sin_addr.s_addr) == 0x0a00020f && m &&
            ntohl(m->sin_addr.s_addr) == 0xffffff00 && (i->ifa_flags & IFF_UP))
            addr_ok = true;
    }
    freeifaddrs(ifa);
    if (!addr_ok)
        rc = fail("eth0 is not up with 10.0.2.15/24");
    if (!lo_up)
        rc = fail("lo is not up");

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "eth0");
    if (fd < 0 || ioctl(fd, SIOCGIFMTU, &ifr))
        rc = fail("cannot read eth0's MTU: %s", strerror(errno));
    else if ((unsigned)ifr.ifr_mtu != mtu)
        rc = fail("eth0's MTU is %d, expected %u", ifr.ifr_mtu, mtu);
    if (fd >= 0)
        close(fd);

    sk = nl_socket_alloc();
    if (!sk || nl_connect(sk, NETLINK_ROUTE) || rtnl_route_alloc_cache(sk, AF_INET, 0, &routes))
        return fail("netlink: cannot read routes");
    for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
        struct rtnl_route *r = (struct rtnl_route *)o;
        struct nl_addr *dst = rtnl_route_get_dst(r);
        if (rtnl_route_get_table(r) != RT_TABLE_MAIN || (dst && nl_addr_get_prefixlen(dst)))
            continue;
        if (rtnl_route_get_nnexthops(r) < 1)
            continue;
        struct nl_addr *gw = rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(r, 0));
        if (gw && nl_addr_get_len(gw) == 4 &&
            !memcmp(nl_addr_get_binary_addr(gw), "\x0a\x00\x02\x02", 4))
            route_ok = true;
    }
    nl_cache_free(routes);
    nl_socket_free(sk);
    if (!route_ok)
        rc = fail("no default route via 10.0.2.2");
    return rc;
}

static int cmd_ping(const char *addr, int count)
{
    struct sockaddr_in to = {.sin_family = AF_INET};
    uint16_t id = (uint16_t)getpid();
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

    if (inet_pton(AF_INET, addr, &to.sin_addr) != 1)
        return fail("bad address %s", addr);
    if (fd < 0)
        return fail("raw ICMP socket: %s", strerror(errno));
    for (int seq = 1; seq <= count; seq++) {
        uint8_t req[64], rep[1500];
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        bool got = false;

        memset(req, 0, sizeof(req));
        req[0] = 8;
        req[4] = (uint8_t)(id >> 8);
        req[5] = (uint8_t)id;
        req[7] = (uint8_t)seq;
        for (size_t i = 8; i < sizeof(req); i++)
            req[i] = (uint8_t)(i + seq);
        uint16_t s = ref_csum(req, sizeof(req), 0);
        req[2] = (uint8_t)(s >> 8);
        req[3] = (uint8_t)s;
        if (sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
            return fail("sendto: %s", strerror(errno));
        while (!got) {
            if (poll(&pfd, 1, GUARD_MS) != 1)
                return fail("no echo reply for seq %d from %s", seq, addr);
            ssize_t n = recv(fd, rep, sizeof(rep), 0);
            if (n < 20)
                continue;
            size_t ihl = (size_t)(rep[0] & 15) * 4;
            const uint8_t *m = rep + ihl;
            if ((size_t)n != ihl + sizeof(req) || m[0] != 0 || (m[4] << 8 | m[5]) != id ||
                m[7] != seq)
                continue; /* not ours */
            if (memcmp(m + 8, req + 8, sizeof(req) - 8) || ref_csum(m, sizeof(req), 0))
                return fail("echo reply %d has wrong data or checksum", seq);
            got = true;
        }
    }
    close(fd);
    printf("%d echo replies from %s\n", count, addr);
    return 0;
}

static int cmd_udp_client(const char *addr, int port)
{
    static const size_t sizes[] = {1, 100, 1472, 1473, 8000, 32768, 65000};
    static uint8_t out[65536], in[65536];
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (inet_pton(AF_INET, addr, &to.sin_addr) != 1)
        return fail("bad address %s", addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)))
        return fail("UDP socket to %s:%d: %s", addr, port, strerror(errno));
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t len = sizes[k];
        bool ok = false;

        for (size_t i = 0; i < len; i++)
            out[i] = (uint8_t)(i * 7 + k);
        /* UDP may lose a datagram; three tries before calling it a failure */
        for (int attempt = 0; attempt < 3 && !ok; attempt++) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            if (send(fd, out, len, 0) != (ssize_t)len)
                return fail("send %zu bytes: %s", len, strerror(errno));
            while (poll(&pfd, 1, GUARD_MS / 3) == 1) {
                ssize_t n = recv(fd, in, sizeof(in), 0);
                if (n < 0)
                    return fail("recv: %s", strerror(errno));
                if ((size_t)n == len && !memcmp(in, out, len)) {
                    ok = true;
                    break;
                }
            }
        }
        if (!ok)
            return fail("no intact echo of %zu bytes from %s:%d", len, addr, port);
    }
    close(fd);
    printf("UDP echo through %s:%d intact for all sizes\n", addr, port);
    return 0;
}

static int cmd_udp_refused(const char *addr, int port)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    char buf[16];

    if (inet_pton(AF_INET, addr, &to.sin_addr) != 1)
        return fail("bad address %s", addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)))
        return fail("UDP socket to %s:%d: %s", addr, port, strerror(errno));
    if (send(fd, "x", 1, 0) != 1)
        return fail("send: %s", strerror(errno));
    if (poll(&pfd, 1, GUARD_MS) != 1)
        return fail("no answer at all from %s:%d", addr, port);
    if (recv(fd, buf, sizeof(buf), 0) >= 0 || errno != ECONNREFUSED)
        return fail("expected ECONNREFUSED from %s:%d, got %s", addr, port, strerror(errno));
    printf("UDP to %s:%d refused, as on a real network\n", addr, port);
    return 0;
}

static int cmd_sigusr1_wait(const char *file)
{
    char dir[4096];
    const char *slash = strrchr(file, '/');
    int in = inotify_init1(IN_CLOEXEC);
    struct pollfd pfd = {.fd = in, .events = POLLIN};

    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - file) : 1, slash ? file : ".");
    /* renamed into place, or (sandboxed consomme) rewritten through its open descriptor */
    if (in < 0 || inotify_add_watch(in, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY) < 0)
        return fail("inotify on %s: %s", dir, strerror(errno));
    if (kill(getppid(), SIGUSR1))
        return fail("cannot signal consomme: %s", strerror(errno));
    for (;;) {
        char buf[4096];
        if (poll(&pfd, 1, GUARD_MS) != 1)
            return fail("%s was not written after SIGUSR1", file);
        if (read(in, buf, sizeof(buf)) <= 0)
            continue;
        if (!access(file, R_OK))
            return 0;
    }
}

static pid_t spawn(char **cmd, int out_fd, int err_fd)
{
    pid_t pid = fork();

    if (pid == 0) {
        if (out_fd >= 0)
            dup2(out_fd, 1);
        if (err_fd >= 0)
            dup2(err_fd, 2);
        execvp(cmd[0], cmd);
        fprintf(stderr, "nstool: cannot run %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Read from @fd until a newline (or EOF, or @size - 1 bytes): CMD's first line. */
static void read_first_line(int fd, char *line, size_t size)
{
    size_t len = 0;

    while (len < size - 1 && !memchr(line, '\n', len)) {
        ssize_t n = read(fd, line + len, size - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    line[len] = '\0';
}

static int wait_status(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status_code(st);
}

static void substitute_port(char **cmd, unsigned port)
{
    char text[16];

    snprintf(text, sizeof(text), "%u", port);
    for (char **p = cmd; *p; p++) {
        char *tok = strstr(*p, "{PORT}");
        if (tok) {
            char *s = malloc(strlen(*p) + 16);
            sprintf(s, "%.*s%s%s", (int)(tok - *p), *p, text, tok + 6);
            *p = s;
        }
    }
}

static int cmd_closed_port(char **cmd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
        getsockname(fd, (struct sockaddr *)&a, &al))
        return fail("UDP socket: %s", strerror(errno));
    close(fd); /* a port just free is very unlikely to be taken again at once */
    substitute_port(cmd, ntohs(a.sin_port));
    return wait_status(spawn(cmd, -1, -1));
}

static int cmd_udp_echo(char **cmd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    static uint8_t buf[65536];
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), pfds[2], st = -1;
    pid_t pid;

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
        getsockname(fd, (struct sockaddr *)&a, &al))
        return fail("UDP echo socket: %s", strerror(errno));
    substitute_port(cmd, ntohs(a.sin_port));
    /* a pipe closed by the child's exit wakes the echo loop when CMD is done */
    if (pipe2(pfds, O_CLOEXEC))
        return fail("pipe: %s", strerror(errno));
    pid = fork();
    if (pid == 0) {
        close(pfds[0]);
        fcntl(pfds[1], F_SETFD, 0);
        execvp(cmd[0], cmd);
        _exit(127);
    }
    close(pfds[1]);
    for (;;) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = pfds[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents & POLLIN) {
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
            if (n >= 0)
                sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
        }
        if (p[1].revents)
            break;
    }
    st = wait_status(pid);
    close(fd);
    return st;
}

static int cmd_expect_stderr(int want, const char *text, char **cmd)
{
    static char buf[65536];
    size_t len = 0;
    int p[2], st;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC))
        return fail("pipe: %s", strerror(errno));
    pid = spawn(cmd, -1, p[1]);
    close(p[1]);
    for (;;) {
        ssize_t n = read(p[0], buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    close(p[0]);
    st = wait_status(pid);
    fputs(buf, stderr);
    if (st == SKIP)
        return SKIP;
    if (st != want)
        return fail("%s exited with %d, expected %d", cmd[0], st, want);
    if (text && !strstr(buf, text))
        return fail("the message does not contain \"%s\"", text);
    return 0;
}

static int cmd_as_nobody(char **cmd)
{
    struct stat st;

    if (getuid() != 0) {
        fprintf(stderr, "nstool: not root, cannot switch to nobody: skipped\n");
        return SKIP;
    }
    if (stat("/dev/net/tun", &st)) {
        fprintf(stderr, "nstool: no /dev/net/tun here: skipped\n");
        return SKIP;
    }
    if ((st.st_mode & 0006) == 0006) {
        /* This machine's device is open to everyone: show CMD a mode-0600 one instead, in a
         * private mount namespace (the same device, a node of our own bound over it). */
        char node[] = "/tmp/nstool_tun_XXXXXX";
        int fd = mkstemp(node);

        if (fd < 0 || unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
            return fail("cannot set up a private /dev/net/tun: %s", strerror(errno));
        close(fd);
        unlink(node);
        if (mknod(node, S_IFCHR | 0600, st.st_rdev) ||
            mount(node, "/dev/net/tun", NULL, MS_BIND, NULL)) {
            int e = errno;
            unlink(node);
            fprintf(stderr, "nstool: cannot bind a mode-0600 tun node (%s): skipped\n",
                    strerror(e));
            return SKIP;
        }
        unlink(node);
    }
    if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
        return fail("cannot become nobody: %s", strerror(errno));
    execvp(cmd[0], cmd);
    fprintf(stderr, "nstool: nobody cannot run %s (%s): skipped\n", cmd[0], strerror(errno));
    return SKIP;
}

static int cmd_no_userns(char **cmd)
{
    char map[64];
    uid_t uid = geteuid();
    gid_t gid = getegid();
    int fd;

    if (unshare(CLONE_NEWUSER)) {
        fprintf(stderr, "nstool: no user namespaces here at all: skipped\n");
        return SKIP;
    }
    fd = open("/proc/self/setgroups", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "deny", 4) < 0)
            return fail("setgroups: %s", strerror(errno));
        close(fd);
    }
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
    fd = open("/proc/self/uid_map", O_WRONLY);
    if (fd < 0 || write(fd, map, strlen(map)) < 0)
        return fail("uid_map: %s", strerror(errno));
    close(fd);
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
    fd = open("/proc/self/gid_map", O_WRONLY);
    if (fd < 0 || write(fd, map, strlen(map)) < 0)
        return fail("gid_map: %s", strerror(errno));
    close(fd);
    /* the limit is per user namespace: this one allows no nested ones */
    fd = open("/proc/sys/user/max_user_namespaces", O_WRONLY);
    if (fd < 0 || write(fd, "0", 1) != 1)
        return fail("cannot set user.max_user_namespaces: %s", strerror(errno));
    close(fd);
    execvp(cmd[0], cmd);
    return fail("cannot run %s: %s", cmd[0], strerror(errno));
}

static int cmd_pdeath(char **cmd)
{
    char line[64];
    int p[2], pidfd;
    pid_t pid, inner;
    struct pollfd pfd;

    if (pipe2(p, O_CLOEXEC))
        return fail("pipe: %s", strerror(errno));
    pid = spawn(cmd, p[1], -1);
    close(p[1]);
    read_first_line(p[0], line, sizeof(line));
    inner = (pid_t)atoi(line);
    if (inner <= 0) {
        kill(pid, SIGKILL);
        wait_status(pid);
        return fail("CMD did not report its pid");
    }
    pidfd = (int)syscall(SYS_pidfd_open, inner, 0);
    if (pidfd < 0)
        return fail("pidfd_open(%d): %s", (int)inner, strerror(errno));
    kill(pid, SIGKILL); /* consomme dies without any chance to clean up */
    wait_status(pid);
    pfd = (struct pollfd){.fd = pidfd, .events = POLLIN};
    if (poll(&pfd, 1, GUARD_MS) != 1) {
        kill(inner, SIGKILL);
        return fail("CMD (pid %d) outlived consomme", (int)inner);
    }
    printf("CMD died with consomme\n");
    return 0;
}

static int cmd_term_forward(char **cmd)
{
    char line[64] = "";
    int p[2], st;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC))
        return fail("pipe: %s", strerror(errno));
    pid = spawn(cmd, p[1], -1);
    close(p[1]);
    read_first_line(p[0], line, sizeof(line));
    close(p[0]);
    if (atoi(line) <= 0) {
        kill(pid, SIGKILL);
        wait_status(pid);
        return fail("CMD did not report its pid");
    }
    kill(pid, SIGTERM); /* to consomme, which passes it on and waits for CMD */
    st = wait_status(pid);
    if (st != 128 + SIGTERM)
        return fail("consomme exited with %d after SIGTERM, expected %d (CMD killed by it)", st,
                    128 + SIGTERM);
    printf("SIGTERM reached CMD; consomme exited with its status\n");
    return 0;
}

static int cmd_stats_check(const char *file, char **cmd)
{
    json_error_t jerr;
    json_t *o, *drops, *udp;
    int st;

    unlink(file);
    st = wait_status(spawn(cmd, -1, -1));
    if (st != 0)
        return fail("%s exited with %d", cmd[0], st);
    o = json_load_file(file, 0, &jerr);
    if (!o)
        return fail("%s: %s", file, jerr.text);
    drops = json_object_get(o, "drops");
    udp = json_object_get(o, "udp");
    st = 0;
    if (json_integer_value(json_object_get(o, "frames_in")) <= 0 ||
        json_integer_value(json_object_get(o, "frames_out")) <= 0)
        st = fail("no frames counted");
    if (json_integer_value(json_object_get(o, "icmp_echo_replies")) < 3)
        st = fail("fewer than 3 echo replies counted");
    if (!json_is_object(drops) || !json_object_get(drops, "ipv4_checksum"))
        st = fail("no drop counters");
    if (!json_is_object(udp) || !json_object_get(udp, "flows_total"))
        st = fail("no UDP counters");
    if (!json_object_get(o, "tcp"))
        st = fail("no TCP counters");
    json_decref(o);
    unlink(file);
    return st;
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";
    char **cmd = after_dashes(argc, argv, 2);

    if (!strcmp(m, "config") && argc == 3)
        return cmd_config((unsigned)atoi(argv[2]));
    if (!strcmp(m, "ping") && argc == 4)
        return cmd_ping(argv[2], atoi(argv[3]));
    if (!strcmp(m, "udp-client") && argc == 4)
        return cmd_udp_client(argv[2], atoi(argv[3]));
    if (!strcmp(m, "exit") && argc == 3)
        return atoi(argv[2]);
    if (!strcmp(m, "kill-self"))
        return raise(SIGKILL);
    if (!strcmp(m, "sigusr1-wait") && argc == 3)
        return cmd_sigusr1_wait(argv[2]);
    if (!strcmp(m, "report-pid-and-wait")) {
        printf("%d\n", (int)getpid());
        fflush(stdout);
        for (;;)
            pause();
    }
    if (!strcmp(m, "udp-refused") && argc == 4)
        return cmd_udp_refused(argv[2], atoi(argv[3]));
    if (!strcmp(m, "closed-port") && cmd)
        return cmd_closed_port(cmd);
    if (!strcmp(m, "udp-echo") && cmd)
        return cmd_udp_echo(cmd);
    if (!strcmp(m, "expect-status") && argc > 3 && cmd) {
        int st = wait_status(spawn(cmd, -1, -1));
        return st == atoi(argv[2]) ? 0
                                   : fail("%s exited with %d, expected %s", cmd[0], st, argv[2]);
    }
    if (!strcmp(m, "expect-stderr") && argc > 4 && cmd)
        return cmd_expect_stderr(atoi(argv[2]), argv[3], cmd);
    if (!strcmp(m, "as-nobody") && cmd)
        return cmd_as_nobody(cmd);
    if (!strcmp(m, "no-userns") && cmd)
        return cmd_no_userns(cmd);
    if (!strcmp(m, "pdeath") && cmd)
        return cmd_pdeath(cmd);
    if (!strcmp(m, "term-forward") && cmd)
        return cmd_term_forward(cmd);
    if (!strcmp(m, "stats-check") && argc > 3 && cmd)
        return cmd_stats_check(argv[2], cmd);
    fprintf(stderr, "usage: see the comment at the top of nstool.c\n");
    return 2;
}
