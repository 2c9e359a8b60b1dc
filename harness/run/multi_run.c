/* SPDX-License-Identifier: MIT */
/*
 * multi_run - several backends or variants in one `burette run`; see multi_run.h
 *
 * Theory of operation. Each run (a "slot") has its own copy of the options with its variant
 * applied, its own log directory LOG_DIR/LABEL (console logs, raw iperf3 JSON, consomme's
 * counters never mix), and its own report. Interleaved, every slot's test is set up first —
 * each network test has its own helper, backend and guest, so nothing is shared and all VMs
 * can be up at once — then iteration i runs on A, B, C... before iteration i + 1 starts on
 * any: a machine whose speed drifts during the run shifts every variant alike instead of
 * favouring the one that ran first. Warmup iterations are interleaved and discarded the same
 * way. Only one sub-test runs at any moment, so the slots never compete for the CPU or for
 * the iperf3 port. When the guests would not all fit in the memory available, the runs are
 * sequential instead (each one whole: setup, iterations, teardown), and the config says so.
 *
 * Every report's config records its label, its variant as written, the order ("interleaved"
 * or "sequential") and the sequence of labels in which the runs took turns.
 *
 * Invariant: whatever fails in any slot, and on SIGINT/SIGTERM, every slot that was set up is
 * torn down (guest, backend, helper and their processes) before the exit status is returned,
 * and no report is written.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accel.h"
#include "backend.h"
#include "compare.h"
#include "errbuf.h"
#include "image.h"
#include "multi_run.h"
#include "perf_test.h"
#include "proc.h"
#include "progress.h"
#include "render.h"
#include "report.h"

/* What a guest costs beyond its RAM (QEMU itself, TCG's translation cache), in MiB. */
#define VM_OVERHEAD_MB 256

struct slot {
    const struct variant *v;
    struct run_options opts;
    struct perf_ctx ctx;
    char log_dir[PATH_MAX];
    char perf_dir[PATH_MAX]; /* --perf-dir DIR/LABEL: profiles of two runs never collide */
    struct report *report;
    void *state;
    bool up;
};

