/*
 * jsontree.c - cJSON trees in an arena (see jsontree.h).
 *
 * Two ways to one tree:
 *
 * fast: one pass over the input that checks the limits and builds the
 *   nodes itself, exactly as cJSON 1.7 would build them (types, valueint,
 *   valuedouble, keys in ->string, prev/next links, head->prev = last). It
 *   takes only plain JSON: white space ' ' \t \n \r between tokens and
 *   after the value, no BOM, numbers of RFC 8259 form, escapes that decode
 *   to something other than U+0000. For such input json_prescan() passes
 *   (the fast pass counts depth, elements, values and string bytes as it
 *   does, so it stops wherever json_prescan would) and cJSON builds the
 *   same tree, so the fast pass decides alone.
 *
 * exact: anything else (bad JSON, a limit, cJSON's leniencies: control
 *   bytes as white space, "-01", invalid \u digits ...) goes the way it
 *   always went: json_prescan_copy, then cJSON itself. Its refusals
 *   (codes, messages) are therefore unchanged, but for two: bytes after the
 *   value, which cJSON left unread, are refused at the first of them
 *   (F1502), and an offset cJSON gives one byte late is placed at the
 *   start of its token (json_fault_at, F1500).
 *
 * Why: cJSON's parse was over half of the FHIR adapter's instructions even
 * with its nodes in an arena (three strncmp per value for null/false/true,
 * byte-at-a-time string scans and copies, a hook call per node), and the
 * prescan copy that bounds it another fifth.
 *
 * The exact way has cJSON allocate through hooks that read a thread-local
 * arena, set only for the length of one parse; outside that call the hooks
 * are plain malloc and free. cJSON's error position is a process global
 * that any thread's parse overwrites; the exact way reads the position
 * cJSON_ParseWithLengthOpts returns to this call instead.
 */
#include "common/jsontree.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/digits.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define TREE_BLOCK 16384
#define TREE_MAX_DEPTH 64           /* json_prescan's own ceiling */

/* ---- the exact way: cJSON with its allocations in the arena ------------- */

/* The arena of the parse running on this thread, and the block of it that
 * nodes are cut from: a node costs a compare and an add, not a call. */
static _Thread_local struct arena *tree_arena;
static _Thread_local char *tree_cur, *tree_end;

static void *tree_malloc(size_t n)
{
    struct arena *a = tree_arena;
    if (a == NULL)
        return malloc(n);
    n = (n + 7) & ~(size_t)7;       /* cJSON nodes hold pointers, doubles */
    if (n > (size_t)(tree_end - tree_cur)) {
        if (n > TREE_BLOCK / 4)
            return arena_alloc(a, n);   /* a long string: its own piece */
        tree_cur = arena_alloc(a, TREE_BLOCK);
        tree_end = tree_cur + TREE_BLOCK;
    }
    void *p = tree_cur;
    tree_cur += n;
    return p;
}

/* Inside a parse, cJSON frees only what that parse allocated (a failed
 * parse deletes its partial tree): arena memory, freed with the arena. */
static void tree_free(void *p)
{
    if (tree_arena == NULL)
        free(p);
}

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void hooks_install(void)
{
    cJSON_Hooks h = { .malloc_fn = tree_malloc, .free_fn = tree_free };
    cJSON_InitHooks(&h);
}

void jsontree_global_init(void)
{
    pthread_once(&hooks_once, hooks_install);
}

/* *end: where cJSON stopped, for this call only (cJSON_GetErrorPtr() is
 * shared by every thread's parses). */
static cJSON *parse_in(struct arena *a, const char *p, size_t len,
                       const char **end)
{
    tree_arena = a;
    tree_cur = tree_end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(p, len, end, 0);
    tree_arena = NULL;
    tree_cur = tree_end = NULL;
    return root;
}

/* The first byte at or after s that is not RFC 8259 white space, or stop */
static const char *rfc_ws_end(const char *s, const char *stop)
{
    return s + json_ws_skip(s, 0, (size_t)(stop - s));
}

int jsontree_parse_cjson(struct arena *a, const char *p, size_t len,
                         const struct json_limits *lim, cJSON **out,
                         struct hub_err *err)
{
    size_t n = 0;
    int rc;

