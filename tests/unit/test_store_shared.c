/*
 * test_store_shared.c - what the nodes of a cluster share through the
 * store: secrets (the first value stored wins, for every later caller and
 * across a reopen) and token buckets (burst, refill at the rate, a change
 * of burst, two handles on one bucket, 16 threads that never get more
 * than the burst, the bounds), ratelimit_take_store's answer, and the
 * webhook seal key kept in the store (hook_key_load).
 *
 * A contract test: on SQLite, and with HH_TEST_STORE=pg on PostgreSQL,
 * through the store fixture (unit/test_store_shared and _pg).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/ratelimit.h"
#include "api/webhook_dispatch.h"
#include "blob/presign.h"
#include "store/store.h"
#include "support/store_fixture.h"

typedef struct fixture {
    store_fixture *loc; /* the store's location, either backend */
    hh_store *st, *st2; /* two handles on one store, as two nodes hold */
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st2);
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
    hh_status rc = sf_new_open(sf_new, &f->loc, &f->st);
    if (!rc)
        rc = sf_open(f->loc, &f->st2);
    return sf_setup_end(state, teardown, rc);
}

static void test_is_shared(void **state)
{
    fixture *f = *state;
    assert_int_equal(store_is_shared(f->st), !strcmp(sf_backend(f->loc), "postgres"));
}

static void test_secret_first_wins(void **state)
{
    fixture *f = *state;
    uint8_t a[32], b[32], got[32];
    memset(a, 0xa1, sizeof a);
    memset(b, 0xb2, sizeof b);
    assert_int_equal(store_secret(f->st, "seal", a, sizeof a, got), HH_OK);
    assert_memory_equal(got, a, sizeof a);
    /* Another node proposing another value gets the first one. */
    memset(got, 0, sizeof got);
    assert_int_equal(store_secret(f->st2, "seal", b, sizeof b, got), HH_OK);
    assert_memory_equal(got, a, sizeof a);
    /* No seed: random bytes, kept as well. */
    uint8_t r1[16], r2[16];
    assert_int_equal(store_secret(f->st, "random", NULL, sizeof r1, r1), HH_OK);
    assert_int_equal(store_secret(f->st2, "random", NULL, sizeof r2, r2), HH_OK);
    assert_memory_equal(r1, r2, sizeof r1);
    /* Asked with another length: the stored one is not this caller's kind of secret. */
    assert_int_equal(store_secret(f->st, "seal", a, 16, got), HH_ERR_CONFLICT);
}

static void test_secret_survives_reopen(void **state)
{
    fixture *f = *state;
    uint8_t a[STORE_SECRET_MAX], got[STORE_SECRET_MAX];
    memset(a, 0x5c, sizeof a);
    assert_int_equal(store_secret(f->st, "k", a, sizeof a, got), HH_OK);
    assert_int_equal(sf_reopen(f->loc, &f->st), HH_OK);
    memset(got, 0, sizeof got);
    assert_int_equal(store_secret(f->st, "k", NULL, sizeof got, got), HH_OK);
    assert_memory_equal(got, a, sizeof a);
}

static void test_secret_bounds(void **state)
{
    fixture *f = *state;
    uint8_t v[STORE_SECRET_MAX + 1] = {0};
    char name[STORE_SECRET_NAME_MAX + 1];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_int_equal(store_secret(f->st, "", v, 8, v), HH_ERR_INVALID);
    assert_int_equal(store_secret(f->st, NULL, v, 8, v), HH_ERR_INVALID);
    assert_int_equal(store_secret(f->st, name, v, 8, v), HH_ERR_INVALID);
    assert_int_equal(store_secret(f->st, "x", v, 0, v), HH_ERR_INVALID);
    assert_int_equal(store_secret(f->st, "x", v, STORE_SECRET_MAX + 1, v), HH_ERR_INVALID);
    name[STORE_SECRET_NAME_MAX - 1] = '\0'; /* the longest name fits */
    assert_int_equal(store_secret(f->st, name, v, 8, v), HH_OK);
}

