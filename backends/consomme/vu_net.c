/* SPDX-License-Identifier: MIT */
/*
 * vu_net.c - frames through the virtio-net rings: the vhost-user transport
 *
 * Guest to us (tx, queue 1): on a kick, chains are taken in batches; each one's readable
 * pieces (virtio-net header, then the frame, split however the guest liked) are copied into
 * one buffer, so the guest cannot change a frame while it is parsed. A TCP segment is the
 * exception, for its payload only: its first TX_HEAD bytes (every header) are copied, and the
 * rest is left where the guest put it, handed to the stack as the frame's tail
 * (cm_frame_input_sg()) and copied once, by tcp.c, to the host socket or the connection's
 * ring. Payload is never parsed, so a guest changing it under us only changes its own data.
 * The chains are given back once the batch was dispatched, one used-index update per batch.
 * A header with NEEDS_CSUM (the checksum left partial, CSUM offload) or DATA_VALID means the
 * layer-4 checksum is not ours to verify; a TSO frame (gso_type set) is one big segment, which
 * suits a stack that terminates TCP.
 *
 * Us to the guest (rx, queue 0): reserve() takes as many of the guest's receive chains as the
 * frame needs (several with MRG_RXBUF, else one) and returns a staging buffer; commit() writes
 * the virtio-net header (DATA_VALID when the guest took GUEST_CSUM: our checksums are always
 * complete) and copies the frame over the chains. A TCP super-frame (GUEST_TSO4) gets what
 * the spec asks of a GSO packet instead (virtio 1.2, 5.1.6.4.1): gso_type TCPV4, gso_size the
 * MSS, hdr_len the headers' length, and NEEDS_CSUM with csum_start/csum_offset at TCP's
 * checksum field, which the core filled with the pseudo-header sum. With no chain available,
 * reserve() returns NULL (tcp.c gets -ENOBUFS), and a kick is requested: the guest's next buffers
 * wake the loop, writable() turns true and tcp_guest_writable() follows.
 *
 * Interrupts: used entries are published per frame (rx) or per batch (tx); the call eventfd
 * of either ring is signalled at most once per loop turn (flush()), however many batches the
 * turn took, and only when the guest wants it (event index or NO_INTERRUPT). Under TCG QEMU
 * has no irqfd: each call wakes its main loop to inject an interrupt.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "core.h"
#include "vu_net.h"

#define TX_BATCH    256 /* chains per batch of frames handed to the stack */
#define TX_ROUNDS   8   /* batches per wakeup before other events get a turn */
#define TX_BUF_SIZE (1u << 20)
/* Frame bytes copied for parsing before the rest of a TCP segment is left in guest memory:
 * the largest Ethernet + IPv4 + TCP headers. */
#define TX_HEAD (14 + 60 + 60)

_Static_assert(VQ_MAX_IOV <= CM_TCP_TAIL_MAX, "a chain's pieces must fit a segment's tail");

static const char *const ring_names[VU_QUEUES] = {"rx", "tx"};

/**
 * vu_ring_ready() - Whether a ring may be used: started, enabled, mapped, not broken
 * @d:		Device
 * @q:		VU_RX or VU_TX
 *
 * Return: true when ready
 */
bool vu_ring_ready(const struct vu_dev *d, unsigned q)
{
    const struct vu_vring *vr = &d->vr[q];

    return vr->started && vr->enabled && vr->q.used && !vr->q.error;
}

/* One log line the first time a ring breaks; it stays unused until set up again. */
static void ring_broken(struct vu_dev *d, unsigned q)
{
    struct vu_vring *vr = &d->vr[q];

    if (vr->broken_logged)
        return;
    vr->broken_logged = true;
    fprintf(stderr,
            "consomme: vhost-user: %s ring broken by the guest (%s); it stays stopped until "
            "the guest's driver sets it up again\n",
            ring_names[q], vq_error_name(vr->q.error));
    if (vr->err_fd >= 0)
        (void)!eventfd_write(vr->err_fd, 1); /* the front-end only logs it */
}

static void call(struct vu_dev *d, unsigned q)
{
    struct vu_vring *vr = &d->vr[q];

    if (!vr->pending_call)
        return;
    vr->pending_call = false;
    if (vr->call_fd >= 0 && virtq_should_call(&vr->q))
        eventfd_write(vr->call_fd, 1);
}

