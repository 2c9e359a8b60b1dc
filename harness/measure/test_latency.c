/* SPDX-License-Identifier: MIT */
/*
 * test_latency - `burette run --test latency`: request/response between guest and host
 *
 * setup() is the network test's (guest_net.h): the namespace helper, the backend, one boot of
 * the guest, the test NIC found by MAC and configured by the agent. Each iteration then runs three
 * sub-tests, each the same way: the helper starts an echo server (helper/echo_server.h) where the
 * backend's iperf3 server would listen and answers once it listens; the guest agent's rr loop
 * (guest/rr.h) exchanges --rr-size bytes with it for --duration seconds and prints its count
 * and latency percentiles as JSON; the helper then stops the server and returns what it
 * echoed. The guest's figures are taken only if the server saw at least as much as the guest
 * counted (a loop that counts what never crossed the backend is caught), and both reports are
 * kept in the log directory as <iteration>-<sub-test>-{client,server}.json.
 *
 * Metrics (prefix net_<nic>_): tcp_rr_per_s (transactions/s on one connection) with
 * tcp_rr_p50_us, _p90_us, _p99_us, _p999_us (each transaction's round trip, microseconds);
 * tcp_crr_per_s (connections/s: connect, request, reply, close) with tcp_crr_p50_us and
 * _p99_us; udp_rr_per_s with udp_rr_p50_us ... _p999_us, and udp_rr_lost: the requests whose
 * reply never came within RR_UDP_TIMEOUT_MS (unit "requests"; not in the rate or the
 * percentiles). Rates are higher-is-better, times and losses lower-is-better: the report
 * derives it from the units ("transactions/s", "us", "requests"). Beside each sub-test's
 * figures, <sub>_others_cpu_percent: what every process outside burette's tree spent while
 * its loop ran (percent of one CPU), for compare's busy-machine warning.
 *
 * Invariant, as the network test's: whatever fails, and on SIGINT/SIGTERM, no echo server is
 * left running, and teardown() stops QEMU, the backend and the helper's process group.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "backend.h"
#include "errbuf.h"
#include "guest_net.h"
#include "helper.h"
#include "perf_test.h"
#include "proc.h"
#include "progress.h"
#include "report.h"
#include "rr.h"
#include "test_latency.h"
#include "vm.h"

#define CLIENT_MARGIN_S 30 /* connect, a slow TCG guest, reporting */
#define AGENT_PATH      "/sbin/burette-agent"

struct rr_subtest {
    enum rr_mode mode;
    const char *what; /* for progress and messages */
    const char *rate_unit;
    bool all_percentiles; /* p90 and p99.9 too (CRR: p50 and p99 only) */
};

static const struct rr_subtest subtests[] = {
    {RR_TCP_RR, "TCP request/response on one connection", "transactions/s", true},
    {RR_TCP_CRR, "TCP connect/request/response/close", "connections/s", false},
    {RR_UDP_RR, "UDP request/response", "transactions/s", true},
};

static int lat_setup(const struct perf_ctx *ctx, void **state, char *err, size_t errlen)
{
    struct guest_net *g;
    int rc;

    *state = NULL;
    rc = guest_net_up(ctx, "latency", &g, err, errlen);
    if (!rc)
        *state = g;
    return rc;
}

