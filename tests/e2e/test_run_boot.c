/* SPDX-License-Identifier: MIT */
/*
 * test_run_boot - run_main() for the boot test, from validated options (what cmd_run hands
 * over): SIGTERM mid-run ends it with 128 + SIGTERM, no report and no QEMU left behind; an
 * unknown test is bad input. (The successful run is checked through the CLI, in
 * run_boot_cli.cmake.)
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e.h"
#include "proc.h"
#include "run.h"

static char dir[] = "/tmp/burette-test-run-XXXXXX";

static struct run_options boot_options(const char *output, const char *log_dir)
{
    struct run_options o;

    run_options_default(&o);
    o.test = "boot";
    o.accel = "tcg";
    o.mem_mb = 512;
    o.iterations = 2;
    o.warmup = 0;
    o.duration_s = 5;
    o.output = output;
    o.log_dir = log_dir;
    return o;
}

static int children(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d))) {
        char path[300], buf[512], *p;
        int ppid = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || !(f = fopen(path, "r")))
            continue;
        if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
            sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == getpid())
            n++;
        fclose(f);
    }
    if (d)
        closedir(d);
    return n;
}

/*
 * A run that gets SIGTERM once a QEMU with @qemu_arg among its arguments runs ends with exit
 * status 143, writes no report @name.json and leaves no child behind.
 */
static void sigterm_run(const char *qemu_arg, const char *name)
{
    char out[256], logs[256];
    struct run_options o;
    int status;

    snprintf(out, sizeof(out), "%s/%s.json", dir, name);
    snprintf(logs, sizeof(logs), "%s/logs-%s", dir, name);
    o = boot_options(out, logs);
    o.quiet = true;
    e2e_sigterm_when_child_runs("qemu-system", qemu_arg);
    status = run_main(&o);
    proc_cancel_reset();
    assert_int_equal(status, 128 + SIGTERM);
    assert_int_equal(children(), 0);
    assert_int_not_equal(access(out, F_OK), 0);
}

/* SIGTERM while the guest boots: exit status 143, no report, QEMU reaped. */
static void test_sigterm_ends_run_with_143_and_no_qemu(void **state)
{
    sigterm_run("-kernel", "cancelled"); /* the guest boots */
}

/* SIGTERM while QEMU is asked for its version, before anything starts: 143, not bad input. */
static void test_sigterm_during_qemu_probe_ends_with_143(void **state)
{
    sigterm_run("--version", "probe-cancelled");
}

static void test_unknown_test_is_bad_input(void **state)
{
    struct run_options o = boot_options(NULL, NULL);

    o.test = "no-such-test";
    o.quiet = true;
    assert_int_equal(run_main(&o), 2);
}

static int setup(void **state)
{
    return mkdtemp(dir) ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_test_is_bad_input),
        cmocka_unit_test(test_sigterm_during_qemu_probe_ends_with_143),
        cmocka_unit_test(test_sigterm_ends_run_with_143_and_no_qemu),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
