/*
 * normalize_test.c - `hubctl normalize`, the dry run of a sender's sample:
 * the binary, with no database at all (DATABASE_URL unset), on files of
 * each format. It must print each event as one JSON line and every other
 * line after "# ", answer as hubd would (the ACK, the HTTP body), and
 * exit 0 only when everything was accepted.
 */
#include <criterion/criterion.h>
#include <cJSON.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/testdb.h"

/* "hubctl normalize ARGS" from the repository root, DATABASE_URL unset;
 * its exit status, stdout in out, stderr in err. */
static int normalize(char *out, size_t size, char *err, size_t esize,
                     const char *args)
{
    char cmd[2048], errpath[] = "/tmp/hub-normalize-XXXXXX";
    const char *b = getenv("HUB_BUILD");
    int fd = mkstemp(errpath);
    cr_assert_geq(fd, 0);
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && env -u DATABASE_URL '%s/hubctl' normalize %s 2>%s",
             testdb_root(), b && *b ? b : "build", args, errpath);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    char sink[4096];            /* the rest read, so hubctl gets no SIGPIPE */
    while (fread(sink, 1, sizeof(sink), p) > 0)
        ;
    int st = pclose(p);
    FILE *e = fdopen(fd, "r");
    n = fread(err, 1, esize - 1, e);
    err[n] = '\0';
    fclose(e);
    unlink(errpath);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The events of the output (lines not starting "# "), checked to be JSON,
 * their "type"s joined by spaces into types. */
static int events_of(const char *out, char *types, size_t size)
{
    int n = 0;
    types[0] = '\0';
    for (const char *l = out; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (len && l[0] != '#') {
            cJSON *j = cJSON_ParseWithLength(l, len);
            cr_assert_not_null(j, "not JSON: %.*s", (int)len, l);
            const char *t = cJSON_GetStringValue(
                cJSON_GetObjectItemCaseSensitive(j, "type"));
            cr_assert_not_null(t);
            size_t have = strlen(types);
            snprintf(types + have, size - have, "%s%s", n ? " " : "", t);
            cJSON_Delete(j);
            n++;
        } else {
            cr_assert(len == 0 || strncmp(l, "# ", 2) == 0, "line: %.*s",
                      (int)len, l);
        }
        l = e ? e + 1 : l + len;
    }
    return n;
}

Test(normalize, hl7_messages_of_one_file_each_get_their_answer)
{
    char path[] = "/tmp/hub-normalize-hl7-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    /* an admit, then a type the hub does not take, as a file of two */
    const char msgs[] =
        "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A01|CTRL1|P|2.5\r"
        "PID|1||MRN1^^^FAC^MR||Zzcanaryfam^Jo||19800131|F\r"
        "PV1|1|I\r\n"
        "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ORU^R01|CTRL2|P|2.5\r"
        "PID|1||MRN1^^^FAC^MR\r";
    cr_assert_eq(write(fd, msgs, sizeof(msgs) - 1), (ssize_t)sizeof(msgs) - 1);
    close(fd);
    char out[16384], err[4096], types[256], args[256];
    snprintf(args, sizeof(args), "%s", path);
    cr_assert_eq(normalize(out, sizeof(out), err, sizeof(err), args), 1,
                 "one refused: exit 1\n%s%s", out, err);
    cr_assert_eq(events_of(out, types, sizeof(types)), 1);
    cr_assert_str_eq(types, "adt.admit");
    cr_assert_not_null(strstr(out, ": message 1 of 2: accepted (AA), 1 event"),
                       "%s", out);
    cr_assert_not_null(strstr(out, ": message 2 of 2: refused (AR): "
                                   "unsupported at MSH-9"), "%s", out);
    cr_assert_not_null(strstr(out, path), "the file is named: %s", out);
    cr_assert_not_null(strstr(out, "#   MSA|AA|CTRL1\n"), "%s", out);
    cr_assert_not_null(strstr(out, "#   MSA|AR|CTRL2\n"), "%s", out);
    cr_assert_str_eq(err, "");
    unlink(path);
}

