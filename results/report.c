/* SPDX-License-Identifier: MIT */
/*
 * report - a burette report in memory, and its JSON form; see report.h.
 *
 * Invariant: a metric's @st always describes its samples when it has any, so writers and
 * readers never recompute. A report read from JSON with samples is re-summarised from them
 * (the file's own summary is only checked for its iteration count); one without samples keeps
 * the file's summary as the only truth there is.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "build_info.h"
#include "errbuf.h"
#include "fetch.h"
#include "report.h"
#include "table.h"
#include "text.h"

static char *xstrdup(const char *s)
{
    return strdup(s ? s : "");
}

struct report *report_new(void)
{
    struct report *r = calloc(1, sizeof(*r));
    char date[32];
    time_t now = time(NULL);
    struct tm tm;

    if (!r)
        return NULL;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    r->git_revision = xstrdup(BURETTE_GIT_REVISION);
    r->git_branch = xstrdup(BURETTE_GIT_BRANCH);
    r->git_commit_date = xstrdup(BURETTE_GIT_COMMIT_DATE);
    r->date = xstrdup(date);
    /* Stamped like the revision: a build of uncommitted changes is not its revision. */
#ifdef BURETTE_GIT_DIRTY
    r->git_dirty = BURETTE_GIT_DIRTY;
#else
    r->git_dirty = -1;
#endif
    if (!r->git_revision || !r->git_branch || !r->git_commit_date || !r->date) {
        report_free(r);
        return NULL;
    }
    return r;
}

void report_free(struct report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nmetrics; i++) {
        free(r->metrics[i].name);
        free(r->metrics[i].unit);
        free(r->metrics[i].samples);
    }
    free(r->metrics);
    free(r->index);
    free(r->git_revision);
    free(r->git_branch);
    free(r->git_commit_date);
    free(r->date);
    free(r->source);
    free(r->label);
    free(r->source_name);
    json_decref(r->config);
    json_decref(r->host);
    free(r);
}

/* FNV-1a: a metric name is short, and nothing here is secret enough to need a keyed hash,
 * since probing stays O(1) on average whatever the names as long as the table is half empty. */
static size_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return (size_t)h;
}

/* The slot of @name: the one holding it, else the free one where it would go. */
static size_t index_slot(const struct report *r, const char *name)
{
    size_t mask = r->index_cap - 1, i = name_hash(name) & mask;

    while (r->index[i] && strcmp(r->metrics[r->index[i] - 1].name, name))
        i = (i + 1) & mask;
    return i;
}

/* Make room for one more name, keeping the table at most half full. */
static int index_reserve(struct report *r)
{
    size_t cap = r->index_cap ? r->index_cap : 16, *old = r->index, old_cap = r->index_cap;

    while ((r->nmetrics + 1) * 2 > cap)
        cap *= 2;
    if (cap == r->index_cap)
        return 0;
    r->index = calloc(cap, sizeof(*r->index));
    if (!r->index) {
        r->index = old;
        return -ENOMEM;
    }
    r->index_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            r->index[index_slot(r, r->metrics[old[i] - 1].name)] = old[i];
    free(old);
    return 0;
}

const struct metric *report_find_metric(const struct report *r, const char *name)
{
    size_t slot;

    if (!r->index_cap)
        return NULL;
    slot = index_slot(r, name);
    return r->index[slot] ? &r->metrics[r->index[slot] - 1] : NULL;
}

static struct metric *add_metric(struct report *r, const char *name, const char *unit)
{
    struct metric *metrics, *m;

    if (index_reserve(r) < 0)
        return NULL;
    metrics = array_reserve(r->metrics, r->nmetrics, &r->cap, sizeof(*metrics), 8);
    if (!metrics)
        return NULL;
    r->metrics = metrics;
    m = &r->metrics[r->nmetrics];
    memset(m, 0, sizeof(*m));
    m->name = strdup(name);
    m->unit = strdup(unit);
    if (!m->name || !m->unit) {
        free(m->name);
        free(m->unit);
        return NULL;
    }
    m->higher_is_better = -1;
    m->st.median = m->st.min = m->st.max = m->st.ci95_low = m->st.ci95_high = NAN;
    r->index[index_slot(r, name)] = ++r->nmetrics;
    return m;
}

