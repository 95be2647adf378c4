/*
 * test_store_pg_core.c - the core of the PostgreSQL store (store_pg.c) on a
 * real cluster: migrations (fresh, reopen, stepwise upgrade, a newer schema
 * refused, two nodes starting at once), pg_tx's commit, rollback and retries
 * (a body that asks for it, a real serialization failure), pg_sub, the
 * mapping of PostgreSQL's errors, a pooled connection whose backend was
 * killed, health, and the pool under many threads.
 *
 * Each test gets a database of its own on the suite's cluster from the
 * store fixture (sf_new_pg); without a cluster they fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <unistd.h>

#include "store/migrations_pg.h"
#include "store/store.h"
#include "store/store_pg_int.h"
#include "support/store_fixture.h"

/* The test's own statements (PG_FILE_TEST). */
enum test_stmt {
    T_TABLE,
    T_INSERT,
    T_COUNT_ROWS,
    T_READ,
    T_SET,
    T_PID,
    T_USER,
    T_USER_CREDITS,
    T_KEY,
    T_LEDGER,
    T_LEDGER_UPDATE,
    T_LEDGER_DELETE,
    T_BAD_SQL,
    T_SEQUENCE,
    T_SUICIDE,
    T_COUNT
};
_Static_assert(T_COUNT <= PG_STMTS_MAX, "raise PG_STMTS_MAX");

static const char *const test_text[T_COUNT] = {
    [T_TABLE] = "CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT NOT NULL DEFAULT 0)",
    [T_INSERT] = "INSERT INTO t (id, n) VALUES ($1::bigint, $2::bigint)",
    [T_COUNT_ROWS] = "SELECT count(*) FROM t",
    [T_READ] = "SELECT n FROM t WHERE id = $1::bigint",
    [T_SET] = "UPDATE t SET n = $2::bigint WHERE id = $1::bigint",
    [T_PID] = "SELECT pg_backend_pid()",
    [T_USER] = "INSERT INTO users (id, email, plan, created_at) VALUES ($1, $2, 'free', 1)",
    [T_USER_CREDITS] = "INSERT INTO users (id, email, plan, credits, created_at)"
                       " VALUES ($1, $2, 'free', -1, 1)",
    [T_KEY] = "INSERT INTO api_keys (id, user_id, name, hash, prefix, created_at)"
              " VALUES ('k', $1, 'n', $2::bytea, 'p', 1)",
    [T_LEDGER] = "INSERT INTO ledger (user_id, amount, balance_after, kind, created_at)"
                 " VALUES ($1, 5, 5, 'grant', 1)",
    [T_LEDGER_UPDATE] = "UPDATE ledger SET note = 'rewritten'",
    [T_LEDGER_DELETE] = "DELETE FROM ledger",
    [T_BAD_SQL] = "SELEKT 1",
    [T_SEQUENCE] = "CREATE SEQUENCE runs",
    /* Counts its runs in a sequence (not rolled back), then ends its own session. */
    [T_SUICIDE] = "SELECT nextval('runs'), pg_terminate_backend(pg_backend_pid())",
};
static const pg_sql test_sql = {PG_FILE_TEST, T_COUNT, test_text};

typedef struct fixture {
    store_fixture *loc; /* this test's database */
    hh_store *st;       /* opened by the test, closed by teardown */
} fixture;

/* The integer of the first column of the first row of sql on the test's database. */
static int64_t admin_i64(fixture *f, const char *sql)
{
    int64_t v = 0;
    if (sf_query_int(f->loc, sql, &v))
        fail_msg("%s: %s", sql, sf_error(f->loc));
    return v;
}

/* Runs sql on a connection of its own to the test's database; 0 when it succeeded. */
static int admin_exec(fixture *f, const char *sql)
{
    int rc = sf_exec(f->loc, sql);
    if (rc)
        fprintf(stderr, "admin: %s: %s\n", sql, sf_error(f->loc));
    return rc;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = sf_close_free(f->loc, f->st);
    free(f);
    return rc;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    return sf_setup_end(state, teardown, sf_new_pg(&f->loc));
}

/* Opens the test's store at the latest version and makes table t. */
static hh_store *open_with_table(fixture *f)
{
    assert_int_equal(store_open(sf_location(f->loc), &f->st), HH_OK);
    assert_int_equal(pg_run(f->st, &test_sql, T_TABLE, 0, NULL, NULL), HH_OK);
    return f->st;
}

