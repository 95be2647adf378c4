/*
 * store_sqlite_webhooks.c - webhook endpoints and their durable outbox on
 * SQLite (the webhooks part of store.h).
 *
 * Invariants, each kept inside one transaction:
 *  - an event's outbox rows are written by the transaction that changes
 *    the video's status (sq_hook_event_tx, called from finish_tx and
 *    fail_tx), so an event exists exactly when its change committed: none
 *    is lost by a crash after the commit, none is sent for a rollback;
 *  - a pending delivery is attempted by one dispatcher at a time: a claim
 *    (owner, until) is taken in one UPDATE, and only the claim's owner may
 *    record the attempt, which gives the claim back;
 *  - deleting or disabling an endpoint drops its pending deliveries.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/timeutil.h"
#include "util/uuid.h"

/* The attempts an endpoint's delivery log keeps (older ones are cut as new ones come). */
#define LOG_KEEP 1000

enum hook_stmt {
    W_COUNT_LIVE,
    W_INSERT,
    W_GET,
    W_LIST,
    W_DELETE,
    W_DROP_PENDING,
    W_EVENT,
    W_CLAIM,
    W_CLAIMED,
    W_OWNED,
    W_ATTEMPT,
    W_SETTLE,
    W_DISABLE,
    W_PRUNE,
    W_LOG,
    W_PENDING,
    W_NSTMT
};
_Static_assert(W_NSTMT <= SQ_STMTS_MAX, "raise SQ_STMTS_MAX in store_sqlite_int.h");

#define HOOK_COLS "id, user_id, url, events, created_at, coalesce(disabled_at, 0)"

static const char *const hook_text[W_NSTMT] = {
    [W_COUNT_LIVE] = "SELECT count(*) FROM webhooks WHERE user_id = ?1 AND deleted_at IS NULL",
    [W_INSERT] = "INSERT INTO webhooks (id, user_id, url, events, secret, created_at)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [W_GET] = "SELECT " HOOK_COLS " FROM webhooks WHERE id = ?1 AND user_id = ?2"
              " AND deleted_at IS NULL",
    [W_LIST] = "SELECT " HOOK_COLS " FROM webhooks WHERE user_id = ?1 AND deleted_at IS NULL"
               " ORDER BY id DESC LIMIT ?2",
    [W_DELETE] = "UPDATE webhooks SET deleted_at = ?3 WHERE id = ?1 AND user_id = ?2"
                 " AND deleted_at IS NULL",
    [W_DROP_PENDING] = "UPDATE webhook_deliveries SET state = 'dropped', claim_owner = NULL,"
                       " claim_until = NULL WHERE webhook_id = ?1 AND state = 'pending'",
    /* One row per live endpoint of the user that takes the event, all sharing msg_id. */
    [W_EVENT] = "INSERT INTO webhook_deliveries (msg_id, webhook_id, video_id, type, created_at,"
                " state, next_at) SELECT ?1, id, ?2, ?3, ?4, 'pending', ?4 FROM webhooks"
                " WHERE user_id = ?5 AND deleted_at IS NULL AND disabled_at IS NULL"
                " AND (events & ?6) != 0",
    /* Due through webhook_due; a lapsed claim (its dispatcher died) is free again. */
    [W_CLAIM] = "UPDATE webhook_deliveries SET claim_owner = ?1, claim_until = ?2,"
                " attempts = attempts + 1 WHERE id IN (SELECT id FROM webhook_deliveries"
                " WHERE state = 'pending' AND next_at <= ?3"
                " AND (claim_until IS NULL OR claim_until <= ?3) ORDER BY next_at LIMIT ?4)",
    [W_CLAIMED] = "SELECT d.id, d.msg_id, d.webhook_id, d.video_id, d.type, d.created_at,"
                  " d.attempts, w.url, w.secret FROM webhook_deliveries d"
                  " JOIN webhooks w ON w.id = d.webhook_id"
                  " WHERE d.claim_owner = ?1 AND d.claim_until = ?2 AND d.state = 'pending'"
                  " ORDER BY d.next_at",
    [W_OWNED] = "SELECT webhook_id, attempts FROM webhook_deliveries WHERE id = ?1"
                " AND claim_owner = ?2 AND state = 'pending'",
    [W_ATTEMPT] = "INSERT INTO webhook_attempts (delivery_id, webhook_id, attempt, at, status,"
                  " error, duration_ms, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [W_SETTLE] = "UPDATE webhook_deliveries SET state = ?2, next_at = ?3, claim_owner = NULL,"
                 " claim_until = NULL WHERE id = ?1",
    [W_DISABLE] = "UPDATE webhooks SET disabled_at = ?2 WHERE id = ?1 AND disabled_at IS NULL",
    [W_PRUNE] = "DELETE FROM webhook_attempts WHERE webhook_id = ?1 AND id <= (SELECT id FROM"
                " webhook_attempts WHERE webhook_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    [W_LOG] = "SELECT d.msg_id, d.type, d.video_id, a.attempt, a.at, a.status,"
              " coalesce(a.error, ''), a.duration_ms, a.outcome FROM webhook_attempts a"
              " JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE a.webhook_id = ?1"
              " ORDER BY a.id DESC LIMIT ?2",
    [W_PENDING] = "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'",
};

