/*
 * dashboard.h - the web dashboard's side of the server: its JSON API under
 * /api/dashboard/ (docs/dashboard-api.md), the session guard behind
 * HTTP_ROUTE_AUTH_SESSION, and the static files of web/.
 *
 * A session route's principal is a dash_principal whose first member is an
 * api_principal (user and plan; no key), so a Customer API handler that
 * reads api_principal_of(req) serves a dashboard route unchanged: the
 * dashboard's presign, create-video, get-video, cancel, delete and favourite routes
 * point at the very same handlers, and no rule exists twice.
 */
#ifndef HH_DASHBOARD_H
#define HH_DASHBOARD_H

#include <stdint.h>

#include "api/app.h"
#include "api/routes.h"
#include "store/store.h"
#include "util/crypto.h"

#define DASH_COOKIE                "hh_session"
#define DASH_SESSION_TTL_MS        (7LL * 24 * 3600 * 1000) /* sliding: renewed on use */
#define DASH_REFRESH_MS            (3600LL * 1000)          /* renew at most hourly */
#define DASH_LOGIN_PER_ADDR        30 /* password checks a minute per client address */
#define DASH_LOGIN_ACCOUNT_BURST   5  /* per account: at once ... */
#define DASH_LOGIN_ACCOUNT_PER_MIN 30 /* ... then one every 2 s */
#define DASH_SIGNUP_PER_ADDR       5  /* sign-ups a minute per client address */
#define DASH_SECRET_BYTES          32
#define DASH_SECRET_CHARS          43 /* base64url of 32 bytes, unpadded */
#define DASH_PAGE_DEFAULT          20
#define DASH_PAGE_MAX              100
#define DASH_KEY_NAME_MAX_CP       100
#define DASH_SEARCH_MAX_CP         200 /* characters of the gallery's search text */

typedef struct dash_principal {
    api_principal base; /* first: api_principal_of() works on session routes */
    uint8_t session_hash[CRYPTO_SHA256_LEN];
    hh_session session;
} dash_principal;

/*
 * The guard for HTTP_ROUTE_AUTH_SESSION routes: a live session cookie
 * (else 401 unauthenticated), and on POST/PUT/PATCH/DELETE the session's
 * CSRF token in X-CSRF-Token (else 403 forbidden). Renews the session
 * when it is over an hour since the last renewal. Returns 0 to go on with
 * a dash_principal attached, non-zero after replying.
 */
int dashboard_guard(hh_app *app, http_req *req);

/*
 * 1 when req carries the cookie of a live session of an account that is
 * not suspended, else 0. Replies nothing and renews nothing: the sign-in
 * page asks it (through GET /api/dashboard/config) instead of probing a
 * session route and logging a 401 in every visitor's console.
 */
int dashboard_session_live(hh_app *app, const http_req *req);

/* The principal of a session route (NULL on other routes). Borrowed from req. */
const dash_principal *dash_principal_of(const http_req *req);

/*
 * Starts a session for user: stores its hash and a new CSRF token, adds
 * the Set-Cookie header to req. On success writes the CSRF token to csrf
 * (STORE_CSRF_MAX bytes).
 */
hh_status dashboard_session_start(hh_app *app, http_req *req, const hh_user *user, char *csrf);

/* Adds a Set-Cookie header that makes the browser forget the session. */
void dashboard_cookie_clear(hh_app *app, http_req *req);

/*
 * The headers of every page and asset of the web app and the docs site: a
 * strict Content-Security-Policy (no inline code), no framing, no referrer
 * off-site.
 */
void dashboard_security_headers(hh_app *app, http_req *req);
/* The same for a public share page, which other sites may frame (Twitter's player card). */
void dashboard_share_headers(hh_app *app, http_req *req);

/*
 * The plans as the dashboard shows them: plans_to_json's shape plus
 * "engineLabel", what the plan's engine is in words (a preview renderer or
 * a provider's AI model). New reference.
 */
json_t *dashboard_plans_json(const hh_app *app);
/* The plan named name as dashboard_plans_json shows it; new reference or null. */
json_t *dashboard_plan_json(const hh_app *app, const char *name);

