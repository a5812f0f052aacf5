/*
 * nophi_test.c - no personal data in what the running hub answers or logs:
 * broken and hostile messages whose personal values are canaries
 * (tests/lib/canary.h) go to every ingest route (POST /v1/hl7v2, /v1/fhir,
 * /v1/ccda, /v1/csv/{kind}, MLLP), bad requests to the subscription,
 * events and audit routes, and neither an answer's body, an ACK, hubd.log
 * nor what hubctl prints of the same database may hold a canary value.
 * (hub_cleanup checks hubd.log after every e2e test too; here it is
 * asserted in the test body, so that a leak is a failure of its own.)
 */
#include <criterion/criterion.h>
#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../lib/canary.h"
#include "../lib/hubproc.h"
#include "../lib/testdb.h"
#include "../lib/testfile.h"

static struct hubproc hub;

static void start(void)
{
    char conf[1024];

    evthread_use_pthreads();
    snprintf(conf, sizeof(conf), "dict_dir = %s/schemas/dict\n",
             testdb_root());
    cr_assert_eq(hub_start(&hub, conf, false), 0, "hubd did not start");
    cr_assert(hub_wait_status(&hub, "/readyz", 200, 15000), "hubd not ready");
}

static void stop(void)
{
    hub_cleanup(&hub);
}

TestSuite(nophi, .init = start, .fini = stop, .timeout = 90);

static void clean(const char *what, const char *p, size_t n)
{
    const char *c = canary_find(p, n);
    cr_expect_null(c, "%s holds the personal value \"%s\": %.*s", what, c,
                   (int)(n > 600 ? 600 : n), p);
}

/* a call whose answer must hold no canary; its status */
static long call(const char *method, const char *path, const char *token,
                 const char *ctype, const char *body, size_t len)
{
    char ct[256], what[300];
    const char *hd[2] = { NULL, NULL };
    struct http_resp r;

    if (ctype) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        hd[0] = ct;
    }
    cr_assert_eq(http_call_h(&hub, true, method, path, token, hd, body, len,
                             &r), 0, "%s %s", method, path);
    snprintf(what, sizeof(what), "the answer to %s %s (%ld)", method, path,
             r.status);
    clean(what, r.body ? r.body : "", r.len);
    long st = r.status;
    http_resp_free(&r);
    return st;
}

static long post(const char *path, const char *ctype, const char *body,
                 size_t len)
{
    return call("POST", path, "tok-hosp", ctype, body, len);
}

