/*
 * store_admin.c - what the store answers besides the ingest batch:
 * credentials (tokens and certificate bindings to an organization and its
 * scopes), the pull feed's pages, organizations, tokens and certificates
 * as hubctl manages them, quarantine, and the audit chain's rows, check
 * and accounting of disclosures.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "common/idsys.h"

/* --- scopes ------------------------------------------------------------- */

static const char *const scope_names[] = { "ingest", "subscribe", "roster",
                                           "report", "admin" };
#define N_SCOPES (sizeof(scope_names) / sizeof(scope_names[0]))

int store_scopes_parse(const char *csv, unsigned *out)
{
    unsigned bits = 0;
    const char *p = csv ? csv : "";

    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t i;
        if (len) {
            for (i = 0; i < N_SCOPES; i++)
                if (strlen(scope_names[i]) == len &&
                    memcmp(scope_names[i], p, len) == 0)
                    break;
            if (i == N_SCOPES)
                return HUB_EINVALID;
            bits |= 1u << i;
        }
        p += len + (end ? 1 : 0);
    }
    *out = bits;
    return HUB_OK;
}

void store_scopes_format(unsigned scopes, char *out, size_t size)
{
    size_t len = 0;

    if (size == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < N_SCOPES; i++) {
        if (!(scopes & (1u << i)))
            continue;
        int n = snprintf(out + len, size - len, "%s%s", len ? "," : "",
                         scope_names[i]);
        if (n < 0 || (size_t)n >= size - len) {
            out[len] = '\0';       /* whole names only */
            return;
        }
        len += (size_t)n;
    }
}

/* "{ingest,admin}" (a text[] in text form) to bits; unknown names ignored */
static unsigned scopes_from_array(const char *arr)
{
    unsigned bits = 0;
    const char *p = arr;

    if (p == NULL)
        return 0;
    while (*p) {
        while (*p == '{' || *p == ',' || *p == '}' || *p == '"')
            p++;
        size_t len = strcspn(p, ",}\"");
        for (size_t i = 0; i < N_SCOPES; i++)
            if (len && strlen(scope_names[i]) == len &&
                memcmp(scope_names[i], p, len) == 0)
                bits |= 1u << i;
        p += len;
    }
    return bits;
}

/* bits to a text[] literal "{ingest,admin}" */
static void scopes_to_array(unsigned scopes, char *out, size_t size)
{
    char csv[128];
    store_scopes_format(scopes, csv, sizeof(csv));
    snprintf(out, size, "{%s}", csv);
}

/* --- auth ---------------------------------------------------------------- */

static bool is_hex64(const char *h)
{
    if (h == NULL || strlen(h) != 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return false;
    return true;
}

static int auth_query(struct store *s, const char *op, const char *sql,
                      const char *hash, struct principal *out)
{
    int rc;
    const char *p[] = { hash };

    if (!is_hex64(hash))
        return HUB_ENOTFOUND;
    PGresult *r = db_run(s, op, sql, 1, p, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return HUB_ENOTFOUND;
    }
    memset(out, 0, sizeof(*out));
    snprintf(out->org_id, sizeof(out->org_id), "%s", PQgetvalue(r, 0, 0));
    out->scopes = scopes_from_array(PQgetvalue(r, 0, 1));
    out->valid_s = -1;
    if (PQnfields(r) > 2)           /* a token narrows its org's scopes */
        out->scopes &= scopes_from_array(PQgetvalue(r, 0, 2));
    if (PQnfields(r) > 3 && !PQgetisnull(r, 0, 3))
        out->valid_s = strtol(PQgetvalue(r, 0, 3), NULL, 10);
    PQclear(r);
    return HUB_OK;
}

int store_auth_token(struct store *s, const char *token_sha256,
                     struct principal *out)
{
    return auth_query(s, "auth.token",
                      "SELECT o.id, o.scopes, t.scopes, "
                      "floor(extract(epoch FROM t.expires_at - now()))"
                      "::bigint FROM api_tokens t "
                      "JOIN organizations o ON o.id = t.org_id "
                      "WHERE t.token_sha256 = $1 AND t.revoked_at IS NULL "
                      "AND (t.expires_at IS NULL OR t.expires_at > now())",
                      token_sha256, out);
}

int store_auth_cert(struct store *s, const char *fingerprint,
                    struct principal *out)
{
    return auth_query(s, "auth.cert",
                      "SELECT o.id, o.scopes FROM cert_bindings c "
                      "JOIN organizations o ON o.id = c.org_id "
                      "WHERE c.fingerprint = $1 AND c.revoked_at IS NULL",
                      fingerprint, out);
}

/* --- pull feed ----------------------------------------------------------- */

/* "adt.*,screening.positive" to the text[] literal {adt.%,screening.positive}.
 * Topics are [a-z0-9.-] plus '*'; so nothing needs quoting in the literal
 * and nothing but '*' is special to LIKE. */
static int topics_to_like(const char *topic, char *out, size_t size)
{
    size_t len = 0, items = 0, item_len = 0;

    if (size < 3)
        return HUB_ELIMIT;
    out[len++] = '{';
    for (const char *p = topic; *p; p++) {
        char c = *p;
        if (c == ',') {
            if (item_len == 0)
                return HUB_EINVALID;
            item_len = 0;
        } else if (c == '*') {
            c = '%';
        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '.' || c == '-')) {
            return HUB_EINVALID;
        }
        if (c != ',' && item_len++ == 0 && ++items > 16)
            return HUB_ELIMIT;
        if (item_len > 64 || len + 2 >= size)
            return HUB_ELIMIT;
        out[len++] = c;
    }
    if (item_len == 0)
        return HUB_EINVALID;
    out[len++] = '}';
    out[len] = '\0';
    return HUB_OK;
}

