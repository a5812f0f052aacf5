/*
 * dict_test.c - the data dictionary: the shipped tables load, scoring is
 * checked item by item against the code tables of sdoh-codes.md (AHC HRSN,
 * Hunger Vital Sign, PRAPARE), and bad data files are refused with the file,
 * the JSON path and what is wrong.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict.h"
#include "common/hub_err.h"
#include "dict_files.h"

static struct dict *D;
static struct arena A;

static const char *dict_dir(void)
{
    static char path[512];
    const char *root = getenv("HUB_ROOT");
    snprintf(path, sizeof(path), "%s/schemas/dict", root ? root : ".");
    return path;
}

static void setup(void)
{
    struct dict_err err;
    int rc = dict_files_load(dict_dir(), &D, &err);
    cr_assert_eq(rc, HUB_OK, "load: %s %s: %s", err.file, err.path,
                 err.what ? err.what : "");
    arena_init(&A, 16 * 1024);
}

static void teardown(void)
{
    dict_free(D);
    arena_release(&A);
}

/* One response: question, up to 4 answer codes; NULL-terminated lists. */
struct resp {
    const char *q;
    const char *ans[4];
    int value;          /* 0 = none */
    bool declined;
};

static struct dict_scoring score(const char *panel, const struct resp *rs,
                                 size_t n)
{
    struct dict_response *r = arena_zalloc(&A, (n ? n : 1) * sizeof(*r));
    for (size_t i = 0; i < n; i++) {
        struct slice *codes = arena_zalloc(&A, 4 * sizeof(*codes));
        size_t k = 0;
        while (k < 4 && rs[i].ans[k]) {
            codes[k] = slice_from_cstr(rs[i].ans[k]);
            k++;
        }
        r[i] = (struct dict_response){
            .question = slice_from_cstr(rs[i].q), .answers = codes,
            .n_answers = k, .has_value = rs[i].value != 0,
            .value = rs[i].value, .declined = rs[i].declined };
    }
    const struct dict_instrument *in =
        panel ? dict_instrument_find(D, slice_from_cstr(panel)) : NULL;
    if (panel)
        cr_assert_not_null(in, "panel %s", panel);
    struct dict_scoring s;
    cr_assert_eq(dict_score(D, &A, in, r, n, &s), HUB_OK);
    return s;
}

static bool has_domain(const char **list, size_t n, const char *dom)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], dom) == 0)
            return true;
    return false;
}

static const struct dict_sum_result *sum_of(const struct dict_scoring *s,
                                            const char *code)
{
    for (size_t i = 0; i < s->n_sums; i++)
        if (strcmp(s->sums[i].sum->code, code) == 0)
            return &s->sums[i];
    return NULL;
}

static const struct dict_derived_result *derived_of(
    const struct dict_scoring *s, const char *code)
{
    for (size_t i = 0; i < s->n_derived; i++)
        if (strcmp(s->derived[i].rule->code, code) == 0)
            return &s->derived[i];
    return NULL;
}

TestSuite(dict, .init = setup, .fini = teardown);

/* ---- the shipped tables ---------------------------------------------------- */

Test(dict, shipped_tables_load_with_every_gravity_domain_and_instrument)
{
    cr_assert_eq(dict_domain_count(D), 24);
    cr_assert_str_eq(dict_ig_version(D), "2.3.0-draft");
    const struct dict_domain *dm =
        dict_domain_find(D, SLICE_LIT("food-insecurity"));
    cr_assert_not_null(dm);
    cr_assert_str_eq(dm->display, "Food Insecurity");
    cr_assert_null(dict_domain_find(D, SLICE_LIT("interpersonal-safety")));
    const char *panels[] = { "96777-8", "97023-6", "NYSAHCHRSN", "93025-5",
                             "88121-9" };
    for (size_t i = 0; i < 5; i++)
        cr_assert_not_null(dict_instrument_find(D, slice_from_cstr(panels[i])),
                           "%s", panels[i]);
    cr_assert_null(dict_instrument_find(D, SLICE_LIT("96777")));
}

Test(dict, item_lookup_gives_domain_and_answers_per_instrument)
{
    const struct dict_instrument *ahc =
        dict_instrument_find(D, SLICE_LIT("96777-8"));
    const struct dict_instrument *pr =
        dict_instrument_find(D, SLICE_LIT("93025-5"));
    const struct dict_item *it = dict_item_find(D, ahc, SLICE_LIT("71802-3"));
    cr_assert_not_null(it);
    cr_assert_str_eq(it->domain, "housing-instability");
    cr_assert_not_null(dict_answer_find(it, SLICE_LIT("LA31994-9")));
    cr_assert_null(dict_answer_find(it, SLICE_LIT("LA30190-5")));
    it = dict_item_find(D, pr, SLICE_LIT("71802-3"));
    cr_assert_str_eq(it->domain, "homelessness");
    cr_assert_not_null(dict_answer_find(it, SLICE_LIT("LA30190-5")));
    it = dict_item_find(D, ahc, SLICE_LIT("96778-6"));
    cr_assert(it->multi);
    cr_assert_not_null(dict_sum_find(D, ahc, SLICE_LIT("95614-4")));
    cr_assert_not_null(dict_derived_find(D, NULL, SLICE_LIT("88124-3")));
}

/* dict_answer_domain (F1801): an answer that carries a domain of its own
 * names it, whatever the question; a generic answer names none. */
Test(dict, an_answer_names_a_domain_only_when_it_carries_one)
{
    size_t n = 0;
    for (size_t k = 0; k < dict_instrument_count(D); k++) {
        const struct dict_instrument *in = dict_instrument_at(D, k);
        for (size_t i = 0; i < in->n_items; i++)
            for (size_t a = 0; a < in->items[i].n_answers; a++) {
                const struct dict_answer *an = &in->items[i].answers[a];
                const char *dom = dict_answer_domain(D, slice_from_cstr(an->code));
                if (an->domain) {
                    cr_assert_str_eq(dom, an->domain, "%s", an->code);
                    n++;
                }
            }
    }
    cr_assert_gt(n, 0);
    cr_assert_str_eq(dict_answer_domain(D, SLICE_LIT("LA30125-1")),
                     "food-insecurity");
    cr_assert_null(dict_answer_domain(D, SLICE_LIT("LA33-6")), "Yes");
    cr_assert_null(dict_answer_domain(D, SLICE_LIT("LA32-8")), "No");
    cr_assert_null(dict_answer_domain(D, SLICE_LIT("LA28398-8")));
    cr_assert_null(dict_answer_domain(D, SLICE_LIT("LA19952-3")), "at risk");
    cr_assert_null(dict_answer_domain(D, SLICE_LIT("LA30125")), "a prefix");
    cr_assert_null(dict_answer_domain(D, SLICE_LIT("LA30125-1x")));
    cr_assert_null(dict_answer_domain(D, SLICE_LIT("")));
}

/* ---- AHC HRSN item by item (sdoh-codes.md 2.3) ------------------------------ */

struct item_case {
    const char *q, *a;
    enum dict_verdict want;
    const char *domain;
};

Test(dict, ahc_core_answers_score_as_the_cms_table_says)
{
    static const struct item_case cases[] = {
        { "71802-3", "LA31993-1", DICT_NEGATIVE, "housing-instability" },
        { "71802-3", "LA31994-9", DICT_POSITIVE, "housing-instability" },
        { "71802-3", "LA31995-6", DICT_POSITIVE, "homelessness" },
        { "96778-6", "LA9-3", DICT_NEGATIVE, "inadequate-housing" },
        { "96778-6", "LA31996-4", DICT_POSITIVE, "inadequate-housing" },
        { "96778-6", "LA28580-1", DICT_POSITIVE, "inadequate-housing" },
        { "96778-6", "LA31997-2", DICT_POSITIVE, "inadequate-housing" },
        { "96778-6", "LA31998-0", DICT_POSITIVE, "inadequate-housing" },
        { "96778-6", "LA31999-8", DICT_POSITIVE, "inadequate-housing" },
        { "96778-6", "LA32000-4", DICT_POSITIVE, "inadequate-housing" },
        { "96778-6", "LA32001-2", DICT_POSITIVE, "inadequate-housing" },
        { "96779-4", "LA33-6", DICT_POSITIVE, "utility-insecurity" },
        { "96779-4", "LA32002-0", DICT_POSITIVE, "utility-insecurity" },
        { "96779-4", "LA32-8", DICT_NEGATIVE, "utility-insecurity" },
        { "88122-7", "LA28397-0", DICT_POSITIVE, "food-insecurity" },
        { "88122-7", "LA6729-3", DICT_POSITIVE, "food-insecurity" },
        { "88122-7", "LA28398-8", DICT_NEGATIVE, "food-insecurity" },
        { "88123-5", "LA28397-0", DICT_POSITIVE, "food-insecurity" },
        { "88123-5", "LA6729-3", DICT_POSITIVE, "food-insecurity" },
        { "88123-5", "LA28398-8", DICT_NEGATIVE, "food-insecurity" },
        { "93030-5", "LA33-6", DICT_POSITIVE, "transportation-insecurity" },
        { "93030-5", "LA32-8", DICT_NEGATIVE, "transportation-insecurity" },
        /* safety items have no rule alone: only their sum does */
        { "95618-5", "LA6482-9", DICT_UNKNOWN, "sdoh-category-unspecified" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct resp r = { cases[i].q, { cases[i].a }, 0, false };
        struct dict_scoring s = score("96777-8", &r, 1);
        cr_assert_eq(s.items[0].verdict, cases[i].want, "%s=%s", cases[i].q,
                     cases[i].a);
        cr_assert_str_eq(s.items[0].domain, cases[i].domain, "%s=%s",
                         cases[i].q, cases[i].a);
        cr_assert_eq(has_domain(s.positive_domains, s.n_positive_domains,
                                cases[i].domain),
                     cases[i].want == DICT_POSITIVE, "%s=%s", cases[i].q,
                     cases[i].a);
    }
}

Test(dict, supplemental_employment_and_education_items_score)
{
    struct resp r[] = { { "96780-2", { "LA31981-6" }, 0, false },
                        { "96782-8", { "LA32-8" }, 0, false } };
    struct dict_scoring s = score("97023-6", r, 2);
    cr_assert_eq(s.items[0].verdict, DICT_POSITIVE);
    cr_assert_str_eq(s.items[0].domain, "employment-status");
    cr_assert_eq(s.items[1].verdict, DICT_NEGATIVE);
    cr_assert_eq(s.n_positive_domains, 1);
}

Test(dict, multi_select_is_positive_when_any_answer_is_and_keeps_domains)
{
    struct resp r = { "93031-3", { "LA30125-1", "LA30124-4", "LA30126-9" },
                      0, false };
    struct dict_scoring s = score("93025-5", &r, 1);
    cr_assert_eq(s.items[0].verdict, DICT_POSITIVE);
    cr_assert(has_domain(s.positive_domains, s.n_positive_domains,
                         "food-insecurity"));
    cr_assert(has_domain(s.positive_domains, s.n_positive_domains,
                         "utility-insecurity"));
    cr_assert(has_domain(s.positive_domains, s.n_positive_domains,
                         "material-hardship"));
    cr_assert_eq(s.n_positive_domains, 3);
}

Test(dict, multi_select_none_of_the_above_is_negative)
{
    struct resp r = { "96778-6", { "LA9-3" }, 0, false };
    struct dict_scoring s = score("96777-8", &r, 1);
    cr_assert_eq(s.items[0].verdict, DICT_NEGATIVE);
    cr_assert_eq(s.n_positive_domains, 0);
    cr_assert(has_domain(s.domains, s.n_domains, "inadequate-housing"));
}

Test(dict, declined_and_unanswered_items_are_unknown_and_not_screened)
{
    struct resp r[] = { { "71802-3", { NULL }, 0, true },       /* asked-declined */
                        { "88122-7", { NULL }, 0, false },      /* no answer */
                        { "88123-5", { "LA15775-2" }, 0, false } }; /* refused */
    struct dict_scoring s = score("96777-8", r, 3);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(s.items[i].verdict, DICT_UNKNOWN, "item %zu", i);
        cr_assert(s.items[i].declined, "item %zu", i);
    }
    cr_assert_eq(s.n_domains, 0);
    cr_assert_eq(s.n_positive_domains, 0);
}

Test(dict, unknown_answer_code_is_unknown_not_negative)
{
    struct resp r = { "71802-3", { "LA99999-9" }, 0, false };
    struct dict_scoring s = score("96777-8", &r, 1);
    cr_assert_eq(s.items[0].verdict, DICT_UNKNOWN);
    cr_assert(s.items[0].unknown_answer);
}

/* F2120: the rule FHIR had alone (F2040) is the dictionary's, for every
 * adapter: a known question answered in words or by a code its list lacks
 * screens its domain, after the scored ones, and is not positive; a
 * refusal, an "I choose not to answer" and a question outside the
 * dictionary screen nothing. */
Test(dict, an_item_answered_in_words_or_an_unlisted_code_screens_its_domain)
{
    struct slice unlisted = SLICE_LIT("LA99999-9"), yes = SLICE_LIT("LA33-6"),
                 refused = SLICE_LIT("LA15775-2");
    const struct dict_response r[] = {
        { .question = SLICE_LIT("71802-3"), .has_text = true },   /* words */
        { .question = SLICE_LIT("96778-6"), .answers = &unlisted,
          .n_answers = 1 },
        { .question = SLICE_LIT("93030-5"), .answers = &yes, .n_answers = 1 },
        { .question = SLICE_LIT("88122-7"), .answers = &refused,
          .n_answers = 1 },
        { .question = SLICE_LIT("96779-4"), .declined = true },
        { .question = SLICE_LIT("12345-6"), .answers = &yes, .n_answers = 1 },
    };
    struct dict_scoring s;
    cr_assert_eq(dict_score(D, &A, dict_instrument_find(D, SLICE_LIT("96777-8")),
                            r, 6, &s),
                 HUB_OK);
    static const char *const want[] = { "transportation-insecurity",
                                        "housing-instability",
                                        "inadequate-housing" };
    cr_assert_eq(s.n_domains, 3);
    for (size_t i = 0; i < 3; i++)
        cr_assert_str_eq(s.domains[i], want[i]);
    cr_assert_eq(s.n_positive_domains, 1);
    for (size_t i = 0; i < 2; i++) {
        cr_assert_eq(s.items[i].verdict, DICT_UNKNOWN, "item %zu", i);
        cr_assert_not(s.items[i].declined, "item %zu", i);
    }
    cr_assert(s.items[3].declined);
    cr_assert(s.items[4].declined);
}

Test(dict, unknown_question_has_no_item_and_no_domain)
{
    struct resp r = { "12345-6", { "LA33-6" }, 0, false };
    struct dict_scoring s = score(NULL, &r, 1);
    cr_assert_null(s.items[0].item);
    cr_assert_null(s.items[0].domain);
    cr_assert_eq(s.n_domains, 0);
}

Test(dict, loose_item_without_panel_finds_the_instrument_that_knows_the_code)
{
    /* 93030-5 with the PRAPARE answer code: AHC does not know it */
    struct resp r = { "93030-5", { "LA30133-5" }, 0, false };
    struct dict_scoring s = score(NULL, &r, 1);
    cr_assert_eq(s.items[0].verdict, DICT_POSITIVE);
    cr_assert_str_eq(s.items[0].domain, "transportation-insecurity");
    struct resp r2 = { "93030-5", { "LA33-6" }, 0, false };
    s = score(NULL, &r2, 1);
    cr_assert_eq(s.items[0].verdict, DICT_POSITIVE);
}

/* ---- AHC interpersonal safety sum 95614-4 ----------------------------------- */

static struct dict_scoring safety(const char *a1, const char *a2,
                                  const char *a3, const char *a4)
{
    static struct resp r[4];
    r[0] = (struct resp){ "95618-5", { a1 }, 0, a1 == NULL };
    r[1] = (struct resp){ "95617-7", { a2 }, 0, a2 == NULL };
    r[2] = (struct resp){ "95616-9", { a3 }, 0, a3 == NULL };
    r[3] = (struct resp){ "95615-1", { a4 }, 0, a4 == NULL };
    return score("96777-8", r, 4);
}

#define NEVER "LA6270-8"        /* 1 */
#define RARELY "LA10066-1"      /* 2 */
#define SOMETIMES "LA10082-8"   /* 3 */
#define FAIRLY "LA16644-9"      /* 4 */
#define FREQUENTLY "LA6482-9"   /* 5 */

Test(dict, safety_score_of_exactly_10_is_negative)
{
    struct dict_scoring s = safety(SOMETIMES, SOMETIMES, RARELY, RARELY);
    const struct dict_sum_result *sr = sum_of(&s, "95614-4");
    cr_assert_not_null(sr);
    cr_assert(sr->complete);
    cr_assert_eq(sr->value, 10);
    cr_assert_eq(sr->verdict, DICT_NEGATIVE);
    cr_assert_eq(s.n_positive_domains, 0);
    cr_assert(has_domain(s.domains, s.n_domains, "sdoh-category-unspecified"));
}

Test(dict, safety_score_of_11_is_positive)
{
    struct dict_scoring s = safety(SOMETIMES, SOMETIMES, SOMETIMES, RARELY);
    const struct dict_sum_result *sr = sum_of(&s, "95614-4");
    cr_assert_eq(sr->value, 11);
    cr_assert_eq(sr->verdict, DICT_POSITIVE);
    cr_assert(has_domain(s.positive_domains, s.n_positive_domains,
                         "sdoh-category-unspecified"));
}

Test(dict, safety_extremes_score_4_and_20)
{
    struct dict_scoring s = safety(NEVER, NEVER, NEVER, NEVER);
    cr_assert_eq(sum_of(&s, "95614-4")->value, 4);
    cr_assert_eq(sum_of(&s, "95614-4")->verdict, DICT_NEGATIVE);
    s = safety(FREQUENTLY, FREQUENTLY, FREQUENTLY, FREQUENTLY);
    cr_assert_eq(sum_of(&s, "95614-4")->value, 20);
    s = safety(FAIRLY, FAIRLY, FAIRLY, NEVER);
    cr_assert_eq(sum_of(&s, "95614-4")->value, 13);
}

