/*
 * csv_date.c - dates as spreadsheets write them, read into ISO 8601.
 *
 * A CSV opened in Excel and saved again has its ISO dates rewritten in the
 * user's display format, and cells formatted as numbers give the date's
 * serial number. These are read, each to one ISO form:
 *
 *   2026-01-02 10:00[:00]      the ISO date and time with a space for T
 *                              (databases, Excel's custom formats)
 *   2026/01/02                 year first with '/' (East Asian Excel)
 *   1/2/2026, 01/02/2026       month/day/year: en-US Excel, which New York
 *                              senders use; a first number over 12 is a
 *                              day-first date, refused, never swapped
 *   1/2/26                     two-digit year: 20YY for when something
 *                              happened; refused for a birth date (1926 or
 *                              2026 cannot be told)
 *   ... 1:05 PM, 13:05[:07]    a time after any of these, 12- or 24-hour
 *   45341, 45341.5             an Excel serial: days since 1899-12-30 (the
 *                              1900 date system, Excel's default on Windows
 *                              and Mac since 2011); five digits only, as a
 *                              four-digit number is a year
 *   ...T10:00:00+0500          an offset without its colon
 *   ...T10:00:00+05            an offset of hours alone (PostgreSQL)
 *
 * A date (birth date) takes a time only when it is midnight ("1/2/1985
 * 0:00", as Excel writes a date cell typed as date-time). Pure: no clock.
 */
#include <stdint.h>
#include <string.h>

#include "csv/csv_int.h"

struct rd {
    const char *p, *end;
};

/* 1 to `max` digits; their value, or -1. */
static int num(struct rd *r, int max)
{
    int v = 0, k = 0;
    while (r->p < r->end && k < max && *r->p >= '0' && *r->p <= '9') {
        v = v * 10 + (*r->p++ - '0');
        k++;
    }
    return k ? v : -1;
}

/* exactly n digits, or -1 */
static int digits_n(struct rd *r, int n)
{
    const char *s = r->p;
    int v = num(r, n);
    return r->p - s == n ? v : -1;
}

static bool eat(struct rd *r, char ch)
{
    if (r->p < r->end && *r->p == ch) {
        r->p++;
        return true;
    }
    return false;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool valid_ymd(int y, int m, int d)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31 };
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= (m == 2 && !leap(y) ? 28 : mdays[m - 1]);
}

static char *put2(char *o, int v)
{
    *o++ = (char)('0' + v / 10 % 10);
    *o++ = (char)('0' + v % 10);
    return o;
}

static char *put_date(char *o, int y, int m, int d)
{
    o = put2(o, y / 100);
    o = put2(o, y % 100);
    *o++ = '-';
    o = put2(o, m);
    *o++ = '-';
    return put2(o, d);
}

/* A time after a date: " h:mm[:ss][ AM|PM]" (24-hour without AM/PM), or
 * nothing. *h is -1 when there is none; false when it is malformed. */
static bool read_time(struct rd *r, int *h, int *mi, int *s)
{
    *h = -1;
    if (r->p == r->end)
        return true;
    if (!eat(r, ' '))
        return false;
    while (eat(r, ' '))
        ;
    *h = num(r, 2);
    if (*h < 0 || !eat(r, ':') || (*mi = digits_n(r, 2)) < 0)
        return false;
    *s = 0;
    if (eat(r, ':') && (*s = digits_n(r, 2)) < 0)
        return false;
    while (eat(r, ' '))
        ;
    if (r->p < r->end) {
        char a = (char)(*r->p | 0x20);
        if ((a != 'a' && a != 'p') || r->end - r->p != 2 ||
            (r->p[1] | 0x20) != 'm')
            return false;
        if (*h < 1 || *h > 12)
            return false;
        *h = *h % 12 + (a == 'p' ? 12 : 0);
        r->p = r->end;
    }
    return *h <= 23 && *mi <= 59 && *s <= 59;
}

/* Days since 1899-12-30 to y, m, d (days >= 61: past the 1900 leap-day
 * bug, and every five-digit serial is). */
