/* SPDX-License-Identifier: MIT */
/*
 * test_cpu_cost - the network test's CPU accounting (cpu_cost.h) on two recorded readings of
 * /proc (tests/data/cpu_cost, README there): which thread counts as what, a thread that exits
 * or starts between the readings, names with spaces and parentheses, unreadable stat lines,
 * parts that are absent, and the machine's busy time. Expected figures are worked out by hand
 * from the files at 100 ticks a second (1 tick = 10 ms), beside each assertion.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu_cost.h"
#include "test_args.h"

static const char *data_dir;

static struct cpu_source source(const char *which, char *root, size_t len)
{
    snprintf(root, len, "%s/%s", data_dir, which);
    return (struct cpu_source){
        .proc_root = root, .hz = 100, .qemu = 4242, .backend = 5151, .helper = 6000};
}

/* The two recorded readings ("before" and "after") most tests compare, and their difference. */
struct interval {
    char rb[4096], ra[4096];
    struct cpu_source b, a;
    struct cpu_reading before, after;
    struct cpu_cost c;
};

static int interval_setup(void **state)
{
    struct interval *iv = calloc(1, sizeof(*iv));

    if (!iv)
        return -1;
    iv->b = source("before", iv->rb, sizeof(iv->rb));
    iv->a = source("after", iv->ra, sizeof(iv->ra));
    *state = iv;
    return 0;
}

static int interval_teardown(void **state)
{
    free(*state);
    return 0;
}

static void test_cpu_read_splits_qemu_by_thread_kind(void **state)
{
    char root[4096];
    struct cpu_source src = source("before", root, sizeof(root));
    struct cpu_reading r;

    (void)state;
    assert_int_equal(cpu_read(&src, 1000, &r), 0);
    /* main loop: task 4242, 300 + 100 ticks */
    assert_float_equal(r.part_ms[CPU_QEMU_MAIN], 4000, 1e-9);
    /* vCPUs: "CPU 0/TCG" 350 + 50 and "CPU 1/TCG" 250 + 30 ticks */
    assert_float_equal(r.part_ms[CPU_VCPU], 6800, 1e-9);
    /* other: the process's 1200 ticks less the two above (call_rcu's 20 and 100 of threads
     * gone before the reading) */
    assert_float_equal(r.part_ms[CPU_QEMU_OTHER], 1200, 1e-9);
    /* the backend's name holds ") (": its times are after the last ')' */
    assert_true(r.have[CPU_BACKEND]);
    assert_float_equal(r.part_ms[CPU_BACKEND], 8000, 1e-9);
    assert_float_equal(r.part_ms[CPU_HELPER], 100, 1e-9);
    assert_false(r.have[CPU_IPERF3]);
    /* user + nice + system + irq + softirq + steal; guest (inside user) and idle left out */
    assert_float_equal(r.machine_busy_ms, 703100, 1e-9);
    assert_float_equal(r.wall_ms, 1000, 1e-9);
    /* QEMU 1200, the backend 800, the helper 10, other work 100 + 20 ticks; "task" entries
     * are no processes */
    assert_float_equal(r.all_processes_ms, 21300, 1e-9);
    assert_true(r.tree_ms < 0); /* no harness pid given: no tree */
}

