/*
 * tls_reload_test.c - a renewed server certificate without a restart: after
 * SIGHUP, hubd's new TLS connections (MLLP over TLS and HTTPS) get the
 * certificate now in tls_cert while the connections already open go on
 * with theirs; a file that does not load keeps the certificate in use. The
 * expiry gauge of /metrics follows what each listener presents.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../lib/hubproc.h"
#include "../lib/testdb.h"

static struct hubproc hub;

static void start(void)
{
    cr_assert_eq(hub_start(&hub, NULL, false), 0, "hubd did not start");
}

static void stop(void)
{
    hub_cleanup(&hub);
}

/* lower-case hex SHA-256 of x's DER */
static void fingerprint(X509 *x, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    cr_assert_eq(X509_digest(x, EVP_sha256(), md, &n), 1);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The certificate in the hub's certs/server.crt: its fingerprint and its
 * notAfter as Unix time. */
static long long file_certificate(char fp[65])
{
    FILE *f = fopen(hub_path(&hub, "certs/server.crt"), "r");
    cr_assert_not_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    cr_assert_not_null(x);
    fingerprint(x, fp);
    struct tm tm;
    cr_assert_eq(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm), 1);
    X509_free(x);
    return (long long)timegm(&tm);
}

/* The fingerprint of the certificate a new TLS connection to `port` is
 * shown (verified against the hub CA); the connection is kept in c. */
static void presented(struct mllp_client *c, int port, const char *org,
                      char fp[65])
{
    cr_assert_eq(mllp_connect(c, port, &hub, org), 0, "TLS handshake");
    X509 *x = SSL_get1_peer_certificate(c->ssl);
    cr_assert_not_null(x);
    fingerprint(x, fp);
    X509_free(x);
}

/* A new server key and certificate for localhost, valid `days`, signed by
 * the hub's development CA, moved over server.crt and server.key. */
static void renew_certificate(int days)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,"
             "IP:::1\\nextendedKeyUsage=serverAuth\\n' > renew.ext && "
             "openssl req -new -newkey ec -pkeyopt "
             "ec_paramgen_curve:prime256v1 -nodes -keyout renew.key "
             "-out renew.csr -subj /CN=localhost 2>/dev/null && "
             "openssl x509 -req -in renew.csr -CA ca.crt -CAkey ca.key "
             "-CAcreateserial -days %d -sha256 -extfile renew.ext "
             "-out renew.crt 2>/dev/null && "
             "mv renew.key server.key && mv renew.crt server.crt",
             hub_path(&hub, "certs"), days);
    cr_assert_eq(system(cmd), 0, "openssl could not renew the certificate");
}

/* The value of hub_tls_certificate_expiry_seconds{listener=...}, -1 when
 * the line is not there. */
static long long expiry_gauge(const char *listener)
{
    struct http_resp r;
    char key[96];
    long long v = -1;

    cr_assert_eq(http_call(&hub, true, "GET", "/metrics", NULL, NULL, NULL,
                           0, NULL, &r), 0);
    cr_assert_eq(r.status, 200);
    snprintf(key, sizeof(key),
             "hub_tls_certificate_expiry_seconds{listener=\"%s\"} ", listener);
    const char *p = strstr(r.body, key);
    if (p)
        v = strtoll(p + strlen(key), NULL, 10);
    http_resp_free(&r);
    return v;
}

Test(tls, sighup_loads_a_renewed_certificate_and_open_connections_keep_theirs,
     .init = start, .fini = stop, .timeout = 60)
{
    struct mllp_client old, fresh, https;
    char first[65], renewed[65], fp[65], msg[2048], ack[4096], code[3],
        ctrl[64];

    long long first_expiry = file_certificate(first);
    presented(&old, hub.mllps, "hosp", fp);
    cr_expect_str_eq(fp, first);
    cr_expect_eq(expiry_gauge("mllps"), first_expiry);
    cr_expect_eq(expiry_gauge("https"), first_expiry);

    renew_certificate(30);
    long long renewed_expiry = file_certificate(renewed);
    cr_assert_str_neq(renewed, first);
    cr_assert_neq(renewed_expiry, first_expiry);
    cr_assert_eq(kill(hub.pid, SIGHUP), 0);
    cr_assert(hub_wait_log(&hub, "hubd.tls_reloaded", 1, 10000),
              "no reload logged");

    presented(&fresh, hub.mllps, "hosp", fp);
    cr_expect_str_eq(fp, renewed, "MLLP/TLS still shows the old certificate");
    presented(&https, hub.https, "", fp);
    cr_expect_str_eq(fp, renewed, "HTTPS still shows the old certificate");
    mllp_close(&https);
    cr_expect_eq(expiry_gauge("mllps"), renewed_expiry);
    cr_expect_eq(expiry_gauge("https"), renewed_expiry);

    /* both connections carry messages: the one opened before the reload
     * with the context it was accepted with */
    struct mllp_client *conns[2] = { &old, &fresh };
    for (int i = 0; i < 2; i++) {
        snprintf(ctrl, sizeof(ctrl), "RELOAD-%d", i);
        hl7_sample(msg, sizeof(msg), ctrl, "MRN-R");
        cr_assert_eq(mllp_send(conns[i], msg), 0);
        cr_assert_gt(mllp_read(conns[i], ack, sizeof(ack), 10000), 0);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_expect_str_eq(code, "AA", "ack on connection %d: %s", i, ack);
        mllp_close(conns[i]);
    }
    cr_expect_eq(hub_sql_long(&hub, "select count(*) from messages where "
                              "idem_key like 'RELOAD-%'"), 2);
}

Test(tls, a_file_that_does_not_load_keeps_the_certificate_in_use,
     .init = start, .fini = stop, .timeout = 60)
{
    struct mllp_client c;
    char first[65], fp[65];
    long long first_expiry = file_certificate(first);

    /* a renewal caught half way: the new certificate with a key that is
     * not a key (as when the key's copy has not finished) */
    FILE *f = fopen(hub_path(&hub, "certs/server.key"), "w");
    cr_assert_not_null(f);
    fputs("-----BEGIN PRIVATE KEY-----\ntruncated\n", f);
    fclose(f);
    cr_assert_eq(kill(hub.pid, SIGHUP), 0);
    cr_assert(hub_wait_log(&hub, "hubd.tls_reload_failed", 1, 10000),
              "no failed reload logged");
    cr_expect_eq(hub_log_count(&hub, "hubd.tls_reloaded"), 0);

    presented(&c, hub.mllps, "hosp", fp);
    cr_expect_str_eq(fp, first, "a broken file replaced the certificate");
    mllp_close(&c);
    presented(&c, hub.https, "", fp);
    cr_expect_str_eq(fp, first);
    mllp_close(&c);
    cr_expect_eq(expiry_gauge("https"), first_expiry);
    cr_expect(hub_wait_status(&hub, "/healthz", 200, 5000));
}
