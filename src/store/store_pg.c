/*
 * store_pg.c - the core of the PostgreSQL implementation of store.h
 * (store_pg_int.h): the connection pool, each connection's prepared
 * statements, the mapping of PostgreSQL's errors to hh_status, the
 * transaction helpers that retry what PostgreSQL asks to retry, opening and
 * migrating, and the core operations (schema version, ping, health,
 * generation). docs/internals/store_pg.md tells the whole design.
 *
 * Connections: at most POOL_MAX libpq connections per store, made lazily
 * and guarded by a mutex and a condition variable; a call borrows one for
 * its whole duration, so a connection is only ever used by one thread at a
 * time. A connection found dead when it is borrowed (the server restarted,
 * an operator killed its backend) is reset first, and forgets the
 * statements it had prepared, since the new session has none.
 *
 * Nothing here is global: two stores (two nodes in one test) share nothing.
 */
#include "store/migrations_pg.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store/store_pg_int.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL_MAX 16
/* Runs of a transaction body at most (the first and its retries). */
#define TX_TRIES 8
/* libpq's connect_timeout (seconds) of the pool's connections, unless the URL sets one. */
#define CONNECT_TIMEOUT_S "10"
/* The advisory lock of migrations ("hhmigrat"): one node migrates while the others wait. */
#define MIGRATE_LOCK_KEY 0x68686d6967726174LL

_Static_assert(PG_STMTS_MAX <= 64, "a connection's prepared set is one uint64_t per file");

struct pg_conn {
    PGconn *db;
    uint64_t prepared[PG_FILE_COUNT]; /* bit id of row file: prepared on this session */
};

typedef struct pg_store {
    hh_store base; /* first: the store.h handle is this */
    char *url;
    int version;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pg_conn *idle[POOL_MAX]; /* connections not borrowed */
    size_t nidle;
    size_t nopen; /* idle + borrowed + being opened */
    int opened;   /* 1 once pg_open succeeded: a failed connect is then the database away */
} pg_store;

/* This file's statements: the SQL of each in core_text, the prepared row PG_FILE_CORE. */
enum core_stmt {
    C_BEGIN,
    C_BEGIN_SERIAL,
    C_COMMIT,
    C_ROLLBACK,
    C_SAVEPOINT,
    C_RELEASE,
    C_ROLLBACK_TO,
    C_PING,
    C_MIGRATE_LOCK,
    C_VERSION_TABLE,
    C_VERSION_ROW,
    C_VERSION_GET,
    C_VERSION_SET,
    C_NOW,
    C_COUNT
};
_Static_assert(C_COUNT <= PG_STMTS_MAX, "raise PG_STMTS_MAX in store_pg_int.h");

/* One savepoint name serves nesting: ROLLBACK TO and RELEASE take the innermost of that name. */
static const char *const core_text[C_COUNT] = {
    [C_BEGIN] = "BEGIN ISOLATION LEVEL READ COMMITTED",
    [C_BEGIN_SERIAL] = "BEGIN ISOLATION LEVEL SERIALIZABLE",
    [C_COMMIT] = "COMMIT",
    [C_ROLLBACK] = "ROLLBACK",
    [C_SAVEPOINT] = "SAVEPOINT hh_sub",
    [C_RELEASE] = "RELEASE SAVEPOINT hh_sub",
    [C_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT hh_sub",
    [C_PING] = "SELECT 1",
    [C_MIGRATE_LOCK] = "SELECT pg_advisory_xact_lock($1::bigint)",
    [C_VERSION_TABLE] = "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)",
    [C_VERSION_ROW] = ("INSERT INTO schema_version (version)"
                       " SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version)"),
    [C_VERSION_GET] = "SELECT version FROM schema_version",
    [C_VERSION_SET] = "UPDATE schema_version SET version = $1::bigint",
    [C_NOW] = "SELECT hh_now_ms()",
};
static const pg_sql core_sql = {PG_FILE_CORE, C_COUNT, core_text};

/* The PostgreSQL store behind a store.h handle (every handle this file is given is one). */
static pg_store *pg_of(hh_store *st)
{
    return (pg_store *)st;
}

PGconn *pg_db(pg_conn *c)
{
    return c->db;
}

/* ---- parameters and columns ---- */

const char *pg_i64(pg_num *b, int64_t v)
{
    snprintf(b->s, sizeof b->s, "%" PRId64, v);
    return b->s;
}

const char *pg_bytea_hex(const uint8_t *data, size_t len, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    if (size < 2 * len + 3) {
        hh_error("store: a bytea parameter of %zu bytes does not fit in %zu", len, size);
        return NULL;
    }
    char *p = buf;
    *p++ = '\\';
    *p++ = 'x';
    for (size_t i = 0; i < len; i++) {
        *p++ = hex[data[i] >> 4];
        *p++ = hex[data[i] & 15];
    }
    *p = '\0';
    return buf;
}

int pg_col_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col);
}

