/*
 * store_sqlite.c - the core of the SQLite implementation of store.h: the
 * connection pool, the statement cache and the one transaction helper
 * (store_sqlite_int.h), opening and migrating, users, API keys and the
 * ledger. Uploads, videos and the queue are in store_sqlite_videos.c,
 * dashboard sessions in store_sqlite_sessions.c.
 *
 * Connections: a small pool (at most POOL_MAX) opened lazily and guarded by
 * a mutex and a condition variable; a call borrows one connection for its
 * whole duration, so a connection is only ever used by one thread at a
 * time (SQLITE_OPEN_NOMUTEX). Each connection caches its prepared
 * statements, one row per file (sq_sql).
 *
 * Settings per connection: WAL journal (readers never block the writer),
 * foreign_keys=ON, synchronous=FULL (the WAL is synced at every commit: a
 * commit that returned survives a power cut, which a charge answered 202
 * must), and a busy_timeout so writers queue behind each other instead of
 * failing. The wait is the calling thread's (store_thread_busy_ms): request
 * threads wait briefly and answer 503, workers wait the default 10 s. A WAL
 * hook bumps the change counter after every commit (store_changes.c) and
 * checkpoints as SQLite's default hook would.
 *
 * Writes of more than one row run through sq_tx, in BEGIN IMMEDIATE
 * transactions: the write lock is taken at BEGIN, so a read-then-write
 * transaction never has to be retried because another writer got in
 * between. Each migration step is one such transaction too. sq_tx_group
 * is group commit on top: callers that arrive while a group transaction
 * runs are gathered into the next one, so N concurrent creates cost one
 * sync instead of N.
 */
#include "store/store.h"
#include "store/migrations_sqlite.h"
#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/uuid.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(UUID_STR_LEN == HH_ID_LEN, "store ids are uuid.h's UUIDv7 text");

#define POOL_MAX        16
#define BUSY_TIMEOUT_MS 10000
#define DB_FILE         "happyhorse.db"
/*
 * No memory map (SQLite's mmap_size stays 0), on purpose: in WAL mode a
 * connection that sees another's commit discards its whole map (munmap)
 * at its next read and faults every page in again, and the 16 connections
 * each map the file, serialised on the process's page-table lock. With a
 * 1 GiB map a store of 10^6 videos served polls at 0.3-0.4x the 10^4 store
 * (one key-usage flush every 5 s was enough); with reads through each
 * connection's page cache, at 0.8-1x (docs/internals/store.md).
 */
/* WAL frames after which a commit checkpoints (SQLite's default auto-checkpoint). */
#define CHECKPOINT_FRAMES 1000
/* Bodies in one group transaction at most: bounds the time the write lock is held. */
#define GROUP_MAX 64

#define USER_COLS "id, email, plan, credits, api_access, created_at, disabled_at IS NOT NULL"

/* This file's statements: the SQL of each in core_text, the cache row SQ_FILE_CORE. */
enum core_stmt {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_SAVEPOINT,
    S_RELEASE,
    S_ROLLBACK_TO,
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
    S_COUNT
};
_Static_assert(S_COUNT <= SQ_STMTS_MAX, "raise SQ_STMTS_MAX in store_sqlite_int.h");

static const char *const core_text[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT member",
    [S_RELEASE] = "RELEASE member",
    [S_ROLLBACK_TO] = "ROLLBACK TO member",
    [S_PING] = "SELECT 1",
    [S_USER_INSERT] = "INSERT INTO users (id, email, password_hash, plan, credits, api_access,"
                      " created_at) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
    [S_USER_BY_EMAIL] = "SELECT " USER_COLS " FROM users WHERE email = ?1",
    [S_USER_BY_ID] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    [S_USER_SET_PLAN] = "UPDATE users SET plan = ?2 WHERE id = ?1",
    [S_USER_SET_ACCESS] = "UPDATE users SET api_access = ?2 WHERE id = ?1",
    [S_USER_PWHASH] = "SELECT password_hash FROM users WHERE id = ?1",
    [S_KEY_INSERT] = "INSERT INTO api_keys (id, user_id, name, hash, prefix, created_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_KEY_LOOKUP] = "SELECT k.id, k.user_id, k.name, k.prefix, k.created_at, k.last_used_at,"
                     " u.id, u.email, u.plan, u.credits, u.api_access, u.created_at,"
                     " u.disabled_at IS NOT NULL"
                     " FROM api_keys k JOIN users u ON u.id = k.user_id"
                     " WHERE k.hash = ?1 AND k.deleted_at IS NULL",
    [S_KEY_LIST] = "SELECT id, user_id, name, prefix, created_at, last_used_at FROM api_keys"
                   " WHERE user_id = ?1 AND deleted_at IS NULL"
                   " ORDER BY created_at DESC, id DESC LIMIT ?2",
    [S_KEY_DELETE] = "UPDATE api_keys SET deleted_at = ?3"
                     " WHERE id = ?1 AND user_id = ?2 AND deleted_at IS NULL",
    [S_KEY_TOUCH] = "UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?2)"
                    " WHERE id = ?1",
    [S_BALANCE] = "SELECT credits FROM users WHERE id = ?1",
    [S_BALANCE_SET] = "UPDATE users SET credits = ?2 WHERE id = ?1",
    [S_LEDGER_INSERT] = "INSERT INTO ledger (user_id, amount, balance_after, kind, ref, note,"
                        " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_LEDGER_LIST] = "SELECT id, user_id, amount, balance_after, kind, ref, note, created_at"
                      " FROM ledger WHERE user_id = ?1 AND (?2 <= 0 OR id < ?2)"
                      " ORDER BY id DESC LIMIT ?3",
    [S_LEDGER_SUM] = "SELECT coalesce(sum(amount), 0) FROM ledger WHERE user_id = ?1",
};

