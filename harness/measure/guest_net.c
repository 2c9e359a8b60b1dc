/* SPDX-License-Identifier: MIT */
/*
 * guest_net - a warm guest with one NIC on a backend; see guest_net.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "errbuf.h"
#include "guest_net.h"
#include "helper.h"
#include "proc.h"
#include "progress.h"
#include "vm.h"

#define NIC_PROPERTIES_ENV "BURETTE_NIC_PROPERTIES"

int guest_net_run_client(struct guest_net *g, const char *const argv[], unsigned timeout_s,
                         const char *what, struct guest_client *c, char *err, size_t errlen)
{
    int rc;

    c->have_cpu = guest_net_cpu_now(g, &c->before);
    rc = vm_run(g->vm, argv, timeout_s, &c->res, err, errlen);
    c->have_cpu = c->have_cpu && guest_net_cpu_now(g, &c->after);
    if (rc)
        errbuf_prefix(err, errlen, "running the guest's %s", what);
    return rc;
}

bool guest_client_failed(const struct guest_client *c)
{
    return c->res.exit_status || c->res.signal || c->res.timed_out || !c->res.out;
}

int guest_client_failure(const struct guest_client *c, const char *what, const char *detail,
                         int host_rc, const char *host_msg, char *err, size_t errlen)
{
    const struct agent_run_result *res = &c->res;
    const char *text = res->err && res->err_len ? res->err : "";
    size_t text_len = strlen(text);
    char how[64], client[ERRBUF_LEN];

    if (host_rc == -EPIPE || host_rc == -ECANCELED)
        return errbuf_set(err, errlen, host_rc, "%s", host_msg);
    if (res->timed_out)
        snprintf(how, sizeof(how), "timed out");
    else if (res->signal)
        snprintf(how, sizeof(how), "was killed by signal %d", res->signal);
    else if (res->exit_status)
        snprintf(how, sizeof(how), "exited with status %d", res->exit_status);
    else
        snprintf(how, sizeof(how), "failed");
    while (text_len && text[text_len - 1] == '\n')
        text_len--;
    if (text_len > 300) /* the head of stderr says what went wrong; the log has the rest */
        text_len = 300;
    if (detail)
        snprintf(client, sizeof(client), "the guest's %s %s (%s)", what, how, detail);
    else
        snprintf(client, sizeof(client), "the guest's %s %s%s%.*s", what, how, text_len ? ": " : "",
                 (int)text_len, text);
    if (host_rc && host_rc != -ETIMEDOUT)
        return errbuf_set(err, errlen, -EIO, "%s; on the host side: %s", client, host_msg);
    return errbuf_set(err, errlen, -EIO, "%s", client);
}

void guest_net_down(struct guest_net *g)
{
    char err[ERRBUF_LEN];

    if (!g)
        return;
    if (g->vm) {
        /* A clean power-off when nothing went wrong; after a signal just stop QEMU. */
        if (!proc_cancelled())
            vm_poweroff(g->vm, err, sizeof(err));
        vm_destroy(g->vm);
    }
    if (g->backend_ready)
        g->backend.ops->teardown(&g->backend);
    helper_destroy(g->helper);
    free(g);
}

void guest_net_teardown(void *state)
{
    guest_net_down(state);
}

void guest_net_blame_backend(struct guest_net *g, int rc, char *err, size_t errlen)
{
    char why[ERRBUF_LEN];

    if (g && rc && rc != -ECANCELED && g->backend_ready && g->backend.ops->died &&
        g->backend.ops->died(&g->backend, why, sizeof(why)))
        errbuf_prefix(err, errlen, "%s; what failed then", why);
}

/* Boot the guest with the backend's NIC; QEMU is connected to the backend when this returns. */
static int boot(struct guest_net *g, const struct perf_ctx *ctx, const char *test,
                const char *vm_name, char *err, size_t errlen)
{
    const struct run_options *o = ctx->opts;
    const char *nic_properties = getenv(NIC_PROPERTIES_ENV);
    char device[512];
    const struct vm_nic nic = {
        .netdev = g->backend.vhost_user_socket[0] ? NULL : g->backend.netdev,
        .vhost_user_socket = g->backend.vhost_user_socket[0] ? g->backend.vhost_user_socket : NULL,
        .netdev_id = BACKEND_NETDEV_ID,
        .device = device,
        .fds = g->backend.fds,
        .n_fds = g->backend.n_fds,
    };
    const struct vm_config cfg = {
        .qemu = o->qemu_info.path[0] ? o->qemu_info.path : NULL,
        .image = ctx->image,
        .accel = ctx->accel,
        .vcpus = o->vcpus,
        .mem_mb = o->mem_mb,
        .nics = &nic,
        .n_nics = 1,
        .log_dir = ctx->log_dir,
        .name = vm_name,
        .hello_timeout_ms = ctx->hello_timeout_ms,
        .qemu_user = o->qemu_user,
    };
    int rc;

    if (snprintf(device, sizeof(device), "virtio-net-pci,netdev=%s,mac=%s%s%s", BACKEND_NETDEV_ID,
                 VM_MAC_TEST, nic_properties && *nic_properties ? "," : "",
                 nic_properties ? nic_properties : "") >= (int)sizeof(device))
        return errbuf_set(err, errlen, -E2BIG, "%s is too long (at most %zu characters)",
                          NIC_PROPERTIES_ENV, sizeof(device) - 64);
    progress_phase("%s: booting the guest", test);
    rc = vm_start(&cfg, &g->vm, err, errlen);
    if (rc)
        return rc;
    /* QEMU connected to the backend's socket as it started: its path has done its job */
    if (g->backend.socket_dir)
        backend_socket_dir_remove(g->backend.socket_dir);
    return 0;
}

