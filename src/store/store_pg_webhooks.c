/*
 * store_pg_webhooks.c - webhook endpoints and their durable outbox on
 * PostgreSQL (the webhooks part of store.h), the same contract as
 * store_sqlite_webhooks.c, drained by any number of nodes.
 *
 * Invariants, each kept inside one transaction:
 *  - an event's outbox rows are written by the transaction that changes
 *    the video's status (pg_hook_event_tx), so an event exists exactly
 *    when its change committed;
 *  - a pending delivery is attempted by one dispatcher at a time: a claim
 *    (owner, until) is taken by one UPDATE whose rows are picked FOR UPDATE
 *    SKIP LOCKED, so two nodes claiming at once never take one row twice
 *    and never wait for each other; only the claim's owner may record the
 *    attempt, which gives the claim back;
 *  - deleting or disabling an endpoint drops its pending deliveries; the
 *    event's insert reads the endpoints FOR SHARE so that a delete or a
 *    disable running at the same time is ordered before it (no row for a
 *    deleted endpoint) or after it (its drop sees the new rows).
 *
 * Locks: the cap of endpoints per user is held by locking the user row
 * before counting. A record that disables an endpoint locks a delivery, then
 * the endpoint, then its deliveries, while a delete locks the endpoint first:
 * the rare deadlock of the two (a 410 racing a delete) is retried by pg_tx.
 *
 * Time: an endpoint's created_at and deleted_at are the database's clock;
 * the claim's now and the attempts' times are the caller's, as passed.
 */
#include <string.h>

#include "store/store_int.h"
#include "store/store_pg_int.h"
#include "util/uuid.h"

/* The attempts an endpoint's delivery log keeps (older ones are cut as new ones come). */
#define LOG_KEEP 1000
/* Room for the bytea literal of an endpoint's signing key. */
#define SECRET_HEX (2 * STORE_HOOK_SECRET_MAX + 3)

enum hook_stmt {
    W_LOCK_USER,
    W_COUNT_LIVE,
    W_INSERT,
    W_GET,
    W_LIST,
    W_DELETE,
    W_DROP_PENDING,
    W_EVENT,
    W_CLAIM,
    W_OWNED,
    W_ATTEMPT,
    W_SETTLE,
    W_DISABLE,
    W_PRUNE,
    W_LOG,
    W_PENDING,
    W_NSTMT
};
_Static_assert(W_NSTMT <= PG_STMTS_MAX, "raise PG_STMTS_MAX in store_pg_int.h");

#define HOOK_COLS "id, user_id, url, events, created_at, coalesce(disabled_at, 0)"

