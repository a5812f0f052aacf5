/*
 * fhir_patient.c - the patient block of an event: the Patient resource a
 * reference names (in the bundle, contained, or only by its identifier),
 * written as the hub's patient object (names, identifiers with their
 * national and SSN forms, telecom, addresses, contacts).
 */
#include "fhir/fhir_int.h"

#include <stdio.h>
#include <string.h>

#include "common/digits.h"
#include "common/idsys.h"
#include "common/natid.h"
#include "common/postal.h"
#include "common/ssn.h"
#include "common/utf8.h"

/* Whether `v` is a non-empty string, or an array holding one. */
static bool has_str(const cJSON *v)
{
    if (cJSON_IsString(v))
        return v->valuestring[0] != '\0';
    for (const cJSON *c = cJSON_IsArray(v) ? v->child : NULL; c; c = c->next)
        if (cJSON_IsString(c) && c->valuestring[0])
            return true;
    return false;
}

static void write_str_array(struct jw *w, const char *key, const cJSON *arr)
{
    bool any = false;
    for (const cJSON *c = arr ? arr->child : NULL; c; c = c->next)
        any |= cJSON_IsString(c) && c->valuestring[0];
    if (!any)
        return;
    jw_key(w, key);
    jw_arr_begin(w);
    for (const cJSON *c = arr->child; c; c = c->next)
        if (cJSON_IsString(c) && c->valuestring[0])
            jw_cstr(w, c->valuestring);
    jw_arr_end(w);
}

/* A middle name sent in an extension of the HumanName (SHIN-NY
 * ".../StructureDefinition/middle-name", valueString): its value, else NULL. */
static const char *middle_name_ext(const cJSON *ext)
{
    static const char tail[] = "/StructureDefinition/middle-name";
    const size_t tn = sizeof(tail) - 1;
    const cJSON *url = fx_get(ext, "url"), *v = fx_get(ext, "valueString");
    if (!cJSON_IsString(url) || !cJSON_IsString(v) || !v->valuestring[0])
        return NULL;
    size_t n = strlen(url->valuestring);
    return n >= tn && strcmp(url->valuestring + n - tn, tail) == 0
               ? v->valuestring
               : NULL;
}

static bool has_middle_name_ext(const cJSON *name)
{
    const cJSON *exts = fx_get(name, "extension");
    for (const cJSON *e = cJSON_IsArray(exts) ? exts->child : NULL; e;
         e = e->next)
        if (middle_name_ext(e))
            return true;
    return false;
}

static bool ascii_caseeq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char cb = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (ca != cb)
            return false;
    }
    return *a == *b;
}

/* "given": HumanName.given in order, then each middle name of a middle-name
 * extension not already among them (a middle name is a given name after
 * the first; FHIR R4 HumanName.given holds "given names, includes middle
 * names" in order, and SHIN-NY moves the middle one to an extension). */
static void write_given(struct jw *w, const cJSON *name)
{
    const cJSON *given = fx_get(name, "given"), *exts = fx_get(name, "extension");
    bool open = false;
    for (const cJSON *c = cJSON_IsArray(given) ? given->child : NULL; c;
         c = c->next) {
        if (!cJSON_IsString(c) || !c->valuestring[0])
            continue;
        jw_arr_lazy(w, "given", &open);
        jw_cstr(w, c->valuestring);
    }
    for (const cJSON *e = cJSON_IsArray(exts) ? exts->child : NULL; e;
         e = e->next) {
        const char *m = middle_name_ext(e);
        bool dup = false;
        for (const cJSON *c = cJSON_IsArray(given) ? given->child : NULL;
             m && c && !dup; c = c->next)
            dup = cJSON_IsString(c) && ascii_caseeq(c->valuestring, m);
        if (m == NULL || dup)
            continue;
        jw_arr_lazy(w, "given", &open);
        jw_cstr(w, m);
    }
    jw_arr_end_if(w, open);
}

/* How a HumanName is written: the extension iso21090-EN-representation
 * (valueCode from ValueSet name-v3-representation: ABC alphabetic, e.g.
 * romaji; IDE ideographic, kanji; SYL syllabic, kana), as the canonical
 * name's representation (HL7 v2 XPN-8 A, I, P; JP Core sends each name
 * twice, IDE and SYL). NULL when absent or another code. */
