/*
 * ccda.c - C-CDA document to canonical events: the header (patient,
 * organizations, document id and time), then every section of the
 * structured body, entry by entry, by template id and mood (see ccda.h for
 * what gives which event, and why some entries give none).
 *
 * Flow: parse (ccda_xml.c) -> header -> patient JSON written once and
 * copied into each event -> body walk (sections nest; entries dispatch on
 * their template) -> careplan.updated last, gathering the plan's activities.
 * Everything read from the tree is copied into the arena before the tree is
 * freed; events never point into the tree or libxml2's memory.
 *
 * This file walks the body and is the entry point; the parts it calls
 * share ccda_doc.h:
 *   ccda_header.c   the header: patient, organizations, id, time
 *   ccda_screen.c   screenings: assessment scales, loose items, totals
 *                   sent as results
 *   ccda_entries.c  conditions, concerns, goals, referrals, the care plan
 *   ccda_event.c    one event's envelope, labels and limits; SDOH domains
 */
#include "ccda/ccda.h"

#include <stdlib.h>
#include <string.h>

#include "ccda/ccda_doc.h"
#include "ccda/ccda_int.h"
#include "common/dict.h"
#include "common/jw.h"
#include "common/strset.h"

#define MAX_SECTION_NEST 8      /* subsections inside sections */

/* template ids (C-CDA R2.1) */
#define T_SOCIAL_HISTORY_SEC "2.16.840.1.113883.10.20.22.2.17"
#define T_PROBLEM_SEC "2.16.840.1.113883.10.20.22.2.5.1"
#define T_PROBLEM_SEC_OPT "2.16.840.1.113883.10.20.22.2.5"
#define T_HEALTH_CONCERN_SEC "2.16.840.1.113883.10.20.22.2.58"
#define T_GOALS_SEC "2.16.840.1.113883.10.20.22.2.60"
#define T_PLAN_SEC "2.16.840.1.113883.10.20.22.2.10"
#define T_ASSESS_PLAN_SEC "2.16.840.1.113883.10.20.22.2.9"
#define T_INTERVENTIONS_SEC "2.16.840.1.113883.10.20.21.2.3"
#define T_PROBLEM_CONCERN "2.16.840.1.113883.10.20.22.4.3"
#define T_PROBLEM_OBS "2.16.840.1.113883.10.20.22.4.4"
#define T_SMOKING_STATUS "2.16.840.1.113883.10.20.22.4.78"
#define T_TOBACCO_USE "2.16.840.1.113883.10.20.22.4.85"
#define T_GOAL_OBS "2.16.840.1.113883.10.20.22.4.121"
#define T_OUTCOME_OBS "2.16.840.1.113883.10.20.22.4.144"
#define T_PROGRESS_GOAL "2.16.840.1.113883.10.20.22.4.110"
#define T_HEALTH_CONCERN "2.16.840.1.113883.10.20.22.4.132"
#define T_RISK_CONCERN "2.16.840.1.113883.10.20.22.4.136"
/* HL7 CDA R2 IG: Data Segmentation for Privacy (DS4P) */
#define T_PRIVACY_MARKINGS_SEC "2.16.840.1.113883.3.3251.1.5"

enum section_kind {
    SEC_OTHER,
    SEC_SOCIAL,
    SEC_PROBLEM,
    SEC_CONCERN,
    SEC_GOALS,
    SEC_PLAN,
};

/* ---- body walk ----------------------------------------------------------- */

/* The act entry `en` states, or NULL when it states none to read: an act
 * that carries a nullFlavor of its own is "no information" (HL7 v3: the
 * act is not known, whatever it holds), so nothing of it is read, neither
 * an event nor a domain or outcome it would lend (F3540). A nullFlavor of
 * its code, value or time is no such thing: read where each is. Every
 * walk of a section's entries takes them here. */
static const struct ccda_node *entry_act(const struct ccda_node *en)
{
    const struct ccda_node *st = ccda_first_elem(en);
    return ccda_null(st) ? NULL : st;
}

