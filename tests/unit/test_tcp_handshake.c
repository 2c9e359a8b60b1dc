/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_handshake - consomme's TCP: opening, closing and resetting connections
 *
 * The handshake both ways (SYN-ACK options, refusals, the connection limit, CONNECTING and
 * SYN_RCVD corner cases), FIN in either order and TIME_WAIT, and resets from either side, all
 * through the fake core of test_tcp.h.
 */
#include "test_tcp.h"

static void test_tcp_window_scale_derived_from_rx_max(void **state)
{
    assert_int_equal(tcp_rx_wscale(16384), 0);
    assert_int_equal(tcp_rx_wscale(65535), 0);
    assert_int_equal(tcp_rx_wscale(65536), 1);
    assert_int_equal(tcp_rx_wscale(256 * 1024), 3);
    assert_int_equal(tcp_rx_wscale(4u << 20), 7);
    assert_int_equal(tcp_rx_wscale(1u << 30), 14);
    /* the derived scale always lets a window as large as max fit the 16-bit field */
    for (uint32_t m = 4096; m && m <= (1u << 30); m <<= 1)
        assert_true((m >> tcp_rx_wscale(m)) <= 65535 || tcp_rx_wscale(m) == 14);
}

static void test_tcp_syn_ack_offers_mss_from_mtu_and_no_scale_without_guest_scale(void **state)
{
    struct consomme *c = stack_new(16384, 4u << 20, 16384, 4u << 20, 64);
    uint16_t port;
    int lfd = loopback_socket(SOCK_STREAM, &port);
    struct seg s = syn(c, port, -1);

    assert_int_equal(s.flags, 0x12);
    assert_int_equal(s.mss, MTU - 40);
    assert_int_equal(s.ws, -1);
    close(lfd);
    stack_free(c);
}

static void test_tcp_refused_port_gets_rst(void **state)
{
    struct consomme *c = stack_new(16384, 65536, 16384, 65536, 64);
    uint16_t port;
    int lfd = loopback_socket(SOCK_STREAM, &port);
    struct seg s;

    close(lfd); /* nobody listens on @port now */
    guest_send_opts(c, GPORT, port, G_ISN, 0, 0x02, 65535, NULL, 0, NULL, 0);
    tcp_input_flush(c);
    s = wait_seg(c, "RST for a refused port");
    assert_int_equal(s.flags, 0x14);
    assert_int_equal(s.ack, G_ISN + 1);
    pump(c);
    assert_int_equal(tcp_connection_count(c), 0);
    assert_int_equal(stat_of(c, "refused"), 1);
    stack_free(c);
}

static void test_tcp_unknown_segment_gets_rst_and_rst_gets_nothing(void **state)
{
    struct consomme *c = stack_new(16384, 65536, 16384, 65536, 64);
    struct seg s;

    guest_send(c, 5555, 77, 99, 0x10, 100, NULL, 0);
    s = wait_seg(c, "RST for an unknown connection");
    assert_int_equal(s.flags, 0x04);
    assert_int_equal(s.seq, 99);
    guest_send(c, 5555, 77, 99, 0x04, 100, NULL, 0);
    assert_int_equal(c->npk, c->rd);
    stack_free(c);
}

static void test_tcp_max_connections_refused_with_rst(void **state)
{
    struct consomme *c = stack_new(16384, 65536, 16384, 65536, 1);
    uint16_t port;
    int lfd = loopback_socket(SOCK_STREAM, &port);
    struct seg s = syn(c, port, 7);

    assert_int_equal(s.flags, 0x12);
    guest_send_opts(c, GPORT + 1, port, G_ISN, 0, 0x02, 65535, NULL, 0, NULL, 0);
    tcp_input_flush(c);
    s = wait_seg(c, "RST beyond the connection cap");
    assert_int_equal(s.flags, 0x14);
    assert_int_equal(stat_of(c, "refused_limit"), 1);
    assert_int_equal(tcp_connection_count(c), 1);
    close(lfd);
    stack_free(c);
}