static const char *name_representation(const cJSON *name)
{
    static const char url[] =
        "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
    const cJSON *exts = fx_get(name, "extension");
    for (const cJSON *e = cJSON_IsArray(exts) ? exts->child : NULL; e;
         e = e->next) {
        const cJSON *u = fx_get(e, "url"), *v = fx_get(e, "valueCode");
        if (!cJSON_IsString(u) || strcmp(u->valuestring, url) != 0 ||
            !cJSON_IsString(v))
            continue;
        if (strcmp(v->valuestring, "ABC") == 0)
            return "alphabetic";
        if (strcmp(v->valuestring, "IDE") == 0)
            return "ideographic";
        if (strcmp(v->valuestring, "SYL") == 0)
            return "phonetic";
    }
    return NULL;
}

/* "Dr." "Mrs." -> "Dr. Mrs.": CANON keeps prefix and suffix as one string. */
static void write_joined(struct jw *w, struct arena *a, const char *key,
                         const cJSON *arr)
{
    char buf[256];
    size_t n = 0;
    for (const cJSON *c = arr ? arr->child : NULL; c; c = c->next) {
        if (!cJSON_IsString(c) || !c->valuestring[0])
            continue;
        int k = snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " " : "",
                         c->valuestring);
        if (k < 0 || (size_t)k >= sizeof(buf) - n)
            break;
        n += (size_t)k;
    }
    if (n)
        jw_kv_str(w, key, (struct slice){ arena_strndup(a, buf, n), n });
}

/* An Identifier as read: its value (NULL when absent or left out), system
 * and type; an SSN's nine digits in `ssn`; whether it was out of effect
 * when the body was made. */
struct fx_ident {
    const char *value, *system;
    struct fx_code type;
    bool is_ssn;
    bool inactive;
    char ssn[9];
};

/* The length of the date of a FHIR date or dateTime: up to its 'T'. */
static size_t date_part(const char *s)
{
    const char *t = strchr(s, 'T');
    return t ? (size_t)(t - s) : strlen(s);
}

/*
 * Whether the Identifier `c` (the path at it) was out of effect when the
 * body was made (x->sent_at): its use "old" (FHIR R4: no longer
 * considered valid), or its period ended before that day or starts after
 * it, each date in its sender's own time, to the precision both have (as
 * HL7 v2 CX-8 and CX-7, which HL7's v2-to-FHIR map makes period.end and
 * period.start: the day of either is in effect). An old member id or a
 * superseded MRN may since name someone else: the linker passes such an
 * identifier by. A period date that is not ISO 8601 is a warning, and
 * leaves the identifier in effect.
 */
static int identifier_out_of_effect(struct fx *x, const cJSON *c, bool *out)
{
    static const char *const keys[] = { "start", "end" };
    const char *use, *d;
    const cJSON *period;
    int rc;
    *out = false;
    if ((rc = fx_str(x, c, "use", false, &use)) ||
        (rc = fx_obj(x, c, "period", false, &period)))
        return rc;
    if (use && strcmp(use, "old") == 0) {
        *out = true;
        return HUB_OK;
    }
    if (period == NULL || x->sent_at == NULL)
        return HUB_OK;
    size_t old = fx_key(x, "period"), m = date_part(x->sent_at);
    for (int k = 0; k < 2 && !*out; k++) {
        if ((rc = fx_str(x, period, keys[k], false, &d)))
            return rc;
        if (d == NULL)
            continue;
        if (!fx_iso_ok(d)) {
            fx_warn(x, keys[k], "date is not ISO 8601; left unread");
            continue;
        }
        size_t n = date_part(d);
        int cmp = memcmp(d, x->sent_at, n < m ? n : m);
        *out = k == 0 ? cmp > 0 : cmp < 0;
    }
    fx_pop(x, old);
    return HUB_OK;
}

/* What every identifier read goes through, however it was sent (an
 * Identifier, or the token of a conditional reference): national systems
 * by one URI, unusable SSNs and national numbers kept from linking. Its
 * warnings are at `wkey` under the current path. */
