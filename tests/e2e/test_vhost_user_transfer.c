/* SPDX-License-Identifier: MIT */
/*
 * test_vhost_user_transfer - bulk data over consomme's vhost-user transport, checked end to
 * end (label vm, two guests under TCG)
 *
 * The harness's own pieces set up the run (the consomme backend with transport vhost-user, the
 * VM layer with guest RAM shared): the guest runs busybox `nc 10.0.2.2 PORT -e cat`, so its
 * TCP connection through consomme to a server of this test on host 127.0.0.1 echoes what it
 * receives. The server, a child process, sends 256 MiB of pseudo-random bytes (xorshift64*,
 * fixed seed) and reads the echo back at the same time: 256 MiB each way. SHA-256 of what was
 * sent and of what came back must be equal, so a byte lost, reordered or corrupted in either
 * direction (a bad checksum offload, a misplaced merged rx buffer) fails the test.
 *
 * - offloads on: one transfer, the guest's virtio_net driver unloaded and loaded again (rmmod,
 *   insmod: the image has no modules.dep for modprobe; the device is reset and initialised
 *   again, and consomme must serve the new rings), DHCP again, a second transfer; then QEMU is
 * killed mid-transfer, and consomme must notice and exit 0 on its own within seconds (not spin, not
 * linger), its socket directory removed by teardown.
 *   consomme runs sandboxed throughout (its /proc status is checked after the reload), and QEMU,
 *   when the test runs as root, as an unprivileged user (its uid is read during the transfer).
 * - offloads off: the same transfer with virtio-net-pci's csum, guest_csum, guest_tso4/6 and
 *   host_tso4/6 off, so neither side may rely on checksum offload or segmentation; consomme's
 *   counters must show no TCP super-frame went to the guest.
 * - MTU 1500 (consomme's mtu option, so DHCP gives the guest 1500 and its MSS is 1460), offloads
 *   on: the guest took GUEST_TSO4, so consomme hands it super-frames of up to 44 segments
 *   that it cuts itself (virtio-net GSO); the same transfer must come back intact, and the
 *   counters must show super-frames standing for several segments each.
 *
 * Usage: test_vhost_user_transfer [TRANSPORT]   (default vhost-user; stream checks the test)
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "backend.h"
#include "e2e.h"
#include "errbuf.h"
#include "image.h"
#include "proc.h"
#include "run.h"
#include "vm.h"

#define TRANSFER_BYTES   (256ULL << 20)
#define KILL_AFTER_BYTES (32ULL << 20) /* QEMU is killed once this much came back */
#define SERVER_TIMEOUT_S 400           /* a loaded 2-core machine under TCG: ~1 Gbps or less */
#define CONSOMME_EXIT_MS 10000         /* after QEMU's death, consomme must be gone by then */
#define NO_OFFLOADS                                                                                \
    "csum=off,guest_csum=off,guest_tso4=off,guest_tso6=off,host_tso4=off,host_tso6=off"

static const char *transport = "vhost-user";
static struct guest_image image;
static char tmpdir[] = "/tmp/burette-vu-transfer-XXXXXX";

struct rig {
    struct run_options opts;
    struct backend backend;
    bool backend_ready;
    struct vm *vm;
    char device[256];
    char log_dir[512];
    char console[64];           /* the guest's console log, in log_dir */
    struct agent_nic_state nic; /* what the guest's NIC got by DHCP */
};

/* What the server child reports through its pipe. */
struct transfer_result {
    int rc; /* 0, or negative errno of what failed */
    unsigned long long sent, received;
    unsigned char sent_sha[32], received_sha[32];
    long qemu_uid; /* QEMU's effective uid once the transfer was under way, -1: unknown */
};

/* The rig of the running test, stopped by the test's teardown even when an assertion fails. */
static struct rig *live;
/* Set until a test reaches its end: its teardown then shows consomme's log and counters, the
 * only witnesses of an intermittent failure once the temporary directory is gone. */
static bool test_unfinished;

/* One consomme option of the run, as --variant would set it. */
static void rig_option(struct rig *r, const char *name, const char *value)
{
    int i = backend_option_find(name);
    char err[ERRBUF_LEN];

    assert_true(i >= 0);
    if (backend_option_at((size_t)i, NULL)
            ->parse(value, &r->opts.backend_options.value[i], err, sizeof(err)))
        fail_msg("%s %s: %s", name, value, err);
}

