/* SPDX-License-Identifier: MIT */
/*
 * loopback.h - a socket of the test's own on the host's loopback, at a port the kernel picks
 *
 * The far end of the tests that reach the host side: a TCP listener or a bound UDP socket on
 * 127.0.0.1 (tests talk to loopback and to namespaces they made, nothing else). The port is
 * free by construction, so parallel tests never collide. Include after <cmocka.h>: a failing
 * step fails the test.
 */
#ifndef TEST_LOOPBACK_H
#define TEST_LOOPBACK_H

#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/**
 * loopback_socket() - A socket on 127.0.0.1 at an ephemeral port, listening if a stream one
 * @type:	SOCK_STREAM or SOCK_DGRAM, with any of SOCK_NONBLOCK (SOCK_CLOEXEC is added)
 * @port:	Set to the port, in host order
 *
 * Return: the socket
 */
static inline int loopback_socket(int type, uint16_t *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM)
        assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

#endif /* TEST_LOOPBACK_H */
