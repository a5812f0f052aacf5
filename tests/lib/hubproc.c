/*
 * hubproc.c - see hubproc.h. Every wait is bounded by a deadline.
 */
#define _GNU_SOURCE             /* accept4, close_range */
#include "hubproc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <openssl/err.h>

#include "canary.h"
#include "common/hub_err.h"
#include "store.h"
#include "testdb.h"
#include "testfile.h"

void hub_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

double hub_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void *hub_read_feed(void *arg)
{
    struct feed_call *f = arg;
    double t0 = hub_mono_ms();
    memset(&f->resp, 0, sizeof(f->resp));
    f->rc = http_call(f->h, true, "GET", "/v1/events", "tok-hosp", NULL,
                      NULL, 0, NULL, &f->resp);
    f->ms = hub_mono_ms() - t0;
    return NULL;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- database proxy --------------------------------------------------- */

#define PROXY_MAX_PAIRS 64

struct dbproxy {
    int lfd, port, pg_port;
    int pairs[PROXY_MAX_PAIRS][2];
    bool held[PROXY_MAX_PAIRS];     /* the server's answers not read */
    size_t n;
    int refused;                    /* connections closed while down */
    bool down, hung, stop;
    pthread_mutex_t mu;
    pthread_t tid;
};

static void pair_close(struct dbproxy *p, size_t i)
{
    close(p->pairs[i][0]);
    close(p->pairs[i][1]);
    p->pairs[i][0] = p->pairs[i][1] = -1;
    p->held[i] = false;
}

static void *proxy_main(void *arg)
{
    struct dbproxy *p = arg;
    char buf[16384];

    for (;;) {
        struct pollfd pf[1 + 2 * PROXY_MAX_PAIRS];
        size_t map[1 + 2 * PROXY_MAX_PAIRS];
        nfds_t nf = 0;

        pthread_mutex_lock(&p->mu);
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        if (p->hung) {              /* the kernel still takes what comes */
            pthread_mutex_unlock(&p->mu);
            poll(NULL, 0, 20);
            continue;
        }
        if (p->down)
            for (size_t i = 0; i < PROXY_MAX_PAIRS; i++)
                if (p->pairs[i][0] >= 0)
                    pair_close(p, i);
        pf[nf++] = (struct pollfd){ p->lfd, POLLIN, 0 };
        for (size_t i = 0; i < PROXY_MAX_PAIRS; i++) {
            if (p->pairs[i][0] < 0)
                continue;
            for (int k = 0; k < (p->held[i] ? 1 : 2); k++) {
                map[nf] = i * 2 + (size_t)k;
                pf[nf++] = (struct pollfd){ p->pairs[i][k], POLLIN, 0 };
            }
        }
        pthread_mutex_unlock(&p->mu);

        if (poll(pf, nf, 50) <= 0)
            continue;
        pthread_mutex_lock(&p->mu);
        if (pf[0].revents & POLLIN) {
            int c = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0) {
                size_t slot = PROXY_MAX_PAIRS;
                for (size_t i = 0; i < PROXY_MAX_PAIRS; i++)
                    if (p->pairs[i][0] < 0) {
                        slot = i;
                        break;
                    }
                int s = -1;
                if (!p->down && slot < PROXY_MAX_PAIRS) {
                    struct sockaddr_in a = { 0 };
                    a.sin_family = AF_INET;
                    a.sin_port = htons((uint16_t)p->pg_port);
                    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                    s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                    if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
                        close(s);
                        s = -1;
                    }
                }
                if (s < 0) {
                    p->refused += p->down;
                    close(c);
                } else {
                    p->pairs[slot][0] = c;
                    p->pairs[slot][1] = s;
                }
            }
        }
        for (nfds_t k = 1; k < nf; k++) {
            if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            size_t i = map[k] / 2;
            int side = (int)(map[k] % 2);
            if (p->pairs[i][0] < 0)
                continue;
            ssize_t r = read(p->pairs[i][side], buf, sizeof(buf));
            if (r <= 0) {
                pair_close(p, i);
                continue;
            }
            ssize_t off = 0;
            while (off < r) {
                ssize_t w = write(p->pairs[i][1 - side], buf + off,
                                  (size_t)(r - off));
                if (w <= 0)
                    break;
                off += w;
            }
            if (off < r)
                pair_close(p, i);
        }
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

struct dbproxy *dbproxy_start(int pg_port)
{
    struct dbproxy *p = calloc(1, sizeof(*p));
    struct sockaddr_in a = { 0 };
    socklen_t alen = sizeof(a);
    int one = 1;

    p->pg_port = pg_port;
    for (size_t i = 0; i < PROXY_MAX_PAIRS; i++)
        p->pairs[i][0] = p->pairs[i][1] = -1;
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(p->lfd, 64) != 0 ||
        getsockname(p->lfd, (struct sockaddr *)&a, &alen) != 0) {
        close(p->lfd);
        free(p);
        return NULL;
    }
    p->port = ntohs(a.sin_port);
    pthread_mutex_init(&p->mu, NULL);
    pthread_create(&p->tid, NULL, proxy_main, p);
    return p;
}

