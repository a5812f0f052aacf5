/*
 * hl7v2_fuzz.c - libFuzzer harness for the HL7 v2 adapter: parse, normalize
 * to canonical events, and build the ACK (with the events' warnings), as
 * the listener does. Accessors are exercised on whatever parsed, including
 * a message whose MSH alone was
 * readable, and on segments whose fields are found on access (IN1, NK1).
 * Every event must be JSON with no raw control byte: values the normalizer
 * copies without a look must really be plain. Normalized with the data
 * dictionary, as hubd does (the DG1 labels and domains come from it).
 */
#include <cJSON.h>
#include <stdint.h>
#include <string.h>

#include "hl7v2/hl7v2.h"
#include "fuzz_dict.h"

static struct dict *D;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    D = fuzz_dict_load("hl7v2_fuzz");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    struct hl7_msg *m = NULL;
    struct hub_err err = { 0 };
    struct canon_list l = { 0 };
    struct hl7_warnings warn = { .n = 0 };
    struct slice ack;

    arena_init(&a, 16 * 1024);
    int rc = hl7_parse(&a, (const char *)data, size, &m, &err);
    if (rc == HUB_OK) {
        rc = hl7_to_events_dict(&a, D, m, &l, &warn, &err);
        for (size_t k = 0; k < l.n; k++) {
            struct slice j = l.ev[k].json;
            for (size_t i = 0; i < j.len; i++)
                if ((unsigned char)j.p[i] < 0x20)
                    __builtin_trap();
            cJSON *doc = cJSON_ParseWithLength(j.p, j.len);
            if (doc == NULL)
                __builtin_trap();
            cJSON_Delete(doc);
        }
        (void)hl7_get(&a, m, "PID", 0, 5, 1, 1, 1);
        /* segments whose fields the parser leaves to a scan on access */
        for (unsigned f = 0; f < 6; f++) {
            (void)hl7_get(&a, m, "IN1", 0, f * 3, f & 1, f, f & 2);
            (void)hl7_get(&a, m, "NK1", f & 1, f + 1, 0, 1, 0);
        }
    }
    (void)hl7_control_id(m);
    (void)hl7_message_type(m);
    /* the processing ID's place (hubd's refusal of one it does not take)
     * is in the bytes sent */
    size_t pid_off;
    (void)hl7_processing_id(m, &pid_off);
    if (m && pid_off > size)
        __builtin_trap();
    if (hl7_ack_warn(&a, m, rc == HUB_OK ? "AA" : "AE",
                     rc == HUB_OK ? NULL : &err, &warn, "ACK1",
                     "20260101000000+0000", &ack) != HUB_OK)
        __builtin_trap();
    arena_release(&a);
    return 0;
}
