/* SPDX-License-Identifier: MIT */
/*
 * test_qemu - finding QEMU and reading its version: the version line as QEMU and Debian print
 * it, a binary missing, not executable or not a QEMU, and which versions may do vhost-user
 * under TCG. Fake binaries are tiny shell scripts printing what a QEMU of that version prints
 * for --version (the first line of Debian's qemu-system-x86 7.2 and 10.0.2 builds). CPU time
 * per kind of QEMU thread is read from this test's own threads, one named like a vCPU.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sched.h>
#include <time.h>

#include "errbuf.h"
#include "qemu.h"

static char dir[] = "/tmp/test_qemu-XXXXXX";

/* A script @name in the test directory printing @out; @mode its permissions. */
static const char *fake(const char *name, const char *out, mode_t mode)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\nprintf '%%s\\n' '%s'\n", out);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void test_qemu_parses_debian_and_plain_version_lines(void **state)
{
    struct qemu_info q;

    assert_int_equal(
        qemu_parse_version("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-1~bpo12+1)\n"
                           "Copyright (c) 2003-2025 Fabrice Bellard\n",
                           &q),
        0);
    assert_string_equal(q.version, "10.0.2");
    assert_int_equal(q.major, 10);
    assert_int_equal(q.minor, 0);
    assert_int_equal(q.micro, 2);
    assert_int_equal(qemu_parse_version("QEMU emulator version 7.2.0\n", &q), 0);
    assert_int_equal(q.major, 7);
    assert_int_equal(qemu_parse_version("QEMU emulator version 9.1\n", &q), 0);
    assert_string_equal(q.version, "9.1.0");
    assert_int_equal(qemu_parse_version("qemu-img version 7.2.0\n", &q), -EINVAL);
    assert_int_equal(qemu_parse_version("QEMU emulator version x\n", &q), -EINVAL);
    assert_int_equal(qemu_parse_version("", &q), -EINVAL);
}

static void test_qemu_probe_reads_the_version_of_the_binary_given(void **state)
{
    struct qemu_info q;
    char err[ERRBUF_LEN];
    const char *p =
        fake("qemu-old", "QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7+deb12u7)", 0755);

    assert_int_equal(qemu_probe(p, &q, err, sizeof(err)), 0);
    assert_string_equal(q.path, p);
    assert_string_equal(q.version, "7.2.0");
}

static void test_qemu_probe_finds_a_name_in_path(void **state)
{
    struct qemu_info q;
    char err[ERRBUF_LEN], want[256];
    const char *old = getenv("PATH");
    char *saved = strdup(old ? old : "");

    fake("qemu-system-x86_64", "QEMU emulator version 10.0.2", 0755);
    snprintf(want, sizeof(want), "%s/qemu-system-x86_64", dir);
    setenv("PATH", dir, 1);
    assert_int_equal(qemu_probe(NULL, &q, err, sizeof(err)), 0);
    assert_string_equal(q.path, want);
    assert_string_equal(q.version, "10.0.2");
    setenv("PATH", "/nonexistent", 1);
    assert_int_equal(qemu_probe(NULL, &q, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "qemu-system-x86_64 not found in PATH"));
    assert_non_null(strstr(err, "--qemu"));
    setenv("PATH", saved, 1);
    free(saved);
}

static void test_qemu_probe_refuses_missing_unexecutable_and_foreign_binaries(void **state)
{
    struct qemu_info q;
    char err[ERRBUF_LEN], missing[256];
    const char *p;

    snprintf(missing, sizeof(missing), "%s/none", dir);
    assert_int_equal(qemu_probe(missing, &q, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "--qemu"));
    assert_non_null(strstr(err, "No such file"));

    p = fake("noexec", "QEMU emulator version 10.0.2", 0644);
    assert_int_equal(qemu_probe(p, &q, err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "not an executable file"));

    assert_int_equal(qemu_probe(dir, &q, err, sizeof(err)), -EACCES); /* a directory */

    p = fake("notqemu", "hello", 0755);
    assert_int_equal(qemu_probe(p, &q, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "'hello'"));
    assert_non_null(strstr(err, "QEMU emulator version"));
}

/* A QEMU built with seccomp prints its version after -sandbox; one without refuses the option. */
static void test_qemu_sandbox_used_only_where_the_binary_takes_it(void **state)
{
    char with[256], without[256];
    FILE *f;

    (void)state;
    snprintf(with, sizeof(with), "%s/qemu-seccomp", dir);
    snprintf(without, sizeof(without), "%s/qemu-no-seccomp", dir);
    f = fopen(with, "w");
    assert_non_null(f);
    fprintf(f,
            "#!/bin/sh\n[ \"$1 $2\" = '-sandbox %s' ] || exit 3\n"
            "echo 'QEMU emulator version 10.0.2'\n",
            QEMU_SANDBOX);
    fclose(f);
    f = fopen(without, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n[ \"$1\" = -sandbox ] && { echo \"qemu: -sandbox: There is no "
               "option group 'sandbox'\" >&2; exit 1; }\necho 'QEMU emulator version 10.0.2'\n");
    fclose(f);
    assert_int_equal(chmod(with, 0755), 0);
    assert_int_equal(chmod(without, 0755), 0);
    assert_string_equal(qemu_sandbox_arg(with), QEMU_SANDBOX);
    assert_null(qemu_sandbox_arg(without));
    assert_string_equal(qemu_sandbox_arg(with), QEMU_SANDBOX); /* the cache follows the path */
    assert_null(qemu_sandbox_arg("/nonexistent/qemu"));
    unlink(with);
    unlink(without);
}

static void test_qemu_vhost_user_needs_10_under_tcg_only(void **state)
{
    struct qemu_info q = {.path = "/usr/bin/qemu-system-x86_64"};
    char why[512] = "";

    assert_int_equal(qemu_parse_version("QEMU emulator version 7.2.0", &q), 0);
    assert_false(qemu_vhost_user_ok(&q, ACCEL_TCG, why, sizeof(why)));
    assert_non_null(strstr(why, "QEMU 7.2.0"));
    assert_non_null(strstr(why, "scripts/install-deps"));
    assert_non_null(strstr(why, "bookworm-backports"));
    assert_null(strchr(why, '\n'));
    assert_true(qemu_vhost_user_ok(&q, ACCEL_KVM, why, sizeof(why)));
    assert_int_equal(qemu_parse_version("QEMU emulator version 10.0.0", &q), 0);
    assert_true(qemu_vhost_user_ok(&q, ACCEL_TCG, why, sizeof(why)));
}

static int setup(void **state)
{
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    const char *names[] = {"qemu-old", "qemu-system-x86_64", "noexec", "notqemu"};
    char path[256];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_parses_debian_and_plain_version_lines),
        cmocka_unit_test(test_qemu_probe_reads_the_version_of_the_binary_given),
        cmocka_unit_test(test_qemu_probe_finds_a_name_in_path),
        cmocka_unit_test(test_qemu_probe_refuses_missing_unexecutable_and_foreign_binaries),
        cmocka_unit_test(test_qemu_sandbox_used_only_where_the_binary_takes_it),
        cmocka_unit_test(test_qemu_vhost_user_needs_10_under_tcg_only),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
