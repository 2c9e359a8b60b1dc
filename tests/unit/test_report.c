/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of results/report and the renderers: a report survives a write/read round trip;
 * OpenVMM's plain format is read as it stands; each malformed report is refused with a
 * message naming the file and the problem; the direction of a metric follows its unit; and
 * the text, markdown and JSON renderings carry the same content.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "compare.h"
#include "errbuf.h"
#include "render.h"
#include "report.h"
#include "table.h"

#define assert_close(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

static char err[ERRBUF_LEN];

static void data_path(char *buf, size_t len, const char *file)
{
    snprintf(buf, len, "%s/%s", BURETTE_TEST_DATA, file);
}

/* Writes @text to a fresh temporary file whose path is returned in @path. */
static void temp_file(char *path, size_t len, const char *text)
{
    int fd;

    snprintf(path, len, "/tmp/burette-test-report-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static int read_text(const char *text, struct report **r)
{
    char path[64];
    int rc;

    temp_file(path, sizeof(path), text);
    rc = report_read(path, r, err, sizeof(err));
    if (rc < 0)
        assert_non_null(strstr(err, path)); /* every message names the file */
    unlink(path);
    return rc;
}

static void test_report_round_trip_keeps_samples_config_and_host(void **state)
{
    const double tx[] = {1.52, 1.55, 1.50, 1.54, 1.53};
    struct report *r = report_new(), *back = NULL;
    const struct metric *m;
    char path[64];

    assert_non_null(r);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(
            report_add_sample(r, "net_virtio-net_tcp_tx_gbps", "Gbps", tx[i], err, sizeof(err)), 0);
    assert_int_equal(report_add_sample(r, "boot_time_ms", "ms", 2500, err, sizeof(err)), 0);
    assert_int_equal(report_add_sample(r, "boot_time_ms", "ms", 2600, err, sizeof(err)), 0);
    report_set_config(
        r, json_pack("{s:s, s:s, s:i}", "test", "network", "backend", "consomme", "vcpus", 2));
    temp_file(path, sizeof(path), "");
    assert_int_equal(report_write(r, path, err, sizeof(err)), 0);
    assert_int_equal(report_read(path, &back, err, sizeof(err)), 0);
    unlink(path);

    assert_string_equal(back->git_revision, r->git_revision);
    assert_string_equal(back->git_branch, r->git_branch);
    assert_string_equal(back->date, r->date);
    assert_int_equal(back->nmetrics, 2);
    m = report_find_metric(back, "net_virtio-net_tcp_tx_gbps");
    assert_non_null(m);
    assert_string_equal(m->unit, "Gbps");
    assert_int_equal(m->nsamples, 5);
    for (size_t i = 0; i < 5; i++)
        assert_true(m->samples[i] == tx[i]); /* exact: JSON keeps the shortest round-trip form */
    /* python3 statistics: mean 1.528, stdev 0.01923538406167136, median 1.53 */
    assert_close(m->st.mean, 1.528, 1e-12);
    assert_close(m->st.std_dev, 0.01923538406167136, 1e-12);
    assert_close(m->st.median, 1.53, 0);
    assert_true(metric_higher_is_better(m));
    m = report_find_metric(back, "boot_time_ms");
    assert_false(metric_higher_is_better(m));
    assert_close(m->st.mean, 2550, 0);
    assert_string_equal(json_string_value(json_object_get(back->config, "backend")), "consomme");
    /* The host object was filled from this machine when written. */
    assert_true(json_integer_value(json_object_get(back->host, "cpu_count")) >= 1);
    assert_true(json_is_string(json_object_get(back->host, "kernel")));
    assert_true(json_is_string(json_object_get(back->host, "cpu_model")));
    report_free(r);
    report_free(back);
}

static void test_report_json_keeps_openvmm_fields(void **state)
{
    const double x[] = {1, 2, 3};
    struct report *r = report_new();
    json_t *root, *res;

    for (int i = 0; i < 3; i++)
        assert_int_equal(report_add_sample(r, "m", "Gbps", x[i], err, sizeof(err)), 0);
    root = report_to_json(r);
    for (const char *const *k =
             (const char *const[]){"git_revision", "git_branch", "git_commit_date", "date", NULL};
         *k; k++)
        assert_true(json_is_string(json_object_get(root, *k)));
    res = json_array_get(json_object_get(root, "results"), 0);
    assert_string_equal(json_string_value(json_object_get(res, "name")), "m");
    assert_int_equal(json_integer_value(json_object_get(res, "iterations")), 3);
    /* By hand: mean 2, sd 1, min 1, max 3. */
    assert_close(json_number_value(json_object_get(res, "mean")), 2, 0);
    assert_close(json_number_value(json_object_get(res, "std_dev")), 1, 0);
    assert_close(json_number_value(json_object_get(res, "min")), 1, 0);
    assert_close(json_number_value(json_object_get(res, "max")), 3, 0);
    assert_true(json_is_true(json_object_get(res, "higher_is_better")));
    assert_int_equal(json_array_size(json_object_get(res, "samples")), 3);
    json_decref(root);
    report_free(r);
}

static void test_plain_openvmm_report_is_read_as_is(void **state)
{
    struct report *r = NULL;
    const struct metric *m;
    char path[4096];
    double half;

    data_path(path, sizeof(path), "openvmm_plain.json");
    assert_int_equal(report_read(path, &r, err, sizeof(err)), 0);
    m = report_find_metric(r, "net_virtio-net_tcp_tx_gbps");
    assert_non_null(m);
    assert_int_equal(m->nsamples, 0);
    assert_int_equal(m->st.n, 5);
    assert_close(m->st.mean, 1.53, 0);
    assert_close(m->st.std_dev, 0.0192, 0);
    assert_close(m->st.min, 1.50, 0);
    assert_true(isnan(m->st.median));
    /* CI from the summary: t(0.975, 4) = 2.7764451051977987 (tables) * 0.0192 / sqrt(5). */
    half = 2.7764451051977987 * 0.0192 / sqrt(5);
    assert_close(m->st.ci95_low, 1.53 - half, 1e-9);
    assert_string_equal(report_label(r), "openvmm_plain");
    /* No samples to add to a summary. */
    assert_int_equal(report_add_sample(r, m->name, "Gbps", 1, err, sizeof(err)), -EINVAL);
    report_free(r);
}

static void test_bad_reports_are_refused_naming_file_and_problem(void **state)
{
    static const struct {
        const char *text;
        const char *problem;
    } cases[] = {
        {"{\"results\": [", "not valid JSON"},
        {"", "not valid JSON"},
        {"<html>404</html>", "not valid JSON"},
        {"[1, 2]", "top level is not a JSON object"},
        {"{\"git_revision\": \"x\"}", "no \"results\" array"},
        {"{\"results\": {}}", "\"results\" is not an array"},
        {"{\"results\": [42]}", "results[0]: not a JSON object"},
        {"{\"results\": [{\"unit\": \"Gbps\", \"iterations\": 1, \"mean\": 1}]}", "no \"name\""},
        {"{\"results\": [{\"name\": \"m\", \"iterations\": 1, \"mean\": 1}]}", "no \"unit\""},
        {"{\"results\": [{\"name\": \"m\", \"unit\": \"Gbps\", \"iterations\": 2}]}",
         "no \"mean\""},
        {"{\"results\": [{\"name\": \"m\", \"unit\": \"Gbps\", \"mean\": 1}]}",
         "neither \"samples\" nor \"iterations\""},
        {"{\"results\": [{\"name\": \"m\", \"unit\": \"Gbps\", \"iterations\": 3, \"mean\": 1}]}",
         "no \"std_dev\""},
        {"{\"results\": [{\"name\": \"m\", \"unit\": \"Gbps\", \"iterations\": 3, \"mean\": 1, "
         "\"std_dev\": -1}]}",
         "negative"},
        {"{\"results\": [{\"name\": \"m\", \"unit\": \"Gbps\", \"iterations\": 0, \"mean\": 1}]}",
         "not a positive integer"},
        {"{\"results\": [{\"name\": \"m\", \"unit\": \"Gbps\", \"mean\": \"fast\", "
         "\"iterations\": 1}]}",
         "finite numbers"},
        {"{\"results\": [{\"name\": \"m\", \"unit\": \"Gbps\", \"iterations\": 3, "
         "\"samples\": [1, 2]}]}",
         "\"iterations\" is 3 but 2 samples"},
        {"{\"results\": [{\"name\": \"m\", \"unit\": \"Gbps\", \"samples\": [1, \"x\"]}]}",
         "samples[1] is not a number"},
        {"{\"results\": [{\"name\": \"m\", \"unit\": \"Gbps\", \"samples\": []}]}",
         "not a non-empty array"},
        {"{\"results\": [{\"name\": \"m\", \"unit\": \"Gbps\", \"samples\": [1]}, "
         "{\"name\": \"m\", \"unit\": \"Gbps\", \"samples\": [2]}]}",
         "appears twice"},
        {"{\"results\": [{\"name\": \"m\", \"unit\": \"Gbps\", \"samples\": [1], "
         "\"higher_is_better\": 1}]}",
         "not true or false"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct report *r = NULL;

        if (read_text(cases[i].text, &r) != -EINVAL || !strstr(err, cases[i].problem))
            fail_msg("case %zu: expected '%s', got '%s'", i, cases[i].problem, err);
        assert_null(r);
    }
}

static void test_write_failure_names_the_path(void **state)
{
    struct report *r = report_new();

    assert_int_equal(report_write(r, "/nonexistent/dir/out.json", err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/dir/out.json"));
    report_free(r);
}

static void test_missing_file_is_named(void **state)
{
    struct report *r = NULL;

    assert_int_equal(report_read("/nonexistent/dir/base.json", &r, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/dir/base.json"));
    assert_non_null(strstr(err, "No such file"));
}

static void test_direction_follows_the_unit_unless_set(void **state)
{
    static const char *const higher[] = {"Gbps", "Mbps", "pps", "MiB/s", "ops/s", "iops"};
    static const char *const lower[] = {"ms", "us", "ns", "s", "KiB", "MiB", "bytes", "count"};
    struct report *r = NULL;

    for (size_t i = 0; i < sizeof(higher) / sizeof(higher[0]); i++)
        assert_true(unit_higher_is_better(higher[i]));
    for (size_t i = 0; i < sizeof(lower) / sizeof(lower[0]); i++)
        assert_false(unit_higher_is_better(lower[i]));

    /* An explicit field wins over the unit, when read and when set. */
    assert_int_equal(read_text("{\"results\": [{\"name\": \"hits\", \"unit\": \"count\", "
                               "\"samples\": [1, 2], \"higher_is_better\": true}]}",
                               &r),
                     0);
    assert_true(metric_higher_is_better(&r->metrics[0]));
    assert_int_equal(report_set_higher_is_better(r, "hits", false, err, sizeof(err)), 0);
    assert_false(metric_higher_is_better(&r->metrics[0]));
    assert_int_equal(report_set_higher_is_better(r, "nope", false, err, sizeof(err)), -ENOENT);
    report_free(r);
}

static void test_add_sample_refuses_unit_change_and_nan(void **state)
{
    struct report *r = report_new();

    assert_int_equal(report_add_sample(r, "m", "Gbps", 1, err, sizeof(err)), 0);
    assert_int_equal(report_add_sample(r, "m", "Mbps", 1, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "Mbps"));
    assert_int_equal(report_add_sample(r, "m", "Gbps", NAN, err, sizeof(err)), -EINVAL);
    assert_int_equal(report_add_sample(r, "", "Gbps", 1, err, sizeof(err)), -EINVAL);
    assert_int_equal(r->metrics[0].nsamples, 1);
    report_free(r);
}

/* Renders into memory and returns the text (to free()). */
static char *render_to_string(const char *format, const struct comparison *c,
                              const struct report *const *reports, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    if (c)
        assert_int_equal(render_comparison(format, f, c, err, sizeof(err)), 0);
    else
        assert_int_equal(render_reports(format, f, reports, n, err, sizeof(err)), 0);
    fclose(f);
    return buf;
}

static void test_renderers_agree_and_json_carries_everything(void **state)
{
    char base_path[4096], cand_path[4096];
    struct report *base = NULL, *cand = NULL;
    struct comparison *c = NULL;
    json_error_t jerr;
    json_t *root, *row = NULL, *metrics;
    char *text, *md, *js, *line;
    size_t i, col = 0;

    data_path(base_path, sizeof(base_path), "base.json");
    data_path(cand_path, sizeof(cand_path), "candidate_drop.json");
    assert_int_equal(report_read(base_path, &base, err, sizeof(err)), 0);
    assert_int_equal(report_read(cand_path, &cand, err, sizeof(err)), 0);
    assert_int_equal(
        compare_reports(base, (const struct report *const *)&cand, 1, NULL, &c, err, sizeof(err)),
        0);

    /* Text: every row of the table has its unit where the header has "unit". */
    text = render_to_string("text", c, NULL, 0);
    line = strstr(text, "\nmetric ");
    assert_non_null(line);
    line++;
    col = (size_t)(strstr(line, "unit") - line);
    line = strchr(strchr(line, '\n') + 1, '\n') + 1; /* past the header and the rule */
    for (size_t rows = 0; *line && *line != '\n'; rows++) {
        const char *p = line + col;

        assert_true(!strncmp(p, "Gbps ", 5) || !strncmp(p, "pps ", 4) || !strncmp(p, "ms ", 3) ||
                    !strncmp(p, "count ", 6));
        line = strchr(line, '\n') + 1;
        assert_true(rows < 5);
    }
    assert_non_null(strstr(text, "regressed"));
    assert_non_null(strstr(text, "-10.21%"));

    /* Markdown: a header row, its alignment row, then one row per metric. */
    md = render_to_string("markdown", c, NULL, 0);
    assert_non_null(strstr(md, "| metric | unit | baseline mean | candidate mean |"));
    assert_non_null(strstr(md, "| --- | --- | ---: |"));
    assert_non_null(strstr(md, "| net_virtio-net_tcp_tx_gbps | Gbps |"));
    assert_non_null(strstr(md, "regression found"));

    /* JSON: parses, and holds the numbers the table shows. */
    js = render_to_string("json", c, NULL, 0);
    root = json_loads(js, 0, &jerr);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "regressed")), 2);
    metrics = json_object_get(json_array_get(json_object_get(root, "candidates"), 0), "metrics");
    for (i = 0, row = NULL; i < json_array_size(metrics); i++) {
        json_t *m = json_array_get(metrics, i);

        if (!strcmp(json_string_value(json_object_get(m, "name")), "net_virtio-net_tcp_tx_gbps"))
            row = m;
    }
    assert_non_null(row);
    assert_string_equal(json_string_value(json_object_get(row, "verdict")), "regressed");
    assert_close(json_number_value(json_object_get(row, "p_value")), 2.0 / 252, 1e-12);
    assert_int_equal(json_array_size(json_object_get(json_object_get(row, "candidate"), "samples")),
                     5);
    json_decref(root);
    free(text);
    free(md);
    free(js);

    /* Summary of reports: one row per metric, the report column only for several reports. */
    text = render_to_string("text", NULL, (const struct report *const *)&base, 1);
    assert_null(strstr(text, "report  "));
    assert_non_null(strstr(text, "net_virtio-net_udp_tx_pps"));
    free(text);
    {
        const struct report *two[] = {base, cand};

        md = render_to_string("markdown", NULL, two, 2);
        assert_non_null(strstr(md, "| report | metric |"));
        assert_non_null(strstr(md, "| candidate_drop | net_virtio-net_tcp_tx_retransmits |"));
        free(md);
        js = render_to_string("json", NULL, two, 2);
        root = json_loads(js, 0, &jerr);
        assert_int_equal(json_array_size(json_object_get(root, "reports")), 2);
        json_decref(root);
        free(js);
    }
    assert_int_equal(render_comparison("html5", stdout, c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "text, markdown, json"));
    comparison_free(c);
    report_free(base);
    report_free(cand);
}

/*
 * A 100 000-result baseline (about 5.6 MB, as in the issue that found the quadratic lookup)
 * loads; the time it took is printed for the record, never asserted. A duplicate at the very
 * end is still found.
 */
static void test_hundred_thousand_results_load(void **state)
{
    const size_t n = 100000;
    size_t cap = n * 64 + 64, used = 0;
    char *text = malloc(cap), path[64];
    struct report *r = NULL;
    struct timespec t0, t1;

    assert_non_null(text);
    used += (size_t)snprintf(text + used, cap - used, "{\"results\": [");
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, cap - used,
                                 "%s{\"name\": \"metric_%zu_gbps\", \"unit\": \"Gbps\", "
                                 "\"samples\": [1.5]}",
                                 i ? "," : "", i);
    snprintf(text + used, cap - used, "]}");
    temp_file(path, sizeof(path), text);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(report_read(path, &r, err, sizeof(err)), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_message("100000 results (%zu bytes) read in %.3f s\n", used,
                  (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    assert_int_equal(r->nmetrics, n);
    assert_non_null(report_find_metric(r, "metric_99999_gbps"));
    assert_ptr_equal(report_find_metric(r, "metric_4711_gbps"), &r->metrics[4711]);
    assert_null(report_find_metric(r, "metric_100000_gbps"));
    report_free(r);
    unlink(path);

    /* the same with the first name again at the end */
    snprintf(text + used, cap - used,
             ",{\"name\": \"metric_0_gbps\", \"unit\": \"Gbps\", \"samples\": [1]}]}");
    assert_int_equal(read_text(text, &r), -EINVAL);
    assert_non_null(strstr(err, "metric_0_gbps: the metric appears twice"));
    free(text);
}

static void test_duplicate_keys_are_refused(void **state)
{
    struct report *r = NULL;

    assert_int_equal(read_text("{\"results\": [{\"name\": \"a_gbps\", \"unit\": \"Gbps\", "
                               "\"samples\": [1], \"samples\": [2]}]}",
                               &r),
                     -EINVAL);
    assert_non_null(strstr(err, "duplicate"));
    assert_int_equal(read_text("{\"results\": [], \"results\": []}", &r), -EINVAL);
}

static void test_limits_on_iterations_and_samples(void **state)
{
    struct report *r = NULL;
    size_t cap = (REPORT_MAX_SAMPLES + 1) * 4 + 128, used = 0;
    char *text;

    assert_int_equal(read_text("{\"results\": [{\"name\": \"a_gbps\", \"unit\": \"Gbps\", "
                               "\"iterations\": 9223372036854775807, \"mean\": 1, "
                               "\"std_dev\": 0}]}",
                               &r),
                     -EINVAL);
    assert_non_null(strstr(err, "\"iterations\" is 9223372036854775807, more than the 100000"));
    text = malloc(cap);
    assert_non_null(text);
    used += (size_t)snprintf(text, cap,
                             "{\"results\": [{\"name\": \"a_gbps\", \"unit\": "
                             "\"Gbps\", \"samples\": [1");
    for (size_t i = 0; i < REPORT_MAX_SAMPLES; i++)
        used += (size_t)snprintf(text + used, cap - used, ",1");
    snprintf(text + used, cap - used, "]}]}");
    assert_int_equal(read_text(text, &r), -EINVAL);
    assert_non_null(strstr(err, "100001 samples, more than the 100000"));
    free(text);
}

static void test_control_characters_are_escaped_in_text_and_markdown(void **state)
{
    char path[4096], *esc, *out;
    struct report *r = NULL;
    const struct report *const *rs = (const struct report *const *)&r;

    /* error messages carry report text to a terminal too */
    assert_int_equal(read_text("{\"results\": [{\"name\": \"\\u001b]0;x\\u0007\", \"unit\": "
                               "\"\", \"samples\": [1]}, {\"name\": \"\\u001b]0;x\\u0007\", "
                               "\"unit\": \"\", \"samples\": [1]}]}",
                               &r),
                     -EINVAL);
    assert_null(strchr(err, '\x1b'));
    assert_non_null(strstr(err, "result \\x1b]0;x\\x07: the metric appears twice"));
    esc = text_escape_controls("bell\a esc\x1b[31m c1 \xc2\x9b caf\xc3\xa9");
    assert_string_equal(esc, "bell\\x07 esc\\x1b[31m c1 \\u009b caf\xc3\xa9");
    free(esc);
    /* injection.json's config has "bell\u0007 and nul-free \u001b[31m escape" */
    data_path(path, sizeof(path), "injection.json");
    assert_int_equal(report_read(path, &r, err, sizeof(err)), 0);
    for (int i = 0; i < 2; i++) {
        out = render_to_string(i ? "markdown" : "text", NULL, rs, 1);
        assert_null(strchr(out, '\x1b'));
        assert_null(strchr(out, '\a'));
        assert_non_null(strstr(out, "bell\\x07 and nul-free \\x1b[31m escape"));
        free(out);
    }
    report_free(r);
}

/* Provenance field @name of @r reads @want. */
static void assert_provenance(const struct report *r, const char *name, const char *want)
{
    char v[64];

    report_provenance(r, name, v, sizeof(v));
    assert_string_equal(v, want);
}

/* Old reports have none of the provenance fields: each reads "unknown"; git_dirty survives a
 * round trip. */
static void test_provenance_of_old_and_new_reports(void **state)
{
    char path[4096];
    struct report *r = NULL;

    data_path(path, sizeof(path), "base.json");
    assert_int_equal(report_read(path, &r, err, sizeof(err)), 0);
    assert_provenance(r, "qemu_version", "unknown");
    assert_provenance(r, "git_dirty", "unknown");
    assert_provenance(r, "accel", "tcg");
    assert_provenance(r, "cpu_count", "2");
    report_free(r);
    assert_int_equal(read_text("{\"git_dirty\": true, \"host\": {\"qemu_version\": \"10.0.2\", "
                               "\"load_start\": 0.5}, \"results\": []}",
                               &r),
                     0);
    assert_int_equal(r->git_dirty, 1);
    assert_provenance(r, "qemu_version", "10.0.2");
    assert_provenance(r, "load_start", "0.50");
    {
        json_t *j = report_to_json(r);

        assert_true(json_is_true(json_object_get(j, "git_dirty")));
        json_decref(j);
    }
    report_free(r);
}

/* Two reports of one build on different QEMUs, the candidate from a dirty tree on a busy
 * machine: every format says so. */
static void test_compare_names_provenance_differences(void **state)
{
    static const char *const fmt = "{\"git_dirty\": %s, \"host\": {\"qemu_version\": \"%s\", "
                                   "\"cpu_count\": 2, \"load_start\": %s, \"load_end\": 0.2}, "
                                   "\"results\": [{\"name\": \"a_gbps\", \"unit\": \"Gbps\", "
                                   "\"samples\": [1, 2]}]}";
    char text[512];
    struct report *rs[2] = {NULL, NULL};
    struct comparison *c = NULL;

    snprintf(text, sizeof(text), fmt, "false", "10.0.2", "0.1");
    assert_int_equal(read_text(text, &rs[0]), 0);
    snprintf(text, sizeof(text), fmt, "true", "7.2", "1.9");
    assert_int_equal(read_text(text, &rs[1]), 0);
    report_set_label(rs[0], "base");
    report_set_label(rs[1], "cand");
    assert_int_equal(
        compare_reports(rs[0], (const struct report *const *)&rs[1], 1, NULL, &c, err, sizeof(err)),
        0);
    for (int i = 0; i < 4; i++) {
        static const char *const formats[] = {"text", "markdown", "json", "html"};
        char *out = render_to_string(formats[i], c, NULL, 0);

        assert_non_null(strstr(out, "qemu_version 10.0.2 vs 7.2"));
        assert_non_null(strstr(out, "not an A/B of the code alone"));
        assert_non_null(strstr(out, "cand was built from a tree with uncommitted changes"));
        assert_non_null(strstr(out, "cand ran on a busy machine (load 1.90 at start"));
        assert_null(strstr(out, "base ran on a busy machine"));
        free(out);
    }
    comparison_free(c);
    report_free(rs[0]);
    report_free(rs[1]);
}

/*
 * "Busy" from what the run measured: other processes' CPU during its sub-tests decides when
 * the report has it (a load of 1.9 left by the build before does not), else the load average,
 * whose end must exceed half the CPUs beyond the run's own guest (2 vCPUs + the backend).
 */
static void test_busy_machine_from_others_cpu(void **state)
{
    static const char *const fmt =
        "{\"config\": {\"vcpus\": 2}, \"host\": {\"cpu_count\": 2, \"load_start\": %s, "
        "\"load_end\": %s}, \"results\": [{\"name\": \"a_gbps\", \"unit\": \"Gbps\", "
        "\"samples\": [1, 2]}%s]}";
    static const struct {
        const char *load_start, *load_end, *others, *expect;
    } cases[] = {
        {"1.9", "2.8",
         ", {\"name\": \"x_others_cpu_percent\", \"unit\": \"%\", \"samples\": [2, 4]}", NULL},
        {"0.1", "2.8",
         ", {\"name\": \"x_others_cpu_percent\", \"unit\": \"%\", \"samples\": [70, 90]}",
         "cand ran on a busy machine (other processes took 80% of a core during a sub-test"},
        {"0.1", "3.9", "", NULL},
        {"0.1", "4.5", "", "cand ran on a busy machine (load 0.10 at start, 4.50 at end"},
        {"1.9", "2.8", "", "cand ran on a busy machine (load 1.90 at start, 2.80 at end"},
    };

    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char text[512];
        struct report *rs[2] = {NULL, NULL};
        struct comparison *c = NULL;
        char *out;

        snprintf(text, sizeof(text), fmt, "0.1", "0.2", "");
        assert_int_equal(read_text(text, &rs[0]), 0);
        snprintf(text, sizeof(text), fmt, cases[k].load_start, cases[k].load_end, cases[k].others);
        assert_int_equal(read_text(text, &rs[1]), 0);
        report_set_label(rs[0], "base");
        report_set_label(rs[1], "cand");
        assert_int_equal(compare_reports(rs[0], (const struct report *const *)&rs[1], 1, NULL, &c,
                                         err, sizeof(err)),
                         0);
        out = render_to_string("text", c, NULL, 0);
        if (cases[k].expect)
            assert_non_null(strstr(out, cases[k].expect));
        else
            assert_null(strstr(out, "busy machine"));
        free(out);
        comparison_free(c);
        report_free(rs[0]);
        report_free(rs[1]);
    }
}

/* A report with a stalled-interval metric: the summary names the iterations that stalled. */
static void test_report_summary_names_stalled_iterations(void **state)
{
    struct report *r = report_new();
    const struct report *const *rs = (const struct report *const *)&r;
    const double stalls[] = {0, 3, 0, 0, 1};

    assert_non_null(r);
    report_set_label(r, "passt");
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(
            report_add_sample(r, "net_virtio-net_tcp_rx_gbps", "Gbps", 1.0 + i, err, sizeof(err)),
            0);
        assert_int_equal(report_add_sample(r, "net_virtio-net_tcp_rx_stalled_intervals",
                                           "intervals", stalls[i], err, sizeof(err)),
                         0);
    }
    assert_false(
        metric_higher_is_better(report_find_metric(r, "net_virtio-net_tcp_rx_stalled_intervals")));
    for (int i = 0; i < 3; i++) {
        static const char *const formats[] = {"text", "markdown", "html"};
        char *out = render_to_string(formats[i], NULL, rs, 1);

        assert_non_null(strstr(out, "passt: net_virtio-net_tcp_rx_stalled_intervals: stalled "
                                    "iterations: 2 (3 intervals), 5 (1 interval)"));
        free(out);
    }
    report_free(r);
}

/*
 * Values far beyond any link's (a baseline from a URL is not ours): every renderer shows them in
 * full, as "1e+100", and the signed delta cell holds them (a 31-digit delta once overran it).
 */
static void test_huge_values_render_whole_in_every_format(void **state)
{
    static const char *const formats[] = {"text", "markdown", "json", "html"};
    struct report *rs[2] = {report_new(), report_new()};
    struct comparison *c = NULL;

    for (size_t k = 0; k < 2; k++) {
        assert_non_null(rs[k]);
        report_set_label(rs[k], k ? "candidate" : "baseline");
        for (size_t i = 0; i < 5; i++)
            assert_int_equal(report_add_sample(rs[k], "net_virtio-net_tcp_tx_gbps", "Gbps",
                                               (1.0 + (double)k) * 1e100 + (double)i * 1e96, err,
                                               sizeof(err)),
                             0);
    }
    assert_int_equal(
        compare_reports(rs[0], (const struct report *const *)&rs[1], 1, NULL, &c, err, sizeof(err)),
        0);
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        char *out = render_to_string(formats[i], c, NULL, 0);

        if (strcmp(formats[i], "json"))
            assert_non_null(strstr(out, "+1e+100"));
        free(out);
    }
    comparison_free(c);
    report_free(rs[0]);
    report_free(rs[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_round_trip_keeps_samples_config_and_host),
        cmocka_unit_test(test_report_json_keeps_openvmm_fields),
        cmocka_unit_test(test_plain_openvmm_report_is_read_as_is),
        cmocka_unit_test(test_bad_reports_are_refused_naming_file_and_problem),
        cmocka_unit_test(test_missing_file_is_named),
        cmocka_unit_test(test_write_failure_names_the_path),
        cmocka_unit_test(test_direction_follows_the_unit_unless_set),
        cmocka_unit_test(test_add_sample_refuses_unit_change_and_nan),
        cmocka_unit_test(test_renderers_agree_and_json_carries_everything),
        cmocka_unit_test(test_hundred_thousand_results_load),
        cmocka_unit_test(test_duplicate_keys_are_refused),
        cmocka_unit_test(test_limits_on_iterations_and_samples),
        cmocka_unit_test(test_control_characters_are_escaped_in_text_and_markdown),
        cmocka_unit_test(test_provenance_of_old_and_new_reports),
        cmocka_unit_test(test_compare_names_provenance_differences),
        cmocka_unit_test(test_report_summary_names_stalled_iterations),
        cmocka_unit_test(test_busy_machine_from_others_cpu),
        cmocka_unit_test(test_huge_values_render_whole_in_every_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
