/* SPDX-License-Identifier: MIT */
/*
 * Support for the end-to-end and integration tests that drive the real `burette` binary:
 * starting it with its stderr on a pipe, reading that stderr, checking a report's metrics, and
 * proving that nothing burette started is left behind.
 *
 * Invariants: these are cmocka helpers, so a broken expectation fails the running test (with a
 * message saying what was found) rather than returning an error. "Left behind" is judged only
 * among our own descendants: a test calls prctl(PR_SET_CHILD_SUBREAPER) first, so whatever
 * burette started is either gone or has become our child. A process is identified by its pid
 * and its start time together, since pids are reused.
 */
#ifndef BURETTE_TESTS_E2E_H
#define BURETTE_TESTS_E2E_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/**
 * e2e_start() - start burette with its stderr on a pipe
 * @burette: path of the burette binary
 * @args: NULL-terminated arguments after "burette"
 * @path: replacement for PATH in the child, or NULL to keep ours
 * @errfd: set to the read end of burette's stderr
 *
 * stdin and stdout are /dev/null.
 *
 * Return: burette's pid.
 */
pid_t e2e_start(const char *burette, const char *const *args, const char *path, int *errfd);

/**
 * e2e_read_until() - read stderr until a text shows up
 * @fd: the stderr pipe
 * @needle: text to wait for, or NULL to read until EOF
 * @buf: text read so far (NUL-terminated), appended to; the oldest half is dropped when full
 * @len: size of @buf
 *
 * Return: true if @needle was seen, false on EOF or error first.
 */
bool e2e_read_until(int fd, const char *needle, char *buf, size_t len);

/**
 * e2e_read_some() - one read of what is there, appended to @buf as e2e_read_until() does
 * @fd: the stderr pipe
 * @buf: text read so far
 * @len: size of @buf
 *
 * Return: false on EOF or error (other than EINTR).
 */
bool e2e_read_some(int fd, char *buf, size_t len);

/**
 * e2e_expect() - e2e_read_until() @needle, failing the test if burette ends first
 * @what: what was waited for, for the message ("the first sub-test")
 */
void e2e_expect(int fd, const char *needle, char *buf, size_t len, const char *what);

/**
 * e2e_pause() - wait up to @ms for burette to write, reading what it writes, between two looks
 * at a condition (a process appears, a socket opens): polling for it, not sleeping; fails the
 * test if burette ends
 * @what: what is waited for, for the message ("its echo server started")
 */
void e2e_pause(int fd, int ms, char *buf, size_t len, const char *what);

/**
 * e2e_run() - run burette to its end
 * @burette: path of the burette binary
 * @args: NULL-terminated arguments after "burette"
 * @path: replacement for PATH, or NULL
 * @buf: burette's stderr (its last part if long)
 * @len: size of @buf
 *
 * Return: burette's wait status.
 */
int e2e_run(const char *burette, const char *const *args, const char *path, char *buf, size_t len);

/**
 * e2e_interrupt() - SIGINT burette, as Ctrl-C would, and fail unless it ends with 130
 * @pid: burette, started by e2e_start()
 * @errfd: its stderr pipe: read to EOF into @buf (as e2e_read_until() does), then closed
 * @buf: what burette said
 * @len: size of @buf
 */
void e2e_interrupt(pid_t pid, int errfd, char *buf, size_t len);

/**
 * e2e_find_result() - a report's result named @name
 * @results: the report's "results" array
 * @name: the metric's name
 *
 * Return: the result (borrowed), or NULL if there is none.
 */
json_t *e2e_find_result(json_t *results, const char *name);

/**
 * e2e_assert_positive_samples() - fail unless a metric has @n samples, all positive
 * @results: the report's "results" array
 * @name: the metric's name
 * @n: number of samples expected
 * @what: named in failure messages (a backend, a label)
 *
 * Return: the result (borrowed), for the caller's own further checks.
 */
json_t *e2e_assert_positive_samples(json_t *results, const char *name, size_t n, const char *what);

/**
 * e2e_assert_samples_match_iperf() - fail unless each sample of the network test's metrics is
 * what the iperf3 report kept for that iteration and direction says
 * @results: the report's "results" array
 * @logs: the run's log directory (network-K-SUBTEST-server|client.json)
 * @n: kept iterations, named 1..@n in the logs
 * @what: named in failure messages (a backend, a label)
 *
 * Worked out here from iperf3's own JSON, independently of burette's parser: tcp_tx is what the
 * host's server received, tcp_rx (-R) what the guest's client received, udp_tx_pps the
 * datagrams the receiver counted less the lost ones over its interval. A report whose tx and rx
 * were swapped, or whose samples came from the wrong iteration, fails.
 */
void e2e_assert_samples_match_iperf(json_t *results, const char *logs, size_t n, const char *what);