/* Appends without re-summarising: readers of many samples summarise once at the end. */
static int metric_append(struct metric *m, double value)
{
    double *p = array_reserve(m->samples, m->nsamples, &m->cap, sizeof(*p), 8);

    if (!p)
        return -ENOMEM;
    m->samples = p;
    m->samples[m->nsamples++] = value;
    return 0;
}

static int metric_push(struct metric *m, double value)
{
    int rc = metric_append(m, value);

    return rc < 0 ? rc : stats_compute(m->samples, m->nsamples, &m->st);
}

int report_add_sample(struct report *r, const char *name, const char *unit, double value, char *err,
                      size_t errlen)
{
    struct metric *m;

    if (!name || !*name || !unit)
        return errbuf_set(err, errlen, EINVAL, "report: a metric needs a name and a unit");
    m = (struct metric *)report_find_metric(r, name);
    if (!isfinite(value))
        return errbuf_set(err, errlen, EINVAL, "report: %s: sample is not a finite number", name);
    if (m && strcmp(m->unit, unit))
        return errbuf_set(err, errlen, EINVAL,
                          "report: %s: sample in %s, but the metric is measured in %s", name, unit,
                          m->unit);
    if (m && !m->nsamples)
        return errbuf_set(err, errlen, EINVAL,
                          "report: %s: metric was read without samples; cannot add one", name);
    if (!m) {
        m = add_metric(r, name, unit);
        if (!m)
            return errbuf_set(err, errlen, ENOMEM, "report: out of memory");
    }
    if (metric_push(m, value) < 0)
        return errbuf_set(err, errlen, ENOMEM, "report: out of memory");
    return 0;
}

void report_set_config(struct report *r, json_t *config)
{
    json_decref(r->config);
    r->config = config;
}

void report_set_host(struct report *r, json_t *host)
{
    json_decref(r->host);
    r->host = host;
}

int report_set_label(struct report *r, const char *label)
{
    char *l = strdup(label);

    if (!l)
        return -ENOMEM;
    free(r->label);
    r->label = l;
    return 0;
}

const char *report_label(const struct report *r)
{
    if (r->label && *r->label)
        return r->label;
    if (r->source_name && *r->source_name)
        return r->source_name;
    return "report";
}

int report_set_higher_is_better(struct report *r, const char *name, bool higher, char *err,
                                size_t errlen)
{
    struct metric *m = (struct metric *)report_find_metric(r, name);

    if (!m)
        return errbuf_set(err, errlen, ENOENT, "report: no metric named %s", name);
    m->higher_is_better = higher;
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && !strcasecmp(s + n - k, suffix);
}

bool unit_higher_is_better(const char *unit)
{
    /* Rates: "per second" in any spelling (Gbps, pps, MiB/s, ops/sec, iops). Times and sizes
     * (ms, us, s, KiB, bytes) are costs: lower is better. */
    if (!unit)
        return false;
    return ends_with(unit, "ps") || ends_with(unit, "/s") || ends_with(unit, "/sec") ||
           ends_with(unit, "per second") || !strcasecmp(unit, "iops");
}

bool metric_higher_is_better(const struct metric *m)
{
    return m->higher_is_better >= 0 ? m->higher_is_better : unit_higher_is_better(m->unit);
}

bool report_stalls(const struct report *r, const char *name, size_t *stalled, size_t *runs)
{
    const char *cut = strrchr(name, '_');
    const struct metric *m;
    char companion[512];

    if (!cut || text_ends_with(name, STALL_METRIC_SUFFIX) ||
        snprintf(companion, sizeof(companion), "%.*s%s", (int)(cut - name), name,
                 STALL_METRIC_SUFFIX) >= (int)sizeof(companion))
        return false;
    m = report_find_metric(r, companion);
    if (!m)
        return false;
    *runs = m->nsamples;
    *stalled = 0;
    for (size_t i = 0; i < m->nsamples; i++)
        *stalled += m->samples[i] > 0;
    if (!m->nsamples)
        *stalled = m->st.mean > 0;
    return true;
}

