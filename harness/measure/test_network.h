/* SPDX-License-Identifier: MIT */
/*
 * test_network - the network test's sweep: which (MTU, streams) points a run measures and how
 * their metrics are named, for the test itself and for `burette run --dry-run`
 *
 * Points come MTU by MTU (each MTU is one guest), stream counts within. The suffix goes after
 * the sub-test's name: "_p4" for 4 streams in a --streams sweep (1 stream: none), "_mtu9000"
 * for every MTU of an --mtu sweep; a single value of either adds nothing, so a run without a
 * sweep has the names it always had.
 */
#ifndef BURETTE_TEST_NETWORK_H
#define BURETTE_TEST_NETWORK_H

#include <stddef.h>

#include <jansson.h>

#include "run_options.h"

struct network_point {
    unsigned mtu;     /* 0: the backend's own */
    unsigned streams; /* iperf3 -P */
    char suffix[32];  /* "", "_p4", "_mtu1500", "_p4_mtu1500" */
};

/**
 * network_sweep_points() - The points of @o's sweep, in the order an iteration runs them
 * @o:		The run's options
 * @out:	Receives them
 * @max:	Room in @out (RUN_SWEEP_MAX squared holds any)
 *
 * Return: how many
 */
size_t network_sweep_points(const struct run_options *o, struct network_point *out, size_t max);

/**
 * network_sweep_json() - The points as --dry-run lists them: [{"streams":4,"mtu":1500,
 * "subtests":["tcp_tx_p4_mtu1500",...]}, ...] ("mtu" only when given)
 * @o:		The run's options
 *
 * Return: new array, NULL on allocation failure
 */
json_t *network_sweep_json(const struct run_options *o);

#endif /* BURETTE_TEST_NETWORK_H */
