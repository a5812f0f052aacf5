/*
 * csv_variants_test.c - one CSV upload written another legal way gives the
 * same canonical events. Every upload of tests/data/csv and
 * tests/data/real/csv (a file of the hub's own layouts, or a SHIN-NY set:
 * a directory's *.csv) is read again with each of its files
 *   - with the other line end (CRLF for LF, LF for CRLF) between records;
 *     RFC 4180 says CRLF, spreadsheets on Unix write LF;
 *   - with a UTF-8 byte-order mark (Excel's "CSV UTF-8"), or without the
 *     one it had;
 *   - with every field quoted (RFC 4180 2.5: any field may be), but for
 *     Excel's ="text", which quoting would turn into other text;
 *   - with its columns in reverse order, when every record has the
 *     header's width (the layouts find columns by header name);
 *   - with its header's names in lower case, in upper case, and with a
 *     space on each side (exports differ in both; the names are the
 *     same);
 *   - with every ISO date (a field that is exactly YYYY-MM-DD) as US
 *     spreadsheets write it, MM/DD/YYYY.
 * Each must give the same events and the same count of used, rejected and
 * blank rows, or the same refusal at the same place. The splitter here is
 * the test's own, so that the adapter's reader is not checked by itself.
 */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/testdb.h"
#include "../lib/testdict.h"
#include "../lib/testfile.h"
#include "../lib/variant.h"
#include "common/dict.h"
#include "common/hub_err.h"
#include "csv/csv.h"

#define MAX_FILES 8
#define MAX_RECORDS 4096
#define MAX_FIELDS 256

static struct dict *D;

static void setup(void)
{
    D = testdict_load();
}

static void teardown(void)
{
    dict_free(D);
}

TestSuite(csv_variants, .init = setup, .fini = teardown);

/* One file split into records of raw fields (quotes and all, as sent). */
struct record {
    const char *f[MAX_FIELDS];
    size_t len[MAX_FIELDS];
    size_t n;
};

struct split {
    struct record *r;
    size_t n;
    bool crlf; /* its first record ended with CRLF */
    bool bom;
};

static bool split_csv(const char *p, size_t len, struct split *s)
{
    s->r = calloc(MAX_RECORDS, sizeof(*s->r));
    s->n = 0;
    s->crlf = false;
    s->bom = len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0;
    size_t i = s->bom ? 3 : 0;
    bool seen_eol = false;
    while (i < len) {
        if (s->n == MAX_RECORDS)
            return false;
        struct record *r = &s->r[s->n++];
        r->n = 0;
        for (;;) { /* one field */
            size_t st = i;
            if (i < len && p[i] == '"') {
                for (i++; i < len; i++)
                    if (p[i] == '"') {
                        if (i + 1 < len && p[i + 1] == '"')
                            i++;
                        else
                            break;
                    }
                if (i >= len)
                    return false; /* unterminated: no variant */
                i++;
            }
            while (i < len && p[i] != ',' && p[i] != '\r' && p[i] != '\n')
                i++;
            if (r->n == MAX_FIELDS)
                return false;
            r->f[r->n] = p + st;
            r->len[r->n++] = i - st;
            if (i < len && p[i] == ',') {
                i++;
                continue;
            }
            break;
        }
        if (i < len && p[i] == '\r') {
            if (i + 1 < len && p[i + 1] == '\n') {
                if (!seen_eol)
                    s->crlf = true;
                i++;
            } else {
                return false; /* a lone CR: leave it */
            }
        }
        if (i < len)
            seen_eol = true;
        i++;
    }
    return s->n > 0;
}

enum variant {
    V_EOL,
    V_BOM,
    V_QUOTED,
    V_REVERSED,
    V_HEAD_LOWER,
    V_HEAD_UPPER,
    V_HEAD_SPACED,
    V_US_DATES,
    V_COUNT
};

static const char *const variant_name[] = {
    "with the other line end",
    "with the byte-order mark toggled",
    "with every field quoted",
    "with its columns reversed",
    "with its header in lower case",
    "with its header in upper case",
    "with spaces around its header's names",
    "with its dates as MM/DD/YYYY"};

/* "2026-01-15", a field that is exactly an ISO date, as US spreadsheets
 * write it: "01/15/2026"; false for any other field. */
