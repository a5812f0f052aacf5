/*
 * csv_read_test.c - the RFC 4180 reader: quoting, line ends, BOM, limits,
 * hostile input and incremental feeding.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "common/hub_err.h"
#include "csv/csv.h"

/*
 * Read all of `in` and render it: fields joined by '|', records by '\n',
 * a bad record as "!<col>:<what>", an empty one as "~". Returns the final
 * csv_read_row status (0 at a clean end).
 */
static int render(const char *in, size_t len, const struct csv_limits *lim,
                  char *out, size_t cap, struct hub_err *err)
{
    struct arena a;
    struct csv_reader r;
    struct csv_row row;
    size_t k = 0;
    int rc;

    arena_init(&a, 4096);
    csv_reader_init(&r, &a, 0, lim);
    csv_reader_feed(&r, in, len, true);
    out[0] = '\0';
    while ((rc = csv_read_row(&r, &row, err)) == 1) {
        char tmp[256];
        size_t t = 0;
        if (row.err) {
            int m = snprintf(tmp, sizeof(tmp), "!%zu:%s", row.err_col,
                             row.err_what);
            t = (size_t)m;
        } else if (row.empty) {
            tmp[t++] = '~';
        } else {
            for (size_t i = 0; i < row.n && t < 200; i++) {
                if (i)
                    tmp[t++] = '|';
                size_t l = row.f[i].len < 40 ? row.f[i].len : 40;
                memcpy(tmp + t, row.f[i].p, l);
                t += l;
            }
        }
        if (k + t + 2 < cap) {
            memcpy(out + k, tmp, t);
            k += t;
            out[k++] = '\n';
            out[k] = '\0';
        }
    }
    arena_release(&a);
    return rc;
}

#define RENDER(lit, want)                                                     \
    do {                                                                      \
        char out_[1024];                                                      \
        struct hub_err e_ = { 0 };                                            \
        int rc_ = render(lit, sizeof(lit) - 1, NULL, out_, sizeof(out_), &e_); \
        cr_assert_eq(rc_, 0, "rc %d (%s at %s)", rc_, e_.what, e_.field);     \
        cr_assert_str_eq(out_, want);                                         \
    } while (0)

Test(csv_read, splits_plain_records_with_crlf)
{
    RENDER("a,b,c\r\n1,2,3\r\n", "a|b|c\n1|2|3\n");
}

Test(csv_read, accepts_lf_lone_cr_and_a_missing_final_line_end)
{
    RENDER("a,b\n1,2\r3,4\r\n5,6", "a|b\n1|2\n3|4\n5|6\n");
}

Test(csv_read, keeps_commas_newlines_and_doubled_quotes_inside_quotes)
{
    RENDER("a,b\r\n\"x, y\",\"line1\r\nline2\"\r\n\"say \"\"hi\"\"\",\"\"\r\n",
           "a|b\nx, y|line1\r\nline2\nsay \"hi\"|\n");
}

Test(csv_read, counts_rows_as_records_and_lines_as_lines)
{
    struct arena a;
    struct csv_reader r;
    struct csv_row row;
    struct hub_err err;
    static const char in[] = "h1,h2\n\"a\nb\nc\",x\nlast,y\n";

    arena_init(&a, 1024);
    csv_reader_init(&r, &a, 0, NULL);
    csv_reader_feed(&r, in, sizeof(in) - 1, true);
    cr_assert_eq(csv_read_row(&r, &row, &err), 1);
    cr_assert_eq(csv_read_row(&r, &row, &err), 1);
    cr_assert_eq(row.row, 2);
    cr_assert_eq(row.line, 2);
    cr_assert_eq(csv_read_row(&r, &row, &err), 1);
    cr_assert_eq(row.row, 3);
    cr_assert_eq(row.line, 5);
    cr_assert_eq(row.offset, 16);
    cr_assert_eq(csv_read_row(&r, &row, &err), 0);
    arena_release(&a);
}

Test(csv_read, skips_a_utf8_bom_before_the_header)
{
    RENDER("\xEF\xBB\xBFid,v\r\n1,2\r\n", "id|v\n1|2\n");
}

Test(csv_read, bom_only_and_empty_input_have_no_records)
{
    RENDER("\xEF\xBB\xBF", "");
    RENDER("", "");
}

