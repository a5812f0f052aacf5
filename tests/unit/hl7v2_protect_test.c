/*
 * hl7v2_protect_test.c - HL7 v2's protection indicators (PD1-12 with its
 * effective date PD1-13, PV2-22) and access restrictions (ARV, v2.6 on)
 * label an event "restricted", as FHIR's confidentiality R and V do: the
 * values that protect and those that do not, the ARV action codes and
 * date ranges, what cannot be read (protected, with a warning that quotes
 * nothing), and the parser's short cuts (segments not indexed, a PD1 at
 * the end of the message, one long enough to be indexed after all).
 */
#include <criterion/criterion.h>
#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "common/dict.h"
#include "common/hub_err.h"
#include "hl7v2/hl7v2.h"
#include "../lib/testdict.h"

static struct arena A;

static void setup(void)
{
    arena_init(&A, 64 * 1024);
}

static void teardown(void)
{
    arena_release(&A);
}

TestSuite(hl7_protect, .init = setup, .fini = teardown);

/* MSH-7 is 2026-01-15: the day the date ranges below are compared with */
#define MSH "MSH|^~\\&|APP|FAC|HUB|HUB|20260115093000||ADT^A01|C1|P|2.6\r"
#define PID "PID|1||MRN1^^^FAC^MR||Doe^Jo||19800131|F\r"
#define PV1 "PV1|1|I\r"
#define MSH_NODATE "MSH|^~\\&|APP|FAC|HUB|HUB|x||ADT^A01|C1|P|2.6\r"

struct outcome {
    char labels[128];           /* "a,b" */
    char warnings[1024];        /* "FIELD:what;..." */
    size_t events;
};

/* Every event's labels (of the first event) and the message's warnings,
 * normalized with `d` (NULL: none, as hl7_to_events). */
static struct outcome run_dict(const struct dict *d, const char *msg)
{
    struct outcome o = { { 0 }, { 0 }, 0 };
    struct hl7_msg *m;
    struct hl7_warnings w;
    struct canon_list l = { 0 };
    struct hub_err err = { 0 };
    cr_assert_eq(hl7_parse(&A, msg, strlen(msg), &m, &err), HUB_OK,
                 "parse: %s", err.what ? err.what : "");
    cr_assert_eq(hl7_to_events_dict(&A, d, m, &l, &w, &err), HUB_OK,
                 "refused: %s", err.what ? err.what : "");
    o.events = l.n;
    cJSON *j = cJSON_ParseWithLength(l.ev[0].json.p, l.ev[0].json.len);
    cr_assert_not_null(j);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "sensitivity");
    for (const cJSON *x = s ? s->child : NULL; x; x = x->next)
        snprintf(o.labels + strlen(o.labels),
                 sizeof(o.labels) - strlen(o.labels), "%s%s",
                 x == s->child ? "" : ",", x->valuestring);
    cJSON_Delete(j);
    size_t n = 0;
    for (unsigned k = 0; k < w.n; k++)
        n += (size_t)snprintf(o.warnings + n, sizeof(o.warnings) - n,
                              "%s:%s;", w.w[k].field, w.w[k].what);
    return o;
}

static struct outcome run(const char *msg)
{
    return run_dict(NULL, msg);
}

/* msh, PID, `before`, PV1, `after` (segments, each ending in CR but
 * maybe the last), in a buffer of its own (two in turn) */
static const char *msg_of(const char *msh, const char *before,
                          const char *after)
{
    static char buf[2][4096];
    static unsigned next;
    char *o = buf[next++ % 2];
    int n = snprintf(o, sizeof(buf[0]), "%s" PID "%s" PV1 "%s", msh, before,
                     after);
    cr_assert(n > 0 && n < (int)sizeof(buf[0]));
    return o;
}

/* The labels of MSH PID `seg` PV1 (seg: segments, each ending in CR). */
static const char *labels_of(const char *seg)
{
    static char out[128];
    char msg[4096];
    snprintf(msg, sizeof(msg), MSH PID "%s" PV1, seg);
    struct outcome o = run(msg);
    memcpy(out, o.labels, sizeof(out));
    return out;
}

