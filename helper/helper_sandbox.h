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
 * The helper keeps its user id: in its own user namespace that id maps to the harness's own
 * user, and outside one the harness and the helper are the same user anyway.
 */
#ifndef BURETTE_HELPER_SANDBOX_H
#define BURETTE_HELPER_SANDBOX_H

#include <stddef.h>

/* The fault-injection variable the tests use to make the sandboxed helper call a syscall its
 * filter forbids, right after the filter is loaded. Not a user setting. */
#define HELPER_SANDBOX_FAULT_ENV "BURETTE_TEST_HELPER_FORBIDDEN_SYSCALL"

/**
 * helper_sandbox_lock() - Drop every capability, set no_new_privs, load the allow-list
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0 or negative errno (the helper then refuses every request with the message)
 */
int helper_sandbox_lock(char *err, size_t errlen);

#endif /* BURETTE_HELPER_SANDBOX_H */
