/*
 * test_store_sqlite.c - what only the SQLite backend has, on real files in
 * a fresh temporary directory per test (support/store_fixture.h, always
 * SQLite): the data directory's mode, the indexes and foreign keys a
 * rebuilding migration keeps, refusal of a newer schema (PRAGMA
 * user_version) and of bad locations; then the internal helpers
 * (store_sqlite_int.h): sq_tx commits a body that succeeds, rolls back one
 * that fails and one whose COMMIT fails (nothing written), and always gives
 * its connection back outside a transaction; sq_borrow refuses a statement
 * id its table lacks, holding nothing; group commit (sq_tx_group), also of
 * video creates, which never overdraw and replay an idempotent twin; and
 * the change counter file (store_generation). The backend-neutral contract
 * is test_store.c and its siblings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "support/store_fixture.h"
#include "support/store_helpers.h"
#include "util/crypto.h"

typedef struct fixture {
    store_fixture *loc;
    hh_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    return sf_new_sqlite(&f->loc) == HH_OK ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    int rc = sf_free(f->loc);
    free(f);
    return rc;
}

static hh_store *open_store(fixture *f)
{
    assert_int_equal(sf_open(f->loc, &f->st), HH_OK);
    return f->st;
}

/* ---- files and migrations ---- */

static void store_directory_is_private(void **state)
{
    fixture *f = *state;
    open_store(f);
    struct stat sb;
    assert_int_equal(stat(sf_location(f->loc), &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0700);
    char path[192];
    snprintf(path, sizeof path, "%s/happyhorse.db", sf_location(f->loc));
    assert_int_equal(stat(path, &sb), 0);
}

/*
 * The step that adds 'canceled' rebuilds videos, jobs and remote_tasks
 * (its rows: migration_canceled_keeps_rows_and_indexes in test_store.c):
 * every index is back, and the children's REFERENCES point at the new
 * videos table.
 */
static void migration_canceled_keeps_indexes(void **state)
{
    fixture *f = *state;
    hh_user u;
    assert_int_equal(sf_open_version(f->loc, 10, &f->st), HH_OK);
    th_make_user(f->st, "old@example.com", &u);
    store_close(f->st);
    f->st = NULL;
    open_store(f);
    assert_int_equal(store_schema_version(f->st), sf_latest_version());
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(sf_exec(f->loc,
                             "SELECT CASE WHEN (SELECT count(*) FROM sqlite_schema WHERE"
                             " type = 'index' AND name IN ('videos_by_user', 'jobs_queue',"
                             " 'jobs_lease', 'remote_due', 'remote_claims')) = 5"
                             " AND (SELECT count(*) FROM sqlite_schema WHERE name LIKE"
                             " '%_new') = 0 AND (SELECT count(*) FROM"
                             " pragma_foreign_key_list('jobs') WHERE \"table\" ="
                             " 'videos') = 1 THEN 1 ELSE abs(-9223372036854775807 - 1) END"),
                     0);
}

static void migrations_refuse_newer_database(void **state)
{
    fixture *f = *state;
    open_store(f);
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(sf_exec(f->loc, "PRAGMA user_version = 999"), 0);
    assert_int_equal(sf_open(f->loc, &f->st), HH_ERR_CONFLICT);
    assert_null(f->st);
}

static void open_refuses_bad_locations(void **state)
{
    fixture *f = *state;
    hh_store *st = NULL;
    /* A PostgreSQL URL goes to PostgreSQL: nothing listens on port 1. */
    assert_int_equal(store_open("postgres://u:p@127.0.0.1:1/hh", &st), HH_ERR_IO);
    assert_null(st);
    assert_int_equal(store_open("postgresql://127.0.0.1:1/hh", &st), HH_ERR_IO);
    assert_int_equal(store_open("", &st), HH_ERR_INVALID);
    assert_int_equal(store_open(NULL, &st), HH_ERR_INVALID);
    /* A file where the directory should be. */
    char path[192];
    snprintf(path, sizeof path, "%s/file", sf_dir(f->loc));
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(store_open(path, &st), HH_ERR_IO);
    assert_null(st);
}

/* ---- the transaction helper and the statement cache (store_sqlite_int.h) ---- */

/* What a test body does, and what it saw. */
typedef struct body {
    const char *user_id;
    hh_status result;   /* what the body returns after its writes */
    int defer_fk;       /* also write a row whose foreign key fails at COMMIT */
    conn *seen;         /* the connection the body ran on */
    int in_transaction; /* the body ran inside an open transaction */
} body;

/* Grants 100 credits (a balance change and a ledger row), then returns b->result. */
static hh_status grant_body(conn *c, void *ctx)
{
    body *b = ctx;
    b->seen = c;
    b->in_transaction = !sqlite3_get_autocommit(c->db);
    if (b->defer_fk) {
        /* Foreign keys checked at COMMIT: an unknown user makes the COMMIT fail. */
        assert_int_equal(
            sqlite3_exec(c->db,
                         "PRAGMA defer_foreign_keys = ON;"
                         " INSERT INTO api_keys (id, user_id, name, hash, prefix,"
                         " created_at) VALUES ('k', 'nobody', 'n', zeroblob(32), 'p', 1)",
                         NULL, NULL, NULL),
            SQLITE_OK);
    }
    hh_status rc = sq_ledger_append_tx(c, b->user_id, 100, HH_LEDGER_GRANT, NULL, "tx test", NULL);
    return rc ? rc : b->result;
}

/* The user's balance, ledger sum and number of ledger rows. */
static void assert_balance(hh_store *st, const hh_user *user, int64_t credits, size_t entries)
{
    hh_user u;
    int64_t sum = -1;
    assert_int_equal(store_user_by_id(st, user->id, &u), HH_OK);
    assert_int_equal(u.credits, credits);
    assert_int_equal(store_ledger_sum(st, user->id, &sum), HH_OK);
    assert_int_equal(sum, credits);
    assert_int_equal(th_ledger_count(st, user->id), entries);
}

/*
 * After a transaction: a refused borrow holds nothing, and the next
 * transaction runs on the same connection (its BEGIN would fail inside a
 * transaction left open).
 */
static void assert_connection_back(hh_store *st, const hh_user *user, conn *expected)
{
    static const char *const text[] = {"SELECT 1"};
    static const sq_sql probe = {SQ_FILE_SESSIONS, 1, text};
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sq_borrow(st, &probe, 5, &c, &s), HH_ERR_INVALID);
    assert_null(c); /* refused: nothing held, nothing set */
    assert_null(s);
    body b = {.user_id = user->id, .result = HH_ERR_CONFLICT};
    assert_int_equal(sq_tx(st, grant_body, &b), HH_ERR_CONFLICT);
    assert_ptr_equal(b.seen, expected);
}