static void test_cpu_cost_diff_adds_up_over_the_interval(void **state)
{
    struct interval *iv = *state;

    assert_int_equal(cpu_read(&iv->b, 1000, &iv->before), 0);
    assert_int_equal(cpu_read(&iv->a, 11000, &iv->after), 0);
    cpu_cost_diff(&iv->before, &iv->after, 1800, &iv->c);
    assert_float_equal(iv->c.wall_ms, 10000, 1e-9);
    /* vCPUs: (900 + 100 + 420 + 60) - 680 = 800 ticks */
    assert_float_equal(iv->c.part_ms[CPU_VCPU], 8000, 1e-9);
    /* main loop: 550 - 400 = 150 ticks */
    assert_float_equal(iv->c.part_ms[CPU_QEMU_MAIN], 1500, 1e-9);
    /* other: the worker's 30 ticks; call_rcu exited and its time stays in the process total,
     * and the unreadable task 4247 is skipped, so nothing is lost or counted twice */
    assert_float_equal(iv->c.part_ms[CPU_QEMU_OTHER], 300, 1e-9);
    assert_float_equal(iv->c.part_ms[CPU_BACKEND], 2500, 1e-9);
    assert_float_equal(iv->c.part_ms[CPU_HELPER], 20, 1e-9);
    assert_true(iv->c.have[CPU_IPERF3]);
    assert_float_equal(iv->c.part_ms[CPU_IPERF3], 1800, 1e-9);
    assert_float_equal(iv->c.attributed_ms, 8000 + 1500 + 300 + 2500 + 20 + 1800, 1e-9);
    /* 1000 user + 400 system + 100 softirq ticks; the 800 of guest are inside user */
    assert_float_equal(iv->c.machine_busy_ms, 15000, 1e-9);
    /* every process: QEMU 2180 - 1200, the backend 1050 - 800, the helper 12 - 10 and the
     * 5 + 2 ticks of a child it reaped meanwhile (1239 ticks), other work 60 + 30 ticks */
    assert_float_equal(iv->c.all_processes_ms, 13290, 1e-9);
}

static void test_cpu_cost_tree_holds_the_root_and_its_descendants_only(void **state)
{
    struct interval *iv = *state;

    /* 6000 as the root: QEMU and the backend are its children, 7000 and its child are not */
    iv->b.harness = iv->a.harness = 6000;
    assert_int_equal(cpu_read(&iv->b, 0, &iv->before), 0);
    assert_int_equal(cpu_read(&iv->a, 1000, &iv->after), 0);
    assert_float_equal(iv->before.tree_ms, 20100, 1e-9);
    cpu_cost_diff(&iv->before, &iv->after, -1, &iv->c);
    /* the 1239 ticks of the root's tree, the other work's 90 left out */
    assert_float_equal(iv->c.tree_ms, 12390, 1e-9);
    assert_float_equal(iv->c.all_processes_ms - iv->c.tree_ms, 900, 1e-9);
}

static void test_cpu_cost_never_goes_below_zero(void **state)
{
    struct cpu_reading before = {.wall_ms = 0}, after = {.wall_ms = 1000};
    struct cpu_cost c;

    (void)state;
    /* QEMU's "other" is a total less per-thread ticks: rounding may take it back a tick */
    before.have[CPU_QEMU_OTHER] = after.have[CPU_QEMU_OTHER] = true;
    before.part_ms[CPU_QEMU_OTHER] = 30;
    after.part_ms[CPU_QEMU_OTHER] = 20;
    before.have[CPU_VCPU] = after.have[CPU_VCPU] = true;
    after.part_ms[CPU_VCPU] = 500;
    cpu_cost_diff(&before, &after, -1, &c);
    assert_float_equal(c.part_ms[CPU_QEMU_OTHER], 0, 1e-9);
    assert_float_equal(c.attributed_ms, 500, 1e-9);
}

static void test_cpu_cost_leaves_absent_parts_out(void **state)
{
    struct interval *iv = *state;
    json_t *j;

    /* no backend process (tap, slirp), a helper that cannot be read, a server not reported */
    iv->b.backend = iv->a.backend = 0;
    iv->b.helper = iv->a.helper = 7777;
    assert_int_equal(cpu_read(&iv->b, 0, &iv->before), 0);
    assert_int_equal(cpu_read(&iv->a, 2000, &iv->after), 0);
    assert_false(iv->before.have[CPU_BACKEND]);
    assert_false(iv->before.have[CPU_HELPER]);
    cpu_cost_diff(&iv->before, &iv->after, -1, &iv->c);
    assert_false(iv->c.have[CPU_BACKEND]);
    assert_false(iv->c.have[CPU_HELPER]);
    assert_false(iv->c.have[CPU_IPERF3]);
    assert_float_equal(iv->c.attributed_ms, 8000 + 1500 + 300, 1e-9);

    j = cpu_cost_json(&iv->c, 2.5);
    assert_non_null(j);
    assert_null(json_object_get(j, "backend_ms"));
    assert_null(json_object_get(j, "iperf3_ms"));
    assert_float_equal(json_real_value(json_object_get(j, "vcpu_ms")), 8000, 1e-9);
    assert_float_equal(json_real_value(json_object_get(j, "gbit")), 2.5, 1e-9);
    assert_float_equal(json_real_value(json_object_get(j, "machine_busy_ms")), 15000, 1e-9);
    json_decref(j);
}

