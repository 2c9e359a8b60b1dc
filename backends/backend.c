/* SPDX-License-Identifier: MIT */
/*
 * backend - the registry of network backends, their options, and what the backends share;
 * see backend.h.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "errbuf.h"
#include "qemu_program.h"

/* Every backend `burette run --backend` can use: one row each. */
static const struct backend_ops *const backends[] = {
    &backend_consomme_ops,
    &backend_tap_ops,
    &backend_slirp_ops,
    &backend_passt_ops,
};

#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

/* A program name or path; the QEMU itself is checked when the run is settled (run_settle()). */
static int program_parse(const char *value, union backend_value *out, char *err, size_t errlen)
{
    if (!*value)
        return errbuf_set(err, errlen, -EINVAL, "empty path (give a qemu-system-x86_64 binary)");
    if (strlen(value) >= sizeof(out->text))
        return errbuf_set(err, errlen, -ENAMETOOLONG, "path '%.40s...' is too long", value);
    snprintf(out->text, sizeof(out->text), "%s", value);
    return 0;
}

json_t *backend_text_json(const union backend_value *v)
{
    return json_string(v->text);
}

/*
 * Options every run takes whatever its backend: one row each. The QEMU binary is recorded only
 * when one was chosen (the report's host says which QEMU version ran in any case).
 */
static const struct backend_option common_options[] = {
    {
        .name = "qemu",
        .metavar = "PATH",
        .help = "QEMU binary, looked up in PATH; a variant's\nqemu=PATH A/Bs two QEMUs",
        .default_value = QEMU_DEFAULT_PROGRAM,
        .json_key = "qemu",
        .only_if_set = true,
        .parse = program_parse,
        .to_json = backend_text_json,
    },
};
static const size_t n_common_options = sizeof(common_options) / sizeof(common_options[0]);

const struct backend_ops *backend_find(const char *name)
{
    for (size_t i = 0; i < NBACKENDS; i++)
        if (!strcmp(backends[i]->name, name))
            return backends[i];
    return NULL;
}

size_t backend_count(void)
{
    return NBACKENDS;
}

const struct backend_ops *backend_at(size_t i)
{
    return backends[i];
}

size_t backend_option_count(void)
{
    size_t n = n_common_options;

    for (size_t i = 0; i < NBACKENDS; i++)
        n += backends[i]->n_options;
    return n;
}

const struct backend_option *backend_option_at(size_t i, const struct backend_ops **owner)
{
    if (owner)
        *owner = NULL;
    if (i < n_common_options)
        return &common_options[i];
    i -= n_common_options;
    for (size_t b = 0; b < NBACKENDS; i -= backends[b]->n_options, b++) {
        if (i < backends[b]->n_options) {
            if (owner)
                *owner = backends[b];
            return &backends[b]->options[i];
        }
    }
    return NULL;
}

int backend_option_find(const char *name)
{
    for (size_t i = 0; i < backend_option_count(); i++)
        if (!strcmp(backend_option_at(i, NULL)->name, name))
            return (int)i;
    return -1;
}

