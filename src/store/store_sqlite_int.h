/*
 * store_sqlite_int.h - what the files of the SQLite store share and nothing
 * outside src/store/ may include: the connection type, the statement ids of
 * the per-connection cache, and the helpers every store call is written
 * with (borrow a connection, prepared statements, transactions, the ledger
 * append that must run inside a caller's transaction).
 *
 * Each file owns the SQL of its statements; ids of store_sqlite_videos.c
 * start at S_VIDEO_FIRST.
 */
#ifndef HH_STORE_SQLITE_INT_H
#define HH_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The statement cache: one slot per statement of the implementation. */
enum stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_PING,
    S_USER_INSERT,
    S_USER_BY_EMAIL,
    S_USER_BY_ID,
    S_USER_SET_PLAN,
    S_USER_SET_ACCESS,
    S_USER_PWHASH,
    S_KEY_INSERT,
    S_KEY_LOOKUP,
    S_KEY_LIST,
    S_KEY_DELETE,
    S_KEY_TOUCH,
    S_BALANCE,
    S_BALANCE_SET,
    S_LEDGER_INSERT,
    S_LEDGER_LIST,
    S_LEDGER_SUM,
    /* store_sqlite_videos.c: uploads, videos, jobs, idempotency */
    S_VIDEO_FIRST,
    S_COUNT = S_VIDEO_FIRST + 40
};

typedef struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
} conn;

/* Maps a SQLite result code to an hh_status, logging what failed. */
hh_status sq_error(sqlite3 *db, int rc, const char *what);
/* The cached statement id of c, prepared from sql on first use; reset and unbound. */
hh_status sq_stmt(conn *c, enum stmt_id id, const char *sql, sqlite3_stmt **out);
/* Returns a statement to the cache: ends its run and drops its bindings. */
void sq_done(sqlite3_stmt *s);
/* Runs a statement that returns no rows (or ignores them) to completion. */
hh_status sq_exec(conn *c, sqlite3_stmt *s, const char *what);
/* Like sq_exec for an UPDATE of one row: HH_ERR_NOTFOUND when no row changed. */
hh_status sq_exec_one(conn *c, sqlite3_stmt *s, const char *what);
/* One step of an at-most-one-row query: HH_OK with a row, HH_ERR_NOTFOUND, or the error. */
hh_status sq_step_one(conn *c, sqlite3_stmt *s, const char *what);
/* BEGIN IMMEDIATE / COMMIT (rolls back if the commit fails) / ROLLBACK if in a transaction. */
hh_status sq_begin(conn *c);
hh_status sq_commit(conn *c);
void sq_rollback(conn *c);
/* Copies text column i into buf (size bytes), "" for NULL. */
void sq_col_text(sqlite3_stmt *s, int i, char *buf, size_t size);
/* Binds s, or NULL when s is NULL or "". */
int sq_bind_text_or_null(sqlite3_stmt *st, int i, const char *s);
/* Borrows a connection of the pool (waits while all are busy) / gives it back. */
hh_status sq_conn_get(hh_store *st, conn **out);
void sq_conn_put(hh_store *st, conn *c);
/*
 * Steps s to the end, reading each row with read into a growing array of
 * elements of size elem; *out is malloc'd (NULL when no rows), caller frees.
 */
hh_status sq_collect_rows(conn *c, sqlite3_stmt *s, size_t elem,
                          void (*read)(sqlite3_stmt *, void *), void **out, size_t *n);
/*
 * Inside the caller's BEGIN IMMEDIATE transaction: moves the balance by
 * amount and appends the ledger row. HH_ERR_CREDITS (nothing written) if
 * the balance would go below zero, with *balance_after set to the balance
 * as it is; HH_ERR_EXISTS for a second charge or
 * refund of the same ref.
 */
hh_status sq_ledger_append_tx(conn *c, const char *user_id, int64_t amount, hh_ledger_kind kind,
                              const char *ref, const char *note, int64_t *balance_after);

#endif
