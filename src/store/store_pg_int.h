/*
 * store_pg_int.h - what the files of the PostgreSQL store share and nothing
 * outside src/store/ (and the store's unit tests) may include: the pooled
 * connection, each file's table of statements, the calls every operation is
 * written with (run a prepared statement, run a transaction that is retried
 * when PostgreSQL asks for it, read columns), and the few steps one file's
 * transaction takes inside another's (the ledger append, the outbox rows).
 *
 * Statements: each file lists its SQL in one static table indexed by its own
 * enum and names it with a pg_sql, as the SQLite files do. A statement is
 * prepared on a connection the first time that connection runs it (named
 * "hh_<file>_<id>"), so it is parsed and planned once per connection.
 * Parameters travel as text ($1, $2, ...; NULL for SQL NULL): numbers through
 * pg_i64, bytea through pg_bytea_hex.
 *
 * Transactions: pg_tx runs its body in READ COMMITTED and runs it again (up
 * to a bound, with a short backoff) when PostgreSQL reports a serialization
 * failure or a deadlock, or when the connection was lost: a body must
 * therefore set its outputs afresh each time it runs. Rows a body changes
 * it locks (SELECT ... FOR UPDATE) before deciding on them.
 *
 * Time: leases, claims and expiries use the database's clock (hh_now_ms(),
 * an SQL function of the migrations: milliseconds since the epoch), since
 * nodes' clocks differ; a `now` passed in by a caller of store.h is used as
 * passed (tests move time that way).
 */
#ifndef HH_STORE_PG_INT_H
#define HH_STORE_PG_INT_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_int.h"

/* The files of the store that own statements: one row of each connection's prepared set. */
typedef enum pg_file {
    PG_FILE_CORE,     /* store_pg.c: health, generation, the schema */
    PG_FILE_USERS,    /* store_pg_users.c: users, keys, ledger */
    PG_FILE_ACCOUNTS, /* store_pg_accounts.c: limits, suspension, audit */
    PG_FILE_ADMIN,    /* store_pg_admin.c: the operator's lists and statistics */
    PG_FILE_VIDEOS,   /* store_pg_videos.c: uploads, videos, idempotency, cancel, delete */
    PG_FILE_QUEUE,    /* store_pg_queue.c: job claims, leases, finish, fail, queue places */
    PG_FILE_REMOTE,   /* store_pg_remote.c: the remote tasks of provider engines */
    PG_FILE_SESSIONS, /* store_pg_sessions.c: dashboard sessions */
    PG_FILE_SHARES,   /* store_pg_shares.c: public share pages */
    PG_FILE_WEBHOOKS, /* store_pg_webhooks.c: webhook endpoints and their outbox */
    PG_FILE_SHARED,   /* store_pg_shared.c: secrets and rate buckets all nodes share */
    PG_FILE_COPY,     /* store_pg_copy.c: admin migrate's bulk reads and writes */
    PG_FILE_TEST,     /* unit tests' own statements */
    PG_FILE_COUNT
} pg_file;

/* The most statements one file may own. */
#define PG_STMTS_MAX 64

/* A file's statements: text[id] is the SQL of its statement id (0..n-1). */
typedef struct pg_sql {
    pg_file file;
    int n;
    const char *const *text;
} pg_sql;

/* One pooled connection (store_pg.c). */
typedef struct pg_conn pg_conn;

/* The libpq connection of c (for PQescape* and the like; never for PQfinish). */
PGconn *pg_db(pg_conn *c);

/* ---- parameters and columns ---- */

/* Room for a decimal int64 and its NUL. */
typedef struct pg_num {
    char s[24];
} pg_num;
/* Writes v into b and returns b->s, for a parameter. */
const char *pg_i64(pg_num *b, int64_t v);
/* Writes the bytea literal "\x<hex>" of data into buf; buf must hold 2 * len + 3 bytes. */
const char *pg_bytea_hex(const uint8_t *data, size_t len, char *buf, size_t size);

