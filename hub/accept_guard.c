/*
 * accept_guard.c - see accept_guard.h.
 *
 *   ACCEPTING --accept fails (EMFILE ...)--> HOLDING --250 ms--> ACCEPTING
 *
 * The first failure of a run is logged; the run ends (one line more) when
 * a second has passed since the listener was last enabled again without a
 * failure, so a hub that stays out of descriptors logs two lines, not four
 * a second.
 */
#include "accept_guard.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"

#define HOLD_MS 250

struct accept_guard {
    struct evconnlistener *l;
    char name[16];
    bool (*may_enable)(void *arg);
    void *arg;
    struct event *retry;            /* enables the listener again */
    struct event *quiet;            /* ends a run of failures */
    bool holding;
    bool in_run;
    uint64_t failures;              /* in this run */
    struct accept_guard *next;
};

/* libevent calls the error callback with the listener's own argument (the
 * MLLP listener's, evhttp's), not one of ours: the guards of the process,
 * found by their listener (a handful; all on the loop thread) */
static struct accept_guard *guards;

static struct accept_guard *guard_of(const struct evconnlistener *l)
{
    for (struct accept_guard *g = guards; g; g = g->next)
        if (g->l == l)
            return g;
    return NULL;
}

static void end_run(evutil_socket_t fd, short what, void *arg)
{
    struct accept_guard *g = arg;
    (void)fd;
    (void)what;
    if (g->holding || !g->in_run)
        return;
    g->in_run = false;
    log_info("listen.accept_resumed", "listener=%s failures=%" PRIu64,
             g->name, g->failures);
}

static void retry(evutil_socket_t fd, short what, void *arg)
{
    struct accept_guard *g = arg;
    struct timeval second = { 1, 0 };
    (void)fd;
    (void)what;
    g->holding = false;
    if (g->may_enable && !g->may_enable(g->arg))
        return;                     /* its owner holds it: it enables it */
    (void)evconnlistener_enable(g->l);
    evtimer_add(g->quiet, &second);
}

static void on_error(struct evconnlistener *l, void *arg)
{
    struct accept_guard *g = guard_of(l);
    struct timeval hold = { 0, HOLD_MS * 1000 };
    int e = EVUTIL_SOCKET_ERROR();

    (void)arg;
    if (g == NULL)
        return;
    if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
        /* not a want of resources: libevent's own answer, a warning and
         * the next readiness (ECONNABORTED and the like are retried by
         * libevent before this is called) */
        log_warn("listen.accept_error", "listener=%s errno=%d why=\"%s\"",
                 g->name, e, strerror(e));
        return;
    }
    g->failures++;
    if (!g->in_run) {
        g->in_run = true;
        g->failures = 1;
        log_warn("listen.accept_failed", "listener=%s errno=%d why=\"%s\" "
                 "fix=\"raise the descriptor limit (LimitNOFILE= in "
                 "hubd.service, ulimit -n) or lower max_connections\"",
                 g->name, e, strerror(e));
    }
    evtimer_del(g->quiet);
    (void)evconnlistener_disable(l);
    g->holding = true;
    evtimer_add(g->retry, &hold);
}

struct accept_guard *accept_guard_new(struct evconnlistener *l,
                                      const char *name,
                                      bool (*may_enable)(void *arg),
                                      void *arg)
{
    struct event_base *base = evconnlistener_get_base(l);
    struct accept_guard *g = calloc(1, sizeof(*g));

    if (g == NULL)
        return NULL;
    g->l = l;
    snprintf(g->name, sizeof(g->name), "%s", name);
    g->may_enable = may_enable;
    g->arg = arg;
    g->retry = evtimer_new(base, retry, g);
    g->quiet = evtimer_new(base, end_run, g);
    if (g->retry == NULL || g->quiet == NULL) {
        accept_guard_free(g);
        return NULL;
    }
    g->next = guards;
    guards = g;
    evconnlistener_set_error_cb(l, on_error);
    return g;
}

bool accept_guard_holding(const struct accept_guard *g)
{
    return g && g->holding;
}

void accept_guard_free(struct accept_guard *g)
{
    if (g == NULL)
        return;
    for (struct accept_guard **p = &guards; *p; p = &(*p)->next)
        if (*p == g) {
            *p = g->next;
            break;
        }
    if (g->l)
        evconnlistener_set_error_cb(g->l, NULL);
    if (g->retry)
        event_free(g->retry);
    if (g->quiet)
        event_free(g->quiet);
    free(g);
}
