/*
 * store_sqlite_shared.c - what the nodes of a cluster share, in the SQLite
 * store: secrets (store_secret) and token buckets (store_rate_take). The
 * nodes of a SQLite store share one machine, so the API keeps its rate
 * buckets in memory there (store_is_shared is 0); the buckets are here so
 * both backends answer the one contract suite.
 *
 * A bucket is one row, refilled, taken from and read back by one upsert:
 * the statement is atomic under SQLite's write lock, so concurrent takes
 * never hand out more than the burst.
 */
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/timeutil.h"

/* This file's statements: the SQL of each in shared_text, the cache row SQ_FILE_SHARED. */
enum shared_stmt { T_SECRET_ADD, T_SECRET_GET, T_RATE_TAKE, T_COUNT };
_Static_assert(T_COUNT <= SQ_STMTS_MAX, "raise SQ_STMTS_MAX in store_sqlite_int.h");
_Static_assert(STORE_RATE_UNIT == 60000, "the SQL of T_RATE_TAKE counts in 60000ths");

static const char *const shared_text[T_COUNT] = {
    [T_SECRET_ADD] =
        "INSERT INTO secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
    [T_SECRET_GET] = "SELECT value FROM secrets WHERE name = ?1",
    /* ?1 key, ?2 the burst in units, ?3 the rate (units a ms), ?4 now. The refill r is the
     * tokens held plus the time since the last refill at the rate (that time capped so the
     * product cannot overflow: the cap refills any bucket), cut to the burst. A new bucket
     * is a full one that gave a token. */
    [T_RATE_TAKE] = "INSERT INTO rate_buckets AS b (key, tokens, updated_ms, taken)"
                    " VALUES (?1, ?2 - 60000, ?4, 1)"
                    " ON CONFLICT (key) DO UPDATE SET (tokens, updated_ms, taken) ="
                    " (SELECT CASE WHEN r >= 60000 THEN r - 60000 ELSE r END,"
                    " max(b.updated_ms, excluded.updated_ms), r >= 60000"
                    " FROM (SELECT min(?2, b.tokens + min(max(excluded.updated_ms - b.updated_ms,"
                    " 0), 60000000000) * ?3) AS r))"
                    " RETURNING tokens, taken",
};

static const sq_sql shared_sql = {SQ_FILE_SHARED, T_COUNT, shared_text};

static hh_status sq_secret(hh_store *st, const char *name, const uint8_t *seed, size_t len,
                           uint8_t *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    /* First the proposal (kept only if no one stored one before), then whatever is stored. */
    hh_status rc = sq_borrow(st, &shared_sql, T_SECRET_ADD, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, seed, (int)len, SQLITE_STATIC);
    if ((rc = sq_exec(c, s, "secret add")) || (rc = sq_stmt(c, &shared_sql, T_SECRET_GET, &s)))
        goto out;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "secret get");
    if (!rc && (size_t)sqlite3_column_bytes(s, 0) != len)
        rc = HH_ERR_CONFLICT;
    if (!rc)
        memcpy(out, sqlite3_column_blob(s, 0), len);
    sq_done(s);
out:
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_rate_take(hh_store *st, const char *key, int burst, int per_minute,
                              hh_rate_state *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &shared_sql, T_RATE_TAKE, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)burst * STORE_RATE_UNIT);
    sqlite3_bind_int64(s, 3, per_minute);
    sqlite3_bind_int64(s, 4, hh_time_now_ms());
    rc = sq_step_one(c, s, "rate take");
    if (!rc) {
        out->units = sqlite3_column_int64(s, 0);
        out->allowed = sqlite3_column_int(s, 1);
    }
    sq_done(s);
out:
    sq_conn_put(st, c);
    return rc;
}

/* The operations of store.h this file implements, into the SQLite table. */
void sq_shared_ops(store_ops *o)
{
    o->secret = sq_secret;
    o->rate_take = sq_rate_take;
}
