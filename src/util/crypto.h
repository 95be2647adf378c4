/*
 * crypto.h - the few cryptographic primitives HappyHorse needs, over
 * OpenSSL libcrypto: CSPRNG bytes, SHA-256, HMAC-SHA256, a constant-time
 * comparison, and the two text encodings we put secrets and digests in
 * (lower-case hex, and base64url without padding, RFC 4648 section 5).
 *
 * Nothing here allocates; every output goes to a caller buffer whose size
 * is checked. Nothing here logs.
 */
#ifndef HH_CRYPTO_H
#define HH_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

#define CRYPTO_SHA256_LEN 32

/* Characters (without NUL) of the base64url form of n bytes, unpadded. */
#define CRYPTO_B64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/*
 * Fills buf with n bytes from the OS-seeded CSPRNG (RAND_bytes).
 * Returns HH_OK, or HH_ERR_INTERNAL if the generator failed (buf is then
 * unspecified and must not be used).
 */
hh_status crypto_random(void *buf, size_t n);

/* SHA-256 of data[0..n) into out. data may be NULL when n == 0. */
void crypto_sha256(const void *data, size_t n, uint8_t out[CRYPTO_SHA256_LEN]);

/* HMAC-SHA256 of data under key into out. Either pointer may be NULL when its length is 0. */
void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                        uint8_t out[CRYPTO_SHA256_LEN]);

/*
 * Compares a and b (n bytes each) in time that depends only on n.
 * Returns 1 when equal, 0 otherwise.
 */
int crypto_equal(const void *a, const void *b, size_t n);

/*
 * Writes the lower-case hex of in[0..n) and a NUL into out (needs 2n+1
 * bytes). Returns HH_OK or HH_ERR_LIMIT (out too small; out then holds "").
 */
hh_status crypto_hex_encode(const uint8_t *in, size_t n, char *out, size_t outsize);

/*
 * Decodes exactly len hex digits (either case) from in into out. *outlen
 * gets len/2. Returns HH_ERR_INVALID for an odd length or a non-hex
 * character, HH_ERR_LIMIT when out is too small.
 */
hh_status crypto_hex_decode(const char *in, size_t len, uint8_t *out, size_t outsize,
                            size_t *outlen);

/*
 * Writes the unpadded base64url of in[0..n) and a NUL into out (needs
 * CRYPTO_B64URL_LEN(n) + 1 bytes). Returns HH_OK or HH_ERR_LIMIT.
 */
hh_status crypto_b64url_encode(const uint8_t *in, size_t n, char *out, size_t outsize);

/*
 * Decodes len characters of unpadded base64url. Refuses ('=' included)
 * any character outside A-Z a-z 0-9 - _, a length of 1 mod 4 and
 * non-canonical trailing bits, with HH_ERR_INVALID; HH_ERR_LIMIT when out
 * is too small. *outlen gets the decoded size.
 */
hh_status crypto_b64url_decode(const char *in, size_t len, uint8_t *out, size_t outsize,
                               size_t *outlen);

/*
 * The padded standard base64 (RFC 4648 section 4) of in[0..n), as data:
 * URLs want it; OpenSSL's EVP_EncodeBlock does the work. malloc'd and
 * NUL-terminated, caller frees; NULL when memory runs out.
 */
char *crypto_b64_encode_new(const void *in, size_t n);

#define CRYPTO_SEAL_KEY_LEN  32 /* AES-256 */
#define CRYPTO_SEAL_OVERHEAD 28 /* a 12-byte nonce before the text, a 16-byte tag after */

/*
 * Encrypts in[0..n) under key with AES-256-GCM and a fresh random nonce
 * into out: nonce, ciphertext, tag (n + CRYPTO_SEAL_OVERHEAD bytes, which
 * outsize must hold). *outlen gets the length. HH_ERR_LIMIT when out is
 * too small, HH_ERR_INTERNAL when OpenSSL fails.
 */
hh_status crypto_seal(const uint8_t key[CRYPTO_SEAL_KEY_LEN], const void *in, size_t n,
                      uint8_t *out, size_t outsize, size_t *outlen);
/*
 * Decrypts what crypto_seal made: in[0..n) into out (n -
 * CRYPTO_SEAL_OVERHEAD bytes). HH_ERR_INVALID when it is too short or was
 * not sealed under key or was altered (out then holds nothing usable),
 * HH_ERR_LIMIT when out is too small.
 */
hh_status crypto_open(const uint8_t key[CRYPTO_SEAL_KEY_LEN], const uint8_t *in, size_t n,
                      uint8_t *out, size_t outsize, size_t *outlen);

/* 1 if c is in the base64url alphabet, else 0. */
int crypto_b64url_char(int c);

#endif
