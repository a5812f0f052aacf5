/*
 * real_samples_test.c - every public sample under tests/data/real/<format>/
 * (HL7 v2, FHIR R4, C-CDA, CSV; written by others, never seen while the
 * adapters were built; tests/data/real/SOURCES.md says where each comes from)
 * through the adapter's public entry point, against the expected outcome
 * beside it:
 *   <name>.events.json  the canonical events, as a JSON array (compared as
 *                       JSON: member order does not matter, values do);
 *   <name>.err.json     a refusal {"code", "field", "what"}: the status name,
 *                       the place (segment-field, element path or XPath)
 *                       and the static reason, all three compared exactly;
 *   <name>.outcome.json FHIR: the OperationOutcome the sender gets
 *                       (fhir_result_outcome), compared as JSON. Required
 *                       when an entry that gave no event has a warning
 *                       or a note of why (the events carry the others):
 *                       what the sender is told is then the only place
 *                       it shows.
 * A refusal must also leave no events, and its place must look like a place
 * (no blanks, no quotes: a value from the message can never hide in it).
 * CSV samples are upload sets: each directory of tests/data/real/csv/ is one
 * upload (all its *.csv, sorted by name), of kind "shinny" unless the
 * directory holds a file `kind` naming another ("screenings",
 * "referral-status"), beside <dir>.events.json and <dir>.report.json
 * (csv_report_json), or <dir>.err.json, with <dir>.report.json too when the
 * report of the refusal is checked (every missing column named, nothing of
 * the file quoted back).
 *
 * How the expected files were checked: each was first written from the
 * adapter's own output, then read field by field against the sample by hand
 * (identifiers and their systems, names, dates and offsets, locations,
 * codes, positivity from the dictionary, refusal places). Where the output
 * was wrong the adapter was fixed, with a test of its own, and the file
 * regenerated; SOURCES.md lists those findings and what is left open.
 * Files are found under $HUB_ROOT, else the current directory.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccda/ccda.h"
#include "common/dict.h"
#include "csv/csv.h"
#include "dict_files.h"
#include "fhir/fhir.h"
#include "hl7v2/hl7v2.h"
#include "../lib/testfile.h"
#include "../lib/testdict.h"

static struct dict *D;

static const char *root(void)
{
    const char *r = getenv("HUB_ROOT");
    return r && *r ? r : ".";
}

static void setup(void)
{
    ccda_global_init();
    D = testdict_load();
}

static void teardown(void)
{
    dict_free(D);
}

TestSuite(real_samples, .init = setup, .fini = teardown);

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

enum fmt { F_HL7, F_FHIR, F_CCDA, F_CCDA_SECTION };

/* The section C-CDA R2.1 puts an entry template in (by its templateId
 * root), for a published entry fragment that comes without one. */
static const struct {
    const char *entry, *section, *code;
} entry_section[] = {
    { "2.16.840.1.113883.10.20.22.4.38", "2.16.840.1.113883.10.20.22.2.17",
      "29762-2" },              /* Social History Observation */
    { "2.16.840.1.113883.10.20.22.4.69", "2.16.840.1.113883.10.20.22.2.17",
      "29762-2" },              /* Assessment Scale Observation */
    { "2.16.840.1.113883.10.20.22.4.72", "2.16.840.1.113883.10.20.22.2.17",
      "29762-2" },              /* Caregiver Characteristics */
    { "2.16.840.1.113883.10.20.22.4.109", "2.16.840.1.113883.10.20.22.2.17",
      "29762-2" },              /* Characteristics of Home Environment */
    { "2.16.840.1.113883.10.20.22.4.503", "2.16.840.1.113883.10.20.22.2.17",
      "29762-2" },              /* Basic Occupation Observation */
    { "2.16.840.1.113883.10.20.22.4.504", "2.16.840.1.113883.10.20.22.2.17",
      "29762-2" },              /* Basic Industry Observation */
    { "2.16.840.1.113883.10.20.22.4.4", "2.16.840.1.113883.10.20.22.2.5.1",
      "11450-4" },              /* Problem Observation */
    { "2.16.840.1.113883.10.20.22.4.132", "2.16.840.1.113883.10.20.22.2.58",
      "75310-3" },              /* Health Concern Act */
    { "2.16.840.1.113883.10.20.22.4.121", "2.16.840.1.113883.10.20.22.2.60",
      "61146-7" },              /* Goal Observation */
    { "2.16.840.1.113883.10.20.22.4.140", "2.16.840.1.113883.10.20.22.2.10",
      "18776-5" },              /* Patient Referral Act: Plan of Treatment */
    { "2.16.840.1.113883.10.20.22.4.39", "2.16.840.1.113883.10.20.22.2.10",
      "18776-5" },              /* Planned Act */
    { "2.16.840.1.113883.10.20.22.4.41", "2.16.840.1.113883.10.20.22.2.10",
      "18776-5" },              /* Planned Procedure */
    { "2.16.840.1.113883.10.20.22.4.42", "2.16.840.1.113883.10.20.22.2.10",
      "18776-5" },              /* Planned Medication Activity */
    { "2.16.840.1.113883.10.20.22.4.43", "2.16.840.1.113883.10.20.22.2.10",
      "18776-5" },              /* Planned Supply */
    { "2.16.840.1.113883.10.20.22.4.131", "2.16.840.1.113883.10.20.21.2.3",
      "62387-6" },              /* Intervention Act: Interventions */
};

