/*
 * webhook_rx.h - a webhook receiver for tests: a libevent evhttp server on
 * an ephemeral loopback port, in a thread of its own, that verifies every
 * Standard Webhooks signature with one secret and records what it got
 * (webhook-id, the body's "k" member, arrival time). Its mode says how it
 * answers; change mode/fail_n under `mu`.
 */
#ifndef HUB_TEST_WEBHOOK_RX_H
#define HUB_TEST_WEBHOOK_RX_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <event2/http.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "webhook.h"

#define RX_MAX_IDS 512

enum rx_mode {
    RX_OK,              /* 204 */
    RX_FAIL_N,          /* the first fail_n requests get fail_status (500
                         * when 0) and fail_header, then 200 (after
                         * delay_ms, when set) */
    RX_GONE,            /* 410 */
    RX_HANG,            /* never answers */
    RX_SLOW,            /* 200 after delay_ms */
    RX_FAIL_MARKED,     /* 500 when the body's "k" holds "poison" */
    RX_HOLD,            /* 200 once rx_release() was called: the test
                         * says when each transfer ends (at most
                         * RX_MAX_HELD wait at once; more: 503) */
};

#define RX_MAX_HELD 64

struct rx {
    enum rx_mode mode;
    int fail_n;
    int fail_status;                    /* RX_FAIL_N's status; 0: 500 */
    char fail_header[2][160];           /* and its headers: name, value */
    int delay_ms;
    int body_bytes;                     /* RX_FAIL_N's and RX_GONE's answers
                                           carry a body this long */
    int port;
    struct webhook_secret secret;
    struct event_base *base;
    struct evhttp *http;
    SSL_CTX *tls;                       /* HTTPS receivers */
    pthread_t th;
    pthread_mutex_t mu;
    int requests, bad_sigs;
    int connections;                    /* TCP connections accepted */
    int no_user_agent;                  /* requests without ours */
    int n_ids;
    char ids[RX_MAX_IDS][40];
    char bodies_key[RX_MAX_IDS][16];    /* the "k" member of each body */
    int64_t at_ms[RX_MAX_IDS];          /* CLOCK_MONOTONIC ms */
    /* RX_HOLD: the requests waiting (the receiver's thread alone), the
     * timer that answers them once released (under mu) */
    struct evhttp_request *held[RX_MAX_HELD];
    int n_held;
    struct event *hold_ev;
    bool released;
};

/* NULL when it cannot bind; `secret` is a whsec_ string. Call
 * evthread_use_pthreads() first (rx_stop breaks the loop from outside). */
struct rx *rx_start(enum rx_mode mode, const char *secret);
/* The same over HTTPS with cert/key (PEM); client_ca (may be NULL): require
 * a client certificate signed by it (mutual TLS). */
struct rx *rx_start_tls(enum rx_mode mode, const char *secret,
                        const char *cert, const char *key,
                        const char *client_ca);
void rx_stop(struct rx *r);
/* Close a kept-alive connection after `secs` idle (evhttp's default is
 * 50 s). Call before the first request comes. */
void rx_close_idle_after(struct rx *r, int secs);
/* RX_HOLD: the requests held are answered 200 (within 10 ms), and every
 * later one at once. */
void rx_release(struct rx *r);
int rx_requests(struct rx *r);
/* How many distinct webhook-ids the receiver got (a retry of one delivery
 * keeps its id); *ids, when not NULL: the requests that carried one. */
int rx_distinct_ids(struct rx *r, int *ids);
/* Whether rx_distinct_ids comes to at least `want` within ms (polled). */
bool rx_wait_distinct(struct rx *r, int want, int ms);
/* A loopback port with nobody listening (reserved until the process
 * exits, so that nobody can start listening on it). */
int rx_down_port(void);
int64_t rx_now_ms(void);

#endif
