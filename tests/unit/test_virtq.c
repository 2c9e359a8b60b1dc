/* SPDX-License-Identifier: MIT */
/*
 * test_virtq - the split virtqueue walk over a fake guest memory, and feature negotiation
 *
 * "Guest memory" is one calloc'd region at guest address GPA_BASE (front-end address
 * UVA_BASE); the tests play the guest's driver by writing descriptors and avail entries in
 * the layout of the virtio 1.x spec, and check what virtq.c makes of them, including every
 * way a guest may lie.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "byteorder.h"
#include "vhost_user.h"
#include "virtq.h"

#define MEM_SIZE  (1u << 20)
#define GPA_BASE  0x100000ull
#define UVA_BASE  0x7f0000000000ull
#define RING_NUM  8
#define DESC_OFF  0x0
#define AVAIL_OFF 0x1000
#define USED_OFF  0x2000
#define DATA_OFF  0x10000

#define F_NEXT     1
#define F_WRITE    2
#define F_INDIRECT 4

struct fx {
    uint8_t *mem;
    struct vu_mem table;
    struct virtq vq;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    f->mem = calloc(1, MEM_SIZE);
    f->table.n = 1;
    f->table.r[0] =
        (struct vu_region){.gpa = GPA_BASE, .size = MEM_SIZE, .uva = UVA_BASE, .host = f->mem};
    f->vq.num = RING_NUM;
    f->vq.desc_uva = UVA_BASE + DESC_OFF;
    f->vq.avail_uva = UVA_BASE + AVAIL_OFF;
    f->vq.used_uva = UVA_BASE + USED_OFF;
    f->vq.indirect = true;
    assert_int_equal(virtq_map(&f->vq, &f->table), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    free(f->mem);
    free(f);
    return 0;
}

static void set_desc(uint8_t *table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    uint8_t *d = table + 16 * i;

    put_le64(d, addr);
    put_le32(d + 8, len);
    put_le16(d + 12, flags);
    put_le16(d + 14, next);
}

static void desc(struct fx *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
    set_desc(f->mem + DESC_OFF, i, addr, len, flags, next);
}

static uint16_t avail_idx(struct fx *f)
{
    return get_le16(f->mem + AVAIL_OFF + 2);
}

/* The guest makes chain @head available. */
static void offer(struct fx *f, uint16_t head)
{
    uint16_t idx = avail_idx(f);

    put_le16(f->mem + AVAIL_OFF + 4 + 2 * (idx % RING_NUM), head);
    put_le16(f->mem + AVAIL_OFF + 2, (uint16_t)(idx + 1));
}

static uint16_t used_idx(struct fx *f)
{
    return get_le16(f->mem + USED_OFF + 2);
}

static void test_pop_on_an_empty_ring_is_eagain(void **state)
{
    struct fx *f = *state;
    struct vq_elem e;

    assert_true(virtq_empty(&f->vq));
    assert_int_equal(virtq_pop(&f->vq, &f->table, &e), -EAGAIN);
}

static void test_chain_maps_readable_then_writable_pieces(void **state)
{
    struct fx *f = *state;
    struct vq_elem e;

    desc(f, 3, GPA_BASE + DATA_OFF, 12, F_NEXT, 5);
    desc(f, 5, GPA_BASE + DATA_OFF + 100, 1000, F_NEXT, 1);
    desc(f, 1, GPA_BASE + DATA_OFF + 4096, 2048, F_WRITE, 0);
    offer(f, 3);
    assert_false(virtq_empty(&f->vq));
    assert_int_equal(virtq_pop(&f->vq, &f->table, &e), 0);
    assert_int_equal(e.head, 3);
    assert_int_equal(e.n_out, 2);
    assert_int_equal(e.n_in, 1);
    assert_int_equal(e.out_len, 1012);
    assert_int_equal(e.in_len, 2048);
    assert_ptr_equal(e.iov[0].iov_base, f->mem + DATA_OFF);
    assert_ptr_equal(e.iov[1].iov_base, f->mem + DATA_OFF + 100);
    assert_ptr_equal(e.iov[2].iov_base, f->mem + DATA_OFF + 4096);
    assert_true(virtq_empty(&f->vq));
}

