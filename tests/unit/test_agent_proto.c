/* SPDX-License-Identifier: MIT */
/*
 * test_agent_proto - the guest agent's wire protocol: every message survives encode/decode,
 * malformed or hostile lines are refused with a message (never a crash), and the line reader
 * splits, reassembles and drops over-long lines correctly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_proto.h"
#include "errbuf.h"

/* Encode @in, check the line shape, decode it into @out. */
static void roundtrip(const struct agent_msg *in, struct agent_msg *out)
{
    char err[ERRBUF_LEN];
    size_t len;
    char *line = agent_msg_encode(in, &len, err, sizeof(err));

    assert_non_null(line);
    assert_int_equal(line[len - 1], '\n');
    assert_null(memchr(line, '\n', len - 1));
    assert_int_equal(agent_msg_decode(line, len - 1, out, err, sizeof(err)), 0);
    assert_int_equal(out->type, in->type);
    assert_int_equal(out->id, in->id);
    free(line);
}

static void test_hello_roundtrip_keeps_nics(void **state)
{
    struct agent_msg in = {.type = AGENT_MSG_HELLO, .id = -1}, out;

    in.u.hello.version = AGENT_PROTO_VERSION;
    in.u.hello.n_nics = 2;
    strcpy(in.u.hello.nics[0].name, "eth0");
    strcpy(in.u.hello.nics[0].mac, "52:54:00:12:12:12");
    strcpy(in.u.hello.nics[1].name, "eth1");
    strcpy(in.u.hello.nics[1].mac, "52:54:00:12:12:13");
    roundtrip(&in, &out);
    assert_int_equal(out.u.hello.n_nics, 2);
    assert_string_equal(out.u.hello.nics[1].name, "eth1");
    assert_string_equal(out.u.hello.nics[1].mac, "52:54:00:12:12:13");
    agent_msg_clear(&out);
}

static void test_configure_static_roundtrip(void **state)
{
    struct agent_msg in = {.type = AGENT_MSG_CONFIGURE_NIC, .id = 7}, out;

    strcpy(in.u.nic_config.mac, "52:54:00:12:12:12");
    in.u.nic_config.mode = AGENT_NIC_STATIC;
    strcpy(in.u.nic_config.address, "192.168.100.2");
    in.u.nic_config.prefix = 24;
    strcpy(in.u.nic_config.gateway, "192.168.100.1");
    in.u.nic_config.mtu = 9000;
    roundtrip(&in, &out);
    assert_int_equal(out.u.nic_config.mode, AGENT_NIC_STATIC);
    assert_string_equal(out.u.nic_config.address, "192.168.100.2");
    assert_int_equal(out.u.nic_config.prefix, 24);
    assert_string_equal(out.u.nic_config.gateway, "192.168.100.1");
    assert_int_equal(out.u.nic_config.mtu, 9000);
    agent_msg_clear(&out);
}

static void test_configure_dhcp_and_down_roundtrip(void **state)
{
    struct agent_msg in = {.type = AGENT_MSG_CONFIGURE_NIC, .id = 1}, out;

    strcpy(in.u.nic_config.mac, "52:54:00:12:12:12");
    in.u.nic_config.mode = AGENT_NIC_DHCP;
    in.u.nic_config.timeout_s = 5;
    roundtrip(&in, &out);
    assert_int_equal(out.u.nic_config.mode, AGENT_NIC_DHCP);
    assert_int_equal(out.u.nic_config.timeout_s, 5);
    agent_msg_clear(&out);

    in.u.nic_config.mode = AGENT_NIC_DOWN;
    roundtrip(&in, &out);
    assert_int_equal(out.u.nic_config.mode, AGENT_NIC_DOWN);
    agent_msg_clear(&out);
}

