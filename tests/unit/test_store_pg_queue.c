/*
 * test_store_pg_queue.c - the races of the job queue and of the remote
 * tasks that only the PostgreSQL store can lose, since its claims run at
 * once where SQLite's run one at a time: 8 workers, each with a store
 * handle of its own (a node), claim 200 jobs and each is claimed exactly
 * once; 8 racing for a user's 2 slots get exactly 2; a lease that expires
 * (by the database's clock) is claimed again, and one whose attempts are
 * spent fails and is refunded; 8 drivers claiming remote tasks never hold
 * one twice, and a lapsed claim is free again. Each test gets its own
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
#include <stdatomic.h>

#include "store/store.h"
#include "support/store_fixture.h"
#include "support/store_helpers.h"

#define WORKERS 8
#define JOBS    200
#define USERS   10

typedef struct fixture {
    store_fixture *loc; /* this test's database */
    hh_store *st;
    hh_user u[USERS];
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = sf_close_free(f->loc, f->st);
    free(f);
    return rc;
}

/* The store of f and its USERS users, each granted 100000 credits. */
static hh_status fill(fixture *f)
{
    hh_status rc = sf_new_open(sf_new_pg, &f->loc, &f->st);
    for (int i = 0; i < USERS && !rc; i++) {
        char email[64];
        snprintf(email, sizeof email, "user%d@example.com", i);
        rc = th_new_user(f->st, email, "pro", 100000, &f->u[i]);
    }
    return rc;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    return sf_setup_end(state, teardown, fill(f));
}

/* A queued video of user u, with u's cap and attempts. */
static void create(fixture *f, const hh_user *u, int cap, int attempts, char id[HH_ID_LEN])
{
    hh_video_new in = th_video_req(u, 60, cap);
    in.max_attempts = attempts;
    char *replay = NULL;
    assert_int_equal(store_video_create(f->st, &in, id, &replay, NULL), HH_OK);
    assert_null(replay);
}

/* ---- many workers, one queue ---- */

/* One worker: a node of its own, claiming (and finishing) until the queue is drained. */
typedef struct worker {
    fixture *f;
    int index;
    int finish;        /* 1: finish each job claimed */
    int tries;         /* 0: until every job is taken; else claims to try */
    atomic_int *taken; /* jobs claimed by all workers */
    atomic_int *start; /* the workers wait for each other */
    char (*ids)[HH_ID_LEN];
    int n;
    hh_status failed; /* the first unexpected status */
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    hh_store *st = NULL;
    char name[32];
    snprintf(name, sizeof name, "worker-%d", w->index);
    if ((w->failed = store_open(sf_location(w->f->loc), &st)))
        return NULL;
    atomic_fetch_add(w->start, 1);
    while (atomic_load(w->start) < WORKERS)
        usleep(100);
    for (int idle = 0, tries = 0; !w->tries || tries < w->tries; tries++) {
        hh_video v;
        hh_status rc = store_job_claim(st, name, 60000, &v);
        if (rc == HH_ERR_NOTFOUND && w->tries)
            continue;
        if (rc == HH_ERR_NOTFOUND) {
            if (atomic_load(w->taken) >= JOBS || ++idle >= 2000)
                break;
            usleep(1000); /* another worker holds what is left for a moment */
            continue;
        }
        if (rc) {
            w->failed = rc;
            break;
        }
        memcpy(w->ids[w->n++], v.id, HH_ID_LEN);
        atomic_fetch_add(w->taken, 1);
        if (w->finish && (rc = store_job_finish(st, v.id, name, "out.mp4", "out.jpg")))
            w->failed = rc;
        store_video_clear(&v);
        if (w->failed)
            break;
    }
    store_close(st);
    return NULL;
}

/* Runs WORKERS workers (each like *proto) to their end; each job id at most jobs. */
static int run_workers(fixture *f, const worker *proto, worker *ws, int jobs)
{
    pthread_t t[WORKERS];
    atomic_int taken = 0, start = 0;
    int total = 0;
    for (int i = 0; i < WORKERS; i++) {
        ws[i] = *proto;
        ws[i].f = f;
        ws[i].index = i;
        ws[i].taken = &taken;
        ws[i].start = &start;
        ws[i].ids = calloc((size_t)jobs, HH_ID_LEN);
        assert_non_null(ws[i].ids);
        assert_int_equal(pthread_create(&t[i], NULL, work, &ws[i]), 0);
    }
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(ws[i].failed, HH_OK);
        total += ws[i].n;
    }
    return total;
}

