/* SPDX-License-Identifier: MIT */
/*
 * cmd_run - `burette run`: the command line of a benchmark run, checked field by field
 *
 * Everything a user can get wrong is refused here, before any process, namespace or VM
 * exists: one line naming the flag and the problem, the help hint, exit status 2. What
 * passes becomes a struct run_options that run_main() may trust.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backend.h"
#include "cli.h"
#include "cmd.h"
#include "errbuf.h"
#include "gate.h"
#include "multi_run.h"
#include "parse.h"
#include "render.h"
#include "rr.h"
#include "run.h"
#include "test_network.h"
#include "variants.h"
#include "vm.h"

static const char *const tests[] = {"boot", "network", "latency", NULL};
static const char *const nics[] = {"virtio-net", "vmbus", NULL};
static const char *const accels[] = {"auto", "kvm", "tcg", NULL};
static const char *const orders[] = {"interleaved", "subtests", "sequential", NULL};

/* The backends' options as --help lists them, from the registry: each --NAME METAVAR, then
 * its help lines under it, then its default. */
static void usage_backend_options(FILE *f)
{
    for (size_t i = 0; i < backend_option_count(); i++) {
        const struct backend_option *opt = backend_option_at(i, NULL);
        const char *line = opt->help;

        if (opt->variant_only)
            continue;
        fprintf(f, "      --%s %s\n", opt->name, opt->metavar);
        while (*line) {
            size_t n = strcspn(line, "\n");

            fprintf(f, "%32s%.*s\n", "", (int)n, line);
            line += n + (line[n] == '\n');
        }
        fprintf(f, "%32s(default %s)\n", "", opt->default_value);
    }
}

/* "consomme: tcp-rx-buffer, tcp-tx-buffer" for each backend that takes options. */
static void usage_variant_options(FILE *f)
{
    for (size_t b = 0; b < backend_count(); b++) {
        const struct backend_ops *ops = backend_at(b);

        if (!ops->n_options)
            continue;
        fprintf(f, "%32s(%s: ", "", ops->name);
        for (size_t i = 0; i < ops->n_options; i++)
            fprintf(f, "%s%s", i ? ", " : "", ops->options[i].name);
        fprintf(f, ")\n");
    }
}

