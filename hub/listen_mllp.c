/*
 * listen_mllp.c - MLLP listeners (plain, and TLS with client certificates):
 * incremental framing, pipelining, back-pressure, ACK after commit.
 *
 *   TLS only: HANDSHAKE --cert ok--> AUTH --fingerprint known--> OPEN
 *   OPEN: READING --frame--> job submitted (in frame order) --committed-->
 *         answer written when every earlier frame's answer is written
 *      \__ frame over the limit (AR), bytes before SB (AE): the part
 *          received is quarantined, answered after that commit, CLOSING
 *          (a frame ends at EB: a CR after it is taken, never required)
 *      \__ an HTTP request line before SB, however its bytes were split
 *          across reads (mllp_lead): answered 400 in HTTP, not
 *          quarantined (its headers hold credentials), CLOSING
 *   CLOSING: no more reads; closed once every pending answer is flushed
 *
 * Invariant: an AA (or AE/AR) is written only after the transaction holding
 * the message returned HUB_OK (job->rc == HUB_OK); a job that never commits
 * (database down at shutdown) closes the connection without an answer, so
 * the sender re-sends.
 *
 * Writing: a TLS connection's answers go out through its bufferevent. A
 * plain connection keeps EV_WRITE off: its answers gather in the output
 * buffer while the loop pass that committed them runs, and the pass ends
 * with one write per connection (send_pass); only what the socket did not
 * take arms EV_WRITE, until libevent has written it (on_flushed). Arming
 * and disarming the write event for every answer cost two epoll_ctl calls
 * and a loop turn per message.
 *
 * Back-pressure: reading stops (bufferevent_disable EV_READ) when this
 * connection has conn_inflight_max frames pending or the pipeline's global
 * caps are reached; it resumes when answers go out or room returns. The
 * input buffer's high watermark is one maximum frame, so a connection never
 * holds more than that unparsed.
 *
 * Identity: a plain listener is bound to one organization by configuration;
 * a TLS connection gets the organization of its client certificate's
 * fingerprint, looked up again before a frame is taken once a second has
 * passed, or at once when the auth cache was flushed since (a credential
 * or scope changed: NOTIFY hub_auth); the cache answers most, frames wait
 * while the database is asked. A look-up past the cap of credential
 * look-ups waits for a slot, ahead of tokens (auth_cert_wait), rather than
 * closing the connection: a flood of unknown tokens, which anyone can
 * send, must not cut partners' feeds off (F236). A binding revoked, or
 * the ingest scope withdrawn, ends a connection that never pauses at its
 * next frame (within auth_cache_ttl when hubd's hub_auth link is down), as
 * it does for HTTPS. MSH-4 is recorded in the event, never used as identity.
 * Timers: idle (no byte for idle_timeout with nothing pending) and slow
 * sender (a frame started but not finished within slow_sender_timeout).
 * Neither runs while the hub takes no frame (a whole frame waiting for
 * room in the pipeline, a certificate waiting to be looked up again): that
 * wait is the hub's; back-pressure stops reading, it closes nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "accept_guard.h"
#include "auth.h"
#include "config.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "mllp.h"
#include "server.h"
#include "tls.h"

enum cstate { C_HANDSHAKE, C_AUTH, C_OPEN, C_CLOSING, C_LINGER };

/* unread ACK bytes after which a connection is no longer read */
#define MLLP_OUT_MAX (256 * 1024)

/* After an HTTP request's 400 (refuse_http): how long, and how many
 * bytes, the rest of the request is read and dropped before the close */
#define MLLP_LINGER_S 1.0
#define MLLP_LINGER_MAX (1024u * 1024)

/* seconds after which a TLS connection's certificate is looked up again */
#define MLLP_REAUTH_S 1.0

struct pend {
    struct ingest_job *job;
    struct conn *c;
    bool done;
    bool close_after;               /* a refusal: close once written */
    struct pend *next;
};

struct conn {
    uint64_t id;
    struct mllp_server *ms;
    struct bufferevent *bev;        /* NULL once closed */
    bool tls;
    enum cstate state;
    char org[64];
    char fp[65];                    /* TLS: the client certificate's */
    double auth_at;                 /* TLS: when fp was last looked up */
    bool auth_unknown;              /* TLS: that look-up could not tell:
                                       frames wait, asked again */
    uint64_t auth_gen;              /* auth_generation() then */
    struct pend *q_head, *q_tail;   /* frame order */
    size_t n_pending;
    bool waiting_room;              /* registered with ingest_wait_room */
    bool auth_pending;              /* an auth lookup holds a pointer */
    bool org_counted;               /* in its organization's count */
    bool eof;                       /* peer closed its sending side */
    bool out_full;                  /* reading paused: ACKs not read */
    bool linger;                    /* an HTTP request: linger, then close */
    double linger_until;            /* C_LINGER: closed then at the latest */
    size_t lingered;                /* C_LINGER: bytes read and dropped */
    bool write_armed;               /* plain: EV_WRITE on, libevent writes */
    bool to_send;                   /* plain: in ms->send_head */
    struct conn *send_next;
    size_t scan;                    /* input bytes already searched for EB */
    double frame_start;             /* 0: no partial frame */
    double last_read;
    struct event *timer;
    struct conn *prev, *next;
};

