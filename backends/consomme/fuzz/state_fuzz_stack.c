/* SPDX-License-Identifier: MIT */
/*
 * state_fuzz_stack.c - consomme_state_fuzz's ops beyond the TCP and UDP model
 *
 * What reaches the rest of consomme from one target: vhost-user sessions (called directly, or
 * sent by a front-end over consomme's own socket), virtqueue walks, --stats written every way,
 * and turns of consomme's own loop with its signals and a CMD child. Each op leaves the stack
 * as the model expects it afterwards (the guest MAC, the transport), so TCP and UDP ops that
 * follow still check what they check.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "core.h"
#include "fd.h"
#include "fuzz_vu.h"
#include "state_fuzz.h"

void op_bytes(struct input *in, void (*fn)(const uint8_t *p, size_t n))
{
    size_t len = u16(in);

    if (len > in->n)
        len = in->n;
    fn(in->p, len);
    in->p += len;
    in->n -= len;
}

void vu_session(const uint8_t *p, size_t n)
{
    /* the data path of the session may meet the model's connections: its frames go to the
     * device, and the guest MAC it brings is the model's again afterwards */
    fuzz_vu_session(stack, &vu_guest, p, n);
    memcpy(stack->guest_mac, guest_mac, sizeof(guest_mac));
}

/* Run what consomme's loop has to do now (the vhost-user socket, kicks), with no wait. */
static void loop_events(void)
{
    struct epoll_event ev[16];
    int n;

    for (int round = 0; round < 16 && !stack->stop; round++) {
        n = epoll_wait(stack->events.epfd, ev, 16, 0);
        if (n <= 0)
            break;
        cm_events_dispatch(stack, ev, n);
    }
}

/* A vhost-user session as QEMU holds it: consomme listens at a path, the front-end connects
 * and sends the session's messages (fuzz_vu.h's format) over the socket, with the descriptors
 * they carry as SCM_RIGHTS, reading the replies; the loop handles each as it comes, kicks
 * included. @end: 0 the front-end closes (an orderly end), 1 it stops halfway through a
 * header, 2 it announces a payload too large to be one, 3 the session stays open until the
 * device is freed. The stack is left as it was. */
