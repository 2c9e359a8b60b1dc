/* SPDX-License-Identifier: MIT */
/*
 * loop - the one iteration loop of `burette run`, for one run or several (slots)
 *
 * A slot is one run of one test: its options and resources (struct perf_ctx), its report, and
 * the test's state while it is set up. run_slots() drives any test (struct perf_test_ops) over
 * any number of slots: setup, then WARMUP discarded and ITERATIONS kept iterations, then
 * teardown — also after a failure or SIGINT/SIGTERM. Interleaved, every slot is set up first
 * and iteration i runs on each slot in turn before iteration i + 1 starts on any, the order of
 * the turns rotating from one iteration to the next (AB, BA, ...); by sub-test, the same but
 * every part of an iteration (perf_test.h) takes turns; sequential, each slot is done whole
 * before the next. With --vm-instances K each slot's guest is booted K times, the kept
 * iterations split over the boots. A plain `burette run` is one slot.
 *
 * Messages name the slot's label, or the test when the slot has none (a plain run).
 */
#ifndef BURETTE_LOOP_H
#define BURETTE_LOOP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "perf_test.h"

struct report;

/* How several slots share the machine. */
enum run_order {
    RUN_ORDER_INTERLEAVED, /* every VM up at once; iteration i of A, then of B, ... */
    RUN_ORDER_BY_PART,     /* the same, but each part (sub-test) of iteration i takes turns */
    RUN_ORDER_SEQUENTIAL,  /* all of A (setup, iterations, teardown), then all of B, ... */
};

struct run_slot {
    const char *label; /* the run's label, NULL for a plain run */
    const char *spec;  /* the variant as written, NULL for a plain run */
    struct perf_ctx ctx;
    struct report *report; /* receives the kept iterations' figures */
    /* JSON arrays the loop appends to for each kept iteration, or NULL: the slot's 0-based
     * position in the round's order, and the boot of its guest (1-based) */
    json_t *positions;
    json_t *instances;
    /* private to run_slots() */
    void *state;
    bool up;
    struct perf_iter it; /* the iteration in progress */
};

/*
 * A look at the figures once every slot's report holds one kept iteration: what only the
 * figures can show wrong (a --gate glob that takes none of the metrics the runs record) is
 * refused then, instead of after the rest of the run. @check returns 0 to go on, or a
 * negative errno (message in @err) that ends the run there, every slot torn down.
 */
struct run_checkpoint {
    int (*check)(void *arg, const struct run_slot *slots, size_t n, char *err, size_t errlen);
    void *arg;
};

/**
 * run_slots() - Run test @ops over @slots: setup, warmup and kept iterations, teardown
 * @ops:		The test
 * @slots:		The runs; counts of warmup and kept iterations come from the first one's
 *			options (every run of one `burette run` has the same)
 * @n:			Number of slots
 * @order:		How the slots take turns
 * @first_kept:	Called once, with all of @slots, when each has one kept iteration; NULL:
 *			none (sequential: within the last run, the others being done)
 * @err:		Error buffer of @errlen bytes
 * @errlen:		Size of @err
 *
 * Return: 0, -ECANCELED after SIGINT/SIGTERM, or the negative errno of the step that failed
 * (the message names the slot, and the iteration or setup); every slot that was set up is torn
 * down on every path
 */
int run_slots(const struct perf_test_ops *ops, struct run_slot *slots, size_t n,
              enum run_order order, const struct run_checkpoint *first_kept, char *err,
              size_t errlen);

/* run_order_name() - What --order and a report's config.order call @order */
const char *run_order_name(enum run_order order);

#endif /* BURETTE_LOOP_H */
