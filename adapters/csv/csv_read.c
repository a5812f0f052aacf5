/*
 * csv_read.c - RFC 4180 reader: one record per call, fields as slices into
 * the input (copied into the arena only when a quoted field holds a doubled
 * quote).
 *
 * Accepted beyond the RFC, because real exports do it: LF or lone CR line
 * ends as well as CRLF, a UTF-8 byte order mark before the header, blank
 * records before it (the header is the first record that is not blank),
 * a last record without a line end, a caller-chosen delimiter, and
 * Excel's text formula ="00123" read as its text (excel_text).
 *
 * Errors come in two weights. Fatal (the file is refused): an unterminated
 * quote (nothing after it can be delimited with confidence), more bytes,
 * rows or header columns than the limits. Row-level (the record is still
 * delimited, the next one is read normally): a column count that differs
 * from the header, a field over the length limit, more columns than the
 * limit, a NUL byte, text after a closing quote ("5 Elm" St: what was
 * meant is unclear). A quote inside an unquoted field (5'10", 12" TV) is
 * kept as text, as spreadsheets read it, with a warning on the record: it
 * cannot open a quoted field there, so the delimiting is the same.
 *
 * Incremental: while `final` is false, a record that reaches the end of the
 * buffer is not returned (HUB_ESHORT) and the reader stays where it was, so
 * the caller can append and call again. Each call scans from the start of
 * the pending record, so feeding one byte at a time costs O(record^2): feed
 * in blocks.
 */
#include "csv/csv.h"

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/hub_err.h"

static const unsigned char bom[3] = { 0xEF, 0xBB, 0xBF };

void csv_limits_default(struct csv_limits *lim)
{
    lim->max_bytes = CSV_MAX_BYTES;
    lim->max_rows = CSV_MAX_ROWS;
    lim->max_cols = CSV_MAX_COLS;
    lim->max_field = CSV_MAX_FIELD;
}

void csv_reader_init(struct csv_reader *r, struct arena *a, char delim,
                     const struct csv_limits *lim)
{
    memset(r, 0, sizeof(*r));
    r->a = a;
    r->delim = delim ? delim : ',';
    if (lim)
        r->lim = *lim;
    else
        csv_limits_default(&r->lim);
    if (r->lim.max_cols == 0)
        r->lim.max_cols = 1;
    r->line = 1;
    r->f = arena_alloc(a, r->lim.max_cols * sizeof(*r->f));
}

void csv_reader_feed(struct csv_reader *r, const char *p, size_t len,
                     bool final)
{
    /* DOS's end-of-file (Ctrl-Z, which `copy a.csv+b.csv` appends) right
     * after the last record's last byte, with no line end between, ends
     * the input: it was read into the last value ("12 Main St\x1a" in an
     * address), or refused the row after a closing quote (F4142). Alone
     * on its line it is a blank record (F4026) */
    if (final && len >= 2 && p[len - 1] == 0x1a && p[len - 2] != '\n' &&
        p[len - 2] != '\r')
        len--;
    r->p = p;
    r->len = len;
    r->final = final;
}

void csv_reader_fields(struct csv_reader *r, struct slice *f)
{
    r->f = f;
}

/* Note the first row-level problem only: it is the one worth fixing first. */
static void row_fail(struct csv_row *row, size_t col, const char *what)
{
    if (row->err == HUB_OK) {
        row->err = HUB_EINVALID;
        row->err_col = col;
        row->err_what = what;
    }
}

static int fatal(struct csv_reader *r, struct hub_err *err, int code,
                 size_t row, size_t col, size_t off, const char *what)
{
    char field[32];
    size_t n = 0;
    char tmp[24];

    /* "row 12 col 3": built by hand, sprintf is not used here */
    memcpy(field, "row ", 4);
    n = 4;
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + row % 10);
        row /= 10;
    } while (row && k < sizeof(tmp));
    while (k)
        field[n++] = tmp[--k];
    if (col) {
        memcpy(field + n, " col ", 5);
        n += 5;
        do {
            tmp[k++] = (char)('0' + col % 10);
            col /= 10;
        } while (col && k < sizeof(tmp));
        while (k && n < sizeof(field) - 1)
            field[n++] = tmp[--k];
    }
    field[n] = '\0';
    r->failed = code;
    return hub_err_set(err, code, field, off, what);
}