Test(normalize, fhir_ccda_and_a_csv_set_without_a_database)
{
    char out[65536], err[4096], types[4096];
    cr_assert_eq(normalize(out, sizeof(out), err, sizeof(err),
                           "tests/data/real/fhir/"
                           "Condition-SDOHCC-ConditionHomelessExample.json "
                           "tests/data/ccda/Care_Plan.xml"),
                 0, "%s%s", out, err);
    cr_assert_eq(events_of(out, types, sizeof(types)), 3, "%s", types);
    cr_assert_str_eq(types, "condition.recorded goal.updated careplan.updated");
    cr_assert_not_null(strstr(out, "\"event_ids\":["), "%s", out);

    cr_assert_eq(normalize(out, sizeof(out), err, sizeof(err),
                           "--csv shinny tests/data/csv/"
                           "shinny-1115-lakeside-set1/*.csv"),
                 0, "%s%s", out, err);
    cr_assert_not_null(strstr(out, "# the set: accepted, 6 events"), "%s",
                       out);
    cr_assert_eq(events_of(out, types, sizeof(types)), 6, "%s", types);
    /* the set's directory reads as its files */
    char again[65536];
    cr_assert_eq(normalize(again, sizeof(again), err, sizeof(err),
                           "--csv shinny tests/data/csv/"
                           "shinny-1115-lakeside-set1"),
                 0, "%s%s", again, err);
    char types2[4096];
    cr_assert_eq(events_of(again, types2, sizeof(types2)), 6);
    cr_assert_str_eq(types2, types);
    cr_assert_not_null(strstr(again, "# the set: accepted, 6 events"));
}

/* F2862: a C-CDA document accepted with nothing routed (round 182's
 * Referral Note whose referral is narrative only) says why, in the member
 * and words POST /v1/fhir uses for a message of no event. */
Test(normalize, a_ccda_document_of_no_event_says_why)
{
    char out[65536], err[4096], types[256];
    cr_assert_eq(normalize(out, sizeof(out), err, sizeof(err),
                           "tests/data/real/ccda/"
                           "r182-referral-workflow_sample-referral.xml"),
                 0, "%s%s", out, err);
    cr_assert_eq(events_of(out, types, sizeof(types)), 0, "%s", types);
    const char *a = strstr(out, "#   {");
    cr_assert_not_null(a, "%s", out);
    const char *end = strchr(a, '\n');
    cJSON *j = cJSON_ParseWithLength(a + 4, end ? (size_t)(end - a - 4)
                                                : strlen(a + 4));
    cr_assert_not_null(j, "%s", a);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "event_ids")), 0);
    const cJSON *o = cJSON_GetObjectItem(j, "outcome");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o,
                         "resourceType")), "OperationOutcome", "%s", a);
    const cJSON *i0 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "issue"), 0);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(i0, "severity")),
                     "information");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(i0, "code")),
                     "informational");
    const char *why =
        cJSON_GetStringValue(cJSON_GetObjectItem(i0, "diagnostics"));
    cr_assert_not_null(why);
    cr_assert_not_null(strstr(why, "accepted with no event: the document "
                                   "holds only context"), "%s", why);
    cJSON_Delete(j);
    /* a document with events answers as before: no outcome */
    cr_assert_eq(normalize(out, sizeof(out), err, sizeof(err),
                           "tests/data/ccda/Care_Plan.xml"),
                 0, "%s%s", out, err);
    cr_assert_null(strstr(out, "\"outcome\""), "%s", out);
}

/* `text` (UTF-8) into a new file in the encoding `to`, after the bytes
 * `pre`; the file's path in path. */
static void write_encoded(char *path, const char *pre, size_t plen,
                          const char *text, const char *to)
{
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    iconv_t cd = iconv_open(to, "UTF-8");
    cr_assert_neq(cd, (iconv_t)-1);
    size_t in = strlen(text), room = 4 * in + 4;
    char *buf = malloc(room), *o = buf, *i = (char *)text;
    cr_assert_not_null(buf);
    cr_assert_neq(iconv(cd, &i, &in, &o, &room), (size_t)-1);
    iconv_close(cd);
    cr_assert_eq(write(fd, pre, plen), (ssize_t)plen);
    cr_assert_eq(write(fd, buf, (size_t)(o - buf)), (ssize_t)(o - buf));
    close(fd);
    free(buf);
}

/* F3380: a C-CDA document in UTF-16, which hubd's reader takes (XML 1.0
 * 4.3.3 and F.1), is read by hubctl too, as hubd reads it: with a byte
 * order mark of either order, and big-endian with none ("<" its first
 * code unit). A UTF-16 file that is no XML is still named no format. */