static const sq_sql core_sql = {SQ_FILE_CORE, S_COUNT, core_text};

/* Set when any call met a page that is not a database page (store_health reports it). */
static atomic_int corrupt_seen;

/* One caller of sq_tx_group, on its stack until its group committed. */
typedef struct group_member {
    struct group_member *next;
    sq_tx_fn fn;
    void *ctx;
    hh_status rc;
    int done; /* under group_mu: rc is final, the caller may return */
} group_member;

typedef struct sq_store {
    hh_store base; /* first: the store.h handle is this */
    char path[PATH_MAX];
    int version;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    conn *idle[POOL_MAX]; /* connections not borrowed */
    size_t nidle;
    size_t nopen; /* idle + borrowed + being opened */
    sq_changes *changes;

    pthread_mutex_t group_mu; /* guards the queue, leading and the counts */
    pthread_cond_t group_cv;  /* a group finished */
    group_member *queue, **queue_tail;
    size_t waiting;
    int leading; /* a group transaction is running */
    uint64_t groups, members;
} sq_store;

/* The SQLite store behind a store.h handle (every handle this file is given is one). */
static sq_store *sq_of(hh_store *st)
{
    return (sq_store *)st;
}

/* ---- errors ---- */

/* Maps a SQLite result code to an hh_status and logs what is not the caller's fault. */
hh_status sq_error(sqlite3 *db, int rc, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return HH_ERR_EXISTS;
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
            return HH_ERR_NOTFOUND;
        return HH_ERR_CONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        hh_warn("store: %s: database busy (%d %s)", what, rc, db ? sqlite3_errmsg(db) : "");
        return HH_ERR_BUSY;
    case SQLITE_NOMEM:
        return HH_ERR_NOMEM;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        atomic_store(&corrupt_seen, 1);
        hh_error("store: %s: the database is corrupt: %s", what,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return HH_ERR_DB;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
        hh_error("store: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return HH_ERR_IO;
    default:
        hh_error("store: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return HH_ERR_DB;
    }
}

/* ---- statements ---- */

hh_status sq_stmt(conn *c, const sq_sql *q, int id, sqlite3_stmt **out)
{
    if (id < 0 || id >= q->n || id >= SQ_STMTS_MAX || !q->text[id]) {
        hh_error("store: file %d has no statement %d", (int)q->file, id);
        return HH_ERR_INVALID;
    }
    sqlite3_stmt **slot = &c->stmt[q->file][id];
    if (!*slot) {
        int rc = sqlite3_prepare_v3(c->db, q->text[id], -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
        if (rc != SQLITE_OK)
            return sq_error(c->db, rc, "prepare");
    }
    *out = *slot;
    return HH_OK;
}

/* Returns a statement to the cache: ends its run and drops its bindings. */
void sq_done(sqlite3_stmt *s)
{
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
}

/* Runs a statement that returns no rows (or ignores them) to completion. */
hh_status sq_exec(conn *c, sqlite3_stmt *s, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    hh_status st = rc == SQLITE_DONE ? HH_OK : sq_error(c->db, rc, what);
    sq_done(s);
    return st;
}

/*
 * Steps s once for a query of at most one row: HH_OK with the row ready to
 * read, HH_ERR_NOTFOUND when there is none, or the mapped error. The
 * caller reads the row, then calls sq_done.
 */
hh_status sq_step_one(conn *c, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        return HH_OK;
    return rc == SQLITE_DONE ? HH_ERR_NOTFOUND : sq_error(c->db, rc, what);
}

/* Like sq_exec for an UPDATE of one row: HH_ERR_NOTFOUND when no row changed. */
hh_status sq_exec_one(conn *c, sqlite3_stmt *s, const char *what)
{
    hh_status rc = sq_exec(c, s, what);
    if (!rc && sqlite3_changes(c->db) == 0)
        rc = HH_ERR_NOTFOUND;
    return rc;
}

/* Runs this file's statement id, which takes no parameters, for its effect. */
static hh_status run_simple(conn *c, enum core_stmt id, const char *what)
{
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &core_sql, id, &s);
    if (rc)
        return rc;
    return sq_exec(c, s, what);
}

/* ROLLBACK when c is inside a transaction; a no-op otherwise. */
static void tx_rollback(conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        run_simple(c, S_ROLLBACK, "rollback");
}

/* Copies text column i into buf (size bytes), "" for NULL. */
void sq_col_text(sqlite3_stmt *s, int i, char *buf, size_t size)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    size_t n = t ? (size_t)sqlite3_column_bytes(s, i) : 0;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(buf, t, n);
    buf[n] = '\0';
}

/* Binds s (or NULL when s is NULL or ""). */
int sq_bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (!s || !*s)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* ---- connections and the pool ---- */

static void conn_close(conn *c)
{
    if (!c)
        return;
    for (int f = 0; f < SQ_FILE_COUNT; f++)
        for (int i = 0; i < SQ_STMTS_MAX; i++)
            sqlite3_finalize(c->stmt[f][i]);
    sqlite3_close(c->db);
    free(c);
}

/* Runs one PRAGMA (or other statement) for its effect; the first row's text goes to out. */
static hh_status exec_get(sqlite3 *db, const char *sql, char *out, size_t outsize)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return sq_error(db, rc, sql);
    if (out && outsize)
        out[0] = '\0';
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (out && outsize && !out[0])
            sq_col_text(s, 0, out, outsize);
    hh_status st = rc == SQLITE_DONE ? HH_OK : sq_error(db, rc, sql);
    sqlite3_finalize(s);
    return st;
}