/* Lines inside [p, p+n): LF, and CR not followed by LF. */
static size_t count_lines(const char *p, size_t n)
{
    size_t lines = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\n' || (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n')))
            lines++;
    return lines;
}

/* Bytes an unquoted field stops at or must report (besides the delimiter). */
enum { BC_EOL = 1, BC_QUOTE = 2, BC_NUL = 4 };
static const unsigned char byte_class[256] = {
    ['\r'] = BC_EOL, ['\n'] = BC_EOL, ['"'] = BC_QUOTE, ['\0'] = BC_NUL,
};

/*
 * Where unquoted fields end, found 64 bytes at a time: bit k of `mask` is
 * set when p[base + k] is the delimiter or a byte of byte_class. A record
 * is mostly short and empty fields, so a byte loop per field paid more for
 * starting and stopping than for the bytes (it was a fifth of the adapter);
 * one mask serves every field that starts inside its window. `valid` is
 * false until a window is made; the tail of the input (under 64 bytes past
 * a window) is read a byte at a time.
 */
struct scan {
    size_t base;
    uint64_t mask;
    bool valid;
};

static uint64_t special_mask(const char *p, char delim)
{
    uint64_t m = 0;
#if defined(__SSE2__)
    const __m128i d = _mm_set1_epi8(delim), cr = _mm_set1_epi8('\r'),
                  lf = _mm_set1_epi8('\n'), q = _mm_set1_epi8('"'),
                  z = _mm_setzero_si128();
    for (int k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, d), _mm_cmpeq_epi8(x, cr)),
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, lf),
                                      _mm_cmpeq_epi8(x, q)),
                         _mm_cmpeq_epi8(x, z)));
        m |= (uint64_t)(unsigned)_mm_movemask_epi8(hit) << (16 * k);
    }
#else
    for (int k = 0; k < 64; k++) {
        unsigned char ch = (unsigned char)p[k];
        if (ch == (unsigned char)delim || byte_class[ch])
            m |= (uint64_t)1 << k;
    }
#endif
    return m;
}

/* The first byte at or after i that is the delimiter or in byte_class, or
 * len. */
static size_t next_special(struct scan *sc, const char *p, size_t i,
                           size_t len, char delim)
{
    for (;;) {
        if (sc->valid && i - sc->base < 64) {
            uint64_t m = sc->mask >> (i - sc->base);
            if (m)
                return i + (size_t)__builtin_ctzll(m);
            i = sc->base + 64;
            continue;
        }
        if (len - i < 64) {
            for (; i < len; i++) {
                unsigned char ch = (unsigned char)p[i];
                if (ch == (unsigned char)delim || byte_class[ch])
                    return i;
            }
            return len;
        }
        sc->base = i;
        sc->mask = special_mask(p + i, delim);
        sc->valid = true;
    }
}

/* An unquoted field from i: where it stops (the delimiter, a line end or
 * len), with the classes of the quotes and NULs met on the way in *seen. */
static size_t scan_unquoted(struct scan *sc, const char *p, size_t i,
                            size_t len, char delim, unsigned *seen)
{
    for (;;) {
        i = next_special(sc, p, i, len, delim);
        if (i >= len)
            return len;
        unsigned char ch = (unsigned char)p[i];
        if (ch == (unsigned char)delim)
            return i;
        unsigned k = byte_class[ch];
        if (k & BC_EOL)
            return i;
        *seen |= k;
        i++;
    }
}

/*
 * The common run of a record: unquoted fields from i that end at a
 * delimiter inside the current window (so hold no quote, NUL or line end),
 * stored in f[*n..] while *n < max_cols and each is at most max_field long;
 * what csv_read_row's general path does for them, without its checks.
 * Returns the start of the first field not taken. Not for a '"' delimiter,
 * which the general path reads as an opening quote.
 */
static inline size_t plain_fields(const struct scan *sc, const char *p,
                                  size_t i, char delim, struct slice *f,
                                  size_t *n, size_t max_cols,
                                  size_t max_field, bool *empty)
{
    if (!sc->valid || i - sc->base >= 64)
        return i;
    /* the window's specials from i on, taken lowest first: each field
     * costs a count of trailing zeros and clearing that bit, not a shift
     * and a new mask */
    uint64_t m = sc->mask & (~(uint64_t)0 << (i - sc->base));
    size_t k = *n;
    bool e = *empty;
    while (m && k < max_cols) {
        size_t j = sc->base + (size_t)__builtin_ctzll(m);
        if (p[j] != delim || j - i > max_field)
            break;
        f[k++] = (struct slice){ p + i, j - i };
        e &= j == i;
        i = j + 1;
        m &= m - 1;
    }
    *n = k;
    *empty = e;
    return i;
}

