/*
 * csv_shinny.c - the SHIN-NY 1115 flat-file set (shared/reference/
 * shinny-flat-file.md): SDOH_QEadmin, SDOH_ScreeningProf, SDOH_ScreeningObs
 * and SDOH_PtInfo, joined by their keys.
 *
 *   ScreeningObs  one row per question answered; the rows of one patient,
 *                 encounter and panel (SCREENING_CODE) make one screening.
 *                 SCREENING_IDENTIFIER is not the key: some senders give
 *                 every row its own.
 *   ScreeningProf one row per (patient, encounter): screening status,
 *                 encounter type and consent are checked, not carried.
 *   PtInfo        one row per patient: the event's patient block.
 *   QEadmin       one row per patient: the organization; checked.
 *
 * Only ScreeningObs is required. A file that is sent is enforced as a
 * foreign key (an Obs row whose encounter is not in ScreeningProf is
 * rejected); a file that is not sent is reported once and not enforced,
 * because real sets arrive incomplete.
 *
 * A PtInfo row with an error (invalid birth date, Medicaid id not of the
 * NY CIN shape) is rejected as the spec says; the patient's screenings are
 * still events, identified by the MRN alone, with a warning, because the
 * screening facts themselves are sound. The domain always comes from the
 * question code through the dictionary; the sender's
 * OBSERVATION_CATEGORY_SDOH_CODE is not used.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "csv/csv_int.h"
#include "common/langtag.h"
#include "common/ssn.h"

enum { F_QE, F_PROF, F_OBS, F_PT, F_N };

static const char *const prefixes[F_N] = {
    "SDOH_QEadmin", "SDOH_ScreeningProf", "SDOH_ScreeningObs", "SDOH_PtInfo",
};

/* Winter'24 and Summer'24 names: recognised only to be refused clearly. */
static const char *const old_prefixes[] = {
    "QE_ADMIN_DATA", "SCREENING_PROFILE_DATA", "SCREENING_OBSERVATION_DATA",
    "DEMOGRAPHIC_DATA", "SCREENING_CONSENT_DATA", "SCREENING_ENCOUNTER_DATA",
    "SCREENING_LOCATION_DATA", "SCREENING_RESOURCES_DATA", NULL,
};

/* ---- columns ----------------------------------------------------------- */

enum { QE_MRN, QE_FACILITY_ID, QE_ORG_CODE, QE_ORG_DISPLAY, QE_ZIP, QE_N };
static const struct csv_col qe_cols[QE_N] = {
    [QE_MRN] = { "PATIENT_MR_ID_VALUE", "PARENT_MR_ID", true },
    [QE_FACILITY_ID] = { "FACILITY_ID", NULL, false },
    [QE_ORG_CODE] = { "ORGANIZATION_TYPE_CODE", NULL, false },
    [QE_ORG_DISPLAY] = { "ORGANIZATION_TYPE_DISPLAY", NULL, false },
    [QE_ZIP] = { "FACILITY_ZIP", NULL, false },
};

enum {
    PR_MRN, PR_ENC, PR_ENC_TYPE, PR_START, PR_CONSENT, PR_STATUS, PR_LANG,
    PR_N
};
static const struct csv_col prof_cols[PR_N] = {
    [PR_MRN] = { "PATIENT_MR_ID_VALUE", NULL, true },
    [PR_ENC] = { "ENCOUNTER_ID", NULL, true },
    [PR_ENC_TYPE] = { "ENCOUNTER_TYPE_CODE", NULL, false },
    [PR_START] = { "ENCOUNTER_START_DATETIME", NULL, false, true },
    [PR_CONSENT] = { "CONSENT_STATUS", NULL, false },
    [PR_STATUS] = { "SCREENING_STATUS_CODE", NULL, false },
    [PR_LANG] = { "SCREENING_LANGUAGE_CODE", NULL, false },
};

enum {
    OB_MRN, OB_FACILITY_ID, OB_ENC, OB_SCREENING_CODE, OB_SCREENING_DESC,
    OB_QUESTION, OB_ANSWER, OB_ANSWER_DESC, OB_ABSENT, OB_FLAG, OB_START,
    OB_SCREENING_ID, OB_N
};
static const struct csv_col obs_cols[OB_N] = {
    [OB_MRN] = { "PATIENT_MR_ID_VALUE", NULL, true },
    [OB_FACILITY_ID] = { "FACILITY_ID", NULL, false },
    [OB_ENC] = { "ENCOUNTER_ID", NULL, true },
    [OB_SCREENING_CODE] = { "SCREENING_CODE", NULL, true },
    [OB_SCREENING_DESC] = { "SCREENING_CODE_DESCRIPTION", NULL, false },
    [OB_QUESTION] = { "QUESTION_CODE", NULL, true },
    [OB_ANSWER] = { "ANSWER_CODE", NULL, true },
    [OB_ANSWER_DESC] = { "ANSWER_CODE_DESCRIPTION", NULL, false },
    [OB_ABSENT] = { "DATA_ABSENT_REASON_CODE", NULL, false },
    [OB_FLAG] = { "POTENTIAL_NEED_INDICATED", NULL, false },
    [OB_START] = { "SCREENING_START_DATETIME", NULL, false, true },
    [OB_SCREENING_ID] = { "SCREENING_IDENTIFIER", NULL, false },
};

