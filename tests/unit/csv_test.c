/*
 * csv_test.c - the CSV layouts: golden files (tests/data/csv: the SHIN-NY
 * sets and the hub's own layouts, each beside the events and report
 * expected from reading it), hostile input, positivity disagreements, and
 * the upload's idempotency key.
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <malloc.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/dict.h"
#include "common/hub_err.h"
#include "csv/csv.h"
#include "dict_files.h"
#include "../lib/csvrun.h"
#include "../lib/testdict.h"

static struct dict *D;
static struct arena A;

static const char *root(void)
{
    const char *r = getenv("HUB_ROOT");
    return r ? r : ".";
}

static void setup(void)
{
    D = testdict_load();
    arena_init(&A, 64 * 1024);
}

static void teardown(void)
{
    dict_free(D);
    arena_release(&A);
}

TestSuite(csv, .init = setup, .fini = teardown);

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = arena_alloc(&A, (size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    p[*len] = '\0';
    fclose(f);
    return p;
}

static const char *sha256_hex(const char *p, size_t len)
{
    unsigned char md[32];
    unsigned int ml = 0;
    char *hex = arena_alloc(&A, 65);
    EVP_Digest(p, len, md, &ml, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}

/* One file of tests/data/csv (path relative to it). */
static struct csv_file data_file(const char *rel)
{
    char path[1024];
    struct csv_file f;
    snprintf(path, sizeof(path), "%s/tests/data/csv/%s", root(), rel);
    f.p = slurp(path, &f.len);
    const char *slash = strrchr(rel, '/');
    f.name = slash ? slash + 1 : rel;
    f.sha256 = sha256_hex(f.p, f.len);
    return f;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(((const struct csv_file *)x)->name,
                  ((const struct csv_file *)y)->name);
}

/* Every *.csv of a set directory, sorted by name. */
static size_t set_files(const char *set, struct csv_file *files, size_t max)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/tests/data/csv/%s", root(), set);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    struct dirent *de;
    size_t n = 0;
    while ((de = readdir(d)) && n < max) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 4, ".csv") != 0)
            continue;
        char rel[600];
        snprintf(rel, sizeof(rel), "%s/%s", set, de->d_name);
        files[n] = data_file(arena_strndup(&A, rel, strlen(rel)));
        n++;
    }
    closedir(d);
    qsort(files, n, sizeof(files[0]), by_name);
    return n;
}

static char *events_json(const struct canon_list *l)
{
    struct buf b;
    buf_init(&b, &A, 64u << 20);
    buf_putc(&b, '[');
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            buf_putc(&b, ',');
        buf_append(&b, l->ev[i].json.p, l->ev[i].json.len);
    }
    buf_putc(&b, ']');
    return b.p;
}

/* Compare a JSON text with a golden file, as JSON values. */
static void assert_golden(const char *got, const char *golden)
{
    char path[1024];
    size_t len;
    snprintf(path, sizeof(path), "%s/tests/data/csv/%s", root(), golden);
    const char *want = slurp(path, &len);
    cJSON *g = cJSON_Parse(got), *w = cJSON_Parse(want);
    cr_assert_not_null(g, "output is not JSON: %s", got);
    cr_assert_not_null(w, "%s is not JSON", golden);
    bool same = cJSON_Compare(g, w, true);
    if (!same) {
        char *pretty = cJSON_Print(g);
        fprintf(stderr, "== %s differs; got:\n%s\n", golden, pretty);
        free(pretty);
    }
    cJSON_Delete(g);
    cJSON_Delete(w);
    cr_assert(same, "output differs from %s", golden);
}

static void check_golden(const char *kind, struct csv_file *files, size_t n,
                         const char *name)
{
    struct canon_list out = { 0 };
    struct csv_report rep;
    struct hub_err err = { 0 };
    struct slice rj;
    char golden[256];

    int rc = csv_to_events(&A, D, kind, files, n, &out, &rep, &err);
    cr_assert_eq(rc, HUB_OK, "rc %d at %s: %s", rc, err.field,
                 err.what ? err.what : "");
    for (size_t i = 0; i < out.n; i++)
        cr_assert(canon_topic_known(out.ev[i].type));
    snprintf(golden, sizeof(golden), "%s.events.json", name);
    assert_golden(events_json(&out), golden);
    cr_assert_eq(csv_report_json(&A, &rep, &rj), HUB_OK);
    snprintf(golden, sizeof(golden), "%s.report.json", name);
    assert_golden(rj.p, golden);
}

/* ---- goldens ------------------------------------------------------------ */

Test(csv, shinny_lakeside_set_gives_the_expected_events_and_report)
{
    struct csv_file files[8];
    size_t n = set_files("shinny-1115-lakeside-set1", files, 8);
    cr_assert_eq(n, 4);
    check_golden("shinny", files, n, "shinny-1115-lakeside-set1");
}

Test(csv, shinny_riverbend_messy_set_gives_the_expected_events_and_report)
{
    struct csv_file files[8];
    size_t n = set_files("shinny-1115-riverbend-set2", files, 8);
    cr_assert_eq(n, 4);
    check_golden("shinny", files, n, "shinny-1115-riverbend-set2");
}

/* The screenings sample grown to `copies` copies, the ids made unique a
 * copy as csv_grow.sh does; its length in *len. */
static char *grown_screenings(size_t copies, size_t *len)
{
    char path[1024];
    size_t n;
    snprintf(path, sizeof(path), "%s/tests/data/csv/screenings-simple.csv",
             root());
    const char *one = slurp(path, &n);
    const char *body = strchr(one, '\n') + 1;
    size_t hl = (size_t)(body - one), bl = n - hl;
    size_t cap = hl + copies * (bl + 17 * 12) + 1;
    char *big = malloc(cap);
    cr_assert_not_null(big);
    memcpy(big, one, hl);
    *len = hl;
    for (size_t k = 1; k <= copies; k++) {
        for (const char *l = body; l < one + n && *l != '\0';) {
            const char *e = strchr(l, '\n');
            e = e ? e + 1 : one + n;
            const char *c1 = memchr(l, ',', (size_t)(e - l));
            const char *c2 = memchr(c1 + 1, ',', (size_t)(e - c1 - 1));
            *len += (size_t)snprintf(big + *len, cap - *len,
                                     "%.*s-%zu,%.*s-%zu", (int)(c1 - l), l,
                                     k, (int)(c2 - c1 - 1), c1 + 1, k);
            memcpy(big + *len, c2, (size_t)(e - c2));
            *len += (size_t)(e - c2);
            l = e;
        }
    }
    return big;
}

/* What an upload costs in memory, bounded: the screenings sample grown to
 * 1,900 copies (2.7 MB, 32,300 rows, 9,500 events) took 67.5 MB of the
 * arena (24.7 times its size) with a screening's rows kept in an array of
 * 16 doubled, room for a screening a row and a patient a screening; 43.1
 * MB (15.7 times) since. The events alone are 14 MB of it. */
Test(csv, a_grown_upload_takes_under_twenty_times_its_size)
{
    size_t len;
    char *big = grown_screenings(1900, &len);
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct csvrun r = csvrun(&a, D, "screenings", "big.csv", big, len);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_gt(r.out.n, 9000);
    cr_assert_lt(a.used, 20 * len, "arena %zu bytes for a file of %zu",
                 a.used, len);
    arena_release(&a);
    free(big);
}

/* glibc's allocator alone: AddressSanitizer brings its own */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
/*
 * Where an upload's memory lives (F1180): the bench's eight concurrent
 * uploads of the sample grown to 30 copies (510 rows, 0.9 MB of arena
 * each for the events and report), in job arenas of 16 KB chunks as hubd
 * makes them, under hubd's malloc thresholds (hubd.c malloc_limits). In
 * chunks of 16 KB they lived in the heap, and once released the heap kept
 * them resident whenever anything newer sat above them (a connection's
 * buffer, the next job): 10 to 15 MB after the bench's uploads, by
 * chance. Chunks that grow with the arena are mapped on their own and go
 * back whole when released: the heap grows by little. Criterion runs each
 * test in a process of its own, so the thresholds set here stay here.
 */
Test(csv, eight_uploads_at_once_grow_the_heap_under_two_megabytes)
{
    size_t len;
    char *big = grown_screenings(30, &len);
    struct arena a[8];

    cr_assert_eq(mallopt(M_MMAP_THRESHOLD, 128 * 1024), 1);
    cr_assert_eq(mallopt(M_TRIM_THRESHOLD, 1024 * 1024), 1);
    struct mallinfo2 m0 = mallinfo2();
    size_t used = 0;
    for (int k = 0; k < 8; k++) {
        arena_init(&a[k], 16 * 1024);
        struct csvrun r = csvrun(&a[k], D, "screenings", "up.csv", big, len);
        cr_assert_eq(r.rc, HUB_OK);
        cr_assert_gt(r.out.n, 140);
        used += a[k].used;
    }
    struct mallinfo2 m1 = mallinfo2();
    cr_assert_gt(used, (size_t)6 << 20, "%zu bytes in the eight arenas: the "
                 "premise is megabytes", used);
    cr_assert_lt(m1.arena - m0.arena, (size_t)2 << 20,
                 "the heap grew from %zu to %zu bytes (mapped blocks %zu "
                 "to %zu) for %zu bytes in the arenas", m0.arena, m1.arena,
                 m0.hblkhd, m1.hblkhd, used);
    for (int k = 0; k < 8; k++)
        arena_release(&a[k]);
    free(big);
}
#endif

Test(csv, simple_screenings_layout_gives_the_expected_events_and_report)
{
    struct csv_file f = data_file("screenings-simple.csv");
    check_golden("screenings", &f, 1, "screenings-simple");
}

Test(csv, referral_status_layout_gives_the_expected_events_and_report)
{
    struct csv_file f = data_file("referral-status-simple.csv");
    check_golden("referral-status", &f, 1, "referral-status-simple");
}

/* ---- helpers for inline files ------------------------------------------- */

#define SCR_HEADER                                                           \
    "screening_id,patient_id,instrument,screened_at,question,answer,value,"  \
    "absent_reason,sender_positive,address_line\r\n"

#define RUN(kind, lit) csvrun(&A, D, kind, "t.csv", lit, sizeof(lit) - 1)

/* The finding at `row` whose reason holds `what`, or NULL. */
static const struct csv_finding *finding(const struct csv_report *r,
                                         size_t row, const char *what)
{
    return csvrun_finding(r, row, what);
}

/* ---- RFC 4180 through a layout ---------------------------------------- */

/* A file whose header is the layout's columns in order is read in place
 * (csv_table_load keeps the reader's fields); any other order through the
 * column map. Both give the same values, trimmed alike: the same rows with
 * city and state swapped make the same events and report. */
