/* SPDX-License-Identifier: MIT */
/*
 * helper_client - the harness's side of the helper: spawning, requests, replies, teardown.
 *
 * Replies may arrive for a request other than the one being waited for (a server's result
 * while a client runs); those are kept in a small stash until someone asks for them. When the
 * socket reaches end of file the helper is reaped and every later call fails at once with
 * the same message, so a dead helper is reported once, clearly, and never waited on.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "child.h"
#include "errbuf.h"
#include "helper.h"
#include "rpc.h"
#include "seccomp_sandbox.h"

#define REPLY_TIMEOUT_MS   10000 /* requests that do not wait on iperf3 are answered at once */
#define STOP_TIMEOUT_MS    2000
#define REST_OF_MESSAGE_MS 5000

struct helper {
    pid_t pid;
    int sock;
    json_int_t next_id;
    json_t *stash; /* array of replies nobody asked for yet */
    bool dead;
    char death[ERRBUF_LEN];
    helper_wait_fn *wait; /* NULL: plain poll() */
};

int helper_spawn(struct helper **out, char *err, size_t errlen)
{
    struct helper *h = NULL;
    int sv[2] = {-1, -1};
    pid_t pid;
    int rc = 0;

    *out = NULL;
    h = calloc(1, sizeof(*h));
    if (!h || !(h->stash = json_array())) {
        rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
        goto out;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        rc = errbuf_set(err, errlen, -errno, "helper: socketpair: %s", strerror(errno));
        goto out;
    }
    pid = child_fork();
    if (pid < 0) {
        rc = errbuf_set(err, errlen, -errno, "helper: fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);

        /* Own process group: a terminal's Ctrl-C reaches the harness, which tears down. */
        setpgid(0, 0);
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        if (dup2(sv[1], 3) < 0)
            _exit(1);
        close_range(4, ~0u, 0);
        _exit(helper_main(3));
    }
    setpgid(pid, pid); /* also from here, so it holds before we ever signal the group */
    h->pid = pid;
    h->sock = sv[0];
    sv[0] = -1;
    h->next_id = 1;
    *out = h;
    h = NULL;
out:
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    if (h) {
        json_decref(h->stash);
        free(h);
    }
    return rc;
}

void helper_set_wait(struct helper *h, helper_wait_fn *wait)
{
    h->wait = wait;
}

int helper_fd(const struct helper *h)
{
    return h->sock;
}

pid_t helper_pid(const struct helper *h)
{
    return h->pid;
}

/* The helper closed its socket: reap it and remember how it ended. */
static int mark_dead(struct helper *h, char *err, size_t errlen)
{
    int status = 0;
    pid_t r;

    if (!h->dead) {
        h->dead = true;
        /* It closed the socket, so it is exiting; SIGKILL bounds the wait all the same. */
        kill(-h->pid, SIGKILL);
        do {
            r = waitpid(h->pid, &status, 0);
        } while (r < 0 && errno == EINTR);
        if (r == h->pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
            char call[128];

            /* SCMP_ACT_KILL_PROCESS: its allow-list (helper_sandbox.c) missed a call */
            sandbox_describe_kill(h->pid, call, sizeof(call));
            snprintf(h->death, sizeof(h->death),
                     "the namespace helper (pid %d) was killed by its seccomp sandbox (SIGSYS): "
                     "it made %s that its allow-list does not permit. This is a bug in "
                     "burette: please report it with the command line that caused it",
                     (int)h->pid, call);
        } else if (r == h->pid && WIFSIGNALED(status))
            snprintf(h->death, sizeof(h->death),
                     "the namespace helper (pid %d) died: killed by signal %d (%s)", (int)h->pid,
                     WTERMSIG(status), strsignal(WTERMSIG(status)));
        else if (r == h->pid && WIFEXITED(status))
            snprintf(h->death, sizeof(h->death),
                     "the namespace helper (pid %d) exited unexpectedly with status %d",
                     (int)h->pid, WEXITSTATUS(status));
        else
            snprintf(h->death, sizeof(h->death), "the namespace helper (pid %d) is gone",
                     (int)h->pid);
        h->pid = 0;
    }
    return errbuf_set(err, errlen, -EPIPE, "%s", h->death);
}

static json_int_t send_request(struct helper *h, json_t *req, char *err, size_t errlen, int *rc)
{
    json_int_t id = h->next_id++;

    if (h->dead) {
        json_decref(req);
        *rc = errbuf_set(err, errlen, -EPIPE, "%s", h->death);
        return -1;
    }
    json_object_set_new(req, "id", json_integer(id));
    *rc = rpc_send(h->sock, req, NULL, 0, err, errlen);
    json_decref(req);
    if (*rc == -EPIPE)
        *rc = mark_dead(h, err, errlen);
    else if (*rc)
        errbuf_prefix(err, errlen, "helper");
    return id;
}

/*
 * Wait for the next reply to request @id (from the stash or the socket). If @fd is given, a
 * descriptor that came with the reply is handed over there.
 */
static int wait_reply(struct helper *h, json_int_t id, int timeout_ms, json_t **reply, int *fd,
                      char *err, size_t errlen)
{
    long long deadline = timeout_ms < 0 ? -1 : clock_now_ms() + timeout_ms;
    size_t i;
    json_t *r;

    *reply = NULL;
    json_array_foreach(h->stash, i, r)
    {
        if (json_integer_value(json_object_get(r, "id")) == id) {
            *reply = json_incref(r);
            json_array_remove(h->stash, i);
            return 0;
        }
    }
    for (;;) {
        struct rpc_msg msg;
        int left = -1, rc;

        if (h->dead)
            return errbuf_set(err, errlen, -EPIPE, "%s", h->death);
        if (h->wait) {
            /* the caller's wait also watches for SIGINT/SIGTERM */
            struct pollfd p = {.fd = h->sock, .events = POLLIN};

            rc = h->wait(&p, 1, deadline);
            if (rc == -ETIMEDOUT)
                return errbuf_set(err, errlen, rc, "the namespace helper did not answer in time");
            if (rc == -ECANCELED)
                return errbuf_set(err, errlen, rc, "interrupted");
            if (rc < 0)
                return errbuf_set(err, errlen, rc, "waiting for the namespace helper: %s",
                                  strerror(-rc));
            left = REST_OF_MESSAGE_MS; /* a message's records are sent back to back */
        } else if (deadline >= 0) {
            long long l = deadline - clock_now_ms();

            left = l > 0 ? (int)l : 0;
        }
        rc = rpc_recv(h->sock, left, &msg, err, errlen);
        if (rc == -EPIPE)
            return mark_dead(h, err, errlen);
        if (rc == -ETIMEDOUT)
            return errbuf_set(err, errlen, rc, "the namespace helper did not answer in time");
        if (rc) {
            errbuf_prefix(err, errlen, "helper");
            return rc;
        }
        if (json_integer_value(json_object_get(msg.body, "id")) == id) {
            *reply = json_incref(msg.body);
            if (fd)
                *fd = rpc_msg_take_fd(&msg);
            rpc_msg_release(&msg);
            return 0;
        }
        json_array_append(h->stash, msg.body);
        rpc_msg_release(&msg);
    }
}

/* Turn an error reply into a negative errno and its message; 0 if @reply is no error. */
static int reply_error(json_t *reply, char *err, size_t errlen)
{
    json_t *e = json_object_get(reply, "error");
    json_int_t no = json_integer_value(json_object_get(reply, "errno"));

    if (!json_is_string(e))
        return 0;
    return errbuf_set(err, errlen, no > 0 && no < 4096 ? -(int)no : -EIO, "%s",
                      json_string_value(e));
}

/* wait_reply(), and an error reply made the error it carries; *@reply is set either way, for the
 * caller to release. */
static int wait_answer(struct helper *h, json_int_t id, int timeout_ms, json_t **reply, int *fd,
                       char *err, size_t errlen)
{
    int rc = wait_reply(h, id, timeout_ms, reply, fd, err, errlen);

    return rc ? rc : reply_error(*reply, err, errlen);
}

int helper_setup_tap(struct helper *h, const struct helper_tap_opts *o, int *tap_fd, char *err,
                     size_t errlen)
{
    json_t *req = json_object(), *reply = NULL;
    json_int_t id;
    int fd = -1, rc;

    *tap_fd = -1;
    json_object_set_new(req, "op", json_string("setup_tap"));
    json_object_set_new(req, "name", json_string(o->name));
    json_object_set_new(req, "cidr", json_string(o->cidr));
    json_object_set_new(req, "mtu", json_integer(o->mtu));
    if (o->tun_path)
        json_object_set_new(req, "tun_path", json_string(o->tun_path));
    id = send_request(h, req, err, errlen, &rc);
    if (rc)
        return rc;
    rc = wait_answer(h, id, REPLY_TIMEOUT_MS, &reply, &fd, err, errlen);
    if (rc)
        goto out;
    if (fd < 0) {
        rc = errbuf_set(err, errlen, -EPROTO, "helper: setup_tap reply came without the TAP fd");
        goto out;
    }
    *tap_fd = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    json_decref(reply);
    return rc;
}

/* Send request @op for a server on @bind (NULL or "": any) and @port, with @req's own fields
 * (@req consumed), and wait for its "listening" event. */
static int start_server(struct helper *h, const char *op, const char *bind, unsigned port,
                        json_t *req, unsigned *job, char *err, size_t errlen)
{
    json_t *reply = NULL;
    const char *ev;
    json_int_t id;
    int rc;

    json_object_set_new(req, "op", json_string(op));
    json_object_set_new(req, "port", json_integer(port));
    if (bind && *bind)
        json_object_set_new(req, "bind", json_string(bind));
    id = send_request(h, req, err, errlen, &rc);
    if (rc)
        return rc;
    *job = (unsigned)id;
    rc = wait_answer(h, id, HELPER_LISTEN_TIMEOUT_MS + 2000, &reply, NULL, err, errlen);
    if (rc)
        goto out;
    ev = json_string_value(json_object_get(reply, "event"));
    if (ev && !strcmp(ev, "result")) {
        /* Listened and already finished: keep the result for helper_server_result(). */
        json_array_append(h->stash, reply);
    } else if (!ev || strcmp(ev, "listening")) {
        rc = errbuf_set(err, errlen, -EPROTO, "helper: unexpected reply to %s", op);
    }
out:
    json_decref(reply);
    return rc;
}

int helper_server_start(struct helper *h, const char *bind, unsigned port, unsigned *job, char *err,
                        size_t errlen)
{
    return start_server(h, "iperf_server", bind, port, json_object(), job, err, errlen);
}

int helper_echo_start(struct helper *h, const char *bind, unsigned port, unsigned close_after,
                      unsigned *job, char *err, size_t errlen)
{
    json_t *req = json_object();

    json_object_set_new(req, "close_after", json_integer(close_after));
    return start_server(h, "echo_server", bind, port, req, job, err, errlen);
}

/* Wait for the final "result" reply of job @id and hand over its JSON text. */
static int wait_result(struct helper *h, json_int_t id, int timeout_ms, char **json, double *cpu_ms,
                       char *err, size_t errlen)
{
    json_t *reply = NULL, *cpu;
    const char *text;
    int rc;

    *json = NULL;
    if (cpu_ms)
        *cpu_ms = -1;
    rc = wait_answer(h, id, timeout_ms, &reply, NULL, err, errlen);
    if (rc)
        goto out;
    text = json_string_value(json_object_get(reply, "json"));
    if (!text) {
        rc = errbuf_set(err, errlen, -EPROTO, "helper: result without iperf3 JSON");
        goto out;
    }
    /* a helper older than the field leaves it out: unknown, not zero */
    cpu = json_object_get(reply, "cpu_ms");
    if (cpu_ms && json_is_number(cpu) && json_number_value(cpu) >= 0)
        *cpu_ms = json_number_value(cpu);
    *json = strdup(text);
    if (!*json)
        rc = errbuf_set(err, errlen, -ENOMEM, "out of memory");
out:
    json_decref(reply);
    return rc;
}

int helper_server_result(struct helper *h, unsigned job, int timeout_ms, char **json, char *err,
                         size_t errlen)
{
    return wait_result(h, job, timeout_ms, json, NULL, err, errlen);
}

int helper_server_result_cpu(struct helper *h, unsigned job, int timeout_ms, char **json,
                             double *cpu_ms, char *err, size_t errlen)
{
    return wait_result(h, job, timeout_ms, json, cpu_ms, err, errlen);
}

int helper_client_run(struct helper *h, const struct helper_client_opts *o, char **json, char *err,
                      size_t errlen)
{
    json_t *req = json_object();
    json_int_t id;
    int rc;

    *json = NULL;
    json_object_set_new(req, "op", json_string("iperf_client"));
    json_object_set_new(req, "host", json_string(o->host));
    json_object_set_new(req, "port", json_integer(o->port));
    json_object_set_new(req, "duration", json_integer(o->run.duration_s));
    json_object_set_new(req, "streams", json_integer(o->run.streams ? o->run.streams : 1));
    json_object_set_new(req, "reverse", json_boolean(o->run.reverse));
    json_object_set_new(req, "udp", json_boolean(o->run.udp));
    json_object_set_new(req, "bitrate", json_integer((json_int_t)o->run.bitrate));
    id = send_request(h, req, err, errlen, &rc);
    if (rc)
        return rc;
    /* The test's own length plus generous room for connecting and the results exchange. */
    return wait_result(h, id, (int)o->run.duration_s * 1000 + 30000, json, NULL, err, errlen);
}

/* Send @op ("finish", "cancel") for @job and wait for the helper's acknowledgement. */
static int job_request(struct helper *h, const char *op, unsigned job, char *err, size_t errlen)
{
    json_t *req = json_object(), *reply = NULL;
    json_int_t id;
    int rc;

    json_object_set_new(req, "op", json_string(op));
    json_object_set_new(req, "target", json_integer(job));
    id = send_request(h, req, err, errlen, &rc);
    if (rc)
        return rc;
    rc = wait_answer(h, id, REPLY_TIMEOUT_MS, &reply, NULL, err, errlen);
    json_decref(reply);
    return rc;
}

int helper_echo_finish(struct helper *h, unsigned job, char **json, char *err, size_t errlen)
{
    int rc;

    *json = NULL;
    rc = job_request(h, "finish", job, err, errlen);
    if (rc)
        return rc;
    /* the server reports at once: it only has to leave its loop */
    return wait_result(h, job, REPLY_TIMEOUT_MS, json, NULL, err, errlen);
}

int helper_cancel(struct helper *h, unsigned job, char *err, size_t errlen)
{
    int rc = job_request(h, "cancel", job, err, errlen);

    /* Drop the cancelled job's last reply, now or whenever it comes. */
    if (!rc) {
        json_t *last = NULL;

        if (!wait_reply(h, job, REPLY_TIMEOUT_MS, &last, NULL, NULL, 0))
            json_decref(last);
    }
    return rc;
}

void helper_destroy(struct helper *h)
{
    if (!h)
        return;
    if (!h->dead) {
        json_t *req = json_object(), *reply = NULL;
        json_int_t id;
        int rc;

        json_object_set_new(req, "op", json_string("stop"));
        id = send_request(h, req, NULL, 0, &rc);
        if (!rc)
            wait_reply(h, id, STOP_TIMEOUT_MS, &reply, NULL, NULL, 0);
        json_decref(reply);
    }
    if (h->pid > 0) {
        /* Whatever it said: the group goes, so no iperf3 child can outlive the run. */
        kill(-h->pid, SIGKILL);
        while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    close(h->sock);
    json_decref(h->stash);
    free(h);
}
