/* SPDX-License-Identifier: MIT */
/*
 * test_vhost_user - consomme's vhost-user back-end driven by a fake front-end
 *
 * The test plays QEMU and the guest's driver at once: it connects to the socket consomme
 * listens on, negotiates, hands over a memfd as guest memory (mapped on both sides, as QEMU
 * does), sets up both rings with eventfds, then writes descriptors like a virtio-net driver.
 * The stack runs one loop turn at a time in this thread (no threads, no sleeps): a message or
 * kick is written whole, then a turn handles it. Host traffic goes to loopback only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "fd.h"
#include "cm_test_util.h"
#include "vhost_user.h"

#define MEM_SIZE   (1u << 20)
#define UVA_BASE   0x7f1200000000ull /* what the fake front-end calls the memory */
#define NUM        16
#define RX_BUF_LEN 2048
#define RX_BUFS    0x10000
#define TX_FRAMES  0x40000
#define BIT(n)     (1ull << (n))

static const unsigned ring_off[2] = {0x0, 0x4000}; /* desc, +0x1000 avail, +0x2000 used */

struct fx {
    char dir[40], path[64];
    struct consomme *c;
    int sock, memfd;
    uint8_t *mem;
    int kick[2], callfd[2];
    uint16_t rx_avail, tx_avail;
};

