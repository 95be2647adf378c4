/*
 * store_pg_queue.c - the job queue on PostgreSQL: fair claims under
 * leases, heartbeats, finish, fail (retried or refunded), release, the
 * queue's counts, and the job steps the remote tasks of store_pg_remote.c
 * take inside their transactions. The same contract as the queue part of
 * store_sqlite_videos.c (docs/internals/queue.md), for many workers on
 * many nodes at once.
 *
 * Where SQLite serializes every claim (BEGIN IMMEDIATE), here claims run
 * side by side and never wait for one another:
 *  - a worker locks the job it decides on with FOR UPDATE SKIP LOCKED, so
 *    a job another claim holds is passed over, and READ COMMITTED rechecks
 *    a row that changed meanwhile, so no job is taken twice;
 *  - the per-user cap is checked under a transaction-scoped advisory lock
 *    of that user, taken with a try (a user another claim holds is passed
 *    over for the next in the fair order), so two claims never both fill
 *    a user's last slot;
 *  - expired leases are judged by the database's clock (hh_now_ms()), the
 *    same for every node.
 * Rows are locked in one order: job, then video, then user (the ledger),
 * then remote task; every state change reads its job and video with
 * FOR UPDATE first (pg_job_state_lock), before anything else of the video.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "store/store_pg_int.h"
#include "util/log.h"

/* Candidate users the fair pick hands over at a time (more when all of them are passed over). */
#define PICK_BATCH   8
#define PICK_BATCH_S "8"
/* The advisory-lock class of "a claim is deciding on this user's jobs" (two-key form). */
#define USER_LOCK_CLASS "1212699953"

enum queue_stmt {
    Q_JOB_STATE,
    Q_JOB_EXPIRED,
    Q_PICK,
    Q_PICK_PLANS,
    Q_USER_LOCK,
    Q_USER_JOB,
    Q_USER_JOB_PLANS,
    Q_SERVED,
    Q_JOB_TAKE,
    Q_VIDEO_START,
    Q_JOB_HEARTBEAT,
    Q_VIDEO_PROGRESS,
    Q_JOB_END,
    Q_VIDEO_READY,
    Q_JOB_REQUEUE,
    Q_VIDEO_REQUEUE,
    Q_VIDEO_FAIL,
    Q_COUNTS,
    Q_QUEUE_STATS,
    Q_QUEUE_PLACE,
    Q_JOB_HAND_OFF,
    Q_JOB_COLLECT,
    Q_REMOTE_SETTLE,
    Q_COUNT
};
_Static_assert(Q_COUNT <= PG_STMTS_MAX, "raise PG_STMTS_MAX in store_pg_int.h");

/* A remote driver's claim: jobs of the plans in the JSON array p not yet handed to a provider. */
#define PLANS_IN(p)                                                                                \
    " AND stage = 'render' AND plan IN (SELECT jsonb_array_elements_text(" p "::jsonb))"

/*
 * The fair order of the users who may claim now (V_JOB_PICK of SQLite):
 * u walks the users with queued jobs one index seek each (a skip-scan of
 * jobs_queue); each with its running jobs, its oldest queued job and its
 * last turn. Users under their cap (the oldest job's snapshot) qualify: the
 * fewest running first, then the least recently served, then the oldest
 * job. One page of PICK_BATCH users from offset off.
 */
