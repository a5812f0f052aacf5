/*
 * csv.c - csv_to_events: the kinds, the upload's idempotency key, and the
 * hub's own two layouts ("screenings", "referral-status"; columns in
 * adapters/csv/README.md). The SHIN-NY set is in csv_shinny.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv/csv_int.h"
#include "common/idsys.h"
#include "common/natid.h"
#include "common/ssn.h"
#include "common/utf8.h"

int csv_shinny_to_events(struct csv_ctx *c, struct hub_err *err);
const char *csv_shinny_message_id(struct csv_ctx *c);

/* ---- "screenings" ------------------------------------------------------ */

enum {
    S_SCREENING_ID, S_PATIENT_ID, S_PATIENT_ID_SYSTEM, S_PATIENT_ID_TYPE,
    S_FAMILY, S_GIVEN, S_BIRTH_DATE, S_SEX, S_ADDRESS, S_CITY, S_STATE,
    S_POSTAL, S_COUNTY, S_PHONE, S_FACILITY, S_INSTRUMENT, S_SCREENED_AT,
    S_QUESTION, S_ANSWER, S_VALUE, S_ABSENT, S_SENDER_POSITIVE, S_NCOLS
};

static const struct csv_col screening_cols[S_NCOLS] = {
    [S_SCREENING_ID] = { "screening_id", NULL, true },
    [S_PATIENT_ID] = { "patient_id", NULL, true },
    [S_PATIENT_ID_SYSTEM] = { "patient_id_system", NULL, false },
    [S_PATIENT_ID_TYPE] = { "patient_id_type", NULL, false },
    [S_FAMILY] = { "family_name", NULL, false },
    [S_GIVEN] = { "given_name", NULL, false },
    [S_BIRTH_DATE] = { "birth_date", NULL, false, true },
    [S_SEX] = { "sex", NULL, false },
    [S_ADDRESS] = { "address_line", NULL, false },
    [S_CITY] = { "city", NULL, false },
    [S_STATE] = { "state", NULL, false },
    [S_POSTAL] = { "postal_code", NULL, false },
    [S_COUNTY] = { "county", NULL, false },
    [S_PHONE] = { "phone", NULL, false },
    [S_FACILITY] = { "facility", NULL, false },
    [S_INSTRUMENT] = { "instrument", NULL, true },
    [S_SCREENED_AT] = { "screened_at", NULL, true, true },
    [S_QUESTION] = { "question", NULL, true },
    [S_ANSWER] = { "answer", NULL, false },
    [S_VALUE] = { "value", NULL, false },
    [S_ABSENT] = { "absent_reason", NULL, false },
    [S_SENDER_POSITIVE] = { "sender_positive", NULL, false },
};

static bool require(struct csv_ctx *c, struct csv_table *t, size_t ri,
                    int col)
{
    if (t->rows[ri].v[col].len)
        return true;
    csv_row_required(c, t, ri, col);
    return false;
}

/* A patient id in the us-ssn system must be an SSN the SSA issues
 * (common/ssn.h): a placeholder as the row's only identifier would link
 * every patient who carries it into one, so the row is refused; and so is
 * an id a spreadsheet rounded (csv_id_rounded), and one whose system is
 * in the hub's own space (idsys_is_hub). */
#define CSV_SYSTEM_IS_HUB "identifier system is in the hub's own space " \
                          "(urn:hub:); the row's only identifier is unusable"
static __attribute__((noinline)) bool
patient_id_check(struct csv_ctx *c, struct csv_table *t, size_t ri,
                 int col_id, int col_system)
{
    const struct slice *v = t->rows[ri].v;
    char d[9];
    if (csv_id_rounded(v[col_id])) {
        csv_row_error(c, t, ri, col_id, CSV_ID_ROUNDED);
        return false;
    }
    /* a system in the hub's own space names some organization's scope,
     * another's as easily as the sender's: the id is unusable, and it is
     * the row's only one, as a patient_id left empty (F2240) */
    if (idsys_is_hub(v[col_system])) {
        csv_row_error(c, t, ri, col_system, CSV_SYSTEM_IS_HUB);
        return false;
    }
    /* the us-ssn system by its URI, OID or the SSA's address (idsys.h) */
    const struct idsys_national *nat =
        v[col_system].len ? idsys_national(v[col_system]) : NULL;
    /* a national number that fails its check digit: kept, not linked on
     * (csv_write_patient marks it; F744) */
    const char *flaw = natid_flaw(v[col_system], SLICE_NULL, v[col_id]);
    if (flaw && v[col_id].len)
        csv_row_warn(c, t, ri, col_id, flaw);
    if (nat == NULL || strcmp(nat->uri, SSN_SYSTEM) != 0 ||
        v[col_id].len == 0 || ssn_usable(v[col_id].p, v[col_id].len, d))
        return true;
    csv_row_error(c, t, ri, col_id,
                  SSN_NOT_ISSUABLE);
    return false;
}

