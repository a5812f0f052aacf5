/*
 * config.h - hubd configuration: documented defaults, then a `key = value`
 * file, then the environment (HUB_<KEY in upper case>, and DATABASE_URL),
 * each overriding the one before. Every key is documented in
 * deploy/hubd.conf.example. Values are checked whole and range-checked;
 * an unknown key or a bad value is an error that names the key (never the
 * value, which may be a secret).
 */
#ifndef HUB_CONFIG_H
#define HUB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_MAX_MLLP_LISTENERS 16
#define CONFIG_STR 256

enum config_profile { PROFILE_DEV, PROFILE_PRODUCTION };

/* One plain MLLP listener, bound to the one organization that may send on
 * it (MSH-4 is recorded but never trusted as identity). */
struct config_mllp_listener {
    char bind[64];
    int port;                       /* 0: an ephemeral port */
    char org[64];
};

struct hub_config {
    enum config_profile profile;
    char database_url[1024];
    bool migrate_at_start;
    char migrations_dir[CONFIG_STR];
    char dict_dir[CONFIG_STR];      /* the data dictionary (schemas/dict) */

    /* listeners; a port of -1 disables one, 0 asks for an ephemeral port */
    struct config_mllp_listener mllp[CONFIG_MAX_MLLP_LISTENERS];
    size_t n_mllp;
    char mllps_bind[64];
    int mllps_port;                 /* MLLP over TLS, org by client cert */
    char https_bind[64];
    int https_port;
    char http_bind[64];
    int http_port;                  /* plain HTTP: dev profile only */
    char ports_file[CONFIG_STR];    /* where to write bound ports (tests) */

    /* TLS */
    char tls_cert[CONFIG_STR];
    char tls_key[CONFIG_STR];
    char tls_ca[CONFIG_STR];        /* the hub CA that signs client certs */
    bool allow_tokens;              /* bearer tokens (default: dev only) */

    /* limits */
    size_t max_frame;               /* MLLP payload bytes */
    size_t max_body;                /* HTTP body bytes */
    size_t max_messages_per_request;
    int max_connections;            /* MLLP connections, all listeners */
    int max_connections_per_org;    /* ... of one sending organization */
    int https_max_connections;      /* HTTPS connections (SSL objects) */
    int idle_timeout;               /* seconds without a byte */
    int slow_sender_timeout;        /* seconds to finish a started frame */
    int http_timeout;               /* seconds, evhttp read/write */
    size_t inflight_max;            /* messages parsed, not yet answered */
    size_t inflight_max_bytes;
    size_t conn_inflight_max;       /* pipelined frames per connection */
    int retry_after;                /* seconds, in 503 answers */
    int rate_limit;                 /* HTTP requests/s per org, 0: none */
    int rate_burst;                 /* requests above the rate at once */

    /* group commit and database workers */
    int commit_threads;
    size_t commit_batch_max;        /* messages per transaction */
    int commit_wait_us;             /* linger to gather a bigger batch */
    int commit_stuck_timeout;       /* seconds in one commit: not ready */
    int db_threads;                 /* API reads and auth lookups */
    int db_wait_timeout;            /* seconds for a worker, then 503 */
    int db_lock_timeout;            /* seconds a worker waits on a lock */
    int db_statement_timeout;       /* seconds for the server's answer */
    int db_commit_timeout;          /* the same for the committers' and the
                                       dispatcher's statements (F765) */
    int auth_cache_ttl;             /* seconds */
    int shutdown_timeout;           /* seconds to finish in-flight commits */

    char log_level[16];

    /* HL7 v2: the processing IDs (MSH-11.1, table 0103) taken, as letters
     * ("P", "PTD"); a message with another is refused AR, ERR 202. An
     * empty MSH-11 counts as P. Production: P; dev: P, T and D. */
    char hl7_processing_ids[4];

    /* the webhook dispatcher (hub/dispatch.h); bounds as there */
    bool dispatch;                  /* run one in this process */
    int dispatch_max_inflight;      /* transfers at once, all endpoints */
    int dispatch_per_endpoint;      /* transfers at once per endpoint */
    int dispatch_max_endpoints;     /* endpoints' breakers remembered */
    int dispatch_timeout_ms;        /* whole request */
    int dispatch_lease_ms;          /* claim lease; 0 (or one not longer
                                       than the timeout): timeout + 30 s */
    int dispatch_poll_ms;           /* look for due work without NOTIFY */
    int dispatch_breaker_failures;  /* consecutive failures that open */
    int dispatch_breaker_open_ms;   /* how long it stays open (scaled) */
    char dispatch_node[64];         /* lease owner; "": <host>:<pid> */
    bool webhook_allow_private;     /* production: allow internal addresses */
    /* the egress proxy of deliveries (webhook.h, webhook_proxy_check):
     * "" none, or http[s]://[user:password@]host:port; its CA bundle for
     * an https:// proxy ("": the system's) */
    char webhook_proxy[1024];
    char webhook_proxy_ca[1024];
    /* subscription health and digests (001_init.sql, "Health") */
    int alert_failing_after;        /* failing at this failed attempt (3) */
    int alert_digest_s;             /* digest interval (scaled); 0: none */
    bool alert_digest_all;          /* digest without failures too */
    double time_scale;              /* tests: > 1 speeds up the schedule */

    /* retention (hub/prune.h): days kept, 0 = forever */
    int retain_messages_days;       /* raw messages and quarantine */
    int retain_events_days;         /* canonical events (the feed) */
    int retain_deliveries_days;     /* finished deliveries */
    int retain_audit_days;          /* production: 0 or >= 2190 (HIPAA) */
    int prune_batch;                /* rows per transaction */
    int prune_interval;             /* seconds between runs; 0: no pruner
                                       in this hubd (hubctl prune only) */
};

/* HIPAA: audit documentation is kept six years (45 CFR 164.316(b)(2)) */
#define CONFIG_AUDIT_MIN_DAYS 2190

/* Fill *c with the defaults of `profile`. */
void config_defaults(struct hub_config *c, enum config_profile profile);

/*
 * Load: defaults for the profile (from HUB_PROFILE or the file's `profile`
 * key), then `path` (NULL: none), then the environment. Returns HUB_OK or
 * HUB_EINVALID with a message in errbuf ("hubd.conf:12: unknown key").
 */
int config_load(struct hub_config *c, const char *path, char *errbuf,
                size_t errlen) __attribute__((warn_unused_result));

/*
 * The environment's HUB_ variables that name no key (a typo such as
 * HUB_MAX_FRAMES, or a key in lower case) and are none of the tools' own
 * (HUB_CONFIG, HUB_ROOT, HUB_BUILD, HUB_VAR, HUB_PG_*, HUB_TEST_*,
 * HUB_DEMO_*, HUB_E2E_*, HUB_FUZZ_*, HUB_BENCH_*): at most `max` of them,
 * each the "NAME=value" entry of environ. A file's unknown key is refused;
 * the environment is shared with other programs, so hubd warns instead.
 */
size_t config_env_unknown(const char **out, size_t max);

/* The i-th key hubd accepts, NULL past the last (tests: every key is
 * documented). */
const char *config_key_name(size_t i);

/* Apply one setting (exposed for tests). HUB_EINVALID on a bad key/value. */
int config_set(struct hub_config *c, const char *key, const char *value);

#endif