int dbproxy_port(const struct dbproxy *p)
{
    return p->port;
}

void dbproxy_set_down(struct dbproxy *p, bool down)
{
    pthread_mutex_lock(&p->mu);
    p->down = down;
    pthread_mutex_unlock(&p->mu);
}

void dbproxy_hold_answers(struct dbproxy *p, bool hold)
{
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < PROXY_MAX_PAIRS; i++)
        p->held[i] = hold && p->pairs[i][0] >= 0;
    pthread_mutex_unlock(&p->mu);
}

void dbproxy_set_hung(struct dbproxy *p, bool hung)
{
    pthread_mutex_lock(&p->mu);
    p->hung = hung;
    pthread_mutex_unlock(&p->mu);
}

int dbproxy_refused(struct dbproxy *p)
{
    pthread_mutex_lock(&p->mu);
    int n = p->refused;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void dbproxy_stop(struct dbproxy *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->tid, NULL);
    for (size_t i = 0; i < PROXY_MAX_PAIRS; i++)
        if (p->pairs[i][0] >= 0)
            pair_close(p, i);
    close(p->lfd);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* ---- hubd ------------------------------------------------------------- */

const char *hub_path(const struct hubproc *h, const char *name)
{
    static char path[2][512];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof(path[k]), "%s/%s", h->dir, name);
    return path[k];
}

long hub_peak_kib(const struct hubproc *h)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)h->pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

static int read_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return 0;
}

static int port_of(const char *text, const char *name)
{
    char key[32];
    snprintf(key, sizeof(key), "%s=", name);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, key, strlen(key)) == 0)
            return (int)strtol(p + strlen(key), NULL, 10);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

/* Organizations, tokens and the client certificate binding of hosp.
 * Returns NULL, or the step that failed (for the message). */
static const char *seed(struct hubproc *h)
{
    struct store *s;
    char sha[65], fp[128];
    const char *failed = NULL;

    if (store_connect(h->db_url, &s) != HUB_OK)
        return "connect to the test database";
    if (read_file(hub_path(h, "certs/hosp.fp"), fp, sizeof(fp)) != 0) {
        failed = "read certs/hosp.fp";
        goto out;
    }
    fp[strcspn(fp, "\n")] = '\0';
    if (store_org_add(s, "test", "hosp", "Test Hospital", "hospital",
                      SCOPE_INGEST | SCOPE_SUBSCRIBE) != HUB_OK ||
        store_org_add(s, "test", "cbo", "Test Food Bank", "cbo",
                      SCOPE_SUBSCRIBE) != HUB_OK) {
        failed = "add organizations";
        goto out;
    }
    store_sha256_hex("tok-hosp", 8, sha);
    if (store_token_add(s, "test", "hosp", sha, "hosp-t1",
                        SCOPE_INGEST | SCOPE_SUBSCRIBE, 0) != HUB_OK) {
        failed = "add token of hosp";
        goto out;
    }
    store_sha256_hex("tok-cbo", 7, sha);
    if (store_token_add(s, "test", "cbo", sha, "cbo-t1", SCOPE_SUBSCRIBE,
                        0) != HUB_OK) {
        failed = "add token of cbo";
        goto out;
    }
    if (store_cert_bind(s, "test", "hosp", fp) != HUB_OK)
        failed = "bind the certificate of hosp";
out:
    store_free(s);
    return failed;
}

/* Close every descriptor above stderr: hubd must hold only its own. An
 * inherited copy of a test socket (an MLLP client, a webhook receiver's
 * listener, the database proxy) or of Criterion's pipes would outlive its
 * close in the test, so the peer would never see EOF. */
static void close_inherited(void)
{
    if (close_range(3, ~0u, 0) == 0)
        return;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = 3; fd < (int)max; fd++)
        close(fd);
}

/* true once hubd has exited (reaped; h->pid cleared) */
static bool exited(struct hubproc *h)
{
    int st;
    if (waitpid(h->pid, &st, WNOHANG) != h->pid)
        return false;
    fprintf(stderr, "hubproc: hubd exited early (status %d; see %s)\n",
            WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st),
            hub_path(h, "hubd.log"));
    h->pid = 0;
    return true;
}

