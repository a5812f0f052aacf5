/*
 * hl7v2_variants_test.c - one message written another legal way gives the
 * same canonical events. Every message of tests/data/hl7v2 and
 * tests/data/real/hl7v2 that the adapter accepts is sent again
 *   - with other delimiters: MSH-1 and each MSH-2 character replaced by a
 *     character the message does not use (v2.5.1 ch. 2.5.4: the sender
 *     chooses them, so the escape sequences keep their meaning);
 *   - with LF, and with CRLF, after each segment (ch. 2.5.1 says CR; the
 *     hub takes all three, as senders' files have them);
 *   - with a Z segment after each segment (ch. 2.8.2: a site's own
 *     segments may come anywhere, and the hub passes over them), and with
 *     standard segments that say nothing it reads (NK1, a PV2 with no
 *     PV2-22, OBX, AL1, ROL, GT1, IN1) between the others (a PV2 before
 *     PID beside the visit's own: every PV2 is read, F1920);
 *   - with empty fields added at each segment's end (ch. 2.5.3: trailing
 *     delimiters may be sent or left out, to the same meaning);
 *   - with the vowels of 24 fields (the sending application and
 *     facility, names, addresses, doctors, locations, codes, the diagnosis
 *     text) sent as \Xhh\ escapes (ch. 2.7.4: the same text);
 *   - with "^^" after the values of composite fields, and with spaces
 *     after every value, as fixed-width systems pad them;
 *   - in ISO 8859-1 with MSH-18 saying so, when it is UTF-8 with letters
 *     past ASCII that Latin-1 holds;
 *   - with v2.7's truncation character '#' as a fifth character of MSH-2.
 * Each variant must give what the message as sent gives, compared as JSON,
 * and a message that is refused must be refused for the same reason at the
 * same field. A difference would be code that assumes '|' or '^', or a
 * reader that runs past a segment's end: what a real sender with its own
 * choices would meet first.
 */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/testdb.h"
#include "../lib/testdict.h"
#include "../lib/testfile.h"
#include "../lib/variant.h"
#include "common/dict.h"
#include "common/hub_err.h"
#include "hl7v2/hl7v2.h"

static const char *const dirs[] = {"tests/data/hl7v2", "tests/data/real/hl7v2"};

/* What the adapter made of one message, as hubd normalizes it. */
static struct variant_outcome normalize(const struct dict *d, const char *p,
                                        size_t n)
{
    struct arena a;
    struct hl7_msg *m = NULL;
    struct hub_err err = {0};
    struct canon_list l = {0};
    arena_init(&a, 64 * 1024);
    int rc = hl7_parse(&a, p, n, &m, &err);
    if (rc == HUB_OK)
        rc = hl7_to_events_dict(&a, d, m, &l, NULL, &err);
    struct variant_outcome o = variant_outcome_of(rc, &err, &l);
    arena_release(&a);
    return o;
}

/* Where the message's MSH starts (after a BOM, blanks or line ends), or
 * NULL: a message that starts with another segment (glossolalia's PID
 * before its MSH, r215) is refused as sent, and a variant cut at its MSH
 * would be another message. */