Test(csv, columns_in_the_layouts_order_read_as_any_other_order)
{
#define HDR(a, b)                                                            \
    "screening_id,patient_id,patient_id_system,patient_id_type,family_name," \
    "given_name,birth_date,sex,address_line," a "," b ",postal_code,county," \
    "phone,facility,instrument,screened_at,question,answer,value,"           \
    "absent_reason,sender_positive\r\n"
#define ROW(id, a, b, tail)                                                  \
    id ", P1 ,,MR,\tDoe, Jamie ,1985-04-02, female ,\"5 Elm St, Apt 1 \","   \
    a "," b ",12534,Columbia County,5185550000,PANTRY-1, 96777-8\t,"         \
    "2026-03-01T10:00:00-05:00," tail "\r\n"
    static const char in_order[] =
        HDR("city", "state")
        ROW("S1", " Hudson ", "NY\t", "71802-3,LA31993-1,,,N")
        ROW("S1", "Hudson", "NY", "88122-7, LA6729-3 ,,,Y")
        "S3,P3,96777-8\r\n"
        ",,,,,,,,,,,,,,,,,,,,,\r\n"
        ROW("S2", "\" Kingston\"", "NY", "93030-5,,,asked-declined,Y")
        ROW("S2", "Kingston", "NY", "95614-4,,9,,");
    static const char swapped[] =
        HDR("state", "city")
        ROW("S1", "NY\t", " Hudson ", "71802-3,LA31993-1,,,N")
        ROW("S1", "NY", "Hudson", "88122-7, LA6729-3 ,,,Y")
        "S3,P3,96777-8\r\n"
        ",,,,,,,,,,,,,,,,,,,,,\r\n"
        ROW("S2", "NY", "\" Kingston\"", "93030-5,,,asked-declined,Y")
        ROW("S2", "NY", "Kingston", "95614-4,,9,,");
#undef HDR
#undef ROW
    struct csvrun a = RUN("screenings", in_order);
    struct csvrun b = RUN("screenings", swapped);
    cr_assert_eq(a.rc, HUB_OK);
    cr_assert_eq(b.rc, HUB_OK);
    cr_assert_eq(a.rep.rows_used, 4);
    cr_assert_eq(a.rep.rows_rejected, 1);
    cr_assert_eq(a.rep.rows_blank, 1);
    cr_assert_eq(a.out.n, b.out.n);
    cr_assert_geq(a.out.n, 2);
    for (size_t i = 0; i < a.out.n; i++)
        cr_assert_str_eq(a.out.ev[i].json.p, b.out.ev[i].json.p);
    cr_assert(strstr(a.out.ev[0].json.p, "\"city\":\"Hudson\",\"state\":\"NY\""),
              "%s", a.out.ev[0].json.p);
    cr_assert(strstr(a.out.ev[0].json.p, "\"given\":[\"Jamie\"]"), "%s",
              a.out.ev[0].json.p);
    struct slice ra, rb;
    cr_assert_eq(csv_report_json(&A, &a.rep, &ra), HUB_OK);
    cr_assert_eq(csv_report_json(&A, &b.rep, &rb), HUB_OK);
    cr_assert_str_eq(ra.p, rb.p);
    cr_assert_eq(a.rep.n_rejected, 1);
    cr_assert_eq(a.rep.rejected[0].offset, b.rep.rejected[0].offset);
    cr_assert_eq(a.rep.rejected[0].raw.len, strlen("S3,P3,96777-8"));
}

Test(csv, quoted_commas_newlines_and_doubled_quotes_reach_the_event)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,71802-3,LA31994-9,,,,"
        "\"\"\"The Lofts\"\", 4 Main St\r\nRear door\"\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 2);   /* completed + positive */
    cr_assert(strstr(r.out.ev[0].json.p,
                     "\"lines\":[\"\\\"The Lofts\\\", 4 Main St\\r\\n"
                     "Rear door\"]") != NULL, "%s", r.out.ev[0].json.p);
}

/* F860: OASIS-E B1300 (93157-6, the Single Item Literacy Screener) in the
 * hub's layout: Sometimes is positive for personal health literacy,
 * Never negative, in that domain both. */
Test(csv, a_health_literacy_screener_names_its_domain)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,99131-5,2026-01-02,93157-6,LA10082-8,,,,\r\n"
        "S2,P2,99131-5,2026-01-02,93157-6,LA6270-8,,,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 3);   /* S1 completed + positive, S2 completed */
    cr_assert_str_eq(r.out.ev[1].type, "screening.positive");
    cr_assert(strstr(r.out.ev[0].json.p, "\"positive_domains\":"
                     "[\"personal-health-literacy\"]"), "%s",
              r.out.ev[0].json.p);
    cr_assert_str_eq(r.out.ev[2].type, "screening.completed");
    cr_assert(strstr(r.out.ev[2].json.p, "\"domains\":"
                     "[\"personal-health-literacy\"]"), "%s",
              r.out.ev[2].json.p);
    cr_assert(strstr(r.out.ev[2].json.p, "\"positive_domains\":[]"), "%s",
              r.out.ev[2].json.p);
}

/* F862: PRAPARE's military service question in the hub's layout names
 * veteran status as screened, Yes and No alike, never as positive. */
Test(csv, prapare_military_service_names_veteran_status)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,93025-5,2026-01-02,93034-7,LA33-6,,,,\r\n"
        "S2,P2,93025-5,2026-01-02,93034-7,LA32-8,,,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 2);
    for (size_t i = 0; i < 2; i++) {
        cr_assert_str_eq(r.out.ev[i].type, "screening.completed");
        cr_assert(strstr(r.out.ev[i].json.p, "\"domains\":"
                         "[\"veteran-status\"],\"positive_domains\":[]"),
                  "%s", r.out.ev[i].json.p);
    }
}

Test(csv, a_bom_and_lf_line_ends_are_accepted)
{
    struct csvrun r = RUN("screenings",
        "\xEF\xBB\xBF" "screening_id,patient_id,instrument,screened_at,"
        "question,answer\n"
        "S1,P1,96777-8,2026-01-02,93030-5,LA33-6\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 1);
    cr_assert_eq(r.out.n, 2);
}

/* Excel on Windows saves "CSV" in Windows-1252. A file that is not UTF-8 is
 * read as Windows-1252, with a warning on the file, rather than let every
 * accented letter become U+FFFD in the events (a name no one can match). A
 * UTF-8 file is read as it is. */
Test(csv, a_windows_1252_file_is_read_as_such_with_a_warning)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,71802-3,LA31994-9,,,,"
        "Calle Pe\xf1" "a 4 \x93" "B\x94 \x80\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 2);
    cr_assert(strstr(r.out.ev[0].json.p,
                     "\"lines\":[\"Calle Pe\xc3\xb1" "a 4 \xe2\x80\x9c" "B"
                     "\xe2\x80\x9d \xe2\x82\xac\"]") != NULL, "%s",
              r.out.ev[0].json.p);
    const struct csv_finding *f = finding(&r.rep, 0, "not UTF-8");
    cr_assert_not_null(f, "no warning that the file was translated");
    cr_assert_eq(f->severity, CSV_SEV_WARNING);
    cr_assert_eq(f->file, 0);

    struct csvrun u = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,71802-3,LA31994-9,,,,"
        "Calle Pe\xc3\xb1" "a 4\r\n");
    cr_assert_eq(u.rc, HUB_OK);
    cr_assert(strstr(u.out.ev[0].json.p, "Calle Pe\xc3\xb1" "a 4") != NULL);
    cr_assert_null(finding(&u.rep, 0, "not UTF-8"));

    /* a rejected row of such a file is quarantined as the bytes sent */
    static const char bad[] =
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,71802-3,LA31994-9,,,,Pe\xf1" "a\r\n"
        "S2,P\xe9,short\r\n";
    struct csvrun b = RUN("screenings", bad);
    cr_assert_eq(b.rc, HUB_OK);
    cr_assert_eq(b.rep.n_rejected, 1);
    const struct csv_rejected *rj = &b.rep.rejected[0];
    size_t off = (size_t)(strstr(bad, "S2,") - bad);
    cr_assert_eq(rj->offset, off);
    cr_assert_eq(rj->raw.len, strlen("S2,P\xe9,short"));
    cr_assert(memcmp(rj->raw.p, "S2,P\xe9,short", rj->raw.len) == 0);
}

/* ---- hostile input -------------------------------------------------------- */

Test(csv, mismatched_columns_reject_the_row_by_column_and_keep_the_rest)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,93030-5,LA33-6,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,96779-4,LA33-6,,,,,extra\r\n"
        "S1,P1,96777-8\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 1);
    cr_assert_eq(r.rep.rows_rejected, 2);
    const struct csv_finding *f =
        finding(&r.rep, 3, "more columns than the header");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 11);
    f = finding(&r.rep, 4, "fewer columns than the header");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 4);
    cr_assert_str_eq(f->column, "screened_at");
}

Test(csv, rejected_rows_are_listed_in_order_with_their_own_bytes)
{
    /* row 3 refused by the reader (a column too many), row 4 by the layout
     * (a date not in the calendar), row 5 with a quoted line break */
    static const char lit[] =
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,93030-5,LA33-6,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,96779-4,LA33-6,,,,,extra\r\n"
        "S2,P2,96777-8,2026-02-30,93030-5,LA33-6,,,,\r\n"
        "S3,P3,96777-8,31/12/26,93030-5,LA33-6,,,,\"a\r\nb\"\n";
    struct csvrun r = RUN("screenings", lit);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_rejected, 3);
    cr_assert_eq(r.rep.n_rejected, 3, "every rejected row is listed");
    static const char *const want[] = {
        "S1,P1,96777-8,2026-01-02,96779-4,LA33-6,,,,,extra",
        "S2,P2,96777-8,2026-02-30,93030-5,LA33-6,,,,",
        "S3,P3,96777-8,31/12/26,93030-5,LA33-6,,,,\"a\r\nb\"",
    };
    for (size_t i = 0; i < 3; i++) {
        const struct csv_rejected *x = &r.rep.rejected[i];
        cr_assert_eq(x->file, 0);
        cr_assert_eq(x->row, i + 3, "in row order: %zu", x->row);
        cr_assert_eq(x->raw.len, strlen(want[i]), "row %zu", x->row);
        cr_assert(memcmp(x->raw.p, want[i], x->raw.len) == 0, "row %zu: %.*s",
                  x->row, (int)x->raw.len, x->raw.p);
        cr_assert_eq(x->raw.p, lit + x->offset, "offset of row %zu", x->row);
    }
}

Test(csv, an_unterminated_quote_refuses_the_file_naming_row_and_column)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,93030-5,LA33-6,,,,ok\r\n"
        "S1,P1,96777-8,2026-01-02,96779-4,LA33-6,,,,\"never closed\r\n"
        "S2,P2,96777-8,2026-01-02,96779-4,LA33-6,,,,\r\n");
    cr_assert_eq(r.rc, HUB_ESYNTAX);
    cr_assert_str_eq(r.err.field, "0:row 3 col 10");
    cr_assert_str_eq(r.err.what, "quoted field is not terminated");
    cr_assert_eq(r.out.n, 0);
}

/* A file refused for its bytes names the offset in the file as sent, also
 * when it was read from its Windows-1252 translation (each accented byte
 * two bytes there): the sender looks for that byte in their own file. */
Test(csv, a_windows_1252_file_refused_names_the_offset_in_the_bytes_sent)
{
    static const char in[] =
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,93030-5,LA33-6,,,,Pe\xf1" "a \xe9\xe8\r\n"
        "S1,P1,96777-8,2026-01-02,96779-4,LA33-6,,,,\"never closed\r\n";
    struct csvrun r = RUN("screenings", in);
    cr_assert_eq(r.rc, HUB_ESYNTAX);
    cr_assert_str_eq(r.err.field, "0:row 3 col 10");
    size_t open = (size_t)(strchr(in, '"') - in);
    cr_assert_eq(r.err.offset, open, "offset %zu, the quote is at %zu",
                 r.err.offset, open);
}

Test(csv, nul_bytes_reject_only_their_row)
{
    static const char in[] =
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,93030-5,LA\0-6,,,,\r\n"
        "S2,P2,96777-8,2026-01-02,93030-5,LA33-6,,,,\r\n";
    struct csvrun r = csvrun(&A, D, "screenings", "t.csv", in, sizeof(in) - 1);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_rejected, 1);
    cr_assert_eq(r.rep.rows_used, 1);
    const struct csv_finding *f = finding(&r.rep, 2, "NUL byte");
    cr_assert_not_null(f);
    cr_assert_eq(f->col, 6);
}

Test(csv, a_header_wider_than_the_column_limit_refuses_the_file)
{
    struct buf b;
    buf_init(&b, &A, 1u << 20);
    buf_puts(&b, "screening_id,patient_id,instrument,screened_at,question");
    for (unsigned i = 0; i < CSV_MAX_COLS; i++)
        buf_printf(&b, ",x%u", i);
    buf_puts(&b, "\r\n");
    struct csvrun r = csvrun(&A, D, "screenings", "t.csv", b.p, b.len);
    cr_assert_eq(r.rc, HUB_ELIMIT);
    cr_assert(strstr(r.err.field, "col 257") != NULL, "%s", r.err.field);
}

/* The table is first sized from the file's length (a row every 64 bytes):
 * a file of shorter rows grows it past that, and keeps every row. */