/* How long hubd may take to listen and reach its database. Every wait is on
 * a condition, so this bound costs nothing when hubd is quick; it is
 * generous because the sanitizer build on a loaded 2-core machine is slow.
 * HUB_TEST_START_MS overrides it. */
/* `name` in the build dir: $HUB_BUILD (absolute, or under the root),
 * default build */
static void build_path(char *out, size_t size, const char *name)
{
    const char *build = getenv("HUB_BUILD");

    if (build && build[0] == '/')
        snprintf(out, size, "%s/%s", build, name);
    else
        snprintf(out, size, "%s/%s/%s", testdb_root(),
                 build && *build ? build : "build", name);
}

static double start_bound_ms(void)
{
    const char *v = getenv("HUB_TEST_START_MS");
    long ms = v && *v ? strtol(v, NULL, 10) : 0;
    return ms > 0 ? (double)ms : 60000.0;
}

static int spawn(struct hubproc *h)
{
    char ports[512], bin[1024];
    const char *why = "no ports file";

    unlink(hub_path(h, "ports"));
    build_path(bin, sizeof(bin), "hubd");
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "hubproc: fork failed (errno %d)\n", errno);
        return -1;
    }
    if (pid == 0) {
        /* hubd must not outlive a test process that Criterion killed (a
         * timeout skips .fini): the kernel kills it with its parent */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        int fd = open(hub_path(h, "hubd.log"),
                      O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        close_inherited();
        execl(bin, "hubd", "-c", hub_path(h, "hubd.conf"), (char *)NULL);
        _exit(127);
    }
    h->pid = pid;
    double deadline = now_ms() + start_bound_ms();
    while (now_ms() < deadline) {
        if (exited(h))
            return -1;
        if (read_file(hub_path(h, "ports"), ports, sizeof(ports)) == 0) {
            h->mllp = port_of(ports, "mllp");
            h->mllps = port_of(ports, "mllps");
            h->https = port_of(ports, "https");
            h->http = port_of(ports, "http");
            if (h->http == 0)
                return 0;
            /* listening is not ready: wait for the database link too, as a
             * load balancer would (GET /readyz) */
            why = "GET /readyz never answered 200";
            while (now_ms() < deadline) {
                struct http_resp r;
                long status = 0;
                if (exited(h))
                    return -1;
                if (http_call(h, false, "GET", "/readyz", NULL, NULL, NULL, 0,
                              NULL, &r) == 0)
                    status = r.status;
                http_resp_free(&r);
                if (status == 200)
                    return 0;
                hub_sleep_ms(20);
            }
            break;
        }
        hub_sleep_ms(20);
    }
    fprintf(stderr, "hubproc: hubd not ready within %.0f ms (%s; see %s)\n",
            start_bound_ms(), why, hub_path(h, "hubd.log"));
    hub_kill9(h);
    return -1;
}

/* "postgresql://u@127.0.0.1:PORT/db?host=..." -> PORT and db */
static int split_url(const char *url, int *port, char *db, size_t dbsize)
{
    const char *at = strchr(url, '@');
    const char *colon = at ? strchr(at, ':') : NULL;
    const char *slash = colon ? strchr(colon, '/') : NULL;
    if (slash == NULL)
        return -1;
    *port = (int)strtol(colon + 1, NULL, 10);
    size_t n = strcspn(slash + 1, "?");
    if (n >= dbsize)
        return -1;
    memcpy(db, slash + 1, n);
    db[n] = '\0';
    return 0;
}

static int write_config(struct hubproc *h, const char *extra);

