/*
 * dict.h - the common data dictionary: SDOH domains (Gravity), screening
 * instruments by LOINC panel with their items, answers and scoring rules,
 * ICD-10 Z codes and SNOMED CT findings to domains, referral (Task)
 * statuses and security labels.
 *
 * The tables are data (schemas/dict/<table>.json), never compiled in: adding an
 * instrument is an edit and a restart. This module is pure: dict_load() takes
 * the bytes of the files (hub/dict_files.c reads them from disk), parses them
 * with cJSON, validates every row, and builds one immutable `struct dict`.
 * After dict_load() returns, nothing writes to the dict again, so any number
 * of threads may share it without locks; dict_free() when the last is done.
 *
 * Every string a lookup returns (codes, displays, domains) is owned by the
 * dict and lives until dict_free(). Lookup keys are slices, so adapters can
 * pass pointers straight into their input. Codes compare exactly
 * (case-sensitive, as LOINC and the Gravity code system are), after ASCII
 * spaces at both ends are trimmed.
 *
 * Scoring is the hub's own: an adapter hands dict_score() the answers as
 * sent and gets back, per item, positive / negative / unknown and a domain,
 * the sums (AHC interpersonal safety 95614-4), the derived items (Hunger
 * Vital Sign 88124-3) and the positive domains. What the sender said about
 * positivity is the adapter's to compare (and warn on), never to override.
 */
#ifndef HUB_DICT_H
#define HUB_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/slice.h"

#define DICT_MAX_FILE_BYTES (4u << 20)   /* one data file */
#define DICT_MAX_DEPTH 12                /* JSON nesting of a data file */
#define DICT_MAX_ROWS 20000              /* rows of one table */
#define DICT_MAX_RESPONSES 1000          /* answers given to one dict_score */
/* Distinct sensitivity labels a dictionary may name, "restricted" counted
 * (HL7 v2's protection indicators name it whatever the tables say): every
 * adapter's label set holds this many, so no event ever loses one and
 * reaches a subscription not granted it (F781); dict_load refuses more. */
#define DICT_MAX_LABELS 8
#define DICT_MAX_SCORE_LABELS DICT_MAX_LABELS   /* labels of one screening */

struct dict;                    /* opaque, immutable once loaded */

/* The bytes of one data file; `name` is its base name ("domains.json"). */
struct dict_file {
    const char *name;
    const char *p;
    size_t len;
};

/*
 * Where a data file is wrong: file name, JSON path and what. Static `what`;
 * `path` like "/instruments/2/items/4/answers/1/code". Data files hold no
 * personal data, so codes may appear in `path` but never in `what`.
 */
struct dict_err {
    char file[48];
    char path[128];
    const char *what;
};

/*
 * Load the dictionary from its data files. Every file must be one of
 * domains.json, instruments.json (or instruments-<anything>.json: several
 * instrument files are merged), zcodes.json, task-status.json,
 * security-labels.json; each of the five kinds is required. Optional:
 * security-labels-<x>.json (several, merged) and snomed-domains.json
 * (at most one). Returns HUB_OK
 * and *out (free with dict_free), or a negative HUB_E* with *err filled:
 * HUB_ESYNTAX (not JSON), HUB_EINVALID (a row is wrong: unknown domain,
 * duplicate code, missing member, bad threshold...), HUB_ELIMIT (size,
 * depth, rows).
 */
int dict_load(const struct dict_file *files, size_t n, struct dict **out,
              struct dict_err *err) __attribute__((warn_unused_result));
void dict_free(struct dict *d);            /* NULL is a no-op */

/* "2.3.0-draft": the Gravity SDOH Clinical Care IG version the data follow. */
const char *dict_ig_version(const struct dict *d);

/* ---- SDOH domains (Gravity SDOHCC ValueSet SDOH Category) ---------------- */

#define DICT_SDOH_SYSTEM \
    "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"

struct dict_domain {
    const char *code;           /* "food-insecurity" */
    const char *display;        /* "Food Insecurity" */
    /* The domain names a status or a strength (employment status, veteran
     * status, insurance coverage, protective factor), not a need: a finding
     * a sender asserts in it (an SDOHCC Observation Assessment) says which
     * status, not whether there is a need, so it is not scored. */
    bool status;
    const char *const *aliases; /* words flat files write for it ("food"),
                                   lowercase, never a code (F2423) */
    size_t n_aliases;
};