struct lst {
    struct mllp_server *ms;
    struct evconnlistener *l;
    struct accept_guard *guard;     /* accept() out of descriptors */
    bool tls;
    char org[64];
};

/* The open connections of one sending organization (max_connections_per_org) */
struct org_conns {
    char org[64];
    size_t n;
};

struct mllp_server {
    struct server *srv;
    struct lst lst[CONFIG_MAX_MLLP_LISTENERS + 1];
    size_t n_lst;
    struct conn *conns;
    size_t n_conns;
    struct org_conns *orgs;         /* those with a connection open */
    size_t n_orgs, cap_orgs;
    struct event *send_ev;          /* send_pass, made active by answers */
    struct conn *send_head;         /* plain connections with answers */
};

static void conn_process(struct conn *c);
static void conn_close(struct conn *c, const char *why);
static void arm_timer(struct conn *c);
static bool conn_auth_fresh(struct conn *c);

static double now_s(void)
{
    return (double)ingest_now_ns() / 1e9;
}

static const struct hub_config *cfg_of(const struct conn *c)
{
    return c->ms->srv->cfg;
}

/* ---- lifecycle -------------------------------------------------------- */

/* The count of org's open connections; NULL when it has none. Few
 * organizations send at once: a list is enough. */
static struct org_conns *org_conns_of(struct mllp_server *ms, const char *org)
{
    for (size_t i = 0; i < ms->n_orgs; i++)
        if (strcmp(ms->orgs[i].org, org) == 0)
            return &ms->orgs[i];
    return NULL;
}

/* Whether org holds its share of the connections already. */
static bool org_conns_full(struct mllp_server *ms, const char *org)
{
    const struct org_conns *o = org_conns_of(ms, org);
    return o && o->n >= (size_t)ms->srv->cfg->max_connections_per_org;
}

/* c counts against its organization's share from now on. */
static void org_conns_add(struct conn *c)
{
    struct mllp_server *ms = c->ms;
    struct org_conns *o = org_conns_of(ms, c->org);
    if (o == NULL) {
        if (ms->n_orgs == ms->cap_orgs) {
            ms->cap_orgs = ms->cap_orgs ? ms->cap_orgs * 2 : 16;
            ms->orgs = realloc(ms->orgs, ms->cap_orgs * sizeof(*ms->orgs));
            if (ms->orgs == NULL)
                abort();
        }
        o = &ms->orgs[ms->n_orgs++];
        snprintf(o->org, sizeof(o->org), "%s", c->org);
        o->n = 0;
    }
    o->n++;
    c->org_counted = true;
}

static void org_conns_sub(struct conn *c)
{
    struct mllp_server *ms = c->ms;
    struct org_conns *o = org_conns_of(ms, c->org);
    c->org_counted = false;
    if (o == NULL || --o->n > 0)
        return;
    *o = ms->orgs[--ms->n_orgs];        /* none left: forget it */
}

