/*
 * test_store_pg_users.c - what the contract suite cannot show of the
 * PostgreSQL store's users, keys and ledger (store_pg_users.c,
 * store_pg_accounts.c): that the locks hold under real concurrency, where
 * SQLite's single writer makes races impossible. Many threads charging one
 * balance never take it below zero and every success has its ledger row;
 * racing capped key inserts never pass the cap; racing grants never pass
 * INT64_MAX. Always on PostgreSQL (sf_new_pg), on a database of its own
 * on the suite's cluster (tests/pg/cluster.sh); without one they fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "store/store.h"
#include "support/store_fixture.h"
#include "support/store_helpers.h"

#define THREADS 20
#define CHARGES 10 /* per thread */

typedef th_user_store pg_fixture;

static int setup(void **state)
{
    return th_user_store_setup(state, sf_new_pg, "race@example.com", 0);
}

static int teardown(void **state)
{
    return th_user_store_teardown(state);
}

/* One racing thread: its store, user and what its calls came to. */
typedef struct racer {
    pthread_t t;
    pg_fixture *p;
    int ok, refused, other;
    int64_t seen[CHARGES]; /* balance_after of each success */
    int max_keys;
    int index;
} racer;

static void *charge_many(void *arg)
{
    racer *r = arg;
    for (int i = 0; i < CHARGES; i++) {
        int64_t after = -1;
        hh_status rc = store_ledger_append(r->p->st, r->p->u.id, -1, HH_LEDGER_ADJUSTMENT, NULL,
                                           "race", &after);
        if (rc == HH_OK)
            r->seen[r->ok++] = after;
        else if (rc == HH_ERR_CREDITS)
            r->refused++;
        else
            r->other++;
    }
    return NULL;
}

/* 200 charges of 1 against 100 credits: exactly 100 pass, each leaves a distinct balance. */
static void test_charges_race_one_balance(void **state)
{
    pg_fixture *p = *state;
    racer r[THREADS] = {0};
    assert_int_equal(store_ledger_append(p->st, p->u.id, 100, HH_LEDGER_GRANT, NULL, "start", NULL),
                     HH_OK);
    for (int i = 0; i < THREADS; i++) {
        r[i].p = p;
        assert_int_equal(pthread_create(&r[i].t, NULL, charge_many, &r[i]), 0);
    }
    int ok = 0, refused = 0, seen[100] = {0};
    for (int i = 0; i < THREADS; i++) {
        pthread_join(r[i].t, NULL);
        assert_int_equal(r[i].other, 0);
        ok += r[i].ok;
        refused += r[i].refused;
        for (int j = 0; j < r[i].ok; j++) {
            assert_in_range(r[i].seen[j], 0, 99);
            seen[r[i].seen[j]]++;
        }
    }
    assert_int_equal(ok, 100);
    assert_int_equal(refused, THREADS * CHARGES - 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(seen[i], 1); /* each balance left once: no two charges saw the same */
    assert_int_equal(th_balance(p->st, &p->u), 0);
}

static void *insert_capped(void *arg)
{
    racer *r = arg;
    uint8_t hash[CRYPTO_SHA256_LEN] = {0};
    hash[0] = (uint8_t)r->index;
    hash[1] = 0xa5;
    hh_status rc = store_key_insert_capped(r->p->st, r->p->u.id, "racer", hash, "hh_live_x",
                                           r->max_keys, NULL);
    if (rc == HH_OK)
        r->ok++;
    else if (rc == HH_ERR_LIMIT)
        r->refused++;
    else
        r->other++;
    return NULL;
}

/* 10 racing inserts under a cap of 3 (one key held already): exactly 2 more pass. */
static void test_key_cap_holds_under_race(void **state)
{
    pg_fixture *p = *state;
    uint8_t first[CRYPTO_SHA256_LEN] = {0xff};
    assert_int_equal(store_key_insert(p->st, p->u.id, "first", first, "hh_live_f", NULL), HH_OK);
    racer r[10] = {0};
    for (int i = 0; i < 10; i++) {
        r[i].p = p;
        r[i].index = i;
        r[i].max_keys = 3;
        assert_int_equal(pthread_create(&r[i].t, NULL, insert_capped, &r[i]), 0);
    }
    int ok = 0, refused = 0;
    for (int i = 0; i < 10; i++) {
        pthread_join(r[i].t, NULL);
        assert_int_equal(r[i].other, 0);
        ok += r[i].ok;
        refused += r[i].refused;
    }
    assert_int_equal(ok, 2);
    assert_int_equal(refused, 8);
    hh_api_key *keys = NULL;
    size_t n = 0;
    assert_int_equal(store_key_list(p->st, p->u.id, &keys, &n), HH_OK);
    assert_int_equal(n, 3);
    free(keys);
}

static void *grant_big(void *arg)
{
    racer *r = arg;
    int64_t after = 0;
    hh_status rc = store_ledger_append(r->p->st, r->p->u.id, INT64_MAX / 4, HH_LEDGER_GRANT, NULL,
                                       NULL, &after);
    if (rc == HH_OK)
        r->ok++;
    else if (rc == HH_ERR_LIMIT)
        r->refused++;
    else
        r->other++;
    return NULL;
}

/* Racing grants of INT64_MAX / 4: four fit, the rest are refused with HH_ERR_LIMIT. */
static void test_grants_race_to_the_ceiling(void **state)
{
    pg_fixture *p = *state;
    racer r[8] = {0};
    for (int i = 0; i < 8; i++) {
        r[i].p = p;
        assert_int_equal(pthread_create(&r[i].t, NULL, grant_big, &r[i]), 0);
    }
    int ok = 0, refused = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(r[i].t, NULL);
        assert_int_equal(r[i].other, 0);
        ok += r[i].ok;
        refused += r[i].refused;
    }
    assert_int_equal(ok, 4);
    assert_int_equal(refused, 4);
    hh_user now;
    assert_int_equal(store_user_by_id(p->st, p->u.id, &now), HH_OK);
    assert_int_equal(now.credits, INT64_MAX / 4 * 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_charges_race_one_balance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_cap_holds_under_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grants_race_to_the_ceiling, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