/* One take of key; returns allowed, *units what is left. */
static int take(hh_store *st, const char *key, int burst, int per_minute, int64_t *units)
{
    hh_rate_state s = {-1, -1};
    assert_int_equal(store_rate_take(st, key, burst, per_minute, &s), HH_OK);
    assert_true(s.allowed == 0 || s.allowed == 1);
    assert_true(s.units >= 0 && s.units <= (int64_t)burst * STORE_RATE_UNIT);
    if (units)
        *units = s.units;
    return s.allowed;
}

static void test_rate_burst(void **state)
{
    fixture *f = *state;
    int64_t u = 0;
    for (int i = 1; i <= 3; i++) {
        assert_true(take(f->st, "burst", 3, 1, &u));
        assert_int_equal(u / STORE_RATE_UNIT, 3 - i);
    }
    assert_false(take(f->st, "burst", 3, 1, &u));
    assert_true(u < STORE_RATE_UNIT);
    /* Another key has a bucket of its own. */
    assert_true(take(f->st, "other", 3, 1, NULL));
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_rate_refills(void **state)
{
    fixture *f = *state;
    /* One token a second. */
    assert_true(take(f->st, "refill", 2, 60, NULL));
    assert_true(take(f->st, "refill", 2, 60, NULL));
    assert_false(take(f->st, "refill", 2, 60, NULL));
    sleep_ms(1100);
    assert_true(take(f->st, "refill", 2, 60, NULL));
    assert_false(take(f->st, "refill", 2, 60, NULL));
    /* Idle long enough to fill: at most the burst, however long. */
    sleep_ms(2100);
    int64_t u = 0;
    assert_true(take(f->st, "refill", 2, 60, &u));
    assert_int_equal(u / STORE_RATE_UNIT, 1);
}

static void test_rate_new_burst(void **state)
{
    fixture *f = *state;
    int64_t u = 0;
    assert_true(take(f->st, "plan", 10, 1, &u));
    assert_int_equal(u / STORE_RATE_UNIT, 9);
    /* A smaller plan: what is held is cut to its burst. */
    assert_true(take(f->st, "plan", 2, 1, &u));
    assert_int_equal(u / STORE_RATE_UNIT, 1);
    assert_true(take(f->st, "plan", 2, 1, &u));
    assert_false(take(f->st, "plan", 2, 1, &u));
}

static void test_rate_two_handles(void **state)
{
    fixture *f = *state;
    int allowed = 0;
    for (int i = 0; i < 10; i++)
        allowed += take(i % 2 ? f->st2 : f->st, "nodes", 4, 1, NULL);
    assert_int_equal(allowed, 4);
}

#define THREADS 16
#define TAKES   20
#define BURST   50

typedef struct taker {
    hh_store *st;
    int allowed;
    hh_status rc;
} taker;

static void *take_many(void *arg)
{
    taker *t = arg;
    for (int i = 0; i < TAKES && !t->rc; i++) {
        hh_rate_state s;
        t->rc = store_rate_take(t->st, "crowd", BURST, 1, &s);
        t->allowed += !t->rc && s.allowed;
    }
    return NULL;
}

static void test_rate_threads(void **state)
{
    fixture *f = *state;
    pthread_t th[THREADS];
    taker t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        t[i] = (taker){i % 2 ? f->st2 : f->st, 0, HH_OK};
        assert_int_equal(pthread_create(&th[i], NULL, take_many, &t[i]), 0);
    }
    int allowed = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].rc, HH_OK);
        allowed += t[i].allowed;
    }
    /* 320 takes, one token a minute of refill: exactly the burst. */
    assert_int_equal(allowed, BURST);
}

static void test_rate_bounds(void **state)
{
    fixture *f = *state;
    hh_rate_state s;
    char key[STORE_RATE_KEY_MAX + 1];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    assert_int_equal(store_rate_take(f->st, key, 1, 1, &s), HH_ERR_INVALID);
    assert_int_equal(store_rate_take(f->st, "", 1, 1, &s), HH_ERR_INVALID);
    assert_int_equal(store_rate_take(f->st, "b", 0, 1, &s), HH_ERR_INVALID);
    assert_int_equal(store_rate_take(f->st, "b", 1, 0, &s), HH_ERR_INVALID);
    assert_int_equal(store_rate_take(f->st, "b", STORE_RATE_MAX + 1, 1, &s), HH_ERR_INVALID);
    assert_int_equal(store_rate_take(f->st, "b", 1, STORE_RATE_MAX + 1, &s), HH_ERR_INVALID);
    /* The largest bucket, idle for long, does not overflow. */
    assert_true(take(f->st, "big", STORE_RATE_MAX, STORE_RATE_MAX, NULL));
    sleep_ms(20);
    int64_t u = 0;
    assert_true(take(f->st, "big", STORE_RATE_MAX, STORE_RATE_MAX, &u));
    assert_int_equal(u, ((int64_t)STORE_RATE_MAX - 1) * STORE_RATE_UNIT);
    key[STORE_RATE_KEY_MAX - 1] = '\0'; /* the longest key fits */
    assert_true(take(f->st, key, 1, 1, NULL));
}