static void conn_maybe_free(struct conn *c)
{
    if (c->bev || c->n_pending || c->auth_pending || c->to_send)
        return;
    struct mllp_server *ms = c->ms;
    if (c->org_counted)
        org_conns_sub(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        ms->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ms->n_conns--;
    event_free(c->timer);
    free(c);
}

/* Close the socket now; the struct lives on until every job came back.
 * Never frees: each libevent callback ends with conn_maybe_free(), so no
 * caller up the stack holds a dangling pointer. */
static void conn_close(struct conn *c, const char *why)
{
    if (c->bev == NULL)
        return;
    /* unread: bytes received and dropped unanswered (a frame the sender
     * cut, stalled or closed mid-way; or whole frames not yet taken when
     * the close was the hub's, auth or not_committed): a sender that says
     * it sent a message the hub never answered is found here */
    log_info("mllp.closed", "conn=%" PRIu64 " org=%s why=%s pending=%zu "
             "unread=%zu", c->id, c->org[0] ? c->org : "-", why,
             c->n_pending, evbuffer_get_length(bufferevent_get_input(c->bev)));
    if (c->waiting_room) {
        ingest_cancel_wait(c->ms->srv->ing, c);
        c->waiting_room = false;
    }
    /* a look-up still waiting for a slot is dropped, not made for no one */
    if (c->auth_pending && auth_cancel(c->ms->srv->auth, c))
        c->auth_pending = false;
    bufferevent_free(c->bev);
    c->bev = NULL;
    c->state = C_CLOSING;
    evtimer_del(c->timer);
    metrics_connections(-1);
}

/* After refuse_http, a close would leave the rest of the request unread,
 * and a close over unread bytes is a reset: the client's writes fail
 * before it reads its 400 (and on some systems the reset drops the 400
 * from the client's buffer unread). So, its answers written, the hub
 * ends its side (the client reads the 400 and then the end), then reads
 * and drops what comes for at most MLLP_LINGER_S and MLLP_LINGER_MAX
 * bytes, and closes at the client's end or either bound (RFC 9112 9.6,
 * nginx's lingering close). Reading takes one buffer of the bufferevent
 * at a time, dropped at once, so the loop is not held and memory does
 * not grow (F341). */
static void conn_linger(struct conn *c)
{
    evutil_socket_t fd = bufferevent_getfd(c->bev);

    /* TLS: its close_notify first (written at once: the output is empty),
     * so that the client reads a clean end; reading goes on after it */
    if (c->tls && !c->eof && fd >= 0)
        (void)SSL_shutdown(bufferevent_openssl_get_ssl(c->bev));
    if (c->eof || fd < 0 || shutdown(fd, SHUT_WR) != 0) {
        conn_close(c, c->eof ? "eof" : "done");
        return;
    }
    c->state = C_LINGER;
    c->linger_until = now_s() + MLLP_LINGER_S;
    c->lingered = 0;
    evbuffer_drain(bufferevent_get_input(c->bev),
                   evbuffer_get_length(bufferevent_get_input(c->bev)));
    bufferevent_enable(c->bev, EV_READ);
    arm_timer(c);
}

/* Drop what came while lingering; close at the byte bound. */
static void linger_read(struct conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t n = evbuffer_get_length(in);

    c->lingered += n;
    evbuffer_drain(in, n);
    if (c->lingered > MLLP_LINGER_MAX)
        conn_close(c, "linger_bytes");
}

/* Everything answered is written and nothing is pending: close, or first
 * linger after an HTTP request. */
static void conn_end(struct conn *c)
{
    if (c->linger)
        conn_linger(c);
    else
        conn_close(c, c->eof ? "eof" : "done");
}

/* The output buffer is empty: everything answered is written. */
static void after_flush(struct conn *c)
{
    if (c->state == C_CLOSING && c->n_pending == 0) {
        conn_end(c);
    } else if (c->state == C_OPEN && c->out_full) {
        /* the sender read its ACKs: take frames again */
        c->out_full = false;
        bufferevent_enable(c->bev, EV_READ);
        conn_process(c);
    }
}

static void on_flushed(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (!c->tls && c->write_armed) {
        /* back to writing at the end of each pass (send_pass) */
        c->write_armed = false;
        bufferevent_disable(bev, EV_WRITE);
    }
    after_flush(c);
    conn_maybe_free(c);
}

/* Stop reading; close once the pending answers are out. */
static void conn_finish(struct conn *c)
{
    c->state = C_CLOSING;
    if (c->bev == NULL)
        return;
    bufferevent_disable(c->bev, EV_READ);
    if (c->n_pending == 0 &&
        evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_end(c);
}

/* ---- timers ----------------------------------------------------------- */

static void arm_timer(struct conn *c)
{
    const struct hub_config *cfg = cfg_of(c);
    double now = now_s(), due;

    if (c->bev == NULL)
        return;
    if (c->state == C_LINGER)
        due = c->linger_until;
    else if (c->frame_start > 0)
        due = c->frame_start + cfg->slow_sender_timeout;
    else
        due = c->last_read + cfg->idle_timeout;
    /* the look-up asked again (not while one runs: its answer goes on) */
    if (c->auth_unknown && !c->auth_pending &&
        c->auth_at + MLLP_REAUTH_S < due)
        due = c->auth_at + MLLP_REAUTH_S;
    double wait = due - now;
    if (wait < 0.001)
        wait = 0.001;
    struct timeval tv = { (time_t)wait,
                          (suseconds_t)((wait - (double)(time_t)wait) * 1e6) };
    evtimer_add(c->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    const struct hub_config *cfg = cfg_of(c);
    double now = now_s();
    (void)fd;
    (void)what;

    if (c->bev == NULL)
        return;
    /* the hub takes no frame now: its pipeline is full, or the sender's
     * certificate waits to be looked up (again); the database is slow or
     * away. Neither clock runs against the sender meanwhile (F4000,
     * F4001) */
    bool on_hub = c->waiting_room || c->auth_pending || c->auth_unknown;
    if (c->state == C_LINGER) {
        if (now >= c->linger_until)
            conn_close(c, "linger_time");
        else
            arm_timer(c);
    } else if (c->frame_start > 0 && !on_hub &&
               now - c->frame_start >= cfg->slow_sender_timeout) {
        conn_close(c, "slow_sender");
    } else if (c->frame_start == 0 && now - c->last_read >= cfg->idle_timeout &&
               c->n_pending == 0 && !on_hub) {
        conn_close(c, "idle");
    } else {
        if (on_hub && c->frame_start > 0)
            c->frame_start = now;   /* its clock starts again after */
        if (on_hub || (c->frame_start == 0 &&
                       now - c->last_read >= cfg->idle_timeout))
            c->last_read = now;     /* waiting on us, not on the sender */
        if (c->auth_unknown && !c->auth_pending && c->state == C_OPEN)
            conn_process(c);        /* asks again; arms the timer */
        else
            arm_timer(c);
    }
    conn_maybe_free(c);
}

/* ---- answers, in frame order ------------------------------------------ */

static void send_soon(struct conn *c);

static void write_frame(struct conn *c, struct slice ack)
{
    static const char sb = MLLP_SB, tail[2] = { MLLP_EB, MLLP_CR };
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add(out, &sb, 1);
    evbuffer_add(out, ack.p, ack.len);
    evbuffer_add(out, tail, 2);
    send_soon(c);
}

/* What was added to a plain connection's output goes out at the end of
 * this loop pass (send_pass); a TLS one's bufferevent writes it. */
static void send_soon(struct conn *c)
{
    if (!c->tls && !c->write_armed && !c->to_send) {
        struct mllp_server *ms = c->ms;
        c->to_send = true;
        c->send_next = ms->send_head;
        ms->send_head = c;
        /* runs in this loop pass, after the answers of this pass */
        event_active(ms->send_ev, 0, 0);
    }
}

/* Write a plain connection's answers now; what the socket does not take
 * (or an error, which libevent then meets again and reports through
 * on_event) is left to the bufferevent, with EV_WRITE armed. The output
 * buffer's front is frozen while the bufferevent owns it, as libevent's
 * own write does. */
static void conn_send(struct conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);

    if (evbuffer_get_length(out) == 0)
        return;
    evbuffer_unfreeze(out, 1);
    (void)evbuffer_write(out, bufferevent_getfd(c->bev));
    evbuffer_freeze(out, 1);
    if (evbuffer_get_length(out) == 0) {
        after_flush(c);
    } else {
        c->write_armed = true;
        bufferevent_enable(c->bev, EV_WRITE);
    }
}

static void send_pass(evutil_socket_t fd, short what, void *arg)
{
    struct mllp_server *ms = arg;
    (void)fd;
    (void)what;

    while (ms->send_head) {
        struct conn *c = ms->send_head;
        ms->send_head = c->send_next;
        c->send_next = NULL;
        c->to_send = false;
        if (c->bev && !c->write_armed)
            conn_send(c);
        conn_maybe_free(c);
    }
}

static void flush_answers(struct conn *c)
{
    while (c->q_head && c->q_head->done) {
        struct pend *p = c->q_head;
        struct ingest_job *j = p->job;
        bool close_after = p->close_after;

        c->q_head = p->next;
        if (c->q_head == NULL)
            c->q_tail = NULL;
        c->n_pending--;
        if (c->bev && j->rc == HUB_OK) {
            struct slice ack = ingest_job_answer(j);
            char code[3];
            ingest_job_ack_code(j, code);
            write_frame(c, ack);
            metrics_ack_latency((double)(ingest_now_ns() - j->t_start_ns) /
                                1e9);
            log_debug("mllp.ack", "conn=%" PRIu64 " code=%s dup=%d",
                      c->id, code, j->res.duplicate);
        } else if (c->bev) {
            /* never committed: no answer, and none for later frames
             * either (order), so the sender re-sends from here */
            conn_close(c, "not_committed");
        }
        ingest_job_free(j);
        free(p);
        if (close_after && c->bev)
            conn_finish(c);
    }
}

static void on_job_done(struct ingest_job *j, void *arg)
{
    struct pend *p = arg;
    struct conn *c = p->c;
    size_t cap = cfg_of(c)->conn_inflight_max;
    bool was_full = c->n_pending >= cap;
    (void)j;

    p->done = true;
    flush_answers(c);
    if (c->bev && c->state == C_CLOSING) {
        if (c->n_pending == 0 &&
            evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
            conn_close(c, c->eof ? "eof" : "done");
    } else if (c->bev && was_full && c->n_pending < cap) {
        bufferevent_enable(c->bev, EV_READ);
        conn_process(c);            /* frames may be buffered already */
    }
    conn_maybe_free(c);
}

static void enqueue(struct conn *c, struct ingest_job *j, bool close_after)
{
    struct pend *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    p->job = j;
    p->c = c;
    p->close_after = close_after;
    if (c->q_tail)
        c->q_tail->next = p;
    else
        c->q_head = p;
    c->q_tail = p;
    c->n_pending++;
    ingest_submit(c->ms->srv->ing, j, on_job_done, p);
}

/* Quarantine what was received (at most one frame), answer (AR over the
 * limit, AE for bytes before SB: ingest_hl7.c's reject) after that
 * commits, then close: the stream cannot be re-synchronised safely. */
static void refuse(struct conn *c, size_t nbytes, int code, const char *what)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct hub_err err;
    struct ingest_job *j = ingest_job_new();
    size_t max = cfg_of(c)->max_frame;
    const char *p;

    if (nbytes > max + 1)
        nbytes = max + 1;
    p = (const char *)evbuffer_pullup(in, (ev_ssize_t)nbytes);
    hub_err_set(&err, code, "MLLP", 0, what);
    /* the payload without SB when there is one */
    if (nbytes && p[0] == MLLP_SB)
        ingest_prepare_hl7_refused(j, c->org, p + 1, nbytes - 1, &err);
    else
        ingest_prepare_hl7_refused(j, c->org, p, nbytes, &err);
    log_warn("mllp.refused", "conn=%" PRIu64 " org=%s code=%s what=%s "
             "bytes=%zu", c->id, c->org, hub_strerror(code), what, nbytes);
    evbuffer_drain(in, evbuffer_get_length(in));
    c->frame_start = 0;
    c->scan = 0;
    bufferevent_disable(c->bev, EV_READ);
    c->state = C_CLOSING;
    enqueue(c, j, true);
}

/* An HTTP request on an MLLP port is no HL7 message, and its headers carry
 * credentials (a bearer token, which the hub keeps only as its hash): it
 * is not quarantined. The client reads why in HTTP (when no ACK is due
 * before it), then the connection ends (conn_linger). */
static void refuse_http(struct conn *c)
{
    static const char body[] =
        "{\"error\":{\"code\":\"wrong_port\",\"message\":\"this port "
        "takes HL7 v2 in MLLP frames, not HTTP: the API is on the HTTPS "
        "port\"}}";
    struct evbuffer *in = bufferevent_get_input(c->bev);

    log_warn("mllp.http_refused", "conn=%" PRIu64 " org=%s bytes=%zu", c->id,
             c->org[0] ? c->org : "-", evbuffer_get_length(in));
    evbuffer_drain(in, evbuffer_get_length(in));
    c->frame_start = 0;
    c->scan = 0;
    c->linger = true;
    if (c->n_pending == 0) {
        evbuffer_add_printf(bufferevent_get_output(c->bev),
                            "HTTP/1.1 400 Bad Request\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: %zu\r\n"
                            "Connection: close\r\n\r\n%s",
                            sizeof(body) - 1, body);
        send_soon(c);
    }
    conn_finish(c);
}

/* ---- reading ---------------------------------------------------------- */

static void on_room(void *arg)
{
    struct conn *c = arg;
    c->waiting_room = false;
    if (c->bev && c->state == C_OPEN) {
        bufferevent_enable(c->bev, EV_READ);
        conn_process(c);
    }
    conn_maybe_free(c);
}

static void conn_process(struct conn *c)
{
    const struct hub_config *cfg = cfg_of(c);
    struct server *srv = c->ms->srv;

    while (c->bev && c->state == C_OPEN) {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        size_t len = evbuffer_get_length(in);
        unsigned char first = 0;
        struct evbuffer_ptr pos;

        if (!conn_auth_fresh(c))
            break;                  /* its answer goes on, or it closed */
        if (c->n_pending >= cfg->conn_inflight_max) {
            bufferevent_disable(c->bev, EV_READ);
            break;
        }
        /* a sender that pipelines but never reads its ACKs must not make
         * the output buffer grow without bound */
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
            MLLP_OUT_MAX) {
            c->out_full = true;
            bufferevent_disable(c->bev, EV_READ);
            break;
        }
        /* CR/LF between frames is tolerated */
        while (len && c->scan == 0 &&
               evbuffer_copyout(in, &first, 1) == 1 &&
               (first == '\r' || first == '\n')) {
            evbuffer_drain(in, 1);
            len--;
        }
        if (len == 0) {
            c->frame_start = 0;
            break;
        }
        if (c->scan == 0 && first != MLLP_SB) {
            /* an HTTP request line (a client at the wrong port), told from
             * junk however its bytes were split: the beginning of a method
             * waits for more (within slow_sender_timeout), a few bytes */
            char head[MLLP_LEAD_MAX];
            ev_ssize_t n = evbuffer_copyout(in, head, sizeof(head));
            enum mllp_lead lead = mllp_lead(head, n > 0 ? (size_t)n : 0,
                                            c->eof);
            if (lead == MLLP_LEAD_HTTP) {
                refuse_http(c);
            } else if (lead == MLLP_LEAD_MORE) {
                if (c->frame_start == 0)
                    c->frame_start = now_s();
            } else {
                refuse(c, len, HUB_ESYNTAX,
                       "bytes before the MLLP start block");
            }
            break;
        }
        if (c->frame_start == 0)
            c->frame_start = now_s();
        evbuffer_ptr_set(in, &pos, c->scan, EVBUFFER_PTR_SET);
        pos = evbuffer_search(in, "\x1c", 1, &pos);
        if (pos.pos < 0) {
            if (len > cfg->max_frame + 1) {
                refuse(c, len, HUB_ELIMIT, "frame exceeds the size limit");
                break;
            }
            c->scan = len;
            break;
        }
        size_t eb = (size_t)pos.pos;
        if (eb - 1 > cfg->max_frame) {
            refuse(c, eb, HUB_ELIMIT, "frame exceeds the size limit");
            break;
        }
        if (!ingest_has_room(srv->ing, 1, eb)) {
            /* global cap: stop reading until committers catch up (the
             * wait is the hub's: no timer of on_timer runs meanwhile) */
            bufferevent_disable(c->bev, EV_READ);
            if (!c->waiting_room) {
                c->waiting_room = true;
                ingest_wait_room(srv->ing, on_room, c);
            }
            break;
        }
        /* the frame ends at EB; its CR, when here, is taken with it (one
         * that comes later is whitespace before the next frame) */
        size_t flen = eb + 2 <= len ? eb + 2 : eb + 1;
        const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)flen);
        struct slice msg;
        ssize_t used = mllp_frame(p, flen, cfg->max_frame, &msg);
        if (used <= 0) {
            refuse(c, flen, used == HUB_ELIMIT ? HUB_ELIMIT : HUB_ESYNTAX,
                   used == HUB_ELIMIT ? "frame exceeds the size limit"
                                      : "not an MLLP frame");
            break;
        }
        struct ingest_job *j = ingest_job_new();
        j->t_start_ns = ingest_now_ns();
        ingest_prepare_hl7(j, srv->dict, cfg->hl7_processing_ids, c->org,
                           msg.p, msg.len);
        evbuffer_drain(in, (size_t)used);
        c->scan = 0;
        c->frame_start = 0;
        enqueue(c, j, false);
    }
    if (c->bev && c->state == C_OPEN && c->eof && c->n_pending == 0 &&
        !c->auth_pending && !c->auth_unknown)
        conn_finish(c);
    arm_timer(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    (void)bev;
    c->last_read = now_s();
    if (c->state == C_OPEN)
        conn_process(c);
    else if (c->state == C_LINGER)
        linger_read(c);
    conn_maybe_free(c);
}

