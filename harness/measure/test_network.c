/* SPDX-License-Identifier: MIT */
/*
 * test_network - `burette run --test network`: iperf3 throughput between guest and host
 *
 * setup() brings up a warm guest on the run's backend (guest_net.h: the namespace helper, the
 * backend, one boot, the test NIC found by MAC and configured). Each iteration then runs
 * three sub-tests, each the same way: the helper starts a one-off libiperf server and answers
 * only once it listens; the guest's iperf3 client runs through the agent; the helper returns
 * the server's JSON. Figures come from iperf3's own JSON, the server's completed by the
 * client's (iperf_result.h), and both reports are kept in the log directory.
 *
 * Metrics (prefix net_<nic>_): tcp_tx_gbps and tcp_tx_retransmits (guest to host),
 * tcp_rx_gbps and tcp_rx_retransmits (host to guest, -R), udp_tx_pps and udp_tx_lost_percent
 * (guest to host, -u -b 0); for each TCP direction stalled_intervals: how many of the
 * receiver's 1-s intervals moved less than a tenth of the run's median (a backend that drops
 * frames and waits for retransmission timeouts shows whole seconds near 0), named in the
 * progress output when non-zero so a stall is never read as a slow stack; and per sub-test the
 * CPU per Gbit moved (ms/Gbit, from /proc/<pid>/task/ * /stat over the client's run):
 * <sub>_vcpu_ms_per_gbit (QEMU's vCPU threads), <sub>_qemu_main_ms_per_gbit (QEMU's main
 * loop), <sub>_backend_ms_per_gbit (the backend's process, where it has one).
 *
 * Invariant: whatever fails, and on SIGINT/SIGTERM, no iperf3 server is left running — a
 * sub-test that does not complete cancels its server — and teardown() stops QEMU, the
 * backend and the helper's whole process group.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "errbuf.h"
#include "guest_net.h"
#include "helper.h"
#include "iperf_result.h"
#include "perf.h"
#include "perf_test.h"
#include "proc.h"
#include "progress.h"
#include "qemu.h"
#include "vm.h"

#define SERVER_RESULT_MS     30000 /* after the client ended, the server's report is moments away */
#define CLIENT_MARGIN_S      30    /* connect, result exchange, a slow TCG guest */
#define SERVER_AFTER_FAIL_MS 2000  /* a failed client: does the server know why? */

#define UDP_DATAGRAM "1460" /* what iperf3 picks on an MTU of 1500 */

struct subtest {
    const char *key;  /* metric infix and log file name part */
    const char *what; /* for progress and messages */
    bool reverse;
    bool udp;
};

static const struct subtest subtests[] = {
    {"tcp_tx", "TCP guest to host", false, false},
    {"tcp_rx", "TCP host to guest (-R)", true, false},
    {"udp_tx", "UDP guest to host (-u -b 0)", false, true},
};

static int net_setup(const struct perf_ctx *ctx, void **state, char *err, size_t errlen)
{
    const struct run_options *o = ctx->opts;
    struct guest_net *g;
    int rc;

    *state = NULL;
    if (o->perf_dir) {
        /* now, not halfway: perf missing or not permitted is known before the guest boots */
        rc = perf_check(o->perf_dir, err, errlen);
        if (rc)
            return rc;
    }
    rc = guest_net_up(ctx, "network", &g, err, errlen);
    if (rc)
        return rc;
    if (o->perf_dir) {
        /* Only now: passt, for one, makes itself unrecordable after it said it was ready. */
        rc = perf_check_process(vm_qemu_pid(g->vm), "qemu", err, errlen);
        if (!rc && g->backend.process > 0)
            rc = perf_check_process(g->backend.process, g->backend.ops->name, err, errlen);
        if (rc) {
            guest_net_down(g);
            return rc;
        }
    }
    *state = g;
    return 0;
}

