/* SPDX-License-Identifier: MIT */
/*
 * Support for the tests that drive the real burette binary (see e2e.h): process start and
 * stderr reading, report checks, and the "nothing left behind" checks that look only at our
 * own descendants (the calling test is a child subreaper).
 */
#include "e2e.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

pid_t e2e_start(const char *burette, const char *const *args, const char *path, int *errfd)
{
    const char *argv[40];
    int p[2];
    size_t n = 0;
    pid_t pid;

    argv[n++] = burette;
    while (*args && n < 39)
        argv[n++] = *args++;
    argv[n] = NULL;
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);

        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(p[1], 2);
        if (path)
            setenv("PATH", path, 1);
        execv(argv[0], (char **)argv);
        _exit(127);
    }
    close(p[1]);
    *errfd = p[0];
    return pid;
}

/* Make room in a full @buf by dropping its oldest half: needles are searched in what comes
 * last. */
static size_t keep_tail(char *buf, size_t used, size_t len)
{
    if (used + 1 >= len) {
        memmove(buf, buf + used / 2, used - used / 2 + 1);
        used -= used / 2;
    }
    return used;
}

bool e2e_read_until(int fd, const char *needle, char *buf, size_t len)
{
    size_t used = strlen(buf);

    while (!needle || !strstr(buf, needle)) {
        ssize_t n;

        used = keep_tail(buf, used, len);
        n = read(fd, buf + used, len - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        used += (size_t)n;
        buf[used] = '\0';
    }
    return true;
}

bool e2e_read_some(int fd, char *buf, size_t len)
{
    size_t used = keep_tail(buf, strlen(buf), len);
    ssize_t n;

    n = read(fd, buf + used, len - used - 1);
    if (n <= 0)
        return n < 0 && errno == EINTR;
    buf[used + (size_t)n] = '\0';
    return true;
}

void e2e_expect(int fd, const char *needle, char *buf, size_t len, const char *what)
{
    if (!e2e_read_until(fd, needle, buf, len))
        fail_msg("burette ended before %s; its stderr:\n%s", what, buf);
}

void e2e_pause(int fd, int ms, char *buf, size_t len, const char *what)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    if (poll(&p, 1, ms) > 0 && !e2e_read_some(fd, buf, len))
        fail_msg("burette ended before %s; its stderr:\n%s", what, buf);
}

int e2e_run(const char *burette, const char *const *args, const char *path, char *buf, size_t len)
{
    int errfd, status;
    pid_t pid = e2e_start(burette, args, path, &errfd);

    buf[0] = '\0';
    e2e_read_until(errfd, NULL, buf, len);
    close(errfd);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

void e2e_interrupt(pid_t pid, int errfd, char *buf, size_t len)
{
    int status;

    kill(pid, SIGINT);
    e2e_read_until(errfd, NULL, buf, len);
    close(errfd);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 128 + SIGINT);
}

json_t *e2e_find_result(json_t *results, const char *name)
{
    size_t i;
    json_t *r;

    json_array_foreach(results, i, r)
    {
        if (!strcmp(json_string_value(json_object_get(r, "name")), name))
            return r;
    }
    return NULL;
}

json_t *e2e_assert_positive_samples(json_t *results, const char *name, size_t n, const char *what)
{
    json_t *r = e2e_find_result(results, name), *samples, *v;
    size_t k;

    if (!r)
        fail_msg("the %s report lacks %s", what, name);
    samples = json_object_get(r, "samples");
    if (json_array_size(samples) != n)
        fail_msg("%s: %s has %zu samples, expected %zu", what, name, json_array_size(samples), n);
    json_array_foreach(samples, k, v)
    {
        if (!(json_number_value(v) > 0))
            fail_msg("%s: %s sample %zu is %g", what, name, k, json_number_value(v));
    }
    return r;
}

/* end.sum_received of one kept iperf3 report; the caller owns @root. */
static json_t *received_sum(const char *logs, size_t k, const char *subtest, const char *side,
                            json_t **root)
{
    char path[4096];
    json_t *sum;

    snprintf(path, sizeof(path), "%s/network-%zu-%s-%s.json", logs, k, subtest, side);
    *root = json_load_file(path, 0, NULL);
    if (!*root)
        fail_msg("missing or unreadable %s", path);
    sum = json_object_get(json_object_get(*root, "end"), "sum_received");
    if (!json_is_object(sum))
        fail_msg("%s has no end.sum_received", path);
    return sum;
}

