/*
 * ccda_fuzz.c - libFuzzer harness for the C-CDA adapter. Checks besides
 * memory safety: every event is valid JSON whose "type" is the list's; an
 * error always has static text and an XPath-like field starting with "/".
 * The dictionary is loaded once from schemas/dict (run from the repo root).
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccda/ccda.h"
#include "common/dict.h"

static struct dict *D;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc((size_t)n + 1);
    if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n)
        abort();
    fclose(f);
    *len = (size_t)n;
    return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *names[] = { "domains.json", "instruments.json",
                                   "zcodes.json", "task-status.json",
                                   "security-labels.json",
                                   "security-labels-sud-snomed.json",
                                   "snomed-domains.json" };
    enum { N = sizeof(names) / sizeof(names[0]) };
    struct dict_file f[N];
    struct dict_err err;
    char path[256];

    (void)argc;
    (void)argv;
    ccda_global_init();
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof(path), "schemas/dict/%s", names[i]);
        f[i].name = names[i];
        f[i].p = slurp(path, &f[i].len);
        if (f[i].p == NULL) {
            fprintf(stderr, "ccda_fuzz: run from the repo root\n");
            abort();
        }
    }
    if (dict_load(f, N, &D, &err) != 0)
        abort();
    for (int i = 0; i < N; i++)
        free((void *)f[i].p);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    struct canon_list out = { 0 };
    struct slice mid;
    struct hub_err err;
    int rc;

    arena_init(&a, 64 * 1024);
    rc = ccda_to_events(&a, D, (const char *)data, size, &out, &mid, &err);
    if (rc != 0) {
        if (err.what == NULL || err.field[0] != '/')
            abort();
    } else {
        for (size_t i = 0; i < out.n; i++) {
            cJSON *ev = cJSON_ParseWithLength(out.ev[i].json.p,
                                              out.ev[i].json.len);
            cJSON *t = cJSON_GetObjectItem(ev, "type");
            if (!cJSON_IsString(t) || strcmp(t->valuestring, out.ev[i].type))
                abort();
            cJSON_Delete(ev);
        }
    }
    arena_release(&a);
    return 0;
}
