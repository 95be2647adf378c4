/*
 * test_store.c - the SQLite store on real files in a fresh temporary
 * directory per test: migrations (new database, reopen, upgrade from an
 * older schema, refusal of a newer one), users, API keys, and the credit
 * ledger, including its invariant under many threads charging one balance.
 * Then the store's internal helpers (store_sqlite_int.h): sq_tx commits a
 * body that succeeds, rolls back one that fails and one whose COMMIT fails
 * (nothing written), and always gives its connection back outside a
 * transaction; sq_borrow refuses a statement id its table lacks, holding
 * nothing.
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

#include "store/migrations_sqlite.h"
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "util/crypto.h"
#include "util/uuid.h"

typedef struct fixture {
    char dir[64];   /* the mkdtemp directory */
    char data[128]; /* dir/data: the store location, created by store_open */
    hh_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/hh-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static hh_store *open_store(fixture *f)
{
    assert_int_equal(store_open(f->data, &f->st), HH_OK);
    return f->st;
}

static void reopen(fixture *f)
{
    store_close(f->st);
    f->st = NULL;
    open_store(f);
}

static void make_user(hh_store *st, const char *email, hh_user *u)
{
    assert_int_equal(store_user_create(st, email, NULL, "free", 1, u), HH_OK);
}

static size_t ledger_count(hh_store *st, const char *user_id)
{
    hh_ledger_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(store_ledger_list(st, user_id, 0, STORE_PAGE_MAX, &e, &n), HH_OK);
    free(e);
    return n;
}

