/*
 * hubd.c - the server's start-up and shutdown; everything else lives in the
 * modules it wires together.
 *
 *   config -> logging -> data dictionary (refuse to start when invalid)
 *   -> (dev, no DATABASE_URL: the private PostgreSQL) -> migrate (when
 *   configured) -> TLS contexts -> ingest committers, database workers, auth
 *   -> MLLP and HTTP listeners -> dispatcher and pruner (threads of their
 *   own) -> signal handlers -> ports file (last: it says "up") -> loop
 *
 * SIGINT/SIGTERM: stop accepting and reading, let the committers finish
 * what is in flight (retrying a database outage up to shutdown_timeout),
 * write the last ACKs, close, exit 0; an API request still waiting at the
 * deadline is answered 503 with Retry-After. Past the drain, a statement waits
 * at most HUBD_STOP_GRACE_MS more for the server and no link is opened
 * (store_stop_waiting), so that a database that does not answer cannot
 * hold the exit (F664). A second signal exits at once (still
 * safe: nothing unACKed was promised). SIGHUP: load the data dictionary
 * (reload_dict) and the TLS certificate, key and CA (load_tls) again, each
 * only when its files load whole; nothing else.
 *
 * Usage: hubd [-c FILE] [--check-config]
 */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/ssl.h>

#include "auth.h"
#include "ccda/ccda.h"
#include "common/jsontree.h"
#include "config.h"
#include "dispatch.h"
#include "dbpool.h"
#include "dict_files.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "prune.h"
#include "server.h"
#include "store.h"
#include "tls.h"
#include "webhook.h"

/* After the drain: how long a statement still waits for the server's
 * answer (one already waiting, or one started since: the dispatcher's
 * last outcomes) before its link is cut. */
#define HUBD_STOP_GRACE_MS 2000
/* At the drain's end: how long the loop still runs to write the answers
 * given since the stop (the 503s of the requests still waiting at the
 * deadline among them). */
#define HUBD_FLUSH_MS 250

static struct hub_config cfg;
static struct dict *dict;       /* immutable once loaded; adapters share it */
/* Dictionaries a SIGHUP replaced: kept until exit, never freed before, as
 * a body being normalized on a database worker holds the one it started
 * with (api_docs.c). A reload is an operator's edit: a few a day at most. */
#define DICTS_RETIRED_MAX 64
static struct dict *dicts_retired[DICTS_RETIRED_MAX];
static int n_dicts_retired;

/* The dictionary is data the adapters cannot work without: refuse to start
 * (naming the file and JSON path, never guessing) when it does not load;
 * on SIGHUP keep the one in use. `event` names the log line. */
static int load_dict(struct dict **out, const char *event)
{
    struct dict_err derr;

    memset(&derr, 0, sizeof(derr));
    int drc = dict_files_load(cfg.dict_dir, out, &derr);
    if (drc != HUB_OK) {
        log_error("hubd.dict_invalid", "dir=%s file=%s path=%s why=\"%s\" "
                  "code=%s", cfg.dict_dir, derr.file,
                  derr.path[0] ? derr.path : "-",
                  derr.what ? derr.what : "cannot load", hub_strerror(drc));
        return drc;
    }
    log_info(event, "dir=%s ig=%s", cfg.dict_dir, dict_ig_version(*out));
    return HUB_OK;
}

