/*
 * store_sqlite_int.h - what the files of the SQLite store share and nothing
 * outside src/store/ (and the store's unit tests) may include: the
 * connection type, the prepared-statement cache, and the helpers every
 * store call is written with (borrow a connection, run a transaction, step
 * statements, the ledger append that must run inside a transaction).
 *
 * Statements: each file lists its SQL in one static table indexed by its
 * own enum (0, 1, ...) and names the table with an sq_sql. Every connection
 * keeps one row of prepared statements per file (sq_file), so a statement
 * added to one file can never take another file's slot; each file checks
 * its count against SQ_STMTS_MAX with a _Static_assert.
 *
 * Transactions: sq_tx is the only way to open one (BEGIN IMMEDIATE, the
 * work, COMMIT or ROLLBACK, the connection given back); sq_tx_group runs
 * its body in a transaction shared with the other callers waiting at that
 * moment (group commit: one COMMIT, one sync for all of them).
 *
 * Changes: every commit, by any process, bumps the change counter
 * (store_changes.c) once it is visible.
 */
#ifndef HH_STORE_SQLITE_INT_H
#define HH_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_int.h"

/* The files of the store that own statements: one row of the cache each. */
typedef enum sq_file {
    SQ_FILE_CORE,     /* store_sqlite.c: transactions, users, keys, ledger */
    SQ_FILE_VIDEOS,   /* store_sqlite_videos.c: uploads, videos, jobs, idempotency */
    SQ_FILE_SESSIONS, /* store_sqlite_sessions.c: dashboard sessions */
    SQ_FILE_REMOTE,   /* store_sqlite_remote.c: the remote tasks of provider engines */
    SQ_FILE_ACCOUNTS, /* store_sqlite_accounts.c: account limits, suspension, audit, health */
    SQ_FILE_SHARES,   /* store_sqlite_shares.c: public share pages */
    SQ_FILE_ADMIN,    /* store_sqlite_admin.c: the operator's lists and statistics */
    SQ_FILE_WEBHOOKS, /* store_sqlite_webhooks.c: webhook endpoints and their outbox */
    SQ_FILE_SHARED,   /* store_sqlite_shared.c: secrets and rate buckets all nodes share */
    SQ_FILE_COUNT
} sq_file;

/* The most statements one file may own (the width of a row of the cache). */
#define SQ_STMTS_MAX 48

/* A file's statements: text[id] is the SQL of its statement id (0..n-1). */
typedef struct sq_sql {
    sq_file file;
    int n;
    const char *const *text;
} sq_sql;

typedef struct conn {
    sqlite3 *db;
    int busy_ms; /* the lock wait set on db (the borrowing thread's) */
    sqlite3_stmt *stmt[SQ_FILE_COUNT][SQ_STMTS_MAX]; /* prepared on first use */
} conn;

/* 1 once any call of this process met a corrupt database page (SQLITE_CORRUPT, NOTADB). */
int sq_corrupt_seen(void);
/* The database file of st. */
const char *sq_store_path(const hh_store *st);

/* Maps a SQLite result code to an hh_status, logging what failed. */
hh_status sq_error(sqlite3 *db, int rc, const char *what);
/* Statement id of q on c, prepared on first use; it comes reset and unbound. */
hh_status sq_stmt(conn *c, const sq_sql *q, int id, sqlite3_stmt **out);
/* Returns a statement to the cache: ends its run and drops its bindings. NULL-safe. */
void sq_done(sqlite3_stmt *s);
/* Runs a statement that returns no rows (or ignores them) to completion. */
hh_status sq_exec(conn *c, sqlite3_stmt *s, const char *what);
/* Like sq_exec for an UPDATE of one row: HH_ERR_NOTFOUND when no row changed. */
hh_status sq_exec_one(conn *c, sqlite3_stmt *s, const char *what);
/* One step of an at-most-one-row query: HH_OK with a row, HH_ERR_NOTFOUND, or the error. */
hh_status sq_step_one(conn *c, sqlite3_stmt *s, const char *what);
/* Copies text column i into buf (size bytes), "" for NULL. */
void sq_col_text(sqlite3_stmt *s, int i, char *buf, size_t size);
/* Binds s, or NULL when s is NULL or "". */
int sq_bind_text_or_null(sqlite3_stmt *st, int i, const char *s);