enum {
    PT_MRN, PT_MEDICAID, PT_SSN, PT_FAMILY, PT_GIVEN, PT_MIDDLE, PT_SEX,
    PT_BIRTH, PT_ADDR1, PT_ADDR2, PT_CITY, PT_STATE, PT_ZIP, PT_COUNTY,
    PT_PHONE, PT_PHONE_USE, PT_GENDER_ID, PT_ORIENTATION, PT_N
};
static const struct csv_col pt_cols[PT_N] = {
    [PT_MRN] = { "PATIENT_MR_ID_VALUE", NULL, true },
    [PT_MEDICAID] = { "PATIENT_MEDICAID_ID", NULL, false },
    [PT_SSN] = { "PATIENT_SS_ID_VALUE", NULL, false },
    [PT_FAMILY] = { "FAMILY_NAME", NULL, false },
    [PT_GIVEN] = { "GIVEN_NAME", NULL, false },
    [PT_MIDDLE] = { "MIDDLE_NAME", NULL, false },
    [PT_SEX] = { "ADMINISTRATIVE_SEX_CODE", NULL, false },
    [PT_BIRTH] = { "PATIENT_BIRTH_DATE", NULL, false, true },
    [PT_ADDR1] = { "ADDRESS1", NULL, false },
    [PT_ADDR2] = { "ADDRESS2", NULL, false },
    [PT_CITY] = { "CITY", NULL, false },
    [PT_STATE] = { "STATE", NULL, false },
    [PT_ZIP] = { "ZIP", NULL, false },
    [PT_COUNTY] = { "COUNTY", NULL, false },
    [PT_PHONE] = { "TELECOM_VALUE", NULL, false },
    [PT_PHONE_USE] = { "TELECOM_USE", "TELCOM_USE", false },
    [PT_GENDER_ID] = { "GENDER_IDENTITY_CODE", NULL, false },
    [PT_ORIENTATION] = { "SEXUAL_ORIENTATION_CODE", NULL, false },
};

/* The columns of each file that the set does not read: named in the spec
 * (shared/reference/shinny-flat-file.md section 3), or left there by
 * older versions, so not warned of as unknown. */