static void test_indices_wrap_at_65536(void **state)
{
    struct fx *f = *state;
    struct vq_elem e;

    /* the guest's and our counters both sit just below the wrap */
    put_le16(f->mem + AVAIL_OFF + 2, 65534);
    put_le16(f->mem + USED_OFF + 2, 65534);
    f->vq.last_avail = 65534;
    f->vq.used_idx = 65534;
    for (uint16_t i = 0; i < 4; i++) {
        desc(f, i, GPA_BASE + DATA_OFF + 64 * i, 64, 0, 0);
        offer(f, i);
    }
    assert_int_equal(avail_idx(f), 2);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(virtq_pop(&f->vq, &f->table, &e), 0);
        assert_int_equal(e.head, i);
        virtq_fill(&f->vq, i, e.head, 10 + i);
    }
    assert_int_equal(virtq_pop(&f->vq, &f->table, &e), -EAGAIN);
    assert_int_equal(f->vq.last_avail, 2);
    virtq_flush(&f->vq, 4);
    assert_int_equal(used_idx(f), 2);
    /* slots are index % size: 65534 % 8 = 6, then 7, 0, 1 */
    assert_int_equal(get_le32(f->mem + USED_OFF + 4 + 8 * 6), 0);
    assert_int_equal(get_le32(f->mem + USED_OFF + 4 + 8 * 7 + 4), 11);
    assert_int_equal(get_le32(f->mem + USED_OFF + 4 + 8 * 1), 3);
}

static void test_unpop_gives_chains_back(void **state)
{
    struct fx *f = *state;
    struct vq_elem e;

    desc(f, 0, GPA_BASE + DATA_OFF, 64, F_WRITE, 0);
    desc(f, 1, GPA_BASE + DATA_OFF + 64, 64, F_WRITE, 0);
    offer(f, 0);
    offer(f, 1);
    assert_int_equal(virtq_pop(&f->vq, &f->table, &e), 0);
    assert_int_equal(virtq_pop(&f->vq, &f->table, &e), 0);
    virtq_unpop(&f->vq, 2);
    assert_int_equal(virtq_pop(&f->vq, &f->table, &e), 0);
    assert_int_equal(e.head, 0);
}

static void test_event_idx_calls_only_when_used_event_is_crossed(void **state)
{
    struct fx *f = *state;
    uint8_t *used_event = f->mem + AVAIL_OFF + 4 + 2 * RING_NUM;

    f->vq.event_idx = true;
    /* the first publication always calls: nothing is known of the guest's wishes yet */
    virtq_flush(&f->vq, 1);
    assert_true(virtq_should_call(&f->vq));
    /* the guest wants to hear when entry 4 (used index 5) is published */
    put_le16(used_event, 4);
    virtq_flush(&f->vq, 2); /* used 3 */
    assert_false(virtq_should_call(&f->vq));
    virtq_flush(&f->vq, 1); /* used 4 */
    assert_false(virtq_should_call(&f->vq));
    virtq_flush(&f->vq, 3); /* used 7: crossed 5 */
    assert_true(virtq_should_call(&f->vq));
    virtq_flush(&f->vq, 1);
    assert_false(virtq_should_call(&f->vq));
}

static void test_event_idx_asks_for_kick_at_next_entry(void **state)
{
    struct fx *f = *state;
    struct vq_elem e;
    uint8_t *avail_event = f->mem + USED_OFF + 4 + 8 * RING_NUM;

    f->vq.event_idx = true;
    desc(f, 0, GPA_BASE + DATA_OFF, 64, 0, 0);
    offer(f, 0);
    assert_int_equal(virtq_pop(&f->vq, &f->table, &e), 0);
    virtq_want_kick(&f->vq, true);
    assert_int_equal(get_le16(avail_event), 1);
    assert_int_equal(get_le16(f->mem + USED_OFF), 0); /* flags untouched with event index */
}