/*
 * Finds the web app's directory: given (when not NULL) if it holds
 * index.html, else web/ beside the binary's tree (<exe dir>/../web, then
 * <exe dir>/../share/happyhorse/web). Writes the path to out. Returns
 * HH_ERR_NOTFOUND when none holds index.html (out is then "").
 */
hh_status dashboard_find_web_dir(const char *given, char *out, size_t size);

/*
 * Reads the optional query argument name as a whole number in [lo, hi]
 * into *out (dflt when absent). Replies invalid_input naming the argument
 * and returns 1 when it is present but not such a number.
 */
int dashboard_query_int(http_req *req, const char *name, long long lo, long long hi, long long dflt,
                        long long *out);

/* Handlers (h_dashboard_*.c; the Customer API's own in api/routes.h). */
void h_dash_config(http_req *req, void *app);
void h_dash_login(http_req *req, void *app);
void h_dash_signup(http_req *req, void *app);
void h_dash_logout(http_req *req, void *app);
void h_dash_me(http_req *req, void *app);
void h_dash_plans(http_req *req, void *app);
void h_dash_keys_list(http_req *req, void *app);
void h_dash_keys_create(http_req *req, void *app);
void h_dash_keys_delete(http_req *req, void *app);
void h_dash_ledger(http_req *req, void *app);
void h_dash_videos_list(http_req *req, void *app);
void h_dash_static(http_req *req, void *app);
void h_docs(http_req *req, void *app);
void h_share_page(http_req *req, void *app);

/*
 * The dashboard's entries of the route table, for api/routes.c to splice
 * in before its terminator. Session routes carry HTTP_ROUTE_AUTH_SESSION.
 */
