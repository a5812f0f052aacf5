/*
 * ctl_subs.c - hubctl commands for subscriptions and deliveries (the
 * operator's view: every org). Validation and audit are those of the API
 * (subs.h); the actor in the audit chain is "hubctl".
 *   sub add --org ORG (--url URL | --pull) --topics adt.*,screening.positive
 *           [--orgs ..] [--facilities ..] [--patient-classes ..]
 *           [--domains ..] [--counties ..] [--sensitivity ..]
 *           [--secret whsec_..] [--client-cert P --client-key P]
 *           [--ca-bundle P] [--paused]        or: sub add --org ORG --json DOC
 *   sub list [--org ORG] [--json] | sub get ID | sub update ID --json DOC
 *   sub pause ID | sub resume ID | sub delete ID
 *   deliveries list [--subscription ID] [--status dead] [--limit N] [--json]
 *   deliveries replay DLV_ID
 *   deliveries replay-range --subscription ID --from T --to T
 *           [--status dead|failed|delivered] [--max N]
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict.h"
#include "common/hub_err.h"
#include "config.h"
#include "ctl.h"
#include "dict_files.h"
#include "ingest_docs.h"
#include "store.h"
#include "subs.h"
#include "webhook.h"

#define ACTOR "hubctl"

int ctl_sub_add(struct ctl *c, int argc, char **argv);
int ctl_sub_list(struct ctl *c, int argc, char **argv);
int ctl_sub_get(struct ctl *c, int argc, char **argv);
int ctl_sub_update(struct ctl *c, int argc, char **argv);
int ctl_sub_pause(struct ctl *c, int argc, char **argv);
int ctl_sub_resume(struct ctl *c, int argc, char **argv);
int ctl_sub_delete(struct ctl *c, int argc, char **argv);
int ctl_sub_test(struct ctl *c, int argc, char **argv);
int ctl_deliveries_list(struct ctl *c, int argc, char **argv);
int ctl_deliveries_replay(struct ctl *c, int argc, char **argv);
int ctl_deliveries_replay_range(struct ctl *c, int argc, char **argv);

static int refused(const char *what, const struct hub_err *e, int code)
{
    fprintf(stderr, "hubctl: %s refused: %s%s%s (%s)\n", what,
            e->field[0] ? e->field : "", e->field[0] ? ": " : "",
            e->what ? e->what : "invalid", hub_strerror(code));
    return 1;
}

/* A replayed delivery of a paused or disabled subscription waits, silently
 * to the dispatcher, and one of a deleted subscription is never sent: say
 * so, and how to let it go. */
static void warn_if_waiting(struct ctl *c, const char *dlv, const char *sub)
{
    char id[80], st[16];

    if (subs_replay_state(c->s, dlv, sub, id, st) != HUB_OK)
        return;
    if (strcmp(st, "deleted") == 0)
        fprintf(stderr, "hubctl: subscription %s is deleted: the replay "
                "will not be sent\n", id);
    else if (strcmp(st, "active") != 0)
        fprintf(stderr, "hubctl: subscription %s is %s: the replay "
                "waits until 'hubctl sub resume %s'\n", id, st, id);
}

/* "a,b,c" -> ["a","b","c"]; empty items left out. An item of any length
 * is kept, for the validation to refuse by its index: one of 256 bytes or
 * more was left out, and the subscription made without that topic, or
 * with a filter narrowed to the values left (F4162) */
static cJSON *csv_array(const char *v)
{
    cJSON *arr = cJSON_CreateArray();
    while (v && *v) {
        size_t n = strcspn(v, ",");
        if (n > 0) {
            char *item = strndup(v, n);
            if (item == NULL)
                abort();
            cJSON_AddItemToArray(arr, cJSON_CreateString(item));
            free(item);
        }
        v += n;
        if (*v == ',')
            v++;
    }
    return arr;
}

