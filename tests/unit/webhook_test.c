/*
 * webhook_test.c - Standard Webhooks signing against the spec's own test
 * vector, secrets, the retry schedule, Retry-After, SSRF address classes,
 * topic patterns and subscription validation.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict.h"
#include "webhook.h"
#include "../lib/testdict.h"

/* The vector of standard-webhooks/standard-webhooks libraries/go
 * webhook_test.go TestWebhookSign (same in every reference library). */
#define SW_KEY "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS 1614265330
#define SW_BODY "{\"test\": 2432232314}"
#define SW_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

Test(webhook_sign, matches_standard_webhooks_test_vector)
{
    struct webhook_secret k;
    char sig[WEBHOOK_SIG_HEADER_MAX];

    cr_assert_eq(webhook_secret_parse(SW_KEY, &k, NULL), HUB_OK);
    cr_assert_eq(k.len, 24);
    cr_assert_eq(webhook_sign(&k, 1, SW_ID, SW_TS, SW_BODY,
                              strlen(SW_BODY), sig, sizeof(sig)), HUB_OK);
    cr_assert_str_eq(sig, SW_SIG);
}

Test(webhook_sign, signs_with_every_secret_space_separated)
{
    struct webhook_secret k[2];
    char gen[64], sig[WEBHOOK_SIG_HEADER_MAX];

    cr_assert_eq(webhook_secret_generate(gen, sizeof(gen)), HUB_OK);
    cr_assert_eq(webhook_secret_parse(gen, &k[0], NULL), HUB_OK);
    cr_assert_eq(webhook_secret_parse(SW_KEY, &k[1], NULL), HUB_OK);
    cr_assert_eq(webhook_sign(k, 2, SW_ID, SW_TS, SW_BODY, strlen(SW_BODY),
                              sig, sizeof(sig)), HUB_OK);
    const char *sp = strchr(sig, ' ');
    cr_assert_not_null(sp);
    cr_assert_str_eq(sp + 1, SW_SIG);
    cr_assert(webhook_verify(&k[0], SW_ID, "1614265330", SW_BODY,
                             strlen(SW_BODY), sig));
    cr_assert(webhook_verify(&k[1], SW_ID, "1614265330", SW_BODY,
                             strlen(SW_BODY), sig));
}

Test(webhook_sign, refuses_output_that_does_not_fit)
{
    struct webhook_secret k;
    char sig[20];

    cr_assert_eq(webhook_secret_parse(SW_KEY, &k, NULL), HUB_OK);
    cr_assert_eq(webhook_sign(&k, 1, SW_ID, SW_TS, "{}", 2, sig, sizeof(sig)),
                 HUB_ELIMIT);
    cr_assert_eq(webhook_sign(&k, 0, SW_ID, SW_TS, "{}", 2, sig, sizeof(sig)),
                 HUB_EINVALID);
}

Test(webhook_verify, rejects_changed_body_id_timestamp_or_bad_signature)
{
    struct webhook_secret k;

    cr_assert_eq(webhook_secret_parse(SW_KEY, &k, NULL), HUB_OK);
    cr_assert(webhook_verify(&k, SW_ID, "1614265330", SW_BODY,
                             strlen(SW_BODY), SW_SIG));
    cr_assert_not(webhook_verify(&k, SW_ID, "1614265331", SW_BODY,
                                 strlen(SW_BODY), SW_SIG));
    cr_assert_not(webhook_verify(&k, "msg_other", "1614265330", SW_BODY,
                                 strlen(SW_BODY), SW_SIG));
    cr_assert_not(webhook_verify(&k, SW_ID, "1614265330", "{}", 2, SW_SIG));
    /* the spec's "invalid signature" case */
    cr_assert_not(webhook_verify(&k, SW_ID, "1614265330", SW_BODY,
                                 strlen(SW_BODY),
                                 "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="));
    /* the spec's "valid multi sig" case: one valid among others */
    cr_assert(webhook_verify(&k, SW_ID, "1614265330", SW_BODY, strlen(SW_BODY),
                             "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "
                             "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "
                             SW_SIG));
}

Test(webhook_secret, refuses_missing_prefix_bad_base64_and_bad_lengths)
{
    struct webhook_secret k;
    struct hub_err e;

    cr_assert_eq(webhook_secret_parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &k, &e),
                 HUB_EINVALID);
    cr_assert_str_eq(e.what, "secret does not start with whsec_");
    cr_assert_eq(webhook_secret_parse("whsec_MfKQ9r8G!YqrTwjUPD8ILPZIo2LaLaSw",
                                      &k, &e), HUB_EINVALID);
    cr_assert_str_eq(e.what, "secret is not base64");
    /* 23 bytes: one short of the minimum */
    cr_assert_eq(webhook_secret_parse("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
                                      &k, &e), HUB_EINVALID);
    cr_assert_str_eq(e.what, "secret is not 24 to 64 bytes");
    /* 64 bytes: the maximum */
    char max[6 + 88 + 1] = "whsec_";
    memset(max + 6, 'A', 88);
    max[6 + 86] = '=';
    max[6 + 87] = '=';
    max[94] = '\0';
    cr_assert_eq(webhook_secret_parse(max, &k, &e), HUB_OK);
    cr_assert_eq(k.len, 64);
    /* 66 bytes: past it */
    char big[6 + 88 + 1] = "whsec_";
    memset(big + 6, 'A', 88);
    big[94] = '\0';
    cr_assert_eq(webhook_secret_parse(big, &k, &e), HUB_EINVALID);
}

Test(webhook_backoff, spans_more_than_three_days_even_at_lowest_jitter)
{
    int64_t lo = 0, hi = 0;

    for (int n = 1; n <= WEBHOOK_RETRIES; n++) {
        lo += webhook_backoff_ms(n, 0.0);
        hi += webhook_backoff_ms(n, 0.999999);
    }
    cr_assert_geq(lo, 3LL * 24 * 3600 * 1000);
    cr_assert_leq(hi, 5LL * 24 * 3600 * 1000);
    cr_assert_eq(webhook_backoff_ms(WEBHOOK_RETRIES + 1, 0.5), -1);
    cr_assert_eq(webhook_backoff_ms(0, 0.5), -1);
}

