/* SPDX-License-Identifier: MIT */
/*
 * consomme_state_fuzz - stateful libFuzzer target over consomme's TCP and UDP data paths
 *
 * The frame fuzzer (consomme_fuzz.c) feeds unrelated frames: it never completes a handshake,
 * so TCP data, retransmission, timers, reassembly, rings and back-pressure stay out of its
 * reach. Here an input is a program for a guest and a host that talk through one stack:
 *
 * - The host side lives in the fuzzer's own network namespace (fuzz_ns.h): one TCP listener
 *   per connection slot on 127.0.0.1 (the guest reaches it as 10.0.2.2), a listener whose
 *   backlog is never accepted (connects hang: CONNECTING and its timeout), closed ports, and
 *   UDP servers for plain datagrams and for DNS (--dns points there). The namespace's TCP
 *   buffers are set small, so a few KiB are enough to block either direction.
 * - The guest is a model per slot (ports, its ISN and next sequence number, what it has seen
 *   of consomme's sequence space). Ops send segments whose sequence and acknowledgement
 *   numbers are relative to that model (in order, ahead, behind, duplicate), so inputs keep
 *   making sense as consomme's numbers move.
 * - Frames between the guest and consomme go, as the input chooses, through a transport of
 *   this target (state_fuzz_guest.c: reserve/commit/flush/writable, a queue bounded in
 *   frames and bytes) or through consomme's own stream or TAP transport (transport.c) over a
 *   socketpair whose other end is the guest, with its output queue and socket buffers made
 *   small. Either way the guest reads what it is sent when the program says (or at once): a
 *   slow guest makes consomme meet -ENOBUFS and resume through tcp_guest_writable().
 * - Time is virtual: built with CONSOMME_FUZZ, the stack reads cm_now_ms() from here, and
 *   it takes its ISNs from here (cm_set_isn_source()), so an input replays the same run.
 *   Timers run when the program moves the clock, as consomme's loop would run them then.
 * - Raw frames (any protocol, checksums fixed up on request) and consomme's option parsers
 *   (ring bounds, MTU, --allow/--deny rules, which then apply, a resolv.conf) are ops too, so
 *   one corpus covers the whole stack. So are, to bring all of consomme into one target and
 *   one coverage figure: a vhost-user session and a virtqueue walk (fuzz_vu.h, what
 *   vhost_user_fuzz and virtq_fuzz run alone) over the same stack, --stats written every way
 *   consomme writes it, and a turn of consomme's own loop (cm_run(), ended by a SIGTERM raised
 *   before it, with a SIGUSR1 too on request). The stream transport may also be reached as QEMU
 *   does, through consomme's listening socket (cm_transport_listen()). Files (the socket, the
 *   --stats file) live in a private directory, one per input.
 *
 * Oracles beyond ASan/UBSan: every frame consomme emits must be well formed (IPv4 header and
 * checksum, lengths, TCP/UDP/ICMP checksums; a TCP super-frame: segments within the MTU, the
 * pseudo-header sum in its checksum field, and only where the transport takes them); TCP payload
 * toward the guest must be exactly the bytes the host wrote at that offset (never beyond them), and
 * bytes the host reads must be exactly what the guest sent at that offset. A violation aborts with
 * a message.
 *
 * Input: three configuration bytes (MTU, ring bounds, connection limit; ISN base, guest
 * queue size, whether the guest reads on its own; transport and socket buffer size, or for
 * this file's transport whether it takes TCP super-frames as GUEST_TSO4 would), then
 * ops, one byte each (modulo OP__COUNT) followed by their arguments (enum op); a missing
 * argument byte reads as zero. The stack is made once, but its TCP state, UDP flows,
 * counters and transport are new for every input, and every host socket is reset after it,
 * so inputs do not depend on each other. Seeds: tests/data/consomme_state_fuzz, written by
 * state_seeds.py (regression seeds included). CONSOMME_STATE_FUZZ_VERBOSE=1 traces an input:
 * each op, each segment both ways, host reads and writes, and the counters at the end.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "fd.h"
#include "core.h"
#include "fuzz_frames.h"
#include "fuzz_ns.h"
#include "fuzz_vu.h"
#include "ring.h"
#include "state_fuzz.h"

struct consomme *stack;
struct cm_config cfg;
const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
int lfd[NSLOTS], stuck_fd = -1, udp_fd = -1, dns_fd = -1;
struct slot slots[NSLOTS];
/* where datagrams to the UDP servers came from (consomme's flow sockets), last four each */
struct sockaddr_in peers[2][4];
unsigned npeers[2];
unsigned gen;
uint64_t now_ms;
uint64_t next_tick, next_sweep;
uint32_t isn_next;
uint16_t ip_id;
bool verbose; /* CONSOMME_STATE_FUZZ_VERBOSE: a trace, and the counters after each input */

