/*
 * csv_int.h - internals shared by the CSV layouts (not a public API):
 * the per-call context, then a section for each part of the adapter that
 * the layouts (csv.c, csv_shinny.c) use, named for its file: text,
 * tables and findings, value checks and dates, the patient block,
 * screenings, grouping and the report, events.
 */
#ifndef HUB_CSV_INT_H
#define HUB_CSV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dict.h"
#include "common/jw.h"
#include "csv/csv.h"

struct csv_ctx {
    struct arena *a;
    const struct dict *d;
    const struct csv_file *files;
    size_t n_files;
    struct canon_list *out;
    struct csv_report *rep;
    char delim[CSV_MAX_FILES];  /* each file's, found by csv_delimiter */
    bool high[CSV_MAX_FILES];   /* it holds bytes of 0x80 and up */
    unsigned ev_file;           /* where the event being made starts, */
    size_t ev_row;              /* for an error that refuses the upload */
    size_t ev_offset;
    long upload_serial;         /* the upload's day as an Excel serial
                                   (1900 system), or 0: not known */
    int col_instrument;         /* the screening layout's columns, for */
    int col_question;           /* findings made from a csv_screening */
};

/* ---- text (csv_text.c) ------------------------------------------------ */

enum csv_enc {
    CSV_ENC_ASCII,          /* no byte of 0x80 and up: read as it is */
    CSV_ENC_UTF8,           /* read as it is */
    CSV_ENC_CP1252,         /* no UTF-8 in it: all read as Windows-1252 */
    CSV_ENC_MIXED,          /* UTF-8 with bytes that are not */
    CSV_ENC_UTF16LE,
    CSV_ENC_UTF16BE,
    CSV_ENC_MACROMAN,       /* no UTF-8, lines ending in CR alone: Mac OS
                             * Roman, as Excel for Mac saves "CSV" */
};

/* What the bytes of a file are. */
enum csv_enc csv_encoding(const char *p, size_t len);
/* The UTF-8 translation of a file of encoding e in the arena; false, and
 * nothing made, for ASCII and UTF-8. */
bool csv_to_utf8(struct arena *a, enum csv_enc e, const char *p, size_t len,
                 const char **out, size_t *out_len);
/* Offset t of the translation of `sent` as the offset in the bytes that
 * were sent: what a sender can look up in their file. */
size_t csv_sent_offset(const struct csv_file *sent, size_t t);
/* The rejected rows of translated files (tf[i].p != files[i].p) as the
 * bytes sent, at their offsets as sent; rows in file and row order. */
void csv_untranslate_rejected(struct csv_report *rep,
                              const struct csv_file *files,
                              const struct csv_file *tf, size_t n);

/* ---- tables, findings and row accounting (csv_table.c) ---------------- */

/* The delimiter of a file as its header row shows it: the one of ',' ';'
 * TAB '|' it holds most often outside quotes (',' on a tie or when it
 * holds none): European Excel saves "CSV" with ';', "Unicode text" and
 * some case-management systems with TAB, older SHIN-NY files with '|'. */
char csv_delimiter(const char *p, size_t len);

/* Header name `h` (trimmed) names `name`: ASCII case, spaces, '_' and '-'
 * do not count ("Screening ID" is screening_id), as spreadsheets and
 * case-management systems title their columns. */
bool csv_name_eq(struct slice h, const char *name);

/* A column a layout knows. Header names match as csv_name_eq says, after
 * trimming spaces; `alias` is a second spelling seen in real files. */
struct csv_col {
    const char *name;
    const char *alias;
    bool required;          /* refuse the file when the header lacks it */
    bool date;              /* read by csv_date_col: may hold Excel serials */
};

/* 24 bytes (the table's rows are copied as they double): the numbers fit
 * 32 bits under CSV_MAX_ROWS and CSV_MAX_BYTES, and the record's bytes are
 * found from offset and end only for a row that is rejected. */