static void usage(FILE *f)
{
    char names[128];

    fprintf(f,
            "Usage: burette run [OPTIONS]\n"
            "\n"
            "Boot a Linux guest under QEMU and measure: boot time, network throughput with\n"
            "iperf3 between guest and host, or request/response latency (TCP RR, TCP CRR,\n"
            "UDP RR), over WARMUP discarded and ITERATIONS kept runs.\n"
            "\n"
            "Options:\n"
            "      --test boot|network|latency\n"
            "                                what to measure (default network)\n"
            "      --backend NAME[,NAME...]  %s (default consomme);\n"
            "                                several: one run and report each, compared\n"
            "      --variant [LABEL=]BACKEND[:OPTION=VALUE,...]\n"
            "                                one more run, of BACKEND with these options,\n"
            "                                named LABEL (default: BACKEND); repeatable\n",
            backend_names(names, sizeof(names)));
    usage_variant_options(f);
    fprintf(f,
            "      --order interleaved|subtests|sequential\n"
            "                                several runs: all guests up, iterations taking\n"
            "                                turns (default); each sub-test taking turns;\n"
            "                                or one run after the other\n"
            "      --fail-on-regression      several runs: exit 1 if a result regressed against\n"
            "                                the first run (not a diagnostic such as CPU shares)\n"
            "      --gate SPEC               several runs: what --fail-on-regression judges, as\n"
            "                                for burette compare (results, rates, all, globs)\n"
            "      --require-detectable PCT  several runs: exit 3 (inconclusive) if a throughput\n"
            "                                or rate could not have seen a PCT %% change\n"
            "      --nic virtio-net|vmbus    guest NIC (default virtio-net; vmbus needs "
            "OpenVMM)\n"
            "      --accel auto|kvm|tcg      accelerator (default auto: KVM if usable, else "
            "TCG)\n"
            "      --qemu-user USER          as root: the user QEMU runs as (default nobody;\n"
            "                                QEMU never runs as root)\n"
            "      --vcpus N                 guest vCPUs (default 2)\n"
            "      --mem-mb N                guest memory in MiB (default 1024)\n"
            "      --iterations N            kept iterations per metric (default 5)\n"
            "      --warmup N                discarded iterations before them (default 1)\n"
            "      --vm-instances K          boot each guest K times, the kept iterations\n"
            "                                spread over the boots, each with its warmups\n"
            "                                (default 1)\n"
            "      --duration SECONDS        iperf3 time per sub-test (default 10); latency:\n"
            "                                the request/response loop's time\n"
            "      --streams N[,N...]        parallel iperf3 streams (default 1); several:\n"
            "                                the network test once per count, metrics of\n"
            "                                N > 1 named _pN (tcp_tx_p4_gbps)\n"
            "      --mtu N[,N...]            the guest NIC's MTU, %u to %u (consomme,\n"
            "                                passt, tap; slirp is fixed at 1500); several:\n"
            "                                one guest per MTU, metrics named _mtuN.\n"
            "                                One consomme run's own instead: --variant\n"
            "                                consomme:mtu=N (a run takes one or the other)\n"
            "      --rr-size BYTES           latency: bytes of each request and of each\n"
            "                                reply, 1 to 65507 (default 1)\n",
            RUN_MTU_MIN, RUN_MTU_MAX);
    usage_backend_options(f);
    fprintf(f,
            "  -o, --output FILE|DIR         write the JSON report to FILE; with several\n"
            "                                runs, DIR/LABEL.json each (DIR is created)\n"
            "      --format FORMAT           summary on stdout: %s (default text)\n"
            "      --log-dir DIR             keep console logs and raw iperf3 JSON in DIR\n"
            "      --perf-dir DIR            keep profiles in DIR\n"
            "  -q, --quiet                   no progress output\n"
            "      --dry-run                 print the checked options as JSON and stop\n"
            "  -h, --help                    show this help\n"
            "\n"
            "With several runs the first is the baseline: the end shows each other run\n"
            "against it, with the verdicts of 'burette compare'. Example:\n"
            "  burette run --variant fixed256=consomme:tcp-rx-buffer=256K,tcp-tx-buffer=256K\n"
            "              --variant autotune=consomme -o results/\n"
            "\n"
            "Exit status: 0 success (a regression too, unless --fail-on-regression), 1 the run\n"
            "failed or, with --fail-on-regression, a result regressed, 2 bad usage (a --gate\n"
            "glob matching no metric: once each run has one kept iteration), 3 a required\n"
            "resolution (--require-detectable) not reached.\n",
            renderer_names());
}

static const char *join(const char *const *names)
{
    static char buf[256];

    buf[0] = '\0';
    for (size_t i = 0; names[i]; i++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? ", " : "", names[i]);
    return buf;
}

static bool one_of(const char *s, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        if (!strcmp(s, names[i]))
            return true;
    return false;
}

static int pick(const char *flag, const char *value, const char *const *names, const char **out)
{
    if (!one_of(value, names))
        return cli_usage_error("run", "%s: unknown value '%s' (available: %s)", flag, value,
                               join(names));
    *out = value;
    return 0;
}

static int number(const char *flag, const char *value, unsigned long long min,
                  unsigned long long max, unsigned *out)
{
    unsigned long long v;
    int rc = parse_uint(value, min, max, &v);

    if (rc == -ERANGE)
        return cli_usage_error("run", "%s: %s is out of range (%llu to %llu)", flag, value, min,
                               max);
    if (rc < 0)
        return cli_usage_error("run", "%s: '%s' is not a whole number", flag, value);
    *out = (unsigned)v;
    return 0;
}

/*
 * A list of whole numbers "A,B,..." in [@min, @max], each once, at most RUN_SWEEP_MAX: the
 * values of a sweep (--streams, --mtu). One value is a plain setting (@n = 1).
 */
