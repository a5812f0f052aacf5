/*
 * tls.h - server-side OpenSSL contexts: TLS 1.2 or newer, the hub's server
 * certificate, and client certificates verified against the hub CA.
 * Identity comes from the client certificate's SHA-256 fingerprint (of the
 * DER), looked up with store_auth_cert; never from a subject name alone.
 */
#ifndef HUB_TLS_H
#define HUB_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/hub_err.h"
#include <openssl/ssl.h>

/*
 * A context for one listener. `require_client_cert`: the handshake fails
 * without a certificate that verifies against `ca` (MLLP over TLS);
 * otherwise a certificate is requested and, when sent, verified (HTTPS).
 * NULL on failure with a reason (no secrets) in err.
 */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *ca,
                        bool require_client_cert, char *err, size_t errlen);

/* Lower-case hex SHA-256 of the peer certificate's DER; HUB_ENOTFOUND when
 * the peer sent none. */
int tls_peer_fingerprint(SSL *ssl, char out[65]);

/*
 * The context's own (server) certificate: its SHA-256 fingerprint, as
 * tls_peer_fingerprint gives a peer's, and its notAfter as Unix time.
 * A certificate is public: both may be logged. HUB_ENOTFOUND without one.
 */
int tls_ctx_certificate(SSL_CTX *ctx, char fingerprint[65],
                        long long *not_after);

#endif
