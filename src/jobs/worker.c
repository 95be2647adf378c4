/*
 * worker.c - the worker pool: N render threads and one heartbeat thread.
 *
 * Each render thread loops: claim, run, report. The heartbeat thread, not
 * the render thread, extends leases, because a render may go long without
 * reporting progress (an exec generator loading a model) and must not lose
 * its lease for it. It beats every min(lease / 4, 1 s), so the progress a
 * customer polls is at most a second old, at the price of one small write
 * per busy worker per second. A refused heartbeat raises that slot's
 * cancel flag: the lease was lost, or the customer canceled the video
 * (store_video_cancel), so a cancel reaches the render within a beat.
 */
#include "jobs/worker.h"

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/upload_policy.h"
#include "engine/engine.h"
#include "jobs/job_inputs.h"
#include "jobs/remote.h"
#include "media/media.h"
#include "util/fsutil.h"
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
    atomic_int cancel;   /* raised: stop the render (lease lost or pool stopping) */
    atomic_int lost;     /* the lease is gone: write nothing */
    atomic_int canceled; /* the video's owner canceled it (lost is raised too) */
} slot;

struct worker_pool {
    worker_config cfg;
    char scratch[1024];               /* cfg.scratch points here */
    hh_engine *engines[HH_PLANS_MAX]; /* by plan index */
    slot *slots;
    unsigned nslots;
    pthread_t heartbeat;
    int heartbeat_started;
    remote_driver *remote; /* NULL when no plan's engine is remote */
    char remote_owner[64];
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
            if (snprintf(path, sizeof path, "%s/%s", scratch, e->d_name) >= (int)sizeof path)
                continue; /* not a job directory of ours: those names are short */
            if (!lstat(path, &sb) && S_ISDIR(sb.st_mode) && (int64_t)sb.st_mtime * 1000 < cutoff) {
                hh_remove_tree(path);
                removed++;
            }
        }
    closedir(d);
    if (removed)
        hh_info("worker: removed %d stale job directories from %s", removed, scratch);
}

/* Renders v's job with the plan's engine; *handed_off when a provider makes it instead. */
static hh_status render(slot *s, const hh_video *v, job_inputs *in, const char *video,
                        const char *thumb, int *handed_off, char *msg, size_t msgsize)
{
    worker_pool *p = s->pool;
    hh_video_request req;
    *handed_off = 0;
    if (job_request(v, &req))
        return HH_ERR_INTERNAL; /* stored requests were validated: this is a bug */
    const hh_plan *plan = plans_find(p->cfg.plans, v->plan);
    if (!plan) {
        snprintf(msg, msgsize, "The plan \"%s\" is no longer offered.", v->plan);
        return HH_ERR_INVALID;
    }
    hh_engine *engine = p->engines[plan - p->cfg.plans->plan];
    int remote = engine_is_remote(engine);
    hh_status rc = HH_OK;
    if (remote) {
        rc = remote_hand_off(p->cfg.store, engine, plan, v, s->worker_id, handed_off, msg, msgsize);
        if (rc || *handed_off)
            return rc;
    }
    if ((rc = job_fetch_inputs(p->cfg.blob, &req, 1, 0, in, msg, msgsize)))
        return rc;
    hh_render_job job = {
        .req = &req,
        .seed = job_seed(v->id),
        .video_path = video,
        .thumb_path = thumb,
        .progress = on_progress,
        .progress_ctx = s,
        .cancel = &s->cancel,
        .watermark = plan->watermark,
    };
    for (int r = 0; r < HH_REF_COUNT; r++)
        job.input[r] = in->input[r][0] ? in->input[r] : NULL;
    if (remote)
        return remote_collect_result(p->cfg.store, engine, v, &job, in->dir, msg, msgsize);
    return engine_render(engine, &job, msg, msgsize);
}

/* Stores the outputs and marks the video ready. */
static hh_status publish(slot *s, const hh_video *v, const char *video, const char *thumb)
{
    char vkey[HH_KEY_MAX], tkey[HH_KEY_MAX];
    hh_status rc = upload_output_key(v->id, vkey, sizeof vkey);
    if (!rc)
        rc = upload_thumbnail_key(v->id, tkey, sizeof tkey);
    if (!rc)
        rc = blob_put_file(s->pool->cfg.blob, vkey, video);
    if (!rc)
        rc = blob_put_file(s->pool->cfg.blob, tkey, thumb);
    if (!rc)
        rc = store_job_finish(s->pool->cfg.store, v->id, s->worker_id, vkey, tkey);
    if (rc == HH_ERR_CANCELED) {
        /* Canceled between the last heartbeat and now: nothing may serve these. (A lease lost
         * to another worker keeps them: that worker writes the same keys.) */
        atomic_store(&s->canceled, 1);
        blob_remove(s->pool->cfg.blob, vkey);
        blob_remove(s->pool->cfg.blob, tkey);
    }
    return rc;
}

