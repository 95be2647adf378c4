/*
 * store_sqlite_videos.c - uploads, videos, the job queue and idempotency
 * records on SQLite.
 *
 * The invariants this file keeps (docs/internals/queue.md):
 *  - a video exists if and only if its charge exists: both are written in
 *    the transaction of store_video_create, with its job;
 *  - a failed video is refunded in the transaction that marks it failed,
 *    at most once (the ledger's unique (kind, ref) index backs this up);
 *  - a job is running only under a lease; every state change by a worker
 *    checks that the worker still holds it, so a worker that lost its
 *    lease (and whose job another worker took) can change nothing;
 *  - a video is ready only with both output keys (a CHECK in the schema).
 *
 * Creates are group-committed (sq_tx_group): each create's checks and
 * writes run in its own savepoint of a transaction shared with the creates
 * that arrived meanwhile, one after another, so each sees the balance the
 * ones before it left; its caller returns once that transaction committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/uuid.h"

#define DEFAULT_MAX_ATTEMPTS 3
#define HH_REF_SLOTS         4 /* the references a request may name (video_request.h's HH_REF_COUNT) */
#define IDEM_TTL_MS          (24LL * 3600 * 1000)

/* This file's statements: the SQL of each in video_text, the cache row SQ_FILE_VIDEOS. */
enum video_stmt {
    V_UPLOAD_INSERT,
    V_UPLOAD_GET,
    V_UPLOAD_COMPLETE,
    V_IDEM_GET,
    V_IDEM_DELETE,
    V_IDEM_INSERT,
    V_VIDEO_INSERT,
    V_JOB_INSERT,
    V_VIDEO_GET,
    V_VIDEO_GET_ANY,
    V_VIDEO_LIST,
    V_IDEM_PRUNE,
    V_JOB_EXPIRED,
    V_JOB_PICK,
    V_JOB_SERVED,
    V_JOB_TAKE,
    V_VIDEO_START,
    V_JOB_HEARTBEAT,
    V_VIDEO_PROGRESS,
    V_JOB_END,
    V_VIDEO_READY,
    V_JOB_REQUEUE,
    V_VIDEO_REQUEUE,
    V_VIDEO_FAIL,
    V_JOB_STATE,
    V_COUNTS,
    V_VIDEO_REFUNDED,
    V_QUEUE_STATS,
    V_JOB_HAND_OFF,
    V_JOB_COLLECT,
    V_JOB_PICK_PLANS,
    V_DELETE_READ,
    V_REF_SHARED,
    V_UPLOAD_DROP,
    V_SHARE_DROP,
    V_REMOTE_DROP,
    V_JOB_DROP,
    V_VIDEO_DROP,
    V_VIDEO_CANCEL,
    V_QUEUE_PLACE,
    V_VIDEO_LIST_ANY,
    V_VIDEO_FAVORITE,
    V_COUNT
};
_Static_assert(V_COUNT <= SQ_STMTS_MAX, "raise SQ_STMTS_MAX in store_sqlite_int.h");

#define VIDEO_COLS                                                                                 \
    "v.id, v.user_id, v.status, v.prompt, v.style, v.request, v.error_message, v.duration_sec,"    \
    " v.aspect_ratio, v.resolution, v.progress, v.credits_charged, v.credits_refunded,"            \
    " v.video_key, v.thumbnail_key, j.plan, j.attempts, v.created_at, v.started_at, v.ready_at,"   \
    " v.favorite"

/* Every read of a video joins its job (plan, attempts). */
#define SELECT_VIDEO "SELECT " VIDEO_COLS " FROM videos v JOIN jobs j ON j.video_id = v.id"

/* What store_video_find selects and how it pages, after a list's WHERE (?3 is the limit). */
#define VIDEO_FILTER                                                                               \
    " (?2 = '' OR v.id < ?2) AND (?4 IS NULL OR v.status = ?4)"                                    \
    " AND (?5 IS NULL OR v.prompt LIKE ?5 ESCAPE '\\') AND (?6 = 0 OR v.favorite = 1)"             \
    " ORDER BY v.id DESC LIMIT ?3"

