/*
 * worker.h - the render workers: threads that claim jobs from the store's
 * queue, fetch their inputs from blob storage, run the plan's engine, store
 * the MP4 and thumbnail and mark the video ready (or failed, refunded).
 *
 * `serve --workers N` runs a pool inside the API process; `happyhorse
 * worker` runs one alone against the same store and objects. Any number of
 * pools may share a store: the queue's leases keep each job on one worker.
 *
 * Leases: a job is claimed with a lease that a heartbeat thread extends
 * (and stamps with the render's progress) every min(lease/4, 1 s) while
 * the render runs. A worker that dies stops
 * heartbeating; its job is claimed again when the lease expires. A worker
 * whose heartbeat is refused (its lease expired and the job went to
 * another worker) cancels its render and writes nothing.
 *
 * Stopping: worker_pool_stop cancels renders in progress and gives their
 * jobs back to the queue without counting an attempt, so a restart never
 * loses a job nor fails it for being interrupted. Jobs a provider makes
 * (remote engines, jobs/remote.h) keep running at the provider: the pool's
 * remote driver only gives its claims back. A killed worker leaves
 * its job to lease expiry and its job directory in the scratch directory;
 * worker_pool_start removes job directories untouched for 48 hours.
 */
#ifndef HH_WORKER_H
#define HH_WORKER_H

#include <stdint.h>

#include "blob/blob.h"
#include "domain/plans.h"
#include "store/store.h"
#include "util/status.h"

typedef struct worker_pool worker_pool;

typedef struct worker_config {
    hh_store *store;       /* borrowed, outlives the pool */
    blob_store *blob;      /* borrowed */
    const hh_plans *plans; /* borrowed; each plan's engine is made at start */
    unsigned threads;      /* worker threads, >= 1 */
    const char *scratch;   /* directory for per-job temporary files (created) */
    int64_t lease_ms;      /* 0: $HAPPYHORSE_JOB_LEASE_MS (1000..3600000), else 60 s */
    int poll_ms;           /* idle wait between empty claims; 0: 500 ms */
} worker_config;

/* Starts the pool. Logs and returns HH_ERR_INVALID when a plan's engine cannot be made. */
hh_status worker_pool_start(const worker_config *cfg, worker_pool **out);

/* Cancels renders in progress, returns their jobs to the queue, joins, frees. NULL-safe. */
void worker_pool_stop(worker_pool *pool);

/* Prometheus text: queue wait and render time histograms, jobs done/failed. Caller frees. */
char *worker_pool_metrics(worker_pool *pool);

#endif
