/*
 * password.h - password hashing for dashboard sign-in and operator-created
 * accounts: Argon2id (libargon2) in its self-describing encoded form
 * ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"), so a later change of
 * cost settings still verifies old hashes.
 *
 * Cost: t=2 passes over m=19 MiB with p=1 lane, the OWASP minimum for
 * Argon2id; about 30-60 ms per hash on one core.
 */
#ifndef HH_PASSWORD_H
#define HH_PASSWORD_H

#include <stddef.h>

#include "util/status.h"

#define PASSWORD_MIN_LEN  8    /* bytes; shorter passwords are refused by password_hash */
#define PASSWORD_MAX_LEN  1024 /* bytes; the ceiling on anything we hash */
#define PASSWORD_HASH_MAX 128  /* buffer size for an encoded hash, NUL included */

/*
 * Hashes password (NUL-terminated) with a fresh 16-byte random salt and
 * writes the encoded form into out (PASSWORD_HASH_MAX bytes suffice).
 * Returns HH_ERR_INVALID when the password is shorter than
 * PASSWORD_MIN_LEN, HH_ERR_LIMIT when longer than PASSWORD_MAX_LEN or out
 * is too small, HH_ERR_NOMEM / HH_ERR_INTERNAL when Argon2 fails.
 */
hh_status password_hash(const char *password, char *out, size_t outsize);

/*
 * Checks password against an encoded hash from password_hash. Returns
 * HH_OK on a match; HH_ERR_INVALID on a mismatch, a malformed hash or an
 * over-long password; HH_ERR_NOMEM if Argon2 could not allocate.
 */
hh_status password_verify(const char *encoded, const char *password);

#endif
