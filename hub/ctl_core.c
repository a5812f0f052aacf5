/*
 * ctl_core.c - hubctl commands of the store: migrate, org, token, cert,
 * audit. Each change goes through store.h, which audits it (actor "hubctl").
 * Tokens are printed once and only their SHA-256 is kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "audit_walk.h"
#include "common/hub_err.h"
#include "common/idsys.h"
#include "ctl.h"
#include "store.h"

#define ACTOR "hubctl"

int ctl_migrate(struct ctl *c, int argc, char **argv);
int ctl_org_add(struct ctl *c, int argc, char **argv);
int ctl_org_update(struct ctl *c, int argc, char **argv);
int ctl_org_list(struct ctl *c, int argc, char **argv);
int ctl_org_authority(struct ctl *c, int argc, char **argv);
int ctl_org_authorities(struct ctl *c, int argc, char **argv);
int ctl_token_create(struct ctl *c, int argc, char **argv);
int ctl_token_list(struct ctl *c, int argc, char **argv);
int ctl_token_revoke(struct ctl *c, int argc, char **argv);
int ctl_cert_bind(struct ctl *c, int argc, char **argv);
int ctl_cert_fingerprint(struct ctl *c, int argc, char **argv);
int ctl_cert_list(struct ctl *c, int argc, char **argv);
int ctl_cert_revoke(struct ctl *c, int argc, char **argv);
int ctl_audit_verify(struct ctl *c, int argc, char **argv);
int ctl_audit_list(struct ctl *c, int argc, char **argv);
int ctl_quarantine_list(struct ctl *c, int argc, char **argv);
int ctl_quarantine_show(struct ctl *c, int argc, char **argv);
int ctl_restored(struct ctl *c, int argc, char **argv);

int ctl_migrate(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    char dir[4096];
    const char *root = getenv("HUB_ROOT");
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "dir", NULL, &a)) || a.npos)
        return rc ? rc : ctl_usage_error(c);
    /* hubd's migrations_dir key, as its environment sets it (the
     * container image does), before the tree's own */
    const char *env = getenv("HUB_MIGRATIONS_DIR");
    if (ctl_opt(&a, "dir"))
        snprintf(dir, sizeof(dir), "%s", ctl_opt(&a, "dir"));
    else if (env && *env)
        snprintf(dir, sizeof(dir), "%s", env);
    else
        snprintf(dir, sizeof(dir), "%s/schemas/migrations",
                 root && *root ? root : ".");
    if (ctl_store(c) == NULL)
        return 1;
    rc = store_migrate(c->s, dir);
    if (rc == HUB_EIO || rc == HUB_ENOTFOUND) {
        fprintf(stderr, "hubctl: cannot read the migrations in %s (set "
                "--dir or HUB_MIGRATIONS_DIR)\n", dir);
        return 1;
    }
    if (rc != HUB_OK)
        return ctl_fail("cannot apply the migrations", rc);
    char *n = NULL;
    (void)store_query_text(c->s, "SELECT max(version) FROM schema_migrations",
                           0, NULL, &n);
    printf("migrate: schema at version %s\n", n ? n : "none");
    free(n);
    return 0;
}

/* the kinds organizations_kind_check allows (001_init.sql) */
static bool known_kind(const char *kind)
{
    static const char *const kinds[] = { "hospital", "clinic", "cbo",
                                         "plan", "state", "operator" };

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (!strcmp(kind, kinds[i]))
            return true;
    return false;
}

/* --labels a,b: the sensitivity labels org's subscriptions may opt in to
 * (an operator's grant, audited); "" grants none. 0, or hubctl's exit
 * status with the reason said. */
