/*
 * store_fence.c - a cut statement is not run later by its backend (F1061).
 *
 * A statement cut at its deadline (db_await) had a cancel sent after it.
 * But a backend that was waiting for its next command when it stopped (a
 * process stopped, swapped out, blocked on a hung volume) ignores a cancel
 * that comes while it reads a command (PostgreSQL's ProcessInterrupts):
 * run again, it reads the cut statement from its socket and runs it, after
 * its retry on a new link already did. An ingest batch then stored its
 * messages without a key (the refused ones) twice; a dispatcher flush
 * audited an attempt twice. A termination is not ignored there: the
 * backend ends before it runs what it reads.
 *
 * So each link with a deadline notes which server session it is (pid and
 * backend_start, when it reaches one directly: behind a pooler the pid
 * libpq was given is not a server's, and nothing is noted; a pooler that
 * hands on the server's own pid, as Pgpool-II does, keeps that session
 * for its next client once hubd's link ends, so over TCP the session must
 * also see hubd's own address and port as its client, F1080); a link ended
 * on this side hands that session to a process-wide list; and the next
 * statement of any bounded link of hubd that works terminates the
 * sessions listed, each only if its pid still has that backend_start (a
 * pid is reused once its backend exited). The cancel still goes first: it
 * stops a statement that is running.
 */
#define _GNU_SOURCE                 /* struct ucred */
#include "store_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/hub_err.h"
#include "log.h"

#define FENCE_MAX 32                /* sessions waiting to be terminated */

struct fenced {
    int pid;
    char start[sizeof(((struct store *)0)->fence_start)];
};

static pthread_mutex_t fence_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fenced fence[FENCE_MAX];
static atomic_int fence_n;
static atomic_bool fence_off_told;

/* Over a Unix socket (the server on this host): the process listening on
 * it, which the kernel names as this link's peer, is the backend's parent
 * (the postmaster), not a pooler's; a pid not seen here (another pid
 * namespace, /proc hidden) is not taken for direct. */
static bool listener_is_parent(int fd, int pid)
{
    struct ucred cr;
    socklen_t n = sizeof(cr);
    char path[32], buf[512];

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) != 0 || cr.pid <= 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    /* ") S 1234 ...": its name, which may hold spaces, then the state
     * and the parent's pid */
    const char *p = strrchr(buf, ')');
    char *end;
    if (p == NULL || p[1] != ' ' || p[2] == '\0' || p[3] != ' ')
        return false;
    long ppid = strtol(p + 4, &end, 10);
    return end != p + 4 && ppid == cr.pid;
}

/* The session's client is this link's own socket: over TCP its address
 * and port as the server saw them are hubd's (a pooler's or a relay's are
 * not: nothing is noted, only the cancel goes); over a Unix socket, which
 * has no address to compare (client_port -1), the listener is the
 * backend's parent. */
static bool own_client(const struct store *s, const char *addr,
                       const char *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN];
    const void *a;
    int p;

    if (getsockname(PQsocket(s->c), (struct sockaddr *)&ss, &len) != 0)
        return false;
    if (ss.ss_family == AF_UNIX)
        return strcmp(port, "-1") == 0 &&
               listener_is_parent(PQsocket(s->c), PQbackendPID(s->c));
    if (ss.ss_family == AF_INET) {
        a = &((struct sockaddr_in *)&ss)->sin_addr;
        p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else {
        return false;
    }
    return inet_ntop(ss.ss_family, a, host, sizeof(host)) != NULL &&
           strcmp(host, addr) == 0 && strtol(port, NULL, 10) == p;
}

void db_fence_note(struct store *s)
{
    PGresult *r;

    if (s->fence_asked || s->statement_ms == 0 ||
        PQstatus(s->c) != CONNECTION_OK)
        return;
    s->fence_asked = true;          /* once a session: a pool sets its
                                       deadline before every job */
    s->fence_pid = 0;
    r = db_result(s, "fence.note", db_now_ms(),
                  PQsendQuery(s->c, "SELECT pid, backend_start::text, "
                              "coalesce(host(client_addr), ''), "
                              "coalesce(client_port, -1) FROM "
                              "pg_stat_activity WHERE pid = "
                              "pg_backend_pid()"));
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
        PQnfields(r) == 4 && !PQgetisnull(r, 0, 1) &&
        strtol(PQgetvalue(r, 0, 0), NULL, 10) == PQbackendPID(s->c) &&
        own_client(s, PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3)) &&
        (size_t)PQgetlength(r, 0, 1) < sizeof(s->fence_start)) {
        s->fence_pid = PQbackendPID(s->c);
        memcpy(s->fence_start, PQgetvalue(r, 0, 1),
               (size_t)PQgetlength(r, 0, 1) + 1);
    } else if (PQresultStatus(r) == PGRES_TUPLES_OK &&
               !atomic_exchange(&fence_off_told, true)) {
        /* an operator learns once that F1061's window is open here */
        log_info("store.fence_off", "why=\"the session's client is not "
                 "this link (a pooler, relay or NAT): a cut link gets the "
                 "cancel alone\"");
    }
    PQclear(r);
}

static void keep(int pid, const char *start)
{
    pthread_mutex_lock(&fence_mu);
    int n = atomic_load(&fence_n);
    if (n < FENCE_MAX) {
        fence[n].pid = pid;
        snprintf(fence[n].start, sizeof(fence[n].start), "%s", start);
        atomic_store(&fence_n, n + 1);
    } else {
        log_warn("store.fence_full", "pid=%d", pid);
    }
    pthread_mutex_unlock(&fence_mu);
}

void db_fence_keep(struct store *s)
{
    if (s->fence_pid == 0)
        return;
    keep(s->fence_pid, s->fence_start);
    s->fence_pid = 0;
}

void db_fence_send(struct store *s)
{
    struct fenced mine[FENCE_MAX];
    int n;

    if (atomic_load(&fence_n) == 0 || s->statement_ms == 0 ||
        PQstatus(s->c) != CONNECTION_OK ||
        PQtransactionStatus(s->c) != PQTRANS_IDLE)
        return;
    pthread_mutex_lock(&fence_mu);
    n = atomic_load(&fence_n);
    memcpy(mine, fence, (size_t)n * sizeof(mine[0]));
    atomic_store(&fence_n, 0);
    pthread_mutex_unlock(&fence_mu);
    for (int i = 0; i < n; i++) {
        char pid[16];
        snprintf(pid, sizeof(pid), "%d", mine[i].pid);
        const char *p[] = { pid, mine[i].start };
        PGresult *r = db_result(
            s, "fence.terminate", db_now_ms(),
            PQsendQueryParams(s->c, "SELECT count(pg_terminate_backend(pid))"
                              " FROM pg_stat_activity WHERE pid = $1::int "
                              "AND backend_start::text = $2", 2, NULL, p,
                              NULL, NULL, 0));
        if (r == NULL) {
            /* this link failed too: the rest wait for another */
            for (int k = i; k < n; k++)
                keep(mine[k].pid, mine[k].start);
            return;
        }
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            log_info("store.fenced", "pid=%d found=%s", mine[i].pid,
                     PQgetvalue(r, 0, 0));
        else                        /* refused (42501): not asked again */
            (void)db_fail(s, "fence.terminate", r);
        PQclear(r);
    }
}
