/* SPDX-License-Identifier: MIT */
/*
 * variants - parsing of --backend lists and --variant specs into the runs of one `burette run`;
 * the syntax and the invariants are in variants.h.
 *
 * Which option a backend accepts, and how its value is parsed, is the backend registry's
 * (backends/backend.h): a backend's options are rows of its own declaration.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "backend.h"
#include "variants.h"

/* The static name of the backend spelled by the @n bytes at @s, NULL if unknown. */
static const char *find_backend(const char *s, size_t n)
{
    for (size_t i = 0; i < backend_count(); i++) {
        const char *name = backend_at(i)->name;

        if (strlen(name) == n && !strncmp(s, name, n))
            return name;
    }
    return NULL;
}

const char *variant_backend_names(void)
{
    static char buf[128];

    return backend_names(buf, sizeof(buf));
}

/* Labels name report files: letters, digits, '.', '_', '-', starting with a letter or digit. */
static int check_label(const char *label, size_t n, char *err, size_t errlen)
{
    if (!n)
        return errbuf_set(err, errlen, -EINVAL, "empty label before '='");
    if (n > VARIANT_LABEL_MAX)
        return errbuf_set(err, errlen, -EINVAL, "label '%.*s' is longer than %d characters", (int)n,
                          label, VARIANT_LABEL_MAX);
    if (!isalnum((unsigned char)label[0]))
        return errbuf_set(err, errlen, -EINVAL,
                          "label '%.*s' must start with a letter or a digit (it names the report "
                          "file LABEL.json)",
                          (int)n, label);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)label[i];

        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return errbuf_set(err, errlen, -EINVAL,
                              "label '%.*s' may hold only letters, digits, '.', '_' and '-' (it "
                              "names the report file LABEL.json)",
                              (int)n, label);
    }
    return 0;
}

/* The options @backend accepts, for messages: "tcp-rx-buffer, tcp-tx-buffer" or "". */
static const char *option_names(const char *backend, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < backend_option_count(); i++)
        if (backend_option_applies(i, backend))
            snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? ", " : "",
                     backend_option_at(i, NULL)->name);
    return buf;
}

/* One OPTION=VALUE of @v's backend; @item is a NUL-terminated copy. */
static int parse_option(struct variant *v, char *item, char *err, size_t errlen)
{
    char *eq = strchr(item, '=');
    const struct backend_ops *owner;
    const struct backend_option *opt;
    char names[128];
    int i;

    if (!*item)
        return errbuf_set(err, errlen, -EINVAL, "empty option (expected OPTION=VALUE)");
    if (!eq)
        return errbuf_set(err, errlen, -EINVAL, "option '%s' has no value (expected %s=VALUE)",
                          item, item);
    *eq = '\0';
    i = backend_option_find(item);
    if (i >= 0 && backend_option_applies((size_t)i, v->backend)) {
        opt = backend_option_at((size_t)i, NULL);
        if (v->set[i])
            return errbuf_set(err, errlen, -EINVAL, "option '%s' is given twice", item);
        v->set[i] = true;
        if (!eq[1])
            return errbuf_set(err, errlen, -EINVAL, "option '%s' has an empty value", item);
        if (opt->parse(eq + 1, &v->values.value[i], err, errlen)) {
            errbuf_prefix(err, errlen, "%s", item);
            return -EINVAL;
        }
        return 0;
    }
    option_names(v->backend, names, sizeof(names));
    if (i >= 0) {
        backend_option_at((size_t)i, &owner);
        return errbuf_set(err, errlen, -EINVAL, "option '%s' is %s's, not %s's%s%s%s", item,
                          owner->name, v->backend, names[0] ? " (available: " : "", names,
                          names[0] ? ")" : "");
    }
    if (!names[0])
        return errbuf_set(err, errlen, -EINVAL, "unknown option '%s': backend %s takes no options",
                          item, v->backend);
    return errbuf_set(err, errlen, -EINVAL, "unknown option '%s' for %s (available: %s)", item,
                      v->backend, names);
}

