/* SPDX-License-Identifier: MIT */
/*
 * helper - the namespace helper process and the harness's handle on it
 *
 * The harness forks the helper before it starts any thread (unshare(CLONE_NEWUSER) refuses a
 * multi-threaded caller). The helper starts in the harness's namespaces, in its own process
 * group, with PR_SET_PDEATHSIG; it serves requests on an AF_UNIX SOCK_SEQPACKET socketpair
 * (framing in rpc.h):
 *
 *   {"id":N,"op":"setup_tap","name":"tap0","cidr":"192.168.100.1/24","mtu":1500}
 *       -> {"id":N,"ok":true} with the TAP fd attached. Must be the first request: the helper
 *          then moves into a fresh user+network namespace for good, so its iperf3 servers
 *          listen there; without it they serve the host's 127.0.0.1 (other backends).
 *   {"id":N,"op":"iperf_server","port":5201,"bind":"192.168.100.1"}
 *       -> {"id":N,"event":"listening"} once the socket is in LISTEN state, then
 *          {"id":N,"event":"result","json":"<iperf3 server JSON>","cpu_ms":C}, C the CPU
 *          (user + system, ms) of the server's process from listening to its exit (added
 *          field, left out when unknown; every job's result may carry it)
 *   {"id":N,"op":"iperf_client","host":..,"port":..,"duration":..,"streams":..,"reverse":..,
 *    "udp":..,"bitrate":..}  -> {"id":N,"event":"result","json":"<iperf3 client JSON>"}
 *   {"id":N,"op":"echo_server","port":P,"bind":A,"close_after":B}  (latency test; bind and
 *    close_after optional) -> {"id":N,"event":"listening"} once TCP listens and UDP is bound
 *       on port P; it echoes (echo_server.h) until
 *   {"id":N,"op":"finish","target":M} -> {"id":N,"ok":true}; echo server M then sends
 *       {"id":M,"event":"result","json":"{\"tcp_connections\":..,\"tcp_bytes\":..,
 *       \"udp_datagrams\":..,\"udp_bytes\":..}"} and ends
 *   {"id":N,"op":"cancel","target":M} -> job M ends with an error reply; then {"id":N,"ok":true}
 *   {"id":N,"op":"stop"} -> {"id":N,"ok":true}; every job is killed and the helper exits.
 *
 * Any request may instead get {"id":N,"error":"<cause and fix>","errno":E}. Requests are
 * served concurrently (a server and a client may run at once); replies carry the request id.
 *
 * Harness side: every wait has a time limit, and end of file on the socket means the helper
 * died: it is reaped and reported at once, so the harness never hangs on it.
 */
#ifndef BURETTE_HELPER_H
#define BURETTE_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HELPER_LISTEN_TIMEOUT_MS 10000 /* a libiperf server binds in microseconds */

struct helper;
struct pollfd;

/*
 * A poll() the harness supplies so that waits on the helper also end on SIGINT/SIGTERM:
 * returns > 0 on events, -ETIMEDOUT at @deadline (CLOCK_MONOTONIC ms, < 0 none), -ECANCELED
 * when cancelled. proc_poll() has this shape.
 */
typedef int helper_wait_fn(struct pollfd *fds, size_t n, long long deadline);

struct helper_tap_opts {
    const char *name;     /* "tap0" */
    const char *cidr;     /* "192.168.100.1/24" */
    unsigned mtu;         /* 1500 */
    const char *tun_path; /* NULL: /dev/net/tun */
};

/* How an iperf3 client runs: what helper_client_run() asks the helper for, and what the
 * helper's job (iperf_job.h) carries out. */
struct helper_iperf_client {
    unsigned duration_s;
    unsigned streams;
    bool reverse;
    bool udp;
    uint64_t bitrate; /* bits/s, 0 unlimited */
};

struct helper_client_opts {
    const char *host;
    unsigned port;
    struct helper_iperf_client run;
};

/**
 * helper_spawn() - Fork the helper process
 * @out:	The handle, on success
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Call before any thread exists.
 *
 * Return: 0 on success, negative errno otherwise
 */
int helper_spawn(struct helper **out, char *err, size_t errlen);

/**
 * helper_main() - The helper's request loop (runs in the forked child)
 * @sock:	The helper's end of the socketpair
 *
 * Return: exit status for the helper process
 */
int helper_main(int sock);

