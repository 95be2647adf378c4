/*
 * store_pg_shared.c - what the nodes of a cluster share, in the PostgreSQL
 * store: secrets (store_secret) and token buckets (store_rate_take), the
 * API's per-account request budgets when nodes share this store.
 *
 * A secret is inserted if absent, then read back: two statements outside
 * a transaction are enough, since a stored secret never changes (a reader
 * that lost the race reads the winner's row, committed before its own
 * INSERT returned). A bucket is one row of the UNLOGGED rate_buckets,
 * refilled, taken from and read back by one upsert on the database's clock:
 * one round trip a request, and the row lock of the upsert serialises
 * concurrent takes, so no burst is ever passed (docs/operations.md).
 */
#include <string.h>

#include <openssl/crypto.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/store_pg_int.h"

/* This file's statements (PG_FILE_SHARED). */
enum shared_stmt { T_SECRET_ADD, T_SECRET_GET, T_RATE_TAKE, T_COUNT };
_Static_assert(T_COUNT <= PG_STMTS_MAX, "raise PG_STMTS_MAX in store_pg_int.h");
_Static_assert(STORE_RATE_UNIT == 60000, "the SQL of T_RATE_TAKE counts in 60000ths");

static const char *const shared_text[T_COUNT] = {
    [T_SECRET_ADD] = "INSERT INTO secrets (name, value) VALUES ($1, $2::bytea)"
                     " ON CONFLICT (name) DO NOTHING",
    [T_SECRET_GET] = "SELECT value FROM secrets WHERE name = $1",
    /* $1 key, $2 the burst in units, $3 the rate (units a ms); the row proposed carries the
     * database's now (excluded.updated_ms). The refill r is the tokens held plus the time since
     * the last refill at the rate (that time capped so the product cannot overflow: the cap
     * refills any bucket), cut to the burst. A new bucket is a full one that gave a token. */
    [T_RATE_TAKE] = "INSERT INTO rate_buckets AS b (key, tokens, updated_ms, taken)"
                    " VALUES ($1, $2::bigint - 60000, hh_now_ms(), 1)"
                    " ON CONFLICT (key) DO UPDATE SET (tokens, updated_ms, taken) ="
                    " (SELECT CASE WHEN r >= 60000 THEN r - 60000 ELSE r END,"
                    " GREATEST(b.updated_ms, excluded.updated_ms), (r >= 60000)::int"
                    " FROM (SELECT LEAST($2::bigint, b.tokens + LEAST(GREATEST(excluded.updated_ms"
                    " - b.updated_ms, 0), 60000000000) * $3::bigint) AS r) AS x)"
                    " RETURNING tokens, taken",
};

static const pg_sql shared_sql = {PG_FILE_SHARED, T_COUNT, shared_text};

static hh_status pg_secret(hh_store *st, const char *name, const uint8_t *seed, size_t len,
                           uint8_t *out)
{
    char hex[2 * STORE_SECRET_MAX + 3];
    PGresult *r = NULL;
    const char *p[] = {name, pg_bytea_hex(seed, len, hex, sizeof hex)};
    /* First the proposal (kept only if no one stored one before), then whatever is stored. */
    hh_status rc = pg_run(st, &shared_sql, T_SECRET_ADD, 2, p, NULL);
    if (!rc)
        rc = pg_run(st, &shared_sql, T_SECRET_GET, 1, p, &r);
    if (!rc && PQntuples(r) != 1)
        rc = HH_ERR_NOTFOUND;
    if (!rc && pg_col_bytea(r, 0, 0, out, len) != (long)len)
        rc = HH_ERR_CONFLICT;
    PQclear(r);
    OPENSSL_cleanse(hex, sizeof hex);
    return rc;
}

static hh_status pg_rate_take(hh_store *st, const char *key, int burst, int per_minute,
                              hh_rate_state *out)
{
    pg_num cap, rate;
    PGresult *r = NULL;
    const char *p[] = {key, pg_i64(&cap, (int64_t)burst * STORE_RATE_UNIT),
                       pg_i64(&rate, per_minute)};
    hh_status rc = pg_run(st, &shared_sql, T_RATE_TAKE, 3, p, &r);
    if (!rc && PQntuples(r) != 1)
        rc = HH_ERR_DB;
    if (!rc) {
        out->units = pg_col_i64(r, 0, 0);
        out->allowed = pg_col_i64(r, 0, 1) != 0;
    }
    PQclear(r);
    return rc;
}

/* The operations of store.h this file implements, into the PostgreSQL table. */
void pg_shared_ops(store_ops *o)
{
    o->secret = pg_secret;
    o->rate_take = pg_rate_take;
    o->shared = 1;
}