/*
 * After every commit on a connection (the write lock released): the change
 * counter, then the checkpoint SQLite's default hook (which this replaces)
 * would run.
 */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    hh_store *st = arg;
    sq_changes_bump(sq_of(st)->changes);
    if (frames >= CHECKPOINT_FRAMES)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static hh_status conn_open(hh_store *st, conn **out)
{
    char mode[16];
    hh_status rc = HH_OK;
    const char *path = sq_of(st)->path;
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return HH_ERR_NOMEM;
    int src = sqlite3_open_v2(path, &c->db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                  SQLITE_OPEN_EXRESCODE,
                              NULL);
    if (src != SQLITE_OK) {
        rc = sq_error(c->db, src, "open");
        goto fail;
    }
    c->busy_ms = BUSY_TIMEOUT_MS;
    sqlite3_busy_timeout(c->db, c->busy_ms);
    rc = exec_get(c->db, "PRAGMA journal_mode = WAL", mode, sizeof mode);
    if (rc)
        goto fail;
    if (strcmp(mode, "wal") != 0) {
        hh_error("store: %s: could not switch to WAL (journal_mode=%s)", path, mode);
        rc = HH_ERR_DB;
        goto fail;
    }
    rc = exec_get(c->db, "PRAGMA foreign_keys = ON", NULL, 0);
    if (!rc)
        rc = exec_get(c->db, "PRAGMA synchronous = FULL", NULL, 0);
    if (rc)
        goto fail;
    sqlite3_wal_hook(c->db, on_wal_commit, st);
    *out = c;
    return HH_OK;
fail:
    conn_close(c);
    return rc;
}

int sq_corrupt_seen(void)
{
    return atomic_load(&corrupt_seen);
}

const char *sq_store_path(const hh_store *st)
{
    return ((const sq_store *)st)->path;
}

/* Gives c the calling thread's lock wait (a no-op when it has it already). */
static void conn_set_busy(conn *c)
{
    int ms = store_thread_busy() ? store_thread_busy() : BUSY_TIMEOUT_MS;
    if (c->busy_ms != ms) {
        sqlite3_busy_timeout(c->db, ms);
        c->busy_ms = ms;
    }
}

/* Borrows a connection: an idle one, a new one while under POOL_MAX, else waits. */
static hh_status conn_get(hh_store *st, conn **out)
{
    sq_store *sq = sq_of(st);
    pthread_mutex_lock(&sq->mu);
    while (sq->nidle == 0 && sq->nopen >= POOL_MAX)
        pthread_cond_wait(&sq->cv, &sq->mu);
    if (sq->nidle > 0) {
        *out = sq->idle[--sq->nidle];
        pthread_mutex_unlock(&sq->mu);
        conn_set_busy(*out);
        return HH_OK;
    }
    sq->nopen++;
    pthread_mutex_unlock(&sq->mu);

    hh_status rc = conn_open(st, out);
    if (!rc)
        conn_set_busy(*out);
    if (rc) {
        pthread_mutex_lock(&sq->mu);
        sq->nopen--;
        pthread_cond_signal(&sq->cv);
        pthread_mutex_unlock(&sq->mu);
    }
    return rc;
}

