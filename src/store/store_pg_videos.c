/*
 * store_pg_videos.c - uploads, videos and idempotency records on
 * PostgreSQL: the create (idempotency, guard, charge, video and job in one
 * transaction), the reads and the gallery's list, favourites, and a
 * video's ends that are not a worker's: the operator's refund, the
 * customer's cancel, the delete. The queue itself (claims, leases, finish,
 * fail) is store_pg_queue.c's. Each operation behaves as its sq_ twin in
 * store_sqlite_videos.c.
 *
 * Concurrency: SQLite runs one writer at a time; here transactions run at
 * once in READ COMMITTED, so each body locks the rows it decides on before
 * it reads them, in the store's order (job, video, user, remote task). A
 * create locks its user's row first: that is the row its charge updates
 * anyway, and holding it from the start serialises a user's creates, so
 * the second of two creates with one Idempotency-Key waits for the first
 * and then finds its record (a replay), and the guard's caps count what
 * the creates before committed.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "store/store_pg_int.h"
#include "util/uuid.h"

#define DEFAULT_MAX_ATTEMPTS 3
#define HH_REF_SLOTS         4 /* the references a request may name (video_request.h's HH_REF_COUNT) */
#define IDEM_TTL_MS          (24LL * 3600 * 1000)

/* This file's statements: the SQL of each in video_text, the prepared set's row PG_FILE_VIDEOS. */
enum video_stmt {
    V_UPLOAD_INSERT,
    V_UPLOAD_GET,
    V_UPLOAD_COMPLETE,
    V_USER_LOCK,
    V_IDEM_GET,
    V_IDEM_DELETE,
    V_IDEM_INSERT,
    V_IDEM_PRUNE,
    V_VIDEO_INSERT,
    V_JOB_INSERT,
    V_VIDEO_GET,
    V_VIDEO_GET_ANY,
    V_VIDEO_LIST,
    V_VIDEO_LIST_ANY,
    V_VIDEO_FAVORITE,
    V_JOB_END,
    V_VIDEO_REFUNDED,
    V_VIDEO_CANCEL,
    V_DELETE_READ,
    V_REF_SHARED,
    V_UPLOAD_DROP,
    V_SHARE_DROP,
    V_REMOTE_DROP,
    V_JOB_DROP,
    V_VIDEO_DROP,
    V_COUNT
};
_Static_assert(V_COUNT <= PG_STMTS_MAX, "raise PG_STMTS_MAX in store_pg_int.h");

#define VIDEO_COLS                                                                                 \
    "v.id, v.user_id, v.status, v.prompt, v.style, v.request, v.error_message, v.duration_sec,"    \
    " v.aspect_ratio, v.resolution, v.progress, v.credits_charged, v.credits_refunded,"            \
    " v.video_key, v.thumbnail_key, j.plan, j.attempts, v.created_at, v.started_at, v.ready_at,"   \
    " v.favorite"

/* Every read of a video joins its job (plan, attempts). */
#define SELECT_VIDEO "SELECT " VIDEO_COLS " FROM videos v JOIN jobs j ON j.video_id = v.id"

/*
 * What store_video_find selects and how it pages, after a list's WHERE:
 * $1 before, $2 the limit, $3 the status, $4 the pattern, $5 favourites
 * only ($6, the user, is the user list's own). SQLite's LIKE folds ASCII
 * letters only; PostgreSQL's LIKE folds none and ILIKE follows the locale,
 * so the prompt's ASCII capitals are lowered here and the pattern's in C.
 */
#define VIDEO_FILTER                                                                               \
    " ($1::text = '' OR v.id < $1) AND ($3::text IS NULL OR v.status = $3)"                        \
    " AND ($4::text IS NULL OR translate(v.prompt, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',"                  \
    " 'abcdefghijklmnopqrstuvwxyz') LIKE $4 ESCAPE '\\') AND ($5::bigint = 0 OR v.favorite = 1)"   \
    " ORDER BY v.id DESC LIMIT $2"

/* The references a request names (its API names), as text: NULL when absent. */
#define REF_KEYS                                                                                   \
    "v.request::jsonb ->> 'sourceImageKey', v.request::jsonb ->> 'lastFrameKey',"                  \
    " v.request::jsonb ->> 'referenceVideoKey', v.request::jsonb ->> 'referenceAudioKey'"