static const char *const video_text[V_COUNT] = {
    /*
     * Where a queued job stands: its owner's running jobs and cap, the
     * owner's queued jobs that go before it (the fair pick takes a user's
     * jobs oldest first), and the other users waiting (the same skip-scan
     * of jobs_queue as V_JOB_PICK: O(users waiting x log jobs)).
     */
    [V_QUEUE_PLACE] =
        "WITH RECURSIVE me AS (SELECT user_id, enqueued_at, max_in_flight FROM jobs"
        "  WHERE video_id = ?1 AND state = 'queued'),"
        " u(id) AS (SELECT (SELECT min(user_id) FROM jobs WHERE state = 'queued')"
        "  UNION ALL SELECT (SELECT min(user_id) FROM jobs WHERE state = 'queued'"
        "   AND user_id > u.id) FROM u WHERE u.id IS NOT NULL)"
        " SELECT me.max_in_flight,"
        "  (SELECT count(*) FROM jobs WHERE state = 'running' AND user_id = me.user_id),"
        "  (SELECT count(*) FROM jobs j WHERE j.state = 'queued' AND j.user_id = me.user_id"
        "   AND (j.enqueued_at, j.video_id) < (me.enqueued_at, ?1)),"
        "  (SELECT count(*) FROM u WHERE u.id IS NOT NULL AND u.id <> me.user_id)"
        " FROM me",
    [V_UPLOAD_INSERT] = "INSERT INTO uploads (key, user_id, kind, content_type, size_bytes,"
                        " state, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending',"
                        " ?6, ?7)",
    [V_UPLOAD_GET] = "SELECT key, user_id, kind, content_type, size_bytes, state, expires_at,"
                     " created_at, coalesce(completed_at, 0) FROM uploads WHERE key = ?1",
    [V_UPLOAD_COMPLETE] = "UPDATE uploads SET state = 'complete', completed_at = ?2"
                          " WHERE key = ?1 AND state = 'pending'",
    [V_IDEM_GET] = "SELECT request_hash, response, created_at FROM idempotency"
                   " WHERE user_id = ?1 AND key = ?2",
    [V_IDEM_DELETE] = "DELETE FROM idempotency WHERE user_id = ?1 AND key = ?2",
    [V_IDEM_INSERT] = "INSERT INTO idempotency (user_id, key, request_hash, response, created_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5)",
    [V_VIDEO_INSERT] = "INSERT INTO videos (id, user_id, status, prompt, style, duration_sec,"
                       " aspect_ratio, resolution, request, credits_charged, created_at)"
                       " VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [V_JOB_INSERT] = "INSERT INTO jobs (video_id, user_id, plan, state, max_attempts,"
                     " max_in_flight, enqueued_at, updated_at)"
                     " VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?6)",
    [V_VIDEO_GET] = SELECT_VIDEO " WHERE v.id = ?1 AND v.user_id = ?2",
    [V_VIDEO_GET_ANY] = SELECT_VIDEO " WHERE v.id = ?1",
    /* ?5 is a LIKE pattern whose %, _ and backslash are escaped with a backslash (like_pattern). */
    [V_VIDEO_LIST] = SELECT_VIDEO " WHERE v.user_id = ?1 AND" VIDEO_FILTER,
    /* Every user's (operators): its own statement, so a user's list keeps its index. */
    [V_VIDEO_LIST_ANY] = SELECT_VIDEO " WHERE" VIDEO_FILTER,
    [V_VIDEO_FAVORITE] = "UPDATE videos SET favorite = ?3 WHERE id = ?1 AND user_id = ?2",
    /* At most 100 per create: each create adds at most one record, so this keeps up. */
    [V_IDEM_PRUNE] = "DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency"
                     " WHERE created_at < ?1 ORDER BY created_at LIMIT 100)",
    [V_JOB_EXPIRED] = "SELECT video_id FROM jobs WHERE state = 'running'"
                      " AND lease_expires_at <= ?1 ORDER BY lease_expires_at LIMIT 1",
    /*
     * Fair pick. u walks the users with queued jobs one index seek each
     * (a skip-scan of jobs_queue); for each, its running jobs, its oldest
     * queued job and when it was last served. Users under their cap (the
     * oldest job's jobs-in-flight snapshot) qualify; the fewest running
     * goes first, then the least recently served, then the oldest job.
     * Cost: O(users waiting x log jobs), whatever the backlog.
     */
    [V_JOB_PICK] = "WITH RECURSIVE u(id) AS ("
                   "  SELECT (SELECT min(user_id) FROM jobs WHERE state = 'queued')"
                   "  UNION ALL SELECT (SELECT min(user_id) FROM jobs WHERE state = 'queued'"
                   "   AND user_id > u.id) FROM u WHERE u.id IS NOT NULL),"
                   " c(n, vid, last) AS (SELECT (SELECT count(*) FROM jobs WHERE"
                   "   state = 'running' AND user_id = u.id), (SELECT video_id FROM jobs WHERE"
                   "   state = 'queued' AND user_id = u.id ORDER BY enqueued_at, video_id"
                   "   LIMIT 1), coalesce((SELECT served FROM job_users"
                   "   WHERE user_id = u.id), 0)"
                   "  FROM u WHERE u.id IS NOT NULL)"
                   " SELECT j.video_id, j.user_id FROM c JOIN jobs j ON j.video_id = c.vid"
                   " WHERE c.n < j.max_in_flight"
                   " ORDER BY c.n, c.last, j.enqueued_at, j.video_id LIMIT 1",
    /* The same pick among the jobs of the plans in the JSON array ?1 that are
     * still to be handed to a provider (stage 'render'): a remote driver's
     * claim. Its own statement, so the render threads' pick stays as fast. */
    [V_JOB_PICK_PLANS] =
        "WITH RECURSIVE u(id) AS ("
        "  SELECT (SELECT min(user_id) FROM jobs WHERE state = 'queued' AND stage = 'render'"
        "   AND plan IN (SELECT value FROM json_each(?1)))"
        "  UNION ALL SELECT (SELECT min(user_id) FROM jobs WHERE state = 'queued'"
        "   AND stage = 'render' AND plan IN (SELECT value FROM json_each(?1))"
        "   AND user_id > u.id) FROM u WHERE u.id IS NOT NULL),"
        " c(n, vid, last) AS (SELECT (SELECT count(*) FROM jobs WHERE"
        "   state = 'running' AND user_id = u.id), (SELECT video_id FROM jobs WHERE"
        "   state = 'queued' AND stage = 'render' AND plan IN (SELECT value FROM json_each(?1))"
        "   AND user_id = u.id ORDER BY enqueued_at, video_id LIMIT 1),"
        "   coalesce((SELECT served FROM job_users WHERE user_id = u.id), 0)"
        "  FROM u WHERE u.id IS NOT NULL)"
        " SELECT j.video_id, j.user_id FROM c JOIN jobs j ON j.video_id = c.vid"
        " WHERE c.n < j.max_in_flight"
        " ORDER BY c.n, c.last, j.enqueued_at, j.video_id LIMIT 1",
    /* A claim sequence, not a clock: two claims in one millisecond still take turns. */
    [V_JOB_SERVED] = "INSERT INTO job_users (user_id, served) VALUES (?1,"
                     " (SELECT coalesce(max(served), 0) + 1 FROM job_users))"
                     " ON CONFLICT (user_id) DO UPDATE SET served = excluded.served",
    [V_JOB_TAKE] = "UPDATE jobs SET state = 'running', attempts = attempts + 1,"
                   " lease_owner = ?2, lease_expires_at = ?3, updated_at = ?4 WHERE video_id = ?1",
    [V_VIDEO_START] = "UPDATE videos SET status = 'processing',"
                      " started_at = coalesce(started_at, ?2) WHERE id = ?1",
    [V_JOB_HEARTBEAT] = "UPDATE jobs SET lease_expires_at = ?3, updated_at = ?4"
                        " WHERE video_id = ?1 AND lease_owner = ?2 AND state = 'running'",
    [V_VIDEO_PROGRESS] = "UPDATE videos SET progress = max(progress, ?2) WHERE id = ?1",
    [V_JOB_END] = "UPDATE jobs SET state = ?2, lease_owner = NULL, lease_expires_at = NULL,"
                  " updated_at = ?3 WHERE video_id = ?1",
    [V_VIDEO_READY] = "UPDATE videos SET status = 'ready', progress = 100, video_key = ?2,"
                      " thumbnail_key = ?3, ready_at = ?4 WHERE id = ?1",
    [V_JOB_REQUEUE] = "UPDATE jobs SET state = 'queued', lease_owner = NULL,"
                      " lease_expires_at = NULL, updated_at = ?2, attempts = attempts - ?3"
                      " WHERE video_id = ?1",
    /* A retry renders from the start: progress says so rather than stall at the old figure. */
    [V_VIDEO_REQUEUE] = "UPDATE videos SET status = 'queued', progress = 0 WHERE id = ?1",
    [V_VIDEO_FAIL] = "UPDATE videos SET status = 'failed', error_message = ?2,"
                     " credits_refunded = ?3 WHERE id = ?1",
    [V_JOB_STATE] = "SELECT j.state, j.attempts, j.max_attempts, coalesce(j.lease_owner, ''),"
                    " v.user_id, v.credits_charged, v.credits_refunded, v.status"
                    " FROM jobs j JOIN videos v ON v.id = j.video_id WHERE j.video_id = ?1",
    [V_COUNTS] = "SELECT status, count(*) FROM videos GROUP BY status",
    [V_VIDEO_REFUNDED] = "UPDATE videos SET credits_refunded = credits_charged WHERE id = ?1",
    /* A remote job: running, counted in flight, but under no lease while its provider works. */
    [V_JOB_HAND_OFF] = "UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL,"
                       " updated_at = ?2 WHERE video_id = ?1",
    /* The provider is done: a render thread downloads and re-encodes, with fresh attempts. */
    [V_JOB_COLLECT] = "UPDATE jobs SET state = 'queued', stage = 'collect', attempts = 0,"
                      " lease_owner = NULL, lease_expires_at = NULL, updated_at = ?2"
                      " WHERE video_id = ?1 AND state = 'running' AND lease_owner IS NULL",
    /* What a delete frees: the outputs and the references the request names (API names). */
    [V_DELETE_READ] = "SELECT status, coalesce(video_key, ''), coalesce(thumbnail_key, ''),"
                      " json_extract(request, '$.sourceImageKey'),"
                      " json_extract(request, '$.lastFrameKey'),"
                      " json_extract(request, '$.referenceVideoKey'),"
                      " json_extract(request, '$.referenceAudioKey')"
                      " FROM videos WHERE id = ?1 AND user_id = ?2",
    /* Uploads are per user, so only the user's own videos can name one. */
    [V_REF_SHARED] = "SELECT 1 FROM videos WHERE user_id = ?1 AND id <> ?2 AND ?3 IN ("
                     " json_extract(request, '$.sourceImageKey'),"
                     " json_extract(request, '$.lastFrameKey'),"
                     " json_extract(request, '$.referenceVideoKey'),"
                     " json_extract(request, '$.referenceAudioKey')) LIMIT 1",
    [V_UPLOAD_DROP] = "DELETE FROM uploads WHERE key = ?1 AND user_id = ?2",
    [V_SHARE_DROP] = "DELETE FROM shares WHERE video_id = ?1",
    [V_REMOTE_DROP] = "DELETE FROM remote_tasks WHERE video_id = ?1",
    [V_JOB_DROP] = "DELETE FROM jobs WHERE video_id = ?1",
    [V_VIDEO_DROP] = "DELETE FROM videos WHERE id = ?1",
    [V_VIDEO_CANCEL] = "UPDATE videos SET status = 'canceled', credits_refunded = ?2 WHERE id = ?1",
    [V_QUEUE_STATS] = "SELECT (SELECT count(*) FROM jobs WHERE state = 'queued'),"
                      " (SELECT count(*) FROM jobs WHERE state = 'running'"
                      "  AND lease_expires_at > ?1),"
                      " (SELECT count(*) FROM jobs WHERE state = 'running'"
                      "  AND lease_expires_at <= ?1),"
                      " (SELECT count(DISTINCT user_id) FROM jobs WHERE state = 'queued'),"
                      " (SELECT coalesce(min(enqueued_at), 0) FROM jobs WHERE state = 'queued')",
};

static const sq_sql video_sql = {SQ_FILE_VIDEOS, V_COUNT, video_text};

/* ---- uploads ---- */

static hh_status sq_upload_create(hh_store *st, const hh_upload *u)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &video_sql, V_UPLOAD_INSERT, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, u->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, u->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, u->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, u->content_type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, u->size_bytes);
    sqlite3_bind_int64(s, 6, u->expires_at);
    sqlite3_bind_int64(s, 7, hh_time_now_ms());
    rc = sq_exec(c, s, "upload insert");