/* s with the first `from` replaced by `to`, into out */
static void swap(char *out, size_t size, const char *s, const char *from,
                 const char *to)
{
    const char *at = strstr(s, from);
    cr_assert_not_null(at, "%s not in the fixture", from);
    snprintf(out, size, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

static char *data(const char *rel, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/%s", testdb_root(), rel);
    char *p = testfile_read(path, n);
    cr_assert_not_null(p, "%s", path);
    return p;
}

/* hubctl ARGS against the hub's database: its exit status; its output
 * (stdout and stderr) must hold no canary */
static int hubctl(const char *args)
{
    char cmd[2048], out[65536];
    const char *b = getenv("HUB_BUILD");
    if (b && b[0] == '/')
        snprintf(cmd, sizeof(cmd), "DATABASE_URL='%s' '%s/hubctl' %s 2>&1",
                 hub.db_url, b, args);
    else
        snprintf(cmd, sizeof(cmd), "DATABASE_URL='%s' '%s/%s/hubctl' %s 2>&1",
                 hub.db_url, testdb_root(), b && *b ? b : "build", args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    char what[256];
    snprintf(what, sizeof(what), "hubctl %s", args);
    clean(what, out, n);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* HL7 v2 over HTTP and MLLP: an accepted message and broken ones */
static void hl7_variants(void)
{
    char good[2048], bad[2048], ack[4096];
    struct mllp_client c;

    hl7_sample(good, sizeof(good), "NOPHI-1", "77");
    const char *const variants[][2] = {
        { CANARY_DOB, CANARY_FAMILY },              /* a name as a date */
        /* MSH-9 itself is echoed in the ACK's MSH-9 as HL7 asks: a
         * message type, not a personal value */
        { "ADT^A01^ADT_A01", "ADT^A99^ADT_A01" },   /* unknown trigger */
        { "2.5.1", CANARY_SSN },                    /* version */
        { "PID|1||", "PID|1|\\X" CANARY_FAMILY "|" },
        { "|F|||", "|" CANARY_PHONE_HL7 "|||" },    /* administrative sex */
        { "EVN|", "\xff\xfe" CANARY_FAMILY "|" },
        { "PV1|1|I|", "PV1|1|" CANARY_CITY "|" },   /* patient class */
    };
    cr_assert_eq(post("/v1/hl7v2", NULL, good, strlen(good)), 202);
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        /* a new control id each: no replay of an earlier answer */
        char id[16], msg[2048];
        snprintf(id, sizeof(id), "NOPHI-B%zu", i);
        hl7_sample(msg, sizeof(msg), id, "77");
        swap(bad, sizeof(bad), msg, variants[i][0], variants[i][1]);
        post("/v1/hl7v2", NULL, bad, strlen(bad));
        cr_assert_eq(mllp_send(&c, bad), 0);
        long n = mllp_read(&c, ack, sizeof(ack), 10000);
        cr_assert_gt(n, 0, "no ACK for variant %zu", i);
        clean("an MLLP ACK", ack, (size_t)n);
    }
    /* cut in the middle of PID-5 */
    size_t cut = (size_t)(strstr(good, CANARY_GIVEN) - good) + 3;
    post("/v1/hl7v2", NULL, good, cut);
    mllp_close(&c);
}

Test(nophi, error_answers_acks_log_and_hubctl_hold_no_personal_value)
{
    char buf[65536];
    size_t n;

    hl7_variants();

    /* FHIR: a name for a resource type, a name for a birth date, a cut */
    char *fhir = data("fhir/bundle-ahc-panel-transaction.json", &n);
    static const char odd[] = "{\"resourceType\":\"" CANARY_FAMILY "\","
                              "\"id\":\"p1\",\"birthDate\":\"" CANARY_DOB_ISO
                              "\"}";
    cr_expect_eq(post("/v1/fhir", "application/fhir+json", odd,
                      sizeof(odd) - 1), 422);
    swap(buf, sizeof(buf), fhir, "\"1987-02-20\"", "\"ABBAS\"");
    post("/v1/fhir", "application/fhir+json", buf, strlen(buf));
    swap(buf, sizeof(buf), fhir, "\"Patient\"", "\"BAXTER\"");
    post("/v1/fhir", "application/fhir+json", buf, strlen(buf));
    cr_expect_eq(post("/v1/fhir", "application/fhir+json", fhir,
                      (size_t)(strstr(fhir, "BAXTER") - fhir) + 3), 400);
    free(fhir);

    /* C-CDA: a cut document, a name as a birth time, a bad entity */
    char *cda = data("ccda/synthetic-ahc-hrsn.xml", &n);
    cr_expect_eq(post("/v1/ccda", "application/xml", cda,
                      (size_t)(strstr(cda, "Testa") - cda) + 2), 400);
    swap(buf, sizeof(buf), cda, "19800131", "Testa");
    post("/v1/ccda", "application/xml", buf, strlen(buf));
    swap(buf, sizeof(buf), cda, "<family>", "<family>&Testa;");
    post("/v1/ccda", "application/xml", buf, strlen(buf));
    free(cda);

    /* CSV: bad rows carrying canaries, a file with no header, not
     * multipart for a SHIN-NY set */
    static const char csv[] =
        "screening_id,patient_id,instrument,screened_at,question,answer\r\n"
        "S-1," CANARY_MRN "1,88121-9," CANARY_DOB_ISO ",88122-7,"
        CANARY_FAMILY "\r\n"
        "S-2," CANARY_MRN "2," CANARY_GIVEN ",2026-03-01T10:00:00-05:00,"
        "88122-7,LA28397-0\r\n";
    post("/v1/csv/screenings", "text/csv", csv, sizeof(csv) - 1);
    const char *row = strchr(csv, '\n') + 1;
    post("/v1/csv/screenings", "text/csv", row, strlen(row));
    char *pt = data("csv/shinny-1115-lakeside-set1/"
                    "SDOH_PtInfo_LakesideSCN_set1_20260115093000.csv", &n);
    post("/v1/csv/shinny", "text/csv", pt, n);
    row = strchr(pt, '\n') + 1;
    post("/v1/csv/shinny", "multipart/form-data; boundary=" CANARY_FAMILY,
         row, strlen(row));
    free(pt);

    /* subscriptions, events, audit: values the caller sent, refused */
    static const char sub[] =
        "{\"url\":\"https://" CANARY_FAMILY ".example/\",\"topics\":[\""
        CANARY_GIVEN "\"],\"filter\":{\"patient_classes\":[\"" CANARY_CITY
        "\"]}}";
    cr_expect_eq(call("POST", "/v1/subscriptions", "tok-hosp",
                      "application/json", sub, sizeof(sub) - 1) / 100, 4);
    call("GET", "/v1/events?after=" CANARY_MRN "&topic=" CANARY_FAMILY,
         "tok-hosp", NULL, NULL, 0);
    call("GET", "/v1/subscriptions/" CANARY_FAMILY, "tok-hosp", NULL, NULL,
         0);
    call("GET", "/v1/audit?patient=" CANARY_FAMILY, "tok-hosp", NULL, NULL,
         0);
    call("POST", "/v1/deliveries/replay", "tok-hosp", "application/json",
         "{\"from\":\"" CANARY_DOB_ISO "\",\"to\":\"" CANARY_FAMILY "\"}",
         strlen("{\"from\":\"" CANARY_DOB_ISO "\",\"to\":\"" CANARY_FAMILY
                "\"}"));

    /* what an operator lists: ids, never values */
    cr_expect_eq(hubctl("audit list"), 0);
    cr_expect_eq(hubctl("audit list --json"), 0);
    cr_expect_eq(hubctl("deliveries list"), 0);
    hubctl("audit list --patient " CANARY_FAMILY);

    cr_expect(hub_sql_long(&hub, "SELECT count(*) FROM messages WHERE "
                           "status = 'quarantined'") > 5,
              "the variants were refused and kept");
    cr_expect_eq(hub_stop(&hub), 0);
    char line[512];
    const char *leak = hub_log_leak(&hub, line, sizeof(line));
    cr_expect_null(leak, "hubd.log holds \"%s\": %s", leak, line);
}
