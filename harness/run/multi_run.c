/* SPDX-License-Identifier: MIT */
/*
 * multi_run - the runs of a `burette run` with several backends or variants; see multi_run.h.
 * They are carried out by run.c under the same loop as a plain run (loop.h).
 *
 * Every report's config records its label, its variant as written, the order ("interleaved",
 * "subtests" or "sequential": run_order_name()) and the sequence of labels in which the runs
 * took turns (run.c).
 */
#include <string.h>

#include "backend.h"
#include "errbuf.h"
#include "multi_run.h"
#include "run.h"

int multi_options_finish(struct multi_options *m, const struct run_options *o, char *err,
                         size_t errlen)
{
    int rc;

    m->runs.n = 0;
    if (m->backend_given || !m->variants.n) {
        rc = variant_list_add_backends(&m->runs, o->backend, err, errlen);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < m->variants.n; i++) {
        rc = variant_list_add(&m->runs, &m->variants.v[i], err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

bool multi_run_wanted(const struct multi_options *m)
{
    return m->runs.n > 1 || m->variants.n > 0;
}

json_t *multi_runs_json(const struct multi_options *m, const struct run_options *o, char *err,
                        size_t errlen)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < m->runs.n; i++) {
        struct run_options ro = *o;
        const struct variant *v = &m->runs.v[i];
        json_t *r;

        variant_apply(v, &ro);
        if (run_settle(&ro, err, errlen)) {
            errbuf_prefix(err, errlen, "run %s", v->label);
            json_decref(a);
            return NULL;
        }
        r = json_pack("{s:s, s:s, s:s, s:s}", "label", v->label, "variant", v->spec, "backend",
                      v->backend, "qemu_version", ro.qemu_info.version);
        if (r && backend_options_to_json(r, &ro.backend_options, ro.backend)) {
            json_decref(r);
            r = NULL;
        }
        /* a boot test's consomme run settles no transport: none is shown */
        if (r && !strcmp(json_string_value(json_object_get(r, "transport")) ?: "", "auto"))
            json_object_del(r, "transport");
        if (json_array_append_new(a, r)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
