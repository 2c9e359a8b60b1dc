/* SPDX-License-Identifier: MIT */
/*
 * test_accel - --accel resolution: auto falls back to TCG on PVM-backed KVM with a notice
 * saying why, tcg is taken as asked, unknown names are refused. BURETTE_KVM_PVM_PATH stands in
 * for /sys/module/kvm_pvm so both machine kinds can be simulated anywhere.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "accel.h"
#include "errbuf.h"

static void test_auto_on_pvm_kvm_picks_tcg_and_says_why(void **state)
{
    char notice[256], err[ERRBUF_LEN];
    enum accel a = ACCEL_KVM;

    /* Any path that exists plays the part of /sys/module/kvm_pvm. */
    setenv("BURETTE_KVM_PVM_PATH", "/", 1);
    assert_int_equal(accel_resolve("auto", &a, notice, sizeof(notice), err, sizeof(err)), 0);
    assert_int_equal(a, ACCEL_TCG);
    assert_non_null(strstr(notice, "PVM-backed"));
    assert_non_null(strstr(notice, "TCG"));
    assert_null(strchr(notice, '\n'));
    unsetenv("BURETTE_KVM_PVM_PATH");
}

static void test_auto_without_pvm_uses_kvm_only_if_it_opens(void **state)
{
    char notice[256], err[ERRBUF_LEN];
    enum accel a;

    setenv("BURETTE_KVM_PVM_PATH", "/nonexistent/kvm_pvm", 1);
    assert_int_equal(accel_resolve("auto", &a, notice, sizeof(notice), err, sizeof(err)), 0);
    /* Either KVM silently, or TCG with the reason /dev/kvm could not be used. */
    if (a == ACCEL_TCG)
        assert_non_null(strstr(notice, "/dev/kvm"));
    else
        assert_string_equal(notice, "");
    unsetenv("BURETTE_KVM_PVM_PATH");
}

static void test_tcg_is_taken_as_asked(void **state)
{
    char notice[256], err[ERRBUF_LEN];
    enum accel a = ACCEL_KVM;

    assert_int_equal(accel_resolve("tcg", &a, notice, sizeof(notice), err, sizeof(err)), 0);
    assert_int_equal(a, ACCEL_TCG);
    assert_string_equal(notice, "");
    assert_string_equal(accel_name(a), "tcg");
}

static void test_unknown_accelerator_is_refused(void **state)
{
    char notice[256], err[ERRBUF_LEN];
    enum accel a;

    assert_int_equal(accel_resolve("hvf", &a, notice, sizeof(notice), err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "'hvf'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_on_pvm_kvm_picks_tcg_and_says_why),
        cmocka_unit_test(test_auto_without_pvm_uses_kvm_only_if_it_opens),
        cmocka_unit_test(test_tcg_is_taken_as_asked),
        cmocka_unit_test(test_unknown_accelerator_is_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
