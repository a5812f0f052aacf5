/*
 * hl7_equiv.c - everything the HL7 v2 adapter says about a set of messages,
 * as text, so that two builds of the adapter (before and after a speed
 * change) can be compared byte for byte (tests/tools/hl7-equiv.sh).
 *
 *   hl7_equiv [-l FILE]... [-m MUTANTS] [-s SEED] [FILE...]
 *
 * -l FILE: the bench corpus (tests/bench/gen_adt.c), one message per line;
 * each other FILE is one message (the goldens). Then MUTANTS messages made
 * from those by a seeded generator (flipped and inserted bytes, escapes,
 * delimiters changed throughout, segments repeated, moved, cut, fields and
 * repetitions past the limits, dates and codes swapped in), and a few
 * hostile ones made whole. The generator is this file's: both builds get the
 * same messages.
 *
 * For each message: hl7_parse's result and error; on success every event of
 * hl7_to_events (or its error), the MSH accessors, hl7_get over the fields
 * of every segment (repetitions, components, subcomponents), and the ACK;
 * on failure the ACK with the error. hl7_to_events_dict with the data
 * dictionary (SNOMED CT labels) too: printed where it says something else.
 * Only the public API (hl7v2.h, and dict_files.h to load the dictionary)
 * is used.
 */
#define _GNU_SOURCE 1 /* memmem */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/canon.h"
#include "common/hub_err.h"
#include "hl7v2/hl7v2.h"
#include "dict_files.h"

struct msg {
    char *p;
    size_t len;
};

