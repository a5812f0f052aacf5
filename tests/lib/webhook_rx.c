/*
 * webhook_rx.c - see webhook_rx.h.
 */
#include "webhook_rx.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/hub_err.h"

int64_t rx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rx_reply_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evhttp_send_reply(arg, 200, "OK", NULL);
}

/* RX_HOLD's timer, every 10 ms while requests are held: once released,
 * each is answered. */
static void rx_hold_tick(evutil_socket_t fd, short what, void *arg)
{
    struct rx *r = arg;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&r->mu);
    bool released = r->released;
    pthread_mutex_unlock(&r->mu);
    if (!released)
        return;
    for (int i = 0; i < r->n_held; i++)
        evhttp_send_reply(r->held[i], 200, "OK", NULL);
    r->n_held = 0;
    event_del(r->hold_ev);
}

static void rx_hold(struct rx *r, struct evhttp_request *req)
{
    if (r->n_held == RX_MAX_HELD) {
        evhttp_send_reply(req, 503, "Held enough", NULL);
        return;
    }
    r->held[r->n_held++] = req;
    struct timeval tv = { 0, 10 * 1000 };
    if (!event_pending(r->hold_ev, EV_TIMEOUT, NULL))
        event_add(r->hold_ev, &tv);
}

static void rx_on_request(struct evhttp_request *req, void *arg)
{
    struct rx *r = arg;
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *body = (const char *)evbuffer_pullup(in, -1);
    const char *id = evhttp_find_header(h, "webhook-id");
    const char *ts = evhttp_find_header(h, "webhook-timestamp");
    const char *sig = evhttp_find_header(h, "webhook-signature");
    bool ok = id && ts && sig && body &&
              webhook_verify(&r->secret, id, ts, body, len, sig);
    const char *ua = evhttp_find_header(h, "User-Agent");
    bool ua_ok = ua && strcmp(ua, "care-hub-webhooks/1") == 0;
    char key[16] = "";

    /* the test's events carry their message key as "k" (no patient data);
     * the body is not NUL-terminated: search a terminated copy */
    char *text = malloc(len + 1);
    if (!text)
        abort();
    if (len)
        memcpy(text, body, len);
    text[len] = '\0';
    const char *k = strstr(text, "\"k\": \"");
    if (k) {
        size_t n = strcspn(k + 6, "\"");
        if (n < sizeof(key)) {
            memcpy(key, k + 6, n);
            key[n] = '\0';
        }
    }
    free(text);
    pthread_mutex_lock(&r->mu);
    int nth = r->requests++;
    if (!ok)
        r->bad_sigs++;
    if (!ua_ok)
        r->no_user_agent++;
    if (r->n_ids < RX_MAX_IDS) {
        snprintf(r->ids[r->n_ids], sizeof(r->ids[0]), "%s", id ? id : "");
        snprintf(r->bodies_key[r->n_ids], sizeof(r->bodies_key[0]), "%s", key);
        r->at_ms[r->n_ids] = rx_now_ms();
        r->n_ids++;
    }
    enum rx_mode mode = r->mode;
    int fail_n = r->fail_n;
    bool released = r->released;
    pthread_mutex_unlock(&r->mu);
    /* a long answer's body (an error page), or none */
    struct evbuffer *page = NULL;
    if (r->body_bytes > 0 && (mode == RX_FAIL_N || mode == RX_GONE)) {
        page = evbuffer_new();
        char chunk[1024];
        memset(chunk, 'x', sizeof(chunk));
        for (int left = r->body_bytes; left > 0; left -= (int)sizeof(chunk))
            evbuffer_add(page, chunk, left < (int)sizeof(chunk)
                                          ? (size_t)left : sizeof(chunk));
    }

    switch (mode) {
    case RX_OK:
        evhttp_send_reply(req, 204, "No Content", NULL);
        break;
    case RX_FAIL_N:
        if (nth >= fail_n && r->delay_ms > 0) {
            struct timeval tv = { r->delay_ms / 1000,
                                  (r->delay_ms % 1000) * 1000 };
            event_base_once(r->base, -1, EV_TIMEOUT, rx_reply_later, req,
                            &tv);
            break;
        }
        if (nth < fail_n && r->fail_header[0][0])
            evhttp_add_header(evhttp_request_get_output_headers(req),
                              r->fail_header[0], r->fail_header[1]);
        evhttp_send_reply(req, nth >= fail_n ? 200 : r->fail_status
                                                     ? r->fail_status : 500,
                          "x", nth >= fail_n ? NULL : page);
        break;
    case RX_FAIL_MARKED:
        evhttp_send_reply(req, strstr(key, "poison") ? 500 : 200, "x", NULL);
        break;
    case RX_GONE:
        evhttp_send_reply(req, 410, "Gone", page);
        break;
    case RX_HANG:
        break;                  /* never answer: the dispatcher times out */
    case RX_SLOW: {
        struct timeval tv = { r->delay_ms / 1000, (r->delay_ms % 1000) * 1000 };
        event_base_once(r->base, -1, EV_TIMEOUT, rx_reply_later, req, &tv);
        break;
    }
    case RX_HOLD:
        if (released)
            evhttp_send_reply(req, 200, "OK", NULL);
        else
            rx_hold(r, req);
        break;
    }
    if (page)
        evbuffer_free(page);
}

