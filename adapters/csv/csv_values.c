/*
 * csv_values.c - the shapes of values every CSV layout checks (pure shape
 * checks, no clock): dates and date-times, and a spreadsheet's dates read
 * in place (csv_date_fix), ids a spreadsheet rounded, numbers, integers,
 * and administrative sex (the case-insensitive compare they share is
 * slice.h's slice_ieq).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/digits.h"
#include "csv/csv_int.h"

bool csv_is_date(struct slice s)
{
    if (s.len != 4 && s.len != 7 && s.len != 10)
        return false;
    if (!ascii_digits(s.p, 4))
        return false;
    if (s.len >= 7) {
        if (s.p[4] != '-' || !ascii_digits(s.p + 5, 2))
            return false;
        int m = ascii_num2(s.p + 5);
        if (m < 1 || m > 12)
            return false;
        if (s.len == 10) {
            if (s.p[7] != '-' || !ascii_digits(s.p + 8, 2))
                return false;
            static const int mdays[] = { 31, 29, 31, 30, 31, 30,
                                         31, 31, 30, 31, 30, 31 };
            int d = ascii_num2(s.p + 8);
            int y = (s.p[0] - '0') * 1000 + (s.p[1] - '0') * 100 +
                    ascii_num2(s.p + 2);
            bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            int max = m == 2 && !leap ? 28 : mdays[m - 1];
            if (d < 1 || d > max)
                return false;
        }
    }
    return true;
}

bool csv_is_datetime(struct slice s)
{
    if (s.len <= 10)
        return csv_is_date(s);
    if (!csv_is_date((struct slice){ s.p, 10 }) || s.p[10] != 'T')
        return false;
    const char *p = s.p + 11, *end = s.p + s.len;
    /* hh:mm */
    if (end - p < 5 || !ascii_digits(p, 2) || p[2] != ':' ||
        !ascii_digits(p + 3, 2))
        return false;
    if (ascii_num2(p) > 23 || ascii_num2(p + 3) > 59)
        return false;
    p += 5;
    if (p < end && *p == ':') {
        if (end - p < 3 || !ascii_digits(p + 1, 2) || ascii_num2(p + 1) > 60)
            return false;
        p += 3;
        if (p < end && *p == '.') {
            const char *f = ++p;
            while (p < end && *p >= '0' && *p <= '9')
                p++;
            if (p == f || p - f > 9)
                return false;
        }
    }
    if (p == end)
        return true;
    if (*p == 'Z')
        return p + 1 == end;
    if ((*p == '+' || *p == '-') && end - p == 6 && ascii_digits(p + 1, 2) &&
        p[3] == ':' && ascii_digits(p + 4, 2))
        return ascii_num2(p + 1) <= 14 && ascii_num2(p + 4) <= 59;
    return false;
}

/*
 * Whether the Excel serials of table t are the 1900 date system for sure:
 * one of them, in any of its date columns, read in the 1904 system (1,462
 * days later) would be after the upload's day (a day past it, for time
 * zones). A CSV carries no flag, and a workbook has one system for all
 * its dates: so one serial proves every other. Decided once, at the first
 * serial met, over all the table's rows.
 */
static bool serials_1900(const struct csv_ctx *c, struct csv_table *t)
{
    if (t->serial_1900 == 0) {
        long max = -1;
        for (size_t ri = 0; ri < t->n; ri++)
            for (size_t k = 0; k < t->ncols; k++)
                if (t->cols[k].date) {
                    long d = csv_serial_days(t->rows[ri].v[k]);
                    if (d > max)
                        max = d;
                }
        t->serial_1900 = c->upload_serial > 0 &&
                                 max + CSV_SERIAL_1904 > c->upload_serial + 1
                             ? 1
                             : -1;
    }
    return t->serial_1900 > 0;
}

#define SERIAL_AMBIGUOUS "Excel date serial, and none in the file is " \
                         "recent enough to tell the 1900 date system " \
                         "from the Mac 1904 one (4 years apart): write " \
                         "YYYY-MM-DD"

#define YY_FUTURE "two-digit year read as 20YY puts the date after the " \
                  "upload: write the year in full"

