/* SPDX-License-Identifier: MIT */
/*
 * event.h - the stack's epoll set and the delivery of one loop turn's events
 *
 * event.c implements consomme.h's cm_event_add(), cm_event_mod() and cm_event_del() and the
 * delivery of what epoll_wait() returned, knowing of the stack only its struct cm_events, which
 * the core hands out through cm_events(). The TCP unit tests' fake core (tests/unit/
 * test_tcp_core.c) provides cm_events() for its own stack, so it registers and delivers events
 * with this same code.
 *
 * Invariant: an event that cm_event_del() removed is not delivered later in the turn that
 * holds it, since its owner may already have freed it.
 */
#ifndef CONSOMME_EVENT_H
#define CONSOMME_EVENT_H

struct consomme;
struct epoll_event;

struct cm_events {
    int epfd;
    /* the turn being delivered, so cm_event_del() can cancel events not yet handled */
    struct epoll_event *turn;
    int turn_n;
};

/* Provided by the core (context.c), and by a fake core in tests. */
struct cm_events *cm_events(struct consomme *c);

/**
 * cm_events_dispatch() - Deliver one epoll turn's events to their owners, in order
 * @c:		Stack
 * @evs:	What epoll_wait() returned on cm_events(@c)->epfd
 * @n:		How many (none when <= 0)
 */
void cm_events_dispatch(struct consomme *c, struct epoll_event *evs, int n);

#endif
