/*
 * store_ingest.c - the ingest batch: one round trip per batch. The batch
 * travels as parallel arrays in binary form (one element per message, one
 * per event; raw bytes and replies as bytea, no escaping) to the PL/pgSQL
 * function hub_ingest_fast() of schemas/migrations/001_init.sql, which
 * runs in the implicit transaction of that one statement and commits
 * without waiting for its WAL flush; in the same pipeline follows
 * hub_durable() in a transaction of its own, which commits synchronously,
 * so the call returns once the batch is durable (ingest_send). Before
 * sending, each event body gets the hub fields this side already knows
 * written into its JSON text, made jsonb's text form (body.c: id,
 * source.org, source.received_at, and the candidate patient.hub_id), and
 * its occurred_at parsed (occ_text), so the SQL does neither per event.
 * Its results come back in binary form too.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/digits.h"
#include "common/hub_err.h"
#include "common/jw.h"
#include "common/utf8.h"
#include "body.h"
#include "jcanon.h"
#include "log.h"

#define BYTEAOID 17
#define TEXTOID 25
#define BYTEAARRAYOID 1001
#define JSONBOID 3802

/* --- ingest -------------------------------------------------------------- */

/* A growable malloc'd byte buffer for the binary parameters. */
struct bin {
    char *p;
    size_t len, cap;
};

/* Room for n more bytes */
static void bin_grow(struct bin *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 1024;
    while (n > cap - b->len)
        cap *= 2;
    char *q = realloc(b->p, cap);
    if (q == NULL)
        abort();
    b->p = q;
    b->cap = cap;
}

/* Inline: most puts are a few bytes of constant size (a length, an int),
 * which the compiler then copies without a call. */
static inline void bin_put(struct bin *b, const void *p, size_t n)
{
    if (n > b->cap - b->len)
        bin_grow(b, n);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static inline void bin_u32(struct bin *b, uint32_t v)
{
    unsigned char be[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                            (unsigned char)(v >> 8), (unsigned char)v };
    bin_put(b, be, 4);
}



/*
 * jsonb refuses the escape \u0000 (text cannot hold NUL), and one such
 * string would fail the whole batch: write U+FFFD (\ufffd, the same length)
 * instead. Outside strings JSON has no backslash, so a scan that skips each
 * escape pair finds exactly the escapes.
 */
static struct slice json_no_nul(struct arena *a, struct slice j)
{
    char *copy = NULL;

    for (size_t i = 0; i + 1 < j.len; i++) {
        const char *bs = memchr(j.p + i, '\\', j.len - i);
        if (bs == NULL)
            break;
        i = (size_t)(bs - j.p);
        if (i + 6 <= j.len && j.p[i + 1] == 'u' &&
            memcmp(j.p + i + 2, "0000", 4) == 0) {
            if (copy == NULL) {
                copy = arena_alloc(a, j.len);
                memcpy(copy, j.p, j.len);
            }
            memcpy(copy + i + 2, "fffd", 4);
        }
        i++;                        /* skip the escaped character */
    }
    return copy ? (struct slice){ copy, j.len } : j;
}

/*
 * hub_parse_ts() of 001 in C: ISO 8601 text that it turns into a
 * timestamptz, written to `out` as the text it casts (a time without an
 * offset is UTC: "Z" appended); false where it gives NULL. The same pattern
 *   YYYY-MM-DD[(T| )hh:mm[:ss[.f{1,9}]]][Z|(+|-)hh[:]mm]
 * with year 0000 refused, months 01-12, days up to the month's last, hours
 * 00-23, minutes 00-59, seconds 00-60. Second 60, a leap second (HL7 v2's
 * TS and FHIR's dateTime take it), is the next minute's start, as
 * PostgreSQL's cast reads it; its fraction is dropped, for the cast
 * refuses one there (F3420). `out` holds at least n + 2 bytes.
 */
static bool occ_text(struct slice v, char *out)
{
    const char *p = v.p;
    size_t n = v.len, i = 10;
    size_t leap_at = 0, leap_len = 0; /* a leap second's fraction: where,
                                       * and its length with the '.' */

    if (n < 10 || !ascii_digits(p, 4) || p[4] != '-' ||
        !ascii_digits(p + 5, 2) || p[7] != '-' || !ascii_digits(p + 8, 2) ||
        memcmp(p, "0000", 4) == 0)
        return false;
    int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + ascii_num2(p + 2);
    int mo = ascii_num2(p + 5), d = ascii_num2(p + 8);
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return false;
    if (i < n && (p[i] == 'T' || p[i] == ' ')) {
        if (n - i < 6 || !ascii_digits(p + i + 1, 2) || p[i + 3] != ':' ||
            !ascii_digits(p + i + 4, 2) || ascii_num2(p + i + 1) > 23 ||
            ascii_num2(p + i + 4) > 59)
            return false;
        i += 6;
        if (i < n && p[i] == ':') {
            if (n - i < 3 || !ascii_digits(p + i + 1, 2) ||
                ascii_num2(p + i + 1) > 60)
                return false;
            i += 3;
            if (i < n && p[i] == '.') {
                size_t f = 0;
                while (i + 1 + f < n && f < 10 && p[i + 1 + f] >= '0' &&
                       p[i + 1 + f] <= '9')
                    f++;
                if (f < 1 || f > 9)
                    return false;
                if (ascii_num2(p + i - 2) == 60) {
                    leap_at = i;
                    leap_len = 1 + f;
                }
                i += 1 + f;
            }
        }
    }
    bool zone = false;
    if (i < n && p[i] == 'Z') {
        zone = true;
        i++;
    } else if (i < n && (p[i] == '+' || p[i] == '-')) {
        size_t mm;                  /* where the offset's minutes are */
        if (n - i >= 6 && ascii_digits(p + i + 1, 2) && p[i + 3] == ':' &&
            ascii_digits(p + i + 4, 2))
            mm = 4;
        else if (n - i >= 5 && ascii_digits(p + i + 1, 4))
            mm = 3;
        else
            return false;
        /* an offset PostgreSQL takes (up to 15:59), as hub_parse_ts: one
         * past it was stored here and refused there, so a message was
         * accepted or quarantined by the path its batch took */
        if (ascii_num2(p + i + 1) > 15 || ascii_num2(p + i + mm) > 59)
            return false;
        i += mm + 2;
        zone = true;
    }
    if (i != n)
        return false;
    if (leap_len) {
        memcpy(out, p, leap_at);
        memcpy(out + leap_at, p + leap_at + leap_len, n - leap_at - leap_len);
        n -= leap_len;
    } else {
        memcpy(out, p, n);
    }
    if (!zone)
        out[n++] = 'Z';
    out[n] = '\0';
    return true;
}

/* 2026-12-02T01:40:34.654Z exactly: what hub_ingest_fast's to_char()
 * writes. */
static bool is_iso_ms(const char *t)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < sizeof(pat) - 1; i++) {
        if (pat[i] == 'd' ? !(t[i] >= '0' && t[i] <= '9') : t[i] != pat[i])
            return false;
    }
    return t[sizeof(pat) - 1] == '\0';
}

