/*
 * jcanon_test.c - jsonb's text form made in C (hub/jcanon.c): key order,
 * duplicates, spacing, escapes, what is left to PostgreSQL, and finding
 * patient.hub_id again in the result. (tests/integration/jcanon_test.c
 * compares it with PostgreSQL itself.)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jcanon.h"

static void expect(const char *in, const char *want)
{
    struct arena a;
    struct slice out;

    arena_init(&a, 1024);
    cr_assert(jcanon(&a, in, strlen(in), &out), "refused: %s", in);
    cr_assert(out.len == strlen(want) && memcmp(out.p, want, out.len) == 0,
              "%s -> %.*s, want %s", in, (int)out.len, out.p, want);
    arena_release(&a);
}

static void refuse(const char *in)
{
    struct arena a;
    struct slice out;

    arena_init(&a, 1024);
    cr_assert_not(jcanon(&a, in, strlen(in), &out), "accepted: %s", in);
    arena_release(&a);
}

Test(jcanon, sorts_keys_shorter_first_then_bytewise)
{
    expect("{\"bb\":1,\"a\":2,\"c\":3,\"B\":4}",
           "{\"B\": 4, \"a\": 2, \"c\": 3, \"bb\": 1}");
}

Test(jcanon, keeps_the_last_of_duplicate_keys)
{
    expect("{\"id\":\"x\",\"n\":1,\"id\":\"y\"}", "{\"n\": 1, \"id\": \"y\"}");
}

Test(jcanon, sorts_nested_objects_and_keeps_array_order)
{
    expect(" { \"z\" : [ 3 , {\"b\":1,\"a\":[]} , 1 ] , \"y\" : {} } ",
           "{\"y\": {}, \"z\": [3, {\"a\": [], \"b\": 1}, 1]}");
}

Test(jcanon, escapes_as_escape_json_does)
{
    expect("[\"a\\/b\\u0041\\u001f\\u007f\\\"\\\\\\t\"]",
           "[\"a/bA\\u001f\x7f\\\"\\\\\\t\"]");
    expect("{\"\\u0062\":1,\"a\":2}", "{\"a\": 2, \"b\": 1}");
}

Test(jcanon, keeps_numbers_as_numeric_prints_them)
{
    expect("[0,-1.50,12345678901234567890]",
           "[0, -1.50, 12345678901234567890]");
}

Test(jcanon, leaves_what_it_does_not_reproduce_to_postgresql)
{
    refuse("1e3");
    refuse("-0");
    refuse("[-0.00]");
    refuse("\"\\u00e9\"");
    refuse("\"\\u0000\"");
    refuse("\"\xff\"");
    refuse("{\"a\":1,}");
    refuse("truex");
    refuse("{} {}");
    refuse("\"tab\there\"");
}

Test(jcanon, refuses_nesting_past_its_depth)
{
    char deep[2 * JCANON_MAX_DEPTH + 8];
    size_t n = 0;

    for (int i = 0; i < JCANON_MAX_DEPTH + 1; i++)
        deep[n++] = '[';
    for (int i = 0; i < JCANON_MAX_DEPTH + 1; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    refuse(deep);
    expect("[[[]]]", "[[[]]]");
}

Test(jcanon, finds_patient_hub_id_in_canonical_text)
{
    const char *t = "{\"id\": \"e\", \"patient\": {\"x\": [\"hub_id\"], "
                    "\"hub_id\": \"ABC\"}, \"source\": {\"hub_id\": \"no\"}}";
    size_t at = 0;

    cr_assert(jcanon_find_str(t, strlen(t), "patient", "hub_id", &at));
    cr_assert_eq(memcmp(t + at, "ABC\"", 4), 0);
    cr_assert_not(jcanon_find_str(t, strlen(t), "patient", "y", &at));
    cr_assert_not(jcanon_find_str(t, strlen(t), "nobody", "hub_id", &at));
}

/* F1362: members were sorted by insertion sort, quadratic when they come
 * in reverse of jsonb's order: 100,000 of them took minutes */
Test(jcanon, sorts_many_members_in_reverse_order_in_time)
{
    enum { N = 100000 };
    size_t cap = (size_t)N * 16 + 2, n = 0;
    char *in = malloc(cap);
    struct arena a;
    struct slice out;
    struct timespec t0, t1;

    cr_assert_not_null(in);
    in[n++] = '{';
    for (int i = N - 1; i >= 0; i--)
        n += (size_t)snprintf(in + n, cap - n, "\"k%d\":%d%s", i, i,
                              i ? "," : "}");
    arena_init(&a, 1 << 20);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert(jcanon(&a, in, n, &out));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_expect_lt(s, 2.0, "%.2f s", s);
    static const char head[] = "{\"k0\": 0, \"k1\": 1, ";
    cr_expect_eq(memcmp(out.p, head, sizeof(head) - 1), 0, "%.30s", out.p);
    cr_expect_eq(memcmp(out.p + out.len - 16, "\"k99999\": 99999}", 16), 0,
                 "%.16s", out.p + out.len - 16);
    arena_release(&a);
    free(in);
}