int store_events_page(struct store *s, const struct principal *who,
                      int64_t after, const char *topic, const char *since,
                      const char *until, int limit, char **json_out)
{
    char like[1200], after_s[24], limit_s[16];
    const char *topics = NULL;
    int rc;

    *json_out = NULL;
    if (after < 0)
        return HUB_EINVALID;
    if (topic && *topic) {
        rc = topics_to_like(topic, like, sizeof(like));
        if (rc != HUB_OK)
            return rc;
        topics = like;
    }
    if (since && *since == '\0')
        since = NULL;
    if (until && *until == '\0')
        until = NULL;
    if ((since && strlen(since) > 40) || (until && strlen(until) > 40))
        return HUB_EINVALID;
    if (limit <= 0)
        limit = STORE_FEED_DEFAULT;
    if (limit > STORE_FEED_MAX)
        limit = STORE_FEED_MAX;
    snprintf(after_s, sizeof(after_s), "%lld", (long long)after);
    snprintf(limit_s, sizeof(limit_s), "%d", limit);
    const char *p[] = { who->org_id, (who->scopes & SCOPE_ADMIN) ? "t" : "f",
                        after_s, topics, since, limit_s, until };
    /* the bounds read as hub_parse_ts reads them, checked before the page
     * (which would read a bad one as none): the first column names the
     * one refused, and then no page is read (F3920) */
    PGresult *r = db_run(s, "feed",
                      "SELECT v.refused, CASE WHEN v.refused IS NULL THEN "
                      "hub_feed_page($1, $2, $3, $4::text[], t.since, $6, "
                      "t.until) END "
                      "FROM (SELECT hub_parse_ts($5) AS since, "
                      "hub_parse_ts($7) AS until) t, "
                      "LATERAL (SELECT CASE "
                      "WHEN $5::text IS NOT NULL AND t.since IS NULL "
                      "THEN 'since' "
                      "WHEN $7::text IS NOT NULL AND t.until IS NULL "
                      "THEN 'until' "
                      "WHEN t.until <= t.since THEN 'until_not_after_since' "
                      "END AS refused) v",
                      7, p, &rc);
    if (r == NULL && strcmp(s->sqlstate, "22H10") == 0)
        return store_query_text(s, "SELECT CASE WHEN is_called THEN "
                                "last_value ELSE 0 END FROM events_seq", 0,
                                NULL, json_out) == HUB_OK && *json_out
                   ? HUB_ENOTFOUND : HUB_EDB;
    /* events after the cursor were pruned: the mark, read again (a later
     * prune only raises it, and it stays above the cursor) */
    if (r == NULL && strcmp(s->sqlstate, "22H11") == 0)
        return store_query_text(s, "SELECT hub_feed_pruned($1, $2, $3)"
                                "::text", 3, p, json_out) == HUB_OK &&
                       *json_out ? HUB_ELIMIT : HUB_EDB;
    if (r == NULL)
        return rc;
    rc = HUB_EINVALID;
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        *json_out = db_xstrndup(PQgetvalue(r, 0, 0),  /* the bound refused */
                                (size_t)PQgetlength(r, 0, 0));
    else if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 1)) {
        *json_out = db_xstrndup(PQgetvalue(r, 0, 1),
                                (size_t)PQgetlength(r, 0, 1));
        rc = HUB_OK;
    }
    PQclear(r);
    return rc;
}