static void test_tcp_half_close_guest_fin_then_host_reply(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[16];
    struct seg s;

    guest_send(f->c, f->port, f->gseq, f->gack, 0x19, 65535, "req", 3); /* data + FIN */
    s = wait_seg(f->c, "ACK of data and FIN");
    assert_int_equal(s.ack, f->gseq + 4);
    f->gseq += 4;
    host_read_all(f, buf, 3);
    assert_memory_equal(buf, "req", 3);
    /* the host sees EOF: consomme shut its write side */
    assert_int_equal(host_recv(f, buf, sizeof(buf)), 0);
    /* and can still answer: the guest reads the reply, then the FIN */
    assert_int_equal(send(f->hfd, "reply", 5, 0), 5);
    close(f->hfd);
    f->hfd = -1;
    s = wait_seg(f->c, "reply after half-close");
    if (s.len == 0 && (s.flags & 0x01))
        fail_msg("FIN before the reply");
    assert_int_equal(s.len, 5);
    assert_memory_equal(s.data, "reply", 5);
    if (!(s.flags & 0x01)) {
        s = wait_seg(f->c, "FIN after the reply");
        assert_int_equal(s.flags & 0x01, 0x01);
        assert_int_equal(s.seq, f->gack + 5);
    }
    /* guest ACKs the reply and our FIN: LAST_ACK done, the connection is freed at once */
    guest_send(f->c, f->port, f->gseq, f->gack + 6, 0x10, 65535, NULL, 0);
    assert_int_equal(tcp_connection_count(f->c), 0);
    assert_int_equal(stat_of(f->c, "connections_open"), 0);
    assert_int_equal(stat_of(f->c, "rx_buffer_bytes"), 0);
}

static void test_tcp_host_closes_first_guest_data_still_flows_then_time_wait(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[16];
    struct seg s;

    shutdown(f->hfd, SHUT_WR);
    s = wait_seg(f->c, "FIN from host EOF");
    assert_int_equal(s.flags & 0x01, 0x01);
    assert_int_equal(s.seq, f->gack);
    guest_send(f->c, f->port, f->gseq, f->gack + 1, 0x10, 65535, NULL, 0); /* ACK our FIN */
    /* the guest still sends: the host still reads */
    guest_send(f->c, f->port, f->gseq, f->gack + 1, 0x18, 65535, "late", 4);
    s = wait_seg(f->c, "ACK of late data");
    assert_int_equal(s.ack, f->gseq + 4);
    host_read_all(f, buf, 4);
    assert_memory_equal(buf, "late", 4);
    f->gseq += 4;
    guest_send(f->c, f->port, f->gseq, f->gack + 1, 0x11, 65535, NULL, 0); /* guest FIN */
    s = wait_seg(f->c, "ACK of guest FIN");
    assert_int_equal(s.ack, f->gseq + 1);
    assert_int_equal(host_recv(f, buf, sizeof(buf)), 0);
    assert_int_equal(stat_of(f->c, "connections_open"), 0);
    assert_int_equal(stat_of(f->c, "connections_time_wait"), 1);
    /* a retransmitted FIN in TIME_WAIT is ACKed again */
    guest_send(f->c, f->port, f->gseq, f->gack + 1, 0x11, 65535, NULL, 0);
    s = wait_seg(f->c, "re-ACK in TIME_WAIT");
    assert_int_equal(s.ack, f->gseq + 1);
    fake_now += TCP_TIME_WAIT_MS + 1;
    tcp_timer(f->c, fake_now);
    assert_int_equal(tcp_connection_count(f->c), 0);
}

