/*
 * jcanon_ref.h - the former jcanon() (see jcanon_ref.c), for differential
 * tests of hub/jcanon.c: same contract, same answers.
 */
#ifndef HUB_JCANON_REF_H
#define HUB_JCANON_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/slice.h"

bool jcanon_ref(struct arena *a, const char *p, size_t n, struct slice *out);

#endif
