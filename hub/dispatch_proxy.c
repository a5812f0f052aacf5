/*
 * dispatch_proxy.c - deliveries through the egress proxy: the endpoint's
 * name is resolved here, on a thread per lookup, and checked by the SSRF
 * policy before the proxy is told the address (see the section below).
 */
#include "dispatch_int.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/hub_err.h"
#include "log.h"

/* --- through the proxy: the endpoint's name resolved and checked here --------
 * A job RESOLVING has its easy handle set up but not in the multi. Its
 * lookup runs on a thread; the loop takes it back from the resolver's done
 * list when its pipe wakes it (on_resolved), refuses the addresses the SSRF policy refuses, as on_open
 * does without a proxy, and has the proxy CONNECT to the first address
 * allowed (CURLOPT_CONNECT_TO "::ADDRESS:PORT"): the proxy never resolves
 * the name itself, so a name that answers another address to it (DNS
 * rebinding) changes nothing. The attempt's whole time, the lookup
 * included, stays within timeout_ms (the lease is sized for it): the
 * lookup waits at most connect_timeout_ms, and the transfer gets what is
 * left. */

static void lookup_free(struct lookup *l)
{
    if (l->res)
        freeaddrinfo(l->res);
    free(l);
}

/* Drop one reference; the last frees the resolver. */
static void resolver_put(struct resolver *r)
{
    pthread_mutex_lock(&r->mu);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&r->mu);
    if (!last)
        return;
    close(r->pipe[0]);
    close(r->pipe[1]);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static void *lookup_main(void *arg)
{
    struct lookup *l = arg;
    struct resolver *r = l->r;
    struct addrinfo hints;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    l->gai = getaddrinfo(l->host, l->port, &hints, &l->res);
    pthread_mutex_lock(&r->mu);
    if (r->closed) {
        lookup_free(l);
    } else {
        l->next = r->done;
        r->done = l;
        /* full (EAGAIN): the loop has a wake-up to read already */
        (void)!write(r->pipe[1], "", 1);
    }
    pthread_mutex_unlock(&r->mu);
    resolver_put(r);
    return NULL;
}

static void on_lookup_late(evutil_socket_t fd, short what, void *arg)
{
    struct job *j = arg;
    struct dispatch *d = j->d;
    (void)fd;
    (void)what;
    if (j->lookup) {
        j->lookup->j = NULL;            /* freed when it comes back */
        j->lookup = NULL;
    }
    job_finish(d, j, 0, "dns");
    jobs_finished(d);
}

/* Start resolving the job's endpoint; on a failure to, the job is
 * finished (its outcome recorded) here. */
void lookup_start(struct dispatch *d, struct job *j)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    const char *err = "protocol";
    struct lookup *l = NULL;

    if (!u)
        abort();
    /* the host as curl sends it (IDN as punycode); the port the URL's or
     * its scheme's */
    if (curl_url_set(u, CURLUPART_URL, j->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, CURLU_PUNYCODE) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
            CURLUE_OK)
        goto fail;
    const char *h = host;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[') {    /* an IPv6 literal, bracketed */
        h++;
        hl -= 2;
    }
    l = calloc(1, sizeof(*l));
    if (!l)
        abort();
    err = "dns";
    if (hl == 0 || hl >= sizeof(l->host) || strlen(port) >= sizeof(l->port))
        goto fail;
    memcpy(l->host, h, hl);
    memcpy(l->port, port, strlen(port) + 1);
    l->r = d->resolver;
    l->j = j;
    j->dns_timer = evtimer_new(d->base, on_lookup_late, j);
    if (!j->dns_timer)
        abort();
    pthread_attr_t at;
    pthread_t th;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&d->resolver->mu);
    d->resolver->refs++;
    pthread_mutex_unlock(&d->resolver->mu);
    if (pthread_create(&th, &at, lookup_main, l) != 0) {
        pthread_attr_destroy(&at);
        resolver_put(d->resolver);
        log_warn("dispatch.lookup_thread_failed", "delivery=dlv_%" PRId64,
                 j->id);
        goto fail;
    }
    pthread_attr_destroy(&at);
    j->lookup = l;
    int64_t wait = d->cfg.connect_timeout_ms < d->cfg.timeout_ms
                       ? d->cfg.connect_timeout_ms : d->cfg.timeout_ms;
    struct timeval tv = { wait / 1000, (wait % 1000) * 1000 };
    evtimer_add(j->dns_timer, &tv);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return;
fail:
    free(l);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    job_finish(d, j, 0, err);
}

/* A lookup is back for job j: the first address the SSRF policy allows
 * goes to the proxy, an IPv4 one before any IPv6 one (one address only
 * can be given to the proxy, which has no second try as curl's happy
 * eyeballs have; IPv4 is what a proxy reaches wherever it reaches the
 * Internet, and the hub's own routes, which order getaddrinfo's answer,
 * say nothing of the proxy's); or the job fails ("ssrf": every address
 * refused, each logged by its class; "dns": none). */