/*
 * A time occ_text() accepted, as PostgreSQL's timestamptz binary form
 * (microseconds since 2000-01-01 00:00 UTC): what its cast of that text
 * gives. False for what this does not reproduce exactly, left to the cast:
 * more than 6 digits of a second (the cast rounds them), an offset past
 * 15:59 (which the cast refuses). `p` has passed occ_text(): second 60
 * counts as 60 (the next minute's start), its fraction dropped as there.
 */
static bool occ_micros(const char *p, size_t n, int64_t *out)
{
    int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + ascii_num2(p + 2);
    int mo = ascii_num2(p + 5), d = ascii_num2(p + 8);
    int64_t sec = 0, us = 0;
    size_t i = 10;

    if (i < n && (p[i] == 'T' || p[i] == ' ')) {
        sec = ascii_num2(p + i + 1) * 3600 + ascii_num2(p + i + 4) * 60;
        i += 6;
        if (i < n && p[i] == ':') {
            int s = ascii_num2(p + i + 1);
            sec += s;
            i += 3;
            if (i < n && p[i] == '.') {
                size_t f = 0;
                for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++, f++)
                    us = us * 10 + (p[i] - '0');
                if (s == 60) {
                    us = 0;         /* dropped, as occ_text() drops it */
                } else {
                    if (f > 6)
                        return false;
                    for (; f < 6; f++)
                        us *= 10;
                }
            }
        }
    }
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        int hh = ascii_num2(p + i + 1);
        int mm = ascii_num2(p + i + (p[i + 3] == ':' ? 4 : 3));
        if (hh > 15 || mm > 59)
            return false;
        int64_t off = hh * 3600 + mm * 60;
        sec += p[i] == '+' ? -off : off;
    }
    /* days from 1970-01-01 (H. Hinnant's days_from_civil), then 2000's */
    int yy = y - (mo <= 2);
    int era = (yy >= 0 ? yy : yy - 399) / 400;
    int yoe = yy - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468 - 10957;
    *out = (days * 86400 + sec) * 1000000 + us;
    return true;
}

/* --- binary array parameters --------------------------------------------- */

#define BOOLOID 16
#define INT4OID 23
#define INT8OID 20
#define BOOLARRAYOID 1000
#define INT4ARRAYOID 1007
#define TEXTARRAYOID 1009
#define INT8ARRAYOID 1016
#define JSONBARRAYOID 3807
#define TIMESTAMPTZOID 1184
#define TIMESTAMPTZARRAYOID 1185

/* PostgreSQL binary array header: ndim, has-null flag, element type, then
 * (size, lower bound); an empty array has no dimension. Items follow as
 * (length | -1, bytes). */
static void arr_begin(struct bin *b, uint32_t elem, size_t n)
{
    bin_u32(b, n ? 1 : 0);
    bin_u32(b, 1);                  /* may hold NULLs */
    bin_u32(b, elem);
    if (n) {
        bin_u32(b, (uint32_t)n);
        bin_u32(b, 1);
    }
}

static void arr_null(struct bin *b)
{
    bin_u32(b, 0xffffffffu);
}

static void arr_bytes(struct bin *b, const char *p, size_t n)
{
    bin_u32(b, (uint32_t)n);
    bin_put(b, p, n);
}

static void arr_cstr(struct bin *b, const char *s)
{
    arr_bytes(b, s, strlen(s));
}

static void arr_bool(struct bin *b, bool v)
{
    unsigned char c = v;
    bin_u32(b, 1);
    bin_put(b, &c, 1);
}

static void arr_int4(struct bin *b, uint32_t v)
{
    bin_u32(b, 4);
    bin_u32(b, v);
}

static void arr_int8(struct bin *b, int64_t v)
{
    bin_u32(b, 8);
    bin_u32(b, (uint32_t)((uint64_t)v >> 32));
    bin_u32(b, (uint32_t)v);
}

/* A parameter given up on: NULL (its bin empty) */
static void bin_drop(struct bin *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* jsonb binary input is a version byte (1) and the JSON text */
static void arr_jsonb(struct bin *b, struct slice j)
{
    static const char one = 1;
    bin_u32(b, (uint32_t)j.len + 1);
    bin_put(b, &one, 1);
    bin_put(b, j.p, j.len);
}

/* text cannot hold NUL nor invalid UTF-8: both become U+FFFD, exactly as
 * the JSON writer (jw.c) makes them (common/utf8.h) */
static struct slice text_clean(struct arena *a, struct slice v)
{
    const unsigned char *s = (const unsigned char *)v.p;
    size_t i = 0;

    while (i < v.len && s[i] != 0 && s[i] < 0x80)
        i++;
    if (i == v.len)
        return v;
    struct buf b;
    buf_init(&b, a, v.len * 3 + 1);
    buf_append(&b, v.p, i);
    while (i < v.len) {
        unsigned char c = s[i];
        if (c != 0 && c < 0x80) {
            buf_putc(&b, (char)c);
            i++;
            continue;
        }
        size_t len = utf8_seq_len(s + i, v.len - i);
        if (len) {
            buf_append(&b, v.p + i, len);
            i += len;
        } else {
            buf_append(&b, UTF8_REPLACEMENT, 3);
            i++;
        }
    }
    return buf_slice(&b);
}

static int64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | (unsigned char)p[i];
    return (int64_t)v;
}