static const char *const hook_text[W_NSTMT] = {
    /* Held to the end of create's transaction: two creates of one user count in turn. */
    [W_LOCK_USER] = "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
    [W_COUNT_LIVE] = "SELECT count(*) FROM webhooks WHERE user_id = $1 AND deleted_at IS NULL",
    [W_INSERT] = "INSERT INTO webhooks (id, user_id, url, events, secret, created_at)"
                 " VALUES ($1, $2, $3, $4::bigint, $5::bytea, hh_now_ms()) RETURNING created_at",
    [W_GET] = "SELECT " HOOK_COLS " FROM webhooks WHERE id = $1 AND user_id = $2"
              " AND deleted_at IS NULL",
    /* Byte order of ids, as SQLite compares text, whatever the database's collation. */
    [W_LIST] = "SELECT " HOOK_COLS " FROM webhooks WHERE user_id = $1 AND deleted_at IS NULL"
               " ORDER BY id COLLATE \"C\" DESC LIMIT $2::bigint",
    [W_DELETE] = "UPDATE webhooks SET deleted_at = hh_now_ms() WHERE id = $1 AND user_id = $2"
                 " AND deleted_at IS NULL",
    [W_DROP_PENDING] = "UPDATE webhook_deliveries SET state = 'dropped', claim_owner = NULL,"
                       " claim_until = NULL WHERE webhook_id = $1 AND state = 'pending'",
    /* One row per live endpoint of the user that takes the event, all sharing msg_id. */
    [W_EVENT] = "INSERT INTO webhook_deliveries (msg_id, webhook_id, video_id, type, created_at,"
                " state, next_at) SELECT $1::text, id, $2::text, $3::text, $4::bigint, 'pending',"
                " $4::bigint FROM webhooks WHERE user_id = $5 AND deleted_at IS NULL"
                " AND disabled_at IS NULL AND (events & $6::bigint) <> 0 FOR SHARE",
    /* Due through webhook_due; a lapsed claim (its dispatcher died) is free again. Rows
     * another claim holds are skipped, and one it took since this statement began fails
     * the recheck of claim_until, so each attempt is claimed once. */
    [W_CLAIM] = "WITH c AS (UPDATE webhook_deliveries SET claim_owner = $1,"
                " claim_until = $2::bigint, attempts = attempts + 1 WHERE id IN (SELECT id"
                " FROM webhook_deliveries WHERE state = 'pending' AND next_at <= $3::bigint"
                " AND (claim_until IS NULL OR claim_until <= $3::bigint) ORDER BY next_at, id"
                " LIMIT $4::bigint FOR UPDATE SKIP LOCKED)"
                " RETURNING id, msg_id, webhook_id, video_id, type, created_at, attempts, next_at)"
                " SELECT c.id, c.msg_id, c.webhook_id, c.video_id, c.type, c.created_at,"
                " c.attempts, w.url, w.secret FROM c JOIN webhooks w ON w.id = c.webhook_id"
                " ORDER BY c.next_at, c.id",
    [W_OWNED] = "SELECT webhook_id, attempts FROM webhook_deliveries WHERE id = $1::bigint"
                " AND claim_owner = $2 AND state = 'pending' FOR UPDATE",
    [W_ATTEMPT] = "INSERT INTO webhook_attempts (delivery_id, webhook_id, attempt, at, status,"
                  " error, duration_ms, outcome) VALUES ($1::bigint, $2, $3::bigint, $4::bigint,"
                  " $5::bigint, $6, $7::bigint, $8)",
    [W_SETTLE] = "UPDATE webhook_deliveries SET state = $2, next_at = $3::bigint,"
                 " claim_owner = NULL, claim_until = NULL WHERE id = $1::bigint",
    [W_DISABLE] = "UPDATE webhooks SET disabled_at = $2::bigint WHERE id = $1"
                  " AND disabled_at IS NULL",
    /* Rows another record is cutting already are skipped, not waited for: two records at
     * endpoints whose logs are full would otherwise lock each other's oldest rows in turn
     * (a deadlock); either way what is left is the same. */
    [W_PRUNE] = "DELETE FROM webhook_attempts WHERE id IN (SELECT id FROM webhook_attempts"
                " WHERE webhook_id = $1 AND id <= (SELECT id FROM webhook_attempts"
                " WHERE webhook_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2::bigint)"
                " FOR UPDATE SKIP LOCKED)",
    [W_LOG] = "SELECT d.msg_id, d.type, d.video_id, a.attempt, a.at, a.status,"
              " coalesce(a.error, ''), a.duration_ms, a.outcome FROM webhook_attempts a"
              " JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE a.webhook_id = $1"
              " ORDER BY a.id DESC LIMIT $2::bigint",
    [W_PENDING] = "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'",
};

static const pg_sql hook_sql = {PG_FILE_WEBHOOKS, W_NSTMT, hook_text};

static void read_hook(const PGresult *r, int row, void *out_)
{
    hh_webhook *w = out_;
    memset(w, 0, sizeof *w);
    pg_col_text(r, row, 0, w->id, sizeof w->id);
    pg_col_text(r, row, 1, w->user_id, sizeof w->user_id);
    pg_col_text(r, row, 2, w->url, sizeof w->url);
    w->events = (unsigned)pg_col_i64(r, row, 3);
    w->created_at = pg_col_i64(r, row, 4);
    w->disabled_at = pg_col_i64(r, row, 5);
}

/* ---- endpoints ---- */

typedef struct create_ctx {
    hh_webhook *w;
    const char *secret_hex;
    int max;
} create_ctx;

