/*
 * server.h - what the listeners of one hubd process share. Built by hubd.c,
 * read by the listeners and the API routes, all on the loop thread.
 */
#ifndef HUB_SERVER_H
#define HUB_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct event_base;
struct hub_config;
struct ingest;
struct dbpool;
struct auth;
struct dict;

struct server {
    struct event_base *base;
    const struct hub_config *cfg;
    struct ingest *ing;
    struct dbpool *db;              /* API reads, auth lookups */
    struct auth *auth;
    const struct dict *dict;        /* read-only, shared by the adapters */
    SSL_CTX *tls_mllp;              /* client certificate required */
    SSL_CTX *tls_https;             /* client certificate optional */
    bool stopping;
    /* the loop has ended and the ingest pipeline is freed: a request
     * answered while the pool stops submits nothing (api_ingest, F391) */
    bool down;
    uint64_t next_conn_id;
    char ports[1024];               /* "name=port\n" lines, see below */
    size_t ports_len;
};

/* Record a bound port ("mllp", "mllps", "https", "http") for the ports file
 * that tests and scripts read; hubd.c writes the file once all are bound
 * (server.c). */
void server_report_port(struct server *srv, const char *name, int port);

/* listen_mllp.c: every MLLP listener of the configuration */
struct mllp_server;
int mllp_server_new(struct server *srv, struct mllp_server **out)
    __attribute__((warn_unused_result));
/* Stop accepting and reading; connections close once their ACKs are out. */
void mllp_server_stop(struct mllp_server *ms);
/* Open connections (0 once every one has flushed and closed). */
size_t mllp_server_connections(const struct mllp_server *ms);
void mllp_server_free(struct mllp_server *ms);

/* listen_http.c: HTTPS (and plain HTTP in the dev profile) */
struct http_server;
int http_server_new(struct server *srv, struct http_server **out)
    __attribute__((warn_unused_result));
void http_server_stop(struct http_server *hs);
size_t http_server_pending(const struct http_server *hs);
/* How many answers were written since hubd began to stop: they may still
 * sit in their connections' output buffers, which the loop writes. */
size_t http_server_answered_stopping(const struct http_server *hs);
/* Answers every request still waiting 503 (Retry-After, `message`): at the
 * drain's deadline, so that no client is closed on unanswered. Returns how
 * many; each is freed when its owner answers it in turn. */
size_t http_server_answer_pending(struct http_server *hs, const char *message);
/* Free the listeners and their connections. The SSL objects of HTTPS
 * connections may outlive it until event_base_free (libevent's
 * finalizers); each gives its connection slot back when freed. */
void http_server_free(struct http_server *hs);
/* HTTPS connections whose SSL object is not freed yet, over every
 * http_server of the process: 0 after event_base_free, unless one leaked. */
size_t http_tls_open(void);

#endif
