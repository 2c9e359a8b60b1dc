/* SPDX-License-Identifier: MIT */
/*
 * cpu_cost - the host CPU of a sub-test from /proc, split by who spent it; see cpu_cost.h.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_cost.h"

static const char *const part_keys[CPU_PART_N] = {
    [CPU_VCPU] = "vcpu",       [CPU_QEMU_MAIN] = "qemu_main", [CPU_QEMU_OTHER] = "qemu_other",
    [CPU_BACKEND] = "backend", [CPU_HELPER] = "helper",       [CPU_IPERF3] = "iperf3",
    [CPU_HARNESS] = "harness",
};

const char *cpu_part_key(enum cpu_part p)
{
    return p < CPU_PART_N ? part_keys[p] : "?";
}

/*
 * utime + stime of one stat file (proc(5)), in ms; @comm receives the name if not NULL;
 * @children, if not NULL, cutime + cstime (the children it reaped); @ppid, if not NULL, the
 * parent's pid.
 */
static int stat_fields(const char *path, long hz, char *comm, size_t commlen, double *ms,
                       double *children, pid_t *ppid)
{
    char line[1024];
    const char *open_paren, *close_paren;
    unsigned long long utime, stime;
    long long cutime = 0, cstime = 0;
    int parent;
    FILE *f = fopen(path, "re");

    if (!f)
        return -errno;
    if (!fgets(line, sizeof(line), f)) {
        fclose(f);
        return -EIO;
    }
    fclose(f);
    /* comm may hold spaces and parentheses ("CPU 0/TCG"): it ends at the last ')' */
    open_paren = strchr(line, '(');
    close_paren = strrchr(line, ')');
    if (!open_paren || !close_paren || close_paren < open_paren || !close_paren[1])
        return -EPROTO;
    if (comm)
        snprintf(comm, commlen, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
    /* after comm: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
     * utime stime cutime cstime (fields 3 to 17) */
    if (sscanf(close_paren + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld",
               &parent, &utime, &stime, &cutime, &cstime) < 3)
        return -EPROTO;
    *ms = (double)(utime + stime) * 1000.0 / (double)(hz > 0 ? hz : 100);
    if (children)
        *children = (double)(cutime + cstime) * 1000.0 / (double)(hz > 0 ? hz : 100);
    if (ppid)
        *ppid = parent;
    return 0;
}

static int stat_ms(const char *path, long hz, char *comm, size_t commlen, double *ms)
{
    return stat_fields(path, hz, comm, commlen, ms, NULL, NULL);
}

struct proc_entry {
    pid_t pid, ppid;
    double ms; /* its own CPU and its reaped children's */
};

static int by_pid(const void *a, const void *b)
{
    pid_t x = ((const struct proc_entry *)a)->pid, y = ((const struct proc_entry *)b)->pid;

    return (x > y) - (x < y);
}

/* Whether @p is @root or descends from it, following parents through @e (sorted by pid). */
static bool descends(const struct proc_entry *e, size_t n, const struct proc_entry *p, pid_t root)
{
    for (int depth = 0; p && depth < 256; depth++) {
        struct proc_entry key = {.pid = p->ppid};

        if (p->pid == root)
            return true;
        if (p->ppid <= 1)
            return false;
        p = bsearch(&key, e, n, sizeof(*e), by_pid);
    }
    return false;
}

/*
 * Every process's CPU with its reaped children's, over all of /proc and over @root and its
 * descendants: a process that ends between two readings moves its time into its parent's
 * children time, so the sums lose only what was reaped by a process that ended too.
 */
static void process_sums(const char *root_dir, long hz, pid_t root, struct cpu_reading *r)
{
    struct proc_entry *e = NULL;
    size_t n = 0, cap = 0;
    char path[4096];
    struct dirent *de;
    DIR *d = opendir(root_dir);

    r->all_processes_ms = r->tree_ms = -1;
    if (!d)
        return;
    while ((de = readdir(d))) {
        double ms, children;
        pid_t ppid;

        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "%s/%.20s/stat", root_dir, de->d_name);
        if (stat_fields(path, hz, NULL, 0, &ms, &children, &ppid))
            continue; /* ended meanwhile */
        if (n == cap) {
            size_t grown = cap ? cap * 2 : 256;
            struct proc_entry *m = realloc(e, grown * sizeof(*e));

            if (!m) {
                free(e);
                closedir(d);
                return;
            }
            e = m;
            cap = grown;
        }
        e[n++] = (struct proc_entry){.pid = atoi(de->d_name), .ppid = ppid, .ms = ms + children};
    }
    closedir(d);
    if (n)
        qsort(e, n, sizeof(*e), by_pid);
    r->all_processes_ms = 0;
    r->tree_ms = root > 0 ? 0 : -1;
    for (size_t i = 0; i < n; i++) {
        r->all_processes_ms += e[i].ms;
        if (root > 0 && descends(e, n, &e[i], root))
            r->tree_ms += e[i].ms;
    }
    free(e);
}

int cpu_machine_busy_ms(const char *root, long hz, double *ms)
{
    unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal = 0;
    char path[4096], line[512];
    FILE *f;
    int n;

    snprintf(path, sizeof(path), "%s/stat", root);
    f = fopen(path, "re");
    if (!f)
        return -errno;
    n = fgets(line, sizeof(line), f)
            ? sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
                     &iowait, &irq, &softirq, &steal)
            : 0;
    fclose(f);
    if (n < 7)
        return -EPROTO;
    /* guest time is already inside user: adding it would count the vCPUs twice */
    *ms =
        (double)(user + nice + sys + irq + softirq + steal) * 1000.0 / (double)(hz > 0 ? hz : 100);
    return 0;
}

