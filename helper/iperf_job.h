/* SPDX-License-Identifier: MIT */
/*
 * iperf_job - one libiperf server or client, run in a child process of the helper
 *
 * libiperf calls exit() on some errors and installs its own signal handlers, so it never runs
 * in the helper itself: each job is a forked child (PR_SET_PDEATHSIG, so it dies with the
 * helper) that reports through a pipe as one JSON object, {"json": "<iperf3 output>"} or
 * {"error": "<iperf3's own message>"}, then exits. Its stderr goes to a second pipe so a child
 * that ends without a report (iperf's exit() paths) still leaves its last words.
 *
 * A server is "listening" once the kernel shows a TCP socket in LISTEN state on its port that
 * belongs to the child (sock_diag plus the child's fd table): no guessing with sleeps.
 *
 * Each child's CPU time is kept: read from its CPU-time clock when it is found listening, and
 * from wait4() when it is reaped, so the helper can say what a server cost over the sub-test
 * alone (iperf_job_cpu_ms()) without the harness reading /proc of a process it never sees.
 *
 * The same machinery runs the latency test's echo server (echo_server.h), which has no end of
 * its own: it reports when the helper closes the job's control pipe (iperf_job_finish()).
 */
#ifndef BURETTE_IPERF_JOB_H
#define BURETTE_IPERF_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "helper.h"

struct iperf_job_params {
    bool server;
    bool echo;            /* server only: the echo server instead of iperf3 */
    unsigned close_after; /* echo only: bytes after which it closes a TCP connection, 0 never */
    char addr[64];        /* bind address (server; "" for any) or host to connect to (client) */
    unsigned port;
    struct helper_iperf_client client; /* client only */
};

struct iperf_job {
    unsigned id; /* the RPC request id the job answers to */
    pid_t pid;   /* 0 once reaped */
    int status;  /* wait status, once reaped */
    int out_fd;  /* report pipe, -1 at EOF */
    int diag_fd; /* stderr pipe, -1 at EOF */
    int ctl_fd;  /* echo only: write end of the control pipe, -1 once closed */
    char *out;
    size_t outlen;
    char diag[1024];
    size_t diaglen;
    bool listening;
    bool cancelled;
    long long started_ms;
    double listen_cpu_ms; /* the child's CPU when it was found listening, < 0 unknown */
    double end_cpu_ms;    /* its CPU over its whole life, from wait4(), < 0 until reaped */
    struct iperf_job_params p;
};

/**
 * iperf_job_start() - Fork a child running one libiperf test
 * @job:	Job to fill; @job->id is kept as given
 * @p:		What to run
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 on success, negative errno otherwise
 */
int iperf_job_start(struct iperf_job *job, const struct iperf_job_params *p, char *err,
                    size_t errlen);

/**
 * iperf_job_pump() - Read what the child wrote; reap it once both pipes are closed
 * @job:	Running job
 *
 * Return: 1 when the job has ended and is reaped, 0 while it runs, negative errno on error
 */
int iperf_job_pump(struct iperf_job *job);

/**
 * iperf_job_outcome() - Interpret an ended job's report
 * @job:	Job for which iperf_job_pump() returned 1
 * @json:	The iperf3 JSON text on success (caller frees)
 * @err:	Error buffer of @errlen bytes: iperf3's message, or how the child ended
 * @errlen:	Size of @err
 *
 * Return: 0 with @json set, or negative errno with a message
 */
int iperf_job_outcome(struct iperf_job *job, char **json, char *err, size_t errlen);

/**
 * iperf_job_finish() - Ask an echo server job to report and end (closes its control pipe)
 * @job:	Job
 *
 * Return: 0, or -EINVAL for a job that is no echo server
 */
int iperf_job_finish(struct iperf_job *job);

/**
 * iperf_job_note_listening() - Mark a server job as listening and note the CPU its child has
 * used so far (start-up: what came before the measured interval)
 * @job:	Running server job
 */
void iperf_job_note_listening(struct iperf_job *job);

/**
 * iperf_job_cpu_ms() - The CPU (user + system) an ended job's child used from the moment it
 * listened (a client: from its start) until it exited
 * @job:	Job for which iperf_job_pump() returned 1
 *
 * Return: milliseconds, or < 0 when unknown (killed before it listened, CPU clock unreadable)
 */
double iperf_job_cpu_ms(const struct iperf_job *job);

/**
 * iperf_job_what() - What the job runs, for messages: "iperf3 server", "echo server", ...
 * @job:	Job
 *
 * Return: static string
 */
const char *iperf_job_what(const struct iperf_job *job);

/**
 * iperf_job_kill() - Kill a running job's child (it is reaped by a later iperf_job_pump())
 * @job:	Job
 */
void iperf_job_kill(struct iperf_job *job);

/**
 * iperf_job_release() - Kill and reap the child if still there, close pipes, free buffers
 * @job:	Job
 */
void iperf_job_release(struct iperf_job *job);

/**
 * iperf_listener_ready() - Whether process @pid has a TCP socket listening on @port
 * @pid:	Process whose descriptors are checked
 * @port:	TCP port
 *
 * Looks in the caller's network namespace, which the job shares.
 *
 * Return: 1 listening, 0 not (yet), negative errno if the check itself failed
 */
int iperf_listener_ready(pid_t pid, unsigned port);

#endif /* BURETTE_IPERF_JOB_H */
