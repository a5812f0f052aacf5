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
#include "fuzz_dict.h"

static struct dict *D;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ccda_global_init();
    D = fuzz_dict_load("ccda_fuzz");
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
