/* SPDX-License-Identifier: MIT */
/*
 * perf - `perf record -g` traces of burette's own children, one per sub-test (--perf-dir)
 *
 * With `burette run --perf-dir DIR` each sub-test of each iteration is recorded, once per
 * process that moves the packets (QEMU, and consomme or passt where the backend runs one), to
 * DIR/<subtest>-<iteration>.<process>.data, as OpenVMM burette does, so whoever optimises sees
 * where the time went. perf_check() runs before anything boots: a missing perf, or a kernel
 * that does not let this user profile (kernel.perf_event_paranoid), is a clear error then and
 * never halfway through a run.
 *
 * A recording starts with its events disabled and is enabled through perf's control pipe;
 * perf_session_start() returns only after every perf acknowledged that, so the sub-test that
 * follows is recorded from its first packet without any fixed delay. perf_session_stop()
 * sends SIGINT (perf then writes its file) and waits for each perf. Every perf runs through
 * proc_spawn(): its own process group, PR_SET_PDEATHSIG, killed and reaped on any failure.
 */
#ifndef BURETTE_PERF_H
#define BURETTE_PERF_H

#include <stddef.h>
#include <sys/types.h>

/* One process to record: what it is (file name part, e.g. "qemu") and its pid. */
struct perf_target {
    const char *what;
    pid_t pid;
};

#define PERF_MAX_TARGETS 4

struct perf_session;

/**
 * perf_check() - Make sure recordings into @dir can work, before the run starts
 * @dir:	The --perf-dir directory; created if missing (its parent must exist)
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Checks that @dir is a writable directory, that the kernel lets this process open perf
 * events on its own children (kernel.perf_event_paranoid), and that the perf program runs.
 *
 * Return: 0, or negative errno with a message naming the cause and the fix
 */
int perf_check(const char *dir, char *err, size_t errlen);

/**
 * perf_check_process() - Make sure the kernel lets us record @pid, before the run starts
 * @pid:	A process burette started (the backend's)
 * @what:	What it is, for the message, e.g. "passt"
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * A process of our own user can still refuse: passt, for one, makes itself non-dumpable in
 * its sandbox (moments after it reports ready), and then only a profiler with CAP_PERFMON or
 * CAP_SYS_PTRACE may attach. Call it once the process is set up, before the first sub-test.
 *
 * Return: 0, or negative errno with a message naming the cause and the fix
 */
int perf_check_process(pid_t pid, const char *what, char *err, size_t errlen);

/**
 * perf_session_start() - Start recording @targets, return once every recording is enabled
 * @out:	The running session on success
 * @dir:	Where the data files go (checked by perf_check())
 * @log_dir:	Where each perf's own messages go, as <label>.<what>.perf.log
 * @label:	File name stem, e.g. "tcp_tx-1"
 * @targets:	Processes to record; a target with pid <= 0 is skipped
 * @n:		How many (at most PERF_MAX_TARGETS)
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0, -ECANCELED on SIGINT/SIGTERM, or negative errno (message quotes perf's own
 * words); on failure no perf is left running
 */
int perf_session_start(struct perf_session **out, const char *dir, const char *log_dir,
                       const char *label, const struct perf_target *targets, size_t n, char *err,
                       size_t errlen);

/**
 * perf_session_stop() - Stop every recording of @s, wait for the data files, free @s
 * @s:		Session; NULL is ignored
 * @err:	Error buffer of @errlen bytes, may be NULL when the caller is already failing
 * @errlen:	Size of @err
 *
 * Also used on failure and after SIGINT: perf still gets its SIGINT and a bounded time to
 * write, then is killed.
 *
 * Return: 0, or negative errno when a perf failed or had to be killed (message in @err)
 */
int perf_session_stop(struct perf_session *s, char *err, size_t errlen);

#endif /* BURETTE_PERF_H */