static const char *warnings_of(const char *seg)
{
    static char out[1024];
    char msg[4096];
    snprintf(msg, sizeof(msg), MSH PID "%s" PV1, seg);
    struct outcome o = run(msg);
    memcpy(out, o.warnings, sizeof(out));
    return out;
}

/* Segment `id` with `rest` from field f on: "PD1" 12 "Y" is
 * "PD1|||||||||||Y\r" (PD1-12). Each call has its own buffer, eight in
 * turn. */
static const char *at(const char *id, unsigned f, const char *rest)
{
    static char buf[8][2048];
    static unsigned next;
    char *o = buf[next++ % 8];
    size_t n = (size_t)snprintf(o, sizeof(buf[0]), "%s", id);
    for (unsigned k = 0; k < f; k++)
        o[n++] = '|';
    snprintf(o + n, sizeof(buf[0]) - n, "%s\r", rest);
    return o;
}

/* HL7 table 0136, as PD1-12 reads it: "Y protect access to patient
 * information, N normal access"; empty and the HL7 null say nothing */
Test(hl7_protect, pd1_12_y_labels_restricted_and_n_or_empty_does_not)
{
    cr_expect_str_eq(labels_of(at("PD1", 12, "Y")), "restricted");
    cr_expect_str_eq(labels_of(at("PD1", 12, "y")), "restricted");
    cr_expect_str_eq(labels_of(at("PD1", 12, "Y|20200101|||x")),
                     "restricted");
    cr_expect_str_eq(labels_of(at("PD1", 12, "N")), "");
    cr_expect_str_eq(labels_of(at("PD1", 12, "n")), "");
    cr_expect_str_eq(labels_of(at("PD1", 12, "")), "");
    cr_expect_str_eq(labels_of(at("PD1", 12, "\"\"")), "");
    cr_expect_str_eq(labels_of(at("PD1", 11, "Y")), "");    /* PD1-11 */
    cr_expect_str_eq(labels_of(at("PD1", 13, " Y")), "");  /* PD1-13 */
    cr_expect_str_eq(labels_of("PD1|||FAC^^1234|123^DOC\r"), "");
    cr_expect_str_eq(labels_of(""), "");
    /* as sent: padded, with components, escaped (Y is 0x59) */
    cr_expect_str_eq(labels_of(at("PD1", 12, " Y ")), "restricted");
    cr_expect_str_eq(labels_of(at("PD1", 12, "Y^^")), "restricted");
    cr_expect_str_eq(labels_of(at("PD1", 12, "\\X59\\")), "restricted");
    cr_expect_str_eq(warnings_of(at("PD1", 12, "Y")), "");
}

Test(hl7_protect, pv2_22_y_labels_restricted_and_n_or_empty_does_not)
{
    cr_expect_str_eq(labels_of(at("PV2", 21, "Y")), "");
    cr_expect_str_eq(labels_of(at("PV2", 22, "Y")),
                     "restricted");
    cr_expect_str_eq(labels_of(at("PV2", 21, "n|y|x")),
                     "restricted");
    cr_expect_str_eq(labels_of(at("PV2", 22, "N")), "");
    cr_expect_str_eq(labels_of(at("PV2", 22, "")), "");
    cr_expect_str_eq(labels_of(at("PV2", 21, "Y|\"\"")), "");
    /* where HL7 puts it: after PV1 (the message's segments in any order
     * are read alike) */
    cr_expect_str_eq(run(msg_of(MSH, "", at("PV2", 22, "Y"))).labels,
                     "restricted");
}

/* What is neither Y nor N, nor empty, is read as protected: a sender that
 * writes "Yes", "1" or a code of its own means something, and the safe
 * reading is the one that discloses less. The warning names the field
 * and quotes nothing. */
