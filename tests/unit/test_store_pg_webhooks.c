/*
 * test_store_pg_webhooks.c - what the PostgreSQL outbox must do that one
 * SQLite process never has to: several nodes drain one outbox at once.
 * Two store handles (two nodes) on one database, four threads claiming
 * and recording: every delivery is claimed exactly once per attempt and
 * every attempt is recorded. An endpoint deleted while an event's
 * transaction is open leaves no pending delivery behind. And the cap of
 * endpoints per user holds when eight threads create at once. The contract itself (statuses, order,
 * limits) is test_webhooks.c's, run against both backends.
 *
 * Each test gets a database of its own on the suite's cluster (sf_new_pg);
 * without one they fail.
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

#include "store/store.h"
#include "store/store_pg_int.h"
#include "support/store_fixture.h"
#include "util/timeutil.h"

#define EVENTS   400 /* events of the drain test, each to both endpoints: logs past their cap */
#define HOOKS    2
#define ATTEMPTS 3 /* each delivery retried until its third attempt is delivered */
#define THREADS  4
#define LOG_KEPT 1000 /* the newest attempts an endpoint's log keeps */

static const uint8_t KEY[4] = {1, 2, 3, 4};

typedef struct fixture {
    store_fixture *loc; /* this test's database */
    hh_store *st[2];    /* two nodes */
    hh_user u;
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 2; i++)
        store_close(f->st[i]);
    int rc = sf_free(f->loc);
    free(f);
    return rc;
}

/* Two nodes on a fresh database, and the user row written directly: this test is the outbox's. */
static hh_status fill(fixture *f)
{
    hh_status rc = sf_new_pg(&f->loc);
    for (int i = 0; i < 2 && !rc; i++)
        rc = sf_open(f->loc, &f->st[i]);
    if (rc)
        return rc;
    snprintf(f->u.id, sizeof f->u.id, "0190a000-0000-7000-8000-000000000001");
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO users (id, email, plan, created_at) VALUES ('%s', 'n@example.com',"
             " 'pro', 0)",
             f->u.id);
    if (sf_exec(f->loc, sql)) {
        fprintf(stderr, "%s: %s\n", sql, sf_error(f->loc));
        return HH_ERR_DB;
    }
    return HH_OK;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    return sf_setup_end(state, teardown, fill(f));
}

/* ---- many nodes drain one outbox ---- */

typedef struct event_ctx {
    hh_store *st; /* for a thread's own event */
    const char *user_id;
    char video_id[HH_ID_LEN];
    int64_t now;
} event_ctx;

static hh_status event_tx(pg_conn *c, void *ctx_)
{
    const event_ctx *x = ctx_;
    return pg_hook_event_tx(c, x->user_id, x->video_id, HH_HOOK_VIDEO_READY, x->now);
}

/* What the threads saw, under one lock. */
typedef struct drain {
    fixture *f;
    int64_t now;
    pthread_mutex_t mu;
    int seen[EVENTS * HOOKS][ATTEMPTS]; /* claims of each delivery's attempt */
    int wrong;                          /* claims of nothing this test wrote */
    int failed;                         /* store calls that failed (threads cannot assert) */
    size_t skipped;                     /* records skipped (a lost claim) */
    int node_claimed[2];                /* claims each node made */
} drain;

typedef struct worker {
    drain *d;
    int index;
} worker;

/* The slot of a delivery: its event ("video-<i>") and its endpoint ("https://hooks.example/<j>").
 */
static int slot_of(const hh_hook_delivery *d)
{
    int ev = -1, hook = -1;
    if (sscanf(d->video_id, "video-%d", &ev) != 1 ||
        sscanf(d->url, "https://hooks.example/%d", &hook) != 1 || ev < 0 || ev >= EVENTS ||
        hook < 0 || hook >= HOOKS || d->attempt < 1 || d->attempt > ATTEMPTS)
        return -1;
    return ev * HOOKS + hook;
}

static void note_claim(drain *dr, int node, const hh_hook_delivery *d)
{
    int i = slot_of(d);
    pthread_mutex_lock(&dr->mu);
    if (i >= 0)
        dr->seen[i][d->attempt - 1]++;
    else
        dr->wrong++;
    dr->node_claimed[node]++;
    pthread_mutex_unlock(&dr->mu);
}

