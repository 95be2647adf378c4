/*
 * remote.h - the remote-task driver: what moves jobs that a provider makes
 * (the dashscope, openai-videos and fal engines) from hand-off to result
 * without holding a render thread while the provider works.
 *
 * The driver claims such jobs from the queue itself (the queue's own fair
 * claim, among the remote plans' jobs) and hands them over at once, so they
 * never wait behind renders; a render thread that claims one does the same
 * (store_remote_begin: the job keeps counting toward the customer's jobs in
 * flight but holds no lease). One driver thread per worker process then
 * claims due tasks from the store in small batches, sends their creates and
 * polls many at a time on one thread (http_client's multi interface), and
 * writes what each answer means: the provider's task id right after the
 * create answered (the only double-submit window: docs/engines.md), the
 * next poll time, a back-off with jitter on 429/5xx/no answer (no attempt
 * spent; only the engine's time limit ends a task that keeps failing so),
 * or the end: failed and refunded, or back in the queue for a render thread
 * to download the result and re-encode it (remote_collect_result).
 *
 * Every claim has a short expiry, so any worker process on the same store
 * may poll any task and two never poll one at once; a killed driver's
 * tasks are picked up when its claims expire, a stopped one gives them
 * back at once. Remote tasks keep running at the provider across every
 * restart.
 */
#ifndef HH_REMOTE_H
#define HH_REMOTE_H

#include <stdatomic.h>

#include "blob/blob.h"
#include "domain/plans.h"
#include "engine/engine.h"
#include "store/store.h"
#include "util/status.h"

typedef struct remote_driver remote_driver;

typedef struct remote_config {
    hh_store *store;
    blob_store *blob;
    const hh_plans *plans;
    hh_engine *const *engines; /* by plan index, borrowed from the pool; NULL entries are local */
    const char *scratch;       /* for references read into requests */
    const char *owner;         /* this driver's claim name, unique across processes */
    int claim_ms;              /* 0: twice the engine's request time limit, plus 5 s */
} remote_config;

/* Starts the driver's thread when some plan's engine is remote; *out NULL when none is. */
hh_status remote_driver_start(const remote_config *cfg, remote_driver **out);

/*
 * Stops claiming, lets the creates in flight finish (a create cut off is a
 * task the provider may have made), abandons the polls in flight, gives
 * every claim back and frees. The tasks stay at the provider. NULL-safe.
 */
void remote_driver_stop(remote_driver *d);

/* Prometheus text: requests sent and answers by outcome, tasks in flight. Caller frees. */
char *remote_driver_metrics(remote_driver *d);

/*
 * The render thread's first step with a remote job v (claimed, lease held
 * by worker_id): a job with no remote task yet goes to the driver
 * (*handed_off = 1, the thread is done with it); one the provider has
 * finished stays (*handed_off = 0) for remote_collect_result. HH_ERR_CONFLICT for
 * a task in any other state (give the job back).
 */
hh_status remote_hand_off(hh_store *st, const hh_engine *engine, const hh_plan *plan,
                          const hh_video *v, const char *worker_id, int *handed_off, char *msg,
                          size_t msgsize);

/*
 * Downloads the provider's result of v into dir and re-encodes it to
 * job's video and thumbnail paths (the contract's asset), for the caller
 * to publish. Results as engine_render's, with msg for the customer.
 */
hh_status remote_collect_result(hh_store *st, const hh_engine *engine, const hh_video *v,
                                const hh_render_job *job, const char *dir, char *msg,
                                size_t msgsize);

#endif
