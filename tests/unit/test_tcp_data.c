/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_data - consomme's TCP: data on an open connection
 *
 * Data both ways, reassembly of segments out of order, retransmission (timer, backoff, fast
 * retransmit, giving up), the guest's window and consomme's own, a full guest queue, and
 * malformed or random segments, all through the fake core of test_tcp.h.
 */
#include "test_tcp.h"

static void test_tcp_handshake_and_data_both_ways(void **state)
{
    struct fixture f;
    uint8_t buf[64];
    struct seg s;

    open_conn(&f, 16384, 4u << 20, 16384, 4u << 20);
    assert_int_equal(f.ws, tcp_rx_wscale(4u << 20));
    assert_int_equal(tcp_connection_count(f.c), 1);

    guest_send(f.c, f.port, f.gseq, f.gack, 0x18, 65535, "hello", 5);
    s = wait_seg(f.c, "ACK of guest data");
    assert_int_equal(s.flags & 0x10, 0x10);
    assert_int_equal(s.ack, f.gseq + 5);
    assert_int_equal(s.len, 0);
    f.gseq += 5;
    host_read_all(&f, buf, 5);
    assert_memory_equal(buf, "hello", 5);

    assert_int_equal(send(f.hfd, "world!", 6, 0), 6);
    s = wait_seg(f.c, "host data to guest");
    assert_int_equal(s.seq, f.gack);
    assert_int_equal(s.len, 6);
    assert_memory_equal(s.data, "world!", 6);
    assert_int_equal(s.ack, f.gseq);
    guest_send(f.c, f.port, f.gseq, f.gack + 6, 0x10, 65535, NULL, 0);
    assert_int_equal(stat_of(f.c, "bytes_from_guest"), 5);
    assert_int_equal(stat_of(f.c, "bytes_to_guest"), 6);
    close_fixture(&f);
}

static void test_tcp_out_of_order_segments_reassembled(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[30];
    struct seg s;

    guest_send(f->c, f->port, f->gseq + 20, f->gack, 0x10, 65535, "CCCCCCCCCC", 10);
    s = wait_seg(f->c, "duplicate ACK for a hole");
    assert_int_equal(s.ack, f->gseq);
    guest_send(f->c, f->port, f->gseq + 10, f->gack, 0x10, 65535, "BBBBBBBBBB", 10);
    s = wait_seg(f->c, "second duplicate ACK");
    assert_int_equal(s.ack, f->gseq);
    /* the hole fills: all 30 bytes go to the host in order, one cumulative ACK */
    guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 65535, "AAAAAAAAAA", 10);
    s = wait_seg(f->c, "cumulative ACK");
    assert_int_equal(s.ack, f->gseq + 30);
    host_read_all(f, buf, 30);
    assert_memory_equal(buf, "AAAAAAAAAABBBBBBBBBBCCCCCCCCCC", 30);
    assert_int_equal(stat_of(f->c, "out_of_order_segments"), 2);
}

static void test_tcp_retransmits_on_timer_with_backoff(void **state)
{
    struct fixture *f = *state;
    struct seg s;

    assert_int_equal(send(f->hfd, "data", 4, 0), 4);
    s = wait_seg(f->c, "data to guest");
    assert_int_equal(s.seq, f->gack);
    /* not ACKed: nothing before the RTO, then the same bytes again */
    fake_now += TCP_RTO_INIT_MS - 1;
    tcp_timer(f->c, fake_now);
    assert_int_equal(f->c->rd, f->c->npk);
    fake_now += 2;
    tcp_timer(f->c, fake_now);
    s = wait_seg(f->c, "retransmission");
    assert_int_equal(s.seq, f->gack);
    assert_int_equal(s.len, 4);
    assert_memory_equal(s.data, "data", 4);
    /* backoff: the next one comes after twice the time */
    fake_now += TCP_RTO_INIT_MS + 1;
    tcp_timer(f->c, fake_now);
    assert_int_equal(f->c->rd, f->c->npk);
    fake_now += TCP_RTO_INIT_MS;
    tcp_timer(f->c, fake_now);
    s = wait_seg(f->c, "second retransmission");
    assert_int_equal(s.seq, f->gack);
    assert_int_equal(stat_of(f->c, "retransmits"), 2);
    /* an ACK stops it */
    guest_send(f->c, f->port, f->gseq, f->gack + 4, 0x10, 65535, NULL, 0);
    fake_now += TCP_RTO_MAX_MS;
    tcp_timer(f->c, fake_now);
    assert_int_equal(f->c->rd, f->c->npk);
}

