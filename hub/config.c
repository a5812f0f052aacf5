/*
 * config.c - defaults, then the file, then the environment.
 * One table lists every key with its type and limits, so that the file, the
 * environment and the example (deploy/hubd.conf.example) cannot drift apart
 * silently: a key missing here is refused as unknown.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "webhook.h"

enum kind { K_STR, K_INT, K_SIZE, K_BOOL, K_PORT, K_DOUBLE, K_SPECIAL };

struct key {
    const char *name;
    enum kind kind;
    size_t off;
    size_t size;                    /* K_STR: buffer size */
    long long min, max;
};

#define F(field) offsetof(struct hub_config, field)
#define S(field) sizeof(((struct hub_config *)0)->field)

static const struct key keys[] = {
    { "profile", K_SPECIAL, 0, 0, 0, 0 },
    { "database_url", K_STR, F(database_url), S(database_url), 0, 0 },
    { "migrate_at_start", K_BOOL, F(migrate_at_start), 0, 0, 1 },
    { "migrations_dir", K_STR, F(migrations_dir), S(migrations_dir), 0, 0 },
    { "dict_dir", K_STR, F(dict_dir), S(dict_dir), 0, 0 },
    { "mllp_bind", K_SPECIAL, 0, 0, 0, 0 },
    { "mllp_port", K_SPECIAL, 0, 0, 0, 0 },
    { "mllp_org", K_SPECIAL, 0, 0, 0, 0 },
    { "mllp_listener", K_SPECIAL, 0, 0, 0, 0 },
    { "mllps_bind", K_STR, F(mllps_bind), S(mllps_bind), 0, 0 },
    { "mllps_port", K_PORT, F(mllps_port), 0, -1, 65535 },
    { "https_bind", K_STR, F(https_bind), S(https_bind), 0, 0 },
    { "https_port", K_PORT, F(https_port), 0, -1, 65535 },
    { "http_bind", K_STR, F(http_bind), S(http_bind), 0, 0 },
    { "http_port", K_PORT, F(http_port), 0, -1, 65535 },
    { "ports_file", K_STR, F(ports_file), S(ports_file), 0, 0 },
    { "tls_cert", K_STR, F(tls_cert), S(tls_cert), 0, 0 },
    { "tls_key", K_STR, F(tls_key), S(tls_key), 0, 0 },
    { "tls_ca", K_STR, F(tls_ca), S(tls_ca), 0, 0 },
    { "allow_tokens", K_BOOL, F(allow_tokens), 0, 0, 1 },
    { "max_frame", K_SIZE, F(max_frame), 0, 1024, 64ll << 20 },
    { "max_body", K_SIZE, F(max_body), 0, 1024, 256ll << 20 },
    { "max_messages_per_request", K_SIZE, F(max_messages_per_request), 0, 1,
      100000 },
    { "max_connections", K_INT, F(max_connections), 0, 1, 1000000 },
    { "max_connections_per_org", K_INT, F(max_connections_per_org), 0, 1,
      1000000 },
    { "https_max_connections", K_INT, F(https_max_connections), 0, 1,
      1000000 },
    { "idle_timeout", K_INT, F(idle_timeout), 0, 1, 86400 },
    { "slow_sender_timeout", K_INT, F(slow_sender_timeout), 0, 1, 3600 },
    { "http_timeout", K_INT, F(http_timeout), 0, 1, 3600 },
    { "inflight_max", K_SIZE, F(inflight_max), 0, 1, 10000000 },
    { "inflight_max_bytes", K_SIZE, F(inflight_max_bytes), 0, 1024,
      64ll << 30 },
    { "conn_inflight_max", K_SIZE, F(conn_inflight_max), 0, 1, 100000 },
    { "retry_after", K_INT, F(retry_after), 0, 1, 3600 },
    { "rate_limit", K_INT, F(rate_limit), 0, 0, 1000000 },
    { "rate_burst", K_INT, F(rate_burst), 0, 1, 1000000 },
    { "commit_threads", K_INT, F(commit_threads), 0, 1, 64 },
    { "commit_batch_max", K_SIZE, F(commit_batch_max), 0, 1, 100000 },
    { "commit_wait_us", K_INT, F(commit_wait_us), 0, 0, 1000000 },
    { "commit_stuck_timeout", K_INT, F(commit_stuck_timeout), 0, 1, 3600 },
    { "db_threads", K_INT, F(db_threads), 0, 1, 64 },
    { "db_wait_timeout", K_INT, F(db_wait_timeout), 0, 0, 3600 },
    { "db_lock_timeout", K_INT, F(db_lock_timeout), 0, 0, 3600 },
    { "db_statement_timeout", K_INT, F(db_statement_timeout), 0, 0, 3600 },
    { "db_commit_timeout", K_INT, F(db_commit_timeout), 0, 0, 3600 },
    { "auth_cache_ttl", K_INT, F(auth_cache_ttl), 0, 0, 86400 },
    { "shutdown_timeout", K_INT, F(shutdown_timeout), 0, 0, 3600 },
    { "log_level", K_SPECIAL, 0, 0, 0, 0 },
    { "hl7_processing_ids", K_SPECIAL, 0, 0, 0, 0 },
    { "dispatch", K_BOOL, F(dispatch), 0, 0, 1 },
    { "dispatch_max_inflight", K_INT, F(dispatch_max_inflight), 0, 1, 10000 },
    { "dispatch_per_endpoint", K_INT, F(dispatch_per_endpoint), 0, 1, 1000 },
    /* the table is searched linearly per claimed row (F4144) */
    { "dispatch_max_endpoints", K_INT, F(dispatch_max_endpoints), 0, 1,
      65536 },
    { "dispatch_timeout_ms", K_INT, F(dispatch_timeout_ms), 0, 100, 600000 },
    { "dispatch_lease_ms", K_SPECIAL, 0, 0, 0, 0 },
    { "dispatch_poll_ms", K_INT, F(dispatch_poll_ms), 0, 10, 60000 },
    { "dispatch_breaker_failures", K_INT, F(dispatch_breaker_failures), 0, 1,
      1000 },
    { "dispatch_breaker_open_ms", K_INT, F(dispatch_breaker_open_ms), 0, 0,
      3600000 },
    { "dispatch_node", K_STR, F(dispatch_node), S(dispatch_node), 0, 0 },
    { "webhook_allow_private", K_BOOL, F(webhook_allow_private), 0, 0, 1 },
    { "webhook_proxy", K_SPECIAL, 0, 0, 0, 0 },
    { "webhook_proxy_ca", K_STR, F(webhook_proxy_ca), S(webhook_proxy_ca), 0,
      0 },
    { "alert_failing_after", K_INT, F(alert_failing_after), 0, 1, 14 },
    { "alert_digest_s", K_INT, F(alert_digest_s), 0, 0, 7 * 86400 },
    { "alert_digest_all", K_BOOL, F(alert_digest_all), 0, 0, 1 },
    { "time_scale", K_DOUBLE, F(time_scale), 0, 1, 10000000 },
    { "retain_messages_days", K_INT, F(retain_messages_days), 0, 0, 36500 },
    { "retain_events_days", K_INT, F(retain_events_days), 0, 0, 36500 },
    { "retain_deliveries_days", K_INT, F(retain_deliveries_days), 0, 0,
      36500 },
    { "retain_audit_days", K_INT, F(retain_audit_days), 0, 0, 36500 },
    { "prune_batch", K_INT, F(prune_batch), 0, 1, 100000 },
    { "prune_interval", K_INT, F(prune_interval), 0, 0, 604800 },
};

