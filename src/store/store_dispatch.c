/*
 * store_dispatch.c - the door of store.h: opening a location picks the
 * backend (a postgres:// URL, else a data directory for SQLite), and every
 * call on a handle checks here what does not depend on the database (the
 * shapes and limits of its arguments) and then calls the backend's table
 * of operations (store_int.h), so no backend repeats those checks.
 */
#include "store/store.h"
#include "store/store_int.h"
#include "util/crypto.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* 1 when location names a PostgreSQL database rather than a data directory. */
static int is_postgres_url(const char *location)
{
    return !strncmp(location, "postgres://", 11) || !strncmp(location, "postgresql://", 13);
}

static hh_status open_at(const char *location, int version, hh_store **out)
{
    *out = NULL;
    if (!location || !*location)
        return HH_ERR_INVALID;
    if (is_postgres_url(location))
        return store_pg_open(location, version, out);
    return store_sqlite_open(location, version, out);
}

hh_status store_open(const char *location, hh_store **out)
{
    return open_at(location, 0, out);
}

hh_status store_open_version(const char *location, int version, hh_store **out)
{
    *out = NULL;
    return version < 1 ? HH_ERR_INVALID : open_at(location, version, out);
}

void store_close(hh_store *st)
{
    if (st)
        st->ops->close(st);
}

/* ---- the calls on a handle: checked here, done by the backend ---- */

int store_schema_version(hh_store *st)
{
    return st->ops->schema_version(st);
}

hh_status store_ping(hh_store *st)
{
    return st->ops->ping(st);
}

hh_status store_health(hh_store *st, int budget_ms, hh_store_health *out)
{
    return st->ops->health(st, budget_ms, out);
}

uint64_t store_generation(hh_store *st)
{
    return st->ops->generation(st);
}

hh_status store_user_create(hh_store *st, const char *email, const char *password_hash,
                            const char *plan, int api_access, hh_user *out)
{
    if (!email || !*email ||
        strnlen(email, sizeof(((hh_user *)0)->email)) >= sizeof(((hh_user *)0)->email) || !plan ||
        !*plan || strnlen(plan, sizeof(((hh_user *)0)->plan)) >= sizeof(((hh_user *)0)->plan))
        return HH_ERR_INVALID;
    return st->ops->user_create(st, email, password_hash, plan, api_access, out);
}

hh_status store_user_by_email(hh_store *st, const char *email, hh_user *out)
{
    return st->ops->user_by_email(st, email, out);
}

hh_status store_user_by_id(hh_store *st, const char *id, hh_user *out)
{
    return st->ops->user_by_id(st, id, out);
}

hh_status store_user_set_plan(hh_store *st, const char *user_id, const char *plan)
{
    if (!user_id || !plan || !*plan || strnlen(plan, STORE_PLAN_MAX) >= STORE_PLAN_MAX)
        return HH_ERR_INVALID;
    return st->ops->user_set_plan(st, user_id, plan);
}

hh_status store_user_set_api_access(hh_store *st, const char *user_id, int on)
{
    if (!user_id)
        return HH_ERR_INVALID;
    return st->ops->user_set_api_access(st, user_id, on);
}

hh_status store_user_password_hash(hh_store *st, const char *user_id, char *buf, size_t size)
{
    if (!user_id || size == 0)
        return HH_ERR_INVALID;
    return st->ops->user_password_hash(st, user_id, buf, size);
}

hh_status store_key_insert(hh_store *st, const char *user_id, const char *name,
                           const uint8_t hash[CRYPTO_SHA256_LEN], const char *prefix,
                           hh_api_key *out)
{
    return st->ops->key_insert(st, user_id, name, hash, prefix, out);
}

hh_status store_key_lookup(hh_store *st, const uint8_t hash[CRYPTO_SHA256_LEN], hh_api_key *key,
                           hh_user *user)
{
    return st->ops->key_lookup(st, hash, key, user);
}