/* The test that settles nearly every row inline; the rest out of line
 * (its stack and calls made every row pay a prologue). */
static inline bool patient_id_ok(struct csv_ctx *c, struct csv_table *t,
                                 size_t ri, int col_id, int col_system)
{
    const struct slice *v = t->rows[ri].v;
    if (!csv_id_rounded(v[col_id]) && v[col_system].len == 0)
        return true;
    return patient_id_check(c, t, ri, col_id, col_system);
}

/* What csv_date_col says of a date-time (DT_BAD) and of a date
 * (DT_DATE_BAD) it cannot read. */
#define DT_BAD "date-time is not ISO 8601 (YYYY-MM-DDThh:mm:ss+hh:mm), " \
               "M/D/YYYY h:mm or an Excel date serial"
#define DT_DATE_BAD "date is not YYYY-MM-DD (or YYYY, YYYY-MM), M/D/YYYY " \
                    "or an Excel date serial"

/* The last screened_at seen: the rows of a screening repeat it, and a
 * value equal to it is not checked again (the check was a twentieth of
 * the adapter); `iso` is what it reads as (itself, or its rewriting). */
struct dt_seen {
    struct slice raw, iso;
};

/* A postal code of 3 or 4 digits is no US ZIP: a spreadsheet read 07102
 * as the number 7102 (F150). Kept as sent (four digits are a postal code
 * elsewhere; padding would guess), with a warning on its row. */
#define CSV_ZIP_SHORT "postal code has 3 or 4 digits: a spreadsheet " \
                      "dropped a ZIP's leading zeros? kept as sent " \
                      "(write =\"07102\" to keep them)"

static bool zip_lost_zeros(struct slice z)
{
    for (size_t i = 0; i < z.len; i++)
        if (z.p[i] < '0' || z.p[i] > '9')
            return false;
    return true;
}

/* The words exports write in an optional date that has no value (F149):
 * such a birth date is left out with a warning rather than rejecting the
 * row and the screening answers on it. Only in an optional coded column:
 * in text columns they stay as written ("Null" is a surname). */
static bool no_value_marker(struct slice s)
{
    static const char *const words[] = { "N/A", "NA", "NULL", "none",
                                         "unknown", "unk", "-", "--", "?" };
    if (s.len == 0 || s.len > 7)
        return false;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (slice_ieq(s, words[i]))
            return true;
    return false;
}

static bool screening_row_ok(struct csv_ctx *c, struct csv_table *t, size_t ri,
                             struct dt_seen *dt)
{
    struct slice *v = t->rows[ri].v;
    bool ok = require(c, t, ri, S_SCREENING_ID) &
              require(c, t, ri, S_PATIENT_ID) &
              require(c, t, ri, S_INSTRUMENT) &
              require(c, t, ri, S_SCREENED_AT) &
              require(c, t, ri, S_QUESTION) &
              patient_id_ok(c, t, ri, S_PATIENT_ID, S_PATIENT_ID_SYSTEM);
    struct slice at = v[S_SCREENED_AT];
    if (at.len && dt->raw.p && slice_eq_slice(at, dt->raw)) {
        v[S_SCREENED_AT] = dt->iso;
    } else if (at.len) {
        if (csv_date_col(c, t, ri, S_SCREENED_AT, false, DT_BAD)) {
            dt->raw = at;
            dt->iso = v[S_SCREENED_AT];
        } else {
            ok = false;
        }
    }
    if (no_value_marker(v[S_BIRTH_DATE])) {
        csv_row_warn(c, t, ri, S_BIRTH_DATE, "birth date says there is none "
                     "(N/A, unknown, ...); left out");
        v[S_BIRTH_DATE] = SLICE_NULL;
    } else if (!csv_date_col(c, t, ri, S_BIRTH_DATE, true, DT_DATE_BAD)) {
        ok = false;
    }
    if (v[S_VALUE].len && !csv_is_number(v[S_VALUE])) {
        csv_row_error(c, t, ri, S_VALUE, "value is not a number");
        ok = false;
    }
    if (v[S_SEX].len && csv_sex_code(v[S_SEX]) == NULL)
        csv_row_warn(c, t, ri, S_SEX, "sex is not male, female, other or "
                                      "unknown; left out");
    if ((v[S_POSTAL].len == 3 || v[S_POSTAL].len == 4) &&
        zip_lost_zeros(v[S_POSTAL]))
        csv_row_warn(c, t, ri, S_POSTAL, CSV_ZIP_SHORT);
    if (csv_id_rounded(v[S_PHONE])) {
        csv_row_warn(c, t, ri, S_PHONE, CSV_PHONE_ROUNDED);
        v[S_PHONE] = SLICE_NULL;
    }
    return ok;
}

