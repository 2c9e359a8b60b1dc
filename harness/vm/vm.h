/* SPDX-License-Identifier: MIT */
/*
 * vm - a guest under QEMU, and the conversation with its agent
 *
 * vm_start() launches qemu-system-x86_64 with the guest image, the agent's virtio-serial port
 * (one end of a socketpair) and the NICs the caller describes, and returns once the agent has
 * said hello. From then on the guest is driven through its agent: configure a NIC picked by
 * MAC, run a command, power off. QEMU runs in its own process group with PR_SET_PDEATHSIG, its
 * serial console goes to <log_dir>/<name>-console.log and its own messages to
 * <log_dir>/<name>-qemu.log; when the guest fails to come up, the error quotes the last lines
 * of whichever explains it. vm_destroy() always leaves no QEMU behind.
 *
 * QEMU never runs as root: when burette is the machine's root it becomes an unprivileged user
 * in its fork before exec (vm_config.qemu_user; proc.h); root of a container's user namespace
 * (an unprivileged user of the machine already) switches only when a user is named. So that the
 * user needs no way into burette's private directories, QEMU opens nothing there by path: burette
 * opens the kernel, initramfs and console log itself and hands QEMU the descriptors (the kernel and
 * initramfs as /proc/self/fd/N, which reopens the file with only the file's own permission checked;
 * the console through -add-fd, as /dev/fdset/1). A vhost-user back-end's socket, which QEMU must
 * reach by path, and its private directory are handed to that user (chown), the directory
 * given as a descriptor too (/proc/self/fd/N/NAME), so that TMPDIR need not be open. The
 * kernel and initramfs must be readable by that user, /dev/kvm openable under KVM (its group
 * is kept as the one supplementary group where that is what grants it): vm_start() checks
 * both and names the file and the fix.
 *
 * Every wait is bounded by a deadline and ends early on SIGINT/SIGTERM (-ECANCELED, see proc.h)
 * or when QEMU exits (-EPIPE).
 */
#ifndef BURETTE_VM_H
#define BURETTE_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "accel.h"
#include "agent_proto.h"
#include "image.h"

/*
 * One NIC: QEMU's -netdev and -device arguments, and the descriptors they name. A vhost-user
 * NIC names instead the back-end's listening socket and its netdev id: the VM layer then adds
 * the socket chardev and the vhost-user netdev, and puts all guest RAM in a shared memfd the
 * back-end can map (vhost-user moves frames through guest memory, not through QEMU).
 */
struct vm_nic {
    const char *netdev; /* e.g. "tap,id=n0,fd=7" or "stream,id=n0,addr.type=fd,addr.str=7" */
    const char *vhost_user_socket; /* instead of @netdev: the back-end's socket path */
    const char *netdev_id;         /* with @vhost_user_socket: the id the -device names */
    const char *device;            /* e.g. "virtio-net-pci,netdev=n0,mac=52:54:00:12:12:12" */
    const int *fds;                /* descriptors QEMU must inherit, at the same numbers */
    size_t n_fds;
};

struct vm_config {
    const char *qemu; /* the QEMU binary; NULL: qemu-system-x86_64 from PATH */
    const struct guest_image *image;
    enum accel accel;
    unsigned vcpus;
    unsigned mem_mb;
    const struct vm_nic *nics;
    size_t n_nics;
    const char *log_dir;       /* must exist */
    const char *name;          /* log file prefix, e.g. "boot-3" */
    unsigned hello_timeout_ms; /* 0: VM_HELLO_TIMEOUT_MS */
    const char *extra_cmdline; /* appended to the kernel command line, may be NULL */
    /* Whom QEMU runs as when burette is root (--qemu-user); NULL: SANDBOX_DEFAULT_USER. When
     * burette is not root, QEMU runs as burette's user and only that user may be named. */
    const char *qemu_user;
};

#define VM_HELLO_TIMEOUT_MS    90000
#define VM_REQUEST_TIMEOUT_MS  30000
#define VM_POWEROFF_TIMEOUT_MS 15000
/* The NIC MACs fixed by the architecture notes. */
#define VM_MAC_TEST   "52:54:00:12:12:12"
#define VM_MAC_SECOND "52:54:00:12:12:13"