hh_status store_key_list(hh_store *st, const char *user_id, hh_api_key **keys, size_t *n)
{
    *keys = NULL;
    *n = 0;
    if (!user_id)
        return HH_ERR_INVALID;
    return st->ops->key_list(st, user_id, keys, n);
}

hh_status store_key_delete(hh_store *st, const char *user_id, const char *key_id)
{
    return st->ops->key_delete(st, user_id, key_id);
}

hh_status store_key_touch(hh_store *st, const char *const *key_ids, const int64_t *used_at,
                          size_t n)
{
    return st->ops->key_touch(st, key_ids, used_at, n);
}

hh_status store_ledger_append(hh_store *st, const char *user_id, int64_t amount,
                              hh_ledger_kind kind, const char *ref, const char *note,
                              int64_t *balance_after)
{
    if (!user_id || amount == 0 || amount == INT64_MIN || (unsigned)kind > HH_LEDGER_ADJUSTMENT ||
        (ref && strnlen(ref, HH_ID_LEN) >= HH_ID_LEN) ||
        (note && strnlen(note, STORE_NOTE_MAX) >= STORE_NOTE_MAX))
        return HH_ERR_INVALID;
    return st->ops->ledger_append(st, user_id, amount, kind, ref, note, balance_after);
}

hh_status store_ledger_list(hh_store *st, const char *user_id, int64_t before, int limit,
                            hh_ledger_entry **entries, size_t *n)
{
    *entries = NULL;
    *n = 0;
    if (!user_id || limit < 1 || limit > STORE_PAGE_MAX)
        return HH_ERR_INVALID;
    return st->ops->ledger_list(st, user_id, before, limit, entries, n);
}

hh_status store_ledger_sum(hh_store *st, const char *user_id, int64_t *sum)
{
    if (!user_id)
        return HH_ERR_INVALID;
    return st->ops->ledger_sum(st, user_id, sum);
}

hh_status store_upload_create(hh_store *st, const hh_upload *u)
{
    return st->ops->upload_create(st, u);
}

hh_status store_upload_get(hh_store *st, const char *key, hh_upload *out)
{
    return st->ops->upload_get(st, key, out);
}

hh_status store_upload_complete(hh_store *st, const char *key)
{
    return st->ops->upload_complete(st, key);
}

hh_status store_video_create(hh_store *st, const hh_video_new *in, char id_out[HH_ID_LEN],
                             char **replay_body, int64_t *balance_out)
{
    *replay_body = NULL;
    id_out[0] = '\0';
    if (in->price <= 0 || (in->idem_key && !in->idem_hash))
        return HH_ERR_INVALID;
    return st->ops->video_create(st, in, id_out, replay_body, balance_out);
}

hh_status store_video_get(hh_store *st, const char *id, const char *user_id, hh_video *out)
{
    return st->ops->video_get(st, id, user_id, out);
}

hh_status store_video_get_any(hh_store *st, const char *id, hh_video *out)
{
    return st->ops->video_get(st, id, NULL, out);
}

hh_status store_video_list(hh_store *st, const char *user_id, const char *before, int status,
                           int limit, hh_video **videos, size_t *n)
{
    hh_video_filter f = {before, status, NULL, 0};
    return store_video_find(st, user_id, &f, limit, videos, n);
}

hh_status store_video_find(hh_store *st, const char *user_id, const hh_video_filter *f, int limit,
                           hh_video **videos, size_t *n)
{
    *videos = NULL;
    *n = 0;
    if (limit < 1 || limit > STORE_PAGE_MAX || f->status < HH_VIDEO_ANY ||
        f->status >= HH_VIDEO_STATUS_COUNT || (f->q && strlen(f->q) > STORE_VIDEO_QUERY_MAX))
        return HH_ERR_INVALID;
    return st->ops->video_find(st, user_id, f, limit, videos, n);
}

hh_status store_video_set_favorite(hh_store *st, const char *id, const char *user_id, int on)
{
    return st->ops->video_set_favorite(st, id, user_id, on != 0);
}