/* A word flat files write for more than one domain, or for none
 * ("housing", "safety"): never read as a domain; `why` is the refusal
 * that names the codes it could mean, made when the table is loaded. */
struct dict_domain_word {
    const char *word;
    const char *const *could_be;    /* domain codes, none when the word has
                                       no Gravity category of its own */
    size_t n_could_be;
    const char *why;
};

const struct dict_domain *dict_domain_find(const struct dict *d,
                                           struct slice code);
/* The domain a word names by domains.json's aliases, or NULL; `word`
 * lowercase with '-' for ' ' and '_', as the CSV reader folds it. Only
 * the CSV referral-status layout reads them: FHIR and C-CDA take a domain
 * from a code only. */
const struct dict_domain *dict_domain_alias(const struct dict *d,
                                            struct slice word);
/* The word as one domains.json calls ambiguous, folded likewise, or NULL. */
const struct dict_domain_word *dict_domain_ambiguous(const struct dict *d,
                                                     struct slice word);
/* The i-th ambiguous word, or NULL past the last. */
const struct dict_domain_word *dict_domain_ambiguous_at(const struct dict *d,
                                                        size_t i);
size_t dict_domain_count(const struct dict *d);
const struct dict_domain *dict_domain_at(const struct dict *d, size_t i);

/* ---- screening instruments ------------------------------------------------ */

/* A code as the lookups compare it (dict_load_inst.c makes it when
 * loading): its length and its bytes as two words, the first and the last
 * eight (four when shorter), so that a scan compares a word where it
 * walked bytes. */
struct dict_key {
    uint64_t a, b;
    size_t len;
};

struct dict_answer {
    const char *code;           /* "LA28397-0" */
    const char *display;
    const char *domain;         /* overrides the item's domain, or NULL */
    bool positive;              /* this answer is a positive screen */
    bool declined;              /* "I choose not to answer": counts as unanswered */
    bool has_value;
    int64_t value;              /* its points in a sum (Never=1 .. Frequently=5) */
    struct dict_key key;        /* of code */
};

struct dict_sens_rule;          /* dict_int.h: the answers that imply a label */

struct dict_item {
    const char *question;       /* LOINC "88122-7" */
    const char *display;
    const char *const *texts;   /* other published wordings of the question
                                   (the instrument as printed) */
    size_t n_texts;
    const char *domain;         /* Gravity code */
    const char *label;          /* finer name where the domain is coarse
                                   ("Interpersonal Safety"), or NULL */
    bool multi;                 /* multi-select */
    bool numeric;               /* answered with a number, not a code */
    const char *sensitivity;    /* the label its answer implies ("psy":
                                   security-labels.json "loinc"), or NULL */
    const struct dict_sens_rule *sens_rule;  /* when only some answers
                                   imply it (HITS: all but Never); NULL:
                                   any answer does */
    const struct dict_answer *answers;
    size_t n_answers;
    struct dict_key key;        /* of question */
};

/* A sum of item values compared with a threshold (AHC safety 95614-4). */
struct dict_sum {
    const char *code;           /* "95614-4" */
    const char *display;
    const char *domain;
    const char *label;
    const char *const *items;   /* question codes summed */
    size_t n_items;
    int64_t positive_at;        /* positive when the sum >= this */
    bool require_all;           /* no score unless every item is answered */
    bool borrowed;              /* its code is another instrument's total,
                                   asked within this one (PHQ-2's 55758-7
                                   in AHC's supplemental questions): known
                                   only within this instrument, never by
                                   the code alone (F4060) */
    struct dict_key key;        /* of code */
    const struct dict_key *item_keys;   /* of items[] */
    const char *sensitivity;    /* the label a total past `sens_above`
                                   implies (security-labels.json "loinc"
                                   `above`), or NULL */
    int64_t sens_above;
};

/* An item derived from others: `positive_answer` when any source item is
 * positive, `negative_answer` when some were answered and none positive,
 * nothing when none was answered (Hunger Vital Sign 88124-3). */
struct dict_derived {
    const char *code;           /* "88124-3" */
    const char *display;
    const char *domain;
    const char *const *items;
    size_t n_items;
    const char *positive_answer;        /* "LA19952-3" At risk */
    const char *negative_answer;        /* "LA19983-8" No risk */
};

