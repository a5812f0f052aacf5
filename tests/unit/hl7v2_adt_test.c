/*
 * hl7v2_adt_test.c - ADT normalization rules that the golden files do not
 * pin down one by one: the topic of every trigger, refusals and where they
 * point, timestamps, the sud label, warnings, A40 groups, and that no
 * patient value ever reaches an error or a warning.
 */
#include <criterion/criterion.h>
#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict.h"
#include "common/hub_err.h"
#include "dict_files.h"
#include "hl7v2/hl7v2.h"
#include "../lib/testdict.h"

static struct arena A;

static void setup(void)
{
    arena_init(&A, 16 * 1024);
}

static void teardown(void)
{
    arena_release(&A);
}

TestSuite(hl7_to_events, .init = setup, .fini = teardown);

/* Parse and normalize; returns the status and fills *l and *err. */
static int run(const char *msg, struct canon_list *l, struct hub_err *err)
{
    struct hl7_msg *m;
    memset(l, 0, sizeof(*l));
    memset(err, 0, sizeof(*err));
    int rc = hl7_parse(&A, msg, strlen(msg), &m, err);
    if (rc != HUB_OK)
        return rc;
    return hl7_to_events(&A, m, l, err);
}

/* The single event of an accepted message, as cJSON (caller deletes). */
static cJSON *event_of(const char *msg)
{
    struct canon_list l;
    struct hub_err err;
    int rc = run(msg, &l, &err);
    cr_assert_eq(rc, HUB_OK, "refused: %s at %s: %s", hub_strerror(rc),
                 err.field, err.what ? err.what : "");
    cr_assert_eq(l.n, 1);
    cJSON *j = cJSON_ParseWithLength(l.ev[0].json.p, l.ev[0].json.len);
    cr_assert_not_null(j, "event is not JSON");
    return j;
}

static const char *str_at(const cJSON *j, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_GetStringValue(x);
}

#define MSH(type, ver) "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||" type \
                       "|CTRL1|P|" ver "\r"
#define PID "PID|1||MRN1^^^FAC^MR||Doe^Jo||19800131|F\r"

Test(hl7_to_events, maps_every_supported_trigger_to_its_topic)
{
    static const struct {
        char trig[4], topic[16];
    } map[] = {
        { "A01", "adt.admit" },     { "A02", "adt.transfer" },
        { "A03", "adt.discharge" }, { "A04", "adt.register" },
        { "A05", "adt.register" },  { "A06", "adt.transfer" },
        { "A07", "adt.transfer" },  { "A08", "adt.update" },
        { "A11", "adt.update" },    { "A12", "adt.update" },
        { "A13", "adt.update" },    { "A14", "adt.register" },
        { "A28", "adt.register" },  { "A31", "adt.update" },
        { "A40", "adt.merge" },     { "A18", "adt.merge" },
        { "A34", "adt.merge" },     { "A36", "adt.merge" },
        { "A39", "adt.merge" },     { "A27", "adt.update" },
        { "A38", "adt.update" },    { "A46", "adt.merge" },
        { "A47", "adt.merge" },     { "A48", "adt.merge" },
    };
    for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
        char msg[2048];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|A|F|H|H|2026||ADT^%s|C%zu|P|2.5\r" PID
                 "MRG|OLD1^^^FAC^MR\rPV1|1|I\r",
                 map[k].trig, k);
        cJSON *j = event_of(msg);
        cr_assert_str_eq(str_at(j, "type", NULL), map[k].topic, "%s",
                         map[k].trig);
        cr_assert_str_eq(str_at(j, "source", "trigger"), map[k].trig);
        const cJSON *enc = cJSON_GetObjectItemCaseSensitive(j, "encounter");
        cr_assert(cJSON_IsObject(enc), "%s: no encounter body", map[k].trig);
        const char *cancel = str_at(enc, "cancel_of", NULL);
        if (strcmp(map[k].trig, "A11") == 0)
            cr_assert_str_eq(cancel, "A01");
        else if (strcmp(map[k].trig, "A12") == 0)
            cr_assert_str_eq(cancel, "A02");
        else if (strcmp(map[k].trig, "A13") == 0)
            cr_assert_str_eq(cancel, "A03");
        else if (strcmp(map[k].trig, "A27") == 0)
            cr_assert_str_eq(cancel, "A14");
        else if (strcmp(map[k].trig, "A38") == 0)
            cr_assert_str_eq(cancel, "A05");
        else
            cr_assert_null(cancel, "%s", map[k].trig);
        /* merged_from only on the merge */
        const cJSON *mf = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "patient"), "merged_from");
        cr_assert_eq(mf != NULL, strcmp(map[k].topic, "adt.merge") == 0,
                     "%s", map[k].trig);
        cJSON_Delete(j);
    }
}

Test(hl7_to_events, refuses_other_message_types_at_msh_9)
{
    /* an empty MSH-9 is refused as missing (F34, below) */
    static const char *types[] = { "SIU^S12", "ACK^A01", "ORU^R01",
                                   "ADX^A01" };
    for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
        char msg[2048];
        struct canon_list l;
        struct hub_err err;
        snprintf(msg, sizeof(msg), "MSH|^~\\&|A|F|H|H|2026||%s|C|P|2.5\r" PID,
                 types[k]);
        cr_assert_eq(run(msg, &l, &err), HUB_EUNSUPPORTED, "%s", types[k]);
        cr_assert_str_eq(err.field, "MSH-9");
        cr_assert_eq(l.n, 0);
    }
}

/* Valid ADT triggers the hub does not route are refused (AR, kept in
 * quarantine), so that a sender learns from its first message which of
 * its feed's triggers to filter out. Among them, decided 2026-12-03 (the
 * header of adt.c says why): A15/A26 (pending transfer and its cancel, as
 * UCLH's Epic sends, tests/data/real/hl7v2/uclh_emap_a15.hl7) and A16/A25
 * (pending discharge and its cancel): a plan, not a move. */
Test(hl7_to_events, refuses_unsupported_trigger_at_msh_9_2)
{
    static const char *trig[] = { "A17", "A15", "A26", "A16", "A25", "A29",
                                  "A45", "A49", "A60" };
    for (size_t k = 0; k < sizeof(trig) / sizeof(trig[0]); k++) {
        char msg[2048];
        struct canon_list l;
        struct hub_err err;
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|A|F|H|H|2026||ADT^%s|C%zu|P|2.5\r" PID
                 "PV1|1|E|||||||||||||||||||||||||||||||||||||||WARD^12\r",
                 trig[k], k);
        cr_assert_eq(run(msg, &l, &err), HUB_EUNSUPPORTED, "%s", trig[k]);
        cr_assert_str_eq(err.field, "MSH-9.2");
        cr_assert_eq(l.n, 0);
    }
}

/* tests/data/real/SOURCES.md F34: PointClickCare's example A03 has an
 * extra field after MSH-2, so MSH-9 is empty and MSH-10 holds the type */
Test(hl7_to_events, refuses_an_empty_msh_9_as_missing_not_unsupported)
{
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run("MSH|^~\\&||A|F|H|H|20160129130701||ADT^A08|1|T|2.5\r"
                     PID, &l, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "MSH-9");
    cr_assert_str_eq(err.what, "required field message type is missing");
    cr_assert_eq(run(MSH("^", "2.5") PID, &l, &err), HUB_EINVALID);
    cr_assert_eq(run(MSH("ORU^R01", "2.5") PID, &l, &err), HUB_EUNSUPPORTED);
    cr_assert_str_eq(err.what, "message type is not supported");
    cr_assert_eq(run(MSH("^A01", "2.5") PID, &l, &err), HUB_EUNSUPPORTED,
                 "an event without a type is not a missing type");
}

Test(hl7_to_events, takes_the_trigger_from_evn_1_when_msh_9_has_none)
{
    cJSON *j = event_of(MSH("ADT", "2.2") "EVN|A03|202601150900\r" PID);
    cr_assert_str_eq(str_at(j, "type", NULL), "adt.discharge");
    cr_assert_str_eq(str_at(j, "source", "trigger"), "A03");
    cJSON_Delete(j);
    /* F43: neither says it: a missing field (AE), not an unsupported
     * event (AR) */
    struct canon_list l;
    struct hub_err err;
    static const char *const none[] = {
        MSH("ADT", "2.2") PID, MSH("ADT", "2.2") "EVN||2026\r" PID,
        MSH("ADT^", "2.3") "EVN|\"\"|2026\r" PID,
    };
    for (size_t k = 0; k < sizeof(none) / sizeof(none[0]); k++) {
        cr_assert_eq(run(none[k], &l, &err), HUB_EINVALID, "%zu", k);
        cr_assert_str_eq(err.field, "MSH-9.2");
        cr_assert_str_eq(err.what, "required field trigger event is missing");
    }
    cr_assert_eq(run(MSH("ADT", "2.2") "EVN|A99|2026\r" PID, &l, &err),
                 HUB_EUNSUPPORTED);
    cr_assert_str_eq(err.what, "event type is not supported");
}

/* F2841: MSH-2's fifth character (v2.7 2.5.5.2, ELR's v2.5.1) ends a value
 * the sender cut short: the mark is taken off, in a field whose other bytes
 * are plain as in one with an escape; within a value, or escaped (\P\), it
 * is the character itself. Without the fifth character '#' is data. */
Test(hl7_to_events, takes_the_truncation_character_off_a_value_end)
{
    static const char msg[] =
        "MSH|^~\\&#|APP|FAC|HUB|HUB|20260115093000||ADT^A01|CTRL1|P|2.7\r"
        "PID|1||MRN1^^^FAC^MR||Smith#^Jo\\H\\hanna#||19800131|F|||"
        "Flat #2 Long Stree#^^Leeds^^LS1 \\P\\\r"
        "PV1|1|I\r"
        "DG1|1||I10^Essential (primary) hypert#^I10\r";
    cJSON *j = event_of(msg);
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(j, "patient");
    const cJSON *name =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pt, "names"), 0);
    cr_expect_str_eq(str_at(name, "family", NULL), "Smith");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(
                         cJSON_GetObjectItemCaseSensitive(name, "given"), 0)),
                     "Johanna");
    const cJSON *addr = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(pt, "addresses"), 0);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(
                         cJSON_GetObjectItemCaseSensitive(addr, "lines"), 0)),
                     "Flat #2 Long Stree");
    cr_expect_str_eq(str_at(addr, "postal_code", NULL), "LS1 #");
    const cJSON *dx = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "encounter"), "diagnoses"), 0);
    cr_expect_str_eq(str_at(dx, "display", NULL), "Essential (primary) hypert");
    cJSON_Delete(j);

    /* four encoding characters: '#' is no mark, and stays */
    j = event_of(MSH("ADT^A01", "2.7") "PID|1||MRN1^^^FAC^MR||Smith#^Jo\r");
    name = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "patient"), "names"), 0);
    cr_expect_str_eq(str_at(name, "family", NULL), "Smith#");
    cJSON_Delete(j);
}

/* F2842: an event that carries a value the sender marked as cut short (the
 * truncation character at its end, F2841) says so once per field, by the
 * field's place and never its value; a field the normalizer does not read
 * (NK1-2) says nothing, nor does a message without the fifth character;
 * each event of an A40 warns of its own. */
static const char *warnings_of(const char *msg);
Test(hl7_to_events, warns_of_each_field_the_sender_cut_short)
{
    static const char msg[] =
        "MSH|^~\\&#|APP|FAC#|HUB|HUB|20260115093000||ADT^A01|CTRL1|P|2.7\r"
        "PID|1||MRN1^^^FAC^MR||Smith#^Jo#||19800131|F|||"
        "1 Long Stree#^^Leeds\r"
        "NK1|1|Doe#^Jane\r"
        "PV1|1|I\r";
    cr_assert_str_eq(warnings_of(msg),
                     "MSH-4:value cut short by the sender (truncation "
                     "character);PID-5:value cut short by the sender "
                     "(truncation character);PID-11:value cut short by the "
                     "sender (truncation character);");
    cJSON *j = event_of(msg);
    char *s = cJSON_PrintUnformatted(
        cJSON_GetObjectItemCaseSensitive(j, "warnings"));
    cr_expect_not_null(strstr(s, "\"field\":\"PID-5\""), "%s", s);
    cr_expect_null(strstr(s, "Smith"), "%s", s);
    cr_expect_null(strstr(s, "NK1"), "%s", s);
    free(s);
    cJSON_Delete(j);

    /* no fifth character: '#' is data, nothing is said */
    cr_assert_str_eq(warnings_of(MSH("ADT^A01", "2.7")
                                 "PID|1||MRN1^^^FAC^MR||Smith#^Jo\rPV1|1|I\r"),
                     "");

    /* an A40: each group's event warns of the field it carries */
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run("MSH|^~\\&#|APP|FAC|HUB|HUB|20260115093000||"
                     "ADT^A40^ADT_A39|CTRL1|P|2.7\r"
                     "PID|1||NEW1^^^FAC^MR||Smith#\rMRG|OLD1^^^FAC^MR\r"
                     "PID|1||NEW2^^^FAC^MR||Jones\rMRG|OLD2^^^FAC^MR\r"
                     "PID|1||NEW3^^^FAC^MR||Brown#\rMRG|OLD3^^^FAC^MR\r",
                     &l, &err), HUB_OK);
    cr_assert_eq(l.n, 3);
    for (size_t k = 0; k < 3; k++) {
        cJSON *e = cJSON_ParseWithLength(l.ev[k].json.p, l.ev[k].json.len);
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "warnings");
        cr_expect_eq(cJSON_GetArraySize(w), k == 1 ? 0 : 1, "event %zu", k);
        if (k != 1)
            cr_expect_str_eq(str_at(cJSON_GetArrayItem(w, 0), "field", NULL),
                             "PID-5");
        cJSON_Delete(e);
    }
}

/* Round 188's probe of F2841: the mark is taken off each repetition's and
 * each component's end, next to an escape sequence, and off an
 * identifier and its authority alike. */
Test(hl7_to_events, takes_the_truncation_mark_off_repetitions_and_components)
{
    static const char msg[] =
        "MSH|^~\\&#|APP|FAC|HUB|HUB|20260115093000||ADT^A01|CTRL1|P|2.7\r"
        "PID|1||MRN1#^^^FAC#^MR||Smith#~Jones#^Ann#||19800131|F|||"
        "Flat 2\\H\\#^^Leeds#\r"
        "PV1|1|I\r";
    cJSON *j = event_of(msg);
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(j, "patient");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(pt, "names");
    cr_expect_str_eq(str_at(cJSON_GetArrayItem(names, 0), "family", NULL),
                     "Smith");
    cr_expect_str_eq(str_at(cJSON_GetArrayItem(names, 1), "family", NULL),
                     "Jones");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(
                         cJSON_GetObjectItemCaseSensitive(
                             cJSON_GetArrayItem(names, 1), "given"), 0)),
                     "Ann");
    const cJSON *id = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(pt, "identifiers"), 0);
    cr_expect_str_eq(str_at(id, "value", NULL), "MRN1");
    cr_expect_str_eq(str_at(id, "system", NULL), "FAC");
    const cJSON *addr = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(pt, "addresses"), 0);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(
                         cJSON_GetObjectItemCaseSensitive(addr, "lines"), 0)),
                     "Flat 2");
    cr_expect_str_eq(str_at(addr, "city", NULL), "Leeds");
    cJSON_Delete(j);
}

/* F2922: the header's type, trigger and version are read raw, so a v2.7
 * sender's mark on them ("ADT#", "A01#", "2.7#") refused the message as a
 * type or event the hub does not take, or wrote the version with the
 * mark. The mark is taken off them as off every other value, and the
 * event warns of MSH-9 and MSH-12 (EVN-1 when it says the event); an
 * EVN-1 marked alike names the same event as MSH-9.2. */
Test(hl7_to_events, takes_the_truncation_mark_off_the_type_trigger_and_version)
{
    static const char msg[] =
        "MSH|^~\\&#|APP|FAC|HUB|HUB|20260115093000||ADT#^A01#^ADT_A01|"
        "CTRL1|P|2.7#\r"
        "EVN|A01#|20260115092500\r"
        "PID|1||MRN1^^^FAC^MR||Smith^Jo||19800131|F\r"
        "PV1|1|I\r";
    cr_assert_str_eq(warnings_of(msg),
                     "MSH-9:value cut short by the sender (truncation "
                     "character);MSH-12:value cut short by the sender "
                     "(truncation character);");
    cJSON *j = event_of(msg);
    cr_expect_str_eq(str_at(j, "type", NULL), "adt.admit");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(j, "source");
    cr_expect_str_eq(str_at(src, "trigger", NULL), "A01");
    cr_expect_str_eq(str_at(src, "version", NULL), "2.7");
    cJSON_Delete(j);

    /* the trigger and its structure joined ("A11_A09"), then the mark */
    j = event_of("MSH|^~\\&#|APP|FAC|HUB|HUB|20260115093000||"
                 "ADT^A11_A09#|CTRL1|P|2.7\r" PID "PV1|1|I\r");
    cr_expect_str_eq(str_at(j, "type", NULL), "adt.update");
    cr_expect_str_eq(str_at(cJSON_GetObjectItemCaseSensitive(j, "source"),
                            "trigger", NULL), "A11");
    cJSON_Delete(j);

    /* no MSH-9.2: EVN-1 says the event, and is the field warned of */
    static const char evn[] =
        "MSH|^~\\&#|APP|FAC|HUB|HUB|20260115093000||ADT|CTRL1|P|2.7\r"
        "EVN|A04#|20260115092500\r" PID "PV1|1|O\r";
    cr_assert_str_eq(warnings_of(evn),
                     "EVN-1:value cut short by the sender (truncation "
                     "character);");
    j = event_of(evn);
    cr_expect_str_eq(str_at(j, "type", NULL), "adt.register");
    cJSON_Delete(j);

    /* four encoding characters: '#' is data, an event not taken */
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run(MSH("ADT^A01#", "2.7") PID "PV1|1|I\r", &l, &err),
                 HUB_EUNSUPPORTED);
    cr_assert_str_eq(err.field, "MSH-9.2");
    cr_assert_eq(run(MSH("ADT#^A01", "2.7") PID "PV1|1|I\r", &l, &err),
                 HUB_EUNSUPPORTED);
    cr_assert_str_eq(err.field, "MSH-9");
}

Test(hl7_to_events, refuses_versions_outside_2_x_and_a_missing_version)
{
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run(MSH("ADT^A01", "3.0") PID, &l, &err), HUB_EUNSUPPORTED);
    cr_assert_str_eq(err.field, "MSH-12");
    cr_assert_eq(run(MSH("ADT^A01", "") PID, &l, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "MSH-12");
    static const char *ok[] = { "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1",
                                "2.6", "2.7", "2.7.1", "2.8", "2.8.2" };
    for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
        char msg[2048];
        snprintf(msg, sizeof(msg), MSH("ADT^A01", "%s") PID, ok[k]);
        cr_assert_eq(run(msg, &l, &err), HUB_OK, "%s", ok[k]);
    }
}

Test(hl7_to_events, refuses_missing_pid_identifier_or_control_id)
{
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "PV1|1|I\r", &l, &err),
                 HUB_EINVALID);
    cr_assert_str_eq(err.field, "PID");
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "PID|1||\"\"||Doe^Jo\r", &l, &err),
                 HUB_EINVALID);
    cr_assert_str_eq(err.field, "PID-3");
    /* a later component does not make up for CX.1; PID-2 or PID-4 do,
     * and so does a later repetition after an empty first one (F41: the
     * field is valued, its MRN written; it was refused) */
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "PID|1||~|^M3\r", &l, &err),
                 HUB_EINVALID);
    cr_assert_str_eq(err.field, "PID-3");
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "PID|1||^M2^^X^MR\r", &l, &err),
                 HUB_EINVALID);
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "PID|1||~M2^^^X^MR|^M3\r", &l,
                     &err), HUB_OK);
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "PID|1||\"\"~M2^^^X^MR\r", &l,
                     &err), HUB_OK);
    /* an SSN the SSA never issues, left out, is no identifier (a first
     * repetition still counts as sent, below in reads_pid_3_...) */
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "PID|1||~123456789^^^SSA^SS\r",
                     &l, &err), HUB_EINVALID);
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "PID|1|E1|~M2^^^X^MR\r", &l,
                     &err), HUB_OK);
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "PID|1||~M2|A1\r", &l, &err),
                 HUB_OK);
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "PID|1||M1~M2\r", &l, &err),
                 HUB_OK);
    cr_assert_eq(run("MSH|^~\\&|A|F|H|H|2026||ADT^A01||P|2.5\r" PID, &l,
                     &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "MSH-10");
}

Test(hl7_to_events, converts_hl7_timestamps_keeping_precision_and_offset)
{
    static const struct {
        char in[32], want[40];
    } ts[] = {
        { "2026", "2026" },
        { "202601", "2026-01" },
        { "20260115", "2026-01-15" },
        { "2026011509", "2026-01-15T09:00:00" },
        { "202601150930", "2026-01-15T09:30:00" },
        { "202601150930-0500", "2026-01-15T09:30:00-05:00" },
        { "20260115093001", "2026-01-15T09:30:01" },
        { "20260115093001.1234+0530", "2026-01-15T09:30:01.1234+05:30" },
        { "20260115093001+0000", "2026-01-15T09:30:01+00:00" },
    };
    for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++) {
        char msg[2048];
        snprintf(msg, sizeof(msg),
                 MSH("ADT^A01", "2.5") "EVN|A01|%s\r" PID "PV1|1|I\r",
                 ts[k].in);
        cJSON *j = event_of(msg);
        cr_assert_str_eq(str_at(j, "occurred_at", NULL), ts[k].want, "%s",
                         ts[k].in);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(j, "warnings"));
        cJSON_Delete(j);
    }
}

Test(hl7_to_events, warns_and_omits_malformed_timestamps)
{
    static const char *bad[] = { "2026011", "20261315", "20260132",
                                 "202601152400", "202601150960",
                                 "20260115093000+05", "2026/01/15",
                                 "20260115093000.+0000", "2026011509300X",
                                 "202601150930.5",
                                 /* two signs, a sign too early, a fraction
                                  * after the offset or twice, too long */
                                 "20260115093000+0500+", "202-0115",
                                 "20260115093000+05.0",
                                 "20260115093000.1.2+0000",
                                 "20260115093000.123456" };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        char msg[2048];
        /* EVN-2 is bad and MSH-7 good: occurred_at falls back to MSH-7 */
        snprintf(msg, sizeof(msg), MSH("ADT^A01", "2.5") "EVN|A01|%s\r"
                 "PID|1||MRN1^^^FAC^MR||Doe^Jo||%s\r", bad[k], bad[k]);
        cJSON *j = event_of(msg);
        cr_assert_str_eq(str_at(j, "occurred_at", NULL),
                         "2026-01-15T09:30:00", "%s", bad[k]);
        cr_assert_null(str_at(j, "patient", "birth_date"), "%s", bad[k]);
        char *s = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(j, "warnings"));
        cr_assert(s && strstr(s, "\"EVN-2\"") && strstr(s, "\"PID-7\""),
                  "%s: warnings %s", bad[k], s ? s : "(none)");
        free(s);
        cJSON_Delete(j);
    }
}

/* The ISO 8601 extended form in a DTM field (the NHS Wales PAS: MSH-7
 * "2025-05-05 23:23:32", PID-29 "2024-12-31"; tests/data/real/hl7v2/
 * dhcw_phw_a31_iso_dates.hl7) is read as the DTM it spells, with a
 * warning that names the field; any other punctuation, order or range
 * stays unread, as a malformed DTM. */
static const char *warnings_of(const char *msg);

/* A DTM ending in an offset sign with no offset after it, as NHS Wales's
 * PIMS sends its dates (PID-7 "20000101+^D", tests/data/real/hl7v2/r78-
 * dhcw_pims_a08_v231_ts_plus_precision_no_nhs_number.hl7): read as the
 * value before the sign, with a warning; a sign with part of an offset is
 * still no HL7 date. */
Test(hl7_to_events, reads_a_dtm_ending_in_a_bare_offset_sign_with_a_warning)
{
    const char *msg = MSH("ADT^A08", "2.3.1")
        "EVN||20241231101035-\r"
        "PID|1||X1^^^F^PI||Doe^Jo||20000101+^D|F\rPV1|1|I\r";
    cJSON *j = event_of(msg);
    cr_assert_str_eq(str_at(j, "patient", "birth_date"), "2000-01-01");
    cr_assert_str_eq(str_at(j, "occurred_at", NULL), "2024-12-31T10:10:35");
    cr_assert_str_eq(warnings_of(msg),
                     "EVN-2:timestamp ends in an offset sign without an "
                     "offset: read as the time before it;"
                     "PID-7:date ends in an offset sign without an offset: "
                     "read as the date before it;");
    cJSON_Delete(j);

    /* part of an offset, a year cut short, a second sign: no HL7 date */
    static const char *const bad[] = { "20000101+01", "2000-", "200001-",
                                       "20000101+0100+", "2000-01-01-" };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        char m[512];
        snprintf(m, sizeof(m), MSH("ADT^A08", "2.3.1")
                 "PID|1||X1^^^F^PI||Doe^Jo||%s|F\rPV1|1|I\r", bad[k]);
        j = event_of(m);
        cr_assert_null(str_at(j, "patient", "birth_date"), "%s", bad[k]);
        cr_assert_str_eq(warnings_of(m), "PID-7:date is not an HL7 date;",
                         "%s", bad[k]);
        cJSON_Delete(j);
    }
}

Test(hl7_to_events, reads_an_iso_8601_extended_time_with_a_warning)
{
    static const struct {
        char in[40], want[40];
    } ok[] = {
        { "2026-01-15", "2026-01-15" },
        { "2026-01", "2026-01" },
        { "2025-05-05 23:23:32", "2025-05-05T23:23:32" },
        { "2025-05-05T23:23", "2025-05-05T23:23:00" },
        { "2025-05-05T23:23:32.1234+01:00", "2025-05-05T23:23:32.1234+01:00" },
        { "2025-05-05T23:23:32Z", "2025-05-05T23:23:32+00:00" },
        { "2025-05-05T23:23-0500", "2025-05-05T23:23:00-05:00" },
    };
    for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
        char msg[2048];
        snprintf(msg, sizeof(msg), MSH("ADT^A01", "2.5") "EVN|A01|%s\r"
                 "PID|1||MRN1^^^FAC^MR||Doe^Jo||19800131|F||||||||||||||||"
                 "|||||%s\rPV1|1|I\r", ok[k].in, ok[k].in);
        cJSON *j = event_of(msg);
        cr_assert_str_eq(str_at(j, "occurred_at", NULL), ok[k].want, "%s",
                         ok[k].in);
        cr_assert_str_eq(str_at(j, "patient", "deceased_at"), ok[k].want,
                         "%s", ok[k].in);
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg),
                         "EVN-2:timestamp in ISO 8601 form, not an HL7 DTM: "
                         "read as the time it spells;"
                         "PID-29:timestamp in ISO 8601 form, not an HL7 DTM: "
                         "read as the time it spells;", "%s", ok[k].in);
    }
    cr_assert_str_eq(warnings_of(MSH("ADT^A01", "2.5")
                                 "PID|1||MRN1^^^FAC^MR||Doe^Jo||1980-01-31\r"
                                 "PV1|1|I\r"),
                     "PID-7:date in ISO 8601 form, not an HL7 date: read as "
                     "the date it spells;");

    static const char *bad[] = {
        "2025-13-05", "2025-05-32", "2025-05-05T24:00", "2025-05-05T23:60",
        "2025-05-05 23:23:32.12345", "2025-05-05T", "2025-05-05T23",
        "2025/05/05", "05-05-2025", "2025-5-5", "2025-05-05Z",
        "2025-05-05T23:23:32+01", "2025-05-05T23:23:32+01:0x",
        "2025-05-05  23:23", "2025-05-05T23:23:32.", "2025-05-05T23:23:32Z0",
        "2025-05-05t23:23", "2025-05-05T23:23:32+15:00", "2025-05-05-0500",
        "2025-05-05T23:23:32+01000", "2025-05-05T23:23:32+01:00:00",
        "-2025-05-05", "2025-05-05T23:23:32.1234+01:00Z", "2025-",
        "2025-05-05T23:23:32.123456789012345+01:00",
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        char msg[2048];
        snprintf(msg, sizeof(msg), MSH("ADT^A01", "2.5") "EVN|A01|%s\r"
                 "PID|1||MRN1^^^FAC^MR||Doe^Jo||19800131\r", bad[k]);
        cJSON *j = event_of(msg);
        cr_assert_str_eq(str_at(j, "occurred_at", NULL),
                         "2026-01-15T09:30:00", "%s", bad[k]);
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg),
                         "EVN-2:timestamp is not an HL7 DTM;"
                         "PV1:required segment PV1 is missing;", "%s",
                         bad[k]);
    }
}