static void test_tcp_fast_retransmit_on_three_duplicate_acks(void **state)
{
    struct fixture *f = *state;
    uint8_t data[3000];
    struct seg s;

    memset(data, 'x', sizeof(data));
    /* a guest with a 1000-byte MSS would be simpler, but the SYN offered 65480: use window */
    assert_int_equal(send(f->hfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
    s = wait_seg(f->c, "data");
    pump(f->c);
    while (f->c->rd < f->c->npk)
        next_pkt(f->c);
    for (int i = 0; i < 3; i++)
        guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 65535, NULL, 0);
    s = wait_seg(f->c, "fast retransmission");
    assert_int_equal(s.seq, f->gack);
    assert_true(s.len > 0);
    assert_int_equal(stat_of(f->c, "fast_retransmits"), 1);
}

static void test_tcp_respects_guest_window_and_probes_zero_window(void **state)
{
    struct fixture *f = *state;
    uint8_t data[5000];
    struct seg s;
    size_t got = 0;

    memset(data, 'w', sizeof(data));
    /* window 1000 << 7 = 128000 is plenty; shrink it to 0 before the host talks */
    guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 0, NULL, 0);
    assert_int_equal(send(f->hfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
    pump(f->c);
    assert_int_equal(f->c->rd, f->c->npk); /* nothing may be sent into a zero window */
    fake_now += TCP_RTO_INIT_MS + 1;
    tcp_timer(f->c, fake_now);
    s = wait_seg(f->c, "zero-window probe");
    assert_int_equal(s.seq, f->gack - 1);
    assert_int_equal(s.len, 0);
    assert_int_equal(stat_of(f->c, "window_probes"), 1);
    /* the guest opens 2048 bytes (16 << 7): exactly that much comes */
    guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 16, NULL, 0);
    while (f->c->rd < f->c->npk) {
        s = parse(next_pkt(f->c));
        got += s.len;
    }
    assert_int_equal(got, 16 << 7);
}

static void test_tcp_malformed_segments_dropped_and_counted(void **state)
{
    struct consomme *c = stack_new(16384, 65536, 16384, 65536, 64);
    struct cm_ipv4 ip = {.src = GUEST_IP, .dst = GW_IP, .proto = IPPROTO_TCP};
    uint8_t b[40] = {0};

    tcp_input(c, &ip, b, 10); /* shorter than a header */
    b[12] = 0xf0;             /* data offset 60 > 40 */
    tcp_input(c, &ip, b, sizeof(b));
    b[12] = 0x40; /* data offset 16 < 20 */
    tcp_input(c, &ip, b, sizeof(b));
    b[12] = 0x50;
    b[13] = 0x02;
    b[16] = 0x12; /* checksum surely wrong */
    tcp_input(c, &ip, b, sizeof(b));
    tcp_input_flush(c);
    assert_int_equal(c->npk, 0);
    assert_int_equal(tcp_connection_count(c), 0);
    assert_int_equal(stat_of(c, "short"), 1);
    assert_int_equal(stat_of(c, "data_offset"), 2);
    assert_int_equal(stat_of(c, "checksum"), 1);
    /* random garbage with a right checksum never crashes and never opens anything odd */
    srand(1);
    for (int i = 0; i < 20000; i++) {
        uint8_t g[80];
        size_t len = 20 + (size_t)(rand() % 60);
        uint16_t ck;

        for (size_t k = 0; k < len; k++)
            g[k] = (uint8_t)rand();
        g[13] &= (uint8_t)~0x02; /* no SYNs: they would start real host connects */
        g[16] = g[17] = 0;
        ck = csum_fold(csum_partial(g, len, csum_pseudo_ipv4(ip.src, ip.dst, 6, (uint16_t)len)));
        g[16] = (uint8_t)(ck >> 8), g[17] = (uint8_t)ck;
        tcp_input(c, &ip, g, len);
        if (c->npk > 4000)
            drain(c);
    }
    tcp_input_flush(c);
    assert_int_equal(tcp_connection_count(c), 0);
    stack_free(c);
}

static void test_tcp_random_segments_on_a_live_connection_never_crash(void **state)
{
    struct fixture f;
    uint8_t data[200];

    open_conn(&f, 4096, 65536, 4096, 65536);
    fcntl(f.hfd, F_SETFL, O_NONBLOCK);
    srand(2);
    for (int i = 0; i < 20000; i++) {
        uint32_t seq = f.gseq + (uint32_t)(rand() % 140000) - 70000;
        uint32_t ack = f.gack + (uint32_t)(rand() % 140000) - 70000;
        uint8_t fl = (uint8_t)(rand() & 0x3d); /* anything but SYN */
        size_t len = (size_t)(rand() % 200);

        if (i % 3 == 0) /* often exactly in sequence, so data and FINs get through */
            seq = f.gseq, ack = f.gack;
        if (fl & 0x04 && rand() % 8)
            fl &= (uint8_t)~0x04; /* fewer resets, so the connection lives longer */
        for (size_t k = 0; k < len; k++)
            data[k] = (uint8_t)rand();
        guest_send_opts(f.c, GPORT, f.port, seq, ack, fl, (uint16_t)rand(), NULL, 0, data, len);
        if (i % 8 == 0) {
            tcp_input_flush(f.c);
            pump(f.c);
            while (recv(f.hfd, data, sizeof(data), 0) > 0)
                ;
            if (i % 64 == 0) {
                fake_now += 300;
                tcp_timer(f.c, fake_now);
            }
        }
        if (f.c->npk > 4000)
            drain(f.c);
    }
    tcp_input_flush(f.c);
    close_fixture(&f);
}

static void test_tcp_guest_queue_full_resumes_when_writable(void **state)
{
    struct fixture *f = *state;
    struct seg s;

    f->c->nobufs = true;
    assert_int_equal(send(f->hfd, "queued", 6, 0), 6);
    pump(f->c);
    assert_int_equal(f->c->rd, f->c->npk);
    f->c->nobufs = false;
    tcp_guest_writable(f->c);
    s = wait_seg(f->c, "data after the queue drained");
    assert_int_equal(s.len, 6);
    assert_memory_equal(s.data, "queued", 6);
}

static void test_tcp_gives_up_after_max_retries_with_resets(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[4];
    struct seg s;
    unsigned i;

    assert_int_equal(send(f->hfd, "lost", 4, 0), 4);
    wait_seg(f->c, "data");
    for (i = 0; i < TCP_MAX_RETRIES; i++) {
        fake_now += TCP_RTO_MAX_MS + 1;
        tcp_timer(f->c, fake_now);
        s = wait_seg(f->c, "retransmission");
        assert_int_equal(s.seq, f->gack);
    }
    fake_now += TCP_RTO_MAX_MS + 1;
    tcp_timer(f->c, fake_now);
    s = wait_seg(f->c, "RST after the last retry");
    assert_int_equal(s.flags & 0x04, 0x04);
    assert_int_equal(tcp_connection_count(f->c), 0);
    assert_int_equal(host_recv(f, buf, sizeof(buf)), -1);
    assert_int_equal(errno, ECONNRESET);
}

static void test_tcp_data_beyond_window_trimmed_not_delivered(void **state)
{
    struct fixture f;
    static uint8_t data[8192], back[8192];
    struct seg s;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 3);
    open_conn(&f, 4096, 4096, 16384, 16384); /* a fixed 4 KiB window */
    /* more than the window in one segment: only the first 4096 bytes may be taken */
    guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 65535, data, sizeof(data));
    s = wait_seg(f.c, "ACK of the part within the window");
    assert_int_equal(s.ack, f.gseq + 4096);
    assert_true(stat_of(f.c, "out_of_window") >= 1);
    host_read_all(&f, back, 4096);
    assert_memory_equal(back, data, 4096);
    /* the rest, resent, is taken now */
    guest_send(f.c, f.port, f.gseq + 4096, f.gack, 0x10, 65535, data + 4096, 4096);
    s = wait_seg(f.c, "ACK of the rest");
    assert_int_equal(s.ack, f.gseq + 8192);
    host_read_all(&f, back, 4096);
    assert_memory_equal(back, data + 4096, 4096);
    close_fixture(&f);
}

