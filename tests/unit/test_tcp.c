/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of consomme's TCP state machine (tcp.c) through a fake core (test_tcp.h), in three
 * groups: connections opening, closing and resetting (test_tcp_handshake.c), data on an open
 * connection (test_tcp_data.c), and buffer autotuning and its limits (test_tcp_buffers.c).
 */
#include "test_tcp.h"

int main(void)
{
    int (*const groups[])(void) = {tcp_handshake_run, tcp_data_run, tcp_buffers_run};
    int status = 0;

    /* every group runs; the first failure wins over a skip, a skip over success */
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        int s = groups[i]();

        if (s && (!status || status == TEST_SKIP_STATUS))
            status = s;
    }
    return status;
}
