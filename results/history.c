/* SPDX-License-Identifier: MIT */
/*
 * history - the results history store; see history.h for the tables and what keys a series.
 *
 * All SQL here runs unchanged on SQLite and PostgreSQL (history_db.h). Filters are applied in
 * C after one ordered read rather than spelled in SQL: the two dialects disagree on untyped
 * NULL parameters and substring functions, and a history of a thousand nights is a few tens of
 * thousands of rows, read in milliseconds.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "errbuf.h"
#include "history.h"
#include "history_db.h"

#define SCHEMA_VERSION 1

struct history {
    const struct hdb_ops *ops;
    void *conn;
    bool in_transaction;
};

static const char schema_fmt[] =
    "CREATE TABLE IF NOT EXISTS burette_schema (version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs ("
    " id %1$s,"
    " digest TEXT NOT NULL UNIQUE,"
    " git_revision TEXT, git_branch TEXT, git_commit_date TEXT,"
    " date TEXT NOT NULL,"
    " host_key TEXT NOT NULL,"
    " report TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS series ("
    " id %1$s,"
    " metric TEXT NOT NULL, unit TEXT NOT NULL, higher_is_better INTEGER NOT NULL,"
    " config_key TEXT NOT NULL, host_key TEXT NOT NULL,"
    " test TEXT, backend TEXT, nic TEXT, transport TEXT,"
    " UNIQUE (metric, config_key, host_key));"
    "CREATE TABLE IF NOT EXISTS results ("
    " run_id BIGINT NOT NULL REFERENCES runs (id),"
    " series_id BIGINT NOT NULL REFERENCES series (id),"
    " iterations INTEGER NOT NULL,"
    " mean DOUBLE PRECISION NOT NULL, std_dev DOUBLE PRECISION,"
    " ci_low DOUBLE PRECISION, ci_high DOUBLE PRECISION,"
    " samples TEXT,"
    " PRIMARY KEY (run_id, series_id));"
    "CREATE INDEX IF NOT EXISTS results_by_series ON results (series_id);";

static const char sql_version[] = "SELECT version FROM burette_schema";
static const char sql_set_version[] = "INSERT INTO burette_schema (version) VALUES ($1)";
static const char sql_add_run[] =
    "INSERT INTO runs (digest, git_revision, git_branch, git_commit_date, date, host_key, report)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (digest) DO NOTHING RETURNING id";
static const char sql_add_series[] =
    "INSERT INTO series (metric, unit, higher_is_better, config_key, host_key, test, backend,"
    " nic, transport) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    " ON CONFLICT (metric, config_key, host_key) DO NOTHING";
static const char sql_find_series[] =
    "SELECT id FROM series WHERE metric = $1 AND config_key = $2 AND host_key = $3";
static const char sql_add_result[] =
    "INSERT INTO results (run_id, series_id, iterations, mean, std_dev, ci_low, ci_high, samples)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char sql_load[] =
    "SELECT s.id, s.metric, s.unit, s.higher_is_better, s.config_key, s.host_key, s.test,"
    " s.backend, s.nic, s.transport, r.id, r.date, r.git_revision, r.git_branch, x.iterations,"
    " x.mean, x.std_dev, x.ci_low, x.ci_high, x.samples"
    " FROM results x JOIN series s ON s.id = x.series_id JOIN runs r ON r.id = x.run_id"
    " ORDER BY s.id, r.date, r.id";
static const char sql_export[] = "SELECT id, report FROM runs ORDER BY date, id";

static int get_version(const struct hdb_row *row, void *ctx)
{
    *(long long *)ctx = row->ops->integer(row, 0);
    return 0;
}

int history_open(const char *url, bool create, struct history **out, char *err, size_t errlen)
{
    struct history *h = calloc(1, sizeof(*h));
    long long version = -1;
    char *schema = NULL;
    int rc;

    *out = NULL;
    if (!h)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    h->ops = !strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11) ? &hdb_postgres
                                                                                    : &hdb_sqlite;
    rc = h->ops->open(url, create, &h->conn, err, errlen);
    if (rc)
        goto fail;
    if (create) {
        if (asprintf(&schema, schema_fmt, h->ops->id_column) < 0) {
            schema = NULL;
            rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
            goto fail;
        }
        rc = h->ops->script(h->conn, schema, err, errlen);
        if (rc)
            goto fail;
    }
    rc = h->ops->query(h->conn, sql_version, NULL, 0, get_version, &version, err, errlen);
    if (rc) {
        rc = errbuf_set(err, errlen, -EINVAL,
                        "the %s database is not a burette history (%s); give the --db of one, "
                        "or a new path to start one",
                        h->ops->name, err);
        goto fail;
    }
    if (version < 0 && create) {
        rc = h->ops->query(h->conn, sql_set_version, (struct hdb_param[]){HDB_INTP(SCHEMA_VERSION)},
                           1, NULL, NULL, err, errlen);
        if (rc)
            goto fail;
        version = SCHEMA_VERSION;
    }
    if (version != SCHEMA_VERSION) {
        rc = errbuf_set(err, errlen, -EINVAL,
                        "the history database has schema version %lld, this burette reads "
                        "version %d: use a matching burette or a new database",
                        version, SCHEMA_VERSION);
        goto fail;
    }
    free(schema);
    *out = h;
    return 0;
fail:
    free(schema);
    history_close(h);
    return rc;
}

void history_close(struct history *h)
{
    if (!h)
        return;
    if (h->in_transaction)
        history_rollback(h);
    if (h->conn)
        h->ops->close(h->conn);
    free(h);
}

int history_begin(struct history *h, char *err, size_t errlen)
{
    int rc = h->ops->script(h->conn, "BEGIN", err, errlen);

    h->in_transaction = !rc;
    return rc;
}

int history_commit(struct history *h, char *err, size_t errlen)
{
    int rc = h->ops->script(h->conn, "COMMIT", err, errlen);

    h->in_transaction = false;
    return rc;
}

void history_rollback(struct history *h)
{
    h->ops->script(h->conn, "ROLLBACK", NULL, 0);
    h->in_transaction = false;
}

static const char *host_string(const json_t *host, const char *key, char *buf, size_t len)
{
    const json_t *v = host ? json_object_get(host, key) : NULL;

    if (json_is_string(v) && *json_string_value(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return "unknown";
}

char *history_host_key(const json_t *host)
{
    char cores[32], qemu[64];
    char *key;

    if (asprintf(&key, "%s, %s cores, qemu %s",
                 host_string(host, "cpu_model", cores, sizeof(cores)),
                 host_string(host, "cpu_count", cores, sizeof(cores)),
                 host_string(host, "qemu_version", qemu, sizeof(qemu))) < 0)
        return NULL;
    return key;
}

/* Keys that change how precise a run is, where its files went, or which `burette run` it was
 * (run_id, new with every run), not what it measures: runs differing only in them belong to
 * one series. */
