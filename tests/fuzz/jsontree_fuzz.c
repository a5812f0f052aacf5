/*
 * jsontree_fuzz.c - libFuzzer harness for jsontree_parse: the one pass,
 * when it decides, builds the tree cJSON builds (every field and link);
 * jsontree_parse gives exactly what json_prescan + cJSON give (result,
 * reason, field, byte offset, tree), and what it notes (a member name twice
 * in an object, a watched name) is what a walk of cJSON's tree finds. Two
 * sets of limits: FHIR's, and small ones so that every limit is met often.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/jsontree.h"

static bool same_tree(const cJSON *x, const cJSON *y)
{
    for (; x && y; x = x->next, y = y->next) {
        if (x->type != y->type || x->valueint != y->valueint ||
            memcmp(&x->valuedouble, &y->valuedouble, sizeof(double)) != 0 ||
            (x->string == NULL) != (y->string == NULL) ||
            (x->string && strcmp(x->string, y->string) != 0) ||
            (x->valuestring == NULL) != (y->valuestring == NULL) ||
            (x->valuestring && strcmp(x->valuestring, y->valuestring) != 0) ||
            (x->child == NULL) != (y->child == NULL))
            return false;
        if (x->child) {
            const cJSON *lx = x->child, *ly = y->child;
            while (lx->next && ly->next) {
                if (lx->next->prev != lx || ly->next->prev != ly)
                    return false;
                lx = lx->next;
                ly = ly->next;
            }
            if (x->child->prev != lx || y->child->prev != ly ||
                !same_tree(x->child, y->child))
                return false;
        }
    }
    return x == NULL && y == NULL;
}

/* The walk jsontree_notes spares its callers. */
static void walk_names(const cJSON *n, const char *watch, bool *rep,
                       bool *seen)
{
    for (const cJSON *c = n->child; c; c = c->next) {
        if (cJSON_IsObject(n)) {
            if (strcmp(c->string, watch) == 0)
                *seen = true;
            for (const cJSON *d = n->child; d != c && !*rep; d = d->next)
                if (strcmp(d->string, c->string) == 0)
                    *rep = true;
        }
        walk_names(c, watch, rep, seen);
    }
}

/* The most members of one object in the tree. */
static size_t widest(const cJSON *n)
{
    size_t k = 0, w = 0;
    for (const cJSON *c = n->child; c; c = c->next) {
        size_t cw = widest(c);
        k++;
        if (cw > w)
            w = cw;
    }
    return cJSON_IsObject(n) && k > w ? k : w;
}

static void check(const char *p, size_t len, const struct json_limits *l)
{
    struct arena a;
    struct hub_err e1 = { 0 }, e2 = { 0 };
    cJSON *t1 = NULL, *t2 = NULL;

    arena_init(&a, 16 * 1024);
    cJSON *plain = jsontree_parse_plain(&a, p, len, l);
    int r1 = jsontree_parse(&a, p, len, l, &t1, &e1);
    int r2 = jsontree_parse_cjson(&a, p, len, l, &t2, &e2);
    if (r1 != r2)
        abort();
    if (r2 != HUB_OK) {
        if (plain || e1.offset != e2.offset || e1.what != e2.what ||
            strcmp(e1.field, e2.field) != 0)
            abort();
    } else if (!same_tree(t1, t2) || (plain && !same_tree(plain, t2))) {
        abort();
    }
    /* "k" is short enough for the fuzzer to write, and may be escaped */
    struct jsontree_notes notes = { .watch = "k" };
    cJSON *t3 = NULL;
    int r3 = jsontree_parse_noting(&a, p, len, l, &t3, &notes, &e1);
    /* the one pass notes what it built, unless an object is too wide to
     * compare its names (then the caller walks) */
    if (r3 != r2 || (notes.noticed && plain == NULL) ||
        (plain && !notes.noticed && widest(plain) <= 32))
        abort();
    if (notes.noticed) {
        bool rep = false, seen = false;
        walk_names(t2, "k", &rep, &seen);
        if (notes.repeated != rep || notes.watched != seen)
            abort();
    }
    arena_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct json_limits fhir = {
        .max_bytes = 8u << 20, .max_depth = 40, .max_array = 10000,
        .max_members = 1000, .max_values = 1000000, .max_string = 2u << 20,
    };
    static const struct json_limits small = {
        .max_bytes = 4096, .max_depth = 4, .max_array = 5,
        .max_members = 4, .max_values = 40, .max_string = 12,
    };
    check((const char *)data, size, &fhir);
    check((const char *)data, size, &small);
    return 0;
}