/* @piece: 0 for contiguous segments, else the size of the pieces their payload comes in */
static void lagging_host_transfer(size_t piece)
{
    enum { TOTAL = 12 << 20, SEG = 20000 };
    static uint8_t data[TOTAL], back[TOTAL];
    struct fixture f;
    uint32_t sent = 0, got = 0, wnd;
    int64_t end = clock_now_ms() + 20000;
    int small = 65536;
    struct seg s;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 31 + (i >> 13));
    open_conn(&f, 65536, 65536, 16384, 16384);
    /* a slow reader: its small buffer makes consomme's sends partial, so segments go partly
     * straight to the host and partly through the ring */
    setsockopt(f.hfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    fcntl(f.hfd, F_SETFL, O_NONBLOCK);
    wnd = 65535u << f.ws > 65536 ? 65536 : 65535u << f.ws;
    guest_sg_piece = piece;
    while (got < TOTAL) {
        if (clock_now_ms() > end)
            fail_msg("stalled: %u sent, %u read", sent, got);
        if (sent < TOTAL && wnd >= SEG) {
            uint32_t n = TOTAL - sent < SEG ? TOTAL - sent : SEG;

            guest_send(f.c, f.port, f.gseq + sent, f.gack, 0x10, 65535, data + sent, n);
            sent += n;
        }
        pump(f.c);
        while (f.c->rd < f.c->npk) {
            s = parse(next_pkt(f.c));
            assert_true(s.ack - f.gseq <= sent);
            wnd = ((uint32_t)s.win << f.ws) - (sent - (s.ack - f.gseq));
            if ((int32_t)wnd < 0)
                wnd = 0;
        }
        if (wnd < SEG || sent == TOTAL) {
            ssize_t n = recv(f.hfd, back + got, TOTAL - got, 0);

            if (n > 0)
                got += (uint32_t)n;
            else
                dispatch(f.c, 5);
        }
    }
    assert_memory_equal(back, data, TOTAL);
    close_fixture(&f);
}