static void serial_date(long days, int *y, int *m, int *d)
{
    /* civil from days (Howard Hinnant's algorithm), epoch 1970-01-01 */
    long z = days - 25569 + 719468;
    long era = z / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

long csv_serial_of(const char *iso)
{
    struct rd r = { iso, iso ? iso + strnlen(iso, 10) : NULL };
    if (iso == NULL)
        return 0;
    int y = digits_n(&r, 4), m, d;
    if (y < 0 || !eat(&r, '-') || (m = digits_n(&r, 2)) < 0 ||
        !eat(&r, '-') || (d = digits_n(&r, 2)) < 0 || !valid_ymd(y, m, d))
        return 0;
    /* days from civil (Howard Hinnant's algorithm), epoch 1970-01-01,
     * which is serial 25569 */
    long yy = y - (m <= 2);
    long era = (yy >= 0 ? yy : yy - 399) / 400;
    long yoe = yy - era * 400;
    long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468 + 25569;
}

long csv_serial_days(struct slice v)
{
    size_t i = 0;
    while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9')
        i++;
    if (i != 5 || (i < v.len && v.p[i] != '.'))
        return -1;
    struct rd r = { v.p, v.p + 5 };
    return num(&r, 5);
}

/* Whether a date-time (its T at 10) ends in an offset of hours alone,
 * +hh or -hh, as PostgreSQL writes a timestamptz ("...10:00:00+00"). */
static bool hours_offset(const char *s, size_t len)
{
    return len >= 16 && s[10] == 'T' &&
           (s[len - 3] == '+' || s[len - 3] == '-') &&
           s[len - 2] >= '0' && s[len - 2] <= '9' && s[len - 1] >= '0' &&
           s[len - 1] <= '9';
}

/*
 * Year first, ISO but for what spreadsheets and databases change: '/' for
 * '-', a space for T, an offset +hhmm or +hh. The rewriting must then be ISO
 * (csv_is_datetime checks the rest: fraction, Z, offset); for a date, a
 * time is dropped when it is midnight.
 */
static enum csv_dt_form year_first(struct slice v, bool date_only, char *out,
                                   size_t *n)
{
    size_t len = v.len;
    memcpy(out, v.p, len);
    if (len >= 10 && out[4] == '/' && out[7] == '/')
        out[4] = out[7] = '-';
    if (len > 10 && (out[10] == ' ' || out[10] == 't'))
        out[10] = 'T';
    if (len >= 21 && (out[len - 5] == '+' || out[len - 5] == '-') &&
        out[len - 3] != ':') {
        out[len] = out[len - 1];
        out[len - 1] = out[len - 2];
        out[len - 2] = ':';
        len++;
    } else if (len + 3 <= CSV_DATE_MAX && hours_offset(out, len)) {
        memcpy(out + len, ":00", 3);    /* PostgreSQL's +00, -04 (F2401) */
        len += 3;
    }
    struct slice w = { out, len };
    if (!csv_is_datetime(w))
        return CSV_DT_BAD;
    if (date_only && len > 10) {
        /* midnight only, and no offset: 00:00[:00[.000...]] */
        for (size_t i = 11; i < len; i++)
            if (out[i] != '0' && out[i] != ':' && out[i] != '.')
                return CSV_DT_BAD;
        len = 10;
    }
    *n = len;
    return CSV_DT_OTHER;
}

enum csv_dt_form csv_date_read(struct slice v, bool date_only, char *out,
                               size_t *n)
{
    struct rd r = { v.p, v.p + v.len };
    int y = -1, m = -1, d = -1, h = -1, mi = 0, s = 0;
    enum csv_dt_form form;
    char *o = out;

    if (v.len == 0 || v.len >= CSV_DATE_MAX)
        return CSV_DT_BAD;
    const char *q = v.p;
    while (q < r.end && *q >= '0' && *q <= '9')
        q++;
    if (q - v.p == 5 && (q == r.end || *q == '.')) {
        /* an Excel serial, maybe with the time as a fraction of a day */
        long days = num(&r, 5);
        long sec = 0;
        if (eat(&r, '.')) {
            /* the time as a fraction of a day, to the nearest second */
            uint64_t f = 0, den = 1;
            while (r.p < r.end && *r.p >= '0' && *r.p <= '9' &&
                   den < 1000000000u) {
                f = f * 10 + (uint64_t)(*r.p++ - '0');
                den *= 10;
            }
            if (den == 1 || r.p != r.end)
                return CSV_DT_BAD;
            sec = (long)((f * 86400 + den / 2) / den);
            if (sec >= 86400) {
                days++;
                sec = 0;
            }
        }
        serial_date(days, &y, &m, &d);
        if (sec) {
            h = (int)(sec / 3600);
            mi = (int)(sec / 60 % 60);
            s = (int)(sec % 60);
        }
        form = CSV_DT_SERIAL;
    } else if (q - v.p == 4 && q < r.end && (*q == '-' || *q == '/')) {
        return year_first(v, date_only, out, n);
    } else if (q - v.p >= 1 && q - v.p <= 2 && q < r.end && *q == '/') {
        m = num(&r, 2);
        r.p++;
        if ((d = num(&r, 2)) < 0 || !eat(&r, '/'))
            return CSV_DT_BAD;
        const char *ys = r.p;
        y = num(&r, 4);
        if (r.p - ys == 2) {
            if (date_only)
                return CSV_DT_YY;
            y += 2000;
            form = CSV_DT_US_YY;
        } else if (r.p - ys == 4) {
            form = CSV_DT_US;
        } else {
            return CSV_DT_BAD;
        }
        if (m > 12 && d <= 12)
            return CSV_DT_DAY_FIRST;
        if (!read_time(&r, &h, &mi, &s))
            return CSV_DT_BAD;
    } else {
        return CSV_DT_BAD;
    }
    if (!valid_ymd(y, m, d))
        return CSV_DT_BAD;
    if (date_only && h >= 0 && (h || mi || s))
        return CSV_DT_BAD;
    o = put_date(o, y, m, d);
    if (h >= 0 && !date_only) {
        *o++ = 'T';
        o = put2(o, h);
        *o++ = ':';
        o = put2(o, mi);
        *o++ = ':';
        o = put2(o, s);
    }
    *n = (size_t)(o - out);
    return form;
}
