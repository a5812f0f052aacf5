/*
 * ccda_doc.h - what the parts of the C-CDA normalizer share: the document
 * being read (struct doc), the event being written (struct ev), the
 * template ids, the small tests every part makes of an entry (inline: they
 * are called for every entry, as GCC inlined them in one file), and each
 * part's entry points. Not a public API: callers use ccda.h; the tree
 * these read is ccda_int.h's.
 * ccda.c's header says which part does what.
 */
#ifndef HUB_CCDA_DOC_H
#define HUB_CCDA_DOC_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ccda/ccda.h"
#include "ccda/ccda_int.h"
#include "common/dict.h"
#include "common/jw.h"
#include "common/strset.h"

#define MAX_WARN 32             /* warnings kept per event, as FHIR and HL7 v2 */
#define MAX_ER_NEST 6           /* entryRelationship levels followed */
#define MAX_KNOWN 64            /* concerns indexed for Entry References */
#define MAX_OUTCOMES 64         /* outcome observations indexed by goal */
#define MAX_SKIPPED 8           /* non-LOINC components warned of, a scale */
#define MAX_SILENT 8            /* planned entries that say nothing, warned */
#define MAX_REF_STEPS 65536     /* narrative nodes read for references, a doc */
#define MAX_NARR_IDS 8192       /* narrative IDs indexed, a section */

/* A section's narrative IDs, sorted (ID, then document order), built the
 * first time a reference under the section is followed (F2704). */
struct narr_id {
    const char *id;
    const struct ccda_node *node;
    size_t ord;                     /* document order, first wins */
};
struct narr_index {
    const struct ccda_node *top;    /* the section's <text> */
    struct narr_id *ids;
    size_t n;
};

/* template ids more than one part reads (C-CDA R2.1); each part has its own */
#define T_SOCIAL_OBS "2.16.840.1.113883.10.20.22.4.38"
#define T_ASSESSMENT_SCALE "2.16.840.1.113883.10.20.22.4.69"
#define T_INTERVENTION "2.16.840.1.113883.10.20.22.4.131"
#define T_PATIENT_REFERRAL "2.16.840.1.113883.10.20.22.4.140"
#define T_ENTRY_REFERENCE "2.16.840.1.113883.10.20.22.4.122"
#define T_PRIORITY_PREF "2.16.840.1.113883.10.20.22.4.143"

struct warn {
    const char *field;              /* whole (ccda_xpath_in), in ev.a */
    const char *what;
};

struct ev {
    struct arena *a;                /* the caller's: warnings' places */
    struct jw w;
    const char *type;
    struct warn warn[MAX_WARN];
    size_t n_warn;
    const char *sens[DICT_MAX_LABELS];  /* every label the dictionary names */
    size_t n_sens;
};

struct known {
    const char *id;                 /* a concern act's id (II string) */
    const char *domain;
};

struct outcome {
    const char *goal_id;            /* the goal it evaluates (II string) */
    const char *status;             /* FHIR goal-achievement code */
};

struct loose {
    const struct ccda_node *obs;
    const struct dict_instrument *inst;
    /* an assessment (note_assessment): the finding's domain and the coding
     * it comes from; inst is then NULL */
    const char *domain;
    const struct ccda_node *finding;
    bool absent;                    /* negated: the finding is not there */
    bool total;                     /* a sum's code (76504-0): with items of
                                       its instrument it joins them, alone
                                       it is read as a total alone is */
};

struct told;                        /* a screening given (ccda_screen.c) */

/* A total of the dictionary an assessment sent as a number (an item of an
 * Assessment Scale Observation), or a Result Observation given as a
 * screening: what a later result of the same total is compared with
 * (F2800) */
struct sent_total {
    struct slice code;
    double value;
    long day;                       /* days since 1970, -1 undated */
    struct told *told;              /* the screening it is in, once written:
                                       warned of a repeat (F3045) */
};