#define PICK(filter, off)                                                                          \
    "WITH RECURSIVE u(id) AS ("                                                                    \
    "  SELECT (SELECT min(user_id) FROM jobs WHERE state = 'queued'" filter ")"                    \
    "  UNION ALL SELECT (SELECT min(user_id) FROM jobs WHERE state = 'queued'" filter              \
    "   AND user_id > u.id) FROM u WHERE u.id IS NOT NULL),"                                       \
    " c(n, vid, last) AS (SELECT (SELECT count(*) FROM jobs WHERE"                                 \
    "   state = 'running' AND user_id = u.id), (SELECT video_id FROM jobs WHERE"                   \
    "   state = 'queued'" filter " AND user_id = u.id ORDER BY enqueued_at, video_id LIMIT 1),"    \
    "   coalesce((SELECT served FROM job_users WHERE user_id = u.id), 0)"                          \
    "  FROM u WHERE u.id IS NOT NULL)"                                                             \
    " SELECT j.user_id FROM c JOIN jobs j ON j.video_id = c.vid WHERE c.n < j.max_in_flight"       \
    " ORDER BY c.n, c.last, j.enqueued_at, j.video_id LIMIT " PICK_BATCH_S " OFFSET " off          \
    "::bigint"

/*
 * Under the user's lock: the user's oldest queued job that no one else
 * holds, locked, with its cap and the user's running jobs counted afresh.
 */
#define USER_JOB(filter)                                                                           \
    "SELECT j.video_id, j.max_in_flight, (SELECT count(*) FROM jobs r"                             \
    "  WHERE r.state = 'running' AND r.user_id = $1)"                                              \
    " FROM jobs j WHERE j.state = 'queued' AND j.user_id = $1" filter                              \
    " ORDER BY j.enqueued_at, j.video_id LIMIT 1 FOR UPDATE OF j SKIP LOCKED"

