/*
 * audit_walk.h - the audit chain walked in steps, for `hubctl audit verify`
 * and GET /v1/audit/verify alike (F763).
 *
 * Each step (store_audit_verify_step, hub_audit_verify_step) is a statement
 * and a snapshot of its own that reads at most `step` rows, so that a chain
 * of any length is checked with every statement well within the pool's
 * db_statement_timeout; the whole chain in one statement (hub_audit_verify)
 * was cut there, 503 at every try, once the chain took longer to check.
 * Rows appended during the walk are walked too (it ends at the chain's end
 * as the last step saw it). A retention that prunes past the walk between
 * two steps is not a break: the step goes on from the new anchor, and the
 * rows counted before are counted afresh from there.
 */
#ifndef HUB_AUDIT_WALK_H
#define HUB_AUDIT_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* Rows a step of the route reads: about 80 ms of the database's time at
 * 8 us a row, well within the smallest db_statement_timeout (1 s). */
#define AUDIT_WALK_STEP 10000

struct audit_walk {
    int step;                           /* rows a statement reads, >= 1 */
    /* called between steps (NULL: none): the rows that hold so far and
     * the seq the walk is at; false stops the walk there (the route's
     * client has gone, F1100) */
    bool (*progress)(void *arg, long long rows, int64_t at);
    void *arg;
    /* out */
    bool from_anchor;                   /* walked from the retention anchor
                                           (asked, or from_seq was pruned
                                           before or during the walk) */
    bool from_pruned;                   /* from_seq was pruned before the
                                           walk: nothing to compare */
    bool from_differs;                  /* row from_seq no longer has
                                           from_hash: nothing walked */
    bool stopped;                       /* progress said stop */
};

/*
 * "SEQ:HASH" as a verify printed or answered its head (hubctl's --from
 * and --head, the route's ?from= and ?anchor=): true and *seq, hash set;
 * false and *what (static: which part is wrong) when it is not one.
 */
bool audit_seq_hash_parse(const char *v, int64_t *seq, char hash[65],
                          const char **what);

/*
 * Walk to the end of the chain: from the retention anchor (from_seq 0), or
 * from row from_seq, a head recorded with hash from_hash. That row is
 * first compared (store_audit_check_anchor): still there with that hash,
 * its content is checked against it, and the rows after it; pruned since
 * (w->from_pruned), the walk starts at the retention anchor; changed or
 * removed (w->from_differs), nothing is walked and *c says the chain does
 * not hold there: ok false, bad_seq from_seq, problem "changed" or
 * "removed", no row counted, anchor_seq the retention anchor. *c as store_audit_verify fills it: ok,
 * bad_seq and problem of the walk; rows_checked, the rows that hold (from
 * the anchor or from_seq); head_seq and head_hash, the last row that
 * holds (0 and "": none); anchor_seq, the retention anchor the last step
 * saw. HUB_OK when the walk ran; HUB_EBUSY when progress stopped it
 * (w->stopped: *c is no verdict); else what the comparison or a step
 * returned (HUB_EBUSY: cut at its deadline; HUB_EDB).
 */
int audit_walk(struct store *s, struct audit_walk *w, int64_t from_seq,
               const char *from_hash, struct store_audit_check *c)
    __attribute__((warn_unused_result));

#endif
