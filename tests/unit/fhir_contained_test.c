/*
 * fhir_contained_test.c - fx_contained, the look-up of a local reference
 * "#id" among a resource's contained resources (F3308): a long array is
 * indexed once, so N references to N contained resources cost about N
 * comparisons, not N²/2; and it finds what the plain scan found: the
 * first member of an id, case-sensitive, never a member without a
 * string id.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "fhir/fhir_int.h"

static struct arena A;

static void setup(void)
{
    arena_init(&A, 64 * 1024);
}

static void teardown(void)
{
    arena_release(&A);
}

TestSuite(fhir_contained, .init = setup, .fini = teardown);

/* {"contained":[...]} of n Conditions "c0".."c{n-1}" (the caller
 * deletes it) */
static cJSON *conditions(int n)
{
    cJSON *res = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(
                                           res, "contained");
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c%d", i);
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "resourceType", "Condition");
        cJSON_AddStringToObject(c, "id", id);
        cJSON_AddItemToArray(arr, c);
    }
    return res;
}

/* The look-up as it was before the index: a scan, the first member
 * whose string id is ref's tail */
static const cJSON *scan(const cJSON *res, const char *ref, size_t *idx)
{
    if (ref == NULL || ref[0] != '#' || ref[1] == '\0')
        return NULL;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(res, "contained");
    size_t i = 0;
    for (const cJSON *c = cJSON_IsArray(arr) ? arr->child : NULL; c;
         c = c->next, i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
        if (cJSON_IsObject(c) && cJSON_IsString(id) &&
            strcmp(id->valuestring, ref + 1) == 0) {
            *idx = i;
            return c;
        }
    }
    return NULL;
}

#define MANY 4000

/* Every one of MANY contained Conditions named once: a scan compares
 * MANY²/2 ids (8 million), the index a few per reference */
Test(fhir_contained, a_long_array_is_looked_up_without_a_scan)
{
    cJSON *res = conditions(MANY);
    struct fx x = { .a = &A };
    for (int i = MANY - 1; i >= 0; i--) {
        char ref[16];
        size_t idx = 0;
        snprintf(ref, sizeof(ref), "#c%d", i);
        const cJSON *c = fx_contained(&x, res, ref, &idx);
        cr_assert_not_null(c, "%s not found", ref);
        cr_assert_eq(idx, (size_t)i);
        cr_assert_str_eq(cJSON_GetObjectItem(c, "id")->valuestring, ref + 1);
    }
    cr_assert_null(fx_contained(&x, res, "#c4000", NULL));
    cr_assert_leq(x.contained_cmps, (size_t)16 * (MANY + 1),
                  "%zu ids compared for %d references", x.contained_cmps,
                  MANY + 1);
    cJSON_Delete(res);
}

/* An array with all that a scan passes by or finds first: duplicated ids
 * (both among the first members, across where the index starts, and
 * both past it), ids that differ in case alone, members that are no
 * object, have no id or one that is no string, an empty id */
static cJSON *awkward(int n)
{
    cJSON *res = conditions(n);
    cJSON *arr = cJSON_GetObjectItem(res, "contained");
    const char *extra[] = { "\"just a string\"", "12", "[{\"id\":\"c1\"}]",
        "{\"resourceType\":\"Patient\"}", "{\"id\":3}", "{\"id\":\"\"}",
        "{\"id\":\"C1\"}", "{\"id\":\"c1\",\"dup\":1}",
        "{\"id\":\"late\",\"dup\":1}", "{\"id\":\"late\",\"dup\":2}",
        "{\"id\":\"c3\",\"dup\":2}", "{\"id\":null}" };
    for (size_t k = 0; k < sizeof(extra) / sizeof(*extra); k++) {
        cJSON *c = cJSON_Parse(extra[k]);
        cr_assert_not_null(c);
        /* spread them through the array, some among the first eight */
        size_t at = (k * 7) % (size_t)(n + 1);
        /* cJSON 1.7.15 refuses an insertion at the end of some arrays
         * (the item was then neither placed nor freed): appended */
        cr_assert(cJSON_InsertItemInArray(arr, (int)at, c) ||
                  cJSON_AddItemToArray(arr, c));
    }
    cr_assert_eq(cJSON_GetArraySize(arr), n + 12, "every extra member placed");
    return res;
}

Test(fhir_contained, it_finds_what_a_scan_finds)
{
    const char *refs[] = { "#c0", "#c1", "#C1", "#c3", "#c7", "#c8", "#c9",
        "#c20", "#c39", "#c40", "#late", "#", "", "c1", "#3", "#just a string",
        "#C", "#c", "#c10x", NULL };
    for (int n = 0; n <= 40; n++) {
        cJSON *res = awkward(n), *other = awkward(40 - n);
        struct fx x = { .a = &A };
        /* twice over, and two resources in turn: the index made on the
         * first look-up past the scan serves the later ones */
        for (int round = 0; round < 2; round++)
            for (size_t k = 0; k < sizeof(refs) / sizeof(*refs); k++) {
                const cJSON *hosts[] = { res, other };
                for (size_t h = 0; h < 2; h++) {
                    size_t want_i = 99999, got_i = 99999;
                    const cJSON *want = scan(hosts[h], refs[k], &want_i);
                    const cJSON *got = fx_contained(&x, hosts[h], refs[k],
                                                    &got_i);
                    cr_assert_eq(got, want, "n=%d host %zu %s", n, h,
                                 refs[k] ? refs[k] : "(null)");
                    cr_assert_eq(got_i, want_i, "n=%d host %zu %s: at %zu, "
                                 "not %zu", n, h, refs[k], got_i, want_i);
                }
            }
        cJSON_Delete(res);
        cJSON_Delete(other);
    }
}

/* A resource with no contained array, or one that is no array */
Test(fhir_contained, no_array_finds_nothing)
{
    struct fx x = { .a = &A };
    cJSON *a = cJSON_Parse("{\"id\":\"c1\"}");
    cJSON *b = cJSON_Parse("{\"contained\":{\"id\":\"c1\"}}");
    cr_assert_null(fx_contained(&x, a, "#c1", NULL));
    cr_assert_null(fx_contained(&x, b, "#c1", NULL));
    cr_assert_null(fx_contained(&x, NULL, "#c1", NULL));
    cJSON_Delete(a);
    cJSON_Delete(b);
}
