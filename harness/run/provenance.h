/* SPDX-License-Identifier: MIT */
/*
 * provenance - what a run's figures depend on besides the code under test
 *
 * Two reports are an A/B of the code only when everything else was the same: the QEMU, the
 * peer stacks' versions (passt, libslirp), iperf3, the guest kernel and image, burette's own
 * tree (a dirty tree is not its revision), the machine and how busy it was. This module finds
 * those facts and adds them to a report's `host` object, under names that results/ reads back
 * and `burette compare` sets side by side:
 *
 *   qemu_version, passt_version, libslirp_version, iperf3_version (the host's libiperf),
 *   guest_iperf3_version, guest_kernel, guest_image_sha256 (kernel and initramfs, in that
 *   order), load_start, load_end (1-minute load averages). (git_dirty, at the report's top
 *   level, comes from the build: results/report.c.)
 *
 * A fact that cannot be found is left out rather than guessed; readers show it as unknown. The
 * parsers of what programs print are separate functions so tests can feed them recorded text.
 */
#ifndef BURETTE_PROVENANCE_H
#define BURETTE_PROVENANCE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct guest_image;
struct qemu_info;

/**
 * provenance_parse_passt_version() - The version in `passt --version` output
 * @text:	What passt printed ("passt 2024_08_21.1d6142f\n..." or "passt unknown version")
 * @out:	"2024_08_21.1d6142f"
 * @len:	Size of @out
 *
 * Return: true if a version was found; false for a build that does not know its own
 */
bool provenance_parse_passt_version(const char *text, char *out, size_t len);

/**
 * provenance_collect() - Add what this run depends on to a report's `host` object
 * @host:	The object (report_host_json()'s: kernel, CPU model and count are there already)
 * @qemu:	The QEMU the run uses, probed (qemu.h); NULL when unknown
 * @image:	The guest image; NULL for none
 *
 * Slow parts (a `--version` per program, hashing the image) take well under a second.
 *
 * Return: 0, or -ENOMEM
 */
int provenance_collect(json_t *host, const struct qemu_info *qemu, const struct guest_image *image);

/**
 * provenance_add_qemu() - Add qemu_version of @qemu to @host (nothing when it is unknown)
 *
 * Return: 0, or -ENOMEM
 */
int provenance_add_qemu(json_t *host, const struct qemu_info *qemu);

/**
 * provenance_load() - The 1-minute load average now (recorded as load_start and load_end)
 * @load1:	The load average
 */
void provenance_load(double *load1);

/**
 * provenance_busy_share() - Whether a machine whose CPUs were busy @busy_ms over @wall_ms is
 * busy: other work above a quarter of its @cpus (before a run starts, all of it is other work)
 * @percent:	Receives the busy share of the whole machine, in percent
 */
bool provenance_busy_share(double busy_ms, double wall_ms, long cpus, double *percent);

/**
 * provenance_busy_now() - Whether other work is using the machine now: its busy time over
 * @window_ms, judged by provenance_busy_share(). The 1-minute load average cannot tell: it
 * still holds the build or run of the minute before, which is over.
 * @percent:	Receives the busy share (0 when /proc/stat cannot be read)
 *
 * Return: true when busy
 */
bool provenance_busy_now(unsigned window_ms, double *percent);

#endif /* BURETTE_PROVENANCE_H */
