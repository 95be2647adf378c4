/*
 * store_pg_remote.c - the remote tasks of provider engines (store.h,
 * "remote tasks") on PostgreSQL, with the invariants of
 * store_sqlite_remote.c:
 *  - a task in phase submit or wait belongs to a video that is processing
 *    with a running job that holds no lease (store_remote_begin makes both
 *    at once; every way out of processing settles the task);
 *  - only the claim's owner changes a claimed task, and every change gives
 *    the claim back, so one poll at a time reaches the provider per task;
 *  - a failure refunds through the queue's fail step: exactly once.
 *
 * Drivers on many nodes claim side by side: a claim locks the due tasks
 * it takes with FOR UPDATE SKIP LOCKED and judges "due" and "lapsed" by
 * the database's clock, so no task is claimed twice and no claim waits for
 * another. A change to a task first locks its job and video (through the
 * queue's steps), then the task: the store's order, job, video, user,
 * remote task.
 */
#include "store/store_int.h"
#include "store/store_pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum remote_stmt {
    R_INSERT,
    R_GET,
    R_CLAIM,
    R_OWNED,
    R_UPDATE,
    R_COLLECT,
    R_FAIL,
    R_RELEASE,
    R_COUNTS,
    R_CANCEL,
    R_CANCELED,
    R_COUNT
};
_Static_assert(R_COUNT <= PG_STMTS_MAX, "raise PG_STMTS_MAX in store_pg_int.h");

#define TASK_COLS                                                                                  \
    "video_id, plan, engine, phase, task, usage, detail, creates, polls, errors, cost,"            \
    " created_at, coalesce(submitted_at, 0), next_at, deadline_at, coalesce(done_at, 0)"

static const char *const remote_text[R_COUNT] = {
    [R_INSERT] = "INSERT INTO remote_tasks (video_id, plan, engine, phase, next_at, deadline_at,"
                 " created_at) VALUES ($1, $2, $3, 'submit', $4::bigint, $5::bigint, $4::bigint)",
    [R_GET] = "SELECT " TASK_COLS " FROM remote_tasks WHERE video_id = $1",
    /*
     * Oldest due first through remote_due; a claim that lapsed (its node
     * died) is free again; a task another driver is claiming is passed
     * over. One statement: the claim and the rows it hands back.
     */
    [R_CLAIM] = "WITH t(now) AS (SELECT hh_now_ms()),"
                " due AS (SELECT r.video_id FROM remote_tasks r, t WHERE r.plan = $1"
                "  AND r.phase = $2 AND r.next_at <= t.now"
                "  AND (r.claim_until IS NULL OR r.claim_until <= t.now)"
                "  ORDER BY r.next_at, r.created_at, r.video_id LIMIT $5::bigint"
                "  FOR UPDATE OF r SKIP LOCKED),"
                " claimed AS (UPDATE remote_tasks x SET claim_owner = $3,"
                "  claim_until = t.now + $4::bigint FROM due, t WHERE x.video_id = due.video_id"
                "  RETURNING x.*)"
                " SELECT " TASK_COLS " FROM claimed ORDER BY next_at, created_at, video_id",
    [R_OWNED] = "SELECT 1 FROM remote_tasks WHERE video_id = $1 AND claim_owner = $2"
                " AND phase IN ('submit', 'wait') FOR UPDATE",
    [R_UPDATE] = "UPDATE remote_tasks SET task = coalesce($2, task), detail = $3,"
                 " next_at = $4::bigint,"
                 " phase = CASE WHEN $5::bigint = 1 THEN 'wait' ELSE phase END,"
                 " creates = creates + $5::bigint,"
                 " submitted_at = CASE WHEN $5::bigint = 1 THEN hh_now_ms() ELSE submitted_at END,"
                 " errors = CASE WHEN $6::bigint = 1 THEN errors + 1 ELSE 0 END,"
                 " polls = polls + (1 - $6::bigint) * (1 - $5::bigint),"
                 " claim_owner = NULL, claim_until = NULL WHERE video_id = $1",
    [R_COLLECT] = "UPDATE remote_tasks SET phase = 'collect', task = $2, usage = $3,"
                  " cost = $4::float8, detail = NULL, errors = 0, polls = polls + 1,"
                  " claim_owner = NULL, claim_until = NULL WHERE video_id = $1",
    [R_FAIL] = "UPDATE remote_tasks SET detail = $2 WHERE video_id = $1",
    [R_RELEASE] = "UPDATE remote_tasks SET claim_owner = NULL, claim_until = NULL"
                  " WHERE claim_owner = $1",
    [R_COUNTS] = "SELECT phase, count(*) FROM remote_tasks GROUP BY phase",
    /* SET reads the old row: a task in wait goes to cancel, submit and collect to failed. */
    [R_CANCEL] =
        "UPDATE remote_tasks SET"
        " phase = CASE WHEN phase = 'wait' THEN 'cancel' ELSE 'failed' END,"
        " done_at = CASE WHEN phase = 'wait' THEN NULL ELSE $2::bigint END,"
        " next_at = $2::bigint, detail = 'canceled by its owner', claim_owner = NULL,"
        " claim_until = NULL WHERE video_id = $1 AND phase IN ('submit', 'wait', 'collect')",
    [R_CANCELED] = "UPDATE remote_tasks SET phase = 'failed', done_at = hh_now_ms(),"
                   " claim_owner = NULL, claim_until = NULL WHERE video_id = $1"
                   " AND claim_owner = $2 AND phase = 'cancel'",
};