static bool us_date(const char *f, size_t n, char out[11])
{
    bool q = n == 12 && f[0] == '"' && f[11] == '"';
    if (q) {
        f++;
        n -= 2;
    }
    if (n != 10 || f[4] != '-' || f[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (f[i] < '0' || f[i] > '9'))
            return false;
    memcpy(out, f + 5, 2);
    out[2] = '/';
    memcpy(out + 3, f + 8, 2);
    out[5] = '/';
    memcpy(out + 6, f, 4);
    return true;
}

/* The file written again as variant v; NULL when v does not apply. */
static char *rewrite(const struct split *s, enum variant v, size_t *out_len)
{
    if (v == V_REVERSED)
        for (size_t k = 0; k < s->n; k++)
            if (s->r[k].n != s->r[0].n)
                return NULL;
    size_t cap = 16;
    for (size_t k = 0; k < s->n; k++)
        for (size_t j = 0; j < s->r[k].n; j++)
            cap += 2 * s->r[k].len[j] + 4;
    char *o = malloc(cap), *w = o;
    bool bom = v == V_BOM ? !s->bom : s->bom;
    bool crlf = v == V_EOL ? !s->crlf : s->crlf;
    if (bom) {
        memcpy(w, "\xef\xbb\xbf", 3);
        w += 3;
    }
    for (size_t k = 0; k < s->n; k++) {
        const struct record *r = &s->r[k];
        for (size_t j = 0; j < r->n; j++) {
            size_t at = v == V_REVERSED ? r->n - 1 - j : j;
            const char *f = r->f[at];
            size_t n = r->len[at];
            if (j)
                *w++ = ',';
            if (k == 0 && v >= V_HEAD_LOWER) { /* the header's names */
                bool q = n >= 2 && f[0] == '"';
                const char *t = q ? f + 1 : f;
                size_t tn = q ? n - 2 : n;
                if (v == V_HEAD_SPACED)
                    *w++ = ' ';
                for (size_t b = 0; b < tn; b++)
                    *w++ =
                        v == V_HEAD_LOWER   ? (char)tolower((unsigned char)t[b])
                        : v == V_HEAD_UPPER ? (char)toupper((unsigned char)t[b])
                                            : t[b];
                if (v == V_HEAD_SPACED)
                    *w++ = ' ';
                continue;
            }
            char d[11];
            if (v == V_US_DATES && k > 0 && us_date(f, n, d)) {
                memcpy(w, d, 10);
                w += 10;
                continue;
            }
            /* a blank line stays blank: "" would be a field */
            bool wrap = v == V_QUOTED && r->n > 1 && !(n && f[0] == '"') &&
                        !(n >= 2 && f[0] == '=' && f[1] == '"');
            if (wrap)
                *w++ = '"';
            for (size_t b = 0; b < n; b++) {
                if (wrap && f[b] == '"')
                    *w++ = '"';
                *w++ = f[b];
            }
            if (wrap)
                *w++ = '"';
        }
        if (crlf)
            *w++ = '\r';
        *w++ = '\n';
    }
    *out_len = (size_t)(w - o);
    return o;
}

static struct variant_outcome normalize(const char *kind,
                                        const struct csv_file *f, size_t n)
{
    struct arena a;
    struct canon_list l = {0};
    struct csv_report rep;
    struct hub_err err = {0};
    arena_init(&a, 64 * 1024);
    int rc = csv_to_events(&a, D, kind, f, n, &l, &rep, &err);
    struct variant_outcome o = variant_outcome_of(rc, &err, &l);
    if (rc == HUB_OK) {
        o.used = rep.rows_used;
        o.rejected = rep.rows_rejected;
        o.blank = rep.rows_blank;
    }
    arena_release(&a);
    return o;
}

struct upload {
    char kind[32];
    char name[256];
    struct csv_file f[MAX_FILES];
    char *bytes[MAX_FILES];
    size_t n;
};

static int by_name(const void *x, const void *y)
{
    return strcmp(((const struct csv_file *)x)->name,
                  ((const struct csv_file *)y)->name);
}

/* A set directory's *.csv, or one file; false for what is neither. */
static bool load_upload(const char *dir, const char *entry, struct upload *u)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, entry);
    size_t l = strlen(entry);
    snprintf(u->name, sizeof(u->name), "%s", entry);
    u->n = 0;
    if (l > 4 && strcmp(entry + l - 4, ".csv") == 0) {
        if (strncmp(entry, "screenings", 10) == 0)
            snprintf(u->kind, sizeof(u->kind), "screenings");
        else if (strncmp(entry, "referral-status", 15) == 0)
            snprintf(u->kind, sizeof(u->kind), "referral-status");
        else
            return false;
        size_t len;
        u->bytes[0] = testfile_read(path, &len);
        u->f[0] = (struct csv_file){strdup(entry), NULL, u->bytes[0], len};
        u->n = u->bytes[0] != NULL;
        return u->n == 1;
    }
    DIR *d = opendir(path);
    if (!d)
        return false;
    snprintf(u->kind, sizeof(u->kind), "shinny");
    struct dirent *e;
    while ((e = readdir(d)) != NULL && u->n < MAX_FILES) {
        size_t el = strlen(e->d_name);
        if (el < 5 || strcmp(e->d_name + el - 4, ".csv") != 0)
            continue;
        char fp[8192 + 256];
        size_t len;
        snprintf(fp, sizeof(fp), "%s/%s", path, e->d_name);
        u->bytes[u->n] = testfile_read(fp, &len);
        cr_assert_not_null(u->bytes[u->n], "cannot read %s", fp);
        u->f[u->n] =
            (struct csv_file){strdup(e->d_name), NULL, u->bytes[u->n], len};
        u->n++;
    }
    closedir(d);
    qsort(u->f, u->n, sizeof(u->f[0]), by_name);
    return u->n > 0;
}