/* --- administration ------------------------------------------------------ */

/* Run one statement that returns one row; HUB_ENOTFOUND when none. */
static int one_row(struct store *s, const char *op, const char *sql, int n,
                   const char *const *params)
{
    int rc;
    PGresult *r = db_run(s, op, sql, n, params, &rc);
    if (r == NULL)
        return rc;
    rc = PQntuples(r) >= 1 ? HUB_OK : HUB_ENOTFOUND;
    PQclear(r);
    return rc;
}

int store_org_add(struct store *s, const char *actor, const char *id,
                  const char *name, const char *kind, unsigned scopes)
{
    char arr[160];

    scopes_to_array(scopes, arr, sizeof(arr));
    const char *p[] = { id, name, kind, arr, actor };
    return one_row(s, "org.add",
                   "WITH o AS (INSERT INTO organizations (id, name, kind, "
                   "scopes) VALUES ($1, $2, $3, $4::text[]) RETURNING id, "
                   "kind, scopes) SELECT hub_audit_append($5, 'org.added', "
                   "'organization', o.id, NULL, jsonb_build_object('kind', "
                   "o.kind, 'scopes', o.scopes)) FROM o",
                   5, p);
}

int store_org_update(struct store *s, const char *actor, const char *id,
                     const char *name, long scopes)
{
    char arr[160];

    if (scopes >= 0)
        scopes_to_array((unsigned)scopes, arr, sizeof(arr));
    const char *p[] = { id, name, scopes >= 0 ? arr : NULL, actor };
    return one_row(s, "org.update",
                   "WITH o AS (UPDATE organizations SET "
                   "name = coalesce($2, name), "
                   "scopes = coalesce($3::text[], scopes) WHERE id = $1 "
                   "RETURNING id, scopes) SELECT hub_audit_append($4, "
                   "'org.updated', 'organization', o.id, NULL, "
                   "jsonb_build_object('scopes', o.scopes, 'renamed', "
                   "$2::text IS NOT NULL)) FROM o",
                   4, p);
}

int store_org_set_labels(struct store *s, const char *actor, const char *id,
                         const char *csv)
{
    const char *p[] = { id, csv, actor };
    return one_row(s, "org.labels",
                   "WITH o AS (UPDATE organizations SET labels = "
                   "ARRAY(SELECT DISTINCT btrim(x) FROM unnest("
                   "string_to_array($2, ',')) x WHERE btrim(x) <> '' "
                   "ORDER BY 1) WHERE id = $1 RETURNING id, labels) "
                   "SELECT hub_audit_append($3, 'org.labels', "
                   "'organization', o.id, NULL, jsonb_build_object("
                   "'labels', o.labels)) FROM o",
                   3, p);
}

int store_org_list(struct store *s, char **json_out)
{
    return store_query_text(s,
        "SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, "
        "'kind', kind, 'scopes', scopes, 'labels', labels, 'created_at', "
        "created_at) ORDER BY id), '[]')::text FROM organizations", 0, NULL,
        json_out);
}

int store_authority_set(struct store *s, const char *actor, const char *org,
                        const char *ns, const char *system, char **json_out)
{
    const char *p[] = { actor, org, ns, system };
    *json_out = NULL;
    /* the hub's own name for a patient known by its message: mapped, every
     * such patient of the sender would be under that authority (F2141) */
    if (system != NULL && ns != NULL && strcmp(ns, IDSYS_BY_MESSAGE) == 0)
        return HUB_EINVALID;
    /* a system in the hub's own space, "urn:hub:" in any case (RFC 8141),
     * is a name the hub gives, no authority's (F2603; 024's CHECK) */
    if (system != NULL && idsys_is_hub(slice_from_cstr(system)))
        return HUB_EINVALID;
    int rc = store_query_text(s, "SELECT hub_authority_set($1, $2, $3, $4)"
                              "::text", 4, p, json_out);
    const char *st = store_last_sqlstate(s);
    if (rc != HUB_OK && (!strcmp(st, "23503") || !strcmp(st, "P0002")))
        return HUB_ENOTFOUND;       /* no such org; no map to clear */
    return rc;
}

