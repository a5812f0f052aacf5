/*
 * ccda_event.c - one canonical event of a C-CDA document: its envelope
 * (source, time, the patient JSON written once by the header), its security
 * labels (the document's, the section's, the entry's own), its warnings,
 * and the limits on what one document can make; and the SDOH domain of a
 * coded value (an ICD-10 Z code, else a SNOMED CT finding), which every
 * kind of entry asks.
 */
#include "ccda/ccda_doc.h"

#include "common/idsys.h"
#include "common/ssn.h"

/* HL7 CDA R2 IG: Data Segmentation for Privacy (DS4P) */
#define T_SECURITY_OBS "2.16.840.1.113883.3.445.21"

/* The hub label of a security label the document codes: a
 * confidentialityCode, or the value of a DS4P Security Observation. By its
 * code in any system (dict_security_label): DS4P senders give the same
 * codes under Confidentiality, ActCode, ObservationValue (5.1063) or the
 * OID of a value set (1.11.20428), and no two of them share a code. */
static const char *code_label(const struct doc *dc, const struct ccda_node *cd)
{
    const char *c = ccda_attr(cd, "code");

    return c ? dict_security_label(dc->d, SLICE_NULL,
                                   slice_from_cstr(c))
             : NULL;
}

/* The labels inside `n`: confidentialityCodes of its clinical statements
 * and the values of its Security Observations (DS4P Privacy Annotations,
 * an entryRelationship of the statement they label). */
static void labels_within(const struct doc *dc, const char **set,
                          size_t *n_set, size_t cap, const struct ccda_node *n,
                          int depth)
{
    if (depth > CCDA_MAX_DEPTH)
        return;
    for (const struct ccda_node *c = n->children; c; c = c->next) {
        if (c->type != CCDA_ELEMENT || ccda_is(c, "text"))
            continue;
        if (ccda_is(c, "confidentialityCode"))
            strset_add(set, n_set, cap, code_label(dc, c));
        else if (ccda_is(c, "observation") &&
                 ccda_has_template(c, T_SECURITY_OBS))
            strset_add(set, n_set, cap, code_label(dc, ccda_child(c, "value")));
        else
            labels_within(dc, set, n_set, cap, c, depth + 1);
    }
}

/* F96: what labels the part of the body an event comes from, beyond the
 * header: the confidentialityCode of every section around `n` (a DS4P
 * Privacy Segmented Section), and the labels inside the entry that holds
 * `n`. The header's confidentiality alone let a restricted section, or a
 * substance use entry marked ETH in a normal document, go where it must
 * not. A label too many only holds data back. */
void ccda_entry_labels(const struct doc *dc, struct ev *e,
                       const struct ccda_node *n)
{
    const size_t cap = sizeof(e->sens) / sizeof(e->sens[0]);
    const struct ccda_node *top = NULL;

    for (const struct ccda_node *p = n; p && p != dc->root; p = p->parent) {
        if (p->parent && ccda_is(p->parent, "entry"))
            top = p;
        if (ccda_is(p, "section"))
            strset_add(e->sens, &e->n_sens, cap,
                       code_label(dc, ccda_child(p, "confidentialityCode")));
    }
    if (top) {
        strset_add(e->sens, &e->n_sens, cap,
                   code_label(dc, ccda_child(top, "confidentialityCode")));
        labels_within(dc, e->sens, &e->n_sens, cap, top, 0);
    }
}

void ccda_doc_labels(struct doc *dc, const struct ccda_node *sec)
{
    labels_within(dc, dc->doc_sens, &dc->n_doc_sens,
                  sizeof(dc->doc_sens) / sizeof(dc->doc_sens[0]), sec, 0);
}

/* Coding `c` has a code in ICD-10: ICD-10-CM's OID, WHO ICD-10's
 * (2.16.840.1.113883.6.3) or any name dict_is_icd10 knows, as HL7 v2 and
 * FHIR read a Z code (F3084; zcodes.json's rows are the same in both).
 * ICD-10-CM's OID, what US documents send, and SNOMED CT's, the other
 * coding of most problems, are told without the list. */
static bool icd10_coded(const struct ccda_node *c)
{
    const char *sys = ccda_attr(c, "codeSystem");
    if (sys == NULL)
        return false;
    bool icd10 = strcmp(sys, OID_ICD10CM) == 0 ||
                 (strcmp(sys, OID_SNOMED) != 0 &&
                  dict_is_icd10(slice_from_cstr(sys)));
    return icd10 && ccda_attr(c, "code") != NULL;
}

