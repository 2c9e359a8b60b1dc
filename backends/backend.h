/* SPDX-License-Identifier: MIT */
/*
 * backend - what a network backend gives the network test: a NIC for QEMU, how the guest
 * configures it, and where the iperf3 servers listen
 *
 * The network test forks the namespace helper (helper/helper.h) first and hands it to the
 * backend, untouched: a backend whose traffic ends in a namespace of its own (tap) makes it
 * move there with its first request (setup_tap); for every other backend the helper stays in
 * the host's namespace and its iperf3 servers serve the host's loopback. Then prepare() fills
 * struct backend: QEMU's -netdev (always with id=n0; the test adds the -device with the NIC
 * model and the MAC), the descriptors QEMU inherits, the guest's NIC settings, and the
 * server's bind address and the address the guest connects to. teardown() runs after QEMU is
 * gone and releases all prepare() made (descriptors, processes) on every path.
 *
 * Adding a backend: one file harness/backend_<name>.c defining its struct backend_ops, one row
 * in the table in backend.c.
 */
#ifndef BURETTE_BACKEND_H
#define BURETTE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent_proto.h"
#include "run.h"

#define BACKEND_MAX_FDS   4
#define BACKEND_NETDEV_ID "n0"

struct helper;

/* What a backend may use while preparing. */
struct backend_ctx {
    const struct run_options *opts;
    const char *log_dir;   /* exists: logs of the backend's own processes go here */
    struct helper *helper; /* spawned, no request served yet */
};

struct backend {
    const struct backend_ops *ops;
    void *priv; /* the backend's own state */

    /* Filled by prepare(). */
    char netdev[256];         /* QEMU -netdev, e.g. "tap,id=n0,fd=7" */
    int fds[BACKEND_MAX_FDS]; /* descriptors @netdev names, owned by the backend */
    size_t n_fds;
    struct agent_nic_config guest; /* the guest NIC's settings; mac is set by the test */
    char server_bind[64];          /* where the iperf3 server binds ("" any) */
    char server_addr[64];          /* the address the guest's client connects to */
    unsigned server_port;
    bool server_in_helper_ns; /* the helper was moved into the backend's namespace */
    pid_t process;            /* the backend's own process (--perf-dir records it), 0: none */
};

struct backend_ops {
    const char *name;
    /**
     * prepare() - Obtain what the NIC needs and fill @b (its ops and priv are set already)
     * Return: 0, or negative errno with a message naming cause and fix; on failure nothing
     * is left behind and teardown() is not called
     */
    int (*prepare)(struct backend *b, const struct backend_ctx *ctx, char *err, size_t errlen);
    /* teardown() - Release what prepare() made; called once QEMU is gone */
    void (*teardown)(struct backend *b);
};

/**
 * backend_find() - The backend called @name
 * @name:	e.g. "tap"
 *
 * Return: its ops, or NULL if this build has no such backend
 */
const struct backend_ops *backend_find(const char *name);

/**
 * backend_names() - The backends this build has, for messages: "tap, consomme"
 * @buf:	Output buffer
 * @len:	Its size
 *
 * Return: @buf
 */
const char *backend_names(char *buf, size_t len);

/**
 * backend_init() - Reset @b for @ops: no descriptors, empty strings
 * @b:		Backend to reset
 * @ops:	Its operations
 */
void backend_init(struct backend *b, const struct backend_ops *ops);

/**
 * backend_close_fds() - Close the descriptors in @b->fds (a teardown() helper)
 * @b:		Backend
 */
void backend_close_fds(struct backend *b);

/**
 * backend_nat_guest() - Settings of a user-mode NAT backend (slirp, passt): a static guest
 * address whose gateway is the host, and iperf3 servers on the host's loopback
 * @b:		Backend
 * @guest:	The guest's address
 * @prefix:	Its prefix length
 * @host:	The host's address as the guest sees it: gateway, and what its client connects to
 * @mtu:	The guest NIC's MTU
 * @loopback:	Where the iperf3 servers bind on the host
 */
void backend_nat_guest(struct backend *b, const char *guest, unsigned prefix, const char *host,
                       unsigned mtu, const char *loopback);

/**
 * backend_loopback_port() - A TCP port free on 127.0.0.1 now, for an iperf3 server there
 * @port:	The port on success
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Backends whose servers listen on the host's loopback share it with everything else on the
 * machine (another iperf3, a second burette): a fixed port could be taken. The kernel picks
 * one that is free; the server binds it moments later.
 *
 * Return: 0 or negative errno
 */
int backend_loopback_port(unsigned *port, char *err, size_t errlen);

/* The backends (one row each in backend.c's table). */
extern const struct backend_ops backend_tap_ops;
extern const struct backend_ops backend_consomme_ops;
extern const struct backend_ops backend_slirp_ops;
extern const struct backend_ops backend_passt_ops;

#endif /* BURETTE_BACKEND_H */