Test(csv, rows_shorter_than_the_first_guess_are_all_kept)
{
    struct buf b;
    buf_init(&b, &A, 1u << 20);
    buf_puts(&b, "screening_id,patient_id,instrument,screened_at,question\n");
    for (unsigned i = 0; i < 6000; i++) {
        char line[64];
        snprintf(line, sizeof(line), "S%u,P,X,2026,Q\n", i);
        buf_puts(&b, line);
    }
    buf_puts(&b, "S-last,P,X,2026-02-30,Q\n");
    struct csvrun r = csvrun(&A, D, "screenings", "t.csv", b.p, b.len);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 6000);
    cr_assert_eq(r.out.n, 6000);
    cr_assert_eq(r.rep.n_rejected, 1);
    cr_assert_eq(r.rep.rejected[0].row, 6002);
    cr_assert_eq(r.rep.rejected[0].raw.len, strlen("S-last,P,X,2026-02-30,Q"));
    cr_assert_eq(r.rep.rejected[0].raw.p, b.p + r.rep.rejected[0].offset);
    cr_assert(strstr(r.out.ev[5999].json.p, "\"id\":\"S5999\""));
}

Test(csv, one_row_past_the_row_limit_refuses_the_file)
{
    struct buf b;
    buf_init(&b, &A, 16u << 20);
    buf_puts(&b, "screening_id,patient_id,instrument,screened_at,question\n");
    for (unsigned i = 1; i < CSV_MAX_ROWS; i++)
        buf_puts(&b, ",,,,\n");
    struct csvrun ok = csvrun(&A, D, "screenings", "t.csv", b.p, b.len);
    cr_assert_eq(ok.rc, HUB_OK);
    cr_assert_eq(ok.rep.rows_blank, CSV_MAX_ROWS - 1);
    buf_puts(&b, ",,,,\n");
    struct csvrun over = csvrun(&A, D, "screenings", "t.csv", b.p, b.len);
    cr_assert_eq(over.rc, HUB_ELIMIT);
    cr_assert_str_eq(over.err.what, "more rows than the limit");
}

Test(csv, bom_only_and_empty_files_are_refused_as_having_no_header)
{
    struct csvrun r = RUN("screenings", "\xEF\xBB\xBF");
    cr_assert_eq(r.rc, HUB_EINVALID);
    cr_assert_str_eq(r.err.what, "file has no header row");
    r = csvrun(&A, D, "referral-status", "t.csv", "", 0);
    cr_assert_eq(r.rc, HUB_EINVALID);
    cr_assert_str_eq(r.err.what, "file has no header row");
}

Test(csv, a_missing_required_column_refuses_the_file_naming_it)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at\r\n"
        "S1,P1,96777-8,2026-01-02\r\n");
    cr_assert_eq(r.rc, HUB_EINVALID);
    cr_assert_str_eq(r.err.field, "0:question");
    cr_assert_str_eq(r.err.what, "required column is missing");
}

Test(csv, an_unknown_kind_is_unsupported)
{
    struct csvrun r = RUN("rosters", SCR_HEADER);
    cr_assert_eq(r.rc, HUB_EUNSUPPORTED);
}

Test(csv, a_screening_longer_than_its_row_limit_rejects_the_extra_rows)
{
    struct buf b;
    buf_init(&b, &A, 1u << 20);
    buf_puts(&b, SCR_HEADER);
    for (unsigned i = 0; i < CSV_MAX_SCREENING_ROWS + 2; i++)
        buf_puts(&b, "S1,P1,96777-8,2026-01-02,93030-5,LA33-6,,,,\r\n");
    struct csvrun r = csvrun(&A, D, "screenings", "t.csv", b.p, b.len);
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_rejected, 2);
    cr_assert_eq(r.rep.rows_used, CSV_MAX_SCREENING_ROWS);
}

/* ---- positivity ------------------------------------------------------------ */

Test(csv, sender_positive_on_a_negative_answer_warns_and_does_not_override)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,71802-3,LA31993-1,,,POS,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 1);       /* completed only: nothing positive */
    const char *j = r.out.ev[0].json.p;
    cr_assert(strstr(j, "\"positive\":false,\"sender_positive\":true"), "%s",
              j);
    cr_assert(strstr(j, "\"warnings\":[{\"field\":\"screening.items[0]"
                        ".positive\",\"what\":\"sender flags a need that "
                        "the answers do not show\"}]"), "%s", j);
    const struct csv_finding *f = finding(&r.rep, 2, "sender flags a need");
    cr_assert_not_null(f);
    cr_assert_str_eq(f->column, "sender_positive");
    cr_assert_eq(f->severity, CSV_SEV_WARNING);
}

/* An answer to PHQ-9 item 9 (thoughts of self-harm) labels the screening
 * "psy", both its events; the same item left unanswered labels nothing. */
Test(csv, an_answer_on_self_harm_labels_the_screening_psy)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,93030-5,LA33-6,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,44260-8,LA6568-5,,,,\r\n"
        "S2,P2,96777-8,2026-01-02,93030-5,LA33-6,,,,\r\n"
        "S2,P2,96777-8,2026-01-02,44260-8,,,,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 4);
    for (size_t i = 0; i < 2; i++)
        cr_assert(strstr(r.out.ev[i].json.p, "},\"sensitivity\":[\"psy\"]"),
                  "%s", r.out.ev[i].json.p);
    for (size_t i = 2; i < 4; i++)
        cr_assert_null(strstr(r.out.ev[i].json.p, "sensitivity"), "%s",
                       r.out.ev[i].json.p);
}

/* F2860: an AHC screening with a question the dictionary cannot place
 * (a code of no table) may hold its safety questions' answers: both
 * events carry `sdv`, every label a question of the AHC not placed can
 * carry, with a warning and a report finding that say why; the same
 * screening placed whole is labelled by its answers alone. */
Test(csv, a_question_not_placed_gives_the_instruments_labels)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,93030-5,LA33-6,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,99999-9,LA6482-9,,,,\r\n"
        "S2,P2,96777-8,2026-01-02,93030-5,LA33-6,,,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 4);
    for (size_t i = 0; i < 2; i++) {
        const char *j = r.out.ev[i].json.p;
        cr_assert(strstr(j, "},\"sensitivity\":[\"sdv\"]"), "%s", j);
        cr_assert(strstr(j, "{\"field\":\"sensitivity\",\"what\":\""
                            DICT_UNPLACED_LABELLED "\"}"), "%s", j);
    }
    for (size_t i = 2; i < 4; i++)
        cr_assert_null(strstr(r.out.ev[i].json.p, "sensitivity"), "%s",
                       r.out.ev[i].json.p);
    const struct csv_finding *f = finding(&r.rep, 2, "sensitivity labels");
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, CSV_SEV_WARNING);
}

Test(csv, sender_negative_on_a_positive_answer_warns_and_stays_positive)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,93030-5,LA33-6,,,NEG,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 2);
    cr_assert_str_eq(r.out.ev[1].type, "screening.positive");
    cr_assert(strstr(r.out.ev[1].json.p, "sender flags no need but the "
                                         "answer shows one"));
    cr_assert(strstr(r.out.ev[1].json.p,
                     "\"positive_domains\":[\"transportation-insecurity\"]"));
}

Test(csv, safety_sum_of_10_is_negative_and_11_positive_with_flags_compared)
{
    /* 1+3+2+4 = 10, flagged NEG: agrees; 2+4+3+2 = 11 flagged POS: agrees */
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "A,P1,96777-8,2026-01-02,95618-5,LA6270-8,,,NEG,\r\n"
        "A,P1,96777-8,2026-01-02,95617-7,LA10082-8,,,NEG,\r\n"
        "A,P1,96777-8,2026-01-02,95616-9,LA10066-1,,,NEG,\r\n"
        "A,P1,96777-8,2026-01-02,95615-1,LA16644-9,,,NEG,\r\n"
        "B,P2,96777-8,2026-01-02,95618-5,LA10066-1,,,POS,\r\n"
        "B,P2,96777-8,2026-01-02,95617-7,LA16644-9,,,POS,\r\n"
        "B,P2,96777-8,2026-01-02,95616-9,LA10082-8,,,POS,\r\n"
        "B,P2,96777-8,2026-01-02,95615-1,LA10066-1,,,POS,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.warnings, 0);
    cr_assert_eq(r.out.n, 3);
    cr_assert(strstr(r.out.ev[0].json.p,
                     "\"code\":\"95614-4\",\"display\":\"Total score [HITS]\","
                     "\"value\":10,\"positive\":false"));
    cr_assert(strstr(r.out.ev[1].json.p, "\"value\":11,\"positive\":true"));
    cr_assert_str_eq(r.out.ev[2].type, "screening.positive");
}

Test(csv, a_flag_on_a_declined_item_warns_that_no_answer_determines_a_need)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,96779-4,,,asked-declined,Y,\r\n"
        "S1,P1,96777-8,2026-01-02,93030-5,,,asked-declined,N,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.warnings, 1);
    cr_assert_not_null(finding(&r.rep, 2, "no answer determines one"));
    cr_assert(strstr(r.out.ev[0].json.p, "\"declined\":true"));
}

Test(csv, an_unknown_answer_code_is_reported_and_never_guessed)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,97023-6,2026-01-02,44250-9,LA6568-6,,,POS,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    const struct csv_finding *f =
        finding(&r.rep, 2, "answer code is not in the question's answer list");
    cr_assert_not_null(f);
    cr_assert_str_eq(f->column, "answer");
    cr_assert_null(strstr(r.out.ev[0].json.p, "\"positive\":"));
}

/* F1943 and F2040, for every adapter (F2120): a question the dictionary
 * knows, answered in words (no answer's display) or by a code its list
 * lacks, counts its domain as screened, not positive, as FHIR does; an
 * "I choose not to answer", an asked-declined row and a question outside
 * the dictionary screen nothing. */
Test(csv, a_known_question_answered_in_words_or_an_unlisted_code_is_screened)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,93030-5,LA33-6,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3,Stable - rents apartment,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,96778-6,LA99999-9,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,88122-7,LA15775-2,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,96779-4,,,asked-declined,,\r\n"
        "S1,P1,96777-8,2026-01-02,12345-6,LA33-6,,,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 2);
    const char *j = r.out.ev[0].json.p;
    cr_assert(strstr(j, "\"domains\":[\"transportation-insecurity\","
                        "\"housing-instability\",\"inadequate-housing\"]"),
              "%s", j);
    cr_assert(strstr(j, "\"positive_domains\":[\"transportation-insecurity\"]"),
              "%s", j);
    cr_assert_not_null(
        finding(&r.rep, 4, "answer code is not in the question's answer list"));
}

/* F2123: `declined` is written by the rule of every adapter
 * (dict_item_refused): an "I choose not to answer" code and a row with no
 * answer and no reason are declined, as C-CDA and FHIR write them; so is
 * asked-declined; another reason (asked-unknown) is unanswered, not a
 * refusal (F23). */
Test(csv, declined_is_written_as_fhir_and_ccda_write_it)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,93030-5,LA33-6,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,88122-7,LA15775-2,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,96779-4,,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,96778-6,,,ASKED-DECLINED,,\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3,,,asked-unknown,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cJSON *ev = cJSON_Parse(r.out.ev[0].json.p);
    cJSON *items = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "screening"),
                                       "items");
    static const bool want[] = { false, true, true, true, false };
    for (int i = 0; i < 5; i++)
        cr_expect_eq(cJSON_IsTrue(cJSON_GetObjectItem(
                         cJSON_GetArrayItem(items, i), "declined")),
                     want[i], "item %d", i);
    cJSON_Delete(ev);
}

/* A data-absent reason as a person types it: a code in another case or
 * with spaces or '_' is that code ("Asked Declined" refuses, "Not Asked"
 * does not); a value that is no code ("Declined", "N/A") was taken as a
 * reason other than a refusal, silently, so its item was not declined. It
 * is not read now, warned at its row and column, and the item is one sent
 * with no reason: declined (F4021). */
