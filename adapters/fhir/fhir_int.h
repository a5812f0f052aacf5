/*
 * fhir_int.h - what the FHIR adapter's files share (not a public API).
 *
 * One `struct fx` lives for one fhir_to_events() call. `path` is the FHIR
 * element path of what is being read ("entry[2].resource.code.coding[0]"),
 * pushed and popped as the readers descend, so that any error can name it.
 * Readers (fx_str, fx_obj, ...) check JSON types and fail with that path.
 */
#ifndef HUB_FHIR_INT_H
#define HUB_FHIR_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/jw.h"
#include "fhir/fhir.h"

#define FX_MAX_WARN 32
#define FX_MAX_LABELS 16
_Static_assert(FX_MAX_LABELS >= DICT_MAX_LABELS,
               "an event holds every label the dictionary may name");

/* A panel's hasMember[i]: its reference string, the entry fx_resolve
 * found for it before any entry was read (or NULL) and that entry's
 * subject (F2708) */
struct fx_member {
    const char *ref;
    struct fx_entry *e;
    const cJSON *subject;
};

struct fx_entry {
    const cJSON *res;           /* the resource object */
    const char *type;           /* resourceType */
    const char *id;             /* may be NULL */
    const char *version;        /* meta.versionId, may be NULL */
    const char *full_url;       /* may be NULL */
    const char *name;           /* "Type/id" once known (fx_entry_name) */
    size_t index;               /* Bundle.entry index */
    struct fx_member *members;  /* Observation: its hasMember, resolved
                                   once before any entry is read
                                   (fx_mark_consumed), n_members */
    size_t n_members;
    bool consumed;              /* folded into another entry's event */
    struct fx_entry *folded_into;   /* Procedure: the referral Task or
                                       ServiceRequest whose event carries
                                       it, or the screening Observation /
                                       QuestionnaireResponse that names it
                                       in partOf (fx_mark_procedures) */
    struct fx_entry *carried_by;    /* Procedure folded into a screening:
                                       the entry whose event told it */
    unsigned seen;              /* == fx.gen: visited by this screening */
    bool failed;                /* batch: refused */
    bool of_response;           /* Observation consumed only as what a
                                   QuestionnaireResponse of the message
                                   says (derivedFrom, or its answers
                                   again): read alone when no such
                                   response gave an event (F1802) */
    bool told;                  /* gave at least one event */
    bool read;                  /* read as an entry of its own (not
                                   consumed then): a loose item read
                                   later gathers it no more (F2061) */
    bool settled;               /* its outcome recorded (settle_entry) */
    bool ahead;                 /* read, ahead of its turn or in it: not
                                   to be read ahead (fx_resolve_settled) */
    const cJSON *panel_subject; /* Observation with no subject: that of
                                   a panel naming it, which it takes
                                   (fx_mark_consumed, F2582) */
    const char *adt_topic;      /* Encounter a Da Vinci notification
                                   message's MessageHeader names in focus:
                                   adt.admit, adt.discharge or
                                   adt.transfer (fx_mark_notification);
                                   NULL: context (F516, F3160) */
    const char *note;           /* an informational note its outcome
                                   gives when it gives no event: the
                                   MessageHeader of a notification whose
                                   focus names no Encounter (F3309) */
    bool of_two_panels;         /* a grouping or item with no subject
                                   that panels of two patients name, at
                                   any depth: no one's, read by neither
                                   (F2741, F2763) */
};

struct fx_warn {
    const char *field;          /* arena copy of the path */
    const char *what;           /* static */
};

/* A refusal's or warning's place: a JSON path as deep as a Bundle's nested
 * QuestionnaireResponse items go, with room to spare (hub_err.field holds
 * 127 bytes; a longer place is kept whole in long_field) */
#define FX_PATH_MAX 512

/* The path is kept as its steps and written out only when a refusal or a
 * warning names it: every member read moves it, few are ever named. A key
 * or an index per JSON level (FHIR_MAX_DEPTH 40) and the entry's three:
 * the steps past FX_MAX_STEPS are counted, not kept (a path that long is
 * cut at FX_PATH_MAX - 1 bytes long before). */
#define FX_MAX_STEPS 128
struct fx_step {
    const char *key;            /* ".key" (no dot first); NULL: "[idx]" */
    size_t idx;
};

