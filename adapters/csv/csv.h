/*
 * csv.h - CSV uploads from community organizations into canonical events.
 * Pure: no I/O, no clock, no globals; all memory from the caller's arena.
 * Errors say where (file, row, column, byte offset), never what the value
 * was: every `what` is static text.
 *
 * Two layers:
 *   1. an RFC 4180 reader (csv_reader_*), bounded and incremental-safe;
 *   2. layouts (csv_to_events): the SHIN-NY 1115 flat-file set and the
 *      hub's own simple layouts "screenings" and "referral-status"
 *      (columns in adapters/csv/README.md).
 *
 * Rows are numbered as a spreadsheet shows them: the header is row 1, the
 * first data row is row 2, and a quoted field with line breaks does not
 * start a new row. Columns are numbered from 1.
 */
#ifndef HUB_CSV_H
#define HUB_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/canon.h"
#include "common/hub_err.h"
#include "common/slice.h"

/* ------------------------------------------------------------------ */
/* The reader                                                          */

#define CSV_MAX_BYTES (32u << 20)   /* per file */
#define CSV_MAX_ROWS 200000u        /* records per file, header included */
#define CSV_MAX_COLS 256u           /* fields per record */
#define CSV_MAX_FIELD 32768u        /* bytes per field, after unquoting */

struct csv_limits {
    size_t max_bytes;
    size_t max_rows;
    size_t max_cols;
    size_t max_field;
};

void csv_limits_default(struct csv_limits *lim);

/* One record. Its slices borrow the input (or the arena, for a field that
 * held a doubled quote) and `f` is reused by the next csv_read_row. */
struct csv_row {
    size_t row;             /* 1-based record number; the header is 1 */
    size_t line;            /* 1-based line where the record starts */
    size_t offset;          /* byte offset of the record in the input */
    size_t n;               /* fields stored in f (at most max_cols) */
    size_t ncols;           /* fields seen (may exceed max_cols) */
    const struct slice *f;
    bool empty;             /* every field is empty: ",,,," or a blank line */
    int err;                /* HUB_OK, or HUB_EINVALID for a bad record */
    size_t err_col;         /* 1-based column of the first problem */
    const char *err_what;   /* static text */
};

/* The reader's state; fields are private to csv_read.c. */
struct csv_reader {
    struct arena *a;
    const char *p;
    size_t len;
    size_t pos;
    bool final;
    bool bom_done;
    char delim;
    struct csv_limits lim;
    size_t rows;
    size_t line;
    size_t header_cols;
    int failed;             /* sticky fatal error */
    struct slice *f;
};

/* `delim` 0 means ','. `lim` NULL means the defaults. */
void csv_reader_init(struct csv_reader *r, struct arena *a, char delim,
                     const struct csv_limits *lim);

/*
 * Give the reader its input: all of it so far. For incremental use call it
 * again with the grown buffer (same content, more bytes; it may have moved)
 * and `final` true once the input is complete. Slices of rows already
 * returned point into the buffer as it was.
 */
void csv_reader_feed(struct csv_reader *r, const char *p, size_t len,
                     bool final);

/*
 * Read the next record. Returns 1 and fills *row (check row->err: a bad
 * record is still returned, with the column and reason); 0 at the end of
 * final input; HUB_ESHORT when the record is not complete yet and the input
 * is not final; or a fatal HUB_ESYNTAX (unterminated quote) / HUB_ELIMIT
 * (bytes, rows, header columns) with *err located as "row R col C" and the
 * byte offset. A fatal error is sticky.
 */
int csv_read_row(struct csv_reader *r, struct csv_row *row,
                 struct hub_err *err)
    __attribute__((warn_unused_result));

/* Field `idx` (0-based), or an empty slice past the end of the record. */
struct slice csv_row_field(const struct csv_row *row, size_t idx);

#endif
