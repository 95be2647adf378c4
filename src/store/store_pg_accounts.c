/*
 * store_pg_accounts.c - what the store does to protect itself and its
 * accounts on PostgreSQL (store_sqlite_accounts.c's part of store.h): the
 * checks inside a create's transaction (the caller may still create; the
 * account's caps on queued jobs and daily spending), the cap on API keys,
 * suspending an account, the audit log of operator actions, and forgetting
 * expired uploads. The paged key list is in store_pg_users.c, by the other
 * key reads; the health check is store_pg.c's.
 *
 * Caps: SQLite's BEGIN IMMEDIATE serialises every writer; here a capped
 * write first locks the user row (FOR NO KEY UPDATE, the lock the ledger
 * append takes too), so the writers of one account queue there, and since
 * each statement of a READ COMMITTED transaction reads what was committed
 * when it starts, the count taken after the lock sees every earlier
 * writer's row: racing creates cannot all pass the last free place.
 *
 * Lock order (store_pg_int.h): job -> video -> user. Suspending locks the
 * account's unfinished jobs before it marks the user, so cancelling them
 * afterwards (job, video, then the refund's user row) keeps that order.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/store_pg_int.h"

#define DAY_MS (24LL * 3600 * 1000)

/* This file's statements: the SQL of each in accounts_text, the prepared row PG_FILE_ACCOUNTS. */
enum accounts_stmt {
    A_USER_LOCK,
    A_KEY_COUNT,
    A_GUARD_KEY,
    A_GUARD_SESSION,
    A_QUEUED,
    A_SPENT,
    A_USER_STATE,
    A_JOBS_LOCK,
    A_USER_DISABLE,
    A_USER_ENABLE,
    A_SESSIONS_END,
    A_UNFINISHED,
    A_AUDIT_INSERT,
    A_AUDIT_LIST,
    A_UPLOAD_EXPIRED,
    A_UPLOAD_FORGET,
    A_COUNT
};
_Static_assert(A_COUNT <= PG_STMTS_MAX, "raise PG_STMTS_MAX in store_pg_int.h");

static const char *const accounts_text[A_COUNT] = {
    [A_USER_LOCK] = "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE",
    [A_KEY_COUNT] = "SELECT count(*) FROM api_keys WHERE user_id = $1 AND deleted_at IS NULL",
    [A_GUARD_KEY] = "SELECT 1 FROM api_keys k JOIN users u ON u.id = k.user_id"
                    " WHERE k.id = $1 AND k.user_id = $2 AND k.deleted_at IS NULL"
                    " AND u.api_access = 1 AND u.disabled_at IS NULL",
    [A_GUARD_SESSION] = "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id"
                        " WHERE s.id_hash = $1::bytea AND s.user_id = $2"
                        " AND s.expires_at > $3::bigint AND u.disabled_at IS NULL",
    [A_QUEUED] = "SELECT count(*) FROM jobs WHERE state = 'queued' AND user_id = $1",
    [A_SPENT] = "SELECT coalesce(-sum(amount), 0)::bigint FROM ledger WHERE user_id = $1"
                " AND created_at >= $2::bigint AND kind IN ('charge', 'refund')",
    [A_USER_STATE] = "SELECT (disabled_at IS NOT NULL)::int FROM users WHERE id = $1",
    [A_JOBS_LOCK] = "SELECT video_id FROM jobs WHERE user_id = $1"
                    " AND state IN ('queued', 'running') ORDER BY video_id FOR UPDATE",
    [A_USER_DISABLE] = "UPDATE users SET disabled_at = hh_now_ms()"
                       " WHERE id = $1 AND disabled_at IS NULL",
    [A_USER_ENABLE] = "UPDATE users SET disabled_at = NULL WHERE id = $1"
                      " AND disabled_at IS NOT NULL",
    [A_SESSIONS_END] = "DELETE FROM sessions WHERE user_id = $1",
    [A_UNFINISHED] = "SELECT j.video_id, v.credits_charged - v.credits_refunded"
                     " FROM jobs j JOIN videos v ON v.id = j.video_id"
                     " WHERE j.user_id = $1 AND j.state IN ('queued', 'running') LIMIT 1",
    [A_AUDIT_INSERT] = "INSERT INTO audit_log (at, actor, action, target, detail)"
                       " VALUES (hh_now_ms(), $1, $2, $3, $4)",
    [A_AUDIT_LIST] = "SELECT id, at, actor, action, coalesce(target, ''), detail FROM audit_log"
                     " WHERE ($1::bigint <= 0 OR id < $1::bigint) ORDER BY id DESC"
                     " LIMIT $2::bigint",
    /* Locked, so an upload that completes meanwhile waits and then finds it gone, rather than
     * completing a key this call reports (and its caller removes from storage). */
    [A_UPLOAD_EXPIRED] =
        "SELECT key FROM uploads WHERE state = 'pending'"
        " AND expires_at < $1::bigint"
        " AND expires_at + $3::bigint + size_bytes * 1000 / $4::bigint < $1::bigint"
        " ORDER BY expires_at LIMIT $2::bigint FOR UPDATE",
    [A_UPLOAD_FORGET] = "DELETE FROM uploads WHERE key = $1 AND state = 'pending'",
};

