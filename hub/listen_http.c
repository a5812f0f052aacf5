/*
 * listen_http.c - HTTPS (OpenSSL bufferevents through evhttp_set_bevcb) and,
 * in the dev profile only, plain HTTP; routing, authentication and scopes in
 * front of the handlers of api.h.
 *
 *   request -> Origin of another site, a method but GET/HEAD (403)
 *           -> route (404/405) -> public? ---------------------> handler
 *                                  \-> client cert fingerprint, else
 *                                      bearer token (where allowed) -> 401
 *                                      -> scopes (403) -> handler
 *   handler or its api_db() done -> api_reply*() exactly once
 *
 * At the drain's deadline (hubd.c) the requests still waiting are answered
 * 503 with Retry-After (http_server_answer_pending) rather than closed
 * unanswered; each stays allocated, detached from evhttp (req NULL), until
 * its owner's own late api_reply*() frees it, or its credential look-up
 * comes back (on_auth), which then frees it without running its handler.
 *
 * evhttp keeps an unanswered request alive even when its client goes away
 * (the reply then just frees it), so handlers may answer late safely: in
 * 2.1 a connection is not read while its request is in our hands (its
 * read is disabled once the body is in), so neither a close nor a
 * pipelined request is seen until the answer is written.
 * Limits: body (evhttp_set_max_body_size: 413 from the Content-Length or a
 * chunk size, before the body is read), headers, unread input (input_guard:
 * a connection holding more is cut), timeouts (evhttp's read timeout,
 * which each byte starts again, and for HTTPS the clocks of gate_sweep: a
 * handshake, a request, a wait for one, however slowly bytes come, F420).
 * libevent 2.1 answers a body over max_body and a request it cannot parse
 * itself, with an HTML page, before the request reaches on_request: it
 * has no hook for either (evhttp_set_newreqcb and evhttp_set_errorcb come
 * with 2.2), so those two are the API's only answers that are not JSON.
 * They are counted all the same (output_watch, F1401).
 *
 * Connections: HTTPS ones are limited (https_max_connections). evhttp 2.1
 * says nothing when a connection ends, but each HTTPS connection is one SSL
 * object, made in make_tls_bev and freed with its bufferevent
 * (BEV_OPT_CLOSE_ON_FREE) however the connection ends: the client, a
 * timeout, a failed handshake, an error, evhttp_free at shutdown. OpenSSL
 * calls the free function of an ex_data index when it frees the SSL, so
 * the gate below counts SSL objects exactly: one up in make_tls_bev, one
 * down in gate_ssl_freed. At the limit the listener stops accepting
 * (evconnlistener_disable): further clients wait in the kernel's listen
 * queue, holding no SSL and no buffer; the first SSL freed enables it again.
 *
 *   ACCEPTING --open reaches max--> PAUSED --an SSL freed--> ACCEPTING
 *   either --http_server_stop--> STOPPED (never enabled again)
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "api.h"
#include "auth.h"
#include "accept_guard.h"
#include "echo_name.h"
#include "heap_trim.h"
#include "common/arena.h"
#include "common/jw.h"
#include "config.h"
#include "dbpool.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "peer_gone.h"
#include "server.h"
#include "tls.h"

struct ep {
    struct http_server *hs;
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    struct accept_guard *guard;     /* accept() out of descriptors */
    bool tls;
};

#define RATE_SLOTS 256
#define RATE_PROBES 8

/* token bucket of one organization (its slot found by rate_ok) */
struct bucket {
    char org[64];
    double tokens;
    double at;                      /* monotonic seconds of the last fill */
};

/* One HTTPS connection: the ex_data of its SSL, made with it in
 * make_tls_bev and freed with it in gate_ssl_freed. The clock of its
 * handshake and of the request it is receiving (gate_sweep, F420). */
struct hconn {
    struct conn_gate *g;
    SSL *ssl;
    struct bufferevent *bev;
    uint64_t accepted_ns;
    uint64_t start_ns;              /* a request's first byte; 0: none */
    uint64_t idle_ns;               /* seen waiting for a request; 0: not */
    size_t bytes;                   /* of that request so far */
    bool cut;                       /* shut by gate_sweep */
    struct hconn *prev, *next;      /* g->conns */
};

/* The HTTPS connection count (see the file's header). Each SSL it counted
 * holds a reference, and so does the http_server until http_server_free:
 * SSL objects that evhttp_free leaves to libevent's finalizers are freed as
 * late as event_base_free, after the http_server. Loop thread only (hubd's
 * main thread, which also runs event_base_free). */
struct conn_gate {
    size_t open;                    /* SSL objects made and not yet freed */
    size_t max;
    size_t refs;                    /* open, + 1 while the server holds it */
    struct evconnlistener *lst;     /* the HTTPS listener; NULL: stopped */
    struct accept_guard *guard;     /* its accept guard, which also stops it */
    struct event *quiet;            /* ends an episode at the limit */
    bool paused;                    /* lst disabled at the limit */
    bool episode;                   /* "reached" logged, "left" not yet */
    uint64_t pauses;                /* in this episode */
    uint64_t since_ns;              /* the episode's start */
    struct hconn *conns;            /* every one open */
    size_t receiving;               /* bytes of their requests being read */
    size_t receive_max;             /* F422 */
    struct event *sweep;            /* gate_sweep, once a second */
    uint64_t timeout_ns;            /* http_timeout */
};

struct http_server {
    struct server *srv;
    struct conn_gate *gate;         /* NULL when HTTPS is off */
    struct ep eps[2];
    size_t n_eps;
    size_t pending;                 /* requests not yet answered */
    size_t answered_stopping;       /* answers written since the stop */
    TAILQ_HEAD(, api_req) waiting;  /* those requests, oldest first */
    struct bucket rate[RATE_SLOTS];
    uint64_t busy_logged_ns;        /* api_log_busy's last line */
    uint64_t busy_n;                /* 503s answered since then */
    struct heap_trim *trim;         /* after large requests (F1400) */
};

struct api_req {
    struct evhttp_request *req;     /* NULL once answered at the deadline */
    TAILQ_ENTRY(api_req) link;      /* in hs->waiting until answered */
    struct http_server *hs;
    bool tls;
    const struct api_route *route;
    char *path;                     /* decoded, malloc'd */
    const char *rest;
    struct evkeyvalq query;
    struct principal who;
    bool authed;
    void *data;
    uint64_t id;
    bool client_gone;               /* seen by dbcall_watch */
    bool held;                      /* its owner answers it again later */
};

/* ---- request accessors ------------------------------------------------ */

enum api_method api_method(const struct api_req *r)
{
    if (r->req == NULL)
        return 0;
    switch (evhttp_request_get_command(r->req)) {
    case EVHTTP_REQ_GET:
    case EVHTTP_REQ_HEAD:
        return API_GET;
    case EVHTTP_REQ_POST:
        return API_POST;
    case EVHTTP_REQ_PUT:
        return API_PUT;
    case EVHTTP_REQ_PATCH:
        return API_PATCH;
    case EVHTTP_REQ_DELETE:
        return API_DELETE;
    default:
        return 0;
    }
}

