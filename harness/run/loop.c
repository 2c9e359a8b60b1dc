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

/**
 * run_turn() - Iteration @i (0-based over warmup + kept) of slot @s
 * @it:	Receives the iteration, its figures for the progress line
 * Return: 0, -ECANCELED, or the negative errno of run_once() (message names the iteration)
 */
static int run_turn(const struct perf_test_ops *ops, struct run_slot *s, unsigned i,
                    struct perf_iter *it, char *err, size_t errlen)
{
    unsigned warmup = s->ctx.opts->warmup, kept = s->ctx.opts->iterations;
    unsigned k, of;
    int rc;

    *it = (struct perf_iter){.index = i, .warmup = i < warmup, .report = s->report};
    k = it->warmup ? i + 1 : i - warmup + 1;
    of = it->warmup ? warmup : kept;
    if (proc_cancelled())
        return errbuf_set(err, errlen, -ECANCELED, "interrupted");
    snprintf(it->name, sizeof(it->name), "%s-%s%u", ops->name, it->warmup ? "warmup" : "", k);
    if (s->label) /* with several runs, which one has the machine now */
        progress_phase("%s: %s %u/%u", s->label, it->warmup ? "warmup" : "iteration", k, of);
    rc = ops->run_once(s->state, &s->ctx, it, err, errlen);
    if (rc && rc != -ECANCELED) {
        errbuf_prefix(err, errlen, "%s %s %u/%u", ops->name, it->warmup ? "warmup" : "iteration", k,
                      of);
        prefix_label(s, err, errlen);
    }
    return rc;
}

/**
 * run_group() - Set up @slots, run every iteration of each in turn, tear them all down
 * Return: 0, or the negative errno of the first step that failed
 */
static int run_group(const struct perf_test_ops *ops, struct run_slot *slots, size_t n, char *err,
                     size_t errlen)
{
    const struct run_options *o = slots[0].ctx.opts;
    unsigned total = o->warmup + o->iterations;
    size_t turns = (size_t)total * n, done = 0;
    long long started;
    int rc = setup_all(ops, slots, n, err, errlen);

    if (rc)
        goto out;
    if (n > 1)
        progress_phase("interleaved: %u warmup + %u iterations, each over %zu runs", o->warmup,
                       o->iterations, n);
    else
        progress_phase("%s: %u warmup + %u iterations", slot_name(ops, slots), o->warmup,
                       o->iterations);
    started = clock_now_ms();
    for (unsigned i = 0; i < total; i++) {
        for (size_t j = 0; j < n; j++) {
            struct perf_iter it;
            double per_turn_s;

            rc = run_turn(ops, &slots[j], i, &it, err, errlen);
            if (rc)
                goto out;
            done++;
            per_turn_s = (double)(clock_now_ms() - started) / 1000.0 / (double)done;
            progress_iteration(slot_name(ops, &slots[j]), it.warmup ? i + 1 : i - o->warmup + 1,
                               it.warmup ? o->warmup : o->iterations, it.warmup, it.figures,
                               per_turn_s * (double)(turns - done));
        }
    }
out:
    teardown_all(ops, slots, n);
    return rc;
}

int run_slots(const struct perf_test_ops *ops, struct run_slot *slots, size_t n, bool interleaved,
              char *err, size_t errlen)
{
    /* Sequential is a group of one slot after another: the same loop, narrower. */
    size_t group = interleaved ? n : 1;

    for (size_t first = 0; first < n; first += group) {
        int rc;

        if (!interleaved && n > 1)
            progress_phase("%s: run %zu/%zu (%s)", slots[first].label, first + 1, n,
                           slots[first].spec);
        rc = run_group(ops, slots + first, group, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}
