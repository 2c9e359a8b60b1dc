/* SPDX-License-Identifier: MIT */
/*
 * Tests of results/history (the store) and results/history_detect (change points over it),
 * the same cases against each engine: `test_history sqlite` runs them on a fresh SQLite file
 * per case, `test_history postgresql STATE` on the throwaway cluster whose URL
 * tests/history/pg-cluster wrote to STATE, with the tables dropped before each case.
 *
 * Reports are built here in memory; every expected number follows from the samples given.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "errbuf.h"
#include "history.h"
#include "history_detect.h"

static char url[4096];
static char sqlite_path[64];
static bool postgres;

static int fresh_database(void **state)
{
    if (!postgres) {
        int fd;

        snprintf(sqlite_path, sizeof(sqlite_path), "/tmp/burette-history-test.XXXXXX");
        fd = mkstemp(sqlite_path);
        assert_true(fd >= 0);
        close(fd);
        unlink(sqlite_path); /* a new path: history_open() creates the database */
        snprintf(url, sizeof(url), "%s", sqlite_path);
    } else {
        PGconn *c = PQconnectdb(url);
        PGresult *r;

        assert_int_equal(PQstatus(c), CONNECTION_OK);
        r = PQexec(c, "SET client_min_messages = warning;"
                      "DROP TABLE IF EXISTS results, series, runs, burette_schema");
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
        PQfinish(c);
    }
    return 0;
}

static int remove_database(void **state)
{
    if (!postgres)
        unlink(sqlite_path);
    return 0;
}

static void set_string(char **field, const char *value)
{
    free(*field);
    *field = strdup(value);
    assert_non_null(*field);
}

/* A report of one run: @tx is the mean of three samples around it (tx - 0.01, tx, tx + 0.01). */
static struct report *make_report(const char *revision, const char *date, const char *branch,
                                  const char *backend, const char *cpu, double tx)
{
    struct report *r = report_new();
    char err[ERRBUF_LEN];

    assert_non_null(r);
    set_string(&r->git_revision, revision);
    set_string(&r->git_branch, branch);
    set_string(&r->date, date);
    report_set_config(r, json_pack("{s:s, s:s, s:s, s:i, s:i}", "test", "network", "backend",
                                   backend, "nic", "virtio-net", "vcpus", 2, "iterations", 3));
    if (cpu)
        report_set_host(r, json_pack("{s:s, s:i, s:s}", "cpu_model", cpu, "cpu_count", 2,
                                     "qemu_version", "10.0.2"));
    for (int i = -1; i <= 1; i++) {
        assert_int_equal(report_add_sample(r, "net_virtio-net_tcp_tx_gbps", "Gbps", tx + 0.01 * i,
                                           err, sizeof(err)),
                         0);
        assert_int_equal(
            report_add_sample(r, "boot_time_ms", "ms", 2500 + 10 * i, err, sizeof(err)), 0);
    }
    return r;
}

static struct history *open_history(bool create)
{
    struct history *h;
    char err[ERRBUF_LEN];
    int rc = history_open(url, create, &h, err, sizeof(err));

    if (rc)
        fail_msg("history_open(%s): %s", url, err);
    return h;
}

static void add(struct history *h, struct report *r, bool expect_added)
{
    char err[ERRBUF_LEN];
    bool added;

    if (history_add(h, r, &added, err, sizeof(err)))
        fail_msg("history_add: %s", err);
    assert_int_equal(added, expect_added);
}

static void load(struct history *h, const struct history_filter *f, struct history_series **s,
                 size_t *n)
{
    char err[ERRBUF_LEN];

    if (history_load(h, f, s, n, err, sizeof(err)))
        fail_msg("history_load: %s", err);
}

static const struct history_series *find(const struct history_series *s, size_t n,
                                         const char *metric)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s[i].metric, metric))
            return &s[i];
    return NULL;
}

