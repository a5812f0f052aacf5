/*
 * audit_walk.c - the audit chain walked in steps (audit_walk.h): the loop
 * `hubctl audit verify` ran alone, now also GET /v1/audit/verify's.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "audit_walk.h"
#include "common/hub_err.h"

int audit_walk(struct store *s, struct audit_walk *w, int64_t from_seq,
               const char *from_hash, struct store_audit_check *c)
{
    struct store_audit_check chk;
    char prev[65] = "";
    long long total = 0;
    int64_t after = -1;
    bool done = false;
    int rc;

    assert(w->step >= 1 && (from_seq <= 0 || from_hash != NULL));
    memset(c, 0, sizeof(*c));
    w->from_anchor = from_seq <= 0;
    if (!w->from_anchor) {
        after = from_seq - 1;           /* that row's content checked too */
        snprintf(prev, sizeof(prev), "%s", from_hash);
    }
    /* from a recorded head, the first step takes that row's own previous
     * hash (its content is checked against the hash recorded) */
    const char *step_prev = w->from_anchor ? prev : NULL;
    while (!done) {
        if ((rc = store_audit_verify_step(s, after, step_prev, w->step, &chk,
                                          &done)) != HUB_OK)
            return rc;
        step_prev = prev;
        if (after >= 0 && after < chk.anchor_seq) {
            /* the retention pruned past the walk since the last step: it
             * went on from the anchor, and the chain is what follows it
             * (the rows counted before are gone, or counted again) */
            total = 0;
            w->from_anchor = true;
            c->head_seq = 0;
            c->head_hash[0] = '\0';
        }
        total += chk.rows_checked;
        if (chk.head_seq) {             /* the next step starts there */
            after = chk.head_seq;
            snprintf(prev, sizeof(prev), "%s", chk.head_hash);
            c->head_seq = chk.head_seq;
            memcpy(c->head_hash, chk.head_hash, sizeof(c->head_hash));
        }
        if (!done && w->progress)
            w->progress(w->arg, total, after);
    }
    c->ok = chk.ok;
    c->rows_checked = total;
    c->bad_seq = chk.bad_seq;
    memcpy(c->problem, chk.problem, sizeof(c->problem));
    c->anchor_seq = chk.anchor_seq;
    return HUB_OK;
}