Test(csv_read, marks_trailing_all_empty_rows_as_empty_not_as_mismatched)
{
    RENDER("a,b,c\r\n1,2,3\r\n,,\r\n,\r\n\r\n", "a|b|c\n1|2|3\n~\n~\n~\n");
}

Test(csv_read, reports_more_and_fewer_columns_than_the_header_by_column)
{
    RENDER("a,b,c\n1,2,3,4\n1,2\n9,9,9\n",
           "a|b|c\n!4:row has more columns than the header\n"
           "!3:row has fewer columns than the header\n9|9|9\n");
}

Test(csv_read, keeps_an_empty_last_field_after_a_trailing_comma)
{
    RENDER("a,b\n1,\n", "a|b\n1|\n");
}

Test(csv_read, refuses_an_unterminated_quote_naming_its_row_and_column)
{
    char out[256];
    struct hub_err err = { 0 };
    static const char in[] = "a,b\r\n1,2\r\n3,\"never closed\r\n4,5\r\n";

    int rc = render(in, sizeof(in) - 1, NULL, out, sizeof(out), &err);
    cr_assert_eq(rc, HUB_ESYNTAX);
    cr_assert_str_eq(err.field, "row 3 col 2");
    cr_assert_eq(err.offset, 12);
    cr_assert_str_eq(err.what, "quoted field is not terminated");
}

/* 5'10" and 12" TV: a quote that cannot open a quoted field is text, as
 * spreadsheets read it; the record says so by column. */
Test(csv_read, keeps_a_quote_inside_an_unquoted_field_as_text_with_a_warning)
{
    RENDER("a,b\nx,5'10\"\ny,z\n", "a|b\nx|5'10\"\ny|z\n");

    struct arena a;
    struct csv_reader r;
    struct csv_row row;
    struct hub_err err = { 0 };
    static const char in[] = "a,b,c\n12\" TV,x\"y\"z,w\n";
    arena_init(&a, 4096);
    csv_reader_init(&r, &a, 0, NULL);
    csv_reader_feed(&r, in, sizeof(in) - 1, true);
    cr_assert_eq(csv_read_row(&r, &row, &err), 1);
    cr_assert_null(row.warn_what);
    cr_assert_eq(csv_read_row(&r, &row, &err), 1);
    cr_assert_eq(row.err, HUB_OK);
    cr_assert_eq(row.n, 3);
    cr_assert_eq(row.warn_col, 1, "the first such column");
    cr_assert_str_eq(row.warn_what, "quote inside an unquoted field; kept "
                                    "as text");
    cr_assert_eq(row.f[1].len, 5);
    cr_assert(memcmp(row.f[1].p, "x\"y\"z", 5) == 0);
    arena_release(&a);
}

/* Excel's ="00123" (a formula keeping leading zeros), unquoted or quoted
 * ("=""00123"""), is its text, with no stray-quote warning; only that exact
 * form: =00123, ="a""b" and spaces around it stay as written. */
Test(csv_read, reads_excel_text_formulas_as_their_text_and_only_that_form)
{
    RENDER("a,b,c\n=\"00123\",\"=\"\"0456\"\"\",=\"\"\n",
           "a|b|c\n00123|0456|\n");
    RENDER("a,b,c,d\n=00123,\"=\"\"a\"\"\"\"b\"\"\", =\"1\",=\"2\"x\n",
           "a|b|c|d\n=00123|=\"a\"\"b\"| =\"1\"|=\"2\"x\n");

    struct arena a;
    struct csv_reader r;
    struct csv_row row;
    struct hub_err err = { 0 };
    static const char in[] = "a,b\n=\"00123\",=\"x\"y\"\n";
    arena_init(&a, 4096);
    csv_reader_init(&r, &a, 0, NULL);
    csv_reader_feed(&r, in, sizeof(in) - 1, true);
    cr_assert_eq(csv_read_row(&r, &row, &err), 1);
    cr_assert_eq(csv_read_row(&r, &row, &err), 1);
    cr_assert_eq(row.f[0].len, 5);
    cr_assert(memcmp(row.f[0].p, "00123", 5) == 0);
    cr_assert_eq(row.warn_col, 2, "not the formula; the quote inside x\"y");
    cr_assert_str_eq(row.warn_what, "quote inside an unquoted field; kept "
                                    "as text");
    cr_assert_eq(row.f[1].len, 6);
    arena_release(&a);
}