Test(normalize, a_utf16_ccda_document_is_read_as_hubd_reads_it)
{
    char path[1024], out[65536], err[4096], types[256];
    snprintf(path, sizeof(path), "%s/tests/data/ccda/Care_Plan.xml",
             testdb_root());
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    static char doc[262144];
    size_t n = fread(doc, 1, sizeof(doc) - 1, f);
    fclose(f);
    doc[n] = '\0';
    /* its declaration names UTF-8: left out, as a re-encoder would */
    const char *body = strstr(doc, "?>");
    cr_assert_not_null(body);
    body += 2;
    while (*body == '\n' || *body == '\r')
        body++;
    static const struct {
        const char *bom, *to;
        size_t blen;
    } forms[] = {
        { "\xff\xfe", "UTF-16LE", 2 },
        { "\xfe\xff", "UTF-16BE", 2 },
        { "", "UTF-16BE", 0 },
    };
    for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
        char tmp[] = "/tmp/hub-normalize-u16-XXXXXX";
        write_encoded(tmp, forms[k].bom, forms[k].blen, body, forms[k].to);
        cr_assert_eq(normalize(out, sizeof(out), err, sizeof(err), tmp), 0,
                     "form %zu: %s%s", k, out, err);
        cr_assert_eq(events_of(out, types, sizeof(types)), 2, "%s", types);
        cr_assert_str_eq(types, "goal.updated careplan.updated");
        unlink(tmp);
    }
    char tmp[] = "/tmp/hub-normalize-u16-XXXXXX";
    write_encoded(tmp, "\xff\xfe", 2, "MSH|^~\\&|A", "UTF-16LE");
    cr_assert_eq(normalize(out, sizeof(out), err, sizeof(err), tmp), 1);
    cr_assert_not_null(strstr(err, "is not HL7 v2, FHIR JSON or C-CDA"),
                       "%s", err);
    unlink(tmp);
}

Test(normalize, refusals_and_usage_say_why_without_the_data)
{
    char out[65536], err[4096];
    /* a CSV without --csv: the format is not guessed */
    cr_assert_eq(normalize(out, sizeof(out), err, sizeof(err),
                           "tests/data/csv/screenings-simple.csv"),
                 1);
    cr_assert_not_null(strstr(err, "for a CSV file say --csv KIND"), "%s",
                       err);
    /* a file whose rows are in part refused: accepted, and exit 1 */
    cr_assert_eq(normalize(out, sizeof(out), err, sizeof(err),
                           "--csv screenings "
                           "tests/data/csv/screenings-simple.csv"),
                 1, "%s%s", out, err);
    cr_assert_not_null(strstr(out, ": accepted, 5 events"), "%s", out);
    cr_assert_not_null(strstr(out, "# 2 parts refused"), "%s", out);
    cr_assert_eq(normalize(out, sizeof(out), err, sizeof(err),
                           "--csv nonsense x.csv"),
                 2);
    cr_assert_eq(normalize(out, sizeof(out), err, sizeof(err),
                           "no-such-file.hl7"),
                 1);
    cr_assert_not_null(strstr(err, "cannot read no-such-file.hl7"), "%s", err);
    cr_assert_eq(normalize(out, sizeof(out), err, sizeof(err), ""), 2);
    cr_assert_not_null(strstr(err, "usage: hubctl normalize"), "%s", err);
}

/* Run from another directory, the relative dict_dir finds no dictionary:
 * hubctl says which directory it looked for and how to name another;
 * HUB_DICT_DIR then works from anywhere. */
Test(normalize, a_dictionary_not_found_says_how_to_name_it)
{
    char cmd[2048], out[8192];
    const char *b = getenv("HUB_BUILD");
    const char *root = testdb_root();

    for (int named = 0; named < 2; named++) {
        snprintf(cmd, sizeof(cmd),
                 "cd /tmp && env -u DATABASE_URL -u HUB_CONFIG %s%s%s "
                 "'%s/%s/hubctl' normalize '%s/tests/data/hl7v2/"
                 "ADT-A01-01.hl7' 2>&1",
                 named ? "HUB_DICT_DIR='" : "-u HUB_DICT_DIR",
                 named ? root : "", named ? "/schemas/dict'" : "", root,
                 b && *b ? b : "build", root);
        FILE *p = popen(cmd, "r");
        cr_assert_not_null(p);
        size_t n = fread(out, 1, sizeof(out) - 1, p);
        out[n] = '\0';
        char sink[4096];
        while (fread(sink, 1, sizeof(sink), p) > 0)
            ;
        int st = pclose(p);
        cr_assert(WIFEXITED(st));
        if (named) {
            cr_expect_eq(WEXITSTATUS(st), 0, "%s", out);
            cr_expect_not_null(strstr(out, ": accepted (AA)"), "%s", out);
        } else {
            cr_expect_eq(WEXITSTATUS(st), 1, "%s", out);
            cr_expect_not_null(strstr(out, "dict_dir is schemas/dict"), "%s",
                               out);
            cr_expect_not_null(strstr(out, "HUB_DICT_DIR"), "%s", out);
        }
    }
}