static void test_cpu_read_fails_without_qemu(void **state)
{
    char root[4096];
    struct cpu_source src = source("before", root, sizeof(root));
    struct cpu_reading r;

    (void)state;
    src.qemu = 9999;
    assert_int_equal(cpu_read(&src, 0, &r), -ENOENT);
    src = source("no-such-snapshot", root, sizeof(root));
    assert_true(cpu_read(&src, 0, &r) < 0);
}

static double thread_cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Spin until the calling thread has used @ms more of CPU (its own clock, not wall time): the
 * main thread has already used some before the test, more under a sanitizer. */
static void burn_cpu_ms(double ms)
{
    double start = thread_cpu_ms();

    while (thread_cpu_ms() - start < ms)
        ;
}

/* Burns 200 ms of CPU, then stays alive (for /proc to list it) until its pipe is written. */
static void *fake_vcpu(void *arg)
{
    char c;

    pthread_setname_np(pthread_self(), "CPU 0/TCG");
    burn_cpu_ms(200);
    return read(*(int *)arg, &c, 1) == 1 ? NULL : arg;
}

/* This process plays QEMU on the live /proc: a thread named as QEMU names a vCPU, and its
 * main thread; each burns 200 ms, and each part sees its own. */
static void test_cpu_read_reads_the_live_system(void **state)
{
    const struct cpu_source src = {
        .proc_root = "/proc", .hz = sysconf(_SC_CLK_TCK), .qemu = getpid(), .harness = getpid()};
    struct cpu_reading before, after;
    pthread_t t;
    int release[2];

    (void)state;
    assert_int_equal(pipe(release), 0);
    assert_int_equal(cpu_read(&src, 0, &before), 0);
    assert_true(before.have[CPU_QEMU_MAIN]);
    assert_true(before.have[CPU_HARNESS]);
    assert_false(before.have[CPU_BACKEND]);
    assert_true(before.machine_busy_ms > 0);
    assert_int_equal(pthread_create(&t, NULL, fake_vcpu, &release[0]), 0);
    burn_cpu_ms(200);
    /* read while the thread still exists (/proc lists live threads only), once it has burnt
     * its 200 ms; bounded, should its time never show up as a vCPU's */
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(cpu_read(&src, 0, &after), 0);
        if (after.part_ms[CPU_VCPU] - before.part_ms[CPU_VCPU] >= 150)
            break;
        sched_yield();
    }
    assert_int_equal(write(release[1], "x", 1), 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    close(release[0]);
    close(release[1]);
    /* the kernel counts in clock ticks (10 ms at 100 Hz): 200 ms each, read to within a tick */
    assert_true(after.part_ms[CPU_VCPU] - before.part_ms[CPU_VCPU] >= 150);
    assert_true(after.part_ms[CPU_QEMU_MAIN] - before.part_ms[CPU_QEMU_MAIN] >= 150);
    assert_string_equal(cpu_part_key(CPU_IPERF3), "iperf3");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_read_splits_qemu_by_thread_kind),
        cmocka_unit_test_setup_teardown(test_cpu_cost_diff_adds_up_over_the_interval,
                                        interval_setup, interval_teardown),
        cmocka_unit_test_setup_teardown(test_cpu_cost_tree_holds_the_root_and_its_descendants_only,
                                        interval_setup, interval_teardown),
        cmocka_unit_test(test_cpu_cost_never_goes_below_zero),
        cmocka_unit_test_setup_teardown(test_cpu_cost_leaves_absent_parts_out, interval_setup,
                                        interval_teardown),
        cmocka_unit_test(test_cpu_read_fails_without_qemu),
        cmocka_unit_test(test_cpu_read_reads_the_live_system),
    };

    data_dir = test_operand(argc, argv, "DATA_DIR");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
