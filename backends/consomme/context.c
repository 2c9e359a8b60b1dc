/* SPDX-License-Identifier: MIT */
/*
 * context.c - what the protocols and transports ask of the stack's context
 *
 * Its configuration, the TCP module's state pointer, the clock, epoll registration of their
 * event sources, and the transport's "connected" hook. Apart from the loop (loop.c), which
 * calls down into the protocols and transports: they call down into this file, so the loop and
 * they include each other in no circle.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>

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

int cm_event_add(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.ptr = ev};

    return epoll_ctl(c->epfd, EPOLL_CTL_ADD, ev->fd, &e) ? -errno : 0;
}

int cm_event_mod(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.ptr = ev};

    return epoll_ctl(c->epfd, EPOLL_CTL_MOD, ev->fd, &e) ? -errno : 0;
}

void cm_event_del(struct consomme *c, struct cm_event *ev)
{
    epoll_ctl(c->epfd, EPOLL_CTL_DEL, ev->fd, NULL);
    /* The owner may free @ev right after this; an event for it later in this turn's list
     * must not be delivered. */
    for (int i = 0; i < c->turn_n; i++)
        if (c->turn_evs[i].data.ptr == ev)
            c->turn_evs[i].data.ptr = NULL;
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
