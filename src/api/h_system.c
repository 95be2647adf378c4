/*
 * h_system.c - operational routes: liveness (/healthz), readiness
 * (/readyz: the store answers) and Prometheus metrics (/metrics).
 * Unauthenticated by design: they reveal no customer data; put them behind
 * the load balancer's private side in production (docs/operations.md).
 */
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/routes.h"

void h_healthz(http_req *req, void *app)
{
    http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

void h_readyz(http_req *req, void *app_)
{
    hh_app *app = app_;
    if (store_ping(app->store) != HH_OK) {
        http_reply_json(
            req, 503,
            json_pack("{s:s, s:s}", "status", "unavailable", "reason", "store does not answer"));
        return;
    }
    http_reply_json(req, 200, json_pack("{s:s}", "status", "ready"));
}

void h_metrics(http_req *req, void *app_)
{
    hh_app *app = app_;
    char *text = http_server_metrics(app->http);
    if (!text) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Metrics unavailable.", NULL);
        return;
    }
    http_reply_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
}
