/* SPDX-License-Identifier: MIT */
/*
 * agent_proto - the guest agent's wire protocol, shared by the agent and the harness
 *
 * One JSON object per line ('\n'-terminated, compact, so no raw newline ever appears inside a
 * message), over the guest's virtio-serial port. Every message has a "type"; requests from the
 * harness carry an "id" that the agent's reply repeats, so a late reply is never mistaken for
 * the answer to a newer request.
 *
 *   guest -> host  hello        {version, nics: [{name, mac}]}        sent once the port is open
 *   host -> guest  configure_nic {id, mac, mode: "static", address, prefix, gateway?, mtu?}
 *                               {id, mac, mode: "dhcp", timeout_s?} | {id, mac, mode: "down"}
 *   guest -> host  nic_configured {id, name, mac, mode, address?, prefix?, gateway?, mtu}
 *   host -> guest  run          {id, argv: [..], timeout_s}
 *   guest -> host  run_result   {id, exit_status, signal, timed_out, stdout, stderr}
 *   host -> guest  poweroff     {id}
 *   guest -> host  powering_off {id}
 *   either way     error        {id?, message}
 *
 * Decoding validates everything (types, ranges, lengths, MAC and IPv4 syntax) and fills a
 * fixed-size struct, so the code that acts on a message never meets an unchecked field; a
 * malformed line yields an error message, never a crash. Command output is carried as JSON
 * strings: bytes that are not valid UTF-8 are replaced by U+FFFD on encoding, since JSON text
 * must be UTF-8.
 */
#ifndef BURETTE_AGENT_PROTO_H
#define BURETTE_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define AGENT_PROTO_VERSION 1
/* Name of the virtio-serial port (the guest finds it in /sys/class/virtio-ports/<port>/name). */
#define AGENT_PORT_NAME "org.burette.agent"
/* Longest line either side accepts: room for command output of several MiB. */
#define AGENT_MAX_LINE (16u << 20)
/* Most output of a run kept per stream; beyond it the tail is dropped (and said so). */
#define AGENT_MAX_OUTPUT (4u << 20)
#define AGENT_MAX_NICS   16
#define AGENT_MAX_ARGS   64
#define AGENT_NAME_LEN   16 /* IFNAMSIZ */
#define AGENT_MAC_LEN    18 /* "52:54:00:12:12:12" + NUL */
#define AGENT_IP_LEN     16 /* "255.255.255.255" + NUL */
#define AGENT_MSG_LEN    512

enum agent_msg_type {
    AGENT_MSG_HELLO,
    AGENT_MSG_CONFIGURE_NIC,
    AGENT_MSG_NIC_CONFIGURED,
    AGENT_MSG_RUN,
    AGENT_MSG_RUN_RESULT,
    AGENT_MSG_POWEROFF,
    AGENT_MSG_POWERING_OFF,
    AGENT_MSG_ERROR,
};

enum agent_nic_mode {
    AGENT_NIC_STATIC,
    AGENT_NIC_DHCP,
    AGENT_NIC_DOWN,
};

struct agent_nic {
    char name[AGENT_NAME_LEN];
    char mac[AGENT_MAC_LEN]; /* lower case, colon separated */
};

struct agent_hello {
    unsigned version;
    size_t n_nics;
    struct agent_nic nics[AGENT_MAX_NICS];
};

/* configure_nic: which NIC (by MAC) and what to do with it. */
struct agent_nic_config {
    char mac[AGENT_MAC_LEN];
    enum agent_nic_mode mode;
    char address[AGENT_IP_LEN]; /* static only */
    unsigned prefix;            /* static only, 0..32 */
    char gateway[AGENT_IP_LEN]; /* static only, "" for no default route */
    unsigned mtu;               /* static only, 0 leaves the MTU as it is */
    unsigned timeout_s;         /* dhcp only, 0 for the agent's default */
};

/* nic_configured: what the NIC ended up with (for dhcp: the lease obtained). */
struct agent_nic_state {
    char name[AGENT_NAME_LEN];
    char mac[AGENT_MAC_LEN];
    enum agent_nic_mode mode;
    char address[AGENT_IP_LEN]; /* "" when down */
    unsigned prefix;
    char gateway[AGENT_IP_LEN];
    unsigned mtu;
};

struct agent_run {
    size_t argc;
    char *argv[AGENT_MAX_ARGS + 1]; /* NULL-terminated, owned by the message */
    unsigned timeout_s;
};