/* The ICD-10 code of a coded value: itself or one of its translations.
 * A value of nullFlavor OTH ("concept not provided by required code
 * system", HL7 v3 NullFlavor) has no code of its own but may carry the
 * concept in its translations: EHRs without a SNOMED CT code for a
 * problem send it that way, the ICD code as a translation (Cerner's
 * sample CCD does so for every problem). */
static const struct ccda_node *icd10_of(const struct ccda_node *v)
{
    if (v == NULL || !value_cd_type(v) || value_null(v))
        return NULL;
    if (!value_coded(v) && !ccda_attr_eq(v, "nullFlavor", "OTH"))
        return NULL;
    if (icd10_coded(v))
        return v;
    CCDA_FOREACH(t, v, "translation")
        if (icd10_coded(t))
            return t;
    return NULL;
}

static const char *z_domain(struct doc *dc, const struct ccda_node *icd)
{
    if (icd == NULL)
        return NULL;
    return dict_icd10_domain(dc->d, slice_from_cstr(ccda_attr(icd, "code")));
}

/* The domain snomed-domains.json gives coding `c` when it is SNOMED CT,
 * or NULL. */
static const char *snomed_domain(struct doc *dc, const struct ccda_node *c)
{
    const char *sys = ccda_attr(c, "codeSystem"), *code = ccda_attr(c, "code");
    if (sys == NULL || code == NULL || !dict_is_snomed(slice_from_cstr(sys)))
        return NULL;
    return dict_snomed_domain(dc->d, slice_from_cstr(code));
}

/* The SNOMED CT coding of code `c` (itself or a translation, as
 * icd10_of) that snomed-domains.json gives a domain, into *dom; NULL (and
 * *dom NULL) when none does. */
const struct ccda_node *ccda_snomed_coding(struct doc *dc,
                                           const struct ccda_node *c,
                                           const char **dom)
{
    if ((*dom = snomed_domain(dc, c)))
        return c;
    CCDA_FOREACH(t, c, "translation") {
        if ((*dom = snomed_domain(dc, t)))
            return t;
    }
    return NULL;
}

/* The SNOMED CT coding of a coded value that snomed-domains.json gives a
 * domain, or NULL. */
static const struct ccda_node *finding_of(struct doc *dc,
                                          const struct ccda_node *v,
                                          const char **dom)
{
    *dom = NULL;
    if (v == NULL || !value_cd_type(v) || value_null(v))
        return NULL;
    if (!value_coded(v) && !ccda_attr_eq(v, "nullFlavor", "OTH"))
        return NULL;
    return ccda_snomed_coding(dc, v, dom);
}

/* The domain of a problem's value: its ICD-10 Z code (zcodes.json),
 * else a SNOMED CT finding (snomed-domains.json): a problem coded in
 * SNOMED CT alone was no SDOH finding, whatever its concept. *coded is
 * the coding the domain comes from (NULL with no domain). */
const char *ccda_problem_domain(struct doc *dc, const struct ccda_node *v,
                                const struct ccda_node **coded)
{
    const struct ccda_node *c = icd10_of(v);
    const char *dom = z_domain(dc, c);
    if (dom == NULL)
        c = finding_of(dc, v, &dom);
    *coded = dom ? c : NULL;
    return dom;
}

void ccda_ev_init(struct doc *dc, struct ev *e)
{
    e->a = dc->a;
    e->n_warn = 0;
    e->n_sens = 0;
    for (size_t i = 0; i < dc->n_doc_sens; i++)
        sens_add(e, dc->doc_sens[i]);
    if (dc->ssn_left_out)
        warn_add(e, dc->ssn_left_out, "@extension",
                 SSN_NOT_ISSUABLE "; left out");
    if (dc->sys_left_out)
        warn_add(e, dc->sys_left_out, "@root",
                 "id names a national identifier system and no number; "
                 "left out");
    if (dc->hub_left_out)
        warn_add(e, dc->hub_left_out, "@root", IDSYS_HUB_LEFT_OUT);
    if (dc->nat_unlinked)
        warn_add(e, dc->nat_unlinked, "@extension", dc->nat_flaw);
    if (dc->birth_left_out)
        warn_add(e, dc->birth_left_out, "@value",
                 "birth time is not an HL7 TS; left out");
    if (dc->not_patient)
        warn_add(e, dc->not_patient, NULL,
                 "entry is about another person than the document's patient "
                 "(subject); left out");
    if (dc->no_information)
        warn_add(e, dc->no_information, "@nullFlavor",
                 "entry's act is null (nullFlavor: no information); "
                 "nothing read of it");
}