Test(csv, a_data_absent_reason_is_read_as_its_code_or_warned)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,93030-5,,,Asked Declined,,\r\n"
        "S1,P1,96777-8,2026-01-02,88122-7,,,asked_declined,,\r\n"
        "S1,P1,96777-8,2026-01-02,96779-4,,,Not Asked,,\r\n"
        "S1,P1,96777-8,2026-01-02,96778-6,,,Declined,,\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3,,,N/A,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cJSON *ev = cJSON_Parse(r.out.ev[0].json.p);
    cJSON *items = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "screening"),
                                       "items");
    static const bool want[] = { true, true, false, true, true };
    for (int i = 0; i < 5; i++)
        cr_expect_eq(cJSON_IsTrue(cJSON_GetObjectItem(
                         cJSON_GetArrayItem(items, i), "declined")),
                     want[i], "item %d: %s", i, r.out.ev[0].json.p);
    cJSON_Delete(ev);
    for (size_t row = 2; row <= 6; row++) {
        const struct csv_finding *f = finding(&r.rep, row,
                                              "data-absent reason is not");
        cr_expect_eq(f != NULL, row >= 5, "row %zu", row);
        if (f)
            cr_expect_str_eq(f->column, "absent_reason");
    }
}

/* A total sent as a spreadsheet formats a number cell (`11.0`, `11.00`)
 * was no number to the scorer: the HITS total alone made nothing
 * positive, no domain screened, no warning, where `11` is positive (and
 * FHIR's and C-CDA's 11.0 too). Scored rounded now, as they score it, and
 * written as sent (F4020). The same in SHIN-NY's description column. */
Test(csv, a_total_written_with_decimals_is_scored)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,95614-4,,11.0,,,\r\n"
        "S2,P2,96777-8,2026-01-02,95614-4,,10.00,,,\r\n"
        "S3,P3,96777-8,2026-01-02,95618-5,LA6270-8,,,,\r\n"
        "S3,P3,96777-8,2026-01-02,95617-7,LA6270-8,,,,\r\n"
        "S3,P3,96777-8,2026-01-02,95616-9,LA6270-8,,,,\r\n"
        "S3,P3,96777-8,2026-01-02,95615-1,LA6270-8,,,,\r\n"
        "S3,P3,96777-8,2026-01-02,95614-4,,12.0,,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    /* S1: completed and positive; S2: completed; S3: completed */
    cr_assert_eq(r.out.n, 4, "%zu events", r.out.n);
    cJSON *ev = cJSON_Parse(r.out.ev[0].json.p);
    cJSON *sc = cJSON_GetObjectItem(ev, "screening");
    cJSON *pd = cJSON_GetObjectItem(sc, "positive_domains");
    cr_expect_eq(cJSON_GetArraySize(pd), 1, "%s", r.out.ev[0].json.p);
    cJSON *it = cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "items"), 0);
    cr_expect_eq(cJSON_GetObjectItem(it, "value")->valuedouble, 11.0);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(it, "positive")), "%s",
              r.out.ev[0].json.p);
    cJSON_Delete(ev);
    cr_expect_str_eq(r.out.ev[1].type, "screening.positive");
    ev = cJSON_Parse(r.out.ev[2].json.p);
    sc = cJSON_GetObjectItem(ev, "screening");
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(sc, "positive_domains")),
                 0);
    cr_expect_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "domains"),
                                        0)->valuestring,
                     "sdoh-category-unspecified", "%s", r.out.ev[2].json.p);
    cJSON_Delete(ev);
    /* the sender's 12.0 against the hub's sum of 4: warned, as 12 is */
    cr_expect_not_null(finding(&r.rep, 8, "sender's total differs"));
}

/* A total the dictionary computes (HITS 95614-4) sent with nothing in it,
 * as the Summer'24 row whose total is in a column not read: no one
 * declined it (F2404). It is left out, as FHIR and C-CDA leave it, and the
 * hub's own total stands; a question sent empty stays declined (F2123),
 * and a warning on a later item still names that item. */
Test(csv, an_empty_computed_item_is_left_out_an_empty_question_declined)
{
    struct csvrun r;
    r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,95618-5,LA6270-8,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,95617-7,LA6270-8,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,95614-4,,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,95616-9,LA6270-8,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,95615-1,LA6270-8,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,93030-5,,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,71802-3,LA9999-9,,,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cJSON *ev = cJSON_Parse(r.out.ev[0].json.p);
    cJSON *sc = cJSON_GetObjectItem(ev, "screening");
    cJSON *items = cJSON_GetObjectItem(sc, "items");
    cr_assert_eq(cJSON_GetArraySize(items), 6, "%s", r.out.ev[0].json.p);
    static const char *const want[] = { "95618-5", "95617-7", "95616-9",
                                        "95615-1", "93030-5", "71802-3" };
    for (int i = 0; i < 6; i++) {
        cJSON *it = cJSON_GetArrayItem(items, i);
        cr_expect_str_eq(cJSON_GetObjectItem(it, "question")->valuestring,
                         want[i]);
        cr_expect_eq(cJSON_IsTrue(cJSON_GetObjectItem(it, "declined")),
                     i == 4, "item %d", i);
    }
    cJSON *s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "scores"), 0);
    cr_assert_not_null(s0);
    cr_expect_str_eq(cJSON_GetObjectItem(s0, "code")->valuestring, "95614-4");
    cr_expect_eq(cJSON_GetObjectItem(s0, "value")->valueint, 4);
    cr_expect_null(cJSON_GetObjectItem(s0, "from_sender"));
    /* the unknown answer's warning names the item as written: the sixth */
    char *w = cJSON_PrintUnformatted(cJSON_GetObjectItem(ev, "warnings"));
    cr_expect(strstr(w, "screening.items[5].answer"), "%s", w);
    free(w);
    cJSON_Delete(ev);

    /* the Summer'24 row: no total, but the sender's No. Kept for what the
     * sender said, and no refusal either */
    r = RUN("screenings",
        SCR_HEADER
        "S2,P1,96777-8,2026-01-02,95618-5,LA6270-8,,,,\r\n"
        "S2,P1,96777-8,2026-01-02,95614-4,,,,No,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    ev = cJSON_Parse(r.out.ev[0].json.p);
    items = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "screening"), "items");
    cJSON *total = cJSON_GetArrayItem(items, 1);
    cr_assert_not_null(total, "%s", r.out.ev[0].json.p);
    cr_expect_str_eq(cJSON_GetObjectItem(total, "question")->valuestring,
                     "95614-4");
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(total, "sender_positive")));
    cr_expect_null(cJSON_GetObjectItem(total, "declined"));
    cJSON_Delete(ev);
}

/* ---- SHIN-NY sets ----------------------------------------------------------- */

Test(csv, shinny_set_key_does_not_depend_on_file_order)
{
    struct csv_file a[8], b[8];
    size_t n = set_files("shinny-1115-lakeside-set1", a, 8);
    for (size_t i = 0; i < n; i++)
        b[i] = a[n - 1 - i];
    struct canon_list oa = { 0 }, ob = { 0 };
    struct csv_report ra, rb;
    struct hub_err e;
    cr_assert_eq(csv_to_events(&A, D, "shinny", a, n, &oa, &ra, &e), HUB_OK);
    cr_assert_eq(csv_to_events(&A, D, "shinny", b, n, &ob, &rb, &e), HUB_OK);
    cr_assert_str_eq(ra.message_id, rb.message_id);
    cr_assert_eq(strncmp(ra.message_id, "LakesideSCN_set1_20260115093000.csv:",
                         36), 0);
    cr_assert_eq(oa.n, ob.n);
}

Test(csv, shinny_obs_file_alone_is_used_and_missing_files_are_reported)
{
    struct csv_file f =
        data_file("shinny-1115-lakeside-set1/"
                  "SDOH_ScreeningObs_LakesideSCN_set1_20260115093000.csv");
    struct canon_list out = { 0 };
    struct csv_report rep;
    struct hub_err e;
    cr_assert_eq(csv_to_events(&A, D, "shinny", &f, 1, &out, &rep, &e),
                 HUB_OK);
    cr_assert_eq(out.n, 6);
    cr_assert_eq(rep.rows_rejected, 0);
    size_t missing = 0;
    for (size_t i = 0; i < rep.n; i++)
        if (strstr(rep.f[i].what, "was not sent"))
            missing++;
    cr_assert_eq(missing, 3);
    cr_assert(strstr(rep.message_id, ":-+-+") != NULL, "%s", rep.message_id);
}

Test(csv, shinny_set_without_observations_is_refused)
{
    struct csv_file f =
        data_file("shinny-1115-lakeside-set1/"
                  "SDOH_PtInfo_LakesideSCN_set1_20260115093000.csv");
    struct canon_list out = { 0 };
    struct csv_report rep;
    struct hub_err e;
    cr_assert_eq(csv_to_events(&A, D, "shinny", &f, 1, &out, &rep, &e),
                 HUB_EINVALID);
    cr_assert_str_eq(e.what, "set has no ScreeningObs file");
}

Test(csv, shinny_older_generation_file_names_are_unsupported)
{
    struct csv_file f = { "SCREENING_OBSERVATION_DATA_x-20241128-t1.csv",
                          NULL, "A\n1\n", 4 };
    struct canon_list out = { 0 };
    struct csv_report rep;
    struct hub_err e;
    cr_assert_eq(csv_to_events(&A, D, "shinny", &f, 1, &out, &rep, &e),
                 HUB_EUNSUPPORTED);
}

Test(csv, shinny_observation_for_an_unknown_encounter_is_rejected)
{
    static const char prof[] =
        "PATIENT_MR_ID_VALUE,ENCOUNTER_ID,SCREENING_STATUS_CODE\r\n"
        "M1,E1,final\r\n";
    static const char obs[] =
        "PATIENT_MR_ID_VALUE,ENCOUNTER_ID,SCREENING_CODE,QUESTION_CODE,"
        "ANSWER_CODE,SCREENING_START_DATETIME\r\n"
        "M1,E1,96777-8,93030-5,LA33-6,2026-01-02T10:00:00Z\r\n"
        "M1,E2,96777-8,93030-5,LA33-6,2026-01-02T10:00:00Z\r\n"
        "M2,E1,96777-8,93030-5,LA33-6,2026-01-02T10:00:00Z\r\n";
    struct csv_file f[2] = {
        { "SDOH_ScreeningProf_X_1.csv", NULL, prof, sizeof(prof) - 1 },
        { "SDOH_ScreeningObs_X_1.csv", NULL, obs, sizeof(obs) - 1 },
    };
    struct canon_list out = { 0 };
    struct csv_report rep;
    struct hub_err e;
    cr_assert_eq(csv_to_events(&A, D, "shinny", f, 2, &out, &rep, &e),
                 HUB_OK);
    cr_assert_eq(out.n, 2);
    cr_assert_not_null(finding(&rep, 3, "ENCOUNTER_ID is not in the "
                                        "ScreeningProf file"));
    cr_assert_not_null(finding(&rep, 4, "ENCOUNTER_ID is not in the "
                                        "ScreeningProf file"));
}

Test(csv, report_json_carries_places_and_reasons_never_values)
{
    struct csv_file files[8];
    size_t n = set_files("shinny-1115-riverbend-set2", files, 8);
    struct canon_list out = { 0 };
    struct csv_report rep;
    struct hub_err e;
    struct slice j;
    cr_assert_eq(csv_to_events(&A, D, "shinny", files, n, &out, &rep, &e),
                 HUB_OK);
    cr_assert_eq(csv_report_json(&A, &rep, &j), HUB_OK);
    static const char *const values[] = { "RB-0042", "RB-0043", "16-25-1987",
                                          "Z1234", "O'Example", "Orchard",
                                          "4.46151E+14", NULL };
    for (size_t i = 0; values[i]; i++)
        cr_assert_null(strstr(j.p, values[i]), "report leaks %s", values[i]);
    cr_assert(strstr(j.p, "\"column\":\"PATIENT_BIRTH_DATE\""));
}

/* ---- multipart ---------------------------------------------------------- */