static void json_scalar_text(const json_t *v, char *buf, size_t len)
{
    if (json_is_string(v) && *json_string_value(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "%.2f", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
    else
        snprintf(buf, len, "unknown");
}

void report_provenance(const struct report *r, const char *field, char *buf, size_t len)
{
    if (!strcmp(field, "git_revision"))
        snprintf(buf, len, "%s", *r->git_revision ? r->git_revision : "unknown");
    else if (!strcmp(field, "git_dirty"))
        snprintf(buf, len, "%s", r->git_dirty < 0 ? "unknown" : r->git_dirty ? "yes" : "no");
    else if (!strcmp(field, "accel"))
        json_scalar_text(json_object_get(r->config, "accel"), buf, len);
    else
        json_scalar_text(json_object_get(r->host, field), buf, len);
}

/* The "model name" line of /proc/cpuinfo (x86) or, failing that, "Hardware"/"cpu model". */
static char *cpu_model(void)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    char line[512], *model = NULL;

    if (!f)
        return NULL;
    while (!model && fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':'), *v, *end;

        if (!colon || (strncmp(line, "model name", 10) && strncmp(line, "Hardware", 8) &&
                       strncmp(line, "cpu model", 9)))
            continue;
        v = colon + 1;
        while (isspace((unsigned char)*v))
            v++;
        end = v + strlen(v);
        while (end > v && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (*v)
            model = strdup(v);
    }
    fclose(f);
    return model;
}

json_t *report_host_json(void)
{
    struct utsname u;
    json_t *host = json_object();
    char *model = cpu_model();
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    if (!host)
        goto out;
    if (!uname(&u)) {
        json_object_set_new(host, "kernel", json_string(u.release));
        json_object_set_new(host, "kernel_version", json_string(u.version));
        json_object_set_new(host, "machine", json_string(u.machine));
    }
    json_object_set_new(host, "cpu_model", json_string(model ? model : "unknown"));
    json_object_set_new(host, "cpu_count", json_integer(ncpu > 0 ? ncpu : 0));
out:
    free(model);
    return host;
}

/* NAN and infinities have no JSON form: the key is left out, which readers take as unknown. */
static void set_number(json_t *obj, const char *key, double v)
{
    if (isfinite(v))
        json_object_set_new(obj, key, json_real(v));
}

json_t *metric_samples_json(const struct metric *m)
{
    json_t *samples = json_array();

    for (size_t i = 0; samples && i < m->nsamples; i++)
        json_array_append_new(samples, json_real(m->samples[i]));
    return samples;
}

static json_t *metric_to_json(const struct metric *m)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    json_object_set_new(o, "name", json_string(m->name));
    json_object_set_new(o, "unit", json_string(m->unit));
    json_object_set_new(o, "iterations", json_integer((json_int_t)m->st.n));
    set_number(o, "mean", m->st.mean);
    set_number(o, "std_dev", m->st.std_dev);
    set_number(o, "min", m->st.min);
    set_number(o, "max", m->st.max);
    set_number(o, "median", m->st.median);
    set_number(o, "ci95_low", m->st.ci95_low);
    set_number(o, "ci95_high", m->st.ci95_high);
    json_object_set_new(o, "higher_is_better", json_boolean(metric_higher_is_better(m)));
    if (m->nsamples)
        json_object_set_new(o, "samples", metric_samples_json(m));
    return o;
}

