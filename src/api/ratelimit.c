/*
 * ratelimit.c - token buckets in a chained hash table under one mutex.
 * Tokens are kept as integers in units of 1/WINDOW_MS of a token, so a
 * bucket refilling R tokens a minute gains exactly R units per millisecond:
 * refill is exact integer arithmetic with no rounding lost between frequent
 * calls. A bucket's capacity (its burst) is R unless the caller asks for
 * less (ratelimit_take_burst). A sweep evicts buckets
 * that have been full (idle) for over a window whenever the table doubles past its last swept size,
 * which keeps the cost amortised O(1) per call.
 *
 * The store's buckets (store_rate_take, for nodes sharing a PostgreSQL
 * store) count in the same units, so one conversion (fill_result) turns
 * either kind of bucket into a ratelimit_result. Bursts and rates are cut
 * to STORE_RATE_MAX for both, which keeps every product of the arithmetic
 * far inside 64 bits.
 */
#include "api/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define NBUCKETS  4096 /* hash chains; keys per chain stay short for any real load */
#define WINDOW_MS 60000
#define UNIT      WINDOW_MS /* units per token */

_Static_assert(UNIT == STORE_RATE_UNIT, "the store's buckets count in the same units");

typedef struct bucket {
    struct bucket *next;
    int64_t tokens; /* in units: 0 .. capacity*UNIT */
    int64_t updated_ms;
    int capacity; /* tokens when full (the burst) */
    int rate;     /* tokens gained a minute = units gained a millisecond */
    char key[];
} bucket;

struct ratelimit {
    pthread_mutex_t lock;
    bucket *chains[NBUCKETS];
    unsigned count;
    unsigned sweep_at;
};

ratelimit *ratelimit_new(void)
{
    ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    pthread_mutex_init(&rl->lock, NULL);
    rl->sweep_at = 1024;
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < NBUCKETS; i++) {
        bucket *b = rl->chains[i];
        while (b) {
            bucket *next = b->next;
            free(b);
            b = next;
        }
    }
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

/* FNV-1a: keys are already uniformly random ids, any decent mix will do. */
static size_t hash_key(const char *s)
{
    return (size_t)(hh_fnv1a(HH_FNV1A_INIT, s) % NBUCKETS);
}

static void refresh(bucket *b, int64_t now_ms)
{
    if (now_ms > b->updated_ms) {
        int64_t t = b->tokens + (now_ms - b->updated_ms) * b->rate;
        int64_t full = (int64_t)b->capacity * UNIT;
        b->tokens = t > full ? full : t;
        b->updated_ms = now_ms;
    }
}

static void sweep(ratelimit *rl, int64_t now_ms)
{
    for (size_t i = 0; i < NBUCKETS; i++) {
        bucket **pp = &rl->chains[i];
        while (*pp) {
            bucket *b = *pp;
            refresh(b, now_ms);
            /* A full bucket is exactly what a new one would be: dropping it loses nothing. */
            if (b->tokens == (int64_t)b->capacity * UNIT) {
                *pp = b->next;
                free(b);
                rl->count--;
            } else {
                pp = &b->next;
            }
        }
    }
    rl->sweep_at = rl->count * 2 > 1024 ? rl->count * 2 : 1024;
}

static bucket *find_or_add(ratelimit *rl, const char *key, int burst, int per_minute,
                           int64_t now_ms)
{
    size_t h = hash_key(key);
    for (bucket *b = rl->chains[h]; b; b = b->next)
        if (!strcmp(b->key, key))
            return b;
    if (rl->count >= rl->sweep_at)
        sweep(rl, now_ms);
    size_t len = strlen(key);
    bucket *b = malloc(sizeof *b + len + 1);
    if (!b)
        return NULL;
    memcpy(b->key, key, len + 1);
    b->capacity = burst;
    b->rate = per_minute;
    b->tokens = (int64_t)burst * UNIT;
    b->updated_ms = now_ms;
    b->next = rl->chains[h];
    rl->chains[h] = b;
    rl->count++;
    return b;
}

/* Seconds (rounded up) until a bucket of tokens units, gaining rate a ms, holds need units. */
static int seconds_until(int64_t tokens, int rate, int64_t need)
{
    int64_t missing = need - tokens;
    if (missing <= 0)
        return 0;
    int64_t ms = (missing + rate - 1) / rate;
    return (int)((ms + 999) / 1000);
}

/* The answer for a bucket of capacity and rate holding tokens units after a take (allowed). */
static void fill_result(ratelimit_result *res, int allowed, int64_t tokens, int capacity, int rate)
{
    res->allowed = allowed;
    res->limit = capacity;
    res->window_s = WINDOW_MS / 1000;
    res->remaining = (int)(tokens / UNIT);
    res->reset_s = seconds_until(tokens, rate, (int64_t)capacity * UNIT);
    res->retry_after_s = allowed ? 0 : seconds_until(tokens, rate, UNIT);
    if (!allowed && res->retry_after_s < 1)
        res->retry_after_s = 1;
}

/* A burst or rate cut to what the arithmetic (and the store) takes. */
static int bounded(int v)
{
    return v > STORE_RATE_MAX ? STORE_RATE_MAX : v;
}

hh_status ratelimit_take(ratelimit *rl, const char *key, int per_minute, int64_t now_ms,
                         ratelimit_result *res)
{
    return ratelimit_take_burst(rl, key, per_minute, per_minute, now_ms, res);
}

hh_status ratelimit_take_burst(ratelimit *rl, const char *key, int burst, int per_minute,
                               int64_t now_ms, ratelimit_result *res)
{
    if (per_minute <= 0 || burst <= 0)
        return HH_ERR_INVALID;
    burst = bounded(burst);
    per_minute = bounded(per_minute);
    pthread_mutex_lock(&rl->lock);
    bucket *b = find_or_add(rl, key, burst, per_minute, now_ms);
    if (!b) {
        pthread_mutex_unlock(&rl->lock);
        return HH_ERR_NOMEM;
    }
    refresh(b, now_ms);
    if (b->capacity != burst) {
        /* Plan changed: keep the fraction used, on the new scale. */
        b->tokens = b->tokens * burst / b->capacity;
        b->capacity = burst;
    }
    b->rate = per_minute;
    int allowed = b->tokens >= UNIT;
    if (allowed)
        b->tokens -= UNIT;
    fill_result(res, allowed, b->tokens, b->capacity, b->rate);
    pthread_mutex_unlock(&rl->lock);
    return HH_OK;
}

hh_status ratelimit_take_store(hh_store *st, const char *key, int burst, int per_minute,
                               ratelimit_result *res)
{
    if (per_minute <= 0 || burst <= 0)
        return HH_ERR_INVALID;
    burst = bounded(burst);
    per_minute = bounded(per_minute);
    hh_rate_state got;
    hh_status rc = store_rate_take(st, key, burst, per_minute, &got);
    if (!rc)
        fill_result(res, got.allowed, got.units, burst, per_minute);
    return rc;
}

unsigned ratelimit_size(ratelimit *rl)
{
    pthread_mutex_lock(&rl->lock);
    unsigned n = rl->count;
    pthread_mutex_unlock(&rl->lock);
    return n;
}
