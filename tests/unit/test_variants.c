/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of variants.c and of the run list multi_run.c builds from it: the --variant and
 * --backend syntax accepted (label, backend, options overriding the global ones, values holding
 * ':'), and every refusal with the words its message must contain. Expected byte counts are the
 * sizes written in the specs (256K = 262144, 1M = 1048576).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "errbuf.h"
#include "multi_run.h"
#include "variants.h"

/* The registry index of option @name, failing the test if no backend takes it. */
static size_t option_index(const char *name)
{
    int i = backend_option_find(name);

    assert_true(i >= 0);
    return (size_t)i;
}

/* The bounds variant @v sets for option @name; the test fails if it sets none. */
static const union backend_value *set_value(const struct variant *v, const char *name)
{
    size_t i = option_index(name);

    assert_true(v->set[i]);
    return &v->values.value[i];
}

static bool sets_any(const struct variant *v)
{
    for (size_t i = 0; i < BACKEND_OPTION_MAX; i++)
        if (v->set[i])
            return true;
    return false;
}

static void assert_has(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("message '%s' lacks '%s'", text, want);
}

/* Parse @spec expecting a refusal whose message holds every one of @words (NULL-terminated). */
static void refuse(const char *spec, const char *const *words)
{
    struct variant v;
    char err[ERRBUF_LEN] = "";

    assert_int_equal(variant_parse(spec, &v, err, sizeof(err)), -EINVAL);
    for (size_t i = 0; words[i]; i++)
        assert_has(err, words[i]);
}

static void test_variants_label_backend_and_two_buffer_options(void **state)
{
    struct variant v;
    char err[ERRBUF_LEN];

    assert_int_equal(variant_parse("fixed256=consomme:tcp-rx-buffer=256K,tcp-tx-buffer=256K:1M", &v,
                                   err, sizeof(err)),
                     0);
    assert_string_equal(v.label, "fixed256");
    assert_string_equal(v.backend, "consomme");
    assert_string_equal(v.spec, "fixed256=consomme:tcp-rx-buffer=256K,tcp-tx-buffer=256K:1M");
    assert_int_equal(set_value(&v, "tcp-rx-buffer")->bounds.initial, 262144);
    assert_int_equal(set_value(&v, "tcp-rx-buffer")->bounds.max, 262144);
    assert_int_equal(set_value(&v, "tcp-tx-buffer")->bounds.initial, 262144);
    assert_int_equal(set_value(&v, "tcp-tx-buffer")->bounds.max, 1048576);
}

static void test_variants_label_defaults_to_backend_and_options_are_optional(void **state)
{
    struct variant v;
    char err[ERRBUF_LEN];

    assert_int_equal(variant_parse("tap", &v, err, sizeof(err)), 0);
    assert_string_equal(v.label, "tap");
    assert_string_equal(v.backend, "tap");
    assert_false(sets_any(&v));

    /* '=' after the first ':' belongs to an option, not to a label */
    assert_int_equal(variant_parse("consomme:tcp-rx-buffer=64K", &v, err, sizeof(err)), 0);
    assert_string_equal(v.label, "consomme");
    assert_int_equal(set_value(&v, "tcp-rx-buffer")->bounds.max, 65536);
    assert_false(v.set[option_index("tcp-tx-buffer")]);

    assert_int_equal(variant_parse("A-1.b_2=passt", &v, err, sizeof(err)), 0);
    assert_string_equal(v.label, "A-1.b_2");
    assert_string_equal(v.backend, "passt");
}

static void test_variants_apply_overrides_only_what_the_variant_names(void **state)
{
    struct run_options o = {.backend = "consomme,tap"};
    struct variant v;
    char err[ERRBUF_LEN];
    size_t rx = option_index("tcp-rx-buffer"), tx = option_index("tcp-tx-buffer");

    backend_options_default(&o.backend_options);
    o.backend_options.value[tx].bounds.initial = 32768;
    o.backend_options.value[tx].bounds.max = 65536;

    assert_int_equal(variant_parse("x=consomme:tcp-rx-buffer=256K", &v, err, sizeof(err)), 0);
    variant_apply(&v, &o);
    assert_string_equal(o.backend, "consomme");
    assert_int_equal(o.backend_options.value[rx].bounds.initial, 262144);
    assert_int_equal(o.backend_options.value[rx].bounds.max, 262144);
    assert_int_equal(o.backend_options.value[tx].bounds.initial, 32768); /* the global one stands */
    assert_int_equal(o.backend_options.value[tx].bounds.max, 65536);
}