static hh_status create_tx(pg_conn *c, void *ctx_)
{
    create_ctx *x = ctx_;
    PGresult *r = NULL;
    pg_num ev;
    const char *user[] = {x->w->user_id};
    const char *p[] = {x->w->id, x->w->user_id, x->w->url, pg_i64(&ev, x->w->events),
                       x->secret_hex};
    /* An unknown user locks nothing; the insert's foreign key finds it, as in SQLite. */
    hh_status rc = pg_exec(c, &hook_sql, W_LOCK_USER, 1, user);
    if (rc || (rc = pg_one(c, &hook_sql, W_COUNT_LIVE, 1, user, &r)))
        return rc;
    int64_t live = pg_col_i64(r, 0, 0);
    PQclear(r);
    if (live >= x->max)
        return HH_ERR_LIMIT;
    rc = pg_one(c, &hook_sql, W_INSERT, 5, p, &r);
    if (rc)
        /* A foreign key failure: the user is gone. */
        return rc == HH_ERR_CONFLICT || rc == HH_ERR_EXISTS ? HH_ERR_NOTFOUND : rc;
    x->w->created_at = pg_col_i64(r, 0, 0);
    PQclear(r);
    return HH_OK;
}

static hh_status pg_webhook_create(hh_store *st, const char *user_id, const char *url,
                                   unsigned events, const uint8_t *secret, size_t secret_len,
                                   int max_per_user, hh_webhook *out)
{
    hh_webhook w = {.events = events};
    char hex[SECRET_HEX];
    hh_status rc = uuid_v7(w.id);
    if (rc)
        return rc;
    memcpy(w.user_id, user_id, strlen(user_id) + 1);
    memcpy(w.url, url, strlen(url) + 1);
    create_ctx x = {&w, pg_bytea_hex(secret, secret_len, hex, sizeof hex), max_per_user};
    if (!(rc = pg_tx(st, create_tx, &x)))
        *out = w;
    return rc;
}

static hh_status pg_webhook_get(hh_store *st, const char *user_id, const char *id, hh_webhook *out)
{
    PGresult *r = NULL;
    if (!user_id || !id)
        return HH_ERR_NOTFOUND;
    const char *p[] = {id, user_id};
    hh_status rc = pg_run(st, &hook_sql, W_GET, 2, p, &r);
    if (rc)
        return rc;
    if (PQntuples(r) == 0)
        rc = HH_ERR_NOTFOUND;
    else
        read_hook(r, 0, out);
    PQclear(r);
    return rc;
}

static hh_status pg_webhook_list(hh_store *st, const char *user_id, hh_webhook **out, size_t *n)
{
    PGresult *r = NULL;
    pg_num lim;
    *out = NULL;
    *n = 0;
    const char *p[] = {user_id, pg_i64(&lim, STORE_HOOKS_MAX)};
    hh_status rc = pg_run(st, &hook_sql, W_LIST, 2, p, &r);
    if (rc)
        return rc;
    rc = pg_collect_rows(r, sizeof **out, read_hook, (void **)out, n);
    PQclear(r);
    return rc;
}

/* On c: the pending deliveries of endpoint id are dropped. */
static hh_status drop_pending(pg_conn *c, const char *id)
{
    const char *p[] = {id};
    return pg_exec(c, &hook_sql, W_DROP_PENDING, 1, p);
}

typedef struct delete_ctx {
    const char *user_id, *id;
} delete_ctx;

static hh_status delete_tx(pg_conn *c, void *ctx_)
{
    const delete_ctx *x = ctx_;
    const char *p[] = {x->id, x->user_id};
    hh_status rc = pg_exec_one(c, &hook_sql, W_DELETE, 2, p);
    return rc ? rc : drop_pending(c, x->id);
}

static hh_status pg_webhook_delete(hh_store *st, const char *user_id, const char *id)
{
    if (!user_id || !id)
        return HH_ERR_NOTFOUND;
    delete_ctx x = {user_id, id};
    return pg_tx(st, delete_tx, &x);
}

/* ---- the outbox ---- */

