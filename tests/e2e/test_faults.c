/* SPDX-License-Identifier: MIT */
/*
 * test_faults - SIGKILL of burette, consomme, QEMU or the namespace helper at seeded moments of
 * a real `burette run`: nothing may be left behind, and burette's error must name what died
 *
 * Each case runs `burette run --backend consomme` (2 iterations of 2-s sub-tests, no warmup),
 * waits for a progress line drawn from the seed (the guest booting, or one of the sub-tests),
 * then for a further seeded delay of up to a second, and SIGKILLs the victim: burette itself
 * or one of the processes it started. Then:
 *
 * - burette ends on its own, within a bounded time: killed (when it was the victim) or with a
 *   non-zero status and an error that names the process that died;
 * - every process that burette had started is gone (this test is a child subreaper, so orphans
 *   come to it: a survivor of burette's own death is seen), and no process holds the helper's
 *   network namespace any more;
 * - the run's temporary directory (TMPDIR, where the backends keep their private sockets) is
 *   empty again.
 *
 * The delay is not a synchronisation: it is the fault's moment, spread over the run by the seed;
 * everything the test then waits for is an observable state (a line, a process's exit).
 *
 * Usage: test_faults BURETTE [SEED [POINTS [VICTIM]]]
 *   SEED seeds the kill points (default 1; 0: from the clock, printed so that a failure can be
 *   replayed); POINTS is the number of kill points per victim (default 1); VICTIM limits the
 *   run to burette, consomme, qemu or helper.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e.h"
#include "test_args.h"

#define MAX_PIDS      128
#define BURETTE_END_S 180 /* after the kill, burette must be gone by then */
#define MAX_DELAY_MS  1000

enum victim { V_BURETTE, V_CONSOMME, V_QEMU, V_HELPER, V_COUNT };

static const struct {
    const char *name;
    const char *named_as; /* what burette's error must say died (NULL: burette itself) */
} victims[V_COUNT] = {
    [V_BURETTE] = {"burette", NULL},
    [V_CONSOMME] = {"consomme", "consomme"},
    [V_QEMU] = {"qemu", "QEMU"},
    [V_HELPER] = {"helper", "helper"},
};

/* Progress lines a kill point waits for: every one comes before the run's last sub-test, so
 * the victim dies while burette still needs it. */
static const char *const moments[] = {
    "booting the guest",  "iteration 1/2: TCP guest to host", "iteration 1/2: TCP host to guest",
    "iteration 1/2: UDP", "iteration 2/2: TCP guest to host",
};
#define N_MOMENTS (sizeof(moments) / sizeof(moments[0]))

static const char *burette;
static uint64_t seed = 1;
static unsigned points = 1;

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static bool is_qemu(const char *comm)
{
    return !strncmp(comm, "qemu-system", 11);
}

/* The victim among burette's descendants, 0 while it does not run (yet). */
static pid_t find_victim(enum victim v, pid_t run)
{
    pid_t pids[MAX_PIDS];
    size_t n = e2e_descendants(run, pids, MAX_PIDS);

    if (v == V_BURETTE)
        return run;
    for (size_t i = 1; i < n; i++) {
        char comm[32] = "";
        pid_t parent = e2e_parent_of(pids[i], comm, sizeof(comm));
        if ((v == V_CONSOMME && !strcmp(comm, "consomme")) || (v == V_QEMU && is_qemu(comm)) ||
            (v == V_HELPER && parent == run && !strcmp(comm, "burette")))
            return pids[i];
    }
    return 0;
}

/* The fault's seeded moment (see the header): not a wait for any state. */
static void wait_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/*
 * Wait for @pid's end (bounded), reading its stderr meanwhile. Its children may hold stderr
 * open after it is gone, so its exit, seen on a pidfd, is what ends the wait, not EOF.
 *
 * Return: its wait status.
 */
