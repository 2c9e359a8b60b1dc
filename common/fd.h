/* SPDX-License-Identifier: MIT */
/*
 * fd - closing a descriptor that may already be closed, and connecting to a socket path
 *
 * Objects that own descriptors mark a closed one -1, so that release runs once whatever was
 * opened; fd_close() is that step, and may be called again on the same descriptor.
 * fd_connect_unix() is how burette reaches a back-end's socket for QEMU, which then gets the
 * connected descriptor instead of a path in a directory it may not enter. fd_attach_rights() is
 * the one way descriptors are put on a message (SCM_RIGHTS) here, for every sender of them.
 */
#ifndef BURETTE_FD_H
#define BURETTE_FD_H

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Close *@fd if it is open (>= 0), and mark it closed. */
static inline void fd_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* A stream socket connected to @path (close-on-exec), or negative errno (-ENAMETOOLONG for a
 * path sockaddr_un cannot hold). */
static inline int fd_connect_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    int fd, e;

    if (len >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, len + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/* Room for @n descriptors' SCM_RIGHTS message: size a union with struct cmsghdr by it. */
#define FD_RIGHTS_SPACE(n) CMSG_SPACE((n) * sizeof(int))

/* Put @fds (@nfds of them) on @mh as one SCM_RIGHTS message built in @cbuf, which holds at least
 * FD_RIGHTS_SPACE(@nfds) bytes aligned for a struct cmsghdr; with none, @mh carries no control
 * data. */
static inline void fd_attach_rights(struct msghdr *mh, void *cbuf, const int *fds, size_t nfds)
{
    struct cmsghdr *c;

    mh->msg_control = NULL;
    mh->msg_controllen = 0;
    if (!nfds)
        return;
    memset(cbuf, 0, FD_RIGHTS_SPACE(nfds));
    mh->msg_control = cbuf;
    mh->msg_controllen = FD_RIGHTS_SPACE(nfds);
    c = CMSG_FIRSTHDR(mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
}

#endif /* BURETTE_FD_H */