static const char *find_msh(const char *msg, size_t len)
{
    size_t i = len >= 3 && memcmp(msg, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    while (i < len && (unsigned char)msg[i] <= ' ')
        i++;
    return i + 3 <= len && memcmp(msg + i, "MSH", 3) == 0 ? msg + i : NULL;
}

/* The segments of a message, whatever ends them (CR, LF or CRLF; blank
 * lines are no segments), from its MSH on. */
struct segs {
    const char *p[512];
    size_t len[512];
    size_t n;
};

static bool split_segments(const char *msg, size_t len, struct segs *s)
{
    const char *msh = find_msh(msg, len);
    if (!msh)
        return false;
    s->n = 0;
    const char *end = msg + len, *q = msh;
    while (q < end) {
        const char *e = q;
        while (e < end && *e != '\r' && *e != '\n')
            e++;
        if (e > q) {
            if (s->n == sizeof(s->p) / sizeof(s->p[0]))
                return false;
            s->p[s->n] = q;
            s->len[s->n++] = (size_t)(e - q);
        }
        q = e + 1;
    }
    /* a file's last line may be blanks after the message, or the end of
     * the MLLP frame it was captured in (FS, which the hub passes over:
     * F33); the variants are written without the frame */
    while (s->n > 1 && (strspn(s->p[s->n - 1], " \t") >= s->len[s->n - 1] ||
                        (s->len[s->n - 1] == 1 && s->p[s->n - 1][0] == 0x1c)))
        s->n--;
    /* ... or that frame's FS right after the last segment, with no line
     * end between them (cosyte/hl7's framed fixture, r64) */
    if (s->n > 0 && s->len[s->n - 1] > 1 &&
        s->p[s->n - 1][s->len[s->n - 1] - 1] == 0x1c)
        s->len[s->n - 1]--;
    return s->n > 0;
}

/* What `join` adds after each segment but the last. */
enum extra { NO_EXTRA, Z_SEGMENT, STANDARD_SEGMENT };

/* The segments joined again with `eol` after each, three empty fields more
 * at each segment's end when `trailing`, and after each but the last a
 * segment the hub does not read, written with the message's own
 * delimiters: a Z segment, or by turns one of the standard segments an
 * ADT may carry (NK1, PV2, OBX, AL1, ROL, GT1, IN1). */
static char *join(const struct segs *s, const char *eol, enum extra extra,
                  bool trailing, size_t *out_len)
{
    static const char *const standard[] = {
        "NK1|1|Zz^Yy|SPO", "PV2|||^Rest", "OBX|1|NM|8867-4^HR^LN||72|/min",
        "AL1|1|DA|^Dust",  "ROL|1|AD|AT", "GT1|1||Zz^Yy",
        "IN1|1|PLAN^x",
    };
    size_t cap = 64, el = strlen(eol);
    for (size_t i = 0; i < s->n; i++)
        cap += s->len[i] + el + 48;
    char *o = malloc(cap), *w = o;
    char fs = s->p[0][3], cs = s->p[0][4];
    for (size_t i = 0; i < s->n; i++) {
        memcpy(w, s->p[i], s->len[i]);
        w += s->len[i];
        if (trailing)
            w += snprintf(w, 4, "%c%c%c", fs, fs, fs);
        memcpy(w, eol, el);
        w += el;
        if (extra == Z_SEGMENT && i + 1 < s->n)
            w += snprintf(w, 16, "ZVT%c1%c2%cx%s", fs, cs, fs, eol);
        if (extra == STANDARD_SEGMENT && i + 1 < s->n) {
            const char *t =
                standard[i % (sizeof(standard) / sizeof(standard[0]))];
            for (; *t; t++) /* in the message's delimiters */
                *w++ = *t == '|' ? fs : *t == '^' ? cs : *t;
            memcpy(w, eol, el);
            w += el;
        }
    }
    *out_len = (size_t)(w - o);
    return o;
}

/* Whether an escape character stands in the text as itself: one that
 * opens an escape its value never closes (a Go raw string's "2.5.1\n" at
 * each segment end, r58), which the hub keeps literally (hl7v2.c), so
 * that its text changes with the delimiters. `old` holds MSH-1 and
 * MSH-2's characters (the escape character fourth); a header's MSH-2 is
 * passed over. */
static bool escape_left_open(const char *msg, size_t len, const char *old,
                             size_t n)
{
    if (n < 4)
        return false;
    unsigned opened = 0;
    for (size_t i = 0; i < len; i++) {
        size_t h = i;               /* a segment's start, past blanks,
                                     * an MLLP start block, a BOM */
        if (i == 0 || msg[i - 1] == '\r' || msg[i - 1] == '\n') {
            while (h < len && (msg[h] == ' ' || msg[h] == '\t' ||
                               msg[h] == '\x0b'))
                h++;
            if (len - h > 3 && memcmp(msg + h, "\xef\xbb\xbf", 3) == 0)
                h += 3;
        }
        if ((i == 0 || msg[i - 1] == '\r' || msg[i - 1] == '\n') &&
            len - h > 4 && (memcmp(msg + h, "MSH", 3) == 0 ||
                            memcmp(msg + h, "FHS", 3) == 0 ||
                            memcmp(msg + h, "BHS", 3) == 0)) {
            const char *e = memchr(msg + h + 4, old[0], len - h - 4);
            if (e == NULL)
                return false;
            i = (size_t)(e - msg);  /* on the separator after MSH-2 */
            opened = 0;
            continue;
        }
        char ch = msg[i];
        bool delim = ch == '\r' || ch == '\n' || ch == old[0] ||
                     ch == old[1] || ch == old[2] || (n > 4 && ch == old[4]);
        if (delim) {
            if (opened % 2)
                return true;
            opened = 0;
        } else if (ch == old[3]) {
            opened++;
        }
    }
    return opened % 2 == 1;
}

/* The message with MSH-1 and MSH-2's characters replaced, one for one, by
 * characters it holds nowhere; false when the text would change (an
 * escape of a delimiter) or it cannot be done safely (no MSH, ISO 2022
 * shifts whose bytes could be any ASCII, too few unused characters). */
static bool redelimit(const char *msg, size_t len, char *out)
{
    static const char pool[] = "!#$%*@;:?=+`'\"<>[]{}_,./";
    const char *msh = find_msh(msg, len);
    if (!msh || msh + 5 > msg + len || memchr(msg, 0x1b, len))
        return false;
    char old[6], new[6];
    size_t n = 0;
    old[n++] = msh[3];
    for (const char *q = msh + 4; q < msg + len && *q != msh[3] && n < 6; q++)
        old[n++] = *q;
    /* MSH-10 is kept byte for byte (message_id, the ACK's MSA-2): a
     * delimiter in it (HealthShare's "100000^111222333", r53) is text
     * that would change with the others */
    const char *end = msh, *f = msh + 4;
    while (end < msg + len && *end != '\r' && *end != '\n')
        end++;
    for (unsigned k = 2; k < 10 && f < end; k++) {  /* past MSH-2..MSH-9 */
        const char *q = memchr(f, msh[3], (size_t)(end - f));
        f = q ? q + 1 : end;
    }
    for (; f < end && *f != msh[3]; f++)
        if (memchr(old + 1, *f, n - 1))
            return false;
    /* \F\ and its kind stand for the message's own delimiters: with
     * others, their text changes as it should */
    if (n >= 4)
        for (size_t i = 0; i + 2 < len; i++)
            if (msg[i] == old[3] && strchr("FSTRE", msg[i + 1]) && msg[i + 1] &&
                msg[i + 2] == old[3])
                return false;
    /* an escape left open is text that would change as well */
    if (escape_left_open(msg, len, old, n))
        return false;
    bool used[256] = {false};
    for (size_t i = 0; i < len; i++)
        used[(unsigned char)msg[i]] = true;
    size_t k = 0;
    for (const char *c = pool; *c && k < n; c++)
        if (!used[(unsigned char)*c])
            new[k++] = *c;
    if (k < n)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = msg[i];
        for (size_t j = 0; j < n; j++)
            if (ch == old[j]) {
                ch = new[j];
                break;
            }
        out[i] = ch;
    }
    return true;
}