const char *api_path(const struct api_req *r)
{
    return r->path;
}

const char *api_path_rest(const struct api_req *r)
{
    return r->rest ? r->rest : "";
}

const char *api_query(const struct api_req *r, const char *name)
{
    return evhttp_find_header(&r->query, name);
}

bool api_refuse_unknown_query(struct api_req *r, const char *const *known,
                              const char *what)
{
    const struct evkeyval *kv;
    uint64_t seen = 0;

    TAILQ_FOREACH(kv, &r->query, next) {
        size_t i = 0;
        while (known[i] && strcmp(kv->key, known[i]) != 0)
            i++;
        if (known[i] && i < 64 && (seen & (uint64_t)1 << i)) {
            /* api_query reads the first: "topic=a&topic=b" would be
             * answered as if filtered by both */
            api_reply_error(r, 400, "invalid", "query parameter is given "
                            "more than once", known[i]);
            return true;
        }
        if (known[i]) {
            seen |= i < 64 ? (uint64_t)1 << i : 0;
            continue;
        }
        /* the name is echoed only when plain and short (a partner's
         * misspelling, "topics" for "topic"), never other request bytes */
        api_reply_error(r, 400, "invalid", what,
                        echo_name_ok(kv->key, 64, "[]") ? kv->key : "query");
        return true;
    }
    return false;
}

const char *api_header(const struct api_req *r, const char *name)
{
    if (r->req == NULL)
        return NULL;
    return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

size_t api_header_count(const struct api_req *r, const char *name)
{
    const struct evkeyval *kv;
    size_t n = 0;

    if (r->req == NULL)
        return 0;
    TAILQ_FOREACH(kv, evhttp_request_get_input_headers(r->req), next)
        n += strcasecmp(kv->key, name) == 0;
    return n;
}

/* RFC 9110 5.6.3: OWS, optional whitespace, is spaces and tabs, around
 * a media type and its parameters' ';' alike: "application/json\t;
 * charset=utf-8" was refused 415 (F3322) */
#define MEDIA_OWS " \t"

bool api_media_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    if (ct == NULL)
        return false;
    ct += strspn(ct, MEDIA_OWS);
    return strncasecmp(ct, want, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || strchr(MEDIA_OWS, ct[n]));
}

bool api_body_coded(const struct api_req *r)
{
    const struct evkeyval *kv;

    if (r->req == NULL)
        return false;
    TAILQ_FOREACH(kv, evhttp_request_get_input_headers(r->req), next) {
        if (strcasecmp(kv->key, "Content-Encoding") != 0)
            continue;
        const char *v = kv->value + strspn(kv->value, MEDIA_OWS);
        size_t n = strcspn(v, MEDIA_OWS);
        if (n > 0 && !(n == 8 && strncasecmp(v, "identity", 8) == 0))
            return true;
    }
    return false;
}

/* application/SOMETHING+json (RFC 6839's structured syntax suffix) */
static bool media_is_plus_json(const char *ct)
{
    if (ct == NULL)
        return false;
    ct += strspn(ct, MEDIA_OWS);
    if (strncasecmp(ct, "application/", 12) != 0)
        return false;
    size_t n = strcspn(ct + 12, ";" MEDIA_OWS);
    return n > 5 && strncasecmp(ct + 12 + n - 5, "+json", 5) == 0;
}

bool api_refuse_unless_json(struct api_req *r)
{
    const char *ct = api_header(r, "Content-Type");
    if (api_media_is(ct, "application/json") || media_is_plus_json(ct))
        return false;
    api_reply_error(r, 415, "unsupported", "send the JSON body as "
                    "application/json", "Content-Type");
    return true;
}

struct slice api_body(struct api_req *r)
{
    if (r->req == NULL)
        return SLICE_NULL;
    struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
    size_t n = evbuffer_get_length(in);
    if (n == 0)
        return SLICE_NULL;
    return (struct slice){ (const char *)evbuffer_pullup(in, -1), n };
}

const struct principal *api_principal(const struct api_req *r)
{
    return r->authed ? &r->who : NULL;
}

struct server *api_server(const struct api_req *r)
{
    return r->hs->srv;
}

void api_set_data(struct api_req *r, void *data)
{
    r->data = data;
}

void *api_data(const struct api_req *r)
{
    return r->data;
}

/* ---- replies ---------------------------------------------------------- */

/* true while api_reply writes an answer (output_watch); loop thread */
static bool in_api_reply;

/* The socket of r's connection, -1 if it has none. The request and its
 * connection live until the answer (the file's header), so it is still
 * this request's. */
static int req_fd(const struct api_req *r)
{
    if (r->req == NULL)
        return -1;
    struct evhttp_connection *evc = evhttp_request_get_connection(r->req);
    struct bufferevent *bev =
        evc ? evhttp_connection_get_bufferevent(evc) : NULL;
    return bev ? bufferevent_getfd(bev) : -1;
}

static void req_answered(struct api_req *r)
{
    TAILQ_REMOVE(&r->hs->waiting, r, link);
    r->hs->pending--;
    metrics_http_pending(r->hs->pending);
}

static void req_free(struct api_req *r)
{
    evhttp_clear_headers(&r->query);
    free(r->path);
    free(r);
}

void api_add_header(struct api_req *r, const char *name, const char *value)
{
    if (r->req == NULL)
        return;
    evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

void api_reply(struct api_req *r, int status, const char *content_type,
               const char *body, size_t len)
{
    if (r->req == NULL) {
        /* answered 503 at the drain's deadline: its owner's own answer,
         * come late, has no one to go to */
        req_free(r);
        return;
    }
    struct evbuffer *out = evbuffer_new();
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);

    if (out == NULL)
        abort();
    if (content_type)
        evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    /* evhttp 2.1 writes no Content-Length in an answer to a HEAD or a
     * CONNECT (here never a 2xx, F3124), and wrote the body all the same:
     * a client or load balancer that reads none after a HEAD took it for
     * the start of the next answer on the connection (F3120). A HEAD is
     * its GET's answer without the body (RFC 9110 9.3.2). */
    enum evhttp_cmd_type cmd = evhttp_request_get_command(r->req);
    if (cmd == EVHTTP_REQ_HEAD || cmd == EVHTTP_REQ_CONNECT) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", len);
        evhttp_add_header(h, "Content-Length", n);
    }
    if (len && cmd != EVHTTP_REQ_HEAD)
        evbuffer_add(out, body, len);
    /* looked at before the answer is written: a client that left before
     * it (a monitor's check timed out, a walk stopped for it, F1202) is
     * counted apart, as nginx's 499, never as the 5xx or 2xx nobody
     * received. One poll of the socket, which reads nothing. */
    bool gone = r->client_gone || peer_gone(req_fd(r));
    /* a large body's work is done: its freed heap goes back (F1400) */
    struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
    heap_trim_note(r->hs->trim, evbuffer_get_length(in));
    in_api_reply = true;            /* not evhttp's own answer: output_watch */
    evhttp_send_reply(r->req, status, NULL, out);
    in_api_reply = false;
    evbuffer_free(out);
    if (gone)
        metrics_http_client_closed();
    else
        metrics_http_request(status);
    log_debug("http.reply", "req=%" PRIu64 " status=%d bytes=%zu%s", r->id,
              status, len, gone ? " client_closed=1" : "");
    if (r->hs->srv->stopping)       /* drain_check lets it be written */
        r->hs->answered_stopping++;
    req_answered(r);
    if (r->held)
        r->req = NULL;              /* evhttp frees it once written */
    else
        req_free(r);
}