extern char **environ;

/* HUB_<NAME> (len bytes of name) is a key's variable: its name in upper
 * case, as config_load reads it */
static bool env_names_key(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *k = keys[i].name;
        size_t j = 0;
        while (j < len && k[j] && name[j] == toupper((unsigned char)k[j]))
            j++;
        if (j == len && k[j] == '\0')
            return true;
    }
    return false;
}

/* the variables of make run, the tests and the benchmark */
static bool env_names_tool(const char *name, size_t len)
{
    static const char *const names[] = { "CONFIG", "ROOT", "BUILD", "VAR" };
    static const char *const prefixes[] = { "PG_", "TEST_", "DEMO_", "E2E_",
                                            "FUZZ_", "BENCH_" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == len && memcmp(name, names[i], len) == 0)
            return true;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

size_t config_env_unknown(const char **out, size_t max)
{
    size_t n = 0;

    for (char **e = environ; e && *e && n < max; e++) {
        if (strncmp(*e, "HUB_", 4) != 0)
            continue;
        const char *name = *e + 4;
        size_t len = strcspn(name, "=");
        if (!env_names_key(name, len) && !env_names_tool(name, len))
            out[n++] = *e;
    }
    return n;
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src);
}

void config_defaults(struct hub_config *c, enum config_profile profile)
{
    const char *any = profile == PROFILE_DEV ? "127.0.0.1" : "0.0.0.0";

    memset(c, 0, sizeof(*c));
    c->profile = profile;
    c->migrate_at_start = profile == PROFILE_DEV;
    copy(c->migrations_dir, sizeof(c->migrations_dir), "schemas/migrations");
    copy(c->dict_dir, sizeof(c->dict_dir), "schemas/dict");
    c->n_mllp = 1;
    copy(c->mllp[0].bind, sizeof(c->mllp[0].bind), any);
    c->mllp[0].port = 2575;
    copy(c->mllps_bind, sizeof(c->mllps_bind), any);
    c->mllps_port = 2576;
    copy(c->https_bind, sizeof(c->https_bind), any);
    c->https_port = 8443;
    copy(c->http_bind, sizeof(c->http_bind), "127.0.0.1");
    c->http_port = profile == PROFILE_DEV ? 8080 : -1;
    if (profile == PROFILE_DEV) {
        copy(c->tls_cert, sizeof(c->tls_cert), "var/certs/server.crt");
        copy(c->tls_key, sizeof(c->tls_key), "var/certs/server.key");
        copy(c->tls_ca, sizeof(c->tls_ca), "var/certs/ca.crt");
    } else {
        copy(c->tls_cert, sizeof(c->tls_cert), "/etc/hub/server.crt");
        copy(c->tls_key, sizeof(c->tls_key), "/etc/hub/server.key");
        copy(c->tls_ca, sizeof(c->tls_ca), "/etc/hub/ca.crt");
    }
    c->allow_tokens = profile == PROFILE_DEV;
    c->max_frame = 1u << 20;
    c->max_body = 16u << 20;
    c->max_messages_per_request = 1000;
    c->max_connections = 4096;
    c->max_connections_per_org = 1024;
    c->https_max_connections = 1024;
    c->idle_timeout = 300;
    c->slow_sender_timeout = 30;
    c->http_timeout = 60;
    c->inflight_max = 4096;
    c->inflight_max_bytes = 64u << 20;
    c->conn_inflight_max = 128;
    c->retry_after = 1;
    c->rate_limit = 1000;
    c->rate_burst = 2000;
    c->commit_threads = 2;
    c->commit_batch_max = 512;
    c->commit_wait_us = 0;
    c->commit_stuck_timeout = 10;
    c->db_threads = 2;
    c->db_wait_timeout = 10;
    c->db_lock_timeout = 10;
    c->db_statement_timeout = 15;
    c->db_commit_timeout = 60;
    c->auth_cache_ttl = 30;
    c->shutdown_timeout = 10;
    copy(c->log_level, sizeof(c->log_level), "info");
    /* a test system's training or debugging messages are not real
     * admissions: production takes P alone (HL7 v2 ch. 2, table 0103) */
    copy(c->hl7_processing_ids, sizeof(c->hl7_processing_ids),
         profile == PROFILE_DEV ? "PTD" : "P");
    c->dispatch = true;
    c->dispatch_max_inflight = 64;
    c->dispatch_per_endpoint = 8;
    c->dispatch_max_endpoints = 4096;
    c->dispatch_timeout_ms = 15000;
    c->dispatch_lease_ms = 0;
    c->dispatch_poll_ms = 1000;
    c->dispatch_breaker_failures = 5;
    c->dispatch_breaker_open_ms = 30000;
    c->alert_failing_after = 3;
    c->alert_digest_s = 3600;
    c->time_scale = 1.0;
    /* retention: why these, in deploy/hubd.conf.example */
    c->retain_messages_days = 30;
    c->retain_events_days = 365;
    c->retain_deliveries_days = 90;
    c->retain_audit_days = CONFIG_AUDIT_MIN_DAYS;
    c->prune_batch = 5000;
    c->prune_interval = 86400;
}