int multi_options_finish(struct multi_options *m, const struct run_options *o, char *err,
                         size_t errlen)
{
    int rc;

    m->runs.n = 0;
    if (m->backend_given || !m->variants.n) {
        rc = variant_list_add_backends(&m->runs, o->backend, err, errlen);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < m->variants.n; i++) {
        rc = variant_list_add(&m->runs, &m->variants.v[i], err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

bool multi_run_wanted(const struct multi_options *m)
{
    return m->runs.n > 1 || m->variants.n > 0;
}

json_t *multi_runs_json(const struct multi_options *m, const struct run_options *o)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < m->runs.n; i++) {
        struct run_options ro = *o;
        const struct variant *v = &m->runs.v[i];
        json_t *r;

        variant_apply(v, &ro);
        r = json_pack("{s:s, s:s, s:s}", "label", v->label, "variant", v->spec, "backend",
                      v->backend);
        if (r && backend_options_to_json(r, &ro.backend_options, ro.backend)) {
            json_decref(r);
            r = NULL;
        }
        if (json_array_append_new(a, r)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* MemAvailable in MiB, 0 when unknown (then interleaving is not refused). */
static unsigned long long mem_available_mb(void)
{
    FILE *f = fopen("/proc/meminfo", "re");
    char line[256];
    unsigned long long kb = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return kb / 1024;
}

static json_t *slot_config(const struct slot *s, const struct slot *slots, size_t n,
                           enum accel accel, enum run_order order)
{
    json_t *c = run_options_to_json(&s->opts), *seq = json_array();

    if (!c || !seq)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(seq, json_string(slots[i].v->label)))
            goto fail;
    if (json_object_set_new(c, "accel", json_string(accel_name(accel))) ||
        json_object_set_new(c, "label", json_string(s->v->label)) ||
        json_object_set_new(c, "variant", json_string(s->v->spec)) ||
        json_object_set_new(
            c, "order",
            json_string(order == RUN_ORDER_INTERLEAVED ? "interleaved" : "sequential")) ||
        json_object_set_new(c, "sequence", seq))
        goto fail_c;
    return c;
fail:
    json_decref(seq);
fail_c:
    json_decref(c);
    return NULL;
}

static void teardown_all(const struct perf_test_ops *ops, struct slot *slots, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        if (!slots[i].up)
            continue;
        progress_phase("%s: tearing down", slots[i].v->label);
        ops->teardown(slots[i].state);
        slots[i].state = NULL;
        slots[i].up = false;
    }
}

/* Every slot up at once, then iteration i of each in turn. Tears everything down. */
static int run_interleaved(const struct perf_test_ops *ops, struct slot *slots, size_t n,
                           const struct run_options *o, char *err, size_t errlen)
{
    unsigned total = o->warmup + o->iterations, done = 0;
    long long started;
    int rc = 0;

    for (size_t j = 0; j < n; j++) {
        if (proc_cancelled()) {
            rc = errbuf_set(err, errlen, -ECANCELED, "interrupted");
            goto out;
        }
        progress_phase("%s: setting up %s (%zu/%zu)", slots[j].v->label, slots[j].v->spec, j + 1,
                       n);
        rc = ops->setup(&slots[j].ctx, &slots[j].state, err, errlen);
        if (rc) {
            if (rc != -ECANCELED)
                errbuf_prefix(err, errlen, "%s: %s: setup", slots[j].v->label, ops->name);
            goto out;
        }
        slots[j].up = true;
    }
    progress_phase("interleaved: %u warmup + %u iterations, each over %zu runs", o->warmup,
                   o->iterations, n);
    started = proc_now_ms();
    for (unsigned i = 0; i < total; i++) {
        bool warmup = i < o->warmup;
        unsigned k = warmup ? i + 1 : i - o->warmup + 1;
        unsigned of = warmup ? o->warmup : o->iterations;

        for (size_t j = 0; j < n; j++) {
            struct perf_iter it = {.index = i, .warmup = warmup, .report = slots[j].report};
            double per;

            if (proc_cancelled()) {
                rc = errbuf_set(err, errlen, -ECANCELED, "interrupted");
                goto out;
            }
            snprintf(it.name, sizeof(it.name), "%s-%s%u", ops->name, warmup ? "warmup" : "", k);
            progress_phase("%s: %s %u/%u", slots[j].v->label, warmup ? "warmup" : "iteration", k,
                           of);
            rc = ops->run_once(slots[j].state, &slots[j].ctx, &it, err, errlen);
            if (rc) {
                if (rc != -ECANCELED)
                    errbuf_prefix(err, errlen, "%s: %s %s %u/%u", slots[j].v->label, ops->name,
                                  warmup ? "warmup" : "iteration", k, of);
                goto out;
            }
            done++;
            per = (double)(proc_now_ms() - started) / 1000.0 / done;
            progress_iteration(slots[j].v->label, k, of, warmup, it.figures,
                               per * (double)(total * n - done));
        }
    }
out:
    teardown_all(ops, slots, n);
    return rc;
}

/* Each run whole, one after the other, under the ordinary loop. */
static int run_sequential(const struct perf_test_ops *ops, struct slot *slots, size_t n, char *err,
                          size_t errlen)
{
    for (size_t j = 0; j < n; j++) {
        int rc;

        if (proc_cancelled())
            return errbuf_set(err, errlen, -ECANCELED, "interrupted");
        progress_phase("%s: run %zu/%zu (%s)", slots[j].v->label, j + 1, n, slots[j].v->spec);
        rc = run_warm_test(ops, &slots[j].ctx, slots[j].report, err, errlen);
        if (rc) {
            if (rc != -ECANCELED)
                errbuf_prefix(err, errlen, "%s", slots[j].v->label);
            return rc;
        }
    }
    return 0;
}

/* -o DIR with several runs: the directory (and its parents) is made here and must be one. */
static int prepare_output_dir(const char *dir, char *err, size_t errlen)
{
    char made[PATH_MAX];
    struct stat st;
    int rc = run_prepare_log_dir(dir, made, sizeof(made), err, errlen);

    if (rc)
        return errbuf_set(err, errlen, rc,
                          "-o %s: cannot create the report directory: %s (with several runs, "
                          "-o names a directory that gets one LABEL.json per run)",
                          dir, strerror(-rc));
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return errbuf_set(err, errlen, -ENOTDIR,
                          "-o %s: not a directory (with several runs, -o names a directory that "
                          "gets one LABEL.json per run)",
                          dir);
    return 0;
}

/* Write every report, then print the comparison (several runs) or the summary (one). */
static int finish(const struct run_options *o, struct slot *slots, size_t n, size_t *regressed,
                  char *err, size_t errlen)
{
    const struct report *reports[VARIANT_MAX];
    struct comparison *cmp = NULL;
    const char *format = o->format ? o->format : "text";
    int rc = 0;

    *regressed = 0;
    for (size_t j = 0; j < n; j++) {
        char path[PATH_MAX];

        reports[j] = slots[j].report;
        if (!o->output)
            continue;
        if (n == 1)
            snprintf(path, sizeof(path), "%s", o->output);
        else if (snprintf(path, sizeof(path), "%s/%s.json", o->output, slots[j].v->label) >=
                 (int)sizeof(path))
            return errbuf_set(err, errlen, -ENAMETOOLONG, "-o %s: path too long", o->output);
        rc = report_write(slots[j].report, path, err, errlen);
        if (rc)
            return rc;
        progress_note("%s: report written to %s", slots[j].v->label, path);
    }
    if (n == 1)
        return render_reports(format, stdout, reports, 1, err, errlen);
    rc = compare_reports(reports[0], reports + 1, n - 1, NULL, &cmp, err, errlen);
    if (rc)
        return rc;
    rc = render_comparison(format, stdout, cmp, err, errlen);
    *regressed = cmp->regressed;
    comparison_free(cmp);
    return rc;
}

int multi_run_main(const struct run_options *o, const struct multi_options *m)
{
    const struct perf_test_ops *ops = &network_test_ops;
    const size_t n = m->runs.n;
    struct guest_image image;
    struct slot slots[VARIANT_MAX] = {0};
    enum accel accel;
    enum run_order order = n > 1 ? m->order : RUN_ORDER_SEQUENTIAL;
    char err[ERRBUF_LEN], log_root[PATH_MAX], perf_root[PATH_MAX], names[128];
    unsigned hello_timeout_ms = 0;
    size_t regressed = 0;
    int rc, status = 1;

    progress_init(o->quiet);
    rc = proc_signals_init();
    if (rc) {
        fprintf(stderr, "burette: cannot install signal handlers: %s\n", strerror(-rc));
        return 1;
    }
    if (strcmp(o->test, ops->name)) {
        fprintf(stderr,
                "burette: --test %s: several backends or --variant apply to --test %s only "
                "(the %s test always uses its own backend)\n",
                o->test, ops->name, o->test);
        return 2;
    }
    for (size_t j = 0; j < n; j++)
        if (!backend_find(m->runs.v[j].backend)) {
            fprintf(stderr,
                    "burette: %s: backend '%s' is not available in this build "
                    "(available: %s)\n",
                    m->runs.v[j].label, m->runs.v[j].backend, backend_names(names, sizeof(names)));
            return 2;
        }
    if (o->output && n > 1) {
        rc = prepare_output_dir(o->output, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "burette: %s\n", err);
            return 2;
        }
    }
    status = run_prepare_guest(o, &hello_timeout_ms, &accel, &image);
    if (status)
        return status;
    status = 1;
    rc = run_prepare_log_dir(o->log_dir, log_root, sizeof(log_root), err, sizeof(err));
    if (rc)
        goto fail;
    progress_note("logs in %s/LABEL", log_root);
    if (o->perf_dir) {
        rc = run_prepare_log_dir(o->perf_dir, perf_root, sizeof(perf_root), err, sizeof(err));
        if (rc)
            goto fail;
    }

    if (order == RUN_ORDER_INTERLEAVED) {
        unsigned long long avail = mem_available_mb();
        unsigned long long need = (unsigned long long)n * (o->mem_mb + VM_OVERHEAD_MB);

        if (avail && need > avail) {
            progress_note("%zu guests of %u MiB need about %llu MiB, %llu MiB available: "
                          "running them one after the other instead of interleaved",
                          n, o->mem_mb, need, avail);
            order = RUN_ORDER_SEQUENTIAL;
        }
    }

    for (size_t j = 0; j < n; j++) {
        struct slot *s = &slots[j];
        char dir[PATH_MAX];

        s->v = &m->runs.v[j];
        s->opts = *o;
        variant_apply(s->v, &s->opts);
        if (snprintf(dir, sizeof(dir), "%s/%s", log_root, s->v->label) >= (int)sizeof(dir)) {
            rc = errbuf_set(err, sizeof(err), -ENAMETOOLONG, "log directory path too long");
            goto fail;
        }
        rc = run_prepare_log_dir(dir, s->log_dir, sizeof(s->log_dir), err, sizeof(err));
        if (rc)
            goto fail;
        if (o->perf_dir) {
            if (snprintf(s->perf_dir, sizeof(s->perf_dir), "%s/%s", perf_root, s->v->label) >=
                (int)sizeof(s->perf_dir)) {
                rc = errbuf_set(err, sizeof(err), -ENAMETOOLONG, "--perf-dir path too long");
                goto fail;
            }
            s->opts.perf_dir = s->perf_dir;
        }
        s->ctx = (struct perf_ctx){
            .opts = &s->opts,
            .accel = accel,
            .image = &image,
            .log_dir = s->log_dir,
            .hello_timeout_ms = hello_timeout_ms,
        };
        s->report = report_new();
        if (!s->report || report_set_label(s->report, s->v->label)) {
            rc = errbuf_set(err, sizeof(err), -ENOMEM, "out of memory");
            goto fail;
        }
    }
    for (size_t j = 0; j < n; j++) {
        json_t *c = slot_config(&slots[j], slots, n, accel, order);

        if (!c) {
            rc = errbuf_set(err, sizeof(err), -ENOMEM, "out of memory");
            goto fail;
        }
        report_set_config(slots[j].report, c);
    }

    if (order == RUN_ORDER_INTERLEAVED)
        rc = run_interleaved(ops, slots, n, o, err, sizeof(err));
    else
        rc = run_sequential(ops, slots, n, err, sizeof(err));
    if (rc)
        goto fail;
    rc = finish(o, slots, n, &regressed, err, sizeof(err));
    if (rc)
        goto fail;
    status = 0;
    if (regressed && m->fail_on_regression) {
        fprintf(stderr,
                "burette: %zu metric%s regressed against the baseline %s "
                "(--fail-on-regression)\n",
                regressed, regressed == 1 ? "" : "s", slots[0].v->label);
        status = 1;
    }
    goto out;
fail:
    status = run_failure_status(rc, err, "every guest and child");
out:
    for (size_t j = 0; j < n; j++)
        report_free(slots[j].report);
    return status;
}
