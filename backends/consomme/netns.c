/* SPDX-License-Identifier: MIT */
/*
 * netns.c - `consomme run`: CMD in a fresh user and network namespace, its eth0 served by us
 *
 * A child is forked; it alone enters a new user+network namespace (mapping our uid and gid to
 * root there, so CMD may configure its own network), creates eth0 as a TAP device, configures
 * it with libnl-route (address, MTU, default route via the gateway, lo up) and hands the TAP fd
 * back over a socketpair with SCM_RIGHTS; a private mount namespace gives CMD an
 * /etc/resolv.conf naming the DNS address. Then it execs CMD. consomme never leaves its own
 * namespace, so every host socket it opens is on the host: 10.0.2.2 really is the host's
 * 127.0.0.1, not the sandbox's.
 *
 * Lifetimes: the child has PR_SET_PDEATHSIG(SIGKILL), so CMD dies with consomme; consomme's
 * loop ends when CMD exits and returns its status. The TAP device disappears with the last fd
 * (ours), and the namespaces with their last process. The setup socket is close-on-exec: after
 * the fd message, EOF means exec succeeded and a second message carries exec's error.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "fd.h"
#include "core.h"
#include "errbuf.h"
#include "nslink.h"
#include "userns.h"

#define TAP_NAME "eth0"

struct setup_msg {
    int32_t rc; /* 0: the TAP fd is attached; else negative errno and msg */
    char msg[ERRBUF_LEN];
};

static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;
    size_t len = strlen(text);

    if (fd < 0)
        return errbuf_set(err, errlen, -errno, "cannot open %s: %s", path, strerror(errno));
    if (write(fd, text, len) != (ssize_t)len)
        rc = errbuf_set(err, errlen, -errno, "cannot write %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

static int open_tap(char *err, size_t errlen)
{
    return userns_open_tap("/dev/net/tun", TAP_NAME, IFF_NO_PI, err, errlen);
}

static int nl_err(char *err, size_t errlen, int nlrc, const char *what)
{
    return errbuf_set(err, errlen, -EIO, "netlink: cannot %s: %s", what, nl_geterror(nlrc));
}

static struct nl_addr *addr4(uint32_t a, int prefix)
{
    uint32_t be = htonl(a);
    struct nl_addr *n = nl_addr_build(AF_INET, &be, 4);

    if (n)
        nl_addr_set_prefixlen(n, prefix);
    return n;
}

static int configure(const struct cm_config *cfg, char *err, size_t errlen)
{
    struct nl_sock *sk = nl_socket_alloc();
    struct rtnl_addr *addr = NULL;
    struct rtnl_route *route = NULL;
    struct rtnl_nexthop *nh = NULL;
    struct nl_addr *local = NULL, *bcast = NULL, *dst = NULL, *gw = NULL;
    int ifindex = 0, rc, prefix = __builtin_popcount(cfg->netmask);

    if (!sk)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    rc = nl_connect(sk, NETLINK_ROUTE);
    if (rc < 0) {
        rc = nl_err(err, errlen, rc, "connect");
        goto out;
    }
    rc = nslink_up(sk, "lo", 0, NULL, err, errlen);
    if (rc)
        goto out;
    /* consomme serves IPv4 only: without this, router solicitations and DAD probes from the
     * namespace's IPv6 stack are just noise in the drop counters. Best effort. */
    write_file("/proc/sys/net/ipv6/conf/" TAP_NAME "/disable_ipv6", "1", NULL, 0);
    rc = nslink_up(sk, TAP_NAME, cfg->mtu, &ifindex, err, errlen);
    if (rc)
        goto out;

    addr = rtnl_addr_alloc();
    local = addr4(cfg->guest_ip, prefix);
    bcast = addr4((cfg->guest_ip & cfg->netmask) | ~cfg->netmask, 32);
    route = rtnl_route_alloc();
    nh = rtnl_route_nh_alloc();
    dst = addr4(0, 0);
    gw = addr4(cfg->gw_ip, 32);
    if (!addr || !local || !bcast || !route || !nh || !dst || !gw) {
        rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
        goto out;
    }
    rtnl_addr_set_ifindex(addr, ifindex);
    rtnl_addr_set_local(addr, local);
    rtnl_addr_set_broadcast(addr, bcast);
    rc = rtnl_addr_add(sk, addr, 0);
    if (rc < 0) {
        rc = nl_err(err, errlen, rc, "add the address to " TAP_NAME);
        goto out;
    }

    rtnl_route_set_family(route, AF_INET);
    rtnl_route_set_dst(route, dst);
    rtnl_route_nh_set_ifindex(nh, ifindex);
    rtnl_route_nh_set_gateway(nh, gw);
    rtnl_route_add_nexthop(route, nh);
    nh = NULL; /* owned by the route now */
    rc = rtnl_route_add(sk, route, NLM_F_CREATE);
    if (rc < 0) {
        rc = nl_err(err, errlen, rc, "add the default route");
        goto out;
    }
    rc = 0;
out:
    if (nh)
        rtnl_route_nh_free(nh);
    rtnl_route_put(route);
    rtnl_addr_put(addr);
    nl_addr_put(local);
    nl_addr_put(bcast);
    nl_addr_put(dst);
    nl_addr_put(gw);
    nl_socket_free(sk);
    return rc;
}

/*
 * CMD's /etc/resolv.conf names the DNS address, as a DHCP guest's would: a private mount
 * namespace gets a file of our own bound over it. Best effort: without it CMD keeps the host's
 * file, whose servers may well be unreachable from the sandbox.
 */
static void set_resolv_conf(const struct cm_config *cfg)
{
    char path[] = "/tmp/consomme-resolv-XXXXXX", text[64];
    int fd, len;

    if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
        return;
    fd = mkstemp(path);
    if (fd < 0)
        return;
    len = snprintf(text, sizeof(text), "nameserver %u.%u.%u.%u\n", cfg->dns_ip >> 24,
                   (cfg->dns_ip >> 16) & 0xff, (cfg->dns_ip >> 8) & 0xff, cfg->dns_ip & 0xff);
    if (write(fd, text, (size_t)len) == len)
        fchmod(fd, 0644);
    close(fd);
    mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL);
    unlink(path); /* the bind mount keeps the file alive */
}