struct agent_run_result {
    int exit_status; /* -1 when killed by a signal */
    int signal;      /* 0 unless killed by a signal */
    bool timed_out;
    char *out; /* owned by the message, NUL-terminated, may hold NULs before out_len */
    size_t out_len;
    char *err;
    size_t err_len;
};

struct agent_msg {
    enum agent_msg_type type;
    long long id; /* -1: none (hello, or an error about an unreadable request) */
    union {
        struct agent_hello hello;
        struct agent_nic_config nic_config;
        struct agent_nic_state nic_state;
        struct agent_run run;
        struct agent_run_result run_result;
        char error[AGENT_MSG_LEN];
    } u;
};

/**
 * agent_msg_type_name() - The wire name of a message type ("hello", "run", ...)
 * @type:	Message type
 *
 * Return: static string
 */
const char *agent_msg_type_name(enum agent_msg_type type);

/**
 * agent_msg_encode() - Serialize a message as one '\n'-terminated line
 * @m:		Message; every string field must be NUL-terminated
 * @len:	Length of the returned line, newline included
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: line to free(), NULL on failure (message in @err)
 */
char *agent_msg_encode(const struct agent_msg *m, size_t *len, char *err, size_t errlen);

/**
 * agent_msg_decode() - Parse and validate one line (without its newline)
 * @line:	Bytes of the line, need not be NUL-terminated
 * @len:	Length of @line
 * @m:		Filled on success; release with agent_msg_clear(). Left cleared on failure.
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0 on success, -EINVAL for malformed input, -EPROTO for an unknown type or version,
 * -ENOMEM. The request id, when one could be read, is left in @m->id even on failure so that an
 * error reply can name it.
 */
int agent_msg_decode(const char *line, size_t len, struct agent_msg *m, char *err, size_t errlen);

/**
 * agent_msg_clear() - Free what a message owns (argv, output) and zero it
 * @m:		Message
 */
void agent_msg_clear(struct agent_msg *m);

/**
 * agent_parse_mac() - Check a MAC address and normalize it to lower case
 * @s:		Text such as "52:54:00:12:12:12"
 * @out:	AGENT_MAC_LEN bytes
 *
 * Return: 0 on success, -EINVAL
 */
int agent_parse_mac(const char *s, char out[AGENT_MAC_LEN]);

/*
 * A line reader over a stream: bytes are appended as they arrive, complete lines are taken
 * out one at a time. A line longer than the limit is dropped whole (up to its newline) and
 * reported once, so one bad message cannot wedge the stream.
 */
struct linebuf {
    char *buf;
    size_t len;     /* bytes held */
    size_t start;   /* where the next line begins */
    size_t scanned; /* bytes after @start already known to hold no newline */
    size_t cap;
    size_t max;      /* longest line accepted */
    bool discarding; /* inside an over-long line, dropping until its newline */
};

/**
 * linebuf_init() - Prepare an empty reader
 * @lb:		Reader
 * @max:	Longest line accepted, newline excluded
 */
void linebuf_init(struct linebuf *lb, size_t max);

void linebuf_free(struct linebuf *lb);

/**
 * linebuf_read() - Append what one read(2) on @fd returns
 * @lb:		Reader
 * @fd:		File descriptor
 *
 * Return: bytes read (> 0), 0 at end of file, negative errno (-EAGAIN for a non-blocking fd
 * with nothing to read)
 */
long linebuf_read(struct linebuf *lb, int fd);

/**
 * linebuf_append() - Append bytes obtained elsewhere
 *
 * Return: 0 on success, -ENOMEM
 */
int linebuf_append(struct linebuf *lb, const char *data, size_t len);

/**
 * linebuf_next() - Take the next complete line out
 * @lb:		Reader
 * @line:	Set to the line (NUL-terminated in place, newline removed); valid until the next
 *		call on @lb
 * @len:	Its length
 *
 * Return: 1 a line was taken, 0 no complete line yet, -E2BIG a line over the limit was dropped
 */
int linebuf_next(struct linebuf *lb, char **line, size_t *len);

/**
 * write_all() - Write a whole buffer, retrying on short writes and EINTR
 *
 * Return: 0 on success, negative errno
 */
int write_all(int fd, const void *buf, size_t len);

#endif /* BURETTE_AGENT_PROTO_H */