/* Copy a chain's readable pieces to @dst; return the bytes, or 0 when beyond @cap. */
static size_t gather(const struct vq_elem *e, uint8_t *dst, size_t cap)
{
    size_t off = 0;

    if (e->out_len > cap)
        return 0;
    for (unsigned i = 0; i < e->n_out; i++) {
        memcpy(dst + off, e->iov[i].iov_base, e->iov[i].iov_len);
        off += e->iov[i].iov_len;
    }
    return off;
}

/* Copy the first @n readable bytes of @e to @dst (n <= out_len). */
static void gather_head(const struct vq_elem *e, uint8_t *dst, size_t n)
{
    for (unsigned i = 0; i < e->n_out && n; i++) {
        size_t k = e->iov[i].iov_len < n ? e->iov[i].iov_len : n;

        memcpy(dst, e->iov[i].iov_base, k);
        dst += k;
        n -= k;
    }
}

/*
 * Turn @e's readable pieces past byte @skip into the frame's tail, in place (e->iov is our
 * copy of the chain, already checked against the memory table). Return: the pieces, at
 * e->iov.
 */
static int tail_iov(struct vq_elem *e, size_t skip)
{
    int n = 0;

    for (unsigned i = 0; i < e->n_out; i++) {
        struct iovec v = e->iov[i];

        if (skip >= v.iov_len) {
            skip -= v.iov_len;
            continue;
        }
        e->iov[n].iov_base = (uint8_t *)v.iov_base + skip;
        e->iov[n++].iov_len = v.iov_len - skip;
        skip = 0;
    }
    return n;
}

/* Whether a frame whose first bytes are @f (at least TX_HEAD of them) is an IPv4 TCP segment. */
static bool is_ipv4_tcp(const uint8_t *f)
{
    return get_be16(f + 12) == 0x0800 && (f[14] >> 4) == 4 && f[14 + 9] == 6 /* TCP */;
}

struct tx_frame {
    uint8_t *p;
    size_t len;
    unsigned flags;
    struct vq_elem *e; /* tail pieces in e->iov, or NULL */
    int tail_cnt;
};

/*
 * One batch: take up to TX_BATCH chains and dispatch them, then give them back.
 *
 * The guest must not change what is parsed, so a frame's headers are always copied. A TCP
 * segment longer than TX_HEAD is not: its payload stays in guest memory, as the frame's tail,
 * and tcp.c copies it from there straight to the host socket (or its rx ring). The chains are
 * therefore returned only once the batch is dispatched, with one used-index update.
 *
 * Return: chains taken.
 */
static unsigned tx_batch(struct vu_dev *d, struct tx_frame *fr, struct vq_elem *elems)
{
    struct vu_vring *vr = &d->vr[VU_TX];
    size_t hdr = d->caps.hdr_len, pos = 0;
    unsigned n = 0, taken = 0;

    while (taken < TX_BATCH && d->tx_buf_size - pos >= hdr + CM_FRAME_IN_MAX) {
        struct vq_elem *e = &elems[n];
        uint8_t *f = d->tx_buf + pos;
        size_t len;
        int rc = virtq_pop(&vr->q, &d->mem, e);

        if (rc == -EIO)
            ring_broken(d, VU_TX);
        if (rc)
            break;
        virtq_fill(&vr->q, taken++, e->head, 0);
        if (e->out_len < hdr || e->out_len > hdr + CM_FRAME_IN_MAX) {
            d->c->st.frames_in++;
            cm_drop(d->c, e->out_len > hdr ? CM_DROP_FRAME_TOO_LONG : CM_DROP_FRAME_SHORT);
            continue;
        }
        fr[n].e = NULL;
        fr[n].tail_cnt = 0;
        if (e->out_len > hdr + TX_HEAD) {
            gather_head(e, f, hdr + TX_HEAD);
            if (is_ipv4_tcp(f + hdr)) {
                len = hdr + TX_HEAD;
                fr[n].e = e;
                fr[n].tail_cnt = tail_iov(e, len);
                d->tx_in_place++;
            } else {
                len = gather(e, f, hdr + CM_FRAME_IN_MAX);
            }
        } else {
            len = gather(e, f, hdr + CM_FRAME_IN_MAX);
        }
        fr[n].p = f + hdr;
        fr[n].len = len - hdr;
        fr[n].flags = f[0] & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)
                          ? CM_FRAME_CSUM_TRUSTED
                          : 0;
        n++;
        pos += (len + 7) & ~(size_t)7;
    }
    if (n) {
        cm_frames_input_begin(d->c);
        for (unsigned i = 0; i < n; i++)
            cm_frame_input_sg(d->c, fr[i].p, fr[i].len, fr[i].e ? fr[i].e->iov : NULL,
                              fr[i].tail_cnt, fr[i].flags);
        cm_frames_input_end(d->c);
    }
    if (taken) {
        /* one used-index update for the batch; the call, if the guest wants one, waits for
         * the end of the loop turn (vu_flush()), one per turn however many batches ran */
        virtq_flush(&vr->q, taken);
        vr->pending_call = true;
    }
    return taken;
}

