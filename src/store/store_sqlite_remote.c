/*
 * store_sqlite_remote.c - the remote tasks of provider engines (store.h,
 * "remote tasks"), on SQLite.
 *
 * Invariants, each kept inside one transaction:
 *  - a task in phase submit or wait belongs to a video that is processing
 *    with a running job that holds no lease (store_remote_begin makes both
 *    at once; every way out of processing settles the task: finish_tx and
 *    fail_tx of store_sqlite_videos.c call sq_remote_settle_tx);
 *  - only the claim's owner changes a claimed task, and every change gives
 *    the claim back, so one poll at a time reaches the provider per task;
 *  - a failure refunds through the same fail_tx as every other failure:
 *    exactly once, by the ledger's unique index.
 */
#include "store/store_int.h"
#include "store/store_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

enum remote_stmt {
    R_INSERT,
    R_GET,
    R_DUE,
    R_CLAIM,
    R_OWNED,
    R_UPDATE,
    R_COLLECT,
    R_FAIL,
    R_SETTLE,
    R_RELEASE,
    R_COUNTS,
    R_CANCEL,
    R_CANCELED,
    R_COUNT
};
_Static_assert(R_COUNT <= SQ_STMTS_MAX, "raise SQ_STMTS_MAX in store_sqlite_int.h");

#define SELECT_TASK                                                                                \
    "SELECT video_id, plan, engine, phase, task, usage, detail, creates, polls, errors, cost,"     \
    " created_at, coalesce(submitted_at, 0), next_at, deadline_at, coalesce(done_at, 0)"           \
    " FROM remote_tasks"

static const char *const remote_text[R_COUNT] = {
    [R_INSERT] = "INSERT INTO remote_tasks (video_id, plan, engine, phase, next_at, deadline_at,"
                 " created_at) VALUES (?1, ?2, ?3, 'submit', ?4, ?5, ?4)",
    [R_GET] = SELECT_TASK " WHERE video_id = ?1",
    /* Oldest due first through remote_due; a claim that lapsed (its node died) is free again. */
    [R_DUE] = "SELECT video_id FROM remote_tasks WHERE plan = ?1 AND phase = ?2"
              " AND next_at <= ?3 AND (claim_until IS NULL OR claim_until <= ?3)"
              " ORDER BY next_at LIMIT ?4",
    [R_CLAIM] = "UPDATE remote_tasks SET claim_owner = ?2, claim_until = ?3 WHERE video_id = ?1",
    [R_OWNED] = "SELECT 1 FROM remote_tasks WHERE video_id = ?1 AND claim_owner = ?2"
                " AND phase IN ('submit', 'wait')",
    [R_UPDATE] =
        "UPDATE remote_tasks SET task = coalesce(?2, task), detail = ?3, next_at = ?4,"
        " phase = CASE WHEN ?5 THEN 'wait' ELSE phase END,"
        " creates = creates + ?5, submitted_at = CASE WHEN ?5 THEN ?7 ELSE submitted_at END,"
        " errors = CASE WHEN ?6 THEN errors + 1 ELSE 0 END,"
        " polls = polls + (1 - ?6) * (1 - ?5),"
        " claim_owner = NULL, claim_until = NULL WHERE video_id = ?1",
    [R_COLLECT] = "UPDATE remote_tasks SET phase = 'collect', task = ?2, usage = ?3, cost = ?4,"
                  " detail = NULL, errors = 0, polls = polls + 1, claim_owner = NULL,"
                  " claim_until = NULL WHERE video_id = ?1",
    [R_FAIL] = "UPDATE remote_tasks SET detail = ?2 WHERE video_id = ?1",
    [R_SETTLE] = "UPDATE remote_tasks SET phase = ?2, done_at = ?3, claim_owner = NULL,"
                 " claim_until = NULL WHERE video_id = ?1 AND phase NOT IN ('done', 'failed')",
    [R_RELEASE] = "UPDATE remote_tasks SET claim_owner = NULL, claim_until = NULL"
                  " WHERE claim_owner = ?1",
    [R_COUNTS] = "SELECT phase, count(*) FROM remote_tasks GROUP BY phase",
    /* SET reads the old row: a task in wait goes to cancel, submit and collect to failed. */
    [R_CANCEL] = "UPDATE remote_tasks SET"
                 " phase = CASE WHEN phase = 'wait' THEN 'cancel' ELSE 'failed' END,"
                 " done_at = CASE WHEN phase = 'wait' THEN NULL ELSE ?2 END, next_at = ?2,"
                 " detail = 'canceled by its owner', claim_owner = NULL, claim_until = NULL"
                 " WHERE video_id = ?1 AND phase IN ('submit', 'wait', 'collect')",
    [R_CANCELED] = "UPDATE remote_tasks SET phase = 'failed', done_at = ?3, claim_owner = NULL,"
                   " claim_until = NULL WHERE video_id = ?1 AND claim_owner = ?2"
                   " AND phase = 'cancel'",
};