struct fx {
    struct arena *a;
    const struct dict *d;
    struct hub_err *err;
    struct canon_list *out;
    struct fhir_result *res;    /* the entries' outcomes, or NULL */
    bool ahead;                 /* reading an entry ahead of its turn
                                   (fx_resolve_settled): none further */
    struct fx_step steps[FX_MAX_STEPS];   /* where the reading is */
    size_t nsteps;
    bool bundle;
    bool batch;
    bool modifiers;             /* the body holds a modifierExtension */
    bool names_plain;           /* the parse saw no member name twice and
                                   none named modifierExtension */
    bool screening_procedures;  /* a screening names a Procedure of the
                                   message in partOf */
    struct fx_entry *ents;
    size_t n_ents;
    /* entries by fullUrl and by Type/id (fx_resolve): open addressing,
     * entry index + 1 per slot, 0 empty; NULL for a single resource */
    uint32_t *by_url, *by_tid;
    size_t slot_mask;
    /* contained arrays indexed by id (fx_contained), the last used first */
    struct fx_cindex *cindex;
    size_t contained_cmps;      /* ids fx_contained compared: its work */
    const char *message_id;
    const char *sent_at;        /* when the sender made the body, or NULL:
                                   what identifiers' periods are held to */
    const char *pid_system;     /* system of bare Patient ids, or NULL */
    const char *blabels[FX_MAX_LABELS];   /* Bundle.meta.security labels */
    size_t n_blabels;
    unsigned gen;               /* screening being built, for fx_entry.seen */
    /* per event being built */
    struct fx_warn warns[FX_MAX_WARN];
    size_t n_warns;
    const char *labels[FX_MAX_LABELS];
    size_t n_labels;
    /* warnings of the entry being processed, for fhir_entry_result */
    struct fhir_warning ewarn[FX_MAX_WARN];
    size_t n_ewarn;
    struct fhir_warning enote;  /* why the entry gives no event, or none */
};

/* ---- paths and errors ---- */
/* The path set aside while another entry's resource is read, and back */
struct fx_saved_path {
    struct fx_step steps[FX_MAX_STEPS];
    size_t n;
};
void fx_path_save(const struct fx *x, struct fx_saved_path *s);
void fx_path_restore(struct fx *x, const struct fx_saved_path *s);

/* ".k" (k outlives the reading: a literal or a string of the tree);
 * returns the depth to pop back to */
size_t fx_key(struct fx *x, const char *k);
size_t fx_idx(struct fx *x, size_t i);          /* "[i]" */
void fx_pop(struct fx *x, size_t old);
/* The path as text, in the arena ("" at the top). */
const char *fx_path_text(struct fx *x);
/* Set the path to the base of an entry ("entry[3].resource" or the type). */
void fx_at_entry(struct fx *x, const struct fx_entry *e);
int fx_fail(struct fx *x, int code, const char *what);
/* Remember a non-fatal finding at the current path (+ optional key). */
void fx_warn(struct fx *x, const char *key, const char *what);
/* The same for an entry that gives no event: it reaches the sender's
 * OperationOutcome (fhir_entry_result.warnings) and no event. */
void fx_warn_entry(struct fx *x, const char *key, const char *what);
/* Why an accepted entry gives no event, at the entry (`what` static): an
 * informational issue of the sender's OperationOutcome, not a warning,
 * for an entry that is context by the hub's rule (F1722). */
void fx_note_entry(struct fx *x, const struct fx_entry *e, const char *what);

/* A reading whose refusal is forgiven: the error and the path as they
 * stood before it, put back by fx_try_forgive when the reading failed, so
 * that what follows fails, and warns, at its own place (F3968). */
struct fx_try {
    struct hub_err err;
    size_t nsteps;
};

static inline struct fx_try fx_try_begin(const struct fx *x)
{
    return (struct fx_try){ .err = *x->err, .nsteps = x->nsteps };
}

/* Puts back the error and the path `t` kept; warns `why` (static) there,
 * when given: the sender learns what was left out. */
static inline void fx_try_forgive(struct fx *x, const struct fx_try *t,
                                  const char *why)
{
    *x->err = t->err;
    x->nsteps = t->nsteps;
    if (why)
        fx_warn(x, NULL, why);
}

