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
 *     standard segments it does not read (NK1, PV2, OBX, AL1, ROL, GT1,
 *     IN1) between the others;
 *   - with empty fields added at each segment's end (ch. 2.5.3: trailing
 *     delimiters may be sent or left out, to the same meaning);
 *   - with the vowels of 24 fields (the sending application and
 *     facility, names, addresses, doctors, locations, codes, the diagnosis
 *     text) sent as \Xhh\ escapes (ch. 2.7.4: the same text);
 *   - with "^^" after the values of composite fields, and with spaces
 *     after every value, as fixed-width systems pad them.
 * Each variant must give what the message as sent gives, compared as JSON,
 * and a message that is refused must be refused for the same reason at the
 * same field. A difference would be code that assumes '|' or '^', or a
 * reader that runs past a segment's end: what a real sender with its own
 * choices would meet first.
 */
#include <criterion/criterion.h>
#include <cJSON.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict.h"
#include "common/hub_err.h"
#include "hl7v2/hl7v2.h"
#include "../lib/testdict.h"
#include "../lib/testfile.h"

static const char *const dirs[] = { "tests/data/hl7v2",
                                    "tests/data/real/hl7v2" };

static const char *root(void)
{
    const char *r = getenv("HUB_ROOT");
    return r && *r ? r : ".";
}

/* What the adapter made of one message: its events as one JSON array, or
 * its refusal's code and field. */
struct outcome {
    int rc;
    char field[128];
    cJSON *events;
};

static struct outcome normalize(const struct dict *d, const char *p,
                                size_t n)
{
    struct outcome o = { 0 };
    struct arena a;
    struct hl7_msg *m = NULL;
    struct hub_err err = { 0 };
    struct canon_list l = { 0 };
    arena_init(&a, 64 * 1024);
    o.rc = hl7_parse(&a, p, n, &m, &err);
    if (o.rc == HUB_OK)
        o.rc = hl7_to_events_dict(&a, d, m, &l, NULL, &err);
    if (o.rc != HUB_OK) {
        memcpy(o.field, err.field, sizeof(o.field));
    } else {
        o.events = cJSON_CreateArray();
        for (size_t k = 0; k < l.n; k++)
            cJSON_AddItemToArray(o.events,
                                 cJSON_ParseWithLength(l.ev[k].json.p,
                                                       l.ev[k].json.len));
    }
    arena_release(&a);
    return o;
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
    const char *msh = NULL;
    for (size_t i = 0; i + 3 <= len && !msh; i++)
        if (memcmp(msg + i, "MSH", 3) == 0)
            msh = msg + i;
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
    /* a file's last line may be blanks after the message */
    while (s->n > 1 && strspn(s->p[s->n - 1], " \t") >= s->len[s->n - 1])
        s->n--;
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
        "AL1|1|DA|^Dust", "ROL|1|AD|AT", "GT1|1||Zz^Yy", "IN1|1|PLAN^x",
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
            w += sprintf(w, "%c%c%c", fs, fs, fs);
        memcpy(w, eol, el);
        w += el;
        if (extra == Z_SEGMENT && i + 1 < s->n)
            w += sprintf(w, "ZVT%c1%c2%cx%s", fs, cs, fs, eol);
        if (extra == STANDARD_SEGMENT && i + 1 < s->n) {
            const char *t = standard[i % (sizeof(standard) /
                                          sizeof(standard[0]))];
            for (; *t; t++)             /* in the message's delimiters */
                *w++ = *t == '|' ? fs : *t == '^' ? cs : *t;
            memcpy(w, eol, el);
            w += el;
        }
    }
    *out_len = (size_t)(w - o);
    return o;
}

/* The message with MSH-1 and MSH-2's characters replaced, one for one, by
 * characters it holds nowhere; false when the text would change (an
 * escape of a delimiter) or it cannot be done safely (no MSH, ISO 2022
 * shifts whose bytes could be any ASCII, too few unused characters). */