void api_reply_json(struct api_req *r, int status, const char *json,
                    size_t len)
{
    api_reply(r, status, "application/json", json, len);
}

/* {"error": {code, message, field, offset, key: value}}, the last three
 * when given */
static void reply_error(struct api_req *r, int status, const char *code,
                        const char *message, const char *field,
                        const struct hub_err *where, const char *key,
                        const char *value)
{
    struct arena a;
    struct jw w;
    struct slice out;

    arena_init(&a, 1024);
    jw_init(&w, &a, 4096);
    jw_obj_begin(&w);
    jw_key(&w, "error");
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "code", code);
    jw_kv_cstr(&w, "message", message);
    if (field && *field)
        jw_kv_cstr(&w, "field", field);
    if (where && where->located) {
        jw_key(&w, "offset");
        jw_int(&w, (int64_t)where->offset);
    }
    if (key && value)
        jw_kv_cstr(&w, key, value);
    jw_obj_end(&w);
    jw_obj_end(&w);
    if (jw_finish(&w, &out) != HUB_OK)
        out = SLICE_LIT("{\"error\":{\"code\":\"internal\"}}");
    api_reply_json(r, status, out.p, out.len);
    arena_release(&a);
}

void api_reply_error(struct api_req *r, int status, const char *code,
                     const char *message, const char *field)
{
    reply_error(r, status, code, message, field, NULL, NULL, NULL);
}

void api_reply_error_at(struct api_req *r, int status, const char *code,
                        const char *message, const char *field,
                        const struct hub_err *where)
{
    reply_error(r, status, code, message, field, where, NULL, NULL);
}

void api_reply_error_with(struct api_req *r, int status, const char *code,
                          const char *message, const char *field,
                          const char *key, const char *value)
{
    reply_error(r, status, code, message, field, NULL, key, value);
}

void api_log_busy(struct api_req *r, const char *message)
{
    struct http_server *hs = r->hs;
    uint64_t now = ingest_now_ns();

    /* every 503 the hub answers for its own state shows in the log; at most
     * one line a second (with how many there were), since while the
     * database is away every request gets one. `message` is the hub's own
     * fixed text, never request data. */
    hs->busy_n++;
    if (hs->busy_logged_ns && now - hs->busy_logged_ns < 1000000000u)
        return;
    log_warn("http.busy", "req=%" PRIu64 " why=\"%s\" count=%" PRIu64, r->id,
             message, hs->busy_n);
    hs->busy_logged_ns = now;
    hs->busy_n = 0;
}

void api_reply_busy(struct api_req *r, const char *message)
{
    api_log_busy(r, message);
    char s[16];
    snprintf(s, sizeof(s), "%d", r->hs->srv->cfg->retry_after);
    api_add_header(r, "Retry-After", s);
    api_reply_error(r, 503, "busy", message, NULL);
}

/* ---- database work ---------------------------------------------------- */

struct dbcall {
    struct api_req *r;
    api_work_fn work;
    api_done_fn done;
    void *arg;
    int rc;
    atomic_bool *stop;              /* api_db_watched's; NULL: api_db */
    struct event *watch;            /* its look at the socket */
};

static int dbcall_work(struct store *s, void *arg)
{
    struct dbcall *d = arg;
    return d->work(s, d->arg);
}

static void dbcall_done(int rc, void *arg)
{
    struct dbcall *d = arg;
    struct api_req *r = d->r;
    api_done_fn done = d->done;
    void *a = d->arg;
    if (d->watch)
        event_free(d->watch);
    free(d);
    done(r, rc, a);
}

static void dbcall_busy(evutil_socket_t fd, short what, void *arg)
{
    struct dbcall *d = arg;
    (void)fd;
    (void)what;
    dbcall_done(HUB_EBUSY, d);
}

/* every API_WATCH_MS while a watched call runs: its client gone, or hubd
 * stopping? */
static void dbcall_watch(evutil_socket_t fd, short what, void *arg)
{
    struct dbcall *d = arg;
    bool stopping = d->r->hs->srv->stopping;
    (void)fd;
    (void)what;
    if (!stopping)
        d->r->client_gone = peer_gone(req_fd(d->r));
    if (!stopping && !d->r->client_gone)
        return;
    log_info(stopping ? "http.work_stopped" : "http.client_gone",
             "req=%" PRIu64 " path=%s", d->r->id,
             d->r->route ? d->r->route->path : "");
    atomic_store(d->stop, true);
    event_del(d->watch);
}

static void dbcall_submit(struct api_req *r, api_work_fn work,
                          api_done_fn done, void *arg, atomic_bool *stop)
{
    struct dbcall *d = calloc(1, sizeof(*d));
    struct server *srv = r->hs->srv;
    if (d == NULL)
        abort();
    d->r = r;
    d->work = work;
    d->done = done;
    d->arg = arg;
    d->stop = stop;
    if (stop) {
        struct timeval every = { 0, API_WATCH_MS * 1000 };
        d->watch = event_new(srv->base, -1, EV_PERSIST, dbcall_watch, d);
        if (d->watch == NULL || event_add(d->watch, &every) != 0)
            abort();
    }
    if (dbpool_submit(srv->db, dbcall_work, dbcall_done, d) != HUB_OK) {
        /* answer from the loop, never from inside the handler's call */
        struct timeval zero = { 0, 0 };
        if (event_base_once(srv->base, -1, EV_TIMEOUT, dbcall_busy, d,
                            &zero) != 0)
            abort();
    }
}

void api_db(struct api_req *r, api_work_fn work, api_done_fn done, void *arg)
{
    dbcall_submit(r, work, done, arg, NULL);
}

void api_db_watched(struct api_req *r, api_work_fn work, api_done_fn done,
                    void *arg, atomic_bool *stop)
{
    dbcall_submit(r, work, done, arg, stop);
}

/* ---- routing and authentication --------------------------------------- */

static bool path_match(const char *pattern, const char *path,
                       const char **rest)
{
    size_t n = strlen(pattern);
    if (n >= 2 && pattern[n - 2] == '/' && pattern[n - 1] == '+') {
        if (strncmp(pattern, path, n - 1) != 0 || path[n - 1] == '\0')
            return false;
        *rest = path + n - 1;
        return true;
    }
    *rest = NULL;
    return strcmp(pattern, path) == 0;
}

