/*
 * deliver_bench.c - the webhook side of `make bench`, on the hub's own code
 * (hub/subs.h, hub/dispatch.h): make subscriptions, and run a dispatcher
 * node against the bench database.
 *
 *   deliver_bench subs -u DATABASE_URL -o ORG -n N -r RECEIVER_BASE_URL
 *       create N webhook subscriptions of ORG for "adt.*", the i-th to
 *       RECEIVER_BASE_URL/hook/i, opted in to the "sud" label (the corpus
 *       has F10-F19 diagnoses, which the hub routes only to subscribers
 *       that opted in); prints "subs created=N"
 *   deliver_bench run -u DATABASE_URL -d SECONDS
 *       a dispatcher node (DESIGN.md: any node dispatches) for SECONDS or
 *       until SIGTERM; prints "dispatch delivered=N attempts=N retried=N
 *       dead=N db_errors=N"
 *
 * The rates are measured at the receiver (webhook_recv), so the figure is
 * the same whoever dispatches.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "dispatch.h"
#include "log.h"
#include "store.h"
#include "subs.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static unsigned long parse_ul(const char *s, const char *what)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "deliver_bench: %s is not a number\n", what);
        exit(2);
    }
    return v;
}

static int make_subs(const char *url, const char *org, unsigned long n,
                     const char *recv)
{
    struct store *s;
    unsigned long i;

    if (store_connect(url, &s) != HUB_OK) {
        fputs("deliver_bench: cannot connect to the database\n", stderr);
        return 1;
    }
    /* the corpus holds sud-labelled admits: the subscriptions opt in to
     * them, which the organization must be granted first */
    if (store_org_set_labels(s, "bench", org, "sud") != HUB_OK) {
        fputs("deliver_bench: cannot grant the organization sud\n", stderr);
        store_free(s);
        return 1;
    }
    for (i = 0; i < n; i++) {
        char json[512], *out = NULL;
        struct hub_err err = { 0 };
        int k = snprintf(json, sizeof(json),
                         "{\"url\":\"%s/hook/%lu\",\"topics\":[\"adt.*\"],"
                         "\"filters\":{\"sensitivity\":[\"sud\"]}}",
                         recv, i);
        if (k < 0 || (size_t)k >= sizeof(json) ||
            subs_create(s, "bench", org, json, (size_t)k, NULL, &out,
                        &err) != HUB_OK) {
            fprintf(stderr, "deliver_bench: subscription refused: %s %s\n",
                    err.field, err.what ? err.what : "");
            store_free(s);
            return 1;
        }
        free(out);
    }
    store_free(s);
    printf("subs created=%lu\n", n);
    return 0;
}

static int run_dispatch(const char *url, unsigned long secs)
{
    struct dispatch_config c;
    struct dispatch *d;
    struct dispatch_stats st;
    struct timespec nap = { 0, 50 * 1000 * 1000 };
    time_t end = time(NULL) + (time_t)secs;

    dispatch_config_defaults(&c);
    c.database_url = url;
    c.allow_private = true;         /* the receiver is on loopback */
    c.production = false;
    snprintf(c.node, sizeof(c.node), "bench-%ld", (long)getpid());
    if (dispatch_start(&c, &d) != HUB_OK) {
        fputs("deliver_bench: dispatcher did not start\n", stderr);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    while (!stop && time(NULL) < end)
        nanosleep(&nap, NULL);
    dispatch_stats(d, &st);
    dispatch_stop(d);
    printf("dispatch delivered=%llu attempts=%llu retried=%llu dead=%llu "
           "db_errors=%llu\n", (unsigned long long)st.delivered,
           (unsigned long long)st.attempts, (unsigned long long)st.retried,
           (unsigned long long)st.dead, (unsigned long long)st.db_errors);
    /* what bound the drain: the claim worker busy all along, or fewer
     * transfers running than the endpoint allows (the loop) */
    printf("dispatch sending_ms=%llu avg_inflight=%.2f claim_busy_ms=%llu "
           "flush_busy_ms=%llu\n", (unsigned long long)st.sending_ms,
           st.sending_ms ? (double)st.inflight_ms / (double)st.sending_ms
                         : 0.0,
           (unsigned long long)st.claim_busy_ms,
           (unsigned long long)st.flush_busy_ms);
    return 0;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *org = NULL, *recv = NULL, *cmd;
    unsigned long n = 1, secs = 10;
    int c;

    if (argc < 2) {
        fputs("usage: deliver_bench subs|run [options]\n", stderr);
        return 2;
    }
    cmd = argv[1];
    optind = 2;
    while ((c = getopt(argc, argv, "u:o:n:r:d:")) != -1) {
        switch (c) {
        case 'u': url = optarg; break;
        case 'o': org = optarg; break;
        case 'n': n = parse_ul(optarg, "-n"); break;
        case 'r': recv = optarg; break;
        case 'd': secs = parse_ul(optarg, "-d"); break;
        default: return 2;
        }
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);
    log_set_level(LOG_WARN);
    if (!strcmp(cmd, "subs") && url && org && recv && n > 0 && n <= 1000)
        return make_subs(url, org, n, recv);
    if (!strcmp(cmd, "run") && url)
        return run_dispatch(url, secs);
    fputs("usage: deliver_bench subs -u URL -o ORG -n N -r RECV | "
          "run -u URL -d SECONDS\n", stderr);
    return 2;
}