/* guest queue */
uint8_t *pending_frame;
size_t q_cap, q_bytes;
uint32_t q_len[QMAX];
unsigned q_head, q_n;
bool autodrain, hold;
/* which transport carries the frames: this target's queue, or consomme's own stream or TAP
 * transport (transport.c) over a socketpair whose other end is the guest */
enum tr_kind tr_kind;
int guest_fd = -1;
uint8_t *grx; /* stream bytes read by the guest, not yet a whole frame */
size_t grx_len;
size_t obuf_size; /* the stack's own output queue size, restored after each input */
struct fuzz_vu_mem vu_guest;
/* a private directory for the files consomme makes: its listening socket, --stats */
char dir[64], sock_path[96], vu_path[96], stats_path[96], stats_tmp[100];

/* frames of the current batch */
uint8_t *batch[MAX_BATCH];
size_t batch_len[MAX_BATCH];
int nbatch;

uint64_t cm_now_ms(void)
{
    return now_ms;
}

/* The ISNs of the connections the stack opens: the input picks the first (setup()). */
static uint32_t fuzz_isn(void)
{
    uint32_t isn = isn_next;

    isn_next += 0x01000193u;
    return isn;
}

/* ------------------------------------------------------------------ host side */

static void host_write(struct slot *s, uint32_t len)
{
    uint8_t buf[8192];

    if (s->hfd < 0)
        return;
    while (len) {
        uint32_t n = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);
        ssize_t w;

        for (uint32_t j = 0; j < n; j++)
            buf[j] = host_byte(s->h_written + j);
        w = send(s->hfd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w <= 0)
            break;
        trace("  host %u wrote %zd at %u\n", s->dport, w, s->h_written);
        s->h_written += (uint32_t)w;
        len -= (uint32_t)w;
    }
}

static void host_read(struct slot *s, uint32_t len)
{
    uint8_t buf[8192];

    if (s->hfd < 0)
        return;
    if (!len)
        len = UINT32_MAX;
    while (len) {
        uint32_t n = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);
        ssize_t r = recv(s->hfd, buf, n, MSG_DONTWAIT);

        if (r <= 0)
            break;
        trace("  host %u read %zd at %u\n", s->dport, r, s->h_read);
        /* the host stream starts after the SYN consomme took, wherever the model's was */
        for (ssize_t j = 0; j < r; j++)
            if (buf[j] != guest_byte(s->c_irs - s->g_isn + s->h_read + (uint32_t)j))
                die("the host read other bytes than the guest sent");
        s->h_read += (uint32_t)r;
        len -= (uint32_t)r;
    }
}

/* ------------------------------------------------------------------ UDP */

static void udp_collect(void)
{
    int fds[2] = {udp_fd, dns_fd};
    uint8_t buf[2048];

    for (int k = 0; k < 2; k++) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);

        while (recvfrom(fds[k], buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sa, &sl) >= 0) {
            peers[k][npeers[k]++ % 4] = sa;
            sl = sizeof(sa);
        }
    }
}

