/*
 * apikey.h - the customer API keys of contract section 1.
 *
 * A key is "hh_live_" followed by the unpadded base64url of 32 bytes from
 * the CSPRNG (43 characters), 51 characters in all. The server keeps only
 * its SHA-256 (the key has 256 bits of entropy, so a fast hash is right)
 * and a display prefix, "hh_live_" plus the first 4 characters of the
 * secret. The full key exists only in the answer that created it.
 */
#ifndef HH_APIKEY_H
#define HH_APIKEY_H

#include <stddef.h>
#include <stdint.h>

#include "util/crypto.h"
#include "util/status.h"

#define APIKEY_TAG          "hh_live_"
#define APIKEY_TAG_LEN      8
#define APIKEY_SECRET_BYTES 32
#define APIKEY_SECRET_CHARS 43
#define APIKEY_LEN          (APIKEY_TAG_LEN + APIKEY_SECRET_CHARS) /* 51 */
#define APIKEY_BUF          (APIKEY_LEN + 1)
#define APIKEY_PREFIX_LEN   (APIKEY_TAG_LEN + 4) /* "hh_live_AbCd" */
#define APIKEY_PREFIX_BUF   (APIKEY_PREFIX_LEN + 1)

/*
 * Makes a new key into key (NUL-terminated). The caller shows it once and
 * then wipes it. Returns HH_OK or HH_ERR_INTERNAL if the CSPRNG failed.
 */
hh_status apikey_generate(char key[APIKEY_BUF]);

/* SHA-256 of the whole key text (tag included): what the store indexes. */
void apikey_hash(const char *key, uint8_t out[CRYPTO_SHA256_LEN]);

/* Copies the display prefix of a well-formed key into out. */
void apikey_prefix(const char *key, char out[APIKEY_PREFIX_BUF]);

/*
 * 1 if token has the exact shape of a key we issue (tag, length, alphabet,
 * canonical last character), else 0. A cheap filter before any database
 * lookup; it says nothing about whether the key exists. NULL-safe, reads
 * at most APIKEY_BUF bytes.
 */
int apikey_is_well_formed(const char *token);

#endif
