/* SPDX-License-Identifier: MIT */
/* perf_test - the iteration loop every test runs under; see perf_test.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "perf_test.h"
#include "proc.h"
#include "progress.h"
#include "report.h"

int perf_emit(struct perf_iter *it, const char *metric, const char *unit, double value, char *err,
              size_t errlen)
{
    size_t used = strlen(it->figures);

    /* Whole numbers for large figures (2710 ms), four significant digits for small (1.532). */
    snprintf(it->figures + used, sizeof(it->figures) - used,
             fabs(value) >= 1000 ? "%s%s %.0f %s" : "%s%s %.4g %s", used ? ", " : "", metric, value,
             unit);
    if (it->warmup || !it->report)
        return 0;
    return report_add_sample(it->report, metric, unit, value, err, errlen);
}

int run_warm_test(const struct perf_test_ops *ops, const struct perf_ctx *ctx,
                  struct report *report, char *err, size_t errlen)
{
    unsigned warmup = ctx->opts->warmup, kept = ctx->opts->iterations;
    unsigned total = warmup + kept;
    long long started;
    void *state = NULL;
    int rc;

    progress_phase("%s: setting up", ops->name);
    rc = ops->setup(ctx, &state, err, errlen);
    if (rc) {
        errbuf_prefix(err, errlen, "%s: setup", ops->name);
        return rc;
    }
    progress_phase("%s: %u warmup + %u iterations", ops->name, warmup, kept);
    started = proc_now_ms();
    for (unsigned i = 0; i < total; i++) {
        struct perf_iter it = {.index = i, .warmup = i < warmup, .report = report};
        unsigned k = it.warmup ? i + 1 : i - warmup + 1;
        unsigned of = it.warmup ? warmup : kept;

        if (proc_cancelled()) {
            rc = errbuf_set(err, errlen, -ECANCELED, "interrupted");
            break;
        }
        snprintf(it.name, sizeof(it.name), "%s-%s%u", ops->name, it.warmup ? "warmup" : "", k);
        rc = ops->run_once(state, ctx, &it, err, errlen);
        if (rc) {
            if (rc != -ECANCELED)
                errbuf_prefix(err, errlen, "%s %s %u/%u", ops->name,
                              it.warmup ? "warmup" : "iteration", k, of);
            break;
        }
        double per = (double)(proc_now_ms() - started) / 1000.0 / (i + 1);
        progress_iteration(ops->name, k, of, it.warmup, it.figures, per * (total - i - 1));
    }
    progress_phase("%s: tearing down", ops->name);
    ops->teardown(state);
    return rc;
}
