/*
 * fhir_json.c - what FHIR's JSON asks of a body beyond RFC 8259 that the
 * parser lets through: every member name once in its object (a FHIR
 * element that repeats is one array, never a name twice: which of two
 * "status" members did the sender mean?), and no modifierExtension the
 * hub does not know. Each refusal names the path, never a value.
 */
#include "fhir/fhir_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* A member name as an error path may show it: an element name; anything
 * else (a sender's own key may be any text) is "*". */
static const char *element_name(const char *k)
{
    size_t n = 0;
    for (; k[n]; n++)
        if (n == 64 || !(isalnum((unsigned char)k[n]) || k[n] == '_'))
            return "*";
    return n ? k : "*";
}

/*
 * FHIR R4 (extensibility): a modifierExtension may change the meaning of
 * the element that holds it (a negation, another subject) and an
 * application SHALL NOT ignore one it does not know. The hub knows none,
 * so a resource (or Bundle.entry) that carries one, at any depth, is not
 * read: refused with the path of the first, never read as if it were not
 * there.
 */
static bool is_modifier(const cJSON *c)
{
    return c->string && c->string[0] == 'm' && c->child &&
           strcmp(c->string, "modifierExtension") == 0;
}

/* The first non-empty modifierExtension member under `n`, or NULL. */
static const cJSON *modifier_find(const cJSON *n)
{
    bool obj = cJSON_IsObject(n);
    for (const cJSON *c = n->child; c; c = c->next) {
        if (obj && is_modifier(c))
            return c;
        if (c->child) {
            const cJSON *m = modifier_find(c);
            if (m)
                return m;
        }
    }
    return NULL;
}

static bool path_to(struct fx *x, const cJSON *n, const cJSON *t);

int fx_unknown_modifier(struct fx *x, const cJSON *n)
{
    const cJSON *m = modifier_find(n);
    if (m == NULL)
        return HUB_OK;
    path_to(x, n, m);
    if (cJSON_IsArray(m))
        fx_idx(x, 0);
    return fx_fail(x, HUB_EUNSUPPORTED,
                   "a modifierExtension the hub does not know: it may change "
                   "what the resource means, so the resource is not read");
}

/* ---- member names once ---------------------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* The second member of object `o` whose name an earlier one has, or NULL.
 * Few members (FHIR objects have a handful): each against those before it;
 * many (up to the 1,000 the bounds allow): sorted, neighbours compared. */
static const cJSON *dup_in(struct arena *a, const cJSON *o, bool *mod)
{
    size_t n = 0;
    for (const cJSON *c = o->child; c; c = c->next) {
        n++;
        if (is_modifier(c))
            *mod = true;
    }
    if (n <= 24) {
        /* two bytes before strcmp: "code"/"coding", "system"/"subject"
         * share the first; [1] is there when [0] is not the end */
        for (const cJSON *c = o->child; c; c = c->next) {
            const char *k = c->string;
            for (const cJSON *d = o->child; d != c; d = d->next)
                if (d->string[0] == k[0] &&
                    (k[0] == '\0' || (d->string[1] == k[1] &&
                                      strcmp(d->string + 1, k + 1) == 0)))
                    return c;
        }
        return NULL;
    }
    const cJSON **v = arena_alloc(a, n * sizeof(*v));
    size_t i = 0;
    for (const cJSON *c = o->child; c; c = c->next)
        v[i++] = c;
    qsort(v, n, sizeof(*v), cmp_name);
    for (i = 1; i < n; i++)
        if (strcmp(v[i - 1]->string, v[i]->string) == 0)
            break;
    if (i == n)
        return NULL;
    /* the later of the equal names in the object's order */
    for (const cJSON *c = o->child; c; c = c->next)
        for (const cJSON *d = o->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0)
                return c;
    return NULL;
}

/* The first repeated member under `n`, depth first, or NULL; below
 * `skip` (a batch's entry array, its entries walked one by one) only
 * `skip` itself is looked at, an array with no names. */
static const cJSON *dup_find(struct arena *a, const cJSON *n,
                             const cJSON *skip, bool *mod)
{
    if (cJSON_IsObject(n) && n->child) {
        const cJSON *d = dup_in(a, n, mod);
        if (d)
            return d;
    }
    for (const cJSON *c = n->child; c; c = c->next)
        if (c->child && c != skip) {
            const cJSON *d = dup_find(a, c, skip, mod);
            if (d)
                return d;
        }
    return NULL;
}

/* Push the path from `n` down to `t`; true when found (path left set). */
static bool path_to(struct fx *x, const cJSON *n, const cJSON *t)
{
    size_t i = 0;
    for (const cJSON *c = n->child; c; c = c->next, i++) {
        size_t old = cJSON_IsObject(n) && c->string
                         ? fx_key(x, element_name(c->string))
                         : fx_idx(x, i);
        if (c == t || path_to(x, c, t))
            return true;
        fx_pop(x, old);
    }
    return false;
}

int fx_unique_members(struct fx *x, const cJSON *root, const cJSON *skip)
{
    if (x->names_plain)
        return HUB_OK;          /* the parse looked already: nothing here */
    const cJSON *d = dup_find(x->a, root, skip, &x->modifiers);
    if (d == NULL)
        return HUB_OK;
    path_to(x, root, d);
    return fx_fail(x, HUB_ESYNTAX,
                   "a member name appears twice in one object (FHIR JSON "
                   "has each element once; a repeated one is an array)");
}
