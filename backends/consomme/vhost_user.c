/* SPDX-License-Identifier: MIT */
/*
 * vhost_user.c - the vhost-user protocol: one QEMU front-end on a unix socket
 *
 * Theory of operation: consomme listens on PATH, accepts one connection and removes PATH.
 * Each message is a 12-byte header (request, flags, payload size) and a payload, with file
 * descriptors (memory regions, eventfds) as SCM_RIGHTS on the header. QEMU negotiates the
 * features, hands over its guest memory table (memfd regions, mapped here MAP_SHARED), then
 * for each ring: size, front-end addresses of the three parts, the index to start from, a
 * call eventfd (our interrupts), a kick eventfd (its notifications) and, with protocol
 * features, an enable. GET_VRING_BASE stops a ring and returns where it stopped; the guest's
 * driver reload is a stop followed by a new set-up, which leaves the stack's state alone.
 *
 * A malformed message (bad version, size that does not fit its request, missing fds) is a
 * protocol error: the connection ends and consomme exits 1 naming the request. A well-formed
 * request we do not support or refuse is answered with a failure (when the front-end asked
 * for replies) and logged once; the ring it named stays unusable until set up properly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "core.h"
#include "vhost_user.h"

enum vu_request {
    VU_GET_FEATURES = 1,
    VU_SET_FEATURES = 2,
    VU_SET_OWNER = 3,
    VU_RESET_OWNER = 4,
    VU_SET_MEM_TABLE = 5,
    VU_SET_VRING_NUM = 8,
    VU_SET_VRING_ADDR = 9,
    VU_SET_VRING_BASE = 10,
    VU_GET_VRING_BASE = 11,
    VU_SET_VRING_KICK = 12,
    VU_SET_VRING_CALL = 13,
    VU_SET_VRING_ERR = 14,
    VU_GET_PROTOCOL_FEATURES = 15,
    VU_SET_PROTOCOL_FEATURES = 16,
    VU_GET_QUEUE_NUM = 17,
    VU_SET_VRING_ENABLE = 18,
    VU_RESET_DEVICE = 34,
};

#define VU_VERSION         1u
#define VU_FLAG_VERSION    3u
#define VU_FLAG_REPLY      (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)
#define VU_HDR_SIZE        12
#define VU_VRING_NOFD      (1ull << 8)
#define VU_MSG_TIMEOUT_S   5

#define BIT(n) (1ull << (n))

static const uint64_t offered_protocol = BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK);

/**
 * vu_offered_features() - The virtio features consomme offers the front-end
 *
 * Not offered: UFO and USO, either way (HOST_UFO, HOST_USO, GUEST_UFO, GUEST_USO4/6). A guest
 * only sends USO super-frames from sockets with UDP_SEGMENT (UFO from local sockets is gone
 * from Linux since 4.14), and neither iperf3 nor the benchmark's guest uses it: HOST_USO
 * would never see a frame. GUEST_USO4 would let us batch host datagrams of one flow into one
 * frame, but a guest socket without UDP_GRO has the guest's stack cut it up again in software
 * (udp_unexpected_gso), so the vCPUs still pay per datagram, only the ring work is saved;
 * and the guest's virtio_net reads it only from Linux 6.2 on. GUEST_ECN is not offered
 * either: our segments never carry ECN bits.
 *
 * Return: feature bits
 */
uint64_t vu_offered_features(void)
{
    return BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_RING_F_EVENT_IDX) |
           BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_NET_F_CSUM) |
           BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4) |
           BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_GUEST_TSO4) |
           BIT(VIRTIO_NET_F_GUEST_TSO6) | BIT(VHOST_USER_F_PROTOCOL_FEATURES);
}

/**
 * vu_features_check() - Validate the features the front-end acked and derive the data path's
 * @acked:	SET_FEATURES bits
 * @caps:	What they mean for the rings and the virtio-net header
 * @why:	On refusal, the reason (static string)
 *
 * The spec's dependencies are enforced: TSO toward the guest needs GUEST_CSUM, TSO from it
 * needs CSUM, and nothing beyond what we offered.
 *
 * Return: 0 or -EINVAL
 */
