/* SPDX-License-Identifier: MIT */
/*
 * run - `burette run` after option parsing: resolve the accelerator, image and log directory,
 * run the chosen test under the generic loop (perf_test.h), write the report, print a summary.
 *
 * Exit status: 0 success, 1 the run failed, 2 bad input found late, 128 + signal when SIGINT
 * or SIGTERM stopped it (after the guest and every child were stopped and reaped).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "accel.h"
#include "backend.h"
#include "errbuf.h"
#include "image.h"
#include "parse.h"
#include "perf_test.h"
#include "proc.h"
#include "progress.h"
#include "render.h"
#include "report.h"
#include "run.h"

/* Every test `burette run --test` knows: one row each. */
static const struct perf_test_ops *const tests[] = {
    &boot_test_ops,
    &network_test_ops,
};

static const struct perf_test_ops *find_test(const char *name)
{
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
        if (!strcmp(tests[i]->name, name))
            return tests[i];
    return NULL;
}

int run_prepare_log_dir(const char *dir, char *out, size_t outlen, char *err, size_t errlen)
{
    if (!dir) {
        const char *tmp = getenv("TMPDIR");
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
        if (snprintf(out, outlen, "%s/burette-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", stamp) >=
            (int)outlen)
            return errbuf_set(err, errlen, -ENAMETOOLONG, "TMPDIR path too long");
        if (!mkdtemp(out))
            return errbuf_set(err, errlen, -errno, "cannot create a log directory %s: %s", out,
                              strerror(errno));
        return 0;
    }
    if (snprintf(out, outlen, "%s", dir) >= (int)outlen)
        return errbuf_set(err, errlen, -ENAMETOOLONG, "--log-dir path too long");
    for (char *p = out + 1;; p++) {
        bool end = !*p;

        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (mkdir(out, 0755) < 0 && errno != EEXIST) {
            int e = errno;
            return errbuf_set(err, errlen, -e, "cannot create the log directory %s: %s", out,
                              strerror(e));
        }
        if (end)
            break;
        *p = '/';
    }
    return 0;
}

/* The options' config object, refined with what this run really used. */
static json_t *config_json(const struct run_options *o, const struct perf_test_ops *ops,
                           enum accel accel)
{
    struct run_options used = *o;
    json_t *c;

    if (ops->fixed_backend)
        used.backend = ops->fixed_backend;
    c = run_options_to_json(&used);
    if (c)
        json_object_set_new(c, "accel", json_string(accel_name(accel)));
    return c;
}

json_t *run_options_to_json(const struct run_options *o)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "test",
                          o->test, "backend", o->backend, "nic", o->nic, "vmm", "qemu", "accel",
                          o->accel, "vcpus", (int)o->vcpus, "mem_mb", (int)o->mem_mb, "iterations",
                          (int)o->iterations, "warmup", (int)o->warmup, "duration_s",
                          (int)o->duration_s, "streams", (int)o->streams);

    if (j && backend_options_to_json(j, &o->backend_options, o->backend)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int run_failure_status(int rc, const char *err, const char *stopped)
{
    if (rc == -ECANCELED && proc_cancelled()) {
        fprintf(stderr, "burette: interrupted by %s; %s stopped\n", strsignal(proc_cancelled()),
                stopped);
        return 128 + proc_cancelled();
    }
    fprintf(stderr, "burette: %s\n", err);
    return 1;
}

int run_prepare_guest(const struct run_options *o, unsigned *hello_timeout_ms, enum accel *accel,
                      struct guest_image *image)
{
    const char *env = getenv("BURETTE_HELLO_TIMEOUT_S");
    char err[ERRBUF_LEN], notice[256];
    int rc;

    if (env && *env) {
        unsigned long long s;

        if (parse_uint(env, 1, 3600, &s)) {
            fprintf(stderr, "burette: BURETTE_HELLO_TIMEOUT_S='%s': expected seconds, 1..3600\n",
                    env);
            return 2;
        }
        *hello_timeout_ms = (unsigned)s * 1000;
    }
    rc = accel_resolve(o->accel, accel, notice, sizeof(notice), err, sizeof(err));
    if (rc) {
        fprintf(stderr, "burette: %s\n", err);
        return rc == -EINVAL ? 2 : 1;
    }
    if (notice[0])
        progress_note("%s", notice);
    progress_phase("checking the guest image");
    rc = image_find(image, NULL, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "burette: %s\n", err);
        return 1;
    }
    return 0;
}

int run_main(const struct run_options *opts)
{
    const struct perf_test_ops *ops;
    struct guest_image image;
    struct perf_ctx ctx = {.opts = opts, .image = &image};
    struct report *report = NULL;
    char err[ERRBUF_LEN], log_dir[PATH_MAX];
    int rc, status = 1;

    progress_init(opts->quiet);
    rc = proc_signals_init();
    if (rc) {
        fprintf(stderr, "burette: cannot install signal handlers: %s\n", strerror(-rc));
        return 1;
    }
    ops = find_test(opts->test);
    if (!ops) {
        fprintf(stderr, "burette: run: unknown test '%s' (this build knows:", opts->test);
        for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
            fprintf(stderr, " %s", tests[i]->name);
        fprintf(stderr, ")\n");
        return 2;
    }
    if (opts->perf_dir && !ops->records_profiles)
        progress_note("--perf-dir: the %s test records no profiles (the network test does); "
                      "ignored",
                      ops->name);
    status = run_prepare_guest(opts, &ctx.hello_timeout_ms, &ctx.accel, &image);
    if (status)
        return status;
    status = 1;
    rc = run_prepare_log_dir(opts->log_dir, log_dir, sizeof(log_dir), err, sizeof(err));
    if (rc)
        goto fail;
    ctx.log_dir = log_dir;
    progress_note("logs in %s", log_dir);

    report = report_new();
    if (!report) {
        rc = errbuf_set(err, sizeof(err), -ENOMEM, "out of memory");
        goto fail;
    }
    report_set_config(report, config_json(opts, ops, ctx.accel));

    rc = run_warm_test(ops, &ctx, report, err, sizeof(err));
    if (rc)
        goto fail;
    if (opts->output) {
        rc = report_write(report, opts->output, err, sizeof(err));
        if (rc)
            goto fail;
        progress_note("report written to %s", opts->output);
    }
    {
        const struct report *one = report;

        rc =
            render_reports(opts->format ? opts->format : "text", stdout, &one, 1, err, sizeof(err));
        if (rc)
            goto fail;
    }
    status = 0;
    goto out;
fail:
    status = run_failure_status(rc, err, "guest and children");
out:
    report_free(report);
    return status;
}
