/* SPDX-License-Identifier: MIT */
/*
 * cmd_history - `burette history add|list|export|detect|report`: the results history
 *
 * Reports go into a database (results/history.h: SQLite file by default, PostgreSQL by URL)
 * and come back out as lists, JSON, change points (results/history_detect.h) or an HTML page.
 * `add` reads every report before it writes anything and adds them in one transaction: a bad
 * report is named and nothing is added. `detect --fail-on-change` is the nightly gate.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "errbuf.h"
#include "history.h"
#include "history_detect.h"
#include "history_render.h"
#include "parse.h"
#include "render_impl.h"
#include "table.h"

#define DEFAULT_DB        "results.sqlite"
#define DEFAULT_LAST_RUNS 5

enum sub { SUB_ADD = 1, SUB_LIST = 2, SUB_EXPORT = 4, SUB_DETECT = 8, SUB_REPORT = 16 };
#define SUB_READ   (SUB_LIST | SUB_EXPORT | SUB_DETECT | SUB_REPORT)
#define SUB_CHANGE (SUB_DETECT | SUB_REPORT)

static const struct cli_command subs[] = {
    {"add", NULL, SUB_ADD, "store reports (adding one twice keeps one)"},
    {"list", NULL, SUB_LIST, "list stored results, one row per run and metric"},
    {"export", NULL, SUB_EXPORT, "write the stored reports back out as a JSON array"},
    {"detect", NULL, SUB_DETECT, "find change points per series; the nightly gate"},
    {"report", NULL, SUB_REPORT, "one self-contained HTML page: charts and change points"},
};
#define NSUBS (sizeof(subs) / sizeof(subs[0]))

static void usage(FILE *f)
{
    fprintf(f, "Usage: burette history SUBCOMMAND [OPTIONS] [REPORT...]\n\n"
               "Keep every run's report in a database and find where a metric moved.\n\n"
               "Subcommands:\n");
    cli_print_commands(f, subs, NSUBS);
    fprintf(f,
            "\n"
            "Options:\n"
            "  --db URL              SQLite file (default %s, or $BURETTE_HISTORY_DB) or a\n"
            "                        postgresql://USER@HOST/DB URL (libpq's, including\n"
            "                        ?host=/socket/dir)\n"
            "\n"
            "Filters (list, export, detect, report):\n"
            "  --metric NAME         only this metric\n"
            "  --branch NAME         only runs of this git branch\n"
            "  --host TEXT           only hosts whose fingerprint contains TEXT\n"
            "                        (\"CPU model, N cores, qemu VERSION\")\n"
            "  --backend NAME        only this backend\n"
            "  --since DATE          only runs dated DATE or later (ISO 8601, UTC)\n"
            "\n"
            "Change points (detect, report):\n"
            "  --min-magnitude PCT   smallest change reported, in percent (default 5)\n"
            "  --significance P      permutation-test level (default 0.01)\n"
            "  --permutations N      permutation rounds (default 499)\n"
            "  --min-segment N       fewest runs on either side of a change (default 3)\n"
            "  --last-runs K         a change is recent within the last K runs (default %d)\n"
            "  --input WHAT          samples: every sample of every run (runs without samples\n"
            "                        fall back to means for their series); means: one mean\n"
            "                        per run (default %s)\n"
            "  --fail-on-change      detect: exit 1 when some series' newest change point is a\n"
            "                        recent regression\n"
            "  --gate SPEC           what --fail-on-change judges: 'results' (default: all\n"
            "                        but diagnostics: _cpu_percent, _ms_per_gbit,\n"
            "                        _retransmits, _lost_percent, _lost, _stalled_intervals),\n"
            "                        'rates' (_gbps, _pps, _per_s), 'all', or metric-name\n"
            "                        globs, comma-separated; the rest are shown, never fail\n"
            "\n"
            "Output:\n"
            "  -f, --format FORMAT   list: text, markdown, json; detect: %s;\n"
            "                        report: html (default text, for report html)\n"
            "  -o, --output FILE     write to FILE instead of stdout\n"
            "  -h, --help            show this help\n"
            "\n"
            "A series is one metric under one config (test, backend, nic, transport, vCPUs, ...)\n"
            "on one host fingerprint: change points are never looked for across series.\n"
            "Exit status: 0 success (and no gate failure), 1 a recent regression with\n"
            "--fail-on-change or a database error, 2 bad usage or bad input.\n",
            DEFAULT_DB, DEFAULT_LAST_RUNS, ED_DEFAULT_ON_SAMPLES ? "samples" : "means",
            history_render_formats());
}

struct history_args {
    enum sub sub;
    const char *name;
    char cmd[32]; /* "history NAME", for messages */
    const char *db;
    const char *format;
    const char *output;
    struct history_filter filter;
    struct ed_options ed;
    size_t last_runs;
    bool fail_on_change;
    const char *gate; /* --gate SPEC, NULL for the default */
    char **reports;
    int nreports;
};

