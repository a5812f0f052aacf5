/*
 * csv_event.c - an event of a CSV upload made and kept: its message id
 * ("file#row", numbers written by hand), and the finished document
 * appended to the upload's list, refused past the list's limit at the
 * row where the upload should be split.
 */
#include <stdio.h>
#include <string.h>

#include "csv/csv_int.h"

size_t csv_put_uint(char *o, size_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        o[i] = tmp[n - 1 - i];
    o[n] = '\0';
    return n;
}

const char *csv_message_id(struct arena *a, const char *file, size_t row)
{
    /* "%s#%zu" by hand: snprintf cost a thousand instructions an event */
    size_t fl = strlen(file);
    char *s = arena_alloc(a, fl + 24);
    memcpy(s, file, fl);
    s[fl] = '#';
    csv_put_uint(s + fl + 1, row);
    return s;
}

int csv_push_event(struct csv_ctx *c, struct jw *w, const char *type,
                   struct hub_err *err)
{
    struct slice json;
    int rc = jw_finish(w, &json);
    if (rc)
        return hub_err_set(err, rc, "event", 0, "event is larger than the limit");
    /* the buffer was sized by a guess (and doubled): what the event did
     * not fill goes back to the arena, a third of an event's room */
    if (w->b.p == json.p)
        arena_shrink(c->a, w->b.p, w->b.cap, json.len + 1);
    return csv_push_json(c, type, json, err);
}

int csv_push_json(struct csv_ctx *c, const char *type, struct slice json,
                  struct hub_err *err)
{
    int rc = canon_list_push(c->a, c->out, type, json);
    if (rc) {
        /* where the upload passed the limit: the sender splits it there */
        _Static_assert(CANON_MAX_EVENTS == 10000, "the reason says 10,000");
        struct hub_err in = { 0 };
        char field[48];
        snprintf(field, sizeof(field), "row %zu", c->ev_row);
        hub_err_set(&in, rc, field, c->ev_offset,
                    "upload makes more events than the limit (10,000): "
                    "send it in parts, split before this row");
        return csv_locate(c, err, rc, c->ev_file, &in);
    }
    c->rep->events++;
    return HUB_OK;
}