int hub_start(struct hubproc *h, const char *extra, bool via_proxy)
{
    char cmd[8192];

    memset(h, 0, sizeof(*h));
    snprintf(h->dir, sizeof(h->dir), "/tmp/hub-e2e-XXXXXX");
    if (mkdtemp(h->dir) == NULL)
        return -1;
    char *url = testdb_create();
    if (url == NULL) {
        fprintf(stderr, "hubproc: no test database\n");
        return -1;
    }
    snprintf(h->db_url, sizeof(h->db_url), "%s", url);
    free(url);
    snprintf(h->hub_db_url, sizeof(h->hub_db_url), "%s", h->db_url);
    if (via_proxy) {
        int pg_port;
        char db[256];
        if (split_url(h->db_url, &pg_port, db, sizeof(db)) != 0)
            return -1;
        h->proxy = dbproxy_start(pg_port);
        if (h->proxy == NULL)
            return -1;
        snprintf(h->hub_db_url, sizeof(h->hub_db_url),
                 "postgresql://postgres@127.0.0.1:%d/%s?connect_timeout=2",
                 dbproxy_port(h->proxy), db);
    }
    /* the certificates are made once per build dir and copied: mkcerts.sh
     * runs nine openssl commands, about half a CPU-second, which was more
     * than half of the e2e suite's own CPU. Made again when mkcerts.sh is
     * newer or the set a month old (its certificates last 825 days).
     * Each test still has a copy of its own, which it may change.
     * The script's own output is kept beside hubd.log for a post-mortem. */
    char cache[1024];
    build_path(cache, sizeof(cache), "e2e-certs");
    snprintf(cmd, sizeof(cmd), "(c='%s'; m='%s/certs/mkcerts.sh'; "
             "exec 9>\"$c.lock\" && flock 9 && "
             "{ { [ \"$c/.made\" -nt \"$m\" ] && "
             "[ -n \"$(find \"$c/.made\" -mtime -30)\" ]; } || "
             "{ rm -rf \"$c\" && "
             "\"$m\" \"$c\" hosp cbo other && touch \"$c/.made\"; }; } && "
             "cp -a \"$c\" '%s/certs' && rm '%s/certs/.made') "
             ">'%s/mkcerts.log' 2>&1", cache, testdb_root(), h->dir, h->dir,
             h->dir);
    int rc = system(cmd);
    if (rc != 0) {
        fprintf(stderr, "hubproc: certs/mkcerts.sh failed (system() = %d, "
                "errno %d; see %s)\n", rc, errno, hub_path(h, "mkcerts.log"));
        return -1;
    }
    const char *failed = seed(h);
    if (failed) {
        fprintf(stderr, "hubproc: seed failed: %s\n", failed);
        return -1;
    }
    return write_config(h, extra) == 0 ? spawn(h) : -1;
}

/* `extra` has a line that sets `key` ("key = value") */
static bool extra_sets(const char *extra, const char *key)
{
    size_t n = strlen(key);

    for (const char *l = extra; l && *l; l += strcspn(l, "\n"),
                                         l += *l == '\n') {
        l += strspn(l, " \t");
        if (strncmp(l, key, n) == 0 && l[n + strspn(l + n, " \t")] == '=')
            return true;
    }
    return false;
}

/* hubd.conf in h->dir: the test profile, then `extra`, whose keys replace
 * the profile's (hubd refuses a key given twice, F3128) */
static int write_config(struct hubproc *h, const char *extra)
{
    char certs[3][512], db[1024], ports[512];
    FILE *f = fopen(hub_path(h, "hubd.conf"), "w");
    if (f == NULL)
        return -1;
    snprintf(db, sizeof(db), "%s", h->hub_db_url);
    snprintf(certs[0], sizeof(certs[0]), "%s/certs/server.crt", h->dir);
    snprintf(certs[1], sizeof(certs[1]), "%s/certs/server.key", h->dir);
    snprintf(certs[2], sizeof(certs[2]), "%s/certs/ca.crt", h->dir);
    snprintf(ports, sizeof(ports), "%s/ports", h->dir);
    const char *const base[][2] = {
        { "profile", "dev" }, { "database_url", db },
        { "migrate_at_start", "false" },
        { "mllp_bind", "127.0.0.1" }, { "mllp_port", "0" },
        { "mllp_org", "hosp" },
        { "mllps_bind", "127.0.0.1" }, { "mllps_port", "0" },
        { "https_bind", "127.0.0.1" }, { "https_port", "0" },
        { "http_bind", "127.0.0.1" }, { "http_port", "0" },
        { "tls_cert", certs[0] }, { "tls_key", certs[1] },
        { "tls_ca", certs[2] }, { "ports_file", ports },
        { "shutdown_timeout", "3" }, { "auth_cache_ttl", "1" },
    };
    for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
        if (!extra_sets(extra, base[i][0]))
            fprintf(f, "%s = %s\n", base[i][0], base[i][1]);
    fprintf(f, "%s\n", extra ? extra : "");
    return fclose(f) == 0 ? 0 : -1;
}

int hub_conf_set(const struct hubproc *h, const char *line)
{
    char key[64], *text = NULL;
    size_t n = strcspn(line, " =");
    FILE *f = fopen(hub_path(h, "hubd.conf"), "r");

    if (f == NULL || n == 0 || n >= sizeof(key)) {
        if (f)
            fclose(f);
        return -1;
    }
    memcpy(key, line, n);
    key[n] = '\0';
    size_t cap = 1 << 16, len = 0;
    text = malloc(cap);
    if (text == NULL)
        abort();
    len = fread(text, 1, cap - 1, f);
    fclose(f);
    text[len] = '\0';
    f = fopen(hub_path(h, "hubd.conf"), "w");
    if (f == NULL) {
        free(text);
        return -1;
    }
    for (char *l = text, *nl; l && *l; l = nl) {
        nl = strchr(l, '\n');
        if (nl)
            *nl++ = '\0';
        if (!extra_sets(l, key))
            fprintf(f, "%s\n", l);
    }
    fprintf(f, "%s\n", line);
    free(text);
    return fclose(f) == 0 ? 0 : -1;
}