Test(hl7_protect, an_indicator_neither_y_nor_n_is_protected_with_a_warning)
{
    static const char *const odd[] = { "Yes", "1", "T", "ZZCANARYX",
                                       "Y^N", "\\X5A\\ZCANARY" };
    for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
        const char *seg = at("PD1", 12, odd[k]);
        const char *l = labels_of(seg);
        if (strcmp(odd[k], "Y^N") == 0) {   /* the first component: Y */
            cr_expect_str_eq(l, "restricted");
            continue;
        }
        cr_expect_str_eq(l, "restricted", "%s", odd[k]);
        const char *w = warnings_of(seg);
        cr_expect_str_eq(w, "PD1-12:protection indicator is not Y or N; "
                            "read as protected;", "%s", odd[k]);
        cr_expect_null(strstr(w, "CANARY"));
        seg = at("PV2", 22, odd[k]);
        cr_expect_str_eq(labels_of(seg), "restricted", "%s", odd[k]);
        cr_expect_str_eq(warnings_of(seg),
                         "PV2-22:visit protection indicator is not Y or N; "
                         "read as protected;", "%s", odd[k]);
    }
}

/* The field does not repeat; a sender that repeats it is read at its most
 * protective */
Test(hl7_protect, a_repeated_indicator_is_read_at_its_most_protective)
{
    cr_expect_str_eq(labels_of(at("PD1", 12, "N~Y")), "restricted");
    cr_expect_str_eq(labels_of(at("PD1", 12, "~Y")), "restricted");
    cr_expect_str_eq(labels_of(at("PD1", 12, "N~N")), "");
    cr_expect_str_eq(labels_of(at("PV2", 22, "N~~Y")),
                     "restricted");
}

/* PD1 and PV2 are one a message (or an A40's PID group); a sender that
 * sends another, as an empty PV2 before the visit's own, is read at its
 * most protective too: the first one alone lost the visit's Y (F1920,
 * ProSolv's A01 with a PV2 put before PID by hl7_variants). Each warning
 * once. */
Test(hl7_protect, every_pd1_and_pv2_of_a_message_is_read)
{
    cr_expect_str_eq(run(msg_of(MSH, "PV2|||^Rest\r",
                                at("PV2", 22, "Y"))).labels, "restricted");
    cr_expect_str_eq(run(msg_of(MSH, at("PV2", 22, "N"),
                                at("PV2", 22, "Y"))).labels, "restricted");
    cr_expect_str_eq(run(msg_of(MSH, at("PD1", 12, "N"),
                                at("PD1", 12, "Y"))).labels, "restricted");
    cr_expect_str_eq(run(msg_of(MSH, at("PD1", 12, "N"),
                                at("PD1", 12, "N|20260116"))).labels,
                     "restricted");
    cr_expect_str_eq(run(msg_of(MSH, at("PV2", 22, "N"),
                                at("PV2", 22, "N"))).labels, "");
    cr_expect_str_eq(run(msg_of(MSH, "PV2|||^Rest\r", "PV2|||^Rest\r"))
                         .labels, "");
    cr_expect_str_eq(run(msg_of(MSH, at("PV2", 22, "X"),
                                at("PV2", 22, "Z"))).warnings,
                     "PV2-22:visit protection indicator is not Y or N; "
                     "read as protected;");
}

/* PD1-13 (v2.5 on): "the effective date for PD1-12". An N that takes
 * effect after the message was sent says the patient is protected until
 * then; a Y that does is labelled too (the event is kept and read after
 * that day). A date that cannot be compared errs towards protecting. */
Test(hl7_protect, an_n_in_effect_only_after_the_message_is_protected)
{
    cr_expect_str_eq(labels_of(at("PD1", 12, "N|20250101")), "");
    cr_expect_str_eq(labels_of(at("PD1", 12, "N|20260115")), "");
    cr_expect_str_eq(labels_of(at("PD1", 12, "N|202601")), "");
    cr_expect_str_eq(labels_of(at("PD1", 12, "N|20260116")), "restricted");
    cr_expect_str_eq(warnings_of(at("PD1", 12, "N|20260116")),
                     "PD1-13:protection indicator N takes effect after the "
                     "message; read as protected;");
    cr_expect_str_eq(labels_of(at("PD1", 12, "N|2026011")), "restricted");
    cr_expect_str_eq(warnings_of(at("PD1", 12, "N|ZZCANARY")),
                     "PD1-13:effective date of the protection indicator "
                     "cannot be compared with MSH-7; read as protected;");
    cr_expect_str_eq(labels_of(at("PD1", 12, "Y|20270101")), "restricted");
    cr_expect_str_eq(warnings_of(at("PD1", 12, "Y|20270101")), "");
    /* MSH-7 no date: nothing to compare with */
    cr_expect_str_eq(run(msg_of(MSH_NODATE, at("PD1", 12, "N|20200101"),
                                "")).labels, "restricted");
}