/* Whether segment `seg` (its bytes, its id first) is `id`. */
static bool seg_is(const char *seg, size_t len, const char *id)
{
    return len >= 4 && memcmp(seg, id, 3) == 0;
}

/* The message with each vowel of the text fields below written as the hex
 * escape \Xhh\ (v2.5.1 2.7.4): the same text, so the same events. The
 * sending application and facility, names, addresses, doctors, locations,
 * codes and the diagnosis text; NULL when the message has no escape
 * character or none of those fields has a vowel. */
static char *hex_escaped(const struct segs *s, size_t *out_len)
{
    static const struct {
        const char *id;
        unsigned field;
    } text[] = {
        {"PID", 3},  {"PID", 5},  {"PID", 8},  {"PID", 11}, {"PID", 13},
        {"PID", 16}, {"PID", 30}, {"PV1", 2},  {"PV1", 3},  {"PV1", 6},
        {"PV1", 7},  {"PV1", 10}, {"PV1", 19}, {"PV1", 36}, {"PV1", 39},
        {"DG1", 3},  {"DG1", 4},  {"DG1", 6},  {"MRG", 1},  {"EVN", 4},
        {"MSH", 3},  {"MSH", 4},  {"EVN", 5},  {"PV1", 17},
    };
    const char *msh = s->p[0];
    char fs = msh[3], ec = s->len[0] > 6 ? msh[6] : fs;
    /* ISO 2022 shifts: a vowel's byte may be half of a kanji */
    for (size_t i = 0; i < s->n; i++)
        if (memchr(s->p[i], 0x1b, s->len[i]))
            return NULL;
    if (ec == fs || ec == msh[4] || ec == msh[5])
        return NULL;
    size_t cap = 16;
    for (size_t i = 0; i < s->n; i++)
        cap += 5 * s->len[i] + 1;
    char *o = malloc(cap), *w = o;
    unsigned escaped = 0;
    for (size_t i = 0; i < s->n; i++) {
        const char *p = s->p[i];
        unsigned field = 0;
        bool in_text = false;
        for (size_t b = 0; b < s->len[i]; b++) {
            char ch = p[b];
            if (ch == fs) {
                field++;
                in_text = false;
                /* MSH-1 is the separator itself: MSH's count is one on */
                unsigned number = i == 0 ? field + 1 : field;
                for (size_t t = 0; t < sizeof(text) / sizeof(text[0]); t++)
                    if (seg_is(p, s->len[i], text[t].id) &&
                        number == text[t].field)
                        in_text = true;
            }
            /* a vowel inside an escape the sender wrote is left alone */
            if (in_text && ch == ec) {
                const char *end = memchr(p + b + 1, ec, s->len[i] - b - 1);
                size_t n = end ? (size_t)(end - (p + b)) + 1 : 1;
                memcpy(w, p + b, n);
                w += n;
                b += n - 1;
                continue;
            }
            if (in_text && strchr("aeiouAEIOU", ch) && ch) {
                w += snprintf(w, 6, "%cX%02X%c", ec, (unsigned char)ch, ec);
                escaped++;
            } else {
                *w++ = ch;
            }
        }
        *w++ = '\r';
    }
    if (escaped == 0) {
        free(o);
        return NULL;
    }
    *out_len = (size_t)(w - o);
    return o;
}