static const char *const qe_also[] = {
    "FACILITY_NAME", "ORGANIZATION_TYPE_CODE_SYSTEM", "ENCOUNTER_LOCATION",
    "FACILITY_ADDRESS1", "FACILITY_ADDRESS2", "FACILITY_CITY",
    "FACILITY_STATE", "FACILITY_COUNTY", "FACILITY_LAST_UPDATED", NULL,
};
static const char *const prof_also[] = {
    "FACILITY_ID", "FACILITY_NAME", "ENCOUNTER_ID_SYSTEM",
    "SCREENING_IDENTIFIER", "ENCOUNTER_CLASS_CODE",
    "ENCOUNTER_CLASS_CODE_DESCRIPTION", "ENCOUNTER_CLASS_CODE_SYSTEM",
    "ENCOUNTER_STATUS_CODE", "ENCOUNTER_STATUS_CODE_DESCRIPTION",
    "ENCOUNTER_STATUS_CODE_SYSTEM", "ENCOUNTER_TYPE_CODE_DESCRIPTION",
    "ENCOUNTER_TYPE_CODE_SYSTEM", "ENCOUNTER_END_DATETIME",
    "ENCOUNTER_LOCATION", "PROCEDURE_STATUS_CODE", "PROCEDURE_CODE",
    "PROCEDURE_CODE_DESCRIPTION", "PROCEDURE_CODE_SYSTEM",
    "PROCEDURE_CODE_MODIFIER", "CONSENT_DATE_TIME", "SCREENING_LAST_UPDATED",
    "SCREENING_STATUS_CODE_DESCRIPTION", "SCREENING_STATUS_CODE_SYSTEM",
    "SCREENING_LANGUAGE_DESCRIPTION",
    "SCREENING_LANGUAGE_CODE_SYSTEM", "SCREENING_ENTITY_ID",
    "SCREENING_ENTITY_ID_CODE_SYSTEM", NULL,
};
static const char *const obs_also[] = {
    "FACILITY_NAME", "ENCOUNTER_ID_SYSTEM", "SCREENING_CODE_SYSTEM",
    "QUESTION_CODE_DESCRIPTION", "QUESTION_CODE_SYSTEM", "ANSWER_CODE_SYSTEM",
    "OBSERVATION_CATEGORY_SDOH_CODE", "OBSERVATION_CATEGORY_SDOH_TEXT",
    "DATA_ABSENT_REASON_DISPLAY", "SCREENING_END_DATETIME", NULL,
};
static const char *const pt_also[] = {
    "FACILITY_NAME", "ADMINISTRATIVE_SEX_CODE_DESCRIPTION",
    "ADMINISTRATIVE_SEX_CODE_SYSTEM", "SEX_AT_BIRTH_CODE",
    "SEX_AT_BIRTH_CODE_DESCRIPTION", "SEX_AT_BIRTH_CODE_SYSTEM", "RACE_CODE",
    "RACE_CODE_DESCRIPTION", "RACE_CODE_SYSTEM", "ETHNICITY_CODE",
    "ETHNICITY_CODE_DESCRIPTION", "ETHNICITY_CODE_SYSTEM",
    "PERSONAL_PRONOUNS_CODE", "PERSONAL_PRONOUNS_DESCRIPTION",
    "PERSONAL_PRONOUNS_CODE_DESCRIPTION", "PERSONAL_PRONOUNS_SYSTEM",
    "PERSONAL_PRONOUNS_CODE_SYSTEM", "GENDER_IDENTITY_CODE_DESCRIPTION",
    "GENDER_IDENTITY_CODE_SYSTEM", "PREFERRED_LANGUAGE_CODE",
    "PREFERRED_LANGUAGE_CODE_DESCRIPTION", "PREFERRED_LANGUAGE_CODE_SYSTEM",
    "SEXUAL_ORIENTATION_CODE_DESCRIPTION", "SEXUAL_ORIENTATION_CODE_SYSTEM",
    "PATIENT_LAST_UPDATED", "SEXUAL_ORIENTATION_LAST_UPDATED", NULL,
};

/* ---- small checks -------------------------------------------------------- */

static bool in_list(struct slice s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (slice_ieq(s, list[i]))
            return true;
    return false;
}

/* the screening language's test: common/langtag.h, as FHIR's (F60, F65) */
static bool is_lang_tag(struct slice s)
{
    return langtag_ok(s.p, s.len);
}

/* NY Medicaid CIN: two letters, five digits, one letter (AA12345C). */
static bool is_cin(struct slice s)
{
    if (s.len != 8)
        return false;
    for (size_t i = 0; i < 8; i++) {
        char ch = s.p[i];
        bool alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
        bool digit = ch >= '0' && ch <= '9';
        if ((i < 2 || i == 7) ? !alpha : !digit)
            return false;
    }
    return true;
}

/* ^\d{5}(-?\d{4})?$ */
static bool is_zip(struct slice s)
{
    size_t n = s.len;
    if (n != 5 && n != 9 && n != 10)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (n == 10 && i == 5) {
            if (s.p[i] != '-')
                return false;
        } else if (s.p[i] < '0' || s.p[i] > '9') {
            return false;
        }
    }
    return true;
}

static bool starts_with(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strlen(s) >= n && strncasecmp(s, prefix, n) == 0;
}

/* A key of several parts, joined by a unit separator (not in ids). */
static struct slice key3(struct arena *a, struct slice x, struct slice y,
                         struct slice z)
{
    size_t n = x.len + y.len + z.len + 2;
    char *p = arena_alloc(a, n + 1);
    size_t k = 0;
    memcpy(p + k, x.p ? x.p : "", x.len);
    k += x.len;
    p[k++] = '\x1f';
    memcpy(p + k, y.p ? y.p : "", y.len);
    k += y.len;
    p[k++] = '\x1f';
    memcpy(p + k, z.p ? z.p : "", z.len);
    k += z.len;
    p[k] = '\0';
    return (struct slice){ p, k };
}

/* ---- which file is which --------------------------------------------- */

struct set {
    int file[F_N];                      /* index into c->files, or -1 */
    struct csv_table t[F_N];
    struct csv_map key[F_N];            /* QE, PT: by MRN; PROF: MRN+ENC */
};