    *out = NULL;
    jsontree_global_init();
    if (len > lim->max_bytes)       /* before sizing the copy by it */
        return json_prescan(p, len, lim, err);
    char *min = arena_alloc(a, len ? len : 1);
    if ((rc = json_prescan_copy(p, len, lim, min, &n, err)))
        return rc;
    const char *end = NULL;
    *out = parse_in(a, min, n, &end);
    if (*out && end && rfc_ws_end(end, min + n) == min + n)
        return HUB_OK;
    /* Rare: parse the input as sent, so the offset is one into `p` (and
     * should the copy ever mean less than the input, the input decides). */
    end = NULL;
    if ((*out = parse_in(a, p, len, &end))) {
        /* cJSON takes a value followed by other bytes ("{...} {...}") as
         * the first value, the rest unread: refused there (F1502) */
        const char *at = rfc_ws_end(end ? end : p + len, p + len);
        if (at == p + len)
            return HUB_OK;
        *out = NULL;
        return hub_err_set_at(err, HUB_ESYNTAX, "$", (size_t)(at - p),
                              "body has bytes after its JSON value");
    }
    size_t off = end && end >= p && end <= p + len ? (size_t)(end - p) : 0;
    /* the start of the token refused: cJSON says one byte later for a
     * string or a member name (F1500) */
    off = json_fault_at(p, len, off);
    return hub_err_set_at(err, HUB_ESYNTAX, "$", off, "body is not JSON");
}

/* ---- the fast way -------------------------------------------------------- */

struct fast {
    const char *end;                /* of the input */
    struct arena *a;
    char *cur, *lim_end;            /* the block nodes are cut from */
    const struct json_limits *lim;
    int max_depth;
    size_t values;
    const char *watch;              /* jsontree_notes */
    size_t watch_len;               /* SIZE_MAX: nothing watched */
    bool repeated, watched;
    bool unnoted;                   /* an object too wide: notes say nothing */
};

static inline void *fast_alloc(struct fast *f, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (n > (size_t)(f->lim_end - f->cur)) {
        if (n > TREE_BLOCK / 4)
            return arena_alloc(f->a, n);
        f->cur = arena_alloc(f->a, TREE_BLOCK);
        f->lim_end = f->cur + TREE_BLOCK;
    }
    void *p = f->cur;
    f->cur += n;
    return p;
}

static inline cJSON *fast_node(struct fast *f)
{
    cJSON *n = fast_alloc(f, sizeof(*n));
    memset(n, 0, sizeof(*n));       /* as cJSON_New_Item */
    return n;
}

/* The first byte at or after s that is not one of JSON's four white space
 * bytes, or end. */
static inline const char *fast_ws(const char *s, const char *end)
{
    if (s < end && (unsigned char)*s > ' ')
        return s;                   /* a token, as in minified input */
#if defined(__SSE2__)
    const __m128i sp = _mm_set1_epi8(' '), nl = _mm_set1_epi8('\n'),
                  cr = _mm_set1_epi8('\r'), tb = _mm_set1_epi8('\t');
    while (end - s >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
        __m128i ws = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, nl)),
            _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, tb)));
        unsigned m = (unsigned)_mm_movemask_epi8(ws) ^ 0xffffu;
        if (m)
            return s + __builtin_ctz(m);
        s += 16;
    }
#endif
    while (s < end && json_is_ws((unsigned char)*s))
        s++;
    return s;
}

/* The first '"' or '\\' at or after s, or end. */
static inline const char *fast_quote(const char *s, const char *end)
{
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    while (end - s >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)));
        if (m)
            return s + __builtin_ctz(m);
        s += 16;
    }
#endif
    while (s < end && *s != '"' && *s != '\\')
        s++;
    return s;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit((unsigned char)s[i]);
        if (d < 0)
            return -1;              /* cJSON would read 0: the exact way */
        v = v << 4 | d;
    }
    return v;
}

/*
 * The string whose opening quote is at s: its decoded bytes, NUL-ended, in
 * *out and their count in *out_len; returns the byte after the closing
 * quote, or NULL. Decoding is
 * cJSON's (parse_string, utf16_literal_to_utf8); the escape cJSON would
 * turn into a NUL byte is left to the exact way.
 */