/* A guest on consomme; @properties: virtio-net-pci's, @mtu: consomme's mtu option (or NULL). */
static struct rig *rig_start(const char *name, const char *properties, const char *mtu)
{
    struct rig *r = calloc(1, sizeof(*r));
    struct vm_nic nic;
    struct agent_nic_config cfg;
    char err[ERRBUF_LEN];

    assert_non_null(r);
    live = r;
    test_unfinished = true;
    run_options_default(&r->opts);
    r->opts.backend = "consomme";
    rig_option(r, "transport", transport);
    if (mtu)
        rig_option(r, "mtu", mtu);
    snprintf(r->log_dir, sizeof(r->log_dir), "%s/%s", tmpdir, name);
    snprintf(r->console, sizeof(r->console), "%s-console.log", name);
    assert_int_equal(mkdir(r->log_dir, 0755), 0);
    backend_init(&r->backend, &backend_consomme_ops);
    {
        const struct backend_ctx bctx = {.options = &r->opts.backend_options,
                                         .log_dir = r->log_dir};
        if (backend_consomme_ops.prepare(&r->backend, &bctx, err, sizeof(err)))
            fail_msg("consomme: %s", err);
    }
    r->backend_ready = true;
    snprintf(r->device, sizeof(r->device), "virtio-net-pci,netdev=%s,mac=%s%s%s", BACKEND_NETDEV_ID,
             VM_MAC_TEST, properties ? "," : "", properties ? properties : "");
    nic = (struct vm_nic){
        .netdev = r->backend.vhost_user_socket[0] ? NULL : r->backend.netdev,
        .vhost_user_socket = r->backend.vhost_user_socket[0] ? r->backend.vhost_user_socket : NULL,
        .netdev_id = BACKEND_NETDEV_ID,
        .device = r->device,
        .fds = r->backend.fds,
        .n_fds = r->backend.n_fds,
    };
    {
        const struct vm_config vc = {
            .image = &image,
            .accel = ACCEL_TCG,
            .vcpus = 2,
            .mem_mb = 1024,
            .nics = &nic,
            .n_nics = 1,
            .log_dir = r->log_dir,
            .name = name,
        };
        if (vm_start(&vc, &r->vm, err, sizeof(err)))
            fail_msg("vm_start: %s", err);
    }
    /* QEMU has its own copy now; ours (stream) would hide QEMU's death from consomme */
    backend_close_fds(&r->backend);
    cfg = r->backend.guest;
    snprintf(cfg.mac, sizeof(cfg.mac), "%s", VM_MAC_TEST);
    if (vm_configure_nic(r->vm, &cfg, &r->nic, err, sizeof(err)))
        fail_msg("DHCP through consomme: %s", err);
    return r;
}

/* A counter of consomme's --stats file in @log_dir, written as it exited. */
static long long consomme_stat(const char *log_dir, const char *key)
{
    char path[768];
    json_error_t jerr;
    json_t *j, *v;
    long long n;

    snprintf(path, sizeof(path), "%s/consomme-stats.json", log_dir);
    j = json_load_file(path, 0, &jerr);
    if (!j)
        fail_msg("%s: %s", path, jerr.text);
    v = json_object_get(j, key);
    if (!json_is_integer(v))
        fail_msg("%s has no counter '%s'", path, key);
    n = json_integer_value(v);
    json_decref(j);
    return n;
}

static void rig_stop(struct rig *r)
{
    char err[ERRBUF_LEN];

    if (!r)
        return;
    if (r->vm) {
        vm_poweroff(r->vm, err, sizeof(err));
        vm_destroy(r->vm);
    }
    if (r->backend_ready)
        r->backend.ops->teardown(&r->backend);
    free(r);
    live = NULL;
}

/* A test's end of its rig: stopped (consomme writes its counters as it exits), and consomme's
 * socket directory gone with it. @log_dir (NULL: not wanted) gets the rig's log directory
 * first, for consomme_stat(). */
static void rig_finish(struct rig *r, char *log_dir, size_t len)
{
    if (log_dir)
        snprintf(log_dir, len, "%s", r->log_dir);
    rig_stop(r);
    test_unfinished = false;
    assert_int_equal(e2e_count_prefixed(tmpdir, "burette-consomme-"), 0);
}