int vu_features_check(uint64_t acked, struct vu_net_caps *caps, const char **why)
{
    if (acked & ~vu_offered_features()) {
        *why = "features that were not offered";
        return -EINVAL;
    }
    if ((acked & (BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6))) &&
        !(acked & BIT(VIRTIO_NET_F_GUEST_CSUM))) {
        *why = "GUEST_TSO without GUEST_CSUM";
        return -EINVAL;
    }
    if ((acked & (BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6))) &&
        !(acked & BIT(VIRTIO_NET_F_CSUM))) {
        *why = "HOST_TSO without CSUM";
        return -EINVAL;
    }
    caps->mrg_rxbuf = acked & BIT(VIRTIO_NET_F_MRG_RXBUF);
    caps->hdr_len = (acked & BIT(VIRTIO_F_VERSION_1)) || caps->mrg_rxbuf ? 12 : 10;
    caps->guest_csum = acked & BIT(VIRTIO_NET_F_GUEST_CSUM);
    /* GUEST_TSO6 is acked but unused: consomme speaks IPv4 only */
    caps->guest_tso4 = acked & BIT(VIRTIO_NET_F_GUEST_TSO4);
    /* Linux posts 64 KiB "big" receive buffers when it may get TSO frames */
    caps->big_rx =
        caps->mrg_rxbuf || (acked & (BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6)));
    caps->event_idx = acked & BIT(VIRTIO_RING_F_EVENT_IDX);
    caps->indirect = acked & BIT(VIRTIO_RING_F_INDIRECT_DESC);
    return 0;
}

/**
 * vu_mem_unmap() - Unmap every region of a memory table and empty it
 * @m:		Table
 */
void vu_mem_unmap(struct vu_mem *m)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->r[i].map)
            munmap(m->r[i].map, m->r[i].map_len);
    m->n = 0;
}

static void ring_stop(struct vu_dev *d, unsigned q)
{
    struct vu_vring *vr = &d->vr[q];

    if (q == VU_RX)
        vu_rx_release(d);
    if (vr->kick_ev.fd >= 0) {
        cm_event_del(d->c, &vr->kick_ev);
        close(vr->kick_ev.fd);
        vr->kick_ev.fd = -1;
    }
    vr->started = false;
}

static void ring_close_fds(struct vu_vring *vr)
{
    if (vr->call_fd >= 0)
        close(vr->call_fd);
    if (vr->err_fd >= 0)
        close(vr->err_fd);
    vr->call_fd = vr->err_fd = -1;
}

/**
 * vu_dev_new() - A device with no front-end yet
 * @c:		Stack it serves
 *
 * Return: device, or NULL when out of memory
 */
struct vu_dev *vu_dev_new(struct consomme *c)
{
    struct vu_dev *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->c = c;
    d->sock_ev.fd = d->listen_ev.fd = -1;
    for (unsigned q = 0; q < VU_QUEUES; q++) {
        d->vr[q].kick_ev.fd = d->vr[q].call_fd = d->vr[q].err_fd = -1;
        d->vr[q].kick_ev.fn = vu_kick_event;
    }
    d->configured_mtu = c ? c->opts.cfg.mtu : CM_MTU_DEFAULT;
    d->held = calloc(VU_RX_HELD_MAX, sizeof(*d->held));
    d->stage_size = 16 + CM_FRAME_MAX;
    d->stage = malloc(d->stage_size);
    if (!d->held || !d->stage) {
        vu_dev_free(d);
        return NULL;
    }
    return d;
}

/* The listening socket's path, and its directory when it is ours, once nobody needs them. */
static void remove_path(struct vu_dev *d)
{
    char *slash;

    unlink(d->path);
    slash = strrchr(d->path, '/');
    if (d->remove_dir && slash && slash != d->path) {
        *slash = '\0';
        rmdir(d->path);
        *slash = '/';
    }
}

/**
 * vu_dev_free() - Close the connection, every eventfd and mapping, remove PATH if listening
 * @d:		Device, may be NULL
 */
void vu_dev_free(struct vu_dev *d)
{
    if (!d)
        return;
    for (unsigned q = 0; q < VU_QUEUES; q++) {
        if (d->c)
            ring_stop(d, q);
        else if (d->vr[q].kick_ev.fd >= 0)
            close(d->vr[q].kick_ev.fd);
        ring_close_fds(&d->vr[q]);
    }
    vu_mem_unmap(&d->mem);
    if (d->sock_ev.fd >= 0)
        close(d->sock_ev.fd);
    if (d->listen_ev.fd >= 0) {
        close(d->listen_ev.fd);
        remove_path(d);
    }
    free(d->held);
    free(d->stage);
    free(d->tx_buf);
    free(d);
}