/*
 * Borrows a connection of the pool (waiting while all are busy) and its
 * statement id of q, for a call that needs no transaction. *c and *s are
 * set only on success (on failure nothing is held, so a caller that starts
 * them NULL can always end at one label): sq_done(*s) if it stepped it,
 * then sq_conn_put(st, *c).
 */
hh_status sq_borrow(hh_store *st, const sq_sql *q, int id, conn **c, sqlite3_stmt **s);
/* Gives a borrowed connection back. NULL-safe. */
void sq_conn_put(hh_store *st, conn *c);

/* The work of one transaction, on the connection that holds it; ctx is the caller's. */
typedef hh_status (*sq_tx_fn)(conn *c, void *ctx);
/*
 * Borrows a connection, runs fn inside BEGIN IMMEDIATE and commits when fn
 * returns HH_OK, rolls back (nothing written) otherwise, and gives the
 * connection back. Returns the first failure: the borrow's, BEGIN's, fn's
 * or COMMIT's.
 */
hh_status sq_tx(hh_store *st, sq_tx_fn fn, void *ctx);

/*
 * Like sq_tx, but fn runs in a transaction it shares with the other
 * sq_tx_group calls waiting at the time (group commit): the first caller
 * to find no group running leads, takes everyone queued (up to a bound),
 * runs each body in its own SAVEPOINT (a body that fails is rolled back
 * alone, and only its caller sees its status) and COMMITs once. Every
 * caller returns only after that COMMIT, with its body's status, or with
 * the failure that undid the whole group (BEGIN, COMMIT, or an error that
 * ended the transaction), in which case nothing of any body was written.
 * Bodies run one after another on one connection, each seeing the writes
 * of those before it. fn must not depend on running alone.
 */
hh_status sq_tx_group(hh_store *st, sq_tx_fn fn, void *ctx);

/* What group commit has done since the store opened (for tests and benchmarks). */
typedef struct sq_group_stats {
    uint64_t groups;  /* transactions run by sq_tx_group */
    uint64_t members; /* bodies run in them */
    size_t waiting;   /* callers queued right now, not yet in a running group */
} sq_group_stats;
void sq_group_stats_get(hh_store *st, sq_group_stats *out);

/* The change counter of one store location (store_changes.c). */
typedef struct sq_changes sq_changes;
/* Maps <dir>/happyhorse.changes, creating it; never NULL but when out of memory. */
sq_changes *sq_changes_open(const char *dir);
void sq_changes_close(sq_changes *ch);
/* After a commit is visible: one more. */
void sq_changes_bump(sq_changes *ch);
/* The counter (never 0), or 0 when there is no file to share it through. */
uint64_t sq_changes_read(const sq_changes *ch);

/*
 * Steps s to the end, reading each row with read into a growing array of
 * elements of size elem; *out is malloc'd (NULL when no rows), caller frees.
 */
hh_status sq_collect_rows(conn *c, sqlite3_stmt *s, size_t elem,
                          void (*read)(sqlite3_stmt *, void *), void **out, size_t *n);
/* Reads a row of (id, user_id, name, prefix, created_at, last_used_at) into an hh_api_key. */
void sq_read_key_row(sqlite3_stmt *s, void *out);
/* Fills k for a new key of user_id (a fresh id, now); HH_ERR_INVALID if a string does not fit. */
hh_status sq_key_new(const char *user_id, const char *name, const char *prefix, hh_api_key *k);
/* Inserts key k with the SHA-256 of its secret on c (inside or outside a transaction). */
hh_status sq_key_insert_on(conn *c, const hh_api_key *k, const uint8_t hash[CRYPTO_SHA256_LEN]);
/*
 * Inside a transaction: ends the unfinished video video_id (queued or
 * running) as failed with message and refunds its charge, exactly once, as
 * an operator's order would (store_job_fail with no worker). HH_ERR_CONFLICT
 * when it has finished already.
 */