hh_status store_job_claim(hh_store *st, const char *worker_id, int64_t lease_ms, hh_video *out)
{
    return store_job_claim_plans(st, worker_id, lease_ms, NULL, out);
}

hh_status store_job_claim_plans(hh_store *st, const char *worker_id, int64_t lease_ms,
                                const char *plans, hh_video *out)
{
    return st->ops->job_claim_plans(st, worker_id, lease_ms, plans, out);
}

hh_status store_job_heartbeat(hh_store *st, const char *video_id, const char *worker_id,
                              int progress, int64_t lease_ms)
{
    return st->ops->job_heartbeat(st, video_id, worker_id, progress, lease_ms);
}

hh_status store_job_finish(hh_store *st, const char *video_id, const char *worker_id,
                           const char *video_key, const char *thumbnail_key)
{
    return st->ops->job_finish(st, video_id, worker_id, video_key, thumbnail_key);
}

hh_status store_job_fail(hh_store *st, const char *video_id, const char *worker_id,
                         const char *message, int retryable)
{
    return st->ops->job_fail(st, video_id, worker_id, message, retryable);
}

hh_status store_job_release(hh_store *st, const char *video_id, const char *worker_id)
{
    return st->ops->job_release(st, video_id, worker_id);
}

hh_status store_job_counts(hh_store *st, int64_t counts[HH_VIDEO_STATUS_COUNT])
{
    return st->ops->job_counts(st, counts);
}

hh_status store_video_queue_place(hh_store *st, const char *video_id, hh_queue_place *out)
{
    return st->ops->video_queue_place(st, video_id, out);
}

hh_status store_queue_stats(hh_store *st, hh_queue_stats *out)
{
    return st->ops->queue_stats(st, out);
}

hh_status store_video_refund(hh_store *st, const char *video_id, const char *note,
                             int64_t *refunded)
{
    return st->ops->video_refund(st, video_id, note, refunded);
}

hh_status store_video_cancel(hh_store *st, const char *video_id, const char *user_id,
                             hh_video_status *status, int64_t *refunded)
{
    return st->ops->video_cancel(st, video_id, user_id, status, refunded);
}

hh_status store_video_delete(hh_store *st, const char *video_id, const char *user_id,
                             hh_video_status *status, char (*keys)[HH_KEY_MAX], size_t *nkeys)
{
    return st->ops->video_delete(st, video_id, user_id, status, keys, nkeys);
}

hh_status store_key_insert_capped(hh_store *st, const char *user_id, const char *name,
                                  const uint8_t hash[CRYPTO_SHA256_LEN], const char *prefix,
                                  int max_keys, hh_api_key *out)
{
    return st->ops->key_insert_capped(st, user_id, name, hash, prefix, max_keys, out);
}

hh_status store_key_list_page(hh_store *st, const char *user_id, const char *before, int limit,
                              hh_api_key **keys, size_t *n)
{
    *keys = NULL;
    *n = 0;
    if (!user_id || limit < 1 || limit > STORE_KEYS_MAX)
        return HH_ERR_INVALID;
    return st->ops->key_list_page(st, user_id, before, limit, keys, n);
}

hh_status store_user_set_disabled(hh_store *st, const char *user_id, int on, const char *message,
                                  hh_suspension *out)
{
    if (!user_id)
        return HH_ERR_INVALID;
    return st->ops->user_set_disabled(st, user_id, on, message, out);
}

hh_status store_audit_append(hh_store *st, const char *actor, const char *action,
                             const char *target, const char *detail)
{
    if (!actor || !*actor || !action || !*action)
        return HH_ERR_INVALID;
    return st->ops->audit_append(st, actor, action, target, detail);
}

hh_status store_audit_list(hh_store *st, int64_t before, int limit, hh_audit_entry **entries,
                           size_t *n)
{
    *entries = NULL;
    *n = 0;
    if (limit < 1 || limit > STORE_PAGE_MAX)
        return HH_ERR_INVALID;
    return st->ops->audit_list(st, before, limit, entries, n);
}

