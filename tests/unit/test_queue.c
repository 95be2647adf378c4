/*
 * test_queue.c - videos, charges and the job queue in the store, on either
 * backend (support/store_fixture.h): one charge per video, idempotent
 * replays, the balance under racing creates, fair claiming under in-flight
 * caps (a burst never starves a single job, with one worker or two),
 * leases that expire and are reclaimed, attempts that run out, refunds
 * made exactly once, and the 24-hour idempotency window. Creates that
 * commit as one SQLite group are in test_store_sqlite.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "jobs/job_metrics.h"
#include "store/store.h"
#include "support/store_fixture.h"
#include "support/store_helpers.h"

typedef struct fixture {
    store_fixture *loc;
    hh_store *st;
    hh_user a, b;
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
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
        rc = th_new_user(f->st, "a@example.com", "pro", 10000, &f->a);
    if (!rc)
        rc = th_new_user(f->st, "b@example.com", "pro", 10000, &f->b);
    return sf_setup_end(state, teardown, rc);
}

static void create(fixture *f, const hh_user *u, int cap, char id[HH_ID_LEN])
{
    hh_video_new in = th_video_req(u, 60, cap);
    char *replay = NULL;
    assert_int_equal(store_video_create(f->st, &in, id, &replay, NULL), HH_OK);
    assert_null(replay);
}

static void create_charges_once_and_replays(void **state)
{
    fixture *f = *state;
    uint8_t h1[32] = {1}, h2[32] = {2};
    hh_video_new in = th_video_req(&f->a, 60, 5);
    in.idem_key = "key-1";
    in.idem_hash = h1;
    in.response_body = "{\"id\":\"first\"}";
    char id[HH_ID_LEN], id2[HH_ID_LEN];
    char *replay = NULL;
    assert_int_equal(store_video_create(f->st, &in, id, &replay, NULL), HH_OK);
    assert_null(replay);
    assert_int_equal(th_balance(f->st, &f->a), 10000 - 60);

    assert_int_equal(store_video_create(f->st, &in, id2, &replay, NULL), HH_OK);
    assert_non_null(replay);
    assert_string_equal(replay, "{\"id\":\"first\"}");
    assert_string_equal(id2, "");
    free(replay);
    assert_int_equal(th_balance(f->st, &f->a), 10000 - 60);

    in.idem_hash = h2; /* same key, other body */
    assert_int_equal(store_video_create(f->st, &in, id2, &replay, NULL), HH_ERR_CONFLICT);
    assert_null(replay);
    /* The same key is another user's own namespace. */
    in.user_id = f->b.id;
    assert_int_equal(store_video_create(f->st, &in, id2, &replay, NULL), HH_OK);
    assert_null(replay);

    hh_video v;
    assert_int_equal(store_video_get(f->st, id, f->a.id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_QUEUED);
    assert_int_equal(v.credits_charged, 60);
    assert_string_equal(v.prompt, "a horse in a meadow");
    assert_string_equal(v.style, "cinematic");
    assert_string_equal(v.plan, "pro");
    store_video_clear(&v);
    assert_int_equal(store_video_get(f->st, id, f->b.id, &v), HH_ERR_NOTFOUND);
    assert_int_equal(store_video_get(f->st, "01900000-0000-7000-8000-000000000000", f->a.id, &v),
                     HH_ERR_NOTFOUND);
}

static void insufficient_credits_writes_nothing(void **state)
{
    fixture *f = *state;
    hh_video_new in = th_video_req(&f->a, 10001, 5);
    char id[HH_ID_LEN];
    char *replay = NULL;
    int64_t bal = -1;
    assert_int_equal(store_video_create(f->st, &in, id, &replay, &bal), HH_ERR_CREDITS);
    assert_int_equal(bal, 10000);
    assert_int_equal(th_balance(f->st, &f->a), 10000);
    hh_video *list;
    size_t n;
    assert_int_equal(store_video_list(f->st, f->a.id, NULL, HH_VIDEO_ANY, 10, &list, &n), HH_OK);
    assert_int_equal(n, 0);
    store_video_list_free(list, n);
}

typedef struct racer {
    fixture *f;
    hh_user *u;
    hh_status rc;
} racer;

static void *race_create(void *arg)
{
    racer *r = arg;
    hh_video_new in = th_video_req(r->u, 100, 5);
    char id[HH_ID_LEN];
    char *replay = NULL;
    r->rc = store_video_create(r->f->st, &in, id, &replay, NULL);
    free(replay);
    return NULL;
}

