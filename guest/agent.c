/* SPDX-License-Identifier: MIT */
/*
 * burette-agent - the guest side of burette: says hello, configures NICs, runs commands
 *
 * Started by the guest's init once the virtio modules are loaded. It opens the virtio-serial
 * port named AGENT_PORT_NAME, sends hello with every NIC's name and MAC, then serves one
 * request at a time until told to power off (see agent_proto.h for the messages). Run as
 * `burette-agent rr ...` it is instead the client of the latency test (rr.h, rr_client.c).
 *
 * Why virtio-serial and not a second UART: the port is a byte pipe with no tty line discipline
 * (no echo, no CR/LF translation, no termios to get right), and under TCG a 16550 costs one
 * emulated I/O-port exit per byte, while iperf3's JSON output runs to tens of KB per run; a
 * virtqueue moves it in a few large buffers. The modules it needs (virtio, virtio_ring,
 * virtio_pci) are loaded for virtio-net anyway.
 *
 * NICs are configured with ioctls (SIOCSIFADDR, SIOCSIFNETMASK, SIOCSIFMTU, SIOCSIFFLAGS,
 * SIOCADDRT): the guest has no iproute2, and this keeps the agent one static binary. DHCP is
 * busybox udhcpc with a script that only records the lease; the agent applies it with the same
 * code as a static configuration.
 *
 * Bad input is answered with an error message and the agent goes on; only a broken port ends
 * it (then init powers the guest off, so the harness sees QEMU exit at once). Diagnostics go
 * to stderr, which is the guest's console, which the harness logs.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "agent_proto.h"
#include "errbuf.h"
#include "fd.h"
#include "rr_client.h"

#define PORT_WAIT_MS   30000
#define DHCP_DEFAULT_S 10
#define UDHCPC_SCRIPT  "/etc/udhcpc.script"

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
    struct timespec ts;
    va_list ap;

    /* Seconds since boot, as the kernel's own console lines have, to line the two up. */
    clock_gettime(CLOCK_BOOTTIME, &ts);
    fprintf(stderr, "[%5lld.%06ld] burette-agent: ", (long long)ts.tv_sec, ts.tv_nsec / 1000);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int read_small_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

/* Look for the agent's port in sysfs; on success @dev holds its /dev path. */
static int find_port(char *dev, size_t len)
{
    DIR *d = opendir("/sys/class/virtio-ports");
    struct dirent *e;
    int rc = -ENOENT;

    if (!d)
        return -ENOENT;
    while ((e = readdir(d))) {
        char path[PATH_MAX], name[128];

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
        if (read_small_file(path, name, sizeof(name)) || strcmp(name, AGENT_PORT_NAME))
            continue;
        snprintf(dev, len, "/dev/%s", e->d_name);
        if (access(dev, R_OK | W_OK) == 0) {
            rc = 0;
            break;
        }
    }
    closedir(d);
    return rc;
}

/*
 * The port appears a little after virtio_console loads (QEMU announces ports once the driver
 * is up), and its /dev node after that: wait for it, woken by devtmpfs creating nodes, with a
 * periodic rescan because sysfs itself cannot be watched.
 */
static int open_port(void)
{
    long long deadline = clock_now_ms() + PORT_WAIT_MS;
    int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    char dev[PATH_MAX];
    int fd = -1;

    if (ino >= 0)
        inotify_add_watch(ino, "/dev", IN_CREATE | IN_ATTRIB);
    for (;;) {
        if (find_port(dev, sizeof(dev)) == 0) {
            fd = open(dev, O_RDWR | O_CLOEXEC | O_NONBLOCK);
            if (fd >= 0) {
                logmsg("port %s is %s", AGENT_PORT_NAME, dev);
                break;
            }
            logmsg("cannot open %s: %s", dev, strerror(errno));
        }
        long long left = deadline - clock_now_ms();
        if (left <= 0) {
            logmsg("no virtio-serial port named %s appeared within %d s (is the "
                   "virtserialport device on QEMU's command line?)",
                   AGENT_PORT_NAME, PORT_WAIT_MS / 1000);
            break;
        }
        struct pollfd p = {.fd = ino, .events = POLLIN};
        poll(&p, ino >= 0 ? 1 : 0, left < 50 ? (int)left : 50);
        if (ino >= 0) {
            char buf[4096];
            while (read(ino, buf, sizeof(buf)) > 0)
                ;
        }
    }
    if (ino >= 0)
        close(ino);
    return fd;
}

