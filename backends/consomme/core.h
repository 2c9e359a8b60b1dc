/* SPDX-License-Identifier: MIT */
/*
 * core.h - what the core's own files (transport, protocols, stats, the run command) share
 *
 * consomme.h is the contract with tcp.c; this header is private to the core. struct consomme
 * lives here so the protocol files can reach the counters directly: one thread, no locking.
 * Only transports touch their own fields (the stream/TAP queue, tr_priv); everything else
 * reaches the guest through eth.c and the transport interface (transport.h). The parsers and
 * encoders that tests exercise without a running stack (IPv4 validation, ARP, DHCP, option parsing)
 * are pure functions over byte buffers.
 */
#ifndef CONSOMME_CORE_H
#define CONSOMME_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <signal.h>

#include "byteorder.h"
#include "errbuf.h"

#include "consomme.h"
#include "event.h"
#include "mtu.h"
#include "policy.h"
#include "transport.h"

#define ETH_HLEN_ 14
#define ETH_ALEN_ 6
/* Largest frame either transport may carry: Ethernet header plus the largest IP MTU. */
#define CM_FRAME_MAX (ETH_HLEN_ + CM_MTU_MAX)
/* Frames from the guest may be a little larger than our MTU (its own MTU setting). */
#define CM_FRAME_IN_MAX (ETH_HLEN_ + 65535)

/* Why a frame was dropped; names in stats.c, same order. */
enum cm_drop {
    CM_DROP_FRAME_SHORT,     /* shorter than an Ethernet header */
    CM_DROP_FRAME_TOO_LONG,  /* stream length prefix beyond the largest frame */
    CM_DROP_ETH_DST,         /* not addressed to the gateway, broadcast or multicast */
    CM_DROP_ETHERTYPE,       /* neither IPv4 nor ARP (IPv6, VLAN, ...) */
    CM_DROP_ARP_MALFORMED,   /* short, or not Ethernet/IPv4 */
    CM_DROP_ARP_UNHANDLED,   /* a request for an address we do not answer for, or a reply */
    CM_DROP_IPV4_SHORT,      /* shorter than the 20-byte header */
    CM_DROP_IPV4_VERSION,    /* version != 4 */
    CM_DROP_IPV4_IHL,        /* header length < 20 or beyond the frame */
    CM_DROP_IPV4_LENGTH,     /* total length below the header or beyond the frame */
    CM_DROP_IPV4_CHECKSUM,   /* header checksum wrong */
    CM_DROP_IPV4_FRAGMENT,   /* fragments are not reassembled */
    CM_DROP_IPV4_SRC,        /* source is not the guest (and not DHCP's 0.0.0.0) */
    CM_DROP_IPV4_DST,        /* broadcast, multicast, or the guest itself */
    CM_DROP_IPV4_PROTO,      /* not ICMP, UDP or TCP */
    CM_DROP_ICMP_MALFORMED,  /* short or bad checksum */
    CM_DROP_ICMP_UNHANDLED,  /* not an echo request to the gateway or DNS address */
    CM_DROP_UDP_MALFORMED,   /* short, length field wrong, or bad checksum */
    CM_DROP_UDP_FLOW_LIMIT,  /* flow table full */
    CM_DROP_UDP_SOCKET,      /* host socket could not be opened or connected */
    CM_DROP_UDP_SEND,        /* host socket refused the datagram */
    CM_DROP_UDP_TOO_BIG,     /* host datagram larger than the guest MTU allows */
    CM_DROP_DHCP_MALFORMED,  /* not a BOOTREQUEST we can read */
    CM_DROP_DHCP_UNHANDLED,  /* a message type we do not answer */
    CM_DROP_DNS_NO_RESOLVER, /* DNS query but no host resolver known */
    CM_DROP_GUEST_QUEUE,     /* our own reply dropped: queue toward the guest full */
    CM_DROP_GUEST_WRITE,     /* the transport refused a frame (TAP write error) */
    CM_DROP__COUNT
};