static void simple_patient(struct csv_patient *p, const struct slice *v)
{
    memset(p, 0, sizeof(*p));
    p->ids[0] = (struct csv_ident){ .value = v[S_PATIENT_ID],
                                    .system_s = v[S_PATIENT_ID_SYSTEM] };
    if (v[S_PATIENT_ID_TYPE].len) {
        /* the type is a short code; keep it only if it looks like one */
        static const char *const types[] = { "MR", "MA", "MB", "PI", "PT",
                                             "SS", "DL", "AN", "PN", NULL };
        for (size_t i = 0; types[i]; i++)
            if (slice_ieq(v[S_PATIENT_ID_TYPE], types[i]))
                p->ids[0].type = types[i];
    }
    p->n_ids = 1;
    p->family = v[S_FAMILY];
    p->given = v[S_GIVEN];
    p->birth_date = v[S_BIRTH_DATE];
    p->sex = csv_sex_code(v[S_SEX]);
    p->line1 = v[S_ADDRESS];
    p->city = v[S_CITY];
    p->state = v[S_STATE];
    p->postal_code = v[S_POSTAL];
    p->county = v[S_COUNTY];
    p->phone = v[S_PHONE];
}

/*
 * The screenings of a file, in blocks of 2^sh, each made as its first row
 * is met and never moved: room for one a row (232 bytes a row, most never
 * used) was a sixth of an upload's memory, and a growing array's copies
 * cost instructions a byte.
 */
struct scr_blocks {
    struct csv_screening **b;
    unsigned sh;
};

static inline struct csv_screening *scr_at(const struct scr_blocks *g,
                                           size_t gi)
{
    return &g->b[gi >> g->sh][gi & (((size_t)1 << g->sh) - 1)];
}

