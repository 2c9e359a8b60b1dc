/* SPDX-License-Identifier: MIT */
/*
 * agent_proto - encoding, decoding and validation of the guest agent's messages, and the line
 * reader both ends use. See agent_proto.h for the message set.
 *
 * Decoding never trusts the peer: every field is looked up with its expected JSON type, strings
 * are length-checked before they are copied into fixed-size fields, and numbers are range-checked.
 * Nothing here prints or exits; errors go to the caller's buffer.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agent_proto.h"
#include "array.h"
#include "errbuf.h"

static const char *const type_names[] = {
    [AGENT_MSG_HELLO] = "hello",
    [AGENT_MSG_CONFIGURE_NIC] = "configure_nic",
    [AGENT_MSG_NIC_CONFIGURED] = "nic_configured",
    [AGENT_MSG_RUN] = "run",
    [AGENT_MSG_RUN_RESULT] = "run_result",
    [AGENT_MSG_POWEROFF] = "poweroff",
    [AGENT_MSG_POWERING_OFF] = "powering_off",
    [AGENT_MSG_ERROR] = "error",
};

static const char *const mode_names[] = {
    [AGENT_NIC_STATIC] = "static",
    [AGENT_NIC_DHCP] = "dhcp",
    [AGENT_NIC_DOWN] = "down",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *agent_msg_type_name(enum agent_msg_type type)
{
    if ((size_t)type < ARRAY_SIZE(type_names))
        return type_names[type];
    return "unknown";
}

int agent_parse_mac(const char *s, char out[AGENT_MAC_LEN])
{
    if (!s || strlen(s) != AGENT_MAC_LEN - 1)
        return -EINVAL;
    for (size_t i = 0; i < AGENT_MAC_LEN - 1; i++) {
        if (i % 3 == 2) {
            if (s[i] != ':')
                return -EINVAL;
        } else if (!isxdigit((unsigned char)s[i])) {
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < AGENT_MAC_LEN; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    return 0;
}

static bool valid_ipv4(const char *s)
{
    struct in_addr a;

    return inet_pton(AF_INET, s, &a) == 1;
}

/*
 * Copy @in to a fresh buffer, replacing every byte sequence that is not valid UTF-8 with
 * U+FFFD, so any command output can travel as a JSON string.
 */