static void *rx_run(void *arg)
{
    struct rx *r = arg;
    event_base_dispatch(r->base);
    return NULL;
}

static void rx_count_connection(struct rx *r)
{
    pthread_mutex_lock(&r->mu);
    r->connections++;
    pthread_mutex_unlock(&r->mu);
}

/* each HTTP connection: a plain bufferevent, counted */
static struct bufferevent *rx_plain_bev(struct event_base *base, void *arg)
{
    rx_count_connection(arg);
    return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

/* each HTTPS connection: a TLS server bufferevent */
static struct bufferevent *rx_tls_bev(struct event_base *base, void *arg)
{
    struct rx *r = arg;
    rx_count_connection(r);
    return bufferevent_openssl_socket_new(base, -1, SSL_new(r->tls),
                                          BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

struct rx *rx_start_tls(enum rx_mode mode, const char *secret,
                        const char *cert, const char *key,
                        const char *client_ca)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (client_ca) {
        if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
                                SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    struct rx *r = rx_start(mode, secret);
    if (!r) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    r->tls = ctx;       /* read by rx_tls_bev on the receiver's thread only
                           for connections accepted after this point */
    evhttp_set_bevcb(r->http, rx_tls_bev, r);
    return r;
}

struct rx *rx_start(enum rx_mode mode, const char *secret)
{
    struct rx *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->mode = mode;
    pthread_mutex_init(&r->mu, NULL);
    /* libevent writes an answer with writev(), not send(MSG_NOSIGNAL): a
     * long error page to a dispatcher that stopped reading at its limit
     * and closed raised SIGPIPE and killed the test (seen once under ASan,
     * dispatch::a_long_error_page_does_not_hide_the_status) */
    signal(SIGPIPE, SIG_IGN);
    if (webhook_secret_parse(secret, &r->secret, NULL) != HUB_OK) {
        free(r);
        return NULL;
    }
    r->base = event_base_new();
    r->hold_ev = event_new(r->base, -1, EV_PERSIST, rx_hold_tick, r);
    r->http = evhttp_new(r->base);
    evhttp_set_gencb(r->http, rx_on_request, r);
    evhttp_set_bevcb(r->http, rx_plain_bev, r);
    struct evhttp_bound_socket *bs =
        evhttp_bind_socket_with_handle(r->http, "127.0.0.1", 0);
    if (!bs) {
        evhttp_free(r->http);
        event_free(r->hold_ev);
        event_base_free(r->base);
        free(r);
        return NULL;
    }
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl);
    r->port = ntohs(sa.sin_port);
    if (pthread_create(&r->th, NULL, rx_run, r) != 0)
        abort();
    return r;
}

void rx_close_idle_after(struct rx *r, int secs)
{
    evhttp_set_timeout(r->http, secs);
}

void rx_stop(struct rx *r)
{
    event_base_loopbreak(r->base);
    pthread_join(r->th, NULL);
    evhttp_free(r->http);
    event_free(r->hold_ev);
    event_base_free(r->base);
    pthread_mutex_destroy(&r->mu);
    SSL_CTX_free(r->tls);
    free(r);
}

void rx_release(struct rx *r)
{
    pthread_mutex_lock(&r->mu);
    r->released = true;
    pthread_mutex_unlock(&r->mu);
}

int rx_requests(struct rx *r)
{
    pthread_mutex_lock(&r->mu);
    int n = r->requests;
    pthread_mutex_unlock(&r->mu);
    return n;
}

int rx_distinct_ids(struct rx *r, int *ids)
{
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (int x = 0; x < r->n_ids; x++) {
        bool seen = false;
        for (int y = 0; y < x && !seen; y++)
            seen = strcmp(r->ids[x], r->ids[y]) == 0;
        n += !seen;
    }
    if (ids)
        *ids = r->n_ids;
    pthread_mutex_unlock(&r->mu);
    return n;
}

bool rx_wait_distinct(struct rx *r, int want, int ms)
{
    for (int64_t end = rx_now_ms() + ms; rx_now_ms() < end;) {
        if (rx_distinct_ids(r, NULL) >= want)
            return true;
        usleep(20 * 1000);
    }
    return false;
}

int rx_down_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        abort();
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    /* kept bound, never listening, until the test process exits: a connect
     * is refused, and neither a parallel test's listener nor a client's
     * ephemeral port (a TCP self-connect) can take the port meanwhile */
    return ntohs(sa.sin_port);
}