static const char *const video_text[V_COUNT] = {
    [V_UPLOAD_INSERT] = "INSERT INTO uploads (key, user_id, kind, content_type, size_bytes,"
                        " state, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending',"
                        " $6, hh_now_ms())",
    [V_UPLOAD_GET] = "SELECT key, user_id, kind, content_type, size_bytes, state, expires_at,"
                     " created_at, coalesce(completed_at, 0) FROM uploads WHERE key = $1",
    [V_UPLOAD_COMPLETE] = "UPDATE uploads SET state = 'complete', completed_at = hh_now_ms()"
                          " WHERE key = $1 AND state = 'pending'",
    /* The lock the charge would take, taken first (see the top of the file). */
    [V_USER_LOCK] = "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE",
    [V_IDEM_GET] = "SELECT request_hash, response, created_at FROM idempotency"
                   " WHERE user_id = $1 AND key = $2",
    [V_IDEM_DELETE] = "DELETE FROM idempotency WHERE user_id = $1 AND key = $2",
    [V_IDEM_INSERT] = "INSERT INTO idempotency (user_id, key, request_hash, response, created_at)"
                      " VALUES ($1, $2, $3::bytea, $4, $5)",
    /* At most 100 per create, as SQLite; rows another create is pruning are left to it. */
    [V_IDEM_PRUNE] = "DELETE FROM idempotency WHERE (user_id, key) IN (SELECT user_id, key"
                     " FROM idempotency WHERE created_at < $1 ORDER BY created_at LIMIT 100"
                     " FOR UPDATE SKIP LOCKED)",
    [V_VIDEO_INSERT] = "INSERT INTO videos (id, user_id, status, prompt, style, duration_sec,"
                       " aspect_ratio, resolution, request, credits_charged, created_at)"
                       " VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $10)",
    [V_JOB_INSERT] = "INSERT INTO jobs (video_id, user_id, plan, state, max_attempts,"
                     " max_in_flight, enqueued_at, updated_at)"
                     " VALUES ($1, $2, $3, 'queued', $4, $5, $6, $6)",
    [V_VIDEO_GET] = SELECT_VIDEO " WHERE v.id = $1 AND v.user_id = $2",
    [V_VIDEO_GET_ANY] = SELECT_VIDEO " WHERE v.id = $1",
    /* $4 is a LIKE pattern whose %, _ and backslash are escaped with a backslash (like_pattern). */
    [V_VIDEO_LIST] = SELECT_VIDEO " WHERE v.user_id = $6 AND" VIDEO_FILTER,
    /* Every user's (operators): its own statement, so a user's list keeps its index. */
    [V_VIDEO_LIST_ANY] = SELECT_VIDEO " WHERE" VIDEO_FILTER,
    [V_VIDEO_FAVORITE] = "UPDATE videos SET favorite = $3 WHERE id = $1 AND user_id = $2",
    /* What a refund or a cancel decides on, its job and video locked in that order. */
    [V_JOB_END] = "UPDATE jobs SET state = $2, lease_owner = NULL, lease_expires_at = NULL,"
                  " updated_at = $3 WHERE video_id = $1",
    [V_VIDEO_REFUNDED] = "UPDATE videos SET credits_refunded = credits_charged WHERE id = $1",
    [V_VIDEO_CANCEL] = "UPDATE videos SET status = 'canceled', credits_refunded = $2 WHERE id = $1",
    /* What a delete frees: the outputs and the references, its job and video locked. */
    [V_DELETE_READ] = "SELECT v.status, coalesce(v.video_key, ''), coalesce(v.thumbnail_key, ''),"
                      " " REF_KEYS " FROM jobs j JOIN videos v ON v.id = j.video_id"
                      " WHERE j.video_id = $1 AND v.user_id = $2 FOR UPDATE OF j, v",
    /* Uploads are per user, so only the user's own videos can name one. */
    [V_REF_SHARED] = "SELECT 1 FROM videos v WHERE v.user_id = $1 AND v.id <> $2"
                     " AND $3::text IN (" REF_KEYS ") LIMIT 1",
    [V_UPLOAD_DROP] = "DELETE FROM uploads WHERE key = $1 AND user_id = $2",
    [V_SHARE_DROP] = "DELETE FROM shares WHERE video_id = $1",
    [V_REMOTE_DROP] = "DELETE FROM remote_tasks WHERE video_id = $1",
    [V_JOB_DROP] = "DELETE FROM jobs WHERE video_id = $1",
    [V_VIDEO_DROP] = "DELETE FROM videos WHERE id = $1",
};