static uint32_t be32(const char *p)
{
    return (uint32_t)(unsigned char)p[0] << 24 |
           (uint32_t)(unsigned char)p[1] << 16 |
           (uint32_t)(unsigned char)p[2] << 8 | (unsigned char)p[3];
}

/* A one-dimensional array of n elements in binary (array_send): each
 * element's bytes and length (-1: NULL) into v and l. false: not that. */
static bool arr_read(const char *p, size_t len, size_t n, const char **v,
                     int *l)
{
    size_t off = 20;

    if (len < 12 || be32(p) != (n ? 1u : 0u))
        return false;
    if (n == 0)
        return len == 12;
    if (len < 20 || be32(p + 12) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (len - off < 4)
            return false;
        uint32_t el = be32(p + off);
        off += 4;
        if (el == 0xffffffffu) {
            v[i] = NULL;
            l[i] = -1;
            continue;
        }
        if (el > len - off)
            return false;
        v[i] = p + off;
        l[i] = (int)el;
        off += el;
    }
    return off == len;
}

/* The parameters of hub_ingest_fast() and hub_ingest_once(), in their
 * order (001_init.sql, 011_retry_once.sql; the tokens since
 * 013_retry_accepted.sql) */
enum {
    P_ORG, P_FMT, P_KEY, P_SHA, P_AT, P_OK, P_ERR, P_RAW, P_REPLY, P_PART,
    P_EMSG, P_EID, P_ETYPE, P_EPID, P_ECUR, P_EPREP, P_EOCC, P_EBODY,
    P_IK, P_ISYS, P_IVAL, P_IFIRST, P_MEVIDS, P_EPOS, P_ECANON, P_ADETAIL,
    P_ATB, P_EOCCB, P_TOKEN, P_N
};

static const Oid ingest_types[P_N] = {
    TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
    BOOLARRAYOID, JSONBARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID, INT4ARRAYOID,
    INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
    BOOLARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID,
    TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID, INT4ARRAYOID, BOOLARRAYOID,
    TEXTARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID, INT8ARRAYOID,
};

static void now_iso_ms(char out[32])
{
    struct timespec ts;
    struct tm tm;
    char sec[24];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%.20s.%03dZ", sec, (int)(ts.tv_nsec / 1000000));
}

/*
 * The detail of message m's 'message.received' audit row, as jsonb prints
 * it: the SQL stores this very text (audit.detail) and chains it, so it
 * must be jsonb's text form, {"events": [...], "format": ..., "sha256": ...}
 * (keys of one length: in byte order), written here as jcanon() writes
 * it. cev: the event ids, each as jcanon_quote() writes it, joined by
 * ", "; !ok: one could not be (invalid UTF-8, as jcanon would refuse).
 * NULL then, or when a value is missing: the SQL builds the detail itself.
 */
static void put_received_detail(struct arena *a, struct bin *p,
                                const struct store_msg *m, struct slice cev,
                                bool ok)
{
    struct slice f, h;
    struct buf d;

    if (m->format == NULL || !ok ||
        !jcanon_quote(a, m->format, strlen(m->format), &f) ||
        !jcanon_quote(a, m->sha256, strlen(m->sha256), &h)) {
        arr_null(p);
        return;
    }
    buf_init(&d, a, cev.len + f.len + h.len + 48);
    buf_puts(&d, "{\"events\": [");
    buf_append(&d, cev.p, cev.len);
    buf_puts(&d, "], \"format\": ");
    buf_append(&d, f.p, f.len);
    buf_puts(&d, ", \"sha256\": ");
    buf_append(&d, h.p, h.len);
    buf_putc(&d, '}');
    arr_bytes(p, d.p, d.len);
}

/* What filling one batch's arrays keeps between its messages. */
struct batch {
    struct arena *a;                /* the call's: what the arrays point to */
    /* what one event's (or message's) text needs only until it is in the
     * arrays: the written body, its canonical text (jcanon asks for six
     * times the body), the audit detail. Reset after each, so that a batch
     * of thousands of events (a CSV upload) reuses one chunk instead of
     * growing `a` by tens of megabytes that the allocator then keeps. */
    struct arena scratch;
    struct bin *p;
    struct idents ids;
    char now[32];                   /* "" until a message needs it */
    size_t k_ev;                    /* events so far, 1-based when put */
    size_t owner;                   /* 1-based: the message parts belong to */
    /* the times in binary too, while every one of them converts exactly */
    bool atb, eoccb;
    /* arrays the SQL does without when each element says the usual
     * (001_init.sql: p_eprep, p_ecanon, p_epid; p_at, p_eocc beside their
     * binary forms): sent NULL, one array fewer to receive */
    bool all_prep, all_canon, all_pid_in;
};

/* The arrays begun, the big ones sized once (each realloc copies what is
 * there): the raw messages, the replies, and the bodies, whose canonical
 * text with the hub fields is rarely more than 1.25 times the adapter's. */