hh_status store_upload_expire(hh_store *st, int64_t now, int64_t grace_ms, int64_t min_rate,
                              int limit, int (*skip)(void *ctx, const char *key), void *ctx,
                              char (*keys)[HH_KEY_MAX], size_t *n)
{
    *n = 0;
    if (limit < 1 || min_rate < 1 || grace_ms < 0)
        return HH_ERR_INVALID;
    return st->ops->upload_expire(st, now, grace_ms, min_rate, limit, skip, ctx, keys, n);
}

hh_status store_user_list(hh_store *st, const char *plan, const char *after, int limit,
                          hh_user **users, size_t *n)
{
    if (limit < 1 || limit > STORE_PAGE_MAX)
        return HH_ERR_INVALID;
    return st->ops->user_list(st, plan, after, limit, users, n);
}

hh_status store_user_set_password(hh_store *st, const char *user_id, const char *password_hash)
{
    if (!user_id || !password_hash || !*password_hash)
        return HH_ERR_INVALID;
    return st->ops->user_set_password(st, user_id, password_hash);
}

hh_status store_credit_days(hh_store *st, int days, hh_credit_day **out, size_t *n)
{
    if (days < 1 || days > STORE_PAGE_MAX)
        return HH_ERR_INVALID;
    return st->ops->credit_days(st, days, out, n);
}

hh_status store_share_publish(hh_store *st, const char *video_id, const char *user_id,
                              const char *slug, int show_prompt, int64_t now, hh_share *out)
{
    if (!video_id || !user_id || !slug || !*slug || strlen(slug) >= STORE_SLUG_MAX)
        return HH_ERR_INVALID;
    return st->ops->share_publish(st, video_id, user_id, slug, show_prompt, now, out);
}

hh_status store_share_unpublish(hh_store *st, const char *video_id, const char *user_id)
{
    return st->ops->share_unpublish(st, video_id, user_id);
}

hh_status store_share_by_slug(hh_store *st, const char *slug, hh_share *out)
{
    return st->ops->share_by_slug(st, slug, out);
}

hh_status store_share_of_video(hh_store *st, const char *video_id, hh_share *out)
{
    return st->ops->share_of_video(st, video_id, out);
}

hh_status store_session_create(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN],
                               const char *user_id, const char *csrf, int64_t now,
                               int64_t expires_at)
{
    if (!csrf || !*csrf || strlen(csrf) >= STORE_CSRF_MAX || !user_id)
        return HH_ERR_INVALID;
    return st->ops->session_create(st, id_hash, user_id, csrf, now, expires_at);
}

hh_status store_session_get(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN], int64_t now,
                            hh_session *out, hh_user *user)
{
    return st->ops->session_get(st, id_hash, now, out, user);
}

hh_status store_session_touch(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN], int64_t now,
                              int64_t expires_at)
{
    return st->ops->session_touch(st, id_hash, now, expires_at);
}

hh_status store_session_delete(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN])
{
    return st->ops->session_delete(st, id_hash);
}

hh_status store_session_purge(hh_store *st, int64_t now, int64_t *removed)
{
    return st->ops->session_purge(st, now, removed);
}

hh_status store_remote_begin(hh_store *st, const char *video_id, const char *worker_id,
                             const char *plan, const char *engine, int64_t deadline_at)
{
    if (strlen(plan) >= STORE_PLAN_MAX || strlen(engine) >= STORE_PLAN_MAX)
        return HH_ERR_INVALID;
    return st->ops->remote_begin(st, video_id, worker_id, plan, engine, deadline_at);
}

hh_status store_remote_get(hh_store *st, const char *video_id, hh_remote_task *out)
{
    return st->ops->remote_get(st, video_id, out);
}