static char *utf8_sanitize(const char *in, size_t len, size_t *outlen)
{
    char *out = malloc(len * 3 + 1);
    size_t o = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)in[i];
        size_t n = 0;
        uint32_t cp = 0, min = 0;

        if (c < 0x80) {
            out[o++] = (char)c;
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            n = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 4, cp = c & 0x07, min = 0x10000;
        }
        bool ok = n && i + n <= len;
        for (size_t k = 1; ok && k < n; k++) {
            unsigned char cc = (unsigned char)in[i + k];
            if ((cc & 0xc0) != 0x80)
                ok = false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
            ok = false;
        if (ok) {
            memcpy(out + o, in + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

static json_t *json_bytes(const char *s, size_t len)
{
    size_t clean_len;
    char *clean = utf8_sanitize(s ? s : "", s ? len : 0, &clean_len);
    json_t *j;

    if (!clean)
        return NULL;
    j = json_stringn(clean, clean_len);
    free(clean);
    return j;
}

/* Build the JSON object of @m; NULL on failure. */
static json_t *msg_to_json(const struct agent_msg *m, char *err, size_t errlen)
{
    json_t *o = json_object(), *arr;
    int rc = 0;

    if (!o)
        goto nomem;
    rc |= json_object_set_new(o, "type", json_string(agent_msg_type_name(m->type)));
    if (m->id >= 0)
        rc |= json_object_set_new(o, "id", json_integer(m->id));

    switch (m->type) {
    case AGENT_MSG_HELLO:
        rc |= json_object_set_new(o, "version", json_integer(m->u.hello.version));
        arr = json_array();
        rc |= json_object_set_new(o, "nics", arr);
        for (size_t i = 0; arr && i < m->u.hello.n_nics && i < AGENT_MAX_NICS; i++)
            rc |=
                json_array_append_new(arr, json_pack("{s:s, s:s}", "name", m->u.hello.nics[i].name,
                                                     "mac", m->u.hello.nics[i].mac));
        break;
    case AGENT_MSG_CONFIGURE_NIC: {
        const struct agent_nic_config *c = &m->u.nic_config;

        rc |= json_object_set_new(o, "mac", json_string(c->mac));
        rc |= json_object_set_new(o, "mode", json_string(mode_names[c->mode]));
        if (c->mode == AGENT_NIC_STATIC) {
            rc |= json_object_set_new(o, "address", json_string(c->address));
            rc |= json_object_set_new(o, "prefix", json_integer(c->prefix));
            if (c->gateway[0])
                rc |= json_object_set_new(o, "gateway", json_string(c->gateway));
            if (c->mtu)
                rc |= json_object_set_new(o, "mtu", json_integer(c->mtu));
        } else if (c->mode == AGENT_NIC_DHCP && c->timeout_s) {
            rc |= json_object_set_new(o, "timeout_s", json_integer(c->timeout_s));
        }
        break;
    }
    case AGENT_MSG_NIC_CONFIGURED: {
        const struct agent_nic_state *s = &m->u.nic_state;

        rc |= json_object_set_new(o, "name", json_string(s->name));
        rc |= json_object_set_new(o, "mac", json_string(s->mac));
        rc |= json_object_set_new(o, "mode", json_string(mode_names[s->mode]));
        if (s->address[0]) {
            rc |= json_object_set_new(o, "address", json_string(s->address));
            rc |= json_object_set_new(o, "prefix", json_integer(s->prefix));
        }
        if (s->gateway[0])
            rc |= json_object_set_new(o, "gateway", json_string(s->gateway));
        rc |= json_object_set_new(o, "mtu", json_integer(s->mtu));
        break;
    }
    case AGENT_MSG_RUN:
        arr = json_array();
        rc |= json_object_set_new(o, "argv", arr);
        for (size_t i = 0; arr && i < m->u.run.argc; i++)
            rc |= json_array_append_new(arr, json_string(m->u.run.argv[i]));
        rc |= json_object_set_new(o, "timeout_s", json_integer(m->u.run.timeout_s));
        break;
    case AGENT_MSG_RUN_RESULT: {
        const struct agent_run_result *r = &m->u.run_result;

        rc |= json_object_set_new(o, "exit_status", json_integer(r->exit_status));
        rc |= json_object_set_new(o, "signal", json_integer(r->signal));
        rc |= json_object_set_new(o, "timed_out", json_boolean(r->timed_out));
        rc |= json_object_set_new(o, "stdout", json_bytes(r->out, r->out_len));
        rc |= json_object_set_new(o, "stderr", json_bytes(r->err, r->err_len));
        break;
    }
    case AGENT_MSG_POWEROFF:
    case AGENT_MSG_POWERING_OFF:
        break;
    case AGENT_MSG_ERROR:
        rc |= json_object_set_new(o, "message", json_bytes(m->u.error, strlen(m->u.error)));
        break;
    default:
        json_decref(o);
        errbuf_set(err, errlen, -EINVAL, "cannot encode message of unknown type %d", m->type);
        return NULL;
    }
    if (rc)
        goto nomem;
    return o;
nomem:
    json_decref(o);
    errbuf_set(err, errlen, -ENOMEM, "out of memory encoding a %s message",
               agent_msg_type_name(m->type));
    return NULL;
}

char *agent_msg_encode(const struct agent_msg *m, size_t *len, char *err, size_t errlen)
{
    json_t *o = msg_to_json(m, err, errlen);
    char *s, *line;
    size_t n;

    if (!o)
        return NULL;
    /* JSON_COMPACT never emits a raw newline: newlines inside strings are escaped. */
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s) {
        errbuf_set(err, errlen, -ENOMEM, "out of memory encoding a %s message",
                   agent_msg_type_name(m->type));
        return NULL;
    }
    n = strlen(s);
    line = realloc(s, n + 2);
    if (!line) {
        free(s);
        errbuf_set(err, errlen, -ENOMEM, "out of memory encoding a message");
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
    return line;
}

/* Field helpers: each returns 0 or -EINVAL with the field named in @err. */

static int get_string(json_t *o, const char *key, bool required, char *out, size_t outlen,
                      char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);

    if (!v) {
        if (required)
            return errbuf_set(err, errlen, -EINVAL, "field '%s' is missing", key);
        out[0] = '\0';
        return 0;
    }
    if (!json_is_string(v))
        return errbuf_set(err, errlen, -EINVAL, "field '%s' must be a string", key);
    if (json_string_length(v) >= outlen || strlen(json_string_value(v)) != json_string_length(v))
        return errbuf_set(err, errlen, -EINVAL, "field '%s' is too long or holds a NUL byte", key);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int get_uint(json_t *o, const char *key, bool required, unsigned long long max,
                    unsigned long long *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);

    if (!v) {
        if (required)
            return errbuf_set(err, errlen, -EINVAL, "field '%s' is missing", key);
        *out = 0;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (unsigned long long)json_integer_value(v) > max)
        return errbuf_set(err, errlen, -EINVAL, "field '%s' must be an integer in 0..%llu", key,
                          max);
    *out = (unsigned long long)json_integer_value(v);
    return 0;
}

static int get_int(json_t *o, const char *key, long long min, long long max, int *out, char *err,
                   size_t errlen)
{
    json_t *v = json_object_get(o, key);

    if (!v)
        return errbuf_set(err, errlen, -EINVAL, "field '%s' is missing", key);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return errbuf_set(err, errlen, -EINVAL, "field '%s' must be an integer in %lld..%lld", key,
                          min, max);
    *out = (int)json_integer_value(v);
    return 0;
}

static int get_mac(json_t *o, const char *key, char out[AGENT_MAC_LEN], char *err, size_t errlen)
{
    char raw[AGENT_MAC_LEN];
    int rc = get_string(o, key, true, raw, sizeof(raw), err, errlen);

    if (rc)
        return rc;
    if (agent_parse_mac(raw, out))
        return errbuf_set(err, errlen, -EINVAL, "field '%s' is not a MAC address: '%s'", key, raw);
    return 0;
}

static int get_ipv4(json_t *o, const char *key, bool required, char out[AGENT_IP_LEN], char *err,
                    size_t errlen)
{
    int rc = get_string(o, key, required, out, AGENT_IP_LEN, err, errlen);

    if (rc)
        return rc;
    if (out[0] && !valid_ipv4(out))
        return errbuf_set(err, errlen, -EINVAL, "field '%s' is not an IPv4 address: '%s'", key,
                          out);
    return 0;
}

static int get_mode(json_t *o, enum agent_nic_mode *mode, char *err, size_t errlen)
{
    char s[16];
    int rc = get_string(o, "mode", true, s, sizeof(s), err, errlen);

    if (rc)
        return rc;
    for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++) {
        if (!strcmp(s, mode_names[i])) {
            *mode = (enum agent_nic_mode)i;
            return 0;
        }
    }
    return errbuf_set(err, errlen, -EINVAL, "field 'mode' must be static, dhcp or down, not '%s'",
                      s);
}

/* Copy a JSON string of any length (output of a run) to a fresh NUL-terminated buffer. */
static int get_bytes(json_t *o, const char *key, char **out, size_t *outlen, char *err,
                     size_t errlen)
{
    json_t *v = json_object_get(o, key);
    size_t n;

    if (!v)
        return errbuf_set(err, errlen, -EINVAL, "field '%s' is missing", key);
    if (!json_is_string(v))
        return errbuf_set(err, errlen, -EINVAL, "field '%s' must be a string", key);
    n = json_string_length(v);
    *out = malloc(n + 1);
    if (!*out)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory reading field '%s'", key);
    memcpy(*out, json_string_value(v), n);
    (*out)[n] = '\0';
    *outlen = n;
    return 0;
}

static int decode_hello(json_t *o, struct agent_msg *m, char *err, size_t errlen)
{
    unsigned long long version;
    json_t *nics, *nic;
    size_t i;
    int rc;

    rc = get_uint(o, "version", true, UINT32_MAX, &version, err, errlen);
    if (rc)
        return rc;
    m->u.hello.version = (unsigned)version;
    if (version != AGENT_PROTO_VERSION)
        return errbuf_set(err, errlen, -EPROTO,
                          "agent speaks protocol version %llu, this burette speaks %d: rebuild "
                          "the guest image with this burette",
                          version, AGENT_PROTO_VERSION);
    nics = json_object_get(o, "nics");
    if (!json_is_array(nics))
        return errbuf_set(err, errlen, -EINVAL, "field 'nics' must be an array");
    if (json_array_size(nics) > AGENT_MAX_NICS)
        return errbuf_set(err, errlen, -EINVAL, "more than %d NICs in hello", AGENT_MAX_NICS);
    json_array_foreach(nics, i, nic)
    {
        struct agent_nic *n = &m->u.hello.nics[i];

        if (!json_is_object(nic))
            return errbuf_set(err, errlen, -EINVAL, "nics[%zu] must be an object", i);
        rc = get_string(nic, "name", true, n->name, sizeof(n->name), err, errlen);
        if (!rc)
            rc = get_mac(nic, "mac", n->mac, err, errlen);
        if (rc) {
            errbuf_prefix(err, errlen, "nics[%zu]", i);
            return rc;
        }
        m->u.hello.n_nics = i + 1;
    }
    return 0;
}

/*
 * A NIC's IPv4 settings as both NIC messages carry them: "address", "prefix", "gateway" and
 * "mtu". Asked for (@asked: configure_nic), address and prefix are required and the MTU, if
 * given, is one Linux takes (0 leaves it as it is); reported (nic_configured), the address may
 * be empty (a NIC that is down) and the MTU is always there.
 */
static int get_ipv4_settings(json_t *o, bool asked, char address[AGENT_IP_LEN], unsigned *prefix,
                             char gateway[AGENT_IP_LEN], unsigned *mtu, char *err, size_t errlen)
{
    unsigned long long v;
    int rc;

    rc = get_ipv4(o, "address", asked, address, err, errlen);
    if (!rc)
        rc = get_uint(o, "prefix", asked, 32, &v, err, errlen);
    if (rc)
        return rc;
    *prefix = (unsigned)v;
    rc = get_ipv4(o, "gateway", false, gateway, err, errlen);
    if (!rc)
        rc = get_uint(o, "mtu", !asked, 65535, &v, err, errlen);
    if (rc)
        return rc;
    if (asked && v && v < 68)
        return errbuf_set(err, errlen, -EINVAL, "field 'mtu' must be 68..65535, not %llu", v);
    *mtu = (unsigned)v;
    return 0;
}

static int decode_configure_nic(json_t *o, struct agent_msg *m, char *err, size_t errlen)
{
    struct agent_nic_config *c = &m->u.nic_config;
    unsigned long long v;
    int rc;

    rc = get_mac(o, "mac", c->mac, err, errlen);
    if (!rc)
        rc = get_mode(o, &c->mode, err, errlen);
    if (rc)
        return rc;
    switch (c->mode) {
    case AGENT_NIC_STATIC:
        rc = get_ipv4_settings(o, true, c->address, &c->prefix, c->gateway, &c->mtu, err, errlen);
        if (rc)
            return rc;
        break;
    case AGENT_NIC_DHCP:
        rc = get_uint(o, "timeout_s", false, 3600, &v, err, errlen);
        if (rc)
            return rc;
        c->timeout_s = (unsigned)v;
        break;
    case AGENT_NIC_DOWN:
        break;
    }
    return 0;
}

static int decode_nic_configured(json_t *o, struct agent_msg *m, char *err, size_t errlen)
{
    struct agent_nic_state *s = &m->u.nic_state;
    int rc;

    rc = get_string(o, "name", true, s->name, sizeof(s->name), err, errlen);
    if (!rc)
        rc = get_mac(o, "mac", s->mac, err, errlen);
    if (!rc)
        rc = get_mode(o, &s->mode, err, errlen);
    if (!rc)
        rc = get_ipv4_settings(o, false, s->address, &s->prefix, s->gateway, &s->mtu, err, errlen);
    return rc;
}

static int decode_run(json_t *o, struct agent_msg *m, char *err, size_t errlen)
{
    json_t *argv = json_object_get(o, "argv"), *a;
    unsigned long long timeout;
    size_t i;
    int rc;

    if (!json_is_array(argv) || json_array_size(argv) == 0)
        return errbuf_set(err, errlen, -EINVAL, "field 'argv' must be a non-empty array");
    if (json_array_size(argv) > AGENT_MAX_ARGS)
        return errbuf_set(err, errlen, -EINVAL, "field 'argv' has more than %d elements",
                          AGENT_MAX_ARGS);
    json_array_foreach(argv, i, a)
    {
        if (!json_is_string(a) || strlen(json_string_value(a)) != json_string_length(a))
            return errbuf_set(err, errlen, -EINVAL, "argv[%zu] must be a string without NUL bytes",
                              i);
        m->u.run.argv[i] = strdup(json_string_value(a));
        if (!m->u.run.argv[i])
            return errbuf_set(err, errlen, -ENOMEM, "out of memory reading argv");
        m->u.run.argc = i + 1;
    }
    rc = get_uint(o, "timeout_s", true, 86400, &timeout, err, errlen);
    if (rc)
        return rc;
    if (timeout == 0)
        return errbuf_set(err, errlen, -EINVAL, "field 'timeout_s' must be at least 1");
    m->u.run.timeout_s = (unsigned)timeout;
    return 0;
}

static int decode_run_result(json_t *o, struct agent_msg *m, char *err, size_t errlen)
{
    struct agent_run_result *r = &m->u.run_result;
    json_t *t = json_object_get(o, "timed_out");
    int rc;

    rc = get_int(o, "exit_status", -1, 255, &r->exit_status, err, errlen);
    if (!rc)
        rc = get_int(o, "signal", 0, 127, &r->signal, err, errlen);
    if (rc)
        return rc;
    if (!json_is_boolean(t))
        return errbuf_set(err, errlen, -EINVAL, "field 'timed_out' must be a boolean");
    r->timed_out = json_is_true(t);
    rc = get_bytes(o, "stdout", &r->out, &r->out_len, err, errlen);
    if (!rc)
        rc = get_bytes(o, "stderr", &r->err, &r->err_len, err, errlen);
    return rc;
}

static int decode_error(json_t *o, struct agent_msg *m, char *err, size_t errlen)
{
    json_t *msg = json_object_get(o, "message");

    if (!json_is_string(msg))
        return errbuf_set(err, errlen, -EINVAL, "field 'message' must be a string");
    /* A peer's error text is shown to the user: truncate rather than refuse it. */
    snprintf(m->u.error, sizeof(m->u.error), "%s", json_string_value(msg));
    return 0;
}

/* The fields of each type of message; NULL: a type that has none. */
static int (*const decoders[])(json_t *o, struct agent_msg *m, char *err, size_t errlen) = {
    [AGENT_MSG_HELLO] = decode_hello,
    [AGENT_MSG_CONFIGURE_NIC] = decode_configure_nic,
    [AGENT_MSG_NIC_CONFIGURED] = decode_nic_configured,
    [AGENT_MSG_RUN] = decode_run,
    [AGENT_MSG_RUN_RESULT] = decode_run_result,
    [AGENT_MSG_POWEROFF] = NULL,
    [AGENT_MSG_POWERING_OFF] = NULL,
    [AGENT_MSG_ERROR] = decode_error,
};
_Static_assert(ARRAY_SIZE(decoders) == ARRAY_SIZE(type_names), "a decoder row per message type");

int agent_msg_decode(const char *line, size_t len, struct agent_msg *m, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *o, *id;
    const char *type;
    int rc = -EINVAL;

    memset(m, 0, sizeof(*m));
    m->id = -1;
    /* NULs are allowed in command output; fixed fields refuse them one by one. */
    o = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!o)
        return errbuf_set(err, errlen, -EINVAL, "not JSON: %s (at byte %d)", jerr.text,
                          jerr.position);
    if (!json_is_object(o)) {
        errbuf_set(err, errlen, -EINVAL, "message is not a JSON object");
        goto out;
    }
    id = json_object_get(o, "id");
    if (id) {
        if (!json_is_integer(id) || json_integer_value(id) < 0) {
            errbuf_set(err, errlen, -EINVAL, "field 'id' must be a non-negative integer");
            goto out;
        }
        m->id = json_integer_value(id);
    }
    type = json_string_value(json_object_get(o, "type"));
    if (!type) {
        errbuf_set(err, errlen, -EINVAL, "field 'type' is missing or not a string");
        goto out;
    }
    for (size_t i = 0; i < ARRAY_SIZE(type_names); i++) {
        if (!strcmp(type, type_names[i])) {
            m->type = (enum agent_msg_type)i;
            rc = 0;
            break;
        }
    }
    if (rc) {
        rc = errbuf_set(err, errlen, -EPROTO, "unknown message type '%.64s'", type);
        goto out;
    }
    /* Requests need an id to be answered; hello is the one unsolicited message. */
    if (m->type != AGENT_MSG_HELLO && m->type != AGENT_MSG_ERROR && m->id < 0) {
        rc = errbuf_set(err, errlen, -EINVAL, "%s message without an 'id'", type);
        goto out;
    }

    rc = decoders[m->type] ? decoders[m->type](o, m, err, errlen) : 0;
    if (rc)
        errbuf_prefix(err, errlen, "%s message", type_names[m->type]);
out:
    json_decref(o);
    if (rc) {
        long long keep = m->id;

        agent_msg_clear(m);
        m->id = keep;
    }
    return rc;
}

