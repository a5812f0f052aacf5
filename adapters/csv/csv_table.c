/*
 * csv_table.c - a file read through a layout's column list into a table:
 * its delimiter and header (names compared as csv_name_eq says), every
 * record read, trimmed and kept or rejected; the findings made on its rows
 * and the row accounting of the report. The parts of the adapter that
 * other layouts share are csv_values.c (value shapes), csv_patient.c,
 * csv_event.c and csv_report.c (grouping and the report's JSON).
 */
#include <stdio.h>
#include <string.h>

#include "csv/csv_int.h"

static bool name_sep(unsigned char ch)
{
    return ch == ' ' || ch == '_' || ch == '-';
}

bool csv_name_eq(struct slice h, const char *name)
{
    size_t i = 0, k = 0;
    for (;;) {
        while (i < h.len && name_sep((unsigned char)h.p[i]))
            i++;
        while (name[k] && name_sep((unsigned char)name[k]))
            k++;
        if (i == h.len || name[k] == '\0')
            return i == h.len && name[k] == '\0';
        unsigned char x = (unsigned char)h.p[i++], y = (unsigned char)name[k++];
        if (ascii_lower(x) != ascii_lower(y))
            return false;
    }
}

/* ---- findings ---------------------------------------------------------- */

void csv_finding(struct csv_ctx *c, unsigned file, size_t row, size_t hcol,
                 const char *column, enum csv_severity sev, const char *what)
{
    struct csv_report *r = c->rep;
    if (sev == CSV_SEV_ERROR)
        r->errors++;
    else
        r->warnings++;
    if (r->n >= CSV_MAX_FINDINGS) {
        r->dropped++;
        return;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct csv_finding *f = arena_alloc(c->a, cap * sizeof(*f));
        if (r->n)
            memcpy(f, r->f, r->n * sizeof(*f));
        r->f = f;
        r->cap = cap;
    }
    r->f[r->n++] = (struct csv_finding){ file, row, hcol, column, sev, what };
}

static void row_finding(struct csv_ctx *c, struct csv_table *t, size_t ri,
                        int col, enum csv_severity sev, const char *what)
{
    size_t hcol = 0;
    const char *name = NULL;
    if (col >= 0 && (size_t)col < t->ncols) {
        name = t->cols[col].name;
        if (t->hidx[col] >= 0)
            hcol = (size_t)t->hidx[col] + 1;
    }
    csv_finding(c, t->file, t->rows[ri].row, hcol, name, sev, what);
}

void csv_row_error(struct csv_ctx *c, struct csv_table *t, size_t ri, int col,
                   const char *what)
{
    t->rows[ri].bad = true;
    row_finding(c, t, ri, col, CSV_SEV_ERROR, what);
}

void csv_row_required(struct csv_ctx *c, struct csv_table *t, size_t ri,
                      int col)
{
    csv_row_error(c, t, ri, col,
                  col >= 0 && t->hidx[col] < 0 ? "required column is missing"
                                               : "required value is empty");
}

void csv_row_warn(struct csv_ctx *c, struct csv_table *t, size_t ri, int col,
                  const char *what)
{
    row_finding(c, t, ri, col, CSV_SEV_WARNING, what);
}

void csv_reject_row(struct csv_ctx *c, unsigned file, size_t row,
                    size_t offset, struct slice raw)
{
    struct csv_report *r = c->rep;
    if (r->n_rejected == r->rejected_cap) {
        size_t cap = r->rejected_cap ? r->rejected_cap * 2 : 16;
        struct csv_rejected *nr = arena_alloc(c->a, cap * sizeof(*nr));
        if (r->n_rejected)
            memcpy(nr, r->rejected, r->n_rejected * sizeof(*nr));
        r->rejected = nr;
        r->rejected_cap = cap;
    }
    r->rejected[r->n_rejected++] =
        (struct csv_rejected){ file, row, offset, raw };
}

/* A record's bytes: from its start to where the reader stopped after it,
 * less the line end. */
static struct slice record_span(const char *p, size_t offset, size_t end)
{
    while (end > offset && (p[end - 1] == '\n' || p[end - 1] == '\r'))
        end--;
    return (struct slice){ p + offset, end - offset };
}

void csv_table_account(struct csv_ctx *c, const struct csv_table *t)
{
    const char *p = c->files[t->file].p;
    for (size_t i = 0; i < t->n; i++) {
        const struct csv_trow *tr = &t->rows[i];
        if (tr->bad) {
            c->rep->rows_rejected++;
            csv_reject_row(c, t->file, tr->row, tr->offset,
                           record_span(p, tr->offset, tr->end));
        } else {
            c->rep->rows_used++;
        }
    }
}

