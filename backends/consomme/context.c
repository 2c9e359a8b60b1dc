/* SPDX-License-Identifier: MIT */
/*
 * context.c - what the protocols and transports ask of the stack's context
 *
 * Its configuration, the TCP module's state pointer, the clock and the ISNs, its epoll set
 * (for event.c, which registers their event sources and delivers their events), and the
 * transport's "connected" hook. Apart from the loop (loop.c), which calls down into the protocols
 * and transports: they call down into this file, so the loop and they include each other in no
 * circle.
 */
#include <sys/random.h>

#include "clock.h"
#include "core.h"

const struct cm_config *cm_config(const struct consomme *c)
{
    return &c->opts.cfg;
}

void *cm_tcp_state(struct consomme *c)
{
    return c->tcp_state;
}

void cm_set_tcp_state(struct consomme *c, void *state)
{
    c->tcp_state = state;
}

/* Wraps the shared clock so tests can link a fake one instead (the stateful fuzzer, built
 * with CONSOMME_FUZZ, brings its virtual clock). */
#ifndef CONSOMME_FUZZ
uint64_t cm_now_ms(void)
{
    return (uint64_t)clock_now_ms();
}
#endif

void cm_set_isn_source(struct consomme *c, uint32_t (*source)(void))
{
    c->isn_source = source;
}

uint32_t cm_new_isn(struct consomme *c)
{
    uint32_t isn;

    if (c->isn_source)
        return c->isn_source();
    /* unpredictable to others on the path is what matters; the fallback still varies */
    if (getrandom(&isn, sizeof(isn), GRND_NONBLOCK) != sizeof(isn))
        isn = (uint32_t)cm_now_ms() * 2654435761u ^ (uint32_t)(uintptr_t)&isn;
    return isn;
}

/* The epoll set and the turn being delivered, for event.c (which registers and delivers). */
struct cm_events *cm_events(struct consomme *c)
{
    return &c->events;
}

/**
 * cm_guest_connected() - The guest's transport is connected: run the on_connected hook once
 * @c:		Stack
 */
void cm_guest_connected(struct consomme *c)
{
    void (*fn)(struct consomme * c) = c->on_connected;

    c->on_connected = NULL;
    if (fn)
        fn(c);
}