static int parse_ll(const char *v, long long min, long long max,
                    long long *out)
{
    char *end;
    long long mult = 1;

    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v)
        return HUB_EINVALID;
    /* sizes may carry a binary suffix: 1M, 64K, 2G */
    if (*end == 'K' || *end == 'k')
        mult = 1ll << 10;
    else if (*end == 'M' || *end == 'm')
        mult = 1ll << 20;
    else if (*end == 'G' || *end == 'g')
        mult = 1ll << 30;
    if (mult != 1)
        end++;
    if (*end != '\0')
        return HUB_EINVALID;
    if (x != 0 && (x > max / mult || x < min / mult))
        return HUB_EINVALID;
    x *= mult;
    if (x < min || x > max)
        return HUB_EINVALID;
    *out = x;
    return HUB_OK;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") ||
        !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") ||
             !strcmp(v, "0"))
        *out = false;
    else
        return HUB_EINVALID;
    return HUB_OK;
}

/* "[addr:]port org" -> one more plain MLLP listener */
static int add_listener(struct hub_config *c, const char *v)
{
    char tmp[256], *sp, *colon;
    long long port;

    if (c->n_mllp >= CONFIG_MAX_MLLP_LISTENERS || strlen(v) >= sizeof(tmp))
        return HUB_EINVALID;
    copy(tmp, sizeof(tmp), v);
    sp = strchr(tmp, ' ');
    if (sp == NULL)
        return HUB_EINVALID;
    *sp++ = '\0';
    while (*sp == ' ')
        sp++;
    if (*sp == '\0' || strlen(sp) >= sizeof(c->mllp[0].org))
        return HUB_EINVALID;
    struct config_mllp_listener *l = &c->mllp[c->n_mllp];
    colon = strrchr(tmp, ':');
    if (colon) {
        *colon = '\0';
        if (strlen(tmp) >= sizeof(l->bind))
            return HUB_EINVALID;
        copy(l->bind, sizeof(l->bind), tmp);
        colon++;
    } else {
        copy(l->bind, sizeof(l->bind), c->mllp[0].bind);
        colon = tmp;
    }
    if (parse_ll(colon, 0, 65535, &port))
        return HUB_EINVALID;
    l->port = (int)port;
    copy(l->org, sizeof(l->org), sp);
    c->n_mllp++;
    return HUB_OK;
}

