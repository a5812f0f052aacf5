/*
 * fhir.c - entry point, Bundle handling, references, readers and event
 * assembly (see fhir.h). The patient block of an event is
 * fhir_patient.c's; the resources are fhir_res.c's, fhir_referral.c's,
 * fhir_procedure.c's and the screening parts' (fhir_screen_int.h lists
 * them: fhir_qr.c, fhir_obs.c, fhir_answer.c, fhir_screen.c,
 * fhir_consume.c); the OperationOutcome answered is fhir_outcome.c's.
 *
 * Flow: jsontree_parse (limits, then cJSON into an arena of this call's
 * own, released on return: nothing returned points into the tree) -> index the entries (or the
 * one resource) -> mark Observations folded into a QuestionnaireResponse or
 * panel -> each entry in index order makes its events. A failing entry rolls
 * the event list back: to where that entry began for a batch, to the start
 * for anything else (and the whole call fails).
 */
#include "fhir/fhir_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/digits.h"
#include "common/jsontree.h"
#include "common/strset.h"
#include "common/utf8.h"

#define EVENT_MAX_BYTES (1u << 20)

/* ---- paths and errors --------------------------------------------------- */

static size_t push_step(struct fx *x, const char *key, size_t idx)
{
    size_t old = x->nsteps;
    if (old < FX_MAX_STEPS)
        x->steps[old] = (struct fx_step){ key, idx };
    x->nsteps = old + 1;
    return old;
}

size_t fx_key(struct fx *x, const char *k)
{
    return push_step(x, k, 0);
}

size_t fx_idx(struct fx *x, size_t i)
{
    return push_step(x, NULL, i);
}

void fx_pop(struct fx *x, size_t old)
{
    x->nsteps = old;
}

void fx_path_save(const struct fx *x, struct fx_saved_path *s)
{
    s->n = x->nsteps;
    memcpy(s->steps, x->steps,
           (s->n < FX_MAX_STEPS ? s->n : FX_MAX_STEPS) * sizeof(*s->steps));
}

void fx_path_restore(struct fx *x, const struct fx_saved_path *s)
{
    x->nsteps = s->n;
    memcpy(x->steps, s->steps,
           (s->n < FX_MAX_STEPS ? s->n : FX_MAX_STEPS) * sizeof(*s->steps));
}

/* Append s (n bytes) to buf[*len], cut at FX_PATH_MAX - 1 bytes. */
static void text_add(char *buf, size_t *len, const char *s, size_t n)
{
    size_t room = FX_PATH_MAX - 1 - *len;
    if (n > room)
        n = room;
    memcpy(buf + *len, s, n);
    *len += n;
}

/* The steps as "a.b[2].c" into buf (FX_PATH_MAX bytes); its length. */
static size_t path_write(const struct fx *x, char *buf)
{
    size_t len = 0, n = x->nsteps < FX_MAX_STEPS ? x->nsteps : FX_MAX_STEPS;
    for (size_t i = 0; i < n; i++) {
        const struct fx_step *st = &x->steps[i];
        if (st->key) {
            if (len)
                text_add(buf, &len, ".", 1);
            text_add(buf, &len, st->key, strlen(st->key));
        } else {
            char b[24], *e = b + sizeof(b);
            size_t v = st->idx;
            *--e = ']';
            do
                *--e = (char)('0' + v % 10);
            while ((v /= 10) != 0);
            *--e = '[';
            text_add(buf, &len, e, (size_t)(b + sizeof(b) - e));
        }
    }
    buf[len] = '\0';
    return len;
}

const char *fx_path_text(struct fx *x)
{
    char buf[FX_PATH_MAX];
    size_t n = path_write(x, buf);
    return arena_strndup(x->a, buf, n);
}

/* The resource type as the sender's feedback may name it: a type of FHIR R4
 * that bundles here carry, else "Resource". resourceType is the sender's
 * text, and a broken one can hold anything (a name, a birth date). */
static const char *type_label(const char *t)
{
    static const char *const known[] = {    /* in strcmp order */
        "AllergyIntolerance", "Appointment", "AuditEvent", "Basic",
        "Binary", "Bundle", "CarePlan", "CareTeam", "Claim",
        "ClinicalImpression", "Communication", "CommunicationRequest",
        "Composition", "Condition", "Consent", "Contract", "Coverage",
        "Device", "DiagnosticReport", "DocumentReference", "Encounter",
        "Endpoint", "EpisodeOfCare", "ExplanationOfBenefit",
        "FamilyMemberHistory", "Flag", "Goal", "Group",
        "HealthcareService", "Immunization", "List", "Location", "Media",
        "Medication", "MedicationRequest", "MedicationStatement",
        "MessageHeader", "NutritionOrder", "Observation",
        "OperationOutcome", "Organization", "Parameters", "Patient",
        "Person", "Practitioner", "PractitionerRole", "Procedure",
        "Provenance", "Questionnaire", "QuestionnaireResponse",
        "RelatedPerson", "RiskAssessment", "Schedule", "ServiceRequest",
        "Slot", "Specimen", "Subscription", "Task",
    };
    /* sorted (strcmp order): asked per entry and per path, so a halving
     * search, not 58 compares */
    size_t lo = 0, hi = sizeof(known) / sizeof(known[0]);
    while (t && lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t, known[mid]);
        if (c == 0)
            return known[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return "Resource";
}

void fx_at_entry(struct fx *x, const struct fx_entry *e)
{
    x->nsteps = 0;
    if (x->bundle) {
        fx_key(x, "entry");
        fx_idx(x, e->index);
        fx_key(x, "resource");
    } else {
        fx_key(x, e->type ? type_label(e->type) : "resource");
    }
}

int fx_fail(struct fx *x, int code, const char *what)
{
    char buf[FX_PATH_MAX];
    path_write(x, buf);
    return hub_err_set_in(x->err, x->a, code, buf, 0, what);
}

void fx_warn(struct fx *x, const char *key, const char *what)
{
    if (x->n_warns == FX_MAX_WARN)
        return;                 /* enough said; the event stays bounded */
    size_t old = key ? fx_key(x, key) : x->nsteps;
    x->warns[x->n_warns].field = fx_path_text(x);
    x->warns[x->n_warns].what = what;
    x->n_warns++;
    fx_pop(x, old);
}

/* ---- readers ------------------------------------------------------------- */

int fx_coding(struct fx *x, const cJSON *c, struct fx_code *out)
{
    int rc;
    if (!cJSON_IsObject(c))
        return fx_fail(x, HUB_EINVALID, "expected a Coding object");
    if ((rc = fx_str(x, c, "code", false, &out->code)) ||
        (rc = fx_str(x, c, "system", false, &out->system)) ||
        (rc = fx_str(x, c, "display", false, &out->display)))
        return rc;
    return HUB_OK;
}

int fx_str(struct fx *x, const cJSON *o, const char *key, bool required,
           const char **out)
{
    const cJSON *v = fx_get(o, key);
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v)) {
        if (!required)
            return HUB_OK;
        fx_key(x, key);
        return fx_fail(x, HUB_EINVALID, "required element is missing");
    }
    if (!cJSON_IsString(v) || v->valuestring == NULL) {
        fx_key(x, key);
        return fx_fail(x, HUB_EINVALID, "expected a string");
    }
    if (v->valuestring[0] == '\0') {
        /* FHIR: strings are never empty; treat as absent when optional */
        if (!required)
            return HUB_OK;
        fx_key(x, key);
        return fx_fail(x, HUB_EINVALID, "required element is empty");
    }
    *out = v->valuestring;
    return HUB_OK;
}

int fx_obj(struct fx *x, const cJSON *o, const char *key, bool required,
           const cJSON **out)
{
    const cJSON *v = fx_get(o, key);
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v)) {
        if (!required)
            return HUB_OK;
        fx_key(x, key);
        return fx_fail(x, HUB_EINVALID, "required element is missing");
    }
    if (!cJSON_IsObject(v)) {
        fx_key(x, key);
        return fx_fail(x, HUB_EINVALID, "expected an object");
    }
    *out = v;
    return HUB_OK;
}

int fx_arr(struct fx *x, const cJSON *o, const char *key, const cJSON **out,
           size_t *n)
{
    const cJSON *v = fx_get(o, key);
    *out = NULL;
    *n = 0;
    if (v == NULL || cJSON_IsNull(v))
        return HUB_OK;
    if (!cJSON_IsArray(v)) {
        fx_key(x, key);
        return fx_fail(x, HUB_EINVALID, "expected an array");
    }
    *out = v;
    *n = (size_t)cJSON_GetArraySize(v);
    return HUB_OK;
}

int fx_bool(struct fx *x, const cJSON *o, const char *key, int *out)
{
    const cJSON *v = fx_get(o, key);
    *out = -1;
    if (v == NULL)
        return HUB_OK;
    if (!cJSON_IsBool(v)) {
        fx_key(x, key);
        return fx_fail(x, HUB_EINVALID, "expected true or false");
    }
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return HUB_OK;
}