static const char *const queue_text[Q_COUNT] = {
    /* Every decision on a job reads it and its video locked, in that order. */
    [Q_JOB_STATE] = "SELECT j.state, j.attempts, j.max_attempts, coalesce(j.lease_owner, ''),"
                    " v.user_id, v.credits_charged, v.credits_refunded, v.status"
                    " FROM jobs j JOIN videos v ON v.id = j.video_id WHERE j.video_id = $1"
                    " FOR UPDATE OF j, v",
    /* One expired lease at a time; one another claim is ending already is left to it. */
    [Q_JOB_EXPIRED] = "SELECT video_id FROM jobs WHERE state = 'running'"
                      " AND lease_expires_at <= $1::bigint ORDER BY lease_expires_at LIMIT 1"
                      " FOR UPDATE SKIP LOCKED",
    [Q_PICK] = PICK("", "$1"),
    [Q_PICK_PLANS] = PICK(PLANS_IN("$2"), "$1"),
    /* Released at the end of the transaction; false when another claim holds it. */
    [Q_USER_LOCK] = "SELECT pg_try_advisory_xact_lock(" USER_LOCK_CLASS ", hashtext($1))",
    [Q_USER_JOB] = USER_JOB(""),
    [Q_USER_JOB_PLANS] = USER_JOB(PLANS_IN("$2")),
    /* A claim sequence, not a clock: two claims in one millisecond still take turns. */
    [Q_SERVED] = "INSERT INTO job_users (user_id, served) VALUES ($1,"
                 " (SELECT coalesce(max(served), 0) + 1 FROM job_users))"
                 " ON CONFLICT (user_id) DO UPDATE SET served = excluded.served",
    [Q_JOB_TAKE] = "UPDATE jobs SET state = 'running', attempts = attempts + 1,"
                   " lease_owner = $2, lease_expires_at = $3::bigint, updated_at = $4::bigint"
                   " WHERE video_id = $1",
    [Q_VIDEO_START] = "UPDATE videos SET status = 'processing',"
                      " started_at = coalesce(started_at, $2::bigint) WHERE id = $1",
    [Q_JOB_HEARTBEAT] = "UPDATE jobs SET lease_expires_at = hh_now_ms() + $3::bigint,"
                        " updated_at = hh_now_ms()"
                        " WHERE video_id = $1 AND lease_owner = $2 AND state = 'running'",
    [Q_VIDEO_PROGRESS] =
        "UPDATE videos SET progress = greatest(progress, $2::bigint) WHERE id = $1",
    [Q_JOB_END] = "UPDATE jobs SET state = $2, lease_owner = NULL, lease_expires_at = NULL,"
                  " updated_at = $3::bigint WHERE video_id = $1",
    [Q_VIDEO_READY] = "UPDATE videos SET status = 'ready', progress = 100, video_key = $2,"
                      " thumbnail_key = $3, ready_at = $4::bigint WHERE id = $1",
    [Q_JOB_REQUEUE] = "UPDATE jobs SET state = 'queued', lease_owner = NULL,"
                      " lease_expires_at = NULL, updated_at = $2::bigint,"
                      " attempts = attempts - $3::bigint WHERE video_id = $1",
    /* A retry renders from the start: progress says so rather than stall at the old figure. */
    [Q_VIDEO_REQUEUE] = "UPDATE videos SET status = 'queued', progress = 0 WHERE id = $1",
    [Q_VIDEO_FAIL] = "UPDATE videos SET status = 'failed', error_message = $2,"
                     " credits_refunded = $3::bigint WHERE id = $1",
    [Q_COUNTS] = "SELECT status, count(*) FROM videos GROUP BY status",
    /* One statement, one snapshot, one reading of the clock. */
    [Q_QUEUE_STATS] = "WITH t(now) AS (SELECT hh_now_ms()) SELECT"
                      " (SELECT count(*) FROM jobs WHERE state = 'queued'),"
                      " (SELECT count(*) FROM jobs, t WHERE state = 'running'"
                      "  AND lease_expires_at > t.now),"
                      " (SELECT count(*) FROM jobs, t WHERE state = 'running'"
                      "  AND lease_expires_at <= t.now),"
                      " (SELECT count(DISTINCT user_id) FROM jobs WHERE state = 'queued'),"
                      " (SELECT coalesce(min(enqueued_at), 0) FROM jobs WHERE state = 'queued')",
    /*
     * Where a queued job stands: its owner's running jobs and cap, the
     * owner's queued jobs that go before it, and the other users waiting
     * (the skip-scan of the pick).
     */
    [Q_QUEUE_PLACE] =
        "WITH RECURSIVE me AS (SELECT user_id, enqueued_at, max_in_flight FROM jobs"
        "  WHERE video_id = $1 AND state = 'queued'),"
        " u(id) AS (SELECT (SELECT min(user_id) FROM jobs WHERE state = 'queued')"
        "  UNION ALL SELECT (SELECT min(user_id) FROM jobs WHERE state = 'queued'"
        "   AND user_id > u.id) FROM u WHERE u.id IS NOT NULL)"
        " SELECT me.max_in_flight,"
        "  (SELECT count(*) FROM jobs WHERE state = 'running' AND user_id = me.user_id),"
        "  (SELECT count(*) FROM jobs j WHERE j.state = 'queued' AND j.user_id = me.user_id"
        "   AND (j.enqueued_at, j.video_id) < (me.enqueued_at, $1)),"
        "  (SELECT count(*) FROM u WHERE u.id IS NOT NULL AND u.id <> me.user_id)"
        " FROM me",
    /* A remote job: running, counted in flight, but under no lease while its provider works. */
    [Q_JOB_HAND_OFF] = "UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL,"
                       " updated_at = $2::bigint WHERE video_id = $1",
    /* The provider is done: a render thread downloads and re-encodes, with fresh attempts. */
    [Q_JOB_COLLECT] = "UPDATE jobs SET state = 'queued', stage = 'collect', attempts = 0,"
                      " lease_owner = NULL, lease_expires_at = NULL, updated_at = $2::bigint"
                      " WHERE video_id = $1 AND state = 'running' AND lease_owner IS NULL",
    [Q_REMOTE_SETTLE] =
        "UPDATE remote_tasks SET phase = $2, done_at = $3::bigint, claim_owner = NULL,"
        " claim_until = NULL WHERE video_id = $1 AND phase NOT IN ('done', 'failed')",
};

