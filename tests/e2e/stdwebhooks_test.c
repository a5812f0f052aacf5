/*
 * stdwebhooks_test.c - real deliveries checked by an implementation of
 * Standard Webhooks that is not the hub's: tests/tools/webhook-verify.js,
 * a receiver built on the `standardwebhooks` npm package (what a partner
 * installs), which node and tests/tools/node_modules from `make deps`
 * provide. The hub's own receiver (lib/webhook_rx.c) verifies with the
 * hub's webhook.c, so a shared misreading of the specification (the
 * whsec_ prefix, the key's bytes, the signed text, several signatures, the
 * timestamp's unit, the body's bytes) would pass there and fail here.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/canary.h"
#include "../lib/hubproc.h"
#include "../lib/testdb.h"
#include "../lib/webhook_rx.h"

/* a secret of 48 bytes, as a partner would make one for a rotation */
#define SECRET_NEW "whsec_OqVtcEn6H6TeUuL8e4gW/+KzlWdik/Q0EOp1DNOfbZyzLhAa" \
                   "ExGv9LEQ4Yw0Ol5j"

static struct hubproc hub;
static char dir[] = "/tmp/hub-stdwh-XXXXXX";
static pid_t rx_pid = -1;
static int rx_port;

static void file_put(const char *name, const char *text)
{
    char path[256], tmp[264];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    cr_assert_not_null(f, "%s", tmp);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(rename(tmp, path), 0);
}

/* DIR/name into buf; "" when absent */
static void file_get(const char *name, char *buf, size_t size)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

static void start(void)
{
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(hub_start(&hub, NULL, false), 0, "hubd did not start");
    char script[1024];
    snprintf(script, sizeof(script), "%s/tests/tools/webhook-verify.js",
             testdb_root());
    rx_pid = fork();
    cr_assert_geq(rx_pid, 0);
    if (rx_pid == 0) {
        /* the verifier's own words (a missing package) go to the test's
         * stderr; it prints no delivery */
        execlp("node", "node", script, dir, (char *)NULL);
        _exit(127);
    }
    char buf[32] = "";
    int64_t end = rx_now_ms() + 20000;
    while (!buf[0] && rx_now_ms() < end && waitpid(rx_pid, NULL, WNOHANG) == 0) {
        usleep(20000);
        file_get("port", buf, sizeof(buf));
    }
    cr_assert(buf[0], "tests/tools/webhook-verify.js did not start (node and "
              "tests/tools/node_modules/standardwebhooks come from make deps)");
    rx_port = (int)strtol(buf, NULL, 10);
}

static void stop(void)
{
    if (rx_pid > 0) {
        kill(rx_pid, SIGTERM);
        waitpid(rx_pid, NULL, 0);
    }
    hub_cleanup(&hub);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "stdwebhooks: could not remove %s\n", dir);
}

static long call(const char *method, const char *path, const char *body,
                 struct http_resp *r)
{
    cr_assert_eq(http_call(&hub, true, method, path, "tok-cbo", NULL, body,
                           body ? strlen(body) : 0, "application/json", r),
                 0, "%s %s", method, path);
    return r->status;
}

/* Wait until the verifier has logged n requests; line i (0-based) into
 * out. */
static void nth_line(int n, char *out, size_t size)
{
    static char log[16384];
    int64_t end = rx_now_ms() + 20000;
    int lines = 0;
    do {
        file_get("log", log, sizeof(log));
        lines = 0;
        for (const char *c = log; (c = strchr(c, '\n')); c++)
            lines++;
        if (lines < n)
            usleep(20000);
    } while (lines < n && rx_now_ms() < end);
    cr_assert_geq(lines, n, "the verifier got %d requests of %d:\n%s", lines,
                  n, log);
    const char *c = log;
    for (int i = 0; i < n - 1; i++)
        c = strchr(c, '\n') + 1;
    size_t len = (size_t)(strchr(c, '\n') - c);
    cr_assert_lt(len, size);
    memcpy(out, c, len);
    out[len] = '\0';
}

/* A line is "<id> <timestamp> <n signatures> <type> <result>..." */
static void expect_line(int n, const char *type, int sigs,
                        const char *results)
{
    char line[512], want[256];
    nth_line(n, line, sizeof(line));
    snprintf(want, sizeof(want), " %d %s %s", sigs, type, results);
    const char *ts = strchr(line, ' ');
    cr_assert_not_null(ts, "%s", line);
    cr_expect_str_eq(strchr(ts + 1, ' '), want, "delivery %d: %s", n, line);
    cr_expect_eq(strncmp(line, "dlv_", 4), 0, "%s", line);
}

/* Every delivery of a subscription, across a test event, an HL7 admit
 * whose body holds multi-byte UTF-8, a rotation with two secrets at once,
 * the old secret's removal and a replay, verifies with the npm package
 * under the secrets the partner holds, and only those. */