/* CDA R2's subject, of a section or an entry: the person what it holds is
 * about, conducted to what it holds unless overridden; none is the
 * recordTarget (F3221). Whether `n`'s names another person than the
 * patient, given what its section conducts (`conducted`): a relatedSubject
 * whose code is not SELF (RoleClass) or ONESELF (PersonalRelationshipRoleType:
 * the mother is MTH); one that names no relation is the patient. */
static bool about_other(bool conducted, const struct ccda_node *n)
{
    const struct ccda_node *s = ccda_child(n, "subject");
    if (s == NULL)
        return conducted;
    struct slice code = ccda_token(
        ccda_attr(ccda_path(s, "relatedSubject/code"), "code"));
    return !slice_empty(code) && !slice_eq(code, "SELF") &&
           !slice_eq(code, "ONESELF");
}

/* Remember each concern act's id and SDOH domain, before the walk, so
 * that goals and plans pointing at it (in any section order) know it. One
 * about another person (`conducted` as do_section's) lends the patient's
 * goals no domain (F3724, as F3542). */
static void index_concerns(struct doc *dc, const struct ccda_node *sec,
                           bool conducted, int depth)
{
    if (sec == NULL || depth > MAX_SECTION_NEST)
        return;
    conducted = about_other(conducted, sec);
    CCDA_FOREACH(en, sec, "entry") {
        const struct ccda_node *act = entry_act(en);
        if (!ccda_is(act, "act") || negated(act) ||
            about_other(conducted, act) ||
            !(ccda_has_template(act, T_PROBLEM_CONCERN) ||
              ccda_has_template(act, T_HEALTH_CONCERN) ||
              ccda_has_template(act, T_RISK_CONCERN)))
            continue;
        const char *id = ccda_ii_string(dc->a, ccda_child(act, "id"));
        const char *dom = NULL;
        CCDA_FOREACH(er, act, "entryRelationship") {
            const struct ccda_node *o = concern_problem(dc, er);
            const struct ccda_node *coded;
            if (dom == NULL && o)
                dom = ccda_problem_domain(dc, ccda_child(o, "value"), &coded);
        }
        if (id && dom && dc->n_known < MAX_KNOWN)
            dc->known[dc->n_known++] = (struct known){ id, dom };
    }
    CCDA_FOREACH(comp, sec, "component")
        index_concerns(dc, ccda_child(comp, "section"), conducted,
                       depth + 1);
}

/* C-CDA Progress Toward Goal (4.110) value, SNOMED CT, to FHIR
 * goal-achievement; NULL for another (no code of the FHIR set is guessed) */
static const char *achievement_of(const struct ccda_node *v)
{
    const char *c = ccda_attr(v, "code");

    if (c == NULL || !dict_is_snomed(slice_from_cstr(
                         ccda_attr(v, "codeSystem") ? ccda_attr(v, "codeSystem")
                                                    : "")))
        return NULL;
    if (strcmp(c, "390802008") == 0)        /* Goal achieved */
        return "achieved";
    if (strcmp(c, "390801001") == 0)        /* Goal not achieved */
        return "not-achieved";
    return NULL;
}

/* F97: Outcome Observations (4.144) of a Care Plan's Outcomes section say
 * how far each goal got: GEVL names the goal (an Entry Reference or the
 * goal itself), SPRT a Progress Toward Goal observation. Read before the
 * goals are, wherever the section stands; a later outcome of the same goal
 * overrides an earlier one (document order). One about another person
 * (`conducted` as do_section's) says nothing of the patient's goals
 * (F3542, as F3221). */