/* Keep one raw iperf3 report in the log directory. */
static int save_json(const struct perf_ctx *ctx, const struct perf_iter *it,
                     const struct subtest *st, const char *side, const char *text, size_t len,
                     char *err, size_t errlen)
{
    char path[4096];
    int fd, rc = 0;

    snprintf(path, sizeof(path), "%s/%s-%s-%s.json", ctx->log_dir, it->name, st->key, side);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errbuf_set(err, errlen, -errno, "cannot write %s: %s", path, strerror(errno));
    while (len) {
        ssize_t n = write(fd, text, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = errbuf_set(err, errlen, n < 0 ? -errno : -EIO, "cannot write %s: %s", path,
                            strerror(n < 0 ? errno : EIO));
            break;
        }
        text += n;
        len -= (size_t)n;
    }
    close(fd);
    return rc;
}

/* Why the guest's client failed, in iperf3's own words where it left any. */
static void client_failure(const struct agent_run_result *res, char *buf, size_t len)
{
    struct iperf_result r;
    char msg[ERRBUF_LEN] = "";
    char how[64];

    if (res->timed_out)
        snprintf(how, sizeof(how), "timed out");
    else if (res->signal)
        snprintf(how, sizeof(how), "was killed by signal %d", res->signal);
    else if (res->exit_status)
        snprintf(how, sizeof(how), "exited with status %d", res->exit_status);
    else
        snprintf(how, sizeof(how), "failed");
    if (res->out && res->out_len && iperf_result_parse(res->out, &r, msg, sizeof(msg)) == -EIO) {
        snprintf(buf, len, "the guest's iperf3 client %s (%s)", how, msg);
        return;
    }
    snprintf(buf, len, "the guest's iperf3 client %s%s%.300s", how,
             res->err && res->err_len ? ": " : "", res->err && res->err_len ? res->err : "");
    /* strip a trailing newline of stderr text */
    for (size_t n = strlen(buf); n && buf[n - 1] == '\n'; n--)
        buf[n - 1] = '\0';
}

static int emit(struct perf_iter *it, const struct guest_net *s, const struct subtest *st,
                const char *what, const char *unit, double value, char *err, size_t errlen)
{
    char name[128];

    snprintf(name, sizeof(name), "%s%s_%s", s->prefix, st->key, what);
    return perf_emit(it, name, unit, value, err, errlen);
}

/* CPU used so far by QEMU's threads and by the backend's process. */
struct cpu_sample {
    struct qemu_cpu_times qemu;
    double backend_ms;
};

static bool cpu_sample(const struct guest_net *s, struct cpu_sample *c)
{
    c->backend_ms = 0;
    if (qemu_cpu_times(vm_qemu_pid(s->vm), &c->qemu))
        return false;
    return s->backend.process <= 0 || !process_cpu_ms(s->backend.process, &c->backend_ms);
}

/*
 * CPU per Gbit moved over the client's run: the guest's (vCPU threads: under TCG its network
 * stack, checksums and segmentation are what limit throughput), QEMU's main loop (where
 * -netdev stream and slirp copy every frame; near zero once vhost-user takes the data path
 * out of QEMU) and the backend process's.
 */
static int emit_cpu(struct perf_iter *it, const struct guest_net *s, const struct subtest *st,
                    const struct cpu_sample *before, const struct cpu_sample *after, double gbit,
                    char *err, size_t errlen)
{
    int rc;

    if (gbit <= 0)
        return 0;
    rc = emit(it, s, st, "vcpu_ms_per_gbit", "ms/Gbit",
              (after->qemu.vcpu_ms - before->qemu.vcpu_ms) / gbit, err, errlen);
    if (!rc)
        rc = emit(it, s, st, "qemu_main_ms_per_gbit", "ms/Gbit",
                  (after->qemu.main_loop_ms - before->qemu.main_loop_ms) / gbit, err, errlen);
    if (!rc && s->backend.process > 0)
        rc = emit(it, s, st, "backend_ms_per_gbit", "ms/Gbit",
                  (after->backend_ms - before->backend_ms) / gbit, err, errlen);
    return rc;
}