static void test_no_interrupt_flag_without_event_idx(void **state)
{
    struct fx *f = *state;

    virtq_flush(&f->vq, 1);
    put_le16(f->mem + AVAIL_OFF, 1); /* VRING_AVAIL_F_NO_INTERRUPT */
    assert_false(virtq_should_call(&f->vq));
    put_le16(f->mem + AVAIL_OFF, 0);
    virtq_flush(&f->vq, 1);
    assert_true(virtq_should_call(&f->vq));
    virtq_want_kick(&f->vq, false);
    assert_int_equal(get_le16(f->mem + USED_OFF), 1); /* VRING_USED_F_NO_NOTIFY */
    virtq_want_kick(&f->vq, true);
    assert_int_equal(get_le16(f->mem + USED_OFF), 0);
}

/* A call still pending when the front-end unmaps the ring (SET_VRING_NUM, before the loop
 * flushes it) asks nothing of the guest's memory: found by consomme_state_fuzz, where reading
 * the unmapped avail ring's flags was a NULL dereference. */
static void test_no_call_on_an_unmapped_ring(void **state)
{
    struct fx *f = *state;

    virtq_flush(&f->vq, 1);
    f->vq.desc = f->vq.avail = f->vq.used = NULL;
    assert_false(virtq_should_call(&f->vq));
    f->vq.event_idx = true;
    assert_false(virtq_should_call(&f->vq));
}

static void test_indirect_table_is_walked(void **state)
{
    struct fx *f = *state;
    uint8_t *table = f->mem + DATA_OFF + 0x8000;
    struct vq_elem e;

    set_desc(table, 0, GPA_BASE + DATA_OFF, 12, F_NEXT, 2);
    set_desc(table, 2, GPA_BASE + DATA_OFF + 12, 500, F_NEXT, 1);
    set_desc(table, 1, GPA_BASE + DATA_OFF + 1024, 300, 0, 0);
    desc(f, 4, GPA_BASE + DATA_OFF + 0x8000, 3 * 16, F_INDIRECT, 0);
    offer(f, 4);
    assert_int_equal(virtq_pop(&f->vq, &f->table, &e), 0);
    assert_int_equal(e.head, 4);
    assert_int_equal(e.n_out, 3);
    assert_int_equal(e.out_len, 812);
    assert_ptr_equal(e.iov[2].iov_base, f->mem + DATA_OFF + 1024);
}

/* The chain at head 0 must break the ring with @want, and the ring must stay broken. */
static void expect_broken(struct fx *f, enum vq_error want)
{
    struct vq_elem e;

    assert_int_equal(virtq_pop(&f->vq, &f->table, &e), -EIO);
    assert_int_equal(f->vq.error, want);
    assert_int_equal(f->vq.last_avail, 0);
    assert_int_equal(virtq_pop(&f->vq, &f->table, &e), -EIO);
    assert_true(virtq_empty(&f->vq));
    assert_non_null(vq_error_name(want));
}

/* A chain of one or two descriptors at head 0 that a guest may offer and the ring must refuse,
 * with the reason it gives. */
static const struct bad_chain {
    const char *what;
    unsigned n;
    struct {
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;
    } d[2];
    enum vq_error error;
} bad_chains[] = {
    {"address below memory", 1, {{GPA_BASE - 16, 64, 0, 0}}, VQ_ERR_ADDR},
    {"length beyond memory", 1, {{GPA_BASE + MEM_SIZE - 10, 11, 0, 0}}, VQ_ERR_ADDR},
    {"address that overflows", 1, {{UINT64_MAX - 5, 0xffffffffu, 0, 0}}, VQ_ERR_ADDR},
    {"loop",
     2,
     {{GPA_BASE + DATA_OFF, 1, F_NEXT, 1}, {GPA_BASE + DATA_OFF, 1, F_NEXT, 0}},
     VQ_ERR_CHAIN},
    {"next beyond the ring", 1, {{GPA_BASE + DATA_OFF, 1, F_NEXT, RING_NUM}}, VQ_ERR_CHAIN},
    {"readable after writable",
     2,
     {{GPA_BASE + DATA_OFF, 10, F_WRITE | F_NEXT, 1}, {GPA_BASE + DATA_OFF, 10, 0, 0}},
     VQ_ERR_ORDER},
    {"indirect table of a size not a multiple of 16",
     1,
     {{GPA_BASE + DATA_OFF, 24, F_INDIRECT, 0}},
     VQ_ERR_INDIRECT},
    {"indirect table outside memory",
     1,
     {{GPA_BASE + MEM_SIZE - 16, 32, F_INDIRECT, 0}},
     VQ_ERR_INDIRECT},
    {"indirect with next", 1, {{GPA_BASE + DATA_OFF, 16, F_INDIRECT | F_NEXT, 1}}, VQ_ERR_INDIRECT},
};