static void test_variants_refuse_unknown_backend_naming_the_available_ones(void **state)
{
    refuse("x=vde",
           (const char *const[]){"'x=vde'", "unknown backend 'vde'", "consomme, tap", NULL});
    refuse("x=", (const char *const[]){"no backend", NULL});
    refuse("", (const char *const[]){"empty", "[LABEL=]BACKEND", NULL});
    refuse("x=consomme2", (const char *const[]){"unknown backend 'consomme2'", NULL});
}

static void test_variants_refuse_unknown_or_foreign_options(void **state)
{
    refuse("x=consomme:queues=2", (const char *const[]){"unknown option 'queues' for consomme",
                                                        "tcp-rx-buffer, tcp-tx-buffer", NULL});
    refuse("x=tap:mtu=1500", (const char *const[]){"option 'mtu' is consomme's, not tap's", NULL});
    refuse("x=tap:tcp-rx-buffer=256K",
           (const char *const[]){"option 'tcp-rx-buffer' is consomme's, not tap's", NULL});
    refuse("x=slirp:foo=1", (const char *const[]){"unknown option 'foo' for slirp", "qemu", NULL});
    refuse("x=consomme:tcp-rx-buffer=1M,tcp-rx-buffer=2M",
           (const char *const[]){"option 'tcp-rx-buffer' is given twice", NULL});
}

static void test_variants_refuse_malformed_option_lists(void **state)
{
    refuse("x=consomme:", (const char *const[]){"nothing after ':'", NULL});
    refuse("x=consomme:tcp-rx-buffer", (const char *const[]){"has no value", NULL});
    refuse("x=consomme:tcp-rx-buffer=", (const char *const[]){"empty value", NULL});
    refuse("x=consomme:tcp-rx-buffer=1M,",
           (const char *const[]){"empty option", "OPTION=VALUE", NULL});
}

static void test_variants_refuse_bad_buffer_values_with_the_option_named(void **state)
{
    refuse("x=consomme:tcp-rx-buffer=0", (const char *const[]){"tcp-rx-buffer", "0 bytes", NULL});
    refuse("x=consomme:tcp-tx-buffer=4M:16K",
           (const char *const[]){"tcp-tx-buffer", "initial size 4M is larger than the maximum 16K",
                                 NULL});
    refuse("x=consomme:tcp-rx-buffer=2G", (const char *const[]){"above 1G", NULL});
    refuse("x=consomme:tcp-rx-buffer=lots", (const char *const[]){"'lots' is not a size", NULL});
    refuse("x=consomme:mtu=70000",
           (const char *const[]){"mtu", "MTU 70000 is out of range (576 to 65520)", NULL});
    refuse("x=consomme:mtu=big", (const char *const[]){"mtu", "'big' is not a number", NULL});
}

static void test_variants_refuse_labels_unfit_for_file_names(void **state)
{
    refuse("=consomme", (const char *const[]){"empty label", NULL});
    refuse("../x=consomme", (const char *const[]){"must start with a letter or a digit", NULL});
    refuse("a/b=consomme", (const char *const[]){"only letters, digits", "LABEL.json", NULL});
    refuse("a b=consomme", (const char *const[]){"only letters, digits", NULL});
    refuse("abcdefghijabcdefghijabcdefghij123=consomme",
           (const char *const[]){"longer than 32 characters", NULL});
}

static void test_variants_list_refuses_a_duplicate_label(void **state)
{
    struct variant_list l = {0};
    struct variant v;
    char err[ERRBUF_LEN];

    assert_int_equal(variant_parse("a=consomme", &v, err, sizeof(err)), 0);
    assert_int_equal(variant_list_add(&l, &v, err, sizeof(err)), 0);
    assert_int_equal(variant_parse("a=tap", &v, err, sizeof(err)), 0);
    assert_int_equal(variant_list_add(&l, &v, err, sizeof(err)), -EEXIST);
    assert_has(err, "two runs are labelled 'a'");
    assert_has(err, "'a=consomme' and 'a=tap'");
    assert_int_equal(l.n, 1);
}