Test(csv, multipart_body_splits_into_named_files_without_paths)
{
    static const char body[] =
        "preamble\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"a\"; "
        "filename=\"C:\\\\up\\\\SDOH_PtInfo_X_1.csv\"\r\n"
        "Content-Type: text/csv\r\n"
        "\r\n"
        "h1,h2\r\n1,2\r\n"
        "\r\n--XyZ\r\n"
        "content-disposition: form-data; name=\"b\"; filename=SDOH_ScreeningObs_X_1.csv\r\n"
        "\r\n"
        "x\r\n--notit\r\n"
        "\r\n--XyZ--\r\nepilogue";
    struct csv_file f[4];
    size_t n = 0;
    struct hub_err e = { 0 };
    int rc = csv_multipart_files(&A, "multipart/form-data; boundary=\"XyZ\"",
                                 body, sizeof(body) - 1, f, 4, &n, &e);
    cr_assert_eq(rc, HUB_OK, "%s", e.what);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(f[0].name, "SDOH_PtInfo_X_1.csv");
    cr_assert_eq(f[0].len, 12);
    cr_assert_eq(memcmp(f[0].p, "h1,h2\r\n1,2\r\n", 12), 0);
    cr_assert_str_eq(f[1].name, "SDOH_ScreeningObs_X_1.csv");
    cr_assert_eq(f[1].len, 12);
    cr_assert_eq(memcmp(f[1].p, "x\r\n--notit\r\n", 12), 0);
}

Test(csv, multipart_refuses_bad_framing_and_too_many_parts)
{
    struct csv_file f[1];
    size_t n;
    struct hub_err e;
    static const char open_part[] =
        "--B\r\nContent-Disposition: form-data; name=f\r\n\r\nno end";
    cr_assert_eq(csv_multipart_files(&A, "multipart/form-data; boundary=B",
                                     open_part, sizeof(open_part) - 1, f, 1,
                                     &n, &e),
                 HUB_ESYNTAX);
    static const char two[] =
        "--B\r\nContent-Disposition: form-data; name=f\r\n\r\n1\r\n"
        "--B\r\nContent-Disposition: form-data; name=g\r\n\r\n2\r\n--B--";
    cr_assert_eq(csv_multipart_files(&A, "multipart/form-data; boundary=B",
                                     two, sizeof(two) - 1, f, 1, &n, &e),
                 HUB_ELIMIT);
    cr_assert_eq(csv_multipart_files(&A, "text/csv", two, sizeof(two) - 1, f,
                                     1, &n, &e),
                 HUB_EUNSUPPORTED);
    cr_assert_eq(csv_multipart_files(&A, "multipart/form-data", two,
                                     sizeof(two) - 1, f, 1, &n, &e),
                 HUB_EINVALID);
}

Test(csv, multipart_set_through_csv_to_events_matches_the_golden)
{
    struct csv_file files[8];
    size_t n = set_files("shinny-1115-lakeside-set1", files, 8);
    struct buf b;
    buf_init(&b, &A, 1u << 20);
    for (size_t i = 0; i < n; i++) {
        buf_printf(&b, "--b0undary\r\nContent-Disposition: form-data; "
                        "name=\"f%zu\"; filename=\"%s\"\r\n"
                        "Content-Type: text/csv\r\n\r\n", i, files[i].name);
        buf_append(&b, files[i].p, files[i].len);
        buf_puts(&b, "\r\n");
    }
    buf_puts(&b, "--b0undary--\r\n");
    struct csv_file parts[CSV_MAX_FILES];
    size_t np = 0;
    struct hub_err e = { 0 };
    cr_assert_eq(csv_multipart_files(&A, "multipart/form-data; boundary=b0undary",
                                     b.p, b.len, parts, CSV_MAX_FILES, &np,
                                     &e),
                 HUB_OK, "%s", e.what);
    cr_assert_eq(np, n);
    for (size_t i = 0; i < np; i++)
        parts[i].sha256 = sha256_hex(parts[i].p, parts[i].len);
    check_golden("shinny", parts, np, "shinny-1115-lakeside-set1");
}

/* SHIN-NY columns required in each row but not of the header (the start
 * time without a ScreeningProf, the birth date, the names): a file
 * without the column had every row rejected as "required value is empty",
 * sending the sender to cells that are not there. Now "required column is
 * missing" when the header lacks it, "empty" when the cell is (F4025). */
Test(csv, a_shinny_row_value_whose_column_is_missing_says_so)
{
    static const char without[] =
        "PATIENT_MR_ID_VALUE,ENCOUNTER_ID,SCREENING_CODE,QUESTION_CODE,"
        "ANSWER_CODE,POTENTIAL_NEED_INDICATED\r\n"
        "P1,E1,96777-8,71802-3,LA31994-9,POS\r\n";
    static const char empty[] =
        "PATIENT_MR_ID_VALUE,ENCOUNTER_ID,SCREENING_CODE,QUESTION_CODE,"
        "ANSWER_CODE,POTENTIAL_NEED_INDICATED,SCREENING_START_DATETIME\r\n"
        "P1,E1,96777-8,71802-3,LA31994-9,POS,\r\n";
    struct csvrun r = csvrun(&A, D, "shinny", "SDOH_ScreeningObs_X_1.csv",
                             without, sizeof(without) - 1);
    const struct csv_finding *f = finding(&r.rep, 2, "required column is "
                                                     "missing");
    cr_assert_not_null(f, "rc %d", r.rc);
    cr_expect_str_eq(f->column, "SCREENING_START_DATETIME");
    cr_expect_null(finding(&r.rep, 2, "required value is empty"));
    r = csvrun(&A, D, "shinny", "SDOH_ScreeningObs_X_1.csv", empty,
               sizeof(empty) - 1);
    f = finding(&r.rep, 2, "required value is empty");
    cr_assert_not_null(f, "rc %d", r.rc);
    cr_expect_str_eq(f->column, "SCREENING_START_DATETIME");
    cr_expect_eq(f->col, 7);
}

Test(csv, a_single_choice_question_answered_twice_is_reported)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,93030-5,LA32-8,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,93030-5,LA33-6,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,96778-6,LA9-3,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,96778-6,LA28580-1,,,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.warnings, 1);   /* 96778-6 is multi-select */
    cr_assert_not_null(finding(&r.rep, 3, "answered more than once"));
}

/* ---- value shapes and the remaining keys ------------------------------- */

#include "csv/csv_int.h"

Test(csv, date_and_datetime_shapes_follow_iso_8601_and_the_calendar)
{
    static const char *const good[] = {
        "2026", "2026-01", "2024-02-29", "2026-01-14T14:05",
        "2026-01-14T14:05:00", "2026-01-14T14:05:00Z",
        "2026-01-14T14:05:00.123-05:00", "2026-02-02T17:05:00.00Z", NULL,
    };
    static const char *const bad[] = {
        "", "26", "2026-1", "2026-13", "2023-02-29", "2026-04-31",
        "16-25-1987", "10/4/2013", "2026-01-14 14:05", "2026-01-14T24:00",
        "2026-01-14T14:05:00+5", "2026-01-14T14:05:00Zjunk",
        "2026-01-14T14:05:00.", NULL,
    };
    for (size_t i = 0; good[i]; i++)
        cr_assert(csv_is_datetime(slice_from_cstr(good[i])), "%s", good[i]);
    for (size_t i = 0; bad[i]; i++)
        cr_assert(!csv_is_datetime(slice_from_cstr(bad[i])), "%s", bad[i]);
    cr_assert(csv_is_date(slice_from_cstr("1990-11")));
    cr_assert(!csv_is_date(slice_from_cstr("2026-01-14T10:00:00Z")));
}

/* A screening's rows repeat its date-time, and a value equal to the last
 * one found good is not checked again: one of the same length that
 * differs is, however the rows alternate. */
Test(csv, every_screened_at_is_checked_however_the_rows_repeat_it)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,71802-3,LA31993-1,,,,\r\n"
        "S1,P1,96777-8,2026-13-02,88122-7,LA28397-0,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,88123-5,LA28397-0,,,,\r\n"
        "S1,P1,96777-8,2026-01-32,96778-6,LA31996-4,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,96779-4,LA33-6,,,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 3);
    cr_assert_eq(r.rep.rows_rejected, 2);
    cr_assert_not_null(finding(&r.rep, 3, "not ISO 8601"));
    cr_assert_not_null(finding(&r.rep, 5, "not ISO 8601"));
    cr_assert_null(finding(&r.rep, 4, "not ISO 8601"));
}

/* Rows of a screening need not come together: each joins its own
 * screening whatever rows came between, and its events are the same as
 * when they do. */
Test(csv, interleaved_screenings_group_their_own_rows)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,71802-3,LA31993-1,,,,\r\n"
        "S2,P2,96777-8,2026-01-02,71802-3,LA31994-9,,,,\r\n"
        "S2,P2,96777-8,2026-01-02,88122-7,LA28397-0,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,88122-7,LA28398-8,,,,\r\n"
        "S3,P1,96777-8,2026-01-02,88122-7,LA28398-8,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,88123-5,LA28397-0,,,,\r\n");
    struct csvrun g = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,71802-3,LA31993-1,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,88122-7,LA28398-8,,,,\r\n"
        "S1,P1,96777-8,2026-01-02,88123-5,LA28397-0,,,,\r\n"
        "S2,P2,96777-8,2026-01-02,71802-3,LA31994-9,,,,\r\n"
        "S2,P2,96777-8,2026-01-02,88122-7,LA28397-0,,,,\r\n"
        "S3,P1,96777-8,2026-01-02,88122-7,LA28398-8,,,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(g.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 6);
    cr_assert_eq(r.out.n, g.out.n);
    for (size_t i = 0; i < r.out.n; i++) {
        /* the same but for the row a screening's message id names */
        const char *a = strstr(r.out.ev[i].json.p, "\"occurred_at\"");
        const char *b = strstr(g.out.ev[i].json.p, "\"occurred_at\"");
        cr_assert(a && b);
        cr_assert_str_eq(a, b);
    }
    const char *s1 = r.out.ev[0].json.p;
    cr_assert(strstr(s1, "\"id\":\"S1\""), "%s", s1);
    cr_assert(strstr(s1, "88123-5"), "%s", s1);
    cr_assert_null(strstr(s1, "LA31994-9"), "%s", s1);
}