static int wait_end(pid_t pid, int errfd, char *buf, size_t len)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), status;
    struct timespec start;
    bool eof = false;

    assert_true(pidfd >= 0);
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN},
                              {.fd = eof ? -1 : errfd, .events = POLLIN}};
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > BURETTE_END_S) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            close(pidfd);
            fail_msg("burette still ran %d s after the kill; its stderr ends:\n%s", BURETTE_END_S,
                     buf);
        }
        if (poll(p, 2, 1000) < 0 && errno != EINTR)
            fail_msg("poll: %s", strerror(errno));
        if (p[1].revents && !e2e_read_some(errfd, buf, len))
            eof = true;
        if (p[0].revents)
            break;
    }
    close(pidfd);
    /* what burette wrote before it ended is in the pipe already */
    for (struct pollfd p = {.fd = errfd, .events = POLLIN};
         !eof && poll(&p, 1, 0) > 0 && e2e_read_some(errfd, buf, len);)
        ;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void strike(enum victim v, unsigned point)
{
    uint64_t s = seed * 1000003ULL + (uint64_t)v * 101ULL + point;
    const char *moment = moments[splitmix64(&s) % N_MOMENTS];
    long delay_ms = (long)(splitmix64(&s) % MAX_DELAY_MS);
    char logs[512], tmp[512], report[512], what[160], buf[65536] = "";
    unsigned long own_ns = e2e_net_ns_of(getpid()), helper_ns = 0;
    unsigned long long starts[MAX_PIDS] = {0}, struck;
    pid_t pids[MAX_PIDS], run, target = 0;
    size_t n;
    int errfd, status;

    print_message("kill %s after \"%s\" + %ld ms\n", victims[v].name, moment, delay_ms);
    snprintf(logs, sizeof(logs), "%s/logs-%s-%u", e2e_tmpdir, victims[v].name, point);
    snprintf(tmp, sizeof(tmp), "%s/tmp-%s-%u", e2e_tmpdir, victims[v].name, point);
    snprintf(report, sizeof(report), "%s/report-%s-%u.json", e2e_tmpdir, victims[v].name, point);
    assert_int_equal(mkdir(tmp, 0700), 0);
    setenv("TMPDIR", tmp, 1);
    {
        const char *args[] = {"run",  "--backend",  "consomme", "--iterations", "2",  "--warmup",
                              "0",    "--duration", "2",        "--log-dir",    logs, "-o",
                              report, NULL};

        run = e2e_start(burette, args, NULL, &errfd);
    }
    unsetenv("TMPDIR");
    snprintf(what, sizeof(what), "\"%s\"", moment);
    e2e_expect(errfd, moment, buf, sizeof(buf), what);
    wait_ms(delay_ms);
    /* the victim may not run yet at that moment (QEMU before the boot): wait for it, polled
     * while reading burette's progress (the state looked for is the process) */
    snprintf(what, sizeof(what), "%s ran", victims[v].name);
    for (int tries = 0; tries < 600 && !(target = find_victim(v, run)); tries++)
        e2e_pause(errfd, 50, buf, sizeof(buf), what);
    if (!target)
        fail_msg("no %s among burette's processes 30 s after \"%s\"", victims[v].name, moment);

    n = e2e_descendants(run, pids, MAX_PIDS);
    for (size_t i = 0; i < n; i++) {
        unsigned long ns = e2e_net_ns_of(pids[i]);

        starts[i] = e2e_start_time(pids[i]);
        if (ns && ns != own_ns)
            helper_ns = ns;
    }
    struck = e2e_now_ticks();
    assert_int_equal(kill(target, SIGKILL), 0);

    status = wait_end(run, errfd, buf, sizeof(buf));
    close(errfd);
    if (v == V_BURETTE) {
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            fail_msg("burette was SIGKILLed but its status is %#x", status);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) == 0 ||
               !strstr(buf, victims[v].named_as)) {
        fail_msg("after SIGKILL of %s: expected a non-zero exit and an error naming \"%s\"; "
                 "got status %#x, stderr ends:\n%s",
                 victims[v].name, victims[v].named_as, status, buf);
    }
    e2e_assert_gone(pids, starts, n);
    if (helper_ns && e2e_ns_in_use(helper_ns, struck))
        fail_msg("a process still holds the helper's network namespace after SIGKILL of %s",
                 victims[v].name);
    {
        char left[1024] = "";
        DIR *d = opendir(tmp);

        assert_non_null(d);
        for (struct dirent *e; (e = readdir(d));)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                snprintf(left + strlen(left), sizeof(left) - strlen(left), " %s", e->d_name);
        closedir(d);
        if (*left)
            fail_msg("SIGKILL of %s after \"%s\" + %ld ms left in the run's TMPDIR:%s",
                     victims[v].name, moment, delay_ms, left);
    }
}

static void strike_points(enum victim v)
{
    for (unsigned i = 0; i < points; i++)
        strike(v, i);
}

static void test_fault_burette_killed_takes_everything_with_it(void **state)
{
    strike_points(V_BURETTE);
}

static void test_fault_consomme_killed_is_named_and_cleaned_up(void **state)
{
    strike_points(V_CONSOMME);
}

static void test_fault_qemu_killed_is_named_and_cleaned_up(void **state)
{
    strike_points(V_QEMU);
}

static void test_fault_helper_killed_is_named_and_cleaned_up(void **state)
{
    strike_points(V_HELPER);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_burette_killed_takes_everything_with_it),
        cmocka_unit_test(test_fault_consomme_killed_is_named_and_cleaned_up),
        cmocka_unit_test(test_fault_qemu_killed_is_named_and_cleaned_up),
        cmocka_unit_test(test_fault_helper_killed_is_named_and_cleaned_up),
    };
    char *end;

    test_args(argc, argv, 1, 4, NULL, "BURETTE [SEED [POINTS [burette|consomme|qemu|helper]]]");
    burette = argv[1];
    if (argc > 2) {
        seed = strtoull(argv[2], &end, 10);
        if (*end || !*argv[2]) {
            fprintf(stderr, "test_faults: SEED must be a number, not '%s'\n", argv[2]);
            return 2;
        }
    }
    if (!seed)
        seed = (uint64_t)time(NULL) % 100000 + 1;
    print_message("test_faults: seed %llu (replay: test_faults BURETTE %llu ...)\n",
                  (unsigned long long)seed, (unsigned long long)seed);
    if (argc > 3) {
        points = (unsigned)strtoul(argv[3], &end, 10);
        if (*end || !points || points > 100) {
            fprintf(stderr, "test_faults: POINTS must be 1 to 100, not '%s'\n", argv[3]);
            return 2;
        }
    }
    if (argc > 4) {
        static char filter[64];
        bool known = false;

        for (int v = 0; v < V_COUNT; v++)
            known |= !strcmp(argv[4], victims[v].name);
        if (!known) {
            fprintf(stderr, "test_faults: no victim '%s'\n", argv[4]);
            return 2;
        }
        snprintf(filter, sizeof(filter), "test_fault_%s_*", argv[4]);
        cmocka_set_test_filter(filter);
    }
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, e2e_group_setup, e2e_group_teardown);
}