static void ident_check(struct fx *x, struct fx_ident *id, const char *wkey)
{
    /* a system in the hub's own space names some organization's scope,
     * another's as easily as the sender's: left out, as an unusable SSN
     * is (F2240). The adapter's own "urn:hub:org:<org>:fhir" system is
     * written from the hub's scope, never read here. */
    if (id->system && idsys_is_hub(slice_from_cstr(id->system))) {
        fx_warn(x, wkey ? "system" : NULL, IDSYS_HUB_LEFT_OUT);
        id->value = NULL;
        return;
    }
    /* a national system named by its OID (urn:oid:2.16.840.1.113883.4.1,
     * as converters from C-CDA write it) or, for the SSN, by the SSA's
     * web address (SHIN-NY): the URI that HL7 v2 and C-CDA write for it;
     * and, named so or by that URI, its type when none is coded (SS, as
     * PID-19 and a C-CDA SSN have it), so that one number is one
     * identifier of one shape whichever format carried it */
    const struct idsys_national *nat =
        id->system ? idsys_national(slice_from_cstr(id->system)) : NULL;
    if (nat) {
        id->system = nat->uri;
        if (id->type.code == NULL)
            id->type.code = nat->type;
    }
    id->is_ssn = id->value && id->system &&
                 strcmp(id->system, SSN_SYSTEM) == 0;
    if (id->is_ssn && !ssn_usable(id->value, strlen(id->value), id->ssn)) {
        fx_warn(x, wkey, SSN_NOT_ISSUABLE "; left out");
        id->value = NULL;
    }
    /* a national number that fails its check digit was never issued:
     * kept as sent, but never linked on (F744, common/natid.h) */
    const char *flaw = id->value && !id->is_ssn
                           ? natid_flaw(slice_from_cstr(id->system),
                                        slice_from_cstr(id->type.code),
                                        slice_from_cstr(id->value))
                           : NULL;
    /* a placeholder in a national, health-card, Medicaid or Medicare
     * number (HL7 v2 leaves it out, F116): kept, never linked on (F843) */
    if (!flaw && id->value && !id->is_ssn &&
        natid_national_type(slice_from_cstr(id->type.code)) &&
        natid_placeholder(slice_from_cstr(id->value)))
        flaw = "national number is a placeholder; not linked";
    if (flaw) {
        fx_warn(x, wkey, flaw);
        id->inactive = true;
    }
    /* an account's, a visit's, a guarantor's number: others share it;
     * kept, never linked on (idsys_type_links) */
    if (id->type.code && !idsys_type_links(slice_from_cstr(id->type.code)))
        id->inactive = true;
}

/* Read the Identifier `c` (the path at it). An SSN the SSA never issues is
 * left out with a warning: a placeholder or a masked SSN would link
 * strangers. The type is the table 0203 coding (the schema's `type`; one
 * with no system is taken as such); a type coded only in another system
 * (German identifier-type-de-basis KVZ10, a local list) is not written
 * there: its code would be read as a table 0203 code. */
static int read_identifier(struct fx *x, const cJSON *c, struct fx_ident *id)
{
    int rc;
    if ((rc = fx_str(x, c, "value", false, &id->value)) ||
        (rc = fx_str(x, c, "system", false, &id->system)) ||
        (rc = fx_cc(x, c, "type", "http://terminology.hl7.org/CodeSystem/v2-0203",
                    &id->type)) ||
        (rc = identifier_out_of_effect(x, c, &id->inactive)))
        return rc;
    if (id->type.system && !fx_is_table_0203(id->type.system))
        id->type.code = NULL;
    ident_check(x, id, "value");
    return HUB_OK;
}

/* One item of an open "identifiers" array. */
static void write_identifier(struct jw *w, const struct fx_ident *id)
{
    jw_obj_begin(w);
    if (id->is_ssn)
        jw_kv_str(w, "value", (struct slice){ id->ssn, sizeof(id->ssn) });
    else
        jw_kv_cstr(w, "value", id->value);
    jw_kv_cstr(w, "system", id->system);
    jw_kv_cstr(w, "type", id->type.code);
    if (id->inactive) {
        jw_key(w, "inactive");
        jw_bool(w, true);
    }
    jw_obj_end(w);
}

