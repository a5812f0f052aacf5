/*
 * hubproc.h - end-to-end test helpers: run the real hubd binary against a
 * fresh database, talk MLLP (plain and TLS) and HTTPS to it, cut its
 * database link on purpose, and count rows in SQL.
 *
 * Everything is bounded: every wait has a deadline, every read a timeout.
 * hubd is $HUB_BUILD/hubd (default build/hubd under $HUB_ROOT), started on
 * ephemeral loopback ports that it writes to a ports file.
 */
#ifndef HUB_TEST_HUBPROC_H
#define HUB_TEST_HUBPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/* A TCP proxy in front of PostgreSQL, so that a test can take "the
 * database" away from hubd and give it back. */
struct dbproxy;
struct dbproxy *dbproxy_start(int pg_port);
int dbproxy_port(const struct dbproxy *p);
/* down: close every proxied connection and refuse new ones */
void dbproxy_set_down(struct dbproxy *p, bool down);
/* hung: a server that answers nothing, not even a new connection's
 * startup (the whole host stopped, its storage hung): the proxy accepts,
 * reads and forwards nothing; the kernel completes connections into the
 * listen backlog and takes bytes into its buffers, as the server's would */
void dbproxy_set_hung(struct dbproxy *p, bool hung);
/* hold: the answers of the server on every connection open now are held
 * back (left unread in the kernel's buffers, the statements still reach
 * the server and run): a commit whose answer comes late, as through a
 * stalled network path; connections opened later pass as usual. false:
 * they flow again. */
void dbproxy_hold_answers(struct dbproxy *p, bool hold);
/* connections it closed at once because it was down: how often hubd tried
 * to reach the database meanwhile */
int dbproxy_refused(struct dbproxy *p);
void dbproxy_stop(struct dbproxy *p);

struct hubproc {
    pid_t pid;
    char dir[256];                  /* temp dir: config, ports, log, certs */
    char db_url[1024];              /* the fresh database (direct) */
    char hub_db_url[1024];          /* what hubd uses (maybe via proxy) */
    int mllp, mllps, https, http;   /* bound ports (0: none) */
    struct dbproxy *proxy;
};

/*
 * Create a fresh database and a temp dir with development certificates,
 * seed organizations (hosp: ingest+subscribe with token "tok-hosp" and a
 * client certificate; cbo: subscribe with token "tok-cbo"; plain listener
 * bound to hosp), write a config with `extra` lines (may be NULL) and start
 * hubd. `via_proxy`: hubd reaches the database through a dbproxy.
 * Returns 0, or -1 (with a message on stderr).
 */
int hub_start(struct hubproc *h, const char *extra, bool via_proxy);
/* A second hubd on the database of `first` (started with hub_start), with
 * the same configuration, certificates (a link to first's) and `extra`
 * lines, in a dir of its own (its own ports and hubd.log). hub_cleanup of
 * it stops it and leaves the database; clean it up before `first`. */
int hub_start_peer(struct hubproc *peer, const struct hubproc *first,
                   const char *extra);
/* A bare hubd child on database `url` (dev profile, no migration, MLLP and
 * plain HTTP on ephemeral ports written to a ports file named by its pid,
 * TLS listeners off, log level warn), dispatching as `node` with a 1 s
 * request timeout, a 50 ms poll and the clock 1000x fast (retry schedules
 * in seconds); `env`: more NAME=VALUE settings, NULL terminated (may be
 * NULL). It dies with the test process (a test killed at its timeout skips
 * .fini). Returns its pid, -1 when fork failed. */
pid_t hub_spawn_node(const char *url, const char *node,
                     const char *const *env);
/* The node `pid` wrote its ports file and answers GET /readyz 200. */
bool hub_node_ready(pid_t pid, int timeout_ms);
/* Stop the node `pid` with `sig` (SIGKILL, SIGTERM), reap it, remove its
 * ports file. */
void hub_node_stop(pid_t pid, int sig);
/* Start hubd again with the same dir, config and database. */
int hub_restart(struct hubproc *h);
/* `line` ("key = value") in h's hubd.conf in place of the key's line, for
 * a hub_restart (hubd refuses a key given twice, F3128); -1 on error */
int hub_conf_set(const struct hubproc *h, const char *line);
/* SIGTERM and wait (bounded); returns the exit status or -1. */
int hub_stop(struct hubproc *h);
void hub_kill9(struct hubproc *h);
/* Wait (bounded by ms) for hubd to exit by itself; its exit status or -1. */
int hub_wait(struct hubproc *h, int ms);
/* Stop if running, drop the database, remove the temp dir. Aborts (the
 * test counts as crashed; the dir is kept) when hubd.log holds a canary
 * value (canary.h): no personal data in the hub's log. */
void hub_cleanup(struct hubproc *h);
/* The canary value in hubd.log (its line into `line`), or NULL: for a test
 * that asserts it in its body. */