/* Keep one raw report in the log directory. */
static int save_text(const struct perf_ctx *ctx, const struct perf_iter *it,
                     const struct rr_subtest *st, const char *side, const char *text, char *err,
                     size_t errlen)
{
    char path[4096];
    size_t len = strlen(text);
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s-%s-%s.json", ctx->log_dir, it->name, rr_mode_name(st->mode),
             side);
    f = fopen(path, "we");
    if (!f)
        return errbuf_set(err, errlen, -errno, "cannot write %s: %s", path, strerror(errno));
    if (fwrite(text, 1, len, f) != len || (len && text[len - 1] != '\n' && fputc('\n', f) == EOF) ||
        fclose(f)) {
        int e = errno ? errno : EIO;

        return errbuf_set(err, errlen, -e, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

int latency_check_server(const struct rr_result *r, const char *server_json, char *err,
                         size_t errlen)
{
    json_t *o = json_loads(server_json, 0, NULL);
    json_int_t conns = json_integer_value(json_object_get(o, "tcp_connections"));
    json_int_t tcp_bytes = json_integer_value(json_object_get(o, "tcp_bytes"));
    json_int_t datagrams = json_integer_value(json_object_get(o, "udp_datagrams"));
    unsigned long long seen, counted = r->transactions;
    const char *what;
    int rc = 0;

    if (!json_is_object(o) || !json_is_integer(json_object_get(o, "tcp_connections")) ||
        !json_is_integer(json_object_get(o, "tcp_bytes")) ||
        !json_is_integer(json_object_get(o, "udp_datagrams"))) {
        rc = errbuf_set(err, errlen, -EPROTO, "the echo server's report is malformed: %.200s",
                        server_json);
        goto out;
    }
    switch (r->mode) {
    case RR_TCP_RR:
        seen = (unsigned long long)tcp_bytes / r->size;
        what = "requests";
        break;
    case RR_TCP_CRR:
        seen = (unsigned long long)conns;
        what = "connections";
        break;
    default:
        seen = (unsigned long long)datagrams;
        what = "datagrams";
        break;
    }
    if (seen < counted)
        rc = errbuf_set(err, errlen, -EPROTO,
                        "the host's echo server answered %llu %s, fewer than the %llu "
                        "transactions the guest counted: its figures cannot be trusted",
                        seen, what, counted);
out:
    json_decref(o);
    return rc;
}

static int emit(struct perf_iter *it, const struct guest_net *s, const struct rr_subtest *st,
                const char *what, const char *unit, double value, char *err, size_t errlen)
{
    char name[128];

    snprintf(name, sizeof(name), "%s%s_%s", s->prefix, rr_mode_name(st->mode), what);
    return perf_emit(it, name, unit, value, err, errlen);
}

static int emit_result(struct perf_iter *it, const struct guest_net *s, const struct rr_subtest *st,
                       const struct rr_result *r, char *err, size_t errlen)
{
    int rc = emit(it, s, st, "per_s", st->rate_unit, rr_rate(r), err, errlen);

    if (!rc)
        rc = emit(it, s, st, "p50_us", "us", r->latency_us.p50, err, errlen);
    if (!rc && st->all_percentiles)
        rc = emit(it, s, st, "p90_us", "us", r->latency_us.p90, err, errlen);
    if (!rc)
        rc = emit(it, s, st, "p99_us", "us", r->latency_us.p99, err, errlen);
    if (!rc && st->all_percentiles)
        rc = emit(it, s, st, "p999_us", "us", r->latency_us.p999, err, errlen);
    /* every UDP run has the figure, 0 too: a loss shows as a change of a series */
    if (!rc && st->mode == RR_UDP_RR)
        rc = emit(it, s, st, "lost", "requests", (double)r->timeouts, err, errlen);
    return rc;
}

/* What every other process on the machine spent while the rr loop ran, as the network test
 * records it: a latency is what a busy machine disturbs first, and compare's warning reads it. */
static int emit_others_cpu(struct perf_iter *it, const struct guest_net *s,
                           const struct rr_subtest *st, const struct cpu_reading *before,
                           const struct cpu_reading *after, char *err, size_t errlen)
{
    struct cpu_cost cost;
    char name[128];
    double percent;

    cpu_cost_diff(before, after, -1, &cost);
    percent = cpu_cost_others_percent(&cost);
    if (percent < 0)
        return 0;
    snprintf(name, sizeof(name), "%s%s%s", s->prefix, rr_mode_name(st->mode),
             OTHERS_CPU_METRIC_SUFFIX);
    return perf_emit_detail(it, name, "%", percent, err, errlen);
}

static int run_subtest(struct guest_net *s, const struct perf_ctx *ctx, struct perf_iter *it,
                       const struct rr_subtest *st, char *err, size_t errlen)
{
    const struct run_options *o = ctx->opts;
    struct backend *b = &s->backend;
    char port[16], size[16], dur[16];
    const char *argv[] = {AGENT_PATH, "rr",           "--mode",    rr_mode_name(st->mode),
                          "--to",     b->server_addr, "--port",    port,
                          "--size",   size,           "--seconds", dur,
                          NULL};
    struct guest_client client = {0};
    struct rr_result r;
    char *sjson = NULL;
    bool server_running = false;
    unsigned job = 0;
    int rc;

    /*
     * The host's loopback is shared with everything else running: take a port free now. It is
     * free for TCP; its UDP twin may still be someone's, so a refusal there means another try
     * on another port (in the helper's own namespace the backend's port is ours alone). Only
     * the job's message crosses the helper, so EADDRINUSE is known by its strerror() text.
     */
    for (int attempt = 0;; attempt++) {
        if (!b->server_in_helper_ns) {
            rc = backend_loopback_port(&b->server_port, err, errlen);
            if (rc)
                goto out;
        }
        rc = helper_echo_start(s->helper, b->server_bind, b->server_port,
                               st->mode == RR_TCP_CRR ? o->rr_size : 0, &job, err, errlen);
        if (!rc || b->server_in_helper_ns || attempt == 2 || !strstr(err, "in use"))
            break;
    }
    if (rc)
        goto out;
    snprintf(port, sizeof(port), "%u", b->server_port);
    snprintf(size, sizeof(size), "%u", o->rr_size);
    snprintf(dur, sizeof(dur), "%u", o->duration_s);
    server_running = true;
    rc = guest_net_run_client(s, argv, o->duration_s + CLIENT_MARGIN_S, "rr loop", &client, err,
                              errlen);
    if (rc)
        goto out;
    if (client.res.out && client.res.out_len) {
        rc = save_text(ctx, it, st, "client", client.res.out, err, errlen);
        if (rc)
            goto out;
    }
    if (guest_client_failed(&client)) {
        char serr[ERRBUF_LEN];
        int src;

        /* the host side may know better: its server died, or the helper under it */
        src = helper_echo_finish(s->helper, job, &sjson, serr, sizeof(serr));
        server_running = src == -ETIMEDOUT;
        rc = guest_client_failure(&client, "rr loop", NULL, src, serr, err, errlen);
        goto out;
    }
    rc = rr_result_parse(client.res.out, &r, err, errlen);
    if (rc) {
        errbuf_prefix(err, errlen, "the guest's rr report");
        goto out;
    }
    rc = helper_echo_finish(s->helper, job, &sjson, err, errlen);
    server_running = rc == -ETIMEDOUT;
    if (rc)
        goto out;
    rc = save_text(ctx, it, st, "server", sjson, err, errlen);
    if (!rc)
        rc = latency_check_server(&r, sjson, err, errlen);
    if (!rc && r.timeouts)
        progress_note("%s %s: %llu of %llu requests got no reply within %d ms (not counted)",
                      it->name, rr_mode_name(st->mode), (unsigned long long)r.timeouts,
                      (unsigned long long)(r.timeouts + r.transactions), RR_UDP_TIMEOUT_MS);
    if (!rc)
        rc = emit_result(it, s, st, &r, err, errlen);
    if (!rc && client.have_cpu)
        rc = emit_others_cpu(it, s, st, &client.before, &client.after, err, errlen);
out:
    if (server_running) {
        char ignored[ERRBUF_LEN];

        helper_cancel(s->helper, job, ignored, sizeof(ignored));
    }
    if (rc && rc != -ECANCELED)
        errbuf_prefix(err, errlen, "%s", st->what);
    free(sjson);
    vm_run_result_free(&client.res);
    return rc;
}

static unsigned lat_parts(const struct perf_ctx *ctx)
{
    return sizeof(subtests) / sizeof(subtests[0]);
}

static int lat_run_part(void *state, const struct perf_ctx *ctx, struct perf_iter *it,
                        unsigned part, char *err, size_t errlen)
{
    const struct run_options *o = ctx->opts;

    progress_phase("latency: %s %u/%u: %s, %u-byte messages, %u s",
                   it->warmup ? "warmup" : "iteration", it->number, it->of, subtests[part].what,
                   o->rr_size, o->duration_s);
    return run_subtest(state, ctx, it, &subtests[part], err, errlen);
}

const struct perf_test_ops latency_test_ops = {
    .name = "latency",
    .setup = lat_setup,
    .parts = lat_parts,
    .run_part = lat_run_part,
    .teardown = guest_net_teardown,
};
