/* SPDX-License-Identifier: MIT */
/*
 * iperf_job - libiperf servers and clients in child processes of the helper; see iperf_job.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iperf_api.h>
#include <jansson.h>

#include "child.h"
#include "clock.h"
#include "echo_server.h"
#include "errbuf.h"
#include "fd.h"
#include "iperf_job.h"

#define OUT_MAX (16u << 20) /* an iperf3 report is tens of KiB; refuse absurd ones */

static void report(int fd, const char *json, const char *error)
{
    json_t *o = json_object();
    char *text;

    if (json)
        json_object_set_new(o, "json", json_string(json));
    if (error)
        json_object_set_new(o, "error", json_string(error));
    text = json_dumps(o, JSON_COMPACT);
    if (text)
        child_write_all(fd, text, strlen(text));
    free(text);
    json_decref(o);
}

/*
 * The child: runs one libiperf test and reports on fd 3. Never returns. libiperf may exit()
 * on its own; the helper then sees the pipe close without a report and uses the stderr text.
 */
static void __attribute__((noreturn)) job_child(const struct iperf_job_params *p)
{
    const char *role = p->server ? "server" : "client", *e;
    struct iperf_test *t;
    json_t *parsed;
    char msg[512], *out;
    int rc;

    t = iperf_new_test();
    if (!t || iperf_defaults(t) < 0) {
        report(3, NULL, "cannot create an iperf3 test (out of memory)");
        _exit(1);
    }
    iperf_set_test_json_output(t, 1);
    iperf_set_test_server_port(t, (int)p->port);
    if (p->server) {
        iperf_set_test_role(t, 's');
        iperf_set_test_one_off(t, 1);
        if (p->addr[0])
            iperf_set_test_bind_address(t, p->addr);
        rc = iperf_run_server(t);
    } else {
        iperf_set_test_role(t, 'c');
        iperf_set_test_server_hostname(t, p->addr);
        iperf_set_test_duration(t, (int)p->client.duration_s);
        iperf_set_test_num_streams(t, (int)(p->client.streams ? p->client.streams : 1));
        iperf_set_test_reverse(t, p->client.reverse);
        if (p->client.udp) {
            set_protocol(t, Pudp);
            /* 0: let libiperf size datagrams from the path MTU, as `iperf3 -u` does */
            iperf_set_test_blksize(t, 0);
        }
        iperf_set_test_rate(t, p->client.bitrate);
        rc = iperf_run_client(t);
    }
    out = iperf_get_test_json_output_string(t);
    if (rc < 0) {
        snprintf(msg, sizeof(msg), "iperf3 %s: %s", role, iperf_strerror(i_errno));
        report(3, out, msg);
        _exit(1);
    }
    if (!out) {
        snprintf(msg, sizeof(msg), "iperf3 %s finished without JSON output", role);
        report(3, NULL, msg);
        _exit(1);
    }
    /* In JSON mode libiperf returns 0 on failures too and puts iperf3's message in "error". */
    parsed = json_loads(out, 0, NULL);
    e = json_string_value(json_object_get(parsed, "error"));
    if (e) {
        snprintf(msg, sizeof(msg), "iperf3 %s: %s", role, e);
        report(3, out, msg);
        _exit(1);
    }
    report(3, out, NULL);
    /* No iperf_free_test(): the process ends here and the kernel frees everything at once. */
    _exit(0);
}

int iperf_job_start(struct iperf_job *job, const struct iperf_job_params *p, char *err,
                    size_t errlen)
{
    int outp[2] = {-1, -1}, diagp[2] = {-1, -1}, ctlp[2] = {-1, -1};
    pid_t pid;
    int rc = 0;

    job->pid = 0;
    job->status = 0;
    job->out_fd = job->diag_fd = job->ctl_fd = -1;
    job->out = NULL;
    job->outlen = job->diaglen = 0;
    job->listening = job->cancelled = false;
    job->listen_cpu_ms = 0; /* a client has no start-up to leave out */
    job->end_cpu_ms = -1;
    job->p = *p;
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(diagp, O_CLOEXEC) < 0 ||
        (p->echo && pipe2(ctlp, O_CLOEXEC) < 0)) {
        rc = errbuf_set(err, errlen, -errno, "pipe: %s", strerror(errno));
        goto out;
    }
    pid = child_fork();
    if (pid < 0) {
        rc = errbuf_set(err, errlen, -errno, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);

        signal(SIGPIPE, SIG_IGN);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(diagp[1], 2) < 0 ||
            dup2(outp[1], 3) < 0 || (p->echo && dup2(ctlp[0], 4) < 0))
            _exit(1);
        close_range(p->echo ? 5 : 4, ~0u, 0);
        if (p->echo)
            echo_server_main(p->addr, p->port, p->close_after, 3, 4);
        job_child(p);
    }
    job->pid = pid;
    job->started_ms = clock_now_ms();
    job->out_fd = outp[0];
    job->diag_fd = diagp[0];
    job->ctl_fd = ctlp[1];
    outp[0] = diagp[0] = ctlp[1] = -1;
    fcntl(job->out_fd, F_SETFL, O_NONBLOCK);
    fcntl(job->diag_fd, F_SETFL, O_NONBLOCK);
