/* SPDX-License-Identifier: MIT */
/*
 * accel - choosing QEMU's accelerator: KVM where a stock kernel really boots, else TCG
 *
 * /dev/kvm existing is not enough: on PVM-backed KVM (the kvm_pvm module, as on some cloud
 * sandboxes) a stock Debian kernel hangs right after "Probing EDD". `auto` therefore picks TCG
 * (multi-threaded) there, and wherever /dev/kvm cannot be opened, and says why in one line.
 */
#ifndef BURETTE_ACCEL_H
#define BURETTE_ACCEL_H

#include <stddef.h>

enum accel {
    ACCEL_KVM,
    ACCEL_TCG,
};

/**
 * accel_resolve() - Turn --accel auto|kvm|tcg into the accelerator to use
 * @want:	"auto", "kvm" or "tcg"
 * @out:	The choice
 * @notice:	Set to a one-line explanation when the choice deserves one ("" otherwise)
 * @nlen:	Size of @notice
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0, or -EINVAL for an unknown name, or negative errno when kvm was asked for and
 * /dev/kvm cannot be used (message says why and what to do)
 */
int accel_resolve(const char *want, enum accel *out, char *notice, size_t nlen, char *err,
                  size_t errlen);

/**
 * accel_name() - "kvm" or "tcg"
 */
const char *accel_name(enum accel a);

#endif /* BURETTE_ACCEL_H */
