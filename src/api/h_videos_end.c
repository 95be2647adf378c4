/*
 * h_videos_end.c - the ends of a video's life the customer decides
 * (additions of ours): POST /api/v1/videos/{id}/cancel stops a video that
 * has not ended and refunds it in full; DELETE /api/v1/videos/{id} removes
 * an ended video and what it alone uses from storage.
 *
 * A cancel only writes the store (store_video_cancel): the worker that
 * renders the video learns of it at its next heartbeat, within a second,
 * and stops; a remote driver stops the provider's task. So the answer
 * never waits for an engine, and any node may take the request.
 *
 * The store decides in one transaction whether the status allows it and
 * changes the rows; a status that does not is 409 conflict with the
 * current status, so a client can tell "too late" from "too early".
 */
#include "api/app.h"
#include "api/routes.h"
#include "api/video_json.h"
#include "api/videos.h"
#include "util/log.h"
#include "util/uuid.h"

/* 409 conflict with the video's current status. */
static void reply_conflict(http_req *req, const char *message, hh_video_status status)
{
    http_reply_error(req, API_ERR_CONFLICT, message,
                     json_pack("{s:s}", "status", hh_video_status_str(status)));
}

/* The {id} of the route when it is a video id; else replies not_found and returns NULL. */
static const char *video_id_of(http_req *req)
{
    const char *id = http_req_param(req, "id");
    if (uuid_is_valid(id))
        return id;
    /* Malformed, unknown and other users' ids take the same answer. */
    http_reply_error(req, API_ERR_NOT_FOUND, "No such video.", NULL);
    return NULL;
}

void h_videos_cancel(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    const char *id = video_id_of(req);
    if (!id)
        return;
    hh_video_status status = HH_VIDEO_QUEUED;
    hh_status rc = store_video_cancel(app->store, id, p->user.id, &status, NULL);
    if (rc == HH_ERR_CONFLICT) {
        reply_conflict(req, "The video has ended already; there is nothing to cancel.", status);
        return;
    }
    hh_video v;
    if (!rc)
        rc = store_video_get(app->store, id, p->user.id, &v);
    if (rc == HH_ERR_NOTFOUND) {
        http_reply_error(req, API_ERR_NOT_FOUND, "No such video.", NULL);
        return;
    }
    if (rc) {
        http_reply_error(req, api_error_from_status(rc), "Could not cancel the video.", NULL);
        return;
    }
    http_reply_json(req, 200, video_json(&v, app->blob));
    store_video_clear(&v);
}

int api_video_delete(hh_app *app, http_req *req, const char *user_id)
{
    const char *id = video_id_of(req);
    if (!id)
        return 1;
    char keys[STORE_VIDEO_BLOBS_MAX][HH_KEY_MAX];
    size_t n = 0;
    hh_video_status status = HH_VIDEO_QUEUED;
    hh_status rc = store_video_delete(app->store, id, user_id, &status, keys, &n);
    if (rc == HH_ERR_NOTFOUND) {
        http_reply_error(req, API_ERR_NOT_FOUND, "No such video.", NULL);
        return 1;
    }
    if (rc == HH_ERR_CONFLICT) {
        reply_conflict(req, "Only a video that has ended can be deleted; cancel it first.", status);
        return 1;
    }
    if (rc) {
        http_reply_error(req, api_error_from_status(rc), "Could not delete the video.", NULL);
        return 1;
    }
    /* The rows are gone: a file left by a failure here is only space, never a broken video. */
    for (size_t i = 0; i < n; i++) {
        hh_status brc = blob_remove(app->blob, keys[i]);
        if (brc && brc != HH_ERR_NOTFOUND)
            hh_warn("video %s deleted, but %s is still in storage: %s", id, keys[i],
                    hh_status_str(brc));
    }
    return 0;
}

void h_videos_delete(http_req *req, void *app_)
{
    if (!api_video_delete(app_, req, api_principal_of(req)->user.id))
        http_reply_bytes(req, 204, NULL, NULL, 0);
}