bool csv_date_fix(struct csv_ctx *c, struct csv_table *t, size_t ri, int col,
                  bool date_only, const char *bad)
{
    static const char *const warn[] = {
        [CSV_DT_OTHER] = "dates in this column not in ISO form (a space "
                         "for T, '/', +hhmm, +hh) read as ISO 8601 "
                         "(first such row)",
        [CSV_DT_US] = "M/D/YYYY dates in this column read as "
                      "month/day/year (first such row)",
        [CSV_DT_US_YY] = "M/D/YY dates in this column read as "
                         "month/day/20YY (first such row)",
        [CSV_DT_SERIAL] = "numbers in this column read as Excel date "
                          "serials, 1900 date system (first such row)",
    };
    struct slice *v = &t->rows[ri].v[col];
    char out[CSV_DATE_MAX];
    size_t n = 0;

    enum csv_dt_form f = csv_date_read(*v, date_only, out, &n);
    if (f == CSV_DT_BAD || f == CSV_DT_YY || f == CSV_DT_DAY_FIRST) {
        csv_row_error(c, t, ri, col,
                      f == CSV_DT_YY ? "two-digit year in a date: write "
                                       "the year in full"
                      : f == CSV_DT_DAY_FIRST
                          ? "date is day/month/year; dates with '/' are "
                            "read month/day/year: write YYYY-MM-DD"
                          : bad);
        return false;
    }
    if (f == CSV_DT_US_YY && c->upload_serial > 0 &&
        csv_serial_of(out) > c->upload_serial + 1) {
        /* 20YY after the upload cannot be when something happened (Excel
         * itself reads YY of 30 to 99 as 19YY); never read as 19YY either */
        if (bad == NULL) {
            csv_row_warn(c, t, ri, col, YY_FUTURE "; not used");
            *v = SLICE_NULL;
            return true;
        }
        csv_row_error(c, t, ri, col, YY_FUTURE);
        return false;
    }
    if (f == CSV_DT_SERIAL && !serials_1900(c, t)) {
        /* never shifted, never guessed: 4 years either way */
        if (bad == NULL) {
            csv_row_warn(c, t, ri, col, SERIAL_AMBIGUOUS "; not used");
            *v = SLICE_NULL;
            return true;
        }
        csv_row_error(c, t, ri, col, SERIAL_AMBIGUOUS);
        return false;
    }
    *v = (struct slice){ arena_strndup(c->a, out, n), n };
    if (!(t->dt_warned[col] & (1u << f))) {
        t->dt_warned[col] |= (uint8_t)(1u << f);
        csv_row_warn(c, t, ri, col, warn[f]);
    }
    return true;
}

bool csv_id_rounded_slow(struct slice s)
{
    size_t i = 0, d;
    while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9')
        i++;
    if (i < s.len && s.p[i] == '.')
        for (i++; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++)
            ;
    if (i >= s.len || (s.p[i] != 'E' && s.p[i] != 'e'))
        return false;
    if (++i < s.len && (s.p[i] == '+' || s.p[i] == '-'))
        i++;
    for (d = i; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++)
        ;
    return i == s.len && i > d;
}
bool csv_is_number(struct slice s)
{
    size_t i = 0;
    if (i < s.len && s.p[i] == '-')
        i++;
    size_t d = i;
    while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9')
        i++;
    if (i == d || i - d > 15)
        return false;
    if (s.p[d] == '0' && i - d > 1)
        return false;               /* JSON has no leading zeros */
    if (i < s.len && s.p[i] == '.') {
        size_t f = ++i;
        while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9')
            i++;
        if (i == f || i - f > 6)
            return false;
    }
    return i == s.len;
}

bool csv_parse_int(struct slice s, int64_t *out)
{
    char tmp[24];
    if (s.len == 0 || s.len >= sizeof(tmp))
        return false;
    memcpy(tmp, s.p, s.len);
    tmp[s.len] = '\0';
    if (!((tmp[0] >= '0' && tmp[0] <= '9') || tmp[0] == '-'))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || end == tmp || *end)
        return false;
    *out = v;
    return true;
}

bool csv_parse_score(struct slice s, int64_t *out)
{
    char tmp[24];
    if (csv_parse_int(s, out))
        return true;
    /* csv_is_number bounds it: 15 digits, a point, 6 more */
    if (!csv_is_number(s) || s.len >= sizeof(tmp))
        return false;
    memcpy(tmp, s.p, s.len);
    tmp[s.len] = '\0';
    *out = (int64_t)llround(strtod(tmp, NULL));
    return true;
}

const char *csv_sex_code(struct slice s)
{
    /* the first letter picks the words that can match (each list shares
     * it, in either case): one or two compares, not up to nine */
    switch (s.len ? s.p[0] | 0x20 : 0) {
    case 'm':
        return slice_ieq(s, "male") || slice_ieq(s, "m") ? "M" : NULL;
    case 'f':
        return slice_ieq(s, "female") || slice_ieq(s, "f") ? "F" : NULL;
    case 'o':
        return slice_ieq(s, "other") || slice_ieq(s, "o") ? "O" : NULL;
    case 'u':
        return slice_ieq(s, "unknown") || slice_ieq(s, "u") || slice_ieq(s, "unk")
                   ? "U"
                   : NULL;
    }
    return NULL;
}