static const sq_sql hook_sql = {SQ_FILE_WEBHOOKS, W_NSTMT, hook_text};

static void read_hook(sqlite3_stmt *s, void *out_)
{
    hh_webhook *w = out_;
    memset(w, 0, sizeof *w);
    sq_col_text(s, 0, w->id, sizeof w->id);
    sq_col_text(s, 1, w->user_id, sizeof w->user_id);
    sq_col_text(s, 2, w->url, sizeof w->url);
    w->events = (unsigned)sqlite3_column_int(s, 3);
    w->created_at = sqlite3_column_int64(s, 4);
    w->disabled_at = sqlite3_column_int64(s, 5);
}

/* ---- endpoints ---- */

typedef struct create_ctx {
    const hh_webhook *w;
    const uint8_t *secret;
    size_t secret_len;
    int max;
} create_ctx;

static hh_status create_tx(conn *c, void *ctx_)
{
    const create_ctx *x = ctx_;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &hook_sql, W_COUNT_LIVE, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, x->w->user_id, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "webhook count");
    int live = rc ? 0 : sqlite3_column_int(s, 0);
    sq_done(s);
    if (rc)
        return rc;
    if (live >= x->max)
        return HH_ERR_LIMIT;
    if ((rc = sq_stmt(c, &hook_sql, W_INSERT, &s)))
        return rc;
    sqlite3_bind_text(s, 1, x->w->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, x->w->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, x->w->url, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, (int)x->w->events);
    sqlite3_bind_blob(s, 5, x->secret, (int)x->secret_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, x->w->created_at);
    rc = sq_exec(c, s, "webhook insert");
    /* A foreign key failure: the user is gone. */
    return rc == HH_ERR_CONFLICT || rc == HH_ERR_EXISTS ? HH_ERR_NOTFOUND : rc;
}

static hh_status sq_webhook_create(hh_store *st, const char *user_id, const char *url,
                                   unsigned events, const uint8_t *secret, size_t secret_len,
                                   int max_per_user, hh_webhook *out)
{
    hh_webhook w = {.events = events, .created_at = hh_time_now_ms()};
    hh_status rc = uuid_v7(w.id);
    if (rc)
        return rc;
    memcpy(w.user_id, user_id, strlen(user_id) + 1);
    memcpy(w.url, url, strlen(url) + 1);
    create_ctx x = {&w, secret, secret_len, max_per_user};
    if (!(rc = sq_tx(st, create_tx, &x)))
        *out = w;
    return rc;
}

static hh_status sq_webhook_get(hh_store *st, const char *user_id, const char *id, hh_webhook *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    if (!user_id || !id)
        return HH_ERR_NOTFOUND;
    hh_status rc = sq_borrow(st, &hook_sql, W_GET, &c, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    if (!(rc = sq_step_one(c, s, "webhook get")))
        read_hook(s, out);
    sq_done(s);
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_webhook_list(hh_store *st, const char *user_id, hh_webhook **out, size_t *n)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    *out = NULL;
    *n = 0;
    hh_status rc = sq_borrow(st, &hook_sql, W_LIST, &c, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, STORE_HOOKS_MAX);
    rc = sq_collect_rows(c, s, sizeof **out, read_hook, (void **)out, n);
    sq_conn_put(st, c);
    return rc;
}

/* On c: the pending deliveries of endpoint id are dropped. */
static hh_status drop_pending(conn *c, const char *id)
{
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &hook_sql, W_DROP_PENDING, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    return sq_exec(c, s, "webhook drop pending");
}

typedef struct delete_ctx {
    const char *user_id, *id;
} delete_ctx;

static hh_status delete_tx(conn *c, void *ctx_)
{
    const delete_ctx *x = ctx_;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &hook_sql, W_DELETE, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, x->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, x->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, hh_time_now_ms());
    return (rc = sq_exec_one(c, s, "webhook delete")) ? rc : drop_pending(c, x->id);
}

