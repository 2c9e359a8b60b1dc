/* SPDX-License-Identifier: MIT */
/* run_options - the defaults of `burette run`, and its sweeps in a config; see run_options.h. */
#include <errno.h>

#include "run_options.h"

void run_options_default(struct run_options *o)
{
    *o = (struct run_options){
        .test = "network",
        .backend = "consomme",
        .nic = "virtio-net",
        .accel = "auto",
        .vcpus = 2,
        .mem_mb = 1024,
        .iterations = 5,
        .warmup = 1,
        .vm_instances = 1,
        .duration_s = 10,
        .streams = 1,
        .rr_size = 1,
        .format = "text",
    };
    backend_options_default(&o->backend_options);
}

static json_t *uint_list(const unsigned *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_integer(v[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

int run_options_sweep_json(const struct run_options *o, json_t *config)
{
    json_t *v;

    if (o->n_streams > 1) {
        v = uint_list(o->stream_sweep, o->n_streams);
        if (!v || json_object_set_new(config, "streams", v))
            return -ENOMEM;
    }
    if (!o->mtu)
        return 0;
    v = o->n_mtus > 1 ? uint_list(o->mtu_sweep, o->n_mtus) : json_integer(o->mtu);
    return v && !json_object_set_new(config, "mtu", v) ? 0 : -ENOMEM;
}