static void test_tcp_large_segments_stay_in_order_when_host_socket_lags(void **state)
{
    lagging_host_transfer(0);
}

/*
 * The same with each payload in pieces, as vhost-user leaves it in guest memory
 * (tcp_input_sg()): partial sends straight from the pieces, the rest copied into rx from the
 * right piece at the right offset.
 */
static void test_tcp_payload_in_pieces_stays_in_order_when_host_socket_lags(void **state)
{
    lagging_host_transfer(1001);
}

/* Out-of-order pieces parked, the hole filled, all from payloads in 3-byte pieces. */
static void test_tcp_payload_in_pieces_reassembled_out_of_order(void **state)
{
    guest_sg_piece = 3;
    test_tcp_out_of_order_segments_reassembled(state);
}

/* A retransmission overlapping what was taken: the old part of its pieces is skipped. */
static void test_tcp_payload_in_pieces_overlap_skipped(void **state)
{
    struct fixture *f = *state;
    static const char msg[] = "0123456789abcdefghij";
    uint8_t buf[20];
    struct seg s;

    guest_sg_piece = 4;
    guest_send(f->c, f->port, f->gseq, f->gack, 0x18, 65535, msg, 10);
    s = wait_seg(f->c, "ACK of the first 10 bytes");
    assert_int_equal(s.ack, f->gseq + 10);
    /* bytes 5..19: the first five are old, and they span the header block and two pieces */
    guest_send(f->c, f->port, f->gseq + 5, f->gack, 0x18, 65535, msg + 5, 15);
    s = wait_seg(f->c, "ACK of all 20 bytes");
    assert_int_equal(s.ack, f->gseq + 20);
    host_read_all(f, buf, 20);
    assert_memory_equal(buf, msg, 20);
    /* the checksum summed over pieces at odd offsets matched */
    assert_int_equal(stat_of(f->c, "checksum"), 0);
}

