/*
 * store_helpers.c - the shared cmocka steps of store_helpers.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "support/store_helpers.h"

void th_make_user(hh_store *st, const char *email, hh_user *u)
{
    assert_int_equal(store_user_create(st, email, NULL, "free", 1, u), HH_OK);
}

hh_status th_new_user(hh_store *st, const char *email, const char *plan, int64_t credits,
                      hh_user *u)
{
    hh_status rc = store_user_create(st, email, NULL, plan, 1, u);
    if (rc == HH_OK && credits > 0)
        rc = store_ledger_append(st, u->id, credits, HH_LEDGER_GRANT, NULL, NULL, NULL);
    return rc;
}

int th_user_store_teardown(void **state)
{
    th_user_store *f = *state;
    int rc = sf_close_free(f->loc, f->st);
    free(f);
    return rc;
}

int th_user_store_setup(void **state, hh_status (*make)(store_fixture **out), const char *email,
                        int64_t credits)
{
    th_user_store *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    hh_status rc = sf_new_open(make, &f->loc, &f->st);
    if (!rc)
        rc = th_new_user(f->st, email, "pro", credits, &f->u);
    return sf_setup_end(state, th_user_store_teardown, rc);
}

void th_user_with_credits(hh_store *st, const char *email, int64_t credits, hh_user *u)
{
    assert_int_equal(th_new_user(st, email, "pro", credits, u), HH_OK);
}

size_t th_ledger_count(hh_store *st, const char *user_id)
{
    hh_ledger_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(store_ledger_list(st, user_id, 0, STORE_PAGE_MAX, &e, &n), HH_OK);
    free(e);
    return n;
}

int64_t th_balance(hh_store *st, const hh_user *u)
{
    hh_user now;
    int64_t sum;
    assert_int_equal(store_user_by_id(st, u->id, &now), HH_OK);
    assert_int_equal(store_ledger_sum(st, u->id, &sum), HH_OK);
    assert_int_equal(now.credits, sum); /* the invariant, checked at every look */
    return now.credits;
}

hh_video_new th_video_req(const hh_user *u, int64_t price, int cap)
{
    hh_video_new in = {
        .user_id = u->id,
        .prompt = "a horse in a meadow",
        .style = "cinematic",
        .duration_sec = 6,
        .aspect_ratio = "16:9",
        .resolution = "720p",
        .request_json = "{\"prompt\":\"a horse in a meadow\"}",
        .price = price,
        .plan = "pro",
        .max_in_flight = cap,
    };
    return in;
}

void th_assert_five_of_twenty(hh_store *st, const hh_user *c, int ok, int refused)
{
    assert_int_equal(ok, 5);
    assert_int_equal(refused, 15);
    assert_int_equal(th_balance(st, c), 0);
    hh_video *list;
    size_t n;
    assert_int_equal(store_video_list(st, c->id, NULL, HH_VIDEO_ANY, 100, &list, &n), HH_OK);
    assert_int_equal(n, 5); /* a video for every charge, none without */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(list[i].credits_charged, 100);
    store_video_list_free(list, n);
}
