/*
 * presign.h - signed upload URLs for local storage. The URL carries an
 * expiry and an HMAC-SHA256, made with a server secret, over everything
 * the PUT must match: method, key, content type, exact length and expiry.
 * (An S3 backend signs with SigV4 instead; the API only sees a URL.)
 *
 * The secret is 32 CSPRNG bytes in <data>/secret.key (mode 0600), made on
 * first start. Every node of a cluster must share it.
 */
#ifndef HH_PRESIGN_H
#define HH_PRESIGN_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

#define PRESIGN_SECRET_LEN 32
#define PRESIGN_SIG_HEX    65 /* 64 hex digits + NUL */

/* Loads <data_dir>/secret.key, creating it when missing. Refuses a group/world-readable file. */
hh_status presign_secret_load(const char *data_dir, uint8_t secret[PRESIGN_SECRET_LEN]);

/* The hex signature of a PUT of key with content_type and size, valid until expires (Unix s). */
void presign_sign(const uint8_t secret[PRESIGN_SECRET_LEN], const char *key,
                  const char *content_type, int64_t size, int64_t expires,
                  char sig[PRESIGN_SIG_HEX]);

/*
 * Checks a PUT against its URL at time now_s (Unix seconds; a parameter so
 * tests control the clock): HH_OK when sig (hex text from the URL) is the
 * signature of these values and expires >= now_s; HH_ERR_INVALID for a
 * wrong, malformed or missing signature; HH_ERR_LIMIT for a good signature
 * whose time is up. The comparison is constant-time.
 */
hh_status presign_check(const uint8_t secret[PRESIGN_SECRET_LEN], const char *key,
                        const char *content_type, int64_t size, int64_t expires, const char *sig,
                        int64_t now_s);

#endif
