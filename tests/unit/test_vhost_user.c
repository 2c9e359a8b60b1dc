/* SPDX-License-Identifier: MIT */
/*
 * test_vhost_user - consomme's vhost-user protocol driven by a fake front-end (test_vu.h):
 * what a driver reload, a broken ring, an unknown or malformed request and a taken socket path
 * do to the connection and the stack. The frames over the rings: test_vu_net.c.
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
#include <sys/mman.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "test_vu.h"

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
    vring_state(f, 8 /* SET_VRING_NUM */, 1, NUM);
    vring_addr(f, 1);
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
        cmocka_unit_test_setup_teardown(test_driver_reload_restarts_rings_and_unmaps_old_memory,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_descriptor_breaks_the_ring_not_the_stack, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_request_is_refused_and_the_connection_stays,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_message_ends_with_an_error, fx_setup,
                                        fx_teardown),
        cmocka_unit_test(test_existing_path_is_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
