/* SPDX-License-Identifier: MIT */
/*
 * test_vu.h - a fake vhost-user front-end for consomme's vhost-user tests
 *
 * The tests play QEMU and the guest's driver at once: they connect to the socket consomme
 * listens on, negotiate, hand over a memfd as guest memory (mapped on both sides, as QEMU
 * does), set up both rings with eventfds, then write descriptors like a virtio-net driver.
 * The stack runs one loop turn at a time in the test's thread (no threads, no sleeps): a
 * message or kick is written whole, then a turn handles it. Host traffic goes to loopback only.
 *
 * Guest memory (MEM_SIZE bytes from guest physical address 0): ring q's descriptor table at
 * ring_off[q], its available ring 0x1000 and its used ring 0x2000 further; receive buffers of
 * RX_BUF_LEN bytes from RX_BUFS; frames the guest sends, 0x4000 bytes a slot, from TX_FRAMES.
 * Ring 0 is receive (toward the guest), ring 1 transmit.
 */
#ifndef TEST_VU_H
#define TEST_VU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cm_test_util.h"
#include "vhost_user.h"

#define MEM_SIZE   (1u << 20)
#define UVA_BASE   0x7f1200000000ull /* what the fake front-end calls the memory */
#define NUM        16
#define RX_BUF_LEN 2048
#define RX_BUFS    0x10000
#define TX_FRAMES  0x40000
#define BIT(n)     (1ull << (n))

extern const unsigned ring_off[2]; /* desc, +0x1000 avail, +0x2000 used */

/* One test's front-end: the stack, the connection to it, guest memory, the rings' eventfds. */
struct fx {
    char dir[40], path[64];
    struct consomme *c;
    int sock, memfd;
    uint8_t *mem;
    int kick[2], callfd[2];
    uint16_t rx_avail, tx_avail; /* the driver's available indexes */
};

/* cmocka setup and teardown: a stack listening for vhost-user, connected, memory made. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* A vhost-user message: request @req, @flags besides the version, @fds passed along. */
void send_msg(struct fx *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
              const int *fds, size_t nfds);
/* One turn of the stack's loop, as cm_run() would take it. */
void turn(struct fx *f);
/* The reply to @req, a u64. */
uint64_t reply_u64(struct fx *f, uint32_t req);
/* A request with a u64 payload, handled, acked when @ack. */
uint64_t request_u64(struct fx *f, uint32_t req, uint64_t v, bool ack);
/* A vring state request (index and number), acked. */
void vring_state(struct fx *f, uint32_t req, uint32_t q, uint32_t num);
/* A vring request passing @fd (kick or call). */
void vring_fd(struct fx *f, uint32_t req, uint32_t q, int fd);
/* SET_VRING_ADDR of ring @q at its place in guest memory, acked. */
void vring_addr(struct fx *f, uint32_t q);
/* SET_MEM_TABLE: the memfd as one region, acked. */
void set_mem_table(struct fx *f);
/* Both rings: size, addresses, base 0, call and kick eventfds, enabled. */
void start_rings(struct fx *f);
/* What QEMU sends when the guest's driver starts the device with @features. */
void start_device(struct fx *f, uint64_t features);
/* GET_VRING_BASE: stops ring @q, returns where it stopped. */
uint32_t stop_ring(struct fx *f, uint32_t q);

/* Descriptor @i of ring @q. */
void set_desc(struct fx *f, unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags);
/* Offers the chain at @head on ring @q. */
void make_avail(struct fx *f, unsigned q, uint16_t head);
uint16_t used_idx(struct fx *f, unsigned q);
uint32_t used_len(struct fx *f, unsigned q, unsigned slot);
/* @n receive buffers offered and kicked. */
void post_rx_buffers(struct fx *f, unsigned n);
/* The guest sends @frame behind a virtio-net header with @hdr_flags, in descriptor @slot. */
void guest_send(struct fx *f, unsigned slot, uint8_t hdr_flags, const uint8_t *frame, size_t len);
/* The guest sends @frame as a chain from descriptor @slot on: the virtio-net header alone,
 * then the frame cut at @cuts (offsets into it), as Linux's driver lays out an skb's pieces. */
void guest_send_chain(struct fx *f, unsigned slot, uint8_t hdr_flags, const uint8_t *frame,
                      size_t len, const size_t *cuts, unsigned ncuts);
/* Loop turns until receive buffer @n is used (the stack waits on host sockets), 5 s at most. */
void wait_rx_used(struct fx *f, uint16_t n);
/* The guest's ARP request for the gateway into @fr; returns its length. */
size_t arp_request(uint8_t *fr);

#endif /* TEST_VU_H */
