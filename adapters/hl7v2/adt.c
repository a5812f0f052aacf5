/*
 * adt.c - HL7 v2 ADT messages to canonical events (placeholder: the full
 * normalizer lands next; until then every message is refused as unsupported).
 */
#include "hl7v2/hl7v2_int.h"

int hl7_to_events(struct arena *a, const struct hl7_msg *m,
                  struct canon_list *out, struct hub_err *err)
{
    (void)a;
    (void)m;
    (void)out;
    return hub_err_set(err, HUB_EUNSUPPORTED, "MSH-9", 0,
                       "message type is not supported");
}
