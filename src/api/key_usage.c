/*
 * key_usage.c - a small table of pending (key id -> last used) entries,
 * swapped out under the lock and written outside it, so requests never
 * wait on the database.
 */
#include "api/key_usage.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "util/log.h"
#include "util/timeutil.h"

/*
 * Distinct keys pending between two flushes. Past this, a record forces an
 * early flush from the flusher thread (signalled) rather than growing.
 */
#define PENDING_MAX 1024

typedef struct pending {
    char ids[PENDING_MAX][HH_ID_LEN];
    int64_t at[PENDING_MAX];
    size_t n;
} pending;

struct key_usage {
    hh_store *store;
    int interval_ms;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_mutex_t flush_lock; /* one flush at a time */
    pthread_t thread;
    int stopping;
    pending *cur;
    pending *spare;
};

void key_usage_record(key_usage *ku, const char *key_id, int64_t used_at_ms)
{
    pthread_mutex_lock(&ku->lock);
    pending *p = ku->cur;
    size_t i;
    for (i = 0; i < p->n; i++)
        if (!strcmp(p->ids[i], key_id))
            break;
    if (i < p->n) {
        if (used_at_ms > p->at[i])
            p->at[i] = used_at_ms;
    } else if (p->n < PENDING_MAX) {
        snprintf(p->ids[p->n], HH_ID_LEN, "%s", key_id);
        p->at[p->n++] = used_at_ms;
        if (p->n == PENDING_MAX)
            pthread_cond_signal(&ku->wake);
    }
    /* Table full: this use is dropped; the flusher has been woken to make room. */
    pthread_mutex_unlock(&ku->lock);
}

hh_status key_usage_flush(key_usage *ku)
{
    pthread_mutex_lock(&ku->flush_lock);
    pthread_mutex_lock(&ku->lock);
    pending *p = ku->cur;
    ku->cur = ku->spare;
    ku->spare = p;
    pthread_mutex_unlock(&ku->lock);

    hh_status rc = HH_OK;
    if (p->n) {
        const char *ids[PENDING_MAX];
        for (size_t i = 0; i < p->n; i++)
            ids[i] = p->ids[i];
        rc = store_key_touch(ku->store, ids, p->at, p->n);
        if (rc)
            hh_warn("key usage flush of %zu keys failed: %s", p->n, hh_status_str(rc));
        p->n = 0;
    }
    pthread_mutex_unlock(&ku->flush_lock);
    return rc;
}

static void *flusher(void *arg)
{
    key_usage *ku = arg;
    pthread_mutex_lock(&ku->lock);
    while (!ku->stopping) {
        struct timespec until = hh_deadline_after_ms(CLOCK_REALTIME, ku->interval_ms);
        pthread_cond_timedwait(&ku->wake, &ku->lock, &until);
        if (ku->stopping)
            break;
        pthread_mutex_unlock(&ku->lock);
        key_usage_flush(ku);
        pthread_mutex_lock(&ku->lock);
    }
    pthread_mutex_unlock(&ku->lock);
    return NULL;
}

hh_status key_usage_new(hh_store *st, int interval_ms, key_usage **out)
{
    key_usage *ku = calloc(1, sizeof *ku);
    *out = NULL;
    if (!ku)
        return HH_ERR_NOMEM;
    ku->cur = calloc(1, sizeof(pending));
    ku->spare = calloc(1, sizeof(pending));
    if (!ku->cur || !ku->spare)
        goto fail;
    ku->store = st;
    ku->interval_ms = interval_ms > 0 ? interval_ms : 5000;
    pthread_mutex_init(&ku->lock, NULL);
    pthread_mutex_init(&ku->flush_lock, NULL);
    pthread_cond_init(&ku->wake, NULL);
    if (pthread_create(&ku->thread, NULL, flusher, ku)) {
        pthread_cond_destroy(&ku->wake);
        pthread_mutex_destroy(&ku->flush_lock);
        pthread_mutex_destroy(&ku->lock);
        goto fail;
    }
    *out = ku;
    return HH_OK;
fail:
    free(ku->cur);
    free(ku->spare);
    free(ku);
    return HH_ERR_NOMEM;
}

void key_usage_free(key_usage *ku)
{
    if (!ku)
        return;
    pthread_mutex_lock(&ku->lock);
    ku->stopping = 1;
    pthread_cond_signal(&ku->wake);
    pthread_mutex_unlock(&ku->lock);
    pthread_join(ku->thread, NULL);
    key_usage_flush(ku);
    pthread_cond_destroy(&ku->wake);
    pthread_mutex_destroy(&ku->flush_lock);
    pthread_mutex_destroy(&ku->lock);
    free(ku->cur);
    free(ku->spare);
    free(ku);
}
