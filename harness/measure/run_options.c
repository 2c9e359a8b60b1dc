/* SPDX-License-Identifier: MIT */
/* run_options - the defaults of `burette run`; see run_options.h. */
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
