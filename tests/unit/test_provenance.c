/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of provenance: the passt version parser on text passt prints (Debian 12's and a
 * newer release's; QEMU's parser is tested in test_qemu.c), proc_capture() on
 * real short programs, provenance_collect() on a fake guest image whose digest is known, and
 * the "machine is busy" judgement, against processes spinning on every CPU.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "image.h"
#include "proc.h"
#include "provenance.h"

static void test_passt_versions(void **state)
{
    char v[64];

    (void)state;
    assert_true(provenance_parse_passt_version("passt 2025_05_12.8ec1341\nCopyright Red Hat\n", v,
                                               sizeof(v)));
    assert_string_equal(v, "2025_05_12.8ec1341");
    /* Debian 12's build does not know its version: none is made up */
    assert_false(
        provenance_parse_passt_version("passt unknown version\nCopyright Red Hat\n", v, sizeof(v)));
    assert_false(provenance_parse_passt_version("pasta 1\n", v, sizeof(v)));
}

static void test_capture_keeps_output_and_status(void **state)
{
    const char *ok[] = {"sh", "-c", "echo out; echo err >&2", NULL};
    const char *fails[] = {"sh", "-c", "echo bye; exit 3", NULL};
    const char *missing[] = {"burette-no-such-program", NULL};
    char buf[64];
    int st;

    (void)state;
    st = proc_capture(ok, buf, sizeof(buf), 5000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_string_equal(buf, "out\nerr\n");
    st = proc_capture(fails, buf, sizeof(buf), 5000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    assert_string_equal(buf, "bye\n");
    assert_int_equal(proc_capture(missing, buf, sizeof(buf), 5000), -ENOENT);
}

static void test_capture_cuts_long_output_and_kills_at_timeout(void **state)
{
    const char *chatty[] = {"sh", "-c",
                            "i=0; while [ $i -lt 2000 ]; do echo 0123456789; "
                            "i=$((i+1)); done",
                            NULL};
    const char *stuck[] = {"sleep", "30", NULL};
    char buf[16];

    (void)state;
    /* 22000 bytes into 16: the child must still run to its end, not block on the pipe */
    assert_int_equal(proc_capture(chatty, buf, sizeof(buf), 10000), 0);
    assert_int_equal(strlen(buf), sizeof(buf) - 1);
    assert_int_equal(proc_capture(stuck, buf, sizeof(buf), 200), -ETIMEDOUT);
}

static void test_collect_hashes_kernel_then_initrd_and_reads_the_manifest(void **state)
{
    char dir[] = "/tmp/burette-prov-XXXXXX";
    struct guest_image img;
    json_t *host = json_object();
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(img.kernel, sizeof(img.kernel), "%s/k", dir);
    snprintf(img.initrd, sizeof(img.initrd), "%s/i", dir);
    snprintf(img.manifest, sizeof(img.manifest), "%s/m.json", dir);
    f = fopen(img.kernel, "w");
    fputs("ab", f);
    fclose(f);
    f = fopen(img.initrd, "w");
    fputs("c", f);
    fclose(f);
    f = fopen(img.manifest, "w");
    fputs("{\"kernel_release\": \"6.1.0-57-cloud-amd64\", \"packages\": {\"iperf3\": \"3.12-1\"}}",
          f);
    fclose(f);

    assert_int_equal(provenance_collect(host, NULL, &img), 0);
    /* SHA-256 of "abc" (FIPS 180-2, appendix B.1): the two files, kernel first */
    assert_string_equal(json_string_value(json_object_get(host, "guest_image_sha256")),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(json_string_value(json_object_get(host, "guest_kernel")),
                        "6.1.0-57-cloud-amd64");
    assert_string_equal(json_string_value(json_object_get(host, "guest_iperf3_version")), "3.12-1");
    /* an unknown QEMU leaves its version out instead of guessing */
    assert_null(json_object_get(host, "qemu_version"));
    assert_non_null(json_string_value(json_object_get(host, "iperf3_version")));
    json_decref(host);
    unlink(img.kernel);
    unlink(img.initrd);
    unlink(img.manifest);
    rmdir(dir);
}

/* The busy judgement: a quarter of the machine's CPU time is the line. */
static void test_busy_share(void **state)
{
    double pct;

    (void)state;
    assert_true(provenance_busy_share(1000, 1000, 2, &pct));
    assert_true(pct > 49.9 && pct < 50.1);
    assert_false(provenance_busy_share(400, 1000, 2, &pct));
    assert_true(pct > 19.9 && pct < 20.1);
    assert_false(provenance_busy_share(1000, 1000, 0, &pct));
    assert_false(provenance_busy_share(1000, 0, 2, &pct));
    assert_true(provenance_busy_share(2100, 1000, 2, &pct));
    assert_true(pct == 100);
}

/* A process spinning on every CPU is other work the short window sees, whatever the load
 * average of the minute before says. */
static void test_busy_now_sees_spinners(void **state)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    pid_t kids[64];
    long n = cpus < 64 ? cpus : 64;
    double pct;
    bool busy;

    (void)state;
    for (long i = 0; i < n; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (!kids[i]) {
            /* dies with the test, whatever assertion ends it first */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (volatile unsigned long spin = 0;; spin++)
                ;
        }
    }
    busy = provenance_busy_now(500, &pct);
    for (long i = 0; i < n; i++) {
        kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    print_message("with %ld spinners: %.0f%% of the machine busy\n", n, pct);
    assert_true(busy);
    assert_true(pct > 25.0 && pct <= 100.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passt_versions),
        cmocka_unit_test(test_capture_keeps_output_and_status),
        cmocka_unit_test(test_capture_cuts_long_output_and_kills_at_timeout),
        cmocka_unit_test(test_collect_hashes_kernel_then_initrd_and_reads_the_manifest),
        cmocka_unit_test(test_busy_share),
        cmocka_unit_test(test_busy_now_sees_spinners),
    };

    proc_signals_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