/* Log why a well-formed request is refused; the front-end hears of it through the ack. */
static int refuse(int rc, const char *why)
{
    fprintf(stderr, "consomme: vhost-user: request refused: %s\n", why);
    return rc;
}

static int malformed(struct vu_dev *d, const char *req)
{
    snprintf(d->errmsg, sizeof(d->errmsg),
             "vhost-user protocol error: malformed %s message from the front-end", req);
    return -EPROTO;
}

static int set_mem_table(struct vu_dev *d, const struct vu_msg *m, int *fds, size_t nfds)
{
    struct vu_mem mem = {0};
    uint32_t n;

    if (m->size < 8)
        return malformed(d, "SET_MEM_TABLE");
    n = get_le32(m->payload);
    if (n == 0 || n > VU_MAX_REGIONS || m->size < 8 + 32 * n || nfds != n)
        return malformed(d, "SET_MEM_TABLE");
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p = m->payload + 8 + 32 * i;
        struct vu_region *r = &mem.r[i];
        uint64_t off = get_le64(p + 24);
        struct stat st;
        void *map;

        r->gpa = get_le64(p);
        r->size = get_le64(p + 8);
        r->uva = get_le64(p + 16);
        if (!r->size || off > SIZE_MAX - r->size || r->gpa + r->size < r->gpa ||
            r->uva + r->size < r->uva) {
            vu_mem_unmap(&mem);
            return malformed(d, "SET_MEM_TABLE");
        }
        /* beyond the end of the file, access would be SIGBUS instead of a refusal */
        if (fstat(fds[i], &st) || (uint64_t)st.st_size < off + r->size) {
            vu_mem_unmap(&mem);
            return malformed(d, "SET_MEM_TABLE (region beyond its file)");
        }
        map = mmap(NULL, r->size + off, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fds[i],
                   0);
        if (map == MAP_FAILED) {
            int e = errno;
            vu_mem_unmap(&mem);
            snprintf(d->errmsg, sizeof(d->errmsg),
                     "vhost-user: cannot map guest memory region %u (%llu bytes): %s (the "
                     "guest's RAM must be a shareable memory backend: -object "
                     "memory-backend-memfd,share=on)",
                     i, (unsigned long long)r->size, strerror(e));
            return -EPROTO;
        }
        r->map = map;
        r->map_len = r->size + off;
        r->host = (uint8_t *)map + off;
        mem.n = i + 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        close(fds[i]);
        fds[i] = -1;
    }
    /* chains held for rx point into the old mappings: give them back first */
    vu_rx_release(d);
    vu_mem_unmap(&d->mem);
    d->mem = mem;
    for (unsigned q = 0; q < VU_QUEUES; q++)
        if (d->vr[q].q.num && d->vr[q].q.desc_uva)
            virtq_map(&d->vr[q].q, &d->mem);
    return 0;
}

/* The ring named by a vring-state or vring-file payload; -1 when out of range. */
static int ring_index(struct vu_dev *d, uint64_t v)
{
    unsigned q = (unsigned)(v & 0xff);

    if (q >= VU_QUEUES) {
        refuse(0, "request for a ring beyond rx and tx (no multiqueue)");
        return -1;
    }
    return (int)q;
}

static int set_vring_addr(struct vu_dev *d, const struct vu_msg *m)
{
    struct virtq *vq;
    int q;

    if (m->size < 40)
        return malformed(d, "SET_VRING_ADDR");
    q = ring_index(d, get_le32(m->payload));
    if (q < 0)
        return -EINVAL;
    vq = &d->vr[q].q;
    vq->desc_uva = get_le64(m->payload + 8);
    vq->used_uva = get_le64(m->payload + 16);
    vq->avail_uva = get_le64(m->payload + 24);
    vq->error = VQ_OK;
    d->vr[q].broken_logged = false;
    if (!vq->num || virtq_map(vq, &d->mem)) {
        vq->error = VQ_ERR_RING_ADDR;
        return refuse(-EINVAL, "ring addresses outside the guest's memory table");
    }
    /* a restarted ring continues where the guest's used index says we stopped */
    vq->used_idx = get_le16(vq->used + 2);
    vq->signalled_valid = false;
    vu_ring_check(d, (unsigned)q);
    return 0;
}

