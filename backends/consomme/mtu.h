/* SPDX-License-Identifier: MIT */
/*
 * mtu - the IP MTU range consomme accepts, and its one parser
 *
 * Written once for three readers: consomme's own --mtu (main.c), its launcher's `mtu` option
 * (launcher/launcher.c, built into burette, which does not link consomme's core) and the run's
 * --mtu bound (run_options.h). Like ring.h for the buffer bound, the header is all the launcher
 * needs, so the parser is inline. 576 is the smallest datagram every IPv4 host must take;
 * 65520 is the largest MTU consomme (and passt) serve.
 */
#ifndef CONSOMME_MTU_H
#define CONSOMME_MTU_H

#include <errno.h>
#include <stddef.h>

#include "errbuf.h"
#include "parse.h"

#define CM_MTU_MIN     576
#define CM_MTU_MAX     65520
#define CM_MTU_DEFAULT 65520

/* The same numbers as text, for help lines and option defaults. */
#define CM_MTU_STR_(x)    #x
#define CM_MTU_STR(x)     CM_MTU_STR_(x)
#define CM_MTU_RANGE_TEXT CM_MTU_STR(CM_MTU_MIN) ".." CM_MTU_STR(CM_MTU_MAX)

/**
 * cm_parse_mtu() - Parse an MTU given by a user (consomme's --mtu, the launcher's mtu=N)
 * @s:		Decimal text
 * @out:	MTU, written only on success
 * @err:	Error buffer
 * @errlen:	Size of @err
 *
 * Return: 0, -EINVAL (not a number) or -ERANGE (outside CM_MTU_MIN..CM_MTU_MAX), with the
 * reason in @err
 */
static inline int cm_parse_mtu(const char *s, unsigned *out, char *err, size_t errlen)
{
    unsigned long long v;
    int rc = parse_uint(s, CM_MTU_MIN, CM_MTU_MAX, &v);

    if (rc == -ERANGE)
        return errbuf_set(err, errlen, rc, "MTU %s is out of range (%d to %d)", s, CM_MTU_MIN,
                          CM_MTU_MAX);
    if (rc)
        return errbuf_set(err, errlen, rc, "MTU '%s' is not a number", s);
    *out = (unsigned)v;
    return 0;
}

#endif /* CONSOMME_MTU_H */