/* Gives a borrowed connection back. A transaction left open by a bug is rolled back. */
void sq_conn_put(hh_store *st, conn *c)
{
    sq_store *sq = sq_of(st);
    if (!c)
        return;
    if (!sqlite3_get_autocommit(c->db)) {
        hh_error("store: connection returned inside a transaction; rolling back");
        tx_rollback(c);
    }
    pthread_mutex_lock(&sq->mu);
    sq->idle[sq->nidle++] = c;
    pthread_cond_signal(&sq->cv);
    pthread_mutex_unlock(&sq->mu);
}

/* Borrows a connection and its statement id of q; on failure nothing is held. */
hh_status sq_borrow(hh_store *st, const sq_sql *q, int id, conn **c, sqlite3_stmt **s)
{
    conn *got = NULL;
    hh_status rc = conn_get(st, &got);
    if (rc)
        return rc;
    rc = sq_stmt(got, q, id, s);
    if (rc) {
        sq_conn_put(st, got);
        return rc;
    }
    *c = got;
    return HH_OK;
}

/*
 * The one transaction of the store: BEGIN IMMEDIATE takes the write lock
 * at once, so a read-then-write body never has to be retried because
 * another writer got in between. A COMMIT that fails is rolled back too.
 */
hh_status sq_tx(hh_store *st, sq_tx_fn fn, void *ctx)
{
    conn *c = NULL;
    hh_status rc = conn_get(st, &c);
    if (rc)
        return rc;
    rc = run_simple(c, S_BEGIN, "begin");
    if (rc)
        goto out;
    rc = fn(c, ctx);
    if (!rc)
        rc = run_simple(c, S_COMMIT, "commit");
out:
    if (rc)
        tx_rollback(c);
    sq_conn_put(st, c);
    return rc;
}

/* ---- group commit ---- */

/*
 * Runs one member's body in its own savepoint, rolled back alone when the
 * body fails. Returns HH_OK while the transaction goes on, else what ended it.
 */
static hh_status run_member(conn *c, group_member *m)
{
    hh_status rc = run_simple(c, S_SAVEPOINT, "savepoint");
    if (rc)
        return rc;
    m->rc = m->fn(c, m->ctx);
    /* Some errors (disk full, I/O) end the whole transaction: every body in it is lost. */
    if (sqlite3_get_autocommit(c->db))
        return m->rc ? m->rc : HH_ERR_DB;
    if (m->rc && (rc = run_simple(c, S_ROLLBACK_TO, "rollback to savepoint")))
        return rc;
    return run_simple(c, S_RELEASE, "release savepoint");
}

/* One group transaction for the members of batch: sets every member's rc. */
static void run_group(hh_store *st, group_member *batch)
{
    conn *c = NULL;
    hh_status rc = conn_get(st, &c);
    if (!rc)
        rc = run_simple(c, S_BEGIN, "begin");
    for (group_member *m = batch; !rc && m; m = m->next)
        rc = run_member(c, m);
    if (!rc)
        rc = run_simple(c, S_COMMIT, "commit");
    if (rc) {
        /* Nothing of the group was written: a body that succeeded (or never ran) gets why. */
        for (group_member *m = batch; m; m = m->next)
            if (m->rc == HH_OK)
                m->rc = rc;
        if (c)
            tx_rollback(c);
    }
    sq_conn_put(st, c);
}

/* Takes up to GROUP_MAX members off the queue (group_mu held). */
static group_member *take_batch(hh_store *st, size_t *n)
{
    sq_store *sq = sq_of(st);
    group_member *batch = sq->queue, **end = &sq->queue;
    *n = 0;
    while (*end && *n < GROUP_MAX) {
        end = &(*end)->next;
        ++*n;
    }
    sq->queue = *end;
    *end = NULL;
    if (!sq->queue)
        sq->queue_tail = &sq->queue;
    sq->waiting -= *n;
    return batch;
}

hh_status sq_tx_group(hh_store *st, sq_tx_fn fn, void *ctx)
{
    sq_store *sq = sq_of(st);
    group_member me = {.fn = fn, .ctx = ctx};
    pthread_mutex_lock(&sq->group_mu);
    *sq->queue_tail = &me;
    sq->queue_tail = &me.next;
    sq->waiting++;
    while (!me.done) {
        if (sq->leading) {
            pthread_cond_wait(&sq->group_cv, &sq->group_mu);
            continue;
        }
        /* Lead: everyone queued now (this caller among them, unless GROUP_MAX were ahead). */
        size_t n;
        group_member *batch = take_batch(st, &n);
        sq->leading = 1;
        sq->groups++;
        sq->members += n;
        pthread_mutex_unlock(&sq->group_mu);
        run_group(st, batch);
        pthread_mutex_lock(&sq->group_mu);
        while (batch) {
            group_member *next = batch->next; /* a member may return once done is set */
            batch->done = 1;
            batch = next;
        }
        sq->leading = 0;
        pthread_cond_broadcast(&sq->group_cv);
    }
    pthread_mutex_unlock(&sq->group_mu);
    return me.rc;
}

