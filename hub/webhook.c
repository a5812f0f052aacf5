/*
 * webhook.c - Standard Webhooks signing, secrets, retry schedule, SSRF
 * address classes and subscription validation (see webhook.h).
 * Pure functions over caller memory; OpenSSL for HMAC-SHA256, base64 and
 * randomness, cJSON to read subscription documents.
 */
#include "webhook.h"

#include "common/canon.h"
#include "common/dict.h"
#include "common/utf8.h"
#include "echo_name.h"
#include "json_body.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* --- base64 ------------------------------------------------------------- */

/* Standard alphabet, with or without padding; returns decoded length or -1.
 * Written out because EVP_DecodeBlock neither rejects bad padding nor
 * reports the true length. */
static int b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0, pad = 0;

    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (n % 4 == 1 || (pad && (n + pad) % 4))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *c = s[i] ? memchr(alpha, s[i], 64) : NULL;
        if (!c)
            return -1;
        acc = (acc << 6) | (uint32_t)(c - alpha);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits && (acc & ((1u << bits) - 1)))
        return -1;                      /* non-canonical trailing bits */
    return (int)o;
}

int webhook_secret_parse(const char *s, struct webhook_secret *out,
                         struct hub_err *err)
{
    static const char prefix[] = "whsec_";
    unsigned char tmp[WEBHOOK_SECRET_MAX + 3];

    if (!s || strncmp(s, prefix, sizeof(prefix) - 1) != 0)
        return hub_err_set(err, HUB_EINVALID, "secrets", 0,
                           "secret does not start with whsec_");
    s += sizeof(prefix) - 1;
    size_t n = strlen(s);
    if (n > (WEBHOOK_SECRET_MAX + 2) / 3 * 4)
        return hub_err_set(err, HUB_EINVALID, "secrets", 0,
                           "secret is longer than 64 bytes");
    int k = b64_decode(s, n, tmp, sizeof(tmp));
    if (k < 0)
        return hub_err_set(err, HUB_EINVALID, "secrets", 0,
                           "secret is not base64");
    if (k < WEBHOOK_SECRET_MIN || k > WEBHOOK_SECRET_MAX) {
        OPENSSL_cleanse(tmp, sizeof(tmp));
        return hub_err_set(err, HUB_EINVALID, "secrets", 0,
                           "secret is not 24 to 64 bytes");
    }
    memcpy(out->key, tmp, (size_t)k);
    out->len = (size_t)k;
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return HUB_OK;
}

int webhook_secret_generate(char *out, size_t cap)
{
    unsigned char key[32];

    if (cap < 6 + 45)
        return HUB_ELIMIT;
    if (RAND_bytes(key, sizeof(key)) != 1)
        return HUB_EIO;
    memcpy(out, "whsec_", 6);
    EVP_EncodeBlock((unsigned char *)out + 6, key, sizeof(key));
    OPENSSL_cleanse(key, sizeof(key));
    return HUB_OK;
}

/* SHA-256, fetched once for the process: EVP_MAC_fetch() per signature
 * (a provider lookup under a lock) and its context were 40% of signing a
 * 1.6 KB body. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* HMAC-SHA256 (RFC 2104) written out over the digest:
 * H((K ^ opad) || H((K ^ ipad) || message)), K zero-padded to the 64-byte
 * block (hashed first if longer; secrets are at most 64 bytes). The two
 * pad blocks depend on the key alone: hashed once per secret here, each
 * signature starts from a copy of those states (two SHA-256 blocks, three
 * digest inits and a context less per signature). */
struct webhook_signer {
    size_t n;
    EVP_MD_CTX *pad[WEBHOOK_MAX_SECRETS][2];    /* after K^ipad, K^opad */
    EVP_MD_CTX *work;
};

static EVP_MD_CTX *md_new(void)
{
    EVP_MD_CTX *c;

    pthread_once(&sha256_once, sha256_fetch);
    c = sha256_md ? EVP_MD_CTX_new() : NULL;
    if (!c)
        abort();                        /* OpenSSL without SHA-256: unusable */
    return c;
}

static void signer_key(struct webhook_signer *s, size_t i,
                       const struct webhook_secret *k)
{
    enum { BLOCK = 64 };
    unsigned char key[BLOCK] = { 0 }, pad[BLOCK];

    if (k->len > BLOCK) {
        unsigned int kl = 0;
        if (!EVP_DigestInit_ex(s->work, sha256_md, NULL) ||
            !EVP_DigestUpdate(s->work, k->key, k->len) ||
            !EVP_DigestFinal_ex(s->work, key, &kl))
            abort();
    } else {
        memcpy(key, k->key, k->len);
    }
    for (int b = 0; b < 2; b++) {
        for (int j = 0; j < BLOCK; j++)
            pad[j] = key[j] ^ (b ? 0x5c : 0x36);
        s->pad[i][b] = md_new();
        if (!EVP_DigestInit_ex(s->pad[i][b], sha256_md, NULL) ||
            !EVP_DigestUpdate(s->pad[i][b], pad, BLOCK))
            abort();
    }
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(pad, sizeof(pad));
}

struct webhook_signer *webhook_signer_new(const struct webhook_secret *secrets,
                                          size_t n)
{
    struct webhook_signer *s;

    if (n == 0 || n > WEBHOOK_MAX_SECRETS)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    s->work = md_new();
    s->n = n;
    for (size_t i = 0; i < n; i++)
        signer_key(s, i, &secrets[i]);
    return s;
}

void webhook_signer_free(struct webhook_signer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        EVP_MD_CTX_free(s->pad[i][0]);  /* clears the hash state it frees */
        EVP_MD_CTX_free(s->pad[i][1]);
    }
    EVP_MD_CTX_free(s->work);
    free(s);
}

/* v1 signature of msg_id "." ts "." body under secret i: "v1,<44 chars>". */
static void sign_one(struct webhook_signer *s, size_t i, const char *msg_id,
                     const char *ts, const char *body, size_t body_len,
                     char out[WEBHOOK_SIG_LEN])
{
    unsigned char inner[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
    unsigned int inner_len = 0, mac_len = 0;
    EVP_MD_CTX *c = s->work;

    if (!EVP_MD_CTX_copy_ex(c, s->pad[i][0]) ||
        !EVP_DigestUpdate(c, msg_id, strlen(msg_id)) ||
        !EVP_DigestUpdate(c, ".", 1) ||
        !EVP_DigestUpdate(c, ts, strlen(ts)) ||
        !EVP_DigestUpdate(c, ".", 1) ||
        !EVP_DigestUpdate(c, body, body_len) ||
        !EVP_DigestFinal_ex(c, inner, &inner_len) ||
        !EVP_MD_CTX_copy_ex(c, s->pad[i][1]) ||
        !EVP_DigestUpdate(c, inner, inner_len) ||
        !EVP_DigestFinal_ex(c, mac, &mac_len))
        abort();
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)mac_len);
}