static int set_labels(struct ctl *c, const char *id, const char *csv)
{
    int rc = store_org_set_labels(c->s, ACTOR, id, csv);
    if (rc == HUB_ENOTFOUND)
        return ctl_fail("no organization has that id", rc);
    if (rc == HUB_EINVALID &&
        strcmp(store_last_sqlstate(c->s), "23H01") == 0)
        return ctl_fail("cannot take a label away while a live subscription "
                        "of the organization lists it in "
                        "filters.sensitivity (hubctl sub list --org ...; "
                        "sub update it first)", rc);
    if (rc == HUB_EINVALID)
        return ctl_fail("cannot set the labels: each is a-z 0-9 -, "
                        "starting with a letter (sud, psy, sdv, ...)", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot set the labels", rc);
    return 0;
}

int ctl_org_add(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    unsigned scopes = 0;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "name,kind,scopes,labels", NULL,
                        &a)))
        return rc;
    if (a.npos != 1 || !ctl_opt(&a, "name") || !ctl_opt(&a, "kind"))
        return ctl_usage_error(c);
    if (store_scopes_parse(ctl_opt(&a, "scopes"), &scopes) != HUB_OK) {
        fputs("hubctl: unknown scope (ingest, subscribe, roster, report, "
              "admin)\n", stderr);
        return 2;
    }
    if (!known_kind(ctl_opt(&a, "kind"))) {
        fputs("hubctl: unknown kind (hospital, clinic, cbo, plan, state, "
              "operator)\n", stderr);
        return 1;                   /* as when the database refused it */
    }
    if (ctl_store(c) == NULL)
        return 1;
    rc = store_org_add(c->s, ACTOR, a.pos[0], ctl_opt(&a, "name"),
                       ctl_opt(&a, "kind"), scopes);
    /* 23505: the primary key; else the id's CHECK */
    if (rc == HUB_EINVALID && !strcmp(store_last_sqlstate(c->s), "23505"))
        return ctl_fail("cannot add the organization: that id is taken "
                    "(hubctl org list)", rc);
    if (rc == HUB_EINVALID)
        return ctl_fail("cannot add the organization: an id is 1 to 63 of "
                    "a-z 0-9 _ . -, starting with a letter or digit", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot add the organization", rc);
    if (ctl_opt(&a, "labels") && (rc = set_labels(c, a.pos[0],
                                                  ctl_opt(&a, "labels"))))
        return rc;
    printf("org %s added\n", a.pos[0]);
    return 0;
}

int ctl_org_update(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    unsigned scopes = 0;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "name,scopes,labels", NULL, &a)))
        return rc;
    if (a.npos != 1 || (!ctl_opt(&a, "name") && !ctl_opt(&a, "scopes") &&
                        !ctl_opt(&a, "labels")))
        return ctl_usage_error(c);
    if (ctl_opt(&a, "scopes") &&
        store_scopes_parse(ctl_opt(&a, "scopes"), &scopes) != HUB_OK) {
        fputs("hubctl: unknown scope (ingest, subscribe, roster, report, "
              "admin)\n", stderr);
        return 2;
    }
    if (ctl_store(c) == NULL)
        return 1;
    if (ctl_opt(&a, "name") || ctl_opt(&a, "scopes")) {
        rc = store_org_update(c->s, ACTOR, a.pos[0], ctl_opt(&a, "name"),
                              ctl_opt(&a, "scopes") ? (long)scopes : -1);
        if (rc == HUB_ENOTFOUND)
            return ctl_fail("no organization has that id", rc);
        if (rc != HUB_OK)
            return ctl_fail("cannot update the organization", rc);
    }
    if (ctl_opt(&a, "labels") && (rc = set_labels(c, a.pos[0],
                                                  ctl_opt(&a, "labels"))))
        return rc;
    printf("org %s updated\n", a.pos[0]);
    return 0;
}

/* print a JSON array of objects as tab-separated columns */
static int print_table(const char *json, const char *const *cols, size_t n)
{
    cJSON *arr = cJSON_Parse(json);
    const cJSON *row;

    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        return 1;
    }
    for (size_t k = 0; k < n; k++)
        printf("%s%s", k ? "\t" : "", cols[k]);
    putchar('\n');
    cJSON_ArrayForEach(row, arr) {
        for (size_t k = 0; k < n; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, cols[k]);
            char *txt = NULL;
            if (k)
                putchar('\t');
            if (cJSON_IsString(v))
                fputs(v->valuestring, stdout);
            else if (v && !cJSON_IsNull(v) && (txt = cJSON_PrintUnformatted(v)))
                fputs(txt, stdout);
            else
                putchar('-');
            cJSON_free(txt);
        }
        putchar('\n');
    }
    cJSON_Delete(arr);
    return 0;
}

/* json as it is with --json, else as the columns `cols` (print_table) */
static int print_list(const struct ctl_args *a, const char *json,
                      const char *const *cols, size_t n)
{
    if (ctl_opt(a, "json")) {
        puts(json);
        return 0;
    }
    return print_table(json, cols, n);
}

/* A list command without arguments but --json: what `list` returns (a
 * JSON array of objects) as it is, or printed as the columns `cols`,
 * NULL-terminated; `what` is the error's wording ("cannot list ..."). */
