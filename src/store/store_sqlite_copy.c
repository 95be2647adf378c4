/*
 * store_sqlite_copy.c - the SQLite side of `admin migrate`'s table copy
 * (store.h, store_copy_read/_write/_stats): rows of a table of the spec
 * (store_copy.c) read in key order, written with INSERT OR IGNORE so rows
 * already there are skipped, and counted. The SQL comes from the spec's
 * names (store_copy_*_sql) and is prepared per call, not cached: a copy
 * runs each statement once per batch, so caching would buy nothing.
 */
#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/crypto.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* SQLite's parameters are ?N whatever the type; blobs are bound and read as bytes. */
static const store_copy_dialect sq_dialect = {
    .param_pre = {"?", "?", "?", "?"},
    .param_post = {"", "", "", ""},
    .col_pre = {"", "", "", ""},
    .col_post = {"", "", "", ""},
    .insert = "INSERT OR IGNORE INTO ",
    .identity = "",
    .conflict = "",
};

/* What one copy call works on, and its results (set afresh by each body). */
typedef struct copy_ctx {
    const store_copy_table *t;
    const json_t *rows; /* write: the rows; read: the row to start after, or NULL */
    int limit;          /* read */
    json_t *out;        /* read: the rows read */
    size_t inserted;    /* write */
    int64_t count, sum; /* stats */
} copy_ctx;

/* Prepares sql (NULL: out of memory) on c; frees sql. */
static hh_status prepare(conn *c, char *sql, sqlite3_stmt **s)
{
    *s = NULL;
    if (!sql)
        return HH_ERR_NOMEM;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, s, NULL);
    free(sql);
    return rc == SQLITE_OK ? HH_OK : sq_error(c->db, rc, "copy: prepare");
}

/* Binds v (checked by store_dispatch.c against type) as parameter i of s. */
static hh_status bind_value(sqlite3_stmt *s, int i, store_col_type type, const json_t *v)
{
    if (json_is_null(v))
        return sqlite3_bind_null(s, i) == SQLITE_OK ? HH_OK : HH_ERR_DB;
    int rc = SQLITE_OK;
    if (type == STORE_COL_INT) {
        rc = sqlite3_bind_int64(s, i, json_integer_value(v));
    } else if (type == STORE_COL_REAL) {
        rc = sqlite3_bind_double(s, i, json_number_value(v));
    } else if (type == STORE_COL_TEXT) {
        rc = sqlite3_bind_text(s, i, json_string_value(v), (int)json_string_length(v),
                               SQLITE_TRANSIENT);
    } else {
        size_t hex = json_string_length(v), n = 0;
        uint8_t *bytes = malloc(hex / 2 + 1);
        if (!bytes)
            return HH_ERR_NOMEM;
        hh_status st = crypto_hex_decode(json_string_value(v), hex, bytes, hex / 2 + 1, &n);
        if (st) {
            free(bytes);
            return st;
        }
        /* A zero-length blob, not NULL: bind_blob of no bytes would bind NULL. */
        rc = n ? sqlite3_bind_blob(s, i, bytes, (int)n, free) : sqlite3_bind_zeroblob(s, i, 0);
        if (!n)
            free(bytes);
    }
    return rc == SQLITE_OK ? HH_OK : HH_ERR_DB;
}

/* Column i of the row s stands on, as a row carries a column of type; NULL when out of memory. */
static json_t *column_value(sqlite3_stmt *s, int i, store_col_type type)
{
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return json_null();
    if (type == STORE_COL_INT)
        return json_integer(sqlite3_column_int64(s, i));
    if (type == STORE_COL_REAL)
        return json_real(sqlite3_column_double(s, i));
    if (type == STORE_COL_TEXT)
        return json_stringn_nocheck((const char *)sqlite3_column_text(s, i),
                                    (size_t)sqlite3_column_bytes(s, i));
    const uint8_t *blob = sqlite3_column_blob(s, i);
    size_t n = (size_t)sqlite3_column_bytes(s, i);
    char *hex = malloc(2 * n + 1);
    json_t *v = hex && !crypto_hex_encode(blob, n, hex, 2 * n + 1) ? json_string(hex) : NULL;
    free(hex);
    return v;
}

