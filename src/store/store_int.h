/*
 * store_int.h - the dispatch point behind store.h, private to src/store/:
 * the table of operations a backend implements (store_ops, one member per
 * store.h call on a handle, same arguments) and the handle every backend's
 * store starts with. store_dispatch.c is the only caller of the table: it checks
 * the arguments that do not depend on the backend and calls st->ops, so a
 * backend is handed arguments that are already valid.
 *
 * Backends: store_sqlite*.c (a data directory, the default) and
 * store_pg*.c (a postgres:// URL). Each file of a backend fills its part
 * of its backend's table (sq_*_ops, pg_*_ops) with static functions.
 */
#ifndef HH_STORE_INT_H
#define HH_STORE_INT_H

#include "store/store.h"

typedef struct store_ops {
    void (*close)(hh_store *st);
    int (*schema_version)(hh_store *st);
    hh_status (*ping)(hh_store *st);
    hh_status (*health)(hh_store *st, int budget_ms, hh_store_health *out);
    uint64_t (*generation)(hh_store *st);
    hh_status (*user_create)(hh_store *st, const char *email, const char *password_hash,
                             const char *plan, int api_access, hh_user *out);
    hh_status (*user_by_email)(hh_store *st, const char *email, hh_user *out);
    hh_status (*user_by_id)(hh_store *st, const char *id, hh_user *out);
    hh_status (*user_set_plan)(hh_store *st, const char *user_id, const char *plan);
    hh_status (*user_set_api_access)(hh_store *st, const char *user_id, int on);
    hh_status (*user_password_hash)(hh_store *st, const char *user_id, char *buf, size_t size);
    hh_status (*key_insert)(hh_store *st, const char *user_id, const char *name,
                            const uint8_t hash[CRYPTO_SHA256_LEN], const char *prefix,
                            hh_api_key *out);
    hh_status (*key_lookup)(hh_store *st, const uint8_t hash[CRYPTO_SHA256_LEN], hh_api_key *key,
                            hh_user *user);
    hh_status (*key_list)(hh_store *st, const char *user_id, hh_api_key **keys, size_t *n);
    hh_status (*key_delete)(hh_store *st, const char *user_id, const char *key_id);
    hh_status (*key_touch)(hh_store *st, const char *const *key_ids, const int64_t *used_at,
                           size_t n);
    hh_status (*ledger_append)(hh_store *st, const char *user_id, int64_t amount,
                               hh_ledger_kind kind, const char *ref, const char *note,
                               int64_t *balance_after);
    hh_status (*ledger_list)(hh_store *st, const char *user_id, int64_t before, int limit,
                             hh_ledger_entry **entries, size_t *n);
    hh_status (*ledger_sum)(hh_store *st, const char *user_id, int64_t *sum);
    hh_status (*upload_create)(hh_store *st, const hh_upload *u);
    hh_status (*upload_get)(hh_store *st, const char *key, hh_upload *out);
    hh_status (*upload_complete)(hh_store *st, const char *key);
    hh_status (*video_create)(hh_store *st, const hh_video_new *in, char id_out[HH_ID_LEN],
                              char **replay_body, int64_t *balance_out);
    hh_status (*video_get)(hh_store *st, const char *id, const char *user_id, hh_video *out);
    hh_status (*video_find)(hh_store *st, const char *user_id, const hh_video_filter *f, int limit,
                            hh_video **videos, size_t *n);
    hh_status (*video_set_favorite)(hh_store *st, const char *id, const char *user_id, int on);
    hh_status (*job_claim_plans)(hh_store *st, const char *worker_id, int64_t lease_ms,
                                 const char *plans, hh_video *out);
    hh_status (*job_heartbeat)(hh_store *st, const char *video_id, const char *worker_id,
                               int progress, int64_t lease_ms);
    hh_status (*job_finish)(hh_store *st, const char *video_id, const char *worker_id,
                            const char *video_key, const char *thumbnail_key);
    hh_status (*job_fail)(hh_store *st, const char *video_id, const char *worker_id,
                          const char *message, int retryable);
    hh_status (*job_release)(hh_store *st, const char *video_id, const char *worker_id);
    hh_status (*job_counts)(hh_store *st, int64_t counts[HH_VIDEO_STATUS_COUNT]);
    hh_status (*video_queue_place)(hh_store *st, const char *video_id, hh_queue_place *out);
    hh_status (*queue_stats)(hh_store *st, hh_queue_stats *out);
    hh_status (*video_refund)(hh_store *st, const char *video_id, const char *note,
                              int64_t *refunded);
    hh_status (*video_cancel)(hh_store *st, const char *video_id, const char *user_id,
                              hh_video_status *status, int64_t *refunded);
    hh_status (*video_delete)(hh_store *st, const char *video_id, const char *user_id,
                              hh_video_status *status, char (*keys)[HH_KEY_MAX], size_t *nkeys);
    hh_status (*key_insert_capped)(hh_store *st, const char *user_id, const char *name,
                                   const uint8_t hash[CRYPTO_SHA256_LEN], const char *prefix,
                                   int max_keys, hh_api_key *out);
    hh_status (*key_list_page)(hh_store *st, const char *user_id, const char *before, int limit,
                               hh_api_key **keys, size_t *n);
    hh_status (*user_set_disabled)(hh_store *st, const char *user_id, int on, const char *message,
                                   hh_suspension *out);
    hh_status (*audit_append)(hh_store *st, const char *actor, const char *action,
                              const char *target, const char *detail);
    hh_status (*audit_list)(hh_store *st, int64_t before, int limit, hh_audit_entry **entries,
                            size_t *n);
    hh_status (*upload_expire)(hh_store *st, int64_t now, int64_t grace_ms, int64_t min_rate,
                               int limit, int (*skip)(void *ctx, const char *key), void *ctx,
                               char (*keys)[HH_KEY_MAX], size_t *n);
    hh_status (*user_list)(hh_store *st, const char *plan, const char *after, int limit,
                           hh_user **users, size_t *n);
    hh_status (*user_set_password)(hh_store *st, const char *user_id, const char *password_hash);
    hh_status (*credit_days)(hh_store *st, int days, hh_credit_day **out, size_t *n);
    hh_status (*share_publish)(hh_store *st, const char *video_id, const char *user_id,
                               const char *slug, int show_prompt, int64_t now, hh_share *out);
    hh_status (*share_unpublish)(hh_store *st, const char *video_id, const char *user_id);
    hh_status (*share_by_slug)(hh_store *st, const char *slug, hh_share *out);
    hh_status (*share_of_video)(hh_store *st, const char *video_id, hh_share *out);
    hh_status (*session_create)(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN],
                                const char *user_id, const char *csrf, int64_t now,
                                int64_t expires_at);
    hh_status (*session_get)(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN], int64_t now,
                             hh_session *out, hh_user *user);
    hh_status (*session_touch)(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN], int64_t now,
                               int64_t expires_at);
    hh_status (*session_delete)(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN]);
    hh_status (*session_purge)(hh_store *st, int64_t now, int64_t *removed);
    hh_status (*remote_begin)(hh_store *st, const char *video_id, const char *worker_id,
                              const char *plan, const char *engine, int64_t deadline_at);
    hh_status (*remote_get)(hh_store *st, const char *video_id, hh_remote_task *out);
    hh_status (*remote_claim)(hh_store *st, const char *plan, hh_remote_phase phase,
                              const char *owner, int64_t claim_ms, int max, hh_remote_task **out,
                              size_t *n);
    hh_status (*remote_update)(hh_store *st, const char *video_id, const char *owner,
                               const hh_remote_update *u);
    hh_status (*remote_collect)(hh_store *st, const char *video_id, const char *owner,
                                const char *task, const char *usage, double cost);
    hh_status (*remote_fail)(hh_store *st, const char *video_id, const char *owner,
                             const char *message, const char *detail);
    hh_status (*remote_canceled)(hh_store *st, const char *video_id, const char *owner);
    hh_status (*remote_release)(hh_store *st, const char *owner);
    hh_status (*remote_counts)(hh_store *st, int64_t counts[HH_REMOTE_PHASE_COUNT]);
    hh_status (*webhook_create)(hh_store *st, const char *user_id, const char *url, unsigned events,
                                const uint8_t *secret, size_t secret_len, int max_per_user,
                                hh_webhook *out);
    hh_status (*webhook_get)(hh_store *st, const char *user_id, const char *id, hh_webhook *out);
    hh_status (*webhook_list)(hh_store *st, const char *user_id, hh_webhook **out, size_t *n);
    hh_status (*webhook_delete)(hh_store *st, const char *user_id, const char *id);
    hh_status (*hook_claim)(hh_store *st, const char *owner, int64_t now, int64_t claim_ms, int max,
                            hh_hook_delivery **out, size_t *n);
    hh_status (*hook_record)(hh_store *st, const char *owner, const hh_hook_result *r, size_t n,
                             size_t *skipped);
    hh_status (*hook_attempts)(hh_store *st, const char *user_id, const char *webhook_id, int limit,
                               hh_hook_attempt **out, size_t *n);
    hh_status (*hook_pending)(hh_store *st, int64_t *n);
    hh_status (*secret)(hh_store *st, const char *name, const uint8_t *seed, size_t len,
                        uint8_t *out);
    hh_status (*rate_take)(hh_store *st, const char *key, int burst, int per_minute,
                           hh_rate_state *out);
    int shared; /* 1: the nodes of a cluster share this backend's store (store_is_shared) */

    /* ---- admin migrate's table copy (store_copy.c) ---- */
    hh_status (*copy_read)(hh_store *st, const store_copy_table *t, const struct json_t *after,
                           int limit, struct json_t **rows);
    hh_status (*copy_write)(hh_store *st, const store_copy_table *t, const struct json_t *rows,
                            size_t *inserted);
    hh_status (*copy_stats)(hh_store *st, const store_copy_table *t, int64_t *count, int64_t *sum);
} store_ops;

