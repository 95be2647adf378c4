/*
 * store_sqlite_shares.c - public share pages in the SQLite store (the
 * share part of store.h): which ready video is published under which
 * slug, and whether its page shows the prompt. A slug is looked up only
 * through a join with a ready video of the same owner, so unpublished,
 * deleted or no longer ready videos have no page.
 */
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sqlite_int.h"

/* This file's statements: the SQL of each in share_text, the cache row SQ_FILE_SHARES. */
enum share_stmt { H_OWNED, H_UPSERT, H_OF_VIDEO, H_BY_SLUG, H_DELETE, H_COUNT };
_Static_assert(H_COUNT <= SQ_STMTS_MAX, "raise SQ_STMTS_MAX in store_sqlite_int.h");

#define SHARE_COLS "s.video_id, s.user_id, s.slug, s.show_prompt, s.created_at"

static const char *const share_text[H_COUNT] = {
    [H_OWNED] = "SELECT status FROM videos WHERE id = ?1 AND user_id = ?2",
    [H_UPSERT] = "INSERT INTO shares (video_id, user_id, slug, show_prompt, created_at)"
                 " VALUES (?1, ?2, ?3, ?4, ?5)"
                 " ON CONFLICT (video_id) DO UPDATE SET show_prompt = excluded.show_prompt",
    [H_OF_VIDEO] = "SELECT " SHARE_COLS " FROM shares s WHERE s.video_id = ?1",
    [H_BY_SLUG] = "SELECT " SHARE_COLS " FROM shares s JOIN videos v"
                  " ON v.id = s.video_id AND v.user_id = s.user_id"
                  " WHERE s.slug = ?1 AND v.status = 'ready'",
    [H_DELETE] = "DELETE FROM shares WHERE video_id = ?1 AND user_id = ?2",
};

static const sq_sql share_sql = {SQ_FILE_SHARES, H_COUNT, share_text};

static void read_share(sqlite3_stmt *s, hh_share *out)
{
    memset(out, 0, sizeof *out);
    sq_col_text(s, 0, out->video_id, sizeof out->video_id);
    sq_col_text(s, 1, out->user_id, sizeof out->user_id);
    sq_col_text(s, 2, out->slug, sizeof out->slug);
    out->show_prompt = sqlite3_column_int(s, 3);
    out->created_at = sqlite3_column_int64(s, 4);
}

/* On c: HH_OK when video_id is user_id's and ready (HH_ERR_CONFLICT: not ready). */
static hh_status owned(conn *c, const char *video_id, const char *user_id, int need_ready)
{
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &share_sql, H_OWNED, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "share owner");
    if (!rc && need_ready && strcmp((const char *)sqlite3_column_text(s, 0), "ready"))
        rc = HH_ERR_CONFLICT;
    sq_done(s);
    return rc;
}

/* On c: the share of video_id into *out. */
static hh_status of_video(conn *c, const char *video_id, hh_share *out)
{
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &share_sql, H_OF_VIDEO, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, video_id, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "share of video");
    if (!rc)
        read_share(s, out);
    sq_done(s);
    return rc;
}

typedef struct publish_ctx {
    const char *video_id, *user_id, *slug;
    int show_prompt;
    int64_t now;
    hh_share *out;
} publish_ctx;

static hh_status publish_tx(conn *c, void *ctx_)
{
    publish_ctx *x = ctx_;
    sqlite3_stmt *s = NULL;
    hh_status rc = owned(c, x->video_id, x->user_id, 1);
    if (rc)
        return rc;
    if ((rc = sq_stmt(c, &share_sql, H_UPSERT, &s)))
        return rc;
    sqlite3_bind_text(s, 1, x->video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, x->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, x->slug, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, x->show_prompt ? 1 : 0);
    sqlite3_bind_int64(s, 5, x->now);
    if ((rc = sq_exec(c, s, "share publish")))
        return rc;
    return of_video(c, x->video_id, x->out);
}

static hh_status sq_share_publish(hh_store *st, const char *video_id, const char *user_id,
                                  const char *slug, int show_prompt, int64_t now, hh_share *out)
{
    hh_share got;
    publish_ctx x = {video_id, user_id, slug, show_prompt, now, &got};
    hh_status rc = sq_tx(st, publish_tx, &x);
    if (!rc)
        *out = got;
    return rc;
}

typedef struct unpublish_ctx {
    const char *video_id, *user_id;
} unpublish_ctx;

static hh_status unpublish_tx(conn *c, void *ctx_)
{
    unpublish_ctx *x = ctx_;
    sqlite3_stmt *s = NULL;
    hh_status rc = owned(c, x->video_id, x->user_id, 0);
    if (rc)
        return rc;
    if ((rc = sq_stmt(c, &share_sql, H_DELETE, &s)))
        return rc;
    sqlite3_bind_text(s, 1, x->video_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, x->user_id, -1, SQLITE_STATIC);
    return sq_exec(c, s, "share unpublish");
}

static hh_status sq_share_unpublish(hh_store *st, const char *video_id, const char *user_id)
{
    unpublish_ctx x = {video_id, user_id};
    return video_id && user_id ? sq_tx(st, unpublish_tx, &x) : HH_ERR_INVALID;
}

static hh_status sq_share_by_slug(hh_store *st, const char *slug, hh_share *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &share_sql, H_BY_SLUG, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, slug, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "share by slug");
    if (!rc)
        read_share(s, out);
    sq_done(s);
out:
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_share_of_video(hh_store *st, const char *video_id, hh_share *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &share_sql, H_OF_VIDEO, &c, &s);
    if (rc)
        goto out;
    sq_done(s);
    hh_share got;
    rc = of_video(c, video_id, &got);
    if (!rc)
        *out = got;
out:
    sq_conn_put(st, c);
    return rc;
}

/* The operations of store.h this file implements, into the SQLite table. */
void sq_shares_ops(store_ops *o)
{
    o->share_publish = sq_share_publish;
    o->share_unpublish = sq_share_unpublish;
    o->share_by_slug = sq_share_by_slug;
    o->share_of_video = sq_share_of_video;
}
