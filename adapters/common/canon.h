/*
 * canon.h - what every adapter produces: canonical events, each one JSON
 * document that follows schemas/canonical-event.schema.json.
 *
 * An adapter cannot know four fields, and leaves them out; the hub fills them
 * in the ingest transaction: "id", "source.org", "source.received_at" and
 * "patient.hub_id". Everything else (type, source.format, source.message_id,
 * occurred_at, patient, exactly one body, sensitivity, warnings) is the
 * adapter's. Routing reads fixed paths of this document (see the schema), so
 * adapters must put facility, patient class, domains and county where the
 * schema says.
 */
#ifndef HUB_CANON_H
#define HUB_CANON_H

#include <stddef.h>

#include "common/arena.h"
#include "common/slice.h"

#define CANON_MAX_EVENTS 10000      /* per inbound message or batch */

struct canon_event {
    const char *type;       /* a topic, static: "adt.admit" */
    struct slice json;      /* the document, in the adapter's arena */
};

struct canon_list {
    struct canon_event *ev;
    size_t n;
    size_t cap;
};

/* Append an event; HUB_ELIMIT past CANON_MAX_EVENTS. Storage from `a`. */
int canon_list_push(struct arena *a, struct canon_list *l, const char *type,
                    struct slice json)
    __attribute__((warn_unused_result));

/* True if `topic` is one of the topics of DESIGN.md section 4. */
int canon_topic_known(const char *topic);

/* Every topic, NULL-terminated, in the order of DESIGN.md. */
extern const char *const canon_topics[];

#endif
