/*
 * parse_bench.c - adapters on one core: parse plus normalize to canonical
 * events, as ingest does it (one arena per message, reset between).
 *
 *   parse_bench [-d SECONDS] KIND FILE...
 *
 * KIND is hl7, hl7dict (with the data dictionary, as hubd normalizes) or
 * hl7parse (FILE is the bench corpus, one message per line), fhir or ccda (each FILE one resource, bundle or document), or csv (each argument KIND=PATH, a
 * csv_to_events kind and a file, or a directory for a multi-file set).
 * Each adapter is compiled in only when run.sh found it in libadapters.a
 * (BENCH_HL7, BENCH_FHIR, BENCH_CCDA, BENCH_CSV); otherwise the row prints "na". The
 * C-CDA and CSV adapters score with the data dictionary of schemas/dict.
 * Prints one line: "parse KIND units_per_s=N mb_per_s=N errors=N events=N
 * units=N" where a unit is a message, a document or a CSV row. Only units
 * that parse and normalize without error are counted in the rate; errors
 * are reported so that a rate over a failing corpus is never mistaken for a
 * real one. `units` counts those of the warm-up pass too: every unit run,
 * to divide a callgrind count by (tests/bench/csv_cpu.sh).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/canon.h"
#include "common/hub_err.h"
#ifdef BENCH_HL7
#include "hl7v2/hl7v2.h"
#endif
#if defined(BENCH_HL7) || defined(BENCH_FHIR) || defined(BENCH_CCDA) || \
    defined(BENCH_CSV)
#include "common/dict.h"
#include "dict_files.h"
#endif
#ifdef BENCH_FHIR
#include "fhir/fhir.h"
#endif
#ifdef BENCH_CCDA
#include "ccda/ccda.h"
#endif
#ifdef BENCH_CSV
#include "csv/csv.h"
#endif

#define UNIT_FILES 8

struct unit {
    const char *p;              /* bytes of all files, for MB/s */
    size_t len;
    const char *kind;           /* csv: the csv_to_events kind */
#ifdef BENCH_CSV
    struct csv_file files[UNIT_FILES];
    size_t nfiles;
#endif
};

#if defined(BENCH_HL7) || defined(BENCH_FHIR) || defined(BENCH_CCDA) || \
    defined(BENCH_CSV)
static struct dict *dict;
#endif

static struct unit *units;
static size_t nunits, capunits;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void add_unit(const char *p, size_t len)
{
    if (nunits == capunits) {
        capunits = capunits ? capunits * 2 : 1024;
        units = realloc(units, capunits * sizeof(*units));
        if (!units) {
            fputs("parse_bench: out of memory\n", stderr);
            exit(1);
        }
    }
    units[nunits++] = (struct unit){ .p = p, .len = len };
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *b;

    if (!f || fstat(fileno(f), &st) != 0) {
        fprintf(stderr, "parse_bench: cannot open input: %s\n", strerror(errno));
        exit(1);
    }
    b = malloc((size_t)st.st_size + 1);
    if (!b || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fputs("parse_bench: cannot read input\n", stderr);
        exit(1);
    }
    fclose(f);
    b[st.st_size] = '\0';
    *len = (size_t)st.st_size;
    return b;
}

/* The HL7 corpus: one message per line (segments end in CR inside). */
__attribute__((unused))
static void load_lines(const char *path)
{
    size_t len;
    char *b = slurp(path, &len), *p = b, *end = b + len;

    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if (n > 0)
            add_unit(p, n);
        p += n + 1;
    }
}

#ifdef BENCH_FHIR
static int bench_fhir(struct arena *a, const struct unit *u, size_t *events,
                      size_t *rows, struct hub_err *err)
{
    struct canon_list l = { 0 };
    struct fhir_result res;
    int rc = fhir_to_events(a, dict, u->p, u->len, &l, &res, err);

    *events = l.n;
    *rows = 1;
    return rc;
}
#endif