/* YYYYMMDDHHMMSS+ZZZZ, the shape most senders use, is checked and written
 * in straight line: at each bound it is taken, one past it refused, as by
 * the general reading; a birth date in that shape keeps its date. */
Test(hl7_to_events, reads_the_common_timestamp_shape_at_its_bounds)
{
    static const struct {
        char in[32], want[40];
    } ts[] = {
        { "20261231235960+1459", "2026-12-31T23:59:60+14:59" },
        { "20260101000000-0000", "2026-01-01T00:00:00-00:00" },
        { "00000101000000+0000", "0000-01-01T00:00:00+00:00" },
        { "20261301000000+0000", "" }, { "20260001000000+0000", "" },
        { "20260100000000+0000", "" }, { "20260132000000+0000", "" },
        { "20260101240000+0000", "" }, { "20260101006000+0000", "" },
        { "20260101000061+0000", "" }, { "20260101000000+1500", "" },
        { "20260101000000+0060", "" }, { "2026010100000a+0000", "" },
        { "20260101000000*0000", "" }, { "20260101000000+00a0", "" },
    };
    for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++) {
        char msg[2048];
        snprintf(msg, sizeof(msg), MSH("ADT^A01", "2.5") "EVN|A01|%s\r"
                 "PID|1||MRN1^^^FAC^MR||Doe^Jo||%s\r", ts[k].in, ts[k].in);
        cJSON *j = event_of(msg);
        const char *birth = str_at(j, "patient", "birth_date");
        if (ts[k].want[0]) {
            cr_assert_str_eq(str_at(j, "occurred_at", NULL), ts[k].want,
                             "%s", ts[k].in);
            cr_assert(birth && strlen(birth) == 10 &&
                          strncmp(birth, ts[k].want, 10) == 0,
                      "%s: birth_date %s", ts[k].in, birth ? birth : "-");
        } else {
            /* EVN-2 refused: occurred_at falls back to MSH-7 */
            cr_assert_str_eq(str_at(j, "occurred_at", NULL),
                             "2026-01-15T09:30:00", "%s", ts[k].in);
            cr_assert_null(birth, "%s", ts[k].in);
        }
        cJSON_Delete(j);
    }
}

Test(hl7_to_events, prefers_evn_6_then_evn_2_then_msh_7)
{
    cJSON *j = event_of(MSH("ADT^A01", "2.5")
                        "EVN|A01|20260101|||ID|20260202\r" PID);
    cr_assert_str_eq(str_at(j, "occurred_at", NULL), "2026-02-02");
    cJSON_Delete(j);
    j = event_of(MSH("ADT^A01", "2.5") "EVN|A01|20260101\r" PID);
    cr_assert_str_eq(str_at(j, "occurred_at", NULL), "2026-01-01");
    cJSON_Delete(j);
    j = event_of(MSH("ADT^A01", "2.5") PID);
    cr_assert_str_eq(str_at(j, "occurred_at", NULL), "2026-01-15T09:30:00");
    cJSON_Delete(j);
}

/* The event of an ADT^A01 with these DG1s, normalized with `d` (the
 * caller deletes it). */
static cJSON *a01_with(const struct dict *d, const char *dg1)
{
    char msg[2048];
    struct hl7_msg *m;
    struct canon_list l = { 0 };
    struct hub_err err;
    snprintf(msg, sizeof(msg), MSH("ADT^A01", "2.5") PID "PV1|1|I\r%s\r",
             dg1);
    cr_assert_eq(hl7_parse(&A, msg, strlen(msg), &m, &err), HUB_OK);
    cr_assert_eq(hl7_to_events_dict(&A, d, m, &l, NULL, &err), HUB_OK);
    cJSON *j = cJSON_ParseWithLength(l.ev[0].json.p, l.ev[0].json.len);
    cr_assert_not_null(j);
    return j;
}

/* The sensitivity labels of an ADT^A01 with these DG1s, normalized with
 * `d`, joined by commas ("" for none). */
static const char *labels_with(const struct dict *d, const char *dg1)
{
    static char out[128];
    cJSON *j = a01_with(d, dg1);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "sensitivity");
    out[0] = '\0';
    for (const cJSON *x = s ? s->child : NULL; x; x = x->next)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
                 x == s->child ? "" : ",", x->valuestring);
    cr_assert(s == NULL || out[0], "empty sensitivity");
    cJSON_Delete(j);
    return out;
}

/* The dictionary, loaded once a test process (hubd's labels come from
 * it: there is no other list of labelled codes). */
static const struct dict *project_dict(void)
{
    static struct dict *d;
    if (d == NULL)
        d = testdict_load();
    return d;
}

static int has_sud(const char *dg1)
{
    const char *l = labels_with(project_dict(), dg1);
    cr_assert(l[0] == '\0' || strcmp(l, "sud") == 0, "unexpected %s", l);
    return l[0] != '\0';
}

/* The domains of the diagnoses of an ADT^A01 with these DG1s, normalized
 * with `d`, joined by commas ("-" for a diagnosis without one). */
static const char *dg1_domains_with(const struct dict *d, const char *dg1)
{
    static char out[256];
    cJSON *j = a01_with(d, dg1);
    const cJSON *dx = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "encounter"), "diagnoses");
    out[0] = '\0';
    for (const cJSON *x = dx ? dx->child : NULL; x; x = x->next) {
        const char *v = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(x, "domain"));
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
                 x == dx->child ? "" : ",", v ? v : "-");
    }
    cJSON_Delete(j);
    return out;
}

/* A hospital's Z code (or SNOMED CT finding) names its SDOH domain as a
 * clinic's FHIR Condition does: the one dictionary (zcodes.json,
 * snomed-domains.json) for every adapter. */
Test(hl7_to_events, diagnoses_name_their_sdoh_domain_from_the_dictionary)
{
    const struct dict *d = project_dict();
    cr_assert_str_eq(dg1_domains_with(d, "DG1|1||Z59.00^Homeless^I10|||F"),
                     "homelessness");
    cr_assert_str_eq(dg1_domains_with(d, "DG1|1||Z5941^x^ICD10"),
                     "food-insecurity");
    cr_assert_str_eq(dg1_domains_with(d, "DG1|1|I10|Z59.41"),   /* DG1-2 */
                     "food-insecurity");
    cr_assert_str_eq(dg1_domains_with(d, "DG1|1||Z59.0"),   /* no system */
                     "homelessness");
    cr_assert_str_eq(dg1_domains_with(d, "DG1|1||32911000^Homeless^SCT"),
                     "homelessness");
    cr_assert_str_eq(dg1_domains_with(d, "DG1|1||733423003^x^SNM"),
                     "food-insecurity");
    /* the alternate code when the first names none */
    cr_assert_str_eq(dg1_domains_with(d, "DG1|1||4711^x^L^Z59.0^x^I10"),
                     "homelessness");
    cr_assert_str_eq(dg1_domains_with(d, "DG1|1||E11.9^Diabetes^I10\r"
                                         "DG1|2||Z56.0^x^I10"),
                     "-,employment-status");
    /* a code no row names, another system, a local Z code: none */
    cr_assert_str_eq(dg1_domains_with(d, "DG1|1||Z00.00^x^I10"), "-");
    cr_assert_str_eq(dg1_domains_with(d, "DG1|1||32911000^x^L"), "-");
    cr_assert_str_eq(dg1_domains_with(d, "DG1|1||Z59.0^x^99LOCAL"), "-");
    cr_assert_str_eq(dg1_domains_with(d, "DG1|1||Z59.0^x^I9"), "-");
    /* without a dictionary, no domain */
    cr_assert_str_eq(dg1_domains_with(NULL, "DG1|1||Z59.0^x^I10"), "-");
}

Test(hl7_to_events, labels_icd10_f10_to_f19_diagnoses_sud)
{
    cr_assert(has_sud("DG1|1||F10.20^Alcohol dependence^I10"));
    cr_assert(has_sud("DG1|1||F19^Other^I10C"));
    cr_assert(has_sud("DG1|1||F1120^Opioid^ICD10"));
    cr_assert(has_sud("DG1|1||F12.9^x^2.16.840.1.113883.6.90"));
    cr_assert(has_sud("DG1|1|I10|F15.10^Stimulant"));    /* DG1-2 method */
    cr_assert(has_sud("DG1|1||F10.1"));                   /* no system: safe */
    cr_assert(has_sud("DG1|1||E11.9^Diabetes^I10\rDG1|2||F14.20^x^I10"));
    cr_assert(!has_sud("DG1|1||F09^x^I10"));
    cr_assert(!has_sud("DG1|1||F1^x^I10"));
    cr_assert(!has_sud("DG1|1||F10.20^x^SCT"));   /* another code system */
    cr_assert(!has_sud("DG1|1||F10.20^x^I9"));
    /* F44: the alternate code of a CE/CWE (components 4-6) */
    cr_assert(has_sud("DG1|1||4711^Alcohol dep^L^F10.20^Alcohol dep^I10"));
    cr_assert(has_sud("DG1|1||4711^x^99LOC^F1120"));
    cr_assert(has_sud("DG1|1||4711^x^L^303.90^x^I9CM"));
    cr_assert(!has_sud("DG1|1||4711^x^L^E11.9^Diabetes^I10"));
    cr_assert(!has_sud("DG1|1||4711^x^L^F10.20^x^SCT"));
    cr_assert(has_sud("DG1|1||4711^x^L^F10.20^x"), "no system: safe");
    /* F59: ICD-10's URIs and urn:oid: forms, as a feed converted from FHIR
     * writes them (the list held the URIs in lower case against an
     * upper-casing compare, so they never matched) */
    cr_assert(has_sud("DG1|1||F10.20^x^http://hl7.org/fhir/sid/icd-10-cm"));
    cr_assert(has_sud("DG1|1||F11.20^x^http://hl7.org/fhir/sid/icd-10"));
    cr_assert(has_sud("DG1|1||F12.9^x^urn:oid:2.16.840.1.113883.6.90"));
    cr_assert(has_sud("DG1|1||F19^x^icd-10-cm"));
    cr_assert(!has_sud("DG1|1||F10.20^x^http://hl7.org/fhir/sid/icd-9-cm"));
}

/* DG1-6 is IS to v2.5 and CWE from v2.6: the type is its first component,
 * never the raw field with its separators. A variant of every corpus
 * message with "^^" after its composite fields found the raw one
 * (hl7v2_variants_test.c). */
Test(hl7_to_events, reads_the_diagnosis_type_of_v2_6_as_a_code)
{
    cJSON *j = event_of(MSH("ADT^A01", "2.8") PID
                        "PV1|1|I\r"
                        "DG1|1||E11.9^Diabetes^I10||20260101|A^Admitting^HL70052\r"
                        "DG1|2||I10^Hypertension^I10||20260101|W^^\r");
    const cJSON *dg = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "encounter"), "diagnoses");
    cr_assert_eq(cJSON_GetArraySize(dg), 2);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(dg, 0), "type", NULL), "A");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(dg, 1), "type", NULL), "W");
    cJSON_Delete(j);
}

/* F602: DG1-4 (description, ST) and DG1-2 (coding method, ID) have no
 * components; Auriga's Infinity A01 sends "Appendicitis^Inflammation of
 * Veriform Appendix" in DG1-4. The display was the raw field, the
 * sender's component separator in it (so "$" under other delimiters);
 * now the first component, as HL7 has receivers ignore components they
 * do not expect. */
Test(hl7_to_events, reads_dg1_description_and_coding_method_up_to_a_component)
{
    static const char *const msgs[] = {
        "MSH|^~\\&|HIS||Infinity||199903291650||ADT^A01|C1|P|2.4\r"
        "PID|||M1||Smith^Wally\rPV1||I\r"
        "DG1|24232|I10^ICD-10|01|Appendicitis^Inflammation of Veriform "
        "Appendix||A\r",
        "MSH$^~\\&$HIS$$Infinity$$199903291650$$ADT^A01$C1$P$2.4\r"
        "PID$$$M1$$Smith^Wally\rPV1$$I\r"
        "DG1$24232$I10^ICD-10$01$Appendicitis^Inflammation of Veriform "
        "Appendix$$A\r",
        "MSH|$~\\&|HIS||Infinity||199903291650||ADT$A01|C1|P|2.4\r"
        "PID|||M1||Smith$Wally\rPV1||I\r"
        "DG1|24232|I10$ICD-10|01|Appendicitis$Inflammation of Veriform "
        "Appendix||A\r",
    };
    for (size_t k = 0; k < sizeof(msgs) / sizeof(msgs[0]); k++) {
        cJSON *j = event_of(msgs[k]);
        const cJSON *dg = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(j, "encounter"),
                "diagnoses"), 0);
        cr_assert_str_eq(str_at(dg, "code", NULL), "01", "%zu", k);
        cr_assert_str_eq(str_at(dg, "display", NULL), "Appendicitis", "%zu",
                         k);
        cr_assert_str_eq(str_at(dg, "system", NULL), "I10", "%zu", k);
        cJSON_Delete(j);
    }
}

/* tests/data/real/SOURCES.md F36: the ICD-9-CM codes F10-F19 replaced
 * (291-292, 303-305), which v2.3/2.4 feeds sent until October 2015, in a
 * system that names ICD-9 */
Test(hl7_to_events, labels_icd9_cm_substance_use_diagnoses_sud)
{
    cr_assert(has_sud("DG1|1||303.90^Alcohol dependence^I9"));
    cr_assert(has_sud("DG1|1|I9|304.00^Opioid dependence"));  /* DG1-2 */
    cr_assert(has_sud("DG1|1||30500^Alcohol abuse^ICD9"));
    cr_assert(has_sud("DG1|1||291.81^Alcohol withdrawal^I9C"));
    cr_assert(has_sud("DG1|1||292.0^x^2.16.840.1.113883.6.103"));
    cr_assert(has_sud("DG1|1||305.1^Tobacco use disorder^ICD-9-CM"));
    cr_assert(has_sud("DG1|1||786.50^Chest pain^I9\rDG1|2||304.90^x^I9"));
    cr_assert(!has_sud("DG1|1||303.90"), "a bare number is no ICD-9 code");
    cr_assert(!has_sud("DG1|1||786.50^Chest pain^I9"));
    cr_assert(!has_sud("DG1|1||299.00^Autistic disorder^I9"));
    cr_assert(!has_sud("DG1|1||315.9^Developmental delay^I9"));
    cr_assert(!has_sud("DG1|1||290.0^Senile dementia^I9"));
    cr_assert(!has_sud("DG1|1||303X^x^I9"));
    cr_assert(!has_sud("DG1|1||303.90^x^I10"));
    cr_assert(!has_sud("DG1|1||3039^x^L"));
}

/* tests/data/real/SOURCES.md F153: an ICD-9-CM psychiatric diagnosis is
 * psy as its ICD-10-CM successor is (the dictionary's F20-F48, F50-F69,
 * F90-F99, R45.851): ICD-9-CM 295-298, 300-302, 306-309, 311-314, 316 and
 * V62.84; not dementia and the other organic disorders, autism and the
 * developmental delays, or intellectual disability, as in ICD-10. */
Test(hl7_to_events, labels_icd9_cm_psychiatric_diagnoses_psy)
{
    const struct dict *d = project_dict();
    static const char *const psy[] = {
        "295.30", "29620", "296.89", "297.1", "298.9", "300.02", "300.4",
        "301.83", "302.85", "306.1", "307.1", "307.51", "308.3", "309.81",
        "311", "312.34", "313.81", "314.01", "316", "V62.84", "v6284",
    };
    static const char *const none[] = {
        "290.0", "293.0", "294.10", "299.00", "310.1", "315.9", "317",
        "319", "V62.8", "V62.89", "V62", "786.50", "31X",
    };
    char dg1[96];
    for (size_t i = 0; i < sizeof(psy) / sizeof(psy[0]); i++) {
        snprintf(dg1, sizeof(dg1), "DG1|1||%s^x^I9CDX|||F", psy[i]);
        cr_expect_str_eq(labels_with(d, dg1), "psy", "%s", dg1);
        snprintf(dg1, sizeof(dg1), "DG1|1||%s^x^I9", psy[i]);
        cr_expect_str_eq(labels_with(NULL, dg1), "psy", "no dict: %s", dg1);
    }
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        snprintf(dg1, sizeof(dg1), "DG1|1||%s^x^I9", none[i]);
        cr_expect_str_eq(labels_with(d, dg1), "", "%s", dg1);
    }
    /* with its substance use code, both labels, in the order met */
    cr_expect_str_eq(labels_with(d, "DG1|1||311^Depression^I9\r"
                                    "DG1|2||303.90^Alcohol dependence^I9"),
                     "psy,sud");
    /* the same digits in ICD-10 or in no system are no ICD-9 code */
    cr_expect_str_eq(labels_with(d, "DG1|1||311^x^I10"), "");
    cr_expect_str_eq(labels_with(d, "DG1|1||V62.84^x^L"), "");
}

/* tests/data/real/SOURCES.md F152: table 0396's I9CDX ("ICD-9CM
 * diagnosis codes"), the name syndromic surveillance senders give ICD-9-CM
 * in every DG1 (NIST's test messages; an EHR's public health export), is
 * ICD-9-CM: its substance use codes are sud as under I9 */
Test(hl7_to_events, labels_icd9_cm_named_i9cdx_sud)
{
    cr_assert(has_sud("DG1|1||30500^Alcohol abuse^I9CDX|||W"));
    cr_assert(has_sud("DG1|1||303.90^Alcohol dependence^i9cdx|||F"));
    cr_assert(has_sud("DG1|1|I9CDX|304.00^Opioid dependence|||A"));
    cr_assert(has_sud("DG1|1||78900^Abdominal pain^I9CDX\r"
                      "DG1|2||29181^Alcohol withdrawal^I9CDX"));
    cr_assert(has_sud("DG1|1||4711^x^L^305.1^x^I9CDX"));
    cr_assert(!has_sud("DG1|1||78791^Diarrhea^I9CDX"));
    cr_assert(!has_sud("DG1|1||3039^x^I9CP"), "procedures: another table");
}

/* A DG1 coded in SNOMED CT (table 0396 SCT, or its OID) is a substance use
 * disorder when the dictionary's concept table (the eCQM value set
 * "Substance Use Disorder", security-labels-sud-snomed.json) has it, as in
 * FHIR and C-CDA; without a dictionary only ICD-9-CM is read. */
static int has_sud_with(const struct dict *d, const char *dg1)
{
    const char *l = labels_with(d, dg1);
    cr_assert(l[0] == '\0' || strcmp(l, "sud") == 0, "unexpected %s", l);
    return l[0] != '\0';
}

Test(hl7_to_events, labels_snomed_ct_substance_use_disorders_sud)
{
    struct dict *d = testdict_load();
    cr_expect(has_sud_with(d, "DG1|1||66590003^Alcohol dependence^SCT"));
    cr_expect(has_sud_with(d, "DG1|1|SCT|75544000^Opioid dependence"));
    cr_expect(has_sud_with(d, "DG1|1||5602001^x^2.16.840.1.113883.6.96"));
    cr_expect(has_sud_with(d, "DG1|1||44054006^Diabetes^SCT\r"
                              "DG1|2||191820008^x^SCT"));
    cr_expect(!has_sud_with(d, "DG1|1||44054006^Diabetes^SCT"));
    /* the value set's, not a guess: history of SUD is not in it */
    cr_expect(!has_sud_with(d, "DG1|1||1297194009^History of SUD^SCT"));
    cr_expect(!has_sud_with(d, "DG1|1||66590003^x^I10"));   /* not ICD */
    cr_expect(!has_sud_with(d, "DG1|1||66590003^x^L"));     /* local code */
    cr_expect(!has_sud_with(NULL, "DG1|1||66590003^x^SCT"));
    /* F36: SNOMED CT ids under the names feeds give it (SNM3: Google's
     * Simulated Hospital); an older edition's code is no SNOMED CT id */
    cr_expect(has_sud_with(d, "DG1|1||66590003^x^SNM"));
    cr_expect(has_sud_with(d, "DG1|1||66590003^x^SNM3"));
    cr_expect(has_sud_with(d, "DG1|1|SNOMED CT|75544000^Opioid dependence"));
    cr_expect(has_sud_with(d, "DG1|1||66590003^x^snomedct"));
    cr_expect(!has_sud_with(d, "DG1|1||D3-12000^x^SNM"));
    cr_expect(!has_sud_with(d, "DG1|1||44054006^Diabetes^SNM3"));
    cr_expect(has_sud_with(d, "DG1|1||4711^x^L^66590003^x^SCT"), "F44");
    cr_expect(has_sud_with(d, "DG1|1||F10.20^x^I10"), "ICD-10 as before");
    dict_free(d);
}

/* Every label a DG1 gets is the shared classifier's (dict_code_sensitivity,
 * what FHIR and C-CDA ask): the dictionary's hiv rows (ICD-10 B20, Z21)
 * label an ADT as they label a FHIR Condition, several DG1s give each
 * label once in the order met, and without a dictionary only ICD-9-CM
 * (compiled in, frozen) is labelled, as in FHIR. */
Test(hl7_to_events, labels_dg1_diagnoses_as_fhir_does)
{
    const struct dict *d = project_dict();
    cr_expect_str_eq(labels_with(d, "DG1|1||B20^HIV disease^I10"), "hiv");
    cr_expect_str_eq(labels_with(d, "DG1|1||Z21^HIV status^I10"), "hiv");
    cr_expect_str_eq(labels_with(d, "DG1|1|I10|B20.0^x"), "hiv"); /* DG1-2 */
    cr_expect_str_eq(labels_with(d, "DG1|1||B20"), "hiv");        /* no system */
    cr_expect_str_eq(labels_with(d, "DG1|1||z21^x^ICD-10-CM"), "hiv");
    cr_expect_str_eq(labels_with(d, "DG1|1||4711^x^L^B20^x^I10"), "hiv");
    cr_expect_str_eq(labels_with(d, "DG1|1||B20^x^I10\rDG1|2||F10.20^x^I10\r"
                                    "DG1|3||Z21^x^I10"), "hiv,sud");
    /* a code read up to the first byte no code has, on the safe side, as
     * HL7 read F1x before (and FHIR and C-CDA now) */
    cr_expect_str_eq(labels_with(d, "DG1|1||F10.2+^x^I10"), "sud");
    cr_expect_str_eq(labels_with(d, "DG1|1||B20!x^x^I10"), "hiv");
    cr_expect_str_eq(labels_with(d, "DG1|1||A54.00^x^I10"), "std");
    cr_expect_str_eq(labels_with(d, "DG1|1||B21^x^I10"), "");
    cr_expect_str_eq(labels_with(d, "DG1|1||Z22^x^I10"), "");
    cr_expect_str_eq(labels_with(d, "DG1|1||B20^x^SCT"), "");
    cr_expect_str_eq(labels_with(d, "DG1|1||B20^x^I9"), "");
    /* the same answer as FHIR's for each code and system */
    static const char *const codes[] = { "B20", "Z21", "F10.20", "F19",
        "E11.9", "Z59.0", "303.90", "66590003", "44054006" };
    static const char *const sys[][2] = {
        { "I10", "http://hl7.org/fhir/sid/icd-10-cm" },
        { "I9", "http://hl7.org/fhir/sid/icd-9-cm" },
        { "SCT", "http://snomed.info/sct" },
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        for (size_t k = 0; k < sizeof(sys) / sizeof(sys[0]); k++) {
            char dg1[128];
            snprintf(dg1, sizeof(dg1), "DG1|1||%s^x^%s", codes[i], sys[k][0]);
            const char *want = dict_code_sensitivity(
                d, slice_from_cstr(sys[k][1]), slice_from_cstr(codes[i]));
            cr_expect_str_eq(labels_with(d, dg1), want ? want : "", "%s", dg1);
        }
    /* no dictionary: ICD-9-CM only */
    cr_expect_str_eq(labels_with(NULL, "DG1|1||303.90^x^I9"), "sud");
    cr_expect_str_eq(labels_with(NULL, "DG1|1||F10.20^x^I10"), "");
    cr_expect_str_eq(labels_with(NULL, "DG1|1||B20^x^I10"), "");
}

Test(hl7_to_events, makes_one_merge_event_per_pid_mrg_group)
{
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run(MSH("ADT^A40^ADT_A39", "2.5")
                     "PID|1||NEW1^^^FAC^MR\rMRG|OLD1^^^FAC^MR\r"
                     "PID|1||NEW2^^^FAC^MR\rMRG|OLD2^^^FAC^MR~OLD3\r",
                     &l, &err), HUB_OK);
    cr_assert_eq(l.n, 2);
    cJSON *a = cJSON_ParseWithLength(l.ev[0].json.p, l.ev[0].json.len);
    cJSON *b = cJSON_ParseWithLength(l.ev[1].json.p, l.ev[1].json.len);
    const cJSON *pa = cJSON_GetObjectItemCaseSensitive(a, "patient");
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(b, "patient");
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
                         pa, "identifiers"), 0)->child->valuestring, "NEW1");
    cr_assert_eq(cJSON_GetArraySize(
                     cJSON_GetObjectItemCaseSensitive(pa, "merged_from")), 1);
    cr_assert_eq(cJSON_GetArraySize(
                     cJSON_GetObjectItemCaseSensitive(pb, "merged_from")), 2);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/* F42: a merge that names nothing merged (no MRG, or an MRG without
 * MRG-1 and MRG-4) is refused, as a message without PID is: no subscriber
 * can apply it; one such group of an A40 refuses the whole message */
Test(hl7_to_events, refuses_a_merge_that_names_no_prior_identifier)
{
    struct canon_list l;
    struct hub_err err;
    static const char *const trig[] = { "A40", "A34", "A39", "A47" };
    for (size_t k = 0; k < sizeof(trig) / sizeof(trig[0]); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg), MSH("ADT^%s", "2.5") PID, trig[k]);
        cr_assert_eq(run(msg, &l, &err), HUB_EINVALID, "%s", trig[k]);
        cr_assert_str_eq(err.field, "MRG");
        cr_assert_str_eq(err.what, "required segment MRG is missing");
        cr_assert_eq(l.n, 0);
        snprintf(msg, sizeof(msg), MSH("ADT^%s", "2.5") PID "MRG|\"\"||V9\r",
                 trig[k]);
        cr_assert_eq(run(msg, &l, &err), HUB_EINVALID, "%s", trig[k]);
        cr_assert_str_eq(err.field, "MRG-1");
    }
    cr_assert_eq(run(MSH("ADT^A40^ADT_A39", "2.5")
                     "PID|1||NEW1^^^FAC^MR\rMRG|OLD1^^^FAC^MR\r"
                     "PID|1||NEW2^^^FAC^MR\rMRG|||V2\r", &l, &err),
                 HUB_EINVALID);
    cr_assert_eq(l.n, 0, "no event of the first group is left");
    /* MRG-4 alone, or MRG-1 after an empty repetition, names one */
    cr_assert_eq(run(MSH("ADT^A40", "2.5") PID "MRG||||OLD4^^^F^PI\r", &l,
                     &err), HUB_OK);
    cr_assert_eq(run(MSH("ADT^A40", "2.5") PID "MRG|~OLD1^^^F^MR\r", &l,
                     &err), HUB_OK);
}