static const pg_sql queue_sql = {PG_FILE_QUEUE, Q_COUNT, queue_text};

/*
 * Inside a job's end: the video's remote task (if any) ends in phase (DONE
 * or FAILED). Here rather than in store_pg_remote.c, which builds on the
 * queue's steps: the queue's end of a job needs no more of remote tasks.
 */
static hh_status remote_settle_tx(pg_conn *c, const char *video_id, hh_remote_phase phase,
                                  int64_t now)
{
    pg_num t;
    const char *p[] = {video_id, hh_remote_phase_str(phase), pg_i64(&t, now)};
    return pg_exec(c, &queue_sql, Q_REMOTE_SETTLE, 3, p); /* no row: no remote task */
}

/* ---- reading a job ---- */

hh_status pg_job_state_lock(pg_conn *c, const char *video_id, pg_job_state *js)
{
    PGresult *r = NULL;
    const char *p[] = {video_id};
    hh_status rc = pg_one(c, &queue_sql, Q_JOB_STATE, 1, p, &r);
    if (!rc) {
        char vs[16];
        pg_col_text(r, 0, 0, js->state, sizeof js->state);
        js->attempts = (int)pg_col_i64(r, 0, 1);
        js->max_attempts = (int)pg_col_i64(r, 0, 2);
        pg_col_text(r, 0, 3, js->owner, sizeof js->owner);
        pg_col_text(r, 0, 4, js->user_id, sizeof js->user_id);
        js->charged = pg_col_i64(r, 0, 5);
        js->refunded = pg_col_i64(r, 0, 6);
        pg_col_text(r, 0, 7, vs, sizeof vs);
        js->video_status = store_status_parse(vs);
    }
    PQclear(r);
    return rc;
}

/* Checks that worker_id holds the lease on video_id; fills js. */
static hh_status check_lease(pg_conn *c, const char *video_id, const char *worker_id,
                             pg_job_state *js)
{
    hh_status rc = pg_job_state_lock(c, video_id, js);
    if (rc)
        return rc;
    if (strcmp(js->state, "running") || strcmp(js->owner, worker_id))
        return HH_ERR_CONFLICT;
    return HH_OK;
}

/* ---- state changes, inside a transaction ---- */

/* Sets the job's state (and clears its lease). */
static hh_status job_end(pg_conn *c, const char *video_id, const char *state, int64_t now)
{
    pg_num t;
    const char *p[] = {video_id, state, pg_i64(&t, now)};
    return pg_exec_one(c, &queue_sql, Q_JOB_END, 3, p);
}

/*
 * Fails the video with message and refunds what was charged and not yet
 * refunded; the ledger's unique index makes a second refund impossible.
 * The video is locked already (pg_job_state_lock), so the ledger's user lock
 * and the remote task's come after it.
 */
static hh_status fail_tx(pg_conn *c, const char *video_id, const pg_job_state *js,
                         const char *message, int64_t now)
{
    hh_status rc = job_end(c, video_id, "failed", now);
    int64_t owed = js->charged - js->refunded;
    if (!rc && owed > 0)
        rc = pg_ledger_append_tx(c, js->user_id, owed, HH_LEDGER_REFUND, video_id, "video failed",
                                 NULL);
    if (!rc)
        rc = remote_settle_tx(c, video_id, HH_REMOTE_FAILED, now);
    if (!rc)
        rc = pg_hook_event_tx(c, js->user_id, video_id, HH_HOOK_VIDEO_FAILED, now);
    if (!rc) {
        pg_num ch;
        const char *p[] = {video_id, message && *message ? message : "The render failed.",
                           pg_i64(&ch, js->charged)};
        rc = pg_exec_one(c, &queue_sql, Q_VIDEO_FAIL, 3, p);
    }
    return rc;
}

