/* SPDX-License-Identifier: MIT */
/*
 * gate - which metrics a CI gate fails on; see gate.h.
 *
 * Specs are short (a few terms) and metrics few (tens per report), so every question walks
 * the spec's terms again instead of keeping a parsed copy: the gate stays a plain pointer.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "gate.h"
#include "text.h"

#define TERM_MAX   256
#define GATE_TERMS "'results', 'rates', 'all' or globs of metric names, comma-separated"

static bool ends_with_one_of(const char *name, const char *const *suffixes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (text_ends_with(name, suffixes[i]))
            return true;
    return false;
}

bool metric_is_rate(const char *name)
{
    static const char *const suffixes[] = {"_gbps", "_pps", "_per_s"};

    return ends_with_one_of(name, suffixes, sizeof(suffixes) / sizeof(suffixes[0]));
}

bool metric_is_diagnostic(const char *name)
{
    static const char *const suffixes[] = {"_cpu_percent",  "_ms_per_gbit",       "_retransmits",
                                           "_lost_percent", "_stalled_intervals", "_lost"};

    return ends_with_one_of(name, suffixes, sizeof(suffixes) / sizeof(suffixes[0]));
}

/* The term of @spec at *@pos into @term (NUL-terminated, cut at TERM_MAX), *@pos moved past
 * it and its comma (past the end after the last term, so every walk ends). Return: false when
 * no term is left; "a," has two, the second empty. */
static bool next_term(const char *spec, size_t *pos, char *term)
{
    size_t len;

    if (*pos > strlen(spec))
        return false;
    len = strcspn(spec + *pos, ",");
    snprintf(term, TERM_MAX, "%.*s", (int)len, spec + *pos);
    *pos += len + 1;
    return true;
}

static bool term_is_keyword(const char *term)
{
    return !strcmp(term, "results") || !strcmp(term, "rates") || !strcmp(term, "all");
}

static bool term_covers(const char *term, const char *name)
{
    if (!strcmp(term, "results"))
        return !metric_is_diagnostic(name);
    if (!strcmp(term, "rates"))
        return metric_is_rate(name);
    if (!strcmp(term, "all"))
        return true;
    return !fnmatch(term, name, 0);
}

int metric_gate_parse(struct metric_gate *g, const char *spec, char *err, size_t errlen)
{
    char term[TERM_MAX];
    size_t pos = 0;

    if (!*spec)
        return errbuf_set(err, errlen, -EINVAL, "--gate: empty; give " GATE_TERMS);
    while (next_term(spec, &pos, term))
        if (!*term)
            return errbuf_set(err, errlen, -EINVAL, "--gate '%s': an empty term; give " GATE_TERMS,
                              spec);
    g->spec = spec;
    return 0;
}

bool metric_gate_covers(const struct metric_gate *g, const char *name)
{
    char term[TERM_MAX];
    size_t pos = 0;

    if (!g || !g->spec)
        return !metric_is_diagnostic(name);
    while (next_term(g->spec, &pos, term))
        if (term_covers(term, name))
            return true;
    return false;
}

bool metric_gate_unmatched(const struct metric_gate *g, const char *const *names, size_t n,
                           char *term, size_t termlen)
{
    char t[TERM_MAX];
    size_t pos = 0;

    if (!g || !g->spec)
        return false;
    while (next_term(g->spec, &pos, t)) {
        size_t i = 0;

        if (term_is_keyword(t))
            continue;
        while (i < n && !term_covers(t, names[i]))
            i++;
        if (i == n) {
            snprintf(term, termlen, "%s", t);
            return true;
        }
    }
    return false;
}

int metric_gate_check(const struct metric_gate *g, const char *const *names, size_t n,
                      const char *what, char *err, size_t errlen)
{
    char term[TERM_MAX];

    if (!metric_gate_unmatched(g, names, n, term, sizeof(term)))
        return 0;
    return errbuf_set(err, errlen, -EINVAL, "--gate: '%s' matches no %s (names look like %s)", term,
                      what, n ? names[0] : "net_virtio-net_tcp_tx_gbps");
}