/* Each bad chain, on a ring of its own, breaks it with its reason. */
static void test_bad_chains_break_the_ring_with_their_reason(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_chains) / sizeof(bad_chains[0]); i++) {
        const struct bad_chain *b = &bad_chains[i];
        void *fx;

        print_message("%s\n", b->what);
        setup(&fx);
        for (unsigned k = 0; k < b->n; k++)
            desc(fx, k, b->d[k].addr, b->d[k].len, b->d[k].flags, b->d[k].next);
        offer(fx, 0);
        expect_broken(fx, b->error);
        teardown(&fx);
    }
}

static void test_bad_chain_too_long(void **state)
{
    struct fx *f = *state;
    uint8_t *table = f->mem + DATA_OFF + 0x8000;

    /* an indirect table may hold more pieces than we map; a chain of them is refused */
    for (unsigned i = 0; i < VQ_MAX_IOV + 1; i++)
        set_desc(table, i, GPA_BASE + DATA_OFF, 1, i < VQ_MAX_IOV ? F_NEXT : 0, (uint16_t)(i + 1));
    desc(f, 0, GPA_BASE + DATA_OFF + 0x8000, 16 * (VQ_MAX_IOV + 1), F_INDIRECT, 0);
    offer(f, 0);
    expect_broken(f, VQ_ERR_TOO_MANY);
}

static void test_bad_length_sum_over_4g(void **state)
{
    struct fx *f = *state;
    struct vq_elem e;

    /* two regions let two pieces of nearly 4 GiB each be "in memory" without allocating */
    f->table.n = 2;
    f->table.r[1] = (struct vu_region){
        .gpa = 1ull << 40, .size = 1ull << 33, .uva = 1ull << 41, .host = f->mem};
    desc(f, 0, 1ull << 40, 0xffffffffu, F_NEXT, 1);
    desc(f, 1, 1ull << 40, 0xffffffffu, 0, 0);
    offer(f, 0);
    assert_int_equal(virtq_pop(&f->vq, &f->table, &e), -EIO);
    assert_int_equal(f->vq.error, VQ_ERR_LEN);
}

static void test_bad_head_beyond_ring(void **state)
{
    struct fx *f = *state;

    offer(f, RING_NUM + 3);
    expect_broken(f, VQ_ERR_HEAD);
}

static void test_bad_avail_idx_far_ahead(void **state)
{
    struct fx *f = *state;

    put_le16(f->mem + AVAIL_OFF + 2, RING_NUM + 1);
    expect_broken(f, VQ_ERR_AVAIL_IDX);
}

static void test_bad_indirect_nested(void **state)
{
    struct fx *f = *state;
    uint8_t *table = f->mem + DATA_OFF;

    set_desc(table, 0, GPA_BASE + DATA_OFF, 16, F_INDIRECT, 0);
    desc(f, 0, GPA_BASE + DATA_OFF, 16, F_INDIRECT, 0);
    offer(f, 0);
    expect_broken(f, VQ_ERR_INDIRECT);
}

static void test_bad_indirect_not_negotiated(void **state)
{
    struct fx *f = *state;

    f->vq.indirect = false;
    desc(f, 0, GPA_BASE + DATA_OFF, 16, F_INDIRECT, 0);
    offer(f, 0);
    expect_broken(f, VQ_ERR_INDIRECT);
}

static void test_bad_indirect_loop(void **state)
{
    struct fx *f = *state;
    uint8_t *table = f->mem + DATA_OFF + 0x8000;

    set_desc(table, 0, GPA_BASE + DATA_OFF, 1, F_NEXT, 1);
    set_desc(table, 1, GPA_BASE + DATA_OFF, 1, F_NEXT, 0);
    desc(f, 0, GPA_BASE + DATA_OFF + 0x8000, 32, F_INDIRECT, 0);
    offer(f, 0);
    expect_broken(f, VQ_ERR_CHAIN);
}