/* Back to queued; uncount is 1 when the claim should not count as an attempt. */
static hh_status requeue_tx(pg_conn *c, const char *video_id, int uncount, int64_t now)
{
    pg_num t, u;
    const char *p[] = {video_id, pg_i64(&t, now), pg_i64(&u, uncount)};
    hh_status rc = pg_exec_one(c, &queue_sql, Q_JOB_REQUEUE, 3, p);
    return rc ? rc : pg_exec_one(c, &queue_sql, Q_VIDEO_REQUEUE, 1, p);
}

/* Ends the expired lease of video_id (locked): requeued with attempts left, else failed. */
static hh_status expire_one(pg_conn *c, const char *id, int64_t now)
{
    pg_job_state js;
    hh_status rc = pg_job_state_lock(c, id, &js);
    if (rc)
        return rc;
    if (js.attempts < js.max_attempts) {
        hh_log_fields(
            HH_LOG_WARN, "job lease expired: requeued",
            json_pack("{s:s, s:s, s:i}", "video", id, "worker", js.owner, "attempts", js.attempts));
        return requeue_tx(c, id, 0, now);
    }
    char msg[128];
    snprintf(msg, sizeof msg, "The render did not finish after %d attempts.", js.attempts);
    hh_log_fields(HH_LOG_WARN, "job failed: attempts spent",
                  json_pack("{s:s, s:i}", "video", id, "attempts", js.attempts));
    return fail_tx(c, id, &js, msg, now);
}

/*
 * Ends every expired lease no other claim is ending right now. After this,
 * every running job holds a live lease (or is being reaped by another
 * claim), so the pick can count running jobs without looking at times.
 */
static hh_status expire_leases(pg_conn *c, int64_t now)
{
    pg_num t;
    const char *p[] = {pg_i64(&t, now)};
    for (;;) {
        PGresult *r = NULL;
        char id[HH_ID_LEN];
        hh_status rc = pg_one(c, &queue_sql, Q_JOB_EXPIRED, 1, p, &r);
        if (!rc)
            pg_col_text(r, 0, 0, id, sizeof id);
        PQclear(r);
        if (rc)
            return rc == HH_ERR_NOTFOUND ? HH_OK : rc;
        if ((rc = expire_one(c, id, now)))
            return rc;
    }
}

/* ---- claims ---- */

/*
 * The arguments of one job call, read by its transaction body (each call
 * sets the fields it uses), and what the claim found.
 */
typedef struct job_call {
    const char *video_id;
    const char *worker_id;
    int64_t lease_ms;
    int progress;
    const char *video_key, *thumbnail_key;
    const char *message;
    int retryable;
    const char *plans;       /* the claim's plans (a JSON array), or NULL: any job */
    char claimed[HH_ID_LEN]; /* the claim's video; "" when no job was ready */
} job_call;

/* Takes the locked job id of user_id: the lease, the video started, the user's turn. */
static hh_status take(pg_conn *c, const job_call *j, const char *id, const char *user_id,
                      int64_t now)
{
    pg_num until, t;
    const char *p[] = {id, j->worker_id, pg_i64(&until, now + j->lease_ms), pg_i64(&t, now)};
    const char *start[] = {id, p[3]};
    hh_status rc = pg_exec_one(c, &queue_sql, Q_JOB_TAKE, 4, p);
    if (!rc)
        rc = pg_exec_one(c, &queue_sql, Q_VIDEO_START, 2, start);
    return rc ? rc : pg_exec(c, &queue_sql, Q_SERVED, 1, &user_id);
}

/*
 * Tries user_id, next in the fair order: under the user's lock, its oldest
 * queued job nobody holds, if the user is still under its cap. *taken says
 * whether a job was claimed; a user passed over is no error.
 */
