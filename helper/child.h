/* SPDX-License-Identifier: MIT */
/*
 * child - fork a child of the helper's side that dies with its parent
 *
 * Both the harness starting the helper and the helper starting an iperf3 job fork a child
 * that must not outlive the process that forked it. Invariant: the child has
 * PR_SET_PDEATHSIG(SIGKILL) set before it does anything, and exits at once if its parent is
 * already gone (the death signal is only armed for a parent that exits later).
 */
#ifndef BURETTE_HELPER_CHILD_H
#define BURETTE_HELPER_CHILD_H

#include <sys/types.h>

/**
 * child_fork() - fork(), the child armed to die with the caller
 *
 * stdio buffers are flushed first, so nothing buffered is written twice.
 *
 * Return: as fork(): the child's pid in the parent, 0 in the child, -1 with errno on failure
 */
pid_t child_fork(void);

#endif
