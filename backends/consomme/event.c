/* SPDX-License-Identifier: MIT */
/*
 * event.c - epoll registration of the stack's event sources and delivery of their events
 *
 * See event.h: only struct cm_events is known here, so the core and the TCP tests' fake core
 * share this code.
 */
#include <errno.h>
#include <sys/epoll.h>

#include "consomme.h"
#include "event.h"

static int event_ctl(struct consomme *c, int op, struct cm_event *ev, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.ptr = ev};

    return epoll_ctl(cm_events(c)->epfd, op, ev->fd, &e) ? -errno : 0;
}

int cm_event_add(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    return event_ctl(c, EPOLL_CTL_ADD, ev, events);
}

int cm_event_mod(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    return event_ctl(c, EPOLL_CTL_MOD, ev, events);
}

void cm_event_del(struct consomme *c, struct cm_event *ev)
{
    struct cm_events *e = cm_events(c);

    epoll_ctl(e->epfd, EPOLL_CTL_DEL, ev->fd, NULL);
    /* The owner may free @ev right after this; an event for it later in this turn's list
     * must not be delivered. */
    for (int i = 0; i < e->turn_n; i++)
        if (e->turn[i].data.ptr == ev)
            e->turn[i].data.ptr = NULL;
}

void cm_events_dispatch(struct consomme *c, struct epoll_event *evs, int n)
{
    struct cm_events *e = cm_events(c);

    e->turn = evs;
    e->turn_n = n > 0 ? n : 0;
    for (int i = 0; i < e->turn_n; i++) {
        struct cm_event *ev = evs[i].data.ptr;

        if (ev)
            ev->fn(c, ev, evs[i].events);
    }
    e->turn_n = 0;
}