#ifdef BENCH_CCDA
static int bench_ccda(struct arena *a, const struct unit *u, size_t *events,
                      size_t *rows, struct hub_err *err)
{
    struct canon_list l = { 0 };
    struct slice id;
    int rc = ccda_to_events(a, dict, u->p, u->len, &l, &id, err);

    *events = l.n;
    *rows = 1;
    return rc;
}
#endif

#ifdef BENCH_CSV
static int bench_csv(struct arena *a, const struct unit *u, size_t *events,
                     size_t *rows, struct hub_err *err)
{
    struct canon_list l = { 0 };
    struct csv_report rep = { 0 };
    int rc = csv_to_events(a, dict, u->kind, u->files, u->nfiles, &l, &rep,
                           err);

    *events = l.n;
    *rows = rep.rows_used;      /* the unit of this row is a CSV row */
    if (rc == HUB_OK && rep.rows_used == 0)
        rc = HUB_EINVALID;      /* nothing used: not a rate worth giving */
    return rc;
}

/* KIND=PATH: one file, or every regular file of a directory (a set). */
static void load_csv_arg(char *arg)
{
    char *eq = strchr(arg, '=');
    struct unit u = { 0 };
    DIR *d;

    if (!eq) {
        fputs("parse_bench: csv arguments are KIND=PATH\n", stderr);
        exit(2);
    }
    *eq = '\0';
    u.kind = arg;
    d = opendir(eq + 1);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) && u.nfiles < UNIT_FILES) {
            char path[4096];
            size_t n;
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", eq + 1, e->d_name);
            u.files[u.nfiles].name = strdup(e->d_name);
            u.files[u.nfiles].p = slurp(path, &n);
            u.files[u.nfiles++].len = n;
            u.len += n;
        }
        closedir(d);
    } else {
        size_t n;
        const char *base = strrchr(eq + 1, '/');
        u.files[0].name = base ? base + 1 : eq + 1;
        u.files[0].p = slurp(eq + 1, &n);
        u.files[0].len = n;
        u.len = n;
        u.nfiles = 1;
    }
    add_unit(NULL, 0);
    units[nunits - 1] = u;
}
#endif

#if defined(BENCH_HL7) || defined(BENCH_FHIR) || defined(BENCH_CCDA) || \
    defined(BENCH_CSV)
static void load_dict(void)
{
    struct dict_err de = { 0 };

    if (dict_files_load(NULL, &dict, &de) != HUB_OK) {
        fprintf(stderr, "parse_bench: dictionary: %s %s %s\n", de.file,
                de.path, de.what ? de.what : "");
        exit(1);
    }
}
#endif

/*
 * One unit through its adapter: HUB_OK and *events set, or an error.
 * *rows is the number of units it stands for (CSV rows of a file).
 */
typedef int (*bench_fn)(struct arena *a, const struct unit *u,
                        size_t *events, size_t *rows, struct hub_err *err);

#ifdef BENCH_HL7
static int bench_hl7(struct arena *a, const struct unit *u, size_t *events,
                     size_t *rows, struct hub_err *err)
{
    struct hl7_msg *m;
    struct canon_list l = { 0 };
    int rc;

    rc = hl7_parse(a, u->p, u->len, &m, err);
    if (rc == HUB_OK)
        rc = hl7_to_events(a, m, &l, err);
    *events = l.n;
    *rows = 1;
    return rc;
}

/* As hubd normalizes: with the dictionary, whose rows label DG1s. */
static int bench_hl7dict(struct arena *a, const struct unit *u,
                         size_t *events, size_t *rows, struct hub_err *err)
{
    struct hl7_msg *m;
    struct canon_list l = { 0 };
    int rc;

    rc = hl7_parse(a, u->p, u->len, &m, err);
    if (rc == HUB_OK)
        rc = hl7_to_events_dict(a, dict, m, &l, NULL, err);
    *events = l.n;
    *rows = 1;
    return rc;
}

/* Parse alone, to show what normalizing costs beside it. */
static int bench_hl7parse(struct arena *a, const struct unit *u,
                          size_t *events, size_t *rows, struct hub_err *err)
{
    struct hl7_msg *m;

    *events = 0;
    *rows = 1;
    return hl7_parse(a, u->p, u->len, &m, err);
}
#endif