void sq_group_stats_get(hh_store *st, sq_group_stats *out)
{
    sq_store *sq = sq_of(st);
    pthread_mutex_lock(&sq->group_mu);
    out->groups = sq->groups;
    out->members = sq->members;
    out->waiting = sq->waiting;
    pthread_mutex_unlock(&sq->group_mu);
}

/*
 * Steps s to the end, reading each row with read into a growing array of
 * elements of size elem. On success *out (malloc'd, NULL when no rows;
 * caller frees) and *n are set; on failure nothing is allocated.
 */
hh_status sq_collect_rows(conn *c, sqlite3_stmt *s, size_t elem,
                          void (*read)(sqlite3_stmt *, void *), void **out, size_t *n)
{
    char *arr = NULL;
    size_t cap = 0, count = 0;
    hh_status rc = HH_OK;
    int src;
    while ((src = sqlite3_step(s)) == SQLITE_ROW) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char *p = realloc(arr, ncap * elem);
            if (!p) {
                rc = HH_ERR_NOMEM;
                break;
            }
            arr = p;
            cap = ncap;
        }
        read(s, arr + count++ * elem);
    }
    if (!rc && src != SQLITE_DONE)
        rc = sq_error(c->db, src, "list");
    sq_done(s);
    if (rc) {
        free(arr);
        return rc;
    }
    *out = arr;
    *n = count;
    return HH_OK;
}

/* ---- opening and migrations ---- */

static hh_status read_version(sqlite3 *db, int *version)
{
    char v[32];
    hh_status rc = exec_get(db, "PRAGMA user_version", v, sizeof v);
    if (rc)
        return rc;
    *version = (int)strtol(v, NULL, 10);
    return HH_OK;
}

/* What one migration transaction found (version) and whether it was the last. */
typedef struct migration_step {
    int target;
    int version; /* the schema version read at the start of the step */
    int done;    /* version >= target: nothing was applied */
} migration_step;

/* The body of one migration transaction: reads the version, applies the next step. */
static hh_status migrate_step(conn *c, void *ctx)
{
    migration_step *m = ctx;
    char *errmsg = NULL;
    int v = 0;
    hh_status rc = read_version(c->db, &v);
    if (rc)
        return rc;
    if (v > (int)store_sqlite_migration_count) {
        hh_error("store: database schema version %d is newer than this binary's (%zu)", v,
                 store_sqlite_migration_count);
        return HH_ERR_CONFLICT;
    }
    m->version = v;
    m->done = v >= m->target;
    if (m->done)
        return HH_OK;
    const store_migration *step = &store_sqlite_migrations[v];
    char bump[64];
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
    int src = sqlite3_exec(c->db, step->sql, NULL, NULL, &errmsg);
    if (src == SQLITE_OK)
        src = sqlite3_exec(c->db, bump, NULL, NULL, &errmsg);
    if (src != SQLITE_OK) {
        hh_error("store: migration %d (%s) failed: %s", v + 1, step->name,
                 errmsg ? errmsg : sqlite3_errstr(src));
        rc = HH_ERR_DB;
    }
    sqlite3_free(errmsg);
    return rc;
}

/*
 * Brings the database up to target, one step per transaction. The version
 * is re-read inside each transaction, so two processes opening the same
 * new database at once apply every step exactly once.
 */
static hh_status migrate(hh_store *st, int target)
{
    migration_step m = {.target = target};
    for (;;) {
        hh_status rc = sq_tx(st, migrate_step, &m);
        if (rc)
            return rc;
        if (m.done) {
            sq_of(st)->version = m.version;
            return HH_OK;
        }
        hh_info("store: applied migration %d (%s)", m.version + 1,
                store_sqlite_migrations[m.version].name);
    }
}

void sq_close(hh_store *st)
{
    sq_store *sq = sq_of(st);
    if (!sq)
        return;
    /* Every call has returned its connection by now (the caller's contract). */
    for (size_t i = 0; i < sq->nidle; i++)
        conn_close(sq->idle[i]);
    sq_changes_close(sq->changes);
    pthread_cond_destroy(&sq->group_cv);
    pthread_mutex_destroy(&sq->group_mu);
    pthread_cond_destroy(&sq->cv);
    pthread_mutex_destroy(&sq->mu);
    free(sq);
}