out:
    sq_conn_put(st, c);
    return rc;
}

static void read_upload(sqlite3_stmt *s, hh_upload *out)
{
    char state[16];
    sq_col_text(s, 0, out->key, sizeof out->key);
    sq_col_text(s, 1, out->user_id, sizeof out->user_id);
    sq_col_text(s, 2, out->kind, sizeof out->kind);
    sq_col_text(s, 3, out->content_type, sizeof out->content_type);
    out->size_bytes = sqlite3_column_int64(s, 4);
    sq_col_text(s, 5, state, sizeof state);
    out->complete = !strcmp(state, "complete");
    out->expires_at = sqlite3_column_int64(s, 6);
    out->created_at = sqlite3_column_int64(s, 7);
    out->completed_at = sqlite3_column_int64(s, 8);
}

static hh_status sq_upload_get(hh_store *st, const char *key, hh_upload *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &video_sql, V_UPLOAD_GET, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "upload get");
    if (!rc)
        read_upload(s, out);
out:
    sq_done(s);
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_upload_complete(hh_store *st, const char *key)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &video_sql, V_UPLOAD_COMPLETE, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, hh_time_now_ms());
    rc = sq_exec_one(c, s, "upload complete");
out:
    sq_conn_put(st, c);
    if (rc == HH_ERR_NOTFOUND) {
        /* Unknown, or no longer pending: tell the two apart for the caller. */
        hh_upload u;
        rc = st->ops->upload_get(st, key, &u) == HH_OK ? HH_ERR_CONFLICT : HH_ERR_NOTFOUND;
    }
    return rc;
}

/* ---- videos ---- */

static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? strdup((const char *)t) : NULL;
}

/* Reads a row of VIDEO_COLS. HH_ERR_NOMEM leaves v cleared. */
static hh_status read_video(sqlite3_stmt *s, hh_video *v)
{
    char status[16];
    memset(v, 0, sizeof *v);
    sq_col_text(s, 0, v->id, sizeof v->id);
    sq_col_text(s, 1, v->user_id, sizeof v->user_id);
    sq_col_text(s, 2, status, sizeof status);
    v->status = store_status_parse(status);
    v->prompt = col_dup(s, 3);
    v->style = col_dup(s, 4);
    v->request = col_dup(s, 5);
    v->error_message = col_dup(s, 6);
    v->duration_sec = sqlite3_column_int(s, 7);
    sq_col_text(s, 8, v->aspect_ratio, sizeof v->aspect_ratio);
    sq_col_text(s, 9, v->resolution, sizeof v->resolution);
    v->progress = sqlite3_column_int(s, 10);
    v->credits_charged = sqlite3_column_int64(s, 11);
    v->credits_refunded = sqlite3_column_int64(s, 12);
    sq_col_text(s, 13, v->video_key, sizeof v->video_key);
    sq_col_text(s, 14, v->thumbnail_key, sizeof v->thumbnail_key);
    sq_col_text(s, 15, v->plan, sizeof v->plan);
    v->attempts = sqlite3_column_int(s, 16);
    v->created_at = sqlite3_column_int64(s, 17);
    v->started_at = sqlite3_column_int64(s, 18);
    v->ready_at = sqlite3_column_int64(s, 19);
    v->favorite = sqlite3_column_int(s, 20);
    if (!v->prompt || !v->request || (sqlite3_column_type(s, 4) != SQLITE_NULL && !v->style) ||
        (sqlite3_column_type(s, 6) != SQLITE_NULL && !v->error_message)) {
        store_video_clear(v);
        return HH_ERR_NOMEM;
    }
    return HH_OK;
}