int64_t pg_col_i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

double pg_col_f64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtod(PQgetvalue(r, row, col), NULL);
}

void pg_col_text(const PGresult *r, int row, int col, char *buf, size_t size)
{
    size_t n = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(buf, PQgetvalue(r, row, col), n);
    buf[n] = '\0';
}

char *pg_col_strdup(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

long pg_col_bytea(const PGresult *r, int row, int col, uint8_t *buf, size_t size)
{
    if (PQgetisnull(r, row, col))
        return 0;
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
    long got = -1;
    if (raw && n <= size) {
        if (n)
            memcpy(buf, raw, n);
        got = (long)n;
    }
    PQfreemem(raw);
    return got;
}

/* ---- errors ---- */

/* 1 when the session of c is gone (its server process ended or the socket broke). */
static int conn_lost(const pg_conn *c)
{
    return PQstatus(c->db) == CONNECTION_BAD;
}

/* The hh_status of a SQLSTATE; *expected says it is the caller's case, not worth a log line. */
static hh_status map_sqlstate(const char *state, int *expected)
{
    *expected = 1;
    if (!strcmp(state, "23505"))
        return HH_ERR_EXISTS;
    if (!strcmp(state, "23503"))
        return HH_ERR_NOTFOUND;
    if (!strncmp(state, "23", 2) || !strcmp(state, "P0001"))
        return HH_ERR_CONFLICT;
    *expected = 0;
    /* Serialization failure, deadlock; an ended session (57P0x) or a broken link (08xxx). */
    if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strncmp(state, "57P0", 4) ||
        !strncmp(state, "08", 2))
        return HH_ERR_BUSY;
    return HH_ERR_DB;
}

/* Copies the first line of libpq's message msg (which ends in a newline) into buf. */
static const char *one_line(const char *msg, char *buf, size_t size)
{
    size_t n = msg ? strcspn(msg, "\n") : 0;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(buf, msg, n);
    buf[n] = '\0';
    return buf;
}

/*
 * HH_OK when r is the result of a statement that succeeded, else the
 * mapped error (store_pg_int.h, pg_query), logged unless it is one of the
 * integrity cases a caller expects. what names the statement.
 */
static hh_status check_result(pg_conn *c, const PGresult *r, const char *what)
{
    ExecStatusType s = PQresultStatus(r);
    if (r && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK))
        return HH_OK;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    int expected = 0;
    hh_status rc;
    if (state)
        rc = map_sqlstate(state, &expected);
    else
        rc = conn_lost(c) ? HH_ERR_BUSY : HH_ERR_DB;
    if (expected)
        return rc;
    char line[256];
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    one_line(primary ? primary : PQerrorMessage(c->db), line, sizeof line);
    hh_log(rc == HH_ERR_BUSY ? HH_LOG_WARN : HH_LOG_ERROR, "store: %.80s: %s (SQLSTATE %s)%s", what,
           line, state ? state : "none", conn_lost(c) ? ", connection lost" : "");
    return rc;
}