Test(dict, safety_score_needs_all_four_items)
{
    /* 5+5+5 = 15 would be positive, but one item was declined */
    struct dict_scoring s = safety(FREQUENTLY, FREQUENTLY, FREQUENTLY, NULL);
    const struct dict_sum_result *sr = sum_of(&s, "95614-4");
    cr_assert_not_null(sr);
    cr_assert_not(sr->complete);
    cr_assert_eq(sr->verdict, DICT_UNKNOWN);
    cr_assert_eq(s.n_positive_domains, 0);
}

Test(dict, senders_total_is_used_only_when_the_items_are_missing)
{
    struct resp r[] = { { "95614-4", { NULL }, 12, false } };
    struct dict_scoring s = score("96777-8", r, 1);
    const struct dict_sum_result *sr = sum_of(&s, "95614-4");
    cr_assert(sr->complete);
    cr_assert(sr->from_sender);
    cr_assert_eq(sr->value, 12);
    cr_assert_eq(sr->verdict, DICT_POSITIVE);

    /* items present: the hub's sum (10) wins over the sender's 12 */
    struct resp r2[] = { { "95618-5", { SOMETIMES }, 0, false },
                         { "95617-7", { SOMETIMES }, 0, false },
                         { "95616-9", { RARELY }, 0, false },
                         { "95615-1", { RARELY }, 0, false },
                         { "95614-4", { NULL }, 12, false } };
    s = score("96777-8", r2, 5);
    sr = sum_of(&s, "95614-4");
    cr_assert_not(sr->from_sender);
    cr_assert_eq(sr->value, 10);
    cr_assert_eq(sr->verdict, DICT_NEGATIVE);
}

Test(dict, ny_variant_scores_safety_and_supplemental_items)
{
    struct resp r[] = { { "95618-5", { FREQUENTLY }, 0, false },
                        { "95617-7", { FREQUENTLY }, 0, false },
                        { "95616-9", { NEVER }, 0, false },
                        { "95615-1", { NEVER }, 0, false },
                        { "96782-8", { "LA33-6" }, 0, false } };
    struct dict_scoring s = score("NYSAHCHRSN", r, 5);
    cr_assert_eq(sum_of(&s, "95614-4")->value, 12);
    cr_assert_eq(sum_of(&s, "95614-4")->verdict, DICT_POSITIVE);
    cr_assert_eq(s.items[4].verdict, DICT_POSITIVE);
}

/* ---- Hunger Vital Sign 88124-3 (sdoh-codes.md 2.4) ---------------------------- */

Test(dict, hvs_derived_is_at_risk_when_either_question_is_positive)
{
    struct resp r[] = { { "88122-7", { "LA28398-8" }, 0, false },
                        { "88123-5", { "LA6729-3" }, 0, false } };
    struct dict_scoring s = score("88121-9", r, 2);
    const struct dict_derived_result *dr = derived_of(&s, "88124-3");
    cr_assert_not_null(dr);
    cr_assert_str_eq(dr->answer, "LA19952-3");
    cr_assert_eq(dr->verdict, DICT_POSITIVE);
    cr_assert(has_domain(s.positive_domains, s.n_positive_domains,
                         "food-insecurity"));
}

Test(dict, hvs_derived_is_no_risk_when_both_are_never_true)
{
    struct resp r[] = { { "88122-7", { "LA28398-8" }, 0, false },
                        { "88123-5", { "LA28398-8" }, 0, false } };
    struct dict_scoring s = score("88121-9", r, 2);
    const struct dict_derived_result *dr = derived_of(&s, "88124-3");
    cr_assert_str_eq(dr->answer, "LA19983-8");
    cr_assert_eq(dr->verdict, DICT_NEGATIVE);
    cr_assert_eq(s.n_positive_domains, 0);
}

Test(dict, hvs_derived_is_empty_when_neither_question_is_answered)
{
    struct resp r[] = { { "88122-7", { "LA15775-2" }, 0, false },
                        { "88123-5", { NULL }, 0, true } };
    struct dict_scoring s = score("88121-9", r, 2);
    const struct dict_derived_result *dr = derived_of(&s, "88124-3");
    cr_assert_not_null(dr);
    cr_assert_null(dr->answer);
    cr_assert_eq(dr->verdict, DICT_UNKNOWN);
    cr_assert_eq(s.n_domains, 0);
}

Test(dict, hvs_derived_with_one_question_answered_uses_it)
{
    struct resp r[] = { { "88122-7", { "LA28398-8" }, 0, false } };
    struct dict_scoring s = score("88121-9", r, 1);
    cr_assert_str_eq(derived_of(&s, "88124-3")->answer, "LA19983-8");
}

/* ---- PRAPARE ---------------------------------------------------------------- */

Test(dict, prapare_items_score_with_their_own_answer_lists)
{
    static const struct item_case cases[] = {
        { "71802-3", "LA30190-5", DICT_POSITIVE, "homelessness" },
        { "71802-3", "LA30189-7", DICT_NEGATIVE, "homelessness" },
        { "93033-9", "LA33-6", DICT_POSITIVE, "housing-instability" },
        { "93026-3", "LA32-8", DICT_POSITIVE, "sdoh-category-unspecified" },
        { "93026-3", "LA33-6", DICT_NEGATIVE, "sdoh-category-unspecified" },
        { "76501-6", "LA33-6", DICT_POSITIVE, "intimate-partner-violence" },
        { "93038-8", "LA13914-9", DICT_POSITIVE, "stress" },
        { "93038-8", "LA6568-5", DICT_NEGATIVE, "stress" },
        { "67875-5", "LA17956-6", DICT_POSITIVE, "employment-status" },
        { "93030-5", "LA30134-3", DICT_POSITIVE, "transportation-insecurity" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct resp r = { cases[i].q, { cases[i].a }, 0, false };
        struct dict_scoring s = score("93025-5", &r, 1);
        cr_assert_eq(s.items[0].verdict, cases[i].want, "%s=%s", cases[i].q,
                     cases[i].a);
        cr_assert_str_eq(s.items[0].domain, cases[i].domain, "%s", cases[i].q);
    }
    struct resp d = { "93033-9", { "LA30122-8" }, 0, false };
    struct dict_scoring s = score("93025-5", &d, 1);
    cr_assert(s.items[0].declined);
    cr_assert_eq(s.items[0].verdict, DICT_UNKNOWN);
}

/* F562: the CMS post-acute assessments (OASIS-E, MDS 3.0, ...) ask
 * PRAPARE's transportation question as item A1250, LOINC 101351-5, with
 * PRAPARE's two "Yes" answers, No, and "unable" / "declines to respond"
 * (LOINC's OASIS-E Start of Care form 99131-5). The dictionary had no
 * instrument for it, so an answered A1250 screened no domain, in its
 * panel or loose (the Chilean transport response of round 68). */
Test(dict, the_cms_assessment_transport_item_scores_as_prapare_does)
{
    static const struct item_case cases[] = {
        { "101351-5", "LA30133-5", DICT_POSITIVE, "transportation-insecurity" },
        { "101351-5", "LA30134-3", DICT_POSITIVE, "transportation-insecurity" },
        { "101351-5", "LA32-8", DICT_NEGATIVE, "transportation-insecurity" },
    };
    for (int panel = 0; panel < 2; panel++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            struct resp r = { cases[i].q, { cases[i].a }, 0, false };
            struct dict_scoring s = score(panel ? "99131-5" : NULL, &r, 1);
            cr_assert_eq(s.items[0].verdict, cases[i].want, "%s=%s",
                         cases[i].q, cases[i].a);
            cr_assert_str_eq(s.items[0].domain, cases[i].domain, "%s",
                             cases[i].q);
        }
    const char *declined[] = { "LA30435-4", "LA33608-3" };
    for (size_t i = 0; i < 2; i++) {
        struct resp d = { "101351-5", { declined[i] }, 0, false };
        struct dict_scoring s = score("99131-5", &d, 1);
        cr_assert(s.items[0].declined, "%s", declined[i]);
        cr_assert_eq(s.items[0].verdict, DICT_UNKNOWN);
        cr_assert_eq(s.n_domains, 0);
    }
}

/* F860 (F724): OASIS-E also asks B1300, health literacy, LOINC 93157-6:
 * the Single Item Literacy Screener (Morris et al. 2006), answered Never
 * to Always. Its authors scored Sometimes, Often and Always as positive
 * (limited reading ability); Never and Rarely are negative. No instrument
 * listed it, so an answered B1300 screened no domain, in its panel or
 * loose. */
Test(dict, the_cms_assessment_health_literacy_item_scores_as_sils_does)
{
    static const struct item_case cases[] = {
        { "93157-6", "LA6270-8", DICT_NEGATIVE, "personal-health-literacy" },
        { "93157-6", "LA10066-1", DICT_NEGATIVE, "personal-health-literacy" },
        { "93157-6", "LA10082-8", DICT_POSITIVE, "personal-health-literacy" },
        { "93157-6", "LA10044-8", DICT_POSITIVE, "personal-health-literacy" },
        { "93157-6", "LA9933-8", DICT_POSITIVE, "personal-health-literacy" },
    };
    for (int panel = 0; panel < 2; panel++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            struct resp r = { cases[i].q, { cases[i].a }, 0, false };
            struct dict_scoring s = score(panel ? "99131-5" : NULL, &r, 1);
            cr_assert_eq(s.items[0].verdict, cases[i].want, "%s=%s",
                         cases[i].q, cases[i].a);
            cr_assert_str_eq(s.items[0].domain, cases[i].domain, "%s",
                             cases[i].q);
            cr_assert_eq(s.n_domains, 1);
            cr_assert_eq(s.n_positive_domains,
                         cases[i].want == DICT_POSITIVE ? 1u : 0u);
        }
}

/* F1000 (F821, after F861): the WE CARE survey (LOINC 96447-8) asks, for
 * each need, a question that identifies an unmet need by self-report and
 * then "would you like help" (Boston Medical Center's WE CARE model page).
 * The answer that reports the need is positive ("No" to a high school
 * degree, a job or always enough food; "Yes" to needing daycare, being at
 * risk of homelessness or trouble paying the heating bill), the other
 * negative; the help and emergency follow-ups count their domain as
 * screened, never positive or negative. F861 left every item unscored. */
Test(dict, we_care_need_items_are_positive_by_the_need_they_report)
{
    static const char *yes = "LA33-6", *no = "LA32-8";
    static const struct { const char *q, *domain, *need; } items[] = {
        { "96434-6", "food-insecurity", "LA32-8" }, /* enough food: No */
        { "96438-7", "food-insecurity", NULL },     /* help with this */
        { "96437-9", "food-insecurity", NULL },     /* food for tonight */
        { "96441-1", "housing-instability", "LA33-6" }, /* at risk: Yes */
        { "96440-3", "housing-instability", NULL },
        { "96439-5", "housing-instability", NULL },
        { "96436-1", "utility-insecurity", "LA33-6" }, /* heating bill */
        { "96753-9", "utility-insecurity", NULL },
        { "96435-3", "utility-insecurity", NULL },
        { "96446-0", "educational-attainment", "LA32-8" }, /* degree: No */
        { "96445-2", "educational-attainment", NULL },
        { "96444-5", "employment-status", "LA32-8" }, /* a job: No */
        { "96443-7", "employment-status", NULL },
        { "96442-9", "sdoh-category-unspecified", "LA33-6" }, /* daycare */
        { "96433-8", "sdoh-category-unspecified", NULL },
    };
    const char *answers[] = { yes, no };
    for (size_t a = 0; a < 2; a++)
        for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
            struct resp r = { items[i].q, { answers[a] }, 0, false };
            struct dict_scoring s = score("96447-8", &r, 1);
            enum dict_verdict want =
                !items[i].need ? DICT_UNKNOWN
                : strcmp(items[i].need, answers[a]) == 0 ? DICT_POSITIVE
                                                         : DICT_NEGATIVE;
            cr_assert_str_eq(s.items[0].domain, items[i].domain, "%s",
                             items[i].q);
            cr_assert_eq(s.items[0].verdict, want, "%s=%s", items[i].q,
                         answers[a]);
            cr_assert(!s.items[0].unknown_answer, "%s", items[i].q);
            cr_assert_eq(s.n_domains, 1, "%s", items[i].q);
            cr_assert_eq(s.n_positive_domains,
                         want == DICT_POSITIVE ? 1u : 0u, "%s", items[i].q);
        }
    struct resp later = { "96443-7", { "LA31439-5" }, 0, false };
    struct dict_scoring s = score("96447-8", &later, 1);
    cr_assert(!s.items[0].unknown_answer);
    cr_assert_eq(s.items[0].verdict, DICT_UNKNOWN);
}

/* PRAPARE items with a Gravity domain but no official positive rule
 * (finding F1 of tests/data/real/SOURCES.md): answered, each counts its
 * domain as screened, and none is positive or negative; declined, none
 * counts. Answer codes from the Gravity SDOHCC-QuestionnairePRAPARE. */
Test(dict, prapare_items_without_a_rule_count_their_domain_as_screened)
{
    struct resp r[] = {
        { "54899-0", { "LA30188-9" }, 0, false },
        { "82589-3", { "LA30191-3" }, 0, false },
        { "76437-3", { "LA30194-7" }, 0, false },
        { "93029-7", { "LA27722-0" }, 0, false },
        { "93028-9", { "LA33-6" }, 0, false },
    };
    static const char *dom[] = { "language-access", "educational-attainment",
                                 "health-insurance-coverage-status",
                                 "social-connection", "incarceration-status" };
    struct dict_scoring s = score("93025-5", r, 5);
    cr_assert_eq(s.n_domains, 5);
    cr_assert_eq(s.n_positive_domains, 0);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_str_eq(s.domains[i], dom[i]);
        cr_assert_str_eq(s.items[i].domain, dom[i], "%s", r[i].q);
        cr_assert_eq(s.items[i].verdict, DICT_UNKNOWN, "%s", r[i].q);
        cr_assert(!s.items[i].unknown_answer, "%s", r[i].q);
    }
    struct resp d = { "93029-7", { "LA30122-8" }, 0, false };
    s = score("93025-5", &d, 1);
    cr_assert(s.items[0].declined);
    cr_assert_eq(s.n_domains, 0);
}

/* F862: PRAPARE's military service question (93034-7, "Have you been
 * discharged from the armed forces of the United States?") is the Gravity
 * StructureMap's veteran-status, a status domain: answered Yes or No it
 * counts the domain as screened, never positive; declined, nothing. The
 * dictionary did not list it, so a PRAPARE named no veteran status. */
Test(dict, prapare_military_service_counts_veteran_status_as_screened)
{
    static const char *answers[] = { "LA33-6", "LA32-8" };
    for (size_t i = 0; i < 2; i++) {
        struct resp r = { "93034-7", { answers[i] }, 0, false };
        struct dict_scoring s = score("93025-5", &r, 1);
        cr_assert_str_eq(s.items[0].domain, "veteran-status", "%s",
                         answers[i]);
        cr_assert_eq(s.items[0].verdict, DICT_UNKNOWN);
        cr_assert(!s.items[0].unknown_answer);
        cr_assert_eq(s.n_domains, 1);
        cr_assert_eq(s.n_positive_domains, 0);
    }
    struct resp d = { "93034-7", { "LA30122-8" }, 0, false };
    struct dict_scoring s = score("93025-5", &d, 1);
    cr_assert(s.items[0].declined);
    cr_assert_eq(s.n_domains, 0);
}

Test(dict, domains_are_listed_once_in_order_of_appearance)
{
    struct resp r[] = { { "88122-7", { "LA28398-8" }, 0, false },
                        { "71802-3", { "LA31993-1" }, 0, false },
                        { "88123-5", { "LA6729-3" }, 0, false } };
    struct dict_scoring s = score("96777-8", r, 3);
    cr_assert_eq(s.n_domains, 2);
    cr_assert_str_eq(s.domains[0], "food-insecurity");
    cr_assert_str_eq(s.domains[1], "housing-instability");
    cr_assert_eq(s.n_positive_domains, 1);
}

Test(dict, scoring_refuses_more_responses_than_the_limit)
{
    struct dict_response *r =
        arena_zalloc(&A, (DICT_MAX_RESPONSES + 1) * sizeof(*r));
    struct dict_scoring s;
    cr_assert_eq(dict_score(D, &A, NULL, r, DICT_MAX_RESPONSES + 1, &s),
                 HUB_ELIMIT);
}

/* ---- ICD-10, statuses, labels ------------------------------------------------- */