/* 1 when id is claimed by exactly one worker, once. */
static int claimed_once(const worker *ws, const char *id)
{
    int seen = 0;
    for (int i = 0; i < WORKERS; i++)
        for (int k = 0; k < ws[i].n; k++)
            seen += !strcmp(ws[i].ids[k], id);
    return seen == 1;
}

static void free_workers(worker *ws)
{
    for (int i = 0; i < WORKERS; i++)
        free(ws[i].ids);
}

static void test_each_job_claimed_once(void **state)
{
    fixture *f = *state;
    static char ids[JOBS][HH_ID_LEN];
    for (int i = 0; i < JOBS; i++)
        create(f, &f->u[i % USERS], JOBS, 0, ids[i]);
    worker ws[WORKERS], proto = {.finish = 1};
    assert_int_equal(run_workers(f, &proto, ws, JOBS), JOBS);
    for (int i = 0; i < JOBS; i++) {
        hh_video v;
        assert_true(claimed_once(ws, ids[i]));
        assert_int_equal(store_video_get_any(f->st, ids[i], &v), HH_OK);
        assert_int_equal(v.status, HH_VIDEO_READY);
        assert_int_equal(v.attempts, 1);
        store_video_clear(&v);
    }
    free_workers(ws);
    int64_t counts[HH_VIDEO_STATUS_COUNT];
    assert_int_equal(store_job_counts(f->st, counts), HH_OK);
    assert_int_equal(counts[HH_VIDEO_READY], JOBS);
}

static void test_cap_holds_under_racing_claims(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN];
    for (int i = 0; i < 20; i++)
        create(f, &f->u[0], 2, 0, id);
    worker ws[WORKERS], proto = {.tries = 20};
    assert_int_equal(run_workers(f, &proto, ws, 20), 2); /* 160 tries, 2 slots */
    free_workers(ws);
    hh_queue_stats qs;
    assert_int_equal(store_queue_stats(f->st, &qs), HH_OK);
    assert_int_equal(qs.running, 2);
    assert_int_equal(qs.queued, 18);
}

/* ---- leases by the database's clock ---- */

static void test_expired_lease_claimed_again(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN];
    hh_video v;
    create(f, &f->u[0], 1, 2, id);
    int64_t before = th_balance(f->st, &f->u[0]);
    assert_int_equal(store_job_claim(f->st, "w1", 50, &v), HH_OK);
    store_video_clear(&v);
    usleep(200 * 1000);
    hh_queue_stats qs;
    assert_int_equal(store_queue_stats(f->st, &qs), HH_OK);
    assert_int_equal(qs.lease_expired, 1);
    /* The first claim's lease has lapsed: the job goes to w2, w1 can change nothing. */
    assert_int_equal(store_job_claim(f->st, "w2", 50, &v), HH_OK);
    assert_string_equal(v.id, id);
    assert_int_equal(v.attempts, 2);
    store_video_clear(&v);
    assert_int_equal(store_job_heartbeat(f->st, id, "w1", 10, 60000), HH_ERR_CONFLICT);
    assert_int_equal(store_job_finish(f->st, id, "w1", "a.mp4", "a.jpg"), HH_ERR_CONFLICT);
    /* w2's lapses too, with no attempt left: failed and refunded at the next claim. */
    usleep(200 * 1000);
    assert_int_equal(store_job_claim(f->st, "w3", 60000, &v), HH_ERR_NOTFOUND);
    assert_int_equal(store_video_get_any(f->st, id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_FAILED);
    assert_int_equal(v.credits_refunded, 60);
    store_video_clear(&v);
    assert_int_equal(th_balance(f->st, &f->u[0]), before + 60);
    assert_int_equal(store_job_fail(f->st, id, "w2", "late", 1), HH_ERR_CONFLICT);
}

/* ---- remote tasks ---- */

#define TASKS 40

typedef struct driver {
    fixture *f;
    int index;
    atomic_int *start;
    char ids[TASKS][HH_ID_LEN];
    int n;
    hh_status failed;
} driver;