Test(csv_read, reports_text_after_a_closing_quote_and_resynchronizes)
{
    RENDER("a,b\n\"x\"y,2\n3,4\n",
           "a|b\n!1:text after a closing quote\n3|4\n");
}

Test(csv_read, reports_nul_bytes_by_column)
{
    static const char in[] = "a,b\n1,x\0y\n\"q\0\",2\n";
    char out[256];
    struct hub_err err;
    cr_assert_eq(render(in, sizeof(in) - 1, NULL, out, sizeof(out), &err), 0);
    cr_assert_str_eq(out, "a|b\n!2:field contains a NUL byte\n"
                          "!1:field contains a NUL byte\n");
}

Test(csv_read, reports_a_field_over_the_length_limit_and_accepts_one_at_it)
{
    struct csv_limits lim;
    char out[256];
    struct hub_err err;
    csv_limits_default(&lim);
    lim.max_field = 4;
    static const char in[] = "a,b\n1234,\"1234\"\n12345,x\nx,\"12345\"\n";
    cr_assert_eq(render(in, sizeof(in) - 1, &lim, out, sizeof(out), &err), 0);
    cr_assert_str_eq(out, "a|b\n1234|1234\n!1:field is longer than the limit\n"
                          "!2:field is longer than the limit\n");
}

Test(csv_read, refuses_a_header_wider_than_the_column_limit)
{
    struct csv_limits lim;
    char out[256];
    struct hub_err err = { 0 };
    csv_limits_default(&lim);
    lim.max_cols = 3;
    static const char ok[] = "a,b,c\n1,2,3\n";
    cr_assert_eq(render(ok, sizeof(ok) - 1, &lim, out, sizeof(out), &err), 0);
    static const char wide[] = "a,b,c,d\n1,2,3,4\n";
    cr_assert_eq(render(wide, sizeof(wide) - 1, &lim, out, sizeof(out), &err),
                 HUB_ELIMIT);
    cr_assert_str_eq(err.field, "row 1 col 4");
}

Test(csv_read, reports_a_data_row_wider_than_the_column_limit)
{
    struct csv_limits lim;
    char out[256];
    struct hub_err err = { 0 };
    csv_limits_default(&lim);
    lim.max_cols = 2;
    static const char in[] = "a,b\n1,2,3,4,5\n6,7\n";
    cr_assert_eq(render(in, sizeof(in) - 1, &lim, out, sizeof(out), &err), 0);
    cr_assert_str_eq(out, "a|b\n!3:more columns than the limit\n6|7\n");
}

Test(csv_read, refuses_one_row_past_the_row_limit_and_accepts_the_limit)
{
    struct csv_limits lim;
    char out[256];
    struct hub_err err = { 0 };
    csv_limits_default(&lim);
    lim.max_rows = 3;
    static const char three[] = "h\n1\n2\n";
    cr_assert_eq(
        render(three, sizeof(three) - 1, &lim, out, sizeof(out), &err), 0);
    static const char four[] = "h\n1\n2\n3\n";
    cr_assert_eq(render(four, sizeof(four) - 1, &lim, out, sizeof(out), &err),
                 HUB_ELIMIT);
    cr_assert_str_eq(err.field, "row 4");
}

Test(csv_read, refuses_input_larger_than_the_byte_limit)
{
    struct csv_limits lim;
    char out[256];
    struct hub_err err = { 0 };
    csv_limits_default(&lim);
    lim.max_bytes = 5;
    cr_assert_eq(render("a,b\n1,2\n", 8, &lim, out, sizeof(out), &err),
                 HUB_ELIMIT);
}

Test(csv_read, uses_the_delimiter_it_is_given)
{
    struct arena a;
    struct csv_reader r;
    struct csv_row row;
    struct hub_err err;
    static const char in[] = "a|b\n\"x|y\"|z,w\n";

    arena_init(&a, 1024);
    csv_reader_init(&r, &a, '|', NULL);
    csv_reader_feed(&r, in, sizeof(in) - 1, true);
    cr_assert_eq(csv_read_row(&r, &row, &err), 1);
    cr_assert_eq(csv_read_row(&r, &row, &err), 1);
    cr_assert_eq(row.n, 2);
    cr_assert_eq(row.f[0].len, 3);
    cr_assert_eq(row.f[1].len, 3);
    arena_release(&a);
}