static void test_run_roundtrip_keeps_argv(void **state)
{
    struct agent_msg in = {.type = AGENT_MSG_RUN, .id = 3}, out;
    char *argv[] = {"iperf3", "-c", "10.0.2.2", "--json", "-t", "5", "arg with \"quotes\"\n"};

    in.u.run.argc = 7;
    for (size_t i = 0; i < 7; i++)
        in.u.run.argv[i] = argv[i];
    in.u.run.timeout_s = 30;
    roundtrip(&in, &out);
    assert_int_equal(out.u.run.argc, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(out.u.run.argv[i], argv[i]);
    assert_null(out.u.run.argv[7]);
    assert_int_equal(out.u.run.timeout_s, 30);
    agent_msg_clear(&out);
}

/* iperf3 --json output runs to tens of KB: a 1 MiB stdout must come through byte for byte. */
static void test_run_result_carries_large_output(void **state)
{
    struct agent_msg in = {.type = AGENT_MSG_RUN_RESULT, .id = 9}, out;
    size_t n = 1 << 20;
    char *big = malloc(n + 1);

    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i % 64 == 63 ? '\n' : 'a' + i % 26);
    big[n] = '\0';
    in.u.run_result.exit_status = 0;
    in.u.run_result.out = big;
    in.u.run_result.out_len = n;
    in.u.run_result.err = "";
    roundtrip(&in, &out);
    assert_int_equal(out.u.run_result.out_len, n);
    assert_memory_equal(out.u.run_result.out, big, n);
    assert_int_equal(out.u.run_result.err_len, 0);
    agent_msg_clear(&out);
    free(big);
}

/* Output that is not UTF-8 still makes a valid message: bad bytes become U+FFFD. */
static void test_run_result_replaces_invalid_utf8(void **state)
{
    struct agent_msg in = {.type = AGENT_MSG_RUN_RESULT, .id = 1}, out;

    in.u.run_result.exit_status = -1;
    in.u.run_result.signal = 9;
    in.u.run_result.timed_out = true;
    in.u.run_result.out = "ok\xff\xc3(\xe2\x82\xac";
    in.u.run_result.out_len = 9;
    in.u.run_result.err = "a\0b";
    in.u.run_result.err_len = 3;
    roundtrip(&in, &out);
    assert_string_equal(out.u.run_result.out, "ok\xef\xbf\xbd\xef\xbf\xbd(\xe2\x82\xac");
    assert_int_equal(out.u.run_result.err_len, 3);
    assert_memory_equal(out.u.run_result.err, "a\0b", 3);
    assert_true(out.u.run_result.timed_out);
    assert_int_equal(out.u.run_result.signal, 9);
    assert_int_equal(out.u.run_result.exit_status, -1);
    agent_msg_clear(&out);
}

static void test_error_and_poweroff_roundtrip(void **state)
{
    struct agent_msg in = {.type = AGENT_MSG_ERROR, .id = 4}, out;

    strcpy(in.u.error, "no NIC with MAC 52:54:00:99:99:99");
    roundtrip(&in, &out);
    assert_string_equal(out.u.error, in.u.error);
    agent_msg_clear(&out);

    in = (struct agent_msg){.type = AGENT_MSG_POWEROFF, .id = 5};
    roundtrip(&in, &out);
    agent_msg_clear(&out);
}