Test(dict, z_codes_map_to_the_most_specific_domain)
{
    static const char *const cases[][2] = {
        { "Z59.41", "food-insecurity" }, { "Z59.4", "food-insecurity" },
        { "Z5948", "food-insecurity" }, { "z59.01", "homelessness" },
        { "Z59.00", "homelessness" }, { "Z59.811", "housing-instability" },
        { "Z59.82", "transportation-insecurity" },
        { "Z59.86", "financial-insecurity" }, { "Z59.12", "utility-insecurity" },
        { "Z59.1", "inadequate-housing" }, { "Z56.0", "employment-status" },
        { "Z55.6", "personal-health-literacy" },
        { "Z55.0", "educational-attainment" },
        { "Z62.21", "sdoh-category-unspecified" },
        { "Z65.1", "incarceration-status" }, { " Z60.2 ", "social-connection" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *dom = dict_icd10_domain(D, slice_from_cstr(cases[i][0]));
        cr_assert_not_null(dom, "%s", cases[i][0]);
        cr_assert_str_eq(dom, cases[i][1], "%s", cases[i][0]);
    }
    cr_assert_null(dict_icd10_domain(D, SLICE_LIT("Z66")));
    cr_assert_null(dict_icd10_domain(D, SLICE_LIT("Z54.9")));
    cr_assert_null(dict_icd10_domain(D, SLICE_LIT("E11.9")));
    cr_assert_null(dict_icd10_domain(D, SLICE_LIT("")));
    cr_assert_null(dict_icd10_domain(D, SLICE_LIT("Z5$")));
}

Test(dict, task_statuses_know_terminal_states)
{
    const struct dict_task_status *t =
        dict_task_status_find(D, SLICE_LIT("completed"));
    cr_assert_not_null(t);
    cr_assert(t->terminal);
    t = dict_task_status_find(D, SLICE_LIT("in-progress"));
    cr_assert_not(t->terminal);
    cr_assert(t->referral);
    cr_assert(dict_task_status_find(D, SLICE_LIT("rejected"))->terminal);
    cr_assert(dict_task_status_find(D, SLICE_LIT("cancelled"))->terminal);
    cr_assert_null(dict_task_status_find(D, SLICE_LIT("canceled")));
    /* the words of referral tools are aliases, never codes */
    cr_assert_str_eq(dict_task_status_alias(D, SLICE_LIT("declined"))->code,
                     "rejected");
    cr_assert_str_eq(dict_task_status_alias(D, SLICE_LIT("pending"))->code,
                     "requested");
    cr_assert_str_eq(dict_task_status_alias(D, SLICE_LIT("canceled"))->code,
                     "cancelled");
    cr_assert_str_eq(dict_task_status_alias(D, SLICE_LIT("closed-met"))->code,
                     "completed");
    cr_assert_null(dict_task_status_alias(D, SLICE_LIT("closed-unmet")));
    cr_assert_null(dict_task_status_alias(D, SLICE_LIT("open")));
    cr_assert_null(dict_task_status_alias(D, SLICE_LIT("rejected")));
    cr_assert_null(dict_task_status_alias(D, SLICE_LIT("Declined")));
    cr_assert_null(dict_task_status_find(D, SLICE_LIT("declined")));
    cr_assert_null(dict_task_status_find(D, SLICE_LIT("Completed")));
    cr_assert_eq(dict_task_status_count(D), 12);
}

/* The words flat files write for a domain (F2423): aliases, never codes;
 * an ambiguous word names the codes it could mean, or none. */
Test(dict, domain_words_are_aliases_or_ambiguous_never_codes)
{
    cr_assert_str_eq(dict_domain_alias(D, SLICE_LIT("food"))->code,
                     "food-insecurity");
    cr_assert_str_eq(dict_domain_alias(D, SLICE_LIT("transportation"))->code,
                     "transportation-insecurity");
    cr_assert_str_eq(dict_domain_alias(D, SLICE_LIT("utilities"))->code,
                     "utility-insecurity");
    cr_assert_str_eq(dict_domain_alias(D, SLICE_LIT("utility"))->code,
                     "utility-insecurity");
    cr_assert_null(dict_domain_find(D, SLICE_LIT("food")));
    cr_assert_null(dict_domain_alias(D, SLICE_LIT("food-insecurity")));
    cr_assert_null(dict_domain_alias(D, SLICE_LIT("housing")));
    cr_assert_null(dict_domain_alias(D, SLICE_LIT("safety")));
    const struct dict_domain_word *w =
        dict_domain_ambiguous(D, SLICE_LIT("housing"));
    cr_assert_not_null(w);
    cr_assert_eq(w->n_could_be, 3);
    cr_assert_str_eq(w->could_be[1], "homelessness");
    w = dict_domain_ambiguous(D, SLICE_LIT("safety"));
    cr_assert_not_null(w);
    cr_assert_eq(w->n_could_be, 0);
    cr_assert(strstr(w->why, "no Gravity SDOH category of its own"));
    cr_assert_null(dict_domain_ambiguous(D, SLICE_LIT("food")));
}

Test(dict, security_labels_map_to_hub_sensitivity)
{
    struct slice ac =
        SLICE_LIT("http://terminology.hl7.org/CodeSystem/v3-ActCode");
    cr_assert_str_eq(dict_security_label(D, ac, SLICE_LIT("ETH")), "sud");
    cr_assert_str_eq(dict_security_label(D, ac, SLICE_LIT("42CFRPart2")), "sud");
    cr_assert_str_eq(dict_security_label(D, SLICE_NULL, SLICE_LIT("HIV")), "hiv");
    cr_assert_str_eq(
        dict_security_label(D,
            SLICE_LIT("http://terminology.hl7.org/CodeSystem/v3-Confidentiality"),
            SLICE_LIT("R")), "restricted");
    cr_assert_null(dict_security_label(D, ac, SLICE_LIT("R")));
    cr_assert_null(dict_security_label(D, ac, SLICE_LIT("TREAT")));
    cr_assert_str_eq(dict_icd10_sensitivity(D, SLICE_LIT("F11.20")), "sud");
    cr_assert_str_eq(dict_icd10_sensitivity(D, SLICE_LIT("F19")), "sud");
    cr_assert_str_eq(dict_icd10_sensitivity(D, SLICE_LIT("F20.9")), "psy");
    cr_assert_str_eq(dict_icd10_sensitivity(D, SLICE_LIT("F32.A")), "psy");
    cr_assert_str_eq(dict_icd10_sensitivity(D, SLICE_LIT("F99")), "psy");
    cr_assert_str_eq(dict_icd10_sensitivity(D, SLICE_LIT("R45.851")), "psy");
    cr_assert_null(dict_icd10_sensitivity(D, SLICE_LIT("F09")));
    cr_assert_null(dict_icd10_sensitivity(D, SLICE_LIT("F49")));
    cr_assert_null(dict_icd10_sensitivity(D, SLICE_LIT("F70")));
    cr_assert_null(dict_icd10_sensitivity(D, SLICE_LIT("F84.0")));
    /* ICD-10-CM's block of sexually transmitted infections: std */
    cr_assert_str_eq(dict_icd10_sensitivity(D, SLICE_LIT("A50.9")), "std");
    cr_assert_str_eq(dict_icd10_sensitivity(D, SLICE_LIT("A54.09")), "std");
    cr_assert_str_eq(dict_icd10_sensitivity(D, SLICE_LIT("A64")), "std");
    cr_assert_null(dict_icd10_sensitivity(D, SLICE_LIT("A49.9")));
    cr_assert_null(dict_icd10_sensitivity(D, SLICE_LIT("A65")));
}

/* F185: a diagnosis that discloses abuse is sdv, as a screening answer
 * that discloses violence is; neglect, forced labor, financial abuse and
 * unspecified maltreatment are not */
Test(dict, a_diagnosis_of_abuse_implies_sdv)
{
    static const char *const sdv[] = { "T74.11", "T74.11XA", "T74.11XS",
                                       "T74.22XA", "T74.31XD", "T74.4XXA",
                                       "T74.51XA", "T76.11XA", "T76.21XA",
                                       "T76.32XA", "T76.52XA", "Z62.810" };
    static const char *const none[] = { "T74.01XA", "T74.61XA", "T74.91XA",
                                        "T74.A1XA", "T76.01XA", "T76.61XA",
                                        "T76.91XA", "T73.0XXA", "T75.1XXA",
                                        "Z62.812", "Z62.0" };
    for (size_t i = 0; i < sizeof(sdv) / sizeof(sdv[0]); i++) {
        const char *l = dict_icd10_sensitivity(D, slice_from_cstr(sdv[i]));
        cr_expect(l && strcmp(l, "sdv") == 0, "%s: %s", sdv[i], l ? l : "-");
    }
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        cr_expect_null(dict_icd10_sensitivity(D, slice_from_cstr(none[i])),
                       "%s", none[i]);
}

/* A screening that answers a question of a mental health instrument
 * (PHQ-9 item 9 on self-harm, the C-SSRS) carries "psy", so that it is
 * routed only where that label is allowed; a declined question reveals
 * nothing; the PHQ-2 items the AHC HRSN asks stay unlabelled, so that an
 * SDOH screening still reaches the community partners subscribed to it. */
Test(dict, answers_of_mental_health_instruments_imply_psy)
{
    cr_assert_str_eq(dict_loinc_sensitivity(D, SLICE_LIT(" 44260-8 ")), "psy");
    cr_assert_str_eq(dict_loinc_sensitivity(D, SLICE_LIT("93247-5")), "psy");
    cr_assert_str_eq(dict_loinc_sensitivity(D, SLICE_LIT("69725-0")), "psy");
    cr_assert_null(dict_loinc_sensitivity(D, SLICE_LIT("44250-9")));
    cr_assert_null(dict_loinc_sensitivity(D, SLICE_LIT("88122-7")));

    struct resp phq[] = { { "44250-9", { "LA6568-5" }, 0, false },
                          { "44260-8", { "LA6568-5" }, 0, false } };
    struct dict_scoring s = score(NULL, phq, 2);
    cr_assert_eq(s.n_labels, 1);
    cr_assert_str_eq(s.labels[0], "psy");

    struct resp cssrs[] = { { "93246-7", { "LA32-8" }, 0, false },
                            { "93247-5", { "LA32-8" }, 0, false } };
    s = score(NULL, cssrs, 2);
    cr_assert_eq(s.n_labels, 1, "one label however many answers imply it");

    struct resp declined = { "44260-8", { NULL }, 0, true };
    s = score(NULL, &declined, 1);
    cr_assert_eq(s.n_labels, 0);

    struct resp ahc[] = { { "88122-7", { "LA28397-0" }, 0, false },
                          { "44250-9", { "LA6571-9" }, 0, false },
                          { "44255-8", { "LA6571-9" }, 0, false } };
    s = score("97023-6", ahc + 1, 2);
    cr_assert_eq(s.n_labels, 0);
    s = score("96777-8", ahc, 1);
    cr_assert_eq(s.n_labels, 0);
}

/* The AHC HRSN substance use items (alcohol 68517-2, tobacco 96842-0,
 * prescription misuse 95530-2, illegal drugs 68524-8) label nothing, even
 * answered positive (decided 2026-12-03): 42 CFR Part 2 binds the records
 * of federally assisted SUD programs, not a screening asked in primary
 * care or by a CBO, and a "sud" label would withhold from community
 * partners nearly every SHIN-NY screening, which all ask them. A sender
 * that means the record to be Part 2 says so in meta.security. */
Test(dict, ahc_substance_use_answers_imply_no_label)
{
    static const char *items[] = { "68517-2", "96842-0", "95530-2",
                                   "68524-8" };
    for (size_t k = 0; k < 4; k++)
        cr_assert_null(dict_loinc_sensitivity(D, slice_from_cstr(items[k])),
                       "%s", items[k]);
    struct resp sud[] = { { "68517-2", { "LA18934-2" }, 0, false },
                          { "96842-0", { "LA18934-2" }, 0, false },
                          { "95530-2", { "LA18934-2" }, 0, false },
                          { "68524-8", { "LA18934-2" }, 0, false } };
    struct dict_scoring s = score("97023-6", sud, 4);
    cr_assert_eq(s.n_labels, 0);
    cr_assert_eq(s.n_positive_domains, 1, "daily use is a positive answer");
}

/* F4060: the PHQ-2 total of the AHC supplemental questions is LOINC's
 * total score 55758-7 (55757-9 is the PHQ-2 panel), a total the PHQ-2 owns:
 * the code alone names no instrument of the dictionary (a lone PHQ-2 total
 * is a depression screening, outside it, F2543), so it is the sum only
 * within 97023-6. There the sender's own total stands in for items not
 * answered, as AHC's 95614-4 does; without the instrument it is no total. */
Test(dict, the_phq2_total_is_the_ahc_supplemental_sum_only_within_it)
{
    struct slice phq2 = slice_from_cstr("55758-7");
    const struct dict_instrument *sup =
        dict_instrument_find(D, slice_from_cstr("97023-6"));
    cr_assert_not_null(sup);
    const struct dict_sum *sum = dict_sum_find(D, sup, phq2);
    cr_assert_not_null(sum);
    cr_expect_str_eq(sum->code, "55758-7");
    cr_expect_null(dict_sum_find(D, sup, slice_from_cstr("55757-9")),
                   "the PHQ-2 panel is no total");
    cr_expect_null(dict_sum_find(D, NULL, phq2));
    cr_expect_null(dict_sum_instrument(D, phq2));
    /* AHC's own total is found by its code alone, as before (F2802) */
    cr_expect_not_null(dict_sum_instrument(D, slice_from_cstr("95614-4")));
    /* the items answered: the hub's sum, 55758-7 */
    struct resp items[] = { { "44250-9", { "LA6570-1" }, 0, false },
                            { "44255-8", { "LA6569-3" }, 0, false },
                            { "55758-7", { NULL }, 5, false } };
    struct dict_scoring s = score("97023-6", items, 3);
    cr_assert_eq(s.n_sums, 1);
    cr_expect_str_eq(s.sums[0].sum->code, "55758-7");
    cr_expect(s.sums[0].complete && !s.sums[0].from_sender);
    cr_expect_eq(s.sums[0].value, 3);
    cr_expect_eq(s.sums[0].verdict, DICT_POSITIVE);
    /* one item missing: the sender's total, within the instrument */
    s = score("97023-6", (struct resp[]){ items[0], items[2] }, 2);
    cr_assert_eq(s.n_sums, 1);
    cr_expect(s.sums[0].complete && s.sums[0].from_sender);
    cr_expect_eq(s.sums[0].value, 5);
    /* the total alone, loose: no sum, no domain */
    s = score(NULL, &items[2], 1);
    cr_expect_eq(s.n_sums, 0);
    cr_expect_eq(s.n_domains, 0);
    /* loose beside one item: the item's part alone, not the sender's total */
    s = score(NULL, (struct resp[]){ items[0], items[2] }, 2);
    cr_assert_eq(s.n_sums, 1);
    cr_expect_not(s.sums[0].complete);
    cr_expect_eq(s.n_positive_domains, 0);
}

/* F61: HITS measures abuse (Hurt, Insult, Threaten, Scream; the AHC asks
 * it of "anyone, including family and friends"). An answer that discloses
 * violence labels the screening "sdv" (v3 SDV: sexual assault, abuse, or
 * domestic violence): physically hurt or threatened with harm at all, or a
 * positive total (11 or more) however reached, and PRAPARE's afraid of a
 * partner. "Never", insults or screams below the threshold, and a declined
 * item disclose none: most AHC screenings stay unlabelled, for CBOs. */
Test(dict, a_disclosure_of_violence_labels_the_screening_sdv)
{
#define HITS(h, i, t, s)                                                    \
    { { "95618-5", { h }, 0, false }, { "95617-7", { i }, 0, false },       \
      { "95616-9", { t }, 0, false }, { "95615-1", { s }, 0, false } }
    struct resp never[] = HITS(NEVER, NEVER, NEVER, NEVER);
    struct dict_scoring s = score("96777-8", never, 4);
    cr_expect_eq(s.n_labels, 0);
    struct resp hurt[] = HITS(RARELY, NEVER, NEVER, NEVER);
    s = score("96777-8", hurt, 4);
    cr_assert_eq(s.n_labels, 1);
    cr_expect_str_eq(s.labels[0], "sdv");
    struct resp threat[] = HITS(NEVER, NEVER, RARELY, NEVER);
    s = score("NYSAHCHRSN", threat, 4);
    cr_expect_eq(s.n_labels, 1);
    /* insults and screams: below 11 nothing, at 12 a positive screen */
    struct resp words[] = HITS(NEVER, FREQUENTLY, NEVER, RARELY);
    s = score("96777-8", words, 4);
    cr_expect_eq(s.n_labels, 0, "sum 9");
    struct resp loud[] = HITS(NEVER, FREQUENTLY, NEVER, FREQUENTLY);
    s = score("96777-8", loud, 4);
    cr_assert_eq(s.n_labels, 1, "sum 12");
    cr_expect_str_eq(s.labels[0], "sdv");
    /* the sender's total alone, loose */
    struct resp total[] = { { "95614-4", { NULL }, 12, false } };
    s = score(NULL, total, 1);
    cr_expect_eq(s.n_labels, 1);
    total[0].value = 10;
    s = score(NULL, total, 1);
    cr_expect_eq(s.n_labels, 0);
    /* declined reveals nothing */
    struct resp declined[] = { { "95618-5", { RARELY }, 0, true } };
    s = score("96777-8", declined, 1);
    cr_expect_eq(s.n_labels, 0);
    /* PRAPARE: afraid of a partner or ex-partner */
    struct resp afraid[] = { { "76501-6", { "LA33-6" }, 0, false } };
    s = score("93025-5", afraid, 1);
    cr_expect_eq(s.n_labels, 1);
    afraid[0].ans[0] = "LA32-8";
    s = score("93025-5", afraid, 1);
    cr_expect_eq(s.n_labels, 0);
#undef HITS
}

/* SOURCES.md F78: the Adverse Childhood Experiences items of abuse and
 * domestic violence, answered Yes (an ACE QuestionnaireResponse of the US
 * Behavioral Health Profiles, no instrument the dictionary names), disclose
 * violence as PRAPARE 76501-6 does; No, and the neglect and household
 * items, label nothing. */
Test(dict, an_ace_disclosure_of_abuse_labels_the_screening_sdv)
{
    static const char *const abuse[] = { "82814-5", "82815-2", "82816-0",
                                         "82820-2" };
    for (size_t i = 0; i < sizeof(abuse) / sizeof(abuse[0]); i++) {
        struct resp yes[] = { { abuse[i], { "LA33-6" }, 0, false } };
        struct dict_scoring s = score(NULL, yes, 1);
        cr_assert_eq(s.n_labels, 1, "%s Yes", abuse[i]);
        cr_expect_str_eq(s.labels[0], "sdv");
        yes[0].ans[0] = "LA32-8";
        s = score(NULL, yes, 1);
        cr_expect_eq(s.n_labels, 0, "%s No", abuse[i]);
    }
    struct resp neglect[] = { { "82817-8", { "LA33-6" }, 0, false },
                              { "82818-6", { "LA33-6" }, 0, false },
                              { "82822-8", { "LA33-6" }, 0, false } };
    cr_expect_eq(score(NULL, neglect, 3).n_labels, 0);
}

/* SOURCES.md F1040: HARK (LOINC 76499-3, 45 CFR 170.207(p)(8)), four
 * Yes/No questions of the last year, one point each, positive at a total of
 * 1 or more (Sohal, Eldridge and Feder 2007): any Yes is a positive
 * intimate-partner-violence screen and discloses violence (sdv); four No
 * are a negative screen with no label. */
Test(dict, hark_is_positive_at_any_yes_and_a_yes_labels_it_sdv)
{
    static const char *const q[] = { "76500-8", "76501-6", "76502-4",
                                     "76503-2" };
    const char *dom = "intimate-partner-violence";
    struct resp r[4];
    for (size_t i = 0; i < 4; i++)
        r[i] = (struct resp){ q[i], { "LA32-8" }, 0, false };
    struct dict_scoring s = score("76499-3", r, 4);
    cr_assert_eq(s.n_sums, 1);
    cr_expect_str_eq(s.sums[0].sum->code, "76504-0");
    cr_expect(s.sums[0].complete && !s.sums[0].from_sender);
    cr_expect_eq(s.sums[0].value, 0);
    cr_expect_eq(s.sums[0].verdict, DICT_NEGATIVE);
    cr_expect(has_domain(s.domains, s.n_domains, dom));
    cr_expect_eq(s.n_positive_domains, 0);
    cr_expect_eq(s.n_labels, 0);
    for (size_t i = 0; i < 4; i++) {
        cr_expect_eq(s.items[i].verdict, DICT_NEGATIVE, "%s No", q[i]);
        cr_expect_str_eq(s.items[i].domain, dom);
    }
    for (size_t yes = 0; yes < 4; yes++) {
        for (size_t i = 0; i < 4; i++)
            r[i].ans[0] = i == yes ? "LA33-6" : "LA32-8";
        s = score("76499-3", r, 4);
        cr_expect_eq(s.items[yes].verdict, DICT_POSITIVE, "%s Yes", q[yes]);
        cr_expect_eq(s.sums[0].value, 1);
        cr_expect_eq(s.sums[0].verdict, DICT_POSITIVE, "%s Yes", q[yes]);
        cr_expect(has_domain(s.positive_domains, s.n_positive_domains, dom));
        cr_assert_eq(s.n_labels, 1, "%s Yes", q[yes]);
        cr_expect_str_eq(s.labels[0], "sdv");
    }
    /* the sender's total alone: 1 is positive and discloses violence */
    struct resp total[] = { { "76504-0", { NULL }, 1, false } };
    s = score("76499-3", total, 1);
    cr_expect(s.sums[0].from_sender);
    cr_expect_eq(s.sums[0].verdict, DICT_POSITIVE);
    cr_expect_eq(s.n_labels, 1);
    /* three No and the fourth unanswered: no total of the hub's */
    for (size_t i = 1; i < 4; i++)
        r[i].ans[0] = "LA32-8";
    s = score("76499-3", r + 1, 3);
    cr_expect_not(s.sums[0].complete);
    cr_expect_eq(s.sums[0].verdict, DICT_UNKNOWN);
}

/* F963's question: 76501-6 is an item of PRAPARE and of HARK. Each
 * instrument's item is its own (PRAPARE's has Unsure and a declined
 * answer, HARK's has Yes and No only); a loose 76501-6 is PRAPARE's, the
 * first in file order, and the Yes and No both share score alike. */
Test(dict, an_item_of_two_instruments_is_each_ones_and_loose_the_first)
{
    struct slice afraid = slice_from_cstr("76501-6");
    const struct dict_instrument *hark =
        dict_instrument_find(D, slice_from_cstr("76499-3"));
    const struct dict_instrument *prapare =
        dict_instrument_find(D, slice_from_cstr("93025-5"));
    cr_assert(hark && prapare);
    const struct dict_item *h = dict_item_find(D, hark, afraid);
    const struct dict_item *p = dict_item_find(D, prapare, afraid);
    cr_assert(h && p && h != p);
    cr_expect_eq(dict_item_find(D, NULL, afraid), p);
    struct slice unsure = slice_from_cstr("LA14072-5");
    cr_expect_not_null(dict_answer_find(p, unsure));
    cr_expect_null(dict_answer_find(h, unsure));
    for (int yes = 0; yes < 2; yes++) {
        struct resp r[] = { { "76501-6", { yes ? "LA33-6" : "LA32-8" }, 0,
                              false } };
        enum dict_verdict want = yes ? DICT_POSITIVE : DICT_NEGATIVE;
        cr_expect_eq(score("76499-3", r, 1).items[0].verdict, want);
        cr_expect_eq(score("93025-5", r, 1).items[0].verdict, want);
        cr_expect_eq(score(NULL, r, 1).items[0].verdict, want);
        cr_expect_eq(score("76499-3", r, 1).n_labels, (size_t)yes);
    }
    /* PRAPARE's Unsure is no HARK answer */
    struct resp u[] = { { "76501-6", { "LA14072-5" }, 0, false } };
    cr_expect(score("76499-3", u, 1).items[0].unknown_answer);
    cr_expect_not(score("93025-5", u, 1).items[0].unknown_answer);
}

/* ---- bad data files ------------------------------------------------------------ */

static const char DOMAINS[] =
    "{\"ig\":{\"version\":\"t\"},\"domains\":[{\"code\":\"food-insecurity\","
    "\"display\":\"Food\"}]}";
static const char INSTR[] =
    "{\"instruments\":[{\"code\":\"P\",\"system\":\"s\",\"name\":\"n\","
    "\"items\":[{\"question\":\"Q\",\"domain\":\"food-insecurity\","
    "\"answers\":[{\"code\":\"A\",\"positive\":true}]}]}]}";
static const char ZC[] = "{\"codes\":[{\"code\":\"Z59.4\",\"domain\":\"food-insecurity\"}]}";
static const char TS[] = "{\"statuses\":[{\"code\":\"completed\",\"display\":\"C\",\"terminal\":true}]}";
static const char SL[] = "{\"labels\":[{\"code\":\"ETH\",\"label\":\"sud\"}]}";

struct bad_case {
    const char *file;           /* which file to replace */
    const char *text;
    int code;
    const char *path;
    const char *what;
};

static int load_with(const char *which, const char *text, struct dict_err *e,
                     struct dict **out)
{
    struct dict_file f[5] = {
        { "domains.json", DOMAINS, sizeof(DOMAINS) - 1 },
        { "instruments.json", INSTR, sizeof(INSTR) - 1 },
        { "zcodes.json", ZC, sizeof(ZC) - 1 },
        { "task-status.json", TS, sizeof(TS) - 1 },
        { "security-labels.json", SL, sizeof(SL) - 1 },
    };
    for (size_t i = 0; which && i < 5; i++)
        if (strcmp(f[i].name, which) == 0) {
            f[i].p = text;
            f[i].len = strlen(text);
        }
    return dict_load(f, 5, out, e);
}

Test(dict_load, minimal_tables_load)
{
    struct dict *d;
    struct dict_err e;
    cr_assert_eq(load_with(NULL, NULL, &e, &d), HUB_OK, "%s %s %s", e.file,
                 e.path, e.what);
    cr_assert_eq(dict_instrument_count(d), 1);
    /* no concept table: nothing implied (and no bsearch over nothing,
     * which UBSan refuses) */
    cr_assert_null(dict_snomed_sensitivity(d, SLICE_LIT("66590003")));
    dict_free(d);
}

Test(dict_load, bad_files_are_refused_with_file_path_and_reason)
{
    static const struct bad_case cases[] = {
        { "domains.json", "{\"ig\":{\"version\":\"t\"},\"domains\":[", HUB_ESYNTAX,
          "/", "brackets do not balance" },
        { "domains.json", "{\"ig\":{\"version\":\"t\"},\"domains\":[}", HUB_ESYNTAX,
          "/", "brackets do not balance" },
        { "domains.json", "{\"ig\":{\"version\":\"t\"},\"domains\":[1 2]}", HUB_ESYNTAX,
          "/", "file is not valid JSON" },
        { "domains.json", "{\"domains\":[]}", HUB_EINVALID, "/ig",
          "required member is missing" },
        { "domains.json",
          "{\"ig\":{\"version\":\"t\"},\"domains\":[{\"code\":\"a\",\"display\":\"A\"},"
          "{\"code\":\"a\",\"display\":\"B\"}]}",
          HUB_EINVALID, "/domains/1/code", "duplicate domain code" },
        { "domains.json",
          "{\"ig\":{\"version\":\"t\"},\"domains\":[{\"code\":\"a\",\"display\":\"A\","
          "\"aliases\":[\"x\"]},{\"code\":\"x\",\"display\":\"B\"}]}",
          HUB_EINVALID, "/domains/1/code", "duplicate domain code" },
        { "domains.json",
          "{\"ig\":{\"version\":\"t\"},\"domains\":[{\"code\":\"a\",\"display\":\"A\","
          "\"aliases\":[\"x\",\"Y\"]}]}",
          HUB_EINVALID, "/domains/0/aliases/1", "alias is not lowercase" },
        /* F2706: the CSV reader reads ' ' and '_' as '-' before it looks */
        { "domains.json",
          "{\"ig\":{\"version\":\"t\"},\"domains\":[{\"code\":\"a\",\"display\":\"A\","
          "\"aliases\":[\"food access\"]}]}",
          HUB_EINVALID, "/domains/0/aliases/0",
          "alias has a space or '_' (read as '-')" },
        { "domains.json",
          "{\"ig\":{\"version\":\"t\"},\"domains\":[{\"code\":\"a\",\"display\":\"A\"}],"
          "\"ambiguous\":[{\"word\":\"home_safety\"}]}",
          HUB_EINVALID, "/ambiguous/0/word", "word has a space or '_' (read as '-')" },
        { "domains.json",
          "{\"ig\":{\"version\":\"t\"},\"domains\":[{\"code\":\"a\",\"display\":\"A\","
          "\"aliases\":[\"x\"]}],\"ambiguous\":[{\"word\":\"x\"}]}",
          HUB_EINVALID, "/ambiguous/0/word", "duplicate domain code" },
        { "domains.json",
          "{\"ig\":{\"version\":\"t\"},\"domains\":[{\"code\":\"a\",\"display\":\"A\"}],"
          "\"ambiguous\":[{\"word\":\"w\",\"could_be\":[\"a\",\"b\"]}]}",
          HUB_EINVALID, "/ambiguous/0/could_be/1", "domain is not in domains.json" },
        { "instruments.json",
          "{\"instruments\":[{\"code\":\"P\",\"system\":\"s\",\"name\":\"n\","
          "\"items\":[{\"question\":\"Q\",\"domain\":\"nope\",\"answers\":[]}]}]}",
          HUB_EINVALID, "/instruments/0/items/0/domain",
          "domain is not in domains.json" },
        { "instruments.json",
          "{\"instruments\":[{\"code\":\"P\",\"system\":\"s\",\"name\":\"n\","
          "\"items\":[{\"question\":\"Q\",\"domain\":\"food-insecurity\","
          "\"answers\":[{\"code\":\"A\",\"postive\":true}]}]}]}",
          HUB_EINVALID, "/instruments/0/items/0/answers/0/postive",
          "unknown member" },
        { "instruments.json",
          "{\"instruments\":[{\"code\":\"P\",\"system\":\"s\",\"name\":\"n\","
          "\"items\":[{\"question\":\"Q\",\"domain\":\"food-insecurity\","
          "\"answers\":[{\"code\":\"A\",\"positive\":\"yes\"}]}]}]}",
          HUB_EINVALID, "/instruments/0/items/0/answers/0/positive",
          "expected true or false" },
        { "instruments.json",
          "{\"instruments\":[{\"code\":\"P\",\"system\":\"s\",\"name\":\"n\","
          "\"items\":[{\"question\":\"Q\",\"domain\":\"food-insecurity\","
          "\"answers\":[{\"code\":\"A\"}]}],\"sums\":[{\"code\":\"S\","
          "\"domain\":\"food-insecurity\",\"items\":[\"Q\"],\"positive_at\":2}]}]}",
          HUB_EINVALID, "/instruments/0/sums/0/items/0",
          "summed item has an answer without a value" },
        { "instruments.json",
          "{\"instruments\":[{\"code\":\"P\",\"system\":\"s\",\"name\":\"n\","
          "\"items\":[{\"question\":\"Q\",\"domain\":\"food-insecurity\","
          "\"answers\":[{\"code\":\"A\",\"value\":1}]}],\"sums\":[{\"code\":\"S\","
          "\"domain\":\"food-insecurity\",\"items\":[\"X\"],\"positive_at\":2}]}]}",
          HUB_EINVALID, "/instruments/0/sums/0/items/0",
          "not an item of this instrument" },
        { "instruments.json",
          "{\"instruments\":[{\"code\":\"P\",\"system\":\"s\",\"name\":\"n\","
          "\"items\":[{\"question\":\"Q\",\"domain\":\"food-insecurity\","
          "\"answers\":[{\"code\":\"A\",\"value\":1.5}]}]}]}",
          HUB_EINVALID, "/instruments/0/items/0/answers/0/value",
          "expected an integer" },
        { "instruments.json", "{\"instruments\":[]}", HUB_EINVALID, "/",
          "no instrument is defined" },
        { "zcodes.json", "{\"codes\":[{\"from\":\"Z65\",\"to\":\"Z55\",\"domain\":\"food-insecurity\"}]}",
          HUB_EINVALID, "/codes/0/to", "range ends before it starts" },
        { "zcodes.json", "{\"codes\":[{\"code\":\"Z5-9\",\"domain\":\"food-insecurity\"}]}",
          HUB_EINVALID, "/codes/0/code", "not an ICD-10 code" },
        { "task-status.json", "{\"statuses\":[{\"code\":\"x\"}]}", HUB_EINVALID,
          "/statuses/0/display", "required member is missing" },
        { "task-status.json",
          "{\"statuses\":[{\"code\":\"rejected\",\"display\":\"R\","
          "\"terminal\":true,\"referral\":true,\"aliases\":[\"Declined\"]}]}",
          HUB_EINVALID, "/statuses/0/aliases/0", "alias is not lowercase" },
        { "task-status.json",
          "{\"statuses\":[{\"code\":\"requested\",\"display\":\"Q\","
          "\"terminal\":false,\"referral\":true,\"aliases\":[\"pending\"]},"
          "{\"code\":\"received\",\"display\":\"V\",\"terminal\":false,"
          "\"referral\":false,\"aliases\":[\"pending\"]}]}",
          HUB_EINVALID, "/statuses/1/aliases/0", "duplicate status code" },
        { "task-status.json",
          "{\"statuses\":[{\"code\":\"requested\",\"display\":\"Q\","
          "\"terminal\":false,\"referral\":true,\"aliases\":[\"received\"]},"
          "{\"code\":\"received\",\"display\":\"V\",\"terminal\":false,"
          "\"referral\":false}]}",
          HUB_EINVALID, "/statuses/1/code", "duplicate status code" },
        { "security-labels.json", "{\"labels\":[{\"code\":\"ETH\",\"label\":\"SUD!\"}]}",
          HUB_EINVALID, "/labels/0/label", "label is not a short lowercase token" },
        { "security-labels.json",
          "{\"labels\":[],\"loinc\":[{\"code\":\"44260-7\",\"label\":\"psy\"}]}",
          HUB_EINVALID, "/loinc/0/code", "not a LOINC code" },
        { "security-labels.json",
          "{\"labels\":[],\"loinc\":[{\"code\":\"44260-8\",\"label\":\"Psy\"}]}",
          HUB_EINVALID, "/loinc/0/label", "label is not a short lowercase token" },
        { "security-labels.json",
          "{\"labels\":[],\"loinc\":[{\"code\":\"44260-8\",\"label\":\"psy\"},"
          "{\"code\":\"44260-8\",\"label\":\"psy\"}]}",
          HUB_EINVALID, "/loinc", "duplicate code" },
        { "security-labels.json",
          "{\"labels\":[],\"loinc\":[{\"code\":\"95618-5\",\"label\":\"sdv\","
          "\"answers\":[\"LA10066-1\",\"Rarely\"]}]}",
          HUB_EINVALID, "/loinc/0/answers/1", "not a LOINC answer code" },
        { "security-labels.json",
          "{\"labels\":[],\"loinc\":[{\"code\":\"95618-5\",\"label\":\"sdv\","
          "\"answers\":[]}]}",
          HUB_EINVALID, "/loinc/0/answers", "expected a non-empty array" },
        { "security-labels.json",
          "{\"labels\":[],\"loinc\":[{\"code\":\"95614-4\",\"label\":\"sdv\","
          "\"above\":10.5}]}",
          HUB_EINVALID, "/loinc/0/above", "expected an integer" },
        { "security-labels.json",
          "{\"labels\":[],\"v2-0717\":[{\"code\":\"HIV\",\"label\":\"HIV\"}]}",
          HUB_EINVALID, "/v2-0717/0/label",
          "label is not a short lowercase token" },
        { "security-labels.json",
          "{\"labels\":[],\"v2-0717\":[{\"code\":\"HIV^x\",\"label\":\"hiv\"}]}",
          HUB_EINVALID, "/v2-0717/0/code",
          "code has a space, a control or an HL7 delimiter" },
        { "security-labels.json",
          "{\"labels\":[],\"v2-0717\":[{\"label\":\"hiv\"}]}",
          HUB_EINVALID, "/v2-0717/0/code", "required member is missing" },
        { "security-labels.json",
          "{\"labels\":[],\"v2-0717\":[{\"code\":\"HIV\",\"label\":\"hiv\"},"
          "{\"code\":\"hiv\",\"label\":\"hiv\"}]}",
          HUB_EINVALID, "/v2-0717/1", "duplicate code and label" },
        { "security-labels.json",
          "{\"labels\":[],\"v2-0717\":{\"code\":\"HIV\"}}",
          HUB_EINVALID, "/v2-0717", "expected an array" },
        /* F2001: the CPT and HCPCS rows, each error at its row's member */
        { "security-labels.json",
          "{\"labels\":[],\"cpt\":[{\"code\":\"9079\",\"label\":\"psy\"}]}",
          HUB_EINVALID, "/cpt/0/code",
          "not a CPT code (five digits, or four and F or T)" },
        { "security-labels.json",
          "{\"labels\":[],\"cpt\":[{\"code\":\"H0001\",\"label\":\"sud\"}]}",
          HUB_EINVALID, "/cpt/0/code",
          "not a CPT code (five digits, or four and F or T)" },
        { "security-labels.json",
          "{\"labels\":[],\"hcpcs\":[{\"code\":\"h0001\",\"label\":\"sud\"}]}",
          HUB_EINVALID, "/hcpcs/0/code",
          "not an HCPCS Level II code (a letter A to V and four digits)" },
        { "security-labels.json",
          "{\"labels\":[],\"hcpcs\":[{\"code\":\"W0001\",\"label\":\"sud\"}]}",
          HUB_EINVALID, "/hcpcs/0/code",
          "not an HCPCS Level II code (a letter A to V and four digits)" },
        { "security-labels.json",
          "{\"labels\":[],\"cpt\":[{\"code\":\"90899\",\"to\":\"90785\","
          "\"label\":\"psy\"}]}",
          HUB_EINVALID, "/cpt/0/to", "range ends before it starts" },
        { "security-labels.json",
          "{\"labels\":[],\"cpt\":[{\"code\":\"0001F\",\"to\":\"00099\","
          "\"label\":\"psy\"}]}",
          HUB_EINVALID, "/cpt/0/to",
          "range ends in another kind of code than it starts" },
        { "security-labels.json",
          "{\"labels\":[],\"hcpcs\":[{\"code\":\"H0001\",\"to\":\"J0001\","
          "\"label\":\"sud\"}]}",
          HUB_EINVALID, "/hcpcs/0/to",
          "range ends in another kind of code than it starts" },
        { "security-labels.json",
          "{\"labels\":[],\"cpt\":[{\"code\":\"90791\",\"label\":\"PSY\"}]}",
          HUB_EINVALID, "/cpt/0/label", "label is not a short lowercase token" },
        { "security-labels.json",
          "{\"labels\":[],\"cpt\":[{\"code\":\"90791\",\"label\":\"psy\","
          "\"descriptor\":\"x\"}]}",
          HUB_EINVALID, "/cpt/0/descriptor", "unknown member" },
        { "security-labels.json",
          "{\"labels\":[],\"cpt\":[{\"to\":\"90791\",\"label\":\"psy\"}]}",
          HUB_EINVALID, "/cpt/0/code", "required member is missing" },
        { "security-labels.json",
          "{\"labels\":[],\"hcpcs\":{\"code\":\"H0001\"}}",
          HUB_EINVALID, "/hcpcs", "expected an array" },
        { "security-labels.json",
          "{\"labels\":[],\"hcpcs\":[{\"code\":\"H0005\",\"to\":\"H0016\","
          "\"label\":\"sud\"},{\"code\":\"H0016\",\"label\":\"psy\"}]}",
          HUB_EINVALID, "/hcpcs", "two rows hold one code" },
        { "security-labels.json",
          "{\"labels\":[],\"cpt\":[{\"code\":\"90791\",\"label\":\"psy\"},"
          "{\"code\":\"90785\",\"to\":\"90899\",\"label\":\"psy\"}]}",
          HUB_EINVALID, "/cpt", "two rows hold one code" },
        { "security-labels.json",
          "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
          HUB_ELIMIT, "/", "nesting is deeper than the limit" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dict *d = (struct dict *)1;
        struct dict_err e;
        int rc = load_with(cases[i].file, cases[i].text, &e, &d);
        cr_assert_eq(rc, cases[i].code, "case %zu: rc %d (%s %s)", i, rc,
                     e.path, e.what ? e.what : "");
        cr_assert_null(d, "case %zu", i);
        cr_assert_str_eq(e.file, cases[i].file, "case %zu", i);
        cr_assert_str_eq(e.path, cases[i].path, "case %zu", i);
        cr_assert_str_eq(e.what, cases[i].what, "case %zu", i);
    }
}

/* The items, sums and derived arrays of an instrument share one loader:
 * each of its error paths names the array, or the row, that is wrong. */
Test(dict_load, instrument_arrays_are_refused_with_the_path_of_the_bad_row)
{
#define INST "{\"instruments\":[{\"code\":\"P\",\"system\":\"s\",\"name\":\"n\""
#define ITEM(q) "{\"question\":\"" q "\",\"domain\":\"food-insecurity\"," \
                "\"answers\":[{\"code\":\"A\",\"value\":1}]}"
#define SUM "{\"code\":\"S\",\"domain\":\"food-insecurity\",\"items\":[\"Q\"]," \
            "\"positive_at\":1}"
    static const struct bad_case cases[] = {
        { "instruments.json", INST "}]}", HUB_EINVALID,
          "/instruments/0/items", "required member is missing" },
        { "instruments.json", INST ",\"items\":{}}]}", HUB_EINVALID,
          "/instruments/0/items", "expected an array" },
        { "instruments.json", INST ",\"items\":[]}]}", HUB_EINVALID,
          "/instruments/0/items", "instrument has no items" },
        /* row 1 is checked against row 0, already counted */
        { "instruments.json", INST ",\"items\":[" ITEM("Q") "," ITEM("Q") "]}]}",
          HUB_EINVALID, "/instruments/0/items/1/question",
          "duplicate question in instrument" },
        /* a wording the CSV adapter would read as two questions (F218) */
        { "instruments.json", INST ",\"items\":["
          "{\"question\":\"Q\",\"display\":\"Are you safe?\","
          "\"domain\":\"food-insecurity\",\"answers\":[{\"code\":\"A\"}]},"
          "{\"question\":\"R\",\"texts\":[\"Other\",\" are YOU  safe\"],"
          "\"domain\":\"food-insecurity\",\"answers\":[{\"code\":\"A\"}]}"
          "]}]}",
          HUB_EINVALID, "/instruments/0/items/1/texts/1",
          "wording of another item of this instrument" },
        { "instruments.json", INST ",\"items\":["
          "{\"question\":\"Q\",\"texts\":[\" ?! \"],"
          "\"domain\":\"food-insecurity\",\"answers\":[{\"code\":\"A\"}]}"
          "]}]}",
          HUB_EINVALID, "/instruments/0/items/0/texts/0",
          "wording has no word" },
        { "instruments.json", INST ",\"items\":["
          "{\"question\":\"Q\",\"texts\":[],"
          "\"domain\":\"food-insecurity\",\"answers\":[{\"code\":\"A\"}]}"
          "]}]}",
          HUB_EINVALID, "/instruments/0/items/0/texts", "array is empty" },
        { "instruments.json", INST ",\"items\":[" ITEM("Q") "],\"sums\":{}}]}",
          HUB_EINVALID, "/instruments/0/sums", "expected an array" },
        { "instruments.json",
          INST ",\"items\":[" ITEM("Q") "],\"sums\":[" SUM "],\"derived\":7}]}",
          HUB_EINVALID, "/instruments/0/derived", "expected an array" },
        /* after a sum loaded, the path is back at the instrument */
        { "instruments.json",
          INST ",\"items\":[" ITEM("Q") "],\"sums\":[" SUM "],\"derived\":["
          "{\"code\":\"D\",\"domain\":\"food-insecurity\",\"items\":[\"Q\"],"
          "\"rule\":\"all\",\"positive_answer\":\"Y\","
          "\"negative_answer\":\"N\"}]}]}",
          HUB_EINVALID, "/instruments/0/derived/0/rule",
          "rule is not \"any-positive\"" },
    };
#undef INST
#undef ITEM
#undef SUM
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dict *d = (struct dict *)1;
        struct dict_err e;
        int rc = load_with(cases[i].file, cases[i].text, &e, &d);
        cr_assert_eq(rc, cases[i].code, "case %zu: rc %d (%s %s)", i, rc,
                     e.path, e.what ? e.what : "");
        cr_assert_null(d, "case %zu", i);
        cr_assert_str_eq(e.path, cases[i].path, "case %zu", i);
        cr_assert_str_eq(e.what, cases[i].what, "case %zu", i);
    }
}

/* Optional arrays may be absent or empty; what loads is counted. */
Test(dict_load, instrument_with_sums_and_derived_rules_loads_them_all)
{
    static const char text[] =
        "{\"instruments\":[{\"code\":\"P\",\"system\":\"s\",\"name\":\"n\","
        "\"items\":[{\"question\":\"Q\",\"domain\":\"food-insecurity\","
        "\"answers\":[{\"code\":\"A\",\"value\":1,\"positive\":true}]},"
        "{\"question\":\"R\",\"domain\":\"food-insecurity\","
        "\"answers\":[{\"code\":\"B\",\"value\":2}]}],"
        "\"sums\":[{\"code\":\"S\",\"domain\":\"food-insecurity\","
        "\"items\":[\"Q\",\"R\"],\"positive_at\":3}],"
        "\"derived\":[]},"
        "{\"code\":\"P2\",\"system\":\"s\",\"name\":\"n\","
        "\"items\":[{\"question\":\"Q2\",\"domain\":\"food-insecurity\","
        "\"answers\":[{\"code\":\"A\"}]}],"
        "\"derived\":[{\"code\":\"D\",\"domain\":\"food-insecurity\","
        "\"items\":[\"Q2\"],\"rule\":\"any-positive\","
        "\"positive_answer\":\"Y\",\"negative_answer\":\"N\"}]}]}";
    struct dict *d;
    struct dict_err e;

    cr_assert_eq(load_with("instruments.json", text, &e, &d), HUB_OK,
                 "%s %s", e.path, e.what);
    const struct dict_instrument *p = dict_instrument_find(d, SLICE_LIT("P"));
    const struct dict_instrument *p2 = dict_instrument_find(d, SLICE_LIT("P2"));
    cr_assert_not_null(p);
    cr_assert_not_null(p2);
    cr_assert_eq(p->n_items, 2);
    cr_assert_str_eq(p->items[1].question, "R");
    cr_assert_eq(p->n_sums, 1);
    cr_assert_eq(p->sums[0].n_items, 2);
    cr_assert_eq(p->n_derived, 0);
    cr_assert_eq(p2->n_items, 1);
    cr_assert_eq(p2->n_sums, 0);
    cr_assert_eq(p2->n_derived, 1);
    cr_assert_str_eq(p2->derived[0].positive_answer, "Y");
    dict_free(d);
}

/* A dictionary item whose question the "loinc" table lists carries the
 * label itself (scoring a known question looks nothing up), and an answer
 * that is "I choose not to answer" implies none. */
Test(dict_load, an_item_whose_question_is_labelled_labels_its_answers)
{
    static const char inst[] =
        "{\"instruments\":[{\"code\":\"P\",\"system\":\"s\",\"name\":\"n\","
        "\"items\":[{\"question\":\"44260-8\",\"domain\":\"food-insecurity\","
        "\"answers\":[{\"code\":\"A\"},{\"code\":\"N\",\"declined\":true}]}]}]}";
    static const char sl[] =
        "{\"labels\":[],\"loinc\":[{\"code\":\"44260-8\",\"label\":\"psy\"}]}";
    struct dict_file f[5] = {
        { "domains.json", DOMAINS, sizeof(DOMAINS) - 1 },
        { "instruments.json", inst, sizeof(inst) - 1 },
        { "zcodes.json", ZC, sizeof(ZC) - 1 },
        { "task-status.json", TS, sizeof(TS) - 1 },
        { "security-labels.json", sl, sizeof(sl) - 1 },
    };
    struct dict *d;
    struct dict_err e;
    struct arena a;
    cr_assert_eq(dict_load(f, 5, &d, &e), HUB_OK, "%s %s", e.path, e.what);
    const struct dict_instrument *in = dict_instrument_find(d, SLICE_LIT("P"));
    cr_assert_not_null(in);
    cr_assert_str_eq(in->items[0].sensitivity, "psy");

    arena_init(&a, 4096);
    struct slice yes = SLICE_LIT("A"), no_answer = SLICE_LIT("N");
    struct dict_response r = { .question = SLICE_LIT("44260-8"),
                               .answers = &yes, .n_answers = 1 };
    struct dict_scoring s;
    cr_assert_eq(dict_score(d, &a, in, &r, 1, &s), HUB_OK);
    cr_assert_eq(s.n_labels, 1);
    cr_assert_str_eq(s.labels[0], "psy");
    r.answers = &no_answer;
    cr_assert_eq(dict_score(d, &a, in, &r, 1, &s), HUB_OK);
    cr_assert_eq(s.n_labels, 0);
    arena_release(&a);
    dict_free(d);
}

Test(dict_load, a_missing_table_is_named)
{
    struct dict_file f[1] = { { "domains.json", DOMAINS, sizeof(DOMAINS) - 1 } };
    struct dict *d;
    struct dict_err e;
    cr_assert_eq(dict_load(f, 1, &d, &e), HUB_EINVALID);
    cr_assert_str_eq(e.file, "instruments.json");
    cr_assert_str_eq(e.what, "required file is missing");
}

Test(dict_load, an_unknown_file_name_is_refused)
{
    struct dict_file f[1] = { { "domain.json", DOMAINS, sizeof(DOMAINS) - 1 } };
    struct dict *d;
    struct dict_err e;
    cr_assert_eq(dict_load(f, 1, &d, &e), HUB_EINVALID);
    cr_assert_str_eq(e.file, "domain.json");
}

Test(dict_load, a_missing_directory_is_an_io_error)
{
    struct dict *d;
    struct dict_err e;
    cr_assert_eq(dict_files_load("/nonexistent/dict", &d, &e), HUB_EIO);
    cr_assert_str_eq(e.file, "/nonexistent/dict");
}

/* ---- hubctl dict ----------------------------------------------------------------- */

#include "ctl_dict.h"

Test(ctl_dict, check_prints_a_summary_of_the_shipped_tables)
{
    char *buf = NULL, *ebuf = NULL;
    size_t len = 0, elen = 0;
    FILE *out = open_memstream(&buf, &len);
    FILE *err = open_memstream(&ebuf, &elen);
    char *argv[] = { "dict", "check", (char *)dict_dir(), NULL };
    cr_assert_eq(ctl_dict(3, argv, out, err), 0);
    fclose(out);
    fclose(err);
    cr_assert(strncmp(buf, "dict: ok: IG 2.3.0-draft, 24 domains", 36) == 0,
              "%s", buf);
    free(buf);
    free(ebuf);
}

/* F2001: `hubctl dict check` refuses a malformed CPT table with the
 * file, the row and why, and the shipped one's rows are listed */
Test(ctl_dict, check_refuses_a_cpt_row_that_is_no_cpt_code_with_its_path)
{
    char dir[] = "/tmp/hub-dict-cpt-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    static const char *const names[] = { "domains.json", "instruments.json",
        "zcodes.json", "task-status.json", "snomed-domains.json" };
    char src[600], dst[600], cmd[1400];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(src, sizeof(src), "%s/%s", dict_dir(), names[i]);
        snprintf(dst, sizeof(dst), "%s/%s", dir, names[i]);
        snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, dst);
        cr_assert_eq(system(cmd), 0);
    }
    snprintf(dst, sizeof(dst), "%s/security-labels.json", dir);
    FILE *f = fopen(dst, "w");
    cr_assert_not_null(f);
    fputs("{\"labels\":[],\"cpt\":[{\"code\":\"90785\",\"to\":\"90899\","
          "\"label\":\"psy\"},{\"code\":\"9o791\",\"label\":\"psy\"}]}", f);
    fclose(f);
    char *buf = NULL, *ebuf = NULL;
    size_t len = 0, elen = 0;
    FILE *out = open_memstream(&buf, &len);
    FILE *err = open_memstream(&ebuf, &elen);
    char *argv[] = { "dict", "check", dir, NULL };
    cr_assert_eq(ctl_dict(3, argv, out, err), 1);
    fclose(out);
    fclose(err);
    cr_assert_not_null(strstr(ebuf, "security-labels.json"), "%s", ebuf);
    cr_assert_not_null(strstr(ebuf, "/cpt/1/code"), "%s", ebuf);
    cr_assert_not_null(strstr(ebuf, "not a CPT code"), "%s", ebuf);
    free(buf);
    free(ebuf);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(ctl_dict, check_names_the_directory_it_cannot_read_and_fails)
{
    char *buf = NULL, *ebuf = NULL;
    size_t len = 0, elen = 0;
    FILE *out = open_memstream(&buf, &len);
    FILE *err = open_memstream(&ebuf, &elen);
    char *argv[] = { "dict", "check", "/nonexistent", NULL };
    cr_assert_eq(ctl_dict(3, argv, out, err), 1);
    fclose(out);
    fclose(err);
    cr_assert_not_null(strstr(ebuf, "/nonexistent"));
    free(buf);
    free(ebuf);
}