hh_status sq_open(const char *location, int version, const store_ops *ops, hh_store **out)
{
    hh_status rc;
    *out = NULL;
    if (version == 0)
        version = (int)store_sqlite_migration_count;
    if (version < 1 || version > (int)store_sqlite_migration_count)
        return HH_ERR_INVALID;
    sq_store *sq = calloc(1, sizeof *sq);
    if (!sq)
        return HH_ERR_NOMEM;
    sq->base.ops = ops;
    hh_store *st = &sq->base;
    pthread_mutex_init(&sq->mu, NULL);
    pthread_cond_init(&sq->cv, NULL);
    pthread_mutex_init(&sq->group_mu, NULL);
    pthread_cond_init(&sq->group_cv, NULL);
    sq->queue_tail = &sq->queue;
    int n = snprintf(sq->path, sizeof sq->path, "%s/%s", location, DB_FILE);
    if (n < 0 || (size_t)n >= sizeof sq->path) {
        rc = HH_ERR_LIMIT;
        goto fail;
    }
    rc = hh_mkdir_p(location);
    if (rc) {
        hh_error("store: cannot create the directory %s: %s", location, strerror(errno));
        goto fail;
    }
    sq->changes = sq_changes_open(location);
    if (!sq->changes) {
        rc = HH_ERR_NOMEM;
        goto fail;
    }
    rc = migrate(st, version);
    if (rc)
        goto fail;
    *out = st;
    return HH_OK;
fail:
    sq_close(st);
    return rc;
}

static int sq_schema_version(hh_store *st)
{
    return sq_of(st)->version;
}

static uint64_t sq_generation(hh_store *st)
{
    return sq_changes_read(sq_of(st)->changes);
}

static hh_status sq_ping(hh_store *st)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &core_sql, S_PING, &c, &s);
    if (!rc)
        rc = sq_exec(c, s, "ping");
    sq_conn_put(st, c);
    return rc;
}

/* ---- users ---- */

static void read_user(sqlite3_stmt *s, int col, hh_user *u)
{
    memset(u, 0, sizeof *u);
    sq_col_text(s, col, u->id, sizeof u->id);
    sq_col_text(s, col + 1, u->email, sizeof u->email);
    sq_col_text(s, col + 2, u->plan, sizeof u->plan);
    u->credits = sqlite3_column_int64(s, col + 3);
    u->api_access = sqlite3_column_int(s, col + 4) != 0;
    u->created_at = sqlite3_column_int64(s, col + 5);
    u->disabled = sqlite3_column_int(s, col + 6) != 0;
}

static hh_status sq_user_create(hh_store *st, const char *email, const char *password_hash,
                                const char *plan, int api_access, hh_user *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_user u = {0};
    hh_status rc = uuid_v7(u.id);
    if (rc)
        return rc;
    memcpy(u.email, email, strlen(email) + 1);
    memcpy(u.plan, plan, strlen(plan) + 1);
    u.api_access = api_access != 0;
    u.created_at = hh_time_now_ms();

    rc = sq_borrow(st, &core_sql, S_USER_INSERT, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, u.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, u.email, -1, SQLITE_STATIC);
    sq_bind_text_or_null(s, 3, password_hash);
    sqlite3_bind_text(s, 4, u.plan, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, u.api_access);
    sqlite3_bind_int64(s, 6, u.created_at);
    rc = sq_exec(c, s, "user insert");
    if (!rc && out)
        *out = u;
out:
    sq_conn_put(st, c);
    return rc;
}

/* Runs the one-parameter user query id with key and reads the row into out. */
static hh_status user_query(hh_store *st, enum core_stmt id, const char *key, hh_user *out)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    if (!key)
        return HH_ERR_NOTFOUND;
    hh_status rc = sq_borrow(st, &core_sql, id, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "user query");
    if (!rc)
        read_user(s, 0, out);
    sq_done(s);
out:
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_user_by_email(hh_store *st, const char *email, hh_user *out)
{
    return user_query(st, S_USER_BY_EMAIL, email, out);
}

static hh_status sq_user_by_id(hh_store *st, const char *id, hh_user *out)
{
    return user_query(st, S_USER_BY_ID, id, out);
}

/* Runs an UPDATE of one user (?1 id, ?2 text or int); HH_ERR_NOTFOUND if no row changed. */
static hh_status user_update(hh_store *st, enum core_stmt id, const char *user_id, const char *text,
                             int64_t num)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &core_sql, id, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    if (text)
        sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 2, num);
    rc = sq_exec_one(c, s, "user update");
out:
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_user_set_plan(hh_store *st, const char *user_id, const char *plan)
{
    return user_update(st, S_USER_SET_PLAN, user_id, plan, 0);
}

static hh_status sq_user_set_api_access(hh_store *st, const char *user_id, int on)
{
    return user_update(st, S_USER_SET_ACCESS, user_id, NULL, on != 0);
}

static hh_status sq_user_password_hash(hh_store *st, const char *user_id, char *buf, size_t size)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    buf[0] = '\0';
    hh_status rc = sq_borrow(st, &core_sql, S_USER_PWHASH, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "password hash");
    if (!rc && sqlite3_column_type(s, 0) != SQLITE_TEXT)
        rc = HH_ERR_NOTFOUND; /* the user exists but has no password */
    else if (!rc && (size_t)sqlite3_column_bytes(s, 0) >= size)
        rc = HH_ERR_LIMIT;
    else if (!rc)
        sq_col_text(s, 0, buf, size);
    sq_done(s);