static void send_msg(struct fx *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
                     const int *fds, size_t nfds)
{
    uint8_t buf[12 + 512];
    union {
        char buf[FD_RIGHTS_SPACE(8)];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov = {.iov_base = buf, .iov_len = 12 + size};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

    put_le32(buf, req);
    put_le32(buf + 4, 1 | flags);
    put_le32(buf + 8, size);
    if (size)
        memcpy(buf + 12, payload, size);
    fd_attach_rights(&mh, cbuf.buf, fds, nfds);
    assert_int_equal(sendmsg(f->sock, &mh, 0), (ssize_t)(12 + size));
}

/* One turn of the stack's loop, as cm_run() would take it. */
static void turn(struct fx *f)
{
    struct epoll_event evs[16];
    int n = epoll_wait(f->c->epfd, evs, 16, 0);

    for (int i = 0; i < n; i++) {
        struct cm_event *ev = evs[i].data.ptr;
        if (ev)
            ev->fn(f->c, ev, evs[i].events);
    }
    cm_out_flush(f->c);
}

static uint64_t reply_u64(struct fx *f, uint32_t req)
{
    uint8_t buf[12 + 8];

    assert_int_equal(recv(f->sock, buf, sizeof(buf), MSG_WAITALL), (ssize_t)sizeof(buf));
    assert_int_equal(get_le32(buf), req);
    assert_true(get_le32(buf + 4) & 4); /* the reply flag */
    assert_int_equal(get_le32(buf + 8), 8);
    return get_le64(buf + 12);
}

/* A request with a u64 payload, handled, acked when @ack. */
static uint64_t request_u64(struct fx *f, uint32_t req, uint64_t v, bool ack)
{
    uint8_t p[8];

    put_le64(p, v);
    send_msg(f, req, ack ? 8 : 0, p, 8, NULL, 0);
    turn(f);
    return ack ? reply_u64(f, req) : 0;
}

static void vring_state(struct fx *f, uint32_t req, uint32_t q, uint32_t num)
{
    uint8_t p[8];

    put_le32(p, q);
    put_le32(p + 4, num);
    send_msg(f, req, 8, p, 8, NULL, 0);
    turn(f);
    assert_int_equal(reply_u64(f, req), 0);
}

static void vring_fd(struct fx *f, uint32_t req, uint32_t q, int fd)
{
    uint8_t p[8];
    int dup_fd = dup(fd);

    put_le64(p, q);
    send_msg(f, req, 0, p, 8, &dup_fd, 1);
    close(dup_fd);
    turn(f);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char err[ERRBUF_LEN];

    snprintf(f->dir, sizeof(f->dir), "/tmp/test_vhost_user.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/vu.sock", f->dir);
    f->c = cm_test_stack();
    assert_non_null(f->c);
    assert_int_equal(cm_transport_vhost_user(f->c, f->path, err, sizeof(err)), 0);
    f->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
    assert_int_equal(connect(f->sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
    turn(f);                                     /* accept */
    assert_int_equal(access(f->path, F_OK), -1); /* one front-end: the path is gone */
    f->memfd = memfd_create("guest", MFD_CLOEXEC);
    assert_int_equal(ftruncate(f->memfd, MEM_SIZE), 0);
    f->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
    assert_true(f->mem != MAP_FAILED);
    for (int q = 0; q < 2; q++) {
        f->kick[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        f->callfd[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    if (f->sock >= 0)
        close(f->sock);
    cm_destroy(f->c);
    munmap(f->mem, MEM_SIZE);
    close(f->memfd);
    for (int q = 0; q < 2; q++) {
        close(f->kick[q]);
        close(f->callfd[q]);
    }
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void set_mem_table(struct fx *f)
{
    uint8_t mt[8 + 32];

    put_le32(mt, 1);
    put_le32(mt + 4, 0);
    put_le64(mt + 8, 0);         /* guest physical address */
    put_le64(mt + 16, MEM_SIZE); /* size */
    put_le64(mt + 24, UVA_BASE); /* front-end address */
    put_le64(mt + 32, 0);        /* mmap offset */
    send_msg(f, 5 /* SET_MEM_TABLE */, 8, mt, sizeof(mt), &f->memfd, 1);
    turn(f);
    assert_int_equal(reply_u64(f, 5), 0);
}

static void start_rings(struct fx *f)
{
    for (uint32_t q = 0; q < 2; q++) {
        uint8_t a[40] = {0};

        vring_state(f, 8 /* SET_VRING_NUM */, q, NUM);
        put_le32(a, q);
        put_le64(a + 8, UVA_BASE + ring_off[q]);
        put_le64(a + 16, UVA_BASE + ring_off[q] + 0x2000);
        put_le64(a + 24, UVA_BASE + ring_off[q] + 0x1000);
        send_msg(f, 9 /* SET_VRING_ADDR */, 8, a, sizeof(a), NULL, 0);
        turn(f);
        assert_int_equal(reply_u64(f, 9), 0);
        vring_state(f, 10 /* SET_VRING_BASE */, q, 0);
        vring_fd(f, 13 /* SET_VRING_CALL */, q, f->callfd[q]);
        vring_fd(f, 12 /* SET_VRING_KICK */, q, f->kick[q]);
        vring_state(f, 18 /* SET_VRING_ENABLE */, q, 1);
    }
}

/* What QEMU sends when the guest's driver starts the device. */
static void start_device(struct fx *f, uint64_t features)
{
    send_msg(f, 1 /* GET_FEATURES */, 0, NULL, 0, NULL, 0);
    turn(f);
    assert_int_equal(reply_u64(f, 1) & features, features);
    send_msg(f, 15 /* GET_PROTOCOL_FEATURES */, 0, NULL, 0, NULL, 0);
    turn(f);
    assert_true(reply_u64(f, 15) & BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK));
    request_u64(f, 16, BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK), false);
    send_msg(f, 3 /* SET_OWNER */, 0, NULL, 0, NULL, 0);
    turn(f);
    assert_int_equal(request_u64(f, 2 /* SET_FEATURES */, features, true), 0);
    set_mem_table(f);
    start_rings(f);
}

/* GET_VRING_BASE: stops ring @q, returns where it stopped. */
static uint32_t stop_ring(struct fx *f, uint32_t q)
{
    uint8_t p[8], buf[20];

    put_le32(p, q);
    put_le32(p + 4, 0);
    send_msg(f, 11 /* GET_VRING_BASE */, 0, p, 8, NULL, 0);
    turn(f);
    assert_int_equal(recv(f->sock, buf, sizeof(buf), MSG_WAITALL), 20);
    assert_int_equal(get_le32(buf + 12), q);
    return get_le32(buf + 16);
}

/* Mappings of memfd @name in this process (the test's own and consomme's). */
static int mappings_of(const char *name)
{
    char line[512], want[64];
    FILE *fp = fopen("/proc/self/maps", "r");
    int n = 0;

    snprintf(want, sizeof(want), "/memfd:%s ", name);
    while (fp && fgets(line, sizeof(line), fp))
        if (strstr(line, want))
            n++;
    if (fp)
        fclose(fp);
    return n;
}

static void set_desc(struct fx *f, unsigned q, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags)
{
    uint8_t *d = f->mem + ring_off[q] + 16 * i;

    put_le64(d, addr);
    put_le32(d + 8, len);
    put_le16(d + 12, flags);
    put_le16(d + 14, 0);
}

static void make_avail(struct fx *f, unsigned q, uint16_t head)
{
    uint16_t *idx = q ? &f->tx_avail : &f->rx_avail;
    uint8_t *avail = f->mem + ring_off[q] + 0x1000;

    put_le16(avail + 4 + 2 * (*idx % NUM), head);
    (*idx)++;
    put_le16(avail + 2, *idx);
}

static uint16_t used_idx(struct fx *f, unsigned q)
{
    return get_le16(f->mem + ring_off[q] + 0x2000 + 2);
}

static uint32_t used_len(struct fx *f, unsigned q, unsigned slot)
{
    return get_le32(f->mem + ring_off[q] + 0x2000 + 4 + 8 * slot + 4);
}

static void post_rx_buffers(struct fx *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        set_desc(f, 0, i, RX_BUFS + RX_BUF_LEN * i, RX_BUF_LEN, 2 /* WRITE */);
        make_avail(f, 0, (uint16_t)i);
    }
    eventfd_write(f->kick[0], 1);
    turn(f);
}

/* The guest sends @frame behind a virtio-net header with @hdr_flags, in descriptor @slot. */
static void guest_send(struct fx *f, unsigned slot, uint8_t hdr_flags, const uint8_t *frame,
                       size_t len)
{
    uint8_t *p = f->mem + TX_FRAMES + 0x4000 * slot;

    memset(p, 0, 12);
    p[0] = hdr_flags;
    memcpy(p + 12, frame, len);
    set_desc(f, 1, slot, TX_FRAMES + 0x4000 * slot, (uint32_t)(12 + len), 0);
    make_avail(f, 1, (uint16_t)slot);
    eventfd_write(f->kick[1], 1);
    turn(f);
}

static size_t arp_request(uint8_t *fr)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t guest[6] = {GUEST_MAC};
    uint8_t *a = fr + 14;

    memcpy(fr, bcast, 6);
    memcpy(fr + 6, guest, 6);
    put_be16(fr + 12, 0x0806);
    put_be16(a, 1);
    put_be16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    put_be16(a + 6, 1);
    memcpy(a + 8, guest, 6);
    put_be32(a + 14, IP4(10, 0, 2, 15));
    memset(a + 18, 0, 6);
    put_be32(a + 24, IP4(10, 0, 2, 2));
    return 14 + 28;
}

static void test_frames_move_both_ways_with_offloads(void **state)
{
    struct fx *f = *state;
    static const uint8_t gw[6] = {GW_MAC};
    uint8_t fr[4096], icmp[8 + 3000];
    const uint8_t *rx = f->mem + RX_BUFS;
    eventfd_t v;
    size_t len;

    start_device(f, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_CSUM) |
                        BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VHOST_USER_F_PROTOCOL_FEATURES));
    post_rx_buffers(f, 4);
    /* frames are marked DATA_VALID, so TCP need not sum its payloads */
    assert_false(cm_guest_verifies_csum(f->c));

    /* guest -> us: an ARP request; us -> guest: the reply in one receive buffer */
    len = arp_request(fr);
    guest_send(f, 0, 0, fr, len);
    assert_int_equal(used_idx(f, 1), 1);
    assert_int_equal(used_idx(f, 0), 1);
    assert_int_equal(used_len(f, 0, 0), 12 + 42);
    assert_int_equal(rx[0], VIRTIO_NET_HDR_F_DATA_VALID);
    assert_int_equal(get_le16(rx + 10), 1); /* num_buffers */
    assert_int_equal(get_be16(rx + 12 + 12), 0x0806);
    assert_int_equal(get_be16(rx + 12 + 14 + 6), 2);                 /* ARP reply */
    assert_int_equal(get_be32(rx + 12 + 14 + 14), IP4(10, 0, 2, 2)); /* from the gateway */
    assert_int_equal(eventfd_read(f->callfd[0], &v), 0);             /* the guest was told */

    /* a 3042-byte echo reply spreads over two merged 2 KiB buffers */
    memset(icmp, 0, sizeof(icmp));
    icmp[0] = 8;
    for (size_t i = 8; i < sizeof(icmp); i++)
        icmp[i] = (uint8_t)(i * 7);
    put_be16(icmp + 2, ref_csum(icmp, sizeof(icmp), 0));
    len = build_ipv4_frame(fr, gw, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 1, icmp, sizeof(icmp));
    guest_send(f, 1, 0, fr, len);
    assert_int_equal(used_idx(f, 0), 3);
    assert_int_equal(get_le16(f->mem + RX_BUFS + RX_BUF_LEN + 10), 2);
    assert_int_equal(used_len(f, 0, 1), RX_BUF_LEN);
    assert_int_equal(used_len(f, 0, 2), 12 + len - RX_BUF_LEN);
    {
        uint8_t got[4096];
        const uint8_t *b1 = f->mem + RX_BUFS + RX_BUF_LEN, *b2 = b1 + RX_BUF_LEN;
        memcpy(got, b1 + 12, RX_BUF_LEN - 12);
        memcpy(got + RX_BUF_LEN - 12, b2, len - (RX_BUF_LEN - 12));
        assert_int_equal(got[14 + 20], 0); /* echo reply */
        assert_memory_equal(got + 14 + 28, icmp + 8, 3000);
    }

    /* a UDP datagram whose checksum the guest left partial (NEEDS_CSUM) reaches the host */
    {
        int us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof(sa);
        uint8_t udp[8 + 5], got[16];
        struct timeval tv = {.tv_sec = 5};

        assert_int_equal(bind(us, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(us, (struct sockaddr *)&sa, &sl), 0);
        setsockopt(us, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        build_udp(udp, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 40000, ntohs(sa.sin_port), "hello", 5);
        put_be16(udp + 6, 0x1234); /* what a partial checksum looks like: not the final sum */
        len = build_ipv4_frame(fr, gw, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 17, udp, sizeof(udp));
        guest_send(f, 2, VIRTIO_NET_HDR_F_NEEDS_CSUM, fr, len);
        assert_int_equal(recv(us, got, sizeof(got), 0), 5);
        assert_memory_equal(got, "hello", 5);
        assert_int_equal(cm_test_drops(f->c, CM_DROP_UDP_MALFORMED), 0);
        /* the same bytes without the flag are a bad checksum */
        guest_send(f, 3, 0, fr, len);
        assert_int_equal(cm_test_drops(f->c, CM_DROP_UDP_MALFORMED), 1);
        close(us);
    }

    /* the driver stops the rx ring: it stopped after the three buffers it used */
    assert_int_equal(stop_ring(f, 0), 3);

    /* QEMU goes away: a normal end */
    close(f->sock);
    f->sock = -1;
    turn(f);
    assert_true(f->c->stop);
    assert_int_equal(f->c->exit_code, 0);
}

/* TCP header (no options, checksum 0) and @n bytes of payload from the gateway to the guest. */
static size_t tcp_to_guest(uint8_t *seg, size_t n)
{
    memset(seg, 0, 20);
    put_be16(seg, 5201);
    put_be16(seg + 2, 40000);
    put_be32(seg + 4, 1000);
    put_be32(seg + 8, 2000);
    seg[12] = 5 << 4;
    seg[13] = 0x18; /* PSH, ACK */
    put_be16(seg + 14, 65535);
    for (size_t i = 0; i < n; i++)
        seg[20 + i] = (uint8_t)(i * 13 + (i >> 8));
    return 20 + n;
}

static void test_super_frame_carries_the_gso_header_the_spec_asks_for(void **state)
{
    struct fx *f = *state;
    struct vu_dev *d = f->c->tr_priv;
    static uint8_t seg[20 + 3 * 1460 + 100], got[14 + 20 + sizeof(seg)];
    struct iovec iov[2];
    const uint8_t *rx = f->mem + RX_BUFS, *ip = got + 14, *l4 = ip + 20;
    size_t len = tcp_to_guest(seg, 3 * 1460 + 100), flen = 14 + 20 + len, off = 0;
    uint32_t sum;

    /* the guest's MTU is 1500 (consomme --mtu 1500): its MSS is 1460, frames can be 64 KiB */
    d->configured_mtu = 1500;
    start_device(f, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_CSUM) |
                        BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4) |
                        BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VHOST_USER_F_PROTOCOL_FEATURES));
    assert_int_equal(f->c->opts.cfg.mtu, 1500);
    assert_int_equal(f->c->out_tso_max, CM_MTU_MAX);
    assert_int_equal(cm_guest_tso_max(f->c, 1460), 44 * 1460);
    post_rx_buffers(f, 4);

    /* header and payload in two pieces, as tcp.c hands them over */
    iov[0] = (struct iovec){.iov_base = seg, .iov_len = 20};
    iov[1] = (struct iovec){.iov_base = seg + 20, .iov_len = len - 20};
    assert_int_equal(cm_send_tcp_tso(f->c, IP4(10, 0, 2, 2), IP4(10, 0, 2, 15), iov, 2, 1460), 0);
    cm_out_flush(f->c);

    /* virtio 1.2, 5.1.6.4.1: GSO type, MSS, headers' length, NEEDS_CSUM at TCP's field */
    assert_int_equal(used_idx(f, 0), 3); /* 12 + 4534 bytes over three 2 KiB buffers */
    assert_int_equal(rx[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(rx[1], VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(get_le16(rx + 2), 14 + 20 + 20); /* hdr_len */
    assert_int_equal(get_le16(rx + 4), 1460);         /* gso_size */
    assert_int_equal(get_le16(rx + 6), 14 + 20);      /* csum_start */
    assert_int_equal(get_le16(rx + 8), 16);           /* csum_offset */
    assert_int_equal(get_le16(rx + 10), 3);           /* num_buffers */
    for (unsigned b = 0; b < 3; b++) {
        size_t skip = b ? 0 : 12, k = used_len(f, 0, b) - skip;

        memcpy(got + off, rx + RX_BUF_LEN * b + skip, k);
        off += k;
    }
    assert_int_equal(off, flen);
    assert_int_equal(get_be16(got + 12), 0x0800);
    assert_int_equal(get_be16(ip + 2), 20 + len); /* one IPv4 packet beyond the MTU */
    assert_int_equal(ref_csum(ip, 20, 0), 0);
    assert_memory_equal(l4 + 20, seg + 20, len - 20);
    /* the field holds the pseudo-header sum: summing from csum_start to the end and storing
     * the result there gives a correct checksum */
    assert_int_equal(
        get_be16(l4 + 16),
        (uint16_t)~ref_csum(NULL, 0,
                            ref_pseudo(IP4(10, 0, 2, 2), IP4(10, 0, 2, 15), 6, (uint16_t)len)));
    sum = ~ref_csum(l4, len, 0) & 0xffff;
    memcpy(seg, l4, len);
    put_be16(seg + 16, (uint16_t)~sum);
    assert_int_equal(
        ref_csum(seg, len, ref_pseudo(IP4(10, 0, 2, 2), IP4(10, 0, 2, 15), 6, (uint16_t)len)), 0);
    assert_int_equal(f->c->st.tso_frames_out, 1);
    assert_int_equal(f->c->st.tso_segs_out, 4); /* 3 x 1460 + 100 */

    /* frames within the MTU still go plain, marked checksum-valid */
    len = arp_request(got);
    guest_send(f, 0, 0, got, len);
    assert_int_equal(used_idx(f, 0), 4);
    assert_int_equal(rx[RX_BUF_LEN * 3], VIRTIO_NET_HDR_F_DATA_VALID);
    assert_int_equal(rx[RX_BUF_LEN * 3 + 1], VIRTIO_NET_HDR_GSO_NONE);
}

/* A TCP segment from the guest (checksum left to NEEDS_CSUM): header, @n bytes of @data. */
static size_t tcp_from_guest(uint8_t *seg, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t fl,
                             const uint8_t *data, size_t n)
{
    memset(seg, 0, 20);
    put_be16(seg, 40000);
    put_be16(seg + 2, dport);
    put_be32(seg + 4, seq);
    put_be32(seg + 8, ack);
    seg[12] = 5 << 4;
    seg[13] = fl;
    put_be16(seg + 14, 65535);
    if (n)
        memcpy(seg + 20, data, n);
    return 20 + n;
}

/* The guest sends @frame as a chain from descriptor @slot on: the virtio-net header alone,
 * then the frame cut at @cuts (offsets into it), as Linux's driver lays out an skb's pieces. */
static void guest_send_chain(struct fx *f, unsigned slot, uint8_t hdr_flags, const uint8_t *frame,
                             size_t len, const size_t *cuts, unsigned ncuts)
{
    uint64_t base = TX_FRAMES + 0x4000 * (uint64_t)slot;
    uint8_t *p = f->mem + base;
    unsigned i = slot;

    memset(p, 0, 12);
    p[0] = hdr_flags;
    memcpy(p + 12, frame, len);
    for (unsigned k = 0; k <= ncuts + 1; k++, i++) {
        size_t from = k ? 12 + (k == 1 ? 0 : cuts[k - 2]) : 0;
        size_t to = k == 0 ? 12 : 12 + (k <= ncuts ? cuts[k - 1] : len);
        uint8_t *d = f->mem + ring_off[1] + 16 * i;

        put_le64(d, base + from);
        put_le32(d + 8, (uint32_t)(to - from));
        put_le16(d + 12, k <= ncuts ? 1 /* NEXT */ : 0);
        put_le16(d + 14, (uint16_t)(i + 1));
    }
    make_avail(f, 1, (uint16_t)slot);
    eventfd_write(f->kick[1], 1);
    turn(f);
}

/* Loop turns until receive buffer @n is used (the stack waits on host sockets), 5 s at most. */
static void wait_rx_used(struct fx *f, uint16_t n)
{
    for (int i = 0; i < 500 && used_idx(f, 0) < n; i++) {
        struct pollfd p = {.fd = f->c->epfd, .events = POLLIN};

        poll(&p, 1, 10);
        turn(f);
    }
    assert_true(used_idx(f, 0) >= n);
}

/*
 * A TCP segment whose payload spans several descriptors goes to the host from guest memory in
 * place: only its headers are copied, the payload is read where the guest put it, and its
 * chain is given back once the batch was dispatched.
 */
static void test_tcp_payload_goes_to_the_host_from_guest_memory_in_place(void **state)
{
    struct fx *f = *state;
    struct vu_dev *d = f->c->tr_priv;
    static const uint8_t gw[6] = {GW_MAC};
    static uint8_t data[3000], seg[20 + sizeof(data)], fr[14 + 20 + sizeof(seg)], got[sizeof(data)];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    struct timeval tv = {.tv_sec = 5};
    const uint8_t *synack = f->mem + RX_BUFS + 12 + 14 + 20;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), hfd;
    size_t len, cuts[2] = {14 + 20 + 20 + 10, 14 + 20 + 20 + 1510}, have = 0;
    uint32_t iss;
    uint16_t port;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 11 + (i >> 7));
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    port = ntohs(sa.sin_port);
    start_device(f, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_CSUM) |
                        BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VHOST_USER_F_PROTOCOL_FEATURES));
    post_rx_buffers(f, 8);

    len = tcp_from_guest(seg, port, 1000, 0, 0x02 /* SYN */, NULL, 0);
    len = build_ipv4_frame(fr, gw, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 6, seg, len);
    guest_send(f, 0, VIRTIO_NET_HDR_F_NEEDS_CSUM, fr, len);
    wait_rx_used(f, 1);
    assert_int_equal(synack[13], 0x12); /* SYN-ACK */
    assert_int_equal(get_be32(synack + 8), 1001);
    iss = get_be32(synack + 4);
    hfd = accept(lfd, NULL, NULL);
    assert_true(hfd >= 0);
    setsockopt(hfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

    len = tcp_from_guest(seg, port, 1001, iss + 1, 0x10, NULL, 0);
    len = build_ipv4_frame(fr, gw, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 6, seg, len);
    guest_send(f, 1, VIRTIO_NET_HDR_F_NEEDS_CSUM, fr, len);
    /* headers and 10 payload bytes in one descriptor, then 1500 and 1490 bytes */
    len = tcp_from_guest(seg, port, 1001, iss + 1, 0x18, data, sizeof(data));
    len = build_ipv4_frame(fr, gw, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 6, seg, len);
    guest_send_chain(f, 2, VIRTIO_NET_HDR_F_NEEDS_CSUM, fr, len, cuts, 2);
    assert_int_equal(d->tx_in_place, 1);
    assert_int_equal(used_idx(f, 1), 3);
    assert_int_equal(get_le32(f->mem + ring_off[1] + 0x2000 + 4 + 8 * 2), 2); /* its head */
    while (have < sizeof(data)) {
        ssize_t n = recv(hfd, got + have, sizeof(got) - have, 0);

        assert_true(n > 0);
        have += (size_t)n;
    }
    assert_memory_equal(got, data, sizeof(data));
    wait_rx_used(f, 2); /* ACKed at once: beyond two of its (default, 536-byte) segments */
    assert_int_equal(get_be32(f->mem + RX_BUFS + RX_BUF_LEN + 12 + 14 + 20 + 8),
                     1001 + sizeof(data));
    close(hfd);
    close(lfd);
}

