/*
 * uuid.h - UUIDv7 identifiers (RFC 9562 section 5.7) in their canonical
 * lower-case text form, the ids of every HappyHorse object: users, keys,
 * videos, uploads.
 *
 * A v7 id starts with the 48-bit Unix time in milliseconds, so ids sort by
 * creation time as text and as bytes; the other 74 bits are random. Within
 * one process, ids are strictly increasing: inside one millisecond (or if
 * the clock steps back) the random field is incremented by a random step
 * instead of redrawn (RFC 9562 section 6.2, method 2).
 */
#ifndef HH_UUID_H
#define HH_UUID_H

#include <stdint.h>

#include "util/status.h"

#define UUID_STR_LEN 37 /* 36 characters + NUL */

/*
 * Writes a new UUIDv7 into out. Thread-safe. Returns HH_OK, or
 * HH_ERR_INTERNAL if the CSPRNG failed (out is then "").
 */
hh_status uuid_v7(char out[UUID_STR_LEN]);

/*
 * 1 if s is a UUID in canonical lower-case form
 * (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, hex digits 0-9a-f), else 0.
 * Any version is accepted. NULL-safe. Reads at most 37 bytes of s.
 */
int uuid_is_valid(const char *s);

/* The millisecond timestamp of a UUIDv7 id s (which must be valid), for tests and logs. */
int64_t uuid_v7_time_ms(const char *s);

#endif
