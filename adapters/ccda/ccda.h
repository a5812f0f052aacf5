/*
 * ccda.h - read a C-CDA R2.1 XML document into canonical events.
 *
 * Pure: no I/O, no clock, no globals of ours; all output in the caller's
 * arena. Each call reads its document into a private tree (libxml2's SAX2
 * events into an arena of its own, see ccda_xml.c), freed before returning, so
 * documents may be read on several threads at once, provided the process
 * called xmlInitParser() once, on the main thread, before any thread reads a
 * document (libxml2's own process globals; hubd does this at start-up, see
 * ccda_global_init()).
 *
 * Hostile input: the document is parsed with network access off
 * (XML_PARSE_NONET), no entity substitution, no DTD loading or default
 * attributes, XML_PARSE_HUGE off, a fresh parser context per document, and
 * libxml2's messages captured (never printed: they quote the input). Any
 * DOCTYPE is refused before its internal subset is read: C-CDA has no DTD,
 * and a DOCTYPE is how entity expansion ("billion laughs") and external
 * entities (file:///etc/passwd) get in. Limits: CCDA_MAX_DOCUMENT bytes,
 * CCDA_MAX_DEPTH element depth (checked while walking the tree, below
 * libxml2's own 256), CCDA_MAX_ELEMENTS elements.
 *
 * Every event carries: source {format "ccda", message_id (below),
 * sending_facility = the custodian organization's name, else the author's
 * represented organization}; occurred_at = the screening's effectiveTime,
 * else the document's; the patient of recordTarget/patientRole (ids as
 * system + value: root OID "urn:oid:...", UUID "urn:uuid:...", the FHIR URI
 * of SSN, NPI, MBI, any other root as sent, the sender's own name, F620;
 * a root alone as an RFC 3986 id when it is an OID, UUID or URI (any
 * other, no system: the sender's, F621), but not the SSN, NPI or MBI
 * root, F106, nor one past 256 bytes, which has no value, F721;
 * names, a given name qualified CL (call me) as a nickname of its own,
 * birth date (a birthTime that is no HL7 TS is left out with a warning,
 * F173), sex, addresses with county, phones); sensitivity
 * "restricted" when confidentialityCode is R or V (dictionary), plus what a
 * Z code implies (and a problem's, a referral's reason's, a referral's
 * service's or a plan activity's code: a SUD treatment is sud, F190),
 * plus the DS4P labels (security-labels.json, by code) of
 * the part the event comes from: the confidentialityCode of each section
 * around it and of the statements of its entry, the Security Observations
 * (3.445.21) of its Privacy Annotations, and those of a Privacy Markings
 * section (3.3251.1.5), which label every event; warnings (XPath + static
 * text) for what was skipped.
 * The author's organization is the care plan's author and the referral's
 * requester (an entry's own author organization first; without either, the
 * organization of componentOf/encompassingEncounter's responsibleParty,
 * else of its facility's serviceProviderOrganization; never the
 * custodian, which keeps the document and does not ask for anything).
 *
 * What a document gives (one event per finding):
 *   Social History section (2.16.840.1.113883.10.20.22.2.17 / LOINC 29762-2),
 *   and Assessment sections: an Assessment Scale Observation (4.69) whose
 *     code is an instrument of the dictionary (Hunger Vital Sign 88121-9, AHC
 *     HRSN 96777-8, PRAPARE 93025-5, ...) -> one screening event with its
 *     items (4.86 / 4.69 / 4.38 components), domains and positive domains
 *     computed from the dictionary; a 4.69 whose code the dictionary does
 *     not name (Epic's per-domain AHC HRSN forms, code nullFlavor OTH) but
 *     one of whose questions it knows -> a screening with no instrument (or
 *     the panel's own code), as FHIR makes of any panel; a component coded
 *     in another system than LOINC is no item (Epic's "Domain ID"), with a
 *     warning; loose Social History Observations whose
 *     code is a screening item of the dictionary -> one screening event per
 *     instrument: screening.completed, and screening.positive with the same
 *     body when a domain is positive. A Social History Observation (4.38,
 *     event mood), or a Characteristics of Home Environment (4.109, whose
 *     value C-CDA gives the housing status: homeless 32911000, F1001),
 *     whose code is none of the dictionary's
 *     (160476009 / 8689-2) and whose value (or a translation) is an
 *     ICD-10 Z code of zcodes.json or a SNOMED CT finding of
 *     snomed-domains.json is an assessment, as FHIR's SDOHCC Observation
 *     Assessment (F143): an item whose question is the code (its LOINC
 *     translation first), answer the value's code, domain the finding's,
 *     "asserted" and positive (a status domain's: carried, not scored);
 *     a document's assessments make one screening with no instrument.
 *     A question of the dictionary answered with a finding of its own
 *     domain, none of its answers (88124-3 valued 733423003), is that
 *     assertion too, in its instrument's screening (F281).
 *     A negated one (negationInd="true": the finding is denied) is the
 *     same item answered negative: "asserted", positive false, its domain
 *     screened and not positive, as FHIR's Observation Assessment with
 *     valueBoolean false (F168); a status domain's finding denied gives
 *     nothing. One whose value names no domain gives nothing. Nowhere
 *     is a denial read as what it denies (F169-F171): a value whose
 *     nullFlavor is not OTH is no value, whatever code it carries; an
 *     item, problem or reason whose entryRelationship or own negationInd
 *     is "true" is none; a negated panel gives no screening; a concern
 *     act negated, or whose every problem is, is no concern (no
 *     condition, not among a Care Plan's "addresses"). The sender's own
 *     verdict (interpretationCode POS/NEG, a derived item such as 88124-3)
 *     is kept as
 *     sender_positive_domains, and a disagreement becomes a warning.
 *     An item with no value but nullFlavors is unanswered, "declined" as
 *     FHIR's dataAbsentReason says (F2281): ASKU (asked-declined), NI or
 *     no value at all (no reason) are a refusal; NASK, UNK, MSK, NA and
 *     any other flavor say the answer is not known, not refused. A
 *     nullFlavor OTH value ("outside the code system") answers an item no
 *     other value answers: its translation's code (LOINC first), else the
 *     literal words of its originalText (F2342; a reference into the
 *     narrative is not followed).
 *     Its "performer" is the entry's own author (else performer): its id,
 *     else its organization's; the panel's, else the first item's; never
 *     the header's author. Its "encounter" is componentOf's, unless the
 *     screening is dated more than a day outside that encounter's period
 *     (a screening of an earlier visit the document carries: F141).
 *     Smoking status, tobacco use and SOGI observations give no event: the
 *     hub has no topic for them and does not route them (they stay in the
 *     stored document).
 *   Problem (2.5.1 / 11450-4) and Health Concerns (2.58 / 75310-3)
 *     sections: each Problem Observation whose code (or an ICD-10
 *     translation: ICD-10-CM's OID or WHO ICD-10's, F3084) is a Z code the
 *     dictionary maps to an SDOH domain -> condition.recorded with that
 *     domain. Clinical problems without an SDOH domain give no event
 *     (minimum necessary: the hub routes social needs).
 *   Goals section (2.60 / 61146-7): every Goal Observation (4.121) ->
 *     goal.updated (a negated one, "goals not documented", is none: F131);
 *     domain from a Z-coded reason, or from the concern an
 *     Entry Reference (4.122) points to; addresses = those reasons' ids
 *     (an RSON with inversionInd="true" is the other way round, the entry
 *     inside done for the goal: not addressed, F820, nor its domain, F885);
 *     a goal in words (value ST) has them as its description; one that
 *     neither codes nor values itself is described by its <text>, else its
 *     code's originalText, each its own words or those of the section's
 *     narrative element its reference names, white space collapsed
 *     (F2520); a goal that says nothing (no id, code, value, text, time
 *     or reason: nullFlavors alone) is none, warned of at its place on
 *     the plan's event, if there is one, as a silent activity is (F2521;
 *     FHIR refuses a Goal with no description, its 1..1); an Outcome
 *     Observation (4.144, Outcomes section) that evaluates it (GEVL) with a
 *     Progress Toward Goal of "Goal achieved" / "Goal not achieved" gives
 *     achievement_status achieved / not-achieved.
 *   Plan of Treatment (2.10 / 18776-5), Assessment and Plan (2.9 / 51847-2,
 *   the two combined) and Interventions (21.2.3 / 62387-6):
 *     a Planned Procedure, Act or Encounter in request mood (moodCode RQO) is
 *     an order for service -> referral.created (status from statusCode,
 *     domain from an SDOH category, a Z-coded reason, a cited concern, else
 *     its own SNOMED CT code in snomed-domains.json; its
 *     effectiveTime, when the service is to be given, as occurrence_at and
 *     occurrence_period; its author's time, when the request was written,
 *     as authored_at, else the document's, F140); every
 *     other planned or intervention entry (moodCode INT, PRP, ...) is an
 *     activity of the plan -> one careplan.updated per document (a planned
 *     medication's, immunization's or supply's code is its product's; an
 *     activity that nothing codes has its code's originalText, else its
 *     own <text>, as its description, F1741, their own words or the
 *     narrative's their reference names, F2520; one longer than
 *     CCDA_MAX_DESCRIPTION is left out with a warning, F1826).
 *     A planned entry with negationInd="true" ("No Planned Tests") is not
 *     planned: neither a referral nor an activity (F822), a Patient
 *     Referral Act so denied no referral either (F884). An activity that
 *     says nothing (a code that is only a nullFlavor, no product code, id,
 *     words of its own or in the narrative its reference names, time or
 *     SDOH reason: NextTech's "No Information Entered") is left out, with
 *     a warning at its place on the plan's event, if there is one (F2181);
 *     a request (RQO) that says nothing so is no referral either, left
 *     out and warned of the same way (F2343; a Patient Referral Act is a
 *     referral by its template).
 *   Patient Referral Act (4.140, class PCPR) in a planned mood, in any
 *     section (a Referral Note's Reason for Referral, 42349-1, or a plan):
 *     the referral itself -> referral.created.
 *   A referral's ids (and a fulfilled order's) are its "identifiers",
 *     root and extension as system and value, as the patient's (F700).
 *   A referral's priorityCode (ActPriority R, UR, A, S) is its priority
 *     (routine, urgent, asap, stat: FHIR RequestPriority); other codes are
 *     left out (F133).
 *   inFulfillmentOf/order in the header (the orders this document
 *     fulfils: a Consultation Note closing the referral that asked for it)
 *     -> referral.updated, completed, for the order's id, the document as
 *     its output, the author's organization as performer; an order without
 *     a usable id gives nothing (no receiver could match it).
 *   Care Plan document (template 2.16.840.1.113883.10.20.22.1.15 or LOINC
 *     52521-2): one careplan.updated for the whole document (concerns, goals,
 *     activities), besides the events above.
 * An entry whose act (its observation, act, organizer, encounter,
 * procedure, substanceAdministration or supply) carries a nullFlavor of its
 * own is "no information": nothing of it is read (no event, item, concern,
 * goal, activity or referral, nor a domain or outcome it would lend), and
 * every event of the document warns of the first such entry the hub would
 * otherwise read, at its @nullFlavor (F3540). So of an act nested in an
 * entry the hub reads (a concern's problem, a panel's item, an organizer's
 * total, a goal's reason, a plan's part, an outcome's goal or progress):
 * nothing of it is read, and the first is warned of so (F3541). An Outcome
 * Observation about another person gives no goal its achievement (F3542,
 * as F3221). A nullFlavor of one of its
 * parts (code, value, time) is read as said above; a section's leaves it
 * empty.
 * A well-formed ClinicalDocument with nothing the hub routes (an unstructured
 * document, a CCD without social data) gives HUB_OK and no events: the hub
 * stores it and answers 202 with no events.
 */
