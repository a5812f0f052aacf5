/*
 * gen_adt.c - deterministic generator of a realistic HL7 v2 ADT corpus for
 * `make bench`: A01/A02/A03/A04/A08 in versions 2.3 to 2.5.1, each message
 * 1-2 KB with a varied set of PD1, NK1, PV1, PV2, DG1, AL1 and IN1 segments,
 * synthetic names and identifiers, and a unique MSH-10.
 *
 *   gen_adt [-n COUNT] [-s SEED] [-b BURST] [-o FILE]
 *
 * -b BURST: messages in runs of BURST for one patient, as a hospital sends
 * an admit or a registration and its updates within moments: the run's
 * first as without -b, the others the same message with their own MSH-10
 * and the trigger A08 (the bench's ingest-to-delivery row for bursts: a
 * patient's events are delivered in order, each after the one before).
 *
 * Output: one message per line; segments end in CR, messages in LF (LF never
 * occurs inside a message), so that C and Node readers split the same way.
 * MSH-10 is always "BM" followed by 18 digits: the MLLP load client rewrites
 * those digits in place to keep every message it sends unique (the hub is
 * idempotent on MSH-10, and a repeat would measure the duplicate path).
 * Every value is synthetic: the name lists are common words, not people.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GEN_MIN_BYTES 1024
#define GEN_MAX_BYTES 2048
#define GEN_BUF 4096

struct rng {
    uint64_t s;
};

/*
 * splitmix64: tiny and fast. The corpus is the same for the same seed and
 * build (argument evaluation order, hence the draw order, is the compiler's).
 */
