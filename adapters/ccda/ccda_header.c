/*
 * ccda_header.c - the C-CDA header: the patient (ids, names, addresses,
 * phones, birth, sex), written once as JSON that each event copies; the
 * custodian, author and encompassing encounter organizations; the
 * encounter's id and period; the document's id, set id, time and
 * confidentiality, and whether it is a care plan.
 */
#include "ccda/ccda_doc.h"

#include <strings.h>

#include "common/idsys.h"
#include "common/natid.h"
#include "common/postal.h"
#include "common/ssn.h"

/* template ids (C-CDA R2.1) */
#define T_CARE_PLAN_DOC "2.16.840.1.113883.10.20.22.1.15"
#define T_US_REALM_HEADER "2.16.840.1.113883.10.20.22.1.1"

#define CONFIDENTIALITY_SYSTEM \
    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"

/* The next code of a set<CS> attribute (data types R1: codes separated by
 * blanks) from `u` on, its length in *n; NULL when none is left. */
static const char *next_set_code(const char *u, size_t *n)
{
    while (u && (*u == ' ' || *u == '\t' || *u == '\n' || *u == '\r'))
        u++;
    if (u == NULL || *u == '\0')
        return NULL;
    *n = 0;
    while (u[*n] && u[*n] != ' ' && u[*n] != '\t' && u[*n] != '\n' &&
           u[*n] != '\r')
        (*n)++;
    return u;
}

/* EN/@use is a set of EntityNameUse codes (CDA R2 data types R1: a list
 * separated by blanks, "L IDE"). Its first use code gives the canonical
 * use; its first representation code (ABC alphabetic, e.g. romaji; IDE
 * ideographic, kanji; SYL syllabic, kana: JAHIS CDA sends each name twice,
 * IDE and SYL) the canonical representation (HL7 v2 XPN-8 A, I, P). */
static void name_use(const char *u, const char **use, const char **repr)
{
    static const struct {
        const char *code, *val;
        bool repr;
    } map[] = {
        { "L", "official", false },     { "P", "nickname", false },
        { "ASGN", "usual", false },     { "ABC", "alphabetic", true },
        { "IDE", "ideographic", true }, { "SYL", "phonetic", true },
    };
    *use = *repr = NULL;
    size_t n;
    for (const char *c = next_set_code(u, &n); c; c = next_set_code(c + n, &n))
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
            const char **slot = map[i].repr ? repr : use;
            if (*slot == NULL && strlen(map[i].code) == n &&
                memcmp(map[i].code, c, n) == 0)
                *slot = map[i].val;
        }
}

/* AD/@use and TEL/@use are sets too ("H WP": home and work, as the CDC's
 * eICR sends; F3601): the first code the hub knows gives the one use the
 * canonical address or phone has. */
static const char *addr_use(const char *u)
{
    static const struct {
        const char *code, *val;
    } map[] = {
        { "H", "home" },  { "HP", "home" },   { "HV", "home" },
        { "WP", "work" }, { "DIR", "work" },  { "PUB", "work" },
        { "TMP", "temp" }, { "BAD", "old" },  { "OLD", "old" },
        { "MC", "mobile" },
    };
    size_t n;
    const char *use = NULL;
    for (const char *c = next_set_code(u, &n); c; c = next_set_code(c + n, &n))
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
            if (strlen(map[i].code) == n && memcmp(map[i].code, c, n) == 0) {
                /* BAD or OLD says of the whole address that it is not to
                 * be used: "H OLD" is a home one no longer in use (F3701) */
                if (strcmp(map[i].val, "old") == 0)
                    return map[i].val;
                if (use == NULL)
                    use = map[i].val;
            }
    return use;
}

static void kv_text(struct doc *dc, struct jw *w, const char *key,
                    const struct ccda_node *n)
{
    if (n && !ccda_null(n))
        jw_kv_str(w, key, ccda_text(dc->a, n));
}

/* Whether `n` has a child element `name` with text that is not a null. */
static bool child_has_text(struct doc *dc, const struct ccda_node *n,
                           const char *name)
{
    CCDA_FOREACH(c, n, name)
        if (!ccda_null(c) && !slice_empty(ccda_text(dc->a, c)))
            return true;
    return false;
}

