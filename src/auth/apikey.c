/*
 * apikey.c - generation, hashing and shape checking of API keys, as
 * declared in apikey.h.
 */
#include "auth/apikey.h"
#include "util/crypto.h"

#include <openssl/crypto.h>
#include <string.h>

hh_status apikey_generate(char key[APIKEY_BUF])
{
    uint8_t secret[APIKEY_SECRET_BYTES];
    key[0] = '\0';
    if (crypto_random(secret, sizeof secret))
        return HH_ERR_INTERNAL;
    memcpy(key, APIKEY_TAG, APIKEY_TAG_LEN);
    hh_status rc = crypto_b64url_encode(secret, sizeof secret, key + APIKEY_TAG_LEN,
                                        APIKEY_BUF - APIKEY_TAG_LEN);
    OPENSSL_cleanse(secret, sizeof secret);
    if (rc)
        key[0] = '\0';
    return rc;
}

void apikey_hash(const char *key, uint8_t out[CRYPTO_SHA256_LEN])
{
    crypto_sha256(key, strnlen(key, APIKEY_BUF), out);
}

void apikey_prefix(const char *key, char out[APIKEY_PREFIX_BUF])
{
    size_t n = strnlen(key, APIKEY_PREFIX_LEN);
    memcpy(out, key, n);
    out[n] = '\0';
}

int apikey_is_well_formed(const char *token)
{
    if (!token || strnlen(token, APIKEY_BUF) != APIKEY_LEN)
        return 0;
    if (memcmp(token, APIKEY_TAG, APIKEY_TAG_LEN) != 0)
        return 0;
    const char *secret = token + APIKEY_TAG_LEN;
    for (size_t i = 0; i < APIKEY_SECRET_CHARS; i++)
        if (!crypto_b64url_char((unsigned char)secret[i]))
            return 0;
    /* 32 bytes fill 42 characters and 4 bits of the 43rd; its low 2 bits are zero. */
    static const char last_ok[] = "AEIMQUYcgkosw048";
    return strchr(last_ok, secret[APIKEY_SECRET_CHARS - 1]) != NULL;
}