static void index_outcomes(struct doc *dc, const struct ccda_node *sec,
                           bool conducted, int depth)
{
    if (sec == NULL || depth > MAX_SECTION_NEST)
        return;
    conducted = about_other(conducted, sec);
    CCDA_FOREACH(en, sec, "entry") {
        const struct ccda_node *o = entry_act(en);
        const char *goal = NULL, *status = NULL;
        if (!ccda_is(o, "observation") ||
            !ccda_has_template(o, T_OUTCOME_OBS) || about_other(conducted, o))
            continue;
        CCDA_FOREACH(er, o, "entryRelationship") {
            const struct ccda_node *c = ccda_first_elem(er);
            bool names = ccda_attr_eq(er, "typeCode", "GEVL") && goal == NULL;
            bool tells = !names && ccda_attr_eq(er, "typeCode", "SPRT") &&
                         ccda_has_template(c, T_PROGRESS_GOAL) &&
                         status == NULL;
            if (!(names || tells) || (c = held_act(dc, c)) == NULL)
                continue;
            if (names)
                goal = ccda_ii_string(dc->a, ccda_child(c, "id"));
            else
                status = achievement_of(ccda_child(c, "value"));
        }
        if (goal == NULL || status == NULL)
            continue;
        size_t i = 0;
        while (i < dc->n_outcomes && strcmp(dc->outcomes[i].goal_id, goal))
            i++;
        if (i < dc->n_outcomes)
            dc->outcomes[i].status = status;
        else if (dc->n_outcomes < MAX_OUTCOMES)
            dc->outcomes[dc->n_outcomes++] = (struct outcome){ goal, status };
    }
    CCDA_FOREACH(comp, sec, "component")
        index_outcomes(dc, ccda_child(comp, "section"), conducted, depth + 1);
}

static enum section_kind section_kind(const struct ccda_node *sec)
{
    const char *code = ccda_code_of(sec);

    if (ccda_has_template(sec, T_SOCIAL_HISTORY_SEC) ||
        (code && strcmp(code, "29762-2") == 0))
        return SEC_SOCIAL;
    if (ccda_has_template(sec, T_PROBLEM_SEC) ||
        ccda_has_template(sec, T_PROBLEM_SEC_OPT) ||
        (code && strcmp(code, "11450-4") == 0))
        return SEC_PROBLEM;
    if (ccda_has_template(sec, T_HEALTH_CONCERN_SEC) ||
        (code && strcmp(code, "75310-3") == 0))
        return SEC_CONCERN;
    if (ccda_has_template(sec, T_GOALS_SEC) ||
        (code && strcmp(code, "61146-7") == 0))
        return SEC_GOALS;
    /* the Assessment and Plan section stands for the Plan of Treatment
     * when a document combines the two (C-CDA: not both; F105) */
    if (ccda_has_template(sec, T_PLAN_SEC) ||
        ccda_has_template(sec, T_ASSESS_PLAN_SEC) ||
        ccda_has_template(sec, T_INTERVENTIONS_SEC) ||
        (code && (strcmp(code, "18776-5") == 0 ||
                  strcmp(code, "51847-2") == 0 ||
                  strcmp(code, "62387-6") == 0)))
        return SEC_PLAN;
    return SEC_OTHER;
}

/* Assessment scales nested in other entries (C-CDA: a Problem or Social
 * History Observation, or a Procedure, may hold the screening it rests on). */
static int scan_nested_scales(struct doc *dc, const struct ccda_node *n,
                              int depth)
{
    if (depth > MAX_ER_NEST)
        return HUB_OK;
    CCDA_FOREACH(er, n, "entryRelationship") {
        const struct ccda_node *c = ccda_first_elem(er);
        int rc;
        if (c == NULL || negated(er))
            continue;
        if (ccda_is(c, "observation") &&
            ccda_has_template(c, T_ASSESSMENT_SCALE) &&
            ccda_scale_is_screening(dc, c, 0))
            rc = held_act(dc, c) ? ccda_do_scale(dc, c) : HUB_OK;
        else if (!ccda_null(c))
            rc = scan_nested_scales(dc, c, depth + 1);
        else
            continue;   /* nothing of a null act is read, nor what it
                           holds; the scales it holds are the only thing
                           sought here, so the act is warned of no more
                           than any other the hub does not read (F3541) */
        if (rc != HUB_OK)
            return rc;
    }
    return HUB_OK;
}

static bool status_is(const struct ccda_node *n, const char *code)
{
    return ccda_attr_eq(ccda_child(n, "statusCode"), "code", code);
}

/* Whether result `obs` of organizer `org` stands (F3024, as F2961 rules
 * for the result itself): none of an organizer the sender nullified or
 * cancelled; of one aborted (a battery stopped part way), only those
 * themselves completed, one with no status of its own not. */
static bool result_stands(const struct ccda_node *org,
                          const struct ccda_node *obs)
{
    if (!voided(org))
        return true;
    return status_is(org, "aborted") && status_is(obs, "completed");
}

