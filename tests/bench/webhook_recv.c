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
                if (nlat < LAT_MAX && t <= n && n - t < 3600000000ull)
                    lat[nlat++] = n - t;
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
    } else if (strcmp(uri, "/stats") == 0) {
        double p50 = 0, p99 = 0;
        if (nlat) {
            qsort(lat, nlat, sizeof(*lat), cmp_u64);
            p50 = (double)lat[(size_t)(0.50 * (double)(nlat - 1))] / 1e3;
            p99 = (double)lat[(size_t)(0.99 * (double)(nlat - 1))] / 1e3;
        }
        evbuffer_add_printf(out, "count=%llu lat_n=%zu p50_ms=%.3f "
                            "p99_ms=%.3f first_us=%llu last_us=%llu\n",
                            (unsigned long long)count, nlat, p50, p99,
                            (unsigned long long)first_us,
                            (unsigned long long)last_us);
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
    base = event_base_new();
    http = base ? evhttp_new(base) : NULL;
    if (!lat || !http) {
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