/* The identifiers of `ids`, "value|system" joined by ';', into out. */
static void ids_joined(const cJSON *ids, char *out, size_t size)
{
    const cJSON *id;
    out[0] = 0;
    cJSON_ArrayForEach(id, ids) {
        const char *sys = str_at(id, "system", NULL);
        size_t n = strlen(out);
        snprintf(out + n, size - n, "%s|%s;", str_at(id, "value", NULL),
                 sys ? sys : "");
    }
}

/* The values of merged_from, "value|system" joined by ';'. */
static const char *merged_from_of(const char *msg)
{
    static char out[512];
    cJSON *j = event_of(msg);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "merged_from");
    ids_joined(m, out, sizeof(out));
    cJSON_Delete(j);
    return out;
}

/* merged_from is what the merge retired, and only that. MRG-2 (prior
 * alternate patient id, PID-4's counterpart) is read as MRG-1 and MRG-4
 * are: an A48 names the wrong alternate id there (HL7 v2.5 3.3.48), and
 * Cerner's A34 sends the retired patient's alternate id there (mps-gmbh's
 * HNAM_PM test message, tests/data/real/hl7v2/
 * r18-mps_hnam_a34_no_version.hl7). An id the PID still carries is the
 * patient's, not merged away: HL7 v2.5 3.3.40 and 3.3.48 send the
 * superior identifiers "with the same value in both the PID and MRG
 * segments" (an A48 names PID-3's id in MRG-1, an A40 may give PID-2's in
 * MRG-4); written in merged_from they would tell subscribers to retire
 * the surviving patient's own id. A merge whose every prior id is kept is
 * refused: nothing was merged. */
Test(hl7_to_events, merged_from_names_only_the_identifiers_merged_away)
{
    /* A48: PID-4 changed; MRG-1 repeats PID-3 */
    cr_assert_str_eq(merged_from_of(MSH("ADT^A48^ADT_A30", "2.5")
                                    "PID|1||M1^^^H^MR|ALT2^^^H\r"
                                    "MRG|M1^^^H^MR|ALT1^^^H\r"),
                     "ALT1|H;");
    /* A40 with the superior external id in both PID-2 and MRG-4 */
    cr_assert_str_eq(merged_from_of(MSH("ADT^A40^ADT_A39", "2.5")
                                    "PID|1|E1^^^X|M1^^^H^MR\r"
                                    "MRG|M2^^^H^MR|||E1^^^X\r"),
                     "M2|H;");
    /* Cerner's A34: MRG-1 and the retired alternate id in MRG-2 */
    cr_assert_str_eq(
        merged_from_of(MSH("ADT^A34", "2.3")
                       "PID|1||3790333^^^MSH_MRN^MRN^MTSN|Q3790333^^^MSQ_MRN"
                       "^KMRN||EVERYMAN^ADAM\r"
                       "MRG|3150123^^^MSH_MRN^MRN^MTSN|Q3150123\r"),
        "3150123|MSH_MRN;Q3150123|;");
    /* the same value under another authority is another id */
    cr_assert_str_eq(merged_from_of(MSH("ADT^A40", "2.5")
                                    "PID|1||M1^^^H^MR\rMRG|M1^^^K^MR\r"),
                     "M1|K;");
    /* nothing merged: refused, and said why */
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run(MSH("ADT^A40", "2.5")
                     "PID|1||M1^^^H^MR\rMRG|M1^^^H^MR\r", &l, &err),
                 HUB_EINVALID);
    cr_assert_str_eq(err.field, "MRG-1");
    cr_assert_str_eq(err.what, "prior patient identifier is one the patient "
                               "keeps: nothing was merged");
    cr_assert_eq(l.n, 0);
}

/* The prior ids of a merge as PID's are judged (F842): one that links
 * no one (an account's number, a national number that fails its check,
 * a placeholder, an SSN the SSA never issues, marks alone) is kept in
 * merged_from, marked inactive, so that the merge passes it by
 * (hub_merge_patient): merged on, it merged whoever held the number into
 * the survivor. An SSN is written as PID's is (nine digits, us-ssn), so a
 * merge finds the patient recorded under it. */
Test(hl7_to_events, merged_from_marks_the_prior_ids_that_link_no_one)
{
    static const struct {
        char mrg[64], want[64];
        bool inactive;
    } c[] = {
        { "ACC77^^^H^AN", "ACC77|H;", true },
        { "7000000001^^^NHS^NH", "7000000001|NHS;", true },
        { "2222222222^^^^JHN", "2222222222|;", true },
        { "123456789^^^USSSA^SS", "123456789|USSSA;", true },
        { "***^^^H^MR", "***|H;", true },
        { "444-22-2222^^^USSSA^SS",
          "444222222|http://hl7.org/fhir/sid/us-ssn;", false },
        { "M2^^^H^MR", "M2|H;", false },
        { "9434765919^^^NHS^NH", "9434765919|NHS;", false },
    };
    for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
        char msg[2048];
        snprintf(msg, sizeof(msg), MSH("ADT^A40^ADT_A39", "2.5")
                 "PID|1||M1^^^H^MR\rMRG|%s\r", c[k].mrg);
        cr_assert_str_eq(merged_from_of(msg), c[k].want, "%s", c[k].mrg);
        cJSON *j = event_of(msg);
        const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "patient"), "merged_from"), 0);
        cr_assert_eq(cJSON_IsTrue(cJSON_GetObjectItem(m, "inactive")),
                     c[k].inactive, "%s", c[k].mrg);
        cJSON_Delete(j);
    }
    cr_assert_str_eq(warnings_of(MSH("ADT^A40^ADT_A39", "2.5")
                                 "PID|1||M1^^^H^MR||D^J\r"
                                 "MRG|7000000001^^^NHS^NH\r"),
                     "MRG-1:NHS number fails its modulus 11 check; not "
                     "linked;");
}

/* tests/data/real/SOURCES.md F1341: F1141's label in CX.1 with the
 * number in CX.2 ("PP^N7356938", a passport) links no one in PID, and so
 * links no one in MRG either (F842's rule: a merge on "PP" would merge
 * whoever holds it into the survivor); a check digit of one or two
 * characters still merges on CX.1 as before. */
Test(hl7_to_events, merged_from_marks_a_label_with_its_number_in_the_check_digit)
{
    static const struct {
        const char *mrg, *want, *warns;
        bool inactive;
    } c[] = {
        { "PP^N7356938^^H^PI", "PP|H;",
          "MRG-1:identifier holds no number and its check digit does; not "
          "linked;", true },
        { "|||PP^N7356938^^H^PI", "PP|H;",
          "MRG-4:identifier holds no number and its check digit does; not "
          "linked;", true },
        { "ABC^1^M10^H^PI", "ABC|H;", "", false },
        { "A1^N7356938^^H^PI", "A1|H;", "", false },
    };
    for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
        char msg[2048];
        snprintf(msg, sizeof(msg), MSH("ADT^A40^ADT_A39", "2.5")
                 "PID|1||M1^^^H^MR||D^J\rMRG|%s\r", c[k].mrg);
        cr_assert_str_eq(merged_from_of(msg), c[k].want, "%s", c[k].mrg);
        cJSON *j = event_of(msg);
        const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "patient"), "merged_from"), 0);
        cr_assert_eq(cJSON_IsTrue(cJSON_GetObjectItem(m, "inactive")),
                     c[k].inactive, "%s", c[k].mrg);
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg), c[k].warns, "%s", c[k].mrg);
    }
}

/* One prior id sent in MRG-1 and again in MRG-4 is one id merged away:
 * ORBIS repeats MRG-1 in MRG-4 as it repeats PID-3 in PID-2
 * (r23-diz-unimr_orbis_a40_blank_phone.hl7), and merged_from held it
 * twice. The same value under another authority is still another id. */
Test(hl7_to_events, merged_from_writes_an_id_sent_twice_once)
{
    cr_assert_str_eq(merged_from_of(MSH("ADT^A40^ADT_A39", "2.5")
                                    "PID|1|1234567|1234567\r"
                                    "MRG|09876543|||09876543\r"),
                     "09876543|;");
    cr_assert_str_eq(merged_from_of(MSH("ADT^A40^ADT_A39", "2.5")
                                    "PID|1||M1^^^H^MR\r"
                                    "MRG|M2^^^H^MR~M2^^^K^MR|M2^^^K||M2^^^H\r"),
                     "M2|H;M2|K;");
}

Test(hl7_to_events, writes_unescaped_values_as_json_strings)
{
    cJSON *j = event_of(MSH("ADT^A08", "2.5")
                        "PID|1||A\\F\\B^^^FAC^MR||O\\T\\Brien\\S\\X^\"Jo\\E\\\"\r");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "patient");
    const cJSON *id = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(p, "identifiers"), 0);
    cr_assert_str_eq(str_at(id, "value", NULL), "A|B");
    const cJSON *n = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(p, "names"), 0);
    cr_assert_str_eq(str_at(n, "family", NULL), "O&Brien^X");
    cr_assert_str_eq(cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(n, "given"), 0)->valuestring,
        "\"Jo\\\"");
    cJSON_Delete(j);
}

Test(hl7_to_events, maps_sex_and_patient_class_only_where_obvious)
{
    cJSON *j = event_of(MSH("ADT^A01", "2.5")
                        "PID|1||M1^^^F^MR||D^J||1980|A\rPV1|1|E\r");
    cr_assert_str_eq(str_at(j, "patient", "sex"), "O");
    cr_assert_str_eq(str_at(j, "encounter", "class"), "EMER");
    cr_assert_str_eq(str_at(j, "encounter", "patient_class"), "E");
    cJSON_Delete(j);
    j = event_of(MSH("ADT^A01", "2.5")
                 "PID|1||M1^^^F^MR||D^J||1980|9\rPV1|1|Z\r");
    cr_assert_null(str_at(j, "patient", "sex"));
    cr_assert_null(str_at(j, "encounter", "class"));
    cr_assert_str_eq(str_at(j, "encounter", "patient_class"), "Z");
    cJSON_Delete(j);
    /* F40: local codes of US feeds and the v3 codes themselves; the class
     * sent stays as sent */
    static const char *const pc[][2] = {
        { "ER", "EMER" },   { "ed", "EMER" },       { "EMER", "EMER" },
        { "OBS", "OBSENC" }, { "Observation", "OBSENC" },
        { "OBSENC", "OBSENC" }, { "IMP", "IMP" },   { "AMB", "AMB" },
    };
    for (size_t k = 0; k < sizeof(pc) / sizeof(pc[0]); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg), MSH("ADT^A01", "2.5") PID "PV1|1|%s\r",
                 pc[k][0]);
        j = event_of(msg);
        cr_assert_str_eq(str_at(j, "encounter", "class"), pc[k][1], "%s",
                         pc[k][0]);
        cr_assert_str_eq(str_at(j, "encounter", "patient_class"), pc[k][0]);
        cJSON_Delete(j);
    }
    j = event_of(MSH("ADT^A01", "2.5") PID "PV1|1|OB\r");
    cr_assert_null(str_at(j, "encounter", "class"), "OB is no OBS");
    cJSON_Delete(j);
}

/* Table 0004 to v3 ActEncounterCode as HL7's v2-to-FHIR ConceptMap
 * table-hl70004-to-v3-actcode has it: E, I, O and P map; R, B, C, N and U
 * stay in table 0004 (no class), the code kept in patient_class. */
Test(hl7_to_events, maps_patient_class_as_the_v2_to_fhir_concept_map)
{
    static const char *const pc[][2] = {
        { "E", "EMER" }, { "I", "IMP" }, { "O", "AMB" }, { "P", "PRENC" },
        { "R", NULL },   { "B", NULL },  { "C", NULL },  { "N", NULL },
        { "U", NULL },
    };
    for (size_t k = 0; k < sizeof(pc) / sizeof(pc[0]); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg), MSH("ADT^A01", "2.5") PID "PV1|1|%s\r",
                 pc[k][0]);
        cJSON *j = event_of(msg);
        if (pc[k][1])
            cr_expect_str_eq(str_at(j, "encounter", "class"), pc[k][1], "%s",
                             pc[k][0]);
        else
            cr_expect_null(str_at(j, "encounter", "class"), "%s", pc[k][0]);
        cr_expect_str_eq(str_at(j, "encounter", "patient_class"), pc[k][0]);
        cJSON_Delete(j);
    }
}

Test(hl7_to_events, never_puts_patient_data_in_errors_or_warnings)
{
    /* every value is the marker; each message breaks in another place */
    static const char *msgs[] = {
        "MSH|^~\\&|SECRETX|SECRETX|H|H|SECRETX||ADT^A01|SECRETX|P|2.5\r"
        "PID|1||SECRETX^^^SECRETX^MR||SECRETX^SECRETX||SECRETX|SECRETX\r"
        "PV1|1|SECRETX|SECRETX|||||||||||||||||||||||||||||||||||||||||SECRETX"
        "|SECRETX\r",
        "MSH|^~\\&|SECRETX|SECRETX|H|H|2026||ADT^SECRETX|SECRETX|P|2.5\r",
        "MSH|^~\\&|SECRETX|SECRETX|H|H|2026||SECRETX^A01|SECRETX|P|2.5\r",
        "MSH|^~\\&|SECRETX|SECRETX|H|H|2026||ADT^A01|SECRETX|P|SECRETX\r",
        "MSH|^~\\&|SECRETX|SECRETX|H|H|2026||ADT^A01|X|P|2.5\rSECRETX|1\r",
        "MSH|^~\\&|SECRETX|SECRETX|H|H|2026||ADT^A01|X|P|2.5\r"
        "PID|1||\"\"||SECRETX\r",
        "MSHSECRETX",
    };
    for (size_t k = 0; k < sizeof(msgs) / sizeof(msgs[0]); k++) {
        struct canon_list l;
        struct hub_err err;
        int rc = run(msgs[k], &l, &err);
        if (rc != HUB_OK) {
            cr_assert_not_null(err.what);
            cr_assert(strstr(err.what, "SECRET") == NULL, "msg %zu", k);
            cr_assert(strstr(err.field, "SECRET") == NULL, "msg %zu", k);
            continue;
        }
        cJSON *j = cJSON_ParseWithLength(l.ev[0].json.p, l.ev[0].json.len);
        char *w = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(j, "warnings"));
        cr_assert_not_null(w, "msg %zu: expected warnings", k);
        cr_assert(strstr(w, "SECRET") == NULL, "msg %zu: %s", k, w);
        free(w);
        cJSON_Delete(j);
    }
}

Test(hl7_to_events, handles_a_huge_field_within_and_beyond_the_event_limit)
{
    const char *head = MSH("ADT^A01", "2.5") PID "NTE|1|";
    size_t hl = strlen(head), big = 3u << 20;
    char *s = malloc(hl + big + 64);
    memcpy(s, head, hl);
    memset(s + hl, 'x', big);
    memcpy(s + hl + big, "\r", 2);
    struct canon_list l;
    struct hub_err err;
    /* a huge field the event does not carry costs nothing */
    cr_assert_eq(run(s, &l, &err), HUB_OK);
    cr_assert_lt(l.ev[0].json.len, 4096);
    /* a huge name would make a multi-megabyte event: refused, located */
    const char *head2 = MSH("ADT^A01", "2.5") "PID|1||M1^^^F^MR||";
    size_t h2 = strlen(head2);
    memcpy(s, head2, h2);
    memset(s + h2, 'y', big);
    memcpy(s + h2 + big, "\r", 2);
    cr_assert_eq(run(s, &l, &err), HUB_ELIMIT);
    cr_assert_not_null(err.what);
    free(s);
}

Test(hl7_to_events, takes_pid_12_county_for_the_first_address_only)
{
    cJSON *j = event_of(MSH("ADT^A08", "2.3")
                        "PID|1||M1^^^F^MR||D^J||||||1 A St^^X^NY~2 B St^^Y^NY|"
                        "C12\r");
    const cJSON *ad = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "addresses");
    cr_assert_eq(cJSON_GetArraySize(ad), 2);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ad, 0), "county", NULL), "C12");
    cr_assert_null(str_at(cJSON_GetArrayItem(ad, 1), "county", NULL));
    cJSON_Delete(j);
    /* XAD-9 wins over PID-12, and PID-12 never moves to a later address */
    j = event_of(MSH("ADT^A08", "2.5")
                 "PID|1||M1^^^F^MR||D^J||||||1 A St^^X^NY^^^^^C9~2 B St|C12\r");
    ad = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "addresses");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ad, 0), "county", NULL), "C9");
    cr_assert_null(str_at(cJSON_GetArrayItem(ad, 1), "county", NULL));
    cJSON_Delete(j);
}

/* IHE PAM France sends the birthplace as a PID-11 repetition of type BDL
 * (county code only): routing by county must not take it for where the
 * patient lives (tests/data/real/hl7v2/ansforge_admission.hl7). */
Test(hl7_to_events, leaves_birthplace_addresses_out)
{
    cJSON *j = event_of(MSH("ADT^A01", "2.5")
                        "PID|1||M1^^^F^MR||D^J||||||1 A St^^X^^75007^FRA^H~"
                        "^^^^^^BDL^^63220~^^Y^^^^BR^^C2~^^Z^^^^N~^^^^^FR^F\r");
    const cJSON *ad = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "addresses");
    cr_assert_eq(cJSON_GetArraySize(ad), 1, "birthplaces kept");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ad, 0), "city", NULL), "X");
    cr_assert_null(str_at(cJSON_GetArrayItem(ad, 0), "county", NULL));
    cJSON_Delete(j);
}

Test(hl7_to_events, reads_every_repetition_of_repeating_fields)
{
    cJSON *j = event_of(MSH("ADT^A08", "2.5")
                        "PID|1||A^^^F^MR~B^^^F^PI~~C^^^G||||||||"
                        "||1~2^PRN~3^^CP|4^WPN\r"
                        "PV1|1|I|||||7^X^Y~8^Z^W\r");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "patient");
    cr_assert_eq(cJSON_GetArraySize(
        cJSON_GetObjectItemCaseSensitive(p, "identifiers")), 3);
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(p, "phones");
    cr_assert_eq(cJSON_GetArraySize(ph), 4);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 2), "use", NULL),
                     "mobile");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 3), "use", NULL), "work");
    /* PV1-7 repeats one physician (reads_pv1_7_repetitions_as_one_
     * attending): the first */
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "encounter"), "attending")), 1);
    cJSON_Delete(j);
}

/* Values copied as they are must be plain: a byte JSON escapes anywhere in
 * a field (not only the escape character) sends the field's values through
 * the checking writer. Each such byte, in every place that is written. */
Test(hl7_to_events, escapes_json_special_bytes_in_every_written_value)
{
    static const struct {
        char in[8], out[8];
    } special[] = {
        { "\"", "\"" },     { "\t", "\t" },     { "\x01", "\x01" },
        { "\x7f", "\x7f" }, { "\xc3\xa9", "\xc3\xa9" },
        { "\xff", "\xef\xbf\xbd" },             { "\\", "\\" },
    };
    for (size_t k = 0; k < sizeof(special) / sizeof(special[0]); k++) {
        const char *s = special[k].in;
        char msg[4096], want[16];
        /* '#' is the escape character, so '\\' is an ordinary byte;
         * MSH-18 says UTF-8, so the 0xFF stays a byte that is not UTF-8
         * (a message without MSH-18 would be read as Windows-1252) */
        snprintf(msg, sizeof(msg),
                 "MSH|^~#&|A%sP|F%sC|H|H|2026||ADT^A01|C%sT|P|2.5|||||USA|"
                 "UNICODE UTF-8\r"
                 "PID|1||M%s1^^^F%sF^MR||D%sE^J%sO^Q%sQ||1980|F|||"
                 "1%sA^L%s2^C%sY^N%sY^1%s2^U%sS||5%s5\r"
                 "PV1|1|I%s|W%sX^1%s^B%s^F%sC||||7%s^F%sA^G%sV|||S%sV|||||||||"
                 "V%sN\r"
                 "DG1|1||C%s1^D%sS^I%s0\r",
                 s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s,
                 s, s, s, s, s, s, s, s);
        cJSON *j = event_of(msg);
        snprintf(want, sizeof(want), "A%sP", special[k].out);
        cr_assert_str_eq(str_at(j, "source", "sending_application"), want,
                         "byte %zu", k);
        snprintf(want, sizeof(want), "C%sT", special[k].out);
        cr_assert_str_eq(str_at(j, "source", "message_id"), want);
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "patient");
        const cJSON *n = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(p, "names"), 0);
        snprintf(want, sizeof(want), "D%sE", special[k].out);
        cr_assert_str_eq(str_at(n, "family", NULL), want);
        const cJSON *ad = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(p, "addresses"), 0);
        snprintf(want, sizeof(want), "C%sY", special[k].out);
        cr_assert_str_eq(str_at(ad, "city", NULL), want);
        const cJSON *ph = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(p, "phones"), 0);
        snprintf(want, sizeof(want), "5%s5", special[k].out);
        cr_assert_str_eq(str_at(ph, "value", NULL), want);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "encounter");
        snprintf(want, sizeof(want), "W%sX", special[k].out);
        cr_assert_str_eq(str_at(e, "location", "point_of_care"), want);
        snprintf(want, sizeof(want), "V%sN", special[k].out);
        cr_assert_str_eq(str_at(e, "visit_number", NULL), want);
        const cJSON *dg = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(e, "diagnoses"), 0);
        snprintf(want, sizeof(want), "D%sS", special[k].out);
        cr_assert_str_eq(str_at(dg, "display", NULL), want);
        cJSON_Delete(j);
    }
}

/* The warnings of a message, as hl7_to_events_warn gives them for the ACK,
 * "field:what;" each, in a static buffer. */
static const char *warnings_of(const char *msg)
{
    static char out[2048];
    struct hl7_msg *m;
    struct hl7_warnings w;
    struct canon_list l = { 0 };
    struct hub_err err = { 0 };
    cr_assert_eq(hl7_parse(&A, msg, strlen(msg), &m, &err), HUB_OK);
    cr_assert_eq(hl7_to_events_warn(&A, m, &l, &w, &err), HUB_OK,
                 "refused: %s", err.what ? err.what : "");
    size_t n = 0;
    out[0] = '\0';
    for (unsigned k = 0; k < w.n; k++)
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s:%s;",
                              w.w[k].field, w.w[k].what);
    return out;
}

/* MSH-18 in the IANA names an engine takes from its platform (HAPI hands
 * MSH-18 to Java's Charset.forName; EffortlessMetrics/hl7v2-rs's
 * legacy-encoding fixture declares "CP1252", tests/data/real/hl7v2/
 * r64-hl7v2rs_legacy_a04_v23_cp1252_no_evn.hl7) is read as the table 0211
 * code of the same set; a message that is not UTF-8 in a set the hub does
 * not read (8859/2, CP1250) keeps U+FFFD for its letters, and says so
 * (SOURCES.md F460). */
Test(hl7_to_events, reads_msh18_iana_latin_names_and_warns_of_unread_text)
{
    static const struct {
        char cs[16], family[16];
    } latin[] = {
        { "CP1252", "Pe\xc3\xb1" "a" },
        { "windows-1252", "Pe\xc3\xb1" "a" },
        { "ISO-8859-1", "Pe\xc3\xb1" "a" },
        { "latin1", "Pe\xc3\xb1" "a" },
        { "ISO-8859-15", "Pe\xc3\xb1" "a" },
    };
    for (size_t k = 0; k < sizeof(latin) / sizeof(latin[0]); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A04|C1|P|"
                 "2.3||||||%s\rEVN|A04\rPID|1||MRN1^^^FAC^MR||Pe\xf1" "a^Jo"
                 "\rPV1|1|O\r", latin[k].cs);
        cJSON *j = event_of(msg);
        const cJSON *name = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(j, "patient"), "names"), 0);
        cr_assert_str_eq(str_at(name, "family", NULL), latin[k].family,
                         "%s", latin[k].cs);
        cr_assert_str_eq(warnings_of(msg), "", "%s", latin[k].cs);
        cJSON_Delete(j);
    }
    /* the euro sign: 0xA4 in 8859-15, the currency sign in Latin-1 */
    cJSON *j = event_of("MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A04|"
                        "C1|P|2.3||||||Latin9\rEVN|A04\rPID|1||MRN1^^^FAC^"
                        "MR||A\xa4^Jo\rPV1|1|O\r");
    const cJSON *name = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "names"), 0);
    cr_assert_str_eq(str_at(name, "family", NULL), "A\xe2\x82\xac");
    cJSON_Delete(j);
    static const char *const unread[] = { "KS X 1001", "BIG-5", "UNICODE" };
    for (size_t k = 0; k < sizeof(unread) / sizeof(unread[0]); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A04|C1|P|"
                 "2.3||||||%s\rEVN|A04\rPID|1||MRN1^^^FAC^MR||Pe\xf1" "a^Jo"
                 "\rPV1|1|O\r", unread[k]);
        cr_assert_str_eq(warnings_of(msg),
                         "MSH-18:text is not UTF-8 nor in a character set "
                         "read here; letters past ASCII replaced;",
                         "%s", unread[k]);
        /* the same set declared, the text UTF-8 or ASCII: nothing to say */
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A04|C1|P|"
                 "2.3||||||%s\rEVN|A04\rPID|1||MRN1^^^FAC^MR||Pe\xc3\xb1"
                 "a^Jo\rPV1|1|O\r", unread[k]);
        cr_assert_str_eq(warnings_of(msg), "", "%s", unread[k]);
    }
}

/* F3560: a text declared UTF-8 (table 0211 "UNICODE UTF-8", the IANA
 * "UTF-8") with a stray byte that is no UTF-8 (kcenon/pacs_bridge's
 * MSG_INVALID_UTF8) was told "text is not UTF-8 nor in a character set
 * read here; letters past ASCII replaced": UTF-8 is read here, and only
 * the stray byte was replaced, its other letters kept. */
Test(hl7_to_events, warns_of_stray_bytes_in_text_declared_utf8)
{
    static const char *const utf8[] = { "UNICODE UTF-8", "UTF-8", "utf8",
                                         "Unicode UTF-8" };
    for (size_t k = 0; k < sizeof(utf8) / sizeof(utf8[0]); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A04|C1|P|"
                 "2.5||||||%s\rEVN|A04\rPID|1||MRN1^^^FAC^MR||M\xc3\x9c"
                 "LLER^JOHN\x80\rPV1|1|O\r", utf8[k]);
        cJSON *j = event_of(msg);
        const cJSON *name = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(j, "patient"), "names"), 0);
        cr_assert_str_eq(str_at(name, "family", NULL), "M\xc3\x9cLLER",
                         "%s", utf8[k]);
        cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(
                             cJSON_GetObjectItemCaseSensitive(name, "given"),
                             0)),
                         "JOHN\xef\xbf\xbd", "%s", utf8[k]);
        cr_assert_str_eq(warnings_of(msg),
                         "MSH-18:text declared UTF-8 has bytes that are not "
                         "UTF-8; each replaced;", "%s", utf8[k]);
        cJSON_Delete(j);
    }
    /* "UNICODE" alone names no encoding: a set not read, as before */
    cr_assert_str_eq(warnings_of("MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||"
                                 "ADT^A04|C1|P|2.3||||||UNICODE\rEVN|A04\r"
                                 "PID|1||MRN1^^^FAC^MR||JOHN\x80\rPV1|1|O\r"),
                     "MSH-18:text is not UTF-8 nor in a character set read "
                     "here; letters past ASCII replaced;");
}