/* Why the NAT policy refused a new TCP connection or UDP flow; names in stats.c, same order. */
enum cm_refuse {
    CM_REFUSE_RULE,          /* a --deny rule matched first */
    CM_REFUSE_HOST_LOOPBACK, /* 127.0.0.0/8: the host's loopback is reached via 10.0.2.2 only */
    CM_REFUSE_HOST_ADDRESS,  /* one of the host's own addresses, likewise */
    CM_REFUSE__COUNT
};

struct cm_stats {
    uint64_t frames_in, bytes_in;
    uint64_t frames_out, bytes_out;
    uint64_t drops[CM_DROP__COUNT];
    uint64_t arp_replies, dhcp_offers, dhcp_acks, dhcp_naks, icmp_echo_replies;
    uint64_t udp_flows_total, udp_flows_expired, udp_datagrams_out, udp_datagrams_in;
    uint64_t udp_port_unreachable; /* ICMP errors relayed to the guest */
    uint64_t icmp_rate_limited;    /* ICMP errors not sent: over cm_ratelimit_allow()'s rate */
    uint64_t guest_queue_full;     /* -ENOBUFS returned to a sender */
    uint64_t refused_tcp[CM_REFUSE__COUNT], refused_udp[CM_REFUSE__COUNT]; /* SYNs, datagrams */
    uint64_t batches;
    uint64_t tso_frames_out; /* TCP super-frames the guest segments (virtio-net GSO) */
    uint64_t tso_segs_out;   /* the segments they stand for */
};

enum cm_transport_kind {
    CM_TRANSPORT_NONE,       /* frames toward the guest are built and discarded (fuzzing, tests) */
    CM_TRANSPORT_STREAM,     /* QEMU -netdev stream: 4-byte big-endian length, then the frame */
    CM_TRANSPORT_TAP,        /* one frame per read()/write() */
    CM_TRANSPORT_VHOST_USER, /* virtqueues in guest memory shared by QEMU (vhost_user.c) */
};

/* Options of the core beyond what tcp.c sees in struct cm_config. */
struct cm_opts {
    struct cm_config cfg;
    unsigned udp_timeout_s; /* idle UDP flows are closed after this */
    unsigned max_udp_flows;
    /* Where DNS queries to dns_ip:53 go; port 0: the first nameserver in /etc/resolv.conf. */
    struct sockaddr_in dns_upstream;
    const char *stats_path;  /* --stats FILE, or NULL */
    struct cm_policy policy; /* --allow / --deny, in order */
};

struct udp_state;

struct consomme {
    struct cm_opts opts;
    struct cm_events events; /* the epoll set (event.h) */
    bool stop;
    int exit_code;
    char errmsg[ERRBUF_LEN]; /* why the loop stopped, when it was an error */

    /* transport */
    const struct cm_transport_ops *tr;
    void *tr_priv;        /* the vhost-user device */
    bool in_csum_trusted; /* the frame being dispatched has CM_FRAME_CSUM_TRUSTED */
    bool out_csum_valid;  /* the transport marks frames toward the guest checksum-valid */
    uint32_t out_tso_max; /* largest IPv4 packet the transport takes as a TCP super-frame, 0:
                           * none (transport.h); at most CM_MTU_MAX */
    enum cm_transport_kind kind;
    struct cm_event tr_ev;
    uint32_t tr_events;
    uint8_t *ibuf; /* frames from the guest; processed in place */
    size_t ibuf_size, ibuf_len;
    uint64_t ibuf_skip; /* bytes of an oversized stream frame still to discard */
    uint8_t *obuf;      /* frames toward the guest, each behind a 4-byte big-endian length */
    size_t obuf_size, obuf_head, obuf_tail;
    bool guest_blocked; /* -ENOBUFS was returned: call tcp_guest_writable() once drained */

    /* guest */
    uint8_t guest_mac[ETH_ALEN_];
    bool guest_mac_known;
    uint16_t ip_id;