struct doc {
    struct arena *a;
    const struct dict *d;
    struct canon_list *out;
    struct hub_err *err;
    const struct ccda_node *root;
    const char *message_id;
    const char *set_id;         /* ClinicalDocument/setId, NULL if none */
    char time[48];                  /* document effectiveTime, ISO */
    struct slice facility;          /* custodian organization name */
    struct slice author_org;        /* author's represented organization */
    struct slice encounter_org;     /* the encompassing encounter's */
    const char *encounter_id;       /* its id, as ccda_ii_string writes */
    char enc_lo[48], enc_hi[48];    /* its period's bounds, ISO; "" unknown */
    struct slice patient;           /* the patient object, JSON */
    /* the header's confidentiality R/V -> "restricted", and the labels of
     * the DS4P Privacy Markings section, which speak for the document */
    const char *doc_sens[DICT_MAX_LABELS];
    size_t n_doc_sens;
    const struct ccda_node *ssn_left_out;   /* the patient's unusable SSN */
    const struct ccda_node *sys_left_out;   /* a national system, no number */
    const struct ccda_node *hub_left_out;   /* a root in the hub's own space
                                               (idsys_is_hub, F2240) */
    const struct ccda_node *nat_unlinked;   /* a national number that fails
                                               its check (natid.h) */
    const char *nat_flaw;                   /* its warning, static */
    const struct ccda_node *birth_left_out; /* a birthTime that is no TS */
    const struct ccda_node *not_patient;    /* the first entry the hub would
                                               read whose subject is another
                                               person (F3221) */
    const struct ccda_node *no_information; /* the first act the hub would
                                               read that carries a
                                               nullFlavor: an entry's
                                               (F3540), a nested one's
                                               (held_act, F3541) */
    size_t out_bytes;               /* all events so far, for the budget */
    bool care_plan;
    bool us_realm;                  /* claims the US realm (F3640) */
    const struct ccda_node **acts;  /* careplan activities, document order */
    size_t n_acts;
    const struct ccda_node **concerns;  /* care plan concern acts */
    size_t n_concerns;
    const char *concern_doms[16];   /* their SDOH domains */
    size_t n_concern_doms;
    const struct ccda_node **goals;
    size_t n_goals;
    struct loose *loose;
    size_t n_loose;
    /* Result Observations whose code is a total of the dictionary, read
     * once the body is (ccda_flush_loose), and the totals already sent */
    const struct ccda_node **results;
    size_t n_results;
    struct sent_total *totals;
    size_t n_totals;
    /* the screenings given, document order, for the repeats that follow
     * (F2804); the first screening entry a limit left unread (F2962) */
    struct told *told, *told_last;
    const struct ccda_node *unread;
    struct known known[MAX_KNOWN];
    size_t n_known;
    struct outcome outcomes[MAX_OUTCOMES];
    size_t n_outcomes;
    /* the components of the scale being read that are no items (F91),
     * and the first past MAX_SKIPPED (F3046) */
    const struct ccda_node *skipped[MAX_SKIPPED];
    size_t n_skipped;
    const struct ccda_node *skipped_more;
    /* planned entries that say nothing, left out of the plan (F2181) */
    const struct ccda_node *silent[MAX_SILENT];
    size_t n_silent;
    size_t ref_steps;               /* narrative nodes read so far */
    /* sections' narrative IDs, indexed: open addressing by the <text>
     * node, NULL empty, at most half full (F3480) */
    struct narr_index **narr;
    size_t narr_n, narr_mask;
};

/* ---- small tests every part makes --------------------------------------- */

static inline void warn_add(struct ev *e, const struct ccda_node *n,
                            const char *leaf, const char *what)
{
    if (e->n_warn >= MAX_WARN)
        return;
    struct warn *w = &e->warn[e->n_warn++];
    /* whole, however deep: a path cut short names an element above the
     * one meant, of no use to the sender (F92) */
    w->field = ccda_xpath_in(e->a, n, leaf);
    w->what = what;
}

static inline void sens_add(struct ev *e, const char *label)
{
    strset_add(e->sens, &e->n_sens, sizeof(e->sens) / sizeof(e->sens[0]),
               label);
}

static inline bool push_node(struct arena *a, const struct ccda_node ***arr,
                             size_t *n, const struct ccda_node *x, size_t max)
{
    if (*n >= max)
        return false;
    /* grow by doubling inside the arena; small counts */
    if ((*n & (*n - 1)) == 0) {
        size_t cap = *n ? *n * 2 : 4;
        const struct ccda_node **nw = arena_alloc(a, cap * sizeof(*nw));
        if (*n)
            memcpy(nw, *arr, *n * sizeof(*nw));
        *arr = nw;
    }
    (*arr)[(*n)++] = x;
    return true;
}

