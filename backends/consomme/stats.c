/* SPDX-License-Identifier: MIT */
/*
 * stats.c - the counters as JSON, for --stats FILE and SIGUSR1
 *
 * Every drop reason and every NAT policy refusal reason appears, zero or not, so a reader can
 * rely on the keys; "snapshot" counts the dumps written (1, 2, ...), so a reader can tell a new
 * one from the last.
 *
 * Whole snapshots: unsandboxed, the file is written to a temporary name and renamed, so a
 * reader never sees half a dump. Under the sandbox consomme may no longer create files (no
 * openat, and as nobody no write access to the directory), so it rewrites the file it opened
 * beforehand, in place: pwrite() then ftruncate(), under an exclusive flock(2) on that
 * descriptor. A reader that may run meanwhile takes a shared one (flock -s FILE cat FILE, or
 * LOCK_SH in code) and sees either the last snapshot or the next, never a mix. flock was chosen
 * over a generation/length header because every language and the shell can take one, while a
 * header needs a reader written for it, and the file stays plain JSON. A reader cannot stall
 * consomme through it: a SIGUSR1 dump that finds the lock taken is retried from the loop every
 * CM_STATS_RETRY_MS without blocking it; only the last dump, on exit, waits for the lock, at
 * most CM_STATS_LOCK_WAIT_MS, and is then written anyway (the final counters matter more than
 * a reader that holds its lock that long).
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "errbuf.h"

static const char *const drop_names[CM_DROP__COUNT] = {
    [CM_DROP_FRAME_SHORT] = "frame_short",
    [CM_DROP_FRAME_TOO_LONG] = "frame_too_long",
    [CM_DROP_ETH_DST] = "eth_dst",
    [CM_DROP_ETHERTYPE] = "ethertype",
    [CM_DROP_ARP_MALFORMED] = "arp_malformed",
    [CM_DROP_ARP_UNHANDLED] = "arp_unhandled",
    [CM_DROP_IPV4_SHORT] = "ipv4_short",
    [CM_DROP_IPV4_VERSION] = "ipv4_version",
    [CM_DROP_IPV4_IHL] = "ipv4_ihl",
    [CM_DROP_IPV4_LENGTH] = "ipv4_length",
    [CM_DROP_IPV4_CHECKSUM] = "ipv4_checksum",
    [CM_DROP_IPV4_FRAGMENT] = "ipv4_fragment",
    [CM_DROP_IPV4_SRC] = "ipv4_src",
    [CM_DROP_IPV4_DST] = "ipv4_dst",
    [CM_DROP_IPV4_PROTO] = "ipv4_proto",
    [CM_DROP_ICMP_MALFORMED] = "icmp_malformed",
    [CM_DROP_ICMP_UNHANDLED] = "icmp_unhandled",
    [CM_DROP_UDP_MALFORMED] = "udp_malformed",
    [CM_DROP_UDP_FLOW_LIMIT] = "udp_flow_limit",
    [CM_DROP_UDP_SOCKET] = "udp_socket",
    [CM_DROP_UDP_SEND] = "udp_send",
    [CM_DROP_UDP_TOO_BIG] = "udp_too_big",
    [CM_DROP_DHCP_MALFORMED] = "dhcp_malformed",
    [CM_DROP_DHCP_UNHANDLED] = "dhcp_unhandled",
    [CM_DROP_DNS_NO_RESOLVER] = "dns_no_resolver",
    [CM_DROP_GUEST_QUEUE] = "guest_queue_full",
    [CM_DROP_GUEST_WRITE] = "guest_write",
};

static const char *const refuse_names[CM_REFUSE__COUNT] = {
    [CM_REFUSE_RULE] = "rule",
    [CM_REFUSE_HOST_LOOPBACK] = "host_loopback",
    [CM_REFUSE_HOST_ADDRESS] = "host_address",
};

/**
 * cm_refuse_name() - Stable name of a NAT policy refusal reason, as used in the stats dump
 * @why:	Reason
 *
 * Return: name
 */
const char *cm_refuse_name(enum cm_refuse why)
{
    return (unsigned)why < CM_REFUSE__COUNT ? refuse_names[why] : "unknown";
}

/**
 * cm_drop_name() - Stable name of a drop reason, as used in the stats dump
 * @why:	Reason
 *
 * Return: name
 */
const char *cm_drop_name(enum cm_drop why)
{
    return (unsigned)why < CM_DROP__COUNT ? drop_names[why] : "unknown";
}

