/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of run_slots() (harness/run/loop.c) with a test of its own making: no guest, only
 * a log of which slot ran which part of which iteration. They pin the orders --order promises
 * (whole iterations taking turns, each part taking turns, one run after the other), the
 * rotation of the turns from round to round, the kept samples and turn positions each report
 * receives, teardown after a failure in the middle of a round, and the checkpoint once every
 * report has a kept iteration (where `burette run` refuses a --gate that matches nothing).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errbuf.h"
#include "loop.h"
#include "progress.h"
#include "report.h"

#define PARTS 3

/* What the fake test did, in order: "A1.0" is slot A, iteration 1 (warmups "w1"), part 0. */
static char trail[4096];
static int fail_at_call; /* the run_part() call (1-based) that fails, 0: none */
static int calls, torn_down;

struct fake_state {
    const char *label;
};

static int fake_setup(const struct perf_ctx *ctx, void **state, char *err, size_t errlen)
{
    struct fake_state *s = malloc(sizeof(*s));

    if (!s)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    /* the slot's label travels in its log directory, the one per-slot field a test sees */
    s->label = ctx->log_dir;
    *state = s;
    return 0;
}

static unsigned fake_parts(const struct perf_ctx *ctx)
{
    return PARTS;
}

static int fake_run_part(void *state, const struct perf_ctx *ctx, struct perf_iter *it,
                         unsigned part, char *err, size_t errlen)
{
    const struct fake_state *s = state;
    size_t used = strlen(trail);

    if (++calls == fail_at_call)
        return errbuf_set(err, errlen, -EIO, "part %u broke", part);
    snprintf(trail + used, sizeof(trail) - used, "%s%s%s%u.%u", used ? " " : "", s->label,
             it->warmup ? "w" : "", it->number, part);
    return perf_emit(it, "fake_per_s", "ops/s", 100.0 * it->number + part, err, errlen);
}

static void fake_teardown(void *state)
{
    torn_down++;
    free(state);
}

static const struct perf_test_ops fake_ops = {
    .name = "fake",
    .setup = fake_setup,
    .parts = fake_parts,
    .run_part = fake_run_part,
    .teardown = fake_teardown,
};

struct fixture {
    struct run_options opts;
    struct run_slot slots[2];
};

static int setup(void **state)
{
    static const char *const labels[] = {"A", "B"};
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->opts.iterations = 2;
    f->opts.warmup = 1;
    for (size_t j = 0; j < 2; j++) {
        f->slots[j].label = labels[j];
        f->slots[j].spec = labels[j];
        f->slots[j].ctx.opts = &f->opts;
        f->slots[j].ctx.log_dir = labels[j];
        f->slots[j].report = report_new();
        f->slots[j].positions = json_array();
        assert_non_null(f->slots[j].report);
    }
    trail[0] = '\0';
    fail_at_call = calls = torn_down = 0;
    progress_init(true);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    for (size_t j = 0; j < 2; j++) {
        report_free(f->slots[j].report);
        json_decref(f->slots[j].positions);
    }
    free(f);
    return 0;
}

static void run_ok(struct fixture *f, enum run_order order)
{
    char err[ERRBUF_LEN] = "";

    if (run_slots(&fake_ops, f->slots, 2, order, NULL, err, sizeof(err)))
        fail_msg("run_slots: %s", err);
    assert_int_equal(torn_down, 2);
}

