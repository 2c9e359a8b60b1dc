/* SPDX-License-Identifier: MIT */
/*
 * nslink - links of our own network namespace brought up through libnl-route-3; see nslink.h.
 */
#include "nslink.h"

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "errbuf.h"
#include "userns.h"

int nslink_up(struct nl_sock *sk, const char *name, unsigned mtu, int *ifindex, char *err,
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
                        perm ? USERNS_NO_CAPS_HINT : "");
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