/* Administrative sex as exports write it, in any case; nothing else. */
Test(csv, sex_words_and_letters_map_to_their_codes_in_any_case)
{
    static const struct { const char *in, *code; } cases[] = {
        { "male", "M" }, { "M", "M" }, { "MaLe", "M" }, { "female", "F" },
        { "F", "F" }, { "FEMALE", "F" }, { "other", "O" }, { "o", "O" },
        { "unknown", "U" }, { "U", "U" }, { "Unk", "U" }, { "", NULL },
        { "ma", NULL }, { "males", NULL }, { "fem", NULL }, { "x", NULL },
        { "un", NULL }, { "0", NULL }, { "-", NULL }, { "\xcd", NULL },
        { "mALE ", NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = csv_sex_code(slice_from_cstr(cases[i].in));
        if (cases[i].code == NULL)
            cr_assert_null(got, "%s", cases[i].in);
        else
            cr_assert(got && strcmp(got, cases[i].code) == 0, "%s -> %s",
                      cases[i].in, got ? got : "NULL");
    }
}

Test(csv, numbers_are_written_only_when_json_can_hold_them)
{
    cr_assert(csv_is_number(slice_from_cstr("10")));
    cr_assert(csv_is_number(slice_from_cstr("-3.25")));
    cr_assert(csv_is_number(slice_from_cstr("0")));
    cr_assert(!csv_is_number(slice_from_cstr("007")));
    cr_assert(!csv_is_number(slice_from_cstr("1e5")));
    cr_assert(!csv_is_number(slice_from_cstr("4.46151E+14")));
    cr_assert(!csv_is_number(slice_from_cstr("12.")));
    cr_assert(!csv_is_number(slice_from_cstr("1234567890123456")));
}

Test(csv, more_events_than_the_limit_refuse_the_upload_whole)
{
    struct buf b;
    buf_init(&b, &A, 4u << 20);
    buf_puts(&b, "referral_id,status,updated_at,patient_id\n");
    for (unsigned i = 0; i <= CANON_MAX_EVENTS; i++)
        buf_printf(&b, "R%u,accepted,2026-03-03T09:00:00Z,P%u\n", i, i);
    struct csvrun r = csvrun(&A, D, "referral-status", "t.csv", b.p, b.len);
    cr_assert_eq(r.rc, HUB_ELIMIT);
    cr_assert_eq(r.out.n, 0);
    /* the row that passed it (R10000, row 10002), to split the file at */
    cr_assert_str_eq(r.err.field, "0:row 10002");
    cr_assert_eq(r.err.offset, (size_t)(strstr(b.p, "\nR10000,") - b.p) + 1);
    cr_assert(strstr(r.err.what, "10,000") != NULL);
}

static struct csvrun shinny2(const char *other_name, const char *other,
                          const char *obs)
{
    struct csvrun r;
    memset(&r, 0, sizeof(r));
    struct csv_file *f = arena_zalloc(&A, 2 * sizeof(*f));
    f[0] = (struct csv_file){ other_name, NULL, other, strlen(other) };
    f[1] = (struct csv_file){ "SDOH_ScreeningObs_X_1.csv", NULL, obs,
                              strlen(obs) };
    r.rc = csv_to_events(&A, D, "shinny", f, 2, &r.out, &r.rep, &r.err);
    return r;
}

#define OBS_HEADER                                                           \
    "PATIENT_MR_ID_VALUE,FACILITY_ID,ENCOUNTER_ID,SCREENING_CODE,"            \
    "QUESTION_CODE,ANSWER_CODE,SCREENING_START_DATETIME\r\n"

Test(csv, shinny_observation_of_a_patient_missing_from_qeadmin_is_rejected)
{
    struct csvrun r = shinny2(
        "SDOH_QEadmin_X_1.csv",
        "PATIENT_MR_ID_VALUE,FACILITY_ID\r\nM1,F1\r\nM1,F1\r\n",
        OBS_HEADER
        "M1,F1,E1,96777-8,93030-5,LA32-8,2026-01-02T10:00:00Z\r\n"
        "M9,F1,E1,96777-8,93030-5,LA32-8,2026-01-02T10:00:00Z\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 1);
    cr_assert_not_null(finding(&r.rep, 3, "PATIENT_MR_ID_VALUE is not unique"));
    cr_assert_not_null(finding(&r.rep, 3, "not in the QEadmin file"));
}

Test(csv, shinny_entered_in_error_screening_makes_no_event)
{
    struct csvrun r = shinny2(
        "SDOH_ScreeningProf_X_1.csv",
        "PATIENT_MR_ID_VALUE,ENCOUNTER_ID,SCREENING_STATUS_CODE\r\n"
        "M1,E1,entered-in-error\r\nM1,E2,corrected\r\n",
        OBS_HEADER
        "M1,F1,E1,96777-8,93030-5,LA33-6,2026-01-02T10:00:00Z\r\n"
        "M1,F1,E2,96777-8,93030-5,LA33-6,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_rejected, 2);
    cr_assert_not_null(finding(&r.rep, 2, "entered-in-error"));
    /* E2 has no start of its own and none in ScreeningProf */
    cr_assert_not_null(finding(&r.rep, 3, "no screening or encounter start"));
    cr_assert_eq(r.out.n, 0);
}

/* F2122: a row with no ANSWER_CODE and words in ANSWER_CODE_DESCRIPTION
 * is answered in words, as FHIR's valueString and C-CDA's ST: the item's
 * text, not declined, not scored, its domain screened (F2120), with a
 * warning that the answer has no code (its words not in the warning). A
 * number there is still a calculated item's value. */
Test(csv, shinny_an_answer_in_words_with_no_code_is_text_and_warned)
{
    struct csvrun r = shinny2(
        "SDOH_ScreeningProf_X_1.csv",
        "PATIENT_MR_ID_VALUE,ENCOUNTER_ID,SCREENING_STATUS_CODE\r\n"
        "M1,E1,final\r\n",
        "PATIENT_MR_ID_VALUE,FACILITY_ID,ENCOUNTER_ID,SCREENING_CODE,"
        "QUESTION_CODE,ANSWER_CODE,ANSWER_CODE_DESCRIPTION,"
        "SCREENING_START_DATETIME\r\n"
        "M1,F1,E1,96777-8,93030-5,LA33-6,Yes,2026-01-02T10:00:00Z\r\n"
        "M1,F1,E1,96777-8,71802-3,,Stable - rents apartment,"
        "2026-01-02T10:00:00Z\r\n"
        "M1,F1,E1,96777-8,95614-4,,4,2026-01-02T10:00:00Z\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 2);
    cJSON *ev = cJSON_Parse(r.out.ev[0].json.p);
    cJSON *sc = cJSON_GetObjectItem(ev, "screening");
    cJSON *it = cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "items"), 1);
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(it, "text"));
    cr_expect(text && strcmp(text, "Stable - rents apartment") == 0,
              "the words are the item's text");
    cr_expect_null(cJSON_GetObjectItem(it, "declined"));
    cr_expect_null(cJSON_GetObjectItem(it, "positive"));
    cr_expect_null(cJSON_GetObjectItem(it, "value"));
    cJSON *total = cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "items"), 2);
    cr_expect_eq(cJSON_GetObjectItem(total, "value")->valueint, 4);
    cr_expect_null(cJSON_GetObjectItem(total, "text"));
    char *d = cJSON_PrintUnformatted(cJSON_GetObjectItem(sc, "domains"));
    cr_expect_str_eq(d, "[\"transportation-insecurity\","
                        "\"sdoh-category-unspecified\","
                        "\"housing-instability\"]");
    free(d);
    char *w = cJSON_PrintUnformatted(cJSON_GetObjectItem(ev, "warnings"));
    cr_assert_not_null(w, "the answer in words is warned");
    cr_expect(strstr(w, "{\"field\":\"screening.items[1].text\",\"what\":"
                        "\"answer has no code: kept as its words, not "
                        "scored\"}") != NULL, "%s", w);
    cr_expect_null(strstr(w, "Stable"), "no value in a warning");
    free(w);
    const struct csv_finding *f =
        finding(&r.rep, 3, "answer has no code: kept as its words, not scored");
    cr_assert_not_null(f);
    cr_expect_str_eq(f->column, "ANSWER_CODE_DESCRIPTION");
    cJSON_Delete(ev);
}

/* F2263: words in ANSWER_CODE_DESCRIPTION with no code that are, trimmed
 * and whatever their case, one answer's display are read as that answer's
 * code, as FHIR reads a valueString: scored, the words kept as the item's
 * text, the row and the event warned without the words. */
Test(csv, shinny_words_that_are_one_answers_display_are_read_as_its_code)
{
    struct csvrun r = shinny2(
        "SDOH_ScreeningProf_X_1.csv",
        "PATIENT_MR_ID_VALUE,ENCOUNTER_ID,SCREENING_STATUS_CODE\r\n"
        "M1,E1,final\r\n",
        "PATIENT_MR_ID_VALUE,FACILITY_ID,ENCOUNTER_ID,SCREENING_CODE,"
        "QUESTION_CODE,ANSWER_CODE,ANSWER_CODE_DESCRIPTION,"
        "SCREENING_START_DATETIME\r\n"
        "M1,F1,E1,96777-8,93030-5,LA32-8,No,2026-01-02T10:00:00Z\r\n"
        "M1,F1,E1,96777-8,88122-7,,\" often TRUE \","
        "2026-01-02T10:00:00Z\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 2, "completed and positive");
    cJSON *ev = cJSON_Parse(r.out.ev[0].json.p);
    cJSON *sc = cJSON_GetObjectItem(ev, "screening");
    cJSON *it = cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "items"), 1);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(it, "answer")),
                     "LA28397-0");
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(it, "text"));
    cr_expect(text && strstr(text, "often TRUE"), "the words stay");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(it, "positive")));
    char *p = cJSON_PrintUnformatted(cJSON_GetObjectItem(sc,
                                                         "positive_domains"));
    cr_expect_str_eq(p, "[\"food-insecurity\"]");
    free(p);
    char *w = cJSON_PrintUnformatted(cJSON_GetObjectItem(ev, "warnings"));
    cr_assert_not_null(w, "the answer read from its words is warned");
    cr_expect(strstr(w, "{\"field\":\"screening.items[1].answer\",\"what\":"
                        "\"answer given as its text read as the LOINC code "
                        "of the question's answer with that display\"}") !=
                  NULL, "%s", w);
    cr_expect_null(strstr(w, "often"), "no value in a warning");
    cr_expect_null(strstr(w, "kept as its words"), "%s", w);
    free(w);
    const struct csv_finding *f =
        finding(&r.rep, 3, "answer given as its text read as the LOINC code "
                           "of the question's answer with that display");
    cr_assert_not_null(f);
    cr_expect_str_eq(f->column, "ANSWER_CODE_DESCRIPTION");
    cJSON_Delete(ev);
}

/* SCREENING_LANGUAGE_CODE is the screening's language (F65), as FHIR's
 * observation-language extension (F60): a BCP-47 tag as sent, trimmed;
 * an empty cell gives none; a value that is no tag is left out with a
 * warning on its row. */