static const char *set_tail(const struct csv_ctx *c, const struct set *s)
{
    static const int order[F_N] = { F_OBS, F_QE, F_PROF, F_PT };
    for (int i = 0; i < F_N; i++) {
        int k = order[i], fi = s->file[k];
        if (fi < 0 || c->files[fi].name == NULL)
            continue;
        const char *name = c->files[fi].name;
        size_t n = strlen(prefixes[k]);
        if (starts_with(name, prefixes[k]) && name[n] == '_')
            return name + n + 1;
        return name;
    }
    return "set";
}

static int classify(struct csv_ctx *c, struct set *s, struct hub_err *err)
{
    for (int k = 0; k < F_N; k++)
        s->file[k] = -1;
    for (size_t i = 0; i < c->n_files; i++) {
        const char *name = c->files[i].name ? c->files[i].name : "";
        int kind = -1;
        for (int k = 0; k < F_N; k++)
            if (starts_with(name, prefixes[k]))
                kind = k;
        for (size_t k = 0; kind < 0 && old_prefixes[k]; k++)
            if (starts_with(name, old_prefixes[k]))
                return hub_err_set(err, HUB_EUNSUPPORTED, name, 0,
                                   "older SHIN-NY flat-file generation; "
                                   "send the 1115 SDOH_ files");
        if (kind < 0) {
            /* no recognisable name: tell by the header */
            if (csv_header_has(c, (unsigned)i, "QUESTION_CODE"))
                kind = F_OBS;
            else if (csv_header_has(c, (unsigned)i, "ENCOUNTER_CLASS_CODE"))
                kind = F_PROF;
            else if (csv_header_has(c, (unsigned)i, "FAMILY_NAME"))
                kind = F_PT;
            else if (csv_header_has(c, (unsigned)i, "FACILITY_LAST_UPDATED") ||
                     csv_header_has(c, (unsigned)i, "ORGANIZATION_TYPE_CODE"))
                kind = F_QE;
        }
        if (kind < 0)
            return hub_err_set(err, HUB_EINVALID, name, 0,
                               "file is not one of a SHIN-NY set "
                               "(SDOH_QEadmin, SDOH_ScreeningProf, "
                               "SDOH_ScreeningObs, SDOH_PtInfo)");
        /* an older generation's columns (Winter'24 under a 1115 name, a
         * set renamed and its columns not migrated; Summer'24's pipe
         * SCREENING_ file): each row would fail for want of a start time
         * or the header for PATIENT_MR_ID_VALUE, which says nothing of
         * why (F57) */
        if (kind == F_OBS &&
            csv_header_has(c, (unsigned)i, "RECORDED_TIME") &&
            !csv_header_has(c, (unsigned)i, "SCREENING_START_DATETIME"))
            return hub_err_set(err, HUB_EUNSUPPORTED, name, 0,
                               "ScreeningObs has an older SHIN-NY "
                               "generation's columns (RECORDED_TIME, no "
                               "SCREENING_START_DATETIME); send the 1115 "
                               "template's columns");
        if (s->file[kind] >= 0)
            return hub_err_set(err, HUB_EINVALID, name, 0,
                               "two files of the same kind in one set");
        s->file[kind] = (int)i;
    }
    if (s->file[F_OBS] < 0)
        return hub_err_set(err, HUB_EINVALID, "SDOH_ScreeningObs", 0,
                           "set has no ScreeningObs file");
    return HUB_OK;
}

/* The four names of a set share their tail after the prefix. */
static void check_tails(struct csv_ctx *c, const struct set *s)
{
    const char *tail = set_tail(c, s);
    for (int k = 0; k < F_N; k++) {
        int fi = s->file[k];
        if (fi < 0 || c->files[fi].name == NULL)
            continue;
        const char *name = c->files[fi].name;
        size_t n = strlen(prefixes[k]);
        if (!starts_with(name, prefixes[k]) || name[n] != '_' ||
            strcmp(name + n + 1, tail) != 0)
            csv_finding(c, (unsigned)fi, 0, 0, NULL, CSV_SEV_WARNING,
                        "file name does not share the set's name after "
                        "its prefix");
    }
}

const char *csv_shinny_message_id(struct csv_ctx *c)
{
    struct set s;
    struct hub_err e;
    if (classify(c, &s, &e) != HUB_OK)
        return NULL;
    const char *tail = set_tail(c, &s);
    size_t n = strlen(tail) + 1 + F_N * 66 + 1;
    char *id = arena_alloc(c->a, n);
    size_t k = (size_t)snprintf(id, n, "%s:", tail);
    for (int f = 0; f < F_N; f++) {
        const char *h = s.file[f] >= 0 ? c->files[s.file[f]].sha256 : NULL;
        k += (size_t)snprintf(id + k, n - k, "%s%s", f ? "+" : "",
                              h ? h : "-");
    }
    return id;
}

/* ---- the reference files ---------------------------------------------- */