/* Inserts row (id, n) of t on c. */
static hh_status insert_on(pg_conn *c, int64_t id, int64_t n)
{
    pg_num a, b;
    const char *p[] = {pg_i64(&a, id), pg_i64(&b, n)};
    return pg_exec(c, &test_sql, T_INSERT, 2, p);
}

/* ---- migrations ---- */

/* The same steps, by name and number, as SQLite's: what sf_latest_version relies on. */
static void test_migration_lists_match(void **state)
{
    (void)state;
    assert_int_equal(store_pg_migration_count, store_sqlite_migration_count);
    for (size_t i = 0; i < store_pg_migration_count; i++)
        assert_string_equal(store_pg_migrations[i].name, store_sqlite_migrations[i].name);
}

static void test_fresh_migration(void **state)
{
    fixture *f = *state;
    assert_int_equal(store_open(sf_location(f->loc), &f->st), HH_OK);
    assert_int_equal(store_schema_version(f->st), (int)store_pg_migration_count);
    assert_int_equal(admin_i64(f, "SELECT version FROM schema_version"),
                     (int64_t)store_pg_migration_count);
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM schema_version"), 1);
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM information_schema.columns"
                                  " WHERE table_name = 'videos' AND column_name = 'favorite'"),
                     1);
    /* hh_now_ms() is the database's clock in ms: within a minute of this machine's. */
    int64_t now = admin_i64(f, "SELECT hh_now_ms()");
    int64_t mine = (int64_t)time(NULL) * 1000;
    assert_true(now > mine - 60000 && now < mine + 60000);
    assert_int_equal(store_ping(f->st), HH_OK);
    assert_int_equal(store_generation(f->st), 0);
}

static void test_reopen_is_noop(void **state)
{
    fixture *f = *state;
    open_with_table(f);
    assert_int_equal(
        pg_run(f->st, &test_sql, T_USER, 2, (const char *const[]){"u1", "one@example.com"}, NULL),
        HH_OK);
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(sf_location(f->loc), &f->st), HH_OK);
    assert_int_equal(store_schema_version(f->st), (int)store_pg_migration_count);
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM users"), 1);
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM schema_version"), 1);
}

static void test_open_at_version_then_upgrade(void **state)
{
    fixture *f = *state;
    assert_int_equal(store_open_version(sf_location(f->loc), 3, &f->st), HH_OK);
    assert_int_equal(store_schema_version(f->st), 3);
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM pg_class WHERE relname = 'ledger'"), 1);
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM pg_class WHERE relname = 'uploads'"), 0);
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(sf_location(f->loc), &f->st), HH_OK);
    assert_int_equal(store_schema_version(f->st), (int)store_pg_migration_count);
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM pg_class WHERE relname = 'uploads'"), 1);
    /* Asking for an older version of a newer database changes nothing. */
    hh_store *old = NULL;
    assert_int_equal(store_open_version(sf_location(f->loc), 3, &old), HH_OK);
    assert_int_equal(store_schema_version(old), (int)store_pg_migration_count);
    store_close(old);
}

static void test_newer_schema_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(store_open(sf_location(f->loc), &f->st), HH_OK);
    store_close(f->st);
    f->st = NULL;
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE schema_version SET version = %zu",
             store_pg_migration_count + 1);
    assert_int_equal(admin_exec(f, sql), 0);
    hh_store *st = NULL;
    assert_int_equal(store_open(sf_location(f->loc), &st), HH_ERR_CONFLICT);
    assert_null(st);
}

typedef struct opener {
    const char *url;
    pthread_barrier_t *start;
    hh_status rc;
    int version;
} opener;

static void *open_close(void *arg)
{
    opener *o = arg;
    hh_store *st = NULL;
    pthread_barrier_wait(o->start);
    o->rc = store_open(o->url, &st);
    o->version = st ? store_schema_version(st) : -1;
    store_close(st);
    return NULL;
}

