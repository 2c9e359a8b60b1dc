/* SPDX-License-Identifier: MIT */
/*
 * qemu_program - the QEMU binary burette runs unless told otherwise (looked up in PATH)
 *
 * Two parts need the name and neither may ask the other: the VM layer (harness/vm) probes
 * and starts it, and the backend registry shows it as the default of the option every run
 * takes, qemu=PATH (--qemu, or a variant's qemu=PATH).
 */
#ifndef BURETTE_QEMU_PROGRAM_H
#define BURETTE_QEMU_PROGRAM_H

#define QEMU_DEFAULT_PROGRAM "qemu-system-x86_64"

#endif /* BURETTE_QEMU_PROGRAM_H */