static void test_without_guest_tso4_no_super_frame_reaches_the_guest(void **state)
{
    struct fx *f = *state;
    static uint8_t seg[20 + 3 * 1460];
    struct iovec iov = {.iov_base = seg, .iov_len = tcp_to_guest(seg, 3 * 1460)};

    /* csum and checksums toward the guest, but guest_tso4=off */
    start_device(f, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
                        BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
                        BIT(VHOST_USER_F_PROTOCOL_FEATURES));
    post_rx_buffers(f, 4);
    assert_int_equal(f->c->out_tso_max, 0);
    assert_int_equal(cm_guest_tso_max(f->c, 1460), 1460); /* tcp.c sends MSS-sized frames */
    assert_int_equal(cm_send_tcp_tso(f->c, IP4(10, 0, 2, 2), IP4(10, 0, 2, 15), &iov, 1, 1460),
                     -EMSGSIZE);
    cm_out_flush(f->c);
    assert_int_equal(used_idx(f, 0), 0);
    assert_int_equal(f->c->st.tso_frames_out, 0);

    /* a guest that took GUEST_TSO4 before and reloads its driver without it loses it too */
    assert_int_equal(stop_ring(f, 0), 0);
    request_u64(f, 2,
                BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
                    BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VHOST_USER_F_PROTOCOL_FEATURES),
                true);
    assert_int_equal(f->c->out_tso_max, CM_MTU_MAX);
    request_u64(f, 2, BIT(VIRTIO_F_VERSION_1) | BIT(VHOST_USER_F_PROTOCOL_FEATURES), true);
    assert_int_equal(f->c->out_tso_max, 0);
    assert_true(cm_guest_verifies_csum(f->c));
}