static hh_status try_user(pg_conn *c, job_call *j, const char *user_id, int64_t now, int *taken)
{
    PGresult *r = NULL;
    const char *p[] = {user_id, j->plans};
    *taken = 0;
    hh_status rc = pg_one(c, &queue_sql, Q_USER_LOCK, 1, p, &r);
    if (rc || strcmp(PQgetvalue(r, 0, 0), "t"))
        goto out; /* another claim is deciding on this user: the next one */
    PQclear(r);
    r = NULL;
    rc = pg_one(c, &queue_sql, j->plans ? Q_USER_JOB_PLANS : Q_USER_JOB, j->plans ? 2 : 1, p, &r);
    if (rc == HH_ERR_NOTFOUND) {
        rc = HH_OK; /* its jobs were taken or are held meanwhile */
        goto out;
    }
    if (rc || pg_col_i64(r, 0, 2) >= pg_col_i64(r, 0, 1))
        goto out; /* at its cap now */
    pg_col_text(r, 0, 0, j->claimed, sizeof j->claimed);
    if (!(rc = take(c, j, j->claimed, user_id, now)))
        *taken = 1;
out:
    PQclear(r);
    if (!*taken)
        j->claimed[0] = '\0';
    return rc;
}

/* Walks the fair order a page at a time until a user's job is taken or no user is left. */
static hh_status claim_fair(pg_conn *c, job_call *j, int64_t now)
{
    for (int64_t off = 0;; off += PICK_BATCH) {
        PGresult *r = NULL;
        pg_num o;
        const char *p[] = {pg_i64(&o, off), j->plans};
        hh_status rc =
            pg_query(c, &queue_sql, j->plans ? Q_PICK_PLANS : Q_PICK, j->plans ? 2 : 1, p, &r);
        int n = rc ? 0 : PQntuples(r), taken = 0;
        for (int i = 0; !rc && !taken && i < n; i++)
            rc = try_user(c, j, PQgetvalue(r, i, 0), now, &taken);
        PQclear(r);
        if (rc || taken || n < PICK_BATCH)
            return rc;
    }
}

/* The claim's transaction. No job ready is HH_OK with j->claimed "": what reaping did is kept. */
static hh_status claim_tx(pg_conn *c, void *ctx)
{
    job_call *j = ctx;
    int64_t now = 0;
    j->claimed[0] = '\0';
    hh_status rc = pg_now(c, &now);
    if (!rc)
        rc = expire_leases(c, now);
    return rc ? rc : claim_fair(c, j, now);
}

static hh_status pg_job_claim_plans(hh_store *st, const char *worker_id, int64_t lease_ms,
                                    const char *plans, hh_video *out)
{
    job_call j = {.worker_id = worker_id, .lease_ms = lease_ms, .plans = plans};
    hh_status rc = pg_tx(st, claim_tx, &j);
    if (rc)
        return rc;
    if (!j.claimed[0])
        return HH_ERR_NOTFOUND;
    return st->ops->video_get(st, j.claimed, NULL, out);
}

/* ---- a worker's calls ---- */

static hh_status heartbeat_tx(pg_conn *c, void *ctx)
{
    const job_call *j = ctx;
    pg_num l;
    const char *p[] = {j->video_id, j->worker_id, pg_i64(&l, j->lease_ms)};
    hh_status rc = pg_exec_one(c, &queue_sql, Q_JOB_HEARTBEAT, 3, p);
    if (rc == HH_ERR_NOTFOUND) {
        /* The lease is someone else's, or the job ended: canceled, the worker says so. */
        pg_job_state js;
        rc = pg_job_state_lock(c, j->video_id, &js);
        return rc || js.video_status != HH_VIDEO_CANCELED ? HH_ERR_CONFLICT : HH_ERR_CANCELED;
    }
    return rc ? rc : pg_video_progress_tx(c, j->video_id, j->progress);
}

static hh_status pg_job_heartbeat(hh_store *st, const char *video_id, const char *worker_id,
                                  int progress, int64_t lease_ms)
{
    job_call j = {
        .video_id = video_id, .worker_id = worker_id, .progress = progress, .lease_ms = lease_ms};
    return pg_tx(st, heartbeat_tx, &j);
}