/* ---- running statements ---- */

/* Prepares statement id of q on c unless this session has it already (named hh_<file>_<id>). */
static hh_status stmt_prepare(pg_conn *c, const pg_sql *q, int id, char *name, size_t size)
{
    if (id < 0 || id >= q->n || id >= PG_STMTS_MAX || !q->text[id]) {
        hh_error("store: file %d has no statement %d", (int)q->file, id);
        return HH_ERR_INVALID;
    }
    snprintf(name, size, "hh_%d_%d", (int)q->file, id);
    uint64_t bit = UINT64_C(1) << id;
    if (c->prepared[q->file] & bit)
        return HH_OK;
    PGresult *r = PQprepare(c->db, name, q->text[id], 0, NULL);
    hh_status rc = check_result(c, r, q->text[id]);
    PQclear(r);
    if (!rc)
        c->prepared[q->file] |= bit;
    return rc;
}

hh_status pg_query(pg_conn *c, const pg_sql *q, int id, int n, const char *const *params,
                   PGresult **res)
{
    char name[32];
    *res = NULL;
    hh_status rc = stmt_prepare(c, q, id, name, sizeof name);
    if (rc)
        return rc;
    PGresult *r = PQexecPrepared(c->db, name, n, params, NULL, NULL, 0);
    rc = check_result(c, r, q->text[id]);
    if (rc) {
        PQclear(r);
        return rc;
    }
    *res = r;
    return HH_OK;
}

hh_status pg_exec(pg_conn *c, const pg_sql *q, int id, int n, const char *const *params)
{
    PGresult *r = NULL;
    hh_status rc = pg_query(c, q, id, n, params, &r);
    PQclear(r);
    return rc;
}

/* HH_ERR_NOTFOUND when the statement of r changed no row. */
static hh_status changed_one(const PGresult *r)
{
    return strtol(PQcmdTuples((PGresult *)r), NULL, 10) > 0 ? HH_OK : HH_ERR_NOTFOUND;
}

hh_status pg_exec_one(pg_conn *c, const pg_sql *q, int id, int n, const char *const *params)
{
    PGresult *r = NULL;
    hh_status rc = pg_query(c, q, id, n, params, &r);
    if (!rc)
        rc = changed_one(r);
    PQclear(r);
    return rc;
}

hh_status pg_one(pg_conn *c, const pg_sql *q, int id, int n, const char *const *params,
                 PGresult **res)
{
    hh_status rc = pg_query(c, q, id, n, params, res);
    if (!rc && PQntuples(*res) == 0) {
        PQclear(*res);
        *res = NULL;
        rc = HH_ERR_NOTFOUND;
    }
    return rc;
}

