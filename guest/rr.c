/* SPDX-License-Identifier: MIT */
/* rr - summaries and the JSON line of the request/response loop; see rr.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "errbuf.h"
#include "rr.h"

static const char *const mode_names[] = {
    [RR_TCP_RR] = "tcp_rr",
    [RR_TCP_CRR] = "tcp_crr",
    [RR_UDP_RR] = "udp_rr",
};

const char *rr_mode_name(enum rr_mode mode)
{
    return (size_t)mode < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[mode] : "?";
}

int rr_mode_parse(const char *name, enum rr_mode *mode)
{
    for (size_t i = 0; name && i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
        if (!strcmp(name, mode_names[i])) {
            *mode = (enum rr_mode)i;
            return 0;
        }
    }
    return -EINVAL;
}

uint32_t rr_percentile(const uint32_t *sorted_ns, size_t n, double q)
{
    /* rank = ceil(q/100 * n); the small epsilon keeps 99.9% of 1000 at rank 999, not 1000,
     * where q/100 * n lands a hair above the integer in binary floating point */
    double exact = q / 100.0 * (double)n;
    size_t rank = (size_t)ceil(exact - 1e-9);

    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted_ns[rank - 1];
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

void rr_summarize(uint32_t *samples_ns, size_t n, struct rr_result *r)
{
    double sum = 0;

    r->transactions = n;
    memset(&r->latency_us, 0, sizeof(r->latency_us));
    if (!n)
        return;
    qsort(samples_ns, n, sizeof(*samples_ns), cmp_u32);
    for (size_t i = 0; i < n; i++)
        sum += samples_ns[i];
    r->latency_us = (struct rr_latency){
        .min = samples_ns[0] / 1000.0,
        .mean = sum / (double)n / 1000.0,
        .p50 = rr_percentile(samples_ns, n, 50) / 1000.0,
        .p90 = rr_percentile(samples_ns, n, 90) / 1000.0,
        .p99 = rr_percentile(samples_ns, n, 99) / 1000.0,
        .p999 = rr_percentile(samples_ns, n, 99.9) / 1000.0,
        .max = samples_ns[n - 1] / 1000.0,
    };
}

double rr_rate(const struct rr_result *r)
{
    return r->elapsed_us ? (double)r->transactions * 1e6 / (double)r->elapsed_us : 0;
}

char *rr_result_format(const struct rr_result *r)
{
    const struct rr_latency *l = &r->latency_us;
    json_t *o =
        json_pack("{s:s, s:I, s:I, s:I, s:I, s:{s:f, s:f, s:f, s:f, s:f, s:f, s:f}}", "mode",
                  rr_mode_name(r->mode), "size", (json_int_t)r->size, "transactions",
                  (json_int_t)r->transactions, "elapsed_us", (json_int_t)r->elapsed_us, "timeouts",
                  (json_int_t)r->timeouts, "latency_us", "min", l->min, "mean", l->mean, "p50",
                  l->p50, "p90", l->p90, "p99", l->p99, "p999", l->p999, "max", l->max);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;

    json_decref(o);
    return text;
}

/* A non-negative integer member; -EINVAL names it otherwise. */
static int get_count(json_t *o, const char *key, uint64_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return errbuf_set(err, errlen, -EINVAL, "\"%s\" is missing or not a count", key);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int rr_result_parse(const char *text, struct rr_result *r, char *err, size_t errlen)
{
    static const char *const keys[] = {"min", "mean", "p50", "p90", "p99", "p999", "max"};
    struct rr_latency *l = &r->latency_us;
    double *fields[] = {&l->min, &l->mean, &l->p50, &l->p90, &l->p99, &l->p999, &l->max};
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr), *lat;
    uint64_t size;
    int rc;

    memset(r, 0, sizeof(*r));
    if (!json_is_object(o)) {
        rc = errbuf_set(err, errlen, -EINVAL, "not a JSON object (%s)",
                        o ? "another JSON value" : jerr.text);
        goto out;
    }
    if (rr_mode_parse(json_string_value(json_object_get(o, "mode")), &r->mode)) {
        rc = errbuf_set(err, errlen, -EINVAL, "\"mode\" is missing or unknown");
        goto out;
    }
    rc = get_count(o, "size", &size, err, errlen);
    if (!rc)
        rc = get_count(o, "transactions", &r->transactions, err, errlen);
    if (!rc)
        rc = get_count(o, "elapsed_us", &r->elapsed_us, err, errlen);
    if (!rc)
        rc = get_count(o, "timeouts", &r->timeouts, err, errlen);
    if (rc)
        goto out;
    if (size < 1 || size > RR_MAX_SIZE) {
        rc = errbuf_set(err, errlen, -EINVAL, "\"size\" %llu is out of range (1 to %u)",
                        (unsigned long long)size, RR_MAX_SIZE);
        goto out;
    }
    r->size = (unsigned)size;
    if (!r->transactions || !r->elapsed_us) {
        rc = errbuf_set(err, errlen, -EINVAL, "no transaction completed (%llu in %llu us)",
                        (unsigned long long)r->transactions, (unsigned long long)r->elapsed_us);
        goto out;
    }
    lat = json_object_get(o, "latency_us");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(lat, keys[i]);

        if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0) {
            rc = errbuf_set(err, errlen, -EINVAL, "\"latency_us.%s\" is missing or not a time",
                            keys[i]);
            goto out;
        }
        *fields[i] = json_number_value(v);
    }
    if (!(l->min <= l->p50 && l->p50 <= l->p90 && l->p90 <= l->p99 && l->p99 <= l->p999 &&
          l->p999 <= l->max && l->min <= l->mean && l->mean <= l->max)) {
        rc = errbuf_set(err, errlen, -EINVAL,
                        "latencies out of order (min %g, p50 %g, p90 %g, p99 %g, p99.9 %g, "
                        "max %g, mean %g us)",
                        l->min, l->p50, l->p90, l->p99, l->p999, l->max, l->mean);
        goto out;
    }
out:
    json_decref(o);
    return rc;
}
