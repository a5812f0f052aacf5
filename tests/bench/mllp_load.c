/*
 * mllp_load.c - closed-loop MLLP load client for `make bench`.
 *
 *   mllp_load -p PORT -f CORPUS [-H 127.0.0.1] [-c CONNS] [-d SECONDS]
 *             [-w WARMUP_SECONDS] [-r RATE] [-n COUNT] [-i]
 *
 * Load mode (default): CONNS connections; each sends one framed message and
 * waits for its ACK before sending the next (what an HL7 sender does), for
 * WARMUP + SECONDS. ACKs received after the warm-up are counted and their
 * latency (last byte written to whole ACK read) recorded. Prints one line:
 *   mllp conns=N msgs=M secs=S msgs_per_s=R p50_ms=A p99_ms=B max_ms=C
 *        nacks=K closed=D errors=E sent=T acked=A meas_from_us=W
 *        cpu_us_per_ack=U
 * (T and A count the warm-up too: every message sent, every AA/CA ACK;
 * W: CLOCK_REALTIME in microseconds when the measured window began, so
 * that a webhook receiver can leave out the warm-up's deliveries too;
 * U: this client's own CPU, user + system, from its first connection to
 * the end, divided by A: what the load itself costs the shared machine)
 * An ACK whose MSA-1 is not AA/CA counts as a nack, not as a message.
 *
 * Rate mode (-r RATE): the same, but sends are paced to RATE per second in
 * all (a connection whose ACK is in waits for the next slot), and MSH-10
 * carries the send time (16 digits of CLOCK_REALTIME microseconds, then a
 * 2-digit counter) so that a webhook receiver can time ingest-to-delivery.
 *
 * Count mode (-n COUNT): the same, but exactly COUNT messages are sent in
 * all, and the run ends when each has its ACK (or SECONDS pass): a fixed
 * amount of work for counting a server's instructions (hubd_cpu.sh).
 *
 * Idle mode (-i): open CONNS connections, send one message on each and
 * wait for its ACK (so the server holds a real session), print
 * "ready open=N" and keep them idle for SECONDS, then print
 * "idle open=N closed=M" (M = closed by the server meanwhile).
 *
 * Every message sent is unique: the corpus's MSH-10 is "BM" + 18 digits,
 * rewritten here as 8 digits of the start time and a 10-digit counter, since
 * the hub is idempotent on (org, MSH-10). Single thread, poll(2).
 */
#define _GNU_SOURCE     /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SB 0x0b
#define EB 0x1c
#define CR 0x0d
#define MAX_CONNS 20000
#define RBUF 65536
#define ID_DIGITS 18

struct msg {
    const char *p;      /* framed: SB payload EB CR */
    size_t len;
    size_t id_off;      /* offset of the 18 MSH-10 digits in the frame */
};

struct conn {
    int fd;
    int closed;
    char *sbuf;
    size_t slen, soff;
    char rbuf[RBUF];
    size_t rlen;
    uint64_t t_sent;    /* ns, when the last byte went out */
    int idle;           /* ACK in, nothing outstanding */
};

static struct msg *corpus;
static size_t ncorpus, next_msg;
static uint64_t counter, nonce;
static int stamp_ids;
static int nak_shown;   /* rate mode: MSH-10 carries the send time */
static uint64_t max_sent;   /* -n: messages to send in all, 0: no limit */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "mllp_load: %s: %s\n", what, strerror(errno));
    exit(1);
}

static unsigned long parse_ul(const char *s, const char *what)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "mllp_load: %s is not a number\n", what);
        exit(2);
    }
    return v;
}