static int number_list(const char *flag, const char *value, unsigned long long min,
                       unsigned long long max, unsigned *out, size_t *n)
{
    const char *p = value;

    *n = 0;
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[32];
        int rc;

        if (!len)
            return cli_usage_error("run", "%s: empty value in '%s' (expected N[,N...])", flag,
                                   value);
        if (*n == RUN_SWEEP_MAX)
            return cli_usage_error("run", "%s: more than %d values in '%s'", flag, RUN_SWEEP_MAX,
                                   value);
        /* a longer item is cut: out of range all the same */
        snprintf(item, sizeof(item), "%.*s", (int)(len < sizeof(item) ? len : sizeof(item) - 1), p);
        rc = number(flag, item, min, max, &out[*n]);
        if (rc)
            return rc;
        for (size_t i = 0; i < *n; i++)
            if (out[i] == out[*n])
                return cli_usage_error("run", "%s: %u is listed twice in '%s'", flag, out[i],
                                       value);
        (*n)++;
        if (!p[len])
            return 0;
        p += len + 1;
        if (!*p)
            return cli_usage_error("run", "%s: empty value in '%s' (expected N[,N...])", flag,
                                   value);
    }
}

/* Each backend named at most once, each one known; the string is kept as given. */
static int check_backends(const char *value)
{
    const char *p = value;
    char names[128];

    if (!*value)
        return cli_usage_error("run", "--backend: empty (available: %s)",
                               backend_names(names, sizeof(names)));
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *q;
        char name[64];
        bool known;

        snprintf(name, sizeof(name), "%.*s", (int)n, p);
        known = n < sizeof(name) && backend_find(name);
        if (!n)
            return cli_usage_error("run", "--backend: empty name in '%s'", value);
        if (!known)
            return cli_usage_error("run", "--backend: unknown backend '%.*s' (available: %s)",
                                   (int)n, p, backend_names(names, sizeof(names)));
        for (q = value; q < p; q += strcspn(q, ",") + 1)
            if (strcspn(q, ",") == n && !strncmp(q, p, n))
                return cli_usage_error("run", "--backend: '%.*s' is listed twice", (int)n, p);
        p += n;
        if (*p == ',' && !*++p)
            return cli_usage_error("run", "--backend: empty name in '%s'", value);
    }
    return 0;
}

/* A backend option given as a global flag: the value every run starts from. */
static int backend_flag(size_t index, const char *value, struct run_options *o)
{
    const struct backend_option *opt = backend_option_at(index, NULL);
    char err[ERRBUF_LEN];

    if (opt->parse(value, &o->backend_options.value[index], err, sizeof(err)))
        return cli_usage_error("run", "--%s: %s", opt->name, err);
    return 0;
}

/*
 * --streams and --mtu against the test and the runs: a sweep is the network test's; an MTU
 * needs a NIC whose backend takes one (slirp's is QEMU's 1500, whatever the guest says).
 */
static int check_sweeps(const struct run_options *o, const struct multi_options *m)
{
    if (o->n_streams > 1 && strcmp(o->test, "network"))
        return cli_usage_error("run",
                               "--streams with several values sweeps the network test only "
                               "(this run's test is %s)",
                               o->test);
    if (o->mtu && !strcmp(o->test, "boot"))
        return cli_usage_error("run", "--mtu: the boot test measures no network (give it with "
                                      "--test network or latency)");
    if (o->n_mtus > 1 && strcmp(o->test, "network"))
        return cli_usage_error("run",
                               "--mtu with several values sweeps the network test only (this "
                               "run's test is %s)",
                               o->test);
    for (size_t i = 0; o->mtu && i < m->runs.n; i++) {
        const struct backend_ops *b = backend_find(m->runs.v[i].backend);
        size_t n = o->n_mtus > 1 ? o->n_mtus : 1;
        int opt = backend_option_find("mtu");

        if (opt >= 0 && m->runs.v[i].set[opt])
            return cli_usage_error("run",
                                   "--mtu: run %s sets its own mtu (%s): give the MTU once, "
                                   "with --mtu for every run or in the variant",
                                   m->runs.v[i].label, m->runs.v[i].spec);
        for (size_t k = 0; b && b->fixed_mtu && k < n; k++) {
            unsigned mtu = o->n_mtus > 1 ? o->mtu_sweep[k] : o->mtu;

            if (mtu != b->fixed_mtu)
                return cli_usage_error(
                    "run",
                    "--mtu %u: run %s: the %s backend's MTU is fixed at %u and cannot be set "
                    "(for another MTU use consomme, passt or tap)",
                    mtu, m->runs.v[i].label, b->name, b->fixed_mtu);
        }
    }
    return 0;
}

