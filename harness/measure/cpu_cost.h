/* SPDX-License-Identifier: MIT */
/*
 * cpu_cost - the host CPU a network sub-test cost, split by who spent it, from /proc
 *
 * A reading (struct cpu_reading) is taken before and after the guest's client runs: the CPU
 * time used so far by each thread of QEMU (classified by name: "CPU n/TCG" or "CPU n/KVM" are
 * the vCPUs, the thread whose id is QEMU's pid is the main loop, the rest are QEMU's other
 * threads), by the backend's process, the namespace helper and burette itself (all threads of
 * each, from
 * /proc/PID/stat), the whole machine's busy time (/proc/stat: every CPU's time but idle and
 * iowait), the sum over every process of /proc (with the time of the children each reaped,
 * so work that started and ended in between is not lost: on a shared machine, what other work
 * cost) and the monotonic clock. The iperf3 server is a child of the helper that ends with
 * the sub-test, so its CPU comes from the helper's result instead (helper.h) and is added to
 * the difference of the two readings by cpu_cost_diff().
 *
 * Invariants: the parts of a struct cpu_cost never overlap (a thread counts once: vCPU, main
 * loop or other), so their sum is what burette's processes cost over the interval and may be
 * set against the machine's busy time over the same interval; a part that could not be read
 * is marked absent, never counted as zero. The /proc root and the clock tick are parameters
 * so that recorded snapshots (tests/data/cpu_cost) can be read as the live system is.
 */
#ifndef BURETTE_CPU_COST_H
#define BURETTE_CPU_COST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/* Who spent the CPU, in the order the metrics list them. */
enum cpu_part {
    CPU_VCPU,       /* QEMU's vCPU threads: the guest's own work */
    CPU_QEMU_MAIN,  /* QEMU's main loop: -netdev stream and slirp copy every frame here */
    CPU_QEMU_OTHER, /* QEMU's other threads (RCU, workers) */
    CPU_BACKEND,    /* the backend's process (consomme, passt); absent for tap and slirp */
    CPU_HELPER,     /* the namespace helper's own loop */
    CPU_IPERF3,     /* the host's iperf3 server, a child of the helper */
    CPU_HARNESS,    /* burette itself (the agent's channel, the helper's RPC) */
    CPU_PART_N,
};

/* Where a reading comes from. */
struct cpu_source {
    const char *proc_root; /* "/proc", or a recorded copy */
    long hz;               /* clock ticks per second of the stat files (sysconf(_SC_CLK_TCK)) */
    pid_t qemu;
    pid_t backend; /* <= 0: none */
    pid_t helper;  /* <= 0: none */
    pid_t harness; /* burette's own pid, <= 0: not counted */
};

/* CPU used so far, in ms, at one moment. */
struct cpu_reading {
    double part_ms[CPU_PART_N]; /* CPU_IPERF3 unused: it comes from the helper */
    bool have[CPU_PART_N];
    double machine_busy_ms; /* all CPUs together */
    /* every process in /proc, its reaped children's time included, < 0 unknown */
    double all_processes_ms;
    double tree_ms; /* the same over the harness and its descendants, < 0 unknown */
    double wall_ms; /* CLOCK_MONOTONIC */
};

/* What one interval cost. */
struct cpu_cost {
    double wall_ms;
    double part_ms[CPU_PART_N];
    bool have[CPU_PART_N];
    double attributed_ms;   /* the sum of the parts present */
    double machine_busy_ms; /* the whole machine over the same interval */
    /* every process's CPU over it (user + system, with the children each reaped meanwhile):
     * less tree_ms, what other work cost; < 0 unknown */
    double all_processes_ms;
    /* the same over burette and everything it started, however deep: what the parts should
     * add up to, whether or not each was named; < 0 unknown */
    double tree_ms;
};

/**
 * cpu_part_key() - A part's name in metric names: "vcpu", "qemu_main", ..., "iperf3"
 * @p:		Part
 *
 * Return: static string
 */
const char *cpu_part_key(enum cpu_part p);

/**
 * cpu_machine_busy_ms() - The machine's busy time so far: every CPU's time but idle and iowait
 * (the "cpu" line of @root/stat, @root normally "/proc"), in ms of CPU
 * @hz:		Clock ticks per second (sysconf(_SC_CLK_TCK))
 *
 * Return: 0, or negative errno
 */
int cpu_machine_busy_ms(const char *root, long hz, double *ms);

/**
 * cpu_read() - Take a reading
 * @src:	Where from
 * @wall_ms:	The moment it stands for (CLOCK_MONOTONIC ms; a recorded snapshot's own)
 * @r:		Receives it
 *
 * Return: 0, or negative errno when QEMU's threads or /proc/stat cannot be read (QEMU gone);
 * a backend or helper that cannot be read is left absent
 */
int cpu_read(const struct cpu_source *src, double wall_ms, struct cpu_reading *r);

/**
 * cpu_cost_diff() - What the interval between two readings cost
 * @before:	First reading
 * @after:	Second reading, of the same processes
 * @iperf3_ms:	The iperf3 server's CPU over the interval, < 0 when unknown
 * @c:		Receives the cost; a part is present when both readings (or @iperf3_ms) have it
 */
void cpu_cost_diff(const struct cpu_reading *before, const struct cpu_reading *after,
                   double iperf3_ms, struct cpu_cost *c);

/**
 * cpu_cost_others_percent() - What every process outside burette's tree spent over @c's
 * interval, in percent of one CPU (a report's <sub>_others_cpu_percent: compare's "busy machine"
 * warning)
 * @c:		Cost
 *
 * Return: the percent, or -1 when /proc could not say
 */
double cpu_cost_others_percent(const struct cpu_cost *c);

/**
 * cpu_cost_json() - The cost as the log directory keeps it beside the iperf3 reports:
 * {"wall_ms":..,"gbit":..,"vcpu_ms":..,...,"attributed_ms":..,"machine_busy_ms":..}, absent
 * parts left out
 * @c:		Cost
 * @gbit:	Gbit moved over the interval
 *
 * Return: new object, NULL on allocation failure
 */
json_t *cpu_cost_json(const struct cpu_cost *c, double gbit);

#endif /* BURETTE_CPU_COST_H */