static void test_tcp_new_syn_replaces_time_wait_entry(void **state)
{
    struct fixture *f = *state;
    struct seg s;
    int h2;

    shutdown(f->hfd, SHUT_WR);
    s = wait_seg(f->c, "FIN from host EOF");
    guest_send(f->c, f->port, f->gseq, f->gack + 1, 0x11, 65535, NULL, 0); /* ACK + FIN */
    s = wait_seg(f->c, "ACK of guest FIN");
    assert_int_equal(stat_of(f->c, "connections_time_wait"), 1);
    /* the guest reuses its port at once: a fresh connection, not a stale ACK */
    s = syn(f->c, f->port, 7);
    assert_int_equal(s.flags, 0x12);
    assert_int_equal(s.ack, G_ISN + 1);
    h2 = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(h2 >= 0);
    assert_int_equal(stat_of(f->c, "connections_time_wait"), 0);
    assert_int_equal(stat_of(f->c, "connections_open"), 1);
    close(h2);
}

static void test_tcp_guest_rst_resets_host(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[4];

    guest_send(f->c, f->port, f->gseq, 0, 0x04, 0, NULL, 0);
    assert_int_equal(tcp_connection_count(f->c), 0);
    assert_int_equal(host_recv(f, buf, sizeof(buf)), -1);
    assert_int_equal(errno, ECONNRESET);
}

static void test_tcp_out_of_window_rst_is_ignored(void **state)
{
    struct fixture *f = *state;

    guest_send(f->c, f->port, f->gseq + 10000000, 0, 0x04, 0, NULL, 0);
    assert_int_equal(tcp_connection_count(f->c), 1);
}