json_t *report_to_json(const struct report *r)
{
    json_t *root = json_object(), *results = json_array();

    if (!root || !results)
        goto fail;
    json_object_set_new(root, "git_revision", json_string(r->git_revision));
    json_object_set_new(root, "git_branch", json_string(r->git_branch));
    json_object_set_new(root, "git_commit_date", json_string(r->git_commit_date));
    json_object_set_new(root, "date", json_string(r->date));
    if (r->git_dirty >= 0)
        json_object_set_new(root, "git_dirty", json_boolean(r->git_dirty));
    if (r->label)
        json_object_set_new(root, "label", json_string(r->label));
    json_object_set_new(root, "config", r->config ? json_incref(r->config) : json_object());
    json_object_set_new(root, "host", r->host ? json_incref(r->host) : report_host_json());
    for (size_t i = 0; i < r->nmetrics; i++) {
        json_t *m = metric_to_json(&r->metrics[i]);

        if (!m || json_array_append_new(results, m) < 0)
            goto fail;
    }
    json_object_set_new(root, "results", results);
    return root;
fail:
    json_decref(root);
    json_decref(results);
    return NULL;
}

int report_write(const struct report *r, const char *path, char *err, size_t errlen)
{
    json_t *root = report_to_json(r);
    char *tmp = NULL;
    FILE *f = NULL;
    int rc = 0, fd;

    if (!root)
        return errbuf_set(err, errlen, ENOMEM, "%s: out of memory building the report", path);
    if (!strcmp(path, "-")) {
        f = stdout;
    } else {
        /* Written beside the target, then renamed over it: a run killed halfway leaves the
         * previous report (or none), never half a JSON document that a CI gate would choke
         * on. */
        if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
            tmp = NULL;
            rc = errbuf_set(err, errlen, ENOMEM, "%s: out of memory", path);
            goto out;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
            rc = errbuf_set(err, errlen, errno, "%s: cannot create: %s", path, strerror(errno));
            free(tmp);
            tmp = NULL;
            goto out;
        }
        fchmod(fd, 0644);
        f = fdopen(fd, "w");
        if (!f) {
            rc = errbuf_set(err, errlen, errno, "%s: cannot write: %s", path, strerror(errno));
            close(fd);
            goto out;
        }
    }
    errno = 0;
    if (json_dumpf(root, f, JSON_INDENT(2)) < 0 || fputc('\n', f) == EOF || fflush(f) == EOF)
        rc = errbuf_set(err, errlen, errno ? errno : EIO, "%s: cannot write: %s", path,
                        strerror(errno ? errno : EIO));
    if (f != stdout && fclose(f) == EOF && !rc)
        rc = errbuf_set(err, errlen, errno, "%s: cannot write: %s", path, strerror(errno));
    if (tmp && !rc && rename(tmp, path) < 0)
        rc = errbuf_set(err, errlen, errno, "%s: cannot replace: %s", path, strerror(errno));
out:
    if (tmp) {
        if (rc < 0)
            unlink(tmp);
        free(tmp);
    }
    json_decref(root);
    return rc;
}

static int get_string(const json_t *root, const char *key, char **out)
{
    const json_t *v = json_object_get(root, key);

    *out = strdup(json_is_string(v) ? json_string_value(v) : "");
    return *out ? 0 : -ENOMEM;
}

/* An optional number: NAN when absent, -EINVAL when present but not a number. */
static int get_number(const json_t *o, const char *key, double *out)
{
    const json_t *v = json_object_get(o, key);

    *out = NAN;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return -EINVAL;
    *out = json_number_value(v);
    return 0;
}

