/*
 * dict_files.c - the I/O half of the data dictionary: list the .json files in a
 * directory (sorted, so that instrument files merge in a stable order),
 * read each whole with a size cap, and call dict_load().
 */
#include "dict_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hub_err.h"

static void set_err(struct dict_err *err, const char *file, const char *what)
{
    if (err) {
        snprintf(err->file, sizeof(err->file), "%s", file);
        err->path[0] = '\0';
        err->what = what;
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read a whole file of at most `max` bytes into a malloc'd buffer. */
static int read_all(int dirfd, const char *name, size_t max, char **out,
                    size_t *len)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return HUB_EIO;
    struct stat st;
    int rc = HUB_EIO;
    char *p = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        goto out;
    if ((size_t)st.st_size > max) {
        rc = HUB_ELIMIT;
        goto out;
    }
    p = malloc((size_t)st.st_size + 1);
    if (p == NULL)
        abort();
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, p + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        got += (size_t)r;
    }
    p[got] = '\0';
    *out = p;
    *len = got;
    p = NULL;
    rc = HUB_OK;
out:
    free(p);
    close(fd);
    return rc;
}

int dict_files_load(const char *dir, struct dict **out, struct dict_err *err)
{
    char *names[DICT_FILES_MAX];
    struct dict_file files[DICT_FILES_MAX];
    size_t n = 0;
    int rc = HUB_EIO;

    *out = NULL;
    if (dir == NULL)
        dir = DICT_DEFAULT_DIR;
    DIR *dp = opendir(dir);
    if (dp == NULL) {
        set_err(err, dir, "cannot open the dictionary directory");
        return HUB_EIO;
    }
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 6 || de->d_name[0] == '.' ||
            strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        if (n == DICT_FILES_MAX) {
            set_err(err, dir, "too many .json files in the directory");
            rc = HUB_ELIMIT;
            goto out;
        }
        names[n] = strdup(de->d_name);
        if (names[n] == NULL)
            abort();
        files[n].p = NULL;
        n++;
    }
    qsort(names, n, sizeof(names[0]), cmp_names);
    for (size_t i = 0; i < n; i++) {
        files[i].name = names[i];
        char *p;
        size_t len;
        int r = read_all(dirfd(dp), names[i], DICT_MAX_FILE_BYTES, &p, &len);
        if (r != HUB_OK) {
            set_err(err, names[i], r == HUB_ELIMIT
                                       ? "file is larger than the limit"
                                       : "cannot read the file");
            rc = r;
            goto out;
        }
        files[i].p = p;
        files[i].len = len;
    }
    rc = dict_load(files, n, out, err);
out:
    for (size_t i = 0; i < n; i++) {
        free((void *)files[i].p);
        free(names[i]);
    }
    closedir(dp);
    return rc;
}