Test(webhook_backoff, jitter_stays_within_twenty_percent_of_nominal)
{
    for (int n = 1; n <= WEBHOOK_RETRIES; n++) {
        int64_t nom = webhook_backoff_nominal_ms(n);
        for (int i = 0; i < 100; i++) {
            int64_t d = webhook_backoff_ms(n, i / 100.0);
            cr_assert_geq(d, nom * 8 / 10);
            cr_assert_lt(d, nom * 12 / 10 + 1);
        }
        if (n > 1)
            cr_assert_geq(nom, webhook_backoff_nominal_ms(n - 1));
    }
}

Test(webhook_backoff, accelerated_clock_runs_three_days_in_seconds)
{
    int64_t total = 0;

    for (int n = 1; n <= WEBHOOK_RETRIES; n++)
        total += webhook_scale_ms(webhook_backoff_nominal_ms(n), 100000.0);
    cr_assert_lt(total, 5000);
    cr_assert_eq(webhook_scale_ms(5000, 1.0), 5000);
    cr_assert_eq(webhook_scale_ms(5000, 0.0), 5000);
}

Test(webhook_retry_after, reads_seconds_and_http_dates_and_caps_them)
{
    cr_assert_eq(webhook_retry_after_ms("120", 0), 120000);
    cr_assert_eq(webhook_retry_after_ms("0", 0), 0);
    cr_assert_eq(webhook_retry_after_ms("999999999", 0), 24LL * 3600 * 1000);
    /* 784111777 = Sun, 06 Nov 1994 08:49:37 GMT */
    cr_assert_eq(webhook_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT",
                                        784111777 - 30), 30000);
    cr_assert_eq(webhook_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT",
                                        784111777 + 30), 0);
    cr_assert_eq(webhook_retry_after_ms("soon", 0), -1);
    cr_assert_eq(webhook_retry_after_ms("12x", 0), -1);
    cr_assert_eq(webhook_retry_after_ms(NULL, 0), -1);
    cr_assert_eq(webhook_retry_after_ms("Sun, 06 Foo 1994 08:49:37 GMT", 0), -1);
}

/* RFC 9110 5.6.7: a recipient MUST accept the obsolete RFC 850 and asctime
 * forms of an HTTP-date too; a Retry-After in one of them was read as
 * absent, and the receiver that asked for 30 s got the schedule's 5 s.
 * OWS may be a tab. A delta-seconds too large for an integer (RFC 9111
 * 1.2.2: the largest one can hold) is the longest wait, not none. */
Test(webhook_retry_after, reads_the_obsolete_date_forms_tabs_and_huge_seconds)
{
    /* 784111777 = Sun, 06 Nov 1994 08:49:37 GMT */
    cr_assert_eq(webhook_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT",
                                        784111777 - 30), 30000);
    cr_assert_eq(webhook_retry_after_ms("Sun Nov  6 08:49:37 1994",
                                        784111777 - 30), 30000);
    /* 1765008000 = Sat, 06 Dec 2025 08:00:00 GMT: a two-digit year in
     * this century when that is not more than 50 years ahead */
    cr_assert_eq(webhook_retry_after_ms("Saturday, 06-Dec-25 08:00:00 GMT",
                                        1765008000 - 60), 60000);
    cr_assert_eq(webhook_retry_after_ms("Sat Dec 06 08:00:00 2025",
                                        1765008000 - 60), 60000);
    cr_assert_eq(webhook_retry_after_ms("\t120\t", 0), 120000);
    cr_assert_eq(webhook_retry_after_ms("\tSun, 06 Nov 1994 08:49:37 GMT ",
                                        784111777 - 30), 30000);
    cr_assert_eq(webhook_retry_after_ms("99999999999999999999999", 0),
                 24LL * 3600 * 1000);
    /* still refused: a time that is none, a sign, a fraction, nothing */
    cr_assert_eq(webhook_retry_after_ms("Sun, 06 Nov 1994 25:49:37 GMT", 0),
                 -1);
    cr_assert_eq(webhook_retry_after_ms("Sunday, 06-Nov-94 08:49 GMT", 0), -1);
    cr_assert_eq(webhook_retry_after_ms("Sun Nov  6 08:49:37 94", 0), -1);
    cr_assert_eq(webhook_retry_after_ms("-5", 0), -1);
    cr_assert_eq(webhook_retry_after_ms("1.5", 0), -1);
    cr_assert_eq(webhook_retry_after_ms(" \t", 0), -1);
}

struct addr_case {
    char ip[48];
    enum webhook_addr_class c;
};