static const char *fast_string(struct fast *f, const char *s, char **out,
                               size_t *out_len)
{
    const char *b = s + 1, *q = fast_quote(b, f->end);
    if (q < f->end && *q == '"') {  /* no escape: the common case */
        size_t n = (size_t)(q - b);
        if (n > f->lim->max_string)
            return NULL;
        char *o = fast_alloc(f, n + 1);
#if defined(__SSE2__)
        /* most keys and codes are short: one 16-byte move, not a call
         * (what it writes past n+1 is the block's free room, written over
         * by what is cut next) */
        if (n < 16 && f->end - b >= 16 && f->lim_end - o >= 16)
            _mm_storeu_si128((__m128i *)(void *)o,
                             _mm_loadu_si128((const __m128i *)(const void *)b));
        else
#endif
            memcpy(o, b, n);
        o[n] = '\0';
        *out = o;
        *out_len = n;
        return q + 1;
    }
    /* escapes: find the closing quote first (a backslash takes the byte
     * after it, whatever it is), for the size */
    const char *e = q;
    for (;;) {
        if (e >= f->end)
            return NULL;
        if (*e == '"')
            break;
        if (f->end - e < 2)
            return NULL;
        e = fast_quote(e + 2, f->end);
    }
    if ((size_t)(e - b) > f->lim->max_string)
        return NULL;
    char *o = fast_alloc(f, (size_t)(e - b) + 1), *w = o;
    const char *r = b;
    while (r < e) {
        const char *bs = memchr(r, '\\', (size_t)(e - r));
        size_t n = (size_t)((bs ? bs : e) - r);
        memcpy(w, r, n);
        w += n;
        r += n;
        if (bs == NULL)
            break;
        switch (r[1]) {
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 't': *w++ = '\t'; break;
        case '"': case '\\': case '/': *w++ = r[1]; break;
        case 'u': {
            if (e - r < 6)
                return NULL;
            int c1 = hex4(r + 2);
            unsigned long cp;
            if (c1 <= 0 || (c1 >= 0xDC00 && c1 <= 0xDFFF))
                return NULL;        /* U+0000, bad digits, lone low half */
            if (c1 >= 0xD800 && c1 <= 0xDBFF) {
                if (e - r < 12 || r[6] != '\\' || r[7] != 'u')
                    return NULL;
                int c2 = hex4(r + 8);
                if (c2 < 0xDC00 || c2 > 0xDFFF)
                    return NULL;
                cp = 0x10000 + (((unsigned long)c1 & 0x3FF) << 10 |
                                ((unsigned long)c2 & 0x3FF));
                r += 6;
            } else {
                cp = (unsigned long)c1;
            }
            if (cp < 0x80) {
                *w++ = (char)cp;
            } else if (cp < 0x800) {
                *w++ = (char)(0xC0 | cp >> 6);
                *w++ = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                *w++ = (char)(0xE0 | cp >> 12);
                *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
                *w++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *w++ = (char)(0xF0 | cp >> 18);
                *w++ = (char)(0x80 | (cp >> 12 & 0x3F));
                *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
                *w++ = (char)(0x80 | (cp & 0x3F));
            }
            r += 4;                 /* and the 2 below */
            break;
        }
        default:
            return NULL;
        }
        r += 2;
    }
    *w = '\0';
    *out = o;
    *out_len = (size_t)(w - o);
    return e + 1;
}

/*
 * A number of RFC 8259 form at s into n. cJSON hands the run of
 * [0-9+-.eE] to strtod (with '.' as the locale's decimal point); after a
 * number of this form the run has ended (what may follow - white space , ]
 * } or the end - is not in it), so strtod reads the same bytes here.
 */