static void racing_creates_never_overdraw(void **state)
{
    fixture *f = *state;
    hh_user c;
    th_user_with_credits(f->st, "c@example.com", 500, &c);
    pthread_t t[20];
    racer r[20];
    for (int i = 0; i < 20; i++) {
        r[i] = (racer){f, &c, HH_OK};
        assert_int_equal(pthread_create(&t[i], NULL, race_create, &r[i]), 0);
    }
    int ok = 0, refused = 0;
    for (int i = 0; i < 20; i++) {
        pthread_join(t[i], NULL);
        ok += r[i].rc == HH_OK;
        refused += r[i].rc == HH_ERR_CREDITS;
    }
    th_assert_five_of_twenty(f->st, &c, ok, refused);
}

static void claim(fixture *f, const char *worker, int64_t lease, hh_status want, char *id_out)
{
    hh_video v;
    hh_status rc = store_job_claim(f->st, worker, lease, &v);
    assert_int_equal(rc, want);
    if (!rc) {
        assert_int_equal(v.status, HH_VIDEO_PROCESSING);
        if (id_out)
            memcpy(id_out, v.id, HH_ID_LEN);
        store_video_clear(&v);
    }
}

static void fair_across_users_and_capped(void **state)
{
    fixture *f = *state;
    char a_ids[10][HH_ID_LEN], b_id[HH_ID_LEN], got[HH_ID_LEN];
    for (int i = 0; i < 10; i++)
        create(f, &f->a, 2, a_ids[i]);
    create(f, &f->b, 2, b_id); /* enqueued after A's burst */

    claim(f, "w1", 60000, HH_OK, got);
    assert_string_equal(got, a_ids[0]); /* oldest first when nobody runs anything */
    claim(f, "w2", 60000, HH_OK, got);
    assert_string_equal(got, b_id); /* B runs nothing: B before A's second */
    claim(f, "w3", 60000, HH_OK, got);
    assert_string_equal(got, a_ids[1]);
    claim(f, "w4", 60000, HH_ERR_NOTFOUND, NULL); /* A at its cap of 2, B has nothing left */

    assert_int_equal(
        store_job_finish(f->st, a_ids[0], "w1", "videos/outputs/x.mp4", "videos/thumbnails/x.jpg"),
        HH_OK);
    claim(f, "w1", 60000, HH_OK, got);
    assert_string_equal(got, a_ids[2]);

    int64_t counts[HH_VIDEO_STATUS_COUNT];
    assert_int_equal(store_job_counts(f->st, counts), HH_OK);
    assert_int_equal(counts[HH_VIDEO_READY], 1);
    assert_int_equal(counts[HH_VIDEO_PROCESSING], 3);
    assert_int_equal(counts[HH_VIDEO_QUEUED], 7);
}

/* One worker finishing each job before the next claim: users take turns. */
static void round_robin_with_one_worker(void **state)
{
    fixture *f = *state;
    char a_ids[3][HH_ID_LEN], b_id[HH_ID_LEN], got[HH_ID_LEN];
    for (int i = 0; i < 3; i++)
        create(f, &f->a, 20, a_ids[i]);
    create(f, &f->b, 20, b_id);
    const char *want[] = {a_ids[0], b_id, a_ids[1], a_ids[2]};
    for (int i = 0; i < 4; i++) {
        claim(f, "w1", 60000, HH_OK, got);
        assert_string_equal(got, want[i]);
        assert_int_equal(
            store_job_finish(f->st, got, "w1", "videos/outputs/x.mp4", "videos/thumbnails/x.jpg"),
            HH_OK);
        usleep(2000); /* distinct claim times */
    }
}

