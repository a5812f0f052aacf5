/*
 * csv_fuzz.c - libFuzzer harness for the CSV reader (whole input, and the
 * same input fed in two parts, which must give the same records).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "csv/csv.h"

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
        sum = (sum ^ row.row ^ (row.err ? 7 : 0) ^ row.err_col) * 1099511628211ull;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    uint64_t whole = read_all(p, size, size);
    if (size > 1) {
        size_t cut = data[0] % size;
        if (read_all(p, size, cut) != whole)
            abort();                /* incremental feeding changed the result */
    }
    return 0;
}