static int simple_screenings(struct csv_ctx *c, struct hub_err *err)
{
    struct csv_table t;
    struct csv_map m;
    int rc;

    if ((rc = csv_table_load(c, 0, screening_cols, S_NCOLS, NULL, &t, err)))
        return rc;
    c->col_instrument = S_INSTRUMENT;
    c->col_question = S_QUESTION;
    /* a key a screening: at most one a run of rows with the same id (one
     * a row was 24 bytes a row twice over) */
    size_t runs = t.n ? 1 : 0;
    for (size_t ri = 1; ri < t.n; ri++)
        runs += !slice_eq_slice(t.rows[ri].v[S_SCREENING_ID],
                                t.rows[ri - 1].v[S_SCREENING_ID]);
    csv_map_init(c->a, &m, runs);
    /* blocks of 1,024 screenings, or one that fits a small file */
    struct scr_blocks g = { NULL, 0 };
    while (g.sh < 10 && ((size_t)1 << g.sh) < t.n)
        g.sh++;
    g.b = arena_alloc(c->a, ((t.n >> g.sh) + 1) * sizeof(*g.b));
    /* each row's screening, or UINT32_MAX: a row's rows go into one array
     * sized from the counts (a screening's own, doubled from 16, was
     * 112 bytes a row 16 times over for most screenings: 40% of the
     * memory) */
    uint32_t *grp = arena_alloc(c->a, (t.n ? t.n : 1) * sizeof(*grp));
    size_t ng = 0, nrows = 0;
    struct dt_seen dt = { SLICE_NULL, SLICE_NULL };
    size_t last = SIZE_MAX;         /* the screening of the row before */

    for (size_t ri = 0; ri < t.n; ri++) {
        const struct slice *v = t.rows[ri].v;
        grp[ri] = UINT32_MAX;
        if (!screening_row_ok(c, &t, ri, &dt))
            continue;
        /* the rows of a screening mostly come together: the one before's
         * id (the key it was stored under) is compared before the map is
         * hashed */
        size_t gi = last < ng &&
                            slice_eq_slice(scr_at(&g, last)->id,
                                           v[S_SCREENING_ID])
                        ? last
                        : csv_map_get_or_put(&m, v[S_SCREENING_ID], ng);
        last = gi;
        if (gi == ng && (ng & (((size_t)1 << g.sh) - 1)) == 0)
            g.b[ng >> g.sh] = arena_alloc(
                c->a, ((size_t)1 << g.sh) * sizeof(struct csv_screening));
        struct csv_screening *s = scr_at(&g, gi);
        if (gi == ng) {
            ng++;
            *s = (struct csv_screening){ 0 };
            s->id = v[S_SCREENING_ID];
            s->instrument = v[S_INSTRUMENT];
            s->occurred_at = v[S_SCREENED_AT];
            s->facility = v[S_FACILITY];
            s->file_name = c->files[0].name ? c->files[0].name : "upload.csv";
            s->first_row = t.rows[ri].row;
            s->first_ri = ri;
        } else {
            if (!slice_eq_slice(t.rows[s->first_ri].v[S_PATIENT_ID],
                                v[S_PATIENT_ID])) {
                csv_row_error(c, &t, ri, S_PATIENT_ID,
                              "patient_id differs from the screening's "
                              "first row");
                continue;
            }
            if (!slice_eq_slice(s->instrument, v[S_INSTRUMENT])) {
                csv_row_error(c, &t, ri, S_INSTRUMENT,
                              "instrument differs from the screening's "
                              "first row");
                continue;
            }
        }
        /* counted in cap; the rows are stored below */
        if (s->cap >= CSV_MAX_SCREENING_ROWS) {
            csv_row_error(c, &t, ri, S_SCREENING_ID,
                          "screening has more rows than the limit");
            continue;
        }
        s->cap++;
        nrows++;
        grp[ri] = (uint32_t)gi;
    }
    struct csv_scr_row *all =
        arena_alloc(c->a, (nrows ? nrows : 1) * sizeof(*all));
    for (size_t gi = 0; gi < ng; gi++) {
        struct csv_screening *s = scr_at(&g, gi);
        s->rows = all;
        all += s->cap;
    }
    for (size_t ri = 0; ri < t.n; ri++) {
        if (grp[ri] == UINT32_MAX)
            continue;
        const struct slice *v = t.rows[ri].v;
        struct csv_scr_row r = {
            .t = &t, .ri = ri, .col_answer = S_ANSWER,
            .col_flag = S_SENDER_POSITIVE, .col_number = S_VALUE,
            .col_absent = S_ABSENT,
            .question = v[S_QUESTION],
            .answer = v[S_ANSWER], .number = v[S_VALUE],
            .absent = v[S_ABSENT], .flag = v[S_SENDER_POSITIVE],
        };
        (void)csv_screening_add(c->a, scr_at(&g, grp[ri]), &r);
    }
    for (size_t gi = 0; gi < ng; gi++) {
        /* the patient is its first row's, made when it is written (one
         * kept for each screening was 400 bytes a screening) */
        struct csv_patient p;
        struct csv_screening *s = scr_at(&g, gi);
        simple_patient(&p, t.rows[s->first_ri].v);
        s->patient = &p;
        rc = csv_screening_emit(c, s, err);
        s->patient = NULL;
        if (rc)
            return rc;
    }
    csv_table_account(c, &t);
    return HUB_OK;
}

/* ---- "referral-status" ------------------------------------------------- */

enum {
    R_REFERRAL_ID, R_STATUS, R_UPDATED_AT, R_PATIENT_ID, R_PATIENT_ID_SYSTEM,
    R_PATIENT_ID_TYPE, R_DOMAIN, R_SERVICE_CODE, R_SERVICE_SYSTEM,
    R_SERVICE_DISPLAY, R_REQUESTER, R_PERFORMER, R_TASK_ID,
    R_SERVICE_REQUEST_ID, R_REASON, R_FACILITY, R_IDENT, R_IDENT_SYSTEM,
    R_IDENT_TYPE, R_NCOLS
};

