/*
 * curl_ceiling.c - the delivery ceiling of this machine: plain libcurl multi
 * POSTs of a canonical-event-sized JSON body to the loopback receiver, with
 * keep-alive and nothing stored, signed or retried.
 *
 *   curl_ceiling -u URL [-c CONCURRENCY] [-d SECONDS]
 *
 * Prints "curl posts=N secs=S posts_per_s=R failed=F". Only 2xx answers
 * count as posts.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONC 256

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t discard(char *p, size_t sz, size_t n, void *u)
{
    (void)p;
    (void)u;
    return sz * n;
}

static unsigned long parse_ul(const char *s, const char *what)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "curl_ceiling: %s is not a number\n", what);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    unsigned long conc = 8, secs = 10;
    static char body[1536];
    struct curl_slist *hdr = NULL;
    CURL *h[MAX_CONC];
    CURLM *m;
    uint64_t posts = 0, failed = 0, t0, t_end;
    int c, running;

    while ((c = getopt(argc, argv, "u:c:d:")) != -1) {
        switch (c) {
        case 'u': url = optarg; break;
        case 'c': conc = parse_ul(optarg, "-c"); break;
        case 'd': secs = parse_ul(optarg, "-d"); break;
        default: url = NULL; break;
        }
    }
    if (!url || conc == 0 || conc > MAX_CONC) {
        fputs("usage: curl_ceiling -u URL [-c CONCURRENCY] [-d SECONDS]\n",
              stderr);
        return 2;
    }
    /* A body the size of a canonical ADT event; content is irrelevant. */
    memset(body, 'x', sizeof(body));
    memcpy(body, "{\"type\":\"adt.admit\",\"pad\":\"", 27);
    memcpy(body + sizeof(body) - 2, "\"}", 2);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "webhook-id: evt_bench");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)conc);
    for (unsigned long i = 0; i < conc; i++) {
        h[i] = curl_easy_init();
        curl_easy_setopt(h[i], CURLOPT_URL, url);
        curl_easy_setopt(h[i], CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h[i], CURLOPT_POSTFIELDSIZE, (long)sizeof(body));
        curl_easy_setopt(h[i], CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h[i], CURLOPT_TIMEOUT, 15L);
        curl_easy_setopt(h[i], CURLOPT_TCP_NODELAY, 1L);
        curl_multi_add_handle(m, h[i]);
    }
    t0 = now_ns();
    t_end = t0 + (uint64_t)secs * 1000000000u;
    do {
        CURLMsg *msg;
        int left;

        curl_multi_perform(m, &running);
        while ((msg = curl_multi_info_read(m, &left))) {
            long code = 0;
            CURL *e = msg->easy_handle;

            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result == CURLE_OK && code >= 200 && code < 300)
                posts++;
            else
                failed++;
            curl_multi_remove_handle(m, e);
            if (now_ns() < t_end)
                curl_multi_add_handle(m, e);    /* same handle: keep-alive */
        }
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    } while (now_ns() < t_end || running);
    double s = (double)(now_ns() - t0) / 1e9;
    printf("curl posts=%llu secs=%.2f posts_per_s=%.0f failed=%llu\n",
           (unsigned long long)posts, s, (double)posts / s,
           (unsigned long long)failed);
    for (unsigned long i = 0; i < conc; i++) {
        curl_multi_remove_handle(m, h[i]);
        curl_easy_cleanup(h[i]);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(hdr);
    curl_global_cleanup();
    return posts ? 0 : 1;
}