/**
 * vu_tx_process() - Take what the guest has queued for sending
 * @d:		Device
 *
 * Leaves the ring either empty with a kick requested, or (after TX_ROUNDS batches) with its
 * own kick eventfd written, so the loop comes back after other events had their turn.
 */
void vu_tx_process(struct vu_dev *d)
{
    static struct tx_frame fr[TX_BATCH];
    static struct vq_elem elems[TX_BATCH];
    struct vu_vring *vr = &d->vr[VU_TX];

    if (!d->tx_buf) { /* allocated once the guest first sends: a batch, 256 small frames
                       * or 15 of 64 KiB */
        d->tx_buf = malloc(TX_BUF_SIZE);
        if (!d->tx_buf)
            return; /* the next kick tries again */
        d->tx_buf_size = TX_BUF_SIZE;
    }
    for (unsigned round = 0; round < TX_ROUNDS; round++) {
        if (!vu_ring_ready(d, VU_TX) || d->c->stop)
            return;
        if (tx_batch(d, fr, elems))
            continue;
        virtq_want_kick(&vr->q, true);
        if (virtq_empty(&vr->q))
            return;
    }
    if (vr->kick_ev.fd >= 0)
        eventfd_write(vr->kick_ev.fd, 1);
}

/**
 * vu_rx_release() - Give back receive chains taken for a frame that was not committed
 * @d:		Device
 *
 * Called before a ring stops or the memory table changes, so GET_VRING_BASE reports an index
 * that loses no buffer and no chain points into unmapped memory.
 */
void vu_rx_release(struct vu_dev *d)
{
    if (d->held_n && d->vr[VU_RX].q.num)
        virtq_unpop(&d->vr[VU_RX].q, d->held_n);
    d->held_first = d->held_n = 0;
    d->held_cap = 0;
}

/**
 * vu_ring_check() - React to a ring's set-up changing (kick, enable, addresses)
 * @d:		Device
 * @q:		Ring
 */
void vu_ring_check(struct vu_dev *d, unsigned q)
{
    if (!vu_ring_ready(d, q))
        return;
    if (q == VU_TX)
        vu_tx_process(d); /* the guest may have queued frames before we were told */
    else
        virtq_want_kick(&d->vr[VU_RX].q, true);
}

/**
 * vu_kick_event() - A kick eventfd fired: the guest added buffers to a ring
 * @c:		Stack
 * @ev:		The ring's kick event
 * @events:	epoll events
 */
void vu_kick_event(struct consomme *c, struct cm_event *ev, uint32_t events)
{
    struct vu_dev *d = c->tr_priv;
    eventfd_t v;
    unsigned q = ev == &d->vr[VU_RX].kick_ev ? VU_RX : VU_TX;

    if (eventfd_read(ev->fd, &v))
        return;
    if (q == VU_TX)
        vu_tx_process(d);
    /* rx: new receive buffers; the loop asks writable() after this turn */
}

/* Take chains until @need bytes fit (one chain without MRG_RXBUF). false: not enough yet. */
static bool rx_take(struct vu_dev *d, size_t need)
{
    struct virtq *vq = &d->vr[VU_RX].q;

    while (d->held_cap < need && (d->caps.mrg_rxbuf || !d->held_n)) {
        struct vq_elem *e;
        int rc;

        if (d->held_first + d->held_n == VU_RX_HELD_MAX) {
            if (!d->held_first)
                return true; /* a frame larger than all these buffers: commit drops it */
            memmove(d->held, d->held + d->held_first, d->held_n * sizeof(*d->held));
            d->held_first = 0;
        }
        e = &d->held[d->held_first + d->held_n];
        rc = virtq_pop(vq, &d->mem, e);
        if (rc == -EAGAIN) {
            virtq_want_kick(vq, true);
            rc = virtq_pop(vq, &d->mem, e);
        }
        if (rc == -EIO)
            ring_broken(d, VU_RX);
        if (rc)
            return false;
        if (e->n_out || e->in_len < d->caps.hdr_len) {
            vq->error = VQ_ERR_ORDER; /* a receive chain must be writable, header included */
            d->held_n++;
            vu_rx_release(d);
            ring_broken(d, VU_RX);
            return false;
        }
        d->held_n++;
        d->held_cap += e->in_len;
    }
    return true;
}