/* Whether write_name() has a name to write: a part with text, or the text
 * of an unstructured name. Vendors send <name nullFlavor="UNK"/> and names
 * of null parts; the canonical name and names array are never empty. */
static bool name_has_content(struct doc *dc, const struct ccda_node *nm)
{
    if (ccda_null(nm))
        return false;
    if (ccda_first_elem(nm) == NULL)
        return !slice_empty(ccda_text(dc->a, nm));
    return child_has_text(dc, nm, "family") ||
           child_has_text(dc, nm, "given") ||
           child_has_text(dc, nm, "prefix") ||
           child_has_text(dc, nm, "suffix");
}

/* The same for write_addr() (<addr nullFlavor="NI"/>, as Cerner sends). */
static bool addr_has_content(struct doc *dc, const struct ccda_node *ad)
{
    static const char *const parts[] = { "streetAddressLine", "city",
        "state", "postalCode", "county", "country" };
    if (ccda_null(ad))
        return false;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (child_has_text(dc, ad, parts[i]))
            return true;
    return false;
}

/* Whether the set of codes `q` (ENXP/@qualifier, space-separated) holds
 * `code`. */
static bool qualifier_has(const char *q, const char *code)
{
    size_t len = strlen(code);

    while (q && *q) {
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        size_t n = 0;
        while (q[n] && q[n] != ' ' && q[n] != '\t' && q[n] != '\n' &&
               q[n] != '\r')
            n++;
        if (n == len && memcmp(q, code, n) == 0)
            return true;
        q += n;
    }
    return false;
}

/* A given name part the person is called by (qualifier CL, "callme": the
 * Progress Note's "Adam" with "Frankie"). */
static bool given_is_callme(const struct ccda_node *g)
{
    return qualifier_has(ccda_attr(g, "qualifier"), "CL");
}

/* Whether the given part `g` belongs in the call-me name (`callme`) or in
 * the legal name. In a US Realm document a CL part is no part of the legal
 * name (F100: HL7's US examples call "Adam" "Frankie"); elsewhere it marks
 * which legal given name is the call name (the Finnish kutsumanimi, the
 * German Rufname: the eHDSI ePrescription's "Katriina", F3640), so the
 * legal name keeps it where it stands. */
static bool given_in_name(const struct doc *dc, const struct ccda_node *g,
                          bool callme)
{
    if (callme)
        return given_is_callme(g);
    return !dc->us_realm || !given_is_callme(g);
}

/* The name `nm`: its family, given parts (those of the call-me name or of
 * the legal name, given_in_name), prefix, suffix, and `use` (NULL: EN/@use's
 * own). */
static void write_name_parts(struct doc *dc, struct jw *w,
                             const struct ccda_node *nm, bool callme,
                             const char *use)
{
    bool given = false;
    struct slice fam = SLICE_NULL;

    jw_obj_begin(w);
    CCDA_FOREACH(f, nm, "family") {
        struct slice s = ccda_text(dc->a, f);
        if (!slice_empty(s) && slice_empty(fam))
            fam = s;
    }
    if (slice_empty(fam) && ccda_first_elem(nm) == NULL)
        fam = ccda_text(dc->a, nm);     /* unstructured <name>text</name> */
    jw_kv_str(w, "family", fam);
    CCDA_FOREACH(g, nm, "given") {
        struct slice s = ccda_text(dc->a, g);
        if (slice_empty(s) || !given_in_name(dc, g, callme))
            continue;
        jw_arr_lazy(w, "given", &given);
        jw_str(w, s);
    }
    jw_arr_end_if(w, given);
    if (!callme) {
        kv_text(dc, w, "prefix", ccda_child(nm, "prefix"));
        kv_text(dc, w, "suffix", ccda_child(nm, "suffix"));
    }
    const char *own, *repr;
    name_use(ccda_attr(nm, "use"), &own, &repr);
    jw_kv_cstr(w, "use", use ? use : own);
    jw_kv_cstr(w, "representation", repr);
    jw_obj_end(w);
}

