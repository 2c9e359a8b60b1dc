/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ns.h - a private network namespace for fuzz targets that open host sockets
 *
 * Targets whose input reaches consomme's host sockets (UDP flows, TCP connects) must never
 * send a packet from the host's namespace: fuzz_isolate() moves the process into a new
 * user+network namespace (or a network namespace alone, as root) that holds only loopback,
 * brought up, and exits with a message (and FUZZ_SKIP_STATUS) when it cannot. Inside it the
 * namespace is ours, so its TCP sysctls may be changed too (fuzz_sysctl()).
 */
#ifndef CONSOMME_FUZZ_NS_H
#define CONSOMME_FUZZ_NS_H

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* What a target that cannot isolate itself exits with: ctest's SKIP_RETURN_CODE for them. */
#define FUZZ_SKIP_STATUS 77

/* Write @text to a /proc file; Return: 0 or negative errno. */
static inline int fuzz_write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return -errno;
    if (write(fd, text, strlen(text)) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

static inline void fuzz_isolate(const char *prog)
{
    char map[64];
    uid_t uid = geteuid();
    gid_t gid = getegid();
    struct ifreq ifr = {0};
    int fd;

    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
        fuzz_write_file("/proc/self/setgroups", "deny");
        snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
        fuzz_write_file("/proc/self/uid_map", map);
        snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
        fuzz_write_file("/proc/self/gid_map", map);
    } else if (unshare(CLONE_NEWNET)) {
        fprintf(stderr,
                "skipped: %s: cannot enter a private network namespace (%s); refusing to "
                "open sockets in the host's (allow unprivileged user namespaces: sysctl "
                "kernel.unprivileged_userns_clone=1, or run as root)\n",
                prog, strerror(errno));
        exit(FUZZ_SKIP_STATUS);
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) ||
        (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr))) {
        fprintf(stderr, "%s: cannot bring up loopback in the private namespace: %s\n", prog,
                strerror(errno));
        exit(1);
    }
    close(fd);
}

#endif /* CONSOMME_FUZZ_NS_H */
