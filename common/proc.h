/* SPDX-License-Identifier: MIT */
/*
 * proc - child processes that die with burette, and cancellation by SIGINT/SIGTERM
 *
 * Every program burette starts (QEMU, consomme, passt) goes through proc_spawn(): the child
 * gets PR_SET_PDEATHSIG (SIGKILL, or SIGTERM for a child that cleans up after itself) and a
 * process group of its own, so a burette that is killed outright takes it along, and proc_kill()
 * can end the child and anything it started with one kill(2) on the group. Only the file
 * descriptors a caller lists cross into the child: their close-on-exec flag is cleared in the child
 * alone, so descriptors opened concurrently for other purposes never leak into it.
 *
 * A child may also be started as another user (struct proc_spawn_opts.user: QEMU when burette
 * is root): the switch happens in the child before exec, with the parent-death signal armed
 * again after it (a credential change clears it) and the parent checked once more, since QEMU
 * has no way of its own to follow its parent.
 *
 * SIGINT and SIGTERM do not end burette at once: proc_signals_init() turns them into a
 * readable self-pipe and a flag, every wait in burette polls that pipe (proc_poll()), and the
 * run loop unwinds — powering guests off, killing and reaping children — before exiting with
 * 128 + the signal. A second signal exits at once; PR_SET_PDEATHSIG still takes the children.
 */
#ifndef BURETTE_PROC_H
#define BURETTE_PROC_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sandbox_user;

struct proc_spawn_opts {
    const char *const *argv; /* argv[0] is looked up in PATH */
    const int *keep_fds;     /* descriptors the child inherits, at the same numbers (> 2) */
    size_t n_keep_fds;
    int stdin_fd;  /* -1: /dev/null */
    int stdout_fd; /* -1: /dev/null */
    int stderr_fd; /* -1: /dev/null */
    /* What the child gets when burette dies: 0 is SIGKILL; SIGTERM for a child that cleans up
     * after itself (consomme removes its socket directory) and surely exits on it. */
    int death_signal;
    /* NULL: run as burette's user; else become this user before exec (burette is root). */
    const struct sandbox_user *user;
};

/**
 * proc_spawn() - Start a program in its own process group, dying with burette
 * @o:		What to run and which descriptors it gets
 * @pid:	Its pid (also its process group id) on success
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 once the program is running (exec succeeded), negative errno otherwise — an exec
 * failure (program not installed) or a failed user switch is reported here, not as an exit
 * status later.
 */
int proc_spawn(const struct proc_spawn_opts *o, pid_t *pid, char *err, size_t errlen);

/**
 * proc_pidfd() - A descriptor that polls readable when @pid exits (pidfd_open)
 *
 * Return: descriptor (close-on-exec), or negative errno
 */
int proc_pidfd(pid_t pid);

/**
 * proc_kill() - SIGKILL @pid's whole process group and reap @pid
 * @pid:	A child started by proc_spawn(); <= 0 is ignored
 * @status:	Its wait status, may be NULL
 */
void proc_kill(pid_t pid, int *status);

/**
 * proc_reap() - Reap @pid if it has exited, without blocking
 *
 * Return: 1 reaped (status in @status), 0 still running, negative errno
 */
int proc_reap(pid_t pid, int *status);

/**
 * proc_signals_init() - Route SIGINT and SIGTERM to the cancellation pipe
 *
 * Return: 0 or negative errno
 */
int proc_signals_init(void);

/**
 * proc_cancelled() - The signal that asked burette to stop, or 0
 */
int proc_cancelled(void);

/**
 * proc_cancel_reset() - Forget a recorded signal (tests)
 */
void proc_cancel_reset(void);

/**
 * proc_now_ms() - Monotonic time in milliseconds
 */
long long proc_now_ms(void);

/**
 * proc_poll() - poll(2) until an event, the deadline, or a cancelling signal
 * @fds:	Descriptors to wait on
 * @n:		How many
 * @deadline:	proc_now_ms() value to give up at; < 0 waits without limit
 *
 * Return: number of descriptors with events (> 0), -ETIMEDOUT, -ECANCELED after SIGINT/SIGTERM,
 * or another negative errno
 */
int proc_poll(struct pollfd *fds, size_t n, long long deadline);

/**
 * proc_status_str() - Describe a wait status: "exited with status 1", "killed by signal 9"
 * @status:	Wait status
 * @buf:	Output buffer
 * @len:	Its size
 *
 * Return: @buf
 */
const char *proc_status_str(int status, char *buf, size_t len);

/**
 * proc_capture() - Run a short program to its end and keep what it printed
 * @argv:	Program and arguments (argv[0] looked up in PATH)
 * @out:	Its stdout and stderr, NUL-terminated, cut at @len - 1 bytes
 * @len:	Size of @out (> 0)
 * @timeout_ms:	How long it may take; then it is killed
 *
 * For `--version` queries and the like: the child dies with burette like any other.
 *
 * Return: its wait status (>= 0), -ETIMEDOUT, -ECANCELED after SIGINT/SIGTERM, -ENOENT when
 * the program is not installed, or another negative errno
 */
int proc_capture(const char *const *argv, char *out, size_t len, int timeout_ms);

/**
 * proc_file_tail() - The last bytes of a child's log file, for an error message
 * @path:	The log file
 * @buf:	Output, NUL-terminated ("" if nothing could be read)
 * @len:	Its size (> 0)
 *
 * Return: number of bytes read into @buf (0 if the file is missing or empty)
 */
size_t proc_file_tail(const char *path, char *buf, size_t len);

/**
 * proc_log_tail() - A child's last words: the end of its log file as one line, for a message
 * @path:	The log file
 * @skip:	Lines holding this text are left out (noise around the program's own), or NULL
 * @buf:	"line / line / line": the last lines that fit, blank ones left out and leading
 *		blanks trimmed; "" if there are none
 * @len:	Its size (> 0)
 */
void proc_log_tail(const char *path, const char *skip, char *buf, size_t len);

/**
 * proc_how_ended() - How a child ended, in its own last words: "exited with status 1: LINE /
 * LINE" (proc_status_str(), then proc_log_tail() of @log when it says anything)
 * @status:	Its wait status
 * @log:	Its log file
 * @skip:	As proc_log_tail()'s
 * @buf:	The text
 * @len:	Its size (> 0)
 *
 * Return: @buf
 */
const char *proc_how_ended(int status, const char *log, const char *skip, char *buf, size_t len);

/**
 * proc_kill_how_ended() - proc_kill() a child that should be running but is not, and say how
 * it ended (proc_how_ended())
 * @pid:	The child; set to 0
 *
 * Return: @buf
 */
const char *proc_kill_how_ended(pid_t *pid, const char *log, const char *skip, char *buf,
                                size_t len);

#endif /* BURETTE_PROC_H */