/* Per-org request rate: true when this request may go on. An org's
 * bucket is one of RATE_PROBES slots from its hash on: its own, else the
 * one filled longest ago (an empty one first), which starts full. So two
 * orgs whose hashes meet keep a bucket each (before, the one slot they
 * shared was reset to full at every turn, which lifted the limit of
 * both); only with more than RATE_PROBES orgs busy in one run of slots
 * does one lose its bucket, which errs on the side of serving. */
static bool rate_ok(struct http_server *hs, const char *org)
{
    const struct hub_config *cfg = hs->srv->cfg;
    uint32_t h = 2166136261u;
    double now = (double)ingest_now_ns() / 1e9;

    if (cfg->rate_limit <= 0)
        return true;
    for (const char *p = org; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct bucket *b = NULL, *oldest = NULL;
    for (unsigned i = 0; i < RATE_PROBES && b == NULL; i++) {
        struct bucket *x = &hs->rate[(h + i) % RATE_SLOTS];
        if (strcmp(x->org, org) == 0)
            b = x;
        else if (oldest == NULL || x->at < oldest->at)
            oldest = x;
    }
    if (b == NULL) {
        b = oldest;
        snprintf(b->org, sizeof(b->org), "%s", org);
        b->tokens = cfg->rate_burst;
        b->at = now;
    }
    b->tokens += (now - b->at) * cfg->rate_limit;
    if (b->tokens > cfg->rate_burst)
        b->tokens = cfg->rate_burst;
    b->at = now;
    if (b->tokens < 1)
        return false;
    b->tokens -= 1;
    return true;
}

static void run_handler(struct api_req *r)
{
    const struct api_route *rt = r->route;
    if (!rate_ok(r->hs, r->who.org_id)) {
        log_info("http.rate_limited", "req=%" PRIu64 " org=%s", r->id,
                 r->who.org_id);
        api_add_header(r, "Retry-After", "1");
        api_reply_error(r, 429, "rate_limited",
                        "too many requests for this organization", NULL);
        return;
    }
    if (rt->scopes != API_PUBLIC && !(r->who.scopes & rt->scopes) &&
        !(r->who.scopes & SCOPE_ADMIN)) {
        /* name the scope, so that the partner knows what to ask for */
        char need[64], msg[160];
        store_scopes_format(rt->scopes, need, sizeof(need));
        snprintf(msg, sizeof(msg), "credentials lack the scope this route "
                 "needs (%s%s)", strchr(need, ',') ? "one of " : "", need);
        log_info("http.forbidden", "req=%" PRIu64 " org=%s need=%s", r->id,
                 r->who.org_id, need);
        api_reply_error(r, 403, "forbidden", msg, NULL);
        return;
    }
    rt->fn(r);
}

static void on_auth(int rc, const struct principal *who, void *arg)
{
    struct api_req *r = arg;
    if (r->req == NULL) {
        /* answered 503 at the drain's deadline while its look-up was out:
         * the client was told to retry, so its handler must not run now (a
         * delivery's replay was done, and done again on the retry) */
        req_free(r);
        return;
    }
    if (rc == HUB_OK) {
        r->who = *who;
        r->authed = true;
        run_handler(r);
    } else if (rc == HUB_EAUTH) {
        api_add_header(r, "WWW-Authenticate", "Bearer");
        api_reply_error(r, 401, "unauthenticated",
                        "unknown or revoked credentials", NULL);
    } else {
        api_reply_busy(r, "cannot check credentials now");
    }
}

static void authenticate(struct api_req *r)
{
    struct server *srv = r->hs->srv;
    struct principal who;
    char fp[65];
    int rc = HUB_EAUTH;
    bool have = false;

    if (r->tls) {
        struct evhttp_connection *evc = evhttp_request_get_connection(r->req);
        struct bufferevent *bev =
            evc ? evhttp_connection_get_bufferevent(evc) : NULL;
        SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
        int frc = tls_peer_fingerprint(ssl, fp);
        if (frc == HUB_OK) {
            /* verified by the partners' CA: waits for a look-up slot
             * rather than 503 at the cap, as MLLP over TLS does (F340:
             * a flood of unknown tokens, which anyone can send, cut off
             * partners' HTTPS posts). evhttp 2.1 stops reading a
             * connection once a request is whole (its body in) until it
             * is answered, so each HTTPS connection has at most one
             * request here and the waiting ones are bounded by
             * https_max_connections. Nor does it see a client that goes
             * meanwhile: the request, and the connection's slot, live
             * until the answer, which then frees both (see the file's
             * header), so the callback never meets a freed request. */
            rc = auth_cert_wait(srv->auth, fp, &who, on_auth, r);
            have = true;
        }
    }
    if (!have) {
        const char *h = api_header(r, "Authorization");
        if (h && strncasecmp(h, "Bearer ", 7) == 0) {
            if (!srv->cfg->allow_tokens) {
                api_reply_error(r, 401, "unauthenticated",
                                "bearer tokens are disabled; use a client "
                                "certificate", NULL);
                return;
            }
            const char *t = h + 7;
            while (*t == ' ')
                t++;
            rc = auth_token(srv->auth, t, &who, on_auth, r);
            have = true;
        }
    }
    if (!have) {
        api_add_header(r, "WWW-Authenticate", "Bearer");
        api_reply_error(r, 401, "unauthenticated",
                        "a client certificate or a bearer token is required",
                        NULL);
        return;
    }
    if (rc != HUB_ESHORT)
        on_auth(rc, rc == HUB_OK ? &who : NULL, r);
}

/* A response leaves as more than one write (TLS records, headers then
 * body); with Nagle on, the later ones wait for the client's delayed ACK,
 * about 40 ms per request. Set on every request: evhttp gives us the
 * socket only once a request has arrived, and setsockopt is cheap. */
static void set_nodelay(struct evhttp_request *req)
{
    struct evhttp_connection *evc = evhttp_request_get_connection(req);
    struct bufferevent *bev =
        evc ? evhttp_connection_get_bufferevent(evc) : NULL;
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    int one = 1;

    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void request_whole(struct evhttp_request *req);

/* Request smuggling (F421): true when the request's Content-Length is
 * given twice or is not digits alone. libevent 2.1 reads the first of two
 * ("0" then "36": no body, and the 36 bytes are the next request) and
 * "+36" as 36; a load balancer in front (deploy/multi-node.md) that reads
 * the last, or a plain number only, sends the rest as the start of the
 * next request on its shared connection, another partner's maybe. Its
 * own refusals (two Transfer-Encoding headers, one not chunked,
 * Content-Length with chunked) come before the hub sees the request. */
static bool length_unclear(struct evhttp_request *req)
{
    const struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const struct evkeyval *kv;
    int n = 0;

    TAILQ_FOREACH(kv, h, next) {
        if (strcasecmp(kv->key, "Content-Length") != 0)
            continue;
        if (++n > 1 || kv->value[0] == '\0' ||
            kv->value[strspn(kv->value, "0123456789")] != '\0')
            return true;
    }
    return false;
}

/* A HEAD or TRACE that says it has a body: libevent 2.1 reads none for
 * those two methods (evhttp_method_may_have_body), so the body's bytes
 * were read as the next request on the connection, where a load balancer
 * in front, which frames a request by its length whatever its method (RFC
 * 9112 6.3), sent them as this one's body: F421's smuggling again
 * (F3320). The header that says so, or NULL. */
static const char *body_unread(struct evhttp_request *req)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *cl = evhttp_find_header(h, "Content-Length");

    if (cmd != EVHTTP_REQ_HEAD && cmd != EVHTTP_REQ_TRACE)
        return NULL;
    if (evhttp_find_header(h, "Transfer-Encoding"))
        return "Transfer-Encoding";
    return cl && cl[strspn(cl, "0")] != '\0' ? "Content-Length" : NULL;
}

/* host[:port] without the scheme's default port: a browser's Origin
 * leaves it out, and a client's Host may give it */
static size_t host_len(const char *h, bool tls)
{
    const char *dflt = tls ? ":443" : ":80";
    size_t n = strlen(h), d = strlen(dflt);
    return n > d && strcmp(h + n - d, dflt) == 0 ? n - d : n;
}

/* Origin (RFC 6454) equals this request's own: scheme://Host */
static bool origin_is_own(const char *origin, const char *host, bool tls)
{
    const char *scheme = tls ? "https://" : "http://";
    size_t sl = strlen(scheme);

    if (host == NULL || strncasecmp(origin, scheme, sl) != 0)
        return false;
    origin += sl;
    size_t n = host_len(origin, tls);
    return n > 0 && n == host_len(host, tls) &&
           strncasecmp(origin, host, n) == 0;
}

/* A request but GET or HEAD that a web page of another site sent (F3127):
 * a browser sends Origin with every cross-site POST and cannot leave it
 * out, an API client sends none. A client certificate is ambient (the
 * browser presents it to any page's request), and a form's or text's POST
 * needs no CORS preflight: a hostile page would otherwise make a webhook
 * subscription to its own server, or post HL7 v2, in a partner's name. */
static bool cross_site(struct evhttp_request *req, bool tls)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *host = evhttp_find_header(h, "Host");
    const struct evkeyval *kv;

    if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
        return false;
    TAILQ_FOREACH(kv, h, next)
        if (strcasecmp(kv->key, "Origin") == 0 &&
            !origin_is_own(kv->value, host, tls))
            return true;
    return false;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct ep *ep = arg;
    struct http_server *hs = ep->hs;
    struct server *srv = hs->srv;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
    struct api_req *r = calloc(1, sizeof(*r));

    if (r == NULL)
        abort();
    set_nodelay(req);
    if (ep->tls)
        request_whole(req);
    r->req = req;
    r->hs = hs;
    r->tls = ep->tls;
    r->id = ++srv->next_conn_id;
    TAILQ_INIT(&r->query);
    TAILQ_INSERT_TAIL(&hs->waiting, r, link);
    hs->pending++;
    metrics_http_pending(hs->pending);
    r->path = evhttp_uridecode(raw_path && *raw_path ? raw_path : "/", 0,
                               NULL);
    if (r->path == NULL)
        abort();
    if (length_unclear(req)) {
        /* what follows on the connection cannot be told from this
         * request's body: answered, then closed (libevent closes after an
         * answer that says so) */
        api_add_header(r, "Connection", "close");
        api_reply_error(r, 400, "invalid", "the request's length is "
                        "unclear: send one Content-Length of digits",
                        "Content-Length");
        return;
    }
    const char *unread = body_unread(req);
    if (unread) {
        /* its body is still on the connection: answered, then closed */
        api_add_header(r, "Connection", "close");
        api_reply_error(r, 400, "invalid", "a HEAD or TRACE request has no "
                        "body: send none", unread);
        return;
    }
    if (cross_site(req, r->tls)) {
        /* the id alone: the Origin is a site a partner's staff visited */
        log_info("http.cross_site", "req=%" PRIu64, r->id);
        api_reply_error(r, 403, "forbidden", "a request from a web page of "
                        "another site (Origin) is refused: an API client "
                        "sends no Origin", "Origin");
        return;
    }
    /* %00 decodes to the end of a C string: "/v1/events%00x" was served
     * as /v1/events, and "since=%00" or "subscription=%00" read as absent,
     * so the answer, unfiltered, looked filtered (F423) */
    const char *nul = raw_path && strstr(raw_path, "%00") ? "path"
                      : q && strstr(q, "%00") ? "query" : NULL;
    if (nul) {
        api_reply_error(r, 400, "invalid", "a NUL byte (%00) in the "
                        "request's target", nul);
        return;
    }
    if (q && evhttp_parse_query_str(q, &r->query) != 0) {
        api_reply_error(r, 400, "invalid", "malformed query string", "query");
        return;
    }
    if (srv->stopping) {
        api_reply_busy(r, "shutting down");
        return;
    }
    enum api_method m = api_method(r);
    unsigned allowed = 0;           /* the path's methods, for a 405 */
    for (const struct api_route *const *t = api_route_tables; *t; t++) {
        for (const struct api_route *rt = *t; rt->methods; rt++) {
            const char *rest;
            if (!path_match(rt->path, r->path, &rest))
                continue;
            allowed |= rt->methods;
            if (!(rt->methods & m))
                continue;
            r->route = rt;
            r->rest = rest;
            break;
        }
        if (r->route)
            break;
    }
    if (r->route == NULL) {
        if (allowed) {              /* RFC 9110 15.5.6: say which */
            static const char *const names[] = { "GET", "POST", "PUT",
                                                 "PATCH", "DELETE" };
            char list[64] = "";
            for (unsigned b = 0; b < 5; b++)
                if (allowed & (1u << b)) {
                    size_t at = strlen(list);
                    snprintf(list + at, sizeof(list) - at, "%s%s",
                             at ? ", " : "", names[b]);
                }
            api_add_header(r, "Allow", list);
            api_reply_error(r, 405, "method_not_allowed",
                            "method not allowed on this path", NULL);
        } else
            api_reply_error(r, 404, "not_found", "no such route", NULL);
        return;
    }
    if (r->route->scopes == API_PUBLIC) {
        r->route->fn(r);
        return;
    }
    authenticate(r);
}

