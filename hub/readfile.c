/*
 * readfile.c - see readfile.h.
 */
#include "readfile.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/hub_err.h"

int read_file(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return HUB_EIO;
    /* grown as it fills: `max` may be far above what most files hold */
    size_t cap = max < 64 * 1024 ? max : 64 * 1024, n = 0;
    char *p = malloc(cap + 2);
    int rc = HUB_OK;
    if (p == NULL)
        abort();
    for (;;) {
        if (n == cap + 1) {         /* full, one byte past the cap read */
            if (cap >= max) {
                rc = HUB_ELIMIT;
                break;
            }
            cap = cap * 2 < max ? cap * 2 : max;
            p = realloc(p, cap + 2);
            if (p == NULL)
                abort();
        }
        size_t got = fread(p + n, 1, cap + 1 - n, f);
        if (got == 0)
            break;
        n += got;
    }
    if (rc == HUB_OK && ferror(f))
        rc = HUB_EIO;
    fclose(f);
    if (rc != HUB_OK) {
        free(p);
        return rc;
    }
    p[n] = '\0';
    *out = p;
    *len = n;
    return HUB_OK;
}