static int set_special(struct hub_config *c, const char *key, const char *v)
{
    long long x;

    if (!strcmp(key, "profile")) {
        if (strcmp(v, "dev") && strcmp(v, "production"))
            return HUB_EINVALID;
        return HUB_OK;              /* applied before everything else */
    }
    if (!strcmp(key, "mllp_bind")) {
        if (strlen(v) >= sizeof(c->mllp[0].bind))
            return HUB_EINVALID;
        copy(c->mllp[0].bind, sizeof(c->mllp[0].bind), v);
        return HUB_OK;
    }
    if (!strcmp(key, "mllp_port")) {
        if (parse_ll(v, -1, 65535, &x))
            return HUB_EINVALID;
        c->mllp[0].port = (int)x;
        return HUB_OK;
    }
    if (!strcmp(key, "dispatch_lease_ms")) {
        /* 0 keeps the default (timeout + 30 s); a lease under 200 ms
         * would expire before any transfer could finish */
        if (parse_ll(v, 0, 3600000, &x) || (x != 0 && x < 200))
            return HUB_EINVALID;
        c->dispatch_lease_ms = (int)x;
        return HUB_OK;
    }
    if (!strcmp(key, "log_level")) {
        /* a typo ("warning") would otherwise log at info unnoticed */
        if (strcmp(v, "debug") && strcmp(v, "info") && strcmp(v, "warn") &&
            strcmp(v, "error"))
            return HUB_EINVALID;
        copy(c->log_level, sizeof(c->log_level), v);
        return HUB_OK;
    }
    if (!strcmp(key, "hl7_processing_ids")) {
        /* "P", "P T D", "P,T", "PTD": letters of table 0103, one at
         * least (a hub that takes none would refuse every message) */
        char ids[sizeof(c->hl7_processing_ids)] = "";
        size_t n = 0;
        for (const char *q = v; *q; q++) {
            if (*q == ' ' || *q == ',' || *q == '\t')
                continue;
            if (*q != 'P' && *q != 'T' && *q != 'D')
                return HUB_EINVALID;
            if (memchr(ids, *q, n) == NULL)
                ids[n++] = *q;
        }
        if (n == 0)
            return HUB_EINVALID;
        ids[n] = '\0';
        copy(c->hl7_processing_ids, sizeof(c->hl7_processing_ids), ids);
        return HUB_OK;
    }
    if (!strcmp(key, "webhook_proxy")) {
        /* checked whole here, so that hubd --check-config refuses what
         * the dispatcher could not use; never echoed (a password) */
        if (strlen(v) >= sizeof(c->webhook_proxy) ||
            webhook_proxy_check(v, NULL) != HUB_OK)
            return HUB_EINVALID;
        copy(c->webhook_proxy, sizeof(c->webhook_proxy), v);
        return HUB_OK;
    }
    if (!strcmp(key, "mllp_org")) {
        if (strlen(v) >= sizeof(c->mllp[0].org))
            return HUB_EINVALID;
        copy(c->mllp[0].org, sizeof(c->mllp[0].org), v);
        return HUB_OK;
    }
    /* mllp_listener: repeatable; in one value, entries split by ',' */
    char tmp[1024];
    if (strlen(v) >= sizeof(tmp))
        return HUB_EINVALID;
    copy(tmp, sizeof(tmp), v);
    char *p = tmp;
    while (p && *p) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma++ = '\0';
        while (*p == ' ')
            p++;
        if (*p && add_listener(c, p))
            return HUB_EINVALID;
        p = comma;
    }
    return HUB_OK;
}

