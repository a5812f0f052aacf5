/*
 * testfile.h - a whole file read into memory, for tests that compare
 * adapter output with the files of tests/data and ../shared/corpus.
 */
#ifndef HUB_TESTFILE_H
#define HUB_TESTFILE_H

#include <stddef.h>

/* The file's bytes, malloc'd and NUL-terminated (the NUL not counted in
 * *len); NULL when it cannot be opened or read. */
char *testfile_read(const char *path, size_t *len);
/* testfile_read of `rel` below the repository root ($HUB_ROOT, else the
 * current directory); NULL when it cannot be read. */
char *testfile_root_read(const char *rel);

/* Each canonical event the adapters' goldens expect (every .json file of
 * tests/data/hl7v2, fhir, ccda and csv), read whole and handed to fn;
 * returns the sum of what fn returned. A file that cannot be read is
 * handed over as NULL. */
int testfile_each_golden_event(int (*fn)(const char *path, const char *doc,
                                         size_t n, void *arg),
                               void *arg);

#endif
