/*
 * testdict.h - the project's data dictionary (schemas/dict), loaded for the
 * adapter tests that score with it.
 */
#ifndef HUB_TESTDICT_H
#define HUB_TESTDICT_H

struct dict;

/* The dictionary of $HUB_ROOT/schemas/dict (else ./schemas/dict); fails
 * the running test, with the loader's reason, when it cannot be loaded.
 * dict_free() it. */
struct dict *testdict_load(void);

#endif
