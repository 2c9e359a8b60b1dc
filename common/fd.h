/* SPDX-License-Identifier: MIT */
/*
 * fd - closing a descriptor that may already be closed
 *
 * Objects that own descriptors mark a closed one -1, so that release runs once whatever was
 * opened; fd_close() is that step, and may be called again on the same descriptor.
 */
#ifndef BURETTE_FD_H
#define BURETTE_FD_H

#include <unistd.h>

/* Close *@fd if it is open (>= 0), and mark it closed. */
static inline void fd_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

#endif /* BURETTE_FD_H */