int webhook_signer_sign(struct webhook_signer *s, const char *msg_id,
                        int64_t timestamp, const char *body, size_t body_len,
                        char *out, size_t cap)
{
    char ts[24], one[WEBHOOK_SIG_LEN];
    size_t len = 0;

    if (!s)
        return HUB_EINVALID;
    snprintf(ts, sizeof(ts), "%lld", (long long)timestamp);
    for (size_t i = 0; i < s->n; i++) {
        sign_one(s, i, msg_id, ts, body, body_len, one);
        size_t l = strlen(one);
        if (len + (i > 0) + l + 1 > cap)
            return HUB_ELIMIT;
        if (i > 0)
            out[len++] = ' ';
        memcpy(out + len, one, l);
        len += l;
    }
    out[len] = '\0';
    return HUB_OK;
}

int webhook_sign(const struct webhook_secret *secrets, size_t n,
                 const char *msg_id, int64_t timestamp,
                 const char *body, size_t body_len, char *out, size_t cap)
{
    struct webhook_signer *s = webhook_signer_new(secrets, n);
    int rc = webhook_signer_sign(s, msg_id, timestamp, body, body_len, out,
                                 cap);
    webhook_signer_free(s);
    return rc;
}

bool webhook_verify(const struct webhook_secret *secret, const char *msg_id,
                    const char *timestamp, const char *body, size_t body_len,
                    const char *sig_header)
{
    char want[WEBHOOK_SIG_LEN];
    bool ok = false;

    if (!msg_id || !timestamp || !sig_header)
        return false;
    struct webhook_signer *s = webhook_signer_new(secret, 1);
    sign_one(s, 0, msg_id, timestamp, body, body_len, want);
    webhook_signer_free(s);
    size_t wl = strlen(want);
    const char *p = sig_header;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *e = strchr(p, ' ');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        /* compare every candidate in full: no early exit on a match */
        if (l == wl && CRYPTO_memcmp(p, want, wl) == 0)
            ok = true;
        p += l;
    }
    return ok;
}

/* --- retry schedule ------------------------------------------------------ */

/* Wait before retry n (index n-1). Sum of the minimum (80 %) is 3.06 days:
 * a receiver down over a long weekend still gets its events. */
static const int64_t backoff_s[WEBHOOK_RETRIES] = {
    5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 57600,
    86400, 86400,
};

int64_t webhook_backoff_nominal_ms(int failed_attempts)
{
    if (failed_attempts < 1 || failed_attempts > WEBHOOK_RETRIES)
        return -1;
    return backoff_s[failed_attempts - 1] * 1000;
}

int64_t webhook_backoff_ms(int failed_attempts, double r)
{
    int64_t nominal = webhook_backoff_nominal_ms(failed_attempts);

    if (nominal < 0)
        return -1;
    if (!(r >= 0.0 && r < 1.0))
        r = 0.5;
    /* jitter spreads the retries of a burst so a recovering receiver is
     * not hit by all of them in the same second */
    double f = 1.0 - WEBHOOK_JITTER + 2.0 * WEBHOOK_JITTER * r;
    return (int64_t)((double)nominal * f);
}

int64_t webhook_scale_ms(int64_t ms, double scale)
{
    if (ms <= 0 || !(scale > 1.0))
        return ms;
    return (int64_t)((double)ms / scale);
}

#define RETRY_AFTER_CAP_S (24 * 3600)

static int month_index(const char *m)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (strncmp(m, names + 3 * i, 3) == 0)
            return i;
    return -1;
}

/* Two or four digits at p, exactly. */
static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';      /* RFC 9110 5.6.3 OWS */
}

/* hh:mm:ss at p (8 bytes), into tm; false when it is not a time */
static bool hms(const char *p, struct tm *tm)
{
    if (p[2] != ':' || p[5] != ':')
        return false;
    tm->tm_hour = digits(p, 2);
    tm->tm_min = digits(p + 3, 2);
    tm->tm_sec = digits(p + 6, 2);
    return tm->tm_hour >= 0 && tm->tm_hour <= 23 && tm->tm_min >= 0 &&
           tm->tm_min <= 59 && tm->tm_sec >= 0 && tm->tm_sec <= 60;
}

/* An HTTP-date (RFC 9110 5.6.7) of n bytes as seconds since the epoch, or
 * -1. A recipient MUST accept all three forms: the IMF-fixdate
 * "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete RFC 850
 * "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994". */
static int64_t http_date(const char *v, size_t n, int64_t now_s)
{
    struct tm tm = { 0 };
    const char *c = memchr(v, ',', n);

    if (n == 29 && c == v + 3) {                    /* IMF-fixdate */
        if (v[4] != ' ' || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
            memcmp(v + 25, " GMT", 4) != 0 || !hms(v + 17, &tm))
            return -1;
        tm.tm_mday = digits(v + 5, 2);
        tm.tm_mon = month_index(v + 8);
        tm.tm_year = digits(v + 12, 4) - 1900;
    } else if (c && c - v >= 6 && c - v <= 9 &&
               n - (size_t)(c + 1 - v) == 23) {     /* RFC 850 */
        const char *d = c + 1;                      /* " 06-Nov-94 ..." */
        if (d[0] != ' ' || d[3] != '-' || d[7] != '-' || d[10] != ' ' ||
            memcmp(d + 19, " GMT", 4) != 0 || !hms(d + 11, &tm))
            return -1;
        tm.tm_mday = digits(d + 1, 2);
        tm.tm_mon = month_index(d + 4);
        int yy = digits(d + 8, 2);
        if (yy < 0)
            return -1;
        /* RFC 9110 5.6.7: a two-digit year more than 50 years in the
         * future is the most recent past year with those digits */
        struct tm nowtm;
        time_t now_t = (time_t)now_s;
        if (!gmtime_r(&now_t, &nowtm))
            return -1;
        int year = nowtm.tm_year + 1900;
        int y = year - year % 100 + yy;
        if (y > year + 50)
            y -= 100;
        tm.tm_year = y - 1900;
    } else if (n == 24 && !c && v[3] == ' ' && v[7] == ' ' &&
               v[10] == ' ' && v[19] == ' ') {      /* asctime */
        if (!hms(v + 11, &tm))
            return -1;
        tm.tm_mon = month_index(v + 4);
        tm.tm_mday = v[8] == ' ' ? digits(v + 9, 1) : digits(v + 8, 2);
        tm.tm_year = digits(v + 20, 4) - 1900;
    } else {
        return -1;
    }
    if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_mon < 0 ||
        tm.tm_year < 70)
        return -1;
    return (int64_t)timegm(&tm);
}

