/*
 * webhook_dispatch.h - the sender of webhooks (Standard Webhooks): a thread
 * of `serve` that claims due deliveries of the store's outbox under a lease
 * (so two dispatchers, in this process or another sharing the data
 * directory, never make the same attempt), builds each event's body from
 * the video as the store holds it now, signs it, and POSTs it with libcurl:
 * a 10 s timeout, no redirect followed, only to public addresses unless the
 * operator allows private ones. A 2xx is delivered; 410 disables the
 * endpoint; anything else is retried on the schedule below, with jitter.
 * `worker` processes send nothing: the outbox waits for a `serve`.
 */
#ifndef HH_WEBHOOK_DISPATCH_H
#define HH_WEBHOOK_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "api/app.h"

#define WEBHOOK_URL_MAX      2048  /* bytes of an endpoint's URL */
#define WEBHOOKS_PER_ACCOUNT 10    /* live endpoints one account may have */
#define WEBHOOK_SECRET_BYTES 32    /* the signing key behind "whsec_" */
#define WEBHOOK_TIMEOUT_MS   10000 /* one attempt, connect to last byte */
#define WEBHOOK_ATTEMPTS     10    /* the first and nine retries over about 3 days */

/* What the store keeps of a signing key: sealed (AES-256-GCM) under app->hook_key. */
#define WEBHOOK_SEALED_BYTES (WEBHOOK_SECRET_BYTES + CRYPTO_SEAL_OVERHEAD)

/*
 * The key that seals endpoints' signing keys in the store, kept in the
 * store itself (store_secret), so every node of a cluster, whatever its
 * data directory, signs what another sealed. The first node to ask stores
 * it: the key derived from its data_dir's secret.key when it has one (so
 * an install that sealed with that key before keeps its webhooks), else a
 * random one. Run it on a store before copying the store elsewhere (admin
 * migrate), so the key travels with the secrets it opens.
 */
hh_status hook_key_load(hh_store *st, const char *data_dir, uint8_t key[CRYPTO_SEAL_KEY_LEN]);

typedef struct hook_dispatch hook_dispatch;

/*
 * Starts the dispatcher thread of app (borrowed; it must outlive the
 * dispatcher). retry_scale (0 < scale <= 1) multiplies the retry delays:
 * 1 in production, smaller in tests (HAPPYHORSE_WEBHOOK_RETRY_SCALE).
 */
hh_status hook_dispatch_start(hh_app *app, double retry_scale, hook_dispatch **out);
/* Stops (after the attempts in flight end) and frees. NULL-safe. */
void hook_dispatch_stop(hook_dispatch *d);

/*
 * The delay in ms before the next attempt after attempt (1-based) failed:
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, times scale, each
 * moved by up to 10 % either way at random; -1 when attempt was the last.
 */
int64_t hook_retry_delay_ms(int attempt, double scale);

/*
 * The webhook-signature header value "v1,<base64 HMAC-SHA256 of
 * msg_id.timestamp.body under key>" into out (malloc'd, caller frees).
 */
hh_status hook_sign(const uint8_t *key, size_t keylen, const char *msg_id, int64_t timestamp,
                    const char *body, size_t len, char **out);

#endif
