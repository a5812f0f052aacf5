/*
 * fhir.h - FHIR R4 JSON (one resource or a Bundle) to canonical events.
 * Pure: no I/O, no clock, no globals; all memory from the caller's arena.
 * The input is bounded before cJSON sees it (size, nesting depth, array and
 * object sizes, value count). Errors name the element path
 * ("entry[3].resource.status", "Observation.valueCodeableConcept"), never a
 * value, and fhir_operation_outcome() turns them into the OperationOutcome
 * the sender gets back.
 *
 * What each resource gives (see schemas/bodies/ for the bodies):
 *   QuestionnaireResponse, Observation  screening.completed, and also
 *        screening.positive (same body) when the dictionary finds a positive
 *        domain. A panel Observation takes its hasMember items from the same
 *        message, each of the panel's patient (the same entry, reference or
 *        identifier; none: the panel's): a member of another patient
 *        refuses the panel at that member and is read on its own (F2582);
 *        a grouping with none that panels of two patients name is
 *        neither's: each panel is read without it, warned at its
 *        hasMember, and its members of a patient on their own (F2741);
 *        loose item Observations of one patient in one message
 *        form one screening (named by their questions when they are of
 *        one encounter, as a response without a known questionnaire is:
 *        schemas/dict/README.md); an Observation derived from a
 *        QuestionnaireResponse in the same message is folded into it, and
 *        so is one that only repeats an answer of such a response of the
 *        same patient and encounter (same question, same value: F370).
 *        An answer sent as text (valueString, a CodeableConcept's text)
 *        that is the display of one of its question's answers is read as
 *        that answer's code, with a warning.
 *        Positivity is the hub's (dict_score); a sender's interpretation
 *        POS/NEG that disagrees becomes a warning on the event, never an
 *        override. An SDOHCC Observation Assessment (SDOH category, a code
 *        that is no dictionary question, valueBoolean or a SNOMED CT
 *        finding or SDOH Z code as value; "Known absent" denies it,
 *        "Unknown" asserts nothing: F282) is the sender's assertion of
 *        that finding: its item is "asserted", positive as asserted, in the
 *        category's domain (not in a status domain; schemas/dict/README.md);
 *        with no SDOH category, a social-history Observation takes the
 *        domain of its code's finding, else of its value's Z code (in
 *        any coding, first: F3223) or finding (C-CDA on FHIR's form of C-CDA's SDOH Social History
 *        Observation, which the C-CDA adapter reads the same way: F143), and
 *        so does one coded LOINC 75274-1 "Characteristics of residence"
 *        with no category at all (eCR's home environment, C-CDA's 4.109:
 *        F1160); a
 *        dictionary question answered with a finding of its own domain
 *        and none of its answers is that assertion too (F281). For an
 *        effectivePeriod, occurred_at is its end (else issued, else its
 *        start) and the body keeps the period. "language" is the language
 *        it was taken in, from SHIN-NY's observation-language extension
 *        (never Resource.language, the language of the resource's text). Status entered-in-error / cancelled / in-progress: no event.
 *        An Observation whose only screening sign is the `survey`
 *        category, with a US Core functional-status or
 *        disability-status category and no SDOH domain (no sdoh or
 *        Gravity category, no code, component or answer the dictionary
 *        knows), is a functional or disability assessment: no event, and
 *        a warning at that category tells the sender why (alone or in a
 *        Bundle, accepted as context is; F802).
 *        A completed QuestionnaireResponse of no instrument the hub knows
 *        (by `questionnaire` or inferred) none of whose questions the
 *        dictionary knows and none of whose answers names a domain (a
 *        generic Yes/No does not: F1801) can be neither read nor
 *        labelled: it is context, no event, and an informational issue at
 *        its entry tells the sender why (fhir_entry_result.note; F1722);
 *        the Observations derived from it are read as if alone (F1802).
 *        A survey Observation (panel or loose items) of nothing the
 *        dictionary knows (no instrument, question, answer, domain
 *        category or finding), not filed under US Core's sdoh category,
 *        is context with the same note (F3361).
 *   Condition          condition.recorded (domain from the SDOH category, else
 *                      the Z code in any name of ICD-10, F3082, else the
 *                      SNOMED CT finding); occurred_at its recordedDate,
 *                      else its condition-assertedDate extension (F280),
 *                      else its onset
 *   Goal               goal.updated
 *   ServiceRequest     referral.created (draft, active, on-hold) or
 *                      referral.updated (completed, revoked, ...); basedOn
 *                      (a sub-referral's parent request) as "based_on";
 *                      occurrenceDateTime / occurrencePeriod (or an
 *                      occurrenceTiming's repeat.boundsPeriod) and
 *                      quantityQuantity as "occurrence_at",
 *                      "occurrence_period", "quantity" (a malformed one
 *                      is left out with a warning); identifier (BSeR's
 *                      PLAC and FILL numbers) as "identifiers". One whose
 *                      categories code only a laboratory, imaging,
 *                      diagnostic or surgical order (SNOMED CT 108252007,
 *                      363679005, 103693007, 387713003) is no referral:
 *                      context, no event, an informational issue at its
 *                      entry says why (F2000, F2321). A reason
 *                      Condition of another patient gives it nothing
 *                      (no domain, no label; a warning at that
 *                      reasonReference: F2621). Its domain: a Gravity
 *                      category, else its SNOMED CT code's, else a reason
 *                      Condition's, else a reasonCode's (F3083); the
 *                      catch-all sdoh-category-unspecified only when none
 *                      of them names another (F3226), as a Condition's
 *   Task               referral.updated, when it is a referral task (focus is
 *                      a ServiceRequest, or code "fulfill"); its identifier,
 *                      its focus request's and the request's as focus or
 *                      basedOn name it by identifier, as "identifiers",
 *                      each once; status checked
 *                      against schemas/dict/task-status.json; partOf
 *                      (a sub-task's parent Task) as "part_of"; without
 *                      "for", the patient of its focal ServiceRequest in
 *                      the message; an owner named by identifier alone
 *                      kept among "organizations"
 *   CarePlan           careplan.updated
 *   Consent            consent.updated: the base rule (provision type,
 *                      period, actors with their roles, actions, purposes,
 *                      security labels and the hub labels they name,
 *                      classes, codes, data period, data) and its nested
 *                      provisions as exceptions, at most 8 deep; an actor
 *                      or data item is kept by reference or identifier,
 *                      and one with neither is refused; policyRule apart
 *                      from the policy URIs
 *   Procedure          a performed intervention: folded into the referral
 *                      event of the same message that it fulfils (a
 *                      referral Task listing it in output, else the
 *                      ServiceRequest it is basedOn) as referral.performed;
 *                      else, named in partOf by a screening of the message
 *                      (the assessment's administration, HCPCS G0136), into
 *                      that screening as screening.procedures; never into
 *                      another patient's (the referral or screening is
 *                      kept, takes nothing from it and warns at the
 *                      reference: F2622); otherwise
 *                      careplan.updated with it as the activity
 *                      (see fx_mark_procedures in fhir_procedure.c for why)
 *   Encounter          the focus of a Da Vinci Unsolicited Notifications
 *                      message (MessageHeader.eventCoding of the IG's
 *                      notification-event system: notification-admit,
 *                      -discharge, -transfer): adt.admit, adt.discharge,
 *                      adt.transfer with HL7 v2 ADT's encounter body
 *                      (class, table 0004's patient_class where one code
 *                      maps, location by physicalType up its partOf,
 *                      facility, attending ATND, visit number VN,
 *                      admitted_at, discharged_at once finished, the
 *                      discharge disposition, diagnoses from
 *                      Encounter.diagnosis, the message's
 *                      encounter-diagnosis Conditions naming it and
 *                      reasonCode; fhir_encounter.c; F3160); one
 *                      cancelled adt.update with cancel_of A01, A02 or
 *                      A03, one planned under notification-admit
 *                      adt.register, as HL7 v2's A11-A13 and A05
 *                      (F3305); one planned under a transfer or a
 *                      discharge none, with a note (F3464). Any other
 *                      Encounter is context (F516)
 *   Patient, Organization, and any other type inside a Bundle:
 *                      context (references resolve to them), no event; a
 *                      message of context only is accepted with no event.
 *                      A referral or care plan lists the Organizations it
 *                      names that the message holds ("organizations"; a
 *                      referral's performer named by display or identifier
 *                      alone, too: an Organization or a HealthcareService).
 *                      An entry without id is named by its urn:uuid or
 *                      urn:oid fullUrl, else by its type.
 * A member name twice in one object (FHIR JSON has each element once) is
 * refused, HUB_ESYNTAX at the second one's path, before any entry is read;
 * inside one entry of a batch, that entry alone (a batch's entries stand
 * alone; a transaction's are all or nothing).
 * A modifierExtension (FHIR R4: it may change the meaning of what holds
 * it, and SHALL NOT be ignored) is known to the hub in none of its forms:
 * a resource or Bundle.entry carrying one at any depth is refused
 * (HUB_EUNSUPPORTED, the path of the first), in a batch that entry alone.
 * meta.security labels (of the resource and of the Bundle) and sensitive
 * diagnoses and treatments (the code of a Condition, a Procedure, a
 * ServiceRequest or a CarePlan activity, a ServiceRequest's reasonCode:
 * what the event tells; ICD-10, ICD-9-CM, SNOMED CT, CPT and HCPCS Level
 * II, F2001) become "sensitivity" labels through the dictionary.
 * A logical reference (identifier alone, FHIR R4 Reference.identifier) is
 * the patient by that identifier; beside a reference to a Patient not in
 * the message, it is kept with the fhir-id.
 * The patient of an event is its subject/for/patient reference: the Patient
 * resource when the message holds it (identifiers, names, ...), and always an
 * identifier {"value": <Patient id>, "system": "<id_scope>:Patient",
 * "type": "fhir-id"} so that later messages that only reference
 * Patient/<id> link to the same person. A FHIR logical id is the sender's
 * server's id, not an MRN: its own system keeps "123" from meeting an MRN
 * "123" of the same org (the hub passes id_scope "urn:hub:org:<org>:fhir",
 * fhir_to_events_scoped). Without a scope the identifier has no system
 * and the linker scopes it by the sending org like any bare identifier.
 * A Patient the message does not hold, referenced by an absolute URL, is
 * that server's: its fhir-id's system is the URL up to the type
 * ("https://patient.example/fhir/Patient"), not the sender's scope.
 *
 * Bundles: transaction, batch, collection, document, searchset (entries of
 * search.mode outcome, the server's OperationOutcome, are left out),
 * message (its first entry must be the MessageHeader, which like other
 * context gives no event; a document's, the Composition); others are
 * refused.
 * References resolve inside the bundle by fullUrl (urn:uuid:, absolute) and
 * by relative "Type/id"; a urn:uuid: reference that resolves to nothing is an
 * error. A local reference "#id" names a resource contained in the one that
 * holds it: a contained subject Patient is the event's patient (without a
 * fhir-id identifier: its id means nothing outside its container; a "#id"
 * that names no contained Patient is refused), a contained Organization is
 * listed in "organizations". One bad entry refuses the whole bundle (err->field
 * "entry[3].resource.status"), except for type batch, whose good entries are
 * kept and whose bad ones are reported in res->entries.
 */
