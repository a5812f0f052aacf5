/*
 * metrics_test.c - GET /metrics' text (hub/metrics.c): a histogram's
 * buckets cumulative up to +Inf, which is its _count, and its _sum printed
 * whole, so that a rate() of it over a scrape interval sees every
 * observation however large the sum has grown (F3660).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* the value of the sample line that starts with `name` and a space */
static double sample(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n')
                                                 + 1 : NULL)
        if (strncmp(l, name, n) == 0 && l[n] == ' ')
            return strtod(l + n + 1, NULL);
    cr_assert_fail("no %s in the metrics text", name);
    return 0;
}

static double render_sample(const char *name)
{
    size_t len;
    char *text = metrics_render(&len);
    double v = sample(text, name);
    free(text);
    return v;
}

Test(metrics, a_large_histogram_sum_still_moves_by_one_observation)
{
    const char *batch = "hub_commit_batch_size_sum";
    const char *ack = "hub_ack_latency_seconds_sum";
    const char *wh = "hub_webhook_latency_seconds_sum";

    /* a month of ingest: twelve million messages, a day of latency */
    metrics_commit_batch(12345678);
    metrics_ack_latency(86400.0);
    metrics_webhook_attempt(METRIC_WH_DELIVERED, 86400.0);
    double b0 = render_sample(batch), a0 = render_sample(ack);
    double w0 = render_sample(wh);
    metrics_commit_batch(3);
    metrics_ack_latency(0.002);
    metrics_webhook_attempt(METRIC_WH_DELIVERED, 0.25);
    cr_expect_eq(render_sample(batch) - b0, 3.0, "one batch of 3 moved the "
                 "sum by %g", render_sample(batch) - b0);
    cr_expect_float_eq(render_sample(ack) - a0, 0.002, 1e-9,
                       "one 2 ms answer moved the sum by %g",
                       render_sample(ack) - a0);
    cr_expect_float_eq(render_sample(wh) - w0, 0.25, 1e-9,
                       "one 250 ms attempt moved the sum by %g",
                       render_sample(wh) - w0);
}

Test(metrics, histogram_buckets_are_cumulative_up_to_inf_which_is_the_count)
{
    static const char *const fams[] = { "hub_ack_latency_seconds",
                                        "hub_commit_batch_size",
                                        "hub_webhook_latency_seconds" };
    size_t len;

    metrics_ack_latency(0.0001);
    metrics_ack_latency(0.3);
    metrics_ack_latency(30);
    metrics_commit_batch(1);
    metrics_commit_batch(100);
    metrics_commit_batch(5000);
    metrics_webhook_attempt(METRIC_WH_RETRY, 11);
    char *text = metrics_render(&len);
    for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
        char head[128], inf[128], count[128];
        snprintf(head, sizeof(head), "%s_bucket{le=\"", fams[f]);
        snprintf(inf, sizeof(inf), "%s_bucket{le=\"+Inf\"}", fams[f]);
        snprintf(count, sizeof(count), "%s_count", fams[f]);
        double prev = -1, prev_le = -1;
        int buckets = 0;
        for (const char *l = strstr(text, head); l && !strncmp(l, head,
                                                  strlen(head));
             l = strchr(l, '\n') + 1) {
            const char *le = l + strlen(head);
            double v = strtod(strchr(l, ' ') + 1, NULL);
            cr_expect_geq(v, prev, "%s: a bucket below the one before",
                          fams[f]);
            if (strncmp(le, "+Inf", 4) != 0) {
                double b = strtod(le, NULL);
                cr_expect_gt(b, prev_le, "%s: bounds in order", fams[f]);
                prev_le = b;
            }
            prev = v;
            buckets++;
        }
        cr_expect_gt(buckets, 2, "%s has buckets", fams[f]);
        cr_expect_eq(sample(text, inf), sample(text, count),
                     "%s: +Inf is the count", fams[f]);
        cr_expect_eq(prev, sample(text, count), "%s: +Inf comes last",
                     fams[f]);
    }
    free(text);
}