/* The data dictionary, as hubd reads it (HUB_DICT_DIR, else the one of
 * the current directory), so that filters.domains is checked as the API
 * checks it; one that does not load leaves the domains unchecked, as
 * before (hubctl dict check says why). Kept until exit. */
static void use_dict(void)
{
    static struct dict *d;
    struct dict_err err;
    const char *env = getenv("HUB_DICT_DIR");

    if (d == NULL &&
        dict_files_load(env && *env ? env : NULL, &d, &err) == HUB_OK)
        webhook_sub_use_dict(d);
}

/* The hub's address policy for URLs (its profile and
 * webhook_allow_private, from $HUB_CONFIG and HUB_<KEY> as hubd reads
 * them), so that a URL hubd would never deliver to is refused here as the
 * API refuses it; a configuration that does not load leaves the
 * development profile's. */
static void use_address_policy(void)
{
    struct hub_config cfg;
    char err[512];

    if (config_load(&cfg, getenv("HUB_CONFIG"), err, sizeof(err)) == HUB_OK)
        webhook_sub_use_address_policy(cfg.profile == PROFILE_PRODUCTION,
                                       cfg.webhook_allow_private);
}

int ctl_sub_add(struct ctl *c, int argc, char **argv)
{
    static const char *const filters[][2] = {
        { "orgs", "orgs" }, { "facilities", "facilities" },
        { "patient-classes", "patient_classes" }, { "domains", "domains" },
        { "counties", "counties" }, { "sensitivity", "sensitivity" },
    };
    struct ctl_args a;
    struct hub_err e = { 0 };
    char *doc = NULL, *out = NULL;
    int rc;

    if ((rc = ctl_parse(c, argc, argv,
                        "org,url,topics,orgs,facilities,patient-classes,"
                        "domains,counties,sensitivity,secret,client-cert,"
                        "client-key,ca-bundle,json,idempotency-key",
                        "pull,paused", &a)))
        return rc;
    if (a.npos || !ctl_opt(&a, "org"))
        return ctl_usage_error(c);
    /* a command run again after its answer was lost (the link cut after
     * the commit) makes no second subscription under the same key */
    struct subs_key key = { .key = ctl_opt(&a, "idempotency-key") };
    if (key.key && !ingest_docs_key_ok(key.key)) {
        fputs("hubctl: --idempotency-key is 1-256 printable characters\n",
              stderr);
        return 2;
    }
    if (ctl_opt(&a, "json")) {
        /* the document is the whole subscription: an option beside it
         * (--topics, --paused) was ignored, and the subscription made
         * without it (F3132) */
        static const char *const members[] = { "url", "topics", "orgs",
            "facilities", "patient-classes", "domains", "counties",
            "sensitivity", "secret", "client-cert", "client-key",
            "ca-bundle", "pull", "paused" };
        for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
            if (ctl_opt(&a, members[i])) {
                fprintf(stderr, "hubctl: --json is the whole subscription: "
                        "give --%s in it, not beside it\n", members[i]);
                return ctl_usage_error(c);
            }
        doc = strdup(ctl_opt(&a, "json"));
    } else {
        cJSON *o = cJSON_CreateObject();
        if (ctl_opt(&a, "pull"))
            cJSON_AddStringToObject(o, "mode", "pull");
        if (ctl_opt(&a, "url"))
            cJSON_AddStringToObject(o, "url", ctl_opt(&a, "url"));
        if (ctl_opt(&a, "topics"))
            cJSON_AddItemToObject(o, "topics", csv_array(ctl_opt(&a, "topics")));
        cJSON *f = cJSON_CreateObject();
        for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
            if (ctl_opt(&a, filters[i][0]))
                cJSON_AddItemToObject(f, filters[i][1],
                                      csv_array(ctl_opt(&a, filters[i][0])));
        cJSON_AddItemToObject(o, "filters", f);
        if (ctl_opt(&a, "secret"))
            cJSON_AddItemToObject(o, "secrets", csv_array(ctl_opt(&a, "secret")));
        static const char *const paths[][2] = {
            { "client-cert", "client_cert" }, { "client-key", "client_key" },
            { "ca-bundle", "ca_bundle" },
        };
        for (size_t i = 0; i < 3; i++)
            if (ctl_opt(&a, paths[i][0]))
                cJSON_AddStringToObject(o, paths[i][1], ctl_opt(&a, paths[i][0]));
        if (ctl_opt(&a, "paused"))
            cJSON_AddStringToObject(o, "status", "paused");
        doc = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
    }
    if (!doc)
        abort();
    if (ctl_store(c) == NULL) {
        free(doc);
        return 1;
    }
    use_dict();
    use_address_policy();
    rc = subs_create(c->s, ACTOR, ctl_opt(&a, "org"), doc, strlen(doc), &key,
                     &out, &e);
    free(doc);
    if (key.differs) {
        fputs("hubctl: that idempotency key was already used for another "
              "subscription; nothing was created\n", stderr);
        return 1;
    }
    if (rc == HUB_EINVALID || rc == HUB_ESYNTAX || rc == HUB_EUNSUPPORTED ||
        rc == HUB_ELIMIT || rc == HUB_EAUTH)
        return refused("subscription", &e, rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot create the subscription", rc);
    /* printed once in full: the secret is needed by the receiver */
    if (key.replayed)
        fputs("hubctl: made before under that idempotency key: not made "
              "again\n", stderr);
    printf("%s\n", out);
    free(out);
    return 0;
}

static int print_subs(const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "subscriptions");
    const cJSON *s;

    printf("id\torg\tmode\tstatus\thealth\ttopics\turl\n");
    cJSON_ArrayForEach(s, arr) {
        /* health: what its deliveries' outcomes say (README, Subscription
         * health and alerts) */
        const char *k[] = { "id", "org", "mode", "status", "health" };
        for (int i = 0; i < 5; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, k[i]);
            printf("%s\t", cJSON_IsString(v) ? v->valuestring : "-");
        }
        char *t = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(s, "topics"));
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(s, "url");
        printf("%s\t%s\n", t ? t : "-", cJSON_IsString(u) ? u->valuestring : "-");
        cJSON_free(t);
    }
    cJSON_Delete(doc);
    return 0;
}

