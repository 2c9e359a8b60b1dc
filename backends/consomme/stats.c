/* SPDX-License-Identifier: MIT */
/*
 * stats.c - the counters as JSON, for --stats FILE and SIGUSR1
 *
 * Every drop reason and every NAT policy refusal reason appears, zero or not, so a reader can
 * rely on the keys. The file is written to a temporary name and renamed, so a reader never sees
 * half a dump — except under the sandbox, where it is rewritten in place through a descriptor
 * opened beforehand.
 */
#include <errno.h>
#include <stdio.h>
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

/* "policy": the rules in force, and refused TCP SYNs and UDP datagrams per reason. */
static json_t *policy_json(const struct consomme *c)
{
    const struct cm_policy *p = &c->opts.policy;
    json_t *o = json_object(), *rules = json_array(), *tcp = json_object(), *udp = json_object();
    char text[CM_RULE_TEXT_MAX];

    if (!o || !rules || !tcp || !udp) {
        json_decref(o);
        json_decref(rules);
        json_decref(tcp);
        json_decref(udp);
        return NULL;
    }
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

    if (!o || !drops || !udp || !conf) {
        json_decref(o);
        json_decref(drops);
        json_decref(udp);
        json_decref(conf);
        return NULL;
    }
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

/* Sandboxed (sandbox.c), consomme may no longer create files in the stats file's directory:
 * it rewrites the file it opened before, whole, in one write, then cuts it to length. */
static int write_in_place(int fd, json_t *o, const char *path, char *err, size_t errlen)
{
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    size_t len = text ? strlen(text) : 0;
    int rc = 0;

    if (!text)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory writing statistics");
    if (pwrite(fd, text, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len))
        rc = errbuf_set(err, errlen, -errno, "cannot write statistics to %s: %s", path,
                        strerror(errno));
    free(text);
    return rc;
}

/**
 * cm_stats_write() - Dump the counters
 * @c:		Stack
 * @path:	File to (re)write atomically, or NULL for stderr
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0 or negative errno
 */
int cm_stats_write(const struct consomme *c, const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    json_t *o = cm_stats_json(c);
    int rc = 0;

    if (!o)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory writing statistics");
    if (!path) {
        json_dumpf(o, stderr, JSON_INDENT(2) | JSON_SORT_KEYS);
        fputc('\n', stderr);
        goto out;
    }
    if (c->stats_fd >= 0) {
        rc = write_in_place(c->stats_fd, o, path, err, errlen);
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
