/* SPDX-License-Identifier: MIT */
/*
 * child - fork a child of the helper's side that dies with its parent, and the write of its report
 *
 * Both the harness starting the helper and the helper starting an iperf3 job fork a child
 * that must not outlive the process that forked it. Invariant: the child has
 * PR_SET_PDEATHSIG(SIGKILL) set before it does anything, and exits at once if its parent is
 * already gone (the death signal is only armed for a parent that exits later).
 */
#ifndef BURETTE_HELPER_CHILD_H
#define BURETTE_HELPER_CHILD_H

#include <stddef.h>
#include <sys/types.h>

/**
 * child_fork() - fork(), the child armed to die with the caller
 *
 * stdio buffers are flushed first, so nothing buffered is written twice.
 *
 * Return: as fork(): the child's pid in the parent, 0 in the child, -1 with errno on failure
 */
pid_t child_fork(void);

/**
 * child_write_all() - write all of @buf to @fd, retrying on short writes and EINTR
 * @fd:  where the child reports (a pipe its parent reads)
 * @buf: the bytes
 * @len: how many
 *
 * A job child's only way to report: on an error it stops quietly, and the parent then sees a
 * report that is cut short or missing and says so.
 */
void child_write_all(int fd, const char *buf, size_t len);

#endif