static int list_command(struct ctl *c, int argc, char **argv,
                        int (*list)(struct store *, char **),
                        const char *what, const char *const *cols)
{
    struct ctl_args a;
    char *json = NULL;
    size_t n = 0;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "", "json", &a)) || a.npos)
        return rc ? rc : ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    if ((rc = list(c->s, &json)) != HUB_OK)
        return ctl_fail(what, rc);
    while (cols[n])
        n++;
    rc = print_list(&a, json, cols, n);
    free(json);
    return rc;
}

int ctl_org_list(struct ctl *c, int argc, char **argv)
{
    static const char *const cols[] = { "id", "kind", "scopes", "name",
                                        "created_at", "labels", NULL };
    return list_command(c, argc, argv, store_org_list,
                        "cannot list organizations", cols);
}

/* The pairs of patients a change of authority map left apart (hub ids
 * only, F2783): an identifier the org recorded for one whose value under
 * the new system already names the other. Not merged: the operator's to
 * review. */
static void print_collisions(const char *org, const cJSON *arr)
{
    const cJSON *p;

    cJSON_ArrayForEach(p, arr) {
        const cJSON *mine = cJSON_GetObjectItemCaseSensitive(p, "patient");
        const cJSON *other = cJSON_GetObjectItemCaseSensitive(p, "linked");
        if (cJSON_IsString(mine) && cJSON_IsString(other))
            printf("org %s: collision, not merged: patient %s (recorded by "
                   "the org) and patient %s (already linked under it)\n",
                   org, mine->valuestring, other->valuestring);
    }
}

int ctl_org_authority(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    char *json = NULL;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "clear", "clear", &a)))
        return rc;
    bool clear = ctl_opt(&a, "clear") != NULL;
    if (a.npos != (clear ? 2 : 3))
        return ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    store_quiet_refusals(c->s, true);
    rc = store_authority_set(c->s, ACTOR, a.pos[0], a.pos[1],
                             clear ? NULL : a.pos[2], &json);
    if (rc == HUB_ENOTFOUND)
        return ctl_fail(clear ? "no such organization or map"
                              : "no organization has that id", rc);
    if (rc == HUB_EINVALID && !clear &&
        idsys_is_hub(slice_from_cstr(a.pos[2])))
        return ctl_fail("a SYSTEM in the hub's own space (urn:hub:, in any "
                        "case) is a name the hub gives, no authority's: give "
                        "the URI of the authority the sender means", rc);
    if (rc == HUB_EINVALID)
        return ctl_fail("a NAMESPACE is the sender's own name (not empty, "
                        "no URI, not MSH-10: the hub's, of a patient known "
                        "by its message); a SYSTEM an absolute URI such as "
                        "urn:oid:2.16.840.1.113883.19.5", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot set the authority", rc);
    cJSON *r = cJSON_Parse(json ? json : "");
    const cJSON *cp = cJSON_GetObjectItemCaseSensitive(r, "copied");
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(r, "conflicts");
    if (clear)
        printf("org %s: %s is its own name again", a.pos[0], a.pos[1]);
    else
        printf("org %s: %s is %s", a.pos[0], a.pos[1], a.pos[2]);
    printf(" (%.0f identifiers the org recorded carried to it, %.0f already "
           "another patient's)\n", cJSON_IsNumber(cp) ? cp->valuedouble : 0,
           cJSON_IsNumber(cf) ? cf->valuedouble : 0);
    print_collisions(a.pos[0], cJSON_GetObjectItemCaseSensitive(r,
                                                                "collisions"));
    cJSON_Delete(r);
    free(json);
    return 0;
}

int ctl_org_authorities(struct ctl *c, int argc, char **argv)
{
    static const char *const cols[] = { "org", "namespace", "system",
                                        "created_at" };
    struct ctl_args a;
    char *json = NULL;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "json", "json", &a)) || a.npos > 1)
        return rc ? rc : ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    rc = store_authority_list(c->s, a.npos ? a.pos[0] : NULL, &json);
    if (rc == HUB_ENOTFOUND)    /* no empty list read as none (F3129) */
        return ctl_fail("no organization has that id", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot list the authority maps", rc);
    rc = print_list(&a, json, cols, 4);
    free(json);
    return rc;
}