static void lease_expiry_reclaims_and_fences(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN], got[HH_ID_LEN];
    create(f, &f->a, 5, id);
    claim(f, "w1", 1, HH_OK, got);
    usleep(20000);
    claim(f, "w2", 60000, HH_OK, got); /* w1's lease is gone: the job is w2's */
    assert_string_equal(got, id);
    assert_int_equal(store_job_heartbeat(f->st, id, "w1", 50, 60000), HH_ERR_CONFLICT);
    assert_int_equal(store_job_finish(f->st, id, "w1", "videos/outputs/a.mp4", "t"),
                     HH_ERR_CONFLICT);
    assert_int_equal(store_job_fail(f->st, id, "w1", "late", 0), HH_ERR_CONFLICT);
    assert_int_equal(store_job_heartbeat(f->st, id, "w2", 40, 60000), HH_OK);
    hh_video v;
    assert_int_equal(store_video_get_any(f->st, id, &v), HH_OK);
    assert_int_equal(v.progress, 40);
    assert_int_equal(v.attempts, 2);
    store_video_clear(&v);
    assert_int_equal(
        store_job_finish(f->st, id, "w2", "videos/outputs/o.mp4", "videos/thumbnails/o.jpg"),
        HH_OK);
    assert_int_equal(store_video_get(f->st, id, f->a.id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_READY);
    assert_int_equal(v.progress, 100);
    assert_string_equal(v.video_key, "videos/outputs/o.mp4");
    assert_true(v.ready_at >= v.created_at);
    store_video_clear(&v);
    assert_int_equal(th_balance(f->st, &f->a), 10000 - 60); /* ready: the charge stays */
}

static void spent_attempts_fail_and_refund_once(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN];
    hh_video_new in = th_video_req(&f->a, 60, 5);
    in.max_attempts = 2;
    char *replay = NULL;
    assert_int_equal(store_video_create(f->st, &in, id, &replay, NULL), HH_OK);
    claim(f, "w1", 1, HH_OK, NULL);
    usleep(20000);
    claim(f, "w2", 1, HH_OK, NULL);
    usleep(20000);
    claim(f, "w3", 60000, HH_ERR_NOTFOUND, NULL); /* reaped, not claimed */
    hh_video v;
    assert_int_equal(store_video_get(f->st, id, f->a.id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_FAILED);
    assert_non_null(strstr(v.error_message, "2 attempts"));
    assert_int_equal(v.credits_refunded, 60);
    store_video_clear(&v);
    assert_int_equal(th_balance(f->st, &f->a), 10000);
    /* An operator's second failure of the same video changes nothing. */
    assert_int_equal(store_job_fail(f->st, id, NULL, "again", 0), HH_ERR_CONFLICT);
    assert_int_equal(th_balance(f->st, &f->a), 10000);
}

static void fail_retry_release(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN];
    create(f, &f->a, 5, id);
    claim(f, "w1", 60000, HH_OK, NULL);
    assert_int_equal(store_job_heartbeat(f->st, id, "w1", 50, 60000), HH_OK);
    assert_int_equal(store_job_fail(f->st, id, "w1", "disk hiccup", 1), HH_OK); /* retry */
    hh_video v;
    assert_int_equal(store_video_get_any(f->st, id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_QUEUED);
    assert_int_equal(v.progress, 0); /* the retry starts over, and says so */
    store_video_clear(&v);
    claim(f, "w2", 60000, HH_OK, NULL);
    assert_int_equal(store_job_release(f->st, id, "w2"), HH_OK); /* stopping: not an attempt */
    claim(f, "w3", 60000, HH_OK, NULL);
    assert_int_equal(store_video_get_any(f->st, id, &v), HH_OK);
    assert_int_equal(v.attempts, 2);
    store_video_clear(&v);
    assert_int_equal(store_job_fail(f->st, id, "w3", "reference video could not be decoded", 0),
                     HH_OK);
    assert_int_equal(store_job_fail(f->st, id, "w3", "twice", 0), HH_ERR_CONFLICT);
    assert_int_equal(store_video_get(f->st, id, f->a.id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_FAILED);
    assert_string_equal(v.error_message, "reference video could not be decoded");
    store_video_clear(&v);
    assert_int_equal(th_balance(f->st, &f->a), 10000);

    hh_ledger_entry *e;
    size_t n;
    assert_int_equal(store_ledger_list(f->st, f->a.id, 0, 10, &e, &n), HH_OK);
    assert_int_equal(n, 3); /* grant, charge, one refund */
    assert_int_equal(e[0].kind, HH_LEDGER_REFUND);
    assert_string_equal(e[0].ref, id);
    free(e);
}

/* Claims with worker and finishes at once: one worker serving the queue in turn. */
static void serve_one(fixture *f, char got[HH_ID_LEN])
{
    claim(f, "solo", 60000, HH_OK, got);
    assert_int_equal(
        store_job_finish(f->st, got, "solo", "videos/outputs/s.mp4", "videos/thumbnails/s.jpg"),
        HH_OK);
}

static void burst_never_starves_with_one_worker(void **state)
{
    fixture *f = *state;
    hh_user c;
    assert_int_equal(store_user_create(f->st, "c@example.com", NULL, "pro", 1, &c), HH_OK);
    assert_int_equal(store_ledger_append(f->st, c.id, 1000, HH_LEDGER_GRANT, NULL, NULL, NULL),
                     HH_OK);
    static char a_ids[100][HH_ID_LEN];
    char b_id[HH_ID_LEN], c_ids[3][HH_ID_LEN], got[HH_ID_LEN];
    for (int i = 0; i < 100; i++)
        create(f, &f->a, 20, a_ids[i]);
    create(f, &f->b, 1, b_id); /* after A's whole burst */
    for (int i = 0; i < 3; i++)
        create(f, &c, 5, c_ids[i]);

    /* Nobody runs anything between claims: users take turns. */
    const char *want[] = {a_ids[0], b_id,     c_ids[0], a_ids[1], c_ids[1],
                          a_ids[2], c_ids[2], a_ids[3], a_ids[4]};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        serve_one(f, got);
        assert_string_equal(got, want[i]);
    }
}