struct vm;

/**
 * vm_start() - Launch QEMU and wait for the agent's hello
 * @cfg:	What to run
 * @out:	The running guest on success
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * On failure QEMU is killed and reaped before returning, and the message quotes the tail of
 * the console log (or of QEMU's own output, if QEMU exited before the guest ran).
 *
 * Return: 0, -ETIMEDOUT (no hello in time), -EPIPE (QEMU exited), -ECONNABORTED (QEMU aborted
 * on one of its own assertions: see vm_boot_retry()), -ECANCELED, -EPROTO (agent of another
 * protocol version), or another negative errno
 */
int vm_start(const struct vm_config *cfg, struct vm **out, char *err, size_t errlen);

/**
 * vm_check_user() - Whether QEMU can run as @qemu_user (--qemu-user), checked up front
 * @qemu_user:	User name
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0, -ENOENT for an unknown user, -EPERM for root or, when burette is not root, for
 * anyone but burette's own user
 */
int vm_check_user(const char *qemu_user, char *err, size_t errlen);

/*
 * QEMU 10.0.2 under TCG, with guest RAM in a shared memfd, now and then aborts while the guest
 * boots (assertion "section_index < d->map.sections_nb" in iotlb_to_section, about one boot in
 * 75 here). A boot that failed that way is worth one more try; VM_BOOT_ATTEMPTS bounds it.
 */
#define VM_BOOT_ATTEMPTS 2

/**
 * vm_boot_retry() - Whether a failed boot is tried again, and if so say so on the progress
 * output with the reason
 * @what:	Whose boot, for the message ("network")
 * @rc:		What the boot returned
 * @attempt:	The attempt that failed, from 1
 * @err:	Its message
 */
bool vm_boot_retry(const char *what, int rc, unsigned attempt, const char *err);

/**
 * vm_boot_ms() - Milliseconds from launching QEMU to receiving the agent's hello
 */
double vm_boot_ms(const struct vm *vm);

/**
 * vm_hello() - The hello the agent sent: protocol version and every NIC's name and MAC
 */
const struct agent_hello *vm_hello(const struct vm *vm);

/**
 * vm_configure_nic() - Configure the guest NIC with @cfg->mac (static, dhcp or down)
 * @vm:		Guest
 * @cfg:	What to do
 * @state:	What the NIC has afterwards (for dhcp: the lease obtained); may be NULL
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0, -EREMOTEIO (the agent refused or failed: its reason in @err), or as vm_start()
 */
int vm_configure_nic(struct vm *vm, const struct agent_nic_config *cfg,
                     struct agent_nic_state *state, char *err, size_t errlen);

/**
 * vm_run() - Run a command in the guest and collect its exit status and output
 * @vm:		Guest
 * @argv:	Command, NULL-terminated (looked up in the guest's PATH)
 * @timeout_s:	The agent kills the command after this long (the call itself waits a little
 *		longer, for the reply)
 * @res:	Exit status, output; release with vm_run_result_free()
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * A command that runs and fails is a success of vm_run(): look at @res->exit_status.
 *
 * Return: 0, or negative errno as vm_configure_nic()
 */
int vm_run(struct vm *vm, const char *const argv[], unsigned timeout_s,
           struct agent_run_result *res, char *err, size_t errlen);

void vm_run_result_free(struct agent_run_result *res);

/**
 * vm_poweroff() - Ask the guest to power off and wait for QEMU to exit; kill it if it does not
 *
 * Return: 0 when the guest powered off cleanly, negative errno when it had to be killed (QEMU
 * is gone either way)
 */
int vm_poweroff(struct vm *vm, char *err, size_t errlen);

/**
 * vm_destroy() - Kill QEMU if it still runs, reap it, free everything; NULL is ignored
 */
void vm_destroy(struct vm *vm);

/**
 * vm_qemu_pid() - QEMU's pid, which is also its process group id; 0 once reaped
 */
pid_t vm_qemu_pid(const struct vm *vm);

/**
 * vm_console_path() - The guest's serial console log
 */
const char *vm_console_path(const struct vm *vm);

#endif /* BURETTE_VM_H */