static void test_two_nodes_migrate_once(void **state)
{
    fixture *f = *state;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    opener o[2] = {{sf_location(f->loc), &start, HH_ERR_INTERNAL, 0},
                   {sf_location(f->loc), &start, HH_ERR_INTERNAL, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, open_close, &o[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(o[i].rc, HH_OK);
        assert_int_equal(o[i].version, (int)store_pg_migration_count);
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM schema_version"), 1);
    assert_int_equal(admin_i64(f, "SELECT version FROM schema_version"),
                     (int64_t)store_pg_migration_count);
}

/* ---- transactions ---- */

/* A body: inserts row 1, then ends in fail_with for its first fail_runs runs. */
typedef struct body_ctx {
    int runs;
    int fail_runs;
    hh_status fail_with;
} body_ctx;

static hh_status insert_body(pg_conn *c, void *arg)
{
    body_ctx *b = arg;
    b->runs++;
    hh_status rc = insert_on(c, 1, b->runs);
    if (!rc && b->runs <= b->fail_runs)
        rc = b->fail_with;
    return rc;
}

/* A buggy body: its statement fails (row 1 is there) and it carries on. */
static hh_status ignoring_body(pg_conn *c, void *arg)
{
    (void)arg;
    (void)insert_on(c, 1, 0);
    return insert_on(c, 5, 0) == HH_OK ? HH_ERR_INTERNAL : HH_OK;
}

static void test_tx_commit_rollback_retry(void **state)
{
    fixture *f = *state;
    hh_store *st = open_with_table(f);

    body_ctx fail = {.fail_runs = 100, .fail_with = HH_ERR_CONFLICT};
    assert_int_equal(pg_tx(st, insert_body, &fail), HH_ERR_CONFLICT);
    assert_int_equal(fail.runs, 1);
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM t"), 0);

    body_ctx busy_once = {.fail_runs = 1, .fail_with = HH_ERR_BUSY};
    assert_int_equal(pg_tx(st, insert_body, &busy_once), HH_OK);
    assert_int_equal(busy_once.runs, 2);
    assert_int_equal(admin_i64(f, "SELECT n FROM t WHERE id = 1"), 2);

    /* A body that is always busy gives up after 8 runs. */
    assert_int_equal(admin_exec(f, "DELETE FROM t"), 0);
    body_ctx busy = {.fail_runs = 100, .fail_with = HH_ERR_BUSY};
    assert_int_equal(pg_tx(st, insert_body, &busy), HH_ERR_BUSY);
    assert_int_equal(busy.runs, 8);
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM t"), 0);

    /* A body that ignores a failed statement is not committed. */
    assert_int_equal(admin_exec(f, "INSERT INTO t VALUES (1, 0)"), 0);
    assert_int_equal(pg_tx(st, ignoring_body, NULL), HH_ERR_INTERNAL);
}

/* Both racers read row 1, meet at the barrier (first run only), then write what they read + 1. */
typedef struct racer {
    hh_store *st;
    pthread_barrier_t *met;
    int runs;
    hh_status rc;
} racer;

static hh_status increment_body(pg_conn *c, void *arg)
{
    racer *r = arg;
    pg_num a, b;
    PGresult *res = NULL;
    const char *id[] = {pg_i64(&a, 1)};
    hh_status rc = pg_one(c, &test_sql, T_READ, 1, id, &res);
    if (rc)
        return rc;
    int64_t n = pg_col_i64(res, 0, 0);
    PQclear(res);
    if (r->runs++ == 0)
        pthread_barrier_wait(r->met);
    const char *p[] = {id[0], pg_i64(&b, n + 1)};
    return pg_exec_one(c, &test_sql, T_SET, 2, p);
}

static void *race(void *arg)
{
    racer *r = arg;
    r->rc = pg_tx_serial(r->st, increment_body, r);
    return NULL;
}

static void test_serialization_failure_retried(void **state)
{
    fixture *f = *state;
    hh_store *st = open_with_table(f);
    assert_int_equal(admin_exec(f, "INSERT INTO t VALUES (1, 0)"), 0);
    pthread_barrier_t met;
    pthread_barrier_init(&met, NULL, 2);
    racer r[2] = {{st, &met, 0, HH_ERR_INTERNAL}, {st, &met, 0, HH_ERR_INTERNAL}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&met);
    assert_int_equal(r[0].rc, HH_OK);
    assert_int_equal(r[1].rc, HH_OK);
    /* One of them lost the race and ran again on the other's committed value. */
    assert_int_equal(r[0].runs + r[1].runs, 3);
    assert_int_equal(admin_i64(f, "SELECT n FROM t WHERE id = 1"), 2);
}

/* Inside a pg_sub: inserts row 2, then row 1 again (a unique violation). */
static hh_status sub_fails(pg_conn *c, void *arg)
{
    (void)arg;
    hh_status rc = insert_on(c, 2, 0);
    return rc ? rc : insert_on(c, 1, 0);
}

static hh_status sub_ok(pg_conn *c, void *arg)
{
    (void)arg;
    return insert_on(c, 4, 0);
}

static hh_status outer_body(pg_conn *c, void *arg)
{
    hh_status *sub_rc = arg;
    hh_status rc = insert_on(c, 1, 0);
    if (rc)
        return rc;
    *sub_rc = pg_sub(c, sub_fails, NULL);
    rc = pg_sub(c, sub_ok, NULL);
    return rc ? rc : insert_on(c, 3, 0);
}

static void test_sub_undoes_its_own_writes(void **state)
{
    fixture *f = *state;
    hh_store *st = open_with_table(f);
    hh_status sub_rc = HH_OK;
    assert_int_equal(pg_tx(st, outer_body, &sub_rc), HH_OK);
    assert_int_equal(sub_rc, HH_ERR_EXISTS);
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM t WHERE id IN (1, 3, 4)"), 3);
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM t WHERE id = 2"), 0);
}

/* ---- errors, connections, health, the pool ---- */

static void test_error_mapping(void **state)
{
    fixture *f = *state;
    hh_store *st = open_with_table(f);
    const char *u1[] = {"u1", "One@Example.com"};
    assert_int_equal(pg_run(st, &test_sql, T_USER, 2, u1, NULL), HH_OK);
    /* Unique (the email is case-blind, as SQLite's NOCASE). */
    assert_int_equal(
        pg_run(st, &test_sql, T_USER, 2, (const char *const[]){"u2", "one@example.COM"}, NULL),
        HH_ERR_EXISTS);
    assert_int_equal(
        pg_run(st, &test_sql, T_USER, 2, (const char *const[]){"u1", "x@example.com"}, NULL),
        HH_ERR_EXISTS);
    /* Foreign key. */
    uint8_t hash[32] = {1, 2, 3};
    char hex[2 * sizeof hash + 3];
    const char *key[] = {"nobody", pg_bytea_hex(hash, sizeof hash, hex, sizeof hex)};
    assert_int_equal(pg_run(st, &test_sql, T_KEY, 2, key, NULL), HH_ERR_NOTFOUND);
    /* CHECK, NOT NULL. */
    assert_int_equal(pg_run(st, &test_sql, T_USER_CREDITS, 2,
                            (const char *const[]){"u3", "three@example.com"}, NULL),
                     HH_ERR_CONFLICT);
    assert_int_equal(pg_run(st, &test_sql, T_USER, 2, (const char *const[]){"u4", NULL}, NULL),
                     HH_ERR_CONFLICT);
    /* The ledger's triggers. */
    assert_int_equal(pg_run(st, &test_sql, T_LEDGER, 1, u1, NULL), HH_OK);
    assert_int_equal(pg_run_one(st, &test_sql, T_LEDGER_UPDATE, 0, NULL), HH_ERR_CONFLICT);
    assert_int_equal(pg_run_one(st, &test_sql, T_LEDGER_DELETE, 0, NULL), HH_ERR_CONFLICT);
    /* Anything else. */
    assert_int_equal(pg_run(st, &test_sql, T_BAD_SQL, 0, NULL, NULL), HH_ERR_DB);
    assert_int_equal(pg_run(st, &test_sql, T_COUNT, 0, NULL, NULL), HH_ERR_INVALID);
    /* pg_run_one and pg_one on no row. */
    const char *none[] = {"7", "1"};
    assert_int_equal(pg_run_one(st, &test_sql, T_SET, 2, none), HH_ERR_NOTFOUND);
    /* A key inserted with its bytea comes back byte for byte. */
    const char *k[] = {"u1", key[1]};
    assert_int_equal(pg_run(st, &test_sql, T_KEY, 2, k, NULL), HH_OK);
    assert_int_equal(admin_i64(f, "SELECT length(hash) FROM api_keys"), 32);
}

/* The backend pid of a pooled connection (the pool holds one idle in these tests). */
static int64_t pooled_pid(hh_store *st)
{
    PGresult *r = NULL;
    assert_int_equal(pg_run(st, &test_sql, T_PID, 0, NULL, &r), HH_OK);
    int64_t pid = pg_col_i64(r, 0, 0);
    PQclear(r);
    return pid;
}

static void test_killed_connection_replaced(void **state)
{
    fixture *f = *state;
    hh_store *st = open_with_table(f);
    int64_t pid = pooled_pid(st);
    assert_int_equal(pooled_pid(st), pid);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld, 5000)", (long long)pid);
    assert_int_equal(admin_exec(f, sql), 0);
    int64_t again = pooled_pid(st);
    assert_true(again != pid && again > 0);
    /* And a transaction after the next kill. */
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld, 5000)", (long long)again);
    assert_int_equal(admin_exec(f, sql), 0);
    body_ctx b = {0};
    assert_int_equal(pg_tx(st, insert_body, &b), HH_OK);
    assert_int_equal(b.runs, 1);
    /* A session lost while pg_run's statement runs: once more on a fresh one, then BUSY. */
    assert_int_equal(pg_run(st, &test_sql, T_SEQUENCE, 0, NULL, NULL), HH_OK);
    assert_int_equal(pg_run(st, &test_sql, T_SUICIDE, 0, NULL, NULL), HH_ERR_BUSY);
    assert_int_equal(admin_i64(f, "SELECT last_value FROM runs"), 2);
    assert_true(pooled_pid(st) > 0);
}

static void test_health(void **state)
{
    fixture *f = *state;
    assert_int_equal(store_open(sf_location(f->loc), &f->st), HH_OK);
    hh_store_health h;
    assert_int_equal(store_health(f->st, 2000, &h), HH_OK);
    assert_int_equal(h.ok, 1);
    assert_int_equal(h.checked_all, 1);
    assert_string_equal(h.problem, "");
    /* A server that takes no new connections is not healthy, whatever the pool holds. */
    char sql[128];
    snprintf(sql, sizeof sql, "ALTER DATABASE %s ALLOW_CONNECTIONS false", sf_db_name(f->loc));
    assert_int_equal(sf_exec_cluster(f->loc, sql), 0);
    assert_int_equal(store_health(f->st, 2000, &h), HH_OK);
    snprintf(sql, sizeof sql, "ALTER DATABASE %s ALLOW_CONNECTIONS true", sf_db_name(f->loc));
    assert_int_equal(sf_exec_cluster(f->loc, sql), 0);
    assert_int_equal(h.ok, 0);
    assert_int_equal(h.checked_all, 1);
    assert_non_null(strstr(h.problem, "cannot be reached"));
}

#define POOL_THREADS 32
#define POOL_CALLS   50

typedef struct worker {
    hh_store *st;
    int index;
    int failures;
} worker;

static void *pool_worker(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < POOL_CALLS; i++) {
        pg_num a, b;
        const char *p[] = {pg_i64(&a, (int64_t)w->index * POOL_CALLS + i), pg_i64(&b, i)};
        if (pg_run(w->st, &test_sql, T_INSERT, 2, p, NULL))
            w->failures++;
    }
    return NULL;
}

static void test_pool_under_threads(void **state)
{
    fixture *f = *state;
    hh_store *st = open_with_table(f);
    worker w[POOL_THREADS];
    pthread_t th[POOL_THREADS];
    for (int i = 0; i < POOL_THREADS; i++) {
        w[i] = (worker){st, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, pool_worker, &w[i]), 0);
    }
    for (int i = 0; i < POOL_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(admin_i64(f, "SELECT count(*) FROM t"), POOL_THREADS * POOL_CALLS);
    /* At most 16 connections, all still open and idle. */
    int64_t conns = admin_i64(f, "SELECT count(*) FROM pg_stat_activity"
                                 " WHERE datname = current_database()"
                                 " AND application_name = 'happyhorse'");
    assert_true(conns >= 1 && conns <= 16);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migration_lists_match),
        T(test_fresh_migration),
        T(test_reopen_is_noop),
        T(test_open_at_version_then_upgrade),
        T(test_newer_schema_refused),
        T(test_two_nodes_migrate_once),
        T(test_tx_commit_rollback_retry),
        T(test_serialization_failure_retried),
        T(test_sub_undoes_its_own_writes),
        T(test_error_mapping),
        T(test_killed_connection_replaced),
        T(test_health),
        T(test_pool_under_threads),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