static const struct csv_col referral_cols[R_NCOLS] = {
    [R_REFERRAL_ID] = { "referral_id", NULL, true },
    [R_STATUS] = { "status", NULL, true },
    [R_UPDATED_AT] = { "updated_at", NULL, true, true },
    [R_PATIENT_ID] = { "patient_id", NULL, true },
    [R_PATIENT_ID_SYSTEM] = { "patient_id_system", NULL, false },
    [R_PATIENT_ID_TYPE] = { "patient_id_type", NULL, false },
    [R_DOMAIN] = { "domain", NULL, false },
    [R_SERVICE_CODE] = { "service_code", NULL, false },
    [R_SERVICE_SYSTEM] = { "service_system", NULL, false },
    [R_SERVICE_DISPLAY] = { "service_display", NULL, false },
    [R_REQUESTER] = { "requester", NULL, false },
    [R_PERFORMER] = { "performer", NULL, false },
    [R_TASK_ID] = { "task_id", NULL, false },
    [R_SERVICE_REQUEST_ID] = { "service_request_id", NULL, false },
    [R_REASON] = { "status_reason", NULL, false },
    [R_FACILITY] = { "facility", NULL, false },
    [R_IDENT] = { "referral_identifier", NULL, false },
    [R_IDENT_SYSTEM] = { "referral_identifier_system", NULL, false },
    [R_IDENT_TYPE] = { "referral_identifier_type", NULL, false },
};

/*
 * The Task status as exports write it: "Completed", "In Progress",
 * "on_hold" to the FHIR code, or a referral tool's own word ("Declined",
 * "Pending", the IG prose's "canceled") by the dictionary's aliases, with
 * *alias set. Nothing else is guessed: the dictionary decides what is a
 * status.
 */
static const struct dict_task_status *task_status(const struct dict *d,
                                                  struct slice v, bool *alias)
{
    char tmp[32];
    *alias = false;
    if (v.len == 0 || v.len >= sizeof(tmp))
        return NULL;
    for (size_t i = 0; i < v.len; i++) {
        char ch = v.p[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch + 32);
        else if (ch == ' ' || ch == '_')
            ch = '-';
        tmp[i] = ch;
    }
    struct slice n = { tmp, v.len };
    const struct dict_task_status *st = dict_task_status_find(d, n);
    if (st == NULL && (st = dict_task_status_alias(d, n)) != NULL)
        *alias = true;
    return st;
}

/* The Gravity domain as exports write it ("Food-Insecurity", "FOOD
 * INSECURITY", "food_insecurity") to its code, or a word domains.json
 * reads as one ("Food", "utilities": F2423) with *alias set; a word it
 * calls ambiguous ("housing") sets *ambiguous. The dictionary decides. */
static const struct dict_domain *referral_domain(
    const struct dict *d, struct slice v, bool *alias,
    const struct dict_domain_word **ambiguous)
{
    char tmp[64];
    *alias = false;
    *ambiguous = NULL;
    v = slice_trim(v);
    const struct dict_domain *dom = dict_domain_find(d, v);
    if (dom || v.len == 0 || v.len >= sizeof(tmp))
        return dom;
    for (size_t i = 0; i < v.len; i++) {
        char ch = v.p[i];
        tmp[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32)
                 : ch == ' ' || ch == '_' ? '-'
                                          : ch;
    }
    struct slice n = { tmp, v.len };
    if ((dom = dict_domain_find(d, n)) != NULL)
        return dom;
    if ((dom = dict_domain_alias(d, n)) != NULL)
        *alias = true;
    else
        *ambiguous = dict_domain_ambiguous(d, n);
    return dom;
}

static int referral_row(struct csv_ctx *c, struct csv_table *t, size_t ri,
                        struct hub_err *err)
{
    const struct slice *v = t->rows[ri].v;
    const struct dict_task_status *st = NULL;
    const struct dict_domain *dom = NULL;
    bool alias = false, dom_alias = false;
    bool ok = require(c, t, ri, R_REFERRAL_ID) &
              require(c, t, ri, R_STATUS) &
              require(c, t, ri, R_UPDATED_AT) &
              require(c, t, ri, R_PATIENT_ID) &
              patient_id_ok(c, t, ri, R_PATIENT_ID, R_PATIENT_ID_SYSTEM);
    if (v[R_STATUS].len) {
        st = task_status(c->d, v[R_STATUS], &alias);
        if (st == NULL) {
            csv_row_error(c, t, ri, R_STATUS,
                          "status is not a FHIR Task status nor an alias "
                          "of one in task-status.json");
            ok = false;
        }
    }
    if (!csv_date_col(c, t, ri, R_UPDATED_AT, false, DT_BAD))
        ok = false;
    if (v[R_DOMAIN].len) {
        const struct dict_domain_word *amb;
        dom = referral_domain(c->d, v[R_DOMAIN], &dom_alias, &amb);
        if (dom == NULL) {
            csv_row_error(c, t, ri, R_DOMAIN,
                          amb ? amb->why
                              : "domain is not a Gravity SDOH category code");
            ok = false;
        }
    }
    if (!ok)
        return HUB_OK;
    if (dom_alias)
        csv_row_warn(c, t, ri, R_DOMAIN,
                     "domain is a word read as the Gravity SDOH category "
                     "code it names (domains.json aliases)");

