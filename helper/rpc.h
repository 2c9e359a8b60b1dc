/* SPDX-License-Identifier: MIT */
/*
 * rpc - JSON messages with file descriptors over an AF_UNIX SOCK_SEQPACKET socket
 *
 * The harness and the namespace helper talk through a socketpair. One message is one JSON
 * object, sent as one or more records; a record is one SEQPACKET datagram made of a fixed
 * header (magic, flags, payload length) and up to RPC_RECORD_PAYLOAD bytes of the object's
 * compact text. Every record but the last carries RPC_F_MORE, so a message may be larger than
 * a socket buffer (an iperf3 result can be). File descriptors (SCM_RIGHTS) ride on the first
 * record only.
 *
 * Invariants: rpc_recv() either returns a whole, parsed JSON object with all of its fds, or an
 * error and no fds (any fd that did arrive is closed). End of file is reported as -EPIPE, so a
 * peer that dies is noticed at once, also in the middle of a message. Nothing here prints.
 */
#ifndef BURETTE_RPC_H
#define BURETTE_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define RPC_MAGIC          0x42525043u /* "BRPC" */
#define RPC_F_MORE         0x1u        /* another record of the same message follows */
#define RPC_RECORD_PAYLOAD (60 * 1024) /* well under the default AF_UNIX send buffer */
#define RPC_MSG_MAX        (8u << 20)  /* largest message accepted, in bytes of JSON text */
#define RPC_MAX_FDS        4

/* On-the-wire header of each record, in host byte order (both ends are one machine). */
struct rpc_record_hdr {
    uint32_t magic;
    uint32_t flags;
    uint32_t len; /* payload bytes following the header in this record */
};

/* A received message: the JSON object and the descriptors that came with it. */
struct rpc_msg {
    json_t *body;
    int fds[RPC_MAX_FDS];
    size_t nfds;
};

/**
 * rpc_send() - Send one JSON object, with optional file descriptors
 * @sock:	Connected SOCK_SEQPACKET socket
 * @body:	JSON object to send (not consumed)
 * @fds:	Descriptors to pass with SCM_RIGHTS, or NULL
 * @nfds:	Number of descriptors, at most RPC_MAX_FDS
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Never raises SIGPIPE.
 *
 * Return: 0 on success, -EPIPE if the peer is gone, -EMSGSIZE if the text exceeds RPC_MSG_MAX,
 *	   -EINVAL on bad arguments, other negative errno on socket errors
 */
int rpc_send(int sock, const json_t *body, const int *fds, size_t nfds, char *err, size_t errlen);

/**
 * rpc_recv() - Receive one whole message
 * @sock:	Connected SOCK_SEQPACKET socket
 * @timeout_ms:	Longest wait for the message as a whole, -1 for no limit
 * @msg:	Filled on success; release with rpc_msg_release()
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 on success; -EPIPE on end of file (before or in the middle of a message),
 *	   -ETIMEDOUT, -EMSGSIZE for a record or message over the limits, -EPROTO for a
 *	   malformed record or body (not a JSON object), other negative errno on socket errors
 */
int rpc_recv(int sock, int timeout_ms, struct rpc_msg *msg, char *err, size_t errlen);

/**
 * rpc_msg_release() - Free the body and close descriptors nobody took out of @msg
 * @msg:	Message from rpc_recv(); fds set to -1 by the caller are skipped
 */
void rpc_msg_release(struct rpc_msg *msg);

/**
 * rpc_msg_take_fd() - Take ownership of the first descriptor of @msg
 * @msg:	Received message
 *
 * Return: the descriptor (now the caller's to close), or -1 if none came with the message
 */
int rpc_msg_take_fd(struct rpc_msg *msg);

#endif /* BURETTE_RPC_H */
