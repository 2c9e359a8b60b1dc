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
#include "nslink.h"
#include "userns.h"

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

int ns_enter_private(bool netns_only, char *err, size_t errlen)
{
    struct nl_sock *sk = NULL;
    int rc;

    if (!netns_only) {
        rc = userns_enter(CLONE_NEWNET, err, errlen);
    } else if (unshare(CLONE_NEWNET) < 0) {
        rc = errbuf_set(err, errlen, -errno, "cannot create a network namespace: %s",
                        strerror(errno));
    } else {
        rc = 0;
    }
    if (rc)
        goto out;

    sk = route_socket(err, errlen, &rc);
    if (!sk)
        goto out;
    rc = nslink_up(sk, "lo", 0, NULL, err, errlen);
out:
    if (rc)
        errbuf_prefix(err, errlen, "namespace");
    nl_socket_free(sk);
    return rc;
}

int ns_create_tap(const char *tun_path, const char *name, const char *cidr, unsigned mtu, int *fd,
                  char *err, size_t errlen)
{
    struct nl_addr *local = NULL;
    struct rtnl_addr *addr = NULL;
    struct nl_sock *sk = NULL;
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

    tfd = userns_open_tap(tun_path, name, IFF_NO_PI | IFF_VNET_HDR, err, errlen);
    if (tfd < 0) {
        rc = tfd;
        goto out;
    }

    sk = route_socket(err, errlen, &rc);
    if (!sk)
        goto out;
    rc = nslink_up(sk, name, mtu, &ifindex, err, errlen);
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