Test(csv, shinny_screening_language_comes_from_screeningprof)
{
    struct csvrun r = shinny2(
        "SDOH_ScreeningProf_X_1.csv",
        "PATIENT_MR_ID_VALUE,ENCOUNTER_ID,SCREENING_LANGUAGE_CODE\r\n"
        "M1,E1, es \r\nM1,E2,\r\nM1,E3,en_US\r\nM1,E4,kmv\r\n",
        OBS_HEADER
        "M1,F1,E1,96777-8,93030-5,LA33-6,2026-01-02T10:00:00Z\r\n"
        "M1,F1,E2,96777-8,93030-5,LA33-6,2026-01-02T10:00:00Z\r\n"
        "M1,F1,E3,96777-8,93030-5,LA33-6,2026-01-02T10:00:00Z\r\n"
        "M1,F1,E4,96777-8,93030-5,LA33-6,2026-01-02T10:00:00Z\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    /* each screening's language, by its encounter */
    const char *want[] = { "\"language\":\"es\"", NULL, NULL,
                           "\"language\":\"kmv\"" };
    size_t seen = 0;
    for (size_t i = 0; i < r.out.n; i++) {
        const char *j = r.out.ev[i].json.p;
        for (int e = 0; e < 4; e++) {
            char enc[32];
            snprintf(enc, sizeof(enc), "\"encounter\":\"E%d\"", e + 1);
            if (!strstr(j, enc))
                continue;
            seen |= 1u << e;
            if (want[e])
                cr_assert_not_null(strstr(j, want[e]), "E%d", e + 1);
            else
                cr_assert_null(strstr(j, "\"language\""), "E%d", e + 1);
        }
    }
    cr_assert_eq(seen, 15);
    cr_assert_not_null(finding(&r.rep, 4, "not a BCP-47 tag"));
}

Test(csv, shinny_patient_demographics_come_from_ptinfo_with_mapped_sex)
{
    struct csvrun r = shinny2(
        "SDOH_PtInfo_X_1.csv",
        "PATIENT_MR_ID_VALUE,PATIENT_MEDICAID_ID,FAMILY_NAME,GIVEN_NAME,"
        "ADMINISTRATIVE_SEX_CODE,PATIENT_BIRTH_DATE,COUNTY,TELCOM_USE,"
        "TELECOM_VALUE\r\n"
        "M1,AB12345C,Roe,Kim,Female,1990-11,Columbia County,home,5185550000"
        "\r\n",
        OBS_HEADER
        "M1,F1,E1,96777-8,93030-5,LA32-8,2026-01-02T10:00:00Z\r\n"
        "M2,F1,E1,96777-8,93030-5,LA32-8,2026-01-02T10:00:00Z\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 2);
    const char *j = r.out.ev[0].json.p;
    /* the MRN's system as SHIN-NY's FHIR conversion of the same files
     * writes it (F505) */
    cr_assert(strstr(j, "{\"value\":\"M1\",\"system\":"
                        "\"http://www.scn.gov/facility/F1\",\"type\":\"MR\"},"
                        "{\"value\":\"AB12345C\",\"system\":"
                        "\"http://www.medicaid.gov/\",\"type\":\"MA\"}"),
              "%s", j);
    cr_assert(strstr(j, "\"birth_date\":\"1990-11\",\"sex\":\"F\""), "%s", j);
    cr_assert(strstr(j, "\"county\":\"Columbia County\""), "%s", j);
    cr_assert(strstr(j, "{\"value\":\"5185550000\",\"use\":\"home\"}"), "%s",
              j);
    cr_assert(strstr(r.out.ev[1].json.p, "patient is not in the PtInfo file"));
}

/* A phone number Excel turned into a number shows as 5.55556E+09: its
 * last digits are gone, and the event carried "5.55556E+09" as the
 * person's phone, to every partner (F147). It is left out with a warning
 * on its row, which is still used (the phone is no key, unlike an id);
 * in the hub's layout and in SHIN-NY's PtInfo alike. */
Test(csv, a_phone_a_spreadsheet_rounded_is_left_out_with_a_warning)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,phone,instrument,screened_at,question,"
        "answer\r\n"
        "S1,P1,5.55556E+09,96777-8,2026-01-02,71802-3,LA31993-1\r\n"
        "S2,P2,5555550100,96777-8,2026-01-02,71802-3,LA31993-1\r\n"
        "S3,P3,555-0100 x12,96777-8,2026-01-02,71802-3,LA31993-1\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.rows_used, 3);
    const struct csv_finding *f = finding(&r.rep, 2, "scientific notation");
    cr_assert_not_null(f);
    cr_assert_eq(f->severity, CSV_SEV_WARNING);
    cr_assert_str_eq(f->column, "phone");
    cr_assert_null(finding(&r.rep, 3, "scientific notation"));
    cr_assert_null(finding(&r.rep, 4, "scientific notation"));
    cr_assert_null(strstr(r.out.ev[0].json.p, "\"phones\""), "%s",
                   r.out.ev[0].json.p);
    cr_assert(strstr(r.out.ev[1].json.p, "{\"value\":\"5555550100\"}"));
    cr_assert(strstr(r.out.ev[2].json.p, "{\"value\":\"555-0100 x12\"}"));

    struct csvrun s = shinny2(
        "SDOH_PtInfo_X_1.csv",
        "PATIENT_MR_ID_VALUE,FAMILY_NAME,GIVEN_NAME,PATIENT_BIRTH_DATE,"
        "TELCOM_USE,TELECOM_VALUE\r\n"
        "M1,Testperson,Kim,1990-11-02,home,5.55556E+09\r\n",
        OBS_HEADER
        "M1,F1,E1,96777-8,93030-5,LA32-8,2026-01-02T10:00:00Z\r\n");
    cr_assert_eq(s.rc, HUB_OK);
    cr_assert_eq(s.out.n, 1);
    f = finding(&s.rep, 2, "scientific notation");
    cr_assert_not_null(f);
    cr_assert_str_eq(f->column, "TELECOM_VALUE");
    cr_assert_null(strstr(s.out.ev[0].json.p, "\"phones\""), "%s",
                   s.out.ev[0].json.p);
    cr_assert(strstr(s.out.ev[0].json.p, "\"family\":\"Testperson\""));
}

Test(csv, multi_select_rows_are_compared_with_their_own_choice)
{
    /* "none of the above" flagged NEG beside a positive choice agrees;
     * flagged POS it does not */
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,96778-6,LA9-3,,,NEG,\r\n"
        "S1,P1,96777-8,2026-01-02,96778-6,LA28580-1,,,POS,\r\n"
        "S2,P2,96777-8,2026-01-02,96778-6,LA9-3,,,POS,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.warnings, 1);
    cr_assert_not_null(finding(&r.rep, 4, "sender flags a need that the "
                                          "answers do not show"));
}

Test(csv, referral_status_words_as_exports_write_them_map_to_task_codes)
{
    struct csvrun r = RUN("referral-status",
        "referral_id,status,updated_at,patient_id\n"
        "R1,In Progress,2026-03-03T09:00:00Z,P1\n"
        "R1,canceled,2026-03-04T09:00:00Z,P1\n"
        "R1,ON_HOLD,2026-03-05T09:00:00Z,P1\n"
        "R1,finished,2026-03-06T09:00:00Z,P1\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 3);
    cr_assert(strstr(r.out.ev[0].json.p, "\"status\":\"in-progress\""));
    cr_assert(strstr(r.out.ev[1].json.p,
                     "\"status\":\"cancelled\",\"terminal\":true"));
    cr_assert(strstr(r.out.ev[2].json.p, "\"status\":\"on-hold\""));
    cr_assert_not_null(finding(&r.rep, 5, "not a FHIR Task status"));
}

/* Referral tools write their own words: "Declined" is FHIR rejected (the
 * performer decided not to do it), "Pending" requested (action is sought;
 * Gravity's referral statuses leave received out), by task-status.json's
 * aliases; the word is kept as business_status. A word that could be two
 * statuses ("Closed") is refused, and the finding does not quote it. */
Test(csv, referral_tool_words_map_by_the_dictionary_aliases)
{
    struct csvrun r = RUN("referral-status",
        "referral_id,status,updated_at,patient_id\n"
        "R1,Declined,2026-03-03T09:00:00Z,P1\n"
        "R2,PENDING,2026-03-04T09:00:00Z,P2\n"
        "R3,Accepted,2026-03-05T09:00:00Z,P3\n"
        "R4,Completed,2026-03-06T09:00:00Z,P4\n"
        "R5,Closed,2026-03-07T09:00:00Z,P5\n"
        "R6,received,2026-03-08T09:00:00Z,P6\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 5, "%zu", r.out.n);
    cr_assert(strstr(r.out.ev[0].json.p,
                     "\"status\":\"rejected\",\"terminal\":true,"
                     "\"business_status\":\"Declined\""),
              "%s", r.out.ev[0].json.p);
    cr_assert(strstr(r.out.ev[1].json.p,
                     "\"status\":\"requested\",\"terminal\":false,"
                     "\"business_status\":\"PENDING\""),
              "%s", r.out.ev[1].json.p);
    /* a FHIR code, however it is cased, is no alias: nothing more */
    cr_assert(strstr(r.out.ev[2].json.p, "\"status\":\"accepted\""));
    cr_assert_null(strstr(r.out.ev[2].json.p, "business_status"));
    cr_assert(strstr(r.out.ev[3].json.p,
                     "\"status\":\"completed\",\"terminal\":true"));
    cr_assert_null(strstr(r.out.ev[3].json.p, "business_status"));
    cr_assert(strstr(r.out.ev[4].json.p, "\"status\":\"received\""));
    const struct csv_finding *f =
        finding(&r.rep, 6, "not a FHIR Task status nor an alias");
    cr_assert_not_null(f);
    cr_assert_null(strstr(f->what, "Closed"));
}

/* A social care network's closed-loop export (F2403): `closed_met` (the
 * referral closed, the need met) is completed, carried as sent; `open`
 * (requested, accepted or in progress) and `closed_unmet` (failed,
 * cancelled or rejected) could each be several statuses and refuse their
 * row at the status column, the word not quoted. */
Test(csv, a_closed_loop_closed_met_is_completed_open_and_unmet_refused)
{
    struct csvrun r = RUN("referral-status",
        "referral_id,status,updated_at,patient_id\n"
        "R1,closed_met,2026-03-03T09:00:00Z,P1\n"
        "R2,open,2026-03-04T09:00:00Z,P2\n"
        "R3,closed_unmet,2026-03-05T09:00:00Z,P3\n"
        "R4,Closed Met,2026-03-06T09:00:00Z,P4\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 2, "%zu", r.out.n);
    cr_assert(strstr(r.out.ev[0].json.p,
                     "\"status\":\"completed\",\"terminal\":true,"
                     "\"business_status\":\"closed_met\""),
              "%s", r.out.ev[0].json.p);
    cr_assert(strstr(r.out.ev[1].json.p,
                     "\"status\":\"completed\",\"terminal\":true,"
                     "\"business_status\":\"Closed Met\""),
              "%s", r.out.ev[1].json.p);
    for (size_t row = 3; row <= 4; row++) {
        const struct csv_finding *f =
            finding(&r.rep, row, "not a FHIR Task status nor an alias");
        cr_assert_not_null(f, "row %zu", row);
        cr_assert_eq(f->col, 2);
        cr_assert_str_eq(f->column, "status");
        cr_assert_null(strstr(f->what, "open"));
        cr_assert_null(strstr(f->what, "unmet"));
    }
    cr_assert_eq(r.rep.rows_rejected, 2);
}

/* A social care network's referrals with `need_domain` renamed `domain`
 * (F2423): its words `food`, `transportation`, `utilities` (and `utility`,
 * in any case, with blanks round them) each name one Gravity category and
 * are read as its code, warned at the domain column; `housing` could be
 * three categories and `safety` none of its own: each refuses its row at
 * that column, and the refusal names the codes the word could mean. */
Test(csv, a_referral_domain_word_is_read_as_its_code_an_ambiguous_one_refused)
{
    struct csvrun r = RUN("referral-status",
        "referral_id,screening_id,patient_id,cbo_id,domain,referral_date,"
        "status,updated_at\n"
        "R1,S1,P1,C1,food,2026-03-01,closed_met,2026-03-03T09:00:00Z\n"
        "R2,S2,P2,C1,Transportation,2026-03-01,closed_met,"
        "2026-03-03T09:00:00Z\n"
        "R3,S3,P3,C1, UTILITIES ,2026-03-01,closed_met,2026-03-03T09:00:00Z\n"
        "R4,S4,P4,C1,Utility,2026-03-01,closed_met,2026-03-03T09:00:00Z\n"
        "R5,S5,P5,C1,housing,2026-03-01,closed_met,2026-03-03T09:00:00Z\n"
        "R6,S6,P6,C1,Safety,2026-03-01,closed_met,2026-03-03T09:00:00Z\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_expect_eq(r.out.n, 4, "%zu", r.out.n);
    static const char *const want[] = { "food-insecurity",
        "transportation-insecurity", "utility-insecurity",
        "utility-insecurity" };
    for (size_t i = 0; i < 4; i++) {
        /* each row on its own: its event, by its referral id */
        char id[32], dom[64];
        const char *ev = NULL;
        snprintf(id, sizeof(id), "\"referral\":{\"id\":\"R%zu\"", i + 1);
        snprintf(dom, sizeof(dom), "\"domain\":\"%s\"", want[i]);
        for (size_t k = 0; k < r.out.n && ev == NULL; k++)
            if (strstr(r.out.ev[k].json.p, id))
                ev = r.out.ev[k].json.p;
        cr_expect(ev && strstr(ev, dom), "row %zu: %s", i + 2,
                  ev ? ev : "no event");
        const struct csv_finding *f =
            finding(&r.rep, i + 2, "read as the Gravity SDOH category code");
        cr_expect_not_null(f, "row %zu", i + 2);
        if (f == NULL)
            continue;
        cr_expect_eq(f->severity, CSV_SEV_WARNING);
        cr_expect_str_eq(f->column, "domain");
        cr_expect_eq(f->col, 5);
    }
    const struct csv_finding *f = finding(&r.rep, 6, "ambiguous word");
    cr_expect_not_null(f, "housing");
    if (f) {
        cr_expect_eq(f->severity, CSV_SEV_ERROR);
        cr_expect_str_eq(f->column, "domain");
        cr_expect_str_eq(f->what,
                         "domain is an ambiguous word (housing): it could be "
                         "housing-instability, homelessness or "
                         "inadequate-housing; send the Gravity code meant");
    }
    f = finding(&r.rep, 7, "ambiguous word");
    cr_expect_not_null(f, "safety");
    if (f == NULL)
        return;
    cr_expect_str_eq(f->column, "domain");
    cr_expect_str_eq(f->what,
                     "domain is an ambiguous word (safety) with no Gravity "
                     "SDOH category of its own; send the Gravity code meant");
    cr_expect_eq(r.rep.rows_rejected, 2);
}

Test(csv, lower_case_loinc_answer_codes_are_matched_as_the_spec_does)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,71802-3, la31994-9 ,,,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.rep.warnings, 0);
    cr_assert(strstr(r.out.ev[0].json.p,
                     "\"answer\":\"LA31994-9\",\"domain\":\"housing-"
                     "instability\",\"positive\":true"), "%s",
              r.out.ev[0].json.p);
}

/* As every adapter (common/ssn.h): a us-ssn identifier that is nine
 * digits once dashes and spaces are left out is written as the nine
 * digits, so that SHIN-NY's 999-34-2964 links to 999342964 sent by FHIR;
 * another system's value, or one that is not nine digits, as sent. */
Test(csv, an_ssn_is_written_as_nine_digits)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,patient_id_system,instrument,screened_at,"
        "question,answer\r\n"
        "S1,444-22-2222,http://hl7.org/fhir/sid/us-ssn,96777-8,2026-01-02,"
        "93030-5,LA33-6\r\n"
        "S2,44-22-2222,http://hl7.org/fhir/sid/us-ssn,96777-8,2026-01-02,"
        "93030-5,LA33-6\r\n"
        "S3,444-22-2222,urn:mrn,96777-8,2026-01-02,93030-5,LA33-6\r\n"
        "S4,000-00-0000,http://hl7.org/fhir/sid/us-ssn,96777-8,2026-01-02,"
        "93030-5,LA33-6\r\n"
        "S5,999342964,http://hl7.org/fhir/sid/us-ssn,96777-8,2026-01-02,"
        "93030-5,LA33-6\r\n"
        "S6,000-00-0000,urn:mrn,96777-8,2026-01-02,93030-5,LA33-6\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    /* the patient id is the row's only identifier: a row whose id is no
     * SSN the SSA issues is refused, so that strangers are not linked */
    cr_assert_eq(r.out.n, 6, "%zu", r.out.n);
    cr_expect(strstr(r.out.ev[0].json.p, "\"value\":\"444222222\"") != NULL,
              "%s", r.out.ev[0].json.p);
    cr_expect(strstr(r.out.ev[2].json.p, "\"value\":\"444-22-2222\"") != NULL,
              "%s", r.out.ev[2].json.p);
    cr_expect(strstr(r.out.ev[4].json.p, "\"value\":\"000-00-0000\"") != NULL,
              "%s", r.out.ev[4].json.p);
    cr_expect_eq(r.rep.rows_rejected, 3);
    size_t ssn_errors = 0;
    for (size_t i = 0; i < r.rep.n; i++)
        ssn_errors += r.rep.f[i].severity == CSV_SEV_ERROR &&
                      strcmp(r.rep.f[i].what,
                             "SSN is not nine digits the SSA could have "
                             "issued") == 0;
    cr_expect_eq(ssn_errors, 3);
}

/* A patient_id_system in the hub's own space (urn:hub:, any case) names
 * some organization's scope, another's as easily as the sender's: the
 * row's only identifier is unusable, so the row is refused at that
 * column, as for an SSN the SSA never issues; a system that only starts
 * alike is kept (F2240). */
Test(csv, a_patient_id_system_in_the_hubs_own_space_refuses_the_row)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,patient_id_system,instrument,screened_at,"
        "question,answer\r\n"
        "S1,1234,urn:hub:org:hosp:ns:MRN,96777-8,2026-01-02,93030-5,LA33-6\r\n"
        "S2,1234,URN:HUB:org:hosp:ns:MRN,96777-8,2026-01-02,93030-5,LA33-6\r\n"
        "S3,1234,urn:hubx:a,96777-8,2026-01-02,93030-5,LA33-6\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    /* S3's: screening.completed and .positive */
    cr_assert_eq(r.out.n, 2, "%zu", r.out.n);
    for (size_t i = 0; i < r.out.n; i++)
        cr_expect(strstr(r.out.ev[i].json.p,
                         "\"system\":\"urn:hubx:a\"") != NULL,
                  "%s", r.out.ev[i].json.p);
    cr_expect_eq(r.rep.rows_rejected, 2);
    size_t errors = 0;
    for (size_t i = 0; i < r.rep.n; i++)
        errors += r.rep.f[i].severity == CSV_SEV_ERROR &&
                  strcmp(r.rep.f[i].what,
                         "identifier system is in the hub's own space "
                         "(urn:hub:); the row's only identifier is "
                         "unusable") == 0;
    cr_expect_eq(errors, 2);
}

/* F744 (common/natid.h): a patient id in a national system that fails the
 * scheme's check digit is kept, marked inactive (never linked on), with a
 * warning on the row; one that passes is linked as before. */
Test(csv, a_national_number_that_fails_its_check_is_kept_not_linked)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,patient_id_system,instrument,screened_at,"
        "question,answer\r\n"
        "S1,7000000001,https://fhir.nhs.uk/Id/nhs-number,96777-8,2026-01-02,"
        "93030-5,LA33-6\r\n"
        "S2,9434765919,https://fhir.nhs.uk/Id/nhs-number,96777-8,2026-01-02,"
        "93030-5,LA33-6\r\n"
        "S3,1EG4TE5MK7,urn:oid:2.16.840.1.113883.4.927,96777-8,2026-01-02,"
        "93030-5,LA33-6\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 6, "%zu", r.out.n);
    cr_expect(strstr(r.out.ev[0].json.p, "\"value\":\"7000000001\","
                     "\"system\":\"https://fhir.nhs.uk/Id/nhs-number\","
                     "\"inactive\":true") != NULL, "%s", r.out.ev[0].json.p);
    cr_expect(strstr(r.out.ev[2].json.p, "\"inactive\"") == NULL, "%s",
              r.out.ev[2].json.p);
    cr_expect(strstr(r.out.ev[4].json.p, "\"inactive\":true") != NULL, "%s",
              r.out.ev[4].json.p);
    cr_expect_eq(r.rep.rows_rejected, 0);
    size_t nhs = 0, mbi = 0;
    for (size_t i = 0; i < r.rep.n; i++) {
        nhs += r.rep.f[i].severity == CSV_SEV_WARNING &&
               strcmp(r.rep.f[i].what, "NHS number fails its modulus 11 "
                                       "check; not linked") == 0;
        mbi += r.rep.f[i].severity == CSV_SEV_WARNING &&
               strcmp(r.rep.f[i].what, "MBI is not in the CMS format; not "
                                       "linked") == 0;
    }
    cr_expect_eq(nhs, 1);
    cr_expect_eq(mbi, 1);
}