int64_t webhook_retry_after_ms(const char *value, int64_t now_s)
{
    if (!value)
        return -1;
    while (is_ows(*value))
        value++;
    size_t n = strlen(value);
    while (n > 0 && is_ows(value[n - 1]))
        n--;
    if (n == 0)
        return -1;
    int64_t d;
    if (isdigit((unsigned char)value[0])) {
        /* delta-seconds: digits only; one too large for any integer is
         * as long a wait as any (RFC 9111 1.2.2), so capped, not ignored */
        d = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)value[i]))
                return -1;
            if (d <= RETRY_AFTER_CAP_S)
                d = d * 10 + (value[i] - '0');
        }
    } else {
        int64_t at = http_date(value, n, now_s);
        if (at < 0)
            return -1;
        d = at - now_s;
        if (d < 0)
            d = 0;
    }
    if (d > RETRY_AFTER_CAP_S)
        d = RETRY_AFTER_CAP_S;
    return d * 1000;
}

/* --- SSRF ---------------------------------------------------------------- */

static enum webhook_addr_class classify_v4(const unsigned char a[4])
{
    uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
                 (uint32_t)a[2] << 8 | a[3];
    struct { uint32_t net, mask; enum webhook_addr_class c; } t[] = {
        { 0x7f000000, 0xff000000, ADDR_LOOPBACK },      /* 127/8 */
        { 0x0a000000, 0xff000000, ADDR_PRIVATE },       /* 10/8 */
        { 0xac100000, 0xfff00000, ADDR_PRIVATE },       /* 172.16/12 */
        { 0xc0a80000, 0xffff0000, ADDR_PRIVATE },       /* 192.168/16 */
        { 0x64400000, 0xffc00000, ADDR_PRIVATE },       /* 100.64/10 CGN */
        { 0xa9fe0000, 0xffff0000, ADDR_LINKLOCAL },     /* 169.254/16 */
        { 0x00000000, 0xff000000, ADDR_RESERVED },      /* 0/8 */
        { 0xc0000000, 0xffffff00, ADDR_RESERVED },      /* 192.0.0/24 */
        { 0xc0000200, 0xffffff00, ADDR_RESERVED },      /* TEST-NET-1 */
        { 0xc6120000, 0xfffe0000, ADDR_RESERVED },      /* 198.18/15 */
        { 0xc6336400, 0xffffff00, ADDR_RESERVED },      /* TEST-NET-2 */
        { 0xcb007100, 0xffffff00, ADDR_RESERVED },      /* TEST-NET-3 */
        { 0xe0000000, 0xe0000000, ADDR_RESERVED },      /* 224/3 mcast+240/4 */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if ((v & t[i].mask) == t[i].net)
            return t[i].c;
    return ADDR_PUBLIC;
}

enum webhook_addr_class webhook_addr_classify(const char *ip)
{
    unsigned char a[16];

    if (!ip)
        return ADDR_INVALID;
    if (inet_pton(AF_INET, ip, a) == 1)
        return classify_v4(a);
    if (inet_pton(AF_INET6, ip, a) != 1)
        return ADDR_INVALID;
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                              0, 0, 0xff, 0xff };
    static const unsigned char zero[16];
    static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0,
                                             0, 0, 0, 0 };
    if (memcmp(a, mapped, 12) == 0)
        return classify_v4(a + 12);
    if (memcmp(a, zero, 15) == 0)
        return a[15] == 1 ? ADDR_LOOPBACK : ADDR_RESERVED;   /* ::1, :: */
    /* the IPv6 forms that carry an IPv4 address: by the address they
     * reach, or refused where it cannot be told (an internal IPv4 must not
     * be reached by its IPv6 spelling) */
    if (memcmp(a, zero, 12) == 0)
        return ADDR_RESERVED;       /* ::a.b.c.d, IPv4-compatible, retired */
    static const unsigned char translated[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                                  0xff, 0xff, 0, 0 };
    if (memcmp(a, translated, 12) == 0)
        return ADDR_RESERVED;       /* ::ffff:0:a.b.c.d, RFC 2765 SIIT's
                                       IPv4-translated, retired (6145) */
    if (memcmp(a, nat64, 12) == 0)
        return classify_v4(a + 12);                 /* 64:ff9b::/96 NAT64 */
    if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b)
        return a[4] == 0 && a[5] == 1 ? ADDR_PRIVATE   /* 64:ff9b:1::/48 */
                                      : ADDR_RESERVED; /* rest of /32 */
    if (a[0] == 0x20 && a[1] == 0x02)
        return classify_v4(a + 2);                  /* 2002::/16 6to4 */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x00)
        return ADDR_RESERVED;       /* 2001::/32 Teredo: the IPv4 hidden */
    if (a[0] == 0x01 && a[1] == 0x00 && memcmp(a + 2, zero, 6) == 0)
        return ADDR_RESERVED;                       /* 100::/64 discard */
    if ((a[0] & 0xfe) == 0xfc)
        return ADDR_PRIVATE;                                /* fc00::/7 */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return ADDR_LINKLOCAL;                              /* fe80::/10 */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
        return ADDR_PRIVATE;                    /* fec0::/10 site-local */
    if (a[0] == 0xff)
        return ADDR_RESERVED;                               /* multicast */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
        return ADDR_RESERVED;                               /* 2001:db8::/32 */
    return ADDR_PUBLIC;
}

bool webhook_addr_allowed(enum webhook_addr_class c, bool production,
                          bool allow_private, bool cleartext)
{
    switch (c) {
    case ADDR_PUBLIC:
        /* patients' data in clear text across the Internet (F424) */
        return !(production && cleartext);
    case ADDR_LOOPBACK:
    case ADDR_PRIVATE:
    case ADDR_LINKLOCAL:
        return !production || allow_private;
    case ADDR_RESERVED:
    case ADDR_INVALID:
        return false;
    }
    return false;
}

