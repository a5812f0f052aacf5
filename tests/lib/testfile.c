/*
 * testfile.c - see testfile.h.
 */
#include "testfile.h"

#include <stdio.h>
#include <stdlib.h>

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