/* Fields whose type has components in every version the hub reads, or in
 * v2.6 and later where an older IS or ID became CWE (DG1-6, PID-8, PV1-2,
 * PV1-10, PV1-36...), or to v2.5 where a time is TS (time^precision): a
 * sender may add trailing component separators to those (v2.5.1 2.5.3),
 * where a '^' in an ST would be text. */
static const struct {
    const char *id;
    unsigned field;
} composite[] = {
    {"MSH", 3},  {"MSH", 4},  {"MSH", 5},  {"MSH", 6},  {"MSH", 9},
    {"EVN", 4},  {"EVN", 5},  {"PID", 3},  {"PID", 5},  {"PID", 8},
    {"PID", 10}, {"PID", 11}, {"PID", 13}, {"PID", 14}, {"PID", 16},
    {"PID", 22}, {"PV1", 2},  {"PV1", 3},  {"PV1", 4},  {"PV1", 6},
    {"PV1", 7},  {"PV1", 10}, {"PV1", 14}, {"PV1", 17}, {"PV1", 18},
    {"PV1", 19}, {"PV1", 36}, {"DG1", 3},  {"DG1", 6},  {"MRG", 1},
    {"MSH", 7},  {"EVN", 2},  {"EVN", 6},  {"PID", 7},  {"PID", 29},
    {"PV1", 44}, {"PV1", 45}, {"DG1", 5},
};