int hub_start_peer(struct hubproc *peer, const struct hubproc *first,
                   const char *extra)
{
    char certs[512];

    memset(peer, 0, sizeof(*peer));
    snprintf(peer->dir, sizeof(peer->dir), "/tmp/hub-e2e-XXXXXX");
    if (mkdtemp(peer->dir) == NULL)
        return -1;
    snprintf(peer->hub_db_url, sizeof(peer->hub_db_url), "%s",
             first->hub_db_url);
    snprintf(certs, sizeof(certs), "%s/certs", first->dir);
    if (symlink(certs, hub_path(peer, "certs")) != 0) {
        fprintf(stderr, "hubproc: symlink certs failed (errno %d)\n", errno);
        return -1;
    }
    return write_config(peer, extra) == 0 ? spawn(peer) : -1;
}

int hub_restart(struct hubproc *h)
{
    return spawn(h);
}

int hub_stop(struct hubproc *h)
{
    if (h->pid <= 0)
        return -1;
    kill(h->pid, SIGTERM);
    return hub_wait(h, 10000);
}

int hub_wait(struct hubproc *h, int ms)
{
    int st;
    if (h->pid <= 0)
        return -1;
    double deadline = now_ms() + ms;
    while (now_ms() < deadline) {
        if (waitpid(h->pid, &st, WNOHANG) == h->pid) {
            h->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        hub_sleep_ms(10);
    }
    hub_kill9(h);
    return -1;
}

void hub_kill9(struct hubproc *h)
{
    if (h->pid <= 0)
        return;
    kill(h->pid, SIGKILL);
    waitpid(h->pid, NULL, 0);
    h->pid = 0;
}

const char *hub_log_leak(const struct hubproc *h, char *line, size_t size)
{
    return canary_find_file(hub_path(h, "hubd.log"), line, size);
}

int hub_log_count(const struct hubproc *h, const char *what)
{
    size_t len;
    char *log = testfile_read(hub_path(h, "hubd.log"), &len);
    int n = 0;
    for (const char *p = log; p && (p = strstr(p, what)) != NULL; p++)
        n++;
    free(log);
    return n;
}

bool hub_wait_log(const struct hubproc *h, const char *what, int n, int ms)
{
    struct timespec ts = { 0, 20 * 1000000L };
    for (int waited = 0; waited < ms; waited += 20) {
        if (hub_log_count(h, what) >= n)
            return true;
        nanosleep(&ts, NULL);
    }
    return hub_log_count(h, what) >= n;
}

void hub_cleanup(struct hubproc *h)
{
    char cmd[512], line[512];
    if (h->pid > 0 && hub_stop(h) != 0)
        hub_kill9(h);
    dbproxy_stop(h->proxy);
    h->proxy = NULL;
    if (h->db_url[0]) {
        char *u = strdup(h->db_url);
        testdb_drop(u);
        h->db_url[0] = '\0';
    }
    /* no personal data in the log: an assertion in .fini is not counted by
     * Criterion, a crash is (the runner exits non-zero); the dir is kept */
    const char *leak = h->dir[0] ? hub_log_leak(h, line, sizeof(line)) : NULL;
    if (leak) {
        fprintf(stderr, "hubproc: personal data (canary \"%s\") in %s: %s\n",
                leak, hub_path(h, "hubd.log"), line);
        abort();
    }
    if (h->dir[0] && getenv("HUB_E2E_KEEP") == NULL) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
        (void)!system(cmd);
    }
}

long hub_sql_long(const struct hubproc *h, const char *sql)
{
    struct store *s;
    char *out = NULL;
    long v = -1;
    if (store_connect(h->db_url, &s) != HUB_OK)
        return -1;
    if (store_query_text(s, sql, 0, NULL, &out) == HUB_OK && out)
        v = strtol(out, NULL, 10);
    free(out);
    store_free(s);
    return v;
}

/* ---- MLLP ------------------------------------------------------------- */

