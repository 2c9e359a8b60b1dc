/* SPDX-License-Identifier: MIT */
/*
 * iperf_result - figures from iperf3 JSON reports; see iperf_result.h.
 *
 * iperf3 3.12 writes, in "end": for TCP "sum_sent" and "sum_received" (the receiver's
 * bits_per_second is what arrived, so that is the throughput); for UDP also "sum", and
 * "sum_received" holds the receiver's datagram counters on both sides. Older 3.x reports lack
 * "sum_received" for UDP, so "sum" is the fallback there.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "errbuf.h"
#include "iperf_result.h"
#include "stats.h"

/* The tail after the last full second is shorter than this: too short to judge a stall. */
#define SHORT_INTERVAL_S 0.5

static int get_number(json_t *obj, const char *path, const char *key, double *out, char *err,
                      size_t errlen)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0)
        return errbuf_set(err, errlen, -EPROTO,
                          "iperf3 report: %s.%s is missing or not a "
                          "non-negative number",
                          path, key);
    *out = json_number_value(v);
    return 0;
}

size_t iperf_result_stalls(const double *gbps, size_t n, double *median)
{
    struct stats st;
    size_t stalled = 0;

    *median = NAN;
    if (!n || stats_compute(gbps, n, &st) < 0)
        return 0;
    *median = st.median;
    for (size_t i = 0; i < n; i++)
        if (gbps[i] <= 0 || gbps[i] < IPERF_STALL_FRACTION * st.median)
            stalled++;
    return stalled;
}

/*
 * The "sum" of each entry of "intervals" (all streams of -P together): its throughput unless
 * iperf3 omitted it (-O) or it is the short tail of the run. The side is the report's own:
 * "sender": false means these are bytes that arrived.
 */
static int parse_intervals(json_t *root, struct iperf_result *r, char *err, size_t errlen)
{
    json_t *intervals = json_object_get(root, "intervals"), *iv;
    size_t n = json_array_size(intervals), i, kept = 0;
    double *gbps;
    int rc = 0;

    r->interval_median_gbps = NAN;
    if (!n)
        return 0;
    gbps = calloc(n, sizeof(*gbps));
    if (!gbps)
        return errbuf_set(err, errlen, -ENOMEM, "iperf3 report: out of memory");
    json_array_foreach(intervals, i, iv)
    {
        json_t *sum = json_object_get(iv, "sum");
        double secs, bps;

        if (!json_is_object(sum)) {
            rc =
                errbuf_set(err, errlen, -EPROTO, "iperf3 report: intervals[%zu].sum is missing", i);
            goto out;
        }
        rc = get_number(sum, "intervals[].sum", "seconds", &secs, err, errlen);
        if (!rc)
            rc = get_number(sum, "intervals[].sum", "bits_per_second", &bps, err, errlen);
        if (rc)
            goto out;
        if (json_is_true(json_object_get(sum, "omitted")))
            continue;
        if (i == n - 1 && secs < SHORT_INTERVAL_S)
            continue;
        if (!kept)
            r->intervals_receiver_side = json_is_false(json_object_get(sum, "sender"));
        gbps[kept++] = bps / 1e9;
    }
    r->nintervals = kept;
    memcpy(r->interval_gbps, gbps,
           (kept < IPERF_RESULT_MAX_INTERVALS ? kept : IPERF_RESULT_MAX_INTERVALS) * sizeof(*gbps));
    r->stalled_intervals = iperf_result_stalls(gbps, kept, &r->interval_median_gbps);
out:
    free(gbps);
    return rc;
}

