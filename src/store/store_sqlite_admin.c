/*
 * store_sqlite_admin.c - what only the operator's CLI asks the SQLite
 * store (the admin part of store.h): pages of users by plan, a password
 * reset that ends the user's sessions, and credits charged and refunded
 * per day from the ledger. Users are read through store_user_by_id, so
 * the one reader of a user row stays in store_sqlite.c.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sqlite_int.h"

/* This file's statements: the SQL of each in admin_text, the cache row SQ_FILE_ADMIN. */
enum admin_stmt { A_USER_IDS, A_SET_PASSWORD, A_END_SESSIONS, A_CREDIT_DAYS, A_COUNT };
_Static_assert(A_COUNT <= SQ_STMTS_MAX, "raise SQ_STMTS_MAX in store_sqlite_int.h");

static const char *const admin_text[A_COUNT] = {
    [A_USER_IDS] = "SELECT id FROM users WHERE id > ?1 AND (?2 IS NULL OR plan = ?2)"
                   " ORDER BY id LIMIT ?3",
    [A_SET_PASSWORD] = "UPDATE users SET password_hash = ?2 WHERE id = ?1",
    [A_END_SESSIONS] = "DELETE FROM sessions WHERE user_id = ?1",
    [A_CREDIT_DAYS] = "SELECT date(created_at / 1000, 'unixepoch') AS day,"
                      " -COALESCE(SUM(CASE WHEN kind = 'charge' THEN amount END), 0),"
                      " COALESCE(SUM(CASE WHEN kind = 'refund' THEN amount END), 0),"
                      " COALESCE(SUM(CASE WHEN kind = 'grant' THEN amount END), 0),"
                      " COALESCE(SUM(CASE WHEN kind = 'adjustment' THEN amount END), 0)"
                      " FROM ledger GROUP BY day ORDER BY day DESC LIMIT ?1",
};

static const sq_sql admin_sql = {SQ_FILE_ADMIN, A_COUNT, admin_text};

typedef struct id_row {
    char id[HH_ID_LEN];
} id_row;

static void read_id(sqlite3_stmt *s, void *out)
{
    sq_col_text(s, 0, ((id_row *)out)->id, HH_ID_LEN);
}

/* The ids of a page of users (the query of store_user_list). */
static hh_status user_ids(hh_store *st, const char *plan, const char *after, int limit,
                          id_row **ids, size_t *n)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &admin_sql, A_USER_IDS, &c, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, after ? after : "", -1, SQLITE_STATIC);
    sq_bind_text_or_null(s, 2, plan);
    sqlite3_bind_int(s, 3, limit);
    void *arr = NULL;
    rc = sq_collect_rows(c, s, sizeof(id_row), read_id, &arr, n);
    sq_conn_put(st, c);
    if (!rc)
        *ids = arr;
    return rc;
}

static hh_status sq_user_list(hh_store *st, const char *plan, const char *after, int limit,
                              hh_user **users, size_t *n)
{
    id_row *ids = NULL;
    size_t count = 0;
    hh_status rc = user_ids(st, plan, after, limit, &ids, &count);
    hh_user *arr = !rc && count ? calloc(count, sizeof *arr) : NULL;
    if (!rc && count && !arr)
        rc = HH_ERR_NOMEM;
    for (size_t i = 0; !rc && i < count; i++)
        rc = st->ops->user_by_id(st, ids[i].id, &arr[i]);
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

static hh_status password_tx(conn *c, void *ctx_)
{
    password_ctx *x = ctx_;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &admin_sql, A_SET_PASSWORD, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, x->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, x->hash, -1, SQLITE_STATIC);
    if ((rc = sq_exec_one(c, s, "set password")))
        return rc;
    if ((rc = sq_stmt(c, &admin_sql, A_END_SESSIONS, &s)))
        return rc;
    sqlite3_bind_text(s, 1, x->user_id, -1, SQLITE_STATIC);
    return sq_exec(c, s, "end sessions");
}

static hh_status sq_user_set_password(hh_store *st, const char *user_id, const char *password_hash)
{
    password_ctx x = {user_id, password_hash};
    return sq_tx(st, password_tx, &x);
}

static void read_day(sqlite3_stmt *s, void *out_)
{
    hh_credit_day *d = out_;
    memset(d, 0, sizeof *d);
    sq_col_text(s, 0, d->day, sizeof d->day);
    d->charged = sqlite3_column_int64(s, 1);
    d->refunded = sqlite3_column_int64(s, 2);
    d->granted = sqlite3_column_int64(s, 3);
    d->adjusted = sqlite3_column_int64(s, 4);
}

static hh_status sq_credit_days(hh_store *st, int days, hh_credit_day **out, size_t *n)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &admin_sql, A_CREDIT_DAYS, &c, &s);
    if (rc)
        return rc;
    sqlite3_bind_int(s, 1, days);
    void *arr = NULL;
    rc = sq_collect_rows(c, s, sizeof(hh_credit_day), read_day, &arr, n);
    sq_conn_put(st, c);
    if (!rc)
        *out = arr;
    return rc;
}

/* The operations of store.h this file implements, into the SQLite table. */
void sq_admin_ops(store_ops *o)
{
    o->user_list = sq_user_list;
    o->user_set_password = sq_user_set_password;
    o->credit_days = sq_credit_days;
}
