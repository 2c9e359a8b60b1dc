/* SPDX-License-Identifier: MIT */
/*
 * fd - closing a descriptor that may already be closed, and connecting to a socket path
 *
 * Objects that own descriptors mark a closed one -1, so that release runs once whatever was
 * opened; fd_close() is that step, and may be called again on the same descriptor.
 * fd_connect_unix() is how burette reaches a back-end's socket for QEMU, which then gets the
 * connected descriptor instead of a path in a directory it may not enter. fd_attach_rights() is
 * the one way descriptors are put on a message (SCM_RIGHTS) here, for every sender of them.
 * fd_socket_inodes() reads which sockets a process holds from /proc, to recognise one of them
 * in the kernel's socket tables.
 */
#ifndef BURETTE_FD_H
#define BURETTE_FD_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
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

/* Socket inodes among @pid's descriptors; returns how many were stored (at most @max), 0 when
 * @pid is gone or its descriptors cannot be read. */
static inline size_t fd_socket_inodes(pid_t pid, unsigned long *inodes, size_t max)
{
    char path[64], link[64];
    struct dirent *de;
    size_t n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    d = opendir(path);
    if (!d)
        return 0;
    while ((de = readdir(d)) && n < max) {
        char fdpath[320];
        ssize_t len;
        unsigned long ino;

        if (de->d_name[0] == '.')
            continue;
        snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
        len = readlink(fdpath, link, sizeof(link) - 1);
        if (len <= 0)
            continue;
        link[len] = '\0';
        if (sscanf(link, "socket:[%lu]", &ino) == 1)
            inodes[n++] = ino;
    }
    closedir(d);
    return n;
}

#endif /* BURETTE_FD_H */
