/*
 * dict_files.h - read the data dictionary from a directory (the one part of
 * the dictionary that does I/O) and hand the bytes to dict_load().
 * Reads every regular file named <x>.json directly in `dir` (not recursive);
 * other names are ignored. Each file is capped at DICT_MAX_FILE_BYTES.
 */
#ifndef HUB_DICT_FILES_H
#define HUB_DICT_FILES_H

#include "common/dict.h"

#define DICT_FILES_MAX 64           /* *.json files in the directory */
#define DICT_DEFAULT_DIR "schemas/dict"

/*
 * Load the dictionary from `dir` (DICT_DEFAULT_DIR when NULL). Returns
 * HUB_OK and *out (dict_free it), or a negative HUB_E* with *err filled:
 * HUB_EIO (err->file names the file or directory that could not be read),
 * or whatever dict_load returned.
 */
int dict_files_load(const char *dir, struct dict **out, struct dict_err *err)
    __attribute__((warn_unused_result));

#endif