/* FHIR date/dateTime/instant: YYYY[-MM[-DD[Thh:mm[:ss[.f]][Z|+hh:mm]]]],
 * each part in its range as R4's regex has it ("Dates SHALL be valid
 * dates"): no year 0000, months 01-12, days to the month's last, hours
 * 00-23, minutes 00-59, seconds 00-60 (a leap second), an offset of at
 * most 13:59 or 14:00. Seconds may be left out (the hub reads hh:mm). */
bool fx_iso_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 4 || !ascii_digits(s, 4) || memcmp(s, "0000", 4) == 0)
        return false;
    if (n == 4)
        return true;
    if (n < 7 || s[4] != '-' || !ascii_digits(s + 5, 2))
        return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + ascii_num2(s + 2);
    int mo = ascii_num2(s + 5);
    if (mo < 1 || mo > 12)
        return false;
    if (n == 7)
        return true;
    if (n < 10 || s[7] != '-' || !ascii_digits(s + 8, 2) ||
        ascii_num2(s + 8) < 1 || ascii_num2(s + 8) > days_in_month(y, mo))
        return false;
    if (n == 10)
        return true;
    if (s[10] != 'T' || n < 16 || !ascii_digits(s + 11, 2) || s[13] != ':' ||
        !ascii_digits(s + 14, 2) || ascii_num2(s + 11) > 23 ||
        ascii_num2(s + 14) > 59)
        return false;
    size_t i = 16;
    if (i < n && s[i] == ':') {
        if (i + 3 > n || !ascii_digits(s + i + 1, 2) ||
            ascii_num2(s + i + 1) > 60)
            return false;
        i += 3;
        if (i < n && s[i] == '.') {
            size_t j = i + 1;
            while (j < n && isdigit((unsigned char)s[j]))
                j++;
            if (j == i + 1 || j - i > 10)
                return false;
            i = j;
        }
    }
    if (i == n)
        return true;
    if (s[i] == 'Z')
        return i + 1 == n;
    if ((s[i] == '+' || s[i] == '-') && i + 6 == n &&
        ascii_digits(s + i + 1, 2) && s[i + 3] == ':' &&
        ascii_digits(s + i + 4, 2)) {
        int oh = ascii_num2(s + i + 1), om = ascii_num2(s + i + 4);
        return om <= 59 && (oh <= 13 || (oh == 14 && om == 0));
    }
    return false;
}

int fx_date(struct fx *x, const cJSON *o, const char *key, const char **out)
{
    int rc = fx_str(x, o, key, false, out);
    if (rc || *out == NULL)
        return rc;
    if (!fx_iso_ok(*out)) {
        *out = NULL;
        fx_key(x, key);
        return fx_fail(x, HUB_EINVALID, "date is not ISO 8601");
    }
    return HUB_OK;
}

int fx_enum(struct fx *x, const cJSON *o, const char *key, bool required,
            const char *const *allowed, const char **out)
{
    int rc = fx_str(x, o, key, required, out);
    if (rc || *out == NULL)
        return rc;
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(*out, allowed[i]) == 0)
            return HUB_OK;
    *out = NULL;
    fx_key(x, key);
    return fx_fail(x, HUB_EINVALID, "code is not in the required value set");
}

bool fx_code_empty(const struct fx_code *c)
{
    return !c->code && !c->system && !c->display && !c->text;
}

/*
 * How standard a coding's system is, lower first (F560): FHIR's own code
 * systems (the ones R4 binds its category and status elements to; not the
 * external systems HL7 names under /fhir/sid/), then SNOMED CT, LOINC and
 * ICD-10 (by any of their names; a finding before its Z code translation),
 * then any other system (a vendor's code set: Cerner writes its own coding
 * first, flagged userSelected, and the HL7 one after it), then none.
 */
static int system_rank(const char *sys)
{
    if (sys == NULL)
        return 5;
    struct slice ss = slice_from_cstr(sys);
    if (strncmp(sys, "http://terminology.hl7.org/CodeSystem/", 38) == 0 ||
        (strncmp(sys, "http://hl7.org/fhir/", 20) == 0 &&
         strncmp(sys + 20, "sid/", 4) != 0))
        return 0;
    if (dict_is_snomed(ss))
        return 1;
    if (strcmp(sys, "http://loinc.org") == 0)
        return 2;
    if (dict_is_icd10(ss))
        return 3;
    return 4;
}

/* Whether coding `k` is a better pick than `cur`: the preferred system,
 * else the more standard system, else the smaller system and code. FHIR
 * gives the codings of a CodeableConcept no order, so the pick never
 * depends on it (F560; a Condition's code has its own order, F85). */
static bool better_coding(const struct fx_code *k, const struct fx_code *cur,
                          const char *prefer)
{
    if (prefer) {
        bool kp = k->system && strcmp(k->system, prefer) == 0;
        bool cp = cur->system && strcmp(cur->system, prefer) == 0;
        if (kp != cp)
            return kp;
    }
    int rk = system_rank(k->system), rc = system_rank(cur->system);
    if (rk != rc)
        return rk < rc;
    int c = strcmp(k->system ? k->system : "", cur->system ? cur->system : "");
    if (c != 0)
        return c < 0;
    c = strcmp(k->code ? k->code : "", cur->code ? cur->code : "");
    if (c != 0)
        return c < 0;
    return strcmp(k->display ? k->display : "",
                  cur->display ? cur->display : "") < 0;
}

int fx_cc_node(struct fx *x, const cJSON *cc, const char *prefer,
               struct fx_code *out)
{
    const cJSON *codings;
    size_t n;
    int rc;
    memset(out, 0, sizeof(*out));
    if (cc == NULL)
        return HUB_OK;
    if (!cJSON_IsObject(cc))
        return fx_fail(x, HUB_EINVALID, "expected a CodeableConcept object");
    if ((rc = fx_str(x, cc, "text", false, &out->text)) ||
        (rc = fx_arr(x, cc, "coding", &codings, &n)))
        return rc;
    size_t old = fx_key(x, "coding");
    size_t i = 0;
    bool picked = false;
    for (const cJSON *c = codings ? codings->child : NULL; c; c = c->next, i++) {
        size_t o2 = fx_idx(x, i);
        struct fx_code k = { 0 };
        if ((rc = fx_coding(x, c, &k)))
            return rc;
        if ((k.code || k.display) &&
            (!picked || better_coding(&k, out, prefer))) {
            k.text = out->text;
            *out = k;
            picked = true;
        }
        fx_pop(x, o2);
    }
    fx_pop(x, old);
    return HUB_OK;
}

int fx_cc(struct fx *x, const cJSON *o, const char *key, const char *prefer,
          struct fx_code *out)
{
    const cJSON *v;
    memset(out, 0, sizeof(*out));
    int rc = fx_obj(x, o, key, false, &v);
    if (rc || v == NULL)
        return rc;
    size_t old = fx_key(x, key);
    rc = fx_cc_node(x, v, prefer, out);
    if (rc == HUB_OK)
        fx_pop(x, old);
    return rc;
}

#define SDOH_LEGACY "http://hl7.org/fhir/us/sdoh-cc/CodeSystem/sdohcc-temporary-codes"

/* The SDOH domains among the codings of one CodeableConcept (the Gravity
 * code system or HL7 Chile's copy of it, F166, or the STU1
 * "<domain>-domain" codes), each once, in order, at most `cap`. */
static int cc_domains(struct fx *x, const cJSON *cc, const char **doms,
                      size_t *n, size_t cap)
{
    const cJSON *codings;
    size_t m;
    int rc;
    if (!cJSON_IsObject(cc))
        return fx_fail(x, HUB_EINVALID, "expected a CodeableConcept object");
    if ((rc = fx_arr(x, cc, "coding", &codings, &m)))
        return rc;
    for (const cJSON *k = codings ? codings->child : NULL; k; k = k->next) {
        const cJSON *sys = fx_get(k, "system");
        const cJSON *code = fx_get(k, "code");
        if (!cJSON_IsString(sys) || !cJSON_IsString(code))
            continue;
        struct slice cs = slice_from_cstr(code->valuestring);
        if (strcmp(sys->valuestring, SDOH_LEGACY) == 0 && cs.len > 7 &&
            memcmp(cs.p + cs.len - 7, "-domain", 7) == 0)
            cs.len -= 7;    /* STU1 "food-insecurity-domain" */
        else if (!fx_is_sdoh_system(sys->valuestring))
            continue;
        const struct dict_domain *dm = dict_domain_find(x->d, cs);
        if (dm)
            strset_add(doms, n, cap, dm->code);
    }
    return HUB_OK;
}