/* base64url without padding of n bytes into out (size >= 4n/3 + 2) */
static void b64url(const unsigned char *p, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                              "0123456789-_";
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = tab[(acc >> bits) & 63];
        }
    }
    if (bits)
        out[o++] = tab[(acc << (6 - bits)) & 63];
    out[o] = '\0';
}

/* A token carries only the scopes its org has (store_token_add keeps the
 * intersection): asked for more, say which are left out, and refuse a
 * token that would carry none. False when refused (message printed). */
static bool org_has_scopes(struct ctl *c, const char *org, unsigned want)
{
    const char *p[] = { org };
    char *v = NULL, has_txt[96], out_txt[96];
    unsigned has = 0;

    if (store_query_text(c->s, "SELECT array_to_string(scopes, ',') FROM "
                         "organizations WHERE id = $1", 1, p, &v) != HUB_OK ||
        v == NULL) {
        free(v);
        ctl_fail("no organization has that id (hubctl org list)", HUB_ENOTFOUND);
        return false;
    }
    (void)store_scopes_parse(v, &has);
    free(v);
    store_scopes_format(has, has_txt, sizeof(has_txt));
    store_scopes_format(want & ~has, out_txt, sizeof(out_txt));
    if ((want & has) == 0) {
        fprintf(stderr, "hubctl: the organization has none of those scopes "
                "(it has: %s; hubctl org update ORG --scopes ...)\n",
                has ? has_txt : "none");
        return false;
    }
    if (want & ~has)
        fprintf(stderr, "hubctl: the organization lacks %s: the token "
                "leaves it out\n", out_txt);
    return true;
}

int ctl_token_create(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    unsigned scopes = 0;
    unsigned char secret[32], pub[4];
    char sec_txt[48], pub_txt[12], token[80], prefix[24], sha[65];
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "scopes,expires-in", NULL, &a)))
        return rc;
    if (a.npos != 1)
        return ctl_usage_error(c);
    /* --expires-in DAYS (1 to 3650); none: the token lasts until revoked */
    int days = 0;
    const char *exp = ctl_opt(&a, "expires-in");
    if (exp) {
        char *end;
        long v = strtol(exp, &end, 10);
        if (end == exp || *end != '\0' || v < 1 || v > 3650) {
            fputs("hubctl: --expires-in is a number of days, 1 to 3650\n",
                  stderr);
            return 2;
        }
        days = (int)v;
    }
    /* default: every scope the org has (the token narrows, never widens) */
    if (store_scopes_parse(ctl_opt(&a, "scopes") ? ctl_opt(&a, "scopes")
                           : "ingest,subscribe,roster,report,admin",
                           &scopes) != HUB_OK) {
        fputs("hubctl: unknown scope\n", stderr);
        return 2;
    }
    if (RAND_bytes(secret, sizeof(secret)) != 1 ||
        RAND_bytes(pub, sizeof(pub)) != 1)
        return ctl_fail("no randomness", HUB_EIO);
    for (size_t i = 0; i < sizeof(pub); i++)   /* public part: 8 hex */
        snprintf(pub_txt + 2 * i, 3, "%02x", pub[i]);
    b64url(secret, sizeof(secret), sec_txt);
    snprintf(prefix, sizeof(prefix), "hub_%s", pub_txt);
    snprintf(token, sizeof(token), "%s_%s", prefix, sec_txt);
    store_sha256_hex(token, strlen(token), sha);
    if (ctl_store(c) == NULL)
        return 1;
    if (ctl_opt(&a, "scopes") && !org_has_scopes(c, a.pos[0], scopes))
        return 1;
    rc = store_token_add(c->s, ACTOR, a.pos[0], sha, prefix, scopes, days);
    OPENSSL_cleanse(secret, sizeof(secret));
    if (rc != HUB_OK) {
        OPENSSL_cleanse(token, sizeof(token));
        return ctl_fail(rc == HUB_ENOTFOUND ? "no organization has that id"
                                            : "cannot create the token", rc);
    }
    printf("%s\n", token);
    fprintf(stderr, "token %s created for %s; it is shown only now, keep it "
            "(use: Authorization: Bearer <token>)\n", prefix, a.pos[0]);
    if (days)
        fprintf(stderr, "token %s expires in %d day%s (hubctl token list "
                "shows when)\n", prefix, days, days == 1 ? "" : "s");
    OPENSSL_cleanse(token, sizeof(token));
    return 0;
}