static hh_status finish_tx(pg_conn *c, void *ctx)
{
    const job_call *j = ctx;
    int64_t now = 0;
    pg_job_state js = {0};
    pg_num t;
    hh_status rc = pg_now(c, &now);
    if (!rc)
        rc = check_lease(c, j->video_id, j->worker_id, &js);
    if (rc == HH_ERR_CONFLICT && js.video_status == HH_VIDEO_CANCELED)
        return HH_ERR_CANCELED; /* the worker removes what it stored for nothing */
    if (rc || (rc = job_end(c, j->video_id, "done", now)) ||
        (rc = remote_settle_tx(c, j->video_id, HH_REMOTE_DONE, now)) ||
        (rc = pg_hook_event_tx(c, js.user_id, j->video_id, HH_HOOK_VIDEO_READY, now)))
        return rc;
    const char *p[] = {j->video_id, j->video_key, j->thumbnail_key, pg_i64(&t, now)};
    return pg_exec_one(c, &queue_sql, Q_VIDEO_READY, 4, p);
}

static hh_status pg_job_finish(hh_store *st, const char *video_id, const char *worker_id,
                               const char *video_key, const char *thumbnail_key)
{
    job_call j = {.video_id = video_id,
                  .worker_id = worker_id,
                  .video_key = video_key,
                  .thumbnail_key = thumbnail_key};
    return pg_tx(st, finish_tx, &j);
}

static hh_status fail_or_retry_tx(pg_conn *c, void *ctx)
{
    const job_call *j = ctx;
    int64_t now = 0;
    pg_job_state js;
    hh_status rc = pg_now(c, &now);
    if (!rc)
        rc = j->worker_id ? check_lease(c, j->video_id, j->worker_id, &js)
                          : pg_job_state_lock(c, j->video_id, &js);
    if (rc)
        return rc;
    if (store_video_ended(js.video_status))
        return HH_ERR_CONFLICT;
    if (j->worker_id && j->retryable && js.attempts < js.max_attempts)
        return requeue_tx(c, j->video_id, 0, now);
    return fail_tx(c, j->video_id, &js, j->message, now);
}

static hh_status pg_job_fail(hh_store *st, const char *video_id, const char *worker_id,
                             const char *message, int retryable)
{
    job_call j = {
        .video_id = video_id, .worker_id = worker_id, .message = message, .retryable = retryable};
    return pg_tx(st, fail_or_retry_tx, &j);
}

static hh_status release_tx(pg_conn *c, void *ctx)
{
    const job_call *j = ctx;
    int64_t now = 0;
    pg_job_state js;
    hh_status rc = pg_now(c, &now);
    if (!rc)
        rc = check_lease(c, j->video_id, j->worker_id, &js);
    return rc ? rc : requeue_tx(c, j->video_id, 1, now);
}

static hh_status pg_job_release(hh_store *st, const char *video_id, const char *worker_id)
{
    job_call j = {.video_id = video_id, .worker_id = worker_id};
    return pg_tx(st, release_tx, &j);
}

/* ---- for the remote tasks of store_pg_remote.c ---- */

hh_status pg_job_hand_off_tx(pg_conn *c, const char *video_id, const char *worker_id, int64_t now)
{
    pg_job_state js;
    pg_num t;
    const char *p[] = {video_id, pg_i64(&t, now)};
    hh_status rc = check_lease(c, video_id, worker_id, &js);
    return rc ? rc : pg_exec_one(c, &queue_sql, Q_JOB_HAND_OFF, 2, p);
}

hh_status pg_job_collect_tx(pg_conn *c, const char *video_id, int64_t now)
{
    pg_num t;
    const char *p[] = {video_id, pg_i64(&t, now)};
    hh_status rc = pg_exec_one(c, &queue_sql, Q_JOB_COLLECT, 2, p);
    return rc == HH_ERR_NOTFOUND ? HH_ERR_CONFLICT : rc;
}

