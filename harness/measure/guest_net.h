/* SPDX-License-Identifier: MIT */
/*
 * guest_net - a warm guest with one NIC on a backend, the set-up every network-facing test shares
 *
 * guest_net_up() forks the namespace helper, lets the backend prepare the NIC (tap: the helper
 * moves into the backend's namespace and hands over tap0), boots the guest once, finds the test
 * NIC by its MAC (never by enumeration order) and has the agent configure it. What a test then
 * runs against the host goes through the helper, which listens where the backend says
 * (backend.server_bind / server_addr).
 *
 * Invariant: guest_net_down() releases whatever guest_net_up() got to, in reverse order, after a
 * failure half-way as after a run, and never blocks on a guest that a signal interrupted.
 */
#ifndef BURETTE_GUEST_NET_H
#define BURETTE_GUEST_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "cpu_cost.h"
#include "perf_test.h"
#include "vm.h" /* struct agent_run_result */

struct helper;

struct guest_net {
    struct helper *helper;
    struct backend backend;
    bool backend_ready;
    struct vm *vm;
    char prefix[64]; /* metric names start with it: "net_virtio-net_" */
};

/**
 * guest_net_up() - Helper, backend, boot, the test NIC configured
 * @ctx:	The test's context (options, image, accelerator, log directory)
 * @test:	The test's name, for progress lines and the VM's name ("network")
 * @out:	Receives the guest, to be released with guest_net_down()
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * BURETTE_NIC_PROPERTIES, if set, is appended to the guest's virtio-net-pci (e.g.
 * "csum=off,guest_tso4=off": a backend measured with the guest's offloads refused).
 *
 * Return: 0, or negative errno with a message; on failure *out is NULL and nothing is left
 */
int guest_net_up(const struct perf_ctx *ctx, const char *test, struct guest_net **out, char *err,
                 size_t errlen);

/**
 * guest_net_blame_backend() - If the backend's process died, put why in front of @err: a dead
 * backend is the cause of whatever failed after it
 * @g:		The guest
 * @rc:		What failed (0 or -ECANCELED: nothing to blame)
 */
void guest_net_blame_backend(struct guest_net *g, int rc, char *err, size_t errlen);

/**
 * guest_net_cpu_now() - A CPU reading of the guest's QEMU, the backend, the helper and burette
 * (cpu_cost.h), now
 * @g:		The warm guest
 * @r:		Receives the reading
 *
 * Return: true, or false when it could not be taken (QEMU gone)
 */
bool guest_net_cpu_now(const struct guest_net *g, struct cpu_reading *r);

/* What a test's client in the guest did, and the CPU readings on either side of it. */
struct guest_client {
    struct agent_run_result res; /* released with vm_run_result_free() */
    struct cpu_reading before, after;
    bool have_cpu; /* both readings were taken */
};

/**
 * guest_net_run_client() - Run a test's client in the guest, between two CPU readings
 * @g:		The warm guest
 * @argv:	The client's command line
 * @timeout_s:	How long it may run
 * @what:	The client as messages name it ("iperf3 client", "rr loop")
 * @c:		Receives how it ended and the readings
 *
 * Return: 0 when the command ran, however it ended (guest_client_failed() tells), or negative
 * errno with "running the guest's WHAT: ..." when it could not be run
 */
int guest_net_run_client(struct guest_net *g, const char *const argv[], unsigned timeout_s,
                         const char *what, struct guest_client *c, char *err, size_t errlen);

/* guest_client_failed() - True when the client did not end well: a status, a signal, the
 * timeout, or no output at all */
bool guest_client_failed(const struct guest_client *c);

/**
 * guest_client_failure() - Say how the guest's client failed, with the host side's account
 * @c:		The failed client
 * @what:	The client as messages name it
 * @detail:	The client's own reason (iperf3's "error"), or NULL: then its stderr, if any
 * @host_rc:	What the host side's server returned when asked after the failure: 0 or
 *		-ETIMEDOUT (nothing to add), -EPIPE or -ECANCELED (the helper died, or the run was
 *		stopped: @host_msg is the cause on its own), else its error, told after the client's
 * @host_msg:	The host side's message for @host_rc
 *
 * Return: negative errno (-EIO, or @host_rc when it is the cause), with the message in @err
 */
int guest_client_failure(const struct guest_client *c, const char *what, const char *detail,
                         int host_rc, const char *host_msg, char *err, size_t errlen);

/* guest_net_down() - Power off (unless a signal stopped the run), stop QEMU, the backend and the
 * helper; NULL is fine */
void guest_net_down(struct guest_net *g);

/* guest_net_teardown() - guest_net_down() as the perf_test_ops teardown of a test whose state
 * is the struct guest_net of guest_net_up() */
void guest_net_teardown(void *state);

#endif /* BURETTE_GUEST_NET_H */
