/* SPDX-License-Identifier: MIT */
/*
 * consomme - the core of the userspace NAT stack, as seen by its protocol modules
 *
 * The core owns the frame transport to the guest (vhost-user rings, QEMU stream socket or TAP
 * fd, behind transport.h), the epoll loop, Ethernet/ARP/DHCP/IPv4/ICMP/UDP and the statistics
 * dump. TCP lives in tcp.c and talks to
 * the core only through the functions declared here, so neither knows the other's internals and
 * protocol code never knows which transport carries a frame.
 *
 * Addresses are host byte order in struct cm_config and network byte order on the wire.
 * Everything runs on one thread: no locking anywhere.
 */
#ifndef CONSOMME_H
#define CONSOMME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/uio.h>

#include <jansson.h>

struct consomme;

/* Per-direction TCP ring bounds in bytes (powers of two); fixed when initial == max. */
struct cm_tcp_bounds {
    uint32_t initial;
    uint32_t max;
};

struct cm_config {
    uint32_t guest_ip; /* 10.0.2.15 */
    uint32_t gw_ip;    /* 10.0.2.2, maps to host 127.0.0.1 */
    uint32_t dns_ip;   /* 10.0.2.3, forwards to the host's resolver */
    uint32_t netmask;  /* 255.255.255.0 */
    uint8_t gw_mac[6];
    unsigned mtu;                /* IP MTU toward the guest, up to 65520 */
    struct cm_tcp_bounds tcp_rx; /* guest -> host data, buffered before the host socket */
    struct cm_tcp_bounds tcp_tx; /* host -> guest data, buffered until the guest ACKs it */
    unsigned max_connections;    /* concurrent TCP connections; beyond: RST to the guest */
    /* Ring bytes of all TCP connections together (rx + tx capacity, and the initial rings
     * of connections still connecting): rings do not grow past it, and a SYN that would
     * pass it gets a RST. */
    uint64_t max_buffer_memory;
};

/* What the core knows of one IPv4 packet from the guest, after header validation. */
struct cm_ipv4 {
    uint32_t src; /* host byte order */
    uint32_t dst;
    uint8_t proto;
    uint8_t ttl;
    /* The guest's transport vouches for the layer-4 checksum (a virtio-net offload: it was
     * left partial for us, or already verified); tcp.c and udp.c then skip checking it. */
    bool l4_csum_trusted;
};

/* An fd registered with the core's epoll loop; embed it in your own per-socket struct. */
struct cm_event {
    void (*fn)(struct consomme *c, struct cm_event *ev, uint32_t events);
    int fd;
};

/* --- provided by the core --- */

const struct cm_config *cm_config(const struct consomme *c);

/* epoll registration; @ev must stay valid until cm_event_del(). Return: 0 or negative errno. */
int cm_event_add(struct consomme *c, struct cm_event *ev, uint32_t events);
int cm_event_mod(struct consomme *c, struct cm_event *ev, uint32_t events);
void cm_event_del(struct consomme *c, struct cm_event *ev);

/**
 * cm_send_ipv4() - Queue one IPv4 packet to the guest
 * @c:		Stack
 * @src:	Source address (host byte order)
 * @dst:	Destination address (host byte order), normally the guest's
 * @proto:	IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP
 * @iov:	Layer-4 header (checksum already filled in) and payload
 * @iovcnt:	Number of elements in @iov
 *
 * The core prepends Ethernet and IPv4 headers (with checksum). The payload must fit the MTU.
 *
 * Return: 0 when queued, -ENOBUFS when the transport toward the guest is full (the core will
 * call tcp_guest_writable() once it drains), other negative errno on error.
 */
int cm_send_ipv4(struct consomme *c, uint32_t src, uint32_t dst, uint8_t proto,
                 const struct iovec *iov, int iovcnt);

/**
 * cm_guest_tso_max() - Largest TCP payload one send toward the guest may carry
 * @c:		Stack
 * @mss:	The connection's MSS: what the guest's SYN and our MTU allow per segment
 *
 * With a transport that hands the guest super-frames for it to segment (virtio-net with
 * GUEST_TSO4), a whole number of @mss-byte segments within the transport's limit (up to
 * 64 KiB): cm_send_tcp_tso() takes them as one frame. Otherwise @mss, one frame a segment.
 *
 * Return: bytes, at least @mss
 */
uint32_t cm_guest_tso_max(const struct consomme *c, uint32_t mss);

/**
 * cm_send_tcp_tso() - Queue a TCP segment larger than @mss to the guest as one super-frame
 * @c:		Stack
 * @src:	Source address (host byte order)
 * @dst:	Destination address (host byte order)
 * @iov:	TCP header (whole in @iov[0], options included) and payload; the header's
 *		checksum field is not read: the core stores the pseudo-header sum there
 * @iovcnt:	Number of elements in @iov
 * @mss:	Payload bytes of each segment the guest's stack will see (the last: the rest)
 *
 * Only for a payload of more than @mss bytes and at most cm_guest_tso_max(); the guest sees
 * the segments as if each had come on its own, checksums correct.
 *
 * Return: as cm_send_ipv4(); -EMSGSIZE beyond what the transport takes, -EINVAL for a frame
 * that is no super-frame (payload within @mss, header not in @iov[0])
 */
int cm_send_tcp_tso(struct consomme *c, uint32_t src, uint32_t dst, const struct iovec *iov,
                    int iovcnt, uint16_t mss);