uint8_t *vu_net_reserve(struct consomme *c, size_t len)
{
    struct vu_dev *d = c->tr_priv;

    if (!vu_ring_ready(d, VU_RX) || !rx_take(d, d->caps.hdr_len + len))
        return NULL;
    return d->stage + d->caps.hdr_len;
}

/* The virtio-net header in front of a frame toward the guest. */
static void rx_header(const struct vu_dev *d, uint8_t *h, const struct cm_tso *tso)
{
    memset(h, 0, d->caps.hdr_len);
    if (tso && d->caps.guest_tso4) {
        h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        h[1] = VIRTIO_NET_HDR_GSO_TCPV4;
        put_le16(h + 2, tso->hdr_len);
        put_le16(h + 4, tso->mss);
        put_le16(h + 6, tso->l4_off);
        put_le16(h + 8, VIRTIO_NET_HDR_TCP_CSUM_OFF);
    } else if (d->caps.guest_csum) {
        h[0] = VIRTIO_NET_HDR_F_DATA_VALID;
    }
}

void vu_net_commit(struct consomme *c, size_t len, const struct cm_tso *tso)
{
    struct vu_dev *d = c->tr_priv;
    struct virtq *vq = &d->vr[VU_RX].q;
    size_t need = d->caps.hdr_len + len, off = 0, have = 0;
    unsigned nbufs = 0;

    if (!vu_ring_ready(d, VU_RX))
        return;
    while (nbufs < d->held_n && have < need)
        have += d->held[d->held_first + nbufs++].in_len;
    if (have < need || (tso && !d->caps.guest_tso4)) {
        /* larger than the guest's buffers can hold, or a super-frame it cannot cut (the core
         * never sends one: out_tso_max is 0 then) */
        cm_drop(c, CM_DROP_GUEST_WRITE);
        return;
    }
    rx_header(d, d->stage, tso);
    if (d->caps.hdr_len == 12)
        put_le16(d->stage + 10, (uint16_t)nbufs);
    for (unsigned b = 0; b < nbufs; b++) {
        const struct vq_elem *e = &d->held[d->held_first + b];
        size_t written = 0;

        for (unsigned i = e->n_out; i < e->n_out + e->n_in && off < need; i++) {
            size_t k = e->iov[i].iov_len < need - off ? e->iov[i].iov_len : need - off;
            memcpy(e->iov[i].iov_base, d->stage + off, k);
            off += k;
            written += k;
        }
        virtq_fill(vq, b, e->head, (uint32_t)written);
        d->held_cap -= e->in_len;
    }
    virtq_flush(vq, nbufs);
    d->held_first += nbufs;
    d->held_n -= nbufs;
    if (!d->held_n)
        d->held_first = 0;
    d->vr[VU_RX].pending_call = true;
}

int vu_net_flush(struct consomme *c)
{
    struct vu_dev *d = c->tr_priv;

    call(d, VU_RX);
    call(d, VU_TX);
    return 0;
}

/* A sender blocked for want of receive buffers is woken once a quarter of the ring is
 * available again, not at each buffer: Linux refills its ring in batches, and waking for one
 * buffer would make tcp.c send one frame per wakeup. */
bool vu_net_writable(const struct consomme *c)
{
    struct vu_dev *d = c->tr_priv;
    struct virtq *vq = &d->vr[VU_RX].q;
    unsigned want = vq->num / 4 ? vq->num / 4 : 1;

    if (!vu_ring_ready(d, VU_RX))
        return false;
    /* chains already held count for nothing here: they were too few for the last frame */
    if (virtq_pending(vq) >= want)
        return true;
    virtq_want_kick_after(vq, true, (uint16_t)(want - 1));
    return virtq_pending(vq) >= want;
}