static int parse_args(int argc, char **argv, struct history_args *a)
{
    double min_magnitude = NAN; /* in percent; a->ed keeps a fraction */
    size_t permutations = 0;    /* a->ed's is unsigned: 0, never valid, is "not given" */
    const char *input = NULL;   /* --input samples|means */
    const struct cli_option options[] = {
        CLI_OPTION("db", 0, CLI_TEXT, &a->db),
        CLI_OPTION("metric", 0, CLI_TEXT, &a->filter.metric, .only = SUB_READ),
        CLI_OPTION("branch", 0, CLI_TEXT, &a->filter.branch, .only = SUB_READ),
        CLI_OPTION("host", 0, CLI_TEXT, &a->filter.host, .only = SUB_READ),
        CLI_OPTION("backend", 0, CLI_TEXT, &a->filter.backend, .only = SUB_READ),
        CLI_OPTION("since", 0, CLI_TEXT, &a->filter.since, .only = SUB_READ),
        CLI_OPTION("min-magnitude", 0, CLI_NUMBER, &min_magnitude, .min = 0, .max = 1000,
                   .only = SUB_CHANGE),
        CLI_OPTION("significance", 0, CLI_NUMBER, &a->ed.significance, .min = 1e-6, .max = 1,
                   .only = SUB_CHANGE),
        CLI_OPTION("permutations", 0, CLI_COUNT, &permutations, .min = 1, .max = 1000000,
                   .only = SUB_CHANGE),
        CLI_OPTION("min-segment", 0, CLI_COUNT, &a->ed.min_segment, .min = 2, .max = 1000000,
                   .only = SUB_CHANGE),
        CLI_OPTION("last-runs", 0, CLI_COUNT, &a->last_runs, .min = 1, .max = 1000000,
                   .only = SUB_CHANGE),
        CLI_OPTION("fail-on-change", 0, CLI_FLAG, &a->fail_on_change, .only = SUB_DETECT),
        CLI_OPTION("gate", 0, CLI_TEXT, &a->gate, .only = SUB_CHANGE),
        CLI_OPTION("input", 0, CLI_TEXT, &input, .only = SUB_CHANGE),
        CLI_OPTION("format", 'f', CLI_TEXT, &a->format, .only = SUB_LIST | SUB_CHANGE),
        CLI_OPTION("output", 'o', CLI_TEXT, &a->output, .only = SUB_READ),
    };
    const char *cmd = a->cmd;
    int first, status;

    if (!cli_parse_options(cmd, argc, argv, options, sizeof(options) / sizeof(options[0]), usage,
                           a->sub, a->name, &first, &status))
        return status ? status : -1;
    if (!isnan(min_magnitude))
        a->ed.min_magnitude = min_magnitude / 100;
    if (permutations)
        a->ed.permutations = (unsigned)permutations;
    if (input) {
        if (strcmp(input, "samples") && strcmp(input, "means"))
            return cli_usage_error(cmd, "--input must be 'samples' or 'means', not '%s'", input);
        a->ed.on_samples = !strcmp(input, "samples");
    }
    a->reports = argv + first;
    a->nreports = argc - first;
    if (a->sub == SUB_ADD && !a->nreports)
        return cli_usage_error(cmd, "needs at least one REPORT");
    if (a->sub != SUB_ADD && a->nreports)
        return cli_usage_error(cmd, "takes no REPORT arguments (did you mean 'history add'?)");
    if (a->sub == SUB_LIST && strcmp(a->format, "text") && strcmp(a->format, "markdown") &&
        strcmp(a->format, "json"))
        return cli_usage_error(cmd,
                               "--format: unknown format '%s' (available: text, markdown, "
                               "json)",
                               a->format);
    if (a->sub == SUB_DETECT && strcmp(a->format, "text") && strcmp(a->format, "markdown") &&
        strcmp(a->format, "json") && strcmp(a->format, "html"))
        return cli_usage_error(cmd, "--format: unknown format '%s' (available: %s)", a->format,
                               history_render_formats());
    if (a->sub == SUB_REPORT && strcmp(a->format, "html"))
        return cli_usage_error(cmd, "--format: unknown format '%s' (available: html)", a->format);
    return 0;
}

