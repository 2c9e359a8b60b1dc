/* SPDX-License-Identifier: MIT */
/*
 * nslink - bringing a link up (with an MTU) in a namespace we own, through libnl-route-3
 *
 * Shared by the namespace helper and `consomme run`, which both configure their own private
 * network namespace. Invariant: never prints; errors go to the caller's buffer and name the
 * link, with a hint when the namespace lacks the capabilities a security policy took away.
 */
#ifndef BURETTE_NSLINK_H
#define BURETTE_NSLINK_H

#include <stddef.h>

struct nl_sock;

/**
 * nslink_up() - Set IFF_UP (and the MTU if non-zero) on the link named @name
 * @sk:		Connected NETLINK_ROUTE socket
 * @name:	The link's name
 * @mtu:	MTU to set, 0 to leave it
 * @ifindex:	Set to the link's index if not NULL
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * rtnl_link_change() sends only the attributes set in the change object, so nothing else
 * about the link is touched.
 *
 * Return: 0, or negative errno (-ENODEV no such link, -EPERM no capability, -EIO, -ENOMEM)
 */
int nslink_up(struct nl_sock *sk, const char *name, unsigned mtu, int *ifindex, char *err,
              size_t errlen);

#endif