/* Data beyond the window trimmed within the pieces. */
static void test_tcp_payload_in_pieces_trimmed_at_window(void **state)
{
    guest_sg_piece = 1001;
    test_tcp_data_beyond_window_trimmed_not_delivered(state);
}

/* The segment tcp.c sent last, which must be there (no waiting: tcp.c sends synchronously). */
static struct seg captured(struct consomme *c, const char *what)
{
    const struct pkt *p = next_pkt(c);

    if (!p)
        fail_msg("no segment sent: %s", what);
    return parse(p);
}

/*
 * Delayed ACKs (tcp_ack_may_wait()): a lone full-sized segment waits for the next one, one
 * ACK covers both; a lone one left waiting is ACKed by the timer after TCP_DELACK_MS; a
 * short segment (the end of a write) and a window running low are ACKed at once.
 */
static void test_tcp_full_segments_acked_every_second_or_by_the_timer(void **state)
{
    enum { FULL = MTU - 40, N = 4 * FULL + 100 };
    static uint8_t data[N], back[N];
    struct fixture f;
    uint32_t at = 0;
    struct seg s;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + (i >> 11));
    open_conn(&f, 1u << 20, 1u << 20, 16384, 16384);
    drain(f.c);
    guest_send(f.c, f.port, f.gseq + at, f.gack, 0x10, 65535, data + at, FULL);
    at += FULL;
    assert_null(next_pkt(f.c)); /* a full segment with the window wide open: no ACK yet */
    guest_send(f.c, f.port, f.gseq + at, f.gack, 0x10, 65535, data + at, FULL);
    at += FULL;
    s = captured(f.c, "ACK 2");
    assert_int_equal(s.ack, f.gseq + at); /* the second: one ACK for both */
    assert_null(next_pkt(f.c));

    guest_send(f.c, f.port, f.gseq + at, f.gack, 0x10, 65535, data + at, FULL);
    at += FULL;
    assert_null(next_pkt(f.c));
    fake_now += TCP_DELACK_MS - 1;
    tcp_timer(f.c, fake_now);
    assert_null(next_pkt(f.c)); /* not yet */
    fake_now += 1;
    tcp_timer(f.c, fake_now);
    s = captured(f.c, "ACK 3");
    assert_int_equal(s.ack, f.gseq + at); /* the timer sent it */
    tcp_timer(f.c, fake_now + TCP_DELACK_MS);
    assert_null(next_pkt(f.c)); /* and only once */

    guest_send(f.c, f.port, f.gseq + at, f.gack, 0x10, 65535, data + at, FULL);
    at += FULL;
    assert_null(next_pkt(f.c));
    /* a short segment after it: both ACKed at once */
    guest_send(f.c, f.port, f.gseq + at, f.gack, 0x18, 65535, data + at, 100);
    at += 100;
    s = captured(f.c, "ACK 4");
    assert_int_equal(s.ack, f.gseq + at);
    host_read_all(&f, back, N);
    assert_memory_equal(back, data, N);
    close_fixture(&f);

    /* a 128 KiB window: after one full segment less than two are left, so no waiting */
    open_conn(&f, 131072, 131072, 16384, 16384);
    drain(f.c);
    for (uint32_t i = 1; i <= 2; i++) {
        guest_send(f.c, f.port, f.gseq + (i - 1) * FULL, f.gack, 0x10, 65535, data, FULL);
        s = captured(f.c, "ACK 5");
        assert_int_equal(s.ack, f.gseq + i * FULL);
        host_read_all(&f, back, FULL);
        drain(f.c); /* window updates as the host reads */
    }
    close_fixture(&f);
}

/*
 * The guest's FIN arrives while rx still holds data for a slow host: draining it later must
 * send the guest nothing. A window update then would reach a guest whose socket may be gone
 * (LAST_ACK done), and its RST would cut the host off from the rest (seen as "Connection
 * reset by peer" at the end of an echo transfer through vhost-user).
 */
