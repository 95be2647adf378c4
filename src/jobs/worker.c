/*
 * worker.c - the worker pool: N render threads and one heartbeat thread.
 *
 * Each render thread loops: claim, run, report. The heartbeat thread, not
 * the render thread, extends leases, because a render may go long without
 * reporting progress (an exec generator loading a model) and must not lose
 * its lease for it. It beats every min(lease / 4, 1 s), so the progress a
 * customer polls is at most a second old, at the price of one small write
 * per busy worker per second. A refused heartbeat raises that slot's
 * cancel flag.
 */
#include "jobs/worker.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/upload_policy.h"
#include "engine/engine.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/histogram.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/uuid.h"

#define DEFAULT_LEASE_MS 60000
#define DEFAULT_POLL_MS  500
#define HEARTBEAT_MAX_MS 1000 /* progress reaches GET at least this often */
#define LEASE_ENV        "HAPPYHORSE_JOB_LEASE_MS"
#define LEASE_MIN_MS     1000
#define LEASE_MAX_MS     3600000
#define STALE_MS         (48LL * 3600 * 1000) /* scratch left by a killed worker */

typedef struct slot {
    worker_pool *pool;
    pthread_t thread;
    char worker_id[64];
    pthread_mutex_t lock;     /* guards video_id (read by the heartbeat thread) */
    char video_id[HH_ID_LEN]; /* "" when idle */
    atomic_int progress;
    atomic_int cancel; /* raised: stop the render (lease lost or pool stopping) */
    atomic_int lost;   /* the lease is gone: write nothing */
} slot;

struct worker_pool {
    worker_config cfg;
    char scratch[1024];               /* cfg.scratch points here */
    hh_engine *engines[HH_PLANS_MAX]; /* by plan index */
    slot *slots;
    unsigned nslots;
    pthread_t heartbeat;
    int heartbeat_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int stopping;
    hh_histogram queue_wait, render_time;
    atomic_uint_fast64_t done, failed;
};

static const double wait_le[] = {0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800};
static const double render_le[] = {1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600};

/* Sleeps up to ms, or until the pool stops. */
static void pool_sleep(worker_pool *p, int64_t ms)
{
    struct timespec until = hh_deadline_after_ms(CLOCK_REALTIME, ms);
    pthread_mutex_lock(&p->lock);
    if (!atomic_load(&p->stopping))
        pthread_cond_timedwait(&p->wake, &p->lock, &until);
    pthread_mutex_unlock(&p->lock);
}

/* ---- one job ---- */

static void on_progress(void *ctx, int percent)
{
    atomic_store(&((slot *)ctx)->progress, percent);
}

/* A seed fixed by the video id, so a retried job renders the same video. */
static uint64_t seed_of(const char *id)
{
    return hh_fnv1a(HH_FNV1A_INIT, id);
}

/*
 * Removes job directories left in the scratch directory by a worker that
 * was killed mid-job (its clean-up never ran). Only ones untouched for
 * STALE_MS: pools of other processes may share the directory, and no job
 * of theirs lives that long (the exec engine's longest limit is 24 h).
 */
static void remove_stale_jobs(const char *scratch)
{
    DIR *d = opendir(scratch);
    if (!d)
        return;
    struct dirent *e;
    struct stat sb;
    char path[1100];
    int removed = 0;
    int64_t cutoff = hh_time_now_ms() - STALE_MS;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
            if (!lstat(path, &sb) && S_ISDIR(sb.st_mode) && (int64_t)sb.st_mtime * 1000 < cutoff) {
                hh_remove_tree(path);
                removed++;
            }
        }
    closedir(d);
    if (removed)
        hh_info("worker: removed %d stale job directories from %s", removed, scratch);
}

typedef struct job_files {
    char dir[1024];
    char input[HH_REF_COUNT][1100];
    char video[1100], thumb[1100];
} job_files;

