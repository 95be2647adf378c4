/*
 * h_videos_favorite.c - POST and DELETE /api/v1/videos/{id}/favorite (an
 * addition of ours, also on the dashboard's routes): the owner stars or
 * unstars a video, whatever its status, and gets the video object back;
 * GET /api/dashboard/videos?favorite=true lists the starred ones.
 */
#include "api/app.h"
#include "api/routes.h"
#include "api/video_json.h"
#include "api/videos.h"
#include "util/uuid.h"

/* Sets the favourite flag of the route's video to on and answers 200 with the video. */
static void set_favorite(http_req *req, hh_app *app, int on)
{
    const api_principal *p = api_principal_of(req);
    const char *id = http_req_param(req, "id");
    /* Malformed, unknown and other users' ids take the same answer. */
    hh_status rc = uuid_is_valid(id) ? store_video_set_favorite(app->store, id, p->user.id, on)
                                     : HH_ERR_NOTFOUND;
    if (rc == HH_ERR_NOTFOUND) {
        http_reply_error(req, API_ERR_NOT_FOUND, "No such video.", NULL);
        return;
    }
    if (rc) {
        http_reply_error(req, api_error_from_status(rc), "Could not change the video.", NULL);
        return;
    }
    hh_video v;
    if (api_video_read(app, req, id, p->user.id, &v))
        return;
    http_reply_json(req, 200, video_json(&v, app->blob));
    store_video_clear(&v);
}

void h_videos_favorite(http_req *req, void *app)
{
    set_favorite(req, app, 1);
}

void h_videos_unfavorite(http_req *req, void *app)
{
    set_favorite(req, app, 0);
}