static void test_tcp_no_window_update_after_guest_fin(void **state)
{
    enum { SEG = 60000, MAX = 16 << 20 };
    static uint8_t data[MAX], back[MAX];
    int small = 262144; /* well above an MSS: a tiny one would stall on silly-window avoidance */
    uint32_t sent = 0, wnd = 65536;
    struct fixture f;
    struct seg s;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13 + (i >> 11));
    open_conn(&f, 65536, 65536, 16384, 16384);
    setsockopt(f.hfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    /* fill the kernel's buffers and then some of rx: the ACKs' window shrinks below half the
     * ring (segments as large as the window allows, so the loop is short) */
    while (wnd >= 65536 / 2) {
        uint32_t n = wnd < SEG ? wnd : SEG;

        assert_true(sent + n <= MAX);
        guest_send(f.c, f.port, f.gseq + sent, f.gack, 0x10, 65535, data + sent, n);
        sent += n;
        s = wait_seg(f.c, "ACK of data");
        assert_int_equal(s.ack, f.gseq + sent);
        wnd = (uint32_t)s.win << f.ws;
        drain(f.c);
    }
    guest_send(f.c, f.port, f.gseq + sent, f.gack, 0x11, 65535, NULL, 0); /* FIN */
    s = wait_seg(f.c, "ACK of the FIN");
    assert_int_equal(s.ack, f.gseq + sent + 1);
    drain(f.c);
    /* the host reads everything, then EOF: rx drained and the host's side shut */
    host_read_all(&f, back, sent);
    assert_memory_equal(back, data, sent);
    assert_int_equal(host_recv(&f, back, 1), 0);
    pump(f.c);
    if (f.c->rd < f.c->npk)
        fail_msg("a segment went to the guest after its FIN, once rx drained (flags %#x)",
                 parse(next_pkt(f.c)).flags);
    close_fixture(&f);
}

/*
 * @len bytes from the host socket to a guest that ACKs everything at once (window 65535 << 7):
 * each data segment is checked against the guest's MSS of 1460 and the super-frame rules, and
 * the bytes must arrive whole and in order. Return: super-frames seen.
 */
static unsigned host_to_guest_1460(struct fixture *f, size_t len)
{
    uint8_t *out = malloc(len), *in = malloc(len);
    uint32_t most = cm_guest_tso_max(f->c, 1460);
    size_t sent = 0, got = 0;
    int64_t end = clock_now_ms() + 10000;
    unsigned supers = 0;

    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 31 + (i >> 9));
    fcntl(f->hfd, F_SETFL, O_NONBLOCK);
    while (got < len) {
        const struct pkt *p;
        ssize_t k = sent < len ? send(f->hfd, out + sent, len - sent, MSG_DONTWAIT) : 0;

        if (k > 0)
            sent += (size_t)k;
        dispatch(f->c, 20);
        while ((p = next_pkt(f->c))) {
            struct seg s = parse(p);

            if (!s.len)
                continue;
            assert_int_equal(s.seq, f->gack);
            assert_true(s.len <= most);
            if (s.len > 1460) {
                /* cut by the guest at its MSS; whole segments unless it is all there was */
                assert_int_equal(s.tso_mss, 1460);
                assert_true(s.len % 1460 == 0 || (s.flags & 0x08));
                supers++;
            } else {
                assert_int_equal(s.tso_mss, 0);
            }
            memcpy(in + got, s.data, s.len);
            got += s.len;
            f->gack += (uint32_t)s.len;
        }
        drain(f->c);
        guest_send(f->c, f->port, f->gseq, f->gack, 0x10, 65535, NULL, 0);
        if (clock_now_ms() > end)
            fail_msg("%zu of %zu bytes reached the guest in 10 s", got, len);
    }
    assert_memory_equal(in, out, len);
    free(out);
    free(in);
    return supers;
}

static void test_tcp_super_frames_of_whole_mss_segments_where_the_transport_takes_them(void **state)
{
    struct fixture f;

    /* the transport takes 65520-byte packets: 44 segments of 1460 = 64240 bytes at most */
    open_conn_mss(&f, 16384, 4u << 20, 16384, 4u << 20, 1460, 65520);
    assert_int_equal(cm_guest_tso_max(f.c, 1460), 44 * 1460);
    assert_true(host_to_guest_1460(&f, 1u << 20) > 0);
    close_fixture(&f);
}