static const sq_sql remote_sql = {SQ_FILE_REMOTE, R_COUNT, remote_text};

static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? strdup((const char *)t) : NULL;
}

static void read_task(sqlite3_stmt *s, void *out)
{
    hh_remote_task *t = out;
    char phase[16];
    memset(t, 0, sizeof *t);
    sq_col_text(s, 0, t->video_id, sizeof t->video_id);
    sq_col_text(s, 1, t->plan, sizeof t->plan);
    sq_col_text(s, 2, t->engine, sizeof t->engine);
    sq_col_text(s, 3, phase, sizeof phase);
    t->phase = store_phase_parse(phase);
    t->task = col_dup(s, 4);
    t->usage = col_dup(s, 5);
    t->detail = col_dup(s, 6);
    t->creates = sqlite3_column_int(s, 7);
    t->polls = sqlite3_column_int(s, 8);
    t->errors = sqlite3_column_int(s, 9);
    t->cost = sqlite3_column_double(s, 10);
    t->created_at = sqlite3_column_int64(s, 11);
    t->submitted_at = sqlite3_column_int64(s, 12);
    t->next_at = sqlite3_column_int64(s, 13);
    t->deadline_at = sqlite3_column_int64(s, 14);
    t->done_at = sqlite3_column_int64(s, 15);
}

/* ---- begin ---- */

typedef struct remote_call {
    const char *video_id, *owner, *worker_id, *plan, *engine;
    const char *task, *usage, *message, *detail;
    const hh_remote_update *u;
    hh_remote_phase phase;
    int64_t deadline_at, claim_ms;
    double cost;
    int max;
    hh_remote_task *tasks;
    size_t n;
} remote_call;

static hh_status begin_tx(conn *c, void *ctx)
{
    const remote_call *r = ctx;
    int64_t now = hh_time_now_ms();
    sqlite3_stmt *s;
    hh_status rc = sq_job_hand_off_tx(c, r->video_id, r->worker_id, now);
    if (rc || (rc = sq_stmt(c, &remote_sql, R_INSERT, &s)))
        return rc;
    sqlite3_bind_text(s, 1, r->video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, r->engine, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_int64(s, 5, r->deadline_at);
    return sq_exec(c, s, "remote begin");
}

static hh_status sq_remote_begin(hh_store *st, const char *video_id, const char *worker_id,
                                 const char *plan, const char *engine, int64_t deadline_at)
{
    remote_call r = {.video_id = video_id,
                     .worker_id = worker_id,
                     .plan = plan,
                     .engine = engine,
                     .deadline_at = deadline_at};
    return sq_tx(st, begin_tx, &r);
}

static hh_status sq_remote_get(hh_store *st, const char *video_id, hh_remote_task *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &remote_sql, R_GET, &c, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "remote get");
    if (!rc)
        read_task(s, out);
    sq_done(s);
    sq_conn_put(st, c);
    return rc;
}

/* ---- claims ---- */