static const char *const precision_keys[] = {"iterations", "warmup", "log_dir",
                                             "perf_dir",   "output", "run_id"};

char *history_config_key(const json_t *config)
{
    json_t *copy = json_is_object(config) ? json_deep_copy(config) : json_object();
    char *key;

    if (!copy)
        return NULL;
    for (size_t i = 0; i < sizeof(precision_keys) / sizeof(precision_keys[0]); i++)
        json_object_del(copy, precision_keys[i]);
    key = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(copy);
    return key;
}

/* FNV-1a over the canonical report text, with its length: tells one report from another;
 * adding a file twice, or two copies of it, yields the same digest. */
static void digest_of(const char *text, char *out, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)text; *p; p++, n++)
        h = (h ^ *p) * 0x100000001b3ull;
    snprintf(out, len, "%016" PRIx64 "-%zu", h, n);
}

static int get_id(const struct hdb_row *row, void *ctx)
{
    *(long long *)ctx = row->ops->integer(row, 0);
    return 0;
}

static const char *config_string(const json_t *config, const char *key)
{
    const json_t *v = json_is_object(config) ? json_object_get(config, key) : NULL;

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int add_result(struct history *h, const struct report *r, const struct metric *m,
                      long long run_id, const char *config_key, const char *host_key, char *err,
                      size_t errlen)
{
    long long series_id = -1;
    char *samples = NULL;
    int rc;

    rc = h->ops->query(h->conn, sql_add_series,
                       (struct hdb_param[]){HDB_TEXTP(m->name), HDB_TEXTP(m->unit),
                                            HDB_INTP(metric_higher_is_better(m)),
                                            HDB_TEXTP(config_key), HDB_TEXTP(host_key),
                                            HDB_TEXTP(config_string(r->config, "test")),
                                            HDB_TEXTP(config_string(r->config, "backend")),
                                            HDB_TEXTP(config_string(r->config, "nic")),
                                            HDB_TEXTP(config_string(r->config, "transport"))},
                       9, NULL, NULL, err, errlen);
    if (!rc)
        rc = h->ops->query(
            h->conn, sql_find_series,
            (struct hdb_param[]){HDB_TEXTP(m->name), HDB_TEXTP(config_key), HDB_TEXTP(host_key)}, 3,
            get_id, &series_id, err, errlen);
    if (rc)
        return rc;
    if (series_id < 0)
        return errbuf_set(err, errlen, -EIO, "series of %s vanished while adding", m->name);
    if (m->nsamples) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < m->nsamples; i++)
            json_array_append_new(a, json_real(m->samples[i]));
        samples = a ? json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(a);
        if (!samples)
            return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    }
    rc = h->ops->query(h->conn, sql_add_result,
                       (struct hdb_param[]){HDB_INTP(run_id),
                                            HDB_INTP(series_id),
                                            HDB_INTP((long long)m->st.n),
                                            {.type = HDB_REAL, .d = m->st.mean},
                                            {.type = HDB_REAL, .d = m->st.std_dev},
                                            {.type = HDB_REAL, .d = m->st.ci95_low},
                                            {.type = HDB_REAL, .d = m->st.ci95_high},
                                            HDB_TEXTP(samples)},
                       8, NULL, NULL, err, errlen);
    free(samples);
    return rc;
}

