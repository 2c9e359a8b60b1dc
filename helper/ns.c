/* SPDX-License-Identifier: MIT */
/*
 * ns - private user+network namespace and TAP device of the helper; see ns.h.
 *
 * Links and addresses are configured through libnl-route-3 (rtnetlink), never by running `ip`.
 * Each error names the failing step and, where a user can act, what to do about it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "errbuf.h"
#include "ns.h"

/* Capabilities missing inside a namespace we own: a security module took them away. */
#define NO_CAPS_HINT                                                                               \
    " (the new user namespace has no capabilities: a security policy restricts it, e.g. on "       \
    "Ubuntu 'sysctl kernel.apparmor_restrict_unprivileged_userns' is 1; as root set it to 0 or "   \
    "run burette as root)"

/* Write @text to the procfs file @path in one write(), as the kernel requires for id maps. */
static int write_proc(const char *path, const char *text, char *err, size_t errlen)
{
    size_t len = strlen(text);
    int fd, rc = 0;
    ssize_t n;

    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errbuf_set(err, errlen, -errno, "cannot open %s: %s", path, strerror(errno));
    n = write(fd, text, len);
    if (n < 0)
        rc = errbuf_set(err, errlen, -errno, "cannot write %s: %s", path, strerror(errno));
    else if ((size_t)n != len)
        rc = errbuf_set(err, errlen, -EIO, "short write to %s", path);
    close(fd);
    return rc;
}

/* Read a small integer sysctl for a message; -1 if it cannot be read. */
static long read_sysctl(const char *path)
{
    long v = -1;
    FILE *f = fopen(path, "re");

    if (!f)
        return -1;
    if (fscanf(f, "%ld", &v) != 1)
        v = -1;
    fclose(f);
    return v;
}

static int unshare_error(int e, char *err, size_t errlen)
{
    long max_ns = read_sysctl("/proc/sys/user/max_user_namespaces");
    long clone = read_sysctl("/proc/sys/kernel/unprivileged_userns_clone");

    if (e == ENOSPC || e == EUSERS)
        return errbuf_set(err, errlen, -e,
                          "cannot create a user namespace: %s (the limit of user namespaces is "
                          "reached: user.max_user_namespaces is %ld; as root, raise it with "
                          "'sysctl -w user.max_user_namespaces=10000')",
                          strerror(e), max_ns);
    if (e == EPERM || e == EACCES) {
        if (clone == 0)
            return errbuf_set(err, errlen, -e,
                              "cannot create a user namespace: %s (unprivileged user namespaces "
                              "are disabled: kernel.unprivileged_userns_clone is 0; as root, "
                              "run 'sysctl -w kernel.unprivileged_userns_clone=1')",
                              strerror(e));
        return errbuf_set(err, errlen, -e,
                          "cannot create a user namespace: %s (user namespaces are disabled or "
                          "forbidden here: check that 'sysctl kernel.unprivileged_userns_clone' "
                          "is 1 where it exists and 'sysctl user.max_user_namespaces' (now %ld) "
                          "is above 0, and that no container or security policy forbids "
                          "unshare(CLONE_NEWUSER))",
                          strerror(e), max_ns);
    }
    if (e == EINVAL)
        return errbuf_set(err, errlen, -e,
                          "cannot create a user namespace: %s (the helper must be "
                          "single-threaded: fork it before any thread is started)",
                          strerror(e));
    return errbuf_set(err, errlen, -e, "cannot create a user+network namespace: %s", strerror(e));
}

/*
 * Set @flags (and @mtu if non-zero) on the link named @name. rtnl_link_change() sends only the
 * attributes set in the change object, so nothing else about the link is touched.
 */
static int link_up(struct nl_sock *sk, const char *name, unsigned mtu, int *ifindex, char *err,
                   size_t errlen)
{
    struct rtnl_link *link = NULL, *change = NULL;
    int rc;

    rc = rtnl_link_get_kernel(sk, 0, name, &link);
    if (rc < 0) {
        rc = errbuf_set(err, errlen, -ENODEV, "cannot find link %s: %s", name, nl_geterror(rc));
        goto out;
    }
    change = rtnl_link_alloc();
    if (!change) {
        rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
        goto out;
    }
    rtnl_link_set_flags(change, IFF_UP);
    if (mtu)
        rtnl_link_set_mtu(change, mtu);
    rc = rtnl_link_change(sk, link, change, 0);
    if (rc < 0) {
        bool perm = rc == -NLE_PERM;

        rc = errbuf_set(err, errlen, perm ? -EPERM : -EIO, "cannot bring %s up%s: %s%s", name,
                        mtu ? " with the requested MTU" : "", nl_geterror(rc),
                        perm ? NO_CAPS_HINT : "");
        goto out;
    }
    if (ifindex)
        *ifindex = rtnl_link_get_ifindex(link);
    rc = 0;
out:
    rtnl_link_put(change);
    rtnl_link_put(link);
    return rc;
}

static struct nl_sock *route_socket(char *err, size_t errlen, int *rc)
{
    struct nl_sock *sk = nl_socket_alloc();
    int r;