static void assert_sample_is(json_t *results, const char *suffix, size_t k, double want,
                             const char *what)
{
    char name[128];
    json_t *r, *samples;
    double got;

    snprintf(name, sizeof(name), "net_virtio-net_%s", suffix);
    r = e2e_find_result(results, name);
    if (!r)
        fail_msg("the %s report lacks %s", what, name);
    samples = json_object_get(r, "samples");
    if (json_array_size(samples) < k)
        fail_msg("%s: %s has %zu samples, expected at least %zu", what, name,
                 json_array_size(samples), k);
    got = json_number_value(json_array_get(samples, k - 1));
    if (!(fabs(got - want) <= 1e-9 * fabs(want)))
        fail_msg("%s: %s sample %zu is %.9g, but that iteration's iperf3 report says %.9g", what,
                 name, k, got, want);
}

void e2e_assert_samples_match_iperf(json_t *results, const char *logs, size_t n, const char *what)
{
    for (size_t k = 1; k <= n; k++) {
        json_t *root, *sum;
        double v;

        sum = received_sum(logs, k, "tcp_tx", "server", &root);
        v = json_number_value(json_object_get(sum, "bits_per_second")) / 1e9;
        json_decref(root);
        assert_sample_is(results, "tcp_tx_gbps", k, v, what);

        sum = received_sum(logs, k, "tcp_rx", "client", &root);
        v = json_number_value(json_object_get(sum, "bits_per_second")) / 1e9;
        json_decref(root);
        assert_sample_is(results, "tcp_rx_gbps", k, v, what);

        sum = received_sum(logs, k, "udp_tx", "client", &root);
        v = (json_number_value(json_object_get(sum, "packets")) -
             json_number_value(json_object_get(sum, "lost_packets"))) /
            json_number_value(json_object_get(sum, "seconds"));
        json_decref(root);
        assert_sample_is(results, "udp_tx_pps", k, v, what);
    }
}

void e2e_assert_no_child(void)
{
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

void e2e_assert_no_running_child(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    e2e_assert_no_child();
}

pid_t e2e_parent_of(pid_t pid, char *comm, size_t commlen)
{
    char path[64], line[256], name[64] = "";
    pid_t ppid = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "Name: %63s", name) == 1)
            continue;
        if (sscanf(line, "PPid: %d", &ppid) == 1)
            break; /* Name comes before PPid */
    }
    fclose(f);
    if (comm && commlen)
        snprintf(comm, commlen, "%s", name);
    return ppid;
}

/* Wait up to 10 s for @pid to end; fail naming it if it does not. */
static void wait_gone(pid_t pid, const char *comm)
{
    struct pollfd pf;
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);

    if (pfd < 0)
        return; /* gone meanwhile */
    pf = (struct pollfd){.fd = pfd, .events = POLLIN};
    if (poll(&pf, 1, 10000) != 1)
        fail_msg("%s (pid %d), started by burette, still runs after burette exited", comm,
                 (int)pid);
    close(pfd);
}

void e2e_assert_no_children(void)
{
    for (;;) {
        char comm[64] = "";
        pid_t child = 0;
        struct dirent *de;
        DIR *d;

        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        d = opendir("/proc");
        while (d && !child && (de = readdir(d))) {
            pid_t pid = (pid_t)atoi(de->d_name);

            if (pid > 0 && e2e_parent_of(pid, comm, sizeof(comm)) == getpid())
                child = pid;
        }
        if (d)
            closedir(d);
        if (!child)
            return;
        wait_gone(child, comm);
        waitpid(child, NULL, 0);
    }
}

size_t e2e_descendants(pid_t root, pid_t *out, size_t max)
{
    size_t n = 0;
    bool grew = true;

    out[n++] = root;
    while (grew) {
        DIR *d = opendir("/proc");
        struct dirent *de;

        grew = false;
        while (d && (de = readdir(d))) {
            pid_t pid = (pid_t)atoi(de->d_name), ppid;
            bool known = false;

            if (pid <= 0)
                continue;
            for (size_t i = 0; i < n; i++)
                known |= out[i] == pid;
            if (known)
                continue;
            ppid = e2e_parent_of(pid, NULL, 0);
            for (size_t i = 0; i < n && ppid; i++) {
                if (out[i] == ppid && n < max) {
                    out[n++] = pid;
                    grew = true;
                    break;
                }
            }
        }
        if (d)
            closedir(d);
    }
    return n;
}

