/*
 * equiv_mutate.h - what ccda_equiv.c and fhir_equiv.c share to make their
 * mutants: one fixed-seed xorshift (the same seed, the same documents, so
 * that the old and new builds read the same bodies), byte insertion and a
 * random position of a byte, a whole file read into MAX_DOC bytes of
 * room, and the run over the files and their mutants. Header-only: each
 * tool is one file linked with the adapters.
 */
#ifndef HUB_EQUIV_MUTATE_H
#define HUB_EQUIV_MUTATE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DOC (1u << 20)

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t pick(size_t n)
{
    return n ? (size_t)(next() % n) : 0;
}

/* Insert s at position at of d (len *n, room MAX_DOC). */
static void insert(char *d, size_t *n, size_t at, const char *s, size_t k)
{
    if (*n + k > MAX_DOC || at > *n)
        return;
    memmove(d + at + k, d + at, *n - at);
    memcpy(d + at, s, k);
    *n += k;
}

/* A random position of byte c in d, or SIZE_MAX. */
static size_t find_any(const char *d, size_t n, char c)
{
    size_t count = 0, want, i;
    for (i = 0; i < n; i++)
        count += d[i] == c;
    if (count == 0)
        return SIZE_MAX;
    want = pick(count);
    for (i = 0; i < n; i++)
        if (d[i] == c && want-- == 0)
            return i;
    return SIZE_MAX;
}

/* The file at path in a buffer of MAX_DOC bytes (room for its mutants),
 * or NULL when it cannot be read or is larger. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0 || (size_t)n > MAX_DOC || (p = malloc(MAX_DOC)) == NULL) {
        fclose(f);
        return NULL;
    }
    if (fread(p, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(p);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* What a tool's main does once its dictionary is loaded: the options
 * (-m MUTANTS, -s SEED), each FILE run as it stands, then the mutants of
 * them, each run. 0, or 2 when a file cannot be read. */
static int equiv_main(const char *tool, int argc, char **argv,
                      void (*run)(const char *, const char *, size_t),
                      void (*mutate)(char *, size_t *))
{
    long mutants = 0;
    int i = 1, nfiles = 0;
    static char *docs[1024];
    static size_t lens[1024];
    static char d[MAX_DOC];

    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-m") == 0)
            mutants = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "-s") == 0)
            rng += (uint64_t)strtoull(argv[i + 1], NULL, 10) * 2654435761u;
    }
    for (; i < argc && nfiles < 1024; i++) {
        docs[nfiles] = slurp(argv[i], &lens[nfiles]);
        if (docs[nfiles] == NULL) {
            fprintf(stderr, "%s: cannot read %s\n", tool, argv[i]);
            return 2;
        }
        run(argv[i], docs[nfiles], lens[nfiles]);
        nfiles++;
    }
    for (long m = 0; m < mutants && nfiles > 0; m++) {
        size_t k = pick((size_t)nfiles), n = lens[k];
        char name[32];
        memcpy(d, docs[k], n);
        mutate(d, &n);
        snprintf(name, sizeof(name), "mutant-%ld", m);
        run(name, d, n);
    }
    return 0;
}

#endif