struct csv_trow {
    struct slice *v;        /* one per layout column, trimmed; empty if absent */
    uint32_t row;           /* spreadsheet row number */
    uint32_t offset;        /* the record in its file, for quarantine */
    uint32_t end;           /* where the reader stopped after it */
    bool bad;               /* an error finding names this row */
    bool used;              /* went into an event */
};
_Static_assert(CSV_MAX_ROWS <= UINT32_MAX && CSV_MAX_BYTES <= UINT32_MAX,
               "struct csv_trow numbers are 32 bits");

/* One file read through a layout's column list. */
struct csv_table {
    unsigned file;
    const struct csv_col *cols;
    size_t ncols;
    int *hidx;              /* layout column -> 0-based header index, or -1 */
    struct csv_trow *rows;  /* data rows that are not blank */
    size_t n;
    uint8_t *dt_warned;     /* per layout column: csv_date_col's forms
                               warned of, a bit each */
    int8_t serial_1900;     /* its Excel serials: 0 not looked at yet, 1
                               the 1900 system for sure, -1 ambiguous */
    bool text_answer_warned; /* an answer given as its text was reported */
    bool text_question_warned; /* a question given as its wording was */
    bool flag_warned;       /* a sender's flag not read was reported */
};

/*
 * Read file `file` into *t through `cols`: every record read, bad records
 * reported (and kept out of t->rows), blank ones counted. `also` (NULL or
 * NULL-terminated) names the columns the layout knows but does not read;
 * any other named header column is a warning (row 1, its column number: a
 * misspelt optional column would otherwise be dropped unseen). A layout
 * column named twice refuses the file: which one is meant cannot be told.
 * Fatal errors as csv_to_events documents.
 */
int csv_table_load(struct csv_ctx *c, unsigned file, const struct csv_col *cols,
                   size_t ncols, const char *const *also, struct csv_table *t,
                   struct hub_err *err);

/* Find a header column by name (for recognising a file by its header). */
bool csv_header_has(const struct csv_ctx *c, unsigned file, const char *name);

/* Record a finding; an error marks the row bad. `col` is a layout column
 * index of t (or -1 for the whole row). */
void csv_row_error(struct csv_ctx *c, struct csv_table *t, size_t ri, int col,
                   const char *what);
/* A required value the row does not have: "required value is empty", or,
 * when the header has no such column (SHIN-NY's birth date, names and
 * start time are required in each row but not of the header, F4025),
 * "required column is missing": a sender told "empty" looks for cells
 * that are not there. */
void csv_row_required(struct csv_ctx *c, struct csv_table *t, size_t ri,
                      int col);
void csv_row_warn(struct csv_ctx *c, struct csv_table *t, size_t ri, int col,
                  const char *what);
void csv_finding(struct csv_ctx *c, unsigned file, size_t row, size_t hcol,
                 const char *column, enum csv_severity sev, const char *what);
/* Set *err (code) from `inner`, its field prefixed "file:" and its offset
 * the one in the bytes of `file` as they were sent (a translated file's
 * offset turned back). */
int csv_locate(struct csv_ctx *c, struct hub_err *err, int code,
               unsigned file, const struct hub_err *inner);

/* Note a rejected row for csv_report.rejected. */
void csv_reject_row(struct csv_ctx *c, unsigned file, size_t row,
                    size_t offset, struct slice raw);
/* Settle the row counters of a table once its rows have been processed. */
void csv_table_account(struct csv_ctx *c, const struct csv_table *t);

/* ---- value checks (csv_values.c, pure shape checks; csv_date.c) ------- */

/* ISO 8601 / FHIR dateTime: YYYY, YYYY-MM, YYYY-MM-DD, or a date with
 * Thh:mm[:ss[.fraction]] and an optional Z or +hh:mm offset. */
bool csv_is_datetime(struct slice s);
/* FHIR date: YYYY, YYYY-MM or YYYY-MM-DD, with real month and day. */
bool csv_is_date(struct slice s);
/* What csv_date_read made of a value (csv_date.c). */
enum csv_dt_form {
    CSV_DT_BAD,             /* no date it knows */
    CSV_DT_YY,              /* a two-digit year where a date is asked */
    CSV_DT_DAY_FIRST,       /* 25/12/2025: day first, not read */
    CSV_DT_OTHER,           /* ISO but for a space for T, '/', +hhmm */
    CSV_DT_US,              /* M/D/YYYY */
    CSV_DT_US_YY,           /* M/D/YY, read as 20YY */
    CSV_DT_SERIAL,          /* an Excel serial number */
};
#define CSV_DATE_MAX 48     /* room for csv_date_read's out */