static const pg_sql accounts_sql = {PG_FILE_ACCOUNTS, A_COUNT, accounts_text};

/* Runs statement id with its n parameters and reads one integer into *out (0: no row). */
static hh_status count_of(pg_conn *c, int id, int n, const char *const *p, int64_t *out)
{
    PGresult *r = NULL;
    hh_status rc = pg_one(c, &accounts_sql, id, n, p, &r);
    *out = rc ? 0 : pg_col_i64(r, 0, 0);
    PQclear(r);
    return rc == HH_ERR_NOTFOUND ? HH_OK : rc;
}

/* Locks the user row (a missing user is no error here: the write that follows says so). */
static hh_status lock_user(pg_conn *c, const char *user_id)
{
    int64_t found;
    const char *p[] = {user_id};
    return count_of(c, A_USER_LOCK, 1, p, &found);
}

/* ---- inside a create's transaction ---- */

/* The caller of the create may still create: its key live (and API access on), or its session. */
static hh_status still_allowed(pg_conn *c, const hh_video_new *in, int64_t now)
{
    const hh_create_guard *g = in->guard;
    PGresult *r = NULL;
    char hex[2 * CRYPTO_SHA256_LEN + 3];
    pg_num at;
    if (!g->key_id && !g->session_hash)
        return HH_OK;
    const char *p[] = {
        g->key_id ? g->key_id : pg_bytea_hex(g->session_hash, CRYPTO_SHA256_LEN, hex, sizeof hex),
        in->user_id, pg_i64(&at, now)};
    hh_status rc = pg_one(c, &accounts_sql, g->key_id ? A_GUARD_KEY : A_GUARD_SESSION,
                          g->key_id ? 2 : 3, p, &r);
    PQclear(r);
    return rc == HH_ERR_NOTFOUND ? HH_ERR_DENIED : rc;
}

/*
 * The checks of in->guard inside store_video_create's transaction, as
 * sq_create_guard_tx: the user row is locked first, so the counts that
 * follow see every create of the account committed before this one.
 */
hh_status pg_create_guard_tx(pg_conn *c, const hh_video_new *in, int64_t now)
{
    hh_create_guard *g = in->guard;
    int64_t n = 0;
    pg_num day;
    g->hit = HH_GUARD_NONE;
    hh_status rc = lock_user(c, in->user_id);
    if (!rc)
        rc = still_allowed(c, in, now);
    if (rc) {
        g->hit = rc == HH_ERR_DENIED ? HH_GUARD_REVOKED : HH_GUARD_NONE;
        return rc;
    }
    const char *p[] = {in->user_id, pg_i64(&day, now - now % DAY_MS)};
    if (g->max_queued > 0) {
        if ((rc = count_of(c, A_QUEUED, 1, p, &n)))
            return rc;
        if (n >= g->max_queued) {
            g->hit = HH_GUARD_QUEUED;
            g->queued = n;
            return HH_ERR_LIMIT;
        }
    }
    if (g->max_credits_per_day > 0) {
        if ((rc = count_of(c, A_SPENT, 2, p, &n)))
            return rc;
        if (n < 0)
            n = 0; /* refunds today of yesterday's charges */
        if (n + in->price > g->max_credits_per_day) {
            g->hit = HH_GUARD_DAILY_SPEND;
            g->spent_today = n;
            return HH_ERR_LIMIT;
        }
    }
    return HH_OK;
}

/* ---- API keys ---- */