static int dry_run(const struct run_options *global, const struct multi_options *m)
{
    struct run_options one = *global;
    const struct run_options *o = global;
    bool several = multi_run_wanted(m);
    char err[ERRBUF_LEN];
    json_t *j, *runs;

    /* what each run settles (its QEMU, consomme's transport) is shown as the run will do it */
    if (!several) {
        if (run_settle(&one, err, sizeof(err)))
            return cli_usage_error("run", "%s", err);
        o = &one;
    }
    runs = multi_runs_json(m, global, err, sizeof(err));
    if (!runs)
        return cli_usage_error("run", "%s", err);
    j = run_options_to_json(o);
    if (!j) {
        json_decref(runs);
        return 1;
    }
    /* consomme's transport is shown once settled: per run with several, not for a test that
     * brings its own NIC (boot) */
    if (!strcmp(json_string_value(json_object_get(j, "transport")) ?: "", "auto"))
        json_object_del(j, "transport");
    if (!several)
        json_object_set_new(j, "qemu_version", json_string(o->qemu_info.version));
    json_object_set_new(j, "output", o->output ? json_string(o->output) : json_null());
    json_object_set_new(j, "format", json_string(o->format));
    json_object_set_new(j, "log_dir", o->log_dir ? json_string(o->log_dir) : json_null());
    json_object_set_new(j, "perf_dir", o->perf_dir ? json_string(o->perf_dir) : json_null());
    json_object_set_new(j, "quiet", json_boolean(o->quiet));
    if (o->vm_instances > 1)
        json_object_set_new(j, "vm_instances", json_integer(o->vm_instances));
    json_object_set_new(j, "order", json_string(run_order_name(m->order)));
    json_object_set_new(j, "runs", runs);
    /* what a sweep measures: the network test's points and their metric names */
    if (!strcmp(o->test, "network") && (o->n_streams > 1 || o->n_mtus > 1))
        json_object_set_new(j, "sweep", network_sweep_json(o));
    json_dumpf(j, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(j);
    return 0;
}

enum {
    OPT_TEST = 256,
    OPT_BACKEND,
    OPT_NIC,
    OPT_ACCEL,
    OPT_QEMU_USER,
    OPT_STREAMS,
    OPT_MTU,
    OPT_RR_SIZE,
    OPT_FORMAT,
    OPT_LOG_DIR,
    OPT_PERF_DIR,
    OPT_DRY_RUN,
    OPT_VARIANT,
    OPT_ORDER,
    OPT_FAIL_ON_REGRESSION,
    OPT_GATE,
    OPT_REQUIRE_DETECTABLE,
    OPT_NUMBER = 512,         /* + the option's index in numbers[] */
    OPT_BACKEND_OPTION = 768, /* + the option's index in the registry */
};

/* The options that are one whole number in a range, each kept in its field of the run's
 * options: a row each, from which their getopt rows come too. */
static const struct number_option {
    const char *flag;
    unsigned long long min, max;
    size_t field; /* offsetof(struct run_options, ...) of an unsigned */
} numbers[] = {
    {"--vcpus", 1, 64, offsetof(struct run_options, vcpus)},
    {"--mem-mb", 128, 65536, offsetof(struct run_options, mem_mb)},
    {"--iterations", 1, 10000, offsetof(struct run_options, iterations)},
    {"--warmup", 0, 1000, offsetof(struct run_options, warmup)},
    {"--vm-instances", 1, 1000, offsetof(struct run_options, vm_instances)},
    {"--duration", 1, 3600, offsetof(struct run_options, duration_s)},
};

#define NNUMBERS (sizeof(numbers) / sizeof(numbers[0]))

int cmd_run(int argc, char **argv)
{
    static const struct option fixed[] = {
        {"test", required_argument, NULL, OPT_TEST},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"nic", required_argument, NULL, OPT_NIC},
        {"accel", required_argument, NULL, OPT_ACCEL},
        {"qemu-user", required_argument, NULL, OPT_QEMU_USER},
        {"streams", required_argument, NULL, OPT_STREAMS},
        {"mtu", required_argument, NULL, OPT_MTU},
        {"rr-size", required_argument, NULL, OPT_RR_SIZE},
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"log-dir", required_argument, NULL, OPT_LOG_DIR},
        {"perf-dir", required_argument, NULL, OPT_PERF_DIR},
        {"quiet", no_argument, NULL, 'q'},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"variant", required_argument, NULL, OPT_VARIANT},
        {"order", required_argument, NULL, OPT_ORDER},
        {"fail-on-regression", no_argument, NULL, OPT_FAIL_ON_REGRESSION},
        {"gate", required_argument, NULL, OPT_GATE},
        {"require-detectable", required_argument, NULL, OPT_REQUIRE_DETECTABLE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct run_options o;
    size_t n_long = sizeof(fixed) / sizeof(fixed[0]) - 1; /* rows so far, no terminator */
    struct option longopts[sizeof(fixed) / sizeof(fixed[0]) + NNUMBERS + BACKEND_OPTION_MAX];
    static struct multi_options m;
    struct variant v;
    const char *order = "interleaved";
    char err[ERRBUF_LEN];
    bool dry = false, rr_size_given = false;
    int c, rc = 0;

    memset(&m, 0, sizeof(m));
    run_options_default(&o);
    memcpy(longopts, fixed, sizeof(struct option) * n_long);
    for (size_t i = 0; i < NNUMBERS; i++)
        longopts[n_long++] =
            (struct option){numbers[i].flag + 2, required_argument, NULL, OPT_NUMBER + (int)i};
    /* A backend option is a global flag too, --NAME VALUE for every run that takes it, unless
     * the run has a flag of that name itself. */
    for (size_t i = 0; i < backend_option_count(); i++) {
        const struct backend_option *opt = backend_option_at(i, NULL);

        if (!opt->variant_only)
            longopts[n_long++] =
                (struct option){opt->name, required_argument, NULL, OPT_BACKEND_OPTION + (int)i};
    }
    longopts[n_long] = (struct option){NULL, 0, NULL, 0};
    optind = 0;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_TEST:
            rc = pick("--test", optarg, tests, &o.test);
            break;
        case OPT_BACKEND:
            rc = check_backends(optarg);
            o.backend = optarg;
            m.backend_given = true;
            break;
        case OPT_NIC:
            rc = pick("--nic", optarg, nics, &o.nic);
            break;
        case OPT_ACCEL:
            rc = pick("--accel", optarg, accels, &o.accel);
            break;
        case OPT_QEMU_USER: {
            char why[ERRBUF_LEN];

            /* an unknown user, or one a non-root burette cannot become: before anything runs */
            if (vm_check_user(optarg, why, sizeof(why)))
                rc = cli_usage_error("run", "%s", why);
            o.qemu_user = optarg;
            break;
        }
        case OPT_STREAMS:
            rc = number_list("--streams", optarg, 1, 128, o.stream_sweep, &o.n_streams);
            o.streams = o.stream_sweep[0];
            if (o.n_streams < 2)
                o.n_streams = 0;
            break;
        case OPT_MTU:
            rc = number_list("--mtu", optarg, RUN_MTU_MIN, RUN_MTU_MAX, o.mtu_sweep, &o.n_mtus);
            o.mtu = o.mtu_sweep[0];
            if (o.n_mtus < 2)
                o.n_mtus = 0;
            break;
        case OPT_RR_SIZE:
            rc = number("--rr-size", optarg, 1, RR_MAX_SIZE, &o.rr_size);
            rr_size_given = true;
            break;
        case 'o':
            if (!*optarg)
                rc = cli_usage_error("run", "--output: empty file name");
            o.output = optarg;
            break;
        case OPT_FORMAT:
            /* html is accepted and stored for the renderer that will print it. */
            if (!renderer_find(optarg) && strcmp(optarg, "html"))
                rc = cli_usage_error("run", "--format: unknown format '%s' (available: %s)", optarg,
                                     renderer_names());
            o.format = optarg;
            break;
        case OPT_LOG_DIR:
            if (!*optarg)
                rc = cli_usage_error("run", "--log-dir: empty directory name");
            o.log_dir = optarg;
            break;
        case OPT_PERF_DIR:
            if (!*optarg)
                rc = cli_usage_error("run", "--perf-dir: empty directory name");
            o.perf_dir = optarg;
            break;
        case 'q':
            o.quiet = true;
            break;
        case OPT_DRY_RUN:
            dry = true;
            break;
        case OPT_VARIANT:
            if (variant_parse(optarg, &v, err, sizeof(err)) ||
                variant_list_add(&m.variants, &v, err, sizeof(err)))
                rc = cli_usage_error("run", "--variant %s", err);
            break;
        case OPT_ORDER:
            rc = pick("--order", optarg, orders, &order);
            m.order = !strcmp(order, "sequential") ? RUN_ORDER_SEQUENTIAL
                      : !strcmp(order, "subtests") ? RUN_ORDER_BY_PART
                                                   : RUN_ORDER_INTERLEAVED;
            break;
        case OPT_FAIL_ON_REGRESSION:
            m.fail_on_regression = true;
            break;
        case OPT_GATE:
            if (metric_gate_parse(&m.gate, optarg, err, sizeof(err)))
                rc = cli_usage_error("run", "%s", err);
            break;
        case OPT_REQUIRE_DETECTABLE:
            if (parse_double(optarg, 0, 100, &m.require_detectable_pct) ||
                !(m.require_detectable_pct > 0 && m.require_detectable_pct < 100))
                rc = cli_usage_error("run",
                                     "--require-detectable: '%s' is not a percentage above 0 "
                                     "and below 100 (e.g. 10)",
                                     optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            if (c >= OPT_NUMBER && c < OPT_NUMBER + (int)NNUMBERS) {
                const struct number_option *n = &numbers[c - OPT_NUMBER];

                rc = number(n->flag, optarg, n->min, n->max,
                            (unsigned *)(void *)((char *)&o + n->field));
                break;
            }
            if (c >= OPT_BACKEND_OPTION && c < OPT_BACKEND_OPTION + (int)backend_option_count()) {
                rc = backend_flag((size_t)(c - OPT_BACKEND_OPTION), optarg, &o);
                break;
            }
            return cli_getopt_error("run", c, argv);
        }
    }
    if (rc)
        return rc;
    if (optind < argc)
        return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (!strcmp(o.nic, "vmbus"))
        return cli_usage_error("run", "--nic vmbus: QEMU has no VMBus NIC (that needs OpenVMM); "
                                      "available with QEMU: virtio-net");
    if (rr_size_given && strcmp(o.test, "latency"))
        return cli_usage_error("run",
                               "--rr-size applies to --test latency only (this run's test "
                               "is %s)",
                               o.test);
    if (o.vm_instances > o.iterations)
        return cli_usage_error("run",
                               "--vm-instances %u: more boots than kept iterations (%u): each "
                               "boot needs at least one",
                               o.vm_instances, o.iterations);
    if (multi_options_finish(&m, &o, err, sizeof(err)))
        return cli_usage_error("run", "%s", err);
    if (!multi_run_wanted(&m) && (m.fail_on_regression || m.gate.spec || m.require_detectable_pct))
        return cli_usage_error("run",
                               "--%s judges a comparison, and one run has nothing to compare "
                               "with: give several (--backend A,B or --variant LABEL=...)",
                               m.fail_on_regression ? "fail-on-regression"
                               : m.gate.spec        ? "gate"
                                                    : "require-detectable");
    rc = check_sweeps(&o, &m);
    if (rc)
        return rc;
    if (dry)
        return dry_run(&o, &m);
    return multi_run_wanted(&m) ? multi_run_main(&o, &m) : run_main(&o);
}