int mllp_connect(struct mllp_client *c, int port, const struct hubproc *h,
                 const char *cert_org)
{
    struct sockaddr_in a = { 0 };
    int one = 1;

    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = { 5, 0 };
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (cert_org == NULL)
        return 0;
    /* SSL_write writes with write(), not send(MSG_NOSIGNAL): to a hub that
     * already closed (an unbound certificate) it raises SIGPIPE, which
     * killed the test process whenever the close came first */
    signal(SIGPIPE, SIG_IGN);
    c->ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(c->ctx, hub_path(h, "certs/ca.crt"), NULL);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    if (*cert_org) {
        char crt[64], key[64];
        snprintf(crt, sizeof(crt), "certs/%s.crt", cert_org);
        snprintf(key, sizeof(key), "certs/%s.key", cert_org);
        if (SSL_CTX_use_certificate_file(c->ctx, hub_path(h, crt),
                                         SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_use_PrivateKey_file(c->ctx, hub_path(h, key),
                                        SSL_FILETYPE_PEM) != 1)
            return -1;
    }
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    struct timeval rt = { 5, 0 };
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt));
    if (SSL_connect(c->ssl) != 1) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int mllp_send_raw(struct mllp_client *c, const void *p, size_t n)
{
    const char *s = p;
    while (n) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, s, (int)n)
                           : send(c->fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int mllp_send(struct mllp_client *c, const char *msg)
{
    size_t n = strlen(msg);
    char *f = malloc(n + 3);
    f[0] = 0x0b;
    memcpy(f + 1, msg, n);
    f[n + 1] = 0x1c;
    f[n + 2] = 0x0d;
    int rc = mllp_send_raw(c, f, n + 3);
    free(f);
    return rc;
}

/* one byte, waiting at most until deadline: 1, 0 on EOF, -1 */
static int read_byte(struct mllp_client *c, char *b, double deadline)
{
    for (;;) {
        if (c->ssl && SSL_pending(c->ssl) == 0) {
            /* fall through to poll */
        } else if (c->ssl) {
            int r = SSL_read(c->ssl, b, 1);
            return r == 1 ? 1 : 0;
        }
        int left = (int)(deadline - now_ms());
        if (left <= 0)
            return -1;
        struct pollfd pf = { c->fd, POLLIN, 0 };
        if (poll(&pf, 1, left) <= 0)
            continue;
        if (c->ssl) {
            int r = SSL_read(c->ssl, b, 1);
            if (r == 1)
                return 1;
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ)
                continue;
            ERR_clear_error();
            return 0;
        }
        ssize_t r = recv(c->fd, b, 1, 0);
        if (r == 1)
            return 1;
        if (r == 0)
            return 0;
        if (errno != EINTR && errno != EAGAIN)
            return 0;
    }
}

long mllp_read(struct mllp_client *c, char *buf, size_t size, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    size_t n = 0;
    bool in = false;
    char b;

    for (;;) {
        int r = read_byte(c, &b, deadline);
        if (r <= 0)
            return r == 0 ? 0 : -1;
        if (!in) {
            if (b == 0x0b)
                in = true;
            continue;
        }
        if (b == 0x1c) {
            if (read_byte(c, &b, deadline) != 1 || b != 0x0d)
                return -1;
            buf[n] = '\0';
            return (long)n;
        }
        if (n + 1 >= size)
            return -1;
        buf[n++] = b;
    }
}

bool mllp_readable(struct mllp_client *c)
{
    struct pollfd pf = { c->fd, POLLIN, 0 };
    if (c->ssl && SSL_pending(c->ssl) > 0)
        return true;
    if (poll(&pf, 1, 0) <= 0)
        return false;
    if (c->ssl == NULL)
        return true;
    /* TLS records that are no data (TLS 1.3 session tickets) make the
     * socket readable too: peek without waiting */
    int fl = fcntl(c->fd, F_GETFL);
    char b;
    fcntl(c->fd, F_SETFL, fl | O_NONBLOCK);
    int r = SSL_peek(c->ssl, &b, 1);
    bool data = r > 0 || SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_READ;
    fcntl(c->fd, F_SETFL, fl);
    ERR_clear_error();
    return data;
}

long http_raw_response(struct mllp_client *c, char *buf, size_t size,
                       int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    size_t n = 0, head = 0, body = 0;

    while (head == 0 || n < head + body) {
        if (n + 1 >= size || read_byte(c, &buf[n], deadline) != 1)
            return -1;
        buf[++n] = '\0';
        if (head == 0 && n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0) {
            head = n;
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            body = cl ? strtoul(cl + 17, NULL, 10) : 0;
        }
    }
    return (long)n;
}

bool mllp_closed(struct mllp_client *c, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    char b;
    for (;;) {
        int r = read_byte(c, &b, deadline);
        if (r == 0)
            return true;
        if (r < 0)
            return false;
    }
}

void mllp_close(struct mllp_client *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->ctx)
        SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

