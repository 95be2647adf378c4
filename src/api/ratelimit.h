/*
 * ratelimit.h - token buckets per account (contract section 1) and for
 * the sign-in limiter.
 *
 * An account on a plan of R requests/minute owns a bucket of capacity R that
 * refills continuously at R/60 tokens per second, so a client may burst up
 * to R requests and then sustains R per minute. Buckets live in memory, one
 * per key seen recently; idle full buckets are evicted, so memory is bounded
 * by the keys active in the last few minutes (and keys are only ever
 * authenticated ones). Thread-safe.
 *
 * These buckets are one process's. Nodes that share a PostgreSQL store
 * take from the store's buckets instead (ratelimit_take_store), so a key's
 * R is the cluster's, not each node's (docs/operations.md, "Several nodes").
 * Bursts and rates above STORE_RATE_MAX count as STORE_RATE_MAX.
 */
#ifndef HH_RATELIMIT_H
#define HH_RATELIMIT_H

#include <stdint.h>

#include "store/store.h"
#include "util/status.h"

typedef struct ratelimit ratelimit;

typedef struct ratelimit_result {
    int allowed;       /* 1: go on; 0: refuse with 429 */
    int limit;         /* the policy's quota per window (R) */
    int window_s;      /* 60 */
    int remaining;     /* whole tokens left after this request */
    int reset_s;       /* seconds until the bucket is full again */
    int retry_after_s; /* when refused: seconds until one token is back (>= 1) */
} ratelimit_result;

/* New, empty limiter. NULL on allocation failure. Free with ratelimit_free. */
ratelimit *ratelimit_new(void);
void ratelimit_free(ratelimit *rl);

/*
 * Takes one token from key's bucket (created full on first use) at time
 * now_ms (monotonic). per_minute sizes the bucket; a change of plan resizes
 * it on the next call. Fills *res.
 */
hh_status ratelimit_take(ratelimit *rl, const char *key, int per_minute, int64_t now_ms,
                         ratelimit_result *res);

/*
 * Same with a burst other than the rate: the bucket holds at most burst
 * tokens and gains per_minute a minute (the sign-in limiter: 5 at once,
 * then one every 2 s). res->limit reports the burst.
 */
hh_status ratelimit_take_burst(ratelimit *rl, const char *key, int burst, int per_minute,
                               int64_t now_ms, ratelimit_result *res);

/*
 * ratelimit_take_burst on the store's bucket key (store_rate_take), which
 * every node sharing st takes from, on the database's clock: one round
 * trip. Fails with the store's status (HH_ERR_BUSY, HH_ERR_DB) when the
 * database does not answer.
 */
hh_status ratelimit_take_store(hh_store *st, const char *key, int burst, int per_minute,
                               ratelimit_result *res);

/* Number of buckets held (for tests and metrics). */
unsigned ratelimit_size(ratelimit *rl);

#endif