static bool is_composite(const char *seg, unsigned field)
{
    for (size_t k = 0; k < sizeof(composite) / sizeof(composite[0]); k++)
        if (memcmp(seg, composite[k].id, 3) == 0 && field == composite[k].field)
            return true;
    return false;
}

/* What `at_value_ends` writes after a value. */
enum value_end {
    EMPTY_COMPONENTS, /* "^^" after each repetition of the composite
                       * fields above: "F^^" is "F" */
    SPACES,           /* two spaces after every value, at each component
                       * and subcomponent (MSH-3 on, but MSH-10, the
                       * control id the ACK echoes byte for byte, and
                       * MSH-18): what fixed-width systems send, "DOE
                       * ^JOHN  ". v2.5.1 2.5.3 has receivers ignore
                       * trailing spaces; the hub trims. */
};

/* The message with `what` after every value that is not empty (MSH is
 * counted as HL7 numbers it: MSH-1 is the field separator). NULL when the
 * message has ISO 2022 shifts, where a kanji's second byte may be a
 * delimiter's. */
static char *at_value_ends(const struct segs *s, enum value_end what,
                           size_t *out_len)
{
    const char *msh = s->p[0];
    char fs = msh[3], cs = msh[4];
    /* MSH-2's characters before the next field separator: a sender may
     * send fewer than four ("^~", r53's HealthShare A03: no escape and no
     * subcomponent separator) */
    size_t n2 = 0;
    while (4 + n2 < s->len[0] && msh[4 + n2] != fs)
        n2++;
    char rs = n2 > 1 ? msh[5] : fs, ss = n2 > 3 ? msh[7] : fs;
    for (size_t i = 0; i < s->n; i++)
        if (memchr(s->p[i], 0x1b, s->len[i]))
            return NULL;
    size_t cap = 16;
    for (size_t i = 0; i < s->n; i++)
        cap += 3 * s->len[i] + 8;
    char *o = malloc(cap), *w = o;
    for (size_t i = 0; i < s->n; i++) {
        const char *p = s->p[i];
        size_t b = 0, value = 0, field = 0;
        if (i == 0) { /* MSH-1 and MSH-2 as they are */
            const char *e = memchr(p + 4, fs, s->len[0] - 4);
            b = e ? (size_t)(e - p) : s->len[0];
            memcpy(w, p, b);
            w += b;
            field = 2;
        } else {
            while (b < s->len[i] && p[b] != fs)
                *w++ = p[b++]; /* the segment's ID */
        }
        for (; b <= s->len[i]; b++) {
            char ch = b < s->len[i] ? p[b] : fs;
            bool end, add;
            if (what == EMPTY_COMPONENTS) {
                end = ch == fs || (ch == rs && field > 0);
                add = is_composite(p, (unsigned)field);
            } else {
                end = ch == fs || ch == cs || ch == rs || ch == ss;
                add = !(i == 0 && (field == 10 || field == 18));
            }
            if (end && value > 0 && add) {
                char c = what == EMPTY_COMPONENTS ? cs : ' ';
                *w++ = c;
                *w++ = c;
            }
            if (b == s->len[i])
                break;
            if (ch == fs)
                field++;
            value = end ? 0 : value + 1;
            *w++ = ch;
        }
        *w++ = '\r';
    }
    *out_len = (size_t)(w - o);
    return o;
}