/* ---- listeners -------------------------------------------------------- */

/* evhttp 2.1 keeps what it has not parsed yet in the connection's input
 * buffer, and caps it in some states only: a chunk-size line that never
 * ends is held whole (64 MiB sent, 64 MiB held, whatever max_body says),
 * and so is what a client sends while its answer is being written. No
 * request needs more there than its body (evhttp keeps a Content-Length
 * body there until it is all in; max_body caps it) and a head, so a
 * connection whose unread input passes max_body + INPUT_SLACK is cut: the
 * input dropped, the socket shut for reading, and evhttp frees the
 * connection when it reads the end. A read watermark would not do: a
 * bufferevent whose reading is suspended has no read timeout either, and
 * the connection would stay for ever. Set once by http_server_new. */
#define INPUT_SLACK (256u * 1024)
static size_t input_cap;

static void input_guard(struct evbuffer *in,
                        const struct evbuffer_cb_info *info, void *arg)
{
    struct bufferevent *bev = arg;
    size_t n = evbuffer_get_length(in);

    if (info->n_added == 0 || n <= input_cap)
        return;
    evutil_socket_t fd = bufferevent_getfd(bev);
    log_warn("http.input_cut", "fd=%d bytes=%zu cap=%zu", (int)fd, n,
             input_cap);
    if (fd >= 0)
        (void)shutdown(fd, SHUT_RD);
    evbuffer_drain(in, n);
}

