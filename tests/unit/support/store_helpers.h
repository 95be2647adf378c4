/*
 * store_helpers.h - small cmocka steps the store's tests share, backend
 * and file alike (test_store.c, test_queue.c and their SQLite-only cases in
 * test_store_sqlite.c, the setups of the contract and PostgreSQL tests): making users, reading
 * balances with the ledger invariant checked at every look, and a video request.
 */
#ifndef HH_TEST_STORE_HELPERS_H
#define HH_TEST_STORE_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "support/store_fixture.h"

/* A user of plan free with API access, no credits. */
void th_make_user(hh_store *st, const char *email, hh_user *u);
/*
 * A user of plan with API access, granted credits when > 0; the status of
 * the first step that failed (no assert: cmocka setups use it, see sf_setup_end).
 */
hh_status th_new_user(hh_store *st, const char *email, const char *plan, int64_t credits,
                      hh_user *u);
/*
 * The cmocka fixture of the tests with one store and one user: a fresh
 * location from make (sf_new, sf_new_pg), a store on it and a user of plan
 * pro granted credits. th_user_store_setup puts it in *state (freed again
 * when a step fails, see sf_setup_end); th_user_store_teardown removes it.
 */
typedef struct th_user_store {
    store_fixture *loc;
    hh_store *st;
    hh_user u;
} th_user_store;
int th_user_store_setup(void **state, hh_status (*make)(store_fixture **out), const char *email,
                        int64_t credits);
int th_user_store_teardown(void **state);
/* A user of plan pro granted credits. */
void th_user_with_credits(hh_store *st, const char *email, int64_t credits, hh_user *u);
/* The number of the user's ledger rows (at most STORE_PAGE_MAX). */
size_t th_ledger_count(hh_store *st, const char *user_id);
/* The user's balance, asserting it equals the ledger's sum. */
int64_t th_balance(hh_store *st, const hh_user *u);
/* A request of u's (plan pro, 6 s at 720p) at price, with an in-flight cap. */
hh_video_new th_video_req(const hh_user *u, int64_t price, int cap);
/* After 20 creates of 100 against 500 credits: 5 made, 15 refused, nothing left, a video each. */
void th_assert_five_of_twenty(hh_store *st, const hh_user *c, int ok, int refused);

#endif