/* A store with one user, u, and no credits. */
static hh_store *open_with_user(fixture *f, hh_user *u)
{
    hh_store *st = open_store(f);
    th_make_user(st, "tx@example.com", u);
    return st;
}

/* Runs b through sq_tx: want comes back, the body ran in a transaction, and none is left open. */
static void run_tx(hh_store *st, body *b, hh_status want)
{
    assert_int_equal(sq_tx(st, grant_body, b), want);
    assert_true(b->in_transaction);
    assert_true(sqlite3_get_autocommit(b->seen->db));
}

static void tx_commits_a_body_that_succeeds(void **state)
{
    hh_user u;
    hh_store *st = open_with_user(*state, &u);
    body b = {.user_id = u.id, .result = HH_OK};
    run_tx(st, &b, HH_OK);
    assert_balance(st, &u, 100, 1);
}

static void tx_rolls_back_a_failing_body(void **state)
{
    hh_user u;
    hh_store *st = open_with_user(*state, &u);
    /* The body's status comes back unchanged, and its writes are gone. */
    body b = {.user_id = u.id, .result = HH_ERR_CONFLICT};
    run_tx(st, &b, HH_ERR_CONFLICT);
    assert_balance(st, &u, 0, 0);
    /* A body that fails at its first write: that write's status. */
    body unknown = {.user_id = "no-such-user", .result = HH_OK};
    run_tx(st, &unknown, HH_ERR_NOTFOUND);
    assert_balance(st, &u, 0, 0);
    assert_connection_back(st, &u, b.seen);
}