/* Answers evhttp writes itself (F1401). libevent 2.1 answers some
 * requests before the hub sees them, with no hook for it (the file's
 * header): a body or head over its limits 413, a request it cannot parse
 * 400, a method it does not take 501, an Expect it does not know 417.
 * hub_http_responses_total missed them all, so an operator's 4xx share
 * did. Each answer starts with a status line that evhttp adds to the
 * connection's output buffer in one evbuffer_add (evhttp_make_header_
 * response), and every answer of the hub is written inside api_reply,
 * synchronously: a status line added outside api_reply is evhttp's own,
 * and is counted here. 100 Continue is an interim answer: not counted. */
static void output_watch(struct evbuffer *out,
                         const struct evbuffer_cb_info *info, void *arg)
{
    char line[12];
    struct evbuffer_ptr at;
    struct evbuffer_iovec v[4];
    size_t len = evbuffer_get_length(out), got = 0;
    (void)arg;

    if (in_api_reply || info->n_added < sizeof(line) || info->n_added > len)
        return;
    /* peeked, not copied out: a socket bufferevent's output is frozen at
     * its start while writing is off, and evbuffer_copyout_from then
     * fails (a 401 after a 100 Continue over plain HTTP) */
    if (evbuffer_ptr_set(out, &at, len - info->n_added, EVBUFFER_PTR_SET))
        return;
    int n = evbuffer_peek(out, sizeof(line), &at, v, 4);
    for (int i = 0; i < n && i < 4 && got < sizeof(line); i++) {
        size_t take = sizeof(line) - got;
        if (v[i].iov_len < take)
            take = v[i].iov_len;
        memcpy(line + got, v[i].iov_base, take);
        got += take;
    }
    if (got < sizeof(line))
        return;
    /* "HTTP/1.1 413" */
    if (memcmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' ||
        line[9] < '2' || line[9] > '5' || line[10] < '0' || line[10] > '9' ||
        line[11] < '0' || line[11] > '9')
        return;
    int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
                 (line[11] - '0');
    metrics_http_request(status);
    log_info("http.answered_by_libevent", "status=%d", status);
}

/* The input guard and the output watch on a connection's bufferevent */
static struct bufferevent *guarded(struct bufferevent *bev)
{
    if (bev && (evbuffer_add_cb(bufferevent_get_input(bev), input_guard,
                                bev) == NULL ||
                evbuffer_add_cb(bufferevent_get_output(bev), output_watch,
                                NULL) == NULL)) {
        bufferevent_free(bev);
        return NULL;
    }
    return bev;
}

/* ---- the HTTPS connection limit -------------------------------------- */

static int gate_idx = -1;           /* the SSL ex_data index of the gate */
static size_t tls_conns;            /* every gate's open, for http_tls_open */

static void gate_unref(struct conn_gate *g)
{
    if (--g->refs == 0)
        free(g);
}

/* A second after the listener was last enabled again, a run of pauses
 * (the limit reached, one closed, the limit reached again ...) is over:
 * one line for the run, not two a connection while it is saturated. */
static void gate_quiet(evutil_socket_t fd, short what, void *arg)
{
    struct conn_gate *g = arg;
    (void)fd;
    (void)what;
    if (g->paused || !g->episode)
        return;
    g->episode = false;
    log_info("http.conn_limit_left", "open=%zu max=%zu pauses=%" PRIu64
             " ms=%" PRIu64, g->open, g->max, g->pauses,
             (ingest_now_ns() - g->since_ns) / 1000000u);
}

static void gate_pause(struct conn_gate *g)
{
    if (g->paused || g->lst == NULL)
        return;
    if (evconnlistener_disable(g->lst) != 0)
        return;                     /* cannot happen (epoll: event_del) */
    g->paused = true;
    metrics_https_paused(1);
    if (!g->episode) {
        g->episode = true;
        g->pauses = 0;
        g->since_ns = ingest_now_ns();
        log_warn("http.conn_limit_reached", "open=%zu max=%zu", g->open,
                 g->max);
    }
    g->pauses++;
}

static void gate_resume(struct conn_gate *g)
{
    struct timeval second = { 1, 0 };
    if (!g->paused)
        return;
    g->paused = false;
    metrics_https_paused(0);
    if (g->lst == NULL)             /* stopped: it stays closed */
        return;
    if (accept_guard_holding(g->guard))
        return;                     /* out of descriptors: it enables it */
    (void)evconnlistener_enable(g->lst);
    if (g->quiet)
        evtimer_add(g->quiet, &second);
}

/* The accept guard's question before it enables the HTTPS listener again:
 * not while the limit holds it, nor once stopped. */
static bool gate_may_enable(void *arg)
{
    const struct conn_gate *g = arg;
    return g->lst != NULL && !g->paused;
}

/* Either listener, after its accept guard held it: not once stopped. */
static bool ep_may_enable(void *arg)
{
    const struct ep *ep = arg;
    return ep->sock != NULL;
}

/* A slow client (F420). evhttp's http_timeout is a read timeout, which
 * every byte starts again: a client that sends its request a byte every
 * few seconds, or whose handshake does, or that sends TLS records holding
 * no request byte (a key update) while it waits, held its HTTPS slot for
 * ever, and https_max_connections such clients, from one host, kept every
 * partner out. So a connection is cut when its handshake is not done
 * within http_timeout of the accept, when a request is not whole within
 * http_timeout of its first byte plus a second for each HTTP_MIN_RATE
 * bytes of it received (a large body on a slow link keeps its time), and
 * when it has waited for a request longer than http_timeout. A request
 * in the hub's hands is not read meanwhile (the file's header), so no
 * clock runs on it. Checked once a second: bytes arriving need no timer
 * of their own. */
#define HTTP_MIN_RATE 8192u