/* Slot @j's kept samples and turn positions, as "101 102 ..." and "0 1". */
static void assert_kept(const struct run_slot *s, const char *samples, const char *positions)
{
    const struct metric *m = report_find_metric(s->report, "fake_per_s");
    char got[256] = "";

    assert_non_null(m);
    for (size_t i = 0; i < m->nsamples; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%g", i ? " " : "", m->samples[i]);
    assert_string_equal(got, samples);
    got[0] = '\0';
    for (size_t i = 0; i < json_array_size(s->positions); i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%lld", i ? " " : "",
                 (long long)json_integer_value(json_array_get(s->positions, i)));
    assert_string_equal(got, positions);
}

static void test_interleaved_runs_whole_iterations_in_rotating_turns(void **state)
{
    struct fixture *f = *state;

    run_ok(f, RUN_ORDER_INTERLEAVED);
    assert_string_equal(trail, "Aw1.0 Aw1.1 Aw1.2 Bw1.0 Bw1.1 Bw1.2 "
                               "B1.0 B1.1 B1.2 A1.0 A1.1 A1.2 "
                               "A2.0 A2.1 A2.2 B2.0 B2.1 B2.2");
    assert_kept(&f->slots[0], "100 101 102 200 201 202", "1 0");
    assert_kept(&f->slots[1], "100 101 102 200 201 202", "0 1");
}

static void test_by_part_gives_each_part_its_turn(void **state)
{
    struct fixture *f = *state;

    run_ok(f, RUN_ORDER_BY_PART);
    assert_string_equal(trail, "Aw1.0 Bw1.0 Aw1.1 Bw1.1 Aw1.2 Bw1.2 "
                               "B1.0 A1.0 B1.1 A1.1 B1.2 A1.2 "
                               "A2.0 B2.0 A2.1 B2.1 A2.2 B2.2");
    /* the same samples and positions as by iteration: only the time between them changed */
    assert_kept(&f->slots[0], "100 101 102 200 201 202", "1 0");
    assert_kept(&f->slots[1], "100 101 102 200 201 202", "0 1");
}

static void test_sequential_runs_one_slot_after_the_other(void **state)
{
    struct fixture *f = *state;

    run_ok(f, RUN_ORDER_SEQUENTIAL);
    assert_string_equal(trail, "Aw1.0 Aw1.1 Aw1.2 A1.0 A1.1 A1.2 A2.0 A2.1 A2.2 "
                               "Bw1.0 Bw1.1 Bw1.2 B1.0 B1.1 B1.2 B2.0 B2.1 B2.2");
}

/* A part that fails mid-round ends the run there, names the slot and the iteration, and
 * tears every slot down. */
static void test_failure_by_part_stops_the_round_and_tears_down(void **state)
{
    struct fixture *f = *state;
    char err[ERRBUF_LEN] = "";

    fail_at_call = 9; /* round 1 (B first): B1.0, A1.0, then B1.1 fails */
    assert_int_equal(run_slots(&fake_ops, f->slots, 2, RUN_ORDER_BY_PART, NULL, err, sizeof(err)),
                     -EIO);
    assert_string_equal(trail, "Aw1.0 Bw1.0 Aw1.1 Bw1.1 Aw1.2 Bw1.2 B1.0 A1.0");
    assert_non_null(strstr(err, "B: fake iteration 1/2: part 1 broke"));
    assert_int_equal(torn_down, 2);
}

/* What the checkpoint saw: the trail then, each report's kept samples, how often it ran. */
struct seen {
    char trail[sizeof(trail)];
    size_t samples[2];
    int calls, rc;
};

static int note_checkpoint(void *arg, const struct run_slot *slots, size_t n, char *err,
                           size_t errlen)
{
    struct seen *seen = arg;

    assert_int_equal(n, 2);
    seen->calls++;
    snprintf(seen->trail, sizeof(seen->trail), "%s", trail);
    for (size_t j = 0; j < n; j++)
        seen->samples[j] = report_find_metric(slots[j].report, "fake_per_s")->nsamples;
    return seen->rc ? errbuf_set(err, errlen, seen->rc, "checkpoint refused") : 0;
}

static void run_with_checkpoint(struct fixture *f, enum run_order order, struct seen *seen)
{
    const struct run_checkpoint cp = {.check = note_checkpoint, .arg = seen};
    char err[ERRBUF_LEN] = "";

    assert_int_equal(run_slots(&fake_ops, f->slots, 2, order, &cp, err, sizeof(err)), seen->rc);
    if (seen->rc)
        assert_non_null(strstr(err, "checkpoint refused"));
    assert_int_equal(torn_down, 2);
    assert_int_equal(seen->calls, 1);
}

/* The checkpoint in @order came after @expected, each report then holding @kept0 and @kept1
 * samples. */
static void assert_checkpoint_after(struct fixture *f, enum run_order order, const char *expected,
                                    size_t kept0, size_t kept1)
{
    struct seen seen = {0};

    run_with_checkpoint(f, order, &seen);
    assert_string_equal(seen.trail, expected);
    assert_int_equal(seen.samples[0], kept0);
    assert_int_equal(seen.samples[1], kept1);
}

/* Interleaved, the checkpoint comes after the first kept round: one kept part set per run. */
static void test_checkpoint_after_the_first_kept_round(void **state)
{
    assert_checkpoint_after(*state, RUN_ORDER_INTERLEAVED,
                            "Aw1.0 Aw1.1 Aw1.2 Bw1.0 Bw1.1 Bw1.2 B1.0 B1.1 B1.2 A1.0 A1.1 A1.2",
                            PARTS, PARTS);
}

/* Sequential, not before the last run has its first kept iteration: B's report is empty
 * until then, and a metric only B records must count. */
static void test_checkpoint_waits_for_the_last_sequential_run(void **state)
{
    assert_checkpoint_after(*state, RUN_ORDER_SEQUENTIAL,
                            "Aw1.0 Aw1.1 Aw1.2 A1.0 A1.1 A1.2 A2.0 A2.1 A2.2 "
                            "Bw1.0 Bw1.1 Bw1.2 B1.0 B1.1 B1.2",
                            2 * PARTS, PARTS);
}

/* A checkpoint that refuses ends the run there, every slot torn down. */
static void test_refusing_checkpoint_stops_the_run(void **state)
{
    struct fixture *f = *state;
    struct seen seen = {.rc = -EINVAL};

    run_with_checkpoint(f, RUN_ORDER_BY_PART, &seen);
    assert_string_equal(trail, seen.trail); /* nothing ran after it */
    assert_string_equal(trail, "Aw1.0 Bw1.0 Aw1.1 Bw1.1 Aw1.2 Bw1.2 B1.0 A1.0 B1.1 A1.1 B1.2 A1.2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_interleaved_runs_whole_iterations_in_rotating_turns,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_by_part_gives_each_part_its_turn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequential_runs_one_slot_after_the_other, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failure_by_part_stops_the_round_and_tears_down, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_after_the_first_kept_round, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_waits_for_the_last_sequential_run, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refusing_checkpoint_stops_the_run, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
