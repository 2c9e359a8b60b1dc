/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_buffers - consomme's TCP: buffer autotuning and its limits
 *
 * The per-connection rings growing from their initial to their maximum size (and no further),
 * the stack-wide memory budget that stops growth and refuses SYNs, and the zero-window
 * deadline, all through the fake core of test_tcp.h.
 */
#include "test_tcp.h"

static void test_tcp_tx_ring_grows_while_host_has_data_and_stops_at_max(void **state)
{
    struct fixture f;
    static uint8_t data[1 << 20];

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13);
    open_conn(&f, 4096, 65536, 4096, 65536);
    /* the guest reads everything at once, with a large window */
    host_to_guest_all(&f, data, sizeof(data));
    assert_true(stat_of(f.c, "tx_buffer_grows") > 0);
    assert_int_equal(stat_of(f.c, "tx_buffer_grows"), 4); /* 4K -> 64K */
    assert_int_equal(stat_of(f.c, "tx_buffer_peak"), 65536);
    close_fixture(&f);
}

static void test_tcp_rx_ring_grows_after_high_water_and_drain_and_stops_at_max(void **state)
{
    struct fixture f;
    static uint8_t data[1 << 16];
    static uint8_t back[1 << 16];
    uint32_t cap = 4096;
    struct seg s;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    open_conn(&f, 4096, 65536, 4096, 65536);
    assert_int_equal(f.ws, tcp_rx_wscale(65536));
    for (int round = 0; round < 6; round++) {
        uint32_t n = cap / 4 * 3; /* exactly the high-water mark */
        uint32_t wnd;

        guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 65535, data, n);
        f.gseq += n;
        /* the batch wrote everything to the host: the ring drained and doubled, and the ACK
         * that went out already offers the larger window */
        s = wait_seg(f.c, "ACK with the grown window");
        assert_int_equal(s.ack, f.gseq);
        wnd = (uint32_t)s.win << f.ws;
        cap = cap * 2 > 65536 ? 65536 : cap * 2;
        assert_int_equal(wnd, cap);
        host_read_all(&f, back, n);
        assert_memory_equal(back, data, n);
    }
    assert_int_equal(stat_of(f.c, "rx_buffer_grows"), 4); /* 4K -> 64K, then no more */
    assert_int_equal(stat_of(f.c, "rx_buffer_peak"), 65536);
    close_fixture(&f);
}

static void test_tcp_rx_without_guest_window_scale_caps_at_65535(void **state)
{
    struct consomme *c = stack_new(65536, 4u << 20, 16384, 65536, 64);
    uint16_t port;
    int lfd = loopback_socket(SOCK_STREAM, &port), hfd;
    struct seg s = syn(c, port, -1);
    uint32_t iss = s.seq;
    static uint8_t big[49152];

    assert_int_equal(s.ws, -1);
    assert_int_equal(s.win, 65535);
    hfd = accept4(lfd, NULL, NULL, 0);
    guest_send(c, port, G_ISN + 1, iss + 1, 0x10, 65535, NULL, 0);
    /* 75% of the 64 KiB ring, drained at once: it would grow, but 64 KiB is the cap */
    guest_send(c, port, G_ISN + 1, iss + 1, 0x10, 65535, big, sizeof(big));
    s = wait_seg(c, "ACK of 48 KiB");
    assert_int_equal(s.ack, G_ISN + 1 + sizeof(big));
    assert_int_equal(s.win, 65535);
    assert_int_equal(stat_of(c, "rx_buffer_grows"), 0);
    close(hfd);
    close(lfd);
    stack_free(c);
}

/* A SYN from guest port @gport with window scale 7; returns the answer (SYN-ACK or RST). */
static struct seg syn_from(struct consomme *c, uint16_t gport, uint16_t port)
{
    uint8_t opts[8] = {2, 4, 0xff, 0xc8, 1, 3, 3, 7};

    guest_send_opts(c, gport, port, G_ISN, 0, 0x02, 65535, opts, sizeof(opts), NULL, 0);
    tcp_input_flush(c);
    return wait_seg(c, "answer to a SYN");
}