/* True if the comma-separated @list holds @name. */
static bool list_names(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

bool backend_option_applies(size_t i, const char *backends_list)
{
    const struct backend_ops *owner;

    backend_option_at(i, &owner);
    return !owner || list_names(backends_list, owner->name);
}

void backend_options_default(struct backend_options *v)
{
    char err[256];

    memset(v, 0, sizeof(*v));
    /* The defaults are constants of this file's rows; a unit test proves each parses. */
    for (size_t i = 0; i < backend_option_count(); i++)
        backend_option_at(i, NULL)->parse(backend_option_at(i, NULL)->default_value, &v->value[i],
                                          err, sizeof(err));
}

int backend_options_to_json(json_t *obj, const struct backend_options *v, const char *backends_list)
{
    for (size_t i = 0; i < backend_option_count(); i++) {
        const struct backend_option *opt = backend_option_at(i, NULL);

        if (!opt->json_key || !backend_option_applies(i, backends_list) ||
            (opt->only_if_set && !strcmp(v->value[i].text, opt->default_value)))
            continue;
        if (json_object_set_new(obj, opt->json_key, opt->to_json(&v->value[i])))
            return -ENOMEM;
    }
    return 0;
}

const union backend_value *backend_option_value(const struct backend_options *v,
                                                const struct backend_option *opt)
{
    for (size_t i = 0; i < backend_option_count(); i++)
        if (backend_option_at(i, NULL) == opt)
            return &v->value[i];
    return NULL; /* not a row of the registry: a bug the caller's tests catch at once */
}

void backend_socket_dir_remove(struct backend_socket_dir *d)
{
    if (!d->dir[0])
        return;
    unlink(d->sock);
    rmdir(d->dir);
    d->dir[0] = '\0';
}

int backend_socket_dir_make(struct backend_socket_dir *d, const char *who, const char *name,
                            char *err, size_t errlen)
{
    const char *tmp = getenv("TMPDIR");

    d->dir[0] = '\0';
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if (snprintf(d->dir, sizeof(d->dir), "%s/burette-%s-XXXXXX", tmp, who) >= (int)sizeof(d->dir) ||
        snprintf(d->sock, sizeof(d->sock), "%s/%s", d->dir, name) >= (int)sizeof(d->sock)) {
        d->dir[0] = '\0';
        return errbuf_set(err, errlen, -ENAMETOOLONG,
                          "TMPDIR '%s' is too long for %s's socket path: set TMPDIR to a "
                          "shorter directory",
                          tmp, who);
    }
    if (!mkdtemp(d->dir)) {
        int e = errno;

        d->dir[0] = '\0';
        return errbuf_set(err, errlen, -e, "cannot make a directory for %s's socket in %s: %s", who,
                          tmp, strerror(e));
    }
    /* mkdtemp() filled in the X's (same length, so this fits): the path follows the real name */
    if (snprintf(d->sock, sizeof(d->sock), "%s/%s", d->dir, name) >= (int)sizeof(d->sock)) {
        backend_socket_dir_remove(d);
        return errbuf_set(err, errlen, -ENAMETOOLONG, "socket path too long");
    }
    return 0;
}

const char *backend_qemu_binary(const struct backend_options *v)
{
    return backend_option_value(v, &common_options[0])->text;
}

const char *backend_names(char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < NBACKENDS && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", backends[i]->name);
    return buf;
}

void backend_init(struct backend *b, const struct backend_ops *ops)
{
    memset(b, 0, sizeof(*b));
    b->ops = ops;
    for (size_t i = 0; i < BACKEND_MAX_FDS; i++)
        b->fds[i] = -1;
}

void backend_close_fds(struct backend *b)
{
    for (size_t i = 0; i < b->n_fds; i++) {
        if (b->fds[i] >= 0)
            close(b->fds[i]);
        b->fds[i] = -1;
    }
    b->n_fds = 0;
}

void backend_nat_guest(struct backend *b, const char *guest, unsigned prefix, const char *host,
                       unsigned mtu, const char *loopback)
{
    b->guest.mode = AGENT_NIC_STATIC;
    snprintf(b->guest.address, sizeof(b->guest.address), "%s", guest);
    b->guest.prefix = prefix;
    snprintf(b->guest.gateway, sizeof(b->guest.gateway), "%s", host);
    b->guest.mtu = mtu;
    snprintf(b->server_bind, sizeof(b->server_bind), "%s", loopback);
    snprintf(b->server_addr, sizeof(b->server_addr), "%s", host);
    b->server_in_helper_ns = false;
}

int backend_loopback_port(unsigned *port, char *err, size_t errlen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = 0;

    if (fd < 0)
        return errbuf_set(err, errlen, -errno, "socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        rc = errbuf_set(err, errlen, -errno, "cannot find a free TCP port on 127.0.0.1: %s",
                        strerror(errno));
    else
        *port = ntohs(sa.sin_port);
    close(fd);
    return rc;
}