const char *config_key_name(size_t i)
{
    return i < sizeof(keys) / sizeof(keys[0]) ? keys[i].name : NULL;
}

int config_set(struct hub_config *c, const char *key, const char *value)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct key *k = &keys[i];
        char *field = (char *)c + k->off;
        long long x;
        bool b;

        if (strcmp(k->name, key))
            continue;
        switch (k->kind) {
        case K_SPECIAL:
            return set_special(c, key, value);
        case K_STR:
            if (strlen(value) >= k->size)
                return HUB_EINVALID;
            copy(field, k->size, value);
            return HUB_OK;
        case K_BOOL:
            if (parse_bool(value, &b))
                return HUB_EINVALID;
            *(bool *)field = b;
            return HUB_OK;
        case K_INT:
        case K_PORT:
            if (parse_ll(value, k->min, k->max, &x))
                return HUB_EINVALID;
            *(int *)field = (int)x;
            return HUB_OK;
        case K_SIZE:
            if (parse_ll(value, k->min, k->max, &x))
                return HUB_EINVALID;
            *(size_t *)field = (size_t)x;
            return HUB_OK;
        case K_DOUBLE: {
            char *end;
            errno = 0;
            double d = strtod(value, &end);
            /* the negated test also refuses NaN */
            if (errno || end == value || *end != '\0' ||
                !(d >= (double)k->min && d <= (double)k->max))
                return HUB_EINVALID;
            *(double *)field = d;
            return HUB_OK;
        }
        }
    }
    return HUB_EINVALID;
}

/* 1048576 -> "1M": sizes as the file writes them */
static void size_text(long long v, char *buf, size_t n)
{
    if (v != 0 && v % (1ll << 30) == 0)
        snprintf(buf, n, "%lldG", v >> 30);
    else if (v != 0 && v % (1ll << 20) == 0)
        snprintf(buf, n, "%lldM", v >> 20);
    else if (v != 0 && v % (1ll << 10) == 0)
        snprintf(buf, n, "%lldK", v >> 10);
    else
        snprintf(buf, n, "%lld", v);
}

/* What `key` accepts, for the message that refuses a value; NULL for a key
 * that does not exist. */
