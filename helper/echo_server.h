/* SPDX-License-Identifier: MIT */
/*
 * echo_server - the host side of the latency test: echo what the guest sends, count it
 *
 * Runs as a job of the helper (a child process, like an iperf3 server, so it listens in the
 * helper's namespace: the host's for consomme, slirp and passt, the private one behind tap0
 * for tap). One TCP listener and one UDP socket on the same port: every TCP connection gets
 * back each byte it sends, TCP_NODELAY so a 1-byte reply leaves at once; with @close_after
 * the server closes a connection once it echoed that many bytes (the connect/request/reply/
 * close transaction of TCP CRR, where the host closes first so the guest keeps no TIME_WAIT);
 * each UDP datagram goes back to its sender as it came. One epoll loop serves everything.
 *
 * It ends when its control descriptor reaches end of file (the helper closes it on a
 * `finish` request) and reports its counts on the report descriptor, in the job format of
 * iperf_job.h: {"json":"{\"tcp_connections\":C,\"tcp_bytes\":B,\"udp_datagrams\":D,
 * \"udp_bytes\":U}"} — what the harness checks the guest's own count against.
 */
#ifndef BURETTE_ECHO_SERVER_H
#define BURETTE_ECHO_SERVER_H

/**
 * echo_server_main() - Serve until @ctl_fd reaches end of file, report, exit (never returns)
 * @addr:	IPv4 address to bind, "" for any
 * @port:	TCP and UDP port
 * @close_after: Close a TCP connection after echoing this many bytes, 0 never
 * @report_fd:	Where the one report goes
 * @ctl_fd:	Read end of the helper's control pipe
 */
void echo_server_main(const char *addr, unsigned port, unsigned close_after, int report_fd,
                      int ctl_fd) __attribute__((noreturn));

#endif /* BURETTE_ECHO_SERVER_H */