static void op_udp(struct input *in)
{
    uint8_t d = u8(in), sp = u8(in);
    uint16_t len = u16(in) % 2048;
    uint8_t cs = u8(in);
    uint32_t dst = cfg.gw_ip;
    uint16_t dport = PORT_UDP;
    uint8_t *f, *uh;

    switch (d % 5) {
    case 1:
        dport = PORT_UDP_OFF; /* ICMP port unreachable comes back */
        break;
    case 2:
        dst = cfg.dns_ip;
        dport = 53;
        break;
    case 3:
        dst = cfg.dns_ip;
        dport = 54;
        break;
    case 4:
        dst = 0x7f000001; /* refused by consomme */
        break;
    }
    f = ipv4_frame(dst, IPPROTO_UDP, 8u + len);
    uh = f + 34;
    put_be16(uh, (uint16_t)(30000 + sp % 16));
    put_be16(uh + 2, dport);
    put_be16(uh + 4, (uint16_t)(8 + len));
    for (uint16_t j = 0; j < len; j++)
        uh[8 + j] = (uint8_t)(j ^ d);
    if (!(cs & 1)) /* zero: no checksum, which UDP allows */
        put_be16(uh + 6, csum_fold(csum_partial(uh, 8u + len,
                                                csum_pseudo_ipv4(cfg.guest_ip, dst, IPPROTO_UDP,
                                                                 (uint16_t)(8 + len)))));
    batch_add(f, 34u + 8 + len);
}

static void op_udp_reply(struct input *in)
{
    static uint8_t buf[65536];
    uint8_t k = u8(in) % 2, i = u8(in) % 4;
    uint16_t len = u16(in);

    udp_collect();
    if (!npeers[k])
        return;
    i %= npeers[k] < 4 ? npeers[k] : 4;
    memset(buf, 0x5a, len);
    sendto(k ? dns_fd : udp_fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&peers[k][i],
           sizeof(peers[k][i]));
}

/* ------------------------------------------------------------------ raw frames */

static void op_raw(struct input *in)
{
    uint8_t fl = u8(in);
    size_t len = u16(in);
    uint8_t *f;

    if (len > in->n)
        len = in->n;
    f = malloc(len ? len : 1);
    if (!f)
        die("out of memory");
    memcpy(f, in->p, len);
    in->p += len;
    in->n -= len;
    fuzz_fix_checksums(f, len, fl);
    batch_add(f, len);
}

/* ------------------------------------------------------------------ what users configure */

/* consomme's option parsers (config.c, policy.c) on the text a user or the host's resolv.conf
 * gives; NAT rules join the stack's policy for the rest of the input. */
