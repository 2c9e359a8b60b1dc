/* SPDX-License-Identifier: MIT */
/*
 * test_boot - `burette run --test boot`: how long from launching QEMU to the agent's hello
 *
 * Each iteration boots a fresh guest with the test NIC (virtio-net, MAC 52:54:00:12:12:12) on
 * QEMU user networking with restrict=on — the NIC exists as in a network test, but nothing can
 * leave the guest — waits for hello, checks that the NIC is listed, and powers the guest off.
 * Metric: boot_time_ms (lower is better).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "perf_test.h"
#include "vm.h"

static int boot_setup(const struct perf_ctx *ctx, void **state, char *err, size_t errlen)
{
    *state = NULL;
    return 0;
}

static int boot_run(void *state, const struct perf_ctx *ctx, struct perf_iter *it, unsigned part,
                    char *err, size_t errlen)
{
    const struct vm_nic nic = {
        .netdev = "user,id=n0,restrict=on",
        .device = "virtio-net-pci,netdev=n0,mac=" VM_MAC_TEST,
    };
    const struct vm_config cfg = {
        .qemu = ctx->opts->qemu_info.path[0] ? ctx->opts->qemu_info.path : NULL,
        .image = ctx->image,
        .accel = ctx->accel,
        .vcpus = ctx->opts->vcpus,
        .mem_mb = ctx->opts->mem_mb,
        .nics = &nic,
        .n_nics = 1,
        .log_dir = ctx->log_dir,
        .name = it->name,
        .hello_timeout_ms = ctx->hello_timeout_ms,
        .qemu_user = ctx->opts->qemu_user,
    };
    const struct agent_hello *hello;
    struct vm *vm;
    bool found = false;
    int rc;

    for (unsigned attempt = 1;; attempt++) {
        rc = vm_start(&cfg, &vm, err, errlen);
        if (!rc)
            break;
        if (!vm_boot_retry(it->name, rc, attempt, err))
            return rc;
    }
    hello = vm_hello(vm);
    for (size_t i = 0; i < hello->n_nics; i++)
        found |= !strcmp(hello->nics[i].mac, VM_MAC_TEST);
    if (!found) {
        rc = errbuf_set(err, errlen, -ENODEV,
                        "the guest lists no NIC with MAC %s (virtio_net not loaded? see %s)",
                        VM_MAC_TEST, vm_console_path(vm));
        goto out;
    }
    rc = perf_emit(it, "boot_time_ms", "ms", vm_boot_ms(vm), err, errlen);
    if (rc)
        goto out;
    rc = vm_poweroff(vm, err, errlen);
out:
    vm_destroy(vm);
    return rc;
}

const struct perf_test_ops boot_test_ops = {
    .name = "boot",
    .fixed_backend = "slirp",
    .setup = boot_setup,
    .run_part = boot_run,
};
