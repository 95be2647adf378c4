/*
 * store_pg_admin.c - what only the operator's CLI asks the PostgreSQL
 * store (store_sqlite_admin.c's part of store.h): pages of users by plan,
 * a password reset that ends the user's sessions, and credits charged and
 * refunded per UTC day from the ledger. Users are read through the table's
 * user_by_id, so the one reader of a user row stays in store_pg_users.c.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/store_pg_int.h"

/* This file's statements: the SQL of each in admin_text, the prepared row PG_FILE_ADMIN. */
enum admin_stmt { A_USER_IDS, A_SET_PASSWORD, A_END_SESSIONS, A_CREDIT_DAYS, A_COUNT };
_Static_assert(A_COUNT <= PG_STMTS_MAX, "raise PG_STMTS_MAX in store_pg_int.h");

static const char *const admin_text[A_COUNT] = {
    [A_USER_IDS] = "SELECT id FROM users WHERE id > $1 AND ($2::text IS NULL OR plan = $2)"
                   " ORDER BY id LIMIT $3::bigint",
    [A_SET_PASSWORD] = "UPDATE users SET password_hash = $2 WHERE id = $1",
    [A_END_SESSIONS] = "DELETE FROM sessions WHERE user_id = $1",
    /* The day in UTC whatever the session's TimeZone, as SQLite's date(..., 'unixepoch'). */
    [A_CREDIT_DAYS] = "SELECT to_char(to_timestamp(created_at / 1000) AT TIME ZONE 'UTC',"
                      " 'YYYY-MM-DD') AS day,"
                      " (-coalesce(sum(CASE WHEN kind = 'charge' THEN amount END), 0))::bigint,"
                      " coalesce(sum(CASE WHEN kind = 'refund' THEN amount END), 0)::bigint,"
                      " coalesce(sum(CASE WHEN kind = 'grant' THEN amount END), 0)::bigint,"
                      " coalesce(sum(CASE WHEN kind = 'adjustment' THEN amount END), 0)::bigint"
                      " FROM ledger GROUP BY day ORDER BY day DESC LIMIT $1::bigint",
};

static const pg_sql admin_sql = {PG_FILE_ADMIN, A_COUNT, admin_text};

typedef struct id_row {
    char id[HH_ID_LEN];
} id_row;

static void read_id(const PGresult *r, int row, void *out)
{
    pg_col_text(r, row, 0, ((id_row *)out)->id, HH_ID_LEN);
}

/* Runs statement id with its n parameters and reads every row with read into *out, *n. */
static hh_status rows_of(hh_store *st, int id, int n, const char *const *p, size_t elem,
                         void (*read)(const PGresult *r, int row, void *out), void **out,
                         size_t *count)
{
    PGresult *r = NULL;
    void *arr = NULL;
    *count = 0;
    hh_status rc = pg_run(st, &admin_sql, id, n, p, &r);
    if (!rc)
        rc = pg_collect_rows(r, elem, read, &arr, count);
    PQclear(r);
    if (!rc)
        *out = arr;
    return rc;
}

static hh_status pg_user_list(hh_store *st, const char *plan, const char *after, int limit,
                              hh_user **users, size_t *n)
{
    void *ids = NULL;
    size_t count = 0;
    pg_num lim;
    const char *p[] = {after ? after : "", plan && *plan ? plan : NULL, pg_i64(&lim, limit)};
    hh_status rc = rows_of(st, A_USER_IDS, 3, p, sizeof(id_row), read_id, &ids, &count);
    hh_user *arr = !rc && count ? calloc(count, sizeof *arr) : NULL;
    if (!rc && count && !arr)
        rc = HH_ERR_NOMEM;
    for (size_t i = 0; !rc && i < count; i++)
        rc = st->ops->user_by_id(st, ((id_row *)ids)[i].id, &arr[i]);
    free(ids);
    if (rc) {
        free(arr);
        return rc;
    }
    *users = arr;
    *n = count;
    return HH_OK;
}

typedef struct password_ctx {
    const char *user_id, *hash;
} password_ctx;

static hh_status password_tx(pg_conn *c, void *ctx_)
{
    password_ctx *x = ctx_;
    const char *p[] = {x->user_id, x->hash};
    hh_status rc = pg_exec_one(c, &admin_sql, A_SET_PASSWORD, 2, p);
    return rc ? rc : pg_exec(c, &admin_sql, A_END_SESSIONS, 1, p);
}

static hh_status pg_user_set_password(hh_store *st, const char *user_id, const char *password_hash)
{
    password_ctx x = {user_id, password_hash};
    return pg_tx(st, password_tx, &x);
}

static void read_day(const PGresult *r, int row, void *out_)
{
    hh_credit_day *d = out_;
    memset(d, 0, sizeof *d);
    pg_col_text(r, row, 0, d->day, sizeof d->day);
    d->charged = pg_col_i64(r, row, 1);
    d->refunded = pg_col_i64(r, row, 2);
    d->granted = pg_col_i64(r, row, 3);
    d->adjusted = pg_col_i64(r, row, 4);
}

static hh_status pg_credit_days(hh_store *st, int days, hh_credit_day **out, size_t *n)
{
    void *arr = NULL;
    pg_num lim;
    const char *p[] = {pg_i64(&lim, days)};
    hh_status rc = rows_of(st, A_CREDIT_DAYS, 1, p, sizeof(hh_credit_day), read_day, &arr, n);
    if (!rc)
        *out = arr;
    return rc;
}

/* The operations of store.h this file implements, into the PostgreSQL table. */
void pg_admin_ops(store_ops *o)
{
    o->user_list = pg_user_list;
    o->user_set_password = pg_user_set_password;
    o->credit_days = pg_credit_days;
}