hh_status store_remote_claim(hh_store *st, const char *plan, hh_remote_phase phase,
                             const char *owner, int64_t claim_ms, int max, hh_remote_task **out,
                             size_t *n)
{
    *out = NULL;
    *n = 0;
    if (max < 1 || max > STORE_PAGE_MAX ||
        (phase != HH_REMOTE_SUBMIT && phase != HH_REMOTE_WAIT && phase != HH_REMOTE_CANCEL))
        return HH_ERR_INVALID;
    return st->ops->remote_claim(st, plan, phase, owner, claim_ms, max, out, n);
}

hh_status store_remote_update(hh_store *st, const char *video_id, const char *owner,
                              const hh_remote_update *u)
{
    return st->ops->remote_update(st, video_id, owner, u);
}

hh_status store_remote_collect(hh_store *st, const char *video_id, const char *owner,
                               const char *task, const char *usage, double cost)
{
    return st->ops->remote_collect(st, video_id, owner, task, usage, cost);
}

hh_status store_remote_fail(hh_store *st, const char *video_id, const char *owner,
                            const char *message, const char *detail)
{
    return st->ops->remote_fail(st, video_id, owner, message, detail);
}

hh_status store_remote_canceled(hh_store *st, const char *video_id, const char *owner)
{
    return st->ops->remote_canceled(st, video_id, owner);
}

hh_status store_remote_release(hh_store *st, const char *owner)
{
    return st->ops->remote_release(st, owner);
}

hh_status store_remote_counts(hh_store *st, int64_t counts[HH_REMOTE_PHASE_COUNT])
{
    return st->ops->remote_counts(st, counts);
}

hh_status store_webhook_create(hh_store *st, const char *user_id, const char *url, unsigned events,
                               const uint8_t *secret, size_t secret_len, int max_per_user,
                               hh_webhook *out)
{
    if (!user_id || !url || !*url || strlen(url) >= STORE_URL_MAX || strlen(user_id) >= HH_ID_LEN ||
        events < 1 || events > HH_HOOK_EVENTS_ALL || !secret || secret_len < 1 ||
        secret_len > STORE_HOOK_SECRET_MAX)
        return HH_ERR_INVALID;
    return st->ops->webhook_create(st, user_id, url, events, secret, secret_len, max_per_user, out);
}

hh_status store_webhook_get(hh_store *st, const char *user_id, const char *id, hh_webhook *out)
{
    return st->ops->webhook_get(st, user_id, id, out);
}

hh_status store_webhook_list(hh_store *st, const char *user_id, hh_webhook **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!user_id)
        return HH_ERR_INVALID;
    return st->ops->webhook_list(st, user_id, out, n);
}

hh_status store_webhook_delete(hh_store *st, const char *user_id, const char *id)
{
    return st->ops->webhook_delete(st, user_id, id);
}

hh_status store_hook_claim(hh_store *st, const char *owner, int64_t now, int64_t claim_ms, int max,
                           hh_hook_delivery **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!owner || !*owner || max < 1 || max > STORE_PAGE_MAX || claim_ms < 1)
        return HH_ERR_INVALID;
    return st->ops->hook_claim(st, owner, now, claim_ms, max, out, n);
}

hh_status store_hook_record(hh_store *st, const char *owner, const hh_hook_result *r, size_t n,
                            size_t *skipped)
{
    if (!owner || (n && !r))
        return HH_ERR_INVALID;
    return st->ops->hook_record(st, owner, r, n, skipped);
}

hh_status store_hook_attempts(hh_store *st, const char *user_id, const char *webhook_id, int limit,
                              hh_hook_attempt **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (limit < 1 || limit > STORE_PAGE_MAX)
        return HH_ERR_INVALID;
    return st->ops->hook_attempts(st, user_id, webhook_id, limit, out, n);
}

hh_status store_hook_pending(hh_store *st, int64_t *n)
{
    return st->ops->hook_pending(st, n);
}

int store_is_shared(hh_store *st)
{
    return st->ops->shared;
}

