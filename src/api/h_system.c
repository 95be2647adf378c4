/*
 * h_system.c - operational routes: liveness (/healthz: the process serves
 * HTTP; it never touches the store, and runs on the socket threads so a
 * locked database cannot delay it), readiness (/readyz: the database reads
 * and is not corrupt, the data directory's disk takes writes, the object
 * store answers) and
 * Prometheus metrics (/metrics).
 * Unauthenticated by design: they reveal no customer data; put them behind
 * the load balancer's private side in production (docs/operations.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/routes.h"
#include "jobs/job_metrics.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

void h_healthz(http_req *req, void *app)
{
    http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* How long /readyz may spend checking the database (SQLite's quick_check, then it stops). */
#define READY_STORE_BUDGET_MS 200

void h_readyz(http_req *req, void *app_)
{
    hh_app *app = app_;
    hh_store_health h;
    unsigned long long free_bytes = 0;
    if (store_health(app->store, READY_STORE_BUDGET_MS, &h) != HH_OK) {
        h.ok = 0;
        snprintf(h.problem, sizeof h.problem, "the store check could not run");
    }
    hh_status disk = hh_disk_check(app->data_dir, app->min_free_bytes, &free_bytes);
    const char *disk_problem = disk == HH_OK          ? NULL
                               : disk == HH_ERR_LIMIT ? "disk almost full"
                                                      : "disk does not take writes";
    int objects_ok = blob_ping(app->blob) == HH_OK;
    int ready = h.ok && disk == HH_OK && objects_ok;
    const char *reason = ready   ? NULL
                         : !h.ok ? h.problem
                         : disk  ? disk_problem
                                 : "object storage does not answer";
    http_reply_json(req, ready ? 200 : 503,
                    json_pack("{s:s, s:s?, s:{s:b, s:s?, s:b}, s:{s:b, s:s?, s:I, s:I}, s:{s:b}}",
                              "status", ready ? "ready" : "unavailable", "reason", reason, "store",
                              "ok", h.ok, "problem", h.ok ? NULL : h.problem, "checkedAll",
                              h.checked_all, "disk", "ok", disk == HH_OK, "problem", disk_problem,
                              "freeBytes", (json_int_t)free_bytes, "minFreeBytes",
                              (json_int_t)app->min_free_bytes, "objects", "ok", objects_ok));
}

/* Videos by status, read from the store: the same for every node. */
static void write_job_counts(hh_app *app, FILE *f)
{
    int64_t counts[HH_VIDEO_STATUS_COUNT];
    if (store_job_counts(app->store, counts))
        return;
    fputs("# HELP happyhorse_videos Videos by status.\n# TYPE happyhorse_videos gauge\n", f);
    for (int s = 0; s < HH_VIDEO_STATUS_COUNT; s++)
        fprintf(f, "happyhorse_videos{status=\"%s\"} %lld\n",
                hh_video_status_str((hh_video_status)s), (long long)counts[s]);
}

void h_metrics(http_req *req, void *app_)
{
    hh_app *app = app_;
    char *text = NULL, *http = http_server_metrics(app->http);
    char *jobs = app->workers ? worker_pool_metrics(app->workers) : NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (f) {
        fputs(http ? http : "", f);
        write_job_counts(app, f);
        job_metrics_write(app->store, hh_time_now_ms(), f);
        fputs(jobs ? jobs : "", f);
        if (fclose(f)) {
            free(text);
            text = NULL;
        }
    }
    free(http);
    free(jobs);
    if (!text) {
        http_reply_error(req, API_ERR_INTERNAL_ERROR, "Metrics unavailable.", NULL);
        return;
    }
    http_reply_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, size);
    free(text);
}