    struct csv_patient p;
    memset(&p, 0, sizeof(p));
    p.ids[0] = (struct csv_ident){ .value = v[R_PATIENT_ID],
                                   .system_s = v[R_PATIENT_ID_SYSTEM] };
    static const char *const types[] = { "MR", "MA", "MB", "PI", "PT",
                                         "SS", "DL", "AN", "PN", NULL };
    for (size_t i = 0; v[R_PATIENT_ID_TYPE].len && types[i]; i++)
        if (slice_ieq(v[R_PATIENT_ID_TYPE], types[i]))
            p.ids[0].type = types[i];
    p.n_ids = 1;
    /* the referral's own number (F700): the placer's (the referrer's,
     * PLAC) or the filler's (the organization's that serves it, FILL), as
     * BSeR types them; another type is left out with a warning */
    const char *ident_type = NULL;
    if (v[R_IDENT].len && v[R_IDENT_TYPE].len) {
        if (slice_ieq(v[R_IDENT_TYPE], "PLAC"))
            ident_type = "PLAC";
        else if (slice_ieq(v[R_IDENT_TYPE], "FILL"))
            ident_type = "FILL";
        else
            csv_row_warn(c, t, ri, R_IDENT_TYPE,
                         "referral_identifier_type is not PLAC or FILL "
                         "(HL7 table 0203): left out");
    }

    struct jw w;
    jw_init(&w, c->a, CSV_MAX_EVENT_BYTES);
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "type", "referral.updated");
    jw_key_chunk(&w, JW_KEY("source"));
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "format", "csv");
    jw_kv_cstr(&w, "message_id",
               csv_message_id(c->a, c->files[0].name ? c->files[0].name
                                                     : "upload.csv",
                              t->rows[ri].row));
    jw_kv_str(&w, "sending_facility", v[R_FACILITY]);
    jw_obj_end(&w);
    jw_kv_str(&w, "occurred_at", v[R_UPDATED_AT]);
    csv_write_patient(&w, &p);
    jw_key_chunk(&w, JW_KEY("referral"));
    jw_obj_begin(&w);
    jw_kv_str(&w, "id", v[R_REFERRAL_ID]);
    jw_kv_cstr(&w, "status", st->code);
    jw_key_chunk(&w, JW_KEY("terminal"));
    jw_bool(&w, st->terminal);
    jw_kv_str(&w, "status_reason", v[R_REASON]);
    /* the tool's own word, as Task.businessStatus carries a workflow's
     * nuance of the status: "Declined" is told from a FHIR "rejected" */
    if (alias)
        jw_kv_str(&w, "business_status", slice_trim(v[R_STATUS]));
    if (dom)
        jw_kv_cstr(&w, "domain", dom->code);
    if (v[R_SERVICE_CODE].len || v[R_SERVICE_DISPLAY].len) {
        jw_key_chunk(&w, JW_KEY("service"));
        jw_obj_begin(&w);
        jw_kv_str(&w, "code", v[R_SERVICE_CODE]);
        jw_kv_str(&w, "system", v[R_SERVICE_SYSTEM]);
        jw_kv_str(&w, "display", v[R_SERVICE_DISPLAY]);
        jw_obj_end(&w);
    }
    jw_kv_str(&w, "requester", v[R_REQUESTER]);
    jw_kv_str(&w, "performer", v[R_PERFORMER]);
    jw_kv_str(&w, "service_request", v[R_SERVICE_REQUEST_ID]);
    jw_kv_str(&w, "task", v[R_TASK_ID]);
    if (v[R_IDENT].len) {
        jw_key_chunk(&w, JW_KEY("identifiers"));
        jw_arr_begin(&w);
        jw_obj_begin(&w);
        jw_kv_str(&w, "value", v[R_IDENT]);
        jw_kv_str(&w, "system", v[R_IDENT_SYSTEM]);
        jw_kv_cstr(&w, "type", ident_type);
        jw_obj_end(&w);
        jw_arr_end(&w);
    }
    jw_obj_end(&w);
    jw_obj_end(&w);
    t->rows[ri].used = true;
    c->ev_file = t->file;
    c->ev_row = t->rows[ri].row;
    c->ev_offset = t->rows[ri].offset;
    return csv_push_event(c, &w, "referral.updated", err);
}

