/*
 * variant.h - what an adapter made of one input, and the check that the
 * same input written another legal way gives the same: for the variant
 * tests (the unit files named *_variants_test.c; tests/README.md).
 */
#ifndef HUB_TEST_VARIANT_H
#define HUB_TEST_VARIANT_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/canon.h"
#include "common/hub_err.h"

/* Its events as one JSON array, or its refusal's code and field; the row
 * counts of a CSV upload (zero for the other formats). */
struct variant_outcome {
    int rc;
    char field[128];
    size_t used, rejected, blank;
    cJSON *events;
};

/* From an adapter's return code, its error and the events it appended to
 * `l` (copied: the arena may go). */
struct variant_outcome variant_outcome_of(int rc, const struct hub_err *err,
                                          const struct canon_list *l);
void variant_outcome_release(struct variant_outcome *o);

/*
 * Whether `got` (input `name` written as `variant` says) is `want` (as
 * sent): the same refusal at the same place, or the same row counts and
 * events. `canon`, when not NULL, is applied to copies of both event
 * arrays first (to compare lists whose order follows the input's as
 * sets). When not the same, logs both and counts one in *fails.
 */
bool variant_expect_same(const char *name, const char *variant,
                         const struct variant_outcome *want,
                         const struct variant_outcome *got,
                         void (*canon)(cJSON *events), unsigned *fails);

/* The children of an object or array in reverse order. */
void variant_reverse_children(cJSON *j);

#endif