static const pg_sql video_sql = {PG_FILE_VIDEOS, V_COUNT, video_text};

/* ---- uploads ---- */

static hh_status pg_upload_create(hh_store *st, const hh_upload *u)
{
    pg_num size, expires;
    const char *p[] = {u->key,
                       u->user_id,
                       u->kind,
                       u->content_type,
                       pg_i64(&size, u->size_bytes),
                       pg_i64(&expires, u->expires_at)};
    return pg_run(st, &video_sql, V_UPLOAD_INSERT, 6, p, NULL);
}

static void read_upload(const PGresult *r, hh_upload *out)
{
    char state[16];
    pg_col_text(r, 0, 0, out->key, sizeof out->key);
    pg_col_text(r, 0, 1, out->user_id, sizeof out->user_id);
    pg_col_text(r, 0, 2, out->kind, sizeof out->kind);
    pg_col_text(r, 0, 3, out->content_type, sizeof out->content_type);
    out->size_bytes = pg_col_i64(r, 0, 4);
    pg_col_text(r, 0, 5, state, sizeof state);
    out->complete = !strcmp(state, "complete");
    out->expires_at = pg_col_i64(r, 0, 6);
    out->created_at = pg_col_i64(r, 0, 7);
    out->completed_at = pg_col_i64(r, 0, 8);
}

static hh_status pg_upload_get(hh_store *st, const char *key, hh_upload *out)
{
    PGresult *r = NULL;
    const char *p[] = {key};
    hh_status rc = pg_run(st, &video_sql, V_UPLOAD_GET, 1, p, &r);
    if (!rc && PQntuples(r) == 0)
        rc = HH_ERR_NOTFOUND;
    if (!rc)
        read_upload(r, out);
    PQclear(r);
    return rc;
}

static hh_status pg_upload_complete(hh_store *st, const char *key)
{
    const char *p[] = {key};
    hh_status rc = pg_run_one(st, &video_sql, V_UPLOAD_COMPLETE, 1, p);
    if (rc == HH_ERR_NOTFOUND) {
        /* Unknown, or no longer pending: tell the two apart for the caller. */
        hh_upload u;
        rc = pg_upload_get(st, key, &u) == HH_OK ? HH_ERR_CONFLICT : HH_ERR_NOTFOUND;
    }
    return rc;
}

/* ---- videos ---- */

/* A malloc'd copy of column col of row; *bad set when it is not NULL and the copy failed. */
static char *col_dup(const PGresult *r, int row, int col, int *bad)
{
    char *s = pg_col_strdup(r, row, col);
    if (!s && !pg_col_null(r, row, col))
        *bad = 1;
    return s;
}

/* Reads row `row` of VIDEO_COLS. HH_ERR_NOMEM leaves v cleared. */
static hh_status read_video(const PGresult *r, int row, hh_video *v)
{
    char status[16];
    int bad = 0;
    memset(v, 0, sizeof *v);
    pg_col_text(r, row, 0, v->id, sizeof v->id);
    pg_col_text(r, row, 1, v->user_id, sizeof v->user_id);
    pg_col_text(r, row, 2, status, sizeof status);
    v->status = store_status_parse(status);
    v->prompt = col_dup(r, row, 3, &bad);
    v->style = col_dup(r, row, 4, &bad);
    v->request = col_dup(r, row, 5, &bad);
    v->error_message = col_dup(r, row, 6, &bad);
    v->duration_sec = (int)pg_col_i64(r, row, 7);
    pg_col_text(r, row, 8, v->aspect_ratio, sizeof v->aspect_ratio);
    pg_col_text(r, row, 9, v->resolution, sizeof v->resolution);
    v->progress = (int)pg_col_i64(r, row, 10);
    v->credits_charged = pg_col_i64(r, row, 11);
    v->credits_refunded = pg_col_i64(r, row, 12);
    pg_col_text(r, row, 13, v->video_key, sizeof v->video_key);
    pg_col_text(r, row, 14, v->thumbnail_key, sizeof v->thumbnail_key);
    pg_col_text(r, row, 15, v->plan, sizeof v->plan);
    v->attempts = (int)pg_col_i64(r, row, 16);
    v->created_at = pg_col_i64(r, row, 17);
    v->started_at = pg_col_i64(r, row, 18);
    v->ready_at = pg_col_i64(r, row, 19);
    v->favorite = (int)pg_col_i64(r, row, 20);
    if (bad || !v->prompt || !v->request) {
        store_video_clear(v);
        return HH_ERR_NOMEM;
    }
    return HH_OK;
}

