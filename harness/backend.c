/* SPDX-License-Identifier: MIT */
/*
 * backend - the table of network backends and what they share; see backend.h.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"

/* Every backend `burette run --backend` can use: one row each. */
static const struct backend_ops *const backends[] = {
    &backend_consomme_ops,
    &backend_tap_ops,
};

const struct backend_ops *backend_find(const char *name)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (!strcmp(backends[i]->name, name))
            return backends[i];
    return NULL;
}

const char *backend_names(char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]) && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", backends[i]->name);
    return buf;
}

void backend_init(struct backend *b, const struct backend_ops *ops)
{
    memset(b, 0, sizeof(*b));
    b->ops = ops;
    for (size_t i = 0; i < BACKEND_MAX_FDS; i++)
        b->fds[i] = -1;
}

void backend_close_fds(struct backend *b)
{
    for (size_t i = 0; i < b->n_fds; i++) {
        if (b->fds[i] >= 0)
            close(b->fds[i]);
        b->fds[i] = -1;
    }
    b->n_fds = 0;
}