const char *hub_log_leak(const struct hubproc *h, char *line, size_t size);
/* Occurrences of `what` in hubd.log; hub_wait_log polls until there are
 * at least n (bounded by ms) and says whether there were. */
int hub_log_count(const struct hubproc *h, const char *what);
bool hub_wait_log(const struct hubproc *h, const char *what, int n, int ms);
/* path of a file in h->dir */
const char *hub_path(const struct hubproc *h, const char *name);
/* hubd's peak resident memory (VmHWM) in KiB, -1 when unknown */
long hub_peak_kib(const struct hubproc *h);

/* ---- time ------------------------------------------------------------ */
void hub_sleep_ms(long ms);
/* a monotonic clock in milliseconds, for timing an answer */
double hub_mono_ms(void);

/* ---- SQL (through store.h) ------------------------------------------- */
long hub_sql_long(const struct hubproc *h, const char *sql);

/* ---- MLLP client ----------------------------------------------------- */
struct mllp_client {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};
/* TLS when cert != NULL (client certificate of the org; "" = no cert). */
int mllp_connect(struct mllp_client *c, int port, const struct hubproc *h,
                 const char *cert_org);
int mllp_send_raw(struct mllp_client *c, const void *p, size_t n);
int mllp_send(struct mllp_client *c, const char *msg);
/* Read one frame's payload into buf (NUL-terminated). Returns its length,
 * 0 on EOF, -1 on error or timeout. */
long mllp_read(struct mllp_client *c, char *buf, size_t size, int timeout_ms);
/* True once the peer has closed (EOF within timeout). */
bool mllp_closed(struct mllp_client *c, int timeout_ms);
void mllp_close(struct mllp_client *c);

/* True when a read would not wait: bytes (or the peer's close) are there. */
bool mllp_readable(struct mllp_client *c);
/* Raw HTTP on the same connection: read one response, its head and its
 * Content-Length body, into buf (NUL-terminated). Returns its length, -1
 * on a close before its end, an error or the timeout. */
long http_raw_response(struct mllp_client *c, char *buf, size_t size,
                       int timeout_ms);

/* A synthetic ADT^A01 (no real person) with MSH-10 = control_id, segments
 * ending in CR; PID-3.1 is CANARY_MRN followed by mrn, and the name, birth
 * date, address and phone are the canary values of canary.h. */
void hl7_sample(char *out, size_t size, const char *control_id,
                const char *mrn);
/* MSA-1 and MSA-2 of an ACK ("AA", control id) */
void ack_fields(const char *ack, char code[3], char *ctrl, size_t size);

/* ---- HTTP(S) client (libcurl) ---------------------------------------- */
struct http_resp {
    long status;
    char *body;                     /* malloc'd, NUL-terminated */
    size_t len;
    char retry_after[16];
    char content_type[64];
    char allow[64];                 /* Allow (a 405's) */
    char location[160];             /* Location (a 201's) */
    bool replayed;                  /* Idempotent-Replayed: true */
};
/* tls: https port with the hub CA; token (may be NULL) as Bearer;
 * cert_org (may be NULL): client certificate. */
int http_call(const struct hubproc *h, bool tls, const char *method,
              const char *path, const char *token, const char *cert_org,
              const char *body, size_t body_len, const char *accept,
              struct http_resp *r);
/* http_call with extra request headers ("Name: value" strings, NULL
 * terminated); a Content-Type among them replaces the default: a body is
 * sent as application/json to /v1/subscriptions... and /v1/deliveries...
 * (the JSON routes), else as text/plain; "Content-Type:" alone sends none. */
int http_call_h(const struct hubproc *h, bool tls, const char *method,
                const char *path, const char *token,
                const char *const *headers, const char *body,
                size_t body_len, struct http_resp *r);
/* http_call_h with cert_org's client certificate (NULL: none) */
int http_call_ch(const struct hubproc *h, bool tls, const char *method,
                 const char *path, const char *token, const char *cert_org,
                 const char *const *headers, const char *body,
                 size_t body_len, struct http_resp *r);
void http_resp_free(struct http_resp *r);

/* GET /v1/events over HTTPS as hosp (token tok-hosp), timed: `h` set by
 * the caller, the rest filled in (resp freed by the caller). A pthread
 * start routine too, for a request that must wait while another is made. */
struct feed_call {
    const struct hubproc *h;
    struct http_resp resp;
    int rc;
    double ms;
};
void *hub_read_feed(void *arg);

/* The status of a plain GET of path (no token), -1 when there is no answer;
 * hub_wait_status polls it until it is `want` or ms have passed. */
long hub_get_status(const struct hubproc *h, const char *path);
bool hub_wait_status(const struct hubproc *h, const char *path, long want,
                     int ms);

/* The string member `key` ("key": "...", as the hub writes it) of a JSON
 * answer into out (n bytes); the test fails when it is absent or longer. */
void hub_json_str(const char *body, const char *key, char *out, size_t n);

#endif