static void test_tcp_host_reset_gives_guest_rst(void **state)
{
    struct fixture *f = *state;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    struct seg s;

    setsockopt(f->hfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(f->hfd);
    f->hfd = -1;
    s = wait_seg(f->c, "RST after host reset");
    assert_int_equal(s.flags & 0x04, 0x04);
    assert_int_equal(tcp_connection_count(f->c), 0);
}

static void test_tcp_syn_ack_retransmitted_until_guest_acks(void **state)
{
    struct consomme *c = stack_new(16384, 65536, 16384, 65536, 64);
    uint16_t port;
    int lfd = loopback_socket(SOCK_STREAM, &port);
    struct seg s = syn(c, port, 7), again;

    /* the guest never saw it: on the timer, the same SYN-ACK again */
    fake_now += TCP_RTO_INIT_MS + 1;
    tcp_timer(c, fake_now);
    again = wait_seg(c, "retransmitted SYN-ACK");
    assert_int_equal(again.flags, 0x12);
    assert_int_equal(again.seq, s.seq);
    /* a retransmitted SYN from the guest gets it too */
    guest_send_opts(c, GPORT, port, G_ISN, 0, 0x02, 65535, NULL, 0, NULL, 0);
    tcp_input_flush(c);
    again = wait_seg(c, "SYN-ACK for a repeated SYN");
    assert_int_equal(again.flags, 0x12);
    assert_int_equal(again.ack, G_ISN + 1);
    guest_send(c, port, G_ISN + 1, s.seq + 1, 0x10, 65535, NULL, 0);
    assert_int_equal(stat_of(c, "connections_open"), 1);
    close(lfd);
    stack_free(c);
}

/* A stack with one connection stuck in CONNECTING, and the host sockets that keep it there. */
struct connecting {
    struct consomme *c;
    int lfd, fill[4];
    uint16_t port; /* the listener's */
    bool ok;       /* false where the kernel answered the connect anyway */
};

/*
 * The listener's accept queue is full, so the kernel drops consomme's SYN and its connect()
 * stays in progress.
 */
static void connecting_open(struct connecting *k)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    k->c = stack_new(16384, 65536, 16384, 65536, 64);
    k->lfd = loopback_socket(SOCK_STREAM, &k->port);
    listen(k->lfd, 0);
    sa.sin_port = htons(k->port);
    for (int i = 0; i < 4; i++) {
        k->fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(k->fill[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    guest_send_opts(k->c, GPORT, k->port, G_ISN, 0, 0x02, 65535, NULL, 0, NULL, 0);
    tcp_input_flush(k->c);
    pump(k->c);
    k->ok = k->c->npk == k->c->rd && tcp_connection_count(k->c) == 1;
}

/* Closes what connecting_open() opened; skips the test if there was no CONNECTING state. */
static void connecting_done(struct connecting *k)
{
    for (int i = 0; i < 4; i++)
        close(k->fill[i]);
    close(k->lfd);
    stack_free(k->c);
    if (!k->ok)
        TEST_SKIP("the kernel answered the connect after all (its queue accounting differs): no "
                  "CONNECTING state to test");
}

/* A connect the host never answers times out without a word to the guest. */
static void test_tcp_unanswered_connect_times_out_silently(void **state)
{
    struct connecting k;

    connecting_open(&k);
    if (k.ok) {
        fake_now += TCP_CONNECT_TIMEOUT_MS + 1;
        tcp_timer(k.c, fake_now);
        assert_int_equal(tcp_connection_count(k.c), 0);
        assert_int_equal(k.c->npk, k.c->rd); /* no answer to the guest, ever */
        assert_int_equal(stat_of(k.c, "connect_timeouts"), 1);
    }
    connecting_done(&k);
}

static void test_tcp_fin_then_rst_in_connecting(void **state)
{
    struct connecting k;

    connecting_open(&k);
    if (k.ok) {
        /* a FIN before any SYN-ACK acknowledges nothing: ignored, no answer */
        guest_send(k.c, k.port, G_ISN + 1, 0, 0x01, 65535, NULL, 0);
        pump(k.c);
        assert_int_equal(k.c->npk, k.c->rd);
        assert_int_equal(tcp_connection_count(k.c), 1);
        /* a RST gives the connection up, silently: the guest has nothing to hear */
        guest_send(k.c, k.port, G_ISN + 1, 0, 0x04, 0, NULL, 0);
        assert_int_equal(tcp_connection_count(k.c), 0);
        assert_int_equal(stat_of(k.c, "rst_from_guest"), 1);
        assert_int_equal(stat_of(k.c, "buffer_bytes_reserved"), 0);
        assert_int_equal(k.c->npk, k.c->rd);
    }
    connecting_done(&k);
}

/* SYN answered, host connection accepted, the guest's ACK not sent yet: SYN_RCVD. */
static void syn_rcvd(struct fixture *f)
{
    struct seg s;

    memset(f, 0, sizeof(*f));
    f->c = stack_new(16384, 65536, 16384, 65536, 64);
    f->lfd = loopback_socket(SOCK_STREAM, &f->port);
    s = syn(f->c, f->port, 7);
    assert_int_equal(s.flags, 0x12);
    f->iss = s.seq;
    f->hfd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(f->hfd >= 0);
    f->gseq = G_ISN + 1;
    f->gack = f->iss + 1;
}

static void test_tcp_rst_in_syn_rcvd_needs_the_exact_sequence(void **state)
{
    struct fixture f;
    uint8_t buf[4];

    syn_rcvd(&f);
    /* anywhere but rcv_nxt: a blind reset, ignored */
    guest_send(f.c, f.port, f.gseq + 1, 0, 0x04, 0, NULL, 0);
    assert_int_equal(tcp_connection_count(f.c), 1);
    guest_send(f.c, f.port, f.gseq, 0, 0x04, 0, NULL, 0);
    assert_int_equal(tcp_connection_count(f.c), 0);
    assert_int_equal(stat_of(f.c, "rst_from_guest"), 1);
    assert_int_equal(host_recv(&f, buf, sizeof(buf)), -1);
    assert_int_equal(errno, ECONNRESET);
    close_fixture(&f);
}

static void test_tcp_fin_in_syn_rcvd(void **state)
{
    struct fixture f;
    uint8_t buf[4];
    struct seg s;

    syn_rcvd(&f);
    /* without ACK it cannot complete the handshake: ignored */
    guest_send(f.c, f.port, f.gseq, 0, 0x01, 65535, NULL, 0);
    assert_int_equal(f.c->rd, f.c->npk);
    assert_int_equal(stat_of(f.c, "bytes_from_guest"), 0);
    /* FIN+ACK completes it and closes the guest's side at once: ACKed, the host sees EOF */
    guest_send(f.c, f.port, f.gseq, f.gack, 0x11, 65535, NULL, 0);
    s = wait_seg(f.c, "ACK of the FIN");
    assert_int_equal(s.flags & 0x10, 0x10);
    assert_int_equal(s.ack, f.gseq + 1);
    assert_int_equal(host_recv(&f, buf, sizeof(buf)), 0);
    assert_int_equal(stat_of(f.c, "connections_open"), 1); /* the host may still answer */
    close_fixture(&f);
}

static void test_tcp_bad_ack_in_syn_rcvd_gets_rst_and_leaves_it_open(void **state)
{
    struct fixture f;
    uint8_t buf[8];
    struct seg s;

    syn_rcvd(&f);
    /* RFC 9293 3.10.7.4: an unacceptable ACK in SYN-RECEIVED gets <SEQ=SEG.ACK><CTL=RST> */
    guest_send(f.c, f.port, f.gseq, f.iss + 77, 0x10, 65535, NULL, 0);
    s = wait_seg(f.c, "RST for a bad ACK");
    assert_int_equal(s.flags, 0x04);
    assert_int_equal(s.seq, f.iss + 77);
    assert_int_equal(stat_of(f.c, "bad_ack"), 1);
    assert_int_equal(tcp_connection_count(f.c), 1);
    /* the right ACK still completes the handshake */
    guest_send(f.c, f.port, f.gseq, f.gack, 0x18, 65535, "ok", 2);
    s = wait_seg(f.c, "ACK of data after the handshake");
    assert_int_equal(s.ack, f.gseq + 2);
    host_read_all(&f, buf, 2);
    assert_memory_equal(buf, "ok", 2);
    close_fixture(&f);
}

int tcp_handshake_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_window_scale_derived_from_rx_max),
        cmocka_unit_test(test_tcp_syn_ack_offers_mss_from_mtu_and_no_scale_without_guest_scale),
        cmocka_unit_test(test_tcp_refused_port_gets_rst),
        cmocka_unit_test(test_tcp_unknown_segment_gets_rst_and_rst_gets_nothing),
        cmocka_unit_test(test_tcp_max_connections_refused_with_rst),
        cmocka_unit_test_setup_teardown(test_tcp_half_close_guest_fin_then_host_reply, conn_open,
                                        conn_close),
        cmocka_unit_test_setup_teardown(
            test_tcp_host_closes_first_guest_data_still_flows_then_time_wait, conn_open,
            conn_close),
        cmocka_unit_test_setup_teardown(test_tcp_new_syn_replaces_time_wait_entry, conn_open,
                                        conn_close),
        cmocka_unit_test_setup_teardown(test_tcp_guest_rst_resets_host, conn_open, conn_close),
        cmocka_unit_test_setup_teardown(test_tcp_out_of_window_rst_is_ignored, conn_open,
                                        conn_close),
        cmocka_unit_test_setup_teardown(test_tcp_host_reset_gives_guest_rst, conn_open, conn_close),
        cmocka_unit_test(test_tcp_unanswered_connect_times_out_silently),
        cmocka_unit_test(test_tcp_syn_ack_retransmitted_until_guest_acks),
        cmocka_unit_test(test_tcp_fin_then_rst_in_connecting),
        cmocka_unit_test(test_tcp_rst_in_syn_rcvd_needs_the_exact_sequence),
        cmocka_unit_test(test_tcp_fin_in_syn_rcvd),
        cmocka_unit_test(test_tcp_bad_ack_in_syn_rcvd_gets_rst_and_leaves_it_open),
    };

    return test_exit_status(cmocka_run_group_tests_name("tcp_handshake", tests, NULL, NULL));
}
