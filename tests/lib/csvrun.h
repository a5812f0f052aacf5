/*
 * csvrun.h - one CSV upload through the CSV adapter, for the tests that
 * feed it literal files and read back its events and report.
 */
#ifndef HUB_CSVRUN_H
#define HUB_CSVRUN_H

#include <stddef.h>

#include "common/arena.h"
#include "common/hub_err.h"
#include "csv/csv.h"

struct dict;

/* What csv_to_events said of one file. */
struct csvrun {
    int rc;
    struct canon_list out;
    struct csv_report rep;
    struct hub_err err;
};

/* When csvrun's uploads are received: a fixed day, so that what Excel
 * serials read as does not move with the clock. */
#define CSVRUN_AT "2026-12-04T02:40:00.000Z"

/* The `len` bytes at `p`, as one file called `name` of layout `kind`,
 * received at CSVRUN_AT, through csv_to_events_at in `a` with dictionary
 * `d`. */
struct csvrun csvrun(struct arena *a, const struct dict *d, const char *kind,
                     const char *name, const char *p, size_t len);

/* The report's finding at `row` whose reason holds `what`, or NULL. */
const struct csv_finding *csvrun_finding(const struct csv_report *r,
                                         size_t row, const char *what);

#endif
