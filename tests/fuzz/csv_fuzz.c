/*
 * csv_fuzz.c - libFuzzer harness for the CSV adapter.
 *
 * The first byte picks what is fuzzed:
 *   0..2  the RFC 4180 reader, whole and fed in two parts at a cut taken
 *         from the second byte (the records must be the same);
 *   3     kind "screenings";  4  kind "referral-status";
 *   5     kind "shinny": the rest is split at each "\n====\n" into up to
 *         four files named as a SHIN-NY set (QEadmin, ScreeningProf,
 *         ScreeningObs, PtInfo);
 *   6     csv_multipart_files (boundary "XyZ"), then kind "shinny" on the
 *         parts it found.
 * Checks besides memory safety: every event is valid JSON whose "type" is
 * the list's; the report's JSON is valid; errors carry static text; the row
 * counters add up. The dictionary is loaded once from schemas/dict (run
 * from the repo root).
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/dict.h"
#include "fuzz_dict.h"
#include "csv/csv.h"

static struct dict *D;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    D = fuzz_dict_load("csv_fuzz");
    return 0;
}

/* Read every record; return a checksum of what was read. */
static uint64_t read_all(const char *p, size_t len, size_t cut)
{
    struct arena a;
    struct csv_reader r;
    struct csv_row row;
    struct hub_err err;
    struct csv_limits lim;
    uint64_t sum = 1469598103934665603ull;
    int rc;

    csv_limits_default(&lim);
    lim.max_cols = 16;
    lim.max_field = 64;
    lim.max_rows = 1000;
    arena_init(&a, 4096);
    csv_reader_init(&r, &a, 0, &lim);
    csv_reader_feed(&r, p, cut, cut == len);
    for (;;) {
        rc = csv_read_row(&r, &row, &err);
        if (rc == HUB_ESHORT) {
            if (r.final)
                abort();            /* final input never asks for more */
            csv_reader_feed(&r, p, len, true);
            continue;
        }
        if (rc != 1)
            break;
        sum = (sum ^ row.row ^ (row.err ? 7u : 0u) ^ row.err_col) *
              1099511628211ull;
        for (size_t i = 0; i < row.n; i++) {
            if (row.f[i].len > lim.max_field)
                abort();
            for (size_t j = 0; j < row.f[i].len; j++)
                sum = (sum ^ (unsigned char)row.f[i].p[j]) * 1099511628211ull;
            sum = (sum ^ 0x100) * 1099511628211ull;
        }
    }
    sum ^= (uint64_t)(rc + 100);
    arena_release(&a);
    return sum;
}

static void check_json(struct slice s)
{
    cJSON *j = cJSON_ParseWithLength(s.p, s.len);
    if (j == NULL)
        abort();
    cJSON_Delete(j);
}

static void layouts(const char *kind, const char *p, size_t len)
{
    static const char *const names[4] = {
        "SDOH_QEadmin_F_1.csv", "SDOH_ScreeningProf_F_1.csv",
        "SDOH_ScreeningObs_F_1.csv", "SDOH_PtInfo_F_1.csv",
    };
    struct csv_file files[4];
    size_t n = 0;

    if (strcmp(kind, "shinny") == 0) {
        /* obs first, so that a single part is still a usable set */
        static const int order[4] = { 2, 3, 0, 1 };
        const char *s = p, *end = p + len;
        while (n < 4) {
            const char *sep = NULL;
            for (const char *q = s; q + 6 <= end; q++)
                if (memcmp(q, "\n====\n", 6) == 0) {
                    sep = q;
                    break;
                }
            const char *e = sep ? sep : end;
            files[n] = (struct csv_file){ names[order[n]], NULL, s,
                                          (size_t)(e - s) };
            n++;
            if (sep == NULL)
                break;
            s = sep + 6;
        }
    } else {
        files[n++] = (struct csv_file){ "f.csv", NULL, p, len };
    }

    struct arena a;
    struct canon_list out = { 0 };
    struct csv_report rep;
    struct hub_err err = { 0 };
    arena_init(&a, 16 * 1024);
    int rc = csv_to_events(&a, D, kind, files, n, &out, &rep, &err);
    if (rc != HUB_OK) {
        if (rc > 0 || err.what == NULL || out.n != 0)
            abort();
    } else {
        for (size_t i = 0; i < out.n; i++) {
            check_json(out.ev[i].json);
            if (!canon_topic_known(out.ev[i].type))
                abort();
        }
        if (rep.rows != rep.rows_used + rep.rows_rejected + rep.rows_blank)
            abort();
        if (rep.events != out.n)
            abort();
        /* every rejected row is listed once, in order, with bytes that lie
         * in its own file (the hub quarantines them) */
        if (rep.n_rejected != rep.rows_rejected)
            abort();
        for (size_t i = 0; i < rep.n_rejected; i++) {
            const struct csv_rejected *r = &rep.rejected[i];
            if (r->file >= n || r->raw.p < files[r->file].p ||
                r->raw.p + r->raw.len > files[r->file].p + files[r->file].len ||
                r->raw.p != files[r->file].p + r->offset)
                abort();
            if (i && (r->file < rep.rejected[i - 1].file ||
                      (r->file == rep.rejected[i - 1].file &&
                       r->row <= rep.rejected[i - 1].row)))
                abort();
        }
        struct slice js;
        if (csv_report_json(&a, &rep, &js) != HUB_OK)
            abort();
        check_json(js);
    }
    arena_release(&a);
}

static void multipart(const char *p, size_t len)
{
    struct arena a;
    struct csv_file f[CSV_MAX_FILES];
    size_t n = 0;
    struct hub_err err = { 0 };

    arena_init(&a, 4096);
    int rc = csv_multipart_files(&a, "multipart/form-data; boundary=XyZ", p,
                                 len, f, CSV_MAX_FILES, &n, &err);
    if (rc == HUB_OK) {
        if (n == 0 || n > CSV_MAX_FILES)
            abort();
        for (size_t i = 0; i < n; i++)
            if (f[i].p < p || f[i].p + f[i].len > p + len)
                abort();        /* a part outside the body */
        struct canon_list out = { 0 };
        struct csv_report rep;
        (void)csv_to_events(&a, D, "shinny", f, n, &out, &rep, &err);
    } else if (err.what == NULL) {
        abort();
    }
    arena_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const char *p = (const char *)data + 2;
    size_t len = size - 2;
    switch (data[0] % 7) {
    case 0:
    case 1:
    case 2: {
        uint64_t whole = read_all(p, len, len);
        size_t cut = len ? data[1] % (len + 1) : 0;
        if (read_all(p, len, cut) != whole)
            abort();            /* feeding in two parts changed the result */
        break;
    }
    case 3:
        layouts("screenings", p, len);
        break;
    case 4:
        layouts("referral-status", p, len);
        break;
    case 5:
        layouts("shinny", p, len);
        break;
    default:
        multipart(p, len);
        break;
    }
    return 0;
}