/* F600: the single-byte sets of table 0211 past Latin-1 and Latin-9
 * ("8859/2" to "8859/9") and the Windows pages Central and Eastern
 * European senders name (an Eskulap feed declares "CP1250") are read by
 * their tables: each letter was U+FFFD, with a warning, before. A
 * refusal's byte offset and the ACK's echoed fields are the bytes sent. */
Test(hl7_to_events, reads_the_single_byte_sets_of_table_0211)
{
    static const struct {
        const char *cs, *sent, *utf8;
    } sb[] = {
        { "8859/2", "\xa3\xf3" "d\xbc", "\xc5\x81\xc3\xb3" "d\xc5\xba" },
        { "ISO-8859-2", "\xa3\xf3" "d\xbc", "\xc5\x81\xc3\xb3" "d\xc5\xba" },
        { "CP1250", "\x8akoda", "\xc5\xa0koda" },
        { "8859/5", "\xb8\xd2\xd0\xdd", "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd" },
        { "windows-1251", "\xcf\xe5\xf2\xf0\xee\xe2",
          "\xd0\x9f\xd0\xb5\xd1\x82\xd1\x80\xd0\xbe\xd0\xb2" },
        /* the 2003 edition's euro sign (A4): three bytes in UTF-8 */
        { "8859/7", "\xd0\xe1\xf0\xe1\xa4",
          "\xce\xa0\xce\xb1\xcf\x80\xce\xb1\xe2\x82\xac" },
        { "8859/8", "\xeb\xe4\xef", "\xd7\x9b\xd7\x94\xd7\x9f" },
        { "8859/9", "\xde" "ahin", "\xc5\x9e" "ahin" },
    };
    for (size_t k = 0; k < sizeof(sb) / sizeof(sb[0]); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|APP|%s|HUB|HUB|20260115093000||ADT^A04|C1|P|"
                 "2.5||||||%s\rEVN|A04\rPID|1||MRN1^^^FAC^MR||%s^Jo\r"
                 "PV1|1|O\r", sb[k].sent, sb[k].cs, sb[k].sent);
        cJSON *j = event_of(msg);
        const cJSON *name = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(j, "patient"), "names"), 0);
        cr_assert_str_eq(str_at(name, "family", NULL), sb[k].utf8, "%s",
                         sb[k].cs);
        cr_assert_str_eq(str_at(j, "source", "sending_facility"), sb[k].utf8,
                         "%s", sb[k].cs);
        cr_assert_str_eq(warnings_of(msg), "", "%s", sb[k].cs);
        cJSON_Delete(j);

        /* the ACK echoes MSH-4 in the sender's bytes, as MSH-6 */
        struct hl7_msg *m;
        struct hub_err err;
        struct slice ack;
        cr_assert_eq(hl7_parse(&A, msg, strlen(msg), &m, &err), HUB_OK);
        cr_assert_eq(hl7_ack(&A, m, "AA", NULL, "K", "2026", &ack), HUB_OK);
        char want[64], got[1024];
        snprintf(want, sizeof(want), "|HUB|HUB|APP|%s|", sb[k].sent);
        snprintf(got, sizeof(got), "%.*s", (int)ack.len, ack.p);
        cr_assert(strstr(got, want) != NULL, "%s: %s", sb[k].cs, got);

        /* a refusal after the letters names the byte sent */
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|APP|%s|HUB|HUB|20260115093000||ADT^A04|C1|P|"
                 "2.5||||||%s\rEVN|A04\rPID|1||||%s^Jo\rPV1|1|O\r",
                 sb[k].sent, sb[k].cs, sb[k].sent);
        struct canon_list l;
        cr_assert_eq(run(msg, &l, &err), HUB_EINVALID, "%s", sb[k].cs);
        cr_assert_str_eq(err.field, "PID-3", "%s", sb[k].cs);
        cr_assert_eq(err.offset, (size_t)(strstr(msg, "PID|") - msg),
                     "%s: %zu", sb[k].cs, err.offset);
    }
}

/* HL7 v2.5 ch. 3 makes PV1 required in the structure of every trigger the
 * hub takes but the merges of ADT_A30 and ADT_A39: without it the message
 * is still taken (its encounter empty, as before), and the sender and the
 * subscribers are told (tests/data/real/hl7v2/
 * glennrtc_invalid_adt_missing_name.hl7). */
/* A47 (change patient identifier list) and A46 (change patient id, its
 * v2.3 form): MRG-1 names the id that was wrong, PID-3 the right one
 * (UCLH's Epic feed, tests/data/real/hl7v2/uclh_emap_a47); A48 likewise
 * for PID-4, which the hub writes as an identifier too. Refused as
 * unsupported before, so a subscriber keyed by the old id never re-keyed;
 * now an adt.merge with merged_from, as A34 (the same structure, ADT_A30).
 * A45 (move visit) and A49 (account number) stay refused: they change no
 * identifier the hub writes. */
Test(hl7_to_events, reads_a_change_of_patient_identifier_as_a_merge)
{
    static const char *const trig[] = { "A47", "A46" };
    for (size_t k = 0; k < 2; k++) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|A|F|H|H|201207171525||ADT^%s|C1|P|2.4\r"
                 "EVN|%s|201207171525\rPID|||408001^^^MRENTR^MEDREC||T^O\r"
                 "MRG|408000^^^MRENTR\r", trig[k], trig[k]);
        cJSON *j = event_of(msg);
        cr_assert_str_eq(str_at(j, "type", NULL), "adt.merge", "%s", trig[k]);
        const cJSON *mf = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "patient"), "merged_from");
        cr_assert_eq(cJSON_GetArraySize(mf), 1);
        cr_assert_str_eq(str_at(cJSON_GetArrayItem(mf, 0), "value", NULL),
                         "408000");
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(j, "warnings"));
        cJSON_Delete(j);
    }
    /* A48: the prior alternate id in MRG-4 */
    cJSON *j = event_of("MSH|^~\\&|A|F|H|H|2012||ADT^A48|C1|P|2.4\r"
                        "PID|||408001^^^MRENTR^MR|ALT2^^^X\r"
                        "MRG||||ALT1^^^X\r");
    const cJSON *mf = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "merged_from");
    cr_assert_str_eq(str_at(j, "type", NULL), "adt.merge");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(mf, 0), "value", NULL),
                     "ALT1");
    cJSON_Delete(j);
    static const char *const no[] = { "A45", "A49" };
    for (size_t k = 0; k < 2; k++) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|A|F|H|H|2012||ADT^%s|C1|P|2.4\r" PID
                 "MRG|408000^^^MRENTR\rPV1|1|I\r", no[k]);
        struct canon_list l;
        struct hub_err err;
        cr_assert_eq(run(msg, &l, &err), HUB_EUNSUPPORTED, "%s", no[k]);
        cr_assert_str_eq(err.field, "MSH-9.2");
    }
}

Test(hl7_to_events, warns_of_a_missing_pv1_where_the_trigger_requires_it)
{
    static const struct {
        char trig[4];
        bool warns;
    } t[] = {
        { "A01", true },  { "A03", true },  { "A04", true },
        { "A08", true },  { "A28", true },  { "A31", true },
        { "A13", true },  { "A18", true },  { "A34", false },
        { "A36", false }, { "A39", false }, { "A40", false },
        { "A46", false }, { "A47", false }, { "A48", false },
    };
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        char msg[1024];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|A|F|H|H|2026||ADT^%s|C%zu|P|2.5\r" PID
                 "MRG|OLD1^^^FAC^MR\r", t[k].trig, k);
        const char *w = warnings_of(msg);
        cr_assert_eq(strstr(w, "PV1:required segment PV1 is missing;") != NULL,
                     t[k].warns, "%s: %s", t[k].trig, w);
        cJSON *j = event_of(msg);
        const cJSON *enc = cJSON_GetObjectItemCaseSensitive(j, "encounter");
        cr_assert(cJSON_IsObject(enc), "%s", t[k].trig);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(enc, "patient_class"),
                       "%s", t[k].trig);
        cr_assert_eq(cJSON_GetObjectItemCaseSensitive(j, "warnings") != NULL,
                     t[k].warns, "%s", t[k].trig);
        cJSON_Delete(j);
    }
    /* with PV1, nothing to say */
    cr_assert_str_eq(warnings_of(MSH("ADT^A01", "2.5") PID "PV1|1|I\r"), "");
}

/* F117: a field HL7 marks required among those the hub reads (PID-3,
 * PID-5, PV1-2: R in v2.3, v2.5.1 and v2.8) that is missing is a warning
 * naming the field and what was done, never a refusal: the event is the
 * one the message gave before, with the warning beside it. PV1-2 is
 * required in every PV1 sent (an A28 or A31 without a visit sends "N",
 * a value); PID-3 may be stood in for by PID-2 or PID-4 (B from v2.3.1,
 * W from v2.7), and the warning says which; the HL7 null "" is no value. */
#define W_PV1_2 "PV1-2:required field PV1-2 patient class is missing; " \
                "accepted without it;"
#define W_PID_5 "PID-5:required field PID-5 patient name is missing; " \
                "accepted without it;"
#define W_PID_3(by) "PID-3:required field PID-3 patient identifier list " \
                    "is missing; " by " used;"

Test(hl7_to_events, warns_of_each_missing_required_field_it_reads)
{
    static const struct {
        const char *msg, *want;
    } t[] = {
        /* complete: nothing to say */
        { MSH("ADT^A01", "2.5") PID "PV1|1|I\r", "" },
        { MSH("ADT^A28", "2.5") PID "PV1|1|N\r", "" },
        { MSH("ADT^A01", "2.8") "PID|1|X1^^^FAC|MRN1^^^FAC^MR|A1^^^FAC|"
          "Doe^Jo\rPV1|1|E\r", "" },
        /* PV1-2 */
        { MSH("ADT^A01", "2.5") PID "PV1|1||W^101\r", W_PV1_2 },
        { MSH("ADT^A01", "2.3") PID "PV1|1|\"\"|W^101\r", W_PV1_2 },
        { MSH("ADT^A01", "2.5") PID "PV1\r", W_PV1_2 },
        { MSH("ADT^A31", "2.5") PID "PV1|1|^Inpatient\r", W_PV1_2 },
        { MSH("ADT^A40", "2.5") PID "MRG|OLD1^^^FAC^MR\rPV1|1\r", W_PV1_2 },
        /* PID-5 */
        { MSH("ADT^A01", "2.5") "PID|1||MRN1^^^FAC^MR\rPV1|1|I\r", W_PID_5 },
        { MSH("ADT^A01", "2.5") "PID|1||MRN1^^^FAC^MR||\"\"\rPV1|1|I\r",
          W_PID_5 },
        { MSH("ADT^A01", "2.5") "PID|1||MRN1^^^FAC^MR||^^^^DR~\rPV1|1|I\r",
          W_PID_5 },
        { MSH("ADT^A01", "2.5") "PID|1||MRN1^^^FAC^MR||~^Jo\rPV1|1|I\r", "" },
        /* PID-3, and which field stood in */
        { MSH("ADT^A04", "2.8") "PID|1|X1^^^FAC|||Doe^Jo\rPV1|1|O\r",
          W_PID_3("PID-2") },
        { MSH("ADT^A04", "2.5") "PID|1|||A1^^^FAC|Doe^Jo\rPV1|1|O\r",
          W_PID_3("PID-4") },
        { MSH("ADT^A04", "2.4") "PID|1|X1^^^FAC||A1^^^FAC|Doe^Jo\rPV1|1|O\r",
          W_PID_3("PID-2 and PID-4") },
        { MSH("ADT^A04", "2.4") "PID|1|X1^^^FAC||X1^^^FAC|Doe^Jo\r"
          "PV1|1|O\r", W_PID_3("PID-2") },
        { MSH("ADT^A04", "2.5") "PID|1|X1^^^FAC|^^^FAC^MR~\"\"||Doe^Jo\r"
          "PV1|1|O\r", W_PID_3("PID-2") },
        { MSH("ADT^A04", "2.5") "PID|1|X1^^^FAC|~MRN2^^^FAC^MR||Doe^Jo\r"
          "PV1|1|O\r", "" },
        /* all three, in the order read; with the PV1 missing too */
        { MSH("ADT^A04", "2.8") "PID|1|X1\rPV1|1\r",
          W_PID_3("PID-2") W_PID_5 W_PV1_2 },
        { MSH("ADT^A01", "2.5") "PID|1|X1\r",
          W_PID_3("PID-2") W_PID_5 "PV1:required segment PV1 is missing;" },
    };
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++)
        cr_expect_str_eq(warnings_of(t[k].msg), t[k].want, "%zu", k);

    /* the events are those the message gave: no class, the stand-in's id
     * (PID-2 first, then PID-4), no names; the warnings ride beside */
    cJSON *j = event_of(MSH("ADT^A04", "2.4")
                        "PID|1|X1^^^FAC||A1^^^FAC\rPV1|1||W^101\r");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "patient");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(p, "identifiers");
    cr_assert_eq(cJSON_GetArraySize(ids), 2);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ids, 0), "value", NULL), "X1");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ids, 1), "value", NULL), "A1");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(p, "names"));
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(j, "encounter");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(enc, "patient_class"));
    cr_assert_str_eq(str_at(enc, "location", "point_of_care"), "W");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "warnings");
    cr_assert_eq(cJSON_GetArraySize(w), 3);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(w, 0), "field", NULL),
                     "PID-3");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(w, 2), "field", NULL),
                     "PV1-2");
    cJSON_Delete(j);

    /* still refused with no identifier at all */
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "PID|1||||Doe^Jo\rPV1|1|I\r", &l,
                     &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "PID-3");
}

/* The sender hears of each in its ACK: an ERR of severity W at the field,
 * HL7 table 0357 code 101. */
Test(hl7_to_events, acks_a_missing_required_field_as_a_warning)
{
    const char *msg = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|M1|P|2.5\r"
                      "PID|1|X1^^^F|||D^J\rPV1|1||W^1\r";
    struct hl7_msg *m;
    struct canon_list l = { 0 };
    struct hl7_warnings w;
    struct hub_err err = { 0 };
    struct slice ack;
    cr_assert_eq(hl7_parse(&A, msg, strlen(msg), &m, &err), HUB_OK);
    cr_assert_eq(hl7_to_events_warn(&A, m, &l, &w, &err), HUB_OK);
    cr_assert_eq(l.n, 1);
    cr_assert_eq(hl7_ack_warn(&A, m, "AA", NULL, &w, "K", "2026", &ack),
                 HUB_OK);
    const char *want =
        "MSH|^~\\&|C|D|A|B|2026||ACK^A01^ACK|K|P|2.5\r"
        "MSA|AA|M1\r"
        "ERR||PID^1^3|101^Required field missing^HL70357|W||||"
        "required field PID-3 patient identifier list is missing; PID-2 "
        "used\r"
        "ERR||PV1^1^2|101^Required field missing^HL70357|W||||"
        "required field PV1-2 patient class is missing; accepted without "
        "it\r";
    cr_assert(ack.len == strlen(want) && memcmp(ack.p, want, ack.len) == 0,
              "got %.*s", (int)ack.len, ack.p);
}

/* PID-7 before 1880, or after the message was sent (MSH-7, to the
 * precision both have), is kept as sent with a warning that names the
 * field and the reason only. */
Test(hl7_to_events, warns_of_an_implausible_birth_date_and_keeps_it)
{
    static const struct {
        char born[16], want[16];
        const char *warning;
    } t[] = {
        { "18791231", "1879-12-31", "PID-7:birth date is before 1880;" },
        { "10131113", "1013-11-13", "PID-7:birth date is before 1880;" },
        { "1880", "1880", "" },
        { "18800101", "1880-01-01", "" },
        { "20260115", "2026-01-15", "" },
        { "20260116", "2026-01-16",
          "PID-7:birth date is after the message time;" },
        { "202602", "2026-02", "PID-7:birth date is after the message time;" },
        { "2026", "2026", "" },
        { "2027", "2027", "PID-7:birth date is after the message time;" },
        { "202601160800", "2026-01-16",
          "PID-7:birth date is after the message time;" },
    };
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        char msg[1024];
        /* MSH-7 is 20260115093000 */
        snprintf(msg, sizeof(msg),
                 MSH("ADT^A01", "2.5") "PID|1||MRN1^^^FAC^MR||Doe^Jo||%s|F\r"
                 "PV1|1|I\r", t[k].born);
        cr_assert_str_eq(warnings_of(msg), t[k].warning, "%s", t[k].born);
        cJSON *j = event_of(msg);
        cr_assert_str_eq(str_at(j, "patient", "birth_date"), t[k].want);
        cJSON_Delete(j);
    }
    /* no MSH-7 to compare with: only the lower bound is checked */
    cr_assert_str_eq(warnings_of("MSH|^~\\&|A|F|H|H|||ADT^A01|C1|P|2.5\r"
                                 "PID|1||M1^^^F^MR||D^J||29990101\r"
                                 "PV1|1|I\r"),
                     "");
}

static const cJSON *identifiers_of(const cJSON *j)
{
    return cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "identifiers");
}

/* As every adapter (common/postal.h): XAD-5 sent as a ZIP+4 with an empty
 * +4 ("61550-") is the ZIP. */
Test(hl7_to_events, writes_a_zip_plus_4_with_an_empty_plus_4_as_the_zip)
{
    cJSON *j = event_of(MSH("ADT^A28", "2.5")
                        "PID|1||M1^^^F^MR||D^J||||||1 Main St^^Morton^IL^"
                        "61550-    ~2 Elm St^^Peoria^IL^61602-1234\r"
                        "PV1|1|N\r");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "addresses");
    cr_assert_eq(cJSON_GetArraySize(a), 2);
    cr_expect_str_eq(str_at(cJSON_GetArrayItem(a, 0), "postal_code", NULL),
                     "61550");
    cr_expect_str_eq(str_at(cJSON_GetArrayItem(a, 1), "postal_code", NULL),
                     "61602-1234");
    cJSON_Delete(j);
}

/* PID-3 repetitions of type SS are written as every adapter writes an
 * SSN, nine digits (the assigning authority kept); one the SSA never
 * issues, such as the classic example's 123456789^^^USSSA^SS that test
 * feeds copy, is left out with a warning, as it would link strangers
 * (common/ssn.h). Another type's value is kept as sent. */
Test(hl7_to_events, writes_an_ssn_of_pid_3_type_ss_as_nine_digits)
{
    const char *msg = MSH("ADT^A28", "2.5")
        "PID|1||M1^^^F^MR~123-54-8888^^^USSSA^SS~"
        "12-54-8888^^^USSSA^SS~1-2^^^F^XX~123456789^^^USSSA^SS||D^J\r"
        "PV1|1|N\r";
    cJSON *j = event_of(msg);
    const cJSON *ids = identifiers_of(j);
    cr_assert_eq(cJSON_GetArraySize(ids), 3);
    cr_expect_str_eq(str_at(cJSON_GetArrayItem(ids, 1), "value", NULL),
                     "123548888");
    /* the SSA's namespace is the us-ssn URI every adapter writes */
    cr_expect_str_eq(str_at(cJSON_GetArrayItem(ids, 1), "system", NULL),
                     "http://hl7.org/fhir/sid/us-ssn");
    cr_expect_str_eq(str_at(cJSON_GetArrayItem(ids, 2), "value", NULL), "1-2");
    cr_expect_str_eq(warnings_of(msg),
                     "PID-3:SSN is not nine digits the SSA could have issued; "
                     "left out;");
    cJSON_Delete(j);

    /* the only identifier: the message taken (PID-3 was sent, so it is
     * not "missing"), the patient known by it alone (F1980) */
    j = event_of(MSH("ADT^A28", "2.5")
                 "PID|1||123456789^^^USSSA^SS||D^J\rPV1|1|N\r");
    char got[256];
    ids_joined(identifiers_of(j), got, sizeof(got));
    cr_expect_str_eq(got, "CTRL1@20260115093000|MSH-10;");
    cJSON_Delete(j);
}

/* Table 0203's SS is "Social Security number", of no country: one whose
 * authority is an ISO OID outside the US arcs (2.16.840, 1.2.840), as a
 * Swiss Epic feed sends the AHVN13 under 2.16.756 (F3340), is that
 * country's number, kept as sent under its OID and linked, in PID-3 and in
 * MRG-1 alike, not left out as an SSN the SSA never issued; a placeholder
 * in it is left out as any national number's. An SS under a US OID or a
 * namespace is still read as the US SSN. */
Test(hl7_to_events, keeps_another_countrys_ss_under_its_oid)
{
    const char *msg = MSH("ADT^A31", "2.5")
        "PID|1||M1^^^F^MR~7560111222333^^^&2.16.756.5.32&ISO^SS~"
        "0000000000000^^^&1.2.250.1.213.1.4.8&ISO^SS~"
        "1234^^^&2.16.840.1.113883.19&ISO^SS~9999^^^F^SS~"
        "1234^^^&1.2.3.4&ISO^SS~234-56-7891^^^&1.3.6.1.4.1.99&ISO^SS||D^J\r"
        "PV1|1|N\r";
    cJSON *j = event_of(msg);
    char got[512];
    ids_joined(identifiers_of(j), got, sizeof(got));
    /* an example's OID (1.2.3.4) and an enterprise's are no country's:
     * the US SSN, nine digits */
    cr_expect_str_eq(got, "M1|F;7560111222333|urn:oid:2.16.756.5.32;"
                          "234567891|urn:oid:1.3.6.1.4.1.99;");
    cr_expect_str_eq(warnings_of(msg),
                     "PID-3:national number is a placeholder; left out;"
                     "PID-3:SSN is not nine digits the SSA could have "
                     "issued; left out;");
    cJSON_Delete(j);

    /* the merged-away record's number links, as the survivor's does */
    j = event_of(MSH("ADT^A40^ADT_A39", "2.5")
                 "PID|1||M1^^^F^MR||D^J\r"
                 "MRG|7560111222334^^^&2.16.756.5.32&ISO^SS\r");
    const cJSON *m = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "patient"), "merged_from"),
        0);
    cr_assert_not_null(m);
    cr_expect_str_eq(str_at(m, "system", NULL), "urn:oid:2.16.756.5.32");
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(m, "inactive"));
    cJSON_Delete(j);
}

/* A patient whose every identifier is left out (an SSN the SSA never
 * issues, a placeholder national number, marks alone) or never linked on
 * (failing its check digit, out of effect, an account's) would have no
 * hub id, and no disclosure of its name and birth date could be in anyone's
 * accounting (F404, F1967). It is known by the message alone: MSH-10 and
 * MSH-7 (F2140, below), under the system "MSH-10" (the sender's own name,
 * which the hub scopes to the sending organization), with a warning, as
 * C-CDA's patient is known by its document id. One identifier that links
 * is enough to need none; an empty PID-3 is still refused (F1980). */
/* A CX whose assigning authority is in the hub's own space (urn:hub:,
 * scheme and NID in any case; as HD-1 or as HD-2) names some
 * organization's scope, another's as easily as the sender's: left out
 * with a warning that names no value, in PID-3, an SSN's CX and MRG; a
 * patient left with no identifier is known by its message (F2240). */
Test(hl7_to_events, leaves_out_an_identifier_in_the_hubs_own_space)
{
    static const char warn[] = ":identifier system is in the hub's own "
                               "space (urn:hub:); left out;";
    static const struct {
        const char *pid3, *ids;
    } cases[] = {
        { "1234^^^urn:hub:org:hosp:ns:MRN^MR",
          "CTRL1@20260115093000|MSH-10;" },
        { "1234^^^URN:Hub:org:hosp:ns:MRN^MR~M1^^^H^MR", "M1|H;" },
        { "1234^^^&urn:hub:org:hosp:ns:MRN&URI^MR~M1^^^H^MR", "M1|H;" },
        { "212345678^^^urn:hub:org:hosp:ns:SSA^SS~M1^^^H^MR", "M1|H;" },
        /* not the hub's: kept */
        { "1234^^^urn:hubx:a^MR", "1234|urn:hubx:a;" },
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char msg[512], got[256];
        snprintf(msg, sizeof(msg),
                 MSH("ADT^A01", "2.5") "PID|1||%s||Doe^Jo||19800131|F\r"
                 "PV1|1|I\r", cases[k].pid3);
        cJSON *j = event_of(msg);
        ids_joined(identifiers_of(j), got, sizeof(got));
        cr_expect_str_eq(got, cases[k].ids, "%s", cases[k].pid3);
        const char *w = warnings_of(msg);
        cr_expect_eq(strstr(w, warn) != NULL, k < 4, "%s: %s",
                     cases[k].pid3, w);
        cr_expect_null(strstr(w, "1234"), "%s: %s", cases[k].pid3, w);
        cJSON_Delete(j);
    }
    static const char a40[] = MSH("ADT^A40^ADT_A39", "2.5")
        "PID|1||M1^^^H^MR\r"
        "MRG|1234^^^urn:hub:org:hosp:ns:MRN^MR~OLD1^^^H^MR\r";
    cr_expect_str_eq(merged_from_of(a40), "OLD1|H;");
    cr_expect_not_null(strstr(warnings_of(a40), "MRG-1:identifier system is "
                                                "in the hub's own space"));
}

Test(hl7_to_events, knows_a_patient_with_no_identifier_that_links_by_msh_10)
{
    /* MSH-10, then MSH-7 as sent (F2140) */
#define BY_MSG "CTRL1@20260115093000|MSH-10;"
    static const struct {
        const char *pid3, *ids;
    } cases[] = {
        { "123456789^^^USSSA^SS", BY_MSG },
        { "0000000000^^^CANON^JHN", BY_MSG },
        { "*****^^^H^MR", BY_MSG },
        /* kept, marked inactive, and the message's id after it */
        { "9434765918^^^NHS^NH", "9434765918|NHS;" BY_MSG },
        { "A77^^^H^AN", "A77|H;" BY_MSG },
        { "M1^^^H^MR^^^20200101", "M1|H;" BY_MSG },
        /* one that links: no more */
        { "123456789^^^USSSA^SS~M1^^^H^MR", "M1|H;" },
        { "A77^^^H^AN~M1^^^H^MR", "A77|H;M1|H;" },
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char msg[512], got[256];
        snprintf(msg, sizeof(msg),
                 MSH("ADT^A01", "2.5") "PID|1||%s||Doe^Jo||19800131|F\r"
                 "PV1|1|I\r", cases[k].pid3);
        cJSON *j = event_of(msg);
        ids_joined(identifiers_of(j), got, sizeof(got));
        cr_expect_str_eq(got, cases[k].ids, "%s", cases[k].pid3);
        const cJSON *last = cJSON_GetArrayItem(
            identifiers_of(j), cJSON_GetArraySize(identifiers_of(j)) - 1);
        bool by_msg = strcmp(str_at(last, "system", NULL) ? str_at(last,
                             "system", NULL) : "", "MSH-10") == 0;
        /* never marked inactive, with no type: it links */
        if (by_msg) {
            cr_expect_null(cJSON_GetObjectItemCaseSensitive(last,
                                                            "inactive"));
            cr_expect_null(cJSON_GetObjectItemCaseSensitive(last, "type"));
        }
        cr_expect_eq(strstr(warnings_of(msg),
                            "PID-3:no patient identifier links; the patient "
                            "is known by this message alone (MSH-10);")
                         != NULL,
                     by_msg, "%s", cases[k].pid3);
        cJSON_Delete(j);
    }
    /* PID-19's SSN links: no MSH-10 */
    cJSON *j = event_of(MSH("ADT^A01", "2.3")
                        "PID|1||123456789^^^USSSA^SS||D^J||||||||||||||"
                        "123-54-8888\rPV1|1|I\r");
    char got[256];
    ids_joined(identifiers_of(j), got, sizeof(got));
    cr_expect_str_eq(got, "123548888|http://hl7.org/fhir/sid/us-ssn;");
    cJSON_Delete(j);
    /* the control id as the event's source has it: trimmed, unescaped */
    j = event_of("MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A01| A\\T\\1 "
                 "|P|2.5\rPID|1||123456789^^^USSSA^SS||D^J\rPV1|1|I\r");
    ids_joined(identifiers_of(j), got, sizeof(got));
    cr_expect_str_eq(got, "A&1@20260115093000|MSH-10;");
    cJSON_Delete(j);
    /* an empty PID-3 is refused as before */
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "PID|1||||D^J\rPV1|1|I\r", &l,
                     &err), HUB_EINVALID);
    cr_expect_str_eq(err.field, "PID-3");
