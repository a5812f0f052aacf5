/*
 * fhir_equiv.c - everything the FHIR adapter says about a set of bodies,
 * for tests/tools/fhir-equiv.sh to compare between two builds: per body
 * its return code, error field (whole, however long), offset and message,
 * the result (type, bundle type, message id, each entry's resource,
 * status, error and warnings with their paths), and every canonical event
 * (type and JSON). Bodies: the files named on the command line, then -m N
 * mutants of them made with a fixed seed (-s): a member put first in an
 * object (a name twice, a modifierExtension, a code, a value with an
 * escape), a value put in an array, a string swapped for another of the
 * body, bytes cut or changed; so that refusals and warnings at every depth
 * name their paths. Run from the repository root (schemas/dict).
 *
 *   fhir_equiv [-m MUTANTS] [-s SEED] FILE...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/canon.h"
#include "common/dict.h"
#include "common/hub_err.h"
#include "common/jsontree.h"
#include "dict_files.h"
#include "equiv_mutate.h"
#include "fhir/fhir.h"

static struct dict *D;

static void put_err(const struct hub_err *e)
{
    printf(" field=%s offset=%zu what=%s", e->long_field ? e->long_field
                                                          : e->field,
           e->offset, e->what ? e->what : "");
}

static void run(const char *name, const char *p, size_t len)
{
    struct arena a;
    struct canon_list l = { 0 };
    struct fhir_result res;
    struct hub_err err;

    memset(&err, 0, sizeof(err));
    arena_init(&a, 65536);
    int rc = fhir_to_events(&a, D, p, len, &l, &res, &err);
    printf("== %s rc=%d", name, rc);
    if (rc != HUB_OK)
        put_err(&err);
    printf(" type=%s bundle=%s id=%s failed=%zu\n",
           res.resource_type ? res.resource_type : "",
           res.bundle_type ? res.bundle_type : "",
           res.message_id ? res.message_id : "", res.n_failed);
    for (size_t i = 0; i < res.n_entries; i++) {
        const struct fhir_entry_result *r = &res.entries[i];
        printf("entry %zu %s status=%d events=%zu+%zu", i,
               r->resource ? r->resource : "", r->status, r->first_event,
               r->n_events);
        if (r->status != HUB_OK)
            put_err(&r->err);
        putchar('\n');
        for (size_t k = 0; k < r->n_warnings; k++)
            printf("  warn %s: %s\n", r->warnings[k].field,
                   r->warnings[k].what);
#ifdef FHIR_ENTRY_NOTE /* fhir-equiv.sh builds this against older trees */
        if (r->note.what)
            printf("  note %s: %s\n", r->note.field, r->note.what);
#endif
    }
    for (size_t i = 0; i < l.n; i++)
        printf("%s %.*s\n", l.ev[i].type, (int)l.ev[i].json.len,
               l.ev[i].json.p);
    arena_release(&a);
}

/* members put first in an object: each ends with ',' (an object that was
 * empty then has a trailing comma: a syntax error, also worth a path) */
static const char *const members[] = {
    "\"status\":\"final\",", "\"status\":\"x\",", "\"id\":\"a\",",
    "\"modifierExtension\":[{\"url\":\"http://x\"}],",
    "\"modifierExtension\":[],", "\"resourceType\":\"Basic\",",
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
    "\"code\":\"88122-7\"}]},",
    "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://loinc.org\","
    "\"code\":\"LA28397-0\"}]},",
    "\"valueString\":\"caf\\u00e9\",", "\"effectiveDateTime\":\"2020-13\",",
    "\"birthDate\":\"20-1-1\",", "\"reference\":\"Patient/none\",",
    "\"hasMember\":[{\"reference\":\"Observation/zz\"}],",
    "\"subject\":{\"reference\":\"urn:uuid:x\"},", "\"x\":1,",
    "\"category\":[{\"coding\":[{\"code\":\"sdoh\"}]}],",
    "\"meta\":{\"security\":[{\"code\":\"R\"}]},",
};

static void mutate(char *d, size_t *n)
{
    int k = 1 + (int)pick(3);
    for (int i = 0; i < k; i++) {
        size_t at;
        switch (pick(8)) {
        case 0: case 1: case 2: case 3:
            at = find_any(d, *n, '{');
            if (at != SIZE_MAX) {
                const char *s = members[pick(sizeof(members) /
                                             sizeof(members[0]))];
                insert(d, n, at + 1, s, strlen(s));
            }
            break;
        case 4:                         /* a value in an array */
            at = find_any(d, *n, ':');
            if (at != SIZE_MAX && at + 1 < *n && d[at + 1] == '"') {
                size_t e = at + 2;
                while (e < *n && d[e] != '"')
                    e += d[e] == '\\' ? 2 : 1;
                if (e < *n) {
                    insert(d, n, e + 1, "]", 1);
                    insert(d, n, at + 1, "[", 1);
                }
            }
            break;
        case 5: {                       /* a string value swapped */
            size_t a = find_any(d, *n, '"'), b = find_any(d, *n, '"');
            /* the two may overlap (ASan stopped the run there) */
            if (a != SIZE_MAX && b != SIZE_MAX && a + 8 < *n && b + 8 < *n)
                memmove(d + a + 1, d + b + 1, pick(6));
            break;
        }
        case 6:
            if (*n > 2) {
                size_t p = pick(*n), q = p + 1 + pick(40);
                if (q > *n)
                    q = *n;
                memmove(d + p, d + q, *n - q);
                *n -= q - p;
            }
            break;
        default:
            if (*n)
                d[pick(*n)] = (char)(pick(2) ? "{}[],:\"\\x1"[pick(11)]
                                             : (char)pick(256));
            break;
        }
    }
}

int main(int argc, char **argv)
{
    struct dict_err de = { 0 };

    if (dict_files_load(NULL, &D, &de) != HUB_OK) {
        fprintf(stderr, "fhir_equiv: no dictionary (run from the root)\n");
        return 2;
    }
    jsontree_global_init();
    return equiv_main("fhir_equiv", argc, argv, run, mutate);
}
