/*
 * csv_report.c - grouping rows by key (csv_map: a file's rows by their
 * screening, a SHIN-NY set's by patient and screening) and the upload's
 * report as JSON: its counts, findings and every rejected row as ranges.
 */
#include "common/buf.h"
#include "csv/csv_int.h"

/* ---- grouping ---------------------------------------------------------- */

void csv_map_init(struct arena *a, struct csv_map *m, size_t max_keys)
{
    size_t cap = 16;
    while (cap < 2 * max_keys + 1)
        cap *= 2;
    m->cap = cap;
    m->k = arena_alloc(a, cap * sizeof(*m->k));
    m->v = arena_alloc(a, cap * sizeof(*m->v));
    m->used = arena_zalloc(a, cap / 64 * sizeof(*m->used) + sizeof(*m->used));
}

static bool map_used(const struct csv_map *m, size_t i)
{
    return (m->used[i / 64] >> (i % 64)) & 1;
}

static size_t map_slot(const struct csv_map *m, struct slice key)
{
    uint64_t h = 1469598103934665603ull;        /* FNV-1a */
    for (size_t i = 0; i < key.len; i++)
        h = (h ^ (unsigned char)key.p[i]) * 1099511628211ull;
    size_t i = (size_t)h & (m->cap - 1);
    while (map_used(m, i) && !slice_eq_slice(m->k[i], key))
        i = (i + 1) & (m->cap - 1);
    return i;
}

size_t csv_map_get_or_put(struct csv_map *m, struct slice key, size_t v)
{
    size_t i = map_slot(m, key);
    if (map_used(m, i))
        return m->v[i];
    m->used[i / 64] |= (uint64_t)1 << (i % 64);
    m->k[i] = key;
    m->v[i] = v;
    return v;
}

size_t csv_map_get(const struct csv_map *m, struct slice key)
{
    size_t i = map_slot(m, key);
    return map_used(m, i) ? m->v[i] : (size_t)-1;
}

/* ---- the report -------------------------------------------------------- */

/* "rejected_rows": per file, every rejected row as ranges ("3,5-9"):
 * findings stop at CSV_MAX_FINDINGS, and a sender must still learn which
 * rows were not used. The list is sorted by file and row. */
static void write_rejected_rows(struct jw *w, struct arena *a,
                                const struct csv_report *r)
{
    jw_key_chunk(w, JW_KEY("rejected_rows"));
    jw_arr_begin(w);
    for (size_t i = 0; i < r->n_rejected;) {
        unsigned file = r->rejected[i].file;
        struct buf b;
        buf_init(&b, a, 16u << 20);
        while (i < r->n_rejected && r->rejected[i].file == file) {
            size_t lo = r->rejected[i].row, hi = lo;
            for (i++; i < r->n_rejected && r->rejected[i].file == file &&
                      r->rejected[i].row == hi + 1; i++)
                hi++;
            char tmp[48];
            size_t n = 0;
            if (b.len)
                tmp[n++] = ',';
            n += csv_put_uint(tmp + n, lo);
            if (hi != lo) {
                tmp[n++] = '-';
                n += csv_put_uint(tmp + n, hi);
            }
            buf_append(&b, tmp, n);
        }
        jw_obj_begin(w);
        if (file < r->n_files && r->files[file].name)
            jw_kv_cstr(w, "file", r->files[file].name);
        jw_kv_str(w, "rows", buf_slice(&b));
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

int csv_report_json(struct arena *a, const struct csv_report *r,
                    struct slice *out)
{
    struct jw w;
    jw_init(&w, a, 16u << 20);
    jw_obj_begin(&w);
    jw_kv_cstr(&w, "kind", r->kind);
    jw_kv_cstr(&w, "message_id", r->message_id);
    jw_key_chunk(&w, JW_KEY("rows"));
    jw_int(&w, (int64_t)r->rows);
    jw_key_chunk(&w, JW_KEY("used"));
    jw_int(&w, (int64_t)r->rows_used);
    jw_key_chunk(&w, JW_KEY("rejected"));
    jw_int(&w, (int64_t)r->rows_rejected);
    jw_key_chunk(&w, JW_KEY("blank"));
    jw_int(&w, (int64_t)r->rows_blank);
    jw_key_chunk(&w, JW_KEY("events"));
    jw_int(&w, (int64_t)r->events);
    jw_key_chunk(&w, JW_KEY("errors"));
    jw_int(&w, (int64_t)r->errors);
    jw_key_chunk(&w, JW_KEY("warnings"));
    jw_int(&w, (int64_t)r->warnings);
    jw_key_chunk(&w, JW_KEY("findings"));
    jw_arr_begin(&w);
    for (size_t i = 0; i < r->n; i++) {
        const struct csv_finding *f = &r->f[i];
        jw_obj_begin(&w);
        if (f->file < r->n_files && r->files[f->file].name)
            jw_kv_cstr(&w, "file", r->files[f->file].name);
        if (f->row) {
            jw_key_chunk(&w, JW_KEY("row"));
            jw_int(&w, (int64_t)f->row);
        }
        if (f->col) {
            jw_key_chunk(&w, JW_KEY("col"));
            jw_int(&w, (int64_t)f->col);
        }
        jw_kv_cstr(&w, "column", f->column);
        jw_kv_cstr(&w, "severity",
                   f->severity == CSV_SEV_ERROR ? "error" : "warning");
        jw_kv_cstr(&w, "what", f->what);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_key_chunk(&w, JW_KEY("findings_dropped"));
    jw_int(&w, (int64_t)r->dropped);
    write_rejected_rows(&w, a, r);
    jw_obj_end(&w);
    return jw_finish(&w, out);
}
