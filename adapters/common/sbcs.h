/*
 * sbcs.h - the single-byte character sets of HL7 table 0211 past Latin-1
 * and Latin-9 ("8859/2" to "8859/9"), and the Windows code pages that
 * Central and Eastern European senders name ("CP1250", "CP1251"), read
 * into UTF-8. Latin-1, Windows-1252 and Latin-9 stay in utf8.h, on the
 * path most non-UTF-8 messages take.
 *
 * Each set is a table of the code points of bytes 0x80 to 0xff (ASCII is
 * itself in all of them). As the WHATWG Encoding Standard decodes them: a
 * byte a set leaves undefined is U+FFFD, but the C1 bytes of the ISO sets
 * and the unused ones of the Windows pages are the C1 code points, as
 * utf8.h's Windows-1252 has them. The tables were made from Python's
 * codecs and agree byte for byte with glibc iconv's.
 */
#ifndef HUB_SBCS_H
#define HUB_SBCS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/utf8.h"

/* The table of the set MSH-18 names in (p, len): a table 0211 code
 * ("8859/2") or an IANA name an engine writes ("ISO-8859-2", "latin2",
 * "windows-1250", "CP1250"; any case); NULL for any other name. */
const uint16_t *sbcs_by_name(const char *p, size_t len);

/* Bytes sbcs_to_utf8 writes for s[i] (a UTF-8 byte order mark is
 * copied). */
static inline size_t sbcs_utf8_width(const uint16_t *hi,
                                     const unsigned char *s, size_t n,
                                     size_t i)
{
    if (s[i] < 0x80 || (i < 3 && utf8_has_bom(s, n)))
        return 1;
    return hi[s[i] - 0x80] < 0x800 ? 2 : 3;
}

/* s (n bytes) in the set of `hi`, written as UTF-8 at o (room for 3n
 * bytes); a UTF-8 byte order mark is kept as it is. Returns the end. */
static inline char *sbcs_to_utf8(const uint16_t *hi, char *o,
                                 const unsigned char *s, size_t n)
{
    size_t i = 0;
    if (utf8_has_bom(s, n)) {
        memcpy(o, s, 3);
        o += 3;
        i = 3;
    }
    for (; i < n; i++)
        o = utf8_put(o, s[i] < 0x80 ? s[i] : hi[s[i] - 0x80]);
    return o;
}

/* An offset t into sbcs_to_utf8's output as an offset into s. */
static inline size_t sbcs_sent_offset(const uint16_t *hi,
                                      const unsigned char *s, size_t n,
                                      size_t t)
{
    size_t o = 0, u = 0;
    while (o < n && u < t)
        u += sbcs_utf8_width(hi, s, n, o++);
    return o;
}

#endif