#ifndef HUB_FHIR_H
#define HUB_FHIR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/canon.h"
#include "common/dict.h"
#include "common/hub_err.h"
#include "common/slice.h"

#define FHIR_MAX_BYTES (8u << 20)   /* one request body */
#define FHIR_MAX_DEPTH 40           /* JSON nesting, checked before parsing */
#define FHIR_MAX_ARRAY 10000        /* elements of one JSON array */
#define FHIR_MAX_MEMBERS 1000       /* members of one JSON object */
#define FHIR_MAX_VALUES 1000000     /* JSON values in the whole body */
#define FHIR_MAX_STRING (2u << 20)  /* one JSON string (attachments) */
#define FHIR_MAX_ENTRIES 1000       /* Bundle.entry */
#define FHIR_MAX_ITEM_DEPTH 12      /* nested QuestionnaireResponse items,
                                       hasMember chains */

/* A non-fatal finding, as on the events ("warnings"): for the sender's
 * feedback (fhir_result_outcome lists them as warning issues). */
struct fhir_warning {
    const char *field;          /* element path */
    const char *what;           /* static text */
};

/* What happened to one Bundle entry (or to the single resource). */
struct fhir_entry_result {
    const char *resource;       /* "Observation/abc", its urn: fullUrl, its
                                   place "Bundle.entry[3].resource" (F3362),
                                   or a lone resource's type */
    int status;                 /* HUB_OK, or the HUB_E* that refused it */
    struct hub_err err;         /* when status != HUB_OK */
    size_t first_event;         /* its events: out->ev[first_event ..] */
    size_t n_events;            /* 0: context only, or nothing to report */
    const struct fhir_warning *warnings;    /* of its events, once each */
    size_t n_warnings;
    /* Why an accepted entry gave no event, where the hub has a reason of
     * its own to tell (a QuestionnaireResponse it cannot read: F1722);
     * note.what NULL when none is said. */
    struct fhir_warning note;
    /* A refused entry of a partly accepted batch: its bytes in the input
     * (from "{" to "}" of Bundle.entry[i]), for the hub to quarantine on
     * their own; empty otherwise (or when the entry could not be found). */
    struct slice raw;
};
#define FHIR_ENTRY_NOTE 1   /* has `note`: for tools built against older trees */