/* The record just read. */
static struct slice record_bytes(const struct csv_reader *r,
                                 const struct csv_row *row)
{
    return record_span(r->p, row->offset, r->pos);
}

/* ---- reading a file into a table -------------------------------------- */

/* s without the spaces, TABs and no-break spaces at its ends. */
static struct slice trim_value(struct slice s)
{
    for (;;) {
        s = slice_trim(s);
        if (s.len >= 2 && (unsigned char)s.p[0] == 0xc2 &&
            (unsigned char)s.p[1] == 0xa0) {
            s.p += 2;
            s.len -= 2;
        } else if (s.len >= 2 && (unsigned char)s.p[s.len - 2] == 0xc2 &&
                   (unsigned char)s.p[s.len - 1] == 0xa0) {
            s.len -= 2;
        } else {
            return s;
        }
    }
}

/* The layout's values of one record, trimmed: csv_row_field inlined, as
 * this runs for every column of every row. */
static void row_values(const struct csv_table *t, const struct csv_row *row,
                       struct slice *v)
{
    for (size_t k = 0; k < t->ncols; k++) {
        int h = t->hidx[k];
        if (h < 0 || (size_t)h >= row->n) {
            v[k] = SLICE_NULL;
            continue;
        }
        struct slice f = row->f[h];
        /* most values have nothing to trim: both ends above a space */
        if (f.len && ((unsigned char)f.p[0] <= ' ' ||
                      (unsigned char)f.p[f.len - 1] <= ' '))
            f = slice_trim(f);
        v[k] = f;
    }
}

/* The values of a record whose columns are the layout's, in order: kept
 * where the reader put them and trimmed there (copying them out through
 * the column map was a tenth of the adapter). */
static void trim_values(struct slice *v, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        struct slice f = v[k];
        if (f.len && ((unsigned char)f.p[0] <= ' ' ||
                      (unsigned char)f.p[f.len - 1] <= ' '))
            v[k] = slice_trim(f);
    }
}

/* The no-break spaces (U+00A0, C2 A0: pasted from web pages and Word;
 * "LA31994-9\u00a0" is no answer code) at the ends of values already
 * trimmed of spaces, for a file that is not ASCII: the test for spaces
 * stays as cheap as it was for the files (most) that are. */
static void trim_nbsp(struct slice *v, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        struct slice f = v[k];
        if (f.len >= 2 && ((unsigned char)f.p[0] == 0xc2 ||
                           (unsigned char)f.p[f.len - 1] == 0xa0))
            v[k] = trim_value(f);
    }
}

/* Slices in a block of fields read in place: room for a record of the
 * most columns a reader takes, about sixteen times over. */
#define FIELD_BLOCK (16 * CSV_MAX_COLS)

int csv_locate(struct csv_ctx *c, struct hub_err *err, int code,
               unsigned file, const struct hub_err *inner)
{
    char field[128];
    size_t off = inner->offset;
    /* a file read from its Windows-1252 translation (csv_to_events): the
     * offset in the bytes that were sent (the report keeps those) */
    if (file < c->n_files && c->rep && c->rep->files &&
        c->files[file].p != c->rep->files[file].p)
        off = csv_sent_offset(&c->rep->files[file], off);
    snprintf(field, sizeof(field), "%u:%.100s", file, inner->field);
    return hub_err_set(err, code, field, off, inner->what);
}

/* A header name as csv_name_eq compares it: lower case, without spaces,
 * '_' and '-', in k (room for `cap`); its length, or cap when it does not
 * fit (no layout name is that long). Made once per header name, so that
 * each layout name is compared in one pass. */
static size_t name_key(struct slice h, char *k, size_t cap)
{
    size_t n = 0;
    if (h.len > cap)
        return cap;
    for (size_t i = 0; i < h.len; i++) {
        unsigned char x = (unsigned char)h.p[i];
        k[n] = (char)(x >= 'A' && x <= 'Z' ? x + 32 : x);
        n += !name_sep(x);
    }
    return n;
}

static inline bool key_is(const char *k, size_t kl, const char *name)
{
    /* layout names start with a letter: most compares end here */
    unsigned char y0 = (unsigned char)name[0];
    if (kl == 0 || k[0] != (char)(y0 >= 'A' && y0 <= 'Z' ? y0 + 32 : y0))
        return false;
    size_t j = 0;
    for (; *name; name++) {
        unsigned char y = (unsigned char)*name;
        if (name_sep(y))
            continue;
        if (j == kl || k[j++] != (char)(y >= 'A' && y <= 'Z' ? y + 32 : y))
            return false;
    }
    return j == kl;
}

