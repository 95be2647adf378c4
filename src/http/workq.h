/*
 * workq.h - a fixed pool of threads taking work items from one FIFO queue:
 * where the HTTP server runs the parts of a request that may wait (the
 * guard, handlers, stream callbacks that touch the store), so that the
 * threads that read and write sockets never wait for a database lock.
 *
 * Items are intrusive (the caller embeds a workq_item), so queueing never
 * allocates and never fails for want of memory. Thread-safe.
 */
#ifndef HH_WORKQ_H
#define HH_WORKQ_H

#include <stdint.h>

#include "util/status.h"

typedef struct workq workq;
typedef struct workq_item workq_item;

/*
 * Runs an item. waited_ms is how long it sat in the queue; stopping is 1
 * when the queue is being freed (the item should answer "unavailable"
 * rather than start work).
 */
typedef void (*workq_fn)(workq_item *item, int64_t waited_ms, int stopping);

struct workq_item {
    workq_item *next;
    workq_fn fn;
    int64_t queued_ms; /* set by workq_push */
};

/*
 * Starts threads worker threads (>= 1). Each runs thread_init(ctx) once
 * first (may be NULL): per-thread settings such as the store's lock wait.
 * On success *out is owned by the caller (workq_free).
 */
hh_status workq_new(unsigned threads, void (*thread_init)(void *ctx), void *ctx, workq **out);

/*
 * Queues item (its fn set by the caller) to run on a pool thread. The
 * item is borrowed until its fn has been called. HH_ERR_CANCELED once
 * workq_free has begun (item not queued).
 */
hh_status workq_push(workq *q, workq_item *item);

/*
 * Stops taking items, runs every queued one with stopping = 1, waits for
 * the threads and frees the queue. NULL-safe.
 */
void workq_free(workq *q);

#endif