static void send_msg(int sock, const struct setup_msg *m, int fd)
{
    union {
        char buf[FD_RIGHTS_SPACE(1)];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov = {(void *)m, offsetof(struct setup_msg, msg) + strlen(m->msg) + 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

    fd_attach_rights(&mh, cbuf.buf, &fd, fd >= 0);
    while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

/* The child: never returns. */
static void child_main(const struct cm_config *cfg, char *const argv[], int sock, pid_t parent)
{
    struct setup_msg m = {0};
    sigset_t none;
    int fd, rc;

    /* CMD must not outlive consomme; the parent may already be gone by the time this runs. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    rc = userns_enter(CLONE_NEWNET, m.msg, sizeof(m.msg));
    if (rc)
        goto fail;
    fd = open_tap(m.msg, sizeof(m.msg));
    if (fd < 0) {
        rc = fd;
        goto fail;
    }
    rc = configure(cfg, m.msg, sizeof(m.msg));
    if (rc) {
        close(fd);
        goto fail;
    }
    set_resolv_conf(cfg);
    send_msg(sock, &m, fd);
    close(fd);

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    /* Credentials changed with the namespace; make sure the death signal still holds. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    execvp(argv[0], argv);
    rc = -errno;
    errbuf_set(m.msg, sizeof(m.msg), rc, "cannot run '%s': %s", argv[0], strerror(errno));
    m.rc = rc;
    send_msg(sock, &m, -1);
    _exit(127);
fail:
    m.rc = rc;
    send_msg(sock, &m, -1);
    _exit(1);
}

static int recv_msg(int sock, struct setup_msg *m, int *fd)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {m, sizeof(*m)};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    ssize_t n;

    *fd = -1;
    memset(m, 0, sizeof(*m));
    do {
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
            memcpy(fd, CMSG_DATA(cm), sizeof(int));
    m->msg[sizeof(m->msg) - 1] = '\0';
    return (int)n;
}

/**
 * cm_netns_spawn() - Start CMD in a new user+network namespace with a configured eth0
 * @cfg:	Addresses and MTU for eth0
 * @argv:	CMD and its arguments, NULL-terminated
 * @out:	CMD's pid and the TAP fd (close-on-exec), filled on success
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Call with SIGCHLD blocked (cm_signals_block()), so the loop cannot miss CMD's exit.
 *
 * Return: 0, or negative errno after the child has been reaped
 */
int cm_netns_spawn(const struct cm_config *cfg, char *const argv[], struct cm_netns_child *out,
                   char *err, size_t errlen)
{
    struct setup_msg m;
    pid_t parent = getpid(), pid;
    int sv[2], fd = -1, extra = -1, rc;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
        return errbuf_set(err, errlen, -errno, "socketpair: %s", strerror(errno));
    pid = fork();
    if (pid < 0) {
        rc = errbuf_set(err, errlen, -errno, "fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return rc;
    }
    if (pid == 0) {
        close(sv[0]);
        child_main(cfg, argv, sv[1], parent);
    }
    close(sv[1]);

    if (!recv_msg(sv[0], &m, &fd)) {
        rc = errbuf_set(err, errlen, -ECHILD, "the namespace setup process died unexpectedly");
        goto fail;
    }
    if (m.rc || fd < 0) {
        rc = errbuf_set(err, errlen, m.rc ? m.rc : -EPROTO, "%s",
                        m.msg[0] ? m.msg : "no TAP fd received");
        goto fail;
    }
    /* EOF: exec succeeded and closed the child's end; a message: exec failed. */
    if (recv_msg(sv[0], &m, &extra)) {
        if (extra >= 0)
            close(extra);
        rc = errbuf_set(err, errlen, m.rc ? m.rc : -EPROTO, "%s", m.msg);
        goto fail;
    }
    close(sv[0]);
    out->pid = pid;
    out->tap_fd = fd;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    close(sv[0]);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return rc;
}
