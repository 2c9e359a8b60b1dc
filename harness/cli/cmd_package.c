/* SPDX-License-Identifier: MIT */
/*
 * cmd_package - `burette package -o FILE.tar.gz`: burette for a machine without the build tree
 *
 * The tarball holds one directory, burette-VERSION/, laid out as the build tree is, so the
 * harness finds its image and consomme exactly as it does at home (next to its own binary):
 *
 *   burette                 a launcher: puts lib/ on the library path and runs bin/burette
 *   bin/burette, bin/consomme
 *   guest/                  the guest image (kernel, initramfs, manifest)
 *   lib/                    the shared libraries burette is running with, except the C library
 *                           itself, which every target machine has and which must match its
 *                           dynamic loader
 *   README                  how to run it
 *
 * The library list comes from the running process (dl_iterate_phdr): the libraries actually
 * loaded, not a guess. QEMU and iperf3 are the target machine's own. The archive is written
 * beside FILE and renamed over it at the end, so a failure leaves no half-written tarball.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "build_info.h"
#include "cli.h"
#include "cmd.h"
#include "errbuf.h"
#include "image.h"

#define MAX_LIBS 128

/* Part of the C library: provided by the target machine, and tied to its loader. */
static const char *const system_libs[] = {"linux-vdso",    "ld-linux", "libc.so",  "libm.so",
                                          "libpthread.so", "libdl.so", "librt.so", "libresolv.so"};

struct libs {
    char *paths[MAX_LIBS];
    size_t n;
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: burette package -o FILE.tar.gz [--image-dir DIR]\n"
            "\n"
            "Write a self-contained tarball of this burette (binaries, the shared libraries it\n"
            "uses, the guest image, a README) for a machine that has QEMU and iperf3 but not the\n"
            "build tree. Unpack it there and run burette-VERSION/burette.\n"
            "\n"
            "Options:\n"
            "  -o, --output FILE    the tarball to write (.tar.gz)\n"
            "      --image-dir DIR  take the guest image from DIR (default: next to burette,\n"
            "                       or $BURETTE_IMAGE_DIR)\n"
            "  -h, --help           show this help\n"
            "\n"
            "Exit status: 0 success, 1 the tarball could not be written, 2 bad usage.\n");
}

static int collect_lib(struct dl_phdr_info *info, size_t size, void *ctx)
{
    struct libs *libs = ctx;
    const char *name = info->dlpi_name;

    if (!name || !*name || libs->n == MAX_LIBS)
        return 0;
    for (size_t i = 0; i < sizeof(system_libs) / sizeof(system_libs[0]); i++)
        if (strstr(name, system_libs[i]))
            return 0;
    libs->paths[libs->n] = strdup(name);
    if (libs->paths[libs->n])
        libs->n++;
    return 0;
}

static int add_bytes(struct archive *a, const char *name, const void *data, size_t len, int mode,
                     char *err, size_t errlen)
{
    struct archive_entry *e = archive_entry_new();
    int rc = 0;

    if (!e)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_mtime(e, time(NULL), 0);
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (len && archive_write_data(a, data, len) != (la_ssize_t)len))
        rc = errbuf_set(err, errlen, -EIO, "%s: %s", name, archive_error_string(a));
    archive_entry_free(e);
    return rc;
}

/* Add the file at @path as @name, following symbolic links (libraries are links to versions). */
static int add_file(struct archive *a, const char *name, const char *path, int mode, char *err,
                    size_t errlen)
{
    struct archive_entry *e = NULL;
    char buf[65536];
    struct stat st;
    ssize_t got;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st))
        return errbuf_set(err, errlen, -errno, "%s: cannot read: %s", path, strerror(errno));
    e = archive_entry_new();
    if (!e) {
        rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
        goto out;
    }
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, st.st_size);
    archive_entry_set_mtime(e, st.st_mtime, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK) {
        rc = errbuf_set(err, errlen, -EIO, "%s: %s", name, archive_error_string(a));
        goto out;
    }
    while ((got = read(fd, buf, sizeof(buf))) > 0)
        if (archive_write_data(a, buf, (size_t)got) != got) {
            rc = errbuf_set(err, errlen, -EIO, "%s: %s", name, archive_error_string(a));
            goto out;
        }
    if (got < 0)
        rc = errbuf_set(err, errlen, -errno, "%s: cannot read: %s", path, strerror(errno));
out:
    archive_entry_free(e);
    close(fd);
    return rc;
}

static const char launcher[] =
    "#!/bin/sh\n"
    "# Runs the packaged burette with the libraries packaged beside it.\n"
    "dir=$(dirname \"$(readlink -f \"$0\")\")\n"
    "LD_LIBRARY_PATH=\"$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\" exec \"$dir/bin/burette\" "
    "\"$@\"\n";