static bool col_named(const char *k, size_t kl, const struct csv_col *col)
{
    return key_is(k, kl, col->name) ||
           (col->alias && key_is(k, kl, col->alias));
}

/*
 * The header: each name to the layout column it names (t->hidx), the
 * names kept in hname. Refuses a layout column named twice and a required
 * one missing; then warns of each named column the layout does not know
 * (only then: before the required columns are found, the first row may be
 * data, and a finding names no value).
 */
static int map_header(struct csv_ctx *c, unsigned file,
                      const struct csv_row *row, const struct csv_col *cols,
                      size_t ncols, const char *const *also,
                      struct csv_table *t, const char **hname,
                      struct hub_err *err)
{
    size_t hn = row->n, na = 0;
    bool *unknown = arena_zalloc(c->a, (hn ? hn : 1) * sizeof(bool));
    /* where the last name was found: headers mostly keep the layout's
     * (the spec's) order, so the search starts after it (a scan of every
     * name for every header name was a hundredth of the adapter) */
    size_t next = 0, next_also = 0;
    while (also && also[na])
        na++;
    for (size_t i = 0; i < hn; i++) {
        struct slice h = trim_value(row->f[i]);
        hname[i] = arena_slice_dup(c->a, h);
        char key[64] = "";
        size_t kl = name_key(h, key, sizeof(key));
        /* the layout column (or the known name) after the last one
         * found first, then all of them: a name is one of them at most */
        size_t k = ncols, ka = na;
        if (ncols && col_named(key, kl, &cols[next % ncols]))
            k = next % ncols;
        else if (na && key_is(key, kl, also[next_also % na]))
            ka = next_also % na;
        for (size_t j = 0; k == ncols && ka == na && j < ncols; j++)
            if (col_named(key, kl, &cols[j]))
                k = j;
        for (size_t j = 0; k == ncols && ka == na && j < na; j++)
            if (key_is(key, kl, also[j]))
                ka = j;
        if (ka < na)
            next_also = ka + 1;
        if (k < ncols) {
            next = k + 1;
            if (t->hidx[k] >= 0) {
                struct hub_err in = { 0 };
                char field[48];
                snprintf(field, sizeof(field), "row %zu col %zu", row->row,
                         i + 1);
                csv_finding(c, file, row->row, i + 1, cols[k].name,
                            CSV_SEV_ERROR,
                            "column appears twice in the header");
                const char *fp = c->files[file].p;
                size_t off = row->f[i].p >= fp &&
                                     row->f[i].p < fp + c->files[file].len
                                 ? (size_t)(row->f[i].p - fp)
                                 : row->offset;
                hub_err_set(&in, HUB_EINVALID, field, off,
                            "a column the layout reads appears twice in "
                            "the header");
                return csv_locate(c, err, HUB_EINVALID, file, &in);
            }
            t->hidx[k] = (int)i;
        }
        bool known = k < ncols || ka < na;
        unknown[i] = !known && h.len;
    }
    /* each missing column is a finding, so that a header from another
     * tool is put right in one go; the error names the first. The columns
     * not read are said in a refusal too: among them are the missing ones
     * under the sender's names (member_id for patient_id, F2400) */
    size_t first = ncols;
    for (size_t k = 0; k < ncols; k++) {
        if (cols[k].required && t->hidx[k] < 0) {
            csv_finding(c, file, row->row, 0, cols[k].name, CSV_SEV_ERROR,
                        "required column is missing");
            if (first == ncols)
                first = k;
        }
    }
    for (size_t i = 0; i < hn; i++)
        if (unknown[i])
            csv_finding(c, file, row->row, i + 1, NULL, CSV_SEV_WARNING,
                        "column is not one the layout knows; ignored");
    if (first < ncols) {
        char field[128];
        snprintf(field, sizeof(field), "%u:%s", file, cols[first].name);
        return hub_err_set(err, HUB_EINVALID, field, 0,
                           "required column is missing");
    }
    return HUB_OK;
}

/* Whether a record holds the header's names again (each trimmed, as
 * hname keeps them). */
static bool repeats_header(const struct csv_row *row, const char **hname)
{
    for (size_t i = 0; i < row->n; i++) {
        struct slice f = row->f[i];
        if (i == 0 && f.len >= 3 && memcmp(f.p, "\xEF\xBB\xBF", 3) == 0)
            f = (struct slice){ f.p + 3, f.len - 3 };  /* files joined */
        if (!slice_eq(trim_value(f), hname[i]))
            return false;
    }
    return true;
}