static void on_cert_auth(int rc, const struct principal *who, void *arg)
{
    struct conn *c = arg;
    c->auth_pending = false;
    if (c->bev == NULL) {
        /* closed while the lookup ran */
    } else if (rc != HUB_OK || !(who->scopes & SCOPE_INGEST)) {
        log_warn("mllp.auth_refused", "conn=%" PRIu64 " code=%s", c->id,
                 hub_strerror(rc == HUB_OK ? HUB_EAUTH : rc));
        conn_close(c, "auth");
    } else if (org_conns_full(c->ms, who->org_id)) {
        snprintf(c->org, sizeof(c->org), "%s", who->org_id);
        log_warn("mllp.refused_connection", "why=org_connections conn=%"
                 PRIu64 " org=%s", c->id, c->org);
        conn_close(c, "org_connections");
    } else {
        snprintf(c->org, sizeof(c->org), "%s", who->org_id);
        org_conns_add(c);
        c->state = C_OPEN;
        c->auth_at = now_s();
        log_info("mllp.authenticated", "conn=%" PRIu64 " org=%s", c->id,
                 c->org);
        conn_process(c);
    }
}

static void on_cert_auth_cb(int rc, const struct principal *who, void *arg)
{
    struct conn *c = arg;
    on_cert_auth(rc, who, c);
    conn_maybe_free(c);
}

