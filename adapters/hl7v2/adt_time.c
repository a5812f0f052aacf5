/*
 * adt_time.c - the slow paths of HL7 DTM to ISO 8601 (adt_time.h has the
 * fast one): a DTM field written in the ISO 8601 extended form, read as
 * the DTM it spells with a warning, and the warning for a value that
 * stays unread. Out of line, so that the writers' inline path stays small.
 */
#include "hl7v2/adt_time.h"

/*
 * The ISO 8601 extended form some senders put in a DTM field (the NHS
 * Wales PAS: MSH-7 "2025-05-05 23:23:32", PID-29 "2024-12-31"): YYYY-MM,
 * YYYY-MM-DD, or YYYY-MM-DD, 'T' or a space, HH:MM[:SS[.S[S[S[S]]]]] and
 * an offset Z, +/-HH:MM or +/-HHMM. HL7 v2 has no such form (DTM is
 * digits only), but every field of it is the DTM's, in the same order,
 * so it is read as the DTM it spells (the caller warns); anything else,
 * a date in another order or a time without minutes, stays unread.
 * Out of line: only a value iso_time refused comes here. Returns as
 * iso_time.
 */
ADT_FN __attribute__((noinline)) int adt_iso_time_ext(char o[ISO_MAX],
                                                      struct slice v,
                                                      int date_only,
                                                      size_t *out_len)
{
    /* the longest form, YYYY-MM-DDTHH:MM:SS.SSSS+HH:MM, is 30 bytes */
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    char dtm[32];
    const char *p = v.p;
    size_t n = v.len, i = 0, k = 0;
    if (n < 7 || n > 30 || p[4] != '-')
        return -1;
    /* digits and separators as the shape says, as far as the value goes:
     * to the month, the day, the minute or the second */
    for (; i < n && i < sizeof(shape) - 1; i++) {
        char want = shape[i];
        if (want == 'd') {
            if (p[i] < '0' || p[i] > '9')
                return -1;
            dtm[k++] = p[i];
        } else if (want == 'T') {
            if (p[i] != 'T' && p[i] != ' ')
                return -1;
        } else if (p[i] != want) {
            if (i == 16 && (p[i] == '+' || p[i] == '-' || p[i] == 'Z'))
                break;              /* HH:MM then the offset */
            return -1;
        }
    }
    if (!(i == 7 || i == 10 || i == 16 || i == 19))
        return -1;
    if (i == 19 && i < n && p[i] == '.') {
        size_t f = 0;
        dtm[k++] = p[i++];
        while (i < n && p[i] >= '0' && p[i] <= '9' && f < 4) {
            dtm[k++] = p[i++];
            f++;
        }
        if (f == 0)
            return -1;
    }
    if (i < n) {
        if (i < 16)
            return -1;              /* an offset needs a time */
        if (p[i] == 'Z' && i + 1 == n) {
            memcpy(dtm + k, "+0000", 5);
            k += 5;
        } else if ((p[i] == '+' || p[i] == '-') &&
                   (n - i == 5 || (n - i == 6 && p[i + 3] == ':'))) {
            dtm[k++] = p[i];
            dtm[k++] = p[i + 1];
            dtm[k++] = p[i + 2];
            dtm[k++] = p[n - 2];
            dtm[k++] = p[n - 1];
            /* iso_time checks that the four are digits */
        } else {
            return -1;
        }
    }
    /* the digits and ranges are iso_time's to check, as for any DTM */
    return iso_time(o, (struct slice){ dtm, k }, date_only, out_len);
}

/* The ISO time of DTM v at `iso`, or -1 (and a warning) when it is
 * malformed; one in the ISO extended form is taken with a warning. With
 * field NULL nothing is warned: a caller that only asks whether v reads. */
ADT_FN __attribute__((noinline)) int adt_iso_time_repair(struct ctx *c,
                                                         char *iso,
                                                         struct slice v,
                                                         const char *field,
                                                         int date_only,
                                                         size_t *len)
{
    /* NHS Wales's PIMS ends its dates with an offset sign and no offset
     * ("20000101+^D" in PID-7): the value before the sign is whole and
     * the sign says nothing, so it is read without it, with a warning;
     * left out, every PIMS patient lost the birth date */
    char sign = v.len > 8 ? v.p[v.len - 1] : 0;
    bool bare = sign == '+' || sign == '-';
    /* a whole date at least, digits alone (and a fraction's point): not
     * "2025-" (an ISO date cut short), not a second offset */
    for (size_t k = 0; bare && k + 1 < v.len; k++)
        bare = (v.p[k] >= '0' && v.p[k] <= '9') || v.p[k] == '.';
    if (bare &&
        iso_time(iso, (struct slice){ v.p, v.len - 1 }, date_only, len) == 0) {
        if (field)
            adt_warn(c, field,
                     date_only ? "date ends in an offset sign without an"
                                 " offset: read as the date before it"
                               : "timestamp ends in an offset sign"
                                 " without an offset: read as the time"
                                 " before it");
        return 0;
    }
    if (adt_iso_time_ext(iso, v, date_only, len) == 0) {
        if (field)
            adt_warn(c, field, date_only ? "date in ISO 8601 form, not an HL7"
                                           " date: read as the date it spells"
                                         : "timestamp in ISO 8601 form, not an"
                                           " HL7 DTM: read as the time it"
                                           " spells");
        return 0;
    }
    if (field)
        adt_warn(c, field, date_only ? "date is not an HL7 date"
                                     : "timestamp is not an HL7 DTM");
    return -1;
}

ADT_FN bool adt_msh_time_once(struct ctx *c, char sent[ISO_MAX], size_t *slen)
{
    if (*slen)
        return true;
    struct slice t = msh_text(c, msh_raw(c, 7, true)).s;
    return iso_time(sent, t, 1, slen) >= 0 ||
           adt_iso_time_ext(sent, t, 1, slen) >= 0;
}
