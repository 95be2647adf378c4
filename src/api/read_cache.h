/*
 * read_cache.h - short-lived copies of what a hot read route read from the
 * store (a key's principal, a video's status JSON), so polling does not
 * cost a query each time. An entry is used only while the store's
 * generation (store_generation) is the one it was read under, so a commit
 * by any process invalidates it at once, and never past its time to live
 * (a safety net for a writer that died between its commit and the bump).
 *
 * Direct-mapped: a key has one slot (FNV-1a of its bytes), a newer entry
 * replaces an older one. Slots are guarded by striped locks, so two
 * threads contend only on the same stripe, for a copy's length.
 */
#ifndef HH_READ_CACHE_H
#define HH_READ_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define READ_CACHE_KEY_MAX 80 /* bytes of a key */

typedef struct read_cache read_cache;

/* slots (rounded up to a power of two), entries live at most ttl_ms. NULL when out of memory. */
read_cache *read_cache_new(size_t slots, int64_t ttl_ms);
void read_cache_free(read_cache *rc);

/*
 * Copies the value stored under key into out (cap bytes) when there is one
 * of generation gen, younger than the time to live at now_ms, and fits:
 * returns its length. 0 otherwise (and always for gen 0 or an empty value).
 */
size_t read_cache_get(read_cache *rc, const void *key, size_t klen, uint64_t gen, int64_t now_ms,
                      void *out, size_t cap);

/*
 * Stores a copy of val under key, tagged with gen (read before the store
 * read that produced val) and now_ms. Nothing for gen 0, a key over
 * READ_CACHE_KEY_MAX, or when out of memory (the cache is only a cache).
 */
void read_cache_put(read_cache *rc, const void *key, size_t klen, uint64_t gen, int64_t now_ms,
                    const void *val, size_t vlen);

#endif
