/*
 * api.h - the HTTPS API's route table and the helpers every route uses.
 *
 * Adding routes from your own file (hub/api_<area>.c):
 *   1. define   const struct api_route api_<area>_routes[] = {
 *                   { API_GET, "/v1/subscriptions", SCOPE_SUBSCRIBE, list },
 *                   { API_DELETE, "/v1/subscriptions/+", SCOPE_SUBSCRIBE, del },
 *                   { 0 } };
 *   2. add one line for it to the list in hub/api_routes.c.
 * A path ending in "/+" matches that prefix plus one or more characters;
 * api_path_rest() gives the rest ("/v1/referrals/+" -> "abc/status").
 * The first matching (path, method) wins, in list order.
 *
 * Every request is authenticated before its handler runs (client
 * certificate fingerprint, else bearer token where allowed) unless the
 * route's `scopes` is API_PUBLIC; a principal without any of `scopes` gets
 * 403, unless it has SCOPE_ADMIN, which passes every route's check.
 * Handlers run on the loop thread and must not block: database work goes
 * through api_db(), which runs `work` on a worker thread (with its own
 * struct store) and then `done` back on the loop thread.
 *
 * A handler (or its done) answers exactly once with one of api_reply*(),
 * which also frees the request; after that `r` is gone.
 * Errors are JSON: {"error":{"code":"...","message":"...","field":"..."}},
 * and "offset" (a byte offset into the body) where the hub knows it.
 */
#ifndef HUB_API_H
#define HUB_API_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/slice.h"
#include "common/hub_err.h"
#include "store.h"

struct api_req;
struct server;

enum api_method {
    API_GET = 1 << 0,
    API_POST = 1 << 1,
    API_PUT = 1 << 2,
    API_PATCH = 1 << 3,
    API_DELETE = 1 << 4,
};

#define API_PUBLIC 0u               /* no authentication */

typedef void (*api_handler)(struct api_req *r);

struct api_route {
    unsigned methods;               /* enum api_method bits; 0 ends a table */
    const char *path;
    unsigned scopes;                /* any of these enum store_scope bits */
    api_handler fn;
};

/* hub/api_routes.c: every table, NULL-terminated */
extern const struct api_route *const api_route_tables[];

/* ---- reading the request ---------------------------------------------- */
enum api_method api_method(const struct api_req *r);
const char *api_path(const struct api_req *r);       /* decoded, no query */
const char *api_path_rest(const struct api_req *r);  /* after a "/+" prefix */
/* Query parameter, decoded; NULL when absent. */
const char *api_query(const struct api_req *r, const char *name);
/* A query parameter not in `known` (NULL-terminated), or one of them given
 * twice: answers 400 with `what` (static: the parameters the route takes)
 * or "given more than once", the parameter's name in error.field, and
 * returns true; false when every one is known and given once. A misspelt
 * filter (topics= for topic=), or a second value of one, would otherwise
 * be ignored and the answer read as filtered. */
bool api_refuse_unknown_query(struct api_req *r, const char *const *known,
                              const char *what);
const char *api_header(const struct api_req *r, const char *name);
/* How many times the request carries header `name` (api_header reads the
 * first alone). */
size_t api_header_count(const struct api_req *r, const char *name);
/* The media type of a Content-Type value equals `want` (parameters such as
 * "; charset=utf-8" ignored, case-insensitive). */
bool api_media_is(const char *ct, const char *want);
/* The request's body is sent in a content coding (a Content-Encoding but
 * "identity", RFC 9110 8.4): the hub decodes none, so its bytes are not
 * the document the sender meant. */
bool api_body_coded(const struct api_req *r);
/* Unless the request's Content-Type is application/json or
 * application/NAME+json, answers 415 naming Content-Type and returns true: a
 * form's or text's POST is one a browser sends cross-site without a CORS
 * preflight (F3127). For every route whose body is JSON. */
bool api_refuse_unless_json(struct api_req *r);
/* The body (bounded by max_body, which libevent enforces with 413). */
struct slice api_body(struct api_req *r);
/* Authenticated caller; NULL on API_PUBLIC routes. */
const struct principal *api_principal(const struct api_req *r);
struct server *api_server(const struct api_req *r);
/* Per-request scratch pointer for handlers and their callbacks. */
void api_set_data(struct api_req *r, void *data);
void *api_data(const struct api_req *r);