static void lookup_done(struct dispatch *d, struct job *j, struct lookup *l)
{
    char ip[INET6_ADDRSTRLEN] = "";
    const struct addrinfo *ai = NULL;
    static const int families[2] = { AF_INET, AF_INET6 };

    event_free(j->dns_timer);
    j->dns_timer = NULL;
    for (int f = 0; f < 2 && !ai; f++) {
        for (ai = l->gai == 0 ? l->res : NULL; ai; ai = ai->ai_next) {
            if (ai->ai_family != families[f])
                continue;
            if (ai->ai_family == AF_INET)
                inet_ntop(AF_INET,
                          &((const struct sockaddr_in *)ai->ai_addr)->sin_addr,
                          ip, sizeof(ip));
            else
                inet_ntop(AF_INET6,
                          &((const struct sockaddr_in6 *)ai->ai_addr)
                               ->sin6_addr,
                          ip, sizeof(ip));
            if (!ssrf_refuse(j, ip))
                break;
        }
    }
    if (!ai) {
        job_finish(d, j, 0, j->ssrf_refused        ? "ssrf"
                            : j->cleartext_refused ? "cleartext"
                                                   : "dns");
        return;
    }
    snprintf(j->connect_to_text, sizeof(j->connect_to_text),
             ai->ai_family == AF_INET6 ? "::[%s]:%s" : "::%s:%s", ip,
             l->port);
    j->connect_to.data = j->connect_to_text;
    j->connect_to.next = NULL;
    curl_easy_setopt(j->easy, CURLOPT_CONNECT_TO, &j->connect_to);
    int64_t left = d->cfg.timeout_ms - (mono_ms() - j->started_ms);
    curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, (long)(left > 1 ? left : 1));
    if (curl_multi_add_handle(d->multi, j->easy) != CURLM_OK)
        abort();
}

static void on_resolved(evutil_socket_t fd, short what, void *arg)
{
    struct dispatch *d = arg;
    struct lookup *l, *next;
    char wake[256];
    bool any = false;
    (void)what;

    if (!d->resolver)
        return;                         /* closed: the stop */
    /* the wake-ups first: one written after this read comes with a
     * lookup that the next call takes, if this one does not */
    while (read(fd, wake, sizeof(wake)) > 0)
        ;
    pthread_mutex_lock(&d->resolver->mu);
    l = d->resolver->done;
    d->resolver->done = NULL;
    pthread_mutex_unlock(&d->resolver->mu);
    for (; l; l = next) {
        next = l->next;
        struct job *j = l->j;
        if (j) {
            j->lookup = NULL;
            lookup_done(d, j, l);
            any = true;
        }
        lookup_free(l);
    }
    if (any)
        jobs_finished(d);
}

/* The stop: no lookup comes back to the loop any more (those on the way
 * are freed here, those still running free themselves); the jobs that
 * waited for one are the caller's. */
void resolver_close(struct dispatch *d)
{
    struct resolver *r = d->resolver;
    struct lookup *l, *next;

    if (!r)
        return;
    for (struct job *j = d->running; j; j = j->rnext) {
        if (j->lookup) {
            j->lookup->j = NULL;
            j->lookup = NULL;
        }
    }
    pthread_mutex_lock(&r->mu);
    r->closed = true;
    l = r->done;
    r->done = NULL;
    pthread_mutex_unlock(&r->mu);
    for (; l; l = next) {
        next = l->next;
        lookup_free(l);
    }
    d->resolver = NULL;
    resolver_put(r);
}

int dispatch_proxy_usable(const char *proxy, const char **why)
{
    *why = NULL;
    if (!proxy || !*proxy)
        return HUB_OK;
    if (webhook_proxy_check(proxy, NULL) != HUB_OK) {
        *why = "not http[s]://[user:password@]host:port";
        return HUB_EINVALID;
    }
    if (strncasecmp(proxy, "https://", 8) == 0) {
        const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
        if (!(v->features & CURL_VERSION_HTTPS_PROXY)) {
            *why = "this libcurl has no TLS to a proxy (https://)";
            return HUB_EUNSUPPORTED;
        }
    }
    return HUB_OK;
}

/* The lookups' way back to the loop (d->resolver, d->resolve_ev). */
int resolver_open(struct dispatch *d)
{
    struct resolver *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    if (pipe(r->pipe) != 0) {
        free(r);
        return HUB_EIO;
    }
    fcntl(r->pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(r->pipe[1], F_SETFL, O_NONBLOCK);
    pthread_mutex_init(&r->mu, NULL);
    r->refs = 1;
    d->resolver = r;
    d->resolve_ev = event_new(d->base, r->pipe[0], EV_READ | EV_PERSIST,
                              on_resolved, d);
    if (!d->resolve_ev)
        return HUB_EIO;
    event_add(d->resolve_ev, NULL);
    return HUB_OK;
}