static void set_u64(json_t *o, const char *k, uint64_t v)
{
    json_object_set_new(o, k, json_integer((json_int_t)v));
}

/* Whether all @n new containers were made; if one was not, none is kept (all are released). */
static bool all_made(json_t *const *v, size_t n)
{
    bool ok = true;

    for (size_t i = 0; i < n; i++)
        ok = ok && v[i];
    for (size_t i = 0; !ok && i < n; i++)
        json_decref(v[i]);
    return ok;
}

/* "policy": the rules in force, and refused TCP SYNs and UDP datagrams per reason. */
static json_t *policy_json(const struct consomme *c)
{
    const struct cm_policy *p = &c->opts.policy;
    json_t *o = json_object(), *rules = json_array(), *tcp = json_object(), *udp = json_object();
    char text[CM_RULE_TEXT_MAX];

    if (!all_made((json_t *[]){o, rules, tcp, udp}, 4))
        return NULL;
    for (unsigned i = 0; i < p->n; i++) {
        cm_rule_format(&p->rule[i], text, sizeof(text));
        json_array_append_new(rules, json_string(text));
    }
    for (int i = 0; i < CM_REFUSE__COUNT; i++) {
        set_u64(tcp, refuse_names[i], c->st.refused_tcp[i]);
        set_u64(udp, refuse_names[i], c->st.refused_udp[i]);
    }
    json_object_set_new(o, "rules", rules);
    json_object_set_new(o, "refused_tcp", tcp);
    json_object_set_new(o, "refused_udp", udp);
    return o;
}

/**
 * cm_stats_json() - All counters as a JSON object
 * @c:		Stack
 *
 * Return: new reference, or NULL on allocation failure
 */
json_t *cm_stats_json(const struct consomme *c)
{
    const struct cm_stats *s = &c->st;
    const struct cm_config *cfg = &c->opts.cfg;
    json_t *o = json_object(), *drops = json_object(), *udp = json_object(), *conf = json_object();
    uint64_t total = 0;

    if (!all_made((json_t *[]){o, drops, udp, conf}, 4))
        return NULL;
    set_u64(o, "frames_in", s->frames_in);
    set_u64(o, "bytes_in", s->bytes_in);
    set_u64(o, "frames_out", s->frames_out);
    set_u64(o, "bytes_out", s->bytes_out);
    set_u64(o, "tso_frames_out", s->tso_frames_out);
    set_u64(o, "tso_segs_out", s->tso_segs_out);
    set_u64(o, "batches_in", s->batches);
    set_u64(o, "guest_queue_full", s->guest_queue_full);
    for (int i = 0; i < CM_DROP__COUNT; i++) {
        set_u64(drops, drop_names[i], s->drops[i]);
        total += s->drops[i];
    }
    set_u64(o, "drops_total", total);
    json_object_set_new(o, "drops", drops);
    set_u64(o, "arp_replies", s->arp_replies);
    set_u64(o, "dhcp_offers", s->dhcp_offers);
    set_u64(o, "dhcp_acks", s->dhcp_acks);
    set_u64(o, "dhcp_naks", s->dhcp_naks);
    set_u64(o, "icmp_echo_replies", s->icmp_echo_replies);
    set_u64(udp, "flows_open", udp_flow_count(c));
    set_u64(udp, "flows_total", s->udp_flows_total);
    set_u64(udp, "flows_expired", s->udp_flows_expired);
    set_u64(udp, "datagrams_to_host", s->udp_datagrams_out);
    set_u64(udp, "datagrams_to_guest", s->udp_datagrams_in);
    set_u64(udp, "port_unreachable_to_guest", s->udp_port_unreachable);
    set_u64(udp, "icmp_errors_rate_limited", s->icmp_rate_limited);
    json_object_set_new(o, "udp", udp);
    set_u64(conf, "mtu", cfg->mtu);
    set_u64(conf, "tcp_rx_buffer_initial", cfg->tcp_rx.initial);
    set_u64(conf, "tcp_rx_buffer_max", cfg->tcp_rx.max);
    set_u64(conf, "tcp_tx_buffer_initial", cfg->tcp_tx.initial);
    set_u64(conf, "tcp_tx_buffer_max", cfg->tcp_tx.max);
    set_u64(conf, "max_connections", cfg->max_connections);
    set_u64(conf, "max_buffer_memory", cfg->max_buffer_memory);
    json_object_set_new(o, "config", conf);
    json_object_set_new(o, "policy", policy_json(c));
    if (c->tcp_state)
        tcp_stats_json(c, o);
    return o;
}