static hh_status pg_video_get(hh_store *st, const char *id, const char *user_id, hh_video *out)
{
    PGresult *r = NULL;
    const char *p[] = {id, user_id};
    hh_status rc =
        pg_run(st, &video_sql, user_id ? V_VIDEO_GET : V_VIDEO_GET_ANY, user_id ? 2 : 1, p, &r);
    if (!rc && PQntuples(r) == 0)
        rc = HH_ERR_NOTFOUND;
    if (!rc)
        rc = read_video(r, 0, out);
    PQclear(r);
    return rc;
}

/*
 * The LIKE pattern "%q%" with q's %, _ and \ escaped by \ and its ASCII
 * capitals lowered (the prompt's are, in VIDEO_FILTER), so a search finds
 * exactly the text typed, in any ASCII case. out holds 2 *
 * STORE_VIDEO_QUERY_MAX + 3.
 */
static void like_pattern(const char *q, char *out)
{
    char *o = out;
    *o++ = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\')
            *o++ = '\\';
        *o++ = *q >= 'A' && *q <= 'Z' ? (char)(*q - 'A' + 'a') : *q;
    }
    *o++ = '%';
    *o = '\0';
}

static hh_status pg_video_find(hh_store *st, const char *user_id, const hh_video_filter *f,
                               int limit, hh_video **videos, size_t *n)
{
    PGresult *r = NULL;
    hh_video *arr = NULL;
    size_t count = 0;
    char pattern[2 * STORE_VIDEO_QUERY_MAX + 3];
    pg_num lim, fav;
    *videos = NULL;
    *n = 0;
    if (f->q && f->q[0])
        like_pattern(f->q, pattern);
    const char *p[] = {f->before ? f->before : "",
                       pg_i64(&lim, limit),
                       f->status == HH_VIDEO_ANY ? NULL : hh_video_status_str(f->status),
                       f->q && f->q[0] ? pattern : NULL,
                       pg_i64(&fav, f->favorite != 0),
                       user_id};
    hh_status rc =
        pg_run(st, &video_sql, user_id ? V_VIDEO_LIST : V_VIDEO_LIST_ANY, user_id ? 6 : 5, p, &r);
    if (rc)
        goto out;
    int rows = PQntuples(r);
    if (rows > 0 && !(arr = calloc((size_t)rows, sizeof *arr))) {
        rc = HH_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < rows && !rc; i++)
        if (!(rc = read_video(r, i, &arr[count])))
            count++;
out:
    PQclear(r);
    if (rc) {
        store_video_list_free(arr, count);
        return rc;
    }
    *videos = arr;
    *n = count;
    return HH_OK;
}

static hh_status pg_video_set_favorite(hh_store *st, const char *id, const char *user_id, int on)
{
    pg_num v;
    const char *p[] = {id, user_id, pg_i64(&v, on)};
    /* HH_ERR_NOTFOUND when no row is the user's. */
    return pg_run_one(st, &video_sql, V_VIDEO_FAVORITE, 3, p);
}

/* ---- creating a video: idempotency, charge, video, job, in one transaction ---- */

/*
 * Looks up an Idempotency-Key inside the transaction. HH_OK with *replay
 * set for a live record of the same request; HH_ERR_CONFLICT for another
 * request; HH_ERR_NOTFOUND when there is none (an expired one is deleted).
 */
static hh_status idem_check(pg_conn *c, const hh_video_new *in, int64_t now, char **replay)
{
    PGresult *r = NULL;
    const char *p[] = {in->user_id, in->idem_key};
    hh_status rc = pg_one(c, &video_sql, V_IDEM_GET, 2, p, &r);
    int expired = 0;
    if (!rc) {
        uint8_t hash[CRYPTO_SHA256_LEN];
        long len = pg_col_bytea(r, 0, 0, hash, sizeof hash);
        int same = len == CRYPTO_SHA256_LEN && !memcmp(hash, in->idem_hash, CRYPTO_SHA256_LEN);
        expired = pg_col_i64(r, 0, 2) < now - IDEM_TTL_MS;
        if (expired)
            rc = HH_ERR_NOTFOUND;
        else if (!same)
            rc = HH_ERR_CONFLICT;
        else if (!(*replay = pg_col_strdup(r, 0, 1)))
            rc = HH_ERR_NOMEM;
    }
    PQclear(r);
    if (rc == HH_ERR_NOTFOUND && expired) {
        hh_status drc = pg_exec(c, &video_sql, V_IDEM_DELETE, 2, p);
        if (drc)
            return drc;
    }
    return rc;
}