hh_status sq_video_cancel_tx(conn *c, const char *video_id, const char *message);
/*
 * Inside store_video_create's transaction, before the charge: the checks
 * of in->guard (the caller may still create, the account's caps).
 */
hh_status sq_create_guard_tx(conn *c, const hh_video_new *in, int64_t now);

/*
 * Inside the caller's transaction (an sq_tx body): moves the balance by
 * amount and appends the ledger row. HH_ERR_CREDITS (nothing written) if
 * the balance would go below zero, with *balance_after set to the balance
 * as it is; HH_ERR_LIMIT if it would overflow; HH_ERR_NOTFOUND for an
 * unknown user; HH_ERR_EXISTS for a second charge or refund of the same ref.
 */
hh_status sq_ledger_append_tx(conn *c, const char *user_id, int64_t amount, hh_ledger_kind kind,
                              const char *ref, const char *note, int64_t *balance_after);

/*
 * Inside the transaction of a video's status change: the outbox rows of
 * event (one per live endpoint of user_id that takes it, all with one new
 * message id), so the event is sent exactly when the change commits. Every
 * way into ready, failed or canceled calls it (finish_tx, fail_tx, and
 * the cancel of a video with HH_HOOK_VIDEO_CANCELED).
 */
hh_status sq_hook_event_tx(conn *c, const char *user_id, const char *video_id, hh_hook_event event,
                           int64_t now);

/* ---- jobs and remote tasks, across store_sqlite_videos.c and _remote.c ---- */

/* Inside a transaction: worker_id gives up its lease, the job stays running (HH_ERR_CONFLICT: no
 * lease). */
hh_status sq_job_hand_off_tx(conn *c, const char *video_id, const char *worker_id, int64_t now);
/* Inside a transaction: a running, lease-less job back to the queue with attempts 0. */
hh_status sq_job_collect_tx(conn *c, const char *video_id, int64_t now);
/* Inside a transaction: raises the video's progress to progress (0..99; never lowers it). */
hh_status sq_video_progress_tx(conn *c, const char *video_id, int progress);
/* HH_OK when the video is processing with its job running; HH_ERR_CONFLICT otherwise. */
hh_status sq_video_processing(conn *c, const char *video_id);
/* Inside a transaction: fails the video with message and refunds it (HH_ERR_CONFLICT: settled). */
hh_status sq_video_fail_tx(conn *c, const char *video_id, const char *message, int64_t now);
/* Inside a transaction: the video's remote task (if any) ends in phase (DONE or FAILED). */
hh_status sq_remote_settle_tx(conn *c, const char *video_id, hh_remote_phase phase, int64_t now);
/*
 * Inside a cancel's transaction: a task waiting at its provider moves to
 * phase cancel (due now, unclaimed) for a driver to stop it there; one in
 * submit or collect is settled failed. No row: the video had no remote task.
 */
hh_status sq_remote_cancel_tx(conn *c, const char *video_id, int64_t now);

/*
 * Opens the SQLite store in directory location, migrated to version (0:
 * the latest), answering through ops (store_sqlite_ops.c's table).
 */
hh_status sq_open(const char *location, int version, const store_ops *ops, hh_store **out);
/* Closes a store sq_open opened: the close of the table. */
void sq_close(hh_store *st);

/* Each file's part of the SQLite table (store_int.h), put together by store_sqlite_ops.c. */
void sq_core_ops(store_ops *o);
void sq_videos_ops(store_ops *o);
void sq_sessions_ops(store_ops *o);
void sq_remote_ops(store_ops *o);
void sq_accounts_ops(store_ops *o);
void sq_shares_ops(store_ops *o);
void sq_admin_ops(store_ops *o);
void sq_webhooks_ops(store_ops *o);
void sq_shared_ops(store_ops *o);
/* admin migrate's table copy (store_sqlite_copy.c). */
void sq_copy_ops(store_ops *o);

#endif