int ctl_token_list(struct ctl *c, int argc, char **argv)
{
    static const char *const cols[] = { "prefix", "org", "scopes",
                                        "created_at", "expires_at",
                                        "revoked_at", NULL };
    return list_command(c, argc, argv, store_token_list,
                        "cannot list tokens", cols);
}

int ctl_token_revoke(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "", NULL, &a)) || a.npos != 1)
        return rc ? rc : ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    rc = store_token_revoke(c->s, ACTOR, a.pos[0]);
    if (rc == HUB_ENOTFOUND)
        return ctl_fail("no live token has that prefix", rc);
    if (rc == HUB_EINVALID)
        return ctl_fail("prefix too short or matches several tokens", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot revoke the token", rc);
    printf("token %s revoked\n", a.pos[0]);
    return 0;
}

/* hex SHA-256 of the DER of the first certificate in a PEM file */
static int pem_fingerprint(const char *path, char out[65])
{
    FILE *f = fopen(path, "r");
    X509 *x;
    unsigned char *der = NULL;
    int len;

    if (f == NULL)
        return HUB_EIO;
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (x == NULL)
        return HUB_ESYNTAX;
    len = i2d_X509(x, &der);
    X509_free(x);
    if (len <= 0)
        return HUB_ESYNTAX;
    store_sha256_hex(der, (size_t)len, out);
    OPENSSL_free(der);
    return HUB_OK;
}

/* "AB:CD:..." (openssl x509 -fingerprint -sha256) or hex to lowercase hex */
static int normalize_fingerprint(const char *in, char out[65])
{
    size_t n = 0;

    for (const char *p = in; *p; p++) {
        char ch = *p;
        if (ch == ':')
            continue;
        if (ch >= 'A' && ch <= 'F')
            ch = (char)(ch - 'A' + 'a');
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')) || n == 64)
            return HUB_EINVALID;
        out[n++] = ch;
    }
    out[n] = '\0';
    return n == 64 ? HUB_OK : HUB_EINVALID;
}

/* The certificate a command names: --cert FILE (its fingerprint), or a
 * fingerprint as the positional after the first `before` ones. 0 with fp
 * set, else the exit status (1: unreadable file, 2: usage). */
static int fingerprint_arg(struct ctl *c, const struct ctl_args *a,
                           int before, char fp[65])
{
    const char *file = ctl_opt(a, "cert");
    if (file && a->npos == before) {
        int rc = pem_fingerprint(file, fp);
        return rc == HUB_OK ? 0 : ctl_fail("cannot read a PEM certificate from "
                                       "that file", rc);
    }
    if (file || a->npos != before + 1)
        return ctl_usage_error(c);
    if (normalize_fingerprint(a->pos[before], fp) != HUB_OK) {
        fputs("hubctl: a fingerprint is the SHA-256 of the DER, 64 hex "
              "digits (colons allowed)\n", stderr);
        return 2;
    }
    return 0;
}

int ctl_cert_bind(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    char fp[65];
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "cert", NULL, &a)) ||
        (rc = fingerprint_arg(c, &a, 1, fp)))
        return rc;
    if (ctl_store(c) == NULL)
        return 1;
    rc = store_cert_bind(c->s, ACTOR, a.pos[0], fp);
    if (rc == HUB_ENOTFOUND)
        return ctl_fail("no organization has that id", rc);
    if (rc == HUB_EINVALID)
        return ctl_fail("that certificate is bound to another organization: "
                        "revoke that binding first (hubctl cert list)", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot bind the certificate", rc);
    printf("certificate %s bound to %s\n", fp, a.pos[0]);
    return 0;
}

int ctl_cert_list(struct ctl *c, int argc, char **argv)
{
    static const char *const cols[] = { "fingerprint", "org", "created_at",
                                        "revoked_at", NULL };
    return list_command(c, argc, argv, store_cert_list,
                        "cannot list certificate bindings", cols);
}

/* A partner's certificate that must no longer authenticate (lost key,
 * partner gone): its binding is revoked, kept for the record. */
int ctl_cert_revoke(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    char fp[65];
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "cert", NULL, &a)) ||
        (rc = fingerprint_arg(c, &a, 0, fp)))
        return rc;
    if (ctl_store(c) == NULL)
        return 1;
    rc = store_cert_revoke(c->s, ACTOR, fp);
    if (rc == HUB_ENOTFOUND)
        return ctl_fail("no live binding has that fingerprint", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot revoke the certificate binding", rc);
    printf("certificate %s revoked\n", fp);
    return 0;
}

