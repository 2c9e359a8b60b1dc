/* SPDX-License-Identifier: MIT */
/*
 * transport.c - frames to and from the guest: QEMU's stream socket or a TAP fd
 *
 * Protocol code never sees which one is in use. Both directions go through one large buffer:
 *
 * - In: the stream is read in large chunks (many frames per read()); complete frames are
 *   dispatched in place, then the partial tail is moved to the front. A TAP fd gives one frame
 *   per read(), so a wakeup reads frames back to back until EAGAIN or the buffer is full. Either
 *   way one wakeup is one batch for the protocol handlers.
 * - Out: frames are appended to a queue, each behind a 4-byte big-endian length, which is
 *   exactly the stream format, so the stream is written with one write() for many frames. For
 *   TAP the prefix tells where each frame ends. When the queue cannot take a frame, senders get
 *   NULL (-ENOBUFS) and c->guest_blocked is set; the loop calls tcp_guest_writable() once
 *   half of it is free (queue_writable()). These are the reserve/commit/flush/writable of
 *   cm_queue_ops (transport.h), which is also the default before any transport is chosen:
 *   then frames are built and dropped at the flush (tests, fuzzing).
 *
 * A stream length prefix beyond the largest frame cannot be resynchronised from, but its bytes
 * can be skipped; they are, and counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "core.h"
#include "errbuf.h"

#define IBUF_SIZE       (4u << 20)
#define OBUF_SIZE       (4u << 20)
#define FLUSH_THRESHOLD (256u << 10)
#define STREAM_READS    8   /* reads per wakeup before others get a turn */
#define TAP_FRAMES      256 /* frames per wakeup */
#define SOCK_BUF        (4 << 20)

/**
 * cm_transport_init_buffers() - Allocate the in and out buffers
 * @c:		Stack
 *
 * Return: 0 or -ENOMEM
 */
int cm_transport_init_buffers(struct consomme *c)
{
    c->ibuf_size = IBUF_SIZE + CM_FRAME_IN_MAX + 8;
    c->obuf_size = OBUF_SIZE;
    c->ibuf = malloc(c->ibuf_size);
    c->obuf = malloc(c->obuf_size);
    if (!c->ibuf || !c->obuf)
        return -ENOMEM;
    return 0;
}

/**
 * cm_transport_free() - Close the transport and free its buffers
 * @c:		Stack
 */
void cm_transport_free(struct consomme *c)
{
    if (c->tr && c->tr->free)
        c->tr->free(c);
    if (c->tr_ev.fd >= 0)
        close(c->tr_ev.fd);
    if (c->listen_ev.fd >= 0) {
        close(c->listen_ev.fd);
        unlink(c->listen_path);
    }
    c->tr_ev.fd = c->listen_ev.fd = -1;
    free(c->ibuf);
    free(c->obuf);
    c->ibuf = c->obuf = NULL;
}

static void set_out_interest(struct consomme *c)
{
    uint32_t want = EPOLLIN | (c->obuf_tail != c->obuf_head ? EPOLLOUT : 0);

    if (c->tr_ev.fd >= 0 && want != c->tr_events) {
        if (!cm_event_mod(c, &c->tr_ev, want))
            c->tr_events = want;
    }
}

/**
 * cm_guest_gone() - The guest's side of the transport ended: stop the loop
 * @c:		Stack
 * @rc:		0 for an orderly end (QEMU closed it), else the negative errno that broke it
 */
void cm_guest_gone(struct consomme *c, int rc)
{
    c->stop = true;
    if (rc) {
        c->exit_code = 1;
        errbuf_set(c->errmsg, sizeof(c->errmsg), rc, "connection to the guest failed: %s",
                   strerror(-rc));
    }
}

