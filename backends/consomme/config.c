/* SPDX-License-Identifier: MIT */
/*
 * config.c - defaults and validation of everything a user can set on consomme
 *
 * The command line and the tests go through the same functions, so a value the tests accept
 * is exactly a value the program accepts. Addresses follow QEMU's user networking (10.0.2.x)
 * so guests configured for slirp work unchanged.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "errbuf.h"
#include "parse.h"
#include "ring.h"

/*
 * A sixteenth of physical memory: what Linux allows all TCP sockets together before it
 * starts to press on their buffers (tcp_mem[1], "pressure"), so consomme's rings, which stand
 * in for the guest's socket buffers, hold no more than the kernel's own would. Without a
 * figure from sysconf, 1 GiB.
 */
static uint64_t cm_default_buffer_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

    if (pages <= 0 || size <= 0)
        return 1ull << 30;
    return (uint64_t)pages * (uint64_t)size / 16;
}

/**
 * cm_opts_default() - Fill @o with the documented defaults
 * @o:		Options to fill
 */
void cm_opts_default(struct cm_opts *o)
{
    static const uint8_t gw_mac[ETH_ALEN_] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};

    memset(o, 0, sizeof(*o));
    o->cfg.guest_ip = 0x0a00020f; /* 10.0.2.15 */
    o->cfg.gw_ip = 0x0a000202;
    o->cfg.dns_ip = 0x0a000203;
    o->cfg.netmask = 0xffffff00;
    memcpy(o->cfg.gw_mac, gw_mac, sizeof(gw_mac));
    o->cfg.mtu = CM_MTU_DEFAULT;
    o->cfg.tcp_rx = (struct cm_tcp_bounds){16u << 10, 4u << 20};
    o->cfg.tcp_tx = (struct cm_tcp_bounds){16u << 10, 4u << 20};
    o->cfg.max_connections = 4096;
    o->cfg.max_buffer_memory = cm_default_buffer_memory();
    o->udp_timeout_s = 180;
    o->max_udp_flows = 4096;
}

static uint64_t round_pow2(uint64_t v)
{
    uint64_t p = 1;

    while (p < v)
        p <<= 1;
    return p;
}

/**
 * cm_parse_tcp_bounds() - Parse "INITIAL[:MAX]" for --tcp-rx-buffer / --tcp-tx-buffer
 * @s:		Text such as "256K", "16K:4M"; without ":MAX" the ring is fixed at INITIAL
 * @out:	Bounds, each rounded up to a power of two (at least the ring's minimum), written
 *		only on success
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * This is the one place user-given ring bounds are validated; tcp.c takes them as they are.
 *
 * Return: 0, or -EINVAL (malformed, zero, INITIAL > MAX, MAX above 1 GiB) / -ERANGE
 */
int cm_parse_tcp_bounds(const char *s, struct cm_tcp_bounds *out, char *err, size_t errlen)
{
    char buf[64];
    const char *colon = strchr(s, ':');
    uint64_t init, max;
    int rc;

    if (strlen(s) >= sizeof(buf))
        return errbuf_set(err, errlen, -EINVAL, "'%s' is too long for a buffer size", s);
    snprintf(buf, sizeof(buf), "%s", s);
    if (colon)
        buf[colon - s] = '\0';
    rc = parse_size(buf, &init);
    if (rc)
        return errbuf_set(err, errlen, rc,
                          "'%s' is not a size (expected INITIAL[:MAX] such as 16K:4M)", s);
    if (colon) {
        rc = parse_size(colon + 1, &max);
        if (rc)
            return errbuf_set(err, errlen, rc,
                              "'%s' is not a size (expected INITIAL[:MAX] such as 16K:4M)", s);
    } else {
        max = init;
    }
    if (init == 0 || max == 0)
        return errbuf_set(err, errlen, -EINVAL, "'%s': buffer sizes must be nonzero", s);
    if (init > max)
        return errbuf_set(err, errlen, -EINVAL,
                          "'%s': INITIAL must not exceed MAX (for a fixed size give one value)", s);
    /* A TCP window with the largest scale cannot advertise more than the ring's maximum. */
    if (max > RING_MAX_CAP)
        return errbuf_set(err, errlen, -EINVAL, "'%s': MAX must be at most 1G", s);
    init = round_pow2(init < RING_MIN_CAP ? RING_MIN_CAP : init);
    max = round_pow2(max < RING_MIN_CAP ? RING_MIN_CAP : max);
    out->initial = (uint32_t)init;
    out->max = (uint32_t)max;
    return 0;
}

/**
 * cm_resolv_conf_nameserver() - First IPv4 nameserver of a resolv.conf file
 * @path:	Usually /etc/resolv.conf
 * @out:	Address with port 53, written only on success
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0, -ENOENT when the file has no IPv4 nameserver line, or the open error
 */
int cm_resolv_conf_nameserver(const char *path, struct sockaddr_in *out, char *err, size_t errlen)
{
    char line[512];
    int rc = -ENOENT;
    FILE *f = fopen(path, "re");

    if (!f)
        return errbuf_set(err, errlen, -errno, "cannot read %s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f)) {
        char *p = line, *end;
        struct in_addr a;

        while (isspace((unsigned char)*p))
            p++;
        if (strncmp(p, "nameserver", 10) || !isspace((unsigned char)p[10]))
            continue;
        p += 10;
        while (isspace((unsigned char)*p))
            p++;
        end = p;
        while (*end && !isspace((unsigned char)*end))
            end++;
        *end = '\0';
        if (inet_pton(AF_INET, p, &a) != 1)
            continue; /* IPv6 nameservers cannot serve an IPv4-only NAT */
        memset(out, 0, sizeof(*out));
        out->sin_family = AF_INET;
        out->sin_port = htons(53);
        out->sin_addr = a;
        rc = 0;
        break;
    }
    fclose(f);
    if (rc)
        errbuf_set(err, errlen, rc, "%s lists no IPv4 nameserver", path);
    return rc;
}

/**
 * cm_parse_buffer_memory() - Parse --max-buffer-memory
 * @s:		Size such as "512M", "2G"
 * @out:	Bytes, written only on success
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Whether it holds one connection's rings is checked by cm_opts_check(), once the ring
 * options are known whatever their order.
 *
 * Return: 0 or -EINVAL
 */
int cm_parse_buffer_memory(const char *s, uint64_t *out, char *err, size_t errlen)
{
    uint64_t v;

    if (parse_size(s, &v) || !v)
        return errbuf_set(err, errlen, -EINVAL,
                          "'%s' is not a size (a nonzero number of bytes with an optional K, M "
                          "or G, e.g. 512M)",
                          s);
    *out = v;
    return 0;
}

/**
 * cm_opts_check() - What only the options together can show to be wrong
 * @o:		Options, all parsed
 * @err:	Error buffer, naming the options concerned
 * @errlen:	Size of @err
 *
 * Return: 0 or -EINVAL
 */
int cm_opts_check(const struct cm_opts *o, char *err, size_t errlen)
{
    uint64_t one = (uint64_t)o->cfg.tcp_rx.initial + o->cfg.tcp_tx.initial;

    if (o->cfg.max_buffer_memory < one)
        return errbuf_set(err, errlen, -EINVAL,
                          "--max-buffer-memory %llu is below one connection's initial rings "
                          "(%llu bytes: --tcp-rx-buffer and --tcp-tx-buffer INITIAL together), "
                          "so every connection would be refused",
                          (unsigned long long)o->cfg.max_buffer_memory, (unsigned long long)one);
    return 0;
}