int history_add(struct history *h, struct report *r, bool *added, char *err, size_t errlen)
{
    char *text = NULL, *config_key = NULL, *host_key = NULL, digest[48];
    long long run_id = -1;
    json_t *doc = NULL;
    int rc = 0;

    *added = false;
    if (!r->date || !*r->date)
        return errbuf_set(err, errlen, -EINVAL,
                          "the report has no \"date\": the history orders runs by it; add one "
                          "(ISO 8601, UTC) or write the report with 'burette run'");
    if (!r->host) {
        json_t *empty = json_object();

        if (!empty)
            return errbuf_set(err, errlen, -ENOMEM, "out of memory");
        report_set_host(r, empty);
    }
    doc = report_to_json(r);
    text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17)) : NULL;
    config_key = history_config_key(r->config);
    host_key = history_host_key(r->host);
    if (!text || !config_key || !host_key) {
        rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
        goto out;
    }
    digest_of(text, digest, sizeof(digest));
    rc = h->ops->query(h->conn, sql_add_run,
                       (struct hdb_param[]){HDB_TEXTP(digest), HDB_TEXTP(r->git_revision),
                                            HDB_TEXTP(r->git_branch), HDB_TEXTP(r->git_commit_date),
                                            HDB_TEXTP(r->date), HDB_TEXTP(host_key),
                                            HDB_TEXTP(text)},
                       7, get_id, &run_id, err, errlen);
    if (rc || run_id < 0)
        goto out;
    for (size_t i = 0; i < r->nmetrics && !rc; i++)
        rc = add_result(h, r, &r->metrics[i], run_id, config_key, host_key, err, errlen);
    if (!rc)
        *added = true;
