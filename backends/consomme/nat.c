/* SPDX-License-Identifier: MIT */
/*
 * nat.c - where a guest's packet may go: cm_host_dest(), the one place that decides
 *
 * First the addresses no packet may go to at all (cm_dst_refused(): the IPv4 layer's check of
 * every packet, and udp.c's once DHCP is set apart; they call down here, not into each other).
 * Then the --allow/--deny rules (policy.c, pure parse and match), then the host's loopback and
 * own addresses, reachable only through the gateway address; the gateway maps to the host's
 * 127.0.0.1 and the DNS address to the resolver. tcp.c and udp.c only answer a refusal (RST,
 * ICMP administratively prohibited), counted here per reason.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "clock.h"
#include "core.h"

/*
 * Whether @addr is one of the host's own addresses, asked of the kernel at the moment of the
 * connection: a route to a local address is a local route, whose source is the address
 * itself. A connected UDP socket sends nothing, so nothing reaches the address to find out.
 * Unreachable is not local; a probe that cannot even be made counts as local (refuse when
 * unsure).
 */
static bool host_owns(uint32_t addr)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
    socklen_t len = sizeof(sa);
    bool own = true;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return true;
    sa.sin_addr.s_addr = htonl(addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
        own = false;
    else if (!getsockname(fd, (struct sockaddr *)&sa, &len))
        own = ntohl(sa.sin_addr.s_addr) == addr;
    close(fd);
    return own;
}

bool cm_dst_refused(const struct cm_config *cfg, uint32_t dst, uint8_t proto)
{
    uint32_t bcast = (cfg->guest_ip & cfg->netmask) | ~cfg->netmask;

    return dst == cfg->guest_ip || dst == bcast || dst == 0xffffffffu ||
           (dst >> 28) == 0xe /* multicast */ || (dst >> 24) == 0 ||
           ((dst >> 24) == 127 && proto != IPPROTO_TCP && proto != IPPROTO_UDP);
}

static int refuse(struct consomme *c, uint8_t proto, enum cm_refuse why)
{
    if (proto == IPPROTO_TCP)
        c->st.refused_tcp[why]++;
    else
        c->st.refused_udp[why]++;
    return -EACCES;
}

int cm_host_dest(struct consomme *c, uint8_t proto, uint32_t dst, uint16_t port,
                 struct sockaddr_in *out)
{
    const struct cm_config *cfg = &c->opts.cfg;
    bool mapped = dst == cfg->gw_ip || dst == cfg->dns_ip;

    /* the host's own loopback and addresses only through the gateway, whatever the rules */
    if (!mapped && (dst >> 24) == 127)
        return refuse(c, proto, CM_REFUSE_HOST_LOOPBACK);
    if (!cm_policy_allows(&c->opts.policy, dst, port, NULL))
        return refuse(c, proto, CM_REFUSE_RULE);
    *out = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port)};
    if (dst == cfg->gw_ip) {
        out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (dst == cfg->dns_ip) {
        if (port != 53)
            return -ECONNREFUSED;
        if (!c->have_resolver)
            return -EHOSTUNREACH;
        *out = c->resolver;
    } else {
        if (host_owns(dst))
            return refuse(c, proto, CM_REFUSE_HOST_ADDRESS);
        out->sin_addr.s_addr = htonl(dst);
    }
    return 0;
}
