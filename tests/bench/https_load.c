/*
 * https_load.c - closed-loop HTTPS ingest client for `make bench`: CONNS
 * libcurl handles in one multi (keep-alive), each POSTing one corpus message
 * to /v1/hl7v2 and waiting for the answer before the next.
 *
 *   https_load -u URL -f CORPUS -t TOKEN_FILE [-k CA_FILE] [-c CONNS]
 *              [-d SECONDS] [-w WARMUP]
 *   https_load -u URL -b BODY -m MARKER [-b BODY -m MARKER ...]
 *              -T CONTENT_TYPE -t TOKEN_FILE [-F NAME] [-U KEY] ...
 *
 * The second form posts documents (a FHIR Bundle, C-CDA documents, a CSV
 * file) again and again, in turn, each time with its MARKER (a string in
 * BODY that makes its idempotency key, e.g. the tail of Bundle.identifier's
 * uuid) replaced by a decimal counter of the same length, so that every
 * request is new. -F sends "X-Filename: NAME-<counter>.csv" with each
 * request (a CSV upload's name, which is no part of its key: F4080). -U KEY adds up the integer after "KEY": in each
 * counted answer (a CSV answer's "used" rows), printed as units= and
 * units_per_s=.
 *
 * Prints "https conns=N msgs=M secs=S msgs_per_s=R p50_ms=A p99_ms=B
 * refused=K failed=F dups=D": msgs counts 2xx answers after the warm-up
 * (not those marked Idempotent-Replayed, counted in dups), refused other
 * HTTP statuses (the first one's answer, up to 300 bytes, goes to stderr),
 * failed transport errors. Each message gets a fresh
 * MSH-10 as in mllp_load (the hub is idempotent on it). The token is read
 * from a file so that it never shows in a process list.
 */
#define _GNU_SOURCE     /* memmem */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>      /* strncasecmp */
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define ID_DIGITS 18

struct msg {
    char *p;
    size_t len;
    size_t id_off;
    size_t id_len;      /* digits written at id_off; 0: no marker */
};

#define MAX_TEMPLATES 16
#define MAX_ANSWER 65536    /* kept of each answer, for -U */

#define MAX_BODY (1u << 20)

struct slot {
    CURL *h;
    char body[MAX_BODY];
    size_t len;
    uint64_t t_start;
    int replayed;       /* "Idempotent-Replayed: true": a duplicate */
    struct curl_slist *hdr;     /* this request's headers (-F) */
    char answer[MAX_ANSWER + 1];
    size_t alen;
};

static struct msg *corpus;
static size_t ncorpus, next_msg;
static uint64_t counter, nonce;
static struct curl_slist *base_hdr;
static const char *file_prefix;     /* -F */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "https_load: %s\n", what);
    exit(1);
}

static unsigned long parse_ul(const char *s, const char *what)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "https_load: %s is not a number\n", what);
        exit(2);
    }
    return v;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *b;

    if (!f || fstat(fileno(f), &st) != 0)
        die("cannot open an input file");
    b = malloc((size_t)st.st_size + 1);
    if (!b || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        die("cannot read an input file");
    fclose(f);
    b[st.st_size] = '\0';
    *len = (size_t)st.st_size;
    return b;
}

static void load_corpus(const char *path)
{
    size_t len, cap = 1024;
    char *raw = slurp(path, &len), *p = raw, *end = raw + len;

    corpus = malloc(cap * sizeof(*corpus));
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        char *id;

        if (n > 0) {
            if (ncorpus == cap)
                corpus = realloc(corpus, (cap *= 2) * sizeof(*corpus));
            id = memmem(p, n, "|BM", 3);
            if (!corpus || !id || (size_t)(id - p) + 3 + ID_DIGITS > n ||
                n > MAX_BODY)
                die("corpus message without BM control id");
            corpus[ncorpus++] =
                (struct msg){ p, n, (size_t)(id - p) + 3, ID_DIGITS };
        }
        p += n + 1;
    }
    if (ncorpus == 0)
        die("empty corpus");
}

static void next_body(struct slot *s)
{
    const struct msg *m = &corpus[next_msg++ % ncorpus];
    char digits[ID_DIGITS + 1];
    uint64_t n = counter++;

    memcpy(s->body, m->p, m->len);
    if (m->id_len == ID_DIGITS)
        snprintf(digits, sizeof(digits), "%08" PRIu64 "%010" PRIu64,
                 nonce % 100000000u, n % 10000000000u);
    else                        /* template: the marker's width, 6..18 */
        snprintf(digits, sizeof(digits), "%0*" PRIu64, (int)m->id_len,
                 (uint64_t)((nonce * 1000000u + n) %
                            1000000000000000000ull));
    if (m->id_len)
        memcpy(s->body + m->id_off, digits + strlen(digits) - m->id_len,
               m->id_len);
    s->len = m->len;
    if (file_prefix) {
        char h[512];
        snprintf(h, sizeof(h), "X-Filename: %s-%" PRIu64 "-%" PRIu64 ".csv",
                 file_prefix, nonce, n);
        curl_slist_free_all(s->hdr);
        s->hdr = NULL;
        for (const struct curl_slist *b = base_hdr; b; b = b->next)
            s->hdr = curl_slist_append(s->hdr, b->data);
        s->hdr = curl_slist_append(s->hdr, h);
        if (!s->hdr)
            die("out of memory");
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdr);
    }
    s->alen = 0;
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)s->len);
}

