/*
 * readfile.h - a whole file into memory, bounded: migrations (store_migrate.c) and
 * the samples of `hubctl normalize`.
 */
#ifndef HUB_READFILE_H
#define HUB_READFILE_H

#include <stddef.h>

/*
 * Read the file at `path` into a malloc'd buffer, NUL-terminated (the NUL
 * not counted in *len); the caller frees *out. Returns HUB_OK, HUB_EIO
 * when it cannot be opened or read, or HUB_ELIMIT when it holds more than
 * `max` bytes (then nothing is returned).
 */
int read_file(const char *path, size_t max, char **out, size_t *len);

#endif