int ctl_cert_fingerprint(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    char fp[65];
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "", NULL, &a)) || a.npos != 1)
        return rc ? rc : ctl_usage_error(c);
    if ((rc = pem_fingerprint(a.pos[0], fp)) != HUB_OK)
        return ctl_fail("cannot read a PEM certificate from that file", rc);
    printf("%s\n", fp);
    return 0;
}

/* Rows one step of `audit verify` reads, each a statement and a snapshot
 * of its own (about half a second of the database's time); --step. */
#define CTL_AUDIT_STEP 50000
#define CTL_PROGRESS_S 2

/* --NAME SEQ:HASH, as an earlier verify printed it, into seq and hash;
 * false (said on stderr) when it is not. */
static bool seq_hash_arg(const char *name, const char *v, long long *seq,
                         char hash[65])
{
    const char *what;
    int64_t n;
    if (!audit_seq_hash_parse(v, &n, hash, &what)) {
        fprintf(stderr, "hubctl: --%s is SEQ:HASH as an earlier verify "
                "printed it; %s\n", name, what);
        return false;
    }
    *seq = n;
    return true;
}

/* Row `seq` of a recorded head still has `hash`: 0; else what
 * `audit verify` exits with (1: changed or removed, said; 2: could not
 * tell). *pruned: the retention pruned it, nothing to compare. */
static int head_still_there(struct ctl *c, const char *what, long long seq,
                            const char *hash, bool *pruned)
{
    int rc = store_audit_check_anchor(c->s, seq, hash, NULL);
    *pruned = rc == HUB_EUNSUPPORTED;
    if (rc == HUB_OK || rc == HUB_EUNSUPPORTED)
        return 0;
    if (rc == HUB_ENOTFOUND || rc == HUB_EINVALID) {
        printf("audit: chain BROKEN at seq %lld: row %s since the %s was "
               "recorded\n", seq, rc == HUB_ENOTFOUND ? "removed" : "changed",
               what);
        return 1;
    }
    ctl_fail("cannot read the audit chain", rc);
    return 2;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct verify_progress {
    double t0, said;
};

/* between two steps: the progress on stderr every CTL_PROGRESS_S */
static bool verify_progress(void *arg, long long rows, int64_t at)
{
    struct verify_progress *p = arg;
    if (mono_s() - p->said < CTL_PROGRESS_S)
        return true;
    p->said = mono_s();
    fprintf(stderr, "audit: %lld rows checked, at seq %lld (%.0f s)\n", rows,
            (long long)at, p->said - p->t0);
    return true;
}

/* The chain walked in steps (audit_walk.h), from the retention anchor or
 * from --from SEQ:HASH (a head an earlier walk printed: only that row and
 * those after it are read), its progress on stderr every CTL_PROGRESS_S. */
int ctl_audit_verify(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    struct store_audit_check chk;
    long long head_seq = 0, from_seq = 0, step = CTL_AUDIT_STEP;
    char head_hash[65] = "", from_hash[65] = "", *end;
    const char *head, *from, *step_arg;
    bool pruned = false;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "head,from,step", NULL, &a)) ||
        a.npos)
        return rc ? rc : ctl_usage_error(c);
    if ((head = ctl_opt(&a, "head")) != NULL &&
        !seq_hash_arg("head", head, &head_seq, head_hash))
        return 2;
    if ((from = ctl_opt(&a, "from")) != NULL &&
        !seq_hash_arg("from", from, &from_seq, from_hash))
        return 2;
    if ((step_arg = ctl_opt(&a, "step")) != NULL) {
        errno = 0;
        step = strtoll(step_arg, &end, 10);
        if (errno || end == step_arg || *end || step < 1 || step > 10000000) {
            fputs("hubctl: --step is the rows a statement reads, 1 to "
                  "10000000\n", stderr);
            return 2;
        }
    }
    if (ctl_store(c) == NULL)
        return 2;
    struct verify_progress prog = { .t0 = mono_s() };
    prog.said = prog.t0;
    struct audit_walk w = { .step = (int)step, .progress = verify_progress,
                            .arg = &prog };
    /* --from's row is compared first, in audit_walk, as the route's
     * ?from= is (F1100) */
    if ((rc = audit_walk(c->s, &w, from ? from_seq : 0, from_hash,
                         &chk)) != HUB_OK) {
        ctl_fail("cannot read the audit chain", rc);
        return 2;
    }
    if (w.from_differs) {
        printf("audit: chain BROKEN at seq %lld: row %s since the --from "
               "head was recorded\n", from_seq, chk.problem);
        return 1;
    }
    if (w.from_pruned)
        printf("from: seq %lld was pruned by the retention: walked from the "
               "anchor\n", from_seq);
    bool compared = false;
    if (chk.ok && head) {
        if ((rc = head_still_there(c, "head", head_seq, head_hash,
                                   &pruned)) != 0)
            return rc;
        if (pruned)
            printf("head: seq %lld was pruned by the retention (anchor "
                   "%lld): not compared\n", head_seq,
                   (long long)chk.anchor_seq);
        compared = !pruned;
    }
    if (!chk.ok) {
        printf("audit: chain BROKEN at seq %lld: row %s (%lld rows before "
               "it hold)\n", (long long)chk.bad_seq, chk.problem,
               (long long)chk.rows_checked);
        return 1;
    }
    printf("audit: chain holds, %lld rows", (long long)chk.rows_checked);
    if (!w.from_anchor)
        printf(" from seq %lld", from_seq);
    putchar('\n');
    if (chk.head_seq > 0)
        printf("head: %lld:%s\n", (long long)chk.head_seq, chk.head_hash);
    /* said, so that a log of the periodic check shows the recorded head
     * was compared, not only that the chain holds */
    if (compared)
        printf("recorded head %lld: holds\n", head_seq);
    if (w.from_anchor && chk.anchor_seq)
        printf("from the retention anchor: seq %lld (the rows up to it "
               "were pruned)\n", (long long)chk.anchor_seq);
    return 0;
}