/* written whole, then renamed: a reader never sees half a file */
static int write_ports_file(const struct server *srv, const char *path)
{
    char tmp[CONFIG_STR + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return HUB_EIO;
    fwrite(srv->ports, 1, srv->ports_len, f);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return HUB_EIO;
    return HUB_OK;
}

struct app {
    struct server srv;
    struct mllp_server *mllp;
    struct http_server *http;
    struct event *sig_int, *sig_term, *sig_hup, *drain_timer;
    double stop_deadline;
    int signals;
    struct dispatch *dispatch;  /* webhook deliveries (issue 4) */
    struct pruner *pruner;      /* the retention (prune.h) */
};

static void drain_check(evutil_socket_t fd, short what, void *arg)
{
    struct app *app = arg;
    (void)fd;
    (void)what;
    size_t inflight = ingest_inflight(app->srv.ing);
    size_t conns = mllp_server_connections(app->mllp);
    size_t reqs = http_server_pending(app->http);
    double now = (double)ingest_now_ns() / 1e9;

    if ((inflight == 0 && conns == 0 && reqs == 0) ||
        now > app->stop_deadline) {
        /* a request still waiting (a walk's step, a slow statement) is
         * told to come back, never closed on unanswered; the loop runs a
         * moment more to write those answers */
        size_t told = http_server_answer_pending(app->http, "hubd is "
                                                 "stopping, retry later");
        /* and so do the answers written during the drain: one written in
         * this turn of the loop (a stopped walk's 503, in the same turn
         * as this timer) is still in its connection's buffer, and an
         * exit now closed it unwritten */
        bool unwritten = told || http_server_answered_stopping(app->http);
        struct timeval flush = { 0, unwritten ? HUBD_FLUSH_MS * 1000 : 0 };
        log_info("hubd.drained", "inflight=%zu conns=%zu requests=%zu "
                 "answered_busy=%zu", inflight, conns, reqs, told);
        event_base_loopexit(app->srv.base, &flush);
        return;
    }
    struct timeval tv = { 0, 50000 };
    evtimer_add(app->drain_timer, &tv);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct app *app = arg;
    (void)what;
    if (++app->signals > 1) {
        log_warn("hubd.exit_now", "signal=%d", (int)sig);
        exit(1);
    }
    log_info("hubd.stopping", "signal=%d", (int)sig);
    app->srv.stopping = true;
    mllp_server_stop(app->mllp);
    http_server_stop(app->http);
    ingest_stop(app->srv.ing);
    app->stop_deadline =
        (double)ingest_now_ns() / 1e9 + cfg.shutdown_timeout + 1;
    app->drain_timer = evtimer_new(app->srv.base, drain_check, app);
    drain_check(-1, 0, app);
}

/*
 * The TLS contexts of the listeners asked for, from tls_cert, tls_key and
 * tls_ca. At start a failure stops hubd. On SIGHUP (a renewed certificate
 * or key, a CA bundle with a new partner CA) the new contexts replace the
 * old only when every one loaded: a half-written file keeps the ones in
 * use, with the reason in the log. Connections already open keep the
 * context they were accepted with (each SSL holds a reference to it); new
 * ones get the new. Loop thread only, as the listeners read them there.
 */
static int load_tls(struct server *srv, bool https, bool mllps,
                    const char *event)
{
    char err[512];
    SSL_CTX *h = NULL, *m = NULL;

    if (https && (h = tls_server_ctx(cfg.tls_cert, cfg.tls_key, cfg.tls_ca,
                                     false, err, sizeof(err))) == NULL) {
        log_error("hubd.tls_failed", "listener=https why=\"%s\"", err);
        return HUB_EINVALID;
    }
    if (mllps && (m = tls_server_ctx(cfg.tls_cert, cfg.tls_key, cfg.tls_ca,
                                     true, err, sizeof(err))) == NULL) {
        log_error("hubd.tls_failed", "listener=mllps why=\"%s\"", err);
        SSL_CTX_free(h);
        return HUB_EINVALID;
    }
    SSL_CTX *loaded[2] = { h, m };
    for (int i = 0; i < 2; i++) {
        char fp[65];
        long long not_after;
        if (loaded[i] == NULL ||
            tls_ctx_certificate(loaded[i], fp, &not_after) != HUB_OK)
            continue;
        metrics_tls_not_after(i == 0 ? METRIC_TLS_HTTPS : METRIC_TLS_MLLPS,
                              not_after);
        log_info(event, "listener=%s sha256=%s not_after=%lld",
                 i == 0 ? "https" : "mllps", fp, not_after);
    }
    if (https) {
        SSL_CTX_free(srv->tls_https);
        srv->tls_https = h;
    }
    if (mllps) {
        SSL_CTX_free(srv->tls_mllp);
        srv->tls_mllp = m;
    }
    return HUB_OK;
}

/* SIGHUP, the data dictionary: a new one replaces it for every message
 * read from now on when it loads and validates whole; else the one in use
 * stays. Loop thread (the listeners read srv.dict there). */
static void reload_dict(struct app *app)
{
    struct dict *d = NULL;

    if (n_dicts_retired == DICTS_RETIRED_MAX) {
        log_warn("hubd.dict_reload_failed", "kept=\"%s\" why=\"%s\"",
                 "the dictionary in use", "too many reloads: restart hubd");
        return;
    }
    if (load_dict(&d, "hubd.dict_reloaded") != HUB_OK) {
        log_warn("hubd.dict_reload_failed", "kept=%s",
                 "the dictionary in use");
        return;
    }
    dicts_retired[n_dicts_retired++] = dict;
    dict = d;
    app->srv.dict = d;
    webhook_sub_use_dict(d);
}

/* SIGHUP: load the data dictionary and the TLS files (only for the
 * listeners that run) again, each kept as it was when its new files do
 * not load */
static void on_reload(evutil_socket_t sig, short what, void *arg)
{
    struct app *app = arg;
    (void)sig;
    (void)what;
    if (app->srv.stopping)
        return;
    reload_dict(app);
    if (app->srv.tls_https == NULL && app->srv.tls_mllp == NULL)
        return;
    if (load_tls(&app->srv, app->srv.tls_https != NULL,
                 app->srv.tls_mllp != NULL, "hubd.tls_reloaded") != HUB_OK)
        log_warn("hubd.tls_reload_failed", "kept=%s",
                 "the certificates in use");
}

/* dev profile without DATABASE_URL: start the private PostgreSQL in ./var */
static int dev_database(void)
{
    FILE *p;
    char line[1024];

    if (access("deploy/devdb.sh", X_OK) != 0)
        return HUB_ENOTFOUND;
    if (system("deploy/devdb.sh start >&2") != 0)
        return HUB_EIO;
    p = popen("deploy/devdb.sh url", "r");
    if (p == NULL)
        return HUB_EIO;
    if (fgets(line, sizeof(line), p) == NULL) {
        pclose(p);
        return HUB_EIO;
    }
    pclose(p);
    line[strcspn(line, "\n")] = '\0';
    return config_set(&cfg, "database_url", line);
}

static void usage(FILE *out)
{
    fputs("usage: hubd [-c FILE] [--check-config]\n"
          "  configuration: FILE (key = value; else $HUB_CONFIG), then\n"
          "  HUB_<KEY> and DATABASE_URL from the environment; every key is\n"
          "  in deploy/hubd.conf.example\n"
          "  --check-config  load the configuration, the data dictionary and\n"
          "                  the TLS files, then exit (0: ok, 2: refused,\n"
          "                  with the reason)\n"
          "  SIGHUP loads the data dictionary and the TLS certificate, key\n"
          "  and CA again\n",
          out);
}

/*
 * glibc raises its mmap threshold to the size of each large block freed
 * (up to 32 MB), and its trim threshold to twice that: after one big
 * upload (a CSV batch's arrays run to megabytes) every later block of that
 * size comes from the heap and stays there when freed, and the resident
 * size never comes back down (46 MB with 1,000 idle MLLP connections after
 * the bench's HTTPS steps, against 25 MB with fixed thresholds). Fixed
 * thresholds: blocks from 128 KB are mapped and unmapped, and a heap keeps
 * at most 1 MB free at its top (less than that was trimmed and faulted
 * back in batch after batch). Unless the operator set them.
 */
static void malloc_limits(void)
{
#ifdef __GLIBC__
    if (getenv("GLIBC_TUNABLES") || getenv("MALLOC_MMAP_THRESHOLD_") ||
        getenv("MALLOC_TRIM_THRESHOLD_"))
        return;
    (void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    (void)mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
#endif
}

/* The production profile's TLS listeners need their certificate and key:
 * without them hubd would run with no API at all (plain HTTP is the dev
 * profile's alone), so it refuses to start, as --check-config does. The
 * dev profile starts without them, with a warning (make run makes them). */
static bool tls_files_ok(void)
{
    if (cfg.profile == PROFILE_DEV ||
        (cfg.mllps_port < 0 && cfg.https_port < 0))
        return true;
    const char *key = "tls_cert", *path = cfg.tls_cert;
    if (access(path, R_OK) == 0) {
        key = "tls_key";
        path = cfg.tls_key;
        if (access(path, R_OK) == 0)
            return true;
    }
    fprintf(stderr, "hubd: %s (%s) is not readable; the production profile "
            "needs it for https_port and mllps_port (set both to -1 to run "
            "without TLS listeners)\n", key, path);
    return false;
}

/* The egress proxy (webhook_proxy): config_load checked its form; here
 * what this libcurl can do with it (an https:// proxy needs TLS to
 * proxies), and that its CA bundle, when named, is readable. Neither
 * message quotes the URL (it may hold a password). */
static bool proxy_ok(void)
{
    const char *why;

    if (dispatch_proxy_usable(cfg.webhook_proxy, &why) != HUB_OK) {
        fprintf(stderr, "hubd: webhook_proxy cannot be used: %s\n", why);
        return false;
    }
    if (cfg.webhook_proxy_ca[0] && access(cfg.webhook_proxy_ca, R_OK) != 0) {
        fprintf(stderr, "hubd: webhook_proxy_ca (%s) is not readable\n",
                cfg.webhook_proxy_ca);
        return false;
    }
    if (cfg.webhook_proxy_ca[0] && strncasecmp(cfg.webhook_proxy, "https://",
                                               8) != 0) {
        fprintf(stderr, "hubd: webhook_proxy_ca is set, but webhook_proxy "
                "is not an https:// proxy\n");
        return false;
    }
    return true;
}

/* A database_url libpq cannot parse would never connect: hubd started,
 * said only store.connect_failed sqlstate=08001 and retried for ever, and
 * --check-config passed it. Refused here, unquoted (it may hold a
 * password). */
static bool database_url_ok(void)
{
    char why[160];

    if (cfg.database_url[0] == '\0' ||
        store_url_check(cfg.database_url, why, sizeof(why)) == HUB_OK)
        return true;
    fprintf(stderr, "hubd: database_url: %s\n", why);
    return false;
}

/* --check-config: the TLS files load as hubd will load them at start
 * (load_tls: a key that does not match its certificate, a CA bundle that
 * does not parse, named in the log), rather than only being readable.
 * Without a certificate the dev profile starts without TLS (warned at
 * start), as tls_files_ok allows. */
static bool tls_files_load(void)
{
    struct server scratch;

    if (access(cfg.tls_cert, R_OK) != 0) {
        /* the dev profile starts without TLS: said here, with the file,
         * rather than "configuration ok" alone (F1460) */
        if (cfg.https_port >= 0 || cfg.mllps_port >= 0)
            fprintf(stderr, "hubd: warning: tls_cert (%s) is not readable: "
                    "the dev profile starts without https_port and "
                    "mllps_port (certs/mkcerts.sh makes development "
                    "certificates)\n", cfg.tls_cert);
        return true;
    }
    memset(&scratch, 0, sizeof(scratch));
    int rc = load_tls(&scratch, cfg.https_port >= 0, cfg.mllps_port >= 0,
                      "hubd.tls_checked");
    SSL_CTX_free(scratch.tls_https);
    SSL_CTX_free(scratch.tls_mllp);
    return rc == HUB_OK;
}

/*
 * Descriptors enough for the connections the configuration allows: the
 * soft limit raised to the hard one (a shell's default soft limit, 1024,
 * is below max_connections' 4096; hubd.service sets LimitNOFILE), and a
 * warning naming the settings when even the hard limit is short. Past the
 * limit the listeners wait (accept_guard.h), they do not fail.
 */
static void raise_fd_limit(const struct hub_config *c)
{
    struct rlimit rl;
    /* connections, the database's, the dispatcher's, files and slack */
    rlim_t want = (rlim_t)c->max_connections +
                  (rlim_t)c->https_max_connections + 256;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < want)
        log_warn("hubd.fd_limit", "nofile=%llu want=%llu fix=\"raise "
                 "LimitNOFILE (hubd.service) or ulimit -n, or lower "
                 "max_connections and https_max_connections\"",
                 (unsigned long long)rl.rlim_cur,
                 (unsigned long long)want);
}

/*
 * Without migrate_at_start (production), a database that `hubctl migrate`
 * has not brought to this binary's files is refused at start, naming the
 * first file missing: it would start, say ready, and fail every query
 * (SQLSTATE 42883, 42P01) instead. A database that cannot be reached, or
 * migrations_dir that cannot be read, is no reason to stop: hubd waits for
 * its database, and needs no migration files to run.
 */
static int schema_missing(void)
{
    struct store *s;
    char missing[256];

    if (store_connect(cfg.database_url, &s) != HUB_OK)
        return HUB_OK;
    int rc = store_migration_missing(s, cfg.migrations_dir, missing,
                                     sizeof(missing));
    store_free(s);
    if (rc == HUB_OK && missing[0]) {
        log_error("hubd.not_migrated", "file=%s fix=\"hubctl migrate (it "
                  "reads DATABASE_URL and HUB_MIGRATIONS_DIR), then start "
                  "hubd\"", missing);
        return HUB_EINVALID;
    }
    if (rc == HUB_EIO)
        log_warn("hubd.schema_unchecked", "dir=%s why=\"%s\"",
                 cfg.migrations_dir, "cannot read the migration files");
    return HUB_OK;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    bool check_only = false;
    char err[512];
    struct app app;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-c") && i + 1 < argc)
            path = argv[++i];
        else if (!strcmp(argv[i], "-c")) {
            /* not "unknown argument '-c'": the usage names it (F1464) */
            fprintf(stderr, "hubd: -c needs a FILE (the configuration, "
                    "key = value)\n");
            usage(stderr);
            return 2;
        } else if (!strcmp(argv[i], "--check-config"))
            check_only = true;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "hubd: unknown argument '%.64s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    malloc_limits();
    if (path == NULL)
        path = getenv("HUB_CONFIG");
    if (config_load(&cfg, path, err, sizeof(err)) != HUB_OK) {
        fprintf(stderr, "hubd: %s\n", err);
        return 2;
    }
    if (!strcmp(cfg.log_level, "debug"))
        log_set_level(LOG_DEBUG);
    else if (!strcmp(cfg.log_level, "warn"))
        log_set_level(LOG_WARN);
    else if (!strcmp(cfg.log_level, "error"))
        log_set_level(LOG_ERROR);
    /* a mistyped variable would be ignored without a word: the file's
     * unknown keys are refused, the environment's are named (never their
     * values) */
    const char *unknown[16];
    size_t n_unknown = config_env_unknown(unknown, 16);
    for (size_t i = 0; i < n_unknown; i++)
        log_warn("hubd.env_unknown", "name=%.*s why=\"%s\"",
                 (int)strcspn(unknown[i], "="), unknown[i],
                 "no such key, ignored");
    if (!tls_files_ok() || !proxy_ok() || !database_url_ok())
        return 2;
    if (load_dict(&dict, "hubd.dict_loaded") != HUB_OK)
        return 2;
    if (check_only) {
        bool tls_ok = tls_files_load();
        dict_free(dict);
        if (!tls_ok)
            return 2;
        /* the production profile has no private database to fall back
         * on: say so here (systemd's ExecStartPre), not at the start */
        if (cfg.profile == PROFILE_PRODUCTION && !cfg.database_url[0]) {
            fprintf(stderr, "hubd: database_url: the production profile "
                    "needs one (DATABASE_URL, e.g. in /etc/hub/hubd.env)\n");
            return 2;
        }
        puts("hubd: configuration ok");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    ccda_global_init();     /* libxml2's globals, before any thread starts */
    jsontree_global_init(); /* cJSON's hooks, likewise (jsontree.h) */
    if (cfg.database_url[0] == '\0') {
        if (cfg.profile != PROFILE_DEV || dev_database() != HUB_OK) {
            log_error("hubd.no_database", "why=\"%s\"",
                      "set DATABASE_URL (database_url)");
            return 2;
        }
    }
    if (cfg.migrate_at_start) {
        struct store *s;
        if (store_connect(cfg.database_url, &s) != HUB_OK) {
            /* the log says no more than store.connect_failed (no URL,
             * no server text); hubctl says why, on the terminal (F1465) */
            log_error("hubd.migrate_failed", "why=\"%s\"", "cannot connect "
                      "to DATABASE_URL (hubctl org list with the same "
                      "DATABASE_URL says why)");
            return 1;
        }
        int mrc = store_migrate(s, cfg.migrations_dir);
        store_free(s);
        if (mrc != HUB_OK) {
            log_error("hubd.migrate_failed", "code=%s", hub_strerror(mrc));
            return 1;
        }
        log_info("hubd.migrated", "dir=%s", cfg.migrations_dir);
    } else if (schema_missing() != HUB_OK) {
        return 2;
    }

    raise_fd_limit(&cfg);
    memset(&app, 0, sizeof(app));
    if (evthread_use_pthreads() != 0) {
        log_error("hubd.start_failed", "why=\"%s\"", "evthread_use_pthreads");
        return 1;
    }
    app.srv.base = event_base_new();
    app.srv.cfg = &cfg;
    app.srv.dict = dict;
    webhook_sub_use_dict(dict);
    webhook_sub_use_address_policy(cfg.profile == PROFILE_PRODUCTION,
                                   cfg.webhook_allow_private);
    if (app.srv.base == NULL)
        return 1;

    bool want_tls = cfg.mllps_port >= 0 || cfg.https_port >= 0;
    if (want_tls && access(cfg.tls_cert, R_OK) != 0) {
        log_warn("hubd.tls_disabled", "tls_cert=%s why=\"%s\"", cfg.tls_cert,
                 "not readable: no https_port, no mllps_port (run "
                 "certs/mkcerts.sh)");
        want_tls = false;
    }
    if (want_tls && load_tls(&app.srv, cfg.https_port >= 0,
                             cfg.mllps_port >= 0, "hubd.tls_loaded") != HUB_OK)
        goto out;

    const struct dbpool_limits pool = {
        .threads = cfg.db_threads, .max_queue = 4096,
        .wait_ms = cfg.db_wait_timeout * 1000,
        .lock_timeout_ms = cfg.db_lock_timeout * 1000,
        .statement_ms = cfg.db_statement_timeout * 1000 };
    if (ingest_new(app.srv.base, &cfg, &app.srv.ing) != HUB_OK ||
        dbpool_new(app.srv.base, cfg.database_url, &pool, &app.srv.db) !=
            HUB_OK ||
        auth_new(app.srv.db, cfg.auth_cache_ttl, &app.srv.auth) != HUB_OK ||
        auth_listen(app.srv.auth, app.srv.base, cfg.database_url) != HUB_OK)
        goto out;
    if (mllp_server_new(&app.srv, &app.mllp) != HUB_OK ||
        http_server_new(&app.srv, &app.http) != HUB_OK) {
        /* the listener said why above (a port in use: another hubd?) */
        log_error("hubd.start_failed", "why=\"%s\"",
                  "a listener did not start");
        goto out;
    }
    {
        /* the webhook dispatcher: its own thread, loop and connections */
        struct dispatch_config dc;
        dispatch_config_from(&dc, &cfg);
        if (dc.enabled && dispatch_start(&dc, &app.dispatch) != HUB_OK) {
            log_error("hubd.start_failed", "why=\"%s\"", "dispatcher");
            goto out;
        }
    }
    /* the retention: its own thread and connection, off the loop */
    if (pruner_start(&cfg, &app.pruner) != HUB_OK) {
        log_error("hubd.start_failed", "why=\"%s\"", "pruner");
        goto out;
    }
    app.sig_int = evsignal_new(app.srv.base, SIGINT, on_signal, &app);
    app.sig_term = evsignal_new(app.srv.base, SIGTERM, on_signal, &app);
    app.sig_hup = evsignal_new(app.srv.base, SIGHUP, on_reload, &app);
    evsignal_add(app.sig_int, NULL);
    evsignal_add(app.sig_term, NULL);
    evsignal_add(app.sig_hup, NULL);
    /* the ports file says "up" to whoever waits for it (tests, scripts):
     * written last, once Ctrl-C stops hubd cleanly (a SIGINT before the
     * handler was set ended it with no shutdown at all) */
    if (cfg.ports_file[0] && write_ports_file(&app.srv, cfg.ports_file) != HUB_OK) {
        log_error("hubd.ports_file_failed", "errno=%d", errno);
        goto out;
    }
    log_info("hubd.started", "profile=%s pid=%d",
             cfg.profile == PROFILE_DEV ? "dev" : "production", (int)getpid());

    event_base_dispatch(app.srv.base);
    rc = 0;
    log_info("hubd.stopped", "inflight=%zu",
             app.srv.ing ? ingest_inflight(app.srv.ing) : (size_t)0);
    /* the file says "up": a stopped hubd takes it back, so that whoever
     * waits for the next start does not read these ports (a kill -9
     * leaves it; the next start replaces it) */
    if (cfg.ports_file[0])
        (void)unlink(cfg.ports_file);
out:
    /* order: no new input, then the pipeline (its last callbacks still
     * reach their connections), then the connections, then the rest */
    app.srv.stopping = true;
    app.srv.down = true;
    store_stop_waiting(HUBD_STOP_GRACE_MS);
    dispatch_stop(app.dispatch);
    pruner_stop(app.pruner);
    mllp_server_stop(app.mllp);
    http_server_stop(app.http);
    if (app.srv.ing)
        ingest_free(app.srv.ing);
    dbpool_free(app.srv.db);
    mllp_server_free(app.mllp);
    http_server_free(app.http);
    auth_free(app.srv.auth);
    if (app.sig_int)
        event_free(app.sig_int);
    if (app.sig_term)
        event_free(app.sig_term);
    if (app.sig_hup)
        event_free(app.sig_hup);
    if (app.drain_timer)
        event_free(app.drain_timer);
    SSL_CTX_free(app.srv.tls_https);
    SSL_CTX_free(app.srv.tls_mllp);
    event_base_free(app.srv.base);
    /* every HTTPS connection's SSL is freed by now (libevent ran its
     * finalizers): a count left would be a connection that leaked */
    if (http_tls_open() != 0)
        log_warn("hubd.exited", "https_conns=%zu", http_tls_open());
    else if (app.srv.base)
        log_info("hubd.exited", "https_conns=0");
    dict_free(dict);
    for (int i = 0; i < n_dicts_retired; i++)
        dict_free(dicts_retired[i]);
    libevent_global_shutdown();
    return rc;
}