static const pg_sql remote_sql = {PG_FILE_REMOTE, R_COUNT, remote_text};

static void read_task(const PGresult *r, int row, void *out)
{
    hh_remote_task *t = out;
    char phase[16];
    memset(t, 0, sizeof *t);
    pg_col_text(r, row, 0, t->video_id, sizeof t->video_id);
    pg_col_text(r, row, 1, t->plan, sizeof t->plan);
    pg_col_text(r, row, 2, t->engine, sizeof t->engine);
    pg_col_text(r, row, 3, phase, sizeof phase);
    t->phase = store_phase_parse(phase);
    t->task = pg_col_strdup(r, row, 4);
    t->usage = pg_col_strdup(r, row, 5);
    t->detail = pg_col_strdup(r, row, 6);
    t->creates = (int)pg_col_i64(r, row, 7);
    t->polls = (int)pg_col_i64(r, row, 8);
    t->errors = (int)pg_col_i64(r, row, 9);
    t->cost = pg_col_f64(r, row, 10);
    t->created_at = pg_col_i64(r, row, 11);
    t->submitted_at = pg_col_i64(r, row, 12);
    t->next_at = pg_col_i64(r, row, 13);
    t->deadline_at = pg_col_i64(r, row, 14);
    t->done_at = pg_col_i64(r, row, 15);
}

/* ---- begin ---- */

typedef struct remote_call {
    const char *video_id, *owner, *worker_id, *plan, *engine;
    const char *task, *usage, *message, *detail;
    const hh_remote_update *u;
    int64_t deadline_at;
    double cost;
} remote_call;

static hh_status begin_tx(pg_conn *c, void *ctx)
{
    const remote_call *r = ctx;
    int64_t now = 0;
    pg_num t, d;
    hh_status rc = pg_now(c, &now);
    if (rc || (rc = pg_job_hand_off_tx(c, r->video_id, r->worker_id, now)))
        return rc;
    const char *p[] = {r->video_id, r->plan, r->engine, pg_i64(&t, now),
                       pg_i64(&d, r->deadline_at)};
    return pg_exec(c, &remote_sql, R_INSERT, 5, p); /* HH_ERR_EXISTS: it has a task already */
}

static hh_status pg_remote_begin(hh_store *st, const char *video_id, const char *worker_id,
                                 const char *plan, const char *engine, int64_t deadline_at)
{
    remote_call r = {.video_id = video_id,
                     .worker_id = worker_id,
                     .plan = plan,
                     .engine = engine,
                     .deadline_at = deadline_at};
    return pg_tx(st, begin_tx, &r);
}

static hh_status pg_remote_get(hh_store *st, const char *video_id, hh_remote_task *out)
{
    PGresult *r = NULL;
    const char *p[] = {video_id};
    hh_status rc = pg_run(st, &remote_sql, R_GET, 1, p, &r);
    if (!rc && PQntuples(r) != 1)
        rc = HH_ERR_NOTFOUND;
    if (!rc)
        read_task(r, 0, out);
    PQclear(r);
    return rc;
}

/* ---- claims ---- */

static hh_status pg_remote_claim(hh_store *st, const char *plan, hh_remote_phase phase,
                                 const char *owner, int64_t claim_ms, int max, hh_remote_task **out,
                                 size_t *n)
{
    PGresult *r = NULL;
    pg_num ms, m;
    const char *p[] = {plan, hh_remote_phase_str(phase), owner, pg_i64(&ms, claim_ms),
                       pg_i64(&m, max)};
    *out = NULL;
    *n = 0;
    hh_status rc = pg_run(st, &remote_sql, R_CLAIM, 5, p, &r);
    if (!rc)
        rc = pg_collect_rows(r, sizeof **out, read_task, (void **)out, n);
    PQclear(r);
    return rc;
}

/*
 * HH_OK when owner holds a claim on a going task whose video is still
 * processing. The job and video are locked first (pg_video_processing),
 * then the task, so a driver whose claim lapsed and was taken meanwhile
 * waits for the new owner's change and then sees it is not its own.
 */
static hh_status check_claim(pg_conn *c, const char *video_id, const char *owner)
{
    PGresult *r = NULL;
    const char *p[] = {video_id, owner};
    hh_status rc = pg_video_processing(c, video_id);
    if (rc)
        return rc == HH_ERR_NOTFOUND ? HH_ERR_CONFLICT : rc; /* no video, so no task either */
    rc = pg_one(c, &remote_sql, R_OWNED, 2, p, &r);
    PQclear(r);
    return rc == HH_ERR_NOTFOUND ? HH_ERR_CONFLICT : rc;
}