/* A person name. A given part qualified CL is the name the person is
 * called by (HL7 v3 EntityNamePartQualifier): it is written as a name of
 * its own, the same family with that given and use nickname, as C-CDA to
 * FHIR converters map it; whether the legal name keeps it too is
 * given_in_name's to say. */
static void write_name(struct doc *dc, struct jw *w, const struct ccda_node *nm)
{
    bool plain = false, callme = false;

    CCDA_FOREACH(g, nm, "given") {
        if (slice_empty(ccda_text(dc->a, g)))
            continue;
        if (given_is_callme(g))
            callme = true;
        if (given_in_name(dc, g, false))
            plain = true;
    }
    if (plain || !callme)
        write_name_parts(dc, w, nm, false, NULL);
    if (callme)
        write_name_parts(dc, w, nm, true, "nickname");
}

static void write_addr(struct doc *dc, struct jw *w, const struct ccda_node *ad)
{
    bool lines = false;

    jw_obj_begin(w);
    CCDA_FOREACH(l, ad, "streetAddressLine") {
        struct slice s = ccda_text(dc->a, l);
        if (slice_empty(s))
            continue;
        jw_arr_lazy(w, "lines", &lines);
        jw_str(w, s);
    }
    jw_arr_end_if(w, lines);
    kv_text(dc, w, "city", ccda_child(ad, "city"));
    kv_text(dc, w, "state", ccda_child(ad, "state"));
    const struct ccda_node *zip = ccda_child(ad, "postalCode");
    if (zip && !ccda_null(zip))
        jw_kv_str(w, "postal_code", postal_code(ccda_text(dc->a, zip)));
    kv_text(dc, w, "county", ccda_child(ad, "county"));
    kv_text(dc, w, "country", ccda_child(ad, "country"));
    jw_kv_cstr(w, "use", addr_use(ccda_attr(ad, "use")));
    jw_obj_end(w);
}

/* The system of root: a national one's FHIR URI (idsys_national), so that
 * the same number sent as C-CDA, FHIR and HL7 v2 links to the same person
 * (identity reads system + value), with its type in *type; else the root
 * as a URI. */
static const char *id_system(const char *root, char *buf, size_t cap,
                             const char **type)
{
    const struct idsys_national *nat = idsys_national(slice_from_cstr(root));
    *type = NULL;
    if (nat) {
        *type = nat->type;
        return nat->uri;
    }
    return ccda_system_uri(root, buf, cap);
}

/* One identifier object; false when the id is unusable. An SSN that the
 * SSA never issues (a placeholder, a masked one) is unusable: it would
 * link strangers; it is noted in dc->ssn_left_out for a warning. So is a
 * root alone that is one of id_systems (an Agastha certification CCD sends
 * the patient as <id root="2.16.840.1.113883.4.1"/>): that OID names the
 * SSN system, never one person, and as an RFC 3986 id it would join every
 * patient sent so (dc->sys_left_out). So is a root in the hub's own
 * space with an extension (dc->hub_left_out). */
/* Whether a patientRole's ids are all nullFlavor NA, "not applicable":
 * what a population report (NHSN's HAI summaries) sends in place of a
 * patient, beside no patient element. A document about no one patient is
 * a kind the hub does not take, not a patient's document sent wrong
 * (F3981). */
static bool ids_not_applicable(const struct ccda_node *pr)
{
    bool any = false;

    CCDA_FOREACH(id, pr, "id") {
        if (!ccda_attr_eq(id, "nullFlavor", "NA"))
            return false;
        any = true;
    }
    return any;
}