/* ARV (v2.6 on): ARV-2 table 0206 (A add, D delete, U update, X no
 * change, S snapshot), ARV-3 user-defined table 0717 */
Test(hl7_protect, an_access_restriction_in_force_labels_restricted)
{
    static const char *const in_force[] = {
        "ARV|1|A|DEM|PAT\r", "ARV|1|U|LOC\r", "ARV|1|X|LOC|PHY\r",
        "ARV|1|S|ALL\r", "ARV|1|a|HIV\r", "ARV|1|A^Add^HL70206|PSY^x^HL70717\r",
        "ARV|1|A|OO\r", "ARV|1|A|PersDEID\r", "ARV|1|A|LOCAL-CODE\r",
    };
    for (size_t k = 0; k < sizeof(in_force) / sizeof(in_force[0]); k++) {
        cr_expect_str_eq(labels_of(in_force[k]), "restricted", "%s",
                         in_force[k]);
        cr_expect_str_eq(warnings_of(in_force[k]), "", "%s", in_force[k]);
    }
}

/* D deletes a restriction sent before; NO (none) and OI (opt in to all
 * registries) restrict nothing, unless v2.9's ARV-7 classes the data R or
 * V (table 0952) */
Test(hl7_protect, a_deleted_or_empty_restriction_restricts_nothing)
{
    cr_expect_str_eq(labels_of("ARV|1|D|DEM|PAT\r"), "");
    cr_expect_str_eq(labels_of("ARV|1|d|ALL\r"), "");
    cr_expect_str_eq(labels_of("ARV|1|D^Delete^HL70206|ALL\r"), "");
    cr_expect_str_eq(labels_of("ARV|1|A|NO\r"), "");
    cr_expect_str_eq(labels_of("ARV|1|A|OI\r"), "");
    cr_expect_str_eq(labels_of("ARV|1|A|NO||||N\r"), "");
    cr_expect_str_eq(labels_of("ARV|1|A|NO||||R\r"), "restricted");
    cr_expect_str_eq(labels_of("ARV|1|A|OI||||V^very restricted\r"),
                     "restricted");
    /* any one in force among several */
    cr_expect_str_eq(labels_of("ARV|1|D|DEM\rARV|2|A|LOC\r"), "restricted");
    cr_expect_str_eq(labels_of("ARV|1|D|DEM\rARV|2|A|NO\r"), "");
}

/* ARV-6 (DR): "the date from which an access restriction commences until
 * the date it is specifically rescinded". One that ended before the
 * message's day restricts nothing; one that has not begun does (the event
 * is kept and read after it begins); the day itself is in force. */
Test(hl7_protect, a_restriction_ended_before_the_message_restricts_nothing)
{
    cr_expect_str_eq(labels_of("ARV|1|A|DEM|PAT||20200101^20250101\r"), "");
    cr_expect_str_eq(labels_of("ARV|1|A|DEM|PAT||^20260114235959+0100\r"),
                     "");
    cr_expect_str_eq(labels_of("ARV|1|A|DEM|PAT||^20260115\r"), "restricted");
    cr_expect_str_eq(labels_of("ARV|1|A|DEM|PAT||^2026\r"), "restricted");
    cr_expect_str_eq(labels_of("ARV|1|A|DEM|PAT||20200101\r"), "restricted");
    /* not begun: a future range */
    cr_expect_str_eq(labels_of("ARV|1|A|DEM|PAT||20270101^20280101\r"),
                     "restricted");
    cr_expect_str_eq(labels_of("ARV|1|A|DEM|PAT||20270101\r"), "restricted");
    cr_expect_str_eq(warnings_of("ARV|1|A|DEM|PAT||20270101^20280101\r"),
                     "");
    /* v2.5's TS in a DR: the time as the first subcomponent */
    cr_expect_str_eq(labels_of("ARV|1|A|DEM||| ^20250101&D\r"), "");
    /* an ended one is still deleted, and a deleted one still ended */
    cr_expect_str_eq(labels_of("ARV|1|D|DEM|||^20280101\r"), "");
}

