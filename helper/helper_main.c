/* SPDX-License-Identifier: MIT */
/*
 * helper_main - the helper process's request loop; protocol in helper.h.
 *
 * Single-threaded by design: one poll() over the RPC socket and every job's pipes. A server
 * job waiting to listen makes the loop look at the kernel's socket table every couple of
 * milliseconds until its listener appears (or the job ends). End of file on the RPC socket
 * means the harness is gone: every job is killed and the helper exits.
 *
 * Privilege ends with setup_tap, or before the first request when there is none: the helper
 * then sandboxes itself (helper_sandbox.h) before it serves anything else, so no job ever runs
 * unsandboxed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "errbuf.h"
#include "helper.h"
#include "helper_sandbox.h"
#include "iperf_job.h"
#include "ns.h"
#include "rpc.h"

#define MAX_JOBS        8
#define LISTEN_CHECK_MS 2

struct state {
    int sock;
    bool served; /* a request has been served: too late for setup_tap */
    bool stopping;
    bool sandboxed;   /* helper_sandbox_lock() was called (privilege is over) */
    bool switch_user; /* started as root: becomes @user in the sandbox */
    struct sandbox_user user;
    char sandbox_err[ERRBUF_LEN]; /* why it failed: every request is refused with it */
    struct iperf_job jobs[MAX_JOBS];
    bool used[MAX_JOBS];
};

/* Send @reply (consumed) tagged with @id; a failure means the harness is gone. */
static int send_reply(struct state *s, json_int_t id, json_t *reply, int fd)
{
    char err[ERRBUF_LEN];
    int rc;

    json_object_set_new(reply, "id", json_integer(id));
    rc = rpc_send(s->sock, reply, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, err, sizeof(err));
    json_decref(reply);
    if (rc)
        s->stopping = true;
    return rc;
}

static int send_error(struct state *s, json_int_t id, int rc, const char *msg)
{
    json_t *r = json_object();

    json_object_set_new(r, "error", json_string(msg));
    json_object_set_new(r, "errno", json_integer(rc < 0 ? -rc : rc));
    return send_reply(s, id, r, -1);
}

static int send_ok(struct state *s, json_int_t id, int fd)
{
    json_t *r = json_object();

    json_object_set_new(r, "ok", json_true());
    return send_reply(s, id, r, fd);
}

static void do_setup_tap(struct state *s, json_int_t id, json_t *req)
{
    const char *name = json_string_value(json_object_get(req, "name"));
    const char *cidr = json_string_value(json_object_get(req, "cidr"));
    const char *tun = json_string_value(json_object_get(req, "tun_path"));
    json_t *mtu = json_object_get(req, "mtu");
    char err[ERRBUF_LEN];
    int fd = -1, rc;

    if (s->served) {
        send_error(s, id, -EALREADY,
                   "setup_tap must be the helper's first request (its namespace is fixed once it "
                   "has served anything)");
        return;
    }
    s->served = true;
    if (!name || !cidr || !json_is_integer(mtu) || json_integer_value(mtu) <= 0) {
        send_error(s, id, -EINVAL, "setup_tap needs name, cidr and a positive mtu");
        return;
    }
    /* the machine's root, who switches users afterwards: a network namespace alone */
    rc = ns_enter_private(s->switch_user, err, sizeof(err));
    if (!rc)
        rc = ns_create_tap(tun ? tun : "/dev/net/tun", name, cidr,
                           (unsigned)json_integer_value(mtu), &fd, err, sizeof(err));
    if (rc) {
        send_error(s, id, rc, err);
        return;
    }
    send_ok(s, id, fd);
    /* QEMU holds the TAP from now on; our copy would keep the carrier up after it is gone. */
    close(fd);
}

static int free_slot(struct state *s)
{
    for (int i = 0; i < MAX_JOBS; i++)
        if (!s->used[i])
            return i;
    return -1;
}

static int get_uint(json_t *req, const char *key, unsigned long long min, unsigned long long max,
                    unsigned long long def, unsigned long long *out)
{
    json_t *v = json_object_get(req, key);

    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (unsigned long long)json_integer_value(v) < min ||
        (unsigned long long)json_integer_value(v) > max)
        return -EINVAL;
    *out = (unsigned long long)json_integer_value(v);
    return 0;
}

/* Starts job @p for request @id in a free slot, or answers the request with why not (@what
 * names the job: "iperf3 server", "the echo server"). */
static void start_job(struct state *s, json_int_t id, const struct iperf_job_params *p,
                      const char *what)
{
    char err[ERRBUF_LEN];
    int slot = free_slot(s), rc;

    if (slot < 0) {
        send_error(s, id, -EBUSY, "too many jobs at once in the helper");
        return;
    }
    s->jobs[slot].id = (unsigned)id;
    rc = iperf_job_start(&s->jobs[slot], p, err, sizeof(err));
    if (rc) {
        errbuf_prefix(err, sizeof(err), "cannot start %s", what);
        send_error(s, id, rc, err);
        return;
    }
    s->used[slot] = true;
}