struct dict_instrument {
    const char *code;           /* panel LOINC "96777-8", or "NYSAHCHRSN" */
    const char *system;         /* "http://loinc.org" or a local system */
    const char *name;
    const struct dict_item *items;
    size_t n_items;
    const struct dict_sum *sums;
    size_t n_sums;
    const struct dict_derived *derived;
    size_t n_derived;
    const char *const *aliases; /* other codes senders use for the same
                                   instrument ("NYS-AHC-HRSN") */
    size_t n_aliases;
    /* every sensitivity label an answer to one of its items or its total
     * can imply (security-labels.json "loinc": AHC's safety questions ->
     * "sdv"), each once, made at load: the most a screening of it carries
     * when an item could not be placed (F2860, dict_score) */
    const char *labels[DICT_MAX_LABELS];
    size_t n_labels;
};

/* By its code or one of its aliases. */
const struct dict_instrument *dict_instrument_find(const struct dict *d,
                                                   struct slice code);
size_t dict_instrument_count(const struct dict *d);
const struct dict_instrument *dict_instrument_at(const struct dict *d,
                                                 size_t i);

/*
 * The item for a question. With `inst`, only that instrument's items; with
 * NULL, the first instrument (file order) that has the question. The same
 * LOINC question can carry different answer lists in two instruments
 * (71802-3 in AHC and in PRAPARE); dict_score resolves that per answer.
 */
const struct dict_item *dict_item_find(const struct dict *d,
                                       const struct dict_instrument *inst,
                                       struct slice question);
const struct dict_answer *dict_answer_find(const struct dict_item *it,
                                           struct slice code);
/*
 * A question written as its wording instead of its code: the item whose
 * display or one of whose `texts` reads as `text` (dict_text_eq). With
 * `inst`, only that instrument's items; with NULL, every instrument's, and
 * items of the same question code in two instruments are one. Two items
 * of different codes read so: NULL, with *ambiguous set (nothing is
 * guessed); no item: NULL.
 */
const struct dict_item *dict_item_by_text(const struct dict *d,
                                          const struct dict_instrument *inst,
                                          struct slice text, bool *ambiguous);
/* Wordings equal but for ASCII case, and punctuation and white space
 * between words: each side read as its words (runs of ASCII letters and
 * digits; every other byte separates), compared word by word.
 * "Feeling down, depressed, or hopeless?" reads as "feeling down
 * depressed or hopeless". */
bool dict_text_eq(struct slice a, const char *b);
/* The domain an answer code carries of its own in any instrument (an
 * answer's `domain` in instruments.json: PRAPARE's "Food" LA30125-1,
 * AHC's "I do not have a steady place to live" LA31995-6), or NULL. A
 * generic answer (Yes LA33-6, "Often true") names no domain: it means
 * something only under its question (F1801). */
const char *dict_answer_domain(const struct dict *d, struct slice code);
/* A sum or derived rule by its own code ("95614-4", "88124-3"), any
 * instrument when `inst` is NULL. Lets adapters recognise a sender's total.
 * A borrowed sum (PHQ-2's 55758-7) is found only with its `inst`: the
 * code alone is another instrument's total, not this one's (F4060). */
const struct dict_sum *dict_sum_find(const struct dict *d,
                                     const struct dict_instrument *inst,
                                     struct slice code);
const struct dict_derived *dict_derived_find(const struct dict *d,
                                             const struct dict_instrument *inst,
                                             struct slice code);
/* The instrument whose sum `code` is: the first in file order (95614-4 is
 * AHC's and the NYS screening's), as a loose item takes the first that
 * asks it. A total sent alone is that instrument's screening (F2802,
 * F2803). NULL when `code` is no sum, or a borrowed one (F4060). */
const struct dict_instrument *dict_sum_instrument(const struct dict *d,
                                                  struct slice code);

/* ---- scoring ---------------------------------------------------------------- */

enum dict_verdict {
    DICT_UNKNOWN = 0,           /* unanswered, declined, unknown code, or an
                                   item with no rule of its own (a sum part) */
    DICT_NEGATIVE = 1,
    DICT_POSITIVE = 2,
};

