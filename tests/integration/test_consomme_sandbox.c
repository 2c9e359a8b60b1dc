/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of consomme's sandbox as burette starts it, without a VM: the consomme
 * backend's own prepare() spawns consomme exactly as a run does (log directory, --stats file),
 * and this test stands in for QEMU and the guest.
 *
 * - stream: UDP datagrams cross consomme both ways (so its NAT opened a host socket under the
 *   filter), and meanwhile /proc/PID/status shows NoNewPrivs 1, Seccomp 2 (filter), CapEff 0
 *   and, when the test runs as root, a uid other than 0; its counters still reach the --stats
 *   file in the root-owned log directory.
 * - vhost-user: once the test connects as the front-end, the same holds.
 * - a forbidden syscall (the CONSOMME_TEST_FORBIDDEN_SYSCALL fault injection) kills consomme
 *   with SIGSYS, and the backend's died() says so: seccomp, what to do, and the syscall's name
 *   when the kernel log is readable.
 */
#include <arpa/inet.h>
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
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>
#include <jansson.h>

#include "backend.h"
#include "errbuf.h"
#include "proc.h"
#include "sandbox.h"
#include "../support/loopback.h"
#include "../support/skip.h"
#include "../support/sandbox_check.h"
#include "../support/stream_frames.h"

#define DEADLINE_MS 10000

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t gw_mac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};

struct fixture {
    char log_dir[64];
    struct backend b;
    struct backend_options v;
    bool prepared;
};

static void set_option(struct backend_options *v, const char *name, const char *value)
{
    char err[ERRBUF_LEN];
    int i = backend_option_find(name);

    assert_true(i >= 0);
    assert_int_equal(
        backend_option_at((size_t)i, NULL)->parse(value, &v->value[i], err, sizeof(err)), 0);
}

static void start(struct fixture *f, const char *transport)
{
    const struct backend_ops *ops = backend_find("consomme");
    char err[ERRBUF_LEN];
    struct backend_ctx ctx;

    snprintf(f->log_dir, sizeof(f->log_dir), "/tmp/burette-sandbox-XXXXXX");
    assert_non_null(mkdtemp(f->log_dir));
    backend_options_default(&f->v);
    set_option(&f->v, "transport", transport);
    ctx = (struct backend_ctx){.options = &f->v, .log_dir = f->log_dir};
    backend_init(&f->b, ops);
    if (ops->prepare(&f->b, &ctx, err, sizeof(err)))
        fail_msg("prepare: %s", err);
    f->prepared = true;
}