#undef BY_MSG
}

/* The value of the identifier of a patient known by its message alone:
 * MSH-10, then "@" and MSH-7 as sent (its first component, trimmed and
 * unescaped), so that a control id the sender uses again after its
 * message was pruned (a counter that restarted: a later MSH-7) names
 * another patient, and only the same message sent again the same one;
 * with no MSH-7 (empty, or HL7's null "") MSH-10 alone (F1982, F2140). */
Test(hl7_to_events, knows_a_patient_by_msh_10_and_the_time_msh_7_says)
{
    static const struct {
        const char *msh7, *ctrl, *value;
    } cases[] = {
        { "20260115093000", "CTRL1", "CTRL1@20260115093000" },
        /* the counter restarted: a later time, another value */
        { "20260301080000", "CTRL1", "CTRL1@20260301080000" },
        /* as sent: an offset and its fraction kept, TS.2 (the degree of
         * precision, v2.3) not, blanks trimmed, escapes resolved */
        { "20260115093000.12-0500^S", "CTRL1",
          "CTRL1@20260115093000.12-0500" },
        { " 202601150930 ", "CTRL1", "CTRL1@202601150930" },
        { "2026\\E\\01", "CTRL1", "CTRL1@2026\\01" },
        /* an "@" of the control id stays: the time is after the last */
        { "20260115093000", "A@B", "A@B@20260115093000" },
        /* no time: MSH-10 alone, as before */
        { "", "CTRL1", "CTRL1" },
        { "\"\"", "CTRL1", "CTRL1" },
        { "^S", "CTRL1", "CTRL1" },
    };
    char got[2][64] = { "", "" };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|APP|FAC|HUB|HUB|%s||ADT^A01|%s|P|2.5\r"
                 "PID|1||123456789^^^USSSA^SS||Doe^Jo||19800131|F\r"
                 "PV1|1|I\r", cases[k].msh7, cases[k].ctrl);
        cJSON *j = event_of(msg);
        const cJSON *ids = identifiers_of(j);
        cr_assert_eq(cJSON_GetArraySize(ids), 1, "%s", cases[k].msh7);
        const cJSON *id = cJSON_GetArrayItem(ids, 0);
        cr_expect_str_eq(str_at(id, "value", NULL), cases[k].value, "%s",
                         cases[k].msh7);
        cr_expect_str_eq(str_at(id, "system", NULL), "MSH-10");
        /* the same message sent again: the same identifier */
        cJSON *again = event_of(msg);
        cr_expect_str_eq(str_at(cJSON_GetArrayItem(identifiers_of(again), 0),
                                "value", NULL), cases[k].value);
        cJSON_Delete(again);
        if (k < 2)
            snprintf(got[k], sizeof(got[k]), "%s", str_at(id, "value", NULL));
        cJSON_Delete(j);
    }
    /* one control id, two times: two identifiers */
    cr_expect_str_neq(got[0], got[1]);
}

/* A merge whose surviving patient no identifier of its PID links: known
 * by its message alone, it would take the prior patient's record under
 * the message's id, and the groups of one A40 would all be that one
 * patient, merging strangers. No one can apply it: refused at PID-3, as a merge
 * that names no prior identifier is refused (F1981). */
Test(hl7_to_events, refuses_a_merge_into_a_patient_no_identifier_links)
{
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run(MSH("ADT^A40^ADT_A39", "2.5")
                     "PID|1||123456789^^^USSSA^SS||D^J\r"
                     "MRG|OLD1^^^F^MR\r", &l, &err), HUB_EINVALID);
    cr_expect_str_eq(err.field, "PID-3");
    cr_expect_eq(l.n, 0);
    /* one group of two: the message is refused whole, as for any group */
    cr_assert_eq(run(MSH("ADT^A40^ADT_A39", "2.5")
                     "PID|1||NEW1^^^F^MR||D^J\rMRG|OLD1^^^F^MR\r"
                     "PID|1||A77^^^F^AN||D^K\rMRG|OLD2^^^F^MR\r", &l, &err),
                 HUB_EINVALID);
    cr_expect_str_eq(err.field, "PID-3");
    cr_expect_eq(l.n, 0);
    /* an empty PID-3: refused there as before */
    cr_assert_eq(run(MSH("ADT^A40^ADT_A39", "2.5")
                     "PID|1||||D^J\rMRG|OLD1^^^F^MR\r", &l, &err),
                 HUB_EINVALID);
    cr_expect_str_eq(err.field, "PID-3");
    /* with no MRG at all, the MRG is what is missing, as before */
    cr_assert_eq(run(MSH("ADT^A40^ADT_A39", "2.5")
                     "PID|1||123456789^^^USSSA^SS||D^J\r", &l, &err),
                 HUB_EINVALID);
    cr_expect_str_eq(err.field, "MRG");
    /* one that links: taken */
    cr_assert_eq(run(MSH("ADT^A40^ADT_A39", "2.5")
                     "PID|1||123456789^^^USSSA^SS~NEW1^^^F^MR||D^J\r"
                     "MRG|OLD1^^^F^MR\r", &l, &err), HUB_OK);
    cr_expect_eq(l.n, 1);
}

/* An assigning authority whose universal id is the NPI's or the MBI's OID
 * is the FHIR URI C-CDA and FHIR write for it (common/idsys.h), so that a
 * Medicare number sent by a hospital and in a plan's C-CDA is one
 * identifier; the SSN's OID is the us-ssn URI for type SS (checked as an
 * SSN), and any other OID urn:oid:. */
Test(hl7_to_events, an_authority_named_by_a_national_oid_is_its_uri)
{
    cJSON *j = event_of(MSH("ADT^A28", "2.5")
        "PID|1||1EG4TE5MK73^^^CMS&2.16.840.1.113883.4.927&ISO^MC~"
        "1234567893^^^&2.16.840.1.113883.4.6&ISO^NPI~"
        "444-22-2222^^^&2.16.840.1.113883.4.1&ISO^SS~"
        "M1^^^2.16.840.1.113883.4.927^MR~"
        "M2^^^&2.16.840.1.113883.4.92&ISO^MR||D^J\r"
        "PV1|1|N\r");
    const cJSON *ids = identifiers_of(j);
    cr_assert_eq(cJSON_GetArraySize(ids), 5);
    static const char *const want[][2] = {
        { "1EG4TE5MK73", "http://hl7.org/fhir/sid/us-mbi" },
        { "1234567893", "http://hl7.org/fhir/sid/us-npi" },
        { "444222222", "http://hl7.org/fhir/sid/us-ssn" },
        { "M1", "http://hl7.org/fhir/sid/us-mbi" },
        { "M2", "urn:oid:2.16.840.1.113883.4.92" },
    };
    for (int i = 0; i < 5; i++) {
        const cJSON *id = cJSON_GetArrayItem(ids, i);
        cr_expect_str_eq(str_at(id, "value", NULL), want[i][0], "id %d", i);
        cr_expect_str_eq(str_at(id, "system", NULL), want[i][1], "id %d", i);
    }
    cJSON_Delete(j);
}

/* PID-19 (SSN) becomes an identifier as the C-CDA and CSV adapters write
 * it (system us-ssn, type SS), once: not again when PID-3 carries it with
 * type SS; a value that is no issued SSN is left out with a warning. */
Test(hl7_to_events, reads_pid_19_as_an_ssn_identifier_once)
{
    cJSON *j = event_of(MSH("ADT^A28", "2.3")
                        "PID|1||M1^^^F^MR||D^J||||||||||||||123-54-8888\r"
                        "PV1|1|N\r");
    const cJSON *ids = identifiers_of(j);
    cr_assert_eq(cJSON_GetArraySize(ids), 2);
    const cJSON *ssn = cJSON_GetArrayItem(ids, 1);
    /* nine digits, as every adapter writes an SSN (common/ssn.h) */
    cr_assert_str_eq(str_at(ssn, "value", NULL), "123548888");
    cr_assert_str_eq(str_at(ssn, "system", NULL),
                     "http://hl7.org/fhir/sid/us-ssn");
    cr_assert_str_eq(str_at(ssn, "type", NULL), "SS");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(j, "warnings"));
    cJSON_Delete(j);

    /* PID-3 has it already (without the dashes): once */
    j = event_of(MSH("ADT^A28", "2.3")
                 "PID|1||M1^^^F^MR~123548888^^^USSSA^SS||D^J||||||||||||||"
                 "123-54-8888\rPV1|1|N\r");
    cr_assert_eq(cJSON_GetArraySize(identifiers_of(j)), 2);
    cJSON_Delete(j);

    /* the only identifier besides PID-3's MRN */
    j = event_of(MSH("ADT^A28", "2.3")
                 "PID|1||M1||D^J||||||||||||||123548888\rPV1|1|N\r");
    cr_assert_eq(cJSON_GetArraySize(identifiers_of(j)), 2);
    cJSON_Delete(j);

    static const char *const bad[] = { "PSSN123121234", "34-13-312",
                                       "000-12-3456", "666-12-3456",
                                       "912-34-5678", "123-00-4567",
                                       "123-45-0000", "1234567890",
                                       "XXX-XX-1234", "123-45-6789",
                                       "078-05-1120", "111-11-1111" };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        char msg[1024];
        snprintf(msg, sizeof(msg),
                 MSH("ADT^A28", "2.3") "PID|1||M1^^^F^MR||D^J||||||||||||||%s\r"
                 "PV1|1|N\r", bad[k]);
        cr_assert_str_eq(warnings_of(msg),
                         "PID-19:SSN is not nine digits the SSA could have "
                         "issued;", "%s", bad[k]);
        j = event_of(msg);
        cr_assert_eq(cJSON_GetArraySize(identifiers_of(j)), 1, "%s", bad[k]);
        cJSON_Delete(j);
    }
}

/* NHS numbers are carried as each sender scopes them, not written in one
 * form (decided 2026-12-03: a US state exchange links US identifiers;
 * finding 27 keeps non-US national numbers without a system, and
 * tests/data/real/SOURCES.md says why). The same number from UCLH's Epic
 * (NHS^HN) and the PHW PAS (NHS^NH) stays two identifiers; a spaced one
 * keeps its spaces. */
Test(hl7_to_events, carries_nhs_numbers_as_each_sender_scopes_them)
{
    cJSON *j = event_of(MSH("ADT^A08", "2.4")
                        "PID|1||9990001234^^^NHS^HN~9990001234^^^NHS^NH"
                        "~999 000 1234^^^NHSNBR^NHSNMBR||Doe^Jo\rPV1|1|I\r");
    const cJSON *ids = identifiers_of(j);
    /* each fails its check digit (F744): the message's own id after them
     * (F1980) */
    cr_assert_eq(cJSON_GetArraySize(ids), 4);
    cr_expect_str_eq(str_at(cJSON_GetArrayItem(ids, 3), "system", NULL),
                     "MSH-10");
    static const char *want[3][3] = { { "9990001234", "NHS", "HN" },
                                      { "9990001234", "NHS", "NH" },
                                      { "999 000 1234", "NHSNBR",
                                        "NHSNMBR" } };
    for (int k = 0; k < 3; k++) {
        const cJSON *id = cJSON_GetArrayItem(ids, k);
        cr_assert_str_eq(str_at(id, "value", NULL), want[k][0]);
        cr_assert_str_eq(str_at(id, "system", NULL), want[k][1]);
        cr_assert_str_eq(str_at(id, "type", NULL), want[k][2]);
    }
    cJSON_Delete(j);
}

/* An identifier that was not in effect when the message was sent (MSH-7,
 * 2026-01-15 here): CX-8 (expiration date) before that day, or CX-7
 * (effective date) after it. It is kept, marked "inactive", which the
 * linker passes by (hub/body.c, hub_link_patient): an old member id or a
 * superseded MRN may since belong to someone else. The day itself is in
 * effect, and so is a date of less precision that holds the message's
 * day; a date that is no HL7 date is a warning, and leaves the identifier
 * in effect. A merge's prior identifiers are retired anyway: never
 * marked. */
Test(hl7_to_events, marks_an_identifier_out_of_effect_at_the_message_time)
{
    static const struct {
        const char *cx;
        bool inactive;
    } cases[] = {
        { "X1^^^F^MR^^^20260114", true },       /* expired the day before */
        { "X1^^^F^MR^^^20260115", false },      /* its last day */
        { "X1^^^F^MR^^^2025", true },
        { "X1^^^F^MR^^^2026", false },
        { "X1^^^F^MR^^^202601", false },
        { "X1^^^F^MR^^^2026-01-14", true },     /* ISO form, warned */
        { "X1^^^F^MR^^20260116", true },        /* not yet in effect */
        { "X1^^^F^MR^^20260115", false },
        { "X1^^^F^MR^^20250101^20270101", false },
        { "X1^^^F^MR^^20250101^20251231", true },
        { "X1^^^F^MR^^\"\"^\"\"", false },       /* HL7 nulls */
        { "X1^^^F^MR^FAC^^", false },
        { "X1^^^F^MR^^^  20260114  ", true },   /* padded */
        { "X1^^^F^MR^^^20260114^^^", true },
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char msg[1024];
        snprintf(msg, sizeof(msg), MSH("ADT^A08", "2.5")
                 "PID|1||%s~X2^^^F^PI||Doe^Jo\rPV1|1|I\r", cases[k].cx);
        cJSON *j = event_of(msg);
        const cJSON *ids = identifiers_of(j);
        cr_assert_eq(cJSON_GetArraySize(ids), 2, "%s", cases[k].cx);
        const cJSON *id = cJSON_GetArrayItem(ids, 0);
        cr_assert_str_eq(str_at(id, "value", NULL), "X1");
        cr_assert_str_eq(str_at(id, "system", NULL), "F");
        cr_assert_str_eq(str_at(id, "type", NULL), "MR");
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(id, "inactive");
        if (cases[k].inactive)
            cr_assert(cJSON_IsTrue(in), "%s", cases[k].cx);
        else
            cr_assert_null(in, "%s", cases[k].cx);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(
                           cJSON_GetArrayItem(ids, 1), "inactive"));
        cJSON_Delete(j);
    }

    /* PID-2 and PID-4 the same way; a date that is not one is named */
    const char *msg = MSH("ADT^A08", "2.5")
        "PID|1|E1^^^F^PI^^^20251231|X1^^^F^MR^^^20261301|A1^^^F^PI^^20270101"
        "|Doe^Jo\rPV1|1|I\r";
    cJSON *j = event_of(msg);
    const cJSON *ids = identifiers_of(j);
    cr_assert_eq(cJSON_GetArraySize(ids), 3);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ids, 0), "value", NULL), "X1");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ids, 0),
                                                    "inactive"));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ids, 1), "value", NULL), "E1");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(ids, 1), "inactive")));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ids, 2), "value", NULL), "A1");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(ids, 2), "inactive")));
    cr_assert_str_eq(warnings_of(msg), "PID-3.8:date is not an HL7 date;");
    cJSON_Delete(j);

    /* a merge's prior identifier is retired whatever its dates say */
    j = event_of(MSH("ADT^A40", "2.5")
                 "PID|1||X1^^^F^MR||Doe^Jo\r"
                 "MRG|OLD1^^^F^MR^^^20200101\rPV1|1|I\r");
    const cJSON *mf = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "merged_from");
    cr_assert_eq(cJSON_GetArraySize(mf), 1);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(mf, 0),
                                                    "inactive"));
    cJSON_Delete(j);
}

/* A name that had ended when the message was sent (MSH-7, 2026-01-15):
 * XPN-13 (expiration date, v2.5+) before that day, or the end of XPN-10
 * (validity range, DR, v2.3-2.6). It is written with use "old" whatever
 * its type: FHIR-Converter's v2.8 samples send a second official name
 * closed in 1924 (tests/data/real/hl7v2/r78-fhir-converter_ADT_A05_v28_
 * preadmit.hl7), which read "official" beside the current one. The day
 * itself is in effect; a start date alone, HL7's null and a value that is
 * no date (ORBIS's "B" in XPN-13) change nothing and warn of nothing. */
Test(hl7_to_events, writes_a_name_ended_before_the_message_as_old)
{
    static const struct {
        const char *xpn, *use;
    } cases[] = {
        { "Old^Jo^^^^^L^^^^^20200101^20251231", "old" },
        { "Old^Jo^^^^^L^^^^^20200101^2025", "old" },
        { "Cur^Jo^^^^^L^^^^^20200101^20260115", "official" },  /* last day */
        { "Cur^Jo^^^^^L^^^^^20200101^20270101", "official" },
        { "Cur^Jo^^^^^L^^^^^20270101", "official" },   /* not yet: no use */
        { "Old^Jo^^^^^M^^^20100101&20251231", "old" },  /* v2.5 DR */
        { "Cur^Jo^^^^^M^^^20100101&20261231", "maiden" },
        { "Cur^Jo^^^^^L^^^19241012", "official" },      /* start alone */
        { "Old^Jo^^^^^^^^^^^20251231", "old" },        /* no type */
        { "Cur^Jo^^^^^L^^^^^\"\"^\"\"", "official" },    /* HL7 nulls */
        { "Cur^Jo^^^^^L^^^^^^B", "official" },          /* ORBIS */
        { "Old^Jo^^^^^L^^^^^^  20251231  ^PF", "old" },  /* padded */
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char msg[1024];
        snprintf(msg, sizeof(msg), MSH("ADT^A08", "2.8")
                 "PID|1||X1^^^F^MR||Doe^Ann^^^^^D~%s\rPV1|1|I\r",
                 cases[k].xpn);
        cJSON *j = event_of(msg);
        const cJSON *names = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "patient"), "names");
        cr_assert_eq(cJSON_GetArraySize(names), 2, "%s", cases[k].xpn);
        cr_assert_str_eq(str_at(cJSON_GetArrayItem(names, 0), "use", NULL),
                         "usual");
        const cJSON *n = cJSON_GetArrayItem(names, 1);
        cr_assert_str_eq(str_at(n, "family", NULL), cases[k].xpn[0] == 'O'
                                                        ? "Old" : "Cur");
        cr_assert_str_eq(str_at(n, "use", NULL), cases[k].use, "%s",
                         cases[k].xpn);
        cr_assert_str_eq(warnings_of(msg), "", "%s", cases[k].xpn);
        cJSON_Delete(j);
    }
}

/* A location sent only as its description (PL-9: "My Ward Corrected" in
 * tests/data/real/hl7v2/medplum_adt_a08_nhs_lf.hl7) is carried, beside
 * the other components when there are some. */
Test(hl7_to_events, carries_a_location_sent_only_as_its_description)
{
    cJSON *j = event_of(MSH("ADT^A08", "2.4") PID
                        "PV1|1|I|^^^^^^^^My Ward|||W2^3^^^^^^^Old \\T\\ Ward\r");
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(j, "encounter");
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(enc, "location");
    cr_assert_str_eq(str_at(loc, "description", NULL), "My Ward");
    cr_assert_eq(cJSON_GetArraySize(loc), 1);
    const cJSON *prior = cJSON_GetObjectItemCaseSensitive(enc,
                                                          "prior_location");
    cr_assert_str_eq(str_at(prior, "point_of_care", NULL), "W2");
    cr_assert_str_eq(str_at(prior, "room", NULL), "3");
    cr_assert_str_eq(str_at(prior, "description", NULL), "Old & Ward");
    cJSON_Delete(j);
}

/* PV1-7 repeats one physician's names and ids, not several doctors (HL7
 * v2.3-2.8 PV1-7; UCLH's Epic feed, tests/data/real/hl7v2/uclh_emap_a01:
 * the same doctor under three id types): one attending, the first
 * repetition that holds one, an empty first repetition passed over. */
Test(hl7_to_events, reads_pv1_7_repetitions_as_one_attending)
{
    cJSON *j = event_of(MSH("ADT^A01", "2.4") PID
                        "PV1|1|I|W1||||HB^BADGER^HONEY^^^^^^CONS^^^^CONS"
                        "~C11^BADGER^HONEY^^^^^^CDS^^^^CDS~752^BADGER\r");
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(j, "encounter");
    const cJSON *att = cJSON_GetObjectItemCaseSensitive(enc, "attending");
    cr_assert_eq(cJSON_GetArraySize(att), 1);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(att, 0), "id", NULL), "HB");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(att, 0), "family", NULL),
                     "BADGER");
    cJSON_Delete(j);
    j = event_of(MSH("ADT^A01", "2.4") PID "PV1|1|I|W1||||~^BROWN^M~X9\r");
    enc = cJSON_GetObjectItemCaseSensitive(j, "encounter");
    att = cJSON_GetObjectItemCaseSensitive(enc, "attending");
    cr_assert_eq(cJSON_GetArraySize(att), 1);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(att, 0), "family", NULL),
                     "BROWN");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(att, 0),
                                                    "id"));
    cJSON_Delete(j);
}

/* Segments run together (their CRs became spaces, as in a message pasted
 * from a web page): when MSH stays under the field limit, PID is "missing"
 * and the reason says why, at the first such space. */
Test(hl7_to_events, says_the_segment_separator_is_likely_missing)
{
    static const char msg[] = "MSH|^~\\&|A|F|H|H|2026||ADT^A01|C1|P|2.5 "
                              "EVN|A01 PID|1||M1^^^F^MR||D^J PV1|1|I";
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run(msg, &l, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "PID");
    cr_assert_str_eq(err.what, "required segment PID is missing: segment "
                               "separators (CR) are likely missing");
    cr_assert_eq(err.offset, (size_t)(strstr(msg, " EVN|") - msg));
    /* a PID that is really missing says only that */
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "EVN|A01 x\rPV1|1|I\r", &l, &err),
                 HUB_EINVALID);
    cr_assert_str_eq(err.what, "required segment PID is missing");
}

/* An MSH field's error says where that field is (ERR-7's byte offset),
 * not where MSH starts: every one said 0 (F328). A field the header does
 * not have at all is the segment's place. */
Test(hl7_to_events, an_msh_fields_error_is_at_that_field)
{
    static const struct {
        const char *msg, *field, *at;
    } cases[] = {
        { "MSH|^~\\&|A|F|H|H|2026||ORU^R01|C1|P|2.5\rPID|1||M1\r",
          "MSH-9", "ORU^" },
        { "MSH|^~\\&|A|F|H|H|2026||ADT^A17|C1|P|2.5\rPID|1||M1\r",
          "MSH-9.2", "A17|" },
        { "MSH|^~\\&|A|F|H|H|2026||ADT^A01|C1|P|3.0\rPID|1||M1\r",
          "MSH-12", "3.0" },
        { "MSH|^~\\&|A|F|H|H|2026||ADT^A01|C1|P|\rPID|1||M1\r",
          "MSH-12", "\rPID" },
        { "MSH|^~\\&|A|F|H|H|2026||ADT^A01||P|2.5\rPID|1||M1\r",
          "MSH-10", "|P|2.5" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct canon_list l;
        struct hub_err err;
        const char *m = cases[i].msg;
        cr_assert_neq(run(m, &l, &err), HUB_OK, "%s", m);
        cr_assert_str_eq(err.field, cases[i].field, "%s", m);
        cr_assert_eq(err.offset, (size_t)(strstr(m, cases[i].at) - m),
                     "%s: %s at %zu", m, err.field, err.offset);
    }
    /* a header that ends before MSH-12: the segment's place */
    struct canon_list l;
    struct hub_err err;
    cr_assert_neq(run("MSH|^~\\&|A|F|H|H|2026||ADT^A01|C1|P\rPID|1||M1\r",
                      &l, &err), HUB_OK);
    cr_assert_str_eq(err.field, "MSH-12");
    cr_assert_eq(err.offset, 0);
}

/* Segments joined with no separator at all, as a string concatenated
 * without its CRs (tests/data/real/hl7v2/r29-practicefusion_ss_a01_
 * no_separators.hl7: "...^UUIDPID|1||..."): the PID is there, inside
 * another segment, and the reason says so, at that PID (F124). */
Test(hl7_to_events, says_the_separators_are_missing_when_pid_runs_on)
{
    static const char msg[] = "MSH|^~\\&|A|F|H|H|2026||ADT^A01|C1|P|2.5"
                              "EVN||2026^UUIDPID|1||M1^^^F^MR||D^J||PV1|1";
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run(msg, &l, &err), HUB_EINVALID);
    cr_assert_str_eq(err.field, "PID");
    cr_assert_str_eq(err.what, "required segment PID is missing: segment "
                               "separators (CR) are likely missing");
    cr_assert_eq(err.offset, (size_t)(strstr(msg, "PID|") - msg));
    /* the letters of a value that only end in "PID" before a component
     * separator, and a PID that is really missing, say only that */
    cr_assert_eq(run(MSH("ADT^A01", "2.5") "EVN|A01|RAPID^x\rPV1|1|I\r", &l,
                     &err),
                 HUB_EINVALID);
    cr_assert_str_eq(err.what, "required segment PID is missing");
}

/* ORBIS sends MSH-9 "ADT^A11_A09": the trigger and the message structure
 * joined in one component (tests/data/real/hl7v2/diz-unimr_a11_test.hl7,
 * refused as unsupported before); read as the trigger. Other shapes stay
 * refused. */
Test(hl7_to_events, reads_a_trigger_joined_to_its_structure)
{
    cJSON *j = event_of("MSH|^~\\&|A|F|H|H|2026||ADT^A11_A09|C1|P|2.5\r" PID
                        "PV1|1|I\r");
    cr_assert_str_eq(str_at(j, "type", NULL), "adt.update");
    cr_assert_str_eq(str_at(j, "source", "trigger"), "A11");
    cr_assert_str_eq(str_at(j, "encounter", "cancel_of"), "A01");
    cJSON_Delete(j);
    j = event_of("MSH|^~\\&|A|F|H|H|2026||ADT^A38_A05|C1|P|2.5\r" PID
                 "PV1|1|I\r");
    cr_assert_str_eq(str_at(j, "encounter", "cancel_of"), "A05");
    cJSON_Delete(j);
    static const char *const bad[] = { "A11-A09", "A11_", "A1_A09",
                                       "A11_A09X", "X11_A09" };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        char msg[512];
        struct canon_list l;
        struct hub_err err;
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|A|F|H|H|2026||ADT^%s|C1|P|2.5\r" PID, bad[k]);
        cr_assert_eq(run(msg, &l, &err), HUB_EUNSUPPORTED, "%s", bad[k]);
        cr_assert_str_eq(err.field, "MSH-9.2");
    }
}

static const char *line0_of(const char *msg)
{
    static char out[256];
    cJSON *j = event_of(msg);
    const cJSON *ad = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "addresses");
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(ad, 0), "lines");
    const char *l = cJSON_GetStringValue(cJSON_GetArrayItem(lines, 0));
    snprintf(out, sizeof(out), "%s", l ? l : "(none)");
    cJSON_Delete(j);
    return out;
}

