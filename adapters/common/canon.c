/*
 * canon.c - the list of canonical events an adapter returns, and the topics.
 */
#include "common/canon.h"

#include <string.h>

#include "common/hub_err.h"

const char *const canon_topics[] = {
    "adt.admit", "adt.discharge", "adt.transfer", "adt.register",
    "adt.update", "adt.merge", "screening.completed", "screening.positive",
    "referral.created", "referral.updated", "careplan.updated",
    "condition.recorded", "goal.updated", "consent.updated", NULL,
};

int canon_topic_known(const char *topic)
{
    for (size_t i = 0; canon_topics[i]; i++)
        if (strcmp(canon_topics[i], topic) == 0)
            return 1;
    return 0;
}

int canon_list_push(struct arena *a, struct canon_list *l, const char *type,
                    struct slice json)
{
    if (l->n >= CANON_MAX_EVENTS)
        return HUB_ELIMIT;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        struct canon_event *ev = arena_alloc(a, cap * sizeof(*ev));
        if (l->n)
            memcpy(ev, l->ev, l->n * sizeof(*ev));
        l->ev = ev;
        l->cap = cap;
    }
    l->ev[l->n++] = (struct canon_event){ type, json };
    return HUB_OK;
}