static int run_subtest(struct guest_net *s, const struct perf_ctx *ctx, struct perf_iter *it,
                       const struct subtest *st, char *err, size_t errlen)
{
    const struct run_options *o = ctx->opts;
    const struct backend *b = &s->backend;
    char port[16], dur[16], streams[16];
    const char *argv[24];
    struct agent_run_result res = {0};
    struct iperf_result sr, cr, m;
    struct cpu_sample cpu_before, cpu_after;
    bool have_cpu;
    char *sjson = NULL, cerr[ERRBUF_LEN];
    bool have_client = false, server_running = false, client_failed;
    unsigned job = 0;
    size_t n = 0;
    int rc;

    if (!b->server_in_helper_ns) {
        /* The host's loopback is shared with everything on the machine (other iperf3 servers,
         * the other runs of an interleaved `burette run`): a port fixed, or picked when the
         * backend was prepared, may be taken by now. Take one that is free now. */
        rc = backend_loopback_port(&s->backend.server_port, err, errlen);
        if (rc)
            goto out;
    }
    snprintf(port, sizeof(port), "%u", b->server_port);
    snprintf(dur, sizeof(dur), "%u", o->duration_s);
    snprintf(streams, sizeof(streams), "%u", o->streams);
    argv[n++] = "iperf3";
    argv[n++] = "-c";
    argv[n++] = b->server_addr;
    argv[n++] = "-p";
    argv[n++] = port;
    argv[n++] = "-t";
    argv[n++] = dur;
    argv[n++] = "-P";
    argv[n++] = streams;
    argv[n++] = "--connect-timeout";
    argv[n++] = "10000";
    argv[n++] = "-J";
    if (st->reverse)
        argv[n++] = "-R";
    if (st->udp) {
        argv[n++] = "-u";
        argv[n++] = "-b";
        argv[n++] = "0";
        /* iperf3 sizes datagrams by the TCP MSS, 32 KiB with passt's MTU 65520: fix the
         * size, or pps of backends with different MTUs would not compare */
        argv[n++] = "-l";
        argv[n++] = UDP_DATAGRAM;
    }
    argv[n] = NULL;

    rc = helper_server_start(s->helper, b->server_bind, b->server_port, &job, err, errlen);
    if (rc)
        goto out;
    server_running = true;
    have_cpu = cpu_sample(s, &cpu_before);
    rc = vm_run(s->vm, argv, o->duration_s + CLIENT_MARGIN_S, &res, err, errlen);
    have_cpu = have_cpu && cpu_sample(s, &cpu_after);
    if (rc) {
        errbuf_prefix(err, errlen, "running the guest's iperf3 client");
        goto out;
    }
    if (res.out && res.out_len) {
        rc = save_json(ctx, it, st, "client", res.out, res.out_len, err, errlen);
        if (rc)
            goto out;
    }
    /* iperf3 -J exits 0 on some failures too: the report's "error" tells */
    client_failed = res.exit_status != 0 || res.signal || res.timed_out || !res.out ||
                    iperf_result_parse(res.out, &cr, cerr, sizeof(cerr)) == -EIO;
    if (client_failed) {
        client_failure(&res, cerr, sizeof(cerr));
        /* The server may know better (its own error, or the helper died under it). */
        rc = helper_server_result(s->helper, job, SERVER_AFTER_FAIL_MS, &sjson, err, errlen);
        if (rc != -ETIMEDOUT)
            server_running = false;
        if (rc == -EPIPE || rc == -ECANCELED)
            goto out;
        if (rc && rc != -ETIMEDOUT) {
            char server_msg[ERRBUF_LEN];

            snprintf(server_msg, sizeof(server_msg), "%s", err);
            rc = errbuf_set(err, errlen, rc, "%s; on the host side: %s", cerr, server_msg);
            goto out;
        }
        rc = errbuf_set(err, errlen, -EIO, "%s", cerr);
        goto out;
    }
    rc = helper_server_result(s->helper, job, SERVER_RESULT_MS, &sjson, err, errlen);
    if (rc != -ETIMEDOUT)
        server_running = false;
    if (rc)
        goto out;
    rc = save_json(ctx, it, st, "server", sjson, strlen(sjson), err, errlen);
    if (rc)
        goto out;
    rc = iperf_result_parse(sjson, &sr, err, errlen);
    if (rc) {
        errbuf_prefix(err, errlen, "the server's report");
        goto out;
    }
    /* the client's report completes the server's; without it the server's figures stand */
    have_client = res.out && !iperf_result_parse(res.out, &cr, cerr, sizeof(cerr));
    iperf_result_merge(&sr, have_client ? &cr : NULL, &m);
    if (st->udp) {
        rc = emit(it, s, st, "pps", "pps", m.pps, err, errlen);
        if (!rc)
            rc = emit(it, s, st, "lost_percent", "%", m.lost_percent, err, errlen);
    } else {
        rc = emit(it, s, st, "gbps", "Gbps", m.gbps, err, errlen);
        if (!rc)
            rc = emit(it, s, st, "stalled_intervals", "intervals", (double)m.stalled_intervals, err,
                      errlen);
        if (!rc && m.stalled_intervals)
            progress_note("%s %s: stalled: %zu of %zu 1-s intervals below a tenth of the "
                          "median (%.3f Gbps); see %s/%s-%s-*.json",
                          it->name, st->key, m.stalled_intervals, m.nintervals,
                          m.interval_median_gbps, ctx->log_dir, it->name, st->key);
        if (!rc && m.has_retransmits)
            rc = emit(it, s, st, "retransmits", "retransmits", (double)m.retransmits, err, errlen);
    }
    if (!rc && have_cpu)
        rc = emit_cpu(it, s, st, &cpu_before, &cpu_after, m.gbps * m.seconds, err, errlen);
out:
    if (server_running) {
        char ignored[ERRBUF_LEN];

        helper_cancel(s->helper, job, ignored, sizeof(ignored));
    }
    if (rc && rc != -ECANCELED)
        errbuf_prefix(err, errlen, "%s", st->what);
    guest_net_blame_backend(s, rc, err, errlen);
    free(sjson);
    vm_run_result_free(&res);
    return rc;
}

