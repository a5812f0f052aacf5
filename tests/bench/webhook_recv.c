/*
 * webhook_recv.c - loopback webhook receiver for `make bench`: answers every
 * POST with 204 at once, stores nothing, counts.
 *
 *   webhook_recv            listens on an ephemeral 127.0.0.1 port and
 *                           prints "port=N" once it accepts connections
 *
 *   GET /stats  -> "count=N lat_n=M p50_ms=A p99_ms=B first_us=F last_us=L"
 *                  (F and L: CLOCK_REALTIME of the first and the last POST
 *                  since the last reset, 0 before any)
 *   GET /stats?from_us=T -> the same, then "from_n=K from_p50_ms=C
 *                  from_p99_ms=D": the samples of messages sent at T or
 *                  later (the load client's measured window, after its
 *                  warm-up)
 *   GET /samples -> one line per sample since the last reset, in arrival
 *                  order: "SENT_US LATENCY_US" (to find when the slow
 *                  deliveries happened, beside the server's logs)
 *   GET /reset  -> clears the counters
 *
 * Latency: a body that carries a bench control id ("BM" + 18 digits, as the
 * load client writes it in rate mode: 16 digits of CLOCK_REALTIME in
 * microseconds, then 2 of a counter) gives one ingest-to-delivery sample:
 * now minus that send time. Sender and receiver share this machine's clock.
 * Single thread, libevent evhttp.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define LAT_MAX (4u << 20)  /* samples kept: 4 M, then counted only */

static uint64_t count;
static uint64_t first_us, last_us;  /* the first and last POST's time */
static uint64_t *lat;       /* microseconds */
static uint64_t *lat_sent;  /* each sample's send time (us, CLOCK_REALTIME) */
static size_t nlat;

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-th percentile (ms) of v[0..n), which this sorts; 0 when empty. */
static double pct_ms(uint64_t *v, size_t n, double q)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof(*v), cmp_u64);
    return (double)v[(size_t)(q * (double)(n - 1))] / 1e3;
}

/* Find "BM" + 18 digits in the body; the first 16 are the send time. */
static void sample(struct evbuffer *body)
{
    size_t len = evbuffer_get_length(body);
    const char *p = (const char *)evbuffer_pullup(body, (ssize_t)len);
    const char *end = p + len;
    uint64_t t = 0;
    int i;

    while (p && p + 20 <= end) {
        const char *bm = memchr(p, 'B', (size_t)(end - p) - 19);
        if (!bm)
            return;
        if (bm[1] == 'M') {
            for (i = 0; i < 18 && bm[2 + i] >= '0' && bm[2 + i] <= '9'; i++)
                if (i < 16)
                    t = t * 10 + (uint64_t)(bm[2 + i] - '0');
            if (i == 18) {
                uint64_t n = now_us();
                if (nlat < LAT_MAX && t <= n && n - t < 3600000000ull) {
                    lat_sent[nlat] = t;
                    lat[nlat++] = n - t;
                }
                return;
            }
            t = 0;
        }
        p = bm + 1;
    }
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const char *uri = evhttp_request_get_uri(req);
    struct evbuffer *out;

    (void)arg;
    if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
        last_us = now_us();
        if (count++ == 0)
            first_us = last_us;
        sample(evhttp_request_get_input_buffer(req));
        evhttp_send_reply(req, 204, "No Content", NULL);
        return;
    }
    out = evbuffer_new();
    if (strcmp(uri, "/reset") == 0) {
        count = 0;
        nlat = 0;
        first_us = last_us = 0;
    } else if (strcmp(uri, "/samples") == 0) {
        for (size_t i = 0; i < nlat; i++)
            evbuffer_add_printf(out, "%llu %llu\n",
                                (unsigned long long)lat_sent[i],
                                (unsigned long long)lat[i]);
    } else if (strncmp(uri, "/stats", 6) == 0) {
        const char *from = strstr(uri, "?from_us=");
        uint64_t from_us = from ? strtoull(from + 9, NULL, 10) : 0;
        size_t nfrom = 0;
        /* sorted copies: lat stays beside lat_sent */
        uint64_t *all = malloc((nlat ? nlat : 1) * sizeof(*all));
        uint64_t *w = from ? malloc((nlat ? nlat : 1) * sizeof(*w)) : NULL;
        if (!all) {
            evbuffer_free(out);
            evhttp_send_error(req, 500, NULL);
            free(w);
            return;
        }
        memcpy(all, lat, nlat * sizeof(*all));
        for (size_t i = 0; w && i < nlat; i++)
            if (lat_sent[i] >= from_us)
                w[nfrom++] = lat[i];
        evbuffer_add_printf(out, "count=%llu lat_n=%zu p50_ms=%.3f "
                            "p99_ms=%.3f first_us=%llu last_us=%llu",
                            (unsigned long long)count, nlat,
                            pct_ms(all, nlat, 0.50), pct_ms(all, nlat, 0.99),
                            (unsigned long long)first_us,
                            (unsigned long long)last_us);
        if (w)
            evbuffer_add_printf(out, " from_n=%zu from_p50_ms=%.3f "
                                "from_p99_ms=%.3f", nfrom,
                                pct_ms(w, nfrom, 0.50), pct_ms(w, nfrom, 0.99));
        evbuffer_add_printf(out, "\n");
        free(all);
        free(w);
    }
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

int main(void)
{
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bs;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);

    signal(SIGPIPE, SIG_IGN);
    lat = malloc(LAT_MAX * sizeof(*lat));
    lat_sent = malloc(LAT_MAX * sizeof(*lat_sent));
    base = event_base_new();
    http = base ? evhttp_new(base) : NULL;
    if (!lat || !lat_sent || !http) {
        fputs("webhook_recv: cannot start\n", stderr);
        return 1;
    }
    evhttp_set_gencb(http, on_request, NULL);
    evhttp_set_max_body_size(http, 16u << 20);
    bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    if (!bs || getsockname(evhttp_bound_socket_get_fd(bs),
                           (struct sockaddr *)&sa, &sl) != 0) {
        fputs("webhook_recv: cannot bind\n", stderr);
        return 1;
    }
    printf("port=%u\n", ntohs(sa.sin_port));
    fflush(stdout);
    event_base_dispatch(base);
    return 0;
}