int csv_table_load(struct csv_ctx *c, unsigned file, const struct csv_col *cols,
                   size_t ncols, const char *const *also, struct csv_table *t,
                   struct hub_err *err)
{
    const struct csv_file *f = &c->files[file];
    struct csv_reader r;
    struct csv_row row;
    struct hub_err e = { 0 };
    const char **hname = NULL;
    size_t hn = 0;
    struct slice h0 = SLICE_NULL;   /* the header's first field as sent */
    int rc;

    memset(t, 0, sizeof(*t));
    t->file = file;
    t->cols = cols;
    t->ncols = ncols;
    t->hidx = arena_alloc(c->a, ncols * sizeof(int));
    t->dt_warned = arena_zalloc(c->a, ncols);
    for (size_t i = 0; i < ncols; i++)
        t->hidx[i] = -1;

    csv_reader_init(&r, c->a, c->delim[file] ? c->delim[file] : ',', NULL);
    /* a no-break space is C2 A0: an ASCII file has none to trim */
    const bool nbsp = c->high[file];
    csv_reader_feed(&r, f->p, f->len, true);
    size_t cap = 0;
    /* in_place: the header's first columns are the layout's, in order, so
     * a record's fields are its values: read into `fields`, a block with
     * room for `room` slices, and kept there */
    bool in_place = false;
    struct slice *fields = NULL;
    size_t room = 0;
    for (;;) {
        if (in_place && room < CSV_MAX_COLS) {
            room = FIELD_BLOCK;
            fields = arena_alloc(c->a, room * sizeof(*fields));
            csv_reader_fields(&r, fields);
        }
        if ((rc = csv_read_row(&r, &row, &e)) != 1)
            break;
        if (hname == NULL && row.empty && row.err == HUB_OK)
            continue;               /* blank, above the header */
        if (hname == NULL) {
            if (row.err)
                return hub_err_set(err, HUB_EINVALID, "header", row.offset,
                                   row.err_what);
            hn = row.n;
            hname = arena_alloc(c->a, (hn ? hn : 1) * sizeof(*hname));
            if ((rc = map_header(c, file, &row, cols, ncols, also, t, hname,
                                 err)))
                return rc;
            in_place = ncols <= hn;
            for (size_t k = 0; k < ncols; k++)
                in_place &= t->hidx[k] == (int)k;
            h0 = row.f[0];
            continue;
        }
        c->rep->rows++;
        if (row.empty && row.err == HUB_OK) {
            c->rep->rows_blank++;
            continue;
        }
        /* the header again (exports joined one after another): not data;
         * its first field is tested first, which settles nearly every row */
        if (row.err == HUB_OK && row.n == hn &&
            (row.f[0].len == h0.len || row.f[0].len == h0.len + 3) &&
            repeats_header(&row, hname)) {
            c->rep->rows_blank++;
            csv_finding(c, file, row.row, 0, NULL, CSV_SEV_WARNING,
                        "row repeats the header (files joined?); skipped");
            continue;
        }
        if (row.err) {
            size_t hc = row.err_col;
            const char *name = hc >= 1 && hc <= hn ? hname[hc - 1] : NULL;
            csv_finding(c, file, row.row, hc, name, CSV_SEV_ERROR,
                        row.err_what);
            c->rep->rows_rejected++;
            csv_reject_row(c, file, row.row, row.offset,
                           record_bytes(&r, &row));
            continue;
        }
        if (row.warn_what) {
            size_t hc = row.warn_col;
            const char *name = hc >= 1 && hc <= hn ? hname[hc - 1] : NULL;
            csv_finding(c, file, row.row, hc, name, CSV_SEV_WARNING,
                        row.warn_what);
        }
        if (t->n == cap) {
            /* first room for a row every 64 bytes of the file (most
             * files' rows are longer), at most the reader's row limit: the
             * table seldom doubles (its copies were a fiftieth of the
             * adapter) */
            size_t ncap = cap ? cap * 2 : 64 + f->len / 64;
            if (cap == 0 && ncap > CSV_MAX_ROWS)
                ncap = CSV_MAX_ROWS;
            struct csv_trow *nr = arena_alloc(c->a, ncap * sizeof(*nr));
            if (t->n)
                memcpy(nr, t->rows, t->n * sizeof(*nr));
            t->rows = nr;
            cap = ncap;
        }
        struct csv_trow *tr = &t->rows[t->n++];
        tr->row = (uint32_t)row.row;
        tr->offset = (uint32_t)row.offset;
        tr->end = (uint32_t)r.pos;
        tr->bad = false;
        tr->used = false;
        if (in_place) {
            /* a stored record has the header's columns (row.n == hn) */
            tr->v = fields;
            trim_values(fields, ncols);
            if (nbsp)
                trim_nbsp(fields, ncols);
            fields += row.n;
            room -= row.n;
            csv_reader_fields(&r, fields);
        } else {
            tr->v = arena_alloc(c->a, ncols * sizeof(struct slice));
            row_values(t, &row, tr->v);
            if (nbsp)
                trim_nbsp(tr->v, ncols);
        }
    }
    if (rc < 0)
        return csv_locate(c, err, rc, file, &e);
    if (hname == NULL)
        return hub_err_set(err, HUB_EINVALID, f->name ? f->name : "file", 0,
                           "file has no header row");
    return HUB_OK;
}