const char *webhook_addr_class_name(enum webhook_addr_class c)
{
    switch (c) {
    case ADDR_PUBLIC: return "public";
    case ADDR_LOOPBACK: return "loopback";
    case ADDR_PRIVATE: return "private";
    case ADDR_LINKLOCAL: return "link-local";
    case ADDR_RESERVED: return "reserved";
    case ADDR_INVALID: return "invalid";
    }
    return "invalid";
}

/* --- topics --------------------------------------------------------------- */


/* Segment-wise: "*" alone matches all; a "*" segment matches one segment. */
const char *const webhook_hub_topics[] = { "hub.health", "hub.digest", NULL };

bool webhook_topic_match(const char *pattern, const char *type)
{
    if (!pattern || !type)
        return false;
    /* the hub's own events only by a pattern of their family: "*" and
     * "*.x" were written for partners' data, and keep meaning that */
    if (strncmp(type, "hub.", 4) == 0 && strncmp(pattern, "hub.", 4) != 0)
        return false;
    if (strcmp(pattern, "*") == 0)
        return true;
    const char *p = pattern, *t = type;
    for (;;) {
        const char *pe = strchr(p, '.'), *te = strchr(t, '.');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t tl = te ? (size_t)(te - t) : strlen(t);
        if (!(pl == 1 && *p == '*') && (pl != tl || memcmp(p, t, pl) != 0))
            return false;
        if (!pe || !te)
            return !pe && !te;
        p = pe + 1;
        t = te + 1;
    }
}

int webhook_topic_check(const char *pattern, struct hub_err *err)
{
    size_t n = pattern ? strlen(pattern) : 0;

    if (n == 0 || n > WEBHOOK_TOPIC_MAX)
        return hub_err_set(err, HUB_EINVALID, "topics", 0,
                           "topic is empty or too long");
    for (size_t i = 0; i < n; i++) {
        char c = pattern[i];
        if (!(islower((unsigned char)c) || c == '.' || c == '*' || c == '_'))
            return hub_err_set(err, HUB_EINVALID, "topics", i,
                               "topic has a character other than a-z . * _");
        if (c == '*' && ((i > 0 && pattern[i - 1] != '.') ||
                         (i + 1 < n && pattern[i + 1] != '.')))
            return hub_err_set(err, HUB_EINVALID, "topics", i,
                               "wildcard is not a whole segment");
    }
    for (size_t i = 0; canon_topics[i]; i++)
        if (webhook_topic_match(pattern, canon_topics[i]))
            return HUB_OK;
    for (size_t i = 0; webhook_hub_topics[i]; i++)
        if (webhook_topic_match(pattern, webhook_hub_topics[i]))
            return HUB_OK;
    return hub_err_set(err, HUB_EINVALID, "topics", 0,
                       "topic matches no known topic");
}

/* --- URL ------------------------------------------------------------------ */

/* Whether libcurl, which sends every delivery, reads the URL: a host
 * with a character no host has (`a!b`, `a\b`, a quote), a bracketed one
 * that is no IPv6 address (`[zz]`, `[1.2.3.4]`, `[::1]x`) passed the checks
 * above and failed every attempt as "network" for the whole schedule. */
static int url_parses(const char *url, size_t host_at, struct hub_err *err)
{
    CURLU *u = curl_url();
    if (!u)
        abort();
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
    curl_url_cleanup(u);
    switch (rc) {
    case CURLUE_OK:
        return HUB_OK;
    case CURLUE_OUT_OF_MEMORY:
        abort();
    case CURLUE_BAD_HOSTNAME:
    case CURLUE_BAD_IPV6:
        return hub_err_set(err, HUB_EINVALID, "url", host_at,
                           "url's host is not a host name or IP address");
    default:
        return hub_err_set(err, HUB_EINVALID, "url", 0,
                           "url is not one the dispatcher can send to");
    }
}

int webhook_url_check(const char *url, struct hub_err *err)
{
    size_t n = url ? strlen(url) : 0;
    const char *host;

    if (n == 0)
        return hub_err_set(err, HUB_EINVALID, "url", 0,
                           "webhook subscription has no url");
    if (n > WEBHOOK_URL_MAX)
        return hub_err_set(err, HUB_EINVALID, "url", 0, "url is too long");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return hub_err_set(err, HUB_EINVALID, "url", i,
                               "url has a space, control or non-ASCII byte");
    if (strncasecmp(url, "https://", 8) == 0)
        host = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        host = url + 7;
    else
        return hub_err_set(err, HUB_EINVALID, "url", 0,
                           "url scheme is not http or https");
    size_t hl = strcspn(host, "/?#");
    if (hl == 0)
        return hub_err_set(err, HUB_EINVALID, "url", (size_t)(host - url),
                           "url has no host");
    if (memchr(host, '@', hl))
        return hub_err_set(err, HUB_EINVALID, "url", (size_t)(host - url),
                           "url carries credentials");
    if (host[0] == ':' || (host[0] == '[' && !memchr(host, ']', hl)))
        return hub_err_set(err, HUB_EINVALID, "url", (size_t)(host - url),
                           "url has no host");
    const char *colon = host[0] == '[' ? memchr(host, ']', hl) : host;
    colon = memchr(colon, ':', hl - (size_t)(colon - host));
    if (colon) {
        size_t pl = hl - (size_t)(colon + 1 - host);
        int port = pl >= 1 && pl <= 5 ? digits(colon + 1, (int)pl) : -1;
        if (port < 1 || port > 65535)
            return hub_err_set(err, HUB_EINVALID, "url",
                               (size_t)(colon - url), "url port is not 1-65535");
    }
    return url_parses(url, (size_t)(host - url), err);
}

/* The parts of a proxy URL: scheme length, where the host (after any
 * userinfo) starts, its length with the port, and where it ends. */
struct proxy_parts {
    size_t scheme;                  /* "http://" or "https://": 7 or 8 */
    const char *host;               /* host:port, or [v6]:port */
    size_t host_len;
};

static int proxy_split(const char *url, struct proxy_parts *pp,
                       struct hub_err *err)
{
    const char *f = "webhook_proxy";
    size_t n = strlen(url);