static void batch_open(struct batch *b, const struct store_msg *m, size_t n)
{
    struct bin *p = b->p;
    size_t n_ev = 0, raw = 0, reply = 0, json = 0;

    for (size_t i = 0; i < n; i++) {
        raw += m[i].raw.len;
        reply += m[i].reply.len;
        if (m[i].accepted) {
            n_ev += m[i].n_ev;
            for (size_t k = 0; k < m[i].n_ev; k++)
                json += m[i].ev[k].json.len;
        }
    }
    bin_grow(&p[P_RAW], raw + 4 * n + 32);
    bin_grow(&p[P_REPLY], reply + 4 * n + 32);
    bin_grow(&p[P_EBODY], json + json / 4 + 256 * n_ev + 32);
    arr_begin(&p[P_ORG], TEXTOID, n);
    arr_begin(&p[P_FMT], TEXTOID, n);
    arr_begin(&p[P_KEY], TEXTOID, n);
    arr_begin(&p[P_SHA], TEXTOID, n);
    arr_begin(&p[P_AT], TEXTOID, n);
    arr_begin(&p[P_OK], BOOLOID, n);
    arr_begin(&p[P_ERR], JSONBOID, n);
    arr_begin(&p[P_RAW], BYTEAOID, n);
    arr_begin(&p[P_REPLY], BYTEAOID, n);
    arr_begin(&p[P_PART], INT4OID, n);
    arr_begin(&p[P_EMSG], INT4OID, n_ev);
    arr_begin(&p[P_EID], TEXTOID, n_ev);
    arr_begin(&p[P_ETYPE], TEXTOID, n_ev);
    arr_begin(&p[P_EPID], TEXTOID, n_ev);
    arr_begin(&p[P_ECUR], TEXTOID, n_ev);
    arr_begin(&p[P_EPREP], BOOLOID, n_ev);
    arr_begin(&p[P_EOCC], TEXTOID, n_ev);
    arr_begin(&p[P_EBODY], TEXTOID, n_ev);
    arr_begin(&p[P_EPOS], INT4OID, n_ev);
    arr_begin(&p[P_ECANON], BOOLOID, n_ev);
    arr_begin(&p[P_MEVIDS], TEXTOID, n);
    arr_begin(&p[P_ADETAIL], TEXTOID, n);
    arr_begin(&p[P_ATB], TIMESTAMPTZOID, n);
    arr_begin(&p[P_EOCCB], TIMESTAMPTZOID, n_ev);
}

/* Message i's own elements (not its events); returns its received_at,
 * and whether it is in the form is_iso_ms() takes in *exact. */
static const char *batch_put_message(struct batch *b,
                                     const struct store_msg *m, size_t i,
                                     struct slice org, bool *exact)
{
    struct bin *p = b->p;
    struct slice key = text_clean(b->a, m->key);
    const char *at = m->received_at;

    if (at[0] == '\0') {
        /* as the SQL's now() would: the time of this call */
        if (b->now[0] == '\0')
            now_iso_ms(b->now);
        at = b->now;
    }
    arr_bytes(&p[P_ORG], org.p, org.len);
    arr_cstr(&p[P_FMT], m->format);
    if (key.len)
        arr_bytes(&p[P_KEY], key.p, key.len);
    else
        arr_null(&p[P_KEY]);
    arr_cstr(&p[P_SHA], m->sha256);
    arr_cstr(&p[P_AT], at);
    *exact = is_iso_ms(at);
    b->atb = b->atb && *exact;      /* with its zone: "Z" */
    if (b->atb) {
        char t[40];
        int64_t us;
        size_t tl = strlen(at);
        b->atb = tl < sizeof(t) - 2 &&
                 occ_text((struct slice){ at, tl }, t) &&
                 occ_micros(at, tl, &us);
        if (b->atb)
            arr_int8(&p[P_ATB], us);
    }
    arr_bool(&p[P_OK], m->accepted);
    if (!m->accepted && m->error_json.len)
        arr_jsonb(&p[P_ERR], json_no_nul(b->a, m->error_json));
    else
        arr_null(&p[P_ERR]);
    arr_bytes(&p[P_RAW], m->raw.p ? m->raw.p : "", m->raw.len);
    if (m->reply.p)
        arr_bytes(&p[P_REPLY], m->reply.p, m->reply.len);
    else
        arr_null(&p[P_REPLY]);
    if (!m->part)
        b->owner = i + 1;
    if (m->part && b->owner)
        arr_int4(&p[P_PART], (uint32_t)b->owner);
    else
        arr_null(&p[P_PART]);
    return at;
}

/* occurred_at: parsed here, or "?" for hub_parse_ts() in SQL */
static void batch_put_occurred(struct batch *b, const struct body_out *e)
{
    struct bin *p = b->p;

    if (e->occ.state == OCC_TEXT) {
        char *t = arena_alloc(&b->scratch, e->occ.v.len + 2);
        int64_t us;
        if (occ_text(e->occ.v, t)) {
            arr_cstr(&p[P_EOCC], t);
            if (b->eoccb && occ_micros(e->occ.v.p, e->occ.v.len, &us))
                arr_int8(&p[P_EOCCB], us);
            else
                b->eoccb = false;
        } else {
            arr_null(&p[P_EOCC]);
            arr_null(&p[P_EOCCB]);
        }
    } else if (e->occ.state == OCC_SQL) {
        arr_cstr(&p[P_EOCC], "?");
        b->eoccb = false;
    } else {
        arr_null(&p[P_EOCC]);
        arr_null(&p[P_EOCCB]);
    }
}

/* One accepted message's events as they are put: where they come from,
 * and their ids so far, as text (evids) and as jcanon quotes them (cev;
 * cev_ok false once one cannot be). */
struct batch_msg {
    const struct store_msg *m;
    size_t i;                       /* its index in the batch */
    const char *org_c;              /* its org id as the body gets it */
    const char *at;                 /* its received_at */
    bool at_exact;                  /* at in the form is_iso_ms() takes */
    struct buf evids, cev;
    bool cev_ok;
};

