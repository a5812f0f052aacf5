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
 *
 * How POST /v1/csv/{kind} uses it (the hub hashes, the adapter does not):
 *
 *     struct csv_file f[CSV_MAX_FILES];
 *     size_t n = 1;
 *     if (strcmp(kind, "shinny") == 0)
 *         rc = csv_multipart_files(&a, content_type, body, len, f,
 *                                  CSV_MAX_FILES, &n, &err);
 *     else
 *         f[0] = (struct csv_file){ name_or_upload_csv, NULL, body, len };
 *     for (i = 0; i < n; i++)
 *         f[i].sha256 = sha256_hex_of(f[i].p, f[i].len);
 *     rc = csv_to_events(&a, dict, kind, f, n, &events, &report, &err);
 *     if (rc)             -> 400/413/415 {"error": ...} from err
 *     else if (report.rows_used == 0 && report.rows_rejected)
 *                         -> 422 with csv_report_json()
 *     else                -> commit events (idempotency key: the hashes
 *                            of report.message_id), 202 with
 *                            csv_report_json()
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
 * held a doubled quote) and `f` is reused by the next csv_read_row. A
 * field that is exactly Excel's ="text" (="00123") is given as its text. */
struct csv_row {
    size_t row;             /* 1-based record number; the header is 1 */
    size_t line;            /* 1-based line where the record starts */
    size_t offset;          /* byte offset of the record in the input */
    size_t n;               /* fields stored in f (at most max_cols) */
    size_t ncols;           /* fields seen (may exceed max_cols) */
    const struct slice *f;
    bool empty;             /* every field is empty: ",,,," or a blank line;
                             * or the first record is Excel's `sep=X` (X
                             * the delimiter), which names it and is no
                             * header */
    int err;                /* HUB_OK, or HUB_EINVALID for a bad record */
    size_t err_col;         /* 1-based column of the first problem */
    const char *err_what;   /* static text */
    size_t warn_col;        /* the first oddity read past (a quote inside an */
    const char *warn_what;  /* unquoted field, kept as text), or 0/NULL */
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
    size_t header_cols;     /* 0 until the header (not blank) is read */
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
 * Where the next records' fields go: `f`, room for lim.max_cols slices
 * (the reader's own array until this is called). Their row->f is then f,
 * which a caller can keep instead of copying the fields out.
 */
void csv_reader_fields(struct csv_reader *r, struct slice *f);

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

/* ------------------------------------------------------------------ */
/* Layouts: files in, canonical events and a per-row report out        */

struct dict;                        /* common/dict.h */

#define CSV_MAX_FILES 8             /* files in one call (a SHIN-NY set is 4) */
#define CSV_MAX_FINDINGS 2000       /* listed; more are only counted */
#define CSV_MAX_SCREENING_ROWS 500  /* rows (answered items) per screening */
#define CSV_MAX_EVENT_BYTES (1u << 20)

/*
 * One uploaded file. `name` is the file's base name as uploaded (the SHIN-NY
 * layout recognises its four files by their prefixes; every event cites it
 * in source.message_id). `sha256` is the lowercase hex SHA-256 of the bytes,
 * computed by the hub (adapters do no hashing); it may be NULL, and then
 * the report's message id holds the name only.
 */
struct csv_file {
    const char *name;
    const char *sha256;
    const char *p;
    size_t len;
};

enum csv_severity {
    CSV_SEV_ERROR,          /* the row was not used */
    CSV_SEV_WARNING,        /* the row was used; something is off */
};

/* One finding about one row (row 0: the whole file; col 0: the whole row). */
struct csv_finding {
    unsigned file;          /* index into the files given */
    size_t row;             /* spreadsheet row number, header = 1 */
    size_t col;             /* 1-based column in that file's header, or 0 */
    const char *column;     /* column name (layout's or header's), or NULL */
    enum csv_severity severity;
    const char *what;       /* static text */
};

/* A data row that was not used: where it is and its bytes, so that the
 * hub can keep it in quarantine on its own. */
struct csv_rejected {
    unsigned file;          /* index into the files given */
    size_t row;             /* spreadsheet row number */
    size_t offset;          /* byte offset of the record in its file */
    struct slice raw;       /* the record's bytes, without its line end */
};

/*
 * What happened to each row. Every data row is counted once: used (it went
 * into an event, possibly with warnings), rejected (an error finding names
 * it) or blank (all fields empty: skipped, as exports pad with ",,,,"
 * rows). Findings list every error and warning, by file, row and column.
 */
struct csv_report {
    const char *kind;
    const char *message_id;     /* names the upload, see csv_to_events */
    const struct csv_file *files;
    size_t n_files;
    size_t rows;                /* data rows, blank ones included */
    size_t rows_used;
    size_t rows_rejected;
    size_t rows_blank;
    size_t errors;              /* findings, by severity */
    size_t warnings;
    size_t events;
    struct csv_finding *f;
    size_t n;
    size_t cap;
    size_t dropped;             /* findings past CSV_MAX_FINDINGS */
    /* every rejected row (rows_rejected of them), in file and row order;
     * its errors are the findings of the same file and row */
    struct csv_rejected *rejected;
    size_t n_rejected;
    size_t rejected_cap;
};

/*
 * Normalize one upload. `kind` is the {kind} of POST /v1/csv/{kind}:
 *   "screenings"       one file, the hub's layout: one row per answered
 *                      item; rows with the same screening_id make one
 *                      screening;
 *   "referral-status"  one file, the hub's layout: one row per referral
 *                      status update;
 *   "shinny"           a SHIN-NY 1115 flat-file set: SDOH_ScreeningObs_*
 *                      (required) with SDOH_PtInfo_*, SDOH_QEadmin_* and
 *                      SDOH_ScreeningProf_* (each optional, used when
 *                      given), all in one call, recognised by file name
 *                      prefix or else by their header.
 * Text: UTF-8 (a byte order mark allowed). A file that is not is read
 * from its UTF-8 translation (csv_text.c: Windows-1252, UTF-8 mixed with
 * Windows-1252 bytes, UTF-16), with a file warning that says which; its
 * delimiter is read from its header (',' ';' TAB '|', a warning when not
 * ','). Its rejected rows are still given as the bytes that were sent,
 * at their offsets in the file as sent (what the hub quarantines), and so
 * is the offset of an error that refuses the file.
 * Positivity comes from the dictionary `d`, never from the sender; where
 * the sender states it and disagrees, the event and the report carry a
 * warning. Appends events to *out (screening.completed, plus
 * screening.positive when any domain is positive, per screening;
 * referral.updated per status row).
 *
 * Returns HUB_OK when the upload could be read, even if rows were rejected
 * (see report->rows_rejected; the hub answers 422 when no row was used).
 * Fatal: HUB_EUNSUPPORTED (unknown kind, an older SHIN-NY generation),
 * HUB_EINVALID (no header, a required column missing: err->field names it),
 * HUB_ESYNTAX (unterminated quote), HUB_ELIMIT (bytes, rows, columns,
 * files, events); err->field is "<file index>:row R col C" or the column.
 * On failure *out is left as it was (no partial upload); the report still
 * holds the findings made before the failure.
 *
 * report->message_id names the upload: "name:sha256" for one file; for a
 * set, "<set name>:" followed by the four hashes in the order QEadmin,
 * ScreeningProf, ScreeningObs, PtInfo joined by "+" ("-" for a file not
 * sent). The hub keys the upload by what follows its last ':', the hashes
 * alone (no hash holds a ':'), so the same files re-sent under any names
 * give the same key.
 */
int csv_to_events(struct arena *a, const struct dict *d, const char *kind,
                  const struct csv_file *files, size_t n,
                  struct canon_list *out, struct csv_report *report,
                  struct hub_err *err)
    __attribute__((warn_unused_result));
/*
 * csv_to_events for an upload received at `received_at` (ISO 8601 UTC,
 * "2026-12-04T02:40:00.123Z", as the hub stamps a message; its date is
 * read). Only the Excel date serials need it: a file's serials are read in
 * the 1900 date system when one of them, read in Mac's 1904 system (1,462
 * days later), would fall after the upload; else they are refused as
 * ambiguous (README). csv_to_events is this with no time: every serial is
 * then ambiguous.
 */
int csv_to_events_at(struct arena *a, const struct dict *d, const char *kind,
                     const struct csv_file *files, size_t n,
                     const char *received_at, struct canon_list *out,
                     struct csv_report *report, struct hub_err *err)
    __attribute__((warn_unused_result));

/*
 * Split a multipart/form-data request body (RFC 7578) into files, for
 * POST /v1/csv/shinny: one part per file, the name from the part's
 * Content-Disposition filename (else its name), without any directory.
 * `content_type` is the request's Content-Type (the boundary comes from
 * it). Each file's bytes point into `p`; names are copied into `a`; sha256
 * is left NULL for the hub to fill. Returns HUB_OK with *n >= 1, or
 * HUB_EUNSUPPORTED (not multipart/form-data), HUB_ESYNTAX (framing),
 * HUB_EINVALID (no boundary, a part without Content-Disposition, no part),
 * HUB_ELIMIT (more than `max` parts, part headers over 8 KiB).
 */
int csv_multipart_files(struct arena *a, const char *content_type,
                        const char *p, size_t len, struct csv_file *files,
                        size_t max, size_t *n, struct hub_err *err)
    __attribute__((warn_unused_result));

/*
 * The report as JSON, for the sender's feedback:
 * {"kind","message_id","rows","used","rejected","blank","events",
 *  "errors","warnings","findings":[{"file":"name","row":5,"col":14,
 *  "column":"PATIENT_BIRTH_DATE","severity":"error","what":"..."}],
 *  "findings_dropped":0}
 * No values from the rows, only places and static reasons.
 */
int csv_report_json(struct arena *a, const struct csv_report *r,
                    struct slice *out)
    __attribute__((warn_unused_result));

#endif