unsigned long e2e_net_ns_of(pid_t pid)
{
    char path[64];
    struct stat st;

    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    return stat(path, &st) ? 0 : (unsigned long)st.st_ino;
}

unsigned long long e2e_start_time(pid_t pid)
{
    char path[64], line[1024], *p;
    unsigned long long t = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')'))) {
        /* after "pid (comm)" comes field 3; step to the space before field 22 */
        for (int field = 3; p && field <= 22; field++)
            p = strchr(p + 1, ' ');
        if (p)
            t = strtoull(p + 1, NULL, 10);
    }
    fclose(f);
    return t;
}

unsigned long long e2e_now_ticks(void)
{
    double up = 0;
    FILE *f = fopen("/proc/uptime", "r");

    if (f && fscanf(f, "%lf", &up) != 1)
        up = 0;
    if (f)
        fclose(f);
    return (unsigned long long)(up * (double)sysconf(_SC_CLK_TCK));
}

bool e2e_ns_in_use(unsigned long ino, unsigned long long before)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    bool used = false;

    while (d && (de = readdir(d)) && !used) {
        pid_t pid = (pid_t)atoi(de->d_name);

        if (pid > 0 && e2e_net_ns_of(pid) == ino && e2e_start_time(pid) <= before)
            used = true;
    }
    if (d)
        closedir(d);
    return used;
}

void e2e_assert_gone(const pid_t *pids, const unsigned long long *starts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char comm[64];

        if (!starts[i] || e2e_start_time(pids[i]) != starts[i])
            continue;
        snprintf(comm, sizeof(comm), "process");
        e2e_parent_of(pids[i], comm, sizeof(comm));
        wait_gone(pids[i], comm);
        waitpid(pids[i], NULL, WNOHANG); /* reap it if it came to us */
    }
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

int e2e_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char sub[1024];

    while (d && (de = readdir(d))) {
        struct stat st;

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        if (!lstat(sub, &st) && S_ISDIR(st.st_mode))
            e2e_remove_tree(sub);
        else
            unlink(sub);
    }
    if (d)
        closedir(d);
    return rmdir(path);
}

size_t e2e_count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

char e2e_tmpdir[] = "/tmp/burette-e2e-XXXXXX";

int e2e_group_setup(void **state)
{
    (void)state;
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    return mkdtemp(e2e_tmpdir) ? 0 : -1;
}

int e2e_group_teardown(void **state)
{
    (void)state;
    e2e_remove_tree(e2e_tmpdir);
    return 0;
}

struct sigterm_watch {
    pid_t self;
    char prefix[32];
    char arg[64]; /* "" for any */
};

/* Whether @pid has @arg among its arguments (/proc/PID/cmdline, NUL-separated). */
static bool has_arg(pid_t pid, const char *arg)
{
    char path[64], cmdline[8192];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return false;
    n = fread(cmdline, 1, sizeof(cmdline) - 1, f);
    fclose(f);
    cmdline[n] = '\0';
    for (size_t i = 0; i < n; i += strlen(cmdline + i) + 1)
        if (!strcmp(cmdline + i, arg))
            return true;
    return false;
}

static void *sigterm_watch(void *arg)
{
    struct sigterm_watch *w = arg;
    struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};

    for (int i = 0; i < 12000; i++) {
        pid_t pids[256];
        size_t n = e2e_descendants(w->self, pids, 256);

        for (size_t j = 1; j < n; j++) {
            char comm[32] = "";

            if (e2e_parent_of(pids[j], comm, sizeof(comm)) == w->self &&
                !strncmp(comm, w->prefix, strlen(w->prefix)) &&
                (!w->arg[0] || has_arg(pids[j], w->arg))) {
                kill(w->self, SIGTERM);
                free(w);
                return NULL;
            }
        }
        nanosleep(&tick, NULL);
    }
    free(w);
    return NULL;
}

void e2e_sigterm_when_child_runs(const char *comm_prefix, const char *arg)
{
    struct sigterm_watch *w = calloc(1, sizeof(*w));
    pthread_attr_t attr;
    pthread_t thread;
    sigset_t all, old;

    assert_non_null(w);
    w->self = getpid();
    snprintf(w->prefix, sizeof(w->prefix), "%s", comm_prefix);
    snprintf(w->arg, sizeof(w->arg), "%s", arg ? arg : "");
    /* the watcher takes no signal: SIGTERM is the test's code's to handle */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    assert_int_equal(pthread_create(&thread, &attr, sigterm_watch, w), 0);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}