/* --limit N (1..STORE_FEED_MAX) into *limit, left as it is when absent;
 * false when it is not such a number. */
static bool limit_arg(const struct ctl_args *a, long *limit)
{
    const char *v = ctl_opt(a, "limit");
    char *end;
    if (v == NULL)
        return true;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n <= 0 || n > STORE_FEED_MAX)
        return false;
    *limit = n;
    return true;
}

int ctl_audit_list(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    char *json = NULL, *end;
    long long after = 0;
    long limit = STORE_FEED_MAX;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "patient,identifier,after,limit",
                        "json", &a)) || a.npos ||
        (ctl_opt(&a, "patient") && ctl_opt(&a, "identifier")))
        return rc ? rc : ctl_usage_error(c);
    if (ctl_opt(&a, "after")) {
        errno = 0;
        after = strtoll(ctl_opt(&a, "after"), &end, 10);
        if (errno || *end || after < 0)
            return ctl_usage_error(c);
    }
    if (!limit_arg(&a, &limit))
        return ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    int persons = 0;
    rc = store_audit_list(c->s, ctl_opt(&a, "patient"),
                          ctl_opt(&a, "identifier"), after, (int)limit, &json,
                          &persons);
    if (rc == HUB_EINVALID) {
        fprintf(stderr, "hubctl: --identifier is SYSTEM|VALUE or VALUE\n");
        return ctl_usage_error(c);
    }
    if (rc == HUB_EUNSUPPORTED) {   /* one person's accounting (F1963) */
        fprintf(stderr, "hubctl: the identifier names %d patients: give "
                "--identifier SYSTEM|VALUE, the system or the sender's "
                "namespace of the identifier the request names (a namespace "
                "two senders use: urn:hub:org:ORG:ns:NAMESPACE)\n", persons);
        return 1;
    }
    if (rc == HUB_ELIMIT && json) { /* as GET /v1/audit (F3130) */
        fprintf(stderr, "hubctl: --after is past the head of the audit "
                "chain (%s): the database was restored from a backup, or "
                "the cursor is another hub's\n", json);
        free(json);
        return 1;
    }
    if (rc == HUB_ENOTFOUND)      /* never an empty accounting of nobody */
        return ctl_fail("no patient has that hub id", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot list the audit trail", rc);
    if (ctl_opt(&a, "json")) {
        printf("%s\n", json);
    } else {
        static const char *const cols[] = { "seq", "at", "actor", "action",
                                            "object_kind", "object_id",
                                            "patient", "detail" };
        cJSON *doc = cJSON_Parse(json);
        char *rows = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(doc, "audit"));
        rc = rows ? print_table(rows, cols, sizeof(cols) / sizeof(cols[0]))
                  : 1;
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "audit");
        const cJSON *next = cJSON_GetObjectItemCaseSensitive(doc, "next");
        const cJSON *pats = cJSON_GetObjectItemCaseSensitive(doc, "patients");
        if (rc == 0 && cJSON_IsArray(pats)) {
            /* which persons the rows are of (hub ids of survivors) */
            char *ids = cJSON_PrintUnformatted(pats);
            fprintf(stderr, "patients: %s\n", ids ? ids : "?");
            cJSON_free(ids);
        }
        if (rc == 0 && cJSON_GetArraySize(items) == (int)limit &&
            cJSON_IsString(next))
            fprintf(stderr, "more: hubctl audit list --after %s%s%s%s%s\n",
                    next->valuestring, ctl_opt(&a, "patient") ? " --patient "
                    : "", ctl_opt(&a, "patient") ? ctl_opt(&a, "patient") : "",
                    ctl_opt(&a, "identifier") ? " --identifier " : "",
                    ctl_opt(&a, "identifier") ? ctl_opt(&a, "identifier")
                                              : "");
        cJSON_free(rows);
        cJSON_Delete(doc);
    }
    free(json);
    return rc;
}

