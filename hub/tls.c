/*
 * tls.c - SSL_CTX set-up and client-certificate fingerprints.
 */
#include "tls.h"

#include <stdio.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/hub_err.h"

SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *ca,
                        bool require_client_cert, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        snprintf(err, errlen, "SSL_CTX_new failed");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
                                 SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* ECDHE + AEAD only for TLS 1.2; TLS 1.3 suites are all fine */
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(err, errlen, "%s: cannot load the server certificate", cert);
        goto fail;
    }
    /* read apart from the check, so that a key that is not the
     * certificate's (a renewal's files mixed up) is not called unreadable */
    BIO *kb = BIO_new_file(key, "r");
    EVP_PKEY *pk = kb ? PEM_read_bio_PrivateKey(
                            kb, NULL, SSL_CTX_get_default_passwd_cb(ctx),
                            SSL_CTX_get_default_passwd_cb_userdata(ctx))
                      : NULL;
    BIO_free(kb);
    if (pk == NULL) {
        snprintf(err, errlen, "%s: cannot load the private key", key);
        goto fail;
    }
    int used = SSL_CTX_use_PrivateKey(ctx, pk);
    EVP_PKEY_free(pk);              /* the context holds its own reference */
    if (used != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "%s: not the private key of %s", key, cert);
        goto fail;
    }
    if (ca && *ca) {
        if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
            snprintf(err, errlen, "%s: cannot load the CA", ca);
            goto fail;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx,
                           SSL_VERIFY_PEER |
                               (require_client_cert
                                    ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                    : 0),
                           NULL);
        SSL_CTX_set_verify_depth(ctx, 4);
    } else if (require_client_cert) {
        snprintf(err, errlen, "client certificates need tls_ca");
        goto fail;
    }
    /* sessions resumed only within this process */
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"hubd", 4);
    return ctx;
fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

/* lower-case hex SHA-256 of x's DER */
static bool fingerprint_of(X509 *x, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
        return false;
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return true;
}

int tls_peer_fingerprint(SSL *ssl, char out[65])
{
    X509 *x = ssl ? SSL_get1_peer_certificate(ssl) : NULL;

    if (x == NULL)
        return HUB_ENOTFOUND;
    bool ok = SSL_get_verify_result(ssl) == X509_V_OK &&
              fingerprint_of(x, out);
    X509_free(x);
    return ok ? HUB_OK : HUB_EAUTH;
}

int tls_ctx_certificate(SSL_CTX *ctx, char fingerprint[65],
                        long long *not_after)
{
    X509 *x = ctx ? SSL_CTX_get0_certificate(ctx) : NULL;
    struct tm tm;

    if (x == NULL)
        return HUB_ENOTFOUND;
    if (!fingerprint_of(x, fingerprint) ||
        ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
        return HUB_EINVALID;
    *not_after = (long long)timegm(&tm);
    return HUB_OK;
}