static hh_status sq_video_get(hh_store *st, const char *id, const char *user_id, hh_video *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &video_sql, user_id ? V_VIDEO_GET : V_VIDEO_GET_ANY, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    if (user_id)
        sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "video get");
    if (!rc)
        rc = read_video(s, out);
out:
    sq_done(s);
    sq_conn_put(st, c);
    return rc;
}

/*
 * The LIKE pattern "%q%" with q's %, _ and \ escaped by \, so a search
 * finds exactly the text typed. out holds 2 * STORE_VIDEO_QUERY_MAX + 3.
 */
static void like_pattern(const char *q, char *out)
{
    char *o = out;
    *o++ = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\')
            *o++ = '\\';
        *o++ = *q;
    }
    *o++ = '%';
    *o = '\0';
}

static hh_status sq_video_find(hh_store *st, const char *user_id, const hh_video_filter *f,
                               int limit, hh_video **videos, size_t *n)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_video *arr = NULL;
    size_t count = 0;
    char pattern[2 * STORE_VIDEO_QUERY_MAX + 3];
    int status = f->status;
    *videos = NULL;
    *n = 0;
    if (f->q && f->q[0])
        like_pattern(f->q, pattern);
    hh_status rc = sq_borrow(st, &video_sql, user_id ? V_VIDEO_LIST : V_VIDEO_LIST_ANY, &c, &s);
    if (rc)
        goto out;
    arr = calloc((size_t)limit, sizeof *arr);
    if (!arr) {
        rc = HH_ERR_NOMEM;
        goto out;
    }
    if (user_id)
        sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, f->favorite != 0);
    sqlite3_bind_text(s, 2, f->before ? f->before : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, limit);
    sq_bind_text_or_null(s, 5, f->q && f->q[0] ? pattern : NULL);
    sq_bind_text_or_null(s, 4, status == HH_VIDEO_ANY ? NULL : hh_video_status_str(status));
    int src;
    while (!rc && (src = sqlite3_step(s)) == SQLITE_ROW)
        if (!(rc = read_video(s, &arr[count])))
            count++;
    if (!rc && src != SQLITE_DONE)
        rc = sq_error(c->db, src, "video list");
out:
    sq_done(s);
    sq_conn_put(st, c);
    if (rc) {
        store_video_list_free(arr, count);
        return rc;
    }
    *videos = arr;
    *n = count;
    return HH_OK;
}

static hh_status sq_video_set_favorite(hh_store *st, const char *id, const char *user_id, int on)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &video_sql, V_VIDEO_FAVORITE, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, on);
    rc = sq_exec_one(c, s, "video favorite"); /* HH_ERR_NOTFOUND when no row is the user's */
out:
    sq_conn_put(st, c);
    return rc;
}

/* ---- creating a video: idempotency, charge, video, job, in one transaction ---- */

/*
 * Looks up an Idempotency-Key inside the transaction. HH_OK with *replay
 * set for a live record of the same request; HH_ERR_CONFLICT for another
 * request; HH_ERR_NOTFOUND when there is none (an expired one is deleted).
 */
static hh_status idem_check(conn *c, const hh_video_new *in, int64_t now, char **replay)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, V_IDEM_GET, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, in->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, in->idem_key, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "idempotency get");
    int expired = 0;
    if (!rc) {
        expired = sqlite3_column_int64(s, 2) < now - IDEM_TTL_MS;
        const void *hash = sqlite3_column_blob(s, 0);
        int same = sqlite3_column_bytes(s, 0) == CRYPTO_SHA256_LEN &&
                   !memcmp(hash, in->idem_hash, CRYPTO_SHA256_LEN);
        if (expired)
            rc = HH_ERR_NOTFOUND;
        else if (!same)
            rc = HH_ERR_CONFLICT;
        else if (!(*replay = col_dup(s, 1)))
            rc = HH_ERR_NOMEM;
    }
    sq_done(s);
    if (rc == HH_ERR_NOTFOUND && expired) {
        hh_status drc = sq_stmt(c, &video_sql, V_IDEM_DELETE, &s);
        if (drc)
            return drc;
        sqlite3_bind_text(s, 1, in->user_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, in->idem_key, -1, SQLITE_STATIC);
        if ((drc = sq_exec(c, s, "idempotency expire")))
            return drc;
    }
    return rc;
}

/* Deletes up to 100 records older than the 24 h window. */
static hh_status idem_prune(conn *c, int64_t now)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, V_IDEM_PRUNE, &s);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, now - IDEM_TTL_MS);
    return sq_exec(c, s, "idempotency prune");
}

static hh_status insert_video_and_job(conn *c, const hh_video_new *in, const char *id, int64_t now)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, V_VIDEO_INSERT, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, in->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, in->prompt, -1, SQLITE_STATIC);
    sq_bind_text_or_null(s, 4, in->style);
    sqlite3_bind_int(s, 5, in->duration_sec);
    sqlite3_bind_text(s, 6, in->aspect_ratio, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, in->resolution, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, in->request_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 9, in->price);
    sqlite3_bind_int64(s, 10, now);
    if ((rc = sq_exec(c, s, "video insert")) || (rc = sq_stmt(c, &video_sql, V_JOB_INSERT, &s)))
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, in->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, in->plan, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, in->max_attempts > 0 ? in->max_attempts : DEFAULT_MAX_ATTEMPTS);
    sqlite3_bind_int(s, 5, in->max_in_flight > 0 ? in->max_in_flight : 1);
    sqlite3_bind_int64(s, 6, now);
    return sq_exec(c, s, "job insert");
}