out:
    for (int i = 0; i < 2; i++) {
        fd_close(&outp[i]);
        fd_close(&diagp[i]);
        fd_close(&ctlp[i]);
    }
    return rc;
}

/* Drain @fd; returns 1 at EOF (fd closed and set to -1), 0 if it would block. */
static int drain(int *fd, struct iperf_job *job, bool is_out)
{
    char buf[16384];

    while (*fd >= 0) {
        ssize_t n = read(*fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0) {
            fd_close(fd);
            return 1;
        }
        if (is_out) {
            char *grown;

            if (job->outlen + (size_t)n > OUT_MAX)
                continue; /* keep reading so the child is never blocked; report is refused */
            grown = realloc(job->out, job->outlen + (size_t)n + 1);
            if (!grown)
                return -ENOMEM;
            job->out = grown;
            memcpy(job->out + job->outlen, buf, (size_t)n);
            job->outlen += (size_t)n;
            job->out[job->outlen] = '\0';
        } else {
            /* keep the last words: the tail is where an error message is */
            size_t room = sizeof(job->diag) - 1;

            if ((size_t)n >= room) {
                memcpy(job->diag, buf + n - room, room);
                job->diaglen = room;
            } else {
                if (job->diaglen + (size_t)n > room) {
                    size_t drop = job->diaglen + (size_t)n - room;

                    memmove(job->diag, job->diag + drop, job->diaglen - drop);
                    job->diaglen -= drop;
                }
                memcpy(job->diag + job->diaglen, buf, (size_t)n);
                job->diaglen += (size_t)n;
            }
            job->diag[job->diaglen] = '\0';
        }
    }
    return 1;
}

int iperf_job_pump(struct iperf_job *job)
{
    int status, rc;

    rc = drain(&job->out_fd, job, true);
    if (rc < 0)
        return rc;
    rc = drain(&job->diag_fd, job, false);
    if (rc < 0)
        return rc;
    if (job->out_fd >= 0 || job->diag_fd >= 0)
        return 0;
    if (job->pid > 0) {
        struct rusage ru;
        pid_t got;

        while ((got = wait4(job->pid, &status, 0, &ru)) < 0 && errno == EINTR)
            ;
        job->status = status;
        job->pid = 0;
        if (got > 0)
            job->end_cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
                              (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
    }
    return 1;
}

void iperf_job_note_listening(struct iperf_job *job)
{
    struct timespec ts;
    clockid_t clk;

    job->listening = true;
    /* the child's own CPU clock: no /proc parsing, and the child is ours to read */
    if (job->pid > 0 && !clock_getcpuclockid(job->pid, &clk) && !clock_gettime(clk, &ts))
        job->listen_cpu_ms = (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
    else
        job->listen_cpu_ms = -1;
}

double iperf_job_cpu_ms(const struct iperf_job *job)
{
    if (job->end_cpu_ms < 0 || job->listen_cpu_ms < 0)
        return -1;
    /* two clocks of one process; the later one can only be larger, up to rounding */
    return job->end_cpu_ms > job->listen_cpu_ms ? job->end_cpu_ms - job->listen_cpu_ms : 0;
}

static void describe_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
        /* the helper's filter (helper_sandbox.c), inherited: the kernel log is not ours to
         * read from in here, so the user is told where the call is named */
        snprintf(buf, len,
                 "was killed by the helper's seccomp sandbox (SIGSYS): it made a system call "
                 "the allow-list does not permit ('dmesg | grep type=1326' as root names it). "
                 "This is a bug in burette: please report it with that line");
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "ended");
}