/* One store_key_insert_capped: the key made, its hash, the cap. */
typedef struct capped_key {
    const hh_api_key *k;
    const uint8_t *hash;
    int max_keys;
} capped_key;

static hh_status key_insert_capped_tx(pg_conn *c, void *ctx)
{
    const capped_key *ck = ctx;
    int64_t n = 0;
    const char *p[] = {ck->k->user_id};
    hh_status rc = lock_user(c, ck->k->user_id);
    if (!rc)
        rc = count_of(c, A_KEY_COUNT, 1, p, &n);
    if (!rc && n >= ck->max_keys)
        rc = HH_ERR_LIMIT;
    return rc ? rc : pg_key_insert_on(c, ck->k, ck->hash);
}

static hh_status pg_key_insert_capped(hh_store *st, const char *user_id, const char *name,
                                      const uint8_t hash[CRYPTO_SHA256_LEN], const char *prefix,
                                      int max_keys, hh_api_key *out)
{
    hh_api_key k;
    hh_status rc = pg_key_new(user_id, name, prefix, &k);
    if (rc)
        return rc;
    capped_key ck = {&k, hash, max_keys};
    rc = pg_tx(st, key_insert_capped_tx, &ck);
    if (!rc && out)
        *out = k;
    return rc;
}

/* ---- suspension ---- */

/* One store_user_set_disabled. */
typedef struct disable_call {
    const char *user_id;
    int on;
    const char *message;
    hh_suspension done;
} disable_call;

/* Fails and refunds every unfinished video of the user, one at a time. */
static hh_status cancel_unfinished(pg_conn *c, disable_call *d)
{
    const char *p[] = {d->user_id};
    for (;;) {
        PGresult *r = NULL;
        char id[HH_ID_LEN];
        hh_status rc = pg_one(c, &accounts_sql, A_UNFINISHED, 1, p, &r);
        int64_t owed = rc ? 0 : pg_col_i64(r, 0, 1);
        if (!rc)
            pg_col_text(r, 0, 0, id, sizeof id);
        PQclear(r);
        if (rc)
            return rc == HH_ERR_NOTFOUND ? HH_OK : rc;
        /* The operator's end of an unfinished video: failed with the message and refunded,
         * as the queue fails a job (sq_video_cancel_tx on SQLite). */
        int64_t now;
        if ((rc = pg_now(c, &now)) || (rc = pg_video_fail_tx(c, id, d->message, now)))
            return rc;
        d->done.videos_canceled++;
        d->done.credits_refunded += owed > 0 ? owed : 0;
    }
}

/* Ends every dashboard session of the user; *ended says how many. */
static hh_status end_sessions(pg_conn *c, const char *user_id, int64_t *ended)
{
    PGresult *r = NULL;
    const char *p[] = {user_id};
    hh_status rc = pg_query(c, &accounts_sql, A_SESSIONS_END, 1, p, &r);
    *ended = rc ? 0 : strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return rc;
}