static void free_upload(struct upload *u)
{
    for (size_t i = 0; i < u->n; i++) {
        free((char *)u->f[i].name);
        free(u->bytes[i]);
    }
}

Test(csv_variants, line_ends_bom_quoting_and_column_order_change_nothing)
{
    static const char *const dirs[] = {"tests/data/csv", "tests/data/real/csv"};
    unsigned uploads = 0, accepted = 0, variants = 0, fails = 0;
    for (size_t di = 0; di < 2; di++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%s", testdb_root(), dirs[di]);
        DIR *dh = opendir(dir);
        cr_assert_not_null(dh, "cannot open %s", dir);
        struct dirent *e;
        while ((e = readdir(dh)) != NULL) {
            struct upload u;
            if (e->d_name[0] == '.' || !load_upload(dir, e->d_name, &u))
                continue;
            uploads++;
            struct variant_outcome want = normalize(u.kind, u.f, u.n);
            accepted += want.rc == HUB_OK;
            struct split sp[MAX_FILES];
            bool ok = true;
            for (size_t i = 0; i < u.n; i++)
                ok = split_csv(u.f[i].p, u.f[i].len, &sp[i]) && ok;
            for (int v = 0; ok && v < V_COUNT; v++) {
                struct csv_file alt[MAX_FILES];
                bool applies = true;
                for (size_t i = 0; i < u.n; i++) {
                    size_t n = 0;
                    char *b = rewrite(&sp[i], (enum variant)v, &n);
                    applies = applies && b;
                    alt[i] = (struct csv_file){u.f[i].name, NULL, b, n};
                }
                if (applies) {
                    variants++;
                    struct variant_outcome got = normalize(u.kind, alt, u.n);
                    variant_expect_same(u.name, variant_name[v], &want, &got,
                                        NULL, &fails);
                    variant_outcome_release(&got);
                }
                for (size_t i = 0; i < u.n; i++)
                    free((char *)alt[i].p);
            }
            for (size_t i = 0; i < u.n; i++)
                free(sp[i].r);
            variant_outcome_release(&want);
            free_upload(&u);
        }
        closedir(dh);
    }
    cr_log_info("%u uploads, %u accepted, %u variants", uploads, accepted,
                variants);
    cr_assert_geq(uploads, 8, "%u uploads read", uploads);
    cr_assert_geq(variants, 3 * accepted, "%u variants of %u uploads", variants,
                  accepted);
    cr_assert_eq(fails, 0, "%u variants differ from the upload as sent", fails);
}
