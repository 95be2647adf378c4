/*
 * h_videos_list.c - GET /api/v1/videos (an addition of ours): the key's
 * account's videos, newest first, a page at a time, each the one video
 * object of video_json.c.
 *
 * Paging is keyset, on the store's own order (store_video_list: by id,
 * and ids are UUIDv7, so by creation): nextCursor is the base64url of the
 * last id shown, and the next page starts below it. Videos created while
 * a client pages land above the first page, so they never shift a page
 * the client has still to read: no duplicates, none missing. The cursor
 * is opaque on purpose, so the encoding may change without breaking
 * clients that only echo it back.
 */
#include <string.h>

#include "api/app.h"
#include "api/dashboard.h"
#include "api/routes.h"
#include "api/video_json.h"
#include "util/crypto.h"
#include "util/uuid.h"

#define LIST_LIMIT_MAX     API_LIST_LIMIT_MAX
#define LIST_LIMIT_DEFAULT API_LIST_LIMIT_DEFAULT
#define CURSOR_LEN         CRYPTO_B64URL_LEN(HH_ID_LEN - 1)

static void reply_invalid(http_req *req, const char *field, const char *msg)
{
    http_reply_error(req, API_ERR_INVALID_INPUT, msg, json_pack("{s:s}", "field", field));
}

/* Decodes a cursor into the id it stands for; HH_ERR_INVALID when it is not one of ours. */
static hh_status cursor_decode(const char *cursor, char id[HH_ID_LEN])
{
    size_t n = 0, len = strlen(cursor);
    if (len != CURSOR_LEN ||
        crypto_b64url_decode(cursor, len, (uint8_t *)id, HH_ID_LEN - 1, &n) != HH_OK ||
        n != HH_ID_LEN - 1)
        return HH_ERR_INVALID;
    id[n] = '\0';
    return uuid_is_valid(id) ? HH_OK : HH_ERR_INVALID;
}

static json_t *cursor_of(const char *id)
{
    char out[CURSOR_LEN + 1];
    if (crypto_b64url_encode((const uint8_t *)id, strlen(id), out, sizeof out))
        return json_null(); /* an id is always 36 characters: never happens */
    return json_string(out);
}

int api_video_page(hh_app *app, http_req *req, const char *user_id, const hh_video_filter *f,
                   int limit, json_t *(*item)(hh_app *app, const hh_video *v), json_t **arr,
                   char last[HH_ID_LEN])
{
    hh_video *v = NULL;
    size_t n = 0;
    last[0] = '\0';
    *arr = NULL;
    /* One more than asked tells whether there is another page. */
    hh_status rc = store_video_find(app->store, user_id, f, limit + 1, &v, &n);
    if (rc) {
        http_reply_error(req, api_error_from_status(rc), "Could not list the videos.", NULL);
        return 1;
    }
    size_t shown = n > (size_t)limit ? (size_t)limit : n;
    *arr = json_array();
    for (size_t i = 0; *arr && i < shown; i++)
        json_array_append_new(*arr, item(app, &v[i]));
    if (n > shown)
        memcpy(last, v[shown - 1].id, HH_ID_LEN);
    store_video_list_free(v, n);
    return 0;
}

int api_query_status(http_req *req, int *status)
{
    const char *name = http_req_query(req, "status");
    *status = name ? hh_video_status_parse(name) : HH_VIDEO_ANY;
    if (name && *status < 0) {
        reply_invalid(req, "status", "status must be one of the video statuses.");
        return 1;
    }
    return 0;
}

static json_t *list_item(hh_app *app, const hh_video *v)
{
    return video_json(v, app->blob);
}

void h_videos_list(http_req *req, void *app_)
{
    hh_app *app = app_;
    const api_principal *p = api_principal_of(req);
    long long limit;
    if (dashboard_query_int(req, "limit", 1, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT, &limit))
        return;
    const char *after = http_req_query(req, "after");
    char before[HH_ID_LEN] = "";
    if (after && cursor_decode(after, before)) {
        reply_invalid(req, "after", "after must be a nextCursor this API returned.");
        return;
    }
    int status;
    if (api_query_status(req, &status))
        return;
    json_t *arr = NULL;
    char last[HH_ID_LEN];
    hh_video_filter f = {before, status, NULL, 0};
    if (api_video_page(app, req, p->user.id, &f, (int)limit, list_item, &arr, last))
        return;
    int more = last[0] != '\0';
    json_t *next = more ? cursor_of(last) : json_null();
    http_req_add_header(req, "Cache-Control", "no-store");
    http_reply_json(req, 200,
                    json_pack("{s:o, s:b, s:o}", "data", arr, "hasMore", more, "nextCursor", next));
}