/* Event k of x's message: its elements, and its id added to x's. */
static void batch_put_event(struct batch *b, struct batch_msg *x, size_t k)
{
    struct bin *p = b->p;
    const struct store_msg *m = x->m;
    char id[STORE_ID_LEN + 1], pid[STORE_ID_LEN + 1];
    const char *eid = id;
    struct slice body = json_no_nul(b->a, m->ev[k].json);

    if (m->ev_id)
        eid = m->ev_id[k];
    else
        store_new_id(id);
    store_new_id(pid);              /* used only if the patient is new */
    b->k_ev++;
    struct body_out e = { body, { OCC_SQL, SLICE_NULL }, false, false,
                          false, 0 };
    struct body_hub h = { eid, x->org_c, x->at, pid };
    body_prepare(b->a, &b->scratch, x->at_exact, &h, (uint32_t)b->k_ev,
                 &b->ids, &e);
    arr_int4(&p[P_EMSG], (uint32_t)(x->i + 1));
    arr_cstr(&p[P_EID], eid);
    if (m->ev[k].type)
        arr_cstr(&p[P_ETYPE], m->ev[k].type);
    else
        arr_null(&p[P_ETYPE]);
    arr_cstr(&p[P_EPID], pid);
    if (e.pid_in)
        arr_cstr(&p[P_ECUR], pid);
    else
        arr_null(&p[P_ECUR]);
    arr_bool(&p[P_EPREP], e.prep);
    b->all_prep = b->all_prep && e.prep;
    b->all_pid_in = b->all_pid_in && e.pid_in;
    batch_put_occurred(b, &e);
    /* the text, cast to jsonb in SQL once the patient is known */
    arr_bytes(&p[P_EBODY], e.body.p, e.body.len);
    if (e.pid_in && body_id_only_at(e.body, pid, e.pid_at))
        arr_int4(&p[P_EPOS], (uint32_t)e.pid_at + 1);  /* 1-based */
    else
        arr_null(&p[P_EPOS]);
    arr_bool(&p[P_ECANON], e.canon);
    b->all_canon = b->all_canon && e.canon;
    if (k)
        buf_putc(&x->evids, ',');
    body_put_str(&x->evids, eid);
    struct slice q;
    if (k)
        buf_puts(&x->cev, ", ");
    if (jcanon_quote(&b->scratch, eid, strlen(eid), &q))
        buf_append(&x->cev, q.p, q.len);
    else
        x->cev_ok = false;
    arena_reset(&b->scratch);
}

/* Accepted message i's events, its event ids (messages.event_ids) and its
 * audit detail; returns the ids as hub_ingest_fast answers them (jsonb's
 * text form), or NULL when the SQL must make them. */
static const char *batch_put_events(struct batch *b, const struct store_msg *m,
                                    size_t i, struct slice org,
                                    const char *at, bool at_exact)
{
    struct bin *p = b->p;
    const char *evtext = "[]";
    struct batch_msg x = { .m = m, .i = i, .at = at,
                           .org_c = arena_strndup(b->a, org.p, org.len),
                           .at_exact = at_exact, .cev_ok = true };

    /* the ceiling fits any id: each byte escaped as \u00XX at most */
    buf_init(&x.evids, b->a, 2 + m->n_ev * (6 * STORE_ID_LEN + 3));
    buf_init(&x.cev, b->a, 2 + m->n_ev * (6 * STORE_ID_LEN + 4));
    buf_putc(&x.evids, '[');
    for (size_t k = 0; k < m->n_ev; k++)
        batch_put_event(b, &x, k);
    if (m->n_ev) {
        buf_putc(&x.evids, ']');
        /* as jsonb prints the ids: the ids as jcanon quotes them, stored
         * as they are (messages.event_ids); else the plain text, which
         * the SQL casts (p_adetail is NULL then) */
        struct buf t;
        buf_init(&t, b->a, x.cev.len + 3);
        buf_putc(&t, '[');
        buf_append(&t, x.cev.p, x.cev.len);
        buf_putc(&t, ']');
        if (x.cev_ok)
            arr_bytes(&p[P_MEVIDS], t.p, t.len);
        else
            arr_bytes(&p[P_MEVIDS], x.evids.p, x.evids.len);
        buf_putc(&t, '\0');
        evtext = x.cev_ok ? t.p : NULL;
    }
    put_received_detail(&b->scratch, &p[P_ADETAIL], m, buf_slice(&x.cev),
                        x.cev_ok);
    arena_reset(&b->scratch);
    return evtext;
}

/* The arrays that say the usual dropped, and the identifiers as the SQL
 * would read them, or NULL: it reads them. */
static void batch_close(struct batch *b)
{
    struct bin *p = b->p;

    bin_drop(b->atb ? &p[P_AT] : &p[P_ATB]);
    bin_drop(b->eoccb ? &p[P_EOCC] : &p[P_EOCCB]);
    if (b->all_prep)
        bin_drop(&p[P_EPREP]);
    if (b->all_canon)
        bin_drop(&p[P_ECANON]);
    if (b->all_pid_in)
        bin_drop(&p[P_EPID]);
    if (b->ids.ok) {
        struct idents *ids = &b->ids;
        body_idents_first(ids);
        arr_begin(&p[P_IK], INT4OID, ids->n);
        arr_begin(&p[P_ISYS], TEXTOID, ids->n);
        arr_begin(&p[P_IVAL], TEXTOID, ids->n);
        arr_begin(&p[P_IFIRST], INT4OID, ids->n);
        bool all_first = true;      /* NULL p_ifirst: each is its p_ik */
        for (size_t x = 0; x < ids->n; x++) {
            arr_int4(&p[P_IK], ids->v[x].k);
            arr_bytes(&p[P_ISYS], ids->v[x].sys.p, ids->v[x].sys.len);
            arr_bytes(&p[P_IVAL], ids->v[x].val.p, ids->v[x].val.len);
            arr_int4(&p[P_IFIRST], ids->v[x].first);
            all_first = all_first && ids->v[x].first == ids->v[x].k;
        }
        if (all_first)
            bin_drop(&p[P_IFIRST]);
    }
    free(b->ids.v);
    arena_release(&b->scratch);
}

/* The retry tokens of a batch (NULL as a whole when none has one): an
 * accepted message's is stored with its row, so that hubd's own retry of
 * a batch whose commit went through is told from a sender's re-send of
 * the same key (013_retry_accepted.sql), and a duplicate's is recorded,
 * so that the retry audits and keeps it no more (014_retry_duplicates.sql);
 * a refused message's is recorded with its message id, so that the retry
 * stores it no more (011_retry_once.sql). Returns whether a refused message has one: the
 * batch then goes to hub_ingest_once(), else to hub_ingest_fast(). A
 * refused message without its own received_at has no token (a retry's
 * would differ, and the token is looked for at that instant). */