static struct addr_case addr_cases[] = {
    { "93.184.216.34", ADDR_PUBLIC },
    { "127.0.0.1", ADDR_LOOPBACK },
    { "127.255.255.254", ADDR_LOOPBACK },
    { "10.1.2.3", ADDR_PRIVATE },
    { "172.16.0.1", ADDR_PRIVATE },
    { "172.31.255.255", ADDR_PRIVATE },
    { "172.32.0.1", ADDR_PUBLIC },
    { "192.168.1.1", ADDR_PRIVATE },
    { "100.64.0.1", ADDR_PRIVATE },
    { "169.254.169.254", ADDR_LINKLOCAL },
    { "0.0.0.0", ADDR_RESERVED },
    { "224.0.0.1", ADDR_RESERVED },
    { "255.255.255.255", ADDR_RESERVED },
    { "::1", ADDR_LOOPBACK },
    { "::", ADDR_RESERVED },
    { "::ffff:127.0.0.1", ADDR_LOOPBACK },
    { "::ffff:10.0.0.1", ADDR_PRIVATE },
    { "::ffff:8.8.8.8", ADDR_PUBLIC },
    { "fd00::1", ADDR_PRIVATE },
    { "fe80::1", ADDR_LINKLOCAL },
    { "ff02::1", ADDR_RESERVED },
    { "2606:4700::1111", ADDR_PUBLIC },
    { "64:ff9b::a9fe:a9fe", ADDR_LINKLOCAL },
    { "64:ff9b::808:808", ADDR_PUBLIC },
    /* IPv6 spellings of internal IPv4 addresses (the review, r42) */
    { "::10.0.0.1", ADDR_RESERVED },            /* IPv4-compatible */
    { "::127.0.0.1", ADDR_RESERVED },
    /* RFC 2765's IPv4-translated ::ffff:0:0:0/96 (not the mapped
     * ::ffff:0:0/96): was public, an IPv6 spelling of 127.0.0.1 that a
     * SIIT translator on the path would take there */
    { "::ffff:0:7f00:1", ADDR_RESERVED },
    { "::ffff:0:a00:1", ADDR_RESERVED },
    { "2002:a00:1::1", ADDR_PRIVATE },          /* 6to4 of 10.0.0.1 */
    { "2002:7f00:1::1", ADDR_LOOPBACK },        /* 6to4 of 127.0.0.1 */
    { "2002:a9fe:a9fe::", ADDR_LINKLOCAL },     /* 6to4 of 169.254.169.254 */
    { "2002:808:808::1", ADDR_PUBLIC },         /* 6to4 of 8.8.8.8 */
    { "2001:0:4136:e378:8000:63bf:f5ff:fffe", ADDR_RESERVED },  /* Teredo */
    { "64:ff9b:1::a00:1", ADDR_PRIVATE },       /* local-use NAT64 */
    { "64:ff9b:2::1", ADDR_RESERVED },
    { "100::1", ADDR_RESERVED },                /* discard-only */
    { "fec0::1", ADDR_PRIVATE },                /* site-local */
    { "2001:4860:4860::8888", ADDR_PUBLIC },
    { "localhost", ADDR_INVALID },
    { "", ADDR_INVALID },
};

ParameterizedTestParameters(webhook_ssrf, classifies_addresses)
{
    return cr_make_param_array(struct addr_case, addr_cases,
                               sizeof(addr_cases) / sizeof(addr_cases[0]));
}

ParameterizedTest(struct addr_case *c, webhook_ssrf, classifies_addresses)
{
    cr_assert_eq(webhook_addr_classify(c->ip), c->c, "%s: got %s", c->ip,
                 webhook_addr_class_name(webhook_addr_classify(c->ip)));
}

Test(webhook_ssrf, production_refuses_internal_addresses_unless_allowed)
{
    cr_assert(webhook_addr_allowed(ADDR_PUBLIC, true, false, false));
    cr_assert_not(webhook_addr_allowed(ADDR_LOOPBACK, true, false, false));
    cr_assert_not(webhook_addr_allowed(ADDR_PRIVATE, true, false, false));
    cr_assert_not(webhook_addr_allowed(ADDR_LINKLOCAL, true, false, false));
    cr_assert(webhook_addr_allowed(ADDR_LOOPBACK, true, true, false));
    cr_assert(webhook_addr_allowed(ADDR_LOOPBACK, false, false, false));
    cr_assert_not(webhook_addr_allowed(ADDR_RESERVED, true, true, false));
    cr_assert_not(webhook_addr_allowed(ADDR_RESERVED, false, false, false));
    cr_assert_not(webhook_addr_allowed(ADDR_INVALID, false, true, false));
}

/* DESIGN.md: webhooks go over TLS. In production an http:// URL reaches
 * no public address, the operator's opt-in or not; only a relay inside
 * its network that it allowed (F424). */
Test(webhook_ssrf, production_sends_clear_text_to_no_public_address)
{
    cr_assert_not(webhook_addr_allowed(ADDR_PUBLIC, true, false, true));
    cr_assert_not(webhook_addr_allowed(ADDR_PUBLIC, true, true, true));
    cr_assert(webhook_addr_allowed(ADDR_PUBLIC, true, false, false));
    cr_assert(webhook_addr_allowed(ADDR_PUBLIC, false, false, true));
    cr_assert(webhook_addr_allowed(ADDR_LOOPBACK, true, true, true));
    cr_assert(webhook_addr_allowed(ADDR_PRIVATE, true, true, true));
    cr_assert_not(webhook_addr_allowed(ADDR_PRIVATE, true, false, true));
}

Test(webhook_topic, wildcards_match_whole_segments)
{
    cr_assert(webhook_topic_match("adt.*", "adt.admit"));
    cr_assert(webhook_topic_match("*", "referral.updated"));
    cr_assert(webhook_topic_match("*.positive", "screening.positive"));
    cr_assert(webhook_topic_match("screening.positive", "screening.positive"));
    cr_assert_not(webhook_topic_match("adt.*", "adtx.admit"));
    cr_assert_not(webhook_topic_match("adt.*", "screening.positive"));
    cr_assert_not(webhook_topic_match("adt", "adt.admit"));
    cr_assert_not(webhook_topic_match("adt.admit", "adt.admitted"));
    cr_assert_not(webhook_topic_match("adt.admit.x", "adt.admit"));
}

/* The hub's own events (hub.health, hub.digest) only by a pattern of
 * their family: "*" and "*.x" are the data events, as they always were. */
Test(webhook_topic, hub_topics_only_by_their_own_family)
{
    struct hub_err e;

    cr_assert(webhook_topic_match("hub.*", "hub.health"));
    cr_assert(webhook_topic_match("hub.health", "hub.health"));
    cr_assert(webhook_topic_match("hub.*", "hub.digest"));
    cr_assert_not(webhook_topic_match("*", "hub.health"));
    cr_assert_not(webhook_topic_match("*.health", "hub.health"));
    cr_assert_not(webhook_topic_match("*.digest", "hub.digest"));
    cr_assert_not(webhook_topic_match("hub.*", "adt.admit"));
    cr_assert_eq(webhook_topic_check("hub.*", &e), HUB_OK);
    cr_assert_eq(webhook_topic_check("hub.health", &e), HUB_OK);
    cr_assert_eq(webhook_topic_check("hub.digest", &e), HUB_OK);
    cr_assert_eq(webhook_topic_check("*.health", &e), HUB_EINVALID,
                 "matches no topic: hub topics only by hub.");
    cr_assert_eq(webhook_topic_check("hub.alerts", &e), HUB_EINVALID);
}