struct fhir_result {
    /* The idempotency key and source.message_id: "system|value" of
     * Bundle.identifier, else "Type/id/_history/versionId" or "Type/id" of
     * the resource or Bundle; NULL when the message has none (the caller
     * then uses the Idempotency-Key header or a content hash; the events,
     * whose source.message_id the canonical schema requires, then name
     * the message by its type alone, "Bundle", as an entry without id). */
    const char *message_id;
    const char *resource_type;  /* "Bundle", "Observation", ... */
    const char *bundle_type;    /* "transaction", "batch", ...; or NULL */
    struct fhir_entry_result *entries;  /* one per Bundle.entry, or one for
                                           a single resource */
    size_t n_entries;
    size_t n_failed;            /* > 0 only for a partly accepted batch */
};

/*
 * Normalize one FHIR R4 JSON body. Appends events to *out (storage from
 * `a`) and fills *res (also from `a`; may be NULL when not wanted).
 * Returns HUB_OK, including for a batch some of whose entries failed
 * (res->n_failed says how many; their events were not added), or:
 *   HUB_ELIMIT        too big, too deep, too many entries (err->field "$"
 *                     or the element)
 *   HUB_ESYNTAX       not JSON, or not UTF-8 (field "$", offset of the
 *                     first byte that is not)
 *   HUB_EUNSUPPORTED  a resource type or Bundle type the hub does not take
 *   HUB_EINVALID      a value is wrong or missing (err->field the element)
 * On failure nothing is appended to *out (it is rolled back) and, for a
 * bundle, err->field starts with "entry[i]". `d` must outlive the events
 * only while they are being written (event JSON is copied into `a`).
 */