/* Each malformed line is refused with a message naming the problem. */
static void test_malformed_lines_are_refused_with_a_reason(void **state)
{
    static const struct {
        const char *line;
        int rc;
        const char *why;
    } cases[] = {
        {"", -EINVAL, "not JSON"},
        {"garbage", -EINVAL, "not JSON"},
        {"{\"type\":\"run\",\"id\":1,\"argv\":[\"ls\"]", -EINVAL, "not JSON"},
        {"[1,2]", -EINVAL, "not a JSON object"},
        {"{\"id\":1}", -EINVAL, "'type'"},
        {"{\"type\":42,\"id\":1}", -EINVAL, "'type'"},
        {"{\"type\":\"reboot\",\"id\":1}", -EPROTO, "unknown message type 'reboot'"},
        {"{\"type\":\"poweroff\"}", -EINVAL, "without an 'id'"},
        {"{\"type\":\"poweroff\",\"id\":-3}", -EINVAL, "'id'"},
        {"{\"type\":\"poweroff\",\"id\":\"x\"}", -EINVAL, "'id'"},
        {"{\"type\":\"poweroff\",\"id\":1,\"id\":2}", -EINVAL, "not JSON"},
        {"{\"type\":\"run\",\"id\":1,\"argv\":[],\"timeout_s\":1}", -EINVAL, "'argv'"},
        {"{\"type\":\"run\",\"id\":1,\"argv\":\"ls\",\"timeout_s\":1}", -EINVAL, "'argv'"},
        {"{\"type\":\"run\",\"id\":1,\"argv\":[\"ls\",3],\"timeout_s\":1}", -EINVAL, "argv[1]"},
        {"{\"type\":\"run\",\"id\":1,\"argv\":[\"l\\u0000s\"],\"timeout_s\":1}", -EINVAL,
         "argv[0]"},
        {"{\"type\":\"run\",\"id\":1,\"argv\":[\"ls\"]}", -EINVAL, "'timeout_s' is missing"},
        {"{\"type\":\"run\",\"id\":1,\"argv\":[\"ls\"],\"timeout_s\":0}", -EINVAL, "timeout_s"},
        {"{\"type\":\"run\",\"id\":1,\"argv\":[\"ls\"],\"timeout_s\":1e3}", -EINVAL, "timeout_s"},
        {"{\"type\":\"configure_nic\",\"id\":1,\"mode\":\"down\"}", -EINVAL, "'mac' is missing"},
        {"{\"type\":\"configure_nic\",\"id\":1,\"mac\":\"52:54:00:12:12\",\"mode\":\"down\"}",
         -EINVAL, "not a MAC address"},
        {"{\"type\":\"configure_nic\",\"id\":1,\"mac\":\"52:54:00:12:12:1g\",\"mode\":\"down\"}",
         -EINVAL, "not a MAC address"},
        {"{\"type\":\"configure_nic\",\"id\":1,\"mac\":\"52:54:00:12:12:12\",\"mode\":\"auto\"}",
         -EINVAL, "'mode'"},
        {"{\"type\":\"configure_nic\",\"id\":1,\"mac\":\"52:54:00:12:12:12\",\"mode\":\"static\","
         "\"address\":\"10.0.2.300\",\"prefix\":24}",
         -EINVAL, "not an IPv4 address"},
        {"{\"type\":\"configure_nic\",\"id\":1,\"mac\":\"52:54:00:12:12:12\",\"mode\":\"static\","
         "\"address\":\"10.0.2.15\",\"prefix\":33}",
         -EINVAL, "'prefix'"},
        {"{\"type\":\"configure_nic\",\"id\":1,\"mac\":\"52:54:00:12:12:12\",\"mode\":\"static\","
         "\"address\":\"10.0.2.15\",\"prefix\":24,\"mtu\":20}",
         -EINVAL, "'mtu'"},
        {"{\"type\":\"configure_nic\",\"id\":1,\"mac\":\"52:54:00:12:12:12\",\"mode\":\"static\","
         "\"address\":\"10.0.2.15.15.15.15.15.15\",\"prefix\":24}",
         -EINVAL, "'address' is too long"},
        {"{\"type\":\"hello\",\"version\":2,\"nics\":[]}", -EPROTO, "protocol version 2"},
        {"{\"type\":\"hello\",\"version\":1}", -EINVAL, "'nics'"},
        {"{\"type\":\"hello\",\"version\":1,\"nics\":[{\"name\":\"eth0\"}]}", -EINVAL, "nics[0]"},
        {"{\"type\":\"hello\",\"version\":1,\"nics\":[{\"name\":\"a-very-long-interface-name\","
         "\"mac\":\"52:54:00:12:12:12\"}]}",
         -EINVAL, "too long"},
        {"{\"type\":\"run_result\",\"id\":1,\"exit_status\":0,\"signal\":0,\"timed_out\":0,"
         "\"stdout\":\"\",\"stderr\":\"\"}",
         -EINVAL, "'timed_out'"},
        {"{\"type\":\"run_result\",\"id\":1,\"exit_status\":256,\"signal\":0,\"timed_out\":false,"
         "\"stdout\":\"\",\"stderr\":\"\"}",
         -EINVAL, "'exit_status'"},
        {"{\"type\":\"error\",\"id\":1}", -EINVAL, "'message'"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[ERRBUF_LEN] = "";
        struct agent_msg m;
        int rc = agent_msg_decode(cases[i].line, strlen(cases[i].line), &m, err, sizeof(err));

        if (rc != cases[i].rc || !strstr(err, cases[i].why))
            fail_msg("line %s: got %d '%s', want %d with '%s'", cases[i].line, rc, err, cases[i].rc,
                     cases[i].why);
        assert_int_equal(m.u.run.argc, 0); /* nothing half-filled left to free */
    }
}

/* A failed request keeps its id, so the error reply can name it. */
static void test_decode_failure_keeps_request_id(void **state)
{
    const char *line = "{\"type\":\"run\",\"id\":42,\"argv\":[]}";
    char err[ERRBUF_LEN];
    struct agent_msg m;

    assert_int_equal(agent_msg_decode(line, strlen(line), &m, err, sizeof(err)), -EINVAL);
    assert_int_equal(m.id, 42);
}

/* Too many NICs or arguments are refused before any fixed-size array could overflow. */
static void test_oversized_arrays_are_refused(void **state)
{
    char line[8192], err[ERRBUF_LEN];
    struct agent_msg m;
    size_t o;

    o = (size_t)snprintf(line, sizeof(line),
                         "{\"type\":\"run\",\"id\":1,\"timeout_s\":1,\"argv\":[");
    for (int i = 0; i <= AGENT_MAX_ARGS; i++)
        o += (size_t)snprintf(line + o, sizeof(line) - o, "%s\"x\"", i ? "," : "");
    snprintf(line + o, sizeof(line) - o, "]}");
    assert_int_equal(agent_msg_decode(line, strlen(line), &m, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "more than"));

    o = (size_t)snprintf(line, sizeof(line), "{\"type\":\"hello\",\"version\":1,\"nics\":[");
    for (int i = 0; i <= AGENT_MAX_NICS; i++)
        o +=
            (size_t)snprintf(line + o, sizeof(line) - o,
                             "%s{\"name\":\"e%d\",\"mac\":\"52:54:00:12:12:12\"}", i ? "," : "", i);
    snprintf(line + o, sizeof(line) - o, "]}");
    assert_int_equal(agent_msg_decode(line, strlen(line), &m, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "more than"));
}

static void test_mac_is_normalized_to_lower_case(void **state)
{
    char mac[AGENT_MAC_LEN];

    assert_int_equal(agent_parse_mac("52:54:00:AB:cd:EF", mac), 0);
    assert_string_equal(mac, "52:54:00:ab:cd:ef");
    assert_int_equal(agent_parse_mac("52-54-00-ab-cd-ef", mac), -EINVAL);
    assert_int_equal(agent_parse_mac("52:54:00:ab:cd:ef:", mac), -EINVAL);
    assert_int_equal(agent_parse_mac(NULL, mac), -EINVAL);
}

static void test_linebuf_splits_and_reassembles_lines(void **state)
{
    struct linebuf lb;
    char *line;
    size_t len;

    linebuf_init(&lb, 64);
    assert_int_equal(linebuf_append(&lb, "one\ntw", 6), 0);
    assert_int_equal(linebuf_next(&lb, &line, &len), 1);
    assert_string_equal(line, "one");
    assert_int_equal(linebuf_next(&lb, &line, &len), 0);
    assert_int_equal(linebuf_append(&lb, "o\n\nthree\n", 9), 0);
    assert_int_equal(linebuf_next(&lb, &line, &len), 1);
    assert_string_equal(line, "two");
    assert_int_equal(linebuf_next(&lb, &line, &len), 1);
    assert_int_equal(len, 0);
    assert_int_equal(linebuf_next(&lb, &line, &len), 1);
    assert_string_equal(line, "three");
    assert_int_equal(linebuf_next(&lb, &line, &len), 0);
    linebuf_free(&lb);
}

/* An over-long line is dropped whole, reported once, and the next line reads normally. */
static void test_linebuf_drops_overlong_line_and_recovers(void **state)
{
    struct linebuf lb;
    char chunk[50], *line;
    size_t len;

    memset(chunk, 'x', sizeof(chunk));
    linebuf_init(&lb, 64);
    assert_int_equal(linebuf_append(&lb, chunk, sizeof(chunk)), 0);
    assert_int_equal(linebuf_next(&lb, &line, &len), 0);
    assert_int_equal(linebuf_append(&lb, chunk, sizeof(chunk)), 0);
    assert_int_equal(linebuf_next(&lb, &line, &len), -E2BIG);
    assert_int_equal(linebuf_append(&lb, chunk, sizeof(chunk)), 0);
    assert_int_equal(linebuf_next(&lb, &line, &len), 0);
    assert_int_equal(linebuf_append(&lb, "xx\nok\n", 6), 0);
    assert_int_equal(linebuf_next(&lb, &line, &len), 1);
    assert_string_equal(line, "ok");
    linebuf_free(&lb);

    /* The same when the whole over-long line arrives at once. */
    linebuf_init(&lb, 4);
    assert_int_equal(linebuf_append(&lb, "12345\nabc\n", 10), 0);
    assert_int_equal(linebuf_next(&lb, &line, &len), -E2BIG);
    assert_int_equal(linebuf_next(&lb, &line, &len), 1);
    assert_string_equal(line, "abc");
    linebuf_free(&lb);
}

static void test_linebuf_reads_from_fd_until_eof(void **state)
{
    struct linebuf lb;
    int p[2];
    char *line;
    size_t len;

    assert_int_equal(pipe(p), 0);
    assert_int_equal(write_all(p[1], "{\"a\":1}\n", 8), 0);
    close(p[1]);
    linebuf_init(&lb, 1024);
    assert_int_equal(linebuf_read(&lb, p[0]), 8);
    assert_int_equal(linebuf_next(&lb, &line, &len), 1);
    assert_string_equal(line, "{\"a\":1}");
    assert_int_equal(linebuf_read(&lb, p[0]), 0);
    close(p[0]);
    linebuf_free(&lb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_roundtrip_keeps_nics),
        cmocka_unit_test(test_configure_static_roundtrip),
        cmocka_unit_test(test_configure_dhcp_and_down_roundtrip),
        cmocka_unit_test(test_run_roundtrip_keeps_argv),
        cmocka_unit_test(test_run_result_carries_large_output),
        cmocka_unit_test(test_run_result_replaces_invalid_utf8),
        cmocka_unit_test(test_error_and_poweroff_roundtrip),
        cmocka_unit_test(test_malformed_lines_are_refused_with_a_reason),
        cmocka_unit_test(test_decode_failure_keeps_request_id),
        cmocka_unit_test(test_oversized_arrays_are_refused),
        cmocka_unit_test(test_mac_is_normalized_to_lower_case),
        cmocka_unit_test(test_linebuf_splits_and_reassembles_lines),
        cmocka_unit_test(test_linebuf_drops_overlong_line_and_recovers),
        cmocka_unit_test(test_linebuf_reads_from_fd_until_eof),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