/* cJSON_GetObjectItemCaseSensitive, inlined, the first byte compared before
 * strcmp (members mostly differ there): the first member named `key`, NULL
 * when none or `o` is not an object (an array's children have no names). */
static inline const cJSON *fx_get(const cJSON *o, const char *key)
{
    for (const cJSON *c = o ? o->child : NULL; c && c->string; c = c->next)
        if (c->string[0] == key[0] && strcmp(c->string, key) == 0)
            return c;
    return NULL;
}

/* A helper of this header that some parts do not call (not inline: GCC
 * chooses, as when it was file-local in fhir.c). */
#define FX_HELPER static __attribute__((unused))

/* A member's string when it is one and not empty, else NULL. */
FX_HELPER const char *fx_str_of(const cJSON *o, const char *key)
{
    const cJSON *v = fx_get(o, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* F166: HL7 Chile's Gravity adaptation (GravityCL) copies the SDOHCC
 * temporary code system under its own canonical: the same codes, Spanish
 * displays, the definitions translated. Its SDOH category codes are read
 * as Gravity's (only codes of the domain table count, as for Gravity's). */
#define FX_SDOH_SYSTEM_CL \
    "https://hl7chile.cl/fhir/ig/gravitycl/CodeSystem/" \
    "SDOHCC-CodeSystemTemporaryCodesCL"

/* Whether `sys` is the Gravity SDOHCC temporary code system or a national
 * copy of it the hub reads as such. */
static inline bool fx_is_sdoh_system(const char *sys)
{
    return strcmp(sys, DICT_SDOH_SYSTEM) == 0 ||
           strcmp(sys, FX_SDOH_SYSTEM_CL) == 0;
}

/* Whether `system` names HL7 table 0203 (identifier type): R4's URL,
 * STU3's, or the table's OID. */
static inline bool fx_is_table_0203(const char *system)
{
    return strcmp(system, "http://terminology.hl7.org/CodeSystem/v2-0203") ==
               0 ||
           strcmp(system, "http://hl7.org/fhir/v2/0203") == 0 ||
           strcmp(system, "urn:oid:2.16.840.1.113883.18.108") == 0;
}

/* ---- readers: absent is fine unless required; a wrong type fails ---- */
int fx_str(struct fx *x, const cJSON *o, const char *key, bool required,
           const char **out);
int fx_obj(struct fx *x, const cJSON *o, const char *key, bool required,
           const cJSON **out);
int fx_arr(struct fx *x, const cJSON *o, const char *key, const cJSON **out,
           size_t *n);
int fx_bool(struct fx *x, const cJSON *o, const char *key, int *out);
/* dateTime / date / instant: ISO 8601 shape, each part in R4's range. */
bool fx_iso_ok(const char *s);
int fx_date(struct fx *x, const cJSON *o, const char *key, const char **out);
/* A string that must be one of `allowed` (NULL-terminated). */
int fx_enum(struct fx *x, const cJSON *o, const char *key, bool required,
            const char *const *allowed, const char **out);

/* A Coding picked from a CodeableConcept. */
struct fx_code {
    const char *code, *system, *display, *text;
};
/* The first coding (or the first whose system is `prefer`, when given). */
int fx_cc(struct fx *x, const cJSON *o, const char *key, const char *prefer,
          struct fx_code *out);
int fx_cc_node(struct fx *x, const cJSON *cc, const char *prefer,
               struct fx_code *out);
bool fx_code_empty(const struct fx_code *c);
/* Whether a CodeableConcept (or an array of them) holds `code` of a
 * system `in_system` takes, or of any system (none needed) when it is
 * NULL. A code without its system says nothing to `in_system` (FHIR R4
 * Coding). */
bool fx_has_code(const cJSON *v, bool (*in_system)(const char *),
                 const char *code);
/* One Coding object's code, system and display into out (text untouched);
 * not an object fails with "expected a Coding object". */
int fx_coding(struct fx *x, const cJSON *c, struct fx_code *out);
/* The Gravity SDOH domain a CodeableConcept array names (category), or NULL;
 * also accepts the legacy sdoh-cc "<domain>-domain" codes. */
int fx_domain_of(struct fx *x, const cJSON *o, const char *key,
                 const char **domain);
/* Every Gravity SDOH domain the CodeableConcepts name, each once, in
 * order (the first is fx_domain_of's), at most `cap`, into doms. */
int fx_domains_of(struct fx *x, const cJSON *o, const char *key,
                  const char **doms, size_t cap, size_t *n);

/* The SDOH domain one Coding `k` names in the systems asked: a SNOMED CT
 * finding of snomed-domains.json, a Z code of zcodes.json under any name
 * of ICD-10 dict_is_icd10 knows (F3082); NULL else. One reading for every
 * loop over codings: each loop says which system goes first (F3223). */
#define FX_DOM_SNOMED 1u
#define FX_DOM_ICD10 2u
const char *fx_coding_domain(struct fx *x, const cJSON *k, unsigned systems);
/* The domain the CodeableConcepts at `key` name as fx_domain_of reads
 * them, but the first named one wherever the catch-all
 * `sdoh-category-unspecified` stands among them (F2062), the catch-all
 * only when it is all they name; NULL when none. */
int fx_category_domain(struct fx *x, const cJSON *o, const char *key,
                       const char **dom);
/* Whether `dom` ends a reading: a domain other than the catch-all, which
 * says no domain of the value set fits and so gives way to any domain
 * read after it (F2062, F3226) */
bool fx_domain_settled(const char *dom);
/* `dom` when it is settled or `next` is NULL, else `next` */
const char *fx_domain_after(const char *dom, const char *next);

/* A Reference's "reference" string, checked; NULL when absent. A urn:uuid
 * reference must resolve inside the bundle. */
int fx_ref(struct fx *x, const cJSON *o, const char *key, bool required,
           const char **out);
int fx_ref_node(struct fx *x, const cJSON *ref, const char **out);
/* fx_ref_node and fx_ref (not required) for a reference that carries
 * only a name (a Goal's `addresses`, a Condition's `evidence`, a
 * request's `basedOn`): in a batch, a urn:uuid naming an entry resolves
 * whatever becomes of that entry, refused before or after (F2103); the
 * naming entry is judged on its own content. */
int fx_name_node(struct fx *x, const cJSON *ref, const char **out);
/* fx_ref_node for a panel's hasMember, whose entry's content the panel
 * reads as its own: in a batch, a urn naming an entry refused in its own
 * reading resolves too (fx_resolve_read, F2104). */
int fx_member_node(struct fx *x, const cJSON *ref, const char **out);
/* The reference a bundle means by r: "Type/urn:uuid:X" (F2323) the urn
 * or Type/id of its entry, as fx_ref_node reads it; else r itself. */
const char *fx_unslip(struct fx *x, const char *r);
/* fx_resolve of what the bundle means by ref (fx_unslip): what folds one
 * entry into another's event looks a slip up as the reference's reading
 * did, so that the entry is not told again on its own (F2821, F2980,
 * F2981) */
struct fx_entry *fx_resolve_meant(struct fx *x, const char *ref);
int fx_name_ref(struct fx *x, const cJSON *o, const char *key,
                const char **out);
/* Whether two patient References (a panel's subject and its member's)
 * name one person: the same entry of the bundle, whatever form each
 * reference takes; outside it, the same reference, or with none the
 * same identifier (system and value). One that names no one (absent, no
 * reference and no identifier value) takes the other's (F2582). */
bool fx_same_patient(struct fx *x, const cJSON *a, const cJSON *b);
/* The entry of the message a patient reference names, by reference or by
 * an identifier a Patient of the message lists (F2960); NULL if none */
const struct fx_entry *fx_patient_entry(struct fx *x, const cJSON *p);

/* A local reference "#id": the first resource of `res`'s contained array
 * with that id (and its index there in *idx), or NULL. FHIR R4 contained
 * resources have no identity outside their container. A long array is
 * indexed in x's arena on its first look-up (F3308). */
const cJSON *fx_contained(struct fx *x, const cJSON *res, const char *ref,
                          size_t *idx);
/* The bundle entry a reference points to, or NULL. */
struct fx_entry *fx_resolve(struct fx *x, const char *ref);
/* fx_resolve that finds too a batch entry refused in its own reading
 * (not one refused before any entry is read: no resource, a modifier the
 * hub does not know): what reads the named entry's content as its own (a
 * panel its member's answers) then reads the same whether that entry's
 * turn came first or not (F2104). */
struct fx_entry *fx_resolve_read(struct fx *x, const char *ref);
/* fx_resolve, where the entry found is a Condition or a ServiceRequest
 * of a batch whose turn has not come: read first, and passed by (as its
 * turn would leave it) when that refuses it, so that what a referral
 * takes from it does not hang on the order of the entries (F2065). */
struct fx_entry *fx_resolve_settled(struct fx *x, const char *ref);
/* Index the entries for fx_resolve, once they are all read. */
void fx_index_entries(struct fx *x);
/* Canonical "Type/id" for an entry ("Observation/abc"), or the type. */
const char *fx_entry_name(struct fx *x, const struct fx_entry *e);
/* "Type/id" for a reference, resolved through the bundle when possible. */
const char *fx_ref_name(struct fx *x, const char *ref);
/* fx_ref_name of a reference that carries only a name (fx_name_node):
 * a urn names its batch entry by Type/id whatever became of it (F2103). */
const char *fx_name_of(struct fx *x, const char *ref);
/* "Type/id" at the end of `ref` (absolute or relative, _history stripped):
 * false when it ends in no such pair. */
bool fx_ref_type_id(const char *ref, struct slice *type, struct slice *id);
/* A conditional reference "Type?search" (R4 http.html, "Conditional
 * References": the receiver resolves the search): its type and its query
 * (what follows '?', not empty); false for anything else. */
bool fx_ref_conditional(const char *ref, struct slice *type,
                        const char **query);
/* "https://ex.org/fhir/Patient?identifier=a|1": a conditional reference
 * written as an absolute URL, which R4 does not define (http.html,
 * "Conditional References": Type?search, relative); its type. */
bool fx_ref_abs_conditional(const char *ref, struct slice *type);

/* ---- writing ---- */
void fx_jw_code(struct jw *w, const char *key, const struct fx_code *c);
/* Collect the sensitivity labels of a resource's meta.security. */
int fx_labels(struct fx *x, const cJSON *res);
void fx_label_add(struct fx *x, const char *label);
/* The patient block of the resource's `key` reference (subject, for,
 * patient). Required: fails when missing or not a Patient. */
int fx_patient(struct fx *x, const cJSON *res, const char *key,
               struct slice *out);
/* Write one event and push it. `body_key` names the body, `body` its JSON.
 * Uses and then clears the pending warnings and labels. */
int fx_emit(struct fx *x, const struct fx_entry *e, const char *type,
            const char *occurred_at, struct slice patient,
            const char *body_key, struct slice body);
void fx_reset_event(struct fx *x);

/* ---- the JSON form (fhir_json.c) ---- */
/* Fails (HUB_EUNSUPPORTED, the path below the current one) when `n` holds a
 * non-empty modifierExtension at any depth: the hub knows none. */
int fx_unknown_modifier(struct fx *x, const cJSON *n);
/* Fails (HUB_ESYNTAX, the path below the current one) when an object
 * under `root` has a member name twice; sets x->modifiers when any holds
 * a non-empty modifierExtension (for fx_unknown_modifier to be asked).
 * What is under `skip` (NULL: nothing) is not walked: a batch's entries,
 * each walked on its own so that a repeat refuses that entry alone. */
int fx_unique_members(struct fx *x, const cJSON *root, const cJSON *skip);

/* ---- resources ---- */
/* screenings: fhir_qr.c and fhir_obs.c (the parts: fhir_screen_int.h) */
int fx_screening_qr(struct fx *x, struct fx_entry *e);
int fx_screening_obs(struct fx *x, struct fx_entry *e);
int fx_condition(struct fx *x, struct fx_entry *e);
int fx_goal(struct fx *x, struct fx_entry *e);
int fx_service_request(struct fx *x, struct fx_entry *e);
int fx_task(struct fx *x, struct fx_entry *e);
int fx_careplan(struct fx *x, struct fx_entry *e);
int fx_consent(struct fx *x, struct fx_entry *e);
int fx_procedure(struct fx *x, struct fx_entry *e);
/* A Da Vinci Unsolicited Notifications message (fhir_encounter.c): the
 * Encounter its MessageHeader names in focus under a notification-admit,
 * -discharge or -transfer event gets its adt_topic (before any entry is
 * read), and fx_encounter gives that event */
void fx_mark_notification(struct fx *x);
int fx_encounter(struct fx *x, struct fx_entry *e);
/* The bytes of Bundle.entry[0..n) in the JSON text p (already parsed as
 * JSON); returns how many were found, the rest of out[] are empty. */
size_t fx_entry_spans(const char *p, size_t len, struct slice *out, size_t n);
/* Before events: mark Observations folded into a QuestionnaireResponse or
 * a panel of the same bundle (fhir_consume.c). */
void fx_mark_consumed(struct fx *x);
/* Whether a response of the message that gave an event says what the
 * Observation `e` (of_response) says: false, and it is read alone. */
bool fx_said_by_a_told_response(struct fx *x, const struct fx_entry *e);
/* The patient screening entry `e` is held to: its subject, else (an
 * Observation with none) that of the panel naming it; NULL for a grouping
 * two patients' panels name (F2741). */
const cJSON *fx_obs_subject(const struct fx_entry *e);
/* Before events: fold each Procedure that fulfils a referral of the same
 * message into that referral's event, else each that a screening names in
 * partOf into that screening's (see fx_procedure); never one of another
 * patient than that referral's or screening's, which is read on its own
 * (F2622). */
void fx_mark_procedures(struct fx *x);
/* Warns at a referral Task's output[i].valueReference (the path where
 * the reading is) when `ref` names a Procedure of the message of another
 * patient than the referral's: nothing is taken from it (F2622). */
void fx_warn_output_of_another(struct fx *x, const cJSON *task,
                               const char *ref);
/* Whether `host` (a Procedure's folded_into) is a screening resource. */
bool fx_is_screening_host(const struct fx_entry *host);
/* "procedures": those folded into screening entry `e` or into an
 * Observation it gathered (fx_entry.seen == x->gen), each told once. */
int fx_put_screening_procedures(struct fx *x, struct jw *w,
                                struct fx_entry *e);


/* ---- the resources' shared writers (fhir_res.c), for fhir_referral.c and
 * fhir_procedure.c ---- */
#define ORGS_MAX 8

/* (role, reference) pairs a body names; resolved when written. `host` is
 * the resource the reference was read from: a "#id" reference names a
 * resource contained in it. */
struct orgs {
    struct {
        const char *role, *ref, *name;
        const cJSON *host, *ident;  /* ident: a logical Reference's */
    } r[ORGS_MAX];
    size_t n;
};

/* FHIR R4 RequestStatus: a ServiceRequest's and a CarePlan's (a
 * file-local copy in each part that reads it). */
__attribute__((unused))
static const char *const REQUEST_STATUS[] = { "draft", "active", "on-hold",
    "revoked", "completed", "entered-in-error", "unknown", NULL };

/* The small writers of every resource's body. GCC inlined them into their
 * callers when they were fhir_res.c's alone; here they are each part's own
 * (FX_HELPER), so that it still can. */
FX_HELPER void fx_begin_body_id(struct fx *x, struct jw *w, const char *id)
{
    jw_init(w, x->a, 1u << 20);
    jw_obj_begin(w);
    jw_kv_cstr(w, "id", id);
}

FX_HELPER void fx_begin_body(struct fx *x, struct jw *w, struct fx_entry *e)
{
    fx_begin_body_id(x, w, fx_entry_name(x, e));
}

FX_HELPER int fx_end_body(struct fx *x, struct jw *w, struct slice *body)
{
    jw_obj_end(w);
    if (jw_finish(w, body) != HUB_OK)
        return fx_fail(x, HUB_ELIMIT, "resource is larger than the limit");
    return HUB_OK;
}

/* A Reference member as "Type/id". */
FX_HELPER int fx_put_ref(struct fx *x, struct jw *w, const cJSON *o,
                         const char *key, const char *out_key,
                         const char **got)
{
    const char *r;
    int rc = fx_ref(x, o, key, false, &r);
    if (rc)
        return rc;
    jw_kv_cstr(w, out_key, fx_ref_name(x, r));
    if (got)
        *got = r;
    return HUB_OK;
}

/* fx_put_ref of a reference that carries only a name (F2103, F2382):
 * in a batch, a urn names its entry whatever became of it. */
FX_HELPER int fx_put_name(struct fx *x, struct jw *w, const cJSON *o,
                          const char *key, const char *out_key,
                          const char **got)
{
    const char *r;
    int rc = fx_name_ref(x, o, key, &r);
    if (rc)
        return rc;
    jw_kv_cstr(w, out_key, fx_name_of(x, r));
    if (got)
        *got = r;
    return HUB_OK;
}

/* An array of References as an array of "Type/id" strings; `names`:
 * references that carry only a name (fx_name_node). */
FX_HELPER int fx_put_ref_list(struct fx *x, struct jw *w, const cJSON *o,
                              const char *key, const char *sub,
                              const char *out_key, bool names)
{
    const cJSON *arr;
    size_t n;
    int rc;
    if ((rc = fx_arr(x, o, key, &arr, &n)) || n == 0)
        return rc;
    size_t old = fx_key(x, key);
    bool open = false;
    size_t i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        size_t o2 = fx_idx(x, i);
        const char *r = NULL;
        if (sub)
            rc = names ? fx_name_ref(x, c, sub, &r)
                       : fx_ref(x, c, sub, false, &r);
        else
            rc = names ? fx_name_node(x, c, &r) : fx_ref_node(x, c, &r);
        if (rc)
            return rc;
        if (r) {
            jw_arr_lazy(w, out_key, &open);
            jw_cstr(w, names ? fx_name_of(x, r) : fx_ref_name(x, r));
        }
        fx_pop(x, o2);
    }
    jw_arr_end_if(w, open);
    fx_pop(x, old);
    return HUB_OK;
}