/**
 * helper_set_wait() - Wait through @wait instead of plain poll() from now on
 * @h:		Helper
 * @wait:	The caller's poll, or NULL
 */
void helper_set_wait(struct helper *h, helper_wait_fn *wait);

/**
 * helper_fd() - The RPC socket, for a caller's poll(): readable with POLLHUP once the helper
 * is gone
 * @h:		Helper
 *
 * Return: the descriptor (owned by @h)
 */
int helper_fd(const struct helper *h);

/**
 * helper_pid() - The helper's process id (also its process group)
 * @h:		Helper
 *
 * Return: the pid
 */
pid_t helper_pid(const struct helper *h);

/**
 * helper_setup_tap() - Move the helper into its own namespace and create the TAP device there
 * @h:		Helper that has not served any request yet
 * @o:		Device name, address, MTU
 * @tap_fd:	The TAP's descriptor on success (caller closes)
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 on success, negative errno with a message naming cause and fix
 */
int helper_setup_tap(struct helper *h, const struct helper_tap_opts *o, int *tap_fd, char *err,
                     size_t errlen);

/**
 * helper_server_start() - Start a one-off iperf3 server and wait until it listens
 * @h:		Helper
 * @bind:	Address to bind, NULL or "" for any
 * @port:	TCP/UDP port
 * @job:	Handle of the server job, for helper_server_result() or helper_cancel()
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 once the server listens, negative errno with iperf3's message otherwise
 */
int helper_server_start(struct helper *h, const char *bind, unsigned port, unsigned *job, char *err,
                        size_t errlen);

/**
 * helper_server_result() - Wait for a server's JSON report
 * @h:		Helper
 * @job:	From helper_server_start()
 * @timeout_ms:	Longest wait, -1 for none
 * @json:	iperf3's JSON text on success (caller frees)
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 on success, -ETIMEDOUT (the job still runs: cancel it), other negative errno
 */
int helper_server_result(struct helper *h, unsigned job, int timeout_ms, char **json, char *err,
                         size_t errlen);

/**
 * helper_server_result_cpu() - helper_server_result(), and the CPU the server used
 * @cpu_ms:	The server process's CPU (user + system) from listening to exit, in ms; < 0
 *		when the helper did not say (an older helper)
 *
 * Return: as helper_server_result()
 */
int helper_server_result_cpu(struct helper *h, unsigned job, int timeout_ms, char **json,
                             double *cpu_ms, char *err, size_t errlen);

/**
 * helper_client_run() - Run an iperf3 client in the helper's namespace and wait for it
 * @h:		Helper
 * @o:		What to run
 * @json:	iperf3's JSON text on success (caller frees)
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 on success, negative errno with iperf3's message otherwise
 */
int helper_client_run(struct helper *h, const struct helper_client_opts *o, char **json, char *err,
                      size_t errlen);

/**
 * helper_echo_start() - Start the latency test's echo server and wait until it listens
 * @h:		Helper
 * @bind:	Address to bind, NULL or "" for any
 * @port:	TCP and UDP port
 * @close_after: Close each TCP connection after echoing this many bytes (TCP CRR), 0 never
 * @job:	Handle of the job, for helper_echo_finish() or helper_cancel()
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 once it listens, negative errno with the cause otherwise (e.g. the port is taken)
 */
int helper_echo_start(struct helper *h, const char *bind, unsigned port, unsigned close_after,
                      unsigned *job, char *err, size_t errlen);

/**
 * helper_echo_finish() - Stop an echo server and take its counts
 * @h:		Helper
 * @job:	From helper_echo_start()
 * @json:	{"tcp_connections":..,"tcp_bytes":..,"udp_datagrams":..,"udp_bytes":..} (caller
 *		frees)
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0, or negative errno (the job is gone either way)
 */
int helper_echo_finish(struct helper *h, unsigned job, char **json, char *err, size_t errlen);

/**
 * helper_cancel() - Kill a running job and wait until the helper confirms
 * @h:		Helper
 * @job:	Job handle
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 on success, negative errno otherwise
 */
int helper_cancel(struct helper *h, unsigned job, char *err, size_t errlen);

/**
 * helper_destroy() - Stop the helper, kill its process group, reap it and free @h
 * @h:		Helper, may be NULL
 *
 * Always leaves nothing behind: a helper that does not answer "stop" at once is killed.
 */
void helper_destroy(struct helper *h);

#endif /* BURETTE_HELPER_H */