int fx_domains_of(struct fx *x, const cJSON *o, const char *key,
                  const char **doms, size_t cap, size_t *n)
{
    const cJSON *arr;
    size_t m;
    int rc;
    *n = 0;
    /* category is 0..* in most resources but 0..1 in Procedure */
    const cJSON *v = fx_get(o, key);
    if (v && cJSON_IsObject(v)) {
        size_t old = fx_key(x, key);
        if ((rc = cc_domains(x, v, doms, n, cap)))
            return rc;
        fx_pop(x, old);
        return HUB_OK;
    }
    if ((rc = fx_arr(x, o, key, &arr, &m)))
        return rc;
    size_t old = fx_key(x, key);
    size_t i = 0;
    for (const cJSON *c = arr ? arr->child : NULL; c; c = c->next, i++) {
        size_t o2 = fx_idx(x, i);
        if ((rc = cc_domains(x, c, doms, n, cap)))
            return rc;
        fx_pop(x, o2);
    }
    fx_pop(x, old);
    return HUB_OK;
}

int fx_domain_of(struct fx *x, const cJSON *o, const char *key,
                 const char **domain)
{
    size_t n;
    *domain = NULL;
    return fx_domains_of(x, o, key, domain, 1, &n);
}

/* ---- references --------------------------------------------------------------- */

/* "Type/id" at the end of `ref` (absolute or relative, _history stripped). */
bool fx_ref_type_id(const char *ref, struct slice *type, struct slice *id)
{
    const char *h = strstr(ref, "/_history/");
    size_t n = h ? (size_t)(h - ref) : strlen(ref);
    const char *slash = NULL;
    for (size_t i = n; i-- > 0;)
        if (ref[i] == '/') {
            slash = ref + i;
            break;
        }
    if (slash == NULL || slash == ref)
        return false;
    const char *ts = slash;
    while (ts > ref && ts[-1] != '/')
        ts--;
    *type = (struct slice){ ts, (size_t)(slash - ts) };
    *id = (struct slice){ slash + 1, n - (size_t)(slash + 1 - ref) };
    return type->len > 0 && id->len > 0 && isupper((unsigned char)ts[0]);
}

bool fx_ref_conditional(const char *ref, struct slice *type,
                        const char **query)
{
    size_t n = 0;
    if (!isupper((unsigned char)ref[0]))
        return false;
    while (isalnum((unsigned char)ref[n]))
        n++;
    if (ref[n] != '?' || ref[n + 1] == '\0')
        return false;
    *type = (struct slice){ ref, n };
    *query = ref + n + 1;
    return true;
}

bool fx_ref_abs_conditional(const char *ref, struct slice *type)
{
    if (strncmp(ref, "http://", 7) != 0 && strncmp(ref, "https://", 8) != 0)
        return false;
    const char *q = strchr(ref, '?');
    if (q == NULL)
        return false;
    const char *seg = q;
    while (seg[-1] != '/')      /* stops at the scheme's "//" at worst */
        seg--;
    const char *cq;
    return fx_ref_conditional(seg, type, &cq);
}

/* A word at a time (multiply and fold), continued from `h`: URLs of one
 * bundle share long prefixes, so every byte counts, but bytewise FNV was a
 * few percent of the adapter. Not a defence against chosen collisions:
 * with at most FHIR_MAX_ENTRIES entries, the worst case is the linear scan
 * this replaced. */
static uint64_t hash_add(uint64_t h, const char *p, size_t n)
{
    const uint64_t k = 0x9e3779b97f4a7c15u;
    uint64_t w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    if (i < n) {
        w = 0;
        memcpy(&w, p + i, n - i);
        h = (h ^ w ^ ((uint64_t)(n - i) << 56)) * k;
        h ^= h >> 29;
    }
    return h;
}
#define HASH_START 0x84222325cbf29ce4u

static uint64_t hash_tid(struct slice t, struct slice id)
{
    return hash_add(hash_add(hash_add(HASH_START, t.p, t.len), "/", 1),
                    id.p, id.len);
}

/* Linear probing keeps entries of one key in index order along the probe
 * sequence, so the first live match is the lowest index, as a scan finds. */
static void slot_put(uint32_t *tab, size_t mask, uint64_t h, size_t i)
{
    size_t k = h & mask;
    while (tab[k])
        k = (k + 1) & mask;
    tab[k] = (uint32_t)i + 1;
}

void fx_index_entries(struct fx *x)
{
    size_t n = 16;
    while (n < 2 * x->n_ents)
        n *= 2;
    x->by_url = arena_zalloc(x->a, n * sizeof(*x->by_url));
    x->by_tid = arena_zalloc(x->a, n * sizeof(*x->by_tid));
    x->slot_mask = n - 1;
    for (size_t i = 0; i < x->n_ents; i++) {
        const struct fx_entry *e = &x->ents[i];
        if (e->full_url && e->type)
            slot_put(x->by_url, x->slot_mask,
                     hash_add(HASH_START, e->full_url, strlen(e->full_url)), i);
        if (e->type && e->id)
            slot_put(x->by_tid, x->slot_mask,
                     hash_tid(slice_from_cstr(e->type),
                              slice_from_cstr(e->id)), i);
    }
}

/* Which refused batch entries a look-up finds: none (fx_resolve); those
 * refused in their own reading too, not those refused before any entry
 * was read (fx_resolve_read, F2104); or any (a reference that carries
 * only a name, F2103). */
enum found { FOUND_LIVE, FOUND_READ, FOUND_ANY };

static bool found(const struct fx_entry *e, enum found f)
{
    return !e->failed || f == FOUND_ANY || (f == FOUND_READ && e->settled);
}

/* The first entry (with a type) whose fullUrl is `ref` that `f` finds;
 * the others are passed by. */
static struct fx_entry *entry_by_url(struct fx *x, const char *ref,
                                     enum found f)
{
    if (x->by_url) {
        size_t k = hash_add(HASH_START, ref, strlen(ref)) & x->slot_mask;
        for (; x->by_url[k]; k = (k + 1) & x->slot_mask) {
            struct fx_entry *e = &x->ents[x->by_url[k] - 1];
            if (found(e, f) && strcmp(e->full_url, ref) == 0)
                return e;
        }
        return NULL;
    }
    for (size_t i = 0; i < x->n_ents; i++) {
        struct fx_entry *e = &x->ents[i];
        if (e->full_url && e->type && found(e, f) &&
            strcmp(e->full_url, ref) == 0)
            return e;
    }
    return NULL;
}

/* "Type/id" into the arena */
static const char *type_id(struct arena *a, struct slice t, struct slice id)
{
    char *s = arena_alloc(a, t.len + id.len + 2);
    memcpy(s, t.p, t.len);
    s[t.len] = '/';
    memcpy(s + t.len + 1, id.p, id.len);
    s[t.len + 1 + id.len] = '\0';
    return s;
}

/* The first entry of type `t` and id `id` that `f` finds; the others
 * are passed by. */
static struct fx_entry *entry_by_tid(struct fx *x, struct slice t,
                                     struct slice id, enum found f)
{
    if (x->by_tid) {
        size_t k = hash_tid(t, id) & x->slot_mask;
        for (; x->by_tid[k]; k = (k + 1) & x->slot_mask) {
            struct fx_entry *e = &x->ents[x->by_tid[k] - 1];
            if (found(e, f) && slice_eq(t, e->type) && slice_eq(id, e->id))
                return e;
        }
        return NULL;
    }
    for (size_t i = 0; i < x->n_ents; i++) {
        struct fx_entry *e = &x->ents[i];
        if (e->type && e->id && found(e, f) && slice_eq(t, e->type) &&
            slice_eq(id, e->id))
            return e;
    }
    return NULL;
}

static struct fx_entry *resolve(struct fx *x, const char *ref, enum found f)
{
    if (ref == NULL)
        return NULL;
    struct fx_entry *u = entry_by_url(x, ref, f);
    if (u)
        return u;
    if (strncmp(ref, "urn:", 4) == 0)
        return NULL;
    struct slice t, id;
    if (!fx_ref_type_id(ref, &t, &id))
        return NULL;
    return entry_by_tid(x, t, id, f);
}

struct fx_entry *fx_resolve(struct fx *x, const char *ref)
{
    /* a refused batch entry (maybe without even a type) resolves to nothing */
    return resolve(x, ref, FOUND_LIVE);
}

struct fx_entry *fx_resolve_read(struct fx *x, const char *ref)
{
    return resolve(x, ref, FOUND_READ);
}

/* A resource's contained array beyond its first CONTAINED_SCAN members,
 * indexed by id on the first look-up past them (F3308: 9,900 contained
 * Conditions named by 9,900 diagnoses were N²/2 comparisons). Open
 * addressing as the entries' (slot_put): member index + 1 per slot, the
 * first of an id met first along its probe sequence, as a scan finds. */
