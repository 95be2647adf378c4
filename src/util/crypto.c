/*
 * crypto.c - CSPRNG, digests, constant-time compare and encodings, as
 * declared in crypto.h. The hash functions use OpenSSL's one-shot EVP and
 * HMAC calls; the encoders are written here because OpenSSL's base64 is
 * the padded, '+/' alphabet and adds newlines.
 */
#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

hh_status crypto_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    /* RAND_bytes takes an int; feed large requests in slices. */
    while (n > 0) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        if (RAND_bytes(p, chunk) != 1)
            return HH_ERR_INTERNAL;
        p += chunk;
        n -= (size_t)chunk;
    }
    return HH_OK;
}

/*
 * SHA-256 fetched from the provider once: EVP_sha256() makes every digest
 * look the implementation up again, under a lock all threads share (every
 * API request hashes its key).
 */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_fetched; /* kept for the process's life */

static void sha256_fetch(void)
{
    sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void crypto_sha256(const void *data, size_t n, uint8_t out[CRYPTO_SHA256_LEN])
{
    static const unsigned char empty[1];
    unsigned int len = 0;
    pthread_once(&sha256_once, sha256_fetch);
    /* EVP_Digest with a fixed algorithm can only fail on allocation, which
     * OpenSSL 3 does not do for a one-shot SHA-256; an all-zero digest
     * would be a safe failure value regardless. */
    if (EVP_Digest(data ? data : empty, n, out, &len,
                   sha256_fetched ? sha256_fetched : EVP_sha256(), NULL) != 1)
        memset(out, 0, CRYPTO_SHA256_LEN);
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                        uint8_t out[CRYPTO_SHA256_LEN])
{
    static const unsigned char empty[1];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key ? key : empty, (int)keylen, data ? data : empty, n, out, &len))
        memset(out, 0, CRYPTO_SHA256_LEN);
}

int crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

hh_status crypto_hex_encode(const uint8_t *in, size_t n, char *out, size_t outsize)
{
    static const char digits[] = "0123456789abcdef";
    if (outsize < 1)
        return HH_ERR_LIMIT;
    if (n > (outsize - 1) / 2) {
        out[0] = '\0';
        return HH_ERR_LIMIT;
    }
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
    return HH_OK;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

hh_status crypto_hex_decode(const char *in, size_t len, uint8_t *out, size_t outsize,
                            size_t *outlen)
{
    if (len % 2)
        return HH_ERR_INVALID;
    if (len / 2 > outsize)
        return HH_ERR_LIMIT;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value(in[i]), lo = hex_value(in[i + 1]);
        if (hi < 0 || lo < 0)
            return HH_ERR_INVALID;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = len / 2;
    return HH_OK;
}

hh_status crypto_b64url_encode(const uint8_t *in, size_t n, char *out, size_t outsize)
{
    if (outsize < 1)
        return HH_ERR_LIMIT;
    if (n > outsize || CRYPTO_B64URL_LEN(n) + 1 > outsize) {
        out[0] = '\0';
        return HH_ERR_LIMIT;
    }
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
    return HH_OK;
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int crypto_b64url_char(int c)
{
    return c >= 0 && c <= 127 && b64url_value((char)c) >= 0;
}

hh_status crypto_b64url_decode(const char *in, size_t len, uint8_t *out, size_t outsize,
                               size_t *outlen)
{
    if (len % 4 == 1)
        return HH_ERR_INVALID;
    size_t need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (need > outsize)
        return HH_ERR_LIMIT;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(in[i]);
        if (v < 0)
            return HH_ERR_INVALID;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero, so every byte string has one encoding. */
    if (bits && (acc & ((1u << bits) - 1)))
        return HH_ERR_INVALID;
    *outlen = o;
    return HH_OK;
}

char *crypto_b64_encode_new(const void *in, size_t n)
{
    if (n > (size_t)INT32_MAX / 4 * 3)
        return NULL; /* EVP_EncodeBlock takes an int */
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return out;
}

#define SEAL_NONCE 12
#define SEAL_TAG   16

/* One AES-256-GCM pass over in[0..n) into out: encrypting with tag out, or decrypting checking tag.
 */
static int gcm(int enc, const uint8_t *key, const uint8_t *nonce, const uint8_t *in, size_t n,
               uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, ok = ctx && n <= INT32_MAX &&
                      EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1 &&
                      EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG, tag) == 1;
    if (ok)
        ok = EVP_CipherFinal_ex(ctx, out + len, &len) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

hh_status crypto_seal(const uint8_t key[CRYPTO_SEAL_KEY_LEN], const void *in, size_t n,
                      uint8_t *out, size_t outsize, size_t *outlen)
{
    if (outsize < n + CRYPTO_SEAL_OVERHEAD)
        return HH_ERR_LIMIT;
    hh_status rc = crypto_random(out, SEAL_NONCE);
    if (rc)
        return rc;
    if (!gcm(1, key, out, in, n, out + SEAL_NONCE, out + SEAL_NONCE + n))
        return HH_ERR_INTERNAL;
    *outlen = n + CRYPTO_SEAL_OVERHEAD;
    return HH_OK;
}

hh_status crypto_open(const uint8_t key[CRYPTO_SEAL_KEY_LEN], const uint8_t *in, size_t n,
                      uint8_t *out, size_t outsize, size_t *outlen)
{
    if (n < CRYPTO_SEAL_OVERHEAD)
        return HH_ERR_INVALID;
    size_t len = n - CRYPTO_SEAL_OVERHEAD;
    if (outsize < len)
        return HH_ERR_LIMIT;
    uint8_t tag[SEAL_TAG];
    memcpy(tag, in + SEAL_NONCE + len, SEAL_TAG);
    if (!gcm(0, key, in, in + SEAL_NONCE, len, out, tag)) {
        OPENSSL_cleanse(out, len);
        return HH_ERR_INVALID;
    }
    *outlen = len;
    return HH_OK;
}
