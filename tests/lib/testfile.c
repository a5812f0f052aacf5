/*
 * testfile.c - see testfile.h.
 */
#include "testfile.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testdb.h"

char *testfile_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (p = malloc((size_t)n + 1)) == NULL ||
        fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        fclose(f);
        return NULL;
    }
    fclose(f);
    p[n] = '\0';
    *len = (size_t)n;
    return p;
}

int testfile_each_golden_event(int (*fn)(const char *path, const char *doc,
                                         size_t n, void *arg),
                               void *arg)
{
    static const char *const dirs[] = { "tests/data/hl7v2", "tests/data/fhir",
                                        "tests/data/ccda", "tests/data/csv" };
    int sum = 0;

    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", testdb_root(), dirs[d]);
        DIR *dir = opendir(path);
        if (dir == NULL)
            continue;
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            size_t l = strlen(e->d_name);
            if (l < 5 || strcmp(e->d_name + l - 5, ".json") != 0)
                continue;
            char f[2048];
            size_t n = 0;
            snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
            char *doc = testfile_read(f, &n);
            sum += fn(f, doc, n, arg);
            free(doc);
        }
        closedir(dir);
    }
    return sum;
}

char *testfile_root_read(const char *rel)
{
    char p[4096];
    const char *root = getenv("HUB_ROOT");
    size_t n;

    snprintf(p, sizeof(p), "%s/%s", root && *root ? root : ".", rel);
    return testfile_read(p, &n);
}