/* Whether the fields hold only spaces and tabs, or DOS's end-of-file
 * (0x1A, which `copy a.csv+b.csv` appends to files it joins): a line of
 * spaces left by a hand edit, ` , , ,`, a trailing Ctrl-Z. */
static bool only_spaces(const struct slice *f, size_t n)
{
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < f[k].len; i++)
            if (f[k].p[i] != ' ' && f[k].p[i] != '\t' && f[k].p[i] != 0x1a)
                return false;
    return true;
}

/*
 * Excel's ="00123": a formula whose value is the text inside, written so
 * that a spreadsheet keeps leading zeros (ids, ZIP codes). Only that exact
 * form, the field whole and no quote inside the text, is read as the text;
 * anything else (=00123, ="a""b", =CONCAT(...), spaces around) is kept as
 * written. A field holds quotes for it, so only the slow paths test it.
 */
static struct slice excel_text(struct slice v)
{
    if (v.len >= 3 && v.p[0] == '=' && v.p[1] == '"' &&
        v.p[v.len - 1] == '"' && !memchr(v.p + 2, '"', v.len - 3))
        return (struct slice){ v.p + 2, v.len - 3 };
    return v;
}

/* Copy a quoted field's content, turning each "" into ". */
static struct slice unquote(struct arena *a, const char *p, size_t n)
{
    char *out = arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        out[k++] = p[i];
        if (p[i] == '"' && i + 1 < n && p[i + 1] == '"')
            i++;
    }
    out[k] = '\0';
    return (struct slice){ out, k };
}

int csv_read_row(struct csv_reader *r, struct csv_row *row,
                 struct hub_err *err)
{
    const char *p = r->p;
    size_t len = r->len;

    if (r->failed)
        return r->failed;
    if (len > r->lim.max_bytes)
        return fatal(r, err, HUB_ELIMIT, r->rows + 1, 0, r->pos,
                     "file is larger than the limit");
    if (r->pos == 0 && !r->bom_done) {
        if (len < sizeof(bom) && !r->final &&
            memcmp(p, bom, len) == 0)
            return HUB_ESHORT;
        if (len >= sizeof(bom) && memcmp(p, bom, sizeof(bom)) == 0)
            r->pos = sizeof(bom);
        r->bom_done = true;
    }
    if (r->pos >= len)
        return r->final ? 0 : HUB_ESHORT;

    memset(row, 0, sizeof(*row));
    row->row = r->rows + 1;
    row->line = r->line;
    row->offset = r->pos;
    row->f = r->f;

    size_t i = r->pos;
    size_t lines = 0;
    size_t n = 0;
    bool empty = true;
    const char delim = r->delim;
    struct scan sc = { 0, 0, false };
    /* copies: the stores to f[] could alias the reader's fields, which the
     * compiler would then load again for every field */
    struct slice *const f = r->f;
    const size_t max_cols = r->lim.max_cols, max_field = r->lim.max_field;
    const bool final = r->final;

