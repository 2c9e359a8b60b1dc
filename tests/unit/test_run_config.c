/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of a report's config (run_config_json()) and of the backend registry behind it:
 * the configs of a plain run and of each run of several must be, byte for byte, the ones
 * recorded in tests/data/run_config/ from the code before the registry and the single loop
 * (see the README there for the command lines they stand for).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"
#include "errbuf.h"
#include "multi_run.h"
#include "run.h"
#include "variants.h"

/* tests/data/run_config, given by the build */
static const char *const data_dir = RUN_CONFIG_DATA;

static struct run_options defaults(void)
{
    struct run_options o;

    run_options_default(&o);
    return o;
}

/* Set global option @name as its flag would, failing the test on a refusal. */
static void set_option(struct run_options *o, const char *name, const char *value)
{
    int i = backend_option_find(name);
    char err[ERRBUF_LEN];

    assert_true(i >= 0);
    assert_int_equal(backend_option_at((size_t)i, NULL)
                         ->parse(value, &o->backend_options.value[i], err, sizeof(err)),
                     0);
}

/* @config (consumed) must print as DATA_DIR/@name.json does. */
static void assert_recorded(json_t *config, const char *name)
{
    char path[4096], *got;
    json_t *want;
    char *want_text;

    assert_non_null(config);
    snprintf(path, sizeof(path), "%s/%s.json", data_dir, name);
    want = json_load_file(path, JSON_PRESERVE_ORDER, NULL);
    assert_non_null(want);
    got = json_dumps(config, JSON_INDENT(2));
    want_text = json_dumps(want, JSON_INDENT(2));
    if (strcmp(got, want_text))
        fail_msg("%s: config differs:\n%s\nrecorded:\n%s", name, got, want_text);
    free(got);
    free(want_text);
    json_decref(want);
    json_decref(config);
}

static void test_run_config_of_a_plain_run_is_the_recorded_one(void **state)
{
    struct run_options o = defaults();

    assert_recorded(run_config_json(&o, "tcg", NULL, NULL, NULL, NULL, 0), "single_consomme");

    o = defaults();
    o.backend = "tap"; /* records no consomme buffers, whatever they were set to */
    set_option(&o, "tcp-rx-buffer", "256K");
    assert_recorded(run_config_json(&o, "kvm", NULL, NULL, NULL, NULL, 0), "single_tap");

    o = defaults();
    o.test = "boot";
    o.backend = "slirp";
    o.vcpus = 4;
    o.mem_mb = 2048;
    o.iterations = 3;
    o.warmup = 0;
    assert_recorded(run_config_json(&o, "tcg", NULL, NULL, NULL, NULL, 0), "single_boot");
}

static void test_run_config_of_each_of_several_runs_is_the_recorded_one(void **state)
{
    static struct multi_options m;
    struct run_options o = defaults();
    const char *labels[VARIANT_MAX];
    struct variant v;
    char err[ERRBUF_LEN], name[64];

    o.backend = "tap,consomme";
    set_option(&o, "tcp-tx-buffer", "64K");
    m.backend_given = true;
    assert_int_equal(variant_parse("fixed256=consomme:tcp-rx-buffer=256K,tcp-tx-buffer=256K", &v,
                                   err, sizeof(err)),
                     0);
    assert_int_equal(variant_list_add(&m.variants, &v, err, sizeof(err)), 0);
    assert_int_equal(variant_parse("autotune=consomme", &v, err, sizeof(err)), 0);
    assert_int_equal(variant_list_add(&m.variants, &v, err, sizeof(err)), 0);
    assert_int_equal(multi_options_finish(&m, &o, err, sizeof(err)), 0);
    assert_int_equal(m.runs.n, 4);
    for (size_t i = 0; i < m.runs.n; i++)
        labels[i] = m.runs.v[i].label;
    for (size_t i = 0; i < m.runs.n; i++) {
        struct run_options ro = o;

        variant_apply(&m.runs.v[i], &ro);
        snprintf(name, sizeof(name), "multi_%s", m.runs.v[i].label);
        assert_recorded(run_config_json(&ro, "tcg", m.runs.v[i].label, m.runs.v[i].spec,
                                        i % 2 ? "sequential" : "interleaved", labels, m.runs.n),
                        name);
    }
}

/* Every row of the registry is usable: its default parses, it has a help line and a JSON key
 * when recorded, and the values fit struct backend_options. */
static void test_backend_registry_rows_are_complete(void **state)
{
    char err[ERRBUF_LEN];

    assert_true(backend_option_count() <= BACKEND_OPTION_MAX);
    for (size_t i = 0; i < backend_option_count(); i++) {
        const struct backend_option *opt = backend_option_at(i, NULL);
        union backend_value v;

        assert_non_null(opt->name);
        assert_non_null(opt->metavar);
        assert_non_null(opt->help);
        /* `burette run --help` prints "(default X)" after the help: said once, not twice */
        if (strstr(opt->help, "default"))
            fail_msg("option %s: its help names a default too: '%s'", opt->name, opt->help);
        assert_non_null(opt->parse);
        assert_true(!opt->json_key || opt->to_json);
        if (opt->parse(opt->default_value, &v, err, sizeof(err)))
            fail_msg("option %s: default '%s' refused: %s", opt->name, opt->default_value, err);
        assert_int_equal(backend_option_find(opt->name), (int)i);
    }
    for (size_t b = 0; b < backend_count(); b++)
        assert_ptr_equal(backend_find(backend_at(b)->name), backend_at(b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_config_of_a_plain_run_is_the_recorded_one),
        cmocka_unit_test(test_run_config_of_each_of_several_runs_is_the_recorded_one),
        cmocka_unit_test(test_backend_registry_rows_are_complete),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