static void test_variants_list_of_backends_in_order_and_refusals(void **state)
{
    struct variant_list l = {0};
    char err[ERRBUF_LEN];

    assert_int_equal(variant_list_add_backends(&l, "consomme,tap,slirp,passt", err, sizeof(err)),
                     0);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0].label, "consomme");
    assert_string_equal(l.v[3].label, "passt");
    assert_string_equal(l.v[3].backend, "passt");

    l.n = 0;
    assert_int_equal(variant_list_add_backends(&l, "consomme,,tap", err, sizeof(err)), -EINVAL);
    assert_has(err, "empty name");
    assert_int_equal(variant_list_add_backends(&l, "vde", err, sizeof(err)), -EINVAL);
    assert_has(err, "unknown backend 'vde'");
}

static void test_variants_list_holds_at_most_variant_max_runs(void **state)
{
    struct variant_list l = {0};
    char err[ERRBUF_LEN], spec[32];
    struct variant v;

    for (int i = 0; i < VARIANT_MAX; i++) {
        snprintf(spec, sizeof(spec), "v%d=consomme", i);
        assert_int_equal(variant_parse(spec, &v, err, sizeof(err)), 0);
        assert_int_equal(variant_list_add(&l, &v, err, sizeof(err)), 0);
    }
    assert_int_equal(variant_parse("one-more=tap", &v, err, sizeof(err)), 0);
    assert_int_equal(variant_list_add(&l, &v, err, sizeof(err)), -E2BIG);
    assert_has(err, "more than 16");
}

/* multi_options_finish(): --backend list first (given or defaulted when no --variant), then
 * the variants; a variant named like a listed backend is a duplicate. */
static void test_variants_runs_order_backend_list_then_variants(void **state)
{
    static struct multi_options m;
    struct run_options o = {.backend = "consomme"};
    struct variant v;
    char err[ERRBUF_LEN];

    memset(&m, 0, sizeof(m));
    assert_int_equal(variant_parse("fixed=consomme:tcp-rx-buffer=256K", &v, err, sizeof(err)), 0);
    assert_int_equal(variant_list_add(&m.variants, &v, err, sizeof(err)), 0);
    /* --backend not given: only the variant runs */
    assert_int_equal(multi_options_finish(&m, &o, err, sizeof(err)), 0);
    assert_int_equal(m.runs.n, 1);
    assert_string_equal(m.runs.v[0].label, "fixed");
    assert_true(multi_run_wanted(&m));

    m.backend_given = true;
    o.backend = "tap,consomme";
    assert_int_equal(multi_options_finish(&m, &o, err, sizeof(err)), 0);
    assert_int_equal(m.runs.n, 3);
    assert_string_equal(m.runs.v[0].label, "tap");
    assert_string_equal(m.runs.v[1].label, "consomme");
    assert_string_equal(m.runs.v[2].label, "fixed");

    assert_int_equal(variant_parse("consomme:tcp-tx-buffer=1M", &v, err, sizeof(err)), 0);
    assert_int_equal(variant_list_add(&m.variants, &v, err, sizeof(err)), 0);
    assert_int_equal(multi_options_finish(&m, &o, err, sizeof(err)), -EEXIST);
    assert_has(err, "two runs are labelled 'consomme'");
}

static void test_variants_single_backend_stays_a_plain_run(void **state)
{
    static struct multi_options m;
    struct run_options o = {.backend = "consomme"};
    char err[ERRBUF_LEN];

    memset(&m, 0, sizeof(m));
    assert_int_equal(multi_options_finish(&m, &o, err, sizeof(err)), 0);
    assert_int_equal(m.runs.n, 1);
    assert_false(multi_run_wanted(&m));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variants_label_backend_and_two_buffer_options),
        cmocka_unit_test(test_variants_label_defaults_to_backend_and_options_are_optional),
        cmocka_unit_test(test_variants_apply_overrides_only_what_the_variant_names),
        cmocka_unit_test(test_variants_refuse_unknown_backend_naming_the_available_ones),
        cmocka_unit_test(test_variants_refuse_unknown_or_foreign_options),
        cmocka_unit_test(test_variants_refuse_malformed_option_lists),
        cmocka_unit_test(test_variants_refuse_bad_buffer_values_with_the_option_named),
        cmocka_unit_test(test_variants_refuse_labels_unfit_for_file_names),
        cmocka_unit_test(test_variants_list_refuses_a_duplicate_label),
        cmocka_unit_test(test_variants_list_of_backends_in_order_and_refusals),
        cmocka_unit_test(test_variants_list_holds_at_most_variant_max_runs),
        cmocka_unit_test(test_variants_runs_order_backend_list_then_variants),
        cmocka_unit_test(test_variants_single_backend_stays_a_plain_run),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
