/*
 * fhir_screen_int.h - what the parts of the FHIR screening reader share:
 * the list of responses a QuestionnaireResponse or an Observation is
 * reduced to (struct rsp, struct scr) and each part's functions for the
 * others. Not a public API: callers use fhir.h; the reader's state and
 * readers are fhir_int.h's. The parts:
 *   fhir_answer.c   an answer (value[x], interpretation) into a response
 *   fhir_obs.c      Observation: panels, members, components, findings and
 *                   assessments, what an Observation is to the hub, when
 *                   it was taken; fx_screening_obs
 *   fhir_qr.c       QuestionnaireResponse items, the instrument its
 *                   questions name; fx_screening_qr
 *   fhir_screen.c   the scoring and the screening events' body
 *   fhir_consume.c  Observations folded into a response or a panel
 */
#ifndef HUB_FHIR_SCREEN_INT_H
#define HUB_FHIR_SCREEN_INT_H

#include "fhir/fhir_int.h"

#define LOINC "http://loinc.org"

/* One item of a screening: a question and what was answered to it. */
struct rsp {
    const char *question;
    const char **answers;
    size_t n_answers;
    bool has_value;
    int64_t value;                  /* as scored: a decimal rounded */
    bool decimal;                   /* value is `dvalue` (1.5) rounded: */
    double dvalue;                  /* written as sent */
    const char *unit;               /* a Quantity's UCUM code, else its unit */
    const char *text;
    bool uncarried;                 /* answered with a value of a type the
                                       item has no field for (a Reference) */
    bool declined;
    const char *absent;             /* dataAbsentReason code, if sent */
    bool pending;                   /* answers are in members not sent */
    int sender_pos;                 /* -1 not said, 0 NEG, 1 POS */
    const char *cat_domain;         /* the sender's Gravity category */
    const char **cat_domains;       /* every one its categories name, the
                                       first cat_domain (F1162), or NULL */
    size_t n_cat;
    int asserted;                   /* an assessment's finding: -1 not an
                                       assessment, 0 absent, 1 present */
    const char *q_finding;          /* a question answered with a finding
                                       of its own domain: that domain */
    const char *field;              /* where it was read, for warnings */
};

struct scr {
    struct rsp *r;
    size_t n, cap;
    const char *instrument, *inst_system, *inst_name;
    const cJSON *subject;           /* the screening's patient Reference:
                                       every member is held to it */
    size_t unresolved;
    const char *unresolved_field;
};

/* ---- small readers each part keeps its own (inlined, as in one file) ---- */

FX_HELPER const char *fx_here(struct fx *x)
{
    return fx_path_text(x);
}

/* A Reference member's reference, or NULL (also when it is no string:
 * these are carried, never checked, so a slip there costs nothing). */
FX_HELPER const char *fx_ref_member(const cJSON *o, const char *key)
{
    const cJSON *r = fx_get(fx_get(o, key), "reference");
    return cJSON_IsString(r) ? r->valuestring : NULL;
}

/* ---- fhir_answer.c ---- */

/* A new item of question `question` at the current path, in *out (valid
 * until the next fx_rsp_new: s->r may move); HUB_ELIMIT past
 * DICT_MAX_RESPONSES items. */
int fx_rsp_new(struct fx *x, struct scr *s, const char *question,
               struct rsp **out);
/* Observation.value[x] / QuestionnaireResponse.item.answer.value[x] into
 * r; *any: whether an answer was there. */
int fx_read_value(struct fx *x, const cJSON *o, struct rsp *r, bool *any);
/* Observation.interpretation POS / NEG into r->sender_pos. */
int fx_read_interpretation(struct fx *x, const cJSON *o, struct rsp *r);

/* ---- fhir_obs.c ---- */

/* The instrument an Observation.code names in any of its codings, or
 * NULL. */
const struct dict_instrument *fx_code_instrument(struct fx *x,
                                                 const cJSON *o);

/* ---- fhir_qr.c ---- */

/* "/88122-7" or "a/b/88122-7" -> "88122-7" when it looks like a LOINC
 * code, else `link` itself. */
const char *fx_linkid_code(struct fx *x, const char *link);
/* The instrument the questions of s name, or NULL (two known questions
 * at least; a tie is none). */
const struct dict_instrument *fx_infer_instrument(struct fx *x,
                                                  const struct scr *s);
/* Whether s, of no instrument, holds nothing the dictionary knows (no
 * question, answer, domain or label of its tables): then entry e gives
 * no event and carries the note that says so (F1722, F3361). */
bool fx_unread_screening(struct fx *x, const struct fx_entry *e,
                         const struct scr *s);

/* ---- fhir_screen.c ---- */

/* Score s (with instrument `in`, or none) and emit screening.completed,
 * and screening.positive when a domain is positive, for entry e. */
int fx_screening_finish(struct fx *x, struct fx_entry *e, struct scr *s,
                        const struct dict_instrument *in, const char *status,
                        const char *occurred, const char *pstart,
                        const char *pend, struct slice patient);

#endif