static hh_status sq_webhook_delete(hh_store *st, const char *user_id, const char *id)
{
    if (!user_id || !id)
        return HH_ERR_NOTFOUND;
    delete_ctx x = {user_id, id};
    return sq_tx(st, delete_tx, &x);
}

/* ---- the outbox ---- */

hh_status sq_hook_event_tx(conn *c, const char *user_id, const char *video_id, hh_hook_event event,
                           int64_t now)
{
    char msg_id[48] = "msg_";
    sqlite3_stmt *s = NULL;
    hh_status rc = uuid_v7(msg_id + 4);
    if (rc || (rc = sq_stmt(c, &hook_sql, W_EVENT, &s)))
        return rc;
    sqlite3_bind_text(s, 1, msg_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, hh_hook_event_str(event), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_text(s, 5, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, (int)event);
    return sq_exec(c, s, "webhook event");
}

static void read_delivery(sqlite3_stmt *s, void *out_)
{
    hh_hook_delivery *d = out_;
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(s, 0);
    sq_col_text(s, 1, d->msg_id, sizeof d->msg_id);
    sq_col_text(s, 2, d->webhook_id, sizeof d->webhook_id);
    sq_col_text(s, 3, d->video_id, sizeof d->video_id);
    sq_col_text(s, 4, d->type, sizeof d->type);
    d->created_at = sqlite3_column_int64(s, 5);
    d->attempt = sqlite3_column_int(s, 6);
    sq_col_text(s, 7, d->url, sizeof d->url);
    int len = sqlite3_column_bytes(s, 8);
    const void *key = sqlite3_column_blob(s, 8);
    if (key && len > 0 && (size_t)len <= sizeof d->secret) {
        memcpy(d->secret, key, (size_t)len);
        d->secret_len = (size_t)len;
    }
}

typedef struct claim_ctx {
    const char *owner;
    int64_t now, until;
    int max;
    hh_hook_delivery *rows;
    size_t n;
} claim_ctx;

static hh_status claim_tx(conn *c, void *ctx_)
{
    claim_ctx *x = ctx_;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &hook_sql, W_CLAIM, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, x->owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, x->until);
    sqlite3_bind_int64(s, 3, x->now);
    sqlite3_bind_int(s, 4, x->max);
    if ((rc = sq_exec(c, s, "webhook claim")) || sqlite3_changes(c->db) == 0 ||
        (rc = sq_stmt(c, &hook_sql, W_CLAIMED, &s)))
        return rc;
    sqlite3_bind_text(s, 1, x->owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, x->until);
    return sq_collect_rows(c, s, sizeof *x->rows, read_delivery, (void **)&x->rows, &x->n);
}

static hh_status sq_hook_claim(hh_store *st, const char *owner, int64_t now, int64_t claim_ms,
                               int max, hh_hook_delivery **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    claim_ctx x = {.owner = owner, .now = now, .until = now + claim_ms, .max = max};
    hh_status rc = sq_tx(st, claim_tx, &x);
    if (rc) {
        free(x.rows); /* rolled back: nothing is claimed */
        return rc;
    }
    *out = x.rows;
    *n = x.n;
    return HH_OK;
}

typedef struct record_ctx {
    int64_t id;
    const char *owner;
    const hh_hook_attempt *a;
    int64_t next_at;
} record_ctx;

typedef struct record_many_ctx {
    const char *owner;
    const hh_hook_result *r;
    size_t n, skipped;
} record_many_ctx;

/* On c: endpoint id answered 410: disabled, and its pending deliveries dropped. */
static hh_status disable(conn *c, const char *id, int64_t now)
{
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &hook_sql, W_DISABLE, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    return (rc = sq_exec(c, s, "webhook disable")) ? rc : drop_pending(c, id);
}

/* On c: the attempt row of delivery x->id at endpoint hook, then the endpoint's log cut. */
static hh_status log_attempt(conn *c, const record_ctx *x, const char *hook, int attempt)
{
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &hook_sql, W_ATTEMPT, &s);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, x->id);
    sqlite3_bind_text(s, 2, hook, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, attempt);
    sqlite3_bind_int64(s, 4, x->a->at);
    sqlite3_bind_int(s, 5, x->a->status);
    sq_bind_text_or_null(s, 6, x->a->error);
    sqlite3_bind_int64(s, 7, x->a->duration_ms);
    sqlite3_bind_text(s, 8, hh_hook_outcome_str(x->a->outcome), -1, SQLITE_STATIC);
    if ((rc = sq_exec(c, s, "webhook attempt")) || (rc = sq_stmt(c, &hook_sql, W_PRUNE, &s)))
        return rc;
    sqlite3_bind_text(s, 1, hook, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, LOG_KEEP);
    return sq_exec(c, s, "webhook log prune");
}