Test(webhook_topic, refuses_unknown_topics_and_partial_wildcards)
{
    struct hub_err e;

    cr_assert_eq(webhook_topic_check("adt.*", &e), HUB_OK);
    cr_assert_eq(webhook_topic_check("*", &e), HUB_OK);
    cr_assert_eq(webhook_topic_check("consent.updated", &e), HUB_OK);
    cr_assert_eq(webhook_topic_check("adt.admt", &e), HUB_EINVALID);
    cr_assert_str_eq(e.what, "topic matches no known topic");
    cr_assert_eq(webhook_topic_check("adt.ad*", &e), HUB_EINVALID);
    cr_assert_str_eq(e.what, "wildcard is not a whole segment");
    cr_assert_eq(webhook_topic_check("ADT.*", &e), HUB_EINVALID);
    cr_assert_eq(webhook_topic_check("", &e), HUB_EINVALID);
}

Test(webhook_url, accepts_http_and_https_only)
{
    struct hub_err e;

    cr_assert_eq(webhook_url_check("https://cbo.example/hook", &e), HUB_OK);
    cr_assert_eq(webhook_url_check("http://127.0.0.1:8080/x?y=1", &e), HUB_OK);
    cr_assert_eq(webhook_url_check("https://[::1]:443/", &e), HUB_OK);
    cr_assert_eq(webhook_url_check("ftp://cbo.example/", &e), HUB_EINVALID);
    cr_assert_str_eq(e.what, "url scheme is not http or https");
    cr_assert_eq(webhook_url_check("file:///etc/passwd", &e), HUB_EINVALID);
    cr_assert_eq(webhook_url_check("gopher://x/", &e), HUB_EINVALID);
    cr_assert_eq(webhook_url_check("https:///path", &e), HUB_EINVALID);
    cr_assert_str_eq(e.what, "url has no host");
    cr_assert_eq(webhook_url_check("https://u:p@cbo.example/", &e),
                 HUB_EINVALID);
    cr_assert_str_eq(e.what, "url carries credentials");
    cr_assert_eq(webhook_url_check("https://cbo.example:0/", &e), HUB_EINVALID);
    cr_assert_eq(webhook_url_check("https://cbo.example:99999/", &e),
                 HUB_EINVALID);
    cr_assert_eq(webhook_url_check("https://cbo.example/a b", &e),
                 HUB_EINVALID);
    cr_assert_eq(webhook_url_check("", &e), HUB_EINVALID);
}

/* A URL that passed the checks above but that libcurl, which sends every
 * delivery, does not read: each attempt failed as "network" for the whole
 * schedule, and a dead letter after three days told the partner nothing
 * the creation could have (F3622). A fragment, an underscore in a name and
 * a zone id are read (curl drops the fragment). */