void hl7_sample(char *out, size_t size, const char *control_id,
                const char *mrn)
{
    /* every personal value is a canary (canary.h), so that hub_cleanup
     * finds it in hubd.log by a substring search */
    snprintf(out, size,
             "MSH|^~\\&|TESTAPP|TESTFAC|HUB|HUB|20260115093000-0500||"
             "ADT^A01^ADT_A01|%s|P|2.5.1\r"
             "EVN|A01|20260115093000-0500\r"
             "PID|1||" CANARY_MRN "%s^^^TESTFAC^MR||"
             CANARY_FAMILY "^" CANARY_GIVEN "||" CANARY_DOB "|F|||"
             CANARY_STREET "^^" CANARY_CITY "^OH^44101^USA^H^^TESTCOUNTY||"
             CANARY_PHONE_HL7 "\r"
             "PV1|1|I|WARD^101^A^TESTFAC||||1234^DOC^TEST|||MED||||||||"
             "V%s|||||||||||||||||||||||||20260115093000-0500\r",
             control_id, mrn, control_id);
}

void ack_fields(const char *ack, char code[3], char *ctrl, size_t size)
{
    const char *m = strstr(ack, "\rMSA|");
    code[0] = '\0';
    if (size)
        ctrl[0] = '\0';
    if (m == NULL)
        return;
    m += 5;
    memcpy(code, m, 2);
    code[2] = '\0';
    const char *p = m + 2;
    if (*p == '|') {
        p++;
        size_t n = strcspn(p, "|\r");
        if (n >= size)
            n = size - 1;
        memcpy(ctrl, p, n);
        ctrl[n] = '\0';
    }
}

/* ---- HTTP ------------------------------------------------------------- */

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    struct http_resp *r = arg;
    size_t add = sz * n;
    r->body = realloc(r->body, r->len + add + 1);
    memcpy(r->body + r->len, p, add);
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

/* The value of header line p[0..len) into out when its name is `name`
 * ("Retry-After:"), cut to size. */
static void header_value(const char *p, size_t len, const char *name,
                         char *out, size_t size)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(p, name, nl) != 0)
        return;
    const char *v = p + nl;
    while (*v == ' ')
        v++;
    size_t k = strcspn(v, "\r\n");
    if (k >= size)
        k = size - 1;
    memcpy(out, v, k);
    out[k] = '\0';
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    struct http_resp *r = arg;
    size_t len = sz * n;
    header_value(p, len, "Retry-After:", r->retry_after,
                 sizeof(r->retry_after));
    header_value(p, len, "Content-Type:", r->content_type,
                 sizeof(r->content_type));
    header_value(p, len, "Allow:", r->allow, sizeof(r->allow));
    header_value(p, len, "Location:", r->location, sizeof(r->location));
    if (len >= 20 && strncasecmp(p, "Idempotent-Replayed:", 20) == 0)
        r->replayed = true;
    return len;
}

/* the routes whose body is JSON: subscriptions and a replay's range */
static bool json_route(const char *path)
{
    return strncmp(path, "/v1/subscriptions", 17) == 0 ||
           strncmp(path, "/v1/deliveries", 14) == 0;
}