/* The answer of a look-up again of an open connection's certificate: it
 * still names the connection's organization with the ingest scope, or the
 * connection takes no more frames (those pending are answered). A lookup
 * that cannot tell now (the database away, or the pool's queue full)
 * takes no frame either: they wait, and it is asked again MLLP_REAUTH_S
 * later (a frame taken meanwhile would commit once the database is back,
 * under an identity perhaps revoked, F235). */
static void recheck_answer(struct conn *c, int rc,
                           const struct principal *who)
{
    c->auth_pending = false;
    c->auth_unknown = rc == HUB_EDB || rc == HUB_EBUSY;
    if (c->auth_unknown)
        c->auth_at = now_s();       /* asked again a second after this */
    if (c->bev == NULL || c->auth_unknown)
        return;
    if (rc == HUB_OK && (who->scopes & SCOPE_INGEST) &&
        strcmp(who->org_id, c->org) == 0)
        return;
    log_warn("mllp.auth_refused", "conn=%" PRIu64 " org=%s code=%s", c->id,
             c->org, hub_strerror(rc == HUB_OK ? HUB_EAUTH : rc));
    if (c->n_pending == 0 &&
        evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_close(c, "auth");
    else
        conn_finish(c);
}

static void on_recheck_cb(int rc, const struct principal *who, void *arg)
{
    struct conn *c = arg;
    recheck_answer(c, rc, who);
    if (c->bev && c->state == C_OPEN) {
        conn_process(c);
        if (c->bev && c->eof && c->n_pending)
            conn_finish(c);         /* as on_event does at the end */
    }
    conn_maybe_free(c);
}

/* Whether the connection may take a frame now: a plain one always; a TLS
 * one when its certificate was looked up within MLLP_REAUTH_S and the auth
 * cache has not been flushed since, or is now from the cache. False while
 * a lookup runs (on_recheck_cb goes on), when the last could not tell
 * (on_timer asks again) or once refused. */
static bool conn_auth_fresh(struct conn *c)
{
    struct principal who;
    double now = now_s();

    if (c->auth_pending)
        return false;
    if (!c->tls)
        return true;
    /* a flush (a credential or scope changed somewhere) asks again now */
    uint64_t gen = auth_generation(c->ms->srv->auth);
    if (now - c->auth_at < MLLP_REAUTH_S && gen == c->auth_gen)
        return !c->auth_unknown;
    c->auth_at = now;
    c->auth_gen = gen;
    c->auth_pending = true;
    int rc = auth_cert_wait(c->ms->srv->auth, c->fp, &who, on_recheck_cb, c);
    if (rc == HUB_ESHORT)
        return false;
    recheck_answer(c, rc, &who);
    return c->bev != NULL && c->state == C_OPEN && !c->auth_unknown;
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;

    if (what & BEV_EVENT_CONNECTED) {
        /* TLS handshake done: the client certificate names the org */
        char fp[65];
        struct principal who;
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        int rc = tls_peer_fingerprint(ssl, fp);
        c->frame_start = 0;
        if (rc != HUB_OK) {
            conn_close(c, "no_client_cert");
        } else {
            memcpy(c->fp, fp, sizeof(c->fp));
            c->state = C_AUTH;
            c->auth_pending = true;
            c->auth_gen = auth_generation(c->ms->srv->auth);
            rc = auth_cert_wait(c->ms->srv->auth, fp, &who,
                                on_cert_auth_cb, c);
            if (rc != HUB_ESHORT)
                on_cert_auth(rc, &who, c);
        }
    } else if (what & BEV_EVENT_EOF) {
        /* the sender may half-close and still wait for its ACKs */
        c->eof = true;
        if (c->state == C_OPEN) {
            conn_process(c);
            if (c->bev && c->n_pending)
                conn_finish(c);
        } else if (c->n_pending == 0) {
            conn_close(c, "eof");
        }
    } else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        conn_close(c, what & BEV_EVENT_TIMEOUT ? "timeout" : "error");
    }
    conn_maybe_free(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *arg)
{
    struct lst *ls = arg;
    struct mllp_server *ms = ls->ms;
    struct server *srv = ms->srv;
    const struct hub_config *cfg = srv->cfg;
    struct bufferevent *bev;
    (void)l;
    (void)sa;
    (void)salen;

    if (srv->stopping || ms->n_conns >= (size_t)cfg->max_connections) {
        log_warn("mllp.refused_connection", "why=%s conns=%zu",
                 srv->stopping ? "stopping" : "max_connections",
                 ms->n_conns);
        evutil_closesocket(fd);
        return;
    }
    /* a plain listener's organization is known now; a certificate's once
     * it is looked up (on_cert_auth) */
    if (!ls->tls && org_conns_full(ms, ls->org)) {
        log_warn("mllp.refused_connection", "why=org_connections org=%s",
                 ls->org);
        evutil_closesocket(fd);
        return;
    }
    /* an ACK is one small write that must leave now: over TLS it can be
     * more than one record, and Nagle would hold the later ones for the
     * sender's delayed ACK (tens of ms) */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (ls->tls) {
        SSL *ssl = SSL_new(srv->tls_mllp);
        if (ssl == NULL) {
            evutil_closesocket(fd);
            return;
        }
        bev = bufferevent_openssl_socket_new(srv->base, fd, ssl,
                                             BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE);
        if (bev)
            bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    } else {
        bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (bev == NULL) {
        evutil_closesocket(fd);
        return;
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->id = ++srv->next_conn_id;
    c->ms = ms;
    c->bev = bev;
    c->tls = ls->tls;
    c->state = ls->tls ? C_HANDSHAKE : C_OPEN;
    snprintf(c->org, sizeof(c->org), "%s", ls->org);
    if (!ls->tls)
        org_conns_add(c);
    c->last_read = now_s();
    /* the handshake must finish like a frame: within slow_sender_timeout */
    if (ls->tls)
        c->frame_start = c->last_read;
    c->timer = evtimer_new(srv->base, on_timer, c);
    c->next = ms->conns;
    if (ms->conns)
        ms->conns->prev = c;
    ms->conns = c;
    ms->n_conns++;
    metrics_connections(1);
    /* at most one frame (plus slack) waits unparsed per connection */
    bufferevent_setwatermark(bev, EV_READ, 0, cfg->max_frame + 65536);
    bufferevent_setcb(bev, on_read, on_flushed, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    /* plain: EV_WRITE only while libevent has bytes to write (conn_send);
     * a new bufferevent starts with it enabled */
    if (!ls->tls)
        bufferevent_disable(bev, EV_WRITE);
    arm_timer(c);
    log_debug("mllp.accepted", "conn=%" PRIu64 " tls=%d", c->id, c->tls);
}

static int bind_one(struct mllp_server *ms, const char *addr, int port,
                    bool tls, const char *org)
{
    struct server *srv = ms->srv;
    struct sockaddr_storage ss;
    int sslen;
    char spec[128];
    struct lst *ls = &ms->lst[ms->n_lst];

    memset(&ss, 0, sizeof(ss));
    snprintf(spec, sizeof(spec), "%s:%d", addr, port);
    /* by hand: evutil_parse_sockaddr_port refuses port 0 (ephemeral) */
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        sslen = sizeof(*in4);
    } else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        sslen = sizeof(*in6);
    } else {
        log_error("mllp.bad_bind", "bind=%s", spec);
        return HUB_EINVALID;
    }
    ls->ms = ms;
    ls->tls = tls;
    snprintf(ls->org, sizeof(ls->org), "%s", org ? org : "");
    ls->l = evconnlistener_new_bind(srv->base, on_accept, ls,
                                    LEV_OPT_CLOSE_ON_FREE |
                                        LEV_OPT_REUSEABLE,
                                    1024, (struct sockaddr *)&ss, sslen);
    if (ls->l == NULL) {
        /* the key to change: mllps_port, or mllp_port / mllp_listener */
        int e = errno;
        log_error("mllp.bind_failed", "addr=%s tls=%d errno=%d why=\"%s\"",
                  spec, tls ? 1 : 0, e, strerror(e));
        return HUB_EIO;
    }
    struct sockaddr_storage got;
    socklen_t glen = sizeof(got);
    int bound = port;
    if (getsockname(evconnlistener_get_fd(ls->l), (struct sockaddr *)&got,
                    &glen) == 0)
        bound = ntohs(got.ss_family == AF_INET6
                          ? ((struct sockaddr_in6 *)&got)->sin6_port
                          : ((struct sockaddr_in *)&got)->sin_port);
    ls->guard = accept_guard_new(ls->l, tls ? "mllps" : "mllp", NULL,
                                 NULL);
    if (ls->guard == NULL)
        abort();
    ms->n_lst++;
    server_report_port(srv, tls ? "mllps" : "mllp", bound);
    log_info("mllp.listening", "addr=%s port=%d tls=%d org=%s", addr, bound,
             tls, tls ? "by-cert" : ls->org);
    return HUB_OK;
}

int mllp_server_new(struct server *srv, struct mllp_server **out)
{
    const struct hub_config *cfg = srv->cfg;
    struct mllp_server *ms = calloc(1, sizeof(*ms));
    int rc = HUB_OK;

    if (ms == NULL)
        abort();
    ms->srv = srv;
    ms->send_ev = event_new(srv->base, -1, 0, send_pass, ms);
    if (ms->send_ev == NULL)
        abort();
    for (size_t i = 0; i < cfg->n_mllp && rc == HUB_OK; i++) {
        const struct config_mllp_listener *l = &cfg->mllp[i];
        if (l->port < 0)
            continue;
        if (l->org[0] == '\0') {
            log_warn("mllp.listener_skipped",
                     "port=%d why=no_org (set mllp_org)", l->port);
            continue;
        }
        rc = bind_one(ms, l->bind, l->port, false, l->org);
    }
    if (rc == HUB_OK && cfg->mllps_port >= 0 && srv->tls_mllp)
        rc = bind_one(ms, cfg->mllps_bind, cfg->mllps_port, true, NULL);
    if (rc != HUB_OK) {
        mllp_server_free(ms);
        return rc;
    }
    *out = ms;
    return HUB_OK;
}

void mllp_server_stop(struct mllp_server *ms)
{
    if (ms == NULL)
        return;
    for (size_t i = 0; i < ms->n_lst; i++) {
        accept_guard_free(ms->lst[i].guard);    /* its retry enables */
        ms->lst[i].guard = NULL;
        evconnlistener_disable(ms->lst[i].l);
    }
    struct conn *c = ms->conns;
    while (c) {
        struct conn *next = c->next;
        if (c->bev) {
            if (c->state != C_OPEN && c->n_pending == 0)
                conn_close(c, "shutdown");
            else
                conn_finish(c);
        }
        c = next;
    }
}

size_t mllp_server_connections(const struct mllp_server *ms)
{
    size_t n = 0;
    for (const struct conn *c = ms ? ms->conns : NULL; c; c = c->next)
        if (c->bev)
            n++;
    return n;
}

void mllp_server_free(struct mllp_server *ms)
{
    if (ms == NULL)
        return;
    for (size_t i = 0; i < ms->n_lst; i++) {
        accept_guard_free(ms->lst[i].guard);
        evconnlistener_free(ms->lst[i].l);
    }
    /* after the ingest pipeline is drained and freed: no job is out */
    while (ms->conns) {
        struct conn *c = ms->conns;
        conn_close(c, "shutdown");
        while (c->q_head) {         /* jobs never committed */
            struct pend *p = c->q_head;
            c->q_head = p->next;
            free(p);
        }
        ms->conns = c->next;
        event_free(c->timer);
        free(c);
    }
    ms->send_head = NULL;
    event_free(ms->send_ev);
    free(ms->orgs);
    free(ms);
}