static void tx_rolls_back_when_commit_fails(void **state)
{
    hh_user u;
    hh_store *st = open_with_user(*state, &u);
    /* The failed COMMIT's status (a foreign key: HH_ERR_NOTFOUND), nothing written. */
    body b = {.user_id = u.id, .result = HH_OK, .defer_fk = 1};
    run_tx(st, &b, HH_ERR_NOTFOUND);
    assert_balance(st, &u, 0, 0);
    uint8_t hash[CRYPTO_SHA256_LEN] = {0};
    hh_api_key k;
    assert_int_equal(store_key_lookup(st, hash, &k, NULL), HH_ERR_NOTFOUND);
    assert_connection_back(st, &u, b.seen);
}

static void tx_gives_the_connection_back(void **state)
{
    hh_user u;
    hh_store *st = open_with_user(*state, &u);
    conn *first = NULL;
    /* More transactions than the pool has connections, failing and not. */
    for (int i = 0; i < 40; i++) {
        body b = {.user_id = u.id, .result = i % 2 ? HH_ERR_CONFLICT : HH_OK};
        run_tx(st, &b, b.result);
        if (!first)
            first = b.seen;
        assert_ptr_equal(b.seen, first); /* one call at a time: always the same connection */
    }
    assert_balance(st, &u, 20 * 100, 20);
    assert_connection_back(st, &u, first);
}

static void stmt_refuses_ids_its_table_lacks(void **state)
{
    fixture *f = *state;
    hh_store *st = open_store(f);
    static const char *const text[] = {"SELECT 1", NULL};
    static const sq_sql table = {SQ_FILE_SESSIONS, 2, text};
    conn *c = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sq_borrow(st, &table, 1, &c, &s), HH_ERR_INVALID); /* no SQL */
    assert_int_equal(sq_borrow(st, &table, 2, &c, &s), HH_ERR_INVALID); /* past n */
    assert_int_equal(sq_borrow(st, &table, -1, &c, &s), HH_ERR_INVALID);
    assert_int_equal(sq_borrow(st, &table, SQ_STMTS_MAX, &c, &s), HH_ERR_INVALID);
    assert_null(c);
    assert_null(s);
}

/* ---- group commit (sq_tx_group) ---- */

