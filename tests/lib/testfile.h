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

#endif