/**
 * cm_host_dest() - Whether and where a guest's new connection or flow to @dst:@port goes
 * @c:		Stack
 * @proto:	IPPROTO_TCP or IPPROTO_UDP, for the refusal counters
 * @dst:	Destination the guest addressed (host byte order)
 * @port:	Its port (host byte order)
 * @out:	Host address to connect or send to
 *
 * The gateway address is the host's 127.0.0.1; the DNS address is the host's resolver, for
 * port 53 only (UDP and TCP alike); any other address is itself. The NAT policy decides
 * first (--allow/--deny rules, see policy.h), and the host's own loopback (127/8) and its
 * own addresses are never reached other than through the gateway address. A refusal is
 * counted by the core, per reason; the caller answers the guest (TCP: RST; UDP: ICMP
 * administratively prohibited).
 *
 * Return: 0, -EACCES refused by the policy, -ECONNREFUSED for the DNS address on another
 * port, -EHOSTUNREACH for the DNS address when the host has no resolver (no IPv4 nameserver
 * in /etc/resolv.conf, no --dns)
 */
int cm_host_dest(struct consomme *c, uint8_t proto, uint32_t dst, uint16_t port,
                 struct sockaddr_in *out);

/**
 * cm_dst_refused() - Whether no packet of the guest's may go to @dst at all, before any rule
 * @cfg:	The stack's configuration
 * @dst:	Destination, host byte order
 * @proto:	IPPROTO_*
 *
 * The IPv4 layer asks it of every packet, udp.c of a datagram once DHCP's broadcast is set
 * apart; both then only drop.
 *
 * Return: true for the guest itself, its subnet's and the limited broadcast, multicast, 0/8,
 * and 127/8 but for TCP and UDP (which go on to cm_host_dest(), whose refusal the guest hears
 * of at once instead of timing out)
 */
bool cm_dst_refused(const struct cm_config *cfg, uint32_t dst, uint8_t proto);

/**
 * cm_guest_verifies_csum() - Whether the guest checks the layer-4 checksums we send
 * @c:		Stack
 *
 * false when the transport marks every frame toward the guest checksum-valid (virtio-net
 * with GUEST_CSUM: DATA_VALID), so the guest never reads the field: tcp.c then leaves it zero
 * and saves summing the payload. (A cm_send_tcp_tso() frame is never summed by the sender:
 * the core fills its checksum field.)
 *
 * Return: true when checksums must be computed
 */
bool cm_guest_verifies_csum(const struct consomme *c);

/* Monotonic milliseconds, for timers. */
uint64_t cm_now_ms(void);

/**
 * cm_new_isn() - The initial sequence number of a connection the stack is opening toward the
 * guest: random, or from the source a test set with cm_set_isn_source() so that it replays
 * @c:		Stack
 *
 * Return: the ISN
 */
uint32_t cm_new_isn(struct consomme *c);

/*
 * Internet checksum helpers (checksum.c). Sums are 32-bit accumulators, folded at the end.
 * Sums add 16-bit words read big-endian as numbers, so csum_pseudo_ipv4() takes host-order
 * addresses and partial sums over pieces add up (only the last piece may have odd length).
 * csum_fold() returns the checksum field in host byte order: store it with htons(); over a
 * received header whose checksum is right it returns 0.
 */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);
uint16_t csum_fold(uint32_t sum);
/* Pseudo-header sum for TCP/UDP over IPv4; addresses in host byte order. */
uint32_t csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len);

/* --- provided by tcp.c --- */

int tcp_init(struct consomme *c);
void tcp_cleanup(struct consomme *c);

/**
 * tcp_input() - One TCP segment from the guest
 * @ip:		Validated IPv4 header fields
 * @seg:	TCP header and payload (length from the IP header, not yet checked as TCP)
 * @len:	Bytes at @seg
 *
 * tcp.c checks the TCP header and checksum itself (the checksum unless @ip->l4_csum_trusted). @seg
 * points into the frame buffer and may be unaligned (stream frames follow each other byte by byte):
 * read fields with memcpy() or byte access, not through a cast struct pointer. It stays valid until
 * tcp_input_flush(). Segments of one batch of guest frames arrive back to back, then
 * tcp_input_flush() is called once, so writes to host sockets and ACKs can be coalesced.
 */
void tcp_input(struct consomme *c, const struct cm_ipv4 *ip, const uint8_t *seg, size_t len);
/*
 * tcp_input_sg() - tcp_input() for a segment whose payload is partly elsewhere: @head bytes at
 * @seg (the TCP header with its options, then the payload's start), the rest in @tail_cnt
 * pieces (at most CM_TCP_TAIL_MAX), valid until tcp_input_flush() like @seg. The transport
 * copied the headers out of the guest's reach; the pieces may be guest memory, which tcp.c only
 * ever copies from (to a host socket or the rx ring), never parses.
 */
#define CM_TCP_TAIL_MAX 64
void tcp_input_sg(struct consomme *c, const struct cm_ipv4 *ip, const uint8_t *seg, size_t head,
                  const struct iovec *tail, int tail_cnt);
void tcp_input_flush(struct consomme *c);

/* Called when the transport toward the guest has room again after -ENOBUFS. */
void tcp_guest_writable(struct consomme *c);

/* Called at least every 10 ms while connections exist: retransmission and other timers. */
void tcp_timer(struct consomme *c, uint64_t now_ms);

/* Number of open connections, so the core knows whether to tick tcp_timer(). */
unsigned tcp_connection_count(const struct consomme *c);

/* Adds the TCP counters to the stats dump object (see --stats). */
void tcp_stats_json(const struct consomme *c, json_t *obj);

/* tcp.c keeps its state behind this pointer in struct consomme. */
void *cm_tcp_state(struct consomme *c);
void cm_set_tcp_state(struct consomme *c, void *state);

#endif /* CONSOMME_H */
