/*
 * fuzz_dict.h - the data dictionary for a fuzz harness: every *.json of
 * schemas/dict, as hubd loads it (a new table is fuzzed the day it is
 * added), read once in LLVMFuzzerInitialize. Run from the repo root.
 * Header-only: each harness is one translation unit with the adapters.
 */
#ifndef HUB_FUZZ_DICT_H
#define HUB_FUZZ_DICT_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict.h"

#define FUZZ_DICT_MAX_FILES 32

static char *fuzz_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n)
        abort();
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* The dictionary, or abort() with why on stderr (`who`: the harness). */
static struct dict *fuzz_dict_load(const char *who)
{
    struct dict_file f[FUZZ_DICT_MAX_FILES];
    struct dict_err err;
    struct dict *d = NULL;
    size_t n = 0;
    DIR *dp = opendir("schemas/dict");
    if (dp == NULL) {
        fprintf(stderr, "%s: run from the repo root\n", who);
        abort();
    }
    struct dirent *de;
    while ((de = readdir(dp)) != NULL && n < FUZZ_DICT_MAX_FILES) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        char path[512];
        snprintf(path, sizeof(path), "schemas/dict/%s", de->d_name);
        f[n].name = strdup(de->d_name);
        f[n].p = fuzz_slurp(path, &f[n].len);
        if (f[n].name == NULL || f[n].p == NULL)
            abort();
        n++;
    }
    closedir(dp);
    if (dict_load(f, n, &d, &err) != 0) {
        fprintf(stderr, "%s: dictionary: %s %s %s\n", who, err.file,
                err.path, err.what ? err.what : "-");
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        free((void *)f[i].name);
        free((void *)f[i].p);
    }
    return d;
}

#endif