static void op_parse(struct input *in)
{
    uint8_t kind = u8(in);
    size_t len = u8(in);
    char text[256], err[ERRBUF_LEN], path[64];
    struct cm_tcp_bounds b;
    struct sockaddr_in sa;
    unsigned mtu;
    int fd;

    if (len > in->n)
        len = in->n;
    memcpy(text, in->p, len);
    text[len] = '\0';
    in->p += len;
    in->n -= len;
    switch (kind % 8) {
    case 0:
        if (!cm_parse_tcp_bounds(text, &b, err, sizeof(err)) &&
            (b.initial > b.max || b.initial < RING_MIN_CAP || b.max > RING_MAX_CAP ||
             (b.initial & (b.initial - 1)) || (b.max & (b.max - 1))))
            die("ring bounds accepted that tcp.c cannot use");
        break;
    case 1:
        if (!cm_parse_mtu(text, &mtu, err, sizeof(err)) && (mtu < CM_MTU_MIN || mtu > CM_MTU_MAX))
            die("an MTU out of range accepted");
        break;
    case 3:
    case 4: /* --allow / --deny: the rule applies to the rest of the input's traffic */
        cm_policy_add(&stack->opts.policy, text, kind % 8 == 3, err, sizeof(err));
        break;
    case 5: { /* --max-buffer-memory, then what main() checks of the options together */
        struct cm_opts o = stack->opts;

        if (!cm_parse_buffer_memory(text, &o.cfg.max_buffer_memory, err, sizeof(err)) &&
            !o.cfg.max_buffer_memory)
            die("a zero --max-buffer-memory accepted");
        cm_opts_check(&o, err, sizeof(err));
        break;
    }
    case 6: { /* ring bounds as numbers: INITIAL MAX */
        unsigned long long lo = 0, hi = 0;
        uint64_t i, m;

        if (sscanf(text, "%llu %llu", &lo, &hi) == 2) {
            i = lo;
            m = hi;
            if (!ring_bounds_check(&i, &m, err, sizeof(err)) &&
                (i > m || m > RING_MAX_CAP || (i & (i - 1)) || (m & (m - 1))))
                die("ring bounds accepted that a ring cannot have");
        }
        break;
    }
    case 7: { /* a whole stack made and destroyed (its resolver from the host's file) */
        struct consomme *c2;
        struct cm_opts o;

        fuzz_stack_opts(&o, PORT_DNS);
        if (len & 1)
            o.dns_upstream.sin_port = 0;
        o.max_udp_flows = len;
        if (!cm_create(&o, &c2, err, sizeof(err)))
            cm_destroy(c2);
        break;
    }
    default:
        fd = memfd_create("resolv.conf", MFD_CLOEXEC);
        if (fd < 0)
            break;
        if (write(fd, text, len) == (ssize_t)len) {
            snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
            cm_resolv_conf_nameserver(path, &sa, err, sizeof(err));
        }
        close(fd);
        break;
    }
}

/* ------------------------------------------------------------------ set-up and one input */

static int listen_on(int type, uint16_t port, int backlog)
{
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
        (type == SOCK_STREAM && listen(fd, backlog))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The input's directory, made by setup() and removed whole by teardown(): no input leaves a
 * file behind, whichever way the fuzzer ends. */
static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/consomme_state_fuzz.XXXXXX");
    if (!mkdtemp(dir))
        die("cannot create a private directory in /tmp");
    snprintf(sock_path, sizeof(sock_path), "%s/stream.sock", dir);
    snprintf(vu_path, sizeof(vu_path), "%s/vhost-user.sock", dir);
    snprintf(stats_path, sizeof(stats_path), "%s/stats.json", dir);
    snprintf(stats_tmp, sizeof(stats_tmp), "%s.tmp", stats_path);
}

static void remove_dir(void)
{
    char tmp[128];

    unlink(sock_path);
    unlink(vu_path);
    unlink(stats_path);
    unlink(stats_tmp);
    snprintf(tmp, sizeof(tmp), "%s/.consomme-%d", dir, (int)getpid()); /* cm_unix_listen() */
    unlink(tmp);
    if (rmdir(dir))
        fprintf(stderr, "consomme_state_fuzz: cannot remove %s: %s\n", dir, strerror(errno));
}

/* The stream transport as QEMU reaches it: consomme's socket at a path (at times over a stale
 * socket a dead consomme left), connected to and accepted in consomme's loop. */