/* The message in ISO 8859-1 with MSH-18 saying so, for one in UTF-8 with
 * letters past ASCII, all of them in Latin-1 (v2.5.1 2.15.9.18: the
 * sender names its character set; a European feed sends 8859/1). NULL
 * when it has none past ASCII, or one Latin-1 cannot hold, or is not
 * UTF-8. */
static char *as_latin1(const struct segs *s, size_t *out_len)
{
    size_t cap = 64, wide = 0;
    for (size_t i = 0; i < s->n; i++)
        cap += s->len[i] + 24;
    char *o = malloc(cap), *w = o;
    char fs = s->p[0][3];
    for (size_t i = 0; i < s->n; i++) {
        const unsigned char *p = (const unsigned char *)s->p[i];
        size_t n = s->len[i], field = 0;
        for (size_t b = 0; b < n; b++) {
            if (i == 0 && p[b] == fs && ++field == 17) {
                /* MSH-18 (the 17th separator from MSH-1's) replaced */
                w += snprintf(w, 16, "%c8859/1", fs);
                while (b + 1 < n && p[b + 1] != fs)
                    b++;
                continue;
            }
            if (p[b] < 0x80) {
                *w++ = (char)p[b];
            } else if ((p[b] == 0xc2 || p[b] == 0xc3) && b + 1 < n &&
                       (p[b + 1] & 0xc0) == 0x80) {
                *w++ = (char)(((p[b] & 0x03) << 6) | (p[b + 1] & 0x3f));
                b++;
                wide++;
            } else {
                free(o);
                return NULL;
            }
        }
        if (i == 0) /* an MSH shorter than MSH-18 */
            for (; field < 17; field++)
                w += snprintf(w, 16, field == 16 ? "%c8859/1" : "%c", fs);
        *w++ = '\r';
    }
    if (wide == 0) {
        free(o);
        return NULL;
    }
    *out_len = (size_t)(w - o);
    return o;
}

/* The message with v2.7's truncation character added to an MSH-2 of four
 * ("^~\\&#"): a fifth encoding character changes no value. NULL when
 * MSH-2 is not four characters or '#' appears in the message. */
static char *with_truncation_char(const char *msg, size_t len,
                                  size_t *out_len)
{
    const char *msh = find_msh(msg, len);
    if (!msh || msh + 9 > msg + len || msh[8] != msh[3] || memchr(msg, '#', len))
        return NULL;
    size_t at = (size_t)(msh - msg) + 8;
    char *o = malloc(len + 1);
    memcpy(o, msg, at);
    o[at] = '#';
    memcpy(o + at + 1, msg + at, len - at);
    *out_len = len + 1;
    return o;
}