static void test_ring_outside_memory_is_refused(void **state)
{
    struct fx *f = *state;

    f->vq.used_uva = UVA_BASE + MEM_SIZE - 8;
    assert_int_equal(virtq_map(&f->vq, &f->table), -EIO);
    assert_int_equal(f->vq.error, VQ_ERR_RING_ADDR);
    assert_null(f->vq.desc);
}

static void test_ring_misaligned_is_refused(void **state)
{
    struct fx *f = *state;

    f->vq.desc_uva = UVA_BASE + 8;
    assert_int_equal(virtq_map(&f->vq, &f->table), -EIO);
}

#define BIT(n) (1ull << (n))

static void test_features_everything_offered_is_accepted(void **state)
{
    struct vu_net_caps caps;
    const char *why = NULL;

    assert_int_equal(vu_features_check(vu_offered_features(), &caps, &why), 0);
    assert_int_equal(caps.hdr_len, 12);
    assert_true(caps.mrg_rxbuf && caps.guest_csum && caps.big_rx && caps.event_idx &&
                caps.indirect && caps.guest_tso4);
}

static void test_features_table(void **state)
{
    /* acked features -> header length, merged buffers, DATA_VALID, big rx buffers, TCPv4
     * super-frames toward the guest, verdict */
    static const struct {
        uint64_t acked;
        int rc;
        size_t hdr_len;
        bool mrg, guest_csum, big_rx, guest_tso4;
    } rows[] = {
        {BIT(VIRTIO_F_VERSION_1), 0, 12, false, false, false, false},
        {0, 0, 10, false, false, false, false}, /* legacy, no merged buffers */
        {BIT(VIRTIO_NET_F_MRG_RXBUF), 0, 12, true, false, true, false},
        {BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_GUEST_CSUM), 0, 12, false, true, false, false},
        {BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4), 0,
         12, false, true, true, true},
        /* TSO6 alone: big buffers, but no IPv4 super-frames */
        {BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO6), 0,
         12, false, true, true, false},
        {BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_GUEST_TSO4), -EINVAL, 0, 0, 0, 0, 0},
        {BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_HOST_TSO6), -EINVAL, 0, 0, 0, 0, 0},
        {BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4), 0, 12,
         false, false, false, false},
        {BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_GUEST_UFO), -EINVAL, 0, 0, 0, 0, 0},
        {BIT(VIRTIO_F_VERSION_1) | BIT(34), -EINVAL, 0, 0, 0, 0, 0}, /* packed ring: not offered */
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct vu_net_caps caps = {0};
        const char *why = NULL;
        int rc = vu_features_check(rows[i].acked, &caps, &why);

        assert_int_equal(rc, rows[i].rc);
        if (rc) {
            assert_non_null(why);
            continue;
        }
        assert_int_equal(caps.hdr_len, rows[i].hdr_len);
        assert_int_equal(caps.mrg_rxbuf, rows[i].mrg);
        assert_int_equal(caps.guest_csum, rows[i].guest_csum);
        assert_int_equal(caps.big_rx, rows[i].big_rx);
        assert_int_equal(caps.guest_tso4, rows[i].guest_tso4);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pop_on_an_empty_ring_is_eagain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_maps_readable_then_writable_pieces, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_indices_wrap_at_65536, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unpop_gives_chains_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_idx_calls_only_when_used_event_is_crossed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_event_idx_asks_for_kick_at_next_entry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_interrupt_flag_without_event_idx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_call_on_an_unmapped_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect_table_is_walked, setup, teardown),
        cmocka_unit_test(test_bad_chains_break_the_ring_with_their_reason),
        cmocka_unit_test_setup_teardown(test_bad_chain_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_length_sum_over_4g, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_head_beyond_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_avail_idx_far_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_indirect_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_indirect_not_negotiated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_indirect_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_outside_memory_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_misaligned_is_refused, setup, teardown),
        cmocka_unit_test(test_features_everything_offered_is_accepted),
        cmocka_unit_test(test_features_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
