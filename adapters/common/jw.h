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
#include <string.h>

#include "common/buf.h"

#define JW_MAX_DEPTH 32

struct jw {
    struct buf b;
    size_t lim;                 /* the inline paths write while b.len stays
                                   at or below: min(b.cap - 1, b.max), 0
                                   after an error (then b does it all) */
    int depth;
    bool first[JW_MAX_DEPTH];   /* no member written yet at this depth */
};

void jw_init(struct jw *w, struct arena *a, size_t max);
static inline void jw_obj_begin(struct jw *w);
static inline void jw_obj_end(struct jw *w);
static inline void jw_arr_begin(struct jw *w);
static inline void jw_arr_end(struct jw *w);
static inline void jw_arr_lazy(struct jw *w, const char *key, bool *open);
static inline void jw_arr_end_if(struct jw *w, bool open);
void jw_key(struct jw *w, const char *key);     /* key is a trusted literal */
void jw_str(struct jw *w, struct slice s);
void jw_cstr(struct jw *w, const char *s);
/* jw_str, or when `plain` (see jw_kv_chunk) the value copied without a
 * look. */
void jw_str_text(struct jw *w, struct slice s, bool plain);
void jw_int(struct jw *w, int64_t v);
/* A finite number as the shortest text that reads back as it (1.5, 0.1),
 * as cJSON prints: a decimal answer written as sent. */