    /* timers and signals */
    uint64_t next_tcp_tick, next_udp_sweep;
    struct cm_ratelimit icmp_errors; /* every ICMP error toward the guest (policy.h) */
    struct cm_event sig_ev;
    pid_t child;            /* consomme run: CMD; its exit ends the loop */
    unsigned stop_requests; /* SIGINT/SIGTERM/SIGHUP received while CMD runs */
    struct cm_event listen_ev;
    char listen_path[108];
    /* main.c's sandbox: called once, when QEMU's connection is accepted (--socket,
     * --vhost-user) or as the loop starts (on_connected_at_start); it may stop the loop */
    void (*on_connected)(struct consomme *c);
    bool on_connected_at_start;
    int stats_fd; /* --stats opened before the sandbox: rewritten in place; -1: by path */
    uint64_t stats_snapshot; /* snapshots written: the file's "snapshot" */
    bool stats_pending;      /* a SIGUSR1 dump waits for readers' shared locks to go */

    /* where dns_ip:53 leads: --dns, else the first nameserver of /etc/resolv.conf */
    bool have_resolver;
    struct sockaddr_in resolver;

    struct udp_state *udp;
    void *tcp_state;
    uint32_t (*isn_source)(void); /* NULL: random ISNs (cm_new_isn()) */
    struct cm_stats st;
};

/* config.c */
void cm_opts_default(struct cm_opts *o);
int cm_parse_tcp_bounds(const char *s, struct cm_tcp_bounds *out, char *err, size_t errlen);
int cm_resolv_conf_nameserver(const char *path, struct sockaddr_in *out, char *err, size_t errlen);
int cm_parse_buffer_memory(const char *s, uint64_t *out, char *err, size_t errlen);
int cm_opts_check(const struct cm_opts *o, char *err, size_t errlen);

/* loop.c: the context and the loop */
int cm_create(const struct cm_opts *o, struct consomme **out, char *err, size_t errlen);
void cm_destroy(struct consomme *c);
int cm_run(struct consomme *c, char *err, size_t errlen);
int cm_signals_block(sigset_t *old);

/* context.c: what protocols and transports ask of the context (the rest: consomme.h) */
void cm_guest_connected(struct consomme *c);
/* Where cm_new_isn() takes ISNs from: the stateful fuzzer's own, so that an input replays. */
void cm_set_isn_source(struct consomme *c, uint32_t (*source)(void));

/* eth_in.c: frames from the guest to the protocols */
void cm_frames_input_begin(struct consomme *c);
void cm_frame_input(struct consomme *c, uint8_t *frame, size_t len);
void cm_frame_input_flags(struct consomme *c, uint8_t *frame, size_t len, unsigned flags);
void cm_frame_input_sg(struct consomme *c, uint8_t *frame, size_t len, const struct iovec *tail,
                       int tail_cnt, unsigned flags);
void cm_frames_input_end(struct consomme *c);

/* eth.c: packets toward the guest as frames (the L2 and L3 headers of what goes out) */
size_t ipv4_header_encode(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, size_t payload_len,
                          uint16_t id);
uint8_t *cm_out_reserve(struct consomme *c, size_t len);
void cm_out_commit(struct consomme *c, size_t len, const struct cm_tso *tso);
int cm_out_flush(struct consomme *c);
int cm_send_ipv4_to(struct consomme *c, const uint8_t *dst_mac, uint32_t src, uint32_t dst,
                    uint8_t proto, const struct iovec *iov, int iovcnt);
int cm_send_frame(struct consomme *c, const struct iovec *iov, int iovcnt);
static inline void cm_drop(struct consomme *c, enum cm_drop why)
{
    c->st.drops[why]++;
}

/* transport.c: QEMU's stream socket and TAP fds */
int cm_transport_stream_fd(struct consomme *c, int fd, char *err, size_t errlen);
int cm_transport_listen(struct consomme *c, const char *path, char *err, size_t errlen);
int cm_unix_listen(const char *path, bool replace_stale, int *fd, char *err, size_t errlen);
int cm_transport_tap_fd(struct consomme *c, int fd, char *err, size_t errlen);
int cm_transport_init_buffers(struct consomme *c);
void cm_transport_free(struct consomme *c);
void cm_guest_gone(struct consomme *c, int rc);

