/*
 * hl7batch_fuzz.c - libFuzzer harness for the batch file envelope
 * (hl7_batch_read) and the response batch (hl7_batch_ack), as POST
 * /v1/hl7v2 uses them: every message handed back lies inside the input,
 * in order, starts with MSH and is parsed as if sent alone; the batches'
 * message ranges cover them exactly; a refusal names a place inside the
 * input; and the response batch built over the accepted envelope reads
 * back with the same shape (the hub's answer is a batch the sender takes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hl7v2/hl7v2.h"

#define MAXM 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct hl7_batch_file *f = malloc(sizeof(*f)), *g = malloc(sizeof(*g));
    struct slice msgs[MAXM], acks[MAXM], back[MAXM];
    struct hub_err err = { 0 };
    struct arena a;

    if (f == NULL || g == NULL)
        abort();
    (void)hl7_is_batch(p, size);
    arena_init(&a, 16 * 1024);
    int rc = hl7_batch_read(p, size, f, msgs, MAXM, &err);
    if (rc != HUB_OK) {
        if (err.offset > size || err.field[0] == '\0' || err.what == NULL)
            __builtin_trap();
        goto out;
    }
    size_t next = 0;
    const char *prev_end = p;
    for (unsigned i = 0; i < f->nb; i++) {
        if (f->b[i].first != next)
            __builtin_trap();
        next += f->b[i].n;
    }
    if (next != f->n_msgs || f->n_msgs > MAXM)
        __builtin_trap();
    for (size_t i = 0; i < f->n_msgs; i++) {
        struct slice m = msgs[i];
        if (m.p < prev_end || m.p + m.len > p + size || m.len < 3 ||
            memcmp(m.p, "MSH", 3) != 0)
            __builtin_trap();
        prev_end = m.p + m.len;
        struct hl7_msg *h = NULL;
        struct hub_err e2;
        (void)!hl7_parse(&a, m.p, m.len, &h, &e2);
        acks[i] = SLICE_LIT("MSH|^~\\&|H|H|S|S|2026||ACK|1|P|2.5\rMSA|AA|1\r");
    }
    struct slice out;
    if (hl7_batch_ack(&a, f, acks, "K", "20260101000000+0000", &out) !=
        HUB_OK)
        __builtin_trap();
    /* the answer's envelope reads back: same batches, one ACK a message
     * (a sender's delimiters that clash with its own fields may make it
     * unreadable, so only a clean answer is held to this) */
    if (hl7_batch_read(out.p, out.len, g, back, MAXM, &err) == HUB_OK &&
        (g->n_msgs != f->n_msgs || g->nb != f->nb))
        __builtin_trap();
out:
    arena_release(&a);
    free(g);
    free(f);
    return 0;
}
