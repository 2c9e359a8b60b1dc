/* SPDX-License-Identifier: MIT */
/*
 * policy.c - parse and match the NAT policy's rules (see policy.h)
 *
 * Invariants: a parsed rule has net & ~mask == 0 and port_lo <= port_hi, so matching is one
 * mask, one compare and a range check per rule; rules are kept in the order given and never
 * reordered, because the first match decides.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "parse.h"
#include "policy.h"

#define RULE_FORM "expected CIDR[:PORT[-PORT]], e.g. 10.0.2.2:5201, 192.168.0.0/16 or 0.0.0.0/0:53"

static uint32_t prefix_mask(unsigned len)
{
    return len ? ~0u << (32 - len) : 0;
}

static int parse_port(const char *rule, const char *s, uint16_t *out, char *err, size_t errlen)
{
    unsigned long long v;
    int rc = parse_uint(s, 1, 65535, &v);

    if (rc == -ERANGE)
        return errbuf_set(err, errlen, -EINVAL, "'%s': port %s is out of range (1 to 65535)", rule,
                          s);
    if (rc)
        return errbuf_set(err, errlen, -EINVAL, "'%s': '%s' is not a port number (%s)", rule, s,
                          RULE_FORM);
    *out = (uint16_t)v;
    return 0;
}

int cm_rule_parse(const char *text, bool allow, struct cm_rule *out, char *err, size_t errlen)
{
    char buf[64];
    char *ports, *slash, *dash;
    struct cm_rule r = {.allow = allow, .port_lo = 0, .port_hi = 65535};
    unsigned long long plen = 32;
    struct in_addr a;
    int rc;

    if (!text[0])
        return errbuf_set(err, errlen, -EINVAL, "empty rule (%s)", RULE_FORM);
    if (strlen(text) >= sizeof(buf))
        return errbuf_set(err, errlen, -EINVAL, "'%.40s...' is too long for a rule (%s)", text,
                          RULE_FORM);
    snprintf(buf, sizeof(buf), "%s", text);
    ports = strchr(buf, ':');
    if (ports)
        *ports++ = '\0';
    slash = strchr(buf, '/');
    if (slash) {
        *slash++ = '\0';
        if (parse_uint(slash, 0, 32, &plen))
            return errbuf_set(err, errlen, -EINVAL,
                              "'%s': prefix length '/%s' is not a number from 0 to 32", text,
                              slash);
    }
    if (inet_pton(AF_INET, buf, &a) != 1)
        return errbuf_set(err, errlen, -EINVAL, "'%s': '%s' is not an IPv4 address (%s)", text, buf,
                          RULE_FORM);
    r.mask = prefix_mask((unsigned)plen);
    r.net = ntohl(a.s_addr);
    if (r.net & ~r.mask) {
        struct in_addr n = {.s_addr = htonl(r.net & r.mask)};
        char nbuf[INET_ADDRSTRLEN];

        inet_ntop(AF_INET, &n, nbuf, sizeof(nbuf));
        return errbuf_set(err, errlen, -EINVAL,
                          "'%s': the address has bits set beyond the /%llu prefix (did you mean "
                          "%s/%llu?)",
                          text, plen, nbuf, plen);
    }
    if (ports) {
        dash = strchr(ports, '-');
        if (dash)
            *dash++ = '\0';
        rc = parse_port(text, ports, &r.port_lo, err, errlen);
        if (rc)
            return rc;
        r.port_hi = r.port_lo;
        if (dash) {
            rc = parse_port(text, dash, &r.port_hi, err, errlen);
            if (rc)
                return rc;
            if (r.port_hi < r.port_lo)
                return errbuf_set(err, errlen, -EINVAL,
                                  "'%s': port range %u-%u is reversed (give LOW-HIGH)", text,
                                  r.port_lo, r.port_hi);
        }
    }
    *out = r;
    return 0;
}

int cm_policy_add(struct cm_policy *p, const char *text, bool allow, char *err, size_t errlen)
{
    struct cm_rule r;
    int rc;

    if (p->n >= CM_POLICY_MAX_RULES)
        return errbuf_set(err, errlen, -ENOSPC,
                          "'%s': more than %d rules (merge neighbouring networks or port ranges)",
                          text, CM_POLICY_MAX_RULES);
    rc = cm_rule_parse(text, allow, &r, err, errlen);
    if (rc)
        return rc;
    p->rule[p->n++] = r;
    return 0;
}

bool cm_policy_allows(const struct cm_policy *p, uint32_t dst, uint16_t port, int *rule)
{
    for (unsigned i = 0; i < p->n; i++) {
        const struct cm_rule *r = &p->rule[i];

        if ((dst & r->mask) == r->net && port >= r->port_lo && port <= r->port_hi) {
            if (rule)
                *rule = (int)i;
            return r->allow;
        }
    }
    if (rule)
        *rule = -1;
    return true;
}

void cm_rule_format(const struct cm_rule *r, char *buf, size_t len)
{
    struct in_addr a = {.s_addr = htonl(r->net)};
    char addr[INET_ADDRSTRLEN];
    unsigned plen = 0;

    for (uint32_t m = r->mask; m; m <<= 1)
        plen++;
    inet_ntop(AF_INET, &a, addr, sizeof(addr));
    if (r->port_lo == 0 && r->port_hi == 65535)
        snprintf(buf, len, "%s %s/%u", r->allow ? "allow" : "deny", addr, plen);
    else if (r->port_lo == r->port_hi)
        snprintf(buf, len, "%s %s/%u:%u", r->allow ? "allow" : "deny", addr, plen, r->port_lo);
    else
        snprintf(buf, len, "%s %s/%u:%u-%u", r->allow ? "allow" : "deny", addr, plen, r->port_lo,
                 r->port_hi);
}

bool cm_ratelimit_allow(struct cm_ratelimit *rl, uint64_t now_ms)
{
    if (!rl->primed) {
        rl->primed = true;
        rl->tokens = CM_ICMP_BURST;
        rl->last_ms = now_ms;
    }
    if (now_ms > rl->last_ms) {
        /* CM_ICMP_PER_MS >= 1: CM_ICMP_BURST ms refill any bucket (and cannot overflow) */
        uint64_t elapsed = now_ms - rl->last_ms, sum = CM_ICMP_BURST;

        if (elapsed < CM_ICMP_BURST)
            sum = rl->tokens + elapsed * CM_ICMP_PER_MS;
        rl->tokens = sum > CM_ICMP_BURST ? CM_ICMP_BURST : (uint32_t)sum;
        rl->last_ms = now_ms;
    }
    if (!rl->tokens)
        return false;
    rl->tokens--;
    return true;
}