/* A section fragment of ccda-sections/ in the one document that folder's
 * _header.xml makes: the fragment in place of its SECTIONS comment, in a
 * component first when it is a bare <section>. Fragments are refused
 * alone (a document is required); in a document their entries are read
 * as any sender's. A bare entry (<entry>, or its statement alone) goes in
 * an <entry> of the section entry_section names for its first templateId
 * (round 127). A fragment's own XML declaration is left out: it may only
 * open a document (round 164). `name` is the fragment's, for messages.
 * Returns a malloc'd document. */
static char *in_document(const char *dir, const char *name,
                         const char *frag, size_t flen, size_t *len)
{
    static const char mark[] = "<!--SECTIONS-->";
    char path[1024], open[256];
    size_t hlen;

    snprintf(path, sizeof(path), "%s/_header.xml", dir);
    char *h = testfile_read(path, &hlen);
    cr_assert_not_null(h, "cannot read %s", path);
    char *at = strstr(h, mark);
    cr_assert_not_null(at, "%s has no %s", path, mark);
    const char *q = frag, *end = frag + flen;
    while (q < end && strchr(" \t\r\n", *q))
        q++;
    if (end - q >= 5 && strncmp(q, "<?xml", 5) == 0) {
        /* the fragment is taken from after its XML declaration */
        const char *c = strstr(q, "?>");
        q = c ? c + 2 : end;
        flen -= (size_t)(q - frag);
        frag = q;
    }
    for (;;) {                  /* the first element, past comments */
        while (q < end && strchr(" \t\r\n", *q))
            q++;
        if (end - q < 4 || strncmp(q, "<!--", 4) != 0)
            break;
        const char *c = strstr(q, "-->");
        q = c ? c + 3 : end;
    }
    bool bare = end - q >= 8 && strncmp(q, "<section", 8) == 0;
    bool entry = end - q >= 6 && strncmp(q, "<entry", 6) == 0 &&
                 strchr(" >", q[6]) != NULL;
    bool component = end - q >= 10 && strncmp(q, "<component", 10) == 0;
    const char *close = bare ? "</component>" : "";
    snprintf(open, sizeof(open), "%s", bare ? "<component>" : "");
    if (!bare && !component) {
        const char *t = strstr(frag, "templateId root=\"");
        size_t k = 0, n = sizeof(entry_section) / sizeof(entry_section[0]);
        for (; t && k < n; k++) {
            size_t el = strlen(entry_section[k].entry);
            if (strncmp(t + 17, entry_section[k].entry, el) == 0 &&
                t[17 + el] == '"')
                break;
        }
        cr_assert(t && k < n, "%s: an entry of no known section", name);
        snprintf(open, sizeof(open),
                 "<component><section><templateId root=\"%s\"/>"
                 "<code code=\"%s\" codeSystem=\"2.16.840.1.113883.6.1\"/>"
                 "%s", entry_section[k].section, entry_section[k].code,
                 entry ? "" : "<entry>");
        close = entry ? "</section></component>"
                      : "</entry></section></component>";
    }
    size_t pre = (size_t)(at - h), post = hlen - pre - strlen(mark);
    *len = pre + strlen(open) + flen + strlen(close) + post;
    char *doc = malloc(*len + 1);
    cr_assert_not_null(doc);
    int k = snprintf(doc, *len + 1, "%.*s%s%.*s%s%s", (int)pre, h, open,
                     (int)flen, frag, close, at + strlen(mark));
    cr_assert_eq((size_t)k, *len);
    free(h);
    return doc;
}