    for (;;) {
        struct slice v;
        if (delim != '"')
            i = plain_fields(&sc, p, i, delim, f, &n, max_cols, max_field,
                             &empty);
        size_t col = n + 1;

        if (i < len && p[i] == '"') {
            size_t open = i, j = i + 1;
            bool doubled = false;
            const char *q;
            for (;;) {
                q = j < len ? memchr(p + j, '"', len - j) : NULL;
                if (q == NULL) {
                    if (!final)
                        return HUB_ESHORT;
                    return fatal(r, err, HUB_ESYNTAX, row->row, col, open,
                                 "quoted field is not terminated");
                }
                size_t at = (size_t)(q - p);
                if (at + 1 == len && !final)
                    return HUB_ESHORT;  /* "" may be split across feeds */
                if (at + 1 < len && p[at + 1] == '"') {
                    doubled = true;
                    j = at + 2;
                    continue;
                }
                break;
            }
            size_t close = (size_t)(q - p);
            size_t clen = close - open - 1;
            lines += count_lines(p + open + 1, clen);
            if (memchr(p + open + 1, '\0', clen))
                row_fail(row, col, "field contains a NUL byte");
            if (clen > max_field) {
                row_fail(row, col, "field is longer than the limit");
                v = SLICE_NULL;
            } else if (doubled) {
                /* "=""00123""" is ="00123" */
                v = excel_text(unquote(r->a, p + open + 1, clen));
            } else {
                v = (struct slice){ p + open + 1, clen };
            }
            i = close + 1;
            if (i < len && p[i] != delim && p[i] != '\r' && p[i] != '\n') {
                row_fail(row, col, "text after a closing quote");
                while (i < len && p[i] != delim && p[i] != '\r' &&
                       p[i] != '\n')
                    i++;
            }
        } else {
            /* one pass over the field, noting quotes and NULs on the way
             * (two memchr calls a field were a fifth of the reader) */
            size_t s = i;
            unsigned seen = 0;
            i = scan_unquoted(&sc, p, i, len, delim, &seen);
            size_t flen = i - s;
            v = (struct slice){ p + s, flen };
            if (seen & BC_QUOTE) {
                struct slice x = excel_text(v);
                if (x.p != v.p) {
                    v = x;          /* ="00123": no stray quote */
                } else if (row->warn_what == NULL) {
                    row->warn_col = col;
                    row->warn_what = "quote inside an unquoted field; kept "
                                     "as text";
                }
            }
            if (seen & BC_NUL)
                row_fail(row, col, "field contains a NUL byte");
            if (flen > max_field) {
                row_fail(row, col, "field is longer than the limit");
                v = SLICE_NULL;
            }
        }
        if (i >= len && !final)
            return HUB_ESHORT;      /* the field may go on */
        if (v.len)
            empty = false;
        if (n < max_cols)
            f[n] = v;
        else if (n == max_cols)
            row_fail(row, col, "more columns than the limit");
        n++;
        if (i < len && p[i] == delim) {
            i++;
            continue;
        }
        /* end of record: CRLF, LF, lone CR or end of input */
        if (i < len && p[i] == '\r') {
            if (i + 1 == len && !final)
                return HUB_ESHORT;  /* LF may follow */
            i++;
            if (i < len && p[i] == '\n')
                i++;
            lines++;
        } else if (i < len && p[i] == '\n') {
            i++;
            lines++;
        }
        break;
    }

    /* spaces and tabs alone are blank as `,,,,` is: values trim to
     * nothing (F4026); looked at only when the first field is not text */
    if (!empty && !row->err && (f[0].len == 0 || f[0].p[0] == ' ' ||
                                f[0].p[0] == '\t' || f[0].p[0] == 0x1a))
        empty = only_spaces(f, n < max_cols ? n : max_cols);
    r->rows++;
    if (r->rows > r->lim.max_rows)
        return fatal(r, err, HUB_ELIMIT, row->row, 0, row->offset,
                     "more rows than the limit");
    row->n = n < r->lim.max_cols ? n : r->lim.max_cols;
    row->ncols = n;
    row->empty = empty;
    if (r->header_cols == 0) {
        /* the header is the first record that is not blank: exports and
         * hand edits leave blank lines above it */
        if (n > r->lim.max_cols)
            return fatal(r, err, HUB_ELIMIT, row->row, r->lim.max_cols + 1,
                         row->offset, "header has more columns than the limit");
        if (row->row == 1 && !row->err && n == 2 && f[1].len == 0 &&
            f[0].len == 4 && (f[0].p[0] | 0x20) == 's' &&
            (f[0].p[1] | 0x20) == 'e' && (f[0].p[2] | 0x20) == 'p' &&
            f[0].p[3] == '=')
            row->empty = true;  /* Excel's sep=X line: above the header */
        else if (!empty || row->err)
            r->header_cols = n;
    } else if (!empty && n != r->header_cols) {
        if (n > r->header_cols)
            row_fail(row, r->header_cols + 1,
                     "row has more columns than the header");
        else
            row_fail(row, n + 1, "row has fewer columns than the header");
    }
    r->pos = i;
    r->line += lines;
    return 1;
}

struct slice csv_row_field(const struct csv_row *row, size_t idx)
{
    if (idx >= row->n)
        return SLICE_NULL;
    return row->f[idx];
}