static int open_db(const struct history_args *a, bool create, struct history **h)
{
    char err[ERRBUF_LEN];

    if (history_open(a->db, create, h, err, sizeof(err))) {
        fprintf(stderr, "burette history %s: %s\n", a->name, err);
        return 1;
    }
    return 0;
}

static int do_add(const struct history_args *a)
{
    struct report **reports = NULL;
    struct history *h = NULL;
    char err[ERRBUF_LEN];
    size_t n = 0, added = 0;
    int status;

    status = cli_read_reports("history add", a->reports, a->nreports, &reports, &n);
    if (status)
        goto out;
    status = open_db(a, true, &h);
    if (status)
        goto out;
    if (history_begin(h, err, sizeof(err))) {
        fprintf(stderr, "burette history add: %s\n", err);
        status = 1;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        bool was_added;
        int rc = history_add(h, reports[i], &was_added, err, sizeof(err));

        if (rc) {
            fprintf(stderr, "burette history add: %s: %s; nothing was added\n", a->reports[i], err);
            history_rollback(h);
            status = rc == -EINVAL ? EXIT_USAGE : 1;
            goto out;
        }
        added += was_added;
    }
    if (history_commit(h, err, sizeof(err))) {
        fprintf(stderr, "burette history add: %s; nothing was added\n", err);
        status = 1;
        goto out;
    }
    printf("added %zu report%s, %zu already stored\n", added, added == 1 ? "" : "s", n - added);
out:
    history_close(h);
    cli_free_reports(reports, n);
    return status;
}

static int print_list(FILE *f, const char *format, const struct history_series *s, size_t n)
{
    static const char *const headers[] = {"date",          "revision", "branch", "metric",
                                          "config / host", "n",        "mean",   "std dev"};
    static const enum table_align align[] = {ALIGN_LEFT, ALIGN_LEFT,  ALIGN_LEFT,  ALIGN_LEFT,
                                             ALIGN_LEFT, ALIGN_RIGHT, ALIGN_RIGHT, ALIGN_RIGHT};
    struct table t = {0};
    int rc;

    if (!strcmp(format, "json")) {
        json_t *rows = json_array();

        for (size_t i = 0; rows && i < n; i++)
            for (size_t j = 0; j < s[i].npoints; j++) {
                const struct history_point *p = &s[i].points[j];
                json_t *o;

                o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:f, s:o}", "date", p->date,
                              "revision", p->revision, "branch", p->branch, "metric", s[i].metric,
                              "unit", s[i].unit, "config", s[i].config_key, "host", s[i].host_key,
                              "iterations", (json_int_t)p->iterations, "mean", p->mean, "std_dev",
                              isfinite(p->std_dev) ? json_real(p->std_dev) : json_null());
                if (!o || json_array_append_new(rows, o) < 0) {
                    json_decref(rows);
                    return -ENOMEM;
                }
            }
        if (!rows)
            return -ENOMEM;
        rc = json_dumpf(rows, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) || fputc('\n', f) < 0
                 ? -EIO
                 : 0;
        json_decref(rows);
        return rc;
    }
    rc = table_init(&t, 8, headers, align);
    for (size_t i = 0; i < n && !rc; i++) {
        char title[512];

        history_series_title(title, sizeof(title), &s[i]);
        for (size_t j = 0; j < s[i].npoints && !rc; j++) {
            const struct history_point *p = &s[i].points[j];
            char rev[16], iters[24], mean[32], sd[32];
            const char *cells[8] = {
                p->date, rev,  p->branch, s[i].metric, title + strlen(s[i].metric) + 1,
                iters,   mean, sd};

            history_short_revision(rev, sizeof(rev), p->revision);
            snprintf(iters, sizeof(iters), "%ld", p->iterations);
            render_fmt_value(mean, sizeof(mean), p->mean);
            render_fmt_value(sd, sizeof(sd), p->std_dev);
            rc = table_add_row(&t, cells);
        }
    }
    if (!rc)
        rc = strcmp(format, "markdown") ? table_print_text(&t, f) : table_print_markdown(&t, f);
    table_free(&t);
    return rc;
}