/* One question as the sender answered it. */
struct dict_response {
    struct slice question;      /* LOINC of the question */
    const struct slice *answers;/* answer codes; several for multi-select */
    size_t n_answers;
    bool has_value;             /* a number instead of (or besides) a code */
    int64_t value;
    bool has_text;              /* free text or a boolean: answered, but no
                                   rule can read it (UNKNOWN, not declined) */
    bool declined;              /* dataAbsentReason asked-declined, not-asked,
                                   or no answer at all */
};

struct dict_item_result {
    const struct dict_item *item;   /* NULL: question not in the dictionary */
    const char *domain;             /* NULL when unknown */
    enum dict_verdict verdict;
    bool declined;                  /* declined or unanswered */
    bool unknown_answer;            /* a code not in the item's answer list */
};

struct dict_sum_result {
    const struct dict_sum *sum;
    bool complete;                  /* every required item answered (or the
                                       sender's own total was used) */
    bool from_sender;               /* computed from the sender's total */
    int64_t value;
    enum dict_verdict verdict;      /* UNKNOWN when not complete */
};

struct dict_derived_result {
    const struct dict_derived *rule;
    const char *answer;             /* positive/negative answer, or NULL */
    enum dict_verdict verdict;
};

struct dict_scoring {
    const struct dict_instrument *inst;     /* as given (may be NULL) */
    struct dict_item_result *items;         /* parallel to the responses */
    size_t n_items;
    struct dict_sum_result *sums;           /* one per sum of `inst`, or of
                                               every instrument that has an
                                               answered part when inst NULL */
    size_t n_sums;
    struct dict_derived_result *derived;
    size_t n_derived;
    const char **domains;                   /* every domain screened, no
                                               repeats: items scored, sums
                                               and derived rules in order of
                                               first appearance, then those
                                               of known items answered but
                                               not scored (in words, an
                                               unlisted code) */
    size_t n_domains;
    const char **positive_domains;          /* subset of domains */
    size_t n_positive_domains;
    /* the sensitivity labels of the questions answered (PHQ-9 item 9 ->
     * "psy"), each once; a declined question reveals nothing and adds none */
    const char *labels[DICT_MAX_SCORE_LABELS];
    size_t n_labels;
    /* the instrument's labels were added because an item answered could
     * not be placed (F2860): every adapter warns DICT_UNPLACED_LABELLED */
    bool unplaced_labelled;
};

/*
 * Score one screening. Each question is looked up in `inst` first; when
 * `inst` is NULL (loose item Observations) or lacks the question, in every
 * instrument, preferring one whose answer list knows every code sent
 * (93030-5 has AHC answers in one, PRAPARE answers in another). With `inst`,
 * its sums and derived rules are reported (incomplete ones too); without,
 * those of which some part was answered. An item is POSITIVE when any
 * of its answers is positive, NEGATIVE when every answer is known and none
 * is positive, UNKNOWN otherwise. Every known item not declined screens
 * its domain, UNKNOWN ones too (answered in words or by a code its list
 * lacks); a declined one (refused, "I choose not to answer", unanswered)
 * screens none. With `inst`, an answered question the dictionary cannot
 * place (in no instrument, no total or derived item, no question of
 * security-labels.json's "loinc") may be any question of `inst` not
 * placed, so the screening carries the label of each labelled one (and of
 * a labelled total with such a part): of `inst->labels`, those the placed
 * questions leave open; `unplaced_labelled` says so when that added one
 * (F2860). A numeric-only response to a question that is a sum's
 * code (the sender's own 95614-4) is used as that sum's value when its
 * parts are incomplete; a borrowed sum's only with `inst` (F4060).
 * Memory from `a`; the result borrows `d`. Returns
 * HUB_OK, or HUB_ELIMIT past DICT_MAX_RESPONSES.
 */
int dict_score(const struct dict *d, struct arena *a,
               const struct dict_instrument *inst,
               const struct dict_response *r, size_t n,
               struct dict_scoring *out)
    __attribute__((warn_unused_result));

/* What every adapter warns, once per screening, when dict_score gave it
 * its instrument's labels for items it could not place (F2860): no
 * question, answer or identifier is quoted. */
#define DICT_UNPLACED_LABELLED                                                \
    "sensitivity labels given because items could not be placed in the "    \
    "instrument: every label its questions not placed can carry"