/* QEMU's threads by kind; what exited threads used is in the process total, so "other" is the
 * total minus the vCPUs and the main loop. */
static int read_qemu(const struct cpu_source *src, struct cpu_reading *r)
{
    char dir[4096], path[4400], comm[64];
    double total;
    struct dirent *e;
    DIR *d;
    int rc;

    snprintf(dir, sizeof(dir), "%s/%d/task", src->proc_root, (int)src->qemu);
    d = opendir(dir);
    if (!d)
        return -errno;
    while ((e = readdir(d))) {
        double ms;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%.20s/stat", dir, e->d_name);
        if (stat_ms(path, src->hz, comm, sizeof(comm), &ms))
            continue; /* a thread that ended meanwhile */
        if (atoi(e->d_name) == (int)src->qemu)
            r->part_ms[CPU_QEMU_MAIN] += ms;
        else if (!strncmp(comm, "CPU ", 4))
            r->part_ms[CPU_VCPU] += ms;
    }
    closedir(d);
    /* read after the threads: the total covers them, so "other" is never negative */
    snprintf(path, sizeof(path), "%s/%d/stat", src->proc_root, (int)src->qemu);
    rc = stat_ms(path, src->hz, NULL, 0, &total);
    if (rc)
        return rc;
    r->part_ms[CPU_QEMU_OTHER] = total - r->part_ms[CPU_VCPU] - r->part_ms[CPU_QEMU_MAIN];
    if (r->part_ms[CPU_QEMU_OTHER] < 0)
        r->part_ms[CPU_QEMU_OTHER] = 0;
    r->have[CPU_VCPU] = r->have[CPU_QEMU_MAIN] = r->have[CPU_QEMU_OTHER] = true;
    return 0;
}

static void read_process(const struct cpu_source *src, pid_t pid, enum cpu_part p,
                         struct cpu_reading *r)
{
    char path[4096];

    if (pid <= 0)
        return;
    snprintf(path, sizeof(path), "%s/%d/stat", src->proc_root, (int)pid);
    r->have[p] = !stat_ms(path, src->hz, NULL, 0, &r->part_ms[p]);
}

int cpu_read(const struct cpu_source *src, double wall_ms, struct cpu_reading *r)
{
    int rc;

    memset(r, 0, sizeof(*r));
    r->wall_ms = wall_ms;
    rc = read_qemu(src, r);
    if (rc)
        return rc;
    read_process(src, src->backend, CPU_BACKEND, r);
    read_process(src, src->helper, CPU_HELPER, r);
    read_process(src, src->harness, CPU_HARNESS, r);
    process_sums(src->proc_root, src->hz, src->harness, r);
    return cpu_machine_busy_ms(src->proc_root, src->hz, &r->machine_busy_ms);
}

void cpu_cost_diff(const struct cpu_reading *before, const struct cpu_reading *after,
                   double iperf3_ms, struct cpu_cost *c)
{
    memset(c, 0, sizeof(*c));
    c->wall_ms = after->wall_ms - before->wall_ms;
    c->machine_busy_ms = after->machine_busy_ms - before->machine_busy_ms;
    c->all_processes_ms = before->all_processes_ms >= 0 && after->all_processes_ms >= 0
                              ? after->all_processes_ms - before->all_processes_ms
                              : -1;
    c->tree_ms =
        before->tree_ms >= 0 && after->tree_ms >= 0 ? after->tree_ms - before->tree_ms : -1;
    for (int p = 0; p < CPU_PART_N; p++) {
        if (p == CPU_IPERF3) {
            c->have[p] = iperf3_ms >= 0;
            c->part_ms[p] = c->have[p] ? iperf3_ms : 0;
        } else {
            c->have[p] = before->have[p] && after->have[p];
            c->part_ms[p] = c->have[p] ? after->part_ms[p] - before->part_ms[p] : 0;
            /* CPU time never goes back: below zero is the rounding of per-thread ticks
             * against the process's total (QEMU's "other") */
            if (c->part_ms[p] < 0)
                c->part_ms[p] = 0;
        }
        if (c->have[p])
            c->attributed_ms += c->part_ms[p];
    }
}

double cpu_cost_others_percent(const struct cpu_cost *c)
{
    if (c->all_processes_ms < 0 || c->tree_ms < 0 || c->wall_ms <= 0)
        return -1;
    return 100.0 * fmax(0, c->all_processes_ms - c->tree_ms) / c->wall_ms;
}

json_t *cpu_cost_json(const struct cpu_cost *c, double gbit)
{
    json_t *o = json_object();
    char key[32];
    int rc;

    if (!o)
        return NULL;
    rc = json_object_set_new(o, "wall_ms", json_real(c->wall_ms));
    rc |= json_object_set_new(o, "gbit", json_real(gbit));
    for (int p = 0; p < CPU_PART_N; p++) {
        if (!c->have[p])
            continue;
        snprintf(key, sizeof(key), "%s_ms", part_keys[p]);
        rc |= json_object_set_new(o, key, json_real(c->part_ms[p]));
    }
    rc |= json_object_set_new(o, "attributed_ms", json_real(c->attributed_ms));
    rc |= json_object_set_new(o, "machine_busy_ms", json_real(c->machine_busy_ms));
    if (c->all_processes_ms >= 0)
        rc |= json_object_set_new(o, "all_processes_ms", json_real(c->all_processes_ms));
    if (c->tree_ms >= 0)
        rc |= json_object_set_new(o, "burette_tree_ms", json_real(c->tree_ms));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}