static bool write_ident(struct doc *dc, struct jw *w,
                        const struct ccda_node *id)
{
    const char *root = ccda_attr(id, "root");
    const char *ext = ccda_attr(id, "extension");

    if (ccda_null(id) || root == NULL || *root == '\0')
        return false;
    if (ext && *ext) {
        char sys[300];
        const char *type;
        const char *system = id_system(root, sys, sizeof(sys), &type);
        /* a root in the hub's own space names some organization's
         * scope, another's as easily as the sender's (F2240) */
        if (system && idsys_is_hub(slice_from_cstr(system))) {
            dc->hub_left_out = id;
            return false;
        }
        char ssn[9];
        bool is_ssn = system && strcmp(system, SSN_SYSTEM) == 0;
        if (is_ssn && !ssn_usable(ext, strlen(ext), ssn)) {
            dc->ssn_left_out = id;
            return false;
        }
        jw_obj_begin(w);
        if (is_ssn)
            jw_kv_str(w, "value", (struct slice){ ssn, sizeof(ssn) });
        else
            jw_kv_cstr(w, "value", ext);
        jw_kv_cstr(w, "system", system);
        jw_kv_cstr(w, "type", type);
        /* a national number that fails its check digit was never issued:
         * kept as sent, but never linked on (F744) */
        const char *flaw = is_ssn ? NULL
                                  : natid_flaw(slice_from_cstr(system),
                                               slice_from_cstr(type),
                                               slice_from_cstr(ext));
        if (flaw) {
            jw_key(w, "inactive");
            jw_bool(w, true);
            dc->nat_unlinked = id;
            dc->nat_flaw = flaw;
        }
    } else {
        /* root alone is the identifier (RFC 3986 form, as C-CDA on FHIR),
         * unless it is a system that needs a number */
        const char *type;
        char sys[300];
        const char *as = id_system(root, sys, sizeof(sys), &type);
        if (type) {
            dc->sys_left_out = id;
            return false;
        }
        /* a root past ccda_ii_string's 256 bytes has no value to write:
         * an identifier without one broke the schema (F721) */
        const char *value = ccda_ii_string(dc->a, id);
        if (value == NULL)
            return false;
        jw_obj_begin(w);
        jw_kv_cstr(w, "value", value);
        /* an OID, a UUID or a URI is an RFC 3986 id for everyone; a root
         * that id_system keeps as sent ("PatientExample") is no URI but
         * the sender's own name: no system, so identity scopes it by the
         * sender (F621) */
        if (as != root || idsys_is_uri(slice_from_cstr(root)))
            jw_kv_cstr(w, "system", "urn:ietf:rfc:3986");
    }
    jw_obj_end(w);
    return true;
}