Test(webhook_url, refuses_a_url_libcurl_cannot_read)
{
    static const char *const bad_host[] = {
        "https://a!b.example/", "https://exa\"mple/", "https://a\\b/",
        "https://[zz]/", "https://[1.2.3.4]/", "http://[::1]x/",
        "https://a{b}.example/",
    };
    struct hub_err e;

    for (size_t i = 0; i < sizeof(bad_host) / sizeof(bad_host[0]); i++) {
        cr_expect_eq(webhook_url_check(bad_host[i], &e), HUB_EINVALID, "%s",
                     bad_host[i]);
        cr_expect_str_eq(e.field, "url");
    }
    cr_assert_eq(webhook_url_check("https://a!b.example/", &e),
                 HUB_EINVALID);
    cr_assert_str_eq(e.what, "url's host is not a host name or IP address");
    cr_assert_eq(e.offset, 8);
    static const char *const good[] = {
        "https://cbo.example/hook#part", "https://cbo_x.example/",
        "http://[fe80::1%25lo]:8080/", "https://cbo.example/a%20b?x=^",
        "https://cbo.example./hook",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        cr_expect_eq(webhook_url_check(good[i], &e), HUB_OK, "%s", good[i]);
}

/* The egress proxy's URL: http or https, a host and its port, userinfo
 * allowed, nothing after the authority but "/"; each refusal says what is
 * wrong without the value; the redacted form drops the credentials. */
Test(webhook_proxy, takes_an_http_proxy_with_its_port_and_redacts_it)
{
    struct hub_err e;
    char out[128];

    cr_assert_eq(webhook_proxy_check("", &e), HUB_OK);
    cr_assert_eq(webhook_proxy_check("http://proxy.example:3128", &e), HUB_OK);
    cr_assert_eq(webhook_proxy_check("HTTPS://u:p%40ss@10.0.0.1:443/", &e),
                 HUB_OK);
    cr_assert_eq(webhook_proxy_check("http://u:p@ss@[::1]:8080", &e), HUB_OK);
    cr_assert_eq(webhook_proxy_check("http://proxy.example", &e),
                 HUB_EINVALID);
    cr_assert_str_eq(e.what, "proxy url has no port");
    cr_assert_eq(webhook_proxy_check("socks5://proxy.example:1080", &e),
                 HUB_EINVALID);
    cr_assert_str_eq(e.what, "proxy scheme is not http or https (SOCKS is "
                     "not supported)");
    cr_assert_eq(webhook_proxy_check("http://p.example:3128/x", &e),
                 HUB_EINVALID);
    cr_assert_str_eq(e.what, "proxy url has a path");
    cr_assert_eq(webhook_proxy_check("http://p.example:3128#f", &e),
                 HUB_EINVALID);
    cr_assert_eq(webhook_proxy_check("http://u:p@:3128", &e), HUB_EINVALID);
    cr_assert_str_eq(e.what, "proxy url has no host");
    cr_assert_eq(webhook_proxy_check("http://[]:3128", &e), HUB_EINVALID);
    cr_assert_eq(webhook_proxy_check("http://p.example:65536", &e),
                 HUB_EINVALID);
    cr_assert_eq(webhook_proxy_check("http://p.example:3128\r\nX: y", &e),
                 HUB_EINVALID);

    webhook_proxy_redact("http://hub:s3cr3t@proxy.example:3128/", out,
                         sizeof(out));
    cr_assert_str_eq(out, "http://proxy.example:3128");
    webhook_proxy_redact("https://u:p@ss@[::1]:8443", out, sizeof(out));
    cr_assert_str_eq(out, "https://[::1]:8443");
    webhook_proxy_redact("http://hub:s3cr3t@proxy.example", out, sizeof(out));
    cr_assert_str_eq(out, "-");
    webhook_proxy_redact("", out, sizeof(out));
    cr_assert_str_eq(out, "");
}

static int validate(const char *json, bool partial, struct hub_err *e,
                    char **norm)
{
    struct webhook_sub_check c = { .partial = partial };
    int rc = webhook_sub_validate(json, strlen(json), &c, e);
    if (norm)
        *norm = c.json_out;
    else
        free(c.json_out);
    return rc;
}

Test(webhook_sub, refuses_subscription_without_url)
{
    struct hub_err e;

    cr_assert_eq(validate("{\"topics\":[\"adt.*\"]}", false, &e, NULL),
                 HUB_EINVALID);
    cr_assert_str_eq(e.field, "url");
    cr_assert_str_eq(e.what, "webhook subscription has no url");
}

/* In production, a URL whose host is an IP literal the dispatcher would
 * never connect to is refused at creation, naming why (F459): a loopback,
 * private or link-local one unless webhook_allow_private, a reserved one
 * always, and an http:// one to a public address (F424); names, and the
 * development profile, are left to the connect-time check. An IPv4 in
 * decimal, hex, octal or short form is a literal to libcurl, connected to
 * without a look-up: refused as its dotted form; so is an IPv6 one with a
 * zone id (F3621). */
Test(webhook_sub, a_url_the_dispatcher_would_refuse_is_refused_at_creation)
{
    static const struct {
        const char *url;
        bool dev, prod, prod_private;   /* taken? */
    } cases[] = {
        { "https://8.8.8.8/hook", true, true, true },
        { "http://8.8.8.8/hook", true, false, false },     /* clear text */
        { "http://10.1.2.3/relay", true, false, true },
        { "https://partner.example/hook", true, true, true },
        { "http://localhost:9000/", true, true, true },     /* a name */
        { "http://127.0.0.1:9000/x", true, false, true },
        { "http://[::1]:9000/x", true, false, true },
        { "https://10.1.2.3/x?a=b", true, false, true },
        { "https://[fd00::5]/x", true, false, true },
        { "http://169.254.169.254/latest", true, false, true },
        { "http://[::ffff:192.168.1.1]/x", true, false, true },
        { "http://0.0.0.0:8080/", true, false, false },
        { "https://192.0.2.7/x", true, false, false },
        { "http://224.0.0.1/", true, false, false },
        /* IPv4 as libcurl also reads it, never a name (F3621) */
        { "http://2130706433:9000/", true, false, true },
        { "http://0x7f.1/", true, false, true },
        { "http://0177.0.0.1/", true, false, true },
        { "http://127.1/", true, false, true },
        { "https://0xa9.0xfe.0xa9.0xfe/", true, false, true },
        { "http://0/", true, false, false },
        { "https://134744072/x", true, true, true },     /* 8.8.8.8 */
        { "https://1.2.3.4.example/", true, true, true },  /* a name */
        { "http://[fe80::1%25eth0]:8080/", true, false, true },  /* zone */
        /* the host as libcurl reads it: percent-decoded, a trailing dot
         * dropped before the look-up (F3700) */
        { "http://127.0.0.1./", true, false, true },
        { "http://127.1.:9000/", true, false, true },
        { "http://%31%32%37.0.0.1/", true, false, true },
        { "http://%32%31%33%30%37%30%36%34%33%33/", true, false, true },
        { "http://127.0.0.1%2e/", true, false, true },
        { "http://0X7F.1/", true, false, true },
        { "http://[::ffff:7f00:1]/", true, false, true },
        { "http://[0:0:0:0:0:0:0:1]/", true, false, true },
        { "http://[::]/", true, false, false },
        { "https://8.8.8.8./hook", true, true, true },
        { "https://partner.example./hook", true, true, true },
        { "https://%70artner.example/hook", true, true, true },
    };
    struct hub_err e;
    char doc[512];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(doc, sizeof(doc), "{\"url\":\"%s\",\"topics\":[\"*\"]}",
                 cases[i].url);
        for (int p = 0; p < 3; p++) {
            bool want = p == 0 ? cases[i].dev : p == 1 ? cases[i].prod
                                                       : cases[i].prod_private;
            webhook_sub_use_address_policy(p > 0, p == 2);
            int rc = validate(doc, false, &e, NULL);
            cr_expect_eq(rc, want ? HUB_OK : HUB_EINVALID, "%s, policy %d",
                         cases[i].url, p);
            if (rc != HUB_OK) {
                cr_expect_str_eq(e.field, "url");
                cr_expect(strstr(e.what, "url's host is a") ||
                          strstr(e.what, "url is http:// to a public"),
                          "%s", e.what);
            }
        }
    }
    webhook_sub_use_address_policy(false, false);
}

/* "has too many values" did not say how many are taken: a partner
 * rotating with a fifth secret learnt nothing (F307) */