/* 1 when the column is NULL. */
int pg_col_null(const PGresult *r, int row, int col);
/* The integer in a column, 0 for NULL. */
int64_t pg_col_i64(const PGresult *r, int row, int col);
/* The double in a column, 0 for NULL. */
double pg_col_f64(const PGresult *r, int row, int col);
/* Copies a text column into buf (size bytes, truncated and NUL-ended), "" for NULL. */
void pg_col_text(const PGresult *r, int row, int col, char *buf, size_t size);
/* A malloc'd copy of a text column, NULL for NULL (and when out of memory). */
char *pg_col_strdup(const PGresult *r, int row, int col);
/* Decodes a bytea column into buf (at most size bytes); returns its length, -1 if longer. */
long pg_col_bytea(const PGresult *r, int row, int col, uint8_t *buf, size_t size);

/* ---- running statements on a connection ---- */

/*
 * Runs statement id of q on c with n text parameters (NULL: SQL NULL). On
 * HH_OK *res holds the result (the caller PQclear's it); on failure *res is
 * NULL and the error is mapped: unique violation 23505 HH_ERR_EXISTS,
 * foreign key 23503 HH_ERR_NOTFOUND, another integrity violation (23xxx) or
 * a RAISE of the schema's triggers (P0001) HH_ERR_CONFLICT, serialization
 * failure 40001 / deadlock 40P01 / a lost connection HH_ERR_BUSY (pg_tx
 * retries those), anything else HH_ERR_DB, logged with what.
 */
hh_status pg_query(pg_conn *c, const pg_sql *q, int id, int n, const char *const *params,
                   PGresult **res);
/* pg_query for a statement whose rows (if any) are not wanted. */
hh_status pg_exec(pg_conn *c, const pg_sql *q, int id, int n, const char *const *params);
/* pg_exec of a statement that must change a row: HH_ERR_NOTFOUND when it changed none. */
hh_status pg_exec_one(pg_conn *c, const pg_sql *q, int id, int n, const char *const *params);
/* pg_query of an at-most-one-row query: HH_OK with *res holding the row, or HH_ERR_NOTFOUND. */
hh_status pg_one(pg_conn *c, const pg_sql *q, int id, int n, const char *const *params,
                 PGresult **res);
/*
 * The database's clock (hh_now_ms(), ms since the epoch) into *now (0 on
 * failure): read once by a transaction that stamps several rows alike.
 */
hh_status pg_now(pg_conn *c, int64_t *now);
/* s, or NULL (SQL NULL) when s is NULL or "", as the SQLite store binds optional text. */
const char *pg_text_or_null(const char *s);
/*
 * Reads every row of r with read into a malloc'd array of elements of size
 * elem (*out NULL when r has no rows; the caller frees it).
 */
hh_status pg_collect_rows(const PGresult *r, size_t elem,
                          void (*read)(const PGresult *r, int row, void *out), void **out,
                          size_t *n);

/* ---- connections and transactions ---- */

/* Borrows a connection of the pool (waiting while all are busy); on failure nothing is held. */
hh_status pg_borrow(hh_store *st, pg_conn **c);
/* Gives a borrowed connection back (one left inside a transaction is rolled back). NULL-safe. */
void pg_put(hh_store *st, pg_conn *c);

/* The work of one transaction on the connection that holds it; ctx is the caller's. */
typedef hh_status (*pg_tx_fn)(pg_conn *c, void *ctx);
/*
 * Borrows a connection, runs fn between BEGIN (READ COMMITTED) and COMMIT,
 * rolls back when fn fails, and gives the connection back. HH_ERR_BUSY from
 * fn or COMMIT (serialization failure, deadlock, lost connection) runs it all
 * again, up to 8 times with a growing pause, so fn must set its outputs from
 * scratch. Returns fn's status, or the failure of BEGIN or COMMIT.
 */
hh_status pg_tx(hh_store *st, pg_tx_fn fn, void *ctx);
/* pg_tx at SERIALIZABLE, for a body that must see no write committed while it runs. */
hh_status pg_tx_serial(hh_store *st, pg_tx_fn fn, void *ctx);
/*
 * Inside a transaction: runs fn in a SAVEPOINT, released when it succeeds and
 * rolled back to (undoing only fn's writes) when it fails; returns fn's status.
 */
hh_status pg_sub(pg_conn *c, pg_tx_fn fn, void *ctx);
/*
 * Outside a transaction: borrows a connection, runs statement id of q once
 * in autocommit (again once if the connection was lost before it ran), and
 * gives the connection back; *res as for pg_query (pass NULL to drop rows).
 */
hh_status pg_run(hh_store *st, const pg_sql *q, int id, int n, const char *const *params,
                 PGresult **res);
