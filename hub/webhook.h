/*
 * webhook.h - the pure half of outbound delivery: Standard Webhooks signing
 * and verification, signing secrets, the retry schedule, Retry-After,
 * server-side request forgery (SSRF) address classes, topic patterns and
 * subscription validation. No I/O, no database, no clock of its own: the
 * dispatcher (dispatch.c) and the API routes call these; tests call them
 * directly.
 *
 * Standard Webhooks (https://www.standardwebhooks.com): a message carries
 *   webhook-id         stable across retries (we use the delivery id)
 *   webhook-timestamp  integer seconds since the epoch, at the attempt
 *   webhook-signature  "v1,<base64(HMAC-SHA256(key, id "." ts "." body))>",
 *                      one per active secret, separated by single spaces
 * A secret is "whsec_" + base64 of 24..64 random bytes; a subscription holds
 * up to WEBHOOK_MAX_SECRETS of them so keys rotate without a gap.
 *
 * Errors are located (`struct hub_err.field` names the JSON member) and never
 * echo a value: a URL or secret may itself be sensitive.
 */
#ifndef HUB_WEBHOOK_H
#define HUB_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hub_err.h"

#define WEBHOOK_SECRET_MIN 24           /* bytes, after base64 decoding */
#define WEBHOOK_SECRET_MAX 64
#define WEBHOOK_MAX_SECRETS 4           /* current + next during rotation */
#define WEBHOOK_SIG_LEN 48              /* "v1," + 44 base64 chars + NUL */
#define WEBHOOK_SIG_HEADER_MAX (WEBHOOK_MAX_SECRETS * WEBHOOK_SIG_LEN)
#define WEBHOOK_URL_MAX 2048
#define WEBHOOK_MAX_TOPICS 32
#define WEBHOOK_TOPIC_MAX 64
#define WEBHOOK_MAX_FILTER_VALUES 64    /* per filter list */
#define WEBHOOK_FILTER_VALUE_MAX 128
#define WEBHOOK_PATH_MAX 1024           /* client cert, key, CA bundle */

struct webhook_secret {
    unsigned char key[WEBHOOK_SECRET_MAX];
    size_t len;
};

/*
 * Parse "whsec_<base64>" (standard alphabet, padded or not). HUB_EINVALID
 * with a static reason when the prefix is missing, the base64 is bad or the
 * key is not WEBHOOK_SECRET_MIN..WEBHOOK_SECRET_MAX bytes.
 */
int webhook_secret_parse(const char *s, struct webhook_secret *out,
                         struct hub_err *err);

/* Make a fresh secret from the OS random source: "whsec_" + base64(32 B).
 * `out` must hold at least 64 bytes. HUB_EIO if no randomness. */
int webhook_secret_generate(char *out, size_t cap);

/*
 * The webhook-signature header value for one message: one "v1,<b64>" per
 * secret, space-separated, into out[cap] (NUL-terminated). HUB_ELIMIT if it
 * does not fit, HUB_EINVALID if n == 0.
 */
int webhook_sign(const struct webhook_secret *secrets, size_t n,
                 const char *msg_id, int64_t timestamp,
                 const char *body, size_t body_len, char *out, size_t cap);

/*
 * A subscription's secrets made ready to sign many messages (the HMAC pad
 * blocks hashed once): webhook_signer_new copies what it needs from
 * secrets[n] (NULL when n is 0 or above WEBHOOK_MAX_SECRETS);
 * webhook_signer_sign writes what webhook_sign does. One thread at a time
 * (it keeps a working hash context); _free clears the key states.
 */
struct webhook_signer;
struct webhook_signer *webhook_signer_new(const struct webhook_secret *secrets,
                                          size_t n);
int webhook_signer_sign(struct webhook_signer *s, const char *msg_id,
                        int64_t timestamp, const char *body, size_t body_len,
                        char *out, size_t cap);
