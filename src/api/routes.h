/*
 * routes.h - the handlers of the route table (api/routes.c), one file per
 * resource: h_system.c, h_account.c, ...
 */
#ifndef HH_ROUTES_H
#define HH_ROUTES_H

#include "http/http.h"

void h_healthz(http_req *req, void *app);
void h_readyz(http_req *req, void *app);
void h_metrics(http_req *req, void *app);
void h_account_get(http_req *req, void *app);
void h_videos_create(http_req *req, void *app);
void h_videos_get(http_req *req, void *app);
void h_videos_events(http_req *req, void *app);
void h_videos_list(http_req *req, void *app);
void h_videos_delete(http_req *req, void *app);
void h_videos_cancel(http_req *req, void *app);
void h_videos_favorite(http_req *req, void *app);
void h_videos_unfavorite(http_req *req, void *app);
void h_files_get(http_req *req, void *app);
void h_uploads_presign(http_req *req, void *app);
void h_templates_list(http_req *req, void *app);
void h_videos_publish(http_req *req, void *app);
void h_videos_unpublish(http_req *req, void *app);
void h_webhooks_create(http_req *req, void *app);
void h_webhooks_list(http_req *req, void *app);
void h_webhooks_delete(http_req *req, void *app);
void h_webhooks_deliveries(http_req *req, void *app);
void h_openai_videos_create(http_req *req, void *app);
void h_openai_videos_get(http_req *req, void *app);
void h_openai_videos_content(http_req *req, void *app);
void h_openai_videos_list(http_req *req, void *app);
void h_openai_videos_delete(http_req *req, void *app);
extern const http_stream_ops h_uploads_put_ops;

#endif