/* Copies the request's references out of blob storage into the job's directory. */
static hh_status fetch_inputs(worker_pool *p, const hh_video_request *req, job_files *f, char *msg,
                              size_t msgsize)
{
    static const char *const names[HH_REF_COUNT] = {"source-image", "last-frame", "reference-video",
                                                    "reference-audio"};
    for (int r = 0; r < HH_REF_COUNT; r++) {
        if (!req->ref[r][0])
            continue;
        const char *ext = strrchr(req->ref[r], '.');
        snprintf(f->input[r], sizeof f->input[r], "%s/%s%s", f->dir, names[r], ext ? ext : "");
        hh_status rc = blob_fetch_file(p->cfg.blob, req->ref[r], f->input[r]);
        if (rc) {
            snprintf(msg, msgsize, "The %s upload could not be read.", names[r]);
            return rc == HH_ERR_NOTFOUND ? HH_ERR_INVALID : rc;
        }
    }
    return HH_OK;
}

/* Renders v into f; HH_OK with the outputs in place, else msg says why. */
static hh_status render(slot *s, const hh_video *v, job_files *f, char *msg, size_t msgsize)
{
    worker_pool *p = s->pool;
    hh_video_request req;
    hh_errdetail d = {"", ""};
    json_error_t jerr;
    json_t *body = json_loads(v->request, 0, &jerr);
    hh_status rc = body ? video_request_parse(body, HH_VR_API, &req, &d) : HH_ERR_INTERNAL;
    json_decref(body);
    if (rc) {
        snprintf(msg, msgsize, "%s", d.message);
        return HH_ERR_INTERNAL; /* stored requests were validated: this is a bug */
    }
    const hh_plan *plan = plans_find(p->cfg.plans, v->plan);
    if (!plan) {
        snprintf(msg, msgsize, "The plan \"%s\" is no longer offered.", v->plan);
        return HH_ERR_INVALID;
    }
    hh_engine *engine = p->engines[plan - p->cfg.plans->plan];
    if ((rc = fetch_inputs(p, &req, f, msg, msgsize)))
        return rc;
    hh_render_job job = {
        .req = &req,
        .seed = seed_of(v->id),
        .video_path = f->video,
        .thumb_path = f->thumb,
        .progress = on_progress,
        .progress_ctx = s,
        .cancel = &s->cancel,
    };
    for (int r = 0; r < HH_REF_COUNT; r++)
        job.input[r] = f->input[r][0] ? f->input[r] : NULL;
    return engine_render(engine, &job, msg, msgsize);
}

/* Stores the outputs and marks the video ready. */
static hh_status publish(slot *s, const hh_video *v, const job_files *f)
{
    char vkey[HH_KEY_MAX], tkey[HH_KEY_MAX];
    hh_status rc = upload_output_key(v->id, vkey, sizeof vkey);
    if (!rc)
        rc = upload_thumbnail_key(v->id, tkey, sizeof tkey);
    if (!rc)
        rc = blob_put_file(s->pool->cfg.blob, vkey, f->video);
    if (!rc)
        rc = blob_put_file(s->pool->cfg.blob, tkey, f->thumb);
    if (!rc)
        rc = store_job_finish(s->pool->cfg.store, v->id, s->worker_id, vkey, tkey);
    return rc;
}