/* ---- answers ---- */

static hh_status update_tx(pg_conn *c, void *ctx)
{
    const remote_call *r = ctx;
    const hh_remote_update *u = r->u;
    pg_num next, created, transient;
    const char *p[] = {r->video_id,
                       pg_text_or_null(u->task),
                       pg_text_or_null(u->detail),
                       pg_i64(&next, u->next_at),
                       pg_i64(&created, u->created ? 1 : 0),
                       pg_i64(&transient, u->transient ? 1 : 0)};
    hh_status rc = check_claim(c, r->video_id, r->owner);
    if (rc || (rc = pg_exec_one(c, &remote_sql, R_UPDATE, 6, p)) || u->progress < 0)
        return rc;
    return pg_video_progress_tx(c, r->video_id, u->progress);
}

static hh_status pg_remote_update(hh_store *st, const char *video_id, const char *owner,
                                  const hh_remote_update *u)
{
    if (u->created && !u->task)
        return HH_ERR_INVALID; /* a created task must say which it is */
    remote_call r = {.video_id = video_id, .owner = owner, .u = u};
    return pg_tx(st, update_tx, &r);
}

static hh_status collect_tx(pg_conn *c, void *ctx)
{
    const remote_call *r = ctx;
    int64_t now = 0;
    char cost[32];
    snprintf(cost, sizeof cost, "%.17g", r->cost);
    const char *p[] = {r->video_id, r->task, pg_text_or_null(r->usage), cost};
    hh_status rc = pg_now(c, &now);
    if (rc || (rc = check_claim(c, r->video_id, r->owner)) ||
        (rc = pg_exec_one(c, &remote_sql, R_COLLECT, 4, p)))
        return rc;
    return pg_job_collect_tx(c, r->video_id, now);
}

static hh_status pg_remote_collect(hh_store *st, const char *video_id, const char *owner,
                                   const char *task, const char *usage, double cost)
{
    remote_call r = {
        .video_id = video_id, .owner = owner, .task = task, .usage = usage, .cost = cost};
    return pg_tx(st, collect_tx, &r);
}

static hh_status fail_tx(pg_conn *c, void *ctx)
{
    const remote_call *r = ctx;
    int64_t now = 0;
    const char *p[] = {r->video_id, pg_text_or_null(r->detail)};
    hh_status rc = pg_now(c, &now);
    if (!rc && r->owner)
        rc = check_claim(c, r->video_id, r->owner);
    if (rc || (rc = pg_video_fail_tx(c, r->video_id, r->message, now)))
        return rc;
    return pg_exec(c, &remote_sql, R_FAIL, 2, p);
}

static hh_status pg_remote_fail(hh_store *st, const char *video_id, const char *owner,
                                const char *message, const char *detail)
{
    remote_call r = {.video_id = video_id, .owner = owner, .message = message, .detail = detail};
    return pg_tx(st, fail_tx, &r);
}

static hh_status pg_remote_release(hh_store *st, const char *owner)
{
    const char *p[] = {owner};
    return pg_run(st, &remote_sql, R_RELEASE, 1, p, NULL);
}

static hh_status pg_remote_counts(hh_store *st, int64_t counts[HH_REMOTE_PHASE_COUNT])
{
    PGresult *r = NULL;
    memset(counts, 0, HH_REMOTE_PHASE_COUNT * sizeof *counts);
    hh_status rc = pg_run(st, &remote_sql, R_COUNTS, 0, NULL, &r);
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        char phase[16];
        pg_col_text(r, i, 0, phase, sizeof phase);
        counts[store_phase_parse(phase)] = pg_col_i64(r, i, 1);
    }
    PQclear(r);
    return rc;
}

hh_status pg_remote_cancel_tx(pg_conn *c, const char *video_id, int64_t now)
{
    pg_num t;
    const char *p[] = {video_id, pg_i64(&t, now)};
    return pg_exec(c, &remote_sql, R_CANCEL, 2, p);
}

static hh_status pg_remote_canceled(hh_store *st, const char *video_id, const char *owner)
{
    const char *p[] = {video_id, owner};
    hh_status rc = pg_run_one(st, &remote_sql, R_CANCELED, 2, p);
    return rc == HH_ERR_NOTFOUND ? HH_ERR_CONFLICT : rc;
}

/* The operations of store.h this file implements, into the PostgreSQL table. */
void pg_remote_ops(store_ops *o)
{
    o->remote_begin = pg_remote_begin;
    o->remote_get = pg_remote_get;
    o->remote_claim = pg_remote_claim;
    o->remote_update = pg_remote_update;
    o->remote_collect = pg_remote_collect;
    o->remote_fail = pg_remote_fail;
    o->remote_canceled = pg_remote_canceled;
    o->remote_release = pg_remote_release;
    o->remote_counts = pg_remote_counts;
}
