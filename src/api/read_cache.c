/*
 * read_cache.c - the direct-mapped, generation-checked cache of
 * read_cache.h. An entry owns a heap copy of its value, reused when the
 * next value of that slot fits.
 */
#include "api/read_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define STRIPES 64

typedef struct entry {
    unsigned char key[READ_CACHE_KEY_MAX];
    size_t klen;
    uint64_t gen; /* 0: empty */
    int64_t stored_ms;
    unsigned char *val;
    size_t vlen, vcap;
} entry;

struct read_cache {
    size_t mask; /* slots - 1 */
    int64_t ttl_ms;
    pthread_mutex_t lock[STRIPES];
    entry slot[];
};

read_cache *read_cache_new(size_t slots, int64_t ttl_ms)
{
    size_t n = STRIPES;
    while (n < slots)
        n *= 2;
    read_cache *rc = calloc(1, sizeof *rc + n * sizeof(entry));
    if (!rc)
        return NULL;
    rc->mask = n - 1;
    rc->ttl_ms = ttl_ms;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&rc->lock[i], NULL);
    return rc;
}

void read_cache_free(read_cache *rc)
{
    if (!rc)
        return;
    for (size_t i = 0; i <= rc->mask; i++)
        free(rc->slot[i].val);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&rc->lock[i]);
    free(rc);
}

static size_t slot_of(const read_cache *rc, const void *key, size_t klen)
{
    return (size_t)hh_fnv1a_bytes(HH_FNV1A_INIT, key, klen) & rc->mask;
}

size_t read_cache_get(read_cache *rc, const void *key, size_t klen, uint64_t gen, int64_t now_ms,
                      void *out, size_t cap)
{
    if (!gen || klen > READ_CACHE_KEY_MAX)
        return 0;
    size_t i = slot_of(rc, key, klen);
    entry *e = &rc->slot[i];
    size_t got = 0;
    pthread_mutex_lock(&rc->lock[i % STRIPES]);
    if (e->gen == gen && e->klen == klen && !memcmp(e->key, key, klen) &&
        now_ms - e->stored_ms < rc->ttl_ms && now_ms >= e->stored_ms && e->vlen <= cap) {
        memcpy(out, e->val, e->vlen);
        got = e->vlen;
    }
    pthread_mutex_unlock(&rc->lock[i % STRIPES]);
    return got;
}

void read_cache_put(read_cache *rc, const void *key, size_t klen, uint64_t gen, int64_t now_ms,
                    const void *val, size_t vlen)
{
    if (!gen || klen > READ_CACHE_KEY_MAX || !vlen)
        return;
    size_t i = slot_of(rc, key, klen);
    entry *e = &rc->slot[i];
    pthread_mutex_lock(&rc->lock[i % STRIPES]);
    if (vlen > e->vcap) {
        unsigned char *v = realloc(e->val, vlen);
        if (!v) {
            e->gen = 0; /* keep nothing rather than something stale */
            goto out;
        }
        e->val = v;
        e->vcap = vlen;
    }
    memcpy(e->key, key, klen);
    e->klen = klen;
    memcpy(e->val, val, vlen);
    e->vlen = vlen;
    e->gen = gen;
    e->stored_ms = now_ms;
out:
    pthread_mutex_unlock(&rc->lock[i % STRIPES]);
}