/*
 * The port is non-blocking: a blocking write to a virtio-serial port spins in the guest kernel
 * until the host has taken the buffer (virtio_console's __send_to_port), holding a vCPU that
 * TCG would rather give to QEMU. Queue the data and wait for room with poll() instead.
 */
static int write_port(int port, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(port, buf, len);

        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        struct pollfd p = {.fd = port, .events = POLLOUT};
        poll(&p, 1, -1);
    }
    return 0;
}

static int send_msg(int port, const struct agent_msg *m)
{
    char err[ERRBUF_LEN];
    size_t len;
    char *line = agent_msg_encode(m, &len, err, sizeof(err));
    int rc;

    if (!line) {
        logmsg("cannot encode reply: %s", err);
        return -ENOMEM;
    }
    rc = write_port(port, line, len);
    free(line);
    if (rc)
        logmsg("cannot write to the port: %s", strerror(-rc));
    return rc;
}

static int send_error(int port, long long id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int send_error(int port, long long id, const char *fmt, ...)
{
    struct agent_msg m = {.type = AGENT_MSG_ERROR, .id = id};
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(m.u.error, sizeof(m.u.error), fmt, ap);
    va_end(ap);
    logmsg("error reply: %s", m.u.error);
    return send_msg(port, &m);
}

static int list_nics(struct agent_hello *h)
{
    DIR *d = opendir("/sys/class/net");
    struct dirent *e;

    h->n_nics = 0;
    if (!d)
        return -errno;
    while ((e = readdir(d)) && h->n_nics < AGENT_MAX_NICS) {
        char path[PATH_MAX], mac[64];
        struct agent_nic *n = &h->nics[h->n_nics];

        if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo") || strlen(e->d_name) >= sizeof(n->name))
            continue;
        snprintf(path, sizeof(path), "/sys/class/net/%s/address", e->d_name);
        if (read_small_file(path, mac, sizeof(mac)) || agent_parse_mac(mac, n->mac))
            continue;
        snprintf(n->name, sizeof(n->name), "%s", e->d_name);
        h->n_nics++;
    }
    closedir(d);
    return 0;
}

static int find_nic(const char *mac, char name[AGENT_NAME_LEN])
{
    struct agent_hello h;

    list_nics(&h);
    for (size_t i = 0; i < h.n_nics; i++) {
        if (!strcmp(h.nics[i].mac, mac)) {
            memcpy(name, h.nics[i].name, AGENT_NAME_LEN);
            return 0;
        }
    }
    return -ENODEV;
}

static void set_sin(struct sockaddr *sa, const char *addr)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)sa;

    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    if (addr)
        inet_pton(AF_INET, addr, &sin->sin_addr);
}

static int if_ioctl(int sk, unsigned long req, struct ifreq *ifr, const char *what, char *err,
                    size_t errlen)
{
    if (ioctl(sk, req, ifr) < 0)
        return errbuf_set(err, errlen, -errno, "cannot %s on %s: %s", what, ifr->ifr_name,
                          strerror(errno));
    return 0;
}

static int set_link(int sk, const char *ifname, bool up, char *err, size_t errlen)
{
    struct ifreq ifr = {0};
    int rc;

    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    rc = if_ioctl(sk, SIOCGIFFLAGS, &ifr, "read the link flags", err, errlen);
    if (rc)
        return rc;
    if (up)
        ifr.ifr_flags |= IFF_UP;
    else
        ifr.ifr_flags &= ~IFF_UP;
    return if_ioctl(sk, SIOCSIFFLAGS, &ifr, up ? "bring the link up" : "bring the link down", err,
                    errlen);
}

/* Replace the default route: the guest has exactly one way out, the NIC under test. */
static int set_default_route(int sk, const char *ifname, const char *gateway, char *err,
                             size_t errlen)
{
    struct rtentry rt = {0};

    set_sin(&rt.rt_dst, "0.0.0.0");
    set_sin(&rt.rt_genmask, "0.0.0.0");
    while (ioctl(sk, SIOCDELRT, &rt) == 0)
        ;
    if (!gateway || !gateway[0])
        return 0;
    set_sin(&rt.rt_gateway, gateway);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = (char *)ifname;
    if (ioctl(sk, SIOCADDRT, &rt) < 0)
        return errbuf_set(err, errlen, -errno, "cannot add a default route via %s on %s: %s",
                          gateway, ifname, strerror(errno));
    return 0;
}

