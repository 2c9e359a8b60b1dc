/* SPDX-License-Identifier: MIT */
/*
 * provenance - what a run's figures depend on besides the code under test (see provenance.h)
 *
 * Versions come from the programs themselves where they know them (QEMU's, read once by
 * qemu_probe() before the run starts; libslirp through its
 * own slirp_version_string(), libiperf through iperf_get_iperf_version()); Debian's passt of
 * 2023 prints "unknown version", so its package version is asked of dpkg-query instead. The
 * guest's facts come from the image's manifest (written by guest/build-image.sh) and a SHA-256
 * of its kernel and initramfs, so two images built from different packages never look alike.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iperf_api.h> /* needs stdint.h and sys/types.h first */
#include <openssl/evp.h>

#include "clock.h"
#include "cpu_cost.h"
#include "image.h"
#include "proc.h"
#include "report.h"
#include "provenance.h"
#include "qemu.h"

#define VERSION_TIMEOUT_MS 5000
#define VERSION_LEN        96

/* Copy the run of version characters at @p (digits, letters, . _ - + ~ :) into @out. */
static bool copy_version_token(const char *p, char *out, size_t len)
{
    size_t n = strspn(p, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-+~:");

    if (!n || n >= len)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

bool provenance_parse_passt_version(const char *text, char *out, size_t len)
{
    static const char key[] = "passt ";

    if (strncmp(text, key, sizeof(key) - 1))
        return false;
    text += sizeof(key) - 1;
    if (!strncmp(text, "unknown", 7))
        return false;
    return copy_version_token(text, out, len);
}

/* First line of a program's output, or false when it could not run or failed. */
static bool run_for_text(const char *const *argv, char *out, size_t len)
{
    int status = proc_capture(argv, out, len, VERSION_TIMEOUT_MS);

    return status == 0;
}

static void set_string(json_t *host, const char *key, const char *value, int *rc)
{
    if (json_object_set_new(host, key, json_string(value)))
        *rc = -ENOMEM;
}

static void add_passt(json_t *host, int *rc)
{
    const char *argv[] = {"passt", "--version", NULL};
    const char *dpkg[] = {"dpkg-query", "-W", "-f", "${Version}", "passt", NULL};
    char text[512], v[VERSION_LEN];

    if (run_for_text(argv, text, sizeof(text)) &&
        provenance_parse_passt_version(text, v, sizeof(v))) {
        set_string(host, "passt_version", v, rc);
        return;
    }
    /* a build that does not know its version: Debian's package does */
    if (run_for_text(dpkg, text, sizeof(text)) && copy_version_token(text, v, sizeof(v))) {
        char both[VERSION_LEN + 16];

        snprintf(both, sizeof(both), "%s (package)", v);
        set_string(host, "passt_version", both, rc);
    }
}

/* libslirp says its own version; QEMU's user networking is that library. */
static void add_libslirp(json_t *host, int *rc)
{
    void *lib = dlopen("libslirp.so.0", RTLD_NOW | RTLD_LOCAL);
    const char *(*version)(void);
    char v[VERSION_LEN];

    if (!lib)
        return;
    *(void **)&version = dlsym(lib, "slirp_version_string");
    if (version && copy_version_token(version(), v, sizeof(v)))
        set_string(host, "libslirp_version", v, rc);
    dlclose(lib);
}

/* SHA-256 of the files at @paths, one after the other, as hex. */
static bool hash_files(const char *const *paths, size_t n, char *hex, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE], buf[1 << 16];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);

    for (size_t i = 0; ok && i < n; i++) {
        int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
        ssize_t r;

        if (fd < 0) {
            ok = false;
            break;
        }
        while ((r = read(fd, buf, sizeof(buf))) > 0)
            ok = ok && EVP_DigestUpdate(ctx, buf, (size_t)r);
        ok = ok && r == 0;
        close(fd);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && len > 2 * (size_t)mdlen;
    for (unsigned int i = 0; ok && i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    EVP_MD_CTX_free(ctx);
    return ok;
}

static void add_image(json_t *host, const struct guest_image *image, int *rc)
{
    const char *files[] = {image->kernel, image->initrd};
    json_t *manifest = json_load_file(image->manifest, 0, NULL);
    const char *kernel, *iperf3;
    char hex[2 * EVP_MAX_MD_SIZE + 1];

    kernel = json_string_value(json_object_get(manifest, "kernel_release"));
    iperf3 = json_string_value(json_object_get(json_object_get(manifest, "packages"), "iperf3"));
    if (kernel)
        set_string(host, "guest_kernel", kernel, rc);
    if (iperf3)
        set_string(host, "guest_iperf3_version", iperf3, rc);
    json_decref(manifest);
    if (hash_files(files, 2, hex, sizeof(hex)))
        set_string(host, "guest_image_sha256", hex, rc);
}

int provenance_add_qemu(json_t *host, const struct qemu_info *qemu)
{
    int rc = 0;

    if (qemu && qemu->version[0])
        set_string(host, "qemu_version", qemu->version, &rc);
    return rc;
}

int provenance_collect(json_t *host, const struct qemu_info *qemu, const struct guest_image *image)
{
    const char *iperf = iperf_get_iperf_version();
    int rc = 0;

    rc = provenance_add_qemu(host, qemu);
    add_passt(host, &rc);
    add_libslirp(host, &rc);
    if (iperf && *iperf)
        set_string(host, "iperf3_version", iperf, &rc);
    if (image)
        add_image(host, image, &rc);
    return rc;
}

void provenance_load(double *load1)
{
    double l[1] = {0};

    if (getloadavg(l, 1) < 1)
        l[0] = 0;
    *load1 = l[0];
}

bool provenance_busy_share(double busy_ms, double wall_ms, long cpus, double *percent)
{
    /* clock ticks are 10 ms: a short window can read a little over 100% */
    *percent = cpus > 0 && wall_ms > 0 ? fmin(100, 100.0 * busy_ms / (wall_ms * (double)cpus)) : 0;
    return *percent > BUSY_MACHINE_PERCENT;
}

bool provenance_busy_now(unsigned window_ms, double *percent)
{
    long hz = sysconf(_SC_CLK_TCK), cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct timespec window = {.tv_sec = window_ms / 1000, .tv_nsec = (window_ms % 1000) * 1000000L};
    double before, after, t0, t1;

    *percent = 0;
    t0 = (double)clock_now_ms();
    if (cpu_machine_busy_ms("/proc", hz, &before))
        return false;
    /* a measuring window, not a wait for anything: what the CPUs do meanwhile is the answer */
    while (nanosleep(&window, &window) && errno == EINTR && !proc_cancelled())
        ;
    t1 = (double)clock_now_ms();
    if (cpu_machine_busy_ms("/proc", hz, &after))
        return false;
    return provenance_busy_share(after - before, t1 - t0, cpus, percent);
}