    if (n > WEBHOOK_PROXY_MAX)
        return hub_err_set(err, HUB_EINVALID, f, 0, "proxy url is too long");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return hub_err_set(err, HUB_EINVALID, f, i,
                               "proxy url has a space, control or non-ASCII "
                               "byte");
    if (strncasecmp(url, "https://", 8) == 0)
        pp->scheme = 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        pp->scheme = 7;
    else
        return hub_err_set(err, HUB_EINVALID, f, 0,
                           "proxy scheme is not http or https (SOCKS is not "
                           "supported)");
    const char *auth = url + pp->scheme;
    size_t al = strcspn(auth, "/?#");
    if (auth[al] == '/' && auth[al + 1] != '\0')
        return hub_err_set(err, HUB_EINVALID, f, (size_t)(auth + al - url),
                           "proxy url has a path");
    if (auth[al] == '?' || auth[al] == '#')
        return hub_err_set(err, HUB_EINVALID, f, (size_t)(auth + al - url),
                           "proxy url has a query or fragment");
    /* userinfo ends at the last '@' of the authority (a password may hold
     * '@' only percent-encoded, but be lenient as libcurl is) */
    const char *host = auth;
    for (const char *q = auth; q < auth + al; q++)
        if (*q == '@')
            host = q + 1;
    size_t hl = al - (size_t)(host - auth);
    if (hl == 0 || host[0] == ':')
        return hub_err_set(err, HUB_EINVALID, f, (size_t)(host - url),
                           "proxy url has no host");
    const char *colon = host;
    if (host[0] == '[') {
        colon = memchr(host, ']', hl);
        if (!colon || colon == host + 1)
            return hub_err_set(err, HUB_EINVALID, f, (size_t)(host - url),
                               "proxy url has no host");
    }
    colon = memchr(colon, ':', hl - (size_t)(colon - host));
    if (!colon)
        return hub_err_set(err, HUB_EINVALID, f, (size_t)(host + hl - url),
                           "proxy url has no port");
    size_t pl = hl - (size_t)(colon + 1 - host);
    int port = pl >= 1 && pl <= 5 ? digits(colon + 1, (int)pl) : -1;
    if (port < 1 || port > 65535)
        return hub_err_set(err, HUB_EINVALID, f, (size_t)(colon - url),
                           "proxy url port is not 1-65535");
    pp->host = host;
    pp->host_len = hl;
    return HUB_OK;
}

int webhook_proxy_check(const char *url, struct hub_err *err)
{
    struct proxy_parts pp;

    if (!url || !*url)
        return HUB_OK;                  /* none */
    return proxy_split(url, &pp, err);
}

void webhook_proxy_redact(const char *url, char *out, size_t n)
{
    struct proxy_parts pp;
    struct hub_err err;

    if (!url || !*url) {
        snprintf(out, n, "%s", "");
        return;
    }
    if (proxy_split(url, &pp, &err) != HUB_OK) {
        snprintf(out, n, "%s", "-");
        return;
    }
    snprintf(out, n, "%.*s%.*s", (int)pp.scheme, url, (int)pp.host_len,
             pp.host);
}

/* --- subscription documents --------------------------------------------- */

/* the dictionary whose domains filters.domains may name; retired ones are
 * never freed while hubd runs (hubd.c), so a reader may keep the pointer */
static const struct dict *sub_dict;

void webhook_sub_use_dict(const struct dict *d)
{
    __atomic_store_n(&sub_dict, d, __ATOMIC_RELEASE);
}

/* The address policy of a URL whose host is an IP literal: the
 * development profile's until hubd or hubctl says otherwise. */
static bool sub_production, sub_allow_private;

void webhook_sub_use_address_policy(bool production, bool allow_private)
{
    __atomic_store_n(&sub_production, production, __ATOMIC_RELEASE);
    __atomic_store_n(&sub_allow_private, allow_private, __ATOMIC_RELEASE);
}

/* The URL's host as libcurl connects to it: percent-decoded, an IPv4 in
 * any form it reads as one written dotted, an IPv6's brackets and zone id
 * dropped, and a trailing dot too (curl drops it before the look-up):
 * `%31%32%37.0.0.1`, `127.0.0.1.` reach 127.0.0.1 (F3700). False when it
 * does not fit `ip` (no literal is that long). */
static bool url_host(const char *url, char *ip, size_t size)
{
    CURLU *u = curl_url();
    char *h = NULL;
    if (!u)
        abort();
    bool ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK;
    curl_url_cleanup(u);
    size_t hl = ok ? strlen(h) : 0;
    const char *p = h;
    if (hl >= 2 && p[0] == '[' && p[hl - 1] == ']') {
        p++;
        hl -= 2;
    } else if (hl > 1 && p[hl - 1] == '.') {
        hl--;
    }
    ok = ok && hl < size;
    if (ok) {
        memcpy(ip, p, hl);
        ip[hl] = '\0';
    }
    curl_free(h);
    return ok;
}

/* In the production profile, a URL (already webhook_url_check'ed) whose
 * host is an IP literal the dispatcher would never connect to is refused
 * now, naming why, rather than taken and dead-lettered after days of
 * "ssrf" attempts. A name is not resolved here (its addresses may
 * change): they are checked at connect time, as is every address in the
 * development profile, which takes what its operator types. */
static int check_url_address(const char *url, struct hub_err *err)
{
    if (!__atomic_load_n(&sub_production, __ATOMIC_ACQUIRE))
        return HUB_OK;
    const char *host = url + (strncasecmp(url, "https://", 8) == 0 ? 8 : 7);
    size_t at = (size_t)(host - url);
    char ip[64];

    if (!url_host(url, ip, sizeof(ip)))
        return HUB_OK;
    enum webhook_addr_class c = webhook_addr_classify(ip);
    struct in_addr v4;
    /* libcurl writes an IPv4 in any form (2130706433, 0x7f.1, 127.1)
     * dotted, but a percent-encoded one (%32%31...) only after, as a name
     * the look-up reads as inet_aton does: the dotted address is classed */
    if (c == ADDR_INVALID && host[0] != '[' && inet_aton(ip, &v4) &&
        inet_ntop(AF_INET, &v4, ip, sizeof(ip)))
        c = webhook_addr_classify(ip);
    bool priv = __atomic_load_n(&sub_allow_private, __ATOMIC_ACQUIRE);
    if (c == ADDR_INVALID ||
        webhook_addr_allowed(c, true, priv, strncasecmp(url, "http://", 7)
                                                == 0))
        return HUB_OK;
    if (webhook_addr_allowed(c, true, priv, false))
        return hub_err_set(err, HUB_EINVALID, "url", 0,
                           "url is http:// to a public address: the "
                           "production profile sends webhooks over TLS "
                           "(https://)");
    switch (c) {
    case ADDR_LOOPBACK:
        return hub_err_set(err, HUB_EINVALID, "url", at,
                           "url's host is a loopback address, which the "
                           "production profile does not deliver to (key "
                           "webhook_allow_private)");
    case ADDR_PRIVATE:
        return hub_err_set(err, HUB_EINVALID, "url", at,
                           "url's host is a private address, which the "
                           "production profile does not deliver to (key "
                           "webhook_allow_private)");
    case ADDR_LINKLOCAL:
        return hub_err_set(err, HUB_EINVALID, "url", at,
                           "url's host is a link-local address, which the "
                           "production profile does not deliver to (key "
                           "webhook_allow_private)");
    default:
        return hub_err_set(err, HUB_EINVALID, "url", at,
                           "url's host is a reserved address (unspecified, "
                           "documentation, multicast, ...), which the "
                           "dispatcher never delivers to");
    }
}

