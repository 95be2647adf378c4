/*
 * test_webhooks.c - the webhook outbox in the store (either backend,
 * support/store_fixture.h) and the signature: an event's rows exist exactly
 * when its status change committed (none for a finish that lost its lease,
 * one per endpoint that takes the event, none for a deleted or disabled
 * one); one attempt at a time (a claimed delivery is not claimed again
 * until its lease lapses, and only its owner records it); a retry keeps its
 * webhook-id; 410 disables the endpoint and drops what was pending; the cap
 * of endpoints; the Standard Webhooks signature against a vector computed
 * with Python's hmac; the retry schedule and its jitter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/webhook_dispatch.h"
#include "store/store.h"
#include "support/store_fixture.h"
#include "support/store_helpers.h"
#include "util/timeutil.h"

static const uint8_t KEY[4] = {1, 2, 3, 4};

typedef th_user_store fixture;

static int setup(void **state)
{
    return th_user_store_setup(state, sf_new, "w@example.com", 1000);
}

static int teardown(void **state)
{
    return th_user_store_teardown(state);
}

/* A video of f's user, claimed by worker "w"; its id into id. */
static void claimed_video(fixture *f, char id[HH_ID_LEN])
{
    hh_video_new in = {.user_id = f->u.id,
                       .prompt = "a horse",
                       .duration_sec = 6,
                       .aspect_ratio = "16:9",
                       .resolution = "720p",
                       .request_json = "{}",
                       .price = 60,
                       .plan = "pro",
                       .max_in_flight = 5,
                       .max_attempts = 3};
    char *replay = NULL;
    assert_int_equal(store_video_create(f->st, &in, id, &replay, NULL), HH_OK);
    hh_video v;
    assert_int_equal(store_job_claim(f->st, "w", 60000, &v), HH_OK);
    assert_string_equal(v.id, id);
    store_video_clear(&v);
}

static void hook(fixture *f, const char *url, unsigned events, hh_webhook *w)
{
    assert_int_equal(store_webhook_create(f->st, f->u.id, url, events, KEY, sizeof KEY, 10, w),
                     HH_OK);
}

static int64_t pending(fixture *f)
{
    int64_t n = -1;
    assert_int_equal(store_hook_pending(f->st, &n), HH_OK);
    return n;
}

static hh_hook_result result(const hh_hook_delivery *d, hh_hook_outcome o, int status, int64_t next)
{
    hh_hook_result r = {.id = d->id, .next_at = next};
    r.a.at = hh_time_now_ms();
    r.a.status = status;
    r.a.outcome = o;
    return r;
}

static void outbox_follows_the_commit(void **state)
{
    fixture *f = *state;
    hh_webhook all, ready, failed;
    hook(f, "http://a.example/all", HH_HOOK_EVENTS_ALL, &all);
    hook(f, "http://a.example/ready", HH_HOOK_VIDEO_READY, &ready);
    hook(f, "http://a.example/failed", HH_HOOK_VIDEO_FAILED, &failed);
    char id[HH_ID_LEN];
    claimed_video(f, id);
    /* A finish by a worker that does not hold the lease rolls back: no event. */
    assert_int_equal(store_job_finish(f->st, id, "other", "v.mp4", "t.jpg"), HH_ERR_CONFLICT);
    assert_int_equal(pending(f), 0);
    assert_int_equal(store_job_finish(f->st, id, "w", "v.mp4", "t.jpg"), HH_OK);
    assert_int_equal(pending(f), 2); /* "all" and "ready" */
    hh_hook_delivery *d = NULL;
    size_t n = 0;
    int64_t now = hh_time_now_ms();
    assert_int_equal(store_hook_claim(f->st, "d1", now, 30000, 10, &d, &n), HH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].msg_id, d[1].msg_id); /* one event, one webhook-id */
    assert_string_equal(d[0].type, "video.ready");
    assert_string_equal(d[0].video_id, id);
    assert_int_equal(d[0].attempt, 1);
    assert_int_equal(d[0].secret_len, sizeof KEY);
    assert_memory_equal(d[0].secret, KEY, sizeof KEY);
    /* Claimed: nobody else gets them while the lease lives. */
    hh_hook_delivery *d2 = NULL;
    size_t n2 = 9;
    assert_int_equal(store_hook_claim(f->st, "d2", now + 29999, 30000, 10, &d2, &n2), HH_OK);
    assert_int_equal(n2, 0);
    /* A lapsed claim is free again, with the same webhook-id and the next attempt number. */
    assert_int_equal(store_hook_claim(f->st, "d2", now + 30000, 30000, 10, &d2, &n2), HH_OK);
    assert_int_equal(n2, 2);
    assert_string_equal(d2[0].msg_id, d[0].msg_id);
    assert_int_equal(d2[0].attempt, 2);
    /* The first owner lost its claims: what it records is skipped, nothing written. */
    hh_hook_result r[2] = {result(&d[0], HH_HOOK_DELIVERED, 200, 0),
                           result(&d[1], HH_HOOK_DELIVERED, 200, 0)};
    size_t skipped = 0;
    assert_int_equal(store_hook_record(f->st, "d1", r, 2, &skipped), HH_OK);
    assert_int_equal(skipped, 2);
    assert_int_equal(pending(f), 2);
    /* The owner records: one delivered, one to retry at a time of its choosing. */
    r[0] = result(&d2[0], HH_HOOK_DELIVERED, 204, 0);
    r[1] = result(&d2[1], HH_HOOK_RETRYING, 500, now + 60000);
    assert_int_equal(store_hook_record(f->st, "d2", r, 2, &skipped), HH_OK);
    assert_int_equal(skipped, 0);
    assert_int_equal(pending(f), 1);
    free(d2);
    assert_int_equal(store_hook_claim(f->st, "d3", now + 59999, 30000, 10, &d2, &n2), HH_OK);
    assert_int_equal(n2, 0); /* not due yet */
    assert_int_equal(store_hook_claim(f->st, "d3", now + 60000, 30000, 10, &d2, &n2), HH_OK);
    assert_int_equal(n2, 1);
    assert_int_equal(d2[0].attempt, 3);
    /* 410: the endpoint is disabled and gets no later event. */
    r[0] = result(&d2[0], HH_HOOK_DISABLED, 410, 0);
    assert_int_equal(store_hook_record(f->st, "d3", r, 1, NULL), HH_OK);
    hh_webhook got;
    const char *gone = !strcmp(d2[0].webhook_id, all.id) ? all.id : ready.id;
    assert_int_equal(store_webhook_get(f->st, f->u.id, gone, &got), HH_OK);
    assert_true(got.disabled_at > 0);
    hh_hook_attempt *log = NULL;
    size_t nlog = 0;
    assert_int_equal(store_hook_attempts(f->st, f->u.id, gone, 10, &log, &nlog), HH_OK);
    assert_true(nlog >= 2);
    assert_int_equal(log[0].outcome, HH_HOOK_DISABLED);
    assert_int_equal(log[0].status, 410);
    assert_int_equal(log[0].attempt, 3);
    free(log);
    free(d);
    free(d2);
    /* A failure: the failed-only endpoint and whichever of the others is live. */
    claimed_video(f, id);
    assert_int_equal(store_job_fail(f->st, id, "w", "broken", 0), HH_OK);
    assert_int_equal(pending(f), 2);
    /* Deleting an endpoint drops what it had pending. */
    assert_int_equal(store_webhook_delete(f->st, f->u.id, failed.id), HH_OK);
    assert_int_equal(pending(f), 1);
    assert_int_equal(store_webhook_delete(f->st, f->u.id, failed.id), HH_ERR_NOTFOUND);
    /* A retryable failure with attempts left is no status change: no event. */
    claimed_video(f, id);
    assert_int_equal(store_job_fail(f->st, id, "w", "again", 1), HH_OK);
    assert_int_equal(pending(f), 1);
}