int ctl_sub_list(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    char *out = NULL;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "org", "json", &a)) || a.npos)
        return rc ? rc : ctl_usage_error(c);
    /* a usage error, as quarantine list's (README, F3129): no
     * organization's id, and not "every one" (F4163) */
    if (ctl_opt(&a, "org") && *ctl_opt(&a, "org") == '\0')
        return ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    rc = subs_list(c->s, ctl_opt(&a, "org"), &out);
    if (rc == HUB_ENOTFOUND)
        return ctl_fail("no organization has that id (hubctl org list)", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot list subscriptions", rc);
    if (ctl_opt(&a, "json"))
        printf("%s\n", out);
    else
        print_subs(out);
    free(out);
    return 0;
}

int ctl_sub_get(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    char *out = NULL;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "", NULL, &a)) || a.npos != 1)
        return rc ? rc : ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    if ((rc = subs_get(c->s, NULL, a.pos[0], &out)) != HUB_OK)
        return ctl_fail("cannot get the subscription", rc);
    printf("%s\n", out);
    free(out);
    return 0;
}

int ctl_sub_update(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    struct hub_err e = { 0 };
    char *out = NULL;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "json", NULL, &a)) || a.npos != 1 ||
        !ctl_opt(&a, "json"))
        return rc ? rc : ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    const char *doc = ctl_opt(&a, "json");
    use_dict();
    use_address_policy();
    rc = subs_update(c->s, ACTOR, NULL, a.pos[0], doc, strlen(doc), &out, &e);
    if (rc == HUB_EINVALID || rc == HUB_ESYNTAX || rc == HUB_EUNSUPPORTED ||
        rc == HUB_EAUTH)
        return refused("subscription", &e, rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot update the subscription", rc);
    printf("%s\n", out);
    free(out);
    return 0;
}