/* Template mode: a document whose MARKER ("-": none) becomes a counter. */
static void load_template(const char *path, const char *marker)
{
    size_t len, mlen = strcmp(marker, "-") == 0 ? 0 : strlen(marker);
    char *b = slurp(path, &len), *at = b;

    if ((mlen && mlen < 6) || mlen > ID_DIGITS || len > MAX_BODY)
        die("marker must be 6 to 18 bytes, the body at most 1 MB");
    if (mlen && !(at = memmem(b, len, marker, mlen)))
        die("marker not found in the body");
    if (!corpus)
        corpus = malloc(MAX_TEMPLATES * sizeof(*corpus));
    if (!corpus)
        die("out of memory");
    corpus[ncorpus++] = (struct msg){ b, len, (size_t)(at - b), mlen };
}

/* The answer, its first MAX_ANSWER bytes kept (for -U). */
static size_t keep_answer(char *p, size_t sz, size_t n, void *u)
{
    struct slot *s = u;
    size_t k = sz * n, room = MAX_ANSWER - s->alen;

    if (k < room)
        room = k;
    memcpy(s->answer + s->alen, p, room);
    s->alen += room;
    s->answer[s->alen] = '\0';
    return sz * n;
}

/* The integer after "KEY": in the answer, or 0. */
static uint64_t answer_units(const struct slot *s, const char *key)
{
    char pat[128];
    const char *at;
    char *end;
    unsigned long long v;

    snprintf(pat, sizeof(pat), "\"%s\":", key);
    at = strstr(s->answer, pat);
    if (!at)
        return 0;
    errno = 0;
    v = strtoull(at + strlen(pat), &end, 10);
    return errno || end == at + strlen(pat) ? 0 : (uint64_t)v;
}

static size_t on_header(char *p, size_t sz, size_t n, void *u)
{
    struct slot *s = u;
    static const char h[] = "idempotent-replayed: true";

    if (sz * n >= sizeof(h) - 1 && strncasecmp(p, h, sizeof(h) - 1) == 0)
        s->replayed = 1;
    return sz * n;
}

/* The first refusal with its body (truncated; the hub's error bodies hold
 * codes, fields and messages only), so that the log says why. */