static void test_ratelimit_take_store(void **state)
{
    fixture *f = *state;
    ratelimit_result r;
    assert_int_equal(ratelimit_take_store(f->st, "api:u1", 5, 60, &r), HH_OK);
    assert_int_equal(r.allowed, 1);
    assert_int_equal(r.limit, 5);
    assert_int_equal(r.window_s, 60);
    assert_int_equal(r.remaining, 4);
    assert_int_equal(r.reset_s, 1); /* one token missing, one a second */
    for (int i = 0; i < 4; i++)
        assert_int_equal(ratelimit_take_store(f->st, "api:u1", 5, 60, &r), HH_OK);
    assert_int_equal(ratelimit_take_store(f->st, "api:u1", 5, 60, &r), HH_OK);
    assert_int_equal(r.allowed, 0);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_after_s, 1);
    assert_true(r.reset_s >= 4 && r.reset_s <= 5);
    /* Rates past the bound count as the bound, never as a failure. */
    assert_int_equal(ratelimit_take_store(f->st, "api:u2", INT_MAX, INT_MAX, &r), HH_OK);
    assert_int_equal(r.allowed, 1);
    assert_int_equal(r.limit, STORE_RATE_MAX);
    assert_int_equal(ratelimit_take_store(f->st, "api:u2", 0, 1, &r), HH_ERR_INVALID);
}

/* A directory under the fixture's for a node's --data. */
static void node_dir(const fixture *f, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", sf_dir(f->loc), name);
    assert_int_equal(mkdir(out, 0700) == 0 || errno == EEXIST, 1);
}

static void remove_dir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_hook_key_upgrade(void **state)
{
    fixture *f = *state;
    char old[128], bare[128], path[160];
    node_dir(f, "old-node", old, sizeof old);
    node_dir(f, "bare-node", bare, sizeof bare);
    /* An install from before: the seal key was derived from secret.key. */
    uint8_t secret[PRESIGN_SECRET_LEN], want[CRYPTO_SEAL_KEY_LEN], got[CRYPTO_SEAL_KEY_LEN];
    assert_int_equal(presign_secret_load(old, secret), HH_OK);
    crypto_hmac_sha256(secret, sizeof secret, "happyhorse webhook secrets v1", 29, want);
    assert_int_equal(hook_key_load(f->st, old, got), HH_OK);
    assert_memory_equal(got, want, sizeof want);
    /* A node with nothing in its directory gets the same key, and writes no file. */
    memset(got, 0, sizeof got);
    assert_int_equal(hook_key_load(f->st2, bare, got), HH_OK);
    assert_memory_equal(got, want, sizeof want);
    snprintf(path, sizeof path, "%s/secret.key", bare);
    assert_int_equal(access(path, F_OK), -1);
    remove_dir(old);
    remove_dir(bare);
}

static void test_hook_key_fresh(void **state)
{
    fixture *f = *state;
    char bare[128];
    node_dir(f, "fresh-node", bare, sizeof bare);
    uint8_t a[CRYPTO_SEAL_KEY_LEN], b[CRYPTO_SEAL_KEY_LEN], zero[CRYPTO_SEAL_KEY_LEN] = {0};
    assert_int_equal(hook_key_load(f->st, bare, a), HH_OK);
    assert_memory_not_equal(a, zero, sizeof a);
    assert_int_equal(hook_key_load(f->st2, bare, b), HH_OK);
    assert_memory_equal(a, b, sizeof a);
    remove_dir(bare);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_is_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_first_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_burst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_refills, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_new_burst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_two_handles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratelimit_take_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hook_key_upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hook_key_fresh, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
