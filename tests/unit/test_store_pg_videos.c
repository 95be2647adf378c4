/*
 * test_store_pg_videos.c - the races of store_video_create that only the
 * PostgreSQL store can lose, since its transactions run at once where
 * SQLite's run one at a time: 20 threads creating with one
 * Idempotency-Key make one video and 19 replays of its answer, and 20
 * threads racing for the credits of 5 videos get exactly 5 created, the
 * rest HH_ERR_CREDITS, the ledger's invariant kept; 20 threads canceling
 * one video refund it once. Each test gets its own
 * database on the suite's cluster (sf_new_pg); without one they fail.
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

#define RACERS 20
#define PRICE  60

typedef th_user_store fixture;

static int setup(void **state)
{
    return th_user_store_setup(state, sf_new_pg, "racer@example.com", 0);
}

static int teardown(void **state)
{
    return th_user_store_teardown(state);
}

/* One racer's create and what it got. */
typedef struct racer {
    fixture *f;
    const char *idem_key; /* NULL: a create of its own */
    hh_status rc;
    char id[HH_ID_LEN];
    char *replay;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    static const uint8_t hash[CRYPTO_SHA256_LEN] = {1, 2, 3};
    hh_video_new in = th_video_req(&r->f->u, PRICE, 5);
    in.idem_key = r->idem_key;
    in.idem_hash = r->idem_key ? hash : NULL;
    in.response_body = "{\"id\":\"first\"}";
    r->rc = store_video_create(r->f->st, &in, r->id, &r->replay, NULL);
    return NULL;
}

/* Runs RACERS creates at once into rs. */
static void run_race(fixture *f, racer *rs, const char *idem_key)
{
    pthread_t t[RACERS];
    for (int i = 0; i < RACERS; i++) {
        rs[i] = (racer){.f = f, .idem_key = idem_key};
        assert_int_equal(pthread_create(&t[i], NULL, race, &rs[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
}

/* The user's videos, and the balance checked against the ledger. */
static size_t videos_of(fixture *f, int64_t *credits)
{
    hh_video *list;
    size_t n;
    assert_int_equal(store_video_list(f->st, f->u.id, NULL, HH_VIDEO_ANY, 100, &list, &n), HH_OK);
    store_video_list_free(list, n);
    *credits = th_balance(f->st, &f->u);
    return n;
}

static void test_one_key_one_video(void **state)
{
    fixture *f = *state;
    racer rs[RACERS];
    int64_t credits;
    int created = 0, replays = 0;
    assert_int_equal(store_ledger_append(f->st, f->u.id, 10000, HH_LEDGER_GRANT, NULL, NULL, NULL),
                     HH_OK);
    run_race(f, rs, "one-key");
    for (int i = 0; i < RACERS; i++) {
        assert_int_equal(rs[i].rc, HH_OK);
        if (rs[i].replay) {
            assert_string_equal(rs[i].replay, "{\"id\":\"first\"}");
            assert_string_equal(rs[i].id, "");
            replays++;
        } else {
            assert_true(rs[i].id[0] != '\0');
            created++;
        }
        free(rs[i].replay);
    }
    assert_int_equal(created, 1);
    assert_int_equal(replays, RACERS - 1);
    assert_int_equal(videos_of(f, &credits), 1);
    assert_int_equal(credits, 10000 - PRICE);
}

/* One canceler's call and what it got. */
typedef struct canceler {
    fixture *f;
    const char *id;
    hh_status rc;
    int64_t refunded;
} canceler;

static void *cancel_one(void *arg)
{
    canceler *k = arg;
    k->rc = store_video_cancel(k->f->st, k->id, k->f->u.id, NULL, &k->refunded);
    return NULL;
}

static void test_cancels_refund_once(void **state)
{
    fixture *f = *state;
    racer r = {.f = f};
    canceler ks[RACERS];
    pthread_t t[RACERS];
    int64_t credits;
    int canceled = 0;
    assert_int_equal(store_ledger_append(f->st, f->u.id, PRICE, HH_LEDGER_GRANT, NULL, NULL, NULL),
                     HH_OK);
    race(&r);
    assert_int_equal(r.rc, HH_OK);
    for (int i = 0; i < RACERS; i++) {
        ks[i] = (canceler){.f = f, .id = r.id};
        assert_int_equal(pthread_create(&t[i], NULL, cancel_one, &ks[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < RACERS; i++) {
        if (ks[i].rc == HH_OK) {
            assert_int_equal(ks[i].refunded, PRICE);
            canceled++;
        } else {
            assert_int_equal(ks[i].rc, HH_ERR_CONFLICT);
            assert_int_equal(ks[i].refunded, 0);
        }
    }
    assert_int_equal(canceled, 1);
    assert_int_equal(videos_of(f, &credits), 1);
    assert_int_equal(credits, PRICE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_key_one_video, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancels_refund_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