static bool batch_put_tokens(struct bin *p, const struct store_msg *m,
                             size_t n)
{
    bool once = false, any = false;

    for (size_t i = 0; i < n && !any; i++)
        any = m[i].retry_token != 0;
    if (!any)
        return false;
    arr_begin(&p[P_TOKEN], INT8OID, n);
    for (size_t i = 0; i < n; i++) {
        bool put = m[i].retry_token != 0 &&
                   (m[i].accepted || m[i].received_at[0] != '\0');
        if (put)
            arr_int8(&p[P_TOKEN], m[i].retry_token);
        else
            arr_null(&p[P_TOKEN]);
        once = once || (put && !m[i].accepted);
    }
    return once;
}

/* Fill the arrays of one batch; evtext[i]: message i's event ids as
 * hub_ingest_fast answers them (jsonb's text form), NULL if not written.
 * False when an event carries an identifier in another organization's
 * scope (body.h, ids.foreign). */
static bool build_batch(struct arena *a, const struct store_msg *m, size_t n,
                        struct bin *p, const char **evtext)
{
    struct batch b = { .a = a, .p = p, .ids = { NULL, 0, 0, true, false },
                       .atb = true, .eoccb = true, .all_prep = true,
                       .all_canon = true, .all_pid_in = true };

    arena_init(&b.scratch, 64 * 1024);
    batch_open(&b, m, n);
    for (size_t i = 0; i < n; i++) {
        struct slice org = text_clean(a, slice_from_cstr(m[i].org_id));
        bool at_exact;
        const char *at = batch_put_message(&b, &m[i], i, org, &at_exact);
        evtext[i] = "[]";
        if (!m[i].accepted || m[i].n_ev == 0)
            arr_null(&p[P_MEVIDS]);
        if (!m[i].accepted) {
            arr_null(&p[P_ADETAIL]);
            continue;
        }
        evtext[i] = batch_put_events(&b, &m[i], i, org, at, at_exact);
    }
    bool foreign = b.ids.foreign;
    batch_close(&b);
    return !foreign;
}

/* named after the migration that made its parameters: behind a
 * transaction-mode pooler a server session outlives hubd, and one an older
 * hubd prepared the call of 28 on answers 42P05 to ingest_prepare and
 * 08P01 to every batch sent to it (F1440). A new name with each change of
 * them (014 made the function again with the same ones: the name holds) */
#define INGEST_STMT "hub_ingest_fast_013"
#define INGEST_SQL                                                         \
    "SELECT dups, message_ids, event_ids, replies, kept "                  \
    "FROM hub_ingest_fast($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "  \
    "$12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, " \
    "$26, $27, $28, $29)"
/* a batch with a refused message's retry token (batch_put_tokens; rare: unnamed) */
#define ONCE_SQL                                                           \
    "SELECT dups, message_ids, event_ids, replies, kept "                  \
    "FROM hub_ingest_once($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "  \
    "$12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, " \
    "$26, $27, $28, $29)"

/* The session's state is unknown (a pipeline that did not end as sent):
 * end it as a cut does; the next call opens a new one (db_ensure_conn),
 * which honours store_stop_waiting. A PQreset here opened a link past the
 * drain (F901). */
static void drop_session(struct store *s)
{
    db_end_link(s);
}

/* Prepare the ingest call and the wait on this session. false: they could
 * not be (the batch then goes unnamed). */
static bool ingest_prepare(struct store *s)
{
    static const char *const names[] = { INGEST_STMT, DURABLE_STMT };
    static const char *const sqls[] = { INGEST_SQL, DURABLE_SQL };
    bool ok = true;

    for (int i = 0; i < 2 && ok; i++) {
        PGresult *p = db_result(s, "ingest.prepare", db_now_ms(),
                                PQsendPrepare(s->c, names[i], sqls[i],
                                              i == 0 ? P_N : 0,
                                              i == 0 ? ingest_types : NULL));
        const char *st = PQresultErrorField(p, PG_DIAG_SQLSTATE);
        /* 42P05: it exists after all (a pooler's other session) */
        ok = PQresultStatus(p) == PGRES_COMMAND_OK ||
             (st && strcmp(st, "42P05") == 0);
        PQclear(p);
    }
    s->ingest_prepared = ok;
    return ok;
}

/*
 * The batch and the wait for its durability in one round trip (libpq
 * pipeline mode): the ingest call and a Sync (its implicit transaction
 * commits there, without waiting for the flush: hub_ingest_fast), then
 * hub_durable() in a transaction of its own and a second Sync, whose
 * result comes back once the WAL is flushed past the batch's commit.
 * Returns the
 * ingest call's result (NULL if none came); *durable is HUB_OK only when
 * the wait returned, and nothing about the batch may be told before it
 * does. named: the prepared statements, else both unnamed; once: the
 * batch has retry tokens (hub_ingest_once, unnamed).
 */
