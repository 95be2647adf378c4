/*
 * webhook_dispatch.c - the dispatcher thread of webhook_dispatch.h.
 *
 * A pass claims up to BATCH due deliveries (a lease of CLAIM_MS, longer
 * than an attempt can take, so a claim never lapses while its attempt is
 * still running), sends them all at once on one curl multi handle, and
 * records each answer, which gives its claim back. A dispatcher killed
 * mid-pass leaves its claims to lapse: the deliveries are sent again, with
 * the same webhook-id, once CLAIM_MS has passed. So every event is sent at
 * least once and a receiver that keeps the ids it processed sees each one
 * processed once. Between passes the thread waits POLL_MS, or none after a
 * full batch (a backlog is worked off at once).
 */
#include "api/webhook_dispatch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "api/video_json.h"
#include "blob/presign.h"
#include "http/http_client.h"
#include "store/store_json.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/utf8.h"
#include "util/uuid.h"

#define BATCH    32
#define CLAIM_MS (WEBHOOK_TIMEOUT_MS + 20000)
#define POLL_MS  200
#define TICK_MS  50

struct hook_dispatch {
    hh_app *app;
    double scale;
    char owner[64];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

/* One claimed delivery of a pass, as it is sent, and what it came to. */
typedef struct sending {
    hh_hook_delivery *d;
    int64_t started;
    hh_hook_result *result;
} sending;

typedef struct pass_ctx {
    hook_dispatch *hd;
    sending *s;
} pass_ctx;

/* The seal key's name in the store's secrets (store_secret). */
#define HOOK_KEY_NAME "webhook seal key v1"

/*
 * What this node proposes as the seal key: the key derived from the data
 * directory's secret.key when there is one (the key every install sealed
 * with before the store kept it, so those secrets still open), else none
 * (NULL: the store makes a random one). The file is only read here, never
 * made: a node of a cluster keeps nothing but scratch in its directory.
 */
static hh_status hook_key_seed(const char *data_dir, uint8_t key[CRYPTO_SEAL_KEY_LEN], int *have)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/secret.key", data_dir); /* presign.h's file */
    *have = access(path, F_OK) == 0;
    if (!*have)
        return HH_OK;
    uint8_t secret[PRESIGN_SECRET_LEN];
    hh_status rc = presign_secret_load(data_dir, secret);
    if (!rc) /* a key of its own: what signs upload URLs never encrypts anything */
        crypto_hmac_sha256(secret, sizeof secret, "happyhorse webhook secrets v1", 29, key);
    OPENSSL_cleanse(secret, sizeof secret);
    return rc;
}

hh_status hook_key_load(hh_store *st, const char *data_dir, uint8_t key[CRYPTO_SEAL_KEY_LEN])
{
    uint8_t seed[CRYPTO_SEAL_KEY_LEN];
    int have = 0;
    hh_status rc = hook_key_seed(data_dir, seed, &have);
    if (!rc)
        rc = store_secret(st, HOOK_KEY_NAME, have ? seed : NULL, CRYPTO_SEAL_KEY_LEN, key);
    OPENSSL_cleanse(seed, sizeof seed);
    return rc;
}

int64_t hook_retry_delay_ms(int attempt, double scale)
{
    static const int64_t after_s[] = {5,         5 * 60,    30 * 60,   2 * 3600, 5 * 3600,
                                      10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600};
    if (attempt < 1 || attempt >= WEBHOOK_ATTEMPTS)
        return -1;
    double ms = (double)after_s[attempt - 1] * 1000.0 * scale;
    uint16_t r = 0;
    if (crypto_random(&r, sizeof r) == HH_OK) /* jitter: receivers back up, not in lock-step */
        ms *= 0.9 + 0.2 * (double)r / 65535.0;
    return ms < 1 ? 1 : (int64_t)ms;
}

hh_status hook_sign(const uint8_t *key, size_t keylen, const char *msg_id, int64_t timestamp,
                    const char *body, size_t len, char **out)
{
    *out = NULL;
    char head[96];
    int h = snprintf(head, sizeof head, "%s.%lld.", msg_id, (long long)timestamp);
    if (h < 0 || (size_t)h >= sizeof head)
        return HH_ERR_INVALID;
    char *signed_text = malloc((size_t)h + len);
    if (!signed_text)
        return HH_ERR_NOMEM;
    memcpy(signed_text, head, (size_t)h);
    memcpy(signed_text + h, body, len);
    uint8_t mac[CRYPTO_SHA256_LEN];
    crypto_hmac_sha256(key, keylen, signed_text, (size_t)h + len, mac);
    free(signed_text);
    char *b64 = crypto_b64_encode_new(mac, sizeof mac);
    hh_status rc = b64 ? HH_OK : HH_ERR_NOMEM;
    if (!rc && asprintf(out, "v1,%s", b64) < 0) {
        *out = NULL;
        rc = HH_ERR_NOMEM;
    }
    free(b64);
    return rc;
}

