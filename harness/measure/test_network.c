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
 * host CPU over the client's run (cpu_cost.h: /proc per-thread stats, the iperf3 server's from
 * the helper): per Gbit moved (ms/Gbit) <sub>_vcpu_ms_per_gbit (QEMU's vCPU threads),
 * <sub>_qemu_main_ms_per_gbit (QEMU's main loop), <sub>_backend_ms_per_gbit (the backend's
 * process, where it has one), <sub>_iperf3_ms_per_gbit (the host's iperf3 server); per part
 * the percent of one core, <sub>_<part>_cpu_percent (vcpu, qemu_main, qemu_other, backend,
 * helper, iperf3, harness: burette itself), and <sub>_others_cpu_percent, what every process
 * outside burette's tree took meanwhile (other work sharing the machine); and
 * <sub>_gbit_per_cpu_s, the Gbit moved per
 * CPU-second of all of them (higher is better). The figures behind them, with the whole machine's
 * busy time over the same interval, are kept in the log directory (ITER-SUB-cpu.json).
 *
 * Sweeps (run_options.h): `--streams 1,4` runs every sub-test once per stream count on the
 * same guest, the metrics of N > 1 streams named with _pN after the sub-test (tcp_tx_p4_gbps;
 * 1 keeps today's names); `--mtu 1500,65520` brings up one guest (and backend) per MTU, since
 * every backend takes its MTU when it starts, and names their metrics with _mtuN (after _pN).
 * One report holds the whole sweep; a single --streams or --mtu value keeps today's names and
 * is recorded in the report's config only.
 *
 * Invariant: whatever fails, and on SIGINT/SIGTERM, no iperf3 server is left running — a
 * sub-test that does not complete cancels its server — and teardown() stops QEMU, the
 * backend and the helper's whole process group.
 */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "backend.h"
#include "clock.h"
#include "cpu_cost.h"
#include "errbuf.h"
#include "guest_net.h"
#include "helper.h"
#include "iperf_result.h"
#include "perf.h"
#include "perf_test.h"
#include "proc.h"
#include "progress.h"
#include "qemu.h"
#include "test_network.h"
#include "vm.h"

#define SERVER_RESULT_MS     30000 /* after the client ended, the server's report is moments away */
#define CLIENT_MARGIN_S      30    /* connect, result exchange, a slow TCG guest */
#define SERVER_AFTER_FAIL_MS 2000  /* a failed client: does the server know why? */

#define UDP_DATAGRAM 1460 /* what iperf3 picks on an MTU of 1500 */

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

/* One sub-test as an iteration runs it: which, with how many streams, named how. */
struct sub_run {
    const struct subtest *st;
    unsigned streams;
    unsigned mtu; /* the guest's MTU as asked (0: the backend's own) */
    char key[64]; /* "tcp_tx", "tcp_tx_p4", "tcp_tx_p4_mtu1500": metric infix, file names */
};

/* One guest of the run: a single one, or one per MTU of a sweep. */
struct net_guest {
    struct guest_net *g;
    struct run_options opts; /* the run's, with this guest's MTU */
    struct perf_ctx ctx;     /* the run's, pointing at opts and this guest's log directory */
    char log_dir[4096];
};

struct net_state {
    struct net_guest guests[RUN_SWEEP_MAX];
    size_t n;
};

size_t network_sweep_points(const struct run_options *o, struct network_point *out, size_t max)
{
    size_t n_mtus = o->n_mtus > 1 ? o->n_mtus : 1;
    size_t n_streams = o->n_streams > 1 ? o->n_streams : 1;
    size_t n = 0;

    for (size_t i = 0; i < n_mtus; i++)
        for (size_t j = 0; j < n_streams; j++) {
            struct network_point *p = &out[n];
            unsigned streams = o->n_streams > 1 ? o->stream_sweep[j] : o->streams;

            if (n == max)
                return n;
            p->mtu = o->n_mtus > 1 ? o->mtu_sweep[i] : o->mtu;
            p->streams = streams;
            p->suffix[0] = '\0';
            /* a single value is the run's setting, in its config: today's names */
            if (o->n_streams > 1 && streams > 1)
                snprintf(p->suffix, sizeof(p->suffix), "_p%u", streams);
            if (o->n_mtus > 1)
                snprintf(p->suffix + strlen(p->suffix), sizeof(p->suffix) - strlen(p->suffix),
                         "_mtu%u", p->mtu);
            n++;
        }
    return n;
}

json_t *network_sweep_json(const struct run_options *o)
{
    struct network_point pts[RUN_SWEEP_MAX * RUN_SWEEP_MAX];
    size_t n = network_sweep_points(o, pts, sizeof(pts) / sizeof(pts[0]));
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++) {
        json_t *keys = json_array();
        json_t *pt = json_pack("{s:i}", "streams", (int)pts[i].streams);

        if (pt && pts[i].mtu)
            json_object_set_new(pt, "mtu", json_integer(pts[i].mtu));
        if (pt && json_object_set_new(pt, "subtests", keys)) {
            json_decref(pt);
            pt = NULL;
        }
        for (size_t k = 0; pt && k < sizeof(subtests) / sizeof(subtests[0]); k++) {
            char key[64];

            snprintf(key, sizeof(key), "%s%s", subtests[k].key, pts[i].suffix);
            json_array_append_new(keys, json_string(key));
        }
        if (!pt || json_array_append_new(a, pt)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static void net_teardown(void *state)
{
    struct net_state *ns = state;

    if (!ns)
        return;
    for (size_t i = 0; i < ns->n; i++)
        guest_net_down(ns->guests[i].g);
    free(ns);
}

/* One guest of the run with @mtu (0: the backend's own), its logs in @sub under the run's. */
static int guest_up(struct net_guest *ng, const struct perf_ctx *ctx, unsigned mtu, const char *sub,
                    char *err, size_t errlen)
{
    const struct run_options *o = ctx->opts;
    char name[64];
    int rc;

    ng->opts = *o;
    ng->opts.mtu = mtu;
    ng->opts.n_mtus = 0;
    ng->ctx = *ctx;
    ng->ctx.opts = &ng->opts;
    if (snprintf(ng->log_dir, sizeof(ng->log_dir), "%s%s%s", ctx->log_dir, *sub ? "/" : "", sub) >=
        (int)sizeof(ng->log_dir))
        return errbuf_set(err, errlen, -ENAMETOOLONG, "log directory path too long");
    if (*sub && mkdir(ng->log_dir, 0755) < 0 && errno != EEXIST)
        return errbuf_set(err, errlen, -errno, "cannot create the log directory %s: %s",
                          ng->log_dir, strerror(errno));
    ng->ctx.log_dir = ng->log_dir;
    snprintf(name, sizeof(name), "network%s%s", *sub ? "-" : "", sub);
    rc = guest_net_up(&ng->ctx, name, &ng->g, err, errlen);
    if (rc)
        return rc;
    if (o->perf_dir) {
        /* Only now: passt, for one, makes itself unrecordable after it said it was ready. */
        rc = perf_check_process(vm_qemu_pid(ng->g->vm), "qemu", err, errlen);
        if (!rc && ng->g->backend.process > 0)
            rc = perf_check_process(ng->g->backend.process, ng->g->backend.ops->name, err, errlen);
    }
    return rc;
}

static int net_setup(const struct perf_ctx *ctx, void **state, char *err, size_t errlen)
{
    const struct run_options *o = ctx->opts;
    struct net_state *ns;
    int rc = 0;

    *state = NULL;
    if (o->perf_dir) {
        /* now, not halfway: perf missing or not permitted is known before the guest boots */
        rc = perf_check(o->perf_dir, err, errlen);
        if (rc)
            return rc;
    }
    ns = calloc(1, sizeof(*ns));
    if (!ns)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    if (o->n_mtus > 1) {
        for (size_t i = 0; !rc && i < o->n_mtus; i++) {
            char sub[32];

            snprintf(sub, sizeof(sub), "mtu%u", o->mtu_sweep[i]);
            rc = guest_up(&ns->guests[i], ctx, o->mtu_sweep[i], sub, err, errlen);
            ns->n = i + 1;
        }
    } else {
        rc = guest_up(&ns->guests[0], ctx, o->mtu, "", err, errlen);
        ns->n = 1;
    }
    if (rc) {
        net_teardown(ns);
        return rc;
    }
    *state = ns;
    return 0;
}

/* Keep one raw iperf3 report in the log directory. */
static int save_json(const struct perf_ctx *ctx, const struct perf_iter *it,
                     const struct sub_run *sr, const char *side, const char *text, size_t len,
                     char *err, size_t errlen)
{
    char path[4096];
    int fd, rc = 0;

    snprintf(path, sizeof(path), "%s/%s-%s-%s.json", ctx->log_dir, it->name, sr->key, side);
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

static int emit(struct perf_iter *it, const struct guest_net *s, const struct sub_run *sr,
                const char *what, const char *unit, double value, char *err, size_t errlen)
{
    char name[256]; /* prefix 64, key 64, what */

    snprintf(name, sizeof(name), "%s%s_%s", s->prefix, sr->key, what);
    return perf_emit(it, name, unit, value, err, errlen);
}

/* emit() for the CPU breakdown: in the report, not on the progress line */
static int emit_detail(struct perf_iter *it, const struct guest_net *s, const struct sub_run *sr,
                       const char *what, const char *unit, double value, char *err, size_t errlen)
{
    char name[256];

    snprintf(name, sizeof(name), "%s%s_%s", s->prefix, sr->key, what);
    return perf_emit_detail(it, name, unit, value, err, errlen);
}

/*
 * The CPU of the client's run, @gbit moved over it: per Gbit for the guest's work (vCPU
 * threads: under TCG its network stack, checksums and segmentation are what limit
 * throughput), QEMU's main loop (where -netdev stream and slirp copy every frame; near zero
 * once vhost-user takes the data path out of QEMU), the backend's process and the iperf3
 * server; the percent of one core of every part; and the Gbit per CPU-second of them all,
 * once every part is known (an older helper does not say what the server cost).
 */
static int emit_cpu(struct perf_iter *it, const struct guest_net *s, const struct sub_run *sr,
                    const struct cpu_cost *c, double gbit, char *err, size_t errlen)
{
    static const enum cpu_part per_gbit[] = {CPU_VCPU, CPU_QEMU_MAIN, CPU_BACKEND, CPU_IPERF3};
    char what[64];
    int rc = 0;

    if (gbit <= 0 || c->wall_ms <= 0)
        return 0;
    for (size_t i = 0; !rc && i < sizeof(per_gbit) / sizeof(per_gbit[0]); i++) {
        if (!c->have[per_gbit[i]])
            continue;
        snprintf(what, sizeof(what), "%s_ms_per_gbit", cpu_part_key(per_gbit[i]));
        rc = emit_detail(it, s, sr, what, "ms/Gbit", c->part_ms[per_gbit[i]] / gbit, err, errlen);
    }
    for (int p = 0; !rc && p < CPU_PART_N; p++) {
        if (!c->have[p])
            continue;
        snprintf(what, sizeof(what), "%s_cpu_percent", cpu_part_key((enum cpu_part)p));
        rc = emit_detail(it, s, sr, what, "%", 100.0 * c->part_ms[p] / c->wall_ms, err, errlen);
    }
    /* what everything else on the machine took meanwhile: compare's "busy machine" warning */
    if (!rc && cpu_cost_others_percent(c) >= 0)
        rc = emit_detail(it, s, sr, "others_cpu_percent", "%", cpu_cost_others_percent(c), err,
                         errlen);
    /* "/s" at the end: compare reads the unit as a rate, higher is better */
    if (!rc && c->have[CPU_IPERF3] && c->attributed_ms > 0)
        rc = emit(it, s, sr, "gbit_per_cpu_s", "Gbit/CPU/s", gbit / (c->attributed_ms / 1000.0),
                  err, errlen);
    return rc;
}

/* The figures behind the CPU metrics, with the machine's busy time, for the log directory. */
static int save_cpu(const struct perf_ctx *ctx, const struct perf_iter *it,
                    const struct sub_run *sr, const struct cpu_cost *c, double gbit, char *err,
                    size_t errlen)
{
    json_t *j = cpu_cost_json(c, gbit);
    char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    int rc;

    json_decref(j);
    if (!text)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    rc = save_json(ctx, it, sr, "cpu", text, strlen(text), err, errlen);
    free(text);
    return rc;
}

static int run_subtest(struct guest_net *s, const struct perf_ctx *ctx, struct perf_iter *it,
                       const struct sub_run *run, char *err, size_t errlen)
{
    const struct run_options *o = ctx->opts;
    const struct subtest *st = run->st;
    const struct backend *b = &s->backend;
    char port[16], dur[16], streams[16], datagram[16];
    const char *argv[24];
    struct guest_client client = {0};
    struct iperf_result sr, cr, m;
    struct cpu_cost cost;
    double iperf3_ms = -1;
    char *sjson = NULL, cerr[ERRBUF_LEN];
    bool have_client = false, server_running = false;
    int client_rc;
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
    snprintf(streams, sizeof(streams), "%u", run->streams);
    /* below an MTU of 1500 the fixed size would fragment: the largest that fits instead */
    snprintf(datagram, sizeof(datagram), "%u",
             run->mtu && run->mtu < 1500 ? run->mtu - 40 : UDP_DATAGRAM);
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
        argv[n++] = datagram;
    }
    argv[n] = NULL;

    rc = helper_server_start(s->helper, b->server_bind, b->server_port, &job, err, errlen);
    if (rc)
        goto out;
    server_running = true;
    rc = guest_net_run_client(s, argv, o->duration_s + CLIENT_MARGIN_S, "iperf3 client", &client,
                              err, errlen);
    if (rc)
        goto out;
    if (client.res.out && client.res.out_len) {
        rc = save_json(ctx, it, run, "client", client.res.out, client.res.out_len, err, errlen);
        if (rc)
            goto out;
    }
    /* iperf3 -J exits 0 on some failures too: the report's "error" tells */
    client_rc =
        client.res.out ? iperf_result_parse(client.res.out, &cr, cerr, sizeof(cerr)) : -ENODATA;
    if (guest_client_failed(&client) || client_rc == -EIO) {
        char serr[ERRBUF_LEN];
        int src;

        /* The server may know better (its own error, or the helper died under it). */
        src =
            helper_server_result(s->helper, job, SERVER_AFTER_FAIL_MS, &sjson, serr, sizeof(serr));
        server_running = src == -ETIMEDOUT;
        rc = guest_client_failure(&client, "iperf3 client", client_rc == -EIO ? cerr : NULL, src,
                                  serr, err, errlen);
        goto out;
    }
    rc =
        helper_server_result_cpu(s->helper, job, SERVER_RESULT_MS, &sjson, &iperf3_ms, err, errlen);
    if (rc != -ETIMEDOUT)
        server_running = false;
    if (rc)
        goto out;
    rc = save_json(ctx, it, run, "server", sjson, strlen(sjson), err, errlen);
    if (rc)
        goto out;
    rc = iperf_result_parse(sjson, &sr, err, errlen);
    if (rc) {
        errbuf_prefix(err, errlen, "the server's report");
        goto out;
    }
    /* the client's report completes the server's; without it the server's figures stand */
    have_client = !client_rc;
    iperf_result_merge(&sr, have_client ? &cr : NULL, &m);
    if (st->udp) {
        rc = emit(it, s, run, "pps", "pps", m.pps, err, errlen);
        if (!rc)
            rc = emit(it, s, run, "lost_percent", "%", m.lost_percent, err, errlen);
    } else {
        rc = emit(it, s, run, "gbps", "Gbps", m.gbps, err, errlen);
        if (!rc)
            rc = emit(it, s, run, "stalled_intervals", "intervals", (double)m.stalled_intervals,
                      err, errlen);
        if (!rc && m.stalled_intervals)
            progress_note("%s %s: stalled: %zu of %zu 1-s intervals below a tenth of the "
                          "median (%.3f Gbps); see %s/%s-%s-*.json",
                          it->name, run->key, m.stalled_intervals, m.nintervals,
                          m.interval_median_gbps, ctx->log_dir, it->name, run->key);
        if (!rc && m.has_retransmits)
            rc = emit(it, s, run, "retransmits", "retransmits", (double)m.retransmits, err, errlen);
    }
    if (!rc && client.have_cpu) {
        cpu_cost_diff(&client.before, &client.after, iperf3_ms, &cost);
        rc = emit_cpu(it, s, run, &cost, m.gbps * m.seconds, err, errlen);
        if (!rc)
            rc = save_cpu(ctx, it, run, &cost, m.gbps * m.seconds, err, errlen);
    }
out:
    if (server_running) {
        char ignored[ERRBUF_LEN];

        helper_cancel(s->helper, job, ignored, sizeof(ignored));
    }
    if (rc && rc != -ECANCELED && (run->streams > 1 || run->mtu))
        errbuf_prefix(err, errlen, "%s, %u stream%s%s%.0u", st->what, run->streams,
                      run->streams == 1 ? "" : "s", run->mtu ? ", MTU " : "", run->mtu);
    else if (rc && rc != -ECANCELED)
        errbuf_prefix(err, errlen, "%s", st->what);
    guest_net_blame_backend(s, rc, err, errlen);
    free(sjson);
    vm_run_result_free(&client.res);
    return rc;
}

/* run_subtest(), under `perf record` of QEMU and the backend's process with --perf-dir. */
static int run_subtest_profiled(struct guest_net *s, const struct perf_ctx *ctx,
                                struct perf_iter *it, unsigned k, const struct sub_run *run,
                                char *err, size_t errlen)
{
    const struct perf_target targets[] = {
        {"qemu", vm_qemu_pid(s->vm)},
        {s->backend.ops->name, s->backend.process},
    };
    struct perf_session *ps = NULL;
    char label[128];
    int rc;

    if (!ctx->opts->perf_dir)
        return run_subtest(s, ctx, it, run, err, errlen);
    snprintf(label, sizeof(label), "%s-%s%u", run->key, it->warmup ? "warmup" : "", k);
    rc = perf_session_start(&ps, ctx->opts->perf_dir, ctx->log_dir, label, targets,
                            sizeof(targets) / sizeof(targets[0]), err, errlen);
    if (rc) {
        if (rc != -ECANCELED)
            errbuf_prefix(err, errlen, "%s: --perf-dir", run->st->what);
        return rc;
    }
    rc = run_subtest(s, ctx, it, run, err, errlen);
    if (rc) {
        perf_session_stop(ps, NULL, 0);
        return rc;
    }
    rc = perf_session_stop(ps, err, errlen);
    if (rc)
        errbuf_prefix(err, errlen, "%s: --perf-dir", run->st->what);
    return rc;
}

#define NSUBTESTS (sizeof(subtests) / sizeof(subtests[0]))

/* Every sub-test at every sweep point. */
static unsigned net_parts(const struct perf_ctx *ctx)
{
    struct network_point pts[RUN_SWEEP_MAX * RUN_SWEEP_MAX];

    return (unsigned)(network_sweep_points(ctx->opts, pts, sizeof(pts) / sizeof(pts[0])) *
                      NSUBTESTS);
}

/* Part @part: sub-test @part % NSUBTESTS at sweep point @part / NSUBTESTS. */
static int net_run_part(void *state, const struct perf_ctx *ctx, struct perf_iter *it,
                        unsigned part, char *err, size_t errlen)
{
    const struct run_options *o = ctx->opts;
    struct net_state *ns = state;
    struct network_point pts[RUN_SWEEP_MAX * RUN_SWEEP_MAX];
    size_t npts = network_sweep_points(o, pts, sizeof(pts) / sizeof(pts[0]));
    const struct network_point *pt = &pts[part / NSUBTESTS];
    const struct subtest *st = &subtests[part % NSUBTESTS];
    /* the points come MTU by MTU, each MTU's on its own guest */
    struct net_guest *ng = &ns->guests[part / NSUBTESTS / (npts / ns->n)];
    struct sub_run run = {.st = st, .streams = pt->streams, .mtu = pt->mtu};
    char how[64] = "";

    if (o->n_streams > 1 || pt->streams > 1)
        snprintf(how, sizeof(how), ", %u stream%s", pt->streams, pt->streams == 1 ? "" : "s");
    if (pt->mtu)
        snprintf(how + strlen(how), sizeof(how) - strlen(how), ", MTU %u", pt->mtu);
    snprintf(run.key, sizeof(run.key), "%s%s", st->key, pt->suffix);
    progress_phase("network: %s %u/%u: %s%s, %u s", it->warmup ? "warmup" : "iteration", it->number,
                   it->of, st->what, how, o->duration_s);
    return run_subtest_profiled(ng->g, &ng->ctx, it, it->number, &run, err, errlen);
}

const struct perf_test_ops network_test_ops = {
    .name = "network",
    .records_profiles = true,
    .setup = net_setup,
    .parts = net_parts,
    .run_part = net_run_part,
    .teardown = net_teardown,
};