static PGresult *ingest_send(struct store *s, bool named, bool once,
                             const char *const *vals, const int *lens,
                             const int *fmts, int *durable)
{
    PGconn *c = s->c;
    PGresult *ing = NULL, *err = NULL;
    int syncs = 0, nulls = 0;
    int64_t start = db_now_ms();

    *durable = HUB_EDB;
    if (!PQenterPipelineMode(c))
        return NULL;
    bool sent =
        (named ? PQsendQueryPrepared(c, INGEST_STMT, P_N, vals, lens, fmts,
                                     1)
               : PQsendQueryParams(c, once ? ONCE_SQL : INGEST_SQL, P_N,
                                   ingest_types, vals, lens, fmts, 1)) &&
        PQpipelineSync(c) &&
        (named ? PQsendQueryPrepared(c, DURABLE_STMT, 0, NULL, NULL, NULL, 0)
               : PQsendQueryParams(c, DURABLE_SQL, 0, NULL, NULL, NULL, NULL,
                                   0)) &&
        PQpipelineSync(c);
    /* results: the ingest's, NULL, a sync, the wait's, NULL, a sync; two
     * NULLs in a row: nothing more will come (a broken link) */
    while (syncs < 2) {
        /* bounded (store_stop_waiting): a cut ends the pipeline unread */
        if (db_await(s, "ingest", start) != HUB_OK)
            break;
        PGresult *r = PQgetResult(c);
        if (r == NULL) {
            if (++nulls == 2)
                break;
            continue;
        }
        nulls = 0;
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            syncs++;
            PQclear(r);
        } else if (syncs == 0 && ing == NULL) {
            ing = r;
        } else if (syncs == 0 && err == NULL && st == PGRES_FATAL_ERROR) {
            err = r;                /* the commit at the Sync failed */
        } else {
            if (syncs == 1 && st == PGRES_TUPLES_OK)
                *durable = HUB_OK;
            PQclear(r);
        }
    }
    if (!PQexitPipelineMode(c) || !sent || syncs < 2) {
        /* not all the pipeline came back: whatever it did, the next call
         * starts on a new session (the batch is retried; the store
         * de-duplicates) */
        *durable = HUB_EDB;
        if (PQstatus(c) == CONNECTION_OK)
            drop_session(s);
    }
    /* the call's rows count only once its commit was reported (the first
     * Sync's answer, with no error before it): else the outcome is unknown
     * and the batch failed */
    if (PQresultStatus(ing) == PGRES_TUPLES_OK && (syncs == 0 || err)) {
        PQclear(ing);
        ing = err;
        err = NULL;
    }
    PQclear(err);
    return ing;
}

/*
 * Run the ingest call and its wait. Named statements, prepared once per
 * session: the unnamed one was parsed, analysed and planned again for
 * every batch (about 60 us of the server's CPU, a tenth of a batch's fixed
 * cost). A session that does not know them (26000: behind a
 * transaction-mode pooler the next call may reach another server session)
 * gets them prepared again, and if that does not hold either the batch
 * goes unnamed, as before: no session state is required.
 */
static PGresult *ingest_exec(struct store *s, bool once,
                             const char *const *vals, const int *lens,
                             const int *fmts, int *durable)
{
    for (int tries = 0; tries < 2 && !once; tries++) {
        if (!s->ingest_prepared && !ingest_prepare(s))
            break;
        PGresult *r = ingest_send(s, true, false, vals, lens, fmts, durable);
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (st == NULL || strcmp(st, "26000") != 0)
            return r;
        PQclear(r);
        s->ingest_prepared = false;
    }
    return ingest_send(s, false, once, vals, lens, fmts, durable);
}

/*
 * The hub's own refusals of a message's value, by the SQLSTATE the
 * migrations raise for it: what the sender is told and at which member of
 * the event. The committer's "the database refused a value of the
 * message" named no reason (F2242). A refusal raised inside the function
 * `in` (PG_DIAG_CONTEXT names it) is at `field_in` instead. The other
 * SQLSTATEs of the kind, 22H10 and 22H11, are the feed's answers to a
 * cursor (hub_feed_page; 409 and 410 in hubd), never an ingest's.
 */
struct ingest_refusal {
    char sqlstate[6];
    const char *field;
    const char *in, *field_in;
    const char *what;
};

static const struct ingest_refusal ingest_refusals[] = {
    /* hub_id_system (023), and hubd's own check (build_batch) */
    { "22H12", "patient.identifiers",
      "hub_merge_patient", "patient.merged_from",
      "identifier system names another organization's urn:hub: scope" },
};

/* The refusal of SQLSTATE st (context: the error's PG_DIAG_CONTEXT, or
 * NULL) into s, or none. */
static void note_refusal(struct store *s, const char *st, const char *context)
{
    s->refusal = NULL;
    s->refusal_field = "";
    for (size_t i = 0; i < sizeof(ingest_refusals) / sizeof(*ingest_refusals);
         i++) {
        const struct ingest_refusal *f = &ingest_refusals[i];
        if (strcmp(st, f->sqlstate) != 0)
            continue;
        s->refusal = f;
        s->refusal_field = context && strstr(context, f->in) ? f->field_in
                                                              : f->field;
        return;
    }
}

bool store_ingest_refusal(const struct store *s, const char **field,
                          const char **what)
{
    if (s->refusal == NULL)
        return false;
    *field = s->refusal_field;
    *what = s->refusal->what;
    return true;
}

/* Whether an accepted message of `org` holds `key` (the idempotency index,
 * messages_org_key_accepted: one row at most) */
#define KEY_HELD_SQL                                                       \
    "SELECT 1 FROM messages WHERE idem_key = $1 AND org_id = $2 "          \
    "AND status = 'accepted'"

/*
 * Messages whose key had another form before (store_msg.old_key: a CSV
 * upload keyed by its names too, F4080) go to the batch under that form
 * when an accepted message holds it: a re-send of an upload stored before
 * the change. *m becomes a copy in `a` when one does. Its own statement,
 * before the batch's: no key of the old form is written any more, so none
 * can appear between the two.
 */
static int resolve_old_keys(struct store *s, struct arena *a,
                            const struct store_msg **m, size_t n)
{
    struct store_msg *copy = NULL;

    for (size_t i = 0; i < n; i++) {
        const struct store_msg *mi = &(*m)[i];
        if (!mi->accepted || mi->key.len == 0 || mi->old_key.len == 0)
            continue;
        /* cleaned as batch_put_message stores a key */
        struct slice k = text_clean(a, mi->old_key);
        struct slice org = text_clean(a, slice_from_cstr(mi->org_id));
        const char *params[2] = { arena_strndup(a, k.p, k.len),
                                  arena_strndup(a, org.p, org.len) };
        int rc;
        PGresult *r = db_run(s, "old_key", KEY_HELD_SQL, 2, params, &rc);
        if (r == NULL)
            return rc;
        bool held = PQntuples(r) > 0;
        PQclear(r);
        if (!held)
            continue;
        if (copy == NULL) {
            copy = arena_alloc(a, n * sizeof(*copy));
            memcpy(copy, *m, n * sizeof(*copy));
            *m = copy;
        }
        copy[i].key = copy[i].old_key;
    }
    return HUB_OK;
}

