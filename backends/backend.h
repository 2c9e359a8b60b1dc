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
 * model and the MAC) or the path of a vhost-user socket, the descriptors QEMU inherits, the guest's
 * NIC settings, and the server's bind address and the address the guest connects to. teardown()
 * runs after QEMU is gone and releases all prepare() made (descriptors, processes) on every path.
 *
 * The table in backend.c is the registry the rest of burette asks instead of knowing the
 * backends: `--backend` and `--variant` names, the options a variant or a global flag may set
 * (struct backend_option: name, parser, default, JSON key, help line), what --dry-run and a
 * report's `config` record of them, and the option list of `burette run --help`.
 *
 * Option values live in struct backend_options, one slot per option of the registry (the
 * common rows first, then each backend's rows in table order): every run carries a value for
 * every option (its default unless set), and records only the options of its own backend.
 *
 * Adding a backend: one file backends/NAME/launcher.c defining its struct backend_ops (with
 * its options), one row in the table in backend.c. Adding an option: one row in its
 * backend's options[] (or in backend.c's common_options[] for one every run takes, such as
 * the QEMU binary), read in prepare() with backend_option_value().
 */
#ifndef BURETTE_BACKEND_H
#define BURETTE_BACKEND_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

#include <stdint.h>

#include <jansson.h>

#include "agent_proto.h"

#define BACKEND_MAX_FDS        4
#define BACKEND_NETDEV_ID      "n0"
#define BACKEND_OPTION_MAX     16  /* options over all backends */
#define BACKEND_VALUE_TEXT_MAX 256 /* a path, a choice */

struct backend_socket_dir;
struct helper;

/* The value of one option, in the form its parser gives it. */
union backend_value {
    struct {
        uint64_t initial; /* a size range, e.g. consomme's TCP buffer bounds */
        uint64_t max;
    } bounds;
    unsigned long long number;
    char text[BACKEND_VALUE_TEXT_MAX];
};

/* One option a backend (or every run) takes: `--variant B:NAME=VALUE` and, unless
 * @variant_only, the flag --NAME for every run that takes it. */
struct backend_option {
    const char *name;          /* "tcp-rx-buffer" */
    const char *metavar;       /* "INITIAL[:MAX]", for --help */
    const char *help;          /* --help text; '\n' starts a new line; the default is added */
    const char *default_value; /* parsed by parse() into every run's value */
    const char *json_key;      /* key in a report's config and in --dry-run; NULL: not shown */
    bool only_if_set;          /* a text option recorded only when it differs from the default */
    bool variant_only;         /* no flag --NAME: the run has a flag of that name of its own */
    /**
     * parse() - Parse @value into @out
     * Return: 0, or negative errno with a message that does not name the option
     */
    int (*parse)(const char *value, union backend_value *out, char *err, size_t errlen);
    /* to_json() - The value as the report records it; NULL on allocation failure */
    json_t *(*to_json)(const union backend_value *v);
};

/* A value for every option of the registry, indexed as backend_option_at() counts them. */
struct backend_options {
    union backend_value value[BACKEND_OPTION_MAX];
};

/*
 * What the run's QEMU can do for a backend under the run's accelerator, probed before anything
 * starts (run_settle()): the backends include nothing of the harness, the VM layer included.
 */
struct backend_qemu_caps {
    bool vhost_user;              /* it can serve a vhost-user virtio-net NIC */
    char why_not_vhost_user[512]; /* when not: one sentence saying why and how to fix it */
};

/* What a backend may use while preparing. */
struct backend_ctx {
    const struct backend_options *options; /* the run's values; backend_option_value() */
    const char *log_dir;                   /* exists: logs of the backend's own processes go here */
    struct helper *helper;                 /* spawned, no request served yet */
    unsigned mtu; /* the guest NIC's MTU the run asks for (--mtu), 0: the backend's own */
};

struct backend {
    const struct backend_ops *ops;
    void *priv; /* the backend's own state */

    /* Filled by prepare(). */
    char netdev[256]; /* QEMU -netdev, e.g. "tap,id=n0,fd=7" */
    /* Instead of @netdev: a vhost-user back-end listening here; the VM layer then builds the
     * chardev and the netdev, and shares guest RAM with the back-end (vm.h). */
    char vhost_user_socket[PATH_MAX];
    int fds[BACKEND_MAX_FDS]; /* descriptors @netdev names, owned by the backend */
    size_t n_fds;
    struct agent_nic_config guest; /* the guest NIC's settings; mac is set by the test */
    char server_bind[64];          /* where the iperf3 server binds ("" any) */
    char server_addr[64];          /* the address the guest's client connects to */
    unsigned server_port;
    bool server_in_helper_ns; /* the helper was moved into the backend's namespace */
    pid_t process;            /* the backend's own process (--perf-dir records it), 0: none */
    /* Where QEMU reaches the backend's socket, if prepare() made such a directory: the run
     * removes it once QEMU is connected, so that a burette killed later leaves no directory
     * behind (teardown() removes it otherwise). NULL: none. */
    struct backend_socket_dir *socket_dir;
};

