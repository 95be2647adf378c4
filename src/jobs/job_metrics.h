/*
 * job_metrics.h - Prometheus text about the job queue, read from the store,
 * so every node (API or worker-only) reports the same cluster-wide figures:
 * jobs queued, running and with an expired lease (a worker died and nobody
 * has reclaimed its job yet), users waiting, and the age of the oldest
 * queued job (the figure to alert on: it grows when workers are too few or
 * stuck). The per-process queue-wait and render-time histograms come from
 * worker_pool_metrics (jobs/worker.h); videos by status from
 * store_job_counts.
 */
#ifndef HH_JOB_METRICS_H
#define HH_JOB_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "store/store.h"
#include "util/status.h"

/*
 * Appends the queue gauges to f (an open stream the caller owns), with now
 * (ms since the epoch) for the age. Writes nothing and returns the store's
 * error when the store cannot be read.
 */
hh_status job_metrics_write(hh_store *st, int64_t now, FILE *f);

#endif