int store_authority_list(struct store *s, const char *org, char **json_out)
{
    const char *p[] = { org };
    /* an organization that does not exist is HUB_ENOTFOUND: a typo's
     * empty list read as "it has no map" (F3129) */
    int rc = store_query_text(s,
        "SELECT CASE WHEN $1::text IS NULL OR EXISTS (SELECT 1 FROM "
        "organizations WHERE id = $1) THEN "
        "coalesce(json_agg(json_build_object('org', org_id, "
        "'namespace', namespace, 'system', system, 'created_at', created_at) "
        "ORDER BY org_id, namespace), '[]')::text END FROM org_authorities "
        "WHERE $1::text IS NULL OR org_id = $1", 1, p, json_out);
    return rc == HUB_OK && *json_out == NULL ? HUB_ENOTFOUND : rc;
}

int store_token_add(struct store *s, const char *actor, const char *org_id,
                    const char *token_sha256, const char *prefix,
                    unsigned scopes, int expires_days)
{
    char arr[160], days[16];

    if (!is_hex64(token_sha256) || expires_days < 0)
        return HUB_EINVALID;
    scopes_to_array(scopes, arr, sizeof(arr));
    snprintf(days, sizeof(days), "%d", expires_days);
    const char *p[] = { token_sha256, prefix, org_id, arr, actor, days };
    return one_row(s, "token.add",
                   "WITH t AS (INSERT INTO api_tokens (token_sha256, prefix, "
                   "org_id, scopes, expires_at) SELECT $1, $2, o.id, "
                   "ARRAY(SELECT x FROM unnest($4::text[]) x "
                   "WHERE x = ANY (o.scopes)), CASE WHEN $6::int > 0 THEN "
                   "now() + make_interval(days => $6::int) END "
                   "FROM organizations o WHERE o.id = $3 "
                   "RETURNING prefix, org_id, scopes, expires_at) "
                   "SELECT hub_audit_append($5, 'token.created', 'token', "
                   "t.prefix, NULL, jsonb_strip_nulls(jsonb_build_object("
                   "'org', t.org_id, 'scopes', t.scopes, 'expires_at', "
                   "t.expires_at))) FROM t",
                   6, p);
}

int store_token_revoke(struct store *s, const char *actor, const char *prefix)
{
    int rc;
    char *count = NULL;

    if (prefix == NULL || strlen(prefix) < 8 || strlen(prefix) > 64)
        return HUB_EINVALID;
    const char *p[] = { prefix, actor };
    /* one statement: revoke only when exactly one live token matches */
    rc = store_query_text(s,
        "WITH m AS (SELECT token_sha256 FROM api_tokens "
        "  WHERE revoked_at IS NULL AND (prefix = $1 OR "
        "  (length($1) >= 8 AND token_sha256 LIKE "
        "   replace(replace($1, '%', ''), '_', '') || '%'))), "
        "n AS (SELECT count(*) AS c FROM m), "
        "u AS (UPDATE api_tokens SET revoked_at = now() "
        "  WHERE token_sha256 IN (SELECT token_sha256 FROM m) "
        "  AND (SELECT c FROM n) = 1 RETURNING prefix, org_id), "
        "a AS (SELECT hub_audit_append($2, 'token.revoked', 'token', "
        "  u.prefix, NULL, jsonb_build_object('org', u.org_id)) FROM u) "
        "SELECT (SELECT c FROM n)::text || ':' || (SELECT count(*) FROM a)",
        2, p, &count);
    if (rc != HUB_OK)
        return rc;
    if (count && strcmp(count, "1:1") == 0)
        rc = HUB_OK;
    else if (count && count[0] == '0')
        rc = HUB_ENOTFOUND;
    else
        rc = HUB_EINVALID;
    free(count);
    return rc;
}

