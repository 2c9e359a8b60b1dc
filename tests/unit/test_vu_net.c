/* SPDX-License-Identifier: MIT */
/*
 * test_vu_net - consomme's virtio-net data path over vhost-user, driven by a fake front-end
 * (test_vu.h): frames both ways with the offloads a guest negotiates (checksums, merged receive
 * buffers, TCP super-frames toward the guest and their GSO header), payload read from guest
 * memory in place, and what the stack does when the guest gives it no receive buffers.
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
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "loopback.h"
#include "test_vu.h"

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
        uint16_t port;
        int us = loopback_socket(SOCK_DGRAM, &port);
        uint8_t udp[8 + 5], got[16];
        struct timeval tv = {.tv_sec = 5};

        setsockopt(us, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        build_udp(udp, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2), 40000, port, "hello", 5);
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
    struct timeval tv = {.tv_sec = 5};
    const uint8_t *synack = f->mem + RX_BUFS + 12 + 14 + 20;
    size_t len, cuts[2] = {14 + 20 + 20 + 10, 14 + 20 + 20 + 1510}, have = 0;
    uint32_t iss;
    uint16_t port;
    int lfd = loopback_socket(SOCK_STREAM, &port), hfd;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 11 + (i >> 7));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_frames_move_both_ways_with_offloads, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_super_frame_carries_the_gso_header_the_spec_asks_for,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_tcp_payload_goes_to_the_host_from_guest_memory_in_place, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_without_guest_tso4_no_super_frame_reaches_the_guest,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_no_rx_buffers_is_enobufs_until_the_guest_adds_a_quarter_ring, fx_setup,
            fx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