/* hc's request no longer held as being received: whole, cut or freed */
static void receiving_done(struct hconn *hc)
{
    if (hc->start_ns && !hc->cut) {
        assert(hc->g->receiving >= hc->bytes);
        hc->g->receiving -= hc->bytes;
    }
}

/* Cut hc: the reads that follow end it, as input_guard's cut does */
static void hconn_cut(struct hconn *hc)
{
    evutil_socket_t s = bufferevent_getfd(hc->bev);

    receiving_done(hc);
    hc->cut = true;
    if (s >= 0)
        (void)shutdown(s, SHUT_RDWR);
}

/* Memory (F422): libevent holds a request's body until it is whole, and
 * the hub learns who sent it only then, so https_max_connections clients
 * sending max_body each, with no credentials, made hubd hold 1024 x 16
 * MiB. The bytes of the requests being received, over every HTTPS
 * connection, are held to inflight_max_bytes (at least one max_body):
 * past it the connection holding the most is cut, which a large upload
 * sent slowly is, not the small requests of everyone else. */
static void receiving_over(struct conn_gate *g)
{
    while (g->receiving > g->receive_max) {
        struct hconn *big = NULL;
        for (struct hconn *hc = g->conns; hc; hc = hc->next)
            if (hc->start_ns && !hc->cut && (!big || hc->bytes > big->bytes))
                big = hc;
        if (big == NULL)
            return;                 /* cannot be: the sum is theirs */
        log_warn("http.receive_cap", "fd=%d bytes=%zu held=%zu max=%zu",
                 (int)bufferevent_getfd(big->bev), big->bytes, g->receiving,
                 g->receive_max);
        hconn_cut(big);
    }
}

static void request_clock(struct evbuffer *in,
                          const struct evbuffer_cb_info *info, void *arg)
{
    struct hconn *hc = arg;
    (void)in;
    if (info->n_added == 0 || hc->cut)
        return;
    if (hc->start_ns == 0) {
        hc->start_ns = ingest_now_ns();
        hc->bytes = 0;
    }
    hc->bytes += info->n_added;
    hc->g->receiving += info->n_added;
    receiving_over(hc->g);
}

static void gate_sweep(evutil_socket_t fd, short what, void *arg)
{
    struct conn_gate *g = arg;
    uint64_t now = ingest_now_ns();
    (void)fd;
    (void)what;
    for (struct hconn *hc = g->conns; hc; hc = hc->next) {
        const char *phase = NULL;
        bool reading = bufferevent_get_enabled(hc->bev) & EV_READ;
        if (hc->cut)
            continue;
        if (!SSL_is_init_finished(hc->ssl)) {
            if (now - hc->accepted_ns > g->timeout_ns)
                phase = "handshake";
        } else if (hc->start_ns) {
            uint64_t due = hc->start_ns + g->timeout_ns +
                           hc->bytes * (1000000000u / HTTP_MIN_RATE);
            if (now > due)
                phase = "request";
        } else if (reading) {       /* waiting for a request */
            if (hc->idle_ns == 0)
                hc->idle_ns = now;
            else if (now - hc->idle_ns > g->timeout_ns)
                phase = "idle";
        }
        if (hc->start_ns || !reading)
            hc->idle_ns = 0;
        if (phase == NULL)
            continue;
        log_warn("http.slow_client", "fd=%d phase=%s bytes=%zu ms=%" PRIu64,
                 (int)bufferevent_getfd(hc->bev), phase, hc->bytes,
                 (now - (hc->start_ns ? hc->start_ns : hc->accepted_ns)) /
                     1000000u);
        hconn_cut(hc);
    }
}

/* on_request: the connection's request is whole; its clock stops */
static void request_whole(struct evhttp_request *req)
{
    struct evhttp_connection *evc = evhttp_request_get_connection(req);
    struct bufferevent *bev =
        evc ? evhttp_connection_get_bufferevent(evc) : NULL;
    SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
    struct hconn *hc = ssl ? SSL_get_ex_data(ssl, gate_idx) : NULL;

    if (hc) {
        receiving_done(hc);
        hc->start_ns = 0;
        hc->idle_ns = 0;
    }
}

/* OpenSSL's CRYPTO_EX_free: called by SSL_free for every SSL of the
 * process, ours (ptr: its struct hconn) and others (ptr NULL: MLLP over
 * TLS, libcurl's in the dispatcher's thread, which return at once). */
static void gate_ssl_freed(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
                           int idx, long argl, void *argp)
{
    struct hconn *hc = ptr;
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (hc == NULL)
        return;
    struct conn_gate *g = hc->g;
    receiving_done(hc);
    if (hc->prev)
        hc->prev->next = hc->next;
    else
        g->conns = hc->next;
    if (hc->next)
        hc->next->prev = hc->prev;
    free(hc);
    assert(g->open > 0 && tls_conns > 0);
    g->open--;
    tls_conns--;
    metrics_https_connections(g->open, g->max);
    if (g->open < g->max)
        gate_resume(g);
    gate_unref(g);
}

size_t http_tls_open(void)
{
    return tls_conns;
}

/* evhttp's bevcb, called from its accept callback: the SSL is counted
 * before anything else can free it, so that every SSL_free below (the
 * bufferevent's, or ours when there is none) gives its slot back. A NULL
 * here would make evhttp read plain HTTP on the HTTPS port (evhttp 2.1
 * makes a socket bufferevent of its own), so a failure aborts, as out of
 * memory does everywhere in the hub. At the limit the listener is
 * disabled here; libevent's accept loop checks that after each callback
 * and accepts no more. */
static struct bufferevent *make_tls_bev(struct event_base *base, void *arg)
{
    struct ep *ep = arg;
    struct conn_gate *g = ep->hs->gate;
    SSL *ssl = SSL_new(ep->hs->srv->tls_https);
    struct hconn *hc = calloc(1, sizeof(*hc));
    if (ssl == NULL || hc == NULL || SSL_set_ex_data(ssl, gate_idx, hc) != 1)
        abort();
    hc->g = g;
    hc->ssl = ssl;
    hc->accepted_ns = ingest_now_ns();
    hc->next = g->conns;
    if (g->conns)
        g->conns->prev = hc;
    g->conns = hc;
    g->open++;
    g->refs++;
    tls_conns++;
    metrics_https_connections(g->open, g->max);
    if (g->open >= g->max)
        gate_pause(g);
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        SSL_free(ssl);              /* libevent 2.1 leaves it to us here */
        abort();
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    bev = guarded(bev);
    if (bev == NULL || evbuffer_add_cb(bufferevent_get_input(bev),
                                       request_clock, hc) == NULL)
        abort();
    hc->bev = bev;
    return bev;
}

/* what evhttp makes when there is no bevcb (it closes the socket itself) */
static struct bufferevent *make_plain_bev(struct event_base *base, void *arg)
{
    (void)arg;
    return guarded(bufferevent_socket_new(base, -1, 0));
}