hh_status pg_video_progress_tx(pg_conn *c, const char *video_id, int progress)
{
    pg_num n;
    const char *p[] = {video_id, pg_i64(&n, progress < 0 ? 0 : progress > 99 ? 99 : progress)};
    return pg_exec(c, &queue_sql, Q_VIDEO_PROGRESS, 2, p);
}

hh_status pg_video_processing(pg_conn *c, const char *video_id)
{
    pg_job_state js;
    hh_status rc = pg_job_state_lock(c, video_id, &js);
    if (rc)
        return rc;
    return js.video_status == HH_VIDEO_PROCESSING && !strcmp(js.state, "running") ? HH_OK
                                                                                  : HH_ERR_CONFLICT;
}

hh_status pg_video_fail_tx(pg_conn *c, const char *video_id, const char *message, int64_t now)
{
    pg_job_state js;
    hh_status rc = pg_job_state_lock(c, video_id, &js);
    if (rc)
        return rc;
    if (store_video_ended(js.video_status))
        return HH_ERR_CONFLICT;
    return fail_tx(c, video_id, &js, message, now);
}

/* ---- the queue's figures ---- */

static hh_status pg_job_counts(hh_store *st, int64_t counts[HH_VIDEO_STATUS_COUNT])
{
    PGresult *r = NULL;
    memset(counts, 0, HH_VIDEO_STATUS_COUNT * sizeof *counts);
    hh_status rc = pg_run(st, &queue_sql, Q_COUNTS, 0, NULL, &r);
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        char name[16];
        pg_col_text(r, i, 0, name, sizeof name);
        counts[store_status_parse(name)] = pg_col_i64(r, i, 1);
    }
    PQclear(r);
    return rc;
}

static hh_status pg_queue_stats(hh_store *st, hh_queue_stats *out)
{
    PGresult *r = NULL;
    memset(out, 0, sizeof *out);
    hh_status rc = pg_run(st, &queue_sql, Q_QUEUE_STATS, 0, NULL, &r);
    if (!rc && PQntuples(r) == 1) {
        out->queued = pg_col_i64(r, 0, 0);
        out->running = pg_col_i64(r, 0, 1);
        out->lease_expired = pg_col_i64(r, 0, 2);
        out->waiting_users = pg_col_i64(r, 0, 3);
        out->oldest_enqueued_at = pg_col_i64(r, 0, 4);
    }
    PQclear(r);
    return rc;
}

static hh_status pg_video_queue_place(hh_store *st, const char *video_id, hh_queue_place *out)
{
    PGresult *r = NULL;
    const char *p[] = {video_id};
    memset(out, 0, sizeof *out);
    hh_status rc = pg_run(st, &queue_sql, Q_QUEUE_PLACE, 1, p, &r);
    if (!rc && PQntuples(r) != 1)
        rc = HH_ERR_NOTFOUND; /* not queued (any more) */
    if (!rc) {
        out->running_limit = pg_col_i64(r, 0, 0);
        out->running = pg_col_i64(r, 0, 1);
        out->yours_ahead = pg_col_i64(r, 0, 2);
        out->others_waiting = pg_col_i64(r, 0, 3);
    }
    PQclear(r);
    return rc;
}

/* The operations of store.h this file implements, into the PostgreSQL table. */
void pg_queue_ops(store_ops *o)
{
    o->job_claim_plans = pg_job_claim_plans;
    o->job_heartbeat = pg_job_heartbeat;
    o->job_finish = pg_job_finish;
    o->job_fail = pg_job_fail;
    o->job_release = pg_job_release;
    o->job_counts = pg_job_counts;
    o->video_queue_place = pg_video_queue_place;
    o->queue_stats = pg_queue_stats;
}