static hh_status idem_record(conn *c, const hh_video_new *in, const char *id, int64_t now)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, V_IDEM_INSERT, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, in->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, in->idem_key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, in->idem_hash, CRYPTO_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, in->response_body ? in->response_body : id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, now);
    return sq_exec(c, s, "idempotency insert");
}

/* One store_video_create: its request, the new id and where its results go. */
typedef struct create_call {
    const hh_video_new *in;
    const char *id;
    int64_t now;
    char **replay_body;
    int64_t *balance_out;
} create_call;

/* The transaction of store_video_create. A replay returns HH_OK having written nothing. */
static hh_status create_tx(conn *c, void *ctx)
{
    create_call *v = ctx;
    const hh_video_new *in = v->in;
    hh_status rc;
    if (in->idem_key) {
        rc = idem_check(c, in, v->now, v->replay_body);
        if (rc != HH_ERR_NOTFOUND)
            return rc; /* a replay (HH_OK), a conflict or an error: write nothing */
        if ((rc = idem_prune(c, v->now)))
            return rc;
    }
    if (in->guard && (rc = sq_create_guard_tx(c, in, v->now)))
        return rc; /* the caller may no longer create, or a cap of the account (accounts.c) */
    int64_t balance = 0;
    rc =
        sq_ledger_append_tx(c, in->user_id, -in->price, HH_LEDGER_CHARGE, v->id, "video", &balance);
    if (v->balance_out)
        *v->balance_out = balance;
    if (!rc)
        rc = insert_video_and_job(c, in, v->id, v->now);
    if (!rc && in->idem_key)
        rc = idem_record(c, in, v->id, v->now);
    return rc;
}

static hh_status sq_video_create(hh_store *st, const hh_video_new *in, char id_out[HH_ID_LEN],
                                 char **replay_body, int64_t *balance_out)
{
    *replay_body = NULL;
    id_out[0] = '\0';
    hh_status rc = uuid_v7(id_out);
    if (rc)
        return rc;
    create_call v = {in, id_out, hh_time_now_ms(), replay_body, balance_out};
    /* Group commit: concurrent creates share one transaction and one sync (store_sqlite.c). */
    rc = sq_tx_group(st, create_tx, &v);
    if (*replay_body) {
        id_out[0] = '\0'; /* a replay creates nothing */
        if (rc) {
            free(*replay_body); /* the (empty) transaction did not commit */
            *replay_body = NULL;
        }
    }
    return rc;
}

/* ---- the queue ---- */

typedef struct job_state {
    char state[16];
    int attempts, max_attempts;
    char owner[128];
    char user_id[HH_ID_LEN];
    int64_t charged, refunded;
    hh_video_status video_status;
} job_state;

static hh_status job_state_get(conn *c, const char *video_id, job_state *js)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, V_JOB_STATE, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    if (!(rc = sq_step_one(c, s, "job state"))) {
        char vs[16];
        sq_col_text(s, 0, js->state, sizeof js->state);
        js->attempts = sqlite3_column_int(s, 1);
        js->max_attempts = sqlite3_column_int(s, 2);
        sq_col_text(s, 3, js->owner, sizeof js->owner);
        sq_col_text(s, 4, js->user_id, sizeof js->user_id);
        js->charged = sqlite3_column_int64(s, 5);
        js->refunded = sqlite3_column_int64(s, 6);
        sq_col_text(s, 7, vs, sizeof vs);
        js->video_status = store_status_parse(vs);
    }
    sq_done(s);
    return rc;
}

/* Whether a video of this status has ended: nothing may change it any more. */
/* Sets the job's state (and clears its lease). */
static hh_status job_end(conn *c, const char *video_id, const char *state, int64_t now)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, V_JOB_END, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    return sq_exec_one(c, s, "job end");
}

/*
 * Inside a transaction: fails the video with message and refunds what was
 * charged and not yet refunded. The ledger's unique index makes a second
 * refund impossible even if this ran twice.
 */
static hh_status fail_tx(conn *c, const char *video_id, const job_state *js, const char *message,
                         int64_t now)
{
    hh_status rc = job_end(c, video_id, "failed", now);
    int64_t owed = js->charged - js->refunded;
    if (!rc && owed > 0)
        rc = sq_ledger_append_tx(c, js->user_id, owed, HH_LEDGER_REFUND, video_id, "video failed",
                                 NULL);
    if (!rc)
        rc = sq_remote_settle_tx(c, video_id, HH_REMOTE_FAILED, now);
    if (!rc)
        rc = sq_hook_event_tx(c, js->user_id, video_id, HH_HOOK_VIDEO_FAILED, now);
    sqlite3_stmt *s;
    if (!rc && !(rc = sq_stmt(c, &video_sql, V_VIDEO_FAIL, &s))) {
        sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, message && *message ? message : "The render failed.", -1,
                          SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, js->charged);
        rc = sq_exec_one(c, s, "video fail");
    }
    return rc;
}

/* Back to queued; uncount is 1 when the claim should not count as an attempt. */
static hh_status requeue_tx(conn *c, const char *video_id, int uncount, int64_t now)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, V_JOB_REQUEUE, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int(s, 3, uncount);
    if ((rc = sq_exec_one(c, s, "job requeue")) ||
        (rc = sq_stmt(c, &video_sql, V_VIDEO_REQUEUE, &s)))
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    return sq_exec_one(c, s, "video requeue");
}

/*
 * Ends every expired lease: a job with attempts left goes back to the
 * queue (its attempt stays counted), one without is failed and refunded.
 * After this, every running job holds a live lease, so the pick can count
 * running jobs without looking at times.
 */
static hh_status expire_leases(conn *c, int64_t now)
{
    for (;;) {
        sqlite3_stmt *s;
        char id[HH_ID_LEN];
        hh_status rc = sq_stmt(c, &video_sql, V_JOB_EXPIRED, &s);
        if (rc)
            return rc;
        sqlite3_bind_int64(s, 1, now);
        rc = sq_step_one(c, s, "job spent");
        if (!rc)
            sq_col_text(s, 0, id, sizeof id);
        sq_done(s);
        if (rc)
            return rc == HH_ERR_NOTFOUND ? HH_OK : rc;
        job_state js;
        if ((rc = job_state_get(c, id, &js)))
            return rc;
        if (js.attempts < js.max_attempts) {
            hh_log_fields(HH_LOG_WARN, "job lease expired: requeued",
                          json_pack("{s:s, s:s, s:i}", "video", id, "worker", js.owner, "attempts",
                                    js.attempts));
            if ((rc = requeue_tx(c, id, 0, now)))
                return rc;
            continue;
        }
        char msg[128];
        snprintf(msg, sizeof msg, "The render did not finish after %d attempts.", js.attempts);
        hh_log_fields(HH_LOG_WARN, "job failed: attempts spent",
                      json_pack("{s:s, s:i}", "video", id, "attempts", js.attempts));
        if ((rc = fail_tx(c, id, &js, msg, now)))
            return rc;
    }
}

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
    const char *message; /* the failure's message, or the refund's note */
    int retryable;
    int64_t *refunded;
    const char *user_id;     /* the cancel's: the video's owner */
    hh_video_status *status; /* the cancel's: the status found */
    const char *plans;       /* the claim's plans (a JSON array), or NULL: any job */
    char claimed[HH_ID_LEN]; /* the claim's video; "" when no job was ready */
} job_call;