static void test_tcp_ring_growth_stops_at_the_memory_budget(void **state)
{
    struct fixture f;
    static uint8_t data[256 << 10];

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    /* rx fixed at 4K, tx 4K growing up to 1M. Rings grow within 3/4 of the 28K budget, 21K:
     * tx 4K -> 8K -> 16K (4K + 16K = 20K), not to 32K */
    open_conn(&f, 4096, 4096, 4096, 1u << 20);
    f.c->cfg.max_buffer_memory = 28672;
    host_to_guest_all(&f, data, sizeof(data));
    /* every byte arrived, in order, through a ring that stopped growing at the budget */
    assert_int_equal(stat_of(f.c, "tx_buffer_peak"), 16384);
    assert_int_equal(stat_of(f.c, "tx_buffer_grows"), 2);
    assert_true(stat_of(f.c, "buffer_grows_refused") >= 1);
    assert_int_equal(stat_of(f.c, "buffer_bytes"), 4096 + 16384);
    assert_int_equal(stat_of(f.c, "buffer_bytes_peak"), 4096 + 16384);
    assert_int_equal(stat_of(f.c, "connection_buffer_peak"), 4096 + 16384);
    assert_int_equal(stat_of(f.c, "max_buffer_memory"), 28672);

    /* the quarter growth may not take is there for a new connection's initial 8K rings */
    assert_int_equal(syn_from(f.c, GPORT + 1, f.port).flags, 0x12);
    assert_int_equal(stat_of(f.c, "buffer_bytes"), 28672);
    assert_int_equal(stat_of(f.c, "refused_memory"), 0);
    /* per connection: the small one is listed after the one that grew */
    {
        json_t *t = stats(f.c), *top = json_object_get(t, "connections_by_memory");
        json_t *big = json_array_get(top, 0), *small = json_array_get(top, 1);
        char dst[32];

        snprintf(dst, sizeof(dst), "10.0.2.2:%u", f.port);
        assert_int_equal(json_array_size(top), 2);
        assert_int_equal(json_integer_value(json_object_get(big, "guest_port")), GPORT);
        assert_string_equal(json_string_value(json_object_get(big, "destination")), dst);
        assert_string_equal(json_string_value(json_object_get(big, "state")), "established");
        assert_int_equal(json_integer_value(json_object_get(big, "rx_buffer")), 4096);
        assert_int_equal(json_integer_value(json_object_get(big, "tx_buffer")), 16384);
        assert_int_equal(json_integer_value(json_object_get(big, "buffer_peak")), 20480);
        assert_int_equal(json_integer_value(json_object_get(small, "guest_port")), GPORT + 1);
        assert_string_equal(json_string_value(json_object_get(small, "state")), "syn_rcvd");
        assert_int_equal(json_integer_value(json_object_get(small, "buffer_peak")), 8192);
        json_decref(t);
    }
    close_fixture(&f);
}

static void test_tcp_syn_past_the_budget_gets_rst_until_a_close_frees_it(void **state)
{
    struct consomme *c = stack_new(4096, 4096, 4096, 4096, 64);
    uint16_t port;
    int lfd = loopback_socket(SOCK_STREAM, &port), h1, h2;
    struct seg s;

    fcntl(lfd, F_SETFL, O_NONBLOCK);
    c->cfg.max_buffer_memory = 8192; /* one connection's two 4K rings */
    s = syn_from(c, GPORT, port);
    assert_int_equal(s.flags, 0x12);
    h1 = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(h1 >= 0);
    assert_int_equal(stat_of(c, "buffer_bytes"), 8192);

    /* a second connection would pass the budget: RST at once, never connected */
    s = syn_from(c, GPORT + 1, port);
    assert_int_equal(s.flags, 0x14);
    assert_int_equal(s.ack, G_ISN + 1);
    assert_int_equal(stat_of(c, "refused_memory"), 1);
    assert_int_equal(tcp_connection_count(c), 1);
    assert_int_equal(accept4(lfd, NULL, NULL, SOCK_CLOEXEC), -1);
    assert_int_equal(errno, EAGAIN);

    /* the first one ends (the guest resets it in SYN_RCVD): its rings go back to the budget */
    guest_send(c, port, G_ISN + 1, 0, 0x04, 0, NULL, 0);
    assert_int_equal(tcp_connection_count(c), 0);
    assert_int_equal(stat_of(c, "buffer_bytes"), 0);
    s = syn_from(c, GPORT + 2, port);
    assert_int_equal(s.flags, 0x12);
    assert_int_equal(stat_of(c, "refused_memory"), 1);
    h2 = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(h2 >= 0);
    close(h2);
    close(h1);
    close(lfd);
    stack_free(c);
}

