/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h - what consomme gives up once it is set up: root, capabilities, most syscalls
 *
 * Two steps: cm_sandbox_drop_user() (capabilities, and a switch to an unprivileged user when
 * started as root) and cm_sandbox_lock() (no_new_privs and the seccomp allow-list), both done
 * from the loop once the guest is connected (cm_sandbox_arm()). Everything consomme opens by
 * path (listening sockets, the --stats file, /etc/resolv.conf) is open before; afterwards it
 * only uses descriptors it already holds and sockets it creates. `consomme run` started as root
 * keeps uid 0 (without any capability): CMD runs as root, since only root may open a TUN device
 * of mode 0600, and consomme must still be allowed to forward signals to it.
 */
#ifndef CONSOMME_SANDBOX_H
#define CONSOMME_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "seccomp_sandbox.h"

#define CM_SANDBOX_DEFAULT_USER SANDBOX_DEFAULT_USER

/* The fault-injection variable the tests use to make a sandboxed consomme call a syscall its
 * filter forbids, right after the filter is loaded. Not a user setting. */
#define CM_SANDBOX_FAULT_ENV "CONSOMME_TEST_FORBIDDEN_SYSCALL"

struct cm_sandbox {
    bool off;                 /* --no-sandbox */
    const char *runas;        /* --runas USER, or NULL: CM_SANDBOX_DEFAULT_USER when root */
    bool keep_user;           /* `consomme run`: no user switch (CMD, root, must stay signalable) */
    struct sandbox_user user; /* resolved by cm_sandbox_resolve() */
    bool switch_user;         /* started as root: become uid:gid */
    bool dropped;             /* cm_sandbox_drop_user() done */
};

/**
 * cm_sandbox_resolve() - Look the user up while the name service is still reachable
 * @sb:		Settings; uid, gid and switch_user are filled
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0, -ENOENT for an unknown user, -EPERM for --runas naming another user when not root
 */
int cm_sandbox_resolve(struct cm_sandbox *sb, char *err, size_t errlen);

struct consomme;

/**
 * cm_sandbox_arm() - Open what the sandboxed loop writes, and have the loop lock the sandbox
 * once the guest is connected
 * @sb:		Resolved settings; must outlive the loop
 * @c:		Stack with its transport set up (or about to be, for `run`)
 * @at_start:	Lock as the loop starts (--fd, `run`); else when QEMU's connection is accepted
 *		(--socket, --vhost-user: the socket path is removed first, as root)
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0, or negative errno when the --stats file cannot be created
 */
int cm_sandbox_arm(struct cm_sandbox *sb, struct consomme *c, bool at_start, char *err,
                   size_t errlen);

/**
 * cm_sandbox_drop_user() - Drop every capability and, as root, become the --runas user
 * @sb:		Resolved settings
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * A credential change clears PR_SET_PDEATHSIG: it is set again afterwards, and if the parent
 * died meanwhile (its signal would have been lost) this fails with -ESRCH.
 *
 * Return: 0 or negative errno
 */
int cm_sandbox_drop_user(struct cm_sandbox *sb, char *err, size_t errlen);

/**
 * cm_sandbox_lock() - PR_SET_NO_NEW_PRIVS and the seccomp allow-list (default: kill)
 * @sb:		Settings (cm_sandbox_drop_user() is done first if it was not)
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0 or negative errno
 */
int cm_sandbox_lock(struct cm_sandbox *sb, char *err, size_t errlen);

#endif /* CONSOMME_SANDBOX_H */