struct fx_cindex {
    const cJSON *arr;           /* the contained array indexed */
    const cJSON **res;          /* its members from CONTAINED_SCAN on */
    const char **ids;           /* each one's id, or NULL */
    uint32_t *slot;
    size_t n, mask;
    struct fx_cindex *next;
};
#define CONTAINED_SCAN 8

/* The index of `arr` past its first CONTAINED_SCAN members, made once and
 * kept at the head of x's list: the look-ups of one resource come
 * together, so the list is walked only for a resource's first. */
static struct fx_cindex *contained_index(struct fx *x, const cJSON *arr,
                                         const cJSON *from)
{
    struct fx_cindex **pp = &x->cindex, *ci;
    for (; (ci = *pp) != NULL; pp = &ci->next)
        if (ci->arr == arr) {
            *pp = ci->next;
            goto front;
        }
    ci = arena_zalloc(x->a, sizeof(*ci));
    ci->arr = arr;
    for (const cJSON *c = from; c; c = c->next)
        ci->n++;
    size_t cap = 16;
    while (cap < 2 * ci->n)
        cap *= 2;
    ci->mask = cap - 1;
    ci->res = arena_alloc(x->a, ci->n * sizeof(*ci->res));
    ci->ids = arena_alloc(x->a, ci->n * sizeof(*ci->ids));
    ci->slot = arena_zalloc(x->a, cap * sizeof(*ci->slot));
    size_t i = 0;
    for (const cJSON *c = from; c; c = c->next, i++) {
        const cJSON *id = fx_get(c, "id");
        ci->res[i] = c;
        ci->ids[i] = cJSON_IsString(id) ? id->valuestring : NULL;
        if (ci->ids[i])
            slot_put(ci->slot, ci->mask,
                     hash_add(HASH_START, ci->ids[i], strlen(ci->ids[i])), i);
    }
front:
    ci->next = x->cindex;
    x->cindex = ci;
    return ci;
}

/* The first member of the index whose id is `id`, *i its place there */
static const cJSON *cindex_find(struct fx *x, const struct fx_cindex *ci,
                                const char *id, size_t *i)
{
    size_t k = hash_add(HASH_START, id, strlen(id)) & ci->mask;
    for (; ci->slot[k]; k = (k + 1) & ci->mask) {
        *i = ci->slot[k] - 1;
        x->contained_cmps++;
        if (strcmp(ci->ids[*i], id) == 0)
            return ci->res[*i];
    }
    return NULL;
}

const cJSON *fx_contained(struct fx *x, const cJSON *res, const char *ref,
                          size_t *idx)
{
    if (ref == NULL || ref[0] != '#' || ref[1] == '\0')
        return NULL;
    const cJSON *arr = fx_get(res, "contained");
    size_t i = 0;
    const cJSON *c = cJSON_IsArray(arr) ? arr->child : NULL;
    /* a few: scanned, as most resources hold (no index to make) */
    for (; c && i < CONTAINED_SCAN; c = c->next, i++) {
        const cJSON *id = fx_get(c, "id");
        x->contained_cmps++;
        if (cJSON_IsString(id) && strcmp(id->valuestring, ref + 1) == 0)
            break;
    }
    if (c && i == CONTAINED_SCAN) {
        size_t k = 0;
        c = cindex_find(x, contained_index(x, arr, c), ref + 1, &k);
        i += k;
    }
    if (c && idx)
        *idx = i;
    return c;
}

/* The length of r's "http://" or "https://", or 0: a scheme is read
 * whatever its case (RFC 3986 3.1), "HTTPS://" too. */
static size_t http_prefix(const char *r)
{
    return strncasecmp(r, "https://", 8) == 0  ? 8
           : strncasecmp(r, "http://", 7) == 0 ? 7
                                                : 0;
}

/* r opens with a scheme (RFC 3986 3.1: a letter, then letters, digits,
 * '+', '-', '.' up to a ':'): it is an absolute URI, never a relative
 * Type/id (4.2: a relative reference's first segment has no colon). */
static bool has_scheme(const char *r)
{
    if (!isalpha((unsigned char)r[0]))
        return false;
    for (size_t i = 1; r[i] != ':'; i++)
        if (!isalnum((unsigned char)r[i]) && r[i] != '+' && r[i] != '-' &&
            r[i] != '.')
            return false;       /* the NUL too */
    return true;
}

/* An absolute http(s) URL "resolves to the location where the resource is
 * found" (R4 Reference.reference) without having to end in Type/id: the
 * SDOHCC Task For Patient focuses on a CDC PDF (F800). It names a host
 * (RFC 9110 4.2.1: an http URI's host is never empty, so not "http://?",
 * "http://#", "http://:80", F882). Kept as sent. */
static bool abs_url(const char *r)
{
    size_t n = http_prefix(r);
    return n != 0 && r[n] != '\0' && strchr("/?#:", r[n]) == NULL;
}

/* A reference the hub carries: Type/id (relative, or after an http(s)
 * base), or an absolute http(s) URL. FHIR R4 (references.html) knows no
 * other scheme before Type/id: "javascript:x//Patient/1", "data:,/X/y"
 * or "Patient:1/Observation/2" are no reference the hub can resolve, and
 * a partner that shows one as a link would run it (F883). */
static bool ref_carried(const char *r)
{
    struct slice t, id;
    if (fx_ref_type_id(r, &t, &id))    /* Type first: nothing stands before */
        return t.p == r || !has_scheme(r) || http_prefix(r) != 0;
    return abs_url(r);
}

/* The entry a reference names: fx_resolve's, else, for a urn of a batch,
 * the entry of that fullUrl the batch refused. A reference that carries
 * only a name (F2103) names it whatever became of it, so that whether
 * the naming entry is accepted does not hang on which came first. */
static struct fx_entry *named_entry(struct fx *x, const char *ref)
{
    struct fx_entry *e = fx_resolve(x, ref);
    if (e == NULL && ref && x->batch && strncmp(ref, "urn:", 4) == 0)
        e = entry_by_url(x, ref, FOUND_ANY);
    return e;
}

/* "Type/urn:uuid:X" is no R4 reference (an id holds no ':'): Tech by
 * Design's SHIN-NY bundles write it for the bundle's entry (F2323). When
 * the bundle has an entry of that Type under fullUrl "urn:uuid:X", the
 * reference is that urn (r's own tail); else, when it has one of that
 * Type and id X (the same bundle's Patient has fullUrl and id X), it is
 * "Type/X". NULL when r is no such slip or the bundle has no such entry:
 * then r is refused as the malformed reference it is. */
static const char *urn_slip(struct fx *x, const char *r, bool *slip)
{
    size_t n = 0;
    while (isalpha((unsigned char)r[n]))
        n++;
    *slip = n > 0 && isupper((unsigned char)r[0]) && r[n] == '/' &&
            strncmp(r + n + 1, "urn:uuid:", 9) == 0;
    if (!*slip)
        return NULL;
    struct slice t = { r, n };
    const char *urn = r + n + 1;
    const struct fx_entry *e = entry_by_url(x, urn, FOUND_ANY);
    if (e && slice_eq(t, e->type))
        return urn;
    struct slice id = slice_from_cstr(urn + 9);
    if (id.len && entry_by_tid(x, t, id, FOUND_ANY))
        return type_id(x->a, t, id);
    return NULL;
}

const char *fx_unslip(struct fx *x, const char *r)
{
    bool slip;
    const char *named = r ? urn_slip(x, r, &slip) : NULL;
    return named ? named : r;
}

struct fx_entry *fx_resolve_meant(struct fx *x, const char *ref)
{
    return fx_resolve(x, fx_unslip(x, ref));
}

/* fx_ref_node; a urn must name an entry that `f` finds: FOUND_ANY, the
 * reference carries only a name (F2103), and need only name an entry of
 * the batch (named_entry); FOUND_READ, a panel's member (F2104). */