static void burst_never_starves_with_two_workers(void **state)
{
    fixture *f = *state;
    static char a_ids[100][HH_ID_LEN];
    char b_id[HH_ID_LEN], got[HH_ID_LEN];
    for (int i = 0; i < 100; i++)
        create(f, &f->a, 20, a_ids[i]);
    create(f, &f->b, 1, b_id);
    claim(f, "w1", 60000, HH_OK, got);
    assert_string_equal(got, a_ids[0]);
    claim(f, "w2", 60000, HH_OK, got);
    assert_string_equal(got, b_id); /* second claim at the latest */
    /* B is done; A fills its 20 slots and no more. */
    for (int i = 1; i < 20; i++) {
        claim(f, "w", 60000, HH_OK, got);
        assert_string_equal(got, a_ids[i]);
    }
    claim(f, "w", 60000, HH_ERR_NOTFOUND, NULL);
}

/* Moves every idempotency record of the store back by ms (as if time had passed). */
static void age_idempotency(fixture *f, int64_t ms, int *remaining)
{
    char q[160];
    int64_t n = -1;
    snprintf(q, sizeof q, "UPDATE idempotency SET created_at = created_at - %lld", (long long)ms);
    if (ms)
        assert_int_equal(sf_exec(f->loc, q), 0);
    assert_int_equal(sf_query_int(f->loc, "SELECT count(*) FROM idempotency", &n), 0);
    *remaining = (int)n;
}

static void idempotency_window_is_24_hours(void **state)
{
    fixture *f = *state;
    uint8_t h1[32] = {1}, h2[32] = {2};
    hh_video_new in = th_video_req(&f->a, 60, 5);
    in.idem_key = "old-key";
    in.idem_hash = h1;
    char id[HH_ID_LEN], id2[HH_ID_LEN];
    char *replay = NULL;
    int n;
    assert_int_equal(store_video_create(f->st, &in, id, &replay, NULL), HH_OK);
    in.idem_key = "other-old-key";
    assert_int_equal(store_video_create(f->st, &in, id, &replay, NULL), HH_OK);
    age_idempotency(f, 24LL * 3600 * 1000 - 60000, &n); /* 23 h 59 min: still remembered */
    assert_int_equal(n, 2);
    in.idem_key = "old-key";
    in.idem_hash = h2;
    assert_int_equal(store_video_create(f->st, &in, id2, &replay, NULL), HH_ERR_CONFLICT);
    assert_int_equal(th_balance(f->st, &f->a), 10000 - 120);

    age_idempotency(f, 120000, &n); /* 24 h 1 min: forgotten */
    assert_int_equal(store_video_create(f->st, &in, id2, &replay, NULL), HH_OK);
    assert_null(replay);
    assert_string_not_equal(id2, id);
    assert_int_equal(th_balance(f->st, &f->a), 10000 - 180); /* a new request, charged */
    /* The other expired record was pruned by that create; the new one stays. */
    age_idempotency(f, 0, &n);
    assert_int_equal(n, 1);
    in.idem_hash = h1;
    assert_int_equal(store_video_create(f->st, &in, id2, &replay, NULL), HH_ERR_CONFLICT);
}