/* Excel's delimiter line: a first line (after a byte order mark) that is
 * exactly `sep=X`, X one of , ; TAB |, names the file's delimiter; Excel
 * reads it and hides it, and other tools that write for Excel put it
 * there. Returns X, or 0 when the file has none; *next is where the line
 * after it starts. */
static char sep_line(const char *p, size_t len, size_t *next)
{
    size_t i = len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    if (len - i < 5 || !slice_ieq((struct slice){ p + i, 4 }, "sep="))
        return 0;
    char d = p[i + 4];
    if (d != ',' && d != ';' && d != '\t' && d != '|')
        return 0;
    i += 5;
    if (i < len && p[i] != '\n' && p[i] != '\r')
        return 0;
    if (i < len && p[i] == '\r')
        i++;
    if (i < len && p[i] == '\n')
        i++;
    *next = i;
    return d;
}

/* Where the header row starts: after a byte order mark, Excel's `sep=`
 * line and the blank lines above it (only spaces and delimiters), as the
 * reader takes it. */
static size_t header_start(const char *p, size_t len)
{
    size_t i = len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    (void)sep_line(p, len, &i);
    for (size_t s = i; i < len; i++) {
        char ch = p[i];
        if (ch == '\n' || ch == '\r')
            s = i + 1;
        else if (ch != ' ' && ch != '\t' && ch != ',' && ch != ';' &&
                 ch != '|')
            return s;
    }
    return len;
}

bool csv_header_has(const struct csv_ctx *c, unsigned file, const char *name)
{
    const struct csv_file *f = &c->files[file];
    const char *p = f->p + header_start(f->p, f->len), *end = f->p + f->len;
    char delim = c->delim[file] ? c->delim[file] : ',';
    /* scan only the first line; a name may be quoted (no quote inside) */
    while (p < end && *p != '\n' && *p != '\r') {
        const char *s = p;
        while (p < end && *p != delim && *p != '\n' && *p != '\r')
            p++;
        struct slice h = slice_trim((struct slice){ s, (size_t)(p - s) });
        if (h.len >= 2 && h.p[0] == '"' && h.p[h.len - 1] == '"')
            h = slice_trim((struct slice){ h.p + 1, h.len - 2 });
        if (csv_name_eq(h, name))
            return true;
        if (p < end && *p == delim)
            p++;
    }
    return false;
}

char csv_delimiter(const char *p, size_t len)
{
    /* 1-4: the candidates, 5: a quote, 6: a line end; most bytes are 0
     * and cost a load and a test */
    static const unsigned char cls[256] = {
        [','] = 1, [';'] = 2, ['\t'] = 3, ['|'] = 4, ['"'] = 5,
        ['\n'] = 6, ['\r'] = 6,
    };
    static const char cand[5] = { 0, ',', ';', '\t', '|' };
    size_t count[5] = { 0 };
    bool quoted = false;
    size_t i;
    char said = sep_line(p, len, &i);
    if (said)
        return said;            /* the sender's word, as Excel takes it */
    i = header_start(p, len);
    /* the header row only (a quoted name may hold a line break); 64 KiB
     * is more than any header of CSV_MAX_COLS names needs */
    for (size_t end = len < i + 65536 ? len : i + 65536; i < end; i++) {
        unsigned k = cls[(unsigned char)p[i]];
        if (k == 0)
            continue;
        if (k == 5)
            quoted = !quoted;
        else if (quoted)
            continue;
        else if (k == 6)
            break;
        else
            count[k]++;
    }
    size_t best = 1;
    for (size_t k = 2; k < 5; k++)
        if (count[k] > count[best])
            best = k;
    return cand[best];
}
