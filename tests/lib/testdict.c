/*
 * testdict.c - the project's data dictionary for tests (see testdict.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/dict.h"
#include "common/hub_err.h"
#include "dict_files.h"
#include "testdict.h"

struct dict *testdict_load(void)
{
    const char *root = getenv("HUB_ROOT");
    char dir[1024];
    struct dict *d = NULL;
    struct dict_err e;
    snprintf(dir, sizeof(dir), "%s/schemas/dict", root ? root : ".");
    int rc = dict_files_load(dir, &d, &e);
    cr_assert_eq(rc, HUB_OK, "dict: %s %s: %s", e.file, e.path,
                 e.what ? e.what : "");
    return d;
}
