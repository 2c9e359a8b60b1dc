/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of helper/rpc: the framing between the harness and the namespace helper. Each
 * test drives one end of a real SOCK_SEQPACKET socketpair; hostile peers are written by hand
 * with raw records, the way a broken or dying helper would produce them.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fd.h"
#include "errbuf.h"
#include "rpc.h"

static int sp[2];

static int setup(void **state)
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp);
}

static int teardown(void **state)
{
    if (sp[0] >= 0)
        close(sp[0]);
    if (sp[1] >= 0)
        close(sp[1]);
    return 0;
}

/* Send one raw record, bypassing rpc_send(), as a broken peer would. */
static void raw_record(int fd, uint32_t magic, uint32_t flags, uint32_t len, const void *payload,
                       size_t paylen)
{
    struct rpc_record_hdr h = {.magic = magic, .flags = flags, .len = len};
    char *buf = malloc(sizeof(h) + paylen);

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), payload, paylen);
    assert_int_equal(send(fd, buf, sizeof(h) + paylen, MSG_NOSIGNAL),
                     (ssize_t)(sizeof(h) + paylen));
    free(buf);
}

static void test_rpc_round_trip_keeps_the_object(void **state)
{
    char err[ERRBUF_LEN];
    struct rpc_msg m;
    json_t *o = json_pack("{s:s, s:i, s:b, s:[i,i]}", "op", "iperf_server", "port", 5201, "udp", 1,
                          "list", 1, 2);

    assert_int_equal(rpc_send(sp[0], o, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(rpc_recv(sp[1], 1000, &m, err, sizeof(err)), 0);
    assert_true(json_equal(o, m.body));
    assert_int_equal(m.nfds, 0);
    rpc_msg_release(&m);
    json_decref(o);
}

static void test_rpc_message_larger_than_a_socket_buffer_arrives_whole(void **state)
{
    size_t len = 3u << 20; /* 3 MiB: far past one record and past the socket buffer */
    char *big = malloc(len + 1), err[ERRBUF_LEN];
    struct rpc_msg m;
    json_t *o;
    pid_t pid;
    int status;

    for (size_t i = 0; i < len; i++)
        big[i] = (char)('a' + i % 26);
    big[len] = '\0';
    o = json_pack("{s:s}", "json", big);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(rpc_send(sp[0], o, NULL, 0, NULL, 0) ? 1 : 0);
    assert_int_equal(rpc_recv(sp[1], 10000, &m, err, sizeof(err)), 0);
    assert_true(json_equal(o, m.body));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    rpc_msg_release(&m);
    json_decref(o);
    free(big);
}

static void test_rpc_passes_a_working_file_descriptor(void **state)
{
    char err[ERRBUF_LEN], buf[8] = {0};
    json_t *o = json_pack("{s:b}", "ok", 1);
    struct rpc_msg m;
    int p[2], fd;

    assert_int_equal(pipe(p), 0);
    assert_int_equal(rpc_send(sp[0], o, &p[1], 1, err, sizeof(err)), 0);
    close(p[1]);
    assert_int_equal(rpc_recv(sp[1], 1000, &m, err, sizeof(err)), 0);
    assert_int_equal(m.nfds, 1);
    fd = rpc_msg_take_fd(&m);
    assert_true(fd >= 0);
    assert_int_equal(rpc_msg_take_fd(&m), -1);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(write(fd, "tap", 3), 3);
    close(fd);
    assert_int_equal(read(p[0], buf, sizeof(buf)), 3);
    assert_string_equal(buf, "tap");
    /* every copy of the write end is closed now: EOF proves no descriptor leaked */
    assert_int_equal(read(p[0], buf, sizeof(buf)), 0);
    close(p[0]);
    rpc_msg_release(&m);
    json_decref(o);
}

static void test_rpc_peer_closing_mid_message_is_epipe_and_closes_its_fds(void **state)
{
    char err[ERRBUF_LEN] = "", buf[4];
    struct rpc_msg m;
    int p[2];

    assert_int_equal(pipe(p), 0);
    {
        /* first record of a two-record message, carrying an fd; then the peer dies */
        struct rpc_record_hdr h = {.magic = RPC_MAGIC, .flags = RPC_F_MORE, .len = 5};
        char data[sizeof(h) + 5];
        union {
            char b[FD_RIGHTS_SPACE(1)];
            struct cmsghdr a;
        } cb;
        struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

        memcpy(data, &h, sizeof(h));
        memcpy(data + sizeof(h), "{\"a\":", 5);
        fd_attach_rights(&mh, cb.b, &p[1], 1);
        assert_int_equal(sendmsg(sp[0], &mh, 0), (ssize_t)sizeof(data));
    }
    close(p[1]);
    close(sp[0]);
    sp[0] = -1;
    assert_int_equal(rpc_recv(sp[1], 1000, &m, err, sizeof(err)), -EPIPE);
    assert_non_null(strstr(err, "middle of a message"));
    assert_null(m.body);
    assert_int_equal(m.nfds, 0);
    assert_int_equal(read(p[0], buf, sizeof(buf)), 0); /* the fd that came was closed */
    close(p[0]);
}

static void test_rpc_peer_gone_before_a_message_is_epipe(void **state)
{
    char err[ERRBUF_LEN] = "";
    struct rpc_msg m;
    json_t *o = json_object();

    close(sp[0]);
    sp[0] = -1;
    assert_int_equal(rpc_recv(sp[1], 1000, &m, err, sizeof(err)), -EPIPE);
    assert_null(strstr(err, "middle"));
    /* and sending to a dead peer neither raises SIGPIPE nor blocks */
    assert_int_equal(rpc_send(sp[1], o, NULL, 0, err, sizeof(err)), -EPIPE);
    json_decref(o);
}

static void test_rpc_oversized_record_is_refused(void **state)
{
    size_t n = RPC_RECORD_PAYLOAD + 100;
    char *payload = calloc(1, n), err[ERRBUF_LEN] = "";
    struct rpc_msg m;
    int sz = 1 << 20;

    setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    raw_record(sp[0], RPC_MAGIC, 0, (uint32_t)n, payload, n);
    assert_int_equal(rpc_recv(sp[1], 1000, &m, err, sizeof(err)), -EMSGSIZE);
    assert_non_null(strstr(err, "larger than"));
    free(payload);
}

static void test_rpc_message_over_the_limit_is_refused(void **state)
{
    char *chunk = malloc(RPC_RECORD_PAYLOAD), err[ERRBUF_LEN] = "";
    struct rpc_msg m;
    pid_t pid;

    memset(chunk, ' ', RPC_RECORD_PAYLOAD);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* endless continuation records: the receiver must stop at RPC_MSG_MAX */
        struct rpc_record_hdr h = {
            .magic = RPC_MAGIC, .flags = RPC_F_MORE, .len = RPC_RECORD_PAYLOAD};
        char *buf = malloc(sizeof(h) + RPC_RECORD_PAYLOAD);

        close(sp[1]); /* only the parent's copy may keep the reading end open */
        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), chunk, RPC_RECORD_PAYLOAD);
        while (send(sp[0], buf, sizeof(h) + RPC_RECORD_PAYLOAD, MSG_NOSIGNAL) > 0)
            ;
        _exit(0);
    }
    close(sp[0]);
    sp[0] = -1;
    assert_int_equal(rpc_recv(sp[1], 20000, &m, err, sizeof(err)), -EMSGSIZE);
    assert_non_null(strstr(err, "limit"));
    close(sp[1]); /* the writer sees EPIPE and ends */
    sp[1] = -1;
    waitpid(pid, NULL, 0);
    free(chunk);
}

