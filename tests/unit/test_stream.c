/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of transport.c: the QEMU stream framing (4-byte big-endian length, then the frame)
 * parsed from arbitrary chunks, oversized lengths skipped even across reads, and the whole
 * event loop over a socketpair standing in for QEMU (stream) and for a TAP fd (one frame per
 * message, SOCK_SEQPACKET), and --socket PATH: accepting QEMU, replacing only stale sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "cm_test_util.h"

/* who-has 10.0.2.2 tell 10.0.2.15 */
static size_t arp_request(uint8_t *f)
{
    const uint8_t hdr[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, GUEST_MAC, 0x08, 0x06, 0x00, 0x01,
                           0x08, 0x00, 6,    4,    0x00, 0x01, GUEST_MAC, 10,   0,    2,    15,
                           0,    0,    0,    0,    0,    0,    10,        0,    2,    2};
    memcpy(f, hdr, sizeof(hdr));
    return sizeof(hdr);
}

static size_t framed(uint8_t *p, const uint8_t *f, size_t len)
{
    put_be32(p, (uint32_t)len);
    memcpy(p + 4, f, len);
    return 4 + len;
}

static void test_stream_parse_keeps_incomplete_tail(void **state)
{
    struct consomme *c = cm_test_stack();
    uint8_t f[64], s[256];
    size_t flen = arp_request(f), n = 0, used, len;

    n += framed(s + n, f, flen);
    n += framed(s + n, f, 5); /* a complete but too short frame */
    n += framed(s + n, f, flen);
    used = cm_stream_parse(c, s, n - 1); /* last frame lacks its final byte */
    assert_int_equal(used, 2 * 4 + flen + 5);
    assert_int_equal(c->st.frames_in, 2);
    assert_int_equal(cm_test_drops(c, CM_DROP_FRAME_SHORT), 1);
    assert_non_null(cm_test_next_out(c, &len));
    assert_null(cm_test_next_out(c, &len));
    /* fewer than 4 bytes: nothing consumed */
    assert_int_equal(cm_stream_parse(c, s, 3), 0);
    cm_destroy(c);
}

static void test_stream_parse_skips_oversized_frame_across_reads(void **state)
{
    struct consomme *c = cm_test_stack();
    static uint8_t big[200000];
    uint8_t f[64];
    size_t flen = arp_request(f), len, n;
    uint32_t huge = CM_FRAME_IN_MAX + 1;

    put_be32(big, huge);
    /* first read: the length and part of the body */
    assert_int_equal(cm_stream_parse(c, big, 1000), 1000);
    assert_int_equal(cm_test_drops(c, CM_DROP_FRAME_TOO_LONG), 1);
    /* second read: the rest of the body, then a good frame */
    n = huge - 996;
    memset(big, 0xee, n);
    n += framed(big + n, f, flen);
    assert_int_equal(cm_stream_parse(c, big, n), n);
    assert_non_null(cm_test_next_out(c, &len));
    assert_int_equal(c->st.arp_replies, 1);
    cm_destroy(c);
}

static void test_stream_loop_answers_over_socketpair_until_eof(void **state)
{
    struct consomme *c = cm_test_stack();
    uint8_t f[64], s[256], r[256];
    size_t flen = arp_request(f), n = 0;
    int sv[2];
    char err[ERRBUF_LEN];
    ssize_t got;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(cm_transport_stream_fd(c, sv[0], err, sizeof(err)), 0);
    n += framed(s + n, f, flen);
    n += framed(s + n, f, flen);
    assert_int_equal(write(sv[1], s, n), (ssize_t)n);
    shutdown(sv[1], SHUT_WR); /* EOF ends the loop; replies still flow back */
    assert_int_equal(cm_run(c, err, sizeof(err)), 0);
    assert_int_equal(c->exit_code, 0);
    got = read(sv[1], r, sizeof(r));
    assert_int_equal(got, 2 * (4 + 14 + ARP_LEN));
    assert_int_equal(get_be32(r), 14 + ARP_LEN);
    assert_int_equal(get_be16(r + 4 + 12), 0x0806);
    assert_int_equal(get_be16(r + 4 + 14 + 6), 2); /* ARP reply */
    close(sv[1]);
    cm_destroy(c);
}