static int listen_connect(int *guest, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct epoll_event ev[4];
    int fd, n;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    if (stack->listen_ev.fd < 0 && cm_transport_listen(stack, sock_path, err, errlen))
        return -1;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
        die("cannot connect to consomme's listening socket");
    n = epoll_wait(stack->events.epfd, ev, 4, -1);
    for (int i = 0; i < n; i++)
        if (ev[i].data.ptr == &stack->listen_ev)
            stack->listen_ev.fn(stack, &stack->listen_ev, ev[i].events);
    if (stack->kind != CM_TRANSPORT_STREAM)
        die("consomme did not take the connection to its listening socket");
    *guest = fd;
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct cm_opts o;

    verbose = getenv("CONSOMME_STATE_FUZZ_VERBOSE") != NULL;
    fuzz_isolate("consomme_state_fuzz");
    /* small kernel buffers: a few KiB block either direction (back-pressure, zero windows) */
    fuzz_write_file("/proc/sys/net/ipv4/tcp_rmem", "4096 4096 16384");
    fuzz_write_file("/proc/sys/net/ipv4/tcp_wmem", "4096 4096 16384");
    for (int i = 0; i < NSLOTS; i++)
        lfd[i] = listen_on(SOCK_STREAM, (uint16_t)(PORT_LISTEN + i), 16);
    stuck_fd = listen_on(SOCK_STREAM, PORT_STUCK, 0);
    udp_fd = listen_on(SOCK_DGRAM, PORT_UDP, 0);
    dns_fd = listen_on(SOCK_DGRAM, PORT_DNS, 0);
    for (int i = 0; i < NSLOTS; i++)
        if (lfd[i] < 0)
            stuck_fd = -1;
    fuzz_stack_opts(&o, PORT_DNS);
    if (cm_create(&o, &stack, NULL, 0))
        die("cannot create the stack");
    cm_set_isn_source(stack, fuzz_isn);
    /* its TCP state is made per input (setup()); UDP flows all expire after each */
    tcp_cleanup(stack);
    obuf_size = stack->obuf_size;
    grx = malloc(GRX_SIZE);
    if (!grx || fuzz_vu_mem_init(&vu_guest))
        die("out of memory");
    stack->tr = &fz_ops;
    if (stuck_fd < 0 || udp_fd < 0 || dns_fd < 0) {
        fprintf(stderr,
                "consomme_state_fuzz: cannot open the host side's sockets on loopback: %s\n",
                strerror(errno));
        exit(1);
    }
    return 0;
}