/* Envelope up to the body's key. */
static void ev_head(struct doc *dc, struct ev *e, const char *type,
                    const char *occurred_at, const char *body)
{
    e->type = type;
    jw_init(&e->w, dc->a, CCDA_MAX_EVENT);
    jw_obj_begin(&e->w);
    jw_kv_cstr(&e->w, "type", type);
    jw_key(&e->w, "source");
    jw_obj_begin(&e->w);
    jw_kv_cstr(&e->w, "format", "ccda");
    jw_kv_cstr(&e->w, "message_id", dc->message_id);
    jw_kv_str(&e->w, "sending_facility", dc->facility);
    jw_obj_end(&e->w);
    jw_kv_cstr(&e->w, "occurred_at", occurred_at ? occurred_at : dc->time);
    jw_key(&e->w, "patient");
    jw_raw(&e->w, dc->patient);
    jw_key(&e->w, body);
}

void ccda_ev_begin(struct doc *dc, struct ev *e, const char *type,
                   const char *occurred_at, const char *body)
{
    ccda_ev_init(dc, e);
    ev_head(dc, e, type, occurred_at, body);
    jw_obj_begin(&e->w);
}

/* After the body: labels, warnings; the whole event into *json. */
static int ev_close(struct doc *dc, struct ev *e, const struct ccda_node *where,
                    struct slice *json)
{
    ccda_entry_labels(dc, e, where);
    if (e->n_sens) {
        jw_key(&e->w, "sensitivity");
        jw_arr_begin(&e->w);
        for (size_t i = 0; i < e->n_sens; i++)
            jw_cstr(&e->w, e->sens[i]);
        jw_arr_end(&e->w);
    }
    if (e->n_warn) {
        jw_key(&e->w, "warnings");
        jw_arr_begin(&e->w);
        for (size_t i = 0; i < e->n_warn; i++) {
            jw_obj_begin(&e->w);
            jw_kv_cstr(&e->w, "field", e->warn[i].field);
            jw_kv_cstr(&e->w, "what", e->warn[i].what);
            jw_obj_end(&e->w);
        }
        jw_arr_end(&e->w);
    }
    jw_obj_end(&e->w);
    if (jw_finish(&e->w, json) != HUB_OK)
        return ccda_err_at(dc->err, dc->a, HUB_ELIMIT, where, NULL,
                           "event larger than the limit");
    return HUB_OK;
}

/* Labels, warnings, then into the list. */
static int ev_tail(struct doc *dc, struct ev *e, const struct ccda_node *where)
{
    struct slice json;
    int rc = ev_close(dc, e, where, &json);

    if (rc != HUB_OK)
        return rc;
    /* each event repeats the patient: bound what one document can make */
    dc->out_bytes += json.len;
    if (dc->out_bytes > CCDA_MAX_OUTPUT)
        return ccda_err_at(dc->err, dc->a, HUB_ELIMIT, where, NULL,
                           "document gives more event data than the limit");
    if (dc->out->n >= CCDA_MAX_EVENTS ||
        canon_list_push(dc->a, dc->out, e->type, json) != HUB_OK)
        return ccda_err_at(dc->err, dc->a, HUB_ELIMIT, where, NULL,
                           "document gives too many events");
    return HUB_OK;
}

int ccda_ev_end(struct doc *dc, struct ev *e, const struct ccda_node *where)
{
    jw_obj_end(&e->w);          /* the body */
    return ev_tail(dc, e, where);
}

/* A whole event around a body already written (`body_json`). */
int ccda_ev_write(struct doc *dc, struct ev *e, const char *type,
                  const char *occurred_at, const char *key,
                  struct slice body_json, const struct ccda_node *where)
{
    ev_head(dc, e, type, occurred_at, key);
    jw_raw(&e->w, body_json);
    return ev_tail(dc, e, where);
}

int ccda_ev_rewrite(struct doc *dc, struct ev *e, size_t at,
                    const char *occurred_at, const char *key,
                    struct slice body_json, const struct ccda_node *where)
{
    struct canon_event *old = &dc->out->ev[at];
    struct slice json;

    ev_head(dc, e, old->type, occurred_at, key);
    jw_raw(&e->w, body_json);
    int rc = ev_close(dc, e, where, &json);
    if (rc != HUB_OK)
        return rc;
    dc->out_bytes += json.len - old->json.len;
    if (dc->out_bytes > CCDA_MAX_OUTPUT)
        return ccda_err_at(dc->err, dc->a, HUB_ELIMIT, where, NULL,
                           "document gives more event data than the limit");
    old->json = json;
    return HUB_OK;
}