Test(webhook_sub, a_list_over_its_bound_says_the_bound)
{
    struct hub_err e;
    char doc[4096], *p;
    static const char k[] = "\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"";

    snprintf(doc, sizeof(doc), "{\"url\":\"https://a.example/\","
             "\"topics\":[\"*\"],\"secrets\":[%s,%s,%s,%s,%s]}", k, k, k,
             k, k);
    cr_assert_eq(validate(doc, false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "secrets");
    cr_assert_not_null(strstr(e.what, "more than 4"), "%s", e.what);

    p = doc + snprintf(doc, sizeof(doc), "{\"url\":\"https://a.example/\","
                       "\"topics\":[");
    for (int i = 0; i < 33; i++)
        p += snprintf(p, sizeof(doc) - (size_t)(p - doc), "%s\"adt.admit\"",
                      i ? "," : "");
    snprintf(p, sizeof(doc) - (size_t)(p - doc), "]}");
    cr_assert_eq(validate(doc, false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "topics");
    cr_assert_not_null(strstr(e.what, "more than 32"), "%s", e.what);

    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":"
                          "[\"\"]}", false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "topics[0]");
    cr_assert_not_null(strstr(e.what, "1 to 64 bytes"), "%s", e.what);
}

Test(webhook_sub, names_the_bad_topic_by_index)
{
    struct hub_err e;

    cr_assert_eq(validate("{\"url\":\"https://a.example/\","
                          "\"topics\":[\"adt.*\",\"adt.nope\"]}",
                          false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "topics[1]");
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[]}",
                          false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "topics");
}

Test(webhook_sub, refuses_bad_scheme_secret_filter_and_format)
{
    struct hub_err e;

    cr_assert_eq(validate("{\"url\":\"ftp://a.example/\",\"topics\":[\"*\"]}",
                          false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "url");
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"secrets\":[\"" SW_KEY "\",\"whsec_short\"]}",
                          false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "secrets[1]");
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"filters\":{\"zip\":[\"1\"]}}",
                          false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "filters.zip");
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"filters\":{\"counties\":[1]}}",
                          false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "filters.counties[0]");
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"format\":\"xml\"}", false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "format");
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"client_cert\":\"/c.pem\"}", false, &e, NULL),
                 HUB_EINVALID);
    cr_assert_str_eq(e.field, "client_key");
    cr_assert_eq(validate("[1]", false, &e, NULL), HUB_ESYNTAX);
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"colour\":1}", false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "colour");
}

/* A partner that writes "topic" or "secret" learns which member is wrong
 * and what the members are; a name that is not plain is not echoed. */
#define LONG65 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde"
Test(webhook_sub, names_an_unknown_member)
{
    struct hub_err e;

    cr_assert_eq(validate("{\"url\":\"https://a.example/\","
                          "\"topic\":[\"adt.*\"]}", false, &e, NULL),
                 HUB_EINVALID);
    cr_assert_str_eq(e.field, "topic");
    cr_assert(strstr(e.what, "topics") != NULL);
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"secret\":\"" SW_KEY "\"}", true, &e, NULL),
                 HUB_EINVALID);
    cr_assert_str_eq(e.field, "secret");
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"a\\\"b\":1}", false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "");
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"" LONG65 "\":1}", false,
                          &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "");
    /* a filter's name too: "filters.zip", but not other bytes */
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"filters\":{\"Zz canary\":[\"1\"]}}", false,
                          &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "filters");
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"filters\":{\"" LONG65 "\":[\"1\"]}}", false,
                          &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "filters");
}

/* filters.domains: ["food"] (for food-insecurity) was taken, and the
 * subscription matched nothing, with no sign of it: a domain the data
 * dictionary does not have is refused by index; its codes are taken. */
Test(webhook_sub, refuses_a_domain_the_dictionary_does_not_have)
{
    struct dict *d = testdict_load();
    struct hub_err e;

    webhook_sub_use_dict(d);
    cr_assert_eq(validate("{\"url\":\"https://a.example/\","
                          "\"topics\":[\"screening.*\"],\"filters\":{"
                          "\"domains\":[\"food-insecurity\",\"food\"]}}",
                          false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "filters.domains[1]");
    cr_assert(strstr(e.what, "hubctl dict show") != NULL, "%s", e.what);
    cr_assert_eq(validate("{\"filters\":{\"domains\":[\"Food-Insecurity\"]}}",
                          true, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "filters.domains[0]");
    cr_assert_eq(validate("{\"url\":\"https://a.example/\","
                          "\"topics\":[\"screening.*\",\"adt.*\"],"
                          "\"filters\":{\"domains\":[\"food-insecurity\","
                          "\"homelessness\",\"sdoh-category-unspecified\"]}}",
                          false, &e, NULL), HUB_OK);
    webhook_sub_use_dict(NULL);
    dict_free(d);
}

/* A filter that no event of the topics carries would match nothing, with
 * no sign of it: refused, naming the filter. */
Test(webhook_sub, refuses_a_filter_no_event_of_its_topics_carries)
{
    struct hub_err e;

    cr_assert_eq(validate("{\"url\":\"https://a.example/\","
                          "\"topics\":[\"screening.*\",\"referral.*\"],"
                          "\"filters\":{\"patient_classes\":[\"E\"]}}",
                          false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "filters.patient_classes");
    cr_assert_eq(validate("{\"url\":\"https://a.example/\","
                          "\"topics\":[\"consent.updated\",\"hub.*\"],"
                          "\"filters\":{\"domains\":[\"homelessness\"]}}",
                          false, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "filters.domains");
    /* one topic that carries it is enough; other filters any event may */
    cr_assert_eq(validate("{\"url\":\"https://a.example/\","
                          "\"topics\":[\"screening.*\",\"adt.admit\"],"
                          "\"filters\":{\"patient_classes\":[\"E\"],"
                          "\"domains\":[\"homelessness\"],"
                          "\"counties\":[\"Kings\"]}}",
                          false, &e, NULL), HUB_OK);
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"filters\":{\"patient_classes\":[\"E\"]}}",
                          false, &e, NULL), HUB_OK);
    /* an update of the filters alone, with no stored subscription at
     * hand, is not checked against topics it does not name */
    cr_assert_eq(validate("{\"filters\":{\"patient_classes\":[\"E\"]}}",
                          true, &e, NULL), HUB_OK);
}

/* An update naming only its topics or only its filters is checked with
 * the stored subscription's other half. */
Test(webhook_sub, an_update_is_checked_with_the_stored_topics_or_filters)
{
    static const char stored[] =
        "{\"id\":\"sub_1\",\"topics\":[\"adt.*\"],"
        "\"filters\":{\"patient_classes\":[\"E\"]},\"status\":\"active\"}";
    struct hub_err e;
    struct webhook_sub_check c = { .partial = true, .current = stored };
    static const char topics[] = "{\"topics\":[\"screening.*\"]}";

    cr_assert_eq(webhook_sub_validate(topics, strlen(topics), &c, &e),
                 HUB_EINVALID);
    cr_assert_str_eq(e.field, "filters.patient_classes");
    free(c.json_out);
    static const char filters[] =
        "{\"filters\":{\"domains\":[\"homelessness\"]}}";
    c = (struct webhook_sub_check){ .partial = true, .current = stored };
    cr_assert_eq(webhook_sub_validate(filters, strlen(filters), &c, &e),
                 HUB_OK);
    free(c.json_out);
    static const char both[] = "{\"topics\":[\"consent.updated\"],"
                               "\"filters\":{\"counties\":[\"Kings\"]}}";
    c = (struct webhook_sub_check){ .partial = true, .current = stored };
    cr_assert_eq(webhook_sub_validate(both, strlen(both), &c, &e), HUB_OK);
    free(c.json_out);
    static const char status[] = "{\"status\":\"paused\"}";
    c = (struct webhook_sub_check){ .partial = true, .current = stored };
    cr_assert_eq(webhook_sub_validate(status, strlen(status), &c, &e),
                 HUB_OK);
    free(c.json_out);
}

Test(webhook_sub, generates_a_secret_when_none_given)
{
    struct hub_err e;
    char *norm = NULL;

    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"]}",
                          false, &e, &norm), HUB_OK);
    cr_assert_not_null(strstr(norm, "\"secrets\":[\"whsec_"));
    cr_assert_not_null(strstr(norm, "\"mode\":\"webhook\""));
    free(norm);
}