/* Whether the hub gives `st` a say (do_entry: an event, an item, a plan's
 * part; index_outcomes: a goal's achievement): what an entry about another
 * person would have said. Family history, whose subjects are relatives,
 * says nothing either way. */
static bool entry_speaks(const struct doc *dc, enum section_kind kind,
                         const struct ccda_node *st)
{
    if (ccda_has_template(st, T_SMOKING_STATUS) ||
        ccda_has_template(st, T_TOBACCO_USE))
        return false;           /* no event of the patient's either */
    if (kind == SEC_SOCIAL || kind == SEC_PLAN ||
        ccda_has_template(st, T_ASSESSMENT_SCALE) ||
        ccda_has_template(st, T_PATIENT_REFERRAL) ||
        ccda_has_template(st, T_GOAL_OBS) || mood_is(st, "GOL") ||
        ccda_has_template(st, T_PROBLEM_CONCERN) ||
        ccda_has_template(st, T_HEALTH_CONCERN) ||
        ccda_has_template(st, T_RISK_CONCERN) ||
        ccda_has_template(st, T_PROBLEM_OBS) ||
        ccda_has_template(st, T_OUTCOME_OBS) ||
        ccda_is_result_total(dc, st))
        return true;
    if (ccda_is(st, "organizer"))
        CCDA_FOREACH(comp, st, "component")
            if (ccda_is_result_total(dc, ccda_child(comp, "observation")))
                return true;
    return false;
}

/* Before any event (each warns of it, as of the header's flaws): the first
 * entry the hub would read that is about another person (F3221), and the
 * first whose act is "no information" (entry_act, F3540). */
static void find_left_out(struct doc *dc, const struct ccda_node *sec,
                          bool conducted, int depth)
{
    if (sec == NULL || depth > MAX_SECTION_NEST ||
        (dc->not_patient && dc->no_information))
        return;
    enum section_kind kind = section_kind(sec);
    conducted = about_other(conducted, sec);
    CCDA_FOREACH(en, sec, "entry") {
        const struct ccda_node *st = ccda_first_elem(en);
        if (st == NULL)
            continue;
        if (entry_act(en) == NULL) {
            if (dc->no_information == NULL && entry_speaks(dc, kind, st))
                dc->no_information = st;
        } else if (dc->not_patient == NULL && about_other(conducted, st) &&
                   entry_speaks(dc, kind, st)) {
            dc->not_patient = st;
        }
    }
    CCDA_FOREACH(comp, sec, "component")
        find_left_out(dc, ccda_child(comp, "section"), conducted, depth + 1);
}

static int do_entry(struct doc *dc, enum section_kind kind,
                    const struct ccda_node *st)
{
    if (!ccda_has_template(st, T_ASSESSMENT_SCALE)) {
        int rc = scan_nested_scales(dc, st, 0);
        if (rc != HUB_OK)
            return rc;
    }
    /* A Patient Referral Act in a planned mood (INT, RQO, ...) is the
     * referral itself, wherever it stands (a Referral Note keeps it in its
     * Reason for Referral section); in event mood it only reports one. */
    if (ccda_is(st, "act") && ccda_has_template(st, T_PATIENT_REFERRAL) &&
        !mood_is(st, "EVN"))
        return negated(st) ? HUB_OK     /* not referred (F884, as F822) */
                           : ccda_do_referral(dc, st);
    /* smoking status, tobacco use and SOGI: no topic, no event */
    if (ccda_has_template(st, T_SMOKING_STATUS) ||
        ccda_has_template(st, T_TOBACCO_USE))
        return HUB_OK;
    /* a total sent as a lab result, alone or in a Result Organizer: read
     * once the body is (F2800); the entry is read on as before */
    ccda_note_result(dc, st);
    if (ccda_is(st, "organizer"))
        CCDA_FOREACH(comp, st, "component") {
            const struct ccda_node *o = ccda_child(comp, "observation");
            if (result_stands(st, o) && ccda_is_result_total(dc, o) &&
                held_act(dc, o))
                ccda_note_result(dc, o);
        }
    if (ccda_is(st, "observation") && ccda_has_template(st, T_ASSESSMENT_SCALE))
        return ccda_do_scale(dc, st);
    if (ccda_is(st, "observation") && (mood_is(st, "GOL") ||
                                      ccda_has_template(st, T_GOAL_OBS)))
        return ccda_do_goal(dc, st);
    if (ccda_is(st, "act") && (ccda_has_template(st, T_PROBLEM_CONCERN) ||
                               ccda_has_template(st, T_HEALTH_CONCERN) ||
                               ccda_has_template(st, T_RISK_CONCERN)))
        return ccda_do_concern(dc, st,
                               !ccda_has_template(st, T_PROBLEM_CONCERN) ||
                                   kind == SEC_CONCERN);
    if (ccda_is(st, "observation") && ccda_has_template(st, T_PROBLEM_OBS))
        return ccda_do_problem(dc, st, kind == SEC_CONCERN);
    if (kind == SEC_SOCIAL && ccda_is(st, "observation") &&
        mood_is(st, "EVN")) {
        const char *dom;
        const struct ccda_node *coded = ccda_social_finding(dc, st, &dom);
        if (coded)
            return ccda_do_social_finding(dc, st, coded, dom);
        ccda_note_loose(dc, st);
        return HUB_OK;
    }
    if (kind == SEC_PLAN && !mood_is(st, "EVN"))
        return ccda_do_planned(dc, st, 0);
    if (kind == SEC_PLAN && (ccda_has_template(st, T_INTERVENTION)))
        return ccda_do_planned(dc, st, 0);
    return HUB_OK;
}