/*
 * Whether a scored item is written `declined: true` (screening.schema.json),
 * the same in every adapter (F2123): dict_score took it as declined (no
 * answer at all, or an "I choose not to answer" code), and the reason the
 * sender gave for no answer, if any, is the person's refusal,
 * "asked-declined". "unknown", "not-asked" or "masked" say the answer is
 * not known, not that the person said no (F23): the item is unanswered
 * all the same, not a refusal. `reason`: the data-absent reason code as
 * sent, empty when none (C-CDA passes the reason its nullFlavor maps to,
 * ASKU as "asked-declined", NI as none: F2281).
 */
bool dict_item_refused(const struct dict_item_result *ir, struct slice reason);

/*
 * Whether a response is an item the dictionary computes itself (a sum's
 * total, AHC 95614-4; a derived rule's answer, Hunger Vital Sign 88124-3)
 * sent with nothing in it: no answer, number or words (F2404). No person
 * refused a total: every adapter leaves such an item out of the event, as
 * if not sent, and the hub's own total or derivation stands; it is never
 * written declined. What else the sender said of it (an interpretation, a
 * flag) is the adapter's to keep: such an item stays, not declined either.
 * `inst` as given to dict_score.
 */
bool dict_item_computed_empty(const struct dict *d,
                              const struct dict_instrument *inst,
                              const struct dict_response *r);

/*
 * The hub's derived items the sender did not send (Hunger Vital Sign
 * 88124-3 from 88122-7 and 88123-5), written into the open items array
 * `w` after the items sent, the same in every adapter (F2424): each rule
 * of `sc` with an answer and no response of its code among `r` (the `n`
 * scored) becomes {"question", "answer", "domain", "positive", "derived":
 * true}. A derived item the sender did send is its own item, written as
 * sent with its own answer's verdict and no "derived" (F2680).
 */
struct jw;
void dict_write_derived_items(struct jw *w, const struct dict_scoring *sc,
                              const struct dict_response *r, size_t n);

/*
 * Whether `r`, a derived item the sender sent (88124-3), disagrees with
 * what the hub derives from the items of `sc`: the hub derived an answer,
 * `r` is not declined, and `own`, the item's verdict as the adapter writes
 * it, is not the derivation's. Every adapter then warns
 * DICT_DERIVED_DISAGREES at the item (F2680); the sender's item stands.
 */
bool dict_derived_disagrees(const struct dict_scoring *sc,
                            const struct dict_response *r,
                            enum dict_verdict own);
#define DICT_DERIVED_DISAGREES                                                \
    "sender's derived answer disagrees with the dictionary"

/* What FHIR and C-CDA warn at a sender's total (an item coded with a sum
 * of the screening, its number) that is not the hub's sum of the answers:
 * the hub's sum is what `scores` publishes (F4061; CSV says it in its
 * report's words). */
#define DICT_TOTAL_DISAGREES "sender's total disagrees with the hub's sum"

/*
 * An answer given in words (FHIR's valueString or CodeableConcept.text,
 * C-CDA's ST or originalText, CSV's answer words) read as a code, the same
 * in every adapter (F2263): the one answer of the question's list whose
 * display the words are, after trimming ASCII white space and without
 * regard to ASCII case, in the lists of every instrument that asks the
 * question, whatever instrument the screening turns out to be: FHIR reads
 * an answer before it knows the instrument, so the rule cannot hang on it
 * (F2481). NULL when no display is the words, or two answers of different
 * codes are (PRAPARE's "Yes" and AHC's): nothing is guessed ("Y" is no
 * display), and the words stay text (answered in words, F2120).
 */
const struct dict_answer *dict_answer_by_display(const struct dict *d,
                                                 struct slice question,
                                                 struct slice words);
/* What every adapter warns where it read words so. */
#define DICT_WORDS_READ_AS_CODE                                               \
    "answer given as its text read as the LOINC code of the question's "     \
    "answer with that display"

/* ---- ICD-10-CM to domain ----------------------------------------------------- */

/*
 * The domain of an ICD-10-CM code ("Z59.41", "Z5941", "Z59"), by the most
 * specific row of zcodes.json that covers it (single codes and ranges such
 * as Z55-Z65), or NULL.
 */
const char *dict_icd10_domain(const struct dict *d, struct slice code);

/* ---- SNOMED CT findings to domain (snomed-domains.json) ------------------------ */

