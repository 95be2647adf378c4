/*
 * store_sqlite_sessions.c - dashboard sessions in the SQLite store (the
 * session part of store.h). Kept apart from store_sqlite.c: it borrows a
 * pooled connection through store_sqlite_int.h and prepares its few
 * statements per call (dashboard traffic is light; the hot Customer API
 * paths use the per-connection statement cache).
 *
 * A row holds the SHA-256 of the cookie's 32-byte secret, the user, the
 * CSRF token and three times. Expiry is checked here, against the `now`
 * the caller passes, so tests can move time.
 */
#include <string.h>

#include "store/store.h"
#include "store/store_sqlite_int.h"

typedef hh_status (*sess_fn)(sqlite3 *db, void *arg);

/* Runs fn on a pooled connection for the length of one call. */
static hh_status with_db(hh_store *st, sess_fn fn, void *arg)
{
    conn *c = NULL;
    hh_status rc = sq_conn_get(st, &c);
    if (rc)
        return rc;
    rc = fn(c->db, arg);
    sq_conn_put(st, c);
    return rc;
}

typedef struct sess_call {
    const uint8_t *hash;
    const char *user_id;
    const char *csrf;
    int64_t now, expires_at;
    hh_session *out;
    int64_t changes;
} sess_call;

/* Prepares sql on db; on failure maps the error. */
static hh_status prepare(sqlite3 *db, const char *sql, sqlite3_stmt **s)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, s, NULL);
    return rc == SQLITE_OK ? HH_OK : sq_error(db, rc, "prepare sessions");
}

/* Steps s to its end (no rows wanted), finalizes it, records the changes. */
static hh_status run(sqlite3 *db, sqlite3_stmt *s, sess_call *c, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    hh_status st = rc == SQLITE_DONE ? HH_OK : sq_error(db, rc, what);
    sqlite3_finalize(s);
    c->changes = sqlite3_changes(db);
    return st;
}

static hh_status do_create(sqlite3 *db, void *arg)
{
    sess_call *c = arg;
    sqlite3_stmt *s = NULL;
    hh_status rc = prepare(db,
                           "INSERT INTO sessions (id_hash, user_id, csrf, created_at,"
                           " refreshed_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                           &s);
    if (rc)
        return rc;
    sqlite3_bind_blob(s, 1, c->hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, c->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, c->csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, c->now);
    sqlite3_bind_int64(s, 5, c->expires_at);
    return run(db, s, c, "session create");
}

hh_status store_session_create(hh_store *st, const uint8_t id_hash[32], const char *user_id,
                               const char *csrf, int64_t now, int64_t expires_at)
{
    if (!csrf || !*csrf || strlen(csrf) >= STORE_CSRF_MAX || !user_id)
        return HH_ERR_INVALID;
    sess_call c = {
        .hash = id_hash, .user_id = user_id, .csrf = csrf, .now = now, .expires_at = expires_at};
    return with_db(st, do_create, &c);
}

static hh_status do_get(sqlite3 *db, void *arg)
{
    sess_call *c = arg;
    sqlite3_stmt *s = NULL;
    hh_status rc = prepare(db,
                           "SELECT user_id, csrf, created_at, refreshed_at, expires_at"
                           " FROM sessions WHERE id_hash = ?1",
                           &s);
    if (rc)
        return rc;
    sqlite3_bind_blob(s, 1, c->hash, 32, SQLITE_STATIC);
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW) {
        memset(c->out, 0, sizeof *c->out);
        sq_col_text(s, 0, c->out->user_id, sizeof c->out->user_id);
        sq_col_text(s, 1, c->out->csrf, sizeof c->out->csrf);
        c->out->created_at = sqlite3_column_int64(s, 2);
        c->out->refreshed_at = sqlite3_column_int64(s, 3);
        c->out->expires_at = sqlite3_column_int64(s, 4);
        rc = HH_OK;
    } else {
        rc = src == SQLITE_DONE ? HH_ERR_NOTFOUND : sq_error(db, src, "session get");
    }
    sqlite3_finalize(s);
    if (rc || c->out->expires_at > c->now)
        return rc;
    /* Expired: forget it now rather than waiting for a purge. */
    if ((rc = prepare(db, "DELETE FROM sessions WHERE id_hash = ?1", &s)))
        return rc;
    sqlite3_bind_blob(s, 1, c->hash, 32, SQLITE_STATIC);
    rc = run(db, s, c, "session expire");
    return rc ? rc : HH_ERR_NOTFOUND;
}

hh_status store_session_get(hh_store *st, const uint8_t id_hash[32], int64_t now, hh_session *out,
                            hh_user *user)
{
    hh_session tmp;
    sess_call c = {.hash = id_hash, .now = now, .out = out ? out : &tmp};
    hh_status rc = with_db(st, do_get, &c);
    if (!rc && user)
        rc = store_user_by_id(st, c.out->user_id, user);
    return rc;
}

static hh_status do_touch(sqlite3 *db, void *arg)
{
    sess_call *c = arg;
    sqlite3_stmt *s = NULL;
    hh_status rc = prepare(db,
                           "UPDATE sessions SET refreshed_at = ?2, expires_at = ?3"
                           " WHERE id_hash = ?1",
                           &s);
    if (rc)
        return rc;
    sqlite3_bind_blob(s, 1, c->hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, c->now);
    sqlite3_bind_int64(s, 3, c->expires_at);
    return run(db, s, c, "session touch");
}

hh_status store_session_touch(hh_store *st, const uint8_t id_hash[32], int64_t now,
                              int64_t expires_at)
{
    sess_call c = {.hash = id_hash, .now = now, .expires_at = expires_at};
    hh_status rc = with_db(st, do_touch, &c);
    return !rc && c.changes == 0 ? HH_ERR_NOTFOUND : rc;
}

static hh_status do_delete(sqlite3 *db, void *arg)
{
    sess_call *c = arg;
    sqlite3_stmt *s = NULL;
    hh_status rc = c->hash ? prepare(db, "DELETE FROM sessions WHERE id_hash = ?1", &s)
                           : prepare(db, "DELETE FROM sessions WHERE expires_at <= ?2", &s);
    if (rc)
        return rc;
    if (c->hash)
        sqlite3_bind_blob(s, 1, c->hash, 32, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 2, c->now);
    return run(db, s, c, "session delete");
}

hh_status store_session_delete(hh_store *st, const uint8_t id_hash[32])
{
    sess_call c = {.hash = id_hash};
    hh_status rc = with_db(st, do_delete, &c);
    return !rc && c.changes == 0 ? HH_ERR_NOTFOUND : rc;
}

hh_status store_session_purge(hh_store *st, int64_t now, int64_t *removed)
{
    sess_call c = {.now = now};
    hh_status rc = with_db(st, do_delete, &c);
    if (removed)
        *removed = rc ? 0 : c.changes;
    return rc;
}