/* The event's body: {"type","timestamp","data": the video as it is now}. malloc'd. */
static char *event_body(hh_app *app, const hh_hook_delivery *d)
{
    hh_video v;
    memset(&v, 0, sizeof v);
    json_t *data = NULL;
    if (store_video_get_any(app->store, d->video_id, &v) == HH_OK)
        data = video_json(&v, app->blob);
    else /* the video is gone (deleted): its id is all there is to say */
        data = json_pack("{s:s}", "id", d->video_id);
    store_video_clear(&v);
    json_t *doc = json_pack("{s:s, s:o, s:o}", "type", d->type, "timestamp",
                            store_time_json(d->created_at), "data", data);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

/* Builds the signed POST of d into req. */
static hh_status build(hh_app *app, const hh_hook_delivery *d, hc_request *req)
{
    char *body = event_body(app, d), *sig = NULL;
    int64_t ts = hh_time_now_ms() / 1000;
    uint8_t key[WEBHOOK_SECRET_BYTES];
    size_t keylen = 0;
    hh_status rc = body ? HH_OK : HH_ERR_NOMEM;
    if (!rc)
        rc = crypto_open(app->hook_key, d->secret, d->secret_len, key, sizeof key, &keylen);
    if (!rc)
        rc = hook_sign(key, keylen, d->msg_id, ts, body, strlen(body), &sig);
    OPENSSL_cleanse(key, sizeof key);
    if (!rc)
        rc = hc_request_set(req, "POST", d->url);
    if (!rc)
        rc = hc_request_header(req, "Content-Type: application/json");
    if (!rc)
        rc = hc_request_header(req, "webhook-id: %s", d->msg_id);
    if (!rc)
        rc = hc_request_header(req, "webhook-timestamp: %lld", (long long)ts);
    if (!rc)
        rc = hc_request_header(req, "webhook-signature: %s", sig);
    if (!rc) {
        req->body = body;
        req->body_len = strlen(body);
        body = NULL;
    }
    free(body);
    free(sig);
    return rc;
}

/* Judges what the attempt of s came to (resp NULL: it could not even be built). */
static void settle(hook_dispatch *hd, const sending *s, const hc_response *resp)
{
    int64_t now = hh_time_now_ms();
    hh_hook_attempt a = {.at = now, .duration_ms = now - s->started};
    int64_t next_at = now;
    a.status = resp && resp->rc == HH_OK ? (int)resp->status : 0;
    if (a.status >= 200 && a.status < 300)
        a.outcome = HH_HOOK_DELIVERED;
    else if (a.status == 410)
        a.outcome = HH_HOOK_DISABLED;
    else {
        int64_t delay = hook_retry_delay_ms(s->d->attempt, hd->scale);
        a.outcome = delay < 0 ? HH_HOOK_FAILED : HH_HOOK_RETRYING;
        next_at = delay < 0 ? now : now + delay;
    }
    if (!resp)
        snprintf(a.error, sizeof a.error, "could not build the request");
    else if (resp->rc) /* cut whole characters: the log is JSON */
        memcpy(a.error, resp->error, hh_utf8_prefix(resp->error, sizeof a.error - 1));
    else if (a.outcome != HH_HOOK_DELIVERED)
        snprintf(a.error, sizeof a.error, "the endpoint answered HTTP %d", a.status);
    *s->result = (hh_hook_result){.id = s->d->id, .a = a, .next_at = next_at};
    hh_log_fields(HH_LOG_DEBUG, "webhook attempt",
                  json_pack("{s:s, s:s, s:i, s:i, s:s}", "webhookId", s->d->msg_id, "endpoint",
                            s->d->webhook_id, "attempt", s->d->attempt, "status", a.status,
                            "outcome", hh_hook_outcome_str(a.outcome)));
}

static void on_answer(void *ctx, void *tag, hc_response *resp)
{
    pass_ctx *p = ctx;
    settle(p->hd, &p->s[(size_t)tag], resp);
}

/* One pass: claims, sends and records; returns how many deliveries it claimed. */
static size_t dispatch_pass(hook_dispatch *hd, hc_multi *m)
{
    hh_hook_delivery *d = NULL;
    size_t n = 0;
    hh_status rc =
        store_hook_claim(hd->app->store, hd->owner, hh_time_now_ms(), CLAIM_MS, BATCH, &d, &n);
    if (rc) {
        if (rc != HH_ERR_BUSY)
            hh_warn("webhooks: cannot claim deliveries: %s", hh_status_str(rc));
        return 0;
    }
    sending s[BATCH];
    hh_hook_result results[BATCH];
    pass_ctx p = {hd, s};
    hc_limits lim = {
        .connect_timeout_ms = WEBHOOK_TIMEOUT_MS,
        .timeout_ms = WEBHOOK_TIMEOUT_MS,
        .max_body = 64 * 1024, /* what a receiver answers is only read for its status */
        .max_redirects = 0,
        .public_only = !hd->app->webhook_allow_private,
    };
    for (size_t i = 0; i < n; i++) {
        hc_request req = {0};
        s[i] = (sending){&d[i], hh_time_now_ms(), &results[i]};
        rc = build(hd->app, &d[i], &req);
        if (!rc)
            rc = hc_multi_add(m, &req, &lim, (void *)i);
        hc_request_clear(&req);
        if (rc)
            settle(hd, &s[i], NULL);
    }
    int broken = 0;
    while (!broken && hc_multi_pending(m) > 0)
        broken = hc_multi_run(m, TICK_MS, on_answer, &p) != HH_OK;
    /* One commit for the pass; a multi handle that failed leaves the claims to lapse instead. */
    size_t skipped = 0;
    rc = broken ? HH_ERR_INTERNAL
                : store_hook_record(hd->app->store, hd->owner, results, n, &skipped);
    if (rc)
        hh_warn("webhooks: cannot record %zu attempts (sent again later): %s", n,
                hh_status_str(rc));
    else if (skipped)
        hh_warn("webhooks: %zu claims lapsed before their attempts were recorded", skipped);
    OPENSSL_cleanse(d, n * sizeof *d);
    free(d);
    return n;
}

static void *dispatch_main(void *arg)
{
    hook_dispatch *hd = arg;
    hc_multi *m = NULL;
    if (hc_multi_new(BATCH, &m)) {
        hh_error("webhooks: cannot start the dispatcher's transfers");
        return NULL;
    }
    pthread_mutex_lock(&hd->mu);
    while (!hd->stop) {
        pthread_mutex_unlock(&hd->mu);
        size_t claimed = dispatch_pass(hd, m);
        pthread_mutex_lock(&hd->mu);
        if (claimed < BATCH && !hd->stop) {
            struct timespec until = hh_deadline_after_ms(CLOCK_MONOTONIC, POLL_MS);
            pthread_cond_timedwait(&hd->cv, &hd->mu, &until);
        }
    }
    pthread_mutex_unlock(&hd->mu);
    hc_multi_free(m);
    return NULL;
}

hh_status hook_dispatch_start(hh_app *app, double retry_scale, hook_dispatch **out)
{
    *out = NULL;
    if (!(retry_scale > 0 && retry_scale <= 1))
        return HH_ERR_INVALID;
    hook_dispatch *hd = calloc(1, sizeof *hd);
    if (!hd)
        return HH_ERR_NOMEM;
    hd->app = app;
    hd->scale = retry_scale;
    char id[UUID_STR_LEN];
    hh_status rc = uuid_v7(id);
    if (rc) {
        free(hd);
        return rc;
    }
    snprintf(hd->owner, sizeof hd->owner, "hooks-%s", id);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&hd->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&hd->mu, NULL);
    if (pthread_create(&hd->thread, NULL, dispatch_main, hd)) {
        pthread_cond_destroy(&hd->cv);
        pthread_mutex_destroy(&hd->mu);
        free(hd);
        return HH_ERR_NOMEM;
    }
    *out = hd;
    return HH_OK;
}

void hook_dispatch_stop(hook_dispatch *hd)
{
    if (!hd)
        return;
    pthread_mutex_lock(&hd->mu);
    hd->stop = 1;
    pthread_cond_signal(&hd->cv);
    pthread_mutex_unlock(&hd->mu);
    pthread_join(hd->thread, NULL);
    pthread_cond_destroy(&hd->cv);
    pthread_mutex_destroy(&hd->mu);
    free(hd);
}