void jw_number(struct jw *w, double v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Already-encoded JSON, inserted as one value. */
void jw_raw(struct jw *w, struct slice json);

/* "key": "value", written only when the value is not empty. */
void jw_kv_str(struct jw *w, const char *key, struct slice s);
void jw_kv_cstr(struct jw *w, const char *key, const char *s);

/*
 * Members with a literal key, for writers on a hot path. JW_KV("key") is the
 * chunk ,"key":" and JW_KEY("key") the chunk ,"key": made at compile time
 * (each two arguments: the text and its length), so the key is neither
 * measured nor looked at. `plain` promises that the value needs no escaping
 * (printable ASCII other than '"' and '\\'): it is then copied without a
 * look; otherwise it is checked and escaped as jw_kv_str does. The member is
 * written only when the value is not empty.
 */
#define JW_KV(key) ",\"" key "\":\"", sizeof(",\"" key "\":\"") - 1
#define JW_KEY(key) ",\"" key "\":", sizeof(",\"" key "\":") - 1
static inline void jw_kv_chunk(struct jw *w, const char *chunk, size_t n,
                               struct slice s, bool plain);
static inline void jw_key_chunk(struct jw *w, const char *chunk, size_t n);
/* True when s needs no escaping: a `plain` value for jw_kv_chunk. */
bool jw_plain(struct slice s);
/* jw_kv_str with a JW_KV chunk: the key is not measured, the value is
 * looked at once (the members of a writer that does not know its values). */
static inline void jw_kv(struct jw *w, const char *chunk, size_t n,
                         struct slice s);
/* "key":true or "key":false from a JW_KEY chunk. */
static inline void jw_kv_bool(struct jw *w, const char *chunk, size_t n,
                              bool v);
/* Room for `n` more bytes now, for a writer that knows its size roughly
 * (the buffer still grows past it, up to its max). */
void jw_reserve(struct jw *w, size_t n);
/* jw_init, and a buffer of `cap` bytes (a power of two from 256 up, as
 * buf_reserve makes them; at most max + 1) made at once: for a writer
 * called for every message, what jw_reserve of that room does, without
 * its doublings. */
void jw_init_cap(struct jw *w, struct arena *a, size_t max, size_t cap);

/*
 * Spans: for a writer that can bound what it writes next (an object and
 * its members, values already in hand), one check for the lot instead of
 * one per member. jw_room() returns a cursor with room for `n` bytes; the
 * jw_put_* calls write through it without a check and return the cursor
 * moved on; jw_commit() ends the span. Members go where jw_kv_chunk would
 * put them, with the same separators: `first` is the span's own "no member
 * written yet" of the container being filled, and jw_put_open() takes the
 * writer's own for the bracket that opens the span (the span closes what
 * it opens; the writer's depth is left as it was). When `n` would pass the
 * writer's max, or after an error, the span is written aside and
 * jw_commit() appends it with the checked call: the document, or its
 * error, is what the calls above would have made.
 * JW_ROOM_KV is the most a jw_put_kv member takes (a value that is not
 * plain may grow sixfold when escaped: a control byte is \u00XX).
 */
#define JW_ROOM_KV(n, s, plain) ((n) + ((plain) ? (s).len : 6 * (s).len) + 1)
#define JW_ROOM_STR(s, plain) (3 + ((plain) ? (s).len : 6 * (s).len))
char *jw_room_slow(struct jw *w, size_t n);
void jw_commit_slow(struct jw *w, const char *start, const char *o);
/* The bytes jw_str writes between the quotes, for s[0..n): at most 6n. */
char *jw_put_escaped(char *o, const unsigned char *s, size_t n);

static inline char *jw_room(struct jw *w, size_t n)
{
    if (w->b.len + n <= w->lim)
        return w->b.p + w->b.len;
    return jw_room_slow(w, n);
}

static inline void jw_commit(struct jw *w, const char *start, char *o)
{
    if (start != w->b.p + w->b.len) {
        jw_commit_slow(w, start, o);
        return;
    }
    *o = '\0';
    w->b.len = (size_t)(o - w->b.p);
}

/* s[0..n) to o: short values (most are) in two overlapping moves, without
 * a call. */
static inline char *jw_put_bytes(char *o, const char *s, size_t n)
{
    if (n >= 8) {
        if (n <= 16) {
            uint64_t a, b;
            memcpy(&a, s, 8);
            memcpy(&b, s + n - 8, 8);
            memcpy(o, &a, 8);
            memcpy(o + n - 8, &b, 8);
        } else {
            memcpy(o, s, n);
        }
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(o, &a, 4);
        memcpy(o + n - 4, &b, 4);
    } else if (n) {
        o[0] = s[0];
        o[n / 2] = s[n / 2];
        o[n - 1] = s[n - 1];
    }
    return o + n;
}

/* The opening bracket of a span, after the writer's separator. */
static inline char *jw_put_open(struct jw *w, char *o, char c)
{
    *o = ',';
    o += !w->first[w->depth];
    w->first[w->depth] = false;
    *o++ = c;
    return o;
}

/* A separator when a member came before in this container. */
static inline char *jw_put_sep(char *o, bool *first)
{
    *o = ',';
    o += !*first;
    *first = false;
    return o;
}

/* "key": from a JW_KEY chunk; the value that follows is the caller's. */
static inline char *jw_put_key(char *o, bool *first, const char *chunk,
                               size_t n)
{
    o = jw_put_sep(o, first);
    memcpy(o, chunk + 1, n - 1);
    return o + n - 1;
}

/* A string element of an array; `plain` as for jw_kv_chunk. */
static inline char *jw_put_str(char *o, bool *first, struct slice s,
                               bool plain)
{
    o = jw_put_sep(o, first);
    *o++ = '"';
    if (plain)
        o = jw_put_bytes(o, s.p, s.len);
    else
        o = jw_put_escaped(o, (const unsigned char *)s.p, s.len);
    *o++ = '"';
    return o;
}

/* "key":"value" from a JW_KV chunk, when the value is not empty. */
static inline char *jw_put_kv(char *o, bool *first, const char *chunk,
                              size_t n, struct slice s, bool plain)
{
    if (s.len == 0)
        return o;
    o = jw_put_sep(o, first);
    memcpy(o, chunk + 1, n - 1);
    o += n - 1;
    if (plain)
        o = jw_put_bytes(o, s.p, s.len);
    else
        o = jw_put_escaped(o, (const unsigned char *)s.p, s.len);
    *o++ = '"';
    return o;
}

/* Returns HUB_OK and the document, or the first error (HUB_ELIMIT). */
int jw_finish(struct jw *w, struct slice *out);

/* jw_kv_chunk and jw_key_chunk when the value must be checked, or the
 * buffer must grow; the brackets when the buffer must grow or the depth
 * is at its limit. */
void jw_kv_chunk_slow(struct jw *w, const char *chunk, size_t n,
                      struct slice s);
void jw_key_chunk_slow(struct jw *w, const char *chunk, size_t n);
void jw_open_slow(struct jw *w, char c);
void jw_close_slow(struct jw *w, char c);

/* The brackets, inline: a canonical event opens dozens of objects and
 * arrays. The separator is written always and kept only when needed. */
static inline void jw_open(struct jw *w, char c)
{
    struct buf *b = &w->b;
    if (b->len + 2 > w->lim || w->depth + 1 >= JW_MAX_DEPTH) {
        jw_open_slow(w, c);
        return;
    }
    char *o = b->p + b->len;
    *o = ',';
    o += !w->first[w->depth];
    *o++ = c;
    *o = '\0';
    b->len = (size_t)(o - b->p);
    w->first[w->depth] = false;
    w->first[++w->depth] = true;
}

static inline void jw_close(struct jw *w, char c)
{
    struct buf *b = &w->b;
    if (b->len + 1 > w->lim || w->depth == 0) {
        jw_close_slow(w, c);
        return;
    }
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
    w->depth--;
}

static inline void jw_obj_begin(struct jw *w)
{
    jw_open(w, '{');
}

static inline void jw_obj_end(struct jw *w)
{
    jw_close(w, '}');
}

static inline void jw_arr_begin(struct jw *w)
{
    jw_open(w, '[');
}

static inline void jw_arr_end(struct jw *w)
{
    jw_close(w, ']');
}

/* A list left out when it would be empty: the first element opens it
 * (*open false: its key and '['), jw_arr_end_if() closes it if opened. */
static inline void jw_arr_lazy(struct jw *w, const char *key, bool *open)
{
    if (!*open) {
        jw_key(w, key);
        jw_arr_begin(w);
        *open = true;
    }
}

static inline void jw_arr_end_if(struct jw *w, bool open)
{
    if (open)
        jw_arr_end(w);
}

/* Inline so that the key, a literal of known length, is copied by a few
 * moves; the separator is written always and kept only when needed. */
static inline void jw_kv_chunk(struct jw *w, const char *chunk, size_t n,
                               struct slice s, bool plain)
{
    struct buf *b = &w->b;
    if (s.len == 0)
        return;
    /* at most n + s.len + 1 bytes: separator, "key":", value, quote */
    if (!plain || b->len + n + s.len + 1 > w->lim) {
        jw_kv_chunk_slow(w, chunk, n, s);
        return;
    }
    char *o = jw_put_key(b->p + b->len, &w->first[w->depth], chunk, n);
    o = jw_put_bytes(o, s.p, s.len);
    o[0] = '"';
    o[1] = '\0';
    b->len = (size_t)(o + 1 - b->p);
}

static inline void jw_kv(struct jw *w, const char *chunk, size_t n,
                         struct slice s)
{
    if (s.len)
        jw_kv_chunk(w, chunk, n, s, jw_plain(s));
}

static inline void jw_kv_bool(struct jw *w, const char *chunk, size_t n,
                              bool v)
{
    struct buf *b = &w->b;
    /* at most n + 5 bytes: separator, "key":, false */
    if (b->len + n + 5 > w->lim) {
        jw_key_chunk_slow(w, chunk, n);
        jw_bool(w, v);
        return;
    }
    char *o = jw_put_key(b->p + b->len, &w->first[w->depth], chunk, n);
    memcpy(o, v ? "true" : "false", 5);     /* "true" with its NUL */
    o += v ? 4 : 5;
    *o = '\0';
    b->len = (size_t)(o - b->p);
}

static inline void jw_key_chunk(struct jw *w, const char *chunk, size_t n)
{
    struct buf *b = &w->b;
    if (b->len + n > w->lim) {
        jw_key_chunk_slow(w, chunk, n);
        return;
    }
    char *o = b->p + b->len;
    *o = ',';
    o += !w->first[w->depth];
    memcpy(o, chunk + 1, n - 1);
    o += n - 1;
    *o = '\0';
    b->len = (size_t)(o - b->p);
    w->first[w->depth] = true;      /* the value that follows takes no comma */
}

#endif
