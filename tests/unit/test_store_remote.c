/*
 * test_store_remote.c - the remote tasks of provider engines in the store
 * (either backend, support/store_fixture.h), to every boundary the driver
 * relies on: a hand-off needs the lease and leaves the job running without
 * one (still counted in flight, never expired); only due, unclaimed tasks
 * are claimed and two owners never hold one task; a lapsed claim is free
 * again; every update gives the claim back; a task of a settled video
 * cannot be touched; collect queues the job with fresh attempts; a failure
 * refunds exactly once; finishing or failing the job settles its task.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "support/store_fixture.h"
#include "support/store_helpers.h"
#include "util/timeutil.h"

typedef th_user_store fixture;

static int setup(void **state)
{
    return th_user_store_setup(state, sf_new, "r@example.com", 1000);
}

static int teardown(void **state)
{
    return th_user_store_teardown(state);
}

/* A video of 60 credits, claimed by worker w (its lease held). */
static void claimed_video(fixture *f, const char *w, char id[HH_ID_LEN])
{
    hh_video_new in = {.user_id = f->u.id,
                       .prompt = "a horse",
                       .duration_sec = 6,
                       .aspect_ratio = "16:9",
                       .resolution = "720p",
                       .request_json = "{}",
                       .price = 60,
                       .plan = "pro",
                       .max_in_flight = 5};
    char *replay = NULL;
    assert_int_equal(store_video_create(f->st, &in, id, &replay, NULL), HH_OK);
    hh_video v;
    assert_int_equal(store_job_claim(f->st, w, 60000, &v), HH_OK);
    assert_string_equal(v.id, id);
    store_video_clear(&v);
}

static int64_t balance(fixture *f)
{
    hh_user u;
    assert_int_equal(store_user_by_id(f->st, f->u.id, &u), HH_OK);
    return u.credits;
}

static size_t claim(fixture *f, hh_remote_phase phase, const char *owner, int64_t claim_ms,
                    hh_remote_task **out)
{
    size_t n = 0;
    assert_int_equal(store_remote_claim(f->st, "pro", phase, owner, claim_ms, 10, out, &n), HH_OK);
    return n;
}

static void test_hand_off(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN];
    claimed_video(f, "w1", id);
    int64_t far = hh_time_now_ms() + 3600000;
    assert_int_equal(store_remote_begin(f->st, id, "w2", "pro", "dashscope", far), HH_ERR_CONFLICT);
    assert_int_equal(store_remote_begin(f->st, id, "w1", "pro", "dashscope", far), HH_OK);
    assert_int_equal(store_remote_begin(f->st, id, "w1", "pro", "dashscope", far), HH_ERR_CONFLICT);
    /* The job holds no lease now: the worker's heartbeat is refused, no expiry reclaims it. */
    assert_int_equal(store_job_heartbeat(f->st, id, "w1", 10, 60000), HH_ERR_CONFLICT);
    hh_video v;
    assert_int_equal(store_job_claim(f->st, "w3", 1, &v), HH_ERR_NOTFOUND);
    hh_queue_stats qs;
    assert_int_equal(store_queue_stats(f->st, &qs), HH_OK);
    assert_int_equal(qs.lease_expired, 0);
    hh_remote_task t;
    assert_int_equal(store_remote_get(f->st, id, &t), HH_OK);
    assert_int_equal(t.phase, HH_REMOTE_SUBMIT);
    assert_string_equal(t.engine, "dashscope");
    assert_null(t.task);
    assert_int_equal(t.deadline_at, far);
    store_remote_clear(&t);
    assert_int_equal(store_remote_get(f->st, "01a2b3c4-0000-7000-8000-000000000000", &t),
                     HH_ERR_NOTFOUND);
}

