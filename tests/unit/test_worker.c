/*
 * test_worker.c - the worker pool against a real store (either backend,
 * support/store_fixture.h), real local blob storage and real engines: a job
 * renders to both outputs and becomes ready; an undecodable reference fails
 * the job and refunds it once; stopping the pool gives a running job back
 * to the queue uncounted; an operator failing a running job makes the
 * worker cancel its render and write nothing; a killed worker's old scratch
 * is removed at start. The slow renders are an exec generator (a shell
 * script) that reports progress and sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "blob/blob.h"
#include "domain/plans.h"
#include "domain/video_request.h"
#include "jobs/worker.h"
#include "store/store.h"
#include "support/store_fixture.h"
#include "support/store_helpers.h"
#include "util/timeutil.h"

#define GRANT 100000

typedef struct fixture {
    store_fixture *loc;
    const char *dir; /* the fixture's directory: blobs, scratch, the slow script */
    char scratch[128];
    hh_store *st;
    blob_store *blob;
    hh_plans *plans;
    hh_user u;
    worker_pool *pool;
} fixture;

/* Plans: "fast" renders with the procedural engine, "slow" with a sleeping generator. */
static const char plans_fmt[] =
    "{\"plans\": ["
    " {\"name\": \"fast\", \"maxDurationSec\": 12, \"requestsPerMinute\": 60,"
    "  \"jobsInFlight\": 5, \"allow\": {\"1080p\": true, \"sourceImage\": true,"
    "  \"lastFrame\": true, \"referenceVideo\": true, \"referenceAudio\": true},"
    "  \"creditsPerSecond\": {\"720p\": 10, \"1080p\": 20}, \"engine\": {\"name\": "
    "\"procedural\"}},"
    " {\"name\": \"slow\", \"maxDurationSec\": 12, \"requestsPerMinute\": 60,"
    "  \"jobsInFlight\": 5, \"allow\": {\"1080p\": true, \"sourceImage\": true,"
    "  \"lastFrame\": true, \"referenceVideo\": true, \"referenceAudio\": true},"
    "  \"creditsPerSecond\": {\"720p\": 10, \"1080p\": 20},"
    "  \"engine\": {\"name\": \"exec\", \"command\": [\"/bin/sh\", \"%s/slow.sh\"],"
    "   \"timeoutSec\": 120}}]}";

/* Reports progress 1, 2, ... every 50 ms for 60 s, then fails: only a cancel ends it early. */
static const char slow_script[] = "i=1\n"
                                  "while [ $i -lt 1200 ]; do\n"
                                  "  echo \"{\\\"progress\\\": $((i / 13 + 1))}\"\n"
                                  "  sleep 0.05\n"
                                  "  i=$((i + 1))\n"
                                  "done\n"
                                  "echo 'slow generator ran to the end' >&2\n"
                                  "exit 1\n";

static int teardown(void **state)
{
    fixture *f = *state;
    worker_pool_stop(f->pool);
    blob_free(f->blob);
    plans_free(f->plans);
    int rc = sf_close_free(f->loc, f->st);
    free(f);
    return rc;
}