/* The fair pick (V_JOB_PICK): the job to claim and its user; HH_ERR_NOTFOUND when none. */
static hh_status pick(conn *c, const char *plans, char id[HH_ID_LEN], char user_id[HH_ID_LEN])
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, plans ? V_JOB_PICK_PLANS : V_JOB_PICK, &s);
    if (rc)
        return rc;
    if (plans)
        sqlite3_bind_text(s, 1, plans, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "job pick");
    if (!rc) {
        sq_col_text(s, 0, id, HH_ID_LEN);
        sq_col_text(s, 1, user_id, HH_ID_LEN);
    }
    sq_done(s);
    return rc;
}

/* Takes the picked job id of user_id: the user's turn, the lease, the video started. */
static hh_status take(conn *c, const job_call *j, const char *id, const char *user_id, int64_t now)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, V_JOB_SERVED, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    if ((rc = sq_exec(c, s, "job served")) || (rc = sq_stmt(c, &video_sql, V_JOB_TAKE, &s)))
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, j->worker_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now + j->lease_ms);
    sqlite3_bind_int64(s, 4, now);
    if ((rc = sq_exec_one(c, s, "job take")) || (rc = sq_stmt(c, &video_sql, V_VIDEO_START, &s)))
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    return sq_exec_one(c, s, "video start");
}

/* The claim's transaction. No job ready is HH_OK with j->claimed "": what reaping did is kept. */
static hh_status claim_tx(conn *c, void *ctx)
{
    job_call *j = ctx;
    int64_t now = hh_time_now_ms();
    char id[HH_ID_LEN], user_id[HH_ID_LEN];
    hh_status rc = expire_leases(c, now);
    if (!rc)
        rc = pick(c, j->plans, id, user_id);
    if (rc)
        return rc == HH_ERR_NOTFOUND ? HH_OK : rc;
    rc = take(c, j, id, user_id, now);
    if (!rc)
        memcpy(j->claimed, id, sizeof j->claimed);
    return rc;
}

static hh_status sq_job_claim_plans(hh_store *st, const char *worker_id, int64_t lease_ms,
                                    const char *plans, hh_video *out)
{
    job_call j = {.worker_id = worker_id, .lease_ms = lease_ms, .plans = plans};
    hh_status rc = sq_tx(st, claim_tx, &j);
    if (rc)
        return rc;
    if (!j.claimed[0])
        return HH_ERR_NOTFOUND;
    return st->ops->video_get(st, j.claimed, NULL, out);
}

/* Checks that worker_id holds the lease on video_id; fills js. */
static hh_status check_lease(conn *c, const char *video_id, const char *worker_id, job_state *js)
{
    hh_status rc = job_state_get(c, video_id, js);
    if (rc)
        return rc;
    if (strcmp(js->state, "running") || strcmp(js->owner, worker_id))
        return HH_ERR_CONFLICT;
    return HH_OK;
}

static hh_status heartbeat_tx(conn *c, void *ctx)
{
    const job_call *j = ctx;
    int64_t now = hh_time_now_ms();
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, V_JOB_HEARTBEAT, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, j->video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, j->worker_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now + j->lease_ms);
    sqlite3_bind_int64(s, 4, now);
    rc = sq_exec_one(c, s, "job heartbeat");
    if (rc == HH_ERR_NOTFOUND) {
        /* The lease is someone else's, or the job ended: canceled, the worker says so. */
        job_state js;
        rc = job_state_get(c, j->video_id, &js);
        return rc || js.video_status != HH_VIDEO_CANCELED ? HH_ERR_CONFLICT : HH_ERR_CANCELED;
    }
    return rc ? rc : sq_video_progress_tx(c, j->video_id, j->progress);
}

static hh_status sq_job_heartbeat(hh_store *st, const char *video_id, const char *worker_id,
                                  int progress, int64_t lease_ms)
{
    job_call j = {
        .video_id = video_id, .worker_id = worker_id, .progress = progress, .lease_ms = lease_ms};
    return sq_tx(st, heartbeat_tx, &j);
}