static void lists_are_per_user_newest_first(void **state)
{
    fixture *f = *state;
    char ids[5][HH_ID_LEN], b_id[HH_ID_LEN];
    for (int i = 0; i < 5; i++)
        create(f, &f->a, 5, ids[i]);
    create(f, &f->b, 5, b_id);
    hh_video *list;
    size_t n;
    assert_int_equal(store_video_list(f->st, f->a.id, NULL, HH_VIDEO_ANY, 3, &list, &n), HH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].id, ids[4]);
    assert_string_equal(list[2].id, ids[2]);
    char before[HH_ID_LEN];
    memcpy(before, list[2].id, HH_ID_LEN);
    store_video_list_free(list, n);
    assert_int_equal(store_video_list(f->st, f->a.id, before, HH_VIDEO_ANY, 3, &list, &n), HH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, ids[1]);
    assert_string_equal(list[1].id, ids[0]);
    store_video_list_free(list, n);
    assert_int_equal(store_video_list(f->st, f->b.id, NULL, HH_VIDEO_ANY, 10, &list, &n), HH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, b_id);
    store_video_list_free(list, n);
    assert_int_equal(store_video_list(f->st, f->b.id, NULL, HH_VIDEO_ANY, 0, &list, &n),
                     HH_ERR_INVALID);
}

/*
 * Favourites: only the owner stars a video (another user's is not found,
 * and stays unstarred); the filter pages like the plain list; a NULL user
 * lists every user's videos, newest first.
 */
static void favorites_and_every_users_list(void **state)
{
    fixture *f = *state;
    char ids[4][HH_ID_LEN], b_id[HH_ID_LEN];
    for (int i = 0; i < 4; i++)
        create(f, &f->a, 5, ids[i]);
    create(f, &f->b, 5, b_id);
    assert_int_equal(store_video_set_favorite(f->st, ids[0], f->a.id, 1), HH_OK);
    assert_int_equal(store_video_set_favorite(f->st, ids[2], f->a.id, 1), HH_OK);
    assert_int_equal(store_video_set_favorite(f->st, ids[2], f->a.id, 1), HH_OK); /* again */
    assert_int_equal(store_video_set_favorite(f->st, b_id, f->a.id, 1), HH_ERR_NOTFOUND);
    assert_int_equal(store_video_set_favorite(f->st, "no-such-id", f->a.id, 1), HH_ERR_NOTFOUND);
    hh_video *list;
    size_t n;
    hh_video_filter fav = {NULL, HH_VIDEO_ANY, NULL, 1};
    assert_int_equal(store_video_find(f->st, f->a.id, &fav, 1, &list, &n), HH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, ids[2]);
    assert_int_equal(list[0].favorite, 1);
    store_video_list_free(list, n);
    fav.before = ids[2];
    assert_int_equal(store_video_find(f->st, f->a.id, &fav, 10, &list, &n), HH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, ids[0]);
    store_video_list_free(list, n);
    assert_int_equal(store_video_find(f->st, f->b.id, &fav, 10, &list, &n), HH_OK);
    assert_int_equal(n, 0); /* b's video was not starred by a's attempt */
    store_video_list_free(list, n);
    assert_int_equal(store_video_set_favorite(f->st, ids[2], f->a.id, 0), HH_OK);
    fav.before = NULL;
    assert_int_equal(store_video_find(f->st, f->a.id, &fav, 10, &list, &n), HH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, ids[0]);
    store_video_list_free(list, n);
    hh_video_filter all = {NULL, HH_VIDEO_QUEUED, NULL, 0};
    assert_int_equal(store_video_find(f->st, NULL, &all, 3, &list, &n), HH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].id, b_id);
    assert_string_equal(list[1].id, ids[3]);
    assert_string_equal(list[2].id, ids[2]);
    all.before = list[2].id;
    hh_video *rest;
    size_t m;
    assert_int_equal(store_video_find(f->st, NULL, &all, 10, &rest, &m), HH_OK);
    assert_int_equal(m, 2);
    assert_string_equal(rest[0].id, ids[1]);
    assert_string_equal(rest[1].id, ids[0]);
    store_video_list_free(rest, m);
    store_video_list_free(list, n);
}

#define RACE_JOBS 60

typedef struct claimer {
    fixture *f;
    const char *a_id;     /* user A's id: its jobs have cap 2, B's cap 3 */
    int index;            /* worker number */
    _Atomic int *running; /* [0]: A's jobs held now, [1]: B's */
    _Atomic int *seen;    /* claims per job, by creation order */
    char (*ids)[HH_ID_LEN];
    int over_cap; /* set when a user ran more than its cap */
    int claimed;
} claimer;