/* Every backend's store begins with this (its first member), so a handle is the backend's store. */
struct hh_store {
    const store_ops *ops;
};

/* Opens (creating and migrating to version, 0: the latest) the SQLite store in directory location.
 */
hh_status store_sqlite_open(const char *location, int version, hh_store **out);

/* Opens (migrating to version, 0: the latest) the PostgreSQL store at a postgres:// URL. */
hh_status store_pg_open(const char *url, int version, hh_store **out);

/* The calling thread's wait for a lock in ms (store_thread_busy_ms), 0 when it set none. */
int store_thread_busy(void);

/* The enum of a name the schema allows; the floor given when a stored name is unknown. */
hh_video_status store_status_parse(const char *s);
/* 1 when a video of this status has ended (ready, failed, canceled): nothing may change it any
 * more. */
int store_video_ended(hh_video_status s);
hh_remote_phase store_phase_parse(const char *s);
hh_hook_outcome store_outcome_parse(const char *s);
hh_ledger_kind store_ledger_kind_parse(const char *s);

/* ---- the SQL of the table copy (store_copy.c), put together from the spec's names only ---- */

/* How a backend's SQL writes a parameter and a selected column of each store_col_type. */
typedef struct store_copy_dialect {
    const char *param_pre[STORE_COL_TYPES],
        *param_post[STORE_COL_TYPES]; /* around the parameter's number */
    const char *col_pre[STORE_COL_TYPES],
        *col_post[STORE_COL_TYPES]; /* around a column's name in a SELECT */
    const char *insert;             /* "INSERT OR IGNORE INTO " or "INSERT INTO " */
    const char *identity;           /* after the columns of an identity table's INSERT */
    const char *conflict;           /* after the VALUES */
} store_copy_dialect;

/*
 * Malloc'd SQL (NULL when out of memory): the SELECT of t's columns
 * ordered by key, with the key after parameters 1..nkey when after, LIMIT
 * the next parameter; the INSERT of nrows rows (parameters row by row);
 * the count and sum of t.
 */
char *store_copy_select_sql(const store_copy_dialect *d, const store_copy_table *t, int after);
char *store_copy_insert_sql(const store_copy_dialect *d, const store_copy_table *t, size_t nrows);
char *store_copy_stats_sql(const store_copy_table *t);

#endif