/* Days between Excel's two date systems: a 1904-system serial is this
 * many days less than the 1900-system serial of the same date. */
#define CSV_SERIAL_1904 1462
/* The Excel serial (1900 system) of the date that ISO 8601 text starts
 * with ("2026-12-04T02:40:00Z": 46360), or 0 for NULL or no such date. */
long csv_serial_of(const char *iso);
/* The day number of an Excel serial as csv_date_read takes it (five
 * digits, maybe a fraction), or -1 when `v` is not one. */
long csv_serial_days(struct slice v);

/* A date-time (a FHIR date when date_only) as spreadsheets write it, in
 * ISO 8601 at out (CSV_DATE_MAX bytes, not NUL-terminated; *n its
 * length) for the forms from CSV_DT_OTHER on. Call it for a value that
 * csv_is_datetime (csv_is_date) refused. */
enum csv_dt_form csv_date_read(struct slice v, bool date_only, char *out,
                               size_t *n);

/*
 * Column `col` of row ri as ISO 8601: true, untouched, when it is empty or
 * one already (csv_is_datetime; csv_is_date when date_only); true when
 * csv_date_read can read it, rewritten in the row (in the arena), with a
 * warning once per file, column and form, at its first row; else false,
 * with an error finding: `bad`, or why its form was refused. An Excel
 * serial is read only when the file's serials are the 1900 system for
 * sure (csv_to_events_at); else it is refused as ambiguous, an error, or
 * with `bad` NULL (a column whose bad dates are warnings) a warning and
 * the value emptied.
 */
bool csv_date_fix(struct csv_ctx *c, struct csv_table *t, size_t ri, int col,
                  bool date_only, const char *bad);
static inline bool csv_date_col(struct csv_ctx *c, struct csv_table *t,
                                size_t ri, int col, bool date_only,
                                const char *bad)
{
    /* inline: most values are empty or ISO, and it runs for every row */
    struct slice v = t->rows[ri].v[col];
    if (v.len == 0 || (date_only ? csv_is_date(v) : csv_is_datetime(v)))
        return true;
    return csv_date_fix(c, t, ri, col, date_only, bad);
}

/* An identifier a spreadsheet turned into a number and rounded: written
 * in scientific notation ("1.23457E+11", "4.46151E+14"). Its digits are
 * lost, and ids that differed now read the same: linking by it would merge
 * patients, so the row is refused (CSV_ID_ROUNDED). */
bool csv_id_rounded_slow(struct slice s);
/* inline, the test that settles most ids (they start with a letter) */
static inline bool csv_id_rounded(struct slice s)
{
    return s.len >= 4 && (unsigned char)(s.p[0] - '0') < 10 &&
           csv_id_rounded_slow(s);
}
#define CSV_ID_ROUNDED "id is in scientific notation: a spreadsheet " \
                       "rounded it and its digits are lost"
/* A phone number so rounded (5.55556E+09) is no number to call: left out
 * of the patient, with this warning on its row (the row is used). */
#define CSV_PHONE_ROUNDED "phone is in scientific notation: a spreadsheet " \
                          "rounded it and its digits are lost; left out"

/* A decimal number as JSON writes it: -?digits(.digits)? */
bool csv_is_number(struct slice s);
/* Whole integer within int64 range. */
bool csv_parse_int(struct slice s, int64_t *out);
/* A number as a score: an integer, or a decimal (`11.0`, as a spreadsheet
 * formats a number cell) rounded, as FHIR and C-CDA score one (F4020). */
bool csv_parse_score(struct slice s, int64_t *out);
/* Administrative sex as sent ("male", "F", "unknown") -> "M","F","O","U",
 * or NULL when not recognised. */
const char *csv_sex_code(struct slice s);

/* ---- the patient block (csv_patient.c) -------------------------------- */

#define CSV_MAX_IDS 4

