/*
 * connect_proxy.c - a small HTTP CONNECT proxy for the tests (the hub's
 * egress proxy, key webhook_proxy): a real one on a loopback port, that
 * logs the target of every request it gets, so that a test can tell what
 * the hub asked it for.
 *
 *   connect-proxy [--log FILE] [--answer CODE] [--auth USER:PASSWORD]
 *                 [--tls CERT KEY]
 *
 * Listens on 127.0.0.1, an ephemeral port, and prints "port N" on stdout
 * once it does. Each request's first line goes to the log as
 * "<METHOD> <TARGET> auth=<yes|no>" (auth: a Proxy-Authorization header
 * came), then:
 *   - not CONNECT: 405 (a forwarding proxy would resolve the name itself);
 *   - --auth and no matching Basic credentials: 407 with
 *     Proxy-Authenticate;
 *   - --answer CODE: that status, and the connection closed;
 *   - else a TCP connection to the target (host:port, [v6]:port), 502 when
 *     it cannot be made, 200 and bytes relayed both ways until either side
 *     closes.
 * --tls: the client speaks TLS to the proxy (an https:// proxy) with that
 * certificate; the tunnel inside is relayed as it comes.
 * A thread per connection; heads are capped (8 KiB); it runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX 8192

static FILE *log_file;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int answer;                      /* 0: tunnel */
static char auth_want[512];             /* "Basic <base64>", or "" */
static SSL_CTX *tls;                    /* --tls, or NULL */

/* The client's side: a socket, TLS over it with --tls. */
struct peer {
    int fd;
    SSL *ssl;
};

static ssize_t peer_read(struct peer *p, char *buf, size_t n)
{
    if (!p->ssl)
        return recv(p->fd, buf, n, 0);
    int r = SSL_read(p->ssl, buf, (int)n);
    return r > 0 ? r : -1;
}

static void log_line(const char *method, const char *target, bool auth)
{
    if (!log_file)
        return;
    pthread_mutex_lock(&log_mu);
    fprintf(log_file, "%s %s auth=%s\n", method, target, auth ? "yes" : "no");
    fflush(log_file);
    pthread_mutex_unlock(&log_mu);
}

static bool send_all(int fd, const char *p, size_t n);

static bool peer_write(struct peer *c, const char *p, size_t n)
{
    if (!c->ssl)
        return send_all(c->fd, p, n);
    return n == 0 || SSL_write(c->ssl, p, (int)n) == (int)n;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void reply(struct peer *c, int code, const char *extra)
{
    char buf[512];
    const char *reason = code == 407 ? "Proxy Authentication Required"
                       : code == 403 ? "Forbidden"
                       : code == 405 ? "Method Not Allowed"
                       : code == 502 ? "Bad Gateway"
                       : code == 503 ? "Service Unavailable"
                       : "Refused";
    int n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n%sContent-Length: "
                     "0\r\nConnection: close\r\n\r\n", code, reason,
                     extra ? extra : "");
    if (n > 0 && (size_t)n < sizeof(buf))
        peer_write(c, buf, (size_t)n);
}

/* The value of header `name` in the head (NUL-terminated, CRLF lines),
 * copied into out; false when absent. */
static bool header(const char *head, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l; l = strstr(l, "\r\n")) {
        l += 2;
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = strcspn(v, "\r\n");
            if (vl >= n)
                vl = n - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return true;
        }
    }
    return false;
}