static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned rng_below(struct rng *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

#define PICK(r, arr) ((arr)[rng_below((r), sizeof(arr) / sizeof((arr)[0]))])

static const char *const family[] = {
    "ALDER", "BIRCH", "CEDAR", "DOGWOOD", "ELM", "FIR", "GINKGO", "HAZEL",
    "IRONWOOD", "JUNIPER", "KAPOK", "LARCH", "MAPLE", "NUTMEG", "OAK",
    "POPLAR", "QUINCE", "ROWAN", "SPRUCE", "TAMARACK", "ULMUS", "VINE",
    "WILLOW", "YEW", "ZELKOVA", "ASH", "BALSA", "CYPRESS", "DATE", "EBONY",
};
static const char *const given[] = {
    "ROBIN", "WREN", "FINCH", "LARK", "SPARROW", "HERON", "KESTREL", "PLOVER",
    "DOVE", "TERN", "EGRET", "IBIS", "MERLIN", "RAVEN", "SWIFT", "TEAL",
    "CRANE", "OSPREY", "PIPIT", "VIREO",
};
static const char *const street[] = {
    "MAIN ST", "OAK AVE", "RIVER RD", "HILL ST", "PARK BLVD", "LAKE DR",
    "MILL LN", "CHURCH ST", "ELM CT", "MARKET ST", "HIGH ST", "BRIDGE RD",
};
static const char *const city[] = {
    "ALBANY", "BUFFALO", "ROCHESTER", "SYRACUSE", "UTICA", "ITHACA",
    "BINGHAMTON", "TROY", "ELMIRA", "KINGSTON",
};
static const char *const county[] = {
    "36001", "36029", "36055", "36067", "36065", "36109", "36007", "36083",
    "36015", "36111",
};
static const char *const facility[] = {
    "NORTHGEN", "EASTVIEW", "LAKESIDE", "RIVERMED", "HILLCREST",
};
static const char *const unit[] = {
    "4EAST", "5WEST", "ICU", "ED", "MED1", "SURG2", "PEDS", "OBS",
};
static const char *const doctor[] = {
    "STONE^AVERY", "BROOK^CASEY", "FIELD^DREW", "MARSH^EMERY", "GROVE^FINLEY",
    "HEATH^GRAY", "COVE^HARPER", "DALE^JORDAN",
};
/* ICD-10: chronic conditions, SDOH Z codes and F10-F19 (labelled sud). */
static const char *const dx[] = {
    "E11.9^Type 2 diabetes mellitus without complications",
    "I10^Essential (primary) hypertension",
    "J44.1^Chronic obstructive pulmonary disease with exacerbation",
    "I50.9^Heart failure, unspecified",
    "N18.3^Chronic kidney disease, stage 3",
    "Z59.0^Homelessness",
    "Z59.4^Lack of adequate food",
    "Z56.0^Unemployment, unspecified",
    "Z60.2^Problems related to living alone",
    "F10.20^Alcohol dependence, uncomplicated",
    "F11.20^Opioid dependence, uncomplicated",
    "J18.9^Pneumonia, unspecified organism",
    "R07.9^Chest pain, unspecified",
    "S72.001A^Fracture of unspecified part of neck of right femur",
};
static const char *const allergen[] = {
    "PENICILLIN", "SULFA", "LATEX", "PEANUT", "CODEINE", "ASPIRIN",
};
static const char *const plan[] = {
    "MCD001^STATE MEDICAID", "MCO100^BLUE RIVER HEALTH PLAN",
    "MCO200^NORTHERN CARE MANAGED MEDICAID", "MCR001^MEDICARE PART A",
    "COM300^EMPLOYER PPO",
};
static const char *const relation[] = {
    "SPO^Spouse", "PAR^Parent", "CHD^Child", "SIB^Sibling", "FND^Friend",
};
static const char *const disposition[] = { "01", "02", "03", "06", "07", "20" };
static const char *const version[] = { "2.3", "2.4", "2.5", "2.5.1" };

struct out {
    char b[GEN_BUF];
    size_t n;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(o->b + o->n, sizeof(o->b) - o->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof(o->b) - o->n) {
        fputs("gen_adt: message buffer overflow\n", stderr);
        exit(1);
    }
    o->n += (size_t)k;
}

/* A timestamp in late 2026 with a UTC offset, HL7 DTM with seconds. */
static void ts(struct rng *r, char *dst, size_t cap)
{
    snprintf(dst, cap, "2026%02u%02u%02u%02u%02u-0500", 1 + rng_below(r, 12),
             1 + rng_below(r, 28), rng_below(r, 24), rng_below(r, 60),
             rng_below(r, 60));
}

struct shape {
    unsigned nk1, dg1, al1, in1;
    int pd1, pv2;
};

static const char *const triggers[] = { "A01", "A02", "A03", "A04", "A08" };

/*
 * One message from its own seed, so that a changed shape (to hit the size
 * band) regenerates the same values.
 */
static void build(struct out *o, uint64_t seed, uint64_t seq,
                  const struct shape *sh)
{
    struct rng r = { seed };
    char t_msg[32], t_evn[32], t_adm[32], t_dis[32];
    const char *trig = triggers[rng_below(&r, 5)];
    const char *ver = PICK(&r, version);
    const char *fac = PICK(&r, facility);
    const char *fam = PICK(&r, family), *giv = PICK(&r, given);
    char cls = "IEOIIEOR"[rng_below(&r, 8)];
    unsigned mrn = 100000 + rng_below(&r, 900000);
    unsigned i;

    ts(&r, t_msg, sizeof(t_msg));
    ts(&r, t_evn, sizeof(t_evn));
    ts(&r, t_adm, sizeof(t_adm));
    ts(&r, t_dis, sizeof(t_dis));
    /* a discharge after its admission, as a hospital sends it (the two
     * drawn independently gave half the A03s a discharge before the
     * admission, which the adapter warns of since F154): the same
     * draws, the two swapped */
    if (strcmp(t_dis, t_adm) < 0) {
        char t[sizeof(t_adm)];
        memcpy(t, t_adm, sizeof(t));
        memcpy(t_adm, t_dis, sizeof(t));
        memcpy(t_dis, t, sizeof(t));
    }
    o->n = 0;
    put(o, "MSH|^~\\&|ADTAPP|%s^2.16.840.1.113883.3.%u^ISO|HUB|HUBFAC|%s||"
        "ADT^%s^ADT_%s|BM%018" PRIu64 "|P|%s|||AL|NE|USA\r",
        fac, 1000 + rng_below(&r, 9000), t_msg, trig,
        strcmp(trig, "A08") == 0 || strcmp(trig, "A04") == 0 ? "A01" :
        strcmp(trig, "A02") == 0 ? "A02" : strcmp(trig, "A03") == 0 ? "A03" :
        "A01", seq, ver);
    put(o, "EVN|%s|%s|||%u^%s^^^^^^^%s|%s\r", trig, t_evn,
        100 + rng_below(&r, 900), PICK(&r, doctor), fac, t_evn);
    put(o, "PID|1||%u^^^%s^MR^%s~%u^^^STATEMCD^MA~%03u%02u%04u^^^SSA^SS||"
        "%s^%s^%c^^^^L~%s^%s^^^^^M||19%02u%02u%02u|%c||%s|"
        "%u %s^APT %u^%s^NY^1%04u^USA^H^^%s||(%03u)%03u-%04u^PRN^PH|"
        "(%03u)%03u-%04u^WPN^PH|eng^English^ISO6392|%c||||||%s||N||||||N\r",
        mrn, fac, fac, 10000000 + rng_below(&r, 89999999),
        100 + rng_below(&r, 800), 10 + rng_below(&r, 89), rng_below(&r, 10000),
        fam, giv, 'A' + (int)rng_below(&r, 26), PICK(&r, family), giv,
        20 + rng_below(&r, 80), 1 + rng_below(&r, 12), 1 + rng_below(&r, 28),
        "MFU"[rng_below(&r, 3)],
        rng_below(&r, 2) ? "2106-3^White^CDCREC" : "2054-5^Black^CDCREC",
        1 + rng_below(&r, 9999), PICK(&r, street), 1 + rng_below(&r, 40),
        PICK(&r, city), rng_below(&r, 10000), PICK(&r, county),
        200 + rng_below(&r, 800), 200 + rng_below(&r, 800), rng_below(&r, 10000),
        200 + rng_below(&r, 800), 200 + rng_below(&r, 800), rng_below(&r, 10000),
        "SMDW"[rng_below(&r, 4)],
        rng_below(&r, 4) ? "2186-5^Not Hispanic or Latino^CDCREC" :
                           "2135-2^Hispanic or Latino^CDCREC");
    if (sh->pd1)
        put(o, "PD1|||%s PRIMARY CARE^^%u|%u^%s^^^^^^NPI\r", fac,
            1000 + rng_below(&r, 9000), 1000000000u + rng_below(&r, 999999999),
            PICK(&r, doctor));
    for (i = 0; i < sh->nk1; i++)
        put(o, "NK1|%u|%s^%s|%s|%u %s^^%s^NY^1%04u^USA|(%03u)%03u-%04u^PRN^PH"
            "||EC^Emergency Contact^HL70131\r",
            i + 1, PICK(&r, family), PICK(&r, given), PICK(&r, relation),
            1 + rng_below(&r, 9999), PICK(&r, street), PICK(&r, city),
            rng_below(&r, 10000), 200 + rng_below(&r, 800),
            200 + rng_below(&r, 800), rng_below(&r, 10000));
    put(o, "PV1|1|%c|%s^%u^%c^%s^^^^N||||%u^%s^^^^^^^NPI|%u^%s^^^^^^^NPI||"
        "MED||||%c|||%u^%s^^^^^^^NPI|%s|V%09u^^^%s^VN|||||||||||||||||%s"
        "||||||||%s|%s\r",
        cls, PICK(&r, unit), 100 + rng_below(&r, 500),
        'A' + (int)rng_below(&r, 4), fac,
        1000000000u + rng_below(&r, 999999999), PICK(&r, doctor),
        1000000000u + rng_below(&r, 999999999), PICK(&r, doctor),
        "127"[rng_below(&r, 3)],
        1000000000u + rng_below(&r, 999999999), PICK(&r, doctor),
        cls == 'I' ? "IP" : cls == 'E' ? "ER" : "OP",
        rng_below(&r, 1000000000), fac,
        strcmp(trig, "A03") == 0 ? PICK(&r, disposition) : "",
        t_adm, strcmp(trig, "A03") == 0 ? t_dis : "");
    if (sh->pv2)
        put(o, "PV2|||%s||||||%s|%u|||||||||||N\r",
            PICK(&r, dx), t_dis, 1 + rng_below(&r, 14));
    for (i = 0; i < sh->dg1; i++)
        put(o, "DG1|%u|I10|%s^I10|||%c||||||||||%u^%s^^^^^^^NPI\r", i + 1,
            PICK(&r, dx), "AWF"[rng_below(&r, 3)],
            1000000000u + rng_below(&r, 999999999), PICK(&r, doctor));
    for (i = 0; i < sh->al1; i++)
        put(o, "AL1|%u|DA|^%s|%s|RASH\r", i + 1, PICK(&r, allergen),
            rng_below(&r, 2) ? "MO" : "SV");
    for (i = 0; i < sh->in1; i++)
        put(o, "IN1|%u|%s|%u|%s|PO BOX %u^^%s^NY^1%04u||(800)%03u-%04u|"
            "GRP%05u||||20260101|20261231|||%s^%s|SEL^Self|19%02u%02u%02u|||"
            "||||||||||||||||M%09u\r",
            i + 1, PICK(&r, plan), 100 + rng_below(&r, 900), PICK(&r, plan),
            1000 + rng_below(&r, 9000), PICK(&r, city), rng_below(&r, 10000),
            200 + rng_below(&r, 800), rng_below(&r, 10000),
            rng_below(&r, 100000), fam, giv, 20 + rng_below(&r, 80),
            1 + rng_below(&r, 12), 1 + rng_below(&r, 28),
            rng_below(&r, 1000000000));
}

/*
 * Message number i of the corpus into *o; `top`, seeded with the corpus
 * seed, draws each message's own seed in turn.
 */
static void gen_message(struct rng *top, uint64_t i, struct out *o)
{
    uint64_t ms = rng_next(top);
    struct rng sr = { ms ^ 0x5bd1e995u };
    struct shape sh = {
        .nk1 = rng_below(&sr, 3), .dg1 = rng_below(&sr, 5),
        .al1 = rng_below(&sr, 3), .in1 = rng_below(&sr, 3),
        .pd1 = (int)rng_below(&sr, 2), .pv2 = (int)rng_below(&sr, 2),
    };
    int guard;

    build(o, ms, i, &sh);
    /* Grow or shrink the optional segments into the 1-2 KB band. */
    for (guard = 0; guard < 16 && o->n < GEN_MIN_BYTES; guard++) {
        if (sh.dg1 < 6) sh.dg1++;
        else if (sh.in1 < 3) sh.in1++;
        else sh.nk1++;
        build(o, ms, i, &sh);
    }
    for (guard = 0; guard < 16 && o->n > GEN_MAX_BYTES; guard++) {
        if (sh.in1 > 0) sh.in1--;
        else if (sh.nk1 > 0) sh.nk1--;
        else if (sh.dg1 > 1) sh.dg1--;
        else sh.al1 = 0;
        build(o, ms, i, &sh);
    }
}

/* GEN_ADT_LIB: included by a test for gen_message() alone */
#ifndef GEN_ADT_LIB
/* The message in *o made an update of the same patient: MSH-9 ADT^A08^ADT_A01
 * and EVN-1 A08, in place (every trigger and structure is three bytes). */
static char *find(struct out *o, const char *what)
{
    size_t n = strlen(what);
    for (size_t k = 0; k + n <= o->n; k++)
        if (memcmp(o->b + k, what, n) == 0)
            return o->b + k;
    return NULL;
}

static void as_update(struct out *o)
{
    char *msh9 = find(o, "|ADT^");
    char *evn = find(o, "\rEVN|");
    if (msh9 == NULL || evn == NULL || msh9 + 15 > o->b + o->n ||
        memcmp(msh9 + 8, "^ADT_", 5) != 0) {
        fputs("gen_adt: a message without MSH-9 or EVN\n", stderr);
        exit(1);
    }
    memcpy(msh9 + 5, "A08", 3);
    memcpy(msh9 + 13, "A01", 3);
    memcpy(evn + 5, "A08", 3);
}

static uint64_t parse_u64(const char *s, const char *what)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "gen_adt: %s is not a number\n", what);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    uint64_t count = 20000, seed = 42, burst = 1, i;
    const char *path = NULL;
    FILE *f = stdout;
    struct out o;
    size_t total = 0, lo = SIZE_MAX, hi = 0;
    int c;

    while ((c = getopt(argc, argv, "n:s:b:o:")) != -1) {
        switch (c) {
        case 'n': count = parse_u64(optarg, "-n"); break;
        case 's': seed = parse_u64(optarg, "-s"); break;
        case 'b': burst = parse_u64(optarg, "-b"); break;
        case 'o': path = optarg; break;
        default:
            fputs("usage: gen_adt [-n COUNT] [-s SEED] [-b BURST] "
                  "[-o FILE]\n", stderr);
            return 2;
        }
    }
    if (burst == 0)
        burst = 1;
    if (path && !(f = fopen(path, "w"))) {
        perror("gen_adt: open output");
        return 1;
    }
    struct rng top = { seed }, run_start = top;
    for (i = 0; i < count; i++) {
        if (i % burst == 0) {
            run_start = top;            /* the run's message seed, again */
            gen_message(&top, i, &o);
        } else {
            struct rng again = run_start;
            gen_message(&again, i, &o);
            as_update(&o);
        }
        if (fwrite(o.b, 1, o.n, f) != o.n || fputc('\n', f) == EOF) {
            perror("gen_adt: write");
            return 1;
        }
        total += o.n;
        if (o.n < lo) lo = o.n;
        if (o.n > hi) hi = o.n;
    }
    if (f != stdout && fclose(f) != 0) {
        perror("gen_adt: close");
        return 1;
    }
    fprintf(stderr, "gen_adt: %" PRIu64 " messages, %zu bytes, size %zu..%zu "
            "avg %zu\n", count, total, lo, hi, count ? total / count : 0);
    return 0;
}
#endif