void agent_msg_clear(struct agent_msg *m)
{
    if (m->type == AGENT_MSG_RUN) {
        for (size_t i = 0; i < m->u.run.argc; i++)
            free(m->u.run.argv[i]);
    } else if (m->type == AGENT_MSG_RUN_RESULT) {
        free(m->u.run_result.out);
        free(m->u.run_result.err);
    }
    memset(m, 0, sizeof(*m));
    m->id = -1;
}

void linebuf_init(struct linebuf *lb, size_t max)
{
    memset(lb, 0, sizeof(*lb));
    lb->max = max;
}

void linebuf_free(struct linebuf *lb)
{
    free(lb->buf);
    memset(lb, 0, sizeof(*lb));
}

/* Make room for @need more bytes, dropping already consumed lines first. */
static int linebuf_reserve(struct linebuf *lb, size_t need)
{
    char *b;

    if (lb->start) {
        memmove(lb->buf, lb->buf + lb->start, lb->len - lb->start);
        lb->len -= lb->start;
        lb->start = 0;
    }
    b = array_reserve_bytes(lb->buf, lb->len, need + 1, &lb->cap);
    if (!b)
        return -ENOMEM;
    lb->buf = b;
    return 0;
}

long linebuf_read(struct linebuf *lb, int fd)
{
    ssize_t n;

    if (linebuf_reserve(lb, 65536))
        return -ENOMEM;
    do
        n = read(fd, lb->buf + lb->len, lb->cap - lb->len - 1);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    lb->len += (size_t)n;
    return n;
}

int linebuf_append(struct linebuf *lb, const char *data, size_t len)
{
    if (linebuf_reserve(lb, len))
        return -ENOMEM;
    memcpy(lb->buf + lb->len, data, len);
    lb->len += len;
    return 0;
}

int linebuf_next(struct linebuf *lb, char **line, size_t *len)
{
    for (;;) {
        char *begin = lb->buf + lb->start;
        size_t avail = lb->len - lb->start;
        char *nl =
            avail > lb->scanned ? memchr(begin + lb->scanned, '\n', avail - lb->scanned) : NULL;

        if (!nl) {
            lb->scanned = avail;
            if (!lb->discarding && avail <= lb->max)
                return 0;
            /* Over-long: drop what is held and keep dropping until the newline. */
            bool first = !lb->discarding;

            lb->discarding = true;
            lb->start = lb->len = lb->scanned = 0;
            return first ? -E2BIG : 0;
        }
        size_t n = (size_t)(nl - begin);

        lb->start += n + 1;
        lb->scanned = 0;
        if (lb->discarding) {
            lb->discarding = false;
            continue;
        }
        if (n > lb->max) {
            return -E2BIG;
        }
        *nl = '\0';
        *line = begin;
        *len = n;
        return 1;
    }
}

int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
