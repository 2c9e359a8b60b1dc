/* SPDX-License-Identifier: MIT */
/*
 * accel - --accel auto|kvm|tcg resolved against what this machine can really run. The
 * environment variable BURETTE_KVM_PVM_PATH replaces /sys/module/kvm_pvm, so tests can check
 * both answers on any machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accel.h"
#include "errbuf.h"

#define KVM_DEV     "/dev/kvm"
#define KVM_PVM_DIR "/sys/module/kvm_pvm"

const char *accel_name(enum accel a)
{
    return a == ACCEL_KVM ? "kvm" : "tcg";
}

static int kvm_usable(void)
{
    int fd = open(KVM_DEV, O_RDWR | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    close(fd);
    return 0;
}

int accel_resolve(const char *want, enum accel *out, char *notice, size_t nlen, char *err,
                  size_t errlen)
{
    const char *pvm = getenv("BURETTE_KVM_PVM_PATH");
    int is_pvm, rc;

    if (!pvm || !*pvm)
        pvm = KVM_PVM_DIR;
    is_pvm = access(pvm, F_OK) == 0;
    notice[0] = '\0';

    if (!strcmp(want, "tcg")) {
        *out = ACCEL_TCG;
        return 0;
    }
    if (!strcmp(want, "kvm")) {
        rc = kvm_usable();
        if (rc)
            return errbuf_set(err, errlen, rc,
                              "--accel kvm: cannot open %s: %s (load the kvm module, and be in "
                              "the group owning %s; or use --accel tcg)",
                              KVM_DEV, strerror(-rc), KVM_DEV);
        if (is_pvm)
            snprintf(notice, nlen,
                     "warning: KVM here is PVM-backed (%s exists); a stock kernel may hang "
                     "early in boot (--accel auto would use TCG)",
                     pvm);
        *out = ACCEL_KVM;
        return 0;
    }
    if (strcmp(want, "auto"))
        return errbuf_set(err, errlen, -EINVAL, "unknown accelerator '%s' (auto, kvm or tcg)",
                          want);
    if (is_pvm) {
        snprintf(notice, nlen,
                 "using TCG (multi-threaded): KVM here is PVM-backed (%s exists), where a stock "
                 "kernel hangs early in boot",
                 pvm);
        *out = ACCEL_TCG;
        return 0;
    }
    rc = kvm_usable();
    if (rc) {
        snprintf(notice, nlen, "using TCG (multi-threaded): cannot open %s: %s", KVM_DEV,
                 strerror(-rc));
        *out = ACCEL_TCG;
        return 0;
    }
    *out = ACCEL_KVM;
    return 0;
}