/* Write as much of the queue as the socket or TAP fd takes; negative errno when it failed. */
static int queue_flush(struct consomme *c)
{
    if (c->kind == CM_TRANSPORT_NONE || c->tr_ev.fd < 0) {
        c->obuf_head = c->obuf_tail = 0;
        return 0;
    }
    while (c->obuf_head < c->obuf_tail) {
        ssize_t n;

        if (c->kind == CM_TRANSPORT_STREAM) {
            n = write(c->tr_ev.fd, c->obuf + c->obuf_head, c->obuf_tail - c->obuf_head);
            if (n > 0) {
                c->obuf_head += (size_t)n;
                continue;
            }
        } else {
            uint32_t len = get_be32(c->obuf + c->obuf_head);
            n = write(c->tr_ev.fd, c->obuf + c->obuf_head + 4, len);
            if (n >= 0 || (errno != EAGAIN && errno != EINTR)) {
                /* A TAP write fails per frame (e.g. EINVAL); it never blocks the rest. */
                if (n < 0)
                    cm_drop(c, CM_DROP_GUEST_WRITE);
                c->obuf_head += 4 + len;
                continue;
            }
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        cm_guest_gone(c, n < 0 ? -errno : -EPIPE);
        c->obuf_head = c->obuf_tail;
        break;
    }
    if (c->obuf_head == c->obuf_tail)
        c->obuf_head = c->obuf_tail = 0;
    set_out_interest(c);
    return c->stop && c->exit_code ? -EPIPE : 0;
}

/* Room for one frame of @len bytes at the end of the queue, or NULL when it is full. */
static uint8_t *queue_reserve(struct consomme *c, size_t len)
{
    size_t need = 4 + len;

    if (c->obuf_size - c->obuf_tail < need) {
        queue_flush(c);
        if (c->obuf_head > 0) {
            memmove(c->obuf, c->obuf + c->obuf_head, c->obuf_tail - c->obuf_head);
            c->obuf_tail -= c->obuf_head;
            c->obuf_head = 0;
        }
        if (c->obuf_size - c->obuf_tail < need)
            return NULL;
    }
    return c->obuf + c->obuf_tail + 4;
}

/* Queue the frame written at queue_reserve()'s pointer; write out a large enough queue. No
 * super-frames here (out_tso_max stays 0): neither QEMU's stream nor our TAP fd carries a
 * virtio-net header. */
static void queue_commit(struct consomme *c, size_t len, const struct cm_tso *tso)
{
    put_be32(c->obuf + c->obuf_tail, (uint32_t)len);
    c->obuf_tail += 4 + len;
    if (c->obuf_tail - c->obuf_head >= FLUSH_THRESHOLD)
        queue_flush(c);
}

/* Wake blocked senders only when half the queue is free, so tcp.c does not bounce between
 * -ENOBUFS and writable one frame at a time. */
static bool queue_writable(const struct consomme *c)
{
    return c->obuf_tail - c->obuf_head <= c->obuf_size / 2;
}

const struct cm_transport_ops cm_queue_ops = {
    .name = "queue",
    .reserve = queue_reserve,
    .commit = queue_commit,
    .flush = queue_flush,
    .writable = queue_writable,
};

/**
 * cm_stream_parse() - Dispatch the complete length-prefixed frames at the start of @buf
 * @c:		Stack
 * @buf:	Stream bytes, starting at a frame boundary (or inside a frame being skipped)
 * @len:	Bytes at @buf
 *
 * Return: bytes consumed; the rest is an incomplete frame to keep for the next read
 */
size_t cm_stream_parse(struct consomme *c, uint8_t *buf, size_t len)
{
    size_t off = 0;

    if (c->ibuf_skip) {
        size_t k = c->ibuf_skip < len ? (size_t)c->ibuf_skip : len;
        c->ibuf_skip -= k;
        off = k;
    }
    cm_frames_input_begin(c);
    while (len - off >= 4) {
        uint32_t flen = get_be32(buf + off);

        if (flen > CM_FRAME_IN_MAX) {
            c->st.frames_in++;
            cm_drop(c, CM_DROP_FRAME_TOO_LONG);
            off += 4;
            size_t k = flen < len - off ? flen : len - off;
            off += k;
            c->ibuf_skip = flen - k;
            continue;
        }
        if (len - off - 4 < flen)
            break;
        cm_frame_input(c, buf + off + 4, flen);
        off += 4 + flen;
    }
    cm_frames_input_end(c);
    return off;
}

/*
 * read() from the guest's descriptor, again after EINTR. End of file (a stream closed; a TAP
 * fd never reads 0, a message socket standing in for one does) or an error other than EAGAIN
 * means the guest is gone: cm_guest_gone() is called.
 *
 * Return: bytes read, 0 when there is nothing more to read now or the guest is gone
 */
static size_t guest_read(struct consomme *c, int fd, uint8_t *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(fd, buf, len);

        if (n > 0)
            return (size_t)n;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            cm_guest_gone(c, 0);
        else if (errno != EAGAIN)
            cm_guest_gone(c, -errno);
        return 0;
    }
}

static void stream_event(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    if (events & EPOLLOUT)
        queue_flush(c);
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    for (int i = 0; i < STREAM_READS && !c->stop; i++) {
        size_t space = c->ibuf_size - c->ibuf_len, used;
        size_t n = guest_read(c, ev->fd, c->ibuf + c->ibuf_len, space);

        if (!n)
            return;
        c->ibuf_len += n;
        used = cm_stream_parse(c, c->ibuf, c->ibuf_len);
        memmove(c->ibuf, c->ibuf + used, c->ibuf_len - used);
        c->ibuf_len -= used;
        if (n < space)
            return; /* drained */
    }
}