out:
    json_decref(doc);
    free(text);
    free(config_key);
    free(host_key);
    return rc;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static bool run_matches(const struct history_filter *f, const char *date, const char *branch)
{
    if (f->branch && strcmp(f->branch, branch ? branch : ""))
        return false;
    /* ISO 8601 in UTC sorts as text; "2026-11-20" is before every time of that day. */
    if (f->since && strcmp(date ? date : "", f->since) < 0)
        return false;
    return true;
}

static bool series_matches(const struct history_filter *f, const char *metric, const char *host,
                           const char *backend)
{
    if (f->metric && strcmp(f->metric, metric ? metric : ""))
        return false;
    if (f->host && !strstr(host ? host : "", f->host))
        return false;
    if (f->backend && strcmp(f->backend, backend ? backend : ""))
        return false;
    return true;
}

static void series_free_one(struct history_series *s);

struct load_ctx {
    const struct history_filter *f;
    struct history_series *series;
    size_t n, cap;
    long long current_id;
    bool current_skipped;
};

static int parse_samples(const char *text, struct history_point *p)
{
    json_t *a = text ? json_loads(text, 0, NULL) : NULL;
    size_t i;
    json_t *v;

    if (!json_is_array(a)) {
        json_decref(a);
        return 0;
    }
    p->samples = calloc(json_array_size(a) + 1, sizeof(*p->samples));
    if (!p->samples) {
        json_decref(a);
        return -ENOMEM;
    }
    json_array_foreach(a, i, v)
    {
        if (json_is_number(v))
            p->samples[p->nsamples++] = json_number_value(v);
    }
    json_decref(a);
    return 0;
}

static int load_row(const struct hdb_row *row, void *vctx)
{
    struct load_ctx *c = vctx;
    const struct hdb_ops *o = row->ops;
    long long id = o->integer(row, 0);
    struct history_series *s;
    struct history_point *points, *p;

    if (id != c->current_id) {
        c->current_id = id;
        c->current_skipped =
            !series_matches(c->f, o->text(row, 1), o->text(row, 5), o->text(row, 7));
        if (!c->current_skipped) {
            struct history_series *series =
                array_reserve(c->series, c->n, &c->cap, sizeof(*series), 16);

            if (!series)
                return -ENOMEM;
            c->series = series;
            s = &c->series[c->n++];
            memset(s, 0, sizeof(*s));
            s->metric = dup_or_empty(o->text(row, 1));
            s->unit = dup_or_empty(o->text(row, 2));
            s->higher_is_better = o->integer(row, 3) != 0;
            s->config_key = dup_or_empty(o->text(row, 4));
            s->host_key = dup_or_empty(o->text(row, 5));
            s->test = dup_or_empty(o->text(row, 6));
            s->backend = dup_or_empty(o->text(row, 7));
            s->nic = dup_or_empty(o->text(row, 8));
            s->transport = dup_or_empty(o->text(row, 9));
            if (!s->metric || !s->unit || !s->config_key || !s->host_key || !s->test ||
                !s->backend || !s->nic || !s->transport)
                return -ENOMEM;
        }
    }
    if (c->current_skipped || !run_matches(c->f, o->text(row, 11), o->text(row, 13)))
        return 0;
    s = &c->series[c->n - 1];
    points = array_reserve(s->points, s->npoints, &s->cap, sizeof(*points), 32);
    if (!points)
        return -ENOMEM;
    s->points = points;
    p = &s->points[s->npoints++];
    memset(p, 0, sizeof(*p));
    p->run_id = o->integer(row, 10);
    p->date = dup_or_empty(o->text(row, 11));
    p->revision = dup_or_empty(o->text(row, 12));
    p->branch = dup_or_empty(o->text(row, 13));
    p->iterations = (long)o->integer(row, 14);
    p->mean = o->real(row, 15);
    p->std_dev = o->real(row, 16);
    p->ci_low = o->real(row, 17);
    p->ci_high = o->real(row, 18);
    if (!p->date || !p->revision || !p->branch || parse_samples(o->text(row, 19), p))
        return -ENOMEM;
    return 0;
}