static int bind_ep(struct http_server *hs, const char *addr, int port,
                   bool tls)
{
    struct server *srv = hs->srv;
    const struct hub_config *cfg = srv->cfg;
    struct ep *ep = &hs->eps[hs->n_eps];
    struct evhttp *http = evhttp_new(srv->base);

    if (http == NULL)
        return HUB_EIO;
    ep->hs = hs;
    ep->http = http;
    ep->tls = tls;
    evhttp_set_max_body_size(http, (ev_ssize_t)cfg->max_body);
    evhttp_set_max_headers_size(http, 64 * 1024);
    evhttp_set_timeout(http, cfg->http_timeout);
    /* OPTIONS, TRACE and CONNECT too, which no route takes: libevent
     * answered them 501 with its HTML page (to CONNECT with no length and
     * no close, "Connection: close" notwithstanding: the client waited
     * out http_timeout for its end); on_request answers 405 with Allow,
     * or 404, in the API's error shape, with a length (F3124) */
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
                                         EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                         EVHTTP_REQ_PATCH |
                                         EVHTTP_REQ_DELETE |
                                         EVHTTP_REQ_OPTIONS |
                                         EVHTTP_REQ_TRACE |
                                         EVHTTP_REQ_CONNECT);
    evhttp_set_default_content_type(http, "application/json");
    if (tls)
        evhttp_set_bevcb(http, make_tls_bev, ep);
    else
        evhttp_set_bevcb(http, make_plain_bev, NULL);
    evhttp_set_gencb(http, on_request, ep);
    ep->sock = evhttp_bind_socket_with_handle(http, addr, (ev_uint16_t)port);
    if (ep->sock == NULL) {
        int e = errno;
        log_error("http.bind_failed", "addr=%s port=%d tls=%d errno=%d "
                  "why=\"%s\"", addr, port, tls ? 1 : 0, e, strerror(e));
        evhttp_free(http);
        ep->http = NULL;
        return HUB_EIO;
    }
    struct sockaddr_storage got;
    socklen_t glen = sizeof(got);
    int bound = port;
    if (getsockname(evhttp_bound_socket_get_fd(ep->sock),
                    (struct sockaddr *)&got, &glen) == 0)
        bound = ntohs(got.ss_family == AF_INET6
                          ? ((struct sockaddr_in6 *)&got)->sin6_port
                          : ((struct sockaddr_in *)&got)->sin_port);
    hs->n_eps++;
    struct evconnlistener *lst = evhttp_bound_socket_get_listener(ep->sock);
    if (tls) {
        hs->gate->lst = lst;
        ep->guard = accept_guard_new(lst, "https", gate_may_enable,
                                     hs->gate);
        hs->gate->guard = ep->guard;
    } else {
        ep->guard = accept_guard_new(lst, "http", ep_may_enable, ep);
    }
    if (ep->guard == NULL)
        abort();
    server_report_port(srv, tls ? "https" : "http", bound);
    log_info("http.listening", "addr=%s port=%d tls=%d", addr, bound, tls);
    return HUB_OK;
}

int http_server_new(struct server *srv, struct http_server **out)
{
    const struct hub_config *cfg = srv->cfg;
    struct http_server *hs = calloc(1, sizeof(*hs));
    int rc = HUB_OK;

    if (hs == NULL)
        abort();
    hs->srv = srv;
    TAILQ_INIT(&hs->waiting);
    hs->trim = heap_trim_new(srv->base, HEAP_TRIM_DELAY_MS);
    input_cap = cfg->max_body + INPUT_SLACK;
    if (cfg->https_port >= 0 && srv->tls_https) {
        if (gate_idx < 0 &&
            (gate_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
                                             gate_ssl_freed)) < 0)
            abort();
        struct conn_gate *g = calloc(1, sizeof(*g));
        if (g == NULL)
            abort();
        g->max = (size_t)cfg->https_max_connections;
        g->refs = 1;
        g->quiet = evtimer_new(srv->base, gate_quiet, g);
        g->sweep = event_new(srv->base, -1, EV_PERSIST, gate_sweep, g);
        g->timeout_ns = (uint64_t)cfg->http_timeout * 1000000000u;
        g->receive_max = cfg->inflight_max_bytes > input_cap
                             ? cfg->inflight_max_bytes : input_cap;
        struct timeval second = { 1, 0 };
        if (g->quiet == NULL || g->sweep == NULL ||
            event_add(g->sweep, &second) != 0)
            abort();
        hs->gate = g;
        metrics_https_connections(0, g->max);
        rc = bind_ep(hs, cfg->https_bind, cfg->https_port, true);
    }
    if (rc == HUB_OK && cfg->http_port >= 0 && cfg->profile == PROFILE_DEV)
        rc = bind_ep(hs, cfg->http_bind, cfg->http_port, false);
    if (rc != HUB_OK) {
        http_server_free(hs);
        return rc;
    }
    *out = hs;
    return HUB_OK;
}

void http_server_stop(struct http_server *hs)
{
    if (hs == NULL)
        return;
    if (hs->gate) {
        hs->gate->lst = NULL;       /* freed below; never enabled again */
        hs->gate->guard = NULL;
    }
    for (size_t i = 0; i < hs->n_eps; i++) {
        accept_guard_free(hs->eps[i].guard);
        hs->eps[i].guard = NULL;
        if (hs->eps[i].sock) {
            evhttp_del_accept_socket(hs->eps[i].http, hs->eps[i].sock);
            hs->eps[i].sock = NULL;
        }
    }
}

size_t http_server_pending(const struct http_server *hs)
{
    return hs ? hs->pending : 0;
}

size_t http_server_answered_stopping(const struct http_server *hs)
{
    return hs ? hs->answered_stopping : 0;
}

size_t http_server_answer_pending(struct http_server *hs, const char *message)
{
    size_t n = 0;
    struct api_req *r;

    while (hs && (r = TAILQ_FIRST(&hs->waiting)) != NULL) {
        r->held = true;             /* a dbcall or a batch still points here */
        api_reply_busy(r, message);
        n++;
    }
    return n;
}

void http_server_free(struct http_server *hs)
{
    if (hs == NULL)
        return;
    for (size_t i = 0; i < hs->n_eps; i++) {
        accept_guard_free(hs->eps[i].guard);
        if (hs->eps[i].http)
            evhttp_free(hs->eps[i].http);
    }
    struct conn_gate *g = hs->gate;
    if (g) {
        /* evhttp_free freed its connections' bufferevents; their SSLs go
         * with libevent's finalizers (at the latest in event_base_free),
         * each dropping its reference then */
        g->lst = NULL;
        event_free(g->quiet);
        g->quiet = NULL;
        event_free(g->sweep);
        g->sweep = NULL;
        if (g->episode)
            log_info("http.conn_limit_left", "open=%zu max=%zu pauses=%"
                     PRIu64 " why=stopped", g->open, g->max, g->pauses);
        gate_unref(g);
    }
    heap_trim_free(hs->trim);
    free(hs);
}