static struct msg *msgs;
static size_t nmsgs, capmsgs;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL) {
        fputs("hl7_equiv: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static void add(char *p, size_t len)
{
    if (nmsgs == capmsgs) {
        capmsgs = capmsgs ? capmsgs * 2 : 1024;
        msgs = xrealloc(msgs, capmsgs * sizeof(*msgs));
    }
    msgs[nmsgs++] = (struct msg){ p, len };
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    size_t n = 0, cap = 0;

    if (f == NULL) {
        fprintf(stderr, "hl7_equiv: cannot open %s: %s\n", path,
                strerror(errno));
        exit(1);
    }
    for (;;) {
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 65536;
            b = xrealloc(b, cap);
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    *len = n;
    return b;
}

/* ---- the generator ------------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1du;
}

static size_t below(size_t n)
{
    return n ? (size_t)(next() % n) : 0;
}

struct gbuf {
    char *p;
    size_t len, cap;
};

static void gput(struct gbuf *g, const void *p, size_t n)
{
    if (g->cap - g->len < n + 1) {
        while (g->cap - g->len < n + 1)
            g->cap = g->cap ? g->cap * 2 : 4096;
        g->p = xrealloc(g->p, g->cap);
    }
    memcpy(g->p + g->len, p, n);
    g->len += n;
}

static void gputs(struct gbuf *g, const char *s)
{
    gput(g, s, strlen(s));
}

static const char bytes_of_note[] = "|^~\\&\r\n\"\0\x7f\x80\xc3\xa9\xff \t0A-+.#$%!";

static const char *const inserts[] = {
    "\\F\\", "\\S\\", "\\T\\", "\\R\\", "\\E\\", "\\X41\\", "\\X00\\",
    "\\X4142\\", "\\X4\\", "\\.br\\", "\\H\\", "\\N\\", "\\Zxx\\", "\\",
    "\\C2842\\", "\\M2442\\", "\\P\\", "\"\"", "~", "^^^", "&&", "~~~~",
    "\r", "\r\n", "\n\n", "|||||", "\xc3\xa9", "\xe2\x82\xac", "\xed\xa0\x80",
    "\xf0\x9f\x98\x80", "\xc0\xaf", " ", "  x  ", "\t", "\rZ01|a|b\r",
    "\rZPI|1\r", "F10.20", "F19", "f1A", "19800101", "202601011230-0500",
    "2026", "20261301", "20260230", "2026010112", "20260101123045.1234+0100",
    "20260101123045.12345", "202601011260", "+0000", "-9999", "\x01", "\x1f",
    "\rDG1|1|I10|F11.20^Opioid dependence^I10\r", "\rMRG|123^^^X^MR\r",
    "\rPID|1||77^^^Y^MR\r", "\rPV1|1|E|ER^1^2^FAC\r", "\rEVN|A01|2026\r",
    "\rMSH|^~\\&|X\r", "BA", "CP", "PRN", "WPN", "Y", "TRUE",
    /* the timestamp shape the normalizer checks in straight line, at and
     * past each of its bounds */
    "19800101120000-0500", "20261231235960+1459", "20261301000000+0000",
    "20260100000000+0000", "20260132000000+0000", "20260101240000+0000",
    "20260101006000+0000", "20260101000061+0000", "20260101000000+1500",
    "20260101000000+0060", "2026010100000a+0000", "20260101000000*0000",
    "20260101000000+00a0", "20260101000000-0000", "00000101000000+0000",
};

static const char *const triggers[] = {
    "A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A11", "A12",
    "A13", "A14", "A28", "A31", "A40", "A09", "a01", "A99", "", "B01",
};

/* The segment [*s, *e) around byte `at` (not counting its CR). */
static void segment_at(const struct gbuf *g, size_t at, size_t *s, size_t *e)
{
    size_t a = at, b = at;
    while (a > 0 && g->p[a - 1] != '\r' && g->p[a - 1] != '\n')
        a--;
    while (b < g->len && g->p[b] != '\r' && g->p[b] != '\n')
        b++;
    *s = a;
    *e = b;
}

static void splice(struct gbuf *g, size_t at, size_t del, const char *p,
                   size_t n)
{
    struct gbuf o = { 0 };
    gput(&o, g->p, at);
    gput(&o, p, n);
    gput(&o, g->p + at + del, g->len - at - del);
    free(g->p);
    *g = o;
}

/* One change to g. */
static void mutate(struct gbuf *g)
{
    if (g->len == 0) {
        gputs(g, "MSH|^~\\&|A|B|C|D|20260101||ADT^A01|1|P|2.5\rPID|1||1\r");
        return;
    }
    size_t at = below(g->len), s, e;
    switch (below(14)) {
    case 0:
    case 1: {
        g->p[at] = bytes_of_note[below(sizeof(bytes_of_note) - 1)];
        break;
    }
    case 2:
    case 3: {
        const char *x = inserts[below(sizeof(inserts) / sizeof(*inserts))];
        splice(g, at, 0, x, strlen(x));
        break;
    }
    case 4: {
        size_t n = 1 + below(20);
        if (n > g->len - at)
            n = g->len - at;
        splice(g, at, n, "", 0);
        break;
    }
    case 5: {                   /* a segment again, right after itself */
        segment_at(g, at, &s, &e);
        char *copy = xrealloc(NULL, e - s + 1);
        memcpy(copy, g->p + s, e - s);
        copy[e - s] = '\r';
        splice(g, e < g->len ? e + 1 : e, 0, copy, e - s + 1);
        free(copy);
        break;
    }
    case 6:                     /* cut */
        g->len = at;
        break;
    case 7: {                   /* a segment moved to the end */
        segment_at(g, at, &s, &e);
        if (s == 0)
            break;
        char *copy = xrealloc(NULL, e - s + 1);
        memcpy(copy, g->p + s, e - s);
        copy[e - s] = '\r';
        splice(g, s, e < g->len ? e - s + 1 : e - s, "", 0);
        gput(g, copy, e - s + 1);
        free(copy);
        break;
    }
    case 8: {                   /* a field of many repetitions or fields */
        struct gbuf x = { 0 };
        size_t k = below(4) == 0 ? 95 + below(10) : below(40);
        const char *unit = below(2) ? "x~" : below(2) ? "|y" : "^z&w";
        if (below(3) == 0 && unit[0] == '|')
            k = 290 + below(20);
        for (size_t i = 0; i < k; i++)
            gputs(&x, unit);
        splice(g, at, 0, x.p, x.len);
        free(x.p);
        break;
    }
    case 9: {                   /* another trigger in MSH-9 */
        const char *hit = memmem(g->p, g->len, "ADT^", 4);
        if (hit) {
            const char *t = triggers[below(sizeof(triggers) /
                                           sizeof(*triggers))];
            size_t off = (size_t)(hit - g->p) + 4, n = 0;
            while (off + n < g->len && g->p[off + n] != '^' &&
                   g->p[off + n] != '|')
                n++;
            splice(g, off, n, t, strlen(t));
        }
        break;
    }
    case 10: {                  /* every delimiter replaced, consistently */
        static const char *const sets[] = { "#$*@%", "|^~\\", "!^~\\&#",
                                            "|^~\\&", "|:;/,", "|^" };
        const char *to = sets[below(sizeof(sets) / sizeof(*sets))];
        const char from[] = "|^~\\&";
        size_t nto = strlen(to);
        for (size_t i = 0; i < g->len; i++) {
            const char *f = memchr(from, g->p[i], 5);
            if (f && (size_t)(f - from) < nto)
                g->p[i] = to[f - from];
        }
        /* an omitted encoding character: drop it from MSH-2 only (bytes
         * 3 + nto to 8, so a message of at least 8 bytes; with fewer the
         * length left underflowed, F944) */
        if (nto < 5 && g->len >= 8)
            splice(g, 4 + nto - 1, 5 - nto, "", 0);
        break;
    }
    case 11: {                  /* CR -> LF or CRLF */
        int mode = (int)below(2);
        struct gbuf o = { 0 };
        for (size_t i = 0; i < g->len; i++) {
            if (g->p[i] == '\r')
                gputs(&o, mode ? "\n" : "\r\n");
            else
                gput(&o, g->p + i, 1);
        }
        free(g->p);
        *g = o;
        break;
    }
    case 12: {                  /* a segment from another message */
        const struct msg *o = &msgs[below(nmsgs)];
        struct gbuf og = { o->p, o->len, o->len };
        size_t os, oe;
        if (o->len == 0)
            break;
        segment_at(&og, below(o->len), &os, &oe);
        segment_at(g, at, &s, &e);
        splice(g, e, 0, "\r", 1);
        splice(g, e + 1, 0, o->p + os, oe - os);
        break;
    }
    default: {                  /* a field's value replaced */
        size_t a = at, b = at;
        while (a > 0 && g->p[a - 1] != '|' && g->p[a - 1] != '\r')
            a--;
        while (b < g->len && g->p[b] != '|' && g->p[b] != '\r')
            b++;
        const char *x = inserts[below(sizeof(inserts) / sizeof(*inserts))];
        splice(g, a, b - a, x, strlen(x));
        break;
    }
    }
}

/* Hostile messages made whole: past each limit, and just below. */
static void add_hostile(void)
{
    static const char msh[] =
        "MSH|^~\\&|A|B|C|D|20260101120000||ADT^A01|H1|P|2.5\r"
        "PID|1||1^^^X^MR||DOE^J\r";
    const unsigned nseg[] = { 1997, 1998, 2000, 2001 };
    for (unsigned k = 0; k < 4; k++) {
        struct gbuf g = { 0 };
        gputs(&g, msh);
        for (unsigned i = 0; i < nseg[k]; i++)
            gputs(&g, "ZZ1|a\r");
        add(g.p, g.len);
    }
    const unsigned nfld[] = { 298, 299, 300, 301 };
    for (unsigned k = 0; k < 4; k++) {
        struct gbuf g = { 0 };
        gputs(&g, msh);
        gputs(&g, "PV1");
        for (unsigned i = 1; i < nfld[k]; i++)
            gputs(&g, i % 7 ? "|" : "|v");
        gputs(&g, "\r");
        add(g.p, g.len);
    }
    const unsigned nrep[] = { 99, 100, 101 };
    for (unsigned k = 0; k < 3; k++) {
        struct gbuf g = { 0 };
        gputs(&g, "MSH|^~\\&|A|B|C|D|20260101120000||ADT^A01|H2|P|2.5\r"
                  "PID|1||");
        for (unsigned i = 0; i < nrep[k]; i++)
            gputs(&g, i ? "~9^^^X^MR" : "9^^^X^MR");
        gputs(&g, "\r");
        add(g.p, g.len);
    }
    struct gbuf big = { 0 };    /* past HL7_MAX_MESSAGE */
    gputs(&big, msh);
    while (big.len <= HL7_MAX_MESSAGE + 100)
        gputs(&big, "NTE|1||0123456789012345678901234567890123456789\r");
    add(big.p, big.len);
    struct gbuf ws = { 0 };     /* whitespace and a BOM around it */
    gputs(&ws, "\xef\xbb\xbf \r\n\t");
    gputs(&ws, msh);
    gputs(&ws, "\r\n\r\n  \t");
    add(ws.p, ws.len);
}

/* ---- the dump ----------------------------------------------------------- */

static void put_bytes(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
}

static void put_err(const char *tag, int rc, const struct hub_err *err)
{
    printf("%s rc=%d", tag, rc);
    if (rc != HUB_OK)
        printf(" code=%d field=%s off=%zu what=%s", (int)err->code,
               err->field, err->offset, err->what ? err->what : "-");
    putchar('\n');
}

static void put_slice(const char *tag, struct slice s)
{
    printf(" %s=", tag);
    if (s.p == NULL)
        fputs("(null)", stdout);
    else
        put_bytes(s.p, s.len);
}

/* hl7_get over each segment the text shows (IDs as they appear). */
static void dump_gets(struct arena *a, const struct hl7_msg *m,
                      const struct msg *x)
{
    char ids[64][4];
    unsigned nth[64], nids = 0;
    const char *p = x->p, *end = x->p + x->len;

    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\r' && *eol != '\n')
            eol++;
        if (eol - p >= 3) {
            unsigned k, fields = 1;
            for (k = 0; k < nids && memcmp(ids[k], p, 3) != 0; k++)
                ;
            if (k == nids && nids < 64) {
                memcpy(ids[nids], p, 3);
                ids[nids][3] = '\0';
                nth[nids++] = 0;
            }
            if (k < nids) {
                for (const char *q = p; q < eol; q++)
                    fields += *q == '|';
                if (fields > 60)
                    fields = 60;
                printf("seg %s %u:", ids[k], nth[k]);
                for (unsigned f = 0; f <= fields + 1; f++) {
                    struct slice v = hl7_get(a, m, ids[k], nth[k], f, 0, 0, 0);
                    printf(" %u%s[", f, v.p ? "" : "N");
                    put_bytes(v.p ? v.p : "", v.len);
                    fputs("|", stdout);
                    v = hl7_get(a, m, ids[k], nth[k], f, 1, 0, 0);
                    put_bytes(v.p ? v.p : "", v.len);
                    fputs("|", stdout);
                    v = hl7_get(a, m, ids[k], nth[k], f, 0, 2, 0);
                    put_bytes(v.p ? v.p : "", v.len);
                    fputs("|", stdout);
                    v = hl7_get(a, m, ids[k], nth[k], f, 0, 1, 2);
                    put_bytes(v.p ? v.p : "", v.len);
                    fputs("]", stdout);
                }
                putchar('\n');
                nth[k]++;
            }
        }
        p = eol + 1;
    }
}

static struct dict *dict;

/* The events with the dictionary: "dict same" when they are those without
 * it (nearly always), else all of them. */
static void dump_dict(struct arena *a, const struct hl7_msg *m, int rc,
                      const struct canon_list *l)
{
    struct canon_list d = { 0 };
    struct hub_err e = { 0 };
    int rc2 = hl7_to_events_dict(a, dict, m, &d, NULL, &e);
    int same = rc2 == rc && d.n == l->n;
    for (size_t k = 0; same && k < d.n; k++)
        same = strcmp(d.ev[k].type, l->ev[k].type) == 0 &&
               d.ev[k].json.len == l->ev[k].json.len &&
               memcmp(d.ev[k].json.p, l->ev[k].json.p, d.ev[k].json.len) == 0;
    if (same) {
        puts("dict same");
        return;
    }
    put_err("dict events", rc2, &e);
    for (size_t k = 0; k < d.n; k++) {
        printf("dict event %s ", d.ev[k].type);
        fwrite(d.ev[k].json.p, 1, d.ev[k].json.len, stdout);
        putchar('\n');
    }
}

static void dump(struct arena *a, size_t idx, const struct msg *x)
{
    struct hl7_msg *m = NULL;
    struct hub_err err = { 0 };
    struct slice ack;

    printf("#%zu len=%zu\n", idx, x->len);
    int rc = hl7_parse(a, x->p, x->len, &m, &err);
    put_err("parse", rc, &err);
    printf("msh");
    put_slice("ctl", hl7_control_id(m));
    put_slice("type", hl7_message_type(m));
    put_slice("trig", hl7_trigger(m));
    put_slice("ver", hl7_version(m));
    put_slice("app", hl7_sending_application(m));
    put_slice("fac", hl7_sending_facility(m));
    putchar('\n');
    if (rc == HUB_OK) {
        struct canon_list l = { 0 };
        struct hub_err e2 = { 0 };
        struct hl7_warnings w;
        /* with the warnings the ACK carries, as hubd answers (F3140) */
        int rc2 = hl7_to_events_warn(a, m, &l, &w, &e2);
        put_err("events", rc2, &e2);
        for (size_t k = 0; k < l.n; k++) {
            printf("event %s ", l.ev[k].type);
            fwrite(l.ev[k].json.p, 1, l.ev[k].json.len, stdout);
            putchar('\n');
        }
        dump_dict(a, m, rc2, &l);
        dump_gets(a, m, x);
        if (hl7_ack_warn(a, m, rc2 == HUB_OK ? "AA" : "AE",
                         rc2 == HUB_OK ? NULL : &e2, &w, "ACK1",
                         "20260101000000+0000", &ack) == HUB_OK) {
            fputs("ack ", stdout);
            put_bytes(ack.p, ack.len);
            putchar('\n');
        }
    } else if (hl7_ack(a, m, "AE", &err, "ACK1", "20260101000000+0000",
                       &ack) == HUB_OK) {
        fputs("ack ", stdout);
        put_bytes(ack.p, ack.len);
        putchar('\n');
    }
}

int main(int argc, char **argv)
{
    size_t mutants = 0;
    int c;

    while ((c = getopt(argc, argv, "l:m:s:")) != -1) {
        if (c == 'l') {
            size_t len;
            char *b = slurp(optarg, &len), *p = b, *end = b + len;
            while (p < end) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = (size_t)((nl ? nl : end) - p);
                if (n > 0)
                    add(p, n);
                p += n + 1;
            }
        } else if (c == 'm') {
            mutants = strtoul(optarg, NULL, 10);
        } else if (c == 's') {
            rng ^= strtoull(optarg, NULL, 10) * 0x9e3779b97f4a7c15u;
            if (rng == 0)
                rng = 1;
        } else {
            fputs("usage: hl7_equiv [-l FILE]... [-m N] [-s SEED] "
                  "[FILE...]\n", stderr);
            return 2;
        }
    }
    for (int i = optind; i < argc; i++) {
        size_t len;
        char *b = slurp(argv[i], &len);
        add(b, len);
    }
    if (nmsgs == 0 && mutants) {
        fputs("hl7_equiv: mutants need messages to start from\n", stderr);
        return 2;
    }
    size_t base = nmsgs;
    for (size_t k = 0; k < mutants; k++) {
        const struct msg *from = &msgs[below(base)];
        struct gbuf g = { 0 };
        gput(&g, from->p, from->len);
        for (size_t n = 1 + below(4); n > 0; n--)
            mutate(&g);
        add(g.p, g.len);
    }
    add_hostile();

    struct dict_err de = { 0 };
    if (dict_files_load(NULL, &dict, &de) != HUB_OK) {
        fprintf(stderr, "hl7_equiv: dictionary: %s %s %s\n", de.file,
                de.path, de.what ? de.what : "");
        return 1;
    }
    struct arena a;
    arena_init(&a, 64 * 1024);
    for (size_t k = 0; k < nmsgs; k++) {
        dump(&a, k, &msgs[k]);
        arena_reset(&a);
    }
    arena_release(&a);
    dict_free(dict);
    return 0;
}
