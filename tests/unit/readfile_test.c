/*
 * readfile_test.c - read_file (hub/readfile.h): a whole file up to its
 * bound, one byte over refused, a missing file an I/O error.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "readfile.h"

/* A temporary file of n bytes 'a'..; its path in path (unlinked by the
 * caller). */
static void make_file(char *path, size_t n)
{
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    for (size_t i = 0; i < n; i++) {
        char c = (char)('a' + i % 26);
        cr_assert_eq(write(fd, &c, 1), 1);
    }
    close(fd);
}

Test(readfile, reads_up_to_its_bound_and_refuses_one_byte_more)
{
    /* 200 KiB: past the first buffer, so the growth is exercised */
    size_t n = 200 * 1024;
    char path[] = "/tmp/hub-readfile-XXXXXX";
    make_file(path, n);
    char *p = NULL;
    size_t len = 0;
    cr_assert_eq(read_file(path, n, &p, &len), HUB_OK);
    cr_assert_eq(len, n);
    cr_assert_eq(p[n], '\0');
    cr_assert_eq(p[n - 1], (char)('a' + (n - 1) % 26));
    free(p);
    p = NULL;
    cr_assert_eq(read_file(path, n - 1, &p, &len), HUB_ELIMIT);
    cr_assert_null(p);
    unlink(path);
}

Test(readfile, an_empty_file_is_empty_and_a_missing_one_an_io_error)
{
    char path[] = "/tmp/hub-readfile-XXXXXX";
    make_file(path, 0);
    char *p = NULL;
    size_t len = 1;
    cr_assert_eq(read_file(path, 10, &p, &len), HUB_OK);
    cr_assert_eq(len, 0);
    cr_assert_str_eq(p, "");
    free(p);
    unlink(path);
    cr_assert_eq(read_file(path, 10, &p, &len), HUB_EIO);
}
