/* SPDX-License-Identifier: MIT */
/*
 * qemu - which QEMU a run uses, its version, and what that version can do
 *
 * `--qemu PATH` (or a variant's `qemu=PATH`) names the binary; without it, qemu-system-x86_64
 * is looked up in PATH. qemu_probe() resolves the binary to a path, checks it can be run, and
 * reads its version from `--version` ("QEMU emulator version X.Y.Z"), all before any guest,
 * backend or helper exists, so a wrong binary is refused with exit status 2.
 *
 * What a version can do is decided here and nowhere else: under TCG, QEMU before 10.0 crashes
 * as soon as the guest starts a vhost-user virtio-net device (7.2 segfaults; 10.0.2 from
 * bookworm-backports negotiates and passes frames), so vhost-user needs QEMU 10.0 there.
 */
#ifndef BURETTE_QEMU_H
#define BURETTE_QEMU_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "accel.h"
#include "qemu_program.h"

struct qemu_info {
    char path[PATH_MAX]; /* the binary run, absolute when found through PATH */
    char version[32];    /* "10.0.2" */
    unsigned major, minor, micro;
};

/**
 * qemu_parse_version() - Read "QEMU emulator version X.Y.Z" out of `qemu --version` output
 * @text:	The output (its first line is what counts; Debian appends " (Debian 1:10.0.2...)")
 * @q:		Receives version, major, minor, micro
 *
 * Return: 0, or -EINVAL when the text holds no such line
 */
int qemu_parse_version(const char *text, struct qemu_info *q);

/**
 * qemu_probe() - Find the QEMU binary and read its version
 * @path:	--qemu as given (a path, or a name looked up in PATH); NULL: qemu-system-x86_64
 * @q:		Receives the binary's path and its version
 * @err:	Error buffer of @errlen bytes: names the binary and what to do
 * @errlen:	Size of @err
 *
 * Runs `@path --version` with a bounded wait; nothing is left running on any path.
 *
 * Return: 0, -ENOENT (not found), -EACCES (not executable), -EINVAL (not a QEMU: no version
 * line), or another negative errno
 */
int qemu_probe(const char *path, struct qemu_info *q, char *err, size_t errlen);

/* QEMU's -sandbox argument (seccomp) as burette gives it. */
#define QEMU_SANDBOX "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

/**
 * qemu_sandbox_arg() - QEMU_SANDBOX when the QEMU at @path supports -sandbox (built with
 * seccomp), else NULL; the answer is cached per binary
 * @path:	The binary burette runs
 *
 * Return: the argument for -sandbox, or NULL to run without it
 */
const char *qemu_sandbox_arg(const char *path);

/**
 * qemu_vhost_user_ok() - Whether @q can serve a vhost-user virtio-net device under @accel
 * @q:		Probed QEMU
 * @accel:	The accelerator the guest will run under
 * @why:	When not, one sentence saying why and how to fix it
 * @whylen:	Size of @why
 *
 * Return: true when it can
 */
bool qemu_vhost_user_ok(const struct qemu_info *q, enum accel accel, char *why, size_t whylen);

#endif /* BURETTE_QEMU_H */
