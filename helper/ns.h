/* SPDX-License-Identifier: MIT */
/*
 * ns - the helper's private user+network namespace and the TAP device inside it
 *
 * Runs inside the helper process only. The namespace is created once, by the single-threaded
 * helper, and never left; the host's own network is never touched. Every failure a user can
 * meet (user namespaces disabled, /dev/net/tun missing or not openable) comes back as a message
 * that names the cause and the fix.
 */
#ifndef BURETTE_NS_H
#define BURETTE_NS_H

#include <stdbool.h>
#include <stddef.h>

/**
 * ns_enter_private() - Move the calling process into a new user and network namespace
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Maps the caller's uid and gid to root inside (setgroups denied, as the kernel demands of an
 * unprivileged mapping) and brings the namespace's loopback up. The caller must be
 * single-threaded.
 *
 * Return: 0 on success, negative errno with a message naming the sysctl or cause otherwise
 */
int ns_enter_private(bool netns_only, char *err, size_t errlen);

/**
 * ns_create_tap() - Create and configure a TAP device in the current network namespace
 * @tun_path:	Clone device to open, normally "/dev/net/tun"
 * @name:	Interface name, e.g. "tap0"
 * @cidr:	Address and prefix for the interface, e.g. "192.168.100.1/24"
 * @mtu:	Interface MTU (68..65535)
 * @fd:		The TAP's file descriptor (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) on success
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 on success, negative errno with a message otherwise (no fd is left open)
 */
int ns_create_tap(const char *tun_path, const char *name, const char *cidr, unsigned mtu, int *fd,
                  char *err, size_t errlen);

#endif /* BURETTE_NS_H */