int iperf_result_parse(const char *json, struct iperf_result *r, char *err, size_t errlen)
{
    json_t *root = NULL, *end, *start, *recv, *sent, *e;
    const char *proto;
    json_error_t jerr;
    double bps, v;
    int rc;

    memset(r, 0, sizeof(*r));
    root = json_loads(json ? json : "", 0, &jerr);
    if (!root || !json_is_object(root)) {
        rc = errbuf_set(err, errlen, -EPROTO, "iperf3 report is not a JSON object: %s",
                        root ? "wrong type" : jerr.text);
        goto out;
    }
    e = json_object_get(root, "error");
    if (json_is_string(e)) {
        rc = errbuf_set(err, errlen, -EIO, "iperf3: %s", json_string_value(e));
        goto out;
    }
    start = json_object_get(json_object_get(root, "start"), "test_start");
    proto = json_string_value(json_object_get(start, "protocol"));
    if (!proto || (strcmp(proto, "TCP") && strcmp(proto, "UDP"))) {
        rc = errbuf_set(err, errlen, -EPROTO,
                        "iperf3 report: start.test_start.protocol is missing or not TCP/UDP");
        goto out;
    }
    r->udp = !strcmp(proto, "UDP");
    r->reverse = json_is_true(json_object_get(start, "reverse")) ||
                 json_integer_value(json_object_get(start, "reverse")) != 0;
    end = json_object_get(root, "end");
    if (!json_is_object(end) || !json_object_size(end)) {
        rc = errbuf_set(err, errlen, -EPROTO,
                        "iperf3 report has no \"end\" section (the test did not finish)");
        goto out;
    }
    recv = json_object_get(end, "sum_received");
    sent = json_object_get(end, "sum_sent");
    if (r->udp && !json_is_object(recv))
        recv = json_object_get(end, "sum");
    if (!json_is_object(recv)) {
        rc = errbuf_set(err, errlen, -EPROTO, "iperf3 report: end.sum_received is missing");
        goto out;
    }
    /*
     * The receiver's figures are what arrived. A sending server's report (-R) has zeros in
     * sum_received: then its own sent figures are the best this report has.
     */
    r->receiver_side = json_number_value(json_object_get(recv, "bytes")) > 0 ||
                       !json_is_object(sent) ||
                       json_number_value(json_object_get(sent, "bytes")) <= 0;
    rc = get_number(r->receiver_side ? recv : sent,
                    r->receiver_side ? "end.sum_received" : "end.sum_sent", "bits_per_second", &bps,
                    err, errlen);
    if (!rc)
        rc = get_number(recv, "end.sum_received", "seconds", &r->seconds, err, errlen);
    if (rc)
        goto out;
    r->gbps = bps / 1e9;
    if (json_is_object(sent) && json_is_integer(json_object_get(sent, "retransmits"))) {
        r->has_retransmits = true;
        r->retransmits = json_integer_value(json_object_get(sent, "retransmits"));
    }
    if (r->udp) {
        json_t *lost = json_object_get(recv, "lost_packets");

        rc = get_number(recv, "end.sum_received", "packets", &v, err, errlen);
        if (rc)
            goto out;
        r->packets = (long long)v;
        /* iperf3 counts reordered datagrams as negative loss; never below zero here */
        if (!json_is_number(lost)) {
            rc = errbuf_set(err, errlen, -EPROTO,
                            "iperf3 report: end.sum_received.lost_packets is missing");
            goto out;
        }
        r->lost_packets = (long long)json_number_value(lost);
        if (r->lost_packets < 0)
            r->lost_packets = 0;
        if (r->lost_packets > r->packets)
            r->lost_packets = r->packets;
        r->lost_percent = json_number_value(json_object_get(recv, "lost_percent"));
        if (!isfinite(r->lost_percent) || r->lost_percent < 0)
            r->lost_percent = 0;
        if (r->seconds <= 0) {
            rc = errbuf_set(err, errlen, -EPROTO, "iperf3 report: UDP interval of 0 s");
            goto out;
        }
        r->pps = (double)(r->packets - r->lost_packets) / r->seconds;
    }
    rc = parse_intervals(root, r, err, errlen);
out:
    json_decref(root);
    return rc;
}

void iperf_result_merge(const struct iperf_result *server, const struct iperf_result *client,
                        struct iperf_result *out)
{
    *out = *server;
    if (!client)
        return;
    if (!out->receiver_side && client->receiver_side) {
        out->receiver_side = true;
        out->gbps = client->gbps;
        out->seconds = client->seconds;
        if (out->udp) {
            out->packets = client->packets;
            out->lost_packets = client->lost_packets;
            out->lost_percent = client->lost_percent;
            out->pps = client->pps;
        }
    }
    if (!out->intervals_receiver_side && client->intervals_receiver_side) {
        out->intervals_receiver_side = true;
        out->nintervals = client->nintervals;
        memcpy(out->interval_gbps, client->interval_gbps, sizeof(out->interval_gbps));
        out->interval_median_gbps = client->interval_median_gbps;
        out->stalled_intervals = client->stalled_intervals;
    }
    if (!out->has_retransmits && client->has_retransmits) {
        out->has_retransmits = true;
        out->retransmits = client->retransmits;
    }
}