Test(hl7_variants, other_delimiters_line_ends_and_z_segments_change_nothing)
{
    struct dict *d = testdict_load();
    unsigned files = 0, accepted = 0, redelimited = 0, hexed = 0, latin1 = 0,
             fails = 0;
    for (size_t di = 0; di < sizeof(dirs) / sizeof(dirs[0]); di++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%s", testdb_root(), dirs[di]);
        DIR *dh = opendir(dir);
        cr_assert_not_null(dh, "cannot open %s", dir);
        struct dirent *e;
        while ((e = readdir(dh)) != NULL) {
            size_t l = strlen(e->d_name);
            if (l < 5 || strcmp(e->d_name + l - 4, ".hl7") != 0)
                continue;
            char path[8192];
            size_t len;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            char *msg = testfile_read(path, &len);
            cr_assert_not_null(msg, "cannot read %s", path);
            struct segs s;
            /* batch files (FHS/BHS first) are the batch reader's, and
             * its own tests' */
            if (!split_segments(msg, len, &s) || msg[0] == 'F' ||
                msg[0] == 'B') {
                free(msg);
                continue;
            }
            files++;
            struct variant_outcome want = normalize(d, msg, len);
            accepted += want.rc == HUB_OK;
            static const struct {
                const char *name, *eol;
                enum extra extra;
                bool trailing;
            } v[] = {
                {"with CR segment ends", "\r", NO_EXTRA, false},
                {"with LF segment ends", "\n", NO_EXTRA, false},
                {"with CRLF segment ends", "\r\n", NO_EXTRA, false},
                {"with a Z segment after each", "\r", Z_SEGMENT, false},
                {"with standard segments the hub does not read", "\r",
                 STANDARD_SEGMENT, false},
                {"with empty fields at each end", "\r", NO_EXTRA, true},
            };
            for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
                size_t n;
                char *alt = join(&s, v[k].eol, v[k].extra, v[k].trailing, &n);
                struct variant_outcome got = normalize(d, alt, n);
                variant_expect_same(e->d_name, v[k].name, &want, &got, NULL,
                                    &fails);
                variant_outcome_release(&got);
                free(alt);
            }
            size_t hn;
            char *hex = hex_escaped(&s, &hn);
            if (hex) {
                hexed++;
                struct variant_outcome got = normalize(d, hex, hn);
                variant_expect_same(e->d_name, "with vowels as \\Xhh\\ escapes",
                                    &want, &got, NULL, &fails);
                variant_outcome_release(&got);
                free(hex);
            }
            size_t pn;
            char *pad = at_value_ends(&s, SPACES, &pn);
            if (pad) {
                struct variant_outcome pgot = normalize(d, pad, pn);
                variant_expect_same(e->d_name, "with spaces after each value",
                                    &want, &pgot, NULL, &fails);
                variant_outcome_release(&pgot);
                free(pad);
            }
            size_t tn;
            char *tc = at_value_ends(&s, EMPTY_COMPONENTS, &tn);
            if (tc) {
                struct variant_outcome tgot = normalize(d, tc, tn);
                variant_expect_same(e->d_name,
                                    "with empty components after each value",
                                    &want, &tgot, NULL, &fails);
                variant_outcome_release(&tgot);
                free(tc);
            }
            size_t tcn;
            char *trunc = with_truncation_char(msg, len, &tcn);
            if (trunc) {
                struct variant_outcome cgot = normalize(d, trunc, tcn);
                variant_expect_same(e->d_name,
                                    "with a truncation character in MSH-2",
                                    &want, &cgot, NULL, &fails);
                variant_outcome_release(&cgot);
                free(trunc);
            }
            size_t ln;
            char *latin = as_latin1(&s, &ln);
            if (latin) {
                latin1++;
                struct variant_outcome lgot = normalize(d, latin, ln);
                variant_expect_same(e->d_name, "in ISO 8859-1", &want, &lgot,
                                    NULL, &fails);
                variant_outcome_release(&lgot);
                free(latin);
            }
            char *alt = malloc(len ? len : 1);
            if (redelimit(msg, len, alt)) {
                redelimited++;
                struct variant_outcome got = normalize(d, alt, len);
                variant_expect_same(e->d_name, "with other delimiters", &want,
                                    &got, NULL, &fails);
                variant_outcome_release(&got);
            }
            free(alt);
            variant_outcome_release(&want);
            free(msg);
        }
        closedir(dh);
    }
    dict_free(d);
    /* the directories hold over ninety messages: a test that read none
     * would prove nothing */
    cr_assert_geq(files, 90, "%u messages read", files);
    cr_assert_geq(accepted, 80, "%u messages accepted", accepted);
    cr_assert_geq(redelimited, accepted / 2, "%u of %u redelimited",
                  redelimited, accepted);
    cr_log_info("%u messages, %u accepted, %u redelimited, %u hex-escaped, "
                "%u in Latin-1",
                files, accepted, redelimited, hexed, latin1);
    cr_assert_geq(latin1, 5, "%u in Latin-1", latin1);
    cr_assert_geq(hexed, accepted / 2, "%u of %u hex-escaped", hexed, accepted);
    cr_assert_eq(fails, 0,
                 "%u variants differ from the message as sent "
                 "(%u messages, %u accepted)",
                 fails, files, accepted);
}