/* Writes what became of the job to the store and the log. */
static void settle(slot *s, const hh_video *v, hh_status rc, int handed_off, char *msg,
                   size_t msgsize, int64_t started)
{
    worker_pool *p = s->pool;
    const char *outcome;
    if (atomic_load(&s->canceled)) {
        outcome = "canceled";
    } else if (atomic_load(&s->lost)) {
        outcome = "lease lost";
    } else if (!rc && handed_off) {
        outcome = "handed to the provider";
    } else if (!rc) {
        outcome = "ready";
        atomic_fetch_add(&p->done, 1);
        hh_histogram_observe(&p->render_time, hh_time_mono_us() - started);
    } else if (rc == HH_ERR_CANCELED || rc == HH_ERR_CONFLICT || atomic_load(&p->stopping)) {
        outcome = "released";
        store_job_release(p->cfg.store, v->id, s->worker_id);
    } else {
        /* Bad input is final; trouble of ours (I/O, memory, bugs) is worth another try. */
        int retryable = rc != HH_ERR_INVALID && rc != HH_ERR_LIMIT;
        outcome = retryable ? "retry" : "failed";
        if (!msg[0])
            snprintf(msg, msgsize, "The render failed.");
        if (store_job_fail(p->cfg.store, v->id, s->worker_id, msg, retryable) == HH_OK &&
            !retryable)
            atomic_fetch_add(&p->failed, 1);
    }
    hh_log_fields(HH_LOG_INFO, "job",
                  json_pack("{s:s, s:s, s:s, s:s, s:i, s:f}", "video", v->id, "worker",
                            s->worker_id, "outcome", outcome, "message", msg, "attempt",
                            v->attempts, "seconds", (double)(hh_time_mono_us() - started) / 1e6));
}

static void run_job(slot *s, const hh_video *v)
{
    worker_pool *p = s->pool;
    job_inputs in;
    char msg[HH_ENGINE_MSG_MAX] = "", video[JOB_PATH_MAX], thumb[JOB_PATH_MAX];
    int handed_off = 0;
    int64_t started = hh_time_mono_us();
    if (v->attempts == 1) /* a retry's wait is not the customer's queue wait */
        hh_histogram_observe(&p->queue_wait, (hh_time_now_ms() - v->created_at) * 1000);
    hh_status rc = job_dir_make(p->cfg.scratch, v, "", &in, msg, sizeof msg);
    snprintf(video, sizeof video, "%s/out.mp4", in.dir);
    snprintf(thumb, sizeof thumb, "%s/thumb.jpg", in.dir);
    if (!rc)
        rc = render(s, v, &in, video, thumb, &handed_off, msg, sizeof msg);
    if (!rc && !handed_off && !atomic_load(&s->lost))
        rc = publish(s, v, video, thumb);
    settle(s, v, rc, handed_off, msg, sizeof msg, started);
    job_dir_remove(&in);
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
        atomic_store(&s->canceled, 0);
        pthread_mutex_unlock(&s->lock);
        run_job(s, &v);
        pthread_mutex_lock(&s->lock);
        s->video_id[0] = '\0';
        pthread_mutex_unlock(&s->lock);
        store_video_clear(&v);
        /* A render frees tens of MiB (frames, the encoder's buffers) in pieces malloc keeps for
         * reuse; give them back, so an idle worker holds what it holds before its first job. */
        malloc_trim(0);
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
            if (rc == HH_ERR_CANCELED) {
                hh_info("worker %s: %s was canceled by its owner; stopping that render",
                        s->worker_id, id);
                atomic_store(&s->canceled, 1);
            } else if (rc == HH_ERR_CONFLICT) {
                hh_warn("worker %s lost its lease on %s; stopping that render", s->worker_id, id);
            }
            if (rc == HH_ERR_CANCELED || rc == HH_ERR_CONFLICT) {
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
        hh_errdetail why = {"", ""};
        if (engine_new(pl->engine, pl->engine_config, &p->engines[i], &why)) {
            hh_error("plan \"%s\": engine \"%s\": %s", pl->name, pl->engine, why.message);
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
    /* Every engine ends in FFmpeg (the MP4): refuse to start rather than fail every job. */
    char why[512];
    if (media_ready(why, sizeof why)) {
        hh_error("worker: %s", why);
        return HH_ERR_IO;
    }
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
    snprintf(p->remote_owner, sizeof p->remote_owner, "%.8s-remote", node + 28);
    remote_config rcfg = {
        .store = p->cfg.store,
        .blob = p->cfg.blob,
        .plans = p->cfg.plans,
        .engines = p->engines,
        .scratch = p->scratch,
        .owner = p->remote_owner,
    };
    if ((rc = remote_driver_start(&rcfg, &p->remote))) {
        worker_pool_stop(p);
        return rc;
    }
    *out = p;
    return HH_OK;
}

void worker_pool_stop(worker_pool *p)
{
    if (!p)
        return;
    /* Remote tasks keep running at their providers; the driver only gives its claims back. */
    remote_driver_stop(p->remote);
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
    char *remote = p->remote ? remote_driver_metrics(p->remote) : NULL;
    if (remote)
        fputs(remote, f);
    free(remote);
    if (fclose(f)) {
        free(text);
        return NULL;
    }
    return text;
}
