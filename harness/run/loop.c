/* SPDX-License-Identifier: MIT */
/* loop - the one iteration loop over one or several runs; see loop.h. */
#include <errno.h>
#include <stdio.h>

#include "clock.h"
#include "errbuf.h"
#include "loop.h"
#include "proc.h"
#include "progress.h"

/* What messages call slot @s: its label, or the test's name for a plain run. */
static const char *slot_name(const struct perf_test_ops *ops, const struct run_slot *s)
{
    return s->label ? s->label : ops->name;
}

/* Prefix @err with the slot's label, when it has one (the test's name is in the message). */
static void prefix_label(const struct run_slot *s, char *err, size_t errlen)
{
    if (s->label)
        errbuf_prefix(err, errlen, "%s", s->label);
}

static void teardown_all(const struct perf_test_ops *ops, struct run_slot *slots, size_t n)
{
    for (size_t j = n; j-- > 0;) {
        if (!slots[j].up)
            continue;
        progress_phase("%s: tearing down", slot_name(ops, &slots[j]));
        if (ops->teardown)
            ops->teardown(slots[j].state);
        slots[j].state = NULL;
        slots[j].up = false;
    }
}

/**
 * setup_all() - Set up every slot of @slots, in order
 * Return: 0, or the negative errno of the first that failed (those before it stay up)
 */
static int setup_all(const struct perf_test_ops *ops, struct run_slot *slots, size_t n, char *err,
                     size_t errlen)
{
    for (size_t j = 0; j < n; j++) {
        struct run_slot *s = &slots[j];
        int rc;

        if (proc_cancelled())
            return errbuf_set(err, errlen, -ECANCELED, "interrupted");
        if (n > 1)
            progress_phase("%s: setting up %s (%zu/%zu)", s->label, s->spec, j + 1, n);
        else
            progress_phase("%s: setting up", slot_name(ops, s));
        rc = ops->setup(&s->ctx, &s->state, err, errlen);
        if (rc) {
            if (rc != -ECANCELED) {
                errbuf_prefix(err, errlen, "%s: setup", ops->name);
                prefix_label(s, err, errlen);
            }
            return rc;
        }
        s->up = true;
    }
    return 0;
}

/* Where one turn stands: which iteration of which kind, on which boot of the guest. */
struct turn {
    unsigned index; /* over every turn of a slot */
    bool warmup;
    unsigned number; /* 1-based among warmups or among kept iterations */
    unsigned of;
    unsigned instance; /* 1-based boot */
};

/* Slot @s's iteration @t begins: @s->it named, with no figures yet. */
static void begin_turn(const struct perf_test_ops *ops, struct run_slot *s, const struct turn *t)
{
    s->it = (struct perf_iter){.index = t->index,
                               .warmup = t->warmup,
                               .number = t->number,
                               .of = t->of,
                               .instance = t->instance,
                               .report = s->report};
    snprintf(s->it.name, sizeof(s->it.name), "%s-%s%u", ops->name, t->warmup ? "warmup" : "",
             t->number);
}

/**
 * run_part() - Part @part of slot @s's iteration in progress
 * Return: 0, -ECANCELED, or the negative errno of the test's run_part() (message names the
 * iteration)
 */
static int run_part(const struct perf_test_ops *ops, struct run_slot *s, unsigned part, char *err,
                    size_t errlen)
{
    const char *kind = s->it.warmup ? "warmup" : "iteration";
    int rc;

    if (proc_cancelled())
        return errbuf_set(err, errlen, -ECANCELED, "interrupted");
    if (s->label) /* with several runs, which one has the machine now */
        progress_phase("%s: %s %u/%u", s->label, kind, s->it.number, s->it.of);
    rc = ops->run_part(s->state, &s->ctx, &s->it, part, err, errlen);
    if (rc && rc != -ECANCELED) {
        errbuf_prefix(err, errlen, "%s %s %u/%u", ops->name, kind, s->it.number, s->it.of);
        prefix_label(s, err, errlen);
    }
    return rc;
}

/* Append @v to @arr (a slot's record of its kept iterations); NULL @arr records nothing. */
static int record(json_t *arr, unsigned v)
{
    return arr && json_array_append_new(arr, json_integer(v)) ? -ENOMEM : 0;
}