/* ---- answering (each frees r) ----------------------------------------- */
void api_reply(struct api_req *r, int status, const char *content_type,
               const char *body, size_t len);
void api_reply_json(struct api_req *r, int status, const char *json,
                    size_t len);
/* code: short stable name ("invalid", "not_found"); message: static text,
 * never a value from the request; field: where, or NULL */
void api_reply_error(struct api_req *r, int status, const char *code,
                     const char *message, const char *field);
/* api_reply_error, and "offset" (integer: the 0-based byte offset into the
 * request body where the fault is) when where->located (a body that is not
 * UTF-8 or not JSON, F1467); where NULL: none */
void api_reply_error_at(struct api_req *r, int status, const char *code,
                        const char *message, const char *field,
                        const struct hub_err *where);
/* api_reply_error, and one more string member of "error", key: value
 * (what the client acts on: the feed's "resume" cursor) */
void api_reply_error_with(struct api_req *r, int status, const char *code,
                          const char *message, const char *field,
                          const char *key, const char *value);
/* 503 with Retry-After, for back-pressure and an unreachable database */
void api_reply_busy(struct api_req *r, const char *message);
/* The warn line api_reply_busy writes (at most one a second, with a count),
 * for a 503 answered another way (a FHIR OperationOutcome). */
void api_log_busy(struct api_req *r, const char *message);
/* Add a response header before replying. */
void api_add_header(struct api_req *r, const char *name, const char *value);

/* ---- off the loop thread ---------------------------------------------- */
typedef int (*api_work_fn)(struct store *s, void *arg);
typedef void (*api_done_fn)(struct api_req *r, int rc, void *arg);
/*
 * Run work(s, arg) on a database worker, then done(r, rc, arg) on the loop
 * thread. If the queue is full, done runs at once with HUB_EBUSY.
 * `arg` must live until done (allocate it; free it in done).
 */
void api_db(struct api_req *r, api_work_fn work, api_done_fn done, void *arg);
/*
 * api_db for long work done in steps (GET /v1/audit/verify's walk): while
 * it runs, the loop thread looks at the client's socket every
 * API_WATCH_MS and sets *stop (in arg, read by work) once the client has
 * closed it, so that work stops between two steps rather than hold a
 * database worker for nobody (F1100); and once hubd is stopping, so that
 * the drain is not held for the rest of the walk nor the pool's shutdown
 * after it (F1200). done still runs: api_server(r)->stopping tells the
 * two apart (the answer to a client gone goes nowhere).
 */
#define API_WATCH_MS 100
void api_db_watched(struct api_req *r, api_work_fn work, api_done_fn done,
                    void *arg, atomic_bool *stop);

/* ---- durable ingest from a route -------------------------------------- */
struct ingest_job;
/*
 * Hand prepared jobs (see ingest.h: ingest_prepare_hl7, or ingest_job_init
 * + ingest_job_accept/_reject for other formats) to the committers and call
 * done(r, jobs, n, arg) on the loop thread once every one came back. In done,
 * jobs[i]->rc == HUB_OK means committed (answer with ingest_job_answer() and
 * jobs[i]->outcome); anything else means the database failed and nothing may
 * be acknowledged (answer api_reply_busy). api_ingest takes the jobs array
 * and the jobs, and frees them after done returns. When the in-flight cap is
 * reached or the database is known to be down, it answers 503 with
 * Retry-After itself, by busy (done is not called).
 */
typedef void (*api_ingest_done_fn)(struct api_req *r, struct ingest_job **jobs,
                                   size_t n, void *arg);
/* How a route answers 503 in its own shape (FHIR: an OperationOutcome);
 * NULL: api_reply_busy */
typedef void (*api_busy_fn)(struct api_req *r, const char *what);
void api_ingest(struct api_req *r, struct ingest_job **jobs, size_t n,
                api_ingest_done_fn done, api_busy_fn busy, void *arg);

#endif