/* What was refused, kept raw (issue 3: nothing refused is dropped): the
 * list names each by id with the hub's own error, never its bytes. */
int ctl_quarantine_list(struct ctl *c, int argc, char **argv)
{
    static const char *const cols[] = { "id", "org", "format", "key",
                                        "received_at", "code", "field",
                                        "message" };
    struct ctl_args a;
    char *json = NULL;
    long limit = 50;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "org,before,limit", "json", &a)) ||
        a.npos)
        return rc ? rc : ctl_usage_error(c);
    /* --org '' was read as every organization's (F3129) */
    const char *org = ctl_opt(&a, "org");
    if (!limit_arg(&a, &limit) || (org && *org == '\0'))
        return ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    rc = store_quarantine_list(c->s, org,
                               ctl_opt(&a, "before"), (int)limit, &json);
    if (rc == HUB_EINVALID)
        return ctl_fail("--before is a time as the feed's since= takes it "
                        "(2026-12-05, 2026-12-05T04:00:00Z; no offset: UTC)",
                        rc);
    if (rc == HUB_ENOTFOUND)    /* an operator's typo, no empty list read
                                 * as none (F3222, F3129) */
        return ctl_fail("no organization has that id (hubctl org list)", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot list the quarantine", rc);
    rc = print_list(&a, json, cols, sizeof(cols) / sizeof(cols[0]));
    free(json);
    return rc;
}

/* One quarantined message's bytes on stdout, as they came (HL7: segments
 * end in CR), for an operator to mend and send again; audited. */
int ctl_quarantine_show(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    char *raw = NULL;
    size_t len = 0;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "", NULL, &a)) || a.npos != 1)
        return rc ? rc : ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    rc = store_quarantine_raw(c->s, "hubctl", a.pos[0], &raw, &len);
    if (rc == HUB_EINVALID)
        return ctl_usage_error(c);
    if (rc == HUB_ENOTFOUND)
        return ctl_fail("no quarantined message has that id", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot read the quarantine", rc);
    rc = fwrite(raw, 1, len, stdout) == len ? 0 : 1;
    free(raw);
    return rc;
}

/* After a restore from a backup: hub_after_restore() in 001_init.sql says
 * why. The gap must cover every number issued after the restore point. */
int ctl_restored(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    const char *gap = "1000000000";
    char *end, *out = NULL;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "gap", NULL, &a)) || a.npos)
        return rc ? rc : ctl_usage_error(c);
    if (ctl_opt(&a, "gap")) {
        gap = ctl_opt(&a, "gap");
        errno = 0;
        long long v = strtoll(gap, &end, 10);
        if (errno || end == gap || *end || v < 1) {
            fprintf(stderr, "hubctl: --gap must be a whole number of at "
                    "least 1\n");
            return ctl_usage_error(c);
        }
    }
    if (ctl_store(c) == NULL)
        return 1;
    const char *p[] = { "hubctl", gap };
    rc = store_query_text(c->s, "SELECT hub_after_restore($1, $2::bigint)"
                          "::text", 2, p, &out);
    if (rc != HUB_OK || out == NULL) {
        free(out);
        return ctl_fail("cannot move the sequences", rc);
    }
    printf("restored: numbers moved %s past the backup's: %s\n", gap, out);
    free(out);
    return 0;
}