struct csv_ident {
    struct slice value;
    const char *system;     /* may be NULL */
    struct slice system_s;  /* used when system is NULL */
    const char *type;       /* "MR", "MA", "SS", or NULL */
};

struct csv_patient {
    struct csv_ident ids[CSV_MAX_IDS];
    size_t n_ids;
    struct slice family, given, middle, birth_date;
    const char *sex;
    struct slice line1, line2, city, state, postal_code, county;
    struct slice phone, phone_use;
};

void csv_write_patient(struct jw *w, const struct csv_patient *p);

/* ---- screenings ------------------------------------------------------- */

/* One row of a screening: an answered (or skipped) item. */
struct csv_scr_row {
    struct csv_table *t;
    size_t ri;              /* index into t->rows */
    int col_answer;         /* layout columns, for findings (-1: none) */
    int col_flag;
    int col_number;
    int col_absent;
    bool q_ambiguous;       /* its question's wording reads as two items */
    bool words_read;        /* answer: the code whose display `number`'s
                               words are (F2263) */
    bool total_in_answer;   /* number: a total's, sent in the answer
                               column (F2942) */
    struct slice question;
    struct slice answer;    /* answer code */
    struct slice number;    /* a numeric answer (SHIN-NY: the description
                               column of a calculated item) */
    struct slice absent;    /* data-absent reason code */
    struct slice flag;      /* sender's positivity: POS/NEG/Y/N/... */
};

struct csv_screening {
    struct slice id;                /* the sender's screening (panel) id */
    struct slice status;            /* as sent (SHIN-NY ScreeningProf) */
    struct slice language;          /* BCP-47, as sent (ScreeningProf) */
    struct slice encounter;         /* the sender's encounter id */
    struct slice instrument;
    struct slice instrument_name;   /* the sender's, if the dict has none */
    struct slice occurred_at;
    struct slice facility;
    const char *file_name;          /* for source.message_id */
    size_t first_row;
    size_t first_ri;                /* its first row's index in its table */
    const struct csv_patient *patient;
    struct {                        /* screening-level warnings */
        const char *field;
        const char *what;
    } pre[4];
    size_t n_pre;
    struct csv_scr_row *rows;
    size_t n;
    size_t cap;
};

/* Add a row; HUB_ELIMIT past CSV_MAX_SCREENING_ROWS. */
int csv_screening_add(struct arena *a, struct csv_screening *s,
                      const struct csv_scr_row *r);

/*
 * Score with the dictionary, compare with the sender's flags (warnings on
 * the event and in the report), write screening.completed and, when any
 * domain is positive, screening.positive; mark the rows used.
 */
int csv_screening_emit(struct csv_ctx *c, struct csv_screening *s,
                       struct hub_err *err);

/* ---- grouping and the report (csv_report.c) --------------------------- */

/* A map from keys (slices into the input) to indexes, for grouping rows
 * in linear time. Capacity fixed at init (a power of two, >= 2 * keys).
 * A slot is taken when its bit in `used` is set: only the bits are zeroed
 * at init (zeroing the keys, a slot for every row while the rows of a
 * screening share one, was a hundredth of the adapter). */
struct csv_map {
    struct slice *k;
    size_t *v;
    uint64_t *used;
    size_t cap;
};

void csv_map_init(struct arena *a, struct csv_map *m, size_t max_keys);
/* The index stored for `key`, or store `v` and return it. */
size_t csv_map_get_or_put(struct csv_map *m, struct slice key, size_t v);
/* The index for `key`, or (size_t)-1. */
size_t csv_map_get(const struct csv_map *m, struct slice key);

/* ---- events (csv_event.c) --------------------------------------------- */

/* `v` in decimal at `o` (room for 21 bytes), NUL-terminated; its length. */
size_t csv_put_uint(char *o, size_t v);
/* "file#row" in the arena: an event's source.message_id. */
const char *csv_message_id(struct arena *a, const char *file, size_t row);

/* Finish an event document and append it to c->out. */
int csv_push_event(struct csv_ctx *c, struct jw *w, const char *type,
                   struct hub_err *err);
/* Append a finished event document to c->out. */
int csv_push_json(struct csv_ctx *c, const char *type, struct slice json,
                  struct hub_err *err);

#endif