/* Whether ContactPoint array `tel` holds phone number `value`. */
static bool has_phone(const cJSON *tel, const char *value)
{
    for (const cJSON *c = cJSON_IsArray(tel) ? tel->child : NULL; c;
         c = c->next) {
        const char *sys = fx_str_of(c, "system"), *v = fx_str_of(c, "value");
        if (sys && strcmp(sys, "phone") == 0 && v && strcmp(v, value) == 0)
            return true;
    }
    return false;
}

/* The phones (system "phone", with a value) of ContactPoint array `tel`
 * as items of "phones" (opened lazily: *open), less those `seen` (a
 * ContactPoint array, or NULL) holds already. */
static void write_phones(struct jw *w, const cJSON *tel, const cJSON *seen,
                         bool *open)
{
    for (const cJSON *c = cJSON_IsArray(tel) ? tel->child : NULL; c;
         c = c->next) {
        const char *sys = fx_str_of(c, "system"), *v = fx_str_of(c, "value");
        if (!sys || strcmp(sys, "phone") != 0 || !v ||
            (seen && has_phone(seen, v)))
            continue;
        jw_arr_lazy(w, "phones", open);
        jw_obj_begin(w);
        jw_kv_cstr(w, "value", v);
        jw_kv_cstr(w, "use", fx_str_of(c, "use"));
        jw_obj_end(w);
    }
}

/*
 * Whether Patient.contact `c` is the patient: a relationship coded "self"
 * (HL7 v3 RoleCode ONESELF, or HL7 v2 table 0063 SEL). UK Core ranks the
 * patient's own phones and e-mail this way (NHS BaRS sends them only
 * there), so its phones are the patient's; any other contact's are
 * someone else's (an emergency contact, a next of kin).
 */