static void load_qe(struct csv_ctx *c, struct set *s)
{
    static const char *const codes[] = { "prov", "dept", "team", "govt",
                                         "ins", "pay", "edu", "reli", "crs",
                                         "cg", "bus", "other", NULL };
    static const char *const displays[] = {
        "Healthcare Provider", "Hospital Department", "Organizational team",
        "Government", "Insurance Company", "Payer", "Educational Institute",
        "Religious Institution", "Clinical Research Sponsor",
        "Community Group", "Non-Healthcare Business or Corporation", "Other",
        NULL,
    };
    struct csv_table *t = &s->t[F_QE];
    csv_map_init(c->a, &s->key[F_QE], t->n);
    for (size_t ri = 0; ri < t->n; ri++) {
        const struct slice *v = t->rows[ri].v;
        if (v[QE_MRN].len == 0) {
            csv_row_required(c, t, ri, QE_MRN);
            continue;
        }
        if (csv_map_get_or_put(&s->key[F_QE], v[QE_MRN], ri) != ri) {
            csv_row_error(c, t, ri, QE_MRN,
                          "PATIENT_MR_ID_VALUE is not unique in the file");
            continue;
        }
        if (v[QE_ORG_CODE].len) {
            size_t i;
            for (i = 0; codes[i]; i++)
                if (slice_ieq(v[QE_ORG_CODE], codes[i]))
                    break;
            if (codes[i] == NULL)
                csv_row_warn(c, t, ri, QE_ORG_CODE,
                             "organization type is not an HL7 "
                             "organization-type code");
            else if (v[QE_ORG_DISPLAY].len &&
                     !slice_ieq(v[QE_ORG_DISPLAY], displays[i]))
                csv_row_warn(c, t, ri, QE_ORG_DISPLAY,
                             "organization type display does not match "
                             "its code");
        }
        if (v[QE_ZIP].len && !is_zip(v[QE_ZIP]))
            csv_row_warn(c, t, ri, QE_ZIP, "ZIP is not 5 or 5+4 digits");
    }
}

static void load_prof(struct csv_ctx *c, struct set *s)
{
    static const char *const enc_types[] = { "23918007", "405672008", NULL };
    static const char *const consent[] = { "draft", "proposed", "active",
                                           "rejected", "inactive",
                                           "entered-in-error", NULL };
    static const char *const status[] = { "final", "corrected",
                                          "entered-in-error", "unknown",
                                          NULL };
    struct csv_table *t = &s->t[F_PROF];
    char dt[CSV_DATE_MAX];
    size_t dn;
    csv_map_init(c->a, &s->key[F_PROF], t->n);
    for (size_t ri = 0; ri < t->n; ri++) {
        const struct slice *v = t->rows[ri].v;
        if (v[PR_MRN].len == 0 || v[PR_ENC].len == 0) {
            csv_row_required(c, t, ri, v[PR_MRN].len ? PR_ENC : PR_MRN);
            continue;
        }
        struct slice k = key3(c->a, v[PR_MRN], v[PR_ENC], SLICE_NULL);
        if (csv_map_get_or_put(&s->key[F_PROF], k, ri) != ri) {
            csv_row_error(c, t, ri, PR_ENC,
                          "ENCOUNTER_ID is not unique in the file");
            continue;
        }
        if (v[PR_ENC_TYPE].len && !in_list(v[PR_ENC_TYPE], enc_types))
            csv_row_warn(c, t, ri, PR_ENC_TYPE,
                         "encounter type is not 23918007 or 405672008");
        if (v[PR_CONSENT].len && !in_list(v[PR_CONSENT], consent))
            csv_row_warn(c, t, ri, PR_CONSENT,
                         "consent status is not a FHIR Consent.status");
        if (v[PR_STATUS].len && !in_list(v[PR_STATUS], status))
            csv_row_warn(c, t, ri, PR_STATUS,
                         "screening status is not final, corrected, "
                         "entered-in-error or unknown");
        if (v[PR_LANG].len && !is_lang_tag(v[PR_LANG]))
            csv_row_warn(c, t, ri, PR_LANG,
                         "screening language is not a BCP-47 tag; left out");
        /* only checked here (the encounter start stands in for an
         * observation's missing start): read as spreadsheets write it, or
         * a warning, not an error */
        if (v[PR_START].len && !csv_is_datetime(v[PR_START])) {
            if (csv_date_read(v[PR_START], false, dt, &dn) >= CSV_DT_OTHER)
                (void)csv_date_col(c, t, ri, PR_START, false, NULL);
            else
                csv_row_warn(c, t, ri, PR_START,
                             "date-time is not ISO 8601");
        }
    }
}