/* SAD (XAD-1): German KIS send the whole line in SAD.1 and its parts
 * after it ("Strasse. 1&Strasse.&1", diz-unimr_a08_test.hl7): the line
 * once, not "Strasse. 1 Strasse. 1". Parts without a whole are joined. */
Test(hl7_to_events, keeps_sad_1_alone_when_it_holds_the_whole_street)
{
    cr_assert_str_eq(line0_of(MSH("ADT^A08", "2.5")
                              "PID|1||M1||D^J||||||Strasse. 1&Strasse.&1^^X\r"),
                     "Strasse. 1");
    cr_assert_str_eq(line0_of(MSH("ADT^A08", "2.5")
                              "PID|1||M1||D^J||||||Weg 35&Weg 35^^X\r"),
                     "Weg 35");
    cr_assert_str_eq(line0_of(MSH("ADT^A08", "2.5")
                              "PID|1||M1||D^J||||||12 Rue&&12^^X\r"),
                     "12 Rue");
    cr_assert_str_eq(line0_of(MSH("ADT^A08", "2.5")
                              "PID|1||M1||D^J||||||1000&Hospital Lane^^X\r"),
                     "1000 Hospital Lane");
    cr_assert_str_eq(line0_of(MSH("ADT^A08", "2.5")
                              "PID|1||M1||D^J||||||&Main St&9^^X\r"),
                     "Main St 9");
    cr_assert_str_eq(line0_of(MSH("ADT^A08", "2.5")
                              "PID|1||M1||D^J||||||Str. 1&^^X\r"),
                     "Str. 1");
}

/* XAD-8 (other geographic designation) is the line of an address that
 * has no street, city or state: SS-MIX2 (Japan) sends the whole address
 * there (tmitanitky_ssmix2_adt_a08.hl7). Beside a street it is not read. */
Test(hl7_to_events, takes_xad_8_as_the_line_of_an_address_that_has_no_other)
{
    cr_assert_str_eq(line0_of(MSH("ADT^A08", "2.5")
                              "PID|1||M1||D^J||||||^^^^422-8033^JPN^H^"
                              "Shizuoka 1-3-5\r"),
                     "Shizuoka 1-3-5");
    cr_assert_str_eq(line0_of(MSH("ADT^A08", "2.5")
                              "PID|1||M1||D^J||||||1 Main^^X^^^^H^Near\r"),
                     "1 Main");
}

/* The lines of the first address of PID, as one string "a|b" (or
 * "(none)" when no address was written). */
static const char *lines_of(const char *pid)
{
    static char out[256];
    char msg[1024];
    snprintf(msg, sizeof(msg), MSH("ADT^A01", "2.3") "%s\r", pid);
    cJSON *j = event_of(msg);
    const cJSON *ad = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "addresses");
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(ad, 0), "lines");
    size_t q = 0;
    out[0] = '\0';
    for (int i = 0; i < cJSON_GetArraySize(lines); i++)
        q += (size_t)snprintf(out + q, sizeof(out) - q, "%s%s", i ? "|" : "",
                              cJSON_GetStringValue(cJSON_GetArrayItem(lines,
                                                                      i)));
    if (!ad)
        snprintf(out, sizeof(out), "(none)");
    cJSON_Delete(j);
    return out;
}

/* SOURCES.md F176: XAD-2 (other designation) is ST, with no
 * subcomponents, but Eskulap (a Polish HIS) splits the number there into
 * house and flat, "Piłsudskiego^112a&2b^Poznań", and writes HL7's null
 * in each when it has no address, ""^""&""^""^^"" (tests/data/real/
 * hl7v2/r43-icupad_eskulap_a01_*.hl7): the line was "112a&2b", and
 * ""&"" an address of its own. The pieces are joined by a space, as
 * SAD's are; nulls are none. */
Test(hl7_to_events, joins_the_subcomponents_of_xad_2_and_drops_their_nulls)
{
    cr_assert_str_eq(lines_of("PID|1||M1||D^J||||||Main^112a&2b^X"),
                     "Main|112a 2b");
    cr_assert_str_eq(lines_of("PID|1||M1||D^J||||||\"\"^\"\"&\"\"^\"\"^^\"\""),
                     "(none)");
    cr_assert_str_eq(lines_of("PID|1||M1||D^J||||||Main^&2b&^X"),
                     "Main|2b");
    cr_assert_str_eq(lines_of("PID|1||M1||D^J||||||Main^a&b\\T\\c^X"),
                     "Main|a b&c");
    /* a long repetition (past the 64 bytes the masks cover) */
    cr_assert_str_eq(lines_of("PID|1||M1||D^J||||||Ulica Marszalka Jozefa "
                              "Pilsudskiego^112a&2b^Poznan^^64-500^POL^H"),
                     "Ulica Marszalka Jozefa Pilsudskiego|112a 2b");
    /* nothing else changes: one piece, or subcomponents elsewhere */
    cr_assert_str_eq(lines_of("PID|1||M1||D^J||||||Main^Apt 2^X"),
                     "Main|Apt 2");
    cr_assert_str_eq(lines_of("PID|1||M1||D^J||||||1&Main^Apt 2^X"),
                     "1 Main|Apt 2");
}

/* SOURCES.md F177, F178: Cerner Millennium (UK, Homerton's A31,
 * r43-hl7proxy_homerton_a31_cerner_text_codes.hl7) names XTN-2 and XAD-7
 * in words, as the "HOME" its US feeds send: "07777111111^Mobile
 * Number^Tel" in PID-13 was written as a home phone, and the address of
 * type "Previous" as one the patient lives at, with no use. */
Test(hl7_to_events, reads_cerner_words_for_a_mobile_and_a_previous_address)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", MSH("ADT^A31", "2.3")
             "PID|1||M1||D^J||||||Flat 1^15 Main^^^N1 1AA^^home~MAJOR HOUSE^"
             "^^^^^Previous~2 Side St^^^^^^PREVIOUS~3 Rd^^^^^^Prev||^Home^Tel~"
             "07777111111^Mobile Number^Tel~0208^MOBILE~0209^Mob\r");
    cJSON *j = event_of(msg);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "patient");
    const cJSON *ad = cJSON_GetObjectItemCaseSensitive(p, "addresses");
    cr_assert_eq(cJSON_GetArraySize(ad), 4);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ad, 0), "use", NULL), "home");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ad, 1), "use", NULL), "old");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ad, 2), "use", NULL), "old");
    cr_assert_null(str_at(cJSON_GetArrayItem(ad, 3), "use", NULL));
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(p, "phones");
    cr_assert_eq(cJSON_GetArraySize(ph), 3);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "use", NULL),
                     "mobile");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 1), "use", NULL),
                     "mobile");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 2), "use", NULL), "home");
    cJSON_Delete(j);
}

static cJSON *phones_of(const char *pid)
{
    char msg[1024];
    snprintf(msg, sizeof(msg), MSH("ADT^A08", "2.5") "%s\r", pid);
    cJSON *j = event_of(msg);
    cJSON *ph = cJSON_DetachItemFromObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "phones");
    cJSON_Delete(j);
    return ph;
}

/* XTN-12, the unformatted number, when neither XTN-1 nor XTN-7 is sent
 * (SS-MIX2 sends nothing else); an e-mail address in XTN-1 (use NET, or
 * an '@': "a@b.de^NET^X.400^a@b.de") is no phone and is left out. */
Test(hl7_to_events, reads_xtn_12_and_leaves_email_addresses_out_of_phones)
{
    cJSON *ph = phones_of("PID|1||M1||D^J||||||||^PRN^PH^^^^^^^^^054-000-0000|"
                          "^WPN^PH^^^^^^^^^03-3599-9993");
    cr_assert_eq(cJSON_GetArraySize(ph), 2);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "value", NULL),
                     "054-000-0000");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 1), "use", NULL), "work");
    cJSON_Delete(ph);
    /* XTN-7 still wins over XTN-12 */
    ph = phones_of("PID|1||M1||D^J||||||||^PRN^PH^^49^451^2468013^^^^^"
                   "0451/2468013");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "value", NULL),
                     "+49 (451) 2468013");
    cJSON_Delete(ph);
    ph = phones_of("PID|1||M1||D^J||||||||+49 171 1^^CP~a@b.de^NET^X.400^"
                   "a@b.de~x@y.org^^Internet~^NET^Internet^z@y.org~5551");
    cr_assert_eq(cJSON_GetArraySize(ph), 2, "%s", cJSON_PrintUnformatted(ph));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "value", NULL),
                     "+49 171 1");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 1), "value", NULL),
                     "5551");
    cJSON_Delete(ph);
}

/* SOURCES.md F231: Epic writes XTN-3 H, M or W (home, mobile, work)
 * beside XTN-2 P (r48-elixir_hl7_demo_epic_memorial_a08.hl7, and Epic's
 * orders from Manchester and Riyadh): its mobile in PID-13 was written
 * as a home phone, a care team calling it would not know to text it. */
Test(hl7_to_events, reads_epic_equipment_m_as_a_mobile)
{
    cJSON *ph = phones_of("PID|1||M1||D^J||||||||(555)777-5554^P^H^^^555^"
                          "7775554~^NET^Internet^a@b.org~(555)777-5500^P^M^^^"
                          "555^7775500~5550006^PRN^m|(555)777-5511^P^W^^^555^"
                          "7775511");
    cr_assert_eq(cJSON_GetArraySize(ph), 4, "%s", cJSON_PrintUnformatted(ph));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "use", NULL), "home");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 1), "value", NULL),
                     "(555)777-5500");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 1), "use", NULL),
                     "mobile");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 2), "use", NULL),
                     "mobile");     /* equipment over use, as for CP */
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 3), "use", NULL), "work");
    cJSON_Delete(ph);
}

/* XTN-3 CELL, a word for table 0202's CP that two feeds write beside
 * XTN-2 PRN (hl7_tea's A03, "(896)321-4545^PRN^CELL"; a Kansas ADT with
 * "^PRN^CELL" and "^WPN^EMP"): a mobile, not the home PRN says (F3860) */
Test(hl7_to_events, reads_equipment_cell_as_a_mobile)
{
    cJSON *ph = phones_of("PID|1||M1||D^J||||||||(896)321-4545^PRN^CELL~"
                          "785-282-1256^PRN^cell~5550007^PRN^PH|"
                          "(999)555-0100^WPN^EMP");
    cr_assert_eq(cJSON_GetArraySize(ph), 4, "%s", cJSON_PrintUnformatted(ph));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "use", NULL),
                     "mobile");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 1), "use", NULL),
                     "mobile");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 2), "use", NULL), "home");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 3), "use", NULL), "work");
    cJSON_Delete(ph);
}

/* A number whose equipment (XTN-3, table 0202) is no telephone is no
 * phone: a fax (IHE PAM France lists it with the phones, "^WPN^FX^...",
 * ben0it-t_pam_fr_a31.hl7, and it was written as a work phone), a modem
 * or a pager; as the FHIR adapter takes only system "phone". */
Test(hl7_to_events, leaves_fax_modem_and_pager_numbers_out_of_phones)
{
    cJSON *ph = phones_of("PID|1||M1||D^J||||||||^PRN^PH^^^^^^^^^0102030405~"
                          "^WPN^FX^^^^^^^^^0302030405~^PRN^fx^^^^5550001~"
                          "5550002^^MD~5550003^WPN^BP~^PRN^CP^^^^^^^^^0602|"
                          "^WPN^FX^^^^5550004~^WPN^PH^^^^^^^^^0202030405");
    cr_assert_eq(cJSON_GetArraySize(ph), 3, "%s", cJSON_PrintUnformatted(ph));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "value", NULL),
                     "0102030405");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 1), "value", NULL),
                     "0602");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 1), "use", NULL),
                     "mobile");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 2), "value", NULL),
                     "0202030405");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 2), "use", NULL), "work");
    cJSON_Delete(ph);
}

/* A value with no digit is no phone number: a French FHIRHub test A04
 * sends its XTN one component early ("PRN^PH^0145123456~PRN^CP^06...~
 * Internet^X.400^a@b.fr"), and "PRN" and "Internet" were written as the
 * patient's phones (tests/data/real/SOURCES.md, F122). Nor is one of
 * zeros alone, the placeholder ORBIS sends for no number (F123). Both are
 * left out with a warning; a number with a digit 1-9 anywhere stays. */
Test(hl7_to_events, leaves_a_phone_with_no_digit_or_zeros_alone_out)
{
    char msg[1024];
    snprintf(msg, sizeof(msg), MSH("ADT^A08", "2.5") "%s\r",
             "PID|1||M1||D^J||||||||PRN^PH^0145123456~PRN^CP^0687654321~"
             "Internet^X.400^a@b.fr~(555)1^PRN~+33 1^PRN~01^PRN|"
             "NONE^WPN~x1^WPN~0000000000000^WPN^PH^^^00000^0000000~"
             "(000) 000-0000^WPN");
    cJSON *j = event_of(msg);
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "phones");
    cr_assert_eq(cJSON_GetArraySize(ph), 4, "%s", cJSON_PrintUnformatted(ph));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "value", NULL),
                     "(555)1");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 1), "value", NULL),
                     "+33 1");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 2), "value", NULL), "01");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 3), "value", NULL), "x1");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "warnings");
    /* and PV1's, which ADT_A01 requires */
    cr_assert_eq(cJSON_GetArraySize(w), 4, "%s", cJSON_PrintUnformatted(w));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(w, 0), "field", NULL),
                     "PID-13");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(w, 0), "what", NULL),
                     "phone number has no digit; left out");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(w, 1), "field", NULL),
                     "PID-14");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(w, 2), "field", NULL),
                     "PID-14");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(w, 2), "what", NULL),
                     "phone number is a placeholder of zeros; left out");
    cJSON_Delete(j);
}

/* A number sent in XTN.4, the e-mail address, a component late
 * ("^^CP^0831234567", seen in round 205's Irish samples): not read as
 * the number, and no longer left out unsaid (F3341). An e-mail address
 * there, an X.400 one with digits (F3423), or a fax's number, gives no
 * warning. */
Test(hl7_to_events, warns_of_a_phone_number_in_the_email_component)
{
    char msg[1024];
    snprintf(msg, sizeof(msg), MSH("ADT^A08", "2.5") "%s\r",
             "PID|1||M1||D^J||||||||^^CP^0831234567~^NET^Internet^a@b.ie~"
             "^^^c@d.ie|^WPN^FX^0123456~^^PH^^^1^2345678~"
             "^WPN^X.400^C=DE;A=VIAT;P=AOK2;S=Lee");
    cJSON *j = event_of(msg);
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "phones");
    cr_assert_eq(cJSON_GetArraySize(ph), 1, "%s", cJSON_PrintUnformatted(ph));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "value", NULL),
                     "(1) 2345678");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "warnings");
    /* and PV1's, which ADT_A01 requires */
    cr_assert_eq(cJSON_GetArraySize(w), 2, "%s", cJSON_PrintUnformatted(w));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(w, 0), "field", NULL),
                     "PID-13");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(w, 0), "what", NULL),
                     "phone number sent in the e-mail component (XTN.4); "
                     "left out");
    cJSON_Delete(j);
}

/* XTN-2 PRS, personal, is a mobile phone (HL7 v2-to-FHIR, table 0201 to
 * ContactPoint.use: PRS is equivalent to mobile): the Welsh chemotherapy
 * feed's "07000000001^PRS" in PID-13 was written as a home phone
 * (tests/data/real/SOURCES.md, F119). */
Test(hl7_to_events, reads_a_personal_phone_as_mobile)
{
    cJSON *ph = phones_of("PID|1||M1||D^J||||||||5551^PRN~5552^PRS~5553^prs"
                          "|5554^PRS");
    cr_assert_eq(cJSON_GetArraySize(ph), 4, "%s", cJSON_PrintUnformatted(ph));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "use", NULL), "home");
    for (int i = 1; i < 4; i++)
        cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, i), "use", NULL),
                         "mobile", "phone %d", i);
    cJSON_Delete(ph);
}

/* PID-40 (patient telecommunication information) came in v2.7; before it
 * PID ends at PID-39, and what stands past it is no phone of the patient:
 * HAPI's v2.2 example A01 runs its PV1 into PID, and PID-40 holds a
 * consulting doctor (r23-hieos_hapi_a01_v22_pv1_in_pid.hl7), whose id was
 * written as the patient's phone. */
Test(hl7_to_events, reads_pid_40_as_phones_only_from_v2_7)
{
    static const char pid[] = "PID|1||M1^^^H^MR||D^J||||||||5551|||||||||||"
                              "||||||||||||||||777889^DOC^SAM~^PRN^CP^^^^5552"
                              "\r";
    static const char *const vers[] = { "2.2", "2.5.1", "2.6", "2.7",
                                        "2.8.2" };
    for (size_t i = 0; i < sizeof(vers) / sizeof(vers[0]); i++) {
        char msg[1024];
        snprintf(msg, sizeof(msg), MSH("ADT^A08", "%s") "%s", vers[i], pid);
        cJSON *j = event_of(msg);
        const cJSON *ph = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "patient"), "phones");
        bool v27 = vers[i][2] >= '7';
        cr_assert_eq(cJSON_GetArraySize(ph), v27 ? 3 : 1, "v%s: %s",
                     vers[i], cJSON_PrintUnformatted(ph));
        cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "value", NULL),
                         "5551");
        if (v27)
            cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 2), "use", NULL),
                             "mobile");
        cJSON_Delete(j);
    }
}

/* PID-29 before PID-7 (diz-unimr_a08_test.hl7: a newborn with PID-30 Y and
 * a death date 14 years before its birth) is kept as sent, with a
 * warning. */
Test(hl7_to_events, warns_of_a_death_date_before_the_birth_date)
{
    cr_assert_str_eq(warnings_of(MSH("ADT^A08", "2.5")
                                 "PID|1||M1^^^F^MR||D^J||20251102|M||||||||"
                                 "|||||||||||||201103240800|Y\rPV1|1|I\r"),
                     "PID-29:death date is before the birth date;");
    cr_assert_str_eq(warnings_of(MSH("ADT^A08", "2.5")
                                 "PID|1||M1^^^F^MR||D^J||20251102|M||||||||"
                                 "|||||||||||||20251102|Y\rPV1|1|I\r"),
                     "");
}

/* F77: a death date after the message was sent cannot be true either (the
 * VA MPI's A08 of 2007 with a PID-29 of 2015): kept as sent, deceased, with
 * a warning, as a birth date after it is. The message's own day and an
 * earlier one: no word. */
Test(hl7_to_events, warns_of_a_death_date_after_the_message_time)
{
    cr_assert_str_eq(warnings_of(MSH("ADT^A08", "2.5")
                                 "PID|1||M1^^^F^MR||D^J||19800202|M||||||||"
                                 "|||||||||||||20270512|Y\rPV1|1|I\r"),
                     "PID-29:death date is after the message time;");
    cJSON *j = event_of(MSH("ADT^A08", "2.5")
                        "PID|1||M1^^^F^MR||D^J||19800202|M||||||||"
                        "|||||||||||||202701|Y\rPV1|1|I\r");
    cr_assert_str_eq(str_at(j, "patient", "deceased_at"), "2027-01");
    cJSON_Delete(j);
    cr_assert_str_eq(warnings_of(MSH("ADT^A08", "2.5")
                                 "PID|1||M1^^^F^MR||D^J||19800202|M||||||||"
                                 "|||||||||||||20260115|Y\rPV1|1|I\r"),
                     "");
    cr_assert_str_eq(warnings_of(MSH("ADT^A08", "2.5")
                                 "PID|1||M1^^^F^MR||D^J||19800202|M||||||||"
                                 "|||||||||||||2025|Y\rPV1|1|I\r"),
                     "");
}

/* tests/data/real/SOURCES.md F1141: Cerebral Plus (r98-cerebralplus_phkl_
 * a13_open_escape.hl7) sends PID-4 "PP^N7356938": the type in CX.1, the
 * passport number in CX.2, the check digit. Linked on, "PP" would join
 * every such patient of the sender into one. A CX.1 with no digit whose
 * CX.2 has three characters or more and a digit is kept, inactive, with a
 * warning; a check digit of one or two characters, a CX.1 with a digit,
 * or one with no CX.2 links as before. */
Test(hl7_to_events, an_identifier_whose_number_is_in_its_check_digit_links_no_one)
{
    static const struct {
        const char *cx, *field, *value;
        bool inactive;
    } c[] = {
        { "M1^^^F^MR~PP^N7356938|", "PID-3", "PP", true },
        { "M1^^^F^MR|PP^N7356938", "PID-4", "PP", true },
        { "M1^^^F^MR~ABC^12345^^^PI|", "PID-3", "ABC", true },
        { "M1^^^F^MR~ABC^1^M10^F^PI|", NULL, "ABC", false },
        { "M1^^^F^MR~ABC^97^ISO^F^PI|", NULL, "ABC", false },
        { "M1^^^F^MR~A1^N7356938^^F^PI|", NULL, "A1", false },
        { "M1^^^F^MR~ABCDEF^^^F^PI|", NULL, "ABCDEF", false },
        { "M1^^^F^MR~PP^XYZ^^F^PI|", NULL, "PP", false },
    };
    for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
        char msg[512], want[160];
        snprintf(msg, sizeof(msg), MSH("ADT^A08", "2.5")
                 "PID|1||%s|D^J||19800202|M\rPV1|1|I\r", c[k].cx);
        cJSON *j = event_of(msg);
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "patient"), "identifiers");
        const cJSON *id = cJSON_GetArrayItem(ids, 1);
        cr_assert_str_eq(str_at(id, "value", NULL), c[k].value, "%s",
                         c[k].cx);
        cr_assert_eq(cJSON_IsTrue(cJSON_GetObjectItem(id, "inactive")),
                     c[k].inactive, "%s", c[k].cx);
        cr_assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(ids, 0),
                                           "inactive"), "%s", c[k].cx);
        cJSON_Delete(j);
        snprintf(want, sizeof(want), "%s%s", c[k].field ? c[k].field : "",
                 c[k].field ? ":identifier holds no number and its check "
                              "digit does; not linked;" : "");
        cr_assert_str_eq(warnings_of(msg), want, "%s", c[k].cx);
    }
}

/* tests/data/real/SOURCES.md F1140: a PID-29 that is no time says no death.
 * Senders whose PID fields run one late put PID-30's "N" there (a Go
 * library's A04, r98-golevel7v2_complex_a04_escapes_cr.hl7) or PID-28's
 * nationality (Cerebral Plus's A13, r98-cerebralplus_phkl_a13_open_
 * escape.hl7): the patient was sent as deceased. Now deceased only when
 * PID-29 reads as a time (ISO forms and a bare offset sign as anywhere,
 * with their warnings) or PID-30 says Y; a PID-30 Y with a PID-29 that is
 * no time is deceased as before, without deceased_at. */
Test(hl7_to_events, a_death_date_that_is_no_time_says_no_death)
{
    static const char *const no[] = { "N", "IND", "Y", "UNKNOWN", "2025-13",
                                      "20251340", "\"\"x" };
    for (size_t k = 0; k < sizeof(no) / sizeof(no[0]); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg), MSH("ADT^A08", "2.5")
                 "PID|1||M1^^^F^MR||D^J||19800202|M||||||||"
                 "|||||||||||||%s\rPV1|1|I\r", no[k]);
        cJSON *j = event_of(msg);
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(j, "patient");
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(pt, "deceased"),
                       "%s", no[k]);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(pt, "deceased_at"),
                       "%s", no[k]);
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg), "PID-29:death date is not an HL7 "
                         "DTM; not read as a death;", "%s", no[k]);
    }
    static const struct {
        const char *pid29, *pid30, *at, *warns;
    } yes[] = {
        { "20250101", "", "2025-01-01", "" },
        { "2025-01-01", "", "2025-01-01",
          "PID-29:timestamp in ISO 8601 form, not an HL7 DTM: read as the "
          "time it spells;" },
        { "20250101+", "", "2025-01-01",
          "PID-29:timestamp ends in an offset sign without an offset: read "
          "as the time before it;" },
        { "N", "Y", NULL, "PID-29:timestamp is not an HL7 DTM;" },
        { "", "Y", NULL, "" },
    };
    for (size_t k = 0; k < sizeof(yes) / sizeof(yes[0]); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg), MSH("ADT^A08", "2.5")
                 "PID|1||M1^^^F^MR||D^J||19800202|M||||||||"
                 "|||||||||||||%s|%s\rPV1|1|I\r", yes[k].pid29, yes[k].pid30);
        cJSON *j = event_of(msg);
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(j, "patient");
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pt,
                                                                "deceased")),
                  "%s|%s", yes[k].pid29, yes[k].pid30);
        if (yes[k].at)
            cr_assert_str_eq(str_at(pt, "deceased_at", NULL), yes[k].at);
        else
            cr_assert_null(str_at(pt, "deceased_at", NULL));
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg), yes[k].warns, "%s|%s",
                         yes[k].pid29, yes[k].pid30);
    }
}

/* tests/data/real/SOURCES.md F2501: PID-30 "N" (table 0136, not deceased)
 * beside a PID-29 that reads as a time contradicts it (a death recorded in
 * error and reversed by PID-30 alone): the patient is not sent as dead, as
 * F1140 decided for a PID-29 that is no time, with a warning at PID-29. */
Test(hl7_to_events, a_death_date_beside_not_deceased_says_no_death)
{
    static const char *const n[] = { "N", "n", "FALSE" };
    for (size_t k = 0; k < sizeof(n) / sizeof(n[0]); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg), MSH("ADT^A08", "2.5")
                 "PID|1||M1^^^F^MR||D^J||19800202|M||||||||"
                 "|||||||||||||20250101|%s\rPV1|1|I\r", n[k]);
        cJSON *j = event_of(msg);
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(j, "patient");
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(pt, "deceased"),
                       "%s", n[k]);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(pt, "deceased_at"),
                       "%s", n[k]);
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg), "PID-29:death date beside PID-30 "
                         "\"N\" (not deceased); not read as a death;", "%s",
                         n[k]);
    }
    /* fields one late (PID-29 "N", PID-30 "N"): no death date to speak of
     * (round 173, F2705) */
    cr_assert_str_eq(warnings_of(MSH("ADT^A08", "2.5")
                                 "PID|1||M1^^^F^MR||D^J||19800202|M||||||||"
                                 "|||||||||||||N|N\rPV1|1|I\r"),
                     "PID-29:death date is not an HL7 DTM; not read as a "
                     "death;");
}

/* tests/data/real/SOURCES.md F154: a discharge dated before the admission
 * (PV1-45 before PV1-44; a syndromic surveillance test A01 sends one 78
 * days early) is kept as sent, with a warning, as a death date before the
 * birth is. Compared to the day, each in the sender's own time: the same
 * day, whatever the hours or offsets, says nothing; a malformed time (left
 * out with its own warning) is compared by the digits it starts with. */