static bool contact_is_self(const cJSON *c)
{
    static const struct {
        const char *system, *code;
    } self[] = {
        { "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "ONESELF" },
        { "urn:oid:2.16.840.1.113883.5.111", "ONESELF" },
        { "http://terminology.hl7.org/CodeSystem/v2-0063", "SEL" },
        { "urn:oid:2.16.840.1.113883.12.63", "SEL" },
    };
    const cJSON *rel = fx_get(c, "relationship");
    for (const cJSON *cc = cJSON_IsArray(rel) ? rel->child : NULL; cc;
         cc = cc->next) {
        const cJSON *codings = fx_get(cc, "coding");
        for (const cJSON *k = cJSON_IsArray(codings) ? codings->child : NULL;
             k; k = k->next) {
            const char *sys = fx_str_of(k, "system"), *code = fx_str_of(k, "code");
            for (size_t i = 0; sys && code && i < sizeof(self) /
                                                      sizeof(self[0]); i++)
                if (strcmp(sys, self[i].system) == 0 &&
                    strcmp(code, self[i].code) == 0)
                    return true;
        }
    }
    return false;
}

/* Patient resource demographics; type errors fail with the Patient's path.
 * `contained` >= 0: pe->res is contained[contained] of the resource whose
 * path is the current one (its id is local to it: no fhir-id identifier). */
static int write_patient_resource(struct fx *x, struct jw *w,
                                  const struct fx_entry *pe, long contained)
{
    const cJSON *p = pe->res, *arr;
    size_t n, i;
    int rc;
    bool ids = false;
    struct fx_saved_path save;
    fx_path_save(x, &save);
    if (contained >= 0) {
        fx_key(x, "contained");
        fx_idx(x, (size_t)contained);
    } else {
        fx_at_entry(x, pe);
    }

    if ((rc = fx_arr(x, p, "identifier", &arr, &n)))
        return rc;
    i = 0;
    for (const cJSON *c = arr ? arr->child : NULL; c; c = c->next, i++) {
        size_t o = fx_key(x, "identifier");
        fx_idx(x, i);
        struct fx_ident id;
        if (!cJSON_IsObject(c))
            return fx_fail(x, HUB_EINVALID, "expected an Identifier object");
        if ((rc = read_identifier(x, c, &id)))
            return rc;
        fx_pop(x, o);
        if (id.value == NULL)
            continue;
        jw_arr_lazy(w, "identifiers", &ids);
        write_identifier(w, &id);
    }
    if (pe->id && contained < 0) {
        jw_arr_lazy(w, "identifiers", &ids);
        jw_obj_begin(w);
        jw_kv_cstr(w, "value", pe->id);
        jw_kv_cstr(w, "system", x->pid_system);
        jw_kv_cstr(w, "type", "fhir-id");
        jw_obj_end(w);
    }
    jw_arr_end_if(w, ids);

    if ((rc = fx_arr(x, p, "name", &arr, &n)))
        return rc;
    bool open = false;
    for (const cJSON *c = n ? arr->child : NULL; c; c = c->next) {
        if (!cJSON_IsObject(c))
            continue;
        /* FHIR R4 HumanName.text, "the full name as it should be
         * displayed", is all some senders give (JP Core's contained
         * practitioners): it stands as the family name, as C-CDA's
         * unstructured <name>text</name> does. A name with nothing in it
         * is left out, never written as {}. */
        const char *family = fx_str_of(c, "family");
        bool parts = family || has_str(fx_get(c, "given")) ||
                     has_str(fx_get(c, "prefix")) ||
                     has_str(fx_get(c, "suffix")) || has_middle_name_ext(c);
        if (!parts)
            family = fx_str_of(c, "text");
        if (!parts && !family)
            continue;
        jw_arr_lazy(w, "names", &open);
        jw_obj_begin(w);
        jw_kv_cstr(w, "family", family);
        write_given(w, c);
        write_joined(w, x->a, "prefix", fx_get(c, "prefix"));
        write_joined(w, x->a, "suffix", fx_get(c, "suffix"));
        jw_kv_cstr(w, "use", fx_str_of(c, "use"));
        jw_kv_cstr(w, "representation", name_representation(c));
        jw_obj_end(w);
    }
    jw_arr_end_if(w, open);
    const char *bd, *gender;
    if ((rc = fx_date(x, p, "birthDate", &bd)) ||
        (rc = fx_str(x, p, "gender", false, &gender)))
        return rc;
    if (bd && strlen(bd) > 10) {
        /* birthDate is a FHIR date, of no time: a dateTime sent there
         * ("1980-01-01T10:00:00Z") was carried whole, where the contract's
         * birth_date is a date alone (F3424). Its date, as written, is
         * the birth date, as HL7 v2's PID-7 and C-CDA's birthTime give. */
        bd = arena_strndup(x->a, bd, 10);
        fx_warn(x, "birthDate", "birth date has a time; its date kept");
    }
    jw_kv_cstr(w, "birth_date", bd);
    if (gender) {
        /* FHIR AdministrativeGender -> HL7 table 0001 letters */
        const char *sex = strcmp(gender, "male") == 0     ? "M"
                          : strcmp(gender, "female") == 0 ? "F"
                          : strcmp(gender, "other") == 0  ? "O"
                                                          : "U";
        jw_kv_cstr(w, "sex", sex);
    }
    if ((rc = fx_arr(x, p, "address", &arr, &n)))
        return rc;
    open = false;
    for (const cJSON *c = n ? arr->child : NULL; c; c = c->next) {
        if (!cJSON_IsObject(c))
            continue;
        /* Address.text is the whole address as displayed. JP Core sends
         * the street only there (city and state as parts, no line): with
         * no line, the text is the line, as HL7 v2 XAD-8 is (finding 22),
         * rather than lose the street. An address with nothing in it is
         * left out, never written as {}. */
        const cJSON *line = fx_get(c, "line");
        const char *text = has_str(line) ? NULL : fx_str_of(c, "text");
        if (!has_str(line) && !text && !fx_str_of(c, "city") &&
            !fx_str_of(c, "state") && !fx_str_of(c, "postalCode") &&
            !fx_str_of(c, "district") && !fx_str_of(c, "country"))
            continue;
        jw_arr_lazy(w, "addresses", &open);
        jw_obj_begin(w);
        if (text) {
            jw_key(w, "lines");
            jw_arr_begin(w);
            jw_cstr(w, text);
            jw_arr_end(w);
        } else {
            write_str_array(w, "lines", line);
        }
        jw_kv_cstr(w, "city", fx_str_of(c, "city"));
        jw_kv_cstr(w, "state", fx_str_of(c, "state"));
        const char *zip = fx_str_of(c, "postalCode");
        if (zip)
            jw_kv_str(w, "postal_code", postal_code(slice_from_cstr(zip)));
        jw_kv_cstr(w, "county", fx_str_of(c, "district"));
        jw_kv_cstr(w, "country", fx_str_of(c, "country"));
        jw_kv_cstr(w, "use", fx_str_of(c, "use"));
        jw_obj_end(w);
    }
    jw_arr_end_if(w, open);
    if ((rc = fx_arr(x, p, "telecom", &arr, &n)))
        return rc;
    bool phones = false;
    write_phones(w, arr, NULL, &phones);
    /* the patient's own contact details, sent as a contact of theirs */
    const cJSON *tel = arr;
    if ((rc = fx_arr(x, p, "contact", &arr, &n)))
        return rc;
    for (const cJSON *c = arr ? arr->child : NULL; c; c = c->next)
        if (contact_is_self(c))
            write_phones(w, fx_get(c, "telecom"), tel, &phones);
    jw_arr_end_if(w, phones);
    int dec;
    const char *dec_at;
    if ((rc = fx_bool(x, p, "deceasedBoolean", &dec)) ||
        (rc = fx_date(x, p, "deceasedDateTime", &dec_at)))
        return rc;
    if (dec == 1 || dec_at) {
        jw_key(w, "deceased");
        jw_bool(w, true);
        jw_kv_cstr(w, "deceased_at", dec_at);
    }
    fx_path_restore(x, &save);
    return HUB_OK;
}

/*
 * A logical reference's identifier (FHIR R4 Reference.identifier: the
 * patient named by an MRN or a member id, no resource behind it), as one
 * item of "identifiers" (the array open in `w`). *wrote says whether there
 * was one; a usable one needs a value (an SSN, nine digits).
 */
static int ref_identifier(struct fx *x, struct jw *w, const cJSON *refobj,
                          const char *key, bool *wrote)
{
    const cJSON *id;
    int rc;
    *wrote = false;
    size_t old = fx_key(x, key);
    if ((rc = fx_obj(x, refobj, "identifier", false, &id)))
        return rc;
    if (id == NULL) {
        fx_pop(x, old);
        return HUB_OK;
    }
    fx_key(x, "identifier");
    struct fx_ident ident;
    if ((rc = read_identifier(x, id, &ident)))
        return rc;
    fx_pop(x, old);
    if (ident.value == NULL || ident.value[0] == '\0')
        return HUB_OK;
    write_identifier(w, &ident);
    *wrote = true;
    return HUB_OK;
}

/* Whether Reference `refobj` carries R4's data-absent-reason extension:
 * the sender withheld who it names (AU Core's suppressed subject, code
 * `masked`; F3580), which is another reason for no patient than a
 * reference left empty. */
static bool withheld(const cJSON *refobj)
{
    static const char dar[] =
        "http://hl7.org/fhir/StructureDefinition/data-absent-reason";
    const cJSON *exts = fx_get(refobj, "extension");
    for (const cJSON *e = cJSON_IsArray(exts) ? exts->child : NULL; e;
         e = e->next) {
        const char *url = fx_str_of(e, "url");
        if (url && strcmp(url, dar) == 0)
            return true;
    }
    return false;
}

/* The system of the id of a Patient the message does not hold. A relative
 * reference is relative to the sender's own server (FHIR R4
 * Reference.reference): its id is scoped by the sender (pid_system). An
 * absolute URL "resolves to the location where the resource is found",
 * another server's as often as not (Denmark's eHealth CarePlan service
 * names its patients on the patient service): the id is that server's, so
 * the system is the URL up to the type ("https://x.org/fhir/Patient"),
 * never the sender's scope, where the same number would be another of the
 * sender's patients. `t` is the type in `ref` (fx_ref_type_id). */
static const char *unheld_patient_system(struct fx *x, const char *ref,
                                         struct slice t)
{
    if (strncmp(ref, "http://", 7) != 0 && strncmp(ref, "https://", 8) != 0)
        return x->pid_system;
    return arena_strndup(x->a, ref, (size_t)(t.p - ref) + t.len);
}

/*
 * A patient named by a conditional reference, "Patient?identifier=
 * [system|]value" (R4 http.html "Conditional References", the search
 * parameter's token syntax): the identifier a logical reference would
 * carry, percent-decoded (RFC 3986 2.1: "|" is often sent as %7C). The
 * hub holds no resources to search, so only that one parameter names a
 * patient it can link: a search by name and birth date is no identifier
 * (README, "Linking a person"), and refused with the place.
 */
static int conditional_patient(struct fx *x, const char *key,
                               const char *query, struct slice *out)
{
    static const char pfx[] = "identifier=";
    size_t old = fx_key(x, key);
    fx_key(x, "reference");
    if (strncmp(query, pfx, sizeof(pfx) - 1) != 0 ||
        strchr(query, '&') != NULL)
        return fx_fail(x, HUB_EINVALID, "conditional reference to a patient "
                                        "by other than one identifier");
    const char *tok = query + sizeof(pfx) - 1;
    size_t n = strlen(tok), k = 0;
    char *d = arena_alloc(x->a, n + 1);
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)tok[i];
        if (c == '%') {
            int hi = i + 2 < n ? hex_digit((unsigned char)tok[i + 1]) : -1;
            int lo = hi >= 0 ? hex_digit((unsigned char)tok[i + 2]) : -1;
            c = lo < 0 ? -1 : hi * 16 + lo;
            i += 2;
        }
        /* a control character (or a bare space) is no identifier's */
        if (c <= ' ')
            return fx_fail(x, HUB_EINVALID, "conditional reference has a "
                                            "bad percent-encoding");
        d[k++] = (char)c;
    }
    d[k] = '\0';
    /* "%FF" decodes to no character: written, it would become U+FFFD,
     * one identifier for every such value (F1824) */
    if (utf8_valid_prefix((const unsigned char *)d, k) != k)
        return fx_fail(x, HUB_EINVALID, "conditional reference has a "
                                        "bad percent-encoding");
    /* then the search's own syntax (R4 search.html, "Escaping Search
     * Parameters"): a ',' joins values by OR, a search of several
     * identifiers, which names no one patient (F1823); "\," "\|" "\$"
     * "\\" stand for the character; the first '|' ends the system */
    struct fx_ident id = { 0 };
    char *bar = NULL;
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (d[i] == '\\' && i + 1 < k && strchr("\\|,$", d[i + 1]) != NULL) {
            d[m++] = d[++i];
            continue;
        }
        if (d[i] == ',')
            return fx_fail(x, HUB_EINVALID, "conditional reference to a "
                                            "patient by other than one "
                                            "identifier");
        if (d[i] == '|' && bar == NULL) {
            bar = d + m;
            d[m++] = '\0';
            continue;
        }
        /* a token is [system]|value: a second '|' the sender did not
         * escape ("\|") makes none (it was read as part of the value,
         * F1829) */
        if (d[i] == '|')
            return fx_fail(x, HUB_EINVALID, "conditional reference has a "
                                            "second '|' in its identifier");
        d[m++] = d[i];
    }
    d[m] = '\0';
    if (bar) {
        id.system = d[0] ? d : NULL;
        id.value = bar + 1;
    } else {
        id.value = d;           /* no system: the sender's own number */
    }
    if (id.value[0] == '\0')
        return fx_fail(x, HUB_EINVALID, "conditional reference names no "
                                        "identifier value");
    ident_check(x, &id, NULL);
    fx_pop(x, old);
    if (id.value == NULL) {     /* an SSN never issued, left out */
        fx_key(x, key);
        return fx_fail(x, HUB_EINVALID, "no patient reference (neither "
                                        "reference nor identifier.value)");
    }
    struct jw w;
    jw_init(&w, x->a, 64 * 1024);
    jw_obj_begin(&w);
    jw_key(&w, "identifiers");
    jw_arr_begin(&w);
    write_identifier(&w, &id);
    jw_arr_end(&w);
    jw_obj_end(&w);
    if (jw_finish(&w, out) != HUB_OK)
        return fx_fail(x, HUB_ELIMIT, "patient is larger than the limit");
    return HUB_OK;
}

