/* SPDX-License-Identifier: MIT */
/*
 * test_agent_client - the harness's side of the agent protocol against a scripted peer on a
 * socketpair (no VM): replies are matched by id, stale and garbled lines are skipped, error
 * replies, other protocol versions, over-long lines, a vanished peer and silence each end the
 * call with their own error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_client.h"
#include "errbuf.h"
#include "proc.h"

struct fixture {
    struct agent_client c;
    int peer;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    int sp[2];

    if (!f || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
        return -1;
    agent_client_init(&f->c, sp[0], -1);
    f->peer = sp[1];
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    agent_client_close(&f->c);
    if (f->peer >= 0)
        close(f->peer);
    free(f);
    return 0;
}

static void peer_says(struct fixture *f, const char *text)
{
    assert_int_equal(write_all(f->peer, text, strlen(text)), 0);
}

static int poweroff(struct fixture *f, struct agent_msg *reply, long long timeout_ms, char *err)
{
    struct agent_msg req = {.type = AGENT_MSG_POWEROFF};

    return agent_client_call(&f->c, &req, reply, proc_now_ms() + timeout_ms, err, ERRBUF_LEN);
}

static void test_reply_is_matched_by_id_past_stale_and_garbled_lines(void **state)
{
    struct fixture *f = *state;
    struct agent_msg reply;
    char err[ERRBUF_LEN], sent[256];
    ssize_t n;

    /* The first request gets id 1: a stale reply (id 0) and a garbled line come first. */
    peer_says(f, "{\"type\":\"powering_off\",\"id\":0}\nnot json\n"
                 "{\"type\":\"powering_off\",\"id\":1}\n");
    assert_int_equal(poweroff(f, &reply, 5000, err), 0);
    assert_int_equal(reply.type, AGENT_MSG_POWERING_OFF);
    assert_int_equal(reply.id, 1);
    agent_msg_clear(&reply);
    /* What went out is one line with the id. */
    n = read(f->peer, sent, sizeof(sent) - 1);
    assert_true(n > 0);
    sent[n] = '\0';
    assert_string_equal(sent, "{\"type\":\"poweroff\",\"id\":1}\n");
}

static void test_error_reply_becomes_eremoteio_with_its_message(void **state)
{
    struct fixture *f = *state;
    struct agent_msg reply;
    char err[ERRBUF_LEN];

    peer_says(f, "{\"type\":\"error\",\"id\":1,\"message\":\"no NIC with MAC x\"}\n");
    assert_int_equal(poweroff(f, &reply, 5000, err), -EREMOTEIO);
    assert_non_null(strstr(err, "no NIC with MAC x"));
}

static void test_other_protocol_version_fails_at_once(void **state)
{
    struct fixture *f = *state;
    struct agent_msg m;
    char err[ERRBUF_LEN];
    long long t0 = proc_now_ms();

    peer_says(f, "{\"type\":\"hello\",\"version\":99,\"nics\":[]}\n");
    assert_int_equal(agent_client_recv(&f->c, &m, t0 + 10000, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "version 99"));
    assert_true(proc_now_ms() - t0 < 5000);
}

static void test_peer_closing_is_epipe(void **state)
{
    struct fixture *f = *state;
    struct agent_msg m;
    char err[ERRBUF_LEN];

    close(f->peer);
    f->peer = -1;
    assert_int_equal(agent_client_recv(&f->c, &m, proc_now_ms() + 10000, err, sizeof(err)), -EPIPE);
}

static void test_silence_times_out(void **state)
{
    struct fixture *f = *state;
    struct agent_msg m;
    char err[ERRBUF_LEN];

    assert_int_equal(agent_client_recv(&f->c, &m, proc_now_ms() + 200, err, sizeof(err)),
                     -ETIMEDOUT);
    assert_non_null(strstr(err, "timed out"));
}

static void test_overlong_line_is_emsgsize(void **state)
{
    struct fixture *f = *state;
    struct agent_msg m;
    char err[ERRBUF_LEN];

    /* Shrink the limit rather than push tens of MiB through the socket. */
    f->c.lb.max = 100;
    peer_says(f, "{\"type\":\"error\",\"message\":\"");
    for (int i = 0; i < 20; i++)
        peer_says(f, "xxxxxxxxxx");
    assert_int_equal(agent_client_recv(&f->c, &m, proc_now_ms() + 5000, err, sizeof(err)),
                     -EMSGSIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reply_is_matched_by_id_past_stale_and_garbled_lines,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_reply_becomes_eremoteio_with_its_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_other_protocol_version_fails_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_closing_is_epipe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silence_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlong_line_is_emsgsize, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
