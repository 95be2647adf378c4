/*
 * store_sqlite_accounts.c - what the store does to protect itself and its
 * accounts on SQLite: the checks inside a create's transaction (the caller
 * may still create; the account's caps on queued jobs and daily spending),
 * the cap on API keys and their paged listing, suspending an account, the
 * audit log of operator actions, forgetting expired uploads, and the
 * health check behind /readyz.
 *
 * The caps are counted inside the transaction that writes, so concurrent
 * requests cannot all pass the last free place: BEGIN IMMEDIATE serialises
 * them (store_sqlite_int.h).
 *
 * The health check never uses the pool's connections: their page caches
 * may hold pages that are no longer what the file says (another process
 * overwrote it, a disk went bad), so it opens a fresh read-only connection
 * and reads the file as it is now.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/timeutil.h"

#define DAY_MS (24LL * 3600 * 1000)

/* This file's statements: the SQL of each in accounts_text, the cache row SQ_FILE_ACCOUNTS. */
enum accounts_stmt {
    A_KEY_COUNT,
    A_KEY_PAGE,
    A_GUARD_KEY,
    A_GUARD_SESSION,
    A_QUEUED,
    A_SPENT,
    A_USER_EXISTS,
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
_Static_assert(A_COUNT <= SQ_STMTS_MAX, "raise SQ_STMTS_MAX in store_sqlite_int.h");

static const char *const accounts_text[A_COUNT] = {
    [A_KEY_COUNT] = "SELECT count(*) FROM api_keys WHERE user_id = ?1 AND deleted_at IS NULL",
    [A_KEY_PAGE] = "SELECT id, user_id, name, prefix, created_at, last_used_at FROM api_keys"
                   " WHERE user_id = ?1 AND deleted_at IS NULL AND (?2 = '' OR id < ?2)"
                   " ORDER BY id DESC LIMIT ?3",
    [A_GUARD_KEY] = "SELECT 1 FROM api_keys k JOIN users u ON u.id = k.user_id"
                    " WHERE k.id = ?1 AND k.user_id = ?2 AND k.deleted_at IS NULL"
                    " AND u.api_access = 1 AND u.disabled_at IS NULL",
    [A_GUARD_SESSION] = "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id"
                        " WHERE s.id_hash = ?1 AND s.user_id = ?2 AND s.expires_at > ?3"
                        " AND u.disabled_at IS NULL",
    [A_QUEUED] = "SELECT count(*) FROM jobs WHERE state = 'queued' AND user_id = ?1",
    [A_SPENT] = "SELECT coalesce(-sum(amount), 0) FROM ledger WHERE user_id = ?1"
                " AND created_at >= ?2 AND kind IN ('charge', 'refund')",
    [A_USER_EXISTS] = "SELECT 1 FROM users WHERE id = ?1",
    [A_USER_DISABLE] = "UPDATE users SET disabled_at = ?2 WHERE id = ?1 AND disabled_at IS NULL",
    [A_USER_ENABLE] = "UPDATE users SET disabled_at = NULL WHERE id = ?1"
                      " AND disabled_at IS NOT NULL",
    [A_SESSIONS_END] = "DELETE FROM sessions WHERE user_id = ?1",
    [A_UNFINISHED] = "SELECT j.video_id, v.credits_charged - v.credits_refunded"
                     " FROM jobs j JOIN videos v ON v.id = j.video_id"
                     " WHERE j.user_id = ?1 AND j.state IN ('queued', 'running') LIMIT 1",
    [A_AUDIT_INSERT] = "INSERT INTO audit_log (at, actor, action, target, detail)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)",
    [A_AUDIT_LIST] = "SELECT id, at, actor, action, coalesce(target, ''), detail FROM audit_log"
                     " WHERE (?1 <= 0 OR id < ?1) ORDER BY id DESC LIMIT ?2",
    [A_UPLOAD_EXPIRED] = "SELECT key FROM uploads WHERE state = 'pending' AND expires_at < ?1"
                         " AND expires_at + ?3 + size_bytes * 1000 / ?4 < ?1"
                         " ORDER BY expires_at LIMIT ?2",
    [A_UPLOAD_FORGET] = "DELETE FROM uploads WHERE key = ?1 AND state = 'pending'",
};

static const sq_sql accounts_sql = {SQ_FILE_ACCOUNTS, A_COUNT, accounts_text};

/* Runs statement id with ?1 = text and ?2 = num (when bind2) and reads one integer into *out. */
static hh_status count_of(conn *c, enum accounts_stmt id, const char *text, int bind2, int64_t num,
                          int64_t *out)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &accounts_sql, id, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
    if (bind2)
        sqlite3_bind_int64(s, 2, num);
    rc = sq_step_one(c, s, "count");
    *out = rc ? 0 : sqlite3_column_int64(s, 0);
    sq_done(s);
    return rc == HH_ERR_NOTFOUND ? HH_OK : rc;
}