int store_token_list(struct store *s, char **json_out)
{
    return store_query_text(s,
        "SELECT coalesce(json_agg(json_build_object('prefix', prefix, "
        "'org', org_id, 'scopes', scopes, 'created_at', created_at, "
        "'revoked_at', revoked_at, 'expires_at', expires_at) "
        "ORDER BY created_at), '[]')::text "
        "FROM api_tokens", 0, NULL, json_out);
}

int store_cert_bind(struct store *s, const char *actor, const char *org_id,
                    const char *fingerprint)
{
    if (!is_hex64(fingerprint))
        return HUB_EINVALID;
    const char *p[] = { fingerprint, org_id, actor };
    int rc = one_row(s, "cert.bind",
                     "WITH c AS (INSERT INTO cert_bindings (fingerprint, "
                     "org_id) VALUES ($1, $2) ON CONFLICT (fingerprint) DO "
                     "UPDATE SET org_id = EXCLUDED.org_id, revoked_at = NULL, "
                     "created_at = now() WHERE cert_bindings.revoked_at IS "
                     "NOT NULL OR cert_bindings.org_id = EXCLUDED.org_id "
                     "RETURNING fingerprint, org_id) "
                     "SELECT hub_audit_append($3, 'cert.bound', "
                     "'certificate', c.fingerprint, NULL, "
                     "jsonb_build_object('org', c.org_id)) FROM c",
                     3, p);
    if (rc == HUB_ENOTFOUND)
        return HUB_EINVALID;        /* no row: live-bound to another org */
    if (rc != HUB_OK && strcmp(store_last_sqlstate(s), "23503") == 0)
        return HUB_ENOTFOUND;       /* no such org */
    return rc;
}

int store_cert_revoke(struct store *s, const char *actor,
                      const char *fingerprint)
{
    if (!is_hex64(fingerprint))
        return HUB_EINVALID;
    const char *p[] = { fingerprint, actor };
    return one_row(s, "cert.revoke",
                   "WITH c AS (UPDATE cert_bindings SET revoked_at = now() "
                   "WHERE fingerprint = $1 AND revoked_at IS NULL "
                   "RETURNING fingerprint, org_id) "
                   "SELECT hub_audit_append($2, 'cert.revoked', "
                   "'certificate', c.fingerprint, NULL, "
                   "jsonb_build_object('org', c.org_id)) FROM c",
                   2, p);
}

int store_cert_list(struct store *s, char **json_out)
{
    return store_query_text(s,
        "SELECT coalesce(json_agg(json_build_object('fingerprint', "
        "fingerprint, 'org', org_id, 'created_at', created_at, "
        "'revoked_at', revoked_at) ORDER BY created_at, fingerprint), "
        "'[]')::text FROM cert_bindings", 0, NULL, json_out);
}

/* --- quarantine --------------------------------------------------------- */

int store_quarantine_list(struct store *s, const char *org,
                          const char *before, int limit, char **json_out)
{
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", limit > 0 ? limit : 50);
    const char *p[] = { org, before, lim };
    if (before) {
        /* read as the feed's since= and a replay's range are
         * (hub_parse_ts): a plain cast took "epoch", "yesterday", a
         * month-first 05/12/2026 and the server's zone */
        char *ts = NULL;
        int rc = store_query_text(s, "SELECT hub_parse_ts($1)::text", 1,
                                  &before, &ts);
        bool ok = ts != NULL;
        free(ts);
        if (rc != HUB_OK)
            return rc;
        if (!ok)
            return HUB_EINVALID;
    }
    /* by the partial index messages_quarantined (received_at); an
     * organization that does not exist is HUB_ENOTFOUND, as
     * store_authority_list's (F3129, F3222) */
    int rc = store_query_text(s,
        "SELECT CASE WHEN $1::text IS NULL OR EXISTS (SELECT 1 FROM "
        "organizations WHERE id = $1) THEN coalesce(json_agg("
        "json_build_object('id', q.id::text, "
        "'org', q.org_id, 'format', q.format, 'key', q.idem_key, "
        "'received_at', q.received_at, 'code', q.error->>'code', "
        "'field', q.error->>'field', 'offset', q.error->'offset', "
        "'message', q.error->>'message') ORDER BY q.received_at DESC, "
        "q.id DESC), '[]')::text END FROM (SELECT * FROM messages m "
        "WHERE m.status = 'quarantined' "
        "AND ($1::text IS NULL OR m.org_id = $1) "
        "AND ($2::text IS NULL OR m.received_at < hub_parse_ts($2)) "
        "ORDER BY m.received_at DESC, m.id DESC LIMIT $3::int) q",
        3, p, json_out);
    return rc == HUB_OK && *json_out == NULL ? HUB_ENOTFOUND : rc;
}