static int ref_node(struct fx *x, const cJSON *ref, enum found f,
                    const char **out)
{
    int rc;
    *out = NULL;
    if (!cJSON_IsObject(ref))
        return fx_fail(x, HUB_EINVALID, "expected a Reference object");
    if ((rc = fx_str(x, ref, "reference", false, out)) || *out == NULL)
        return rc;
    const char *r = *out;
    for (const char *p = r; *p; p++)
        if ((unsigned char)*p <= ' ') {
            fx_key(x, "reference");
            return fx_fail(x, HUB_EINVALID, "reference contains white space");
        }
    bool slip;
    const char *named = urn_slip(x, r, &slip);
    if (slip && named == NULL) {
        fx_key(x, "reference");
        return fx_fail(x, HUB_EINVALID, "reference is not Type/id or a URL");
    }
    if (slip) {
        fx_warn(x, "reference", "reference written Type/urn:uuid: read as "
                                "the bundle's entry it names");
        *out = r = named;
    }
    if (strncmp(r, "urn:uuid:", 9) == 0 || strncmp(r, "urn:oid:", 8) == 0) {
        if ((f == FOUND_ANY ? named_entry(x, r) : resolve(x, r, f)) ==
            NULL) {
            fx_key(x, "reference");
            /* a lone resource has no bundle to look in (Synthea's entries
             * posted one by one keep their urn:uuid subject, F1381) */
            return fx_fail(x, HUB_EINVALID, x->bundle
                           ? "reference is not resolved inside the bundle"
                           : "urn reference in a resource sent without its bundle");
        }
        return HUB_OK;
    }
    if (r[0] == '#')
        return HUB_OK;          /* contained resource */
    /* "Patient?given=..&birthdate=..": a search the sender asks the
     * receiver to run (R4 transactions); the hub holds no resources to
     * search, so it is named for what it is (fx_patient reads a patient's
     * by one identifier) */
    struct slice ct;
    const char *cq;
    if (fx_ref_conditional(r, &ct, &cq)) {
        fx_key(x, "reference");
        return fx_fail(x, HUB_EINVALID,
                       "conditional reference (a search) is not resolved");
    }
    /* the same search written as a URL was carried as one, and became a
     * referral's performer (F1904, F2041): refused where the relative
     * one is, in the patient's words */
    if (fx_ref_abs_conditional(r, &ct)) {
        fx_key(x, "reference");
        return fx_fail(x, HUB_EINVALID, "conditional reference is absolute: "
                                        "R4 defines only relative ones "
                                        "(Type?identifier=...)");
    }
    if (!ref_carried(r)) {
        fx_key(x, "reference");
        return fx_fail(x, HUB_EINVALID, "reference is not Type/id or a URL");
    }
    return HUB_OK;
}

int fx_ref_node(struct fx *x, const cJSON *ref, const char **out)
{
    return ref_node(x, ref, FOUND_LIVE, out);
}

int fx_name_node(struct fx *x, const cJSON *ref, const char **out)
{
    return ref_node(x, ref, FOUND_ANY, out);
}

int fx_member_node(struct fx *x, const cJSON *ref, const char **out)
{
    return ref_node(x, ref, FOUND_READ, out);
}

/* The entry a subject's reference names, refused or not (who it names
 * does not hang on what became of it): "Type/urn:uuid:X" as the entry
 * it slips for (F2323); NULL when the bundle holds none. */
static struct fx_entry *subject_entry(struct fx *x, const char *r)
{
    bool slip;
    const char *named = urn_slip(x, r, &slip);
    if (slip)
        r = named;
    return r ? resolve(x, r, FOUND_ANY) : NULL;
}

static bool str_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether the resource of e lists `id` (system and value) among its
 * identifiers */
static bool lists_identifier(const struct fx_entry *e, const cJSON *id)
{
    const char *v = fx_str_of(id, "value"), *sys = fx_str_of(id, "system");
    const cJSON *ids = fx_get(e->res, "identifier");
    if (v == NULL || !cJSON_IsArray(ids))
        return false;
    for (const cJSON *i = ids->child; i; i = i->next) {
        const char *iv = fx_str_of(i, "value");
        if (iv && strcmp(iv, v) == 0 && str_same(fx_str_of(i, "system"), sys))
            return true;
    }
    return false;
}

const struct fx_entry *fx_patient_entry(struct fx *x, const cJSON *p)
{
    const char *r = fx_str_of(p, "reference");
    if (r && r[0])
        return subject_entry(x, r);
    const cJSON *id = fx_get(p, "identifier");
    for (size_t i = 0; id && i < x->n_ents; i++)
        if (!x->ents[i].failed && strcmp(x->ents[i].type, "Patient") == 0 &&
            lists_identifier(&x->ents[i], id))
            return &x->ents[i];
    return NULL;
}

bool fx_same_patient(struct fx *x, const cJSON *a, const cJSON *b)
{
    const char *ra = fx_str_of(a, "reference"), *rb = fx_str_of(b, "reference");
    /* the common case, a panel and its members written alike: the same
     * words resolve alike, so no look-up (8% of a screening bundle's
     * reading went to resolving both) nor identifier (F2708) */
    if (ra && rb && strcmp(ra, rb) == 0)
        return true;
    const cJSON *ia = fx_get(a, "identifier"), *ib = fx_get(b, "identifier");
    const char *va = fx_str_of(ia, "value"), *vb = fx_str_of(ib, "value");
    if ((!ra && !va) || (!rb && !vb))
        return true;            /* one names no one: it takes the other's */
    struct fx_entry *ea = ra ? subject_entry(x, ra) : NULL;
    struct fx_entry *eb = rb ? subject_entry(x, rb) : NULL;
    if (ea && eb)
        return ea == eb;
    /* an identifier the message's Patient lists is that Patient (F2960) */
    if ((ea && !rb && lists_identifier(ea, ib)) ||
        (eb && !ra && lists_identifier(eb, ia)))
        return true;
    /* the same identifier is the same person whatever form the other
     * names it by (F2740) */
    if (va && vb && strcmp(va, vb) == 0 &&
        str_same(fx_str_of(ia, "system"), fx_str_of(ib, "system")))
        return true;
    if (ea || eb)
        return false;
    /* neither in the message: the same Type/id, whatever the server base
     * or _history version around it (F2740) */
    struct slice ta, ida, tb, idb;
    return ra && rb && fx_ref_type_id(ra, &ta, &ida) &&
           fx_ref_type_id(rb, &tb, &idb) && slice_eq_slice(ta, tb) &&
           slice_eq_slice(ida, idb);
}

static int ref_member(struct fx *x, const cJSON *o, const char *key,
                      bool required, bool name_only, const char **out)
{
    const cJSON *v;
    int rc = fx_obj(x, o, key, required, &v);
    *out = NULL;
    if (rc || v == NULL)
        return rc;
    size_t old = fx_key(x, key);
    rc = ref_node(x, v, name_only ? FOUND_ANY : FOUND_LIVE, out);
    if (rc)
        return rc;
    if (required && *out == NULL)
        return fx_fail(x, HUB_EINVALID, "reference is missing");
    fx_pop(x, old);
    return HUB_OK;
}

int fx_ref(struct fx *x, const cJSON *o, const char *key, bool required,
           const char **out)
{
    return ref_member(x, o, key, required, false, out);
}

int fx_name_ref(struct fx *x, const cJSON *o, const char *key,
                const char **out)
{
    return ref_member(x, o, key, false, true, out);
}

const char *fx_entry_name(struct fx *x, const struct fx_entry *e)
{
    if (e->name)
        return e->name;         /* made once the entry was read */
    if (e->id == NULL)          /* e->type lies in the tree, freed on return */
        return arena_strndup(x->a, e->type, strlen(e->type));
    return type_id(x->a, slice_from_cstr(e->type), slice_from_cstr(e->id));
}

/* fx_ref_name, or fx_name_of when `refused_too` */
static const char *ref_name(struct fx *x, const char *ref, bool refused_too)
{
    if (ref == NULL)
        return NULL;
    struct fx_entry *e = refused_too ? named_entry(x, ref) : fx_resolve(x, ref);
    if (e && e->id)
        return fx_entry_name(x, e);
    struct slice t, id;
    if (strncmp(ref, "urn:", 4) != 0 && fx_ref_type_id(ref, &t, &id))
        return type_id(x->a, t, id);
    return ref;
}

const char *fx_ref_name(struct fx *x, const char *ref)
{
    return ref_name(x, ref, false);
}

const char *fx_name_of(struct fx *x, const char *ref)
{
    return ref_name(x, ref, true);
}

/* ---- writing helpers ------------------------------------------------------------ */

bool fx_has_code(const cJSON *v, bool (*in_system)(const char *),
                 const char *code)
{
    const cJSON *one = cJSON_IsArray(v) ? v->child : v;
    for (; one; one = cJSON_IsArray(v) ? one->next : NULL) {
        const cJSON *codings = fx_get(one, "coding");
        for (const cJSON *k = cJSON_IsArray(codings) ? codings->child : NULL;
             k; k = k->next) {
            const char *c = fx_str_of(k, "code");
            const char *sys = fx_str_of(k, "system");
            if (c && strcmp(c, code) == 0 &&
                (!in_system || (sys && in_system(sys))))
                return true;
        }
    }
    return false;
}

void fx_jw_code(struct jw *w, const char *key, const struct fx_code *c)
{
    if (fx_code_empty(c))
        return;
    if (key)
        jw_key(w, key);
    jw_obj_begin(w);
    jw_kv_cstr(w, "code", c->code);
    jw_kv_cstr(w, "system", c->system);
    jw_kv_cstr(w, "display", c->display);
    jw_kv_cstr(w, "text", c->text);
    jw_obj_end(w);
}

void fx_label_add(struct fx *x, const char *label)
{
    strset_add(x->labels, &x->n_labels, FX_MAX_LABELS, label);
}