static hh_status claim_tx(conn *c, void *ctx)
{
    remote_call *r = ctx;
    int64_t now = hh_time_now_ms();
    sqlite3_stmt *s;
    char(*ids)[HH_ID_LEN] = calloc((size_t)r->max, HH_ID_LEN);
    size_t n = 0;
    hh_status rc = ids ? sq_stmt(c, &remote_sql, R_DUE, &s) : HH_ERR_NOMEM;
    if (rc) {
        free(ids);
        return rc;
    }
    sqlite3_bind_text(s, 1, r->plan, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, hh_remote_phase_str(r->phase), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    sqlite3_bind_int(s, 4, r->max);
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW && n < (size_t)r->max)
        sq_col_text(s, 0, ids[n++], HH_ID_LEN);
    sq_done(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = sq_error(c->db, step, "remote due");
    r->tasks = !rc && n ? calloc(n, sizeof *r->tasks) : NULL;
    if (!rc && n && !r->tasks)
        rc = HH_ERR_NOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        if ((rc = sq_stmt(c, &remote_sql, R_CLAIM, &s)))
            break;
        sqlite3_bind_text(s, 1, ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, r->owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, now + r->claim_ms);
        if ((rc = sq_exec_one(c, s, "remote claim")) || (rc = sq_stmt(c, &remote_sql, R_GET, &s)))
            break;
        sqlite3_bind_text(s, 1, ids[i], -1, SQLITE_STATIC);
        if (!(rc = sq_step_one(c, s, "remote claimed")))
            read_task(s, &r->tasks[r->n++]);
        sq_done(s);
    }
    free(ids);
    if (rc) {
        store_remote_list_free(r->tasks, r->n);
        r->tasks = NULL;
        r->n = 0;
    }
    return rc;
}

static hh_status sq_remote_claim(hh_store *st, const char *plan, hh_remote_phase phase,
                                 const char *owner, int64_t claim_ms, int max, hh_remote_task **out,
                                 size_t *n)
{
    *out = NULL;
    *n = 0;
    remote_call r = {
        .plan = plan, .phase = phase, .owner = owner, .claim_ms = claim_ms, .max = max};
    hh_status rc = sq_tx(st, claim_tx, &r);
    if (rc) {
        store_remote_list_free(r.tasks, r.n);
        return rc;
    }
    *out = r.tasks;
    *n = r.n;
    return HH_OK;
}

/* HH_OK when owner holds a live claim on a going task whose video is still processing. */
static hh_status check_claim(conn *c, const char *video_id, const char *owner)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &remote_sql, R_OWNED, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, owner, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "remote owned");
    sq_done(s);
    if (rc == HH_ERR_NOTFOUND)
        return HH_ERR_CONFLICT;
    return rc ? rc : sq_video_processing(c, video_id);
}

/* ---- answers ---- */

static hh_status update_tx(conn *c, void *ctx)
{
    const remote_call *r = ctx;
    const hh_remote_update *u = r->u;
    sqlite3_stmt *s;
    hh_status rc = check_claim(c, r->video_id, r->owner);
    if (rc || (rc = sq_stmt(c, &remote_sql, R_UPDATE, &s)))
        return rc;
    sqlite3_bind_text(s, 1, r->video_id, -1, SQLITE_STATIC);
    sq_bind_text_or_null(s, 2, u->task);
    sq_bind_text_or_null(s, 3, u->detail);
    sqlite3_bind_int64(s, 4, u->next_at);
    sqlite3_bind_int(s, 5, u->created ? 1 : 0);
    sqlite3_bind_int(s, 6, u->transient ? 1 : 0);
    sqlite3_bind_int64(s, 7, hh_time_now_ms());
    if ((rc = sq_exec_one(c, s, "remote update")) || u->progress < 0)
        return rc;
    return sq_video_progress_tx(c, r->video_id, u->progress);
}

static hh_status sq_remote_update(hh_store *st, const char *video_id, const char *owner,
                                  const hh_remote_update *u)
{
    if (u->created && !u->task)
        return HH_ERR_INVALID; /* a created task must say which it is */
    remote_call r = {.video_id = video_id, .owner = owner, .u = u};
    return sq_tx(st, update_tx, &r);
}