/* Writes the slow generator's script into the fixture's directory. */
static hh_status write_slow_script(const fixture *f)
{
    char path[128];
    snprintf(path, sizeof path, "%s/slow.sh", f->dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return HH_ERR_IO;
    int bad = fputs(slow_script, fp) < 0;
    return fclose(fp) || bad ? HH_ERR_IO : HH_OK;
}

/* The store, its directory's script and blobs, the plans and a user granted GRANT. */
static hh_status fill(fixture *f)
{
    hh_status rc = sf_new(&f->loc);
    if (rc)
        return rc;
    f->dir = sf_dir(f->loc);
    snprintf(f->scratch, sizeof f->scratch, "%s/tmp", f->dir);
    char json[2048];
    snprintf(json, sizeof json, plans_fmt, f->dir);
    if ((rc = write_slow_script(f)) ||
        (rc = plans_load_json(json, strlen(json), &f->plans, NULL)) ||
        (rc = sf_open(f->loc, &f->st)) ||
        (rc = blob_local_new(f->dir, "http://127.0.0.1:1", &f->blob)))
        return rc;
    return th_new_user(f->st, "w@example.com", "fast", GRANT, &f->u);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    return sf_setup_end(state, teardown, fill(f));
}

static void start(fixture *f, unsigned threads, int64_t lease_ms)
{
    worker_config wc = {.store = f->st,
                        .blob = f->blob,
                        .plans = f->plans,
                        .threads = threads,
                        .scratch = f->scratch,
                        .lease_ms = lease_ms,
                        .poll_ms = 50};
    assert_int_equal(worker_pool_start(&wc, &f->pool), HH_OK);
}

/* Queues a video of plan from an API body, the way POST /api/v1/videos stores it. */
static void enqueue(fixture *f, const char *plan, json_t *body, char id[HH_ID_LEN])
{
    hh_video_request vr;
    hh_errdetail d;
    assert_int_equal(video_request_parse(body, HH_VR_API, &vr, &d), HH_OK);
    json_decref(body);
    json_t *norm = video_request_to_json(&vr, HH_VR_API);
    char *text = json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(norm);
    hh_video_new in = {
        .user_id = f->u.id,
        .prompt = vr.prompt,
        .duration_sec = vr.duration_sec,
        .aspect_ratio = video_aspect_name(vr.aspect),
        .resolution = video_resolution_name(vr.resolution),
        .request_json = text,
        .price = 10 * vr.duration_sec,
        .plan = plan,
        .max_in_flight = 5,
    };
    char *replay = NULL;
    assert_int_equal(store_video_create(f->st, &in, id, &replay, NULL), HH_OK);
    free(text);
}

static json_t *body_of(const char *prompt)
{
    return json_pack("{s:s, s:i, s:s}", "prompt", prompt, "durationSec", 3, "aspectRatio", "1:1");
}

/* Waits up to ms for the video to reach status (and progress >= min_progress); fills *v. */
static void wait_for(fixture *f, const char *id, hh_video_status status, int min_progress,
                     int64_t ms, hh_video *v)
{
    int64_t until = hh_time_now_ms() + ms;
    for (;;) {
        assert_int_equal(store_video_get_any(f->st, id, v), HH_OK);
        if (v->status == status && v->progress >= min_progress)
            return;
        if (hh_time_now_ms() > until)
            fail_msg("video %s is %s (progress %d), expected %s", id,
                     hh_video_status_str(v->status), v->progress, hh_video_status_str(status));
        store_video_clear(v);
        usleep(20000);
    }
}

static int64_t balance(fixture *f)
{
    hh_user now;
    int64_t sum;
    assert_int_equal(store_user_by_id(f->st, f->u.id, &now), HH_OK);
    assert_int_equal(store_ledger_sum(f->st, f->u.id, &sum), HH_OK);
    assert_int_equal(now.credits, sum);
    return now.credits;
}

static int refunds_of(fixture *f, const char *id)
{
    hh_ledger_entry *e;
    size_t n;
    int refunds = 0;
    assert_int_equal(store_ledger_list(f->st, f->u.id, 0, 100, &e, &n), HH_OK);
    for (size_t i = 0; i < n; i++)
        refunds += e[i].kind == HH_LEDGER_REFUND && !strcmp(e[i].ref, id);
    free(e);
    return refunds;
}

/* Whether the output (thumb 0: the MP4, 1: the thumbnail) of video id exists, not empty. */
static int output_exists(fixture *f, int thumb, const char *id)
{
    char key[HH_KEY_MAX];
    blob_info info;
    if (thumb)
        snprintf(key, sizeof key, "videos/thumbnails/%s.jpg", id);
    else
        snprintf(key, sizeof key, "videos/outputs/%s.mp4", id);
    return blob_stat(f->blob, key, &info) == HH_OK && info.size > 0;
}

/* The scratch directory holds nothing once jobs are over. */
static void assert_scratch_empty(fixture *f)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", f->scratch);
    assert_int_equal(system(cmd), 0);
}

static void renders_to_both_outputs_then_ready(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN];
    enqueue(f, "fast", body_of("a lighthouse on a cliff at sunset"), id);
    start(f, 1, 0);
    hh_video v;
    wait_for(f, id, HH_VIDEO_READY, 100, 120000, &v);
    char want[HH_KEY_MAX];
    snprintf(want, sizeof want, "videos/outputs/%s.mp4", id);
    assert_string_equal(v.video_key, want);
    snprintf(want, sizeof want, "videos/thumbnails/%s.jpg", id);
    assert_string_equal(v.thumbnail_key, want);
    assert_int_equal(v.attempts, 1);
    assert_true(v.ready_at >= v.started_at && v.started_at >= v.created_at);
    assert_null(v.error_message);
    store_video_clear(&v);
    assert_true(output_exists(f, 0, id));
    assert_true(output_exists(f, 1, id));
    assert_int_equal(balance(f), GRANT - 30); /* ready: the charge stays */

    char *m = worker_pool_metrics(f->pool);
    assert_non_null(m);
    assert_non_null(strstr(m, "happyhorse_job_queue_wait_seconds_count 1\n"));
    assert_non_null(strstr(m, "happyhorse_job_render_seconds_count 1\n"));
    assert_non_null(strstr(m, "happyhorse_jobs_finished_total{outcome=\"ready\"} 1\n"));
    free(m);
    worker_pool_stop(f->pool);
    f->pool = NULL;
    assert_scratch_empty(f);
}

