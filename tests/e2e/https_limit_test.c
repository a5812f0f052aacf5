/*
 * https_limit_test.c - the HTTPS API's connection limit
 * (https_max_connections), over real TLS on loopback: at the limit the
 * listener stops accepting, so the next client waits in the kernel's
 * listen queue (its handshake unanswered) until one connection closes,
 * then is served; every way a connection ends gives its slot back (the
 * count in /metrics, read over the dev profile's plain HTTP port, which
 * takes no HTTPS slot); hubd stops cleanly with connections open at the
 * limit (run under AddressSanitizer by `make test`).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "../lib/hubproc.h"

static struct hubproc hub;

static void start_limit_3(void)
{
    cr_assert_eq(hub_start(&hub, "https_max_connections = 3", false), 0,
                 "hubd did not start");
}

static void start_limit_1_short_timeout(void)
{
    cr_assert_eq(hub_start(&hub, "https_max_connections = 1\n"
                           "http_timeout = 1", false), 0,
                 "hubd did not start");
}

static void stop(void)
{
    hub_cleanup(&hub);
}

/* The value of an unlabelled /metrics line `name`, -1 when absent. Over
 * plain HTTP: a scrape over HTTPS would take one of the slots counted. */
static long metric(const char *name)
{
    struct http_resp r;
    long v = -1;
    char key[96];

    if (http_call(&hub, false, "GET", "/metrics", NULL, NULL, NULL, 0, NULL,
                  &r) != 0)
        return -1;
    snprintf(key, sizeof(key), "\n%s ", name);
    const char *p = r.body ? strstr(r.body, key) : NULL;
    if (p)
        v = strtol(p + strlen(key), NULL, 10);
    http_resp_free(&r);
    return v;
}

/* polls metric(name) until it is want (bounded) */
static bool wait_metric(const char *name, long want, int ms)
{
    double deadline = hub_mono_ms() + ms;
    for (;;) {
        if (metric(name) == want)
            return true;
        if (hub_mono_ms() > deadline)
            return false;
        hub_sleep_ms(20);
    }
}

/* GET /healthz on an open connection: its status, -1 with no answer */
static long healthz(struct mllp_client *c, int timeout_ms)
{
    const char *req = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    char resp[2048];
    if (mllp_send_raw(c, req, strlen(req)) != 0 ||
        http_raw_response(c, resp, sizeof(resp), timeout_ms) <= 0)
        return -1;
    return strncmp(resp, "HTTP/1.1 ", 9) == 0 ? strtol(resp + 9, NULL, 10)
                                              : -1;
}

/* A TLS connection whose handshake is started and not waited for: the
 * TCP connect completes in the kernel's listen queue whether or not hubd
 * accepts; the ClientHello is sent; the answer comes only once hubd has
 * accepted the connection. Returns true when the handshake is still
 * waiting (false: done already, or failed). */
static bool tls_begin(struct mllp_client *c, int port)
{
    struct sockaddr_in a = { 0 };
    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(c->fd, 0);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(c->fd, (struct sockaddr *)&a, sizeof(a)), 0,
                 "connect: errno %d", errno);
    cr_assert_eq(fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK),
                 0);
    c->ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(c->ctx, hub_path(&hub, "certs/ca.crt"),
                                  NULL);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    int r = SSL_connect(c->ssl);
    bool waiting = r < 0 && SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ;
    ERR_clear_error();
    return waiting;
}

/* the handshake of tls_begin, finished within ms: 0, or -1 */
static int tls_finish(struct mllp_client *c, int ms)
{
    double deadline = hub_mono_ms() + ms;
    for (;;) {
        int r = SSL_connect(c->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(c->ssl, r);
        int left = (int)(deadline - hub_mono_ms());
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
            left <= 0) {
            ERR_clear_error();
            return -1;
        }
        struct pollfd pf = { c->fd, e == SSL_ERROR_WANT_READ ? POLLIN
                                                             : POLLOUT, 0 };
        (void)poll(&pf, 1, left);
    }
}

/* true when hubd sent anything (its ServerHello) within ms */
static bool answered(const struct mllp_client *c, int ms)
{
    struct pollfd pf = { c->fd, POLLIN, 0 };
    return poll(&pf, 1, ms) > 0;
}

/* A small limit: N connections are served; the N+1th connects (the
 * kernel's queue) but its handshake gets no answer, so it costs hubd no
 * SSL and no buffer, until one of the N closes; then it is served. The
 * gauges and the counter follow, and the log says when the limit is
 * reached and left (no address: counts only). */