int store_quarantine_raw(struct store *s, const char *actor, const char *id,
                         char **raw, size_t *len)
{
    char *text = NULL;
    const char *p[] = { id, actor };
    *raw = NULL;
    *len = 0;
    if (id == NULL || !*id || strspn(id, "0123456789") != strlen(id) ||
        strlen(id) > 18)
        return HUB_EINVALID;
    int rc = store_query_text(s,
        "WITH q AS (SELECT m.id, m.sha256, m.raw FROM messages m "
        "WHERE m.id = $1::bigint AND m.status = 'quarantined'), "
        "a AS (SELECT hub_audit_append($2, 'quarantine.read', 'message', "
        "q.id::text, NULL, jsonb_build_object('sha256', q.sha256)) FROM q) "
        "SELECT q.raw FROM q, a", 2, p, &text);
    if (rc != HUB_OK)
        return rc;
    if (text == NULL)
        return HUB_ENOTFOUND;
    /* bytea's text form (hex) to its bytes, by libpq */
    size_t n;
    unsigned char *b = PQunescapeBytea((const unsigned char *)text, &n);
    free(text);
    if (b == NULL)
        abort();                        /* out of memory, as xmalloc */
    *raw = db_xmalloc(n + 1);
    memcpy(*raw, b, n);
    (*raw)[n] = '\0';
    *len = n;
    PQfreemem(b);
    return HUB_OK;
}

/* --- audit --------------------------------------------------------------- */

int store_audit_append(struct store *s, const char *actor, const char *action,
                       const char *object_kind, const char *object_id,
                       const char *patient_hub_id, const char *detail_json)
{
    const char *p[] = { actor, action, object_kind, object_id, patient_hub_id,
                        detail_json };
    return one_row(s, "audit.append",
                   "SELECT hub_audit_append($1, $2, $3, $4, $5, $6::jsonb)",
                   6, p);
}

/* The first seven columns of hub_audit_verify() or a step of it. */
static void audit_check_read(const PGresult *r, struct store_audit_check *c)
{
    c->ok = PQgetvalue(r, 0, 0)[0] == 't';
    c->rows_checked = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    c->bad_seq = PQgetisnull(r, 0, 2) ? 0
                                      : strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    snprintf(c->problem, sizeof(c->problem), "%s", PQgetvalue(r, 0, 3));
    c->head_seq = PQgetisnull(r, 0, 4) ? 0
                                       : strtoll(PQgetvalue(r, 0, 4), NULL, 10);
    snprintf(c->head_hash, sizeof(c->head_hash), "%s", PQgetvalue(r, 0, 5));
    c->anchor_seq = strtoll(PQgetvalue(r, 0, 6), NULL, 10);
}

int store_audit_verify(struct store *s, struct store_audit_check *c)
{
    int rc;
    PGresult *r = db_run(s, "audit.verify",
                      "SELECT ok, rows_checked, bad_seq, problem, head_seq, "
                      "head_hash, anchor_seq FROM hub_audit_verify()", 0,
                      NULL, &rc);

    memset(c, 0, sizeof(*c));
    if (r == NULL)
        return rc;
    /* the head it reports may be recorded as an anchor: durable first */
    if ((rc = store_durable(s)) != HUB_OK) {
        PQclear(r);
        return rc;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        return HUB_EDB;
    }
    audit_check_read(r, c);
    PQclear(r);
    return HUB_OK;
}