struct outcome {
    int rc;
    struct hub_err err;
    struct canon_list out;
    cJSON *batch;               /* a batch file: each message's outcome */
    struct fhir_result res;     /* FHIR */
};

/* A refused message of a batch, as its expected file writes it. */
static cJSON *refusal_json(size_t i, int rc, const struct hub_err *err)
{
    cJSON *o = cJSON_CreateObject(), *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "message", (double)i);
    cJSON_AddStringToObject(r, "code", hub_strerror(rc));
    cJSON_AddStringToObject(r, "field", err->field);
    cJSON_AddStringToObject(r, "what", err->what ? err->what : "");
    cJSON_AddItemToObject(o, "refused", r);
    return o;
}

/* The sample through its adapter's public entry point. */
static struct outcome run(struct arena *a, enum fmt f, const char *p,
                          size_t len)
{
    struct outcome o;
    memset(&o, 0, sizeof(o));
    if (f == F_HL7 && hl7_is_batch(p, len)) {
        /* a batch file as POST /v1/hl7v2 takes it: the envelope, then
         * each message alone; their events in order, a refused message
         * as {"refused": {message, code, field, what}} in its place */
        struct hl7_batch_file *bf = malloc(sizeof(*bf));
        struct slice msgs[64];
        cr_assert_not_null(bf);
        o.rc = hl7_batch_read(p, len, bf, msgs, 64, &o.err);
        if (o.rc == HUB_OK)
            o.batch = cJSON_CreateArray();
        for (size_t i = 0; o.rc == HUB_OK && i < bf->n_msgs; i++) {
            struct hl7_msg *m = NULL;
            struct hub_err e = { 0 };
            struct canon_list l = { 0 };
            int rc = hl7_parse(a, msgs[i].p, msgs[i].len, &m, &e);
            if (rc == HUB_OK)
                rc = hl7_to_events_dict(a, D, m, &l, NULL, &e);
            if (rc != HUB_OK) {
                cJSON_AddItemToArray(o.batch, refusal_json(i, rc, &e));
                continue;
            }
            for (size_t k = 0; k < l.n; k++) {
                cJSON *ev = cJSON_ParseWithLength(l.ev[k].json.p,
                                                  l.ev[k].json.len);
                cr_assert_not_null(ev, "event of message %zu is not JSON", i);
                cJSON_AddItemToArray(o.batch, ev);
            }
        }
        free(bf);
    } else if (f == F_HL7) {
        struct hl7_msg *m = NULL;
        o.rc = hl7_parse(a, p, len, &m, &o.err);
        if (o.rc == HUB_OK)             /* with the dictionary, as hubd */
            o.rc = hl7_to_events_dict(a, D, m, &o.out, NULL, &o.err);
    } else if (f == F_FHIR) {
        o.rc = fhir_to_events(a, D, p, len, &o.out, &o.res, &o.err);
    } else {
        struct slice mid;
        o.rc = ccda_to_events(a, D, p, len, &o.out, &mid, &o.err);
    }
    return o;
}