Test(https_limit, the_connection_past_the_limit_waits_until_one_closes,
     .init = start_limit_3, .fini = stop, .timeout = 60)
{
    struct mllp_client c[3], late;

    cr_expect_eq(metric("hub_https_max_connections"), 3);
    cr_expect_eq(metric("hub_https_open_connections"), 0);
    cr_expect_eq(metric("hub_https_accept_paused"), 0);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(mllp_connect(&c[i], hub.https, &hub, ""), 0,
                     "connection %d of 3", i + 1);
        cr_expect_eq(healthz(&c[i], 5000), 200, "connection %d served",
                     i + 1);
    }
    cr_expect(wait_metric("hub_https_open_connections", 3, 5000));
    cr_expect_eq(metric("hub_https_accept_paused"), 1);
    cr_expect_eq(metric("hub_https_accept_pauses_total"), 1);
    cr_expect(hub_wait_log(&hub, "http.conn_limit_reached open=3 max=3", 1,
                           5000), "the log says the limit was reached");

    cr_expect(tls_begin(&late, hub.https) && !answered(&late, 1500),
              "the 4th connection is not served while 3 are open");
    cr_expect_eq(metric("hub_https_open_connections"), 3);
    /* the ones open are still served meanwhile */
    cr_expect_eq(healthz(&c[2], 5000), 200);

    mllp_close(&c[0]);
    cr_assert_eq(tls_finish(&late, 5000), 0, "served once one closed");
    cr_expect_eq(healthz(&late, 5000), 200);
    cr_expect(wait_metric("hub_https_open_connections", 3, 5000));
    cr_expect_eq(metric("hub_https_accept_paused"), 1, "full again");
    cr_expect_eq(metric("hub_https_accept_pauses_total"), 2);

    mllp_close(&late);
    mllp_close(&c[1]);
    mllp_close(&c[2]);
    cr_expect(wait_metric("hub_https_open_connections", 0, 5000));
    cr_expect_eq(metric("hub_https_accept_paused"), 0);
    cr_expect(hub_wait_log(&hub, "http.conn_limit_left open=", 1, 5000),
              "the log says the limit was left");
    cr_expect_eq(hub_log_count(&hub, "http.conn_limit_reached"), 1,
                 "one line for the run of pauses, not one per pause");
}

/* Each way a connection ends gives its slot back, with a limit of one:
 * the client closes it, the idle timeout (http_timeout) closes it after a
 * request, a handshake fails (bytes that are not TLS), a client never
 * sends its ClientHello (closed by the timeout). After each the count in
 * /metrics is back to 0 and the next client is served: a slot not given
 * back would leave it waiting in the listen queue for ever. */
static void next_client_is_served(const char *after)
{
    struct mllp_client c;
    cr_expect(wait_metric("hub_https_open_connections", 0, 5000),
              "the count is 0 again after %s", after);
    cr_expect_eq(metric("hub_https_accept_paused"), 0, "after %s", after);
    (void)tls_begin(&c, hub.https);     /* done or waiting: finished below */
    cr_expect_eq(tls_finish(&c, 5000), 0, "a client is served after %s",
                 after);
    cr_expect_eq(healthz(&c, 5000), 200, "after %s", after);
    mllp_close(&c);
}

Test(https_limit, every_way_a_connection_ends_gives_its_slot_back,
     .init = start_limit_1_short_timeout, .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    const char *o = "hub_https_open_connections";

    cr_assert_eq(metric(o), 0);

    /* closed by the client */
    cr_assert_eq(mllp_connect(&c, hub.https, &hub, ""), 0);
    cr_expect_eq(healthz(&c, 5000), 200);
    cr_expect_eq(metric(o), 1);
    cr_expect_eq(metric("hub_https_accept_paused"), 1);
    mllp_close(&c);
    next_client_is_served("a close by the client");

    /* closed by the idle timeout, after a request */
    cr_assert_eq(mllp_connect(&c, hub.https, &hub, ""), 0);
    cr_expect_eq(healthz(&c, 5000), 200);
    double t0 = hub_mono_ms();
    cr_expect(mllp_closed(&c, 8000), "closed by hubd when idle");
    cr_expect_geq(hub_mono_ms() - t0, 500, "by the timeout, not at once");
    next_client_is_served("the idle timeout");
    mllp_close(&c);

    /* a failed handshake: plain HTTP sent to the TLS port */
    const char *plain = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    cr_assert_eq(mllp_connect(&c, hub.https, &hub, NULL), 0);
    cr_assert_eq(mllp_send_raw(&c, plain, strlen(plain)), 0);
    cr_expect(mllp_closed(&c, 5000), "hubd closes a handshake that fails");
    next_client_is_served("a failed handshake");
    mllp_close(&c);

    /* a handshake never started: the timeout closes it */
    cr_assert_eq(mllp_connect(&c, hub.https, &hub, NULL), 0);
    cr_expect(wait_metric(o, 1, 5000));
    cr_expect(mllp_closed(&c, 8000), "a silent client is closed");
    next_client_is_served("a handshake never started");
    mllp_close(&c);
    cr_expect_geq(metric("hub_https_accept_pauses_total"), 4);
}