/* pg_run of a statement that must change a row: HH_ERR_NOTFOUND when it changed none. */
hh_status pg_run_one(hh_store *st, const pg_sql *q, int id, int n, const char *const *params);

/* ---- steps one file's transaction takes inside another's ---- */

/* store_pg_users.c: the ledger append inside the caller's transaction (as sq_ledger_append_tx). */
hh_status pg_ledger_append_tx(pg_conn *c, const char *user_id, int64_t amount, hh_ledger_kind kind,
                              const char *ref, const char *note, int64_t *balance_after);
/* store_pg_users.c: fills k for a new key (a fresh id, now); HH_ERR_INVALID if a string is long. */
hh_status pg_key_new(const char *user_id, const char *name, const char *prefix, hh_api_key *k);
/* store_pg_users.c: inserts key k with the SHA-256 of its secret on c. */
hh_status pg_key_insert_on(pg_conn *c, const hh_api_key *k, const uint8_t hash[CRYPTO_SHA256_LEN]);
/* store_pg_accounts.c: the checks of in->guard inside store_video_create's transaction. */
hh_status pg_create_guard_tx(pg_conn *c, const hh_video_new *in, int64_t now);
/* store_pg_webhooks.c: the outbox rows of event inside a status change's transaction. */
hh_status pg_hook_event_tx(pg_conn *c, const char *user_id, const char *video_id,
                           hh_hook_event event, int64_t now);
/* store_pg_queue.c: what pg_job_state_lock read of a video's job and of the video. */
typedef struct pg_job_state {
    char state[16]; /* the job's */
    int attempts, max_attempts;
    char owner[128];         /* the lease's, "" when none */
    char user_id[HH_ID_LEN]; /* the video's owner */
    int64_t charged, refunded;
    hh_video_status video_status;
} pg_job_state;
/*
 * store_pg_queue.c: locks the job and then the video of video_id (FOR
 * UPDATE, the order every decision on a job takes) and reads them;
 * HH_ERR_NOTFOUND when there is no job.
 */
hh_status pg_job_state_lock(pg_conn *c, const char *video_id, pg_job_state *js);
/* store_pg_queue.c: worker_id gives up its lease, the job stays running (HH_ERR_CONFLICT: none). */
hh_status pg_job_hand_off_tx(pg_conn *c, const char *video_id, const char *worker_id, int64_t now);
/* store_pg_queue.c: a running, lease-less job back to the queue with attempts 0. */
hh_status pg_job_collect_tx(pg_conn *c, const char *video_id, int64_t now);
/* store_pg_queue.c: raises the video's progress to progress (0..99; never lowers it). */
hh_status pg_video_progress_tx(pg_conn *c, const char *video_id, int progress);
/* store_pg_queue.c: HH_OK when the video is processing with its job running, else CONFLICT. */
hh_status pg_video_processing(pg_conn *c, const char *video_id);
/* store_pg_queue.c: fails the video with message and refunds it (HH_ERR_CONFLICT: settled). */
hh_status pg_video_fail_tx(pg_conn *c, const char *video_id, const char *message, int64_t now);
/* store_pg_remote.c: inside a cancel: a waiting task to phase cancel, others settled failed. */
hh_status pg_remote_cancel_tx(pg_conn *c, const char *video_id, int64_t now);

/* ---- the backend ---- */

/* Opens the store at a postgres:// URL, migrated to version (0: the latest), answering via ops. */
hh_status pg_open(const char *url, int version, const store_ops *ops, hh_store **out);
/* Closes a store pg_open opened: the close of the table. */
void pg_close(hh_store *st);

/* Each file's part of the PostgreSQL table, put together by store_pg_ops.c. */
void pg_core_ops(store_ops *o);
void pg_users_ops(store_ops *o);
void pg_accounts_ops(store_ops *o);
void pg_admin_ops(store_ops *o);
void pg_videos_ops(store_ops *o);
void pg_queue_ops(store_ops *o);
void pg_remote_ops(store_ops *o);
void pg_sessions_ops(store_ops *o);
void pg_shares_ops(store_ops *o);
void pg_webhooks_ops(store_ops *o);
void pg_shared_ops(store_ops *o);
/* admin migrate's table copy (store_pg_copy.c). */
void pg_copy_ops(store_ops *o);

#endif
