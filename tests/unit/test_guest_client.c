/* SPDX-License-Identifier: MIT */
/*
 * test_guest_client - how the network and latency tests word a failed client in the guest
 * (guest_net.h): each way it can end, its own reason or its stderr, and what the host side's
 * server adds, or says alone when the helper died or the run was stopped. No guest: the
 * results are built by hand as vm_run() would fill them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "errbuf.h"
#include "guest_net.h"

static struct guest_client ended(int exit_status, int signal, bool timed_out, char *out,
                                 char *err_text)
{
    return (struct guest_client){.res = {.exit_status = exit_status,
                                         .signal = signal,
                                         .timed_out = timed_out,
                                         .out = out,
                                         .out_len = out ? strlen(out) : 0,
                                         .err = err_text,
                                         .err_len = err_text ? strlen(err_text) : 0}};
}

static void test_a_client_that_ended_well_has_not_failed(void **state)
{
    struct guest_client c = ended(0, 0, false, "{}", NULL);

    assert_false(guest_client_failed(&c));
}

static void test_each_bad_end_is_a_failure(void **state)
{
    struct guest_client status = ended(1, 0, false, "{}", NULL);
    struct guest_client killed = ended(-1, 9, false, "{}", NULL);
    struct guest_client late = ended(0, 0, true, "{}", NULL);
    struct guest_client silent = ended(0, 0, false, NULL, NULL);

    assert_true(guest_client_failed(&status));
    assert_true(guest_client_failed(&killed));
    assert_true(guest_client_failed(&late));
    assert_true(guest_client_failed(&silent));
}

static void test_each_end_is_named_with_stderr_less_its_newlines(void **state)
{
    const struct {
        struct guest_client c;
        const char *said;
    } cases[] = {
        {ended(0, 0, true, NULL, "no reply\n\n"), "the guest's rr loop timed out: no reply"},
        {ended(-1, 9, false, NULL, NULL), "the guest's rr loop was killed by signal 9"},
        {ended(3, 0, false, NULL, "bad size\n"),
         "the guest's rr loop exited with status 3: bad size"},
        {ended(0, 0, false, NULL, ""), "the guest's rr loop failed"},
    };
    char err[ERRBUF_LEN];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(
            guest_client_failure(&cases[i].c, "rr loop", NULL, 0, "", err, sizeof(err)), -EIO);
        assert_string_equal(err, cases[i].said);
    }
}

static void test_the_clients_own_reason_replaces_its_stderr(void **state)
{
    struct guest_client c = ended(1, 0, false, "{\"error\":\"x\"}", "iperf3: noise on stderr");
    char err[ERRBUF_LEN];

    assert_int_equal(
        guest_client_failure(&c, "iperf3 client", "unable to connect", 0, "", err, sizeof(err)),
        -EIO);
    assert_string_equal(err, "the guest's iperf3 client exited with status 1 (unable to connect)");
}

static void test_a_long_stderr_is_cut_to_its_head(void **state)
{
    char text[1000], err[ERRBUF_LEN];
    struct guest_client c;

    memset(text, 'e', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    c = ended(2, 0, false, NULL, text);
    guest_client_failure(&c, "iperf3 client", NULL, 0, "", err, sizeof(err));
    assert_int_equal(strlen(err), strlen("the guest's iperf3 client exited with status 2: ") + 300);
}

static void test_the_host_sides_error_follows_the_clients(void **state)
{
    struct guest_client c = ended(1, 0, false, NULL, NULL);
    char err[ERRBUF_LEN];

    assert_int_equal(guest_client_failure(&c, "rr loop", NULL, -EIO,
                                          "echo server process was killed by signal 9", err,
                                          sizeof(err)),
                     -EIO);
    assert_string_equal(err, "the guest's rr loop exited with status 1; on the host side: echo "
                             "server process was killed by signal 9");
}

static void test_a_server_still_running_adds_nothing(void **state)
{
    struct guest_client c = ended(1, 0, false, NULL, NULL);
    char err[ERRBUF_LEN];

    assert_int_equal(
        guest_client_failure(&c, "rr loop", NULL, -ETIMEDOUT, "still waiting", err, sizeof(err)),
        -EIO);
    assert_string_equal(err, "the guest's rr loop exited with status 1");
}

static void test_a_dead_helper_or_a_stop_is_the_cause_on_its_own(void **state)
{
    struct guest_client c = ended(1, 0, false, NULL, "connection reset");
    char err[ERRBUF_LEN];

    assert_int_equal(guest_client_failure(&c, "iperf3 client", NULL, -EPIPE, "the helper died", err,
                                          sizeof(err)),
                     -EPIPE);
    assert_string_equal(err, "the helper died");
    assert_int_equal(guest_client_failure(&c, "iperf3 client", NULL, -ECANCELED, "interrupted", err,
                                          sizeof(err)),
                     -ECANCELED);
    assert_string_equal(err, "interrupted");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_client_that_ended_well_has_not_failed),
        cmocka_unit_test(test_each_bad_end_is_a_failure),
        cmocka_unit_test(test_each_end_is_named_with_stderr_less_its_newlines),
        cmocka_unit_test(test_the_clients_own_reason_replaces_its_stderr),
        cmocka_unit_test(test_a_long_stderr_is_cut_to_its_head),
        cmocka_unit_test(test_the_host_sides_error_follows_the_clients),
        cmocka_unit_test(test_a_server_still_running_adds_nothing),
        cmocka_unit_test(test_a_dead_helper_or_a_stop_is_the_cause_on_its_own),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