void op_vhost_sock(struct input *in)
{
    static uint8_t buf[12 + VU_PAYLOAD_MAX], reply[256];
    const struct fuzz_vu_saved saved = fuzz_vu_save(stack);
    enum cm_transport_kind kind = stack->kind;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    uint8_t end = u8(in) % 4;
    size_t size = u16(in);
    const uint8_t *data = in->p;
    char err[ERRBUF_LEN];
    int fd;

    if (size > in->n)
        size = in->n;
    in->p += size;
    in->n -= size;
    if (!fuzz_vu_mem_load(&vu_guest, &data, &size))
        return;

    if (cm_transport_vhost_user(stack, vu_path, err, sizeof(err)))
        die(err);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", vu_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
        die("cannot connect to consomme's vhost-user socket");
    loop_events();
    while (!stack->stop) {
        int fds[VU_MAX_FDS];
        union {
            char buf[FD_RIGHTS_SPACE(VU_MAX_FDS)];
            struct cmsghdr align;
        } cbuf;
        struct vu_msg m;
        struct iovec iov = {.iov_base = buf};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        size_t nfds;

        if (!fuzz_vu_next_msg(&data, &size, &m))
            break;
        put_le32(buf, m.request);
        put_le32(buf + 4, m.flags);
        put_le32(buf + 8, m.size);
        memcpy(buf + 12, m.payload, m.size);
        iov.iov_len = 12 + m.size;
        nfds = fuzz_vu_fds_for(&vu_guest, &m, fds);
        fd_attach_rights(&mh, cbuf.buf, fds, nfds);
        /* a message is small and consomme reads each before the next: this never blocks */
        if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            size = 0;
        for (size_t i = 0; i < nfds; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        loop_events();
        while (recv(fd, reply, sizeof(reply), MSG_DONTWAIT) > 0)
            ;
    }
    if (!stack->stop && end < 3) {
        if (end == 1)
            send(fd, buf, 5, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (end == 2) {
            put_le32(buf + 8, VU_PAYLOAD_MAX + 1);
            send(fd, buf, 12, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        shutdown(fd, SHUT_WR);
        loop_events();
    }
    close(fd);
    stack->tr->free(stack);
    unlink(vu_path);
    fuzz_vu_restore(stack, &saved);
    stack->kind = kind;
    stack->exit_code = 0;
    memcpy(stack->guest_mac, guest_mac, sizeof(guest_mac));
}

/* --stats: written whole at exit (temporary file and rename), in place on SIGUSR1 through the
 * descriptor opened before the sandbox, or left pending while a reader holds its lock. */
void op_stats(struct input *in)
{
    uint8_t mode = u8(in);
    char err[ERRBUF_LEN];
    int reader = -1;

    switch (mode % 4) {
    case 0:
        cm_stats_write(stack, stats_path, err, sizeof(err));
        break;
    case 1: /* a directory that is not there: the error, and nothing left behind */
        cm_stats_write(stack, "/proc/self/fdinfo/no/such/dir/stats.json", err, sizeof(err));
        break;
    case 2:
    case 3:
        /* a dump an earlier op left pending has its descriptor still: one at a time, as
         * consomme holds one (it leaked one per such op, and an hour ran out of them) */
        fd_close(&stack->stats_fd);
        stack->stats_pending = false;
        stack->stats_fd = open(stats_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (stack->stats_fd < 0)
            break;
        if (mode % 4 == 3) {
            reader = open(stats_path, O_RDONLY | O_CLOEXEC);
            if (reader >= 0)
                flock(reader, LOCK_SH);
        }
        cm_stats_update(stack, err, sizeof(err));
        if (reader >= 0)
            close(reader);
        /* a pending dump is retried by the loop (OP_RUN) while this input lasts */
        if (!stack->stats_pending) {
            close(stack->stats_fd);
            stack->stats_fd = -1;
        }
        break;
    }
}

/* One turn of cm_run(): the signals it takes through its signalfd are blocked and raised
 * first, SIGTERM last so that the loop ends after the turn; none is left pending after it.
 * Mode bits: 1 SIGUSR1 (a --stats dump), 2 a SIGCHLD of no child, 4 the on-connected hook,
 * 8 and 128 a CMD child that has exited, to which consomme passes the SIGTERM (with 16, as a
 * second request: SIGKILL) before it reaps it; 32 the guest first sends a frame longer than any
 * (stream) or a zero-length one (TAP), 64 the guest then shuts its end. */
void op_run(struct input *in)
{
    uint8_t mode = u8(in);
    char err[ERRBUF_LEN];
    sigset_t old, set;
    struct timespec zero = {0};

    if (cm_signals_block(&old))
        return;
    if (guest_fd >= 0 && (mode & 32)) {
        static const uint8_t too_long[8] = {0xff, 0xff, 0xff, 0xf0, 1, 2, 3, 4};

        (void)!write(guest_fd, too_long, tr_kind == TR_TAP ? 0 : sizeof(too_long));
    }
    if (guest_fd >= 0 && (mode & 64))
        shutdown(guest_fd, SHUT_WR);
    if ((mode & 0x88) == 0x88) {
        /* The kernel's SIGCHLD is for the process, and the fuzzer's own thread (which does not
         * block it) would take it: once the child is a zombie the SIGCHLD is raised for this
         * thread, as the one thread of consomme would see it. */
        pid_t pid = vfork(); /* the child only exits: no copy of the fuzzer's memory */
        siginfo_t si;

        if (pid == 0)
            _exit(3);
        if (pid > 0 && !waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT)) {
            stack->child = pid;
            stack->stop_requests = (mode >> 4) & 1; /* a second SIGTERM: SIGKILL */
            raise(SIGCHLD);
        }
    }
    if (mode & 1)
        raise(SIGUSR1);
    if (mode & 2)
        raise(SIGCHLD);
    raise(SIGTERM);
    stack->on_connected_at_start = mode & 4;
    cm_run(stack, err, sizeof(err));
    if (stack->child > 0) { /* the loop stopped on an error first: no child is left behind */
        kill(stack->child, SIGKILL);
        waitpid(stack->child, NULL, 0);
        stack->child = 0;
    }
    if (stack->sig_ev.fd >= 0) {
        cm_event_del(stack, &stack->sig_ev);
        close(stack->sig_ev.fd);
        stack->sig_ev.fd = -1;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    while (sigtimedwait(&set, NULL, &zero) > 0)
        ;
    sigprocmask(SIG_SETMASK, &old, NULL);
    stack->stop = false;
    stack->exit_code = 0;
    if (stack->stats_pending) {
        stack->stats_pending = false;
        close(stack->stats_fd);
        stack->stats_fd = -1;
    }
}
