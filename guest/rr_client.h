/* SPDX-License-Identifier: MIT */
/*
 * rr_client - the guest agent's `rr` mode: one request/response measurement, its result as
 * one JSON line on stdout (format and modes in rr.h)
 */
#ifndef BURETTE_RR_CLIENT_H
#define BURETTE_RR_CLIENT_H

/**
 * rr_client_main() - Run `burette-agent rr OPTIONS`
 * @argc:	Argument count, "rr" included
 * @argv:	Arguments, argv[0] being "rr"
 *
 * Return: exit status: 0 with the result on stdout, 1 when the measurement failed, 2 for bad
 * arguments (a message on stderr either way)
 */
int rr_client_main(int argc, char **argv);

#endif /* BURETTE_RR_CLIENT_H */
