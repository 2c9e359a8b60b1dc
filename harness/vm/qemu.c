/* SPDX-License-Identifier: MIT */
/*
 * qemu - finding the QEMU binary, reading its version, and what the version can do; see qemu.h.
 *
 * The version comes from running the binary itself with --version: a package version (dpkg)
 * would say nothing about a QEMU built by hand or passed with --qemu.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "proc.h"
#include "qemu.h"

#define VERSION_TIMEOUT_MS 10000
#define VERSION_OUTPUT_MAX 4096
#define VERSION_PREFIX     "QEMU emulator version "

/* The first QEMU whose vhost-user virtio-net survives the guest starting the device under TCG. */
#define VHOST_USER_TCG_MAJOR 10

int qemu_parse_version(const char *text, struct qemu_info *q)
{
    const char *p = strstr(text, VERSION_PREFIX);
    unsigned major, minor, micro = 0;
    int n;

    if (!p)
        return -EINVAL;
    p += strlen(VERSION_PREFIX);
    /* QEMU's own tags have three numbers; a development build may print two. */
    n = sscanf(p, "%u.%u.%u", &major, &minor, &micro);
    if (n < 2)
        return -EINVAL;
    q->major = major;
    q->minor = minor;
    q->micro = micro;
    snprintf(q->version, sizeof(q->version), "%u.%u.%u", major, minor, micro);
    return 0;
}

/* @name looked up like execvp() does: a name with '/' as it is, else each PATH entry. */
static int find_binary(const char *name, char *out, size_t outlen)
{
    const char *path = getenv("PATH");
    const char *p;

    if (strchr(name, '/')) {
        if (snprintf(out, outlen, "%s", name) >= (int)outlen)
            return -ENAMETOOLONG;
        return access(out, F_OK) ? -errno : 0;
    }
    for (p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin"; p;) {
        size_t n = strcspn(p, ":");

        if (snprintf(out, outlen, "%.*s%s%s", (int)n, n ? p : ".", "/", name) < (int)outlen &&
            !access(out, X_OK))
            return 0;
        p = p[n] ? p + n + 1 : NULL;
    }
    return -ENOENT;
}

/* Run `@q->path --version`; its output (NUL-terminated) into @buf. */
static int read_version_output(const struct qemu_info *q, char *buf, size_t len, char *err,
                               size_t errlen)
{
    const char *argv[] = {q->path, "--version", NULL};
    int rc = proc_capture(argv, buf, len, VERSION_TIMEOUT_MS);

    if (rc == -ETIMEDOUT)
        return errbuf_set(err, errlen, rc, "'%s --version' did not finish within %d s", q->path,
                          VERSION_TIMEOUT_MS / 1000);
    if (rc < 0)
        return errbuf_set(err, errlen, rc, "cannot run '%s --version': %s", q->path, strerror(-rc));
    return 0;
}

int qemu_probe(const char *path, struct qemu_info *q, char *err, size_t errlen)
{
    const char *name = path ? path : QEMU_DEFAULT_PROGRAM;
    char out[VERSION_OUTPUT_MAX], first[128];
    struct stat st;
    int rc;

    memset(q, 0, sizeof(*q));
    rc = find_binary(name, q->path, sizeof(q->path));
    if (rc == -ENAMETOOLONG)
        return errbuf_set(err, errlen, rc, "QEMU binary path '%s' is too long", name);
    if (rc) {
        if (path)
            return errbuf_set(err, errlen, rc,
                              "--qemu %s: %s (give the path of a qemu-system-x86_64 binary)", path,
                              strerror(-rc));
        return errbuf_set(err, errlen, rc,
                          "%s not found in PATH (install QEMU: scripts/install-deps takes QEMU 10 "
                          "from bookworm-backports; or give one with --qemu PATH)",
                          QEMU_DEFAULT_PROGRAM);
    }
    if (stat(q->path, &st) || !S_ISREG(st.st_mode) || access(q->path, X_OK))
        return errbuf_set(err, errlen, -EACCES,
                          "--qemu %s: not an executable file (give the path of a "
                          "qemu-system-x86_64 binary)",
                          q->path);
    rc = read_version_output(q, out, sizeof(out), err, errlen);
    if (rc)
        return rc;
    if (qemu_parse_version(out, q)) {
        snprintf(first, sizeof(first), "%.*s", (int)strcspn(out, "\n"), out);
        return errbuf_set(err, errlen, -EINVAL,
                          "%s: '--version' printed %s%s%s, not 'QEMU emulator version X.Y.Z' (is "
                          "it a QEMU system emulator?)",
                          q->path, first[0] ? "'" : "nothing", first, first[0] ? "'" : "");
    }
    return 0;
}

/*
 * QEMU's own seccomp filter: everything obsolete, privilege changes (burette starts QEMU with
 * the privileges it is meant to keep), spawning processes and changing resource limits or CPU
 * affinity are refused. Probed by running `QEMU -sandbox ... -version`: a build without seccomp
 * rejects the option before printing its version. One probe per binary, cached.
 */
const char *qemu_sandbox_arg(const char *path)
{
    static char probed[PATH_MAX];
    static bool ok;
    const char *argv[] = {path, "-sandbox", QEMU_SANDBOX, "-version", NULL};
    char out[VERSION_OUTPUT_MAX];

    if (strcmp(probed, path)) {
        ok = proc_capture(argv, out, sizeof(out), VERSION_TIMEOUT_MS) == 0 &&
             strstr(out, VERSION_PREFIX);
        snprintf(probed, sizeof(probed), "%s", path);
    }
    return ok ? QEMU_SANDBOX : NULL;
}

bool qemu_vhost_user_ok(const struct qemu_info *q, enum accel accel, char *why, size_t whylen)
{
    if (accel == ACCEL_KVM || q->major >= VHOST_USER_TCG_MAJOR)
        return true;
    snprintf(why, whylen,
             "QEMU %s (%s) crashes under TCG once the guest starts a vhost-user NIC; vhost-user "
             "needs QEMU %d.0 or later (scripts/install-deps installs QEMU 10 from "
             "bookworm-backports; or pick one with --qemu PATH)",
             q->version, q->path, VHOST_USER_TCG_MAJOR);
    return false;
}