/*
 * The domain of a SNOMED CT finding ("733423003" Food insecurity ->
 * food-insecurity), by an exact row of snomed-domains.json, or NULL: no
 * hierarchy is read, so a concept the table leaves out (a child, a more
 * general "finding of social status") names no domain. The caller checks
 * the code system (dict_is_snomed).
 */
const char *dict_snomed_domain(const struct dict *d, struct slice code);

/* ---- referral (Task) statuses -------------------------------------------- */

struct dict_task_status {
    const char *code;           /* FHIR TaskStatus "in-progress" */
    const char *display;
    bool terminal;              /* no further change expected */
    bool referral;              /* in the Gravity referral-management subset */
    const char *const *aliases; /* words referral tools write for it
                                   ("declined"), lowercase, never a code */
    size_t n_aliases;
};

/* By its FHIR code only ("in-progress"): what a FHIR Task must send. */
const struct dict_task_status *dict_task_status_find(const struct dict *d,
                                                     struct slice code);
/* By one of its aliases ("declined" -> rejected), exact and lowercase: for
 * flat files, whose tools write their own words. NULL for a code. */
const struct dict_task_status *dict_task_status_alias(const struct dict *d,
                                                      struct slice word);
size_t dict_task_status_count(const struct dict *d);
const struct dict_task_status *dict_task_status_at(const struct dict *d,
                                                   size_t i);

/* ---- sensitivity labels ------------------------------------------------------ */

/*
 * The hub sensitivity label ("sud", "psy", "hiv", "std", "restricted") of a
 * security label (FHIR meta.security system + code; an empty system, as
 * CSV and some senders give, matches the code in any system), or NULL when it carries none.
 */
const char *dict_security_label(const struct dict *d, struct slice system,
                                struct slice code);
/* The sensitivity label an ICD-10-CM diagnosis implies (F10-F19 -> "sud"),
 * or NULL. Read up to the first byte no code has, on the safe side:
 * "F10.2+" or "F10.20!x" as sent by a broken feed are F10.2x. */
const char *dict_icd10_sensitivity(const struct dict *d, struct slice code);

/* The sensitivity label a LOINC question's answer implies (PHQ-9, GAD-7,
 * C-SSRS items -> "psy"), or NULL; dict_score applies it. */
const char *dict_loinc_sensitivity(const struct dict *d, struct slice code);

/* The sensitivity labels an HL7 v2 access restriction value implies
 * (ARV-3, table 0717: HIV -> "hiv", PSY -> "psy", STD -> "std", DRG ->
 * "sud"; security-labels.json "v2-0717"), case aside, each row's label
 * into out[] up to `max`: returns how many (0 for a value that names no
 * sensitive kind of data, such as DEM or LOC). */
size_t dict_access_restriction_labels(const struct dict *d, struct slice code,
                                      const char **out, size_t max);

/* Whether `system` names SNOMED CT: its FHIR URI (also as https://, as
 * NHS England's Reasonable Adjustments examples send it), its OID (C-CDA
 * codeSystem, bare or urn:oid:) or HL7 v2 table 0396 "SCT". */
#define DICT_SNOMED_SYSTEM "http://snomed.info/sct"
bool dict_is_snomed(struct slice system);
/* The sensitivity label a SNOMED CT concept implies (a member of a
 * security-labels-<x>.json table: the substance use disorders of the eCQM
 * value set -> "sud", the psychiatric disorders of the eCQM value sets of
 * depression, bipolar, personality and psychotic disorders -> "psy"), or
 * NULL. Exact concepts only: no hierarchy is read. */
const char *dict_snomed_sensitivity(const struct dict *d, struct slice code);

/* ---- diagnoses in any code system (dict_codes.c) --------------------------- */

/* Whether `system` names CPT (HCPCS Level I): its FHIR URI, its OID
 * 2.16.840.1.113883.6.12 (bare or urn:oid:), HL7 v2 table 0396 C4, CPT,
 * CPT4, CPT-4; or HCPCS Level II: THO's URI (http or https), its OID
 * 2.16.840.1.113883.6.285 and HCPCS's 2.16.840.1.113883.6.14, v2's HCPCS
 * and HPC. One test for both: senders put each kind of code under the
 * other's system (F1947), and the code's shape tells them apart. */