/* --gate: checked, and every glob of it must take some series (else it guards nothing). */
static int set_gate(const struct history_args *a, struct history_detection *d,
                    const struct history_series *series, size_t n)
{
    const char **names = calloc(n ? n : 1, sizeof(*names));
    char err[ERRBUF_LEN];
    int rc;

    if (!names) {
        fprintf(stderr, "burette %s: out of memory\n", a->cmd);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        names[i] = series[i].metric;
    if (metric_gate_parse(&d->gate, a->gate, err, sizeof(err))) {
        free(names);
        return cli_usage_error(a->cmd, "%s", err);
    }
    /* an empty store has nothing to gate yet, rather than a mistyped gate */
    rc = n ? metric_gate_check(&d->gate, names, n, "stored metric", err, sizeof(err)) : 0;
    free(names);
    return rc ? cli_usage_error(a->cmd, "%s", err) : 0;
}

static int do_read(const struct history_args *a)
{
    struct history_detection d = {0};
    struct history_series *series = NULL;
    struct history *h = NULL;
    char err[ERRBUF_LEN];
    json_t *exported = NULL;
    size_t n = 0;
    FILE *out = stdout;
    int status, rc = 0;

    status = open_db(a, false, &h);
    if (status)
        return status;
    if (a->sub == SUB_EXPORT)
        rc = history_export(h, &a->filter, &exported, err, sizeof(err));
    else
        rc = history_load(h, &a->filter, &series, &n, err, sizeof(err));
    if (!rc && a->sub & SUB_CHANGE)
        rc = history_detect(series, n, &a->ed, a->last_runs, &d, err, sizeof(err));
    if (!rc && a->sub & SUB_CHANGE && a->gate) {
        status = set_gate(a, &d, series, n);
        if (status)
            goto out;
    }
    if (rc) {
        fprintf(stderr, "burette history %s: %s\n", a->name, err);
        status = 1;
        goto out;
    }
    if (a->sub != SUB_EXPORT && !n)
        fprintf(stderr, "burette history %s: no stored results match%s\n", a->name,
                a->filter.metric || a->filter.branch || a->filter.host || a->filter.backend ||
                        a->filter.since
                    ? " the filters"
                    : "");
    status = cli_open_output(a->cmd, a->output, &out);
    if (status)
        goto out;
    if (a->sub == SUB_EXPORT) {
        if (json_dumpf(exported, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) ||
            fputc('\n', out) < 0)
            rc = -EIO;
    } else if (a->sub == SUB_LIST) {
        rc = print_list(out, a->format, series, n);
    } else {
        rc = history_render(a->format, out, &d, err, sizeof(err));
    }
    if (rc) {
        fprintf(stderr, "burette history %s: cannot write the output%s%s\n", a->name,
                a->output ? " to " : "", a->output ? a->output : "");
        status = 1;
    }
    status = cli_close_output(a->cmd, a->output, out, status);
    if (!status && a->fail_on_change && history_detect_gate(&d)) {
        fprintf(stderr, "burette history detect: a recent regression is the newest change point "
                        "of a series (see above)\n");
        status = 1;
    }
out:
    history_detection_free(&d);
    history_series_free(series, n);
    json_decref(exported);
    history_close(h);
    return status;
}

int cmd_history(int argc, char **argv)
{
    struct history_args a = {0};
    const char *env = getenv("BURETTE_HISTORY_DB");
    int sub, status;

    sub = cli_command_word(argc, argv, subs, NSUBS);
    if (sub == CLI_WORD_MISSING || sub == CLI_WORD_HELP) {
        usage(sub == CLI_WORD_HELP ? stdout : stderr);
        return sub == CLI_WORD_HELP ? 0 : EXIT_USAGE;
    }
    if (sub == CLI_WORD_UNKNOWN)
        return cli_usage_error("history",
                               "unknown subcommand '%s' (available: add, list, "
                               "export, detect, report)",
                               argv[1]);
    a.sub = (enum sub)subs[sub].id;
    a.name = subs[sub].name;
    snprintf(a.cmd, sizeof(a.cmd), "history %s", a.name);
    a.db = env && *env ? env : DEFAULT_DB;
    a.format = a.sub == SUB_REPORT ? "html" : "text";
    a.last_runs = DEFAULT_LAST_RUNS;
    ed_options_default(&a.ed);
    status = parse_args(argc - 1, argv + 1, &a);
    if (status)
        return status < 0 ? 0 : status;
    return a.sub == SUB_ADD ? do_add(&a) : do_read(&a);
}