static hh_status collect_tx(conn *c, void *ctx)
{
    const remote_call *r = ctx;
    sqlite3_stmt *s;
    hh_status rc = check_claim(c, r->video_id, r->owner);
    if (rc || (rc = sq_stmt(c, &remote_sql, R_COLLECT, &s)))
        return rc;
    sqlite3_bind_text(s, 1, r->video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->task, -1, SQLITE_STATIC);
    sq_bind_text_or_null(s, 3, r->usage);
    sqlite3_bind_double(s, 4, r->cost);
    if ((rc = sq_exec_one(c, s, "remote collect")))
        return rc;
    return sq_job_collect_tx(c, r->video_id, hh_time_now_ms());
}

static hh_status sq_remote_collect(hh_store *st, const char *video_id, const char *owner,
                                   const char *task, const char *usage, double cost)
{
    remote_call r = {
        .video_id = video_id, .owner = owner, .task = task, .usage = usage, .cost = cost};
    return sq_tx(st, collect_tx, &r);
}

static hh_status fail_tx(conn *c, void *ctx)
{
    const remote_call *r = ctx;
    sqlite3_stmt *s;
    hh_status rc = r->owner ? check_claim(c, r->video_id, r->owner) : HH_OK;
    if (rc || (rc = sq_video_fail_tx(c, r->video_id, r->message, hh_time_now_ms())) ||
        (rc = sq_stmt(c, &remote_sql, R_FAIL, &s)))
        return rc;
    sqlite3_bind_text(s, 1, r->video_id, -1, SQLITE_STATIC);
    sq_bind_text_or_null(s, 2, r->detail);
    return sq_exec(c, s, "remote fail");
}

static hh_status sq_remote_fail(hh_store *st, const char *video_id, const char *owner,
                                const char *message, const char *detail)
{
    remote_call r = {.video_id = video_id, .owner = owner, .message = message, .detail = detail};
    return sq_tx(st, fail_tx, &r);
}

hh_status sq_remote_settle_tx(conn *c, const char *video_id, hh_remote_phase phase, int64_t now)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &remote_sql, R_SETTLE, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, hh_remote_phase_str(phase), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    return sq_exec(c, s, "remote settle"); /* no row: the video had no remote task */
}

static hh_status sq_remote_release(hh_store *st, const char *owner)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &remote_sql, R_RELEASE, &c, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
    rc = sq_exec(c, s, "remote release");
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_remote_counts(hh_store *st, int64_t counts[HH_REMOTE_PHASE_COUNT])
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    memset(counts, 0, HH_REMOTE_PHASE_COUNT * sizeof *counts);
    hh_status rc = sq_borrow(st, &remote_sql, R_COUNTS, &c, &s);
    if (rc)
        return rc;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        char phase[16];
        sq_col_text(s, 0, phase, sizeof phase);
        counts[store_phase_parse(phase)] = sqlite3_column_int64(s, 1);
    }
    if (step != SQLITE_DONE)
        rc = sq_error(c->db, step, "remote counts");
    sq_done(s);
    sq_conn_put(st, c);
    return rc;
}

hh_status sq_remote_cancel_tx(conn *c, const char *video_id, int64_t now)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &remote_sql, R_CANCEL, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    return sq_exec(c, s, "remote cancel");
}

static hh_status sq_remote_canceled(hh_store *st, const char *video_id, const char *owner)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &remote_sql, R_CANCELED, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, hh_time_now_ms());
    rc = sq_exec_one(c, s, "remote canceled");
    if (rc == HH_ERR_NOTFOUND)
        rc = HH_ERR_CONFLICT;
out:
    sq_conn_put(st, c);
    return rc;
}

/* The operations of store.h this file implements, into the SQLite table. */
void sq_remote_ops(store_ops *o)
{
    o->remote_begin = sq_remote_begin;
    o->remote_get = sq_remote_get;
    o->remote_claim = sq_remote_claim;
    o->remote_update = sq_remote_update;
    o->remote_collect = sq_remote_collect;
    o->remote_fail = sq_remote_fail;
    o->remote_canceled = sq_remote_canceled;
    o->remote_release = sq_remote_release;
    o->remote_counts = sq_remote_counts;
}