out:
    sq_conn_put(st, c);
    return rc;
}

/* ---- API keys ---- */

static void read_key(sqlite3_stmt *s, hh_api_key *k)
{
    memset(k, 0, sizeof *k);
    sq_col_text(s, 0, k->id, sizeof k->id);
    sq_col_text(s, 1, k->user_id, sizeof k->user_id);
    sq_col_text(s, 2, k->name, sizeof k->name);
    sq_col_text(s, 3, k->prefix, sizeof k->prefix);
    k->created_at = sqlite3_column_int64(s, 4);
    k->last_used_at = sqlite3_column_int64(s, 5); /* NULL reads as 0: never used */
}

void sq_read_key_row(sqlite3_stmt *s, void *out)
{
    read_key(s, out);
}

hh_status sq_key_new(const char *user_id, const char *name, const char *prefix, hh_api_key *k)
{
    memset(k, 0, sizeof *k);
    if (!user_id || strnlen(user_id, HH_ID_LEN) >= HH_ID_LEN || !name ||
        strnlen(name, sizeof k->name) >= sizeof k->name || !prefix || !*prefix ||
        strnlen(prefix, sizeof k->prefix) >= sizeof k->prefix)
        return HH_ERR_INVALID;
    hh_status rc = uuid_v7(k->id);
    if (rc)
        return rc;
    memcpy(k->user_id, user_id, strlen(user_id) + 1);
    memcpy(k->name, name, strlen(name) + 1);
    memcpy(k->prefix, prefix, strlen(prefix) + 1);
    k->created_at = hh_time_now_ms();
    return HH_OK;
}

static hh_status sq_key_insert(hh_store *st, const char *user_id, const char *name,
                               const uint8_t hash[32], const char *prefix, hh_api_key *out)
{
    conn *c = NULL;
    hh_api_key k;
    hh_status rc = sq_key_new(user_id, name, prefix, &k);
    if (rc)
        return rc;

    rc = conn_get(st, &c);
    if (!rc)
        rc = sq_key_insert_on(c, &k, hash);
    if (!rc && out)
        *out = k;
    sq_conn_put(st, c);
    return rc;
}

hh_status sq_key_insert_on(conn *c, const hh_api_key *k, const uint8_t hash[CRYPTO_SHA256_LEN])
{
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &core_sql, S_KEY_INSERT, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, k->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, k->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, k->name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, hash, CRYPTO_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, k->prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, k->created_at);
    return sq_exec(c, s, "key insert");
}

static hh_status sq_key_lookup(hh_store *st, const uint8_t hash[CRYPTO_SHA256_LEN], hh_api_key *key,
                               hh_user *user)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &core_sql, S_KEY_LOOKUP, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
    rc = sq_step_one(c, s, "key lookup");
    if (!rc && key)
        read_key(s, key);
    if (!rc && user)
        read_user(s, 6, user);
    sq_done(s);
out:
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_key_list(hh_store *st, const char *user_id, hh_api_key **keys, size_t *n)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    *keys = NULL;
    *n = 0;
    hh_status rc = sq_borrow(st, &core_sql, S_KEY_LIST, &c, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, STORE_KEYS_MAX);
    rc = sq_collect_rows(c, s, sizeof **keys, sq_read_key_row, (void **)keys, n);
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_key_delete(hh_store *st, const char *user_id, const char *key_id)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    if (!user_id || !key_id)
        return HH_ERR_NOTFOUND;
    hh_status rc = sq_borrow(st, &core_sql, S_KEY_DELETE, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, hh_time_now_ms());
    rc = sq_exec_one(c, s, "key delete");
out:
    sq_conn_put(st, c);
    return rc;
}

/* The keys and times of one store_key_touch. */
typedef struct touch_call {
    const char *const *key_ids;
    const int64_t *used_at;
    size_t n;
} touch_call;

static hh_status touch_tx(conn *c, void *ctx)
{
    const touch_call *t = ctx;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &core_sql, S_KEY_TOUCH, &s);
    for (size_t i = 0; i < t->n && !rc; i++) {
        sqlite3_bind_text(s, 1, t->key_ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, t->used_at[i]);
        rc = sq_exec(c, s, "key touch");
    }
    return rc;
}

static hh_status sq_key_touch(hh_store *st, const char *const *key_ids, const int64_t *used_at,
                              size_t n)
{
    if (n == 0)
        return HH_OK;
    touch_call t = {key_ids, used_at, n};
    return sq_tx(st, touch_tx, &t);
}

/* ---- ledger ---- */

/*
 * The ledger step inside an open transaction on c (an sq_tx body): reads
 * the balance, refuses to go below zero, writes the new balance and the
 * row. Every change of a balance goes through here, inside the
 * transaction of the call that makes it: store_ledger_append, the charge
 * of store_video_create, the refund of a video that fails for good
 * (store_job_fail, or store_job_claim ending a spent lease) and
 * store_video_refund; so the invariant is kept in one place.
 */