/* ---- inside a create's transaction ---- */

/* The caller of the create may still create: its key live (and API access on), or its session. */
static hh_status still_allowed(conn *c, const hh_video_new *in, int64_t now)
{
    const hh_create_guard *g = in->guard;
    sqlite3_stmt *s;
    if (!g->key_id && !g->session_hash)
        return HH_OK;
    hh_status rc = sq_stmt(c, &accounts_sql, g->key_id ? A_GUARD_KEY : A_GUARD_SESSION, &s);
    if (rc)
        return rc;
    if (g->key_id)
        sqlite3_bind_text(s, 1, g->key_id, -1, SQLITE_STATIC);
    else
        sqlite3_bind_blob(s, 1, g->session_hash, CRYPTO_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, in->user_id, -1, SQLITE_STATIC);
    if (!g->key_id)
        sqlite3_bind_int64(s, 3, now);
    rc = sq_step_one(c, s, "create guard");
    sq_done(s);
    return rc == HH_ERR_NOTFOUND ? HH_ERR_DENIED : rc;
}

hh_status sq_create_guard_tx(conn *c, const hh_video_new *in, int64_t now)
{
    hh_create_guard *g = in->guard;
    int64_t n = 0;
    g->hit = HH_GUARD_NONE;
    hh_status rc = still_allowed(c, in, now);
    if (rc) {
        g->hit = rc == HH_ERR_DENIED ? HH_GUARD_REVOKED : HH_GUARD_NONE;
        return rc;
    }
    if (g->max_queued > 0) {
        if ((rc = count_of(c, A_QUEUED, in->user_id, 0, 0, &n)))
            return rc;
        if (n >= g->max_queued) {
            g->hit = HH_GUARD_QUEUED;
            g->queued = n;
            return HH_ERR_LIMIT;
        }
    }
    if (g->max_credits_per_day > 0) {
        if ((rc = count_of(c, A_SPENT, in->user_id, 1, now - now % DAY_MS, &n)))
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

static hh_status key_insert_capped_tx(conn *c, void *ctx)
{
    const capped_key *ck = ctx;
    int64_t n = 0;
    hh_status rc = count_of(c, A_KEY_COUNT, ck->k->user_id, 0, 0, &n);
    if (!rc && n >= ck->max_keys)
        rc = HH_ERR_LIMIT;
    return rc ? rc : sq_key_insert_on(c, ck->k, ck->hash);
}

static hh_status sq_key_insert_capped(hh_store *st, const char *user_id, const char *name,
                                      const uint8_t hash[CRYPTO_SHA256_LEN], const char *prefix,
                                      int max_keys, hh_api_key *out)
{
    hh_api_key k;
    hh_status rc = sq_key_new(user_id, name, prefix, &k);
    if (rc)
        return rc;
    capped_key ck = {&k, hash, max_keys};
    rc = sq_tx(st, key_insert_capped_tx, &ck);
    if (!rc && out)
        *out = k;
    return rc;
}

static hh_status sq_key_list_page(hh_store *st, const char *user_id, const char *before, int limit,
                                  hh_api_key **keys, size_t *n)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    *keys = NULL;
    *n = 0;
    hh_status rc = sq_borrow(st, &accounts_sql, A_KEY_PAGE, &c, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, before ? before : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, limit);
    rc = sq_collect_rows(c, s, sizeof **keys, sq_read_key_row, (void **)keys, n);
    sq_conn_put(st, c);
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

/* Runs statement id of this file with ?1 = user_id (and ?2 = now when with_now). */
static hh_status run_for_user(conn *c, enum accounts_stmt id, const char *user_id, int with_now,
                              int one)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &accounts_sql, id, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    if (with_now)
        sqlite3_bind_int64(s, 2, hh_time_now_ms());
    return one ? sq_exec_one(c, s, "user state") : sq_exec(c, s, "user sessions");
}

/* Fails and refunds every unfinished video of the user, one at a time. */
static hh_status cancel_unfinished(conn *c, disable_call *d)
{
    for (;;) {
        sqlite3_stmt *s;
        char id[HH_ID_LEN];
        hh_status rc = sq_stmt(c, &accounts_sql, A_UNFINISHED, &s);
        if (rc)
            return rc;
        sqlite3_bind_text(s, 1, d->user_id, -1, SQLITE_STATIC);
        rc = sq_step_one(c, s, "unfinished videos");
        int64_t owed = rc ? 0 : sqlite3_column_int64(s, 1);
        if (!rc)
            sq_col_text(s, 0, id, sizeof id);
        sq_done(s);
        if (rc)
            return rc == HH_ERR_NOTFOUND ? HH_OK : rc;
        if ((rc = sq_video_cancel_tx(c, id, d->message)))
            return rc;
        d->done.videos_canceled++;
        d->done.credits_refunded += owed > 0 ? owed : 0;
    }
}

static hh_status disable_tx(conn *c, void *ctx)
{
    disable_call *d = ctx;
    int64_t exists = 0;
    hh_status rc = count_of(c, A_USER_EXISTS, d->user_id, 0, 0, &exists);
    if (!rc && !exists)
        rc = HH_ERR_NOTFOUND;
    if (!rc)
        rc = run_for_user(c, d->on ? A_USER_DISABLE : A_USER_ENABLE, d->user_id, d->on, 1);
    if (rc == HH_ERR_NOTFOUND && exists)
        return HH_ERR_CONFLICT; /* already in that state */
    if (rc || !d->on)
        return rc;
    if ((rc = run_for_user(c, A_SESSIONS_END, d->user_id, 0, 0)))
        return rc;
    d->done.sessions_ended = sqlite3_changes(c->db);
    return cancel_unfinished(c, d);
}

static hh_status sq_user_set_disabled(hh_store *st, const char *user_id, int on,
                                      const char *message, hh_suspension *out)
{
    disable_call d = {
        user_id, on, message && *message ? message : "The account was suspended.", {0, 0, 0}};
    hh_status rc = sq_tx(st, disable_tx, &d);
    if (!rc && out)
        *out = d.done;
    return rc;
}

/* ---- the audit log ---- */

static hh_status sq_audit_append(hh_store *st, const char *actor, const char *action,
                                 const char *target, const char *detail)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &accounts_sql, A_AUDIT_INSERT, &c, &s);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, hh_time_now_ms());
    sqlite3_bind_text(s, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, action, -1, SQLITE_STATIC);
    sq_bind_text_or_null(s, 4, target);
    sq_bind_text_or_null(s, 5, detail);
    rc = sq_exec(c, s, "audit insert");
    sq_conn_put(st, c);
    return rc;
}