static const char *fast_number(const char *s, const char *end, cJSON *n)
{
    const char *r = s;
    if (r < end && *r == '-')
        r++;
    if (r >= end || *r < '0' || *r > '9')
        return NULL;
    if (*r == '0')
        r++;
    else
        while (r < end && *r >= '0' && *r <= '9')
            r++;
    if (r < end && *r == '.') {
        r++;
        if (r >= end || *r < '0' || *r > '9')
            return NULL;
        while (r < end && *r >= '0' && *r <= '9')
            r++;
    }
    if (r < end && (*r == 'e' || *r == 'E')) {
        r++;
        if (r < end && (*r == '+' || *r == '-'))
            r++;
        if (r >= end || *r < '0' || *r > '9')
            return NULL;
        while (r < end && *r >= '0' && *r <= '9')
            r++;
    }
    char buf[64], *after;
    size_t len = (size_t)(r - s);
    if (len >= sizeof(buf))
        return NULL;                /* a 64-digit number: the exact way */
    memcpy(buf, s, len);
    buf[len] = '\0';
    double d = strtod(buf, &after);
    if (after != buf + len)
        return NULL;                /* a locale whose point is not '.' */
    n->type = cJSON_Number;
    n->valuedouble = d;
    n->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN
                                                                 : (int)d;
    return r;
}

static const char *fast_value(struct fast *f, const char *s, int depth,
                              cJSON *n);

/* Link the children as cJSON does: next to the last, head->prev = last. */
static inline void fast_link(cJSON **head, cJSON **last, cJSON *c)
{
    if (*head == NULL) {
        *head = c;
    } else {
        (*last)->next = c;
        c->prev = *last;
    }
    *last = c;
}

/* One of 64 bits for a member name: equal names, equal bits, so a name
 * whose bit no earlier member of its object set is new there, and only a
 * shared bit (rare among an object's handful of names) costs compares.
 * "Equal" is strcmp's, as every reader of the tree compares: a raw NUL
 * (cJSON keeps it) ends the name, so "a<NUL>b" is "a" (F880): the bit
 * is of the first three bytes, the second and third read only when the
 * first two are not the end, never of the length, which the NUL does not
 * cut. */
static inline uint64_t name_bit(const char *k)
{
    unsigned h = (unsigned char)k[0];
    if (k[0] && k[1])
        h = h * 3 + (unsigned char)k[1] * 5 + (unsigned char)k[2];
    return (uint64_t)1 << (h & 63);
}

/* Past this many members an object's shared bit is no longer rare (64
 * bits), and comparing each new name with all before it would cost n^2/2
 * strcmp an object: 490 objects of 1,000 names sharing one bit took 5.8 s
 * where the caller's sorted walk takes 0.35 s (F881). Such a document is
 * left unnoted and the caller walks. */
#define NOTE_MAX_MEMBERS 32

static bool name_in(const cJSON *head, const char *k)
{
    for (const cJSON *c = head; c; c = c->next)
        if (strcmp(c->string, k) == 0)
            return true;
    return false;
}

static const char *fast_object(struct fast *f, const char *s, int depth,
                               cJSON *n)
{
    cJSON *head = NULL, *last = NULL;
    size_t members = 0;
    uint64_t names = 0;

    n->type = cJSON_Object;
    s = fast_ws(s + 1, f->end);
    if (s < f->end && *s == '}')
        return s + 1;
    for (;;) {
        if (s >= f->end || *s != '"' || ++members > f->lim->max_members ||
            ++f->values > f->lim->max_values)   /* keys count (prescan) */
            return NULL;
        cJSON *c = fast_node(f);
        size_t kn;
        if ((s = fast_string(f, s, &c->string, &kn)) == NULL)
            return NULL;
        uint64_t bit = name_bit(c->string);
        if ((names & bit) && !f->repeated && !f->unnoted) {
            if (members > NOTE_MAX_MEMBERS)
                f->unnoted = true;
            else if (name_in(head, c->string))
                f->repeated = true;
        }
        names |= bit;
        /* the watched name as strcmp reads a name: its bytes, then the end
         * (a NUL after them, raw or the string's own) */
        if (kn >= f->watch_len && c->string[f->watch_len] == '\0' &&
            memcmp(c->string, f->watch, f->watch_len) == 0)
            f->watched = true;
        s = fast_ws(s, f->end);
        if (s >= f->end || *s != ':')
            return NULL;
        s = fast_ws(s + 1, f->end);
        if ((s = fast_value(f, s, depth, c)) == NULL)
            return NULL;
        fast_link(&head, &last, c);
        s = fast_ws(s, f->end);
        if (s < f->end && *s == ',') {
            s = fast_ws(s + 1, f->end);
            continue;
        }
        if (s < f->end && *s == '}')
            break;
        return NULL;
    }
    head->prev = last;
    n->child = head;
    return s + 1;
}

