/* SPDX-License-Identifier: MIT */
/*
 * run - `burette run` after option parsing, for a plain run and for several runs alike: resolve
 * the test, accelerator, image and log directories, make one slot per run (loop.h), run them
 * under the one loop, write the reports, print a summary or a comparison.
 *
 * Theory of operation. A plain run is one slot without a label: its log directory, profile
 * directory and report path are the ones given, and its config records no label. Several runs
 * (multi_run.h) are one slot each with its own copy of the options (its variant applied), its
 * own LOG_DIR/LABEL and PERF_DIR/LABEL, and its own report; they are interleaved (every guest
 * up, iterations taking turns) unless the guests would not all fit in the memory available or
 * --order sequential says otherwise, and every config records the label, the variant, the
 * order and the sequence of labels.
 *
 * Exit status: 0 success (a regression too, unless --fail-on-regression), 1 the run failed or
 * a result of the gate regressed with --fail-on-regression, 2 bad input found late, 3 a
 * comparison that could not resolve --require-detectable, 128 + signal when SIGINT or SIGTERM
 * stopped it (after every guest and child was stopped and reaped). A failure writes no report.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "accel.h"
#include "backend.h"
#include "compare.h"
#include "errbuf.h"
#include "exit_status.h"
#include "image.h"
#include "loop.h"
#include "multi_run.h"
#include "parse.h"
#include "perf_test.h"
#include "proc.h"
#include "progress.h"
#include "provenance.h"
#include "qemu.h"
#include "render.h"
#include "report.h"
#include "run.h"

/* Every test `burette run --test` knows: one row each. */
static const struct perf_test_ops *const tests[] = {
    &boot_test_ops,
    &network_test_ops,
    &latency_test_ops,
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

json_t *run_options_to_json(const struct run_options *o)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "test",
                          o->test, "backend", o->backend, "nic", o->nic, "vmm", "qemu", "accel",
                          o->accel, "vcpus", (int)o->vcpus, "mem_mb", (int)o->mem_mb, "iterations",
                          (int)o->iterations, "warmup", (int)o->warmup, "duration_s",
                          (int)o->duration_s, "streams", (int)o->streams);

    /* like config.qemu, recorded only when chosen: the default depends on who runs burette */
    if (j && o->qemu_user)
        json_object_set_new(j, "qemu_user", json_string(o->qemu_user));
    /* only the latency test has a message size: other reports keep their config as it was */
    if (j && o->test && !strcmp(o->test, latency_test_ops.name))
        json_object_set_new(j, "rr_size", json_integer(o->rr_size));
    if (j && run_options_sweep_json(o, j)) {
        json_decref(j);
        return NULL;
    }
    if (j && backend_options_to_json(j, &o->backend_options, o->backend)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int run_failure_status(int rc, const char *err, const char *stopped)
{
    if (rc == -ECANCELED && proc_cancelled()) {
        fprintf(stderr, "burette: interrupted by %s; %s stopped\n", strsignal(proc_cancelled()),
                stopped);
        return 128 + proc_cancelled();
    }
    fprintf(stderr, "burette: %s\n", err);
    return 1;
}

static int run_prepare_guest(const struct run_options *o, unsigned *hello_timeout_ms,
                             enum accel *accel, struct guest_image *image)
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

/* What a guest costs beyond its RAM (QEMU itself, TCG's translation cache), in MiB. */
#define VM_OVERHEAD_MB 256

/* One run of the plan, with what its slot points to. */
struct run_entry {
    struct run_slot slot;
    json_t *config; /* borrowed from slot.report, which owns it */
    json_t *host;   /* likewise */
    struct run_options opts;
    char log_dir[PATH_MAX];
    char perf_dir[PATH_MAX]; /* --perf-dir DIR/LABEL: profiles of two runs never collide */
};

/* What one `burette run` does: the test, and its runs (NULL: a plain run). */
struct run_plan {
    const struct run_options *o;
    const struct variant_list *runs;
    enum run_order order;
    bool fail_on_regression;
    struct metric_gate gate;       /* the comparison's --gate, checked by the CLI */
    double require_detectable_pct; /* > 0: throughput and rates must resolve this change */
};

/* What the comparison of several runs found, for the exit status. */
struct run_verdict {
    size_t regressed;    /* results of the gate that regressed */
    size_t undetectable; /* rates that could not resolve require_detectable_pct */
};

json_t *run_config_json(const struct run_options *o, const char *accel, const char *label,
                        const char *variant, const char *order, const char *const *sequence,
                        size_t n)
{
    json_t *c = run_options_to_json(o), *seq;

    if (!c || json_object_set_new(c, "accel", json_string(accel)))
        goto fail;
    if (!label)
        return c;
    seq = json_array();
    if (json_object_set_new(c, "label", json_string(label)) ||
        json_object_set_new(c, "variant", json_string(variant)) ||
        json_object_set_new(c, "order", json_string(order)) ||
        json_object_set_new(c, "sequence", seq))
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(seq, json_string(sequence[i])))
            goto fail;
    return c;
fail:
    json_decref(c);
    return NULL;
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

/* Interleaved unless asked otherwise, or unless the guests would not all fit in memory. */
static enum run_order choose_order(const struct run_plan *p, size_t n)
{
    /* an MTU sweep of the network test is one guest per MTU in each run */
    size_t guests = n * (p->o->n_mtus > 1 && !strcmp(p->o->test, "network") ? p->o->n_mtus : 1);
    unsigned long long avail, need;

    if (n < 2 || p->order == RUN_ORDER_SEQUENTIAL)
        return RUN_ORDER_SEQUENTIAL;
    avail = mem_available_mb();
    need = (unsigned long long)guests * (p->o->mem_mb + VM_OVERHEAD_MB);
    if (avail && need > avail) {
        progress_note("%zu guests of %u MiB need about %llu MiB, %llu MiB available: "
                      "running them one after the other instead of interleaved",
                      guests, p->o->mem_mb, need, avail);
        return RUN_ORDER_SEQUENTIAL;
    }
    return p->order;
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

/* "@root/@label" into @out, or @root itself for a plain run. */
static int sub_dir(const char *root, const char *label, char *out, size_t len)
{
    int n = label ? snprintf(out, len, "%s/%s", root, label) : snprintf(out, len, "%s", root);

    return n >= (int)len ? -ENAMETOOLONG : 0;
}

/* Backends' notices already printed, per QEMU binary: each is said once. */
static char said_for[VARIANT_MAX][PATH_MAX];
static size_t n_said;

static void say_once(const char *qemu, const char *notice)
{
    for (size_t i = 0; i < n_said; i++)
        if (!strcmp(said_for[i], qemu))
            return;
    if (n_said < VARIANT_MAX)
        snprintf(said_for[n_said++], sizeof(said_for[0]), "%s", qemu);
    fprintf(stderr, "burette: %s\n", notice);
}

int run_settle(struct run_options *o, char *err, size_t errlen)
{
    const struct perf_test_ops *ops = find_test(o->test);
    const struct backend_ops *b;
    struct backend_qemu_caps caps = {0};
    char ignored[256], notice[512];
    enum accel accel;
    const char *qemu = backend_qemu_binary(&o->backend_options);
    int rc;

    /* the default is looked up in PATH, and a miss says how to install QEMU */
    rc = qemu_probe(strcmp(qemu, QEMU_DEFAULT_PROGRAM) ? qemu : NULL, &o->qemu_info, err, errlen);

    if (rc)
        return rc;
    /* a test with a NIC of its own (boot) leaves the backend's choices alone */
    if (!ops || ops->fixed_backend || !(b = backend_find(o->backend)) || !b->settle)
        return 0;
    /* an accelerator that cannot be used is reported when the run starts; here what was asked
     * for decides */
    if (accel_resolve(o->accel, &accel, ignored, sizeof(ignored), notice, sizeof(notice)))
        accel = strcmp(o->accel, "kvm") ? ACCEL_TCG : ACCEL_KVM;
    caps.vhost_user = qemu_vhost_user_ok(&o->qemu_info, accel, caps.why_not_vhost_user,
                                         sizeof(caps.why_not_vhost_user));
    rc = b->settle(&o->backend_options, &caps, notice, sizeof(notice), err, errlen);
    if (!rc && notice[0])
        say_once(o->qemu_info.path, notice);
    return rc;
}

/*
 * Each run's options, its variant applied, settled before anything starts: a QEMU that is
 * missing, or cannot do what a run asks of it, is bad input like any other.
 * Return: 0, 2 after printing why, or 128 + the signal that interrupted the QEMU probe
 */
static int settle_runs(const struct run_plan *p, struct run_entry *e, size_t n)
{
    char err[ERRBUF_LEN];

    for (size_t j = 0; j < n; j++) {
        const struct variant *v = p->runs ? &p->runs->v[j] : NULL;

        e[j].opts = *p->o;
        if (v)
            variant_apply(v, &e[j].opts);
        int rc = run_settle(&e[j].opts, err, sizeof(err));

        if (rc == -ECANCELED && proc_cancelled())
            return run_failure_status(rc, err, "before anything started");
        if (rc) {
            if (v)
                errbuf_prefix(err, sizeof(err), "run %s", v->label);
            fprintf(stderr, "burette run: %s\nTry 'burette run --help'.\n", err);
            return 2;
        }
    }
    return 0;
}

/**
 * make_entries() - One slot per run of @p, each with its options, directories and report
 * Return: 0, or negative errno (message in @err); reports made so far are freed by the caller
 */
static int make_entries(const struct run_plan *p, struct run_entry *e, size_t n,
                        const struct perf_ctx *shared, const char *log_root, const char *perf_root,
                        char *err, size_t errlen)
{
    for (size_t j = 0; j < n; j++) {
        const struct variant *v = p->runs ? &p->runs->v[j] : NULL;
        struct run_slot *s = &e[j].slot;
        int rc;

        /* e[j].opts: set and settled by settle_runs() */
        s->label = v ? v->label : NULL;
        s->spec = v ? v->spec : NULL;
        if (sub_dir(log_root, s->label, e[j].log_dir, sizeof(e[j].log_dir)))
            return errbuf_set(err, errlen, -ENAMETOOLONG, "log directory path too long");
        if (s->label) {
            char wanted[PATH_MAX];

            memcpy(wanted, e[j].log_dir, sizeof(wanted));
            rc = run_prepare_log_dir(wanted, e[j].log_dir, sizeof(e[j].log_dir), err, errlen);
            if (rc)
                return rc;
        }
        if (p->o->perf_dir) {
            if (sub_dir(perf_root, s->label, e[j].perf_dir, sizeof(e[j].perf_dir)))
                return errbuf_set(err, errlen, -ENAMETOOLONG, "--perf-dir path too long");
            e[j].opts.perf_dir = e[j].perf_dir;
        }
        s->ctx = *shared;
        s->ctx.opts = &e[j].opts;
        s->ctx.log_dir = e[j].log_dir;
        s->report = report_new();
        if (!s->report || (s->label && report_set_label(s->report, s->label)))
            return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    }
    return 0;
}

/*
 * A fresh id for one `burette run`, shared by all of its reports: `burette compare` pairs the
 * samples of two reports round by round only when they carry the same id, i.e. when iteration
 * i of each ran back to back. 128 random bits, so ids of different runs never meet; from the
 * clock and pid if the kernel's random source is unavailable (it only needs to be unique).
 */
static void make_run_id(char *out, size_t len)
{
    unsigned char b[16];
    struct timespec ts;
    size_t i;

    if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
        uint64_t v[2];

        clock_gettime(CLOCK_REALTIME, &ts);
        v[0] = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        v[1] = (uint64_t)getpid();
        memcpy(b, v, sizeof(b));
    }
    for (i = 0; i < sizeof(b) && 2 * i + 2 < len; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* Each run's config: its options, the accelerator used, the id of this `burette run`, and for
 * several runs their order; a test that always uses its own backend (boot) records that one. */
static int set_configs(const struct perf_test_ops *ops, struct run_entry *e, size_t n,
                       enum accel accel, enum run_order order)
{
    const char *labels[VARIANT_MAX];
    char run_id[33];

    make_run_id(run_id, sizeof(run_id));
    for (size_t j = 0; j < n; j++)
        labels[j] = e[j].slot.label;
    for (size_t j = 0; j < n; j++) {
        struct run_options used = e[j].opts;
        json_t *c;

        if (ops->fixed_backend)
            used.backend = ops->fixed_backend;
        c = run_config_json(&used, accel_name(accel), e[j].slot.label, e[j].slot.spec,
                            run_order_name(order), labels, n);

        if (!c || json_object_set_new(c, "run_id", json_string(run_id))) {
            json_decref(c);
            return -ENOMEM;
        }
        if (used.vm_instances > 1 &&
            json_object_set_new(c, "vm_instances", json_integer(used.vm_instances))) {
            json_decref(c);
            return -ENOMEM;
        }
        report_set_config(e[j].slot.report, c);
        e[j].config = c;
        /* what the loop records per kept iteration: the turn order, and which boot */
        if (n > 1 && order != RUN_ORDER_SEQUENTIAL) {
            e[j].slot.positions = json_array();
            if (!e[j].slot.positions || json_object_set_new(c, "positions", e[j].slot.positions))
                return -ENOMEM;
        }
        if (used.vm_instances > 1) {
            e[j].slot.instances = json_array();
            if (!e[j].slot.instances || json_object_set_new(c, "vm_instance", e[j].slot.instances))
                return -ENOMEM;
        }
    }
    return 0;
}

/* How long set_hosts() watches the machine's CPUs before saying it is busy. */
#define BUSY_WINDOW_MS 500

/*
 * Every report's host object (provenance.h): the machine, versions of everything the figures
 * depend on and the load at start; the load at the end is added by finish(). What all runs
 * share (the programs' versions, the image's digest) is found once; only the QEMU is each
 * run's own, since variants may run different ones. Says once when the machine is busy: other
 * work's CPU over a short window now (the load average still holds the minute before).
 */
static int set_hosts(struct run_entry *e, size_t n, const struct guest_image *image, char *err,
                     size_t errlen)
{
    json_t *shared = report_host_json();
    double load, busy;
    int rc = 0;

    provenance_load(&load);
    if (provenance_busy_now(BUSY_WINDOW_MS, &busy))
        progress_note("the machine is busy: other work kept %.0f%% of its %ld cores busy over "
                      "the last %g s (load average %.2f); it will slow the guests unevenly and "
                      "widen the spread of every figure",
                      busy, sysconf(_SC_NPROCESSORS_ONLN), BUSY_WINDOW_MS / 1000.0, load);
    if (!shared || provenance_collect(shared, NULL, image) ||
        json_object_set_new(shared, "load_start", json_real(load)))
        rc = -ENOMEM;
    for (size_t j = 0; !rc && j < n; j++) {
        e[j].host = json_deep_copy(shared);
        if (!e[j].host || provenance_add_qemu(e[j].host, &e[j].opts.qemu_info)) {
            json_decref(e[j].host);
            e[j].host = NULL;
            rc = -ENOMEM;
            break;
        }
        report_set_host(e[j].slot.report, e[j].host);
    }
    json_decref(shared);
    return rc ? errbuf_set(err, errlen, rc, "out of memory") : 0;
}

/* The run's --gate, held against the first kept round's metrics by gate_matches_metrics(). */
struct gate_check {
    const struct metric_gate *gate;
    bool refused; /* a glob took none: bad input, exit status 2 */
};

/**
 * gate_matches_metrics() - Refuse a --gate glob that takes none of the metrics the runs record
 *
 * The comparison at the end refuses it too, but only after the whole run. A test records the
 * same metrics in every iteration but for a few diagnostics that need a figure the iteration
 * may lack (retransmits from the client's report, CPU shares from /proc): for a glob that takes
 * only those to be refused wrongly, every run would have to lack them in the same round.
 *
 * Return: 0, -EINVAL (message in @err, @arg's refused set), or -ENOMEM
 */
static int gate_matches_metrics(void *arg, const struct run_slot *slots, size_t n, char *err,
                                size_t errlen)
{
    struct gate_check *gc = arg;
    const char **names;
    size_t count = 0;
    int rc;

    for (size_t j = 0; j < n; j++)
        count += slots[j].report->nmetrics;
    names = calloc(count ? count : 1, sizeof(*names));
    if (!names)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    count = 0;
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < slots[j].report->nmetrics; i++)
            names[count++] = slots[j].report->metrics[i].name;
    rc = metric_gate_check(gc->gate, names, count, "metric these runs record", err, errlen);
    free(names);
    if (rc) {
        gc->refused = true;
        errbuf_prefix(err, errlen,
                      "stopped once each run had one kept iteration, no report written");
    }
    return rc;
}

/* Write every report, then print the comparison (several runs) or the summary (one). */
static int finish(const struct run_plan *p, struct run_entry *e, size_t n,
                  struct run_verdict *verdict, char *err, size_t errlen)
{
    const struct run_options *o = p->o;
    const struct report *reports[VARIANT_MAX];
    struct comparison *cmp = NULL;
    struct compare_options copts;
    const char *format = o->format ? o->format : "text";
    double load;
    int rc = 0;

    *verdict = (struct run_verdict){0};
    compare_options_init(&copts);
    copts.require_detectable_pct = p->require_detectable_pct;
    copts.gate = p->gate;
    provenance_load(&load);
    for (size_t j = 0; j < n; j++) {
        const struct run_slot *s = &e[j].slot;
        char path[PATH_MAX];

        if (e[j].host && json_object_set_new(e[j].host, "load_end", json_real(load)))
            return errbuf_set(err, errlen, -ENOMEM, "out of memory");

        reports[j] = s->report;
        if (!o->output)
            continue;
        if (n == 1)
            snprintf(path, sizeof(path), "%s", o->output);
        else if (snprintf(path, sizeof(path), "%s/%s.json", o->output, s->label) >=
                 (int)sizeof(path))
            return errbuf_set(err, errlen, -ENAMETOOLONG, "-o %s: path too long", o->output);
        rc = report_write(s->report, path, err, errlen);
        if (rc)
            return rc;
        if (s->label)
            progress_note("%s: report written to %s", s->label, path);
        else
            progress_note("report written to %s", path);
    }
    if (n == 1)
        return render_reports(format, stdout, reports, 1, err, errlen);
    rc = compare_reports(reports[0], reports + 1, n - 1, &copts, &cmp, err, errlen);
    if (rc) {
        if (o->output)
            errbuf_prefix(err, errlen, "the reports are written; comparing them");
        return rc;
    }
    rc = render_comparison(format, stdout, cmp, err, errlen);
    verdict->regressed = cmp->regressed;
    verdict->undetectable = cmp->undetectable;
    comparison_free(cmp);
    return rc;
}

/**
 * check_plan() - What can be refused before anything starts: the test, --perf-dir for a test
 * without profiles, -o DIR of several runs
 * Return: 0, or the exit status to end with (a message is printed)
 */
static int check_plan(const struct run_plan *p, const struct perf_test_ops **ops, size_t n)
{
    char err[ERRBUF_LEN];

    *ops = find_test(p->o->test);
    if (!*ops) {
        fprintf(stderr, "burette: run: unknown test '%s' (this build knows:", p->o->test);
        for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
            fprintf(stderr, " %s", tests[i]->name);
        fprintf(stderr, ")\n");
        return 2;
    }
    if (p->runs && (*ops)->fixed_backend) {
        fprintf(stderr,
                "burette: --test %s: several backends or --variant apply to --test %s and "
                "%s only (the %s test always uses its own backend)\n",
                p->o->test, network_test_ops.name, latency_test_ops.name, p->o->test);
        return 2;
    }
    if (p->o->perf_dir && !(*ops)->records_profiles)
        progress_note("--perf-dir: the %s test records no profiles (the network test does); "
                      "ignored",
                      (*ops)->name);
    if (p->o->output && n > 1 && prepare_output_dir(p->o->output, err, sizeof(err))) {
        fprintf(stderr, "burette: %s\n", err);
        return 2;
    }
    return 0;
}

/* The one start-up and finish of every `burette run`; returns its exit status. */
static int run_plan(const struct run_plan *p)
{
    const struct run_options *o = p->o;
    const size_t n = p->runs ? p->runs->n : 1;
    const struct perf_test_ops *ops;
    struct guest_image image;
    struct perf_ctx shared = {.image = &image};
    struct run_entry entries[VARIANT_MAX];
    enum run_order order;
    char err[ERRBUF_LEN], log_root[PATH_MAX], perf_root[PATH_MAX] = "";
    struct run_verdict verdict = {0};
    struct gate_check gate_check = {.gate = &p->gate};
    const struct run_checkpoint first_kept = {.check = gate_matches_metrics, .arg = &gate_check};
    int rc, status;

    memset(entries, 0, sizeof(entries[0]) * n);
    progress_init(o->quiet);
    rc = proc_signals_init();
    if (rc) {
        fprintf(stderr, "burette: cannot install signal handlers: %s\n", strerror(-rc));
        return 1;
    }
    status = check_plan(p, &ops, n);
    if (!status)
        status = settle_runs(p, entries, n);
    if (!status)
        status = run_prepare_guest(o, &shared.hello_timeout_ms, &shared.accel, &image);
    if (status)
        return status;
    status = 1;
    rc = run_prepare_log_dir(o->log_dir, log_root, sizeof(log_root), err, sizeof(err));
    if (rc)
        goto fail;
    progress_note(p->runs ? "logs in %s/LABEL" : "logs in %s", log_root);
    if (o->perf_dir && p->runs) {
        rc = run_prepare_log_dir(o->perf_dir, perf_root, sizeof(perf_root), err, sizeof(err));
        if (rc)
            goto fail;
    } else if (o->perf_dir) {
        snprintf(perf_root, sizeof(perf_root), "%s", o->perf_dir);
    }
    order = choose_order(p, n);
    rc = make_entries(p, entries, n, &shared, log_root, perf_root, err, sizeof(err));
    if (!rc && set_configs(ops, entries, n, shared.accel, order))
        rc = errbuf_set(err, sizeof(err), -ENOMEM, "out of memory");
    if (!rc)
        rc = set_hosts(entries, n, &image, err, sizeof(err));
    if (rc)
        goto fail;
    {
        struct run_slot slots[VARIANT_MAX];

        for (size_t j = 0; j < n; j++)
            slots[j] = entries[j].slot;
        rc = run_slots(ops, slots, n, order, p->gate.spec ? &first_kept : NULL, err, sizeof(err));
    }
    if (!rc)
        rc = finish(p, entries, n, &verdict, err, sizeof(err));
    if (rc)
        goto fail;
    status = 0;
    if (verdict.regressed && p->fail_on_regression) {
        fprintf(stderr,
                "burette: %zu metric%s of the gate regressed against the baseline %s "
                "(--fail-on-regression)\n",
                verdict.regressed, verdict.regressed == 1 ? "" : "s", entries[0].slot.label);
        status = 1;
    } else if (verdict.undetectable) {
        fprintf(stderr,
                "burette: inconclusive: %zu throughput or rate metric%s could not have seen a "
                "%g%% change (the warnings say how many iterations would)\n",
                verdict.undetectable, verdict.undetectable == 1 ? "" : "s",
                p->require_detectable_pct);
        status = EXIT_INCONCLUSIVE;
    }
    goto out;
fail:
    status = run_failure_status(rc, err, p->runs ? "every guest and child" : "guest and children");
    if (gate_check.refused)
        status = EXIT_USAGE;
out:
    for (size_t j = 0; j < n; j++)
        report_free(entries[j].slot.report);
    return status;
}

int run_main(const struct run_options *opts)
{
    const struct run_plan plan = {.o = opts};

    return run_plan(&plan);
}

int multi_run_main(const struct run_options *o, const struct multi_options *m)
{
    const struct run_plan plan = {
        .o = o,
        .runs = &m->runs,
        .order = m->order,
        .fail_on_regression = m->fail_on_regression,
        .gate = m->gate,
        .require_detectable_pct = m->require_detectable_pct,
    };

    return run_plan(&plan);
}