int history_load(struct history *h, const struct history_filter *f, struct history_series **out,
                 size_t *nout, char *err, size_t errlen)
{
    struct load_ctx c = {.f = f, .current_id = -1};
    size_t kept = 0;
    int rc;

    *out = NULL;
    *nout = 0;
    rc = h->ops->query(h->conn, sql_load, NULL, 0, load_row, &c, err, errlen);
    if (rc == -ENOMEM)
        errbuf_set(err, errlen, rc, "out of memory reading the history");
    if (rc) {
        for (size_t i = 0; i < c.n; i++)
            series_free_one(&c.series[i]);
        free(c.series);
        return rc;
    }
    /* Series whose every run the run filters removed say nothing: leave them out. */
    for (size_t i = 0; i < c.n; i++) {
        if (c.series[i].npoints)
            c.series[kept++] = c.series[i];
        else
            series_free_one(&c.series[i]);
    }
    if (!kept) {
        free(c.series);
        c.series = NULL;
    }
    *out = c.series;
    *nout = kept;
    return 0;
}

static void point_free(struct history_point *p)
{
    free(p->date);
    free(p->revision);
    free(p->branch);
    free(p->samples);
}

static void series_free_one(struct history_series *s)
{
    for (size_t j = 0; j < s->npoints; j++)
        point_free(&s->points[j]);
    free(s->points);
    free(s->metric);
    free(s->unit);
    free(s->config_key);
    free(s->host_key);
    free(s->test);
    free(s->backend);
    free(s->nic);
    free(s->transport);
}

void history_series_free(struct history_series *s, size_t n)
{
    if (!s)
        return;
    for (size_t i = 0; i < n; i++)
        series_free_one(&s[i]);
    free(s);
}

struct export_ctx {
    struct history_series *series;
    size_t nseries;
    json_t *out;
};

static bool run_in_series(const struct export_ctx *c, long long run_id)
{
    for (size_t i = 0; i < c->nseries; i++)
        for (size_t j = 0; j < c->series[i].npoints; j++)
            if (c->series[i].points[j].run_id == run_id)
                return true;
    return false;
}

static int export_row(const struct hdb_row *row, void *vctx)
{
    struct export_ctx *c = vctx;
    const char *text = row->ops->text(row, 1);
    json_t *doc;

    if (!run_in_series(c, row->ops->integer(row, 0)))
        return 0;
    doc = text ? json_loads(text, 0, NULL) : NULL;
    if (!doc || json_array_append_new(c->out, doc) < 0)
        return -EPROTO;
    return 0;
}

int history_export(struct history *h, const struct history_filter *f, json_t **out, char *err,
                   size_t errlen)
{
    struct export_ctx c = {0};
    int rc;

    *out = NULL;
    rc = history_load(h, f, &c.series, &c.nseries, err, errlen);
    if (rc)
        return rc;
    c.out = json_array();
    if (!c.out) {
        rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
        goto out;
    }
    rc = h->ops->query(h->conn, sql_export, NULL, 0, export_row, &c, err, errlen);
    if (rc == -EPROTO)
        errbuf_set(err, errlen, rc, "a stored report is not valid JSON (is the database damaged?)");
    if (rc) {
        json_decref(c.out);
        goto out;
    }
    *out = c.out;
out:
    history_series_free(c.series, c.nseries);
    return rc;
}
