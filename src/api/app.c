/*
 * app.c - building and tearing down the application object: the store,
 * the plans and the in-memory services, in the order that lets each one
 * rely on the previous; torn down in reverse.
 */
#include "api/app.h"
#include "api/janitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

hh_status app_new(const app_config *cfg, hh_app **out)
{
    hh_status rc;
    hh_app *app = calloc(1, sizeof *app);

    *out = NULL;
    if (!app) {
        plans_free(cfg->plans);
        return HH_ERR_NOMEM;
    }
    app->plans = cfg->plans;
    snprintf(app->data_dir, sizeof app->data_dir, "%s", cfg->data_dir);
    rc = store_open(cfg->store_location, &app->store);
    if (rc) {
        hh_error("cannot open the store: %s", hh_status_str(rc));
        goto fail;
    }
    if ((rc = blob_local_new(cfg->data_dir, "", &app->blob))) {
        hh_error("cannot open object storage under %s: %s", cfg->data_dir, hh_status_str(rc));
        goto fail;
    }
    app->upload_ttl_s = cfg->upload_ttl_s > 0 ? cfg->upload_ttl_s : 900;
    app->store_wait_ms = APP_STORE_WAIT_MS;
    app->body_grace_s = 30;
    app->body_min_rate = 16384;
    app->min_free_bytes = APP_MIN_FREE_MB * 1024ULL * 1024;
    rc = HH_ERR_NOMEM;
    app->limiter = ratelimit_new();
    if (!app->limiter)
        goto fail;
    if ((rc = key_usage_new(app->store, cfg->key_usage_flush_ms, &app->usage)))
        goto fail;
    rc = HH_ERR_NOMEM;
    if (!(app->uploads_in_flight = keycount_new()))
        goto fail;
    *out = app;
    return HH_OK;
fail:
    app_free(app);
    return rc;
}

void app_set_public_url(hh_app *app, const char *url)
{
    snprintf(app->public_url, sizeof app->public_url, "%s", url);
    size_t n = strlen(app->public_url);
    while (n > 0 && app->public_url[n - 1] == '/')
        app->public_url[--n] = '\0';
    blob_set_public_url(app->blob, app->public_url);
}

void app_pool_thread_init(void *app)
{
    store_thread_busy_ms(((hh_app *)app)->store_wait_ms);
}

hh_status app_start_workers(hh_app *app, unsigned n)
{
    char scratch[1100];
    snprintf(scratch, sizeof scratch, "%s/tmp", app->data_dir);
    /* lease_ms 0: the pool reads HAPPYHORSE_JOB_LEASE_MS (docs/operations.md). */
    worker_config wc = {
        .store = app->store,
        .blob = app->blob,
        .plans = app->plans,
        .threads = n,
        .scratch = scratch,
    };
    return worker_pool_start(&wc, &app->workers);
}

void app_free(hh_app *app)
{
    if (!app)
        return;
    /* Stop taking requests first, then work; the store goes last. */
    http_server_free(app->http);
    janitor_stop(app->janitor);
    worker_pool_stop(app->workers);
    key_usage_free(app->usage);
    keycount_free(app->uploads_in_flight);
    ratelimit_free(app->limiter);
    blob_free(app->blob);
    store_close(app->store);
    plans_free(app->plans);
    free(app);
}