/* An SDOH domain the dictionary does not have matches no event (every
 * domain an event carries is one of the dictionary's codes): refused,
 * naming the value by index, as a topic that matches no known topic. */
static int check_domains(const cJSON *a, struct hub_err *err)
{
    const struct dict *d = __atomic_load_n(&sub_dict, __ATOMIC_ACQUIRE);
    int i = 0;

    if (d == NULL)
        return HUB_OK;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (dict_domain_find(d, slice_from_cstr(e->valuestring)) == NULL) {
            char f[40];
            snprintf(f, sizeof(f), "filters.domains[%d]", i);
            return hub_err_set(err, HUB_EINVALID, f, 0,
                               "not an SDOH domain of the data dictionary, "
                               "so no event carries it (food-insecurity, "
                               "housing-instability, ...: hubctl dict show "
                               "lists them)");
        }
    }
    return HUB_OK;
}

static const char *const filter_names[] = {
    "orgs", "facilities", "patient_classes", "domains", "counties",
    "sensitivity", NULL,
};

/* Whether an event of topic `t` can carry a value for filter `f`: a
 * patient class only an encounter (adt.*); an SDOH domain every body but
 * a consent's. The other filters any event may carry. */
static bool topic_carries(const char *f, const char *t)
{
    if (strcmp(f, "patient_classes") == 0)
        return strncmp(t, "adt.", 4) == 0;
    if (strcmp(f, "domains") == 0)
        return strcmp(t, "consent.updated") != 0;
    return true;
}

/* A filter that no event of the subscription's topics carries makes it
 * match nothing, with no sign of it (an event without the field does not
 * match): refused, naming the filter. */
static int check_filters_reachable(const cJSON *topics, const cJSON *filters,
                                   struct hub_err *err)
{
    for (const cJSON *f = filters->child; f; f = f->next) {
        bool reachable = false;
        for (const cJSON *t = topics->child; t && !reachable; t = t->next)
            for (size_t i = 0; canon_topics[i] && !reachable; i++)
                reachable = webhook_topic_match(t->valuestring,
                                                canon_topics[i]) &&
                            topic_carries(f->string, canon_topics[i]);
        if (!reachable) {
            char field[32];
            snprintf(field, sizeof(field), "filters.%s", f->string);
            return hub_err_set(err, HUB_EINVALID, field, 0,
                               "no event of the subscription's topics "
                               "carries this filter's field, so it would "
                               "match nothing");
        }
    }
    return HUB_OK;
}

/* the bounds that check_str_array's texts spell out */
_Static_assert(WEBHOOK_MAX_SECRETS == 4 && WEBHOOK_MAX_TOPICS == 32 &&
               WEBHOOK_MAX_FILTER_VALUES == 64 && WEBHOOK_TOPIC_MAX == 64 &&
               WEBHOOK_FILTER_VALUE_MAX == 128,
               "check_str_array's messages name these numbers");

static int check_str_array(const cJSON *a, size_t max_n, size_t max_len,
                           const char *field, struct hub_err *err)
{
    if (!cJSON_IsArray(a))
        return hub_err_set(err, HUB_EINVALID, field, 0, "is not an array");
    int n = cJSON_GetArraySize(a);
    if ((size_t)n > max_n)      /* the bound said (static text): F307 */
        return hub_err_set(err, HUB_EINVALID, field, 0,
                           max_n == WEBHOOK_MAX_SECRETS
                           ? "has more than 4 secrets (two at once rotate)"
                           : max_n == WEBHOOK_MAX_TOPICS
                           ? "has more than 32 topics"
                           : max_n == WEBHOOK_MAX_FILTER_VALUES
                           ? "has more than 64 values"
                           : "has too many values");
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e) || e->valuestring[0] == '\0' ||
            strlen(e->valuestring) > max_len) {
            char f[32];
            snprintf(f, sizeof(f), "%s[%d]", field, i);
            return hub_err_set(err, HUB_EINVALID, f, 0,
                               max_len == WEBHOOK_TOPIC_MAX
                               ? "is not a string of 1 to 64 bytes"
                               : max_len == WEBHOOK_FILTER_VALUE_MAX
                               ? "is not a string of 1 to 128 bytes"
                               : max_len == 200
                               ? "is not a string of 1 to 200 bytes"
                               : "is not a non-empty string of bounded "
                                 "length");
        }
    }
    return HUB_OK;
}

