/*
 * password.c - Argon2id hashing and verification over libargon2, as
 * declared in password.h. The salt comes from the same CSPRNG as every
 * other secret (crypto_random), not from libargon2.
 */
#include "util/password.h"
#include "util/crypto.h"

#include <argon2.h>
#include <string.h>

#define T_COST   2
#define M_COST   (19 * 1024) /* KiB */
#define PARALLEL 1
#define SALT_LEN 16
#define HASH_LEN 32

hh_status password_hash(const char *password, char *out, size_t outsize)
{
    uint8_t salt[SALT_LEN];
    size_t len = strnlen(password, PASSWORD_MAX_LEN + 1);
    if (outsize > 0)
        out[0] = '\0';
    if (len > PASSWORD_MAX_LEN)
        return HH_ERR_LIMIT;
    if (len < PASSWORD_MIN_LEN)
        return HH_ERR_INVALID;
    if (outsize < argon2_encodedlen(T_COST, M_COST, PARALLEL, SALT_LEN, HASH_LEN, Argon2_id))
        return HH_ERR_LIMIT;
    if (crypto_random(salt, sizeof salt))
        return HH_ERR_INTERNAL;
    int rc = argon2id_hash_encoded(T_COST, M_COST, PARALLEL, password, len, salt, sizeof salt,
                                   HASH_LEN, out, outsize);
    if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
        return HH_ERR_NOMEM;
    if (rc != ARGON2_OK) {
        out[0] = '\0';
        return HH_ERR_INTERNAL;
    }
    return HH_OK;
}

hh_status password_verify(const char *encoded, const char *password)
{
    size_t len = strnlen(password, PASSWORD_MAX_LEN + 1);
    if (len > PASSWORD_MAX_LEN || !encoded || strncmp(encoded, "$argon2id$", 10) != 0)
        return HH_ERR_INVALID;
    int rc = argon2id_verify(encoded, password, len);
    if (rc == ARGON2_OK)
        return HH_OK;
    if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
        return HH_ERR_NOMEM;
    return HH_ERR_INVALID;
}