static const char *expected(const char *key, char *buf, size_t n)
{
    static const char *const special[][2] = {
        { "profile", "dev or production" },
        { "mllp_bind", "an IP address" },
        { "mllp_port", "a port from 0 to 65535, or -1 (closed)" },
        { "mllp_org", "an organization id" },
        { "mllp_listener", "\"[address:]port org\", several split by ','" },
        { "dispatch_lease_ms", "0 (the default lease) or 200 to 3600000" },
        { "log_level", "debug, info, warn or error" },
        { "webhook_proxy", "empty (none) or http[s]://[user:password@]host:"
          "port of an HTTP proxy (CONNECT), such as "
          "http://proxy.example:3128" },
        { "hl7_processing_ids", "one or more of P, T and D (HL7 table "
          "0103), as \"P T D\"" },
    };
    char lo[24], hi[24];

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct key *k = &keys[i];
        if (strcmp(k->name, key))
            continue;
        switch (k->kind) {
        case K_SPECIAL:
            for (size_t j = 0; j < sizeof(special) / sizeof(special[0]); j++)
                if (!strcmp(special[j][0], key))
                    return special[j][1];
            return "a valid value";
        case K_STR:
            snprintf(buf, n, "text of at most %zu bytes", k->size - 1);
            return buf;
        case K_BOOL:
            return "true or false (also yes/no, on/off, 1/0)";
        case K_PORT:
            return "a port from 0 to 65535, or -1 (closed)";
        case K_INT:
            snprintf(buf, n, "a whole number from %lld to %lld", k->min,
                     k->max);
            return buf;
        case K_SIZE:
            size_text(k->min, lo, sizeof(lo));
            size_text(k->max, hi, sizeof(hi));
            snprintf(buf, n, "a size from %s to %s (K, M, G: binary)", lo,
                     hi);
            return buf;
        case K_DOUBLE:
            snprintf(buf, n, "a number from %lld to %lld", k->min, k->max);
            return buf;
        }
    }
    return NULL;
}

/* "unknown key 'x' (...)" or "bad value for 'x': expected ..."; true for
 * the second (a known key whose value was refused) */
static bool refusal(const char *key, char *buf, size_t n)
{
    char what[96];
    const char *e = expected(key, what, sizeof(what));

    if (e == NULL) {
        snprintf(buf, n, "unknown key '%.64s' (every key is in "
                 "deploy/hubd.conf.example)", key);
        return false;
    }
    snprintf(buf, n, "bad value for '%s': expected %s", key, e);
    return true;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                 s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Split "key = value" in place; NULL key for blank lines and comments. */
static int split_line(char *line, char **key, char **val)
{
    char *s = trim(line);
    *key = *val = NULL;
    if (*s == '\0' || *s == '#')
        return HUB_OK;
    char *eq = strchr(s, '=');
    if (eq == NULL)
        return HUB_EINVALID;
    *eq = '\0';
    *key = trim(s);
    *val = trim(eq + 1);
    /* optional quotes around the value */
    size_t n = strlen(*val);
    if (n >= 2 && (*val)[0] == '"' && (*val)[n - 1] == '"') {
        (*val)[n - 1] = '\0';
        (*val)++;
    }
    return HUB_OK;
}

#define CONFIG_MAX_FILE (1u << 20)
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* The line where `key` was first given, set to `line` when it was not;
 * 0 for a key given once so far, or one that is given once a line
 * (mllp_listener) or not known (refused by config_set) */
static int given_before(int *first, const char *key, int line)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].name, key) != 0 ||
            !strcmp(key, "mllp_listener"))
            continue;
        if (first[i])
            return first[i];
        first[i] = line;
    }
    return 0;
}