static void load_pt(struct csv_ctx *c, struct set *s)
{
    static const char *const gender_ids[] = {
        "446151000124109", "446141000124107", "33791000087105", "407376001",
        "407377005", "446131000124102", "OTH", "UNK", "asked-declined", NULL,
    };
    static const char *const orientations[] = {
        "20430005", "38628009", "42035005", "765288000", "OTH", "UNK",
        "asked-declined", NULL,
    };
    struct csv_table *t = &s->t[F_PT];
    csv_map_init(c->a, &s->key[F_PT], t->n);
    for (size_t ri = 0; ri < t->n; ri++) {
        const struct slice *v = t->rows[ri].v;
        bool ok = true;
        if (v[PT_MRN].len == 0) {
            csv_row_required(c, t, ri, PT_MRN);
            continue;
        }
        if (csv_id_rounded(v[PT_MRN])) {
            csv_row_error(c, t, ri, PT_MRN, CSV_ID_ROUNDED);
            continue;
        }
        if (csv_map_get_or_put(&s->key[F_PT], v[PT_MRN], ri) != ri) {
            csv_row_error(c, t, ri, PT_MRN,
                          "PATIENT_MR_ID_VALUE is not unique in the file");
            continue;
        }
        if (v[PT_BIRTH].len == 0) {
            csv_row_required(c, t, ri, PT_BIRTH);
            ok = false;
        } else if (!csv_date_col(c, t, ri, PT_BIRTH, true,
                                 "date is not YYYY-MM-DD (or YYYY, YYYY-MM), "
                                 "M/D/YYYY or an Excel date serial")) {
            ok = false;
        }
        if (v[PT_MEDICAID].len && !is_cin(v[PT_MEDICAID])) {
            csv_row_error(c, t, ri, PT_MEDICAID,
                          "Medicaid id is not two letters, five digits, "
                          "one letter");
            ok = false;
        }
        if (v[PT_FAMILY].len == 0 || v[PT_GIVEN].len == 0) {
            csv_row_required(c, t, ri, v[PT_FAMILY].len ? PT_GIVEN : PT_FAMILY);
            ok = false;
        }
        /* warnings too, bad row or not: the sender fixes them all at once */
        (void)ok;
        if (v[PT_SEX].len && csv_sex_code(v[PT_SEX]) == NULL)
            csv_row_warn(c, t, ri, PT_SEX, "sex is not male, female, other "
                                           "or unknown; left out");
        char ssn[9];
        if (v[PT_SSN].len && !ssn_usable(v[PT_SSN].p, v[PT_SSN].len, ssn))
            csv_row_warn(c, t, ri, PT_SSN, SSN_NOT_ISSUABLE "; left out");
        if (v[PT_ZIP].len && !is_zip(v[PT_ZIP]))
            csv_row_warn(c, t, ri, PT_ZIP, "ZIP is not 5 or 5+4 digits");
        if (csv_id_rounded(v[PT_PHONE])) {
            csv_row_warn(c, t, ri, PT_PHONE, CSV_PHONE_ROUNDED);
            t->rows[ri].v[PT_PHONE] = SLICE_NULL;
        }
        if (v[PT_GENDER_ID].len && !in_list(v[PT_GENDER_ID], gender_ids))
            csv_row_warn(c, t, ri, PT_GENDER_ID,
                         "gender identity code is not in the allowed list");
        if (v[PT_ORIENTATION].len &&
            !in_list(v[PT_ORIENTATION], orientations))
            csv_row_warn(c, t, ri, PT_ORIENTATION,
                         "sexual orientation code is not in the allowed "
                         "list");
    }
}