static void run_job(slot *s, const hh_video *v)
{
    worker_pool *p = s->pool;
    job_files f;
    char msg[HH_ENGINE_MSG_MAX] = "";
    int64_t started = hh_time_mono_us();
    memset(&f, 0, sizeof f);
    if (v->attempts == 1) /* a retry's wait is not the customer's queue wait */
        hh_histogram_observe(&p->queue_wait, (hh_time_now_ms() - v->created_at) * 1000);

    snprintf(f.dir, sizeof f.dir, "%s/%s-XXXXXX", p->cfg.scratch, v->id);
    hh_status rc = mkdtemp(f.dir) ? HH_OK : HH_ERR_IO;
    snprintf(f.video, sizeof f.video, "%s/out.mp4", f.dir);
    snprintf(f.thumb, sizeof f.thumb, "%s/thumb.jpg", f.dir);
    if (rc)
        snprintf(msg, sizeof msg, "The worker could not create its scratch directory.");
    else
        rc = render(s, v, &f, msg, sizeof msg);
    if (!rc && !atomic_load(&s->lost))
        rc = publish(s, v, &f);

    const char *outcome;
    if (atomic_load(&s->lost)) {
        outcome = "lease lost";
    } else if (!rc) {
        outcome = "ready";
        atomic_fetch_add(&p->done, 1);
        hh_histogram_observe(&p->render_time, hh_time_mono_us() - started);
    } else if (rc == HH_ERR_CANCELED || atomic_load(&p->stopping)) {
        outcome = "released";
        store_job_release(p->cfg.store, v->id, s->worker_id);
    } else {
        /* Bad input is final; trouble of ours (I/O, memory, bugs) is worth another try. */
        int retryable = rc != HH_ERR_INVALID && rc != HH_ERR_LIMIT;
        outcome = retryable ? "retry" : "failed";
        if (!msg[0])
            snprintf(msg, sizeof msg, "The render failed.");
        if (store_job_fail(p->cfg.store, v->id, s->worker_id, msg, retryable) == HH_OK &&
            !retryable)
            atomic_fetch_add(&p->failed, 1);
    }
    hh_log_fields(HH_LOG_INFO, "job",
                  json_pack("{s:s, s:s, s:s, s:s, s:i, s:f}", "video", v->id, "worker",
                            s->worker_id, "outcome", outcome, "message", msg, "attempt",
                            v->attempts, "seconds", (double)(hh_time_mono_us() - started) / 1e6));
    if (f.dir[0])
        hh_remove_tree(f.dir);
}

static void *render_thread(void *arg)
{
    slot *s = arg;
    worker_pool *p = s->pool;
    while (!atomic_load(&p->stopping)) {
        hh_video v;
        hh_status rc = store_job_claim(p->cfg.store, s->worker_id, p->cfg.lease_ms, &v);
        if (rc) {
            if (rc != HH_ERR_NOTFOUND)
                hh_warn("worker %s: claim failed: %s", s->worker_id, hh_status_str(rc));
            pool_sleep(p, p->cfg.poll_ms);
            continue;
        }
        pthread_mutex_lock(&s->lock);
        memcpy(s->video_id, v.id, HH_ID_LEN);
        atomic_store(&s->progress, 0);
        atomic_store(&s->cancel, 0);
        atomic_store(&s->lost, 0);
        pthread_mutex_unlock(&s->lock);
        run_job(s, &v);
        pthread_mutex_lock(&s->lock);
        s->video_id[0] = '\0';
        pthread_mutex_unlock(&s->lock);
        store_video_clear(&v);
    }
    return NULL;
}

static void *heartbeat_thread(void *arg)
{
    worker_pool *p = arg;
    int64_t period = p->cfg.lease_ms / 4;
    if (period > HEARTBEAT_MAX_MS)
        period = HEARTBEAT_MAX_MS;
    while (!atomic_load(&p->stopping)) {
        pool_sleep(p, period);
        for (unsigned i = 0; i < p->nslots && !atomic_load(&p->stopping); i++) {
            slot *s = &p->slots[i];
            char id[HH_ID_LEN];
            pthread_mutex_lock(&s->lock);
            memcpy(id, s->video_id, HH_ID_LEN);
            pthread_mutex_unlock(&s->lock);
            if (!id[0])
                continue;
            hh_status rc = store_job_heartbeat(p->cfg.store, id, s->worker_id,
                                               atomic_load(&s->progress), p->cfg.lease_ms);
            if (rc == HH_ERR_CONFLICT) {
                hh_warn("worker %s lost its lease on %s; stopping that render", s->worker_id, id);
                atomic_store(&s->lost, 1);
                atomic_store(&s->cancel, 1);
            }
        }
    }
    return NULL;
}

/* ---- the pool ---- */

static hh_status make_engines(worker_pool *p)
{
    for (size_t i = 0; i < p->cfg.plans->count; i++) {
        const hh_plan *pl = &p->cfg.plans->plan[i];
        char err[256];
        if (engine_new(pl->engine, pl->engine_config, &p->engines[i], err, sizeof err)) {
            hh_error("plan \"%s\": engine \"%s\": %s", pl->name, pl->engine, err);
            return HH_ERR_INVALID;
        }
    }
    return HH_OK;
}