int config_load(struct hub_config *c, const char *path, char *errbuf,
                size_t errlen)
{
    enum config_profile profile = PROFILE_DEV;
    char *text = NULL;
    size_t len = 0;
    const char *envp;
    int rc = HUB_EINVALID;

    if (path) {
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            snprintf(errbuf, errlen, "%s: cannot open (%s)", path,
                     strerror(errno));
            return HUB_EINVALID;
        }
        text = malloc(CONFIG_MAX_FILE + 1);
        if (text == NULL)
            abort();
        len = fread(text, 1, CONFIG_MAX_FILE + 1, f);
        fclose(f);
        if (len > CONFIG_MAX_FILE) {
            snprintf(errbuf, errlen, "%s: file too large", path);
            goto out;
        }
        text[len] = '\0';
        /* a UTF-8 byte order mark (a file saved by Notepad) was read as
         * the first key's first bytes: "unknown key 'profile'", the mark
         * unseen in the message (F3122) */
        if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
            memmove(text, text + 3, len - 2);
        /* first pass: the profile chooses the defaults */
        char *dup = strdup(text), *save = NULL;
        if (dup == NULL)
            abort();
        for (char *line = strtok_r(dup, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            char *k, *v;
            if (split_line(line, &k, &v) == HUB_OK && k &&
                !strcmp(k, "profile") && !strcmp(v, "production"))
                profile = PROFILE_PRODUCTION;
        }
        free(dup);
    }
    envp = getenv("HUB_PROFILE");
    if (envp && *envp) {
        if (!strcmp(envp, "production"))
            profile = PROFILE_PRODUCTION;
        else if (!strcmp(envp, "dev"))
            profile = PROFILE_DEV;
        else {
            snprintf(errbuf, errlen, "HUB_PROFILE: not dev|production");
            goto out;
        }
    }
    config_defaults(c, profile);

    if (text) {
        int lineno = 0, first[N_KEYS] = { 0 };
        char *p = text;
        while (p && *p) {
            char *nl = strchr(p, '\n'), *k, *v;
            if (nl)
                *nl++ = '\0';
            lineno++;
            if (split_line(p, &k, &v) != HUB_OK) {
                snprintf(errbuf, errlen, "%s:%d: expected key = value", path,
                         lineno);
                goto out;
            }
            /* the last line was taken, silently, and --check-config
             * said ok: an operator who changed a port on line 3 of a
             * file that gives it again on line 40 saw no change (F3128) */
            int before = k ? given_before(first, k, lineno) : 0;
            if (before) {
                snprintf(errbuf, errlen, "%s:%d: '%s' is given twice, on "
                         "lines %d and %d: keep one", path, lineno, k,
                         before, lineno);
                goto out;
            }
            if (k && config_set(c, k, v) != HUB_OK) {
                char why[256];
                bool bad_value = refusal(k, why, sizeof(why));
                /* `https_port = 8443  # API` was refused as a bad port,
                 * the operator left to guess why (F1463); the value is
                 * not quoted (a key's text may be a secret). An unknown
                 * key is refused for its name, not its '#' (F1530). */
                snprintf(errbuf, errlen, "%s:%d: %s%s", path, lineno, why,
                         bad_value && strchr(v, '#')
                             ? " (a '#' starts a comment only at the start "
                               "of a line: put the comment on a line of its "
                               "own)"
                             : "");
                goto out;
            }
            p = nl;
        }
    }

    /* environment: HUB_<KEY>, and DATABASE_URL */
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char name[80] = "HUB_";
        size_t j;
        for (j = 0; keys[i].name[j] && j + 5 < sizeof(name); j++)
            name[4 + j] = (char)toupper((unsigned char)keys[i].name[j]);
        name[4 + j] = '\0';
        envp = getenv(name);
        if (envp == NULL || !strcmp(keys[i].name, "profile"))
            continue;
        /* the file's extra listeners are replaced, not added to, as every
         * other key is: a second node on one machine moves them all (an
         * empty value keeps the primary listener alone) */
        if (!strcmp(keys[i].name, "mllp_listener"))
            c->n_mllp = 1;
        if (config_set(c, keys[i].name, envp) != HUB_OK) {
            char why[256];
            refusal(keys[i].name, why, sizeof(why));
            snprintf(errbuf, errlen, "%s: %s", name, why);
            goto out;
        }
    }
    envp = getenv("DATABASE_URL");
    if (envp && *envp && config_set(c, "database_url", envp) != HUB_OK) {
        snprintf(errbuf, errlen, "DATABASE_URL: too long");
        goto out;
    }
    if (c->profile == PROFILE_PRODUCTION && c->http_port >= 0) {
        snprintf(errbuf, errlen,
                 "http_port: plain HTTP is for the dev profile only "
                 "(set http_port = -1 or leave it out)");
        goto out;
    }
    /* the dev profile takes a shorter audit retention (tests); hubd and
     * hubctl prune warn about it at every run */
    if (c->profile == PROFILE_PRODUCTION && c->retain_audit_days > 0 &&
        c->retain_audit_days < CONFIG_AUDIT_MIN_DAYS) {
        snprintf(errbuf, errlen,
                 "retain_audit_days: HIPAA keeps audit documentation six "
                 "years: 0 (forever) or at least %d", CONFIG_AUDIT_MIN_DAYS);
        goto out;
    }
    rc = HUB_OK;
out:
    free(text);
    return rc;
}