static struct csv_patient *make_patient(struct csv_ctx *c, struct set *s,
                                        const struct slice *ob)
{
    struct csv_patient *p = arena_zalloc(c->a, sizeof(*p));
    /* the MRN is the facility's record number: FACILITY_ID scopes it, in
     * the system SHIN-NY's own conversion of these files to FHIR gives it
     * (http://www.scn.gov/facility/ and the id, as its FHIR bundles send
     * it), so that one MRN is one identifier in either format */
    struct slice fac = ob[OB_FACILITY_ID];
    if (fac.len) {
        static const char pre[] = "http://www.scn.gov/facility/";
        size_t n = sizeof(pre) - 1;
        char *sys = arena_alloc(c->a, n + fac.len);
        memcpy(sys, pre, n);
        memcpy(sys + n, fac.p, fac.len);
        fac = (struct slice){ sys, n + fac.len };
    }
    p->ids[p->n_ids++] = (struct csv_ident){
        .value = ob[OB_MRN], .system_s = fac, .type = "MR" };
    if (s->file[F_PT] < 0)
        return p;
    size_t ri = csv_map_get(&s->key[F_PT], ob[OB_MRN]);
    if (ri == (size_t)-1 || s->t[F_PT].rows[ri].bad)
        return p;
    const struct slice *v = s->t[F_PT].rows[ri].v;
    s->t[F_PT].rows[ri].used = true;
    if (v[PT_MEDICAID].len)
        p->ids[p->n_ids++] = (struct csv_ident){
            .value = v[PT_MEDICAID], .system = "http://www.medicaid.gov/",
            .type = "MA" };
    char ssn[9];
    if (v[PT_SSN].len && ssn_usable(v[PT_SSN].p, v[PT_SSN].len, ssn))
        p->ids[p->n_ids++] = (struct csv_ident){
            .value = v[PT_SSN], .system = SSN_SYSTEM,
            .type = "SS" };
    p->family = v[PT_FAMILY];
    p->given = v[PT_GIVEN];
    p->middle = v[PT_MIDDLE];
    p->birth_date = v[PT_BIRTH];
    p->sex = csv_sex_code(v[PT_SEX]);
    p->line1 = v[PT_ADDR1];
    p->line2 = v[PT_ADDR2];
    p->city = v[PT_CITY];
    p->state = v[PT_STATE];
    p->postal_code = v[PT_ZIP];
    p->county = v[PT_COUNTY];
    p->phone = v[PT_PHONE];
    p->phone_use = v[PT_PHONE_USE];
    return p;
}

static void pre_warn(struct csv_screening *g, const char *field,
                     const char *what)
{
    if (g->n_pre < sizeof(g->pre) / sizeof(g->pre[0])) {
        g->pre[g->n_pre].field = field;
        g->pre[g->n_pre].what = what;
        g->n_pre++;
    }
}

/* ---- the observations ------------------------------------------------- */

static bool obs_row_ok(struct csv_ctx *c, struct set *s, size_t ri)
{
    struct csv_table *t = &s->t[F_OBS];
    const struct slice *v = t->rows[ri].v;
    static const int req[] = { OB_MRN, OB_ENC, OB_SCREENING_CODE,
                               OB_QUESTION };
    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        if (v[req[i]].len == 0) {
            csv_row_required(c, t, ri, req[i]);
            return false;
        }
    }
    if (csv_id_rounded(v[OB_MRN])) {
        csv_row_error(c, t, ri, OB_MRN, CSV_ID_ROUNDED);
        return false;
    }
    if (!csv_date_col(c, t, ri, OB_START, false,
                      "date-time is not ISO 8601 (YYYY-MM-DDThh:mm:ss+hh:mm), "
                      "M/D/YYYY h:mm or an Excel date serial"))
        return false;
    if (s->file[F_QE] >= 0) {
        size_t qi = csv_map_get(&s->key[F_QE], v[OB_MRN]);
        if (qi == (size_t)-1) {
            csv_row_error(c, t, ri, OB_MRN,
                          "PATIENT_MR_ID_VALUE is not in the QEadmin file");
            return false;
        }
    }
    if (s->file[F_PROF] >= 0) {
        struct slice k = key3(c->a, v[OB_MRN], v[OB_ENC], SLICE_NULL);
        size_t pi = csv_map_get(&s->key[F_PROF], k);
        if (pi == (size_t)-1) {
            csv_row_error(c, t, ri, OB_ENC,
                          "ENCOUNTER_ID is not in the ScreeningProf file "
                          "for this patient");
            return false;
        }
        const struct slice *pv = s->t[F_PROF].rows[pi].v;
        if (slice_ieq(pv[PR_STATUS], "entered-in-error")) {
            csv_row_error(c, t, ri, OB_ENC,
                          "screening is entered-in-error in ScreeningProf");
            return false;
        }
        if (v[OB_START].len == 0 && !csv_is_datetime(pv[PR_START])) {
            csv_row_error(c, t, ri, OB_START,
                          "no screening or encounter start date-time");
            return false;
        }
    } else if (v[OB_START].len == 0) {
        csv_row_required(c, t, ri, OB_START);
        return false;
    }
    return true;
}