static const char *fast_array(struct fast *f, const char *s, int depth,
                              cJSON *n)
{
    cJSON *head = NULL, *last = NULL;
    size_t elements = 0;

    n->type = cJSON_Array;
    s = fast_ws(s + 1, f->end);
    if (s < f->end && *s == ']')
        return s + 1;
    for (;;) {
        if (++elements > f->lim->max_array)
            return NULL;
        cJSON *c = fast_node(f);
        if ((s = fast_value(f, s, depth, c)) == NULL)
            return NULL;
        fast_link(&head, &last, c);
        s = fast_ws(s, f->end);
        if (s < f->end && *s == ',') {
            s = fast_ws(s + 1, f->end);
            continue;
        }
        if (s < f->end && *s == ']')
            break;
        return NULL;
    }
    head->prev = last;
    n->child = head;
    return s + 1;
}

/* One value at s (white space already skipped) into n; `depth` containers
 * are open around it. Returns the byte after it, or NULL. */
static const char *fast_value(struct fast *f, const char *s, int depth,
                              cJSON *n)
{
    if (s >= f->end || ++f->values > f->lim->max_values)
        return NULL;
    size_t left = (size_t)(f->end - s);
    switch (*s) {
    case '{':
        if (depth >= f->max_depth)
            return NULL;
        return fast_object(f, s, depth + 1, n);
    case '[':
        if (depth >= f->max_depth)
            return NULL;
        return fast_array(f, s, depth + 1, n);
    case '"': {
        size_t unused;
        n->type = cJSON_String;
        return fast_string(f, s, &n->valuestring, &unused);
    }
    case 't':
        if (left < 4 || memcmp(s, "true", 4) != 0)
            return NULL;
        n->type = cJSON_True;
        n->valueint = 1;            /* as cJSON sets it */
        return s + 4;
    case 'f':
        if (left < 5 || memcmp(s, "false", 5) != 0)
            return NULL;
        n->type = cJSON_False;
        return s + 5;
    case 'n':
        if (left < 4 || memcmp(s, "null", 4) != 0)
            return NULL;
        n->type = cJSON_NULL;
        return s + 4;
    default:
        return fast_number(s, f->end, n);
    }
}

static cJSON *parse_plain(struct arena *a, const char *p, size_t len,
                          const struct json_limits *lim,
                          struct jsontree_notes *notes)
{
    if (len > lim->max_bytes)
        return NULL;
    struct fast f = {
        .end = p + len, .a = a, .lim = lim,
        .max_depth = lim->max_depth < TREE_MAX_DEPTH ? lim->max_depth
                                                     : TREE_MAX_DEPTH,
        .watch = notes && notes->watch ? notes->watch : "",
        .watch_len = notes && notes->watch ? strlen(notes->watch) : SIZE_MAX,
    };
    const char *s = fast_ws(p, f.end);
    cJSON *root = fast_node(&f);
    s = fast_value(&f, s, 0, root);
    if (s == NULL || fast_ws(s, f.end) != f.end)
        return NULL;
    if (notes && !f.unnoted) {
        notes->noticed = true;
        notes->repeated = f.repeated;
        notes->watched = f.watched;
    }
    return root;
}

cJSON *jsontree_parse_plain(struct arena *a, const char *p, size_t len,
                            const struct json_limits *lim)
{
    return parse_plain(a, p, len, lim, NULL);
}

int jsontree_parse_noting(struct arena *a, const char *p, size_t len,
                          const struct json_limits *lim, cJSON **out,
                          struct jsontree_notes *notes, struct hub_err *err)
{
    if (notes)
        notes->noticed = notes->repeated = notes->watched = false;
    if ((*out = parse_plain(a, p, len, lim, notes)))
        return HUB_OK;
    return jsontree_parse_cjson(a, p, len, lim, out, err);
}

int jsontree_parse(struct arena *a, const char *p, size_t len,
                   const struct json_limits *lim, cJSON **out,
                   struct hub_err *err)
{
    return jsontree_parse_noting(a, p, len, lim, out, NULL, err);
}
