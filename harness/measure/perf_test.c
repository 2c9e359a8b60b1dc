/* SPDX-License-Identifier: MIT */
/* perf_test - what a test hands the iteration loop; see perf_test.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "perf_test.h"
#include "report.h"

int perf_emit(struct perf_iter *it, const char *metric, const char *unit, double value, char *err,
              size_t errlen)
{
    size_t used = strlen(it->figures);

    /* Whole numbers for large figures (2710 ms), four significant digits for small (1.532). */
    snprintf(it->figures + used, sizeof(it->figures) - used,
             fabs(value) >= 1000 ? "%s%s %.0f %s" : "%s%s %.4g %s", used ? ", " : "", metric, value,
             unit);
    if (it->warmup || !it->report)
        return 0;
    return report_add_sample(it->report, metric, unit, value, err, errlen);
}

int perf_emit_detail(struct perf_iter *it, const char *metric, const char *unit, double value,
                     char *err, size_t errlen)
{
    if (it->warmup || !it->report)
        return 0;
    return report_add_sample(it->report, metric, unit, value, err, errlen);
}