/* Labels of meta.security into `dst` (the event's or the bundle's). */
static int labels_into(struct fx *x, const cJSON *res, const char **dst,
                       size_t *n)
{
    const cJSON *meta, *sec;
    size_t m;
    int rc;
    if ((rc = fx_obj(x, res, "meta", false, &meta)) || meta == NULL)
        return rc;
    size_t old = fx_key(x, "meta");
    if ((rc = fx_arr(x, meta, "security", &sec, &m)))
        return rc;
    size_t o2 = fx_key(x, "security");
    size_t i = 0;
    for (const cJSON *c = sec ? sec->child : NULL; c; c = c->next, i++) {
        size_t o3 = fx_idx(x, i);
        const char *sys, *code;
        if (!cJSON_IsObject(c))
            return fx_fail(x, HUB_EINVALID, "expected a Coding object");
        if ((rc = fx_str(x, c, "system", false, &sys)) ||
            (rc = fx_str(x, c, "code", false, &code)))
            return rc;
        const char *lab = code ? dict_security_label(x->d, slice_from_cstr(sys),
                                                     slice_from_cstr(code))
                               : NULL;
        bool dup = false;
        for (size_t k = 0; lab && k < *n; k++)
            dup |= strcmp(dst[k], lab) == 0;
        if (lab && !dup && *n < FX_MAX_LABELS)
            dst[(*n)++] = lab;
        fx_pop(x, o3);
    }
    fx_pop(x, o2);
    fx_pop(x, old);
    return HUB_OK;
}

int fx_labels(struct fx *x, const cJSON *res)
{
    return labels_into(x, res, x->labels, &x->n_labels);
}

void fx_reset_event(struct fx *x)
{
    x->n_warns = 0;
    x->n_labels = 0;
}

/* ---- events ---------------------------------------------------------------------- */

/* One warning of the entry being read, for its fhir_entry_result: once,
 * however many of its events carry it. */
static void entry_warn(struct fx *x, const char *field, const char *what)
{
    for (size_t k = 0; k < x->n_ewarn; k++)
        if (x->ewarn[k].what == what && strcmp(x->ewarn[k].field, field) == 0)
            return;
    if (x->n_ewarn < FX_MAX_WARN)
        x->ewarn[x->n_ewarn++] = (struct fhir_warning){ field, what };
}

void fx_warn_entry(struct fx *x, const char *key, const char *what)
{
    size_t n = x->n_warns;
    fx_warn(x, key, what);
    if (x->n_warns > n) {
        entry_warn(x, x->warns[n].field, what);
        x->n_warns = n;         /* no event carries it */
    }
}

void fx_note_entry(struct fx *x, const struct fx_entry *e, const char *what)
{
    fx_at_entry(x, e);
    x->enote = (struct fhir_warning){ fx_path_text(x), what };
}

int fx_emit(struct fx *x, const struct fx_entry *e, const char *type,
            const char *occurred_at, struct slice patient,
            const char *body_key, struct slice body)
{
    struct jw w;
    struct slice json;
    jw_init(&w, x->a, EVENT_MAX_BYTES);
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "type", type);
    jw_key(&w, "source");
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "format", "fhir");
    jw_kv_cstr(&w, "message_id", x->message_id);
    jw_kv_cstr(&w, "resource", fx_entry_name(x, e));
    jw_obj_end(&w);
    jw_kv_cstr(&w, "occurred_at", occurred_at);
    jw_key(&w, "patient");
    jw_raw(&w, patient);
    jw_key(&w, body_key);
    jw_raw(&w, body);
    for (size_t i = 0; i < x->n_blabels; i++)
        fx_label_add(x, x->blabels[i]);
    if (x->n_labels) {
        jw_key(&w, "sensitivity");
        jw_arr_begin(&w);
        for (size_t i = 0; i < x->n_labels; i++)
            jw_cstr(&w, x->labels[i]);
        jw_arr_end(&w);
    }
    for (size_t i = 0; i < x->n_warns; i++)
        entry_warn(x, x->warns[i].field, x->warns[i].what);
    if (x->n_warns) {
        jw_key(&w, "warnings");
        jw_arr_begin(&w);
        for (size_t i = 0; i < x->n_warns; i++) {
            jw_obj_begin(&w);
            jw_kv_cstr(&w, "field", x->warns[i].field);
            jw_kv_cstr(&w, "what", x->warns[i].what);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
    }
    jw_obj_end(&w);
    if (jw_finish(&w, &json) != HUB_OK)
        return fx_fail(x, HUB_ELIMIT, "event is larger than the limit");
    int rc = canon_list_push(x->a, x->out, type, json);
    if (rc)
        return fx_fail(x, rc, "too many events in one message");
    return HUB_OK;
}

/* ---- the entry point --------------------------------------------------------------- */

/* When the sender made the body: Bundle.timestamp, else its
 * meta.lastUpdated (a resource's, when the body is one); NULL when it
 * says neither as ISO 8601. */
static const char *sent_at_of(const cJSON *root)
{
    const char *t = fx_str_of(root, "timestamp");
    if (t == NULL || !fx_iso_ok(t))
        t = fx_str_of(fx_get(root, "meta"), "lastUpdated");
    return t && fx_iso_ok(t) ? t : NULL;
}

static const char *message_id_of(struct fx *x, const cJSON *root,
                                 const char *type, const char *id,
                                 const char *version)
{
    const cJSON *ident = fx_get(root, "identifier");
    if (strcmp(type, "Bundle") == 0 && cJSON_IsObject(ident)) {
        const char *sys = fx_str_of(ident, "system"), *val = fx_str_of(ident, "value");
        if (val) {
            size_t n = (sys ? strlen(sys) : 0) + strlen(val) + 2;
            char *s = arena_alloc(x->a, n);
            snprintf(s, n, "%s|%s", sys ? sys : "", val);
            return s;
        }
    }
    if (id == NULL)
        return NULL;
    size_t n = strlen(type) + strlen(id) + (version ? strlen(version) : 0) + 16;
    char *s = arena_alloc(x->a, n);
    if (version)
        snprintf(s, n, "%s/%s/_history/%s", type, id, version);
    else
        snprintf(s, n, "%s/%s", type, id);
    return s;
}

/* "Bundle.entry[3].resource": an entry named by its place */
static const char *entry_place(struct arena *a, size_t index)
{
    size_t n = sizeof "Bundle.entry[].resource" + 20;
    char *s = arena_alloc(a, n);
    snprintf(s, n, "Bundle.entry[%zu].resource", index);
    return s;
}

/* Read the resource's own bookkeeping: resourceType, id, meta.versionId. */
static int entry_init(struct fx *x, struct fx_entry *e, const cJSON *res)
{
    int rc;
    const cJSON *meta;
    e->res = res;
    if (!cJSON_IsObject(res))
        return fx_fail(x, HUB_EINVALID, "resource is not an object");
    if ((rc = fx_str(x, res, "resourceType", true, &e->type)))
        return rc;
    for (const char *p = e->type; *p; p++)
        if (!isalpha((unsigned char)*p)) {
            fx_key(x, "resourceType");
            return fx_fail(x, HUB_EINVALID, "resourceType is not a name");
        }
    if ((rc = fx_str(x, res, "id", false, &e->id)) ||
        (rc = fx_obj(x, res, "meta", false, &meta)))
        return rc;
    if (meta) {
        size_t old = fx_key(x, "meta");
        if ((rc = fx_str(x, meta, "versionId", false, &e->version)))
            return rc;
        fx_pop(x, old);
    }
    /* in the caller's arena: results name entries after the tree is gone.
     * A resource without an id is its entry's urn:uuid / urn:oid fullUrl,
     * the name the bundle gives it and references use (a CIE bundle POSTs
     * its ServiceRequest so); by its type alone two would be one. With
     * neither, an entry is its place, as the outcome names it
     * ("Bundle.entry[3].resource"): unique in its message, the same on
     * every re-send (F3362); a lone resource is its type. */
    if (e->id)
        e->name = type_id(x->a, slice_from_cstr(e->type),
                          slice_from_cstr(e->id));
    else if (e->full_url && (strncmp(e->full_url, "urn:uuid:", 9) == 0 ||
                             strncmp(e->full_url, "urn:oid:", 8) == 0))
        e->name = arena_strndup(x->a, e->full_url, strlen(e->full_url));
    else if (x->bundle)
        e->name = entry_place(x->a, e->index);
    else
        e->name = arena_strndup(x->a, e->type, strlen(e->type));
    return HUB_OK;
}

/* A transaction or batch entry with no resource because its
 * request is a DELETE, GET or HEAD (FHIR R4 http.html): said so, at
 * request.method, not as a missing resource. The hub takes what is sent,
 * it neither deletes nor answers reads. */
