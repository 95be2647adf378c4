/*
 * store_pg_sessions.c - dashboard sessions in the PostgreSQL store (the
 * session part of store.h), the same contract as store_sqlite_sessions.c.
 *
 * A row holds the SHA-256 of the cookie's 32-byte secret (bytea), the
 * user, the CSRF token and three times. Expiry is checked here, against the
 * `now` the caller passes (not the database's clock), so tests can move
 * time. Every call is one statement in autocommit.
 */
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/store_pg_int.h"

/* Room for the bytea literal of a session's hash. */
#define HASH_HEX (2 * CRYPTO_SHA256_LEN + 3)

/* This file's statements: the SQL of each in session_text, the prepared row PG_FILE_SESSIONS. */
enum session_stmt { T_CREATE, T_GET, T_TOUCH, T_DELETE, T_PURGE, T_COUNT };
_Static_assert(T_COUNT <= PG_STMTS_MAX, "raise PG_STMTS_MAX in store_pg_int.h");

static const char *const session_text[T_COUNT] = {
    [T_CREATE] = "INSERT INTO sessions (id_hash, user_id, csrf, created_at, refreshed_at,"
                 " expires_at) VALUES ($1::bytea, $2, $3, $4::bigint, $4::bigint, $5::bigint)",
    [T_GET] = "SELECT user_id, csrf, created_at, refreshed_at, expires_at"
              " FROM sessions WHERE id_hash = $1::bytea",
    [T_TOUCH] = "UPDATE sessions SET refreshed_at = $2::bigint, expires_at = $3::bigint"
                " WHERE id_hash = $1::bytea",
    [T_DELETE] = "DELETE FROM sessions WHERE id_hash = $1::bytea",
    /* The count in the same statement as the delete (SQLite reads changes()). */
    [T_PURGE] = "WITH d AS (DELETE FROM sessions WHERE expires_at <= $1::bigint RETURNING 1)"
                " SELECT count(*) FROM d",
};

static const pg_sql session_sql = {PG_FILE_SESSIONS, T_COUNT, session_text};

/* The parameter of a session's hash, written into buf. */
static const char *hash_param(const uint8_t id_hash[CRYPTO_SHA256_LEN], char buf[HASH_HEX])
{
    return pg_bytea_hex(id_hash, CRYPTO_SHA256_LEN, buf, HASH_HEX);
}

static hh_status pg_session_create(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN],
                                   const char *user_id, const char *csrf, int64_t now,
                                   int64_t expires_at)
{
    char hex[HASH_HEX];
    pg_num at, exp;
    const char *p[] = {hash_param(id_hash, hex), user_id, csrf, pg_i64(&at, now),
                       pg_i64(&exp, expires_at)};
    return pg_run(st, &session_sql, T_CREATE, 5, p, NULL);
}

static void read_session(const PGresult *r, hh_session *out)
{
    memset(out, 0, sizeof *out);
    pg_col_text(r, 0, 0, out->user_id, sizeof out->user_id);
    pg_col_text(r, 0, 1, out->csrf, sizeof out->csrf);
    out->created_at = pg_col_i64(r, 0, 2);
    out->refreshed_at = pg_col_i64(r, 0, 3);
    out->expires_at = pg_col_i64(r, 0, 4);
}

/* Deletes the session of id_hash (logout, or an expired one); HH_ERR_NOTFOUND if there was none. */
static hh_status pg_session_delete(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN])
{
    char hex[HASH_HEX];
    const char *p[] = {hash_param(id_hash, hex)};
    return pg_run_one(st, &session_sql, T_DELETE, 1, p);
}

/* Reads the session of id_hash; an expired one is deleted and reported as HH_ERR_NOTFOUND. */
static hh_status session_read(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN], int64_t now,
                              hh_session *out)
{
    char hex[HASH_HEX];
    PGresult *r = NULL;
    const char *p[] = {hash_param(id_hash, hex)};
    hh_status rc = pg_run(st, &session_sql, T_GET, 1, p, &r);
    if (rc)
        return rc;
    if (PQntuples(r) == 0)
        rc = HH_ERR_NOTFOUND;
    else
        read_session(r, out);
    PQclear(r);
    if (rc || out->expires_at > now)
        return rc;
    /* Expired: forget it now rather than waiting for a purge. */
    rc = pg_session_delete(st, id_hash);
    return rc ? rc : HH_ERR_NOTFOUND;
}

static hh_status pg_session_get(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN], int64_t now,
                                hh_session *out, hh_user *user)
{
    hh_session tmp;
    hh_session *got = out ? out : &tmp;
    hh_status rc = session_read(st, id_hash, now, got);
    if (!rc && user)
        rc = st->ops->user_by_id(st, got->user_id, user);
    return rc;
}

static hh_status pg_session_touch(hh_store *st, const uint8_t id_hash[CRYPTO_SHA256_LEN],
                                  int64_t now, int64_t expires_at)
{
    char hex[HASH_HEX];
    pg_num at, exp;
    const char *p[] = {hash_param(id_hash, hex), pg_i64(&at, now), pg_i64(&exp, expires_at)};
    return pg_run_one(st, &session_sql, T_TOUCH, 3, p);
}

static hh_status pg_session_purge(hh_store *st, int64_t now, int64_t *removed)
{
    PGresult *r = NULL;
    pg_num at;
    if (removed)
        *removed = 0;
    const char *p[] = {pg_i64(&at, now)};
    hh_status rc = pg_run(st, &session_sql, T_PURGE, 1, p, &r);
    if (!rc && removed)
        *removed = pg_col_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

/* The operations of store.h this file implements, into the PostgreSQL table. */
void pg_sessions_ops(store_ops *o)
{
    o->session_create = pg_session_create;
    o->session_get = pg_session_get;
    o->session_touch = pg_session_touch;
    o->session_delete = pg_session_delete;
    o->session_purge = pg_session_purge;
}