static void *claim_loop(void *arg)
{
    claimer *c = arg;
    char worker[16];
    snprintf(worker, sizeof worker, "w%d", c->index);
    int idle = 0;
    while (idle < 20) {
        hh_video v;
        hh_status rc = store_job_claim(c->f->st, worker, 60000, &v);
        if (rc) {
            idle++;
            usleep(1000);
            continue;
        }
        idle = 0;
        int who = strcmp(v.user_id, c->a_id) != 0;
        int now = atomic_fetch_add(&c->running[who], 1) + 1;
        if (now > (who ? 3 : 2))
            c->over_cap = 1;
        for (int i = 0; i < RACE_JOBS; i++)
            if (!strcmp(c->ids[i], v.id))
                atomic_fetch_add(&c->seen[i], 1);
        usleep(500); /* "render" */
        atomic_fetch_sub(&c->running[who], 1);
        if (store_job_finish(c->f->st, v.id, worker, "videos/outputs/r.mp4",
                             "videos/thumbnails/r.jpg") == HH_OK)
            c->claimed++;
        store_video_clear(&v);
    }
    return NULL;
}

static void racing_workers_claim_each_job_once_within_caps(void **state)
{
    fixture *f = *state;
    static char ids[RACE_JOBS][HH_ID_LEN];
    _Atomic int running[2] = {0, 0};
    static _Atomic int seen[RACE_JOBS];
    for (int i = 0; i < RACE_JOBS; i++) {
        create(f, i % 2 ? &f->b : &f->a, i % 2 ? 3 : 2, ids[i]);
        atomic_store(&seen[i], 0);
    }
    pthread_t t[8];
    claimer c[8];
    for (int i = 0; i < 8; i++) {
        c[i] = (claimer){f, f->a.id, i, running, seen, ids, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, claim_loop, &c[i]), 0);
    }
    int finished = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_false(c[i].over_cap);
        finished += c[i].claimed;
    }
    assert_int_equal(finished, RACE_JOBS);
    for (int i = 0; i < RACE_JOBS; i++)
        assert_int_equal(atomic_load(&seen[i]), 1); /* never two workers on one job */
    int64_t counts[HH_VIDEO_STATUS_COUNT];
    assert_int_equal(store_job_counts(f->st, counts), HH_OK);
    assert_int_equal(counts[HH_VIDEO_READY], RACE_JOBS);
}

