/*
 * routes.c - the one table of every route the server answers. Reading it
 * is the quickest way to learn the HTTP surface of HappyHorse.
 *
 * HTTP_ROUTE_INLINE marks the routes that never touch the store (liveness,
 * files on disk, the web app): they are served on the socket threads, so
 * they answer even while the database is locked and the work pool is busy.
 */
#include "api/app.h"
#include "api/dashboard.h"
#include "api/routes.h"
#include "domain/upload_policy.h"

#define OAI_FLAGS      (HTTP_ROUTE_AUTH_KEY | HTTP_ROUTE_ERROR_SHAPE)
#define OAI_CREATE_MAX (UPLOAD_IMAGE_MAX + 64 * 1024) /* the image and the form around it */

static const http_route routes[] = {
    {HTTP_GET, "/healthz", "healthz", HTTP_ROUTE_INLINE, 0, h_healthz, NULL},
    {HTTP_GET, "/readyz", "readyz", 0, 0, h_readyz, NULL},
    {HTTP_GET, "/metrics", "metrics", 0, 0, h_metrics, NULL},
    {HTTP_GET, "/api/v1/account", "account.get", HTTP_ROUTE_AUTH_KEY, 0, h_account_get, NULL},
    /* A create waits for its group commit (store_video_create) on the work pool. */
    {HTTP_POST, "/api/v1/videos", "videos.create", HTTP_ROUTE_AUTH_KEY, 0, h_videos_create, NULL},
    {HTTP_GET, "/api/v1/videos", "videos.list", HTTP_ROUTE_AUTH_KEY, 0, h_videos_list, NULL},
    {HTTP_GET, "/api/v1/videos/{id}", "videos.get", HTTP_ROUTE_AUTH_KEY, 0, h_videos_get, NULL},
    {HTTP_DELETE, "/api/v1/videos/{id}", "videos.delete", HTTP_ROUTE_AUTH_KEY, 0, h_videos_delete,
     NULL},
    {HTTP_POST, "/api/v1/videos/{id}/cancel", "videos.cancel", HTTP_ROUTE_AUTH_KEY, 0,
     h_videos_cancel, NULL},
    /* A stream: the handler answers and returns; api/video_events.c pushes the events. */
    {HTTP_GET, "/api/v1/videos/{id}/events", "videos.events", HTTP_ROUTE_AUTH_KEY, 0,
     h_videos_events, NULL},
    {HTTP_POST, "/api/v1/videos/{id}/favorite", "videos.favorite", HTTP_ROUTE_AUTH_KEY, 0,
     h_videos_favorite, NULL},
    {HTTP_DELETE, "/api/v1/videos/{id}/favorite", "videos.unfavorite", HTTP_ROUTE_AUTH_KEY, 0,
     h_videos_unfavorite, NULL},
    {HTTP_POST, "/api/v1/videos/{id}/publish", "videos.publish", HTTP_ROUTE_AUTH_KEY, 0,
     h_videos_publish, NULL},
    {HTTP_DELETE, "/api/v1/videos/{id}/publish", "videos.unpublish", HTTP_ROUTE_AUTH_KEY, 0,
     h_videos_unpublish, NULL},
    {HTTP_POST, "/api/v1/webhooks", "webhooks.create", HTTP_ROUTE_AUTH_KEY, 4096, h_webhooks_create,
     NULL},
    {HTTP_GET, "/api/v1/webhooks", "webhooks.list", HTTP_ROUTE_AUTH_KEY, 0, h_webhooks_list, NULL},
    {HTTP_DELETE, "/api/v1/webhooks/{id}", "webhooks.delete", HTTP_ROUTE_AUTH_KEY, 0,
     h_webhooks_delete, NULL},
    {HTTP_GET, "/api/v1/webhooks/{id}/deliveries", "webhooks.deliveries", HTTP_ROUTE_AUTH_KEY, 0,
     h_webhooks_deliveries, NULL},
    {HTTP_GET, "/api/v1/templates", "templates.list", HTTP_ROUTE_AUTH_KEY, 0, h_templates_list,
     NULL},
    {HTTP_POST, "/api/v1/uploads/presign", "uploads.presign", HTTP_ROUTE_AUTH_KEY, 0,
     h_uploads_presign, NULL},
    /* The signature in the URL is the authority here, not an API key. */
    {HTTP_PUT, "/uploads/*", "uploads.put", HTTP_ROUTE_CORS, UPLOAD_MAX_BYTES, NULL,
     &h_uploads_put_ops},
    {HTTP_GET, "/files/*", "files.get", HTTP_ROUTE_CORS | HTTP_ROUTE_INLINE, 0, h_files_get, NULL},
    /* The OpenAI-compatible surface (h_openai.c): a create may carry an image up to the
     * image upload limit, in a form. */
    {HTTP_POST, "/v1/videos", "openai.videos.create", OAI_FLAGS, OAI_CREATE_MAX,
     h_openai_videos_create, NULL},
    {HTTP_GET, "/v1/videos", "openai.videos.list", OAI_FLAGS, 0, h_openai_videos_list, NULL},
    {HTTP_GET, "/v1/videos/{id}", "openai.videos.get", OAI_FLAGS, 0, h_openai_videos_get, NULL},
    {HTTP_DELETE, "/v1/videos/{id}", "openai.videos.delete", OAI_FLAGS, 0, h_openai_videos_delete,
     NULL},
    {HTTP_GET, "/v1/videos/{id}/content", "openai.videos.content", OAI_FLAGS, 0,
     h_openai_videos_content, NULL},
    DASHBOARD_ROUTES,
    {0, NULL, NULL, 0, 0, NULL, NULL},
};

const http_route *api_routes(void)
{
    return routes;
}
