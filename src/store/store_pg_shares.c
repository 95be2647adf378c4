/*
 * store_pg_shares.c - public share pages in the PostgreSQL store (the
 * share part of store.h), as store_sqlite_shares.c: which ready video is
 * published under which slug, and whether its page shows the prompt. A
 * slug is looked up only through a join with a ready video of the same
 * owner, so unpublished, deleted or no longer ready videos have no page.
 *
 * Concurrency: a publish or unpublish holds a key-share lock on the video
 * it checked, so a delete (which locks the video for update) cannot remove
 * it in between; it blocks no other change of the video.
 */
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/store_pg_int.h"

/* This file's statements: the SQL of each in share_text, the prepared set's row PG_FILE_SHARES. */
enum share_stmt { H_OWNED, H_UPSERT, H_OF_VIDEO, H_BY_SLUG, H_DELETE, H_COUNT };
_Static_assert(H_COUNT <= PG_STMTS_MAX, "raise PG_STMTS_MAX in store_pg_int.h");

#define SHARE_COLS "s.video_id, s.user_id, s.slug, s.show_prompt, s.created_at"

static const char *const share_text[H_COUNT] = {
    [H_OWNED] = "SELECT status FROM videos WHERE id = $1 AND user_id = $2 FOR KEY SHARE",
    /* A slug taken by another video is a unique violation (HH_ERR_EXISTS), as in SQLite. */
    [H_UPSERT] = "INSERT INTO shares (video_id, user_id, slug, show_prompt, created_at)"
                 " VALUES ($1, $2, $3, $4, $5)"
                 " ON CONFLICT (video_id) DO UPDATE SET show_prompt = excluded.show_prompt",
    [H_OF_VIDEO] = "SELECT " SHARE_COLS " FROM shares s WHERE s.video_id = $1",
    [H_BY_SLUG] = "SELECT " SHARE_COLS " FROM shares s JOIN videos v"
                  " ON v.id = s.video_id AND v.user_id = s.user_id"
                  " WHERE s.slug = $1 AND v.status = 'ready'",
    [H_DELETE] = "DELETE FROM shares WHERE video_id = $1 AND user_id = $2",
};

static const pg_sql share_sql = {PG_FILE_SHARES, H_COUNT, share_text};

static void read_share(const PGresult *r, hh_share *out)
{
    memset(out, 0, sizeof *out);
    pg_col_text(r, 0, 0, out->video_id, sizeof out->video_id);
    pg_col_text(r, 0, 1, out->user_id, sizeof out->user_id);
    pg_col_text(r, 0, 2, out->slug, sizeof out->slug);
    out->show_prompt = (int)pg_col_i64(r, 0, 3);
    out->created_at = pg_col_i64(r, 0, 4);
}

/* On c: HH_OK when video_id is user_id's and, if need_ready, ready (HH_ERR_CONFLICT: not ready). */
static hh_status owned(pg_conn *c, const char *video_id, const char *user_id, int need_ready)
{
    PGresult *r = NULL;
    const char *p[] = {video_id, user_id};
    hh_status rc = pg_one(c, &share_sql, H_OWNED, 2, p, &r);
    if (!rc && need_ready && strcmp(PQgetvalue(r, 0, 0), "ready"))
        rc = HH_ERR_CONFLICT;
    PQclear(r);
    return rc;
}

/* The share a statement of SHARE_COLS found into *out; HH_ERR_NOTFOUND when none. */
static hh_status share_row(hh_status rc, PGresult *r, hh_share *out)
{
    if (!rc && PQntuples(r) == 0)
        rc = HH_ERR_NOTFOUND;
    if (!rc)
        read_share(r, out);
    PQclear(r);
    return rc;
}

typedef struct publish_ctx {
    const char *video_id, *user_id, *slug;
    int show_prompt;
    int64_t now;
    hh_share *out;
} publish_ctx;

static hh_status publish_tx(pg_conn *c, void *ctx_)
{
    publish_ctx *x = ctx_;
    pg_num show, now;
    const char *p[] = {x->video_id, x->user_id, x->slug, pg_i64(&show, x->show_prompt ? 1 : 0),
                       pg_i64(&now, x->now)};
    PGresult *r = NULL;
    hh_status rc = owned(c, x->video_id, x->user_id, 1);
    if (rc || (rc = pg_exec(c, &share_sql, H_UPSERT, 5, p)))
        return rc;
    rc = pg_query(c, &share_sql, H_OF_VIDEO, 1, p, &r);
    return share_row(rc, r, x->out);
}

static hh_status pg_share_publish(hh_store *st, const char *video_id, const char *user_id,
                                  const char *slug, int show_prompt, int64_t now, hh_share *out)
{
    hh_share got;
    publish_ctx x = {video_id, user_id, slug, show_prompt, now, &got};
    hh_status rc = pg_tx(st, publish_tx, &x);
    if (!rc)
        *out = got;
    return rc;
}

typedef struct unpublish_ctx {
    const char *video_id, *user_id;
} unpublish_ctx;

static hh_status unpublish_tx(pg_conn *c, void *ctx_)
{
    unpublish_ctx *x = ctx_;
    const char *p[] = {x->video_id, x->user_id};
    hh_status rc = owned(c, x->video_id, x->user_id, 0);
    return rc ? rc : pg_exec(c, &share_sql, H_DELETE, 2, p);
}

static hh_status pg_share_unpublish(hh_store *st, const char *video_id, const char *user_id)
{
    unpublish_ctx x = {video_id, user_id};
    return video_id && user_id ? pg_tx(st, unpublish_tx, &x) : HH_ERR_INVALID;
}

static hh_status pg_share_by_slug(hh_store *st, const char *slug, hh_share *out)
{
    PGresult *r = NULL;
    const char *p[] = {slug};
    hh_status rc = pg_run(st, &share_sql, H_BY_SLUG, 1, p, &r);
    return share_row(rc, r, out);
}

static hh_status pg_share_of_video(hh_store *st, const char *video_id, hh_share *out)
{
    PGresult *r = NULL;
    const char *p[] = {video_id};
    hh_share got;
    hh_status rc = pg_run(st, &share_sql, H_OF_VIDEO, 1, p, &r);
    if (!(rc = share_row(rc, r, &got)))
        *out = got;
    return rc;
}

/* The operations of store.h this file implements, into the PostgreSQL table. */
void pg_shares_ops(store_ops *o)
{
    o->share_publish = pg_share_publish;
    o->share_unpublish = pg_share_unpublish;
    o->share_by_slug = pg_share_by_slug;
    o->share_of_video = pg_share_of_video;
}