static void do_iperf(struct state *s, json_int_t id, json_t *req, bool server)
{
    const char *addr = json_string_value(json_object_get(req, server ? "bind" : "host"));
    struct iperf_job_params p = {.server = server};
    unsigned long long port, duration, streams, bitrate;

    s->served = true;
    if (get_uint(req, "port", 1, 65535, 5201, &port) ||
        get_uint(req, "duration", 1, 86400, 10, &duration) ||
        get_uint(req, "streams", 1, 128, 1, &streams) ||
        get_uint(req, "bitrate", 0, UINT64_MAX >> 1, 0, &bitrate) ||
        (!server && (!addr || !*addr)) || (addr && strlen(addr) >= sizeof(p.addr))) {
        send_error(s, id, -EINVAL,
                   server ? "iperf_server needs a port (1-65535) and an optional bind address"
                          : "iperf_client needs host, port (1-65535), duration (s), streams "
                            "(1-128)");
        return;
    }
    if (addr)
        strcpy(p.addr, addr);
    p.port = (unsigned)port;
    p.client.duration_s = (unsigned)duration;
    p.client.streams = (unsigned)streams;
    p.client.bitrate = bitrate;
    p.client.reverse = json_is_true(json_object_get(req, "reverse"));
    p.client.udp = json_is_true(json_object_get(req, "udp"));

    start_job(s, id, &p, server ? "iperf3 server" : "iperf3 client");
}

/* The latency test's echo server: listening, then its counts once asked to finish. */
static void do_echo(struct state *s, json_int_t id, json_t *req)
{
    const char *addr = json_string_value(json_object_get(req, "bind"));
    struct iperf_job_params p = {.server = true, .echo = true};
    unsigned long long port, close_after;

    s->served = true;
    if (get_uint(req, "port", 1, 65535, 0, &port) || !port ||
        get_uint(req, "close_after", 0, 1u << 30, 0, &close_after) ||
        (addr && strlen(addr) >= sizeof(p.addr))) {
        send_error(s, id, -EINVAL,
                   "echo_server needs a port (1-65535), an optional bind address and an "
                   "optional close_after (bytes, 0 to 2^30)");
        return;
    }
    if (addr)
        strcpy(p.addr, addr);
    p.port = (unsigned)port;
    p.close_after = (unsigned)close_after;
    start_job(s, id, &p, "the echo server");
}

/* Ask an echo server to report: its result then comes as the reply to its own request. */
static void do_finish(struct state *s, json_int_t id, json_t *req)
{
    json_t *t = json_object_get(req, "target");

    for (int i = 0; json_is_integer(t) && i < MAX_JOBS; i++) {
        if (s->used[i] && s->jobs[i].id == (unsigned)json_integer_value(t)) {
            if (iperf_job_finish(&s->jobs[i])) {
                send_error(s, id, -EINVAL, "finish applies to echo_server jobs only");
                return;
            }
            break;
        }
    }
    /* Idempotent, as cancel: a job that already ended has sent its reply. */
    send_ok(s, id, -1);
}

static void do_cancel(struct state *s, json_int_t id, json_t *req)
{
    json_t *t = json_object_get(req, "target");

    for (int i = 0; json_is_integer(t) && i < MAX_JOBS; i++) {
        if (s->used[i] && s->jobs[i].id == (unsigned)json_integer_value(t)) {
            s->jobs[i].cancelled = true;
            iperf_job_kill(&s->jobs[i]);
        }
    }
    /* Idempotent: a job that already ended has nothing left to cancel. */
    send_ok(s, id, -1);
}

/* Privilege is over: lock, once; a failure is remembered and refuses every request after. */
static void enter_sandbox(struct state *s)
{
    if (s->sandboxed)
        return;
    s->sandboxed = true;
    if (s->sandbox_err[0]) /* the user could not be looked up: nothing is served */
        return;
    if (helper_sandbox_lock(s->switch_user ? &s->user : NULL, s->sandbox_err,
                            sizeof(s->sandbox_err)))
        errbuf_prefix(s->sandbox_err, sizeof(s->sandbox_err),
                      "the namespace helper cannot sandbox itself");
}