/* Feed the input cut at every byte; the records must come out the same. */
Test(csv_read, gives_the_same_records_when_fed_cut_at_every_byte)
{
    static const char in[] = "\xEF\xBB\xBFh1,h2\r\n\"a\"\"b\",\"c\r\nd\"\r\n"
                             "e,f\rg,\"\"\r\nlast,\"q\"";
    const size_t len = sizeof(in) - 1;
    char want[512];
    struct hub_err err;
    cr_assert_eq(render(in, len, NULL, want, sizeof(want), &err), 0);

    for (size_t cut = 0; cut <= len; cut++) {
        struct arena a;
        struct csv_reader r;
        struct csv_row row;
        char got[512];
        size_t k = 0;
        int rc;

        arena_init(&a, 1024);
        csv_reader_init(&r, &a, 0, NULL);
        csv_reader_feed(&r, in, cut, false);
        got[0] = '\0';
        bool fed_all = false;
        for (;;) {
            rc = csv_read_row(&r, &row, &err);
            if (rc == HUB_ESHORT) {
                cr_assert(!fed_all);
                csv_reader_feed(&r, in, len, true);
                fed_all = true;
                continue;
            }
            if (rc != 1)
                break;
            for (size_t i = 0; i < row.n; i++) {
                if (i)
                    got[k++] = '|';
                memcpy(got + k, row.f[i].p, row.f[i].len);
                k += row.f[i].len;
            }
            got[k++] = '\n';
            got[k] = '\0';
        }
        cr_assert_eq(rc, 0, "cut %zu", cut);
        cr_assert_str_eq(got, want, "cut %zu", cut);
        arena_release(&a);
    }
}

Test(csv_read, says_need_more_for_an_open_quote_before_final_input)
{
    struct arena a;
    struct csv_reader r;
    struct csv_row row;
    struct hub_err err;
    static const char in[] = "a\n\"open";

    arena_init(&a, 1024);
    csv_reader_init(&r, &a, 0, NULL);
    csv_reader_feed(&r, in, sizeof(in) - 1, false);
    cr_assert_eq(csv_read_row(&r, &row, &err), 1);
    cr_assert_eq(csv_read_row(&r, &row, &err), HUB_ESHORT);
    cr_assert_eq(csv_read_row(&r, &row, &err), HUB_ESHORT);
    csv_reader_feed(&r, in, sizeof(in) - 1, true);
    cr_assert_eq(csv_read_row(&r, &row, &err), HUB_ESYNTAX);
    /* sticky */
    cr_assert_eq(csv_read_row(&r, &row, &err), HUB_ESYNTAX);
    arena_release(&a);
}

/* Blank records above the header (hand edits, some exports) are records
 * (the rows keep their spreadsheet numbers), and the header is the first
 * one that is not blank: the rows after it are measured against it. */
Test(csv_read, takes_the_first_record_that_is_not_blank_as_the_header)
{
    RENDER("\r\n,,\r\na,b,c\r\n1,2,3\r\n4,5\r\n",
           "~\n~\na|b|c\n1|2|3\n!3:row has fewer columns than the header\n");
}

/* Spaces and tabs alone are blank as `,,` is (the layouts trim values of
 * them): a line of spaces above the header was taken as the header (the
 * file refused, every required column "missing"), one below it or `  ,
 * ,` was a rejected row; and so is DOS's end-of-file, Ctrl-Z, that
 * `copy a.csv+b.csv` appends to files it joins (F4026). A field of spaces
 * in a row of text is kept for the layout to trim. */
Test(csv_read, takes_records_of_spaces_tabs_and_a_ctrl_z_as_blank)
{
    RENDER("   \r\na,b,c\r\n1,2,3\r\n \t \r\n , ,\r\n\x1a",
           "~\na|b|c\n1|2|3\n~\n~\n~\n");
    RENDER("a,b\r\n ,2\r\n", "a|b\n |2\n");
}

/* ... and one right after the last record, no line end between (a file
 * whose last line has none, joined by `copy`), ends the input: it was the
 * last value's last byte, or "text after a closing quote" refused the
 * row (F4142). A Ctrl-Z inside a value is the sender's byte. */
Test(csv_read, a_ctrl_z_after_the_last_record_ends_the_input)
{
    RENDER("a,b\r\n1,2\x1a", "a|b\n1|2\n");
    RENDER("a,b\r\n1,\"12 Main St\"\x1a", "a|b\n1|12 Main St\n");
    RENDER("a,b\r\n1,2\x1a" "3\r\n", "a|b\n1|2\x1a" "3\n");
}