/* SIGTERM while the limit holds: connections open (one idle after a
 * request, one in the middle of a request head), one waiting in the
 * listen queue with its handshake unanswered. hubd exits 0 in time, and
 * after its event base is freed every SSL it made is freed too (the count
 * is 0). Under `make test`'s AddressSanitizer pass a use after free or a
 * leak of these connections makes hubd's exit status non-zero. */
Test(https_limit, hubd_stops_cleanly_with_connections_open_at_the_limit,
     .init = start_limit_3, .fini = stop, .timeout = 60)
{
    struct mllp_client c[3], late;
    const char *part = "POST /v1/hl7v2 HTTP/1.1\r\nHost: localhost\r\n";

    cr_assert_eq(mllp_connect(&c[0], hub.https, &hub, ""), 0);
    cr_expect_eq(healthz(&c[0], 5000), 200);
    cr_assert_eq(mllp_connect(&c[1], hub.https, &hub, ""), 0);
    cr_assert_eq(mllp_send_raw(&c[1], part, strlen(part)), 0);
    cr_assert_eq(mllp_connect(&c[2], hub.https, &hub, NULL), 0);
    cr_expect(wait_metric("hub_https_open_connections", 3, 5000));
    cr_expect(tls_begin(&late, hub.https) && !answered(&late, 500),
              "the 4th waits in the queue");

    cr_expect_eq(hub_stop(&hub), 0, "hubd exits 0 with connections open");
    cr_expect_eq(hub_log_count(&hub, "hubd.exited https_conns=0"), 1,
                 "every SSL object freed at exit");
    for (int i = 0; i < 3; i++)
        mllp_close(&c[i]);
    mllp_close(&late);
}

/* ---- a slow client is cut (F420) ------------------------------------------
 * http_timeout is a read timeout, which each byte starts again: one host
 * that trickled its handshake or its request, or sent TLS records with no
 * request byte in them while it waited, held an HTTPS slot for ever, and
 * https_max_connections of them kept every partner out. Each way below is
 * a byte (or a key update) every 200 ms with http_timeout = 1: the slot is
 * given back within a few seconds, the log says why (counts only), and the
 * next client is served. Before the fix each one held its slot. */

/* Sends the next byte of p every 200 ms, through c's TLS session (a
 * record each) when c has one, else raw (a handshake's bytes); with p NULL
 * a TLS 1.3 key update instead; until hubd gives the slot back: the ms
 * that took, -1 when it held it past 8 s. */
static double trickle_until_cut(struct mllp_client *c, const char *p,
                                size_t n)
{
    double t0 = hub_mono_ms();
    size_t i = 0;

    while (hub_mono_ms() - t0 < 8000) {
        if (p && i < n) {
            if (c->ssl)
                (void)mllp_send_raw(c, p + i, 1);
            else
                (void)send(c->fd, p + i, 1, MSG_NOSIGNAL);
            i++;
        } else if (!p) {
            if (SSL_key_update(c->ssl, SSL_KEY_UPDATE_NOT_REQUESTED) != 1 ||
                SSL_do_handshake(c->ssl) != 1)
                ERR_clear_error();
        }
        ERR_clear_error();
        hub_sleep_ms(200);
        if (metric("hub_https_open_connections") == 0)
            return hub_mono_ms() - t0;
    }
    return -1;
}