static hh_status read_tx(conn *c, void *arg)
{
    copy_ctx *x = arg;
    const store_copy_table *t = x->t;
    sqlite3_stmt *s = NULL;
    json_decref(x->out);
    x->out = json_array();
    hh_status rc = x->out ? prepare(c, store_copy_select_sql(&sq_dialect, t, x->rows != NULL), &s)
                          : HH_ERR_NOMEM;
    int n = 1;
    for (; !rc && x->rows && n <= t->nkey; n++)
        rc = bind_value(s, n, t->cols[n - 1].type, json_array_get(x->rows, (size_t)n - 1));
    if (!rc && sqlite3_bind_int(s, n, x->limit) != SQLITE_OK)
        rc = HH_ERR_DB;
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *row = json_array();
        for (int i = 0; row && i < t->ncols; i++)
            if (json_array_append_new(row, column_value(s, i, t->cols[i].type)))
                rc = HH_ERR_NOMEM;
        if (!row || json_array_append_new(x->out, row))
            rc = HH_ERR_NOMEM;
    }
    if (!rc && step != SQLITE_DONE)
        rc = sq_error(c->db, step, "copy: read");
    sqlite3_finalize(s);
    return rc;
}

static hh_status write_tx(conn *c, void *arg)
{
    copy_ctx *x = arg;
    const store_copy_table *t = x->t;
    sqlite3_stmt *s = NULL;
    x->inserted = 0;
    hh_status rc = prepare(c, store_copy_insert_sql(&sq_dialect, t, 1), &s);
    for (size_t r = 0; !rc && r < json_array_size(x->rows); r++) {
        const json_t *row = json_array_get(x->rows, r);
        for (int i = 0; !rc && i < t->ncols; i++)
            rc = bind_value(s, i + 1, t->cols[i].type, json_array_get(row, (size_t)i));
        int step = rc ? SQLITE_OK : sqlite3_step(s);
        if (!rc && step != SQLITE_DONE)
            rc = sq_error(c->db, step, "copy: write");
        if (!rc)
            x->inserted += (size_t)sqlite3_changes(c->db);
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
    sqlite3_finalize(s);
    return rc;
}

static hh_status stats_tx(conn *c, void *arg)
{
    copy_ctx *x = arg;
    sqlite3_stmt *s = NULL;
    hh_status rc = prepare(c, store_copy_stats_sql(x->t), &s);
    int step = rc ? SQLITE_OK : sqlite3_step(s);
    if (!rc && step != SQLITE_ROW)
        rc = sq_error(c->db, step, "copy: stats");
    if (!rc) {
        x->count = sqlite3_column_int64(s, 0);
        x->sum = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    return rc;
}

static hh_status sq_copy_read(hh_store *st, const store_copy_table *t, const json_t *after,
                              int limit, json_t **rows)
{
    copy_ctx x = {.t = t, .rows = after, .limit = limit};
    hh_status rc = sq_tx(st, read_tx, &x);
    if (rc)
        json_decref(x.out);
    else
        *rows = x.out;
    return rc;
}

static hh_status sq_copy_write(hh_store *st, const store_copy_table *t, const json_t *rows,
                               size_t *inserted)
{
    copy_ctx x = {.t = t, .rows = rows};
    hh_status rc = sq_tx(st, write_tx, &x);
    if (!rc)
        *inserted = x.inserted;
    return rc;
}

static hh_status sq_copy_stats(hh_store *st, const store_copy_table *t, int64_t *count,
                               int64_t *sum)
{
    copy_ctx x = {.t = t};
    hh_status rc = sq_tx(st, stats_tx, &x);
    if (!rc) {
        *count = x.count;
        *sum = x.sum;
    }
    return rc;
}

void sq_copy_ops(store_ops *o)
{
    o->copy_read = sq_copy_read;
    o->copy_write = sq_copy_write;
    o->copy_stats = sq_copy_stats;
}