static void tap_event(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    size_t off[TAP_FRAMES], len[TAP_FRAMES];
    size_t pos = 2; /* so IPv4 headers start 4-byte aligned */
    int n = 0;

    if (events & EPOLLOUT)
        queue_flush(c);
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    while (n < TAP_FRAMES && c->ibuf_size - pos >= CM_FRAME_IN_MAX) {
        size_t r = guest_read(c, ev->fd, c->ibuf + pos, CM_FRAME_IN_MAX);

        if (!r)
            break;
        off[n] = pos;
        len[n++] = r;
        pos += (r + 7) & ~(size_t)7;
    }
    if (!n)
        return;
    cm_frames_input_begin(c);
    for (int i = 0; i < n; i++)
        cm_frame_input(c, c->ibuf + off[i], len[i]);
    cm_frames_input_end(c);
}

static int make_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Make @fd, a transport of @kind, the guest's: non-blocking, read when it has frames. */
static int use_fd(struct consomme *c, enum cm_transport_kind kind, int fd, char *err, size_t errlen)
{
    int sz = SOCK_BUF, rc = make_nonblocking(fd);

    if (rc)
        return errbuf_set(err, errlen, rc, "%sfd %d: %s", kind == CM_TRANSPORT_TAP ? "TAP " : "",
                          fd, strerror(-rc));
    c->kind = kind;
    c->tr_ev.fd = fd;
    c->tr_ev.fn = kind == CM_TRANSPORT_TAP ? tap_event : stream_event;
    if (kind == CM_TRANSPORT_STREAM) {
        /* Large socket buffers let one write() carry many 64 KiB frames. FORCE works as
         * root beyond the system limit; otherwise the plain call gets what the limit allows. */
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    }
    c->tr_events = EPOLLIN;
    rc = cm_event_add(c, &c->tr_ev, EPOLLIN);
    if (rc)
        return errbuf_set(err, errlen, rc, "epoll: %s", strerror(-rc));
    return 0;
}

/**
 * cm_transport_stream_fd() - Use an already connected stream socket (QEMU addr.type=fd)
 * @c:		Stack
 * @fd:		Connected SOCK_STREAM socket; owned by @c from now on
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0 or negative errno
 */
int cm_transport_stream_fd(struct consomme *c, int fd, char *err, size_t errlen)
{
    struct stat st;
    int type = 0;
    socklen_t tl = sizeof(type);

    if (fstat(fd, &st))
        return errbuf_set(err, errlen, -errno, "fd %d: %s (pass an open socket)", fd,
                          strerror(errno));
    if (!S_ISSOCK(st.st_mode) || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) ||
        type != SOCK_STREAM)
        return errbuf_set(err, errlen, -ENOTSOCK,
                          "fd %d is not a stream socket (QEMU's -netdev stream needs one end "
                          "of a SOCK_STREAM socketpair)",
                          fd);
    return use_fd(c, CM_TRANSPORT_STREAM, fd, err, errlen);
}

/**
 * cm_transport_tap_fd() - Use a TAP fd (IFF_TAP | IFF_NO_PI)
 * @c:		Stack
 * @fd:		TAP fd; owned by @c from now on
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0 or negative errno
 */
int cm_transport_tap_fd(struct consomme *c, int fd, char *err, size_t errlen)
{
    return use_fd(c, CM_TRANSPORT_TAP, fd, err, errlen);
}

static void listen_event(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    char err[ERRBUF_LEN];
    int fd = accept4(ev->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0)
        return;
    /* One guest per consomme: the path disappears once QEMU is connected. */
    cm_event_del(c, ev);
    close(ev->fd);
    ev->fd = -1;
    unlink(c->listen_path);
    if (cm_transport_stream_fd(c, fd, err, sizeof(err))) {
        close(fd);
        c->stop = true;
        c->exit_code = 1;
        snprintf(c->errmsg, sizeof(c->errmsg), "%s", err);
        return;
    }
    cm_guest_connected(c);
}

/* Whether @path is a socket nobody listens on (a consomme that died): safe to replace. */
static bool stale_socket(const char *path, const struct sockaddr_un *sa)
{
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct stat st;
    bool stale;

    stale = probe >= 0 && !stat(path, &st) && S_ISSOCK(st.st_mode) &&
            connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) && errno == ECONNREFUSED;
    if (probe >= 0)
        close(probe);
    return stale;
}