static void read_audit_row(sqlite3_stmt *s, void *out)
{
    hh_audit_entry *e = out;
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(s, 0);
    e->at = sqlite3_column_int64(s, 1);
    sq_col_text(s, 2, e->actor, sizeof e->actor);
    sq_col_text(s, 3, e->action, sizeof e->action);
    sq_col_text(s, 4, e->target, sizeof e->target);
    const unsigned char *d = sqlite3_column_text(s, 5);
    e->detail = d ? strdup((const char *)d) : NULL; /* NULL when out of memory, too: no detail */
}

static hh_status sq_audit_list(hh_store *st, int64_t before, int limit, hh_audit_entry **entries,
                               size_t *n)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    *entries = NULL;
    *n = 0;
    hh_status rc = sq_borrow(st, &accounts_sql, A_AUDIT_LIST, &c, &s);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, before);
    sqlite3_bind_int(s, 2, limit);
    rc = sq_collect_rows(c, s, sizeof **entries, read_audit_row, (void **)entries, n);
    sq_conn_put(st, c);
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

static hh_status expire_tx(conn *c, void *ctx)
{
    expire_call *e = ctx;
    sqlite3_stmt *s, *del;
    hh_status rc = sq_stmt(c, &accounts_sql, A_UPLOAD_EXPIRED, &s);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, e->now);
    sqlite3_bind_int(s, 2, e->limit);
    sqlite3_bind_int64(s, 3, e->grace_ms);
    sqlite3_bind_int64(s, 4, e->min_rate);
    int src;
    char key[HH_KEY_MAX];
    /* Read them all first: a statement stepping through rows that another one deletes is fine
     * in SQLite, but collecting keeps the order of effects plain. */
    while ((src = sqlite3_step(s)) == SQLITE_ROW && e->n < (size_t)e->limit) {
        sq_col_text(s, 0, key, sizeof key);
        if (e->skip && e->skip(e->ctx, key))
            continue;
        memcpy(e->keys[e->n++], key, sizeof key);
    }
    rc = src == SQLITE_ROW || src == SQLITE_DONE ? HH_OK : sq_error(c->db, src, "expired uploads");
    sq_done(s);
    for (size_t i = 0; !rc && i < e->n; i++) {
        if ((rc = sq_stmt(c, &accounts_sql, A_UPLOAD_FORGET, &del)))
            break;
        sqlite3_bind_text(del, 1, e->keys[i], -1, SQLITE_STATIC);
        rc = sq_exec(c, del, "upload forget");
    }
    return rc;
}

