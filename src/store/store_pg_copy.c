/*
 * store_pg_copy.c - the PostgreSQL side of `admin migrate`'s table copy
 * (store.h, store_copy_read/_write/_stats): rows of a table of the spec
 * (store_copy.c) read in key order, written with ON CONFLICT DO NOTHING so
 * rows already there are skipped, and counted.
 *
 * The SQL comes from the spec's names (store_copy_*_sql), so it is run
 * with PQexecParams rather than the prepared statements of the other files
 * (their per-file table cannot hold one statement per table and batch
 * size). Parameters travel as text like everywhere in the backend; bytes as
 * hex, through decode()/encode(). Generated ids are inserted as they are
 * (OVERRIDING SYSTEM VALUE) and the table's sequence is moved past the
 * largest in the same transaction, so the next row a node appends gets a
 * fresh id. A batch is inserted with one multi-row INSERT per chunk of
 * parameters (PostgreSQL takes at most 65535 in one statement).
 *
 * Failures are HH_ERR_DB with PostgreSQL's message logged: a copy that
 * fails is run again by the operator, and it resumes.
 */
#include "store/store_int.h"
#include "store/store_pg_int.h"
#include "util/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARAMS_MAX 30000 /* parameters of one INSERT (PostgreSQL's ceiling is 65535) */

static const store_copy_dialect pg_dialect = {
    .param_pre = {"$", "$", "decode($", "$"},
    .param_post = {"::bigint", "::text", ", 'hex')", "::float8"},
    .col_pre = {"", "", "encode(", ""},
    .col_post = {"", "", ", 'hex')", ""},
    .insert = "INSERT INTO ",
    .identity = " OVERRIDING SYSTEM VALUE",
    .conflict = " ON CONFLICT DO NOTHING",
};

/* HH_OK when r is a success; else logs PostgreSQL's message for table and returns HH_ERR_DB. */
static hh_status checked(pg_conn *c, const PGresult *r, const char *table)
{
    ExecStatusType s = PQresultStatus(r);
    if (r && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK))
        return HH_OK;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    hh_error("store: copy of %s: %s (SQLSTATE %s)", table, msg ? msg : PQerrorMessage(pg_db(c)),
             state ? state : "none");
    return HH_ERR_DB;
}

/* Runs sql (NULL: out of memory; freed here) with n text parameters; *res as for pg_query. */
static hh_status run_sql(pg_conn *c, char *sql, int n, const char *const *params, const char *table,
                         PGresult **res)
{
    *res = NULL;
    if (!sql)
        return HH_ERR_NOMEM;
    PGresult *r = PQexecParams(pg_db(c), sql, n, NULL, params, NULL, NULL, 0);
    free(sql);
    hh_status rc = checked(c, r, table);
    if (rc)
        PQclear(r);
    else
        *res = r;
    return rc;
}

/* The text of v as parameter of a column of type (NULL for null), in num when it is a number. */
static const char *param_text(const json_t *v, store_col_type type, pg_num *num)
{
    if (json_is_null(v))
        return NULL;
    if (type == STORE_COL_INT)
        return pg_i64(num, json_integer_value(v));
    if (type == STORE_COL_REAL) {
        snprintf(num->s, sizeof num->s, "%.17g", json_number_value(v));
        return num->s;
    }
    return json_string_value(v); /* text, or bytes as hex for decode() */
}