int store_audit_verify_step(struct store *s, int64_t after, const char *prev,
                            int limit, struct store_audit_check *c,
                            bool *done)
{
    char after_s[24], limit_s[16];
    int rc;

    snprintf(after_s, sizeof(after_s), "%lld", (long long)after);
    snprintf(limit_s, sizeof(limit_s), "%d", limit);
    const char *p[] = { after < 0 ? NULL : after_s, after < 0 ? NULL : prev,
                        limit_s };
    PGresult *r = db_run(s, "audit.verify_step",
                         "SELECT ok, rows_checked, bad_seq, problem, "
                         "head_seq, head_hash, anchor_seq, done FROM "
                         "hub_audit_verify_step($1::bigint, $2, $3::int)",
                         3, p, &rc);

    memset(c, 0, sizeof(*c));
    *done = true;
    if (r == NULL)
        return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return HUB_EDB;
    }
    audit_check_read(r, c);
    *done = PQgetvalue(r, 0, 7)[0] == 't';
    PQclear(r);
    /* the last head may be recorded as an anchor: durable first */
    return *done ? store_durable(s) : HUB_OK;
}

int store_audit_check_anchor(struct store *s, int64_t seq, const char *hash,
                             int64_t *anchor_seq)
{
    char seq_s[24];
    struct store_rows *rows = NULL;
    int rc;

    snprintf(seq_s, sizeof(seq_s), "%lld", (long long)seq);
    const char *p[] = { seq_s };
    /* a row the retention pruned: the anchor is the last one, and what
     * went before it can no longer be compared */
    rc = store_query(s,
        "SELECT CASE WHEN $1::bigint < a.seq THEN 'pruned' "
        "ELSE coalesce((SELECT hash FROM audit WHERE seq = $1::bigint), "
        "CASE WHEN $1::bigint = a.seq THEN a.hash END) END, a.seq "
        "FROM audit_anchor a", 1, p, &rows);
    if (rc != HUB_OK)
        return rc;
    const char *got = store_rows_get(rows, 0, 0);
    const char *at = store_rows_get(rows, 0, 1);
    if (anchor_seq)
        *anchor_seq = at ? strtoll(at, NULL, 10) : 0;
    rc = got == NULL ? HUB_ENOTFOUND
         : !strcmp(got, "pruned") ? HUB_EUNSUPPORTED
         : (hash && strcmp(got, hash) == 0 ? HUB_OK : HUB_EINVALID);
    store_rows_free(rows);
    return rc;
}

/* The accounting query of store_audit_list, each row's detail as DETAIL
 * (an SQL expression of a.detail) */
#define AUDIT_LIST_SQL(DETAIL) \
    "WITH named AS (" \
    "  SELECT $1::text AS id WHERE $1::text IS NOT NULL UNION " \
    "  SELECT i.hub_id FROM patient_identifiers i WHERE $4::text IS NOT " \
    "  NULL AND i.value = $4 AND ($5::text IS NULL OR i.system = $5 OR " \
    "  i.system = 'urn:hub:org:' || i.org_id || ':ns:' || $5)), " \
    "persons AS (SELECT DISTINCT coalesce(p.merged_into, n.id) AS id " \
    "  FROM named n LEFT JOIN patients p ON p.hub_id = n.id), " \
    "ids AS (SELECT id FROM persons UNION " \
    "  SELECT hub_id FROM patients WHERE merged_into IN " \
    "  (SELECT id FROM persons)), " \
    "head AS (SELECT greatest(coalesce(max(seq), 0), (SELECT seq FROM " \
    "  audit_anchor)) AS seq FROM audit) " \
    "SELECT CASE WHEN $1::text IS NOT NULL AND NOT EXISTS (SELECT 1 " \
    "FROM patients WHERE hub_id = $1) THEN NULL " \
    "WHEN $4::text IS NOT NULL AND (SELECT count(*) " \
    "FROM persons) > 1 THEN json_build_object('ambiguous', (SELECT " \
    "count(*) FROM persons))::text " \
    "WHEN $2::bigint > (SELECT seq FROM head) THEN " \
    "json_build_object('ahead', (SELECT seq FROM head))::text ELSE " \
    "json_build_object('audit', coalesce(json_agg(json_build_object(" \
    "'seq', a.seq, 'at', a.at, 'actor', a.actor, 'action', a.action, " \
    "'object_kind', a.object_kind, 'object_id', a.object_id, " \
    "'patient', a.patient_hub_id, 'detail', " DETAIL ") ORDER BY a.seq), " \
    "'[]'), 'next', coalesce(max(a.seq), $2::bigint)::text, " \
    "'patients', CASE WHEN $4::text IS NOT NULL OR $1::text IS NOT NULL " \
    "THEN (SELECT coalesce(json_agg(id ORDER BY id), '[]') FROM persons) " \
    "END)::text END " \
    "FROM (SELECT * FROM audit WHERE seq > $2::bigint AND " \
    "(($1::text IS NULL AND $4::text IS NULL) OR patient_hub_id = ANY " \
    "(ARRAY(SELECT id FROM ids))) " \
    "ORDER BY seq LIMIT $3::int) a"

