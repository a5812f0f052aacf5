/*
 * ingest_cpu.c - the database's cost of the ingest transaction alone, per
 * message, at a chosen batch size (not part of `make bench`; see
 * tests/bench/ingest_cpu.sh and README.md).
 *
 *   ingest_cpu -u URL -f CORPUS [-o ORG] [-b BATCH] [-n MSGS] [-w WARM]
 *
 * Reads the corpus (one HL7 message per line, gen_adt's), prepares each
 * message as hubd does (ingest_prepare_hl7, with a fresh MSH-10: the hub is
 * idempotent on it) and commits them with store_ingest_batch, BATCH at a
 * time, on one connection: WARM messages first (plans made, caches warm),
 * then MSGS measured. The server backend's CPU time (utime + stime from
 * /proc/PID/stat: the server must be local and readable) over the measured
 * part is printed per message:
 *   ingest_cpu batch=B msgs=N backend_pid=P backend_us_per_msg=X
 * The corpus is read from its first message each run, so a warm pass over
 * the whole corpus beforehand makes every identifier known (the steady
 * state of a feed). Under callgrind (ingest_cpu.sh VALGRIND=1) the
 * backend's instruction count is the figure, which other work on the
 * machine does not move.
 */
#define _GNU_SOURCE                 /* memmem */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "ingest.h"
#include "store.h"

#define MAX_LINES 100000
#define ID_DIGITS 18                /* gen_adt's MSH-10: "BM" + 18 digits */

static char *lines[MAX_LINES];
static size_t lens[MAX_LINES];
static size_t nlines;

static long number(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "ingest_cpu: bad number %s\n", s);
        exit(2);
    }
    return v;
}

/* utime + stime of a process, in clock ticks; -1 when unreadable */
static long long proc_ticks(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* fields after the command name, which may hold spaces: state is
     * field 3, utime 14, stime 15 */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    long long ut = 0, st = 0;
    int field = 2;
    for (p++; *p; ) {
        while (*p == ' ')
            p++;
        field++;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (field == 14)
            ut = v;
        if (field == 15) {
            st = v;
            return ut + st;
        }
        while (*p && *p != ' ')
            p++;
    }
    return -1;
}

static void load(const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t r;

    if (f == NULL) {
        perror("ingest_cpu: corpus");
        exit(1);
    }
    while (nlines < MAX_LINES && (r = getline(&line, &cap, f)) > 0) {
        if (line[r - 1] == '\n')
            r--;
        if (r == 0)
            continue;
        lines[nlines] = malloc((size_t)r);
        if (lines[nlines] == NULL)
            abort();
        memcpy(lines[nlines], line, (size_t)r);
        lens[nlines++] = (size_t)r;
    }
    free(line);
    fclose(f);
    if (nlines == 0) {
        fputs("ingest_cpu: empty corpus\n", stderr);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    const char *url = NULL, *corpus = NULL, *org = "bench-hosp";
    long batch = 16, msgs = 8000, warm = 500;
    int opt;

    while ((opt = getopt(argc, argv, "u:f:o:b:n:w:")) != -1) {
        switch (opt) {
        case 'u': url = optarg; break;
        case 'f': corpus = optarg; break;
        case 'o': org = optarg; break;
        case 'b': batch = number(optarg, 1, STORE_BATCH_MAX); break;
        case 'n': msgs = number(optarg, 1, 100000000); break;
        case 'w': warm = number(optarg, 0, 100000000); break;
        default:
            fputs("usage: ingest_cpu -u URL -f CORPUS [-o ORG] [-b BATCH] "
                  "[-n MSGS] [-w WARM]\n", stderr);
            return 2;
        }
    }
    if (url == NULL || corpus == NULL) {
        fputs("ingest_cpu: -u and -f are required\n", stderr);
        return 2;
    }
    load(corpus);

    struct store *s;
    char *pid_text = NULL;
    if (store_connect_as(url, "ingest_cpu", &s) != HUB_OK ||
        store_query_text(s, "SELECT pg_backend_pid()", 0, NULL,
                         &pid_text) != HUB_OK || pid_text == NULL) {
        fputs("ingest_cpu: cannot connect\n", stderr);
        return 1;
    }
    long bpid = number(pid_text, 1, 1L << 30);
    free(pid_text);

    struct ingest_job **jobs = calloc((size_t)batch, sizeof(*jobs));
    struct store_msg *m = calloc((size_t)batch, sizeof(*m));
    struct store_msg_result *res = calloc((size_t)batch, sizeof(*res));
    if (jobs == NULL || m == NULL || res == NULL)
        abort();
    /* control ids: the second of the start, then a counter */
    uint64_t ctr = (uint64_t)time(NULL) % 100000000u * 10000000000u;
    size_t next = 0;
    long done = 0, total = warm + msgs;
    long long t0 = -1;

    while (done < total) {
        long n = batch;
        if (done < warm && warm - done < n)
            n = warm - done;            /* the measured part starts clean */
        if (total - done < n)
            n = total - done;
        if (done == warm)
            t0 = proc_ticks(bpid);
        for (long i = 0; i < n; i++) {
            size_t k = next++ % nlines;
            char *msg = malloc(lens[k]);
            if (msg == NULL)
                abort();
            memcpy(msg, lines[k], lens[k]);
            char *id = memmem(msg, lens[k], "|BM", 3);
            if (id && (size_t)(id - msg) + 3 + ID_DIGITS <= lens[k]) {
                char d[ID_DIGITS + 1];
                snprintf(d, sizeof(d), "%018" PRIu64, ctr++);
                memcpy(id + 3, d, ID_DIGITS);
            }
            jobs[i] = ingest_job_new();
            ingest_prepare_hl7(jobs[i], NULL, NULL, org, msg, lens[k]);
            free(msg);
            m[i] = jobs[i]->msg;
        }
        memset(res, 0, (size_t)n * sizeof(*res));
        int rc = store_ingest_batch(s, m, (size_t)n, res);
        if (rc != HUB_OK) {
            fprintf(stderr, "ingest_cpu: batch failed: %s sqlstate=%s\n",
                    hub_strerror(rc), store_last_sqlstate(s));
            return 1;
        }
        for (long i = 0; i < n; i++) {
            store_msg_result_release(&res[i]);
            ingest_job_free(jobs[i]);
        }
        done += n;
    }
    long long t1 = proc_ticks(bpid);
    double us = t0 >= 0 && t1 >= 0
                    ? (double)(t1 - t0) * 1e6 / (double)sysconf(_SC_CLK_TCK)
                    : -1;
    printf("ingest_cpu batch=%ld msgs=%ld backend_pid=%ld "
           "backend_us_per_msg=%.1f\n", batch, msgs, bpid,
           us >= 0 ? us / (double)msgs : -1.0);
    store_free(s);
    free(jobs);
    free(m);
    free(res);
    return 0;
}