static const char readme[] =
    "burette " BURETTE_VERSION " (" BURETTE_GIT_REVISION ")\n"
    "\n"
    "Run it where QEMU (qemu-system-x86_64) and iperf3 are installed:\n"
    "\n"
    "    ./burette run --test network --backend consomme\n"
    "\n"
    "bin/ holds burette and consomme, guest/ the guest image, lib/ the shared libraries they were\n"
    "built with; ./burette runs bin/burette with lib/ on the library path.\n";

static int write_package(const char *output, const char *image_dir, char *err, size_t errlen)
{
    char self[PATH_MAX], bindir[PATH_MAX], path[PATH_MAX + 64], name[PATH_MAX + 64];
    char top[64], *tmp = NULL;
    struct guest_image img;
    struct libs libs = {0};
    struct archive *a = NULL;
    ssize_t len;
    int rc, fd = -1;

    rc = image_find(&img, image_dir, err, errlen);
    if (rc)
        return rc;
    len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len < 0)
        return errbuf_set(err, errlen, -errno, "cannot find the burette binary: %s",
                          strerror(errno));
    self[len] = '\0';
    snprintf(bindir, sizeof(bindir), "%s", dirname(self));
    snprintf(top, sizeof(top), "burette-%s", BURETTE_VERSION);
    dl_iterate_phdr(collect_lib, &libs);

    if (asprintf(&tmp, "%s.XXXXXX", output) < 0) {
        tmp = NULL;
        rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
        goto out;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = errbuf_set(err, errlen, -errno, "%s: cannot create: %s", output, strerror(errno));
        free(tmp);
        tmp = NULL;
        goto out;
    }
    a = archive_write_new();
    if (!a || archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        rc = errbuf_set(err, errlen, -EIO, "%s: %s", output,
                        a ? archive_error_string(a) : "out of memory");
        goto out;
    }
    snprintf(name, sizeof(name), "%s/burette", top);
    rc = add_bytes(a, name, launcher, strlen(launcher), 0755, err, errlen);
    snprintf(name, sizeof(name), "%s/README", top);
    if (!rc)
        rc = add_bytes(a, name, readme, strlen(readme), 0644, err, errlen);
    for (size_t i = 0; !rc && i < 2; i++) {
        const char *prog = i ? "consomme" : "burette";

        snprintf(path, sizeof(path), "%s/%s", bindir, prog);
        snprintf(name, sizeof(name), "%s/bin/%s", top, prog);
        rc = add_file(a, name, path, 0755, err, errlen);
    }
    for (size_t i = 0; !rc && i < 3; i++) {
        const char *file = i == 0 ? img.kernel : i == 1 ? img.initrd : img.manifest;
        const char *base = i == 0 ? IMAGE_KERNEL : i == 1 ? IMAGE_INITRD : IMAGE_MANIFEST;

        /* The manifest only describes the image; an image built without one still runs. */
        if (i == 2 && access(file, R_OK))
            continue;
        snprintf(name, sizeof(name), "%s/guest/%s", top, base);
        rc = add_file(a, name, file, 0644, err, errlen);
    }
    for (size_t i = 0; !rc && i < libs.n; i++) {
        char copy[PATH_MAX];

        snprintf(copy, sizeof(copy), "%s", libs.paths[i]);
        snprintf(name, sizeof(name), "%s/lib/%s", top, basename(copy));
        rc = add_file(a, name, libs.paths[i], 0644, err, errlen);
    }
    if (!rc && archive_write_close(a) != ARCHIVE_OK)
        rc = errbuf_set(err, errlen, -EIO, "%s: %s", output, archive_error_string(a));
    if (!rc && fchmod(fd, 0644))
        rc = errbuf_set(err, errlen, -errno, "%s: %s", output, strerror(errno));
    if (!rc && rename(tmp, output))
        rc = errbuf_set(err, errlen, -errno, "%s: cannot write: %s", output, strerror(errno));
out:
    if (a)
        archive_write_free(a);
    if (fd >= 0)
        close(fd);
    if (tmp && rc)
        unlink(tmp);
    free(tmp);
    for (size_t i = 0; i < libs.n; i++)
        free(libs.paths[i]);
    return rc;
}

int cmd_package(int argc, char **argv)
{
    const char *output = NULL, *image_dir = NULL;
    char err[ERRBUF_LEN];
    int status;
    const struct cli_option options[] = {
        CLI_OPTION("output", 'o', CLI_TEXT, &output),
        CLI_OPTION("image-dir", 0, CLI_TEXT, &image_dir),
    };

    if (!cli_parse_options("package", argc, argv, options, sizeof(options) / sizeof(options[0]),
                           usage, 0, NULL, NULL, &status))
        return status;
    if (!output)
        return cli_usage_error("package", "needs -o FILE.tar.gz");
    if (write_package(output, image_dir, err, sizeof(err))) {
        fprintf(stderr, "burette package: %s\n", err);
        return 1;
    }
    printf("wrote %s\n", output);
    return 0;
}
