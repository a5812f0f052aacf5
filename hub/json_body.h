/*
 * json_body.h - a request body that must be one JSON value (a
 * subscription, a replay's range), parsed by cJSON into a heap tree that
 * the caller frees with cJSON_Delete.
 *
 * Refusals are HUB_ESYNTAX with err->located and err->offset the 0-based
 * byte offset into the body where the fault is: the first byte that is
 * not UTF-8, the first byte of the token the JSON parse could not take
 * (json_fault_at; the body's length when it is cut short), or the first
 * byte after the value. `field` is "" and `what` static text: nothing of
 * the body is quoted.
 *
 * Why not cJSON_ParseWithLength alone: it takes a value followed by other
 * bytes ("{...} junk", two objects one after the other) as the first
 * value, the rest dropped unread; cut short, it says the last byte rather
 * than the end; and it says one byte late where a string or a name fails.
 * The body is parsed from a NUL-terminated copy (cJSON stops there) and
 * what follows the value is looked at here.
 */
#ifndef HUB_JSON_BODY_H
#define HUB_JSON_BODY_H

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "common/hub_err.h"
#include "common/jsonscan.h"
#include "common/utf8.h"

/* The offset of the value's first byte (the place of "not an object"). */
static inline size_t json_body_value_at(const char *p, size_t len)
{
    return json_ws_skip(p, 0, len);
}

static inline cJSON *json_body_parse(const char *p, size_t len,
                                     struct hub_err *err)
{
    /* cJSON takes any bytes in a string; jsonb and every later reader
     * refuse them */
    size_t good = utf8_valid_prefix((const unsigned char *)p, len);
    if (good < len) {
        hub_err_set_at(err, HUB_ESYNTAX, "", good, "body is not UTF-8");
        return NULL;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        abort();
    if (len)
        memcpy(copy, p, len);
    copy[len] = '\0';
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(copy, len + 1, &end, false);
    size_t at = end && end >= copy && end <= copy + len
                    ? (size_t)(end - copy) : len;
    free(copy);
    if (doc == NULL) {
        at = json_fault_at(p, len, at);
        hub_err_set_at(err, HUB_ESYNTAX, "", at, "body is not valid JSON "
                       "(malformed or cut short)");
        return NULL;
    }
    at = json_ws_skip(p, at, len);
    if (at < len) {
        cJSON_Delete(doc);
        hub_err_set_at(err, HUB_ESYNTAX, "", at,
                       "body has bytes after its JSON value");
        return NULL;
    }
    return doc;
}

#endif