Test(hl7_to_events, warns_of_a_discharge_before_the_admission)
{
#define PV1T(adm, dis) "PV1|1|E|||||||||||||||||V1|||||||||||||||||09||||||||" \
                       adm "|" dis "\r"
    const char *msg = MSH("ADT^A03", "2.5") PID
        PV1T("201104011406-0500", "20110113164512-0500");
    cr_assert_str_eq(warnings_of(msg),
                     "PV1-45:discharge time is before the admission time;");
    cJSON *j = event_of(msg);
    cr_assert_str_eq(str_at(j, "encounter", "admitted_at"),
                     "2011-04-01T14:06:00-05:00");
    cr_assert_str_eq(str_at(j, "encounter", "discharged_at"),
                     "2011-01-13T16:45:12-05:00");
    cJSON_Delete(j);
    cr_assert_str_eq(warnings_of(MSH("ADT^A03", "2.5") PID
                                 PV1T("20110401", "201103")),
                     "PV1-45:discharge time is before the admission time;");
    /* in order, the same day, either alone, or a malformed one: nothing */
    cr_assert_str_eq(warnings_of(MSH("ADT^A03", "2.5") PID
                                 PV1T("201104011406", "201104051200")), "");
    cr_assert_str_eq(warnings_of(MSH("ADT^A03", "2.5") PID
                                 PV1T("201104011406-0500",
                                      "201104010900+0900")), "");
    cr_assert_str_eq(warnings_of(MSH("ADT^A03", "2.5") PID
                                 PV1T("201104011406", "")), "");
    cr_assert_str_eq(warnings_of(MSH("ADT^A03", "2.5") PID
                                 PV1T("", "20110113")), "");
    cr_assert_str_eq(warnings_of(MSH("ADT^A03", "2.5") PID
                                 PV1T("20110401", "2011-01-13X")),
                     "PV1-45:timestamp is not an HL7 DTM;");
#undef PV1T
}

/* HL7 v2.5 ch. 3 keeps EVN-1 for backward compatibility only: MSH-9.2 says
 * the event. ORBIS sends ADT^A08 with EVN-1 A04 (tests/data/real/hl7v2/
 * diz-unimr_a04_amb_notfall.hl7): taken as A08, and the sender is told
 * that its two disagree, in words that hold neither value. Agreeing, empty
 * or absent EVN-1: no word. */
Test(hl7_to_events, warns_when_evn_1_names_another_trigger_than_msh_9_2)
{
    const char *msg = MSH("ADT^A08^ADT_A01", "2.5") "EVN|A04|2026\r" PID
                      "PV1|1|O\r";
    cr_assert_str_eq(warnings_of(msg),
                     "EVN-1:event type differs from MSH-9.2, which was "
                     "taken;");
    cJSON *j = event_of(msg);
    cr_assert_str_eq(str_at(j, "type", NULL), "adt.update");
    cJSON_Delete(j);
    cr_assert_str_eq(warnings_of(MSH("ADT^A08", "2.5") "EVN|A08|2026\r" PID
                                 "PV1|1|O\r"),
                     "");
    cr_assert_str_eq(warnings_of(MSH("ADT^A08", "2.5") "EVN||2026\r" PID
                                 "PV1|1|O\r"),
                     "");
    cr_assert_str_eq(warnings_of(MSH("ADT^A08", "2.5") PID "PV1|1|O\r"), "");
    /* the joined form is read as its trigger, and so compared */
    cr_assert_str_eq(warnings_of(MSH("ADT^A11_A09", "2.5") "EVN|A11|2026\r"
                                 PID "PV1|1|O\r"),
                     "");
    /* MSH-9.2 empty: EVN-1 is the trigger, nothing to disagree with */
    cr_assert_str_eq(warnings_of(MSH("ADT", "2.2") "EVN|A08|2026\r" PID
                                 "PV1|1|O\r"),
                     "");
    /* F45: one event in either case */
    cr_assert_str_eq(warnings_of(MSH("ADT^a08", "2.5") "EVN|A08|2026\r" PID
                                 "PV1|1|O\r"),
                     "");
    cr_assert_str_eq(warnings_of(MSH("ADT^A08", "2.5") "EVN|a08|2026\r" PID
                                 "PV1|1|O\r"),
                     "");
    cr_assert_str_eq(warnings_of(MSH("ADT^a08", "2.5") "EVN|a04|2026\r" PID
                                 "PV1|1|O\r"),
                     "EVN-1:event type differs from MSH-9.2, which was "
                     "taken;");
}

/* SS-MIX2 sends each name twice, in kanji (XPN-8 I, ideographic) and in
 * kana (P, phonetic), both of type L: the canonical name says which is
 * which (tests/data/real/hl7v2/tmitanitky_ssmix2_adt_a08.hl7). Table 4000
 * A is alphabetic; another value, or none, says nothing. */
Test(hl7_to_events, carries_the_representation_of_each_name)
{
    cJSON *j = event_of(MSH("ADT^A08", "2.5")
                        "PID|1||M1^^^F^MR||\xe5\xb1\xb1\xe7\x94\xb0^"
                        "\xe5\xa4\xaa\xe9\x83\x8e^^^^^L^I~"
                        "\xe3\x83\xa4\xe3\x83\x9e\xe3\x83\x80^"
                        "\xe3\x82\xbf\xe3\x83\xad\xe3\x82\xa6^^^^^L^P~"
                        "Yamada^Taro^^^^^L^A~Doe^Jo^^^^^L^X~Roe^Al^^^^^L\r"
                        "PV1|1|O\r");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "names");
    cr_assert_eq(cJSON_GetArraySize(names), 5);
    static const char *want[] = { "ideographic", "phonetic", "alphabetic",
                                  NULL, NULL };
    for (int k = 0; k < 5; k++) {
        const char *got = str_at(cJSON_GetArrayItem(names, k),
                                 "representation", NULL);
        if (want[k])
            cr_assert(got && strcmp(got, want[k]) == 0, "name %d: %s", k,
                      got ? got : "(none)");
        else
            cr_assert_null(got, "name %d: %s", k, got);
        cr_assert_str_eq(str_at(cJSON_GetArrayItem(names, k), "use", NULL),
                         "official");
    }
    cJSON_Delete(j);
}

/* XPN-7 (table 0200) to FHIR name use as the v2-to-FHIR ConceptMap has
 * it: T is an indigenous or tribal name, not FHIR's temp, and B the name
 * at birth, not the official one: neither has a use (F508); L and C
 * official, D and A usual, M maiden, N nickname, S anonymous. */
/* PID-8 (table 0001) as the v2-to-FHIR ConceptMap
 * table-hl70001-to-administrative-gender maps it: A and N are other
 * (F509: N, not applicable, was unknown), U unknown. */
Test(hl7_to_events, maps_sex_as_the_v2_to_fhir_concept_map)
{
    static const char *const c[][2] = {
        { "F", "F" }, { "M", "M" }, { "O", "O" }, { "A", "O" },
        { "N", "O" }, { "U", "U" },
    };
    for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 MSH("ADT^A28", "2.5") "PID|1||M1^^^F^MR||D^J||1980|%s\r"
                 "PV1|1|O\r", c[k][0]);
        cJSON *j = event_of(msg);
        cr_expect_str_eq(str_at(j, "patient", "sex"), c[k][1], "%s", c[k][0]);
        cJSON_Delete(j);
    }
}

/* XAD-7 (table 0190) as the v2-to-FHIR ConceptMap
 * table-hl70190-to-address-use maps it: H home, B and O work, C temp, BA
 * old, and BI billing (F510: BI had no use). */
Test(hl7_to_events, maps_address_type_as_the_v2_to_fhir_concept_map)
{
    cJSON *j = event_of(MSH("ADT^A28", "2.5")
                        "PID|1||M1^^^F^MR||D^J||||||1 A St^^X^^^^H~"
                        "2 B St^^X^^^^B~3 C St^^X^^^^O~4 D St^^X^^^^C~"
                        "5 E St^^X^^^^BA~6 F St^^X^^^^BI\rPV1|1|O\r");
    const cJSON *ad = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "addresses");
    cr_assert_eq(cJSON_GetArraySize(ad), 6);
    static const char *want[] = { "home", "work", "work", "temp", "old",
                                  "billing" };
    for (int k = 0; k < 6; k++)
        cr_expect_str_eq(str_at(cJSON_GetArrayItem(ad, k), "use", NULL),
                         want[k], "address %d", k);
    cJSON_Delete(j);
}

Test(hl7_to_events, maps_name_type_as_the_v2_to_fhir_concept_map)
{
    cJSON *j = event_of(MSH("ADT^A28", "2.5")
                        "PID|1||M1^^^F^MR||A^B^^^^^T~C^D^^^^^B~E^F^^^^^L~"
                        "G^H^^^^^C~I^J^^^^^D~K^L^^^^^A~M^N^^^^^M~O^P^^^^^N~"
                        "Q^R^^^^^S\rPV1|1|O\r");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "names");
    cr_assert_eq(cJSON_GetArraySize(names), 9);
    static const char *want[] = { NULL, NULL, "official", "official",
                                  "usual", "usual", "maiden", "nickname",
                                  "anonymous" };
    for (int k = 0; k < 9; k++) {
        const char *got = str_at(cJSON_GetArrayItem(names, k), "use", NULL);
        if (want[k])
            cr_expect(got && strcmp(got, want[k]) == 0, "name %d: %s", k,
                      got ? got : "(none)");
        else
            cr_expect_null(got, "name %d: %s", k, got);
    }
    cJSON_Delete(j);
}

/* HL7 v2.3's own character set escapes (MSH-20 "2.3"): the name reaches
 * the event in UTF-8, as the same name sent in ISO 2022 (ESC) does. */
Test(hl7_to_events, writes_a_name_sent_in_charset_escapes_as_utf8)
{
    cJSON *j = event_of("MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A08|"
                        "CTRL1|P|2.5||||||~ISO IR87||2.3\r"
                        "PID|1||M1^^^F^MR||\\M2442\\;3ED\\C2842\\^"
                        "\\M2442\\B@O:\\C2842\\^^^^^L^I||19800131|M\r"
                        "PV1|1|O\r");
    const cJSON *name = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "patient"), "names"),
        0);
    cr_assert_str_eq(str_at(name, "family", NULL),
                     "\xe5\xb1\xb1\xe7\x94\xb0");       /* 山田 */
    cr_assert_str_eq(
        cJSON_GetStringValue(cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(name, "given"), 0)),
        "\xe5\xa4\xaa\xe9\x83\x8e");                    /* 太郎 */
    cJSON_Delete(j);
}

/* Outside the US PID-19 holds the country's own number: Malaffi (Abu Dhabi)
 * sends the Emirates ID there (tests/data/real/hl7v2/
 * culytechyae_adt_a01_sample.hl7). Where the patient's address (XAD-6),
 * else MSH-17 (letters only: test feeds put dialling codes there), names
 * another country, a number of six digits or more is kept as sent, type
 * SS, no system, with no SSA warning; anything else there is left out
 * with a warning that does not speak of the SSA. In the US nothing
 * changes. */
Test(hl7_to_events, keeps_a_national_number_in_pid_19_outside_the_us)
{
    const char *ae = MSH("ADT^A01", "2.5.1")
        "PID|1||789012^^^&MF7163||Sample^P||19900315|M|||"
        "1 Yas St^^Abu Dhabi^1^123456^ARE^H||||||||784-1990-1234567-1\r"
        "PV1|1|I\r";
    cJSON *j = event_of(ae);
    const cJSON *ids = identifiers_of(j);
    cr_assert_eq(cJSON_GetArraySize(ids), 2);
    const cJSON *id = cJSON_GetArrayItem(ids, 1);
    cr_assert_str_eq(str_at(id, "value", NULL), "784-1990-1234567-1");
    cr_assert_str_eq(str_at(id, "type", NULL), "SS");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(id, "system"));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ids, 0), "system", NULL),
                     "MF7163");
    cJSON_Delete(j);
    cr_assert_str_eq(warnings_of(ae), "");

    /* no address: MSH-17 says the country, when it is letters */
    cr_assert_str_eq(
        warnings_of("MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5|||||ARE\r"
                    "PID|1||M1^^^F^MR||D^J||||||||||||||78419876543210\r"
                    "PV1|1|I\r"),
        "");
    cr_assert_str_eq(
        warnings_of("MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5|||||44\r"
                    "PID|1||M1^^^F^MR||D^J||||||||||||||78419876543210\r"
                    "PV1|1|I\r"),
        "PID-19:SSN is not nine digits the SSA could have issued;");
    /* a US address: an SSN or nothing, as before */
    cr_assert_str_eq(
        warnings_of(MSH("ADT^A01", "2.5")
                    "PID|1||M1^^^F^MR||D^J||||||1 Main St^^X^NY^1^USA||||||"
                    "||78419876543210\rPV1|1|I\r"),
        "PID-19:SSN is not nine digits the SSA could have issued;");
    /* the country read as it is written in the event: escaped, USA is
     * still the US */
    cr_assert_str_eq(
        warnings_of(MSH("ADT^A01", "2.5")
                    "PID|1||M1^^^F^MR||D^J||||||1 Main St^^X^NY^1^\\X55\\SA"
                    "||||||||78419876543210\rPV1|1|I\r"),
        "PID-19:SSN is not nine digits the SSA could have issued;");
    /* abroad, not a number */
    cr_assert_str_eq(
        warnings_of(MSH("ADT^A01", "2.3")
                    "PID|1||M1^^^F^MR||D^J||||||1 High St^^Croydon^^X^GBR||"
                    "||||||SSN-48383\rPV1|1|I\r"),
        "PID-19:national number is not a number;");
}

/* A PID-19 that only repeats an identifier of PID-3 is that identifier
 * (F1701): Alder Hey's MEDITECH feed sends the NHS number in both
 * (tests/data/real/hl7v2/r125-alderhey_meditech_a31_v24_nhs_number_in_pid19.hl7),
 * and with no country in the message it was warned of as an SSN on every
 * message. Now it is passed by, in the US and abroad (where it was added a
 * second time as type SS); a PID-19 the list does not hold is warned of,
 * or kept, as before. */
Test(hl7_to_events, a_pid_19_that_repeats_a_pid_3_identifier_is_that_identifier)
{
    const char *uk = MSH("ADT^A31", "2.4")
        "PID|1||AH0000512^^^RBS^MR~3337777333^^^NHS^NH||D^J||||||||||||||"
        "3337777333\rPV1|1|N\r";
    cr_assert_str_eq(warnings_of(uk), "");
    cJSON *j = event_of(uk);
    cr_assert_eq(cJSON_GetArraySize(identifiers_of(j)), 2);
    cJSON_Delete(j);
    /* not in the list: the SSN warning, as before */
    cr_assert_str_eq(
        warnings_of(MSH("ADT^A31", "2.4")
                    "PID|1||AH0000512^^^RBS^MR~3337777333^^^NHS^NH||D^J|||||"
                    "|||||||||3337777334\rPV1|1|N\r"),
        "PID-19:SSN is not nine digits the SSA could have issued;");
    /* abroad: the list's number once, not again as type SS */
    const char *ae = MSH("ADT^A01", "2.5.1")
        "PID|1||784-1990-1234567-1^^^EIDA^NNARE||Sample^P||19900315|M|||"
        "1 Yas St^^Abu Dhabi^1^123456^ARE^H||||||||784-1990-1234567-1\r"
        "PV1|1|I\r";
    j = event_of(ae);
    cr_assert_eq(cJSON_GetArraySize(identifiers_of(j)), 1);
    cJSON_Delete(j);
}

/* A PID-19 that repeats a PID-3 identifier formatted otherwise is that
 * identifier too (F1820): NHS numbers are written "943 476 5919" as often
 * as "9434765919". Compared whole, the spaced one was warned of as an SSN
 * with no country, and added a second time as type SS in England. */
Test(hl7_to_events, a_pid_19_that_repeats_a_pid_3_identifier_with_spaces_is_that_identifier)
{
    const char *none = MSH("ADT^A31", "2.4")
        "PID|1||AH0000512^^^RBS^MR~9434765919^^^NHS^NH||D^J||||||||||||||"
        "943 476 5919\rPV1|1|N\r";
    cr_assert_str_eq(warnings_of(none), "");
    const char *gb = MSH("ADT^A31", "2.4")
        "PID|1||AH0000512^^^RBS^MR~943-476-5919^^^NHS^NH||D^J||||||"
        "1 A St^^Liverpool^^L1 1AA^GBR||||||||9434765919\rPV1|1|N\r";
    cJSON *j = event_of(gb);
    char ids[256];
    ids_joined(identifiers_of(j), ids, sizeof(ids));
    cr_expect_str_eq(ids, "AH0000512|RBS;943-476-5919|NHS;");
    cJSON_Delete(j);
    cr_assert_str_eq(warnings_of(gb), "");
}

/* A PID-3 repetition typed SS whose value is no SSN is left out; a
 * PID-19 with the same value must not be left out for repeating it
 * (F1821): abroad the national number sent in both was then lost. */
Test(hl7_to_events, a_pid_19_repeating_a_refused_ss_in_pid_3_is_kept_abroad)
{
    const char *ae = MSH("ADT^A01", "2.5.1")
        "PID|1||789012^^^&MF7163~784-1990-1234567-1^^^^SS||Sample^P||"
        "19900315|M|||1 Yas St^^Abu Dhabi^1^123456^ARE^H||||||||"
        "784-1990-1234567-1\rPV1|1|I\r";
    char ids[256];
    cJSON *j = event_of(ae);
    ids_joined(identifiers_of(j), ids, sizeof(ids));
    /* PID-19's, with no system: the sender scopes a national number */
    cr_expect_str_eq(ids, "789012|MF7163;784-1990-1234567-1|;");
    cJSON_Delete(j);
    cr_assert_str_eq(warnings_of(ae), "PID-3:SSN is not nine digits the SSA "
                                      "could have issued; left out;");
}

/* F1700's check past the sixteenth identifier (F1822): a list of 16
 * filled what write_identifiers remembered, so a 17th sent again with
 * another CX-6 was written twice. */
Test(hl7_to_events, an_identifier_sent_again_after_sixteen_others_is_written_once)
{
    char msg[1024], ids[512];
    size_t n = (size_t)snprintf(msg, sizeof(msg), "%s", MSH("ADT^A03", "2.5")
                                "PID|1||");
    for (int k = 1; k <= 17; k++)
        n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%d^^^H^MR^A~", k);
    snprintf(msg + n, sizeof(msg) - n, "17^^^H^MR^B||D^J\rPV1|1|E\r");
    cJSON *j = event_of(msg);
    cr_assert_eq(cJSON_GetArraySize(identifiers_of(j)), 17, "%s",
                 cJSON_PrintUnformatted(identifiers_of(j)));
    ids_joined(identifiers_of(j), ids, sizeof(ids));
    cr_expect_str_eq(ids, "1|H;2|H;3|H;4|H;5|H;6|H;7|H;8|H;9|H;10|H;11|H;"
                          "12|H;13|H;14|H;15|H;16|H;17|H;");
    cJSON_Delete(j);
}

/* A placeholder is no national number: SAP IS-H's German test A01 fills
 * PID-19 with "111-11-1111" (tests/data/real/hl7v2/
 * r18-ipf_sap_ish_a01_v22.hl7). Kept without a system, it takes the
 * sender's, and every patient of that sender who carries it would be
 * linked into one, as the US SSN placeholders are left out for
 * (common/ssn.h). The same digit throughout, or the digits counted up
 * from 1, is left out abroad too, with a warning; a real number is kept. */
Test(hl7_to_events, leaves_a_placeholder_national_number_out)
{
    static const char *const placeholders[] = {
        "111-11-1111", "000000", "9999999999", "123456789", "1234567",
        "12 34 56 78 90",
        /* counted on past 0: a Turkish middleware's sample fills PID-19
         * with eleven digits, a TC Kimlik's length (F2301) */
        "12345678901", "123456789012",
    };
    for (size_t k = 0; k < sizeof(placeholders) / sizeof(*placeholders);
         k++) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|SAP-ISH|HZL|||20040805152637||ADT^A01|1|T|2.2\r"
                 "PID|1||79471||D^J||||||Platz 1^^Foo^NW^11000^DE^H||||||"
                 "||%s\rPV1|1|I\r", placeholders[k]);
        cJSON *j = event_of(msg);
        cr_assert_eq(cJSON_GetArraySize(identifiers_of(j)), 1, "%s",
                     placeholders[k]);
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg),
                         "PID-19:national number is a placeholder; left "
                         "out;", "%s", placeholders[k]);
    }
    /* numbers that only look alike are kept */
    static const char *const numbers[] = { "11-111-11112", "1234568",
                                           "0123456789", "784-1990-1234567-1",
                                           "12345678902" };
    for (size_t k = 0; k < sizeof(numbers) / sizeof(*numbers); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "MSH|^~\\&|SAP-ISH|HZL|||20040805152637||ADT^A01|1|T|2.2\r"
                 "PID|1||79471||D^J||||||Platz 1^^Foo^NW^11000^DE^H||||||"
                 "||%s\rPV1|1|I\r", numbers[k]);
        cJSON *j = event_of(msg);
        const cJSON *ids = identifiers_of(j);
        cr_assert_eq(cJSON_GetArraySize(ids), 2, "%s", numbers[k]);
        cr_assert_str_eq(str_at(cJSON_GetArrayItem(ids, 1), "value", NULL),
                         numbers[k]);
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg), "", "%s", numbers[k]);
    }
}

/* The systems of PID-3's identifiers, "value|system" joined by ';'. */
static const char *systems_of(const char *pid3)
{
    static char out[1024];
    char msg[1024];
    snprintf(msg, sizeof(msg), MSH("ADT^A28", "2.5") "PID|1||%s||D^J\r"
             "PV1|1|N\r", pid3);
    cJSON *j = event_of(msg);
    ids_joined(identifiers_of(j), out, sizeof(out));
    cJSON_Delete(j);
    return out;
}

/* CX-4: a universal id (HD-2) names the authority for everyone, so it is
 * the system: an ISO OID as urn:oid: (as C-CDA and FHIR write it), a
 * UUID as urn:uuid: in lower case (as C-CDA writes it), a URI as it is.
 * A namespace alone is the sender's own name (the hub scopes it by the
 * sender). One authority sent as its OID alone or as namespace and OID
 * is one system (F113). */
Test(hl7_to_events, an_assigning_authoritys_universal_id_is_its_system)
{
    cr_assert_str_eq(systems_of("A1^^^HOSP^MR"), "A1|HOSP;");
    cr_assert_str_eq(systems_of("A1^^^&2.16.840.1.113883.19.5&ISO^MR~"
                                "A2^^^HOSP&2.16.840.1.113883.19.5&ISO^MR"),
                     "A1|urn:oid:2.16.840.1.113883.19.5;"
                     "A2|urn:oid:2.16.840.1.113883.19.5;");
    /* so one id sent both ways is one identifier, written once (F1700) */
    cr_assert_str_eq(systems_of("A1^^^&2.16.840.1.113883.19.5&ISO^MR~"
                                "A1^^^HOSP&2.16.840.1.113883.19.5&ISO^MR"),
                     "A1|urn:oid:2.16.840.1.113883.19.5;");
    /* an OID with no type, and an OID in HD-1 with no HD-2 */
    cr_assert_str_eq(systems_of("A1^^^&1.3.6.1.4.1.21367~"
                                "A2^^^2.16.840.1.113883.19.5^MR"),
                     "A1|urn:oid:1.3.6.1.4.1.21367;"
                     "A2|urn:oid:2.16.840.1.113883.19.5;");
    cr_assert_str_eq(systems_of("A1^^^&F81D4FAE-7dec-11d0-a765-00a0c91e6bf6"
                                "&UUID~A2^^^H&http://h.example/mrn&URI"),
                     "A1|urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6;"
                     "A2|http://h.example/mrn;");
    /* no OID: too few arcs, a leading zero, letters; a type that is no
     * universal one; these keep the namespace */
    cr_assert_str_eq(systems_of("A1^^^H&1.2&ISO~A2^^^H&2.016.1&ISO~"
                                "A3^^^H&2.16.x&ISO~A4^^^H&2.16.1&HCD~"
                                "A5^^^H&h.example.org&DNS~A6^^^1.2"),
                     "A1|H;A2|H;A3|H;A4|H;A5|H;A6|1.2;");
    /* with no namespace, a universal id of another kind is the sender's
     * name, as sent */
    cr_assert_str_eq(systems_of("A1^^^&h.example.org&DNS"),
                     "A1|h.example.org;");
}

/* With no CX-4, the assigning jurisdiction (CX-9) is the namespace: an
 * Ontario health number is not one of the sender's unqualified numbers
 * (F115); CX-4 wins when both are sent. */
Test(hl7_to_events, an_assigning_jurisdiction_stands_in_for_no_authority)
{
    cr_assert_str_eq(systems_of("9087654321^AD^^^JHN^^^^CANON&Ontario&HL70363~"
                                "9087654322^^^^JHN^^^^CANON~"
                                "9087654323^^^^JHN^^^^2.16.840.1.113883.4.59~"
                                "9087654324^^^H^JHN^^^^CANON~"
                                "9087654325^^^^MR"),
                     "9087654321|CANON;9087654322|CANON;"
                     "9087654323|urn:oid:2.16.840.1.113883.4.59;"
                     "9087654324|H;9087654325|;");
}

/* A merge's prior id named by the OID that PID-3 names with namespace and
 * OID is the same id: kept, not merged away (F111 compares systems). */
Test(hl7_to_events, a_merge_compares_authorities_by_their_universal_id)
{
    cr_assert_str_eq(merged_from_of(MSH("ADT^A40", "2.5")
                                    "PID|1||N1^^^H&1.2.840.9&ISO^MR~"
                                    "X1^^^H^MR||D^J\rPV1|1|N\r"
                                    "MRG|N1^^^&1.2.840.9&ISO^MR~"
                                    "O1^^^&1.2.840.9&ISO^MR\r"),
                     "O1|urn:oid:1.2.840.9;");
}

/* An SSN in PID-3 under the SSA's namespace or OID has the us-ssn system
 * of PID-19 and the other adapters; under another authority it keeps it. */
Test(hl7_to_events, an_ssn_of_the_ssa_has_the_us_ssn_system)
{
    cr_assert_str_eq(systems_of("123548888^^^SSA^SS~223548888^^^"
                                "&2.16.840.1.113883.4.1&ISO^SS~"
                                "323548888^^^H^SS"),
                     "123548888|http://hl7.org/fhir/sid/us-ssn;"
                     "223548888|http://hl7.org/fhir/sid/us-ssn;"
                     "323548888|H;");
}

/* Psychiatric diagnoses label an ADT psy (F80), as PHQ-9 answers label a
 * screening: F20-F48, F50-F69, F90-F99 and suicidal ideation; not the
 * organic disorders (F01-F09: dementia), intellectual disabilities
 * (F70-F79) or developmental disorders (F80-F89), which the social care
 * partners serving the person need to know. */
Test(hl7_to_events, labels_psychiatric_diagnoses_psy)
{
    const struct dict *d = project_dict();
    cr_assert_str_eq(labels_with(d, "DG1|1||F20.9^Schizophrenia^I10"), "psy");
    cr_assert_str_eq(labels_with(d, "DG1|1||F32.A^Depression^I10"), "psy");
    cr_assert_str_eq(labels_with(d, "DG1|1||F41.1^x^I10"), "psy");
    cr_assert_str_eq(labels_with(d, "DG1|1||F60.3^x^I10"), "psy");
    cr_assert_str_eq(labels_with(d, "DG1|1||F90.0^x^I10"), "psy");
    cr_assert_str_eq(labels_with(d, "DG1|1||R45.851^x^I10"), "psy");
    cr_assert_str_eq(labels_with(d, "DG1|1||F03.90^x^I10"), "");
    cr_assert_str_eq(labels_with(d, "DG1|1||F71^x^I10"), "");
    cr_assert_str_eq(labels_with(d, "DG1|1||F84.0^x^I10"), "");
    cr_assert_str_eq(labels_with(d, "DG1|1||R45.85^x^I10"), "");
}

/* The same in SNOMED CT (F80): a DG1 coded SCT (or its OID, or an older
 * name of SNOMED) with a member of the eCQM value sets of
 * security-labels-psy-snomed.json is psy. Exact concepts: dementia, the
 * set's one organic member it leaves out, and a depression concept none
 * of the sets holds are not labelled. */