/* Time of an element holding a TS: @value, else low/@value, else
 * center/@value (an IVL_TS given by its middle, as HL7's Discharge
 * Summary plans a colonoscopy; F104). */
static inline const char *ts_of(const struct ccda_node *t)
{
    const char *v;

    if (t == NULL)
        return NULL;
    v = ccda_attr(t, "value");
    if (v)
        return v;
    v = ccda_attr(ccda_child(t, "low"), "value");
    if (v)
        return v;
    return ccda_attr(ccda_child(t, "center"), "value");
}

static inline bool mood_is(const struct ccda_node *n, const char *mood)
{
    return ccda_attr_eq(n, "moodCode", mood);
}

static inline bool negated(const struct ccda_node *n)
{
    return ccda_attr_eq(n, "negationInd", "true");
}

/* An act the sender took back or never carried out: statusCode
 * nullified (RIM: created in error, "treated as though it never
 * existed"), cancelled or aborted. Such a screening says nothing (F2961). */
static inline bool voided(const struct ccda_node *n)
{
    const char *s = ccda_attr(ccda_child(n, "statusCode"), "code");
    return s && (strcmp(s, "nullified") == 0 || strcmp(s, "cancelled") == 0 ||
                 strcmp(s, "aborted") == 0);
}

/* `n`, an act nested in another (an entryRelationship's or an organizer
 * component's), as the hub reads it: NULL when it carries a nullFlavor of
 * its own, "no information" as an entry's act is (entry_act, F3540), so
 * that nothing of it is read; the first met is the one every event warns
 * of (read_body). Every reader of a nested act takes it here, once it
 * knows it would read it (F3541). */
static inline const struct ccda_node *held_act(struct doc *dc,
                                               const struct ccda_node *n)
{
    if (n == NULL || !ccda_null(n))
        return n;
    if (dc->no_information == NULL)
        dc->no_information = n;
    return NULL;
}

/* The observation an entryRelationship holds, unless either denies it:
 * the observation's negationInd, or the relationship's (CDA R2:
 * ActRelationship.negationInd, "the relationship does not hold"). A denied
 * answer, reason or problem is never read as one that holds (F170). */
static inline const struct ccda_node *held_obs(struct doc *dc,
                                               const struct ccda_node *er)
{
    const struct ccda_node *o = ccda_child(er, "observation");
    return o && !negated(er) && !negated(o) ? held_act(dc, o) : NULL;
}

/* The problem a concern act's entryRelationship holds, as both readers of
 * a concern take it (ccda_do_concern, and index_concerns before the walk):
 * its observation, held (held_obs), unless it is a Priority Preference or
 * an Entry Reference, which neither reads: a null one of those is no act
 * the hub would read, and warned of by none (F3780). */
static inline const struct ccda_node *concern_problem(
    struct doc *dc, const struct ccda_node *er)
{
    const struct ccda_node *o = ccda_child(er, "observation");
    if (ccda_has_template(o, T_PRIORITY_PREF) ||
        ccda_has_template(o, T_ENTRY_REFERENCE))
        return NULL;
    return held_obs(dc, er);
}

/* A value element with a nullFlavor other than OTH is no value, whatever
 * else it carries (HL7 v3 data types: a null value has no code; OTH alone
 * says the concept is in a translation), so it never names a finding
 * (F171). */
static inline bool value_null(const struct ccda_node *v)
{
    return ccda_attr(v, "nullFlavor") && !ccda_attr_eq(v, "nullFlavor", "OTH");
}

/* Value element `v` is of a coded type (CD, CE, CO, CV), or of no type. */
static inline bool value_cd_type(const struct ccda_node *v)
{
    const char *t = ccda_attr_ns(v, CCDA_NS_XSI, "type");
    if (t == NULL)
        return true;
    const char *colon = strchr(t, ':');
    if (colon)
        t = colon + 1;
    return strcmp(t, "CD") == 0 || strcmp(t, "CE") == 0 ||
           strcmp(t, "CO") == 0 || strcmp(t, "CV") == 0;
}