/* A driver on a node of its own: claims due tasks a few at a time, holding every claim. */
static void *drive(void *arg)
{
    driver *d = arg;
    hh_store *st = NULL;
    char owner[32];
    snprintf(owner, sizeof owner, "driver-%d", d->index);
    if ((d->failed = store_open(sf_location(d->f->loc), &st)))
        return NULL;
    atomic_fetch_add(d->start, 1);
    while (atomic_load(d->start) < WORKERS)
        usleep(100);
    for (int round = 0; round < 20; round++) {
        hh_remote_task *ts;
        size_t n;
        if ((d->failed = store_remote_claim(st, "pro", HH_REMOTE_SUBMIT, owner, 60000, 3, &ts, &n)))
            break;
        for (size_t i = 0; i < n && d->n < TASKS; i++)
            memcpy(d->ids[d->n++], ts[i].video_id, HH_ID_LEN);
        store_remote_list_free(ts, n);
    }
    store_close(st);
    return NULL;
}

/* TASKS videos handed to a provider: each job claimed and begun as a remote task. */
static void begin_tasks(fixture *f, char ids[TASKS][HH_ID_LEN])
{
    for (int i = 0; i < TASKS; i++) {
        hh_video v;
        create(f, &f->u[i % USERS], TASKS, 0, ids[i]);
        assert_int_equal(store_job_claim(f->st, "render", 60000, &v), HH_OK);
        assert_int_equal(store_remote_begin(f->st, v.id, "render", "pro", "fake", INT64_MAX),
                         HH_OK);
        store_video_clear(&v);
    }
}

static void test_remote_claims_not_doubled(void **state)
{
    fixture *f = *state;
    static char ids[TASKS][HH_ID_LEN];
    static driver ds[WORKERS];
    pthread_t t[WORKERS];
    atomic_int start = 0;
    begin_tasks(f, ids);
    for (int i = 0; i < WORKERS; i++) {
        ds[i] = (driver){.f = f, .index = i, .start = &start};
        assert_int_equal(pthread_create(&t[i], NULL, drive, &ds[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(ds[i].failed, HH_OK);
        total += ds[i].n;
    }
    assert_int_equal(total, TASKS);
    for (int k = 0; k < TASKS; k++) {
        int seen = 0;
        for (int i = 0; i < WORKERS; i++)
            for (int j = 0; j < ds[i].n; j++)
                seen += !strcmp(ds[i].ids[j], ids[k]);
        assert_int_equal(seen, 1);
    }
}

static void test_remote_lapsed_claim_free_again(void **state)
{
    fixture *f = *state;
    static char ids[TASKS][HH_ID_LEN];
    hh_remote_task *ts;
    size_t n;
    begin_tasks(f, ids);
    assert_int_equal(store_remote_claim(f->st, "pro", HH_REMOTE_SUBMIT, "a", 50, 100, &ts, &n),
                     HH_OK);
    assert_int_equal(n, TASKS);
    store_remote_list_free(ts, n);
    assert_int_equal(store_remote_claim(f->st, "pro", HH_REMOTE_SUBMIT, "b", 50, 100, &ts, &n),
                     HH_OK);
    assert_int_equal(n, 0); /* all held by a */
    usleep(200 * 1000);
    assert_int_equal(store_remote_claim(f->st, "pro", HH_REMOTE_SUBMIT, "b", 60000, 100, &ts, &n),
                     HH_OK);
    assert_int_equal(n, TASKS);
    store_remote_list_free(ts, n);
    /* b holds them now: a's late answer changes nothing, b's does. */
    hh_remote_update u = {.task = "{\"id\":\"t1\"}", .created = 1, .next_at = 0, .progress = -1};
    assert_int_equal(store_remote_update(f->st, ids[0], "b", &u), HH_OK);
    assert_int_equal(store_remote_fail(f->st, ids[1], "a", "lost", NULL), HH_ERR_CONFLICT);
    assert_int_equal(store_remote_fail(f->st, ids[1], "b", "lost", "gone"), HH_OK);
    hh_remote_task got;
    assert_int_equal(store_remote_get(f->st, ids[1], &got), HH_OK);
    assert_int_equal(got.phase, HH_REMOTE_FAILED);
    assert_string_equal(got.detail, "gone");
    store_remote_clear(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_job_claimed_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_holds_under_racing_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_lease_claimed_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_claims_not_doubled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_lapsed_claim_free_again, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