int variant_parse(const char *spec, struct variant *out, char *err, size_t errlen)
{
    size_t head = strcspn(spec, ":");
    const char *eq = memchr(spec, '=', head);
    const char *name = eq ? eq + 1 : spec;
    size_t name_len = head - (size_t)(name - spec);
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (strlen(spec) >= sizeof(out->spec))
        return errbuf_set(err, errlen, -EINVAL, "'%.40s...': longer than %d characters", spec,
                          VARIANT_SPEC_MAX - 1);
    snprintf(out->spec, sizeof(out->spec), "%s", spec);
    if (!*spec) {
        rc = errbuf_set(err, errlen, -EINVAL,
                        "empty (expected [LABEL=]BACKEND[:OPTION=VALUE,...], backends: %s)",
                        variant_backend_names());
        goto out;
    }
    if (eq) {
        rc = check_label(spec, (size_t)(eq - spec), err, errlen);
        if (rc)
            goto out;
    }
    if (!name_len) {
        rc = errbuf_set(err, errlen, -EINVAL,
                        "no backend (expected [LABEL=]BACKEND[:OPTION=VALUE,...], backends: %s)",
                        variant_backend_names());
        goto out;
    }
    out->backend = find_backend(name, name_len);
    if (!out->backend) {
        rc = errbuf_set(err, errlen, -EINVAL, "unknown backend '%.*s' (available: %s)",
                        (int)name_len, name, variant_backend_names());
        goto out;
    }
    if (eq)
        snprintf(out->label, sizeof(out->label), "%.*s", (int)(eq - spec), spec);
    else
        snprintf(out->label, sizeof(out->label), "%s", out->backend);

    if (spec[head] == ':') {
        char opts[VARIANT_SPEC_MAX], *p;

        snprintf(opts, sizeof(opts), "%s", spec + head + 1);
        if (!opts[0]) {
            rc = errbuf_set(err, errlen, -EINVAL, "nothing after ':' (expected OPTION=VALUE)");
            goto out;
        }
        p = opts;
        for (;;) {
            char *comma = strchr(p, ',');

            if (comma)
                *comma = '\0';
            rc = parse_option(out, p, err, errlen);
            if (rc || !comma)
                break;
            p = comma + 1;
        }
    }
out:
    if (rc)
        errbuf_prefix(err, errlen, "'%s'", spec);
    return rc;
}

int variant_list_add(struct variant_list *l, const struct variant *v, char *err, size_t errlen)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].label, v->label))
            return errbuf_set(err, errlen, -EEXIST,
                              "two runs are labelled '%s' ('%s' and '%s'): give each its own "
                              "LABEL= (labels name the report files)",
                              v->label, l->v[i].spec, v->spec);
    if (l->n >= VARIANT_MAX)
        return errbuf_set(err, errlen, -E2BIG, "more than %d backends and variants in one run",
                          VARIANT_MAX);
    l->v[l->n++] = *v;
    return 0;
}

int variant_list_add_backends(struct variant_list *l, const char *list, char *err, size_t errlen)
{
    const char *p = list;

    for (;;) {
        size_t n = strcspn(p, ",");
        struct variant v = {0};
        int rc;

        v.backend = find_backend(p, n);
        if (!n)
            return errbuf_set(err, errlen, -EINVAL, "empty name in '%s'", list);
        if (!v.backend)
            return errbuf_set(err, errlen, -EINVAL, "unknown backend '%.*s' (available: %s)",
                              (int)n, p, variant_backend_names());
        snprintf(v.label, sizeof(v.label), "%s", v.backend);
        snprintf(v.spec, sizeof(v.spec), "%s", v.backend);
        rc = variant_list_add(l, &v, err, errlen);
        if (rc)
            return rc;
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

void variant_apply(const struct variant *v, struct run_options *o)
{
    o->backend = v->backend;
    for (size_t i = 0; i < BACKEND_OPTION_MAX; i++)
        if (v->set[i])
            o->backend_options.value[i] = v->values.value[i];
}