static int do_section(struct doc *dc, const struct ccda_node *sec,
                      bool conducted, int depth)
{
    enum section_kind kind = section_kind(sec);

    if (depth > MAX_SECTION_NEST)
        return ccda_err_at(dc->err, dc->a, HUB_ELIMIT, sec, NULL,
                           "sections nested too deep");
    conducted = about_other(conducted, sec);
    CCDA_FOREACH(en, sec, "entry") {
        const struct ccda_node *st = entry_act(en);
        /* about another person: not the patient's (F3221) */
        if (st == NULL || about_other(conducted, st))
            continue;
        int rc = do_entry(dc, kind, st);
        if (rc != HUB_OK)
            return rc;
    }
    CCDA_FOREACH(comp, sec, "component") {
        const struct ccda_node *sub = ccda_child(comp, "section");
        if (sub) {
            int rc = do_section(dc, sub, conducted, depth + 1);
            if (rc != HUB_OK)
                return rc;
        }
    }
    return HUB_OK;
}

/* The walk that gives the body's events, the care plan last. */
static int read_sections(struct doc *dc, const struct ccda_node *body)
{
    int rc;

    CCDA_FOREACH(comp, body, "component") {
        const struct ccda_node *sec = ccda_child(comp, "section");
        if (sec && (rc = do_section(dc, sec, false, 0)) != HUB_OK)
            return rc;
    }
    if ((rc = ccda_flush_loose(dc)) != HUB_OK)
        return rc;
    return ccda_emit_careplan(dc);
}

static int read_body(struct doc *dc)
{
    const struct ccda_node *body =
        ccda_path(dc->root, "component/structuredBody");

    CCDA_FOREACH(comp, body, "component") {
        const struct ccda_node *sec = ccda_child(comp, "section");
        index_concerns(dc, sec, false, 0);
        index_outcomes(dc, sec, false, 0);
        /* DS4P: the Privacy Markings section labels the whole document,
         * wherever it stands (F96) */
        if (sec && ccda_has_template(sec, T_PRIVACY_MARKINGS_SEC))
            ccda_doc_labels(dc, sec);
        find_left_out(dc, sec, false, 0);
    }
    /* A null act nested in what the walk reads is met only there
     * (held_act): when the document's first is, after events that do not
     * warn of it, the walk is made again from where it began, so that
     * every event does, as of an entry's (F3541). Rare: a document with
     * none is walked once. */
    struct doc before = *dc;
    size_t n_out = dc->out->n;
    int rc = read_sections(dc, body);
    if (rc != HUB_OK || dc->no_information == before.no_information)
        return rc;
    const struct ccda_node *met = dc->no_information;
    *dc = before;
    dc->out->n = n_out;
    dc->no_information = met;
    return read_sections(dc, body);
}