static void undecodable_reference_fails_and_refunds_once(void **state)
{
    fixture *f = *state;
    char key[HH_KEY_MAX], path[128], id[HH_ID_LEN];
    snprintf(path, sizeof path, "%s/junk.mp4", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("\x00\x00\x00\x18"
          "ftypisom then nothing a decoder can use",
          fp);
    assert_int_equal(fclose(fp), 0);
    snprintf(key, sizeof key, "videos/reference-video/%s/junk.mp4", f->u.id);
    assert_int_equal(blob_put_file(f->blob, key, path), HH_OK);

    json_t *body = body_of("waves on a beach");
    json_object_set_new(body, "referenceVideoKey", json_string(key));
    enqueue(f, "fast", body, id);
    start(f, 1, 0);
    hh_video v;
    wait_for(f, id, HH_VIDEO_FAILED, 0, 60000, &v);
    assert_non_null(v.error_message);
    assert_non_null(strstr(v.error_message, "decode"));
    assert_null(strstr(v.error_message, f->dir)); /* never a server path */
    assert_int_equal(v.credits_refunded, 30);
    assert_int_equal(v.attempts, 1); /* bad input is final: not retried */
    store_video_clear(&v);
    assert_int_equal(balance(f), GRANT);
    assert_int_equal(refunds_of(f, id), 1);
    assert_false(output_exists(f, 0, id));
    char *m = worker_pool_metrics(f->pool);
    assert_non_null(strstr(m, "happyhorse_jobs_finished_total{outcome=\"failed\"} 1\n"));
    free(m);
}

static void stop_gives_running_job_back_uncounted(void **state)
{
    fixture *f = *state;
    char id[HH_ID_LEN];
    enqueue(f, "slow", body_of("a slow river"), id);
    start(f, 2, 0);
    hh_video v;
    /* Progress from the generator reaches the store through the heartbeat. */
    wait_for(f, id, HH_VIDEO_PROCESSING, 2, 10000, &v);
    store_video_clear(&v);
    int64_t t0 = hh_time_now_ms();
    worker_pool_stop(f->pool);
    f->pool = NULL;
    assert_true(hh_time_now_ms() - t0 < 5000); /* the render was cancelled, not awaited */
    assert_int_equal(store_video_get_any(f->st, id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_QUEUED);
    assert_int_equal(v.attempts, 0); /* stopping is not an attempt */
    assert_int_equal(v.credits_refunded, 0);
    store_video_clear(&v);
    assert_int_equal(balance(f), GRANT - 30);
    assert_scratch_empty(f);
    /* A new pool picks it up again. */
    start(f, 1, 0);
    wait_for(f, id, HH_VIDEO_PROCESSING, 1, 10000, &v);
    assert_int_equal(v.attempts, 1);
    store_video_clear(&v);
}

static void operator_fail_cancels_the_render(void **state)
{
    fixture *f = *state;
    char slow_id[HH_ID_LEN], next_id[HH_ID_LEN];
    enqueue(f, "slow", body_of("a very long take"), slow_id);
    start(f, 1, 2000);
    hh_video v;
    wait_for(f, slow_id, HH_VIDEO_PROCESSING, 1, 10000, &v);
    store_video_clear(&v);
    assert_int_equal(store_job_fail(f->st, slow_id, NULL, "Stopped by an operator.", 0), HH_OK);
    /* The only worker notices at its next heartbeat, kills the generator and is free again:
     * the next job starts long before the slow one's 60 s would have ended. */
    enqueue(f, "slow", body_of("the next one"), next_id);
    wait_for(f, next_id, HH_VIDEO_PROCESSING, 1, 8000, &v);
    store_video_clear(&v);
    assert_int_equal(store_video_get_any(f->st, slow_id, &v), HH_OK);
    assert_int_equal(v.status, HH_VIDEO_FAILED);
    assert_string_equal(v.error_message, "Stopped by an operator.");
    assert_string_equal(v.video_key, "");
    store_video_clear(&v);
    assert_int_equal(refunds_of(f, slow_id), 1);
    assert_false(output_exists(f, 0, slow_id));
    assert_int_equal(balance(f), GRANT - 30);
}

/* Makes a job directory in the scratch directory, last touched age_s seconds ago. */
static void make_job_dir(fixture *f, const char *name, long age_s)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->scratch, name);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/%s/out.mp4", f->scratch, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("partial", fp);
    assert_int_equal(fclose(fp), 0);
    struct timeval now, t[2];
    gettimeofday(&now, NULL);
    t[0] = t[1] = (struct timeval){now.tv_sec - age_s, 0};
    snprintf(path, sizeof path, "%s/%s", f->scratch, name);
    assert_int_equal(utimes(path, t), 0);
}

static void killed_workers_scratch_is_cleaned_at_start(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkdir(f->scratch, 0700), 0);
    make_job_dir(f, "crashed-3-days-ago", 3 * 86400);
    make_job_dir(f, "another-process-now", 60);
    start(f, 1, 0);
    char path[256];
    struct stat sb;
    snprintf(path, sizeof path, "%s/crashed-3-days-ago", f->scratch);
    assert_int_not_equal(stat(path, &sb), 0);
    snprintf(path, sizeof path, "%s/another-process-now/out.mp4", f->scratch);
    assert_int_equal(stat(path, &sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(renders_to_both_outputs_then_ready, setup, teardown),
        cmocka_unit_test_setup_teardown(undecodable_reference_fails_and_refunds_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stop_gives_running_job_back_uncounted, setup, teardown),
        cmocka_unit_test_setup_teardown(operator_fail_cancels_the_render, setup, teardown),
        cmocka_unit_test_setup_teardown(killed_workers_scratch_is_cleaned_at_start, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
