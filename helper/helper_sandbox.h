/* SPDX-License-Identifier: MIT */
/*
 * helper_sandbox - what the namespace helper gives up once its namespace is set up
 *
 * The helper needs privilege only for setup_tap (a user+network namespace, links, an address
 * and the TAP device). From its first request on that is not setup_tap, or right after
 * setup_tap, it keeps none: every capability dropped, PR_SET_NO_NEW_PRIVS, and a seccomp
 * allow-list (default: kill the process with SIGSYS) of what the request loop and the children
 * it forks (libiperf servers and clients, the echo server) call. The filter is inherited by
 * those children, so the list is the union of the three; what each needs is noted beside it.
 * Started by the machine's root (uid 0 in the initial user namespace), the helper also becomes
 * an unprivileged user first (SANDBOX_DEFAULT_USER, "nobody": supplementary groups dropped,
 * setresgid/setresuid), with its parent-death signal armed again after the credential change
 * and its parent checked once more; for setup_tap it then takes a network namespace only, so
 * that nobody stays a valid user in it. Any other user keeps its uid, root of a container's
 * user namespace included (some unprivileged user of the machine already); in the user
 * namespace of setup_tap that uid maps to the harness's own user.
 * After the switch the helper is made dumpable again, as the job children it forks must be
 * for it to read their /proc/PID/fd (is a server listening?), and a TMPDIR the new user cannot
 * write is replaced by /tmp for libiperf's buffer file (unlinked as soon as it is made).
 */
#ifndef BURETTE_HELPER_SANDBOX_H
#define BURETTE_HELPER_SANDBOX_H

#include <stddef.h>

#include "seccomp_sandbox.h"

/* The fault-injection variable the tests use to make the sandboxed helper call a syscall its
 * filter forbids, right after the filter is loaded. Not a user setting. */
#define HELPER_SANDBOX_FAULT_ENV "BURETTE_TEST_HELPER_FORBIDDEN_SYSCALL"

/**
 * helper_sandbox_user() - Whom the helper becomes, decided as it starts (before any namespace)
 * @user:	Filled when the helper is the machine's root
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 1 when the helper is root and will become @user, 0 when it keeps its user, negative
 * errno when it is root and the user cannot be looked up
 */
int helper_sandbox_user(struct sandbox_user *user, char *err, size_t errlen);

/**
 * helper_sandbox_lock() - Drop every capability (and root), set no_new_privs, load the list
 * @user:	From helper_sandbox_user(), or NULL to keep the user id
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0 or negative errno (the helper then refuses every request with the message)
 */
int helper_sandbox_lock(const struct sandbox_user *user, char *err, size_t errlen);

#endif /* BURETTE_HELPER_SANDBOX_H */