int fhir_to_events(struct arena *a, const struct dict *d, const char *p,
                   size_t len, struct canon_list *out, struct fhir_result *res,
                   struct hub_err *err) __attribute__((warn_unused_result));

/* fhir_to_events with the system prefix of bare Patient ids (see the
 * header comment); `id_scope` NULL is fhir_to_events. */
int fhir_to_events_scoped(struct arena *a, const struct dict *d,
                          const char *id_scope, const char *p, size_t len,
                          struct canon_list *out, struct fhir_result *res,
                          struct hub_err *err)
    __attribute__((warn_unused_result));

/*
 * The FHIR OperationOutcome for an error from fhir_to_events: one issue,
 * severity error, code from err->code (invalid, structure, too-costly,
 * not-supported), diagnostics = err->what, expression = the element path
 * (prefixed "Bundle." for entry paths, or by `resource_type`) and, when
 * err->located (a body that is not UTF-8 or not JSON, a JSON limit), an
 * extension FHIR_OFFSET_EXT whose valueInteger is the 0-based byte offset
 * into the body. Written into `a`; always succeeds for errors this module
 * made.
 */
#define FHIR_OFFSET_EXT "urn:hub:offset"
int fhir_operation_outcome(struct arena *a, const struct hub_err *err,
                           const char *resource_type, struct slice *out);

/*
 * The OperationOutcome for an accepted message (a batch perhaps in part):
 * one error issue per failed entry (expression "Bundle.entry[i]..."), one
 * warning issue per warning of the accepted entries (a sender's
 * interpretation that the dictionary contradicts, members not sent, ...),
 * one information issue per accepted entry that gave no event for a
 * reason the hub states (its `note`, expression the entry), or a single
 * information issue "all entries accepted" (or "accepted with no event")
 * when there is none of these.
 */
int fhir_result_outcome(struct arena *a, const struct fhir_result *res,
                        struct slice *out);

/* An OperationOutcome of one information issue saying `what` (no place in
 * the body): what another format's answer says in FHIR's shape (POST
 * /v1/ccda's document of no event, F2862). */
int fhir_info_outcome(struct arena *a, const char *what, struct slice *out);

#endif