/* One pass of a thread: claims a few and records each (retrying until the last attempt). */
static size_t drain_pass(worker *w, hh_store *st, const char *owner)
{
    drain *dr = w->d;
    hh_hook_delivery *got = NULL;
    hh_hook_result r[8];
    size_t n = 0, skipped = 0;
    hh_status rc = store_hook_claim(st, owner, dr->now, 600000, 8, &got, &n);
    for (size_t i = 0; i < n; i++) {
        note_claim(dr, w->index % 2, &got[i]);
        int last = got[i].attempt >= ATTEMPTS;
        r[i] = (hh_hook_result){.id = got[i].id,
                                .a = {.at = dr->now,
                                      .status = last ? 204 : 503,
                                      .duration_ms = 1,
                                      .outcome = last ? HH_HOOK_DELIVERED : HH_HOOK_RETRYING},
                                .next_at = dr->now};
    }
    if (!rc && n)
        rc = store_hook_record(st, owner, r, n, &skipped);
    free(got);
    pthread_mutex_lock(&dr->mu);
    dr->failed += rc != HH_OK;
    dr->skipped += skipped;
    pthread_mutex_unlock(&dr->mu);
    return rc ? 0 : n;
}

/* Drains until nothing is pending; a thread holding no claim stops once others hold the rest. */
static void *drain_thread(void *arg)
{
    worker *w = arg;
    hh_store *st = w->d->f->st[w->index % 2]; /* two threads per node */
    char owner[32];
    snprintf(owner, sizeof owner, "node%d-thread%d", w->index % 2, w->index);
    for (int idle = 0; idle < 200;) {
        if (drain_pass(w, st, owner)) {
            idle = 0;
            continue;
        }
        int64_t pending = -1;
        if (store_hook_pending(st, &pending) == HH_OK && pending == 0)
            break;
        idle++;
        usleep(5000);
    }
    return NULL;
}

/* The outbox of EVENTS x HOOKS deliveries, written as status changes write it. */
static void fill_outbox(drain *dr)
{
    fixture *f = dr->f;
    hh_webhook w;
    for (int i = 0; i < HOOKS; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://hooks.example/%d", i);
        assert_int_equal(store_webhook_create(f->st[0], f->u.id, url, HH_HOOK_EVENTS_ALL, KEY,
                                              sizeof KEY, 10, &w),
                         HH_OK);
    }
    for (int i = 0; i < EVENTS; i++) {
        event_ctx x = {.user_id = f->u.id, .now = dr->now};
        snprintf(x.video_id, sizeof x.video_id, "video-%d", i);
        assert_int_equal(pg_tx(f->st[i % 2], event_tx, &x), HH_OK);
    }
    int64_t pending = 0;
    assert_int_equal(store_hook_pending(f->st[1], &pending), HH_OK);
    assert_int_equal(pending, EVENTS * HOOKS);
}

/* Every attempt was logged, each endpoint's log cut to its newest LOG_KEPT. */
static void assert_logged(fixture *f)
{
    hh_webhook *hooks = NULL;
    size_t nh = 0;
    assert_int_equal(store_webhook_list(f->st[1], f->u.id, &hooks, &nh), HH_OK);
    assert_int_equal(nh, HOOKS);
    for (size_t i = 0; i < nh; i++) {
        hh_hook_attempt *a = NULL;
        size_t na = 0;
        assert_int_equal(
            store_hook_attempts(f->st[0], f->u.id, hooks[i].id, STORE_PAGE_MAX, &a, &na), HH_OK);
        assert_int_equal(na, LOG_KEPT);
        for (size_t j = 0; j < na; j++)
            assert_int_equal(a[j].outcome,
                             a[j].attempt == ATTEMPTS ? HH_HOOK_DELIVERED : HH_HOOK_RETRYING);
        free(a);
    }
    free(hooks);
}

