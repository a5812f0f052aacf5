/*
 * contained_probe.c - the FHIR adapter's worst case of contained look-ups
 * (F3308): N contained Conditions, each named "#cI" once, in
 *   encounter: a notification message whose Encounter names them in
 *              diagnosis[] (N = 9,900 is a 2.1 MB body);
 *   referral:  a ServiceRequest that names them in reasonReference[].
 *
 *   contained_probe [N...]        (default 1000 9900)
 *
 * Prints, per body, its size, its events and the CPU seconds of the
 * fastest of three runs of fhir_to_events (the dictionary of schemas/dict,
 * as parse_bench). Built as parse_bench is (tests/bench/run.sh):
 *   cc $CFLAGS -DBENCH_FHIR tests/bench/contained_probe.c build/libhub.a \
 *       build/libadapters.a $PKG_LIBS -lm -o build/bench/contained_probe
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "common/canon.h"
#include "common/dict.h"
#include "common/hub_err.h"
#include "dict_files.h"
#include "fhir/fhir.h"

struct buf {
    char *p;
    size_t n, cap;
};

static void put(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    while (b->cap - b->n <= n) {
        b->cap = b->cap ? b->cap * 2 : 1 << 20;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            exit(1);
    }
    memcpy(b->p + b->n, s, n + 1);
    b->n += n;
}

/* n contained Conditions "c0".. and, in `key`, n references to them,
 * each in a member `wrap` (or bare when NULL) */
static void contained(struct buf *b, int n, const char *key,
                      const char *wrap)
{
    char s[512];
    put(b, "\"contained\":[");
    for (int i = 0; i < n; i++) {
        snprintf(s, sizeof(s), "%s{\"resourceType\":\"Condition\",\"id\":"
                 "\"c%d\",\"subject\":{\"reference\":\"Patient/p1\"},"
                 "\"code\":{\"coding\":[{\"system\":\"http://hl7.org/fhir/"
                 "sid/icd-10-cm\",\"code\":\"Z59.%d\"}]}}", i ? "," : "", i,
                 i % 10);
        put(b, s);
    }
    snprintf(s, sizeof(s), "],\"%s\":[", key);
    put(b, s);
    for (int i = 0; i < n; i++) {
        snprintf(s, sizeof(s), "%s%s%s{\"reference\":\"#c%d\"}%s",
                 i ? "," : "", wrap ? "{\"" : "", wrap ? wrap : "", i,
                 wrap ? "}" : "");
        put(b, s);
    }
    put(b, "]");
}

static void encounter(struct buf *b, int n)
{
    put(b, "{\"resourceType\":\"Bundle\",\"id\":\"m1\",\"type\":\"message\","
           "\"timestamp\":\"2026-01-15T09:30:00-05:00\",\"entry\":[{"
           "\"fullUrl\":\"urn:uuid:1b0e7bd8-0d1c-4e0f-9a44-3f7a5d3c2b10\","
           "\"resource\":{\"resourceType\":\"MessageHeader\",\"id\":\"h1\","
           "\"eventCoding\":{\"system\":\"http://hl7.org/fhir/us/"
           "davinci-alerts/CodeSystem/notification-event\",\"code\":"
           "\"notification-admit\"},\"source\":{\"endpoint\":"
           "\"https://ex.org/src\"},\"focus\":[{\"reference\":"
           "\"Encounter/e1\"}]}},{\"fullUrl\":\"https://ex.org/fhir/"
           "Encounter/e1\",\"resource\":{\"resourceType\":\"Encounter\","
           "\"id\":\"e1\",\"status\":\"in-progress\",\"class\":{\"system\":"
           "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":"
           "\"IMP\"},\"subject\":{\"reference\":\"Patient/p1\"},\"period\":"
           "{\"start\":\"2026-01-15T08:00:00-05:00\"},");
    contained(b, n, "diagnosis", "condition\":");
    put(b, "}},{\"fullUrl\":\"https://ex.org/fhir/Patient/p1\",\"resource\":"
           "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{"
           "\"system\":\"urn:oid:1.2.3\",\"value\":\"MRN1\"}]}}]}");
}

static void referral(struct buf *b, int n)
{
    put(b, "{\"resourceType\":\"ServiceRequest\",\"id\":\"sr1\",\"status\":"
           "\"active\",\"intent\":\"order\",\"subject\":{\"reference\":"
           "\"Patient/p1\"},\"code\":{\"coding\":[{\"system\":"
           "\"http://snomed.info/sct\",\"code\":\"467771000124109\"}]},");
    contained(b, n, "reasonReference", NULL);
    put(b, "}");
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "encounter", "referral" };
    void (*const make[])(struct buf *, int) = { encounter, referral };
    struct dict *d;
    struct dict_err de = { 0 };
    if (dict_files_load(NULL, &d, &de) != HUB_OK) {
        fprintf(stderr, "contained_probe: dictionary: %s\n", de.file);
        return 1;
    }
    const char *def[] = { "1000", "9900" };
    int nn = argc > 1 ? argc - 1 : 2;
    for (int a = 0; a < nn; a++) {
        int n = (int)strtol(argc > 1 ? argv[a + 1] : def[a], NULL, 10);
        for (size_t k = 0; k < 2; k++) {
            struct buf b = { 0 };
            make[k](&b, n);
            double best = 1e9;
            size_t events = 0, out_bytes = 0;
            int rc = HUB_OK;
            for (int run = 0; run < 3; run++) {
                struct arena ar;
                struct canon_list l = { 0 };
                struct hub_err err;
                arena_init(&ar, 64 * 1024);
                double t0 = cpu_s();
                rc = fhir_to_events(&ar, d, b.p, b.n, &l, NULL, &err);
                double t = cpu_s() - t0;
                best = t < best ? t : best;
                events = l.n;
                out_bytes = 0;
                for (size_t i = 0; i < l.n; i++)
                    out_bytes += l.ev[i].json.len;
                arena_release(&ar);
            }
            printf("%-9s N=%-5d %8zu bytes rc=%d events=%zu (%zu bytes) "
                   "cpu_s=%.4f\n", names[k], n, b.n, rc, events, out_bytes,
                   best);
            free(b.p);
        }
    }
    dict_free(d);
    return 0;
}
