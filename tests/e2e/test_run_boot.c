/* SPDX-License-Identifier: MIT */
/*
 * test_run_boot - `burette run --test boot` end to end, from validated options (what cmd_run
 * hands over) to the report on disk: the generic loop keeps exactly the asked-for samples,
 * and SIGTERM mid-run ends it with 128 + SIGTERM and no QEMU left behind.
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
#include <jansson.h>

#include "errbuf.h"
#include "proc.h"
#include "report.h"
#include "run.h"

static char dir[] = "/tmp/burette-test-run-XXXXXX";

static struct run_options boot_options(const char *output, const char *log_dir)
{
    return (struct run_options){
        .test = "boot",
        .backend = "consomme",
        .nic = "virtio-net",
        .accel = "tcg",
        .vcpus = 2,
        .mem_mb = 512,
        .iterations = 2,
        .warmup = 0,
        .duration_s = 5,
        .streams = 1,
        .output = output,
        .format = "text",
        .log_dir = log_dir,
        .quiet = false,
        .tcp_rx = {16384, 4194304},
        .tcp_tx = {16384, 4194304},
    };
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

static void test_boot_run_writes_two_samples_of_boot_time(void **state)
{
    char out[512], logs[256], err[ERRBUF_LEN];
    struct report *r = NULL;
    const struct metric *m;
    struct run_options o;
    json_t *j, *cfg;

    snprintf(out, sizeof(out), "%s/boot.json", dir);
    snprintf(logs, sizeof(logs), "%s/logs/nested", dir);
    o = boot_options(out, logs);
    assert_int_equal(run_main(&o), 0);
    assert_int_equal(children(), 0);

    if (report_read(out, &r, err, sizeof(err)))
        fail_msg("%s", err);
    m = report_find_metric(r, "boot_time_ms");
    assert_non_null(m);
    assert_string_equal(m->unit, "ms");
    assert_int_equal(m->nsamples, 2);
    for (size_t i = 0; i < m->nsamples; i++) {
        assert_true(m->samples[i] > 0);
        printf("# boot_time_ms sample %zu: %.0f\n", i + 1, m->samples[i]);
    }
    assert_false(metric_higher_is_better(m));
    report_free(r);

    /* The config object says what ran. */
    j = json_load_file(out, 0, NULL);
    assert_non_null(j);
    cfg = json_object_get(j, "config");
    assert_string_equal(json_string_value(json_object_get(cfg, "test")), "boot");
    assert_string_equal(json_string_value(json_object_get(cfg, "accel")), "tcg");
    assert_int_equal(json_integer_value(json_object_get(cfg, "vcpus")), 2);
    json_decref(j);

    /* The console logs of both boots are in the log directory asked for (created). */
    snprintf(out, sizeof(out), "%s/boot-1-console.log", logs);
    assert_int_equal(access(out, R_OK), 0);
    snprintf(out, sizeof(out), "%s/boot-2-console.log", logs);
    assert_int_equal(access(out, R_OK), 0);
}

/* SIGTERM while the guest boots: exit status 143, no report, QEMU reaped. */
static void test_sigterm_ends_run_with_143_and_no_qemu(void **state)
{
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGTERM};
    struct itimerspec its = {.it_value = {.tv_nsec = 700 * 1000 * 1000}};
    char out[256], logs[256];
    struct run_options o;
    timer_t timer;
    int status;

    snprintf(out, sizeof(out), "%s/cancelled.json", dir);
    snprintf(logs, sizeof(logs), "%s/logs2", dir);
    o = boot_options(out, logs);
    o.quiet = true;
    assert_int_equal(timer_create(CLOCK_MONOTONIC, &sev, &timer), 0);
    assert_int_equal(timer_settime(timer, 0, &its, NULL), 0);
    status = run_main(&o);
    timer_delete(timer);
    proc_cancel_reset();
    assert_int_equal(status, 128 + SIGTERM);
    assert_int_equal(children(), 0);
    assert_int_not_equal(access(out, F_OK), 0);
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
        cmocka_unit_test(test_sigterm_ends_run_with_143_and_no_qemu),
        cmocka_unit_test(test_boot_run_writes_two_samples_of_boot_time),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