static void test_claims(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN];
    claimed_video(f, "w1", id);
    assert_int_equal(store_remote_begin(f->st, id, "w1", "pro", "fal", hh_time_now_ms() + 60000),
                     HH_OK);
    hh_remote_task *ts = NULL;
    assert_int_equal(claim(f, HH_REMOTE_WAIT, "d1", 60000, &ts), 0); /* other phase */
    size_t n = 0;
    assert_int_equal(store_remote_claim(f->st, "basic", HH_REMOTE_SUBMIT, "d1", 60000, 10, &ts, &n),
                     HH_OK);
    assert_int_equal(n, 0); /* other plan */
    assert_int_equal(claim(f, HH_REMOTE_SUBMIT, "d1", 60000, &ts), 1);
    assert_string_equal(ts[0].video_id, id);
    store_remote_list_free(ts, 1);
    assert_int_equal(claim(f, HH_REMOTE_SUBMIT, "d2", 60000, &ts), 0); /* claimed by d1 */
    /* Only the owner may answer; the answer gives the claim back. */
    hh_remote_update u = {.task = "{\"id\":\"t1\"}", .next_at = 0, .created = 1, .progress = 7};
    assert_int_equal(store_remote_update(f->st, id, "d2", &u), HH_ERR_CONFLICT);
    assert_int_equal(store_remote_update(f->st, id, "d1", &u), HH_OK);
    assert_int_equal(store_remote_update(f->st, id, "d1", &u), HH_ERR_CONFLICT);
    hh_remote_task t;
    assert_int_equal(store_remote_get(f->st, id, &t), HH_OK);
    assert_int_equal(t.phase, HH_REMOTE_WAIT);
    assert_int_equal(t.creates, 1);
    assert_string_equal(t.task, "{\"id\":\"t1\"}");
    assert_true(t.submitted_at > 0);
    store_remote_clear(&t);
    hh_video v;
    assert_int_equal(store_video_get_any(f->st, id, &v), HH_OK);
    assert_int_equal(v.progress, 7);
    store_video_clear(&v);
    /* A claim that lapsed (its driver died) is anyone's again. */
    assert_int_equal(claim(f, HH_REMOTE_WAIT, "d2", 1, &ts), 1);
    store_remote_list_free(ts, 1);
    usleep(5000);
    assert_int_equal(claim(f, HH_REMOTE_WAIT, "d3", 60000, &ts), 1);
    store_remote_list_free(ts, 1);
    /* A transient error counts in errors, not polls; a good poll resets it. */
    hh_remote_update bad = {
        .next_at = hh_time_now_ms() + 60000, .transient = 1, .progress = -1, .detail = "HTTP 503"};
    assert_int_equal(store_remote_update(f->st, id, "d3", &bad), HH_OK);
    assert_int_equal(store_remote_get(f->st, id, &t), HH_OK);
    assert_int_equal(t.errors, 1);
    assert_int_equal(t.polls, 0);
    assert_string_equal(t.detail, "HTTP 503");
    store_remote_clear(&t);
    assert_int_equal(claim(f, HH_REMOTE_WAIT, "d3", 60000, &ts), 0); /* not due for a minute */
    /* A stopping driver gives its claims back. */
    assert_int_equal(store_remote_release(f->st, "d3"), HH_OK);
    assert_int_equal(store_remote_claim(f->st, "pro", HH_REMOTE_WAIT, "d3", 60000, 0, &ts, &n),
                     HH_ERR_INVALID);
    assert_int_equal(store_remote_claim(f->st, "pro", HH_REMOTE_COLLECT, "d3", 60000, 1, &ts, &n),
                     HH_ERR_INVALID);
}

static void test_collect_and_finish(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN];
    claimed_video(f, "w1", id);
    assert_int_equal(
        store_remote_begin(f->st, id, "w1", "pro", "dashscope", hh_time_now_ms() + 60000), HH_OK);
    hh_remote_task *ts = NULL;
    assert_int_equal(claim(f, HH_REMOTE_SUBMIT, "d1", 60000, &ts), 1);
    store_remote_list_free(ts, 1);
    hh_remote_update u = {.task = "{\"id\":\"t\"}", .created = 1, .progress = -1};
    assert_int_equal(store_remote_update(f->st, id, "d1", &u), HH_OK);
    assert_int_equal(claim(f, HH_REMOTE_WAIT, "d1", 60000, &ts), 1);
    store_remote_list_free(ts, 1);
    assert_int_equal(store_remote_collect(f->st, id, "d1", "{\"id\":\"t\",\"videoUrl\":\"u\"}",
                                          "{\"duration\":5}", 1.25),
                     HH_OK);
    /* Back in the queue with fresh attempts; the video stays processing. */
    hh_video v;
    assert_int_equal(store_job_claim(f->st, "w9", 60000, &v), HH_OK);
    assert_string_equal(v.id, id);
    assert_int_equal(v.attempts, 1);
    assert_int_equal(v.status, HH_VIDEO_PROCESSING);
    store_video_clear(&v);
    hh_remote_task t;
    assert_int_equal(store_remote_get(f->st, id, &t), HH_OK);
    assert_int_equal(t.phase, HH_REMOTE_COLLECT);
    assert_string_equal(t.usage, "{\"duration\":5}");
    assert_true(t.cost > 1.24 && t.cost < 1.26);
    store_remote_clear(&t);
    assert_int_equal(store_job_finish(f->st, id, "w9", "videos/outputs/x.mp4", "t.jpg"), HH_OK);
    assert_int_equal(store_remote_get(f->st, id, &t), HH_OK);
    assert_int_equal(t.phase, HH_REMOTE_DONE);
    assert_true(t.done_at > 0);
    store_remote_clear(&t);
    assert_int_equal(balance(f), 940);
}