static void test_tcp_segments_stay_within_the_mss_without_guest_segmentation(void **state)
{
    struct fixture f;

    open_conn_mss(&f, 16384, 4u << 20, 16384, 4u << 20, 1460, 0);
    assert_int_equal(cm_guest_tso_max(f.c, 1460), 1460);
    assert_int_equal(host_to_guest_1460(&f, 256u << 10), 0);
    close_fixture(&f);
}

static void test_tcp_queue_room_is_shared_round_robin(void **state)
{
    struct fixture f;
    static uint8_t data[200000];
    struct seg s;
    uint32_t iss2;
    int h2;
    unsigned from1 = 0, from2 = 0;

    memset(data, 'r', sizeof(data));
    open_conn(&f, 16384, 262144, 16384, 262144);
    /* a second connection from another guest port */
    guest_send_opts(f.c, GPORT + 7, f.port, G_ISN, 0, 0x02, 65535,
                    (const uint8_t[]){2, 4, 0x05, 0xb4, 1, 3, 3, 7}, 8, NULL, 0);
    tcp_input_flush(f.c);
    s = wait_seg(f.c, "second SYN-ACK");
    iss2 = s.seq;
    h2 = accept4(f.lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(h2 >= 0);
    guest_send_opts(f.c, GPORT + 7, f.port, G_ISN + 1, iss2 + 1, 0x10, 65535, NULL, 0, NULL, 0);
    tcp_input_flush(f.c);
    /* both have far more to send than the queue takes */
    f.c->nobufs = true;
    assert_int_equal(send(f.hfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
    assert_int_equal(send(h2, data, sizeof(data), 0), (ssize_t)sizeof(data));
    pump(f.c);
    f.c->rd = f.c->npk;
    /* the queue takes two segments at a time: both connections must get turns */
    for (int i = 0; i < 6; i++) {
        f.c->nobufs = false;
        f.c->budget = 2;
        tcp_guest_writable(f.c);
        while (f.c->rd < f.c->npk) {
            const struct pkt *p = next_pkt(f.c);

            if (parse(p).len)
                *(get_be16(p->b + 2) == GPORT ? &from1 : &from2) += 1;
        }
    }
    f.c->budget = 0;
    f.c->nobufs = false;
    assert_true(from1 >= 2);
    assert_true(from2 >= 2);
    close(h2);
    close_fixture(&f);
}

static void test_tcp_fin_beyond_a_hole_waits_for_the_hole(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[16];
    struct pollfd p;
    struct seg s;

    guest_send(f->c, f->port, f->gseq + 5, f->gack, 0x19, 65535, "BBBBB", 5); /* data + FIN */
    s = wait_seg(f->c, "duplicate ACK for the hole");
    assert_int_equal(s.ack, f->gseq); /* neither the data nor the FIN is acknowledged */
    pump(f->c);
    p = (struct pollfd){.fd = f->hfd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 0); /* no data, and no EOF, for the host yet */
    guest_send(f->c, f->port, f->gseq, f->gack, 0x18, 65535, "AAAAA", 5);
    s = wait_seg(f->c, "ACK of the filled hole and the FIN");
    assert_int_equal(s.ack, f->gseq + 11);
    host_read_all(f, buf, 10);
    assert_memory_equal(buf, "AAAAABBBBB", 10);
    assert_int_equal(host_recv(f, buf, sizeof(buf)), 0);
}

static void test_tcp_own_zero_window_then_window_update(void **state)
{
    struct fixture f;
    static uint8_t chunk[4000];
    uint64_t sent = 0, read_back = 0;
    uint32_t wnd = 1;
    uint8_t buf[65536];
    struct seg s;

    memset(chunk, 'q', sizeof(chunk));
    /* a fixed 16K rx ring and a host that does not read: the ring fills behind the socket */
    open_conn(&f, 16384, 16384, 16384, 16384);
    fcntl(f.hfd, F_SETFL, O_NONBLOCK);
    while (wnd) {
        uint32_t n = wnd < sizeof(chunk) ? wnd : (uint32_t)sizeof(chunk);

        if (sent > (64u << 20))
            fail_msg("64 MiB sent and consomme never closed its window");
        guest_send(f.c, f.port, f.gseq, f.gack, 0x10, 65535, chunk, n);
        s = wait_seg(f.c, "ACK while filling");
        while (f.c->rd < f.c->npk) /* the last ACK tells the current window */
            s = parse(next_pkt(f.c));
        f.gseq += n;
        sent += n;
        assert_int_equal(s.ack, f.gseq);
        wnd = (uint32_t)s.win << f.ws;
    }
    assert_int_equal(s.win, 0);
    assert_int_equal(stat_of(f.c, "out_of_window"), 0);
    /* the host reads: without a word from the guest, consomme says its window is open again */
    for (int64_t end = clock_now_ms() + 5000; f.c->rd == f.c->npk;) {
        ssize_t n = recv(f.hfd, buf, sizeof(buf), 0);

        if (n > 0)
            read_back += (uint64_t)n;
        if (clock_now_ms() > end)
            fail_msg("no window update after the host read %llu bytes",
                     (unsigned long long)read_back);
        dispatch(f.c, 5);
    }
    s = parse(next_pkt(f.c));
    assert_int_equal(s.len, 0);
    assert_int_equal(s.ack, f.gseq);
    assert_true(s.win > 0);
    /* every byte the window let in reaches the host */
    while (read_back < sent) {
        ssize_t n = recv(f.hfd, buf, sizeof(buf), 0);

        if (n > 0)
            read_back += (uint64_t)n;
        else
            dispatch(f.c, 5);
    }
    assert_int_equal(read_back, sent);
    close_fixture(&f);
}

int tcp_data_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_handshake_and_data_both_ways),
        cmocka_unit_test(test_tcp_no_window_update_after_guest_fin),
        cmocka_unit_test_setup_teardown(test_tcp_out_of_order_segments_reassembled, conn_open,
                                        conn_close),
        cmocka_unit_test_setup_teardown(test_tcp_retransmits_on_timer_with_backoff, conn_open,
                                        conn_close),
        cmocka_unit_test_setup_teardown(test_tcp_fast_retransmit_on_three_duplicate_acks, conn_open,
                                        conn_close),
        cmocka_unit_test_setup_teardown(test_tcp_respects_guest_window_and_probes_zero_window,
                                        conn_open, conn_close),
        cmocka_unit_test(test_tcp_malformed_segments_dropped_and_counted),
        cmocka_unit_test_setup_teardown(test_tcp_gives_up_after_max_retries_with_resets, conn_open,
                                        conn_close),
        cmocka_unit_test(test_tcp_data_beyond_window_trimmed_not_delivered),
        cmocka_unit_test(test_tcp_large_segments_stay_in_order_when_host_socket_lags),
        cmocka_unit_test(test_tcp_payload_in_pieces_stays_in_order_when_host_socket_lags),
        cmocka_unit_test_setup_teardown(test_tcp_payload_in_pieces_reassembled_out_of_order,
                                        conn_open, conn_close),
        cmocka_unit_test_setup_teardown(test_tcp_payload_in_pieces_overlap_skipped, conn_open,
                                        conn_close),
        cmocka_unit_test(test_tcp_payload_in_pieces_trimmed_at_window),
        cmocka_unit_test(test_tcp_full_segments_acked_every_second_or_by_the_timer),
        cmocka_unit_test(test_tcp_random_segments_on_a_live_connection_never_crash),
        cmocka_unit_test_setup_teardown(test_tcp_guest_queue_full_resumes_when_writable, conn_open,
                                        conn_close),
        cmocka_unit_test(
            test_tcp_super_frames_of_whole_mss_segments_where_the_transport_takes_them),
        cmocka_unit_test(test_tcp_segments_stay_within_the_mss_without_guest_segmentation),
        cmocka_unit_test(test_tcp_queue_room_is_shared_round_robin),
        cmocka_unit_test_setup_teardown(test_tcp_fin_beyond_a_hole_waits_for_the_hole, conn_open,
                                        conn_close),
        cmocka_unit_test(test_tcp_own_zero_window_then_window_update),
    };

    return test_exit_status(cmocka_run_group_tests_name("tcp_data", tests, NULL, NULL));
}
