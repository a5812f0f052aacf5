/*
 * bench_report_test.c - tests/bench/report.js (the table of `make bench`)
 * on hand-written raw files: a cell says "failed" only for a step that ran
 * and gave nothing, "not run" for a step left out (BENCH_ONLY, or a
 * connection count BENCH_CONNS did not ask for), and a figure only when the
 * raw file holds it. Needs node, as schema_test does; the repository root
 * is $HUB_ROOT, else the current directory.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HTTPS_ROW "| durable ingest over HTTPS @8 conn (POST /v1/hl7v2) |"

/* The report's line that starts with `row`, for the raw file `raw`, into
 * out (NUL-terminated); fails the test when node fails or the row is
 * missing. */
static void report_row(const char *raw, const char *row, char *out,
                       size_t size)
{
    const char *root = getenv("HUB_ROOT");
    char dir[] = "/tmp/bench-report-XXXXXX", path[64], md[64];
    char cmd[4096], line[4096];

    if (root == NULL || *root == '\0')
        root = ".";
    cr_assert(strchr(root, '\'') == NULL, "HUB_ROOT holds a quote");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/raw.txt", dir);
    snprintf(md, sizeof(md), "%s/results.md", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(raw, f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "node '%s/tests/bench/report.js' '%s' '%s' "
             "2>&1", root, path, md);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "cannot run node");
    out[0] = '\0';
    while (fgets(line, sizeof(line), p))
        if (strncmp(line, row, strlen(row)) == 0)
            snprintf(out, size, "%s", line);
    int st = pclose(p);
    unlink(path);
    unlink(md);
    rmdir(dir);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "report.js failed");
    cr_assert_neq(out[0], '\0', "no row %s", row);
}

/* what every raw file below shares: the HTTPS step ran and gave a rate */
#define HTTPS_RAN "built.https 1\nhttps.8.rate 3000\nhttps.8.p50 2.5\n" \
                  "https.8.p99 4.7\n"

/* BENCH_CONNS=32 with pgbench wanted: pgbench ran, at 32 only, so the
 * HTTPS row (always at 8) has no ceiling, and nothing failed. */
Test(bench_report, https_row_says_not_run_when_pgbench_ran_at_other_counts)
{
    char got[4096];
    report_row("config.conns 32\npgbench.32.tps 21000\n" HTTPS_RAN,
               HTTPS_ROW, got, sizeof(got));
    cr_expect(strstr(got, "3,000 msg/s") != NULL, "%s", got);
    cr_expect(strstr(got, "n/a (not run at 8 conn)") != NULL, "%s", got);
    cr_expect(strstr(got, "failed") == NULL, "%s", got);
    cr_expect(strstr(got, "21,000") == NULL, "pgbench @32 is not @8: %s",
              got);
}

Test(bench_report, https_row_says_not_run_when_pgbench_was_left_out)
{
    char got[4096];
    report_row("config.conns 8\nbuilt.pgbench skip\n" HTTPS_RAN, HTTPS_ROW,
               got, sizeof(got));
    cr_expect(strstr(got, "| n/a (not run) |") != NULL, "%s", got);
    cr_expect(strstr(got, "failed") == NULL, "%s", got);
}

/* pgbench was asked for at 8 and gave nothing: that is a failure */
Test(bench_report, https_row_says_failed_when_pgbench_at_8_gave_nothing)
{
    char got[4096];
    report_row("config.conns 1 8 32\npgbench.1.tps 5000\n"
               "pgbench.32.tps 21000\n" HTTPS_RAN, HTTPS_ROW, got,
               sizeof(got));
    cr_expect(strstr(got, "n/a (failed: see build/bench/log)") != NULL, "%s",
              got);
}

Test(bench_report, https_row_shows_pgbench_at_8_and_the_ratio)
{
    char got[4096];
    report_row("config.conns 8\npgbench.8.tps 16000\n" HTTPS_RAN, HTTPS_ROW,
               got, sizeof(got));
    cr_expect(strstr(got, "| pgbench @8 16,000 tps | 0.19x |") != NULL, "%s",
              got);
}

/* BENCH_ONLY="deliver": hubd.sh marks the ingest steps it left out */
Test(bench_report, ingest_rows_say_not_run_when_only_delivery_ran)
{
    char got[4096];
    report_row("config.conns 8\nbuilt.pgbench skip\nbuilt.https 1\n"
               "built.hubd skip\nbuilt.https skip\ndeliver.1.rate 12000\n",
               "| hubd durable MLLP ingest @8 conn", got, sizeof(got));
    cr_expect(strstr(got, "| n/a (not run) |") != NULL, "%s", got);
    cr_expect(strstr(got, "failed") == NULL, "%s", got);
    report_row("config.conns 8\nbuilt.pgbench skip\nbuilt.https 1\n"
               "built.hubd skip\nbuilt.https skip\ndeliver.1.rate 12000\n",
               HTTPS_ROW, got, sizeof(got));
    cr_expect(strstr(got, HTTPS_ROW " n/a (not run) |") != NULL, "%s", got);
}

/* The FHIR care-coordination row counts files, and three of its files
 * are bundles of several resources: its unit is a document, not a
 * resource (F1825). */
Test(bench_report, fhir_care_row_counts_documents)
{
    char got[4096];
    report_row("config.conns 8\nparse.hub.fhir_care 4000\n",
               "|   FHIR referral, care-plan, condition and goal", got,
               sizeof(got));
    cr_expect(strstr(got, "4,000 documents/s") != NULL, "%s", got);
}
