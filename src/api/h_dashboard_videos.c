/*
 * h_dashboard_videos.c - GET /api/dashboard/videos: the signed-in user's
 * videos for the workbench gallery, newest first, a page at a time,
 * optionally only those of a status, whose prompt contains q, or that the
 * user starred (favorite=true). Each element is the Customer API's own
 * video object (api/video_json.h).
 * Creating and reading one video are the Customer API's handlers on
 * dashboard routes (see dashboard.h), so this is the only video code here,
 * besides the share page's address of each published video (h_share.c).
 */
#include <stdio.h>
#include <string.h>

#include "api/dashboard.h"
#include "api/video_json.h"
#include "util/utf8.h"
#include "util/uuid.h"

_Static_assert(DASH_SEARCH_MAX_CP * 4 <= STORE_VIDEO_QUERY_MAX, "a search text fits the store's");

/* The video object plus its share page, if published: "shareUrl" (or null) and "sharePrompt". */
static json_t *with_share(hh_app *app, const hh_video *v)
{
    json_t *o = video_json(v, app->blob);
    hh_share sh;
    char url[512];
    if (o && !store_share_of_video(app->store, v->id, &sh)) {
        snprintf(url, sizeof url, "%s/v/%s", app->public_url, sh.slug);
        json_object_set_new(o, "shareUrl", json_string(url));
        json_object_set_new(o, "sharePrompt", json_boolean(sh.show_prompt));
    } else if (o) {
        json_object_set_new(o, "shareUrl", json_null());
    }
    return o;
}

void h_dash_videos_list(http_req *req, void *app_)
{
    hh_app *app = app_;
    const dash_principal *p = dash_principal_of(req);
    long long limit;
    if (dashboard_query_int(req, "limit", 1, DASH_PAGE_MAX, DASH_PAGE_DEFAULT, &limit))
        return;
    const char *before = http_req_query(req, "before");
    if (before && !uuid_is_valid(before)) {
        http_reply_error(req, API_ERR_INVALID_INPUT, "before must be a video id.",
                         json_pack("{s:s}", "field", "before"));
        return;
    }
    int status;
    if (api_query_status(req, &status))
        return;
    const char *q = http_req_query(req, "q");
    long chars = q ? hh_utf8_count(q, strlen(q)) : 0;
    if (chars < 0 || chars > DASH_SEARCH_MAX_CP) {
        http_reply_error(req, API_ERR_INVALID_INPUT,
                         "q must be UTF-8 text of at most 200 characters.",
                         json_pack("{s:s, s:i}", "field", "q", "max", DASH_SEARCH_MAX_CP));
        return;
    }
    const char *fav = http_req_query(req, "favorite");
    if (fav && strcmp(fav, "true") && strcmp(fav, "false")) {
        http_reply_error(req, API_ERR_INVALID_INPUT, "favorite must be true or false.",
                         json_pack("{s:s}", "field", "favorite"));
        return;
    }
    json_t *arr = NULL;
    char last[HH_ID_LEN];
    hh_video_filter f = {before, status, q, fav && !strcmp(fav, "true")};
    if (api_video_page(app, req, p->base.user.id, &f, (int)limit, with_share, &arr, last))
        return;
    json_t *next = last[0] ? json_string(last) : json_null();
    http_req_add_header(req, "Cache-Control", "no-store");
    http_reply_json(req, 200, json_pack("{s:o, s:o}", "videos", arr, "nextBefore", next));
}