/* Runs sql on the database file directly, as another tool would; returns the SQLite code. */
static int raw_sql(fixture *f, const char *sql)
{
    char path[192];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/happyhorse.db", f->data);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* ---- migrations ---- */

static void migrations_on_empty_database(void **state)
{
    fixture *f = *state;
    hh_store *st = open_store(f);
    assert_int_equal(store_schema_version(st), (int)store_sqlite_migration_count);
    assert_int_equal(store_ping(st), HH_OK);

    struct stat sb;
    assert_int_equal(stat(f->data, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0700);
    char path[192];
    snprintf(path, sizeof path, "%s/happyhorse.db", f->data);
    assert_int_equal(stat(path, &sb), 0);
}

static void migrations_reopen_keeps_version_and_data(void **state)
{
    fixture *f = *state;
    hh_user u;
    make_user(open_store(f), "keep@example.com", &u);
    assert_int_equal(store_ledger_append(f->st, u.id, 40, HH_LEDGER_GRANT, NULL, "x", NULL), HH_OK);
    reopen(f);
    assert_int_equal(store_schema_version(f->st), (int)store_sqlite_migration_count);
    hh_user again;
    assert_int_equal(store_user_by_email(f->st, "keep@example.com", &again), HH_OK);
    assert_string_equal(again.id, u.id);
    assert_int_equal(again.credits, 40);
    assert_int_equal(ledger_count(f->st, u.id), 1);
}

static void migrations_upgrade_older_database(void **state)
{
    fixture *f = *state;
    /* A database made by an older binary: only the first schema step. */
    assert_int_equal(store_open_version(f->data, 1, &f->st), HH_OK);
    assert_int_equal(store_schema_version(f->st), 1);
    hh_user u;
    make_user(f->st, "old@example.com", &u);
    /* The later tables do not exist yet at version 1. */
    assert_int_not_equal(store_ledger_append(f->st, u.id, 5, HH_LEDGER_GRANT, NULL, NULL, NULL),
                         HH_OK);
    reopen(f);
    assert_int_equal(store_schema_version(f->st), (int)store_sqlite_migration_count);
    hh_user again;
    assert_int_equal(store_user_by_id(f->st, u.id, &again), HH_OK);
    assert_string_equal(again.email, "old@example.com");
    int64_t bal = 0;
    assert_int_equal(store_ledger_append(f->st, u.id, 5, HH_LEDGER_GRANT, NULL, NULL, &bal), HH_OK);
    assert_int_equal(bal, 5);
    /* Opening at an older version never downgrades. */
    store_close(f->st);
    assert_int_equal(store_open_version(f->data, 1, &f->st), HH_OK);
    assert_int_equal(store_schema_version(f->st), (int)store_sqlite_migration_count);
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open_version(f->data, 0, &f->st), HH_ERR_INVALID);
    assert_int_equal(store_open_version(f->data, (int)store_sqlite_migration_count + 1, &f->st),
                     HH_ERR_INVALID);
}

/*
 * The step that adds 'canceled' rebuilds videos, jobs and remote_tasks:
 * a database of version 10 with a running remote job and a queued one
 * keeps every row, its indexes and its foreign keys, and the new status
 * works on the old rows.
 */
/*
 * Opens f's store at an older schema version with a user u of 1000
 * credits and one video of it, id; *in is that video's request (its
 * strings static, its user u's), for more.
 */
static void old_store_with_video(fixture *f, int version, hh_user *u, hh_video_new *in,
                                 char id[HH_ID_LEN])
{
    assert_int_equal(store_open_version(f->data, version, &f->st), HH_OK);
    make_user(f->st, "old@example.com", u);
    assert_int_equal(store_ledger_append(f->st, u->id, 1000, HH_LEDGER_GRANT, NULL, NULL, NULL),
                     HH_OK);
    *in = (hh_video_new){.user_id = u->id,
                         .prompt = "a horse",
                         .duration_sec = 3,
                         .aspect_ratio = "16:9",
                         .resolution = "720p",
                         .request_json = "{\"prompt\":\"a horse\"}",
                         .price = 30,
                         .plan = "free",
                         .max_in_flight = 2};
    char *replay = NULL;
    assert_int_equal(store_video_create(f->st, in, id, &replay, NULL), HH_OK);
}

static void migration_canceled_keeps_rows_and_indexes(void **state)
{
    fixture *f = *state;
    hh_user u;
    hh_video_new in;
    char running[HH_ID_LEN], queued[HH_ID_LEN], *replay = NULL;
    old_store_with_video(f, 10, &u, &in, running);
    /* A worker's claim, in SQL: store_job_claim reads columns of later versions (favorite). */
    char claim[512];
    snprintf(claim, sizeof claim,
             "UPDATE jobs SET state = 'running', attempts = 1, lease_owner = 'w1',"
             " lease_expires_at = 9000000000000, updated_at = 1 WHERE video_id = '%s';"
             "UPDATE videos SET status = 'processing', started_at = 1 WHERE id = '%s'",
             running, running);
    assert_int_equal(raw_sql(f, claim), SQLITE_OK);
    hh_video v;
    assert_int_equal(store_remote_begin(f->st, running, "w1", "free", "fal", INT64_MAX / 2), HH_OK);
    assert_int_equal(store_video_create(f->st, &in, queued, &replay, NULL), HH_OK);
    reopen(f);
    assert_int_equal(store_schema_version(f->st), (int)store_sqlite_migration_count);
    assert_int_equal(store_video_get(f->st, running, u.id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_PROCESSING);
    assert_string_equal(v.prompt, "a horse");
    store_video_clear(&v);
    hh_remote_task t;
    assert_int_equal(store_remote_get(f->st, running, &t), HH_OK);
    assert_int_equal(t.phase, HH_REMOTE_SUBMIT);
    store_remote_clear(&t);
    store_close(f->st);
    f->st = NULL;
    /* Every index is back, and the children's REFERENCES point at the new videos table. */
    assert_int_equal(raw_sql(f, "SELECT CASE WHEN (SELECT count(*) FROM sqlite_schema WHERE"
                                " type = 'index' AND name IN ('videos_by_user', 'jobs_queue',"
                                " 'jobs_lease', 'remote_due', 'remote_claims')) = 5"
                                " AND (SELECT count(*) FROM sqlite_schema WHERE name LIKE"
                                " '%_new') = 0 AND (SELECT count(*) FROM pragma_foreign_key_list("
                                "'jobs') WHERE \"table\" = 'videos') = 1"
                                " THEN 1 ELSE abs(-9223372036854775807 - 1) END"),
                     SQLITE_OK);
    open_store(f);
    hh_video_status was;
    assert_int_equal(store_video_cancel(f->st, queued, u.id, &was, NULL), HH_OK);
    assert_int_equal(store_video_cancel(f->st, running, u.id, &was, NULL), HH_OK);
    assert_int_equal(was, HH_VIDEO_PROCESSING);
    int64_t sum = 0;
    assert_int_equal(store_ledger_sum(f->st, u.id, &sum), HH_OK);
    assert_int_equal(sum, 1000);
    assert_int_equal(store_remote_get(f->st, running, &t), HH_OK);
    assert_int_equal(t.phase, HH_REMOTE_FAILED); /* not yet made at the provider: settled */
    store_remote_clear(&t);
}

/*
 * The step that adds favourites: a video of a version-12 database keeps
 * its row, is not a favourite, and can be starred after the upgrade; the
 * column takes only 0 and 1.
 */
static void migration_favorites_keeps_videos(void **state)
{
    fixture *f = *state;
    hh_user u;
    hh_video_new in;
    char id[HH_ID_LEN];
    old_store_with_video(f, 12, &u, &in, id);
    reopen(f);
    assert_int_equal(store_schema_version(f->st), (int)store_sqlite_migration_count);
    hh_video v;
    assert_int_equal(store_video_get(f->st, id, u.id, &v), HH_OK);
    assert_string_equal(v.prompt, "a horse");
    assert_int_equal(v.favorite, 0);
    store_video_clear(&v);
    assert_int_equal(store_video_set_favorite(f->st, id, u.id, 1), HH_OK);
    assert_int_equal(store_video_get(f->st, id, u.id, &v), HH_OK);
    assert_int_equal(v.favorite, 1);
    store_video_clear(&v);
    store_close(f->st);
    f->st = NULL;
    assert_int_not_equal(raw_sql(f, "UPDATE videos SET favorite = 2"), SQLITE_OK);
}

static void migrations_refuse_newer_database(void **state)
{
    fixture *f = *state;
    open_store(f);
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(raw_sql(f, "PRAGMA user_version = 999"), SQLITE_OK);
    assert_int_equal(store_open(f->data, &f->st), HH_ERR_CONFLICT);
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
    snprintf(path, sizeof path, "%s/file", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(store_open(path, &st), HH_ERR_IO);
    assert_null(st);
}

/* ---- users ---- */

static void users_crud(void **state)
{
    fixture *f = *state;
    hh_store *st = open_store(f);
    hh_user u, got;
    assert_int_equal(store_user_create(st, "Ann@Example.com", "$argon2id$fake", "pro", 0, &u),
                     HH_OK);
    assert_true(uuid_is_valid(u.id));
    assert_string_equal(u.plan, "pro");
    assert_int_equal(u.credits, 0);
    assert_int_equal(u.api_access, 0);
    assert_true(u.created_at > 1700000000000);

    /* Emails match case-insensitively. */
    assert_int_equal(store_user_by_email(st, "ann@example.COM", &got), HH_OK);
    assert_string_equal(got.id, u.id);
    assert_string_equal(got.email, "Ann@Example.com");
    assert_int_equal(got.created_at, u.created_at);
    assert_int_equal(store_user_by_id(st, u.id, &got), HH_OK);
    assert_string_equal(got.email, "Ann@Example.com");

    assert_int_equal(store_user_set_plan(st, u.id, "max"), HH_OK);
    assert_int_equal(store_user_set_api_access(st, u.id, 1), HH_OK);
    assert_int_equal(store_user_by_id(st, u.id, &got), HH_OK);
    assert_string_equal(got.plan, "max");
    assert_int_equal(got.api_access, 1);
    assert_int_equal(store_user_set_api_access(st, u.id, 0), HH_OK);
    assert_int_equal(store_user_by_id(st, u.id, &got), HH_OK);
    assert_int_equal(got.api_access, 0);

    char hash[128];
    assert_int_equal(store_user_password_hash(st, u.id, hash, sizeof hash), HH_OK);
    assert_string_equal(hash, "$argon2id$fake");
    assert_int_equal(store_user_password_hash(st, u.id, hash, 4), HH_ERR_LIMIT);

    hh_user nopw;
    assert_int_equal(store_user_create(st, "bob@example.com", NULL, "free", 1, &nopw), HH_OK);
    assert_int_equal(store_user_password_hash(st, nopw.id, hash, sizeof hash), HH_ERR_NOTFOUND);

    /* Unknowns. */
    char unknown[UUID_STR_LEN];
    assert_int_equal(uuid_v7(unknown), HH_OK);
    assert_int_equal(store_user_by_email(st, "nobody@example.com", &got), HH_ERR_NOTFOUND);
    assert_int_equal(store_user_by_id(st, unknown, &got), HH_ERR_NOTFOUND);
    assert_int_equal(store_user_by_id(st, "not-a-uuid", &got), HH_ERR_NOTFOUND);
    assert_int_equal(store_user_set_plan(st, unknown, "pro"), HH_ERR_NOTFOUND);
    assert_int_equal(store_user_set_api_access(st, unknown, 1), HH_ERR_NOTFOUND);
    assert_int_equal(store_user_password_hash(st, unknown, hash, sizeof hash), HH_ERR_NOTFOUND);

    /* Sizes. */
    char longmail[300];
    memset(longmail, 'a', sizeof longmail - 1);
    longmail[sizeof longmail - 1] = '\0';
    assert_int_equal(store_user_create(st, longmail, NULL, "free", 1, NULL), HH_ERR_INVALID);
    assert_int_equal(store_user_create(st, "", NULL, "free", 1, NULL), HH_ERR_INVALID);
    assert_int_equal(store_user_create(st, "c@example.com", NULL, "", 1, NULL), HH_ERR_INVALID);
}

static void users_duplicate_email(void **state)
{
    fixture *f = *state;
    hh_store *st = open_store(f);
    hh_user u;
    make_user(st, "dup@example.com", &u);
    assert_int_equal(store_user_create(st, "dup@example.com", NULL, "free", 1, NULL),
                     HH_ERR_EXISTS);
    assert_int_equal(store_user_create(st, "DUP@EXAMPLE.COM", NULL, "pro", 1, NULL), HH_ERR_EXISTS);
    hh_user got;
    assert_int_equal(store_user_by_email(st, "dup@example.com", &got), HH_OK);
    assert_string_equal(got.id, u.id);
    assert_string_equal(got.plan, "free");
}

/* ---- keys ---- */

static void hash_of(const char *text, uint8_t out[32])
{
    crypto_sha256(text, strlen(text), out);
}

static void keys_lifecycle(void **state)
{
    fixture *f = *state;
    hh_store *st = open_store(f);
    hh_user u, other, ku;
    make_user(st, "keys@example.com", &u);
    make_user(st, "other@example.com", &other);
    uint8_t h1[32], h2[32], h3[32];
    hash_of("key one", h1);
    hash_of("key two", h2);
    hash_of("key three", h3);

    hh_api_key k1, k2, got;
    assert_int_equal(store_key_insert(st, u.id, "ci", h1, "hh_live_AAAA", &k1), HH_OK);
    assert_true(uuid_is_valid(k1.id));
    assert_string_equal(k1.user_id, u.id);
    assert_int_equal(k1.last_used_at, 0);
    assert_int_equal(store_key_insert(st, u.id, "laptop", h2, "hh_live_BBBB", &k2), HH_OK);
    /* The same hash twice is refused. */
    assert_int_equal(store_key_insert(st, other.id, "x", h1, "hh_live_AAAA", NULL), HH_ERR_EXISTS);
    /* A key for a user that does not exist is refused by the foreign key. */
    char ghost[UUID_STR_LEN];
    assert_int_equal(uuid_v7(ghost), HH_OK);
    assert_int_not_equal(store_key_insert(st, ghost, "x", h3, "hh_live_CCCC", NULL), HH_OK);

    assert_int_equal(store_key_lookup(st, h1, &got, &ku), HH_OK);
    assert_string_equal(got.id, k1.id);
    assert_string_equal(got.name, "ci");
    assert_string_equal(got.prefix, "hh_live_AAAA");
    assert_string_equal(ku.id, u.id);
    assert_string_equal(ku.email, "keys@example.com");
    assert_int_equal(store_key_lookup(st, h3, &got, &ku), HH_ERR_NOTFOUND);

    hh_api_key *list = NULL;
    size_t n = 0;
    assert_int_equal(store_key_list(st, u.id, &list, &n), HH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, k2.id); /* newest first */
    assert_string_equal(list[1].id, k1.id);
    free(list);
    assert_int_equal(store_key_list(st, other.id, &list, &n), HH_OK);
    assert_int_equal(n, 0);
    assert_null(list);

    /* Touch: batched, and never moves last use backwards. */
    const char *ids[] = {k1.id, k2.id};
    const int64_t at[] = {1800000000000, 1800000000500};
    assert_int_equal(store_key_touch(st, ids, at, 2), HH_OK);
    const int64_t older[] = {1700000000000, 1800000000900};
    assert_int_equal(store_key_touch(st, ids, older, 2), HH_OK);
    assert_int_equal(store_key_lookup(st, h1, &got, NULL), HH_OK);
    assert_int_equal(got.last_used_at, 1800000000000);
    assert_int_equal(store_key_lookup(st, h2, &got, NULL), HH_OK);
    assert_int_equal(got.last_used_at, 1800000000900);
    assert_int_equal(store_key_touch(st, NULL, NULL, 0), HH_OK);

    /* Delete: only by its owner, only once; then it is gone from lookup and list. */
    assert_int_equal(store_key_delete(st, other.id, k1.id), HH_ERR_NOTFOUND);
    assert_int_equal(store_key_delete(st, u.id, k1.id), HH_OK);
    assert_int_equal(store_key_delete(st, u.id, k1.id), HH_ERR_NOTFOUND);
    assert_int_equal(store_key_delete(st, u.id, "nope"), HH_ERR_NOTFOUND);
    assert_int_equal(store_key_lookup(st, h1, &got, &ku), HH_ERR_NOTFOUND);
    assert_int_equal(store_key_lookup(st, h2, &got, &ku), HH_OK);
    assert_int_equal(store_key_list(st, u.id, &list, &n), HH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, k2.id);
    free(list);

    /* Survives a reopen. */
    reopen(f);
    assert_int_equal(store_key_lookup(f->st, h2, &got, &ku), HH_OK);
    assert_string_equal(got.id, k2.id);
    assert_int_equal(store_key_lookup(f->st, h1, &got, &ku), HH_ERR_NOTFOUND);
}

/* ---- ledger ---- */

static void ledger_append_and_refuse(void **state)
{
    fixture *f = *state;
    hh_store *st = open_store(f);
    hh_user u, got;
    make_user(st, "led@example.com", &u);
    int64_t bal = -1;
    assert_int_equal(store_ledger_append(st, u.id, 100, HH_LEDGER_GRANT, NULL, "welcome", &bal),
                     HH_OK);
    assert_int_equal(bal, 100);
    char vid[UUID_STR_LEN];
    assert_int_equal(uuid_v7(vid), HH_OK);
    assert_int_equal(store_ledger_append(st, u.id, -60, HH_LEDGER_CHARGE, vid, NULL, &bal), HH_OK);
    assert_int_equal(bal, 40);

    /* Below zero: refused, nothing changes (balance, row count). */
    char vid2[UUID_STR_LEN];
    assert_int_equal(uuid_v7(vid2), HH_OK);
    bal = -1;
    assert_int_equal(store_ledger_append(st, u.id, -41, HH_LEDGER_CHARGE, vid2, NULL, &bal),
                     HH_ERR_CREDITS);
    assert_int_equal(bal, 40); /* the balance the charge was refused against */
    assert_int_equal(store_user_by_id(st, u.id, &got), HH_OK);
    assert_int_equal(got.credits, 40);
    assert_int_equal(ledger_count(st, u.id), 2);

    /* Exactly to zero is fine. */
    assert_int_equal(store_ledger_append(st, u.id, -40, HH_LEDGER_CHARGE, vid2, NULL, &bal), HH_OK);
    assert_int_equal(bal, 0);

    /* A video is refunded once; a second refund of the same ref is refused. */
    assert_int_equal(store_ledger_append(st, u.id, 60, HH_LEDGER_REFUND, vid, NULL, &bal), HH_OK);
    assert_int_equal(bal, 60);
    assert_int_equal(store_ledger_append(st, u.id, 60, HH_LEDGER_REFUND, vid, NULL, &bal),
                     HH_ERR_EXISTS);
    assert_int_equal(store_ledger_append(st, u.id, -1, HH_LEDGER_CHARGE, vid, NULL, &bal),
                     HH_ERR_EXISTS);

    /* Bad input and unknown users. */
    assert_int_equal(store_ledger_append(st, u.id, 0, HH_LEDGER_GRANT, NULL, NULL, NULL),
                     HH_ERR_INVALID);
    assert_int_equal(store_ledger_append(st, u.id, INT64_MIN, HH_LEDGER_CHARGE, NULL, NULL, NULL),
                     HH_ERR_INVALID);
    assert_int_equal(store_ledger_append(st, u.id, INT64_MAX, HH_LEDGER_GRANT, NULL, NULL, NULL),
                     HH_ERR_LIMIT);
    assert_int_equal(store_ledger_append(st, vid, 5, HH_LEDGER_GRANT, NULL, NULL, NULL),
                     HH_ERR_NOTFOUND);

    int64_t sum = 0;
    assert_int_equal(store_ledger_sum(st, u.id, &sum), HH_OK);
    assert_int_equal(store_user_by_id(st, u.id, &got), HH_OK);
    assert_int_equal(sum, got.credits);
    assert_int_equal(sum, 60);

    /* The entries, newest first, with their fields. */
    hh_ledger_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(store_ledger_list(st, u.id, 0, 10, &e, &n), HH_OK);
    assert_int_equal(n, 4);
    assert_int_equal(e[0].kind, HH_LEDGER_REFUND);
    assert_string_equal(e[0].ref, vid);
    assert_int_equal(e[0].amount, 60);
    assert_int_equal(e[0].balance_after, 60);
    assert_int_equal(e[3].kind, HH_LEDGER_GRANT);
    assert_string_equal(e[3].note, "welcome");
    assert_string_equal(e[3].ref, "");
    assert_string_equal(e[3].user_id, u.id);
    assert_true(e[0].id > e[1].id && e[1].id > e[2].id && e[2].id > e[3].id);
    free(e);
    assert_string_equal(hh_ledger_kind_str(HH_LEDGER_ADJUSTMENT), "adjustment");
}

static void ledger_is_append_only(void **state)
{
    fixture *f = *state;
    hh_store *st = open_store(f);
    hh_user u;
    make_user(st, "ro@example.com", &u);
    assert_int_equal(store_ledger_append(st, u.id, 10, HH_LEDGER_GRANT, NULL, NULL, NULL), HH_OK);
    assert_int_not_equal(raw_sql(f, "UPDATE ledger SET amount = 1000"), SQLITE_OK);
    assert_int_not_equal(raw_sql(f, "DELETE FROM ledger"), SQLITE_OK);
    /* Even a direct write cannot make a balance negative. */
    assert_int_not_equal(raw_sql(f, "UPDATE users SET credits = -1"), SQLITE_OK);
    assert_int_equal(ledger_count(st, u.id), 1);
    int64_t sum = 0;
    assert_int_equal(store_ledger_sum(st, u.id, &sum), HH_OK);
    assert_int_equal(sum, 10);
}

static void ledger_pagination(void **state)
{
    fixture *f = *state;
    hh_store *st = open_store(f);
    hh_user u, other;
    make_user(st, "page@example.com", &u);
    make_user(st, "noise@example.com", &other);
    for (int i = 1; i <= 25; i++) {
        assert_int_equal(store_ledger_append(st, u.id, i, HH_LEDGER_GRANT, NULL, NULL, NULL),
                         HH_OK);
        assert_int_equal(store_ledger_append(st, other.id, 1, HH_LEDGER_GRANT, NULL, NULL, NULL),
                         HH_OK);
    }
    int64_t before = 0, expect_amount = 25;
    size_t pages[3] = {10, 10, 5}, total = 0;
    for (int p = 0; p < 4; p++) {
        hh_ledger_entry *e = NULL;
        size_t n = 99;
        assert_int_equal(store_ledger_list(st, u.id, before, 10, &e, &n), HH_OK);
        if (p == 3) {
            assert_int_equal(n, 0);
            assert_null(e);
            break;
        }
        assert_int_equal(n, pages[p]);
        for (size_t i = 0; i < n; i++) {
            assert_string_equal(e[i].user_id, u.id);
            assert_int_equal(e[i].amount, expect_amount--);
            if (before)
                assert_true(e[i].id < before);
        }
        before = e[n - 1].id;
        total += n;
        free(e);
    }
    assert_int_equal(total, 25);
    hh_ledger_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(store_ledger_list(st, u.id, 0, 0, &e, &n), HH_ERR_INVALID);
    assert_int_equal(store_ledger_list(st, u.id, 0, STORE_PAGE_MAX + 1, &e, &n), HH_ERR_INVALID);
    assert_int_equal(store_ledger_list(st, u.id, 0, STORE_PAGE_MAX, &e, &n), HH_OK);
    assert_int_equal(n, 25);
    free(e);
}

/* ---- the invariant under concurrency ---- */

enum { THREADS = 8, CHARGES = 50, PRICE = 7, START = 1000 };

typedef struct racer {
    hh_store *st;
    const char *user_id;
    int ok, refused, other;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    for (int i = 0; i < CHARGES; i++) {
        hh_status rc =
            store_ledger_append(r->st, r->user_id, -PRICE, HH_LEDGER_CHARGE, NULL, "race", NULL);
        if (rc == HH_OK)
            r->ok++;
        else if (rc == HH_ERR_CREDITS)
            r->refused++;
        else
            r->other++;
    }
    return NULL;
}

static void ledger_invariant_under_concurrency(void **state)
{
    fixture *f = *state;
    hh_store *st = open_store(f);
    hh_user u, got;
    make_user(st, "race@example.com", &u);
    assert_int_equal(store_ledger_append(st, u.id, START, HH_LEDGER_GRANT, NULL, NULL, NULL),
                     HH_OK);

    pthread_t t[THREADS];
    racer r[THREADS];
    for (int i = 0; i < THREADS; i++) {
        r[i] = (racer){.st = st, .user_id = u.id};
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    int ok = 0, refused = 0, other = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ok += r[i].ok;
        refused += r[i].refused;
        other += r[i].other;
    }
    /* 1000 credits pay for exactly 142 charges of 7; the other 258 are refused. */
    assert_int_equal(other, 0);
    assert_int_equal(ok, START / PRICE);
    assert_int_equal(refused, THREADS * CHARGES - START / PRICE);

    assert_int_equal(store_user_by_id(st, u.id, &got), HH_OK);
    assert_int_equal(got.credits, START % PRICE);
    int64_t sum = 0;
    assert_int_equal(store_ledger_sum(st, u.id, &sum), HH_OK);
    assert_int_equal(sum, got.credits);
    assert_int_equal(ledger_count(st, u.id), 1 + START / PRICE);

    /* Every row's balance_after is the running sum, and never negative. */
    hh_ledger_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(store_ledger_list(st, u.id, 0, STORE_PAGE_MAX, &e, &n), HH_OK);
    int64_t running = 0;
    for (size_t i = n; i-- > 0;) {
        running += e[i].amount;
        assert_int_equal(e[i].balance_after, running);
        assert_true(e[i].balance_after >= 0);
    }
    free(e);
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
    assert_int_equal(ledger_count(st, user->id), entries);
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
    make_user(st, "tx@example.com", u);
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
    snprintf(path, sizeof path, "%s/happyhorse.db", f->data);
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
    assert_int_equal(store_open(f->data, &other), HH_OK);
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
    snprintf(path, sizeof path, "%s/happyhorse.changes", f->data);
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
        T(migrations_on_empty_database),
        T(migrations_reopen_keeps_version_and_data),
        T(migrations_upgrade_older_database),
        T(migrations_refuse_newer_database),
        T(migration_canceled_keeps_rows_and_indexes),
        T(migration_favorites_keeps_videos),
        T(open_refuses_bad_locations),
        T(users_crud),
        T(users_duplicate_email),
        T(keys_lifecycle),
        T(ledger_append_and_refuse),
        T(ledger_is_append_only),
        T(ledger_pagination),
        T(ledger_invariant_under_concurrency),
        T(tx_commits_a_body_that_succeeds),
        T(tx_rolls_back_a_failing_body),
        T(tx_rolls_back_when_commit_fails),
        T(tx_gives_the_connection_back),
        T(stmt_refuses_ids_its_table_lacks),
        T(group_commits_waiting_bodies_together),
        T(group_fails_whole_when_its_commit_fails),
        T(generation_moves_with_every_commit),
        T(generation_is_0_without_its_file),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