Test(ctl_dict, show_lists_the_safety_sum_and_a_usage_error_is_2)
{
    char *buf = NULL, *ebuf = NULL;
    size_t len = 0, elen = 0;
    FILE *out = open_memstream(&buf, &len);
    FILE *err = open_memstream(&ebuf, &elen);
    char *argv[] = { "dict", "show", (char *)dict_dir(), NULL };
    cr_assert_eq(ctl_dict(3, argv, out, err), 0);
    char *bad[] = { "dict", "frobnicate", NULL };
    cr_assert_eq(ctl_dict(2, bad, out, err), 2);
    fclose(out);
    fclose(err);
    cr_assert_not_null(strstr(buf, "sum  95614-4"));
    cr_assert_not_null(strstr(buf, "positive at >= 11"));
    /* PHQ-2's total in the AHC supplemental questions (F4060) */
    cr_assert_not_null(strstr(buf, "sum  55758-7"));
    cr_assert_not_null(strstr(buf, " 44250-9 44255-8 (all required) "
                                   "(borrowed: within the instrument only)\n"));
    /* 32 rows, the four ACE disclosures of F78 and HARK's four (F1040) */
    cr_assert_not_null(strstr(buf, "## LOINC questions to sensitivity (40)"));
    cr_assert_not_null(strstr(buf, "44260-8      psy        http://loinc.org\n"));
    /* a row that only some answers imply says so (F61) */
    cr_assert_not_null(strstr(buf, "95618-5      sdv        http://loinc.org "
                                   "(some answers only)\n"));
    /* the words read as another entry are listed with it */
    cr_assert_not_null(strstr(buf, "(http://shinny.org/us/ny/hrsn/CodeSystem/"
                                   "NYS-HRSN-Questionnaire)\n  also "
                                   "NYS-AHC-HRSN\n"));
    cr_assert_not_null(strstr(buf, "rejected          terminal  referral"
                                   "  also declined\n"));
    cr_assert_not_null(strstr(buf, "draft             -         referral\n"));
    free(buf);
    free(ebuf);
}