static void show_file(const char *dir, const char *name)
{
    char path[768], tail[8192];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    proc_file_tail(path, tail, sizeof(tail));
    fprintf(stderr, "--- %s:\n%s\n", path, tail);
}

static int rig_teardown(void **state)
{
    char log_dir[512], console[64];

    if (!live)
        return 0;
    snprintf(log_dir, sizeof(log_dir), "%s", live->log_dir);
    snprintf(console, sizeof(console), "%s", live->console);
    rig_stop(live); /* consomme writes its counters as it exits */
    if (test_unfinished) {
        show_file(log_dir, "consomme.log");
        show_file(log_dir, "consomme-stats.json");
        show_file(log_dir, console);
    }
    return 0;
}

static uint64_t xorshift64s(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/*
 * The server's side, in the child: send TRANSFER_BYTES while reading the echo, both hashed;
 * with @kill_pid, SIGKILL it once KILL_AFTER_BYTES came back and stop there.
 */
/* QEMU's effective uid from its /proc status, -1 if it cannot be read. */
static long qemu_euid(pid_t pid)
{
    char path[64], line[256];
    unsigned long r, e;
    long uid = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "Uid:\t%lu\t%lu", &r, &e) == 2)
            uid = (long)e;
    fclose(f);
    return uid;
}

static int pump(int lfd, pid_t kill_pid, pid_t qemu, struct transfer_result *res)
{
    EVP_MD_CTX *hs = EVP_MD_CTX_new(), *hr = EVP_MD_CTX_new();
    long long deadline = proc_now_ms() + SERVER_TIMEOUT_S * 1000LL;
    unsigned char out[65536], in[65536];
    size_t out_len = 0, out_off = 0;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    bool wr_shut = false;
    int fd = -1, rc = 0;

    if (!hs || !hr || !EVP_DigestInit_ex(hs, EVP_sha256(), NULL) ||
        !EVP_DigestInit_ex(hr, EVP_sha256(), NULL)) {
        rc = -ENOMEM;
        goto out;
    }
    {
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        if (proc_poll(&p, 1, deadline) <= 0) {
            rc = -ETIMEDOUT;
            goto out;
        }
    }
    fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    res->qemu_uid = qemu_euid(qemu); /* the guest is connected: QEMU moves the data now */
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN | (wr_shut ? 0 : POLLOUT)};
        int n = proc_poll(&p, 1, deadline);
        ssize_t k;

        if (n < 0) {
            rc = n;
            break;
        }
        if (!wr_shut && (p.revents & POLLOUT)) {
            if (out_off == out_len && res->sent < TRANSFER_BYTES) {
                uint64_t left = TRANSFER_BYTES - res->sent;

                out_len = left < sizeof(out) ? (size_t)left : sizeof(out);
                for (size_t i = 0; i < out_len; i += 8) {
                    uint64_t v = xorshift64s(&seed);
                    memcpy(out + i, &v, 8);
                }
                out_off = 0;
                EVP_DigestUpdate(hs, out, out_len);
            }
            k = send(fd, out + out_off, out_len - out_off, MSG_NOSIGNAL);
            if (k < 0 && errno != EAGAIN && errno != EINTR) {
                rc = -errno;
                break;
            }
            if (k > 0) {
                out_off += (size_t)k;
                res->sent += (unsigned long long)k;
            }
            if (res->sent == TRANSFER_BYTES && out_off == out_len) {
                shutdown(fd, SHUT_WR); /* EOF for the guest's cat, which then ends */
                wr_shut = true;
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            k = recv(fd, in, sizeof(in), 0);
            if (k < 0 && errno != EAGAIN && errno != EINTR) {
                rc = -errno;
                break;
            }
            if (k == 0)
                break;
            if (k > 0) {
                EVP_DigestUpdate(hr, in, (size_t)k);
                res->received += (unsigned long long)k;
                if (kill_pid > 0 && res->received >= KILL_AFTER_BYTES) {
                    kill(kill_pid, SIGKILL);
                    break;
                }
            }
        }
    }
    EVP_DigestFinal_ex(hs, res->sent_sha, NULL);
    EVP_DigestFinal_ex(hr, res->received_sha, NULL);