/* Whether the user is suspended now (*disabled 0 or 1); HH_ERR_NOTFOUND for an unknown user. */
static hh_status user_state(pg_conn *c, const char *user_id, int64_t *disabled)
{
    PGresult *r = NULL;
    const char *p[] = {user_id};
    hh_status rc = pg_one(c, &accounts_sql, A_USER_STATE, 1, p, &r);
    *disabled = rc ? 0 : pg_col_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

static hh_status disable_tx(pg_conn *c, void *ctx)
{
    disable_call *d = ctx;
    int64_t disabled = 0;
    const char *p[] = {d->user_id};
    d->done = (hh_suspension){0, 0, 0};
    hh_status rc = user_state(c, d->user_id, &disabled);
    if (rc)
        return rc;
    if (disabled == d->on)
        return HH_ERR_CONFLICT; /* already in that state */
    if (d->on && (rc = pg_exec(c, &accounts_sql, A_JOBS_LOCK, 1, p)))
        return rc;
    rc = pg_exec_one(c, &accounts_sql, d->on ? A_USER_DISABLE : A_USER_ENABLE, 1, p);
    if (rc == HH_ERR_NOTFOUND)
        return HH_ERR_CONFLICT; /* another call changed its state since it was read */
    if (rc || !d->on)
        return rc;
    if ((rc = end_sessions(c, d->user_id, &d->done.sessions_ended)))
        return rc;
    return cancel_unfinished(c, d);
}

static hh_status pg_user_set_disabled(hh_store *st, const char *user_id, int on,
                                      const char *message, hh_suspension *out)
{
    disable_call d = {
        user_id, on != 0, message && *message ? message : "The account was suspended.", {0, 0, 0}};
    hh_status rc = pg_tx(st, disable_tx, &d);
    if (!rc && out)
        *out = d.done;
    return rc;
}

/* ---- the audit log ---- */

static hh_status pg_audit_append(hh_store *st, const char *actor, const char *action,
                                 const char *target, const char *detail)
{
    const char *p[] = {actor, action, pg_text_or_null(target), pg_text_or_null(detail)};
    return pg_run(st, &accounts_sql, A_AUDIT_INSERT, 4, p, NULL);
}

static void read_audit_row(const PGresult *r, int row, void *out)
{
    hh_audit_entry *e = out;
    memset(e, 0, sizeof *e);
    e->id = pg_col_i64(r, row, 0);
    e->at = pg_col_i64(r, row, 1);
    pg_col_text(r, row, 2, e->actor, sizeof e->actor);
    pg_col_text(r, row, 3, e->action, sizeof e->action);
    pg_col_text(r, row, 4, e->target, sizeof e->target);
    e->detail = pg_col_strdup(r, row, 5); /* NULL when out of memory, too: no detail */
}

static hh_status pg_audit_list(hh_store *st, int64_t before, int limit, hh_audit_entry **entries,
                               size_t *n)
{
    PGresult *r = NULL;
    void *arr = NULL;
    pg_num b, lim;
    *entries = NULL;
    *n = 0;
    const char *p[] = {pg_i64(&b, before), pg_i64(&lim, limit)};
    hh_status rc = pg_run(st, &accounts_sql, A_AUDIT_LIST, 2, p, &r);
    if (!rc)
        rc = pg_collect_rows(r, sizeof **entries, read_audit_row, &arr, n);
    PQclear(r);
    if (!rc)
        *entries = arr;
    return rc;
}

/* ---- expired uploads ---- */

/* One store_upload_expire. */
typedef struct expire_call {
    int64_t now, grace_ms, min_rate;
    int limit;
    int (*skip)(void *ctx, const char *key);
    void *ctx;
    char (*keys)[HH_KEY_MAX];
    size_t n;
} expire_call;

static hh_status expire_tx(pg_conn *c, void *ctx)
{
    expire_call *e = ctx;
    PGresult *r = NULL;
    pg_num now, lim, grace, rate;
    e->n = 0;
    const char *p[] = {pg_i64(&now, e->now), pg_i64(&lim, e->limit), pg_i64(&grace, e->grace_ms),
                       pg_i64(&rate, e->min_rate)};
    hh_status rc = pg_query(c, &accounts_sql, A_UPLOAD_EXPIRED, 4, p, &r);
    int rows = rc ? 0 : PQntuples(r);
    char key[HH_KEY_MAX];
    for (int i = 0; i < rows && e->n < (size_t)e->limit; i++) {
        pg_col_text(r, i, 0, key, sizeof key);
        if (e->skip && e->skip(e->ctx, key))
            continue;
        memcpy(e->keys[e->n++], key, sizeof key);
    }
    PQclear(r);
    for (size_t i = 0; !rc && i < e->n; i++) {
        const char *k[] = {e->keys[i]};
        rc = pg_exec(c, &accounts_sql, A_UPLOAD_FORGET, 1, k);
    }
    return rc;
}

static hh_status pg_upload_expire(hh_store *st, int64_t now, int64_t grace_ms, int64_t min_rate,
                                  int limit, int (*skip)(void *ctx, const char *key), void *ctx,
                                  char (*keys)[HH_KEY_MAX], size_t *n)
{
    *n = 0;
    expire_call e = {now, grace_ms, min_rate, limit, skip, ctx, keys, 0};
    hh_status rc = pg_tx(st, expire_tx, &e);
    if (!rc)
        *n = e.n;
    return rc;
}

/* The operations of store.h this file implements, into the PostgreSQL table. */
void pg_accounts_ops(store_ops *o)
{
    o->key_insert_capped = pg_key_insert_capped;
    o->user_set_disabled = pg_user_set_disabled;
    o->audit_append = pg_audit_append;
    o->audit_list = pg_audit_list;
    o->upload_expire = pg_upload_expire;
}