static void stop(struct fixture *f)
{
    char path[128];

    if (f->prepared)
        f->b.ops->teardown(&f->b);
    f->prepared = false;
    snprintf(path, sizeof(path), "%s/consomme.log", f->log_dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/consomme-stats.json", f->log_dir);
    unlink(path);
    rmdir(f->log_dir);
}

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;

    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* A stream-framed UDP datagram 10.0.2.15:5555 -> 10.0.2.2:@port (UDP checksum 0: none). */
static size_t udp_frame(uint8_t *out, uint16_t port, const char *payload)
{
    size_t plen = strlen(payload), ilen = 20 + 8 + plen, flen = 14 + ilen;
    uint8_t *e = out + 4, *ip = e + 14, *udp = ip + 20;
    uint16_t sum;

    out[0] = 0, out[1] = 0, out[2] = (uint8_t)(flen >> 8), out[3] = (uint8_t)flen;
    memcpy(e, gw_mac, 6);
    memcpy(e + 6, guest_mac, 6);
    e[12] = 0x08, e[13] = 0x00;
    memset(ip, 0, 20);
    ip[0] = 0x45, ip[2] = (uint8_t)(ilen >> 8), ip[3] = (uint8_t)ilen, ip[8] = 64, ip[9] = 17;
    memcpy(ip + 12, (uint8_t[]){10, 0, 2, 15, 10, 0, 2, 2}, 8);
    sum = ip_csum(ip, 20);
    ip[10] = (uint8_t)(sum >> 8), ip[11] = (uint8_t)sum;
    udp[0] = 5555 >> 8, udp[1] = 5555 & 0xff, udp[2] = (uint8_t)(port >> 8), udp[3] = (uint8_t)port;
    udp[4] = (uint8_t)((8 + plen) >> 8), udp[5] = (uint8_t)(8 + plen), udp[6] = 0, udp[7] = 0;
    memcpy(udp + 8, payload, plen);
    return 4 + flen;
}

static void connect_path(struct sockaddr_un *sa, const char *path)
{
    assert_true(strlen(path) < sizeof(sa->sun_path));
    memcpy(sa->sun_path, path, strlen(path) + 1);
}

/* prepare() returns once the path exists, and consomme names it only once it listens. */
static void connect_front_end(int fd, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    connect_path(&sa, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
        fail_msg("connect %s: %s", path, strerror(errno));
}

static void wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    assert_int_equal(poll(&p, 1, DEADLINE_MS), 1);
}

/* A UDP datagram to the guest carrying @arg (a string). */
static bool is_udp_with(const uint8_t *frame, size_t len, const void *arg)
{
    const char *payload = arg;

    return len >= 42 && frame[23] == 17 && memmem(frame + 42, len - 42, payload, strlen(payload));
}

/* The vhost-user back-end locks once the front-end is accepted: assert_filtered_without_caps()
 * waits for it; then, as root, the user switch. */
static void assert_sandboxed(pid_t pid)
{
    char v[128];

    assert_filtered_without_caps(pid);
    status_field(pid, "Uid", v, sizeof(v));
    if (geteuid() == 0)
        assert_true(strtoul(v, NULL, 10) != 0); /* real uid: switched away from root */
}

/* Starts consomme on the stream transport and sends, as the guest, a datagram with @text to a
 * UDP socket of ours on loopback; returns that socket once the datagram is there. */
static int stream_datagram_to_host(struct fixture *f, const char *text)
{
    uint8_t frame[256];
    uint16_t port;
    int us = loopback_socket(SOCK_DGRAM, &port);
    size_t len;

    start(f, "stream");
    len = udp_frame(frame, port, text);
    assert_int_equal(write(f->b.fds[0], frame, len), (ssize_t)len);
    wait_readable(us);
    return us;
}

static void test_stream_udp_exchange_runs_sandboxed(void **state)
{
    struct fixture f = {0};
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    char buf[64];
    int us;
    ssize_t n;

    (void)state;
    us = stream_datagram_to_host(&f, "ping from the guest");
    n = recvfrom(us, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "ping from the guest");
    /* mid-exchange: consomme opened that host socket under its filter */
    assert_sandboxed(f.b.process);
    assert_int_equal(sendto(us, "pong from the host", 18, 0, (struct sockaddr *)&from, fl), 18);
    stream_expect_frame(f.b.fds[0], DEADLINE_MS, is_udp_with, "pong from the host");
    assert_sandboxed(f.b.process);

    stop(&f);
    close(us);
}

static void test_stream_stats_reach_root_owned_log_dir(void **state)
{
    struct fixture f = {0};
    char path[128];
    int us;
    json_error_t je;
    json_t *stats, *udp;

    (void)state;
    us = stream_datagram_to_host(&f, "counted");
    assert_sandboxed(f.b.process);
    f.b.ops->teardown(&f.b); /* EOF: consomme dumps its counters as it exits */
    f.prepared = false;

    snprintf(path, sizeof(path), "%s/consomme-stats.json", f.log_dir);
    stats = json_load_file(path, 0, &je);
    if (!stats)
        fail_msg("%s: %s", path, je.text);
    udp = json_object_get(stats, "udp");
    assert_int_equal(json_integer_value(json_object_get(udp, "datagrams_to_host")), 1);
    json_decref(stats);
    stop(&f);
    close(us);
}

static void test_vhost_user_back_end_sandboxed_once_connected(void **state)
{
    struct fixture f = {0};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    (void)state;
    assert_true(fd >= 0);
    start(&f, "vhost-user");
    connect_front_end(fd, f.b.vhost_user_socket);
    assert_sandboxed(f.b.process);
    close(fd);
    stop(&f);
}

static void forbidden_syscall_case(const char *transport)
{
    struct fixture f = {0};
    char why[ERRBUF_LEN];
    int pidfd, fd = -1;
    struct pollfd p;
    pid_t pid;

    setenv(CM_SANDBOX_FAULT_ENV, "1", 1);
    start(&f, transport);
    unsetenv(CM_SANDBOX_FAULT_ENV);
    if (!strcmp(transport, "vhost-user")) {
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        connect_front_end(fd, f.b.vhost_user_socket);
    }
    pid = f.b.process;
    pidfd = proc_pidfd(f.b.process);
    assert_true(pidfd >= 0);
    p = (struct pollfd){.fd = pidfd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, DEADLINE_MS), 1); /* it dies without anyone killing it */
    close(pidfd);
    assert_true(f.b.ops->died(&f.b, why, sizeof(why)));
    fprintf(stderr, "burette would report: %s\n", why);
    assert_non_null(strstr(why, "killed by its seccomp sandbox (SIGSYS)"));
    assert_non_null(strstr(why, "please report it"));
    assert_non_null(strstr(why, "consomme:sandbox=off"));
    assert_non_null(strstr(why, "consomme.log"));
    /* the kernel's audit record names the call, where the log is readable and the record
     * was not rate-limited away: then the message must name it too */
    if (kmsg_has_seccomp_record(pid))
        assert_non_null(strstr(why, "system call 135 (personality)"));
    if (fd >= 0)
        close(fd);
    stop(&f);
}

static void test_forbidden_syscall_stream_names_seccomp(void **state)
{
    (void)state;
    forbidden_syscall_case("stream");
}

static void test_forbidden_syscall_vhost_user_names_seccomp(void **state)
{
    (void)state;
    forbidden_syscall_case("vhost-user");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_udp_exchange_runs_sandboxed),
        cmocka_unit_test(test_stream_stats_reach_root_owned_log_dir),
        cmocka_unit_test(test_vhost_user_back_end_sandboxed_once_connected),
        cmocka_unit_test(test_forbidden_syscall_stream_names_seccomp),
        cmocka_unit_test(test_forbidden_syscall_vhost_user_names_seccomp),
    };

    return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