/* How far the rounds of a group are: for the ETA of the progress line. */
struct round_progress {
    size_t done, turns; /* slot iterations done, and in all */
    long long started;
};

/* Slot @s, at place @pos of the round, has done iteration @t: record it, show the figures. */
static int end_turn(const struct perf_test_ops *ops, struct run_slot *s, size_t pos,
                    const struct turn *t, struct round_progress *pr, char *err, size_t errlen)
{
    double per_turn_s;

    if (!t->warmup && (record(s->positions, (unsigned)pos) || record(s->instances, t->instance)))
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    pr->done++;
    per_turn_s = (double)(clock_now_ms() - pr->started) / 1000.0 / (double)pr->done;
    progress_iteration(slot_name(ops, s), t->number, t->of, t->warmup, s->it.figures,
                       per_turn_s * (double)(pr->turns - pr->done));
    return 0;
}

static unsigned parts_of(const struct perf_test_ops *ops, const struct run_slot *s)
{
    return ops->parts ? ops->parts(&s->ctx) : 1;
}

/* The slot at place @pos of round @round: the order rotates from one round to the next. */
static struct run_slot *slot_at(struct run_slot *slots, size_t n, unsigned round, size_t pos)
{
    return &slots[(pos + round) % n];
}

/* Each slot in turn does its whole iteration, and its figures are shown. */
static int round_by_iteration(const struct perf_test_ops *ops, struct run_slot *slots, size_t n,
                              unsigned round, const struct turn *t, struct round_progress *pr,
                              char *err, size_t errlen)
{
    for (size_t pos = 0; pos < n; pos++) {
        struct run_slot *s = slot_at(slots, n, round, pos);
        int rc = 0;

        for (unsigned part = 0; !rc && part < parts_of(ops, s); part++)
            rc = run_part(ops, s, part, err, errlen);
        if (!rc)
            rc = end_turn(ops, s, pos, t, pr, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

/* Part k of every slot in turn, then part k + 1; the figures once every slot is done. */
static int round_by_part(const struct perf_test_ops *ops, struct run_slot *slots, size_t n,
                         unsigned round, const struct turn *t, struct round_progress *pr, char *err,
                         size_t errlen)
{
    unsigned most = 0;
    int rc;

    for (size_t j = 0; j < n; j++)
        if (parts_of(ops, &slots[j]) > most)
            most = parts_of(ops, &slots[j]);
    for (unsigned part = 0; part < most; part++) {
        for (size_t pos = 0; pos < n; pos++) {
            struct run_slot *s = slot_at(slots, n, round, pos);

            if (part >= parts_of(ops, s))
                continue;
            rc = run_part(ops, s, part, err, errlen);
            if (rc)
                return rc;
        }
    }
    for (size_t pos = 0; pos < n; pos++) {
        rc = end_turn(ops, slot_at(slots, n, round, pos), pos, t, pr, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

/**
 * run_round() - One round: iteration @t of every slot, in the order of round @round
 *
 * The order rotates from one round to the next (slot r mod n first, then the next ones), so
 * with two runs A and B the rounds go AB, BA, AB...: drift is shared as before, and going first
 * (a guest fresh from waiting, caches cold) is shared too instead of always falling to A. By
 * iteration, each slot does its whole iteration in its turn; by part, every part takes turns
 * (A's first part, B's, A's second, B's, ...), so that the two samples of a pair are seconds
 * apart rather than a whole iteration.
 *
 * Return: 0, or the negative errno of the turn that failed
 */
static int run_round(const struct perf_test_ops *ops, struct run_slot *slots, size_t n,
                     enum run_order order, unsigned round, const struct turn *t,
                     struct round_progress *pr, char *err, size_t errlen)
{
    for (size_t j = 0; j < n; j++)
        begin_turn(ops, &slots[j], t);
    if (order == RUN_ORDER_BY_PART)
        return round_by_part(ops, slots, n, round, t, pr, err, errlen);
    return round_by_iteration(ops, slots, n, round, t, pr, err, errlen);
}

/* A checkpoint still to be called, and every slot of the run it is shown (the group running
 * may be one of them). */
struct pending_checkpoint {
    const struct run_checkpoint *cp; /* NULL: none, or already called */
    const struct run_slot *all;
    size_t n;
};

/* Call @pc's checkpoint, once: the caller has just ended a kept round of the last group. */
static int call_checkpoint(struct pending_checkpoint *pc, char *err, size_t errlen)
{
    const struct run_checkpoint *cp = pc->cp;

    if (!cp)
        return 0;
    pc->cp = NULL;
    return cp->check(cp->arg, pc->all, pc->n, err, errlen);
}

/**
 * run_group() - Set up @slots, run every iteration of each in turn, tear them all down
 *
 * With --vm-instances K the kept iterations are split into K consecutive blocks, and before
 * each block after the first every guest is torn down and set up again: whatever one boot
 * happens to get (memory placement, which core the vCPUs settle on) is then spread over the
 * samples instead of being confounded with the run. Each boot gets the warmups again.
 *
 * Return: 0, or the negative errno of the first step that failed
 */
static int run_group(const struct perf_test_ops *ops, struct run_slot *slots, size_t n,
                     enum run_order order, struct pending_checkpoint *pc, char *err, size_t errlen)
{
    const struct run_options *o = slots[0].ctx.opts;
    unsigned instances = o->vm_instances ? o->vm_instances : 1, round = 0;
    struct round_progress pr = {.turns = ((size_t)instances * o->warmup + o->iterations) * n};
    int rc = setup_all(ops, slots, n, err, errlen);

    if (rc)
        goto out;
    if (n > 1)
        progress_phase("interleaved %s: %u warmup + %u iterations, each over %zu runs",
                       order == RUN_ORDER_BY_PART ? "by sub-test" : "by iteration", o->warmup,
                       o->iterations, n);
    else
        progress_phase("%s: %u warmup + %u iterations", slot_name(ops, slots), o->warmup,
                       o->iterations);
    pr.started = clock_now_ms();
    for (unsigned b = 0; b < instances; b++) {
        unsigned first = o->iterations * b / instances, last = o->iterations * (b + 1) / instances;

        if (b > 0) {
            progress_phase("booting every guest again: VM instance %u/%u", b + 1, instances);
            teardown_all(ops, slots, n);
            rc = setup_all(ops, slots, n, err, errlen);
            if (rc)
                goto out;
        }
        for (unsigned step = 0; step < o->warmup + (last - first); step++, round++) {
            bool warmup = step < o->warmup;
            const struct turn t = {
                .index = round,
                .warmup = warmup,
                .number = warmup ? b * o->warmup + step + 1 : first + step - o->warmup + 1,
                .of = warmup ? instances * o->warmup : o->iterations,
                .instance = b + 1,
            };

            rc = run_round(ops, slots, n, order, round, &t, &pr, err, errlen);
            if (!rc && !warmup)
                rc = call_checkpoint(pc, err, errlen);
            if (rc)
                goto out;
        }
    }
out:
    teardown_all(ops, slots, n);
    return rc;
}

const char *run_order_name(enum run_order order)
{
    static const char *const names[] = {
        [RUN_ORDER_INTERLEAVED] = "interleaved",
        [RUN_ORDER_BY_PART] = "subtests",
        [RUN_ORDER_SEQUENTIAL] = "sequential",
    };

    return names[order];
}

int run_slots(const struct perf_test_ops *ops, struct run_slot *slots, size_t n,
              enum run_order order, const struct run_checkpoint *first_kept, char *err,
              size_t errlen)
{
    /* Sequential is a group of one slot after another: the same loop, narrower. */
    size_t group = order == RUN_ORDER_SEQUENTIAL ? 1 : n;

    for (size_t first = 0; first < n; first += group) {
        /* only the last group's first kept round sees a kept iteration in every report */
        struct pending_checkpoint pc = {
            .cp = first + group >= n ? first_kept : NULL, .all = slots, .n = n};
        int rc;

        if (order == RUN_ORDER_SEQUENTIAL && n > 1)
            progress_phase("%s: run %zu/%zu (%s)", slots[first].label, first + 1, n,
                           slots[first].spec);
        rc = run_group(ops, slots + first, group, order, &pc, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}
