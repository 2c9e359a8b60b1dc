/* SPDX-License-Identifier: MIT */
/*
 * test_vm - end-to-end tests of the VM path under TCG: boot the real guest image, talk to its
 * agent, and check that failures end cleanly with no QEMU left behind.
 *
 * As root, QEMU runs as an unprivileged user: a guest started by a stand-in harness shows nobody
 * in /proc/PID/status (and NoNewPrivs 1, Seccomp 2 where -sandbox applies), and dies of its
 * death signal, armed again after the switch, when that harness is SIGKILLed. A user that does
 * not exist, root named as QEMU's user, or a kernel QEMU's user cannot read are refused before
 * QEMU starts, with the name and the fix.
 *
 * Each test that boots costs a few seconds under TCG, so the full round trip (hello, NIC
 * configuration, commands, power-off) shares one boot. The image directory comes from
 * BURETTE_IMAGE_DIR (set by ctest).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "accel.h"
#include "errbuf.h"
#include "e2e.h"
#include "proc.h"
#include "qemu.h"
#include "vm.h"
#include "../support/sandbox_check.h"
#include "../support/skip.h"

static struct guest_image image;
/* The guest of the running test, destroyed by the teardown even when an assertion fails. */
static struct vm *vm;
static char log_dir[] = "/tmp/burette-test-vm-XXXXXX";

static const struct vm_nic user_nic = {
    .netdev = "user,id=n0,restrict=on",
    .device = "virtio-net-pci,netdev=n0,mac=" VM_MAC_TEST,
};

static struct vm_config base_config(const char *name)
{
    return (struct vm_config){
        .image = &image,
        .accel = ACCEL_TCG,
        .vcpus = 2,
        .mem_mb = 512,
        .nics = &user_nic,
        .n_nics = 1,
        .log_dir = log_dir,
        .name = name,
    };
}