static int read_patient(struct doc *dc)
{
    const struct ccda_node *rt = ccda_child(dc->root, "recordTarget");
    const struct ccda_node *pr = ccda_child(rt, "patientRole");
    const struct ccda_node *pt = ccda_child(pr, "patient");
    struct jw w;
    size_t n_id = 0;
    char tmp[48];

    if (rt == NULL)
        return ccda_err_at(dc->err, dc->a, HUB_EINVALID, dc->root,
                           "recordTarget", "document has no recordTarget");
    if (ccda_next(rt, "recordTarget"))
        return ccda_err_at(dc->err, dc->a, HUB_EUNSUPPORTED,
                           ccda_next(rt, "recordTarget"), NULL,
                           "more than one recordTarget");
    if (pr == NULL)
        return ccda_err_at(dc->err, dc->a, HUB_EINVALID, rt, "patientRole",
                           "recordTarget has no patientRole");
    jw_init(&w, dc->a, CCDA_MAX_PATIENT);
    jw_obj_begin(&w);
    jw_key(&w, "identifiers");
    jw_arr_begin(&w);
    CCDA_FOREACH(id, pr, "id")
        if (write_ident(dc, &w, id))
            n_id++;
    if (n_id == 0 &&
        (dc->ssn_left_out || dc->sys_left_out || dc->hub_left_out)) {
        /* the only id was an SSN no one holds, or a system with no
         * number: the patient is known by this document alone and links
         * to no one, a missed link rather than strangers joined. Its id,
         * with no system: the sender's own (identity scopes it to the
         * sending organization), so another sender's document can never
         * share it. Not the setId, which versions share: senders fill it
         * from a template (Agastha's certification CCDs all send HL7's
         * example setId, F132), and one constant setId would join every
         * unidentified patient of the sender; a document id used again for
         * other bytes is refused (F98). */
        jw_obj_begin(&w);
        jw_kv_cstr(&w, "value", dc->message_id);
        jw_obj_end(&w);
        n_id++;
    }
    jw_arr_end(&w);
    if (n_id == 0 && pt == NULL && ids_not_applicable(pr))
        return ccda_err_at(dc->err, dc->a, HUB_EUNSUPPORTED, pr, "id",
                           "document is about no one patient (patient id "
                           "not applicable): a population report");
    if (n_id == 0)
        return ccda_err_at(dc->err, dc->a, HUB_EINVALID, pr, "id",
                           "patient has no usable id");
    bool open = false;
    CCDA_FOREACH(nm, pt, "name") {
        if (!name_has_content(dc, nm))
            continue;
        jw_arr_lazy(&w, "names", &open);
        write_name(dc, &w, nm);
    }
    jw_arr_end_if(&w, open);
    const struct ccda_node *bt = ccda_child(pt, "birthTime");
    if (bt && !ccda_null(bt)) {
        /* A birth time that is no TS (a template's field name, a date in
         * another form) is left out with a warning, and the document kept,
         * as HL7 v2 keeps a message whose PID-7 is no date: the entries
         * are the sender's record of the visit, the patient is linked by
         * the ids above, and a refusal would lose every screening and
         * referral for one header field (F173). */
        if (ccda_ts_date(ccda_attr(bt, "value"), tmp, sizeof(tmp)))
            jw_kv_cstr(&w, "birth_date", tmp);
        else
            dc->birth_left_out = bt;
    }
    const char *g = ccda_attr(ccda_child(pt, "administrativeGenderCode"),
                              "code");
    if (g) {
        /* HL7 v3 AdministrativeGender: F, M, UN (undifferentiated) */
        const char *sex = strcmp(g, "F") == 0   ? "F"
                          : strcmp(g, "M") == 0 ? "M"
                          : strcmp(g, "UN") == 0 ? "O"
                                                 : "U";
        jw_kv_cstr(&w, "sex", sex);
    } else if (ccda_child(pt, "administrativeGenderCode")) {
        jw_kv_cstr(&w, "sex", "U");
    }
    open = false;
    CCDA_FOREACH(ad, pr, "addr") {
        if (!addr_has_content(dc, ad))
            continue;
        jw_arr_lazy(&w, "addresses", &open);
        write_addr(dc, &w, ad);
    }
    jw_arr_end_if(&w, open);
    bool phones = false;
    CCDA_FOREACH(t, pr, "telecom") {
        const char *v = ccda_attr(t, "value");
        /* a URI scheme is case-insensitive (RFC 3986 3.1): NextTech
         * writes "TEL: (555) 723-1544" (F2182) */
        if (v == NULL || strncasecmp(v, "tel:", 4) != 0 || v[4] == '\0')
            continue;
        jw_arr_lazy(&w, "phones", &phones);
        jw_obj_begin(&w);
        jw_kv_str(&w, "value", slice_trim(slice_from_cstr(v + 4)));
        jw_kv_cstr(&w, "use", addr_use(ccda_attr(t, "use")));
        jw_obj_end(&w);
    }
    jw_arr_end_if(&w, phones);
    for (const struct ccda_node *c = pt ? pt->children : NULL; c; c = c->next) {
        if (ccda_is_ns(c, CCDA_NS_SDTC, "deceasedInd") &&
            ccda_attr_eq(c, "value", "true"))
        {
            jw_key(&w, "deceased");
            jw_bool(&w, true);
        }
        if (ccda_is_ns(c, CCDA_NS_SDTC, "deceasedTime") &&
            ccda_ts_iso(ccda_attr(c, "value"), tmp, sizeof(tmp)))
            jw_kv_cstr(&w, "deceased_at", tmp);
    }
    jw_obj_end(&w);
    if (jw_finish(&w, &dc->patient) != HUB_OK)
        return ccda_err_at(dc->err, dc->a, HUB_ELIMIT, pr, NULL,
                           "patient larger than the limit");
    return HUB_OK;
}

/* Whether the document claims the US realm: a realmCode US on the
 * ClinicalDocument (CDA R2: a set, any of its codes), or the US Realm
 * Header's templateId there, whatever its extension (R1.1 none, R2.1
 * 2015-08-01). Nothing else is read as that claim: a document template of
 * C-CDA alone, an entry's template or a US address is no claim, and the
 * reading outside the claim (given_in_name) keeps every given name sent. */
