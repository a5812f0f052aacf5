/*
 * csv_equiv.c - dump everything csv_to_events gives for some uploads (return
 * code, error field and message, the report as JSON, every canonical event),
 * so that tests/tools/csv-equiv.sh can compare two builds byte for byte;
 * with -n N it only runs each upload N times (for callgrind).
 *
 * Usage: csv_equiv [-n N] KIND=PATH...   (PATH a file, or a directory: a set)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/canon.h"
#include "common/dict.h"
#include "common/hub_err.h"
#include "csv/csv.h"
#include "dict_files.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *b;

    if (!f || fstat(fileno(f), &st) != 0) {
        fprintf(stderr, "csv_equiv: cannot open %s\n", path);
        exit(1);
    }
    b = malloc((size_t)st.st_size + 1);
    if (!b || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        exit(1);
    fclose(f);
    *len = (size_t)st.st_size;
    return b;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(((const struct csv_file *)x)->name,
                  ((const struct csv_file *)y)->name);
}

int main(int argc, char **argv)
{
    struct dict *dict = NULL;
    struct dict_err de = { 0 };
    struct arena a;
    long reps = 0;
    int i = 1;

    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        reps = strtol(argv[2], NULL, 10);
        i = 3;
    }
    if (dict_files_load(NULL, &dict, &de) != HUB_OK) {
        fprintf(stderr, "csv_equiv: dictionary\n");
        return 1;
    }
    arena_init(&a, 64 * 1024);
    for (; i < argc; i++) {
        struct csv_file files[CSV_MAX_FILES];
        size_t nf = 0;
        char *eq = strchr(argv[i], '=');
        DIR *d;

        if (!eq)
            return 2;
        *eq = '\0';
        d = opendir(eq + 1);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) && nf < CSV_MAX_FILES) {
                char path[4096];
                if (e->d_name[0] == '.')
                    continue;
                snprintf(path, sizeof(path), "%s/%s", eq + 1, e->d_name);
                files[nf].name = strdup(e->d_name);
                files[nf].sha256 = NULL;
                files[nf].p = slurp(path, &files[nf].len);
                nf++;
            }
            closedir(d);
            qsort(files, nf, sizeof(files[0]), by_name);
        } else {
            const char *base = strrchr(eq + 1, '/');
            files[0].name = base ? base + 1 : eq + 1;
            files[0].sha256 = NULL;
            files[0].p = slurp(eq + 1, &files[0].len);
            nf = 1;
        }
        for (long k = 0; k < (reps > 0 ? reps : 1); k++) {
            struct canon_list l = { 0 };
            struct csv_report rep = { 0 };
            struct hub_err err = { 0 };
            int rc = csv_to_events(&a, dict, argv[i], files, nf, &l, &rep,
                                   &err);
            if (reps == 0) {
                struct slice js = { 0 };
                printf("== %s rc=%d field=%s what=%s used=%zu\n", eq + 1, rc,
                       err.field, err.what ? err.what : "-", rep.rows_used);
                if (csv_report_json(&a, &rep, &js) == HUB_OK)
                    printf("report %.*s\n", (int)js.len, js.p);
                for (size_t r = 0; r < rep.n_rejected; r++)
                    printf("rejected %u %zu %zu %.*s\n", rep.rejected[r].file,
                           rep.rejected[r].row, rep.rejected[r].offset,
                           (int)rep.rejected[r].raw.len, rep.rejected[r].raw.p);
                for (size_t e = 0; e < l.n; e++)
                    printf("event %s %.*s\n", l.ev[e].type,
                           (int)l.ev[e].json.len, l.ev[e].json.p);
            }
            arena_reset(&a);
        }
    }
    arena_release(&a);
    return 0;
}