/* What cannot be read restricts, with a warning that names the field */
Test(hl7_protect, an_unreadable_restriction_restricts_with_a_warning)
{
    cr_expect_str_eq(labels_of("ARV|1||DEM\r"), "restricted");
    cr_expect_str_eq(warnings_of("ARV|1||DEM\r"),
                     "ARV-2:access restriction action code is not A, D, U, "
                     "X or S; read as in force;");
    cr_expect_str_eq(warnings_of("ARV|1|ZZCANARY|DEM\r"),
                     "ARV-2:access restriction action code is not A, D, U, "
                     "X or S; read as in force;");
    cr_expect_str_eq(labels_of("ARV|1|A\r"), "restricted");
    cr_expect_str_eq(warnings_of("ARV|1|A\r"),
                     "ARV-3:required field access restriction value is "
                     "missing; read as restricting all;");
    cr_expect_str_eq(labels_of("ARV|1|A|DEM|||^ZZCANARY\r"), "restricted");
    cr_expect_str_eq(warnings_of("ARV|1|A|DEM|||^ZZCANARY\r"),
                     "ARV-6:access restriction end date is not an HL7 "
                     "date; read as in force;");
    /* MSH-7 no date: an end cannot be compared with it */
    cr_expect_str_eq(run(msg_of(MSH_NODATE, "ARV|1|A|DEM|||^20200101\r",
                                "")).labels, "restricted");
}

/* An A40's groups (PID, PD1, MRG, PV1, ...) are labelled by their own
 * segments, not by another patient's */
Test(hl7_protect, each_merge_group_is_labelled_by_its_own_segments)
{
    struct hl7_msg *m;
    struct canon_list l = { 0 };
    struct hub_err err = { 0 };
    const char *msg = "MSH|^~\\&|APP|FAC|HUB|HUB|20260115||ADT^A40^ADT_A39|"
                      "C1|P|2.6\r"
                      "PID|1||NEW1^^^FAC^MR\rPD1||||||||||||Y\r"
                      "MRG|OLD1^^^FAC^MR\r"
                      "PID|1||NEW2^^^FAC^MR\rPD1||||||||||||N\r"
                      "MRG|OLD2^^^FAC^MR\r"
                      "PID|1||NEW3^^^FAC^MR\rMRG|OLD3^^^FAC^MR\r"
                      "ARV|1|A|ALL\r";
    cr_assert_eq(hl7_parse(&A, msg, strlen(msg), &m, &err), HUB_OK);
    cr_assert_eq(hl7_to_events(&A, m, &l, &err), HUB_OK);
    cr_assert_eq(l.n, 3);
    for (size_t k = 0; k < 3; k++) {
        char j[4096];
        snprintf(j, sizeof(j), "%.*s", (int)l.ev[k].json.len,
                 l.ev[k].json.p);
        int restricted = strstr(j, "\"restricted\"") != NULL;
        cr_expect_eq(restricted, k != 1, "group %zu", k);
    }
}

/* The label fits beside the five the dictionary's ICD-10 rows give
 * (sud, psy, hiv, std, sdv), each kept: a label left out for want of
 * room would send the event to subscriptions that do not list it (F781) */
