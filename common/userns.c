/* SPDX-License-Identifier: MIT */
/*
 * userns - private user namespace and TAP device for an ordinary user; see userns.h.
 *
 * The messages name the sysctls and device modes a user (or their admin) can change, since a
 * bare EPERM from unshare() or open() tells them nothing.
 */
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"

/* Write @text to the procfs file @path in one write(), as the kernel requires for id maps. */
static int write_proc(const char *path, const char *text, char *err, size_t errlen)
{
    size_t len = strlen(text);
    int fd, rc = 0;
    ssize_t n;

    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errbuf_set(err, errlen, -errno, "cannot open %s: %s", path, strerror(errno));
    n = write(fd, text, len);
    if (n < 0)
        rc = errbuf_set(err, errlen, -errno, "cannot write %s: %s", path, strerror(errno));
    else if ((size_t)n != len)
        rc = errbuf_set(err, errlen, -EIO, "short write to %s", path);
    close(fd);
    return rc;
}

/* Read a small integer sysctl for a message; -1 if it cannot be read. */
static long read_sysctl(const char *path)
{
    long v = -1;
    FILE *f = fopen(path, "re");

    if (!f)
        return -1;
    if (fscanf(f, "%ld", &v) != 1)
        v = -1;
    fclose(f);
    return v;
}

/* The message for unshare(CLONE_NEWUSER) failing with @e: which sysctl to change, and how. */
static int unshare_error(int e, char *err, size_t errlen)
{
    long max_ns = read_sysctl("/proc/sys/user/max_user_namespaces");
    long clone = read_sysctl("/proc/sys/kernel/unprivileged_userns_clone");

    if (e == ENOSPC || e == EUSERS)
        return errbuf_set(err, errlen, -e,
                          "cannot create a user namespace: %s (the limit of user namespaces is "
                          "reached: user.max_user_namespaces is %ld; as root, raise it with "
                          "'sysctl -w user.max_user_namespaces=10000')",
                          strerror(e), max_ns);
    if (e == EPERM || e == EACCES) {
        if (clone == 0)
            return errbuf_set(err, errlen, -e,
                              "cannot create a user namespace: %s (unprivileged user namespaces "
                              "are disabled: kernel.unprivileged_userns_clone is 0; as root, "
                              "run 'sysctl -w kernel.unprivileged_userns_clone=1')",
                              strerror(e));
        return errbuf_set(err, errlen, -e,
                          "cannot create a user namespace: %s (user namespaces are disabled or "
                          "forbidden here: check that 'sysctl kernel.unprivileged_userns_clone' "
                          "is 1 where it exists and 'sysctl user.max_user_namespaces' (now %ld) "
                          "is above 0, and that no container or security policy forbids "
                          "unshare(CLONE_NEWUSER))",
                          strerror(e), max_ns);
    }
    if (e == EINVAL)
        return errbuf_set(err, errlen, -e,
                          "cannot create a user namespace: %s (the process must be "
                          "single-threaded: fork it before any thread is started)",
                          strerror(e));
    return errbuf_set(err, errlen, -e, "cannot create a user+network namespace: %s", strerror(e));
}

int userns_enter(int flags, char *err, size_t errlen)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    char map[64];
    int rc;

    if (unshare(CLONE_NEWUSER | flags) < 0)
        return unshare_error(errno, err, errlen);

    snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
    rc = write_proc("/proc/self/uid_map", map, err, errlen);
    if (rc)
        return rc;
    /* absent before Linux 3.19, where an unprivileged gid_map needs no such step */
    rc = write_proc("/proc/self/setgroups", "deny", err, errlen);
    if (rc && rc != -ENOENT)
        return rc;
    snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
    return write_proc("/proc/self/gid_map", map, err, errlen);
}

bool userns_initial(void)
{
    unsigned inside, outside, count;
    FILE *f = fopen("/proc/self/uid_map", "re");
    bool initial;

    if (!f)
        return false;
    /* the initial namespace's one line: "0 0 4294967295" */
    initial = fscanf(f, "%u %u %u", &inside, &outside, &count) == 3 && !inside && !outside &&
              count == 4294967295u;
    fclose(f);
    return initial;
}

/* The message for open(@path) of the TUN/TAP node failing with @e. */
static int tun_open_error(const char *path, int e, char *err, size_t errlen)
{
    struct stat st;

    if (e == ENOENT || e == ENODEV || e == ENXIO)
        return errbuf_set(err, errlen, -e,
                          "cannot open %s: %s (the TUN/TAP device is missing: as root, load the "
                          "module with 'modprobe tun', or create the node with "
                          "'mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && "
                          "chmod 0666 /dev/net/tun')",
                          path, strerror(e));
    if (e == EACCES || e == EPERM) {
        if (stat(path, &st) == 0)
            return errbuf_set(err, errlen, -e,
                              "cannot open %s: %s (it is mode %04o, so only its owner may open "
                              "it, and a user namespace does not change that; as root run "
                              "'chmod 0666 %s', as most distributions ship it, or run burette "
                              "as root)",
                              path, strerror(e), (unsigned)(st.st_mode & 07777), path);
        return errbuf_set(err, errlen, -e,
                          "cannot open %s: %s (the device must be readable and writable by "
                          "you; as root run 'chmod 0666 %s')",
                          path, strerror(e), path);
    }
    return errbuf_set(err, errlen, -e, "cannot open %s: %s", path, strerror(e));
}

int userns_open_tap(const char *tun_path, const char *name, int flags, char *err, size_t errlen)
{
    struct ifreq ifr;
    int fd, e;

    fd = open(tun_path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return tun_open_error(tun_path, errno, err, errlen);
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = (short)(IFF_TAP | flags);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) == 0)
        return fd;
    e = errno;
    close(fd);
    return errbuf_set(err, errlen, -e, "cannot create TAP device %s: %s%s", name, strerror(e),
                      e == EPERM   ? USERNS_NO_CAPS_HINT
                      : e == EBUSY ? " (the name is already in use)"
                                   : "");
}