/* cJSON reads the first of two members of one name, PostgreSQL's jsonb
 * keeps the last: a second "topics", "secrets", "url" or filter would be
 * stored unchecked, so a name given twice is refused, naming it. */
Test(webhook_sub, refuses_a_member_or_filter_given_twice)
{
    static const struct { const char *json, *field; } cases[] = {
        { "{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
          "\"topics\":[\"no.such\"]}", "topics" },
        { "{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
          "\"secrets\":[\"" SW_KEY "\"],\"secrets\":[\"plain\"]}",
          "secrets" },
        { "{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
          "\"url\":\"ftp://a b/\"}", "url" },
        { "{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
          "\"status\":\"active\",\"status\":\"disabled\"}", "status" },
        { "{\"mode\":\"pull\",\"topics\":[\"*\"],\"mode\":\"webhook\"}",
          "mode" },
        { "{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
          "\"filters\":{\"orgs\":[\"a\"],\"orgs\":[1]}}", "filters.orgs" },
        { "{\"url\":\"https://a.example/\",\"topics\":[\"adt.*\"],"
          "\"filters\":{\"sensitivity\":[\"sud\"],\"patient_classes\":"
          "[\"I\"],\"sensitivity\":[\"sud\",\"psy\"]}}",
          "filters.sensitivity" },
    };
    struct hub_err e;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&e, 0, sizeof(e));
        cr_assert_eq(validate(cases[i].json, false, &e, NULL), HUB_EINVALID,
                     "case %zu", i);
        cr_assert_str_eq(e.field, cases[i].field, "case %zu", i);
        memset(&e, 0, sizeof(e));
        cr_assert_eq(validate(cases[i].json, true, &e, NULL), HUB_EINVALID,
                     "update, case %zu", i);
    }
    /* the same members once each are taken */
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":"
                          "[\"adt.*\"],\"filters\":{\"orgs\":[\"a\"],"
                          "\"patient_classes\":[\"I\"]},\"status\":"
                          "\"paused\"}", false, &e, NULL), HUB_OK);
}

/* jsonb refuses what is not UTF-8, and the store's refusal named the
 * organization: the validator says it, with the offset of the bad byte */
Test(webhook_sub, refuses_a_body_that_is_not_utf8)
{
    static const char bad[] = "{\"url\":\"https://a.example/\",\"topics\":"
                              "[\"*\"],\"filters\":{\"orgs\":[\"\xff\xfe\"]}}";
    struct hub_err e;

    cr_assert_eq(validate(bad, false, &e, NULL), HUB_ESYNTAX);
    cr_assert_str_eq(e.what, "body is not UTF-8");
    cr_assert_eq(e.offset, strchr(bad, '\xff') - bad);
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":"
                          "[\"*\"],\"filters\":{\"counties\":"
                          "[\"M\xc3\xa9rida\"]}}", false, &e, NULL), HUB_OK);
}

Test(webhook_sub, pull_subscription_needs_no_url_and_update_may_be_partial)
{
    struct hub_err e;

    cr_assert_eq(validate("{\"mode\":\"pull\",\"topics\":[\"referral.*\"]}",
                          false, &e, NULL), HUB_OK);
    cr_assert_eq(validate("{\"mode\":\"pull\",\"url\":\"https://a.example/\","
                          "\"topics\":[\"*\"]}", false, &e, NULL),
                 HUB_EINVALID);
    cr_assert_eq(validate("{\"status\":\"paused\"}", true, &e, NULL), HUB_OK);
    cr_assert_eq(validate("{\"status\":\"gone\"}", true, &e, NULL),
                 HUB_EINVALID);
    cr_assert_str_eq(e.field, "status");
    /* an update may clear the url only to switch to pull mode */
    cr_assert_eq(validate("{\"url\":null}", true, &e, NULL), HUB_EINVALID);
    cr_assert_str_eq(e.field, "url");
    cr_assert_eq(validate("{\"mode\":\"pull\",\"url\":null}", true, &e,
                          NULL), HUB_OK);
}