/* Read the corpus (one message per line) and frame each message once. */
static void load_corpus(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *raw, *p, *end;
    size_t cap = 1024;

    if (!f || fstat(fileno(f), &st) != 0)
        die("open corpus");
    raw = malloc((size_t)st.st_size + 1);
    if (!raw || fread(raw, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        die("read corpus");
    fclose(f);
    end = raw + st.st_size;
    corpus = malloc(cap * sizeof(*corpus));
    for (p = raw; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        char *fr, *id;

        if (n > 0) {
            if (ncorpus == cap)
                corpus = realloc(corpus, (cap *= 2) * sizeof(*corpus));
            fr = malloc(n + 3);
            if (!corpus || !fr)
                die("malloc");
            fr[0] = SB;
            memcpy(fr + 1, p, n);
            fr[n + 1] = EB;
            fr[n + 2] = CR;
            id = memmem(fr, n + 1, "|BM", 3);
            if (!id || (size_t)(id - fr) + 3 + ID_DIGITS > n + 1) {
                fputs("mllp_load: corpus message without BM control id\n",
                      stderr);
                exit(1);
            }
            corpus[ncorpus++] = (struct msg){ fr, n + 3,
                                              (size_t)(id - fr) + 3 };
        }
        p += n + 1;
    }
    free(raw);
    if (ncorpus == 0) {
        fputs("mllp_load: empty corpus\n", stderr);
        exit(1);
    }
}

/* Put the next corpus message, with a fresh control id, in c's buffer. */
static void next_frame(struct conn *c)
{
    const struct msg *m = &corpus[next_msg++ % ncorpus];
    char digits[ID_DIGITS + 1];

    if (!c->sbuf)
        c->sbuf = malloc(8192);
    if (!c->sbuf || m->len > 8192)
        die("frame buffer");
    memcpy(c->sbuf, m->p, m->len);
    if (stamp_ids) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(digits, sizeof(digits), "%016" PRIu64 "%02" PRIu64,
                 (uint64_t)ts.tv_sec * 1000000u +
                     (uint64_t)ts.tv_nsec / 1000u, counter++ % 100u);
    } else {
        snprintf(digits, sizeof(digits), "%08" PRIu64 "%010" PRIu64,
                 nonce % 100000000u, counter++ % 10000000000u);
    }
    memcpy(c->sbuf + m->id_off, digits, ID_DIGITS);
    c->slen = m->len;
    c->soff = 0;
}

static int open_conn(const char *host, unsigned port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    if (fd < 0)
        die("socket");
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fputs("mllp_load: host must be an IPv4 address\n", stderr);
        exit(2);
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        die("connect");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
        die("fcntl");
    return fd;
}

/* Write what is left of c's frame; 0 when all is out, 1 if more, -1 error. */
static int flush_conn(struct conn *c)
{
    while (c->soff < c->slen) {
        ssize_t w = write(c->fd, c->sbuf + c->soff, c->slen - c->soff);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR ? 1 : -1;
        c->soff += (size_t)w;
    }
    return 0;
}

/*
 * Read; when a whole ACK frame is in, set *ok (MSA-1 is AA or CA), drop it
 * from the buffer and return 1. 0 if more is needed, -1 closed or bad.
 */
static int read_ack(struct conn *c, int *ok)
{
    for (;;) {
        char *eb = c->rlen ? memchr(c->rbuf, EB, c->rlen) : NULL;
        if (eb && (size_t)(eb - c->rbuf) + 1 < c->rlen) {
            size_t flen = (size_t)(eb - c->rbuf) + 2;
            /* MSA starts a segment: after CR (a control id may hold "MSA") */
            char *msa = memmem(c->rbuf, flen, "\rMSA", 4);
            if (msa)
                msa++;
            *ok = msa && (size_t)(msa - c->rbuf) + 6 <= flen &&
                  (msa[5] == 'A') && (msa[4] == 'A' || msa[4] == 'C');
            if (!*ok && !nak_shown) {
                /* The first NAK, for the log: MSA and ERR carry codes and
                 * locations only, and the corpus is synthetic anyway. */
                nak_shown = 1;
                fputs("mllp_load: first NAK: ", stderr);
                for (size_t j = msa ? (size_t)(msa - c->rbuf) : 0;
                     j + 2 < flen; j++)
                    fputc(c->rbuf[j] == CR ? ' ' : c->rbuf[j], stderr);
                fputc('\n', stderr);
            }
            memmove(c->rbuf, c->rbuf + flen, c->rlen - flen);
            c->rlen -= flen;
            return 1;
        }
        if (c->rlen == sizeof(c->rbuf))
            return -1;      /* an ACK larger than 64 KB is not an ACK */
        ssize_t r = read(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
        if (r == 0)
            return -1;
        if (r < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->rlen += (size_t)r;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *v, size_t n, double q)
{
    size_t i;

    if (n == 0)
        return 0;
    i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i] / 1e6;
}

/* Send one message on c and wait (blocking, 10 s) for its ACK. */
static int roundtrip(struct conn *c)
{
    uint64_t deadline = now_ns() + 10000000000ull;
    int ok = 0, r;

    next_frame(c);
    while ((r = flush_conn(c)) == 1) {
        struct pollfd p = { c->fd, POLLOUT, 0 };
        if (now_ns() > deadline)
            return -1;
        poll(&p, 1, 100);
    }
    if (r < 0)
        return -1;
    while ((r = read_ack(c, &ok)) == 0) {
        struct pollfd p = { c->fd, POLLIN, 0 };
        if (now_ns() > deadline)
            return -1;
        poll(&p, 1, 100);
    }
    return r == 1 && ok ? 0 : -1;
}

static int run_idle(const char *host, unsigned port, size_t n, unsigned secs)
{
    struct conn *cs = calloc(n, sizeof(*cs));
    size_t i, open = 0, closed = 0;
    uint64_t give_up = now_ns() + 120000000000ull;  /* bound the set-up */

    if (!cs)
        die("calloc");
    for (i = 0; i < n; i++) {
        if (now_ns() > give_up) {
            for (; i < n; i++)
                cs[i].closed = 1;
            break;
        }
        cs[i].fd = open_conn(host, port);
        if (roundtrip(&cs[i]) != 0) {
            cs[i].closed = 1;
            closed++;
        } else {
            open++;
        }
    }
    printf("ready open=%zu\n", open);
    fflush(stdout);
    sleep(secs);
    for (i = 0; i < n; i++) {
        char b[256];
        if (cs[i].closed)
            continue;
        ssize_t r = read(cs[i].fd, b, sizeof(b));
        if (r == 0 || (r < 0 && errno != EAGAIN)) {
            closed++;
            open--;
        }
    }
    printf("idle open=%zu closed=%zu\n", open, closed);
    return 0;
}

/*
 * Closed loop per connection. With `rate` > 0 sends are also paced to that
 * many per second overall (a connection whose ACK is in waits for the next
 * slot), for latency at a steady load.
 */
/* This process's CPU time so far, user + system, in microseconds. */
static uint64_t cpu_us(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int run_load(const char *host, unsigned port, size_t n, unsigned secs,
                    unsigned warm, unsigned rate)
{
    struct conn *cs = calloc(n, sizeof(*cs));
    struct pollfd *pf = calloc(n, sizeof(*pf));
    size_t cap = 1 << 16, nlat = 0, i, live = n;
    uint64_t *lat = malloc(cap * sizeof(*lat));
    uint64_t nacks = 0, errors = 0, closed = 0, sent = 0, acked = 0;
    uint64_t t0, t_meas, t_end, slot, gap = rate ? 1000000000u / rate : 0;

    if (!cs || !pf || !lat)
        die("calloc");
    uint64_t cpu0 = cpu_us();
    for (i = 0; i < n; i++) {
        cs[i].fd = open_conn(host, port);
        cs[i].idle = 1;
    }
    t0 = now_ns();
    slot = t0;
    t_meas = t0 + (uint64_t)warm * 1000000000u;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t meas_from_us = (uint64_t)wall.tv_sec * 1000000u +
                            (uint64_t)wall.tv_nsec / 1000u +
                            (uint64_t)warm * 1000000u;
    t_end = t_meas + (uint64_t)secs * 1000000000u;
    while (live > 0) {
        uint64_t t = now_ns();
        int wait_ms;

        if (t >= t_end)
            break;
        if (max_sent && sent >= max_sent) {
            size_t busy = 0;
            for (i = 0; i < n; i++)
                busy += !cs[i].closed && !cs[i].idle;
            if (busy == 0)
                break;      /* count mode: every message answered */
        }
        /* Start a message on each idle connection whose slot has come. */
        for (i = 0; i < n; i++) {
            struct conn *c = &cs[i];
            if (c->closed || !c->idle || (gap && t < slot) ||
                (max_sent && sent >= max_sent))
                continue;
            next_frame(c);
            c->idle = 0;
            sent++;
            slot += gap;
            if (flush_conn(c) < 0) {
                c->closed = 1;
                closed++;
                errors++;
                live--;
                continue;
            }
            c->t_sent = now_ns();
        }
        for (i = 0; i < n; i++) {
            pf[i].fd = cs[i].closed || cs[i].idle ? -1 : cs[i].fd;
            pf[i].events = cs[i].soff < cs[i].slen ? POLLOUT : POLLIN;
            pf[i].revents = 0;
        }
        t = now_ns();
        wait_ms = (int)((t_end - t) / 1000000u) + 1;
        if (gap && slot > t && (int)((slot - t) / 1000000u) < wait_ms)
            wait_ms = (int)((slot - t) / 1000000u);
        else if (gap && slot <= t)
            wait_ms = 0;
        int k = poll(pf, (nfds_t)n, wait_ms);
        if (k < 0 && errno != EINTR)
            die("poll");
        for (i = 0; k > 0 && i < n; i++) {
            struct conn *c = &cs[i];
            int ok, r;

            if (!pf[i].revents || c->closed || c->idle)
                continue;
            if (c->soff < c->slen) {
                r = flush_conn(c);
                if (r == 0)
                    c->t_sent = now_ns();
            } else {
                r = read_ack(c, &ok);
                if (r == 1) {
                    uint64_t t_ack = now_ns();
                    acked += ok;
                    if (c->t_sent >= t_meas && t_ack <= t_end) {
                        if (!ok) {
                            nacks++;
                        } else {
                            if (nlat == cap)
                                lat = realloc(lat, (cap *= 2) * sizeof(*lat));
                            if (!lat)
                                die("realloc");
                            lat[nlat++] = t_ack - c->t_sent;
                        }
                    }
                    c->idle = 1;
                    r = 0;
                }
            }
            if (r < 0) {
                c->closed = 1;
                closed++;
                errors++;
                live--;
            }
        }
    }
    uint64_t t_stop = now_ns() < t_end ? now_ns() : t_end;
    double s = t_stop > t_meas ? (double)(t_stop - t_meas) / 1e9 : 0;
    qsort(lat, nlat, sizeof(*lat), cmp_u64);
    printf("mllp conns=%zu msgs=%zu secs=%.2f msgs_per_s=%.0f p50_ms=%.3f "
           "p99_ms=%.3f max_ms=%.3f nacks=%" PRIu64 " closed=%" PRIu64
           " errors=%" PRIu64 " sent=%" PRIu64 " acked=%" PRIu64
           " meas_from_us=%" PRIu64 " cpu_us_per_ack=%.1f\n",
           n, nlat, s, s > 0 ? (double)nlat / s : 0, pct_ms(lat, nlat, 0.50),
           pct_ms(lat, nlat, 0.99), nlat ? (double)lat[nlat - 1] / 1e6 : 0,
           nacks, closed, errors, sent, acked, meas_from_us,
           acked ? (double)(cpu_us() - cpu0) / (double)acked : 0);
    return nlat > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *path = NULL;
    unsigned port = 0, secs = 10, warm = 1, rate = 0;
    size_t conns = 1;
    int idle = 0, c;

    while ((c = getopt(argc, argv, "H:p:c:d:w:f:r:n:i")) != -1) {
        switch (c) {
        case 'H': host = optarg; break;
        case 'p': port = (unsigned)parse_ul(optarg, "-p"); break;
        case 'c': conns = parse_ul(optarg, "-c"); break;
        case 'd': secs = (unsigned)parse_ul(optarg, "-d"); break;
        case 'w': warm = (unsigned)parse_ul(optarg, "-w"); break;
        case 'f': path = optarg; break;
        case 'r': rate = (unsigned)parse_ul(optarg, "-r"); break;
        case 'n': max_sent = parse_ul(optarg, "-n"); break;
        case 'i': idle = 1; break;
        default: path = NULL; port = 0; break;
        }
    }
    if (!path || port == 0 || port > 65535 || conns == 0 ||
        conns > MAX_CONNS) {
        fputs("usage: mllp_load -p PORT -f CORPUS [-H HOST] [-c CONNS] "
              "[-d SECONDS] [-w WARMUP] [-r RATE] [-n COUNT] [-i]\n",
              stderr);
        return 2;
    }
    nonce = (uint64_t)time(NULL);
    stamp_ids = rate > 0;
    load_corpus(path);
    return idle ? run_idle(host, port, conns, secs)
                : run_load(host, port, conns, secs, warm, rate);
}