hh_status pg_hook_event_tx(pg_conn *c, const char *user_id, const char *video_id,
                           hh_hook_event event, int64_t now)
{
    char msg_id[48] = "msg_";
    pg_num at, ev;
    hh_status rc = uuid_v7(msg_id + 4);
    if (rc)
        return rc;
    const char *p[] = {msg_id,           video_id, hh_hook_event_str(event),
                       pg_i64(&at, now), user_id,  pg_i64(&ev, (int64_t)event)};
    return pg_exec(c, &hook_sql, W_EVENT, 6, p);
}

static void read_delivery(const PGresult *r, int row, void *out_)
{
    hh_hook_delivery *d = out_;
    memset(d, 0, sizeof *d);
    d->id = pg_col_i64(r, row, 0);
    pg_col_text(r, row, 1, d->msg_id, sizeof d->msg_id);
    pg_col_text(r, row, 2, d->webhook_id, sizeof d->webhook_id);
    pg_col_text(r, row, 3, d->video_id, sizeof d->video_id);
    pg_col_text(r, row, 4, d->type, sizeof d->type);
    d->created_at = pg_col_i64(r, row, 5);
    d->attempt = (int)pg_col_i64(r, row, 6);
    pg_col_text(r, row, 7, d->url, sizeof d->url);
    long len = pg_col_bytea(r, row, 8, d->secret, sizeof d->secret);
    if (len > 0)
        d->secret_len = (size_t)len;
    else
        memset(d->secret, 0, sizeof d->secret); /* a key that does not fit is none */
}

/* One statement in autocommit: the claim is taken whole or, on failure, not at all. */
static hh_status pg_hook_claim(hh_store *st, const char *owner, int64_t now, int64_t claim_ms,
                               int max, hh_hook_delivery **out, size_t *n)
{
    PGresult *r = NULL;
    pg_num until, at, lim;
    *out = NULL;
    *n = 0;
    const char *p[] = {owner, pg_i64(&until, now + claim_ms), pg_i64(&at, now), pg_i64(&lim, max)};
    hh_status rc = pg_run(st, &hook_sql, W_CLAIM, 4, p, &r);
    if (rc)
        return rc;
    rc = pg_collect_rows(r, sizeof **out, read_delivery, (void **)out, n);
    PQclear(r);
    return rc;
}

typedef struct record_many_ctx {
    const char *owner;
    const hh_hook_result *r;
    size_t n, skipped;
} record_many_ctx;

/* On c: endpoint id answered 410: disabled, and its pending deliveries dropped. */
static hh_status disable(pg_conn *c, const char *id, int64_t now)
{
    pg_num at;
    const char *p[] = {id, pg_i64(&at, now)};
    hh_status rc = pg_exec(c, &hook_sql, W_DISABLE, 2, p);
    return rc ? rc : drop_pending(c, id);
}

/* On c: the attempt row of result x at endpoint hook, then the endpoint's log cut. */
static hh_status log_attempt(pg_conn *c, const hh_hook_result *x, const char *hook, int64_t attempt)
{
    pg_num id, n, at, status, ms, keep;
    const hh_hook_attempt *a = &x->a;
    const char *p[] = {pg_i64(&id, x->id),          hook,
                       pg_i64(&n, attempt),         pg_i64(&at, a->at),
                       pg_i64(&status, a->status),  a->error[0] ? a->error : NULL,
                       pg_i64(&ms, a->duration_ms), hh_hook_outcome_str(a->outcome)};
    const char *prune[] = {hook, pg_i64(&keep, LOG_KEEP)};
    hh_status rc = pg_exec(c, &hook_sql, W_ATTEMPT, 8, p);
    return rc ? rc : pg_exec(c, &hook_sql, W_PRUNE, 2, prune);
}