static int set_status(struct ctl *c, int argc, char **argv, const char *st)
{
    struct ctl_args a;
    char *out = NULL;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "", NULL, &a)) || a.npos != 1)
        return rc ? rc : ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    rc = subs_set_status(c->s, ACTOR, NULL, a.pos[0], st, &out);
    if (rc == HUB_EUNSUPPORTED) {   /* as its test is refused (F1965) */
        fprintf(stderr, "hubctl: subscription %s is a pull subscription: it "
                "has nothing to %s (its events are in the feed as they are "
                "routed); 'hubctl sub delete %s' stops its routing\n",
                a.pos[0], strcmp(st, "paused") == 0 ? "hold" : "resume",
                a.pos[0]);
        return 1;
    }
    if (rc != HUB_OK)
        return ctl_fail("cannot change the subscription", rc);
    printf("subscription %s %s\n", a.pos[0],
           strcmp(st, "paused") == 0 ? "paused" : "resumed");
    free(out);
    return 0;
}

int ctl_sub_pause(struct ctl *c, int argc, char **argv)
{
    return set_status(c, argc, argv, "paused");
}

int ctl_sub_resume(struct ctl *c, int argc, char **argv)
{
    return set_status(c, argc, argv, "active");
}

int ctl_sub_test(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    char *json = NULL;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "", NULL, &a)) || a.npos != 1)
        return rc ? rc : ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    rc = subs_test(c->s, ACTOR, NULL, a.pos[0], &json);
    if (rc == HUB_EUNSUPPORTED) {
        fprintf(stderr, "hubctl: subscription %s is a pull subscription: it "
                "has no endpoint to test\n", a.pos[0]);
        return 1;
    }
    if (rc != HUB_OK)
        return ctl_fail("cannot test the subscription", rc);
    printf("%s\n", json);
    if (subs_test_waits(json))
        fprintf(stderr, "hubctl: subscription %s is not active: the test "
                "waits until 'hubctl sub resume %s'\n", a.pos[0], a.pos[0]);
    free(json);
    return 0;
}

int ctl_sub_delete(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "", NULL, &a)) || a.npos != 1)
        return rc ? rc : ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    if ((rc = subs_delete(c->s, ACTOR, NULL, a.pos[0])) != HUB_OK)
        return ctl_fail("cannot delete the subscription", rc);
    printf("subscription %s deleted\n", a.pos[0]);
    return 0;
}

int ctl_deliveries_list(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    char *out = NULL, *end;
    long limit = 100;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "subscription,status,limit", "json",
                        &a)) || a.npos)
        return rc ? rc : ctl_usage_error(c);
    if (ctl_opt(&a, "limit")) {
        errno = 0;
        limit = strtol(ctl_opt(&a, "limit"), &end, 10);
        if (errno || *end || limit < 1 || limit > 1000)
            return ctl_usage_error(c);
    }
    if (ctl_store(c) == NULL)
        return 1;
    rc = deliveries_list(c->s, NULL, ctl_opt(&a, "subscription"),
                         ctl_opt(&a, "status"), 0, (int)limit, &out);
    if (rc == HUB_ENOTFOUND)    /* no empty list read as none (F3129) */
        return ctl_fail("no subscription has that id", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot list deliveries (subscription: a "
                        "subscription's id, sub_ and hex; status: pending, "
                        "delivering, delivered, failed, dead, cancelled)",
                        rc);
    if (ctl_opt(&a, "json")) {
        printf("%s\n", out);
    } else {
        cJSON *doc = cJSON_Parse(out);
        const cJSON *d;
        /* next_attempt last, so that a script reading the columns before
         * it reads them as before: when an open delivery is tried again
         * (a failed one's back-off), "-" for a finished one */
        printf("id\tstatus\tattempts\tevent\tsubscription\tlast_status\t"
               "last_error\tnext_attempt\n");
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc,
                                                               "deliveries")) {
            const char *k[] = { "id", "status", "attempts", "event",
                                "subscription", "last_status", "last_error",
                                "next_attempt_at" };
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(d, "status");
            bool open = cJSON_IsString(st) &&
                        (strcmp(st->valuestring, "pending") == 0 ||
                         strcmp(st->valuestring, "delivering") == 0 ||
                         strcmp(st->valuestring, "failed") == 0);
            for (int i = 0; i < 8; i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, k[i]);
                if (i == 7 && !open)
                    printf("-");
                else if (cJSON_IsString(v))
                    printf("%s", v->valuestring);
                else if (cJSON_IsNumber(v))
                    printf("%g", v->valuedouble);
                else
                    printf("-");
                putchar(i < 7 ? '\t' : '\n');
            }
        }
        cJSON_Delete(doc);
    }
    free(out);
    return 0;
}