    if (!sk) {
        *rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
        return NULL;
    }
    r = nl_connect(sk, NETLINK_ROUTE);
    if (r < 0) {
        *rc = errbuf_set(err, errlen, -EIO, "cannot open an rtnetlink socket: %s", nl_geterror(r));
        nl_socket_free(sk);
        return NULL;
    }
    *rc = 0;
    return sk;
}

int ns_enter_private(char *err, size_t errlen)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    struct nl_sock *sk = NULL;
    char map[64];
    int rc;

    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
        return unshare_error(errno, err, errlen);

    snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
    rc = write_proc("/proc/self/uid_map", map, err, errlen);
    if (rc)
        goto out;
    rc = write_proc("/proc/self/setgroups", "deny", err, errlen);
    if (rc && rc != -ENOENT)
        goto out;
    snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
    rc = write_proc("/proc/self/gid_map", map, err, errlen);
    if (rc)
        goto out;

    sk = route_socket(err, errlen, &rc);
    if (!sk)
        goto out;
    rc = link_up(sk, "lo", 0, NULL, err, errlen);
out:
    if (rc)
        errbuf_prefix(err, errlen, "namespace");
    nl_socket_free(sk);
    return rc;
}

static int tun_open_error(const char *path, int e, char *err, size_t errlen)
{
    struct stat st;

    if (e == ENOENT || e == ENODEV || e == ENXIO)
        return errbuf_set(err, errlen, -e,
                          "cannot open %s: %s (the TUN/TAP device is missing: as root, load the "
                          "module with 'modprobe tun', or create the node with "
                          "'mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && "
                          "chmod 0666 /dev/net/tun')",
                          path, strerror(e));
    if (e == EACCES || e == EPERM) {
        if (stat(path, &st) == 0)
            return errbuf_set(err, errlen, -e,
                              "cannot open %s: %s (it is mode %04o, so only its owner may open "
                              "it, and a user namespace does not change that; as root run "
                              "'chmod 0666 %s', as most distributions ship it, or run burette "
                              "as root)",
                              path, strerror(e), (unsigned)(st.st_mode & 07777), path);
        return errbuf_set(err, errlen, -e,
                          "cannot open %s: %s (the device must be readable and writable by "
                          "you; as root run 'chmod 0666 %s')",
                          path, strerror(e), path);
    }
    return errbuf_set(err, errlen, -e, "cannot open %s: %s", path, strerror(e));
}

int ns_create_tap(const char *tun_path, const char *name, const char *cidr, unsigned mtu, int *fd,
                  char *err, size_t errlen)
{
    struct nl_addr *local = NULL;
    struct rtnl_addr *addr = NULL;
    struct nl_sock *sk = NULL;
    struct ifreq ifr;
    int tfd = -1, ifindex = 0, rc;

    *fd = -1;
    if (!name || !*name || strlen(name) >= IFNAMSIZ) {
        rc = errbuf_set(err, errlen, -EINVAL, "bad interface name '%s' (1 to %d characters)",
                        name ? name : "", IFNAMSIZ - 1);
        goto out;
    }
    if (mtu < 68 || mtu > 65535) {
        rc = errbuf_set(err, errlen, -EINVAL, "bad MTU %u (68 to 65535)", mtu);
        goto out;
    }
    rc = nl_addr_parse(cidr ? cidr : "", AF_INET, &local);
    if (rc < 0 || nl_addr_get_family(local) != AF_INET || !strchr(cidr, '/')) {
        rc = errbuf_set(err, errlen, -EINVAL,
                        "bad address '%s' (expected IPv4 address/prefix, e.g. 192.168.100.1/24)",
                        cidr ? cidr : "");
        goto out;
    }

    tfd = open(tun_path, O_RDWR | O_CLOEXEC);
    if (tfd < 0) {
        rc = tun_open_error(tun_path, errno, err, errlen);
        goto out;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(tfd, TUNSETIFF, &ifr) < 0) {
        int e = errno;

        rc = errbuf_set(err, errlen, -e, "cannot create TAP device %s: %s%s", name, strerror(e),
                        e == EPERM   ? NO_CAPS_HINT
                        : e == EBUSY ? " (the name is already in use)"
                                     : "");
        goto out;
    }

    sk = route_socket(err, errlen, &rc);
    if (!sk)
        goto out;
    rc = link_up(sk, name, mtu, &ifindex, err, errlen);
    if (rc)
        goto out;
    addr = rtnl_addr_alloc();
    if (!addr) {
        rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
        goto out;
    }
    rtnl_addr_set_ifindex(addr, ifindex);
    rc = rtnl_addr_set_local(addr, local);
    if (rc >= 0)
        rc = rtnl_addr_add(sk, addr, 0);
    if (rc < 0) {
        rc = errbuf_set(err, errlen, -EIO, "cannot add address %s to %s: %s", cidr, name,
                        nl_geterror(rc));
        goto out;
    }
    *fd = tfd;
    tfd = -1;
    rc = 0;
out:
    if (rc)
        errbuf_prefix(err, errlen, "creating %s", name ? name : "the TAP device");
    if (tfd >= 0)
        close(tfd);
    rtnl_addr_put(addr);
    nl_addr_put(local);
    nl_socket_free(sk);
    return rc;
}