/* On c: one attempt; HH_ERR_CONFLICT (nothing written) when owner lost its claim. */
static hh_status record_one(pg_conn *c, const char *owner, const hh_hook_result *x)
{
    static const char *const states[] = {"delivered", "pending", "failed", "dropped"};
    char hook[HH_ID_LEN];
    PGresult *r = NULL;
    pg_num id, next;
    const char *owned[] = {pg_i64(&id, x->id), owner};
    hh_status rc = pg_one(c, &hook_sql, W_OWNED, 2, owned, &r);
    if (rc)
        return rc == HH_ERR_NOTFOUND ? HH_ERR_CONFLICT : rc;
    pg_col_text(r, 0, 0, hook, sizeof hook);
    int64_t attempt = pg_col_i64(r, 0, 1);
    PQclear(r);
    const char *settle[] = {owned[0], states[x->a.outcome], pg_i64(&next, x->next_at)};
    if ((rc = log_attempt(c, x, hook, attempt)) ||
        (rc = pg_exec_one(c, &hook_sql, W_SETTLE, 3, settle)))
        return rc;
    return x->a.outcome == HH_HOOK_DISABLED ? disable(c, hook, x->a.at) : HH_OK;
}

static hh_status record_tx(pg_conn *c, void *ctx_)
{
    record_many_ctx *x = ctx_;
    x->skipped = 0;
    for (size_t i = 0; i < x->n; i++) {
        hh_status rc = record_one(c, x->owner, &x->r[i]);
        if (rc == HH_ERR_CONFLICT)
            x->skipped++;
        else if (rc)
            return rc;
    }
    return HH_OK;
}

static hh_status pg_hook_record(hh_store *st, const char *owner, const hh_hook_result *r, size_t n,
                                size_t *skipped)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned)r[i].a.outcome > HH_HOOK_DISABLED)
            return HH_ERR_INVALID;
    record_many_ctx x = {owner, r, n, 0};
    hh_status rc = n ? pg_tx(st, record_tx, &x) : HH_OK;
    if (!rc && skipped)
        *skipped = x.skipped;
    return rc;
}

static void read_attempt(const PGresult *r, int row, void *out_)
{
    hh_hook_attempt *a = out_;
    char outcome[16];
    memset(a, 0, sizeof *a);
    pg_col_text(r, row, 0, a->msg_id, sizeof a->msg_id);
    pg_col_text(r, row, 1, a->type, sizeof a->type);
    pg_col_text(r, row, 2, a->video_id, sizeof a->video_id);
    a->attempt = (int)pg_col_i64(r, row, 3);
    a->at = pg_col_i64(r, row, 4);
    a->status = (int)pg_col_i64(r, row, 5);
    pg_col_text(r, row, 6, a->error, sizeof a->error);
    a->duration_ms = pg_col_i64(r, row, 7);
    pg_col_text(r, row, 8, outcome, sizeof outcome);
    a->outcome = store_outcome_parse(outcome);
}

static hh_status pg_hook_attempts(hh_store *st, const char *user_id, const char *webhook_id,
                                  int limit, hh_hook_attempt **out, size_t *n)
{
    PGresult *r = NULL;
    pg_num lim;
    *out = NULL;
    *n = 0;
    hh_webhook w;
    hh_status rc = st->ops->webhook_get(st, user_id, webhook_id, &w);
    const char *p[] = {webhook_id, pg_i64(&lim, limit)};
    if (rc || (rc = pg_run(st, &hook_sql, W_LOG, 2, p, &r)))
        return rc;
    rc = pg_collect_rows(r, sizeof **out, read_attempt, (void **)out, n);
    PQclear(r);
    return rc;
}

static hh_status pg_hook_pending(hh_store *st, int64_t *n)
{
    PGresult *r = NULL;
    hh_status rc = pg_run(st, &hook_sql, W_PENDING, 0, NULL, &r);
    if (!rc)
        *n = pg_col_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

/* The operations of store.h this file implements, into the PostgreSQL table. */
void pg_webhooks_ops(store_ops *o)
{
    o->webhook_create = pg_webhook_create;
    o->webhook_get = pg_webhook_get;
    o->webhook_list = pg_webhook_list;
    o->webhook_delete = pg_webhook_delete;
    o->hook_claim = pg_hook_claim;
    o->hook_record = pg_hook_record;
    o->hook_attempts = pg_hook_attempts;
    o->hook_pending = pg_hook_pending;
}