FX_HELPER int fx_put_refs(struct fx *x, struct jw *w, const cJSON *o,
                          const char *key, const char *sub,
                          const char *out_key)
{
    return fx_put_ref_list(x, w, o, key, sub, out_key, false);
}

/* fx_put_refs of references that carry only a name (F2103). */
FX_HELPER int fx_put_names(struct fx *x, struct jw *w, const cJSON *o,
                           const char *key, const char *out_key)
{
    return fx_put_ref_list(x, w, o, key, NULL, out_key, true);
}

FX_HELPER int fx_put_date(struct fx *x, struct jw *w, const cJSON *o,
                          const char *key, const char *out_key,
                          const char **got)
{
    const char *d;
    int rc = fx_date(x, o, key, &d);
    if (rc)
        return rc;
    jw_kv_cstr(w, out_key, d);
    if (got)
        *got = d;
    return HUB_OK;
}

/* Common start of every resource here: labels and the patient. */
FX_HELPER int fx_prologue(struct fx *x, struct fx_entry *e, const char *key,
                          struct slice *patient)
{
    int rc = fx_labels(x, e->res);
    if (rc == HUB_OK)
        rc = fx_patient(x, e->res, key, patient);
    fx_at_entry(x, e);
    return rc;
}

FX_HELPER const char *fx_ref_of(const cJSON *o, const char *key)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "reference");
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* Writers that fhir_res.c and fhir_procedure.c both call, each its own
 * (FX_HELPER), as GCC inlined them in one file. */