static void pool_free(worker_pool *p)
{
    for (size_t i = 0; i < HH_PLANS_MAX; i++)
        engine_free(p->engines[i]);
    for (unsigned i = 0; p->slots && i < p->nslots; i++)
        pthread_mutex_destroy(&p->slots[i].lock);
    free(p->slots);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

hh_status worker_pool_start(const worker_config *cfg, worker_pool **out)
{
    *out = NULL;
    if (cfg->threads < 1)
        return HH_ERR_INVALID;
    worker_pool *p = calloc(1, sizeof *p);
    if (!p)
        return HH_ERR_NOMEM;
    p->cfg = *cfg;
    snprintf(p->scratch, sizeof p->scratch, "%s", cfg->scratch);
    p->cfg.scratch = p->scratch;
    if (!p->cfg.lease_ms) {
        const char *env = getenv(LEASE_ENV);
        long ms = env ? strtol(env, NULL, 10) : 0;
        p->cfg.lease_ms = ms >= LEASE_MIN_MS && ms <= LEASE_MAX_MS ? ms : DEFAULT_LEASE_MS;
    }
    if (!p->cfg.poll_ms)
        p->cfg.poll_ms = DEFAULT_POLL_MS;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    hh_histogram_init(&p->queue_wait, wait_le, (int)(sizeof wait_le / sizeof *wait_le));
    hh_histogram_init(&p->render_time, render_le, (int)(sizeof render_le / sizeof *render_le));
    p->slots = calloc(cfg->threads, sizeof *p->slots);
    hh_status rc = p->slots ? make_engines(p) : HH_ERR_NOMEM;
    if (!rc && hh_mkdir_p(p->scratch)) {
        hh_error("cannot create the scratch directory %s: %s", p->scratch, strerror(errno));
        rc = HH_ERR_IO;
    }
    if (!rc)
        remove_stale_jobs(p->scratch);
    char node[UUID_STR_LEN];
    if (!rc)
        rc = uuid_v7(node);
    if (rc) {
        pool_free(p);
        return rc;
    }
    for (unsigned i = 0; i < cfg->threads; i++) {
        slot *s = &p->slots[i];
        s->pool = p;
        pthread_mutex_init(&s->lock, NULL);
        /* Unique across processes and restarts: a restarted worker never inherits a lease. */
        snprintf(s->worker_id, sizeof s->worker_id, "%.8s-%u", node + 28, i);
        p->nslots++;
        if (pthread_create(&s->thread, NULL, render_thread, s)) {
            p->nslots--;
            pthread_mutex_destroy(&s->lock);
            worker_pool_stop(p);
            return HH_ERR_NOMEM;
        }
    }
    if (pthread_create(&p->heartbeat, NULL, heartbeat_thread, p)) {
        worker_pool_stop(p);
        return HH_ERR_NOMEM;
    }
    p->heartbeat_started = 1;
    *out = p;
    return HH_OK;
}

void worker_pool_stop(worker_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->stopping, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nslots; i++)
        atomic_store(&p->slots[i].cancel, 1);
    for (unsigned i = 0; i < p->nslots; i++)
        pthread_join(p->slots[i].thread, NULL);
    if (p->heartbeat_started)
        pthread_join(p->heartbeat, NULL);
    pool_free(p);
}

char *worker_pool_metrics(worker_pool *p)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return NULL;
    hh_histogram_render(&p->queue_wait, f, "happyhorse_job_queue_wait_seconds",
                        "Time from a video's creation to a worker starting it.");
    hh_histogram_render(&p->render_time, f, "happyhorse_job_render_seconds",
                        "Time to render and store a video that became ready.");
    fprintf(f,
            "# HELP happyhorse_jobs_finished_total Jobs this process finished, by outcome.\n"
            "# TYPE happyhorse_jobs_finished_total counter\n"
            "happyhorse_jobs_finished_total{outcome=\"ready\"} %llu\n"
            "happyhorse_jobs_finished_total{outcome=\"failed\"} %llu\n",
            (unsigned long long)atomic_load(&p->done), (unsigned long long)atomic_load(&p->failed));
    if (fclose(f)) {
        free(text);
        return NULL;
    }
    return text;
}
