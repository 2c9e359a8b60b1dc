/* SPDX-License-Identifier: MIT */
/*
 * test_latency - the latency test's check of the guest's count against the host's; the test
 * itself is latency_test_ops (perf_test.h), described in test_latency.c
 */
#ifndef BURETTE_TEST_LATENCY_H
#define BURETTE_TEST_LATENCY_H

#include <stddef.h>

#include "rr.h"

/**
 * latency_check_server() - Whether the echo server saw what the guest says it exchanged
 * @r:		The guest's result
 * @server_json: The echo server's counts (helper_echo_finish())
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * The server must have answered at least as many requests (tcp_rr: bytes / size), connections
 * (tcp_crr) or datagrams (udp_rr) as the guest counted transactions; more is fine (a UDP
 * reply that came too late, a connection cut by the loop's end).
 *
 * Return: 0, or -EPROTO with both counts in @err
 */
int latency_check_server(const struct rr_result *r, const char *server_json, char *err,
                         size_t errlen);

#endif /* BURETTE_TEST_LATENCY_H */