/* ---- entry point ----------------------------------------------------------- */

static const char *const known_roots[] = {
    "entry", "section", "component", "observation", "act", "procedure",
    "encounter", "organizer", "structuredBody", "substanceAdministration",
    "supply", "Bundle", "html", NULL,
};

/* CDA R2 inFulfillmentOf/order (always moodCode RQO): the orders this
 * document fulfils. A Consultation Note sent back to the referrer closes
 * its referral this way (C-CDA R2.1 Consultation Note; the HL7 sample
 * "Consult Document Closing Referral"): each order with a usable id gives
 * referral.updated, completed, for the referral of that id, with the
 * document as its output and the author's organization as performer. */
static int do_fulfilment(struct doc *dc)
{
    const struct dict_task_status *ts =
        dict_task_status_find(dc->d, SLICE_LIT("completed"));
    CCDA_FOREACH(inf, dc->root, "inFulfillmentOf") {
        const struct ccda_node *order = ccda_child(inf, "order");
        const char *id = ccda_ii_string(dc->a, ccda_child(order, "id"));
        if (id == NULL)
            continue;           /* nothing a receiver could match */
        struct ev e;
        ccda_ev_begin(dc, &e, "referral.updated", NULL, "referral");
        jw_kv_cstr(&e.w, "id", id);
        ccda_put_ids(dc, &e, order);
        jw_kv_cstr(&e.w, "status", "completed");
        jw_key(&e.w, "terminal");
        jw_bool(&e.w, ts ? ts->terminal : true);
        jw_kv_cstr(&e.w, "intent", "order");
        ccda_write_cd(&e.w, "service", ccda_child(order, "code"));
        jw_kv_str(&e.w, "performer", dc->author_org);
        jw_key(&e.w, "outputs");
        jw_arr_begin(&e.w);
        jw_cstr(&e.w, dc->message_id);
        jw_arr_end(&e.w);
        int rc = ccda_ev_end(dc, &e, order);
        if (rc != HUB_OK)
            return rc;
    }
    return HUB_OK;
}

int ccda_to_events(struct arena *a, const struct dict *d, const char *p,
                   size_t len, struct canon_list *out,
                   struct slice *message_id, struct hub_err *err)
{
    struct ccda_tree tree;
    struct doc dc;
    struct arena xa;            /* the tree and libxml2's (ccda_xml.c) */
    int rc;

    *message_id = SLICE_NULL;
    /* libxml2's context, dictionary and input copy plus the tree take
     * 3.5 to 6.5 times the document, and 12 KB: one chunk for them (many
     * small chunks freed at once made malloc trim the heap and the next
     * document fault its pages back in) */
    arena_init(&xa, len < 8192 ? 65536 : len < (1u << 19) ? len * 6 + 16384
                                                         : (4u << 20));
    rc = ccda_xml_parse(&xa, a, p, len, &tree, err);
    if (rc != HUB_OK) {
        arena_release(&xa);
        return rc;
    }
    memset(&dc, 0, sizeof(dc));
    dc.a = a;
    dc.d = d;
    dc.out = out;
    dc.err = err;
    dc.root = tree.root;
    if (!ccda_is(dc.root, "ClinicalDocument")) {
        /* name the root only when it is a known element: never echo
         * arbitrary input into an error that gets logged */
        const char *field = "/*";
        char buf[64];
        for (size_t i = 0; known_roots[i]; i++)
            if (strcmp(dc.root->name, known_roots[i]) == 0) {
                size_t k = strlen(known_roots[i]);
                buf[0] = '/';
                memcpy(buf + 1, known_roots[i], k + 1);
                field = buf;
            }
        rc = hub_err_set(err, HUB_EUNSUPPORTED, field, 0,
                         "root element is not an HL7 v3 ClinicalDocument");
        goto out;
    }
    rc = ccda_read_header(&dc, message_id);
    if (rc == HUB_OK)
        rc = read_body(&dc);
    if (rc == HUB_OK)
        rc = do_fulfilment(&dc);
out:
    ccda_tree_free(&tree);      /* before the arena it lives in */
    arena_release(&xa);
    return rc;
}

void ccda_global_init(void)
{
    ccda_xml_init();
}
