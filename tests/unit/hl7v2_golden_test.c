/*
 * hl7v2_golden_test.c - every message in tests/data/hl7v2/<name>.hl7 against
 * its expected canonical event <name>.json (an array when the message makes
 * several events), or its expected refusal <name>.err.json
 * ({"code": "unsupported", "field": "MSH-9"}). Compared as JSON
 * (cJSON_Compare), so member order does not matter; a failure prints both
 * documents, one member per line, ready for diff.
 * Normalized with the project's data dictionary, as hubd does (its rows
 * label DG1 diagnoses). The files are found under $HUB_ROOT, else the
 * current directory.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict.h"
#include "common/hub_err.h"
#include "hl7v2/hl7v2.h"
#include "../lib/testdict.h"
#include "../lib/testfile.h"

#define GOLDEN_MAX 256

struct golden {
    char name[128];             /* file name without .hl7 */
};

static const char *root(void)
{
    const char *r = getenv("HUB_ROOT");
    return r && *r ? r : ".";
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct golden *)a)->name,
                  ((const struct golden *)b)->name);
}

ParameterizedTestParameters(hl7_golden, matches_expected_canonical_output)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tests/data/hl7v2", root());
    struct golden *g = cr_malloc(GOLDEN_MAX * sizeof(*g));
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && n < GOLDEN_MAX) {
        size_t l = strlen(e->d_name);
        if (l > 4 && l < sizeof(g->name) + 4 &&
            strcmp(e->d_name + l - 4, ".hl7") == 0) {
            memcpy(g[n].name, e->d_name, l - 4);
            g[n].name[l - 4] = '\0';
            n++;
        }
    }
    if (d)
        closedir(d);
    qsort(g, n, sizeof(*g), by_name);
    return cr_make_param_array(struct golden, g, n);
}

static char *pretty(const cJSON *j)
{
    return j ? cJSON_Print(j) : strdup("(none)");
}

ParameterizedTest(struct golden *g, hl7_golden,
                  matches_expected_canonical_output)
{
    char path[4096];
    size_t len, wlen;

    snprintf(path, sizeof(path), "%s/tests/data/hl7v2/%s.hl7", root(),
             g->name);
    char *msg = testfile_read(path, &len);
    cr_assert_not_null(msg, "cannot read %s", path);

    snprintf(path, sizeof(path), "%s/tests/data/hl7v2/%s.err.json", root(),
             g->name);
    char *want_err = testfile_read(path, &wlen);
    snprintf(path, sizeof(path), "%s/tests/data/hl7v2/%s.json", root(),
             g->name);
    char *want_ev = want_err ? NULL : testfile_read(path, &wlen);
    cr_assert(want_err || want_ev, "%s: no .json or .err.json beside it",
              g->name);

    struct arena a;
    struct hl7_msg *m = NULL;
    struct hub_err err = { 0 };
    struct canon_list l = { 0 };
    arena_init(&a, 64 * 1024);
    struct dict *d = testdict_load();
    int rc = hl7_parse(&a, msg, len, &m, &err);
    if (rc == HUB_OK)
        rc = hl7_to_events_dict(&a, d, m, &l, NULL, &err);

    if (want_err) {
        cJSON *w = cJSON_Parse(want_err);
        cr_assert_not_null(w, "%s.err.json is not JSON", g->name);
        const char *code = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(w, "code"));
        const char *field = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(w, "field"));
        cr_assert_neq(rc, HUB_OK, "%s: accepted, want refusal %s at %s",
                      g->name, code, field);
        cr_assert_str_eq(hub_strerror(rc), code, "%s: code", g->name);
        cr_assert_str_eq(err.field, field, "%s: field", g->name);
        cJSON_Delete(w);
    } else {
        cr_assert_eq(rc, HUB_OK, "%s: refused (%s at %s: %s)", g->name,
                     hub_strerror(rc), err.field, err.what);
        cJSON *w = cJSON_Parse(want_ev);
        cr_assert_not_null(w, "%s.json is not JSON", g->name);
        cJSON *got = cJSON_IsArray(w) ? cJSON_CreateArray() : NULL;
        cr_assert_eq(l.n, got ? (size_t)cJSON_GetArraySize(w) : 1,
                     "%s: %zu events", g->name, l.n);
        for (size_t k = 0; k < l.n; k++) {
            cJSON *ev = cJSON_ParseWithLength(l.ev[k].json.p,
                                              l.ev[k].json.len);
            cr_assert_not_null(ev, "%s: event %zu is not JSON", g->name, k);
            const char *type = cJSON_GetStringValue(
                cJSON_GetObjectItemCaseSensitive(ev, "type"));
            cr_assert(type && strcmp(type, l.ev[k].type) == 0 &&
                      canon_topic_known(type),
                      "%s: event type disagrees with its document", g->name);
            if (got)
                cJSON_AddItemToArray(got, ev);
            else
                got = ev;
        }
        if (!cJSON_Compare(w, got, 1)) {
            char *pw = pretty(w), *pg = pretty(got);
            cr_assert_fail("%s: canonical output differs\n"
                           "--- want %s.json\n%s\n+++ got\n%s\n",
                           g->name, g->name, pw, pg);
        }
        cJSON_Delete(got);
        cJSON_Delete(w);
    }
    dict_free(d);
    arena_release(&a);
    free(msg);
    free(want_err);
    free(want_ev);
}