static void setup(struct input *in)
{
    static const struct cm_tcp_bounds rings[4] = {
        {4096, 4096}, {4096, 65536}, {16384, 262144}, {65536, 1u << 20}};
    static const unsigned mtus[4] = {1500, 65520, 576, 9000};
    uint8_t a = u8(in), b = u8(in), t = u8(in);
    struct cm_opts o;

    make_dir();
    fuzz_stack_opts(&o, PORT_DNS);
    o.cfg.mtu = mtus[a & 3];
    o.cfg.tcp_rx = rings[(a >> 2) & 3];
    o.cfg.tcp_tx = rings[(a >> 4) & 3];
    o.cfg.max_connections = 1 + ((a >> 6) & 3) * 2;
    o.max_udp_flows = 4;
    /* A fresh TCP state on the stack made once: creating a whole stack per input
     * (its 8 MiB of transport buffers, which this target never uses) would cost more than
     * the input itself under ASan. */
    o.stats_path = stats_path;
    stack->opts = o;
    stack->resolver = o.dns_upstream;
    stack->have_resolver = true;
    memset(&stack->st, 0, sizeof(stack->st));
    memset(stack->guest_mac, 0, sizeof(stack->guest_mac));
    stack->guest_mac_known = false;
    stack->guest_blocked = false;
    stack->ip_id = 0;
    if (tcp_init(stack))
        die("cannot set up TCP");
    cfg = o.cfg;
    now_ms = 1000000;
    next_tick = next_sweep = now_ms;
    isn_next = (b & 3) == 0 ? 0x2000 : (b & 3) == 1 ? 0xfffffe00u : 0x80000000u - (b & 0xfc);
    q_cap = (size_t)1024 << ((b >> 2) % 10);
    q_head = q_n = 0;
    q_bytes = 0;
    autodrain = !(b & 0x80);
    hold = false;
    ip_id = 1;
    memset(slots, 0, sizeof(slots));
    memset(peers, 0, sizeof(peers));
    memset(npeers, 0, sizeof(npeers));
    for (int i = 0; i < NSLOTS; i++)
        slots[i].hfd = -1;
    tr_kind = t % 3;
    stack->out_tso_max = 0;
    stack->out_csum_valid = false;
    if (tr_kind == TR_FUZZ) {
        stack->tr = &fz_ops;
        /* as vhost-user with GUEST_TSO4: TCP super-frames the guest segments itself */
        if ((t / 3) & 1)
            stack->out_tso_max = CM_MTU_MAX;
    } else {
        int sv[2], rc, sz = 4096 << (t / 3 % 6);
        char err[ERRBUF_LEN];

        stack->tr = &cm_queue_ops;
        if (tr_kind == TR_STREAM && (t & 0x80)) {
            if ((t & 0x40) && stack->listen_ev.fd < 0) {
                /* a socket nobody listens on at the path: consomme replaces it */
                struct sockaddr_un sa = {.sun_family = AF_UNIX};
                int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
                if (s >= 0) {
                    bind(s, (struct sockaddr *)&sa, sizeof(sa));
                    close(s);
                }
            }
            if (listen_connect(&sv[1], err, sizeof(err)))
                die(err);
            sv[0] = stack->tr_ev.fd;
        } else {
            if (socketpair(AF_UNIX,
                           (tr_kind == TR_TAP ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC, 0,
                           sv))
                die("socketpair failed");
            rc = tr_kind == TR_TAP ? cm_transport_tap_fd(stack, sv[0], err, sizeof(err))
                                   : cm_transport_stream_fd(stack, sv[0], err, sizeof(err));
            if (rc)
                die(err);
        }
        guest_fd = sv[1];
        fcntl(guest_fd, F_SETFL, O_NONBLOCK);
        if (tr_kind == TR_STREAM) {
            /* small socket and queue sizes, so a slow guest blocks consomme early */
            setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
            setsockopt(guest_fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        }
        stack->obuf_size = q_cap < 2 * (cfg.mtu + 18) ? 2 * (cfg.mtu + 18) : q_cap;
        if (stack->obuf_size > obuf_size)
            stack->obuf_size = obuf_size;
    }
}

static void teardown(void)
{
    uint8_t buf[2048];
    int fd;

    {
        /* the counters as --stats writes them; with CONSOMME_STATE_FUZZ_VERBOSE also shown,
         * to check that a seed reaches what it is meant to */
        json_t *j = cm_stats_json(stack);
        char *t = j && verbose ? json_dumps(j, JSON_COMPACT) : NULL;

        if (verbose)
            fprintf(stderr, "%s\n", t ? t : "(no stats)");
        free(t);
        json_decref(j);
    }
    tcp_cleanup(stack);
    udp_sweep(stack, UINT64_MAX / 2); /* every flow, whatever its age */
    if (tr_kind != TR_FUZZ) {
        /* back to no transport, as cm_create() left it */
        cm_event_del(stack, &stack->tr_ev);
        close(stack->tr_ev.fd);
        stack->tr_ev.fd = -1;
        stack->tr_events = 0;
        stack->kind = CM_TRANSPORT_NONE;
        stack->obuf_head = stack->obuf_tail = 0;
        stack->obuf_size = obuf_size;
        stack->ibuf_len = 0;
        stack->ibuf_skip = 0;
        close(guest_fd);
        guest_fd = -1;
        grx_len = 0;
    }
    stack->stop = false;
    stack->exit_code = 0;
    if (stack->stats_fd >= 0) /* a dump left pending (OP_STATS) */
        close(stack->stats_fd);
    stack->stats_fd = -1;
    stack->stats_pending = false;
    remove_dir();
    for (int i = 0; i < NSLOTS; i++) {
        if (slots[i].hfd >= 0)
            reset_close(slots[i].hfd);
        slots[i].hfd = -1;
        while ((fd = accept4(lfd[i], NULL, NULL, SOCK_CLOEXEC)) >= 0)
            reset_close(fd);
    }
    while ((fd = accept4(stuck_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
        reset_close(fd);
    while (recv(udp_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0 ||
           recv(dns_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
        ;
}

static void run_op(struct input *in)
{
    uint8_t op = u8(in) % OP__COUNT;
    int idx = 0;
    struct slot *s = NULL;

    trace("op %d at %zu, t=%llu\n", op, in->n, (unsigned long long)now_ms);

    if (op <= OP_HOST_CLOSE) {
        idx = u8(in) % NSLOTS;
        s = &slots[idx];
        if (op != OP_CONNECT && op != OP_SYN && !s->open)
            return;
    }
    if (op >= OP_HOST_WRITE && op != OP_UDP && op != OP_RAW)
        batch_flush();
    switch (op) {
    case OP_CONNECT: {
        bool was_hold = hold;

        hold = false;
        guest_syn(in, s, idx);
        if (s->have_c)
            guest_ack(s, s->c_nxt, s->g_win);
        hold = was_hold;
        break;
    }
    case OP_SYN:
        guest_syn(in, s, idx);
        break;
    case OP_SEND: {
        uint32_t len = u16(in);

        guest_tcp(s, TH_ACK | TH_PSH, s->g_nxt, s->c_nxt, s->g_win, NULL, 0, len);
        s->g_ack = s->c_nxt;
        s->g_nxt += len;
        break;
    }
    case OP_ACK: {
        uint8_t mode = u8(in);
        uint16_t n = u16(in), win = u16(in);

        s->g_win = win;
        guest_ack(s, ack_choice(s, mode, n), win);
        break;
    }
    case OP_FIN:
        guest_tcp(s, TH_FIN | TH_ACK, s->g_nxt, s->c_nxt, s->g_win, NULL, 0, 0);
        s->g_nxt++;
        break;
    case OP_RST: {
        uint8_t m = u8(in);

        guest_tcp(s, (uint8_t)(TH_RST | (m & 1 ? TH_ACK : 0)), s->g_nxt + (m >> 1), s->c_nxt, 0,
                  NULL, 0, 0);
        break;
    }
    case OP_SEG:
        op_seg(in, s);
        break;
    case OP_HOST_WRITE:
        host_write(s, u16(in));
        break;
    case OP_HOST_READ:
        host_read(s, u16(in));
        break;
    case OP_HOST_SHUT: {
        static const int how[3] = {SHUT_WR, SHUT_RD, SHUT_RDWR};

        if (s->hfd >= 0)
            shutdown(s->hfd, how[u8(in) % 3]);
        break;
    }
    case OP_HOST_CLOSE:
        if (s->hfd >= 0) {
            if (u8(in) & 1)
                reset_close(s->hfd);
            else
                close(s->hfd);
            s->hfd = -1;
        }
        break;
    case OP_CLOCK: {
        uint16_t t = u16(in);

        now_ms += u8(in) & 1 ? (uint64_t)t * 64 : t;
        break;
    }
    case OP_QCAP:
        q_cap = (size_t)1024 << (u8(in) % 10);
        break;
    case OP_SLOW:
        autodrain = !autodrain;
        break;
    case OP_DRAIN: {
        uint8_t n = u8(in);

        q_drain(n ? n : QMAX);
        break;
    }
    case OP_UDP:
        op_udp(in);
        break;
    case OP_UDP_REPLY:
        op_udp_reply(in);
        break;
    case OP_RAW:
        op_raw(in);
        break;
    case OP_HOLD:
        hold = !hold;
        break;
    case OP_PARSE:
        op_parse(in);
        break;
    case OP_VHOST:
        op_bytes(in, vu_session);
        break;
    case OP_VIRTQ:
        op_bytes(in, fuzz_virtq_walk);
        break;
    case OP_STATS:
        op_stats(in);
        break;
    case OP_RUN:
        op_run(in);
        break;
    case OP_VHOST_SOCK:
        op_vhost_sock(in);
        break;
    }
    if (op >= OP_HOST_WRITE && op != OP_UDP && op != OP_RAW)
        pump();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};

    setup(&in);
    for (int i = 0; i < MAX_OPS && in.n && !stack->stop; i++)
        run_op(&in);
    hold = false;
    batch_flush();
    pump();
    teardown();
    return 0;
}