/**
 * e2e_assert_no_child() - fail if we have any child at all, even one that has exited
 *
 * For tests that check right after burette exits, with nothing allowed to linger.
 */
void e2e_assert_no_child(void);

/**
 * e2e_assert_no_running_child() - reap children that have exited, then fail if any is left
 *
 * For tests run as subreaper right after burette exits: its exited children are fine, one still
 * alive was left behind. No waiting.
 */
void e2e_assert_no_running_child(void);

/**
 * e2e_assert_no_children() - fail if a child of ours still runs after a bounded wait
 *
 * A process killed by PR_SET_PDEATHSIG or a group kill may take a moment to die after burette
 * is gone, so each child gets a bounded wait (10 s) on its pidfd; one still running then was
 * really left behind. Exited children are reaped.
 */
void e2e_assert_no_children(void);

/**
 * e2e_parent_of() - a process's parent pid and name, from /proc/PID/status
 * @pid: the process
 * @comm: set to its name if not NULL
 * @commlen: size of @comm
 *
 * Return: the parent's pid, 0 if @pid is gone.
 */
pid_t e2e_parent_of(pid_t pid, char *comm, size_t commlen);

/**
 * e2e_descendants() - @root and every process whose parent chain reaches it
 * @root: the first process
 * @out: the pids found, @root first
 * @max: room in @out
 *
 * Return: how many pids were stored.
 */
size_t e2e_descendants(pid_t root, pid_t *out, size_t max);

/**
 * e2e_net_ns_of() - the inode of a process's network namespace
 * @pid: the process
 *
 * Return: the inode, 0 if the process is gone.
 */
unsigned long e2e_net_ns_of(pid_t pid);

/**
 * e2e_start_time() - a process's start time (clock ticks after boot, /proc/PID/stat field 22)
 * @pid: the process
 *
 * Return: the start time, 0 if the process is gone.
 */
unsigned long long e2e_start_time(pid_t pid);

/**
 * e2e_now_ticks() - clock ticks since boot, the unit of e2e_start_time()
 *
 * Return: the ticks.
 */
unsigned long long e2e_now_ticks(void);

/**
 * e2e_ns_in_use() - whether a process that already existed at @before is in namespace @ino
 * @ino: a network namespace's inode
 * @before: clock ticks since boot
 *
 * Namespace inode numbers are reused once freed, so a process started later in a namespace
 * that got the same number is not counted.
 *
 * Return: true if such a process exists.
 */
bool e2e_ns_in_use(unsigned long ino, unsigned long long before);

/**
 * e2e_assert_gone() - fail if a recorded process is still there after a bounded wait
 * @pids: processes recorded while burette ran
 * @starts: their start times then (0: not recorded, skipped)
 * @n: how many
 *
 * A process still there (same pid, same start time) gets a bounded wait (10 s) on its pidfd;
 * one that stays is a leftover. Those that came to us are reaped, as are all exited children.
 */
void e2e_assert_gone(const pid_t *pids, const unsigned long long *starts, size_t n);

/**
 * e2e_count_prefixed() - fail unless @dir can be read; how many of its entries' names start
 * with @prefix (what a run left behind, e.g. burette-consomme-XXXXXX)
 */
size_t e2e_count_prefixed(const char *dir, const char *prefix);

/**
 * e2e_remove_tree() - remove a directory and all below it (links are not followed)
 * @path: the directory
 *
 * Return: 0, or -1 with errno set if @path itself could not be removed.
 */
int e2e_remove_tree(const char *path);

/**
 * e2e_sigterm_when_child_runs() - SIGTERM this process as soon as a child of it runs whose name
 * starts with @comm_prefix and, unless @arg is NULL, that has @arg among its arguments
 * @comm_prefix: the start of the child's name (/proc/PID/comm), e.g. "qemu-system"
 * @arg: an argument it must have, e.g. "-kernel" for the QEMU that boots the guest (not the one
 *       asked for its --version), or NULL
 *
 * For tests of cancellation at a given stage: the signal follows an observable state instead
 * of a timer's guess about how far the run has got. A watcher thread looks for the child every
 * 10 ms, for two minutes at most (then it gives up, and the test's own checks fail).
 */
void e2e_sigterm_when_child_runs(const char *comm_prefix, const char *arg);

/* A test program's temporary directory, made by e2e_group_setup(). */
extern char e2e_tmpdir[];

/**
 * e2e_group_setup() - cmocka group setup of the end-to-end tests: become a child subreaper, so
 * that whatever burette leaves running becomes ours and shows up in the checks, and make
 * e2e_tmpdir
 *
 * Return: 0, or -1 if the directory could not be made.
 */
int e2e_group_setup(void **state);

/* e2e_group_teardown() - cmocka group teardown: remove e2e_tmpdir and all below it */
int e2e_group_teardown(void **state);

#endif