static void test_no_rx_buffers_is_enobufs_until_the_guest_adds_a_quarter_ring(void **state)
{
    struct fx *f = *state;
    uint8_t fr[64];
    size_t len;

    start_device(f, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
                        BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VHOST_USER_F_PROTOCOL_FEATURES));
    assert_null(cm_out_reserve(f->c, 60));
    assert_true(f->c->guest_blocked);
    assert_false(f->c->tr->writable(f->c));
    /* blocked senders wake when a quarter of the ring (4 of 16) is available again */
    post_rx_buffers(f, 4);
    assert_true(f->c->tr->writable(f->c));
    len = arp_request(fr);
    guest_send(f, 0, 0, fr, len);
    assert_int_equal(used_idx(f, 0), 1);
    assert_int_equal(get_le16(f->mem + RX_BUFS + 10), 1);
    /* 3 left: not enough to wake a sender; the guest is asked to kick at avail index 4 */
    assert_false(f->c->tr->writable(f->c));
    assert_int_equal(get_le16(f->mem + ring_off[0] + 0x2000 + 4 + 8 * NUM), 4);
}

static void test_driver_reload_restarts_rings_and_unmaps_old_memory(void **state)
{
    struct fx *f = *state;
    uint8_t fr[64];
    size_t len = arp_request(fr);
    int old_memfd = f->memfd;
    uint8_t *old_mem = f->mem;

    start_device(f, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
                        BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VHOST_USER_F_PROTOCOL_FEATURES));
    post_rx_buffers(f, 4);
    guest_send(f, 0, 0, fr, len);
    assert_int_equal(used_idx(f, 0), 1);
    assert_int_equal(mappings_of("guest"), 2); /* ours and consomme's */

    /* rmmod: QEMU stops both rings; modprobe: new features, memory table, rings from 0 */
    assert_int_equal(stop_ring(f, 0), 1);
    assert_int_equal(stop_ring(f, 1), 1);
    request_u64(f, 2, BIT(VIRTIO_F_VERSION_1) | BIT(VHOST_USER_F_PROTOCOL_FEATURES), true);
    f->memfd = memfd_create("guest2", MFD_CLOEXEC);
    assert_int_equal(ftruncate(f->memfd, MEM_SIZE), 0);
    f->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
    assert_true(f->mem != MAP_FAILED);
    set_mem_table(f);
    assert_int_equal(mappings_of("guest"), 1); /* consomme let go of the old memory */
    assert_int_equal(mappings_of("guest2"), 2);
    f->rx_avail = f->tx_avail = 0;
    start_rings(f);
    post_rx_buffers(f, 4);
    guest_send(f, 0, 0, fr, len);
    assert_int_equal(used_idx(f, 1), 1);
    assert_int_equal(used_idx(f, 0), 1);
    assert_int_equal(get_be16(f->mem + RX_BUFS + 12 + 12),
                     0x0806); /* an ARP reply behind the header */
    munmap(old_mem, MEM_SIZE);
    close(old_memfd);
}