int csv_shinny_to_events(struct csv_ctx *c, struct hub_err *err)
{
    struct set s;
    int rc;
    static const struct csv_col *const cols[F_N] = { qe_cols, prof_cols,
                                                     obs_cols, pt_cols };
    static const size_t ncols[F_N] = { QE_N, PR_N, OB_N, PT_N };
    static const char *const *const also[F_N] = { qe_also, prof_also,
                                                  obs_also, pt_also };

    memset(&s, 0, sizeof(s));
    c->col_instrument = OB_SCREENING_CODE;
    c->col_question = OB_QUESTION;
    if ((rc = classify(c, &s, err)))
        return rc;
    check_tails(c, &s);
    for (int k = 0; k < F_N; k++) {
        if (s.file[k] < 0) {
            csv_finding(c, (unsigned)CSV_MAX_FILES, 0, 0, prefixes[k],
                        CSV_SEV_WARNING, "file of the set was not sent; its "
                                         "keys are not checked");
            continue;
        }
        rc = csv_table_load(c, (unsigned)s.file[k], cols[k], ncols[k],
                            also[k], &s.t[k], err);
        if (rc)
            return rc;
    }
    if (s.file[F_QE] >= 0)
        load_qe(c, &s);
    if (s.file[F_PROF] >= 0)
        load_prof(c, &s);
    if (s.file[F_PT] >= 0)
        load_pt(c, &s);

    struct csv_table *t = &s.t[F_OBS];
    struct csv_map groups;
    csv_map_init(c->a, &groups, t->n);
    struct csv_screening *g = arena_zalloc(c->a, (t->n + 1) * sizeof(*g));
    size_t ng = 0;
    const char *obs_name = c->files[s.file[F_OBS]].name
                               ? c->files[s.file[F_OBS]].name
                               : "SDOH_ScreeningObs.csv";

    for (size_t ri = 0; ri < t->n; ri++) {
        const struct slice *v = t->rows[ri].v;
        if (!obs_row_ok(c, &s, ri))
            continue;
        struct slice k = key3(c->a, v[OB_MRN], v[OB_ENC], v[OB_SCREENING_CODE]);
        size_t gi = csv_map_get_or_put(&groups, k, ng);
        struct csv_screening *sc = &g[gi];
        if (gi == ng) {
            ng++;
            sc->id = v[OB_SCREENING_ID];
            sc->encounter = v[OB_ENC];
            sc->instrument = v[OB_SCREENING_CODE];
            sc->instrument_name = v[OB_SCREENING_DESC];
            sc->occurred_at = v[OB_START];
            sc->facility = v[OB_FACILITY_ID];
            sc->file_name = obs_name;
            sc->first_row = t->rows[ri].row;
            sc->patient = make_patient(c, &s, v);
            if (s.file[F_PT] >= 0) {
                size_t pi = csv_map_get(&s.key[F_PT], v[OB_MRN]);
                if (pi == (size_t)-1)
                    pre_warn(sc, "patient",
                             "patient is not in the PtInfo file");
                else if (s.t[F_PT].rows[pi].bad)
                    pre_warn(sc, "patient",
                             "patient's PtInfo row was rejected; only the "
                             "MRN identifies the patient");
            }
            if (s.file[F_PROF] >= 0) {
                struct slice pk = key3(c->a, v[OB_MRN], v[OB_ENC], SLICE_NULL);
                size_t pi = csv_map_get(&s.key[F_PROF], pk);
                const struct slice *pv = s.t[F_PROF].rows[pi].v;
                static const char *const ok_status[] = { "final", "corrected",
                                                         "unknown", NULL };
                if (pv[PR_STATUS].len && !in_list(pv[PR_STATUS], ok_status))
                    pre_warn(sc, "screening",
                             "screening status is not final, corrected or "
                             "unknown");
                if (sc->occurred_at.len == 0)
                    sc->occurred_at = pv[PR_START];
                sc->status = pv[PR_STATUS];
                /* the language it was taken in, as FHIR's (F60, F65) */
                if (is_lang_tag(pv[PR_LANG]))
                    sc->language = pv[PR_LANG];
                s.t[F_PROF].rows[pi].used = true;
            }
        }
        struct csv_scr_row r = {
            .t = t, .ri = ri, .col_answer = OB_ANSWER, .col_flag = OB_FLAG,
            .col_number = OB_ANSWER_DESC, .col_absent = OB_ABSENT,
            .question = v[OB_QUESTION], .answer = v[OB_ANSWER],
            /* calculated items put their number in the description */
            .number = v[OB_ANSWER].len ? SLICE_NULL : v[OB_ANSWER_DESC],
            .absent = v[OB_ABSENT], .flag = v[OB_FLAG],
        };
        if (csv_screening_add(c->a, sc, &r) != HUB_OK)
            csv_row_error(c, t, ri, OB_QUESTION,
                          "screening has more rows than the limit");
    }
    for (size_t gi = 0; gi < ng; gi++)
        if ((rc = csv_screening_emit(c, &g[gi], err)))
            return rc;
    for (int k = 0; k < F_N; k++)
        if (s.file[k] >= 0)
            csv_table_account(c, &s.t[k]);
    return HUB_OK;
}