hh_status pg_now(pg_conn *c, int64_t *now)
{
    PGresult *r = NULL;
    hh_status rc = pg_one(c, &core_sql, C_NOW, 0, NULL, &r);
    *now = rc ? 0 : pg_col_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

const char *pg_text_or_null(const char *s)
{
    return s && *s ? s : NULL;
}

hh_status pg_collect_rows(const PGresult *r, size_t elem,
                          void (*read)(const PGresult *r, int row, void *out), void **out,
                          size_t *n)
{
    int rows = PQntuples(r);
    *out = NULL;
    *n = 0;
    if (rows == 0)
        return HH_OK;
    char *arr = calloc((size_t)rows, elem);
    if (!arr)
        return HH_ERR_NOMEM;
    for (int i = 0; i < rows; i++)
        read(r, i, arr + (size_t)i * elem);
    *out = arr;
    *n = (size_t)rows;
    return HH_OK;
}

/* Runs this file's statement id, which takes no parameters, for its effect. */
static hh_status run_core(pg_conn *c, enum core_stmt id)
{
    return pg_exec(c, &core_sql, id, 0, NULL);
}

/* ---- connections and the pool ---- */

/* Notices (CREATE ... IF NOT EXISTS skipping) are not problems: they stay off stderr. */
static void notice_drop(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/*
 * A new libpq connection to url with extra (keyword, value) settings placed
 * after the URL's, so they win; never NULL (libpq says why in a bad one).
 */
static PGconn *connect_url(const char *url, const char *const *extra_kw,
                           const char *const *extra_val, size_t nextra)
{
    /* Settings before the URL are defaults it may override. */
    const char *kw[8] = {"connect_timeout", "client_encoding", "fallback_application_name",
                         "dbname"};
    const char *val[8] = {CONNECT_TIMEOUT_S, "UTF8", "happyhorse", url};
    size_t n = 4;
    for (size_t i = 0; i < nextra && n < 7; i++, n++) {
        kw[n] = extra_kw[i];
        val[n] = extra_val[i];
    }
    kw[n] = val[n] = NULL;
    PGconn *db = PQconnectdbParams(kw, val, 1);
    if (db)
        PQsetNoticeProcessor(db, notice_drop, NULL);
    return db;
}

static void conn_close(pg_conn *c)
{
    if (!c)
        return;
    PQfinish(c->db);
    free(c);
}

static hh_status conn_open(pg_store *ps, pg_conn **out)
{
    char line[160];
    pg_conn *c = calloc(1, sizeof *c);
    if (!c)
        return HH_ERR_NOMEM;
    c->db = connect_url(ps->url, NULL, NULL, 0);
    if (!c->db) {
        free(c);
        return HH_ERR_NOMEM;
    }
    if (PQstatus(c->db) != CONNECTION_OK) {
        hh_error("store: cannot connect to PostgreSQL: %s",
                 one_line(PQerrorMessage(c->db), line, sizeof line));
        conn_close(c);
        return HH_ERR_IO;
    }
    *out = c;
    return HH_OK;
}

/*
 * Makes sure a connection taken from the idle list still has its session:
 * reading what the server sent while it was idle shows a backend that was
 * terminated (its last message and the end of the stream), and such a
 * connection is reset, with an empty prepared set like its new session.
 */
static hh_status conn_check(pg_conn *c)
{
    char line[160];
    /* Twice: the first read may take the server's last message, the second meets the end. */
    if (PQstatus(c->db) == CONNECTION_OK && PQconsumeInput(c->db) && PQconsumeInput(c->db) &&
        PQstatus(c->db) == CONNECTION_OK)
        return HH_OK;
    hh_warn("store: a pooled PostgreSQL connection was lost; reconnecting");
    memset(c->prepared, 0, sizeof c->prepared);
    PQreset(c->db);
    if (PQstatus(c->db) == CONNECTION_OK)
        return HH_OK;
    hh_error("store: cannot reconnect to PostgreSQL: %s",
             one_line(PQerrorMessage(c->db), line, sizeof line));
    return HH_ERR_IO;
}

/* One connection fewer in the pool (it was closed or never opened): a waiter may open one. */
static void pool_drop(pg_store *ps)
{
    pthread_mutex_lock(&ps->mu);
    ps->nopen--;
    pthread_cond_signal(&ps->cv);
    pthread_mutex_unlock(&ps->mu);
}

hh_status pg_borrow(hh_store *st, pg_conn **out)
{
    pg_store *ps = pg_of(st);
    pg_conn *c = NULL;
    hh_status rc;
    *out = NULL;
    pthread_mutex_lock(&ps->mu);
    while (ps->nidle == 0 && ps->nopen >= POOL_MAX)
        pthread_cond_wait(&ps->cv, &ps->mu);
    if (ps->nidle > 0) {
        c = ps->idle[--ps->nidle];
        pthread_mutex_unlock(&ps->mu);
        rc = conn_check(c);
        if (rc)
            conn_close(c);
    } else {
        ps->nopen++;
        pthread_mutex_unlock(&ps->mu);
        rc = conn_open(ps, &c);
    }
    if (rc) {
        pool_drop(ps);
        /* Once the store is open, a database that cannot be reached is away for a while (a
         * restart, a failover): busy, so pg_tx tries again and a request answers 503. */
        return rc == HH_ERR_IO && ps->opened ? HH_ERR_BUSY : rc;
    }
    *out = c;
    return HH_OK;
}

void pg_put(hh_store *st, pg_conn *c)
{
    pg_store *ps = pg_of(st);
    if (!c)
        return;
    PGTransactionStatusType t = PQtransactionStatus(c->db);
    if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR) {
        hh_error("store: connection returned inside a transaction; rolling back");
        run_core(c, C_ROLLBACK);
    }
    pthread_mutex_lock(&ps->mu);
    ps->idle[ps->nidle++] = c;
    pthread_cond_signal(&ps->cv);
    pthread_mutex_unlock(&ps->mu);
}

/* ---- transactions ---- */

/* ROLLBACK when c is inside a transaction (a lost connection has none left to end). */
static void tx_rollback(pg_conn *c)
{
    PGTransactionStatusType t = PQtransactionStatus(c->db);
    if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR)
        run_core(c, C_ROLLBACK);
}