static void test_bad_descriptor_breaks_the_ring_not_the_stack(void **state)
{
    struct fx *f = *state;

    start_device(f, BIT(VIRTIO_F_VERSION_1) | BIT(VHOST_USER_F_PROTOCOL_FEATURES));
    assert_true(cm_guest_verifies_csum(f->c));  /* no GUEST_CSUM: checksums are computed */
    set_desc(f, 1, 0, MEM_SIZE + 4096, 100, 0); /* beyond guest memory */
    make_avail(f, 1, 0);
    eventfd_write(f->kick[1], 1);
    turn(f);
    assert_int_equal(used_idx(f, 1), 0);
    assert_false(vu_ring_ready(f->c->tr_priv, VU_TX));
    assert_false(f->c->stop);
    /* the driver sets the ring up again and it works */
    vring_state(f, 8, 1, NUM);
    {
        uint8_t a[40] = {0};
        put_le32(a, 1);
        put_le64(a + 8, UVA_BASE + ring_off[1]);
        put_le64(a + 16, UVA_BASE + ring_off[1] + 0x2000);
        put_le64(a + 24, UVA_BASE + ring_off[1] + 0x1000);
        send_msg(f, 9, 8, a, sizeof(a), NULL, 0);
        turn(f);
        assert_int_equal(reply_u64(f, 9), 0);
    }
    vring_state(f, 10, 1, f->tx_avail);
    vring_fd(f, 12, 1, f->kick[1]);
    assert_true(vu_ring_ready(f->c->tr_priv, VU_TX));
}