static void operator_refund_of_a_ready_video_once(void **state)
{
    fixture *f = *state;
    char ready[HH_ID_LEN], queued[HH_ID_LEN], failed[HH_ID_LEN];
    create(f, &f->a, 5, ready);
    claim(f, "w1", 60000, HH_OK, NULL);
    assert_int_equal(
        store_job_finish(f->st, ready, "w1", "videos/outputs/r.mp4", "videos/thumbnails/r.jpg"),
        HH_OK);
    create(f, &f->a, 5, failed);
    claim(f, "w1", 60000, HH_OK, NULL);
    assert_int_equal(store_job_fail(f->st, failed, "w1", "broken", 0), HH_OK);
    create(f, &f->a, 5, queued);
    assert_int_equal(th_balance(f->st, &f->a), 10000 - 120);

    int64_t amount = -1;
    assert_int_equal(store_video_refund(f->st, ready, "customer complaint", &amount), HH_OK);
    assert_int_equal(amount, 60);
    assert_int_equal(th_balance(f->st, &f->a), 10000 - 60);
    assert_int_equal(store_video_refund(f->st, ready, NULL, &amount), HH_ERR_CONFLICT);
    assert_int_equal(amount, 0);
    assert_int_equal(store_video_refund(f->st, failed, NULL, NULL), HH_ERR_CONFLICT);
    assert_int_equal(store_video_refund(f->st, queued, NULL, NULL), HH_ERR_CONFLICT);
    assert_int_equal(store_video_refund(f->st, "01900000-0000-7000-8000-000000000000", NULL, NULL),
                     HH_ERR_NOTFOUND);
    assert_int_equal(th_balance(f->st, &f->a), 10000 - 60);

    hh_video v;
    assert_int_equal(store_video_get(f->st, ready, f->a.id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_READY); /* still served */
    assert_int_equal(v.credits_refunded, 60);
    store_video_clear(&v);
    hh_ledger_entry *e;
    size_t n;
    assert_int_equal(store_ledger_list(f->st, f->a.id, 0, 10, &e, &n), HH_OK);
    assert_int_equal(e[0].kind, HH_LEDGER_REFUND);
    assert_string_equal(e[0].ref, ready);
    assert_string_equal(e[0].note, "customer complaint");
    free(e);
}

/* A customer's cancel: queued and running alike, refunded once, and nothing a worker does later
 * counts. */
static void cancel_refunds_once_and_fences_the_worker(void **state)
{
    fixture *f = *state;
    char queued[HH_ID_LEN], running[HH_ID_LEN], done[HH_ID_LEN];
    create(f, &f->a, 5, running);
    claim(f, "w1", 60000, HH_OK, NULL);
    create(f, &f->a, 5, queued);
    hh_video_status was = HH_VIDEO_READY;
    int64_t refunded = 0;
    assert_int_equal(th_balance(f->st, &f->a), 10000 - 120);
    /* Another user's video is as unknown as a missing one; nothing changes. */
    assert_int_equal(store_video_cancel(f->st, queued, f->b.id, &was, &refunded), HH_ERR_NOTFOUND);
    assert_int_equal(
        store_video_cancel(f->st, "01900000-0000-7000-8000-000000000000", f->a.id, NULL, NULL),
        HH_ERR_NOTFOUND);
    assert_int_equal(store_video_cancel(f->st, queued, f->a.id, &was, &refunded), HH_OK);
    assert_int_equal(was, HH_VIDEO_QUEUED);
    assert_int_equal(refunded, 60);
    assert_int_equal(store_video_cancel(f->st, running, f->a.id, &was, &refunded), HH_OK);
    assert_int_equal(was, HH_VIDEO_PROCESSING);
    assert_int_equal(th_balance(f->st, &f->a), 10000);
    /* The worker's heartbeat says why it must stop; its late finish and fail change nothing. */
    assert_int_equal(store_job_heartbeat(f->st, running, "w1", 50, 60000), HH_ERR_CANCELED);
    assert_int_equal(
        store_job_finish(f->st, running, "w1", "videos/outputs/x.mp4", "videos/thumbnails/x.jpg"),
        HH_ERR_CANCELED);
    assert_int_equal(store_job_fail(f->st, running, "w1", "late", 1), HH_ERR_CONFLICT);
    assert_int_equal(store_job_fail(f->st, running, NULL, "operator", 0), HH_ERR_CONFLICT);
    assert_int_equal(store_job_release(f->st, running, "w1"), HH_ERR_CONFLICT);
    /* Twice is a conflict that reports the status; the ledger has one refund per video. */
    assert_int_equal(store_video_cancel(f->st, running, f->a.id, &was, &refunded), HH_ERR_CONFLICT);
    assert_int_equal(was, HH_VIDEO_CANCELED);
    assert_int_equal(th_balance(f->st, &f->a), 10000);
    hh_video v;
    assert_int_equal(store_video_get(f->st, running, f->a.id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_CANCELED);
    assert_int_equal(v.credits_refunded, 60);
    assert_null(v.error_message);
    store_video_clear(&v);
    hh_ledger_entry *e;
    size_t n;
    assert_int_equal(store_ledger_list(f->st, f->a.id, 0, 10, &e, &n), HH_OK);
    assert_int_equal(n, 5); /* grant, two charges, two refunds */
    assert_int_equal(e[0].kind, HH_LEDGER_REFUND);
    assert_string_equal(e[0].ref, running);
    assert_int_equal(e[1].kind, HH_LEDGER_REFUND);
    assert_string_equal(e[1].ref, queued);
    free(e);
    /* A canceled job is never claimed again; the queue moves on. */
    char got[HH_ID_LEN];
    create(f, &f->a, 5, done);
    claim(f, "w2", 60000, HH_OK, got);
    assert_string_equal(got, done);
    int64_t counts[HH_VIDEO_STATUS_COUNT];
    assert_int_equal(store_job_counts(f->st, counts), HH_OK);
    assert_int_equal(counts[HH_VIDEO_CANCELED], 2);
    assert_int_equal(counts[HH_VIDEO_PROCESSING], 1);
    /* An ended video cannot be canceled. */
    assert_int_equal(
        store_job_finish(f->st, done, "w2", "videos/outputs/d.mp4", "videos/thumbnails/d.jpg"),
        HH_OK);
    assert_int_equal(store_video_cancel(f->st, done, f->a.id, &was, NULL), HH_ERR_CONFLICT);
    assert_int_equal(was, HH_VIDEO_READY);
}

static void queue_stats_and_their_metrics(void **state)
{
    fixture *f = *state;
    hh_queue_stats q;
    assert_int_equal(store_queue_stats(f->st, &q), HH_OK);
    assert_int_equal(q.queued + q.running + q.lease_expired + q.oldest_enqueued_at, 0);

    char a_ids[3][HH_ID_LEN], b_id[HH_ID_LEN];
    for (int i = 0; i < 3; i++)
        create(f, &f->a, 5, a_ids[i]);
    create(f, &f->b, 5, b_id);
    claim(f, "w1", 60000, HH_OK, NULL); /* A's first */
    claim(f, "w2", 1, HH_OK, NULL);     /* B's, and that worker dies */
    usleep(20000);
    assert_int_equal(store_queue_stats(f->st, &q), HH_OK);
    assert_int_equal(q.queued, 2);
    assert_int_equal(q.running, 1);
    assert_int_equal(q.lease_expired, 1);
    assert_int_equal(q.waiting_users, 1);
    hh_video v;
    assert_int_equal(store_video_get_any(f->st, a_ids[1], &v), HH_OK);
    assert_true(q.oldest_enqueued_at >= v.created_at - 1 && q.oldest_enqueued_at <= v.created_at);
    store_video_clear(&v);

    char *text = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&text, &size);
    assert_non_null(m);
    assert_int_equal(job_metrics_write(f->st, q.oldest_enqueued_at + 2500, m), HH_OK);
    assert_int_equal(fclose(m), 0);
    assert_non_null(strstr(text, "# TYPE happyhorse_jobs gauge\n"));
    assert_non_null(strstr(text, "happyhorse_jobs{state=\"queued\"} 2\n"));
    assert_non_null(strstr(text, "happyhorse_jobs{state=\"running\"} 1\n"));
    assert_non_null(strstr(text, "happyhorse_jobs{state=\"lease_expired\"} 1\n"));
    assert_non_null(strstr(text, "happyhorse_queue_waiting_users 1\n"));
    assert_non_null(strstr(text, "happyhorse_queue_oldest_seconds 2.500\n"));
    free(text);
}

static void uploads_pending_then_complete_once(void **state)
{
    fixture *f = *state;
    hh_upload u = {.size_bytes = 1234, .expires_at = 99};
    snprintf(u.key, sizeof u.key, "videos/inputs/%s/x.png", f->a.id);
    memcpy(u.user_id, f->a.id, HH_ID_LEN);
    snprintf(u.kind, sizeof u.kind, "image");
    snprintf(u.content_type, sizeof u.content_type, "image/png");
    assert_int_equal(store_upload_create(f->st, &u), HH_OK);
    assert_int_equal(store_upload_create(f->st, &u), HH_ERR_EXISTS);
    hh_upload got;
    assert_int_equal(store_upload_get(f->st, u.key, &got), HH_OK);
    assert_false(got.complete);
    assert_int_equal(got.size_bytes, 1234);
    assert_int_equal(store_upload_complete(f->st, u.key), HH_OK);
    assert_int_equal(store_upload_complete(f->st, u.key), HH_ERR_CONFLICT);
    assert_int_equal(store_upload_complete(f->st, "videos/inputs/none.png"), HH_ERR_NOTFOUND);
    assert_int_equal(store_upload_get(f->st, u.key, &got), HH_OK);
    assert_true(got.complete);
    assert_true(got.completed_at > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_charges_once_and_replays, setup, teardown),
        cmocka_unit_test_setup_teardown(insufficient_credits_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(racing_creates_never_overdraw, setup, teardown),
        cmocka_unit_test_setup_teardown(fair_across_users_and_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(round_robin_with_one_worker, setup, teardown),
        cmocka_unit_test_setup_teardown(lease_expiry_reclaims_and_fences, setup, teardown),
        cmocka_unit_test_setup_teardown(spent_attempts_fail_and_refund_once, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_retry_release, setup, teardown),
        cmocka_unit_test_setup_teardown(burst_never_starves_with_one_worker, setup, teardown),
        cmocka_unit_test_setup_teardown(burst_never_starves_with_two_workers, setup, teardown),
        cmocka_unit_test_setup_teardown(idempotency_window_is_24_hours, setup, teardown),
        cmocka_unit_test_setup_teardown(lists_are_per_user_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(favorites_and_every_users_list, setup, teardown),
        cmocka_unit_test_setup_teardown(racing_workers_claim_each_job_once_within_caps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(operator_refund_of_a_ready_video_once, setup, teardown),
        cmocka_unit_test_setup_teardown(queue_stats_and_their_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_refunds_once_and_fences_the_worker, setup, teardown),
        cmocka_unit_test_setup_teardown(uploads_pending_then_complete_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
