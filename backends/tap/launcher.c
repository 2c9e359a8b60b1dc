/* SPDX-License-Identifier: MIT */
/*
 * backend_tap - the guest's NIC on a kernel TAP device in the helper's own namespace
 *
 * The helper moves into a fresh user+network namespace and creates tap0 there (192.168.100.1/24,
 * IFF_VNET_HDR); QEMU gets the TAP's descriptor as `-netdev tap,fd=N` alone (QEMU 7.2 probes
 * the vnet header itself and refuses vnet_hdr=, ifname= or script= next to fd=). The guest is
 * 192.168.100.2/24 and the iperf3 servers listen on 192.168.100.1 inside the namespace, so the
 * traffic crosses the kernel's TAP datapath and the host's own network is never touched.
 */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "errbuf.h"
#include "helper.h"

#define TAP_NAME       "tap0"
#define TAP_HOST       "192.168.100.1"
#define TAP_GUEST      "192.168.100.2"
#define TAP_PREFIX     24
#define TAP_MTU        1500
#define TAP_IPERF_PORT 5201

static int tap_prepare(struct backend *b, const struct backend_ctx *ctx, char *err, size_t errlen)
{
    /* tap0 and the guest's NIC get the same MTU: the host's segments fit the guest's */
    const unsigned mtu = ctx->mtu ? ctx->mtu : TAP_MTU;
    const struct helper_tap_opts o = {
        .name = TAP_NAME,
        .cidr = TAP_HOST "/24",
        .mtu = mtu,
    };
    int fd = -1, rc;

    rc = helper_setup_tap(ctx->helper, &o, &fd, err, errlen);
    if (rc)
        return rc;
    b->fds[0] = fd;
    b->n_fds = 1;
    snprintf(b->netdev, sizeof(b->netdev), "tap,id=%s,fd=%d", BACKEND_NETDEV_ID, fd);
    b->guest.mode = AGENT_NIC_STATIC;
    snprintf(b->guest.address, sizeof(b->guest.address), "%s", TAP_GUEST);
    b->guest.prefix = TAP_PREFIX;
    b->guest.gateway[0] = '\0'; /* one subnet: no route beyond it is needed or wanted */
    b->guest.mtu = mtu;
    snprintf(b->server_bind, sizeof(b->server_bind), "%s", TAP_HOST);
    snprintf(b->server_addr, sizeof(b->server_addr), "%s", TAP_HOST);
    b->server_port = TAP_IPERF_PORT;
    b->server_in_helper_ns = true;
    return 0;
}

static void tap_teardown(struct backend *b)
{
    backend_close_fds(b);
}

const struct backend_ops backend_tap_ops = {
    .name = "tap",
    .prepare = tap_prepare,
    .teardown = tap_teardown,
};