/* Deletes up to 100 records older than the 24 h window. */
static hh_status idem_prune(pg_conn *c, int64_t now)
{
    pg_num before;
    const char *p[] = {pg_i64(&before, now - IDEM_TTL_MS)};
    return pg_exec(c, &video_sql, V_IDEM_PRUNE, 1, p);
}

static hh_status insert_video_and_job(pg_conn *c, const hh_video_new *in, const char *id,
                                      int64_t now)
{
    pg_num dur, price, at, attempts, flight;
    const char *pv[] = {id,
                        in->user_id,
                        in->prompt,
                        in->style,
                        pg_i64(&dur, in->duration_sec),
                        in->aspect_ratio,
                        in->resolution,
                        in->request_json,
                        pg_i64(&price, in->price),
                        pg_i64(&at, now)};
    hh_status rc = pg_exec(c, &video_sql, V_VIDEO_INSERT, 10, pv);
    if (rc)
        return rc;
    const char *pj[] = {
        id,
        in->user_id,
        in->plan,
        pg_i64(&attempts, in->max_attempts > 0 ? in->max_attempts : DEFAULT_MAX_ATTEMPTS),
        pg_i64(&flight, in->max_in_flight > 0 ? in->max_in_flight : 1),
        at.s};
    return pg_exec(c, &video_sql, V_JOB_INSERT, 6, pj);
}

static hh_status idem_record(pg_conn *c, const hh_video_new *in, const char *id, int64_t now)
{
    char hash[2 * CRYPTO_SHA256_LEN + 3];
    pg_num at;
    const char *p[] = {in->user_id, in->idem_key,
                       pg_bytea_hex(in->idem_hash, CRYPTO_SHA256_LEN, hash, sizeof hash),
                       in->response_body ? in->response_body : id, pg_i64(&at, now)};
    return pg_exec(c, &video_sql, V_IDEM_INSERT, 5, p);
}

/* One store_video_create: its request, the new id and where its results go. */
typedef struct create_call {
    const hh_video_new *in;
    const char *id;
    char **replay_body;
    int64_t *balance_out;
} create_call;

/*
 * The transaction of store_video_create. A replay returns HH_OK having
 * written nothing. pg_tx may run it again: its outputs start afresh.
 */
static hh_status create_tx(pg_conn *c, void *ctx)
{
    create_call *v = ctx;
    const hh_video_new *in = v->in;
    const char *user[] = {in->user_id};
    int64_t now;
    free(*v->replay_body);
    *v->replay_body = NULL;
    if (v->balance_out)
        *v->balance_out = 0;
    hh_status rc = pg_now(c, &now);
    if (rc || (rc = pg_exec(c, &video_sql, V_USER_LOCK, 1, user)))
        return rc;
    if (in->idem_key) {
        rc = idem_check(c, in, now, v->replay_body);
        if (rc != HH_ERR_NOTFOUND)
            return rc; /* a replay (HH_OK), a conflict or an error: write nothing */
        if ((rc = idem_prune(c, now)))
            return rc;
    }
    if (in->guard && (rc = pg_create_guard_tx(c, in, now)))
        return rc; /* the caller may no longer create, or a cap of the account (accounts.c) */
    int64_t balance = 0;
    rc =
        pg_ledger_append_tx(c, in->user_id, -in->price, HH_LEDGER_CHARGE, v->id, "video", &balance);
    if (v->balance_out)
        *v->balance_out = balance;
    if (!rc)
        rc = insert_video_and_job(c, in, v->id, now);
    if (!rc && in->idem_key)
        rc = idem_record(c, in, v->id, now);
    return rc;
}