static int apply_static(int sk, const char *ifname, const char *address, unsigned prefix,
                        const char *gateway, unsigned mtu, char *err, size_t errlen)
{
    struct ifreq ifr = {0};
    char mask[AGENT_IP_LEN];
    uint32_t m = prefix ? htonl(~0u << (32 - prefix)) : 0;
    int rc;

    inet_ntop(AF_INET, &m, mask, sizeof(mask));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (mtu) {
        ifr.ifr_mtu = (int)mtu;
        rc = if_ioctl(sk, SIOCSIFMTU, &ifr, "set the MTU", err, errlen);
        if (rc)
            return rc;
    }
    set_sin(&ifr.ifr_addr, address);
    rc = if_ioctl(sk, SIOCSIFADDR, &ifr, "set the address", err, errlen);
    if (rc)
        return rc;
    set_sin(&ifr.ifr_netmask, mask);
    rc = if_ioctl(sk, SIOCSIFNETMASK, &ifr, "set the netmask", err, errlen);
    if (rc)
        return rc;
    rc = set_link(sk, ifname, true, err, errlen);
    if (rc)
        return rc;
    return set_default_route(sk, ifname, gateway, err, errlen);
}

/* Read back what the NIC has now, for the reply. */
static void read_state(int sk, const char *ifname, struct agent_nic_state *s)
{
    struct ifreq ifr = {0};

    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    snprintf(s->name, sizeof(s->name), "%s", ifname);
    if (ioctl(sk, SIOCGIFMTU, &ifr) == 0)
        s->mtu = (unsigned)ifr.ifr_mtu;
    s->address[0] = '\0';
    s->prefix = 0;
    if (s->mode == AGENT_NIC_DOWN)
        return;
    if (ioctl(sk, SIOCGIFADDR, &ifr) == 0)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, s->address,
                  sizeof(s->address));
    if (ioctl(sk, SIOCGIFNETMASK, &ifr) == 0)
        s->prefix =
            (unsigned)__builtin_popcount(((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr.s_addr);
}

struct run_output {
    char *buf;
    size_t len;
    bool truncated;
};

static void output_take(struct run_output *o, const char *data, size_t n)
{
    if (o->len + n > AGENT_MAX_OUTPUT) {
        n = AGENT_MAX_OUTPUT - o->len;
        o->truncated = true;
    }
    if (!n)
        return;
    char *b = realloc(o->buf, o->len + n + 1);
    if (!b) {
        o->truncated = true;
        return;
    }
    o->buf = b;
    memcpy(o->buf + o->len, data, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

/*
 * Run @argv with stdout and stderr captured, killing its whole process group when @timeout_s
 * passes. Fills @r; returns 0, or negative errno when the command could not be started.
 */
static int run_command(char *const argv[], unsigned timeout_s, struct agent_run_result *r,
                       char *err, size_t errlen)
{
    struct run_output out = {0}, errout = {0};
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    long long deadline = clock_now_ms() + (long long)timeout_s * 1000;
    int status = 0, rc = 0;
    pid_t pid;

    if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
        rc = errbuf_set(err, errlen, -errno, "pipe: %s", strerror(errno));
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        rc = errbuf_set(err, errlen, -errno, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        setsid();
        dup2(po[1], 1);
        dup2(pe[1], 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        signal(SIGPIPE, SIG_DFL);
        execvp(argv[0], argv);
        dprintf(2, "burette-agent: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    po[1] = pe[1] = -1;

    while (po[0] >= 0 || pe[0] >= 0) {
        struct pollfd p[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
        long long left = deadline - clock_now_ms();
        char buf[65536];

        if (left <= 0) {
            r->timed_out = true;
            kill(-pid, SIGKILL);
            break;
        }
        if (poll(p, 2, left > INT_MAX ? INT_MAX : (int)left) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            int *fd = i ? &pe[0] : &po[0];
            if (*fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(*fd, buf, sizeof(buf));
            if (n > 0) {
                output_take(i ? &errout : &out, buf, (size_t)n);
            } else if (n == 0 || errno != EINTR) {
                fd_close(fd);
            }
        }
    }
    /* Output is complete (or the deadline passed): now wait for the exit status. */
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    /* Leftovers of the group (daemons the command started) do not outlive the request. */
    kill(-pid, SIGKILL);
    if (WIFSIGNALED(status)) {
        r->exit_status = -1;
        r->signal = WTERMSIG(status);
    } else {
        r->exit_status = WEXITSTATUS(status);
    }
    if (out.truncated)
        output_take(&errout, "\nburette-agent: stdout truncated\n", 33);
    if (errout.truncated)
        logmsg("stderr of %s truncated", argv[0]);
    r->out = out.buf;
    r->out_len = out.len;
    r->err = errout.buf;
    r->err_len = errout.len;
    out.buf = errout.buf = NULL;
out:
    for (int i = 0; i < 2; i++) {
        fd_close(&po[i]);
        fd_close(&pe[i]);
    }
    free(out.buf);
    free(errout.buf);
    return rc;
}

/* Parse the KEY=VALUE lease file our udhcpc script writes. */
static int read_lease(const char *ifname, char *ip, char *mask, char *router, unsigned *mtu)
{
    char path[PATH_MAX], line[256];
    FILE *f;

    snprintf(path, sizeof(path), "/run/udhcpc.%s", ifname);
    f = fopen(path, "re");
    if (!f)
        return -errno;
    ip[0] = mask[0] = router[0] = '\0';
    *mtu = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        char *v = strchr(line, '=');

        if (!v || strlen(v + 1) >= AGENT_IP_LEN)
            continue;
        v++;
        if (!strncmp(line, "ip=", 3))
            memcpy(ip, v, strlen(v) + 1);
        else if (!strncmp(line, "subnet=", 7))
            memcpy(mask, v, strlen(v) + 1);
        else if (!strncmp(line, "router=", 7))
            memcpy(router, v, strlen(v) + 1);
        else if (!strncmp(line, "mtu=", 4))
            *mtu = (unsigned)strtoul(line + 4, NULL, 10);
    }
    fclose(f);
    return ip[0] ? 0 : -EINVAL;
}

static int configure_dhcp(int sk, const char *ifname, unsigned timeout_s, struct agent_nic_state *s,
                          char *err, size_t errlen)
{
    char ip[AGENT_IP_LEN], mask[AGENT_IP_LEN], router[AGENT_IP_LEN], tries[16], lease[PATH_MAX];
    struct agent_run_result r = {0};
    struct in_addr m;
    unsigned mtu = 0;
    int rc;

    timeout_s = timeout_s ? timeout_s : DHCP_DEFAULT_S;
    snprintf(tries, sizeof(tries), "%u", timeout_s);
    snprintf(lease, sizeof(lease), "/run/udhcpc.%s", ifname);
    unlink(lease);
    rc = set_link(sk, ifname, true, err, errlen);
    if (rc)
        return rc;
    /* One discover a second, -n: give up after that instead of going to the background. */
    char *argv[] = {"udhcpc", "-i", (char *)ifname, "-f",          "-q", "-n", "-t", tries,
                    "-T",     "1",  "-s",           UDHCPC_SCRIPT, NULL};
    rc = run_command(argv, timeout_s + 5, &r, err, errlen);
    if (rc)
        return rc;
    if (r.exit_status != 0 || read_lease(ifname, ip, mask, router, &mtu)) {
        rc = errbuf_set(err, errlen, -ETIMEDOUT,
                        "no DHCP lease on %s within %u s (udhcpc exit status %d%s%.200s)", ifname,
                        timeout_s, r.exit_status, r.err_len ? ": " : "", r.err ? r.err : "");
        goto out;
    }
    if (inet_pton(AF_INET, mask, &m) != 1 || !ip[0]) {
        rc = errbuf_set(err, errlen, -EINVAL, "DHCP lease on %s is unreadable (ip '%s', mask '%s')",
                        ifname, ip, mask);
        goto out;
    }
    rc = apply_static(sk, ifname, ip, (unsigned)__builtin_popcount(m.s_addr), router, mtu, err,
                      errlen);
    snprintf(s->gateway, sizeof(s->gateway), "%s", router);
out:
    free(r.out);
    free(r.err);
    return rc;
}

static void handle_configure(int port, const struct agent_msg *req)
{
    const struct agent_nic_config *c = &req->u.nic_config;
    struct agent_msg reply = {.type = AGENT_MSG_NIC_CONFIGURED, .id = req->id};
    struct agent_nic_state *s = &reply.u.nic_state;
    char ifname[AGENT_NAME_LEN], err[ERRBUF_LEN];
    int sk, rc;

    if (find_nic(c->mac, ifname)) {
        send_error(port, req->id, "no NIC with MAC %s in the guest", c->mac);
        return;
    }
    sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sk < 0) {
        send_error(port, req->id, "socket: %s", strerror(errno));
        return;
    }
    s->mode = c->mode;
    memcpy(s->mac, c->mac, sizeof(s->mac));
    switch (c->mode) {
    case AGENT_NIC_STATIC:
        rc = apply_static(sk, ifname, c->address, c->prefix, c->gateway, c->mtu, err, sizeof(err));
        snprintf(s->gateway, sizeof(s->gateway), "%s", c->gateway);
        break;
    case AGENT_NIC_DHCP:
        rc = configure_dhcp(sk, ifname, c->timeout_s, s, err, sizeof(err));
        break;
    case AGENT_NIC_DOWN:
    default: {
        struct ifreq ifr = {0};

        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        set_sin(&ifr.ifr_addr, "0.0.0.0");
        ioctl(sk, SIOCSIFADDR, &ifr); /* fails harmlessly when there is no address */
        rc = set_link(sk, ifname, false, err, sizeof(err));
        break;
    }
    }
    if (rc) {
        send_error(port, req->id, "configure_nic %s (%s): %s", c->mac, ifname, err);
    } else {
        read_state(sk, ifname, s);
        logmsg("%s (%s): %s %s/%u mtu %u", ifname, c->mac,
               c->mode == AGENT_NIC_DOWN ? "down" : "up", s->address, s->prefix, s->mtu);
        send_msg(port, &reply);
    }
    close(sk);
}

static void handle_run(int port, const struct agent_msg *req)
{
    struct agent_msg reply = {.type = AGENT_MSG_RUN_RESULT, .id = req->id};
    char err[ERRBUF_LEN];
    int rc;

    rc = run_command(req->u.run.argv, req->u.run.timeout_s, &reply.u.run_result, err, sizeof(err));
    if (rc)
        send_error(port, req->id, "run %s: %s", req->u.run.argv[0], err);
    else
        send_msg(port, &reply);
    agent_msg_clear(&reply);
}

static void bring_up_loopback(void)
{
    int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    char err[ERRBUF_LEN];

    if (sk < 0)
        return;
    if (set_link(sk, "lo", true, err, sizeof(err)))
        logmsg("%s", err);
    close(sk);
}

int main(int argc, char **argv)
{
    struct agent_msg hello = {.type = AGENT_MSG_HELLO, .id = -1};
    struct linebuf lb;
    int port;

    /* `burette-agent rr ...`: the latency test's client, started through a run request */
    if (argc > 1 && !strcmp(argv[1], "rr"))
        return rr_client_main(argc - 1, argv + 1);

    /* A request is answered even if the harness went away mid-reply: no death by SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stderr, NULL, _IOLBF, 0);
    /*
     * jansson seeds its hash function from the kernel's random pool, which blocks until the
     * pool is initialized: under TCG that held the hello back by a second. Hash flooding is
     * no threat on this channel, so any non-zero seed will do.
     */
    json_object_seed((size_t)clock_now_ms() ^ (size_t)getpid() ^ 1);
    bring_up_loopback();
    logmsg("started, waiting for the port %s", AGENT_PORT_NAME);
    port = open_port();
    if (port < 0)
        return 1;
    hello.u.hello.version = AGENT_PROTO_VERSION;
    list_nics(&hello.u.hello);
    if (send_msg(port, &hello))
        return 1;
    logmsg("hello sent (%zu NICs)", hello.u.hello.n_nics);

    linebuf_init(&lb, AGENT_MAX_LINE);
    for (;;) {
        char err[ERRBUF_LEN], *line;
        struct agent_msg req;
        size_t len;
        long n = linebuf_read(&lb, port);
        int rc;

        if (n == 0) {
            /*
             * No host connected to the port (poll would report a hang-up at once, so it
             * cannot be waited for): look again a little later.
             */
            poll(NULL, 0, 200);
            continue;
        }
        if (n == -EAGAIN) {
            struct pollfd p = {.fd = port, .events = POLLIN};

            poll(&p, 1, -1);
            continue;
        }
        if (n < 0) {
            logmsg("cannot read the port: %s", strerror((int)-n));
            return 1;
        }
        while ((rc = linebuf_next(&lb, &line, &len)) != 0) {
            if (rc < 0) {
                send_error(port, -1, "message longer than %u bytes dropped", AGENT_MAX_LINE);
                continue;
            }
            if (agent_msg_decode(line, len, &req, err, sizeof(err))) {
                send_error(port, req.id, "%s", err);
                continue;
            }
            switch (req.type) {
            case AGENT_MSG_CONFIGURE_NIC:
                handle_configure(port, &req);
                break;
            case AGENT_MSG_RUN:
                handle_run(port, &req);
                break;
            case AGENT_MSG_POWEROFF: {
                struct agent_msg reply = {.type = AGENT_MSG_POWERING_OFF, .id = req.id};

                send_msg(port, &reply);
                logmsg("powering off");
                sync();
                reboot(RB_POWER_OFF);
                logmsg("poweroff failed: %s", strerror(errno));
                return 1;
            }
            default:
                send_error(port, req.id, "'%s' is not a request the agent serves",
                           agent_msg_type_name(req.type));
                break;
            }
            agent_msg_clear(&req);
        }
    }
}