Test(dict, instruments_are_found_by_alias_and_aliases_must_be_unique)
{
    const struct dict_instrument *in =
        dict_instrument_find(D, SLICE_LIT("NYS-AHC-HRSN"));
    cr_assert_not_null(in);
    cr_assert_str_eq(in->code, "NYSAHCHRSN");

    static const char instr[] =
        "{\"instruments\":[{\"code\":\"P\",\"system\":\"s\",\"name\":\"n\","
        "\"aliases\":[\"Q\",\"P\"],\"items\":[{\"question\":\"Q1\",\"domain\":"
        "\"food-insecurity\",\"answers\":[{\"code\":\"A\"}]}]}]}";
    struct dict *d;
    struct dict_err e;
    cr_assert_eq(load_with("instruments.json", instr, &e, &d), HUB_EINVALID);
    cr_assert_str_eq(e.path, "/instruments/0/aliases/1");
    cr_assert_str_eq(e.what, "duplicate instrument code");
}

/* Lookups compare a code's length and two words of it (struct dict_key):
 * codes of every length find themselves and nothing else, those over 16
 * bytes alike in their first and last eight included, and a slice holding
 * a NUL finds nothing. */
Test(dict_load, codes_of_every_length_are_found_exactly)
{
#define LONG_A "LONG-ABC-1111-x-2222-END"   /* 24 bytes */
#define LONG_B "LONG-ABC-1111-y-2222-END"   /* the same first and last 8 */
#define ANS(c, v) "{\"code\":\"" c "\",\"value\":" #v "}"
#define ITEM(q) "{\"question\":\"" q "\",\"domain\":\"food-insecurity\"," \
                "\"answers\":[" ANS("a", 1) "," ANS("abcd", 2) ","       \
                ANS("abcdefgh", 3) "," ANS("abcdefghijklmnop", 4) ","   \
                ANS(LONG_A, 5) "," ANS(LONG_B, 6) "]}"
    static const char text[] =
        "{\"instruments\":[{\"code\":\"P\",\"system\":\"s\",\"name\":\"n\","
        "\"items\":[" ITEM("Q") "," ITEM("Q123") "," ITEM("Q1234567") ","
        ITEM("Q123456789abcdef") "," ITEM(LONG_A) "," ITEM(LONG_B) "],"
        "\"sums\":[{\"code\":\"" LONG_B "-SUM\",\"domain\":\"food-insecurity\","
        "\"items\":[\"" LONG_B "\",\"Q123\"],\"positive_at\":9}]}]}";
    static const char *const codes[] = { "Q", "Q123", "Q1234567",
                                         "Q123456789abcdef", LONG_A, LONG_B };
    static const char *const answers[] = { "a", "abcd", "abcdefgh",
                                           "abcdefghijklmnop", LONG_A,
                                           LONG_B };
    struct dict *d;
    struct dict_err e;

    cr_assert_eq(load_with("instruments.json", text, &e, &d), HUB_OK,
                 "%s %s", e.path, e.what);
    const struct dict_instrument *p = dict_instrument_find(d, SLICE_LIT("P"));
    cr_assert_not_null(p);
    for (size_t i = 0; i < 6; i++) {
        const struct dict_item *it =
            dict_item_find(d, p, slice_from_cstr(codes[i]));
        cr_assert_eq(it, &p->items[i], "%s", codes[i]);
        for (size_t k = 0; k < 6; k++) {
            const struct dict_answer *an =
                dict_answer_find(it, slice_from_cstr(answers[k]));
            cr_assert_eq(an, &it->answers[k], "%s %s", codes[i], answers[k]);
        }
    }
    /* trimmed, one byte short or long, a NUL inside */
    const struct dict_item *q = &p->items[1];
    cr_assert_eq(dict_item_find(d, p, SLICE_LIT(" Q123\t")), q);
    cr_assert_null(dict_item_find(d, p, SLICE_LIT("Q12")));
    cr_assert_null(dict_item_find(d, p, SLICE_LIT("Q1234")));
    cr_assert_null(dict_item_find(d, p, SLICE_LIT("Q12\0")));
    cr_assert_null(dict_item_find(d, p, SLICE_LIT("Q\0")));
    cr_assert_null(dict_answer_find(q, SLICE_LIT("abcdefgh\0")));
    cr_assert_null(dict_answer_find(q, SLICE_LIT("LONG-ABC-1111-z-2222-END")));
    cr_assert_null(dict_item_find(d, p, SLICE_LIT("LONG-ABC-1111-xx-2222-END")));
    cr_assert_not_null(dict_sum_find(d, p, SLICE_LIT(LONG_B "-SUM")));
    cr_assert_null(dict_sum_find(d, p, SLICE_LIT(LONG_A "-SUM")));

    /* the sum finds its long item among responses alike in their words */
    struct arena a;
    arena_init(&a, 4096);
    struct slice six = SLICE_LIT(LONG_B), two = SLICE_LIT("abcd");
    struct dict_response r[3] = {
        { .question = SLICE_LIT(LONG_B), .answers = &six, .n_answers = 1 },
        { .question = SLICE_LIT(LONG_A), .answers = &two, .n_answers = 1 },
        { .question = SLICE_LIT("Q123 "), .answers = &two, .n_answers = 1 },
    };
    struct dict_scoring sc;
    cr_assert_eq(dict_score(d, &a, p, r, 3, &sc), HUB_OK);
    cr_assert_eq(sc.n_sums, 1);
    cr_assert(sc.sums[0].complete);
    cr_assert_eq(sc.sums[0].value, 6 + 2);
    cr_assert_eq(sc.items[0].item, &p->items[5]);
    cr_assert_eq(sc.items[1].item, &p->items[4]);
    arena_release(&a);
    dict_free(d);
#undef LONG_A
#undef LONG_B
#undef ANS
#undef ITEM
}