Test(hl7_protect, restricted_fits_beside_every_diagnosis_label)
{
    struct dict *d = testdict_load();
    const char *dg1 = "DG1|1||F10.20^x^I10\rDG1|2||F32.9^x^I10\r"
                      "DG1|3||B20^x^I10\rDG1|4||A53.9^x^I10\r"
                      "DG1|5||T74.11XA^x^I10\r";
    cr_expect_str_eq(run_dict(d, msg_of(MSH, "", dg1)).labels,
                     "sud,psy,hiv,std,sdv");
    cr_expect_str_eq(run_dict(d, msg_of(MSH, at("PD1", 12, "Y"), dg1)).labels,
                     "sud,psy,hiv,std,sdv,restricted");
    dict_free(d);
}

/* The labels of MSH PID `seg` PV1 normalized with the dictionary. */
static const char *dict_labels_of(const struct dict *d, const char *seg)
{
    static char out[128];
    struct outcome o = run_dict(d, msg_of(MSH, seg, ""));
    memcpy(out, o.labels, sizeof(out));
    return out;
}

/* F940: ARV-3 (table 0717) names what the sender restricts; a sensitive
 * kind of data labels the event with the hub's label for it beside
 * `restricted` (security-labels.json "v2-0717"), so that a subscription
 * granted `restricted` but not `hiv` does not receive it. Demographics,
 * location, all, sensitive medical data and local codes name no kind the
 * hub has a label for: `restricted` alone, as before. */
Test(hl7_protect, an_access_restriction_of_a_sensitive_kind_adds_its_label)
{
    static const struct { const char *arv, *labels; } t[] = {
        { "ARV|1|A|HIV\r", "hiv,restricted" },
        { "ARV|1|A|PSY\r", "psy,restricted" },
        { "ARV|1|A|STD\r", "std,restricted" },
        { "ARV|1|A|DRG\r", "sud,restricted" },
        { "ARV|1|A|42CFRPart2\r", "sud,restricted" },
        { "ARV|1|A|42CFRPart2CD\r", "sud,restricted" },
        { "ARV|1|A|HIPAAPsyNotes\r", "psy,restricted" },
        { "ARV|1|A|MDHHS-5515\r", "psy,sud,restricted" },
        { "ARV|1|A|Title38Section7332\r", "sud,hiv,restricted" },
        /* the CWE's text and system, any case, each action in force */
        { "ARV|1|U^Update^HL70206|HIV^HIV status and results^HL70717\r",
          "hiv,restricted" },
        { "ARV|1|X|psy\r", "psy,restricted" },
        { "ARV|1|S|std^^HL70717|PAT\r", "std,restricted" },
        { "ARV|1|A|Drg||||V\r", "sud,restricted" },
        /* a range not yet begun, or ending on the message's day */
        { "ARV|1|A|HIV|PAT||20270101^20280101\r", "hiv,restricted" },
        { "ARV|1|A|HIV|PAT||^20260115\r", "hiv,restricted" },
        /* a field that does not repeat, read whole; two ARVs */
        { "ARV|1|A|DEM~HIV\r", "hiv,restricted" },
        { "ARV|1|A|PSY\rARV|2|A|DRG\r", "psy,sud,restricted" },
        /* no sensitive kind */
        { "ARV|1|A|DEM\r", "restricted" },
        { "ARV|1|A|LOC\r", "restricted" },
        { "ARV|1|A|ALL\r", "restricted" },
        { "ARV|1|A|SMD\r", "restricted" },
        { "ARV|1|A|HIVX\r", "restricted" },
        { "ARV|1|A|HI\r", "restricted" },
        { "ARV|1|A\r", "restricted" },
    };
    struct dict *d = testdict_load();
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++)
        cr_expect_str_eq(dict_labels_of(d, t[k].arv), t[k].labels, "%s",
                         t[k].arv);
    /* without a dictionary, as before: restricted alone */
    cr_expect_str_eq(labels_of("ARV|1|A|HIV\r"), "restricted");
    dict_free(d);
}

/* A restriction not in force (deleted, ended before the message's day,
 * NO or OI without ARV-7 R or V) labels nothing, its kind included; one
 * deleted beside one in force gives the latter's kind only */