/* Holds the database's write lock from outside the store, as another process would. */
static sqlite3 *hold_write_lock(fixture *f)
{
    char path[192];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/happyhorse.db", sf_location(f->loc));
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void release_write_lock(sqlite3 *db)
{
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* One caller of sq_tx_group, on its own thread. */
typedef struct grouped {
    hh_store *st;
    body b;
    hh_status rc;
    pthread_t t;
} grouped;

static void *grouped_main(void *arg)
{
    grouped *g = arg;
    g->rc = sq_tx_group(g->st, grant_body, &g->b);
    return NULL;
}

/* Waits (no deadline: a condition, not a time) until the store's group counts reach these. */
static void wait_group(hh_store *st, uint64_t groups, size_t waiting)
{
    sq_group_stats gs;
    for (;;) {
        sq_group_stats_get(st, &gs);
        if (gs.groups >= groups && gs.waiting >= waiting)
            return;
        usleep(1000);
    }
}

/*
 * Runs n bodies so that the first leads a group alone (blocked in BEGIN by
 * an outside writer) and the other n - 1 queue behind it, then lets them go:
 * the n - 1 must run as one group.
 */
static void run_grouped(fixture *f, grouped *g, int n)
{
    sqlite3 *lock = hold_write_lock(f);
    assert_int_equal(pthread_create(&g[0].t, NULL, grouped_main, &g[0]), 0);
    wait_group(f->st, 1, 0); /* the first took its group and waits for the lock */
    for (int i = 1; i < n; i++)
        assert_int_equal(pthread_create(&g[i].t, NULL, grouped_main, &g[i]), 0);
    wait_group(f->st, 1, (size_t)n - 1);
    release_write_lock(lock);
    for (int i = 0; i < n; i++)
        pthread_join(g[i].t, NULL);
    sq_group_stats gs;
    sq_group_stats_get(f->st, &gs);
    assert_int_equal(gs.groups, 2);
    assert_int_equal(gs.members, n);
    assert_int_equal(gs.waiting, 0);
}

static void group_commits_waiting_bodies_together(void **state)
{
    hh_user u;
    fixture *f = *state;
    hh_store *st = open_with_user(f, &u);
    grouped g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (grouped){.st = st, .b = {.user_id = u.id, .result = HH_OK}};
    g[5].b.result = HH_ERR_CONFLICT; /* fails alone: its savepoint is rolled back */
    run_grouped(f, g, 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(g[i].rc, i == 5 ? HH_ERR_CONFLICT : HH_OK);
        assert_true(g[i].b.in_transaction);
    }
    assert_ptr_equal(g[1].b.seen, g[7].b.seen); /* one transaction, one connection */
    assert_balance(st, &u, 7 * 100, 7);
    assert_connection_back(st, &u, g[1].b.seen);
}

static void group_fails_whole_when_its_commit_fails(void **state)
{
    hh_user u;
    fixture *f = *state;
    hh_store *st = open_with_user(f, &u);
    grouped g[5];
    for (int i = 0; i < 5; i++)
        g[i] = (grouped){.st = st, .b = {.user_id = u.id, .result = HH_OK}};
    g[3].b.defer_fk = 1; /* its row breaks a foreign key at the group's COMMIT */
    run_grouped(f, g, 5);
    assert_int_equal(g[0].rc, HH_OK); /* the first group, alone */
    for (int i = 1; i < 5; i++)
        assert_int_equal(g[i].rc, HH_ERR_NOTFOUND); /* the COMMIT's status, for everyone */
    assert_balance(st, &u, 100, 1);
    assert_connection_back(st, &u, g[1].b.seen);
}

/* ---- video creates gathered into one group transaction (from test_queue.c) ---- */

/* One create of a group, on its own thread. */
typedef struct grouped_create {
    hh_store *st;
    hh_video_new in;
    hh_status rc;
    char id[HH_ID_LEN];
    char *replay;
    pthread_t t;
} grouped_create;

static void *grouped_create_main(void *arg)
{
    grouped_create *g = arg;
    g->rc = store_video_create(g->st, &g->in, g->id, &g->replay, NULL);
    return NULL;
}

/*
 * The first create leads a group alone, blocked in BEGIN by an outside
 * writer holding the lock; the other n - 1 queue meanwhile and must then
 * commit as one group.
 */
static void create_grouped(fixture *f, grouped_create *g, int n)
{
    sqlite3 *lock = hold_write_lock(f);
    sq_group_stats before;
    sq_group_stats_get(f->st, &before);
    assert_int_equal(pthread_create(&g[0].t, NULL, grouped_create_main, &g[0]), 0);
    wait_group(f->st, before.groups + 1, 0);
    for (int i = 1; i < n; i++)
        assert_int_equal(pthread_create(&g[i].t, NULL, grouped_create_main, &g[i]), 0);
    wait_group(f->st, before.groups + 1, (size_t)n - 1);
    release_write_lock(lock);
    for (int i = 0; i < n; i++)
        pthread_join(g[i].t, NULL);
    sq_group_stats after;
    sq_group_stats_get(f->st, &after);
    assert_int_equal(after.groups - before.groups, 2);
    assert_int_equal(after.members - before.members, n);
}

static void racing_creates_in_one_group_never_overdraw(void **state)
{
    fixture *f = *state;
    hh_user c;
    th_user_with_credits(open_store(f), "c@example.com", 500, &c);
    grouped_create g[20];
    for (int i = 0; i < 20; i++)
        g[i] = (grouped_create){.st = f->st, .in = th_video_req(&c, 100, 5)};
    create_grouped(f, g, 20);
    int ok = 0, refused = 0;
    for (int i = 0; i < 20; i++) {
        ok += g[i].rc == HH_OK;
        refused += g[i].rc == HH_ERR_CREDITS;
        assert_null(g[i].replay);
    }
    assert_int_equal(g[0].rc, HH_OK); /* alone in the first group */
    th_assert_five_of_twenty(f->st, &c, ok, refused);
}

static void idempotent_replay_within_one_group(void **state)
{
    fixture *f = *state;
    uint8_t h[32] = {7};
    hh_user a;
    th_user_with_credits(open_store(f), "a@example.com", 10000, &a);
    grouped_create g[3];
    for (int i = 0; i < 3; i++) {
        g[i] = (grouped_create){.st = f->st, .in = th_video_req(&a, 60, 5)};
        g[i].in.idem_key = i ? "same-key" : NULL; /* the first is the lone leader */
        g[i].in.idem_hash = i ? h : NULL;
    }
    create_grouped(f, g, 3);
    /* One of the pair created (and was charged), the other replays its answer. */
    int made = g[1].replay ? 2 : 1, replayed = made == 1 ? 2 : 1;
    for (int i = 0; i < 3; i++)
        assert_int_equal(g[i].rc, HH_OK);
    assert_null(g[made].replay);
    assert_non_null(g[replayed].replay);
    assert_string_equal(g[replayed].replay, g[made].id); /* the first answer: its id */
    assert_string_equal(g[replayed].id, "");
    free(g[replayed].replay);
    assert_int_equal(th_balance(f->st, &a), 10000 - 2 * 60);
}

/* ---- the change counter (store_generation) ---- */

static void generation_moves_with_every_commit(void **state)
{
    fixture *f = *state;
    hh_user u, got;
    hh_store *st = open_with_user(f, &u);
    uint64_t g0 = store_generation(st);
    assert_int_not_equal(g0, 0);
    assert_int_equal(store_user_by_id(st, u.id, &got), HH_OK);
    assert_int_equal(store_generation(st), g0); /* reads change nothing */
    assert_int_equal(store_ledger_append(st, u.id, 5, HH_LEDGER_GRANT, NULL, NULL, NULL), HH_OK);
    uint64_t g1 = store_generation(st);
    assert_int_not_equal(g1, g0);
    /* A second store on the same location maps the counter on its own, like another process. */
    hh_store *other = NULL;
    assert_int_equal(sf_open(f->loc, &other), HH_OK);
    assert_int_equal(store_generation(other), g1);
    assert_int_equal(store_user_set_plan(other, u.id, "pro"), HH_OK); /* no transaction */
    assert_int_not_equal(store_generation(st), g1);
    uint64_t g2 = store_generation(st);
    body b = {.user_id = u.id, .result = HH_ERR_CONFLICT}; /* rolled back: no commit */
    assert_int_equal(sq_tx(other, grant_body, &b), HH_ERR_CONFLICT);
    assert_int_equal(store_generation(st), g2);
    store_close(other);
}

static void generation_is_0_without_its_file(void **state)
{
    fixture *f = *state;
    hh_user u;
    hh_store *st = open_with_user(f, &u);
    store_close(st);
    f->st = NULL;
    char path[192];
    snprintf(path, sizeof path, "%s/happyhorse.changes", sf_location(f->loc));
    FILE *fp = fopen(path, "w"); /* another format: refused, and left alone */
    assert_non_null(fp);
    fputs("not a change counter", fp);
    fclose(fp);
    open_store(f);
    assert_int_equal(store_generation(f->st), 0);
    assert_int_equal(store_ledger_append(f->st, u.id, 5, HH_LEDGER_GRANT, NULL, NULL, NULL), HH_OK);
    assert_int_equal(store_generation(f->st), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(store_directory_is_private),
        T(migration_canceled_keeps_indexes),
        T(migrations_refuse_newer_database),
        T(open_refuses_bad_locations),
        T(tx_commits_a_body_that_succeeds),
        T(tx_rolls_back_a_failing_body),
        T(tx_rolls_back_when_commit_fails),
        T(tx_gives_the_connection_back),
        T(stmt_refuses_ids_its_table_lacks),
        T(group_commits_waiting_bodies_together),
        T(group_fails_whole_when_its_commit_fails),
        T(racing_creates_in_one_group_never_overdraw),
        T(idempotent_replay_within_one_group),
        T(generation_moves_with_every_commit),
        T(generation_is_0_without_its_file),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
