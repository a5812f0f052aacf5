/*
 * csvrun.c - one CSV upload through the CSV adapter (see csvrun.h).
 */
#include <string.h>

#include "csvrun.h"

struct csvrun csvrun(struct arena *a, const struct dict *d, const char *kind,
                     const char *name, const char *p, size_t len)
{
    struct csvrun r;
    memset(&r, 0, sizeof(r));
    struct csv_file *f = arena_zalloc(a, sizeof(*f));
    f->name = name;
    f->p = p;
    f->len = len;
    r.rc = csv_to_events_at(a, d, kind, f, 1, CSVRUN_AT, &r.out, &r.rep,
                            &r.err);
    return r;
}

const struct csv_finding *csvrun_finding(const struct csv_report *r,
                                         size_t row, const char *what)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->f[i].row == row && strstr(r->f[i].what, what))
            return &r->f[i];
    return NULL;
}