static int simple_referrals(struct csv_ctx *c, struct hub_err *err)
{
    struct csv_table t;
    int rc;

    if ((rc = csv_table_load(c, 0, referral_cols, R_NCOLS, NULL, &t, err)))
        return rc;
    for (size_t ri = 0; ri < t.n; ri++)
        if ((rc = referral_row(c, &t, ri, err)))
            return rc;
    csv_table_account(c, &t);
    return HUB_OK;
}

/* ---- the entry point --------------------------------------------------- */

static const char *single_message_id(struct arena *a, const struct csv_file *f)
{
    const char *name = f->name ? f->name : "upload.csv";
    if (f->sha256 == NULL)
        return name;
    size_t n = strlen(name) + strlen(f->sha256) + 2;
    char *s = arena_alloc(a, n);
    snprintf(s, n, "%s:%s", name, f->sha256);
    return s;
}

/*
 * Sort n elements of `size` bytes stably by `before`, merging the runs that
 * are already in order. The lists sorted here are a few such runs (what the
 * reader found, then what the layout found, each down the file), so this
 * takes a pass or two where a merge sort from single elements took a dozen.
 * Returns the sorted array: `base`, or a copy in the arena.
 */
typedef bool (*before_fn)(const void *x, const void *y);

static size_t run_end(const char *v, size_t i, size_t n, size_t size,
                      before_fn before)
{
    for (i++; i < n && !before(v + i * size, v + (i - 1) * size); i++)
        ;
    return i;
}

static void *sort_runs(struct arena *a, void *base, size_t n, size_t size,
                       before_fn before)
{
    char *src = base, *dst = NULL;

    if (n < 2)
        return base;
    for (;;) {
        size_t lo = 0;
        while (lo < n) {
            size_t mid = run_end(src, lo, n, size, before);
            if (lo == 0 && mid == n)
                return src;
            size_t hi = mid < n ? run_end(src, mid, n, size, before) : n;
            if (dst == NULL)
                dst = arena_alloc(a, n * size);
            /* stable: on a tie the left run's element goes first */
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                bool right = before(src + j * size, src + i * size);
                memcpy(dst + k++ * size, src + (right ? j++ : i++) * size,
                       size);
            }
            memcpy(dst + k * size, src + i * size, (mid - i) * size);
            k += mid - i;
            memcpy(dst + k * size, src + j * size, (hi - j) * size);
            lo = hi;
        }
        char *t = src;
        src = dst;
        dst = t;
    }
}

/* Findings in file, row, column order, so that a sender reads them down
 * the file (equal places keep the order found); the list is capped at
 * CSV_MAX_FINDINGS. */
static bool finding_before(const void *a, const void *b)
{
    const struct csv_finding *x = a, *y = b;
    if (x->file != y->file)
        return x->file < y->file;
    if (x->row != y->row)
        return x->row < y->row;
    return x->col < y->col;
}

/* Rejected rows in file and row order (each file and row is there once). */
static bool rejected_before(const void *a, const void *b)
{
    const struct csv_rejected *x = a, *y = b;
    if (x->file != y->file)
        return x->file < y->file;
    return x->row < y->row;
}

static int layout(struct csv_ctx *c, const char *kind, struct hub_err *err);

int csv_to_events(struct arena *a, const struct dict *d, const char *kind,
                  const struct csv_file *files, size_t n,
                  struct canon_list *out, struct csv_report *report,
                  struct hub_err *err)
{
    return csv_to_events_at(a, d, kind, files, n, NULL, out, report, err);
}

int csv_to_events_at(struct arena *a, const struct dict *d, const char *kind,
                     const struct csv_file *files, size_t n,
                     const char *received_at, struct canon_list *out,
                     struct csv_report *report, struct hub_err *err)
{
    struct csv_ctx c = { a, d, files, n, out, report, { 0 }, { 0 }, 0, 0, 0,
                         csv_serial_of(received_at), -1, -1 };

    memset(report, 0, sizeof(*report));
    report->kind = kind;
    report->files = files;
    report->n_files = n;
    if (kind == NULL || d == NULL)
        return hub_err_set(err, HUB_EINVALID, "kind", 0,
                           "kind and dictionary are required");
    if (n == 0)
        return hub_err_set(err, HUB_EINVALID, "files", 0, "no file given");
    if (n > CSV_MAX_FILES)
        return hub_err_set(err, HUB_ELIMIT, "files", 0,
                           "more files than the limit");
    for (size_t i = 0; i < n; i++)
        if (files[i].len > CSV_MAX_BYTES)
            return hub_err_set(err, HUB_ELIMIT, "files", 0,
                               "file is larger than the limit");

