/*
 * janitor.c - the housekeeping thread of janitor.h. A pass forgets at most
 * BATCH expired uploads (the store deletes their rows in one transaction)
 * and removes their leftovers; a backlog is worked off pass by pass. An
 * upload whose body may still be on its way is left alone, here or on
 * another node sharing the storage: its URL may have expired while the
 * body streamed, so it is forgotten only once the body's own deadline (the
 * grace, then its size at the minimum rate) is past too. The sweep at
 * start spares temporary files written to within the same bound.
 */
#include "api/janitor.h"

#include <pthread.h>
#include <stdlib.h>

#include "util/log.h"
#include "util/timeutil.h"

#define BATCH        256
#define WRITE_GAP    (256 * 1024) /* a writer flushes at least this often (blob_local.c) */
#define SWEEP_MARGIN 60

struct janitor {
    hh_app *app;
    int period_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

/* The store's skip callback: an upload whose body is being received. */
static int in_flight(void *ctx, const char *key)
{
    return keycount_get(ctx, key) > 0;
}

unsigned janitor_pass(hh_app *app)
{
    char(*keys)[HH_KEY_MAX] = malloc(BATCH * sizeof *keys);
    size_t n = 0;
    hh_status rc = keys ? store_upload_expire(app->store, hh_time_now_ms(),
                                              (int64_t)app->body_grace_s * 1000, app->body_min_rate,
                                              BATCH, in_flight, app->uploads_in_flight, keys, &n)
                        : HH_ERR_NOMEM;
    for (size_t i = 0; !rc && i < n; i++)
        if (blob_remove_parts(app->blob, keys[i]))
            hh_warn("janitor: cannot remove what upload %s left", keys[i]);
    free(keys);
    if (rc && rc != HH_ERR_BUSY)
        hh_warn("janitor: cannot expire uploads: %s", hh_status_str(rc));
    if (n)
        hh_log_fields(HH_LOG_INFO, "janitor: expired uploads forgotten",
                      json_pack("{s:I}", "uploads", (json_int_t)n));
    return (unsigned)n;
}

static void *janitor_main(void *arg)
{
    janitor *j = arg;
    pthread_mutex_lock(&j->mu);
    while (!j->stop) {
        struct timespec until = hh_deadline_after_ms(CLOCK_MONOTONIC, (int64_t)j->period_s * 1000);
        pthread_cond_timedwait(&j->cv, &j->mu, &until);
        if (j->stop)
            break;
        pthread_mutex_unlock(&j->mu);
        janitor_pass(j->app);
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

hh_status janitor_start(hh_app *app, int period_s, janitor **out)
{
    *out = NULL;
    /* A live body writes at least every WRITE_GAP bytes: at the minimum rate, after the grace. */
    int64_t idle_s = app->body_grace_s + WRITE_GAP / app->body_min_rate + SWEEP_MARGIN;
    unsigned swept = blob_sweep_parts(app->blob, idle_s);
    if (swept)
        hh_log_fields(HH_LOG_INFO, "janitor: removed temporary files a crash left",
                      json_pack("{s:i}", "files", (int)swept));
    janitor *j = calloc(1, sizeof *j);
    if (!j)
        return HH_ERR_NOMEM;
    j->app = app;
    j->period_s = period_s < 1 ? 1 : period_s > 60 ? 60 : period_s;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&j->mu, NULL);
    if (pthread_create(&j->thread, NULL, janitor_main, j)) {
        pthread_cond_destroy(&j->cv);
        pthread_mutex_destroy(&j->mu);
        free(j);
        return HH_ERR_NOMEM;
    }
    *out = j;
    return HH_OK;
}

void janitor_stop(janitor *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stop = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->thread, NULL);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}