static void test_stream_fd_must_be_a_stream_socket(void **state)
{
    struct consomme *c = cm_test_stack();
    char err[ERRBUF_LEN];
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    assert_int_equal(cm_transport_stream_fd(c, sv[0], err, sizeof(err)), -ENOTSOCK);
    assert_non_null(strstr(err, "stream"));
    assert_true(cm_transport_stream_fd(c, 987, err, sizeof(err)) < 0);
    close(sv[0]);
    close(sv[1]);
    cm_destroy(c);
}

static void test_tap_loop_reads_one_frame_per_message(void **state)
{
    struct consomme *c = cm_test_stack();
    uint8_t f[64], r[256];
    size_t flen = arp_request(f);
    int sv[2];
    char err[ERRBUF_LEN];

    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    assert_int_equal(cm_transport_tap_fd(c, sv[0], err, sizeof(err)), 0);
    assert_int_equal(write(sv[1], f, flen), (ssize_t)flen);
    assert_int_equal(write(sv[1], f, flen), (ssize_t)flen);
    shutdown(sv[1], SHUT_WR);
    assert_int_equal(cm_run(c, err, sizeof(err)), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(read(sv[1], r, sizeof(r)), 14 + ARP_LEN); /* no length prefix */
        assert_int_equal(get_be16(r + 12), 0x0806);
    }
    close(sv[1]);
    cm_destroy(c);
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        close(fd);
        return -1;
    }
    return fd;
}

static void test_listen_accepts_qemu_connection_and_removes_path(void **state)
{
    struct consomme *c = cm_test_stack();
    char dir[] = "/tmp/cm_listen_XXXXXX", path[64], err[ERRBUF_LEN];
    uint8_t f[64], s[128], r[256];
    size_t flen = arp_request(f), n;
    int fd;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sock", dir);
    assert_int_equal(cm_transport_listen(c, path, err, sizeof(err)), 0);
    fd = connect_unix(path); /* queued in the backlog until the loop accepts it */
    assert_true(fd >= 0);
    n = framed(s, f, flen);
    assert_int_equal(write(fd, s, n), (ssize_t)n);
    shutdown(fd, SHUT_WR);
    assert_int_equal(cm_run(c, err, sizeof(err)), 0);
    assert_int_equal(read(fd, r, sizeof(r)), 4 + 14 + ARP_LEN);
    assert_int_equal(access(path, F_OK), -1); /* one guest: the path is gone once connected */
    close(fd);
    cm_destroy(c);
    rmdir(dir);
}

static void test_listen_replaces_stale_socket_but_not_live_one_or_file(void **state)
{
    struct consomme *a = cm_test_stack(), *b = cm_test_stack(), *c = cm_test_stack();
    char dir[] = "/tmp/cm_listen_XXXXXX", path[64], file[64], err[ERRBUF_LEN];
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int stale, rc;
    FILE *f;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sock", dir);
    snprintf(file, sizeof(file), "%s/file", dir);
    /* a socket file whose owner is gone */
    stale = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_int_equal(bind(stale, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(stale);
    assert_int_equal(cm_transport_listen(a, path, err, sizeof(err)), 0);
    /* now it is live: a second consomme must not take it over */
    rc = cm_transport_listen(b, path, err, sizeof(err));
    assert_int_equal(rc, -EADDRINUSE);
    assert_non_null(strstr(err, "already exists"));
    f = fopen(file, "w");
    fclose(f);
    assert_int_equal(cm_transport_listen(c, file, err, sizeof(err)), -EADDRINUSE);
    assert_int_equal(access(file, F_OK), 0); /* never removed */
    cm_destroy(a);
    assert_int_equal(access(path, F_OK), -1); /* a consomme that never got a guest cleans up */
    cm_destroy(b);
    cm_destroy(c);
    unlink(file);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_parse_keeps_incomplete_tail),
        cmocka_unit_test(test_stream_parse_skips_oversized_frame_across_reads),
        cmocka_unit_test(test_stream_loop_answers_over_socketpair_until_eof),
        cmocka_unit_test(test_stream_fd_must_be_a_stream_socket),
        cmocka_unit_test(test_tap_loop_reads_one_frame_per_message),
        cmocka_unit_test(test_listen_accepts_qemu_connection_and_removes_path),
        cmocka_unit_test(test_listen_replaces_stale_socket_but_not_live_one_or_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
