/* SPDX-License-Identifier: MIT */
/*
 * backend_slirp - QEMU's user networking (libslirp), the classic peer for comparison
 *
 * Nothing runs beside QEMU: the stack lives inside it, so --perf-dir's QEMU recording covers
 * it. The guest is 10.0.2.15/24 with gateway 10.0.2.2, as slirp's defaults have it (given
 * explicitly, so a QEMU with other defaults still matches), MTU 1500 as slirp gives it.
 * Connections from the guest to 10.0.2.2 leave QEMU as connections to the host's 127.0.0.1,
 * so the iperf3 servers listen there, in the host's namespace, on a port free at the time.
 */
#include <stdio.h>

#include "backend.h"

#define SLIRP_NET      "10.0.2.0/24"
#define SLIRP_HOST     "10.0.2.2"
#define SLIRP_GUEST    "10.0.2.15"
#define SLIRP_PREFIX   24
#define SLIRP_MTU      1500
#define SLIRP_LOOPBACK "127.0.0.1"

static int slirp_prepare(struct backend *b, const struct backend_ctx *ctx, char *err, size_t errlen)
{
    int rc;

    (void)ctx;
    rc = backend_loopback_port(&b->server_port, err, errlen);
    if (rc)
        return rc;
    /* ipv6=off: the guest is configured for IPv4 only; no second stack to keep busy */
    snprintf(b->netdev, sizeof(b->netdev), "user,id=%s,net=%s,host=%s,ipv6=off", BACKEND_NETDEV_ID,
             SLIRP_NET, SLIRP_HOST);
    backend_nat_guest(b, SLIRP_GUEST, SLIRP_PREFIX, SLIRP_HOST, SLIRP_MTU, SLIRP_LOOPBACK);
    b->process = 0;
    return 0;
}

static void slirp_teardown(struct backend *b)
{
    (void)b;
}

const struct backend_ops backend_slirp_ops = {
    .name = "slirp",
    .fixed_mtu = SLIRP_MTU,
    .prepare = slirp_prepare,
    .teardown = slirp_teardown,
};