static void test_history_keeps_runs_in_date_order_with_their_samples(void **state)
{
    struct history *h = open_history(true);
    struct history_filter f = {0};
    struct history_series *s;
    const struct history_series *tx;
    size_t n;
    /* added out of order: the series is read back by date */
    struct report *r2 = make_report("bbb", "2026-11-21T01:00:00Z", "main", "consomme", "CPU A", 2);
    struct report *r1 = make_report("aaa", "2026-11-20T01:00:00Z", "main", "consomme", "CPU A", 1);

    add(h, r2, true);
    add(h, r1, true);
    load(h, &f, &s, &n);
    assert_int_equal(n, 2);
    tx = find(s, n, "net_virtio-net_tcp_tx_gbps");
    assert_non_null(tx);
    assert_int_equal(tx->npoints, 2);
    assert_string_equal(tx->points[0].revision, "aaa");
    assert_string_equal(tx->points[1].revision, "bbb");
    assert_true(fabs(tx->points[0].mean - 1.0) < 1e-12);
    assert_int_equal(tx->points[0].nsamples, 3);
    assert_true(tx->points[0].samples[0] == 1.0 - 0.01);
    assert_true(tx->points[0].samples[2] == 1.0 + 0.01);
    assert_int_equal(tx->points[0].iterations, 3);
    assert_true(fabs(tx->points[0].std_dev - 0.01) < 1e-12);
    assert_true(tx->points[0].ci_low < 1.0 && tx->points[0].ci_high > 1.0);
    assert_true(tx->higher_is_better);
    assert_false(find(s, n, "boot_time_ms")->higher_is_better);
    assert_string_equal(tx->unit, "Gbps");
    assert_string_equal(tx->backend, "consomme");
    assert_string_equal(tx->host_key, "CPU A, 2 cores, qemu 10.0.2");
    history_series_free(s, n);
    report_free(r1);
    report_free(r2);
    history_close(h);
}

static void test_history_adding_the_same_report_twice_keeps_one(void **state)
{
    struct history *h = open_history(true);
    struct history_filter f = {0};
    struct report *r = make_report("aaa", "2026-11-20T01:00:00Z", "main", "consomme", "CPU A", 1);
    struct report *copy =
        make_report("aaa", "2026-11-20T01:00:00Z", "main", "consomme", "CPU A", 1);
    struct history_series *s;
    size_t n;

    add(h, r, true);
    add(h, r, false);
    add(h, copy, false);
    history_close(h);
    /* and once more after reopening: the digest is stored, not remembered */
    h = open_history(true);
    add(h, r, false);
    load(h, &f, &s, &n);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].npoints, 1);
    history_series_free(s, n);
    report_free(r);
    report_free(copy);
    history_close(h);
}

static void test_history_never_mixes_hosts_or_configs(void **state)
{
    struct history *h = open_history(true);
    struct history_filter f = {.metric = "net_virtio-net_tcp_tx_gbps"};
    struct report *r[5] = {
        make_report("a", "2026-11-20T01:00:00Z", "main", "consomme", "CPU A", 1),
        make_report("b", "2026-11-21T01:00:00Z", "main", "consomme", "CPU B", 1),
        make_report("c", "2026-11-22T01:00:00Z", "main", "passt", "CPU A", 1),
        make_report("d", "2026-11-23T01:00:00Z", "main", "consomme", NULL, 1),
        /* only the iteration count differs from "a": the same series */
        make_report("e", "2026-11-24T01:00:00Z", "main", "consomme", "CPU A", 1),
    };
    struct history_series *s;
    size_t n, points = 0;
    bool unknown = false;

    json_object_set_new(r[4]->config, "iterations", json_integer(10));
    for (size_t i = 0; i < 5; i++)
        add(h, r[i], true);
    load(h, &f, &s, &n);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        points += s[i].npoints;
        unknown |= !strcmp(s[i].host_key, "unknown, unknown cores, qemu unknown");
    }
    assert_int_equal(points, 5);
    assert_true(unknown);
    history_series_free(s, n);
    for (size_t i = 0; i < 5; i++)
        report_free(r[i]);
    history_close(h);
}