/* Value element `v` is a coded type (CD, CE, CO, CV) with a code. */
static inline bool value_coded(const struct ccda_node *v)
{
    return ccda_attr(v, "code") != NULL && value_cd_type(v);
}

static inline bool parse_int(const char *s, int64_t *v)
{
    char *end;
    long long x;

    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    x = strtoll(s, &end, 10);
    if (errno || end == s || *end || x < -1000000 || x > 1000000)
        return false;
    *v = x;
    return true;
}

static inline bool in_list(const char *const *l, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] && s && strcmp(l[i], s) == 0)
            return true;
    return false;
}

/* ---- entry points of the parts ----------------------------------------- */

/* ccda_event.c */
void ccda_entry_labels(const struct doc *dc, struct ev *e,
                       const struct ccda_node *n);
/* The labels a DS4P Privacy Markings section `sec` gives the document. */
void ccda_doc_labels(struct doc *dc, const struct ccda_node *sec);
const struct ccda_node *ccda_snomed_coding(struct doc *dc,
                                           const struct ccda_node *c,
                                           const char **dom);
const char *ccda_problem_domain(struct doc *dc, const struct ccda_node *v,
                                const struct ccda_node **coded);
void ccda_ev_init(struct doc *dc, struct ev *e);
void ccda_ev_begin(struct doc *dc, struct ev *e, const char *type,
                   const char *occurred_at, const char *body);
int ccda_ev_end(struct doc *dc, struct ev *e, const struct ccda_node *where);
int ccda_ev_write(struct doc *dc, struct ev *e, const char *type,
                  const char *occurred_at, const char *key,
                  struct slice body_json, const struct ccda_node *where);
/* Event `at` of the list written again from *e, as ccda_ev_write wrote it
 * (a warning or label added since) */
int ccda_ev_rewrite(struct doc *dc, struct ev *e, size_t at,
                    const char *occurred_at, const char *key,
                    struct slice body_json, const struct ccda_node *where);

/* ccda_header.c: the patient, organizations, document id, set id, time and
 * confidentiality into *dc; the document id (an II string) as *message_id */
int ccda_read_header(struct doc *dc, struct slice *message_id);

/* ccda_screen.c: whether Assessment Scale Observation `obs` is a
 * screening; its events; a loose Social History observation, or a Result
 * Observation of a total (F2800), noted for ccda_flush_loose, which gives
 * their screenings once the body is read */
bool ccda_scale_is_screening(struct doc *dc, const struct ccda_node *obs,
                             int depth);
int ccda_do_scale(struct doc *dc, const struct ccda_node *obs);
void ccda_note_loose(struct doc *dc, const struct ccda_node *obs);
void ccda_note_result(struct doc *dc, const struct ccda_node *obs);
/* Whether `obs` is a total of the dictionary sent as a result (or a bare
 * scale), which ccda_note_result keeps */
bool ccda_is_result_total(const struct doc *dc, const struct ccda_node *obs);
int ccda_flush_loose(struct doc *dc);

/* ccda_entries.c: a Problem Observation (category health-concern when
 * `concern`), a Social History finding (`coded`, of domain `dom`, which
 * ccda_social_finding finds), a concern act, a goal, a Patient Referral
 * Act, a planned entry or intervention (`depth` entryRelationships down),
 * each into its event or the care plan; the care plan once the body is
 * read; an order's ids, as a referral's */
int ccda_do_problem(struct doc *dc, const struct ccda_node *obs, bool concern);
const struct ccda_node *ccda_social_finding(struct doc *dc,
                                            const struct ccda_node *obs,
                                            const char **dom);
int ccda_do_social_finding(struct doc *dc, const struct ccda_node *obs,
                           const struct ccda_node *coded, const char *dom);
int ccda_do_concern(struct doc *dc, const struct ccda_node *act, bool concern);
int ccda_do_goal(struct doc *dc, const struct ccda_node *obs);
int ccda_do_referral(struct doc *dc, const struct ccda_node *n);
int ccda_do_planned(struct doc *dc, const struct ccda_node *n, int depth);
int ccda_emit_careplan(struct doc *dc);
void ccda_put_ids(struct doc *dc, struct ev *e, const struct ccda_node *n);

#endif