/* vhost_user.c */
int cm_transport_vhost_user(struct consomme *c, const char *path, char *err, size_t errlen);
void cm_vhost_user_own_dir(struct consomme *c);
size_t cm_stream_parse(struct consomme *c, uint8_t *buf, size_t len);

/* arp.c: pure parser/encoder plus the handler */
struct arp_ipv4 {
    uint16_t op;
    uint8_t sha[ETH_ALEN_];
    uint32_t spa; /* host byte order */
    uint8_t tha[ETH_ALEN_];
    uint32_t tpa;
};
#define ARP_LEN 28
int arp_parse(const uint8_t *p, size_t len, struct arp_ipv4 *out);
void arp_encode(uint8_t *p, const struct arp_ipv4 *a);
void arp_input(struct consomme *c, const uint8_t *eth, size_t len);

/* ipv4.c */
/* ipv4_parse() verdict for a packet that passed every check */
#define CM_PASS CM_DROP__COUNT
enum cm_drop ipv4_parse(const uint8_t *p, size_t len, struct cm_ipv4 *ip, size_t *hlen,
                        size_t *total);
void ipv4_input(struct consomme *c, const uint8_t *pkt, size_t len);
void ipv4_input_sg(struct consomme *c, const uint8_t *pkt, size_t len, const struct iovec *tail,
                   int tail_cnt);

/* icmp.c */
void icmp_input(struct consomme *c, const struct cm_ipv4 *ip, const uint8_t *p, size_t len);

/* udp.c */
int udp_init(struct consomme *c);
void udp_cleanup(struct consomme *c);
void udp_input(struct consomme *c, const struct cm_ipv4 *ip, const uint8_t *p, size_t len);
void udp_flush(struct consomme *c);
void udp_sweep(struct consomme *c, uint64_t now_ms);
unsigned udp_flow_count(const struct consomme *c);
int udp_send_to_guest(struct consomme *c, uint32_t src, uint16_t sport, uint32_t dst,
                      uint16_t dport, const void *payload, size_t len);

/* dhcp.c */
#define DHCP_DISCOVER 1
#define DHCP_OFFER    2
#define DHCP_REQUEST  3
#define DHCP_DECLINE  4
#define DHCP_ACK      5
#define DHCP_NAK      6
#define DHCP_RELEASE  7
#define DHCP_INFORM   8
struct dhcp_request {
    uint32_t xid;
    uint16_t flags;
    uint8_t chaddr[ETH_ALEN_];
    uint32_t ciaddr;
    uint8_t type;
    uint32_t requested_ip; /* option 50, 0 if absent */
    uint32_t server_id;    /* option 54, 0 if absent */
};
int dhcp_parse(const uint8_t *p, size_t len, struct dhcp_request *out);
size_t dhcp_encode_reply(uint8_t *p, size_t cap, const struct cm_config *cfg,
                         const struct dhcp_request *req, uint8_t type, uint32_t lease_s);
void dhcp_input(struct consomme *c, const uint8_t *p, size_t len);

/* stats.c */
/* A SIGUSR1 dump that finds the --stats file locked by a reader is retried this often; the
 * last dump, on exit, waits at most CM_STATS_LOCK_WAIT_MS for the lock (stats.c). */
#define CM_STATS_RETRY_MS     5
#define CM_STATS_LOCK_WAIT_MS 200
json_t *cm_stats_json(const struct consomme *c);
int cm_stats_write(struct consomme *c, const char *path, char *err, size_t errlen);
int cm_stats_update(struct consomme *c, char *err, size_t errlen);
const char *cm_drop_name(enum cm_drop why);
const char *cm_refuse_name(enum cm_refuse why);

/* netns.c */
struct cm_netns_child {
    pid_t pid;
    int tap_fd;
};
int cm_netns_spawn(const struct cm_config *cfg, char *const argv[], struct cm_netns_child *out,
                   char *err, size_t errlen);

#endif /* CONSOMME_CORE_H */
