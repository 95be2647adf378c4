/*
 * app.h - the application object the HTTP routes run against: the store,
 * the plans, the rate limiter and the other long-lived services one
 * `serve` process holds. Handlers get it as their `app` argument; nothing
 * in it is global, so tests can run several in one process.
 */
#ifndef HH_APP_H
#define HH_APP_H

#include <pthread.h>

#include "api/docs_site.h"
#include "api/key_usage.h"
#include "api/ratelimit.h"
#include "api/read_cache.h"
#include "api/video_events.h"
#include "blob/blob.h"
#include "domain/blocklist.h"
#include "domain/plans.h"
#include "domain/templates.h"
#include "http/http.h"
#include "http/netaddr.h"
#include "jobs/worker.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/keycount.h"

#define APP_STORE_WAIT_MS 1000 /* default of serve --store-wait-ms */
#define APP_MIN_FREE_MB   64   /* default of serve --min-free-mb */

typedef struct hh_app {
    hh_store *store;      /* owned */
    hh_plans *plans;      /* owned */
    ratelimit *limiter;   /* owned */
    key_usage *usage;     /* owned */
    blob_store *blob;     /* owned */
    http_server *http;    /* owned; set once listening */
    worker_pool *workers; /* owned; NULL with --workers 0 */
    char public_url[256]; /* no trailing slash */
    char data_dir[1024];
    int upload_ttl_s;  /* lifetime of an upload URL (the blob store signs them) */
    int store_wait_ms; /* how long a request waits for a locked database before its 503 */
    unsigned long long min_free_bytes; /* /readyz fails below this much free disk */
    keycount *uploads_in_flight;       /* owned: upload keys whose body is being received */
    struct janitor *janitor;           /* owned; started by serve (api/janitor.h) */
    struct hook_dispatch *hooks;       /* owned; the webhook sender serve starts */
    int webhook_allow_private;         /* serve --webhook-allow-private: no SSRF refusal */
    uint8_t
        hook_key[CRYPTO_SEAL_KEY_LEN]; /* seals webhook secrets in the store (webhook_dispatch.h) */
    int body_grace_s;                  /* serve --timeout: an upload body's grace */
    unsigned body_min_rate;            /* serve --upload-min-rate, bytes/s (>= 1) */
    blocklist *blocklist;              /* owned; NULL: none (serve --blocklist) */
    pthread_rwlock_t blocklist_lock;   /* guards blocklist: reloaded on SIGHUP */
    char blocklist_path[1024];         /* "" when none */
    http_cidrs trusted_proxies;        /* serve --trusted-proxy (n 0: none) */
    /* Dashboard (api/dashboard.h). */
    int allow_signup;        /* serve --allow-signup: POST /api/dashboard/signup is open */
    char web_dir[1024];      /* the web app's files (serve --web / HAPPYHORSE_WEB) */
    hh_templates *templates; /* owned: the prompt template library (serve --templates) */
    docs_site *docs;         /* owned: the docs site at /docs/ */
    /* Copies of hot reads, checked against the store's generation (read_cache.h). */
    read_cache *key_cache;    /* owned; key hash -> key and user */
    read_cache *status_cache; /* owned; video id + user id -> status JSON */
    video_events *events;     /* owned: the status streams (GET /api/v1/videos/{id}/events) */
} hh_app;

typedef struct app_config {
    const char *data_dir;       /* local state: objects, secrets */
    const char *store_location; /* data dir or postgres:// URL */
    const blob_s3_config *s3;   /* objects in S3 (blob/blob_s3.h); NULL: under data_dir */
    hh_plans *plans;            /* loaded plans; app_new takes ownership, even on failure */
    int key_usage_flush_ms;     /* 0: default (5 s) */
    int upload_ttl_s;           /* 0: default (900 s, the contract's 15 minutes) */
    hh_templates *templates;    /* app_new takes ownership, even on failure; NULL: built in */
} app_config;

/*
 * Opens the store, loads the plans and starts the in-memory services.
 * Logs a one-line reason on failure. On success *out owns everything;
 * free with app_free (which also stops app->http if set).
 */
hh_status app_new(const app_config *cfg, hh_app **out);
/* Sets the base URL of links the API returns (trailing slashes dropped). */
void app_set_public_url(hh_app *app, const char *url);
/*
 * The HTTP work pool's thread start (http_config.pool_thread_init; app is
 * an hh_app): gives the thread's store calls the request lock wait.
 */
void app_pool_thread_init(void *app);
/*
 * Loads (or, on SIGHUP, reloads) the prompt blocklist from path and swaps
 * it in; on failure the old list stays and err gets a one-line reason.
 */
hh_status app_blocklist_load(hh_app *app, const char *path, char *err, size_t errsize);
/* 1 when prompt contains a phrase of the blocklist (0 when there is none). */
int app_prompt_blocked(hh_app *app, const char *prompt);
/* Starts n render workers in this process (scratch space under the data dir). */
hh_status app_start_workers(hh_app *app, unsigned n);
void app_free(hh_app *app);

/* The authenticated caller of a customer route (request-scoped). */
typedef struct api_principal {
    hh_user user;
    hh_api_key key;
    const hh_plan *plan; /* borrowed from app->plans */
} api_principal;

/* The route table of the whole server (Customer API, system routes). */
const http_route *api_routes(void);

/*
 * The guard the HTTP server runs before a route's body is read: for
 * HTTP_ROUTE_AUTH_KEY routes it authenticates the Bearer key, applies the
 * key's rate limit and sets the RateLimit headers. Returns 0 to go on, or
 * non-zero after replying with the contract's error.
 */
int api_guard(http_req *req, const http_route *route, void *app);

/*
 * Takes one request from the account's budget: the bucket of scope ("api"
 * for keys, "dash" for dashboard sessions) and user_id, of the plan's
 * requests per minute. Sets the RateLimit headers; replies rate_limited 429
 * with Retry-After and returns 1 when the bucket is empty, else 0.
 */
int api_rate_limit(hh_app *app, http_req *req, const char *scope, const char *user_id,
                   const hh_plan *plan);

/*
 * The error shape of the OpenAI-compatible routes (http_config.error_shape):
 * our envelope (taken) as {"error":{"message","type","param","code"}}, code
 * ours, param the field named (in that surface's names), type by status.
 */
json_t *api_openai_error_shape(unsigned status, json_t *body);

/* The principal the guard attached to req (NULL on unauthenticated routes). */
const api_principal *api_principal_of(const http_req *req);

/* A list route's page size: ?limit=1..100, 20 when absent (both surfaces). */
#define API_LIST_LIMIT_MAX     100
#define API_LIST_LIMIT_DEFAULT 20

/*
 * A page of user_id's videos for a list route (h_videos_list.c): up to
 * limit of those f selects (store_video_find), newest first, each made
 * into JSON by item. *arr gets the array (new reference), *last the id of
 * its last element when more videos follow, else "". Returns 0, or 1
 * after replying with the error.
 */
/*
 * Reads the optional query argument status (a video status) into *status,
 * HH_VIDEO_ANY when absent. Replies invalid_input naming it and returns 1
 * when it names no status.
 */
int api_query_status(http_req *req, int *status);

int api_video_page(hh_app *app, http_req *req, const char *user_id, const hh_video_filter *f,
                   int limit, json_t *(*item)(hh_app *app, const hh_video *v), json_t **arr,
                   char last[HH_ID_LEN]);

#endif