/* DASH_SESS: the flag of the session routes, short so each route fits one line. */
#define DASH_SESS HTTP_ROUTE_AUTH_SESSION
/* DASH_WEB: the web app's files, served from disk on the socket threads (no store). */
#define DASH_WEB HTTP_ROUTE_INLINE
#define DASHBOARD_ROUTES                                                                            \
    {HTTP_GET, "/api/dashboard/config", "dash.config", DASH_WEB, 0, h_dash_config, NULL},           \
        {HTTP_POST, "/api/dashboard/login", "dash.login", 0, 4096, h_dash_login, NULL},             \
        {HTTP_POST, "/api/dashboard/signup", "dash.signup", 0, 4096, h_dash_signup, NULL},          \
        {HTTP_POST, "/api/dashboard/logout", "dash.logout", DASH_SESS, 0, h_dash_logout, NULL},     \
        {HTTP_GET, "/api/dashboard/me", "dash.me", DASH_SESS, 0, h_dash_me, NULL},                  \
        {HTTP_GET, "/api/dashboard/plans", "dash.plans", DASH_SESS, 0, h_dash_plans, NULL},         \
        {HTTP_GET, "/api/dashboard/keys", "dash.keys.list", DASH_SESS, 0, h_dash_keys_list, NULL},  \
        {HTTP_POST, "/api/dashboard/keys", "dash.keys.create", DASH_SESS, 4096, h_dash_keys_create, \
         NULL},                                                                                     \
        {HTTP_DELETE,                                                                               \
         "/api/dashboard/keys/{id}",                                                                \
         "dash.keys.delete",                                                                        \
         DASH_SESS,                                                                                 \
         0,                                                                                         \
         h_dash_keys_delete,                                                                        \
         NULL},                                                                                     \
        {HTTP_GET, "/api/dashboard/ledger", "dash.ledger", DASH_SESS, 0, h_dash_ledger, NULL},      \
        {HTTP_POST,                                                                                 \
         "/api/dashboard/uploads/presign",                                                          \
         "dash.uploads.presign",                                                                    \
         DASH_SESS,                                                                                 \
         0,                                                                                         \
         h_uploads_presign,                                                                         \
         NULL},                                                                                     \
        {HTTP_POST, "/api/dashboard/videos", "dash.videos.create", DASH_SESS, 0, h_videos_create,   \
         NULL},                                                                                     \
        {HTTP_GET, "/api/dashboard/videos", "dash.videos.list", DASH_SESS, 0, h_dash_videos_list,   \
         NULL},                                                                                     \
        {HTTP_GET, "/api/dashboard/videos/{id}", "dash.videos.get", DASH_SESS, 0, h_videos_get,     \
         NULL},                                                                                     \
        {HTTP_DELETE,                                                                               \
         "/api/dashboard/videos/{id}",                                                              \
         "dash.videos.delete",                                                                      \
         DASH_SESS,                                                                                 \
         0,                                                                                         \
         h_videos_delete,                                                                           \
         NULL},                                                                                     \
        {HTTP_POST,                                                                                 \
         "/api/dashboard/videos/{id}/cancel",                                                       \
         "dash.videos.cancel",                                                                      \
         DASH_SESS,                                                                                 \
         0,                                                                                         \
         h_videos_cancel,                                                                           \
         NULL},                                                                                     \
        {HTTP_POST,                                                                                 \
         "/api/dashboard/videos/{id}/favorite",                                                     \
         "dash.videos.favorite",                                                                    \
         DASH_SESS,                                                                                 \
         0,                                                                                         \
         h_videos_favorite,                                                                         \
         NULL},                                                                                     \
        {HTTP_DELETE,                                                                               \
         "/api/dashboard/videos/{id}/favorite",                                                     \
         "dash.videos.unfavorite",                                                                  \
         DASH_SESS,                                                                                 \
         0,                                                                                         \
         h_videos_unfavorite,                                                                       \
         NULL},                                                                                     \
        {HTTP_GET, "/api/dashboard/templates", "dash.templates", DASH_SESS, 0, h_templates_list,    \
         NULL},                                                                                     \
        {HTTP_POST,                                                                                 \
         "/api/dashboard/videos/{id}/publish",                                                      \
         "dash.videos.publish",                                                                     \
         DASH_SESS,                                                                                 \
         0,                                                                                         \
         h_videos_publish,                                                                          \
         NULL},                                                                                     \
        {HTTP_DELETE,                                                                               \
         "/api/dashboard/videos/{id}/publish",                                                      \
         "dash.videos.unpublish",                                                                   \
         DASH_SESS,                                                                                 \
         0,                                                                                         \
         h_videos_unpublish,                                                                        \
         NULL},                                                                                     \
        {HTTP_POST,                                                                                 \
         "/api/dashboard/webhooks",                                                                 \
         "dash.webhooks.create",                                                                    \
         DASH_SESS,                                                                                 \
         4096,                                                                                      \
         h_webhooks_create,                                                                         \
         NULL},                                                                                     \
        {HTTP_GET, "/api/dashboard/webhooks", "dash.webhooks.list", DASH_SESS, 0, h_webhooks_list,  \
         NULL},                                                                                     \
        {HTTP_DELETE,                                                                               \
         "/api/dashboard/webhooks/{id}",                                                            \
         "dash.webhooks.delete",                                                                    \
         DASH_SESS,                                                                                 \
         0,                                                                                         \
         h_webhooks_delete,                                                                         \
         NULL},                                                                                     \
        {HTTP_GET,                                                                                  \
         "/api/dashboard/webhooks/{id}/deliveries",                                                 \
         "dash.webhooks.deliveries",                                                                \
         DASH_SESS,                                                                                 \
         0,                                                                                         \
         h_webhooks_deliveries,                                                                     \
         NULL},                                                                                     \
        {HTTP_GET | HTTP_HEAD, "/v/{slug}", "web.share", 0, 0, h_share_page, NULL},                 \
        {HTTP_GET | HTTP_HEAD, "/docs", "web.docs", DASH_WEB, 0, h_docs, NULL},                     \
        {HTTP_GET | HTTP_HEAD, "/docs/*", "web.docs", DASH_WEB, 0, h_docs, NULL},                   \
        {HTTP_GET | HTTP_HEAD, "/i18n/*", "web.i18n", DASH_WEB, 0, h_dash_static, NULL},            \
        {HTTP_GET | HTTP_HEAD, "/", "web.index", DASH_WEB, 0, h_dash_static, NULL},                 \
        {HTTP_GET | HTTP_HEAD, "/app", "web.app", DASH_WEB, 0, h_dash_static, NULL},                \
        {HTTP_GET | HTTP_HEAD, "/app/*", "web.app", DASH_WEB, 0, h_dash_static, NULL},              \
    {                                                                                               \
        HTTP_GET | HTTP_HEAD, "/assets/*", "web.asset", DASH_WEB, 0, h_dash_static, NULL            \
    }

#endif