static hh_status sq_upload_expire(hh_store *st, int64_t now, int64_t grace_ms, int64_t min_rate,
                                  int limit, int (*skip)(void *ctx, const char *key), void *ctx,
                                  char (*keys)[HH_KEY_MAX], size_t *n)
{
    *n = 0;
    expire_call e = {now, grace_ms, min_rate, limit, skip, ctx, keys, 0};
    hh_status rc = sq_tx(st, expire_tx, &e);
    if (!rc)
        *n = e.n;
    return rc;
}

/* ---- health ---- */

/* The progress handler of the check: stops it once the time budget is spent. */
static int past_deadline(void *ctx)
{
    return hh_time_mono_ms() > *(const int64_t *)ctx;
}

/* Runs PRAGMA quick_check on db until done or the deadline; fills out. */
static void quick_check(sqlite3 *db, int64_t *deadline, hh_store_health *out)
{
    sqlite3_stmt *s = NULL;
    sqlite3_progress_handler(db, 1000, past_deadline, deadline);
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL);
    int rows = 0;
    if (rc == SQLITE_OK)
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(s, 0);
            if (rows++ == 0 && t && strcmp(t, "ok"))
                snprintf(out->problem, sizeof out->problem, "database corrupt: %.120s", t);
        }
    if (rc == SQLITE_DONE) {
        out->checked_all = 1;
    } else if (rc == SQLITE_INTERRUPT) {
        out->checked_all = 0; /* the budget ran out: what was read is fine */
    } else if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
        snprintf(out->problem, sizeof out->problem, "database corrupt: %.120s", sqlite3_errmsg(db));
    } else if ((rc & 0xff) == SQLITE_BUSY) {
        snprintf(out->problem, sizeof out->problem, "database locked");
    } else if (!out->problem[0]) {
        snprintf(out->problem, sizeof out->problem, "database unreadable: %.120s",
                 sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
}

static hh_status sq_health(hh_store *st, int budget_ms, hh_store_health *out)
{
    sqlite3 *db = NULL;
    memset(out, 0, sizeof *out);
    int64_t deadline = hh_time_mono_ms() + (budget_ms > 0 ? budget_ms : 1);
    int rc =
        sqlite3_open_v2(sq_store_path(st), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, budget_ms > 0 ? budget_ms : 1);
        quick_check(db, &deadline, out);
    } else {
        snprintf(out->problem, sizeof out->problem, "database cannot be opened: %.100s",
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    }
    sqlite3_close(db);
    if (!out->problem[0] && sq_corrupt_seen())
        snprintf(out->problem, sizeof out->problem,
                 "database corrupt: a request met a damaged page (see the log)");
    out->ok = !out->problem[0];
    return HH_OK;
}

/* The operations of store.h this file implements, into the SQLite table. */
void sq_accounts_ops(store_ops *o)
{
    o->health = sq_health;
    o->key_insert_capped = sq_key_insert_capped;
    o->key_list_page = sq_key_list_page;
    o->user_set_disabled = sq_user_set_disabled;
    o->audit_append = sq_audit_append;
    o->audit_list = sq_audit_list;
    o->upload_expire = sq_upload_expire;
}
