/*
 * body.h - an event body on its way into the ingest batch: the hub fields
 * (id, source.org, source.received_at, the candidate patient.hub_id)
 * written into the adapter's JSON, the whole made jsonb's text form, its
 * top-level occurred_at found and its patient identifiers read, so that
 * hub_ingest_fast (001_init.sql) does none of that per event. Whatever is
 * not read here (an unusual shape, text jsonb would print otherwise) is
 * left to hub_ingest_fast, which then does it itself: the stored body is
 * the same either way.
 */
#ifndef HUB_BODY_H
#define HUB_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/slice.h"

/* The hub fields of one event; every string valid text (no NUL). */
struct body_hub {
    const char *id, *org, *received_at;
    const char *pid;                /* NULL: no patient.hub_id written */
};
/* A body's top-level "occurred_at" as body_scan() found it. */
struct occ {
    enum { OCC_ABSENT, OCC_TEXT, OCC_SQL } state;
    struct slice v;                 /* OCC_TEXT: the string, unescaped */
};
/*
 * One (system, value) of an event, as hub_ingest_fast's SQL reads
 * patient.identifiers from the stored jsonb: each element that is an
 * object, system = hub_id_system(org, x->>'system') (a URI as it is; any
 * other name 'urn:hub:org:<org>:ns:<name>'; 'urn:hub:org:<org>' when
 * absent, null or ""), value = x->>'value', left out when absent, null
 * or "", or when the identifier is marked inactive (x->'inactive' is
 * true: out of effect when sent, schemas/canonical-event.schema.json). k
 * is the event's 1-based index in the batch, first the lowest k that
 * carries the same pair.
 */
struct ident {
    uint32_t k, first;
    struct slice sys, val;
};

struct idents {
    struct ident *v;
    size_t n, cap;
    bool ok;                        /* false: some body was not read here */
    /* some event names a system in the hub's space outside its own
     * organization's scope (idsys_hub_foreign): another organization's
     * identifiers, which the batch must not link to (F2241) */
    bool foreign;
};

/* One event's body: in, the adapter's text (in `body`, the rest zero and
 * occ OCC_SQL); out, as it goes into the arrays. */
struct body_out {
    struct slice body;              /* the adapter's text, then as sent */
    struct occ occ;                 /* its occurred_at; OCC_SQL: the SQL's */
    bool prep;                      /* the hub fields are in it */
    bool canon;                     /* it is jsonb's text form */
    bool pid_in;                    /* with h->pid as patient.hub_id */
    size_t pid_at;                  /* where that id's characters start */
};

/*
 * Event k (1-based in the batch) of a message received at h->received_at
 * (at_exact: that is hub_ingest_fast's millisecond form, else nothing is
 * written):
 * the hub fields into e->body, memory from `scratch` (reset by the caller
 * once the body is in the arrays); its identifiers appended to *ids
 * (memory from `a`), or ids->ok cleared when the SQL must read the
 * batch's. An event without any identifier links to nobody: it gets no
 * patient.hub_id. The identifiers of every body read here are looked at,
 * ids->ok or not: ids->foreign is set when one names another
 * organization's scope.
 */
void body_prepare(struct arena *a, struct arena *scratch, bool at_exact,
                  const struct body_hub *h, uint32_t k, struct idents *ids,
                  struct body_out *e);

/* The same by reading the text alone, as before body_prepare() read the
 * bodies jcanon takes once: what it does with the others, and the
 * reference the tests hold it to. */
void body_prepare_text(struct arena *a, struct arena *scratch,
                       bool at_exact, const struct body_hub *h, uint32_t k,
                       struct idents *ids, struct body_out *e);

/* first: the lowest k carrying each pair (the list is in k order) */
void body_idents_first(struct idents *l);

/* Whether the id (STORE_ID_LEN bytes) at byte offset `at` of t is its only
 * occurrence. */
bool body_id_only_at(struct slice t, const char *id, size_t at);

/* A JSON string of text that needs no more than quotes, '"', '\\' and
 * control characters escaped (ids, org ids, timestamps). */
void body_put_str(struct buf *b, const char *s);

#endif
