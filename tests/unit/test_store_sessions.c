/*
 * test_store_sessions.c - dashboard sessions in the store, on either
 * backend (support/store_fixture.h): create and read back (with the user),
 * expiry at the exact boundary (and the expired row removed), sliding
 * refresh, logout, purge, foreign-key and uniqueness refusals, limits, and
 * persistence across a reopen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "store/store.h"
#include "support/store_fixture.h"
#include "util/crypto.h"

typedef struct fixture {
    store_fixture *loc;
    hh_store *st;
    hh_user user;
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    int rc = sf_free(f->loc);
    free(f);
    return rc;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    if (sf_new(&f->loc) || sf_open(f->loc, &f->st) ||
        store_user_create(f->st, "s@example.com", NULL, "pro", 1, &f->user)) {
        teardown(state); /* cmocka skips it after a failed setup: the database would stay */
        return -1;
    }
    return 0;
}

/* A session hash as the API makes it: SHA-256 of a random secret. */
static void new_hash(uint8_t h[32])
{
    uint8_t secret[32];
    assert_int_equal(crypto_random(secret, sizeof secret), HH_OK);
    crypto_sha256(secret, sizeof secret, h);
}

static void test_create_get(void **state)
{
    fixture *f = *state;
    uint8_t h[32];
    new_hash(h);
    assert_int_equal(store_session_create(f->st, h, f->user.id, "csrf-token-1", 1000, 5000), HH_OK);
    hh_session s;
    hh_user u;
    assert_int_equal(store_session_get(f->st, h, 4999, &s, &u), HH_OK);
    assert_string_equal(s.user_id, f->user.id);
    assert_string_equal(s.csrf, "csrf-token-1");
    assert_int_equal(s.created_at, 1000);
    assert_int_equal(s.refreshed_at, 1000);
    assert_int_equal(s.expires_at, 5000);
    assert_string_equal(u.email, "s@example.com");
    assert_string_equal(u.plan, "pro");
    /* Both out-parameters are optional. */
    assert_int_equal(store_session_get(f->st, h, 4999, NULL, NULL), HH_OK);

    /* A hash that was never stored (one bit off) is unknown. */
    uint8_t other[32];
    memcpy(other, h, 32);
    other[31] ^= 1;
    assert_int_equal(store_session_get(f->st, other, 1000, &s, NULL), HH_ERR_NOTFOUND);
}

static void test_expiry_boundary(void **state)
{
    fixture *f = *state;
    uint8_t h[32];
    new_hash(h);
    assert_int_equal(store_session_create(f->st, h, f->user.id, "c", 0, 5000), HH_OK);
    assert_int_equal(store_session_get(f->st, h, 4999, NULL, NULL), HH_OK);
    /* At expires_at it is over, and it is removed: an earlier clock does not revive it. */
    assert_int_equal(store_session_get(f->st, h, 5000, NULL, NULL), HH_ERR_NOTFOUND);
    assert_int_equal(store_session_get(f->st, h, 1, NULL, NULL), HH_ERR_NOTFOUND);
    assert_int_equal(store_session_delete(f->st, h), HH_ERR_NOTFOUND);
}

static void test_touch_slides(void **state)
{
    fixture *f = *state;
    uint8_t h[32];
    new_hash(h);
    assert_int_equal(store_session_create(f->st, h, f->user.id, "c", 0, 5000), HH_OK);
    assert_int_equal(store_session_touch(f->st, h, 4000, 9000), HH_OK);
    hh_session s;
    assert_int_equal(store_session_get(f->st, h, 8999, &s, NULL), HH_OK);
    assert_int_equal(s.refreshed_at, 4000);
    assert_int_equal(s.expires_at, 9000);
    assert_int_equal(s.created_at, 0);
    assert_int_equal(store_session_delete(f->st, h), HH_OK);
    assert_int_equal(store_session_touch(f->st, h, 4000, 9000), HH_ERR_NOTFOUND);
}

static void test_logout(void **state)
{
    fixture *f = *state;
    uint8_t a[32], b[32];
    new_hash(a);
    new_hash(b);
    assert_int_equal(store_session_create(f->st, a, f->user.id, "ca", 0, 5000), HH_OK);
    assert_int_equal(store_session_create(f->st, b, f->user.id, "cb", 0, 5000), HH_OK);
    assert_int_equal(store_session_delete(f->st, a), HH_OK);
    assert_int_equal(store_session_get(f->st, a, 1, NULL, NULL), HH_ERR_NOTFOUND);
    assert_int_equal(store_session_delete(f->st, a), HH_ERR_NOTFOUND);
    /* The user's other session (another browser) is untouched. */
    hh_session s;
    assert_int_equal(store_session_get(f->st, b, 1, &s, NULL), HH_OK);
    assert_string_equal(s.csrf, "cb");
}

static void test_purge(void **state)
{
    fixture *f = *state;
    uint8_t h[3][32];
    for (int i = 0; i < 3; i++) {
        new_hash(h[i]);
        assert_int_equal(
            store_session_create(f->st, h[i], f->user.id, "c", 0, 1000 * (int64_t)(i + 1)), HH_OK);
    }
    int64_t removed = -1;
    assert_int_equal(store_session_purge(f->st, 2000, &removed), HH_OK);
    assert_int_equal(removed, 2);
    assert_int_equal(store_session_get(f->st, h[2], 2000, NULL, NULL), HH_OK);
    assert_int_equal(store_session_purge(f->st, 2000, NULL), HH_OK);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    uint8_t h[32];
    new_hash(h);
    assert_int_equal(
        store_session_create(f->st, h, "0190aaaa-0000-7000-8000-000000000000", "c", 0, 5000),
        HH_ERR_NOTFOUND);
    char big[STORE_CSRF_MAX + 1];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(store_session_create(f->st, h, f->user.id, big, 0, 5000), HH_ERR_INVALID);
    big[STORE_CSRF_MAX - 1] = '\0'; /* the longest that fits */
    assert_int_equal(store_session_create(f->st, h, f->user.id, big, 0, 5000), HH_OK);
    assert_int_equal(store_session_create(f->st, h, f->user.id, "c", 0, 5000), HH_ERR_EXISTS);
    assert_int_equal(store_session_create(f->st, h, f->user.id, "", 0, 5000), HH_ERR_INVALID);
}

static void test_survives_reopen(void **state)
{
    fixture *f = *state;
    uint8_t h[32];
    new_hash(h);
    assert_int_equal(store_session_create(f->st, h, f->user.id, "persist", 0, 5000), HH_OK);
    assert_int_equal(sf_reopen(f->loc, &f->st), HH_OK);
    hh_session s;
    assert_int_equal(store_session_get(f->st, h, 1, &s, NULL), HH_OK);
    assert_string_equal(s.csrf, "persist");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_get), T(test_expiry_boundary), T(test_touch_slides),    T(test_logout),
        T(test_purge),      T(test_refusals),        T(test_survives_reopen),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
