/* SPDX-License-Identifier: MIT */
/*
 * seccomp_sandbox - what a long-lived process of burette gives up once it is set up
 *
 * The steps every sandboxed process takes, written once: consomme (backends/consomme/sandbox.c)
 * and the namespace helper (helper/helper_sandbox.c) only bring their own allow-lists.
 *
 * - sandbox_lookup_user(): the unprivileged user a process started as root becomes (--runas
 *   of consomme, the helper's and QEMU's default "nobody"), looked up while the name service
 *   is still reachable.
 * - sandbox_drop_caps(): every capability dropped (effective, permitted, inheritable; with a
 *   user switch also the bounding set and supplementary groups), PR_SET_PDEATHSIG kept. Also
 *   what burette's fork of QEMU does before exec, so the switch is written once.
 * - sandbox_lock(): PR_SET_NO_NEW_PRIVS and a seccomp filter (libseccomp) whose default action
 *   kills the whole process with SIGSYS; the kernel then writes an audit record (type 1326)
 *   naming the syscall. Sanitizer builds add what the sanitizer runtime calls (reports, and
 *   LeakSanitizer's stop-the-world at exit), so sanitized tests run the same filter.
 * - The parent's side: sandbox_describe_kill() names the call from that audit record, for the
 *   error that says a process was killed by its filter.
 *
 * Invariant: a process never runs a single instruction of untrusted-input handling between its
 * set-up and sandbox_lock() returning 0; a failing step is an error the caller reports, never a
 * silently weaker sandbox.
 */
#ifndef BURETTE_SECCOMP_SANDBOX_H
#define BURETTE_SECCOMP_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <seccomp.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif

#define SANDBOX_DEFAULT_USER "nobody" /* whom a process started as root becomes */

/* An unprivileged user to become: its ids, and at most one supplementary group to keep. */
struct sandbox_user {
    uid_t uid;
    gid_t gid;
    gid_t extra_group; /* kept as the only supplementary group if has_extra_group */
    bool has_extra_group;
    char name[64];
};

/**
 * sandbox_lookup_user() - Look up @name, refusing a user that does not exist or is root
 * @name:	User name, or NULL for SANDBOX_DEFAULT_USER
 * @what:	What chose it, for the messages ("--runas", "--qemu-user")
 * @user:	Filled on success (no extra group)
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0, -ENOENT for an unknown user, -EPERM for root (uid 0)
 */
int sandbox_lookup_user(const char *name, const char *what, struct sandbox_user *user, char *err,
                        size_t errlen);

/* Rules a caller adds beyond its plain list (argument checks): 0 or a negative errno. */
typedef int sandbox_rules_fn(scmp_filter_ctx ctx);

/**
 * sandbox_allow_args() - Allow syscall @nr when its argument @arg is one of @values
 * @ctx:	The filter being built (in a sandbox_rules_fn)
 * @nr:		Syscall number, SCMP_SYS(name)
 * @arg:	Which argument, from 0
 * @values:	The values allowed
 * @n:		Their count
 *
 * Return: 0 or negative errno
 */
int sandbox_allow_args(scmp_filter_ctx ctx, int nr, unsigned arg, const scmp_datum_t *values,
                       size_t n);

/**
 * sandbox_drop_caps() - Drop every capability, and optionally become @user
 * @user:	User to become (supplementary groups but its extra group, and the bounding set
 *		cleared too), or NULL to keep the ids
 * @who:	Process name for the messages ("consomme")
 * @err:		Error buffer
 * @errlen:		Size of @err
 *
 * A credential change clears PR_SET_PDEATHSIG: it is set again afterwards, and if the parent
 * died meanwhile (its signal would have been lost) this fails with -ESRCH.
 *
 * Return: 0 or negative errno
 */
int sandbox_drop_caps(const struct sandbox_user *user, const char *who, char *err, size_t errlen);

/**
 * sandbox_lock() - PR_SET_NO_NEW_PRIVS and a seccomp allow-list (default: kill the process)
 * @allowed:	Syscalls allowed with any argument
 * @n:		Number of @allowed
 * @rules:	More rules (argument-checked syscalls), or NULL
 * @who:	Process name for the messages
 * @escape:	How a user gets going without the sandbox ("run with --no-sandbox"), or NULL
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * mmap and mprotect are always allowed, but never with PROT_EXEC (under a sanitizer, whose
 * runtime needs more, without that check).
 *
 * Return: 0 or negative errno
 */
int sandbox_lock(const int *allowed, size_t n, sandbox_rules_fn *rules, const char *who,
                 const char *escape, char *err, size_t errlen);

/**
 * sandbox_fault_injection() - Tests only: make a syscall no filter allows if @env is "1"
 * @env:	Name of the test-only environment variable
 *
 * Called right after sandbox_lock(), it proves that a forbidden call ends the process.
 */
void sandbox_fault_injection(const char *env);

/**
 * sandbox_describe_kill() - Name the syscall a seccomp filter killed @pid for
 * @pid:	The dead process (not yet reaped or just reaped: the record outlives it)
 * @buf:	"system call 135 (personality)", or a hint on how to find it
 * @len:	Size of @buf
 *
 * Reads the kernel's audit record from /dev/kmsg when the kernel log is readable (root, or
 * kernel.dmesg_restrict=0), waiting a little for a record the audit thread has not yet
 * written.
 */
void sandbox_describe_kill(pid_t pid, char *buf, size_t len);

#endif /* BURETTE_SECCOMP_SANDBOX_H */
