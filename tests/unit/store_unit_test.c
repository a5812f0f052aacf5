/*
 * store_unit_test.c - the parts of the store that need no database: ids,
 * hashes, scope lists, and the checks made before any round trip.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "store.h"

Test(store_scopes, parses_a_list_and_formats_it_back)
{
    unsigned bits = 99;
    char out[128];

    cr_assert_eq(store_scopes_parse("ingest,admin", &bits), HUB_OK);
    cr_assert_eq(bits, SCOPE_INGEST | SCOPE_ADMIN);
    store_scopes_format(bits, out, sizeof(out));
    cr_assert_str_eq(out, "ingest,admin");
    cr_assert_eq(store_scopes_parse("", &bits), HUB_OK);
    cr_assert_eq(bits, 0);
    cr_assert_eq(store_scopes_parse(NULL, &bits), HUB_OK);
    cr_assert_eq(bits, 0);
}

Test(store_scopes, rejects_unknown_and_prefix_names)
{
    unsigned bits = 0;

    cr_assert_eq(store_scopes_parse("ingest,root", &bits), HUB_EINVALID);
    cr_assert_eq(store_scopes_parse("ing", &bits), HUB_EINVALID);
    cr_assert_eq(store_scopes_parse("ingestx", &bits), HUB_EINVALID);
}

Test(store_scopes, format_truncates_without_overflow)
{
    char out[8];

    store_scopes_format(SCOPE_INGEST | SCOPE_SUBSCRIBE, out, sizeof(out));
    cr_assert_str_eq(out, "ingest");
}

Test(store_id, is_26_crockford_chars_and_unique)
{
    char a[STORE_ID_LEN + 1], b[STORE_ID_LEN + 1];

    store_new_id(a);
    store_new_id(b);
    cr_assert_eq(strlen(a), STORE_ID_LEN);
    cr_assert_eq(strspn(a, "0123456789ABCDEFGHJKMNPQRSTVWXYZ"), STORE_ID_LEN);
    cr_assert(a[0] >= '0' && a[0] <= '7', "128 bits: first digit holds 3");
    cr_assert_str_neq(a, b);
    /* same millisecond or the next: the 10-char time prefix never goes back */
    cr_assert_leq(strncmp(a, b, 10), 0);
}

Test(store_sha256, matches_the_known_vector)
{
    char hex[65];

    store_sha256_hex("abc", 3, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
                          "b00361a396177a9cb410ff61f20015ad");
}

Test(store_connect, refuses_an_empty_url_without_trying)
{
    struct store *s = (struct store *)1;

    cr_assert_eq(store_connect("", &s), HUB_EINVALID);
    cr_assert_null(s);
}

Test(store_ingest, refuses_a_batch_over_the_limit_before_any_round_trip)
{
    size_t n = STORE_BATCH_MAX + 1;
    struct store_msg *m = calloc(n, sizeof(*m));
    struct store_msg_result *r = calloc(n, sizeof(*r));

    cr_assert_eq(store_ingest_batch(NULL, m, n, r), HUB_ELIMIT);
    free(m);
    free(r);
}

Test(store_ingest, refuses_a_message_without_org_before_any_round_trip)
{
    struct store_msg m = { .format = "hl7v2" };
    struct store_msg_result r;

    cr_assert_eq(store_ingest_batch(NULL, &m, 1, &r), HUB_EINVALID);
}