static int no_resource(struct fx *x, const cJSON *entry)
{
    const cJSON *req = fx_get(entry, "request");
    const char *m = cJSON_GetStringValue(fx_get(req, "method"));
    if (fx_get(entry, "resource") || m == NULL ||
        (strcmp(m, "DELETE") != 0 && strcmp(m, "GET") != 0 &&
         strcmp(m, "HEAD") != 0))
        return HUB_OK;
    fx_key(x, "request");
    fx_key(x, "method");
    return fx_fail(x, HUB_EUNSUPPORTED,
                   strcmp(m, "DELETE") == 0
                       ? "a DELETE entry is not taken: the hub takes "
                         "resources as sent and deletes nothing"
                       : "a read (GET or HEAD) entry is not taken: the hub "
                         "takes resources, it does not answer searches");
}

/* Whether a searchset entry's search.mode is "outcome". */
static bool search_outcome(const cJSON *entry)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(entry, "search");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "mode");
    return cJSON_IsString(m) && strcmp(m->valuestring, "outcome") == 0;
}

static int one_entry(struct fx *x, struct fx_entry *e)
{
    const char *t = e->type;
    fx_reset_event(x);
    x->n_ewarn = 0;
    x->enote.what = NULL;
    fx_at_entry(x, e);
    if (e->note)
        fx_note_entry(x, e, e->note);
    if (e->consumed)
        return HUB_OK;
    if (strcmp(t, "QuestionnaireResponse") == 0)
        return fx_screening_qr(x, e);
    if (strcmp(t, "Observation") == 0)
        return fx_screening_obs(x, e);
    if (strcmp(t, "Condition") == 0)
        return fx_condition(x, e);
    if (strcmp(t, "Goal") == 0)
        return fx_goal(x, e);
    if (strcmp(t, "ServiceRequest") == 0)
        return fx_service_request(x, e);
    if (strcmp(t, "Task") == 0)
        return fx_task(x, e);
    if (strcmp(t, "CarePlan") == 0)
        return fx_careplan(x, e);
    if (strcmp(t, "Consent") == 0)
        return fx_consent(x, e);
    if (strcmp(t, "Procedure") == 0)
        return fx_procedure(x, e);
    if (e->adt_topic)
        return fx_encounter(x, e);
    if (strcmp(t, "Patient") == 0 || strcmp(t, "Organization") == 0 ||
        x->bundle)
        return HUB_OK;          /* context only */
    fx_key(x, "resourceType");
    return fx_fail(x, HUB_EUNSUPPORTED, "resource type is not supported");
}

static void result_entry(struct fx *x, struct fhir_result *res, size_t i,
                         int rc, size_t first)
{
    if (res == NULL)
        return;
    struct fhir_entry_result *r = &res->entries[i];
    /* a type of its own is not named back, nor its id with it */
    const char *t = x->ents[i].type;
    r->resource = t == NULL ? NULL
                  : strcmp(type_label(t), t) == 0 ? fx_entry_name(x, &x->ents[i])
                                                  : "Resource";
    r->status = rc;
    if (rc != HUB_OK && x->err)
        r->err = *x->err;
    r->first_event = first;
    r->n_events = rc == HUB_OK ? x->out->n - first : 0;
    if (rc == HUB_OK && x->n_ewarn) {
        struct fhir_warning *w =
            arena_alloc(x->a, x->n_ewarn * sizeof(*w));
        memcpy(w, x->ewarn, x->n_ewarn * sizeof(*w));
        r->warnings = w;
        r->n_warnings = x->n_ewarn;
    }
    if (rc == HUB_OK && r->n_events == 0)
        r->note = x->enote;
    x->n_ewarn = 0;
    x->enote.what = NULL;
}

/* An entry's outcome recorded: its events kept, or undone (out back to
 * `first`) and the entry refused. False when the refusal refuses the whole
 * Bundle (anything but a batch). */
static bool settle_entry(struct fx *x, struct fhir_result *res, size_t i,
                         int erc, size_t first)
{
    if (erc != HUB_OK) {
        x->out->n = first;
        if (!x->batch)
            return false;
        x->ents[i].failed = true;
        if (res)
            res->n_failed++;
    }
    x->ents[i].settled = true;
    result_entry(x, res, i, erc, first);
    return true;
}

/* Entry i read and settled (settle_entry), and whether it told an event.
 * False, with *rc its refusal, when that refuses the whole Bundle. */
static bool read_entry(struct fx *x, struct fhir_result *res, size_t i,
                       int *rc)
{
    struct fx_entry *e = &x->ents[i];
    size_t first = x->out->n;
    e->ahead = true;            /* its turn: never read ahead of itself */
    int erc = one_entry(x, e);
    if (!settle_entry(x, res, i, erc, first)) {
        *rc = erc;
        return false;
    }
    e->told = x->out->n > first;
    return true;
}

/* Whether batch entry e, a Condition or a ServiceRequest whose turn has
 * not come, is refused when read now: then it is settled now, as its
 * turn would settle it, and resolves to nothing from here on; accepted,
 * what it told is dropped, for its turn to tell. Those two are read
 * ahead because reading them changes no other entry (a screening's
 * reading marks the items it gathers), and a referral takes from them.
 * The reader's own state (path, event being built, warnings, error) is
 * kept. One level deep: what is read ahead resolves what it names as it
 * stands (its own turn reads it again with its reasons read ahead); a
 * chain of requests naming each other nested a read per entry, deep
 * enough to overrun a reader thread's stack. */
static bool refused_ahead(struct fx *x, struct fx_entry *e)
{
    if (!x->batch || x->ahead || e->failed || e->settled || e->ahead ||
        (strcmp(e->type, "Condition") != 0 &&
         strcmp(e->type, "ServiceRequest") != 0))
        return false;
    struct fx keep = *x;
    struct hub_err kerr = *x->err;
    size_t first = x->out->n;
    e->ahead = true;
    x->ahead = true;            /* restored with the rest below */
    int erc = one_entry(x, e);
    if (erc != HUB_OK)
        settle_entry(x, x->res, e->index, erc, first);
    x->out->n = first;
    *x = keep;
    *x->err = kerr;
    return erc != HUB_OK;
}

struct fx_entry *fx_resolve_settled(struct fx *x, const char *ref)
{
    struct fx_entry *e;
    /* one refused, another entry of that name may be the one */
    while ((e = fx_resolve(x, ref)) != NULL && refused_ahead(x, e))
        ;
    return e;
}

int fhir_to_events(struct arena *a, const struct dict *d, const char *p,
                   size_t len, struct canon_list *out, struct fhir_result *res,
                   struct hub_err *err)
{
    return fhir_to_events_scoped(a, d, NULL, p, len, out, res, err);
}

int fhir_to_events_scoped(struct arena *a, const struct dict *d,
                          const char *id_scope, const char *p, size_t len,
                          struct canon_list *out, struct fhir_result *res,
                          struct hub_err *err)
{
    static const struct json_limits lim = {
        .max_bytes = FHIR_MAX_BYTES, .max_depth = FHIR_MAX_DEPTH,
        .max_array = FHIR_MAX_ARRAY, .max_members = FHIR_MAX_MEMBERS,
        .max_values = FHIR_MAX_VALUES, .max_string = FHIR_MAX_STRING,
    };
    struct hub_err local;
    struct fx x = { .a = a, .d = d, .err = err ? err : &local, .out = out,
                    .res = res };
    size_t n0 = out->n;
    cJSON *root = NULL;
    struct arena tree;
    int rc;

    if (res)
        memset(res, 0, sizeof(*res));
    hub_err_set(x.err, HUB_OK, "", 0, NULL);
    if (id_scope && id_scope[0]) {
        size_t n = strlen(id_scope) + sizeof(":Patient");
        char *sys = arena_alloc(a, n);
        snprintf(sys, n, "%s:Patient", id_scope);
        x.pid_system = sys;
    }
    /* JSON between systems is UTF-8 (RFC 8259 8.1): other bytes would
     * reach the events as U+FFFD, a silent change of the sender's text */
    size_t bad = len > FHIR_MAX_BYTES ? len : utf8_valid_prefix((const unsigned char *)p, len);
    if (bad < len)
        return hub_err_set_at(x.err, HUB_ESYNTAX, "$", bad,
                              "body is not UTF-8 text");
    /* a cJSON tree takes a few times its input: a chunk or two */
    arena_init(&tree, len < 4096 ? 16384 : len < (1u << 18) ? len * 4
                                                             : (1u << 20));
    struct jsontree_notes notes = { .watch = "modifierExtension" };
    if ((rc = jsontree_parse_noting(&tree, p, len, &lim, &root, &notes,
                                    x.err)))
        goto out;
    x.names_plain = notes.noticed && !notes.repeated && !notes.watched;
    if (!cJSON_IsObject(root)) {
        rc = hub_err_set(x.err, HUB_EINVALID, "$", 0,
                         "body is not a FHIR resource object");
        goto out;
    }
    struct fx_entry top = { 0 };
    if ((rc = entry_init(&x, &top, root)))
        goto out;
    x.nsteps = 0;
    if (strcmp(top.type, "Bundle") != 0)
        fx_at_entry(&x, &top);
    /* a batch's entries are independent (FHIR R4 http: each succeeds or
     * fails on its own): a name twice in one refuses that entry alone,
     * walked when it is read; anywhere else, the whole body */
    const cJSON *batch_entries = NULL;
    if (strcmp(top.type, "Bundle") == 0) {
        const char *bt = cJSON_GetStringValue(fx_get(root, "type"));
        if (bt && strcmp(bt, "batch") == 0)
            batch_entries = fx_get(root, "entry");
    }
    if ((rc = fx_unique_members(&x, root, batch_entries)))
        goto out;
    if (res)
        res->resource_type = type_label(top.type);
    x.message_id = message_id_of(&x, root, top.type, top.id, top.version);
    x.sent_at = sent_at_of(root);
    if (res)
        res->message_id = x.message_id;
    /* the canonical schema requires source.message_id of every event: a
     * message with neither Bundle.identifier nor id (a transaction as
     * Synthea or a developer's test writes it) is named by its type, as
     * an entry without id is (F88); the result keeps NULL, so the caller
     * still keys it by the Idempotency-Key header or its content hash */
    if (x.message_id == NULL)
        x.message_id = type_label(top.type);