/* index of `name` in the NULL-terminated `names`, -1 when not there */
static int name_index(const char *name, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

static int check_path(const cJSON *v, const char *field, struct hub_err *err)
{
    if (!cJSON_IsString(v) || v->valuestring[0] != '/' ||
        strlen(v->valuestring) > WEBHOOK_PATH_MAX)
        return hub_err_set(err, HUB_EINVALID, field, 0,
                           "is not an absolute file path");
    return HUB_OK;
}

#define PULL_NOT_PAUSED                                                     \
    "a pull subscription has nothing to hold and is never paused: its "   \
    "events are in GET /v1/events as they are routed; give status active, " \
    "or DELETE it to stop its routing"

int webhook_sub_validate(const char *json, size_t len,
                         struct webhook_sub_check *out, struct hub_err *err)
{
    bool partial = out->partial;
    const char *current = out->current;
    int rc = HUB_EINVALID;
    cJSON *doc = NULL, *norm = NULL, *cur = NULL;

    memset(out, 0, sizeof(*out));
    out->partial = partial;
    out->current = current;
    if (len > WEBHOOK_SUB_MAX)
        return hub_err_set_at(err, HUB_ELIMIT, "", WEBHOOK_SUB_MAX,
                              "subscription is too big");
    /* not UTF-8, not JSON, cut short, bytes after the value: refused
     * with the byte offset (F1467); JSON cut short or malformed is not
     * said to be "not an object": a caller would look for the wrong
     * mistake (F1462) */
    doc = json_body_parse(json, len, err);
    if (doc == NULL) {
        rc = HUB_ESYNTAX;
        goto out;
    }
    if (!cJSON_IsObject(doc)) {
        rc = hub_err_set_at(err, HUB_ESYNTAX, "",
                            json_body_value_at(json, len),
                            "body is not a JSON object");
        goto out;
    }
    /* cJSON keeps every member of a name and reads the first; the stored
     * jsonb keeps the last: a name given twice would store a value never
     * checked here, so it is refused */
    unsigned seen = 0;
    for (const cJSON *m = doc->child; m; m = m->next) {
        static const char *const known[] = {
            "url", "topics", "mode", "format", "filters", "secrets",
            "client_cert", "client_key", "ca_bundle", "status", NULL,
        };
        int k = name_index(m->string, known);
        if (k < 0) {
            /* the member is named, so that "topic" or "secret" (for
             * topics, secrets) is found at once; only a plain short name
             * is echoed, never other bytes of the body */
            rc = hub_err_set(err, HUB_EINVALID,
                             echo_name_ok(m->string, 64, NULL) ? m->string
                                                               : "", 0,
                             "unknown member: a subscription has url, mode, "
                             "topics, filters, secrets, format, status, "
                             "client_cert, client_key and ca_bundle");
            goto out;
        }
        if (seen & 1u << k) {
            rc = hub_err_set(err, HUB_EINVALID, m->string, 0,
                             "member is given more than once");
            goto out;
        }
        seen |= 1u << k;
    }

    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(doc, "mode");
    if (mode) {
        if (cJSON_IsString(mode) && strcmp(mode->valuestring, "pull") == 0)
            out->mode = WEBHOOK_MODE_PULL;
        else if (!(cJSON_IsString(mode) &&
                   strcmp(mode->valuestring, "webhook") == 0)) {
            rc = hub_err_set(err, HUB_EINVALID, "mode", 0,
                             "mode is not webhook or pull");
            goto out;
        }
    }

    const cJSON *url = cJSON_GetObjectItemCaseSensitive(doc, "url");
    out->has_url = url && !cJSON_IsNull(url);
    if (out->has_url) {
        if (!cJSON_IsString(url)) {
            rc = hub_err_set(err, HUB_EINVALID, "url", 0, "url is not a string");
            goto out;
        }
        if ((rc = webhook_url_check(url->valuestring, err)) != HUB_OK ||
            (rc = check_url_address(url->valuestring, err)) != HUB_OK)
            goto out;
        rc = HUB_EINVALID;
        if (out->mode == WEBHOOK_MODE_PULL) {
            rc = hub_err_set(err, HUB_EINVALID, "url", 0,
                             "pull subscription has a url");
            goto out;
        }
    } else if ((!partial || url) && out->mode == WEBHOOK_MODE_WEBHOOK) {
        /* an update clears the url only to switch to pull mode: a webhook
         * subscription without one matches events it cannot send */
        rc = hub_err_set(err, HUB_EINVALID, "url", 0,
                         "webhook subscription has no url");
        goto out;
    }

    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(doc, "topics");
    out->has_topics = topics != NULL;
    if (topics) {
        if ((rc = check_str_array(topics, WEBHOOK_MAX_TOPICS,
                                  WEBHOOK_TOPIC_MAX, "topics", err)) != HUB_OK)
            goto out;
        if (cJSON_GetArraySize(topics) == 0) {
            rc = hub_err_set(err, HUB_EINVALID, "topics", 0,
                             "subscription has no topic");
            goto out;
        }
        int i = 0;
        for (const cJSON *t = topics->child; t; t = t->next, i++) {
            if ((rc = webhook_topic_check(t->valuestring, err)) != HUB_OK) {
                snprintf(err->field, sizeof(err->field), "topics[%d]", i);
                goto out;
            }
        }
    } else if (!partial) {
        rc = hub_err_set(err, HUB_EINVALID, "topics", 0,
                         "subscription has no topic");
        goto out;
    }

    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(doc, "format");
    if (fmt && !(cJSON_IsString(fmt) &&
                 (strcmp(fmt->valuestring, "canonical") == 0 ||
                  strcmp(fmt->valuestring, "fhir") == 0))) {
        rc = hub_err_set(err, HUB_EINVALID, "format", 0,
                         "format is not canonical or fhir");
        goto out;
    }
    if (fmt && strcmp(fmt->valuestring, "fhir") == 0) {
        rc = hub_err_set(err, HUB_EUNSUPPORTED, "format", 0,
                         "fhir payloads are not available yet");
        goto out;
    }

    const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "status");
    if (st && !(cJSON_IsString(st) &&
                (strcmp(st->valuestring, "active") == 0 ||
                 strcmp(st->valuestring, "paused") == 0))) {
        rc = hub_err_set(err, HUB_EINVALID, "status", 0,
                         "status is not active or paused");
        goto out;
    }

    const cJSON *filters = cJSON_GetObjectItemCaseSensitive(doc, "filters");
    if (filters) {
        if (!cJSON_IsObject(filters)) {
            rc = hub_err_set(err, HUB_EINVALID, "filters", 0,
                             "filters is not an object");
            goto out;
        }
        unsigned fseen = 0;
        for (const cJSON *f = filters->child; f; f = f->next) {
            int k = name_index(f->string, filter_names);
            char field[32];
            snprintf(field, sizeof(field), "filters.%s", f->string);
            if (k < 0) {
                /* named when plain and short, as a member is above: never
                 * other bytes of the body (nor a name cut in two) */
                bool plain = echo_name_ok(f->string, sizeof(field) - 9,
                                          NULL);
                rc = hub_err_set(err, HUB_EINVALID,
                                 plain ? field : "filters", 0,
                                 "unknown filter");
                goto out;
            }
            if (fseen & 1u << k) {      /* as the members above */
                rc = hub_err_set(err, HUB_EINVALID, field, 0,
                                 "filter is given more than once");
                goto out;
            }
            fseen |= 1u << k;
            if ((rc = check_str_array(f, WEBHOOK_MAX_FILTER_VALUES,
                                      WEBHOOK_FILTER_VALUE_MAX, field,
                                      err)) != HUB_OK)
                goto out;
            /* a list of the values an event may have: none is met by no
             * event, a subscription made to match nothing (F4161); the
             * labels opted in to are no such list, and none is their
             * default */
            if (cJSON_GetArraySize(f) == 0 &&
                strcmp(f->string, "sensitivity") != 0) {
                rc = hub_err_set(err, HUB_EINVALID, field, 0,
                                 "filter has no value, so it would match "
                                 "nothing: leave it out to take every "
                                 "value");
                goto out;
            }
            if (strcmp(f->string, "domains") == 0 &&
                (rc = check_domains(f, err)) != HUB_OK)
                goto out;
        }
    }
    /* the filters against the topics, an update's with the stored ones it
     * leaves as they are */
    if (partial && current && (topics == NULL) != (filters == NULL))
        cur = cJSON_Parse(current);
    const cJSON *eff_topics = topics ? topics
                              : cJSON_GetObjectItemCaseSensitive(cur, "topics");
    const cJSON *eff_filters =
        filters ? filters : cJSON_GetObjectItemCaseSensitive(cur, "filters");
    if (cJSON_IsArray(eff_topics) && cJSON_IsObject(eff_filters) &&
        (rc = check_filters_reachable(eff_topics, eff_filters, err)) != HUB_OK)
        goto out;
    rc = HUB_EINVALID;

    const cJSON *secrets = cJSON_GetObjectItemCaseSensitive(doc, "secrets");
    out->has_secrets = secrets != NULL;
    if (secrets) {
        if ((rc = check_str_array(secrets, WEBHOOK_MAX_SECRETS, 200,
                                  "secrets", err)) != HUB_OK)
            goto out;
        int i = 0;
        for (const cJSON *s = secrets->child; s; s = s->next, i++) {
            struct webhook_secret k;
            if ((rc = webhook_secret_parse(s->valuestring, &k, err)) != HUB_OK) {
                snprintf(err->field, sizeof(err->field), "secrets[%d]", i);
                goto out;
            }
            OPENSSL_cleanse(&k, sizeof(k));
        }
        if (cJSON_GetArraySize(secrets) == 0) {
            rc = hub_err_set(err, HUB_EINVALID, "secrets", 0,
                             "subscription has no secret");
            goto out;
        }
    }
    /* a pull subscription has no deliveries to hold: a pause of one said
     * it did something (F1965), by PATCH or at creation too (F2024) */
    if (!partial && out->mode == WEBHOOK_MODE_PULL && st &&
        strcmp(st->valuestring, "paused") == 0) {
        rc = hub_err_set(err, HUB_EINVALID, "status", 0, PULL_NOT_PAUSED);
        goto out;
    }
    /* an update that leaves a webhook subscription (by its mode, or the
     * stored one) without a url or a secret: a switch from pull, which has
     * neither, named here; the table's CHECK refused it as "update leaves
     * the subscription inconsistent", field mode (F305) */
    if (partial && current) {
        cJSON *stored = cJSON_Parse(current);
        const cJSON *smode = cJSON_GetObjectItemCaseSensitive(stored, "mode");
        const cJSON *scount =
            cJSON_GetObjectItemCaseSensitive(stored, "secret_count");
        bool webhook = mode ? out->mode == WEBHOOK_MODE_WEBHOOK
                            : !(cJSON_IsString(smode) &&
                                strcmp(smode->valuestring, "pull") == 0);
        bool stored_url = cJSON_IsString(
            cJSON_GetObjectItemCaseSensitive(stored, "url"));
        bool stored_secret = cJSON_IsNumber(scount) && scount->valueint > 0;
        bool known = cJSON_IsString(smode);     /* hub_sub_json's */
        const cJSON *sst = cJSON_GetObjectItemCaseSensitive(stored, "status");
        bool paused = st ? strcmp(st->valuestring, "paused") == 0
                         : cJSON_IsString(sst) &&
                               strcmp(sst->valuestring, "paused") == 0;
        cJSON_Delete(stored);
        if (known && !webhook && paused) {
            rc = hub_err_set(err, HUB_EINVALID, "status", 0, PULL_NOT_PAUSED);
            goto out;
        }
        if (known && webhook && !out->has_url && (url || !stored_url)) {
            rc = hub_err_set(err, HUB_EINVALID, "url", 0,
                             "webhook subscription has no url: give url "
                             "with mode webhook");
            goto out;
        }
        if (known && !webhook && stored_url && !url) {
            rc = hub_err_set(err, HUB_EINVALID, "mode", 0,
                             "a pull subscription has no url: give "
                             "\"url\": null with mode pull");
            goto out;
        }
        if (known && webhook && !secrets && !stored_secret) {
            rc = hub_err_set(err, HUB_EINVALID, "secrets", 0,
                             "webhook subscription has no secret: give "
                             "secrets with mode webhook (a pull "
                             "subscription has none, and an update makes "
                             "none)");
            goto out;
        }
    }
    static const char *const paths[] = { "client_cert", "client_key",
                                         "ca_bundle", NULL };
    for (size_t i = 0; paths[i]; i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, paths[i]);
        if (p && !cJSON_IsNull(p) && (rc = check_path(p, paths[i], err)))
            goto out;
    }
    if (!cJSON_GetObjectItemCaseSensitive(doc, "client_cert") !=
        !cJSON_GetObjectItemCaseSensitive(doc, "client_key")) {
        rc = hub_err_set(err, HUB_EINVALID, "client_key", 0,
                         "client_cert and client_key go together");
        goto out;
    }

    /* normalized copy: the members as given, plus a generated secret for a
     * new webhook subscription that brought none */
    norm = cJSON_Duplicate(doc, 1);
    if (!partial && out->mode == WEBHOOK_MODE_WEBHOOK && !secrets) {
        char s[64];
        if ((rc = webhook_secret_generate(s, sizeof(s))) != HUB_OK)
            goto out;
        cJSON *arr = cJSON_AddArrayToObject(norm, "secrets");
        cJSON_AddItemToArray(arr, cJSON_CreateString(s));
        OPENSSL_cleanse(s, sizeof(s));
        out->has_secrets = true;
    }
    if (!partial && !mode)
        cJSON_AddStringToObject(norm, "mode", "webhook");
    out->json_out = cJSON_PrintUnformatted(norm);
    if (!out->json_out)
        abort();
    rc = HUB_OK;
out:
    cJSON_Delete(cur);
    cJSON_Delete(norm);
    cJSON_Delete(doc);
    return rc;
}
