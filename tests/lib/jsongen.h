/*
 * jsongen.h - random documents for the tests that hold jcanon to another
 * writer (the reference writer, PostgreSQL's jsonb): JSON with every
 * escape, numbers jsonb prints its own way, odd whitespace, deep nesting
 * and objects past 32 members; some of them not JSON at all (a \u0000, a
 * lone byte), which both sides must refuse alike.
 */
#ifndef HUB_TESTS_JSONGEN_H
#define HUB_TESTS_JSONGEN_H

#include "common/buf.h"

/* A generator: the same seed gives the same documents. */
struct jsongen {
    unsigned long long state;
};

/* A number in 0..n-1 (n > 0). */
unsigned jsongen_rnd(struct jsongen *g, unsigned n);

/* One document into b: mostly an object of two members, as event bodies
 * are, else any value; whitespace around it. */
void jsongen_doc(struct jsongen *g, struct buf *b);

#endif