/*
 * COMMIT, unless a statement of the body failed and the body went on
 * anyway (PostgreSQL would answer that COMMIT with a rollback): that is a
 * bug of the body (it should have used pg_sub), so it is not committed.
 */
static hh_status tx_commit(pg_conn *c)
{
    if (PQtransactionStatus(c->db) == PQTRANS_INERROR) {
        hh_error("store: a transaction body went on after a failed statement; rolled back");
        return HH_ERR_INTERNAL;
    }
    hh_status rc = run_core(c, C_COMMIT);
    /* A COMMIT whose connection was lost may have committed or not: running the body again
     * could apply it twice (a second charge), so that outcome is not retried but reported. */
    if (rc == HH_ERR_BUSY && conn_lost(c)) {
        hh_error("store: the connection was lost during COMMIT; the outcome is unknown");
        return HH_ERR_DB;
    }
    return rc;
}

/* One run of a transaction: borrow, begin, body, commit (or roll back), give back. */
static hh_status tx_once(hh_store *st, enum core_stmt begin, pg_tx_fn fn, void *ctx)
{
    pg_conn *c = NULL;
    hh_status rc = pg_borrow(st, &c);
    if (rc)
        return rc;
    rc = run_core(c, begin);
    if (!rc)
        rc = fn(c, ctx);
    if (!rc)
        rc = tx_commit(c);
    if (rc)
        tx_rollback(c);
    pg_put(st, c);
    return rc;
}

