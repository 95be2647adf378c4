/*
 * store_sqlite_sessions.c - dashboard sessions in the SQLite store (the
 * session part of store.h). Kept apart from store_sqlite.c: it borrows a
 * pooled connection through store_sqlite_int.h and keeps its statements
 * in the connection's cache like the other files of the store.
 *
 * A row holds the SHA-256 of the cookie's 32-byte secret, the user, the
 * CSRF token and three times. Expiry is checked here, against the `now`
 * the caller passes, so tests can move time.
 */
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sqlite_int.h"

/* This file's statements: the SQL of each in session_text, the cache row SQ_FILE_SESSIONS. */
enum session_stmt { T_CREATE, T_GET, T_TOUCH, T_DELETE, T_PURGE, T_COUNT };
_Static_assert(T_COUNT <= SQ_STMTS_MAX, "raise SQ_STMTS_MAX in store_sqlite_int.h");

static const char *const session_text[T_COUNT] = {
    [T_CREATE] = "INSERT INTO sessions (id_hash, user_id, csrf, created_at, refreshed_at,"
                 " expires_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
    [T_GET] = "SELECT user_id, csrf, created_at, refreshed_at, expires_at"
              " FROM sessions WHERE id_hash = ?1",
    [T_TOUCH] = "UPDATE sessions SET refreshed_at = ?2, expires_at = ?3 WHERE id_hash = ?1",
    [T_DELETE] = "DELETE FROM sessions WHERE id_hash = ?1",
    [T_PURGE] = "DELETE FROM sessions WHERE expires_at <= ?1",
};

static const sq_sql session_sql = {SQ_FILE_SESSIONS, T_COUNT, session_text};

static void bind_hash(sqlite3_stmt *s, const uint8_t id_hash[CRYPTO_SHA256_LEN])
{
    sqlite3_bind_blob(s, 1, id_hash, CRYPTO_SHA256_LEN, SQLITE_STATIC);
}

static hh_status sq_session_create(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN],
                                   const char *user_id, const char *csrf, int64_t now,
                                   int64_t expires_at)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &session_sql, T_CREATE, &c, &s);
    if (rc)
        goto out;
    bind_hash(s, id_hash);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_int64(s, 5, expires_at);
    rc = sq_exec(c, s, "session create");
out:
    sq_conn_put(st, c);
    return rc;
}

static void read_session(sqlite3_stmt *s, hh_session *out)
{
    memset(out, 0, sizeof *out);
    sq_col_text(s, 0, out->user_id, sizeof out->user_id);
    sq_col_text(s, 1, out->csrf, sizeof out->csrf);
    out->created_at = sqlite3_column_int64(s, 2);
    out->refreshed_at = sqlite3_column_int64(s, 3);
    out->expires_at = sqlite3_column_int64(s, 4);
}

/* Deletes the session of id_hash on c; HH_ERR_NOTFOUND if there was none. */
static hh_status delete_on(conn *c, const uint8_t id_hash[CRYPTO_SHA256_LEN], const char *what)
{
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &session_sql, T_DELETE, &s);
    if (rc)
        return rc;
    bind_hash(s, id_hash);
    return sq_exec_one(c, s, what);
}

/* Reads the session of id_hash; an expired one is deleted and reported as HH_ERR_NOTFOUND. */
static hh_status session_read(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN], int64_t now,
                              hh_session *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &session_sql, T_GET, &c, &s);
    if (rc)
        goto out;
    bind_hash(s, id_hash);
    rc = sq_step_one(c, s, "session get");
    if (!rc)
        read_session(s, out);
    sq_done(s);
    if (rc || out->expires_at > now)
        goto out;
    /* Expired: forget it now rather than waiting for a purge. */
    rc = delete_on(c, id_hash, "session expire");
    if (!rc)
        rc = HH_ERR_NOTFOUND;
out:
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_session_get(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN], int64_t now,
                                hh_session *out, hh_user *user)
{
    hh_session tmp;
    hh_session *got = out ? out : &tmp;
    hh_status rc = session_read(st, id_hash, now, got);
    if (!rc && user)
        rc = st->ops->user_by_id(st, got->user_id, user);
    return rc;
}

static hh_status sq_session_touch(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN],
                                  int64_t now, int64_t expires_at)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &session_sql, T_TOUCH, &c, &s);
    if (rc)
        goto out;
    bind_hash(s, id_hash);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, expires_at);
    rc = sq_exec_one(c, s, "session touch");
out:
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_session_delete(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN])
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &session_sql, T_DELETE, &c, &s);
    if (rc)
        goto out;
    bind_hash(s, id_hash);
    rc = sq_exec_one(c, s, "session delete");
out:
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_session_purge(hh_store *st, int64_t now, int64_t *removed)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    if (removed)
        *removed = 0;
    hh_status rc = sq_borrow(st, &session_sql, T_PURGE, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_int64(s, 1, now);
    rc = sq_exec(c, s, "session purge");
    if (!rc && removed)
        *removed = sqlite3_changes(c->db);
out:
    sq_conn_put(st, c);
    return rc;
}

/* The operations of store.h this file implements, into the SQLite table. */
void sq_sessions_ops(store_ops *o)
{
    o->session_create = sq_session_create;
    o->session_get = sq_session_get;
    o->session_touch = sq_session_touch;
    o->session_delete = sq_session_delete;
    o->session_purge = sq_session_purge;
}