static void two_nodes_claim_each_attempt_once(void **state)
{
    fixture *f = *state;
    drain *dr = calloc(1, sizeof *dr);
    dr->f = f;
    dr->now = hh_time_now_ms();
    pthread_mutex_init(&dr->mu, NULL);
    fill_outbox(dr);

    pthread_t th[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){dr, i};
        assert_int_equal(pthread_create(&th[i], NULL, drain_thread, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);

    assert_int_equal(dr->failed, 0);
    assert_int_equal(dr->wrong, 0);
    assert_int_equal(dr->skipped, 0);
    for (int i = 0; i < EVENTS * HOOKS; i++)
        for (int a = 0; a < ATTEMPTS; a++)
            if (dr->seen[i][a] != 1)
                fail_msg("delivery %d attempt %d claimed %d times", i, a + 1, dr->seen[i][a]);
    int64_t pending = -1;
    assert_int_equal(store_hook_pending(f->st[0], &pending), HH_OK);
    assert_int_equal(pending, 0);
    assert_logged(f);
    assert_true(dr->node_claimed[0] > 0 && dr->node_claimed[1] > 0);
    pthread_mutex_destroy(&dr->mu);
    free(dr);
}

/* ---- an endpoint deleted while an event is written ---- */

/* An event whose transaction stays open a while after its insert, so a delete overlaps it. */
static hh_status slow_event_tx(pg_conn *c, void *ctx_)
{
    hh_status rc = event_tx(c, ctx_);
    usleep(30000);
    return rc;
}

static void *slow_event_thread(void *arg)
{
    event_ctx *x = arg;
    return pg_tx(x->st, slow_event_tx, x) == HH_OK ? arg : NULL;
}

static void delete_during_event_leaves_nothing_pending(void **state)
{
    fixture *f = *state;
    for (int round = 0; round < 5; round++) {
        hh_webhook w;
        assert_int_equal(store_webhook_create(f->st[0], f->u.id, "https://gone.example/",
                                              HH_HOOK_EVENTS_ALL, KEY, sizeof KEY, 10, &w),
                         HH_OK);
        event_ctx x = {.st = f->st[1], .user_id = f->u.id, .now = hh_time_now_ms()};
        snprintf(x.video_id, sizeof x.video_id, "video-%d", round);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, slow_event_thread, &x), 0);
        usleep(10000); /* the event's insert is made, its commit not yet */
        assert_int_equal(store_webhook_delete(f->st[0], f->u.id, w.id), HH_OK);
        void *ok = NULL;
        pthread_join(th, &ok);
        assert_non_null(ok);
        int64_t pending = -1;
        assert_int_equal(store_hook_pending(f->st[0], &pending), HH_OK);
        assert_int_equal(pending, 0);
    }
}

/* ---- the cap of endpoints under concurrent creates ---- */

#define CAP      5
#define CREATORS 8

typedef struct creator {
    fixture *f;
    int index;
    int made, limited, failed;
} creator;

static void *create_thread(void *arg)
{
    creator *c = arg;
    for (int i = 0; i < 2; i++) {
        char url[64];
        hh_webhook w;
        snprintf(url, sizeof url, "https://cap.example/%d/%d", c->index, i);
        hh_status rc = store_webhook_create(c->f->st[c->index % 2], c->f->u.id, url,
                                            HH_HOOK_VIDEO_READY, KEY, sizeof KEY, CAP, &w);
        if (rc == HH_OK)
            c->made++;
        else if (rc == HH_ERR_LIMIT)
            c->limited++;
        else
            c->failed++;
    }
    return NULL;
}

static void cap_holds_under_concurrent_creates(void **state)
{
    fixture *f = *state;
    pthread_t th[CREATORS];
    creator c[CREATORS];
    for (int i = 0; i < CREATORS; i++) {
        c[i] = (creator){.f = f, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, create_thread, &c[i]), 0);
    }
    int made = 0, limited = 0;
    for (int i = 0; i < CREATORS; i++) {
        pthread_join(th[i], NULL);
        made += c[i].made;
        limited += c[i].limited;
        assert_int_equal(c[i].failed, 0);
    }
    assert_int_equal(made, CAP);
    assert_int_equal(limited, 2 * CREATORS - CAP);
    hh_webhook *hooks = NULL;
    size_t n = 0;
    assert_int_equal(store_webhook_list(f->st[0], f->u.id, &hooks, &n), HH_OK);
    assert_int_equal(n, CAP);
    free(hooks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(two_nodes_claim_each_attempt_once, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_during_event_leaves_nothing_pending, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cap_holds_under_concurrent_creates, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