/* Column col of row of r as a row carries a column of type; NULL when out of memory. */
static json_t *column_value(const PGresult *r, int row, int col, store_col_type type)
{
    if (PQgetisnull(r, row, col))
        return json_null();
    if (type == STORE_COL_INT)
        return json_integer(pg_col_i64(r, row, col));
    if (type == STORE_COL_REAL)
        return json_real(pg_col_f64(r, row, col));
    return json_stringn_nocheck(PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

/* The rows of r as copied rows (a new array), NULL when out of memory. */
static json_t *rows_of(const PGresult *r, const store_copy_table *t)
{
    json_t *out = json_array();
    for (int i = 0; out && i < PQntuples(r); i++) {
        json_t *row = json_array();
        for (int k = 0; row && k < t->ncols; k++)
            if (json_array_append_new(row, column_value(r, i, k, t->cols[k].type))) {
                json_decref(row);
                row = NULL;
            }
        if (!row || json_array_append_new(out, row)) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

static hh_status pg_copy_read(hh_store *st, const store_copy_table *t, const json_t *after,
                              int limit, json_t **rows)
{
    pg_conn *c = NULL;
    pg_num nums[8], lim;
    const char *params[9];
    PGresult *r = NULL;
    int n = 0;
    if (t->nkey > 8)
        return HH_ERR_INVALID;
    for (; after && n < t->nkey; n++)
        params[n] = param_text(json_array_get(after, (size_t)n), t->cols[n].type, &nums[n]);
    params[n++] = pg_i64(&lim, limit);
    hh_status rc = pg_borrow(st, &c);
    if (!rc)
        rc = run_sql(c, store_copy_select_sql(&pg_dialect, t, after != NULL), n, params, t->name,
                     &r);
    pg_put(st, c);
    if (!rc && !(*rows = rows_of(r, t)))
        rc = HH_ERR_NOMEM;
    PQclear(r);
    return rc;
}

/* What one write transaction inserts, and how many rows were new (set afresh by each run). */
typedef struct write_ctx {
    const store_copy_table *t;
    const json_t *rows;
    size_t inserted;
} write_ctx;

/* Inserts rows [from, from + n) of x in one statement, adding the new ones to x->inserted. */
static hh_status insert_chunk(pg_conn *c, write_ctx *x, size_t from, size_t n)
{
    const store_copy_table *t = x->t;
    size_t np = n * (size_t)t->ncols;
    const char **params = calloc(np, sizeof *params);
    pg_num *nums = calloc(np, sizeof *nums);
    PGresult *r = NULL;
    hh_status rc = params && nums ? HH_OK : HH_ERR_NOMEM;
    for (size_t i = 0, p = 0; !rc && i < n; i++) {
        const json_t *row = json_array_get(x->rows, from + i);
        for (int k = 0; k < t->ncols; k++, p++)
            params[p] = param_text(json_array_get(row, (size_t)k), t->cols[k].type, &nums[p]);
    }
    if (!rc)
        rc = run_sql(c, store_copy_insert_sql(&pg_dialect, t, n), (int)np, params, t->name, &r);
    if (!rc)
        x->inserted += (size_t)strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    free(nums);
    free(params);
    return rc;
}

/* Moves the sequence of t's generated key past the largest key the table holds. */
static hh_status sequence_past_max(pg_conn *c, const store_copy_table *t)
{
    char sql[256];
    const char *key = t->cols[0].name;
    snprintf(sql, sizeof sql,
             "SELECT setval(pg_get_serial_sequence('%s', '%s'), max(%s)) FROM %s"
             " HAVING max(%s) IS NOT NULL",
             t->name, key, key, t->name, key);
    PGresult *r = NULL;
    hh_status rc = run_sql(c, strdup(sql), 0, NULL, t->name, &r);
    PQclear(r);
    return rc;
}

static hh_status write_tx(pg_conn *c, void *arg)
{
    write_ctx *x = arg;
    size_t n = json_array_size(x->rows), per = PARAMS_MAX / (size_t)x->t->ncols;
    hh_status rc = HH_OK;
    x->inserted = 0;
    for (size_t from = 0; !rc && from < n; from += per)
        rc = insert_chunk(c, x, from, n - from < per ? n - from : per);
    if (!rc && x->t->identity)
        rc = sequence_past_max(c, x->t);
    return rc;
}

static hh_status pg_copy_write(hh_store *st, const store_copy_table *t, const json_t *rows,
                               size_t *inserted)
{
    write_ctx x = {.t = t, .rows = rows};
    hh_status rc = pg_tx(st, write_tx, &x);
    if (!rc)
        *inserted = x.inserted;
    return rc;
}

static hh_status pg_copy_stats(hh_store *st, const store_copy_table *t, int64_t *count,
                               int64_t *sum)
{
    pg_conn *c = NULL;
    PGresult *r = NULL;
    hh_status rc = pg_borrow(st, &c);
    if (!rc)
        rc = run_sql(c, store_copy_stats_sql(t), 0, NULL, t->name, &r);
    pg_put(st, c);
    if (!rc) {
        *count = pg_col_i64(r, 0, 0);
        *sum = pg_col_i64(r, 0, 1); /* numeric, as text: an int64 since the source's sum is one */
    }
    PQclear(r);
    return rc;
}

void pg_copy_ops(store_ops *o)
{
    o->copy_read = pg_copy_read;
    o->copy_write = pg_copy_write;
    o->copy_stats = pg_copy_stats;
}