/* F843: a placeholder Medicaid id (type MA, one digit throughout) is
 * kept, marked inactive: linked on, it joined every client sent with it. */
Test(csv, a_placeholder_medicaid_id_is_kept_but_never_links)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,patient_id_system,patient_id_type,"
        "instrument,screened_at,question,answer\r\n"
        "S1,00000000,urn:oid:2.16.840.1.113883.4.3.36,MA,96777-8,2026-01-02,"
        "93030-5,LA33-6\r\n"
        "S2,00000000,urn:oid:2.16.840.1.113883.4.3.36,MR,96777-8,2026-01-02,"
        "93030-5,LA33-6\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 4, "%zu", r.out.n);
    cr_expect(strstr(r.out.ev[0].json.p, "\"type\":\"MA\",\"inactive\":true")
              != NULL, "%s", r.out.ev[0].json.p);
    cr_expect(strstr(r.out.ev[2].json.p, "\"inactive\"") == NULL, "%s",
              r.out.ev[2].json.p);
}

/* As every adapter (common/idsys.h): a patient_id_system that names the
 * SSN by its OID or the SSA's address, or the MBI by its OID, is written
 * as its URI, with its type when none is given; such an SSN is checked as
 * one (F511). */
Test(csv, a_national_system_named_by_its_oid_is_its_uri)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,patient_id_system,patient_id_type,"
        "instrument,screened_at,question,answer\r\n"
        "S1,444-22-2222,urn:oid:2.16.840.1.113883.4.1,,96777-8,2026-01-02,"
        "93030-5,LA33-6\r\n"
        "S2,444222222,http://www.ssa.gov/,SS,96777-8,2026-01-02,"
        "93030-5,LA33-6\r\n"
        "S3,1EG4TE5MK73,urn:oid:2.16.840.1.113883.4.927,,96777-8,"
        "2026-01-02,93030-5,LA33-6\r\n"
        "S4,000-00-0000,urn:oid:2.16.840.1.113883.4.1,,96777-8,2026-01-02,"
        "93030-5,LA33-6\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 6, "%zu", r.out.n);
    static const char *const want[] = {
        "{\"value\":\"444222222\",\"system\":"
        "\"http://hl7.org/fhir/sid/us-ssn\",\"type\":\"SS\"}",
        "{\"value\":\"444222222\",\"system\":"
        "\"http://hl7.org/fhir/sid/us-ssn\",\"type\":\"SS\"}",
        "{\"value\":\"1EG4TE5MK73\",\"system\":"
        "\"http://hl7.org/fhir/sid/us-mbi\",\"type\":\"MC\"}",
    };
    for (size_t i = 0; i < 3; i++)
        cr_expect(strstr(r.out.ev[2 * i].json.p, want[i]) != NULL, "%s",
                  r.out.ev[2 * i].json.p);
    cr_expect_eq(r.rep.rows_rejected, 1);
}

/* As every adapter (common/postal.h): a ZIP+4 sent with an empty +4 is
 * the ZIP. */
Test(csv, a_zip_plus_4_with_an_empty_plus_4_is_the_zip)
{
    struct csvrun r = RUN("screenings",
        "screening_id,patient_id,instrument,screened_at,question,answer,"
        "postal_code\r\n"
        "S1,P1,96777-8,2026-01-02,93030-5,LA33-6,61550-    \r\n"
        "S2,P2,96777-8,2026-01-02,93030-5,LA33-6,61550-1234\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    cr_assert_eq(r.out.n, 4, "%zu", r.out.n);
    cr_expect(strstr(r.out.ev[0].json.p, "\"postal_code\":\"61550\"") != NULL,
              "%s", r.out.ev[0].json.p);
    cr_expect(strstr(r.out.ev[2].json.p, "\"postal_code\":\"61550-1234\"") != NULL,
              "%s", r.out.ev[2].json.p);
}

/* A total written with decimals in the answer column (11.0, where F2942
 * reads 11 there as the total's value): it was an answer code that no
 * list has, scored nothing, no domain positive, no warning, while the same
 * 11.0 in the value column is scored (F4020). Read as its value now,
 * warned as 11 there is (F4141). Probes that held: -0.0 is a total of
 * 0; 1.0e1 is no number a spreadsheet writes, and its row is refused
 * "value is not a number", not read silently (round 243). */
Test(csv, a_total_with_decimals_in_the_answer_column_is_its_value)
{
    struct csvrun r = RUN("screenings",
        SCR_HEADER
        "S1,P1,96777-8,2026-01-02,95614-4,11.0,,,,\r\n"
        "S2,P2,96777-8,2026-01-02,95614-4,,-0.0,,,\r\n"
        "S3,P3,96777-8,2026-01-02,95614-4,,1.0e1,,,\r\n");
    cr_assert_eq(r.rc, HUB_OK);
    /* S1: completed and positive; S2: completed; S3: refused */
    cr_assert_eq(r.out.n, 3, "%zu events", r.out.n);
    cJSON *ev = cJSON_Parse(r.out.ev[0].json.p);
    cJSON *sc = cJSON_GetObjectItem(ev, "screening");
    cJSON *it = cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "items"), 0);
    cr_expect_eq(cJSON_GetObjectItem(it, "value")->valuedouble, 11.0, "%s",
                 r.out.ev[0].json.p);
    cr_expect_null(cJSON_GetObjectItem(it, "answer"));
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(sc,
                                                        "positive_domains")),
                 1, "%s", r.out.ev[0].json.p);
    cJSON_Delete(ev);
    cr_expect_str_eq(r.out.ev[1].type, "screening.positive");
    const struct csv_finding *f = finding(&r.rep, 2, "total written in the "
                                                     "answer column");
    cr_assert_not_null(f);
    cr_expect_str_eq(f->column, "answer");
    ev = cJSON_Parse(r.out.ev[2].json.p);
    sc = cJSON_GetObjectItem(ev, "screening");
    cJSON *score = cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "scores"), 0);
    cr_expect_eq(cJSON_GetObjectItem(score, "value")->valueint, 0, "%s",
                 r.out.ev[2].json.p);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(score, "positive")));
    cJSON_Delete(ev);
    f = finding(&r.rep, 4, "value is not a number");
    cr_assert_not_null(f);
    cr_expect_eq(f->severity, CSV_SEV_ERROR);
    cr_expect_eq(r.rep.rows_rejected, 1);
}