static int set_vring_fd(struct vu_dev *d, const struct vu_msg *m, int *fds, size_t nfds)
{
    uint64_t v;
    struct vu_vring *vr;
    int q, fd = -1;

    if (m->size < 8)
        return malformed(d, "SET_VRING_KICK/CALL/ERR");
    v = get_le64(m->payload);
    if (!(v & VU_VRING_NOFD)) {
        if (nfds != 1)
            return malformed(d, "SET_VRING_KICK/CALL/ERR");
        fd = fds[0];
    }
    q = ring_index(d, v);
    if (q < 0)
        return -EINVAL;
    vr = &d->vr[q];
    if (fd >= 0)
        fds[0] = -1; /* ours now */
    if (m->request == VU_SET_VRING_CALL) {
        if (vr->call_fd >= 0)
            close(vr->call_fd);
        vr->call_fd = fd;
    } else if (m->request == VU_SET_VRING_ERR) {
        if (vr->err_fd >= 0)
            close(vr->err_fd);
        vr->err_fd = fd;
    } else {
        ring_stop(d, (unsigned)q);
        if (fd < 0)
            return refuse(-ENOTSUP, "a ring without a kick eventfd (polling) is not supported");
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        vr->kick_ev.fd = fd;
        if (cm_event_add(d->c, &vr->kick_ev, EPOLLIN)) {
            close(fd);
            vr->kick_ev.fd = -1;
            return refuse(-EIO, "cannot watch a kick eventfd");
        }
        vr->started = true;
        if (!(d->features & BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
            vr->enabled = true;
        vu_ring_check(d, (unsigned)q);
    }
    return 0;
}

static void reset_device(struct vu_dev *d)
{
    for (unsigned q = 0; q < VU_QUEUES; q++) {
        ring_stop(d, q);
        d->vr[q].enabled = false;
        d->vr[q].q = (struct virtq){0};
    }
    d->features = 0;
    d->features_set = false;
    if (d->c) {
        d->c->out_csum_valid = false;
        d->c->out_tso_max = 0;
    }
}

static int set_features(struct vu_dev *d, uint64_t acked)
{
    struct vu_net_caps caps;
    const char *why = "";
    unsigned mtu;

    if (vu_features_check(acked, &caps, &why))
        return refuse(-EINVAL, why);
    d->features = acked;
    d->features_set = true;
    d->caps = caps;
    for (unsigned q = 0; q < VU_QUEUES; q++) {
        d->vr[q].q.event_idx = caps.event_idx;
        d->vr[q].q.indirect = caps.indirect;
    }
    /* Small receive buffers take a 1514-byte frame: keep the MTU (and DHCP's option 26, and
     * TCP's MSS) within what the guest can receive. */
    mtu = d->configured_mtu;
    if (!caps.big_rx && mtu > 1500)
        mtu = 1500;
    if (d->c) {
        d->c->opts.cfg.mtu = mtu;
        d->c->out_csum_valid = caps.guest_csum;
        /* super-frames up to the largest packet our staging buffer holds, whatever the MTU:
         * the guest cuts them at the MSS it asked for */
        d->c->out_tso_max = caps.guest_tso4 ? CM_MTU_MAX : 0;
    }
    return 0;
}

/**
 * vu_handle() - Act on one message from the front-end
 * @d:		Device
 * @m:		Message (header fields and payload)
 * @fds:	File descriptors that came with it; those taken over are set to -1
 * @nfds:	Their number
 * @reply:	Reply to send, when *@has_reply
 * @has_reply:	Set when the request has a reply of its own
 *
 * Return: 0, -EPROTO for a malformed message (d->errmsg says which; the connection ends), or
 * another negative errno for a refused request (answered with a failure when acks are on)
 */
int vu_handle(struct vu_dev *d, const struct vu_msg *m, int *fds, size_t nfds, struct vu_msg *reply,
              bool *has_reply)
{
    uint64_t u64 = m->size >= 8 ? get_le64(m->payload) : 0;
    int q;

    *has_reply = false;
    reply->request = m->request;
    reply->flags = VU_VERSION | VU_FLAG_REPLY;
    reply->size = 8;
    if ((m->flags & VU_FLAG_VERSION) != VU_VERSION) {
        snprintf(d->errmsg, sizeof(d->errmsg),
                 "vhost-user protocol error: version %u (only version 1 is spoken)",
                 m->flags & VU_FLAG_VERSION);
        return -EPROTO;
    }
    switch (m->request) {
    case VU_GET_FEATURES:
        put_le64(reply->payload, vu_offered_features());
        *has_reply = true;
        return 0;
    case VU_SET_FEATURES:
        if (m->size < 8)
            return malformed(d, "SET_FEATURES");
        return set_features(d, u64);
    case VU_GET_PROTOCOL_FEATURES:
        put_le64(reply->payload, offered_protocol);
        *has_reply = true;
        return 0;
    case VU_SET_PROTOCOL_FEATURES:
        if (m->size < 8)
            return malformed(d, "SET_PROTOCOL_FEATURES");
        d->protocol_features = u64 & offered_protocol;
        return 0;
    case VU_SET_OWNER:
        return 0;
    case VU_RESET_OWNER:
    case VU_RESET_DEVICE:
        reset_device(d);
        return 0;
    case VU_GET_QUEUE_NUM:
        put_le64(reply->payload, VU_QUEUES);
        *has_reply = true;
        return 0;
    case VU_SET_MEM_TABLE:
        return set_mem_table(d, m, fds, nfds);
    case VU_SET_VRING_NUM:
    case VU_SET_VRING_BASE:
    case VU_SET_VRING_ENABLE:
    case VU_GET_VRING_BASE:
        if (m->size < 8)
            return malformed(d, "vring state");
        q = ring_index(d, get_le32(m->payload));
        if (q < 0)
            return -EINVAL;
        if (m->request == VU_SET_VRING_NUM) {
            uint32_t num = get_le32(m->payload + 4);
            if (!num || num > VQ_MAX_SIZE || (num & (num - 1)))
                return refuse(-EINVAL, "ring size not a power of two up to 32768");
            ring_stop(d, (unsigned)q);
            d->vr[q].q.num = (uint16_t)num;
            d->vr[q].q.desc = d->vr[q].q.avail = d->vr[q].q.used = NULL;
        } else if (m->request == VU_SET_VRING_BASE) {
            d->vr[q].q.last_avail = (uint16_t)get_le32(m->payload + 4);
            d->vr[q].q.signalled_valid = false;
        } else if (m->request == VU_SET_VRING_ENABLE) {
            d->vr[q].enabled = get_le32(m->payload + 4) != 0;
            vu_ring_check(d, (unsigned)q);
        } else {
            ring_stop(d, (unsigned)q);
            memcpy(reply->payload, m->payload, 4);
            put_le32(reply->payload + 4, d->vr[q].q.last_avail);
            *has_reply = true;
        }
        return 0;
    case VU_SET_VRING_ADDR:
        return set_vring_addr(d, m);
    case VU_SET_VRING_KICK:
    case VU_SET_VRING_CALL:
    case VU_SET_VRING_ERR:
        return set_vring_fd(d, m, fds, nfds);
    default:
        fprintf(stderr, "consomme: vhost-user: request %u is not supported; refused\n", m->request);
        return -ENOTSUP;
    }
}

static void conn_error(struct vu_dev *d, const char *msg)
{
    struct consomme *c = d->c;

    c->stop = true;
    c->exit_code = 1;
    snprintf(c->errmsg, sizeof(c->errmsg), "%s", msg);
}

/* Read one message; 0, or -EPIPE when the front-end closed, -EPROTO for a broken one. */
static int msg_read(int fd, struct vu_msg *m, int *fds, size_t *nfds)
{
    char cbuf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
    uint8_t hdr[VU_HDR_SIZE];
    struct iovec iov = {.iov_base = hdr, .iov_len = sizeof(hdr)};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    ssize_t n;

    *nfds = 0;
    do
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
    while (n < 0 && errno == EINTR);
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds + *nfds, CMSG_DATA(cm), k * sizeof(int));
            *nfds += k;
        }
    }
    if (n == 0)
        return -EPIPE;
    if (n != VU_HDR_SIZE || (mh.msg_flags & MSG_CTRUNC))
        return -EPROTO;
    m->request = get_le32(hdr);
    m->flags = get_le32(hdr + 4);
    m->size = get_le32(hdr + 8);
    if (m->size > VU_PAYLOAD_MAX)
        return -EPROTO;
    if (m->size) {
        do
            n = recv(fd, m->payload, m->size, MSG_WAITALL);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t)m->size)
            return n == 0 ? -EPIPE : -EPROTO;
    }
    return 0;
}

