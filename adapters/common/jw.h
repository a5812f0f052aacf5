/*
 * jw.h - streaming JSON writer into an arena buffer, for canonical events.
 * Why not cJSON: building a tree of malloc'd nodes and printing it costs more
 * than the parse it follows; canonical events are written once, in order.
 * cJSON stays the reader of inbound JSON.
 *
 * Strings are escaped and made valid UTF-8 (an invalid byte becomes U+FFFD),
 * so the output always loads into PostgreSQL jsonb. Errors are sticky: write
 * everything, then check jw_finish().
 */
#ifndef HUB_JW_H
#define HUB_JW_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"

#define JW_MAX_DEPTH 32

struct jw {
    struct buf b;
    int depth;
    bool first[JW_MAX_DEPTH];   /* no member written yet at this depth */
};

void jw_init(struct jw *w, struct arena *a, size_t max);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);     /* key is a trusted literal */
void jw_str(struct jw *w, struct slice s);
void jw_cstr(struct jw *w, const char *s);
void jw_int(struct jw *w, int64_t v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Already-encoded JSON, inserted as one value. */
void jw_raw(struct jw *w, struct slice json);

/* "key": "value", written only when the value is not empty. */
void jw_kv_str(struct jw *w, const char *key, struct slice s);
void jw_kv_cstr(struct jw *w, const char *key, const char *s);

/* Returns HUB_OK and the document, or the first error (HUB_ELIMIT). */
int jw_finish(struct jw *w, struct slice *out);

#endif