static bool redelimit(const char *msg, size_t len, char *out)
{
    static const char pool[] = "!#$%*@;:?=+`'\"<>[]{}_,./";
    const char *msh = NULL;
    for (size_t i = 0; i + 3 <= len && !msh; i++)
        if (memcmp(msg + i, "MSH", 3) == 0)
            msh = msg + i;
    if (!msh || msh + 5 > msg + len || memchr(msg, 0x1b, len))
        return false;
    char old[6], new[6];
    size_t n = 0;
    old[n++] = msh[3];
    for (const char *q = msh + 4; q < msg + len && *q != msh[3] && n < 6; q++)
        old[n++] = *q;
    /* \F\ and its kind stand for the message's own delimiters: with
     * others, their text changes as it should */
    if (n >= 4)
        for (size_t i = 0; i + 2 < len; i++)
            if (msg[i] == old[3] && strchr("FSTRE", msg[i + 1]) &&
                msg[i + 1] && msg[i + 2] == old[3])
                return false;
    bool used[256] = { false };
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
    static const struct { const char *id; unsigned field; } text[] = {
        { "PID", 3 }, { "PID", 5 }, { "PID", 8 }, { "PID", 11 },
        { "PID", 13 }, { "PID", 16 }, { "PID", 30 }, { "PV1", 2 },
        { "PV1", 3 }, { "PV1", 6 }, { "PV1", 7 }, { "PV1", 10 },
        { "PV1", 19 }, { "PV1", 36 }, { "PV1", 39 }, { "DG1", 3 },
        { "DG1", 4 }, { "DG1", 6 }, { "MRG", 1 }, { "EVN", 4 },
        { "MSH", 3 }, { "MSH", 4 }, { "EVN", 5 }, { "PV1", 17 },
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
                w += sprintf(w, "%cX%02X%c", ec, (unsigned char)ch, ec);
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
static const struct { const char *id; unsigned field; } composite[] = {
    { "MSH", 3 }, { "MSH", 4 }, { "MSH", 5 }, { "MSH", 6 }, { "MSH", 9 },
    { "EVN", 4 }, { "EVN", 5 }, { "PID", 3 }, { "PID", 5 }, { "PID", 8 },
    { "PID", 10 }, { "PID", 11 }, { "PID", 13 }, { "PID", 14 },
    { "PID", 16 }, { "PID", 22 }, { "PV1", 2 }, { "PV1", 3 }, { "PV1", 4 },
    { "PV1", 6 }, { "PV1", 7 }, { "PV1", 10 }, { "PV1", 14 }, { "PV1", 17 },
    { "PV1", 18 }, { "PV1", 19 }, { "PV1", 36 }, { "DG1", 3 }, { "DG1", 6 },
    { "MRG", 1 }, { "MSH", 7 }, { "EVN", 2 }, { "EVN", 6 }, { "PID", 7 },
    { "PID", 29 }, { "PV1", 44 }, { "PV1", 45 }, { "DG1", 5 },
};

static bool is_composite(const char *seg, unsigned field)
{
    for (size_t k = 0; k < sizeof(composite) / sizeof(composite[0]); k++)
        if (memcmp(seg, composite[k].id, 3) == 0 &&
            field == composite[k].field)
            return true;
    return false;
}

/* The message with two empty components after every value of the fields
 * above that is not empty (each repetition): "F^^" is "F". MSH is counted
 * as HL7 numbers it (MSH-1 is the field separator). */
static char *trailing_components(const struct segs *s, size_t *out_len)
{
    const char *msh = s->p[0];
    char fs = msh[3], cs = msh[4], rs = s->len[0] > 5 ? msh[5] : fs;
    size_t cap = 16;
    for (size_t i = 0; i < s->n; i++)
        cap += 3 * s->len[i] + 8;
    char *o = malloc(cap), *w = o;
    for (size_t i = 0; i < s->n; i++) {
        const char *p = s->p[i];
        size_t b = 0, value = 0, field = 0;
        if (i == 0) {                   /* MSH-1 and MSH-2 as they are */
            const char *e = memchr(p + 4, fs, s->len[0] - 4);
            b = e ? (size_t)(e - p) : s->len[0];
            memcpy(w, p, b);
            w += b;
            field = 2;
        } else {
            while (b < s->len[i] && p[b] != fs)
                *w++ = p[b++];          /* the segment's ID */
        }
        for (; b <= s->len[i]; b++) {
            char ch = b < s->len[i] ? p[b] : fs;
            bool end = ch == fs || (ch == rs && field > 0);
            if (end && value > 0 && is_composite(p, (unsigned)field)) {
                *w++ = cs;
                *w++ = cs;
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

/* The message with two spaces after every value that is not empty, at
 * each component and subcomponent (MSH-3 on, but MSH-10, the control id
 * the ACK echoes byte for byte, and MSH-18): what fixed-width systems
 * send, "DOE     ^JOHN    ". The hub trims values, as v2.5.1 2.5.3's
 * "ignore trailing spaces" has receivers do. */
static char *padded(const struct segs *s, size_t *out_len)
{
    const char *msh = s->p[0];
    char fs = msh[3], cs = msh[4];
    char rs = s->len[0] > 5 ? msh[5] : fs, ss = s->len[0] > 7 ? msh[7] : fs;
    /* ISO 2022 shifts: a kanji's second byte may be the '&' */
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
        if (i == 0) {
            const char *e = memchr(p + 4, fs, s->len[0] - 4);
            b = e ? (size_t)(e - p) : s->len[0];
            memcpy(w, p, b);
            w += b;
            field = 2;
        } else {
            while (b < s->len[i] && p[b] != fs)
                *w++ = p[b++];
        }
        for (; b <= s->len[i]; b++) {
            char ch = b < s->len[i] ? p[b] : fs;
            bool end = ch == fs || ch == cs || ch == rs || ch == ss;
            bool skip = i == 0 && (field == 10 || field == 18);
            if (end && value > 0 && !skip) {
                *w++ = ' ';
                *w++ = ' ';
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

static void expect_same(const char *name, const char *variant,
                        const struct outcome *want, const struct outcome *got,
                        unsigned *fails)
{
    bool same;
    if (want->rc != HUB_OK)
        same = got->rc == want->rc && strcmp(got->field, want->field) == 0;
    else
        same = got->rc == HUB_OK && cJSON_Compare(want->events, got->events, 1);
    if (same)
        return;
    (*fails)++;
    if (want->rc != HUB_OK || got->rc != HUB_OK) {
        cr_log_error("%s %s: %s at %s, as sent %s at %s", name, variant,
                     hub_strerror(got->rc), got->field, hub_strerror(want->rc),
                     want->field);
        return;
    }
    char *a = cJSON_Print(want->events), *b = cJSON_Print(got->events);
    cr_log_error("%s %s: events differ\n--- as sent\n%s\n+++ variant\n%s", name,
                 variant, a, b);
    free(a);
    free(b);
}

Test(hl7_variants, other_delimiters_line_ends_and_z_segments_change_nothing)
{
    struct dict *d = testdict_load();
    unsigned files = 0, accepted = 0, redelimited = 0, hexed = 0, fails = 0;
    for (size_t di = 0; di < sizeof(dirs) / sizeof(dirs[0]); di++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%s", root(), dirs[di]);
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
            struct outcome want = normalize(d, msg, len);
            accepted += want.rc == HUB_OK;
            static const struct {
                const char *name, *eol;
                enum extra extra;
                bool trailing;
            } v[] = {
                { "with CR segment ends", "\r", NO_EXTRA, false },
                { "with LF segment ends", "\n", NO_EXTRA, false },
                { "with CRLF segment ends", "\r\n", NO_EXTRA, false },
                { "with a Z segment after each", "\r", Z_SEGMENT, false },
                { "with standard segments the hub does not read", "\r",
                  STANDARD_SEGMENT, false },
                { "with empty fields at each end", "\r", NO_EXTRA, true },
            };
            for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
                size_t n;
                char *alt = join(&s, v[k].eol, v[k].extra, v[k].trailing, &n);
                struct outcome got = normalize(d, alt, n);
                expect_same(e->d_name, v[k].name, &want, &got, &fails);
                cJSON_Delete(got.events);
                free(alt);
            }
            size_t hn;
            char *hex = hex_escaped(&s, &hn);
            if (hex) {
                hexed++;
                struct outcome got = normalize(d, hex, hn);
                expect_same(e->d_name, "with vowels as \\Xhh\\ escapes",
                            &want, &got, &fails);
                cJSON_Delete(got.events);
                free(hex);
            }
            size_t pn;
            char *pad = padded(&s, &pn);
            if (pad) {
                struct outcome pgot = normalize(d, pad, pn);
                expect_same(e->d_name, "with spaces after each value", &want,
                            &pgot, &fails);
                cJSON_Delete(pgot.events);
                free(pad);
            }
            size_t tn;
            char *tc = trailing_components(&s, &tn);
            struct outcome tgot = normalize(d, tc, tn);
            expect_same(e->d_name, "with empty components after each value",
                        &want, &tgot, &fails);
            cJSON_Delete(tgot.events);
            free(tc);
            char *alt = malloc(len ? len : 1);
            if (redelimit(msg, len, alt)) {
                redelimited++;
                struct outcome got = normalize(d, alt, len);
                expect_same(e->d_name, "with other delimiters", &want, &got,
                            &fails);
                cJSON_Delete(got.events);
            }
            free(alt);
            cJSON_Delete(want.events);
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
    cr_log_info("%u messages, %u accepted, %u redelimited, %u hex-escaped",
                files, accepted, redelimited, hexed);
    cr_assert_geq(hexed, accepted / 2, "%u of %u hex-escaped", hexed,
                  accepted);
    cr_assert_eq(fails, 0, "%u variants differ from the message as sent "
                           "(%u messages, %u accepted)", fails, files,
                 accepted);
}