/* A CodeableConcept member written as a code object under `out_key`. */
FX_HELPER int fx_put_cc(struct fx *x, struct jw *w, const cJSON *o,
                        const char *key, const char *out_key,
                        const char *prefer, struct fx_code *got)
{
    struct fx_code c;
    int rc = fx_cc(x, o, key, prefer, &c);
    if (rc)
        return rc;
    fx_jw_code(w, out_key, &c);
    if (got)
        *got = c;
    return HUB_OK;
}

FX_HELPER int fx_period_start(struct fx *x, const cJSON *o, const char *key,
                              const char **start, const char **end)
{
    const cJSON *p;
    int rc;
    *start = *end = NULL;
    if ((rc = fx_obj(x, o, key, false, &p)) || p == NULL)
        return rc;
    size_t old = fx_key(x, key);
    if ((rc = fx_date(x, p, "start", start)) || (rc = fx_date(x, p, "end", end)))
        return rc;
    fx_pop(x, old);
    return HUB_OK;
}

/* The other writers, fhir_res.c's: a CodeableConcept array, a period. */
int fx_put_cc_array(struct fx *x, struct jw *w, const cJSON *o,
                    const char *key, const char *out_key);
/* The same, a wrong shape left out with a warning, not refused. */
void fx_put_cc_array_lenient(struct fx *x, struct jw *w, const cJSON *o,
                             const char *key, const char *out_key);