    if (strcmp(top.type, "Bundle") == 0) {
        /* searchset (a server's answer to a query, as an EHR exports
         * it) and message (MessageHeader first) are containers too */
        static const char *const types[] = { "transaction", "batch",
            "collection", "document", "searchset", "message", NULL };
        const char *bt;
        const cJSON *arr;
        size_t n;
        x.bundle = true;
        x.nsteps = 0;
        if ((rc = fx_str(&x, root, "type", true, &bt)))
            goto out;
        if ((rc = fx_enum(&x, root, "type", true, types, &bt))) {
            x.err->code = rc = HUB_EUNSUPPORTED;
            x.err->what = "bundle type is not transaction, batch, collection, "
                          "document, searchset or message";
            goto out;
        }
        x.batch = strcmp(bt, "batch") == 0;
        bool searchset = strcmp(bt, "searchset") == 0;
        bool message = strcmp(bt, "message") == 0;
        bool document = strcmp(bt, "document") == 0;
        if (res)
            res->bundle_type = arena_strndup(a, bt, strlen(bt));
        if ((rc = labels_into(&x, root, x.blabels, &x.n_blabels)) ||
            (rc = fx_arr(&x, root, "entry", &arr, &n)))
            goto out;
        if (n > FHIR_MAX_ENTRIES) {
            fx_key(&x, "entry");
            rc = fx_fail(&x, HUB_ELIMIT, "bundle has more than 1000 entries");
            goto out;
        }
        x.ents = arena_zalloc(a, (n ? n : 1) * sizeof(*x.ents));
        x.n_ents = n;
        if (res) {
            res->entries = arena_zalloc(a, (n ? n : 1) * sizeof(*res->entries));
            res->n_entries = n;
        }
        size_t i = 0;
        for (const cJSON *c = arr ? arr->child : NULL; c; c = c->next, i++) {
            struct fx_entry *e = &x.ents[i];
            const cJSON *r;
            e->index = i;
            x.nsteps = 0;
            fx_key(&x, "entry");
            fx_idx(&x, i);
            size_t old_entry = x.nsteps;
            int erc = HUB_OK;
            if (!cJSON_IsObject(c))
                erc = fx_fail(&x, HUB_EINVALID, "entry is not an object");
            else if (batch_entries)
                erc = fx_unique_members(&x, c, NULL);
            if (erc == HUB_OK &&
                (erc = fx_str(&x, c, "fullUrl", false, &e->full_url)) ==
                    HUB_OK &&
                (erc = no_resource(&x, c)) == HUB_OK &&
                (erc = fx_obj(&x, c, "resource", true, &r)) == HUB_OK) {
                fx_key(&x, "resource");
                erc = entry_init(&x, e, r);
                if (erc == HUB_OK && x.modifiers) {
                    fx_pop(&x, old_entry);
                    erc = fx_unknown_modifier(&x, c);
                }
                if (erc == HUB_OK && strcmp(e->type, "Bundle") == 0)
                    erc = fx_fail(&x, HUB_EUNSUPPORTED,
                                  "a bundle inside a bundle is not supported");
                /* FHIR R4 Bundle: a message's first resource is its
                 * MessageHeader; the other entries are its content */
                if (erc == HUB_OK && message && i == 0 &&
                    strcmp(e->type, "MessageHeader") != 0) {
                    fx_key(&x, "resourceType");
                    erc = fx_fail(&x, HUB_EINVALID,
                                  "a message bundle does not start with a "
                                  "MessageHeader");
                }
                /* bdl-11: a document's first resource is its
                 * Composition (what the document is, who attests it) */
                if (erc == HUB_OK && document && i == 0 &&
                    strcmp(e->type, "Composition") != 0) {
                    fx_key(&x, "resourceType");
                    erc = fx_fail(&x, HUB_EINVALID,
                                  "a document bundle does not start with a "
                                  "Composition");
                }
                /* search.mode outcome: the server's notes on the search
                 * (an OperationOutcome), not a result: left out */
                if (erc == HUB_OK && searchset && search_outcome(c))
                    e->consumed = true;
            }
            if (erc != HUB_OK) {
                if (!x.batch) {
                    rc = erc;
                    goto out;
                }
                e->failed = true;
                result_entry(&x, res, i, erc, out->n);
                if (res)
                    res->n_failed++;
            }
        }
        fx_index_entries(&x);
        if (message)
            fx_mark_notification(&x);
        fx_mark_consumed(&x);
        for (i = 0; i < n; i++) {
            struct fx_entry *e = &x.ents[i];
            if (e->failed)
                continue;
            e->read = !e->consumed;
            if (!read_entry(&x, res, i, &rc))
                goto out;
        }
        /* an Observation consumed as what a response says, when no such
         * response gave an event, is read alone (F1802), before the
         * Procedures below look for the event that told them. All are
         * released first, so that the first of a day's loose items
         * gathers the others, as when no response is there; one read
         * above is gathered no more (F2061) */
        for (i = 0; i < n; i++) {
            struct fx_entry *e = &x.ents[i];
            if (!e->failed && e->of_response &&
                !fx_said_by_a_told_response(&x, e))
                e->consumed = false;
        }
        for (i = 0; i < n; i++) {
            struct fx_entry *e = &x.ents[i];
            /* consumed: said by a response that told it, or gathered by
             * an earlier one of these */
            if (e->failed || !e->of_response || e->consumed)
                continue;
            e->of_response = false;
            e->read = true;
            if (!read_entry(&x, res, i, &rc))
                goto out;
        }
        /* a Procedure folded into another entry's event is never left
         * without one: batch, refused with the referral or screening that
         * was refused; a screening that told nothing (not final, not a
         * screening after all) leaves it its own careplan.updated */
        for (i = 0; i < n; i++) {
            struct fx_entry *e = &x.ents[i];
            const struct fx_entry *h = e->folded_into;
            if (e->failed || h == NULL)
                continue;
            bool scr = fx_is_screening_host(h);
            const struct fx_entry *by = scr ? e->carried_by : h;
            if (by && !by->failed)
                continue;
            int erc;
            size_t first = out->n;
            if (by || h->failed) {
                fx_at_entry(&x, e);
                erc = fx_fail(&x, HUB_EINVALID,
                              scr ? "the screening it was part of was refused"
                                  : "the referral it fulfils was refused");
            } else {
                e->consumed = false;
                e->folded_into = NULL;
                erc = one_entry(&x, e);
            }
            if (!settle_entry(&x, res, i, erc, first)) {
                rc = erc;
                goto out;
            }
        }
        if (res && res->n_failed) {
            /* the refused entries' own bytes, for their quarantine */
            struct slice *sp = arena_alloc(a, n * sizeof(*sp));
            fx_entry_spans(p, len, sp, n);
            for (i = 0; i < n; i++)
                if (res->entries[i].status != HUB_OK)
                    res->entries[i].raw = sp[i];
        }
        rc = HUB_OK;
    } else {
        x.ents = arena_zalloc(a, sizeof(*x.ents));
        x.ents[0] = top;
        x.n_ents = 1;
        if (res) {
            res->entries = arena_zalloc(a, sizeof(*res->entries));
            res->n_entries = 1;
        }
        if (x.modifiers) {
            fx_at_entry(&x, &x.ents[0]);
            rc = fx_unknown_modifier(&x, root);
        }
        if (rc == HUB_OK)
            rc = one_entry(&x, &x.ents[0]);
        result_entry(&x, res, 0, rc, n0);
    }
out:
    if (rc != HUB_OK)
        out->n = n0;
    arena_release(&tree);       /* the tree: never cJSON_Delete (jsontree.h) */
    return rc;
}