/* A place names a place: no blank, quote, control byte or non-ASCII. */
static bool looks_like_a_place(const char *s)
{
    for (; *s; s++)
        if (*s <= ' ' || *s == '"' || *s == '\'' || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* Whether a refusal (rc, err) is the one `want`, the text of the .err.json
 * at `path`, expects (its code, field and what); logs the difference. */
static bool refusal_is(const char *label, const char *path, const char *want,
                       int rc, const struct hub_err *err)
{
    cJSON *w = cJSON_Parse(want);
    cr_assert_not_null(w, "%s is not JSON", path);
    const char *code = cJSON_GetStringValue(cJSON_GetObjectItem(w, "code"));
    const char *field = cJSON_GetStringValue(cJSON_GetObjectItem(w, "field"));
    const char *what = cJSON_GetStringValue(cJSON_GetObjectItem(w, "what"));
    cr_assert(code && field && what, "%s: code, field and what", path);
    bool same = rc != HUB_OK && strcmp(hub_strerror(rc), code) == 0 &&
                strcmp(err->field, field) == 0 && err->what != NULL &&
                strcmp(err->what, what) == 0;
    if (!same)
        cr_log_error("%s: want %s at %s (%s); got rc %d (%s) at %s (%s)",
                     label, code, field, what, rc, hub_strerror(rc),
                     err->field, err->what ? err->what : "");
    cJSON_Delete(w);
    return same;
}

/* 0 when an accepted FHIR sample tells the sender what its .outcome.json
 * says, or has none and no entry warned without an event; else 1. */
static int check_outcome(struct arena *a, const char *dir, const char *name,
                         size_t base, const struct fhir_result *res)
{
    char path[1024];
    size_t len;
    bool silent = false;         /* a warning or note no event carries */
    for (size_t i = 0; i < res->n_entries; i++)
        silent |= res->entries[i].status == HUB_OK &&
                  res->entries[i].n_events == 0 &&
                  (res->entries[i].n_warnings > 0 ||
                   res->entries[i].note.what != NULL);
    snprintf(path, sizeof(path), "%s/%.*s.outcome.json", dir, (int)base, name);
    char *want = testfile_read(path, &len);
    if (want == NULL) {
        if (silent)
            cr_log_error("%s: an entry with no event warns or says why: "
                         "its outcome needs %.*s.outcome.json", name,
                         (int)base, name);
        return silent;
    }
    struct slice oo;
    cr_assert_eq(fhir_result_outcome(a, res, &oo), HUB_OK, "%s", name);
    cJSON *w = cJSON_Parse(want), *got = cJSON_ParseWithLength(oo.p, oo.len);
    cr_assert_not_null(w, "%s is not JSON", path);
    cr_assert_not_null(got, "%s: outcome is not JSON", name);
    int fail = !cJSON_Compare(w, got, 1);
    if (fail)
        cr_log_error("%s: outcome differs from %.*s.outcome.json; got:\n%.*s",
                     name, (int)base, name, (int)oo.len, oo.p);
    cJSON_Delete(w);
    cJSON_Delete(got);
    free(want);
    return fail;
}

/* 0 when the sample gives what its expected file says, else 1 (logged). */
static int check_one(const char *dir, const char *name, size_t base,
                     enum fmt f)
{
    char path[1024];
    size_t len, wlen;
    int fail = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    char *p = testfile_read(path, &len);
    cr_assert_not_null(p, "cannot read %s", path);
    if (f == F_CCDA_SECTION) {
        char *doc = in_document(dir, name, p, len, &len);
        free(p);
        p = doc;
        f = F_CCDA;
    }
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct outcome o = run(&a, f, p, len);

    snprintf(path, sizeof(path), "%s/%.*s.events.json", dir, (int)base, name);
    char *want = testfile_read(path, &wlen);
    if (want) {
        cJSON *w = cJSON_Parse(want);
        cr_assert(cJSON_IsArray(w), "%s: not a JSON array", path);
        if (o.batch) {
            if (!cJSON_Compare(w, o.batch, 1)) {
                char *g = cJSON_Print(o.batch);
                cr_log_error("%s: events differ from %.*s.events.json; got:"
                             "\n%s", name, (int)base, name, g);
                free(g);
                fail = 1;
            }
        } else if (o.rc != HUB_OK) {
            cr_log_error("%s: refused (%s at %s: %s), want %d events", name,
                         hub_strerror(o.rc), o.err.field,
                         o.err.what ? o.err.what : "",
                         cJSON_GetArraySize(w));
            fail = 1;
        } else {
            cJSON *got = cJSON_CreateArray();
            for (size_t k = 0; k < o.out.n; k++) {
                cJSON *ev = cJSON_ParseWithLength(o.out.ev[k].json.p,
                                                  o.out.ev[k].json.len);
                cr_assert_not_null(ev, "%s: event %zu is not JSON", name, k);
                const char *t = cJSON_GetStringValue(
                    cJSON_GetObjectItemCaseSensitive(ev, "type"));
                cr_assert(t && strcmp(t, o.out.ev[k].type) == 0 &&
                              canon_topic_known(t),
                          "%s: event %zu: type disagrees with its list", name,
                          k);
                cJSON_AddItemToArray(got, ev);
            }
            if (!cJSON_Compare(w, got, 1)) {
                char *g = cJSON_Print(got);
                cr_log_error("%s: events differ from %.*s.events.json; got:"
                             "\n%s", name, (int)base, name, g);
                free(g);
                fail = 1;
            }
            cJSON_Delete(got);
            if (f == F_FHIR)
                fail |= check_outcome(&a, dir, name, base, &o.res);
        }
        cJSON_Delete(w);
    } else {
        snprintf(path, sizeof(path), "%s/%.*s.err.json", dir, (int)base,
                 name);
        want = testfile_read(path, &wlen);
        cr_assert_not_null(want, "%s has neither .events.json nor .err.json",
                           name);
        if (!refusal_is(name, path, want, o.rc, &o.err)) {
            fail = 1;
        } else if (f != F_CCDA && o.out.n != 0) {
            /* FHIR rolls back; HL7 refuses before writing (C-CDA's caller
             * discards what was made, ccda.h) */
            cr_log_error("%s: %zu events left after a refusal", name,
                         o.out.n);
            fail = 1;
        } else if (!looks_like_a_place(o.err.field)) {
            cr_log_error("%s: refusal place is not a path", name);
            fail = 1;
        }
    }
    free(want);
    cJSON_Delete(o.batch);
    arena_release(&a);
    free(p);
    return fail;
}

/* Every sample of tests/data/real/<sub>; at least `min` of them. */
static void run_dir(const char *sub, enum fmt f, size_t min)
{
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/tests/data/real/%s", root(), sub);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    struct dirent *e;
    size_t n = 0, failures = 0;
    while ((e = readdir(d)) != NULL) {
        const char *s = e->d_name;
        size_t base;
        if (ends_with(s, ".events.json") || ends_with(s, ".err.json") ||
            ends_with(s, ".outcome.json"))
            continue;
        if (f == F_HL7 && ends_with(s, ".hl7"))
            base = strlen(s) - 4;
        else if (f == F_FHIR && ends_with(s, ".json"))
            base = strlen(s) - 5;
        else if ((f == F_CCDA || f == F_CCDA_SECTION) &&
                 ends_with(s, ".xml") && s[0] != '_')
            base = strlen(s) - 4;
        else
            continue;
        n++;
        failures += (size_t)check_one(dir, s, base, f);
    }
    closedir(d);
    cr_assert_geq(n, min, "only %zu samples in %s", n, dir);
    cr_assert_eq(failures, 0, "%zu of %zu samples in %s differ (see log)",
                 failures, n, sub);
}

Test(real_samples, every_hl7v2_sample_gives_its_checked_outcome)
{
    run_dir("hl7v2", F_HL7, 24);
}

Test(real_samples, every_fhir_sample_gives_its_checked_outcome)
{
    run_dir("fhir", F_FHIR, 12);
}

Test(real_samples, every_ccda_sample_gives_its_checked_outcome)
{
    run_dir("ccda", F_CCDA, 1);
}

/* The published section fragments (C-CDA Examples), each read inside the
 * folder's _header.xml document (SOURCES.md, eighty-second round). */
Test(real_samples, every_ccda_section_sample_gives_its_checked_outcome_in_a_document)
{
    run_dir("ccda-sections", F_CCDA_SECTION, 3);
}

/* The kind a set is sent as: its `kind` file's first word, else "shinny". */
static const char *csv_set_kind(struct arena *a, const char *dir,
                                const char *set)
{
    char path[1024];
    size_t len;
    snprintf(path, sizeof(path), "%s/%s/kind", dir, set);
    char *k = testfile_read(path, &len);
    if (k == NULL)
        return "shinny";
    while (len > 0 && (k[len - 1] == '\n' || k[len - 1] == '\r'))
        len--;
    const char *kind = arena_strndup(a, k, len);
    free(k);
    return kind;
}

/* The report of a set's upload against <set>.report.json; 0 when the same. */
static int check_csv_report(struct arena *a, const char *dir, const char *set,
                            const struct csv_report *rep)
{
    char path[1024];
    size_t len;
    struct slice rj;
    cr_assert_eq(csv_report_json(a, rep, &rj), HUB_OK);
    snprintf(path, sizeof(path), "%s/%s.report.json", dir, set);
    char *want = testfile_read(path, &len);
    cr_assert_not_null(want, "cannot read %s", path);
    cJSON *w = cJSON_Parse(want);
    cr_assert_not_null(w, "%s is not JSON", path);
    cJSON *got = cJSON_ParseWithLength(rj.p, rj.len);
    int fail = !cJSON_Compare(w, got, 1);
    if (fail) {
        char *g = cJSON_Print(got);
        cr_log_error("%s: report differs from %s; got:\n%s", set, path, g);
        free(g);
    }
    cJSON_Delete(w);
    cJSON_Delete(got);
    free(want);
    return fail;
}

/* One upload set: every *.csv of `set`, sorted by name. */
static int check_csv_set(const char *dir, const char *set)
{
    char path[1024];
    struct csv_file f[CSV_MAX_FILES];
    size_t n = 0, len;
    int fail = 0;
    struct arena a;
    arena_init(&a, 64 * 1024);

    snprintf(path, sizeof(path), "%s/%s", dir, set);
    DIR *d = opendir(path);
    cr_assert_not_null(d, "cannot open %s", path);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!ends_with(e->d_name, ".csv"))
            continue;
        cr_assert_lt(n, (size_t)CSV_MAX_FILES, "%s: too many files", set);
        int k = snprintf(path, sizeof(path), "%s/%s/%s", dir, set, e->d_name);
        cr_assert(k > 0 && (size_t)k < sizeof(path), "path too long: %s", set);
        f[n].name = arena_strndup(&a, e->d_name, strlen(e->d_name));
        f[n].sha256 = NULL;
        f[n].p = testfile_read(path, &f[n].len);
        cr_assert_not_null(f[n].p, "cannot read %s", path);
        n++;
    }
    closedir(d);
    for (size_t i = 1; i < n; i++)     /* by name, as an upload lists them */
        for (size_t j = i; j > 0 && strcmp(f[j - 1].name, f[j].name) > 0;
             j--) {
            struct csv_file t = f[j];
            f[j] = f[j - 1];
            f[j - 1] = t;
        }

    struct canon_list out = { 0 };
    struct csv_report rep;
    struct hub_err err = { 0 };
    memset(&rep, 0, sizeof(rep));
    int rc = csv_to_events(&a, D, csv_set_kind(&a, dir, set), f, n, &out,
                           &rep, &err);

    snprintf(path, sizeof(path), "%s/%s.err.json", dir, set);
    char *want = testfile_read(path, &len);
    if (want) {
        if (!refusal_is(set, path, want, rc, &err)) {
            fail = 1;
        } else if (out.n != 0) {
            cr_log_error("%s: %zu events left after a refusal", set, out.n);
            fail = 1;
        }
        free(want);
        snprintf(path, sizeof(path), "%s/%s.report.json", dir, set);
        if (access(path, R_OK) == 0)
            fail |= check_csv_report(&a, dir, set, &rep);
    } else if (rc != HUB_OK) {
        cr_log_error("%s: refused (%s at %s: %s)", set, hub_strerror(rc),
                     err.field, err.what ? err.what : "");
        fail = 1;
    } else {
        cJSON *got = cJSON_CreateArray();
        for (size_t k = 0; k < out.n; k++) {
            cr_assert(canon_topic_known(out.ev[k].type));
            cJSON_AddItemToArray(got, cJSON_ParseWithLength(
                                          out.ev[k].json.p,
                                          out.ev[k].json.len));
        }
        snprintf(path, sizeof(path), "%s/%s.events.json", dir, set);
        want = testfile_read(path, &len);
        cr_assert_not_null(want, "cannot read %s", path);
        cJSON *w = cJSON_Parse(want);
        cr_assert_not_null(w, "%s is not JSON", path);
        if (!cJSON_Compare(w, got, 1)) {
            char *g = cJSON_Print(got);
            cr_log_error("%s: events differ from %s; got:\n%s", set, path, g);
            free(g);
            fail = 1;
        }
        cJSON_Delete(w);
        cJSON_Delete(got);
        free(want);
        fail |= check_csv_report(&a, dir, set, &rep);
    }
    for (size_t i = 0; i < n; i++)
        free((char *)f[i].p);
    arena_release(&a);
    return fail;
}

Test(real_samples, every_csv_upload_set_gives_its_checked_outcome)
{
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/tests/data/real/csv", root());
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    struct dirent *e;
    size_t sets = 0, failures = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strchr(e->d_name, '.') != NULL)
            continue;           /* set directories have no dot */
        sets++;
        failures += (size_t)check_csv_set(dir, e->d_name);
    }
    closedir(d);
    cr_assert_geq(sets, 2, "only %zu CSV sets", sets);
    cr_assert_eq(failures, 0, "%zu of %zu CSV sets differ (see log)",
                 failures, sets);
}