hh_status store_secret(hh_store *st, const char *name, const uint8_t *seed, size_t len,
                       uint8_t *out)
{
    uint8_t fresh[STORE_SECRET_MAX];
    if (!name || !*name || strnlen(name, STORE_SECRET_NAME_MAX) >= STORE_SECRET_NAME_MAX ||
        len < 1 || len > STORE_SECRET_MAX || !out)
        return HH_ERR_INVALID;
    hh_status rc = HH_OK;
    if (!seed && !(rc = crypto_random(fresh, len)))
        seed = fresh;
    if (!rc)
        rc = st->ops->secret(st, name, seed, len, out);
    OPENSSL_cleanse(fresh, sizeof fresh);
    return rc;
}

hh_status store_rate_take(hh_store *st, const char *key, int burst, int per_minute,
                          hh_rate_state *out)
{
    if (!key || !*key || strnlen(key, STORE_RATE_KEY_MAX) >= STORE_RATE_KEY_MAX || burst < 1 ||
        burst > STORE_RATE_MAX || per_minute < 1 || per_minute > STORE_RATE_MAX)
        return HH_ERR_INVALID;
    return st->ops->rate_take(st, key, burst, per_minute, out);
}

/* ---- admin migrate's table copy: rows checked against the spec (store_copy.c) ---- */

/* 1 when t is one of the spec's tables: a backend builds SQL from its constant names only. */
static int copy_table_known(const store_copy_table *t)
{
    return t >= store_copy_tables && t < store_copy_tables + store_copy_table_count;
}

/* 1 when v fits a column of type (key columns are never null); bytes travel as hex. */
static int copy_value_fits(const json_t *v, store_col_type type, int key)
{
    if (json_is_null(v))
        return !key;
    switch (type) {
    case STORE_COL_INT:
        return json_is_integer(v);
    case STORE_COL_TEXT:
        return json_is_string(v);
    case STORE_COL_BYTES: {
        const char *s = json_string_value(v);
        size_t n = s ? json_string_length(v) : 0;
        return s && n % 2 == 0 && strspn(s, "0123456789abcdefABCDEF") == n;
    }
    case STORE_COL_REAL:
        return json_is_number(v);
    default:
        return 0;
    }
}

/* 1 when row is an array of t's first ncols columns, each of its type. */
static int copy_row_fits(const store_copy_table *t, const json_t *row, int ncols)
{
    if (!json_is_array(row) || json_array_size(row) != (size_t)t->ncols)
        return 0;
    for (int i = 0; i < ncols; i++)
        if (!copy_value_fits(json_array_get(row, (size_t)i), t->cols[i].type, i < t->nkey))
            return 0;
    return 1;
}

hh_status store_copy_read(hh_store *st, const store_copy_table *t, const json_t *after, int limit,
                          json_t **rows)
{
    *rows = NULL;
    if (!copy_table_known(t) || limit < 1 || limit > STORE_COPY_BATCH_MAX ||
        (after && !copy_row_fits(t, after, t->nkey)))
        return HH_ERR_INVALID;
    return st->ops->copy_read(st, t, after, limit, rows);
}

hh_status store_copy_write(hh_store *st, const store_copy_table *t, const json_t *rows,
                           size_t *inserted)
{
    *inserted = 0;
    size_t n = json_array_size(rows);
    if (!copy_table_known(t) || !json_is_array(rows) || n < 1 || n > STORE_COPY_BATCH_MAX)
        return HH_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!copy_row_fits(t, json_array_get(rows, i), t->ncols))
            return HH_ERR_INVALID;
    return st->ops->copy_write(st, t, rows, inserted);
}

hh_status store_copy_stats(hh_store *st, const store_copy_table *t, int64_t *count, int64_t *sum)
{
    *count = *sum = 0;
    if (!copy_table_known(t))
        return HH_ERR_INVALID;
    return st->ops->copy_stats(st, t, count, sum);
}