static hh_status pg_video_create(hh_store *st, const hh_video_new *in, char id_out[HH_ID_LEN],
                                 char **replay_body, int64_t *balance_out)
{
    *replay_body = NULL;
    id_out[0] = '\0';
    hh_status rc = uuid_v7(id_out);
    if (rc)
        return rc;
    create_call v = {in, id_out, replay_body, balance_out};
    rc = pg_tx(st, create_tx, &v);
    if (*replay_body) {
        id_out[0] = '\0'; /* a replay creates nothing */
        if (rc) {
            free(*replay_body); /* the (empty) transaction did not commit */
            *replay_body = NULL;
        }
    }
    return rc;
}

/* ---- refunds and cancels ---- */

/* The arguments of a refund or a cancel, and where their results go. */
typedef struct end_call {
    const char *video_id;
    const char *note;        /* the refund's */
    const char *user_id;     /* the cancel's: the video's owner */
    int64_t *refunded;       /* may be NULL */
    hh_video_status *status; /* the cancel's: the status found */
} end_call;

/* The transaction of store_video_refund: refunds what a ready video was charged, once. */
static hh_status refund_tx(pg_conn *c, void *ctx)
{
    const end_call *e = ctx;
    const char *note = e->note && *e->note ? e->note : "refunded by an operator";
    const char *p[] = {e->video_id};
    pg_job_state vs;
    if (e->refunded)
        *e->refunded = 0;
    hh_status rc = pg_job_state_lock(c, e->video_id, &vs);
    if (rc)
        return rc;
    /* Unfinished: fail it instead (that refunds). Failed: refunded already. */
    if (vs.video_status != HH_VIDEO_READY || vs.charged - vs.refunded <= 0)
        return HH_ERR_CONFLICT;
    rc = pg_ledger_append_tx(c, vs.user_id, vs.charged - vs.refunded, HH_LEDGER_REFUND, e->video_id,
                             note, NULL);
    if (rc == HH_ERR_EXISTS)
        return HH_ERR_CONFLICT;
    if (rc || (rc = pg_exec_one(c, &video_sql, V_VIDEO_REFUNDED, 1, p)))
        return rc;
    if (e->refunded)
        *e->refunded = vs.charged - vs.refunded;
    return HH_OK;
}

static hh_status pg_video_refund(hh_store *st, const char *video_id, const char *note,
                                 int64_t *refunded)
{
    end_call e = {.video_id = video_id, .note = note, .refunded = refunded};
    hh_status rc = pg_tx(st, refund_tx, &e);
    if (rc && refunded)
        *refunded = 0;
    return rc;
}

/* Inside a cancel: the job ends canceled (its lease gone) and the video is refunded in full. */
static hh_status cancel_rows(pg_conn *c, const end_call *e, const pg_job_state *vs, int64_t now)
{
    pg_num at, charged;
    int64_t owed = vs->charged - vs->refunded;
    const char *pj[] = {e->video_id, "canceled", pg_i64(&at, now)};
    const char *pv[] = {e->video_id, pg_i64(&charged, vs->charged)};
    hh_status rc = pg_exec_one(c, &video_sql, V_JOB_END, 3, pj);
    if (!rc && owed > 0)
        rc = pg_ledger_append_tx(c, vs->user_id, owed, HH_LEDGER_REFUND, e->video_id,
                                 "video canceled", NULL);
    if (!rc)
        rc = pg_remote_cancel_tx(c, e->video_id, now);
    if (!rc)
        rc = pg_exec_one(c, &video_sql, V_VIDEO_CANCEL, 2, pv);
    return rc;
}

/* The cancel's transaction: job, refund, remote task and video, or nothing. */
static hh_status cancel_tx(pg_conn *c, void *ctx)
{
    const end_call *e = ctx;
    pg_job_state vs;
    int64_t now;
    if (e->refunded)
        *e->refunded = 0;
    *e->status = HH_VIDEO_QUEUED;
    hh_status rc = pg_now(c, &now);
    if (rc || (rc = pg_job_state_lock(c, e->video_id, &vs)))
        return rc;
    if (strcmp(vs.user_id, e->user_id))
        return HH_ERR_NOTFOUND; /* another user's video is as absent as an unknown one */
    *e->status = vs.video_status;
    if (store_video_ended(vs.video_status))
        return HH_ERR_CONFLICT;
    if ((rc = cancel_rows(c, e, &vs, now)) ||
        (rc = pg_hook_event_tx(c, vs.user_id, e->video_id, HH_HOOK_VIDEO_CANCELED, now)))
        return rc;
    if (e->refunded)
        *e->refunded = vs.charged - vs.refunded > 0 ? vs.charged - vs.refunded : 0;
    return HH_OK;
}