/* Give the socket at @tmp the name @path, never replacing a file that is there. */
static int publish(const char *tmp, const char *path)
{
    if (!renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE))
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    /* a file system without RENAME_NOREPLACE: a hard link is as atomic, and never replaces */
    if (link(tmp, path))
        return -errno;
    unlink(tmp);
    return 0;
}

/**
 * cm_unix_listen() - A listening unix socket at @path, never there before it listens
 * @path:		Final path
 * @replace_stale:	Replace a socket at @path that nobody listens on (else any file there
 *			is refused)
 * @fd:			The listening socket (non-blocking, close-on-exec)
 * @err:		Error buffer
 * @errlen:		Size of @err
 *
 * Between bind() and listen() a connect() is refused, so the socket is bound under a
 * temporary name in @path's directory (".consomme-PID"), listens, and only then is renamed
 * to @path: whoever sees @path appear (inotify IN_MOVED_TO, a stat, a connect loop) can
 * connect at once. The rename never replaces a file: one that appeared meanwhile is refused
 * like one that was there before.
 *
 * Return: 0, -EEXIST when @path is taken, other negative errno
 */
int cm_unix_listen(const char *path, bool replace_stale, int *fd, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX}, tmp = {.sun_family = AF_UNIX};
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0, s, rc, n;

    *fd = -1;
    n = snprintf(tmp.sun_path, sizeof(tmp.sun_path), "%.*s.consomme-%d", dirlen, path,
                 (int)getpid());
    if (strlen(path) >= sizeof(sa.sun_path))
        return errbuf_set(err, errlen, -ENAMETOOLONG,
                          "socket path '%s' is too long (at most %zu bytes)", path,
                          sizeof(sa.sun_path) - 1);
    if (n < 0 || (size_t)n >= sizeof(tmp.sun_path))
        return errbuf_set(err, errlen, -ENAMETOOLONG,
                          "the directory of socket path '%s' is too long for the temporary name "
                          "consomme binds first (.consomme-PID, %zu bytes in all at most): "
                          "choose a shorter directory",
                          path, sizeof(tmp.sun_path) - 1);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return errbuf_set(err, errlen, -errno, "socket: %s", strerror(errno));
    unlink(tmp.sun_path); /* a leftover of a consomme with our pid (a previous boot) */
    if (bind(s, (struct sockaddr *)&tmp, sizeof(tmp))) {
        rc = errbuf_set(err, errlen, -errno, "cannot create socket %s: %s", tmp.sun_path,
                        strerror(errno));
        close(s);
        return rc;
    }
    if (listen(s, 1)) {
        rc = errbuf_set(err, errlen, -errno, "listen on %s: %s", tmp.sun_path, strerror(errno));
        goto fail;
    }
    rc = publish(tmp.sun_path, path);
    if (rc == -EEXIST && replace_stale && stale_socket(path, &sa)) {
        unlink(path);
        rc = publish(tmp.sun_path, path);
    }
    if (rc == -EEXIST) {
        rc = errbuf_set(err, errlen, -EEXIST,
                        "%s already exists (another consomme, or a leftover: remove it or "
                        "choose another path)",
                        path);
        goto fail;
    }
    if (rc) {
        rc = errbuf_set(err, errlen, rc, "cannot create socket %s: %s", path, strerror(-rc));
        goto fail;
    }
    *fd = s;
    return 0;
fail:
    unlink(tmp.sun_path);
    close(s);
    return rc;
}

/**
 * cm_transport_listen() - Listen on a unix socket path for QEMU's stream connection
 * @c:		Stack
 * @path:	Socket path; must not exist (a stale socket nobody listens on is replaced)
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0, -EADDRINUSE when @path is taken, or another negative errno
 */
int cm_transport_listen(struct consomme *c, const char *path, char *err, size_t errlen)
{
    int fd, rc;

    rc = cm_unix_listen(path, true, &fd, err, errlen);
    if (rc)
        return rc == -EEXIST ? -EADDRINUSE : rc; /* what bind() said here before */
    snprintf(c->listen_path, sizeof(c->listen_path), "%s", path);
    c->listen_ev.fd = fd;
    c->listen_ev.fn = listen_event;
    rc = cm_event_add(c, &c->listen_ev, EPOLLIN);
    if (rc) {
        c->listen_ev.fd = -1;
        unlink(path);
        close(fd);
        return errbuf_set(err, errlen, rc, "epoll: %s", strerror(-rc));
    }
    return 0;
}
