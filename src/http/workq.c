/*
 * workq.c - the HTTP server's work pool: a mutex, a condition variable and
 * a singly linked FIFO of intrusive items. One signal per push wakes one
 * idle thread; a stop wakes all, and they drain the queue (with
 * stopping = 1) before they exit, so no item is ever left unanswered.
 */
#include "http/workq.h"

#include <pthread.h>
#include <stdlib.h>

#include "util/timeutil.h"

struct workq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    workq_item *head, *tail;
    int stopping;
    void (*thread_init)(void *ctx);
    void *ctx;
    unsigned nthreads;
    pthread_t threads[];
};

/* Takes the next item, waiting while there is none; NULL when stopping and empty. */
static workq_item *take(workq *q, int *stopping)
{
    pthread_mutex_lock(&q->mu);
    while (!q->head && !q->stopping)
        pthread_cond_wait(&q->cv, &q->mu);
    workq_item *it = q->head;
    if (it) {
        q->head = it->next;
        if (!q->head)
            q->tail = NULL;
    }
    *stopping = q->stopping;
    pthread_mutex_unlock(&q->mu);
    return it;
}

static void *worker_main(void *arg)
{
    workq *q = arg;
    if (q->thread_init)
        q->thread_init(q->ctx);
    for (;;) {
        int stopping = 0;
        workq_item *it = take(q, &stopping);
        if (!it)
            return NULL;
        it->next = NULL;
        it->fn(it, hh_time_mono_ms() - it->queued_ms, stopping);
    }
}

hh_status workq_new(unsigned threads, void (*thread_init)(void *ctx), void *ctx, workq **out)
{
    *out = NULL;
    if (threads < 1)
        return HH_ERR_INVALID;
    workq *q = calloc(1, sizeof *q + threads * sizeof q->threads[0]);
    if (!q)
        return HH_ERR_NOMEM;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->thread_init = thread_init;
    q->ctx = ctx;
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&q->threads[i], NULL, worker_main, q)) {
            workq_free(q);
            return HH_ERR_NOMEM;
        }
        q->nthreads++;
    }
    *out = q;
    return HH_OK;
}

hh_status workq_push(workq *q, workq_item *item)
{
    item->next = NULL;
    item->queued_ms = hh_time_mono_ms();
    pthread_mutex_lock(&q->mu);
    if (q->stopping) {
        pthread_mutex_unlock(&q->mu);
        return HH_ERR_CANCELED;
    }
    if (q->tail)
        q->tail->next = item;
    else
        q->head = item;
    q->tail = item;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return HH_OK;
}

void workq_free(workq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    for (unsigned i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