static int msg_write(int fd, const struct vu_msg *m)
{
    uint8_t buf[VU_HDR_SIZE + 64];
    size_t len = VU_HDR_SIZE + m->size;

    put_le32(buf, m->request);
    put_le32(buf + 4, m->flags);
    put_le32(buf + 8, m->size);
    memcpy(buf + VU_HDR_SIZE, m->payload, m->size);
    return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -EPIPE;
}

static void sock_event(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    struct vu_dev *d = c->tr_priv;
    static struct vu_msg m, reply; /* one thread; 4 KiB each stays off the stack */
    int fds[VU_MAX_FDS];
    size_t nfds = 0;
    bool has_reply;
    int rc;

    rc = msg_read(ev->fd, &m, fds, &nfds);
    if (rc == -EPIPE) {
        cm_guest_gone(c, 0); /* QEMU went away: a normal end */
    } else if (rc) {
        conn_error(d, "vhost-user protocol error: a message from the front-end was cut short "
                      "or too large");
    } else {
        rc = vu_handle(d, &m, fds, nfds, &reply, &has_reply);
        if (rc == -EPROTO) {
            conn_error(d, d->errmsg);
        } else if (!has_reply && (m.flags & VU_FLAG_NEED_REPLY) &&
                   (d->protocol_features & BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK))) {
            put_le64(reply.payload, rc ? 1 : 0);
            has_reply = true;
        }
        if (has_reply && msg_write(ev->fd, &reply))
            cm_guest_gone(c, 0);
    }
    for (size_t i = 0; i < nfds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static void listen_event(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    struct vu_dev *d = c->tr_priv;
    struct timeval tv = {.tv_sec = VU_MSG_TIMEOUT_S};
    int fd = accept4(ev->fd, NULL, NULL, SOCK_CLOEXEC);

    if (fd < 0)
        return;
    /* One front-end per consomme: the path disappears once QEMU is connected. */
    cm_event_del(c, ev);
    close(ev->fd);
    ev->fd = -1;
    remove_path(d);
    /* The socket blocks, so a message is read whole; a front-end that stops halfway through
     * one is an error after the timeout, never a hang. */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    d->sock_ev.fd = fd;
    d->sock_ev.fn = sock_event;
    if (cm_event_add(c, &d->sock_ev, EPOLLIN)) {
        conn_error(d, "vhost-user: cannot watch the front-end's socket");
        return;
    }
    cm_guest_connected(c);
}

/**
 * cm_vhost_user_own_dir() - Make the listening socket's directory the back-end's own: removed
 * with the socket once QEMU is connected (or consomme ends first), so that a launcher killed
 * later leaves nothing behind
 * @c:		Stack, after cm_transport_vhost_user()
 */
void cm_vhost_user_own_dir(struct consomme *c)
{
    struct vu_dev *d = c->tr_priv;

    d->remove_dir = true;
}

/**
 * cm_transport_vhost_user() - Serve the guest as a vhost-user back-end listening on @path
 * @c:		Stack
 * @path:	Socket path to create; an existing file is refused
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * PATH exists, and accepts the front-end's connection, once this returns.
 *
 * Return: 0 or negative errno
 */
int cm_transport_vhost_user(struct consomme *c, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct vu_dev *d;
    int fd, rc;

    if (strlen(path) >= sizeof(sa.sun_path))
        return errbuf_set(err, errlen, -ENAMETOOLONG,
                          "socket path '%s' is too long (at most %zu bytes)", path,
                          sizeof(sa.sun_path) - 1);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    d = vu_dev_new(c);
    if (!d)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    /* PATH appears only once it listens: the launcher connects QEMU as soon as it does */
    rc = cm_unix_listen(path, false, &fd, err, errlen);
    if (rc)
        goto fail;
    snprintf(d->path, sizeof(d->path), "%s", path);
    d->listen_ev.fd = fd;
    d->listen_ev.fn = listen_event;
    rc = cm_event_add(c, &d->listen_ev, EPOLLIN);
    if (rc) {
        errbuf_set(err, errlen, rc, "epoll: %s", strerror(-rc));
        goto fail;
    }
    c->tr = &vu_transport_ops;
    c->tr_priv = d;
    c->kind = CM_TRANSPORT_VHOST_USER;
    return 0;
fail:
    d->c = NULL; /* nothing was registered with the loop but the listener, and that failed */
    vu_dev_free(d);
    return rc;
}

static void vu_free(struct consomme *c)
{
    vu_dev_free(c->tr_priv);
    c->tr_priv = NULL;
}

const struct cm_transport_ops vu_transport_ops = {
    .name = "vhost-user",
    .reserve = vu_net_reserve,
    .commit = vu_net_commit,
    .flush = vu_net_flush,
    .writable = vu_net_writable,
    .free = vu_free,
};