int main(int argc, char **argv)
{
    double secs = 5;
    const char *kind;
    bench_fn fn = NULL;
    struct arena a;
    int c, i;

    while ((c = getopt(argc, argv, "d:")) != -1) {
        if (c == 'd') {
            char *end;
            errno = 0;
            secs = strtod(optarg, &end);
            if (errno || end == optarg || *end || secs <= 0 || secs > 600) {
                fputs("parse_bench: -d is not a duration\n", stderr);
                return 2;
            }
        } else {
            return 2;
        }
    }
    if (optind + 1 >= argc) {
        fputs("usage: parse_bench [-d SECONDS] KIND FILE...\n", stderr);
        return 2;
    }
    kind = argv[optind];
#ifdef BENCH_HL7
    if (strcmp(kind, "hl7") == 0 || strcmp(kind, "hl7parse") == 0 ||
        strcmp(kind, "hl7dict") == 0) {
        fn = strcmp(kind, "hl7") == 0       ? bench_hl7
             : strcmp(kind, "hl7dict") == 0 ? bench_hl7dict
                                            : bench_hl7parse;
        if (fn == bench_hl7dict)
            load_dict();
        for (i = optind + 1; i < argc; i++)
            load_lines(argv[i]);
    }
#endif
#ifdef BENCH_FHIR
    if (strcmp(kind, "fhir") == 0) {
        fn = bench_fhir;
        load_dict();
        for (i = optind + 1; i < argc; i++) {
            size_t n;
            char *b = slurp(argv[i], &n);
            add_unit(b, n);
        }
    }
#endif
#ifdef BENCH_CCDA
    if (strcmp(kind, "ccda") == 0) {
        fn = bench_ccda;
        ccda_global_init();
        load_dict();
        for (i = optind + 1; i < argc; i++) {
            size_t n;
            char *b = slurp(argv[i], &n);
            add_unit(b, n);
        }
    }
#endif
#ifdef BENCH_CSV
    if (strcmp(kind, "csv") == 0) {
        fn = bench_csv;
        load_dict();
        for (i = optind + 1; i < argc; i++)
            load_csv_arg(argv[i]);
    }
#endif
    if (!fn) {
        printf("parse %s units_per_s=na mb_per_s=na errors=0 events=0 "
               "units=0\n", kind);
        return 0;
    }
    (void)i;
    if (nunits == 0) {
        fputs("parse_bench: no input\n", stderr);
        return 1;
    }

    /* One pass first: warms caches and finds the units that fail. */
    size_t errors = 0, events_total = 0, warm = 0, k;
    arena_init(&a, 64 * 1024);
    for (k = 0; k < nunits; k++) {
        size_t ev = 0, rows = 0;
        struct hub_err err = { 0 };
        int rc = fn(&a, &units[k], &ev, &rows, &err);
        if (rc != HUB_OK && errors++ == 0)
            fprintf(stderr, "parse_bench: %s: first failure: unit %zu: %s "
                    "at %s: %s\n", kind, k, hub_strerror(rc), err.field,
                    err.what ? err.what : "?");
        events_total += ev;
        if (rc == HUB_OK)
            warm += rows;
        arena_reset(&a);
    }

    uint64_t t0 = now_ns(), limit = (uint64_t)(secs * 1e9), el = 0;
    size_t done = 0, bytes = 0, idx = 0;
    while (el < limit) {
        for (int burst = 0; burst < 256; burst++) {
            size_t ev = 0, rows = 0;
            struct hub_err err;
            const struct unit *u = &units[idx];
            if (fn(&a, u, &ev, &rows, &err) == HUB_OK) {
                done += rows;
                bytes += u->len;
            }
            arena_reset(&a);
            if (++idx == nunits)
                idx = 0;
        }
        el = now_ns() - t0;
    }
    arena_release(&a);
    double s = (double)el / 1e9;
    printf("parse %s units_per_s=%.0f mb_per_s=%.1f errors=%zu events=%zu "
           "units=%zu\n", kind, (double)done / s, (double)bytes / s / 1e6,
           errors, events_total, warm + done);
    return 0;
}