static int dial(const char *target)
{
    char host[300], port[16];
    const char *colon = strrchr(target, ':');
    if (!colon || (size_t)(colon - target) >= sizeof(host) ||
        strlen(colon + 1) >= sizeof(port))
        return -1;
    const char *h = target;
    size_t hl = (size_t)(colon - target);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    snprintf(port, sizeof(port), "%s", colon + 1);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Bytes both ways between the client and the target until either
 * closes (TLS records the client already sent count as readable). */
static void relay(struct peer *c, int up)
{
    char buf[16384];
    struct pollfd p[2] = { { c->fd, POLLIN, 0 }, { up, POLLIN, 0 } };
    for (;;) {
        bool pending = c->ssl && SSL_pending(c->ssl) > 0;
        if (!pending && poll(p, 2, 60000) <= 0)
            return;
        if (pending || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = peer_read(c, buf, sizeof(buf));
            if (r <= 0 || !send_all(up, buf, (size_t)r))
                return;
        }
        if (!pending && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = recv(up, buf, sizeof(buf), 0);
            if (r <= 0 || !peer_write(c, buf, (size_t)r))
                return;
        }
    }
}

static void *serve(void *arg)
{
    struct peer cl = { (int)(intptr_t)arg, NULL };
    struct peer *c = &cl;
    char head[HEAD_MAX + 1];
    size_t len = 0;
    char *end = NULL;

    if (tls) {
        cl.ssl = SSL_new(tls);
        if (!cl.ssl || SSL_set_fd(cl.ssl, cl.fd) != 1 ||
            SSL_accept(cl.ssl) != 1)
            goto out;
    }
    while (len < HEAD_MAX) {
        ssize_t r = peer_read(c, head + len, HEAD_MAX - len);
        if (r <= 0)
            goto out;
        len += (size_t)r;
        head[len] = '\0';
        if ((end = strstr(head, "\r\n\r\n")))
            break;
    }
    if (!end)
        goto out;
    end[2] = '\0';                      /* the head, its last CRLF kept */
    char method[16] = "", target[300] = "", cred[512];
    size_t ml = strcspn(head, " ");
    if (ml == 0 || ml >= sizeof(method))
        goto out;
    memcpy(method, head, ml);
    const char *t = head + ml + 1;
    size_t tl = strcspn(t, " \r\n");
    if (tl >= sizeof(target))
        tl = sizeof(target) - 1;
    memcpy(target, t, tl);
    bool has_auth = header(head, "Proxy-Authorization", cred, sizeof(cred));
    log_line(method, target, has_auth);
    if (strcmp(method, "CONNECT") != 0) {
        reply(c, 405, NULL);
        goto out;
    }
    if (auth_want[0] && (!has_auth || strcmp(cred, auth_want) != 0)) {
        reply(c, 407, "Proxy-Authenticate: Basic realm=\"test\"\r\n");
        goto out;
    }
    if (answer) {
        reply(c, answer, NULL);
        goto out;
    }
    int up = dial(target);
    if (up < 0) {
        reply(c, 502, NULL);
        goto out;
    }
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    size_t rest = len - (size_t)(end + 4 - head);
    if (peer_write(c, ok, sizeof(ok) - 1) &&
        (rest == 0 || send_all(up, end + 4, rest)))
        relay(c, up);
    close(up);
out:
    if (cl.ssl) {
        SSL_shutdown(cl.ssl);
        SSL_free(cl.ssl);
    }
    close(cl.fd);
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--log") && i + 1 < argc) {
            log_file = fopen(argv[++i], "a");
            if (!log_file) {
                perror("connect-proxy: --log");
                return 2;
            }
        } else if (!strcmp(argv[i], "--answer") && i + 1 < argc) {
            answer = (int)strtol(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--auth") && i + 1 < argc) {
            const char *up = argv[++i];
            unsigned char b64[400];
            if (strlen(up) > 280)
                return 2;
            int n = EVP_EncodeBlock(b64, (const unsigned char *)up,
                                    (int)strlen(up));
            snprintf(auth_want, sizeof(auth_want), "Basic %.*s", n, b64);
        } else if (!strcmp(argv[i], "--tls") && i + 2 < argc) {
            tls = SSL_CTX_new(TLS_server_method());
            if (!tls ||
                SSL_CTX_use_certificate_chain_file(tls, argv[i + 1]) != 1 ||
                SSL_CTX_use_PrivateKey_file(tls, argv[i + 2],
                                            SSL_FILETYPE_PEM) != 1) {
                fprintf(stderr, "connect-proxy: --tls: cannot load\n");
                return 2;
            }
            i += 2;
        } else {
            fprintf(stderr, "usage: connect-proxy [--log FILE] "
                    "[--answer CODE] [--auth USER:PASSWORD] "
                    "[--tls CERT KEY]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(ls, 64) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) != 0) {
        perror("connect-proxy: listen");
        return 1;
    }
    printf("port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return 1;
        }
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &at, serve, (void *)(intptr_t)c) != 0)
            close(c);
        pthread_attr_destroy(&at);
    }
}