static void test_rpc_malformed_records_and_bodies_are_eproto(void **state)
{
    char err[ERRBUF_LEN] = "";
    struct rpc_msg m;

    raw_record(sp[0], 0xdeadbeef, 0, 2, "{}", 2);
    assert_int_equal(rpc_recv(sp[1], 1000, &m, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "malformed record"));

    raw_record(sp[0], RPC_MAGIC, 0, 10, "{}", 2); /* header claims more than is there */
    assert_int_equal(rpc_recv(sp[1], 1000, &m, err, sizeof(err)), -EPROTO);

    raw_record(sp[0], RPC_MAGIC, 0x80, 2, "{}", 2); /* unknown flag */
    assert_int_equal(rpc_recv(sp[1], 1000, &m, err, sizeof(err)), -EPROTO);

    assert_int_equal(send(sp[0], "hi", 2, 0), 2); /* shorter than a header */
    assert_int_equal(rpc_recv(sp[1], 1000, &m, err, sizeof(err)), -EPROTO);

    raw_record(sp[0], RPC_MAGIC, 0, 9, "{\"a\":1,,", 9);
    assert_int_equal(rpc_recv(sp[1], 1000, &m, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "malformed message"));

    raw_record(sp[0], RPC_MAGIC, 0, 5, "[1,2]", 5);
    assert_int_equal(rpc_recv(sp[1], 1000, &m, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "not a JSON object"));

    /* after all that the stream is still usable: framing errors lose one record, not sync */
    raw_record(sp[0], RPC_MAGIC, 0, 8, "{\"ok\":1}", 8);
    assert_int_equal(rpc_recv(sp[1], 1000, &m, err, sizeof(err)), 0);
    assert_int_equal(json_integer_value(json_object_get(m.body, "ok")), 1);
    rpc_msg_release(&m);
}

static void test_rpc_recv_times_out_on_a_silent_peer(void **state)
{
    char err[ERRBUF_LEN] = "";
    struct rpc_msg m;

    assert_int_equal(rpc_recv(sp[1], 20, &m, err, sizeof(err)), -ETIMEDOUT);
}

static void test_rpc_send_refuses_bad_arguments(void **state)
{
    int fds[RPC_MAX_FDS + 1] = {0};
    json_t *arr = json_array(), *o = json_object();

    assert_int_equal(rpc_send(sp[0], arr, NULL, 0, NULL, 0), -EINVAL);
    assert_int_equal(rpc_send(sp[0], o, fds, RPC_MAX_FDS + 1, NULL, 0), -EINVAL);
    assert_int_equal(rpc_send(sp[0], NULL, NULL, 0, NULL, 0), -EINVAL);
    json_decref(arr);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rpc_round_trip_keeps_the_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rpc_message_larger_than_a_socket_buffer_arrives_whole,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_rpc_passes_a_working_file_descriptor, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_rpc_peer_closing_mid_message_is_epipe_and_closes_its_fds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rpc_peer_gone_before_a_message_is_epipe, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rpc_oversized_record_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rpc_message_over_the_limit_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rpc_malformed_records_and_bodies_are_eproto, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rpc_recv_times_out_on_a_silent_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rpc_send_refuses_bad_arguments, setup, teardown),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