int fx_patient(struct fx *x, const cJSON *res, const char *key,
               struct slice *out)
{
    const cJSON *refobj = fx_get(res, key);
    const char *cref = cJSON_IsObject(refobj)
                           ? cJSON_GetStringValue(fx_get(refobj, "reference"))
                           : NULL;
    struct slice ctype;
    const char *cq;
    if (cref && fx_ref_conditional(cref, &ctype, &cq) &&
        slice_eq(ctype, "Patient"))
        return conditional_patient(x, key, cq, out);
    /* the refusal is right, its words were not ("reference is not to a
     * Patient": F1829) */
    if (cref && fx_ref_abs_conditional(cref, &ctype) &&
        slice_eq(ctype, "Patient")) {
        fx_key(x, key);
        fx_key(x, "reference");
        return fx_fail(x, HUB_EINVALID, "conditional reference is absolute: "
                                        "R4 defines only relative ones "
                                        "(Patient?identifier=...)");
    }
    const char *ref;
    int rc = fx_ref(x, res, key, false, &ref);
    if (rc)
        return rc;
    if (ref == NULL) {
        /* a logical reference: the patient by identifier alone */
        const char *rt;
        bool wrote = false;
        struct jw w;
        size_t old = fx_key(x, key);
        if ((rc = fx_str(x, refobj, "type", false, &rt)))
            return rc;
        if (rt && strcmp(rt, "Patient") != 0)
            return fx_fail(x, HUB_EINVALID, "reference is not to a Patient");
        fx_pop(x, old);
        jw_init(&w, x->a, 64 * 1024);
        jw_obj_begin(&w);
        jw_key(&w, "identifiers");
        jw_arr_begin(&w);
        if ((rc = ref_identifier(x, &w, refobj, key, &wrote)))
            return rc;
        jw_arr_end(&w);
        jw_obj_end(&w);
        if (!wrote) {
            fx_key(x, key);
            return fx_fail(x, HUB_EINVALID,
                           withheld(refobj)
                               ? "no patient: the sender withheld the "
                                 "reference (data-absent-reason)"
                               : "no patient reference (neither "
                                 "reference nor identifier.value)");
        }
        if (jw_finish(&w, out) != HUB_OK)
            return fx_fail(x, HUB_ELIMIT, "patient is larger than the limit");
        return HUB_OK;
    }
    if (ref[0] == '#') {
        /* a Patient contained in the resource (SDC forms do this) */
        size_t ci;
        const cJSON *c = fx_contained(x, res, ref, &ci);
        const cJSON *ct = fx_get(c, "resourceType");
        if (!cJSON_IsString(ct) || strcmp(ct->valuestring, "Patient") != 0) {
            fx_key(x, key);
            return fx_fail(x, HUB_EINVALID, c ? "reference is not to a Patient"
                                              : "contained resource not found");
        }
        struct fx_entry ce = { .res = c, .type = "Patient" };
        struct jw w;
        jw_init(&w, x->a, 256 * 1024);
        jw_obj_begin(&w);
        if ((rc = write_patient_resource(x, &w, &ce, (long)ci)))
            return rc;
        jw_obj_end(&w);
        if (jw_finish(&w, out) != HUB_OK)
            return fx_fail(x, HUB_ELIMIT, "patient is larger than the limit");
        return HUB_OK;
    }
    struct fx_entry *pe = fx_resolve(x, ref);
    struct slice t, id;
    bool named = strncmp(ref, "urn:", 4) != 0 && fx_ref_type_id(ref, &t, &id);
    if ((pe && strcmp(pe->type, "Patient") != 0) ||
        (!pe && (!named || !slice_eq(t, "Patient")))) {
        fx_key(x, key);
        return fx_fail(x, HUB_EINVALID, "reference is not to a Patient");
    }
    struct jw w;
    jw_init(&w, x->a, 256 * 1024);
    jw_obj_begin(&w);
    if (pe) {
        if ((rc = write_patient_resource(x, &w, pe, -1)))
            return rc;
    } else {
        jw_key(&w, "identifiers");
        jw_arr_begin(&w);
        jw_obj_begin(&w);
        jw_kv_str(&w, "value", id);
        jw_kv_cstr(&w, "system", unheld_patient_system(x, ref, t));
        jw_kv_cstr(&w, "type", "fhir-id");
        jw_obj_end(&w);
        /* the MRN beside the id, when the reference gives both: the
         * Patient is not in the message, so it is all there is of it */
        bool wrote;
        if ((rc = ref_identifier(x, &w, refobj, key, &wrote)))
            return rc;
        jw_arr_end(&w);
    }
    jw_obj_end(&w);
    if (jw_finish(&w, out) != HUB_OK)
        return fx_fail(x, HUB_ELIMIT, "patient is larger than the limit");
    return HUB_OK;
}