void webhook_signer_free(struct webhook_signer *s);

/*
 * What a receiver does: true when any "v1,..." entry of `sig_header` is the
 * signature of (msg_id, timestamp, body) under `secret` (constant-time
 * compare). The timestamp tolerance is the caller's business.
 */
bool webhook_verify(const struct webhook_secret *secret, const char *msg_id,
                    const char *timestamp, const char *body, size_t body_len,
                    const char *sig_header);

/*
 * Retry schedule: exponential-ish steps from 5 s to 24 h, WEBHOOK_RETRIES
 * retries after the first attempt, spanning more than three days even with
 * the lowest jitter; after the last failed retry the delivery is dead.
 * webhook_backoff_ms(n, r) is the nominal delay before retry n (1-based:
 * the wait after the n-th failed attempt) with jitter: `r` in [0, 1) maps to
 * a factor in [1 - WEBHOOK_JITTER, 1 + WEBHOOK_JITTER). Returns -1 when no
 * retry is left (n > WEBHOOK_RETRIES): dead letter.
 */
#define WEBHOOK_RETRIES 13
#define WEBHOOK_JITTER 0.2
int64_t webhook_backoff_ms(int failed_attempts, double r);
/* The nominal (jitter-free) schedule step, for docs and tests. */
int64_t webhook_backoff_nominal_ms(int failed_attempts);

/*
 * Retry-After (RFC 9110 10.2.3): delta-seconds or an IMF-fixdate. Returns
 * the wait in ms (>= 0) relative to now_s, or -1 when absent or malformed.
 * Capped at 24 h so a receiver cannot park a delivery for ever.
 */
int64_t webhook_retry_after_ms(const char *value, int64_t now_s);

/* Scale a schedule delay for the accelerated clock of the tests:
 * HUB_TIME_SCALE=86400 makes a day pass in a second. scale <= 1: as is. */
int64_t webhook_scale_ms(int64_t ms, double scale);

/* --- SSRF ---------------------------------------------------------------- */

enum webhook_addr_class {
    ADDR_PUBLIC = 0,
    ADDR_LOOPBACK,          /* 127/8, ::1 */
    ADDR_PRIVATE,           /* 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 */
    ADDR_LINKLOCAL,         /* 169.254/16 (cloud metadata!), fe80::/10 */
    ADDR_RESERVED,          /* 0/8, multicast, broadcast, 240/4, ::, docs */
    ADDR_INVALID,           /* not an IP literal */
};

/* Classify a numeric IPv4 or IPv6 address (IPv4-mapped IPv6 as IPv4). */
enum webhook_addr_class webhook_addr_classify(const char *ip);
/* Whether a connection to an address of that class is allowed. In the
 * production profile only public addresses are, unless allow_private (the
 * operator's explicit opt-in, which admits loopback, private and
 * link-local, never reserved). The development profile allows all but
 * reserved and invalid. `cleartext`: the URL is http://, which in the
 * production profile never goes to a public address (DESIGN.md: webhooks
 * go over TLS; only to a relay the operator allowed inside its network). */
bool webhook_addr_allowed(enum webhook_addr_class c, bool production,
                          bool allow_private, bool cleartext);
const char *webhook_addr_class_name(enum webhook_addr_class c);

/* --- topics and subscriptions ------------------------------------------- */

/*
 * A topic pattern: a known topic ("adt.admit"), a family ("adt.*"), "*.x"
 * for a kind of change across families, or "*" for everything. A pattern
 * that matches no known topic (canon_topics) is refused, so a typo cannot silently route
 * nothing.
 */
int webhook_topic_check(const char *pattern, struct hub_err *err);
/* The hub's own events (001_init.sql, "Health"): hub.health, hub.digest.
 * They are matched only by a pattern of their family ("hub.*",
 * "hub.health"), never by "*" or "*.x", and routed only to the
 * subscriptions of the organization they are about and of operators. */