/* The pause before retry number attempt (1..): 2^(attempt-1) ms plus up to as much jitter. */
static void tx_backoff(int attempt)
{
    int64_t base_us = INT64_C(1000) << (attempt - 1);
    uint64_t x = (uint64_t)hh_time_mono_us() ^ ((uint64_t)(uintptr_t)&x << 7);
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    int64_t us = base_us + (int64_t)(x % (uint64_t)base_us);
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Runs a transaction, again after a growing pause while it ends in HH_ERR_BUSY. */
static hh_status tx_run(hh_store *st, enum core_stmt begin, pg_tx_fn fn, void *ctx)
{
    hh_status rc = HH_OK;
    for (int attempt = 0; attempt < TX_TRIES; attempt++) {
        if (attempt)
            tx_backoff(attempt);
        rc = tx_once(st, begin, fn, ctx);
        if (rc != HH_ERR_BUSY)
            break;
    }
    return rc;
}

hh_status pg_tx(hh_store *st, pg_tx_fn fn, void *ctx)
{
    return tx_run(st, C_BEGIN, fn, ctx);
}

hh_status pg_tx_serial(hh_store *st, pg_tx_fn fn, void *ctx)
{
    return tx_run(st, C_BEGIN_SERIAL, fn, ctx);
}

hh_status pg_sub(pg_conn *c, pg_tx_fn fn, void *ctx)
{
    hh_status rc = run_core(c, C_SAVEPOINT);
    if (rc)
        return rc;
    rc = fn(c, ctx);
    if (rc) {
        /* Back to the savepoint, then drop it, so an enclosing pg_sub finds its own. */
        if (!run_core(c, C_ROLLBACK_TO))
            run_core(c, C_RELEASE);
        return rc;
    }
    return run_core(c, C_RELEASE);
}

/*
 * One statement in autocommit. The connection was checked when borrowed;
 * if it is lost all the same (its backend ended between that check and
 * the statement), the statement runs once more on a fresh session.
 */
hh_status pg_run(hh_store *st, const pg_sql *q, int id, int n, const char *const *params,
                 PGresult **res)
{
    PGresult *r = NULL;
    hh_status rc;
    for (int tries = 0;; tries++) {
        pg_conn *c = NULL;
        rc = pg_borrow(st, &c);
        if (rc)
            break;
        rc = pg_query(c, q, id, n, params, &r);
        int lost = rc == HH_ERR_BUSY && conn_lost(c);
        pg_put(st, c);
        if (!lost || tries)
            break;
    }
    if (res)
        *res = r;
    else
        PQclear(r);
    return rc;
}

hh_status pg_run_one(hh_store *st, const pg_sql *q, int id, int n, const char *const *params)
{
    PGresult *r = NULL;
    hh_status rc = pg_run(st, q, id, n, params, &r);
    if (!rc)
        rc = changed_one(r);
    PQclear(r);
    return rc;
}

/* ---- opening and migrations ---- */

/* What one migration transaction found (version) and whether it was the last. */
typedef struct migration_step {
    int target;
    int version; /* the schema version read at the start of the step */
    int done;    /* version >= target: nothing was applied */
} migration_step;

/* Under the migration lock: schema_version's row (made at the first start), read into *version. */
static hh_status version_read(pg_conn *c, int *version)
{
    pg_num key;
    const char *p[] = {pg_i64(&key, MIGRATE_LOCK_KEY)};
    PGresult *r = NULL;
    hh_status rc = pg_exec(c, &core_sql, C_MIGRATE_LOCK, 1, p);
    if (!rc)
        rc = run_core(c, C_VERSION_TABLE);
    if (!rc)
        rc = run_core(c, C_VERSION_ROW);
    if (!rc)
        rc = pg_one(c, &core_sql, C_VERSION_GET, 0, NULL, &r);
    if (!rc)
        *version = (int)pg_col_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

/*
 * The body of one migration transaction: takes the advisory lock (held to
 * its end, so a second node waits here and then reads the version this one
 * wrote), reads the version and applies the next step with its bump.
 */
static hh_status migrate_step(pg_conn *c, void *ctx)
{
    migration_step *m = ctx;
    int v = 0;
    hh_status rc = version_read(c, &v);
    if (rc)
        return rc;
    if (v > (int)store_pg_migration_count) {
        hh_error("store: database schema version %d is newer than this binary's (%zu)", v,
                 store_pg_migration_count);
        return HH_ERR_CONFLICT;
    }
    m->version = v;
    m->done = v >= m->target;
    if (m->done)
        return HH_OK;
    const store_migration *step = &store_pg_migrations[v];
    /* Several statements in one simple query: not a prepared statement. */
    PGresult *r = PQexec(c->db, step->sql);
    rc = check_result(c, r, step->name);
    PQclear(r);
    if (rc) {
        hh_error("store: migration %d (%s) failed", v + 1, step->name);
        return rc;
    }
    pg_num next;
    const char *p[] = {pg_i64(&next, v + 1)};
    return pg_exec_one(c, &core_sql, C_VERSION_SET, 1, p);
}

/* Brings the database up to target, one step per transaction (each retried like any). */
static hh_status migrate(hh_store *st, int target)
{
    migration_step m = {.target = target};
    for (;;) {
        hh_status rc = pg_tx(st, migrate_step, &m);
        if (rc)
            return rc;
        if (m.done) {
            pg_of(st)->version = m.version;
            return HH_OK;
        }
        hh_info("store: applied migration %d (%s)", m.version + 1,
                store_pg_migrations[m.version].name);
    }
}

void pg_close(hh_store *st)
{
    pg_store *ps = pg_of(st);
    if (!ps)
        return;
    /* Every call has returned its connection by now (the caller's contract). */
    for (size_t i = 0; i < ps->nidle; i++)
        conn_close(ps->idle[i]);
    pthread_cond_destroy(&ps->cv);
    pthread_mutex_destroy(&ps->mu);
    free(ps->url);
    free(ps);
}

hh_status pg_open(const char *url, int version, const store_ops *ops, hh_store **out)
{
    hh_status rc;
    *out = NULL;
    if (version == 0)
        version = (int)store_pg_migration_count;
    if (version < 1 || version > (int)store_pg_migration_count)
        return HH_ERR_INVALID;
    pg_store *ps = calloc(1, sizeof *ps);
    if (!ps)
        return HH_ERR_NOMEM;
    ps->base.ops = ops;
    hh_store *st = &ps->base;
    pthread_mutex_init(&ps->mu, NULL);
    pthread_cond_init(&ps->cv, NULL);
    ps->url = strdup(url);
    if (!ps->url) {
        rc = HH_ERR_NOMEM;
        goto fail;
    }
    rc = migrate(st, version);
    if (rc)
        goto fail;
    ps->opened = 1;
    *out = st;
    return HH_OK;
fail:
    pg_close(st);
    return rc;
}

/* ---- the core operations ---- */

static int pg_schema_version(hh_store *st)
{
    return pg_of(st)->version;
}

/*
 * Always 0, "changes are not tracked": PostgreSQL's commits come from every
 * node, so no counter this process can read without a query sees them
 * all, and 0 tells the read cache to keep nothing it read.
 */
static uint64_t pg_generation(hh_store *st)
{
    (void)st;
    return 0;
}

static hh_status pg_ping(hh_store *st)
{
    return pg_run(st, &core_sql, C_PING, 0, NULL, NULL);
}

/*
 * For /readyz: a fresh connection (so a pooled one cannot hide a server
 * that stopped taking new ones) that must connect and answer SELECT 1
 * within budget_ms. PostgreSQL checks its own pages, so there is no scan
 * to cut short: checked_all is always 1.
 */
static hh_status pg_health(hh_store *st, int budget_ms, hh_store_health *out)
{
    char timeout_s[16], sql[64], line[120];
    int ms = budget_ms > 0 ? budget_ms : 1;
    memset(out, 0, sizeof *out);
    out->checked_all = 1;
    /* libpq counts whole seconds (and takes 1 as 2); the statement timeout keeps the budget. */
    snprintf(timeout_s, sizeof timeout_s, "%d", (ms + 999) / 1000);
    snprintf(sql, sizeof sql, "SET statement_timeout = %d; SELECT 1", ms);
    const char *kw[] = {"connect_timeout"};
    const char *val[] = {timeout_s};
    PGconn *db = connect_url(pg_of(st)->url, kw, val, 1);
    if (!db)
        return HH_ERR_NOMEM;
    if (PQstatus(db) != CONNECTION_OK) {
        snprintf(out->problem, sizeof out->problem, "database cannot be reached: %s",
                 one_line(PQerrorMessage(db), line, sizeof line));
    } else {
        PGresult *r = PQexec(db, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            snprintf(out->problem, sizeof out->problem, "database does not answer: %s",
                     one_line(PQerrorMessage(db), line, sizeof line));
        PQclear(r);
    }
    PQfinish(db);
    out->ok = !out->problem[0];
    return HH_OK;
}

/* The operations of store.h this file implements, into the PostgreSQL table. */
void pg_core_ops(store_ops *o)
{
    o->schema_version = pg_schema_version;
    o->ping = pg_ping;
    o->health = pg_health;
    o->generation = pg_generation;
}