/* run_subtest(), under `perf record` of QEMU and the backend's process with --perf-dir. */
static int run_subtest_profiled(struct guest_net *s, const struct perf_ctx *ctx,
                                struct perf_iter *it, unsigned k, const struct subtest *st,
                                char *err, size_t errlen)
{
    const struct perf_target targets[] = {
        {"qemu", vm_qemu_pid(s->vm)},
        {s->backend.ops->name, s->backend.process},
    };
    struct perf_session *ps = NULL;
    char label[96];
    int rc;

    if (!ctx->opts->perf_dir)
        return run_subtest(s, ctx, it, st, err, errlen);
    snprintf(label, sizeof(label), "%s-%s%u", st->key, it->warmup ? "warmup" : "", k);
    rc = perf_session_start(&ps, ctx->opts->perf_dir, ctx->log_dir, label, targets,
                            sizeof(targets) / sizeof(targets[0]), err, errlen);
    if (rc) {
        if (rc != -ECANCELED)
            errbuf_prefix(err, errlen, "%s: --perf-dir", st->what);
        return rc;
    }
    rc = run_subtest(s, ctx, it, st, err, errlen);
    if (rc) {
        perf_session_stop(ps, NULL, 0);
        return rc;
    }
    rc = perf_session_stop(ps, err, errlen);
    if (rc)
        errbuf_prefix(err, errlen, "%s: --perf-dir", st->what);
    return rc;
}

static int net_run_once(void *state, const struct perf_ctx *ctx, struct perf_iter *it, char *err,
                        size_t errlen)
{
    const struct run_options *o = ctx->opts;
    struct guest_net *s = state;
    unsigned total = it->of;
    unsigned k = it->number;

    for (size_t i = 0; i < sizeof(subtests) / sizeof(subtests[0]); i++) {
        int rc;

        progress_phase("network: %s %u/%u: %s, %u s", it->warmup ? "warmup" : "iteration", k, total,
                       subtests[i].what, o->duration_s);
        rc = run_subtest_profiled(s, ctx, it, k, &subtests[i], err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

const struct perf_test_ops network_test_ops = {
    .name = "network",
    .records_profiles = true,
    .setup = net_setup,
    .run_once = net_run_once,
    .teardown = guest_net_teardown,
};
