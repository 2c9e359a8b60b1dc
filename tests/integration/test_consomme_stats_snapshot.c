/* SPDX-License-Identifier: MIT */
/*
 * consomme's --stats file, rewritten in place under the sandbox, is read as whole snapshots by
 * a reader that takes a shared flock (stats.c explains the protocol).
 *
 * consomme runs as burette runs it (sandboxed, --stats opened before the lock), on --socket
 * with this test as QEMU's stream end. Cases:
 * - a reader hammering the file under LOCK_SH while consomme rewrites it on SIGUSR1, ROUNDS
 *   times, with guest frames changing the counters in between: every read is one whole JSON
 *   document and "snapshot" never goes back;
 * - a reader holding the lock keeps consomme from rewriting: a SIGUSR1 dump, sent while the
 *   lock is held, is not written (checked after an ARP exchange proves consomme's loop has
 *   handled the signal), and it is written once the lock is released.
 * Usage: test_consomme_stats_snapshot CONSOMME
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../support/skip.h"
#include "../support/stream_frames.h"
#include "../support/test_args.h"

#define ROUNDS      300
#define DEADLINE_MS 10000

static const char *consomme;

struct fixture {
    char dir[64], sock[96], stats[96];
    pid_t pid;
    int fd; /* the stream, as QEMU's end */
};

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void start(struct fixture *f)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    snprintf(f->dir, sizeof(f->dir), "/tmp/burette-stats-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->sock, sizeof(f->sock), "%s/net.sock", f->dir);
    snprintf(f->stats, sizeof(f->stats), "%s/stats.json", f->dir);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl(consomme, consomme, "--socket", f->sock, "--stats", f->stats, (char *)NULL);
        _exit(127);
    }
    /* the path appears once consomme listens (integration.consomme.socket_ready) */
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
    f->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->fd >= 0);
    for (long long deadline = now_ms() + DEADLINE_MS;
         connect(f->fd, (struct sockaddr *)&sa, sizeof(sa));) {
        assert_int_equal(errno, ENOENT);
        assert_true(now_ms() < deadline);
        assert_int_equal(waitpid(f->pid, NULL, WNOHANG), 0);
    }
}

static void stop(struct fixture *f)
{
    int status;

    close(f->fd); /* EOF: consomme writes its last snapshot and exits */
    assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    unlink(f->stats);
    unlink(f->sock);
    assert_int_equal(rmdir(f->dir), 0);
}

/* The file read under a shared lock: its "snapshot", 0 while it is still empty. */
static long long read_snapshot(const char *path)
{
    static char buf[1 << 16];
    json_error_t je;
    long long snap;
    ssize_t n;
    json_t *o;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_SH), 0);
    n = read(fd, buf, sizeof(buf));
    close(fd); /* and the lock with it */
    assert_true(n >= 0 && n < (ssize_t)sizeof(buf));
    if (n == 0)
        return 0; /* created, not written yet */
    o = json_loadb(buf, (size_t)n, 0, &je);
    if (!o)
        fail_msg("torn snapshot (%zd bytes): %s", n, je.text);
    assert_true(json_is_integer(json_object_get(o, "snapshot")));
    snap = json_integer_value(json_object_get(o, "snapshot"));
    json_decref(o);
    return snap;
}

/* A stream-framed ARP request for the gateway, from the guest. */
static void send_arp(int fd)
{
    uint8_t f[4 + 42] = {0, 0, 0, 42};
    uint8_t *e = f + 4, *a = e + 14;

    memset(e, 0xff, 6);
    memcpy(e + 6, guest_mac, 6);
    e[12] = 0x08, e[13] = 0x06;
    memcpy(a, (uint8_t[]){0, 1, 8, 0, 6, 4, 0, 1}, 8);
    memcpy(a + 8, guest_mac, 6);
    memcpy(a + 14, (uint8_t[]){10, 0, 2, 15}, 4);
    memset(a + 18, 0, 6);
    memcpy(a + 24, (uint8_t[]){10, 0, 2, 2}, 4);
    assert_int_equal(write(fd, f, sizeof(f)), (ssize_t)sizeof(f));
}

/* An ARP reply (the stack answering the test's ARP request). */
static bool is_arp_reply(const uint8_t *frame, size_t len, const void *arg)
{
    (void)arg;
    return len >= 42 && frame[12] == 0x08 && frame[13] == 0x06 && frame[21] == 2;
}

/* Read frames until an ARP reply arrives: consomme's loop has run since it was asked. */
static void expect_arp_reply(int fd)
{
    stream_expect_frame(fd, DEADLINE_MS, is_arp_reply, NULL);
}

static void test_reader_under_shared_lock_sees_whole_snapshots(void **state)
{
    struct fixture f = {0};
    long long prev = 0, distinct = 0;

    (void)state;
    start(&f);
    for (int i = 0; i < ROUNDS; i++) {
        long long deadline = now_ms() + DEADLINE_MS, snap;

        if (i % 3 == 0) {
            send_arp(f.fd); /* counters move: snapshots differ in content and length */
            expect_arp_reply(f.fd);
        }
        assert_int_equal(kill(f.pid, SIGUSR1), 0);
        /* hammer the file while consomme rewrites it, until the new snapshot is there */
        do {
            snap = read_snapshot(f.stats);
            assert_true(snap >= prev);
            assert_true(now_ms() < deadline);
        } while (snap == prev);
        distinct++;
        prev = snap;
    }
    assert_int_equal(distinct, ROUNDS);
    stop(&f);
}

static void test_writer_waits_for_a_reader_holding_the_lock(void **state)
{
    struct fixture f = {0};
    long long before, deadline;
    int held;

    (void)state;
    start(&f);
    assert_int_equal(kill(f.pid, SIGUSR1), 0);
    for (deadline = now_ms() + DEADLINE_MS; !(before = read_snapshot(f.stats));)
        assert_true(now_ms() < deadline);

    held = open(f.stats, O_RDONLY | O_CLOEXEC);
    assert_true(held >= 0);
    assert_int_equal(flock(held, LOCK_SH), 0);
    assert_int_equal(kill(f.pid, SIGUSR1), 0);
    /* the signal is pending before the frame is sent: by the reply, the loop has handled it */
    send_arp(f.fd);
    expect_arp_reply(f.fd);
    send_arp(f.fd); /* and a few retries later, still nothing is written */
    expect_arp_reply(f.fd);
    assert_int_equal(read_snapshot(f.stats), before); /* shared locks do not exclude each other */
    assert_int_equal(flock(held, LOCK_UN), 0);
    close(held);
    /* released: the pending dump goes through */
    for (deadline = now_ms() + DEADLINE_MS; read_snapshot(f.stats) == before;)
        assert_true(now_ms() < deadline);
    assert_int_equal(read_snapshot(f.stats), before + 1);
    stop(&f);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_under_shared_lock_sees_whole_snapshots),
        cmocka_unit_test(test_writer_waits_for_a_reader_holding_the_lock),
    };

    consomme = test_operand(argc, argv, "CONSOMME");
    signal(SIGPIPE, SIG_IGN);
    return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