#define DICT_CPT_SYSTEM "http://www.ama-assn.org/go/cpt"
bool dict_is_cpt_or_hcpcs(struct slice system);
/* The shape of a 5-byte procedure code (CPT Category I "90791", II
 * "0001F", III "0042T"; HCPCS Level II "H0001", its letter upper-cased
 * into key[]), which codes of one shape compare by strcmp; -1 when `code`
 * (trimmed) is none of them. */
int dict_proc_shape(struct slice code, char key[6]);
/* The sensitivity label a CPT or HCPCS Level II code implies (psychiatry
 * 90785-90899 -> "psy"; alcohol and drug services H0001, H0005-H0016 ...
 * -> "sud": security-labels.json "cpt" and "hcpcs"), or NULL. */
const char *dict_proc_sensitivity(const struct dict *d, struct slice code);

/* Whether `system` names ICD-9-CM: its FHIR URI, the OIDs of ICD-9-CM
 * diagnoses (C-CDA 2.16.840.1.113883.6.103), ICD-9-CM and ICD-9 (bare or
 * urn:oid:), or what HL7 v2 feeds write (I9, I9C, I9CM, I9CDX, ICD9,
 * ICD-9, ICD9CM, ICD-9-CM); case aside, as sent. */
#define DICT_ICD9_SYSTEM "http://hl7.org/fhir/sid/icd-9-cm"
bool dict_is_icd9(struct slice system);
/* The sensitivity label an ICD-9-CM code implies, with or without its
 * dot: 291-292 and 303-305 (the substance use codes F10-F19 replaced) ->
 * "sud"; 295-298, 300-302, 306-309, 311-314, 316 and V62.84 (the codes of
 * the ICD-10 blocks the dictionary labels psy) -> "psy"; else NULL.
 * ICD-9-CM is frozen: no dictionary row needed. */
const char *dict_icd9_sensitivity(struct slice code);
/* Whether `system` names ICD-10-CM or WHO ICD-10: FHIR's URIs, their
 * OIDs (bare or urn:oid:), ICD-10-GM's FHIR URIs (BfArM, DIMDI), or HL7
 * v2's I10, I10C, ICD10, ICD-10, ICD10CM, ICD-10-CM; case aside, as sent. */
bool dict_is_icd10(struct slice system);
/* The sensitivity label of a diagnosis coded in `system`: ICD-9-CM as
 * above, ICD-10(-CM) (FHIR URI or OID) by dict_icd10_sensitivity, SNOMED
 * CT by dict_snomed_sensitivity, a procedure or service in CPT or HCPCS by
 * dict_proc_sensitivity; NULL for another or no system. `d` NULL:
 * ICD-9-CM only. The one classifier of every adapter (HL7 v2 DG1, FHIR,
 * C-CDA): no adapter keeps a list of labelled codes of its own. */
const char *dict_code_sensitivity(const struct dict *d, struct slice system,
                                  struct slice code);
/* Which ICD-10 codes dict_icd10_sensitivity may label, by their first two
 * bytes, for a caller that must pass most codes by cheaply (HL7 v2 reads
 * a few DG1s a message): p[letter - 'A'] has bit (digit - '0') set when a
 * row may match a code of that upper-case letter and second digit, bit 10
 * for any other second byte. A bit clear: no label, for sure; set: ask. */
const uint16_t *dict_icd10_label_prefixes(const struct dict *d);

/* ---- listing, for `hubctl dict show` ------------------------------------------ */

/* One ICD-10, security-label or SNOMED CT row as loaded (codes normalised:
 * no dot). SNOMED CT to domain rows have the domain in `value`. */
struct dict_row {
    const char *lo;             /* "Z5941" or the range start "Z55" */
    const char *hi;             /* == lo for a single code */
    const char *system;         /* security labels: the system, or NULL */
    const char *value;          /* domain or hub label */
    bool conditional;           /* loinc: only the row's answers, or a
                                   value past its `above`, imply it */
};

enum dict_table { DICT_T_ZCODES, DICT_T_LABELS, DICT_T_ICD10_LABELS,
                  DICT_T_SNOMED_LABELS, DICT_T_LOINC_LABELS,
                  DICT_T_SNOMED_DOMAINS, DICT_T_V2_0717, DICT_T_PROC_LABELS };
size_t dict_rows_count(const struct dict *d, enum dict_table t);
/* Row i of table t; false past the end. */
bool dict_rows_at(const struct dict *d, enum dict_table t, size_t i,
                  struct dict_row *out);

#endif
