/* SPDX-License-Identifier: MIT */
/*
 * render_json - reports and comparisons as JSON for machines.
 *
 * One report is printed as the report itself, so the output can be read back as a report;
 * several are {"reports": [...]}. A comparison carries every number and verdict.
 */
#include <errno.h>
#include <math.h>

#include "errbuf.h"
#include "render_impl.h"

static int dump(FILE *f, json_t *root, char *err, size_t errlen)
{
    int rc = 0;

    if (!root)
        return errbuf_set(err, errlen, ENOMEM, "out of memory");
    if (json_dumpf(root, f, JSON_INDENT(2)) < 0 || fputc('\n', f) == EOF || fflush(f) == EOF)
        rc = errbuf_set(err, errlen, EIO, "cannot write the output");
    json_decref(root);
    return rc;
}

static int json_reports(FILE *f, const struct report *const *reports, size_t n, char *err,
                        size_t errlen)
{
    json_t *arr;

    if (n == 1)
        return dump(f, report_to_json(reports[0]), err, errlen);
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, report_to_json(reports[i])) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    return dump(f, arr ? json_pack("{s:o}", "reports", arr) : NULL, err, errlen);
}

static void set_number(json_t *o, const char *key, double v)
{
    json_object_set_new(o, key, isfinite(v) ? json_real(v) : json_null());
}

static json_t *side_json(const struct metric *m)
{
    json_t *o;

    if (!m)
        return json_null();
    o = json_object();
    json_object_set_new(o, "iterations", json_integer((json_int_t)m->st.n));
    set_number(o, "mean", m->st.mean);
    set_number(o, "std_dev", m->st.std_dev);
    set_number(o, "ci95_low", m->st.ci95_low);
    set_number(o, "ci95_high", m->st.ci95_high);
    if (m->nsamples)
        json_object_set_new(o, "samples", metric_samples_json(m));
    return o;
}

/* Provenance fields by name, "unknown" where the report does not say (as the tables show). */
static json_t *provenance_json(const struct report *r)
{
    json_t *o = json_object();

    for (size_t i = 0; o && i < NPROVENANCE; i++) {
        char v[256];

        report_provenance(r, render_provenance_fields[i], v, sizeof(v));
        json_object_set_new(o, render_provenance_fields[i], json_string(v));
    }
    return o;
}

static json_t *origin_json(const struct report *r)
{
    return json_pack("{s:s, s:s?, s:s, s:s, s:s, s:O?, s:O?, s:o}", "label", report_label(r),
                     "source", r->source, "git_revision", r->git_revision, "git_branch",
                     r->git_branch, "date", r->date, "config", r->config, "host", r->host,
                     "provenance", provenance_json(r));
}

static json_t *stall_json(const struct compare_row *row)
{
    char note[320];

    render_stall_note(note, sizeof(note), row);
    return json_pack("{s:{s:I, s:I}, s:{s:I, s:I}, s:s}", "baseline", "runs",
                     (json_int_t)row->base_stalls.runs, "stalled",
                     (json_int_t)row->base_stalls.stalled, "candidate", "runs",
                     (json_int_t)row->cand_stalls.runs, "stalled",
                     (json_int_t)row->cand_stalls.stalled, "note", note);
}

static json_t *notes_json(const struct comparison *c)
{
    struct notes n = {0};
    json_t *arr = json_array();

    if (!arr || render_comparison_notes(c, &n) < 0) {
        notes_free(&n);
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < n.n; i++)
        json_array_append_new(arr, json_string(n.lines[i]));
    notes_free(&n);
    return arr;
}

/* Everything about a comparison, as one object: every number, verdict and warning. */
static json_t *comparison_json(const struct comparison *c)
{
    json_t *root, *cands;

    root =
        json_pack("{s:f, s:f, s:s, s:i, s:i, s:o}", "alpha", c->opts.alpha, "threshold_pct",
                  c->opts.threshold_pct, "gate", c->opts.gate.spec ? c->opts.gate.spec : "results",
                  "regressed", (json_int_t)c->regressed, "regressed_outside_gate",
                  (json_int_t)c->regressed_outside_gate, "baseline", origin_json(c->base));
    cands = json_array();
    if (!root || !cands)
        goto fail;
    for (size_t i = 0; i < c->nresults; i++) {
        const struct compare_result *res = &c->results[i];
        json_t *cand = origin_json(res->cand), *metrics = json_array(), *counts = json_object();

        for (size_t v = 0; v <= VERDICT_CANDIDATE_ONLY; v++)
            json_object_set_new(counts, verdict_name(v), json_integer((json_int_t)res->count[v]));
        for (size_t j = 0; j < res->nrows; j++) {
            const struct compare_row *row = &res->rows[j];
            json_t *m = json_object();

            json_object_set_new(m, "name", json_string(row->name));
            json_object_set_new(m, "unit", json_string(row->unit));
            json_object_set_new(m, "higher_is_better", json_boolean(row->higher_is_better));
            json_object_set_new(m, "baseline", side_json(row->base));
            json_object_set_new(m, "candidate", side_json(row->cand));
            set_number(m, "delta", row->delta);
            set_number(m, "delta_pct", row->delta_pct);
            set_number(m, "ci95_change_low_pct", row->ci_low_pct);
            set_number(m, "ci95_change_high_pct", row->ci_high_pct);
            set_number(m, "p_value", row->p_value);
            json_object_set_new(m, "test", json_string(pvalue_method_name(row->method)));
            if (row->base && row->cand)
                json_object_set_new(m, "pairing", json_string(pairing_name(row->pairing)));
            json_object_set_new(m, "verdict", json_string(verdict_name(row->verdict)));
            json_object_set_new(m, "gated",
                                json_boolean(metric_gate_covers(&c->opts.gate, row->name)));
            if (row->reason != REASON_NONE)
                json_object_set_new(m, "reason", json_string(verdict_reason_text(row->reason)));
            if (row->stalled)
                json_object_set_new(m, "stalled", stall_json(row));
            if (row->base && row->cand)
                set_number(m, "detectable_pct", row->detectable_pct);
            if (row->undetectable) {
                json_object_set_new(m, "undetectable", json_true());
                if (row->rounds_needed)
                    json_object_set_new(m, "rounds_needed",
                                        json_integer((json_int_t)row->rounds_needed));
            }
            json_array_append_new(metrics, m);
        }
        json_object_set_new(cand, "same_run", json_boolean(res->same_run));
        json_object_set_new(cand, "counts", counts);
        json_object_set_new(cand, "metrics", metrics);
        json_array_append_new(cands, cand);
    }
    json_object_set_new(root, "candidates", cands);
    if (c->opts.require_detectable_pct > 0) {
        set_number(root, "require_detectable_pct", c->opts.require_detectable_pct);
        json_object_set_new(root, "undetectable", json_integer((json_int_t)c->undetectable));
    }
    json_object_set_new(root, "warnings", notes_json(c));
    return root;
fail:
    json_decref(root);
    json_decref(cands);
    return NULL;
}

static int json_comparison(FILE *f, const struct comparison *c, char *err, size_t errlen)
{
    return dump(f, comparison_json(c), err, errlen);
}

const struct renderer render_json = {
    .name = "json",
    .reports = json_reports,
    .comparison = json_comparison,
};
