/* SPDX-License-Identifier: MIT */
/*
 * policy.h - which destinations a guest may reach through consomme's NAT
 *
 * A policy is an ordered list of rules "allow CIDR[:PORT[-PORT]]" / "deny ...", matched
 * against the destination address and port as the guest addressed them (10.0.2.2 is the
 * gateway, not the host's 127.0.0.1 it leads to). The first rule that matches decides; with
 * none matching the flow is allowed, as a NAT router would (end a list with "deny 0.0.0.0/0"
 * to allow only what is listed). A rule without a port matches every port; rules apply to TCP
 * and UDP alike.
 *
 * Pure functions over plain values: no allocation, no I/O, so the parser and the matcher are
 * tested without a stack (tests/unit/test_policy.c). What the core adds on top (the host's
 * loopback and its own addresses, which no rule can open) lives in nat.c.
 */
#ifndef CONSOMME_POLICY_H
#define CONSOMME_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Rules one policy holds; more is refused with a message rather than silently truncated. */
#define CM_POLICY_MAX_RULES 64
/* Longest text cm_rule_format() writes, with its NUL: "allow 255.255.255.255/32:65535-65535". */
#define CM_RULE_TEXT_MAX 48

struct cm_rule {
    bool allow;
    uint32_t net;              /* host byte order, host bits zero */
    uint32_t mask;             /* host byte order, from the prefix length */
    uint16_t port_lo, port_hi; /* inclusive; 0-65535 when the rule names no port */
};

struct cm_policy {
    unsigned n;
    struct cm_rule rule[CM_POLICY_MAX_RULES];
};

/**
 * cm_rule_parse() - Parse one rule's text
 * @text:	"CIDR[:PORT[-PORT]]": 10.0.2.2, 10.0.2.2:5201, 192.168.0.0/16:1024-65535, 0.0.0.0/0
 * @allow:	Whether the rule allows (--allow) or denies (--deny)
 * @out:	Rule, written only on success
 * @err:	Error buffer, naming what is wrong and the expected form
 * @errlen:	Size of @err
 *
 * An address with bits set beyond its prefix (10.0.2.15/24) is refused rather than guessed
 * at: the message names the network it probably means.
 *
 * Return: 0 or -EINVAL
 */
int cm_rule_parse(const char *text, bool allow, struct cm_rule *out, char *err, size_t errlen);

/**
 * cm_policy_add() - Parse a rule and append it to @p
 * @p:		Policy
 * @text:	Rule text, as for cm_rule_parse()
 * @allow:	Allow or deny
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0, -EINVAL (malformed) or -ENOSPC (more than CM_POLICY_MAX_RULES rules)
 */
int cm_policy_add(struct cm_policy *p, const char *text, bool allow, char *err, size_t errlen);

/**
 * cm_policy_allows() - Whether the first matching rule allows @dst:@port
 * @p:		Policy
 * @dst:	Destination as the guest addressed it, host byte order
 * @port:	Destination port
 * @rule:	Set to the index of the deciding rule, -1 when none matched; may be NULL
 *
 * Return: true when allowed (a matching allow rule, or no match at all)
 */
bool cm_policy_allows(const struct cm_policy *p, uint32_t dst, uint16_t port, int *rule);

/**
 * cm_rule_format() - A rule as text, in the form cm_rule_parse() reads (for the stats dump)
 * @r:		Rule
 * @buf:	Output, at least CM_RULE_TEXT_MAX bytes for the whole text
 * @len:	Size of @buf
 */
void cm_rule_format(const struct cm_rule *r, char *buf, size_t len);

/*
 * The ICMP errors consomme sends the guest (a refused UDP datagram's "administratively
 * prohibited", a host's "port unreachable" relayed) go through one token bucket, as Linux's
 * own ICMP errors go through its global limiter: CM_ICMP_PER_MS tokens a millisecond, at most
 * CM_ICMP_BURST saved up; Linux's defaults (net.ipv4.icmp_msgs_per_sec = 1000,
 * icmp_msgs_burst = 50). A global bucket rather than Linux's per-destination icmp_ratelimit
 * (one a second per peer): there is one guest, a program of its that probes a few refused
 * ports in a row must get its errors at once, and what needs bounding is a guest flooding
 * refused datagrams, which would otherwise have consomme build and queue one error each
 * (1000/s of 70-byte frames is 70 kB/s, nothing for the guest's queue). Suppressed errors are
 * counted (stats: udp.icmp_errors_rate_limited); the datagram is refused all the same.
 */
#define CM_ICMP_PER_MS 1
#define CM_ICMP_BURST  50

struct cm_ratelimit {
    uint64_t last_ms; /* when tokens were last added */
    uint32_t tokens;
    bool primed; /* zeroed state: full bucket at the first call */
};

/**
 * cm_ratelimit_allow() - Take a token if there is one
 * @rl:		Bucket (zero-initialised starts full)
 * @now_ms:	Monotonic milliseconds
 *
 * Return: true if the error may be sent
 */
bool cm_ratelimit_allow(struct cm_ratelimit *rl, uint64_t now_ms);

#endif /* CONSOMME_POLICY_H */