const char *iperf_job_what(const struct iperf_job *job)
{
    if (job->p.echo)
        return "echo server";
    return job->p.server ? "iperf3 server" : "iperf3 client";
}

int iperf_job_finish(struct iperf_job *job)
{
    if (!job->p.echo)
        return -EINVAL;
    if (job->ctl_fd >= 0)
        close(job->ctl_fd);
    job->ctl_fd = -1;
    return 0;
}

int iperf_job_outcome(struct iperf_job *job, char **json, char *err, size_t errlen)
{
    const char *role = iperf_job_what(job);
    json_t *o = NULL, *j, *e;
    char how[384];
    int rc;

    *json = NULL;
    describe_status(job->status, how, sizeof(how));
    if (job->cancelled) {
        rc = errbuf_set(err, errlen, -ECANCELED, "%s cancelled on request", role);
        goto out;
    }
    if (job->outlen)
        o = json_loadb(job->out, job->outlen, 0, NULL);
    if (!o || !json_is_object(o)) {
        /* The child ended without a report: libiperf exit()ed or the child was killed. */
        char *d = job->diag;

        while (job->diaglen && (d[job->diaglen - 1] == '\n' || d[job->diaglen - 1] == ' '))
            d[--job->diaglen] = '\0';
        rc = errbuf_set(err, errlen, -EIO, "%s process %s without a result%s%s", role, how,
                        job->diaglen ? ": " : "", job->diaglen ? d : "");
        goto out;
    }
    e = json_object_get(o, "error");
    j = json_object_get(o, "json");
    if (json_is_string(e)) {
        rc = errbuf_set(err, errlen, -EIO, "%s", json_string_value(e));
        goto out;
    }
    if (!json_is_string(j)) {
        rc = errbuf_set(err, errlen, -EIO, "%s %s with an empty report", role, how);
        goto out;
    }
    *json = strdup(json_string_value(j));
    rc = *json ? 0 : errbuf_set(err, errlen, -ENOMEM, "out of memory");
out:
    json_decref(o);
    return rc;
}

void iperf_job_kill(struct iperf_job *job)
{
    if (job->pid > 0)
        kill(job->pid, SIGKILL);
}

void iperf_job_release(struct iperf_job *job)
{
    if (job->pid > 0) {
        kill(job->pid, SIGKILL);
        while (waitpid(job->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    job->pid = 0;
    fd_close(&job->out_fd);
    fd_close(&job->diag_fd);
    fd_close(&job->ctl_fd);
    free(job->out);
    job->out = NULL;
    job->outlen = 0;
}

/* Dump TCP listeners of @family on @port; 1 if one has an inode in @inodes. */
static int diag_listening(int family, unsigned port, const unsigned long *inodes, size_t ninodes)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
    } q = {
        .nlh = {.nlmsg_len = sizeof(q),
                .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
        .req = {.sdiag_family = (unsigned char)family,
                .sdiag_protocol = IPPROTO_TCP,
                .idiag_states = 1u << TCP_LISTEN},
    };
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    static char buf[32768];
    int fd, found = 0, rc = 0;

    fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0)
        return -errno;
    if (sendto(fd, &q, sizeof(q), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = -errno;
        goto out;
    }
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        struct nlmsghdr *h;

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            goto out;
        }
        for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            struct inet_diag_msg *m;

            if (h->nlmsg_type == NLMSG_DONE)
                goto out;
            if (h->nlmsg_type == NLMSG_ERROR) {
                rc = -EIO;
                goto out;
            }
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
                continue;
            m = NLMSG_DATA(h);
            if (ntohs(m->id.idiag_sport) != port)
                continue;
            for (size_t i = 0; i < ninodes; i++)
                if (m->idiag_inode == inodes[i])
                    found = 1;
        }
    }
out:
    close(fd);
    return rc ? rc : found;
}

int iperf_listener_ready(pid_t pid, unsigned port)
{
    unsigned long inodes[64];
    size_t n = fd_socket_inodes(pid, inodes, 64);
    int rc;

    if (!n)
        return 0;
    rc = diag_listening(AF_INET, port, inodes, n);
    if (rc == 0)
        rc = diag_listening(AF_INET6, port, inodes, n);
    return rc;
}