/* A pull subscription has no deliveries to hold: a pause of one answered
 * as done said otherwise (F1965), and the pause endpoint now refuses it;
 * a creation with "status": "paused", a PATCH of its status, or a switch
 * of a paused webhook subscription to pull still made one (F2024). */
static int validate_update(const char *stored, const char *json,
                           struct hub_err *e)
{
    struct webhook_sub_check c = { .partial = true, .current = stored };
    int rc = webhook_sub_validate(json, strlen(json), &c, e);
    free(c.json_out);
    return rc;
}

Test(webhook_sub, a_pull_subscription_is_never_paused)
{
    static const char pull[] = "{\"id\":\"sub_1\",\"mode\":\"pull\","
                               "\"topics\":[\"*\"],\"status\":\"active\"}";
    static const char paused_hook[] =
        "{\"id\":\"sub_2\",\"mode\":\"webhook\",\"url\":"
        "\"https://a.example/\",\"secret_count\":1,\"topics\":[\"*\"],"
        "\"status\":\"paused\"}";
    struct hub_err e;

    cr_assert_eq(validate("{\"mode\":\"pull\",\"topics\":[\"*\"],"
                          "\"status\":\"paused\"}", false, &e, NULL),
                 HUB_EINVALID);
    cr_assert_str_eq(e.field, "status");
    cr_assert_not_null(strstr(e.what, "never paused"), "%s", e.what);
    cr_assert_eq(validate_update(pull, "{\"status\":\"paused\"}", &e),
                 HUB_EINVALID);
    cr_assert_str_eq(e.field, "status");
    cr_assert_eq(validate_update(paused_hook, "{\"mode\":\"pull\","
                                 "\"url\":null}", &e), HUB_EINVALID);
    cr_assert_str_eq(e.field, "status");
    /* what stays allowed */
    cr_assert_eq(validate_update(paused_hook, "{\"mode\":\"pull\",\"url\":"
                                 "null,\"status\":\"active\"}", &e), HUB_OK);
    cr_assert_eq(validate_update(pull, "{\"status\":\"active\"}", &e),
                 HUB_OK);
    cr_assert_eq(validate("{\"mode\":\"pull\",\"topics\":[\"*\"],"
                          "\"status\":\"active\"}", false, &e, NULL), HUB_OK);
}

/* A subscription body that is not JSON is refused with the byte offset of
 * the first byte of the token that cannot be taken (F1467; cJSON alone
 * said one byte late for a string or a member name, and the last byte for
 * a body cut short), one with bytes after its value there (F1501); a
 * refusal at no one place is not located. */
Test(webhook_sub, a_body_that_is_not_json_is_refused_at_its_fault)
{
    static const struct { const char *json; size_t offset; } cases[] = {
        { "{\"url\":\"https://a.example/h\",}", 29 },    /* '}' for a name */
        { "{url:1}", 1 },                                /* a bare name */
        { "{\"url\":\"https://a.example/h\" \"topics\":[]}", 29 },
        { "{\"url\" \"https://a.example/h\"}", 7 },       /* ':' missing */
        { "{\"url\":tru}", 7 },                          /* a bad literal */
        { "{\"url\":\"https:\\q\"}", 14 },               /* a bad escape */
        { "{\"url\":\"https://a.example/h", 7 },         /* unterminated */
        { "{\"topics\":[\"adt.*\",", 19 },               /* cut short */
        { "", 0 },
        { "{\"topics\":[\"adt.*\"]} {}", 21 },           /* a second value */
        { "{\"topics\":[\"adt.*\"]}}", 20 },
        { " \n [\"adt.*\"]", 3 },                        /* not an object */
        { "{\"url\":\"h\xc3\"}", 9 },                     /* not UTF-8 */
    };
    struct hub_err e;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(validate(cases[i].json, false, &e, NULL), HUB_ESYNTAX,
                     "case %zu", i);
        cr_expect(e.located, "case %zu", i);
        cr_expect_eq(e.offset, cases[i].offset, "case %zu: offset %zu", i,
                     e.offset);
    }
    /* over 64 KiB: the first byte past it */
    static char big[WEBHOOK_SUB_MAX + 2];
    memset(big, ' ', sizeof(big) - 1);
    cr_assert_eq(validate(big, false, &e, NULL), HUB_ELIMIT);
    cr_expect(e.located);
    cr_expect_eq(e.offset, (size_t)WEBHOOK_SUB_MAX);
    cr_assert_eq(validate("{\"topics\":[\"adt.*\"]}  \r\n", false, &e, NULL),
                 HUB_EINVALID, "white space after the value is no fault");
    cr_expect_str_eq(e.field, "url");
    cr_expect_not(e.located);
}

/* an empty list of values is met by no event: refused, naming the filter
 * (F4161); sensitivity's empty list opts in to nothing, as its absence */
Test(webhook_sub, refuses_a_filter_with_no_value)
{
    static const char *const names[] = { "orgs", "facilities",
        "patient_classes", "domains", "counties" };
    struct hub_err e;
    char doc[256], field[40];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(doc, sizeof(doc), "{\"url\":\"https://a.example/\","
                 "\"topics\":[\"*\"],\"filters\":{\"%s\":[]}}", names[i]);
        cr_assert_eq(validate(doc, false, &e, NULL), HUB_EINVALID, "%s",
                     names[i]);
        snprintf(field, sizeof(field), "filters.%s", names[i]);
        cr_assert_str_eq(e.field, field);
        cr_assert_not_null(strstr(e.what, "no value"), "%s", e.what);
        snprintf(doc, sizeof(doc), "{\"filters\":{\"%s\":[]}}", names[i]);
        cr_assert_eq(validate(doc, true, &e, NULL), HUB_EINVALID,
                     "an update's: %s", doc);
        cr_assert_str_eq(e.field, field);
    }
    cr_assert_eq(validate("{\"url\":\"https://a.example/\",\"topics\":[\"*\"],"
                          "\"filters\":{\"sensitivity\":[]}}", false, &e,
                          NULL), HUB_OK);
}