static void endpoint_cap_and_owner(void **state)
{
    fixture *f = *state;
    hh_webhook w;
    for (int i = 0; i < 10; i++)
        hook(f, "http://a.example/x", HH_HOOK_VIDEO_READY, &w);
    assert_int_equal(
        store_webhook_create(f->st, f->u.id, "http://a.example/y", 1, KEY, sizeof KEY, 10, &w),
        HH_ERR_LIMIT);
    hh_webhook *list = NULL;
    size_t n = 0;
    assert_int_equal(store_webhook_list(f->st, f->u.id, &list, &n), HH_OK);
    assert_int_equal(n, 10);
    assert_int_equal(store_webhook_delete(f->st, "someone-else", list[0].id), HH_ERR_NOTFOUND);
    assert_int_equal(store_webhook_delete(f->st, f->u.id, list[0].id), HH_OK);
    free(list);
    assert_int_equal(
        store_webhook_create(f->st, f->u.id, "http://a.example/y", 1, KEY, sizeof KEY, 10, &w),
        HH_OK);
    assert_int_equal(store_webhook_create(f->st, f->u.id, "http://a.example/y", 0, KEY, 4, 10, &w),
                     HH_ERR_INVALID);
    assert_int_equal(store_webhook_create(f->st, f->u.id, "http://a.example/y", 8, KEY, 4, 10, &w),
                     HH_ERR_INVALID);
}

static void signature_vector(void **state)
{
    (void)state;
    /* python3: base64.b64encode(hmac.new(bytes([1,2,3,4]), b"msg_1.1700000000.{}",
     * hashlib.sha256).digest()) */
    char *sig = NULL;
    assert_int_equal(hook_sign(KEY, sizeof KEY, "msg_1", 1700000000, "{}", 2, &sig), HH_OK);
    assert_string_equal(sig, "v1,HJdoHLMOuGWBGvPDq7d7zwUvaRCboSCYxLXUJRvcEjU=");
    free(sig);
}

static void retry_schedule(void **state)
{
    (void)state;
    static const int64_t s[] = {5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400};
    int64_t total = 0;
    for (int a = 1; a < WEBHOOK_ATTEMPTS; a++) {
        int64_t d = hook_retry_delay_ms(a, 1.0);
        assert_true(d >= s[a - 1] * 900 && d <= s[a - 1] * 1100);
        total += d;
    }
    assert_true(total >= 24LL * 3600 * 1000); /* at least a day of retries */
    assert_int_equal(hook_retry_delay_ms(WEBHOOK_ATTEMPTS, 1.0), -1);
    assert_int_equal(hook_retry_delay_ms(0, 1.0), -1);
    int64_t d = hook_retry_delay_ms(1, 0.001);
    assert_true(d >= 4 && d <= 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(outbox_follows_the_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(endpoint_cap_and_owner, setup, teardown),
        cmocka_unit_test(signature_vector),
        cmocka_unit_test(retry_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