/* On c: one attempt; HH_ERR_CONFLICT (nothing written) when owner lost its claim. */
static hh_status record_one(conn *c, const record_ctx *x)
{
    char hook[HH_ID_LEN];
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &hook_sql, W_OWNED, &s);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, x->id);
    sqlite3_bind_text(s, 2, x->owner, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "webhook owned");
    int attempt = rc ? 0 : sqlite3_column_int(s, 1);
    if (!rc)
        sq_col_text(s, 0, hook, sizeof hook);
    sq_done(s);
    if (rc)
        return rc == HH_ERR_NOTFOUND ? HH_ERR_CONFLICT : rc;
    if ((rc = log_attempt(c, x, hook, attempt)) || (rc = sq_stmt(c, &hook_sql, W_SETTLE, &s)))
        return rc;
    static const char *const states[] = {"delivered", "pending", "failed", "dropped"};
    sqlite3_bind_int64(s, 1, x->id);
    sqlite3_bind_text(s, 2, states[x->a->outcome], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, x->next_at);
    if ((rc = sq_exec_one(c, s, "webhook settle")))
        return rc;
    return x->a->outcome == HH_HOOK_DISABLED ? disable(c, hook, x->a->at) : HH_OK;
}

static hh_status record_tx(conn *c, void *ctx_)
{
    record_many_ctx *x = ctx_;
    x->skipped = 0;
    for (size_t i = 0; i < x->n; i++) {
        record_ctx one = {x->r[i].id, x->owner, &x->r[i].a, x->r[i].next_at};
        hh_status rc = record_one(c, &one);
        if (rc == HH_ERR_CONFLICT)
            x->skipped++;
        else if (rc)
            return rc;
    }
    return HH_OK;
}

static hh_status sq_hook_record(hh_store *st, const char *owner, const hh_hook_result *r, size_t n,
                                size_t *skipped)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned)r[i].a.outcome > HH_HOOK_DISABLED)
            return HH_ERR_INVALID;
    record_many_ctx x = {owner, r, n, 0};
    hh_status rc = n ? sq_tx(st, record_tx, &x) : HH_OK;
    if (!rc && skipped)
        *skipped = x.skipped;
    return rc;
}

static void read_attempt(sqlite3_stmt *s, void *out_)
{
    hh_hook_attempt *a = out_;
    char outcome[16];
    memset(a, 0, sizeof *a);
    sq_col_text(s, 0, a->msg_id, sizeof a->msg_id);
    sq_col_text(s, 1, a->type, sizeof a->type);
    sq_col_text(s, 2, a->video_id, sizeof a->video_id);
    a->attempt = sqlite3_column_int(s, 3);
    a->at = sqlite3_column_int64(s, 4);
    a->status = sqlite3_column_int(s, 5);
    sq_col_text(s, 6, a->error, sizeof a->error);
    a->duration_ms = sqlite3_column_int64(s, 7);
    sq_col_text(s, 8, outcome, sizeof outcome);
    a->outcome = store_outcome_parse(outcome);
}

static hh_status sq_hook_attempts(hh_store *st, const char *user_id, const char *webhook_id,
                                  int limit, hh_hook_attempt **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    hh_webhook w;
    hh_status rc = st->ops->webhook_get(st, user_id, webhook_id, &w);
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    if (rc || (rc = sq_borrow(st, &hook_sql, W_LOG, &c, &s)))
        return rc;
    sqlite3_bind_text(s, 1, webhook_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, limit);
    rc = sq_collect_rows(c, s, sizeof **out, read_attempt, (void **)out, n);
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_hook_pending(hh_store *st, int64_t *n)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &hook_sql, W_PENDING, &c, &s);
    if (rc)
        return rc;
    if (!(rc = sq_step_one(c, s, "webhook pending")))
        *n = sqlite3_column_int64(s, 0);
    sq_done(s);
    sq_conn_put(st, c);
    return rc;
}

/* The operations of store.h this file implements, into the SQLite table. */
void sq_webhooks_ops(store_ops *o)
{
    o->webhook_create = sq_webhook_create;
    o->webhook_get = sq_webhook_get;
    o->webhook_list = sq_webhook_list;
    o->webhook_delete = sq_webhook_delete;
    o->hook_claim = sq_hook_claim;
    o->hook_record = sq_hook_record;
    o->hook_attempts = sq_hook_attempts;
    o->hook_pending = sq_hook_pending;
}