static void handle_request(struct state *s, json_t *req)
{
    json_t *idv = json_object_get(req, "id");
    const char *op = json_string_value(json_object_get(req, "op"));
    json_int_t id = json_is_integer(idv) ? json_integer_value(idv) : -1;

    if (!op || id < 0) {
        send_error(s, id, -EPROTO, "malformed request: needs an integer id and an op");
        return;
    }
    if (!strcmp(op, "setup_tap")) {
        if (s->sandbox_err[0]) {
            send_error(s, id, -EPERM, s->sandbox_err);
            return;
        }
        do_setup_tap(s, id, req);
        enter_sandbox(s);
        return;
    }
    enter_sandbox(s);
    if (s->sandbox_err[0] && strcmp(op, "stop"))
        send_error(s, id, -EPERM, s->sandbox_err);
    else if (!strcmp(op, "iperf_server"))
        do_iperf(s, id, req, true);
    else if (!strcmp(op, "iperf_client"))
        do_iperf(s, id, req, false);
    else if (!strcmp(op, "echo_server"))
        do_echo(s, id, req);
    else if (!strcmp(op, "finish"))
        do_finish(s, id, req);
    else if (!strcmp(op, "cancel"))
        do_cancel(s, id, req);
    else if (!strcmp(op, "stop")) {
        s->stopping = true;
        for (int i = 0; i < MAX_JOBS; i++)
            if (s->used[i])
                iperf_job_release(&s->jobs[i]);
        send_ok(s, id, -1);
    } else {
        char msg[128];

        snprintf(msg, sizeof(msg), "unknown request '%.60s'", op);
        send_error(s, id, -EPROTO, msg);
    }
}

/* A job ended: send its result or error and free its slot. */
static void finish_job(struct state *s, int i)
{
    struct iperf_job *job = &s->jobs[i];
    char err[ERRBUF_LEN];
    char *json = NULL;
    int rc;

    rc = iperf_job_outcome(job, &json, err, sizeof(err));
    if (rc) {
        send_error(s, job->id, rc, err);
    } else {
        json_t *r = json_object();

        double cpu_ms = iperf_job_cpu_ms(job);

        json_object_set_new(r, "event", json_string("result"));
        json_object_set_new(r, "json", json_string(json));
        /* added field: a harness that does not know it ignores it */
        if (cpu_ms >= 0)
            json_object_set_new(r, "cpu_ms", json_real(cpu_ms));
        send_reply(s, job->id, r, -1);
    }
    free(json);
    iperf_job_release(job);
    s->used[i] = false;
}

/* Look for the listeners of servers that have not announced one yet. */
static void check_listeners(struct state *s)
{
    for (int i = 0; i < MAX_JOBS; i++) {
        struct iperf_job *job = &s->jobs[i];
        int rc;

        if (!s->used[i] || !job->p.server || job->listening || job->pid <= 0)
            continue;
        rc = iperf_listener_ready(job->pid, job->p.port);
        if (rc > 0) {
            json_t *r = json_object();

            iperf_job_note_listening(job);
            json_object_set_new(r, "event", json_string("listening"));
            send_reply(s, job->id, r, -1);
        } else if (clock_now_ms() - job->started_ms > HELPER_LISTEN_TIMEOUT_MS) {
            char msg[160];

            snprintf(msg, sizeof(msg), "%s did not start listening on port %u within %d s",
                     iperf_job_what(job), job->p.port, HELPER_LISTEN_TIMEOUT_MS / 1000);
            send_error(s, job->id, -ETIMEDOUT, msg);
            iperf_job_release(job);
            s->used[i] = false;
        }
    }
}

int helper_main(int sock)
{
    struct state s = {.sock = sock};
    struct pollfd pfd[1 + 2 * MAX_JOBS];
    int user;

    signal(SIGPIPE, SIG_IGN);
    /* Whether we are root is only true now: inside its user namespace the helper is uid 0. */
    user = helper_sandbox_user(&s.user, s.sandbox_err, sizeof(s.sandbox_err));
    if (user < 0)
        errbuf_prefix(s.sandbox_err, sizeof(s.sandbox_err),
                      "the namespace helper cannot sandbox itself");
    s.switch_user = user > 0;
    while (!s.stopping) {
        int n = 0, timeout = -1;
        char err[ERRBUF_LEN];

        pfd[n++] = (struct pollfd){.fd = sock, .events = POLLIN};
        for (int i = 0; i < MAX_JOBS; i++) {
            if (!s.used[i])
                continue;
            pfd[n++] = (struct pollfd){.fd = s.jobs[i].out_fd, .events = POLLIN};
            pfd[n++] = (struct pollfd){.fd = s.jobs[i].diag_fd, .events = POLLIN};
            if (s.jobs[i].p.server && !s.jobs[i].listening)
                timeout = LISTEN_CHECK_MS;
        }
        if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
            break;

        if (pfd[0].revents) {
            struct rpc_msg msg;
            int rc = rpc_recv(sock, 1000, &msg, err, sizeof(err));

            if (rc == -EPIPE || rc == -ECONNRESET)
                break;
            if (rc) {
                send_error(&s, -1, rc, err);
            } else {
                handle_request(&s, msg.body);
                rpc_msg_release(&msg);
            }
        }
        for (int i = 0; i < MAX_JOBS && !s.stopping; i++) {
            int rc;

            if (!s.used[i])
                continue;
            rc = iperf_job_pump(&s.jobs[i]);
            if (rc != 0)
                finish_job(&s, i);
        }
        if (!s.stopping)
            check_listeners(&s);
    }
    for (int i = 0; i < MAX_JOBS; i++)
        if (s.used[i])
            iperf_job_release(&s.jobs[i]);
    close(sock);
    return 0;
}