int store_ingest_batch(struct store *s, const struct store_msg *m, size_t n,
                       struct store_msg_result *res)
{
    struct arena a;
    struct bin p[P_N];
    PGresult *r = NULL;
    int rc;

    if (s != NULL)                  /* the checks up to the link need none */
        s->refusal = NULL;
    if (n == 0)
        return HUB_OK;
    if (n > STORE_BATCH_MAX)
        return HUB_ELIMIT;
    for (size_t i = 0; i < n; i++)     /* bytea lengths travel as int32 */
        if (m[i].raw.len > INT32_MAX || m[i].reply.len > INT32_MAX ||
            m[i].org_id == NULL || m[i].format == NULL)
            return m[i].org_id && m[i].format ? HUB_ELIMIT : HUB_EINVALID;
    memset(res, 0, n * sizeof(*res));
    rc = db_ensure_conn(s);
    if (rc != HUB_OK)
        return rc;
    memset(p, 0, sizeof(p));
    arena_init(&a, 64 * 1024);
    if ((rc = resolve_old_keys(s, &a, &m, n)) != HUB_OK)
        goto out;
    const char **evtext = arena_alloc(&a, n * sizeof(*evtext));
    /* an event naming another organization's scope (urn:hub:org:<X>:...)
     * would be linked to that organization's patient: the adapters leave
     * such a system out, so only a faulty one writes it. Refused, as a
     * value the database refuses: the committer stores the batch's
     * messages one by one and quarantines the one refused again (F2241) */
    if (!build_batch(&a, m, n, p, evtext)) {
        log_warn("store.foreign_scope", "batch=%zu", n);
        /* the database's own refusal of it (hub_id_system, 023) */
        memcpy(s->sqlstate, "22H12", 6);
        note_refusal(s, s->sqlstate, NULL);
        rc = HUB_EINVALID;
        goto out;
    }
    bool once = batch_put_tokens(p, m, n);

    const char *vals[P_N];
    int lens[P_N], fmts[P_N];
    for (int i = 0; i < P_N; i++) {
        if (p[i].len > INT32_MAX) {
            rc = HUB_ELIMIT;
            goto out;
        }
        vals[i] = p[i].p;
        lens[i] = (int)p[i].len;
        fmts[i] = 1;
    }
    int durable = HUB_EDB;
    for (int attempt = 1;; attempt++) {
        r = ingest_exec(s, once, vals, lens, fmts, &durable);
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        /* 40001: linking raced another batch (hub_ingest_fast, 001);
         * 40P01: a deadlock cancelled it. Rolled back whole: run it again,
         * its probes now see the other batch. */
        if (PQresultStatus(r) == PGRES_TUPLES_OK || attempt == 4 ||
            st == NULL || (strcmp(st, "40001") != 0 &&
                           strcmp(st, "40P01") != 0))
            break;
        log_debug("store.ingest_retry", "sqlstate=%s attempt=%d", st,
                  attempt);
        PQclear(r);
    }
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = db_fail(s, "ingest", r);
        if (rc == HUB_EINVALID)
            note_refusal(s, s->sqlstate,
                         PQresultErrorField(r, PG_DIAG_CONTEXT));
        goto out;
    }
    /* committed; the wait did not return (cut, a named statement lost, an
     * error): the wait alone again until it returns; the batch again would
     * store its messages without a key twice (F1060). It counts as failed
     * only once hubd stops (its retry after a restart finds it stored). */
    if (durable != HUB_OK && db_durable_again(s) != HUB_OK) {
        log_warn("store.durable_failed", "batch=%zu", n);
        rc = HUB_EDB;
        goto out;
    }
    /* one row of arrays, an element per message (hub_ingest_fast): the
     * message ids always; dups, event_ids, replies and kept NULL when none
     * is a duplicate (event_ids then as build_batch wrote them) */
    const char **v = arena_alloc(&a, 5 * n * sizeof(*v));
    int *l = arena_alloc(&a, 5 * n * sizeof(*l));
    bool shape = PQntuples(r) == 1 && PQnfields(r) == 5 &&
                 !PQgetisnull(r, 0, 1);
    for (int c = 0; shape && c < 5; c++)
        shape = PQgetisnull(r, 0, c) ||
                arr_read(PQgetvalue(r, 0, c), (size_t)PQgetlength(r, 0, c),
                         n, v + c * n, l + c * n);
    for (size_t i = 0; shape && i < n; i++)
        shape = PQgetisnull(r, 0, 2) ? evtext[i] != NULL : l[2 * n + i] >= 0;
    if (!shape) {
        log_error("store.ingest_mismatch", "rows=%d want=%zu", PQntuples(r), n);
        rc = HUB_EDB;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        res[i].duplicate = !PQgetisnull(r, 0, 0) && l[i] == 1 && v[i][0] != 0;
        res[i].kept = !PQgetisnull(r, 0, 4) && l[4 * n + i] == 1 &&
                      v[4 * n + i][0] != 0;
        if (l[n + i] == 8)
            res[i].message_seq = be64(v[n + i]);
        res[i].event_ids_json =
            PQgetisnull(r, 0, 2)
                ? db_xstrndup(evtext[i], strlen(evtext[i]))
                : db_xstrndup(v[2 * n + i], (size_t)l[2 * n + i]);
        if (!PQgetisnull(r, 0, 3) && l[3 * n + i] >= 0) {
            res[i].reply_len = (size_t)l[3 * n + i];
            res[i].reply = db_xstrndup(v[3 * n + i], res[i].reply_len);
        }
    }
    rc = HUB_OK;
out:
    PQclear(r);
    for (int i = 0; i < P_N; i++)
        free(p[i].p);
    arena_release(&a);
    if (rc != HUB_OK)
        for (size_t i = 0; i < n; i++)
            store_msg_result_release(&res[i]);
    return rc;
}

void store_msg_result_release(struct store_msg_result *r)
{
    if (r == NULL)
        return;
    free(r->reply);
    free(r->event_ids_json);
    r->reply = NULL;
    r->event_ids_json = NULL;
    r->reply_len = 0;
}