static hh_status finish_tx(conn *c, void *ctx)
{
    const job_call *j = ctx;
    int64_t now = hh_time_now_ms();
    job_state js = {0};
    sqlite3_stmt *s;
    hh_status rc = check_lease(c, j->video_id, j->worker_id, &js);
    if (rc == HH_ERR_CONFLICT && js.video_status == HH_VIDEO_CANCELED)
        return HH_ERR_CANCELED; /* the worker removes what it stored for nothing */
    if (rc || (rc = job_end(c, j->video_id, "done", now)) ||
        (rc = sq_remote_settle_tx(c, j->video_id, HH_REMOTE_DONE, now)) ||
        (rc = sq_hook_event_tx(c, js.user_id, j->video_id, HH_HOOK_VIDEO_READY, now)) ||
        (rc = sq_stmt(c, &video_sql, V_VIDEO_READY, &s)))
        return rc;
    sqlite3_bind_text(s, 1, j->video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, j->video_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, j->thumbnail_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    return sq_exec_one(c, s, "video ready");
}

static hh_status sq_job_finish(hh_store *st, const char *video_id, const char *worker_id,
                               const char *video_key, const char *thumbnail_key)
{
    job_call j = {.video_id = video_id,
                  .worker_id = worker_id,
                  .video_key = video_key,
                  .thumbnail_key = thumbnail_key};
    return sq_tx(st, finish_tx, &j);
}

static hh_status fail_or_retry_tx(conn *c, void *ctx)
{
    const job_call *j = ctx;
    int64_t now = hh_time_now_ms();
    job_state js;
    hh_status rc = j->worker_id ? check_lease(c, j->video_id, j->worker_id, &js)
                                : job_state_get(c, j->video_id, &js);
    if (rc)
        return rc;
    if (store_video_ended(js.video_status))
        return HH_ERR_CONFLICT;
    if (j->worker_id && j->retryable && js.attempts < js.max_attempts)
        return requeue_tx(c, j->video_id, 0, now);
    return fail_tx(c, j->video_id, &js, j->message, now);
}

hh_status sq_video_cancel_tx(conn *c, const char *video_id, const char *message)
{
    job_call j = {.video_id = video_id, .message = message};
    return fail_or_retry_tx(c, &j);
}

static hh_status sq_job_fail(hh_store *st, const char *video_id, const char *worker_id,
                             const char *message, int retryable)
{
    job_call j = {
        .video_id = video_id, .worker_id = worker_id, .message = message, .retryable = retryable};
    return sq_tx(st, fail_or_retry_tx, &j);
}

static hh_status release_tx(conn *c, void *ctx)
{
    const job_call *j = ctx;
    job_state js;
    hh_status rc = check_lease(c, j->video_id, j->worker_id, &js);
    return rc ? rc : requeue_tx(c, j->video_id, 1, hh_time_now_ms());
}

static hh_status sq_job_release(hh_store *st, const char *video_id, const char *worker_id)
{
    job_call j = {.video_id = video_id, .worker_id = worker_id};
    return sq_tx(st, release_tx, &j);
}

/* ---- for the remote tasks of store_sqlite_remote.c ---- */

hh_status sq_job_hand_off_tx(conn *c, const char *video_id, const char *worker_id, int64_t now)
{
    job_state js;
    sqlite3_stmt *s;
    hh_status rc = check_lease(c, video_id, worker_id, &js);
    if (rc || (rc = sq_stmt(c, &video_sql, V_JOB_HAND_OFF, &s)))
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    return sq_exec_one(c, s, "job hand-off");
}

hh_status sq_job_collect_tx(conn *c, const char *video_id, int64_t now)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, V_JOB_COLLECT, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    rc = sq_exec_one(c, s, "job collect");
    return rc == HH_ERR_NOTFOUND ? HH_ERR_CONFLICT : rc;
}

hh_status sq_video_progress_tx(conn *c, const char *video_id, int progress)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, V_VIDEO_PROGRESS, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, progress < 0 ? 0 : progress > 99 ? 99 : progress);
    return sq_exec(c, s, "video progress");
}

hh_status sq_video_processing(conn *c, const char *video_id)
{
    job_state js;
    hh_status rc = job_state_get(c, video_id, &js);
    if (rc)
        return rc;
    return js.video_status == HH_VIDEO_PROCESSING && !strcmp(js.state, "running") ? HH_OK
                                                                                  : HH_ERR_CONFLICT;
}

hh_status sq_video_fail_tx(conn *c, const char *video_id, const char *message, int64_t now)
{
    job_state js;
    hh_status rc = job_state_get(c, video_id, &js);
    if (rc)
        return rc;
    if (store_video_ended(js.video_status))
        return HH_ERR_CONFLICT;
    return fail_tx(c, video_id, &js, message, now);
}

static hh_status sq_job_counts(hh_store *st, int64_t counts[HH_VIDEO_STATUS_COUNT])
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    memset(counts, 0, HH_VIDEO_STATUS_COUNT * sizeof *counts);
    hh_status rc = sq_borrow(st, &video_sql, V_COUNTS, &c, &s);
    if (rc)
        goto out;
    int src;
    char name[16];
    while ((src = sqlite3_step(s)) == SQLITE_ROW) {
        sq_col_text(s, 0, name, sizeof name);
        counts[store_status_parse(name)] = sqlite3_column_int64(s, 1);
    }
    if (src != SQLITE_DONE)
        rc = sq_error(c->db, src, "job counts");
out:
    sq_done(s);
    sq_conn_put(st, c);
    return rc;
}

/* The transaction of store_video_refund: refunds what a ready video was charged, once. */
static hh_status refund_tx(conn *c, void *ctx)
{
    const job_call *j = ctx;
    const char *note = j->message && *j->message ? j->message : "refunded by an operator";
    job_state js;
    sqlite3_stmt *s;
    hh_status rc = job_state_get(c, j->video_id, &js);
    if (rc)
        return rc;
    /* Unfinished: fail it instead (that refunds). Failed: refunded already. */
    if (js.video_status != HH_VIDEO_READY || js.charged - js.refunded <= 0)
        return HH_ERR_CONFLICT;
    rc = sq_ledger_append_tx(c, js.user_id, js.charged - js.refunded, HH_LEDGER_REFUND, j->video_id,
                             note, NULL);
    if (rc == HH_ERR_EXISTS)
        return HH_ERR_CONFLICT;
    if (rc || (rc = sq_stmt(c, &video_sql, V_VIDEO_REFUNDED, &s)))
        return rc;
    sqlite3_bind_text(s, 1, j->video_id, -1, SQLITE_STATIC);
    if ((rc = sq_exec_one(c, s, "video refunded")))
        return rc;
    if (j->refunded)
        *j->refunded = js.charged - js.refunded;
    return HH_OK;
}

static hh_status sq_video_refund(hh_store *st, const char *video_id, const char *note,
                                 int64_t *refunded)
{
    if (refunded)
        *refunded = 0;
    job_call j = {.video_id = video_id, .message = note, .refunded = refunded};
    return sq_tx(st, refund_tx, &j);
}

static void read_queue_stats(sqlite3_stmt *s, hh_queue_stats *out)
{
    out->queued = sqlite3_column_int64(s, 0);
    out->running = sqlite3_column_int64(s, 1);
    out->lease_expired = sqlite3_column_int64(s, 2);
    out->waiting_users = sqlite3_column_int64(s, 3);
    out->oldest_enqueued_at = sqlite3_column_int64(s, 4);
}

static hh_status sq_queue_stats(hh_store *st, hh_queue_stats *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    memset(out, 0, sizeof *out);
    hh_status rc = sq_borrow(st, &video_sql, V_QUEUE_STATS, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_int64(s, 1, hh_time_now_ms());
    rc = sq_step_one(c, s, "queue stats");
    if (!rc)
        read_queue_stats(s, out);
out:
    sq_done(s);
    sq_conn_put(st, c);
    return rc;
}

/* ---- deleting a video ---- */

typedef struct delete_call {
    const char *video_id, *user_id;
    hh_video_status status;
    char (*keys)[HH_KEY_MAX];
    size_t nkeys;
} delete_call;

/* Sets *shared to whether another video of the user names key. */
static hh_status ref_shared(conn *c, const delete_call *d, const char *key, int *shared)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, V_REF_SHARED, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, d->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, d->video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, key, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "reference shared");
    sq_done(s);
    *shared = rc == HH_OK;
    return rc == HH_ERR_NOTFOUND ? HH_OK : rc;
}

