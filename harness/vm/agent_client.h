/* SPDX-License-Identifier: MIT */
/*
 * agent_client - the harness's end of the guest agent's line protocol
 *
 * Requests go out one at a time, each with a fresh id; a reply is matched by id, and anything
 * else that arrives meanwhile is dropped. Every wait polls the agent's socket, a descriptor that
 * becomes readable when QEMU exits (its pidfd), and the cancellation pipe, against a deadline:
 * a guest that dies, hangs or is interrupted is noticed at once, never by sleeping.
 */
#ifndef BURETTE_AGENT_CLIENT_H
#define BURETTE_AGENT_CLIENT_H

#include "agent_proto.h"

struct agent_client {
    int fd;      /* our end of the socketpair QEMU's chardev holds, non-blocking */
    int exit_fd; /* polls readable when the guest can no longer answer (QEMU's pidfd), or -1 */
    long long next_id;
    struct linebuf lb;
};

/**
 * agent_client_init() - Start talking on @fd (made non-blocking; owned by the client after)
 * @c:		Client
 * @fd:		Connected stream socket
 * @exit_fd:	Descriptor that polls readable when the peer is gone for good, or -1 (not owned)
 */
void agent_client_init(struct agent_client *c, int fd, int exit_fd);

void agent_client_close(struct agent_client *c);

/**
 * agent_client_recv() - Wait for the next valid message
 * @c:		Client
 * @m:		Filled on success; release with agent_msg_clear()
 * @deadline:	proc_now_ms() value to give up at
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Malformed lines from the guest are skipped (it is the guest's console that explains them).
 *
 * Return: 0, -ETIMEDOUT, -ECANCELED (SIGINT/SIGTERM), -EPIPE (the guest went away), -EPROTO (an
 * agent of another protocol version, or an unknown message type), -EMSGSIZE (a line over
 * AGENT_MAX_LINE), or another negative errno
 */
int agent_client_recv(struct agent_client *c, struct agent_msg *m, long long deadline, char *err,
                      size_t errlen);

/**
 * agent_client_call() - Send a request and wait for its reply
 * @c:		Client
 * @req:	Request; its id is assigned here
 * @reply:	The reply on success; release with agent_msg_clear()
 * @deadline:	proc_now_ms() value to give up at
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0, -EREMOTEIO when the agent answered with an error (its message in @err), or what
 * agent_client_recv() returns
 */
int agent_client_call(struct agent_client *c, struct agent_msg *req, struct agent_msg *reply,
                      long long deadline, char *err, size_t errlen);

#endif /* BURETTE_AGENT_CLIENT_H */
