/*
 * fhir_fuzz.c - libFuzzer harness for the FHIR R4 adapter. Checks besides
 * memory safety: every event is valid JSON whose "type" is the list's and a
 * known topic; a refusal leaves no events and has static text and a field;
 * the OperationOutcome (error or batch) is always valid JSON; a refused
 * batch entry's bytes (fhir_entry_result.raw) lie in the input and parse.
 * The dictionary is loaded once from schemas/dict (run from the repo root).
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict.h"
#include "fuzz_dict.h"
#include "fhir/fhir.h"

static struct dict *D;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    D = fuzz_dict_load("fhir_fuzz");
    return 0;
}

static void check_json(struct slice s)
{
    cJSON *j = cJSON_ParseWithLength(s.p, s.len);
    if (j == NULL)
        abort();
    cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    struct canon_list out = { 0 };
    struct fhir_result res;
    struct hub_err err;
    struct slice oo;

    arena_init(&a, 16 * 1024);
    int rc = fhir_to_events(&a, D, (const char *)data, size, &out, &res, &err);
    if (rc != HUB_OK) {
        if (out.n != 0 || err.what == NULL || err.field[0] == '\0')
            abort();
        if (fhir_operation_outcome(&a, &err, res.resource_type, &oo) != HUB_OK)
            abort();
        check_json(oo);
    } else {
        for (size_t i = 0; i < out.n; i++) {
            cJSON *e = cJSON_ParseWithLength(out.ev[i].json.p,
                                             out.ev[i].json.len);
            cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
            if (!cJSON_IsString(t) || strcmp(t->valuestring, out.ev[i].type) ||
                !canon_topic_known(out.ev[i].type))
                abort();
            cJSON_Delete(e);
        }
        if (fhir_result_outcome(&a, &res, &oo) != HUB_OK)
            abort();
        check_json(oo);
        /* a refused batch entry's bytes lie inside the input, and are
         * JSON on their own (the hub stores them in quarantine) */
        for (size_t i = 0; i < res.n_entries; i++) {
            struct slice r = res.entries[i].raw;
            if (r.len == 0)
                continue;
            if (res.entries[i].status == HUB_OK ||
                r.p < (const char *)data ||
                r.p + r.len > (const char *)data + size)
                abort();
            check_json(r);
        }
    }
    arena_release(&a);
    return 0;
}