static void print_refusal(const struct slot *s, long code)
{
    enum { SHOW = 300 };
    char b[SHOW + 1];
    size_t n = s->alen < SHOW ? s->alen : SHOW;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s->answer[i];
        b[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '.';
    }
    b[n] = '\0';
    fprintf(stderr, "https_load: first refusal: HTTP %ld body=%s%s\n", code,
            b, s->alen > SHOW ? "..." : "");
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *path = NULL, *tokfile = NULL, *ca = NULL;
    const char *bodies[MAX_TEMPLATES], *markers[MAX_TEMPLATES];
    size_t nbodies = 0, nmarkers = 0;
    const char *units_key = NULL;
    uint64_t units = 0;
    const char *ctype = "x-application/hl7-v2+er7";
    char ctype_hdr[256];
    unsigned long conns = 8, secs = 10, warm = 1;
    struct curl_slist *hdr = NULL;
    char auth[512];
    CURLM *m;
    size_t cap = 1 << 16, nlat = 0;
    uint64_t *lat = malloc(cap * sizeof(*lat)), refused = 0, failed = 0;
    uint64_t dups = 0;
    struct slot *slots;
    int c, running;

    while ((c = getopt(argc, argv, "u:f:t:k:c:d:w:b:m:T:F:U:")) != -1) {
        switch (c) {
        case 'u': url = optarg; break;
        case 'f': path = optarg; break;
        case 't': tokfile = optarg; break;
        case 'k': ca = optarg; break;
        case 'c': conns = parse_ul(optarg, "-c"); break;
        case 'd': secs = parse_ul(optarg, "-d"); break;
        case 'w': warm = parse_ul(optarg, "-w"); break;
        case 'b':
            if (nbodies == MAX_TEMPLATES)
                die("at most 16 bodies");
            bodies[nbodies++] = optarg;
            break;
        case 'm':
            if (nmarkers == MAX_TEMPLATES)
                die("at most 16 markers");
            markers[nmarkers++] = optarg;
            break;
        case 'T': ctype = optarg; break;
        case 'F': file_prefix = optarg; break;
        case 'U': units_key = optarg; break;
        default: url = NULL; break;
        }
    }
    if (!url || !(path || (nbodies && nbodies == nmarkers)) || !tokfile ||
        conns == 0 || conns > MAX_CONNS || !lat) {
        fputs("usage: https_load -u URL (-f CORPUS | (-b BODY -m MARKER)... "
              "[-T TYPE] [-F NAME] [-U KEY]) -t TOKEN_FILE [-k CA] "
              "[-c CONNS] [-d SECONDS] [-w WARMUP]\n", stderr);
        return 2;
    }
    size_t tlen;
    char *tok = slurp(tokfile, &tlen);
    while (tlen && (tok[tlen - 1] == '\n' || tok[tlen - 1] == '\r'))
        tok[--tlen] = '\0';
    if (snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok) >=
        (int)sizeof(auth))
        die("token too long");
    free(tok);
    nonce = (uint64_t)time(NULL);
    if (nbodies)
        for (size_t i = 0; i < nbodies; i++)
            load_template(bodies[i], markers[i]);
    else
        load_corpus(path);
    slots = calloc(conns, sizeof(*slots));
    if (!slots)
        die("out of memory");

    hdr = curl_slist_append(hdr, auth);
    snprintf(ctype_hdr, sizeof(ctype_hdr), "Content-Type: %s", ctype);
    hdr = curl_slist_append(hdr, ctype_hdr);
    base_hdr = hdr;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    m = curl_multi_init();
    uint64_t t0 = now_ns();
    uint64_t t_meas = t0 + (uint64_t)warm * 1000000000u;
    uint64_t t_end = t_meas + (uint64_t)secs * 1000000000u;
    for (unsigned long i = 0; i < conns; i++) {
        struct slot *s = &slots[i];
        s->h = curl_easy_init();
        curl_easy_setopt(s->h, CURLOPT_URL, url);
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, keep_answer);
        curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->h, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(s->h, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
        curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(s->h, CURLOPT_HEADERDATA, s);
        if (ca)
            curl_easy_setopt(s->h, CURLOPT_CAINFO, ca);
        next_body(s);
        s->t_start = now_ns();
        curl_multi_add_handle(m, s->h);
    }
    do {
        CURLMsg *msg;
        int left;

        curl_multi_perform(m, &running);
        while ((msg = curl_multi_info_read(m, &left))) {
            struct slot *s;
            long code = 0;
            uint64_t t = now_ns();

            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
            if (s->t_start >= t_meas && t <= t_end) {
                if (msg->data.result != CURLE_OK) {
                    if (failed++ == 0)
                        fprintf(stderr, "https_load: first failure: %s\n",
                                curl_easy_strerror(msg->data.result));
                } else if (code < 200 || code >= 300) {
                    if (refused++ == 0)
                        print_refusal(s, code);
                } else if (s->replayed) {
                    dups++;     /* answered from the store: not durable work */
                } else {
                    if (nlat == cap && !(lat = realloc(lat, (cap *= 2) *
                                                       sizeof(*lat))))
                        die("out of memory");
                    lat[nlat++] = t - s->t_start;
                    if (units_key)
                        units += answer_units(s, units_key);
                }
            }
            curl_multi_remove_handle(m, s->h);
            s->replayed = 0;
            if (t < t_end) {
                next_body(s);
                s->t_start = now_ns();
                curl_multi_add_handle(m, s->h);
            }
        }
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    } while (now_ns() < t_end || running);
    double s = (double)secs;
    qsort(lat, nlat, sizeof(*lat), cmp_u64);
    printf("https conns=%lu msgs=%zu secs=%.2f msgs_per_s=%.0f p50_ms=%.3f "
           "p99_ms=%.3f refused=%" PRIu64 " failed=%" PRIu64 " dups=%" PRIu64,
           conns,
           nlat, s, (double)nlat / s,
           nlat ? (double)lat[(size_t)(0.50 * (double)(nlat - 1))] / 1e6 : 0,
           nlat ? (double)lat[(size_t)(0.99 * (double)(nlat - 1))] / 1e6 : 0,
           refused, failed, dups);
    if (units_key)
        printf(" units=%" PRIu64 " units_per_s=%.0f", units,
               (double)units / s);
    putchar('\n');
    for (unsigned long i = 0; i < conns; i++) {
        curl_multi_remove_handle(m, slots[i].h);
        curl_easy_cleanup(slots[i].h);
        curl_slist_free_all(slots[i].hdr);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(hdr);
    curl_global_cleanup();
    return nlat ? 0 : 1;
}