Test(hl7_to_events, labels_snomed_ct_psychiatric_disorders_psy)
{
    const struct dict *d = project_dict();
    cr_assert_str_eq(labels_with(d, "DG1|1||370143000^Major depressive "
                                    "disorder^SCT"), "psy");
    cr_assert_str_eq(labels_with(d, "DG1|1|SCT|13746004^Bipolar disorder"),
                     "psy");
    cr_assert_str_eq(labels_with(d, "DG1|1||58214004^Schizophrenia^"
                                    "2.16.840.1.113883.6.96"), "psy");
    cr_assert_str_eq(labels_with(d, "DG1|1||20010003^x^SNOMEDCT"), "psy");
    cr_assert_str_eq(labels_with(d, "DG1|1||78667006^Dysthymia^SCT"), "psy");
    cr_assert_str_eq(labels_with(d, "DG1|1||44054006^Diabetes^SCT\r"
                                    "DG1|2||87512008^x^SCT"), "psy");
    cr_assert_str_eq(labels_with(d, "DG1|1||52448006^Dementia^SCT"), "");
    cr_assert_str_eq(labels_with(d, "DG1|1||231444002^Organic bipolar "
                                    "disorder^SCT"), "");
    cr_assert_str_eq(labels_with(d, "DG1|1||310496002^Moderate "
                                    "depression^SCT"), "");
    cr_assert_str_eq(labels_with(d, "DG1|1||370143000^x^I10"), "");
    cr_assert_str_eq(labels_with(d, "DG1|1||370143000^x^L"), "");
    cr_assert_str_eq(labels_with(NULL, "DG1|1||370143000^x^SCT"), "");
}

/* A placeholder in a national, health-card or Medicaid number of PID-3
 * (F116: one digit throughout, or counted up from 1) is left out with a
 * warning, as PID-19's (F110): kept, it would link every patient of the
 * sender who carries it into one. An MRN of the same digits is kept: a
 * hospital's own counter may reach it. */
Test(hl7_to_events, leaves_a_placeholder_out_of_a_national_number_of_pid_3)
{
    static const char *const pid3[] = {
        "2222222222^AD^^^JHN", "9999999999^^^NHS^NH", "0000000^^^M^MA",
        "123456789^^^^NI", "1111111111^^^^NNGBR", "888888^^^^MC",
    };
    for (size_t k = 0; k < sizeof(pid3) / sizeof(*pid3); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg), MSH("ADT^A28", "2.5")
                 "PID|1||M1^^^H^MR~%s||D^J\rPV1|1|N\r", pid3[k]);
        cJSON *j = event_of(msg);
        cr_assert_eq(cJSON_GetArraySize(identifiers_of(j)), 1, "%s", pid3[k]);
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg), "PID-3:national number is a "
                         "placeholder; left out;", "%s", pid3[k]);
    }
    static const char *const kept[] = {
        "1111111^^^H^MR", "22222^^^^JHN", "9990001234^^^NHS^NH",
    };
    for (size_t k = 0; k < sizeof(kept) / sizeof(*kept); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg), MSH("ADT^A28", "2.5")
                 "PID|1||M1^^^H^MR~%s||D^J\rPV1|1|N\r", kept[k]);
        cJSON *j = event_of(msg);
        cr_assert_eq(cJSON_GetArraySize(identifiers_of(j)), 2, "%s", kept[k]);
        cJSON_Delete(j);
    }
}

/* A national number that fails its check digit was never issued (F744,
 * common/natid.h): PARIS's 7000000001^^^NHS^NH linked every record that
 * carried the same error into one person. Kept as sent, marked inactive
 * (the linker passes it by), with a warning that quotes no digit; a valid
 * NHS number, an MRN with the same digits, and an NPI that passes are
 * linked as before. A repdigit that passes (9999999999 by modulus 11) is
 * a placeholder. */
Test(hl7_to_events, a_national_number_that_fails_its_check_is_kept_not_linked)
{
    static const struct {
        char cx[64], warning[80];
    } c[] = {
        { "7000000001^^^NHS^NH", "NHS number fails its modulus 11 check; "
                                 "not linked" },
        { "2278322867^^^NHSNMBR", "NHS number fails its modulus 11 check; "
                                  "not linked" },
        /* the scheme named by CX-5 alone, as Google's MLLP adapter test
         * sends it (F2300) */
        { "2269030304^^^^NHSNMBR", "NHS number fails its modulus 11 check; "
                                   "not linked" },
        { "9999999999^^^^nhsnmbr", "national number is a placeholder; not "
                                   "linked" },
        { "9434765918^^^&2.16.840.1.113883.2.1.4.1&ISO",
          "NHS number fails its modulus 11 check; not linked" },
        { "9999999999^^^NHS^HN", "national number is a placeholder; not "
                                 "linked" },
        { "1234567890^^^CMS^NPI", "NPI fails its Luhn check; not linked" },
        { "1EG4TE5MK7^^^&2.16.840.1.113883.4.927&ISO^MC",
          "MBI is not in the CMS format; not linked" },
    };
    for (size_t k = 0; k < sizeof(c) / sizeof(*c); k++) {
        char msg[1024], want[160];
        snprintf(msg, sizeof(msg), MSH("ADT^A28", "2.5")
                 "PID|1||M1^^^H^MR~%.63s||D^J\rPV1|1|N\r", c[k].cx);
        cJSON *j = event_of(msg);
        const cJSON *ids = identifiers_of(j);
        cr_assert_eq(cJSON_GetArraySize(ids), 2, "%s", c[k].cx);
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(ids, 1),
                                                   "inactive")), "%s", c[k].cx);
        cr_assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(ids, 0),
                                           "inactive"), "%s", c[k].cx);
        cJSON_Delete(j);
        snprintf(want, sizeof(want), "PID-3:%s;", c[k].warning);
        cr_assert_str_eq(warnings_of(msg), want, "%s", c[k].cx);
    }
    static const char *const linked[] = {
        "9434765919^^^NHS^NH", "7000000001^^^H^MR", "1234567893^^^CMS^NPI",
        "1EG4TE5MK73^^^&2.16.840.1.113883.4.927&ISO^MC",
        "2269030303^^^^NHSNMBR",
    };
    for (size_t k = 0; k < sizeof(linked) / sizeof(*linked); k++) {
        char msg[1024];
        snprintf(msg, sizeof(msg), MSH("ADT^A28", "2.5")
                 "PID|1||M1^^^H^MR~%s||D^J\rPV1|1|N\r", linked[k]);
        cJSON *j = event_of(msg);
        const cJSON *ids = identifiers_of(j);
        cr_assert_eq(cJSON_GetArraySize(ids), 2, "%s", linked[k]);
        cr_assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(ids, 1),
                                           "inactive"), "%s", linked[k]);
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg), "", "%s", linked[k]);
    }
}

/* An identifier whose table 0203 type names an account, a visit, a
 * guarantor, an employer, a facility or the insurance subscriber (F841,
 * idsys_type_links) is not the patient's own: a mother and her child
 * under one guarantor account would be linked into one person. Kept as
 * sent, marked inactive (never linked on), with no warning (the sender
 * said what it is); PointClickCare's FI and the other types as before. */
Test(hl7_to_events, an_account_or_visit_number_is_kept_but_never_links)
{
    static const char *const never[] = {
        "ACC1^^^H^AN", "ACC1^^^H^an", "V77^^^H^VN", "G5^^^H^GN", "G5^^^H^GI",
        "E1^^^H^EN", "370^^^^FI", "S123^^^PAYER^SN", "B1^^^H^BA",
        "A2^^^H^ANT", "X1^^^H^XX",
    };
    for (size_t k = 0; k < sizeof(never) / sizeof(*never); k++) {
        char msg[1024];
        snprintf(msg, sizeof(msg), MSH("ADT^A28", "2.5")
                 "PID|1||M1^^^H^MR~%s||D^J\rPV1|1|N\r", never[k]);
        cJSON *j = event_of(msg);
        const cJSON *ids = identifiers_of(j);
        cr_assert_eq(cJSON_GetArraySize(ids), 2, "%s", never[k]);
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(ids, 1),
                                                   "inactive")), "%s", never[k]);
        cr_assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(ids, 0),
                                           "inactive"), "%s", never[k]);
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg), "", "%s", never[k]);
    }
    static const char *const links[] = {
        "P1^^^H^PI", "MB1^^^PLAN^MB", "MA1^^^NY^MA", "P1^^^H^PN", "P1^^^H^HC",
        "P1^^^H^AM", "P1^^^H^ANON", "P1^^^H",
    };
    for (size_t k = 0; k < sizeof(links) / sizeof(*links); k++) {
        char msg[1024];
        snprintf(msg, sizeof(msg), MSH("ADT^A28", "2.5")
                 "PID|1||M1^^^H^MR~%s||D^J\rPV1|1|N\r", links[k]);
        cJSON *j = event_of(msg);
        const cJSON *ids = identifiers_of(j);
        cr_assert_eq(cJSON_GetArraySize(ids), 2, "%s", links[k]);
        cr_assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(ids, 1),
                                           "inactive"), "%s", links[k]);
        cJSON_Delete(j);
    }
}

/* An identifier with neither a letter nor a digit is a mask, not an id
 * (F260): the Portuguese A34 of r53-hl7pt_mcdts_a34_v24_masked_asterisks
 * stars its PID-4 ("*********^^^***^**"), which was written as an
 * identifier and would have linked every patient so masked into one.
 * Left out with a warning, from PID-3, -2 and -4; an id in letters past
 * ASCII, or with one letter or digit among its marks, is kept. */
Test(hl7_to_events, leaves_an_identifier_with_no_letter_or_digit_out)
{
    static const struct {
        char pid[64], warning[64];
    } masked[] = {
        { "|M1^^^H^MR~*********^^^***^**||", "PID-3" },
        { "|M1^^^H^MR~-^^^H^MR||", "PID-3" },
        { "|M1^^^H^MR~?? ?^^^H^PI||", "PID-3" },
        { "|M1^^^H^MR~*\\T\\*^^^H^MR||", "PID-3" },
        { "|M1^^^H^MR|*********^^^***^**~***|", "PID-4" },
        { "*******|M1^^^H^MR||", "PID-2" },
    };
    for (size_t k = 0; k < sizeof(masked) / sizeof(*masked); k++) {
        char msg[1024], want[192];
        snprintf(msg, sizeof(msg), MSH("ADT^A34", "2.4")
                 "PID|1|%sD^J\rMRG|M0^^^H^MR\r", masked[k].pid);
        cJSON *j = event_of(msg);
        cr_assert_eq(cJSON_GetArraySize(identifiers_of(j)), 1, "%s",
                     masked[k].pid);
        cJSON_Delete(j);
        snprintf(want, sizeof(want), "%s:identifier has no letter or digit; "
                 "left out;", masked[k].warning);
        cr_assert_str_eq(warnings_of(msg), want, "%s", masked[k].pid);
    }
    static const char *const kept[] = {
        "\xe6\x82\xa3\xe8\x80\x85^^^H^PI", "*-1^^^H^PI", "x^^^H^PI",
    };
    for (size_t k = 0; k < sizeof(kept) / sizeof(*kept); k++) {
        char msg[1024];
        snprintf(msg, sizeof(msg), MSH("ADT^A34", "2.4")
                 "PID|1||M1^^^H^MR~%s||D^J\rMRG|M0^^^H^MR\r", kept[k]);
        cJSON *j = event_of(msg);
        cr_assert_eq(cJSON_GetArraySize(identifiers_of(j)), 2, "%s", kept[k]);
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg), "", "%s", kept[k]);
    }
}

/* CX-5, the identifier type, is one code (ID, HL7 table 0203). An Epic
 * feed (r53-hl7lw_epic_v23_a08_newborn_mother_ids_no_pv1.hl7) sends
 * "900070078^^^EPI^MR&1.2.3.4", and the type was written "MR&1.2.3.4",
 * separator and all: a value that changed with the sender's delimiters.
 * Its first subcomponent is the type, in PID-3 and in MRG-1 (F261). */
Test(hl7_to_events, reads_the_first_subcomponent_of_an_identifier_type)
{
    cJSON *j = event_of(MSH("ADT^A40^ADT_A39", "2.5")
                        "PID|1||E1^^^EPIC^MRN~9^^^EPI^MR&1.2.3.4||D^J\r"
                        "MRG|8^^^EPI^MR&1.2.3.4\r");
    const cJSON *ids = identifiers_of(j);
    cr_assert_eq(cJSON_GetArraySize(ids), 2);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ids, 1), "type", NULL), "MR");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "patient"), "merged_from");
    cr_assert_eq(cJSON_GetArraySize(from), 1);
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(from, 0), "type", NULL), "MR");
    cJSON_Delete(j);
}

/* Two repetitions that are each nothing once read (an escaped separator
 * the trim takes away, HL7's null) compare as the same empty identifier:
 * found by the fuzzer, memcmp was handed a NULL pointer there (the
 * sanitizer builds abort on it). */
Test(hl7_to_events, empty_repetitions_after_unescaping_compare_safely)
{
    struct canon_list l;
    struct hub_err err;
    /* PID-4's "D" stands in for the missing PID-3 */
    cr_assert_eq(run(MSH("ADT^A08", "2.5") "PID||\\T\\~\"\"||D^J\r"
                     "PV1|1|I\r", &l, &err), HUB_OK);
    cr_assert_eq(l.n, 1);
}

/* XAD-6 is the country (ISO 3166: HL7 table 0399). An iSOFT feed
 * (r58-renalware_isoft_a31_v23_deceased_msh2_three_chars.hl7) sends a
 * locality code there, "CR2 0PP^ZZ993CZ^HOME", and a published message's
 * mask sends "*": written as the country, a subscriber would show either
 * as the patient's. A value with a digit (but ISO's three-digit numeric
 * code) or with no letter is left out with a warning; a code or a name
 * is kept as sent, and no longer stands for a country when PID-19 asks
 * where the patient lives. */
Test(hl7_to_events, leaves_a_country_that_is_no_country_out)
{
    static const char *const gone[] = { "ZZ993CZ", "*", "12", "-", "0044" };
    for (size_t k = 0; k < sizeof(gone) / sizeof(*gone); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg), MSH("ADT^A31^ADT_A05", "2.3")
                 "PID|1||MRN1^^^FAC^MR||Doe^Jo||19800131|F|||"
                 "1 High St^^Croydon^^CR2 0PP^%s^H\rPV1|1|N\r", gone[k]);
        cJSON *j = event_of(msg);
        const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "patient"), "addresses"), 0);
        cr_assert_not_null(a, "%s", gone[k]);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(a, "country"), "%s",
                       gone[k]);
        cr_assert_str_eq(str_at(a, "postal_code", NULL), "CR2 0PP");
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg), "PID-11:country is neither an "
                         "ISO 3166 code nor a name; left out;", "%s", gone[k]);
    }
    static const char *const kept[] = { "GBR", "GB", "826", "United Kingdom",
                                        "D", "\xd8\xa7\xd9\x84" };
    for (size_t k = 0; k < sizeof(kept) / sizeof(*kept); k++) {
        char msg[512];
        snprintf(msg, sizeof(msg), MSH("ADT^A31^ADT_A05", "2.3")
                 "PID|1||MRN1^^^FAC^MR||Doe^Jo||19800131|F|||"
                 "1 High St^^Croydon^^CR2 0PP^%s^H\rPV1|1|N\r", kept[k]);
        cJSON *j = event_of(msg);
        const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "patient"), "addresses"), 0);
        cr_assert_str_eq(str_at(a, "country", NULL), kept[k]);
        cJSON_Delete(j);
        cr_assert_str_eq(warnings_of(msg), "", "%s", kept[k]);
    }
    /* a PID-19 that is no SSN: with no country in XAD-6 the message is
     * read as a US one (MSH-17 empty), as if XAD-6 were empty */
    cr_assert_str_eq(warnings_of(MSH("ADT^A31^ADT_A05", "2.3")
                                 "PID|1||MRN1^^^FAC^MR||Doe^Jo||19800131|F|||"
                                 "1 High St^^X^^1^*^H||||||||*********\r"
                                 "PV1|1|N\r"),
                     "PID-19:SSN is not nine digits the SSA could have issued;"
                     "PID-11:country is neither an ISO 3166 code nor a "
                     "name; left out;");
}

/* Table 0201's EMR is an emergency number, most often someone else's
 * (SS-MIX2 sends it beside the home number): in PID-13 it was written as
 * the patient's home phone. Its use is now left out; PRN stays home. */
Test(hl7_to_events, an_emergency_number_is_not_the_home_phone)
{
    cJSON *ph = phones_of("PID|1||M1||D^J||||||||^PRN^PH^^^^^^^^^054-000-0000"
                          "~^EMR^PH^^^^^^^^^03-5999-9999~0312^emr|"
                          "^WPN^PH^^^^^^^^^03-3599-9993");
    cr_assert_eq(cJSON_GetArraySize(ph), 4, "%s", cJSON_PrintUnformatted(ph));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "use", NULL), "home");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 1), "value", NULL),
                     "03-5999-9999");
    cr_assert_null(str_at(cJSON_GetArrayItem(ph, 1), "use", NULL));
    cr_assert_null(str_at(cJSON_GetArrayItem(ph, 2), "use", NULL));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 3), "use", NULL), "work");
    cJSON_Delete(ph);
}

/* tests/data/real/SOURCES.md F1340: an emergency number on a cellular
 * phone (XTN-2 EMR, XTN-3 CP, or Epic's M) is still most often someone
 * else's: written as the patient's mobile it was one a partner would
 * text for the patient. No use, as F1240's EMR on a telephone; a PRN or
 * PRS on a cellular phone stays mobile. */
Test(hl7_to_events, an_emergency_number_on_a_cell_phone_is_not_the_mobile)
{
    cJSON *ph = phones_of("PID|1||M1||D^J||||||||^EMR^CP^^^^^^^^^090-1111-2222"
                          "~^EMR^M^^^^^^^^^090-3333-4444"
                          "~^PRN^CP^^^^^^^^^090-5555-6666|"
                          "^EMR^CP^^^^^^^^^090-7777-8888");
    cr_assert_eq(cJSON_GetArraySize(ph), 4, "%s", cJSON_PrintUnformatted(ph));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 0), "value", NULL),
                     "090-1111-2222");
    cr_assert_null(str_at(cJSON_GetArrayItem(ph, 0), "use", NULL));
    cr_assert_null(str_at(cJSON_GetArrayItem(ph, 1), "use", NULL));
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 2), "use", NULL),
                     "mobile");
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(ph, 3), "value", NULL),
                     "090-7777-8888");
    cr_assert_null(str_at(cJSON_GetArrayItem(ph, 3), "use", NULL));
    cJSON_Delete(ph);
}

/* tests/data/real/SOURCES.md F1700: Cerner Millennium repeats a PID-3 MRN
 * in PID-2 with its own CX-6 (assigning facility, "CD:15409808"; crs4/
 * hl7apy issue #50, tests/data/real/hl7v2/r125-hl7apy_issue50_cerner_
 * msk_a03_v23_pid2_cx6.hl7). The two were compared whole, so the MRN was
 * written twice: the same {value, system, type} in "identifiers", a
 * duplicate identifier for every subscriber that maps them (FHIR
 * Patient.identifier). Now one identifier is what is written: CX-6 (not
 * written) makes no second one. One that differs in what is written (its
 * type, its authority, or in effect against out of effect) is still its
 * own, but an MRN in effect stands for its copy out of effect (F1827). */
Test(hl7_to_events, an_identifier_sent_again_with_another_cx_6_is_written_once)
{
    cJSON *j = event_of(MSH("ADT^A03", "2.3")
                        "PID|1|209681^^^MHP_MRN POOL^MRN^CD:15409808|"
                        "3897704^^^EID POOL^CMRN~209681^^^MHP_MRN POOL^MRN^~"
                        "209681^^^MSK_MRN POOL^MRN~209681^^^MHP_MRN POOL^FIN|"
                        "209681^^^MHP_MRN POOL^MRN^CD:1^20000101^20100101||"
                        "MILES^MORALES||19760425|M\r"
                        "PV1|1|E\r");
    char ids[512];
    ids_joined(identifiers_of(j), ids, sizeof(ids));
    cr_expect_str_eq(ids, "3897704|EID POOL;209681|MHP_MRN POOL;"
                          "209681|MSK_MRN POOL;209681|MHP_MRN POOL;",
                     "%s", cJSON_PrintUnformatted(identifiers_of(j)));
    /* the fourth is the FIN; the MRN is in effect */
    const cJSON *fin = cJSON_GetArrayItem(identifiers_of(j), 3),
                *mrn = cJSON_GetArrayItem(identifiers_of(j), 1);
    cr_expect_str_eq(str_at(fin, "type", NULL), "FIN");
    cr_expect_str_eq(str_at(mrn, "type", NULL), "MRN");
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(mrn, "inactive"));
    cJSON_Delete(j);
}

/* F1827: the round-125 Cerner A03 sends its MRN in effect in PID-3 and
 * again in PID-4 with a CX-8 of 2010. Both were written, once
 * "inactive": a subscriber that indexes identifiers by system and value
 * kept whichever came last, and so took the patient's MRN as out of
 * effect. The one in effect is written alone; an MRN only ever out of
 * effect is still written, marked; one out of effect written before its
 * copy in effect cannot be taken back, so both are written. */
Test(hl7_to_events, an_identifier_in_effect_stands_for_its_copy_out_of_effect)
{
    cJSON *j = event_of(MSH("ADT^A03", "2.3")
                        "PID|1||209681^^^MHP^MR|"
                        "209681^^^MHP^MR^^20000101^20100101~"
                        "555^^^MHP^MR^^20000101^20100101||"
                        "MILES^MORALES||19760425|M\r"
                        "PV1|1|E\r");
    const cJSON *ids = identifiers_of(j);
    cr_assert_eq(cJSON_GetArraySize(ids), 2, "%s", cJSON_PrintUnformatted(ids));
    cr_expect_str_eq(str_at(cJSON_GetArrayItem(ids, 0), "value", NULL), "209681");
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ids, 0),
                                                    "inactive"));
    cr_expect_str_eq(str_at(cJSON_GetArrayItem(ids, 1), "value", NULL), "555");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ids, 1),
                                                            "inactive")));
    cJSON_Delete(j);

    /* out of effect first (PID-3 sends the old one, PID-4 the same in
     * effect): both, the first marked */
    j = event_of(MSH("ADT^A03", "2.3")
                 "PID|1||209681^^^MHP^MR^^20000101^20100101|"
                 "209681^^^MHP^MR||MILES^MORALES||19760425|M\r"
                 "PV1|1|E\r");
    ids = identifiers_of(j);
    cr_assert_eq(cJSON_GetArraySize(ids), 2, "%s", cJSON_PrintUnformatted(ids));
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ids, 0),
                                                            "inactive")));
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ids, 1),
                                                    "inactive"));
    cJSON_Delete(j);
}

/* ---- round 190's probes of the cut-short warning (F2842, F2920) -------- */

/* The event of `msg` with its warnings taken out, printed (caller frees) */
static char *event_without_warnings(const char *msg)
{
    cJSON *j = event_of(msg);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "warnings");
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

/* The run of the event beforehand (cut_fields, on a copy of the context)
 * leaves no trace on the event written after it: a message whose values
 * in every segment the normalizer reads end in the mark gives the event
 * of the same message without the marks, but for the warnings, which
 * name each field (its HL7 place, never the value). */
Test(hl7_to_events, the_cut_short_run_leaves_the_event_as_without_the_marks)
{
#define R190_MSG(t) \
    "MSH|^~\\&#|APP" t "|FAC|HUB|HUB|20260115093000||ADT^A01|CTRL1" t \
    "|P|2.7\r" \
    "EVN|A01|20260115093000|||OP1" t "^Nurse^Ann\r" \
    "PID|1||MRN1" t "^^^FAC^MR~MRN2^^^FAC^MR||Smith" t "^Jo||19800131|F" \
    "|||1 High St" t "^^Leeds^^LS1 1AA||0113 496 0000" t "\r" \
    "PD1|||Practice" t "^^P1\r" \
    "PV1|1|I|W1" t "^R2^B3||||123" t "^Doe^Ann|||MED" t "\r" \
    "PV2|||Chest pain" t "\r" \
    "DG1|1||R07.9^Chest pain" t "^I10\r"
    char *plain = event_without_warnings(R190_MSG(""));
    char *cut = event_without_warnings(R190_MSG("#"));
    cr_expect_str_eq(cut, plain);
    free(plain);
    free(cut);
    /* each field the event carries, the source's first, in the order
     * read; EVN-5, PD1-3 and PV2-3 are not carried: nothing said */
#define CUT ":value cut short by the sender (truncation character);"
    cr_expect_str_eq(warnings_of(R190_MSG("#")),
                     "MSH-10" CUT "MSH-3" CUT "PID-3" CUT "PID-5" CUT
                     "PID-11" CUT "PID-13" CUT "PV1-10" CUT "PV1-3" CUT
                     "PV1-7" CUT "DG1-3" CUT);
#undef CUT
    /* escaped, the character is the value's own: nothing cut */
    cr_expect_str_eq(warnings_of(
        "MSH|^~\\&#|APP|FAC|HUB|HUB|20260115093000||ADT^A01|CTRL1|P|2.7\r"
        "PID|1||MRN1^^^FAC^MR||Smith\\P\\^Jo||19800131|F\rPV1|1|I\r"), "");
#undef R190_MSG
}

/* r200: probes of F3060 (round 192). A merge whose trigger is marked
 * ("A40#") is read as A40 by every PID group, each event warning of
 * MSH-9; PV1 is not required of it (the uncut trigger decides); an EVN-1
 * marked alike beside MSH-9.2 is the same event; an MSH-9.2 that is the
 * mark alone names no event. */
Test(hl7_to_events, a_marked_merge_trigger_is_read_by_every_group)
{
    struct canon_list l;
    struct hub_err err;
    cr_assert_eq(run("MSH|^~\\&#|APP|FAC|HUB|HUB|20260115093000||"
                     "ADT^A40#^ADT_A39|CTRL1|P|2.7\r"
                     "EVN|A40#|20260115092500\r"
                     "PID|1||NEW1^^^FAC^MR||Smith\rMRG|OLD1^^^FAC^MR\r"
                     "PID|1||NEW2^^^FAC^MR||Jones\rMRG|OLD2^^^FAC^MR\r",
                     &l, &err), HUB_OK, "%s", err.what ? err.what : "");
    cr_assert_eq(l.n, 2);
    for (size_t k = 0; k < 2; k++) {
        cJSON *e = cJSON_ParseWithLength(l.ev[k].json.p, l.ev[k].json.len);
        cr_expect_str_eq(str_at(e, "type", NULL), "adt.merge");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "warnings");
        cr_expect_eq(cJSON_GetArraySize(w), 1, "event %zu", k);
        cr_expect_str_eq(str_at(cJSON_GetArrayItem(w, 0), "field", NULL),
                         "MSH-9");
        cJSON_Delete(e);
    }
    cr_assert_eq(run("MSH|^~\\&#|APP|FAC|HUB|HUB|20260115093000||ADT^#|"
                     "CTRL1|P|2.7\r" PID "PV1|1|I\r", &l, &err),
                 HUB_EINVALID);
    cr_expect_str_eq(err.field, "MSH-9.2");
    /* lower case and the mark: the same event, warned once */
    cr_assert_str_eq(warnings_of("MSH|^~\\&#|APP|FAC|HUB|HUB|"
                                 "20260115093000||adt#^a08#|CTRL1|P|2.7\r"
                                 "EVN|a08#|20260115092500\r" PID "PV1|1|I\r"),
                     "MSH-9:value cut short by the sender (truncation "
                     "character);");
}