out:
    if (fd >= 0)
        close(fd);
    EVP_MD_CTX_free(hs);
    EVP_MD_CTX_free(hr);
    return rc;
}

/* One echo transfer through the guest; with @kill_qemu, QEMU dies in the middle of it. */
static struct transfer_result transfer(struct rig *r, bool kill_qemu, int *vm_rc)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t slen = sizeof(sa);
    struct transfer_result res = {0};
    struct agent_run_result run;
    char port[16], err[ERRBUF_LEN];
    int lfd, pfd[2], status;
    pid_t child;

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &slen), 0);
    assert_int_equal(listen(lfd, 1), 0);
    snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(pfd[0]);
        res.qemu_uid = -1;
        res.rc = pump(lfd, kill_qemu ? vm_qemu_pid(r->vm) : 0, vm_qemu_pid(r->vm), &res);
        _exit(write(pfd[1], &res, sizeof(res)) == sizeof(res) ? 0 : 1);
    }
    close(pfd[1]);
    close(lfd);
    {
        const char *argv[] = {"nc", "10.0.2.2", port, "-e", "cat", NULL};
        *vm_rc = vm_run(r->vm, argv, SERVER_TIMEOUT_S, &run, err, sizeof(err));
    }
    if (*vm_rc == 0) {
        if (run.exit_status != 0)
            fail_msg("guest: nc exited %d: %s", run.exit_status, run.err ? run.err : "");
        vm_run_result_free(&run);
    } else if (!kill_qemu) {
        fail_msg("guest: %s", err);
    }
    assert_int_equal(read(pfd[0], &res, sizeof(res)), (ssize_t)sizeof(res));
    close(pfd[0]);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return res;
}

static void assert_intact(const struct transfer_result *res, const char *what)
{
    if (res->rc)
        fail_msg("%s: the host side failed: %s", what, strerror(-res->rc));
    assert_int_equal(res->sent, TRANSFER_BYTES);
    assert_int_equal(res->received, TRANSFER_BYTES);
    if (memcmp(res->sent_sha, res->received_sha, 32))
        fail_msg("%s: SHA-256 of the 256 MiB echoed differs from what was sent", what);
}

/* /proc/PID/status of a sandboxed consomme: filter, no_new_privs, no capabilities, and not
 * root when the test is. */
static void assert_sandboxed(pid_t pid)
{
    char path[64], line[256];
    unsigned seen = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        unsigned long uid;

        if (!strcmp(line, "Seccomp:\t2\n") || !strcmp(line, "NoNewPrivs:\t1\n") ||
            !strcmp(line, "CapEff:\t0000000000000000\n"))
            seen++;
        if (sscanf(line, "Uid:\t%lu", &uid) == 1 && geteuid() == 0)
            assert_true(uid != 0);
    }
    fclose(f);
    if (seen != 3)
        fail_msg("consomme (pid %d) is not sandboxed: see %s", (int)pid, path);
}