    /* Text that is not UTF-8 (csv_text.c: Windows-1252, UTF-8 mixed with
     * it, UTF-16, Mac OS Roman) is read from its UTF-8 translation (names keep their
     * accents instead of becoming U+FFFD), and the report says so. Its
     * rejected rows are given back as the bytes that were sent (below). */
    struct csv_file *tf = NULL;
    for (size_t i = 0; i < n; i++) {
        static const char *const said[] = {
            [CSV_ENC_CP1252] = "file is not UTF-8: read as Windows-1252",
            [CSV_ENC_MIXED] = "file is UTF-8 with some bytes that are not: "
                              "those read as Windows-1252",
            [CSV_ENC_UTF16LE] = "file is UTF-16 (Excel's Unicode text), not "
                                "UTF-8: read as such",
            [CSV_ENC_UTF16BE] = "file is UTF-16 (Excel's Unicode text), not "
                                "UTF-8: read as such",
            [CSV_ENC_MACROMAN] = "file is not UTF-8 and its lines end in CR "
                                 "alone, as Excel for Mac saves CSV: read as "
                                 "Mac OS Roman",
        };
        const char *u;
        size_t ulen;
        enum csv_enc e = csv_encoding(files[i].p, files[i].len);
        c.high[i] = e != CSV_ENC_ASCII;
        if (!csv_to_utf8(a, e, files[i].p, files[i].len, &u, &ulen))
            continue;
        if (tf == NULL) {
            tf = arena_alloc(a, n * sizeof(*tf));
            memcpy(tf, files, n * sizeof(*tf));
            c.files = tf;
        }
        tf[i].p = u;
        tf[i].len = ulen;
        csv_finding(&c, (unsigned)i, 0, 0, NULL, CSV_SEV_WARNING, said[e]);
    }

    /* the delimiter, from the header as read (after any translation) */
    for (size_t i = 0; i < n; i++) {
        static const char *const said[] = {
            "file is delimited by semicolons, not commas: read as such",
            "file is delimited by tabs, not commas: read as such",
            "file is delimited by '|', not commas: read as such",
        };
        c.delim[i] = csv_delimiter(c.files[i].p, c.files[i].len);
        int k = c.delim[i] == ';' ? 0 : c.delim[i] == '\t' ? 1
                : c.delim[i] == '|' ? 2 : -1;
        if (k >= 0)
            csv_finding(&c, (unsigned)i, 0, 0, NULL, CSV_SEV_WARNING,
                        said[k]);
    }

    size_t n0 = out->n;
    int rc = layout(&c, kind, err);
    if (rc != HUB_OK)
        out->n = n0;            /* all or nothing: no partial upload */
    struct csv_finding *f = sort_runs(a, report->f, report->n,
                                      sizeof(*f), finding_before);
    if (f != report->f) {
        report->f = f;
        report->cap = report->n;
    }
    /* rows refused by the reader come first, by the layout later */
    struct csv_rejected *rj = sort_runs(a, report->rejected,
                                        report->n_rejected, sizeof(*rj),
                                        rejected_before);
    if (rj != report->rejected) {
        report->rejected = rj;
        report->rejected_cap = report->n_rejected;
    }
    if (tf)
        csv_untranslate_rejected(report, files, tf, n);
    return rc;
}

static int layout(struct csv_ctx *c, const char *kind, struct hub_err *err)
{
    struct csv_report *report = c->rep;
    const struct csv_file *files = c->files;
    size_t n = c->n_files;

    if (strcmp(kind, "shinny") == 0) {
        report->message_id = csv_shinny_message_id(c);
        return csv_shinny_to_events(c, err);
    }
    bool scr = strcmp(kind, "screenings") == 0;
    bool ref = strcmp(kind, "referral-status") == 0;
    if (!scr && !ref)
        return hub_err_set(err, HUB_EUNSUPPORTED, "kind", 0,
                           "kind is not screenings, referral-status or "
                           "shinny");
    if (n != 1)
        return hub_err_set(err, HUB_EINVALID, "files", 0,
                           "this kind takes exactly one file");
    report->message_id = single_message_id(c->a, &files[0]);
    return scr ? simple_screenings(c, err) : simple_referrals(c, err);
}