Test(hl7_protect, a_sensitive_restriction_not_in_force_adds_nothing)
{
    struct dict *d = testdict_load();
    cr_expect_str_eq(dict_labels_of(d, "ARV|1|D|HIV\r"), "");
    cr_expect_str_eq(dict_labels_of(d, "ARV|1|d|PSY^x^HL70717\r"), "");
    cr_expect_str_eq(dict_labels_of(d, "ARV|1|A|STD|PAT||20200101^20250101\r"),
                     "");
    cr_expect_str_eq(dict_labels_of(d, "ARV|1|A|DRG|||^20260114\r"), "");
    cr_expect_str_eq(dict_labels_of(d, "ARV|1|D|HIV\rARV|2|A|PSY\r"),
                     "psy,restricted");
    cr_expect_str_eq(dict_labels_of(d, "ARV|1|A|HIV|||^20250101\r"
                                       "ARV|2|A|DEM\r"), "restricted");
    dict_free(d);
}

/* Beside a diagnosis's label, in the order met (DG1 first); and every
 * label the tables name fits, restricted last (F781) */
Test(hl7_protect, an_access_restriction_label_joins_the_diagnosis_labels)
{
    struct dict *d = testdict_load();
    const char *dg1 = "DG1|1||F10.20^x^I10\r";
    cr_expect_str_eq(run_dict(d, msg_of(MSH, "ARV|1|A|HIV\r", dg1)).labels,
                     "sud,hiv,restricted");
    cr_expect_str_eq(run_dict(d, msg_of(MSH, "ARV|1|A|DRG\r", dg1)).labels,
                     "sud,restricted");
    dg1 = "DG1|1||F10.20^x^I10\rDG1|2||F32.9^x^I10\rDG1|3||A53.9^x^I10\r"
          "DG1|4||T74.11XA^x^I10\r";
    cr_expect_str_eq(run_dict(d, msg_of(MSH, "ARV|1|A|Title38Section7332\r",
                                        dg1)).labels,
                     "sud,psy,std,sdv,hiv,restricted");
    dict_free(d);
}

/* The parser indexes neither PD1 nor PV2 but for the fields of a long
 * one (as many bytes as HL7_MAX_FIELDS: it is scanned again, as any
 * segment), and the field separators are counted a vector at a time but
 * for the last bytes of the input: each way reads the same */
Test(hl7_protect, a_long_or_last_segment_is_read_as_any)
{
    char seg[1024];
    char fill[400];
    memset(fill, 'x', sizeof(fill) - 1);
    fill[sizeof(fill) - 1] = '\0';
    snprintf(seg, sizeof(seg), "PD1|||%s|||||||||Y\r", fill);
    cr_expect_str_eq(labels_of(seg), "restricted");
    snprintf(seg, sizeof(seg), "PD1|||%s|||||||||N\r", fill);
    cr_expect_str_eq(labels_of(seg), "");
    snprintf(seg, sizeof(seg), "PV2|||%s|||||||||||||||||||Y\r", fill);
    cr_expect_str_eq(labels_of(seg), "restricted");
    /* the last segment, with and without its CR */
    cr_expect_str_eq(run(msg_of(MSH, "", "PD1||||||||||||Y")).labels,
                     "restricted");
    cr_expect_str_eq(run(msg_of(MSH, "", at("PD1", 12, "Y"))).labels,
                     "restricted");
    cr_expect_str_eq(run(msg_of(MSH, "", "PD1|||||||||||Y")).labels, "");
    cr_expect_str_eq(
        run(msg_of(MSH, "", "PV2||||||||||||||||||||||Y")).labels,
        "restricted");
    /* PD1-12 the last field, at every distance from the end of the input */
    static const char x[] =
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    for (int pad = 0; pad < 140; pad++) {
        char z[160];
        snprintf(z, sizeof(z), "ZPD|%.*s", pad, x);
        cr_expect_str_eq(run(msg_of(MSH, at("PD1", 12, "Y"), z)).labels,
                         "restricted", "pad %d", pad);
        cr_expect_str_eq(run(msg_of(MSH, at("PD1", 11, "Y|"), z)).labels,
                         "", "pad %d", pad);
    }
}