/* Children of this process, zombies included, by scanning /proc: the test must leave none. */
static int count_children(char *names, size_t len)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;

    names[0] = '\0';
    assert_non_null(d);
    while ((e = readdir(d))) {
        char path[300], buf[512], *p;
        int ppid = 0;
        FILE *f;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
            sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == getpid()) {
            n++;
            strncat(names, buf, len - strlen(names) - 1);
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

static void assert_no_children(void)
{
    char names[2048];
    int n = count_children(names, sizeof(names));

    if (n)
        fail_msg("%d child process(es) left behind: %s", n, names);
}

static int group_setup(void **state)
{
    char err[ERRBUF_LEN];

    if (!mkdtemp(log_dir))
        return -1;
    if (image_find(&image, NULL, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return proc_signals_init();
}

/* One boot: hello lists the test NIC; configure it (static, then DHCP); run commands; off. */
static void test_boot_hello_configure_run_poweroff(void **state)
{
    struct vm_config cfg = base_config("roundtrip");
    struct agent_nic_config nic = {.mac = VM_MAC_TEST,
                                   .mode = AGENT_NIC_STATIC,
                                   .address = "10.0.2.15",
                                   .prefix = 24,
                                   .gateway = "10.0.2.2",
                                   .mtu = 1400};
    struct agent_nic_state st;
    struct agent_run_result res;
    const struct agent_hello *hello;
    char err[ERRBUF_LEN];
    bool found = false;
    int rc;

    rc = vm_start(&cfg, &vm, err, sizeof(err));
    if (rc)
        fail_msg("vm_start: %s", err);
    hello = vm_hello(vm);
    assert_int_equal(hello->version, AGENT_PROTO_VERSION);
    for (size_t i = 0; i < hello->n_nics; i++)
        found |= !strcmp(hello->nics[i].mac, VM_MAC_TEST);
    assert_true(found);
    assert_true(vm_boot_ms(vm) > 0);
    printf("# boot to hello: %.0f ms\n", vm_boot_ms(vm));

    rc = vm_configure_nic(vm, &nic, &st, err, sizeof(err));
    if (rc)
        fail_msg("configure static: %s", err);
    assert_string_equal(st.address, "10.0.2.15");
    assert_int_equal(st.prefix, 24);
    assert_int_equal(st.mtu, 1400);

    /* What the kernel says, not what the agent says it did. */
    const char *const show[] = {"cat", "/sys/class/net/eth0/mtu", "/proc/net/route", NULL};
    rc = vm_run(vm, show, 10, &res, err, sizeof(err));
    if (rc)
        fail_msg("run: %s", err);
    assert_int_equal(res.exit_status, 0);
    assert_non_null(strstr(res.out, "1400\n"));
    /* Default route via 10.0.2.2: gateway 0202000A in /proc/net/route's little-endian hex. */
    assert_non_null(strstr(res.out, "0202000A"));
    vm_run_result_free(&res);

    /* Output far larger than a pipe or a virtqueue buffer arrives whole. */
    const char *const big[] = {"sh", "-c",
                               "i=0; while [ $i -lt 3000 ]; do "
                               "echo 0123456789012345678901234567890123456789; i=$((i+1)); done",
                               NULL};
    rc = vm_run(vm, big, 30, &res, err, sizeof(err));
    if (rc)
        fail_msg("run big: %s", err);
    assert_int_equal(res.exit_status, 0);
    assert_int_equal(res.out_len, 3000 * 41);
    vm_run_result_free(&res);

    const char *const failing[] = {"sh", "-c", "echo oops >&2; exit 3", NULL};
    rc = vm_run(vm, failing, 10, &res, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_int_equal(res.exit_status, 3);
    assert_string_equal(res.err, "oops\n");
    vm_run_result_free(&res);

    const char *const slow[] = {"sleep", "30", NULL};
    rc = vm_run(vm, slow, 1, &res, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_true(res.timed_out);
    assert_int_equal(res.signal, SIGKILL);
    vm_run_result_free(&res);

    const char *const missing[] = {"no-such-program", NULL};
    rc = vm_run(vm, missing, 5, &res, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_int_equal(res.exit_status, 127);
    vm_run_result_free(&res);

    struct agent_nic_config other = {.mac = "52:54:00:99:99:99", .mode = AGENT_NIC_DOWN};
    rc = vm_configure_nic(vm, &other, NULL, err, sizeof(err));
    assert_int_equal(rc, -EREMOTEIO);
    assert_non_null(strstr(err, "52:54:00:99:99:99"));

    /* QEMU's user network answers DHCP inside QEMU itself (restrict=on keeps it there). */
    struct agent_nic_config dhcp = {.mac = VM_MAC_TEST, .mode = AGENT_NIC_DHCP, .timeout_s = 10};
    rc = vm_configure_nic(vm, &dhcp, &st, err, sizeof(err));
    if (rc)
        fail_msg("configure dhcp: %s", err);
    assert_string_equal(st.address, "10.0.2.15");
    assert_int_equal(st.prefix, 24);

    struct agent_nic_config down = {.mac = VM_MAC_TEST, .mode = AGENT_NIC_DOWN};
    rc = vm_configure_nic(vm, &down, &st, err, sizeof(err));
    if (rc)
        fail_msg("configure down: %s", err);
    assert_string_equal(st.address, "");

    rc = vm_poweroff(vm, err, sizeof(err));
    if (rc)
        fail_msg("poweroff: %s", err);
    assert_int_equal(vm_qemu_pid(vm), 0);
    vm_destroy(vm);
    vm = NULL;
    assert_no_children();
}

/* A guest whose agent never starts: a timeout naming the console's last lines, no QEMU left. */
/*
 * A guest that never says hello: vm_start() gives up after the hello timeout, quoting the
 * console's last lines. How far a guest gets in a given time depends on the machine's load
 * (under TCG on a loaded 2-core machine the kernel may not have printed a line in 10 s), so a
 * boot whose console stayed empty is tried once more with three times the time: the quoting is
 * what is tested, not the speed of the boot.
 */
static void test_guest_without_hello_times_out_with_console_tail(void **state)
{
    struct vm_config cfg = base_config("nohello");
    char err[ERRBUF_LEN];
    unsigned timeout_ms = 10000;
    long long t0;
    int rc;

    cfg.extra_cmdline = "burette.agent=off";
    for (;;) {
        cfg.hello_timeout_ms = timeout_ms;
        t0 = proc_now_ms();
        rc = vm_start(&cfg, &vm, err, sizeof(err));
        assert_int_equal(rc, -ETIMEDOUT);
        assert_null(vm);
        assert_true(proc_now_ms() - t0 < timeout_ms + 5000);
        printf("# %s\n", err);
        assert_non_null(strstr(err, timeout_ms == 10000 ? "did not say hello within 10.0 s"
                                                        : "did not say hello within 30.0 s"));
        if (!strstr(err, "nohello-console.log is empty") || timeout_ms > 10000)
            break;
        assert_no_children();
        timeout_ms = 30000;
    }
    assert_non_null(strstr(err, "nohello-console.log:"));
    /* the kernel's lines at least; on an idle machine the last is init's 'not starting' */
    assert_non_null(strstr(err, "\n  | ["));
    assert_no_children();
}

/* QEMU that refuses its command line: the error quotes QEMU's own words, fast. */
static void test_qemu_failure_quotes_qemu_output(void **state)
{
    const struct vm_nic bad = {.netdev = "user,id=n0",
                               .device = "virtio-net-pci,netdev=nosuchnetdev"};
    struct vm_config cfg = base_config("badnic");
    char err[ERRBUF_LEN];
    int rc;

    cfg.nics = &bad;
    rc = vm_start(&cfg, &vm, err, sizeof(err));
    assert_int_equal(rc, -EPIPE);
    printf("# %s\n", err);
    assert_non_null(strstr(err, "before the guest agent said hello"));
    assert_non_null(strstr(err, "nosuchnetdev"));
    assert_no_children();
}

/* SIGTERM during boot: the wait ends at once with -ECANCELED and QEMU is reaped. */
static void test_sigterm_during_boot_cancels_and_reaps(void **state)
{
    struct vm_config cfg = base_config("sigterm");
    char err[ERRBUF_LEN];
    int rc;

    e2e_sigterm_when_child_runs("qemu-system", "-kernel"); /* the guest boots */
    rc = vm_start(&cfg, &vm, err, sizeof(err));
    assert_int_equal(rc, -ECANCELED);
    assert_int_equal(proc_cancelled(), SIGTERM);
    assert_null(vm);
    assert_no_children();
    proc_cancel_reset();
}

/* A guest started by a harness that is then SIGKILLed: QEMU ran as nobody and dies with it. */
static void test_qemu_started_by_root_runs_unprivileged_and_dies_with_its_parent(void **state)
{
    struct passwd *pw = getpwnam("nobody");
    pid_t harness, qemu;
    int p[2], status;
    char v[64];

    if (geteuid() != 0)
        TEST_SKIP("only a burette running as root starts QEMU as another user");
    assert_non_null(pw);
    /* As subreaper we inherit QEMU once its harness is gone, and can wait for it. */
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    assert_int_equal(pipe(p), 0);
    harness = fork();
    assert_true(harness >= 0);
    if (harness == 0) {
        struct vm_config cfg = base_config("runas");
        char err[ERRBUF_LEN];
        struct vm *v2;

        close(p[0]);
        if (vm_start(&cfg, &v2, err, sizeof(err))) {
            fprintf(stderr, "stand-in harness: %s\n", err);
            _exit(1);
        }
        qemu = vm_qemu_pid(v2);
        if (write(p[1], &qemu, sizeof(qemu)) != sizeof(qemu))
            _exit(1);
        pause(); /* until killed, the guest running */
        _exit(0);
    }
    close(p[1]);
    if (read(p[0], &qemu, sizeof(qemu)) != sizeof(qemu))
        fail_msg("the stand-in harness could not boot a guest");
    close(p[0]);
    /* the guest said hello: QEMU is past its set-up, its sandbox loaded */
    assert_runs_as(qemu, pw->pw_uid, pw->pw_gid, -1);
    status_field(qemu, "CapEff", v, sizeof(v));
    assert_string_equal(v, "0000000000000000");
    status_field(qemu, "CapBnd", v, sizeof(v));
    assert_string_equal(v, "0000000000000000");
    if (qemu_sandbox_arg(QEMU_DEFAULT_PROGRAM)) {
        status_field(qemu, "NoNewPrivs", v, sizeof(v));
        assert_string_equal(v, "1");
        status_field(qemu, "Seccomp", v, sizeof(v));
        assert_string_equal(v, "2");
    }

    kill(harness, SIGKILL);
    assert_int_equal(waitpid(harness, &status, 0), harness);
    /* QEMU does not end when its agent socket closes: only the death signal ends it here */
    assert_int_equal(waitpid(qemu, &status, 0), qemu);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    assert_no_children();
}

/* What a user may get wrong about QEMU's user is refused before QEMU starts, naming the fix. */
static void test_qemu_user_errors_name_the_user_and_the_fix(void **state)
{
    char err[ERRBUF_LEN], dir[] = "/tmp/burette-test-vm-kernel-XXXXXX", kernel[128];
    struct guest_image img = image;
    struct vm_config cfg = base_config("unreadable");
    FILE *f;
    int rc;

    rc = vm_check_user("no-such-user-burette", err, sizeof(err));
    assert_int_equal(rc, geteuid() == 0 ? -ENOENT : -EPERM);
    printf("# %s\n", err);
    assert_non_null(strstr(err, "no-such-user-burette"));
    rc = vm_check_user("root", err, sizeof(err));
    printf("# %s\n", err);
    if (geteuid() != 0) {
        /* not root: only burette's own user may be named */
        assert_int_equal(rc, -EPERM);
        assert_non_null(strstr(err, "only root can start QEMU as another user"));
        return;
    }
    assert_int_equal(rc, -EPERM);
    assert_non_null(strstr(err, "that is root"));

    /* a kernel only root may read: QEMU as nobody could not */
    assert_non_null(mkdtemp(dir));
    snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
    f = fopen(kernel, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(chmod(kernel, 0600), 0);
    snprintf(img.kernel, sizeof(img.kernel), "%s", kernel);
    cfg.image = &img;
    rc = vm_start(&cfg, &vm, err, sizeof(err));
    printf("# %s\n", err);
    unlink(kernel);
    rmdir(dir);
    assert_int_equal(rc, -EACCES);
    assert_non_null(strstr(err, "user nobody"));
    assert_non_null(strstr(err, kernel));
    assert_non_null(strstr(err, "chmod o+r"));
    assert_non_null(strstr(err, "--qemu-user"));
    assert_no_children();
}

static int destroy_vm(void **state)
{
    vm_destroy(vm);
    vm = NULL;
    proc_cancel_reset();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_qemu_failure_quotes_qemu_output, destroy_vm),
        cmocka_unit_test_teardown(test_qemu_user_errors_name_the_user_and_the_fix, destroy_vm),
        cmocka_unit_test_teardown(
            test_qemu_started_by_root_runs_unprivileged_and_dies_with_its_parent, destroy_vm),
        cmocka_unit_test_teardown(test_sigterm_during_boot_cancels_and_reaps, destroy_vm),
        cmocka_unit_test_teardown(test_boot_hello_configure_run_poweroff, destroy_vm),
        cmocka_unit_test_teardown(test_guest_without_hello_times_out_with_console_tail, destroy_vm),
    };

    return test_exit_status(cmocka_run_group_tests(tests, group_setup, NULL));
}