/* Host data waits behind a guest window of 0 from @f's last ACK on; returns when it began. */
static uint64_t zero_window_with_data(struct fixture *f)
{
    uint8_t data[5000];

    memset(data, 'z', sizeof(data));
    guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 0, NULL, 0);
    assert_int_equal(send(f->hfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
    pump(f->c);
    assert_int_equal(f->c->rd, f->c->npk);
    return fake_now;
}

/* Timer ticks up to @until, the guest answering each probe with its window still 0. */
static unsigned probe_until(struct fixture *f, uint64_t until)
{
    unsigned probes = 0;

    while (fake_now < until) {
        fake_now = fake_now + 20000 < until ? fake_now + 20000 : until;
        tcp_timer(f->c, fake_now);
        while (f->c->rd < f->c->npk) {
            struct seg s = parse(next_pkt(f->c));

            assert_int_equal(s.flags & 0x04, 0); /* no reset before the deadline */
            assert_int_equal(s.seq, f->gack - 1);
            probes++;
            guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 0, NULL, 0);
        }
    }
    return probes;
}

static void test_tcp_zero_window_deadline_aborts_and_probing_stops(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[8];
    uint64_t t0;
    struct seg s;

    t0 = zero_window_with_data(f);
    assert_true(probe_until(f, t0 + TCP_ZERO_WINDOW_TIMEOUT_MS - 1) >= 10);
    assert_int_equal(tcp_connection_count(f->c), 1);
    assert_int_equal(stat_of(f->c, "zero_window_aborts"), 0);

    fake_now = t0 + TCP_ZERO_WINDOW_TIMEOUT_MS;
    tcp_timer(f->c, fake_now);
    s = wait_seg(f->c, "RST at the zero-window deadline");
    assert_int_equal(s.flags & 0x04, 0x04);
    assert_int_equal(s.seq, f->gack);
    assert_int_equal(stat_of(f->c, "zero_window_aborts"), 1);
    assert_int_equal(stat_of(f->c, "buffer_bytes"), 0);
    assert_int_equal(host_recv(f, buf, sizeof(buf)), -1); /* the host peer is reset too */
    assert_int_equal(errno, ECONNRESET);
    /* and nothing more: no probes after the abort */
    for (int i = 0; i < 10; i++) {
        fake_now += TCP_RTO_MAX_MS;
        tcp_timer(f->c, fake_now);
    }
    assert_int_equal(f->c->rd, f->c->npk);
    assert_int_equal(tcp_connection_count(f->c), 0);
}

static void test_tcp_zero_window_deadline_restarts_when_the_window_opens(void **state)
{
    struct fixture *f = *state;
    uint64_t t0, t1;
    size_t got = 0;

    t0 = zero_window_with_data(f);
    probe_until(f, t0 + TCP_ZERO_WINDOW_TIMEOUT_MS / 2);
    /* the guest reads a little (window 16 << 7 = 2048), then closes its window again */
    guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 16, NULL, 0);
    while (f->c->rd < f->c->npk)
        got += parse(next_pkt(f->c)).len;
    assert_int_equal(got, 2048);
    f->gack += (uint32_t)got;
    guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 0, NULL, 0);
    t1 = fake_now;
    /* past the first deadline, still alive: it counts from the second zero window */
    probe_until(f, t0 + TCP_ZERO_WINDOW_TIMEOUT_MS + 1000);
    assert_int_equal(tcp_connection_count(f->c), 1);
    assert_int_equal(stat_of(f->c, "zero_window_aborts"), 0);
    fake_now = t1 + TCP_ZERO_WINDOW_TIMEOUT_MS;
    tcp_timer(f->c, fake_now);
    assert_int_equal(wait_seg(f->c, "RST at the second deadline").flags & 0x04, 0x04);
    assert_int_equal(stat_of(f->c, "zero_window_aborts"), 1);
}

int tcp_buffers_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_tx_ring_grows_while_host_has_data_and_stops_at_max),
        cmocka_unit_test(test_tcp_rx_ring_grows_after_high_water_and_drain_and_stops_at_max),
        cmocka_unit_test(test_tcp_rx_without_guest_window_scale_caps_at_65535),
        cmocka_unit_test(test_tcp_ring_growth_stops_at_the_memory_budget),
        cmocka_unit_test(test_tcp_syn_past_the_budget_gets_rst_until_a_close_frees_it),
        cmocka_unit_test_setup_teardown(test_tcp_zero_window_deadline_aborts_and_probing_stops,
                                        conn_open, conn_close),
        cmocka_unit_test_setup_teardown(
            test_tcp_zero_window_deadline_restarts_when_the_window_opens, conn_open, conn_close),
    };

    return test_exit_status(cmocka_run_group_tests_name("tcp_buffers", tests, NULL, NULL));
}