static hh_status pg_video_cancel(hh_store *st, const char *video_id, const char *user_id,
                                 hh_video_status *status, int64_t *refunded)
{
    hh_video_status seen = HH_VIDEO_QUEUED;
    end_call e = {.video_id = video_id, .user_id = user_id, .refunded = refunded, .status = &seen};
    hh_status rc = pg_tx(st, cancel_tx, &e);
    if (rc && refunded)
        *refunded = 0;
    if (status)
        *status = seen;
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
static hh_status ref_shared(pg_conn *c, const delete_call *d, const char *key, int *shared)
{
    PGresult *r = NULL;
    const char *p[] = {d->user_id, d->video_id, key};
    hh_status rc = pg_one(c, &video_sql, V_REF_SHARED, 3, p, &r);
    PQclear(r);
    *shared = rc == HH_OK;
    return rc == HH_ERR_NOTFOUND ? HH_OK : rc;
}

/* Reads (and locks) what the video names: found[0..1] its outputs, then its references. */
static hh_status delete_read(pg_conn *c, delete_call *d, char (*found)[HH_KEY_MAX])
{
    PGresult *r = NULL;
    const char *p[] = {d->video_id, d->user_id};
    hh_status rc = pg_one(c, &video_sql, V_DELETE_READ, 2, p, &r);
    if (!rc) {
        char vs[16];
        pg_col_text(r, 0, 0, vs, sizeof vs);
        d->status = store_status_parse(vs);
        for (int i = 0; i < 2 + HH_REF_SLOTS; i++)
            pg_col_text(r, 0, 1 + i, found[i], HH_KEY_MAX); /* NULL reads as "" */
    }
    PQclear(r);
    return rc;
}

/* The delete's transaction: reads what the video names, then removes the rows. */
static hh_status delete_tx(pg_conn *c, void *ctx)
{
    delete_call *d = ctx;
    char found[2 + HH_REF_SLOTS][HH_KEY_MAX];
    const char *id[] = {d->video_id};
    d->nkeys = 0;
    d->status = HH_VIDEO_QUEUED;
    hh_status rc = delete_read(c, d, found);
    if (rc)
        return rc;
    if (!store_video_ended(d->status))
        return HH_ERR_CONFLICT;
    for (int i = 0; i < 2 + HH_REF_SLOTS; i++) {
        int shared = 0;
        const char *drop[] = {found[i], d->user_id};
        if (!found[i][0])
            continue;
        if (i >= 2 && ((rc = ref_shared(c, d, found[i], &shared)) ||
                       (!shared && (rc = pg_exec(c, &video_sql, V_UPLOAD_DROP, 2, drop)))))
            return rc;
        if (!shared)
            memcpy(d->keys[d->nkeys++], found[i], HH_KEY_MAX);
    }
    if ((rc = pg_exec(c, &video_sql, V_SHARE_DROP, 1, id)) ||
        (rc = pg_exec(c, &video_sql, V_REMOTE_DROP, 1, id)) ||
        (rc = pg_exec(c, &video_sql, V_JOB_DROP, 1, id)))
        return rc;
    return pg_exec(c, &video_sql, V_VIDEO_DROP, 1, id);
}

static hh_status pg_video_delete(hh_store *st, const char *video_id, const char *user_id,
                                 hh_video_status *status, char (*keys)[HH_KEY_MAX], size_t *nkeys)
{
    delete_call d = {.video_id = video_id, .user_id = user_id, .keys = keys};
    *nkeys = 0;
    hh_status rc = pg_tx(st, delete_tx, &d);
    if (status)
        *status = d.status;
    if (!rc)
        *nkeys = d.nkeys;
    return rc;
}

/* The operations of store.h this file implements, into the PostgreSQL table. */
void pg_videos_ops(store_ops *o)
{
    o->upload_create = pg_upload_create;
    o->upload_get = pg_upload_get;
    o->upload_complete = pg_upload_complete;
    o->video_create = pg_video_create;
    o->video_get = pg_video_get;
    o->video_find = pg_video_find;
    o->video_set_favorite = pg_video_set_favorite;
    o->video_refund = pg_video_refund;
    o->video_cancel = pg_video_cancel;
    o->video_delete = pg_video_delete;
}