/* ---- sharing ------------------------------------------------------------------------ */

#include <pthread.h>

struct worker {
    const struct dict *d;
    int ok;
};

static void *score_many(void *arg)
{
    struct worker *w = arg;
    struct arena a;
    arena_init(&a, 16 * 1024);
    const struct dict_instrument *in =
        dict_instrument_find(w->d, SLICE_LIT("96777-8"));
    struct slice c1 = SLICE_LIT("LA10082-8"), c2 = SLICE_LIT("LA10066-1");
    struct dict_response r[4] = {
        { .question = SLICE_LIT("95618-5"), .answers = &c1, .n_answers = 1 },
        { .question = SLICE_LIT("95617-7"), .answers = &c1, .n_answers = 1 },
        { .question = SLICE_LIT("95616-9"), .answers = &c1, .n_answers = 1 },
        { .question = SLICE_LIT("95615-1"), .answers = &c2, .n_answers = 1 },
    };
    w->ok = 1;
    for (int i = 0; i < 2000 && w->ok; i++) {
        struct dict_scoring s;
        if (dict_score(w->d, &a, in, r, 4, &s) != HUB_OK || s.n_sums != 1 ||
            s.sums[0].value != 11 || s.sums[0].verdict != DICT_POSITIVE)
            w->ok = 0;
        arena_reset(&a);
    }
    arena_release(&a);
    return NULL;
}

Test(dict, one_loaded_dict_scores_from_many_threads_at_once)
{
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ D, 0 };
        cr_assert_eq(pthread_create(&t[i], NULL, score_many, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        cr_assert(w[i].ok, "thread %d", i);
    }
}

/* ---- SNOMED CT concepts that imply a label (security-labels-<x>.json) ---- */

static int load_concepts(const char *text, struct dict_err *e,
                         struct dict **out)
{
    struct dict_file f[6] = {
        { "domains.json", DOMAINS, sizeof(DOMAINS) - 1 },
        { "instruments.json", INSTR, sizeof(INSTR) - 1 },
        { "zcodes.json", ZC, sizeof(ZC) - 1 },
        { "task-status.json", TS, sizeof(TS) - 1 },
        { "security-labels.json", SL, sizeof(SL) - 1 },
        { "security-labels-t.json", text, strlen(text) },
    };
    return dict_load(f, 6, out, e);
}

#define CONCEPTS(sys, codes)                                                 \
    "{\"source\":{\"valueset\":\"v\",\"commit\":\"c\"},\"system\":\"" sys    \
    "\",\"label\":\"sud\",\"codes\":[" codes "]}"

/* F1843: a concept table with no codes, the first one read, loads and
 * labels nothing; its (empty) rows were sorted from a NULL base, undefined
 * behaviour the sanitized build stopped on. */
Test(dict, a_concept_table_without_codes_loads_and_labels_nothing)
{
    struct dict *d = NULL;
    struct dict_err e;
    cr_assert_eq(load_concepts(CONCEPTS("http://snomed.info/sct", ""), &e, &d),
                 HUB_OK, "%s %s", e.path, e.what ? e.what : "");
    cr_assert_eq(dict_rows_count(d, DICT_T_SNOMED_LABELS), 0);
    cr_assert_null(dict_snomed_sensitivity(d, SLICE_LIT("66590003")));
    dict_free(d);
}

/* The shipped table is the SNOMED CT part of the eCQM value set
 * "Substance Use Disorder" (2.16.840.1.113883.3.464.1003.106.12.1001). */
Test(dict, snomed_substance_use_disorders_imply_the_sud_label)
{
    cr_assert_str_eq(dict_snomed_sensitivity(D, SLICE_LIT("66590003")), "sud",
                     "Alcohol dependence");
    cr_assert_str_eq(dict_snomed_sensitivity(D, SLICE_LIT(" 5602001 ")), "sud",
                     "Opioid abuse, spaces around");
    cr_assert_str_eq(dict_snomed_sensitivity(D, SLICE_LIT("10741871000119101")),
                     "sud", "an extension concept");
    /* not in the value set: never guessed from a parent or a display */
    cr_assert_null(dict_snomed_sensitivity(D, SLICE_LIT("1297194009")),
                   "History of substance use disorder (situation)");
    cr_assert_null(dict_snomed_sensitivity(D, SLICE_LIT("44054006")),
                   "Diabetes mellitus type 2");
    cr_assert_null(dict_snomed_sensitivity(D, SLICE_LIT("")));
    cr_assert_null(dict_snomed_sensitivity(D, SLICE_LIT("6659000")));
    cr_assert_null(dict_snomed_sensitivity(D, SLICE_LIT("F10.20")));
    cr_assert(dict_is_snomed(SLICE_LIT("http://snomed.info/sct")));
    cr_assert(dict_is_snomed(SLICE_LIT("2.16.840.1.113883.6.96")));
    cr_assert(dict_is_snomed(SLICE_LIT("urn:oid:2.16.840.1.113883.6.96")));
    cr_assert(dict_is_snomed(SLICE_LIT("SCT")));
    cr_assert(dict_is_snomed(SLICE_LIT("sct")));
    /* F87: the FHIR URI written with https (NHS England's Reasonable
     * Adjustments examples): a psy or sud concept so sent kept no label */
    cr_assert(dict_is_snomed(SLICE_LIT("https://snomed.info/sct")));
    cr_assert_str_eq(dict_code_sensitivity(D, SLICE_LIT("https://snomed.info/sct"),
                                           SLICE_LIT("66590003")), "sud");
    cr_assert_not(dict_is_snomed(SLICE_LIT("https://snomed.info/sct/900000000000207008")));
    cr_assert_not(dict_is_snomed(SLICE_LIT("SNM")), "SNOMED International 3.x");
    cr_assert_not(dict_is_snomed(SLICE_LIT("I10")));
}

/* The shipped psy tables are the SNOMED CT part of the eCQM value sets of
 * CMS159's depression and mental health diagnoses and of "Major
 * Depressive Disorder Active", less Pervasive Developmental Disorder (not
 * taken) and the one organic member it lists under `excluded`, and (F160)
 * of CMS2's "Depression Diagnosis", less its two organic members:
 * psychiatric disorders as the ICD-10-CM rows have them, never dementia.
 * A concept in none of the sets (310496002) is never inferred from its
 * parents. */
Test(dict, snomed_psychiatric_disorders_imply_the_psy_label)
{
    static const char *const psy[] = {
        "370143000",            /* Major depressive disorder */
        "42810003",             /* Major depression in remission */
        "104851000119103",      /* Postpartum major depression in remission */
        "16265301000119106",    /* ... with anxiety: in the 1491 set alone */
        "78667006",             /* Dysthymia */
        "13746004",             /* Bipolar disorder */
        "16238741000119105",    /* Bipolar disorder caused by drug */
        "20010003",             /* Borderline personality disorder */
        "76105009",             /* Cyclothymia */
        "58214004",             /* Schizophrenia */
        "68890003",             /* Schizoaffective disorder */
        "35489007",             /* Depressive disorder: F160, a member of
                                   CMS2's Depression Diagnosis */
        "231504006",            /* Mixed anxiety and depressive disorder:
                                   the same set */
    };
    static const char *const none[] = {
        "231444002",    /* Organic bipolar disorder: excluded, as F06 */
        "52448006",     /* Dementia */
        "26929004",     /* Alzheimer's disease */
        "310496002",    /* Moderate depression: in none of the sets */
        "75837004",     /* Mood disorder with depressive features due to
                           a general medical condition: excluded, as F06 */
    };
    for (size_t i = 0; i < sizeof(psy) / sizeof(psy[0]); i++) {
        const char *l = dict_snomed_sensitivity(D, slice_from_cstr(psy[i]));
        cr_assert(l && strcmp(l, "psy") == 0, "%s", psy[i]);
    }
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        cr_assert_null(dict_snomed_sensitivity(D, slice_from_cstr(none[i])),
                       "%s", none[i]);
    /* the two labels' tables stay apart */
    cr_assert_str_eq(dict_snomed_sensitivity(D, SLICE_LIT("66590003")), "sud");
    cr_assert_str_eq(dict_code_sensitivity(D, SLICE_LIT("SCT"),
                                           SLICE_LIT("64905009")), "psy",
                     "Paranoid schizophrenia, as HL7 v2 names SNOMED CT");
}

/* F2001 (F1946 decided): CPT's psychiatry section 90785-90899 labels psy
 * at both ends and not past them; HCPCS Level II's alcohol and drug
 * services sud, its behavioral health services psy, and the services a
 * CBO gives (supported housing, employment, transport) nothing; under
 * CPT's and HCPCS's URIs, OIDs and v2 names alike, the code's shape
 * choosing the table. */
Test(dict, cpt_and_hcpcs_codes_label_psychiatry_and_alcohol_and_drug_services)
{
    static const struct { const char *code, *label; } cases[] = {
        { "90785", "psy" }, { "90791", "psy" }, { "90837", "psy" },
        { "90899", "psy" }, { "90784", NULL }, { "90900", NULL },
        { "99213", NULL }, { "0001F", NULL }, { "9079", NULL },
        { "907911", NULL }, { "", NULL },
        { "H0001", "sud" }, { "H0002", "psy" }, { "H0003", "sud" },
        { "H0004", "psy" }, { "H0005", "sud" }, { "H0016", "sud" },
        { "H0017", "psy" }, { "H0020", "sud" }, { "H0031", "psy" },
        { "H0033", NULL }, { "H0036", "psy" }, { "H0043", NULL },
        { "H0046", "psy" }, { "H0047", "sud" }, { "H0050", "sud" },
        { "H0051", NULL }, { "H2023", NULL }, { "H2035", "sud" },
        { "H2037", NULL }, { "T2003", NULL }, { "G0136", NULL },
        /* as a sender may write them */
        { "h0020", "sud" }, { " 90791 ", "psy" },
    };
    static const char *const systems[] = {
        "http://www.ama-assn.org/go/cpt", "urn:oid:2.16.840.1.113883.6.12",
        "2.16.840.1.113883.6.12", "C4", "cpt",
        "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "urn:oid:2.16.840.1.113883.6.285", "2.16.840.1.113883.6.14", "HCPCS",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *l = dict_proc_sensitivity(D, slice_from_cstr(cases[i].code));
        if (cases[i].label)
            cr_assert(l && strcmp(l, cases[i].label) == 0, "%s: %s",
                      cases[i].code, l ? l : "(none)");
        else
            cr_assert_null(l, "%s: %s", cases[i].code, l);
        for (size_t k = 0; k < sizeof(systems) / sizeof(systems[0]); k++) {
            const char *c = dict_code_sensitivity(
                D, slice_from_cstr(systems[k]), slice_from_cstr(cases[i].code));
            cr_assert(c == l || (c && l && strcmp(c, l) == 0), "%s %s",
                      systems[k], cases[i].code);
        }
    }
    /* another system reads no CPT: 90791 is no SNOMED CT or ICD-10 code */
    cr_assert_null(dict_code_sensitivity(D, SLICE_LIT("http://snomed.info/sct"),
                                         SLICE_LIT("90791")));
    cr_assert_null(dict_code_sensitivity(D, SLICE_LIT("http://loinc.org"),
                                         SLICE_LIT("H0001")));
    cr_assert(!dict_is_cpt_or_hcpcs(SLICE_LIT("http://www.ama-assn.org/go/cpt/")));
    /* `hubctl dict show` lists the rows: one CPT range, 19 HCPCS rows */
    cr_assert_eq(dict_rows_count(D, DICT_T_PROC_LABELS), 20);
    struct dict_row r;
    cr_assert(dict_rows_at(D, DICT_T_PROC_LABELS, 0, &r));
    cr_assert_str_eq(r.lo, "90785");
    cr_assert_str_eq(r.hi, "90899");
    cr_assert_str_eq(r.value, "psy");
}

/* A table may merge several value sets (`source` an array of them) and
 * list the members it leaves out (`excluded`, with a reason): both are
 * checked, neither is read. */