Test(stdwebhooks, an_independent_verifier_accepts_every_delivery_and_rotation,
     .init = start, .fini = stop, .timeout = 120)
{
    struct http_resp r;
    char body[512], id[80], path[160], secret[128], dlv[40];

    /* no secret given: the hub makes one; the partner keeps it */
    snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:%d/hook\","
             "\"topics\":[\"adt.*\"]}", rx_port);
    cr_assert_eq(call("POST", "/v1/subscriptions", body, &r), 201, "%s",
                 r.body);
    hub_json_str(r.body, "id", id, sizeof(id));
    const char *s = strstr(r.body, "\"secrets\": [\"");
    cr_assert_not_null(s, "%s", r.body);
    s += strlen("\"secrets\": [\"");
    size_t sl = strcspn(s, "\"");
    cr_assert_lt(sl, sizeof(secret));
    memcpy(secret, s, sl);
    secret[sl] = '\0';
    http_resp_free(&r);
    snprintf(body, sizeof(body), "%s\n", secret);
    file_put("secrets", body);

    /* 1: a test event */
    snprintf(path, sizeof(path), "/v1/subscriptions/%s/test", id);
    cr_assert_eq(call("POST", path, "", &r), 202, "%s", r.body);
    http_resp_free(&r);
    expect_line(1, "hub.test", 1, "ok");

    /* 2: an admit whose given name has two-, three- and four-byte UTF-8:
     * the signature is over the bytes sent */
    char msg[2048], utf[2100], ack[4096];
    hl7_sample(msg, sizeof(msg), "SW-1", "SW1");
    const char *g = strstr(msg, CANARY_GIVEN);
    cr_assert_not_null(g);
    g += strlen(CANARY_GIVEN);
    snprintf(utf, sizeof(utf), "%.*s\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e%s",
             (int)(g - msg), msg, g);
    struct mllp_client c;
    cr_assert_eq(mllp_connect(&c, hub.mllp, &hub, NULL), 0);
    cr_assert_eq(mllp_send(&c, utf), 0);
    cr_assert_gt(mllp_read(&c, ack, sizeof(ack), 10000), 0);
    cr_assert_not_null(strstr(ack, "MSA|AA|"), "%s", ack);
    mllp_close(&c);
    expect_line(2, "adt.admit", 1, "ok");
    char line[512];
    nth_line(2, line, sizeof(line));
    memcpy(dlv, line, strcspn(line, " "));
    dlv[strcspn(line, " ")] = '\0';

    /* 3: rotation, step one: both secrets sign, each verifies alone */
    snprintf(body, sizeof(body), "{\"secrets\":[\"%s\",\"" SECRET_NEW "\"]}",
             secret);
    snprintf(path, sizeof(path), "/v1/subscriptions/%s", id);
    cr_assert_eq(call("PATCH", path, body, &r), 200, "%s", r.body);
    http_resp_free(&r);
    snprintf(body, sizeof(body), "%s\n" SECRET_NEW "\n", secret);
    file_put("secrets", body);
    snprintf(path, sizeof(path), "/v1/subscriptions/%s/test", id);
    cr_assert_eq(call("POST", path, "", &r), 202, "%s", r.body);
    http_resp_free(&r);
    expect_line(3, "hub.test", 2, "ok ok");

    /* 4: step two: the old one removed no longer verifies */
    snprintf(path, sizeof(path), "/v1/subscriptions/%s", id);
    cr_assert_eq(call("PATCH", path, "{\"secrets\":[\"" SECRET_NEW "\"]}",
                      &r), 200, "%s", r.body);
    http_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/subscriptions/%s/test", id);
    cr_assert_eq(call("POST", path, "", &r), 202, "%s", r.body);
    http_resp_free(&r);
    expect_line(4, "hub.test", 1, "No_matching_signature_found ok");

    /* 5: a replay of the admit: the same webhook-id, a new timestamp,
     * signed with the secret of now */
    snprintf(path, sizeof(path), "/v1/deliveries/%s/replay", dlv);
    int64_t end = rx_now_ms() + 15000;
    long st;
    /* replayable once its outcome is recorded (a delivery being sent is
     * not at rest) */
    while ((st = call("POST", path, "", &r)) == 404 && rx_now_ms() < end) {
        http_resp_free(&r);
        usleep(50000);
    }
    cr_assert_eq(st, 202, "%s", r.body);
    http_resp_free(&r);
    expect_line(5, "adt.admit", 1, "No_matching_signature_found ok");
    nth_line(5, line, sizeof(line));
    cr_expect_eq(strncmp(line, dlv, strlen(dlv)), 0, "%s: %s", dlv, line);
    cr_expect_eq(line[strlen(dlv)], ' ', "%s", line);
}