struct backend_ops {
    const char *name;
    const struct backend_option *options; /* what --variant NAME:OPTION=VALUE may set */
    size_t n_options;
    /* The guest's MTU when the backend cannot change it (slirp: QEMU's 1500), 0 when it
     * follows backend_ctx.mtu: --mtu is refused for it otherwise. */
    unsigned fixed_mtu;
    /**
     * prepare() - Obtain what the NIC needs and fill @b (its ops and priv are set already)
     * Return: 0, or negative errno with a message naming cause and fix; on failure nothing
     * is left behind and teardown() is not called
     */
    int (*prepare)(struct backend *b, const struct backend_ctx *ctx, char *err, size_t errlen);
    /* teardown() - Release what prepare() made; called once QEMU is gone */
    void (*teardown)(struct backend *b);
    /**
     * settle() - Decide what the run's options leave open, from the QEMU it will use; may be
     * NULL. Called before anything starts, so a refusal is bad input (exit 2).
     * @v:		The run's values; the backend may change its own
     * @qemu:	What the run's QEMU can do under the run's accelerator
     * @notice:	Set to one line to tell the user (a fallback), "" otherwise
     * Return: 0, or negative errno with a message naming cause and fix
     */
    int (*settle)(struct backend_options *v, const struct backend_qemu_caps *qemu, char *notice,
                  size_t nlen, char *err, size_t errlen);
    /**
     * died() - Whether the backend's own process has died, and why; may be NULL. Asked after
     * a failure, so the error names the cause rather than what it broke downstream.
     * @why:	Set to one line naming how it died and what to do, when it did
     * Return: true when it died (it is reaped: teardown() need not kill it)
     */
    bool (*died)(struct backend *b, char *why, size_t len);
};

/**
 * backend_find() - The backend called @name
 * @name:	e.g. "tap"
 *
 * Return: its ops, or NULL if this build has no such backend
 */
const struct backend_ops *backend_find(const char *name);

/**
 * backend_count() - How many backends this build has
 *
 * Return: the number of rows of the table
 */
size_t backend_count(void);

/**
 * backend_at() - The @i-th backend of the table, in the order --help lists them
 * @i:		0 to backend_count() - 1
 *
 * Return: its ops
 */
const struct backend_ops *backend_at(size_t i);

/**
 * backend_option_count() - How many options the registry has: the common ones, then each
 * backend's
 *
 * Return: at most BACKEND_OPTION_MAX
 */
size_t backend_option_count(void);

/**
 * backend_option_at() - The @i-th option of the registry
 * @i:		0 to backend_option_count() - 1
 * @owner:	Receives the backend that takes it, NULL for an option of every run; may be NULL
 *
 * Return: the option
 */
const struct backend_option *backend_option_at(size_t i, const struct backend_ops **owner);

/**
 * backend_option_find() - The index of the option called @name
 * @name:	e.g. "tcp-rx-buffer"
 *
 * Return: its index for backend_option_at(), or -1 if no backend takes it
 */
int backend_option_find(const char *name);

/**
 * backend_option_applies() - Whether option @i means something to a run of @backends
 * @i:		Option index
 * @backends:	One backend name or a comma-separated list
 *
 * Return: true for an option of every run, or one of a backend the list names
 */
bool backend_option_applies(size_t i, const char *backends);

/**
 * backend_options_default() - Every option's default value
 * @v:		Receives the values
 */
void backend_options_default(struct backend_options *v);

/* backend_text_json() - to_json() of an option whose value is text: it as a JSON string */
json_t *backend_text_json(const union backend_value *v);

/**
 * backend_options_to_json() - Add the options that apply to @backends to @obj, under their
 * JSON keys in registry order (a report's config, a run of --dry-run)
 * @obj:	JSON object
 * @v:		The values
 * @backends:	One backend name or a comma-separated list
 *
 * Return: 0, -ENOMEM
 */
int backend_options_to_json(json_t *obj, const struct backend_options *v, const char *backends);

/**
 * backend_option_value() - The run's value of @opt, an option of the caller's backend
 * @v:		The run's values (struct backend_ctx's options)
 * @opt:	A row of the caller's options[]
 *
 * Return: the value
 */
const union backend_value *backend_option_value(const struct backend_options *v,
                                                const struct backend_option *opt);

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

/* A private directory holding one UNIX socket a backend listens on for QEMU. */
struct backend_socket_dir {
    char dir[PATH_MAX]; /* "" when none was made */
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/**
 * backend_socket_dir_make() - A fresh 0700 directory under $TMPDIR (or /tmp) for a socket
 * @d:		Receives the directory and the socket's path in it
 * @who:	Names the directory ("passt": burette-passt-XXXXXX) and the messages
 * @name:	The socket's file name
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * A socket path must fit 108 bytes, which a log directory given with --log-dir need not; a
 * directory only this user can enter means no other user can reach or replace the socket.
 *
 * Return: 0, or negative errno (a TMPDIR too long for a socket path says so)
 */
int backend_socket_dir_make(struct backend_socket_dir *d, const char *who, const char *name,
                            char *err, size_t errlen);

/**
 * backend_socket_dir_remove() - Remove the socket and its directory, if made (every path of
 * teardown() and of a failed prepare(): the program may not unlink its socket itself)
 * @d:		The directory
 */
void backend_socket_dir_remove(struct backend_socket_dir *d);

/**
 * backend_qemu_binary() - The QEMU binary a run asked for (the common option qemu=PATH)
 * @v:		The run's values
 *
 * Return: a path, or a name to look up in PATH
 */
const char *backend_qemu_binary(const struct backend_options *v);

/* The backends (one row each in backend.c's table). */
extern const struct backend_ops backend_tap_ops;
extern const struct backend_ops backend_consomme_ops;
extern const struct backend_ops backend_slirp_ops;
extern const struct backend_ops backend_passt_ops;

#endif /* BURETTE_BACKEND_H */