void fx_put_period(struct jw *w, const char *key, const char *start,
                   const char *end);
/* Organizations a body names, and their "organizations" written. */
void fx_orgs_add(struct orgs *o, const char *role, const char *ref,
                 const cJSON *host);
void fx_orgs_add_logical(struct orgs *o, const char *role,
                         const cJSON *refnode);
void fx_put_orgs(struct fx *x, struct jw *w, const struct orgs *o);
/* The SDOH domain of a resource's SNOMED CT code, and the labels its code
 * and its reasons imply. */
const char *fx_code_snomed_domain(struct fx *x, const cJSON *o);
/* The domain of the first Condition of this message (an entry or one
 * contained in `o`) that `o`.reasonReference names and that has one, or
 * NULL: the need a referral with no domain of its own is for (F1942).
 * Leaves the error state as it was; `warn`, warns at `o`.reasonReference[i]
 * a Condition whose category or code cannot be read (F4101). */
const char *fx_reason_domain(struct fx *x, const cJSON *o, bool warn);
/* The domain the first of `o`.reasonCode that names one names (a Z code,
 * a SNOMED CT finding: a Condition's code read alike), or NULL: the need
 * a referral says in its reason alone (F3083). */
const char *fx_reason_code_domain(struct fx *x, const cJSON *o);
/* Warns at `o`.reasonReference[i] when the Condition it names is of
 * another patient than `o`'s subject (fx_same_patient): fx_reason_domain
 * and fx_reason_labels take nothing from such a one, so one person's
 * diagnosis never routes or labels another's referral, and the referral
 * is kept (F2621: a referral dropped costs a person a service); and when
 * it is refuted or entered in error, from which fx_reason_domain takes
 * no domain (F3306). */