hh_status sq_ledger_append_tx(conn *c, const char *user_id, int64_t amount, hh_ledger_kind kind,
                              const char *ref, const char *note, int64_t *balance_after)
{
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_stmt(c, &core_sql, S_BALANCE, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "balance");
    int64_t balance = rc ? 0 : sqlite3_column_int64(s, 0);
    sq_done(s);
    if (rc)
        return rc;
    if (amount < 0 ? balance < -amount : balance > INT64_MAX - amount) {
        if (balance_after)
            *balance_after = balance; /* what the refusal is measured against */
        return amount < 0 ? HH_ERR_CREDITS : HH_ERR_LIMIT;
    }
    int64_t next = balance + amount;

    rc = sq_stmt(c, &core_sql, S_BALANCE_SET, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, next);
    rc = sq_exec(c, s, "balance update");
    if (rc)
        return rc;

    rc = sq_stmt(c, &core_sql, S_LEDGER_INSERT, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, amount);
    sqlite3_bind_int64(s, 3, next);
    sqlite3_bind_text(s, 4, hh_ledger_kind_str(kind), -1, SQLITE_STATIC);
    sq_bind_text_or_null(s, 5, ref);
    sq_bind_text_or_null(s, 6, note);
    sqlite3_bind_int64(s, 7, hh_time_now_ms());
    rc = sq_exec(c, s, "ledger insert");
    if (!rc && balance_after)
        *balance_after = next;
    return rc;
}

static void read_entry_row(sqlite3_stmt *s, void *out)
{
    hh_ledger_entry *e = out;
    char kind[16];
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(s, 0);
    sq_col_text(s, 1, e->user_id, sizeof e->user_id);
    e->amount = sqlite3_column_int64(s, 2);
    e->balance_after = sqlite3_column_int64(s, 3);
    sq_col_text(s, 4, kind, sizeof kind);
    e->kind = store_ledger_kind_parse(kind);
    sq_col_text(s, 5, e->ref, sizeof e->ref);
    sq_col_text(s, 6, e->note, sizeof e->note);
    e->created_at = sqlite3_column_int64(s, 7);
}

/* The arguments of one store_ledger_append. */
typedef struct ledger_call {
    const char *user_id;
    int64_t amount;
    hh_ledger_kind kind;
    const char *ref, *note;
    int64_t *balance_after;
} ledger_call;

static hh_status ledger_append_tx(conn *c, void *ctx)
{
    const ledger_call *l = ctx;
    return sq_ledger_append_tx(c, l->user_id, l->amount, l->kind, l->ref, l->note,
                               l->balance_after);
}

static hh_status sq_ledger_append(hh_store *st, const char *user_id, int64_t amount,
                                  hh_ledger_kind kind, const char *ref, const char *note,
                                  int64_t *balance_after)
{
    ledger_call l = {user_id, amount, kind, ref, note, balance_after};
    return sq_tx(st, ledger_append_tx, &l);
}

static hh_status sq_ledger_list(hh_store *st, const char *user_id, int64_t before, int limit,
                                hh_ledger_entry **entries, size_t *n)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    *entries = NULL;
    *n = 0;
    hh_status rc = sq_borrow(st, &core_sql, S_LEDGER_LIST, &c, &s);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, before);
    sqlite3_bind_int(s, 3, limit);
    rc = sq_collect_rows(c, s, sizeof **entries, read_entry_row, (void **)entries, n);
    sq_conn_put(st, c);
    return rc;
}

static hh_status sq_ledger_sum(hh_store *st, const char *user_id, int64_t *sum)
{
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    hh_status rc = sq_borrow(st, &core_sql, S_LEDGER_SUM, &c, &s);
    if (rc)
        goto out;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    rc = sq_step_one(c, s, "ledger sum");
    if (!rc)
        *sum = sqlite3_column_int64(s, 0);
    sq_done(s);
out:
    sq_conn_put(st, c);
    return rc;
}

/* The operations of store.h this file implements, into the SQLite table. */
void sq_core_ops(store_ops *o)
{
    o->schema_version = sq_schema_version;
    o->ping = sq_ping;
    o->generation = sq_generation;
    o->user_create = sq_user_create;
    o->user_by_email = sq_user_by_email;
    o->user_by_id = sq_user_by_id;
    o->user_set_plan = sq_user_set_plan;
    o->user_set_api_access = sq_user_set_api_access;
    o->user_password_hash = sq_user_password_hash;
    o->key_insert = sq_key_insert;
    o->key_lookup = sq_key_lookup;
    o->key_list = sq_key_list;
    o->key_delete = sq_key_delete;
    o->key_touch = sq_key_touch;
    o->ledger_append = sq_ledger_append;
    o->ledger_list = sq_ledger_list;
    o->ledger_sum = sq_ledger_sum;
}