Test(https_limit, a_client_that_trickles_loses_its_slot,
     .init = start_limit_1_short_timeout, .fini = stop, .timeout = 90)
{
    struct mllp_client c;
    double ms;

    signal(SIGPIPE, SIG_IGN);

    /* a request head, a byte at a time */
    cr_assert_eq(mllp_connect(&c, hub.https, &hub, ""), 0);
    const char *slow = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
                       "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    ms = trickle_until_cut(&c, slow, strlen(slow));
    cr_expect(ms >= 0 && ms < 5000, "a trickled head is cut: %.0f ms", ms);
    cr_expect(hub_wait_log(&hub, "http.slow_client fd=", 1, 5000));
    cr_expect_geq(hub_log_count(&hub, "phase=request"), 1);
    mllp_close(&c);
    next_client_is_served("a trickled request head");

    /* a body, a byte at a time (the head whole) */
    cr_assert_eq(mllp_connect(&c, hub.https, &hub, ""), 0);
    const char *head = "POST /v1/hl7v2 HTTP/1.1\r\nHost: localhost\r\n"
                       "Content-Length: 400\r\n\r\n";
    cr_assert_eq(mllp_send_raw(&c, head, strlen(head)), 0);
    char body[401];
    memset(body, 'b', 400);
    body[400] = '\0';
    ms = trickle_until_cut(&c, body, 400);
    cr_expect(ms >= 0 && ms < 5000, "a trickled body is cut: %.0f ms", ms);
    mllp_close(&c);
    next_client_is_served("a trickled body");

    /* the handshake, a byte at a time: a ClientHello made in memory */
    SSL_CTX *cx = SSL_CTX_new(TLS_client_method());
    SSL *s = SSL_new(cx);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    char *hello;
    SSL_set_bio(s, rb, wb);
    SSL_set_tlsext_host_name(s, "localhost");
    cr_assert_eq(SSL_connect(s), -1);
    ERR_clear_error();
    long hn = BIO_get_mem_data(wb, &hello);
    cr_assert(hn > 50);
    cr_assert_eq(mllp_connect(&c, hub.https, &hub, NULL), 0);
    ms = trickle_until_cut(&c, hello, (size_t)hn);
    cr_expect(ms >= 0 && ms < 5000, "a trickled handshake is cut: %.0f ms",
              ms);
    cr_expect_geq(hub_log_count(&hub, "phase=handshake"), 1);
    SSL_free(s);
    SSL_CTX_free(cx);
    mllp_close(&c);
    next_client_is_served("a trickled handshake");

    /* waiting for a request, sending key updates (TLS records, no byte of
     * a request): no longer than http_timeout */
    cr_assert_eq(mllp_connect(&c, hub.https, &hub, ""), 0);
    cr_expect_eq(healthz(&c, 5000), 200);
    ms = trickle_until_cut(&c, NULL, 0);
    cr_expect(ms >= 0 && ms < 5000, "an idle connection sending key updates "
              "is cut: %.0f ms", ms);
    cr_expect_geq(hub_log_count(&hub, "phase=idle"), 1);
    mllp_close(&c);
    next_client_is_served("key updates while idle");
}

/* ---- what clients with no credentials can make hubd hold (F422) ----------
 * libevent keeps a request's body until it is whole, and the hub learns who
 * sent it only then: https_max_connections clients each sending max_body
 * (and not the last byte) made hubd hold 1024 x 16 MiB. With max_body and
 * inflight_max_bytes 4 MiB, eight connections each send a head saying 4
 * MiB and 3 MiB of it, no credentials: hubd cuts the one holding the most
 * whenever the sum passes 4 MiB, so one connection is left (without the
 * cap all eight, holding 24 MiB until http_timeout) and its peak memory
 * grows by well under the 24 MiB sent, the log says so (counts only), and
 * a small request is still served. */
static void start_small_receive_cap(void)
{
    cr_assert_eq(hub_start(&hub, "max_body = 4M\ninflight_max_bytes = 4M",
                           false), 0, "hubd did not start");
}

Test(https_limit, bodies_being_received_are_held_to_inflight_max_bytes,
     .init = start_small_receive_cap, .fini = stop, .timeout = 90)
{
    enum { N = 8, PART = 3 << 20 };
    static struct mllp_client c[N];
    static char part[PART];
    const char *head = "POST /v1/hl7v2 HTTP/1.1\r\nHost: localhost\r\n"
                       "Content-Length: 4194304\r\n\r\n";

    signal(SIGPIPE, SIG_IGN);
    memset(part, 'x', sizeof(part));
    long peak0 = hub_peak_kib(&hub);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(mllp_connect(&c[i], hub.https, &hub, ""), 0);
        (void)mllp_send_raw(&c[i], head, strlen(head));
        (void)mllp_send_raw(&c[i], part, sizeof(part));  /* may be cut */
    }
    cr_expect(hub_wait_log(&hub, "http.receive_cap fd=", N - 1, 10000),
              "the log says a connection was cut at the cap");
    /* 3 MiB each against 4 MiB + 256 KiB: one is left, the rest closed */
    long open = -1;
    for (double t0 = hub_mono_ms(); hub_mono_ms() - t0 < 5000; hub_sleep_ms(20))
        if ((open = metric("hub_https_open_connections")) <= 1)
            break;
    cr_expect(open >= 0 && open <= 1, "%ld of %d connections left", open, N);
#ifndef __SANITIZE_ADDRESS__
    /* (AddressSanitizer keeps what is freed in quarantine a while: its
     * peak is what was allocated, not what is held) */
    long peak = hub_peak_kib(&hub);
    cr_expect(peak0 > 0 && peak - peak0 < 14 * 1024, "hubd's peak memory "
              "grew by %ld KiB for %d MiB sent", peak - peak0, N * 3);
#else
    (void)peak0;
#endif
    struct mllp_client s;
    cr_assert_eq(mllp_connect(&s, hub.https, &hub, ""), 0);
    cr_expect_eq(healthz(&s, 5000), 200, "a small request is served");
    mllp_close(&s);
    for (int i = 0; i < N; i++)
        mllp_close(&c[i]);
}