static void test_vhost_user_transfer_survives_driver_reload_and_qemu_death(void **state)
{
    struct rig *r = rig_start("offloads", NULL, NULL);
    struct transfer_result res;
    struct agent_run_result run;
    struct agent_nic_config cfg;
    char err[ERRBUF_LEN];
    siginfo_t si = {0};
    int vm_rc, pidfd;
    pid_t consomme = r->backend.process;

    res = transfer(r, false, &vm_rc);
    assert_intact(&res, "before the driver reload");
    /* QEMU moved it as an unprivileged user when this test (burette's stand-in) is root */
    assert_true(res.qemu_uid >= 0);
    if (geteuid() == 0)
        assert_true(res.qemu_uid != 0);

    {
        const char *argv[] = {"sh", "-c", "rmmod virtio_net && insmod /lib/modules/virtio_net.ko",
                              NULL};
        assert_int_equal(vm_run(r->vm, argv, 60, &run, err, sizeof(err)), 0);
        if (run.exit_status != 0)
            fail_msg("reloading virtio_net: %s", run.err ? run.err : "");
        vm_run_result_free(&run);
    }
    cfg = r->backend.guest;
    snprintf(cfg.mac, sizeof(cfg.mac), "%s", VM_MAC_TEST);
    if (vm_configure_nic(r->vm, &cfg, NULL, err, sizeof(err)))
        fail_msg("DHCP after the driver reload: %s", err);
    res = transfer(r, false, &vm_rc);
    assert_intact(&res, "after the driver reload");
    /* all of it, new memory table included, served under the sandbox */
    assert_sandboxed(consomme);

    /* QEMU killed mid-transfer: consomme sees the front-end gone and exits 0 by itself. */
    pidfd = proc_pidfd(consomme);
    assert_true(pidfd >= 0);
    res = transfer(r, true, &vm_rc);
    assert_true(res.received >= KILL_AFTER_BYTES);
    assert_int_not_equal(vm_rc, 0);
    {
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        if (poll(&p, 1, CONSOMME_EXIT_MS) != 1)
            fail_msg("consomme still runs %d s after QEMU was killed", CONSOMME_EXIT_MS / 1000);
    }
    close(pidfd);
    /* WNOWAIT: the backend's teardown still reaps it */
    assert_int_equal(waitid(P_PID, (id_t)consomme, &si, WEXITED | WNOWAIT), 0);
    assert_int_equal(si.si_code, CLD_EXITED);
    /* the vhost-user contract: a front-end that goes away ends consomme's job, status 0; over
     * stream the reset of the socket is reported as a failure, status 1 */
    if (!strcmp(transport, "vhost-user"))
        assert_int_equal(si.si_status, 0);
    rig_finish(r, NULL, 0);
}

static void test_vhost_user_transfer_without_guest_offloads(void **state)
{
    struct rig *r = rig_start("no-offloads", NO_OFFLOADS, NULL);
    struct transfer_result res;
    char log_dir[512];
    int vm_rc;

    res = transfer(r, false, &vm_rc);
    assert_intact(&res, "with the guest's offloads off");
    rig_finish(r, log_dir, sizeof(log_dir));
    /* guest_tso4=off: not one super-frame, whatever the transport */
    assert_int_equal(consomme_stat(log_dir, "tso_frames_out"), 0);
}

static void test_vhost_user_transfer_at_mtu_1500_with_super_frames(void **state)
{
    struct rig *r = rig_start("mtu1500", NULL, "1500");
    struct transfer_result res;
    char log_dir[512];
    long long frames, segs;
    int vm_rc;

    assert_int_equal(r->nic.mtu, 1500); /* DHCP's option 26, applied by the guest */
    res = transfer(r, false, &vm_rc);
    assert_intact(&res, "at MTU 1500");
    rig_finish(r, log_dir, sizeof(log_dir));
    frames = consomme_stat(log_dir, "tso_frames_out");
    segs = consomme_stat(log_dir, "tso_segs_out");
    fprintf(stderr, "mtu1500: %lld super-frames toward the guest for %lld segments\n", frames,
            segs);
    if (!strcmp(transport, "stream")) { /* no virtio-net header there: no super-frames */
        assert_int_equal(frames, 0);
        return;
    }
    /* 256 MiB in 1460-byte segments is ~184000 of them: most must have gone in super-frames
     * of several segments each, or the guest was cutting nothing */
    if (frames == 0 || segs < 2 * frames || segs * 1460 < (long long)(TRANSFER_BYTES / 2))
        fail_msg("%lld super-frames for %lld segments: host->guest GSO was hardly used", frames,
                 segs);
}

static int setup(void **state)
{
    char err[ERRBUF_LEN];

    if (!mkdtemp(tmpdir))
        return -1;
    setenv("TMPDIR", tmpdir, 1); /* consomme's private socket directory goes here */
    if (image_find(&image, NULL, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    return e2e_remove_tree(tmpdir);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_vhost_user_transfer_survives_driver_reload_and_qemu_death,
                                  rig_teardown),
        cmocka_unit_test_teardown(test_vhost_user_transfer_without_guest_offloads, rig_teardown),
        cmocka_unit_test_teardown(test_vhost_user_transfer_at_mtu_1500_with_super_frames,
                                  rig_teardown),
    };

    if (argc > 1)
        transport = argv[1];
    if (strcmp(transport, "vhost-user") && strcmp(transport, "stream")) {
        fprintf(stderr, "usage: %s [vhost-user|stream]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