static int result_from_json(struct report *r, const json_t *res, size_t idx, const char *source,
                            char *err, size_t errlen)
{
    const json_t *name = json_object_get(res, "name"), *unit = json_object_get(res, "unit");
    const json_t *samples = json_object_get(res, "samples"), *it, *hib;
    double mean, std_dev, min, max, median;
    long long iterations = -1;
    struct metric *m;
    char where[300], *clean;

    snprintf(where, sizeof(where), "%s: results[%zu]", source, idx);
    if (!json_is_object(res))
        return errbuf_set(err, errlen, EINVAL, "%s: not a JSON object", where);
    if (!json_is_string(name) || !*json_string_value(name))
        return errbuf_set(err, errlen, EINVAL, "%s: no \"name\" string", where);
    /* Messages reach a terminal: the name's control characters are escaped there too. */
    clean = text_escape_controls(json_string_value(name));
    snprintf(where, sizeof(where), "%s: result %s", source, clean ? clean : "(unprintable)");
    free(clean);
    if (!json_is_string(unit))
        return errbuf_set(err, errlen, EINVAL, "%s: no \"unit\" string", where);
    if (report_find_metric(r, json_string_value(name)))
        return errbuf_set(err, errlen, EINVAL, "%s: the metric appears twice", where);
    it = json_object_get(res, "iterations");
    if (it) {
        if (!json_is_integer(it) || json_integer_value(it) < 1)
            return errbuf_set(err, errlen, EINVAL, "%s: \"iterations\" is not a positive integer",
                              where);
        if (json_integer_value(it) > REPORT_MAX_ITERATIONS)
            return errbuf_set(err, errlen, EINVAL,
                              "%s: \"iterations\" is %lld, more than the %d a report may have",
                              where, (long long)json_integer_value(it), REPORT_MAX_ITERATIONS);
        iterations = json_integer_value(it);
    }
    if (get_number(res, "mean", &mean) || get_number(res, "std_dev", &std_dev) ||
        get_number(res, "min", &min) || get_number(res, "max", &max) ||
        get_number(res, "median", &median))
        return errbuf_set(err, errlen, EINVAL,
                          "%s: mean, std_dev, min, max and median must be finite numbers", where);
    hib = json_object_get(res, "higher_is_better");
    if (hib && !json_is_boolean(hib))
        return errbuf_set(err, errlen, EINVAL, "%s: \"higher_is_better\" is not true or false",
                          where);

    m = add_metric(r, json_string_value(name), json_string_value(unit));
    if (!m)
        return errbuf_set(err, errlen, ENOMEM, "%s: out of memory", where);
    if (hib)
        m->higher_is_better = json_is_true(hib);

    if (samples) {
        size_t i;
        const json_t *s;

        if (!json_is_array(samples) || !json_array_size(samples))
            return errbuf_set(err, errlen, EINVAL, "%s: \"samples\" is not a non-empty array",
                              where);
        if (json_array_size(samples) > REPORT_MAX_SAMPLES)
            return errbuf_set(err, errlen, EINVAL,
                              "%s: %zu samples, more than the %d a result may have", where,
                              json_array_size(samples), REPORT_MAX_SAMPLES);
        if (iterations >= 0 && (size_t)iterations != json_array_size(samples))
            return errbuf_set(err, errlen, EINVAL, "%s: \"iterations\" is %lld but %zu samples",
                              where, iterations, json_array_size(samples));
        json_array_foreach(samples, i, s)
        {
            if (!json_is_number(s) || !isfinite(json_number_value(s)))
                return errbuf_set(err, errlen, EINVAL, "%s: samples[%zu] is not a number", where,
                                  i);
            if (metric_append(m, json_number_value(s)) < 0)
                return errbuf_set(err, errlen, ENOMEM, "%s: out of memory", where);
        }
        if (stats_compute(m->samples, m->nsamples, &m->st) < 0)
            return errbuf_set(err, errlen, ENOMEM, "%s: out of memory", where);
        return 0;
    }

    /* OpenVMM's plain format: the summary is all there is. */
    if (iterations < 0)
        return errbuf_set(err, errlen, EINVAL, "%s: neither \"samples\" nor \"iterations\"", where);
    if (isnan(mean))
        return errbuf_set(err, errlen, EINVAL, "%s: no \"mean\"", where);
    if (isnan(std_dev)) {
        if (iterations > 1)
            return errbuf_set(err, errlen, EINVAL, "%s: no \"std_dev\" for %lld iterations", where,
                              iterations);
        std_dev = 0;
    }
    if (std_dev < 0)
        return errbuf_set(err, errlen, EINVAL, "%s: \"std_dev\" is negative", where);
    m->st.n = (size_t)iterations;
    m->st.mean = mean;
    m->st.std_dev = std_dev;
    m->st.min = min;
    m->st.max = max;
    m->st.median = median;
    stats_ci95(mean, std_dev, m->st.n, &m->st.ci95_low, &m->st.ci95_high);
    return 0;
}