static bool claims_us_realm(const struct ccda_node *root)
{
    if (ccda_has_template(root, T_US_REALM_HEADER))
        return true;
    CCDA_FOREACH(r, root, "realmCode")
        if (ccda_attr_eq(r, "code", "US"))
            return true;
    return false;
}

int ccda_read_header(struct doc *dc, struct slice *message_id)
{
    const struct ccda_node *root = dc->root;
    const struct ccda_node *id = ccda_child(root, "id");
    const struct ccda_node *et = ccda_child(root, "effectiveTime");

    dc->message_id = ccda_ii_string(dc->a, id);
    if (dc->message_id == NULL)
        return ccda_err_at(dc->err, dc->a, HUB_EINVALID, id ? id : root,
                           id ? NULL : "id", "document has no usable id");
    *message_id = slice_from_cstr(dc->message_id);
    dc->set_id = ccda_ii_string(dc->a, ccda_child(root, "setId"));
    if (et == NULL || !ccda_ts_iso(ccda_attr(et, "value"), dc->time,
                                   sizeof(dc->time)))
        return ccda_err_at(dc->err, dc->a, HUB_EINVALID, et ? et : root,
                           et ? "@value" : "effectiveTime",
                           "document effectiveTime missing or not an HL7 TS");
    const struct ccda_node *cust = ccda_path(
        root, "custodian/assignedCustodian/representedCustodianOrganization");
    dc->facility = ccda_text(dc->a, ccda_child(cust, "name"));
    CCDA_FOREACH(au, root, "author") {
        const struct ccda_node *org = ccda_path(au, "assignedAuthor/"
                                           "representedOrganization/name");
        dc->author_org = ccda_text(dc->a, org);
        if (!slice_empty(dc->author_org))
            break;
    }
    if (slice_empty(dc->facility))
        dc->facility = dc->author_org;
    /* CDA R2 componentOf/encompassingEncounter: the organization of the
     * party responsible for the encounter, else the one that provides the
     * service at its facility */
    const struct ccda_node *enc =
        ccda_path(root, "componentOf/encompassingEncounter");
    dc->encounter_id = ccda_ii_string(dc->a, ccda_child(enc, "id"));
    /* its period (a value is one moment; low and high bound an interval):
     * kept to tell a screening the document only carries (F141) */
    const struct ccda_node *eet = ccda_child(enc, "effectiveTime");
    const char *elo = ccda_attr(eet, "value"), *ehi = elo;
    if (elo == NULL) {
        elo = ccda_attr(ccda_child(eet, "low"), "value");
        ehi = ccda_attr(ccda_child(eet, "high"), "value");
    }
    if (elo == NULL || !ccda_ts_iso(elo, dc->enc_lo, sizeof(dc->enc_lo)))
        dc->enc_lo[0] = '\0';
    if (ehi == NULL || !ccda_ts_iso(ehi, dc->enc_hi, sizeof(dc->enc_hi)))
        dc->enc_hi[0] = '\0';
    dc->encounter_org = ccda_text(
        dc->a, ccda_path(enc, "responsibleParty/assignedEntity/"
                              "representedOrganization/name"));
    if (slice_empty(dc->encounter_org))
        dc->encounter_org = ccda_text(
            dc->a, ccda_path(enc, "location/healthCareFacility/"
                                  "serviceProviderOrganization/name"));
    const struct ccda_node *conf = ccda_child(root, "confidentialityCode");
    const char *cc = ccda_attr(conf, "code");
    if (cc)
        strset_add(dc->doc_sens, &dc->n_doc_sens,
                   sizeof(dc->doc_sens) / sizeof(dc->doc_sens[0]),
                   dict_security_label(dc->d,
                                       SLICE_LIT(CONFIDENTIALITY_SYSTEM),
                                       slice_from_cstr(cc)));
    dc->care_plan = ccda_has_template(root, T_CARE_PLAN_DOC) ||
                    (ccda_code_of(root) &&
                     strcmp(ccda_code_of(root), "52521-2") == 0);
    dc->us_realm = claims_us_realm(root);
    return read_patient(dc);
}