#ifndef HUB_CCDA_H
#define HUB_CCDA_H

#include <stddef.h>

#include "common/arena.h"
#include "common/canon.h"
#include "common/hub_err.h"
#include "common/slice.h"

#define CCDA_MAX_DOCUMENT (8u << 20)    /* bytes; embedded PDFs beyond: no */
#define CCDA_MAX_DEPTH 64               /* element nesting; real CDA < 30 */
#define CCDA_MAX_ELEMENTS 200000        /* elements in one document */
#define CCDA_MAX_EVENT (256u << 10)     /* bytes of one canonical event */
#define CCDA_MAX_PATIENT (16u << 10)    /* bytes of the patient object */
#define CCDA_MAX_EVENTS 1000            /* events from one document */
#define CCDA_MAX_OUTPUT (32u << 20)     /* bytes of all events of one doc */
/* bytes of an activity's description in words (F1741): a plan's
 * activities share one event, so a longer narrative is left out, with a
 * warning, rather than refuse the document at CCDA_MAX_EVENT (F1826) */
#define CCDA_MAX_DESCRIPTION 1024

struct dict;                            /* common/dict.h */

/*
 * Read one C-CDA document (`len` bytes at `p`, any encoding libxml2 knows)
 * into canonical events appended to *out, with `d` for domains, instruments
 * and scoring (not modified; may be shared between threads).
 *
 * Returns HUB_OK, with *message_id = the document id (ClinicalDocument/id as
 * "urn:hl7ii:<root>:<extension>", or "urn:oid:<root>" / "urn:uuid:<root>"
 * without an extension; in `a`), the sender's idempotency key. Zero events
 * is a success (see above).
 *
 * Or returns a negative HUB_E* and fills *err, whose place is the XPath of
 * the problem ("/ClinicalDocument/recordTarget/patientRole/id"; whole, in
 * `a`, when longer than err->field holds: read it with hub_err_field())
 * and `what` static text; neither ever holds a value from the document. *out may then
 * hold events already made: the caller discards them. The caller answers
 * HTTP 400 (HUB_ESYNTAX, HUB_EINVALID), 413 (HUB_ELIMIT) or 422
 * (HUB_EUNSUPPORTED) and quarantines the document.
 *   HUB_ELIMIT        too large, too deep, too many elements or events
 *   HUB_ESYNTAX       not well-formed XML (offset = byte where it failed)
 *   HUB_EUNSUPPORTED  a DOCTYPE; root is not ClinicalDocument
 *   HUB_EINVALID      a required header part is missing or malformed:
 *                     ClinicalDocument/id, effectiveTime, recordTarget/
 *                     patientRole with at least one usable id
 * *message_id is set as soon as the document id was read, even on failure.
 */
int ccda_to_events(struct arena *a, const struct dict *d, const char *p,
                   size_t len, struct canon_list *out,
                   struct slice *message_id, struct hub_err *err)
    __attribute__((warn_unused_result));

/*
 * libxml2's process-wide set-up: call once from main() before any thread
 * starts, and before anything else in the process uses libxml2: it gives
 * libxml2 the adapter's allocation functions (xmlMemSetup, see ccda_xml.c)
 * and then runs xmlInitParser. The only function here that touches globals;
 * the first ccda_to_events() runs it if nothing did.
 */
void ccda_global_init(void);

#endif
