/* SPDX-License-Identifier: MIT */
/*
 * history_detect - change points of a history's series; see history_detect.h. Their
 * renderings are history_render.c's (text, markdown, JSON) and history_html.c's (the page).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "history_detect.h"
#include "render_impl.h"
#include "table.h"

/*
 * The values edivisive looks at for series @s: every sample of every run, with @off marking
 * where each run's begin, when @o asks for samples and every run has some; else one mean per
 * run (@off then NULL). Return: 0 or -ENOMEM.
 */
static int series_values(const struct history_series *s, const struct ed_options *o,
                         double **values, size_t **off)
{
    size_t total = 0;
    bool samples = o->on_samples;

    *values = NULL;
    *off = NULL;
    for (size_t j = 0; j < s->npoints && samples; j++) {
        samples = s->points[j].nsamples > 0;
        total += s->points[j].nsamples;
    }
    if (!samples) {
        *values = malloc((s->npoints + 1) * sizeof(**values));
        if (!*values)
            return -ENOMEM;
        for (size_t j = 0; j < s->npoints; j++)
            (*values)[j] = s->points[j].mean;
        return 0;
    }
    *values = malloc((total + 1) * sizeof(**values));
    *off = malloc((s->npoints + 1) * sizeof(**off));
    if (!*values || !*off) {
        free(*values);
        free(*off);
        *values = NULL;
        *off = NULL;
        return -ENOMEM;
    }
    (*off)[0] = 0;
    for (size_t j = 0; j < s->npoints; j++) {
        memcpy(*values + (*off)[j], s->points[j].samples, s->points[j].nsamples * sizeof(**values));
        (*off)[j + 1] = (*off)[j] + s->points[j].nsamples;
    }
    return 0;
}

int history_detect(const struct history_series *s, size_t n, const struct ed_options *o,
                   size_t last_runs, struct history_detection *out, char *err, size_t errlen)
{
    double *values = NULL;
    size_t *off = NULL;
    size_t cap = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->series = s;
    out->nseries = n;
    out->last_runs = last_runs;
    for (size_t i = 0; i < n; i++) {
        struct ed_change *found = NULL;
        size_t nfound = 0;
        struct history_change *more;

        free(values);
        free(off);
        if (series_values(&s[i], o, &values, &off)) {
            rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
            goto fail;
        }
        rc = off ? edivisive_samples(values, off, s[i].npoints, o, &found, &nfound)
                 : edivisive(values, s[i].npoints, o, &found, &nfound);
        if (rc == -EINVAL) {
            rc = errbuf_set(err, errlen, rc,
                            "%s: cannot look for change points (bad options, or a mean that is "
                            "not a number)",
                            s[i].metric);
            goto fail;
        }
        if (rc) {
            rc = errbuf_set(err, errlen, rc, "out of memory");
            goto fail;
        }
        if (out->nchanges + nfound > cap) {
            cap = (out->nchanges + nfound) * 2;
            more = realloc(out->changes, cap * sizeof(*more));
            if (!more) {
                free(found);
                rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
                goto fail;
            }
            out->changes = more;
        }
        for (size_t k = 0; k < nfound; k++) {
            struct history_change *c = &out->changes[out->nchanges++];

            c->series = i;
            c->c = found[k];
            c->regression = s[i].higher_is_better ? found[k].change < 0 : found[k].change > 0;
            c->recent = found[k].index + last_runs >= s[i].npoints;
        }
        free(found);
    }
    free(values);
    free(off);
    return 0;
fail:
    free(values);
    free(off);
    history_detection_free(out);
    return rc;
}

void history_detection_free(struct history_detection *d)
{
    free(d->changes);
    d->changes = NULL;
    d->nchanges = 0;
}

bool history_change_gated(const struct history_detection *d, size_t i)
{
    const struct history_change *c = &d->changes[i];
    bool newest = i + 1 == d->nchanges || d->changes[i + 1].series != c->series;

    return newest && c->regression && c->recent &&
           metric_gate_covers(&d->gate, d->series[c->series].metric);
}

const char *history_change_note(const struct history_detection *d, size_t i)
{
    const struct history_change *c = &d->changes[i];

    if (!c->recent || !c->regression)
        return "";
    return metric_gate_covers(&d->gate, d->series[c->series].metric)
               ? " (recent)"
               : " (recent, outside the gate)";
}

bool history_detect_gate(const struct history_detection *d)
{
    for (size_t i = 0; i < d->nchanges; i++)
        if (history_change_gated(d, i))
            return true;
    return false;
}

void history_short_revision(char *buf, size_t len, const char *revision)
{
    snprintf(buf, len, "%.12s", revision && *revision ? revision : "unknown");
}

void history_series_title(char *buf, size_t len, const struct history_series *s)
{
    char what[256] = "";
    const char *parts[] = {s->backend, s->nic, s->transport};

    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t used = strlen(what);

        if (parts[i] && *parts[i])
            snprintf(what + used, sizeof(what) - used, "%s%s", used ? ", " : "", parts[i]);
    }
    snprintf(buf, len, "%s (%s%s%s)", s->metric, what, *what ? "; " : "", s->host_key);
}
