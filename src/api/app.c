/*
 * app.c - building and tearing down the application object: the store,
 * the plans and the in-memory services, in the order that lets each one
 * rely on the previous; torn down in reverse.
 */
#include <openssl/crypto.h>

#include "api/app.h"
#include "api/janitor.h"
#include "api/webhook_dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Hot-read caches: a second at most, whatever the generation says; a few MiB at most. */
#define APP_READ_CACHE_TTL_MS  1000
#define APP_KEY_CACHE_SLOTS    1024
#define APP_STATUS_CACHE_SLOTS 4096

hh_status app_new(const app_config *cfg, hh_app **out)
{
    hh_status rc;
    hh_app *app = calloc(1, sizeof *app);

    *out = NULL;
    if (!app) {
        plans_free(cfg->plans);
        templates_free(cfg->templates);
        return HH_ERR_NOMEM;
    }
    app->plans = cfg->plans;
    pthread_rwlock_init(&app->blocklist_lock, NULL);
    app->templates = cfg->templates;
    char why[256] = "";
    hh_errdetail tw = {"", ""};
    if (!app->templates && (rc = templates_default(&app->templates, &tw))) {
        hh_error("cannot load the built-in templates: %s", tw.message);
        goto fail;
    }
    if ((rc = docs_site_new(&app->docs, why, sizeof why))) {
        hh_error("cannot build the docs site: %s", why);
        goto fail;
    }
    snprintf(app->data_dir, sizeof app->data_dir, "%s", cfg->data_dir);
    rc = store_open(cfg->store_location, &app->store);
    if (rc) {
        hh_error("cannot open the store: %s", hh_status_str(rc));
        goto fail;
    }
    if ((rc = blob_open(cfg->data_dir, cfg->s3, &app->blob))) {
        hh_error("cannot open object storage (%s): %s", cfg->s3 ? "S3" : cfg->data_dir,
                 hh_status_str(rc));
        goto fail;
    }
    if ((rc = hook_key_load(app->store, cfg->data_dir, app->hook_key))) {
        hh_error(
            "cannot read or make the webhook seal key (the store's, seeded from %s/secret.key):"
            " %s",
            cfg->data_dir, hh_status_str(rc));
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
    app->uploads_in_flight = keycount_new();
    app->key_cache = read_cache_new(APP_KEY_CACHE_SLOTS, APP_READ_CACHE_TTL_MS);
    app->status_cache = read_cache_new(APP_STATUS_CACHE_SLOTS, APP_READ_CACHE_TTL_MS);
    if (!app->uploads_in_flight || !app->key_cache || !app->status_cache)
        goto fail;
    if ((rc = video_events_new(app->store, app->blob, 0, &app->events)))
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

hh_status app_blocklist_load(hh_app *app, const char *path_, char *err, size_t errsize)
{
    char path[sizeof app->blocklist_path];
    snprintf(path, sizeof path, "%s", path_); /* path_ may be app->blocklist_path itself */
    blocklist *bl = NULL;
    hh_errdetail d = {"", ""};
    hh_status rc = blocklist_load(path, &bl, &d);
    if (rc) {
        snprintf(err, errsize, "%s", d.message[0] ? d.message : hh_status_str(rc));
        return rc;
    }
    pthread_rwlock_wrlock(&app->blocklist_lock);
    blocklist *old = app->blocklist;
    app->blocklist = bl;
    snprintf(app->blocklist_path, sizeof app->blocklist_path, "%s", path);
    pthread_rwlock_unlock(&app->blocklist_lock);
    blocklist_free(old);
    hh_log_fields(HH_LOG_INFO, "prompt blocklist loaded",
                  json_pack("{s:s, s:I}", "file", path, "phrases", (json_int_t)blocklist_size(bl)));
    return HH_OK;
}

int app_prompt_blocked(hh_app *app, const char *prompt)
{
    pthread_rwlock_rdlock(&app->blocklist_lock);
    int hit = blocklist_match(app->blocklist, prompt);
    pthread_rwlock_unlock(&app->blocklist_lock);
    return hit;
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
    http_server_free(app->http); /* ends the status streams, which video_events_free lets go */
    video_events_free(app->events);
    janitor_stop(app->janitor);
    hook_dispatch_stop(app->hooks);
    worker_pool_stop(app->workers);
    read_cache_free(app->status_cache);
    read_cache_free(app->key_cache);
    key_usage_free(app->usage);
    keycount_free(app->uploads_in_flight);
    ratelimit_free(app->limiter);
    blob_free(app->blob);
    store_close(app->store);
    plans_free(app->plans);
    blocklist_free(app->blocklist);
    pthread_rwlock_destroy(&app->blocklist_lock);
    templates_free(app->templates);
    docs_site_free(app->docs);
    OPENSSL_cleanse(app->hook_key, sizeof app->hook_key);
    free(app);
}