/* "ci/nightly/base.json?x=1" -> "base": what a reader calls the file. */
static char *source_name(const char *source)
{
    const char *start = source, *end;
    char *name;

    if (!strcmp(source, "-"))
        return strdup("stdin");

    end = source + strcspn(source, "?#");
    while (end > start && end[-1] == '/')
        end--;
    for (const char *p = start; p < end; p++)
        if (*p == '/')
            start = p + 1;
    if (end - start > 5 && !strncasecmp(end - 5, ".json", 5))
        end -= 5;
    if (end == start)
        return strdup(source);
    name = strndup(start, (size_t)(end - start));
    return name;
}

int report_from_json(const json_t *root, const char *source, struct report **out, char *err,
                     size_t errlen)
{
    const json_t *results, *res, *config, *host, *label;
    struct report *r = NULL;
    size_t i;
    int rc = 0;

    if (!json_is_object(root))
        return errbuf_set(err, errlen, EINVAL,
                          "%s: not a burette report (the top level is not a JSON object)", source);
    results = json_object_get(root, "results");
    if (!results)
        return errbuf_set(err, errlen, EINVAL, "%s: not a burette report (no \"results\" array)",
                          source);
    if (!json_is_array(results))
        return errbuf_set(err, errlen, EINVAL,
                          "%s: not a burette report (\"results\" is not an array)", source);
    if (json_array_size(results) > REPORT_MAX_RESULTS)
        return errbuf_set(err, errlen, EINVAL,
                          "%s: %zu results, more than the %d a report may have (is this the "
                          "right file?)",
                          source, json_array_size(results), REPORT_MAX_RESULTS);
    r = calloc(1, sizeof(*r));
    if (!r)
        return errbuf_set(err, errlen, ENOMEM, "%s: out of memory", source);
    if (get_string(root, "git_revision", &r->git_revision) ||
        get_string(root, "git_branch", &r->git_branch) ||
        get_string(root, "git_commit_date", &r->git_commit_date) ||
        get_string(root, "date", &r->date) || !(r->source = strdup(source))) {
        rc = errbuf_set(err, errlen, ENOMEM, "%s: out of memory", source);
        goto out;
    }
    r->git_dirty = json_is_boolean(json_object_get(root, "git_dirty"))
                       ? json_is_true(json_object_get(root, "git_dirty"))
                       : -1;
    r->source_name = source_name(source);
    if (!r->source_name) {
        rc = errbuf_set(err, errlen, ENOMEM, "%s: out of memory", source);
        goto out;
    }
    label = json_object_get(root, "label");
    if (json_is_string(label) && *json_string_value(label) &&
        report_set_label(r, json_string_value(label)) < 0) {
        rc = errbuf_set(err, errlen, ENOMEM, "%s: out of memory", source);
        goto out;
    }
    config = json_object_get(root, "config");
    if (json_is_object(config))
        r->config = json_deep_copy(config);
    host = json_object_get(root, "host");
    if (json_is_object(host))
        r->host = json_deep_copy(host);
    json_array_foreach(results, i, res)
    {
        rc = result_from_json(r, res, i, source, err, errlen);
        if (rc < 0)
            goto out;
    }
out:
    if (rc < 0)
        report_free(r);
    else
        *out = r;
    return rc;
}

int report_read(const char *source, struct report **out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = NULL;
    char *data = NULL;
    size_t len = 0;
    int rc;

    rc = fetch_source(source, NULL, &data, &len, err, errlen);
    if (rc < 0)
        return rc;
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = errbuf_set(err, errlen, EINVAL, "%s: not valid JSON (line %d, column %d: %s)", source,
                        jerr.line, jerr.column, jerr.text);
        goto out;
    }
    rc = report_from_json(root, source, out, err, errlen);
out:
    json_decref(root);
    free(data);
    return rc;
}