Test(dict_load, a_concept_table_of_several_value_sets_lists_what_it_leaves_out)
{
    struct dict *d;
    struct dict_err e;
    static const char ok[] =
        "{\"source\":[{\"valueset\":\"a\"},{\"valueset\":\"b\"}],"
        "\"system\":\"http://snomed.info/sct\",\"label\":\"psy\","
        "\"codes\":[{\"code\":\"370143000\"}],\"excluded\":[{\"code\":"
        "\"231444002\",\"display\":\"x\",\"reason\":\"organic\"}]}";
    cr_assert_eq(load_concepts(ok, &e, &d), HUB_OK, "%s %s", e.path, e.what);
    cr_assert_str_eq(dict_snomed_sensitivity(d, SLICE_LIT("370143000")),
                     "psy");
    cr_assert_null(dict_snomed_sensitivity(d, SLICE_LIT("231444002")));
    dict_free(d);

    static const struct {
        const char *text, *path, *what;
    } bad[] = {
        { "{\"source\":[],\"system\":\"http://snomed.info/sct\","
          "\"label\":\"psy\",\"codes\":[]}", "/source", "no value set named" },
        { "{\"source\":[{\"valueset\":\"a\"},\"b\"],\"system\":"
          "\"http://snomed.info/sct\",\"label\":\"psy\",\"codes\":[]}",
          "/source/1", "expected an object" },
        { "{\"source\":[{\"valueset\":\"a\",\"by\":\"me\"}],\"system\":"
          "\"http://snomed.info/sct\",\"label\":\"psy\",\"codes\":[]}",
          "/source/0/by", "unknown member" },
        { "{\"source\":{},\"system\":\"http://snomed.info/sct\",\"label\":"
          "\"psy\",\"codes\":[],\"excluded\":[{\"code\":\"231444002\"}]}",
          "/excluded/0/reason", "required member is missing" },
        { "{\"source\":{},\"system\":\"http://snomed.info/sct\",\"label\":"
          "\"psy\",\"codes\":[],\"excluded\":[{\"code\":\"231444003\","
          "\"reason\":\"r\"}]}",
          "/excluded/0/code", "not a SNOMED CT identifier" },
        { "{\"source\":{},\"system\":\"http://snomed.info/sct\",\"label\":"
          "\"psy\",\"codes\":[],\"excluded\":{}}",
          "/excluded", "expected an array" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        d = (struct dict *)1;
        cr_assert_eq(load_concepts(bad[i].text, &e, &d), HUB_EINVALID,
                     "case %zu: %s %s", i, e.path, e.what ? e.what : "");
        cr_assert_null(d);
        cr_assert_str_eq(e.path, bad[i].path, "case %zu", i);
        cr_assert_str_eq(e.what, bad[i].what, "case %zu", i);
    }
}

Test(dict_load, concept_tables_are_merged_and_checked)
{
    struct dict *d;
    struct dict_err e;
    cr_assert_eq(load_concepts(CONCEPTS("http://snomed.info/sct",
                                        "{\"code\":\"66590003\"},"
                                        "{\"code\":\"5602001\",\"display\":\"x\"}"),
                               &e, &d), HUB_OK, "%s %s", e.path, e.what);
    cr_assert_str_eq(dict_snomed_sensitivity(d, SLICE_LIT("5602001")), "sud");
    cr_assert_eq(dict_rows_count(d, DICT_T_SNOMED_LABELS), 2);
    dict_free(d);

    static const struct {
        const char *text, *path, *what;
    } bad[] = {
        { CONCEPTS("http://snomed.info/sct", "{\"code\":\"66590004\"}"),
          "/codes/0/code", "not a SNOMED CT identifier" },      /* check digit */
        { CONCEPTS("http://snomed.info/sct", "{\"code\":\"F10.20\"}"),
          "/codes/0/code", "not a SNOMED CT identifier" },
        { CONCEPTS("http://snomed.info/sct",
                   "{\"code\":\"66590003\"},{\"code\":\"66590003\"}"),
          "/codes", "duplicate code" },
        { CONCEPTS("http://hl7.org/fhir/sid/icd-10-cm", "{\"code\":\"66590003\"}"),
          "/system", "only SNOMED CT concepts are read" },
        { "{\"system\":\"http://snomed.info/sct\",\"label\":\"sud\","
          "\"codes\":[]}", "/source", "required member is missing" },
        { "{\"source\":{\"valueset\":\"v\",\"by\":\"me\"},\"system\":"
          "\"http://snomed.info/sct\",\"label\":\"sud\",\"codes\":[]}",
          "/source/by", "unknown member" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        d = (struct dict *)1;
        cr_assert_eq(load_concepts(bad[i].text, &e, &d), HUB_EINVALID,
                     "case %zu: %s %s", i, e.path, e.what ? e.what : "");
        cr_assert_null(d);
        cr_assert_str_eq(e.file, "security-labels-t.json", "case %zu", i);
        cr_assert_str_eq(e.path, bad[i].path, "case %zu", i);
        cr_assert_str_eq(e.what, bad[i].what, "case %zu", i);
    }
}

Test(ctl_dict, without_a_dir_reads_hub_dict_dir_as_hubd_does)
{
    char *buf = NULL, *ebuf = NULL;
    size_t len = 0, elen = 0;
    FILE *out = open_memstream(&buf, &len);
    FILE *err = open_memstream(&ebuf, &elen);
    char *argv[] = { "dict", "check", NULL };

    setenv("HUB_DICT_DIR", "/nonexistent-dict", 1);
    cr_assert_eq(ctl_dict(2, argv, out, err), 1);
    unsetenv("HUB_DICT_DIR");
    fclose(out);
    fclose(err);
    cr_assert_not_null(strstr(ebuf, "/nonexistent-dict"), "%s", ebuf);
    free(buf);
    free(ebuf);
}

/* ---- diagnoses in any code system (dict_codes.c, F39) -------------------- */

static const char *code_sens(const char *system, const char *code)
{
    return dict_code_sensitivity(D, slice_from_cstr(system),
                                 slice_from_cstr(code));
}

/* One classifier for every adapter: ICD-9-CM 291-292 and 303-305 (the
 * codes ICD-10's F10-F19 replaced) are sud in each of ICD-9-CM's names,
 * with and without the dot; the chapter's neighbours and other systems'
 * codes that look the same are not. */
Test(dict, icd9_cm_substance_use_codes_are_sud_in_every_name_of_icd9)
{
    static const char *const systems[] = {
        "http://hl7.org/fhir/sid/icd-9-cm", "2.16.840.1.113883.6.103",
        "urn:oid:2.16.840.1.113883.6.103", "2.16.840.1.113883.6.2",
        "I9", "i9cm", "ICD-9-CM", "I9CDX",
    };
    static const char *const sud[] = {
        "291", "291.81", "292.0", "303.90", "30390", "304.00", "305.1",
        "3051", "305.90",
    };
    static const char *const not_sud[] = {
        "290.0", "299.00", "315.9", "786.50", "303X", "30", "V11.3", "",
    };
    for (size_t s = 0; s < sizeof(systems) / sizeof(systems[0]); s++) {
        cr_assert(dict_is_icd9(slice_from_cstr(systems[s])), "%s",
                  systems[s]);
        for (size_t i = 0; i < sizeof(sud) / sizeof(sud[0]); i++) {
            const char *l = code_sens(systems[s], sud[i]);
            cr_assert(l && strcmp(l, "sud") == 0, "%s %s", systems[s],
                      sud[i]);
        }
        for (size_t i = 0; i < sizeof(not_sud) / sizeof(not_sud[0]); i++)
            cr_assert_null(code_sens(systems[s], not_sud[i]), "%s %s",
                           systems[s], not_sud[i]);
    }
    /* the same digits in another system, or in none, are no ICD-9 code */
    cr_assert_null(code_sens("http://hl7.org/fhir/sid/icd-10-cm", "303.90"));
    cr_assert_null(code_sens("http://snomed.info/sct", "303"));
    cr_assert_null(code_sens("", "303.90"));
    cr_assert(!dict_is_icd9(slice_from_cstr(" I9")));
    cr_assert(!dict_is_icd9(slice_from_cstr("ICD-10-CM")));
    /* no dictionary: ICD-9-CM still answers, the tables' systems do not */
    cr_assert_str_eq(dict_code_sensitivity(NULL, SLICE_LIT("I9"),
                                           SLICE_LIT("304.00")), "sud");
    cr_assert_null(dict_code_sensitivity(
        NULL, SLICE_LIT("http://hl7.org/fhir/sid/icd-10-cm"),
        SLICE_LIT("F11.20")));
}

/* F153: an ICD-9-CM psychiatric diagnosis carries the label the
 * dictionary gives its ICD-10-CM successor (CMS's general equivalence of
 * the two chapters 5): each pair below answers alike, psy or nothing, so
 * the frozen ICD-9-CM list follows the dictionary's decision (F80). */
Test(dict, icd9_cm_psychiatric_codes_answer_as_their_icd10_successors)
{
    static const char *const pairs[][2] = {
        { "295.30", "F20.0" },  { "296.20", "F32.9" },  { "296.7", "F31.9" },
        { "297.1", "F22" },     { "298.9", "F29" },     { "300.02", "F41.1" },
        { "300.4", "F34.1" },   { "301.83", "F60.3" },  { "302.85", "F64.1" },
        { "306.1", "F45.8" },   { "307.1", "F50.00" },  { "307.42", "F51.01" },
        { "308.3", "F43.0" },   { "309.81", "F43.10" }, { "311", "F32.A" },
        { "312.34", "F63.81" }, { "313.81", "F91.3" },  { "314.01", "F90.2" },
        { "316", "F54" },       { "V62.84", "R45.851" },
        /* not psy in either */
        { "290.0", "F03.90" },  { "294.10", "F02.80" }, { "299.00", "F84.0" },
        { "310.1", "F07.0" },   { "315.9", "F89" },     { "317", "F70" },
        { "319", "F79" },       { "V62.89", "R45.89" },
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        const char *l9 = code_sens("I9", pairs[i][0]);
        const char *l10 = code_sens("I10", pairs[i][1]);
        cr_expect((l9 == NULL) == (l10 == NULL) &&
                      (l9 == NULL || strcmp(l9, l10) == 0),
                  "%s (%s) vs %s (%s)", pairs[i][0], l9 ? l9 : "-",
                  pairs[i][1], l10 ? l10 : "-");
    }
    cr_assert_str_eq(code_sens("http://hl7.org/fhir/sid/icd-9-cm", "311"),
                     "psy");
    cr_assert_str_eq(code_sens("urn:oid:2.16.840.1.113883.6.103", "30981"),
                     "psy");
    cr_assert_str_eq(dict_code_sensitivity(NULL, SLICE_LIT("I9CDX"),
                                           SLICE_LIT("V62.84")), "psy");
    cr_assert_null(code_sens("I9", "V62"));
    cr_assert_null(code_sens("I9", "V6"));
}

/* ICD-10 and SNOMED CT go to the dictionary's tables, by URI or OID */
Test(dict, code_sensitivity_reads_icd10_and_snomed_by_uri_or_oid)
{
    cr_assert_str_eq(code_sens("http://hl7.org/fhir/sid/icd-10-cm",
                               "F11.20"), "sud");
    cr_assert_str_eq(code_sens("2.16.840.1.113883.6.90", "F10.20"), "sud");
    cr_assert_str_eq(code_sens("urn:oid:2.16.840.1.113883.6.90", "F1920"),
                     "sud");
    cr_assert_str_eq(code_sens("http://hl7.org/fhir/sid/icd-10", "F11.11"),
                     "sud");
    cr_assert_str_eq(code_sens("http://snomed.info/sct", "5602001"), "sud");
    cr_assert_str_eq(code_sens("2.16.840.1.113883.6.96", "66590003"), "sud");
    cr_assert_null(code_sens("http://hl7.org/fhir/sid/icd-10-cm", "Z59.0"));
    cr_assert_null(code_sens("http://loinc.org", "F11.20"));
}

/* F86: the German modification ICD-10-GM (MII, ISiK, KBV) shares WHO's
 * chapters and blocks: its F10.2 is a substance use disorder, its F32.1 a
 * depression. Before, its system was no ICD-10 to the dictionary and a
 * German Condition went out with no label. */
Test(dict, icd10_gm_is_labelled_as_icd10)
{
    cr_assert_str_eq(code_sens("http://fhir.de/CodeSystem/bfarm/icd-10-gm",
                               "F10.2"), "sud");
    cr_assert_str_eq(code_sens("http://fhir.de/CodeSystem/dimdi/icd-10-gm",
                               "F32.1"), "psy");
    cr_assert_null(code_sens("http://fhir.de/CodeSystem/bfarm/icd-10-gm",
                             "M73.04"));
    cr_assert(dict_is_icd10(SLICE_LIT("http://fhir.de/CodeSystem/bfarm/icd-10-gm")));
    cr_assert(!dict_is_icd10(SLICE_LIT("http://fhir.de/CodeSystem/bfarm/ops")));
}

/* ---- SNOMED CT findings to domains (snomed-domains.json) ------------------ */

static int load_sctdom(const char *text, const char *text2, struct dict_err *e,
                       struct dict **out)
{
    struct dict_file f[7] = {
        { "domains.json", DOMAINS, sizeof(DOMAINS) - 1 },
        { "instruments.json", INSTR, sizeof(INSTR) - 1 },
        { "zcodes.json", ZC, sizeof(ZC) - 1 },
        { "task-status.json", TS, sizeof(TS) - 1 },
        { "security-labels.json", SL, sizeof(SL) - 1 },
        { "snomed-domains.json", text, strlen(text) },
        { "snomed-domains.json", text2, text2 ? strlen(text2) : 0 },
    };
    return dict_load(f, text2 ? 7 : 6, out, e);
}

#define SCTDOM(sys, rows)                                                    \
    "{\"system\":\"" sys "\",\"codes\":[" rows "]}"
#define SCTROW(code, dom) \
    "{\"code\":\"" code "\",\"domain\":\"" dom "\",\"source\":\"s\"}"

/* The shipped table: each finding its named source pairs with a domain
 * (the file's `source` members), exact concepts only. */
Test(dict, snomed_findings_name_their_domain)
{
    static const struct {
        const char *code, *domain;
    } rows[] = {
        { "733423003", "food-insecurity" },
        { "445281000124101", "food-insecurity" },
        { "32911000", "homelessness" },
        { "1156191002", "housing-instability" },
        { "551721000124101", "transportation-insecurity" },
        { "160695008", "transportation-insecurity" },
        { "713458007", "transportation-insecurity" },
        { "266934004", "transportation-insecurity" },
        { "73438004", "employment-status" },
        { "1184702004", "financial-insecurity" },
        { "422650009", "social-connection" },
        { "423315002", "social-connection" },
        { "73595000", "stress" },
        { "706893006", "intimate-partner-violence" },
        /* F2662 (F2801): Synthea's onset on PRAPARE's incarceration Yes */
        { "266948004", "incarceration-status" },
        { "1137434003", "protective-factor" },
        { "467771000124109", "food-insecurity" },
        { "464031000124101", "food-insecurity" },
        { "467681000124101", "food-insecurity" },
        { "467751000124104", "food-insecurity" },
        { " 32911000 ", "homelessness" },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *dom = dict_snomed_domain(D, slice_from_cstr(rows[i].code));
        cr_assert_not_null(dom, "%s", rows[i].code);
        cr_assert_str_eq(dom, rows[i].domain, "%s", rows[i].code);
    }
    cr_assert_eq(dict_rows_count(D, DICT_T_SNOMED_DOMAINS), 20);
    /* left out on purpose: no one domain, or not a need */
    cr_assert_null(dict_snomed_domain(D, SLICE_LIT("105531004")),
                   "Housing unsatisfactory: instability or inadequate housing");
    cr_assert_null(dict_snomed_domain(D, SLICE_LIT("699653008")),
                   "Inadequate oral food intake: clinical as often as social");
    cr_assert_null(dict_snomed_domain(D, SLICE_LIT("160903007")),
                   "Full-time employment");
    cr_assert_null(dict_snomed_domain(D, SLICE_LIT("710925007")),
                   "Provision of food: a hospital's meals as well");
    cr_assert_null(dict_snomed_domain(D, SLICE_LIT("461481000124109")),
                   "Referral to peer support: behavioural health as often");
    cr_assert_null(dict_snomed_domain(D, SLICE_LIT("")));
    cr_assert_null(dict_snomed_domain(D, SLICE_LIT("Z59.0")));
}

Test(dict_load, snomed_domain_rows_are_checked)
{
    struct dict *d;
    struct dict_err e;
    cr_assert_eq(load_sctdom(SCTDOM("http://snomed.info/sct",
                                    SCTROW("733423003", "food-insecurity")),
                             NULL, &e, &d), HUB_OK, "%s %s", e.path, e.what);
    cr_assert_str_eq(dict_snomed_domain(d, SLICE_LIT("733423003")),
                     "food-insecurity");
    struct dict_row r;
    cr_assert(dict_rows_at(d, DICT_T_SNOMED_DOMAINS, 0, &r));
    cr_assert_str_eq(r.lo, "733423003");
    cr_assert_str_eq(r.value, "food-insecurity");
    dict_free(d);

    static const struct {
        const char *text, *path, *what;
    } bad[] = {
        { SCTDOM("http://snomed.info/sct", SCTROW("733423004", "food-insecurity")),
          "/codes/0/code", "not a SNOMED CT identifier" },      /* check digit */
        { SCTDOM("http://snomed.info/sct", SCTROW("733423003", "housing")),
          "/codes/0/domain", "domain is not in domains.json" },
        { SCTDOM("http://snomed.info/sct",
                 SCTROW("733423003", "food-insecurity") ","
                 SCTROW("733423003", "food-insecurity")),
          "/codes", "duplicate code" },
        { SCTDOM("http://hl7.org/fhir/sid/icd-10-cm",
                 SCTROW("733423003", "food-insecurity")),
          "/system", "only SNOMED CT concepts are read" },
        /* where a row comes from is part of it */
        { SCTDOM("http://snomed.info/sct",
                 "{\"code\":\"733423003\",\"domain\":\"food-insecurity\"}"),
          "/codes/0/source", "required member is missing" },
        { SCTDOM("http://snomed.info/sct",
                 "{\"code\":\"733423003\",\"domain\":\"food-insecurity\","
                 "\"source\":\"s\",\"label\":\"sud\"}"),
          "/codes/0/label", "unknown member" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        d = (struct dict *)1;
        cr_assert_eq(load_sctdom(bad[i].text, NULL, &e, &d), HUB_EINVALID,
                     "case %zu: %s %s", i, e.path, e.what ? e.what : "");
        cr_assert_null(d);
        cr_assert_str_eq(e.file, "snomed-domains.json", "case %zu", i);
        cr_assert_str_eq(e.path, bad[i].path, "case %zu", i);
        cr_assert_str_eq(e.what, bad[i].what, "case %zu", i);
    }
    /* one table only: a second would leave which row wins to file order */
    static const char one[] = SCTDOM("http://snomed.info/sct", "");
    cr_assert_eq(load_sctdom(one, one, &e, &d), HUB_EINVALID);
    cr_assert_str_eq(e.what, "file given twice");
}

/* Question wordings (F218): words compared without case, whatever
 * punctuation and white space lie between them; never a prefix. */
Test(dict, question_wording_compares_by_words)
{
    cr_assert(dict_text_eq(SLICE_LIT("  feeling DOWN depressed or hopeless"),
                           "Feeling down, depressed, or hopeless?"));
    cr_assert(dict_text_eq(SLICE_LIT("didn\xe2\x80\x99t last"), "didn't last"));
    cr_assert(!dict_text_eq(SLICE_LIT("Feeling down"),
                            "Feeling down, depressed, or hopeless?"));
    cr_assert(!dict_text_eq(SLICE_LIT("Feeling down, depressed, or hopeless,"
                                      " often"),
                            "Feeling down, depressed, or hopeless?"));
    cr_assert(!dict_text_eq(SLICE_LIT("feelingdown"), "feeling down"));
    cr_assert(!dict_text_eq(SLICE_LIT("feeling downs"), "feeling down"));
    cr_assert(!dict_text_eq(SLICE_LIT("feeling dow"), "feeling down"));
    cr_assert(dict_text_eq(SLICE_LIT(""), ""));
}

/* The shipped dictionary reads the CMS AHC HRSN tool's printed questions,
 * the LOINC names and PRAPARE's, each as its own code; with no instrument,
 * the same code in two instruments is one answer, not an ambiguity. */
Test(dict, shipped_question_wordings_read_as_their_codes)
{
    const struct dict *d = D;
    static const struct { const char *text, *code, *inst; } cases[] = {
        { "Think about the place you live. Do you have problems with any of "
          "the following?", "96778-6", "96777-8" },
        { "within the past 12 months, you worried that your food would run "
          "out before you got money to buy more", "88122-7", NULL },
        { "Within the past 12 months we worried whether our food would run "
          "out before we got money to buy more", "88122-7", "88121-9" },
        { "How often does anyone, including family and friends, threaten you "
          "with harm?", "95616-9", "NYSAHCHRSN" },
        { "Stress level", "93038-8", NULL },
        { "Stress is when someone feels tense, nervous, anxious or can't "
          "sleep at night because their mind is troubled. How stressed are "
          "you?", "93038-8", "93025-5" },
        { "Are you worried about losing your housing?", "93033-9", NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct dict_instrument *in = cases[i].inst
            ? dict_instrument_find(d, slice_from_cstr(cases[i].inst)) : NULL;
        bool amb = true;
        const struct dict_item *it = dict_item_by_text(
            d, in, slice_from_cstr(cases[i].text), &amb);
        cr_assert_not_null(it, "%s", cases[i].text);
        cr_assert_str_eq(it->question, cases[i].code);
        cr_assert(!amb);
    }
    /* PRAPARE's stress wording is not the AHC tool's */
    bool amb;
    cr_assert_null(dict_item_by_text(
        d, dict_instrument_find(d, SLICE_LIT("96777-8")),
        SLICE_LIT("Stress is when someone feels tense, nervous, anxious or "
                  "can't sleep at night because their mind is troubled. How "
                  "stressed are you?"), &amb));
    cr_assert(!amb);
    cr_assert_null(dict_item_by_text(d, NULL, SLICE_LIT("How are you?"), &amb));
    cr_assert(!amb);
}

/* A table longer than DICT_MAX_ROWS is refused naming its member (F1840):
 * the prescan refused it first, at "/", with its own words, so `hubctl
 * dict check` named no table; one row more and 40,000 more alike. */
Test(dict_load, a_table_too_long_is_named)
{
    size_t rows[] = { DICT_MAX_ROWS + 1, DICT_MAX_ROWS * 3 };
    for (size_t k = 0; k < 2; k++) {
        size_t n = rows[k], cap = 64 + 2 * n;
        char *text = malloc(cap);
        cr_assert_not_null(text);
        size_t o = (size_t)snprintf(text, cap, "{\"statuses\":[");
        for (size_t i = 0; i < n; i++) {
            text[o++] = '0';
            text[o++] = i + 1 < n ? ',' : ']';
        }
        text[o++] = '}';
        text[o] = '\0';
        struct dict *d = NULL;
        struct dict_err e;
        cr_assert_eq(load_with("task-status.json", text, &e, &d), HUB_ELIMIT,
                     "%zu: %s %s", n, e.path, e.what ? e.what : "");
        cr_assert_null(d);
        cr_assert_str_eq(e.file, "task-status.json");
        cr_assert_str_eq(e.path, "/statuses", "%zu", n);
        cr_assert_str_eq(e.what, "array has more than 20000 rows");
        free(text);
    }
    /* DICT_MAX_ROWS rows pass the count (and are then read row by row:
     * a 0 is no status) */
    size_t n = DICT_MAX_ROWS, cap = 64 + 2 * n;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    size_t o = (size_t)snprintf(text, cap, "{\"statuses\":[");
    for (size_t i = 0; i < n; i++) {
        text[o++] = '0';
        text[o++] = i + 1 < n ? ',' : ']';
    }
    text[o++] = '}';
    text[o] = '\0';
    struct dict *d = NULL;
    struct dict_err e;
    cr_assert_eq(load_with("task-status.json", text, &e, &d), HUB_EINVALID);
    cr_assert_str_eq(e.path, "/statuses/0", "%s", e.what);
    free(text);
}

/* Every adapter's label set holds DICT_MAX_LABELS labels, restricted
 * counted: a dictionary naming more would make an event lose one and reach
 * a subscription not granted it (F781), so it is refused where the one
 * too many is named, in whichever table. */
Test(dict_load, no_more_distinct_labels_than_an_event_carries)
{
    static const char seven[] =
        "{\"labels\":[{\"code\":\"A\",\"label\":\"a\"},{\"code\":\"B\","
        "\"label\":\"b\"},{\"code\":\"C\",\"label\":\"c\"},{\"code\":\"D\","
        "\"label\":\"d\"},{\"code\":\"E\",\"label\":\"e\"},{\"code\":\"F\","
        "\"label\":\"f\"},{\"code\":\"G\",\"label\":\"g\"},{\"code\":\"R\","
        "\"label\":\"restricted\"},{\"code\":\"A2\",\"label\":\"a\"}]}";
    static const char eight[] =
        "{\"labels\":[{\"code\":\"A\",\"label\":\"a\"},{\"code\":\"B\","
        "\"label\":\"b\"},{\"code\":\"C\",\"label\":\"c\"},{\"code\":\"D\","
        "\"label\":\"d\"},{\"code\":\"E\",\"label\":\"e\"},{\"code\":\"F\","
        "\"label\":\"f\"},{\"code\":\"G\",\"label\":\"g\"},{\"code\":\"H\","
        "\"label\":\"h\"}]}";
    static const char seven_and_loinc[] =
        "{\"labels\":[{\"code\":\"A\",\"label\":\"a\"},{\"code\":\"B\","
        "\"label\":\"b\"},{\"code\":\"C\",\"label\":\"c\"},{\"code\":\"D\","
        "\"label\":\"d\"},{\"code\":\"E\",\"label\":\"e\"},{\"code\":\"F\","
        "\"label\":\"f\"},{\"code\":\"G\",\"label\":\"g\"}],"
        "\"loinc\":[{\"code\":\"44260-8\",\"label\":\"g\"},"
        "{\"code\":\"44261-6\",\"label\":\"h\"}]}";
    struct dict *d;
    struct dict_err e;
    cr_assert_eq(load_with("security-labels.json", seven, &e, &d), HUB_OK,
                 "%s %s", e.path, e.what ? e.what : "");
    dict_free(d);
    cr_assert_eq(load_with("security-labels.json", eight, &e, &d), HUB_ELIMIT);
    cr_assert_null(d);
    cr_assert_str_eq(e.path, "/labels/7/label");
    cr_assert_eq(load_with("security-labels.json", seven_and_loinc, &e, &d),
                 HUB_ELIMIT);
    cr_assert_str_eq(e.path, "/loinc/1/label");
    cr_assert_str_eq(e.what, "more distinct sensitivity labels than an event "
                             "can carry (8, restricted counted)");
    /* HL7 v2 access restriction values count too (F940) */
    static const char seven_and_0717[] =
        "{\"labels\":[{\"code\":\"A\",\"label\":\"a\"},{\"code\":\"B\","
        "\"label\":\"b\"},{\"code\":\"C\",\"label\":\"c\"},{\"code\":\"D\","
        "\"label\":\"d\"},{\"code\":\"E\",\"label\":\"e\"},{\"code\":\"F\","
        "\"label\":\"f\"},{\"code\":\"G\",\"label\":\"g\"}],"
        "\"v2-0717\":[{\"code\":\"HIV\",\"label\":\"g\"},"
        "{\"code\":\"PSY\",\"label\":\"h\"}]}";
    cr_assert_eq(load_with("security-labels.json", seven_and_0717, &e, &d),
                 HUB_ELIMIT);
    cr_assert_str_eq(e.path, "/v2-0717/1/label");
}

/* F940: HL7 v2 table 0717's access restriction values that name a
 * sensitive kind of data, to the hub's labels (schemas/dict
 * security-labels.json "v2-0717"): any case, a code with several labels
 * gives each, the rest none */
Test(dict, access_restriction_values_map_to_hub_sensitivity)
{
    const char *l[DICT_MAX_LABELS];
    size_t n = dict_access_restriction_labels(D, SLICE_LIT("HIV"), l, 8);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(l[0], "hiv");
    n = dict_access_restriction_labels(D, SLICE_LIT(" drg "), l, 8);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(l[0], "sud");
    n = dict_access_restriction_labels(D, SLICE_LIT("Title38Section7332"), l,
                                       8);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(l[0], "sud");
    cr_assert_str_eq(l[1], "hiv");
    cr_assert_eq(dict_access_restriction_labels(D, SLICE_LIT("Title38Section7332"),
                                                l, 1), 1);
    static const char *const none[] = { "DEM", "LOC", "ALL", "SMD", "NO", "OI",
                                        "OO", "HI", "HIVS", "PID-7" };
    for (size_t k = 0; k < sizeof(none) / sizeof(none[0]); k++)
        cr_expect_eq(dict_access_restriction_labels(
                         D, (struct slice){ none[k], strlen(none[k]) }, l, 8),
                     0, "%s", none[k]);
    /* a NUL inside the value is no shorter code */
    cr_expect_eq(dict_access_restriction_labels(
                     D, (struct slice){ "HIV\0X", 5 }, l, 8), 0);
    cr_assert_eq(dict_rows_count(D, DICT_T_V2_0717), 11);
    struct dict_row r;
    cr_assert(dict_rows_at(D, DICT_T_V2_0717, 0, &r));
    cr_assert_str_eq(r.lo, "HIV");
    cr_assert_str_eq(r.value, "hiv");
    cr_assert_str_eq(r.system, "http://terminology.hl7.org/CodeSystem/v2-0717");
}

/* ---- F2860: a screening with items the dictionary cannot place ------------ */

/* Each instrument knows, from load, every label an answer to its items or
 * its total can imply (security-labels.json "loinc"). */
Test(dict, each_instrument_knows_the_labels_its_items_can_carry)
{
    static const struct { const char *inst, *label; } want[] = {
        { "96777-8", "sdv" },   /* AHC: HITS items and the 95614-4 total */
        { "NYSAHCHRSN", "sdv" },
        { "93025-5", "sdv" },   /* PRAPARE: 76501-6 afraid of a partner */
        { "76499-3", "sdv" },   /* HARK */
        { "88121-9", NULL },    /* Hunger Vital Sign: nothing sensitive */
        { "97023-6", NULL },
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
        const struct dict_instrument *in =
            dict_instrument_find(D, slice_from_cstr(want[i].inst));
        cr_assert_not_null(in, "%s", want[i].inst);
        cr_assert_eq(in->n_labels, want[i].label ? 1u : 0u, "%s",
                     want[i].inst);
        if (want[i].label)
            cr_assert_str_eq(in->labels[0], want[i].label);
    }
}

/* An answered item of a known instrument that the dictionary cannot place
 * (a link id of the sender's own form) may be its safety question: the
 * screening carries the label, and says why. All placed: as before. */
Test(dict, an_unplaced_item_gives_the_labels_of_the_questions_not_placed)
{
    /* MyCarePlanner's AHC response: link ids only */
    struct resp unplaced[] = {
        { "123825", { "LA10066-1" }, 0, false },
        { "123821", { "LA31994-9" }, 0, false },
    };
    struct dict_scoring s = score("96777-8", unplaced, 2);
    cr_assert_eq(s.n_labels, 1);
    cr_assert_str_eq(s.labels[0], "sdv");
    cr_assert(s.unplaced_labelled);

    /* every item placed, the safety ones answered Never: no label */
    struct resp placed[] = {
        { "71802-3", { "LA31993-1" }, 0, false },
        { "95618-5", { "LA6270-8" }, 0, false },
        { "95617-7", { "LA6270-8" }, 0, false },
        { "95616-9", { "LA6270-8" }, 0, false },
        { "95615-1", { "LA6270-8" }, 0, false },
    };
    s = score("96777-8", placed, 5);
    cr_assert_eq(s.n_labels, 0);
    cr_assert_not(s.unplaced_labelled);
    /* Frequently: labelled by its own answer, not for want of placing */
    placed[1].ans[0] = "LA6482-9";
    s = score("96777-8", placed, 5);
    cr_assert_eq(s.n_labels, 1);
    cr_assert_str_eq(s.labels[0], "sdv");
    cr_assert_not(s.unplaced_labelled);

    /* an unplaced item beside every labelled question placed cannot be
     * one of them (PRAPARE's full form: race 32624-9 is not the
     * dictionary's, 76501-6 answered No) */
    struct resp prapare[] = {
        { "32624-9", { "LA14042-8" }, 0, false },
        { "76501-6", { "LA32-8" }, 0, false },
    };
    s = score("93025-5", prapare, 2);
    cr_assert_eq(s.n_labels, 0);
    cr_assert_not(s.unplaced_labelled);
    /* ... but with 76501-6 left out it may be that question */
    s = score("93025-5", prapare, 1);
    cr_assert_eq(s.n_labels, 1);
    cr_assert(s.unplaced_labelled);

    /* not answered: discloses nothing */
    struct resp empty[] = { { "123825", { NULL }, 0, true } };
    s = score("96777-8", empty, 1);
    cr_assert_eq(s.n_labels, 0);
    cr_assert_not(s.unplaced_labelled);
    /* the sender's own total is placed (a sum's code) */
    struct resp total[] = { { "95614-4", { NULL }, 6, false } };
    s = score("96777-8", total, 1);
    cr_assert_not(s.unplaced_labelled);
    /* no instrument, or one with no label: nothing added */
    s = score(NULL, unplaced, 2);
    cr_assert_eq(s.n_labels, 0);
    cr_assert_not(s.unplaced_labelled);
    s = score("88121-9", unplaced, 2);
    cr_assert_eq(s.n_labels, 0);
    cr_assert_not(s.unplaced_labelled);
}

/* r189's probes of F2860's rule (each passed as written: no finding). A
 * total whose labelled parts are placed but whose other parts are not can
 * still be past its `above` by the unplaced item; every part placed, an
 * item of another instrument, a derived item or a question padded with
 * blanks is placed or known, and adds nothing; an answer with no question
 * at all may be any question of the instrument. */
Test(dict, an_unplaced_item_is_held_to_the_totals_and_items_it_may_be)
{
    /* HITS 95618-5 and 95616-9 (the labelled ones) Never, 95617-7 and
     * 95615-1 not sent: the unplaced item may be one of those, and the
     * total 95614-4 past its `above` is "sdv" */
    struct resp two[] = {
        { "95618-5", { "LA6270-8" }, 0, false },
        { "95616-9", { "LA6270-8" }, 0, false },
        { "123825", { "LA6482-9" }, 0, false },
    };
    struct dict_scoring s = score("96777-8", two, 3);
    cr_assert_eq(s.n_labels, 1);
    cr_assert_str_eq(s.labels[0], "sdv");
    cr_assert(s.unplaced_labelled);

    /* all four HITS placed (one padded), an item of the Hunger Vital Sign,
     * its derived risk and an unplaced link id: nothing added */
    struct resp all[] = {
        { " 95618-5 ", { "LA6270-8" }, 0, false },
        { "95617-7", { "LA6270-8" }, 0, false },
        { "95616-9", { "LA6270-8" }, 0, false },
        { "95615-1", { "LA6270-8" }, 0, false },
        { "88122-7", { "LA28397-0" }, 0, false },
        { "88124-3", { "LA19952-3" }, 0, false },
        { "123825", { "LA6482-9" }, 0, false },
    };
    s = score("96777-8", all, 7);
    cr_assert_eq(s.n_labels, 0);
    cr_assert_not(s.unplaced_labelled);
    /* the HVS item and the derived one alone beside them: placed, known */
    s = score("96777-8", all, 6);
    cr_assert_eq(s.n_labels, 0);
    cr_assert_not(s.unplaced_labelled);

    /* an answer with no question may be any question not placed */
    struct resp none[] = { { "", { "LA6482-9" }, 0, false } };
    s = score("96777-8", none, 1);
    cr_assert_eq(s.n_labels, 1);
    cr_assert(s.unplaced_labelled);
}