extern const char *const webhook_hub_topics[];
bool webhook_topic_match(const char *pattern, const char *type);

/*
 * A webhook URL: http or https only, a host, no user:password, no
 * whitespace or control bytes, at most WEBHOOK_URL_MAX. (The address is
 * checked again at connect time, after DNS, against webhook_addr_allowed.)
 */
int webhook_url_check(const char *url, struct hub_err *err);

/*
 * The egress proxy (key webhook_proxy): "" (none), or
 * http[s]://[user[:password]@]host:port[/] -- an HTTP proxy that deliveries
 * reach their receivers through by CONNECT, over TLS to the proxy for
 * https://. The port is required (libcurl would pick 1080 otherwise); no
 * path, query or fragment; no SOCKS. At most WEBHOOK_PROXY_MAX bytes.
 * Errors never quote the value (it may hold a password).
 */
#define WEBHOOK_PROXY_MAX 1023
int webhook_proxy_check(const char *url, struct hub_err *err);
/* The proxy as a log may show it: scheme://host:port, no credentials
 * ("" for none, "-" when it does not pass webhook_proxy_check). */
void webhook_proxy_redact(const char *url, char *out, size_t n);

enum webhook_mode { WEBHOOK_MODE_WEBHOOK = 0, WEBHOOK_MODE_PULL };

/*
 * A validated subscription, as created or updated through the API or
 * hubctl. JSON in (all members optional on update, `partial`):
 *   {"url": "https://...", "topics": ["adt.*"], "mode": "webhook"|"pull",
 *    "format": "canonical"|"fhir",
 *    "filters": {"orgs": [..], "facilities": [..], "patient_classes": [..],
 *                "domains": [..], "counties": [..], "sensitivity": [..]},
 *    "secrets": ["whsec_..."], "client_cert": "/path", "client_key": "/path",
 *    "ca_bundle": "/path", "status": "active"|"paused"}
 * "format": "fhir" is refused (HUB_EUNSUPPORTED: FHIR payloads are not
 * built); every delivery is the canonical event.
 * A pull subscription has no URL and no secrets: it makes events visible in
 * the pull feed of its owner. `filters.sensitivity` lists the sensitivity
 * labels (e.g. "sud") the subscriber may receive: an event carrying any
 * label not listed is not routed (42 CFR Part 2 data is opt-in).
 * The normalized subscription is written back as JSON (`json_out`, malloc'd)
 * with only the members present, for the store to save.
 */
struct webhook_sub_check {
    bool partial;               /* update: absent members keep their value */
    const char *current;        /* update: the stored subscription's JSON
                                   (hub_sub_json), whose topics or filters
                                   stand in for those the update leaves out
                                   when the filters are checked against the
                                   topics; NULL: an update naming one of
                                   the two alone is not checked */
    bool has_url, has_topics, has_secrets;
    enum webhook_mode mode;
    char *json_out;             /* malloc'd normalized JSON; caller frees */
};

#define WEBHOOK_SUB_MAX (64 * 1024)     /* bytes of a subscription document */

/* The data dictionary whose SDOH domains a subscription's filters.domains
 * may name (another is refused, field filters.domains[i]); NULL (the
 * default): not checked. hubd sets it at start and on each reload; hubctl
 * when the dictionary loads. `d` must outlive every validation after. */
struct dict;
void webhook_sub_use_dict(const struct dict *d);

/* The address policy (webhook_addr_allowed) a subscription's URL is
 * checked by in the production profile when its host is an IP literal:
 * refused at creation or update as the dispatcher would refuse it at
 * connect time. Default: the development profile's (no check here). hubd
 * sets it at start from its profile and webhook_allow_private; hubctl
 * from $HUB_CONFIG. */
void webhook_sub_use_address_policy(bool production, bool allow_private);

int webhook_sub_validate(const char *json, size_t len,
                         struct webhook_sub_check *out, struct hub_err *err);

#endif