void fx_warn_reasons_left_out(struct fx *x, const cJSON *o);
/* Whether Condition `c`'s verificationStatus is refuted or
 * entered-in-error: no need of the patient, so no diagnosis of a visit
 * and no referral's domain (F3306); its own event still tells it. */
bool fx_condition_withdrawn(const cJSON *c);
/* The domain of Condition `o` as its own event tells it: a Gravity
 * category first, then its code (a Z code, a SNOMED CT finding), the
 * catch-all category last (F3260). */
int fx_condition_domain(struct fx *x, const cJSON *o, const char **dom);
void fx_code_labels(struct fx *x, const cJSON *o);
void fx_reason_labels(struct fx *x, const cJSON *o);
/* The labels the codings of CodeableConcept `cc` imply, and the domain
 * its codes name (a Z code of ICD-10, a SNOMED CT finding: a Condition's
 * code read alike), or NULL */
void fx_cc_labels(struct fx *x, const cJSON *cc);
const char *fx_cc_domain(struct fx *x, const cJSON *cc);
/* The system of the coding of `cc` a diagnosis is told by (ICD-10-CM,
 * else SNOMED CT, else another ICD-10, else the first: fx_cc's prefer) */
const char *fx_cc_best_system(const cJSON *cc);
/* The text members of a FHIR Quantity the hub reads, in this order (a
 * file-local copy in each part that reads them). */
__attribute__((unused))
static const char *const quantity_keys[] = { "unit", "system", "code",
                                             "comparator" };
/* Whether `q` has a Quantity's shape; its first `n` quantity_keys' values
 * into txt (fhir_res.c's "Quantity"). */
bool fx_quantity_read(const cJSON *q, size_t n, const char **txt);
/* "performed": the Procedures folded into the referral event of `host`
 * (fx_mark_procedures), then a Task's activity codes without one
 * (fhir_procedure.c). */
int fx_put_performed(struct fx *x, struct jw *w, struct fx_entry *host,
                     struct orgs *orgs);
/* Whether Task `o` is a referral (fhir_referral.c). */
bool fx_task_is_referral(const cJSON *o, const char *focus);

#endif
