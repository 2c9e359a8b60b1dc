/* SPDX-License-Identifier: MIT */
/*
 * userns - entering a private user namespace (with other namespaces) as an ordinary user, and
 * opening a TAP device there, with errors that say which sysctl or device mode is in the way.
 *
 * Shared by the namespace helper and `consomme run`. Invariant: the calling process must be
 * single-threaded (unshare(CLONE_NEWUSER) refuses otherwise); these functions never print or
 * exit, they fill the caller's error buffer and return negative errno.
 */
#ifndef BURETTE_USERNS_H
#define BURETTE_USERNS_H

#include <stdbool.h>
#include <stddef.h>

/* Capabilities missing inside a user namespace we own: a security module took them away. */
#define USERNS_NO_CAPS_HINT                                                                        \
    " (the new user namespace has no capabilities: a security policy restricts it, e.g. on "       \
    "Ubuntu 'sysctl kernel.apparmor_restrict_unprivileged_userns' is 1; as root set it to 0 or "   \
    "run burette as root)"

/**
 * userns_enter() - move the calling process into a new user namespace, mapped to root there
 * @flags: further CLONE_NEW* flags to unshare along (e.g. CLONE_NEWNET)
 * @err: error buffer
 * @errlen: size of @err
 *
 * Our effective uid and gid become 0 inside (like `unshare -r`); setgroups is denied, as the
 * kernel requires before an unprivileged gid_map.
 *
 * Return: 0, or negative errno with @err naming the cause and, for a refused unshare, the
 * sysctl to change.
 */
int userns_enter(int flags, char *err, size_t errlen);

/**
 * userns_initial() - Whether the caller is in the initial user namespace (every id mapped to
 * itself), where root is the machine's root and not one mapped from some other user
 */
bool userns_initial(void);

/**
 * userns_open_tap() - open a TAP device named @name on the TUN/TAP node @tun_path
 * @tun_path: the TUN/TAP device node, normally /dev/net/tun
 * @name: the interface name (shorter than IFNAMSIZ)
 * @flags: IFF_* flags besides IFF_TAP (e.g. IFF_NO_PI, IFF_VNET_HDR)
 * @err: error buffer
 * @errlen: size of @err
 *
 * Return: the TAP fd (close-on-exec), or negative errno with @err saying what to do (load the
 * module, create the node, fix its mode).
 */
int userns_open_tap(const char *tun_path, const char *name, int flags, char *err, size_t errlen);

#endif