/* a replay of a subscription moved to the pull feed, refused as the API
 * refuses it (F4160) */
static int pull_no_replay(const char *what)
{
    fprintf(stderr, "hubctl: cannot replay %s: its subscription is a pull "
            "subscription, with no endpoint to send to (its events are in "
            "the feed)\n", what);
    return 1;
}

int ctl_deliveries_replay(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    int rc;

    if ((rc = ctl_parse(c, argc, argv, "", NULL, &a)) || a.npos != 1)
        return rc ? rc : ctl_usage_error(c);
    if (ctl_store(c) == NULL)
        return 1;
    rc = deliveries_replay(c->s, ACTOR, NULL, a.pos[0]);
    if (rc == HUB_EUNSUPPORTED)
        return pull_no_replay(a.pos[0]);
    if (rc != HUB_OK)
        return ctl_fail("cannot replay: no such delivery, or it is pending or "
                    "being delivered", rc);
    printf("delivery %s replayed\n", a.pos[0]);
    warn_if_waiting(c, a.pos[0], NULL);
    return 0;
}

int ctl_deliveries_replay_range(struct ctl *c, int argc, char **argv)
{
    struct ctl_args a;
    struct hub_err e = { 0 };
    long max = 1000;
    char *end;
    int n = 0, rc;

    if ((rc = ctl_parse(c, argc, argv, "subscription,from,to,status,max",
                        NULL, &a)) || a.npos || !ctl_opt(&a, "subscription") ||
        !ctl_opt(&a, "from") || !ctl_opt(&a, "to"))
        return rc ? rc : ctl_usage_error(c);
    if (ctl_opt(&a, "max")) {
        errno = 0;
        max = strtol(ctl_opt(&a, "max"), &end, 10);
        if (errno || *end || max < 1 || max > SUBS_REPLAY_MAX)
            return ctl_usage_error(c);
    }
    if (ctl_store(c) == NULL)
        return 1;
    rc = deliveries_replay_range(c->s, ACTOR, NULL, ctl_opt(&a, "subscription"),
                                 ctl_opt(&a, "from"), ctl_opt(&a, "to"),
                                 ctl_opt(&a, "status"), (int)max, &n, &e);
    if (rc == HUB_EINVALID)
        return refused("replay", &e, rc);
    if (rc == HUB_EUNSUPPORTED)
        return pull_no_replay(ctl_opt(&a, "subscription"));
    if (rc == HUB_ENOTFOUND)
        return ctl_fail("cannot replay: no such subscription", rc);
    if (rc != HUB_OK)
        return ctl_fail("cannot replay", rc);
    /* which ones: a range without --status takes the dead letters alone,
     * and "0 deliveries replayed" read as "none in that range" */
    printf("%d deliveries replayed (status %s)\n", n,
           ctl_opt(&a, "status") ? ctl_opt(&a, "status") : "dead");
    if (n > 0)
        warn_if_waiting(c, NULL, ctl_opt(&a, "subscription"));
    return 0;
}