int store_audit_list(struct store *s, const char *patient_hub_id,
                     const char *identifier, int64_t after, int limit,
                     char **json_out, int *persons_out)
{
    char after_s[24], limit_s[16], system[512];
    const char *value = NULL, *sys = NULL;

    if (limit <= 0)
        limit = STORE_FEED_DEFAULT;
    if (limit > STORE_FEED_MAX)
        limit = STORE_FEED_MAX;
    if (identifier) {
        /* SYSTEM|VALUE (a FHIR token), or VALUE in every system */
        const char *bar = strchr(identifier, '|');
        value = bar ? bar + 1 : identifier;
        if (bar && bar > identifier) {
            if ((size_t)(bar - identifier) >= sizeof(system))
                return HUB_EINVALID;
            memcpy(system, identifier, (size_t)(bar - identifier));
            system[bar - identifier] = '\0';
            sys = system;
        }
        if (*value == '\0')
            return HUB_EINVALID;
    }
    if (persons_out)
        *persons_out = 0;
    snprintf(after_s, sizeof(after_s), "%lld", (long long)after);
    snprintf(limit_s, sizeof(limit_s), "%d", limit);
    const char *p[] = { patient_hub_id, after_s, limit_s, value, sys };
    /* the patients: the one named, or those the identifier names (SYSTEM
     * as stored, or a sender's own namespace as its message wrote it,
     * PID-3.4's HOSP, which the hub stores under the sender's URN:
     * hub_id_system; F1961); each resolved to the person it is now (a
     * merged-away id to its survivor: F1960), with every patient merged
     * into that survivor. NULL when a hub id names no patient: an
     * accounting of nobody read as one of no disclosures (F1962). An
     * identifier that names more than one person (two hospitals' MRN 1234
     * as a VALUE alone, or under the namespace name both wrote, CITY)
     * answers only their count, {"ambiguous": N}: the rows of the other
     * person are no part of this one's accounting (F1963, F2023). A
     * stored system and its value name one patient (the key of
     * patient_identifiers). A cursor past the chain's head (the
     * retention anchor's when every row was pruned) answers the head,
     * {"ahead": SEQ}: an empty page would have an export tool wait past
     * rows for ever, as the feed's would (F3130) */
    int rc = store_query_text(s, AUDIT_LIST_SQL("a.detail::json"), 5, p,
                              json_out);
    /* a detail that is no JSON (a row changed by hand, or a writer's
     * mistake: audit verify names it) failed the whole page, answered
     * as the request's fault (400, "--identifier is ..."), and hid every
     * other row of the patient's accounting: the page again, that
     * detail as a JSON string (F3901) */
    if (rc == HUB_EINVALID)
        rc = store_query_text(
            s, AUDIT_LIST_SQL("hub_audit_detail_json(a.detail)"), 5, p,
            json_out);
    if (rc == HUB_OK && *json_out == NULL)
        return HUB_ENOTFOUND;
    if (rc == HUB_OK && strncmp(*json_out, "{\"ambiguous\"", 12) == 0) {
        const char *colon = strchr(*json_out, ':');
        if (persons_out && colon)
            *persons_out = (int)strtol(colon + 1, NULL, 10);
        free(*json_out);
        *json_out = NULL;
        return HUB_EUNSUPPORTED;
    }
    if (rc == HUB_OK && strncmp(*json_out, "{\"ahead\"", 8) == 0) {
        /* a cursor past the chain's head: its seq in json_out */
        const char *colon = strchr(*json_out, ':');
        long long head = colon ? strtoll(colon + 1, NULL, 10) : 0;
        snprintf(*json_out, strlen(*json_out) + 1, "%lld", head);
        return HUB_ELIMIT;
    }
    /* the rows may be an ingest's not yet flushed: durable before shown */
    if (rc == HUB_OK && (rc = store_durable(s)) != HUB_OK) {
        free(*json_out);
        *json_out = NULL;
    }
    return rc;
}