/* Runs statement id of this file with text ?1 (and ?2 when b is not NULL). */
static hh_status exec_ids(conn *c, int id, const char *a, const char *b, const char *what)
{
    sqlite3_stmt *s;
    hh_status rc = sq_stmt(c, &video_sql, id, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
    return sq_exec(c, s, what);
}

/* The delete's transaction: reads what the video names, then removes the rows. */
static hh_status delete_tx(conn *c, void *ctx)
{
    delete_call *d = ctx;
    char found[2 + HH_REF_SLOTS][HH_KEY_MAX];
    sqlite3_stmt *s;
    d->nkeys = 0;
    hh_status rc = sq_stmt(c, &video_sql, V_DELETE_READ, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, d->video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, d->user_id, -1, SQLITE_STATIC);
    if (!(rc = sq_step_one(c, s, "video delete read"))) {
        char vs[16];
        sq_col_text(s, 0, vs, sizeof vs);
        d->status = store_status_parse(vs);
        for (int i = 0; i < 2 + HH_REF_SLOTS; i++)
            sq_col_text(s, 1 + i, found[i], sizeof found[i]); /* NULL reads as "" */
    }
    sq_done(s);
    if (rc)
        return rc;
    if (!store_video_ended(d->status))
        return HH_ERR_CONFLICT;
    for (int i = 0; i < 2 + HH_REF_SLOTS; i++) {
        int shared = 0;
        if (!found[i][0])
            continue;
        if (i >= 2 &&
            ((rc = ref_shared(c, d, found[i], &shared)) ||
             (!shared && (rc = exec_ids(c, V_UPLOAD_DROP, found[i], d->user_id, "upload drop")))))
            return rc;
        if (!shared)
            memcpy(d->keys[d->nkeys++], found[i], HH_KEY_MAX);
    }
    if ((rc = exec_ids(c, V_SHARE_DROP, d->video_id, NULL, "share drop")) ||
        (rc = exec_ids(c, V_REMOTE_DROP, d->video_id, NULL, "remote drop")) ||
        (rc = exec_ids(c, V_JOB_DROP, d->video_id, NULL, "job drop")))
        return rc;
    return exec_ids(c, V_VIDEO_DROP, d->video_id, NULL, "video drop");
}

static hh_status sq_video_delete(hh_store *st, const char *video_id, const char *user_id,
                                 hh_video_status *status, char (*keys)[HH_KEY_MAX], size_t *nkeys)
{
    delete_call d = {.video_id = video_id, .user_id = user_id, .keys = keys};
    *nkeys = 0;
    hh_status rc = sq_tx(st, delete_tx, &d);
    if (status)
        *status = d.status;
    if (!rc)
        *nkeys = d.nkeys;
    return rc;
}

/* ---- a customer's cancel ---- */

/* The cancel's transaction: job, refund, remote task and video, or nothing. */
static hh_status cancel_tx(conn *c, void *ctx)
{
    job_call *j = ctx;
    int64_t now = hh_time_now_ms();
    job_state js;
    sqlite3_stmt *s;
    hh_status rc = job_state_get(c, j->video_id, &js);
    if (rc)
        return rc;
    if (strcmp(js.user_id, j->user_id))
        return HH_ERR_NOTFOUND; /* another user's video is as absent as an unknown one */
    *j->status = js.video_status;
    if (store_video_ended(js.video_status))
        return HH_ERR_CONFLICT;
    int64_t owed = js.charged - js.refunded;
    if ((rc = job_end(c, j->video_id, "canceled", now)))
        return rc;
    if (owed > 0 && (rc = sq_ledger_append_tx(c, js.user_id, owed, HH_LEDGER_REFUND, j->video_id,
                                              "video canceled", NULL)))
        return rc;
    if ((rc = sq_remote_cancel_tx(c, j->video_id, now)) ||
        (rc = sq_stmt(c, &video_sql, V_VIDEO_CANCEL, &s)))
        return rc;
    sqlite3_bind_text(s, 1, j->video_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, js.charged);
    if ((rc = sq_exec_one(c, s, "video cancel")) ||
        (rc = sq_hook_event_tx(c, js.user_id, j->video_id, HH_HOOK_VIDEO_CANCELED, now)))
        return rc;
    if (j->refunded)
        *j->refunded = owed > 0 ? owed : 0;
    return HH_OK;
}

static hh_status sq_video_cancel(hh_store *st, const char *video_id, const char *user_id,
                                 hh_video_status *status, int64_t *refunded)
{
    hh_video_status seen = HH_VIDEO_QUEUED;
    if (refunded)
        *refunded = 0;
    job_call j = {.video_id = video_id, .user_id = user_id, .refunded = refunded, .status = &seen};
    hh_status rc = sq_tx(st, cancel_tx, &j);
    if (status)
        *status = seen;
    return rc;
}

static hh_status sq_video_queue_place(hh_store *st, const char *video_id, hh_queue_place *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    memset(out, 0, sizeof *out);
    hh_status rc = sq_borrow(st, &video_sql, V_QUEUE_PLACE, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW) {
        out->running_limit = sqlite3_column_int64(s, 0);
        out->running = sqlite3_column_int64(s, 1);
        out->yours_ahead = sqlite3_column_int64(s, 2);
        out->others_waiting = sqlite3_column_int64(s, 3);
    } else {
        rc = src == SQLITE_DONE ? HH_ERR_NOTFOUND : sq_error(c->db, src, "queue place");
    }
out:
    sq_done(s);
    sq_conn_put(st, c);
    return rc;
}

/* The operations of store.h this file implements, into the SQLite table. */
void sq_videos_ops(store_ops *o)
{
    o->upload_create = sq_upload_create;
    o->upload_get = sq_upload_get;
    o->upload_complete = sq_upload_complete;
    o->video_create = sq_video_create;
    o->video_get = sq_video_get;
    o->video_find = sq_video_find;
    o->video_set_favorite = sq_video_set_favorite;
    o->job_claim_plans = sq_job_claim_plans;
    o->job_heartbeat = sq_job_heartbeat;
    o->job_finish = sq_job_finish;
    o->job_fail = sq_job_fail;
    o->job_release = sq_job_release;
    o->job_counts = sq_job_counts;
    o->video_queue_place = sq_video_queue_place;
    o->queue_stats = sq_queue_stats;
    o->video_refund = sq_video_refund;
    o->video_cancel = sq_video_cancel;
    o->video_delete = sq_video_delete;
}