static int http_call_core(const struct hubproc *h, bool tls,
                          const char *method, const char *path,
                          const char *token, const char *cert_org,
                          const char *const *headers, const char *body,
                          size_t body_len, const char *accept,
                          struct http_resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hd = NULL;
    char url[512], auth[256], acc[128], crt[64], key[64];
    CURLcode rc;

    memset(r, 0, sizeof(*r));
    r->body = calloc(1, 1);
    snprintf(url, sizeof(url), "%s://localhost:%d%s", tls ? "https" : "http",
             tls ? h->https : h->http, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (tls) {
        curl_easy_setopt(c, CURLOPT_CAINFO, hub_path(h, "certs/ca.crt"));
        if (cert_org) {
            snprintf(crt, sizeof(crt), "certs/%s.crt", cert_org);
            snprintf(key, sizeof(key), "certs/%s.key", cert_org);
            curl_easy_setopt(c, CURLOPT_SSLCERT, hub_path(h, crt));
            curl_easy_setopt(c, CURLOPT_SSLKEY, hub_path(h, key));
        }
    }
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hd = curl_slist_append(hd, auth);
    }
    if (accept) {
        snprintf(acc, sizeof(acc), "Accept: %s", accept);
        hd = curl_slist_append(hd, acc);
    }
    bool has_ct = false;
    for (size_t i = 0; headers && headers[i]; i++) {
        hd = curl_slist_append(hd, headers[i]);
        if (strncasecmp(headers[i], "Content-Type:", 13) == 0)
            has_ct = true;
    }
    if (body) {
        /* as a partner's script sends it: the JSON routes take
         * application/json alone (F3127) */
        if (!has_ct)
            hd = curl_slist_append(hd, json_route(path)
                                           ? "Content-Type: application/json"
                                           : "Content-Type: text/plain");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

int http_call(const struct hubproc *h, bool tls, const char *method,
              const char *path, const char *token, const char *cert_org,
              const char *body, size_t body_len, const char *accept,
              struct http_resp *r)
{
    return http_call_core(h, tls, method, path, token, cert_org, NULL, body,
                          body_len, accept, r);
}

int http_call_h(const struct hubproc *h, bool tls, const char *method,
                const char *path, const char *token,
                const char *const *headers, const char *body,
                size_t body_len, struct http_resp *r)
{
    return http_call_core(h, tls, method, path, token, NULL, headers, body,
                          body_len, NULL, r);
}

int http_call_ch(const struct hubproc *h, bool tls, const char *method,
                 const char *path, const char *token, const char *cert_org,
                 const char *const *headers, const char *body,
                 size_t body_len, struct http_resp *r)
{
    return http_call_core(h, tls, method, path, token, cert_org, headers,
                          body, body_len, NULL, r);
}

void http_resp_free(struct http_resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* LeakSanitizer: Criterion's runner itself leaks a few bytes when it runs
 * long tests in parallel (calloc inside libcriterion, no frame of ours);
 * that is not a leak of the code under test. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libcriterion.so\n";
}

long hub_get_status(const struct hubproc *h, const char *path)
{
    struct http_resp r;
    long s = -1;
    if (http_call(h, false, "GET", path, NULL, NULL, NULL, 0, NULL, &r) == 0)
        s = r.status;
    http_resp_free(&r);
    return s;
}

bool hub_wait_status(const struct hubproc *h, const char *path, long want,
                     int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t end = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + ms;
    for (;;) {
        if (hub_get_status(h, path) == want)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 >= end)
            return false;
        usleep(50 * 1000);
    }
}

static void node_ports_path(pid_t pid, char *out, size_t size)
{
    snprintf(out, size, "/tmp/hub-e2e-ports-%d", (int)pid);
}

pid_t hub_spawn_node(const char *url, const char *node,
                     const char *const *env)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    char bin[4096], ports[64];
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    node_ports_path(getpid(), ports, sizeof(ports));
    build_path(bin, sizeof(bin), "hubd");
    setenv("DATABASE_URL", url, 1);
    setenv("HUB_PROFILE", "dev", 1);
    setenv("HUB_MIGRATE_AT_START", "0", 1);
    setenv("HUB_MLLP_PORT", "0", 1);
    setenv("HUB_HTTP_PORT", "0", 1);
    setenv("HUB_HTTPS_PORT", "-1", 1);
    setenv("HUB_MLLPS_PORT", "-1", 1);
    setenv("HUB_LOG_LEVEL", "warn", 1);
    setenv("HUB_DISPATCH_NODE", node, 1);
    setenv("HUB_DISPATCH_TIMEOUT_MS", "1000", 1);
    setenv("HUB_DISPATCH_POLL_MS", "50", 1);
    setenv("HUB_TIME_SCALE", "1000", 1);
    setenv("HUB_PORTS_FILE", ports, 1);
    for (size_t i = 0; env && env[i]; i++) {
        char name[128];
        const char *eq = strchr(env[i], '=');
        if (!eq || (size_t)(eq - env[i]) >= sizeof(name))
            _exit(1);
        memcpy(name, env[i], (size_t)(eq - env[i]));
        name[eq - env[i]] = '\0';
        setenv(name, eq + 1, 1);
    }
    execl(bin, "hubd", (char *)NULL);
    _exit(127);
}

bool hub_node_ready(pid_t pid, int timeout_ms)
{
    char path[64], text[512];
    struct hubproc h;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t end = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + timeout_ms;

    memset(&h, 0, sizeof(h));
    node_ports_path(pid, path, sizeof(path));
    for (;;) {
        FILE *f = fopen(path, "r");
        if (f) {
            size_t n = fread(text, 1, sizeof(text) - 1, f);
            fclose(f);
            text[n] = '\0';
            const char *p = strstr(text, "http=");
            h.http = p ? (int)strtol(p + 5, NULL, 10) : 0;
        }
        if (h.http > 0 && hub_get_status(&h, "/readyz") == 200)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 >= end)
            return false;
        usleep(20 * 1000);
    }
}

void hub_node_stop(pid_t pid, int sig)
{
    char path[64];
    if (pid <= 0)
        return;
    kill(pid, sig);
    waitpid(pid, NULL, 0);
    node_ports_path(pid, path, sizeof(path));
    unlink(path);
}

void hub_json_str(const char *body, const char *key, char *out, size_t n)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\": \"", key);
    const char *p = strstr(body, pat);
    cr_assert_not_null(p, "%s in %s", key, body);
    p += strlen(pat);
    size_t l = strcspn(p, "\"");
    cr_assert_lt(l, n);
    memcpy(out, p, l);
    out[l] = '\0';
}