static void test_unknown_request_is_refused_and_the_connection_stays(void **state)
{
    struct fx *f = *state;

    request_u64(f, 16, BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK), false);
    assert_int_not_equal(request_u64(f, 99, 0, true), 0);
    assert_int_not_equal(request_u64(f, 2, BIT(40), true), 0); /* a feature never offered */
    assert_false(f->c->stop);
    send_msg(f, 17 /* GET_QUEUE_NUM */, 0, NULL, 0, NULL, 0);
    turn(f);
    assert_int_equal(reply_u64(f, 17), 2);
}

static void test_malformed_message_ends_with_an_error(void **state)
{
    struct fx *f = *state;
    uint8_t mt[8 + 32] = {1};

    send_msg(f, 5 /* SET_MEM_TABLE */, 0, mt, sizeof(mt), NULL, 0); /* no fd */
    turn(f);
    assert_true(f->c->stop);
    assert_int_equal(f->c->exit_code, 1);
    assert_non_null(strstr(f->c->errmsg, "SET_MEM_TABLE"));
}

static void test_existing_path_is_refused(void **state)
{
    struct consomme *c = cm_test_stack();
    char dir[] = "/tmp/test_vhost_user.XXXXXX", path[64], err[ERRBUF_LEN];
    int fd;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/taken", dir);
    fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(cm_transport_vhost_user(c, path, err, sizeof(err)), -EEXIST);
    assert_non_null(strstr(err, "already exists"));
    assert_int_equal(access(path, F_OK), 0); /* not ours: left alone */
    cm_destroy(c);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_frames_move_both_ways_with_offloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_super_frame_carries_the_gso_header_the_spec_asks_for,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_tcp_payload_goes_to_the_host_from_guest_memory_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_guest_tso4_no_super_frame_reaches_the_guest,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_no_rx_buffers_is_enobufs_until_the_guest_adds_a_quarter_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_driver_reload_restarts_rings_and_unmaps_old_memory,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_descriptor_breaks_the_ring_not_the_stack, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_request_is_refused_and_the_connection_stays,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_message_ends_with_an_error, setup, teardown),
        cmocka_unit_test(test_existing_path_is_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
