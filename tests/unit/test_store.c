/*
 * test_store.c - the store's contract on either backend, a fresh store per
 * test (support/store_fixture.h): migrations (new database, reopen,
 * upgrade from an older schema and the rows it keeps), users, API keys,
 * and the credit ledger, including its invariant under many threads
 * charging one balance. What only SQLite has (its files, PRAGMAs, sq_tx,
 * the statement cache, group commit, the change counter) is tested in
 * test_store_sqlite.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "store/store.h"
#include "support/store_fixture.h"
#include "support/store_helpers.h"
#include "util/crypto.h"
#include "util/uuid.h"

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
    return sf_new(&f->loc) == HH_OK ? 0 : -1;
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

static void reopen(fixture *f)
{
    assert_int_equal(sf_reopen(f->loc, &f->st), HH_OK);
}

/* ---- migrations ---- */

static void migrations_on_empty_database(void **state)
{
    fixture *f = *state;
    hh_store *st = open_store(f);
    assert_int_equal(store_schema_version(st), sf_latest_version());
    assert_int_equal(store_ping(st), HH_OK);
}

static void migrations_reopen_keeps_version_and_data(void **state)
{
    fixture *f = *state;
    hh_user u;
    th_make_user(open_store(f), "keep@example.com", &u);
    assert_int_equal(store_ledger_append(f->st, u.id, 40, HH_LEDGER_GRANT, NULL, "x", NULL), HH_OK);
    reopen(f);
    assert_int_equal(store_schema_version(f->st), sf_latest_version());
    hh_user again;
    assert_int_equal(store_user_by_email(f->st, "keep@example.com", &again), HH_OK);
    assert_string_equal(again.id, u.id);
    assert_int_equal(again.credits, 40);
    assert_int_equal(th_ledger_count(f->st, u.id), 1);
}

static void migrations_upgrade_older_database(void **state)
{
    fixture *f = *state;
    /* A database made by an older binary: only the first schema step. */
    assert_int_equal(sf_open_version(f->loc, 1, &f->st), HH_OK);
    assert_int_equal(store_schema_version(f->st), 1);
    hh_user u;
    th_make_user(f->st, "old@example.com", &u);
    /* The later tables do not exist yet at version 1. */
    assert_int_not_equal(store_ledger_append(f->st, u.id, 5, HH_LEDGER_GRANT, NULL, NULL, NULL),
                         HH_OK);
    reopen(f);
    assert_int_equal(store_schema_version(f->st), sf_latest_version());
    hh_user again;
    assert_int_equal(store_user_by_id(f->st, u.id, &again), HH_OK);
    assert_string_equal(again.email, "old@example.com");
    int64_t bal = 0;
    assert_int_equal(store_ledger_append(f->st, u.id, 5, HH_LEDGER_GRANT, NULL, NULL, &bal), HH_OK);
    assert_int_equal(bal, 5);
    /* Opening at an older version never downgrades. */
    store_close(f->st);
    assert_int_equal(sf_open_version(f->loc, 1, &f->st), HH_OK);
    assert_int_equal(store_schema_version(f->st), sf_latest_version());
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(sf_open_version(f->loc, 0, &f->st), HH_ERR_INVALID);
    assert_int_equal(sf_open_version(f->loc, sf_latest_version() + 1, &f->st), HH_ERR_INVALID);
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
    assert_int_equal(sf_open_version(f->loc, version, &f->st), HH_OK);
    th_make_user(f->st, "old@example.com", u);
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
    assert_int_equal(sf_exec(f->loc, claim), 0);
    hh_video v;
    assert_int_equal(store_remote_begin(f->st, running, "w1", "free", "fal", INT64_MAX / 2), HH_OK);
    assert_int_equal(store_video_create(f->st, &in, queued, &replay, NULL), HH_OK);
    reopen(f);
    assert_int_equal(store_schema_version(f->st), sf_latest_version());
    assert_int_equal(store_video_get(f->st, running, u.id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_PROCESSING);
    assert_string_equal(v.prompt, "a horse");
    store_video_clear(&v);
    hh_remote_task t;
    assert_int_equal(store_remote_get(f->st, running, &t), HH_OK);
    assert_int_equal(t.phase, HH_REMOTE_SUBMIT);
    store_remote_clear(&t);
    /* Its indexes and foreign keys: migration_canceled_keeps_indexes in test_store_sqlite.c. */
    reopen(f);
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
    assert_int_equal(store_schema_version(f->st), sf_latest_version());
    hh_video v;
    assert_int_equal(store_video_get(f->st, id, u.id, &v), HH_OK);
    assert_string_equal(v.prompt, "a horse");
    assert_int_equal(v.favorite, 0);
    store_video_clear(&v);
    assert_int_equal(store_video_set_favorite(f->st, id, u.id, 1), HH_OK);
    assert_int_equal(store_video_get(f->st, id, u.id, &v), HH_OK);
    assert_int_equal(v.favorite, 1);
    store_video_clear(&v);
    assert_int_not_equal(sf_exec(f->loc, "UPDATE videos SET favorite = 2"), 0);
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
    th_make_user(st, "dup@example.com", &u);
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
    th_make_user(st, "keys@example.com", &u);
    th_make_user(st, "other@example.com", &other);
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
    th_make_user(st, "led@example.com", &u);
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
    assert_int_equal(th_ledger_count(st, u.id), 2);

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
    th_make_user(st, "ro@example.com", &u);
    assert_int_equal(store_ledger_append(st, u.id, 10, HH_LEDGER_GRANT, NULL, NULL, NULL), HH_OK);
    assert_int_not_equal(sf_exec(f->loc, "UPDATE ledger SET amount = 1000"), 0);
    assert_int_not_equal(sf_exec(f->loc, "DELETE FROM ledger"), 0);
    /* Even a direct write cannot make a balance negative. */
    assert_int_not_equal(sf_exec(f->loc, "UPDATE users SET credits = -1"), 0);
    assert_int_equal(th_ledger_count(st, u.id), 1);
    int64_t sum = 0;
    assert_int_equal(store_ledger_sum(st, u.id, &sum), HH_OK);
    assert_int_equal(sum, 10);
}

static void ledger_pagination(void **state)
{
    fixture *f = *state;
    hh_store *st = open_store(f);
    hh_user u, other;
    th_make_user(st, "page@example.com", &u);
    th_make_user(st, "noise@example.com", &other);
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
    th_make_user(st, "race@example.com", &u);
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
    assert_int_equal(th_ledger_count(st, u.id), 1 + START / PRICE);

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

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(migrations_on_empty_database),
        T(migrations_reopen_keeps_version_and_data),
        T(migrations_upgrade_older_database),
        T(migration_canceled_keeps_rows_and_indexes),
        T(migration_favorites_keeps_videos),
        T(users_crud),
        T(users_duplicate_email),
        T(keys_lifecycle),
        T(ledger_append_and_refuse),
        T(ledger_is_append_only),
        T(ledger_pagination),
        T(ledger_invariant_under_concurrency),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