/* Find the test NIC by its MAC and have the agent configure it as the backend wants. */
static int configure_nic(struct guest_net *g, const char *test, char *err, size_t errlen)
{
    const struct agent_hello *hello = vm_hello(g->vm);
    struct agent_nic_config cfg = g->backend.guest;
    struct agent_nic_state state;
    bool found = false;
    int rc;

    for (size_t i = 0; i < hello->n_nics; i++)
        found |= !strcmp(hello->nics[i].mac, VM_MAC_TEST);
    if (!found)
        return errbuf_set(err, errlen, -ENODEV,
                          "the guest lists no NIC with MAC %s (virtio_net not loaded? see %s)",
                          VM_MAC_TEST, vm_console_path(g->vm));
    snprintf(cfg.mac, sizeof(cfg.mac), "%s", VM_MAC_TEST);
    if (cfg.mode == AGENT_NIC_DHCP)
        progress_phase("%s: configuring the guest NIC %s by DHCP", test, VM_MAC_TEST);
    else
        progress_phase("%s: configuring the guest NIC %s as %s/%u", test, VM_MAC_TEST, cfg.address,
                       cfg.prefix);
    rc = vm_configure_nic(g->vm, &cfg, &state, err, errlen);
    if (rc) {
        errbuf_prefix(err, errlen, "configuring the guest NIC %s", VM_MAC_TEST);
        return rc;
    }
    if (cfg.mode == AGENT_NIC_DHCP)
        progress_note("%s: the guest's DHCP lease: %s/%u, gateway %s, MTU %u", test, state.address,
                      state.prefix, *state.gateway ? state.gateway : "none", state.mtu);
    return 0;
}

/* One attempt at the whole set-up: a backend serves one QEMU, so a new boot needs a new one. */
static int guest_net_try(const struct perf_ctx *ctx, const char *test, const char *vm_name,
                         struct guest_net **out, char *err, size_t errlen)
{
    const struct run_options *o = ctx->opts;
    /* The run layer made one run per backend, each a name of the registry (run_options.h). */
    const struct backend_ops *bops = backend_find(o->backend);
    struct backend_ctx bctx = {
        .options = &o->backend_options, .log_dir = ctx->log_dir, .mtu = o->mtu};
    struct guest_net *g;
    int rc;

    g = calloc(1, sizeof(*g));
    if (!g)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    snprintf(g->prefix, sizeof(g->prefix), "net_%s_", o->nic);

    progress_phase("%s: starting the namespace helper", test);
    rc = helper_spawn(&g->helper, err, errlen);
    if (rc)
        goto fail;
    helper_set_wait(g->helper, proc_poll);
    bctx.helper = g->helper;

    progress_phase("%s: preparing the %s backend", test, bops->name);
    backend_init(&g->backend, bops);
    rc = bops->prepare(&g->backend, &bctx, err, errlen);
    if (rc) {
        errbuf_prefix(err, errlen, "backend %s", bops->name);
        goto fail;
    }
    g->backend_ready = true;
    rc = boot(g, ctx, test, vm_name, err, errlen);
    if (!rc)
        rc = configure_nic(g, test, err, errlen);
    if (rc)
        goto fail;
    *out = g;
    return 0;
fail:
    guest_net_blame_backend(g, rc, err, errlen);
    guest_net_down(g);
    return rc;
}

int guest_net_up(const struct perf_ctx *ctx, const char *test, struct guest_net **out, char *err,
                 size_t errlen)
{
    char vm_name[64];
    int rc;

    *out = NULL;
    if (strcmp(ctx->opts->nic, "virtio-net"))
        return errbuf_set(err, errlen, -EINVAL,
                          "--nic %s: QEMU offers only virtio-net here (a VMBus NIC needs OpenVMM)",
                          ctx->opts->nic);
    for (unsigned attempt = 1;; attempt++) {
        /* A retry's logs go beside the failed boot's, which explain the retry. */
        if (attempt == 1)
            snprintf(vm_name, sizeof(vm_name), "%s", test);
        else
            snprintf(vm_name, sizeof(vm_name), "%s-boot%u", test, attempt);
        rc = guest_net_try(ctx, test, vm_name, out, err, errlen);
        if (!vm_boot_retry(test, rc, attempt, err))
            return rc;
    }
}

bool guest_net_cpu_now(const struct guest_net *g, struct cpu_reading *r)
{
    const struct cpu_source src = {
        .proc_root = "/proc",
        .hz = sysconf(_SC_CLK_TCK),
        .qemu = vm_qemu_pid(g->vm),
        .backend = g->backend.process,
        .helper = helper_pid(g->helper),
        .harness = getpid(),
    };

    return !cpu_read(&src, (double)clock_now_ms(), r);
}