static void test_fail_refunds_once(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN];
    claimed_video(f, "w1", id);
    assert_int_equal(
        store_remote_begin(f->st, id, "w1", "pro", "dashscope", hh_time_now_ms() + 60000), HH_OK);
    assert_int_equal(balance(f), 940);
    hh_remote_task *ts = NULL;
    assert_int_equal(claim(f, HH_REMOTE_SUBMIT, "d1", 60000, &ts), 1);
    store_remote_list_free(ts, 1);
    assert_int_equal(store_remote_fail(f->st, id, "d2", "no", "x"), HH_ERR_CONFLICT); /* no claim */
    assert_int_equal(store_remote_fail(f->st, id, "d1", "The provider refused.", "code X"), HH_OK);
    assert_int_equal(balance(f), 1000);
    assert_int_equal(store_remote_fail(f->st, id, NULL, "again", "y"), HH_ERR_CONFLICT);
    assert_int_equal(balance(f), 1000);
    hh_remote_task t;
    assert_int_equal(store_remote_get(f->st, id, &t), HH_OK);
    assert_int_equal(t.phase, HH_REMOTE_FAILED);
    assert_string_equal(t.detail, "code X");
    store_remote_clear(&t);
    hh_video v;
    assert_int_equal(store_video_get_any(f->st, id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_FAILED);
    assert_string_equal(v.error_message, "The provider refused.");
    store_video_clear(&v);
    int64_t sum = 0;
    assert_int_equal(store_ledger_sum(f->st, f->u.id, &sum), HH_OK);
    assert_int_equal(sum, 1000);
}

/* An operator's fail settles the task: the driver's next answer is refused. */
static void test_operator_fail_settles(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN];
    claimed_video(f, "w1", id);
    assert_int_equal(store_remote_begin(f->st, id, "w1", "pro", "fal", hh_time_now_ms() + 60000),
                     HH_OK);
    hh_remote_task *ts = NULL;
    assert_int_equal(claim(f, HH_REMOTE_SUBMIT, "d1", 60000, &ts), 1);
    store_remote_list_free(ts, 1);
    assert_int_equal(store_job_fail(f->st, id, NULL, "Cancelled by an operator.", 0), HH_OK);
    hh_remote_update u = {.task = "{\"id\":\"t\"}", .created = 1, .progress = -1};
    assert_int_equal(store_remote_update(f->st, id, "d1", &u), HH_ERR_CONFLICT);
    assert_int_equal(store_remote_collect(f->st, id, "d1", "{}", NULL, 0), HH_ERR_CONFLICT);
    assert_int_equal(claim(f, HH_REMOTE_SUBMIT, "d2", 60000, &ts), 0);
    int64_t counts[HH_REMOTE_PHASE_COUNT];
    assert_int_equal(store_remote_counts(f->st, counts), HH_OK);
    assert_int_equal(counts[HH_REMOTE_FAILED], 1);
    assert_int_equal(counts[HH_REMOTE_SUBMIT], 0);
    assert_int_equal(balance(f), 1000);
}

/* The driver's claim: only queued jobs of its plans that no provider has made yet. */
static void test_claim_plans(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN];
    claimed_video(f, "w1", id); /* a pro job, now running */
    hh_video v;
    assert_int_equal(store_job_claim_plans(f->st, "d1", 60000, "[\"pro\"]", &v), HH_ERR_NOTFOUND);
    assert_int_equal(store_remote_begin(f->st, id, "w1", "pro", "fal", hh_time_now_ms() + 60000),
                     HH_OK);
    hh_video_new in = {.user_id = f->u.id,
                       .prompt = "a second horse",
                       .duration_sec = 6,
                       .aspect_ratio = "16:9",
                       .resolution = "720p",
                       .request_json = "{}",
                       .price = 60,
                       .plan = "pro",
                       .max_in_flight = 5};
    char id2[HH_ID_LEN], *replay = NULL;
    assert_int_equal(store_video_create(f->st, &in, id2, &replay, NULL), HH_OK);
    assert_int_equal(store_job_claim_plans(f->st, "d1", 60000, "[\"basic\",\"max\"]", &v),
                     HH_ERR_NOTFOUND); /* other plans */
    assert_int_equal(store_job_claim_plans(f->st, "d1", 60000, "[\"basic\",\"pro\"]", &v), HH_OK);
    assert_string_equal(v.id, id2);
    store_video_clear(&v);
    assert_int_equal(store_job_release(f->st, id2, "d1"), HH_OK);
    /* A job back from its provider is for render threads only. */
    hh_remote_task *ts = NULL;
    assert_int_equal(claim(f, HH_REMOTE_SUBMIT, "d1", 60000, &ts), 1);
    store_remote_list_free(ts, 1);
    assert_int_equal(store_remote_collect(f->st, id, "d1", "{\"id\":\"t\"}", NULL, 0), HH_OK);
    assert_int_equal(store_job_claim_plans(f->st, "d1", 60000, "[\"pro\"]", &v), HH_OK);
    assert_string_equal(v.id, id2); /* the collect-stage job, older, is passed over */
    store_video_clear(&v);
    assert_int_equal(store_job_claim_plans(f->st, "d1", 60000, "[\"pro\"]", &v), HH_ERR_NOTFOUND);
    assert_int_equal(store_job_claim(f->st, "w2", 60000, &v), HH_OK);
    assert_string_equal(v.id, id);
    store_video_clear(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hand_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collect_and_finish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_refunds_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operator_fail_settles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_plans, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
