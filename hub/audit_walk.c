/*
 * audit_walk.c - the audit chain walked in steps (audit_walk.h): the loop
 * `hubctl audit verify` ran alone, now also GET /v1/audit/verify's.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_walk.h"
#include "common/hub_err.h"

bool audit_seq_hash_parse(const char *v, int64_t *seq, char hash[65],
                          const char **what)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end != ':' || n <= 0) {
        *what = "SEQ is not a positive number followed by ':'";
        return false;
    }
    if (strlen(end + 1) != 64 || strspn(end + 1, "0123456789abcdef") != 64) {
        *what = "the HASH after SEQ: is not 64 lower-case hex digits";
        return false;
    }
    *seq = n;
    memcpy(hash, end + 1, 65);
    return true;
}

/* Row from_seq compared with the hash recorded: HUB_OK to walk (from the
 * anchor when it was pruned), HUB_OK with *c a verdict (it differs), or
 * the comparison's failure. */
static int from_compare(struct store *s, struct audit_walk *w,
                        int64_t from_seq, const char *from_hash,
                        struct store_audit_check *c)
{
    int64_t anchor = 0;
    int rc = store_audit_check_anchor(s, from_seq, from_hash, &anchor);
    if (rc == HUB_EUNSUPPORTED) {
        w->from_pruned = true;
        return HUB_OK;
    }
    if (rc == HUB_ENOTFOUND || rc == HUB_EINVALID) {
        w->from_differs = true;
        c->ok = false;
        c->bad_seq = from_seq;
        c->anchor_seq = anchor;     /* the answer's retention_anchor */
        snprintf(c->problem, sizeof(c->problem), "%s",
                 rc == HUB_ENOTFOUND ? "removed" : "changed");
        return HUB_OK;
    }
    return rc;
}

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
    w->from_pruned = w->from_differs = w->stopped = false;
    if (from_seq > 0) {
        if ((rc = from_compare(s, w, from_seq, from_hash, c)) != HUB_OK ||
            w->from_differs)
            return rc;
        if (w->from_pruned)
            from_seq = 0;
    }
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
        if (!done && w->progress && !w->progress(w->arg, total, after)) {
            w->stopped = true;
            return HUB_EBUSY;
        }
    }
    c->ok = chk.ok;
    c->rows_checked = total;
    c->bad_seq = chk.bad_seq;
    memcpy(c->problem, chk.problem, sizeof(c->problem));
    c->anchor_seq = chk.anchor_seq;
    return HUB_OK;
}