/* Exclusive lock on @fd, retried every millisecond for up to @wait_ms: 0 or -EWOULDBLOCK. */
static int lock_within(int fd, int wait_ms)
{
    uint64_t deadline = cm_now_ms() + (uint64_t)wait_ms;

    for (;;) {
        if (!flock(fd, LOCK_EX | LOCK_NB))
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return -errno;
        if (cm_now_ms() >= deadline)
            return -EWOULDBLOCK;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

/*
 * Rewrite the file opened before the sandbox, whole, under an exclusive flock: pwrite(), then
 * cut to length. With @force, a lock still held by a reader after @wait_ms does not stop the
 * write; without, nothing is written and -EWOULDBLOCK returned.
 */
static int write_in_place(struct consomme *c, const char *path, int wait_ms, bool force, char *err,
                          size_t errlen)
{
    json_t *o = cm_stats_json(c);
    char *text = NULL;
    size_t len;
    int rc, locked;

    if (!o)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory writing statistics");
    locked = lock_within(c->stats_fd, wait_ms);
    if (locked && !force) {
        json_decref(o);
        return locked == -EWOULDBLOCK
                   ? locked
                   : errbuf_set(err, errlen, locked, "cannot lock %s: %s", path, strerror(-locked));
    }
    json_object_set_new(o, "snapshot", json_integer((json_int_t)(c->stats_snapshot + 1)));
    text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    len = text ? strlen(text) : 0;
    if (!text)
        rc = errbuf_set(err, errlen, -ENOMEM, "out of memory writing statistics");
    else if (pwrite(c->stats_fd, text, len, 0) != (ssize_t)len ||
             ftruncate(c->stats_fd, (off_t)len))
        rc = errbuf_set(err, errlen, -errno, "cannot write statistics to %s: %s", path,
                        strerror(errno));
    else
        rc = 0;
    if (!rc)
        c->stats_snapshot++;
    if (!locked)
        flock(c->stats_fd, LOCK_UN);
    else if (!rc && locked == -EWOULDBLOCK)
        fprintf(stderr,
                "consomme: %s was still locked by a reader after %d ms: written all the same\n",
                path, wait_ms);
    free(text);
    json_decref(o);
    return rc;
}

/**
 * cm_stats_write() - Dump the counters, the last time (on exit)
 * @c:		Stack
 * @path:	File to (re)write as a whole snapshot, or NULL for stderr
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0 or negative errno
 */
int cm_stats_write(struct consomme *c, const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    json_t *o;
    int rc = 0;

    c->stats_pending = false;
    if (path && c->stats_fd >= 0)
        return write_in_place(c, path, CM_STATS_LOCK_WAIT_MS, true, err, errlen);
    o = cm_stats_json(c);
    if (!o)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory writing statistics");
    json_object_set_new(o, "snapshot", json_integer((json_int_t)++c->stats_snapshot));
    if (!path) {
        json_dumpf(o, stderr, JSON_INDENT(2) | JSON_SORT_KEYS);
        fputc('\n', stderr);
        goto out;
    }
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        rc = errbuf_set(err, errlen, -ENAMETOOLONG, "statistics path '%s' is too long", path);
        goto out;
    }
    if (json_dump_file(o, tmp, JSON_INDENT(2) | JSON_SORT_KEYS)) {
        rc = errbuf_set(err, errlen, -EIO,
                        "cannot write statistics to %s (is its directory "
                        "writable?)",
                        tmp);
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path)) {
        rc = errbuf_set(err, errlen, -errno, "cannot rename %s to %s: %s", tmp, path,
                        strerror(errno));
        unlink(tmp);
    }
out:
    json_decref(o);
    return rc;
}

/**
 * cm_stats_update() - Dump the counters now if no reader holds the file's lock (SIGUSR1)
 * @c:		Stack
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Never blocks the loop: with the lock taken, c->stats_pending stays set and the loop calls
 * this again CM_STATS_RETRY_MS later.
 *
 * Return: 0 (written, or left pending) or negative errno
 */
int cm_stats_update(struct consomme *c, char *err, size_t errlen)
{
    int rc;

    if (!c->opts.stats_path || c->stats_fd < 0)
        return cm_stats_write(c, c->opts.stats_path, err, errlen);
    rc = write_in_place(c, c->opts.stats_path, 0, false, err, errlen);
    c->stats_pending = rc == -EWOULDBLOCK;
    return c->stats_pending ? 0 : rc;
}