static void test_history_filters_by_metric_branch_host_backend_and_date(void **state)
{
    struct history *h = open_history(true);
    struct report *r[4] = {
        make_report("a", "2026-11-20T01:00:00Z", "main", "consomme", "CPU A", 1),
        make_report("b", "2026-11-21T01:00:00Z", "topic", "consomme", "CPU A", 1),
        make_report("c", "2026-11-22T01:00:00Z", "main", "passt", "CPU B", 1),
        make_report("d", "2026-11-23T01:00:00Z", "main", "consomme", "CPU A", 1),
    };
    struct history_series *s;
    size_t n;

    for (size_t i = 0; i < 4; i++)
        add(h, r[i], true);
    load(h, &(struct history_filter){.metric = "boot_time_ms"}, &s, &n);
    assert_int_equal(n, 2);
    assert_string_equal(s[0].metric, "boot_time_ms");
    history_series_free(s, n);
    load(h, &(struct history_filter){.branch = "topic"}, &s, &n);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].npoints, 1);
    assert_string_equal(s[0].points[0].revision, "b");
    history_series_free(s, n);
    load(h, &(struct history_filter){.host = "CPU B"}, &s, &n);
    assert_int_equal(n, 2);
    assert_string_equal(s[0].backend, "passt");
    history_series_free(s, n);
    load(h, &(struct history_filter){.backend = "consomme", .since = "2026-11-21"}, &s, &n);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].npoints, 2);
    assert_string_equal(s[0].points[0].revision, "b");
    history_series_free(s, n);
    load(h, &(struct history_filter){.metric = "no_such_metric"}, &s, &n);
    assert_int_equal(n, 0);
    assert_null(s);
    for (size_t i = 0; i < 4; i++)
        report_free(r[i]);
    history_close(h);
}

static void test_history_export_gives_back_the_reports_added(void **state)
{
    struct history *h = open_history(true);
    struct report *r1 = make_report("aaa", "2026-11-20T01:00:00Z", "main", "consomme", "CPU A", 1);
    struct report *r2 = make_report("bbb", "2026-11-21T01:00:00Z", "main", "passt", "CPU A", 2);
    struct report *back;
    char err[ERRBUF_LEN];
    json_t *out;

    add(h, r2, true);
    add(h, r1, true);
    assert_int_equal(history_export(h, &(struct history_filter){0}, &out, err, sizeof(err)), 0);
    assert_int_equal(json_array_size(out), 2);
    /* oldest first, and readable as a report again, samples included */
    assert_int_equal(report_from_json(json_array_get(out, 0), "export", &back, err, sizeof(err)),
                     0);
    assert_string_equal(back->git_revision, "aaa");
    assert_int_equal(report_find_metric(back, "net_virtio-net_tcp_tx_gbps")->nsamples, 3);
    report_free(back);
    json_decref(out);
    assert_int_equal(
        history_export(h, &(struct history_filter){.backend = "passt"}, &out, err, sizeof(err)), 0);
    assert_int_equal(json_array_size(out), 1);
    json_decref(out);
    report_free(r1);
    report_free(r2);
    history_close(h);
}

static void test_history_rollback_adds_nothing(void **state)
{
    struct history *h = open_history(true);
    struct report *r = make_report("aaa", "2026-11-20T01:00:00Z", "main", "consomme", "CPU A", 1);
    struct history_series *s;
    char err[ERRBUF_LEN];
    size_t n;

    assert_int_equal(history_begin(h, err, sizeof(err)), 0);
    add(h, r, true);
    history_rollback(h);
    load(h, &(struct history_filter){0}, &s, &n);
    assert_int_equal(n, 0);
    /* and the report can be added after all */
    add(h, r, true);
    report_free(r);
    history_close(h);
}

static void test_history_refuses_a_report_without_a_date(void **state)
{
    struct history *h = open_history(true);
    struct report *r = make_report("aaa", "", "main", "consomme", "CPU A", 1);
    char err[ERRBUF_LEN];
    bool added;

    assert_int_equal(history_add(h, r, &added, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "date"));
    report_free(r);
    history_close(h);
}

static void test_history_reading_a_missing_database_says_how_to_start_one(void **state)
{
    struct history *h;
    char err[ERRBUF_LEN];

    if (postgres)
        skip(); /* a server database always exists; its tables are checked below */
    assert_int_not_equal(history_open(url, false, &h, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "history add"));
    assert_int_equal(access(url, F_OK), -1); /* and nothing was created */
}

static void test_history_refuses_a_database_that_is_not_a_history(void **state)
{
    struct history *h;
    char err[ERRBUF_LEN];

    if (!postgres) {
        FILE *f = fopen(url, "w");

        assert_non_null(f);
        fputs("not a database at all, just text that is long enough to be a header....", f);
        fclose(f);
    }
    /* PostgreSQL: the database exists but has no history tables */
    assert_int_not_equal(history_open(url, false, &h, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "not a burette history"));
}

static void test_history_detect_flags_a_recent_regression(void **state)
{
    struct history *h = open_history(true);
    struct history_detection d;
    struct history_series *s;
    const struct history_change *c = NULL;
    struct ed_options o;
    char err[ERRBUF_LEN], rev[16], date[32];
    size_t n;

    /* 20 nights at 2.0 Gbps, then 4 at 1.6: a 20% drop 4 runs ago */
    for (int i = 0; i < 24; i++) {
        struct report *r;

        snprintf(rev, sizeof(rev), "rev%02d", i);
        snprintf(date, sizeof(date), "2026-10-%02dT01:00:00Z", i + 1);
        r = make_report(rev, date, "main", "consomme", "CPU A", i < 20 ? 2.0 : 1.6);
        add(h, r, true);
        report_free(r);
    }
    load(h, &(struct history_filter){0}, &s, &n);
    ed_options_default(&o);
    assert_int_equal(history_detect(s, n, &o, 5, &d, err, sizeof(err)), 0);
    for (size_t i = 0; i < d.nchanges; i++)
        if (!strcmp(s[d.changes[i].series].metric, "net_virtio-net_tcp_tx_gbps"))
            c = &d.changes[i];
    assert_non_null(c);
    assert_int_equal(d.nchanges, 1); /* boot time never moved */
    assert_int_equal(c->c.index, 20);
    assert_true(c->regression);
    assert_true(c->recent);
    assert_true(fabs(c->c.change + 0.2) < 1e-9);
    assert_true(history_detect_gate(&d));
    history_detection_free(&d);
    /* the same drop looked at with a window of 3 runs is not recent any more */
    assert_int_equal(history_detect(s, n, &o, 3, &d, err, sizeof(err)), 0);
    assert_false(history_detect_gate(&d));
    history_detection_free(&d);
    history_series_free(s, n);
    history_close(h);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_history_keeps_runs_in_date_order_with_their_samples,
                                        fresh_database, remove_database),
        cmocka_unit_test_setup_teardown(test_history_adding_the_same_report_twice_keeps_one,
                                        fresh_database, remove_database),
        cmocka_unit_test_setup_teardown(test_history_never_mixes_hosts_or_configs, fresh_database,
                                        remove_database),
        cmocka_unit_test_setup_teardown(test_history_filters_by_metric_branch_host_backend_and_date,
                                        fresh_database, remove_database),
        cmocka_unit_test_setup_teardown(test_history_export_gives_back_the_reports_added,
                                        fresh_database, remove_database),
        cmocka_unit_test_setup_teardown(test_history_rollback_adds_nothing, fresh_database,
                                        remove_database),
        cmocka_unit_test_setup_teardown(test_history_refuses_a_report_without_a_date,
                                        fresh_database, remove_database),
        cmocka_unit_test_setup_teardown(
            test_history_reading_a_missing_database_says_how_to_start_one, fresh_database,
            remove_database),
        cmocka_unit_test_setup_teardown(test_history_refuses_a_database_that_is_not_a_history,
                                        fresh_database, remove_database),
        cmocka_unit_test_setup_teardown(test_history_detect_flags_a_recent_regression,
                                        fresh_database, remove_database),
    };

    if (argc >= 3 && !strcmp(argv[1], "postgresql")) {
        FILE *f = fopen(argv[2], "r");

        if (!f || !fgets(url, sizeof(url), f)) {
            fprintf(stderr, "test_history: cannot read the cluster's URL from %s\n", argv[2]);
            return 1;
        }
        fclose(f);
        url[strcspn(url, "\n")] = '\0';
        postgres = true;
    } else if (argc < 2 || strcmp(argv[1], "sqlite")) {
        fprintf(stderr, "usage: test_history sqlite | postgresql STATE\n");
        return 2;
    }
    cmocka_set_message_output(CM_OUTPUT_STDOUT);
    return cmocka_run_group_tests_name(postgres ? "history on PostgreSQL" : "history on SQLite",
                                       tests, NULL, NULL);
}
